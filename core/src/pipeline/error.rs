//! [`PipelineError`]: every way starting or running a pipeline can fail, each a value that says
//! what and where.

use super::topology::TopologyError;

/// Why a stage stopped the pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureCause {
    /// The handler (or its factory) panicked; the panic's message.
    Panicked(String),
    /// The handler returned a [`StageFault`](super::StageFault); its reason.
    Fault(String),
}

/// A stage that stopped the pipeline: which stage, which worker, at which sequence, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageFailure {
    /// The stage's name; `producer` for a producer that panicked while filling a slot.
    pub stage: String,
    /// The worker within the stage.
    pub worker: usize,
    /// The sequence being handled; `None` when the failure came outside any event (building the
    /// handler, or its `on_shutdown`).
    pub sequence: Option<u64>,
    /// What happened.
    pub cause: FailureCause,
}

impl std::fmt::Display for StageFailure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "stage '{}' (worker {})", self.stage, self.worker)?;
        let (verb, reason) = match &self.cause {
            FailureCause::Panicked(message) => ("panicked", message),
            FailureCause::Fault(reason) => ("failed", reason),
        };
        match self.sequence {
            Some(sequence) => write!(formatter, " {verb} at sequence {sequence}: {reason}"),
            None => write!(
                formatter,
                " {verb} outside any event (starting or stopping): {reason}"
            ),
        }
    }
}

/// Every way a pipeline can fail to start or stop running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PipelineError {
    /// The topology is invalid.
    Topology(TopologyError),
    /// A stage in the topology has no handler registered under its name.
    MissingHandler {
        /// The stage.
        stage: String,
    },
    /// A handler is registered under a name no stage has.
    HandlerWithoutStage {
        /// The name it was registered under.
        name: String,
    },
    /// Two handlers are registered under one name.
    DuplicateHandler {
        /// The name.
        name: String,
    },
    /// Two stages that write the event's output could run on the same slot at once: neither is
    /// after the other.
    ConcurrentWriters {
        /// One of them.
        first: String,
        /// The other.
        second: String,
    },
    /// A worker's thread could not be pinned to its core.
    PinFailed {
        /// The stage.
        stage: String,
        /// The worker.
        worker: usize,
        /// The core it was to run on.
        core: usize,
    },
    /// The operating system would not start a thread.
    SpawnFailed {
        /// The stage.
        stage: String,
        /// The worker.
        worker: usize,
        /// What the operating system said.
        reason: String,
    },
    /// A stage stopped the pipeline.
    StageFailed(StageFailure),
    /// The pipeline has a single producer (or is fused) and its producer is already in use.
    ProducerInUse,
    /// The pipeline halted; [`Pipeline::shutdown`](super::Pipeline::shutdown) says why.
    Halted,
}

impl std::fmt::Display for PipelineError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PipelineError::Topology(error) => write!(formatter, "invalid topology: {error}"),
            PipelineError::MissingHandler { stage } => {
                write!(formatter, "stage '{stage}' has no handler registered")
            }
            PipelineError::HandlerWithoutStage { name } => write!(
                formatter,
                "a handler is registered as '{name}' but the topology has no such stage"
            ),
            PipelineError::DuplicateHandler { name } => {
                write!(formatter, "two handlers are registered as '{name}'")
            }
            PipelineError::ConcurrentWriters { first, second } => write!(
                formatter,
                "stages '{first}' and '{second}' both write the event's output but neither is \
                 after the other; order them with `after`, or make one read only the input"
            ),
            PipelineError::PinFailed {
                stage,
                worker,
                core,
            } => write!(
                formatter,
                "stage '{stage}' (worker {worker}) could not be pinned to core {core}"
            ),
            PipelineError::SpawnFailed {
                stage,
                worker,
                reason,
            } => write!(
                formatter,
                "stage '{stage}' (worker {worker}) could not start a thread: {reason}"
            ),
            PipelineError::StageFailed(failure) => failure.fmt(formatter),
            PipelineError::ProducerInUse => formatter.write_str(
                "this pipeline has one producer and it is in use; drop it before asking again",
            ),
            PipelineError::Halted => formatter.write_str("the pipeline halted"),
        }
    }
}

impl std::error::Error for PipelineError {}

impl From<TopologyError> for PipelineError {
    fn from(error: TopologyError) -> Self {
        PipelineError::Topology(error)
    }
}

/// The first failure in a pipeline: later ones are consequences of it and are not kept.
#[derive(Default)]
pub(crate) struct FirstFailure {
    failure: parking_lot::Mutex<Option<StageFailure>>,
}

impl FirstFailure {
    /// Keeps `failure` if it is the first.
    pub(crate) fn record(&self, failure: StageFailure) {
        self.failure.lock().get_or_insert(failure);
    }

    /// The first failure, if there was one.
    pub(crate) fn get(&self) -> Option<StageFailure> {
        self.failure.lock().clone()
    }

    /// The error a producer reports once the pipeline has halted.
    pub(crate) fn as_error(&self) -> PipelineError {
        self.get()
            .map_or(PipelineError::Halted, PipelineError::StageFailed)
    }
}

/// The message a panic carried, when it was a string.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a value that is not a string".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_names_stage_worker_and_sequence() {
        let failure = StageFailure {
            stage: "route".into(),
            worker: 2,
            sequence: Some(1234),
            cause: FailureCause::Panicked("no bank".into()),
        };
        assert_eq!(
            failure.to_string(),
            "stage 'route' (worker 2) panicked at sequence 1234: no bank"
        );
        let failure = StageFailure {
            sequence: None,
            cause: FailureCause::Fault("disk gone".into()),
            ..failure
        };
        assert_eq!(
            failure.to_string(),
            "stage 'route' (worker 2) failed outside any event (starting or stopping): disk gone"
        );
    }
}
