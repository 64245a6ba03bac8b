//! [`Shape`]: how the offered rate changes over a load — fixed, a ramp, steps, a spike, a
//! piecewise-linear profile, the replay of a recorded trace, or saturation — with [`Point`], its
//! checks ([`ShapeError`]) and its compact command-line form.
//!
//! Times are seconds from the start of the load (t = 0 is when load starts); rates are payments
//! a second, all institutions together.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::arrivals::RateProfile;
use crate::config::Arrival;
use crate::constants::RATE_PER_S_MAX;

/// How the offered rate changes over a load. In a config it is the `traffic` table, its kind
/// named by `shape`:
///
/// ```toml
/// [traffic]
/// shape = "ramp"
/// from = 0
/// to = 180_000
/// over_s = 2
/// arrival = "poisson"
/// ```
///
/// A field that does not belong to the chosen shape is refused by name. The methods that answer
/// about rates expect a shape that passes [`Shape::validate`]; on others they give meaningless
/// numbers, never a panic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shape {
    /// A fixed rate, evenly spaced.
    Constant {
        /// Payments a second, above zero.
        rate: f64,
    },
    /// A fixed rate, a Poisson process.
    Poisson {
        /// Payments a second, above zero.
        rate: f64,
    },
    /// Linear from `from` to `to` over `over_s`, then held at `to`.
    Ramp {
        /// The rate at 0, payments a second.
        from: f64,
        /// The rate from `over_s` on, payments a second.
        to: f64,
        /// How long the ramp takes, seconds above zero.
        over_s: f64,
        /// How send times are spaced under the changing rate.
        #[serde(default)]
        arrival: Arrival,
    },
    /// The rate jumps to each step's rate at its `at_s` and holds it until the next step; it is 0
    /// before the first step and the last step's rate after it.
    Steps {
        /// The steps, in time order (equal times allowed: the later one holds).
        steps: Vec<Point>,
        /// How send times are spaced under the changing rate.
        #[serde(default)]
        arrival: Arrival,
    },
    /// `base` until `at_s`, linear up to `peak` over `rise_s`, held at `peak` for `hold_s`,
    /// linear back down to `base` over `decay_s`, then `base` again.
    Spike {
        /// The rate before and after the spike, payments a second.
        base: f64,
        /// The rate at the top of the spike, payments a second, at least `base`.
        peak: f64,
        /// When the rise starts, seconds.
        at_s: f64,
        /// How long the rise takes, seconds; 0 jumps.
        rise_s: f64,
        /// How long the peak is held, seconds.
        hold_s: f64,
        /// How long the fall back to `base` takes, seconds; 0 drops at once.
        decay_s: f64,
        /// How send times are spaced under the changing rate.
        #[serde(default)]
        arrival: Arrival,
    },
    /// Linear between consecutive points; the first point's rate before it and the last point's
    /// rate after it. Two points at the same time make a jump.
    Profile {
        /// The points, in time order.
        points: Vec<Point>,
        /// How send times are spaced under the changing rate.
        #[serde(default)]
        arrival: Arrival,
    },
    /// The replay of recorded send offsets ([`crate::Trace`]).
    Trace {
        /// The trace's CSV file.
        file: PathBuf,
    },
    /// Saturation: each producer sends as fast as it can, with no schedule.
    #[serde(deserialize_with = "no_fields")]
    Max,
}

/// Refuses every field but `shape` for a shape that has none ([`Shape::Max`]): a unit variant of
/// an internally tagged enum ignores whatever fields come with it, and `deny_unknown_fields`
/// reaches only variants that have fields.
fn no_fields<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NoFields {}
    NoFields::deserialize(deserializer).map(|_| ())
}

/// A rate at a time: a step of [`Shape::Steps`] or a point of [`Shape::Profile`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// Seconds from the start of the load.
    pub at_s: f64,
    /// Payments a second.
    pub rate: f64,
}

/// Why a [`Shape`] cannot drive a load: the field at fault and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    /// The field's path under the `traffic` table, e.g. `traffic.over_s` or
    /// `traffic.steps[2].at_s` (indexes count from 0).
    pub field: String,
    /// What is wrong, to read after the field's name, e.g. `must be above zero; it is 0`.
    pub reason: String,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for ShapeError {}

