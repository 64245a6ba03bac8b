//! [`SearchArgs`]: the flags of `clearway search`; [`TrialArgs`], the flags of its trials, which
//! `clearway sweep` shares.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::constants::{
    SEARCH_DURATION_S_DEFAULT, SEARCH_MAX_PER_S_DEFAULT, SEARCH_MIN_PER_S_DEFAULT,
    SEARCH_PRECISION_DEFAULT, SEARCH_REPEATS_DEFAULT, SEARCH_START_PER_S_DEFAULT,
    SEARCH_WARMUP_S_DEFAULT,
};
use crate::run::args::parse_fraction;
use crate::slo::Gate;

/// `clearway search`: the sustainable throughput, the highest offered rate at which every gate
/// holds.
#[derive(clap::Args, Clone, Debug)]
pub struct SearchArgs {
    /// Search a node instead of the embedded switch: each trial is `clearway load --target
    /// ADDR` against a node already serving there.
    #[arg(long, value_name = "ADDR")]
    pub target: Option<String>,
    /// How each trial runs and is judged, how the search goes, and where it all goes.
    #[command(flatten)]
    pub trials: TrialArgs,
}

/// The flags of trials, the same for `clearway search` and `clearway sweep`: the scenario and
/// gates, each trial's window, the search's bounds, and where the results go.
#[derive(clap::Args, Clone, Debug)]
pub struct TrialArgs {
    /// The scenario each trial plays (its traffic replaced by a steady rate), by file or built-in
    /// name; by default steady.
    #[arg(long)]
    pub scenario: Option<String>,
    /// A gate every trial must pass, e.g. `p99<5ms`; repeat for more. Replaces the scenario's
    /// gates; with neither, `p99<100ms` and `error_rate<0.1%`.
    #[arg(long = "slo", value_name = "GATE")]
    pub slo: Vec<Gate>,
    /// Seconds each trial measures, after its warm-up.
    #[arg(long, default_value_t = SEARCH_DURATION_S_DEFAULT)]
    pub duration: f64,
    /// Seconds of warm-up before each trial's measured window.
    #[arg(long, default_value_t = SEARCH_WARMUP_S_DEFAULT)]
    pub warmup: f64,
    /// Trials at each rate; a rate holds only when every one passes.
    #[arg(long, default_value_t = SEARCH_REPEATS_DEFAULT)]
    pub repeats: usize,
    /// The first rate tried, payments/s.
    #[arg(long, default_value_t = SEARCH_START_PER_S_DEFAULT, value_parser = parse_per_s)]
    pub start: f64,
    /// The lowest rate tried before the search gives up.
    #[arg(long, default_value_t = SEARCH_MIN_PER_S_DEFAULT, value_parser = parse_per_s)]
    pub min_rate: f64,
    /// The highest rate tried before the search stops with no failure found.
    #[arg(long, default_value_t = SEARCH_MAX_PER_S_DEFAULT, value_parser = parse_per_s)]
    pub max_rate: f64,
    /// Stop when the lowest failing rate is within this share of the highest holding one: `5%`
    /// or `0.05`.
    #[arg(long, default_value_t = SEARCH_PRECISION_DEFAULT, value_parser = parse_fraction)]
    pub precision: f64,
    /// The share of planned payments a trial's generator may send late or not at all before the
    /// trial is invalid (and so fails): 1% unless given.
    #[arg(long, value_parser = parse_fraction)]
    pub late_fraction_max: Option<f64>,
    /// Run every trial on the first N cores only (through `taskset`), as a node with N cores
    /// would.
    #[arg(long, value_name = "N")]
    pub cores: Option<usize>,
    /// Folder for the answer (search.json, or the sweep's files) and each trial's results folder
    /// (under trials/); by default a fresh folder under the system's temporary directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write the answer as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Flags for every trial's `clearway run` (or `clearway load` with `--target`), after `--`:
    /// e.g. `-- --workers 2 --mac none`.
    #[arg(last = true, value_name = "TRIAL FLAGS")]
    pub trial_flags: Vec<OsString>,
}

/// The flags a search (or a sweep) sets on each trial itself: given after `--` they would
/// contradict it.
pub const FLAGS_SEARCH_SETS: [&str; 10] = [
    "--rate",
    "--shape",
    "--duration",
    "--warmup",
    "--scenario",
    "--slo",
    "--late-fraction-max",
    "--target",
    "--out",
    "--json",
];

/// `120000`, `120_000`, `120k`, `1.2M` → payments/s, above 0.
pub fn parse_per_s(text: &str) -> Result<f64, String> {
    let cleaned = text.trim().replace('_', "");
    let (number, scale) = match cleaned.strip_suffix(['k', 'K']) {
        Some(number) => (number.to_string(), 1e3),
        None => match cleaned.strip_suffix('M') {
            Some(number) => (number.to_string(), 1e6),
            None => (cleaned.clone(), 1.0),
        },
    };
    match number.parse::<f64>() {
        Ok(value) if value > 0.0 && (value * scale).is_finite() => Ok(value * scale),
        _ => Err(format!(
            "{text:?} is not a rate: expected payments per second above 0, such as 120000, \
             120k or 1.2M"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_with_and_without_suffixes() {
        for (text, rate) in [
            ("120000", 120_000.0),
            ("120_000", 120_000.0),
            ("120k", 120_000.0),
            ("1.2M", 1_200_000.0),
            ("2.5", 2.5),
        ] {
            assert_eq!(parse_per_s(text), Ok(rate), "{text}");
        }
        for text in ["", "0", "-5", "max", "1e400", "12q"] {
            assert!(parse_per_s(text).is_err(), "{text}");
        }
    }
}
