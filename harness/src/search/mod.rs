//! `clearway search`: the sustainable throughput, the highest offered rate at which every SLO
//! gate of the scenario still holds. Peak throughput is not capacity: a switch answers faster
//! than it can keep up with for a while, and then its queues grow without bound.
//!
//! The principal function is [`bisect::search`]: bracket then bisect on the rate, each rate
//! tried several times, over any [`bisect::System`]. The real system is [`trials::Trials`]:
//! each trial a `clearway run` (or `clearway load --target`) of its own at one steady rate.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `bisect.rs` | the search itself, its settings, its record of every trial, and how it ended |
//! | `trials.rs` | trials as processes: a probe per trial, judged from its summary |
//! | `args.rs` | the command's flags |
//! | `mod.rs` | the command: gates chosen, trials printed as they end, the answer and search.json |

pub(crate) mod args;
pub(crate) mod bisect;
pub(crate) mod trials;

pub use args::{SearchArgs, TrialArgs};

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use crate::constants::SEARCH_GATES_DEFAULT;
use crate::exit::{Failure, SLO_FAILED};
use crate::probe::Probe;
use crate::run::environment::Environment;
use crate::run::latency::human_ns;
use crate::run::summary::thousands;
use crate::scenario::Scenario;
use bisect::{Ending, Found, ProbeRecord, Settings};

/// What `clearway search` found, as search.json and `--json` hold it (docs/OUTPUT.md).
#[derive(Clone, Debug, Serialize)]
pub struct SearchSummary {
    /// `search`.
    pub command: &'static str,
    /// The node searched, or `None` for the embedded switch.
    pub target: Option<String>,
    /// The scenario each trial played.
    pub scenario: String,
    /// The gates each trial was held to.
    pub gates: Vec<String>,
    /// Where the gates came from: `flags`, `scenario` or `default`.
    pub gates_from: &'static str,
    /// How the search went.
    pub settings: Settings,
    /// Seconds each trial measured, after `warmup_s`.
    pub duration_s: f64,
    /// Seconds of warm-up before each trial's window.
    pub warmup_s: f64,
    /// The cores each trial was limited to, if any.
    pub cores: Option<usize>,
    /// The flags every trial was also given.
    pub trial_flags: Vec<String>,
    /// The highest rate at which every trial held, payments/s; `None` when no rate held.
    pub sustainable_per_s: Option<f64>,
    /// The lowest rate at which a trial failed; `None` when none did.
    pub first_fail_per_s: Option<f64>,
    /// `first_fail_per_s − sustainable_per_s`, when both are known.
    pub uncertainty_per_s: Option<f64>,
    /// `converged`, `held_up_to_max` or `failed_down_to_min`.
    pub ending: Ending,
    /// Every trial, in order.
    pub probes: Vec<ProbeRecord>,
    /// The machine the search ran on.
    pub environment: Environment,
    /// The folder holding search.json and the trials' folders.
    pub out: String,
}

/// Runs `clearway search`.
pub fn run(args: SearchArgs) -> ExitCode {
    match search(&args) {
        Ok(summary) => {
            let code = if summary.sustainable_per_s.is_some() {
                0
            } else {
                SLO_FAILED
            };
            ExitCode::from(code)
        }
        Err(Failure { message, code }) => {
            eprintln!("clearway: {message}");
            ExitCode::from(code)
        }
    }
}

fn search(args: &SearchArgs) -> Result<SearchSummary, Failure> {
    let trials = &args.trials;
    let settings = settings(trials)?;
    let scenario_name = trials
        .scenario
        .clone()
        .unwrap_or_else(|| "steady".to_string());
    let (gates, gates_from) = gates(trials, &scenario_name)?;
    let probe = probe(args.target.as_deref(), trials, &gates, Vec::new())?;
    let out = folder(trials, "search")?;

    let target = match &args.target {
        Some(address) => format!("the node at {address}"),
        None => "the embedded switch".to_string(),
    };
    println!("search       sustainable throughput of {target}, scenario {scenario_name}");
    print!("{}", header(trials, &gates, gates_from, &out));
    let found = search_with(probe, &out.join("trials"), &settings, |line| {
        print!("{line}");
        let _ = std::io::stdout().flush();
    })?;
    print!("{}", answer(&found, &settings));

    let summary = SearchSummary {
        command: "search",
        target: args.target.clone(),
        scenario: scenario_name,
        gates,
        gates_from,
        settings,
        duration_s: trials.duration,
        warmup_s: trials.warmup,
        cores: trials.cores,
        trial_flags: flag_texts(&trials.trial_flags),
        sustainable_per_s: found.sustainable_per_s,
        first_fail_per_s: found.first_fail_per_s,
        uncertainty_per_s: found.uncertainty_per_s(),
        ending: found.ending,
        probes: found.probes,
        environment: Environment::here(),
        out: out.display().to_string(),
    };
    let json = serde_json::to_string_pretty(&summary).expect("the search serialises") + "\n";
    write(&out.join("search.json"), &json)?;
    if let Some(path) = &trials.json {
        write(path, &json)?;
    }
    println!("results: {}", out.join("search.json").display());
    Ok(summary)
}

