//! [`TopologyConfig`]: the stages, their order, workers, cores and wait strategies, as a builder
//! and as plain data a file or flags can fill; and [`Topology`], the same once validated.
//!
//! ```toml
//! ring_capacity = 4096
//! batch_size_max = 256
//! mode = "pipelined"            # or "fused": every stage on the producer's thread
//!
//! [producer]
//! kind = "single"               # or "multi"
//! wait = "spin-then-yield"
//! core = 0
//!
//! [[stage]]
//! name = "journal"              # no `after`: reads straight from the producer
//! batch_size_max = 4096         # this stage's own batch limit (default: the topology's)
//!
//! [[stage]]
//! name = "authorize"
//! workers = 2                   # a worker group: worker i takes sequences s % 2 == i
//! cores = [1, 2]
//! wait = "busy-spin"
//!
//! [[stage]]
//! name = "egress"
//! after = ["authorize", "journal"]   # a join: waits for both
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use super::cores;
use crate::constants::{
    BATCH_SIZE_MAX_DEFAULT, RING_CAPACITY_DEFAULT, RING_CAPACITY_MAX, STAGE_COUNT_MAX,
    STAGE_NAME_LENGTH_MAX, WORKERS_PER_STAGE_MAX,
};
use crate::ring::WaitStrategy;

/// How many threads publish into the ring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProducerKind {
    /// One thread: the cheapest claims.
    #[default]
    Single,
    /// Several threads (network ingress), each with its own handle.
    Multi,
}

/// Whether stages get threads of their own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A thread per worker, events handed over through the ring.
    #[default]
    Pipelined,
    /// Every stage, in order, on the producer's own thread, with no ring between them: the
    /// per-core upper bound a pipelined topology is compared against. Runs one handler per
    /// stage whatever the stage's `workers` says.
    Fused,
}

/// The producer side of a topology.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProducerConfig {
    /// One producing thread or several.
    pub kind: ProducerKind,
    /// How a producer waits while the ring is full. It always waits: nothing is dropped.
    pub wait: WaitStrategy,
    /// The core the producing thread should run on. The pipeline does not own that thread, so
    /// it does not pin it; whoever runs the producer calls [`pin_current_thread`] with this.
    ///
    /// [`pin_current_thread`]: super::pin_current_thread
    pub core: Option<usize>,
}

/// One stage of a topology.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageConfig {
    /// Names the stage in handlers, threads, errors and reports: letters, digits, `-` and `_`.
    pub name: String,
    /// The stages this one waits for; empty to read straight from the producer. Two or more make
    /// a join.
    #[serde(default)]
    pub after: Vec<String>,
    /// Threads sharing the stage by sequence; 1 for a single-threaded stage.
    #[serde(default = "workers_default")]
    pub workers: usize,
    /// The core for each worker, in worker order; empty to leave the threads unpinned. Unpinned
    /// threads inherit the affinity of the thread that starts the pipeline: start it before
    /// pinning the producer's thread, or they will share the producer's core.
    #[serde(default)]
    pub cores: Vec<usize>,
    /// How the stage's workers wait for their upstreams.
    #[serde(default)]
    pub wait: WaitStrategy,
    /// Events one of its workers takes from its barrier at once, instead of the topology's
    /// `batch_size_max`: a journal makes one write and one sync per batch, so it takes as much as
    /// it can (up to the ring), while the stages beside it keep batches short for latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size_max: Option<usize>,
}

fn workers_default() -> usize {
    1
}

fn ring_capacity_default() -> usize {
    RING_CAPACITY_DEFAULT
}

fn batch_size_max_default() -> usize {
    BATCH_SIZE_MAX_DEFAULT
}

