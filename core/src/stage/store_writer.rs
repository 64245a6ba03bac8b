//! [`StoreWriter`]: the stage after the ledger that writes decided payments into the store, a
//! batch at a time, and drops the partitions retention has passed.
//!
//! The ledger hands each payment it finishes to its sink, which queues it here ([`StoredPayment`],
//! tagged with the sequence it finished at). For every event the writer takes the payments that
//! finished at or before it; at the end of a batch that brings it [`STORE_WRITE_PAYMENTS_MIN`]
//! payments or [`STORE_WRITE_INTERVAL_MS`] of event time after its last write, it writes them,
//! with the count of events it has now covered, in one atomic write, and publishes that count
//! ([`StoreWriter::through`]), and at shutdown it writes what is left:
//! the ledger drops a window generation only once the store holds everything it finished. A
//! durable layout puts this stage after the journal, so the store never holds what the journal
//! might lose.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::constants::{
    STORE_FLUSH_WAIT_MS_MAX, STORE_UNFLUSHED_BYTES_MAX, STORE_WRITE_INTERVAL_MS,
    STORE_WRITE_PAYMENTS_MIN,
};
use crate::event::{Event, Results};
use crate::pipeline::{Handler, StageFault};
use crate::store::{PaymentStore, StoredPayment};

use super::LongMemory;

/// Seconds between two expiry passes over the store's partitions: a minute. Partitions span an
/// hour, so a pass a minute drops one within a minute of retention passing it, and listing a few
/// dozen partition names a minute costs nothing.
const EXPIRY_INTERVAL_S: u64 = 60;

/// What the writer did, for the run's summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreCounters {
    /// Payments written.
    pub payments: u64,
    /// Writes (one per batch).
    pub writes: u64,
    /// Nanoseconds spent writing.
    pub write_ns: u64,
    /// Partitions dropped by retention.
    pub partitions_dropped: u64,
    /// Nanoseconds the writer waited for the engine to flush what it held in memory.
    pub flush_wait_ns: u64,
    /// The store's bytes on disk at shutdown.
    pub disk_bytes: u64,
}

/// See the module documentation.
pub struct StoreWriter {
    store: PaymentStore,
    memory: LongMemory,
    finished: rtrb::Consumer<StoredPayment>,
    /// Payments taken since the last write; reserved once.
    pending: Vec<StoredPayment>,
    through: Arc<AtomicU64>,
    clock_ns: u64,
    /// The event time of the last write.
    written_ns: u64,
    /// The sequence after the last event taken.
    taken_through: u64,
    /// The event time of the last expiry pass, s since the epoch.
    expired_at_s: u64,
    counters: StoreCounters,
    report: Option<Box<dyn FnMut(StoreCounters) + Send>>,
}

impl StoreWriter {
    /// A writer into `store` of what the ledger queues on `finished`, dropping what `memory`'s
    /// retention has passed; `through` is published after each write. `reserve`: the most
    /// payments one batch can finish (the ring's size plus the ledger's holds, which one clock
    /// step can expire at once).
    pub fn new(
        store: PaymentStore,
        memory: LongMemory,
        finished: rtrb::Consumer<StoredPayment>,
        through: Arc<AtomicU64>,
        reserve: usize,
    ) -> StoreWriter {
        StoreWriter {
            store,
            memory,
            finished,
            pending: Vec::with_capacity(reserve),
            through,
            clock_ns: 0,
            written_ns: 0,
            taken_through: 0,
            expired_at_s: 0,
            counters: StoreCounters::default(),
            report: None,
        }
    }

    /// Calls `report` with the counters when the stage shuts down.
    pub fn on_finish(mut self, report: impl FnMut(StoreCounters) + Send + 'static) -> Self {
        self.report = Some(Box::new(report));
        self
    }

    /// How far the store has been written: the count it publishes after each write.
    pub fn through(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.through)
    }

    /// Takes what finished at or before `event`; with `write`, writes it all.
    pub fn take(&mut self, event: &Event, write: bool) -> Result<(), StageFault> {
        self.clock_ns = self.clock_ns.max(event.event_ns);
        self.taken_through = event.sequence + 1;
        while let Ok(payment) = self.finished.peek() {
            if payment.finished_sequence > event.sequence {
                break;
            }
            let payment = self.finished.pop().expect("peeked");
            self.pending.push(payment);
        }
        if write {
            self.write(event.sequence + 1)?;
        }
        Ok(())
    }

    /// Whether a batch's end is the moment to write: enough payments, or enough event time.
    fn write_due(&self) -> bool {
        self.pending.len() >= STORE_WRITE_PAYMENTS_MIN
            || self.clock_ns.saturating_sub(self.written_ns) >= STORE_WRITE_INTERVAL_MS * 1_000_000
    }

    /// Writes what it holds and records the store written through `through`.
    pub fn write(&mut self, through: u64) -> Result<(), StageFault> {
        self.written_ns = self.clock_ns;
        let started = std::time::Instant::now();
        self.store
            .write(&self.pending, through)
            .map_err(|error| StageFault::new(format!("store: {error}")))?;
        self.counters.payments += self.pending.len() as u64;
        self.counters.writes += 1;
        self.counters.write_ns += started.elapsed().as_nanos() as u64;
        self.pending.clear();
        if self.store.unflushed_bytes() > STORE_UNFLUSHED_BYTES_MAX {
            // Seal what is in memory and give the engine's flush the core until it has caught
            // up, for at most STORE_FLUSH_WAIT_MS_MAX at once.
            self.store
                .request_flush()
                .map_err(|error| StageFault::new(format!("store: {error}")))?;
            let waited = std::time::Instant::now();
            while self.store.flushes_pending() > 0
                && waited.elapsed() < std::time::Duration::from_millis(STORE_FLUSH_WAIT_MS_MAX)
            {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            self.counters.flush_wait_ns += waited.elapsed().as_nanos() as u64;
        }
        self.through.store(through, Ordering::SeqCst);
        let now_s = (self.memory.epoch_unix_ns + self.clock_ns) / 1_000_000_000;
        if now_s >= self.expired_at_s + EXPIRY_INTERVAL_S {
            self.expired_at_s = now_s;
            let horizon_s = now_s.saturating_sub(self.memory.retention_ns / 1_000_000_000);
            let dropped = self
                .store
                .expire(horizon_s)
                .map_err(|error| StageFault::new(format!("store: expiry: {error}")))?;
            self.counters.partitions_dropped += dropped as u64;
        }
        Ok(())
    }

    /// What it has done so far.
    pub fn counters(&self) -> StoreCounters {
        self.counters
    }
}

impl Handler<Event, Results> for StoreWriter {
    #[inline]
    fn on_event(
        &mut self,
        event: &Event,
        _results: &mut Results,
        _sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        self.take(event, false)?;
        if end_of_batch && self.write_due() {
            self.write(event.sequence + 1)?;
        }
        Ok(())
    }

    fn on_shutdown(&mut self) {
        if !self.pending.is_empty() || self.through.load(Ordering::Acquire) < self.taken_through {
            // Derived state: a store left behind is rebuilt at the next start, and says so.
            if let Err(fault) = self.write(self.taken_through) {
                eprintln!("{fault}: the store is rebuilt from the journal at the next start");
            }
        }
        self.counters.disk_bytes = self.store.disk_bytes();
        let counters = self.counters;
        if let Some(report) = &mut self.report {
            report(counters);
        }
    }
}
