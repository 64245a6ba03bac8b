//! [`resolve`]: a scenario and the command line made into one set of settings, [`Plan`]; the
//! command line wins field by field ([`Given`] says which flags it gave).

use std::collections::BTreeSet;

use clap::parser::ValueSource;
use clap::ArgMatches;
use clearway_loadgen::{
    Arrival, BankConfig, BankLatency, Schedule, Shape, Trace, WorkloadConfig, RATE_PER_S_DEFAULT,
};

use super::file::{Cap, NetworkSection, Scenario, SwitchSection};
use super::incident::Incident;
use crate::exit::Failure;
use crate::run::args::{ArrivalArg, Rate, RunArgs, Transport};
use crate::slo::Gate;

/// The flags the command line gave, by argument id (the field's name): only these override a
/// scenario's fields.
#[derive(Clone, Debug, Default)]
pub struct Given(BTreeSet<String>);

impl Given {
    /// The flags of `matches` that came from the command line (not defaults).
    pub fn from_matches(matches: &ArgMatches) -> Given {
        Given(
            matches
                .ids()
                .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))
                .map(|id| id.to_string())
                .collect(),
        )
    }

    /// Whether the command line gave flag `id`.
    pub fn has(&self, id: &str) -> bool {
        self.0.contains(id)
    }
}

/// A scenario resolved against the command line: what the drivers play and the run reports.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The scenario's name (`steady` when none was named).
    pub name: String,
    /// The traffic shape.
    pub shape: Shape,
    /// Its send times, ready for the drivers; none at saturation.
    pub schedule: Option<Schedule>,
    /// Seconds of load before the measured window.
    pub warmup_s: f64,
    /// SLO gates.
    pub gates: Vec<Gate>,
    /// What the institutions send.
    pub workload: WorkloadConfig,
    /// The banks.
    pub banks: BankConfig,
    /// Caps set in the network.
    pub caps: Vec<Cap>,
    /// Operator events at set moments.
    pub incidents: Vec<Incident>,
    /// The scenario as run, every field filled in, for `--out`.
    pub resolved: Scenario,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            name: "steady".to_string(),
            shape: Shape::Poisson {
                rate: RATE_PER_S_DEFAULT,
            },
            schedule: None,
            warmup_s: 0.0,
            gates: Vec::new(),
            workload: WorkloadConfig::default(),
            banks: BankConfig::default(),
            caps: Vec::new(),
            incidents: Vec::new(),
            resolved: Scenario::default(),
        }
    }
}

impl Plan {
    /// Sets the scenario's caps in `network` (a fresh network: a recovered data directory keeps
    /// the one it was made with); refuses caps of participants it does not have.
    pub fn apply_caps(&self, network: &mut clearway_core::network::Network) -> Result<(), Failure> {
        for (index, cap) in self.caps.iter().enumerate() {
            let participant = network
                .participants
                .iter_mut()
                .find(|participant| participant.id.0 == cap.participant)
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "scenario {}: network.caps[{index}].participant: the network has no \
                         participant {}",
                        self.name, cap.participant
                    ))
                })?;
            participant.cap_fen = cap.cap_fen;
        }
        Ok(())
    }

    /// Refuses incidents that name no bank of `network` or fall outside the load.
    pub fn check_incidents(
        &self,
        network: &clearway_core::network::Network,
        load_s: f64,
    ) -> Result<(), Failure> {
        for (index, incident) in self.incidents.iter().enumerate() {
            incident
                .check(index, network, load_s)
                .map_err(|error| Failure::usage(format!("scenario {}: {error}", self.name)))?;
        }
        Ok(())
    }
}

