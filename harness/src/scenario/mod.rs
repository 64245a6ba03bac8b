//! Scenarios: a named workload, traffic shape, duration, warm-up, switch settings, incidents and
//! SLO gates in one TOML file (`scenarios/*.toml`; docs/SCENARIOS.md). The principal type here is
//! [`Plan`]: a scenario resolved against the command line (flags override fields), checked, and
//! ready for the drivers.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `file.rs` | `Scenario`: the file's fields, parsed and refused by field; the built-in scenarios |
//! | `resolve.rs` | [`resolve()`]: scenario + flags → [`Plan`] and the run's settings; [`Given`] |
//! | `incident.rs` | `Incident`: a bank's links going down or up at a moment of the load |

mod file;
mod incident;
mod resolve;

pub use file::Scenario;
pub use incident::LinkState;
pub use resolve::{resolve, Given, Plan};
