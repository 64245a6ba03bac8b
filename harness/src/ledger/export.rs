//! `clearway ledger export`: one row per payment with its final state, and each participant's
//! positions — what an auditor, or a test someone else wrote, checks the ledger with.
//!
//! `payments.csv`: `txn_id,kind,sender,bank,amount_fen,outcome,batch`, one row per payment the
//! journal holds (a resubmitted id is a row of its own, answered `Exists` or refused), in the
//! order their outcomes became final. `outcome` is `Approved`, `Declined` (by the bank),
//! `Expired`, `Exists`, the name of the decline that refused it, or `Pending` (still waiting for
//! its bank at the journal's end). `batch` is the clearing batch open when the outcome became
//! final: an approved payment is posted in it. `bank` is empty when the payment was refused
//! before a bank was found.
//!
//! `positions.csv`: `participant,name,position_fen,net_fen_total`: the open batch's position and
//! the net over every batch, closed and open. For each participant, `net_fen_total` equals the
//! approved rows of `payments.csv` added up by the money flow of docs/SWITCH.md.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use clearway_core::event::{Event, Kind, Outcome, ParticipantId, Results, TxnId};
use clearway_core::journal::ReplayObserver;
use clearway_core::stage::{BatchReport, Expiry, Ledger};

use super::{open, rebuild_from_genesis};
use crate::exit::Failure;

/// A payment as its row describes it, waiting for its bank while forwarded.
#[derive(Clone, Copy)]
struct Held {
    kind: Kind,
    sender: ParticipantId,
    bank: Option<ParticipantId>,
    amount_fen: u64,
}

impl Held {
    fn of(event: &Event, bank: Option<ParticipantId>) -> Held {
        Held {
            kind: event.kind,
            sender: event.sender,
            bank,
            amount_fen: event.amount_fen,
        }
    }
}

struct Export {
    payments: BufWriter<File>,
    held: HashMap<TxnId, Held>,
    closed_net_fen: HashMap<ParticipantId, i128>,
    rows: u64,
    error: Option<std::io::Error>,
}

impl Export {
    fn row(&mut self, txn_id: TxnId, payment: Held, outcome: &str, batch: u64) {
        if self.error.is_some() {
            return;
        }
        let bank = payment
            .bank
            .map(|bank| bank.0.to_string())
            .unwrap_or_default();
        if let Err(error) = writeln!(
            self.payments,
            "{txn_id},{},{},{bank},{},{outcome},{batch}",
            payment.kind.name(),
            payment.sender.0,
            payment.amount_fen
        ) {
            self.error = Some(error);
        }
        self.rows += 1;
    }
}

impl ReplayObserver for Export {
    fn applied(&mut self, event: &Event, results: &Results, ledger: &Ledger) {
        let batch = ledger.batch_number();
        if event.kind.is_payment() {
            let bank = (results.bank != ParticipantId::OPERATOR).then_some(results.bank);
            let outcome = match results.outcome {
                Outcome::Forwarded => {
                    self.held.insert(event.txn_id, Held::of(event, bank));
                    return;
                }
                Outcome::Exists => Outcome::Exists.name(),
                other => results
                    .decline
                    .map_or(other.name(), |decline| decline.name()),
            };
            self.row(event.txn_id, Held::of(event, bank), outcome, batch);
        } else if event.kind == Kind::BankReply
            && matches!(results.outcome, Outcome::Approved | Outcome::Declined)
        {
            if let Some(held) = self.held.remove(&event.txn_id) {
                self.row(event.txn_id, held, results.outcome.name(), batch);
            }
        }
    }

    fn expired(&mut self, expiry: &Expiry, batch: u64) {
        if let Some(held) = self.held.remove(&expiry.txn_id) {
            self.row(expiry.txn_id, held, Outcome::Expired.name(), batch);
        }
    }

    fn batch_closed(&mut self, report: &BatchReport) {
        for row in &report.rows {
            *self.closed_net_fen.entry(row.participant).or_default() += row.net_fen;
        }
    }
}

pub fn run(data_dir: &Path, out: &Path) -> Result<ExitCode, Failure> {
    let directory = open(data_dir)?;
    std::fs::create_dir_all(out).map_err(|error| {
        Failure::unreadable(format!("cannot create {}: {error}", out.display()))
    })?;
    let payments_path = out.join("payments.csv");
    let positions_path = out.join("positions.csv");
    let cannot = |path: &Path, error: std::io::Error| {
        Failure::unreadable(format!("cannot write {}: {error}", path.display()))
    };
    let file = File::create(&payments_path).map_err(|error| cannot(&payments_path, error))?;
    let mut export = Export {
        payments: BufWriter::new(file),
        held: HashMap::new(),
        closed_net_fen: HashMap::new(),
        rows: 0,
        error: None,
    };
    writeln!(
        export.payments,
        "txn_id,kind,sender,bank,amount_fen,outcome,batch"
    )
    .map_err(|error| cannot(&payments_path, error))?;
    let rebuilt = rebuild_from_genesis(&directory, &mut export)?;
    let ledger = &rebuilt.ledger;
    let batch = ledger.batch_number();
    let mut held: Vec<(TxnId, Held)> = std::mem::take(&mut export.held).into_iter().collect();
    held.sort_by_key(|(txn_id, _)| *txn_id);
    for (txn_id, held) in held {
        export.row(txn_id, held, Outcome::Pending.name(), batch);
    }
    if let Some(error) = export.error.take() {
        return Err(cannot(&payments_path, error));
    }
    export
        .payments
        .flush()
        .map_err(|error| cannot(&payments_path, error))?;
    let mut positions = String::from("participant,name,position_fen,net_fen_total\n");
    for participant in &directory.opened.network.participants {
        let position = ledger.position(participant.id);
        let closed = export
            .closed_net_fen
            .get(&participant.id)
            .copied()
            .unwrap_or(0);
        positions.push_str(&format!(
            "{},{},{position},{}\n",
            participant.id.0,
            participant.name.replace(',', " "),
            closed + position
        ));
    }
    std::fs::write(&positions_path, positions).map_err(|error| cannot(&positions_path, error))?;
    println!(
        "{} payments from {} events → {}",
        export.rows,
        rebuilt.events_replayed,
        payments_path.display()
    );
    println!(
        "{} participants → {}",
        directory.opened.network.participants.len(),
        positions_path.display()
    );
    Ok(ExitCode::SUCCESS)
}
