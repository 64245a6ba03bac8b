//! A [`Comparison`] as the command prints it: a heading, any warnings, the table
//! (metric | baseline | current | change | noise | threshold | verdict), what the noise column
//! means, and the verdict line. Throughput is shown with thousands separators, latency in human
//! units.

use std::fmt;

use super::judge::{Judgement, Metric, Verdict};
use super::{Comparison, Mode};
use crate::run::latency::human_ns;
use crate::run::summary::thousands;

/// The table's heading row.
const HEADINGS: [&str; 7] = [
    "metric",
    "baseline",
    "current",
    "change",
    "noise",
    "threshold",
    "verdict",
];

/// Rounds past which the sign test's chance is written as a power of two.
const CHANCE_ROUNDS_SPELLED_MAX: usize = 30;

impl fmt::Display for Comparison {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let runs = |count: usize| format!("{count} run{}", if count == 1 { "" } else { "s" });
        match self.mode {
            Mode::Separate => writeln!(
                formatter,
                "clearway compare: current ({}) against baseline ({})",
                runs(self.current.len()),
                runs(self.baseline.len())
            )?,
            Mode::Ab => writeln!(
                formatter,
                "clearway compare --ab: B against A (the baseline), {} rounds run in turns{}",
                self.current.len(),
                self.out
                    .as_ref()
                    .map_or_else(String::new, |out| format!(", results in {out}"))
            )?,
        }
        for warning in &self.warnings {
            writeln!(formatter, "warning: {warning}")?;
        }
        if self.invalid_runs > 0 {
            writeln!(
                formatter,
                "warning: {} of {} invalid, compared anyway",
                self.invalid_runs,
                runs(self.baseline.len() + self.current.len())
            )?;
        }

        let mut rows: Vec<[String; 7]> = vec![HEADINGS.map(str::to_string)];
        rows.extend(self.metrics.iter().map(row));
        let mut widths = [0usize; 7];
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in &rows {
            let line: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            writeln!(formatter, "  {}", line.join("  ").trim_end())?;
        }

        match self.mode {
            Mode::Separate => writeln!(
                formatter,
                "noise: each side's (max − min) / median over its runs, baseline / current; a \
                 regression is worse than its threshold with the two sides' ranges apart"
            )?,
            Mode::Ab => {
                let pairs = self
                    .metrics
                    .first()
                    .and_then(|judgement| judgement.pairs)
                    .map_or(0, |pairs| pairs.count);
                writeln!(
                    formatter,
                    "noise: the smallest and largest ratio B/A of the {pairs} pairs; change: the \
                     median ratio − 1 (baseline and current: each side's median); a regression is \
                     worse than its threshold in the median pair and worse in every pair (all \
                     {pairs} by chance: {})",
                    chance(pairs)
                )?
            }
        }
        writeln!(formatter, "verdict: {}", self.verdict)
    }
}

/// One metric's row.
fn row(judgement: &Judgement) -> [String; 7] {
    let metric = judgement.metric;
    let noise = match judgement.pairs {
        Some(pairs) => format!(
            "{:.3}–{:.3}, {} of {} worse",
            pairs.ratio_min, pairs.ratio_max, pairs.worse, pairs.count
        ),
        None if judgement.baseline.runs <= 1 && judgement.current.runs <= 1 => {
            "no repeats: noise unknown".to_string()
        }
        None => {
            let side = |runs: usize, spread: f64| {
                if runs > 1 {
                    format!("{:.1}%", spread * 100.0)
                } else {
                    "one run".to_string()
                }
            };
            format!(
                "{} / {}",
                side(judgement.baseline.runs, judgement.baseline.spread),
                side(judgement.current.runs, judgement.current.spread)
            )
        }
    };
    [
        metric.name().to_string(),
        value(metric, judgement.baseline.median),
        value(metric, judgement.current.median),
        change(judgement.change),
        noise,
        percent(judgement.threshold),
        judgement.verdict.label().to_string(),
    ]
}

/// The verdict line: the regressions, each with its change and threshold; or that there is
/// none, with what is within noise or improved.
pub fn verdict_line(metrics: &[Judgement]) -> String {
    let listed = |verdict: Verdict, with_threshold: bool| -> Vec<String> {
        metrics
            .iter()
            .filter(|judgement| judgement.verdict == verdict)
            .map(|judgement| {
                let threshold = if with_threshold {
                    format!(" (threshold {})", percent(judgement.threshold))
                } else {
                    String::new()
                };
                format!(
                    "{} {}{threshold}",
                    judgement.metric.name(),
                    change(judgement.change)
                )
            })
            .collect()
    };
    let regressions = listed(Verdict::Regression, true);
    if !regressions.is_empty() {
        return format!("REGRESSION: {}, beyond the noise", regressions.join(", "));
    }
    let mut line = "no regression beyond the thresholds and the noise".to_string();
    let within_noise = listed(Verdict::WithinNoise, false);
    if !within_noise.is_empty() {
        line += &format!("; within noise: {}", within_noise.join(", "));
    }
    let improved = listed(Verdict::Improved, false);
    if !improved.is_empty() {
        line += &format!("; improved: {}", improved.join(", "));
    }
    line
}

/// A metric's value in its unit: `123,456/s` or `1.84 ms`; `-` when there is none.
fn value(metric: Metric, value: f64) -> String {
    if !value.is_finite() {
        return "-".to_string();
    }
    let rounded = value.round().max(0.0) as u64;
    match metric {
        Metric::Throughput => format!("{}/s", thousands(rounded)),
        Metric::Latency(_) => human_ns(rounded),
    }
}

/// A signed change in percent, one decimal: `-20.0%`, `+3.1%`.
fn change(change: f64) -> String {
    format!("{:+.1}%", change * 100.0)
}

/// A fraction in percent, without a decimal where it has none: `5%`, `2.5%`.
fn percent(fraction: f64) -> String {
    let percent = fraction * 100.0;
    if (percent - percent.round()).abs() < 1e-9 {
        format!("{percent:.0}%")
    } else {
        format!("{percent:.1}%")
    }
}

/// The chance that every one of `pairs` pairs moves the same way by luck: `1 in 32`.
fn chance(pairs: usize) -> String {
    if pairs <= CHANCE_ROUNDS_SPELLED_MAX {
        format!("1 in {}", thousands(1u64 << pairs))
    } else {
        format!("1 in 2^{pairs}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(percent(0.05), "5%");
        assert_eq!(percent(0.025), "2.5%");
        assert_eq!(change(-0.2), "-20.0%");
        assert_eq!(change(0.031), "+3.1%");
        assert_eq!(value(Metric::Throughput, 123_456.4), "123,456/s");
        assert_eq!(chance(5), "1 in 32");
        assert_eq!(chance(40), "1 in 2^40");
    }
}
