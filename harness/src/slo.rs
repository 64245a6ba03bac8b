//! [`Gate`]: a service-level objective a run is judged by, written `p99<2ms`, `ledger.p99<200µs`,
//! `error_rate<0.1%` or `throughput>100k`, on the command line (`--slo`) or in a scenario file
//! (`slo = ["p99<2ms"]`), and the [`Verdict`] each gate gives on what a run [`Observed`].
//!
//! # Grammar
//!
//! `[STEP.]METRIC OP VALUE[UNIT]`, with spaces allowed between the tokens:
//!
//! - Latencies: `p50`, `p90`, `p99`, `p999`, `p9999`, `max`, after an optional step: `e2e.`
//!   (the default), `authorize.`, `route.` or `ledger.`. The value needs a unit: `ns`, `us`,
//!   `µs`, `ms` or `s`. The threshold is held in nanoseconds.
//! - Rates, as fractions of the payments submitted: `error_rate` (expired + busy: payments the
//!   switch did not decide; declines and refusals are decisions), `reject_rate` (refused by the
//!   switch), `decline_rate` (declined by their bank), `expired_rate`, `busy_rate`. The value is
//!   a percentage (`0.1%`) or a fraction (`0.001`), at most 100%.
//! - `throughput`: payments answered per second of the window, written `100000`, `100_000`,
//!   `100,000` or `100k`, optionally followed by `/s`.
//!
//! OP is one of `<`, `<=`, `>`, `>=`. A gate's canonical text ([`Gate`]'s `Display`, and what it
//! serialises to) parses back to an equal gate.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::run::latency::{human_ns, Percentiles};
use crate::run::summary::thousands;

/// What the latency metrics may name, for error messages.
const LATENCY_METRICS: &str = "p50, p90, p99, p999, p9999 or max";

/// Every metric a gate may name, for error messages.
const KNOWN_METRICS: &str = "p50, p90, p99, p999, p9999 or max (latencies, optionally after \
     e2e., authorize., route. or ledger.), error_rate, reject_rate, decline_rate, expired_rate, \
     busy_rate or throughput";

/// Latency units and their nanoseconds, largest first: the canonical text uses the largest that
/// writes the threshold exactly.
const LATENCY_UNITS: [(&str, f64); 4] = [("s", 1e9), ("ms", 1e6), ("µs", 1e3), ("ns", 1.0)];

/// One service-level objective: a metric, a comparison and a threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gate {
    metric: Metric,
    op: Op,
    /// In the metric's unit: ns for a latency, a fraction for a rate, payments/s for throughput.
    threshold: f64,
}

/// The stage of the switch a latency is measured over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// From a payment's arrival to its answer: the whole switch.
    E2e,
    /// The authorize stage.
    Authorize,
    /// The route stage.
    Route,
    /// The ledger stage.
    Ledger,
}

/// Which point of a latency distribution a gate judges (and `clearway compare --percentiles`
/// compares).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Percentile {
    /// The median.
    P50,
    /// The 90th percentile.
    P90,
    /// The 99th percentile.
    P99,
    /// The 99.9th percentile.
    P999,
    /// The 99.99th percentile.
    P9999,
    /// The largest latency recorded.
    Max,
}

/// A share of the payments submitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rate {
    /// Payments the switch did not decide: expired and busy. Declines and refusals are decisions.
    Error,
    /// Payments the switch refused.
    Reject,
    /// Payments their bank declined.
    Decline,
    /// Payments whose bank did not answer in time.
    Expired,
    /// Payments the switch answered busy.
    Busy,
}

/// What a gate measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// A point of one step's latency distribution, in nanoseconds.
    Latency(Step, Percentile),
    /// A share of the payments submitted, as a fraction.
    Rate(Rate),
    /// Payments answered per second of the window.
    Throughput,
}

/// How a measured value must compare with the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `<`: strictly below.
    Below,
    /// `<=`: at or below.
    AtMost,
    /// `>`: strictly above.
    Above,
    /// `>=`: at or above.
    AtLeast,
}

