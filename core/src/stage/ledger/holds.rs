//! [`Holds`]: the pending holds by `txn_id`, kept in the order they were placed so expiry reads
//! them oldest first.
//!
//! The holds live in a slab of entries allocated once; a hold's record in the idempotency window
//! keeps its slab position (so no index of its own is needed), and an intrusive doubly linked
//! list threads them in placement order. Every hold's
//! deadline is its placement clock plus the one bank timeout, and the clock never goes back, so
//! placement order is deadline order: expiry looks only at the oldest hold. A reply unlinks its
//! hold in O(1), so no stale entry waits in an expiry queue (a plain FIFO of deadlines would keep
//! one per replied hold until its deadline passed: at 5 M payments/s and a 1 s timeout, 5 M
//! entries, far beyond the holds actually pending).

use crate::event::{Kind, ParticipantId, TxnId};

/// No entry: the end of the placement list.
const NIL: u32 = u32::MAX;

/// A payment forwarded to its bank, waiting for the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hold {
    /// The payment's id.
    pub txn_id: TxnId,
    /// A refund's original; [`TxnId::NONE`] otherwise.
    pub original: TxnId,
    /// Amount in fen.
    pub amount_fen: u64,
    /// When it expires, event time.
    pub deadline_ns: u64,
    /// The institution's send time, copied into the answer.
    pub sent_ns: u64,
    /// The payment kind.
    pub kind: Kind,
    /// The institution that sent it.
    pub institution: ParticipantId,
    /// The bank route sent it to: the only bank whose reply counts.
    pub bank: ParticipantId,
}

impl Hold {
    /// Who owes the money when it posts: the bank for a debit, the institution otherwise.
    #[inline]
    pub fn debtor(&self) -> ParticipantId {
        if self.kind.is_debit() {
            self.bank
        } else {
            self.institution
        }
    }

    /// Who is owed: the other party.
    #[inline]
    pub fn creditor(&self) -> ParticipantId {
        if self.kind.is_debit() {
            self.institution
        } else {
            self.bank
        }
    }
}

/// A slab entry: a hold and its neighbours in placement order.
#[derive(Clone, Copy, Debug)]
struct Entry {
    hold: Hold,
    /// The entry placed just before, or [`NIL`].
    older: u32,
    /// The entry placed just after, or [`NIL`]; for a free entry, the next free one.
    newer: u32,
}

/// The pending holds. Holds at most `capacity` holds and never allocates after construction.
pub(crate) struct Holds {
    /// Holds pending.
    len: usize,
    /// The slab; grows by push up to `capacity` (within its reserved allocation), then reuses
    /// freed entries.
    entries: Vec<Entry>,
    /// The first free entry, or [`NIL`]; free entries chain through `newer`.
    free: u32,
    /// The oldest pending hold, or [`NIL`].
    oldest: u32,
    /// The newest pending hold, or [`NIL`].
    newest: u32,
    /// The most holds pending at once.
    capacity: usize,
}

impl Holds {
    /// Room for `capacity` holds, allocated now.
    pub fn with_capacity(capacity: usize) -> Holds {
        assert!(
            capacity < NIL as usize,
            "hold capacity {capacity} exceeds u32 positions"
        );
        Holds {
            len: 0,
            entries: Vec::with_capacity(capacity),
            free: NIL,
            oldest: NIL,
            newest: NIL,
            capacity,
        }
    }

