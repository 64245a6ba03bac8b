//! [`Window`]: the in-memory window, the payments touched in the last few seconds of event time
//! by `txn_id`, and the [`fingerprint`] that compares a repeat's fields. What is older lives in
//! the store ([`crate::store`]) and comes back through the prefetch.
//!
//! Two generations, each a [`Table`] sized once. The current one holds every pending payment
//! (its record points at the hold), every payment placed or finished since it began, and the
//! originals of refunds placed since; the previous one what the generation before held. A turn
//! ([`WindowSchedule`](super::WindowSchedule) says when; clearing batches have nothing to do
//! with it) empties the previous generation and makes it the new current one, which drops what
//! was touched two generations ago, and carries the pending payments, and the originals of
//! pending refunds, over into it. Their copies left in the previous generation are never read:
//! a lookup tries the current generation first and the id is there, and reads of the previous
//! one skip pending records.

use crate::event::{Event, Outcome, TxnId};

use super::table::{Probe, Record, Table};

/// The payments of the last two batches.
pub(crate) struct Window {
    /// The pending payments and those finished in the current batch. At most `capacity`
    /// records: the ledger declines a payment when it is full.
    current: Table,
    /// Finished in the batch before (and stale copies of the payments that were pending at the
    /// cutover).
    previous: Table,
    /// Finished records in `previous`.
    previous_finished: usize,
}

impl Window {
    /// Two generations of `capacity` records each, allocated now.
    pub fn with_capacity(capacity: usize) -> Window {
        Window {
            current: Table::with_capacity(capacity),
            previous: Table::with_capacity(capacity),
            previous_finished: 0,
        }
    }

    /// Finds `txn_id` in the current generation, or the empty slot where it would go.
    #[inline]
    pub fn probe_current(&self, txn_id: TxnId) -> Probe {
        self.current.probe(txn_id)
    }

    /// The current generation's record in slot `index`.
    #[inline]
    pub fn current_record(&self, index: usize) -> Record {
        self.current.record(index)
    }

    /// The hold position of the current generation's record in slot `index`, if it is pending.
    #[inline]
    pub fn pending_position(&self, index: usize) -> Option<u32> {
        self.current
            .pending_position(index)
            .map(|position| position as u32)
    }

    /// Writes a new record into the empty slot `index` [`Window::probe_current`] returned for
    /// its id. The caller keeps the generation within capacity and has made no other write since
    /// the probe.
    #[inline]
    pub fn place(&mut self, index: usize, record: &Record) {
        self.current.write(index, record);
    }

    /// Finishes the pending record in the current generation's slot `index`.
    #[inline]
    pub fn finish(&mut self, index: usize, outcome: Outcome, refundable_fen: u64) {
        self.current.finish(index, outcome, refundable_fen);
    }

    /// The finished record with `txn_id` in the previous generation.
    #[inline(always)]
    pub fn previous_finished(&self, txn_id: TxnId) -> Option<Record> {
        if self.previous_finished == 0 {
            return None;
        }
        self.previous
            .get(txn_id)
            .filter(|record| !record.is_pending())
    }

    /// The finished payment with `txn_id`, if it is still in the window.
    #[inline]
    pub fn finished(&self, txn_id: TxnId) -> Option<Record> {
        match self.current.probe(txn_id) {
            Probe::Found(index) => Some(self.current.record(index)).filter(|r| !r.is_pending()),
            Probe::Vacant(_) => self.previous_finished(txn_id),
        }
    }

    /// Whether a payment with `txn_id` is pending.
    #[inline]
    pub fn is_pending(&self, txn_id: TxnId) -> bool {
        self.current
            .get(txn_id)
            .is_some_and(|record| record.is_pending())
    }

    /// What refunds may still take of the finished payment `txn_id`, to change it.
    #[inline]
    pub fn refundable_mut(&mut self, txn_id: TxnId) -> Option<&mut u64> {
        match self.current.probe(txn_id) {
            Probe::Found(index) => {
                if self.current.record(index).is_pending() {
                    return None;
                }
                Some(self.current.value_mut(index))
            }
            Probe::Vacant(_) => match self.previous.probe(txn_id) {
                Probe::Found(index)
                    if self.previous_finished > 0 && !self.previous.record(index).is_pending() =>
                {
                    Some(self.previous.value_mut(index))
                }
                _ => None,
            },
        }
    }

