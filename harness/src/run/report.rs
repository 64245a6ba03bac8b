//! [`ThreadReport`]: what each stage's thread hands back when it shuts down.

use clearway_core::stage::LedgerSummary;
use crossbeam::channel::{Receiver, Sender};

use super::egress::EgressReport;
use super::journal::JournalFigures;
use super::layout::Step;
use super::recording::Recording;

/// Sent once by a step's handler from `on_shutdown`, on its own thread.
pub enum ThreadReport {
    /// A timed step's count, one per worker (its latency went to the monitor).
    Stage {
        /// Which step.
        step: Step,
        /// Events it handled.
        events: u64,
    },
    /// Egress's tallies and end-to-end latencies.
    Egress(Box<EgressReport>),
    /// The ledger's state at the end.
    Ledger(LedgerSummary),
    /// The journal stage's recording of the input.
    Journal(Recording),
    /// The durable journal's figures.
    Durable(JournalFigures),
    /// What the prefetch loaded from the store.
    Prefetch(clearway_core::stage::PrefetchCounters),
    /// What the store writer wrote.
    Store(clearway_core::stage::StoreCounters),
}

/// Where handlers send their reports; unbounded because each thread sends once, at shutdown.
pub type Reports = Sender<ThreadReport>;

/// The other end, read after the run.
pub type ReportInbox = Receiver<ThreadReport>;
