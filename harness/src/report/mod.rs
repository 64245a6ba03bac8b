//! `clearway report DIR`: [`write_report`] turns a results folder (what `clearway run --out DIR`
//! and `clearway load --out DIR` leave) into `DIR/report.html`, a page that opens offline in a
//! browser, with its plots as SVG images beside it: the latency spectrum of `e2e` and each step,
//! throughput and latency second by second, and the payments by outcome. It reads
//! `summary.json` (required) and `latency.hlog` (the plots of latency need it; without it they
//! are left out, and the page and the command say so).
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `mod.rs` | [`ReportArgs`], [`write_report`], [`ReportFiles`]: the command and what it wrote |
//! | `inputs.rs` | reading `summary.json` (optional parts optional) and `latency.hlog` |
//! | `plots.rs` | the SVG images, drawn with plotters |
//! | `html.rs` | the page: header and verdict, tables, figures, file links, escaping |

pub(crate) mod html;
pub(crate) mod inputs;
pub(crate) mod plots;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::exit::Failure;
use inputs::{LogFound, TagTotal};
use plots::{Plot, LATENCY_OVER_TIME_FILE, PLOT_FILES, SPECTRUM_FILE, THROUGHPUT_FILE};

/// The page's file name in the results folder.
pub const REPORT_FILE: &str = "report.html";

/// `clearway report DIR`.
#[derive(Args, Clone, Debug)]
pub struct ReportArgs {
    /// A results folder (`clearway run --out DIR`, `clearway load --out DIR`): its summary.json
    /// is required, its latency.hlog is drawn from when present.
    pub dir: PathBuf,
}

/// What [`write_report`] wrote, and what it left out.
#[derive(Clone, Debug)]
pub struct ReportFiles {
    /// `DIR/report.html`.
    pub html: PathBuf,
    /// The SVG images beside it, in the order the page shows them.
    pub images: Vec<PathBuf>,
    /// The images not drawn, each with why: `spectrum.svg: no latency.hlog in DIR`.
    pub skipped: Vec<String>,
}

impl fmt::Display for ReportFiles {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plots = self.images.len();
        writeln!(
            formatter,
            "report: {} ({plots} plot{})",
            self.html.display(),
            if plots == 1 { "" } else { "s" }
        )?;
        for skipped in &self.skipped {
            writeln!(formatter, "skipped {skipped}")?;
        }
        Ok(())
    }
}

/// Runs `clearway report`: 0 written, 3 the summary or the interval log unreadable or a file
/// unwritable.
pub fn run(args: ReportArgs) -> ExitCode {
    match write_report(&args.dir) {
        Ok(files) => {
            print!("{files}");
            ExitCode::SUCCESS
        }
        Err(Failure { message, code }) => {
            eprintln!("clearway: {message}");
            ExitCode::from(code)
        }
    }
}

/// Writes `dir/report.html` and its SVG images from `dir/summary.json` and, when present,
/// `dir/latency.hlog`. Images a previous report left that this one does not draw are removed,
/// so that none outlives its data. Every failure is [`UNREADABLE`](crate::exit::UNREADABLE) and
/// names the file.
pub fn write_report(dir: &Path) -> Result<ReportFiles, Failure> {
    let mut own_files: Vec<&str> = PLOT_FILES.to_vec();
    own_files.push(REPORT_FILE);
    let inputs = inputs::read(dir, &own_files)?;
    let summary = &inputs.summary;
    let log_path = dir.join(inputs::LOG_FILE);
    let unreadable =
        |error: String| Failure::unreadable(format!("cannot read {}: {error}", log_path.display()));
    let cannot_draw =
        |file: &str, error: String| Failure::unreadable(format!("cannot draw {file}: {error}"));

    let mut plots: Vec<Plot> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut recorded: Vec<(String, u64)> = Vec::new();
    let no_log = match &inputs.log {
        LogFound::Read(_) => None,
        LogFound::Missing => Some(format!("no interval log at {}", log_path.display())),
        LogFound::Empty => Some(format!("{} holds no intervals", log_path.display())),
    };
    let e2e = match &inputs.log {
        LogFound::Read(log) => inputs::e2e_seconds(log),
        _ => Vec::new(),
    };
    if let LogFound::Read(log) = &inputs.log {
        let totals: Vec<TagTotal> = inputs::tag_totals(log).map_err(unreadable)?;
        recorded = totals
            .iter()
            .map(|total| (total.tag.clone(), total.latencies.count()))
            .collect();
        match plots::spectrum(&totals).map_err(|error| cannot_draw(SPECTRUM_FILE, error))? {
            Some(plot) => plots.push(plot),
            None => skipped.push(format!(
                "{SPECTRUM_FILE}: {} recorded no latencies",
                log_path.display()
            )),
        }
    } else if let Some(reason) = &no_log {
        skipped.push(format!("{SPECTRUM_FILE}: {reason}"));
    }
    match plots::throughput(&summary.timeline, &e2e, summary.warmup_s)
        .map_err(|error| cannot_draw(THROUGHPUT_FILE, error))?
    {
        Some(plot) => plots.push(plot),
        None => skipped.push(format!(
            "{THROUGHPUT_FILE}: no timeline in the summary and {}",
            no_log
                .as_deref()
                .unwrap_or("no e2e intervals in the interval log")
        )),
    }
    match plots::latency_over_time(&e2e, &summary.slo, summary.warmup_s)
        .map_err(|error| cannot_draw(LATENCY_OVER_TIME_FILE, error))?
    {
        Some(plot) => plots.push(plot),
        None => skipped.push(format!(
            "{LATENCY_OVER_TIME_FILE}: {}",
            no_log
                .clone()
                .unwrap_or_else(|| "no e2e interval recorded a latency".to_string())
        )),
    }
    plots.push(plots::outcomes(summary).map_err(|error| cannot_draw(plots::OUTCOMES_FILE, error))?);

    let mut images = Vec::with_capacity(plots.len());
    for plot in &plots {
        let path = dir.join(plot.file);
        write(&path, plot.svg.as_bytes())?;
        images.push(path);
    }
    for stale in PLOT_FILES
        .iter()
        .filter(|file| !plots.iter().any(|plot| plot.file == **file))
    {
        let path = dir.join(stale);
        if path.is_file() {
            std::fs::remove_file(&path).map_err(|error| {
                Failure::unreadable(format!("cannot remove {}: {error}", path.display()))
            })?;
        }
    }
    let page = html::page(&html::Parts {
        inputs: &inputs,
        plots: &plots,
        recorded: &recorded,
    });
    let html_path = dir.join(REPORT_FILE);
    write(&html_path, page.as_bytes())?;
    Ok(ReportFiles {
        html: html_path,
        images,
        skipped,
    })
}

/// Writes `bytes` to `path`; the failure names it.
fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::write(path, bytes)
        .map_err(|error| Failure::unreadable(format!("cannot write {}: {error}", path.display())))
}