impl StageConfig {
    /// A single-worker, unpinned, `spin-then-yield` stage that reads from the producer.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            after: Vec::new(),
            workers: 1,
            cores: Vec::new(),
            wait: WaitStrategy::default(),
            batch_size_max: None,
        }
    }

    /// Waits for `upstreams` instead of the producer.
    pub fn after<S: Into<String>>(mut self, upstreams: impl IntoIterator<Item = S>) -> Self {
        self.after = upstreams.into_iter().map(Into::into).collect();
        self
    }

    /// Shares the stage between `workers` threads.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// Pins worker `i` to `cores[i]`.
    pub fn cores(mut self, cores: impl IntoIterator<Item = usize>) -> Self {
        self.cores = cores.into_iter().collect();
        self
    }

    /// Takes up to `batch_size_max` events at once, whatever the topology's limit.
    pub fn batch_size_max(mut self, batch_size_max: usize) -> Self {
        self.batch_size_max = Some(batch_size_max);
        self
    }

    /// The most events one of its workers takes at once under `config`.
    pub fn batch_size_max_in(&self, config: &TopologyConfig) -> usize {
        self.batch_size_max.unwrap_or(config.batch_size_max)
    }

    /// Pins the stage's one worker to `core`.
    pub fn core(self, core: usize) -> Self {
        self.cores([core])
    }

    /// Waits by `wait`.
    pub fn wait(mut self, wait: WaitStrategy) -> Self {
        self.wait = wait;
        self
    }
}

/// A topology as written: a builder in code, or plain data from a file or flags. Validate it
/// with [`TopologyConfig::validate`] to get a [`Topology`] a pipeline can start from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologyConfig {
    /// Slots in the ring; a power of two.
    #[serde(default = "ring_capacity_default")]
    pub ring_capacity: usize,
    /// The most events a consumer takes from its barrier at once, and the most a producer claims
    /// at once when publishing a batch.
    #[serde(default = "batch_size_max_default")]
    pub batch_size_max: usize,
    /// Pipelined or fused.
    #[serde(default)]
    pub mode: Mode,
    /// The producer side.
    #[serde(default)]
    pub producer: ProducerConfig,
    /// The stages, in any order; `after` gives the order that matters.
    #[serde(rename = "stage", default)]
    pub stages: Vec<StageConfig>,
}

impl Default for TopologyConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl TopologyConfig {
    /// A pipelined topology with the default ring, one `spin-then-yield` producer, and no stages.
    pub fn new() -> Self {
        Self {
            ring_capacity: RING_CAPACITY_DEFAULT,
            batch_size_max: BATCH_SIZE_MAX_DEFAULT,
            mode: Mode::Pipelined,
            producer: ProducerConfig::default(),
            stages: Vec::new(),
        }
    }

    /// A chain: each named stage after the one before, all waiting by `wait`, unpinned.
    pub fn chain<S: Into<String>>(names: impl IntoIterator<Item = S>, wait: WaitStrategy) -> Self {
        let mut config = Self::new().producer_wait(wait);
        let mut previous: Option<String> = None;
        for name in names {
            let name = name.into();
            let stage = StageConfig::new(name.clone()).wait(wait);
            config = config.stage(match previous.replace(name) {
                Some(upstream) => stage.after([upstream]),
                None => stage,
            });
        }
        config
    }

    /// Reads a topology from TOML text (the layout in this module's documentation).
    pub fn from_toml(text: &str) -> Result<Self, TopologyError> {
        toml::from_str(text).map_err(|error| TopologyError::Parse {
            reason: error.to_string(),
        })
    }

    /// Sets the ring's size.
    pub fn ring_capacity(mut self, ring_capacity: usize) -> Self {
        self.ring_capacity = ring_capacity;
        self
    }

    /// Sets the batch limit.
    pub fn batch_size_max(mut self, batch_size_max: usize) -> Self {
        self.batch_size_max = batch_size_max;
        self
    }

    /// Sets pipelined or fused.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets single or multi producer.
    pub fn producer_kind(mut self, kind: ProducerKind) -> Self {
        self.producer.kind = kind;
        self
    }

    /// Sets how the producer waits on a full ring.
    pub fn producer_wait(mut self, wait: WaitStrategy) -> Self {
        self.producer.wait = wait;
        self
    }

    /// Sets the producer's core.
    pub fn producer_core(mut self, core: usize) -> Self {
        self.producer.core = Some(core);
        self
    }

    /// Adds a stage.
    pub fn stage(mut self, stage: StageConfig) -> Self {
        self.stages.push(stage);
        self
    }

    /// Checks the topology against the rules and the cores this process may use.
    pub fn validate(&self) -> Result<Topology, TopologyError> {
        self.validate_on(&cores::available_cores())
    }

