//! [`Layout`]: which threads run which of the switch's steps, chosen for the machine or read from
//! a topology file.
//!
//! A topology stage runs one or more *steps* in order on its thread(s): `authorize`, `route`,
//! `prefetch`, `ledger`, `store` and `egress`, named by the steps joined with `-`
//! (`route-prefetch-ledger`). A stage named `journal` writes the input beside authorize: to the
//! data directory's segment files when the run has one (then the store and egress must wait for
//! it), in memory for the replay check otherwise. The built-in layouts add a journal stage when
//! the run has a data directory.

use clearway_core::pipeline::{Mode, ProducerKind, StageConfig, Topology, TopologyConfig};
use clearway_core::ring::WaitStrategy;

use crate::constants::{
    AUTHORIZE_WORKERS_MAX_AUTO, PIPELINED_CORE_COUNT_MIN, RUN_BATCH_SIZE_MAX, RUN_RING_CAPACITY,
};

/// One of the switch's steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// MAC and static checks.
    Authorize,
    /// Status, BIN lookup, link, control events.
    Route,
    /// Loads from the payment store what the ledger's window does not hold.
    Prefetch,
    /// Money.
    Ledger,
    /// Writes decided payments into the payment store.
    Store,
    /// Answers institutions, forwards to banks.
    Egress,
}

impl Step {
    /// In the order every event goes through them.
    pub const ALL: [Step; 6] = [
        Step::Authorize,
        Step::Route,
        Step::Prefetch,
        Step::Ledger,
        Step::Store,
        Step::Egress,
    ];

    /// The name used in stage names and reports.
    pub fn name(self) -> &'static str {
        match self {
            Step::Authorize => "authorize",
            Step::Route => "route",
            Step::Prefetch => "prefetch",
            Step::Ledger => "ledger",
            Step::Store => "store",
            Step::Egress => "egress",
        }
    }

    fn from_name(name: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|step| step.name() == name)
    }
}

/// What a topology stage does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Runs these steps in order.
    Steps(Vec<Step>),
    /// Journals the input: durably with a data directory, in memory otherwise.
    Journal,
}

/// A validated topology and what each of its stages does.
pub struct Layout {
    /// The topology.
    pub topology: Topology,
    /// Per stage, in the topology's stage order.
    pub roles: Vec<Role>,
    /// How it was chosen, for the summary: `auto (2 cores: ...)`, `fused`, a file name.
    pub source: String,
    /// Producer threads: 1 plays institutions, banks and operator; n > 1 means n − 1
    /// institution threads and one for the banks and the operator.
    pub producers: usize,
    /// The producers' cores, one each, or none (unpinned).
    pub producer_cores: Vec<usize>,
}

impl Layout {
    /// Whether some stage records the input (otherwise the producer does).
    pub fn has_journal(&self) -> bool {
        self.roles.contains(&Role::Journal)
    }

    /// A durable run answers nothing, and stores nothing, the journal has not made durable: the
    /// stages of the store and of egress must come after the journal's.
    fn check_egress_waits_for_journal(&self) -> Result<(), String> {
        let journal = self
            .roles
            .iter()
            .position(|role| *role == Role::Journal)
            .ok_or(
                "--data-dir needs a stage named journal in the topology, for the store and egress \
                 to wait on",
            )?;
        for step in [Step::Store, Step::Egress] {
            let stage = self
                .roles
                .iter()
                .position(|role| matches!(role, Role::Steps(steps) if steps.contains(&step)))
                .ok_or_else(|| format!("no stage runs step {}", step.name()))?;
            if self.topology.config().mode == Mode::Pipelined
                && !self.topology.is_upstream(journal, stage)
            {
                return Err(format!(
                    "stage {:?} runs {} but does not wait for the journal: with --data-dir, put \
                     \"journal\" in its `after` (directly or through another stage)",
                    self.topology.stage(stage).name,
                    step.name()
                ));
            }
        }
        Ok(())
    }
}

/// The ring's size and the batch limit, where the command line sets them in place of the
/// layout's (`--ring-capacity`, `--batch-size-max`): what `clearway sweep` varies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    /// Slots in the ring.
    pub ring_capacity: Option<usize>,
    /// The most events a stage takes at once, and the producer publishes at once.
    pub batch_size_max: Option<usize>,
}

