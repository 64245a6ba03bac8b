//! [`PlanSummary`]: what `clearway plan` answers, printed for a capacity planner (the inputs, a
//! paragraph of reasoning, the formula with its numbers, a table of utilizations) and written
//! as JSON (docs/OUTPUT.md).

use std::fmt;

use serde::Serialize;

use super::per_node::{PerNode, PerNodeKind};
use super::sizing::{Case, Demand, Load, Sizing, State, Survive};
use crate::run::summary::thousands;

/// The printed plan's line width, in characters.
const WIDTH: usize = 96;

/// A plan (docs/OUTPUT.md, "`clearway plan`").
#[derive(Clone, Debug, Serialize)]
pub struct PlanSummary {
    /// Always `plan`.
    pub command: &'static str,
    /// `--peak`, payments per second.
    pub peak_per_s: f64,
    /// `--growth`.
    pub growth: f64,
    /// peak × growth: what the plan carries.
    pub load_per_s: f64,
    /// One node's sustainable throughput, payments per second.
    pub per_node_per_s: f64,
    /// Where it came from, in words.
    pub per_node_source: String,
    /// What kind of figure it is.
    pub per_node_kind: PerNodeKind,
    /// `--ceiling`.
    pub ceiling: f64,
    /// `--sites`.
    pub sites: u32,
    /// `--cities`.
    pub cities: u32,
    /// Sites in each city.
    pub sites_per_city: Vec<u32>,
    /// `--survive`.
    pub survive: Survive,
    /// Sites left after the survived failure.
    pub remaining_sites: u32,
    /// `--n-plus-one`.
    pub n_plus_one: bool,
    /// peak × growth ÷ (remaining sites × per node × ceiling), before rounding up.
    pub nodes_quotient: f64,
    /// The quotient rounded up, before the extra nodes for a node's loss and maintenance.
    pub nodes_base: u64,
    /// Nodes in every site.
    pub nodes_per_site: u64,
    /// Nodes in all sites.
    pub nodes_total: u64,
    /// Each node's utilization at peak × growth with every node up.
    pub utilization: f64,
    /// The worst node's utilization at peak × growth after the failure; `None` for `none`.
    pub utilization_after_failure: Option<f64>,
    /// The worst node's utilization after the failure with one node per site in maintenance;
    /// `None` without `--n-plus-one`.
    pub utilization_in_maintenance: Option<f64>,
    /// 1/(1 − `utilization`).
    pub wait_factor: Option<f64>,
    /// 1/(1 − `utilization_after_failure`).
    pub wait_factor_after_failure: Option<f64>,
    /// Every row of the table, at peak × growth and (when growth ≠ 1) at the peak alone.
    pub cases: Vec<Case>,
    /// What the planner should know: a per-node figure that is not a searched sustainable rate,
    /// a plan that survives nothing.
    pub warnings: Vec<String>,
}

impl PlanSummary {
    /// The summary of `sizing`, planned for `demand` with `per_node`.
    pub fn new(demand: &Demand, per_node: PerNode, sizing: Sizing) -> PlanSummary {
        let planned = |state| sizing.case(state, Load::Planned).copied();
        let normal = planned(State::Normal);
        let after_failure = planned(State::AfterFailure);
        let mut warnings = per_node.warnings;
        if demand.survive == Survive::None {
            warnings.push(
                "the plan survives no failure (--survive none): with any node down, the others \
                 may run above the ceiling"
                    .to_string(),
            );
        }
        PlanSummary {
            command: "plan",
            peak_per_s: demand.peak_per_s,
            growth: demand.growth,
            load_per_s: demand.load_per_s(),
            per_node_per_s: demand.per_node_per_s,
            per_node_source: per_node.source,
            per_node_kind: per_node.kind,
            ceiling: demand.ceiling,
            sites: demand.sites,
            cities: demand.cities,
            sites_per_city: sizing.sites_per_city.clone(),
            survive: demand.survive,
            remaining_sites: sizing.remaining_sites,
            n_plus_one: demand.n_plus_one,
            nodes_quotient: sizing.nodes_quotient,
            nodes_base: sizing.nodes_base,
            nodes_per_site: sizing.nodes_per_site,
            nodes_total: sizing.nodes_total,
            utilization: normal.map_or(0.0, |case| case.utilization),
            utilization_after_failure: after_failure.map(|case| case.utilization),
            utilization_in_maintenance: planned(State::InMaintenance).map(|case| case.utilization),
            wait_factor: normal.and_then(|case| case.wait_factor),
            wait_factor_after_failure: after_failure.and_then(|case| case.wait_factor),
            cases: sizing.cases,
            warnings,
        }
    }

