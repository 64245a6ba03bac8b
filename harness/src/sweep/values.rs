//! [`Vary`] and [`parse_values`]: what a sweep varies, and the values it takes.

use std::ffi::OsString;

/// What a sweep varies, one at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Vary {
    /// Authorize workers (`--workers`).
    Workers,
    /// Cores the run may use (each run under `taskset`; `auto` lays the switch out for them).
    Cores,
    /// Producer threads (`--producers`).
    Producers,
    /// Slots in the ring (`--ring-capacity`).
    Ring,
    /// The batch limit (`--batch-size-max`).
    Batch,
    /// The topology (`--topology`: `auto`, `fused`, `pipelined` or a file).
    Topology,
    /// The offered rate (`--rate`): throughput and latency against load.
    Rate,
}

impl Vary {
    /// Its name, as the flag and the files say it.
    pub fn name(self) -> &'static str {
        match self {
            Vary::Workers => "workers",
            Vary::Cores => "cores",
            Vary::Producers => "producers",
            Vary::Ring => "ring",
            Vary::Batch => "batch",
            Vary::Topology => "topology",
            Vary::Rate => "rate",
        }
    }

    /// Whether its values are counts of parallel units, so that the Universal Scalability Law
    /// fits throughput against them.
    pub fn scales(self) -> bool {
        matches!(self, Vary::Workers | Vary::Cores | Vary::Producers)
    }

    /// Whether its values are numbers.
    pub fn numeric(self) -> bool {
        self != Vary::Topology
    }

    /// The run flags that set `value` (none for cores: those are the process's).
    pub fn flags(self, value: &str) -> Vec<OsString> {
        let flag = match self {
            Vary::Workers => "--workers",
            Vary::Cores => return Vec::new(),
            Vary::Producers => "--producers",
            Vary::Ring => "--ring-capacity",
            Vary::Batch => "--batch-size-max",
            Vary::Topology => "--topology",
            Vary::Rate => "--rate",
        };
        vec![flag.into(), value.into()]
    }
}

/// The values of `--values`: a list (`1,2,4,8`, or `auto,fused` for topologies), a range with
/// step 1 (`1..8`), a range with a step (`1..16:3`), or a range that multiplies (`1024..65536*2`).
/// Numbers are whole and at least 1 except for a rate; the list holds at most `limit` values.
pub fn parse_values(vary: Vary, text: &str, limit: usize) -> Result<Vec<String>, String> {
    let text = text.trim();
    let values: Vec<String> = if !vary.numeric() || text.contains(',') || !text.contains("..") {
        text.split(',')
            .map(|value| value.trim().to_string())
            .collect()
    } else {
        range(text)?
            .into_iter()
            .map(|value| value.to_string())
            .collect()
    };
    if values.iter().any(String::is_empty) {
        return Err(format!("--values {text:?} has an empty value"));
    }
    if values.len() > limit {
        return Err(format!(
            "--values {text:?} names {} values, more than the {limit} a sweep takes",
            values.len()
        ));
    }
    if vary.numeric() {
        for value in &values {
            let number: f64 = value.replace('_', "").parse().map_err(|_| {
                format!(
                    "--values: {value:?} is not a number, which --vary {} needs",
                    vary.name()
                )
            })?;
            let whole = vary != Vary::Rate;
            if !(number.is_finite() && number > 0.0) || (whole && (number.fract() != 0.0)) {
                return Err(format!(
                    "--values: {value:?} is not {} for --vary {}",
                    if whole {
                        "a whole number of at least 1"
                    } else {
                        "a rate above 0"
                    },
                    vary.name()
                ));
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(repeated) = values.iter().find(|value| !seen.insert(value.as_str())) {
        return Err(format!("--values names {repeated} twice"));
    }
    Ok(values)
}

/// `A..B`, `A..B:STEP` or `A..B*FACTOR`, both ends included.
fn range(text: &str) -> Result<Vec<u64>, String> {
    let bad = || {
        format!("--values {text:?} is not a range: expected A..B, A..B:STEP or A..B*FACTOR of whole numbers")
    };
    let (from, rest) = text.split_once("..").ok_or_else(bad)?;
    let (to, step, multiply) = if let Some((to, step)) = rest.split_once(':') {
        (to, step, false)
    } else if let Some((to, factor)) = rest.split_once('*') {
        (to, factor, true)
    } else {
        (rest, "1", false)
    };
    let number = |part: &str| {
        part.trim()
            .replace('_', "")
            .parse::<u64>()
            .map_err(|_| bad())
    };
    let (from, to, step) = (number(from)?, number(to)?, number(step)?);
    if from == 0 || to < from || step == 0 || (multiply && step < 2) {
        return Err(bad());
    }
    let mut values = Vec::new();
    let mut value = from;
    while value <= to {
        values.push(value);
        value = if multiply {
            value.saturating_mul(step)
        } else {
            value.saturating_add(step)
        };
        if values.len() > 10_000 {
            break;
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges_read_as_their_values() {
        let cases: [(Vary, &str, &[&str]); 7] = [
            (Vary::Workers, "1,2,4,8", &["1", "2", "4", "8"]),
            (Vary::Workers, "1..6", &["1", "2", "3", "4", "5", "6"]),
            (Vary::Cores, "1..16:5", &["1", "6", "11", "16"]),
            (
                Vary::Ring,
                "1024..16384*2",
                &["1024", "2048", "4096", "8192", "16384"],
            ),
            (
                Vary::Topology,
                "auto, fused,topologies/a.toml",
                &["auto", "fused", "topologies/a.toml"],
            ),
            (Vary::Rate, "5000,7500.5", &["5000", "7500.5"]),
            (Vary::Batch, "64", &["64"]),
        ];
        for (vary, text, values) in cases {
            assert_eq!(parse_values(vary, text, 64).unwrap(), values, "{text}");
        }
    }

    #[test]
    fn values_a_sweep_cannot_run_are_refused_by_name() {
        let cases: [(Vary, &str, &str); 9] = [
            (Vary::Workers, "0,1", "at least 1"),
            (Vary::Workers, "1.5", "whole"),
            (Vary::Workers, "two", "not a number"),
            (Vary::Workers, "1,,2", "empty"),
            (Vary::Workers, "6..1", "not a range"),
            (Vary::Ring, "1024..4096*1", "not a range"),
            (Vary::Workers, "1,2,1", "twice"),
            (Vary::Rate, "-5", "above 0"),
            (Vary::Workers, "1..100", "more than the 64"),
        ];
        for (vary, text, named) in cases {
            let error = parse_values(vary, text, 64).unwrap_err();
            assert!(error.contains(named), "{text}: {error} should say {named}");
        }
    }

    #[test]
    fn each_kind_sets_its_own_flag() {
        assert_eq!(Vary::Workers.flags("3"), ["--workers", "3"]);
        assert_eq!(Vary::Ring.flags("4096"), ["--ring-capacity", "4096"]);
        assert!(Vary::Cores.flags("3").is_empty());
        assert!(Vary::Cores.scales() && !Vary::Ring.scales() && !Vary::Topology.numeric());
    }
}