/// Makes `args` the settings to run: the scenario it names (or `steady`), with every flag the
/// command line gave taking precedence; then checks them. An invalid scenario or setting is a
/// usage error naming the field and the reason.
pub fn resolve(args: &mut RunArgs, given: &Given) -> Result<(), Failure> {
    let name = args
        .measure
        .scenario
        .clone()
        .unwrap_or_else(|| "steady".to_string());
    let (scenario, name, folder) = Scenario::find(&name).map_err(Failure::usage)?;
    let refuse =
        |field: &str, reason: &str| Failure::usage(format!("scenario {name}: {field}: {reason}"));
    if let Some(seed) = scenario.seed.filter(|_| !given.has("seed")) {
        args.seed = seed;
    }
    if let Some(duration_s) = scenario.duration_s.filter(|_| !given.has("duration")) {
        args.duration = duration_s;
    }
    let warmup_s = args.measure.warmup.or(scenario.warmup_s).unwrap_or(0.0);
    let switch = scenario.switch.clone().unwrap_or_default();
    apply_switch(args, &switch, given).map_err(|(field, reason)| refuse(&field, &reason))?;
    if let Some(config) = scenario
        .network
        .as_ref()
        .and_then(|network| network.config.as_ref())
        .filter(|_| !given.has("config"))
    {
        args.config = Some(folder.join(config));
    }
    let mut banks = scenario.banks.unwrap_or_default();
    if given.has("bank_latency_us") || given.has("bank_latency_sigma") {
        banks.latency = bank_latency(args.bank_latency_us, args.bank_latency_sigma);
    }
    if let Err(error) = banks.validate() {
        return Err(refuse("banks", &format!("{error:?}")));
    }
    let workload = scenario.workload.clone().unwrap_or_default();
    workload
        .validate()
        .map_err(|error| refuse("workload", &format!("{error:?}")))?;
    let defaults = WorkloadConfig::default();
    if workload.rate_per_s != defaults.rate_per_s || workload.arrival != defaults.arrival {
        return Err(refuse(
            "workload.rate_per_s",
            "the rate and arrival process are set in [traffic]",
        ));
    }
    let shape = shape(args, &scenario, given);
    shape
        .validate()
        .map_err(|error| Failure::usage(format!("scenario {name}: {error}")))?;
    let trace = match &shape {
        Shape::Trace { file } => {
            // A trace named on the command line is relative to here; one in a file, to its folder.
            let path = if given.has("shape") {
                file.clone()
            } else {
                folder.join(file)
            };
            Some(Trace::load(&path).map_err(|error| Failure::usage(error.to_string()))?)
        }
        _ => None,
    };
    let schedule = if shape.is_max() {
        None
    } else {
        Some(
            Schedule::new(&shape, trace.clone())
                .map_err(|error| Failure::usage(format!("scenario {name}: {error}")))?,
        )
    };
    // The ledger's tables and the reply schedule are sized for the highest rate offered.
    args.rate = match (&shape, &trace) {
        (Shape::Max, _) => Rate::Max,
        (_, Some(trace)) => Rate::PerSecond(trace.peak_rate_per_s().max(1.0)),
        _ => Rate::PerSecond(shape.peak_rate().unwrap_or(RATE_PER_S_DEFAULT).max(1.0)),
    };
    args.arrival = match shape.arrival() {
        Some(Arrival::Constant) => ArrivalArg::Constant,
        Some(Arrival::Poisson) => ArrivalArg::Poisson,
        None => args.arrival,
    };
    if !(args.duration > 0.0 && args.duration.is_finite()) {
        return Err(Failure::usage(
            "--duration (duration_s) must be a number of seconds above 0",
        ));
    }
    if !(warmup_s >= 0.0 && warmup_s.is_finite()) {
        return Err(Failure::usage(
            "--warmup (warmup_s) must be a number of seconds, 0 or more",
        ));
    }
    let gates = if args.measure.slo.is_empty() {
        scenario.slo.clone().unwrap_or_default()
    } else {
        args.measure.slo.clone()
    };
    let caps = scenario
        .network
        .as_ref()
        .map_or_else(Vec::new, |network| network.caps.clone());
    let incidents = scenario.incidents.clone().unwrap_or_default();
    let resolved = Scenario {
        name: Some(name.clone()),
        description: scenario.description.clone(),
        seed: Some(args.seed),
        duration_s: Some(args.duration),
        warmup_s: Some(warmup_s),
        traffic: Some(shape.clone()),
        slo: Some(gates.clone()),
        switch: Some(SwitchSection {
            topology: Some(args.topology.clone()),
            workers: args.workers,
            producers: args.producers,
            transport: Some(args.transport.name().to_string()),
            mac: Some(args.mac.to_string()),
            cutover_ms: Some(args.cutover_ms),
            bank_timeout_ms: args.bank_timeout_ms,
            retention: args.retention.map(crate::run::memory::format_retention),
        }),
        banks: Some(banks),
        workload: Some(workload.clone()),
        network: Some(NetworkSection {
            config: args.config.clone(),
            caps: caps.clone(),
        }),
        incidents: (!incidents.is_empty()).then(|| incidents.clone()),
    };
    args.measure.plan = Plan {
        name,
        shape,
        schedule,
        warmup_s,
        gates,
        workload,
        banks,
        caps,
        incidents,
        resolved,
    };
    Ok(())
}

