//! `clearway`: the command that drives Clearway.
//!
//! The principal type in this crate is [`Command`]. For now it has one subcommand,
//! `clearway topology FILE`, which reads a topology file, validates it against this machine's
//! cores, and prints the stage → core map it would run, with its warnings. `run`, `serve`,
//! `load` and the analysis commands arrive with the payment stages.
//!
//! Exit codes: 0 valid; 1 the topology was refused (the message says which rule); 2 the command
//! line itself was wrong; 3 the file could not be read.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use clearway_core::pipeline::TopologyConfig;

/// Clearway: the switching core of a clearing platform for online payments.
#[derive(Parser)]
#[command(name = "clearway", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What `clearway` can do.
#[derive(Subcommand)]
enum Command {
    /// Validate a topology file and print the stage → core map it would run.
    Topology {
        /// A TOML topology (see docs/ARCHITECTURE.md, "Topology files").
        file: PathBuf,
    },
}

/// The topology was refused.
const EXIT_INVALID: u8 = 1;
/// The file could not be read.
const EXIT_UNREADABLE: u8 = 3;

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Topology { file } => topology(&file),
    }
}

fn topology(file: &std::path::Path) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("clearway: cannot read {}: {error}", file.display());
            return ExitCode::from(EXIT_UNREADABLE);
        }
    };
    match TopologyConfig::from_toml(&text).and_then(|config| config.validate()) {
        Ok(topology) => {
            print!("{topology}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("clearway: {}: {error}", file.display());
            ExitCode::from(EXIT_INVALID)
        }
    }
}