    fn inputs(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  peak       {} payments/s", figure(self.peak_per_s))?;
        writeln!(
            f,
            "  growth     × {}, so the plan carries {} payments/s",
            self.growth,
            figure(self.load_per_s)
        )?;
        write_wrapped(
            f,
            "  per node   ",
            &format!(
                "{} payments/s, from {}",
                figure(self.per_node_per_s),
                self.per_node_source
            ),
            "             ",
        )?;
        writeln!(
            f,
            "  ceiling    {}% of that: at most {} payments/s on a node",
            figure(self.ceiling * 100.0),
            figure(self.ceiling * self.per_node_per_s)
        )?;
        let spread: Vec<String> = self.sites_per_city.iter().map(u32::to_string).collect();
        write!(
            f,
            "  sites      {} in {} {}",
            self.sites,
            self.cities,
            plural(u64::from(self.cities), "city", "cities")
        )?;
        if self.cities > 1 {
            write!(f, ": {} per city", spread.join(", "))?;
        }
        writeln!(f)?;
        let survive = match self.survive {
            Survive::None => "nothing: every node is up".to_string(),
            Survive::Node => format!(
                "the loss of a node: its site carries its 1/{} share on the nodes left",
                self.sites
            ),
            Survive::Site => format!("the loss of a site: {} remain", self.remaining_sites),
            Survive::City => format!(
                "the loss of a city: the largest holds {} sites, so {} remain",
                self.sites - self.remaining_sites,
                self.remaining_sites
            ),
        };
        writeln!(f, "  survive    {survive}")?;
        writeln!(
            f,
            "  n+1        {}",
            if self.n_plus_one {
                "yes: one more node per site, for one out for maintenance"
            } else {
                "no"
            }
        )
    }

    fn reasoning(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let load = figure(self.load_per_s);
        let ceiling = format!("{}%", figure(self.ceiling * 100.0));
        let per_node = figure(self.per_node_per_s);
        let paragraph = match self.survive {
            Survive::None => format!(
                "With every node up, the {} sites carry the whole {load}/s with every node at or \
                 below {ceiling} of its {per_node}/s, and every site gets the same count.",
                self.sites
            ),
            Survive::Node => format!(
                "After losing a node, its site must still carry its share of the {load}/s \
                 ({}/s, 1/{} of it) on its other nodes, each at or below {ceiling} of its \
                 {per_node}/s. So every site gets the count its share needs, plus one for the \
                 node it may lose.",
                figure(self.load_per_s / f64::from(self.sites)),
                self.sites
            ),
            Survive::Site | Survive::City => format!(
                "After losing {}, the {} remaining sites must carry the whole {load}/s with \
                 every node at or below {ceiling} of its {per_node}/s. Any site may be among \
                 the survivors, so every site gets the same count.",
                self.survive.loss(),
                self.remaining_sites
            ),
        };
        let maintenance = if self.n_plus_one {
            " --n-plus-one adds one node per site, so that this still holds with a node per \
             site out for maintenance."
        } else {
            ""
        };
        write_wrapped(f, "", &format!("{paragraph}{maintenance}"), "")?;
        writeln!(f)?;
        let mut extras = String::new();
        if self.survive == Survive::Node {
            extras.push_str(" + 1 (the lost node)");
        }
        if self.n_plus_one {
            extras.push_str(" + 1 (maintenance)");
        }
        writeln!(
            f,
            "  nodes per site = ⌈ peak × growth ÷ (remaining sites × per node × ceiling) ⌉{extras}"
        )?;
        let numeric_extras = extras
            .replace(" (the lost node)", "")
            .replace(" (maintenance)", "");
        writeln!(
            f,
            "                 = ⌈ {} × {} ÷ ({} × {per_node} × {}) ⌉{numeric_extras}",
            figure(self.peak_per_s),
            self.growth,
            self.remaining_sites,
            self.ceiling
        )?;
        writeln!(
            f,
            "                 = ⌈ {:.4} ⌉{numeric_extras} = {}",
            self.nodes_quotient, self.nodes_per_site
        )?;
        writeln!(
            f,
            "  nodes in all   = {} per site × {} {} = {}",
            self.nodes_per_site,
            self.sites,
            plural(u64::from(self.sites), "site", "sites"),
            self.nodes_total
        )
    }

    fn table(&self, f: &mut fmt::Formatter<'_>, load: Load) -> fmt::Result {
        let rows: Vec<(&Case, String)> = self
            .cases
            .iter()
            .filter(|case| case.load == load)
            .map(|case| (case, self.case_label(case)))
            .collect();
        let width = rows
            .iter()
            .map(|(_, label)| label.chars().count())
            .max()
            .unwrap_or(0)
            .max("nodes up".len());
        writeln!(
            f,
            "  {:<width$} {:>9} {:>6} {:>10} {:>6} {:>7}",
            "nodes up", "load/s", "nodes", "per node", "ρ", "wait ×"
        )?;
        for (case, label) in rows {
            let wait = case
                .wait_factor
                .map_or_else(|| "∞".to_string(), |factor| format!("{factor:.2}"));
            writeln!(
                f,
                "  {:<width$} {:>9} {:>6} {:>10} {:>6} {:>7}",
                label,
                figure(case.load_per_s),
                case.nodes,
                figure(case.load_per_s / case.nodes as f64),
                format!("{:.1}%", case.utilization * 100.0),
                wait
            )?;
        }
        Ok(())
    }

