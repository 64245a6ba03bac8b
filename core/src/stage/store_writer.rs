//! [`StoreWriter`]: the stage after the ledger that hands decided payments to the store, a few
//! times a second, and drops the partitions retention has passed.
//!
//! The ledger hands each payment it finishes to its sink, which queues it here ([`StoredPayment`],
//! tagged with the sequence it finished at). For every event the writer takes the payments that
//! finished at or before it into its buffer: a copy, nothing more. At the end of a batch that
//! brings the buffer to [`STORE_WRITE_PAYMENTS_MAX`] payments or [`STORE_WRITE_INTERVAL_MS`] of
//! event time after its last write, it writes the buffer with the count of events it has now
//! covered; the store records that count and the writer publishes it
//! ([`StoreWriter::through`]) once the payments are in: the ledger drops a window generation only
//! once the store holds everything it finished. At shutdown it writes what is left. A durable
//! layout puts this stage after the journal, so the store never holds what the journal might
//! lose.
//!
//! # Where the writing happens
//!
//! [`StoreWriter::new`] writes on the stage's own thread: what replays, recovery and tests use,
//! where a write finishes before the next event. [`StoreWriter::on_thread`] hands each buffer to
//! a thread of its own, `store-write`, and takes an empty one back, so the stage that runs the
//! writer never sorts, encodes or makes a system call for the store; it waits only when the
//! thread is two writes behind (backpressure: the store cannot keep up), and that
//! wait is counted. Either way a write of thousands is ingested into new tables in one pass
//! ([`PaymentStore::write`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam::channel::{bounded, Receiver, Sender};

use crate::constants::{
    STORE_FLUSH_WAIT_MS_MAX, STORE_SEAL_MS, STORE_UNFLUSHED_BYTES_MAX, STORE_WRITE_INTERVAL_MS,
    STORE_WRITE_PAYMENTS_MAX,
};
use crate::event::{Event, Results, TxnId};
use crate::pipeline::{Handler, StageFault};
use crate::store::{Arrival, PaymentStore, StoredPayment};

use super::LongMemory;

/// Seconds between two expiry passes over the store's partitions: a minute. Partitions span an
/// hour, so a pass a minute drops one within a minute of retention passing it, and listing a few
/// dozen partition names a minute costs nothing.
const EXPIRY_INTERVAL_S: u64 = 60;

/// Buffers the writing thread hands back besides the one the stage fills: two, so that the
/// stage waits only when the thread is two writes behind.
const SPARE_BUFFERS: usize = 2;

/// The name of the thread [`StoreWriter::on_thread`] writes on.
pub const STORE_WRITE_THREAD: &str = "store-write";

/// What the writer did, for the run's summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreCounters {
    /// Payments written.
    pub payments: u64,
    /// Of them, written to a late partition: they finished after their second was written.
    pub late: u64,
    /// Writes.
    pub writes: u64,
    /// Nanoseconds spent writing (on the thread that writes).
    pub write_ns: u64,
    /// Hours dropped by retention (each hour's two partitions).
    pub hours_dropped: u64,
    /// Nanoseconds the writer's stage waited: for the writing thread to take its next buffer,
    /// or for the engine to flush what it held in memory.
    pub wait_ns: u64,
    /// The store's bytes on disk at shutdown.
    pub disk_bytes: u64,
}

/// A buffer of decided payments on its way to the store, with the count of events it covers
/// and the event time it was handed over at.
struct Write {
    payments: Vec<StoredPayment>,
    through: u64,
    clock_ns: u64,
    /// Write every payment now, sealed second or not (at shutdown, or when the ledger waits).
    all: bool,
}

/// What writes into the store: it owns the store's handle for writing and publishes `through`.
struct Writing {
    store: PaymentStore,
    memory: LongMemory,
    through: Arc<AtomicU64>,
    /// Payments whose second is not sealed yet, carried to the next write, and the buffer the
    /// next write carries them in.
    carried: Vec<StoredPayment>,
    spare: Vec<StoredPayment>,
    /// Ids stamped before this ([`TxnId::stamp`]: made before a second) have been written in
    /// order: a payment of one finishing now is late.
    sealed: u64,
    /// The payments of the write under way, in order and late; reused.
    in_order: Vec<StoredPayment>,
    late: Vec<StoredPayment>,
    /// The event time of the last expiry pass, s since the epoch.
    expired_at_s: u64,
    counters: StoreCounters,
}

