//! [`Ledger`]: the single writer of money. It holds the positions, the pending holds, the
//! idempotency window and the clearing batch, and applies every event in sequence order exactly
//! as docs/SWITCH.md ("ledger") says. [`LedgerStage`] runs it as a pipeline handler.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `ledger.rs` | [`Ledger`], [`LedgerConfig`], [`LedgerSink`], [`Expiry`], [`LedgerSummary`], [`LedgerStage`] |
//! | `ledger/holds.rs` | the pending holds in placement (= deadline) order |
//! | `ledger/window.rs` | the two-generation in-memory window and the fields' fingerprint |
//! | `ledger/schedule.rs` | [`WindowSchedule`]: when the window's generations turn, from the input alone |
//! | `ledger/table.rs` | one window generation: pending and finished payments by `txn_id` |
//! | `ledger/clearing.rs` | [`BatchReport`], [`BatchRow`], [`Direction`] |
//! | `ledger/state_hash.rs` | [`StateHash`] |
//! | `ledger/save.rs` | [`Ledger::save`], [`Ledger::restore`]: the ledger's state for a snapshot |
//!
//! # Memory
//!
//! Everything is allocated in [`Ledger::new`]: flat per-participant arrays of
//! `PARTICIPANT_ID_MAX + 1` entries, the hold slab, and both window generations. Per
//! event the ledger neither allocates nor grows a table: a payment that would take a table past
//! its capacity is declined `LedgerFull`. The cutover (once per batch, a control-plane event)
//! allocates its [`BatchReport`].
//!
//! # Per event
//!
//! A pending payment's record lives in the current window generation beside the finished ones
//! and points at its hold, so a payment costs one lookup in each generation (the second skipped
//! while the previous generation is empty) and a write into the slot the first lookup found, and
//! its reply one lookup (a slot the payment touched) and a write in place.
//!
//! # Arithmetic
//!
//! Amounts are u64 fen; positions and pending sums are i128, batch totals u128. A position moves
//! by at most 2^64 per posting, and a batch cannot post 2^63 payments (at 10^8 a second that is
//! 2,900 years), so no sum reaches 2^127: `AmountOverflow` is never needed here.

mod clearing;
mod holds;
mod save;
mod schedule;
mod state_hash;
mod table;
mod window;

pub use clearing::{BatchReport, BatchRow, Direction};
pub use schedule::WindowSchedule;
pub use state_hash::StateHash;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::constants::{
    BANK_TIMEOUT_MS_DEFAULT, HOLDS_CAPACITY_DEFAULT, PARTICIPANT_ID_MAX, TXN_ID_FUTURE_MS_MAX,
    WINDOW_CAPACITY_DEFAULT, WINDOW_SPAN_MS_DEFAULT,
};
use crate::event::{Decline, Event, Kind, Outcome, ParticipantId, Results, TxnId, REPLY_APPROVE};
use crate::network::Network;
use crate::pipeline::{Handler, StageFault};
use crate::store::{Loaded, StoredPayment};
use holds::{Hold, Holds};
use table::{Probe, Record};
use window::{fingerprint, Window};

/// Entries of the flat per-participant arrays.
const PARTICIPANT_SLOTS: usize = PARTICIPANT_ID_MAX as usize + 1;

/// The ledger's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerConfig {
    /// How long a hold waits for its bank, event time, ns.
    pub bank_timeout_ns: u64,
    /// Pending holds at once.
    pub holds_capacity: usize,
    /// Records per window generation: pending and finished payments touched in it.
    pub window_capacity: usize,
    /// A window generation's span of event time, ns ([`WindowSchedule`]).
    pub window_span_ns: u64,
    /// Memory by time: retention and the clock ids are judged by. `None`: ids are not judged by
    /// their time, and what the window does not hold is unknown (a ledger without a store).
    pub memory: Option<LongMemory>,
}

/// How long the switch remembers a decided payment, and how its event time maps to the wall
/// clock that transaction ids carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongMemory {
    /// Retention, ns: an id made longer ago than this is refused by name.
    pub retention_ns: u64,
    /// Nanoseconds since 1970-01-01 UTC at event time zero (the data directory's creation).
    pub epoch_unix_ns: u64,
}

