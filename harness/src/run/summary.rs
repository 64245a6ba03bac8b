//! [`Summary`]: what a run answers, for people (Display) and for CI (JSON, docs/OUTPUT.md).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::durable::RecoveryFigures;
use super::journal::JournalFigures;
use super::snapshots::SnapshotFigures;

use super::environment::Environment;
use super::generator::GeneratorFigures;
use super::latency::{human_ns, Percentiles};
use crate::interval::IntervalStats;
use crate::slo::{Verdict, Verdicts};

/// The contract docs/OUTPUT.md documents. Fields are only ever added.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// `run`.
    pub command: String,
    /// The scenario's name (`steady` unless another was named).
    pub scenario: String,
    /// The traffic shape, in words.
    pub shape: String,
    /// The seed: the same seed offers the same payments.
    pub seed: u64,
    /// Seconds of measured load, after the warm-up (the drain after the load is `drain_s`).
    pub duration_s: f64,
    /// Seconds of load before the measured window, excluded from latency and rates.
    pub warmup_s: f64,
    /// Payments submitted per second of the measured window.
    pub offered_per_s: f64,
    /// Payments answered within the measured window, per second of it.
    pub throughput_per_s: f64,
    /// Every submitted payment, by its answer (warm-up included: every payment is accounted
    /// for).
    pub payments: Payments,
    /// Payments the switch refused, by reason (`Exists` included).
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// End to end, institution's intended send time → its answer, for answers given after the
    /// warm-up.
    pub latency_ns: Percentiles,
    /// Per step: event time → the end of the batch that handled it, after the warm-up.
    pub stages: BTreeMap<String, StageSummary>,
    /// The clearing ledger.
    pub ledger: LedgerFigures,
    /// How the threads were laid out.
    pub topology: TopologySummary,
    /// `ring` or `channel`.
    pub transport: String,
    /// `hmac-sha256` or `none`.
    pub mac: String,
    /// The machine and build.
    pub environment: Environment,
    /// Other events: bank replies, cutovers, control.
    pub events: OtherEvents,
    /// Faults the institutions injected, by kind.
    pub faults_injected: serde_json::Value,
    /// The simulated banks' decisions.
    pub banks: serde_json::Value,
    /// Ring counters per stage (absent for the channel transport).
    pub pipeline: Option<Vec<PipelineStage>>,
    /// Seconds the drain took after the window.
    pub drain_s: f64,
    /// Seconds the replay check took; `null` when skipped.
    pub replay_s: Option<f64>,
    /// How the input was kept: in memory, or a journal on disk and how it did.
    pub durability: DurabilitySummary,
    /// Memory by time: retention, the window, what the prefetch loaded and the store wrote.
    pub memory: MemorySummary,
    /// How the generator kept to its schedule.
    pub generator: GeneratorFigures,
    /// Whether the generator kept up (within 1% of its schedule): when false the run is invalid
    /// and exits 5.
    pub valid: bool,
    /// Each SLO gate, judged on the measured window.
    pub slo: Vec<Verdict>,
    /// Whether every gate passed (true when there are none); when false the run exits 6.
    pub slo_passed: bool,
    /// Why the load stopped early (`--abort-on-fail`), if it did.
    pub aborted: Option<String>,
    /// Link status events published for the scenario's incidents.
    pub incidents: u64,
    /// Each second of the load, warm-up included.
    pub timeline: Vec<IntervalStats>,
    /// Each check the run makes, by name; `ok` is all of them.
    pub checks: BTreeMap<String, bool>,
    /// Whether every check passed. When false the run exits 1.
    pub ok: bool,
}

/// Memory by time (docs/SWITCH.md, "Memory by time"): how long payments are remembered, and
/// what the prefetch and the store did to remember them.
#[derive(Clone, Debug, Serialize)]
pub struct MemorySummary {
    /// Retention, seconds.
    pub retention_s: f64,
    /// A window generation's span of event time, ms.
    pub window_span_ms: u64,
    /// The prefetch: ids it looked at, those it skipped (surely in the window, or refused by
    /// their time), store lookups, those that found a payment, and the mean lookup.
    pub prefetch: Option<PrefetchFigures>,
    /// The store writer.
    pub store: Option<StoreFigures>,
}

