//! `clearway merge`: adds the histograms of HdrHistogram interval logs (`.hlog`, as `clearway
//! load --histogram` writes them) and prints the merged percentiles. Counts add exactly, so
//! several load processes against one node give the percentiles of all their payments together,
//! which no average of their percentiles can.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::Args;
use serde::Serialize;

use crate::exit::{self, Failure};
use crate::hlog::IntervalRef;
use crate::run::latency::{Latencies, Percentiles};
use crate::run::summary::thousands;

/// `clearway merge FILE.hlog...`.
#[derive(Args, Clone, Debug)]
pub struct MergeArgs {
    /// Interval logs to merge: every interval of every file is added, tag by tag.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Also write the merged figures as JSON (docs/OUTPUT.md) to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Also write the merged interval log to this file: per tag, the intervals of every file
    /// that started in the same wall-clock second added into one.
    #[arg(long)]
    pub hlog: Option<PathBuf>,
}

/// What a merge answers (docs/OUTPUT.md).
#[derive(Clone, Debug, Serialize)]
pub struct MergeSummary {
    /// The files merged, as given.
    pub files: Vec<String>,
    /// Interval histograms added, all files and tags together.
    pub intervals: usize,
    /// Values recorded under the `e2e` tag (or untagged), all intervals together.
    pub count: u64,
    /// Percentiles of the merged `e2e` (or untagged) histogram, in the histograms' unit (ns for
    /// Clearway's logs).
    pub latency_ns: Percentiles,
    /// Every tag's merged percentiles, with its count.
    pub tags: BTreeMap<String, TagFigures>,
}

/// One tag's merged figures.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct TagFigures {
    /// Values recorded.
    pub count: u64,
    /// Their percentiles.
    pub latency_ns: Percentiles,
}

/// Runs `clearway merge`: 0 merged, 3 a file unreadable or not an interval log.
pub fn run(args: MergeArgs) -> ExitCode {
    match merge(&args.files, args.hlog.as_deref()) {
        Ok(summary) => {
            println!(
                "clearway merge: {} files, {} intervals, {} values",
                summary.files.len(),
                summary.intervals,
                thousands(summary.count)
            );
            for (tag, figures) in &summary.tags {
                println!(
                    "  {:<12} {} values: {}",
                    if tag.is_empty() { "(untagged)" } else { tag },
                    thousands(figures.count),
                    figures.latency_ns
                );
            }
            if let Some(path) = &args.json {
                let text = serde_json::to_string_pretty(&summary).expect("the summary serialises");
                if let Err(error) = std::fs::write(path, text + "\n") {
                    eprintln!("clearway: cannot write {}: {error}", path.display());
                    return ExitCode::from(exit::UNREADABLE);
                }
            }
            ExitCode::SUCCESS
        }
        Err(Failure { message, code }) => {
            eprintln!("clearway: {message}");
            ExitCode::from(code)
        }
    }
}