/// Builds the layout `choice` names: `auto`, `fused`, `pipelined` or a topology file's path,
/// resized by `sizes`. `journal`: the run writes a durable journal, so the layout must have a
/// journal stage that egress waits for (the built-in ones get one).
pub fn choose(
    choice: &str,
    workers: Option<usize>,
    producers: Option<usize>,
    journal: bool,
    cores: &[usize],
    sizes: Sizes,
) -> Result<Layout, String> {
    if producers == Some(0) {
        return Err("--producers must be at least 1".to_string());
    }
    let (config, source) = match choice {
        "auto" => auto(workers, producers, journal, cores),
        "fused" => (
            fused(journal),
            "fused: every step on the producer's thread".to_string(),
        ),
        "pipelined" => {
            let workers = workers.unwrap_or_else(|| default_workers(cores.len()));
            let producers = producers.unwrap_or(1);
            let pinned = cores.len() > workers + 3 + producers + usize::from(journal);
            (
                pipelined(workers, producers, journal, pinned.then_some(cores)),
                format!(
                    "pipelined: a thread per step, authorize ×{workers}, {}",
                    if pinned {
                        "pinned, busy-spinning"
                    } else {
                        "unpinned, spin-then-yield (more threads than cores)"
                    }
                ),
            )
        }
        path => {
            let text = std::fs::read_to_string(path)
                .map_err(|error| format!("cannot read topology {path}: {error}"))?;
            let config =
                TopologyConfig::from_toml(&text).map_err(|error| format!("{path}: {error}"))?;
            let mut config = config;
            if let Some(producers) = producers {
                if producers > 1 && config.producer.kind != ProducerKind::Multi {
                    return Err(format!(
                        "{path}: --producers {producers} needs a multi-producer ring: set \
                         kind = \"multi\" under [producer]"
                    ));
                }
                config.producer.core = None;
            }
            (config, format!("file {path}"))
        }
    };
    let mut config = config;
    if let Some(capacity) = sizes.ring_capacity {
        config.ring_capacity = capacity;
    }
    if let Some(batch) = sizes.batch_size_max {
        config.batch_size_max = batch;
    }
    let mut layout = from_config(config, source, cores)?;
    if journal {
        layout.check_egress_waits_for_journal()?;
    }
    layout.producers = producers.unwrap_or(match layout.topology.config().producer.kind {
        ProducerKind::Multi if choice == "auto" => AUTO_PRODUCERS,
        _ => 1,
    });
    if layout.topology.config().mode == Mode::Fused && layout.producers > 1 {
        return Err("a fused topology runs on its one producer's thread: use --producers 1".into());
    }
    layout.producer_cores = producer_cores(&layout, cores);
    Ok(layout)
}

/// Producer threads `auto` runs on a machine with cores to spare: two institution threads
/// (~1.5 M signed payments/s each, see loadgen's `payment_cost` example) and one for the banks.
const AUTO_PRODUCERS: usize = 3;

/// Cores `auto` and `pipelined` pin the producers to: the ones right after the first, before the
/// stages' (see `pipelined`).
fn producer_cores(layout: &Layout, cores: &[usize]) -> Vec<usize> {
    match layout.topology.config().producer.core {
        Some(first) => cores
            .iter()
            .copied()
            .skip_while(|&core| core != first)
            .take(layout.producers)
            .collect(),
        None => Vec::new(),
    }
}

/// Validates `config` on `cores` and works out each stage's role.
pub fn from_config(
    config: TopologyConfig,
    source: String,
    cores: &[usize],
) -> Result<Layout, String> {
    let topology = config
        .validate_on(cores)
        .map_err(|error| error.to_string())?;
    let roles = (0..topology.config().stages.len())
        .map(|index| role_of(topology.stage(index)))
        .collect::<Result<Vec<_>, _>>()?;
    check_steps(&topology, &roles)?;
    Ok(Layout {
        topology,
        roles,
        source,
        producers: 1,
        producer_cores: Vec::new(),
    })
}