impl LongMemory {
    /// Where an id made at `txn_id`'s own time stands at event time `clock_ns`: `Err` with the
    /// decline when it has no time, is ahead of the clock beyond [`TXN_ID_FUTURE_MS_MAX`], or is
    /// beyond retention; `Ok` with its time in ns since the epoch otherwise.
    #[inline]
    pub fn judge(&self, txn_id: TxnId, clock_ns: u64) -> Result<u64, Decline> {
        let Some(unix_s) = txn_id.unix_s() else {
            return Err(Decline::TxnIdWithoutTime);
        };
        let id_ns = unix_s.saturating_mul(1_000_000_000);
        let now_ns = self.epoch_unix_ns.saturating_add(clock_ns);
        if id_ns > now_ns.saturating_add(TXN_ID_FUTURE_MS_MAX * 1_000_000) {
            return Err(Decline::TxnIdInFuture);
        }
        if id_ns.saturating_add(self.retention_ns) < now_ns {
            return Err(Decline::TxnIdBeyondRetention);
        }
        Ok(id_ns)
    }

    /// Whether a payment with an id made at `id_ns` (since the epoch), if it exists, is certainly
    /// in a window that holds everything touched since event time `memory_start_ns`: it was
    /// first seen no earlier than its id's time less [`TXN_ID_FUTURE_MS_MAX`]. A window that
    /// holds everything since event time 0 (no generation dropped yet) holds every payment.
    #[inline]
    pub fn surely_in_window(&self, id_ns: u64, memory_start_ns: u64) -> bool {
        memory_start_ns == 0
            || id_ns
                >= self
                    .epoch_unix_ns
                    .saturating_add(memory_start_ns)
                    .saturating_add(TXN_ID_FUTURE_MS_MAX * 1_000_000)
    }
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            bank_timeout_ns: BANK_TIMEOUT_MS_DEFAULT * 1_000_000,
            holds_capacity: HOLDS_CAPACITY_DEFAULT,
            window_capacity: WINDOW_CAPACITY_DEFAULT,
            window_span_ns: WINDOW_SPAN_MS_DEFAULT * 1_000_000,
            memory: None,
        }
    }
}

impl LedgerConfig {
    /// The schedule its window follows: generations of `window_span_ns`, turning early after
    /// as many payments as leave room for the records a turn carries over (each pending hold
    /// and a pending refund's original) and for a refund's two records.
    pub fn schedule(&self) -> WindowSchedule {
        let room = self
            .window_capacity
            .saturating_sub(2 * self.holds_capacity)
            .max(self.window_capacity / 2);
        WindowSchedule::new(self.window_span_ns, (room / 2).max(1) as u64)
    }
}

/// A hold voided because its bank did not reply in time: egress tells the institution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expiry {
    /// The payment.
    pub txn_id: TxnId,
    /// Who sent it.
    pub institution: ParticipantId,
    /// The bank that did not reply.
    pub bank: ParticipantId,
    /// Its amount, fen.
    pub amount_fen: u64,
    /// The institution's send time.
    pub sent_ns: u64,
}

/// Where the ledger hands what does not fit in an event's results: expiry notices, batch reports
/// and, at shutdown, its summary. The harness pushes expiries into a queue to egress and reports
/// to a writer thread.
pub trait LedgerSink {
    /// A hold expired (called during the event whose clock passed its deadline).
    fn expired(&mut self, expiry: &Expiry);
    /// A cutover closed a batch.
    fn batch_closed(&mut self, report: BatchReport);
    /// A payment finished (approved, declined or expired): what the store keeps of it.
    fn payment_finished(&mut self, _payment: &StoredPayment) {}
    /// The stage is shutting down; this is the ledger's final state.
    fn finished(&mut self, _summary: LedgerSummary) {}
}

/// Discards everything.
impl LedgerSink for () {
    fn expired(&mut self, _: &Expiry) {}
    fn batch_closed(&mut self, _: BatchReport) {}
}

/// The ledger's state at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerSummary {
    /// Σ positions: zero.
    pub positions_sum: i128,
    /// The state hash.
    pub state_hash: StateHash,
    /// The current (open) batch's number.
    pub batch_number: u64,
    /// Holds pending.
    pub pending_count: usize,
    /// Finished payments in the window (both generations).
    pub window_count: usize,
    /// The ledger's clock, event time.
    pub clock_ns: u64,
}

/// The allocated sizes of the ledger's tables; constant from construction on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableCapacities {
    /// The most holds pending at once, and the hold slab's allocated entries.
    pub holds: (usize, usize),
    /// The slots of the two window generations.
    pub window: (usize, usize),
}

