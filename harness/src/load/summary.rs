//! [`LoadSummary`]: what `clearway load` answers, for people (Display) and for CI (JSON,
//! docs/OUTPUT.md). Fields that mean what `clearway run`'s mean have its names and types.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::generator::GeneratorSummary;
use crate::run::environment::Environment;
use crate::run::latency::{human_ns, Percentiles};
use crate::run::summary::{thousands, write_answers, write_checks, Payments};

/// The contract docs/OUTPUT.md documents. Fields are only ever added.
#[derive(Clone, Debug, Serialize)]
pub struct LoadSummary {
    /// The seed: the same seed offers the same payments (and names the node's network).
    pub seed: u64,
    /// The node's address.
    pub target: String,
    /// Seconds of load (the measured window; the drain after it is `drain_s`).
    pub duration_s: f64,
    /// Payments submitted per second of the window.
    pub offered_per_s: f64,
    /// Payments answered within the window, per second of it.
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
    pub generator: GeneratorSummary,
    /// Seconds the drain took after the window.
    pub drain_s: f64,
    /// The machine and build this process ran on (not the node's).
    pub environment: Environment,
    /// Each check, by name; `ok` is all of them.
    pub checks: BTreeMap<String, bool>,
    /// Whether every check passed. The exit code is 0 exactly when it is true.
    pub ok: bool,
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
        let generator = &self.generator;
        writeln!(
            out,
            "  generator    {} late payments ({:.3}%), latest {}, {:.3} s blocked writing{}",
            thousands(generator.late_payments),
            generator.late_fraction * 100.0,
            human_ns(generator.latest_ns),
            generator.blocked_writing_s,
            if generator.kept_up || !self.checks.contains_key("generator_kept_up") {
                ""
            } else {
                "   ← DID NOT KEEP UP: these figures measure the generator, not the node"
            }
        )?;
        write_checks(out, &self.checks)
    }
}