/// What the prefetch did.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct PrefetchFigures {
    /// Ids looked at (payments' own and refunds' originals).
    pub ids: u64,
    /// Skipped: made so recently that the window surely holds them.
    pub in_window: u64,
    /// Skipped: the ledger refuses them by their time.
    pub refused: u64,
    /// Store lookups made.
    pub lookups: u64,
    /// Lookups that found a payment.
    pub found: u64,
    /// Mean lookup, ns.
    pub lookup_ns_mean: f64,
}

/// What the store writer did.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct StoreFigures {
    /// Decided payments written.
    pub payments: u64,
    /// Of them, written to their hour's late partition: they finished after their second had
    /// been written in order.
    pub late: u64,
    /// Writes (four a second, or one per [`clearway_core::constants::STORE_WRITE_PAYMENTS_MAX`]).
    pub writes: u64,
    /// Payments per second of writing (the write calls' own time).
    pub payments_per_s_writing: f64,
    /// Hours dropped by retention (each hour's two partitions).
    pub hours_dropped: u64,
    /// Seconds the switch's store stage waited for the store's writing thread to take its next
    /// buffer, or for the engine to flush what it held in memory (backpressure).
    pub wait_s: f64,
    /// The store's bytes on disk at the end.
    pub disk_bytes: u64,
    /// Bytes on disk per payment the store holds from this run (0 when it wrote none).
    pub disk_bytes_per_payment: f64,
}

impl MemorySummary {
    /// The figures from the ledger's configuration and the two stages' counters.
    pub fn of(
        retention_ns: u64,
        window_span_ns: u64,
        prefetch: Option<clearway_core::stage::PrefetchCounters>,
        store: Option<clearway_core::stage::StoreCounters>,
    ) -> MemorySummary {
        MemorySummary {
            retention_s: retention_ns as f64 / 1e9,
            window_span_ms: window_span_ns / 1_000_000,
            prefetch: prefetch.map(|counters| PrefetchFigures {
                ids: counters.ids,
                in_window: counters.in_window,
                refused: counters.refused,
                lookups: counters.lookups,
                found: counters.found,
                lookup_ns_mean: counters.lookup_ns as f64 / counters.lookups.max(1) as f64,
            }),
            store: store.map(|counters| StoreFigures {
                payments: counters.payments,
                late: counters.late,
                writes: counters.writes,
                payments_per_s_writing: counters.payments as f64
                    / (counters.write_ns.max(1) as f64 / 1e9),
                hours_dropped: counters.hours_dropped,
                wait_s: counters.wait_ns as f64 / 1e9,
                disk_bytes: counters.disk_bytes,
                disk_bytes_per_payment: if counters.payments == 0 {
                    0.0
                } else {
                    counters.disk_bytes as f64 / counters.payments as f64
                },
            }),
        }
    }
}

impl fmt::Display for MemorySummary {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            out,
            "  memory       retention {}, window generations of {} ms",
            crate::run::memory::format_retention((self.retention_s * 1e3) as u64),
            self.window_span_ms
        )?;
        if let Some(prefetch) = &self.prefetch {
            writeln!(
                out,
                "    prefetch   {} ids: {} surely in the window, {} refused by their time, {} \
                 store lookups ({} found), {} a lookup on average",
                thousands(prefetch.ids),
                thousands(prefetch.in_window),
                thousands(prefetch.refused),
                thousands(prefetch.lookups),
                thousands(prefetch.found),
                human_ns(prefetch.lookup_ns_mean as u64)
            )?;
        }
        if let Some(store) = &self.store {
            writeln!(
                out,
                "    store      {} payments ({} late) in {} writes ({:.0}/s while writing, the \
                 switch waited {:.2} s for it); {:.1} MB on disk, {:.1} bytes a payment; {} hours \
                 dropped",
                thousands(store.payments),
                thousands(store.late),
                thousands(store.writes),
                store.payments_per_s_writing,
                store.wait_s,
                store.disk_bytes as f64 / 1e6,
                store.disk_bytes_per_payment,
                store.hours_dropped
            )?;
        }
        Ok(())
    }
}

