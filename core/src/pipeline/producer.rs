//! [`Producer`]: the handle that publishes events into a running pipeline.

use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;

use super::error::{panic_message, FailureCause, PipelineError, StageFailure};
use super::fused::{Chain, Fused};
use super::pipeline::Pipeline;
use crate::ring::{MultiProducerSequencer, RingBuffer, Sequencer, SingleProducerSequencer, Slot};

/// Publishes events into a [`Pipeline`]: claims slots, lets the caller fill them in place, and
/// makes them visible to the first stages. Waits, by the topology's producer wait strategy, while
/// the ring is full: nothing is ever dropped or overwritten.
///
/// A producer borrows its pipeline, so the pipeline cannot be shut down while one is alive: drop
/// every producer, then call [`Pipeline::shutdown`]. A single-producer (or fused) pipeline hands
/// out one producer at a time; a multi-producer pipeline one per call, for one thread each.
pub struct Producer<'p, I, O> {
    pipeline: &'p Pipeline<I, O>,
    inner: ProducerInner<'p, I, O>,
}

pub(crate) enum ProducerInner<'p, I, O> {
    Single {
        sequencer: SingleProducerSequencer,
        ring: &'p RingBuffer<Slot<I, O>>,
    },
    Multi {
        sequencer: MultiProducerSequencer,
        ring: &'p RingBuffer<Slot<I, O>>,
    },
    Fused(Fused<I, O, Chain<I, O>>),
    /// Only while being dropped.
    Returned,
}

impl<'p, I, O> Producer<'p, I, O>
where
    I: Default + Send + Sync + 'static,
    O: Default + Send + Sync + 'static,
{
    pub(crate) fn new(pipeline: &'p Pipeline<I, O>, inner: ProducerInner<'p, I, O>) -> Self {
        Self { pipeline, inner }
    }

    /// Publishes one event: `fill` gets its sequence and the slot's input and output (still
    /// holding whatever the slot's previous event left) to write in place. Returns the sequence.
    ///
    /// Fails only when the pipeline has halted; the error is the failure that halted it.
    #[inline]
    pub fn publish(
        &mut self,
        fill: impl FnOnce(u64, &mut I, &mut O),
    ) -> Result<u64, PipelineError> {
        let pipeline = self.pipeline;
        match &mut self.inner {
            ProducerInner::Single { sequencer, ring } => {
                publish_one(pipeline, sequencer, ring, fill)
            }
            ProducerInner::Multi { sequencer, ring } => {
                publish_one(pipeline, sequencer, ring, fill)
            }
            ProducerInner::Fused(fused) => run_fused(pipeline, fused, |fused| fused.publish(fill)),
            ProducerInner::Returned => unreachable!("a producer is returned only when dropped"),
        }
    }

    /// Events that could be published now without waiting for a consumer: the room left in the
    /// ring (with several producers, a hint: another may take some first). A fused pipeline
    /// runs each event to the end as it is published, so it always has room.
    pub fn free_slots(&mut self) -> usize {
        match &mut self.inner {
            ProducerInner::Single { sequencer, .. } => sequencer.free_slots(),
            ProducerInner::Multi { sequencer, .. } => sequencer.free_slots(),
            ProducerInner::Fused(_) => usize::MAX,
            ProducerInner::Returned => unreachable!("a producer is returned only when dropped"),
        }
    }

    /// Publishes `count` events, claimed and published in chunks of up to the topology's
    /// `batch_size_max` (and never more than the ring holds): one claim and one cursor store per
    /// chunk instead of per event. `fill` is called once per event, with its sequence. With
    /// several producers, chunks of different producers may interleave.
    #[inline]
    pub fn publish_batch(
        &mut self,
        count: usize,
        mut fill: impl FnMut(u64, &mut I, &mut O),
    ) -> Result<(), PipelineError> {
        let pipeline = self.pipeline;
        let config = pipeline.topology().config();
        let chunk_max = config.batch_size_max.min(config.ring_capacity);
        let mut remaining = count;
        while remaining > 0 {
            let chunk = remaining.min(chunk_max);
            match &mut self.inner {
                ProducerInner::Single { sequencer, ring } => {
                    publish_claim(pipeline, sequencer, ring, chunk, &mut fill)?;
                }
                ProducerInner::Multi { sequencer, ring } => {
                    publish_claim(pipeline, sequencer, ring, chunk, &mut fill)?;
                }
                ProducerInner::Fused(fused) => {
                    run_fused(pipeline, fused, |fused| {
                        fused.publish_batch(chunk, &mut fill)
                    })?;
                }
                ProducerInner::Returned => unreachable!("a producer is returned only when dropped"),
            }
            remaining -= chunk;
        }
        Ok(())
    }
}

