//! [`RunSummary`]: a measured run's `summary.json` read back, by `clearway report`, `search`,
//! `sweep` and `compare`; and its [`Conditions`], what must agree before two runs' figures are
//! compared.
//!
//! Only the fields every summary has since `clearway run` and `clearway load` first wrote one
//! are required (`seed`, `duration_s`, `offered_per_s`, `throughput_per_s`, `payments`,
//! `latency_ns`, `ok`); the rest are read when present, so older folders still read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::exit::Failure;
use crate::run::latency::Percentiles;
use crate::run::summary::Payments;

/// The summary's file name in a results folder.
pub const SUMMARY_FILE: &str = "summary.json";

/// A measured run's `summary.json` read back (docs/OUTPUT.md): the parts the report shows and
/// `search`, `sweep` and `compare` judge. Unknown fields are ignored.
#[derive(Clone, Debug, Deserialize)]
pub struct RunSummary {
    /// `run` or `load`.
    #[serde(default)]
    pub command: Option<String>,
    /// The scenario's name, when the run played one.
    #[serde(default)]
    pub scenario: Option<String>,
    /// The traffic shape, as the summary prints it (`poisson 120,000/s`).
    #[serde(default)]
    pub shape: Option<String>,
    /// The seed.
    pub seed: u64,
    /// Seconds of the measured window.
    pub duration_s: f64,
    /// Seconds of warm-up before the window, excluded from every figure.
    #[serde(default)]
    pub warmup_s: f64,
    /// Payments offered per second of the window.
    pub offered_per_s: f64,
    /// Payments answered per second of the window.
    pub throughput_per_s: f64,
    /// Submitted payments, by answer.
    pub payments: Payments,
    /// Refused payments, by reason.
    #[serde(default)]
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// End-to-end latency.
    pub latency_ns: Percentiles,
    /// Each step's latency (`clearway run` only).
    #[serde(default)]
    pub stages: BTreeMap<String, Stage>,
    /// The service-level gates the run was held to.
    #[serde(default)]
    pub slo: Vec<SloGate>,
    /// How well the load generator kept to its schedule.
    #[serde(default)]
    pub generator: Option<Generator>,
    /// Whether the generator kept up, so that the figures describe the switch.
    #[serde(default)]
    pub valid: Option<bool>,
    /// Whether every check passed.
    pub ok: bool,
    /// Each check, by name.
    #[serde(default)]
    pub checks: BTreeMap<String, bool>,
    /// One entry a second from the load's start.
    #[serde(default)]
    pub timeline: Vec<Second>,
    /// The machine and build.
    #[serde(default)]
    pub environment: Option<Environment>,
    /// How the threads were laid out.
    #[serde(default)]
    pub topology: Option<Topology>,
}

/// One step's figures.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct Stage {
    /// Event time → the end of the batch that handled it.
    pub latency_ns: Percentiles,
    /// Events it handled.
    #[serde(default)]
    pub events: Option<u64>,
    /// Its workers.
    #[serde(default)]
    pub workers: Option<u64>,
}

/// One service-level gate and how the run did against it.
#[derive(Clone, Debug, Deserialize)]
pub struct SloGate {
    /// As written: `p99<2ms`.
    pub gate: String,
    /// What it measures: `e2e.p99`.
    #[serde(default)]
    pub metric: Option<String>,
    /// The bound, in `unit`.
    pub threshold: f64,
    /// What the run measured, in `unit`; `None` when it could not be measured.
    #[serde(default)]
    pub measured: Option<f64>,
    /// `ns`, `fraction` or `payments/s`.
    #[serde(default)]
    pub unit: Option<String>,
    /// Whether the run met it.
    pub passed: bool,
    /// The measurement in human units: `1.84 ms`.
    #[serde(default)]
    pub measured_text: Option<String>,
}

