//! [`Pipeline`]: a topology running, its threads started and pinned, until it is shut down.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use parking_lot::Mutex;

use super::consumer::WorkerContext;
use super::counters::{PipelineReport, StageCounters, StageReport};
use super::error::{panic_message, FailureCause, FirstFailure, PipelineError, StageFailure};
use super::fused::{Chain, ChainStage, Fused};
use super::handler::{Handler, Worker};
use super::handlers::{Access, Handlers, StageFactory};
use super::producer::{Producer, ProducerInner};
use super::topology::{Mode, ProducerKind, Topology};
use crate::ring::{
    MultiProducerSequencer, RingBuffer, RunState, Sequence, SequenceBarrier, SequenceGroup,
    SingleProducerSequencer, Slot, Upstream,
};

/// A running pipeline: the ring, one pinned thread per worker, and the producer side.
///
/// Start it from a validated [`Topology`] and the [`Handlers`] for its stages, publish through
/// [`Pipeline::producer`], then [`Pipeline::shutdown`]: that drains everything published, joins
/// every thread, and returns the counters, or the failure that stopped the pipeline. A stage
/// that panics or faults halts every thread at its next wait (a producer waiting on a full ring
/// included), so nothing is left spinning and nothing hangs.
///
/// Dropping a pipeline without shutting it down halts it (nothing more is drained) and joins its
/// threads.
pub struct Pipeline<I, O> {
    topology: Topology,
    /// `None` when fused: there is no ring.
    ring: Option<Arc<RingBuffer<Slot<I, O>>>>,
    run_state: Arc<RunState>,
    failures: Arc<FirstFailure>,
    source: Source<I, O>,
    /// Every worker, stages in topological order.
    workers: Vec<WorkerSlot>,
    producer_full_count: AtomicU64,
}

/// Where producers come from.
enum Source<I, O> {
    /// The one single-producer sequencer, parked here while no producer holds it; and its cursor.
    Single(Mutex<Option<SingleProducerSequencer>>, Arc<Sequence>),
    /// A sequencer each producer clones.
    Multi(MultiProducerSequencer),
    /// The fused chain, parked here while no producer holds it.
    Fused(Mutex<Option<FusedChain<I, O>>>),
}

/// A fused topology's chain, ready to run on the producer's thread.
type FusedChain<I, O> = Fused<I, O, Chain<I, O>>;

struct WorkerSlot {
    stage: usize,
    counters: Arc<StageCounters>,
    /// `None` once joined, and always for a fused stage.
    thread: Option<JoinHandle<()>>,
}