/// What gates are checked against: the figures of a run, finished or still going.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    /// Latency percentiles by step (`e2e`, `authorize`, `route`, `ledger`): only the steps that
    /// were measured (`clearway load` sees only `e2e`).
    pub latency_ns: BTreeMap<String, Percentiles>,
    /// Payments submitted to the switch.
    pub submitted: u64,
    /// Payments approved.
    pub approved: u64,
    /// Payments declined by their bank.
    pub declined: u64,
    /// Payments refused by the switch.
    pub rejected: u64,
    /// Payments whose bank did not answer in time.
    pub expired: u64,
    /// Payments answered busy.
    pub busy: u64,
    /// Payments answered per second of the window; `None` while a run is still going
    /// (throughput is judged at the end).
    pub throughput_per_s: Option<f64>,
}

impl Observed {
    /// The figures of a run: each tag's measured latency, every payment by its answer, and the
    /// throughput once the run is over.
    pub fn of(
        totals: &BTreeMap<crate::interval::Tag, crate::run::latency::Latencies>,
        payments: &crate::run::summary::Payments,
        throughput_per_s: Option<f64>,
    ) -> Observed {
        Observed {
            latency_ns: totals
                .iter()
                .map(|(tag, latencies)| (tag.name().to_string(), latencies.percentiles()))
                .collect(),
            submitted: payments.submitted,
            approved: payments.approved,
            declined: payments.declined,
            rejected: payments.rejected,
            expired: payments.expired,
            busy: payments.busy,
            throughput_per_s,
        }
    }
}

/// What one gate said about a run.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Verdict {
    /// The gate's canonical text, e.g. `p99<2ms`.
    pub gate: String,
    /// The metric, e.g. `e2e.p99`, `error_rate`, `throughput`.
    pub metric: String,
    /// The threshold in the metric's unit: ns for a latency, a fraction for a rate,
    /// payments/s for throughput.
    pub threshold: f64,
    /// What was measured, in the same unit; `None` when it was not (a step the run cannot see,
    /// throughput while the run goes on, a rate with no payments submitted).
    pub measured: Option<f64>,
    /// `ns`, `fraction` or `payments/s`.
    pub unit: String,
    /// Whether the measured value meets the gate; false when nothing was measured.
    pub passed: bool,
    /// The measured value for people: `1.84 ms`, `0.08%`, `98,512/s`, `not measured`.
    pub measured_text: String,
}

/// A verdict table, a line per gate with its columns aligned:
/// `  slo          p99<2ms   measured 1.84 ms   pass`.
pub struct Verdicts<'a>(pub &'a [Verdict]);

/// Each gate's verdict on `observed`, in the gates' order.
pub fn check_all(gates: &[Gate], observed: &Observed) -> Vec<Verdict> {
    gates.iter().map(|gate| gate.check(observed)).collect()
}

impl Gate {
    /// What the gate measures.
    #[cfg(test)]
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// How the measured value must compare with the threshold.
    #[cfg(test)]
    pub fn op(&self) -> Op {
        self.op
    }

    /// The threshold in the metric's unit: ns for a latency, a fraction for a rate, payments/s
    /// for throughput.
    #[cfg(test)]
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Whether the gate can be judged on the figures so far while a run goes on: latency and
    /// rate gates can; a throughput gate cannot, since a shaped run's rate changes over time.
    pub fn judged_early(&self) -> bool {
        !matches!(self.metric, Metric::Throughput)
    }

    /// The gate's verdict on `observed`; a gate whose metric was not measured fails.
    pub fn check(&self, observed: &Observed) -> Verdict {
        let measured = self.metric.measure(observed);
        Verdict {
            gate: self.to_string(),
            metric: self.metric.to_string(),
            threshold: self.threshold,
            measured,
            unit: self.metric.unit().to_string(),
            passed: measured.is_some_and(|value| self.op.holds(value, self.threshold)),
            measured_text: measured.map_or_else(
                || "not measured".to_string(),
                |value| self.metric.human(value),
            ),
        }
    }
}

impl Step {
    const ALL: [Step; 4] = [Step::E2e, Step::Authorize, Step::Route, Step::Ledger];

    /// The name gates and [`Observed::latency_ns`] use: `e2e`, `authorize`, `route`, `ledger`.
    pub fn name(self) -> &'static str {
        match self {
            Step::E2e => "e2e",
            Step::Authorize => "authorize",
            Step::Route => "route",
            Step::Ledger => "ledger",
        }
    }
}

