//! [`ServeArgs`]: `clearway serve`'s command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use clearway_core::event::MacMode;

use crate::constants::CONNECTION_IDLE_TIMEOUT_MS_DEFAULT;
use crate::run::args::{ArrivalArg, DurableArgs, Rate, RunArgs, Transport};

/// `clearway serve`: the switch as a TCP node that institutions and banks connect to.
#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// Address to accept institutions and banks on (docs/PROTOCOL.md). Loopback by default;
    /// `127.0.0.1:0` picks a free port, printed as `listening on ADDR`.
    #[arg(long, default_value = "127.0.0.1:7400")]
    pub listen: SocketAddr,
    /// Serve Prometheus text exposition at `http://ADDR/metrics` (e.g. 127.0.0.1:9400).
    #[arg(long)]
    pub metrics: Option<SocketAddr>,
    /// The participants and BIN table (docs/CONFIG.md); by default the generated network of
    /// `--seed`. Clients must use the same network: it holds their keys.
    #[arg(long, alias = "participants")]
    pub config: Option<PathBuf>,
    /// Seeds the generated network when there is no `--config`.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// `auto`, `fused`, `pipelined` or a topology file, as for `clearway run`.
    #[arg(long, default_value = "auto")]
    pub topology: String,
    /// Authorize workers for `auto` and `pipelined`.
    #[arg(long)]
    pub workers: Option<usize>,
    /// `hmac` checks every event's HMAC-SHA256; `none` skips it. HELLOs are always checked.
    #[arg(long, default_value = "hmac")]
    pub mac: MacMode,
    /// Milliseconds between cutovers (clearing batches), on the node's clock.
    #[arg(long, default_value_t = 1_000)]
    pub cutover_ms: u64,
    /// Milliseconds a payment may wait for its bank before its hold expires.
    #[arg(long)]
    pub bank_timeout_ms: Option<u64>,
    /// How long a decided payment is remembered (`90s`, `10m`, `24h`, `30d`; 24h by default):
    /// a resend within it gets the original outcome, a refund finds its original, a QUERY its
    /// outcome; an id older is refused by name.
    #[arg(long, value_parser = crate::run::memory::parse_retention)]
    pub retention: Option<u64>,
    /// Payments per second the ledger's tables are sized for (a clearing batch's payments, and
    /// every payment waiting a bank timeout, each with half again as much room).
    #[arg(long, default_value_t = 400_000.0)]
    pub capacity_per_s: f64,
    /// Folder the clearing batches' settlement reports are written to, in `batches/` (by default
    /// out/batches).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Milliseconds a connection may stay silent (not even a PING) before it is closed.
    #[arg(long, default_value_t = CONNECTION_IDLE_TIMEOUT_MS_DEFAULT)]
    pub idle_timeout_ms: u64,
    /// Also write the node's summary at exit as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Where the journal lives and how it reaches the disk, as for `clearway run`: with
    /// `--data-dir` nothing is answered before it is there, and a restart recovers from it.
    #[command(flatten)]
    pub durable: DurableArgs,
}

impl ServeArgs {
    /// The same settings in the form the embedded run's start-up takes: the node shares its
    /// recovery, its stages and its journal with `clearway run`.
    pub fn run_args(&self) -> RunArgs {
        RunArgs {
            rate: Rate::PerSecond(self.capacity_per_s),
            duration: 0.0,
            seed: self.seed,
            topology: self.topology.clone(),
            workers: self.workers,
            producers: Some(1),
            ring_capacity: None,
            batch_size_max: None,
            transport: Transport::Ring,
            mac: self.mac,
            arrival: ArrivalArg::Poisson,
            config: self.config.clone(),
            cutover_ms: self.cutover_ms,
            bank_timeout_ms: self.bank_timeout_ms,
            retention: self.retention,
            bank_latency_us: 0,
            bank_latency_sigma: 0.0,
            json: None,
            measure: crate::run::args::MeasureArgs {
                out: self.out.clone(),
                ..crate::run::args::MeasureArgs::default()
            },
            durable: self.durable.clone(),
            no_replay: true,
        }
    }
}