/// Every interval of every file in `files`, added tag by tag; with `hlog`, the merged log is
/// written there, intervals that started in the same wall-clock second added together.
pub fn merge(files: &[PathBuf], hlog: Option<&Path>) -> Result<MergeSummary, Failure> {
    let mut totals: BTreeMap<String, Latencies> = BTreeMap::new();
    // (wall-clock second, tag) → the intervals that started in it, added.
    let mut seconds: BTreeMap<(u64, String), Latencies> = BTreeMap::new();
    let mut intervals = 0;
    for path in files {
        let bytes = std::fs::read(path).map_err(|error| {
            Failure::unreadable(format!("cannot read {}: {error}", path.display()))
        })?;
        let log = crate::hlog::read_log(&bytes)
            .map_err(|error| Failure::unreadable(format!("{}: {error}", path.display())))?;
        let start_s = log.start_time_s.unwrap_or(0.0);
        for interval in &log.intervals {
            let tag = interval.tag.clone().unwrap_or_default();
            let add = |latencies: &mut Latencies| {
                latencies
                    .add_histogram(&interval.histogram)
                    .map_err(|error| Failure::unreadable(format!("{}: {error}", path.display())))
            };
            add(totals.entry(tag.clone()).or_default())?;
            let second = (start_s + interval.start_s).floor().max(0.0) as u64;
            add(seconds.entry((second, tag)).or_default())?;
        }
        intervals += log.intervals.len();
    }
    if let Some(path) = hlog {
        write_merged(path, &seconds)?;
    }
    let e2e = totals
        .get(crate::hlog::E2E_TAG)
        .or_else(|| totals.get(""))
        .cloned()
        .unwrap_or_default();
    Ok(MergeSummary {
        files: files
            .iter()
            .map(|path| path.display().to_string())
            .collect(),
        intervals,
        count: e2e.count(),
        latency_ns: e2e.percentiles(),
        tags: totals
            .iter()
            .map(|(tag, latencies)| {
                (
                    tag.clone(),
                    TagFigures {
                        count: latencies.count(),
                        latency_ns: latencies.percentiles(),
                    },
                )
            })
            .collect(),
    })
}

/// The merged log: one interval a second and tag, from the earliest second.
fn write_merged(path: &Path, seconds: &BTreeMap<(u64, String), Latencies>) -> Result<(), Failure> {
    let first_s = seconds.keys().map(|(second, _)| *second).min().unwrap_or(0);
    let intervals: Vec<IntervalRef<'_>> = seconds
        .iter()
        .map(|((second, tag), latencies)| IntervalRef {
            tag: if tag.is_empty() {
                crate::hlog::E2E_TAG
            } else {
                tag
            },
            start: Duration::from_secs(second - first_s),
            length: Duration::from_secs(1),
            histogram: latencies.histogram(),
        })
        .collect();
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(first_s);
    let bytes = crate::hlog::write_log(start, &["clearway merge".to_string()], &intervals)
        .map_err(|error| Failure::failed(format!("cannot write the merged log: {error}")))?;
    std::fs::write(path, bytes)
        .map_err(|error| Failure::unreadable(format!("cannot write {}: {error}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_hlog_files_merged_equal_the_histogram_that_recorded_both() {
        let dir = std::env::temp_dir().join(format!("clearway-merge-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut first = Latencies::new();
        let mut second = Latencies::new();
        let mut both = Latencies::new();
        for value in 1..=20_000u64 {
            let latency = value * value % 9_999_991 + 1;
            if value % 3 == 0 {
                first.record(latency);
            } else {
                second.record(latency * 7);
            }
            both.record(if value % 3 == 0 { latency } else { latency * 7 });
        }
        let files = [dir.join("first.hlog"), dir.join("second.hlog")];
        for (path, latencies) in files.iter().zip([&first, &second]) {
            let bytes = crate::hlog::write(
                latencies.histogram(),
                SystemTime::now(),
                Duration::from_secs(1),
                crate::hlog::E2E_TAG,
            )
            .unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        let merged_log = dir.join("merged.hlog");
        let merged = merge(&files, Some(&merged_log)).unwrap();
        assert_eq!(merged.intervals, 2);
        assert_eq!(merged.count, both.count());
        assert_eq!(merged.latency_ns, both.percentiles());
        assert_eq!(merged.tags["e2e"].count, both.count());
        // The merged log holds the same values: merged again, the same figures.
        let again = merge(&[merged_log], None).unwrap();
        assert_eq!(again.count, both.count());
        assert_eq!(again.latency_ns, both.percentiles());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_file_is_unreadable() {
        let failure = merge(&[PathBuf::from("/nonexistent/e2e.hlog")], None).unwrap_err();
        assert_eq!(failure.code, exit::UNREADABLE);
        assert!(failure.message.contains("/nonexistent/e2e.hlog"));
    }
}