impl<I, O> Pipeline<I, O>
where
    I: Default + Send + Sync + 'static,
    O: Default + Send + Sync + 'static,
{
    /// Starts `topology` with `handlers`: checks that every stage has exactly one handler and
    /// that no two output-writing stages can touch a slot at once, allocates the ring, starts and
    /// pins every worker (or, fused, builds the chain), and returns once all of them are ready.
    pub fn start(topology: &Topology, handlers: Handlers<I, O>) -> Result<Self, PipelineError> {
        let factories = match_handlers(topology, handlers)?;
        check_writers(topology, &factories)?;
        let run_state = Arc::new(RunState::new(topology.parks()));
        let failures = Arc::new(FirstFailure::default());
        match topology.config().mode {
            Mode::Pipelined => Self::start_pipelined(topology, factories, run_state, failures),
            Mode::Fused => Self::start_fused(topology, factories, run_state, failures),
        }
    }

    fn start_pipelined(
        topology: &Topology,
        factories: Vec<Arc<dyn StageFactory<I, O>>>,
        run_state: Arc<RunState>,
        failures: Arc<FirstFailure>,
    ) -> Result<Self, PipelineError> {
        let config = topology.config();
        let capacity = config.ring_capacity;
        let ring = Arc::new(RingBuffer::new(capacity, Slot::default));
        let cursors: Vec<Vec<Arc<Sequence>>> = config
            .stages
            .iter()
            .map(|stage| {
                (0..stage.workers)
                    .map(|_| Arc::new(Sequence::new(0)))
                    .collect()
            })
            .collect();
        let group = |stages: &[usize]| {
            SequenceGroup::new(
                stages
                    .iter()
                    .flat_map(|&s| cursors[s].iter().cloned())
                    .collect(),
            )
        };
        let gating = group(topology.terminal());
        let wait = config.producer.wait;
        let (source, published) = match config.producer.kind {
            ProducerKind::Single => {
                let cursor = Arc::new(Sequence::new(0));
                let sequencer = SingleProducerSequencer::new(
                    Arc::clone(&cursor),
                    capacity,
                    gating,
                    wait,
                    Arc::clone(&run_state),
                );
                let published = sequencer.published();
                (
                    Source::Single(Mutex::new(Some(sequencer)), cursor),
                    published,
                )
            }
            ProducerKind::Multi => {
                let sequencer =
                    MultiProducerSequencer::new(capacity, gating, wait, Arc::clone(&run_state));
                let published = sequencer.published();
                (Source::Multi(sequencer), published)
            }
        };

        let mut pipeline = Pipeline {
            topology: topology.clone(),
            ring: Some(Arc::clone(&ring)),
            run_state,
            failures,
            source,
            workers: Vec::new(),
            producer_full_count: AtomicU64::new(0),
        };
        let (started, reports) = mpsc::channel();
        for &stage_index in topology.order() {
            let stage = topology.stage(stage_index);
            let upstreams = topology.upstreams(stage_index);
            let name: Arc<str> = Arc::from(stage.name.as_str());
            for (worker, cursor) in cursors[stage_index].iter().enumerate() {
                let upstream = if upstreams.is_empty() {
                    Upstream::Producer(published.clone())
                } else {
                    Upstream::Stages(group(upstreams))
                };
                let counters = Arc::new(StageCounters::new());
                let context = WorkerContext {
                    stage: Arc::clone(&name),
                    worker: Worker {
                        index: worker,
                        count: stage.workers,
                    },
                    core: stage.cores.get(worker).copied(),
                    ring: Arc::clone(&ring),
                    barrier: SequenceBarrier::new(
                        upstream,
                        stage.wait,
                        Arc::clone(&pipeline.run_state),
                    ),
                    cursor: Arc::clone(cursor),
                    counters: Arc::clone(&counters),
                    batch_size_max: stage.batch_size_max_in(config) as u64,
                    run_state: Arc::clone(&pipeline.run_state),
                    failures: Arc::clone(&pipeline.failures),
                    started: Some(started.clone()),
                };
                match Arc::clone(&factories[stage_index]).spawn(context) {
                    Ok(thread) => pipeline.workers.push(WorkerSlot {
                        stage: stage_index,
                        counters,
                        thread: Some(thread),
                    }),
                    Err(error) => {
                        return Err(pipeline.abort(PipelineError::SpawnFailed {
                            stage: stage.name.clone(),
                            worker,
                            reason: error.to_string(),
                        }))
                    }
                }
            }
        }
        drop(started);
        let mut first_error = None;
        for _ in 0..pipeline.workers.len() {
            match reports.recv() {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    first_error.get_or_insert(error);
                }
                // Every worker reports before it can end, so this is only reached if one died in
                // a way nothing catches; the join below says so.
                Err(_) => break,
            }
        }
        match first_error {
            Some(error) => Err(pipeline.abort(error)),
            None => Ok(pipeline),
        }
    }

    fn start_fused(
        topology: &Topology,
        factories: Vec<Arc<dyn StageFactory<I, O>>>,
        run_state: Arc<RunState>,
        failures: Arc<FirstFailure>,
    ) -> Result<Self, PipelineError> {
        let mut stages = Vec::new();
        let mut workers = Vec::new();
        for &stage_index in topology.order() {
            let name = &topology.stage(stage_index).name;
            let factory = &factories[stage_index];
            let handler =
                catch_unwind(AssertUnwindSafe(|| factory.build_fused())).map_err(|payload| {
                    PipelineError::StageFailed(StageFailure {
                        stage: name.clone(),
                        worker: 0,
                        sequence: None,
                        cause: FailureCause::Panicked(panic_message(&*payload)),
                    })
                })?;
            let counters = Arc::new(StageCounters::new());
            stages.push(ChainStage {
                name: Arc::from(name.as_str()),
                handler,
                counters: Arc::clone(&counters),
            });
            workers.push(WorkerSlot {
                stage: stage_index,
                counters,
                thread: None,
            });
        }
        let chain = Chain {
            stages,
            current: None,
        };
        Ok(Pipeline {
            topology: topology.clone(),
            ring: None,
            run_state,
            failures,
            source: Source::Fused(Mutex::new(Some(Fused::new(chain)))),
            workers,
            producer_full_count: AtomicU64::new(0),
        })
    }

    /// A producer. For a single-producer or fused pipeline, the one producer, or
    /// [`PipelineError::ProducerInUse`] while it is out; for a multi-producer pipeline, a new
    /// handle on every call, one for each producing thread.
    pub fn producer(&self) -> Result<Producer<'_, I, O>, PipelineError> {
        let inner = match &self.source {
            Source::Single(parked, _) => ProducerInner::Single {
                sequencer: parked.lock().take().ok_or(PipelineError::ProducerInUse)?,
                ring: self.ring(),
            },
            Source::Multi(template) => ProducerInner::Multi {
                sequencer: template.clone(),
                ring: self.ring(),
            },
            Source::Fused(parked) => {
                ProducerInner::Fused(parked.lock().take().ok_or(PipelineError::ProducerInUse)?)
            }
        };
        Ok(Producer::new(self, inner))
    }

    fn ring(&self) -> &RingBuffer<Slot<I, O>> {
        self.ring
            .as_deref()
            .expect("a pipelined topology always has a ring")
    }
}

