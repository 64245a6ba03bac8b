//! The principal type in this crate is [`Institutions`]: every payment institution of a
//! [`Network`](clearway_core::network::Network) as one seeded stream of signed payments, with
//! faults injected at configured rates and counted. Around it, Clearway's load generator holds
//! the rest of the workload model that plays institutions and banks against the switch.
//!
//! It produces events and runs nothing: a harness drives it from its own producer thread. Per
//! event, nothing allocates; everything (keys, account pools, windows, the reply heap) is sized
//! at construction. The same network, config and seed give the same events.
//!
//! # Walk-through
//!
//! 1. [`WorkloadConfig`] says what to send, and a [`Shape`] how its rate changes over the load
//!    (a ramp, steps, a spike, a profile, a recorded [`Trace`], or saturation); [`Schedule::new`]
//!    compiles the shape and [`Arrivals`] turns it into each producer thread's intended send
//!    times.
//! 2. [`Institutions::next_payment`] makes the payment for one intended time; its transaction
//!    id carries that time's second on the wall clock (the config's epoch plus the intended
//!    time).
//! 3. When the switch forwards a payment, [`Banks::on_forwarded`] decides the bank's answer and
//!    when it is due; the harness holds it in a [`ReplySchedule`] and sends it when due.
//! 4. [`Institutions::injected`] and [`Banks::decisions`] are set beside the switch's counts in
//!    the report.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `config.rs` | [`WorkloadConfig`] and its parts, with defaults and their reasons |
//! | `arrivals.rs` | [`Arrivals`], [`Schedule`], [`RateProfile`]: evenly spaced or Poisson send times under a fixed or changing rate, or a trace's |
//! | `shape.rs` | [`Shape`], [`Point`], [`ShapeError`]: how the rate changes over a load, and its command-line form |
//! | `trace.rs` | [`Trace`], [`TraceError`]: a recorded trace's send offsets, read from CSV |
//! | `institution.rs` | [`Institutions`]: the payment institutions' simulator |
//! | `fault.rs` | [`Fault`], [`FaultCounts`]: mistakes made on purpose |
//! | `accounts.rs` | per-bank pools of card numbers that route to their bank |
//! | `refund_window.rs` | recent debits a refund may name, with what remains refundable |
//! | `horizon.rs` | bounded samples of what was sent over the last horizon, for resends and refunds that reach back minutes |
//! | `zipf.rs` | [`Zipf`]: skewed choice among ranks |
//! | `bank.rs` | [`Banks`], [`BankConfig`], [`BankLatency`], [`BankDecisions`]: the banks' simulator |
//! | `schedule.rs` | [`ReplySchedule`]: replies waiting for their due time |
//! | `constants.rs` | the limits of this crate, with their reasons |

mod accounts;
mod arrivals;
mod bank;
mod config;
pub mod constants;
mod fault;
mod horizon;
mod institution;
mod refund_window;
mod schedule;
mod shape;
#[cfg(test)]
mod test_network;
mod trace;
mod zipf;

pub use arrivals::{Arrivals, RateProfile, Schedule};
pub use bank::{
    BankConfig, BankConfigError, BankDecisions, BankLatency, Banks, DECLINE_SHARE_DEFAULT,
    LATE_SHARE_DEFAULT, SILENT_SHARE_DEFAULT,
};
pub use config::{
    AmountDistribution, Arrival, FaultRates, KindMix, Skew, WorkloadConfig, WorkloadConfigError,
    ACCOUNTS_PER_BANK_DEFAULT, ACCOUNT_EXPONENT_DEFAULT, AMOUNT_MEDIAN_FEN_DEFAULT,
    AMOUNT_SIGMA_DEFAULT, BANK_EXPONENT_DEFAULT, DATE_DEFAULT, EPOCH_UNIX_NS_DEFAULT,
    FAULT_RATE_DEFAULT, HORIZON_S_DEFAULT, INSTITUTION_EXPONENT_DEFAULT, RATE_PER_S_DEFAULT,
    REFUND_DELAY_NS_DEFAULT, REFUND_WINDOW_CAPACITY_DEFAULT,
};
pub use fault::{Fault, FaultCounts};
pub use institution::Institutions;
pub use schedule::{ReplySchedule, ScheduleFull};
pub use shape::{Point, Shape, ShapeError};
pub use trace::{Trace, TraceError};
pub use zipf::Zipf;
