//! [`Institutions`]: the payment institutions' simulator. It draws each payment's sender, kind,
//! amount and account, signs it with the sender's key, and now and then makes one of the
//! mistakes of [`Fault`] on purpose.

use clearway_core::event::{Event, Kind, MacKey, ParticipantId, TxnId, PAYMENT_KIND_COUNT};
use clearway_core::network::Network;
use rand::{rngs::SmallRng, Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal};

use crate::accounts::AccountPools;
use crate::config::WorkloadConfig;
use crate::constants::{
    DUPLICATE_CHANGED_AMOUNT_EVERY, DUPLICATE_WINDOW_CAPACITY, HORIZON_DRAW_TRIES,
    HORIZON_REFUND_SLOTS, HORIZON_RESEND_SLOTS, NEVER_SENT_SEQUENCE_BIT, NS_PER_S,
};
use crate::fault::{Fault, FaultCounts};
use crate::horizon::{HorizonSample, Usable};
use crate::refund_window::{RefundWindow, Refundable};
use crate::zipf::Zipf;

/// Every payment institution of a network, sending as one stream. Built once (keys, account
/// pools, windows all pre-sized); [`Institutions::next_payment`] then allocates nothing.
///
/// The sender of a payment is drawn by Zipf over the institutions that can send it, in id order
/// (rank 1 is the lowest id). An institution that may send no debit and no payout (with a
/// positive weight in the kind mix) never sends: its refunds would have no originals.
///
/// Every transaction id carries the second it was made on the wall clock,
/// `TxnId::at((epoch_unix_ns + intended_ns) / 1e9, sequence)`, with the config's epoch.
///
/// A refund is sent by the institution that sent its original: when a sender draws a refund, an
/// original is drawn from the debits of refund-capable institutions sent at least
/// `refund_delay_ns` before (and, with a horizon, within the last `horizon_s`), and the refund
/// goes out under the original's sender. With no such debit (or one already refunded in full)
/// the sender sends a debit or payout instead ([`Institutions::refunds_without_original`] counts
/// these). The generator does not know which debits the bank approved: it relies on the delay,
/// longer than a healthy bank takes, and a refund of a declined or still pending debit is refused
/// by the switch as it should be.
///
/// Without a horizon (`horizon_s` 0), resends are of the last [`DUPLICATE_WINDOW_CAPACITY`]
/// well-formed payments and refunds of the debits in the refund window (the last
/// `refund_window_capacity`). With one, each resend and refund draws a moment uniformly over the
/// horizon (a refund, up to `refund_delay_ns` ago) and names a payment sent then: from the refund
/// window when it still holds that moment, else from bounded samples of older payments
/// ([`crate::constants::HORIZON_BUCKETS`] spans of the horizon,
/// [`HORIZON_RESEND_SLOTS`] payments and [`HORIZON_REFUND_SLOTS`] debits each). A debit in the
/// refund sample is refunded at most once more, and each span releases its debits evenly over the
/// horizon, so refunds that reach past the refund window are spread evenly over the horizon's
/// ages however many ask; a refund that finds nothing released names a debit of the refund
/// window instead. A draw that finds nothing in the samples falls back the same way.
pub struct Institutions {
    senders: Vec<Sender>,
    sender_zipf: Zipf,
    /// The highest-ranked sender that may send refunds: unknown-refund faults from a sender that
    /// may not are sent by it instead.
    first_refund_sender: Option<usize>,
    accounts: AccountPools,
    amount: LogNormal<f64>,
    /// Cumulative fault rates in [`Fault::ALL`] order: a uniform draw below `thresholds[i]`
    /// (and not below the one before) injects `Fault::ALL[i]`.
    fault_thresholds: [f64; 5],
    ids: IdClock,
    refund_delay_ns: u64,
    /// How far back resends and refunds reach, in ns of intended time; 0 for no horizon.
    horizon_ns: u64,
    refunds: RefundWindow,
    /// Debits that left the refund window, sampled over the horizon (empty without one).
    refunds_past: HorizonSample<Refundable>,
    /// Well-formed payments and their senders' indexes, sampled over the horizon (empty
    /// without one).
    resends: HorizonSample<(Event, usize)>,
    /// Recent well-formed payments and their senders' indexes, a ring of
    /// [`DUPLICATE_WINDOW_CAPACITY`] slots.
    recent: Vec<(Event, usize)>,
    /// The slot of `recent` the next payment goes to.
    recent_next: usize,
    /// The sequence of the next transaction id; ids are never reused.
    sequence_next: u128,
    /// How far the sequence moves per id: the number of partitions side by side.
    sequence_stride: u128,
    rng: SmallRng,
    injected: FaultCounts,
    sent: u64,
    refunds_without_original: u64,
}

impl std::fmt::Debug for Institutions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Institutions")
            .field("senders", &self.senders.len())
            .field("reachable_banks", &self.accounts.banks().len())
            .field("sent", &self.sent)
            .field("injected", &self.injected)
            .finish_non_exhaustive()
    }
}

/// An institution that sends.
#[derive(Debug)]
struct Sender {
    id: ParticipantId,
    key: MacKey,
    limits_fen: [u64; PAYMENT_KIND_COUNT],
    /// Its kinds by the mix, refunds included.
    kinds: KindTable,
    /// Its kinds by the mix without refunds: what it sends when it has nothing to refund, and
    /// what faults other than unknown-refund use.
    kinds_without_refund: KindTable,
    may_refund: bool,
}

/// A choice among payment kinds by weight.
#[derive(Clone, Copy, Debug)]
struct KindTable {
    /// P(kind index ≤ i); a kind that may not be sent adds nothing.
    cumulative: [f64; PAYMENT_KIND_COUNT],
    /// The highest-index kind with weight, returned when rounding leaves a draw past the end.
    last: Kind,
}

impl KindTable {
    /// The table over the kinds `allowed` with a positive weight; `None` if there are none.
    fn new(
        weights: [f64; PAYMENT_KIND_COUNT],
        allowed: impl Fn(Kind) -> bool,
    ) -> Option<KindTable> {
        let mut cumulative = [0.0; PAYMENT_KIND_COUNT];
        let mut sum = 0.0;
        let mut last = None;
        for (index, kind) in Kind::PAYMENTS.into_iter().enumerate() {
            if allowed(kind) && weights[index] > 0.0 {
                sum += weights[index];
                last = Some(kind);
            }
            cumulative[index] = sum;
        }
        let last = last?;
        for value in &mut cumulative {
            *value /= sum;
        }
        Some(KindTable { cumulative, last })
    }