impl<I, O> Pipeline<I, O> {
    /// The topology this pipeline runs.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The counters as they are now: per stage and worker, events, batches, batch sizes and lag.
    /// Reading them costs the stages nothing beyond the cache lines this pulls over.
    pub fn counters(&self) -> PipelineReport {
        let stages: Vec<StageReport> = self
            .topology
            .order()
            .iter()
            .map(|&stage| StageReport {
                name: self.topology.stage(stage).name.clone(),
                workers: self
                    .workers
                    .iter()
                    .filter(|slot| slot.stage == stage)
                    .map(|slot| slot.counters.snapshot())
                    .collect(),
            })
            .collect();
        let published = match &self.source {
            Source::Single(_, cursor) => cursor.get(),
            Source::Multi(template) => template.claimed_count(),
            // Every event passes the first stage of the chain, unless the producer's fill panicked.
            Source::Fused(_) => stages.first().map_or(0, |stage| stage.total().events),
        };
        PipelineReport {
            published,
            producer_full_count: self.producer_full_count.load(Ordering::Relaxed),
            stages,
        }
    }

    /// The failure that halted the pipeline, if one has.
    pub fn failure(&self) -> Option<StageFailure> {
        self.failures.get()
    }

    /// Whether the pipeline has halted.
    pub fn is_halted(&self) -> bool {
        self.run_state.is_halted()
    }

    /// Stops the pipeline cleanly: closes the input at what has been published, lets every stage
    /// drain it, joins every thread, and returns the final counters. No producer can be alive
    /// (each borrows the pipeline), so nothing can be published after the close. If a stage
    /// failed, at any point, the failure is returned instead.
    pub fn shutdown(mut self) -> Result<PipelineReport, PipelineError> {
        match &self.source {
            Source::Single(_, cursor) => self.run_state.close_at(cursor.get()),
            Source::Multi(template) => self.run_state.close_at(template.claimed_count()),
            Source::Fused(parked) => {
                if let Some(fused) = parked.lock().take() {
                    self.finish_fused(fused);
                }
            }
        }
        self.join();
        match self.failures.get() {
            Some(failure) => Err(PipelineError::StageFailed(failure)),
            None => Ok(self.counters()),
        }
    }

