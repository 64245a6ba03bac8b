//! [`Handlers`]: the handler factories a pipeline starts from, one per stage name.

use std::sync::Arc;
use std::thread::JoinHandle;

use super::consumer::{self, InputStage, OutputStage, WorkerContext};
use super::handler::{Handler, InputHandler, ReadsInput, Worker};

/// How a stage's handler touches a slot; decides which stages may run side by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Reads the input only: may run beside anything.
    ReadsInput,
    /// Writes the output: must be ordered against every other stage that does.
    WritesOutput,
}

/// A stage's factory with its handler type erased; the consumer loop it spawns is not.
pub(crate) trait StageFactory<I, O>: Send + Sync {
    fn access(&self) -> Access;

    /// Starts one worker's thread, which builds its own handler.
    fn spawn(self: Arc<Self>, context: WorkerContext<I, O>) -> std::io::Result<JoinHandle<()>>;

    /// Builds the stage's handler for a fused chain, on the caller's thread.
    fn build_fused(&self) -> Box<dyn Handler<I, O>>;
}

struct OutputFactory<F>(F);

struct InputFactory<F>(F);

impl<I, O, H, F> StageFactory<I, O> for OutputFactory<F>
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
    H: Handler<I, O> + 'static,
    F: Fn(Worker) -> H + Send + Sync + 'static,
{
    fn access(&self) -> Access {
        Access::WritesOutput
    }

    fn spawn(self: Arc<Self>, context: WorkerContext<I, O>) -> std::io::Result<JoinHandle<()>> {
        consumer::spawn(context, move |worker| OutputStage((self.0)(worker)))
    }

    fn build_fused(&self) -> Box<dyn Handler<I, O>> {
        Box::new((self.0)(Worker::ONLY))
    }
}

impl<I, O, H, F> StageFactory<I, O> for InputFactory<F>
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
    H: InputHandler<I> + 'static,
    F: Fn(Worker) -> H + Send + Sync + 'static,
{
    fn access(&self) -> Access {
        Access::ReadsInput
    }

    fn spawn(self: Arc<Self>, context: WorkerContext<I, O>) -> std::io::Result<JoinHandle<()>> {
        consumer::spawn(context, move |worker| InputStage((self.0)(worker)))
    }

    fn build_fused(&self) -> Box<dyn Handler<I, O>> {
        Box::new(ReadsInput((self.0)(Worker::ONLY)))
    }
}

/// The handlers for a pipeline's stages, by stage name. Each is a factory called once per worker,
/// on that worker's thread after it is pinned, so a handler's memory is first touched by the core
/// that uses it.
///
/// ```
/// use clearway_core::pipeline::{Handler, Handlers, StageFault, Worker};
///
/// struct Double;
/// impl Handler<u64, u64> for Double {
///     fn on_event(&mut self, input: &u64, output: &mut u64, _: u64, _: bool)
///         -> Result<(), StageFault> {
///         *output = input * 2;
///         Ok(())
///     }
/// }
/// let handlers = Handlers::<u64, u64>::new().stage("double", |_: Worker| Double);
/// ```
pub struct Handlers<I, O> {
    pub(crate) entries: Vec<(String, Arc<dyn StageFactory<I, O>>)>,
}

impl<I, O> Handlers<I, O>
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
{
    /// No handlers yet.
    pub fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// Registers the handler of stage `name`, which writes the event's output.
    pub fn stage<H, F>(mut self, name: &str, factory: F) -> Self
    where
        H: Handler<I, O> + 'static,
        F: Fn(Worker) -> H + Send + Sync + 'static,
    {
        self.entries
            .push((name.to_string(), Arc::new(OutputFactory(factory))));
        self
    }

    /// Registers the handler of stage `name`, which reads only the event's input and so may run
    /// beside any other stage.
    pub fn input_stage<H, F>(mut self, name: &str, factory: F) -> Self
    where
        H: InputHandler<I> + 'static,
        F: Fn(Worker) -> H + Send + Sync + 'static,
    {
        self.entries
            .push((name.to_string(), Arc::new(InputFactory(factory))));
        self
    }
}

impl<I, O> Default for Handlers<I, O>
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
{
    fn default() -> Self {
        Self::new()
    }
}