    /// Records in the current generation, pending ones included.
    #[inline]
    pub fn current_len(&self) -> usize {
        self.current.len()
    }

    /// Finished payments in both generations, given how many are pending.
    pub fn finished_count(&self, pending_count: usize) -> usize {
        self.current.len() - pending_count + self.previous_finished
    }

    /// A turn: drops the previous generation, starts a new current one in its allocation and
    /// carries the `carried` payments into it (the pending ones, of which there are
    /// `pending_count`, and the originals of pending refunds). Costs a lookup and a write per
    /// carried id.
    pub fn advance(&mut self, pending_count: usize, carried: impl Iterator<Item = TxnId>) {
        self.previous.clear();
        std::mem::swap(&mut self.current, &mut self.previous);
        self.previous_finished = self.previous.len() - pending_count;
        for txn_id in carried {
            // An original may have left memory already (a refund restored from a snapshot
            // whose original was in the store); the store still has it.
            let Some(record) = self.previous.get(txn_id) else {
                continue;
            };
            if let Probe::Vacant(index) = self.current.probe(txn_id) {
                self.current.write(index, &record);
            }
        }
    }

    /// Brings the finished `record` into the current generation if its id is not there: from
    /// the previous generation, or loaded from the store. The caller keeps the generation within
    /// capacity.
    #[inline]
    pub fn bring_to_current(&mut self, record: &Record) {
        if let Probe::Vacant(index) = self.current.probe(record.txn_id) {
            self.current.write(index, record);
        }
    }

    /// Every record of the current generation, pending and finished, in the order they were
    /// placed (a snapshot's read: the live slots only).
    pub fn current_records(&self) -> impl Iterator<Item = Record> + '_ {
        self.current.records()
    }

    /// The finished records of the previous generation, in the order they were placed; the
    /// copies of payments carried over at a turn (or brought back by a refund), which no read
    /// sees, are left out.
    pub fn previous_records(&self) -> impl Iterator<Item = Record> + '_ {
        self.previous.records().filter(|record| {
            !record.is_pending() && matches!(self.current.probe(record.txn_id), Probe::Vacant(_))
        })
    }

    /// Finished records in the previous generation that no read of the current one hides.
    pub fn previous_finished_count(&self) -> usize {
        self.previous_records().count()
    }

    /// Places `record` in the current generation (a restore): false, and nothing placed, if its
    /// id is there already or the generation holds the most records its table takes.
    pub fn restore_current(&mut self, record: &Record) -> bool {
        self.current.insert(record)
    }

    /// Places the finished `record` in the previous generation (a restore): false, and nothing
    /// placed, if its id is in either generation already or the table holds the most records it
    /// takes.
    pub fn restore_previous(&mut self, record: &Record) -> bool {
        debug_assert!(!record.is_pending());
        if let Probe::Found(_) = self.current.probe(record.txn_id) {
            return false;
        }
        let placed = self.previous.insert(record);
        if placed {
            self.previous_finished += 1;
        }
        placed
    }

    /// The slot counts of the two generations: constant for the ledger's life.
    pub fn capacities(&self) -> (usize, usize) {
        (self.current.slot_count(), self.previous.slot_count())
    }
}

/// A 64-bit fingerprint of the fields idempotency compares: kind, sender, account, amount and
/// original.
///
/// Six 64-bit words are folded through a 64×64→128-bit multiply whose halves are xored (the
/// mixing step of wyhash and foldhash), which spreads every input bit over the result. For two
/// different sets of fields that were not chosen to collide, the fingerprints agree with
/// probability about 2^-64: at 10^7 repeats a second, one wrong match in some 58,000 years. It is
/// not a MAC: a sender could search for a collision, but the fingerprint is compared only under
/// the same `txn_id`, the sender is one of the fields, and the worst a collision does is answer
/// a changed repeat as the original's outcome instead of `ExistsWithDifferentFields`.
#[inline]
pub(crate) fn fingerprint(event: &Event) -> u64 {
    const SEED: u64 = 0x243F_6A88_85A3_08D3;
    const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;
    let (account, length) = event.account.raw();
    let mut account_words = [0u8; 24];
    account_words[..account.len()].copy_from_slice(&account);
    account_words[23] = length;
    let word = |at: usize| u64::from_le_bytes(account_words[at..at + 8].try_into().unwrap());
    let words = [
        u64::from(event.kind as u8) | u64::from(event.sender.0) << 8,
        event.amount_fen,
        word(0),
        word(8),
        word(16),
        event.original.0 as u64,
        (event.original.0 >> 64) as u64,
    ];
    let mut hash = SEED;
    for (index, word) in words.into_iter().enumerate() {
        hash = fold_multiply(hash ^ word, MULTIPLIER.wrapping_add(index as u64 * 2));
    }
    fold_multiply(hash, MULTIPLIER)
}