    fn finish_fused(&self, mut fused: FusedChain<I, O>) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| fused.handler_mut().on_shutdown())) {
            let stage = fused
                .handler()
                .current
                .map_or("fused".to_string(), |index| {
                    fused.handler().stages[index].name.to_string()
                });
            self.fail(StageFailure {
                stage,
                worker: 0,
                sequence: None,
                cause: FailureCause::Panicked(panic_message(&*payload)),
            });
        }
    }

    /// Records `failure` (if it is the first) and halts every thread.
    pub(crate) fn fail(&self, failure: StageFailure) {
        self.failures.record(failure);
        self.run_state.halt();
    }

    pub(crate) fn failures(&self) -> &FirstFailure {
        &self.failures
    }

    pub(crate) fn producer_full_count(&self) -> &AtomicU64 {
        &self.producer_full_count
    }

    pub(crate) fn return_single(&self, sequencer: SingleProducerSequencer) {
        if let Source::Single(parked, _) = &self.source {
            *parked.lock() = Some(sequencer);
        }
    }

    pub(crate) fn return_fused(&self, fused: FusedChain<I, O>) {
        if let Source::Fused(parked) = &self.source {
            *parked.lock() = Some(fused);
        }
    }

    /// Halts, joins, and hands back `error`: the end of a start that failed part-way.
    fn abort(self, error: PipelineError) -> PipelineError {
        drop(self);
        error
    }

    /// Joins every worker thread still running.
    fn join(&mut self) {
        for slot in &mut self.workers {
            if let Some(thread) = slot.thread.take() {
                if let Err(payload) = thread.join() {
                    // Everything a handler does runs under `catch_unwind`; this is a bug in the
                    // consumer loop itself, and is still reported rather than lost.
                    self.failures.record(StageFailure {
                        stage: self.topology.stage(slot.stage).name.clone(),
                        worker: 0,
                        sequence: None,
                        cause: FailureCause::Panicked(panic_message(&*payload)),
                    });
                }
            }
        }
    }
}

impl<I, O> Drop for Pipeline<I, O> {
    fn drop(&mut self) {
        self.run_state.halt();
        self.join();
    }
}

/// The factory for each stage, by stage index; refuses missing, unknown and duplicate names.
fn match_handlers<I, O>(
    topology: &Topology,
    handlers: Handlers<I, O>,
) -> Result<Vec<Arc<dyn StageFactory<I, O>>>, PipelineError> {
    let mut factories: Vec<Option<Arc<dyn StageFactory<I, O>>>> =
        topology.config().stages.iter().map(|_| None).collect();
    for (name, factory) in handlers.entries {
        let index = topology
            .index_of(&name)
            .ok_or_else(|| PipelineError::HandlerWithoutStage { name: name.clone() })?;
        if factories[index].replace(factory).is_some() {
            return Err(PipelineError::DuplicateHandler { name });
        }
    }
    factories
        .into_iter()
        .enumerate()
        .map(|(index, factory)| {
            factory.ok_or_else(|| PipelineError::MissingHandler {
                stage: topology.stage(index).name.clone(),
            })
        })
        .collect()
}

/// Refuses two output-writing stages that are not ordered: they could hold one slot's output at
/// the same time. Input readers never conflict.
fn check_writers<I, O>(
    topology: &Topology,
    factories: &[Arc<dyn StageFactory<I, O>>],
) -> Result<(), PipelineError> {
    if topology.config().mode == Mode::Fused {
        return Ok(());
    }
    let writers: Vec<usize> = (0..factories.len())
        .filter(|&stage| factories[stage].access() == Access::WritesOutput)
        .collect();
    for (position, &first) in writers.iter().enumerate() {
        for &second in &writers[position + 1..] {
            if !topology.ordered(first, second) {
                return Err(PipelineError::ConcurrentWriters {
                    first: topology.stage(first).name.clone(),
                    second: topology.stage(second).name.clone(),
                });
            }
        }
    }
    Ok(())
}
