//! `clearway usl POINTS.csv`: the principal type in this module is [`Usl`], Neil Gunther's
//! Universal Scalability Law (*Guerrilla Capacity Planning*, Springer 2007), which says how
//! throughput X grows with concurrency N (threads, connections, nodes):
//!
//! ```text
//!              λN
//! X(N) = ─────────────────────────
//!        1 + σ(N − 1) + κN(N − 1)
//! ```
//!
//! λ is the throughput of one, σ the contention (the share of the work that waits its turn, as
//! in Amdahl's law) and κ the coherency cost (each pair of workers exchanging what they know).
//! With κ > 0 the throughput peaks at N* = √((1 − σ) / κ) and falls beyond it. [`fit::fit`]
//! finds the law that best fits measured points (a sweep's `n` and `throughput_per_s` columns),
//! and the command prints it, writes it as JSON (docs/OUTPUT.md) and draws it.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `mod.rs` | [`Usl`], [`Point`], [`UslArgs`] and [`run`]: the law, a measurement, the command |
//! | `points.rs` | [`points::read_csv`]: measured points from a CSV with a header row |
//! | `fit.rs` | [`fit::fit`]: least squares by Levenberg–Marquardt within the bounds, [`fit::Fit`] |
//! | `plot.rs` | [`plot::write_svg`]: the points, the fitted curve, linear scaling and N* |

pub(crate) mod fit;
pub(crate) mod plot;
pub(crate) mod points;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::exit::Failure;
use crate::run::summary::thousands;

/// The Universal Scalability Law's three parameters. Throughput is per second throughout.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Usl {
    /// λ: the throughput of one (N = 1), per second; above 0.
    pub lambda: f64,
    /// σ: contention, the share of the work that is serialised; in 0..=1.
    pub sigma: f64,
    /// κ: coherency, the cost of each pair of workers keeping each other's data consistent;
    /// at least 0.
    pub kappa: f64,
}

impl Usl {
    /// X(N) = λN / (1 + σ(N − 1) + κN(N − 1)), per second.
    pub fn throughput(&self, n: f64) -> f64 {
        self.lambda * n / (1.0 + self.sigma * (n - 1.0) + self.kappa * n * (n - 1.0))
    }

    /// N* = √((1 − σ) / κ), the concurrency at which throughput peaks; `None` when it never
    /// does: κ = 0 (it rises towards λ/σ, or without bound), or σ ≥ 1 (it never rises).
    pub fn n_star(&self) -> Option<f64> {
        if self.kappa > 0.0 && self.sigma < 1.0 {
            Some(((1.0 - self.sigma) / self.kappa).sqrt())
        } else {
            None
        }
    }

    /// X(N*), the most throughput the law allows, per second; `None` when it never peaks.
    pub fn x_max(&self) -> Option<f64> {
        self.n_star().map(|n_star| self.throughput(n_star))
    }
}

/// One measurement: the throughput at one concurrency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// N, the concurrency: at least 1, and need not be whole.
    pub n: f64,
    /// X, what was measured at N, per second; above 0.
    pub throughput_per_s: f64,
}

/// `clearway usl POINTS.csv`.
#[derive(Args, Clone, Debug)]
pub struct UslArgs {
    /// A CSV of measured points: a header row naming an `n` column (the concurrency) and a
    /// `throughput_per_s` (or `throughput`) column; other columns are ignored, and blank lines
    /// and lines starting with `#` skipped.
    pub points: PathBuf,
    /// Also write the fit as JSON (docs/OUTPUT.md) to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Also draw the measured points, the fitted curve, linear scaling and N* as an SVG image in
    /// this file.
    #[arg(long)]
    pub svg: Option<PathBuf>,
}

/// The SVG's x axis.
const X_LABEL: &str = "N (concurrency)";

/// Runs `clearway usl`: 0 fitted; 3 the file unreadable, its contents refused (a malformed CSV,
/// too few points, none at N = 1 …), or the JSON or SVG unwritable.
pub fn run(args: UslArgs) -> ExitCode {
    match fit_and_write(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { message, code }) => {
            eprintln!("clearway: {message}");
            ExitCode::from(code)
        }
    }
}

