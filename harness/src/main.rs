//! `clearway`: the command that drives Clearway.
//!
//! The principal type in this crate is [`Command`]: `clearway run` runs the switch embedded with
//! simulated institutions and banks through a scenario and prints what it measured (durably,
//! with a data directory; into a results folder with `--out`); `clearway serve` runs it as a TCP
//! node; `clearway load` plays the institutions and banks against a node over TCP;
//! `clearway merge` adds the latency histograms of several loads exactly; `clearway report`
//! turns a results folder into a page with plots; `clearway ledger …` reads a data directory
//! without the node; `clearway topology FILE` validates a topology file and prints the stage →
//! core map it would run. Five commands turn runs into answers: `clearway search` finds the
//! sustainable throughput, the highest rate at which every SLO gate holds; `clearway sweep`
//! varies one setting and fits the Universal Scalability Law to the throughput (`clearway usl
//! POINTS.csv` fits a file of points on its own); `clearway plan` sizes the nodes, sites and
//! cities that carry a peak through a failure; `clearway compare` judges current runs against a
//! baseline's, beyond the thresholds and the noise, and gates benchmark CI on it.
//!
//! # Layout
//!
//! | module | holds |
//! | --- | --- |
//! | `run/` | `clearway run`: layout, driver, egress, transports, journal, replay, summary |
//! | `serve/` | `clearway serve`: the TCP node, its I/O thread, security limits, metrics |
//! | `load/` | `clearway load`: connections, TCP ingress, reader, generator self-check, summary |
//! | `scenario/` | scenarios (`--scenario`): the file, its resolution against the flags, incidents |
//! | `interval/` | latency and traffic second by second: recorders, the monitor thread, progress |
//! | `slo.rs` | SLO gates (`--slo 'p99<2ms'`): parsed, judged, tabled |
//! | `results.rs` | the `--out` folder: summary, interval log, spectra, scenario, fingerprint |
//! | `report/` | `clearway report`: a results folder as `report.html` with SVG plots |
//! | `merge/` | `clearway merge`: HdrHistogram interval logs added exactly, tag by tag |
//! | `compare/` | `clearway compare`: runs against a baseline's, judged beyond thresholds and noise; `--ab` |
//! | `hlog.rs` | HdrHistogram interval logs (`.hlog`): written by `run` and `load`, read by `merge` and `report` |
//! | `hgrm.rs` | the percentile spectrum as text (`.hgrm`) |
//! | `ledger/` | `clearway ledger`: verify, replay, export, settlement, payment |
//! | `plan/` | `clearway plan`: the capacity planner: per-node figures, the sizing arithmetic, the plan |
//! | `usl/` | `clearway usl`: the Universal Scalability Law, fitted to measured points and drawn |
//! | `search/` | `clearway search`: bracket and bisect on the rate, trials as processes |
//! | `sweep/` | `clearway sweep`: one setting varied, each value measured, the USL fitted |
//! | `probe.rs` | one measured run in a process of its own, read back from its results folder |
//! | `summary_file.rs` | a run's `summary.json` read back, and the conditions two runs compare under |
//! | `data_dir.rs` | a data directory's manifest: what its journal was written with |
//! | [`exit`] | the exit codes, one meaning each |
//! | `constants.rs` | the harness's limits and defaults |

mod compare;
mod constants;
mod data_dir;
mod hgrm;
mod hlog;
mod interval;
mod ledger;
mod load;
mod merge;
mod plan;
mod probe;
mod report;
mod results;
mod run;
mod scenario;
mod search;
mod serve;
mod slo;
mod summary_file;
mod sweep;
mod usl;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use clearway_core::pipeline::TopologyConfig;