/// The traffic shape: `--shape`, else `--rate` (with `--arrival`), else the scenario's (with
/// `--arrival` if given), else the defaults'.
fn shape(args: &RunArgs, scenario: &Scenario, given: &Given) -> Shape {
    let arrival = match args.arrival {
        ArrivalArg::Constant => Arrival::Constant,
        ArrivalArg::Poisson => Arrival::Poisson,
    };
    let from_rate = |rate: Rate| match rate {
        Rate::Max => Shape::Max,
        Rate::PerSecond(rate) => Shape::Poisson { rate }.with_arrival(arrival),
    };
    if let Some(shape) = &args.measure.shape {
        return if given.has("arrival") {
            shape.clone().with_arrival(arrival)
        } else {
            shape.clone()
        };
    }
    if given.has("rate") {
        return from_rate(args.rate);
    }
    match &scenario.traffic {
        Some(shape) if given.has("arrival") => shape.clone().with_arrival(arrival),
        Some(shape) => shape.clone(),
        None => from_rate(args.rate),
    }
}

/// Sets the switch's settings from the scenario where the command line did not give them.
fn apply_switch(
    args: &mut RunArgs,
    switch: &SwitchSection,
    given: &Given,
) -> Result<(), (String, String)> {
    if let Some(topology) = switch.topology.as_ref().filter(|_| !given.has("topology")) {
        args.topology = topology.clone();
    }
    if let Some(workers) = switch.workers.filter(|_| !given.has("workers")) {
        args.workers = Some(workers);
    }
    if let Some(producers) = switch.producers.filter(|_| !given.has("producers")) {
        args.producers = Some(producers);
    }
    if let Some(transport) = switch
        .transport
        .as_ref()
        .filter(|_| !given.has("transport"))
    {
        args.transport = match transport.as_str() {
            "ring" => Transport::Ring,
            "channel" => Transport::Channel,
            other => {
                return Err((
                    "switch.transport".to_string(),
                    format!("{other:?} is not a transport: ring or channel"),
                ))
            }
        };
    }
    if let Some(mac) = switch.mac.as_ref().filter(|_| !given.has("mac")) {
        args.mac = mac
            .parse()
            .map_err(|error: String| ("switch.mac".to_string(), error))?;
    }
    if let Some(cutover_ms) = switch.cutover_ms.filter(|_| !given.has("cutover_ms")) {
        args.cutover_ms = cutover_ms;
    }
    if let Some(timeout_ms) = switch
        .bank_timeout_ms
        .filter(|_| !given.has("bank_timeout_ms"))
    {
        args.bank_timeout_ms = Some(timeout_ms);
    }
    if let Some(retention) = switch
        .retention
        .as_ref()
        .filter(|_| !given.has("retention"))
    {
        args.retention = Some(
            crate::run::memory::parse_retention(retention)
                .map_err(|error| ("switch.retention".to_string(), error))?,
        );
    }
    Ok(())
}

