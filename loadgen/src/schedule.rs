//! [`ReplySchedule`]: bank replies waiting for their send time, earliest first.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use clearway_core::event::Event;

/// Bank replies held until they are due: a min-heap by due time, replies due at the same ns in
/// the order they were pushed. Pre-sized: a push beyond the capacity is refused, never grown
/// into, so a producer thread that drains it allocates nothing.
#[derive(Debug)]
pub struct ReplySchedule {
    heap: BinaryHeap<Due>,
    capacity: usize,
    /// Pushes so far: the tie-breaker that keeps equal due times in push order.
    pushed: u64,
}

/// [`ReplySchedule::push`] found the schedule at its capacity; the reply was not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduleFull;

#[derive(Debug)]
struct Due {
    due_ns: u64,
    order: u64,
    event: Event,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    /// Reversed, so the max-heap's top is the earliest due time, then the earliest push.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due_ns, other.order).cmp(&(self.due_ns, self.order))
    }
}

impl ReplySchedule {
    /// An empty schedule holding at most `capacity` replies: size it to the replies in flight,
    /// the offered rate times the longest bank latency (late replies wait a bank timeout).
    pub fn with_capacity(capacity: usize) -> ReplySchedule {
        ReplySchedule {
            heap: BinaryHeap::with_capacity(capacity),
            capacity,
            pushed: 0,
        }
    }

    /// Holds `event` until `due_ns`.
    #[inline]
    pub fn push(&mut self, due_ns: u64, event: Event) -> Result<(), ScheduleFull> {
        if self.heap.len() >= self.capacity {
            return Err(ScheduleFull);
        }
        self.heap.push(Due {
            due_ns,
            order: self.pushed,
            event,
        });
        self.pushed += 1;
        Ok(())
    }

    /// The earliest reply if it is due at or before `now_ns`.
    #[inline]
    pub fn pop_due(&mut self, now_ns: u64) -> Option<Event> {
        if self.heap.peek()?.due_ns > now_ns {
            return None;
        }
        self.heap.pop().map(|due| due.event)
    }

    /// When the earliest reply is due, if any is held.
    #[inline]
    pub fn next_due_ns(&self) -> Option<u64> {
        self.heap.peek().map(|due| due.due_ns)
    }

    /// Replies held.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no reply is held.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The most replies it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use clearway_core::event::{ParticipantId, TxnId};

    use super::*;

    fn reply(id: u128) -> Event {
        Event::bank_reply(ParticipantId(10), TxnId(id), true, 1, 0)
    }

    #[test]
    fn replies_come_out_by_due_time_then_push_order() {
        let mut schedule = ReplySchedule::with_capacity(8);
        // (due, id) pushed in this order.
        let pushed: &[(u64, u128)] = &[(50, 1), (10, 2), (30, 3), (10, 4), (50, 5), (0, 6)];
        for &(due_ns, id) in pushed {
            schedule.push(due_ns, reply(id)).unwrap();
        }
        assert_eq!(schedule.len(), 6);
        assert_eq!(schedule.next_due_ns(), Some(0));
        // (now, ids popped by then)
        let rows: &[(u64, &[u128])] = &[
            (0, &[6]),
            (9, &[]),
            (10, &[2, 4]),
            (49, &[3]),
            (1_000, &[1, 5]),
        ];
        for &(now_ns, expected) in rows {
            let mut popped = Vec::new();
            while let Some(event) = schedule.pop_due(now_ns) {
                popped.push(event.txn_id.0);
            }
            assert_eq!(popped, expected, "now {now_ns}");
        }
        assert!(schedule.is_empty());
        assert_eq!(schedule.next_due_ns(), None);
    }

    #[test]
    fn a_full_schedule_refuses_and_does_not_grow() {
        let mut schedule = ReplySchedule::with_capacity(2);
        assert_eq!(schedule.push(5, reply(1)), Ok(()));
        assert_eq!(schedule.push(3, reply(2)), Ok(()));
        assert_eq!(schedule.push(1, reply(3)), Err(ScheduleFull));
        assert_eq!(schedule.len(), 2);
        assert_eq!(schedule.pop_due(10).unwrap().txn_id, TxnId(2));
        assert_eq!(schedule.push(1, reply(3)), Ok(()));
        assert_eq!(schedule.pop_due(10).unwrap().txn_id, TxnId(3));
    }
}
