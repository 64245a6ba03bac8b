//! [`Judgement`]: one [`Metric`] of a baseline and a current set of runs, judged: each side's
//! median and spread, the change, and a [`Verdict`]. Pure statistics: numbers in, verdicts out;
//! nothing here reads a file or starts a process.
//!
//! Separate runs (`--baseline`/`--current`, [`separate`]): per metric, each side's median over
//! its runs; change = (current − baseline)/baseline, signed so that "worse" is negative for
//! throughput and positive for latency. Noise of a side = its relative spread
//! (max − min)/median over its repeats (0 with one run; the table says "no repeats: noise
//! unknown"). A metric is a REGRESSION when it is worse by more than its threshold AND beyond the
//! noise: the two sides' ranges do not overlap (for throughput: max(current) < min(baseline);
//! for latency: min(current) > max(baseline)). Worse than threshold but ranges overlap → "within
//! noise" (not a failure, but shown). Better by more than threshold and beyond noise →
//! "improved". Otherwise "ok".
//!
//! Interleaved pairs (`--ab`, [`pairwise`]): per round i the ratio r_i = B_i/A_i; change =
//! median(r) − 1; REGRESSION when the median change is worse than the threshold AND every pair
//! moved the worse way (a sign test: with 5 rounds, all 5 worse happens by chance 1 time in 32);
//! same labels otherwise. The min and max pair ratio are shown as the noise.
//!
//! A median of an even count is the mean of the two middle values. A baseline of 0 (no answers)
//! makes any other current value an infinite change, in the direction it moved.

use serde::{Serialize, Serializer};

pub use crate::slo::Percentile;
use crate::summary_file::RunSummary;

/// What is compared: the throughput, or a percentile of the end-to-end latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// `throughput_per_s`: payments answered per second; higher is better.
    Throughput,
    /// A percentile of `latency_ns`; lower is better.
    Latency(Percentile),
}

/// What a metric's change amounts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Worse by more than the threshold, and beyond the noise: the gate fails.
    Regression,
    /// Worse by more than the threshold, but within the noise: shown, not a failure.
    WithinNoise,
    /// Better by more than the threshold, and beyond the noise.
    Improved,
    /// Neither.
    Ok,
}

/// One side's values of one metric: how many runs, their median and range.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Spread {
    /// Runs (or rounds) the values come from.
    pub runs: usize,
    /// Their median; NaN when there are none.
    pub median: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
    /// The relative spread, (max − min)/median: the side's noise; 0 with one run.
    pub spread: f64,
}

/// The pairs of an interleaved comparison, for one metric: ratio B/A round by round.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Pairs {
    /// Pairs (rounds).
    pub count: usize,
    /// The smallest ratio B/A.
    pub ratio_min: f64,
    /// The median ratio: 1 + the change.
    pub ratio_median: f64,
    /// The largest ratio B/A.
    pub ratio_max: f64,
    /// Pairs in which B was worse than A.
    pub worse: usize,
    /// Pairs in which B was better than A.
    pub better: usize,
}

/// One metric judged.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Judgement {
    /// What was compared.
    pub metric: Metric,
    /// `payments/s` or `ns`.
    pub unit: &'static str,
    /// Whether a higher value is better (throughput) or worse (latency).
    pub higher_is_better: bool,
    /// The baseline's values (A's, with `--ab`).
    pub baseline: Spread,
    /// The current values (B's, with `--ab`).
    pub current: Spread,
    /// (current − baseline)/baseline of the medians; with `--ab`, the median ratio − 1.
    pub change: f64,
    /// How much worse the metric may get before it can be a regression, as a fraction.
    pub threshold: f64,
    /// With `--ab`: the pairs' ratios; `None` for separate runs.
    pub pairs: Option<Pairs>,
    /// What the change amounts to.
    pub verdict: Verdict,
}

impl Metric {
    /// Its name in the table and the JSON: `throughput`, `p50` … `max`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Throughput => "throughput",
            Metric::Latency(percentile) => percentile.name(),
        }
    }

    /// Its unit: `payments/s` or `ns`.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Throughput => "payments/s",
            Metric::Latency(_) => "ns",
        }
    }

    /// Whether a higher value is better.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Throughput)
    }

    /// Its value in a run's summary.
    pub fn value(self, summary: &RunSummary) -> f64 {
        let latency = &summary.latency_ns;
        match self {
            Metric::Throughput => summary.throughput_per_s,
            Metric::Latency(percentile) => percentile.of(latency) as f64,
        }
    }

    /// How much worse a relative change makes it: the change itself for latency, its negation
    /// for throughput; positive is worse.
    fn badness(self, change: f64) -> f64 {
        if self.higher_is_better() {
            -change
        } else {
            change
        }
    }
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl Verdict {
    /// As the table prints it.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Regression => "REGRESSION",
            Verdict::WithinNoise => "within noise",
            Verdict::Improved => "improved",
            Verdict::Ok => "ok",
        }
    }
}

