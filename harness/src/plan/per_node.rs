//! [`PerNode`]: one node's sustainable throughput, as `--per-node` gives it: a rate on the
//! command line, or read from the JSON a measuring command wrote, recognised by its fields.
//!
//! | field | written by | what it is | warning |
//! | --- | --- | --- | --- |
//! | `sustainable_per_s` | `clearway search` | the highest offered rate at which every SLO held (`null`: none did, refused) | none |
//! | `best.throughput_per_s` with `mode` | `clearway sweep` | the best point measured; `mode` is `sustainable` or `saturation` | saturation is not sustainable |
//! | `x_max` | `clearway usl --json` | the peak the fitted model predicts | a prediction, not a measurement |
//! | `throughput_per_s` | a run's `summary.json` | what one run at one fixed rate carried | not a searched rate |
//!
//! The first field found, in that order, decides. A file with none of them is refused.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::args::parse_per_s;
use crate::exit::Failure;

/// The fields looked for, in order, as the refusal of a file without any names them.
const FIELDS_LOOKED_FOR: &str = "sustainable_per_s (clearway search), best.throughput_per_s \
                                 with mode (clearway sweep), x_max (clearway usl --json) or \
                                 throughput_per_s (a run's summary.json)";

/// What kind of figure `--per-node` was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PerNodeKind {
    /// A rate on the command line.
    Given,
    /// `clearway search`'s `sustainable_per_s`.
    Search,
    /// `clearway sweep`'s best point, in `sustainable` mode.
    SweepSustainable,
    /// `clearway sweep`'s best point, in `saturation` mode: optimistic.
    SweepSaturation,
    /// `clearway usl --json`'s `x_max`: a model's prediction.
    Usl,
    /// One run's `throughput_per_s`.
    Run,
}

/// One node's throughput and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct PerNode {
    /// Payments per second, finite and above 0.
    pub per_s: f64,
    /// What kind of figure it is.
    pub kind: PerNodeKind,
    /// Where it came from, in words: the file and field, or the command line.
    pub source: String,
    /// What the planner should know about the figure: empty for a searched or given one.
    pub warnings: Vec<String>,
}

