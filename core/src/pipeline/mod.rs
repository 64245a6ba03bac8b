//! The pipeline: stages on pinned threads, joined by one ring, described by a [`Topology`].
//!
//! 1. **Describe** the stages with a [`TopologyConfig`] (built in code, or read from TOML) and
//!    [`validate`](TopologyConfig::validate) it into a [`Topology`]. Print it: it shows the
//!    stage → core map, the wait strategies, and warnings such as busy-spinning threads that
//!    outnumber the cores.
//! 2. **Start** it with a [`Handlers`] registry: a factory per stage name, building a [`Handler`]
//!    (writes the event's output) or an [`InputHandler`] (reads only its input) on each worker's
//!    thread.
//! 3. **Publish** through a [`Producer`]: `fill` writes each event in its slot.
//! 4. **Shut down**: drop the producers, then [`Pipeline::shutdown`] drains, joins and returns
//!    the [`PipelineReport`], or the [`StageFailure`] that stopped the pipeline.
//!
//! ```
//! use clearway_core::pipeline::{
//!     Handler, Handlers, Pipeline, StageFault, TopologyConfig, Worker,
//! };
//! use clearway_core::ring::WaitStrategy;
//!
//! /// Adds its input to the running total it writes into the event.
//! struct Total(u64);
//!
//! impl Handler<u64, u64> for Total {
//!     fn on_event(&mut self, input: &u64, output: &mut u64, _sequence: u64, _end: bool)
//!         -> Result<(), StageFault> {
//!         self.0 += input;
//!         *output = self.0;
//!         Ok(())
//!     }
//! }
//!
//! let topology = TopologyConfig::chain(["total"], WaitStrategy::SpinThenYield)
//!     .ring_capacity(64)
//!     .validate()?;
//! let pipeline = Pipeline::start(&topology, Handlers::new().stage("total", |_: Worker| Total(0)))?;
//! {
//!     let mut producer = pipeline.producer()?;
//!     for value in 1..=100u64 {
//!         producer.publish(|_sequence, input, _output| *input = value)?;
//!     }
//! }
//! let report = pipeline.shutdown()?;
//! assert_eq!(report.stages[0].total().events, 100);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | file | concept |
//! | --- | --- |
//! | [`topology`] | [`TopologyConfig`], [`StageConfig`], [`Topology`]: the graph, validated |
//! | [`handler`] | [`Handler`], [`InputHandler`], [`StageFault`], [`Worker`] |
//! | [`handlers`] | [`Handlers`]: factories by stage name |
//! | [`pipeline`](mod@self::pipeline) | [`Pipeline`]: start, counters, shutdown |
//! | [`producer`] | [`Producer`]: publish one event or a batch |
//! | `consumer` | the loop every worker thread runs |
//! | [`fused`] | [`Fused`]: every stage on one thread, the per-core bound |
//! | [`counters`] | [`StageCounters`], [`PipelineReport`] |
//! | [`cores`] | the cores this process may use; pinning |
//! | [`error`] | [`PipelineError`], [`StageFailure`] |

pub mod cores;
pub mod counters;
pub mod error;
pub mod fused;
pub mod handler;
pub mod handlers;
pub mod producer;
pub mod topology;

mod consumer;
// The module is named after the concept it holds, as every other module here is.
#[allow(clippy::module_inception)]
pub mod pipeline;

pub use cores::{available_cores, pin_current_thread, PinError};
pub use counters::{CountersSnapshot, PipelineReport, StageCounters, StageReport};
pub use error::{FailureCause, PipelineError, StageFailure};
pub use fused::Fused;
pub use handler::{Handler, InputHandler, ReadsInput, StageFault, Worker};
pub use handlers::Handlers;
pub use pipeline::Pipeline;
pub use producer::Producer;
pub use topology::{
    Mode, ProducerConfig, ProducerKind, StageConfig, Topology, TopologyConfig, TopologyError,
};