impl Spread {
    /// The median and range of `values` (NaN figures when there are none).
    pub fn of(values: &[f64]) -> Spread {
        let min = values.iter().copied().fold(f64::NAN, f64::min);
        let max = values.iter().copied().fold(f64::NAN, f64::max);
        let median = median(values);
        Spread {
            runs: values.len(),
            median,
            min,
            max,
            spread: if values.len() > 1 {
                relative(max - min, median)
            } else {
                0.0
            },
        }
    }
}

/// Separate runs, [`Metric`] by metric: `baseline` and `current` are the metric's value in each
/// run of either side (see the module doc).
pub fn separate(metric: Metric, baseline: &[f64], current: &[f64], threshold: f64) -> Judgement {
    let baseline = Spread::of(baseline);
    let current = Spread::of(current);
    let change = relative(current.median - baseline.median, baseline.median);
    // Whether every current run is worse (better) than every baseline run.
    let (worse_apart, better_apart) = if metric.higher_is_better() {
        (current.max < baseline.min, current.min > baseline.max)
    } else {
        (current.min > baseline.max, current.max < baseline.min)
    };
    Judgement {
        metric,
        unit: metric.unit(),
        higher_is_better: metric.higher_is_better(),
        baseline,
        current,
        change,
        threshold,
        pairs: None,
        verdict: verdict(metric.badness(change), threshold, worse_apart, better_apart),
    }
}

/// Interleaved pairs: `baseline[i]` (A) and `current[i]` (B) are the metric's values in round
/// `i` (see the module doc). Rounds past the shorter slice are left out.
pub fn pairwise(metric: Metric, baseline: &[f64], current: &[f64], threshold: f64) -> Judgement {
    let count = baseline.len().min(current.len());
    let (baseline, current) = (&baseline[..count], &current[..count]);
    let ratios: Vec<f64> = baseline
        .iter()
        .zip(current)
        .map(|(a, b)| ratio(*b, *a))
        .collect();
    let worse = ratios
        .iter()
        .filter(|r| metric.badness(**r - 1.0) > 0.0)
        .count();
    let better = ratios
        .iter()
        .filter(|r| metric.badness(**r - 1.0) < 0.0)
        .count();
    let pairs = Pairs {
        count,
        ratio_min: ratios.iter().copied().fold(f64::NAN, f64::min),
        ratio_median: median(&ratios),
        ratio_max: ratios.iter().copied().fold(f64::NAN, f64::max),
        worse,
        better,
    };
    let change = pairs.ratio_median - 1.0;
    let every_pair_worse = count > 0 && worse == count;
    let every_pair_better = count > 0 && better == count;
    Judgement {
        metric,
        unit: metric.unit(),
        higher_is_better: metric.higher_is_better(),
        baseline: Spread::of(baseline),
        current: Spread::of(current),
        change,
        threshold,
        pairs: Some(pairs),
        verdict: verdict(
            metric.badness(change),
            threshold,
            every_pair_worse,
            every_pair_better,
        ),
    }
}

/// The verdict on a change `badness` worse (negative: better) against `threshold`, given
/// whether the noise says the sides are apart in the worse or the better direction.
fn verdict(badness: f64, threshold: f64, worse_apart: bool, better_apart: bool) -> Verdict {
    if badness > threshold {
        if worse_apart {
            Verdict::Regression
        } else {
            Verdict::WithinNoise
        }
    } else if -badness > threshold && better_apart {
        Verdict::Improved
    } else {
        Verdict::Ok
    }
}

/// The median of `values`: the middle one, or the mean of the two middle ones; NaN for none.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => f64::NAN,
        length if length % 2 == 1 => sorted[middle],
        _ => (sorted[middle - 1] + sorted[middle]) / 2.0,
    }
}