/// How the run kept its input (docs/DURABILITY.md).
#[derive(Clone, Debug, Serialize)]
pub struct DurabilitySummary {
    /// `memory` (no data directory: the input is recorded in memory for the replay check),
    /// `none` (journaled to disk, never synced) or `fsync` (synced before answering).
    pub mode: String,
    /// The data directory.
    pub data_dir: Option<String>,
    /// What the journal wrote and how long its syncs took.
    pub journal: Option<JournalFigures>,
    /// Journal megabytes (10^6 bytes) written per second of the load window.
    pub written_mb_per_s: Option<f64>,
    /// Snapshots written.
    pub snapshots: Option<SnapshotFigures>,
    /// What recovery found and did before the run.
    pub recovery: Option<RecoveryFigures>,
    /// Payments from before a restart that expired in this run (answered, but not counted among
    /// this run's submitted payments).
    pub carried_over_expired: u64,
}

/// Submitted payments by answer; the five add up to `submitted`. Read back by `clearway
/// report`, where a summary written before BUSY answers existed has no `busy`.
#[derive(Clone, Copy, Debug, Default, Serialize, serde::Deserialize)]
pub struct Payments {
    /// Sent by the institutions.
    pub submitted: u64,
    /// Approved by their bank and posted.
    pub approved: u64,
    /// Declined by their bank; the hold was voided.
    pub declined: u64,
    /// Refused by the switch.
    pub rejected: u64,
    /// No answer from their bank within the timeout.
    pub expired: u64,
    /// Refused at ingress for backpressure. Always 0 embedded: the producer waits on a full ring
    /// instead, and the wait shows in latency.
    #[serde(default)]
    pub busy: u64,
}

impl Payments {
    /// Whether the answers add up to the submissions.
    pub fn add_up(&self) -> bool {
        self.approved + self.declined + self.rejected + self.expired + self.busy == self.submitted
    }
}

/// One step's figures.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct StageSummary {
    /// Event time → end of the batch this step handled it in.
    pub latency_ns: Percentiles,
    /// Events it handled (all workers).
    pub events: u64,
    /// Its workers.
    pub workers: usize,
}

/// The ledger at the end.
#[derive(Clone, Debug, Serialize)]
pub struct LedgerFigures {
    /// Σ of all positions: 0, or the run failed.
    pub positions_sum: i128,
    /// Clearing batches closed (settlement reports written).
    pub batches_closed: u64,
    /// The state hash (docs/SWITCH.md).
    pub state_hash: String,
    /// Whether a fresh single-threaded switch fed the recorded input rebuilt the same hash;
    /// `null` when the replay was skipped.
    pub replay_state_hash_ok: Option<bool>,
    /// Holds still pending at the end (0 after a full drain).
    pub pending_at_end: u64,
    /// Where the settlement reports went.
    pub reports_dir: String,
}

/// The layout.
#[derive(Clone, Debug, Serialize)]
pub struct TopologySummary {
    /// How it was chosen.
    pub source: String,
    /// `pipelined` or `fused`.
    pub mode: String,
    /// Threads: the producers' and the stages'.
    pub threads: usize,
    /// Producer threads (1: one plays institutions, banks and operator; n: n − 1 institution
    /// threads and one for the banks and operator).
    pub producers: usize,
    /// The stage → core map as `clearway topology` prints it.
    pub map: String,
}