    /// A row's name: which nodes are up. "out" is a node in maintenance (`--n-plus-one`).
    fn case_label(&self, case: &Case) -> String {
        let loss = match self.survive {
            Survive::None => String::new(),
            Survive::Node => "a node lost: its site".to_string(),
            Survive::Site | Survive::City => format!(
                "{} lost: {} sites left",
                self.survive.loss(),
                self.remaining_sites
            ),
        };
        match (case.state, self.survive) {
            (State::Normal, _) => "every node up".to_string(),
            (State::AfterFailure, _) => loss,
            (State::InMaintenance, Survive::None) => "a node per site out".to_string(),
            (State::InMaintenance, Survive::Node) => format!("{loss}, a 2nd node out"),
            (State::InMaintenance, _) => format!("{loss}, a node each out"),
        }
    }
}

impl fmt::Display for PlanSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "clearway plan: {} {} per site, {} in all, over {} {} in {} {}; survives {}",
            self.nodes_per_site,
            plural(self.nodes_per_site, "node", "nodes"),
            self.nodes_total,
            self.sites,
            plural(u64::from(self.sites), "site", "sites"),
            self.cities,
            plural(u64::from(self.cities), "city", "cities"),
            match self.survive {
                Survive::None => "no failure".to_string(),
                survive => format!("the loss of {}", survive.loss()),
            }
        )?;
        for warning in &self.warnings {
            write_wrapped(f, "warning: ", warning, "         ")?;
        }
        writeln!(f)?;
        self.inputs(f)?;
        writeln!(f)?;
        self.reasoning(f)?;
        writeln!(f)?;
        writeln!(
            f,
            "Each node's utilization ρ at {}/s (peak × growth):",
            figure(self.load_per_s)
        )?;
        self.table(f, Load::Planned)?;
        if self.cases.iter().any(|case| case.load == Load::Peak) {
            writeln!(f)?;
            writeln!(
                f,
                "At the peak alone, {}/s, before growth:",
                figure(self.peak_per_s)
            )?;
            self.table(f, Load::Peak)?;
        }
        writeln!(f)?;
        let out = if self.n_plus_one {
            "; a node out is one in maintenance (--n-plus-one)"
        } else {
            ""
        };
        write_wrapped(
            f,
            "",
            &format!(
                "ρ is a node's load over its sustainable throughput; wait × is the M/M/1 factor \
                 1/(1 − ρ), a payment's mean time in the node as a multiple of its service time \
                 (docs/CAPACITY.md){out}."
            ),
            "",
        )
    }
}

/// `value` with thousands grouped and at most two decimals: `180,000`, `25,714.29`, `0.5`.
fn figure(value: f64) -> String {
    if !(0.0..1e15).contains(&value) {
        return format!("{value:e}");
    }
    let cents = (value * 100.0).round() as u64;
    let (whole, fraction) = (cents / 100, cents % 100);
    let whole = thousands(whole);
    match fraction {
        0 => whole,
        fraction if fraction % 10 == 0 => format!("{whole}.{}", fraction / 10),
        fraction => format!("{whole}.{fraction:02}"),
    }
}

fn plural(count: u64, one: &'static str, many: &'static str) -> &'static str {
    if count == 1 {
        one
    } else {
        many
    }
}

/// `text` on lines of at most [`WIDTH`] characters, broken at spaces: the first line starts with
/// `first`, the others with `hanging`.
fn write_wrapped(
    f: &mut fmt::Formatter<'_>,
    first: &str,
    text: &str,
    hanging: &str,
) -> fmt::Result {
    let mut line = first.to_string();
    let mut fresh = true;
    for word in text.split_whitespace() {
        if !fresh && line.chars().count() + 1 + word.chars().count() > WIDTH {
            writeln!(f, "{line}")?;
            line = hanging.to_string();
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(word);
        fresh = false;
    }
    if !fresh {
        writeln!(f, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_group_thousands_and_keep_two_decimals() {
        let rows = [
            (180_000.0, "180,000"),
            (25_714.285_7, "25,714.29"),
            (0.5, "0.5"),
            (70.0, "70"),
            (0.0, "0"),
        ];
        for (value, text) in rows {
            assert_eq!(figure(value), text, "{value}");
        }
    }
}
