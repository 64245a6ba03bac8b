//! `clearway compare`: the regression gate for benchmark CI. The principal type is
//! [`Comparison`]: a current set of runs judged against a baseline, metric by metric (the
//! throughput and chosen latency percentiles), each [`Judgement`] a median change held to a
//! threshold *and* to the noise, so that a machine's drift does not fail a build and a real loss
//! does. The runs are either saved results folders (`--baseline PATH... --current PATH...`,
//! repeats as subfolders) or made here by running two builds in turns (`--ab BIN_A BIN_B`).
//! docs/BENCHMARK-CI.md has the recipe, `judge.rs` the rules.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `mod.rs` | [`Comparison`], [`run`]: the command, from flags to exit code |
//! | `args.rs` | [`CompareArgs`] and the [`Settings`] a comparison is judged by |
//! | `inputs.rs` | [`Run`]: collecting runs from paths, and refusing those not comparable |
//! | `judge.rs` | the statistics: medians, noise, pairs, [`Verdict`]s; pure |
//! | `table.rs` | the comparison as the table the command prints |
//! | `ab.rs` | `--ab`: two builds run in turns, A B then B A, through probes |

pub(crate) mod ab;
pub(crate) mod args;
pub(crate) mod inputs;
pub(crate) mod judge;
pub(crate) mod table;

use std::process::ExitCode;

use serde::Serialize;

pub use args::CompareArgs;
use args::Settings;
use inputs::Run;
use judge::{Judgement, Verdict};

use crate::exit::{self, Failure};

/// How the runs were made, and so how they are judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Saved runs (`--baseline`/`--current`): each side's median, the ranges apart.
    Separate,
    /// Two builds in turns (`--ab`): the pairs' median ratio, every pair the same way.
    Ab,
}

/// A current set of runs judged against a baseline (docs/OUTPUT.md, `clearway compare`).
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// How the runs were made.
    pub mode: Mode,
    /// The baseline's runs (A's with `--ab`), as paths.
    pub baseline: Vec<String>,
    /// The current runs (B's with `--ab`), as paths.
    pub current: Vec<String>,
    /// With `--ab`: the folder of the runs.
    pub out: Option<String>,
    /// With `--ab`: the rounds run.
    pub rounds: Option<usize>,
    /// Each metric judged, throughput first.
    pub metrics: Vec<Judgement>,
    /// Conditions that differ (with `--allow-different-environment`) and invalid runs.
    pub warnings: Vec<String>,
    /// Runs whose generator fell behind (`valid: false`): compared anyway.
    pub invalid_runs: usize,
    /// Whether any metric is a regression: the command exits 7.
    pub regression: bool,
    /// The verdict line.
    pub verdict: String,
}

/// Runs `clearway compare`: 0 no regression, 7 a regression, 8 runs not comparable, 2 a bad
/// command line, 3 an unreadable input, 4 an `--ab` run that failed to run.
pub fn run(args: CompareArgs) -> ExitCode {
    exit::finish(compare(&args), args.json.as_deref(), |comparison| {
        if comparison.regression {
            exit::REGRESSION
        } else {
            0
        }
    })
}

/// The comparison the flags ask for: runs collected from paths, or made with `--ab`.
pub fn compare(args: &CompareArgs) -> Result<Comparison, Failure> {
    let settings = args.settings()?;
    match args.ab.as_slice() {
        [binary_a, binary_b] => {
            let out = args.out.clone().unwrap_or_else(ab::fresh_out);
            eprintln!(
                "clearway compare: {} (B) against {} (A), {} rounds in turns (A B, B A, …), results in {}",
                binary_b.display(),
                binary_a.display(),
                args.rounds(),
                out.display()
            );
            let interleaved = ab::Interleaved {
                binary_a: binary_a.clone(),
                binary_b: binary_b.clone(),
                rounds: args.rounds(),
                run_flags: args.run_flags.clone(),
                out: out.clone(),
            };
            let rounds = interleaved.run()?;
            let mut comparison = judge_runs(Mode::Ab, &rounds.a, &rounds.b, &settings)?;
            comparison.out = Some(out.display().to_string());
            comparison.rounds = Some(args.rounds());
            Ok(comparison)
        }
        _ => {
            let baseline = inputs::collect(&args.baseline)?;
            let current = inputs::collect(&args.current)?;
            judge_runs(Mode::Separate, &baseline, &current, &settings)
        }
    }
}

