//! [`SingleProducerSequencer`]: claims for one producing thread.

use std::sync::Arc;

use super::{wait_for_space, Claim, Published};
use crate::ring::run_state::{Interrupt, RunState};
use crate::ring::sequence::{Sequence, SequenceGroup};
use crate::ring::wait_strategy::WaitStrategy;

/// Claims and publishes for the one thread that produces into a ring.
///
/// Only `cursor` is shared. The claim position and the cached minimum of the gating cursors are
/// plain fields of the producer's own: a claim is arithmetic and a comparison against the cache,
/// and the gating cursors (the last stages' cursors, on other cores' lines) are read only when the
/// cache says the claim might lap one of them: once per wrap of the ring, not once per claim.
pub struct SingleProducerSequencer {
    /// Published count, shared with the first consumers' barriers; written with `Release`.
    cursor: Arc<Sequence>,
    /// The next sequence to claim; equal to `cursor` between publishes.
    next: u64,
    /// The gating minimum last read; never ahead of the true minimum.
    gating_cached: u64,
    /// The cursors of the stages that finish with a slot last; a claim never laps their minimum.
    gating: SequenceGroup,
    /// Slots in the ring.
    capacity: u64,
    /// How to wait while the ring is full.
    wait: WaitStrategy,
    run_state: Arc<RunState>,
    /// Claims that found the ring full and had to wait.
    full_count: u64,
}

impl SingleProducerSequencer {
    /// A sequencer publishing into `cursor` for a ring of `capacity` slots, never lapping
    /// `gating`.
    pub fn new(
        cursor: Arc<Sequence>,
        capacity: usize,
        gating: SequenceGroup,
        wait: WaitStrategy,
        run_state: Arc<RunState>,
    ) -> Self {
        let next = cursor.get();
        Self {
            cursor,
            next,
            gating_cached: gating.minimum(),
            gating,
            capacity: capacity as u64,
            wait,
            run_state,
            full_count: 0,
        }
    }

    /// Claims the next `count` slots, waiting while the ring is full. Fails only if the pipeline
    /// halts while waiting. A claim that is dropped instead of published is simply claimed again
    /// by the next call.
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
        let end = self.next + count;
        // Slots up to `end` are free once every gating cursor has passed `end - capacity`.
        if end > self.gating_cached + self.capacity {
            self.wait_for_space(end)?;
        }
        Ok(Claim {
            start: self.next,
            end,
        })
    }

    #[inline(never)]
    fn wait_for_space(&mut self, end: u64) -> Result<(), Interrupt> {
        let space = wait_for_space(self.wait, &self.run_state, &self.gating, self.capacity, end)?;
        self.full_count += u64::from(space.waited);
        self.gating_cached = space.gating_minimum;
        Ok(())
    }

    /// Publishes `claim`: its slots become visible to the first consumers, with `Release`.
    ///
    /// # Panics
    /// If `claim` is not the one most recently returned by [`SingleProducerSequencer::claim`].
    #[inline(always)]
    pub fn publish(&mut self, claim: Claim) {
        assert_eq!(claim.start, self.next, "claims are published in order");
        self.next = claim.end;
        self.cursor.set(claim.end);
        self.run_state.notify();
    }

    /// Slots a claim could take now without waiting: the ring's capacity less what the slowest
    /// last stage has not finished. Reads the gating cursors once.
    pub fn free_slots(&mut self) -> usize {
        self.gating_cached = self.gating.minimum();
        (self.capacity - (self.next - self.gating_cached)) as usize
    }

    /// What the first consumers' barriers read.
    pub fn published(&self) -> Published {
        Published::Single(Arc::clone(&self.cursor))
    }

    /// The count of sequences published so far.
    pub fn published_count(&self) -> u64 {
        self.next
    }

    /// Claims that found the ring full and waited for a consumer.
    /// Since the last call: claims that found the ring full and waited for a consumer.
    pub fn take_full_count(&mut self) -> u64 {
        std::mem::take(&mut self.full_count)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn sequencer(capacity: usize, gating: &Arc<Sequence>) -> SingleProducerSequencer {
        SingleProducerSequencer::new(
            Arc::new(Sequence::new(0)),
            capacity,
            SequenceGroup::new(vec![Arc::clone(gating)]),
            WaitStrategy::BusySpin,
            Arc::new(RunState::new(false)),
        )
    }

    #[test]
    fn claims_are_contiguous_and_publish_moves_the_cursor() {
        let consumer = Arc::new(Sequence::new(0));
        let mut sequencer = sequencer(8, &consumer);
        let published = sequencer.published();
        let claim = sequencer.claim(3).unwrap();
        assert_eq!(claim.sequences(), 0..3);
        assert_eq!(published.available(0), 0);
        sequencer.publish(claim);
        assert_eq!(published.available(0), 3);
        let claim = sequencer.claim(5).unwrap();
        assert_eq!(claim.sequences(), 3..8);
        sequencer.publish(claim);
        assert_eq!(sequencer.published_count(), 8);
        assert_eq!(sequencer.take_full_count(), 0);
    }

    #[test]
    fn free_slots_is_the_capacity_less_what_the_gating_cursor_has_not_passed() {
        let consumer = Arc::new(Sequence::new(0));
        let mut sequencer = sequencer(8, &consumer);
        assert_eq!(sequencer.free_slots(), 8);
        let claim = sequencer.claim(6).unwrap();
        sequencer.publish(claim);
        assert_eq!(sequencer.free_slots(), 2);
        consumer.set(4);
        assert_eq!(sequencer.free_slots(), 6);
        consumer.set(6);
        assert_eq!(sequencer.free_slots(), 8);
    }

    #[test]
    fn dropped_claim_is_claimed_again() {
        let consumer = Arc::new(Sequence::new(0));
        let mut sequencer = sequencer(8, &consumer);
        let claim = sequencer.claim(2).unwrap();
        drop(claim);
        assert_eq!(sequencer.claim(2).unwrap().sequences(), 0..2);
    }

    #[test]
    fn full_ring_waits_for_the_gating_cursor_then_halts_cleanly() {
        let consumer = Arc::new(Sequence::new(0));
        let mut sequencer = sequencer(4, &consumer);
        let claim = sequencer.claim(4).unwrap();
        sequencer.publish(claim);
        // The ring is full; once the consumer releases two slots, two can be claimed.
        consumer.set(2);
        let claim = sequencer.claim(2).unwrap();
        assert_eq!(claim.sequences(), 4..6);
        sequencer.publish(claim);
        // Full again; a halt ends the wait with an interrupt instead of spinning forever.
        sequencer.run_state.halt();
        assert_eq!(sequencer.claim(1), Err(Interrupt::Halted));
        assert_eq!(
            sequencer.take_full_count(),
            0,
            "a wait that ended in a halt claimed nothing"
        );
    }

    #[test]
    #[should_panic(expected = "claim of 9 slots")]
    fn claim_larger_than_the_ring_is_refused() {
        let consumer = Arc::new(Sequence::new(0));
        let _ = sequencer(8, &consumer).claim(9);
    }
}
