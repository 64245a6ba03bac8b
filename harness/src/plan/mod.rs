//! `clearway plan`: a data-centre capacity planner. The principal type is [`PlanSummary`]: how
//! many nodes each site runs so that, after losing the survivable failure, the remaining sites
//! carry the whole peak × growth with every node at or below the ceiling, and what each node's
//! utilization is normally and after the failure. docs/CAPACITY.md explains the rule, the
//! ceiling and worked examples.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `mod.rs` | [`run`]: the command, from its flags to its answer and exit code |
//! | `args.rs` | [`PlanArgs`]: the flags, and the parsers of rates (`180k`) and ceilings (`70%`) |
//! | `per_node.rs` | [`per_node::PerNode`]: `--per-node` as a rate or a JSON result file, recognised by its fields |
//! | `sizing.rs` | [`sizing::size`]: the arithmetic, pure: sites per city, remaining sites, nodes, utilizations |
//! | `summary.rs` | [`PlanSummary`]: the plan printed (inputs, reasoning, formula, table) and as JSON |

pub(crate) mod args;
pub(crate) mod per_node;
pub(crate) mod sizing;
pub(crate) mod summary;

use std::io::Write;
use std::process::ExitCode;

pub use args::PlanArgs;
pub use summary::PlanSummary;

use crate::exit::{self, Failure};
use sizing::Demand;

/// Runs `clearway plan`: 0 planned; 2 a bad number or an impossible topology; 3 a `--per-node`
/// file unreadable or refused, or the JSON file not written.
pub fn run(args: PlanArgs) -> ExitCode {
    let summary = match plan(&args) {
        Ok(summary) => summary,
        Err(Failure { message, code }) => {
            eprintln!("clearway: {message}");
            return ExitCode::from(code);
        }
    };
    // A plan is short and often piped into `head` or `less`: a reader that closed the pipe
    // early is not a failure of the plan, so the write's error is not one either (`print!`
    // would panic on it).
    let _ = write!(std::io::stdout().lock(), "{summary}");
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&summary).expect("the plan serialises");
        if let Err(error) = std::fs::write(path, text + "\n") {
            eprintln!("clearway: cannot write {}: {error}", path.display());
            return ExitCode::from(exit::UNREADABLE);
        }
    }
    ExitCode::SUCCESS
}

/// The plan `args` ask for, or why there is none.
pub fn plan(args: &PlanArgs) -> Result<PlanSummary, Failure> {
    let per_node = per_node::read(&args.per_node)?;
    let demand = Demand {
        peak_per_s: args.peak,
        growth: args.growth,
        per_node_per_s: per_node.per_s,
        ceiling: args.ceiling,
        sites: args.sites,
        cities: args.cities,
        survive: args.survive,
        n_plus_one: args.n_plus_one,
    };
    let sizing = sizing::size(&demand).map_err(|refusal| Failure::usage(refusal.to_string()))?;
    Ok(PlanSummary::new(&demand, per_node, sizing))
}