/// One participant's totals in the open batch.
#[derive(Clone, Copy, Debug, Default)]
struct Totals {
    count: u64,
    debit_fen: u128,
    credit_fen: u128,
}

/// The ledger: see the module documentation.
pub struct Ledger {
    config: LedgerConfig,
    /// The clock: the largest `event_ns` seen.
    clock_ns: u64,
    /// The open batch, from 1.
    batch_number: u64,
    /// Per participant id: its position in the open batch, fen.
    positions: Box<[i128]>,
    /// Per participant id: the sum of the pending holds it is debtor of, fen.
    pending_fen: Box<[i128]>,
    /// Per participant id: its cap, fen; 0 for ids not in the network.
    caps_fen: Box<[i128]>,
    /// Per participant id: its totals in the open batch.
    totals: Box<[Totals]>,
    /// The ids with a posting in the open batch, in first-posting order (`PARTICIPANT_SLOTS`
    /// reserved): the only positions that can be non-zero.
    posted: Vec<ParticipantId>,
    /// Per participant id: its name, for reports.
    names: Box<[String]>,
    holds: Holds,
    window: Window,
    /// When the window's generations turn, from the input alone.
    schedule: WindowSchedule,
    /// The window's own turns: its current generation's start (event time) and first sequence,
    /// and the schedule's turns it has followed.
    window_turn: WindowTurn,
    /// The sequence of the event being applied.
    sequence: u64,
    /// With a store: what the prefetch loaded, in sequence order, and how far the store has
    /// written (the window drops a generation only once the store holds all it finished).
    store: Option<StoreLink>,
    /// The [`Network::fingerprint`] of the network it was built for: what saved state names.
    network_fingerprint: [u8; 32],
}

/// The window's own turns (it may follow the schedule late, never early).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct WindowTurn {
    /// When its current generation started, event time.
    pub start_ns: u64,
    /// The first sequence its current generation took.
    pub first_sequence: u64,
    /// The first sequence its previous generation took: every payment finished before it and no
    /// longer in memory is in the store.
    pub previous_first_sequence: u64,
    /// The schedule's turn count it has followed.
    pub turns_followed: u64,
    /// Turns it made later than the schedule, waiting for the store.
    pub late_turns: u64,
}

/// The ledger's end of its store.
struct StoreLink {
    loads: rtrb::Consumer<Loaded>,
    through: Arc<AtomicU64>,
    /// The sequence of the event the prefetch last read the store for (or is reading it for).
    prefetching: Arc<AtomicU64>,
    /// Once the store holds what a due turn drops: the prefetch's position then. The prefetch
    /// may have read the store for events up to it before the store held those payments, so the
    /// turn waits until the ledger is past it.
    drop_after: Option<u64>,
}

impl Ledger {
    /// A ledger for `network` with every table allocated now.
    pub fn new(network: &Network, config: LedgerConfig) -> Ledger {
        assert!(config.holds_capacity > 0 && config.window_capacity > 0);
        let mut caps_fen = vec![0i128; PARTICIPANT_SLOTS].into_boxed_slice();
        let mut names = vec![String::new(); PARTICIPANT_SLOTS].into_boxed_slice();
        for participant in &network.participants {
            assert!(
                participant.id.in_range(),
                "{:?} out of range",
                participant.id
            );
            caps_fen[participant.id.index()] = i128::from(participant.cap_fen);
            names[participant.id.index()] = participant.name.clone();
        }
        Ledger {
            config,
            clock_ns: 0,
            batch_number: 1,
            positions: vec![0; PARTICIPANT_SLOTS].into_boxed_slice(),
            pending_fen: vec![0; PARTICIPANT_SLOTS].into_boxed_slice(),
            caps_fen,
            totals: vec![Totals::default(); PARTICIPANT_SLOTS].into_boxed_slice(),
            posted: Vec::with_capacity(PARTICIPANT_SLOTS),
            names,
            holds: Holds::with_capacity(config.holds_capacity),
            window: Window::with_capacity(config.window_capacity),
            schedule: config.schedule(),
            window_turn: WindowTurn::default(),
            sequence: 0,
            store: None,
            network_fingerprint: network.fingerprint(),
        }
    }

    /// Connects the ledger to its store: `loads` brings what the prefetch found, in sequence
    /// order; `through` is how far the store has written (events below it); `prefetching` is the
    /// sequence of the event the prefetch last read the store for
    /// ([`Prefetch::new`](super::Prefetch::new) publishes it).
    pub fn attach_store(
        &mut self,
        loads: rtrb::Consumer<Loaded>,
        through: Arc<AtomicU64>,
        prefetching: Arc<AtomicU64>,
    ) {
        self.store = Some(StoreLink {
            loads,
            through,
            prefetching,
            drop_after: None,
        });
    }

