//! [`Scenario`]: what a scenario file says, field by field. Every field is optional: what a
//! scenario leaves out, the command line or the defaults decide.

use std::path::{Path, PathBuf};

use clearway_loadgen::{BankConfig, Shape, WorkloadConfig};
use serde::{Deserialize, Serialize};

use super::incident::Incident;
use crate::slo::Gate;

/// The scenarios built into the binary, by name, as shipped in `scenarios/`: `clearway run
/// --scenario double11` works from any folder.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("steady", include_str!("../../../scenarios/steady.toml")),
    ("double11", include_str!("../../../scenarios/double11.toml")),
    (
        "spring-festival-eve",
        include_str!("../../../scenarios/spring-festival-eve.toml"),
    ),
    (
        "bank-outage",
        include_str!("../../../scenarios/bank-outage.toml"),
    ),
    (
        "liquidity-squeeze",
        include_str!("../../../scenarios/liquidity-squeeze.toml"),
    ),
    ("soak", include_str!("../../../scenarios/soak.toml")),
    (
        "long-memory",
        include_str!("../../../scenarios/long-memory.toml"),
    ),
];

/// A scenario file (docs/SCENARIOS.md). Unknown fields are refused by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Its name, as reports show it; by default the file's stem.
    pub name: Option<String>,
    /// What it models, in a sentence or two.
    pub description: Option<String>,
    /// Seeds the workload, the banks and the generated network.
    pub seed: Option<u64>,
    /// Seconds of load that are measured, after the warm-up.
    pub duration_s: Option<f64>,
    /// Seconds of load before the measured window, excluded from every figure but the payments'
    /// accounting.
    pub warmup_s: Option<f64>,
    /// The traffic shape: how the offered rate moves over the load.
    pub traffic: Option<Shape>,
    /// SLO gates, e.g. `["p99<2ms", "error_rate<0.1%"]`.
    pub slo: Option<Vec<Gate>>,
    /// How the switch is laid out and set.
    pub switch: Option<SwitchSection>,
    /// The simulated banks.
    pub banks: Option<BankConfig>,
    /// What the institutions send (kind mix, amounts, skew, faults); the rate is `[traffic]`'s.
    pub workload: Option<WorkloadConfig>,
    /// The network, and changes to it.
    pub network: Option<NetworkSection>,
    /// Operator events at set moments.
    pub incidents: Option<Vec<Incident>>,
}

/// `[switch]`: the switch's settings, as `clearway run`'s flags of the same names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchSection {
    /// `auto`, `fused`, `pipelined` or a topology file.
    pub topology: Option<String>,
    /// Authorize workers.
    pub workers: Option<usize>,
    /// Producer threads.
    pub producers: Option<usize>,
    /// `ring` or `channel`.
    pub transport: Option<String>,
    /// `hmac` or `none`.
    pub mac: Option<String>,
    /// Milliseconds between cutovers.
    pub cutover_ms: Option<u64>,
    /// Milliseconds a payment may wait for its bank.
    pub bank_timeout_ms: Option<u64>,
    /// How long a decided payment is remembered: `90s`, `10m`, `24h`, `30d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<String>,
}

/// `[network]`: which network, and the caps a scenario changes in it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSection {
    /// A participants and BIN table file (docs/CONFIG.md), relative to the scenario's folder.
    pub config: Option<PathBuf>,
    /// Caps set for this scenario.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caps: Vec<Cap>,
}

/// A participant's cap (the most it may owe, fen) set for a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cap {
    /// The participant's id.
    pub participant: u16,
    /// Its cap, fen.
    pub cap_fen: u64,
}

impl Scenario {
    /// Parses a scenario; the error names the field and the reason (and the line, for syntax).
    pub fn parse(text: &str) -> Result<Scenario, String> {
        toml::from_str(text).map_err(|error| {
            // toml's message spans several lines with a caret under the field; keep them.
            error.to_string().trim_end().to_string()
        })
    }

    /// The scenario `name_or_path` names: a file, or failing that a built-in scenario's name.
    /// Returns the scenario, its name, and the folder relative paths in it start from.
    pub fn find(name_or_path: &str) -> Result<(Scenario, String, PathBuf), String> {
        let path = Path::new(name_or_path);
        if path.exists() {
            let text = std::fs::read_to_string(path)
                .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
            let scenario =
                Scenario::parse(&text).map_err(|error| format!("{}: {error}", path.display()))?;
            let stem = path.file_stem().map_or(name_or_path.to_string(), |stem| {
                stem.to_string_lossy().to_string()
            });
            let name = scenario.name.clone().unwrap_or(stem);
            let folder = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
            return Ok((scenario, name, folder));
        }
        match BUILT_IN.iter().find(|(name, _)| *name == name_or_path) {
            Some((name, text)) => {
                let scenario = Scenario::parse(text)
                    .map_err(|error| format!("built-in scenario {name}: {error}"))?;
                Ok((scenario, name.to_string(), PathBuf::from("scenarios")))
            }
            None => Err(format!(
                "no scenario file {name_or_path:?}, and no built-in scenario of that name (built \
                 in: {})",
                BUILT_IN
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// As TOML, as `--out` writes the resolved scenario.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a scenario serialises to TOML")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_scenario_parses_and_names_itself() {
        for (name, text) in BUILT_IN {
            let scenario = Scenario::parse(text).unwrap_or_else(|error| panic!("{name}: {error}"));
            assert_eq!(scenario.name.as_deref(), Some(*name));
            assert!(scenario.description.is_some(), "{name}");
            let traffic = scenario.traffic.as_ref().expect("a traffic shape");
            traffic
                .validate()
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            let again = Scenario::parse(&scenario.to_toml()).unwrap();
            assert_eq!(again, scenario, "{name} round-trips through TOML");
        }
    }

    #[test]
    fn refusals_name_the_field() {
        // (scenario text, a fragment the refusal must contain)
        let rows: &[(&str, &str)] = &[
            ("durration_s = 5", "durration_s"),
            ("duration_s = \"five\"", "duration_s"),
            ("[switch]\nworkerz = 2", "workerz"),
            ("[traffic]\nshape = \"zigzag\"", "zigzag"),
            ("slo = [\"p99<2\"]", "slo"),
            (
                "[[incidents]]\nat_s = 1\nbank = 1001\nlinks = \"sideways\"",
                "sideways",
            ),
            ("[network]\ncaps = [{ participant = 1 }]", "cap_fen"),
        ];
        for (text, fragment) in rows {
            let error = Scenario::parse(text).unwrap_err();
            assert!(error.contains(fragment), "{text:?}: {error}");
        }
    }

    #[test]
    fn a_scenario_is_found_by_path_or_by_built_in_name() {
        let (scenario, name, folder) = Scenario::find("double11").unwrap();
        assert_eq!(name, "double11");
        assert_eq!(folder, PathBuf::from("scenarios"));
        assert!(scenario.traffic.is_some());
        let error = Scenario::find("no-such-scenario").unwrap_err();
        assert!(error.contains("steady"), "{error}");
    }
}
