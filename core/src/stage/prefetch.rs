//! [`Prefetch`]: the stage before the ledger that loads from the store what the ledger's window
//! does not hold, so that the ledger never touches the disk (the prefetch/execute split).
//!
//! For each payment that authorize and route passed, it asks the store for the payment's id and,
//! for a refund, for its original and what approved refunds took from it, *as of the event's
//! sequence*, and hands what it found to the ledger through a wait-free queue in sequence order
//! ([`Loaded`]). It skips the store wherever the answer is known without it: an id the ledger
//! will refuse by its time (no time, in the future, beyond retention), and an id made so
//! recently that, if it was ever seen, the window still holds it
//! ([`LongMemory::surely_in_window`]). Most payments are new and recent, so most cost no
//! lookup at all; the rest are resends and refunds of older payments.
//!
//! It runs its own copy of the window's [`WindowSchedule`], fed the same events, so it knows the
//! window's horizon at every event without reading the ledger's state.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::event::{Event, Kind, Results, TxnId};
use crate::pipeline::{Handler, StageFault};
use crate::store::{Loaded, PaymentStore, StoreError, StoredPayment};

use super::{LongMemory, WindowSchedule};

/// What the prefetch did, for the run's summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrefetchCounters {
    /// Ids it looked at (a payment's own, and a refund's original).
    pub ids: u64,
    /// Ids it skipped because the window surely holds them if they exist.
    pub in_window: u64,
    /// Ids it skipped because the ledger refuses them by their time.
    pub refused: u64,
    /// Store lookups made.
    pub lookups: u64,
    /// Lookups that found a payment.
    pub found: u64,
    /// Nanoseconds spent in store lookups.
    pub lookup_ns: u64,
}

/// See the module documentation.
pub struct Prefetch {
    store: PaymentStore,
    memory: LongMemory,
    schedule: WindowSchedule,
    loads: rtrb::Producer<Loaded>,
    /// The sequence of the event it is reading the store for, published before each read: the
    /// ledger drops a window generation only past it ([`Ledger::attach_store`](super::Ledger)).
    prefetching: Arc<AtomicU64>,
    counters: PrefetchCounters,
    /// Where the counters go at shutdown.
    report: Option<Box<dyn FnMut(PrefetchCounters) + Send>>,
}

impl Prefetch {
    /// A prefetch reading `store`, judging ids by `memory`, following `schedule` (a copy of the
    /// ledger's as it stands), handing what it finds to the ledger through `loads`, and
    /// publishing in `prefetching` the event it reads the store for.
    pub fn new(
        store: PaymentStore,
        memory: LongMemory,
        schedule: WindowSchedule,
        loads: rtrb::Producer<Loaded>,
        prefetching: Arc<AtomicU64>,
    ) -> Prefetch {
        Prefetch {
            store,
            memory,
            schedule,
            loads,
            prefetching,
            counters: PrefetchCounters::default(),
            report: None,
        }
    }

    /// Calls `report` with the counters when the stage shuts down.
    pub fn on_finish(mut self, report: impl FnMut(PrefetchCounters) + Send + 'static) -> Self {
        self.report = Some(Box::new(report));
        self
    }

    /// What it has done so far.
    pub fn counters(&self) -> PrefetchCounters {
        self.counters
    }

    /// Whether `txn_id` needs a store lookup at this event.
    #[inline]
    fn needs_lookup(&mut self, txn_id: TxnId) -> bool {
        self.counters.ids += 1;
        match self.memory.judge(txn_id, self.schedule.clock_ns) {
            Err(_) => {
                self.counters.refused += 1;
                false
            }
            Ok(id_ns)
                if self
                    .memory
                    .surely_in_window(id_ns, self.schedule.memory_start_ns()) =>
            {
                self.counters.in_window += 1;
                false
            }
            Ok(_) => true,
        }
    }

    /// Loads what the ledger will need for `event` and queues it.
    pub fn load(&mut self, event: &Event, results: &Results) -> Result<(), StageFault> {
        self.schedule.observe(event);
        let reply = event.kind == Kind::BankReply;
        if !(event.kind.is_payment() || reply) || !results.passed() {
            return Ok(());
        }
        if self.needs_lookup(event.txn_id) {
            let txn_id = event.txn_id;
            let found = self.read(event.sequence, false, |store, as_of| {
                Ok(store.payment(txn_id, as_of)?.map(|payment| (payment, 0)))
            })?;
            if found {
                // A repeat (or a late reply): the ledger answers from this record.
                return Ok(());
            }
        }
        if !reply
            && event.kind == Kind::Refund
            && !event.original.is_none()
            && self.needs_lookup(event.original)
        {
            let original = event.original;
            self.read(event.sequence, true, |store, as_of| {
                store.original(original, as_of)
            })?;
        }
        Ok(())
    }

    /// One store read for the event at `sequence`, as of it: published first (the ledger drops a
    /// window generation only past it), timed and counted, and what it found queued to the
    /// ledger. Returns whether it found a payment.
    fn read(
        &mut self,
        sequence: u64,
        for_original: bool,
        read: impl FnOnce(&mut PaymentStore, u64) -> Result<Option<(StoredPayment, u64)>, StoreError>,
    ) -> Result<bool, StageFault> {
        self.prefetching.store(sequence, Ordering::SeqCst);
        let started = std::time::Instant::now();
        let found = read(&mut self.store, sequence)
            .map_err(|error| StageFault::new(format!("prefetch: {error}")))?;
        self.counters.lookups += 1;
        self.counters.lookup_ns += started.elapsed().as_nanos() as u64;
        let Some((payment, refunded_fen)) = found else {
            return Ok(false);
        };
        self.counters.found += 1;
        self.push(Loaded {
            sequence,
            for_original,
            payment,
            refunded_fen,
        })?;
        Ok(true)
    }

    fn push(&mut self, loaded: Loaded) -> Result<(), StageFault> {
        self.loads.push(loaded).map_err(|_| {
            StageFault::new(
                "prefetch: the queue to the ledger is full, though it holds two loads per ring slot",
            )
        })
    }
}

impl Handler<Event, Results> for Prefetch {
    #[inline]
    fn on_event(
        &mut self,
        event: &Event,
        results: &mut Results,
        _sequence: u64,
        _end_of_batch: bool,
    ) -> Result<(), StageFault> {
        self.load(event, results)
    }

    fn on_shutdown(&mut self) {
        let counters = self.counters;
        if let Some(report) = &mut self.report {
            report(counters);
        }
    }
}