    /// Disconnects the store (a ledger rebuilt with one, handed to a pipeline that attaches its
    /// own).
    pub fn detach_store(&mut self) {
        self.store = None;
    }

    /// How far a store must have been written for this ledger to carry on from it: every payment
    /// that finished before this sequence and has left memory is only in the store.
    pub fn store_needed_through(&self) -> u64 {
        self.window_turn.previous_first_sequence
    }

    /// The window's schedule as it stands: a prefetch stage starts from a copy.
    pub fn schedule(&self) -> WindowSchedule {
        self.schedule
    }

    /// Whether the window has a turn due that only the store's progress holds back: a driver
    /// that runs the store writer on the ledger's own thread writes now.
    pub fn waits_for_store(&self) -> bool {
        self.store.is_some()
            && self.schedule.turns > self.window_turn.turns_followed
            && self.schedule.previous_start_ns >= self.window_turn.start_ns
    }

    /// Events at which a turn the schedule made waited: for the store to catch up, or for the
    /// ledger to pass the events the prefetch read the store for before it had.
    pub fn late_window_turns(&self) -> u64 {
        self.window_turn.late_turns
    }

    /// Follows the schedule's turn when the window may: its current generation started no later
    /// than the schedule's previous one (so it keeps at least what the schedule promises), the
    /// store has written everything the generation it drops finished, and every event the
    /// prefetch read the store for before then is behind the ledger.
    #[inline]
    fn follow_schedule(&mut self) {
        if self.schedule.turns <= self.window_turn.turns_followed
            || self.schedule.previous_start_ns < self.window_turn.start_ns
        {
            return;
        }
        if let Some(store) = &mut self.store {
            if store.through.load(Ordering::SeqCst) < self.window_turn.first_sequence {
                self.window_turn.late_turns += 1;
                return;
            }
            // The prefetch's reads from here on see what the store now holds; those it made
            // before may not have, so the dropped generation must outlive their events.
            let after = *store
                .drop_after
                .get_or_insert_with(|| store.prefetching.load(Ordering::SeqCst));
            if self.sequence <= after {
                self.window_turn.late_turns += 1;
                return;
            }
            store.drop_after = None;
        }
        let carried = self.holds.iter().flat_map(|hold| {
            let original = (hold.kind == Kind::Refund).then_some(hold.original);
            std::iter::once(hold.txn_id).chain(original)
        });
        self.window.advance(self.holds.len(), carried);
        self.window_turn.previous_first_sequence = self.window_turn.first_sequence;
        self.window_turn.start_ns = self.clock_ns;
        self.window_turn.first_sequence = self.sequence;
        self.window_turn.turns_followed = self.schedule.turns;
    }

    /// Takes what the prefetch loaded for the event at `sequence`: for its own id, and for its
    /// original.
    #[inline]
    fn take_loads(&mut self, sequence: u64) -> (Option<Loaded>, Option<Loaded>) {
        let Some(store) = &mut self.store else {
            return (None, None);
        };
        let (mut own, mut original) = (None, None);
        while let Ok(loaded) = store.loads.peek() {
            if loaded.sequence > sequence {
                break;
            }
            let loaded = store.loads.pop().expect("peeked");
            debug_assert_eq!(loaded.sequence, sequence, "a load for an event passed by");
            if loaded.sequence == sequence {
                if loaded.for_original {
                    original = Some(loaded);
                } else {
                    own = Some(loaded);
                }
            }
        }
        (own, original)
    }

