//! `clearway ledger replay`: the state rebuilt from the first event, every snapshot on the way
//! checked against it.

use std::path::Path;
use std::process::ExitCode;

use clearway_core::journal::ReplayObserver;
use clearway_core::stage::BatchReport;
use serde::Serialize;

use super::{open, rebuild_from_genesis, write_json};
use crate::exit::Failure;

/// What the replay reached.
#[derive(Serialize)]
struct Replayed {
    state_hash: String,
    events: u64,
    next_sequence: u64,
    snapshots_checked: u64,
    batches_closed: u64,
    batch_open: u64,
    positions_sum_fen: i128,
    /// The open batch's non-zero positions, by participant id.
    positions_fen: Vec<Position>,
    pending: usize,
    seconds: f64,
}

#[derive(Serialize)]
struct Position {
    participant: u16,
    name: String,
    position_fen: i128,
}

#[derive(Default)]
struct Batches(u64);

impl ReplayObserver for Batches {
    fn batch_closed(&mut self, _report: &BatchReport) {
        self.0 += 1;
    }
}

pub fn run(data_dir: &Path, json: Option<&Path>) -> Result<ExitCode, Failure> {
    let directory = open(data_dir)?;
    let mut batches = Batches::default();
    let rebuilt = rebuild_from_genesis(&directory, &mut batches)?;
    let ledger = &rebuilt.ledger;
    let network = &directory.opened.network;
    let positions_fen = network
        .participants
        .iter()
        .filter(|participant| ledger.position(participant.id) != 0)
        .map(|participant| Position {
            participant: participant.id.0,
            name: participant.name.clone(),
            position_fen: ledger.position(participant.id),
        })
        .collect();
    let replayed = Replayed {
        state_hash: ledger.state_hash().to_string(),
        events: rebuilt.events_replayed,
        next_sequence: rebuilt.next_sequence,
        snapshots_checked: rebuilt.snapshots_checked,
        batches_closed: batches.0,
        batch_open: ledger.batch_number(),
        positions_sum_fen: ledger.positions_sum(),
        positions_fen,
        pending: ledger.pending_count(),
        seconds: rebuilt.seconds,
    };
    println!("data dir:          {}", data_dir.display());
    println!(
        "events replayed:   {} (sequences 0..{}) in {:.2} s",
        replayed.events, replayed.next_sequence, replayed.seconds
    );
    println!(
        "snapshots checked: {} (each matches the replayed ledger)",
        replayed.snapshots_checked
    );
    println!("state hash:        {}", replayed.state_hash);
    println!(
        "batches:           {} closed; batch {} open, {} payments pending",
        replayed.batches_closed, replayed.batch_open, replayed.pending
    );
    println!(
        "positions:         {} participants non-zero, Σ = {} fen",
        replayed.positions_fen.len(),
        replayed.positions_sum_fen
    );
    for position in &replayed.positions_fen {
        println!(
            "  {:>5} {:<28} {:>20}",
            position.participant, position.name, position.position_fen
        );
    }
    if let Some(path) = json {
        write_json(path, &replayed)?;
    }
    if replayed.positions_sum_fen != 0 {
        return Err(Failure::check(format!(
            "positions sum to {} fen, not 0",
            replayed.positions_sum_fen
        )));
    }
    Ok(ExitCode::SUCCESS)
}
