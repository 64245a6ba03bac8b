//! Sequencers hand out slots to producers: a [`Claim`] on a range of sequences that no consumer
//! still holds, then a publish that makes the range visible to the first consumers.
//!
//! - [`SingleProducerSequencer`]: one producing thread; claims are plain arithmetic and the only
//!   shared write is the published cursor.
//! - [`MultiProducerSequencer`]: several producing threads; claims are one atomic add, and each
//!   slot carries its own availability flag so a consumer never reads a half-written slot.
//!
//! Both claim and publish `n` slots in one step, and both wait (never drop, never overwrite) while
//! the ring is full, by the producer's [`WaitStrategy`].

mod multi;
mod single;

use std::sync::Arc;

pub use multi::MultiProducerSequencer;
pub(crate) use multi::MultiProducerShared;
pub use single::SingleProducerSequencer;

use super::run_state::{Interrupt, RunState};
use super::sequence::{Sequence, SequenceGroup};
use super::wait_strategy::WaitStrategy;

/// What both sequencers do, so a producer loop can be written once for either.
pub trait Sequencer {
    /// Claims the next `count` slots, waiting while the ring is full.
    fn claim(&mut self, count: usize) -> Result<Claim, Interrupt>;

    /// Makes a claim's slots visible to the first consumers.
    fn publish(&mut self, claim: Claim);

    /// Since the last call: claims that found the ring full and had to wait.
    fn take_full_count(&mut self) -> u64;
}

macro_rules! sequencer_by_inherent_methods {
    ($type:ty) => {
        impl Sequencer for $type {
            #[inline(always)]
            fn claim(&mut self, count: usize) -> Result<Claim, Interrupt> {
                <$type>::claim(self, count)
            }

            #[inline(always)]
            fn publish(&mut self, claim: Claim) {
                <$type>::publish(self, claim)
            }

            fn take_full_count(&mut self) -> u64 {
                <$type>::take_full_count(self)
            }
        }
    };
}

sequencer_by_inherent_methods!(SingleProducerSequencer);
sequencer_by_inherent_methods!(MultiProducerSequencer);

/// A range of claimed sequences, `start..end`: the producer holds these slots exclusively until it
/// publishes the claim.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a claim that is never published leaves its slots unseen"]
pub struct Claim {
    start: u64,
    end: u64,
}

impl Claim {
    /// The first claimed sequence.
    #[inline(always)]
    pub fn start(&self) -> u64 {
        self.start
    }

    /// One past the last claimed sequence.
    #[inline(always)]
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The claimed sequences.
    #[inline(always)]
    pub fn sequences(&self) -> std::ops::Range<u64> {
        self.start..self.end
    }
}

/// What a producer learned waiting for room in a full ring.
struct Space {
    /// The gating cursors' minimum once there was room: the new cache.
    gating_minimum: u64,
    /// Whether the ring was full at all, or the first read found room.
    waited: bool,
}

/// Waits, by `wait`, until every gating cursor is within `capacity` of `end`: slots up to `end`
/// are then free to claim. Fails only when the pipeline halts. Both sequencers call this on their
/// slow path, when the claim would pass their cached minimum.
fn wait_for_space(
    wait: WaitStrategy,
    run_state: &RunState,
    gating: &SequenceGroup,
    capacity: u64,
    end: u64,
) -> Result<Space, Interrupt> {
    let mut waited = false;
    let gating_minimum = wait.wait(
        run_state,
        || {
            let minimum = gating.minimum();
            if end <= minimum + capacity {
                Some(minimum)
            } else {
                waited = true;
                None
            }
        },
        || run_state.producer_interrupt(),
    )?;
    Ok(Space {
        gating_minimum,
        waited,
    })
}

/// What the first consumers' barriers read to learn how far the producers have published.
#[derive(Clone)]
pub enum Published {
    /// The single producer's cursor: a count of published sequences.
    Single(Arc<Sequence>),
    /// The multi-producer claim counter and per-slot availability flags.
    Multi(Arc<MultiProducerShared>),
}

impl Published {
    /// The count of sequences published contiguously from 0; at least `next` whenever `next`
    /// sequences are known to be published.
    #[inline(always)]
    pub fn available(&self, next: u64) -> u64 {
        match self {
            Published::Single(cursor) => cursor.get(),
            Published::Multi(shared) => shared.highest_published(next),
        }
    }
}