/// `part` ÷ `whole`, where a whole of 0 gives 0 for a part of 0 and ±∞ otherwise.
fn relative(part: f64, whole: f64) -> f64 {
    if whole == 0.0 {
        if part == 0.0 {
            0.0
        } else {
            f64::INFINITY.copysign(part)
        }
    } else {
        part / whole
    }
}

/// `b` ÷ `a` for a pair, where an `a` of 0 gives 1 for a `b` of 0 and +∞ otherwise.
fn ratio(b: f64, a: f64) -> f64 {
    1.0 + relative(b - a, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    const THROUGHPUT_THRESHOLD: f64 = crate::constants::COMPARE_THROUGHPUT_THRESHOLD_DEFAULT;
    const LATENCY_THRESHOLD: f64 = crate::constants::COMPARE_LATENCY_THRESHOLD_DEFAULT;
    const P99: Metric = Metric::Latency(Percentile::P99);

    /// A run's summary with only the required fields: `throughput` per second, and a latency
    /// block whose p99 is `p99_ns` (the others scaled from it).
    fn summary(throughput: f64, p99_ns: u64) -> RunSummary {
        RunSummary::from_json(&format!(
            r#"{{"seed": 1, "duration_s": 5.0, "offered_per_s": {throughput},
                "throughput_per_s": {throughput},
                "payments": {{"submitted": 10, "approved": 10, "declined": 0, "rejected": 0,
                              "expired": 0, "busy": 0}},
                "latency_ns": {{"p50": {p50}, "p90": {p90}, "p99": {p99_ns}, "p999": {p999},
                                "p9999": {p9999}, "max": {max}}},
                "ok": true}}"#,
            p50 = p99_ns / 4,
            p90 = p99_ns / 2,
            p999 = p99_ns * 2,
            p9999 = p99_ns * 3,
            max = p99_ns * 4,
        ))
        .expect("the test summary reads")
    }

    /// The metric's values in runs of each throughput (at a p99 of 1 ms).
    fn throughputs(values: &[f64]) -> Vec<f64> {
        values
            .iter()
            .map(|value| Metric::Throughput.value(&summary(*value, 1_000_000)))
            .collect()
    }

    /// The metric's values in runs of each p99 (at 100,000/s).
    fn p99s(values: &[u64]) -> Vec<f64> {
        values
            .iter()
            .map(|value| P99.value(&summary(100_000.0, *value)))
            .collect()
    }

    /// A case of separate runs: its name, the metric, the baseline's and the current values,
    /// and the verdict and change the judge must give.
    type SeparateRow = (&'static str, Metric, Vec<f64>, Vec<f64>, Verdict, f64);

    #[test]
    fn separate_runs_table() {
        let rows: [SeparateRow; 9] = [
            (
                "a 20% throughput drop, 3 repeats each at ±1%",
                Metric::Throughput,
                throughputs(&[99_000.0, 100_000.0, 101_000.0]),
                throughputs(&[79_200.0, 80_000.0, 80_800.0]),
                Verdict::Regression,
                -0.20,
            ),
            (
                "a 1% throughput drop",
                Metric::Throughput,
                throughputs(&[99_000.0, 100_000.0, 101_000.0]),
                throughputs(&[98_000.0, 99_000.0, 100_000.0]),
                Verdict::Ok,
                -0.01,
            ),
            (
                "a 20% throughput drop in very noisy repeats: the ranges overlap",
                Metric::Throughput,
                throughputs(&[60_000.0, 100_000.0, 140_000.0]),
                throughputs(&[50_000.0, 80_000.0, 120_000.0]),
                Verdict::WithinNoise,
                -0.20,
            ),
            (
                "a 30% p99 rise",
                P99,
                p99s(&[990_000, 1_000_000, 1_010_000]),
                p99s(&[1_290_000, 1_300_000, 1_310_000]),
                Verdict::Regression,
                0.30,
            ),
            (
                "a 5% p99 rise, under its 10% threshold",
                P99,
                p99s(&[990_000, 1_000_000, 1_010_000]),
                p99s(&[1_040_000, 1_050_000, 1_060_000]),
                Verdict::Ok,
                0.05,
            ),
            (
                "a 20% throughput rise",
                Metric::Throughput,
                throughputs(&[99_000.0, 100_000.0, 101_000.0]),
                throughputs(&[119_000.0, 120_000.0, 121_000.0]),
                Verdict::Improved,
                0.20,
            ),
            (
                "a 30% p99 fall",
                P99,
                p99s(&[990_000, 1_000_000, 1_010_000]),
                p99s(&[690_000, 700_000, 710_000]),
                Verdict::Improved,
                -0.30,
            ),
            (
                "one run each, a 20% throughput drop: the threshold alone decides",
                Metric::Throughput,
                throughputs(&[100_000.0]),
                throughputs(&[80_000.0]),
                Verdict::Regression,
                -0.20,
            ),
            (
                "a 20% throughput rise in noisy repeats is not labelled improved",
                Metric::Throughput,
                throughputs(&[60_000.0, 100_000.0, 140_000.0]),
                throughputs(&[70_000.0, 120_000.0, 160_000.0]),
                Verdict::Ok,
                0.20,
            ),
        ];
        for (name, metric, baseline, current, expected, change) in rows {
            let threshold = if metric == Metric::Throughput {
                THROUGHPUT_THRESHOLD
            } else {
                LATENCY_THRESHOLD
            };
            let judgement = separate(metric, &baseline, &current, threshold);
            assert_eq!(judgement.verdict, expected, "{name}: {judgement:?}");
            assert!(
                (judgement.change - change).abs() < 1e-9,
                "{name}: change {}",
                judgement.change
            );
            assert_eq!(judgement.pairs, None, "{name}");
        }
    }

    #[test]
    fn spread_is_range_over_median_and_zero_for_one_run() {
        let spread = Spread::of(&[99.0, 100.0, 101.0]);
        assert_eq!((spread.runs, spread.median), (3, 100.0));
        assert!((spread.spread - 0.02).abs() < 1e-12, "{spread:?}");
        assert_eq!(Spread::of(&[100.0]).spread, 0.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn interleaved_pairs_table() {
        let a = throughputs(&[100_000.0, 90_000.0, 110_000.0, 95_000.0, 105_000.0]);
        // (name, B's values, expected verdict, pairs worse)
        let rows: [(&str, Vec<f64>, Verdict, usize); 4] = [
            (
                "5 pairs all worse by 20%",
                a.iter().map(|value| value * 0.8).collect(),
                Verdict::Regression,
                5,
            ),
            (
                "4 of 5 pairs worse by 20%, one better",
                a.iter()
                    .enumerate()
                    .map(|(round, value)| value * if round == 2 { 1.1 } else { 0.8 })
                    .collect(),
                Verdict::WithinNoise,
                4,
            ),
            (
                "5 pairs all 1% worse: under the threshold",
                a.iter().map(|value| value * 0.99).collect(),
                Verdict::Ok,
                5,
            ),
            (
                "5 pairs all 20% better",
                a.iter().map(|value| value * 1.2).collect(),
                Verdict::Improved,
                0,
            ),
        ];
        for (name, b, expected, worse) in rows {
            let judgement = pairwise(Metric::Throughput, &a, &b, THROUGHPUT_THRESHOLD);
            assert_eq!(judgement.verdict, expected, "{name}: {judgement:?}");
            let pairs = judgement.pairs.expect("pairwise has pairs");
            assert_eq!((pairs.count, pairs.worse), (5, worse), "{name}");
        }
    }

    #[test]
    fn interleaved_latency_is_worse_upwards() {
        let a = p99s(&[1_000_000, 1_200_000, 900_000, 1_100_000, 1_000_000]);
        let b: Vec<f64> = a.iter().map(|value| value * 1.3).collect();
        let judgement = pairwise(P99, &a, &b, LATENCY_THRESHOLD);
        assert_eq!(judgement.verdict, Verdict::Regression, "{judgement:?}");
        assert!((judgement.change - 0.3).abs() < 1e-9);
        let pairs = judgement.pairs.expect("pairwise has pairs");
        assert!((pairs.ratio_min - 1.3).abs() < 1e-9 && (pairs.ratio_max - 1.3).abs() < 1e-9);
    }

    #[test]
    fn a_zero_baseline_is_an_infinite_change_not_a_panic() {
        let judgement = separate(P99, &[0.0], &[1_000.0], LATENCY_THRESHOLD);
        assert_eq!(judgement.change, f64::INFINITY);
        assert_eq!(judgement.verdict, Verdict::Regression);
        let judgement = separate(Metric::Throughput, &[0.0], &[0.0], THROUGHPUT_THRESHOLD);
        assert_eq!((judgement.change, judgement.verdict), (0.0, Verdict::Ok));
        let judgement = pairwise(Metric::Throughput, &[], &[], THROUGHPUT_THRESHOLD);
        assert_eq!(judgement.verdict, Verdict::Ok);
    }
}