    #[inline]
    fn sample<R: Rng>(&self, rng: &mut R) -> Kind {
        let uniform: f64 = rng.gen();
        Kind::PAYMENTS
            .into_iter()
            .zip(self.cumulative)
            .find(|&(_, cumulative)| uniform < cumulative)
            .map_or(self.last, |(kind, _)| kind)
    }
}

/// The date-and-second part of transaction ids: `TxnId::at`'s top 49 bits for the second of the
/// wall clock an intended time falls in, worked out once a second and reused within it.
#[derive(Debug)]
struct IdClock {
    /// The wall-clock time, ns since 1970 UTC, at intended time 0.
    epoch_unix_ns: u64,
    /// The wall-clock time, ns since 1970 UTC, at which the second `high` is for starts.
    second_start_ns: u64,
    /// `TxnId::at(that second, 0)`: the date and second, sequence 0.
    high: u128,
}

impl IdClock {
    fn new(epoch_unix_ns: u64) -> IdClock {
        let mut clock = IdClock {
            epoch_unix_ns,
            second_start_ns: 0,
            high: 0,
        };
        clock.turn(epoch_unix_ns);
        clock
    }

    /// The date-and-second bits of an id made at `intended_ns`.
    #[inline]
    fn high_bits(&mut self, intended_ns: u64) -> u128 {
        let unix_ns = self.epoch_unix_ns.saturating_add(intended_ns);
        if unix_ns.wrapping_sub(self.second_start_ns) >= NS_PER_S {
            self.turn(unix_ns);
        }
        self.high
    }

    #[cold]
    fn turn(&mut self, unix_ns: u64) {
        let unix_s = unix_ns / NS_PER_S;
        self.second_start_ns = unix_s * NS_PER_S;
        self.high = TxnId::at(unix_s, 0).0;
    }
}

/// The sequence bits a sent id keeps: below [`NEVER_SENT_SEQUENCE_BIT`], so within the 79 bits
/// `TxnId::at` keeps and never carrying the never-sent bit.
const SENT_SEQUENCE_MASK: u128 = NEVER_SENT_SEQUENCE_BIT - 1;

/// A payment drawn but not yet signed or recorded.
struct Drawn {
    event: Event,
    sender_index: usize,
}

impl Institutions {
    /// The institutions of `network` sending the traffic `config` describes, every draw from
    /// `seed`: the same network, config and seed give the same payments.
    ///
    /// # Panics
    ///
    /// If `config` does not pass [`WorkloadConfig::validate`], if no institution can send, or
    /// if no bank has an account a payment could be routed to: a workload that can send nothing
    /// is a mistake in its setup.
    pub fn new(network: &Network, config: &WorkloadConfig, seed: u64) -> Institutions {
        if let Err(error) = config.validate() {
            panic!("workload config: {error}");
        }
        let mut rng = SmallRng::seed_from_u64(seed);
        let weights = config.kind_mix.weights();
        let senders: Vec<Sender> = network
            .institutions()
            .filter_map(|institution| {
                let allowed = |kind: Kind| {
                    institution.kinds.contains(kind)
                        && kind
                            .payment_index()
                            .is_some_and(|index| institution.limits_fen[index] > 0)
                };
                let kinds_without_refund =
                    KindTable::new(weights, |kind| kind != Kind::Refund && allowed(kind))?;
                Some(Sender {
                    id: institution.id,
                    key: institution.mac_key(),
                    limits_fen: institution.limits_fen,
                    kinds: KindTable::new(weights, allowed)?,
                    kinds_without_refund,
                    may_refund: allowed(Kind::Refund),
                })
            })
            .collect();
        assert!(
            !senders.is_empty(),
            "no institution may send a debit or payout"
        );
        let accounts = AccountPools::new(
            network,
            config.accounts_per_bank,
            config.skew.banks,
            config.skew.accounts,
            &mut rng,
        );
        assert!(
            !accounts.is_empty(),
            "no bank has an account that routes to it"
        );
        let mut fault_thresholds = config.faults.rates();
        for index in 1..fault_thresholds.len() {
            fault_thresholds[index] += fault_thresholds[index - 1];
        }
        // Validated: finite, 0 to a day.
        let horizon_ns = (config.horizon_s * NS_PER_S as f64) as u64;
        let no_debit = Refundable {
            txn_id: TxnId::NONE,
            sender_index: 0,
            account: clearway_core::event::Account::EMPTY,
            remaining_fen: 0,
            sent_ns: 0,
        };
        let no_payment = Event::payment(
            Kind::AgreementDebit,
            TxnId::NONE,
            ParticipantId(0),
            clearway_core::event::Account::EMPTY,
            0,
            0,
        );
        Institutions {
            sender_zipf: Zipf::new(senders.len(), config.skew.institutions),
            first_refund_sender: senders.iter().position(|sender| sender.may_refund),
            senders,
            accounts,
            amount: LogNormal::new((config.amount.median_fen as f64).ln(), config.amount.sigma)
                .expect("sigma was validated"),
            fault_thresholds,
            ids: IdClock::new(config.epoch_unix_ns),
            refund_delay_ns: config.refund_delay_ns,
            horizon_ns,
            refunds: RefundWindow::new(config.refund_window_capacity),
            refunds_past: HorizonSample::new(horizon_ns, HORIZON_REFUND_SLOTS, no_debit),
            resends: HorizonSample::new(horizon_ns, HORIZON_RESEND_SLOTS, (no_payment, 0)),
            recent: Vec::with_capacity(DUPLICATE_WINDOW_CAPACITY),
            recent_next: 0,
            sequence_next: 1,
            sequence_stride: 1,
            rng,
            injected: FaultCounts::default(),
            sent: 0,
            refunds_without_original: 0,
        }
    }

    /// This simulator as partition `index` of `count` running side by side (one per producer
    /// thread): its transaction ids are those whose sequence is `index + 1` modulo `count`, so
    /// partitions never reuse each other's ids. Give each partition its own seed.
    ///
    /// # Panics
    ///
    /// If `index` is not below `count`.
    pub fn partition(mut self, index: u32, count: u32) -> Institutions {
        assert!(index < count, "partition {index} of {count}");
        self.sequence_next = 1 + u128::from(index);
        self.sequence_stride = u128::from(count);
        self
    }