impl ShapeError {
    pub(crate) fn new(field: impl Into<String>, reason: impl Into<String>) -> ShapeError {
        ShapeError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl Shape {
    /// Checks every field is in range: rates finite, not negative and at most
    /// [`RATE_PER_S_MAX`] (a fixed rate above zero); times finite and not negative; `over_s`
    /// above zero; `peak` at least `base`; steps and points not empty, in time order, and not all
    /// of rate zero; a trace's file named. [`crate::Schedule::new`] needs a shape that passes.
    pub fn validate(&self) -> Result<(), ShapeError> {
        match self {
            Shape::Constant { rate } | Shape::Poisson { rate } => {
                check_rate("traffic.rate", *rate)?;
                if *rate == 0.0 {
                    return Err(ShapeError::new(
                        "traffic.rate",
                        "must be above zero; it is 0",
                    ));
                }
            }
            Shape::Ramp {
                from, to, over_s, ..
            } => {
                check_rate("traffic.from", *from)?;
                check_rate("traffic.to", *to)?;
                check_time("traffic.over_s", *over_s)?;
                if *over_s == 0.0 {
                    return Err(ShapeError::new(
                        "traffic.over_s",
                        "must be above zero; it is 0",
                    ));
                }
                if *from == 0.0 && *to == 0.0 {
                    return Err(ShapeError::new(
                        "traffic.to",
                        "must be above zero when from is 0; a ramp from 0 to 0 sends nothing",
                    ));
                }
            }
            Shape::Steps { steps, .. } => check_points("steps", "step", steps)?,
            Shape::Spike {
                base,
                peak,
                at_s,
                rise_s,
                hold_s,
                decay_s,
                ..
            } => {
                check_rate("traffic.base", *base)?;
                check_rate("traffic.peak", *peak)?;
                if peak < base {
                    return Err(ShapeError::new(
                        "traffic.peak",
                        format!(
                            "must be at least the base rate ({}/s); it is {}/s",
                            Rate(*base),
                            Rate(*peak)
                        ),
                    ));
                }
                if *peak == 0.0 {
                    return Err(ShapeError::new(
                        "traffic.peak",
                        "must be above zero; a spike from 0 to 0 sends nothing",
                    ));
                }
                check_time("traffic.at_s", *at_s)?;
                check_time("traffic.rise_s", *rise_s)?;
                check_time("traffic.hold_s", *hold_s)?;
                check_time("traffic.decay_s", *decay_s)?;
            }
            Shape::Profile { points, .. } => check_points("points", "point", points)?,
            Shape::Trace { file } => {
                if file.as_os_str().is_empty() {
                    return Err(ShapeError::new(
                        "traffic.file",
                        "must name the trace's file; it is empty",
                    ));
                }
            }
            Shape::Max => {}
        }
        Ok(())
    }

    /// The planned rate at `t_s` seconds from the start, payments a second (a time before 0 is
    /// taken as 0). None for a trace and for saturation, which plan no rate.
    pub fn rate_at(&self, t_s: f64) -> Option<f64> {
        RateProfile::new(self).map(|profile| profile.rate_at(t_s))
    }

    /// The payments planned from `from_s` to `to_s` seconds: the rate's integral (negative when
    /// `to_s` is before `from_s`; no payments are planned before 0). None for a trace and for
    /// saturation.
    pub fn expected_count(&self, from_s: f64, to_s: f64) -> Option<f64> {
        RateProfile::new(self).map(|profile| profile.expected_count(from_s, to_s))
    }

    /// The highest rate the shape reaches, payments a second. None for a trace and for
    /// saturation.
    pub fn peak_rate(&self) -> Option<f64> {
        RateProfile::new(self).map(|profile| profile.peak_rate())
    }

    /// Whether this is saturation ([`Shape::Max`]): no schedule, as fast as the producers can.
    pub fn is_max(&self) -> bool {
        matches!(self, Shape::Max)
    }

    /// How send times are spaced: [`Arrival::Constant`] for [`Shape::Constant`],
    /// [`Arrival::Poisson`] for [`Shape::Poisson`], the `arrival` field of the shapes that have
    /// one. None for a trace and for saturation, whose times are not drawn.
    pub fn arrival(&self) -> Option<Arrival> {
        match self {
            Shape::Constant { .. } => Some(Arrival::Constant),
            Shape::Poisson { .. } => Some(Arrival::Poisson),
            Shape::Ramp { arrival, .. }
            | Shape::Steps { arrival, .. }
            | Shape::Spike { arrival, .. }
            | Shape::Profile { arrival, .. } => Some(*arrival),
            Shape::Trace { .. } | Shape::Max => None,
        }
    }

    /// This shape with its send times spaced by `arrival`: a fixed rate becomes
    /// [`Shape::Constant`] or [`Shape::Poisson`], a changing rate takes it as its `arrival`; a
    /// trace and saturation are returned as they are.
    pub fn with_arrival(self, arrival: Arrival) -> Shape {
        match self {
            Shape::Constant { rate } | Shape::Poisson { rate } => match arrival {
                Arrival::Constant => Shape::Constant { rate },
                Arrival::Poisson => Shape::Poisson { rate },
            },
            Shape::Ramp {
                from, to, over_s, ..
            } => Shape::Ramp {
                from,
                to,
                over_s,
                arrival,
            },
            Shape::Steps { steps, .. } => Shape::Steps { steps, arrival },
            Shape::Spike {
                base,
                peak,
                at_s,
                rise_s,
                hold_s,
                decay_s,
                ..
            } => Shape::Spike {
                base,
                peak,
                at_s,
                rise_s,
                hold_s,
                decay_s,
                arrival,
            },
            Shape::Profile { points, .. } => Shape::Profile { points, arrival },
            shape @ (Shape::Trace { .. } | Shape::Max) => shape,
        }
    }
}

/// A rate that is finite, not negative and at most [`RATE_PER_S_MAX`].
fn check_rate(field: &str, rate: f64) -> Result<(), ShapeError> {
    if !(rate.is_finite() && rate >= 0.0) {
        return Err(ShapeError::new(
            field,
            format!("must be a finite number of payments a second, not negative; it is {rate}"),
        ));
    }
    if rate > RATE_PER_S_MAX {
        return Err(ShapeError::new(
            field,
            format!(
                "must be at most {}/s, far above what a node carries; it is {}/s",
                Rate(RATE_PER_S_MAX),
                Rate(rate)
            ),
        ));
    }
    Ok(())
}

/// A time that is finite and not negative.
fn check_time(field: &str, time_s: f64) -> Result<(), ShapeError> {
    if !(time_s.is_finite() && time_s >= 0.0) {
        return Err(ShapeError::new(
            field,
            format!("must be a finite number of seconds, not negative; it is {time_s}"),
        ));
    }
    Ok(())
}

/// Steps or points: at least one, each in range, in time order, one of them above zero.
fn check_points(list: &str, noun: &str, points: &[Point]) -> Result<(), ShapeError> {
    if points.is_empty() {
        return Err(ShapeError::new(
            format!("traffic.{list}"),
            format!("must hold at least one {noun}; it is empty"),
        ));
    }
    let mut before_s = 0.0;
    for (index, point) in points.iter().enumerate() {
        check_time(&format!("traffic.{list}[{index}].at_s"), point.at_s)?;
        check_rate(&format!("traffic.{list}[{index}].rate"), point.rate)?;
        if point.at_s < before_s {
            return Err(ShapeError::new(
                format!("traffic.{list}[{index}].at_s"),
                format!(
                    "must not be before the {noun} before it ({before_s} s); it is {} s",
                    point.at_s
                ),
            ));
        }
        before_s = point.at_s;
    }
    if points.iter().all(|point| point.rate == 0.0) {
        return Err(ShapeError::new(
            format!("traffic.{list}"),
            format!("must have a {noun} with a rate above zero; every rate is 0"),
        ));
    }
    Ok(())
}

/// A rate in payments a second, its whole part grouped by thousands: `180,000`, `0.5`.
struct Rate(f64);

impl fmt::Display for Rate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        let (sign, digits) = match text.strip_prefix('-') {
            Some(digits) => ("-", digits),
            None => ("", text.as_str()),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (digits, None),
        };
        if !whole.bytes().all(|byte| byte.is_ascii_digit()) {
            // inf, NaN: as they are.
            return formatter.write_str(&text);
        }
        formatter.write_str(sign)?;
        for (index, digit) in whole.char_indices() {
            if index > 0 && (whole.len() - index) % 3 == 0 {
                formatter.write_str(",")?;
            }
            write!(formatter, "{digit}")?;
        }
        if let Some(fraction) = fraction {
            write!(formatter, ".{fraction}")?;
        }
        Ok(())
    }
}

