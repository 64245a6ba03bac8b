//! [`Inputs`]: what the report reads from a results folder: its `summary.json` as a
//! [`RunSummary`], its `latency.hlog` as a [`Log`] when there is one, and the names of the other
//! files to link to.
//! The summary is read as `summary_file` reads it for every command, so a report can be made of
//! an older folder.

use std::path::Path;

use hdrhistogram::Histogram;

use crate::exit::Failure;
use crate::hlog::{read_log, Log, E2E_TAG};
use crate::run::latency::Latencies;
pub use crate::summary_file::{RunSummary, Second, SloGate, Stage, SUMMARY_FILE};

/// The interval log's file name in a results folder.
pub const LOG_FILE: &str = "latency.hlog";

/// What the report calls intervals that have no tag.
pub const UNTAGGED: &str = "untagged";

/// The order steps are shown in: the order a payment meets them. Other tags follow, by name.
const STEP_ORDER: [&str; 3] = ["authorize", "route", "ledger"];

/// A results folder, read.
#[derive(Debug)]
pub struct Inputs {
    /// Its `summary.json`.
    pub summary: RunSummary,
    /// Its `latency.hlog`, or why there is none to draw from.
    pub log: LogFound,
    /// The names of the other files (and folders) in it, sorted; the report's own are left out.
    pub files: Vec<FileEntry>,
}

/// What became of `latency.hlog`.
#[derive(Debug)]
pub enum LogFound {
    /// Read, with at least one interval.
    Read(Log),
    /// No such file.
    Missing,
    /// The file holds no intervals.
    Empty,
}

/// A file or folder in the results folder, to link to.
#[derive(Clone, Debug, PartialEq)]
pub struct FileEntry {
    /// Its name.
    pub name: String,
    /// Its size; `None` for a folder.
    pub size_bytes: Option<u64>,
}

impl RunSummary {
    /// The steps, in the order a payment meets them.
    pub fn ordered_stages(&self) -> Vec<(&str, &Stage)> {
        let mut stages: Vec<(&str, &Stage)> = self
            .stages
            .iter()
            .map(|(name, stage)| (name.as_str(), stage))
            .collect();
        stages.sort_by_key(|(name, _)| step_rank(name));
        stages
    }
}

/// Where a tag sorts: `e2e` first, then the steps in order, then any other by name.
pub fn step_rank(tag: &str) -> (usize, String) {
    if tag == E2E_TAG {
        return (0, String::new());
    }
    match STEP_ORDER.iter().position(|step| *step == tag) {
        Some(index) => (1 + index, String::new()),
        None => (1 + STEP_ORDER.len(), tag.to_string()),
    }
}

/// One tag's latencies, every interval of the log added.
#[derive(Debug)]
pub struct TagTotal {
    /// `e2e` or a step's name.
    pub tag: String,
    /// The sum of its intervals.
    pub latencies: Latencies,
}

/// Each tag's intervals added, `e2e` first then the steps in order (intervals without a tag
/// as [`UNTAGGED`]); an error when a histogram cannot be held in a latency histogram's range.
pub fn tag_totals(log: &Log) -> Result<Vec<TagTotal>, String> {
    let mut tags = log.tags();
    tags.sort_by_key(|tag| step_rank(tag));
    tags.into_iter()
        .map(|tag| {
            let mut latencies = Latencies::new();
            for interval in log.tagged(&tag) {
                latencies
                    .add_histogram(&interval.histogram)
                    .map_err(|error| format!("tag {tag}: {error}"))?;
            }
            let tag = if tag.is_empty() {
                UNTAGGED.to_string()
            } else {
                tag
            };
            Ok(TagTotal { tag, latencies })
        })
        .collect()
}

/// One interval of the `e2e` tag, for the plots over time.
#[derive(Debug)]
pub struct E2eSecond<'a> {
    /// Seconds from the load's start.
    pub start_s: f64,
    /// Seconds it lasted.
    pub length_s: f64,
    /// What it recorded.
    pub histogram: &'a Histogram<u64>,
}