impl Percentile {
    const ALL: [Percentile; 6] = [
        Percentile::P50,
        Percentile::P90,
        Percentile::P99,
        Percentile::P999,
        Percentile::P9999,
        Percentile::Max,
    ];

    /// The name gates use: `p50` … `p9999`, `max`.
    pub fn name(self) -> &'static str {
        match self {
            Percentile::P50 => "p50",
            Percentile::P90 => "p90",
            Percentile::P99 => "p99",
            Percentile::P999 => "p999",
            Percentile::P9999 => "p9999",
            Percentile::Max => "max",
        }
    }

    /// This point of `percentiles`, in ns.
    pub fn of(self, percentiles: &Percentiles) -> u64 {
        match self {
            Percentile::P50 => percentiles.p50,
            Percentile::P90 => percentiles.p90,
            Percentile::P99 => percentiles.p99,
            Percentile::P999 => percentiles.p999,
            Percentile::P9999 => percentiles.p9999,
            Percentile::Max => percentiles.max,
        }
    }
}

impl Rate {
    const ALL: [Rate; 5] = [
        Rate::Error,
        Rate::Reject,
        Rate::Decline,
        Rate::Expired,
        Rate::Busy,
    ];

    /// The name gates use: `error_rate`, `reject_rate`, …
    pub fn name(self) -> &'static str {
        match self {
            Rate::Error => "error_rate",
            Rate::Reject => "reject_rate",
            Rate::Decline => "decline_rate",
            Rate::Expired => "expired_rate",
            Rate::Busy => "busy_rate",
        }
    }

    /// The payments of `observed` this rate counts.
    fn count(self, observed: &Observed) -> u64 {
        match self {
            Rate::Error => observed.expired.saturating_add(observed.busy),
            Rate::Reject => observed.rejected,
            Rate::Decline => observed.declined,
            Rate::Expired => observed.expired,
            Rate::Busy => observed.busy,
        }
    }
}

impl Metric {
    /// The unit of thresholds and measured values: `ns`, `fraction` or `payments/s`.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Latency(..) => "ns",
            Metric::Rate(_) => "fraction",
            Metric::Throughput => "payments/s",
        }
    }

    /// The metric's value in `observed`, in its unit; `None` when it was not measured.
    fn measure(self, observed: &Observed) -> Option<f64> {
        match self {
            Metric::Latency(step, percentile) => observed
                .latency_ns
                .get(step.name())
                .map(|percentiles| percentile.of(percentiles) as f64),
            Metric::Rate(rate) => (observed.submitted > 0)
                .then(|| rate.count(observed) as f64 / observed.submitted as f64),
            Metric::Throughput => observed
                .throughput_per_s
                .filter(|throughput| throughput.is_finite()),
        }
    }

    /// A value in the metric's unit, for people.
    fn human(self, value: f64) -> String {
        match self {
            Metric::Latency(..) => human_ns(value.round() as u64),
            Metric::Rate(_) => human_fraction(value),
            Metric::Throughput => format!("{}/s", thousands(value.round() as u64)),
        }
    }
}

impl Op {
    /// The comparison as a gate writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Below => "<",
            Op::AtMost => "<=",
            Op::Above => ">",
            Op::AtLeast => ">=",
        }
    }

    /// Whether `measured` compares with `threshold` as this op asks.
    fn holds(self, measured: f64, threshold: f64) -> bool {
        match self {
            Op::Below => measured < threshold,
            Op::AtMost => measured <= threshold,
            Op::Above => measured > threshold,
            Op::AtLeast => measured >= threshold,
        }
    }
}

impl fmt::Display for Metric {
    /// `e2e.p99`, `ledger.max`, `error_rate`, `throughput`.
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::Latency(step, percentile) => {
                write!(out, "{}.{}", step.name(), percentile.name())
            }
            Metric::Rate(rate) => out.write_str(rate.name()),
            Metric::Throughput => out.write_str("throughput"),
        }
    }
}