    /// Applies one event: moves the clock, expires what is due, then acts on the event and
    /// writes `outcome`, `original`, `institution`, `sent_ns` (and a ledger decline) into
    /// `results`. `results` arrives with authorize's and route's fields set.
    pub fn apply(&mut self, event: &Event, results: &mut Results, sink: &mut impl LedgerSink) {
        self.clock_ns = self.clock_ns.max(event.event_ns);
        self.sequence = event.sequence;
        self.schedule.observe(event);
        self.follow_schedule();
        let loads = self.take_loads(event.sequence);
        self.expire_due(sink);
        if !results.passed() {
            results.outcome = Outcome::Rejected;
            if event.kind.is_payment() {
                results.institution = event.sender;
                results.sent_ns = event.sent_ns;
            }
            return;
        }
        match event.kind {
            Kind::AgreementDebit | Kind::GatewayDebit | Kind::PayoutCredit | Kind::Refund => {
                results.institution = event.sender;
                results.sent_ns = event.sent_ns;
                match self.pay(event, results.bank, loads) {
                    Ok(outcome) => results.outcome = outcome,
                    Err(Answer::Exists(original)) => {
                        results.outcome = Outcome::Exists;
                        results.original = original;
                    }
                    Err(Answer::Decline(decline)) => reject(results, decline),
                }
            }
            Kind::BankReply => self.reply(event, results, loads.0, sink),
            Kind::Cutover => {
                self.cutover(sink);
                results.outcome = Outcome::BatchClosed;
            }
            Kind::ParticipantStatus | Kind::LinkStatus | Kind::RouteChange => {
                results.outcome = Outcome::Applied;
            }
        }
    }

    /// Voids, oldest first, every hold whose deadline the clock has reached.
    #[inline]
    fn expire_due(&mut self, sink: &mut impl LedgerSink) {
        while let Some(position) = self.holds.oldest() {
            if self.holds.get(position).deadline_ns > self.clock_ns {
                return;
            }
            let hold = self.holds.remove(position);
            let Probe::Found(index) = self.window.probe_current(hold.txn_id) else {
                unreachable!("a pending payment is in the current generation");
            };
            self.void(&hold, Outcome::Expired, index, sink);
            sink.expired(&Expiry {
                txn_id: hold.txn_id,
                institution: hold.institution,
                bank: hold.bank,
                amount_fen: hold.amount_fen,
                sent_ns: hold.sent_ns,
            });
        }
    }

    /// A payment that passed authorize and route, routed to `bank`: its id's time, idempotency,
    /// refund, liquidity and capacity checks, then the hold. `loads`: what the prefetch found in
    /// the store for its id and its original.
    #[inline]
    fn pay(
        &mut self,
        event: &Event,
        bank: ParticipantId,
        loads: (Option<Loaded>, Option<Loaded>),
    ) -> Result<Outcome, Answer> {
        if let Some(memory) = self.config.memory {
            memory
                .judge(event.txn_id, self.clock_ns)
                .map_err(Answer::Decline)?;
        }
        let fingerprint = fingerprint(event);
        let vacant = match self.window.probe_current(event.txn_id) {
            Probe::Found(index) => {
                return Err(repeat(&self.window.current_record(index), fingerprint));
            }
            Probe::Vacant(index) => index,
        };
        if let Some(finished) = self.window.previous_finished(event.txn_id) {
            return Err(repeat(&finished, fingerprint));
        }
        if let Some(loaded) = loads.0 {
            debug_assert_eq!(loaded.payment.txn_id, event.txn_id);
            return Err(repeat(&stored_record(&loaded.payment, 0), fingerprint));
        }
        let mut original = None;
        if event.kind == Kind::Refund {
            original = Some(self.check_refund(event, loads.1)?);
        }
        let hold = Hold {
            txn_id: event.txn_id,
            original: event.original,
            amount_fen: event.amount_fen,
            deadline_ns: self.clock_ns.saturating_add(self.config.bank_timeout_ns),
            sent_ns: event.sent_ns,
            kind: event.kind,
            institution: event.sender,
            bank,
        };
        let (debtor, creditor) = (hold.debtor(), hold.creditor());
        if !debtor.in_range() || !creditor.in_range() {
            // Authorize and route let no such id through; a participant the tables cannot hold
            // has no cap.
            return Err(Answer::Decline(Decline::InsufficientLiquidity));
        }
        let debtor_index = debtor.index();
        let exposure = -self.positions[debtor_index]
            + self.pending_fen[debtor_index]
            + i128::from(event.amount_fen);
        if exposure > self.caps_fen[debtor_index] {
            return Err(Answer::Decline(Decline::InsufficientLiquidity));
        }
        // The current generation holds the pending payments and those touched since it began; a
        // refund also brings its original into it.
        let records = if original.is_some() { 2 } else { 1 };
        if self.holds.is_full() || self.window.current_len() + records > self.config.window_capacity
        {
            return Err(Answer::Decline(Decline::LedgerFull));
        }
        self.pending_fen[debtor_index] += i128::from(event.amount_fen);
        let vacant = match original {
            Some(original) => {
                // The original comes into the current generation (from the previous one or
                // the store), so it stays in memory while the refund is pending; its slot may
                // be where this id was to go, so probe again.
                self.window.bring_to_current(&original);
                *self
                    .window
                    .refundable_mut(event.original)
                    .expect("the refund's original was just brought in") -= event.amount_fen;
                match self.window.probe_current(event.txn_id) {
                    Probe::Vacant(index) => index,
                    Probe::Found(_) => unreachable!("{:?} was vacant", event.txn_id),
                }
            }
            None => vacant,
        };
        let position = self.holds.insert(hold);
        self.window.place(
            vacant,
            &Record {
                txn_id: event.txn_id,
                fingerprint,
                value: u64::from(position),
                outcome: Outcome::Forwarded,
                kind: event.kind,
                institution: event.sender,
            },
        );
        Ok(Outcome::Forwarded)
    }

