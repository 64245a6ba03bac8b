//! [`MultiProducerSequencer`]: claims for several producing threads at once.

use std::sync::Arc;

use super::{wait_for_space, Claim, Published};
use crate::ring::run_state::{Interrupt, RunState};
use crate::ring::sequence::{Sequence, SequenceGroup};
use crate::ring::sync::{AtomicU64, Ordering};
use crate::ring::wait_strategy::WaitStrategy;

/// The part every producer handle and every first-stage barrier shares.
pub struct MultiProducerShared {
    /// The next sequence to claim, across all producers. Advanced by atomic add.
    claimed: Sequence,
    /// Per slot, the last sequence published into it (`u64::MAX` before its first). A consumer
    /// reads sequence `s` only after seeing `available[s & mask] == s` with `Acquire`; the
    /// producer stores it with `Release` after writing the slot.
    available: Box<[AtomicU64]>,
    /// `capacity - 1`.
    mask: u64,
    /// The cursors of the stages that finish with a slot last.
    gating: SequenceGroup,
}

impl MultiProducerShared {
    /// The count of sequences published contiguously from `next`: scans the availability flags
    /// from `next` and stops at the first slot not yet published.
    ///
    /// It never reads the claim counter, which every producer is adding to: a consumer polling
    /// that line would take it away from them on every poll. The flags alone are enough. A flag
    /// for `s` can only hold `s` (published), an older lap's sequence, or `u64::MAX`: a producer
    /// cannot claim `s + capacity` before every gating cursor has passed `s`, and the caller, at
    /// `next <= s`, has not. So the scan stops by itself, within one lap.
    #[inline]
    pub(crate) fn highest_published(&self, next: u64) -> u64 {
        let end = next + self.available.len() as u64;
        let mut sequence = next;
        while sequence < end {
            let flag = &self.available[(sequence & self.mask) as usize];
            if flag.load(Ordering::Acquire) != sequence {
                break;
            }
            sequence += 1;
        }
        sequence
    }
}

/// Claims and publishes for one of several threads producing into a ring. Clone it for each
/// producing thread: every clone keeps its own cache of the gating minimum.
///
/// A claim is one atomic add on the shared claim counter, so producers never retry against each
/// other. A publish stores each slot's availability flag; consumers scan the flags, so a slot
/// claimed by a slow producer holds back only the sequences after it, never exposes a half-written
/// slot, and no producer waits for another to publish.
pub struct MultiProducerSequencer {
    shared: Arc<MultiProducerShared>,
    /// This handle's last reading of the gating minimum; never ahead of the true minimum.
    gating_cached: u64,
    capacity: u64,
    wait: WaitStrategy,
    run_state: Arc<RunState>,
    /// Claims by this handle that found the ring full and had to wait.
    full_count: u64,
}

impl MultiProducerSequencer {
    /// A sequencer for a ring of `capacity` slots that never laps `gating`.
    pub fn new(
        capacity: usize,
        gating: SequenceGroup,
        wait: WaitStrategy,
        run_state: Arc<RunState>,
    ) -> Self {
        let available = (0..capacity).map(|_| AtomicU64::new(u64::MAX)).collect();
        let gating_cached = gating.minimum();
        Self {
            shared: Arc::new(MultiProducerShared {
                claimed: Sequence::new(0),
                available,
                mask: capacity as u64 - 1,
                gating,
            }),
            gating_cached,
            capacity: capacity as u64,
            wait,
            run_state,
            full_count: 0,
        }
    }

    /// Claims the next `count` slots, waiting while the ring is full. Fails only if the pipeline
    /// halts while waiting; the claim is then abandoned, which is safe only because a halted
    /// pipeline reads nothing more.
    ///
    /// A claim that is not published holds back every sequence after it forever: publish every
    /// claim this returns.
    ///
    /// # Panics
    /// If `count` is 0 or more than the ring holds.
    #[inline(always)]
    pub fn claim(&mut self, count: usize) -> Result<Claim, Interrupt> {
        let count = count as u64;
        assert!(
            count >= 1 && count <= self.capacity,
            "claim of {count} slots"
        );
        let start = self.shared.claimed.fetch_add(count);
        let end = start + count;
        if end > self.gating_cached + self.capacity {
            self.wait_for_space(end)?;
        }
        Ok(Claim { start, end })
    }

