//! [`PlanArgs`]: `clearway plan`'s command line, and the parsers of its numbers.

use std::path::PathBuf;

use clap::Args;

use super::sizing::Survive;
use crate::constants::UTILIZATION_CEILING_DEFAULT;

/// `clearway plan`: how many nodes, in how many sites, carry a peak through a failure.
#[derive(Args, Clone, Debug)]
pub struct PlanArgs {
    /// Payments per second the platform must carry at its peak: `180000`, `180k`, `1.2M`.
    #[arg(long, value_parser = parse_per_s)]
    pub peak: f64,
    /// Growth expected before the next sizing, as a multiplier of the peak: 2.0 plans for twice
    /// `--peak`.
    #[arg(long, default_value = "1.0", value_parser = parse_growth)]
    pub growth: f64,
    /// One node's sustainable throughput: a rate (`50000`, `50k`), or a JSON file written by
    /// `clearway search` (`sustainable_per_s`), `clearway sweep` (`best.throughput_per_s` and
    /// `mode`), `clearway usl --json` (`x_max`) or a run's summary.json (`throughput_per_s`).
    #[arg(long, value_name = "RATE|FILE")]
    pub per_node: String,
    /// Sites (data centres); every site runs the same number of nodes.
    #[arg(long, default_value_t = 1)]
    pub sites: u32,
    /// Cities the sites are spread over, evenly: each city holds ⌊sites/cities⌋ or
    /// ⌈sites/cities⌉ of them.
    #[arg(long, default_value_t = 1)]
    pub cities: u32,
    /// The failure the plan must survive with every node at or below the ceiling: nothing, a
    /// node, a whole site, or a whole city (the largest).
    #[arg(long, value_enum, default_value_t = Survive::Node)]
    pub survive: Survive,
    /// The share of its sustainable throughput a node may carry at peak: `0.7` or `70%`, above 0
    /// and at most 1 (docs/CAPACITY.md says why 0.7).
    #[arg(long, default_value_t = UTILIZATION_CEILING_DEFAULT, value_parser = parse_ceiling)]
    pub ceiling: f64,
    /// One more node per site on top, for maintenance: a node out for an upgrade while the
    /// survived failure happens.
    #[arg(long)]
    pub n_plus_one: bool,
    /// Also write the plan as JSON (docs/OUTPUT.md) to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// `180000`, `180_000`, `180k`, `1.2M` → payments per second, finite and above 0.
pub(crate) fn parse_per_s(text: &str) -> Result<f64, String> {
    let trimmed = text.trim().replace('_', "");
    let (number, scale) = if let Some(number) = trimmed.strip_suffix(['k', 'K']) {
        (number, 1e3)
    } else if let Some(number) = trimmed.strip_suffix('M') {
        (number, 1e6)
    } else {
        (trimmed.as_str(), 1.0)
    };
    match number.parse::<f64>() {
        Ok(value) if value > 0.0 && (value * scale).is_finite() => Ok(value * scale),
        _ => Err(format!(
            "{text:?} is not a rate: expected payments per second above 0, such as 180000, 180k \
             or 1.2M"
        )),
    }
}

/// `2.0` → 2.0; a multiplier above 0.
fn parse_growth(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if value > 0.0 && value.is_finite() => Ok(value),
        _ => Err(format!(
            "{text:?} is not a growth factor: expected a multiplier above 0, such as 1.0 or 2.0"
        )),
    }
}

/// `0.7` or `70%` → 0.7; above 0 and at most 1.
fn parse_ceiling(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.trim().strip_suffix('%') {
        Some(percent) => (percent.trim(), 100.0),
        None => (text.trim(), 1.0),
    };
    match number.parse::<f64>() {
        Ok(value) if value / scale > 0.0 && value / scale <= 1.0 => Ok(value / scale),
        _ => Err(format!(
            "{text:?} is not a ceiling: expected a share above 0 and at most 1, such as 0.7 or 70%"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_take_suffixes_and_refuse_the_rest() {
        let rows: [(&str, Option<f64>); 12] = [
            ("180000", Some(180_000.0)),
            ("180_000", Some(180_000.0)),
            ("180k", Some(180_000.0)),
            ("180K", Some(180_000.0)),
            ("1.2M", Some(1_200_000.0)),
            (" 50000.5 ", Some(50_000.5)),
            ("0", None),
            ("-5", None),
            ("k", None),
            ("1e400", None),
            ("NaN", None),
            ("fast", None),
        ];
        for (text, expected) in rows {
            assert_eq!(parse_per_s(text).ok(), expected, "{text}");
        }
    }

    #[test]
    fn ceilings_take_fractions_and_percentages_within_zero_and_one() {
        let rows: [(&str, Option<f64>); 9] = [
            ("0.7", Some(0.7)),
            ("70%", Some(0.7)),
            ("1", Some(1.0)),
            ("100%", Some(1.0)),
            ("0", None),
            ("0%", None),
            ("1.01", None),
            ("-0.5", None),
            ("NaN", None),
        ];
        for (text, expected) in rows {
            assert_eq!(parse_ceiling(text).ok(), expected, "{text}");
        }
    }

    #[test]
    fn growth_is_a_positive_finite_multiplier() {
        assert_eq!(parse_growth("2.0"), Ok(2.0));
        for text in ["0", "-1", "inf", "NaN", "twice"] {
            assert!(parse_growth(text).is_err(), "{text}");
        }
    }
}
