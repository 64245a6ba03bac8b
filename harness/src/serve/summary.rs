//! [`NodeSummary`]: what `clearway serve` says when it stops, for people and as JSON
//! (docs/OUTPUT.md).

use std::collections::BTreeMap;
use std::fmt;

use clearway_core::event::Decline;
use serde::Serialize;

use super::args::ServeArgs;
use super::door::DoorReport;
use super::metrics::Counter;
use crate::interval::Monitored;
use crate::run::durable::RecoveryFigures;
use crate::run::journal::JournalFigures;
use crate::run::latency::Percentiles;
use crate::run::snapshots::SnapshotFigures;
use crate::run::summary::write_checks;
use crate::run::Collected;

/// The node's summary at exit. Fields are only ever added.
#[derive(Clone, Debug, Serialize)]
pub struct NodeSummary {
    /// The address it listened on, as given.
    pub listen: String,
    /// Seconds it served, from listening to the end of the drain.
    pub served_s: f64,
    /// Connections: accepted, refused, and closed by reason.
    pub connections: BTreeMap<String, u64>,
    /// Frames and bytes each way.
    pub traffic: BTreeMap<String, u64>,
    /// Payments: admitted, answered by outcome, busy, refused at the door.
    pub payments: BTreeMap<String, u64>,
    /// Payments the switch refused, by reason.
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// What the door refused or closed for: HELLOs, violations, bad MACs, malformed frames.
    pub security: BTreeMap<String, u64>,
    /// From the node taking a payment to its answer being queued, ns.
    pub answer_latency_ns: Percentiles,
    /// Per step: event time → the end of the batch that handled it, ns.
    pub stage_latency_ns: BTreeMap<String, Percentiles>,
    /// `memory`, `none` or `fsync`.
    pub durability: String,
    /// The journal's figures, with a data directory.
    pub journal: Option<JournalFigures>,
    /// Snapshots written.
    pub snapshots: Option<SnapshotFigures>,
    /// What recovery found at start.
    pub recovery: Option<RecoveryFigures>,
    /// Σ positions at exit.
    pub positions_sum: i128,
    /// The ledger's state hash at exit.
    pub state_hash: String,
    /// Settlement reports written.
    pub settlement_reports: u64,
    /// Payments still unanswered when it stopped.
    pub in_flight_at_end: usize,
    /// Each check, by name; `ok` is all of them.
    pub checks: BTreeMap<String, bool>,
    /// Whether every check passed; the exit code is 0 exactly when it is.
    pub ok: bool,
}

