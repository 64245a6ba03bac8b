//! [`CompareArgs`]: `clearway compare`'s command line, and the [`Settings`] a comparison is
//! judged by.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgGroup, Args};

use super::judge::{Metric, Percentile};
use crate::constants::{
    COMPARE_LATENCY_THRESHOLD_DEFAULT, COMPARE_ROUNDS_DEFAULT, COMPARE_THROUGHPUT_THRESHOLD_DEFAULT,
};
use crate::exit::Failure;
use crate::run::args::parse_fraction;

/// `clearway compare --baseline PATH... --current PATH...`, or
/// `clearway compare --ab BIN_A BIN_B [--rounds N] [--out DIR] -- RUN_FLAGS...`.
#[derive(Args, Clone, Debug)]
#[command(group(ArgGroup::new("inputs").required(true).args(["baseline", "ab"])))]
pub struct CompareArgs {
    /// The baseline's runs: a summary.json, a results folder holding one, or a folder whose
    /// subfolders each hold one (repeats). Repeat the flag, or give several paths, for more.
    #[arg(long, value_name = "PATH", num_args = 1.., requires = "current")]
    pub baseline: Vec<PathBuf>,
    /// The current runs, given as `--baseline`'s are.
    #[arg(long, value_name = "PATH", num_args = 1.., requires = "baseline")]
    pub current: Vec<PathBuf>,
    /// Run two builds in turns instead: `BIN_A run RUN_FLAGS` and `BIN_B run RUN_FLAGS` once
    /// each per round, A first in odd rounds and B first in even ones, and judge B against A pair
    /// by pair. A is the baseline.
    #[arg(long, num_args = 2, value_names = ["BIN_A", "BIN_B"],
          conflicts_with_all = ["baseline", "current"])]
    pub ab: Vec<PathBuf>,
    /// Rounds of `--ab`, each running A once and B once [default: 5].
    #[arg(long, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub rounds: Option<usize>,
    /// Folder for `--ab`'s results, DIR/a-1, DIR/b-1, DIR/a-2 …; by default a fresh folder
    /// under the system's temporary directory (printed).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Latency percentiles to compare, with the throughput: from p50, p90, p99, p999, p9999,
    /// max.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "p50,p99")]
    pub percentiles: Vec<Percentile>,
    /// How much worse throughput may get before it can be a regression: `5%` (the default) or
    /// a fraction such as `0.05`.
    #[arg(long, value_name = "SHARE", value_parser = parse_fraction,
          default_value_t = COMPARE_THROUGHPUT_THRESHOLD_DEFAULT)]
    pub throughput_threshold: f64,
    /// How much worse a latency percentile may get before it can be a regression: `10%` (the
    /// default) or a fraction such as `0.1`.
    #[arg(long, value_name = "SHARE", value_parser = parse_fraction,
          default_value_t = COMPARE_LATENCY_THRESHOLD_DEFAULT)]
    pub latency_threshold: f64,
    /// Compare even runs measured under different conditions (machine, layout, command,
    /// scenario, shape); the differences are printed as warnings.
    #[arg(long)]
    pub allow_different_environment: bool,
    /// Also write the comparison as JSON (docs/OUTPUT.md) to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// With `--ab`, after `--`: the flags each `clearway run` gets (`--out` and `--quiet` are
    /// compare's to give).
    #[arg(last = true, value_name = "RUN_FLAGS")]
    pub run_flags: Vec<OsString>,
}

/// What a comparison is judged by.
// clap's `requires = "ab"` cannot say these flags need `--ab`: `--ab` conflicts with
// `--baseline`, and clap lets a required argument that conflicts with a given one go missing.
// `CompareArgs::settings` says it instead.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The metrics, in the table's order: throughput first, then the percentiles as given.
    pub metrics: Vec<Metric>,
    /// How much worse throughput may get, as a fraction.
    pub throughput_threshold: f64,
    /// How much worse a latency percentile may get, as a fraction.
    pub latency_threshold: f64,
    /// Whether runs under different conditions are compared anyway.
    pub allow_different_environment: bool,
}