    /// This simulator with its transaction id sequences moved up by `offset`: a durable node's
    /// journal remembers every id it was sent, so each start of a run against the same data
    /// directory numbers from its own range (`start << 64`) and does not repeat an earlier
    /// start's ids.
    ///
    /// Sequences are taken modulo [`NEVER_SENT_SEQUENCE_BIT`] (2^78, within the 79 bits an id
    /// keeps), and so is `offset`: an offset at or above it wraps, and its bits from 78 up are
    /// lost. Two offsets that differ only there give the same sequences; their ids still differ
    /// when made at different seconds, since every id carries its second.
    pub fn numbered_from(mut self, offset: u128) -> Institutions {
        self.sequence_next += offset & SENT_SEQUENCE_MASK;
        self
    }

    /// The next payment, signed, with `sent_ns = intended_ns` (its intended send time; calls
    /// should come in nondecreasing `intended_ns`). `sequence` and `event_ns` are left 0 for
    /// ingress to stamp.
    #[inline]
    pub fn next_payment(&mut self, intended_ns: u64) -> Event {
        self.next_payment_with_fault(intended_ns).0
    }

    /// [`Institutions::next_payment`], and the fault the payment carries, if any: for a
    /// harness that checks each faulty payment got the answer its fault calls for.
    pub fn next_payment_with_fault(&mut self, intended_ns: u64) -> (Event, Option<Fault>) {
        self.sent += 1;
        let uniform: f64 = self.rng.gen();
        let fault = Fault::ALL
            .into_iter()
            .zip(self.fault_thresholds)
            .find(|&(_, threshold)| uniform < threshold)
            .map(|(fault, _)| fault);
        if let Some(fault) = fault {
            if let Some(event) = self.faulty(fault, intended_ns) {
                self.injected.count(fault);
                return (event, Some(fault));
            }
        }
        (self.well_formed(intended_ns), None)
    }

    /// How many payments carried each fault so far.
    pub fn injected(&self) -> FaultCounts {
        self.injected
    }

    /// How many payments were made so far, faulty ones included.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// How many times a sender drew a refund but no debit was old enough (or had anything left
    /// to refund), so it sent a debit or payout instead.
    pub fn refunds_without_original(&self) -> u64 {
        self.refunds_without_original
    }

    /// The banks payments are routed to, in id order: those with an account that routes to
    /// them. A bank whose prefixes are all shadowed by other banks' nested prefixes is missing.
    pub fn reachable_banks(&self) -> &[ParticipantId] {
        self.accounts.banks()
    }

    /// A payment as it should be: signed, remembered for duplicates, and (a debit of a sender
    /// that may refund) remembered for refunds. With a horizon, a debit that leaves the refund
    /// window is offered to the refund sample, and the payment to the resend sample.
    fn well_formed(&mut self, intended_ns: u64) -> Event {
        let drawn = self.draw(intended_ns, true);
        let event = self.signed(drawn.event, drawn.sender_index);
        if matches!(event.kind, Kind::AgreementDebit | Kind::GatewayDebit)
            && self.senders[drawn.sender_index].may_refund
        {
            let dropped = self.refunds.push(Refundable {
                txn_id: event.txn_id,
                sender_index: drawn.sender_index,
                account: event.account,
                remaining_fen: event.amount_fen,
                sent_ns: event.sent_ns,
            });
            if let Some(dropped) = dropped {
                if dropped.remaining_fen > 0 {
                    self.refunds_past
                        .insert(dropped.sent_ns, dropped, &mut self.rng);
                }
            }
        }
        self.resends
            .insert(event.sent_ns, (event, drawn.sender_index), &mut self.rng);
        if self.recent.len() < DUPLICATE_WINDOW_CAPACITY {
            self.recent.push((event, drawn.sender_index));
        } else {
            self.recent[self.recent_next] = (event, drawn.sender_index);
        }
        self.recent_next = (self.recent_next + 1) % DUPLICATE_WINDOW_CAPACITY;
        event
    }

    /// A payment carrying `fault`, or `None` when this network cannot make it (nothing sent yet
    /// to duplicate, no limit to exceed, no account outside the BIN table, no refund-capable
    /// institution): then a well-formed payment goes instead and nothing is counted.
    fn faulty(&mut self, fault: Fault, intended_ns: u64) -> Option<Event> {
        match fault {
            Fault::DuplicateId => self.duplicate(intended_ns),
            Fault::BadMac => {
                let drawn = self.draw(intended_ns, false);
                let mut event = self.signed(drawn.event, drawn.sender_index);
                let byte = self.rng.gen_range(0..event.mac.0.len());
                event.mac.0[byte] ^= 0xff;
                Some(event)
            }
            Fault::UnknownAccount => {
                let account = self.accounts.sample_unknown(&mut self.rng)?;
                let mut drawn = self.draw(intended_ns, false);
                drawn.event.account = account;
                Some(self.signed(drawn.event, drawn.sender_index))
            }
            Fault::OverLimit => {
                let mut drawn = self.draw(intended_ns, false);
                let index = drawn.event.kind.payment_index().expect("a payment kind");
                drawn.event.amount_fen =
                    self.senders[drawn.sender_index].limits_fen[index].checked_add(1)?;
                Some(self.signed(drawn.event, drawn.sender_index))
            }
            Fault::UnknownRefund => self.unknown_refund(intended_ns),
        }
    }

    /// A well-formed payment, recent or (with a horizon) from within it, sent again at
    /// `intended_ns` under its id, re-signed; one in [`DUPLICATE_CHANGED_AMOUNT_EVERY`] with its
    /// amount changed by one fen (down, so it stays within the limit, unless it is 1).
    fn duplicate(&mut self, intended_ns: u64) -> Option<Event> {
        let (mut event, sender_index) = self.resent_original(intended_ns)?;
        event.sent_ns = intended_ns;
        if self.injected.duplicate_id % DUPLICATE_CHANGED_AMOUNT_EVERY
            == DUPLICATE_CHANGED_AMOUNT_EVERY - 1
        {
            event.amount_fen = if event.amount_fen > 1 {
                event.amount_fen - 1
            } else {
                2
            };
            self.injected.duplicate_id_changed_amount += 1;
        }
        Some(self.signed(event, sender_index))
    }