/// The search's settings from the flags, checked.
pub(crate) fn settings(trials: &TrialArgs) -> Result<Settings, Failure> {
    let settings = Settings {
        start_per_s: trials.start,
        min_per_s: trials.min_rate,
        max_per_s: trials.max_rate,
        precision: trials.precision,
        repeats: trials.repeats,
    };
    bisect::check(&settings).map_err(Failure::usage)?;
    Ok(settings)
}

/// Searches the trials of `probe`, each into a folder under `root`; `line` hears each trial as
/// a line of the table [`header`] heads.
pub(crate) fn search_with(
    probe: Probe,
    root: &Path,
    settings: &Settings,
    mut line: impl FnMut(String),
) -> Result<Found, Failure> {
    let mut trials = trials::Trials::new(probe, root.to_path_buf());
    let repeats = settings.repeats;
    bisect::search(&mut trials, settings, |probe| {
        line(trial_line(probe, repeats))
    })
}

/// The lines that say how the trials go, and head their table.
pub(crate) fn header(trials: &TrialArgs, gates: &[String], from: &str, out: &Path) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "  gates      {}{}",
        gates.join(", "),
        match from {
            "default" => " (the default: neither --slo nor the scenario names any)",
            "scenario" => " (the scenario's)",
            _ => "",
        }
    );
    let _ = writeln!(
        text,
        "  trials     {} s measured after {} s of warm-up, {} a rate (a rate holds when all \
         pass); until within {:.1}%",
        trials.duration,
        trials.warmup,
        trials.repeats,
        trials.precision * 100.0
    );
    let _ = writeln!(text, "  folder     {}", out.display());
    let _ = writeln!(
        text,
        "  {:<5} {:<8} {:>11} {:>6} {:>12} {:>10} {:>10}  verdict",
        "trial", "phase", "rate/s", "#", "answered/s", "p50", "p99"
    );
    text
}

/// Flags as text, for the record.
pub(crate) fn flag_texts(flags: &[OsString]) -> Vec<String> {
    flags
        .iter()
        .map(|flag| flag.to_string_lossy().into_owned())
        .collect()
}

/// The gates each trial is held to, and where they came from: the flags, else the scenario's,
/// else [`SEARCH_GATES_DEFAULT`].
pub(crate) fn gates(
    trials: &TrialArgs,
    scenario: &str,
) -> Result<(Vec<String>, &'static str), Failure> {
    if !trials.slo.is_empty() {
        return Ok((
            trials.slo.iter().map(ToString::to_string).collect(),
            "flags",
        ));
    }
    let (scenario, _, _) = Scenario::find(scenario).map_err(Failure::usage)?;
    match scenario.slo {
        Some(gates) if !gates.is_empty() => {
            Ok((gates.iter().map(ToString::to_string).collect(), "scenario"))
        }
        _ => Ok((
            SEARCH_GATES_DEFAULT
                .iter()
                .map(ToString::to_string)
                .collect(),
            "default",
        )),
    }
}

