//! The three payment stages, each a [`Handler`](crate::pipeline::Handler) over the switch's slot:
//! [`Authorize`] (a worker group), [`Route`] and [`Ledger`] (single threads). `docs/SWITCH.md`
//! gives their rules exactly.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `authorize.rs` | [`Authorize`]: MAC, sender, kind, amount, account checks |
//! | `route.rs` | [`Route`]: participant status, BIN lookup, link choice, control events |
//! | `route/save.rs` | [`Route::save`], [`Route::restore`]: route's state for a snapshot |
//! | `bin_table.rs` | [`BinTable`]: longest-prefix match over the BIN table |
//! | `ledger.rs` | [`Ledger`]: idempotency, liquidity, holds, posting, expiry, clearing |
//! | `state.rs` | [`StateWriter`], [`StateReader`], [`StateError`]: the saved-state byte format |
//! | `switch_state.rs` | [`save_switch`], [`restore_switch`]: route's and the ledger's state for a snapshot |

mod authorize;
mod bin_table;
mod ledger;
mod route;
mod state;
mod switch_state;

pub use authorize::Authorize;
pub use bin_table::{BinTable, Prefixes};
pub use ledger::{
    BatchReport, BatchRow, Direction, Expiry, Ledger, LedgerConfig, LedgerSink, LedgerStage,
    LedgerSummary, StateHash, TableCapacities,
};
pub use route::Route;
pub use state::{StateError, StateReader, StateWriter};
pub use switch_state::{restore_switch, save_switch, switch_payload, SWITCH_STATE_VERSION};