    /// The payment a resend at `intended_ns` repeats, and its sender's index: without a horizon,
    /// one of the last [`DUPLICATE_WINDOW_CAPACITY`]; with one, one sent at a moment drawn
    /// uniformly over the horizon, or failing that one of the last payments still within it.
    fn resent_original(&mut self, intended_ns: u64) -> Option<(Event, usize)> {
        let from_ns = intended_ns.saturating_sub(self.horizon_ns);
        if self.resends.is_enabled() {
            for _ in 0..HORIZON_DRAW_TRIES {
                let time_ns = self.rng.gen_range(from_ns..=intended_ns);
                if let Some(&(event, sender_index)) = self.resends.sample(time_ns, &mut self.rng) {
                    if (from_ns..=intended_ns).contains(&event.sent_ns) {
                        return Some((event, sender_index));
                    }
                }
            }
        }
        if self.recent.is_empty() {
            return None;
        }
        let (event, sender_index) = self.recent[self.rng.gen_range(0..self.recent.len())];
        (self.horizon_ns == 0 || event.sent_ns >= from_ns).then_some((event, sender_index))
    }

    /// A refund, from a sender that may send one, of an id no payment ever had.
    fn unknown_refund(&mut self, intended_ns: u64) -> Option<Event> {
        let drawn_index = self.sender_zipf.sample(&mut self.rng);
        let sender_index = if self.senders[drawn_index].may_refund {
            drawn_index
        } else {
            self.first_refund_sender?
        };
        let (_, account) = self.accounts.sample(&mut self.rng);
        // Made now, as a real original could have been, with a sequence no sent id has.
        let never_sent = TxnId(
            self.ids.high_bits(intended_ns)
                | NEVER_SENT_SEQUENCE_BIT
                | u128::from(self.rng.gen::<u64>()),
        );
        let limit_fen = self.senders[sender_index].limits_fen[Kind::Refund as usize];
        let event = Event::payment(
            Kind::Refund,
            self.take_txn_id(intended_ns),
            self.senders[sender_index].id,
            account,
            self.draw_amount(limit_fen),
            intended_ns,
        )
        .with_original(never_sent);
        Some(self.signed(event, sender_index))
    }

    /// Sender, kind, account and amount, unsigned. With `may_refund`, a drawn refund takes an
    /// original from the refund window or the horizon (and its sender); otherwise, or with no
    /// original, the kind is drawn again without refunds.
    #[inline]
    fn draw(&mut self, intended_ns: u64, may_refund: bool) -> Drawn {
        let sender_index = self.sender_zipf.sample(&mut self.rng);
        let sender = &self.senders[sender_index];
        let kind = if may_refund {
            sender.kinds.sample(&mut self.rng)
        } else {
            sender.kinds_without_refund.sample(&mut self.rng)
        };
        if kind == Kind::Refund {
            if let Some(drawn) = self.draw_refund(intended_ns) {
                return drawn;
            }
            self.refunds_without_original += 1;
        }
        let sender = &self.senders[sender_index];
        let kind = if kind == Kind::Refund {
            sender.kinds_without_refund.sample(&mut self.rng)
        } else {
            kind
        };
        let limit_fen = sender.limits_fen[kind as usize];
        let sender_id = sender.id;
        let (_, account) = self.accounts.sample(&mut self.rng);
        let amount_fen = self.draw_amount(limit_fen);
        Drawn {
            event: Event::payment(
                kind,
                self.take_txn_id(intended_ns),
                sender_id,
                account,
                amount_fen,
                intended_ns,
            ),
            sender_index,
        }
    }

    /// A refund of a debit sent at least `refund_delay_ns` before `intended_ns` (and with a
    /// horizon, within it) with something left to refund, sent by that debit's sender to that
    /// debit's account.
    fn draw_refund(&mut self, intended_ns: u64) -> Option<Drawn> {
        let cutoff_ns = intended_ns.checked_sub(self.refund_delay_ns)?;
        if self.horizon_ns == 0 {
            let old_enough = self.refunds.count_sent_by(cutoff_ns);
            if old_enough == 0 {
                return None;
            }
            let age_rank = self.rng.gen_range(0..old_enough);
            return self.refund_from_window(age_rank, intended_ns);
        }
        let from_ns = intended_ns.saturating_sub(self.horizon_ns);
        if from_ns > cutoff_ns {
            return None;
        }
        // The refund window holds every debit since its oldest; the sample, some before.
        let window_from_ns = self.refunds.oldest_sent_ns().unwrap_or(u64::MAX);
        for _ in 0..HORIZON_DRAW_TRIES {
            let time_ns = self.rng.gen_range(from_ns..=cutoff_ns);
            if time_ns >= window_from_ns {
                break;
            }
            let usable = |debit: &Refundable| {
                if debit.remaining_fen == 0 || debit.sent_ns < from_ns {
                    Usable::Never
                } else if debit.sent_ns > cutoff_ns {
                    Usable::NotYet
                } else {
                    Usable::Yes
                }
            };
            if let Some(slot) = self
                .refunds_past
                .take_released(time_ns, intended_ns, usable)
            {
                let original = *self.refunds_past.item_mut(slot);
                let drawn = self.refund_of(&original, intended_ns);
                self.refunds_past.item_mut(slot).remaining_fen -= drawn.event.amount_fen;
                return Some(drawn);
            }
        }
        // A debit of the refund window within the horizon and old enough.
        let first = self.refunds.count_sent_before(from_ns);
        let end = self.refunds.count_sent_by(cutoff_ns);
        if first >= end {
            return None;
        }
        let age_rank = self.rng.gen_range(first..end);
        self.refund_from_window(age_rank, intended_ns)
    }

    /// A refund of the `age_rank`th oldest debit of the refund window, if anything remains of
    /// it.
    fn refund_from_window(&mut self, age_rank: usize, intended_ns: u64) -> Option<Drawn> {
        let original = *self.refunds.get_mut(age_rank);
        if original.remaining_fen == 0 {
            return None;
        }
        let drawn = self.refund_of(&original, intended_ns);
        self.refunds.get_mut(age_rank).remaining_fen -= drawn.event.amount_fen;
        Some(drawn)
    }