/// The banks' answer time from `--bank-latency-us` and `--bank-latency-sigma`.
pub fn bank_latency(latency_us: u64, sigma: f64) -> BankLatency {
    match (latency_us, sigma > 0.0) {
        (0, _) => BankLatency::Zero,
        (us, false) => BankLatency::Constant { us },
        (median_us, true) => BankLatency::LogNormal { median_us, sigma },
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};
    use clearway_loadgen::Point;

    use super::*;
    use crate::{Cli, Command};

    /// `clearway run ARGS…` resolved, or the refusal's message.
    fn resolved(arguments: &[&str]) -> Result<RunArgs, String> {
        let matches = Cli::command()
            .try_get_matches_from(["clearway", "run"].iter().chain(arguments))
            .map_err(|error| error.to_string())?;
        let cli = Cli::from_arg_matches(&matches).map_err(|error| error.to_string())?;
        let given = Given::from_matches(matches.subcommand().unwrap().1);
        let Command::Run(args) = cli.command else {
            unreachable!("the command is run")
        };
        let mut args = *args;
        resolve(&mut args, &given).map_err(|failure| {
            assert_eq!(failure.code, crate::exit::USAGE, "{}", failure.message);
            failure.message
        })?;
        Ok(args)
    }

    #[test]
    fn without_a_scenario_the_run_is_steady() {
        let args = resolved(&[]).unwrap();
        let plan = &args.measure.plan;
        assert_eq!(plan.name, "steady");
        assert_eq!(plan.shape, Shape::Poisson { rate: 120_000.0 });
        assert_eq!((args.duration, plan.warmup_s), (10.0, 1.0));
        assert_eq!(args.rate, Rate::PerSecond(120_000.0));
        assert!(plan.gates.is_empty());
    }

    #[test]
    fn flags_override_the_scenario_field_by_field() {
        // (arguments, duration, warm-up, shape, gates)
        let profile = || match Scenario::find("double11").unwrap().0.traffic.unwrap() {
            shape @ Shape::Profile { .. } => shape,
            other => panic!("double11 is a profile, not {other:?}"),
        };
        let rows: Vec<(Vec<&str>, f64, f64, Shape, usize)> = vec![
            (vec!["--scenario", "double11"], 40.0, 5.0, profile(), 2),
            (
                vec![
                    "--scenario",
                    "double11",
                    "--duration",
                    "3",
                    "--warmup",
                    "0.5",
                ],
                3.0,
                0.5,
                profile(),
                2,
            ),
            (
                vec!["--scenario", "double11", "--rate", "5000"],
                40.0,
                5.0,
                Shape::Poisson { rate: 5_000.0 },
                2,
            ),
            (
                vec![
                    "--scenario",
                    "double11",
                    "--rate",
                    "5000",
                    "--arrival",
                    "constant",
                ],
                40.0,
                5.0,
                Shape::Constant { rate: 5_000.0 },
                2,
            ),
            (
                vec!["--scenario", "double11", "--slo", "p99<1ms"],
                40.0,
                5.0,
                profile(),
                1,
            ),
            (
                vec!["--shape", "steps:1000@0s,2000@1s", "--arrival", "constant"],
                10.0,
                1.0,
                Shape::Steps {
                    steps: vec![
                        Point {
                            at_s: 0.0,
                            rate: 1_000.0,
                        },
                        Point {
                            at_s: 1.0,
                            rate: 2_000.0,
                        },
                    ],
                    arrival: Arrival::Constant,
                },
                0,
            ),
        ];
        for (arguments, duration_s, warmup_s, shape, gates) in rows {
            let args = resolved(&arguments).unwrap();
            let plan = &args.measure.plan;
            assert_eq!(args.duration, duration_s, "{arguments:?}");
            assert_eq!(plan.warmup_s, warmup_s, "{arguments:?}");
            assert_eq!(plan.shape, shape, "{arguments:?}");
            assert_eq!(plan.gates.len(), gates, "{arguments:?}");
            // The resolved scenario says what ran.
            let written = &plan.resolved;
            assert_eq!(written.duration_s, Some(duration_s));
            assert_eq!(written.traffic.as_ref(), Some(&shape));
        }
        let seeded = resolved(&["--scenario", "double11", "--seed", "5"]).unwrap();
        assert_eq!(seeded.seed, 5);
        assert_eq!(resolved(&["--scenario", "double11"]).unwrap().seed, 11);
        assert_eq!(
            resolved(&["--scenario", "bank-outage"])
                .unwrap()
                .measure
                .plan
                .incidents
                .len(),
            2
        );
    }

    #[test]
    fn an_invalid_scenario_or_setting_is_refused_with_the_field_and_the_reason() {
        let dir = std::env::temp_dir().join(format!("clearway-scenario-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // (scenario text, or none for flags only; extra arguments; a fragment of the refusal)
        let rows: &[(Option<&str>, &[&str], &str)] = &[
            (Some("duration_z = 3"), &[], "duration_z"),
            (
                Some("[traffic]\nshape = \"ramp\"\nfrom = 0.0\nto = 10.0\nover_s = 0.0"),
                &[],
                "traffic.over_s",
            ),
            (
                Some("[switch]\ntransport = \"pigeon\""),
                &[],
                "switch.transport",
            ),
            (Some("[workload]\nrate_per_s = 5.0"), &[], "[traffic]"),
            (
                Some("[traffic]\nshape = \"trace\"\nfile = \"nowhere.csv\""),
                &[],
                "nowhere.csv",
            ),
            (None, &["--scenario", "no-such-one"], "no scenario file"),
            (None, &["--warmup=-1"], "--warmup"),
            (None, &["--duration", "0"], "--duration"),
        ];
        for (index, (text, extra, fragment)) in rows.iter().enumerate() {
            let path = dir.join(format!("bad-{index}.toml"));
            let mut arguments: Vec<&str> = Vec::new();
            let path_text = path.to_str().unwrap().to_string();
            if let Some(text) = text {
                std::fs::write(&path, text).unwrap();
                arguments.extend(["--scenario", path_text.as_str()]);
            }
            arguments.extend_from_slice(extra);
            let refusal = resolved(&arguments).unwrap_err();
            assert!(refusal.contains(fragment), "{arguments:?}: {refusal}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