impl fmt::Display for Gate {
    /// The canonical text, which parses back to an equal gate: `p99<2ms` (the `e2e.` step left
    /// out), `ledger.p99<200µs`, `error_rate<0.1%`, `throughput>100,000/s`.
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = self.op.symbol();
        let threshold = self.threshold;
        match self.metric {
            Metric::Latency(step, percentile) => {
                if step != Step::E2e {
                    write!(out, "{}.", step.name())?;
                }
                // The largest unit in which the threshold is written exactly (at least one of it);
                // nanoseconds always are.
                let (value, unit) = LATENCY_UNITS
                    .iter()
                    .map(|&(unit, ns)| (threshold / ns, unit, ns))
                    .find(|&(value, _, ns)| value >= 1.0 && value * ns == threshold)
                    .map_or((threshold, "ns"), |(value, unit, _)| (value, unit));
                write!(out, "{}{op}{value}{unit}", percentile.name())
            }
            Metric::Rate(rate) => {
                let percent = threshold * 100.0;
                if percent / 100.0 == threshold {
                    write!(out, "{}{op}{percent}%", rate.name())
                } else {
                    write!(out, "{}{op}{threshold}", rate.name())
                }
            }
            Metric::Throughput => {
                if threshold.fract() == 0.0 && threshold < 1e18 {
                    write!(out, "throughput{op}{}/s", thousands(threshold as u64))
                } else {
                    write!(out, "throughput{op}{threshold}/s")
                }
            }
        }
    }
}

impl FromStr for Gate {
    type Err = String;

    /// Reads `[STEP.]METRIC OP VALUE[UNIT]` (see the module's documentation); the error says
    /// what was wrong and what is accepted.
    fn from_str(text: &str) -> Result<Gate, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("an SLO gate cannot be empty: expected one like p99<2ms, \
                 error_rate<0.1% or throughput>100k"
                .to_string());
        }
        let op_at = text.find(['<', '>', '=', '!']).ok_or_else(|| {
            format!(
                "{text:?} has no comparison: expected <, <=, > or >= between the metric and the \
                 threshold"
            )
        })?;
        let op_text: String = text[op_at..]
            .chars()
            .take_while(|c| matches!(c, '<' | '>' | '=' | '!'))
            .collect();
        let op = match op_text.as_str() {
            "<" => Op::Below,
            "<=" => Op::AtMost,
            ">" => Op::Above,
            ">=" => Op::AtLeast,
            _ => {
                return Err(format!(
                    "{text:?} compares with {op_text:?}: expected <, <=, > or >="
                ))
            }
        };
        let metric = parse_metric(text, text[..op_at].trim())?;
        let value = text[op_at + op_text.len()..].trim();
        if value.is_empty() {
            return Err(format!("{text:?} has no threshold after {op_text:?}"));
        }
        let threshold = parse_threshold(text, metric, value)?;
        Ok(Gate {
            metric,
            op,
            threshold,
        })
    }
}

/// The metric named by `name` (`[STEP.]METRIC`, spaces allowed around the dot) in `gate`.
fn parse_metric(gate: &str, name: &str) -> Result<Metric, String> {
    if name.is_empty() {
        return Err(format!(
            "{gate:?} names no metric before its comparison: expected {KNOWN_METRICS}"
        ));
    }
    let (step, name) = match name.split_once('.') {
        Some((step, name)) => (Some(step.trim()), name.trim()),
        None => (None, name),
    };
    let metric = if let Some(percentile) = Percentile::ALL.into_iter().find(|p| p.name() == name) {
        let step = match step {
            None => Step::E2e,
            Some(step) => Step::ALL
                .into_iter()
                .find(|known| known.name() == step)
                .ok_or_else(|| {
                    format!(
                        "{gate:?} names an unknown step {step:?}: expected e2e, authorize, route \
                         or ledger"
                    )
                })?,
        };
        Metric::Latency(step, percentile)
    } else if let Some(rate) = Rate::ALL.into_iter().find(|rate| rate.name() == name) {
        Metric::Rate(rate)
    } else if name == "throughput" {
        Metric::Throughput
    } else {
        return Err(format!(
            "{gate:?} names an unknown metric {name:?}: expected {KNOWN_METRICS}"
        ));
    };
    match (step, metric) {
        (Some(step), Metric::Rate(_) | Metric::Throughput) => Err(format!(
            "{gate:?} puts a step ({step}.) before {name}, which is not a latency: only \
             {LATENCY_METRICS} are measured per step"
        )),
        _ => Ok(metric),
    }
}

