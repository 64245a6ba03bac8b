//! `clearway sweep`: one setting varied over a list of values (authorize workers, cores,
//! producers, ring size, batch limit, topology, or the offered rate), the switch's saturation or
//! sustainable throughput and latency measured at each, and for counts of parallel units the
//! Universal Scalability Law fitted to them: λ (one unit's throughput), σ (contention), κ
//! (coherency), and the count N* past which more units lose throughput.
//!
//! The principal type is [`SweepSummary`], what the sweep found, written as sweep.json beside
//! points.csv (what `clearway usl` reads), usl.json and usl.svg.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `values.rs` | what can be varied, the flag each sets, and `--values` lists and ranges |
//! | `mod.rs` | the command: each value's runs (or search), the table, the fit and the files |

pub(crate) mod values;

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use crate::compare::judge;
use crate::constants::SWEEP_VALUES_MAX;
use crate::exit::Failure;
use crate::probe::Probe;
use crate::run::environment::Environment;
use crate::run::latency::human_ns;
use crate::run::summary::thousands;
use crate::search::{self, TrialArgs};
use crate::usl;
use values::Vary;

/// `clearway sweep`: a setting varied, throughput measured at each value, the USL fitted.
#[derive(clap::Args, Clone, Debug)]
pub struct SweepArgs {
    /// What to vary.
    #[arg(long, value_enum)]
    pub vary: Vary,
    /// Its values: a list (`1,2,4,8`; `auto,fused` for topologies), a range (`1..8`), a range
    /// with a step (`1..16:3`) or one that multiplies (`1024..65536*2`).
    #[arg(long)]
    pub values: String,
    /// What to measure at each value: `saturation` (`--rate max`, the median of the runs) or
    /// `sustainable` (a search at each value, holding the gates). With `--vary rate` each value
    /// is the offered rate itself.
    #[arg(long, value_enum, default_value_t = Mode::Saturation)]
    pub mode: Mode,
    /// How each run goes and is judged, the searches' bounds, and where the files go.
    #[command(flatten)]
    pub trials: TrialArgs,
}

/// What a sweep measures at each value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The most it answers when offered all it can take: quick, but not capacity.
    Saturation,
    /// The highest rate at which every gate holds, by a search at each value.
    Sustainable,
    /// The rate offered is the value (`--vary rate`): throughput and latency against load.
    Offered,
}

/// One value's figures.
#[derive(Clone, Debug, Serialize)]
pub struct SweepPoint {
    /// The value, as given.
    pub value: String,
    /// The value as a count, for the fit (workers, cores, producers), or as a number.
    pub n: Option<f64>,
    /// The median answered rate of the runs (saturation, offered), or the sustainable rate
    /// (`None` when no rate held).
    pub throughput_per_s: Option<f64>,
    /// The runs' throughput spread, (max − min) / median; 0 with one run.
    pub spread: Option<f64>,
    /// For a search, the lowest rate that failed.
    pub first_fail_per_s: Option<f64>,
    /// Median end-to-end p50 of the runs (of the held rate's trials, for a search), ns.
    pub p50_ns: Option<u64>,
    /// Median end-to-end p99, ns.
    pub p99_ns: Option<u64>,
    /// Median end-to-end p99.9, ns.
    pub p999_ns: Option<u64>,
    /// Runs (or trials) made at this value.
    pub runs: usize,
    /// Runs whose generator fell behind its schedule.
    pub invalid_runs: usize,
    /// The runs' results folders.
    pub folders: Vec<String>,
}

/// The best point measured.
#[derive(Clone, Debug, Serialize)]
pub struct Best {
    /// Its value.
    pub value: String,
    /// Its throughput, payments/s.
    pub throughput_per_s: f64,
}

/// What `clearway sweep` found, as sweep.json and `--json` hold it (docs/OUTPUT.md).
#[derive(Clone, Debug, Serialize)]
pub struct SweepSummary {
    /// `sweep`.
    pub command: &'static str,
    /// What was varied.
    pub vary: Vary,
    /// What was measured at each value.
    pub mode: Mode,
    /// The scenario each run played.
    pub scenario: String,
    /// The gates a search held each trial to (empty for saturation and offered sweeps).
    pub gates: Vec<String>,
    /// Seconds each run measured, after `warmup_s`.
    pub duration_s: f64,
    /// Seconds of warm-up before each run's window.
    pub warmup_s: f64,
    /// Runs at each value (trials at each rate, for a search).
    pub repeats: usize,
    /// The flags every run was also given.
    pub trial_flags: Vec<String>,
    /// Each value's figures, in the order given.
    pub points: Vec<SweepPoint>,
    /// The point with the highest throughput: what `clearway plan --per-node` reads.
    pub best: Option<Best>,
    /// The Universal Scalability Law fitted to the points, for workers, cores and producers.
    pub usl: Option<usl::fit::Fit>,
    /// Why there is no fit, when there is none.
    pub usl_note: Option<String>,
    /// The machine the sweep ran on.
    pub environment: Environment,
    /// The folder holding the files and every run's folder.
    pub out: String,
}

