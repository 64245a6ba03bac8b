//! The switch's three stages run one event at a time on the calling thread, with a sink that
//! records every ledger call: for the snapshot tests, which save and restore the stages between
//! two events.

use clearway_core::event::{Event, MacMode, Results};
use clearway_core::network::Network;
use clearway_core::stage::{
    restore_switch, save_switch, Authorize, BatchReport, Expiry, Ledger, LedgerConfig, LedgerSink,
    Route, StateError,
};

/// One call the ledger made on its sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    Expired(Expiry),
    BatchClosed(BatchReport),
}

/// Records every sink call with the index of the event during which it came.
#[derive(Default)]
pub struct Recorder {
    /// The index of the event being applied.
    pub at: usize,
    pub calls: Vec<(usize, Call)>,
}

impl LedgerSink for Recorder {
    fn expired(&mut self, expiry: &Expiry) {
        self.calls.push((self.at, Call::Expired(*expiry)));
    }

    fn batch_closed(&mut self, report: BatchReport) {
        self.calls.push((self.at, Call::BatchClosed(report)));
    }
}

/// Authorize, route and the ledger, applied in turn.
pub struct Switch {
    pub authorize: Authorize,
    pub route: Route,
    pub ledger: Ledger,
}

impl Switch {
    pub fn new(network: &Network, config: LedgerConfig) -> Switch {
        Switch {
            authorize: Authorize::new(network, MacMode::Hmac),
            route: Route::new(network),
            ledger: Ledger::new(network, config),
        }
    }

    /// The stages in the state `bytes` saved; authorize is built fresh (it keeps no state).
    pub fn restore(
        network: &Network,
        config: LedgerConfig,
        bytes: &[u8],
    ) -> Result<Switch, StateError> {
        let (route, ledger) = restore_switch(network, config, bytes)?;
        Ok(Switch {
            authorize: Authorize::new(network, MacMode::Hmac),
            route,
            ledger,
        })
    }

    /// Event `index` through the three stages.
    pub fn apply(&mut self, index: usize, event: &Event, sink: &mut Recorder) -> Results {
        let mut results = Results::default();
        self.authorize.check(event, &mut results);
        self.route.route(event, &mut results);
        sink.at = index;
        self.ledger.apply(event, &mut results, sink);
        results
    }

    pub fn save(&self) -> Vec<u8> {
        save_switch(&self.route, &self.ledger)
    }
}