/// How arrivals are spaced, as the one-line description names it.
fn arrival_name(arrival: Arrival) -> &'static str {
    match arrival {
        Arrival::Constant => "evenly spaced",
        Arrival::Poisson => "Poisson",
    }
}

impl fmt::Display for Shape {
    /// One line for a person: `ramp 0 → 180,000/s over 2 s (Poisson)`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Constant { rate } => write!(formatter, "constant {}/s", Rate(*rate)),
            Shape::Poisson { rate } => write!(formatter, "poisson {}/s", Rate(*rate)),
            Shape::Ramp {
                from,
                to,
                over_s,
                arrival,
            } => write!(
                formatter,
                "ramp {} → {}/s over {over_s} s ({})",
                Rate(*from),
                Rate(*to),
                arrival_name(*arrival)
            ),
            Shape::Steps { steps, arrival } => {
                formatter.write_str("steps")?;
                for (index, step) in steps.iter().enumerate() {
                    let separator = if index == 0 { " " } else { ", " };
                    write!(
                        formatter,
                        "{separator}{}/s at {} s",
                        Rate(step.rate),
                        step.at_s
                    )?;
                }
                write!(formatter, " ({})", arrival_name(*arrival))
            }
            Shape::Spike {
                base,
                peak,
                at_s,
                rise_s,
                hold_s,
                decay_s,
                arrival,
            } => write!(
                formatter,
                "spike {} → {}/s at {at_s} s (rise {rise_s} s, hold {hold_s} s, decay {decay_s} s, {})",
                Rate(*base),
                Rate(*peak),
                arrival_name(*arrival)
            ),
            Shape::Profile { points, arrival } => write!(
                formatter,
                "profile of {} point{}, peak {}/s ({})",
                points.len(),
                if points.len() == 1 { "" } else { "s" },
                Rate(self.peak_rate().unwrap_or(0.0)),
                arrival_name(*arrival)
            ),
            Shape::Trace { file } => write!(formatter, "trace replay of {}", file.display()),
            Shape::Max => formatter.write_str("max (saturation)"),
        }
    }
}