impl CompareArgs {
    /// The settings the flags give; refuses `--rounds`, `--out` and run flags without `--ab`,
    /// and `--out` among the run flags, which compare gives every run itself.
    pub fn settings(&self) -> Result<Settings, Failure> {
        if self.ab.is_empty() {
            let given = [
                ("--rounds needs", self.rounds.is_some()),
                ("--out needs", self.out.is_some()),
                ("flags after -- need", !self.run_flags.is_empty()),
            ];
            if let Some((flag, _)) = given.iter().find(|(_, given)| *given) {
                return Err(Failure::usage(format!(
                    "{flag} --ab BIN_A BIN_B, which makes runs: --baseline and --current \
                     name runs already made"
                )));
            }
        }
        let given_out = self.run_flags.iter().any(|flag| {
            let flag = flag.to_string_lossy();
            flag == "--out" || flag.starts_with("--out=")
        });
        if given_out {
            return Err(Failure::usage(
                "--out after -- is compare's to give each run (DIR/a-1, DIR/b-1, …): \
                 put it before -- to choose DIR",
            ));
        }
        let mut metrics = vec![Metric::Throughput];
        for percentile in &self.percentiles {
            let metric = Metric::Latency(*percentile);
            if !metrics.contains(&metric) {
                metrics.push(metric);
            }
        }
        Ok(Settings {
            metrics,
            throughput_threshold: self.throughput_threshold,
            latency_threshold: self.latency_threshold,
            allow_different_environment: self.allow_different_environment,
        })
    }
}

impl CompareArgs {
    /// Rounds of `--ab`: as given, or [`COMPARE_ROUNDS_DEFAULT`].
    pub fn rounds(&self) -> usize {
        self.rounds.unwrap_or(COMPARE_ROUNDS_DEFAULT)
    }
}

impl Settings {
    /// The threshold `metric` is judged by.
    pub fn threshold(&self, metric: Metric) -> f64 {
        match metric {
            Metric::Throughput => self.throughput_threshold,
            Metric::Latency(_) => self.latency_threshold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        compare: CompareArgs,
    }

    fn parse(arguments: &[&str]) -> Result<CompareArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("compare").chain(arguments.iter().copied()))
            .map(|cli| cli.compare)
    }

    #[test]
    fn separate_runs_take_repeated_flags_and_the_defaults() {
        let args = parse(&["--baseline", "b1", "--baseline", "b2", "--current", "c"]).unwrap();
        assert_eq!(args.baseline.len(), 2);
        let settings = args.settings().unwrap();
        assert_eq!(
            settings.metrics,
            [
                Metric::Throughput,
                Metric::Latency(Percentile::P50),
                Metric::Latency(Percentile::P99)
            ]
        );
        assert_eq!(settings.throughput_threshold, 0.05);
        assert_eq!(settings.latency_threshold, 0.10);
    }

    #[test]
    fn thresholds_read_as_percentages_or_fractions() {
        let args = parse(&[
            "--baseline",
            "b",
            "--current",
            "c",
            "--throughput-threshold",
            "2.5%",
            "--latency-threshold",
            "0.2",
            "--percentiles",
            "p999,max,p999",
        ])
        .unwrap();
        let settings = args.settings().unwrap();
        assert_eq!(settings.throughput_threshold, 0.025);
        assert_eq!(settings.latency_threshold, 0.2);
        assert_eq!(settings.metrics.len(), 3);
    }

    #[test]
    fn the_command_line_is_refused_when_it_cannot_mean_one_thing() {
        for arguments in [
            &["--baseline", "b"][..],
            &["--current", "c"],
            &[],
            &["--ab", "a"],
            &["--ab", "a", "b", "--baseline", "x", "--current", "y"],
            &["--ab", "a", "b", "--rounds", "0"],
            &["--baseline", "b", "--current", "c", "--percentiles", "p42"],
            &[
                "--baseline",
                "b",
                "--current",
                "c",
                "--throughput-threshold",
                "5",
            ],
        ] {
            assert!(parse(arguments).is_err(), "{arguments:?} was accepted");
        }
        for arguments in [
            &["--baseline", "b", "--current", "c", "--rounds", "3"][..],
            &["--baseline", "b", "--current", "c", "--out", "x"],
            &["--baseline", "b", "--current", "c", "--", "--rate", "max"],
        ] {
            let failure = parse(arguments).unwrap().settings().unwrap_err();
            assert_eq!(failure.code, crate::exit::USAGE, "{arguments:?}");
        }
    }

    #[test]
    fn ab_takes_two_binaries_and_the_run_flags_after_the_separator() {
        let args = parse(&[
            "--ab", "a", "b", "--rounds", "2", "--", "--rate", "max", "--seed", "7",
        ])
        .unwrap();
        assert_eq!(args.ab, [PathBuf::from("a"), PathBuf::from("b")]);
        assert_eq!(args.rounds(), 2);
        assert_eq!(args.run_flags.len(), 4);
        let out = parse(&["--ab", "a", "b", "--", "--out", "x"]).unwrap();
        assert_eq!(out.settings().unwrap_err().code, crate::exit::USAGE);
    }
}