    /// A refund of `original` (something of which remains) at `intended_ns`: by its sender, to
    /// its account, of at most what remains.
    fn refund_of(&mut self, original: &Refundable, intended_ns: u64) -> Drawn {
        let sender = &self.senders[original.sender_index];
        let limit_fen = sender.limits_fen[Kind::Refund as usize].min(original.remaining_fen);
        let sender_id = sender.id;
        let amount_fen = self.draw_amount(limit_fen);
        Drawn {
            event: Event::payment(
                Kind::Refund,
                self.take_txn_id(intended_ns),
                sender_id,
                original.account,
                amount_fen,
                intended_ns,
            )
            .with_original(original.txn_id),
            sender_index: original.sender_index,
        }
    }

    /// A log-normal amount in `1..=limit_fen` (`limit_fen` at least 1).
    #[inline]
    fn draw_amount(&mut self, limit_fen: u64) -> u64 {
        // `as` saturates: a draw beyond u64 becomes u64::MAX, then the limit.
        (self.amount.sample(&mut self.rng).round() as u64).clamp(1, limit_fen.max(1))
    }

    /// The next id, made at `intended_ns`: `TxnId::at((epoch + intended_ns) / 1e9, sequence)`,
    /// the date and second reused while the second lasts.
    #[inline]
    fn take_txn_id(&mut self, intended_ns: u64) -> TxnId {
        let id = TxnId(self.ids.high_bits(intended_ns) | (self.sequence_next & SENT_SEQUENCE_MASK));
        self.sequence_next += self.sequence_stride;
        id
    }