/// Events that are not payments.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct OtherEvents {
    /// Everything published.
    pub published: u64,
    /// Bank replies published.
    pub bank_replies: u64,
    /// Replies that came after their payment expired.
    pub late_replies: u64,
    /// Replies the switch refused.
    pub replies_rejected: u64,
    /// Payments forwarded to banks.
    pub forwarded: u64,
    /// Forwarded payments whose bank stayed silent.
    pub silent: u64,
    /// Cutovers published.
    pub cutovers: u64,
    /// Bank replies dropped because the reply schedule was full (their payments expire).
    pub replies_dropped: u64,
}

/// One pipeline stage's ring counters.
#[derive(Clone, Debug, Serialize)]
pub struct PipelineStage {
    /// The stage.
    pub name: String,
    /// Its workers.
    pub workers: usize,
    /// Events handled.
    pub events: u64,
    /// Mean events per batch.
    pub batch_mean: f64,
    /// Mean events the stage was behind its upstream when it took a batch.
    pub lag_mean: f64,
    /// The most it was behind.
    pub lag_max: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            out,
            "clearway run: scenario {}, {:.1} s measured after {} s warm-up, seed {}, transport {}, \
             MAC {}",
            self.scenario, self.duration_s, self.warmup_s, self.seed, self.transport, self.mac
        )?;
        writeln!(out, "  traffic      {}", self.shape)?;
        write_answers(
            out,
            self.offered_per_s,
            self.throughput_per_s,
            &self.payments,
            &self.rejects_by_reason,
            &self.latency_ns,
        )?;
        let in_order = ["authorize", "route", "ledger"]
            .into_iter()
            .filter_map(|name| self.stages.get(name).map(|stage| (name, stage)));
        for (name, stage) in in_order {
            writeln!(
                out,
                "    {:<10} {} events (×{}), exit {}",
                name,
                thousands(stage.events),
                stage.workers,
                stage.latency_ns
            )?;
        }
        writeln!(
            out,
            "  ledger       Σ positions {}, {} batches closed, state {}…, replay {}",
            self.ledger.positions_sum,
            self.ledger.batches_closed,
            &self.ledger.state_hash[..self.ledger.state_hash.len().min(16)],
            match self.ledger.replay_state_hash_ok {
                Some(true) => "rebuilt the same state",
                Some(false) => "DIFFERS",
                None => "skipped",
            }
        )?;
        writeln!(
            out,
            "  events       {} published: {} bank replies ({} late), {} cutovers; drain {}",
            thousands(self.events.published),
            thousands(self.events.bank_replies),
            thousands(self.events.late_replies),
            self.events.cutovers,
            human_ns((self.drain_s * 1e9) as u64)
        )?;
        write!(out, "{}", self.memory)?;
        match (&self.durability.journal, &self.durability.data_dir) {
            (Some(journal), Some(directory)) => {
                writeln!(
                    out,
                    "  journal      {} in {}: {} events, {:.1} MB/s, {} group commits of {:.0} \
                     events on average (max {})",
                    self.durability.mode,
                    directory,
                    thousands(journal.events),
                    self.durability.written_mb_per_s.unwrap_or(0.0),
                    thousands(journal.commits),
                    journal.events_per_commit_mean,
                    journal.events_per_commit_max,
                )?;
                writeln!(out, "    fdatasync  {}", journal.sync_latency_ns)?;
                writeln!(out, "    durable    {}", journal.durable_latency_ns)?;
                if let Some(snapshots) = self
                    .durability
                    .snapshots
                    .as_ref()
                    .filter(|snapshots| snapshots.written > 0)
                {
                    writeln!(
                        out,
                        "  snapshots    {} written (last {} bytes); longest pause to save {}",
                        snapshots.written,
                        thousands(snapshots.bytes_last),
                        human_ns(snapshots.save_pause_ns_max)
                    )?;
                }
            }
            _ => writeln!(
                out,
                "  journal      in memory only (no --data-dir): nothing is durable"
            )?,
        }
        if let Some(stages) = &self.pipeline {
            writeln!(
                out,
                "  ring         stage: events, batch mean, lag mean / max"
            )?;
            for stage in stages {
                writeln!(
                    out,
                    "    {:<30} {:>12} {:>8.1} {:>8.1} / {}",
                    stage.name,
                    thousands(stage.events),
                    stage.batch_mean,
                    stage.lag_mean,
                    stage.lag_max
                )?;
            }
        }
        if self.incidents > 0 {
            writeln!(
                out,
                "  incidents    {} link status events published",
                self.incidents
            )?;
        }
        write_generator(out, &self.generator)?;
        write!(out, "{}", Verdicts(&self.slo))?;
        if let Some(aborted) = &self.aborted {
            writeln!(out, "  aborted      {aborted}")?;
        }
        write_checks(out, &self.checks)
    }
}