    /// Holds pending.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether another hold would exceed the capacity.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len >= self.capacity
    }

    /// The pending hold at slab `position`, which [`Holds::insert`] returned.
    #[inline]
    pub fn get(&self, position: u32) -> &Hold {
        &self.entries[position as usize].hold
    }

    /// The slab position of the oldest pending hold: the first to expire.
    #[inline]
    pub fn oldest(&self) -> Option<u32> {
        (self.oldest != NIL).then_some(self.oldest)
    }

    /// Places `hold` as the newest and returns its slab position. The caller has checked that the
    /// table is not full and that no hold with its id is pending.
    #[inline]
    pub fn insert(&mut self, hold: Hold) -> u32 {
        debug_assert!(!self.is_full());
        let entry = Entry {
            hold,
            older: self.newest,
            newer: NIL,
        };
        let position = if self.free != NIL {
            let position = self.free;
            self.free = self.entries[position as usize].newer;
            self.entries[position as usize] = entry;
            position
        } else {
            debug_assert!(self.entries.len() < self.entries.capacity());
            self.entries.push(entry);
            (self.entries.len() - 1) as u32
        };
        if self.newest != NIL {
            self.entries[self.newest as usize].newer = position;
        } else {
            self.oldest = position;
        }
        self.newest = position;
        self.len += 1;
        position
    }

    /// Takes the pending hold at slab `position` out of the table.
    #[inline]
    pub fn remove(&mut self, position: u32) -> Hold {
        debug_assert!(self.len > 0);
        let entry = self.entries[position as usize];
        if entry.older != NIL {
            self.entries[entry.older as usize].newer = entry.newer;
        } else {
            self.oldest = entry.newer;
        }
        if entry.newer != NIL {
            self.entries[entry.newer as usize].older = entry.older;
        } else {
            self.newest = entry.older;
        }
        self.entries[position as usize].newer = self.free;
        self.free = position;
        self.len -= 1;
        entry.hold
    }

    /// Every pending hold, in placement order.
    pub fn iter(&self) -> impl Iterator<Item = &Hold> + '_ {
        self.iter_with_positions().map(|(_, hold)| hold)
    }

    /// Every pending hold and its slab position, in placement order.
    pub fn iter_with_positions(&self) -> impl Iterator<Item = (u32, &Hold)> + '_ {
        let mut position = self.oldest;
        std::iter::from_fn(move || {
            if position == NIL {
                return None;
            }
            let at = position;
            let entry = &self.entries[position as usize];
            position = entry.newer;
            Some((at, &entry.hold))
        })
    }

    /// Slab entries ever used, pending or freed: every position is below this.
    pub fn slab_len(&self) -> usize {
        self.entries.len()
    }

    /// The most holds pending at once and the slab's allocated size: constant for the ledger's
    /// life.
    pub fn capacities(&self) -> (usize, usize) {
        (self.capacity, self.entries.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hold(id: u128) -> Hold {
        Hold {
            txn_id: TxnId(id),
            original: TxnId::NONE,
            amount_fen: 1,
            deadline_ns: id as u64,
            sent_ns: 0,
            kind: Kind::AgreementDebit,
            institution: ParticipantId(1),
            bank: ParticipantId(2),
        }
    }

    fn ids(holds: &Holds) -> Vec<u128> {
        holds.iter().map(|hold| hold.txn_id.0).collect()
    }

    #[test]
    fn placement_order_survives_removal_from_anywhere_and_reuse() {
        let mut holds = Holds::with_capacity(4);
        let capacities = holds.capacities();
        let mut positions = std::collections::HashMap::new();
        for id in 1..=4 {
            positions.insert(id, holds.insert(hold(id)));
        }
        assert!(holds.is_full());
        assert_eq!(ids(&holds), [1, 2, 3, 4]);
        assert_eq!(holds.remove(positions[&2]).txn_id, TxnId(2));
        assert_eq!(ids(&holds), [1, 3, 4]);
        assert_eq!(holds.remove(positions[&1]).txn_id, TxnId(1));
        assert_eq!(holds.remove(positions[&4]).txn_id, TxnId(4));
        assert_eq!(ids(&holds), [3]);
        for id in 5..=7 {
            positions.insert(id, holds.insert(hold(id)));
        }
        assert_eq!(ids(&holds), [3, 5, 6, 7]);
        assert_eq!(holds.get(holds.oldest().unwrap()).txn_id, TxnId(3));
        for id in [3, 5, 6, 7] {
            assert_eq!(holds.get(positions[&id]).txn_id, TxnId(id));
        }
        assert_eq!(holds.capacities(), capacities);
        for id in [3, 5, 6, 7] {
            holds.remove(positions[&id]);
        }
        assert_eq!(holds.len(), 0);
        assert!(holds.oldest().is_none());
    }
}