/// `--per-node`: a rate (`50000`, `50k`), or else a file to read. A file that cannot be read or
/// holds no usable figure is exit 3; text that looks like a number but is neither a rate nor a
/// file is exit 2.
pub fn read(argument: &str) -> Result<PerNode, Failure> {
    if let Ok(per_s) = parse_per_s(argument) {
        return Ok(PerNode {
            per_s,
            kind: PerNodeKind::Given,
            source: "the command line".to_string(),
            warnings: Vec::new(),
        });
    }
    let path = Path::new(argument);
    let looks_numeric = argument
        .trim_start()
        .starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'));
    if looks_numeric && !path.exists() {
        return Err(Failure::usage(format!(
            "--per-node {argument:?} is neither a rate (payments per second above 0, such as \
             50000 or 50k) nor a file"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|error| {
        Failure::unreadable(format!("cannot read --per-node {argument}: {error}"))
    })?;
    from_json(&text, argument)
        .map_err(|reason| Failure::unreadable(format!("{argument}: {reason}")))
}

/// The figure in `text`, a JSON file named `file`, or why it gives none.
pub fn from_json(text: &str, file: &str) -> Result<PerNode, String> {
    let value: Value = serde_json::from_str(text).map_err(|error| format!("not JSON: {error}"))?;
    if let Some(sustainable) = value.get("sustainable_per_s") {
        if sustainable.is_null() {
            return Err(
                "sustainable_per_s is null: the search found no rate at which every SLO \
                        held, so there is no sustainable throughput to plan with"
                    .to_string(),
            );
        }
        return Ok(PerNode {
            per_s: rate(sustainable, "sustainable_per_s")?,
            kind: PerNodeKind::Search,
            source: format!(
                "{file}: sustainable_per_s (clearway search: the highest offered rate at which \
                 every SLO held)"
            ),
            warnings: Vec::new(),
        });
    }
    if let (Some(best), Some(mode)) = (value.get("best"), value.get("mode")) {
        return from_sweep(best, mode, file);
    }
    if let Some(x_max) = value.get("x_max") {
        return Ok(PerNode {
            per_s: rate(x_max, "x_max")?,
            kind: PerNodeKind::Usl,
            source: format!("{file}: x_max (clearway usl: the fitted model's predicted peak)"),
            warnings: vec![format!(
                "the per-node figure is x_max, the peak the Universal Scalability Law fit \
                 predicts, not a measured sustainable rate: confirm it with clearway search"
            )],
        });
    }
    if let Some(throughput) = value.get("throughput_per_s") {
        let mut warnings = vec![format!(
            "the per-node figure is one run's throughput_per_s at a fixed offered rate, not a \
             searched sustainable rate: it says what that run carried, not the most a node \
             carries with every SLO held"
        )];
        if value.get("valid") == Some(&Value::Bool(false)) {
            warnings.push(
                "that run was invalid (its load generator fell behind): its figures describe \
                 the generator"
                    .to_string(),
            );
        }
        if value.get("slo_passed") == Some(&Value::Bool(false)) {
            warnings.push(
                "that run failed an SLO gate: its throughput was not sustainable".to_string(),
            );
        }
        return Ok(PerNode {
            per_s: rate(throughput, "throughput_per_s")?,
            kind: PerNodeKind::Run,
            source: format!(
                "{file}: throughput_per_s (one run's summary, at a fixed offered rate)"
            ),
            warnings,
        });
    }
    Err(format!(
        "no per-node figure found: looked for {FIELDS_LOOKED_FOR}"
    ))
}

/// A `clearway sweep` result: its best point's throughput, judged by its mode.
fn from_sweep(best: &Value, mode: &Value, file: &str) -> Result<PerNode, String> {
    let throughput = best.get("throughput_per_s").ok_or_else(|| {
        "a sweep (it has best and mode) whose best has no throughput_per_s: the sweep found no \
         best point"
            .to_string()
    })?;
    let per_s = rate(throughput, "best.throughput_per_s")?;
    match mode.as_str() {
        Some("sustainable") => Ok(PerNode {
            per_s,
            kind: PerNodeKind::SweepSustainable,
            source: format!(
                "{file}: best.throughput_per_s (clearway sweep, sustainable mode: the best point \
                 measured)"
            ),
            warnings: Vec::new(),
        }),
        Some("saturation") => Ok(PerNode {
            per_s,
            kind: PerNodeKind::SweepSaturation,
            source: format!(
                "{file}: best.throughput_per_s (clearway sweep, saturation mode: not sustainable)"
            ),
            warnings: vec![
                "the per-node figure is saturation throughput, which is not sustainable: \
                 latency at that rate grows without bound, so this plan is optimistic (use \
                 clearway search or a sustainable sweep)"
                    .to_string(),
            ],
        }),
        _ => Err(format!(
            "a sweep whose mode is {mode}: expected \"sustainable\" or \"saturation\""
        )),
    }
}

/// `value` as payments per second: a finite number above 0.
fn rate(value: &Value, field: &str) -> Result<f64, String> {
    match value.as_f64() {
        Some(per_s) if per_s > 0.0 && per_s.is_finite() => Ok(per_s),
        _ => Err(format!(
            "{field} is {value}, not a rate: expected payments per second above 0"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_file_gives_its_figure_source_and_warnings() {
        // (JSON, per second, kind, source contains, warnings, a warning contains)
        let rows = [
            (
                r#"{"sustainable_per_s": 50000.0, "x_max": 90000}"#,
                50_000.0,
                PerNodeKind::Search,
                "sustainable_per_s",
                0,
                "",
            ),
            (
                r#"{"mode": "sustainable", "best": {"throughput_per_s": 48000}}"#,
                48_000.0,
                PerNodeKind::SweepSustainable,
                "sustainable mode",
                0,
                "",
            ),
            (
                r#"{"mode": "saturation", "best": {"throughput_per_s": 61000.5}}"#,
                61_000.5,
                PerNodeKind::SweepSaturation,
                "saturation mode",
                1,
                "not sustainable",
            ),
            (
                r#"{"x_max": 72000, "sigma": 0.02, "kappa": 0.0001}"#,
                72_000.0,
                PerNodeKind::Usl,
                "x_max",
                1,
                "predicts",
            ),
            (
                r#"{"throughput_per_s": 40000, "offered_per_s": 40100, "valid": true}"#,
                40_000.0,
                PerNodeKind::Run,
                "throughput_per_s",
                1,
                "not a searched sustainable rate",
            ),
            (
                r#"{"throughput_per_s": 40000, "valid": false, "slo_passed": false}"#,
                40_000.0,
                PerNodeKind::Run,
                "throughput_per_s",
                3,
                "failed an SLO gate",
            ),
        ];
        for (json, per_s, kind, source, warnings, warning) in rows {
            let per_node = from_json(json, "node.json").unwrap();
            assert_eq!(per_node.per_s, per_s, "{json}");
            assert_eq!(per_node.kind, kind, "{json}");
            assert!(per_node.source.starts_with("node.json: "), "{json}");
            assert!(per_node.source.contains(source), "{json}");
            assert_eq!(per_node.warnings.len(), warnings, "{json}");
            assert!(
                per_node.warnings.iter().any(|text| text.contains(warning)) || warnings == 0,
                "{json}: {:?}",
                per_node.warnings
            );
        }
    }

    #[test]
    fn refused_files_say_why() {
        let rows = [
            (r#"{"sustainable_per_s": null}"#, "found no rate"),
            (r#"{"sustainable_per_s": 0}"#, "not a rate"),
            (r#"{"sustainable_per_s": "fast"}"#, "not a rate"),
            (r#"{"mode": "saturation", "best": null}"#, "no best point"),
            (
                r#"{"mode": "peak", "best": {"throughput_per_s": 1}}"#,
                "expected \"sustainable\"",
            ),
            (r#"{"x_max": -3}"#, "not a rate"),
            (r#"{"rate": 50000}"#, "looked for sustainable_per_s"),
            (r#"[50000]"#, "best.throughput_per_s with mode"),
            (r#"50000"#, "x_max"),
            ("{", "not JSON"),
        ];
        for (json, reason) in rows {
            let refused = from_json(json, "node.json").unwrap_err();
            assert!(refused.contains(reason), "{json}: {refused}");
        }
    }

    #[test]
    fn a_rate_on_the_command_line_is_given() {
        let per_node = read("50k").unwrap();
        assert_eq!(per_node.per_s, 50_000.0);
        assert_eq!(per_node.kind, PerNodeKind::Given);
        assert!(per_node.warnings.is_empty());
        assert_eq!(read("-5").unwrap_err().code, crate::exit::USAGE);
        assert_eq!(
            read("/nonexistent/clearway/search.json").unwrap_err().code,
            crate::exit::UNREADABLE
        );
    }
}