    /// The refund rules: the original is a finished, approved debit of this sender, within
    /// retention, with enough left to refund. Returns the original's record as it stands (from
    /// the window, or from the store through `loaded`).
    fn check_refund(&self, event: &Event, loaded: Option<Loaded>) -> Result<Record, Answer> {
        if let Some(memory) = self.config.memory {
            match memory.judge(event.original, self.clock_ns) {
                Err(Decline::TxnIdBeyondRetention) => {
                    return Err(Answer::Decline(Decline::OriginalBeyondRetention))
                }
                Err(_) => return Err(Answer::Decline(Decline::RefundOfUnknownPayment)),
                Ok(_) => {}
            }
        }
        let found = self.window.finished(event.original).or_else(|| {
            loaded.map(|loaded| {
                debug_assert_eq!(loaded.payment.txn_id, event.original);
                let refundable_fen = if loaded.payment.is_refundable() {
                    loaded
                        .payment
                        .amount_fen
                        .saturating_sub(loaded.refunded_fen)
                } else {
                    0
                };
                stored_record(&loaded.payment, refundable_fen)
            })
        });
        let Some(original) = found else {
            return Err(Answer::Decline(if self.window.is_pending(event.original) {
                Decline::RefundOfUnapprovedPayment
            } else {
                Decline::RefundOfUnknownPayment
            }));
        };
        let decline = if original.outcome != Outcome::Approved || !original.kind.is_debit() {
            Decline::RefundOfUnapprovedPayment
        } else if original.institution != event.sender {
            Decline::RefundOfOtherInstitution
        } else if original.value < event.amount_fen {
            Decline::RefundExceedsOriginal
        } else {
            return Ok(original);
        };
        Err(Answer::Decline(decline))
    }

    /// A bank's reply: posts or voids the hold it answers.
    #[inline]
    fn reply(
        &mut self,
        event: &Event,
        results: &mut Results,
        loaded: Option<Loaded>,
        sink: &mut impl LedgerSink,
    ) {
        let index = match self.window.probe_current(event.txn_id) {
            Probe::Found(index) => index,
            Probe::Vacant(_) => {
                // Finished, in memory or (loaded by the prefetch) in the store.
                if self.window.previous_finished(event.txn_id).is_some() || loaded.is_some() {
                    results.outcome = Outcome::LateReply;
                } else {
                    reject(results, Decline::ReplyForUnknownPayment);
                }
                return;
            }
        };
        let Some(position) = self.window.pending_position(index) else {
            results.outcome = Outcome::LateReply;
            return;
        };
        if self.holds.get(position).bank != event.sender {
            reject(results, Decline::ReplyFromWrongBank);
            return;
        }
        let hold = self.holds.remove(position);
        results.institution = hold.institution;
        results.sent_ns = hold.sent_ns;
        if event.code == REPLY_APPROVE {
            self.post(&hold, index, sink);
            results.outcome = Outcome::Approved;
        } else {
            self.void(&hold, Outcome::Declined, index, sink);
            results.outcome = Outcome::Declined;
        }
    }

    /// Posts an approved hold (already out of the table) and records it finished in its record,
    /// the current generation's slot `index`.
    #[inline]
    fn post(&mut self, hold: &Hold, index: usize, sink: &mut impl LedgerSink) {
        let amount = i128::from(hold.amount_fen);
        let (debtor, creditor) = (hold.debtor(), hold.creditor());
        self.pending_fen[debtor.index()] -= amount;
        self.positions[debtor.index()] -= amount;
        self.positions[creditor.index()] += amount;
        self.count_posting(debtor, |totals| totals.debit_fen += amount as u128);
        self.count_posting(creditor, |totals| totals.credit_fen += amount as u128);
        let refundable_fen = if hold.kind.is_debit() {
            hold.amount_fen
        } else {
            0
        };
        self.window.finish(index, Outcome::Approved, refundable_fen);
        self.finished(hold, Outcome::Approved, index, sink);
    }

