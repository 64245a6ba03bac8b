//! The consumer loop every worker thread runs: wait on the barrier, handle the batch in place,
//! publish the cursor, count. Monomorphised per handler type, so the handler inlines into it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::cores::pin_current_thread;
use super::counters::StageCounters;
use super::error::{panic_message, FailureCause, FirstFailure, PipelineError, StageFailure};
use super::handler::{Handler, InputHandler, StageFault, Worker};
use crate::ring::{RingBuffer, RunState, Sequence, SequenceBarrier, Slot};

/// A handler seen through the access its stage has to a slot. The two implementations are the
/// only places a consumer turns a slot pointer into references.
pub(crate) trait SlotHandler<I, O> {
    /// Handles the event in `slot`.
    ///
    /// # Safety
    /// `slot` is the ring slot of `sequence`; the worker's barrier covers `sequence` (every
    /// upstream has published it) and this worker has not yet moved its cursor past it.
    unsafe fn handle(
        &mut self,
        slot: *mut Slot<I, O>,
        sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault>;

    fn on_shutdown(&mut self);
}

/// A stage that writes the output.
pub(crate) struct OutputStage<H>(pub(crate) H);

/// A stage that reads only the input.
pub(crate) struct InputStage<H>(pub(crate) H);

impl<I, O, H: Handler<I, O>> SlotHandler<I, O> for OutputStage<H> {
    #[inline(always)]
    unsafe fn handle(
        &mut self,
        slot: *mut Slot<I, O>,
        sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        // SAFETY: the producer published the input and cannot reclaim the slot while this worker
        // holds it (the caller's contract); `Pipeline::start` refused any topology in which another
        // output-writing stage could hold the same slot at once, and each sequence has exactly one
        // worker in a group, so the output is this handler's alone until the cursor moves.
        let (input, output) = unsafe { Slot::stage(slot) };
        self.0.on_event(input, output, sequence, end_of_batch)
    }

    fn on_shutdown(&mut self) {
        self.0.on_shutdown();
    }
}

impl<I, O, H: InputHandler<I>> SlotHandler<I, O> for InputStage<H> {
    #[inline(always)]
    unsafe fn handle(
        &mut self,
        slot: *mut Slot<I, O>,
        sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        // SAFETY: the input is published and nothing writes it until every stage has released the
        // slot (the caller's contract); only the input is referenced, never the output that other
        // stages may be writing.
        let input = unsafe { Slot::input(slot) };
        self.0.on_event(input, sequence, end_of_batch)
    }

    fn on_shutdown(&mut self) {
        self.0.on_shutdown();
    }
}

/// Everything one worker thread needs, moved into it.
pub(crate) struct WorkerContext<I, O> {
    pub(crate) stage: Arc<str>,
    pub(crate) worker: Worker,
    pub(crate) core: Option<usize>,
    pub(crate) ring: Arc<RingBuffer<Slot<I, O>>>,
    pub(crate) barrier: SequenceBarrier,
    /// This worker's cursor: for a worker in a group, every sequence below it that is the
    /// worker's own has been handled.
    pub(crate) cursor: Arc<Sequence>,
    pub(crate) counters: Arc<StageCounters>,
    pub(crate) batch_size_max: u64,
    pub(crate) run_state: Arc<RunState>,
    pub(crate) failures: Arc<FirstFailure>,
    /// Told once whether the worker started (pinned, handler built); dropped after.
    pub(crate) started: Option<Sender<Result<(), PipelineError>>>,
}

impl<I, O> WorkerContext<I, O> {
    fn report_start(&mut self, result: Result<(), PipelineError>) {
        if let Some(started) = self.started.take() {
            // The receiver is gone only if `Pipeline::start` already gave up; nothing to tell.
            let _ = started.send(result);
        }
    }

    fn failure(&self, sequence: Option<u64>, cause: FailureCause) -> StageFailure {
        StageFailure {
            stage: self.stage.to_string(),
            worker: self.worker.index,
            sequence,
            cause,
        }
    }

    fn fail(&self, sequence: Option<u64>, cause: FailureCause) {
        self.failures.record(self.failure(sequence, cause));
        self.run_state.halt();
    }
}

/// Starts a worker thread that builds its handler with `build` and consumes until drained or
/// halted.
pub(crate) fn spawn<I, O, S, F>(
    context: WorkerContext<I, O>,
    build: F,
) -> std::io::Result<JoinHandle<()>>
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
    S: SlotHandler<I, O>,
    F: FnOnce(Worker) -> S + Send + 'static,
{
    let name = format!("{}-{}", context.stage, context.worker.index);
    std::thread::Builder::new()
        .name(name)
        .spawn(move || run(context, build))
}

fn run<I, O, S, F>(mut context: WorkerContext<I, O>, build: F)
where
    S: SlotHandler<I, O>,
    F: FnOnce(Worker) -> S,
{
    if let Some(core) = context.core {
        if pin_current_thread(core).is_err() {
            let error = PipelineError::PinFailed {
                stage: context.stage.to_string(),
                worker: context.worker.index,
                core,
            };
            context.report_start(Err(error));
            return;
        }
    }
    let worker = context.worker;
    let mut handler = match catch_unwind(AssertUnwindSafe(|| build(worker))) {
        Ok(handler) => handler,
        Err(payload) => {
            let cause = FailureCause::Panicked(panic_message(&*payload));
            let failure = context.failure(None, cause);
            context.report_start(Err(PipelineError::StageFailed(failure)));
            return;
        }
    };
    context.report_start(Ok(()));

    let mut current = 0u64;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        consume(&context, &mut handler, &mut current)
    }));
    match outcome {
        Ok(Ok(())) => {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| handler.on_shutdown())) {
                context.fail(None, FailureCause::Panicked(panic_message(&*payload)));
            }
        }
        Ok(Err(fault)) => context.fail(Some(current), FailureCause::Fault(fault.reason().into())),
        Err(payload) => context.fail(
            Some(current),
            FailureCause::Panicked(panic_message(&*payload)),
        ),
    }
}

/// The loop. Returns `Ok` when drained or halted, the handler's fault otherwise; `current` holds
/// the sequence being handled, for the error.
#[inline(always)]
fn consume<I, O, S: SlotHandler<I, O>>(
    context: &WorkerContext<I, O>,
    handler: &mut S,
    current: &mut u64,
) -> Result<(), StageFault> {
    let ring = &*context.ring;
    let step = context.worker.count as u64;
    let own = context.worker.index as u64;
    let mut next = 0u64;
    while let Ok(available) = context.barrier.wait_for(next) {
        let end = available.min(next + context.batch_size_max);
        let events = if step == 1 {
            for sequence in next..end {
                *current = sequence;
                // SAFETY: `sequence < end <= available`: the barrier covers it, and this worker's
                // cursor is still `next <= sequence`.
                unsafe { handler.handle(ring.slot(sequence), sequence, sequence + 1 == end) }?;
            }
            end - next
        } else {
            // A worker group: this worker's sequences are those congruent to `own`.
            let mut sequence = next + (own + step - next % step) % step;
            let mut events = 0;
            while sequence < end {
                *current = sequence;
                let end_of_batch = sequence + step >= end;
                // SAFETY: as above; and no other worker of the group takes this sequence.
                unsafe { handler.handle(ring.slot(sequence), sequence, end_of_batch) }?;
                sequence += step;
                events += 1;
            }
            events
        };
        context.cursor.set(end);
        context.run_state.notify();
        context
            .counters
            .record_batch(end - next, events, available - next);
        next = end;
    }
    Ok(())
}