    #[inline(never)]
    fn wait_for_space(&mut self, end: u64) -> Result<(), Interrupt> {
        let space = wait_for_space(
            self.wait,
            &self.run_state,
            &self.shared.gating,
            self.capacity,
            end,
        )?;
        self.full_count += u64::from(space.waited);
        self.gating_cached = space.gating_minimum;
        Ok(())
    }

    /// Publishes `claim`: stores each slot's availability flag with `Release`, after the slot's
    /// contents were written.
    #[inline(always)]
    pub fn publish(&mut self, claim: Claim) {
        for sequence in claim.sequences() {
            let flag = &self.shared.available[(sequence & self.shared.mask) as usize];
            flag.store(sequence, Ordering::Release);
        }
        self.run_state.notify();
    }

    /// Slots a claim could take now without waiting, as far as this handle can tell: another
    /// producer may claim some of them first, so this is a hint, not a reservation.
    pub fn free_slots(&mut self) -> usize {
        self.gating_cached = self.shared.gating.minimum();
        let claimed = self.shared.claimed.get();
        self.capacity
            .saturating_sub(claimed.saturating_sub(self.gating_cached)) as usize
    }

    /// What the first consumers' barriers read.
    pub fn published(&self) -> Published {
        Published::Multi(Arc::clone(&self.shared))
    }

    /// Sequences claimed so far by all handles. Equal to the published count once no handle holds
    /// an unpublished claim.
    pub fn claimed_count(&self) -> u64 {
        self.shared.claimed.get()
    }

    /// Claims by this handle that found the ring full and waited for a consumer.
    /// Since the last call: claims that found the ring full and waited for a consumer.
    pub fn take_full_count(&mut self) -> u64 {
        std::mem::take(&mut self.full_count)
    }
}

impl Clone for MultiProducerSequencer {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            gating_cached: self.gating_cached,
            capacity: self.capacity,
            wait: self.wait,
            run_state: Arc::clone(&self.run_state),
            full_count: 0,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn sequencer(capacity: usize, gating: &Arc<Sequence>) -> MultiProducerSequencer {
        MultiProducerSequencer::new(
            capacity,
            SequenceGroup::new(vec![Arc::clone(gating)]),
            WaitStrategy::BusySpin,
            Arc::new(RunState::new(false)),
        )
    }

    #[test]
    fn out_of_order_publishes_become_visible_only_when_contiguous() {
        let consumer = Arc::new(Sequence::new(0));
        let mut first = sequencer(8, &consumer);
        let mut second = first.clone();
        let published = first.published();
        let claim_a = first.claim(2).unwrap();
        let claim_b = second.claim(3).unwrap();
        assert_eq!(claim_a.sequences(), 0..2);
        assert_eq!(claim_b.sequences(), 2..5);
        second.publish(claim_b);
        assert_eq!(
            published.available(0),
            0,
            "0..2 is claimed but not yet published"
        );
        first.publish(claim_a);
        assert_eq!(published.available(0), 5);
        assert_eq!(published.available(3), 5);
        assert_eq!(first.claimed_count(), 5);
    }

    #[test]
    fn free_slots_counts_every_handle_s_claims() {
        let consumer = Arc::new(Sequence::new(0));
        let mut first = sequencer(8, &consumer);
        let mut second = first.clone();
        let claim = first.claim(3).unwrap();
        first.publish(claim);
        let claim = second.claim(2).unwrap();
        second.publish(claim);
        assert_eq!(first.free_slots(), 3);
        consumer.set(5);
        assert_eq!(second.free_slots(), 8);
    }

    #[test]
    fn availability_of_an_older_lap_is_not_mistaken_for_this_one() {
        let consumer = Arc::new(Sequence::new(0));
        let mut producer = sequencer(4, &consumer);
        let published = producer.published();
        let claim = producer.claim(4).unwrap();
        producer.publish(claim);
        consumer.set(4);
        // Slot 0 still says "sequence 0"; sequence 4 is claimed there but not published.
        let claim = producer.claim(1).unwrap();
        assert_eq!(claim.sequences(), 4..5);
        assert_eq!(published.available(4), 4);
        producer.publish(claim);
        assert_eq!(published.available(4), 5);
    }

    #[test]
    fn full_ring_halts_cleanly() {
        let consumer = Arc::new(Sequence::new(0));
        let mut producer = sequencer(2, &consumer);
        let claim = producer.claim(2).unwrap();
        producer.publish(claim);
        producer.run_state.halt();
        assert_eq!(producer.claim(1), Err(Interrupt::Halted));
    }
}