    /// Tells the sink that the payment in the current generation's slot `index` finished.
    #[inline]
    fn finished(&self, hold: &Hold, outcome: Outcome, index: usize, sink: &mut impl LedgerSink) {
        sink.payment_finished(&StoredPayment {
            txn_id: hold.txn_id,
            original: hold.original,
            fingerprint: self.window.current_record(index).fingerprint,
            amount_fen: hold.amount_fen,
            outcome,
            kind: hold.kind,
            institution: hold.institution,
            bank: hold.bank,
            batch: self.batch_number,
            finished_sequence: self.sequence,
            finished_ns: self.clock_ns,
        });
    }

    /// Counts one posting in `participant`'s batch totals.
    #[inline]
    fn count_posting(&mut self, participant: ParticipantId, add: impl FnOnce(&mut Totals)) {
        let totals = &mut self.totals[participant.index()];
        if totals.count == 0 {
            self.posted.push(participant);
        }
        totals.count += 1;
        add(totals);
    }

    /// Voids a hold (already out of the table) as declined or expired: releases the debtor's
    /// pending sum and a refund's reservation, and records it finished in its record, the
    /// current generation's slot `index`.
    #[inline]
    fn void(&mut self, hold: &Hold, outcome: Outcome, index: usize, sink: &mut impl LedgerSink) {
        self.pending_fen[hold.debtor().index()] -= i128::from(hold.amount_fen);
        if hold.kind == Kind::Refund {
            // A pending refund's original is carried with it from generation to generation.
            if let Some(refundable_fen) = self.window.refundable_mut(hold.original) {
                *refundable_fen += hold.amount_fen;
            }
        }
        self.window.finish(index, outcome, 0);
        self.finished(hold, outcome, index, sink);
    }

    /// Closes the batch: the report, then positions and totals reset, the batch number up, the
    /// window moved. Allocates the report (control plane, once per batch).
    fn cutover(&mut self, sink: &mut impl LedgerSink) {
        let mut posted = std::mem::take(&mut self.posted);
        posted.sort_unstable();
        let rows = posted
            .iter()
            .map(|&participant| {
                let index = participant.index();
                let totals = self.totals[index];
                let net_fen = self.positions[index];
                debug_assert_eq!(
                    net_fen,
                    totals.credit_fen as i128 - totals.debit_fen as i128
                );
                BatchRow {
                    participant,
                    name: self.names[index].clone(),
                    count: totals.count,
                    debit_fen: totals.debit_fen,
                    credit_fen: totals.credit_fen,
                    net_fen,
                    direction: Direction::of(net_fen),
                }
            })
            .collect();
        let report = BatchReport {
            batch: self.batch_number,
            closed_at_ns: self.clock_ns,
            rows,
        };
        debug_assert_eq!(report.net_sum(), 0);
        for participant in posted.drain(..) {
            self.positions[participant.index()] = 0;
            self.totals[participant.index()] = Totals::default();
        }
        self.posted = posted;
        self.batch_number += 1;
        sink.batch_closed(report);
    }

    /// Σ of all positions: zero after every event. Sums only the participants with a posting in
    /// the open batch, the only ones whose position can be non-zero.
    pub fn positions_sum(&self) -> i128 {
        self.posted
            .iter()
            .map(|participant| self.positions[participant.index()])
            .sum()
    }

    /// `participant`'s position in the open batch, fen.
    pub fn position(&self, participant: ParticipantId) -> i128 {
        self.positions
            .get(participant.index())
            .copied()
            .unwrap_or(0)
    }

    /// The sum of the pending holds `participant` is debtor of, fen.
    pub fn pending_fen(&self, participant: ParticipantId) -> i128 {
        self.pending_fen
            .get(participant.index())
            .copied()
            .unwrap_or(0)
    }

    /// The open batch's number, from 1.
    pub fn batch_number(&self) -> u64 {
        self.batch_number
    }

    /// Holds pending.
    pub fn pending_count(&self) -> usize {
        self.holds.len()
    }

    /// Finished payments in the window, both generations.
    pub fn window_count(&self) -> usize {
        self.window.finished_count(self.holds.len())
    }

    /// The clock: the largest event time seen.
    pub fn clock_ns(&self) -> u64 {
        self.clock_ns
    }

