//! The `--out` folder of a measured run (`clearway run`, `clearway load`): everything a
//! performance engineer hands a colleague. See docs/OUTPUT.md, "The results folder".
//!
//! | file | holds |
//! | --- | --- |
//! | `summary.json` | the summary, as `--json` writes it |
//! | `latency.hlog` | HdrHistogram interval log: a line per second and tag (`e2e`, each step), warm-up excluded |
//! | `TAG.hgrm` | the percentile spectrum of each tag's measured histogram, values in µs |
//! | `scenario.toml` | the scenario as run: every field, flags applied |
//! | `environment.json` | the fingerprint: CPU model and count, governor, kernel, rustc, commit, topology |
//! | `batches/` | the settlement reports (`clearway run` only) |
//! | `report.html`, `*.svg` | with `--report` (or `clearway report DIR` later) |

use std::path::Path;

use serde::Serialize;

use crate::exit::Failure;
use crate::interval::{Monitored, Tag, Window};
use crate::run::args::MeasureArgs;
use crate::run::environment::Environment;

/// The environment a run's figures came from, with the layout it ran: two runs compare only when
/// these agree.
#[derive(Clone, Debug, Serialize)]
pub struct Fingerprint {
    /// The machine and build.
    #[serde(flatten)]
    pub environment: Environment,
    /// The switch's threads and cores as `clearway topology` prints them (`clearway run`), or
    /// `null` where the switch is another process's (`clearway load`).
    pub topology: Option<String>,
    /// The command that ran.
    pub command: String,
}

/// Writes the folder `measure.out` names, if any: the summary, the interval log of `monitored`
/// (load started at `window`'s start), the spectra, the scenario and the fingerprint; then the
/// report when asked. Returns the lines that say what was written, for after the summary.
pub fn write<S: Serialize>(
    measure: &MeasureArgs,
    summary: &S,
    monitored: &Monitored,
    window: &Window,
    fingerprint: &Fingerprint,
) -> Result<String, Failure> {
    let Some(out) = &measure.out else {
        return Ok(String::new());
    };
    std::fs::create_dir_all(out).map_err(|error| {
        Failure::unreadable(format!("cannot create {}: {error}", out.display()))
    })?;
    let json = serde_json::to_string_pretty(summary).expect("the summary serialises");
    put(out, "summary.json", json + "\n")?;
    let plan = &measure.plan;
    let comments = vec![
        format!(
            "clearway {}, scenario {}: values in ns; the first {} s of load (warm-up) are \
             excluded, so intervals start at {} s",
            fingerprint.command, plan.name, plan.warmup_s, plan.warmup_s
        ),
        format!("tags: {}", tags(monitored).join(", ")),
    ];
    let mut comments = comments;
    if monitored.spanning > 0 {
        comments.push(format!(
            "{} histograms cover more than one second: the monitor fell behind, and each is \
             logged in its last second",
            monitored.spanning
        ));
    }
    let started = monitored.started.unwrap_or_else(std::time::SystemTime::now);
    let log = monitored
        .interval_log(window, started, &comments)
        .map_err(|error| Failure::failed(format!("cannot write the interval log: {error}")))?;
    put(out, "latency.hlog", log)?;
    for (tag, latencies) in &monitored.totals {
        let spectrum = crate::hgrm::spectrum(latencies.histogram(), 1_000.0);
        put(out, &format!("{}.hgrm", tag.name()), spectrum)?;
    }
    put(out, "scenario.toml", plan.resolved.to_toml())?;
    let fingerprint =
        serde_json::to_string_pretty(fingerprint).expect("the fingerprint serialises");
    put(out, "environment.json", fingerprint + "\n")?;
    let mut written = format!("results: {}\n", out.display());
    if measure.report {
        written.push_str(&crate::report::write_report(out)?.to_string());
    }
    Ok(written)
}

/// What a measured command ends with: its summary and exit code as [`crate::exit::finish`]
/// gives them, then the lines saying which files it wrote.
pub fn finish<S: std::fmt::Display + Serialize>(
    result: Result<(S, String), Failure>,
    json: Option<&Path>,
    code: impl Fn(&S) -> u8,
) -> std::process::ExitCode {
    let (result, written) = match result {
        Ok((summary, written)) => (Ok(summary), written),
        Err(failure) => (Err(failure), String::new()),
    };
    let exit_code = crate::exit::finish(result, json, code);
    print!("{written}");
    exit_code
}

/// The tags measured, in [`Tag::ALL`] order.
fn tags(monitored: &Monitored) -> Vec<&'static str> {
    Tag::ALL
        .into_iter()
        .filter(|tag| monitored.totals.contains_key(tag))
        .map(Tag::name)
        .collect()
}

fn put(out: &Path, name: &str, contents: impl AsRef<[u8]>) -> Result<(), Failure> {
    let path = out.join(name);
    std::fs::write(&path, contents)
        .map_err(|error| Failure::unreadable(format!("cannot write {}: {error}", path.display())))
}
