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
//! | `prefetch.rs` | [`Prefetch`]: loads from the store what the ledger's window does not hold |
//! | `store_writer.rs` | [`StoreWriter`]: writes decided payments into the store, drops expired partitions |
//! | `remembering.rs` | [`Remembering`]: prefetch, ledger and store on one thread; [`StoreFeed`] |
//! | `state.rs` | [`StateWriter`], [`StateReader`], [`StateError`]: the saved-state byte format |
//! | `switch_state.rs` | [`save_switch`], [`restore_switch`]: route's and the ledger's state for a snapshot |

mod authorize;
mod bin_table;
mod ledger;
mod prefetch;
mod remembering;
mod route;
mod state;
mod store_writer;
mod switch_state;

pub use authorize::Authorize;
pub use bin_table::{BinTable, Prefixes};
pub use ledger::{
    BatchReport, BatchRow, Direction, Expiry, Ledger, LedgerConfig, LedgerSink, LedgerStage,
    LedgerSummary, LongMemory, StateHash, TableCapacities, WindowSchedule,
};
pub use prefetch::{Prefetch, PrefetchCounters};
pub use remembering::{queues_for, Remembering, StoreFeed};
pub use route::Route;
pub use state::{StateError, StateReader, StateWriter};
pub use store_writer::{StoreCounters, StoreWriter};
pub use switch_state::{restore_switch, save_switch, switch_payload, SWITCH_STATE_VERSION};