    /// As [`TopologyConfig::validate`], against a given list of usable cores (empty when they
    /// cannot be read: then any pinning is refused).
    pub fn validate_on(&self, cores_available: &[usize]) -> Result<Topology, TopologyError> {
        self.check_sizes()?;
        let upstreams = self.check_stages()?;
        let order = topological_order(&self.stages, &upstreams)?;
        self.check_cores(cores_available)?;
        let ancestors = ancestors(&order, &upstreams);
        let terminal = (0..self.stages.len())
            .filter(|&stage| !upstreams.iter().any(|list| list.contains(&stage)))
            .collect();
        Ok(Topology {
            config: self.clone(),
            order,
            upstreams,
            ancestors,
            terminal,
            cores_available: cores_available.to_vec(),
        })
    }

    fn check_sizes(&self) -> Result<(), TopologyError> {
        let capacity = self.ring_capacity;
        if !capacity.is_power_of_two() || capacity > RING_CAPACITY_MAX {
            return Err(TopologyError::RingCapacity { capacity });
        }
        if self.batch_size_max == 0
            || self
                .stages
                .iter()
                .any(|stage| stage.batch_size_max == Some(0))
        {
            return Err(TopologyError::BatchSizeZero);
        }
        if self.stages.is_empty() {
            return Err(TopologyError::NoStages);
        }
        if self.stages.len() > STAGE_COUNT_MAX {
            return Err(TopologyError::TooManyStages {
                count: self.stages.len(),
            });
        }
        if self.mode == Mode::Fused && self.producer.kind == ProducerKind::Multi {
            return Err(TopologyError::FusedNeedsSingleProducer);
        }
        Ok(())
    }

    /// Names, workers and upstream references; returns each stage's upstreams as indices.
    fn check_stages(&self) -> Result<Vec<Vec<usize>>, TopologyError> {
        for (index, stage) in self.stages.iter().enumerate() {
            check_name(&stage.name)?;
            if self.stages[..index]
                .iter()
                .any(|other| other.name == stage.name)
            {
                return Err(TopologyError::DuplicateStage {
                    stage: stage.name.clone(),
                });
            }
            if stage.workers == 0 || stage.workers > WORKERS_PER_STAGE_MAX {
                return Err(TopologyError::Workers {
                    stage: stage.name.clone(),
                    workers: stage.workers,
                });
            }
            if !stage.cores.is_empty() && stage.cores.len() != stage.workers {
                return Err(TopologyError::CoresPerWorker {
                    stage: stage.name.clone(),
                    workers: stage.workers,
                    cores: stage.cores.len(),
                });
            }
        }
        self.stages
            .iter()
            .map(|stage| {
                let mut indices = Vec::with_capacity(stage.after.len());
                for upstream in &stage.after {
                    let index = self
                        .stages
                        .iter()
                        .position(|other| &other.name == upstream)
                        .ok_or_else(|| TopologyError::UnknownUpstream {
                            stage: stage.name.clone(),
                            upstream: upstream.clone(),
                        })?;
                    if indices.contains(&index) {
                        return Err(TopologyError::DuplicateUpstream {
                            stage: stage.name.clone(),
                            upstream: upstream.clone(),
                        });
                    }
                    indices.push(index);
                }
                Ok(indices)
            })
            .collect()
    }

    fn check_cores(&self, cores_available: &[usize]) -> Result<(), TopologyError> {
        let check = |owner: &str, core: usize| {
            if cores_available.contains(&core) {
                Ok(())
            } else {
                Err(TopologyError::CoreUnavailable {
                    owner: owner.to_string(),
                    core,
                    available: cores_available.to_vec(),
                })
            }
        };
        if let Some(core) = self.producer.core {
            check("producer", core)?;
        }
        for stage in &self.stages {
            for &core in &stage.cores {
                check(&stage.name, core)?;
            }
        }
        Ok(())
    }
}

fn check_name(name: &str) -> Result<(), TopologyError> {
    let valid = !name.is_empty()
        && name.len() <= STAGE_NAME_LENGTH_MAX
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "-_".contains(character))
        && name != "producer";
    if valid {
        Ok(())
    } else {
        Err(TopologyError::StageName {
            name: name.to_string(),
        })
    }
}