/// How well the generator kept to its schedule. Every field is optional: `clearway load` and
/// `clearway run` report different ones.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub struct Generator {
    /// Payments the schedule planned.
    #[serde(default)]
    pub planned: Option<u64>,
    /// Payments offered.
    #[serde(default)]
    pub offered: Option<u64>,
    /// Payments sent late.
    #[serde(default)]
    pub late: Option<u64>,
    /// Late payments ÷ payments offered.
    #[serde(default)]
    pub late_fraction: Option<f64>,
    /// The latest any payment was sent after its intended time.
    #[serde(default)]
    pub late_max_ns: Option<u64>,
    /// Times the generator hit a cap (payments in flight, a full socket).
    #[serde(default)]
    pub caps_hit: Option<u64>,
    /// Whether it kept up.
    #[serde(default)]
    pub kept_up: Option<bool>,
}

/// One second of the load.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
pub struct Second {
    /// Seconds from the load's start.
    pub start_s: f64,
    /// Seconds it lasted.
    pub length_s: f64,
    /// Payments offered in it.
    pub offered: u64,
    /// Payments answered in it.
    pub answered: u64,
    /// Whether it was before the measured window.
    #[serde(default)]
    pub warmup: bool,
}

/// The machine and build the figures came from.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Environment {
    /// The CPU's model name.
    #[serde(default)]
    pub cpu_model: Option<String>,
    /// Cores the process could use.
    #[serde(default)]
    pub cores: Option<u64>,
    /// The operating system.
    #[serde(default)]
    pub os: Option<String>,
    /// The CPU frequency governor, where the kernel shows it.
    #[serde(default)]
    pub governor: Option<String>,
    /// The compiler.
    #[serde(default)]
    pub rustc: Option<String>,
    /// The commit.
    #[serde(default)]
    pub git_commit: Option<String>,
}

/// How the threads were laid out.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Topology {
    /// How the layout was chosen.
    #[serde(default)]
    pub source: Option<String>,
    /// `pipelined` or `fused`.
    #[serde(default)]
    pub mode: Option<String>,
    /// Threads used.
    #[serde(default)]
    pub threads: Option<u64>,
    /// The stage → core map.
    #[serde(default)]
    pub map: Option<String>,
}

impl RunSummary {
    /// Reads a summary from JSON text; the error is serde's sentence (`missing field `ok` at
    /// line 3 column 1`).
    pub fn from_json(text: &str) -> Result<RunSummary, String> {
        serde_json::from_str(text).map_err(|error| error.to_string())
    }

    /// Whether the generator kept up: `valid` when the summary says, else the generator's
    /// `kept_up`, else true (an embedded run has no schedule to fall behind).
    pub fn is_valid(&self) -> bool {
        self.valid
            .or_else(|| self.generator.and_then(|generator| generator.kept_up))
            .unwrap_or(true)
    }
}

/// Reads the summary at `path`: a `summary.json` file, or a results folder holding one. Every
/// failure is [`UNREADABLE`](crate::exit::UNREADABLE) and names the file.
pub fn read(path: &Path) -> Result<RunSummary, Failure> {
    let file = summary_path(path);
    let text = std::fs::read_to_string(&file)
        .map_err(|error| Failure::unreadable(format!("cannot read {}: {error}", file.display())))?;
    RunSummary::from_json(&text)
        .map_err(|error| Failure::unreadable(format!("cannot read {}: {error}", file.display())))
}

/// `path` itself when it is a file, else `path/summary.json`.
pub fn summary_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(SUMMARY_FILE)
    } else {
        path.to_path_buf()
    }
}

