//! [`Remembering`]: the prefetch, the ledger and the store writer run one after another on one
//! thread, for whatever applies events without a pipeline (recovery, replays, the reference
//! comparison); and [`StoreFeed`], the ledger sink that queues finished payments to the writer.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::event::{Event, Results};
use crate::pipeline::StageFault;
use crate::store::{Loaded, PaymentStore, StoredPayment};

use super::{
    BatchReport, Expiry, Ledger, LedgerSink, LedgerSummary, LongMemory, Prefetch, StoreWriter,
};

/// Events between two store writes when nothing else says when: 262,144, about a second of a
/// journal taken at 120,000 payments/s, so a replay writes a few large tables a second of
/// history (each write is an ingestion and its sync), not thousands of small ones.
const WRITE_EVERY_EVENTS: u64 = 262_144;

/// Events the queues between the three are sized for: a ring's worth. They are drained at
/// every event, so this is room to spare, not a bound that matters.
const QUEUE_EVENTS: usize = 16_384;

/// A ledger sink that queues every finished payment to the store writer and passes everything
/// on to `inner`.
pub struct StoreFeed<S> {
    /// Where the ledger's other side effects go.
    pub inner: S,
    finished: rtrb::Producer<StoredPayment>,
}

impl<S> StoreFeed<S> {
    /// A feed onto `finished` in front of `inner`.
    pub fn new(inner: S, finished: rtrb::Producer<StoredPayment>) -> Self {
        StoreFeed { inner, finished }
    }
}

impl<S: LedgerSink> LedgerSink for StoreFeed<S> {
    fn expired(&mut self, expiry: &Expiry) {
        self.inner.expired(expiry);
    }

    fn batch_closed(&mut self, report: BatchReport) {
        self.inner.batch_closed(report);
    }

    fn finished(&mut self, summary: LedgerSummary) {
        self.inner.finished(summary);
    }

    #[inline]
    fn payment_finished(&mut self, payment: &StoredPayment) {
        // The queue holds the ledger's holds plus two rings of payments: no more can be
        // finished and not yet taken by the writer (see `queues_for`).
        self.finished
            .push(*payment)
            .expect("the finished-payment queue is sized to the holds plus two rings");
    }
}

/// The queues between prefetch, ledger and store writer, sized for a ring of `ring_capacity`
/// slots and a ledger of `holds_capacity` holds: the prefetch is at most a ring ahead of the
/// ledger with two loads an event, and the writer at most a ring behind it, with at most every
/// hold finishing in one event besides.
#[allow(clippy::type_complexity)]
pub fn queues_for(
    ring_capacity: usize,
    holds_capacity: usize,
) -> (
    (rtrb::Producer<Loaded>, rtrb::Consumer<Loaded>),
    (rtrb::Producer<StoredPayment>, rtrb::Consumer<StoredPayment>),
) {
    (
        rtrb::RingBuffer::new(2 * ring_capacity),
        rtrb::RingBuffer::new(holds_capacity + 2 * ring_capacity),
    )
}

/// See the module documentation.
pub struct Remembering<S> {
    prefetch: Prefetch,
    ledger: Ledger,
    sink: StoreFeed<S>,
    writer: StoreWriter,
    /// Events since the last write.
    unwritten: u64,
}

impl<S: LedgerSink> Remembering<S> {
    /// `ledger` with its long memory in `store`, reporting to `sink`.
    pub fn new(mut ledger: Ledger, store: &PaymentStore, memory: LongMemory, sink: S) -> Self {
        let ((loads_in, loads_out), (finished_in, finished_out)) =
            queues_for(QUEUE_EVENTS, ledger.config().holds_capacity);
        let through = Arc::new(AtomicU64::new(store.through().unwrap_or(0)));
        let prefetching = Arc::new(AtomicU64::new(0));
        ledger.attach_store(loads_out, Arc::clone(&through), Arc::clone(&prefetching));
        let prefetch = Prefetch::new(
            store.clone(),
            memory,
            ledger.schedule(),
            loads_in,
            prefetching,
        );
        let reserve = ledger.config().holds_capacity + 2 * QUEUE_EVENTS;
        let writer = StoreWriter::new(store.clone(), memory, finished_out, through, reserve);
        Remembering {
            prefetch,
            ledger,
            sink: StoreFeed::new(sink, finished_in),
            writer,
            unwritten: 0,
        }
    }

    /// Applies `event` (authorize's and route's results already in `results`): prefetch, ledger,
    /// store.
    pub fn apply(&mut self, event: &Event, results: &mut Results) -> Result<(), StageFault> {
        self.prefetch.load(event, results)?;
        self.ledger.apply(event, results, &mut self.sink);
        self.unwritten += 1;
        self.writer.take(event);
        // Write every so many events what the writer has sealed, and everything whenever the
        // window waits for the store to turn.
        if self.ledger.waits_for_store() {
            self.unwritten = 0;
            self.writer.write_all(event.sequence + 1)?;
        } else if self.unwritten >= WRITE_EVERY_EVENTS {
            self.unwritten = 0;
            self.writer.write(event.sequence + 1)?;
        }
        Ok(())
    }

    /// Writes what the store has not yet taken, through the event after `last_sequence`.
    pub fn flush(&mut self, through: u64) -> Result<(), StageFault> {
        self.unwritten = 0;
        self.writer.write_all(through)
    }

    /// The ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The sink behind the store feed.
    pub fn sink(&mut self) -> &mut S {
        &mut self.sink.inner
    }

    /// The sink behind the store feed and the ledger, at once.
    pub fn parts(&mut self) -> (&mut S, &Ledger) {
        (&mut self.sink.inner, &self.ledger)
    }

    /// The prefetch's counters.
    pub fn prefetch(&self) -> &Prefetch {
        &self.prefetch
    }

    /// The ledger, once done.
    pub fn into_ledger(self) -> Ledger {
        self.ledger
    }
}