impl Writing {
    fn new(store: PaymentStore, memory: LongMemory, through: Arc<AtomicU64>) -> Writing {
        Writing {
            store,
            memory,
            through,
            carried: Vec::new(),
            spare: Vec::new(),
            sealed: 0,
            in_order: Vec::new(),
            late: Vec::new(),
            expired_at_s: 0,
            counters: StoreCounters::default(),
        }
    }

    /// Writes `write`'s payments of sealed seconds (and, with `all`, the rest) with those
    /// carried from before, publishes how far the store now goes, and drops what retention
    /// passed. A second is sealed once the clock is [`STORE_SEAL_MS`] past its end: its
    /// payments go to their hours' in-order partitions, each write's seconds after the last's;
    /// a payment of a second sealed before goes to the late partition.
    fn write(&mut self, write: &Write) -> Result<(), StageFault> {
        let started = Instant::now();
        let now_ns = self.memory.epoch_unix_ns + write.clock_ns;
        // Seconds compared as stamps (date and second of the day), so no date is decoded.
        let seal = if write.all {
            u64::MAX
        } else {
            let seal_s = now_ns.saturating_sub(STORE_SEAL_MS * 1_000_000) / 1_000_000_000;
            TxnId::at(seal_s, 0).stamp()
        };
        let mut carried_first = u64::MAX;
        let mut newest = self.sealed;
        let mut waiting = std::mem::replace(&mut self.carried, std::mem::take(&mut self.spare));
        for payment in waiting.iter().chain(&write.payments) {
            let stamp = payment.txn_id.stamp();
            if stamp >= seal {
                carried_first = carried_first.min(payment.finished_sequence);
                self.carried.push(*payment);
            } else if stamp >= self.sealed {
                newest = newest.max(stamp + 1);
                self.in_order.push(*payment);
            } else {
                self.late.push(*payment);
            }
        }
        waiting.clear();
        self.spare = waiting;
        self.sealed = if write.all {
            newest
        } else {
            self.sealed.max(seal)
        };
        let through = write.through.min(carried_first);
        let written = self
            .store
            .write(&self.in_order, Arrival::InOrder)
            .and_then(|()| self.store.write(&self.late, Arrival::Late))
            .and_then(|()| self.store.record_through(through));
        written.map_err(|error| StageFault::new(format!("store: {error}")))?;
        self.counters.payments += (self.in_order.len() + self.late.len()) as u64;
        self.counters.late += self.late.len() as u64;
        self.counters.writes += 1;
        self.counters.write_ns += started.elapsed().as_nanos() as u64;
        self.in_order.clear();
        self.late.clear();
        if self.store.unflushed_bytes() > STORE_UNFLUSHED_BYTES_MAX {
            // Small writes go through the engine's memtables: seal them and give the engine's
            // flush the core until it has caught up, for at most STORE_FLUSH_WAIT_MS_MAX at once.
            self.store
                .request_flush()
                .map_err(|error| StageFault::new(format!("store: {error}")))?;
            let waited = Instant::now();
            while self.store.flushes_pending() > 0
                && waited.elapsed() < Duration::from_millis(STORE_FLUSH_WAIT_MS_MAX)
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            self.counters.wait_ns += waited.elapsed().as_nanos() as u64;
        }
        self.through.store(through, Ordering::SeqCst);
        let now_s = (self.memory.epoch_unix_ns + write.clock_ns) / 1_000_000_000;
        if now_s >= self.expired_at_s + EXPIRY_INTERVAL_S {
            self.expired_at_s = now_s;
            let horizon_s = now_s.saturating_sub(self.memory.retention_ns / 1_000_000_000);
            let dropped = self
                .store
                .expire(horizon_s)
                .map_err(|error| StageFault::new(format!("store: expiry: {error}")))?;
            self.counters.hours_dropped += dropped as u64;
        }
        Ok(())
    }
}

impl Writing {
    /// Its counters, with the store's size on disk now.
    fn finished(&self) -> StoreCounters {
        StoreCounters {
            disk_bytes: self.store.disk_bytes(),
            ..self.counters
        }
    }
}

/// Where the writing happens: see the module documentation.
enum Place {
    /// On the stage's thread.
    Here(Writing),
    /// On [`STORE_WRITE_THREAD`].
    Thread {
        /// Full buffers to write; holds one, so the stage fills the next meanwhile.
        full: Option<Sender<Write>>,
        /// Written buffers, emptied, back to be filled.
        empty: Receiver<Vec<StoredPayment>>,
        /// The thread; it gives its counters (or why it stopped) back when joined.
        thread: Option<JoinHandle<Result<StoreCounters, StageFault>>>,
        /// Nanoseconds the stage waited for an empty buffer.
        wait_ns: u64,
    },
}