/// The `e2e` intervals of `log`, in time order.
pub fn e2e_seconds(log: &Log) -> Vec<E2eSecond<'_>> {
    let mut seconds: Vec<E2eSecond<'_>> = log
        .tagged(E2E_TAG)
        .map(|interval| E2eSecond {
            start_s: interval.start_s,
            length_s: interval.length_s,
            histogram: &interval.histogram,
        })
        .collect();
    seconds.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    seconds
}

/// Reads `dir`: its summary (required), its interval log (when there is one) and the names of
/// its files. Every failure is [`UNREADABLE`](crate::exit::UNREADABLE) and names the file.
pub fn read(dir: &Path, own_files: &[&str]) -> Result<Inputs, Failure> {
    let summary_path = dir.join(SUMMARY_FILE);
    let text = std::fs::read_to_string(&summary_path).map_err(|error| {
        Failure::unreadable(format!("cannot read {}: {error}", summary_path.display()))
    })?;
    let summary = RunSummary::from_json(&text).map_err(|error| {
        Failure::unreadable(format!("cannot read {}: {error}", summary_path.display()))
    })?;
    let log_path = dir.join(LOG_FILE);
    let log = match std::fs::read(&log_path) {
        Ok(bytes) => {
            let log = read_log(&bytes).map_err(|error| {
                Failure::unreadable(format!("cannot read {}: {error}", log_path.display()))
            })?;
            if log.intervals.is_empty() {
                LogFound::Empty
            } else {
                LogFound::Read(log)
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => LogFound::Missing,
        Err(error) => {
            return Err(Failure::unreadable(format!(
                "cannot read {}: {error}",
                log_path.display()
            )))
        }
    };
    let files = list(dir, own_files)?;
    Ok(Inputs {
        summary,
        log,
        files,
    })
}

/// The files and folders in `dir` whose names are text, but for `own_files`, sorted by name.
fn list(dir: &Path, own_files: &[&str]) -> Result<Vec<FileEntry>, Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| Failure::unreadable(format!("cannot read {}: {error}", dir.display())))?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if own_files.contains(&name.as_str()) || name.starts_with('.') {
            continue;
        }
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        files.push(FileEntry {
            name,
            size_bytes: (!metadata.is_dir()).then_some(metadata.len()),
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{
        "seed": 7, "duration_s": 10.0, "offered_per_s": 1000.0, "throughput_per_s": 999.5,
        "payments": {"submitted": 10, "approved": 6, "declined": 2, "rejected": 1,
                     "expired": 1, "busy": 0},
        "latency_ns": {"p50": 1000, "p90": 2000, "p99": 3000, "p999": 4000, "p9999": 5000,
                       "max": 6000},
        "ok": true
    }"#;

    #[test]
    fn a_minimal_summary_reads_with_the_optional_parts_empty() {
        let summary = RunSummary::from_json(MINIMAL).unwrap();
        assert_eq!(summary.seed, 7);
        assert_eq!(summary.payments.approved, 6);
        assert_eq!(summary.latency_ns.max, 6000);
        assert_eq!(summary.command, None);
        assert_eq!(summary.warmup_s, 0.0);
        assert!(summary.stages.is_empty() && summary.slo.is_empty());
        assert!(summary.timeline.is_empty() && summary.rejects_by_reason.is_empty());
        assert!(summary.generator.is_none() && summary.topology.is_none());
        assert!(
            summary.is_valid(),
            "no generator figures: nothing fell behind"
        );
    }

    #[test]
    fn a_full_summary_reads_every_part_the_report_shows() {
        let text = r#"{
            "command": "load", "scenario": "black-friday", "seed": 42, "duration_s": 5,
            "warmup_s": 2, "offered_per_s": 50000, "throughput_per_s": 49990.5,
            "payments": {"submitted": 250000, "approved": 200000, "declined": 30000,
                         "rejected": 19000, "expired": 500, "busy": 500},
            "rejects_by_reason": {"InsufficientLiquidity": 18000, "BadMac": 997, "Exists": 3},
            "latency_ns": {"p50": 1, "p90": 2, "p99": 3, "p999": 4, "p9999": 5, "max": 6},
            "stages": {"route": {"latency_ns": {"p50": 1, "p90": 2, "p99": 3, "p999": 4,
                                                "p9999": 5, "max": 6},
                                 "events": 9, "workers": 1},
                       "authorize": {"latency_ns": {"p50": 1, "p90": 2, "p99": 3, "p999": 4,
                                                    "p9999": 5, "max": 6},
                                     "events": 9, "workers": 2}},
            "slo": [{"gate": "p99<2ms", "metric": "e2e.p99", "threshold": 2000000.0,
                     "measured": null, "unit": "ns", "passed": false,
                     "measured_text": "not measured"}],
            "generator": {"planned": 10, "offered": 10, "late": 4, "late_payments": 4,
                          "late_fraction": 0.4, "late_max_ns": 9000000, "latest_ns": 9000000,
                          "caps_hit": 0, "kept_up": false},
            "valid": false, "ok": false, "checks": {"outcomes_add_up": true},
            "timeline": [{"start_s": 0, "length_s": 1, "offered": 5, "answered": 4,
                          "warmup": true},
                         {"start_s": 1, "length_s": 1, "offered": 5, "answered": 6}],
            "environment": {"cpu_model": "Test CPU", "cores": 2, "os": "Linux",
                            "rustc": "rustc 1.95.0", "git_commit": "abc1234", "extra": 1},
            "topology": {"source": "auto", "mode": "pipelined", "threads": 5, "map": "m",
                         "producers": 1},
            "ledger": {"positions_sum": 0}
        }"#;
        let summary = RunSummary::from_json(text).unwrap();
        assert_eq!(summary.command.as_deref(), Some("load"));
        assert_eq!(summary.scenario.as_deref(), Some("black-friday"));
        assert_eq!(summary.warmup_s, 2.0);
        assert_eq!(summary.rejects_by_reason["BadMac"], 997);
        let steps: Vec<&str> = summary.ordered_stages().iter().map(|(n, _)| *n).collect();
        assert_eq!(steps, ["authorize", "route"]);
        assert_eq!(summary.slo[0].measured, None);
        assert!(!summary.slo[0].passed);
        let generator = summary.generator.unwrap();
        // `clearway load` writes the run's figures and its socket's own beside them.
        assert_eq!(generator.late, Some(4));
        assert_eq!(generator.late_max_ns, Some(9_000_000));
        assert!(!summary.is_valid());
        assert_eq!(summary.timeline.len(), 2);
        assert!(summary.timeline[0].warmup && !summary.timeline[1].warmup);
        let environment = summary.environment.unwrap();
        assert_eq!(environment.cores, Some(2));
        assert_eq!(summary.topology.unwrap().threads, Some(5));
    }

    #[test]
    fn a_missing_field_is_named() {
        let text = MINIMAL.replace(r#""ok": true"#, r#""okay": true"#);
        let error = RunSummary::from_json(&text).unwrap_err();
        assert!(error.contains("missing field `ok`"), "{error}");
        let text = MINIMAL.replace(r#""approved": 6,"#, "");
        let error = RunSummary::from_json(&text).unwrap_err();
        assert!(error.contains("missing field `approved`"), "{error}");
        let error = RunSummary::from_json("42").unwrap_err();
        assert!(error.contains("expected struct RunSummary"), "{error}");
    }

    #[test]
    fn steps_sort_in_the_order_a_payment_meets_them() {
        let mut tags = vec!["zeta", "ledger", "e2e", "alpha", "route", "authorize"];
        tags.sort_by_key(|tag| step_rank(tag));
        assert_eq!(
            tags,
            ["e2e", "authorize", "route", "ledger", "alpha", "zeta"]
        );
    }
}