/// Every allocation the harness makes goes through mimalloc: the producer's recording and the
/// threads' start-up allocations stay off glibc's arena locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Clearway: the switching core of a clearing platform for online payments.
#[derive(Parser)]
#[command(name = "clearway", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What `clearway` can do.
#[derive(Subcommand)]
enum Command {
    /// Run the switch embedded, with simulated institutions and banks, and print what it measured.
    Run(Box<run::RunArgs>),
    /// Serve the switch over TCP to institutions and banks (docs/PROTOCOL.md) until SIGTERM.
    Serve(Box<serve::ServeArgs>),
    /// Play a network's institutions and banks against a node over TCP, and print what came back.
    Load(Box<load::LoadArgs>),
    /// Add the latency histograms of interval logs (`clearway load --histogram`) exactly, and
    /// print the merged percentiles.
    Merge(merge::MergeArgs),
    /// Write DIR/report.html, with SVG plots beside it, from a results folder's summary.json and
    /// latency.hlog.
    Report(report::ReportArgs),
    /// Judge current runs against a baseline's (saved results folders, or two builds run in
    /// turns with `--ab`): exit 7 on a regression beyond its threshold and the noise, 8 when the
    /// runs cannot be compared (docs/BENCHMARK-CI.md).
    Compare(compare::CompareArgs),
    /// Read a data directory without the node: verify, replay, export, settlement, payment.
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
    /// Find the sustainable throughput: the highest offered rate at which every SLO gate holds,
    /// by bracketing then bisecting with repeated short runs.
    Search(Box<search::SearchArgs>),
    /// Plan capacity: the nodes per site, in how many sites and cities, that carry a peak
    /// (× growth) after losing a node, a site or a city with every node at or below a
    /// utilization ceiling (docs/CAPACITY.md).
    Plan(plan::PlanArgs),
    /// Vary one setting (workers, cores, producers, ring, batch, topology, rate), measure the
    /// throughput at each value, and fit the Universal Scalability Law to it.
    Sweep(Box<sweep::SweepArgs>),
    /// Validate a topology file and print the stage → core map it would run.
    Topology {
        /// A TOML topology (see docs/ARCHITECTURE.md, "Topology files").
        file: PathBuf,
    },
    /// Fit the Universal Scalability Law (λ, σ contention, κ coherency) to a CSV of throughput
    /// against concurrency, and print it with N*, where throughput peaks.
    Usl(usl::UslArgs),
}

/// Exit codes. Every command uses the same meanings (docs/OUTPUT.md):
///
/// | code | meaning |
/// | --- | --- |
/// | 0 | all is well |
/// | 1 | [`CHECK_FAILED`](exit::CHECK_FAILED): a check failed |
/// | 2 | [`USAGE`](exit::USAGE): the command line or a setting was wrong |
/// | 3 | [`UNREADABLE`](exit::UNREADABLE): a file could not be read or written |
/// | 4 | [`RUN_FAILED`](exit::RUN_FAILED): the switch (or a probe's run) failed while running |
/// | 5 | [`INVALID_RUN`](exit::INVALID_RUN): the generator fell behind its schedule |
/// | 6 | [`SLO_FAILED`](exit::SLO_FAILED): an SLO gate failed |
/// | 7 | [`REGRESSION`](exit::REGRESSION): `clearway compare` found a regression beyond its threshold and the noise |
/// | 8 | [`NOT_COMPARABLE`](exit::NOT_COMPARABLE): `clearway compare` refused runs measured under different conditions, or a run that failed its checks |
pub mod exit {
    /// The run finished but a check failed (outcomes that do not add up, Σ positions ≠ 0, a
    /// replay that differs), or a topology file was refused.
    pub const CHECK_FAILED: u8 = 1;
    /// The command line or a setting was wrong (clap also exits 2).
    pub const USAGE: u8 = 2;
    /// A file could not be read or written, or a configuration file was refused.
    pub const UNREADABLE: u8 = 3;
    /// The switch failed while running: a stage panicked or faulted; or, for `clearway load`,
    /// the node could not be reached, refused a HELLO, or closed every connection.
    pub const RUN_FAILED: u8 = 4;
    /// The run is invalid: the load generator fell behind its schedule by more than 1%, so the
    /// figures describe the generator, not the switch. Every check passed.
    pub const INVALID_RUN: u8 = 5;
    /// An SLO gate failed (`--slo`, or the scenario's); the run was valid and every check
    /// passed.
    pub const SLO_FAILED: u8 = 6;
    /// `clearway compare` found a regression beyond its threshold and the noise.
    pub const REGRESSION: u8 = 7;
    /// `clearway compare` refused to compare: the runs' conditions differ (machine, layout,
    /// command, scenario, shape) and `--allow-different-environment` was not given, or a run
    /// failed its checks, so its figures are not a measurement.
    pub const NOT_COMPARABLE: u8 = 8;