/// The full product of `a` and `b`, its halves xored.
#[inline]
fn fold_multiply(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ (product >> 64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Account, Kind, ParticipantId};

    fn place(window: &mut Window, id: u128, outcome: Outcome) {
        let Probe::Vacant(index) = window.probe_current(TxnId(id)) else {
            panic!("{id} placed twice");
        };
        let record = Record {
            txn_id: TxnId(id),
            fingerprint: 7,
            value: 0,
            outcome: Outcome::Forwarded,
            kind: Kind::AgreementDebit,
            institution: ParticipantId(1),
        };
        window.place(index, &record);
        if outcome != Outcome::Forwarded {
            window.finish(index, outcome, 0);
        }
    }

    #[test]
    fn a_cutover_keeps_one_batch_back_drops_two_and_carries_the_pending() {
        let mut window = Window::with_capacity(8);
        let capacities = window.capacities();
        place(&mut window, 1, Outcome::Approved);
        place(&mut window, 3, Outcome::Forwarded);
        assert!(window.is_pending(TxnId(3)));
        assert_eq!(window.finished(TxnId(3)), None);
        window.advance(1, [TxnId(3)].into_iter());
        place(&mut window, 2, Outcome::Declined);
        assert_eq!(
            window.finished(TxnId(1)).unwrap().outcome,
            Outcome::Approved
        );
        assert_eq!(window.finished_count(1), 2);
        assert_eq!(window.current_len(), 2);
        let Probe::Found(index) = window.probe_current(TxnId(3)) else {
            panic!("the pending payment was not carried over");
        };
        window.finish(index, Outcome::Expired, 0);
        window.advance(0, [].into_iter());
        assert_eq!(window.finished(TxnId(1)), None);
        assert_eq!(
            window.finished(TxnId(2)).unwrap().outcome,
            Outcome::Declined
        );
        assert_eq!(window.finished(TxnId(3)).unwrap().outcome, Outcome::Expired);
        assert_eq!(window.finished_count(0), 2);
        *window.refundable_mut(TxnId(2)).unwrap() = 5;
        assert_eq!(window.finished(TxnId(2)).unwrap().value, 5);
        assert_eq!(window.refundable_mut(TxnId(9)), None);
        window.advance(0, [].into_iter());
        assert_eq!(window.finished_count(0), 0);
        assert_eq!(window.finished(TxnId(3)), None);
        assert_eq!(window.capacities(), capacities);
    }

    #[test]
    fn the_fingerprint_changes_with_every_compared_field() {
        let base = Event::payment(
            Kind::Refund,
            TxnId(9),
            ParticipantId(1),
            Account::new(b"6222020200112233445").unwrap(),
            100,
            5,
        )
        .with_original(TxnId(3));
        let mut changed = vec![];
        let mut event = base;
        event.kind = Kind::PayoutCredit;
        changed.push(event);
        let mut event = base;
        event.sender = ParticipantId(2);
        changed.push(event);
        let mut event = base;
        event.account = Account::new(b"6222020200112233446").unwrap();
        changed.push(event);
        let mut event = base;
        event.account = Account::new(b"622202020011223344").unwrap();
        changed.push(event);
        let mut event = base;
        event.amount_fen = 101;
        changed.push(event);
        let mut event = base;
        event.original = TxnId(3 | 1 << 100);
        changed.push(event);
        for event in changed {
            assert_ne!(fingerprint(&event), fingerprint(&base), "{event:?}");
        }
        // Fields idempotency does not compare leave it alone.
        let mut event = base;
        event.sent_ns = 99;
        event.event_ns = 1234;
        event.txn_id = TxnId(10);
        assert_eq!(fingerprint(&event), fingerprint(&base));
    }
}
