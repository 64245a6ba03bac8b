//! `clearway ledger …`: the tools that read a data directory without trusting the node that
//! wrote it. Each rebuilds the state machine from the directory's manifest and journal, except
//! `payment`, which reads one record from the directory's payment store.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `verify.rs` | `verify`: every segment and snapshot scanned; exit 0 only when clean |
//! | `replay.rs` | `replay`: the state rebuilt from the first event; hash, positions, batches |
//! | `export.rs` | `export`: one row per payment with its final state, and positions |
//! | `settlement.rs` | `settlement`: a batch's settlement report |
//! | `payment.rs` | `payment`: one finished payment's record from the payment store |

mod export;
mod payment;
mod replay;
mod settlement;
mod verify;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use clearway_core::journal::{scan, FileStorage, JournalScan};

use crate::data_dir::{self, Opened};
use crate::exit::Failure;

/// `clearway ledger`'s tools.
#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// Scan every journal segment and snapshot: records, sequences, corruption. Exits 0 only
    /// when everything is clean.
    Verify {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Also write the report as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Rebuild the state from the first journaled event (checking every snapshot on the way)
    /// and print its state hash, positions and batches.
    Replay {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Also write the result as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Write one row per payment with its final state (`payments.csv`) and each participant's
    /// positions (`positions.csv`).
    Export {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// The file format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// The folder the files are written to.
        #[arg(long, default_value = "out/export")]
        out: PathBuf,
    },
    /// Print a clearing batch's settlement report as CSV, or list the batches.
    Settlement {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// The batch (from 1); without it, every batch is listed.
        #[arg(long)]
        batch: Option<u64>,
        /// Write the report(s) as `batch-NNNNNN.csv` and `.json` into this folder instead.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print one finished payment's record from the data directory's payment store (`D/store`):
    /// outcome, kind, amount, institution, bank, batch, when it finished, and for an approved
    /// debit what refunds took. Exits 1 when the store holds no such payment.
    Payment {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Also write the record as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// The payment's id as the node prints it: `yyyymmdd-` and 24 digits (or more).
        #[arg(value_parser = payment::parse_txn_id)]
        txn_id: clearway_core::event::TxnId,
    },
}

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated, a header line first.
    Csv,
}

/// Runs a `clearway ledger` tool; exit codes as in docs/OUTPUT.md.
pub fn run(command: LedgerCommand) -> ExitCode {
    let outcome = match command {
        LedgerCommand::Verify { data_dir, json } => verify::run(&data_dir, json.as_deref()),
        LedgerCommand::Replay { data_dir, json } => replay::run(&data_dir, json.as_deref()),
        LedgerCommand::Export {
            data_dir,
            format: ExportFormat::Csv,
            out,
        } => export::run(&data_dir, &out),
        LedgerCommand::Settlement {
            data_dir,
            batch,
            out,
        } => settlement::run(&data_dir, batch, out.as_deref()),
        LedgerCommand::Payment {
            data_dir,
            json,
            txn_id,
        } => payment::run(&data_dir, txn_id, json.as_deref()),
    };
    match outcome {
        Ok(code) => code,
        Err(Failure { message, code }) => {
            eprintln!("clearway ledger: {message}");
            ExitCode::from(code)
        }
    }
}

/// A data directory opened for reading: its manifest, network and storage, and the journal as
/// scanned.
struct Directory {
    opened: Opened,
    storage: FileStorage,
    journal: JournalScan,
}

fn open(directory: &Path) -> Result<Directory, Failure> {
    if !directory.is_dir() {
        return Err(Failure::unreadable(format!(
            "{} is not a directory",
            directory.display()
        )));
    }
    let opened = data_dir::open(directory).map_err(Failure::unreadable)?;
    let storage = FileStorage::open(directory)
        .map_err(|error| Failure::unreadable(format!("{}: {error}", directory.display())))?;
    let journal = scan(&storage).map_err(|error| Failure::unreadable(error.to_string()))?;
    Ok(Directory {
        opened,
        storage,
        journal,
    })
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).expect("reports serialise") + "\n";
    std::fs::write(path, text)
        .map_err(|error| Failure::unreadable(format!("cannot write {}: {error}", path.display())))
}

/// The state rebuilt from the first journaled event, `observer` shown every event.
fn rebuild_from_genesis(
    directory: &Directory,
    observer: &mut impl clearway_core::journal::ReplayObserver,
) -> Result<clearway_core::journal::Rebuilt, Failure> {
    // From the first event, into a store of its own: the tools never write the node's.
    let store = crate::run::memory::temporary_store().map_err(Failure::unreadable)?;
    clearway_core::journal::rebuild(
        &directory.storage,
        &directory.journal,
        &directory.opened.network,
        directory.opened.mac,
        directory.opened.ledger_config,
        clearway_core::journal::ReplayFrom::Genesis,
        Some(&store),
        observer,
    )
    .map_err(|error| Failure::check(error.to_string()))
}
