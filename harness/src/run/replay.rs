//! The replay check: the recorded input through a fresh single-threaded switch must rebuild the
//! ledger to the same state hash. With a data directory, the input is the journal on disk, from
//! its first event, every snapshot on the way checked too.

use clearway_core::event::{MacMode, Results};
use clearway_core::journal::{rebuild, scan, FileStorage, ReplayFrom};
use clearway_core::network::Network;
use clearway_core::stage::{Authorize, Ledger, LedgerConfig, Remembering, Route, StateHash};

use super::recording::Recording;

/// What the replay rebuilt.
pub struct Replayed {
    /// The rebuilt ledger's state hash.
    pub state_hash: StateHash,
    /// Its Σ of positions.
    pub positions_sum: i128,
    /// The sequence after the last event replayed.
    pub next_sequence: u64,
    /// Seconds it took.
    pub seconds: f64,
}

/// Runs `recording` through authorize, route and a fresh ledger (with its prefetch and a fresh
/// store, as a run without a data directory starts) on this thread, in sequence order, with no
/// ring: the determinism the journal's crash recovery will rely on.
pub fn replay(
    network: &Network,
    mac: MacMode,
    ledger_config: LedgerConfig,
    recording: &Recording,
) -> Result<Replayed, String> {
    let started = std::time::Instant::now();
    let mut authorize = Authorize::new(network, mac);
    let mut route = Route::new(network);
    let ledger = Ledger::new(network, ledger_config);
    let memory = ledger_config
        .memory
        .ok_or("the replay check needs memory by time configured")?;
    let store = super::memory::temporary_store()?;
    let mut remembering = Remembering::new(ledger, &store, memory, ());
    let mut events = 0u64;
    for event in recording.iter() {
        let mut results = Results::default();
        authorize.check(event, &mut results);
        route.route(event, &mut results);
        remembering
            .apply(event, &mut results)
            .map_err(|fault| format!("the replay check failed: {fault}"))?;
        events += 1;
    }
    let ledger = remembering.ledger();
    Ok(Replayed {
        state_hash: ledger.state_hash(),
        positions_sum: ledger.positions_sum(),
        next_sequence: events,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Rebuilds the ledger from `directory`'s journal, from its first event, through a fresh
/// single-threaded switch, checking each snapshot it passes.
pub fn replay_journal(
    directory: &std::path::Path,
    network: &Network,
    mac: MacMode,
    ledger_config: LedgerConfig,
) -> Result<Replayed, String> {
    let storage = FileStorage::open(directory)
        .map_err(|error| format!("cannot open {}: {error}", directory.display()))?;
    let journal = scan(&storage).map_err(|error| error.to_string())?;
    // From the first event, into a store of its own: the data directory's is the run's.
    let store = super::memory::temporary_store()?;
    let rebuilt = rebuild(
        &storage,
        &journal,
        network,
        mac,
        ledger_config,
        ReplayFrom::Genesis,
        Some(&store),
        &mut (),
    )
    .map_err(|error| format!("the replay of {} failed: {error}", directory.display()))?;
    Ok(Replayed {
        state_hash: rebuilt.ledger.state_hash(),
        positions_sum: rebuilt.ledger.positions_sum(),
        next_sequence: rebuilt.next_sequence,
        seconds: rebuilt.seconds,
    })
}