/// The probe every trial runs: `clearway load --target` for a node, else `clearway run`, with
/// the scenario, `gates`, the window, `varied` and the flags after `--`.
pub(crate) fn probe(
    target: Option<&str>,
    trials: &TrialArgs,
    gates: &[String],
    varied: Vec<OsString>,
) -> Result<Probe, Failure> {
    let sets = |flag: &OsString| {
        let flag = flag.to_string_lossy();
        let name = flag.split('=').next().unwrap_or_default().to_string();
        args::FLAGS_SEARCH_SETS
            .contains(&name.as_str())
            .then_some(name)
    };
    if let Some(name) = trials.trial_flags.iter().find_map(sets) {
        return Err(Failure::usage(format!(
            "{name} after `--` would contradict what this command sets on every trial: give it to \
             the command itself (see its --help)"
        )));
    }
    if trials.cores == Some(0) {
        return Err(Failure::usage("--cores must be at least 1"));
    }
    let mut common: Vec<OsString> = Vec::new();
    if let Some(address) = target {
        common.extend(["--target".into(), address.into()]);
    }
    if let Some(scenario) = &trials.scenario {
        common.extend(["--scenario".into(), scenario.into()]);
    }
    for gate in gates {
        common.extend(["--slo".into(), gate.into()]);
    }
    common.extend([
        "--duration".into(),
        trials.duration.to_string().into(),
        "--warmup".into(),
        trials.warmup.to_string().into(),
    ]);
    if let Some(fraction) = trials.late_fraction_max {
        common.extend(["--late-fraction-max".into(), fraction.to_string().into()]);
    }
    if target.is_none() && !trials.trial_flags.iter().any(|flag| flag == "--no-replay") {
        // The replay check proves determinism, not capacity; a trial does not wait for it.
        common.push("--no-replay".into());
    }
    common.extend(varied);
    common.extend(trials.trial_flags.iter().cloned());
    let mut probe = Probe::here(if target.is_none() { "run" } else { "load" }, common)?;
    probe.cores = trials.cores;
    Ok(probe)
}

/// The folder `--out` names, or a fresh one named after `kind` under the temporary directory;
/// created.
pub(crate) fn folder(trials: &TrialArgs, kind: &str) -> Result<PathBuf, Failure> {
    let out = match &trials.out {
        Some(out) => out.clone(),
        None => std::env::temp_dir().join(format!("clearway-{kind}-{}", std::process::id())),
    };
    std::fs::create_dir_all(&out).map_err(|error| {
        Failure::unreadable(format!("cannot create {}: {error}", out.display()))
    })?;
    Ok(out)
}

/// One trial as the search prints it the moment it ends.
pub(crate) fn trial_line(probe: &ProbeRecord, repeats: usize) -> String {
    let latency = |value: Option<u64>| value.map_or_else(|| "-".to_string(), human_ns);
    let phase = match probe.phase {
        bisect::Phase::Bracket => "bracket",
        bisect::Phase::Bisect => "bisect",
    };
    format!(
        "  {:<5} {:<8} {:>11} {:>6} {:>12} {:>10} {:>10}  {}\n",
        probe.index,
        phase,
        thousands(probe.rate_per_s.round() as u64),
        format!("{}/{repeats}", probe.repeat),
        thousands(probe.trial.throughput_per_s.round() as u64),
        latency(probe.trial.p50_ns),
        latency(probe.trial.p99_ns),
        match &probe.trial.reason {
            None => "pass".to_string(),
            Some(reason) => format!("FAIL {reason}"),
        }
    )
}

/// The search's answer, in words.
pub(crate) fn answer(found: &Found, settings: &Settings) -> String {
    let rate = |rate: f64| format!("{}/s", thousands(rate.round() as u64));
    let first_reason = |failed: f64| {
        found
            .probes
            .iter()
            .find(|probe| probe.rate_per_s == failed && !probe.trial.passed)
            .and_then(|probe| probe.trial.reason.clone())
            .unwrap_or_default()
    };
    let mut out = String::new();
    match (
        found.ending,
        found.sustainable_per_s,
        found.first_fail_per_s,
    ) {
        (Ending::Converged, Some(held), Some(failed)) => {
            let _ = writeln!(
                out,
                "sustainable  {}: every trial held there; {} failed ({})",
                rate(held),
                rate(failed),
                first_reason(failed)
            );
            let _ = writeln!(
                out,
                "  capacity lies in [{}, {}): uncertainty {} ({:.1}%), after {} trials",
                rate(held),
                rate(failed),
                rate(failed - held),
                (failed - held) / held * 100.0,
                found.probes.len()
            );
        }
        (_, Some(held), None) => {
            let _ = writeln!(
                out,
                "sustainable  at least {}: every rate up to --max-rate held, so the gates may be \
                 too loose to find the limit",
                rate(held)
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "sustainable  none: every rate down to --min-rate {} failed ({})",
                rate(settings.min_per_s),
                found.first_fail_per_s.map(first_reason).unwrap_or_default()
            );
        }
    }
    out
}

pub(crate) fn write(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text)
        .map_err(|error| Failure::unreadable(format!("cannot write {}: {error}", path.display())))
}