    /// The configuration it was built with.
    pub fn config(&self) -> LedgerConfig {
        self.config
    }

    /// The [`Network::fingerprint`] of the network it was built for.
    pub fn network_fingerprint(&self) -> [u8; 32] {
        self.network_fingerprint
    }

    /// The allocated sizes of the tables.
    pub fn table_capacities(&self) -> TableCapacities {
        TableCapacities {
            holds: self.holds.capacities(),
            window: self.window.capacities(),
        }
    }

    /// The state hash in docs/SWITCH.md's serialization. Sorts the holds: a control-plane read.
    pub fn state_hash(&self) -> StateHash {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&self.batch_number.to_le_bytes());
        let mut posted = self.posted.clone();
        posted.sort_unstable();
        for participant in posted {
            let position = self.positions[participant.index()];
            if position != 0 {
                bytes.extend_from_slice(&participant.0.to_le_bytes());
                bytes.extend_from_slice(&position.to_le_bytes());
            }
        }
        let mut holds: Vec<&Hold> = self.holds.iter().collect();
        holds.sort_unstable_by_key(|hold| hold.txn_id);
        for hold in holds {
            bytes.extend_from_slice(&hold.txn_id.0.to_le_bytes());
            bytes.extend_from_slice(&hold.debtor().0.to_le_bytes());
            bytes.extend_from_slice(&hold.creditor().0.to_le_bytes());
            bytes.extend_from_slice(&hold.amount_fen.to_le_bytes());
            bytes.extend_from_slice(&hold.deadline_ns.to_le_bytes());
        }
        StateHash::of(&bytes)
    }

    /// The state at a glance.
    pub fn summary(&self) -> LedgerSummary {
        LedgerSummary {
            positions_sum: self.positions_sum(),
            state_hash: self.state_hash(),
            batch_number: self.batch_number,
            pending_count: self.pending_count(),
            window_count: self.window_count(),
            clock_ns: self.clock_ns,
        }
    }
}

/// Why a payment got no hold.
enum Answer {
    /// The same payment already finished with this outcome.
    Exists(Outcome),
    /// Refused.
    Decline(Decline),
}

/// The answer to a payment whose id already has a record: a repeat of a pending or finished
/// payment, or another payment under its id.
#[inline]
fn repeat(record: &Record, fingerprint: u64) -> Answer {
    if record.fingerprint != fingerprint {
        Answer::Decline(Decline::ExistsWithDifferentFields)
    } else if record.is_pending() {
        Answer::Decline(Decline::DuplicateInFlight)
    } else {
        Answer::Exists(record.outcome)
    }
}

/// A stored payment as a finished window record, with `refundable_fen` left to refund.
#[inline]
fn stored_record(payment: &StoredPayment, refundable_fen: u64) -> Record {
    Record {
        txn_id: payment.txn_id,
        fingerprint: payment.fingerprint,
        value: refundable_fen,
        outcome: payment.outcome,
        kind: payment.kind,
        institution: payment.institution,
    }
}

/// Writes a ledger decline.
#[inline]
fn reject(results: &mut Results, decline: Decline) {
    results.refuse(decline);
    results.outcome = Outcome::Rejected;
}

/// The ledger as a pipeline stage: applies each event and hands expiries, batch reports and, at
/// shutdown, the summary to its sink.
pub struct LedgerStage<S: LedgerSink> {
    ledger: Ledger,
    sink: S,
}

impl<S: LedgerSink> LedgerStage<S> {
    /// The stage over `ledger`, reporting to `sink`.
    pub fn new(ledger: Ledger, sink: S) -> Self {
        LedgerStage { ledger, sink }
    }

    /// The ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The sink.
    pub fn sink(&mut self) -> &mut S {
        &mut self.sink
    }
}

impl<S: LedgerSink + Send> Handler<Event, Results> for LedgerStage<S> {
    #[inline]
    fn on_event(
        &mut self,
        event: &Event,
        results: &mut Results,
        _sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        self.ledger.apply(event, results, &mut self.sink);
        if cfg!(debug_assertions) && end_of_batch {
            let sum = self.ledger.positions_sum();
            if sum != 0 {
                return Err(StageFault::new(format!(
                    "ledger: Σ positions is {sum}, not 0"
                )));
            }
        }
        Ok(())
    }

    fn on_shutdown(&mut self) {
        let summary = self.ledger.summary();
        self.sink.finished(summary);
    }
}