/// Each compact form: the shape's name, the form, and an example.
const FORMS: [(&str, &str, &str); 8] = [
    ("max", "max", "max"),
    ("constant", "constant:RATE", "constant:180k"),
    ("poisson", "poisson:RATE", "poisson:180k"),
    ("ramp", "ramp:FROM..TO/OVER", "ramp:0..180k/2s"),
    (
        "steps",
        "steps:RATE@T,RATE@T,...",
        "steps:60k@0s,120k@10s,180k@20s",
    ),
    (
        "spike",
        "spike:BASE..PEAK@AT/RISE/HOLD/DECAY",
        "spike:5k..180k@5s/2s/10s/20s",
    ),
    (
        "profile",
        "profile:RATE@T,RATE@T,...",
        "profile:0@0s,180k@10s,180k@50s,0@60s",
    ),
    ("trace", "trace:FILE", "trace:arrivals.csv"),
];

impl FromStr for Shape {
    type Err = String;

    /// The compact form of a `--shape` flag: `max`, `constant:RATE`, `poisson:RATE`,
    /// `ramp:FROM..TO/OVER`, `steps:RATE@T,...`, `spike:BASE..PEAK@AT/RISE/HOLD/DECAY`,
    /// `profile:RATE@T,...` (linear between points) or `trace:FILE`. Rates are payments a second
    /// and take `_` separators and a `k` suffix (`180k`, `180_000`); durations need their unit,
    /// `s` or `ms` (`2s`, `500ms`). A changing rate's arrival is Poisson; set another with
    /// [`Shape::with_arrival`]. The shape must pass [`Shape::validate`].
    fn from_str(text: &str) -> Result<Shape, String> {
        let text = text.trim();
        let (name, body) = match text.split_once(':') {
            Some((name, body)) => (name, Some(body)),
            None => (text, None),
        };
        let Some(&(_, form, example)) = FORMS.iter().find(|(known, _, _)| *known == name) else {
            let forms: Vec<&str> = FORMS.iter().map(|(_, form, _)| *form).collect();
            return Err(format!(
                "`{text}` names no shape; expected one of {}.",
                forms.join(", ")
            ));
        };
        let expected = if example == form {
            format!("Expected {form}.")
        } else {
            format!("Expected {form}, e.g. {example}.")
        };
        let shape = parse_compact(name, body)
            .map_err(|reason| format!("`{text}` is not a {name} shape: {reason}. {expected}"))?;
        shape.validate().map_err(|error| {
            let field = error.field.strip_prefix("traffic.").unwrap_or(&error.field);
            format!("`{text}` is refused: {field} {}. {expected}", error.reason)
        })?;
        Ok(shape)
    }
}

/// The shape `name` from the text after its colon (None when there was no colon).
fn parse_compact(name: &str, body: Option<&str>) -> Result<Shape, String> {
    let arrival = Arrival::Poisson;
    if name == "max" {
        return match body {
            None => Ok(Shape::Max),
            Some(_) => Err("max takes nothing after it".to_string()),
        };
    }
    let body = body
        .map(str::trim)
        .filter(|body| !body.is_empty())
        .ok_or_else(|| format!("nothing follows `{name}:`"))?;
    Ok(match name {
        "constant" => Shape::Constant {
            rate: parse_rate(body)?,
        },
        "poisson" => Shape::Poisson {
            rate: parse_rate(body)?,
        },
        "ramp" => {
            let (rates, over) = split(body, "/", "a / before the ramp's duration")?;
            let (from, to) = parse_range(rates)?;
            Shape::Ramp {
                from,
                to,
                over_s: parse_duration(over)?,
                arrival,
            }
        }
        "steps" => Shape::Steps {
            steps: parse_points(body)?,
            arrival,
        },
        "profile" => Shape::Profile {
            points: parse_points(body)?,
            arrival,
        },
        "spike" => {
            let (rates, times) = split(body, "@", "an @ before the spike's start")?;
            let (base, peak) = parse_range(rates)?;
            let times: Vec<&str> = times.split('/').collect();
            let &[at, rise, hold, decay] = times.as_slice() else {
                return Err(format!(
                    "it has {} times after the @, not the four AT/RISE/HOLD/DECAY",
                    times.len()
                ));
            };
            Shape::Spike {
                base,
                peak,
                at_s: parse_duration(at)?,
                rise_s: parse_duration(rise)?,
                hold_s: parse_duration(hold)?,
                decay_s: parse_duration(decay)?,
                arrival,
            }
        }
        // "trace": the rest is the file's path, as it is.
        _ => Shape::Trace {
            file: PathBuf::from(body),
        },
    })
}