fn role_of(stage: &StageConfig) -> Result<Role, String> {
    if stage.name == "journal" {
        return Ok(Role::Journal);
    }
    let steps = stage
        .name
        .split('-')
        .map(|part| {
            Step::from_name(part).ok_or_else(|| {
                format!(
                    "stage {:?}: {part:?} is not a step; a stage runs steps named authorize, \
                     route, ledger and egress, joined with '-' (or is the journal)",
                    stage.name
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if stage.workers > 1 && steps != [Step::Authorize] {
        return Err(format!(
            "stage {:?} has {} workers, but only authorize can run as a worker group: route and \
             the ledger keep state that every event in sequence order must see",
            stage.name, stage.workers
        ));
    }
    Ok(Role::Steps(steps))
}

/// Every step once, each after the one before it.
fn check_steps(topology: &Topology, roles: &[Role]) -> Result<(), String> {
    let mut placed: Vec<(Step, usize, usize)> = Vec::new();
    for (stage, role) in roles.iter().enumerate() {
        if let Role::Steps(steps) = role {
            for (position, &step) in steps.iter().enumerate() {
                if placed.iter().any(|&(seen, _, _)| seen == step) {
                    return Err(format!("step {} runs in two stages", step.name()));
                }
                placed.push((step, stage, position));
            }
        }
    }
    for step in Step::ALL {
        if !placed.iter().any(|&(seen, _, _)| seen == step) {
            return Err(format!("no stage runs step {}", step.name()));
        }
    }
    for pair in Step::ALL.windows(2) {
        let find = |step| placed.iter().find(|&&(seen, _, _)| seen == step).copied();
        let (Some((_, first_stage, first_position)), Some((_, second_stage, second_position))) =
            (find(pair[0]), find(pair[1]))
        else {
            continue;
        };
        let ordered = if first_stage == second_stage {
            first_position < second_position
        } else {
            topology.is_upstream(first_stage, second_stage)
        };
        if !ordered {
            return Err(format!(
                "step {} must run after step {}: put its stage after that one",
                pair[1].name(),
                pair[0].name()
            ));
        }
    }
    Ok(())
}

fn default_workers(core_count: usize) -> usize {
    core_count
        .saturating_sub(PIPELINED_CORE_COUNT_MIN - 1)
        .clamp(1, AUTHORIZE_WORKERS_MAX_AUTO)
}

fn auto(
    workers: Option<usize>,
    producers: Option<usize>,
    journal: bool,
    cores: &[usize],
) -> (TopologyConfig, String) {
    match cores.len() {
        0 | 1 => (
            fused(journal),
            "auto, 1 core: fused, every step on the producer's thread".to_string(),
        ),
        count if count < PIPELINED_CORE_COUNT_MIN && journal => {
            // The journal sleeps in fdatasync most of the time, and the store and egress do
            // little per event, so four threads share two cores; the switch thread never waits
            // for the disk.
            let wait = WaitStrategy::SpinThenYield;
            let config = base()
                .producer_wait(wait)
                .stage(journal_stage().wait(wait))
                .stage(StageConfig::new("authorize-route-prefetch-ledger").wait(wait))
                .stage(
                    StageConfig::new("store-egress")
                        .after(["authorize-route-prefetch-ledger", "journal"])
                        .wait(wait),
                );
            (
                config,
                format!(
                    "auto, {count} cores: the producer, the journal beside one switch thread \
                     running authorize, route, prefetch and ledger, and the store and egress \
                     after both; unpinned, spin-then-yield; the store writes on a thread of its \
                     own"
                ),
            )
        }
        count if count < PIPELINED_CORE_COUNT_MIN => {
            let wait = WaitStrategy::SpinThenYield;
            let config = base()
                .producer_wait(wait)
                .stage(StageConfig::new("authorize-route-prefetch-ledger-store-egress").wait(wait));
            (
                config,
                format!(
                    "auto, {count} cores: the producer and one switch thread running every step, \
                     unpinned, spin-then-yield; the store writes on a thread of its own"
                ),
            )
        }
        count => {
            let workers = workers.unwrap_or_else(|| default_workers(count));
            let producers = producers.unwrap_or(if count >= PIPELINED_CORE_COUNT_MIN + 6 {
                AUTO_PRODUCERS
            } else {
                1
            });
            (
                pipelined(workers, producers, journal, Some(cores)),
                format!(
                    "auto, {count} cores: a pinned, busy-spinning thread per step{}, authorize \
                     ×{workers}, {producers} producer thread(s); the store writes on an \
                     unpinned thread of its own",
                    if journal { " and the journal" } else { "" }
                ),
            )
        }
    }
}

fn base() -> TopologyConfig {
    TopologyConfig::new()
        .ring_capacity(RUN_RING_CAPACITY)
        .batch_size_max(RUN_BATCH_SIZE_MAX)
}

/// The journal: reads straight from the producer and takes everything available at once, up
/// to the ring (one write and one sync per batch: group commit).
fn journal_stage() -> StageConfig {
    StageConfig::new("journal").batch_size_max(RUN_RING_CAPACITY)
}

fn fused(journal: bool) -> TopologyConfig {
    let mut config = base().mode(Mode::Fused);
    for step in Step::ALL {
        config = config.stage(StageConfig::new(step.name()));
    }
    with_journal(chain_after(config), journal)
}

/// Adds the journal stage, and makes the store's stage (and so egress, after it) wait for it.
fn with_journal(mut config: TopologyConfig, journal: bool) -> TopologyConfig {
    if !journal {
        return config;
    }
    let journal = config
        .stages
        .iter()
        .position(|stage| stage.name == "journal")
        .unwrap_or_else(|| {
            config.stages.insert(0, journal_stage());
            0
        });
    let name = config.stages[journal].name.clone();
    if let Some(store) = config
        .stages
        .iter_mut()
        .find(|stage| stage.name.split('-').any(|step| step == "store"))
    {
        store.after.push(name);
    }
    config
}

/// A thread per step; pinned to `cores` (leaving the first for the system) when given, the
/// producers first.
fn pipelined(
    workers: usize,
    producers: usize,
    journal: bool,
    cores: Option<&[usize]>,
) -> TopologyConfig {
    let wait = if cores.is_some() {
        WaitStrategy::BusySpin
    } else {
        WaitStrategy::SpinThenYield
    };
    let mut free = cores.map(|cores| cores.iter().copied().skip(1).collect::<Vec<_>>());
    let mut take = |count: usize| -> Vec<usize> {
        match &mut free {
            Some(free) if free.len() >= count => free.drain(..count).collect(),
            _ => Vec::new(),
        }
    };
    let producer = take(producers);
    let mut config = base().producer_wait(wait);
    if producers > 1 {
        config = config.producer_kind(ProducerKind::Multi);
    }
    if let Some(&core) = producer.first() {
        config = config.producer_core(core);
    }
    for step in Step::ALL {
        let count = if step == Step::Authorize { workers } else { 1 };
        let stage = StageConfig::new(step.name())
            .workers(count)
            .cores(take(count))
            .wait(wait);
        config = config.stage(stage);
    }
    let mut config = chain_after(config);
    if journal {
        let stage = journal_stage().cores(take(1)).wait(wait);
        config.stages.insert(0, stage);
    }
    with_journal(config, journal)
}

/// Makes each step's stage run after the one before.
fn chain_after(mut config: TopologyConfig) -> TopologyConfig {
    for index in 1..config.stages.len() {
        let upstream = config.stages[index - 1].name.clone();
        config.stages[index].after = vec![upstream];
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_fits_the_machine() {
        let two = choose("auto", None, None, false, &[0, 1], Sizes::default()).unwrap();
        assert_eq!(two.roles, vec![Role::Steps(Step::ALL.to_vec())]);
        assert_eq!(two.producers, 1);
        let one = choose("auto", None, None, false, &[0], Sizes::default()).unwrap();
        assert_eq!(one.topology.config().mode, Mode::Fused);
        let sixteen: Vec<usize> = (0..16).collect();
        let big = choose("auto", None, None, false, &sixteen, Sizes::default()).unwrap();
        assert_eq!(big.roles.len(), 6);
        assert_eq!(big.topology.stage(0).workers, 4);
        assert_eq!(big.producers, 3);
        assert_eq!(big.producer_cores, vec![1, 2, 3]);
        assert_eq!(big.topology.stage(0).cores, vec![4, 5, 6, 7]);
        assert!(choose("fused", None, Some(2), false, &sixteen, Sizes::default()).is_err());
        assert!(choose("auto", None, Some(0), false, &sixteen, Sizes::default()).is_err());
    }

    #[test]
    fn a_durable_run_answers_after_the_journal() {
        let sixteen: Vec<usize> = (0..16).collect();
        for (choice, cores) in [
            ("auto", vec![0]),
            ("auto", vec![0, 1]),
            ("auto", sixteen.clone()),
            ("fused", vec![0, 1]),
            ("pipelined", vec![0, 1]),
            ("pipelined", sixteen.clone()),
        ] {
            let layout = choose(choice, None, None, true, &cores, Sizes::default()).unwrap();
            let topology = &layout.topology;
            let journal = layout.roles.iter().position(|role| *role == Role::Journal);
            let journal = journal.unwrap_or_else(|| panic!("{choice} on {cores:?}: no journal"));
            let egress = (0..layout.roles.len())
                .find(|&index| topology.stage(index).name.ends_with("egress"))
                .unwrap();
            let store = (0..layout.roles.len())
                .find(|&index| topology.stage(index).name.starts_with("store"))
                .unwrap_or_else(|| panic!("{choice} on {cores:?}: no store stage"));
            if topology.config().mode == Mode::Pipelined {
                assert!(
                    topology.stage(store).after.contains(&"journal".to_string()),
                    "{choice} on {cores:?}"
                );
                assert!(topology.is_upstream(store, egress) || store == egress);
            }
            let order = topology.order();
            let at = |stage| order.iter().position(|&index| index == stage).unwrap();
            assert!(at(journal) < at(egress), "{choice} on {cores:?}");
            assert_eq!(
                topology.stage(journal).batch_size_max,
                Some(RUN_RING_CAPACITY)
            );
        }
        let two = choose("auto", None, None, true, &[0, 1], Sizes::default()).unwrap();
        assert_eq!(
            two.roles,
            vec![
                Role::Journal,
                Role::Steps(vec![
                    Step::Authorize,
                    Step::Route,
                    Step::Prefetch,
                    Step::Ledger
                ]),
                Role::Steps(vec![Step::Store, Step::Egress]),
            ]
        );
        let pinned = choose("auto", None, None, true, &sixteen, Sizes::default()).unwrap();
        assert_eq!(
            pinned.topology.stage(0).cores.len(),
            1,
            "the journal is pinned"
        );
    }

    #[test]
    fn a_durable_run_refuses_a_file_whose_egress_does_not_wait_for_the_journal() {
        let directory =
            std::env::temp_dir().join(format!("clearway-layout-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let rows = [
            (
                "[[stage]]\nname = \"authorize-route-prefetch-ledger-store-egress\"\n",
                "needs a stage named journal",
            ),
            (
                "[[stage]]\nname = \"journal\"\n[[stage]]\nname = \"authorize-route-prefetch-ledger-store-egress\"\n",
                "does not wait for the journal",
            ),
        ];
        for (index, (text, expected)) in rows.iter().enumerate() {
            let path = directory.join(format!("{index}.toml"));
            std::fs::write(&path, text).unwrap();
            let error = choose(
                path.to_str().unwrap(),
                None,
                None,
                true,
                &[0, 1],
                Sizes::default(),
            )
            .err()
            .unwrap_or_default();
            assert!(error.contains(expected), "{text}\n→ {error}");
            assert!(choose(
                path.to_str().unwrap(),
                None,
                None,
                false,
                &[0, 1],
                Sizes::default()
            )
            .is_ok());
        }
        std::fs::remove_dir_all(&directory).unwrap();
    }

    #[test]
    fn refuses_layouts_that_break_the_step_order() {
        let rows: &[(&str, &str)] = &[
            (
                "[[stage]]\nname = \"authorize-route-prefetch-ledger-store\"\n",
                "no stage runs step egress",
            ),
            (
                "[[stage]]\nname = \"route\"\n[[stage]]\nname = \"authorize-prefetch-ledger-store-egress\"\nafter = [\"route\"]\n",
                "step route must run after step authorize",
            ),
            (
                "[[stage]]\nname = \"authorize-route\"\nworkers = 2\n[[stage]]\nname = \"prefetch-ledger-store-egress\"\nafter = [\"authorize-route\"]\n",
                "only authorize can run as a worker group",
            ),
            (
                "[[stage]]\nname = \"authorize-check\"\n",
                "\"check\" is not a step",
            ),
        ];
        for (text, expected) in rows {
            let config = TopologyConfig::from_toml(text).unwrap();
            let error = from_config(config, String::new(), &[0, 1])
                .err()
                .unwrap_or_default();
            assert!(error.contains(expected), "{text}\n→ {error}");
        }
    }

    #[test]
    fn the_shipped_topology_files_are_layouts() {
        for file in ["switch-2core.toml", "switch-16core.toml"] {
            let text = std::fs::read_to_string(format!(
                "{}/../topologies/{file}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            let config = TopologyConfig::from_toml(&text).unwrap();
            let cores: Vec<usize> = (0..16).collect();
            let layout = from_config(config, file.into(), &cores).unwrap();
            assert!(layout.has_journal(), "{file}");
        }
    }
}