/// Reads and fits `args.points`, prints the fit, and writes what `args` asks for.
fn fit_and_write(args: &UslArgs) -> Result<(), Failure> {
    let path = &args.points;
    let refused = |reason: String| Failure::unreadable(format!("{}: {reason}", path.display()));
    let text =
        std::fs::read_to_string(path).map_err(|error| refused(format!("cannot read: {error}")))?;
    let points = points::read_csv(&text).map_err(|error| refused(error.to_string()))?;
    let fit = fit::fit(&points).map_err(|error| refused(error.to_string()))?;
    print!("{fit}");
    if let Some(json) = &args.json {
        let text = serde_json::to_string_pretty(&fit)
            .map_err(|error| Failure::unreadable(format!("cannot serialise the fit: {error}")))?;
        write(json, text + "\n")?;
        println!("json: {}", json.display());
    }
    if let Some(svg) = &args.svg {
        let name = path
            .file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy();
        let title = format!("Throughput against concurrency: {name}");
        plot::write_svg(svg, &fit, &title, X_LABEL)
            .map_err(|error| Failure::unreadable(format!("{}: {error}", svg.display())))?;
        println!("svg: {}", svg.display());
    }
    Ok(())
}

/// Writes `text` to `path`, or says why not.
fn write(path: &Path, text: String) -> Result<(), Failure> {
    std::fs::write(path, text)
        .map_err(|error| Failure::unreadable(format!("cannot write {}: {error}", path.display())))
}

/// A throughput (or a difference of two) for people: whole and grouped by thousands from 100
/// up (`12,345`, `-1,002`), two decimals below (`42.50`).
pub(crate) fn rate(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value.abs() < 100.0 {
        let text = format!("{value:.2}");
        return if text == "-0.00" {
            "0.00".to_string()
        } else {
            text
        };
    }
    let sign = if value < 0.0 { "-" } else { "" };
    format!("{sign}{}", thousands(value.abs().round() as u64))
}

/// A parameter to four significant digits (`0.05000`, `0.002000`), in scientific notation when
/// that would take more than 12 decimals; `0` for zero.
pub(crate) fn significant(value: f64) -> String {
    if value == 0.0 {
        return "0".to_string();
    }
    if !value.is_finite() {
        return value.to_string();
    }
    let decimals = 3 - value.abs().log10().floor() as i32;
    match decimals {
        0..=12 => format!("{value:.*}", decimals as usize),
        _ if decimals < 0 => format!("{value:.0}"),
        _ => format!("{value:.3e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_law_peaks_at_n_star_only_when_coherency_costs() {
        let usl = Usl {
            lambda: 1_000.0,
            sigma: 0.1,
            kappa: 0.01,
        };
        assert_eq!(usl.throughput(1.0), 1_000.0);
        let n_star = usl.n_star().unwrap();
        assert!((n_star - 90f64.sqrt()).abs() < 1e-12);
        let x_max = usl.x_max().unwrap();
        assert!(x_max > usl.throughput(n_star - 0.5) && x_max > usl.throughput(n_star + 0.5));
        let amdahl = Usl { kappa: 0.0, ..usl };
        assert_eq!((amdahl.n_star(), amdahl.x_max()), (None, None));
        let serial = Usl { sigma: 1.0, ..usl };
        assert_eq!(serial.n_star(), None);
        let undefined = Usl {
            kappa: f64::NAN,
            ..usl
        };
        assert_eq!(undefined.n_star(), None);
    }

    #[test]
    fn rates_and_parameters_read_as_people_write_them() {
        assert_eq!(rate(1_234_567.4), "1,234,567");
        assert_eq!(rate(-1_002.0), "-1,002");
        assert_eq!(rate(100.0), "100");
        assert_eq!(rate(42.5), "42.50");
        assert_eq!(rate(-0.001), "0.00");
        assert_eq!(significant(0.05), "0.05000");
        assert_eq!(significant(0.002), "0.002000");
        assert_eq!(significant(1.0), "1.000");
        assert_eq!(significant(0.0), "0");
        assert_eq!(significant(12_345.0), "12345");
        assert_eq!(significant(2.5e-15), "2.500e-15");
    }
}