/// Kahn's algorithm; stages that remain once no stage is free form at least one cycle.
fn topological_order(
    stages: &[StageConfig],
    upstreams: &[Vec<usize>],
) -> Result<Vec<usize>, TopologyError> {
    let mut waiting: Vec<usize> = upstreams.iter().map(Vec::len).collect();
    let mut order = Vec::with_capacity(stages.len());
    let mut ready: Vec<usize> = (0..stages.len()).filter(|&s| waiting[s] == 0).collect();
    while let Some(stage) = ready.pop() {
        order.push(stage);
        for (downstream, list) in upstreams.iter().enumerate() {
            if list.contains(&stage) {
                waiting[downstream] -= 1;
                if waiting[downstream] == 0 {
                    ready.push(downstream);
                }
            }
        }
    }
    if order.len() == stages.len() {
        // Stable for readers: by depth (the longest path from the producer), then file order.
        // Computing depths in Kahn's order sees every upstream's depth before its downstreams'.
        let mut depth = vec![0usize; stages.len()];
        for &stage in &order {
            depth[stage] = upstreams[stage]
                .iter()
                .map(|&upstream| depth[upstream] + 1)
                .max()
                .unwrap_or(0);
        }
        order.sort_by_key(|&stage| (depth[stage], stage));
        Ok(order)
    } else {
        let stages = (0..stages.len())
            .filter(|stage| !order.contains(stage))
            .map(|stage| stages[stage].name.clone())
            .collect();
        Err(TopologyError::Cycle { stages })
    }
}

/// Bit `a` of `ancestors[s]` is set when stage `a` is upstream of `s`, directly or not.
fn ancestors(order: &[usize], upstreams: &[Vec<usize>]) -> Vec<u64> {
    const _: () = assert!(STAGE_COUNT_MAX <= 64, "ancestor sets are 64-bit masks");
    let mut ancestors = vec![0u64; upstreams.len()];
    for &stage in order {
        for &upstream in &upstreams[stage] {
            ancestors[stage] |= ancestors[upstream] | (1 << upstream);
        }
    }
    ancestors
}

/// Why a topology was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopologyError {
    /// The text is not a valid topology file.
    Parse {
        /// What the parser said, with the line.
        reason: String,
    },
    /// The ring size is not a power of two, or too large.
    RingCapacity {
        /// The size asked for.
        capacity: usize,
    },
    /// `batch_size_max` is 0.
    BatchSizeZero,
    /// There are no stages.
    NoStages,
    /// More stages than [`STAGE_COUNT_MAX`].
    TooManyStages {
        /// Stages given.
        count: usize,
    },
    /// A stage name is empty, too long, `producer`, or has characters other than letters,
    /// digits, `-` and `_`.
    StageName {
        /// The name.
        name: String,
    },
    /// Two stages share a name.
    DuplicateStage {
        /// The name.
        stage: String,
    },
    /// A stage's `after` names a stage that does not exist.
    UnknownUpstream {
        /// The stage.
        stage: String,
        /// The name it waits for.
        upstream: String,
    },
    /// A stage's `after` names the same stage twice.
    DuplicateUpstream {
        /// The stage.
        stage: String,
        /// The name given twice.
        upstream: String,
    },
    /// Stages wait for each other in a circle.
    Cycle {
        /// Stages on or behind the cycle.
        stages: Vec<String>,
    },
    /// A stage's worker count is 0 or above [`WORKERS_PER_STAGE_MAX`].
    Workers {
        /// The stage.
        stage: String,
        /// The count given.
        workers: usize,
    },
    /// A stage lists cores, but not one per worker.
    CoresPerWorker {
        /// The stage.
        stage: String,
        /// Its workers.
        workers: usize,
        /// Cores listed.
        cores: usize,
    },
    /// A core this process cannot run on.
    CoreUnavailable {
        /// The stage, or `producer`.
        owner: String,
        /// The core asked for.
        core: usize,
        /// The cores this process may use.
        available: Vec<usize>,
    },
    /// A fused topology runs on the producer's thread, so it has exactly one producer.
    FusedNeedsSingleProducer,
}