    #[inline]
    fn signed(&self, mut event: Event, sender_index: usize) -> Event {
        event.mac = self.senders[sender_index].key.sign(&event);
        event
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use clearway_core::event::{Account, KindSet};
    use clearway_core::network::Network;

    use super::*;
    use crate::config::{Arrival, FaultRates, KindMix};
    use crate::constants::HORIZON_BUCKETS;
    use crate::test_network::{
        linear_longest_match, test_network, wide_network, ALL_KINDS, REFUNDS_ONLY, SHADOWED_BANK,
    };
    use crate::Arrivals;

    fn config_without_faults() -> WorkloadConfig {
        WorkloadConfig {
            faults: FaultRates::NONE,
            accounts_per_bank: 256,
            refund_window_capacity: 65_536,
            ..WorkloadConfig::default()
        }
    }

    /// `count` payments at constant arrivals of `config`'s rate, with their faults.
    fn run(
        network: &Network,
        config: &WorkloadConfig,
        seed: u64,
        count: usize,
    ) -> (Institutions, Vec<(Event, Option<Fault>)>) {
        let mut institutions = Institutions::new(network, config, seed);
        let mut arrivals = Arrivals::new(Arrival::Constant, config.rate_per_s, seed);
        let events = (0..count)
            .map(|_| institutions.next_payment_with_fault(arrivals.next_ns()))
            .collect();
        (institutions, events)
    }

    fn key_of(network: &Network, sender: ParticipantId) -> MacKey {
        network.participant(sender).unwrap().mac_key()
    }

    #[test]
    fn the_kind_mix_follows_its_weights() {
        let mut network = test_network();
        network
            .participants
            .retain(|participant| participant.is_bank() || participant.id == ALL_KINDS);
        let config = WorkloadConfig {
            refund_delay_ns: 0,
            ..config_without_faults()
        };
        let count = 200_000;
        let (institutions, events) = run(&network, &config, 11, count);
        let mut by_kind = [0u64; PAYMENT_KIND_COUNT];
        for (event, _) in &events {
            by_kind[event.kind as usize] += 1;
        }
        // A refund drawn with nothing to refund went out as another kind; count it as drawn.
        // About half the refunds take all that remains of their original, so a few percent of
        // later draws land on an original with nothing left.
        let without_original = institutions.refunds_without_original();
        assert!(without_original < by_kind[Kind::Refund as usize] / 20);
        by_kind[Kind::Refund as usize] += without_original;
        let weights = KindMix::default().weights();
        for (index, &weight) in weights.iter().enumerate() {
            let share = by_kind[index] as f64 / count as f64;
            assert!(
                (share - weight).abs() < 0.005,
                "{:?}: {share} vs {weight}",
                Kind::PAYMENTS[index]
            );
        }
    }

    #[test]
    fn institutions_send_only_kinds_they_may_within_their_limits() {
        let network = test_network();
        let config = WorkloadConfig {
            refund_delay_ns: 1_000_000,
            ..config_without_faults()
        };
        let (institutions, events) = run(&network, &config, 12, 50_000);
        let mut senders = HashSet::new();
        for (event, _) in &events {
            let sender = network.participant(event.sender).unwrap();
            assert!(sender.kinds.contains(event.kind), "{event:?}");
            let limit_fen = sender.limits_fen[event.kind as usize];
            assert!((1..=limit_fen).contains(&event.amount_fen), "{event:?}");
            senders.insert(event.sender);
        }
        assert!(!senders.contains(&REFUNDS_ONLY));
        assert_eq!(senders.len(), 3);
        assert!(!institutions.reachable_banks().contains(&SHADOWED_BANK));
        assert_eq!(institutions.reachable_banks().len(), 3);
    }

    #[test]
    fn the_top_two_of_115_institutions_carry_most_payments() {
        let network = wide_network(115);
        let count = 200_000;
        let (_, events) = run(&network, &config_without_faults(), 13, count);
        let mut by_sender: HashMap<ParticipantId, u64> = HashMap::new();
        for (event, _) in &events {
            *by_sender.entry(event.sender).or_default() += 1;
        }
        let top_two =
            (by_sender[&ParticipantId(100)] + by_sender[&ParticipantId(101)]) as f64 / count as f64;
        let expected = Zipf::new(115, WorkloadConfig::default().skew.institutions).share_of_top(2);
        assert!(top_two > 0.5, "top two carry {top_two}");
        assert!((top_two - expected).abs() < 0.01, "{top_two} vs {expected}");
    }

    #[test]
    fn partitions_never_share_an_id() {
        let network = test_network();
        let config = config_without_faults();
        let mut ids = HashSet::new();
        for index in 0..3u32 {
            let mut partition =
                Institutions::new(&network, &config, 100 + u64::from(index)).partition(index, 3);
            for step in 0..10_000u64 {
                let event = partition.next_payment(step * 1_000);
                assert!(
                    ids.insert(event.txn_id),
                    "{:?} sent by two partitions",
                    event.txn_id
                );
            }
        }
    }

    #[test]
    fn each_start_numbers_from_its_own_range() {
        let network = test_network();
        let config = config_without_faults();
        let mut ids = HashSet::new();
        for start in 0..3u128 {
            // The same seed every start, as a restarted run has: only the offset keeps ids apart.
            let mut institutions = Institutions::new(&network, &config, 7)
                .partition(1, 2)
                .numbered_from(start << 64);
            for step in 0..5_000u64 {
                let event = institutions.next_payment(step * 1_000);
                assert!(
                    ids.insert(event.txn_id),
                    "start {start}: {:?} again",
                    event.txn_id
                );
                assert_eq!((event.txn_id.0 & SENT_SEQUENCE_MASK) >> 64, start);
            }
        }
    }

    #[test]
    fn well_formed_payments_verify_route_and_have_unique_ids() {
        let network = test_network();
        let config = config_without_faults();
        let mut institutions = Institutions::new(&network, &config, 14);
        let mut ids = HashSet::new();
        let mut banks_seen = HashSet::new();
        for index in 0..50_000u64 {
            let intended_ns = index * 5_556;
            let event = institutions.next_payment(intended_ns);
            assert!(key_of(&network, event.sender).verify(&event), "{event:?}");
            assert!(event.account.is_well_formed() && event.account.passes_luhn());
            let (bank, _) = linear_longest_match(&network, event.account.as_bytes()).unwrap();
            assert!(institutions.reachable_banks().contains(&bank));
            banks_seen.insert(bank);
            assert!(ids.insert(event.txn_id), "{:?} sent twice", event.txn_id);
            assert_eq!(event.txn_id.date(), crate::DATE_DEFAULT);
            assert_eq!(
                event.txn_id.unix_s(),
                Some((config.epoch_unix_ns + intended_ns) / NS_PER_S)
            );
            assert_eq!(event.sent_ns, intended_ns);
            assert_eq!((event.sequence, event.event_ns), (0, 0));
            assert_eq!(event.original.is_none(), event.kind != Kind::Refund);
        }
        assert_eq!(banks_seen.len(), institutions.reachable_banks().len());
        assert_eq!(institutions.injected(), FaultCounts::default());
        assert_eq!(institutions.sent(), 50_000);
    }

    /// A debit as the refund tests saw it sent, and what refunds have named of it since.
    struct Original {
        kind: Kind,
        sender: ParticipantId,
        account: Account,
        amount_fen: u64,
        sent_ns: u64,
        refunded_fen: u64,
    }

    impl Original {
        /// `event` as just sent: nothing refunded yet.
        fn sent(event: &Event) -> Original {
            Original {
                kind: event.kind,
                sender: event.sender,
                account: event.account,
                amount_fen: event.amount_fen,
                sent_ns: event.sent_ns,
                refunded_fen: 0,
            }
        }
    }

    #[test]
    fn refunds_name_old_enough_debits_of_their_sender_and_never_exceed_them() {
        let network = test_network();
        let config = WorkloadConfig {
            rate_per_s: 100_000.0,
            kind_mix: KindMix {
                refund: 0.3,
                ..KindMix::default()
            },
            refund_delay_ns: 1_000_000,
            refund_window_capacity: 1_024,
            ..config_without_faults()
        };
        let mut originals: HashMap<TxnId, Original> = HashMap::new();
        let (_, events) = run(&network, &config, 15, 100_000);
        let mut refunds = 0;
        for (event, _) in &events {
            if event.kind != Kind::Refund {
                originals.insert(event.txn_id, Original::sent(event));
                continue;
            }
            refunds += 1;
            let original = originals.get_mut(&event.original).expect("a sent original");
            assert!(matches!(
                original.kind,
                Kind::AgreementDebit | Kind::GatewayDebit
            ));
            assert_eq!(original.sender, event.sender);
            assert_eq!(original.account, event.account);
            assert!(event.sent_ns - original.sent_ns >= config.refund_delay_ns);
            original.refunded_fen += event.amount_fen;
            assert!(original.refunded_fen <= original.amount_fen, "{event:?}");
        }
        assert!(refunds > 10_000, "{refunds} refunds");
        // Some originals were refunded in full.
        assert!(originals
            .values()
            .any(|original| original.refunded_fen == original.amount_fen));
    }

    #[test]
    fn each_fault_comes_at_its_rate_and_does_what_it_claims() {
        let network = test_network();
        let count = 40_000;
        let rate = 0.05;
        for fault in Fault::ALL {
            let mut rates = [0.0; 5];
            rates[Fault::ALL.iter().position(|&each| each == fault).unwrap()] = rate;
            let config = WorkloadConfig {
                faults: FaultRates {
                    duplicate_id: rates[0],
                    bad_mac: rates[1],
                    unknown_account: rates[2],
                    over_limit: rates[3],
                    unknown_refund: rates[4],
                },
                ..config_without_faults()
            };
            let (institutions, events) = run(&network, &config, 16, count);
            let mut first_amount: HashMap<TxnId, u64> = HashMap::new();
            let mut faulty = 0;
            let mut changed = 0;
            for (event, carried) in &events {
                let key = key_of(&network, event.sender);
                let sender = network.participant(event.sender).unwrap();
                let seen = first_amount.get(&event.txn_id).copied();
                match carried {
                    None => {
                        assert!(key.verify(event));
                        assert_eq!(seen, None, "a fresh payment reuses an id");
                    }
                    Some(carried) => {
                        assert_eq!(*carried, fault);
                        faulty += 1;
                    }
                }
                match carried {
                    None => {}
                    Some(Fault::DuplicateId) => {
                        assert!(key.verify(event));
                        let first = seen.expect("a duplicate repeats a sent id");
                        changed += u64::from(first != event.amount_fen);
                    }
                    Some(Fault::BadMac) => {
                        assert!(!key.verify(event));
                        let mut resigned = *event;
                        resigned.mac = key.sign(event);
                        assert!(key.verify(&resigned));
                        let differing = (0..16).filter(|&i| resigned.mac.0[i] != event.mac.0[i]);
                        assert_eq!(differing.count(), 1);
                    }
                    Some(Fault::UnknownAccount) => {
                        assert!(key.verify(event));
                        assert_eq!(event.account.as_bytes().len(), 16);
                        assert!(event.account.is_well_formed() && event.account.passes_luhn());
                        assert_eq!(
                            linear_longest_match(&network, event.account.as_bytes()),
                            None
                        );
                    }
                    Some(Fault::OverLimit) => {
                        assert!(key.verify(event));
                        let limit_fen = sender.limits_fen[event.kind as usize];
                        assert_eq!(event.amount_fen, limit_fen + 1);
                    }
                    Some(Fault::UnknownRefund) => {
                        assert!(key.verify(event));
                        assert_eq!(event.kind, Kind::Refund);
                        assert!(sender.kinds.contains(Kind::Refund));
                        assert!(event.original.sequence() & NEVER_SENT_SEQUENCE_BIT != 0);
                        assert!(!first_amount.contains_key(&event.original));
                    }
                }
                first_amount.entry(event.txn_id).or_insert(event.amount_fen);
            }
            let injected = institutions.injected();
            assert_eq!(injected.of(fault), faulty);
            assert_eq!(injected.total(), faulty);
            let share = faulty as f64 / count as f64;
            assert!((share - rate).abs() < 0.006, "{fault:?}: {share}");
            if fault == Fault::DuplicateId {
                assert_eq!(changed, injected.duplicate_id_changed_amount);
                assert_eq!(changed, faulty / DUPLICATE_CHANGED_AMOUNT_EVERY);
            }
        }
    }

    #[test]
    fn default_fault_rates_each_inject_about_one_in_a_thousand() {
        let network = test_network();
        let count = 200_000;
        let (institutions, _) = run(&network, &WorkloadConfig::default(), 17, count);
        let injected = institutions.injected();
        for fault in Fault::ALL {
            // Expected 200 each; the standard deviation is 14.
            assert!(
                (140..=260).contains(&injected.of(fault)),
                "{fault:?}: {injected:?}"
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_payments() {
        let network = test_network();
        let config = WorkloadConfig {
            faults: FaultRates {
                duplicate_id: 0.02,
                bad_mac: 0.02,
                unknown_account: 0.02,
                over_limit: 0.02,
                unknown_refund: 0.02,
            },
            refund_delay_ns: 100_000,
            ..config_without_faults()
        };
        let (first, first_events) = run(&network, &config, 18, 20_000);
        let (again, again_events) = run(&network, &config, 18, 20_000);
        assert!(first_events == again_events);
        assert_eq!(first.injected(), again.injected());
        let (_, other_events) = run(&network, &config, 19, 20_000);
        assert!(first_events != other_events);
    }

    #[test]
    fn a_network_without_refund_senders_skips_unknown_refunds() {
        let mut network = test_network();
        for participant in &mut network.participants {
            participant.kinds = [Kind::AgreementDebit, Kind::PayoutCredit]
                .into_iter()
                .filter(|&kind| participant.kinds.contains(kind))
                .collect::<KindSet>();
        }
        let config = WorkloadConfig {
            faults: FaultRates {
                unknown_refund: 0.5,
                ..FaultRates::NONE
            },
            ..config_without_faults()
        };
        let (institutions, events) = run(&network, &config, 20, 10_000);
        assert_eq!(institutions.injected().total(), 0);
        assert!(events.iter().all(|(event, _)| event.kind != Kind::Refund));
    }

    #[test]
    fn ids_carry_the_second_they_were_made_across_midnight() {
        let network = test_network();
        // 2026-12-07 23:59:58.5 UTC: midnight comes 1.5 s into the load.
        let epoch_unix_ns = 1_796_687_998_500_000_000;
        let config = WorkloadConfig {
            epoch_unix_ns,
            rate_per_s: 20_000.0,
            faults: FaultRates {
                duplicate_id: 0.01,
                bad_mac: 0.01,
                unknown_account: 0.01,
                over_limit: 0.01,
                unknown_refund: 0.01,
            },
            refund_delay_ns: 1_000_000,
            ..config_without_faults()
        };
        // A wall-clock offset as `clearway load` makes (ns since 1970 << 24): far above the
        // sequence's 78 bits, it wraps.
        let offset = u128::from(epoch_unix_ns) << 24;
        let mut institutions = Institutions::new(&network, &config, 21)
            .partition(1, 3)
            .numbered_from(offset);
        let mut sent = HashSet::new();
        let mut dates = HashSet::new();
        let mut unknown_refunds = 0;
        // 4 s: 23:59:58.5 to 00:00:02.5.
        for step in 0..80_000u64 {
            let intended_ns = step * 50_000;
            let (event, fault) = institutions.next_payment_with_fault(intended_ns);
            let made_s = (epoch_unix_ns + intended_ns) / NS_PER_S;
            if fault == Some(Fault::DuplicateId) {
                // A resend keeps the id, and the second, it was first made with.
                assert!(sent.contains(&event.txn_id), "{:?}", event.txn_id);
                assert!(event.txn_id.unix_s().unwrap() <= made_s);
                continue;
            }
            assert_eq!(event.txn_id.unix_s(), Some(made_s), "{event:?}");
            assert!(sent.insert(event.txn_id), "{:?} sent twice", event.txn_id);
            assert_eq!(event.txn_id.sender_sequence() & NEVER_SENT_SEQUENCE_BIT, 0);
            assert_eq!(event.txn_id.sender_sequence() % 3, 2, "partition 1 of 3");
            dates.insert(event.txn_id.date());
            if fault == Some(Fault::UnknownRefund) {
                unknown_refunds += 1;
                assert_eq!(event.original.unix_s(), Some(made_s));
                assert_ne!(
                    event.original.sender_sequence() & NEVER_SENT_SEQUENCE_BIT,
                    0
                );
                assert!(!sent.contains(&event.original));
            }
        }
        assert_eq!(dates, HashSet::from([20261207, 20261208]));
        assert!(unknown_refunds > 500, "{unknown_refunds}");
    }

    #[test]
    fn the_id_clock_turns_with_each_second_and_back() {
        let mut clock = IdClock::new(1_796_687_999_999_999_999);
        for intended_ns in [0, 1, 2, 1_000_000_000, 999_999_999, 0, u64::MAX] {
            let unix_s = 1_796_687_999_999_999_999u64.saturating_add(intended_ns) / NS_PER_S;
            assert_eq!(
                clock.high_bits(intended_ns),
                TxnId::at(unix_s, 0).0,
                "{intended_ns}"
            );
        }
    }

    /// Twelve simulated minutes at 500 payments a second with a 600 s horizon: how far back each
    /// resend's and refund's original was sent, and what was refunded of each.
    #[test]
    fn resends_and_refunds_reach_back_over_the_whole_horizon_and_no_further() {
        let network = test_network();
        let horizon_s = 600.0;
        let config = WorkloadConfig {
            rate_per_s: 500.0,
            kind_mix: KindMix {
                refund: 0.2,
                ..KindMix::default()
            },
            faults: FaultRates {
                duplicate_id: 0.02,
                ..FaultRates::NONE
            },
            horizon_s,
            refund_delay_ns: 200_000_000,
            // Under a second of debits: most refunds must come from the horizon sample.
            refund_window_capacity: 256,
            ..config_without_faults()
        };
        let horizon_ns = (horizon_s * 1e9) as u64;
        let (institutions, events) = run(&network, &config, 22, 360_000);
        let last_ns = events.last().unwrap().0.sent_ns;
        assert!(last_ns > 719 * NS_PER_S, "{last_ns}");
        let mut originals: HashMap<TxnId, Original> = HashMap::new();
        // How far back each original was sent, in seconds, and where in the span it could have
        // been drawn from (0 the newest it could be, 1 the oldest): uniform draws make the
        // latter uniform over [0, 1].
        let mut resend_ages = Vec::new();
        let mut refund_ages = Vec::new();
        let place = |age_ns: u64, sent_ns: u64, newest_ns: u64| {
            (age_ns - newest_ns) as f64 / (sent_ns.min(horizon_ns) - newest_ns) as f64
        };
        for (event, fault) in &events {
            if *fault == Some(Fault::DuplicateId) {
                let original = &originals[&event.txn_id];
                let age_ns = event.sent_ns - original.sent_ns;
                assert!(age_ns <= horizon_ns, "a resend {age_ns} ns back");
                assert_eq!(
                    (original.kind, original.sender, original.account),
                    (event.kind, event.sender, event.account)
                );
                resend_ages.push((age_ns as f64 / 1e9, place(age_ns, event.sent_ns, 0)));
                continue;
            }
            if event.kind == Kind::Refund {
                let original = originals.get_mut(&event.original).expect("a sent original");
                assert!(matches!(
                    original.kind,
                    Kind::AgreementDebit | Kind::GatewayDebit
                ));
                assert_eq!(
                    (original.sender, original.account),
                    (event.sender, event.account)
                );
                let age_ns = event.sent_ns - original.sent_ns;
                assert!(
                    age_ns >= config.refund_delay_ns,
                    "a refund {age_ns} ns back"
                );
                assert!(age_ns <= horizon_ns, "a refund {age_ns} ns back");
                original.refunded_fen += event.amount_fen;
                assert!(original.refunded_fen <= original.amount_fen, "{event:?}");
                refund_ages.push((
                    age_ns as f64 / 1e9,
                    place(age_ns, event.sent_ns, config.refund_delay_ns),
                ));
            }
            originals.insert(event.txn_id, Original::sent(event));
        }
        for (what, ages) in [("resends", &resend_ages), ("refunds", &refund_ages)] {
            let count = ages.len() as f64;
            let share = |keep: &dyn Fn(f64, f64) -> bool| {
                ages.iter().filter(|&&(age, at)| keep(age, at)).count() as f64 / count
            };
            let (past_300_s, past_500_s) =
                (share(&|age, _| age > 300.0), share(&|age, _| age > 500.0));
            let (far_half, far_tenth) = (share(&|_, at| at > 0.5), share(&|_, at| at > 0.9));
            println!(
                "{what}: {count}; past 300 s {past_300_s:.3}, past 500 s {past_500_s:.3}; \
                 from the far half of the span {far_half:.3}, the far tenth {far_tenth:.3}"
            );
            assert!(
                past_300_s > 0.1 && past_500_s > 0.02,
                "{what}: too few reach back"
            );
            assert!((0.4..0.6).contains(&far_half), "{what}: not uniform");
            assert!((0.06..0.14).contains(&far_tenth), "{what}: not uniform");
        }
        assert!(resend_ages.len() > 5_000 && refund_ages.len() > 50_000);
        assert!(institutions.refunds_without_original() < refund_ages.len() as u64 / 20);
    }

    #[test]
    fn the_horizon_samples_are_sized_once_and_only_with_a_horizon() {
        let network = test_network();
        let without = Institutions::new(&network, &config_without_faults(), 23);
        assert!(!without.resends.is_enabled() && !without.refunds_past.is_enabled());
        let config = WorkloadConfig {
            horizon_s: 600.0,
            ..config_without_faults()
        };
        let with = Institutions::new(&network, &config, 23);
        assert!(with.resends.is_enabled() && with.refunds_past.is_enabled());
        // 254 spans of 600 s: each 2.4 s.
        assert_eq!(with.refunds_past.span_ns(), 2_362_204_725);
        assert_eq!(HORIZON_BUCKETS, 256);
        // An event and its sender: 128 bytes; a refundable debit: at most 64.
        assert_eq!(std::mem::size_of::<(Event, usize)>(), 128);
        assert!(std::mem::size_of::<Refundable>() <= 64);
    }

    #[test]
    fn the_same_seed_gives_the_same_payments_with_a_horizon() {
        let network = test_network();
        let config = WorkloadConfig {
            faults: FaultRates {
                duplicate_id: 0.05,
                unknown_refund: 0.02,
                ..FaultRates::NONE
            },
            horizon_s: 0.5,
            refund_window_capacity: 128,
            refund_delay_ns: 100_000,
            ..config_without_faults()
        };
        let (first, first_events) = run(&network, &config, 24, 20_000);
        let (again, again_events) = run(&network, &config, 24, 20_000);
        assert!(first_events == again_events);
        assert_eq!(first.injected(), again.injected());
    }
}
