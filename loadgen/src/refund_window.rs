//! [`RefundWindow`]: the recent debits refunds are drawn against, with what remains refundable of
//! each.

use clearway_core::event::{Account, TxnId};

/// A debit a refund may name.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Refundable {
    pub(crate) txn_id: TxnId,
    /// The index of its sender among the institutions that send.
    pub(crate) sender_index: usize,
    pub(crate) account: Account,
    /// The original amount less the refunds already sent against it.
    pub(crate) remaining_fen: u64,
    pub(crate) sent_ns: u64,
}

/// A ring of the most recent debits, oldest first, pre-sized: when full, a new debit takes the
/// oldest one's place. Debits arrive in send-time order, so those old enough to refund are a
/// prefix of the ring, found by binary search.
pub(crate) struct RefundWindow {
    entries: Vec<Refundable>,
    capacity: usize,
    /// The oldest entry's index in `entries`, in `0..capacity`.
    head: usize,
}

impl RefundWindow {
    pub(crate) fn new(capacity: usize) -> RefundWindow {
        assert!(capacity > 0);
        RefundWindow {
            entries: Vec::with_capacity(capacity),
            capacity,
            head: 0,
        }
    }

    /// Adds the newest debit; when full, drops the oldest and returns it (with what remained
    /// refundable of it).
    #[inline]
    pub(crate) fn push(&mut self, refundable: Refundable) -> Option<Refundable> {
        if self.entries.len() < self.capacity {
            self.entries.push(refundable);
            None
        } else {
            let dropped = std::mem::replace(&mut self.entries[self.head], refundable);
            self.head = (self.head + 1) % self.capacity;
            Some(dropped)
        }
    }

    /// When the oldest debit it holds was sent; `None` when it holds none.
    #[inline]
    pub(crate) fn oldest_sent_ns(&self) -> Option<u64> {
        (!self.entries.is_empty()).then(|| self.get(0).sent_ns)
    }

    /// How many of the oldest debits were sent at or before `cutoff_ns`.
    #[inline]
    pub(crate) fn count_sent_by(&self, cutoff_ns: u64) -> usize {
        self.count_where(|sent_ns| sent_ns <= cutoff_ns)
    }

    /// How many of the oldest debits were sent before `from_ns`.
    #[inline]
    pub(crate) fn count_sent_before(&self, from_ns: u64) -> usize {
        self.count_where(|sent_ns| sent_ns < from_ns)
    }

    /// How many of the oldest debits have a send time that `before` holds for, `before` being
    /// true up to some send time and false after.
    #[inline]
    fn count_where(&self, before: impl Fn(u64) -> bool) -> usize {
        let (mut low, mut high) = (0, self.entries.len());
        while low < high {
            let middle = low + (high - low) / 2;
            if before(self.get(middle).sent_ns) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }

    /// The `age_rank`th oldest debit, in `0..len`.
    #[inline]
    fn get(&self, age_rank: usize) -> &Refundable {
        &self.entries[(self.head + age_rank) % self.entries.len()]
    }

    /// The `age_rank`th oldest debit, in `0..len`, to take a refund from.
    #[inline]
    pub(crate) fn get_mut(&mut self, age_rank: usize) -> &mut Refundable {
        let length = self.entries.len();
        &mut self.entries[(self.head + age_rank) % length]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn debit(sent_ns: u64) -> Refundable {
        Refundable {
            txn_id: TxnId(u128::from(sent_ns) + 1),
            sender_index: 0,
            account: Account::EMPTY,
            remaining_fen: 100,
            sent_ns,
        }
    }

    #[test]
    fn old_enough_debits_are_counted_across_the_wrap() {
        let mut window = RefundWindow::new(4);
        let rows: &[(&[u64], u64, usize, u64)] = &[
            // (sent times pushed, cutoff, old enough, oldest kept)
            (&[], 10, 0, 0),
            (&[10], 9, 0, 10),
            (&[20, 30], 20, 2, 10),
            (&[40], 100, 4, 10),
            (&[50, 60], 45, 2, 30), // 10 and 20 dropped
            (&[70, 80, 90], 75, 2, 60),
        ];
        let mut dropped = Vec::new();
        for &(pushed, cutoff_ns, expected, oldest_ns) in rows {
            for &sent_ns in pushed {
                dropped.extend(window.push(debit(sent_ns)).map(|debit| debit.sent_ns));
            }
            assert_eq!(
                window.count_sent_by(cutoff_ns),
                expected,
                "cutoff {cutoff_ns}"
            );
            assert_eq!(
                window.count_sent_before(cutoff_ns + 1),
                expected,
                "before {}",
                cutoff_ns + 1
            );
            if !window.entries.is_empty() {
                assert_eq!(window.get_mut(0).sent_ns, oldest_ns);
                assert_eq!(window.oldest_sent_ns(), Some(oldest_ns));
            }
        }
        assert_eq!(dropped, [10, 20, 30, 40, 50]);
        assert_eq!((window.entries.len(), window.entries.capacity()), (4, 4));
    }
}