impl NodeSummary {
    /// The summary of a node that served for `served_s`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        args: &ServeArgs,
        served_s: f64,
        door: DoorReport,
        collected: Collected,
        monitored: &Monitored,
        settlement_reports: u64,
        durability: &str,
        recovery: Option<RecoveryFigures>,
        snapshots: Option<SnapshotFigures>,
    ) -> NodeSummary {
        let counts = &door.counts;
        let pick = |pairs: &[(&str, Counter)]| -> BTreeMap<String, u64> {
            pairs
                .iter()
                .map(|(name, counter)| (name.to_string(), counts.get(*counter)))
                .collect()
        };
        let connections = pick(&[
            ("accepted", Counter::ConnectionsAccepted),
            ("refused_over_limit", Counter::ConnectionsRefused),
            ("closed_by_peer", Counter::ClosedByPeer),
            ("closed_idle", Counter::ClosedIdle),
            ("closed_protocol_error", Counter::ClosedProtocol),
            ("closed_hello_refused", Counter::ClosedHelloRefused),
            ("closed_bad_macs", Counter::ClosedBadMacs),
            ("closed_violations", Counter::ClosedViolations),
            ("closed_slow_reader", Counter::ClosedSlowReader),
            ("closed_socket_error", Counter::ClosedError),
            ("closed_shutdown", Counter::ClosedShutdown),
        ]);
        let traffic = pick(&[
            ("frames_received", Counter::FramesReceived),
            ("frames_sent", Counter::FramesSent),
            ("bytes_received", Counter::BytesReceived),
            ("bytes_sent", Counter::BytesSent),
            ("replies_admitted", Counter::RepliesAdmitted),
            ("forwards", Counter::Forwards),
            ("forwards_unroutable", Counter::ForwardsUnroutable),
            ("cutovers", Counter::Cutovers),
            ("link_events", Counter::LinkEvents),
            ("pings", Counter::Pings),
            ("ring_full", Counter::RingFull),
        ]);
        let mut payments = pick(&[
            ("admitted", Counter::PaymentsAdmitted),
            ("busy", Counter::Busy),
            ("duplicates_in_flight", Counter::DuplicatesInFlight),
            ("answers_undeliverable", Counter::AnswersUndeliverable),
        ]);
        for outcome in [
            clearway_core::event::Outcome::Approved,
            clearway_core::event::Outcome::Declined,
            clearway_core::event::Outcome::Expired,
            clearway_core::event::Outcome::Rejected,
            clearway_core::event::Outcome::Exists,
        ] {
            payments.insert(
                outcome.name().to_lowercase(),
                counts.outcomes[outcome as usize],
            );
        }
        let rejects_by_reason = Decline::ALL
            .iter()
            .filter(|decline| counts.declines[decline.index()] > 0)
            .map(|decline| (decline.name().to_string(), counts.declines[decline.index()]))
            .collect();
        let security = pick(&[
            ("hellos_refused", Counter::HellosRefused),
            ("violations", Counter::Violations),
            ("bad_macs", Counter::BadMacs),
            ("frames_malformed", Counter::Malformed),
        ]);
        let stage_latency_ns = monitored
            .totals
            .iter()
            .filter(|(tag, _)| tag.step().is_some())
            .map(|(tag, latencies)| (tag.name().to_string(), latencies.percentiles()))
            .collect();
        let (positions_sum, state_hash) = collected
            .ledger
            .as_ref()
            .map_or((0, String::new()), |ledger| {
                (ledger.positions_sum, ledger.state_hash.to_string())
            });
        let mut checks = BTreeMap::new();
        checks.insert("ledger_reported".to_string(), collected.ledger.is_some());
        checks.insert("positions_sum_zero".to_string(), positions_sum == 0);
        checks.insert(
            "every_payment_answered".to_string(),
            door.in_flight_at_end == 0,
        );
        let ok = checks.values().all(|passed| *passed);
        NodeSummary {
            listen: args.listen.to_string(),
            served_s,
            connections,
            traffic,
            payments,
            rejects_by_reason,
            security,
            answer_latency_ns: door.answer_latency,
            stage_latency_ns,
            durability: durability.to_string(),
            journal: collected.durable,
            snapshots,
            recovery,
            positions_sum,
            state_hash,
            settlement_reports,
            in_flight_at_end: door.in_flight_at_end,
            checks,
            ok,
        }
    }
}

fn line(
    formatter: &mut fmt::Formatter<'_>,
    title: &str,
    counts: &BTreeMap<String, u64>,
) -> fmt::Result {
    let parts: Vec<String> = counts
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(name, count)| format!("{name} {count}"))
        .collect();
    writeln!(
        formatter,
        "{title}: {}",
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    )
}

impl fmt::Display for NodeSummary {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(formatter, "stopped after {:.1} s", self.served_s)?;
        line(formatter, "connections", &self.connections)?;
        line(formatter, "payments", &self.payments)?;
        line(formatter, "rejects", &self.rejects_by_reason)?;
        line(formatter, "refused at the door", &self.security)?;
        line(formatter, "traffic", &self.traffic)?;
        writeln!(
            formatter,
            "answer latency (taken → answer queued): {}",
            self.answer_latency_ns
        )?;
        for (step, latency) in &self.stage_latency_ns {
            writeln!(formatter, "  {step:<9} {latency}")?;
        }
        if let Some(journal) = &self.journal {
            writeln!(
                formatter,
                "journal ({}): {} events, {} bytes, {} commits",
                self.durability, journal.events, journal.bytes, journal.commits
            )?;
        }
        writeln!(
            formatter,
            "ledger: positions sum {}, state hash {}, {} settlement reports",
            self.positions_sum, self.state_hash, self.settlement_reports
        )?;
        write_checks(formatter, &self.checks)
    }
}