impl fmt::Display for TopologyError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopologyError::Parse { reason } => write!(formatter, "cannot read topology: {reason}"),
            TopologyError::RingCapacity { capacity } => write!(
                formatter,
                "ring_capacity {capacity} must be a power of two between 1 and {RING_CAPACITY_MAX}"
            ),
            TopologyError::BatchSizeZero => {
                formatter.write_str("batch_size_max must be at least 1")
            }
            TopologyError::NoStages => formatter.write_str("a topology needs at least one stage"),
            TopologyError::TooManyStages { count } => write!(
                formatter,
                "{count} stages is more than the {STAGE_COUNT_MAX} a topology may have"
            ),
            TopologyError::StageName { name } => write!(
                formatter,
                "stage name '{name}' must be 1 to {STAGE_NAME_LENGTH_MAX} letters, digits, '-' \
                 or '_', and not 'producer'"
            ),
            TopologyError::DuplicateStage { stage } => {
                write!(formatter, "two stages are named '{stage}'")
            }
            TopologyError::UnknownUpstream { stage, upstream } => write!(
                formatter,
                "stage '{stage}' is after '{upstream}', but there is no stage '{upstream}'"
            ),
            TopologyError::DuplicateUpstream { stage, upstream } => {
                write!(
                    formatter,
                    "stage '{stage}' lists '{upstream}' twice in `after`"
                )
            }
            TopologyError::Cycle { stages } => write!(
                formatter,
                "stages wait for each other in a cycle: {}",
                stages.join(", ")
            ),
            TopologyError::Workers { stage, workers } => write!(
                formatter,
                "stage '{stage}' has {workers} workers; a stage has 1 to {WORKERS_PER_STAGE_MAX}"
            ),
            TopologyError::CoresPerWorker {
                stage,
                workers,
                cores,
            } => write!(
                formatter,
                "stage '{stage}' lists {cores} cores for {workers} workers; list one core per \
                 worker, or none"
            ),
            TopologyError::CoreUnavailable {
                owner,
                core,
                available,
            } => write!(
                formatter,
                "{owner} is pinned to core {core}, but this process may only run on cores {}",
                core_list(available)
            ),
            TopologyError::FusedNeedsSingleProducer => formatter.write_str(
                "a fused topology runs on the producer's thread and needs producer kind 'single'",
            ),
        }
    }
}

impl std::error::Error for TopologyError {}

fn core_list(cores: &[usize]) -> String {
    if cores.is_empty() {
        return "(none could be read)".to_string();
    }
    cores
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A validated topology: what [`Pipeline::start`](super::Pipeline::start) takes. Printing it
/// shows the stage → core map and wait strategies, and the warnings below.
#[derive(Clone, Debug)]
pub struct Topology {
    config: TopologyConfig,
    /// Stage indices, upstreams before downstreams.
    order: Vec<usize>,
    /// Per stage, its upstreams' indices.
    upstreams: Vec<Vec<usize>>,
    /// Per stage, a mask of every stage upstream of it.
    ancestors: Vec<u64>,
    /// Stages no other stage waits for: the producer must not lap them.
    terminal: Vec<usize>,
    cores_available: Vec<usize>,
}

impl Topology {
    /// The configuration this was validated from.
    pub fn config(&self) -> &TopologyConfig {
        &self.config
    }

    /// Stage indices, every stage after its upstreams.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The stage at `index`.
    pub fn stage(&self, index: usize) -> &StageConfig {
        &self.config.stages[index]
    }

    /// The indices of stage `index`'s upstreams; empty for a stage that reads from the producer.
    pub fn upstreams(&self, index: usize) -> &[usize] {
        &self.upstreams[index]
    }

    /// The stages no other stage waits for.
    pub fn terminal(&self) -> &[usize] {
        &self.terminal
    }

    /// The index of the stage named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.config
            .stages
            .iter()
            .position(|stage| stage.name == name)
    }

    /// Whether stage `upstream` is upstream of stage `downstream`, directly or not: every event
    /// reaches `downstream` only after `upstream` has handled it.
    pub fn is_upstream(&self, upstream: usize, downstream: usize) -> bool {
        self.ancestors[downstream] & (1 << upstream) != 0
    }

    /// Whether stages `first` and `second` are ordered: one waits, directly or not, for the
    /// other, so they never touch a slot at the same time.
    pub fn ordered(&self, first: usize, second: usize) -> bool {
        self.ancestors[first] & (1 << second) != 0 || self.ancestors[second] & (1 << first) != 0
    }

    /// Whether any thread may park, so the pipeline needs a [`Signal`](crate::ring::Signal).
    pub fn parks(&self) -> bool {
        let parks = |wait: WaitStrategy| wait == WaitStrategy::SpinThenPark;
        parks(self.config.producer.wait) || self.config.stages.iter().any(|stage| parks(stage.wait))
    }

    /// Threads the pipeline runs: one per worker, none when fused. The producer's threads are
    /// the caller's and not counted.
    pub fn thread_count(&self) -> usize {
        match self.config.mode {
            Mode::Pipelined => self.config.stages.iter().map(|stage| stage.workers).sum(),
            Mode::Fused => 0,
        }
    }

    /// Things that will make this topology slow on this machine, in words: busy-spinning threads
    /// that outnumber the cores, or two busy-spinning threads pinned to one core.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.config.mode == Mode::Fused {
            return warnings;
        }
        let cores = self.cores_available.len().max(1);
        let producer_spins = self.config.producer.wait == WaitStrategy::BusySpin;
        let spinning: usize = self
            .config
            .stages
            .iter()
            .filter(|stage| stage.wait == WaitStrategy::BusySpin)
            .map(|stage| stage.workers)
            .sum::<usize>()
            + usize::from(producer_spins);
        let threads = self.thread_count() + 1;
        if spinning > 0 && threads > cores {
            warnings.push(format!(
                "{spinning} busy-spinning threads among {threads} (counting one producer) on \
                 {cores} cores: a spinning thread can hold the core the thread it waits for \
                 needs; use spin-then-yield or spin-then-park"
            ));
        }
        let mut pinned_spinners: Vec<(usize, &str)> = Vec::new();
        if let (true, Some(core)) = (producer_spins, self.config.producer.core) {
            pinned_spinners.push((core, "producer"));
        }
        for stage in self
            .config
            .stages
            .iter()
            .filter(|s| s.wait == WaitStrategy::BusySpin)
        {
            pinned_spinners.extend(stage.cores.iter().map(|&core| (core, stage.name.as_str())));
        }
        pinned_spinners.sort();
        for pair in pinned_spinners.windows(2) {
            if pair[0].0 == pair[1].0 {
                warnings.push(format!(
                    "{} and {} both busy-spin on core {}",
                    pair[0].1, pair[1].1, pair[0].0
                ));
            }
        }
        warnings
    }
}