/// The threshold `value` (a number and its unit) in `gate`, in `metric`'s unit.
fn parse_threshold(gate: &str, metric: Metric, value: &str) -> Result<f64, String> {
    let number_end = value
        .find(|c: char| !matches!(c, '0'..='9' | '.' | '+' | '-' | '_' | ','))
        .unwrap_or(value.len());
    let (number_text, unit) = (&value[..number_end], value[number_end..].trim());
    if number_text.is_empty() {
        return Err(format!("{gate:?} has no number in its threshold {value:?}"));
    }
    // `_` separates digits anywhere; `,` only in a throughput, where it cannot be mistaken for
    // a decimal comma.
    let mut digits = number_text.replace('_', "");
    if metric == Metric::Throughput {
        digits = digits.replace(',', "");
    }
    let number: f64 = digits
        .parse()
        .map_err(|_| format!("{gate:?} has a threshold that is not a number: {number_text:?}"))?;
    if !number.is_finite() {
        return Err(format!("{gate:?} has a threshold too large to hold"));
    }
    if number < 0.0 {
        return Err(format!(
            "{gate:?} has a negative threshold: no {} is below 0",
            match metric {
                Metric::Latency(..) => "latency",
                Metric::Rate(_) => "rate",
                Metric::Throughput => "throughput",
            }
        ));
    }
    let threshold = match metric {
        Metric::Latency(..) => {
            let ns = match unit {
                "" => {
                    return Err(format!(
                        "{gate:?} has no unit: a latency threshold takes ns, us, µs, ms or s, as \
                         in p99<2ms"
                    ))
                }
                "ns" => 1.0,
                "us" | "µs" | "μs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                _ => {
                    return Err(format!(
                        "{gate:?} has an unknown unit {unit:?}: a latency threshold takes ns, \
                         us, µs, ms or s"
                    ))
                }
            };
            number * ns
        }
        Metric::Rate(_) => {
            let fraction = match unit {
                "%" => number / 100.0,
                "" => number,
                _ => {
                    return Err(format!(
                        "{gate:?} gives a rate in {unit:?}: expected a percentage (0.1%) or a \
                         fraction (0.001)"
                    ))
                }
            };
            if fraction > 1.0 {
                return Err(format!(
                    "{gate:?} has a rate above 100%: a rate is a share of the payments \
                     submitted, from 0% to 100% (or 0 to 1)"
                ));
            }
            fraction
        }
        Metric::Throughput => match unit {
            "" | "/s" => number,
            "k" | "k/s" => number * 1e3,
            _ => {
                return Err(format!(
                    "{gate:?} gives a throughput in {unit:?}: expected payments per second, as \
                     in 100000, 100_000, 100,000 or 100k"
                ))
            }
        },
    };
    if !threshold.is_finite() {
        return Err(format!("{gate:?} has a threshold too large to hold"));
    }
    Ok(threshold)
}

/// `0.08%`, `12.50%`, `0.0012%`: two decimals, more for shares below 0.01% so that they do not
/// read as zero.
fn human_fraction(fraction: f64) -> String {
    let percent = fraction * 100.0;
    if percent == 0.0 || percent >= 0.01 || !percent.is_finite() {
        format!("{percent:.2}%")
    } else {
        let decimals = (1.0 - percent.log10().floor()).clamp(2.0, 12.0) as usize;
        format!("{percent:.decimals$}%")
    }
}