/// What must agree before two runs' figures say anything about each other: the machine (CPU
/// model, cores, frequency governor), the switch's layout, and the command and traffic that
/// measured it. The commit and the compiler may differ: they are what a comparison is for.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Conditions {
    /// The CPU's model name.
    pub cpu_model: Option<String>,
    /// Cores the run could use.
    pub cores: Option<u64>,
    /// The CPU frequency governor.
    pub governor: Option<String>,
    /// The stage → core map (`clearway run`); `None` for `clearway load`.
    pub topology: Option<String>,
    /// `run` or `load`.
    pub command: Option<String>,
    /// The scenario.
    pub scenario: Option<String>,
    /// The traffic shape, as the summary prints it (`poisson 120,000/s`, `max`).
    pub shape: Option<String>,
}

impl Conditions {
    /// Each way `self` and `other` differ, as `cpu_model: "A" here, "B" there`; empty when they
    /// compare.
    pub fn differences(&self, other: &Conditions) -> Vec<String> {
        fn text<T: std::fmt::Debug>(value: &Option<T>) -> String {
            match value {
                Some(value) => format!("{value:?}"),
                None => "unknown".to_string(),
            }
        }
        let mut differences = Vec::new();
        let mut check = |name: &str, mine: String, theirs: String, same: bool| {
            if !same {
                differences.push(format!("{name}: {mine} against {theirs}"));
            }
        };
        check(
            "cpu_model",
            text(&self.cpu_model),
            text(&other.cpu_model),
            self.cpu_model == other.cpu_model,
        );
        check(
            "cores",
            text(&self.cores),
            text(&other.cores),
            self.cores == other.cores,
        );
        check(
            "governor",
            text(&self.governor),
            text(&other.governor),
            self.governor == other.governor,
        );
        check(
            "topology",
            text(&self.topology),
            text(&other.topology),
            self.topology == other.topology,
        );
        check(
            "command",
            text(&self.command),
            text(&other.command),
            self.command == other.command,
        );
        check(
            "scenario",
            text(&self.scenario),
            text(&other.scenario),
            self.scenario == other.scenario,
        );
        check(
            "shape",
            text(&self.shape),
            text(&other.shape),
            self.shape == other.shape,
        );
        differences
    }
}

impl RunSummary {
    /// The conditions this run's figures hold under.
    pub fn conditions(&self) -> Conditions {
        let environment = self.environment.clone().unwrap_or_default();
        Conditions {
            cpu_model: environment.cpu_model,
            cores: environment.cores,
            governor: environment.governor,
            topology: self
                .topology
                .as_ref()
                .and_then(|topology| topology.map.clone()),
            command: self.command.clone(),
            scenario: self.scenario.clone(),
            shape: self.shape.clone(),
        }
    }