impl fmt::Display for Topology {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.config;
        let producer = &config.producer;
        let mode = match config.mode {
            Mode::Pipelined => "pipelined",
            Mode::Fused => "fused (every stage on the producer's thread)",
        };
        writeln!(
            formatter,
            "topology: {mode}; ring {} slots; batches of up to {}; {} cores available ({})",
            config.ring_capacity,
            config.batch_size_max,
            self.cores_available.len(),
            core_list(&self.cores_available),
        )?;
        let kind = match producer.kind {
            ProducerKind::Single => "single",
            ProducerKind::Multi => "multi",
        };
        writeln!(
            formatter,
            "  {:<12} {:<24} {:<9} {:<12} wait",
            "stage", "after", "workers", "cores"
        )?;
        writeln!(
            formatter,
            "  {:<12} {:<24} {:<9} {:<12} {}",
            "producer",
            "-",
            kind,
            producer
                .core
                .map_or("any".to_string(), |core| core.to_string()),
            producer.wait
        )?;
        for &index in &self.order {
            let stage = &config.stages[index];
            let after = if stage.after.is_empty() {
                "producer".to_string()
            } else {
                stage.after.join(", ")
            };
            let workers = match config.mode {
                Mode::Pipelined => stage.workers.to_string(),
                Mode::Fused => "1 (fused)".to_string(),
            };
            let cores = match (config.mode, stage.cores.is_empty()) {
                (Mode::Fused, _) => "producer's".to_string(),
                (Mode::Pipelined, true) => "any".to_string(),
                (Mode::Pipelined, false) => core_list(&stage.cores),
            };
            let wait = match config.mode {
                Mode::Pipelined => stage.wait.name(),
                Mode::Fused => "-",
            };
            let batches = match stage.batch_size_max {
                Some(batch_size_max) => format!("; batches of up to {batch_size_max}"),
                None => String::new(),
            };
            writeln!(
                formatter,
                "  {:<12} {:<24} {:<9} {:<12} {}{batches}",
                stage.name, after, workers, cores, wait
            )?;
        }
        for warning in self.warnings() {
            writeln!(formatter, "  warning: {warning}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORES: [usize; 4] = [0, 1, 2, 3];

    fn refused(config: TopologyConfig) -> TopologyError {
        config
            .validate_on(&CORES)
            .expect_err("the topology should be refused")
    }

    #[test]
    fn chain_orders_stages_and_finds_the_last() {
        let topology = TopologyConfig::chain(["a", "b", "c"], WaitStrategy::SpinThenYield)
            .validate_on(&CORES)
            .unwrap();
        assert_eq!(topology.order(), &[0, 1, 2]);
        assert_eq!(topology.terminal(), &[2]);
        assert!(topology.ordered(0, 2));
        assert_eq!(topology.upstreams(1), &[0]);
        assert_eq!(topology.thread_count(), 3);
    }

    #[test]
    fn diamond_join_leaves_parallel_branches_unordered() {
        let config = TopologyConfig::new()
            .stage(StageConfig::new("egress").after(["ledger", "journal"]))
            .stage(StageConfig::new("journal"))
            .stage(StageConfig::new("ledger").after(["authorize"]))
            .stage(StageConfig::new("authorize").workers(2));
        let topology = config.validate_on(&CORES).unwrap();
        let index = |name| topology.index_of(name).unwrap();
        assert!(!topology.ordered(index("journal"), index("authorize")));
        assert!(!topology.ordered(index("journal"), index("ledger")));
        assert!(topology.ordered(index("authorize"), index("egress")));
        assert_eq!(topology.terminal(), &[index("egress")]);
        let position = |name| {
            topology
                .order()
                .iter()
                .position(|&s| s == index(name))
                .unwrap()
        };
        assert!(position("authorize") < position("ledger"));
        assert!(position("ledger") < position("egress"));
        assert!(position("journal") < position("egress"));
    }

    /// Every refusal, with the configuration that triggers it and the words it must say.
    #[test]
    fn invalid_topologies_are_refused_with_the_reason() {
        let chain = || TopologyConfig::chain(["a", "b"], WaitStrategy::SpinThenYield);
        let table: Vec<(TopologyConfig, TopologyError, &str)> = vec![
            (
                chain().ring_capacity(1000),
                TopologyError::RingCapacity { capacity: 1000 },
                "power of two",
            ),
            (
                chain().ring_capacity(RING_CAPACITY_MAX * 2),
                TopologyError::RingCapacity {
                    capacity: RING_CAPACITY_MAX * 2,
                },
                "between 1 and",
            ),
            (
                chain().batch_size_max(0),
                TopologyError::BatchSizeZero,
                "at least 1",
            ),
            (
                TopologyConfig::new().stage(StageConfig::new("a").batch_size_max(0)),
                TopologyError::BatchSizeZero,
                "at least 1",
            ),
            (
                TopologyConfig::new(),
                TopologyError::NoStages,
                "at least one stage",
            ),
            (
                TopologyConfig::chain((0..33).map(|i| format!("s{i}")), WaitStrategy::BusySpin),
                TopologyError::TooManyStages { count: 33 },
                "33 stages",
            ),
            (
                TopologyConfig::new().stage(StageConfig::new("no spaces")),
                TopologyError::StageName {
                    name: "no spaces".into(),
                },
                "letters, digits",
            ),
            (
                TopologyConfig::new().stage(StageConfig::new("producer")),
                TopologyError::StageName {
                    name: "producer".into(),
                },
                "not 'producer'",
            ),
            (
                chain().stage(StageConfig::new("a")),
                TopologyError::DuplicateStage { stage: "a".into() },
                "two stages are named 'a'",
            ),
            (
                chain().stage(StageConfig::new("c").after(["x"])),
                TopologyError::UnknownUpstream {
                    stage: "c".into(),
                    upstream: "x".into(),
                },
                "no stage 'x'",
            ),
            (
                chain().stage(StageConfig::new("c").after(["a", "a"])),
                TopologyError::DuplicateUpstream {
                    stage: "c".into(),
                    upstream: "a".into(),
                },
                "twice",
            ),
            (
                TopologyConfig::new()
                    .stage(StageConfig::new("a").after(["c"]))
                    .stage(StageConfig::new("b").after(["a"]))
                    .stage(StageConfig::new("c").after(["b"]))
                    .stage(StageConfig::new("d")),
                TopologyError::Cycle {
                    stages: vec!["a".into(), "b".into(), "c".into()],
                },
                "cycle: a, b, c",
            ),
            (
                TopologyConfig::new().stage(StageConfig::new("a").after(["a"])),
                TopologyError::Cycle {
                    stages: vec!["a".into()],
                },
                "cycle",
            ),
            (
                TopologyConfig::new().stage(StageConfig::new("a").workers(0)),
                TopologyError::Workers {
                    stage: "a".into(),
                    workers: 0,
                },
                "0 workers",
            ),
            (
                TopologyConfig::new().stage(StageConfig::new("a").workers(2).cores([1])),
                TopologyError::CoresPerWorker {
                    stage: "a".into(),
                    workers: 2,
                    cores: 1,
                },
                "one core per worker",
            ),
            (
                TopologyConfig::new().stage(StageConfig::new("a").core(7)),
                TopologyError::CoreUnavailable {
                    owner: "a".into(),
                    core: 7,
                    available: CORES.to_vec(),
                },
                "core 7, but this process may only run on cores 0, 1, 2, 3",
            ),
            (
                chain().producer_core(9),
                TopologyError::CoreUnavailable {
                    owner: "producer".into(),
                    core: 9,
                    available: CORES.to_vec(),
                },
                "producer is pinned to core 9",
            ),
            (
                chain().mode(Mode::Fused).producer_kind(ProducerKind::Multi),
                TopologyError::FusedNeedsSingleProducer,
                "producer kind 'single'",
            ),
        ];
        for (config, expected, words) in table {
            let error = refused(config);
            assert_eq!(error, expected);
            assert!(
                error.to_string().contains(words),
                "'{error}' should say '{words}'"
            );
        }
    }

    #[test]
    fn toml_form_reads_every_field_and_refuses_unknown_ones() {
        let text = r#"
            ring_capacity = 1024
            batch_size_max = 64
            [producer]
            kind = "multi"
            wait = "spin-then-park"
            core = 0
            [[stage]]
            name = "journal"
            [[stage]]
            name = "authorize"
            workers = 2
            cores = [1, 2]
            wait = "busy-spin"
            [[stage]]
            name = "egress"
            after = ["authorize", "journal"]
        "#;
        let config = TopologyConfig::from_toml(text).unwrap();
        let expected = TopologyConfig::new()
            .ring_capacity(1024)
            .batch_size_max(64)
            .producer_kind(ProducerKind::Multi)
            .producer_wait(WaitStrategy::SpinThenPark)
            .producer_core(0)
            .stage(StageConfig::new("journal"))
            .stage(
                StageConfig::new("authorize")
                    .workers(2)
                    .cores([1, 2])
                    .wait(WaitStrategy::BusySpin),
            )
            .stage(StageConfig::new("egress").after(["authorize", "journal"]));
        assert_eq!(config, expected);
        assert!(config.validate_on(&CORES).unwrap().parks());

        let error = TopologyConfig::from_toml("ring_capacity = 8\nrings = 2\n").unwrap_err();
        assert!(
            error.to_string().contains("unknown field `rings`"),
            "{error}"
        );
        let error =
            TopologyConfig::from_toml("[[stage]]\nname = \"a\"\nwait = \"spin\"\n").unwrap_err();
        assert!(error.to_string().contains("line 3"), "{error}");
    }

    #[test]
    fn display_shows_the_core_map_and_warns_about_starving_spinners() {
        let topology = TopologyConfig::chain(["a", "b", "c"], WaitStrategy::BusySpin)
            .producer_core(0)
            .validate_on(&[0, 1])
            .unwrap();
        let text = topology.to_string();
        assert!(text.contains("ring 4096 slots"), "{text}");
        assert!(text.contains("producer"), "{text}");
        assert!(text.contains("busy-spin"), "{text}");
        let warnings = topology.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("4 busy-spinning threads among 4"),
            "{}",
            warnings[0]
        );

        let calm = TopologyConfig::chain(["a", "b", "c"], WaitStrategy::SpinThenYield)
            .validate_on(&[0, 1])
            .unwrap();
        assert!(calm.warnings().is_empty());

        let shared = TopologyConfig::new()
            .stage(StageConfig::new("a").core(1).wait(WaitStrategy::BusySpin))
            .stage(
                StageConfig::new("b")
                    .after(["a"])
                    .core(1)
                    .wait(WaitStrategy::BusySpin),
            )
            .validate_on(&CORES)
            .unwrap();
        assert!(shared
            .warnings()
            .iter()
            .any(|w| w.contains("both busy-spin on core 1")));
    }
}
