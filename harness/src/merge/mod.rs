//! `clearway merge`: adds the histograms of HdrHistogram interval logs (`.hlog`, as `clearway
//! load --histogram` writes them) and prints the merged percentiles. Counts add exactly, so
//! several load processes against one node give the percentiles of all their payments together,
//! which no average of their percentiles can.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::exit::{self, Failure};
use crate::run::latency::{Latencies, Percentiles};
use crate::run::summary::thousands;

/// `clearway merge FILE.hlog...`.
#[derive(Args, Clone, Debug)]
pub struct MergeArgs {
    /// Interval logs to merge: every interval of every file is added.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Also write the merged figures as JSON (docs/OUTPUT.md) to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// What a merge answers (docs/OUTPUT.md).
#[derive(Clone, Debug, Serialize)]
pub struct MergeSummary {
    /// The files merged, as given.
    pub files: Vec<String>,
    /// Interval histograms added, all files together.
    pub intervals: usize,
    /// Values recorded, all intervals together.
    pub count: u64,
    /// Percentiles of the merged histogram, in the histograms' unit (ns for `clearway load`'s).
    pub latency_ns: Percentiles,
}

/// Runs `clearway merge`: 0 merged, 3 a file unreadable or not an interval log.
pub fn run(args: MergeArgs) -> ExitCode {
    match merge(&args.files) {
        Ok(summary) => {
            println!(
                "clearway merge: {} files, {} intervals, {} values",
                summary.files.len(),
                summary.intervals,
                thousands(summary.count)
            );
            println!("  latency      {}", summary.latency_ns);
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

/// Every interval of every file in `files`, added.
pub fn merge(files: &[PathBuf]) -> Result<MergeSummary, Failure> {
    let mut merged = Latencies::new();
    let mut intervals = 0;
    for path in files {
        let bytes = std::fs::read(path).map_err(|error| {
            Failure::unreadable(format!("cannot read {}: {error}", path.display()))
        })?;
        let histograms = crate::hlog::read(&bytes)
            .map_err(|error| Failure::unreadable(format!("{}: {error}", path.display())))?;
        for histogram in &histograms {
            merged
                .add_histogram(histogram)
                .map_err(|error| Failure::unreadable(format!("{}: {error}", path.display())))?;
        }
        intervals += histograms.len();
    }
    Ok(MergeSummary {
        files: files
            .iter()
            .map(|path| path.display().to_string())
            .collect(),
        intervals,
        count: merged.count(),
        latency_ns: merged.percentiles(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

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
        let merged = merge(&files).unwrap();
        assert_eq!(merged.intervals, 2);
        assert_eq!(merged.count, both.count());
        assert_eq!(merged.latency_ns, both.percentiles());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_file_is_unreadable() {
        let failure = merge(&[PathBuf::from("/nonexistent/e2e.hlog")]).unwrap_err();
        assert_eq!(failure.code, exit::UNREADABLE);
        assert!(failure.message.contains("/nonexistent/e2e.hlog"));
    }
}