    /// Why this run does not pass, when it does not: a failed check, an invalid measurement (the
    /// generator fell behind), or the first failed gate with what was measured; `None` when it
    /// passes.
    pub fn failure(&self) -> Option<String> {
        if !self.ok {
            let failed: Vec<&str> = self
                .checks
                .iter()
                .filter(|(_, passed)| !**passed)
                .map(|(name, _)| name.as_str())
                .collect();
            return Some(format!("check failed: {}", failed.join(", ")));
        }
        if !self.is_valid() {
            let late = self
                .generator
                .and_then(|generator| generator.late_fraction)
                .map_or_else(String::new, |fraction| {
                    format!(": {:.2}% late or unsent", fraction * 100.0)
                });
            return Some(format!("invalid, the generator fell behind{late}"));
        }
        self.slo.iter().find(|gate| !gate.passed).map(|gate| {
            format!(
                "{} measured {}",
                gate.gate,
                gate.measured_text.as_deref().unwrap_or("nothing")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A summary with the required fields, and `extra` fields spliced in.
    fn summary(extra: &str) -> RunSummary {
        let text = format!(
            r#"{{"seed": 1, "duration_s": 5.0, "offered_per_s": 1000.0, "throughput_per_s": 998.0,
                "payments": {{"submitted": 5000, "approved": 4900, "declined": 50, "rejected": 40,
                              "expired": 10, "busy": 0}},
                "latency_ns": {{"p50": 7000, "p90": 20000, "p99": 3000000, "p999": 7000000,
                                "p9999": 8000000, "max": 9000000}},
                "ok": true{extra}}}"#
        );
        RunSummary::from_json(&text).unwrap()
    }

    #[test]
    fn a_load_summary_reads_with_its_generator_figures_and_socket_lateness() {
        // `clearway load` flattens the run's generator figures beside its own socket figures.
        let load = summary(
            r#", "command": "load", "valid": false,
               "generator": {"planned": 5000, "offered": 5000, "late": 120, "unsent": 0,
                             "late_fraction": 0.024, "late_max_ns": 31000000, "caps_hit": 0,
                             "late_fraction_max": 0.01, "kept_up": false, "late_payments": 120,
                             "latest_ns": 31000000, "blocked_writing_s": 0.0}"#,
        );
        assert_eq!(load.generator.unwrap().late, Some(120));
        assert!(!load.is_valid());
        assert_eq!(
            load.failure().unwrap(),
            "invalid, the generator fell behind: 2.40% late or unsent"
        );
    }

    #[test]
    fn a_run_fails_for_its_first_reason_checks_then_validity_then_gates() {
        assert_eq!(summary("").failure(), None);
        let gate = r#", "slo": [{"gate": "p99<2ms", "threshold": 2000000.0, "passed": false,
                                 "measured_text": "3.00 ms"}]"#;
        assert_eq!(summary(gate).failure().unwrap(), "p99<2ms measured 3.00 ms");
        let invalid = format!(r#"{gate}, "valid": false"#);
        assert!(summary(&invalid).failure().unwrap().starts_with("invalid"));
        let text = r#"{"seed": 1, "duration_s": 5.0, "offered_per_s": 1.0, "throughput_per_s": 1.0,
            "payments": {"submitted": 1, "approved": 1, "declined": 0, "rejected": 0,
                         "expired": 0, "busy": 0},
            "latency_ns": {"p50": 1, "p90": 1, "p99": 1, "p999": 1, "p9999": 1, "max": 1},
            "ok": false, "checks": {"outcomes_add_up": false, "replay": true}}"#;
        let failed = RunSummary::from_json(text).unwrap().failure().unwrap();
        assert_eq!(failed, "check failed: outcomes_add_up");
    }

    #[test]
    fn conditions_differ_by_machine_layout_and_traffic_but_not_by_commit() {
        let here = summary(
            r#", "command": "run", "scenario": "steady", "shape": "max",
               "environment": {"cpu_model": "AMD EPYC", "cores": 2, "git_commit": "a"},
               "topology": {"map": "producer any"}"#,
        );
        let later = summary(
            r#", "command": "run", "scenario": "steady", "shape": "max",
               "environment": {"cpu_model": "AMD EPYC", "cores": 2, "git_commit": "b"},
               "topology": {"map": "producer any"}"#,
        );
        assert!(here
            .conditions()
            .differences(&later.conditions())
            .is_empty());
        let elsewhere = summary(
            r#", "command": "run", "scenario": "steady", "shape": "max",
               "environment": {"cpu_model": "Intel Xeon", "cores": 16},
               "topology": {"map": "producer 1"}"#,
        );
        let differences = here.conditions().differences(&elsewhere.conditions());
        assert_eq!(differences.len(), 3, "{differences:?}");
        assert_eq!(
            differences[0],
            r#"cpu_model: "AMD EPYC" against "Intel Xeon""#
        );
        assert!(differences[1].starts_with("cores: 2 against 16"));
        assert!(differences[2].starts_with("topology:"));
    }

    #[test]
    fn a_folder_or_its_summary_file_reads_the_same_and_a_missing_one_is_named() {
        let dir = std::env::temp_dir().join(format!("clearway-summary-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(read(&dir).unwrap_err().message.contains("summary.json"));
        assert_eq!(summary_path(&dir), dir.join(SUMMARY_FILE));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