/// `text` split at its first `separator`, or what is missing.
fn split<'a>(text: &'a str, separator: &str, missing: &str) -> Result<(&'a str, &'a str), String> {
    text.split_once(separator)
        .ok_or_else(|| format!("it lacks {missing}"))
}

/// `FROM..TO`: two rates.
fn parse_range(text: &str) -> Result<(f64, f64), String> {
    let (from, to) = split(text, "..", "the .. between two rates")?;
    Ok((parse_rate(from)?, parse_rate(to)?))
}

/// `RATE@T,RATE@T,...`: points in the order given.
fn parse_points(text: &str) -> Result<Vec<Point>, String> {
    text.split(',')
        .map(|point| {
            let (rate, at) = split(point, "@", "an @ between a rate and its time")?;
            Ok(Point {
                at_s: parse_duration(at)?,
                rate: parse_rate(rate)?,
            })
        })
        .collect()
}

/// Payments a second: a number with optional `_` separators and an optional `k` (×1,000).
fn parse_rate(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let mut number: String = trimmed.chars().filter(|&c| c != '_').collect();
    // `k` as an exponent, so `0.3k` is exactly 300.
    if number.ends_with(['k', 'K']) {
        number.pop();
        number.push_str("e3");
    }
    match number.parse::<f64>() {
        Ok(rate) if rate.is_finite() && !number.starts_with('e') => Ok(rate),
        _ => Err(format!(
            "`{trimmed}` is not a rate such as 180000, 180_000 or 180k"
        )),
    }
}