/// `current` judged against `baseline`, metric by metric, once [`inputs::check`] finds them
/// comparable.
pub fn judge_runs(
    mode: Mode,
    baseline: &[Run],
    current: &[Run],
    settings: &Settings,
) -> Result<Comparison, Failure> {
    let checked = inputs::check(baseline, current, settings.allow_different_environment)?;
    let metrics: Vec<Judgement> = settings
        .metrics
        .iter()
        .map(|&metric| {
            let values = |runs: &[Run]| -> Vec<f64> {
                runs.iter().map(|run| metric.value(&run.summary)).collect()
            };
            let judge = match mode {
                Mode::Separate => judge::separate,
                Mode::Ab => judge::pairwise,
            };
            judge(
                metric,
                &values(baseline),
                &values(current),
                settings.threshold(metric),
            )
        })
        .collect();
    let paths = |runs: &[Run]| -> Vec<String> {
        runs.iter()
            .map(|run| run.path.display().to_string())
            .collect()
    };
    Ok(Comparison {
        mode,
        baseline: paths(baseline),
        current: paths(current),
        out: None,
        rounds: None,
        regression: metrics
            .iter()
            .any(|judgement| judgement.verdict == Verdict::Regression),
        verdict: table::verdict_line(&metrics),
        metrics,
        warnings: checked.warnings,
        invalid_runs: checked.invalid_runs,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::judge::{Metric, Percentile};
    use super::*;
    use crate::summary_file::RunSummary;

    fn run(path: &str, throughput: f64, p99_ns: u64) -> Run {
        let summary = RunSummary::from_json(&format!(
            r#"{{"command": "run", "seed": 1, "duration_s": 5.0, "offered_per_s": {throughput},
                "throughput_per_s": {throughput},
                "payments": {{"submitted": 10, "approved": 10, "declined": 0, "rejected": 0,
                              "expired": 0, "busy": 0}},
                "latency_ns": {{"p50": 40000, "p90": 60000, "p99": {p99_ns}, "p999": 400000,
                                "p9999": 900000, "max": 2000000}},
                "environment": {{"cpu_model": "Xeon", "cores": 2}}, "ok": true}}"#
        ))
        .expect("the test summary reads");
        Run {
            path: PathBuf::from(path),
            summary,
        }
    }

    fn settings() -> Settings {
        Settings {
            metrics: vec![Metric::Throughput, Metric::Latency(Percentile::P99)],
            throughput_threshold: 0.05,
            latency_threshold: 0.10,
            allow_different_environment: false,
        }
    }

    #[test]
    fn a_throughput_drop_beyond_the_noise_is_a_regression_in_the_table() {
        let baseline = [
            run("b/run-1", 99_000.0, 100_000),
            run("b/run-2", 100_000.0, 101_000),
            run("b/run-3", 101_000.0, 99_000),
        ];
        let current = [
            run("c/run-1", 79_200.0, 100_000),
            run("c/run-2", 80_000.0, 101_000),
            run("c/run-3", 80_800.0, 99_000),
        ];
        let comparison = judge_runs(Mode::Separate, &baseline, &current, &settings()).unwrap();
        assert!(comparison.regression);
        assert_eq!(comparison.metrics[0].verdict, Verdict::Regression);
        assert_eq!(comparison.metrics[1].verdict, Verdict::Ok);
        let table = comparison.to_string();
        assert!(table.contains("100,000/s"), "{table}");
        assert!(table.contains("80,000/s"), "{table}");
        assert!(table.contains("-20.0%"), "{table}");
        assert!(table.contains("REGRESSION"), "{table}");
        assert!(table.contains("100.0 µs"), "{table}");
    }

    #[test]
    fn one_run_a_side_says_the_noise_is_unknown() {
        let comparison = judge_runs(
            Mode::Separate,
            &[run("b", 100_000.0, 100_000)],
            &[run("c", 80_000.0, 100_000)],
            &settings(),
        )
        .unwrap();
        assert!(comparison.regression);
        let table = comparison.to_string();
        assert!(table.contains("no repeats: noise unknown"), "{table}");
    }

    #[test]
    fn pairs_show_their_ratios_as_the_noise() {
        let a: Vec<Run> = (0..5)
            .map(|round| run("a", 100_000.0 + 1_000.0 * f64::from(round), 100_000))
            .collect();
        let b: Vec<Run> = (0..5)
            .map(|round| run("b", (100_000.0 + 1_000.0 * f64::from(round)) * 0.8, 100_000))
            .collect();
        let comparison = judge_runs(Mode::Ab, &a, &b, &settings()).unwrap();
        assert!(comparison.regression);
        let table = comparison.to_string();
        assert!(table.contains("0.800–0.800, 5 of 5 worse"), "{table}");
    }
}