impl Serialize for Gate {
    /// As its canonical text.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Gate {
    /// From a gate's text, so that a scenario file can say `slo = ["p99<2ms"]`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Gate, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Verdicts<'_> {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let measured = |verdict: &Verdict| match verdict.measured {
            Some(_) => format!("measured {}", verdict.measured_text),
            None => verdict.measured_text.clone(),
        };
        let gate_width = self
            .0
            .iter()
            .map(|verdict| verdict.gate.chars().count())
            .max()
            .unwrap_or(0);
        let measured_width = self
            .0
            .iter()
            .map(|verdict| measured(verdict).chars().count())
            .max()
            .unwrap_or(0);
        for verdict in self.0 {
            writeln!(
                out,
                "  slo          {:<gate_width$}   {:<measured_width$}   {}",
                verdict.gate,
                measured(verdict),
                if verdict.passed { "pass" } else { "FAIL" }
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(text: &str) -> Gate {
        text.parse()
            .unwrap_or_else(|error| panic!("{text:?}: {error}"))
    }

    #[test]
    fn valid_gates_read_their_metric_op_and_threshold() {
        let cases: &[(&str, &str, Op, f64)] = &[
            ("p99<2ms", "e2e.p99", Op::Below, 2e6),
            (" p999 <= 10 ms ", "e2e.p999", Op::AtMost, 1e7),
            ("e2e.p50<1.5us", "e2e.p50", Op::Below, 1_500.0),
            ("p90 > 0ns", "e2e.p90", Op::Above, 0.0),
            ("p9999>=3s", "e2e.p9999", Op::AtLeast, 3e9),
            ("max<1_000us", "e2e.max", Op::Below, 1e6),
            ("ledger.p99<200us", "ledger.p99", Op::Below, 200_000.0),
            ("ledger.p99<200µs", "ledger.p99", Op::Below, 200_000.0),
            ("ledger.p99<200μs", "ledger.p99", Op::Below, 200_000.0),
            (
                "authorize . p99 < 50 us",
                "authorize.p99",
                Op::Below,
                50_000.0,
            ),
            ("route.max>=850ns", "route.max", Op::AtLeast, 850.0),
            ("error_rate<0.1%", "error_rate", Op::Below, 0.001),
            ("reject_rate<=0.05", "reject_rate", Op::AtMost, 0.05),
            ("decline_rate < 5 %", "decline_rate", Op::Below, 0.05),
            ("expired_rate<=0%", "expired_rate", Op::AtMost, 0.0),
            ("busy_rate<1", "busy_rate", Op::Below, 1.0),
            ("error_rate<100%", "error_rate", Op::Below, 1.0),
            ("throughput>100000", "throughput", Op::Above, 1e5),
            ("throughput>=100_000", "throughput", Op::AtLeast, 1e5),
            ("throughput > 100k", "throughput", Op::Above, 1e5),
            ("throughput>100,000/s", "throughput", Op::Above, 1e5),
            ("throughput>1.5k/s", "throughput", Op::Above, 1_500.0),
        ];
        for &(text, metric, op, threshold) in cases {
            let parsed = gate(text);
            assert_eq!(parsed.metric().to_string(), metric, "{text}");
            assert_eq!(parsed.op(), op, "{text}");
            assert!(
                (parsed.threshold() - threshold).abs() <= threshold * 1e-12,
                "{text}: {} ≠ {threshold}",
                parsed.threshold()
            );
        }
    }

    #[test]
    fn invalid_gates_say_what_was_wrong() {
        let cases: &[(&str, &str)] = &[
            ("", "cannot be empty"),
            ("   ", "cannot be empty"),
            ("p99<2", "has no unit"),
            ("p99 < 2", "ns, us, µs, ms or s"),
            ("p98<2ms", "unknown metric \"p98\""),
            ("p98<2ms", "error_rate, reject_rate"),
            ("latency<2ms", "expected p50, p90"),
            ("foo.p99<2ms", "unknown step \"foo\""),
            (
                "ledger.error_rate<1%",
                "puts a step (ledger.) before error_rate",
            ),
            ("e2e.throughput>1k", "not a latency"),
            ("p99 2ms", "has no comparison"),
            ("p99=2ms", "compares with \"=\""),
            ("p99==2ms", "expected <, <=, > or >="),
            ("p99=<2ms", "compares with \"=<\""),
            ("p99<<2ms", "compares with \"<<\""),
            ("p99!=2ms", "compares with \"!=\""),
            ("<2ms", "names no metric"),
            ("p99<", "has no threshold"),
            ("p99<ms", "has no number"),
            ("p99<-1ms", "negative threshold"),
            ("throughput>-5", "negative threshold"),
            ("p99<1.2.3ms", "not a number"),
            ("p99<1,5ms", "not a number"),
            ("p99<2min", "unknown unit \"min\""),
            ("error_rate<150%", "above 100%"),
            ("error_rate<2", "above 100%"),
            ("error_rate<1ms", "percentage (0.1%) or a fraction"),
            ("throughput>100ms", "payments per second"),
        ];
        for &(text, fragment) in cases {
            let error = text.parse::<Gate>().expect_err(text);
            assert!(error.contains(fragment), "{text:?}: {error}");
        }
        let huge = format!("p99<{}s", "9".repeat(400));
        assert!(huge.parse::<Gate>().unwrap_err().contains("too large"));
    }

    #[test]
    fn the_canonical_text_parses_back_to_an_equal_gate() {
        let canonical: &[(&str, &str)] = &[
            ("p99<2ms", "p99<2ms"),
            ("e2e.p99 < 2000 us", "p99<2ms"),
            ("ledger.p99<200us", "ledger.p99<200µs"),
            ("p50<=1.5us", "p50<=1.5µs"),
            ("max<2500ms", "max<2.5s"),
            ("p90>0s", "p90>0ns"),
            ("p99<0.5ns", "p99<0.5ns"),
            ("error_rate<0.1%", "error_rate<0.1%"),
            ("error_rate<0.001", "error_rate<0.1%"),
            ("busy_rate>=1", "busy_rate>=100%"),
            ("throughput>100k", "throughput>100,000/s"),
            ("throughput>=1234.5", "throughput>=1234.5/s"),
        ];
        for &(text, expected) in canonical {
            assert_eq!(gate(text).to_string(), expected, "{text}");
        }
        let awkward = [
            "p99<1.000001ms",
            "p99<0.3us",
            "p999<123456.789ns",
            "route.p50<0.1s",
            "decline_rate<0.3%",
            "expired_rate<0.0000001",
            "reject_rate<33.333333%",
            "throughput>0.1",
            "throughput>12345678901234567890",
        ];
        for text in canonical.iter().map(|(text, _)| *text).chain(awkward) {
            let parsed = gate(text);
            let shown = parsed.to_string();
            assert_eq!(gate(&shown), parsed, "{text} → {shown}");
        }
    }

    #[test]
    fn gates_serialise_as_their_text() {
        #[derive(Deserialize)]
        struct Scenario {
            slo: Vec<Gate>,
        }
        let scenario: Scenario =
            toml::from_str(r#"slo = ["p99<2ms", "ledger.p99 < 200us", "throughput>100k"]"#)
                .unwrap();
        assert_eq!(
            scenario.slo,
            vec![
                gate("p99<2ms"),
                gate("ledger.p99<200µs"),
                gate("throughput>100000")
            ]
        );
        assert_eq!(
            serde_json::to_string(&scenario.slo).unwrap(),
            r#"["p99<2ms","ledger.p99<200µs","throughput>100,000/s"]"#
        );
        let refused = toml::from_str::<Scenario>(r#"slo = ["p99<2"]"#).map(|_| ());
        assert!(refused.unwrap_err().to_string().contains("has no unit"));
    }

    fn observed() -> Observed {
        let e2e = Percentiles {
            p50: 400_000,
            p90: 900_000,
            p99: 1_840_000,
            p999: 4_000_000,
            p9999: 8_000_000,
            max: 12_000_000,
        };
        let ledger = Percentiles {
            p99: 150_000,
            ..Percentiles::default()
        };
        Observed {
            latency_ns: [("e2e".to_string(), e2e), ("ledger".to_string(), ledger)].into(),
            submitted: 100_000,
            approved: 90_000,
            declined: 5_000,
            rejected: 3_000,
            expired: 1_500,
            busy: 500,
            throughput_per_s: Some(98_512.0),
        }
    }

    #[test]
    fn checks_compare_what_was_measured() {
        // (gate, measured, passed, measured text)
        let cases: &[(&str, Option<f64>, bool, &str)] = &[
            ("p99<2ms", Some(1.84e6), true, "1.84 ms"),
            ("p99<1.84ms", Some(1.84e6), false, "1.84 ms"),
            ("p99<=1.84ms", Some(1.84e6), true, "1.84 ms"),
            ("p99>1.84ms", Some(1.84e6), false, "1.84 ms"),
            ("p99>=1.84ms", Some(1.84e6), true, "1.84 ms"),
            ("p50<500us", Some(4e5), true, "400.0 µs"),
            ("p90<1ms", Some(9e5), true, "900.0 µs"),
            ("p999<=4ms", Some(4e6), true, "4.00 ms"),
            ("p9999<5ms", Some(8e6), false, "8.00 ms"),
            ("max<10ms", Some(1.2e7), false, "12.00 ms"),
            ("ledger.p99<200us", Some(1.5e5), true, "150.0 µs"),
            ("authorize.p99<1ms", None, false, "not measured"),
            ("route.max<1s", None, false, "not measured"),
            ("error_rate<=2%", Some(0.02), true, "2.00%"),
            ("error_rate<2%", Some(0.02), false, "2.00%"),
            ("reject_rate<=0.03", Some(0.03), true, "3.00%"),
            ("decline_rate<5%", Some(0.05), false, "5.00%"),
            ("expired_rate<=1.5%", Some(0.015), true, "1.50%"),
            ("busy_rate<0.4%", Some(0.005), false, "0.50%"),
            ("throughput>100k", Some(98_512.0), false, "98,512/s"),
            ("throughput>=98512", Some(98_512.0), true, "98,512/s"),
            ("throughput>98512", Some(98_512.0), false, "98,512/s"),
        ];
        let observed = observed();
        for &(text, measured, passed, measured_text) in cases {
            let gate = gate(text);
            let verdict = gate.check(&observed);
            assert_eq!(verdict.gate, gate.to_string(), "{text}");
            assert_eq!(verdict.metric, gate.metric().to_string(), "{text}");
            assert_eq!(verdict.threshold, gate.threshold(), "{text}");
            assert_eq!(verdict.unit, gate.metric().unit(), "{text}");
            assert_eq!(verdict.measured, measured, "{text}");
            assert_eq!(verdict.passed, passed, "{text}");
            assert_eq!(verdict.measured_text, measured_text, "{text}");
        }
    }

    #[test]
    fn nothing_submitted_and_a_run_going_on_are_not_measured() {
        let going_on = Observed {
            submitted: 0,
            throughput_per_s: None,
            ..observed()
        };
        for text in ["error_rate<1%", "busy_rate<=1", "throughput>0"] {
            let verdict = gate(text).check(&going_on);
            assert_eq!(verdict.measured, None, "{text}");
            assert!(!verdict.passed, "{text}");
            assert_eq!(verdict.measured_text, "not measured", "{text}");
        }
        let nan = Observed {
            throughput_per_s: Some(f64::NAN),
            ..observed()
        };
        assert_eq!(gate("throughput>0").check(&nan).measured, None);
    }

    #[test]
    fn only_throughput_waits_for_the_end() {
        for (text, early) in [
            ("p99<2ms", true),
            ("ledger.max<1s", true),
            ("error_rate<1%", true),
            ("decline_rate<50%", true),
            ("throughput>1k", false),
        ] {
            assert_eq!(gate(text).judged_early(), early, "{text}");
        }
    }

    #[test]
    fn small_shares_keep_their_digits() {
        assert_eq!(human_fraction(0.0), "0.00%");
        assert_eq!(human_fraction(0.0008), "0.08%");
        assert_eq!(human_fraction(0.125), "12.50%");
        assert_eq!(human_fraction(0.000012), "0.0012%");
        assert_eq!(human_fraction(1.0), "100.00%");
    }

    #[test]
    fn a_verdict_table_aligns_its_columns() {
        let gates = [
            gate("p99<2ms"),
            gate("ledger.p99<200us"),
            gate("error_rate<0.1%"),
            gate("throughput>100k"),
            gate("authorize.p99<1ms"),
        ];
        let verdicts = check_all(&gates, &observed());
        assert_eq!(verdicts.len(), gates.len());
        let table = Verdicts(&verdicts).to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), gates.len(), "{table}");
        assert_eq!(
            lines[0],
            "  slo          p99<2ms                measured 1.84 ms    pass"
        );
        assert_eq!(
            lines[4],
            "  slo          authorize.p99<1ms      not measured        FAIL"
        );
        let ends: Vec<&str> = lines
            .iter()
            .map(|line| line.rsplit("   ").next().unwrap())
            .collect();
        assert_eq!(ends, ["pass", "pass", "FAIL", "FAIL", "FAIL"], "{table}");
        let widths: Vec<usize> = lines.iter().map(|line| line.chars().count()).collect();
        assert!(widths.iter().all(|&width| width == widths[0]), "{table}");
        assert_eq!(Verdicts(&[]).to_string(), "");
    }
}