/// Runs `clearway sweep`.
pub fn run(args: SweepArgs) -> ExitCode {
    match sweep(&args) {
        Ok(_) => ExitCode::SUCCESS,
        Err(Failure { message, code }) => {
            eprintln!("clearway: {message}");
            ExitCode::from(code)
        }
    }
}

fn sweep(args: &SweepArgs) -> Result<SweepSummary, Failure> {
    let trials = &args.trials;
    let values =
        values::parse_values(args.vary, &args.values, SWEEP_VALUES_MAX).map_err(Failure::usage)?;
    let mode = match (args.vary, args.mode) {
        (Vary::Rate, Mode::Sustainable) => {
            return Err(Failure::usage(
                "--vary rate measures each offered rate: a sustainable search would replace it",
            ))
        }
        (Vary::Rate, _) => Mode::Offered,
        (_, mode) => mode,
    };
    if args.vary == Vary::Cores {
        if trials.cores.is_some() {
            return Err(Failure::usage(
                "--vary cores sets each run's cores: drop --cores",
            ));
        }
        let here = clearway_core::pipeline::available_cores().len();
        if let Some(value) = values
            .iter()
            .find(|value| value.parse::<usize>().unwrap_or(0) > here)
        {
            return Err(Failure::usage(format!(
                "--values asks for {value} cores, and this machine lets the sweep use {here}"
            )));
        }
    }
    let settings = search::settings(trials)?;
    let scenario = trials
        .scenario
        .clone()
        .unwrap_or_else(|| "steady".to_string());
    let (gates, gates_from) = match mode {
        Mode::Sustainable => search::gates(trials, &scenario)?,
        _ => (
            trials.slo.iter().map(ToString::to_string).collect(),
            "flags",
        ),
    };
    // Fail on bad flags before the first run.
    search::probe(None, trials, &gates, Vec::new())?;
    let out = search::folder(trials, "sweep")?;

    println!(
        "sweep        {} {}: {}, scenario {scenario}",
        args.vary.name(),
        values.join(","),
        match mode {
            Mode::Saturation =>
                "saturation throughput (--rate max), the median of each value's runs",
            Mode::Sustainable => "sustainable throughput, a search at each value",
            Mode::Offered => "throughput and latency at each offered rate, the median of the runs",
        }
    );
    if mode == Mode::Sustainable {
        print!("{}", search::header(trials, &gates, gates_from, &out));
    } else {
        println!(
            "  runs       {} a value, {} s measured after {} s of warm-up\n  folder     {}",
            trials.repeats,
            trials.duration,
            trials.warmup,
            out.display()
        );
        println!(
            "  {:<10} {:>12} {:>7} {:>10} {:>10} {:>10}  runs",
            args.vary.name(),
            "answered/s",
            "spread",
            "p50",
            "p99",
            "p99.9"
        );
    }
    let mut points = Vec::new();
    for value in &values {
        let mut varied = args.vary.flags(value);
        if mode == Mode::Saturation {
            varied.extend(["--rate".into(), "max".into()]);
        }
        let mut probe = search::probe(None, trials, &gates, varied)?;
        if args.vary == Vary::Cores {
            probe.cores = value.parse().ok();
        }
        // A topology file's path names a folder of its own, slashes and all.
        let label = value.replace(['/', '\\'], "_");
        let root = out
            .join("trials")
            .join(format!("{}-{label}", args.vary.name()));
        let point = match mode {
            Mode::Sustainable => sustainable(args.vary, value, probe, &root, &settings)?,
            _ => repeated(args.vary, value, &probe, &root, trials.repeats)?,
        };
        if mode != Mode::Sustainable {
            print!("{}", point_line(&point));
        }
        let _ = std::io::stdout().flush();
        points.push(point);
    }

    let best = points
        .iter()
        .filter_map(|point| Some((point, point.throughput_per_s?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(point, throughput_per_s)| Best {
            value: point.value.clone(),
            throughput_per_s,
        });
    if let Some(best) = &best {
        println!(
            "best         {} {}: {}/s",
            args.vary.name(),
            best.value,
            thousands(best.throughput_per_s.round() as u64)
        );
    }
    let csv_path = out.join("points.csv");
    search::write(&csv_path, &csv(&points))?;
    let (fit, usl_note) = if args.vary.scales() {
        let measured: Vec<usl::Point> = points
            .iter()
            .filter_map(|point| {
                Some(usl::Point {
                    n: point.n?,
                    throughput_per_s: point.throughput_per_s?,
                })
            })
            .collect();
        match usl::fit::fit(&measured) {
            Ok(fit) => (Some(fit), None),
            Err(error) => (None, Some(format!("no USL fit: {error}"))),
        }
    } else {
        (
            None,
            Some(format!(
                "no USL fit: {} is not a count of parallel units",
                args.vary.name()
            )),
        )
    };
    match (&fit, &usl_note) {
        (Some(fit), _) => {
            println!(
                "usl          X(N) = λN / (1 + σ(N−1) + κN(N−1)), least squares over the points"
            );
            print!("{fit}");
            let json = serde_json::to_string_pretty(fit).expect("the fit serialises") + "\n";
            search::write(&out.join("usl.json"), &json)?;
            let title = format!(
                "clearway sweep --vary {}: measured and USL fit",
                args.vary.name()
            );
            usl::plot::write_svg(&out.join("usl.svg"), fit, &title, args.vary.name())
                .map_err(Failure::unreadable)?;
        }
        (None, Some(note)) => println!("{note}"),
        (None, None) => {}
    }

    let summary = SweepSummary {
        command: "sweep",
        vary: args.vary,
        mode,
        scenario,
        gates,
        duration_s: trials.duration,
        warmup_s: trials.warmup,
        repeats: trials.repeats,
        trial_flags: search::flag_texts(&trials.trial_flags),
        points,
        best,
        usl: fit,
        usl_note,
        environment: Environment::here(),
        out: out.display().to_string(),
    };
    let json = serde_json::to_string_pretty(&summary).expect("the sweep serialises") + "\n";
    search::write(&out.join("sweep.json"), &json)?;
    if let Some(path) = &trials.json {
        search::write(path, &json)?;
    }
    let mut files = vec!["sweep.json", "points.csv"];
    if summary.usl.is_some() {
        files.extend(["usl.json", "usl.svg"]);
    }
    println!("results: {} ({})", out.display(), files.join(", "));
    Ok(summary)
}

/// `repeats` runs of `probe` at `value`, their medians.
fn repeated(
    vary: Vary,
    value: &str,
    probe: &Probe,
    root: &Path,
    repeats: usize,
) -> Result<SweepPoint, Failure> {
    let mut runs = Vec::new();
    for repeat in 1..=repeats {
        let out = root.join(format!("run-{repeat}"));
        runs.push(probe.run(&[] as &[OsString], &out)?);
    }
    let throughputs: Vec<f64> = runs
        .iter()
        .map(|run| run.summary.throughput_per_s)
        .collect();
    let median_throughput = median(&throughputs);
    let latency = |pick: fn(&crate::run::latency::Percentiles) -> u64| {
        let values: Vec<f64> = runs
            .iter()
            .map(|run| pick(&run.summary.latency_ns) as f64)
            .collect();
        median(&values).map(|value| value.round() as u64)
    };
    Ok(SweepPoint {
        value: value.to_string(),
        n: number(vary, value),
        throughput_per_s: median_throughput,
        spread: Some(judge::Spread::of(&throughputs).spread).filter(|spread| spread.is_finite()),
        first_fail_per_s: None,
        p50_ns: latency(|p| p.p50),
        p99_ns: latency(|p| p.p99),
        p999_ns: latency(|p| p.p999),
        runs: runs.len(),
        invalid_runs: runs.iter().filter(|run| !run.summary.is_valid()).count(),
        folders: runs
            .iter()
            .map(|run| run.out.display().to_string())
            .collect(),
    })
}

/// A search at `value`: its sustainable rate, and the latency of the trials that held there.
fn sustainable(
    vary: Vary,
    value: &str,
    probe: Probe,
    root: &Path,
    settings: &search::bisect::Settings,
) -> Result<SweepPoint, Failure> {
    println!("  {} {value}:", vary.name());
    let found = search::search_with(probe, root, settings, |line| {
        print!("{line}");
        let _ = std::io::stdout().flush();
    })?;
    print!("{}", search::answer(&found, settings));
    let held: Vec<&search::bisect::ProbeRecord> = found
        .probes
        .iter()
        .filter(|probe| Some(probe.rate_per_s) == found.sustainable_per_s)
        .collect();
    let latency = |pick: fn(&search::bisect::Trial) -> Option<u64>| {
        let values: Vec<f64> = held
            .iter()
            .filter_map(|probe| pick(&probe.trial))
            .map(|value| value as f64)
            .collect();
        median(&values).map(|value| value.round() as u64)
    };
    Ok(SweepPoint {
        value: value.to_string(),
        n: number(vary, value),
        throughput_per_s: found.sustainable_per_s,
        spread: None,
        first_fail_per_s: found.first_fail_per_s,
        p50_ns: latency(|trial| trial.p50_ns),
        p99_ns: latency(|trial| trial.p99_ns),
        p999_ns: None,
        runs: found.probes.len(),
        invalid_runs: found
            .probes
            .iter()
            .filter(|probe| {
                probe
                    .trial
                    .reason
                    .as_deref()
                    .is_some_and(|reason| reason.starts_with("invalid"))
            })
            .count(),
        folders: found
            .probes
            .iter()
            .filter_map(|probe| probe.trial.out.clone())
            .collect(),
    })
}

/// The value as a number, where it is one.
fn number(vary: Vary, value: &str) -> Option<f64> {
    vary.numeric()
        .then(|| value.replace('_', "").parse().ok())
        .flatten()
}

/// The median of `values`, or `None` when there are none.
fn median(values: &[f64]) -> Option<f64> {
    Some(judge::median(values)).filter(|middle| !middle.is_nan())
}

/// One value's line of the table.
fn point_line(point: &SweepPoint) -> String {
    let latency = |value: Option<u64>| value.map_or_else(|| "-".to_string(), human_ns);
    format!(
        "  {:<10} {:>12} {:>7} {:>10} {:>10} {:>10}  {}{}\n",
        point.value,
        point
            .throughput_per_s
            .map_or_else(|| "-".to_string(), |rate| thousands(rate.round() as u64)),
        point.spread.map_or_else(
            || "-".to_string(),
            |spread| format!("{:.1}%", spread * 100.0)
        ),
        latency(point.p50_ns),
        latency(point.p99_ns),
        latency(point.p999_ns),
        point.runs,
        if point.invalid_runs > 0 {
            format!(
                " ({} invalid: the generator fell behind)",
                point.invalid_runs
            )
        } else {
            String::new()
        }
    )
}

/// points.csv: a header, then a row per value; `clearway usl` reads its `n` and
/// `throughput_per_s` columns.
fn csv(points: &[SweepPoint]) -> String {
    let mut text =
        "value,n,throughput_per_s,spread,first_fail_per_s,p50_ns,p99_ns,p999_ns,runs,invalid_runs\n"
            .to_string();
    let cell = |value: Option<String>| value.unwrap_or_default();
    for point in points {
        let value = if point.value.contains([',', '"', '\n']) {
            format!("\"{}\"", point.value.replace('"', "\"\""))
        } else {
            point.value.clone()
        };
        let _ = writeln!(
            text,
            "{value},{},{},{},{},{},{},{},{},{}",
            cell(point.n.map(|n| n.to_string())),
            cell(point.throughput_per_s.map(|rate| rate.to_string())),
            cell(point.spread.map(|spread| format!("{spread:.4}"))),
            cell(point.first_fail_per_s.map(|rate| rate.to_string())),
            cell(point.p50_ns.map(|ns| ns.to_string())),
            cell(point.p99_ns.map(|ns| ns.to_string())),
            cell(point.p999_ns.map(|ns| ns.to_string())),
            point.runs,
            point.invalid_runs
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(value: &str, n: Option<f64>, throughput: Option<f64>) -> SweepPoint {
        SweepPoint {
            value: value.to_string(),
            n,
            throughput_per_s: throughput,
            spread: Some(0.0312),
            first_fail_per_s: None,
            p50_ns: Some(7_000),
            p99_ns: Some(3_000_000),
            p999_ns: None,
            runs: 3,
            invalid_runs: 1,
            folders: Vec::new(),
        }
    }

    #[test]
    fn a_median_of_nothing_is_none() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    }

    #[test]
    fn points_csv_has_the_columns_usl_reads_and_quotes_what_needs_it() {
        let text = csv(&[
            point("1", Some(1.0), Some(1000.0)),
            point("a,b.toml", None, None),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "value,n,throughput_per_s,spread,first_fail_per_s,p50_ns,p99_ns,p999_ns,runs,invalid_runs"
        );
        assert_eq!(lines[1], "1,1,1000,0.0312,,7000,3000000,,3,1");
        assert_eq!(lines[2], "\"a,b.toml\",,,0.0312,,7000,3000000,,3,1");
    }

    #[test]
    fn a_table_line_names_invalid_runs() {
        let line = point_line(&point("4", Some(4.0), Some(412_345.4)));
        assert!(line.contains("412,345"), "{line}");
        assert!(line.contains("3.1%"), "{line}");
        assert!(line.contains("1 invalid"), "{line}");
    }
}