/// The generator's line: whether it kept to its schedule, and so whether the run is valid.
pub fn write_generator(out: &mut fmt::Formatter<'_>, generator: &GeneratorFigures) -> fmt::Result {
    match generator.planned {
        Some(planned) => writeln!(
            out,
            "  generator    {} of {} planned payments late or unsent ({:.2}%, latest {}), \
             in-flight room full {} times: {}",
            thousands(generator.late + generator.unsent),
            thousands(planned),
            generator.late_fraction * 100.0,
            human_ns(generator.late_max_ns),
            thousands(generator.caps_hit),
            if generator.kept_up {
                "kept up"
            } else {
                "FELL BEHIND: the run is invalid"
            }
        ),
        None => writeln!(
            out,
            "  generator    saturation (no schedule to keep); in-flight room full {} times",
            thousands(generator.caps_hit)
        ),
    }
}

/// The lines `clearway run` and `clearway load` share: offered and answered rates, every payment
/// by its answer (and whether they add up), refusals by reason, end-to-end latency.
pub fn write_answers(
    out: &mut fmt::Formatter<'_>,
    offered_per_s: f64,
    throughput_per_s: f64,
    payments: &Payments,
    rejects_by_reason: &BTreeMap<String, u64>,
    latency_ns: &Percentiles,
) -> fmt::Result {
    writeln!(
        out,
        "  offered      {:>12} payments/s",
        thousands(offered_per_s as u64)
    )?;
    writeln!(
        out,
        "  throughput   {:>12} payments/s answered",
        thousands(throughput_per_s as u64)
    )?;
    writeln!(
        out,
        "  payments     {} submitted = {} approved + {} declined + {} rejected + {} expired + {} busy{}",
        thousands(payments.submitted),
        thousands(payments.approved),
        thousands(payments.declined),
        thousands(payments.rejected),
        thousands(payments.expired),
        thousands(payments.busy),
        if payments.add_up() { "" } else { "   ← DOES NOT ADD UP" }
    )?;
    if !rejects_by_reason.is_empty() {
        let reasons: Vec<String> = rejects_by_reason
            .iter()
            .map(|(name, count)| format!("{name} {}", thousands(*count)))
            .collect();
        writeln!(out, "  rejected by  {}", reasons.join(", "))?;
    }
    writeln!(out, "  latency      {latency_ns}")
}

/// The last line of every summary: all checks passed, or which failed.
pub fn write_checks(out: &mut fmt::Formatter<'_>, checks: &BTreeMap<String, bool>) -> fmt::Result {
    let failed: Vec<&str> = checks
        .iter()
        .filter(|(_, passed)| !**passed)
        .map(|(name, _)| name.as_str())
        .collect();
    if failed.is_empty() {
        writeln!(out, "  checks       all passed ({})", checks.len())
    } else {
        writeln!(out, "  checks       FAILED: {}", failed.join(", "))
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn payments_add_up_only_when_every_answer_is_counted() {
        let mut payments = Payments {
            submitted: 10,
            approved: 6,
            declined: 1,
            rejected: 2,
            expired: 1,
            busy: 0,
        };
        assert!(payments.add_up());
        payments.expired = 0;
        assert!(!payments.add_up());
    }
}