/// See the module documentation.
pub struct StoreWriter {
    place: Place,
    finished: rtrb::Consumer<StoredPayment>,
    /// Payments taken since the last write; reserved once.
    pending: Vec<StoredPayment>,
    through: Arc<AtomicU64>,
    clock_ns: u64,
    /// The event time of the last write.
    written_ns: u64,
    /// The sequence after the last event taken.
    taken_through: u64,
    report: Option<Box<dyn FnMut(StoreCounters) + Send>>,
}

impl StoreWriter {
    /// A writer into `store` of what the ledger queues on `finished`, dropping what `memory`'s
    /// retention has passed; `through` is published after each write. `reserve`: the most
    /// payments one batch can finish (the ring's size plus the ledger's holds, which one clock
    /// step can expire at once). It writes on the thread that runs it.
    pub fn new(
        store: PaymentStore,
        memory: LongMemory,
        finished: rtrb::Consumer<StoredPayment>,
        through: Arc<AtomicU64>,
        reserve: usize,
    ) -> StoreWriter {
        let writing = Writing::new(store, memory, Arc::clone(&through));
        StoreWriter {
            place: Place::Here(writing),
            finished,
            pending: Vec::with_capacity(reserve + STORE_WRITE_PAYMENTS_MAX),
            through,
            clock_ns: 0,
            written_ns: 0,
            taken_through: 0,
            report: None,
        }
    }

