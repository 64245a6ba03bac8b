//! [`LoadArgs`]: `clearway load`'s command line.

use std::path::PathBuf;

use clap::Args;

use crate::constants::CONNECTIONS_PER_PI_DEFAULT;
use crate::run::args::{parse_rate, ArrivalArg, Rate};

/// `clearway load`: the institutions and banks of a network, played over TCP against a node.
#[derive(Args, Clone, Debug)]
pub struct LoadArgs {
    /// The node's address (what `clearway serve --listen` was given).
    #[arg(long, default_value = "127.0.0.1:7400")]
    pub target: String,
    /// Payments per second the institutions offer together, or `max` to offer as fast as this
    /// process can write them: a constant-rate shape, in place of the scenario's.
    #[arg(long, default_value = "20000", value_parser = parse_rate)]
    pub rate: Rate,
    /// Seconds of measured load, after the warm-up; then the drain waits for the last answers
    /// (at most the bank timeout and a margin).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seeds the workload, the banks and the generated network. Must be the node's seed (or use
    /// the node's `--config`): the same network gives the same keys, and a participant whose
    /// key differs is refused at HELLO.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A participants and BIN table file (docs/CONFIG.md): the node's own, for the same keys;
    /// by default the network generated from `--seed`, as the node's.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// TCP connections per institution; a payment goes out on the next one with room under
    /// WELCOME's in-flight limit.
    #[arg(long, default_value_t = CONNECTIONS_PER_PI_DEFAULT)]
    pub connections_per_pi: usize,
    /// Arrival process of the institutions' payments.
    #[arg(long, value_enum, default_value_t = ArrivalArg::Poisson)]
    pub arrival: ArrivalArg,
    /// Microseconds every simulated bank takes to answer a FORWARD (0: at once); with
    /// `--bank-latency-sigma`, the median of a log-normal distribution.
    #[arg(long, default_value_t = 0)]
    pub bank_latency_us: u64,
    /// The spread (σ of the logarithm) of the banks' answer times around `--bank-latency-us`.
    #[arg(long, default_value_t = 0.0)]
    pub bank_latency_sigma: f64,
    /// The node's bank timeout in milliseconds (its `--bank-timeout-ms`): how long the drain
    /// waits, and when a simulated bank is too late to matter. By default the node's default.
    #[arg(long)]
    pub bank_timeout_ms: Option<u64>,
    /// Also write the summary as JSON (docs/OUTPUT.md) to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the end-to-end latency to this file as an HdrHistogram interval log (`.hlog`, one
    /// interval a second, warm-up excluded), for `clearway merge`; `--out` writes the same log as
    /// latency.hlog.
    #[arg(long)]
    pub histogram: Option<PathBuf>,
    /// Number transaction ids from this offset instead of one taken from the wall clock (ids
    /// must never repeat at a node, which keeps its ledger across load runs).
    #[arg(long)]
    pub id_offset: Option<u128>,
    /// The scenario, the measurement's window and gates, and where its files go.
    #[command(flatten)]
    pub measure: crate::run::args::MeasureArgs,
}

impl LoadArgs {
    /// The settings the run's producers are built from, with this command's values and the
    /// run's defaults for the rest (cutovers are the node's business: the driver's are skipped).
    pub fn run_args(&self) -> crate::run::RunArgs {
        crate::run::RunArgs {
            rate: self.rate,
            duration: self.duration,
            seed: self.seed,
            topology: "fused".to_string(),
            workers: None,
            producers: Some(1),
            ring_capacity: None,
            batch_size_max: None,
            retention: None,
            transport: crate::run::args::Transport::Ring,
            mac: clearway_core::event::MacMode::Hmac,
            arrival: self.arrival,
            config: self.config.clone(),
            cutover_ms: 1_000,
            bank_timeout_ms: self.bank_timeout_ms,
            bank_latency_us: self.bank_latency_us,
            bank_latency_sigma: self.bank_latency_sigma,
            json: None,
            measure: self.measure.clone(),
            durable: crate::run::args::DurableArgs::none(),
            no_replay: true,
        }
    }
}

/// Ids `clearway load` numbers its payments from when not told: the wall clock's nanoseconds
/// since the Unix epoch, shifted left by [`LOAD_ID_OFFSET_SHIFT`](crate::constants::LOAD_ID_OFFSET_SHIFT).
/// A node keeps its ledger across load runs and several load processes may share one node, so
/// ids must never repeat: a repeated id would be answered `Exists` or `DuplicateInFlight`
/// instead of being switched. Two starts `t` ns apart get disjoint ranges while the earlier one
/// sends fewer than `t` × 2^24 payments (16.7 M for starts a nanosecond apart).
pub fn wall_clock_id_offset() -> u128 {
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    (now_ns & u128::from(u64::MAX)) << crate::constants::LOAD_ID_OFFSET_SHIFT
}