    /// The exit code of a run that produced a summary: a failed check first (1), then an
    /// invalid run (5), then a failed gate (6); 0 when all is well.
    pub fn verdict(ok: bool, valid: bool, slo_passed: bool) -> u8 {
        if !ok {
            CHECK_FAILED
        } else if !valid {
            INVALID_RUN
        } else if !slo_passed {
            SLO_FAILED
        } else {
            0
        }
    }

    /// Why a command stopped, and the exit code that says so.
    #[derive(Debug)]
    pub struct Failure {
        /// What to tell the user.
        pub message: String,
        /// One of the codes above.
        pub code: u8,
    }

    /// What a command that ends in a summary says: the summary on stdout (and as JSON in `json`
    /// when asked), and the exit code `code` gives it (see [`verdict`]); or the failure's
    /// message on stderr and its code.
    pub fn finish<S: std::fmt::Display + serde::Serialize>(
        result: Result<S, Failure>,
        json: Option<&std::path::Path>,
        code: impl Fn(&S) -> u8,
    ) -> std::process::ExitCode {
        use std::process::ExitCode;
        match result {
            Ok(summary) => {
                print!("{summary}");
                if let Some(path) = json {
                    let text =
                        serde_json::to_string_pretty(&summary).expect("the summary serialises");
                    if let Err(error) = std::fs::write(path, text + "\n") {
                        eprintln!("clearway: cannot write {}: {error}", path.display());
                        return ExitCode::from(UNREADABLE);
                    }
                }
                ExitCode::from(code(&summary))
            }
            Err(Failure { message, code }) => {
                eprintln!("clearway: {message}");
                ExitCode::from(code)
            }
        }
    }

    impl Failure {
        /// The command line or a setting was wrong.
        pub fn usage(message: impl Into<String>) -> Failure {
            Failure::with(USAGE, message)
        }

        /// A file could not be read or written.
        pub fn unreadable(message: impl Into<String>) -> Failure {
            Failure::with(UNREADABLE, message)
        }

        /// A check failed.
        pub fn check(message: impl Into<String>) -> Failure {
            Failure::with(CHECK_FAILED, message)
        }

        /// The switch failed while running.
        pub fn failed(message: impl Into<String>) -> Failure {
            Failure::with(RUN_FAILED, message)
        }

        /// Runs that cannot be compared.
        pub fn not_comparable(message: impl Into<String>) -> Failure {
            Failure::with(NOT_COMPARABLE, message)
        }

        fn with(code: u8, message: impl Into<String>) -> Failure {
            Failure {
                message: message.into(),
                code,
            }
        }
    }
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    // The flags the command line gave, which override a scenario's fields.
    let given = matches
        .subcommand()
        .map_or_else(scenario::Given::default, |(_, matches)| {
            scenario::Given::from_matches(matches)
        });
    match cli.command {
        Command::Run(args) => run::run(*args, &given),
        Command::Serve(args) => serve::serve(*args),
        Command::Load(args) => load::run(*args, &given),
        Command::Merge(args) => merge::run(args),
        Command::Report(args) => report::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Ledger(command) => ledger::run(command),
        Command::Search(args) => search::run(*args),
        Command::Plan(args) => plan::run(args),
        Command::Sweep(args) => sweep::run(*args),
        Command::Topology { file } => topology(&file),
        Command::Usl(args) => usl::run(args),
    }
}

fn topology(file: &std::path::Path) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("clearway: cannot read {}: {error}", file.display());
            return ExitCode::from(exit::UNREADABLE);
        }
    };
    match TopologyConfig::from_toml(&text).and_then(|config| config.validate()) {
        Ok(topology) => {
            print!("{topology}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("clearway: {}: {error}", file.display());
            ExitCode::from(exit::CHECK_FAILED)
        }
    }
}
