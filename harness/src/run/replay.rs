//! The replay check: the recorded input through a fresh single-threaded switch must rebuild the
//! ledger to the same state hash.

use clearway_core::event::{MacMode, Results};
use clearway_core::network::Network;
use clearway_core::stage::{Authorize, Ledger, LedgerConfig, Route, StateHash};

use super::recording::Recording;

/// What the replay rebuilt.
pub struct Replayed {
    /// The rebuilt ledger's state hash.
    pub state_hash: StateHash,
    /// Its Σ of positions.
    pub positions_sum: i128,
    /// Events replayed.
    pub events: usize,
    /// Seconds it took.
    pub seconds: f64,
}

/// Runs `recording` through authorize, route and a fresh ledger on this thread, in sequence
/// order, with no ring: the determinism the journal's crash recovery will rely on.
pub fn replay(
    network: &Network,
    mac: MacMode,
    ledger_config: LedgerConfig,
    recording: &Recording,
) -> Replayed {
    let started = std::time::Instant::now();
    let mut authorize = Authorize::new(network, mac);
    let mut route = Route::new(network);
    let mut ledger = Ledger::new(network, ledger_config);
    let mut events = 0;
    for event in recording.iter() {
        let mut results = Results::default();
        authorize.check(event, &mut results);
        route.route(event, &mut results);
        ledger.apply(event, &mut results, &mut ());
        events += 1;
    }
    Replayed {
        state_hash: ledger.state_hash(),
        positions_sum: ledger.positions_sum(),
        events,
        seconds: started.elapsed().as_secs_f64(),
    }
}