/// Claims one slot, fills it in place, publishes it.
#[inline(always)]
fn publish_one<I, O, S: Sequencer>(
    pipeline: &Pipeline<I, O>,
    sequencer: &mut S,
    ring: &RingBuffer<Slot<I, O>>,
    fill: impl FnOnce(u64, &mut I, &mut O),
) -> Result<u64, PipelineError> {
    let claim = sequencer
        .claim(1)
        .map_err(|_| pipeline.failures().as_error())?;
    let sequence = claim.start();
    fill_claimed(pipeline, ring, sequence, fill);
    sequencer.publish(claim);
    Ok(sequence)
}

/// Claims `count` slots, fills each in place, publishes them together.
#[inline(always)]
fn publish_claim<I, O, S: Sequencer>(
    pipeline: &Pipeline<I, O>,
    sequencer: &mut S,
    ring: &RingBuffer<Slot<I, O>>,
    count: usize,
    mut fill: impl FnMut(u64, &mut I, &mut O),
) -> Result<(), PipelineError> {
    let claim = sequencer
        .claim(count)
        .map_err(|_| pipeline.failures().as_error())?;
    for sequence in claim.sequences() {
        fill_claimed(pipeline, ring, sequence, &mut fill);
    }
    sequencer.publish(claim);
    Ok(())
}

/// Lets `fill` write the slot of `sequence`, which the caller has claimed and not yet published.
#[inline(always)]
fn fill_claimed<I, O>(
    pipeline: &Pipeline<I, O>,
    ring: &RingBuffer<Slot<I, O>>,
    sequence: u64,
    fill: impl FnOnce(u64, &mut I, &mut O),
) {
    let guard = HaltOnUnwind { pipeline, sequence };
    // SAFETY: the caller's claim gives this producer `sequence`'s slot exclusively: every
    // consumer has released it (the sequencer waited for the gating cursors) and no other
    // producer holds it (claims never overlap), until the claim is published.
    let (input, output) = unsafe { Slot::claimed(ring.slot(sequence)) };
    fill(sequence, input, output);
    mem::forget(guard);
}

/// Halts the pipeline if the producer's `fill` panics: an unpublished multi-producer claim would
/// otherwise hold every later sequence back forever.
struct HaltOnUnwind<'a, I, O> {
    pipeline: &'a Pipeline<I, O>,
    sequence: u64,
}

impl<I, O> Drop for HaltOnUnwind<'_, I, O> {
    fn drop(&mut self) {
        self.pipeline.fail(StageFailure {
            stage: "producer".to_string(),
            worker: 0,
            sequence: Some(self.sequence),
            cause: FailureCause::Panicked("the producer panicked while filling the slot".into()),
        });
    }
}

/// Runs a fused chain step, turning a fault or panic into the failure that names its stage.
fn run_fused<I, O, R>(
    pipeline: &Pipeline<I, O>,
    fused: &mut Fused<I, O, Chain<I, O>>,
    step: impl FnOnce(&mut Fused<I, O, Chain<I, O>>) -> Result<R, super::StageFault>,
) -> Result<R, PipelineError>
where
    I: Default,
    O: Default,
{
    if pipeline.is_halted() {
        return Err(pipeline.failures().as_error());
    }
    fused.handler_mut().current = None;
    let cause = match catch_unwind(AssertUnwindSafe(|| step(&mut *fused))) {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(fault)) => FailureCause::Fault(fault.reason().to_string()),
        Err(payload) => FailureCause::Panicked(panic_message(&*payload)),
    };
    let chain = fused.handler();
    let next = fused.published_count();
    let (stage, sequence) = match chain.current {
        Some(index) => (chain.stages[index].name.to_string(), next - 1),
        // The producer's own fill panicked: the sequence was not yet counted.
        None => ("producer".to_string(), next),
    };
    let failure = StageFailure {
        stage,
        worker: 0,
        sequence: Some(sequence),
        cause,
    };
    pipeline.fail(failure.clone());
    Err(PipelineError::StageFailed(failure))
}

impl<I, O> Drop for Producer<'_, I, O> {
    fn drop(&mut self) {
        let full_count = match mem::replace(&mut self.inner, ProducerInner::Returned) {
            ProducerInner::Single { mut sequencer, .. } => {
                let full_count = sequencer.take_full_count();
                self.pipeline.return_single(sequencer);
                full_count
            }
            ProducerInner::Multi { mut sequencer, .. } => sequencer.take_full_count(),
            ProducerInner::Fused(fused) => {
                self.pipeline.return_fused(fused);
                0
            }
            ProducerInner::Returned => 0,
        };
        self.pipeline
            .producer_full_count()
            .fetch_add(full_count, Ordering::Relaxed);
    }
}