    /// The same writer, writing on a thread of its own ([`STORE_WRITE_THREAD`]), started now.
    pub fn on_thread(self) -> std::io::Result<StoreWriter> {
        let Place::Here(mut writing) = self.place else {
            return Ok(self);
        };
        let (full, full_out) = bounded::<Write>(1);
        let (empty_in, empty) = bounded::<Vec<StoredPayment>>(SPARE_BUFFERS);
        let capacity = self.pending.capacity();
        let thread = std::thread::Builder::new()
            .name(STORE_WRITE_THREAD.to_string())
            .spawn(move || {
                // The stage fills one buffer while this thread writes another, and the spares
                // absorb a slow write (a table's sync). Reserved here, off the stage's thread.
                for _ in 0..SPARE_BUFFERS {
                    let _ = empty_in.send(Vec::with_capacity(capacity));
                }
                for mut write in full_out {
                    writing.write(&write)?;
                    write.payments.clear();
                    if empty_in.send(write.payments).is_err() {
                        break;
                    }
                }
                Ok(writing.finished())
            })?;
        Ok(StoreWriter {
            place: Place::Thread {
                full: Some(full),
                empty,
                thread: Some(thread),
                wait_ns: 0,
            },
            ..self
        })
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

    /// Takes what finished at or before `event`.
    pub fn take(&mut self, event: &Event) {
        self.clock_ns = self.clock_ns.max(event.event_ns);
        self.taken_through = event.sequence + 1;
        while let Ok(payment) = self.finished.peek() {
            if payment.finished_sequence > event.sequence {
                break;
            }
            let payment = self.finished.pop().expect("peeked");
            self.pending.push(payment);
        }
    }

    /// Whether a batch's end is the moment to write: enough payments, or enough event time.
    fn write_due(&self) -> bool {
        self.pending.len() >= STORE_WRITE_PAYMENTS_MAX
            || self.clock_ns.saturating_sub(self.written_ns) >= STORE_WRITE_INTERVAL_MS * 1_000_000
    }

    /// Writes what it holds of sealed seconds (the rest waits for a later write) and records the
    /// store written through `through`, or through the first payment that waits: here, finished
    /// when this returns; on the writing thread, handed over.
    pub fn write(&mut self, through: u64) -> Result<(), StageFault> {
        self.hand_over(through, false)
    }

    /// Writes everything it holds, sealed second or not, and records the store written through
    /// `through`: what a ledger waiting for the store needs, and the last write.
    pub fn write_all(&mut self, through: u64) -> Result<(), StageFault> {
        self.hand_over(through, true)
    }

    fn hand_over(&mut self, through: u64, all: bool) -> Result<(), StageFault> {
        self.written_ns = self.clock_ns;
        match &mut self.place {
            Place::Here(writing) => {
                let write = Write {
                    payments: std::mem::take(&mut self.pending),
                    through,
                    clock_ns: self.clock_ns,
                    all,
                };
                let written = writing.write(&write);
                self.pending = write.payments;
                self.pending.clear();
                written
            }
            Place::Thread {
                full,
                empty,
                thread,
                wait_ns,
            } => {
                let waited = Instant::now();
                let (Some(sender), Ok(next)) = (full.as_ref(), empty.recv()) else {
                    return Err(stopped(thread));
                };
                *wait_ns += waited.elapsed().as_nanos() as u64;
                let write = Write {
                    payments: std::mem::replace(&mut self.pending, next),
                    through,
                    clock_ns: self.clock_ns,
                    all,
                };
                sender.send(write).map_err(|_| stopped(thread))
            }
        }
    }

    /// Writes what is left and, on the writing thread, waits for it to finish: what it has done,
    /// or why it stopped.
    fn finish(&mut self) -> Result<StoreCounters, StageFault> {
        self.write_all(self.taken_through)?;
        match &mut self.place {
            Place::Here(writing) => Ok(writing.finished()),
            Place::Thread {
                full,
                thread,
                wait_ns,
                ..
            } => {
                drop(full.take());
                let mut counters = match thread.take().map(JoinHandle::join) {
                    Some(Ok(result)) => result?,
                    Some(Err(_)) => {
                        return Err(StageFault::new("store: the writing thread panicked"))
                    }
                    None => return Err(StageFault::new("store: the writing thread stopped")),
                };
                counters.wait_ns += *wait_ns;
                Ok(counters)
            }
        }
    }

    /// What it has done so far (on the writing thread: known once it has finished).
    pub fn counters(&self) -> StoreCounters {
        match &self.place {
            Place::Here(writing) => writing.counters,
            Place::Thread { wait_ns, .. } => StoreCounters {
                wait_ns: *wait_ns,
                ..StoreCounters::default()
            },
        }
    }
}

/// Why the writing thread is gone, joining it when it has stopped.
fn stopped(thread: &mut Option<JoinHandle<Result<StoreCounters, StageFault>>>) -> StageFault {
    match thread.take().map(JoinHandle::join) {
        Some(Ok(Err(fault))) => fault,
        Some(Err(_)) => StageFault::new("store: the writing thread panicked"),
        _ => StageFault::new("store: the writing thread stopped"),
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
        self.take(event);
        if end_of_batch && self.write_due() {
            self.write(event.sequence + 1)?;
        }
        Ok(())
    }

    fn on_shutdown(&mut self) {
        let counters = match self.finish() {
            Ok(counters) => counters,
            Err(fault) => {
                // Derived state: a store left behind is rebuilt at the next start, and says so.
                eprintln!("{fault}: the store is rebuilt from the journal at the next start");
                self.counters()
            }
        };
        if let Some(report) = &mut self.report {
            report(counters);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Kind, Outcome, ParticipantId};

    /// 2026-12-07 23:30:00 UTC: event time zero.
    const EPOCH_S: u64 = 1_796_686_200;

    fn finished(second: u64, number: u128, sequence: u64) -> StoredPayment {
        StoredPayment {
            txn_id: TxnId::at(EPOCH_S + second, number),
            original: TxnId::NONE,
            fingerprint: 7,
            amount_fen: 100,
            outcome: Outcome::Approved,
            kind: Kind::AgreementDebit,
            institution: ParticipantId(1),
            bank: ParticipantId(1_000),
            batch: 1,
            finished_sequence: sequence,
            finished_ns: 0,
        }
    }

    /// What each test writes with: a temporary store in a folder of its own, a day's retention
    /// from [`EPOCH_S`], the ledger's side of the finished-payment queue, and the published
    /// `through`.
    struct Setup {
        path: std::path::PathBuf,
        store: PaymentStore,
        memory: LongMemory,
        queue: rtrb::Producer<StoredPayment>,
        finished_out: rtrb::Consumer<StoredPayment>,
        through: Arc<AtomicU64>,
    }

    fn setup(name: &str, capacity: usize) -> Setup {
        let path =
            std::env::temp_dir().join(format!("clearway-writer-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        let (queue, finished_out) = rtrb::RingBuffer::new(capacity);
        Setup {
            store: PaymentStore::temporary(&path).unwrap(),
            path,
            memory: LongMemory {
                retention_ns: 86_400 * 1_000_000_000,
                epoch_unix_ns: EPOCH_S * 1_000_000_000,
            },
            queue,
            finished_out,
            through: Arc::new(AtomicU64::new(0)),
        }
    }

    fn at(sequence: u64, event_ms: u64) -> Event {
        Event {
            sequence,
            event_ns: event_ms * 1_000_000,
            ..Event::default()
        }
    }

    #[test]
    fn a_second_is_written_in_order_once_sealed_and_a_payment_of_it_after_that_is_late() {
        let Setup {
            path,
            store,
            memory,
            mut queue,
            finished_out,
            through,
        } = setup("seal", 16);
        let mut writer = StoreWriter::new(
            store.clone(),
            memory,
            finished_out,
            Arc::clone(&through),
            16,
        );
        let mut reader = store;
        let first = finished(0, 1, 0);
        let second = finished(1, 2, 1);
        queue.push(first).unwrap();
        queue.push(second).unwrap();
        // 1.3 s: second 0 ended 300 ms ago, past the seal; second 1 has not ended.
        writer.take(&at(1, 1_300));
        writer.write(2).unwrap();
        assert_eq!(
            through.load(Ordering::SeqCst),
            1,
            "through stops at the payment that waits"
        );
        assert_eq!(reader.payment(first.txn_id, u64::MAX).unwrap(), Some(first));
        assert_eq!(reader.payment(second.txn_id, u64::MAX).unwrap(), None);
        // 2.5 s: second 1 is sealed; a payment of second 0, finishing now, is late.
        let straggler = finished(0, 3, 2);
        queue.push(straggler).unwrap();
        writer.take(&at(2, 2_500));
        writer.write(3).unwrap();
        assert_eq!(through.load(Ordering::SeqCst), 3);
        assert_eq!(
            reader.payment(second.txn_id, u64::MAX).unwrap(),
            Some(second)
        );
        assert_eq!(
            reader.payment(straggler.txn_id, u64::MAX).unwrap(),
            Some(straggler)
        );
        let counters = writer.counters();
        assert_eq!(
            (counters.payments, counters.late, counters.writes),
            (3, 1, 2)
        );
        // A payment of the current second waits for its seal, unless everything is written.
        let current = finished(2, 4, 3);
        queue.push(current).unwrap();
        writer.take(&at(3, 2_600));
        writer.write(4).unwrap();
        assert_eq!(through.load(Ordering::SeqCst), 3);
        writer.write_all(4).unwrap();
        assert_eq!(through.load(Ordering::SeqCst), 4);
        assert_eq!(
            reader.payment(current.txn_id, u64::MAX).unwrap(),
            Some(current)
        );
        assert_eq!(writer.counters().late, 1);
        drop((writer, reader));
        let _ = std::fs::remove_dir_all(&path);
    }

    #[test]
    fn on_its_own_thread_the_writer_writes_the_same_and_hands_back_its_counters() {
        let Setup {
            path,
            store,
            memory,
            mut queue,
            finished_out,
            through,
        } = setup("thread", 64);
        let reported = Arc::new(std::sync::Mutex::new(None));
        let mut writer = StoreWriter::new(
            store.clone(),
            memory,
            finished_out,
            Arc::clone(&through),
            64,
        )
        .on_thread()
        .unwrap()
        .on_finish({
            let reported = Arc::clone(&reported);
            move |counters| *reported.lock().unwrap() = Some(counters)
        });
        let mut reader = store;
        let payments: Vec<StoredPayment> = (0..40)
            .map(|index| finished(index / 10, u128::from(index) + 1, index))
            .collect();
        let mut results = Results::default();
        for (index, payment) in payments.iter().enumerate() {
            queue.push(*payment).unwrap();
            let event = at(index as u64, index as u64 * 100);
            writer
                .on_event(&event, &mut results, index as u64, true)
                .unwrap();
        }
        writer.on_shutdown();
        assert_eq!(through.load(Ordering::SeqCst), 40);
        for payment in &payments {
            assert_eq!(
                reader.payment(payment.txn_id, u64::MAX).unwrap(),
                Some(*payment)
            );
        }
        let counters = reported.lock().unwrap().expect("reported at shutdown");
        assert_eq!(counters.payments, 40);
        assert_eq!(counters.late, 0, "every second was written in order");
        assert!(counters.writes >= 2, "{counters:?}");
        drop((writer, reader));
        let _ = std::fs::remove_dir_all(&path);
    }
}
