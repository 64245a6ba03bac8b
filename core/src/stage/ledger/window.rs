//! [`Window`]: the idempotency (retention) window, the finished payments of the current and the
//! previous clearing batch by `txn_id`, and the [`fingerprint`] that compares a repeat's fields.
//!
//! Two generations, each a table sized once: payments finish into the current one; a cutover
//! clears the previous one (keeping its allocation) and makes it the new current one, which drops
//! everything recorded two batches ago.

use rustc_hash::FxHashMap;

use crate::event::{Event, Kind, Outcome, ParticipantId, TxnId};

/// A payment that finished (approved, declined or expired), as the window keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Finished {
    /// The fingerprint of the fields idempotency compares.
    pub fingerprint: u64,
    /// For an approved debit, what refunds may still take (reservations of pending refunds
    /// already subtracted); zero otherwise.
    pub refundable_fen: u64,
    /// Its outcome: `Approved`, `Declined` or `Expired`.
    pub outcome: Outcome,
    /// Its kind.
    pub kind: Kind,
    /// The institution that sent it.
    pub institution: ParticipantId,
}

/// The finished payments of the last two batches.
pub(crate) struct Window {
    /// Recorded in the current batch. At most `capacity` entries: the ledger declines a payment
    /// when this generation plus the pending holds (each of which finishes into it) is full.
    current: FxHashMap<TxnId, Finished>,
    /// Recorded in the batch before.
    previous: FxHashMap<TxnId, Finished>,
}

impl Window {
    /// Two generations of `capacity` entries each, allocated now.
    pub fn with_capacity(capacity: usize) -> Window {
        let mut current = FxHashMap::default();
        current.reserve(capacity);
        let mut previous = FxHashMap::default();
        previous.reserve(capacity);
        Window { current, previous }
    }

    /// The finished payment with `txn_id`, if it is still in the window.
    #[inline]
    pub fn get(&self, txn_id: TxnId) -> Option<&Finished> {
        self.current
            .get(&txn_id)
            .or_else(|| self.previous.get(&txn_id))
    }

    /// As [`Window::get`], to change its refundable amount.
    #[inline]
    pub fn get_mut(&mut self, txn_id: TxnId) -> Option<&mut Finished> {
        match self.current.get_mut(&txn_id) {
            Some(finished) => Some(finished),
            None => self.previous.get_mut(&txn_id),
        }
    }

    /// Records a payment that finished now. The ledger's capacity check keeps the current
    /// generation within its allocation, and no id is in the window while its hold is pending.
    #[inline]
    pub fn record(&mut self, txn_id: TxnId, finished: Finished) {
        let previous = self.current.insert(txn_id, finished);
        debug_assert!(previous.is_none(), "{txn_id:?} finished twice in one batch");
    }

    /// Entries in the current generation.
    #[inline]
    pub fn current_count(&self) -> usize {
        self.current.len()
    }

    /// Entries in both generations.
    pub fn count(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    /// The cutover: drops the previous generation and starts a new current one in its
    /// allocation. Costs a pass over the dropped table's control bytes (one byte a bucket).
    pub fn advance(&mut self) {
        self.previous.clear();
        std::mem::swap(&mut self.current, &mut self.previous);
    }

    /// The allocated sizes of the two generations: constant for the ledger's life (in some
    /// order, since a cutover swaps them).
    pub fn capacities(&self) -> (usize, usize) {
        let (a, b) = (self.current.capacity(), self.previous.capacity());
        (a.min(b), a.max(b))
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
    use crate::event::Account;

    fn finished(outcome: Outcome) -> Finished {
        Finished {
            fingerprint: 7,
            refundable_fen: 0,
            outcome,
            kind: Kind::AgreementDebit,
            institution: ParticipantId(1),
        }
    }

    #[test]
    fn a_cutover_keeps_one_batch_back_and_drops_two() {
        let mut window = Window::with_capacity(8);
        let capacities = window.capacities();
        window.record(TxnId(1), finished(Outcome::Approved));
        window.advance();
        window.record(TxnId(2), finished(Outcome::Declined));
        assert_eq!(window.get(TxnId(1)).unwrap().outcome, Outcome::Approved);
        assert_eq!(window.count(), 2);
        assert_eq!(window.current_count(), 1);
        window.advance();
        assert_eq!(window.get(TxnId(1)), None);
        assert_eq!(window.get(TxnId(2)).unwrap().outcome, Outcome::Declined);
        window.get_mut(TxnId(2)).unwrap().refundable_fen = 5;
        assert_eq!(window.get(TxnId(2)).unwrap().refundable_fen, 5);
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