/// Seconds from a number with its unit, `s` or `ms`.
fn parse_duration(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    // Divided, not multiplied by 0.001: `300ms` is then the f64 nearest 0.3 s.
    let (number, units_per_s) = if let Some(number) = trimmed.strip_suffix("ms") {
        (number, 1e3)
    } else if let Some(number) = trimmed.strip_suffix('s') {
        (number, 1.0)
    } else {
        return Err(format!(
            "`{trimmed}` is not a duration with its unit, such as 2s or 500ms"
        ));
    };
    match number.trim().parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value / units_per_s),
        _ => Err(format!(
            "`{trimmed}` is not a duration with its unit, such as 2s or 500ms"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config holding a shape, as a run's TOML does.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Config {
        traffic: Shape,
    }

    /// The shape in `text`'s `[traffic]` table, checked; or the error's message.
    fn read(text: &str) -> Result<Shape, String> {
        let config: Config = toml::from_str(text).map_err(|error| error.to_string())?;
        config
            .traffic
            .validate()
            .map_err(|error| error.to_string())?;
        Ok(config.traffic)
    }

    fn point(at_s: f64, rate: f64) -> Point {
        Point { at_s, rate }
    }

    fn every_shape() -> Vec<Shape> {
        vec![
            Shape::Constant { rate: 180_000.0 },
            Shape::Poisson { rate: 180_000.0 },
            Shape::Ramp {
                from: 0.0,
                to: 180_000.0,
                over_s: 2.0,
                arrival: Arrival::Poisson,
            },
            Shape::Steps {
                steps: vec![point(0.0, 60_000.0), point(10.0, 120_000.0)],
                arrival: Arrival::Constant,
            },
            Shape::Spike {
                base: 5_000.0,
                peak: 180_000.0,
                at_s: 5.0,
                rise_s: 2.0,
                hold_s: 10.0,
                decay_s: 20.0,
                arrival: Arrival::Poisson,
            },
            Shape::Profile {
                points: vec![point(0.0, 0.0), point(10.0, 180_000.0), point(20.0, 0.0)],
                arrival: Arrival::Poisson,
            },
            Shape::Trace {
                file: PathBuf::from("traces/black-friday.csv"),
            },
            Shape::Max,
        ]
    }

    #[test]
    fn traffic_tables_read_as_shapes() {
        let rows: &[(&str, Shape)] = &[
            (
                "[traffic]\nshape = \"poisson\"\nrate = 180_000",
                Shape::Poisson { rate: 180_000.0 },
            ),
            (
                "[traffic]\nshape = \"constant\"\nrate = 0.5",
                Shape::Constant { rate: 0.5 },
            ),
            (
                "[traffic]\nshape = \"ramp\"\nfrom = 0\nto = 180000\nover_s = 2",
                Shape::Ramp {
                    from: 0.0,
                    to: 180_000.0,
                    over_s: 2.0,
                    arrival: Arrival::Poisson,
                },
            ),
            (
                "[traffic]\nshape = \"steps\"\narrival = \"constant\"\nsteps = [\n  \
                 { at_s = 0, rate = 60000 },\n  { at_s = 10, rate = 120000 },\n]",
                Shape::Steps {
                    steps: vec![point(0.0, 60_000.0), point(10.0, 120_000.0)],
                    arrival: Arrival::Constant,
                },
            ),
            (
                "[traffic]\nshape = \"profile\"\n[[traffic.points]]\nat_s = 0\nrate = 0\n\
                 [[traffic.points]]\nat_s = 5.5\nrate = 1000",
                Shape::Profile {
                    points: vec![point(0.0, 0.0), point(5.5, 1_000.0)],
                    arrival: Arrival::Poisson,
                },
            ),
            (
                "[traffic]\nshape = \"spike\"\nbase = 5000\npeak = 180000\nat_s = 5\n\
                 rise_s = 0\nhold_s = 10\ndecay_s = 20",
                Shape::Spike {
                    base: 5_000.0,
                    peak: 180_000.0,
                    at_s: 5.0,
                    rise_s: 0.0,
                    hold_s: 10.0,
                    decay_s: 20.0,
                    arrival: Arrival::Poisson,
                },
            ),
            (
                "[traffic]\nshape = \"trace\"\nfile = \"a.csv\"",
                Shape::Trace {
                    file: PathBuf::from("a.csv"),
                },
            ),
            ("[traffic]\nshape = \"max\"", Shape::Max),
        ];
        for (text, expected) in rows {
            assert_eq!(read(text).as_ref(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn bad_traffic_tables_are_refused_naming_the_field() {
        // Each message must contain the second column: the field's path, or its name as serde
        // quotes it.
        let rows: &[(&str, &str)] = &[
            ("shape = \"poisson\"\nrat = 5", "unknown field `rat`"),
            (
                "shape = \"ramp\"\nfrom = 0\nto = 5\nover = 2",
                "unknown field `over`",
            ),
            ("shape = \"max\"\nrate = 5", "unknown field `rate`"),
            (
                "shape = \"poisson\"\nrate = 5\narrival = \"constant\"",
                "unknown field `arrival`",
            ),
            ("shape = \"sine\"\nrate = 5", "unknown variant `sine`"),
            ("rate = 5", "missing field `shape`"),
            (
                "shape = \"ramp\"\nfrom = 0\nover_s = 2",
                "missing field `to`",
            ),
            (
                "shape = \"steps\"\nsteps = [{ at_s = 0, rate = 1, when = 2 }]",
                "unknown field `when`",
            ),
            ("shape = \"poisson\"\nrate = -5", "traffic.rate:"),
            ("shape = \"poisson\"\nrate = 0", "traffic.rate:"),
            ("shape = \"constant\"\nrate = 1e9", "traffic.rate:"),
            ("shape = \"constant\"\nrate = nan", "traffic.rate:"),
            (
                "shape = \"ramp\"\nfrom = 0\nto = 5\nover_s = 0",
                "traffic.over_s:",
            ),
            (
                "shape = \"ramp\"\nfrom = -1\nto = 5\nover_s = 1",
                "traffic.from:",
            ),
            (
                "shape = \"ramp\"\nfrom = 0\nto = 0\nover_s = 1",
                "traffic.to:",
            ),
            (
                "shape = \"ramp\"\nfrom = 0\nto = 1e9\nover_s = 1",
                "traffic.to:",
            ),
            (
                "shape = \"steps\"\nsteps = [{ at_s = 0, rate = 1 }, { at_s = 5, rate = 2 }, \
                 { at_s = 4, rate = 3 }]",
                "traffic.steps[2].at_s:",
            ),
            (
                "shape = \"steps\"\nsteps = [{ at_s = 0, rate = 1 }, { at_s = 5, rate = -2 }]",
                "traffic.steps[1].rate:",
            ),
            ("shape = \"steps\"\nsteps = []", "traffic.steps:"),
            (
                "shape = \"steps\"\nsteps = [{ at_s = 0, rate = 0 }, { at_s = 5, rate = 0 }]",
                "traffic.steps:",
            ),
            (
                "shape = \"profile\"\npoints = [{ at_s = -1, rate = 1 }]",
                "traffic.points[0].at_s:",
            ),
            (
                "shape = \"spike\"\nbase = 10\npeak = 5\nat_s = 1\nrise_s = 1\nhold_s = 1\n\
                 decay_s = 1",
                "traffic.peak:",
            ),
            (
                "shape = \"spike\"\nbase = 0\npeak = 10\nat_s = 1\nrise_s = -1\nhold_s = 1\n\
                 decay_s = 1",
                "traffic.rise_s:",
            ),
            (
                "shape = \"spike\"\nbase = 0\npeak = 10\nat_s = inf\nrise_s = 1\nhold_s = 1\n\
                 decay_s = 1",
                "traffic.at_s:",
            ),
            ("shape = \"trace\"\nfile = \"\"", "traffic.file:"),
        ];
        for (table, expected) in rows {
            let text = format!("[traffic]\n{table}");
            let message = read(&text).expect_err(&text);
            assert!(message.contains(expected), "{text}\n{message}");
        }
    }

    #[test]
    fn every_shape_round_trips_through_toml() {
        for shape in every_shape() {
            let config = Config { traffic: shape };
            let text = toml::to_string(&config).unwrap();
            let read: Config = toml::from_str(&text).unwrap();
            assert_eq!(read, config, "{text}");
            assert_eq!(read.traffic.validate(), Ok(()), "{text}");
        }
    }

    #[test]
    fn rates_and_counts_follow_each_shape() {
        let ramp = &every_shape()[2];
        let spike = &every_shape()[4];
        let profile = &every_shape()[5];
        let steps = Shape::Steps {
            steps: vec![point(2.0, 100.0), point(4.0, 300.0), point(4.0, 50.0)],
            arrival: Arrival::Poisson,
        };
        let small_ramp = Shape::Ramp {
            from: 0.0,
            to: 1_000.0,
            over_s: 2.0,
            arrival: Arrival::Poisson,
        };
        // (shape, t, rate at t, expected count from 0 to t)
        let rows: &[(&Shape, f64, f64, f64)] = &[
            (&every_shape()[1], 3.0, 180_000.0, 540_000.0),
            (&small_ramp, -1.0, 0.0, 0.0),
            (&small_ramp, 1.0, 500.0, 250.0),
            (&small_ramp, 2.0, 1_000.0, 1_000.0),
            (&small_ramp, 3.0, 1_000.0, 2_000.0),
            (ramp, 0.5, 45_000.0, 11_250.0),
            (&steps, 1.0, 0.0, 0.0),
            (&steps, 2.0, 100.0, 0.0),
            (&steps, 3.0, 100.0, 100.0),
            // Two steps at 4 s: the later holds.
            (&steps, 4.0, 50.0, 200.0),
            (&steps, 10.0, 50.0, 500.0),
            (spike, 5.0, 5_000.0, 25_000.0),
            (spike, 6.0, 92_500.0, 25_000.0 + 48_750.0),
            (spike, 7.0, 180_000.0, 25_000.0 + 185_000.0),
            (spike, 17.0, 180_000.0, 25_000.0 + 185_000.0 + 1_800_000.0),
            (spike, 27.0, 92_500.0, 2_010_000.0 + 1_362_500.0),
            (spike, 37.0, 5_000.0, 2_010_000.0 + 1_850_000.0),
            (spike, 47.0, 5_000.0, 3_860_000.0 + 50_000.0),
            (profile, 5.0, 90_000.0, 225_000.0),
            (profile, 10.0, 180_000.0, 900_000.0),
            (profile, 20.0, 0.0, 1_800_000.0),
            (profile, 100.0, 0.0, 1_800_000.0),
        ];
        for &(shape, t_s, rate, count) in rows {
            let got_rate = shape.rate_at(t_s).unwrap();
            let got_count = shape.expected_count(0.0, t_s).unwrap();
            assert!(
                (got_rate - rate).abs() < 1e-6,
                "{shape} at {t_s}: {got_rate}"
            );
            assert!(
                (got_count - count).abs() < 1e-6 * count.max(1.0),
                "{shape} to {t_s}: {got_count}"
            );
        }
        assert_eq!(small_ramp.expected_count(1.0, 3.0), Some(1_750.0));
        let peaks = [
            180_000.0, 180_000.0, 180_000.0, 120_000.0, 180_000.0, 180_000.0,
        ];
        for (shape, peak) in every_shape().iter().zip(peaks) {
            assert_eq!(shape.peak_rate(), Some(peak), "{shape}");
        }
        for shape in [&every_shape()[6], &every_shape()[7]] {
            assert_eq!(shape.rate_at(1.0), None);
            assert_eq!(shape.expected_count(0.0, 1.0), None);
            assert_eq!(shape.peak_rate(), None);
            assert_eq!(shape.arrival(), None);
        }
    }

    #[test]
    fn compact_forms_parse_to_shapes() {
        let rows: &[(&str, Shape)] = &[
            ("max", Shape::Max),
            ("constant:180k", Shape::Constant { rate: 180_000.0 }),
            ("poisson:180_000", Shape::Poisson { rate: 180_000.0 }),
            ("poisson:2.5k", Shape::Poisson { rate: 2_500.0 }),
            ("poisson:0.3k", Shape::Poisson { rate: 300.0 }),
            (
                "ramp:0..180000/2s",
                Shape::Ramp {
                    from: 0.0,
                    to: 180_000.0,
                    over_s: 2.0,
                    arrival: Arrival::Poisson,
                },
            ),
            (
                "ramp:10k..1k/300ms",
                Shape::Ramp {
                    from: 10_000.0,
                    to: 1_000.0,
                    over_s: 0.3,
                    arrival: Arrival::Poisson,
                },
            ),
            (
                "steps:60000@0s,120000@10s,180000@20s",
                Shape::Steps {
                    steps: vec![
                        point(0.0, 60_000.0),
                        point(10.0, 120_000.0),
                        point(20.0, 180_000.0),
                    ],
                    arrival: Arrival::Poisson,
                },
            ),
            (
                "spike:5000..180000@5s/2s/10s/20s",
                Shape::Spike {
                    base: 5_000.0,
                    peak: 180_000.0,
                    at_s: 5.0,
                    rise_s: 2.0,
                    hold_s: 10.0,
                    decay_s: 20.0,
                    arrival: Arrival::Poisson,
                },
            ),
            (
                "profile:0@0s,180k@10s,0@20s",
                Shape::Profile {
                    points: vec![point(0.0, 0.0), point(10.0, 180_000.0), point(20.0, 0.0)],
                    arrival: Arrival::Poisson,
                },
            ),
            (
                "trace:traces/a:b.csv",
                Shape::Trace {
                    file: PathBuf::from("traces/a:b.csv"),
                },
            ),
        ];
        for (text, expected) in rows {
            assert_eq!(text.parse::<Shape>().as_ref(), Ok(expected), "{text}");
        }
        // (text, what the message must contain: the expected form, or the field at fault)
        let bad: &[(&str, &str)] = &[
            ("sine:5", "expected one of max, constant:RATE"),
            ("", "names no shape"),
            ("max:5", "Expected max"),
            ("poisson", "Expected poisson:RATE, e.g. poisson:180k."),
            ("poisson:fast", "`fast` is not a rate"),
            ("poisson:k", "`k` is not a rate"),
            ("poisson:_", "`_` is not a rate"),
            ("poisson:0", "rate must be above zero"),
            ("poisson:1000000k", "rate must be at most 100,000,000/s"),
            (
                "ramp:0..180k",
                "Expected ramp:FROM..TO/OVER, e.g. ramp:0..180k/2s.",
            ),
            ("ramp:0-180k/2s", "Expected ramp:FROM..TO/OVER"),
            ("ramp:0..180k/2", "`2` is not a duration"),
            ("ramp:0..180k/0s", "over_s must be above zero"),
            ("steps:60k@0s,120k", "Expected steps:RATE@T,RATE@T,..."),
            ("steps:60k@10s,120k@5s", "steps[1].at_s must not be before"),
            (
                "spike:5k..180k@5s/2s/10s",
                "Expected spike:BASE..PEAK@AT/RISE/HOLD/DECAY",
            ),
            ("spike:180k..5k@5s/2s/10s/20s", "peak must be at least"),
            ("profile:1k@0s,2k@1h", "Expected profile:RATE@T,RATE@T,..."),
            ("trace:", "Expected trace:FILE"),
        ];
        for (text, expected) in bad {
            let message = text.parse::<Shape>().expect_err(text);
            assert!(message.contains(expected), "{text}: {message}");
            assert!(message.ends_with('.'), "{message}");
        }
    }

    #[test]
    fn arrival_is_set_where_a_shape_has_one() {
        let shapes = every_shape();
        let arrivals = [
            Some(Arrival::Constant),
            Some(Arrival::Poisson),
            Some(Arrival::Poisson),
            Some(Arrival::Constant),
            Some(Arrival::Poisson),
            Some(Arrival::Poisson),
            None,
            None,
        ];
        for (shape, arrival) in shapes.iter().zip(arrivals) {
            assert_eq!(shape.arrival(), arrival, "{shape}");
            for other in [Arrival::Constant, Arrival::Poisson] {
                let changed = shape.clone().with_arrival(other);
                assert_eq!(changed.arrival(), arrival.map(|_| other), "{shape}");
                assert_eq!(changed.peak_rate(), shape.peak_rate());
            }
        }
        assert!(Shape::Max.is_max());
        assert!(!shapes[0].is_max());
    }

    #[test]
    fn each_shape_reads_as_one_line() {
        let rows = [
            "constant 180,000/s",
            "poisson 180,000/s",
            "ramp 0 → 180,000/s over 2 s (Poisson)",
            "steps 60,000/s at 0 s, 120,000/s at 10 s (evenly spaced)",
            "spike 5,000 → 180,000/s at 5 s (rise 2 s, hold 10 s, decay 20 s, Poisson)",
            "profile of 3 points, peak 180,000/s (Poisson)",
            "trace replay of traces/black-friday.csv",
            "max (saturation)",
        ];
        for (shape, expected) in every_shape().iter().zip(rows) {
            assert_eq!(shape.to_string(), expected);
        }
        assert_eq!(Shape::Poisson { rate: 0.5 }.to_string(), "poisson 0.5/s");
        assert_eq!(
            Shape::Poisson { rate: 1_234_567.25 }.to_string(),
            "poisson 1,234,567.25/s"
        );
        let error = ShapeError::new("traffic.over_s", "must be above zero; it is 0");
        assert_eq!(
            error.to_string(),
            "traffic.over_s: must be above zero; it is 0"
        );
    }
}
