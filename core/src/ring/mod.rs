//! The ring: a pre-allocated array of slots, the cursors that say who may touch which slot, and
//! the ways threads wait for each other. No payment logic lives here.
//!
//! | file | concept |
//! | --- | --- |
//! | [`ring_buffer`] | [`RingBuffer`]: the power-of-two array of slots |
//! | [`slot`] | [`Slot`]: one entry, split into producer-written input and stage-written output |
//! | [`sequence`] | [`Sequence`]: a cache-padded cursor; [`SequenceGroup`]: several read as one |
//! | [`sequencer`] | [`SingleProducerSequencer`], [`MultiProducerSequencer`]: claim and publish |
//! | [`barrier`] | [`SequenceBarrier`]: what a consumer waits on |
//! | [`wait_strategy`] | [`WaitStrategy`]: busy-spin, spin-then-yield, spin-then-park; [`Signal`] |
//! | [`run_state`] | [`RunState`]: halting and draining |
//!
//! Every `unsafe` in the crate is here or in the consumer and producer loops of
//! [`pipeline`](crate::pipeline), which rely on the protocol these types implement; the one
//! other is the journal's call of `posix_fallocate` (`journal/storage/file.rs`).

pub mod barrier;
pub mod ring_buffer;
pub mod run_state;
pub mod sequence;
pub mod sequencer;
pub mod slot;
pub(crate) mod sync;
pub mod wait_strategy;

pub use barrier::{SequenceBarrier, Upstream};
pub use ring_buffer::RingBuffer;
pub use run_state::{Interrupt, RunState};
pub use sequence::{Sequence, SequenceGroup};
pub use sequencer::{Claim, MultiProducerSequencer, Published, Sequencer, SingleProducerSequencer};
pub use slot::Slot;
pub use wait_strategy::{Signal, WaitStrategy};
