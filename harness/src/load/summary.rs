//! [`LoadSummary`]: what `clearway load` answers, for people (Display) and for CI (JSON,
//! docs/OUTPUT.md). Fields that mean what `clearway run`'s mean have its names and types.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::interval::IntervalStats;
use crate::run::environment::Environment;
use crate::run::generator::GeneratorFigures;
use crate::run::latency::{human_ns, Percentiles};
use crate::run::summary::{thousands, write_answers, write_checks, write_generator, Payments};
use crate::slo::{Verdict, Verdicts};

/// The contract docs/OUTPUT.md documents. Fields are only ever added.
#[derive(Clone, Debug, Serialize)]
pub struct LoadSummary {
    /// `load`.
    pub command: String,
    /// The scenario's name.
    pub scenario: String,
    /// The traffic shape, in words.
    pub shape: String,
    /// The seed: the same seed offers the same payments (and names the node's network).
    pub seed: u64,
    /// The node's address.
    pub target: String,
    /// Seconds of measured load, after the warm-up (the drain after it is `drain_s`).
    pub duration_s: f64,
    /// Seconds of load before the measured window, excluded from latency and rates.
    pub warmup_s: f64,
    /// Payments submitted per second of the measured window.
    pub offered_per_s: f64,
    /// Payments answered within the measured window, per second of it.
    pub throughput_per_s: f64,
    /// Every submitted payment, by its answer.
    pub payments: Payments,
    /// Payments the node refused, by reason (`Exists` included).
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// End to end: the institution's intended send time → its ANSWER read here.
    pub latency_ns: Percentiles,
    /// The connections opened.
    pub connections: ConnectionFigures,
    /// Frames other than payments and their answers.
    pub events: LoadEvents,
    /// Whether the generator kept to its schedule.
    pub generator: LoadGenerator,
    /// Seconds the drain took after the window.
    pub drain_s: f64,
    /// The machine and build this process ran on (not the node's).
    pub environment: Environment,
    /// Whether the generator kept up (within 1% of its schedule): when false the run is invalid
    /// and exits 5.
    pub valid: bool,
    /// Each SLO gate, judged on the measured window.
    pub slo: Vec<Verdict>,
    /// Whether every gate passed (true when there are none); when false the load exits 6.
    pub slo_passed: bool,
    /// Why the load stopped early (`--abort-on-fail`), if it did.
    pub aborted: Option<String>,
    /// Each second of the load, warm-up included.
    pub timeline: Vec<IntervalStats>,
    /// Each check, by name; `ok` is all of them.
    pub checks: BTreeMap<String, bool>,
    /// Whether every check passed. When false the load exits 1.
    pub ok: bool,
}

/// How the generator kept to its schedule: the figures every measured run gives, and the
/// socket writes' own.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct LoadGenerator {
    /// Planned, offered, late (as written to the socket), unsent, caps hit, kept up.
    #[serde(flatten)]
    pub figures: GeneratorFigures,
    /// Payments written to their socket more than 1 ms after their intended time (as `late`).
    pub late_payments: u64,
    /// The latest a payment was written after its intended time, ns (as `late_max_ns`).
    pub latest_ns: u64,
    /// Seconds spent waiting for full sockets (the node pushing back through TCP).
    pub blocked_writing_s: f64,
}

/// The connections to the node.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ConnectionFigures {
    /// Institutions connected.
    pub institutions: usize,
    /// Banks connected, one connection each.
    pub banks: usize,
    /// Connections per institution.
    pub per_pi: usize,
    /// Connections the node closed without a GOODBYE, or whose writes failed.
    pub lost: u64,
}

/// Frames other than payments and their answers, and what was not sent.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct LoadEvents {
    /// REPLY frames the banks sent.
    pub bank_replies: u64,
    /// FORWARD frames the banks received.
    pub forwarded_received: u64,
    /// FORWARDs dropped because the bank side's queue was full (their payments expire).
    pub forwarded_dropped: u64,
    /// Forwarded payments whose simulated bank stays silent (their payments expire).
    pub silent: u64,
    /// The driver's cutovers, not sent: the node runs its own.
    pub cutovers_skipped: u64,
    /// PAYMENTs sent while every connection of their institution was at WELCOME's in-flight
    /// limit.
    pub sent_over_limit: u64,
    /// Payments and replies not sent: no open connection was left for their participant.
    pub unsendable: u64,
    /// ERROR frames received.
    pub errors_received: u64,
    /// GOODBYE frames received.
    pub goodbyes_received: u64,
    /// Of those, GOODBYE 1: the node shutting down.
    pub goodbyes_shutdown: u64,
    /// PINGs received (each answered with a PONG).
    pub pings_received: u64,
    /// Frames a client should never receive, or malformed streams.
    pub unexpected_frames: u64,
}

impl fmt::Display for LoadSummary {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let payments = &self.payments;
        writeln!(
            out,
            "clearway load: {:.1} s against {}, seed {}, {} institutions × {} connections + {} banks",
            self.duration_s,
            self.target,
            self.seed,
            self.connections.institutions,
            self.connections.per_pi,
            self.connections.banks
        )?;
        write_answers(
            out,
            self.offered_per_s,
            self.throughput_per_s,
            payments,
            &self.rejects_by_reason,
            &self.latency_ns,
        )?;
        let events = &self.events;
        writeln!(
            out,
            "  events       {} forwarded to banks, {} bank replies, {} cutovers skipped; drain {}",
            thousands(events.forwarded_received),
            thousands(events.bank_replies),
            events.cutovers_skipped,
            human_ns((self.drain_s * 1e9) as u64)
        )?;
        let troubles = [
            (events.errors_received, "ERRORs received"),
            (events.goodbyes_received, "GOODBYEs received"),
            (events.unexpected_frames, "unexpected frames"),
            (
                events.sent_over_limit,
                "payments sent over the in-flight limit",
            ),
            (events.unsendable, "events with no open connection"),
            (events.forwarded_dropped, "FORWARDs dropped"),
            (self.connections.lost, "connections lost"),
        ];
        for (count, what) in troubles {
            if count > 0 {
                writeln!(out, "  !            {} {what}", thousands(count))?;
            }
        }
        write_generator(out, &self.generator.figures)?;
        writeln!(
            out,
            "  writes       {:.3} s blocked on full sockets",
            self.generator.blocked_writing_s
        )?;
        write!(out, "{}", Verdicts(&self.slo))?;
        if let Some(aborted) = &self.aborted {
            writeln!(out, "  aborted      {aborted}")?;
        }
        write_checks(out, &self.checks)
    }
}
