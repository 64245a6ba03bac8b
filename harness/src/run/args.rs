//! [`RunArgs`]: `clearway run`'s command line.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use clearway_core::event::MacMode;

/// `clearway run`: the switch, its institutions and its banks in one process.
#[derive(Args, Clone, Debug)]
pub struct RunArgs {
    /// Payments per second the institutions offer together, or `max` to offer as fast as the
    /// producer can (saturation): a constant-rate shape, in place of the scenario's.
    #[arg(long, default_value = "120000", value_parser = parse_rate)]
    pub rate: Rate,
    /// Seconds of measured load, after the warm-up. The run then drains: it waits for the banks'
    /// outstanding replies (at most the bank timeout) and closes the last clearing batch.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seeds the workload, the banks and the generated network: the same seed offers the same
    /// payments.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// `auto` (chosen for this machine's cores), `fused` (every stage on the producer's thread),
    /// `pipelined` (a thread per stage), or a topology file (see docs/ARCHITECTURE.md).
    #[arg(long, default_value = "auto")]
    pub topology: String,
    /// Authorize workers for `auto` and `pipelined`; by default as many as the cores allow.
    #[arg(long)]
    pub workers: Option<usize>,
    /// Producer threads: 1 plays the institutions, the banks and the operator; n > 1 runs n − 1
    /// institution threads (each a partition of the institutions and of the rate) and one for the
    /// banks and the operator, on a multi-producer ring. By default 1, or 3 where `auto` finds 12
    /// cores or more.
    #[arg(long)]
    pub producers: Option<usize>,
    /// Slots in the ring, a power of two, in place of the topology's (16,384 for `auto`).
    #[arg(long)]
    pub ring_capacity: Option<usize>,
    /// The most events a stage takes from the ring at once, and the producer publishes at once,
    /// in place of the topology's (512 for `auto`).
    #[arg(long)]
    pub batch_size_max: Option<usize>,
    /// How the stages are joined: the ring, or crossbeam bounded channels (the baseline).
    #[arg(long, value_enum, default_value_t = Transport::Ring)]
    pub transport: Transport,
    /// `hmac` checks every event's HMAC-SHA256; `none` skips it, to profile the bare pipeline.
    #[arg(long, default_value = "hmac")]
    pub mac: MacMode,
    /// Arrival process of the institutions' payments.
    #[arg(long, value_enum, default_value_t = ArrivalArg::Poisson)]
    pub arrival: ArrivalArg,
    /// A participants and BIN table file (docs/CONFIG.md); by default a generated network of
    /// 115 institutions and 424 banks.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Milliseconds of event time between cutovers (clearing batches).
    #[arg(long, default_value_t = 1_000)]
    pub cutover_ms: u64,
    /// Milliseconds a payment may wait for its bank before its hold expires.
    #[arg(long)]
    pub bank_timeout_ms: Option<u64>,
    /// How long a decided payment is remembered: a resend within it gets the original outcome,
    /// a refund finds its original; an id older is refused by name (`90s`, `10m`, `24h`,
    /// `30d`; 24h by default, within 1m and 400d). A data directory keeps the retention it was
    /// made with.
    #[arg(long, value_parser = super::memory::parse_retention)]
    pub retention: Option<u64>,
    /// Microseconds every bank takes to answer (0: at once); with `--bank-latency-sigma`, the
    /// median of a log-normal distribution.
    #[arg(long, default_value_t = 0)]
    pub bank_latency_us: u64,
    /// The spread (σ of the logarithm) of the banks' answer times around `--bank-latency-us`;
    /// 0 makes every answer take exactly that long.
    #[arg(long, default_value_t = 0.0)]
    pub bank_latency_sigma: f64,
    /// Also write the summary as JSON (docs/OUTPUT.md) to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// The scenario, the measurement's window and gates, and where its files go.
    #[command(flatten)]
    pub measure: MeasureArgs,
    /// Where the journal lives and how it reaches the disk.
    #[command(flatten)]
    pub durable: DurableArgs,
    /// Skip re-running the recorded input through a fresh single-threaded switch after the run
    /// (saves the time and memory of the recording; the summary then says the check was skipped).
    #[arg(long)]
    pub no_replay: bool,
}

/// The flags of a measured load, the same for `clearway run` and `clearway load`: which scenario,
/// how the traffic is shaped, what is excluded and judged, and where the results go.
#[derive(Args, Clone, Debug)]
pub struct MeasureArgs {
    /// A scenario file (docs/SCENARIOS.md), or a built-in scenario's name: steady (the default),
    /// double11, spring-festival-eve, bank-outage, liquidity-squeeze, soak. Flags override its
    /// fields.
    #[arg(long)]
    pub scenario: Option<String>,
    /// The traffic shape, in place of the scenario's: `constant:RATE`, `poisson:RATE`,
    /// `ramp:FROM..TO/OVERs`, `steps:RATE@Ts,...`, `spike:BASE..PEAK@ATs/RISEs/HOLDs/DECAYs`,
    /// `profile:RATE@Ts,...`, `trace:FILE.csv` or `max`.
    #[arg(long)]
    pub shape: Option<clearway_loadgen::Shape>,
    /// Seconds of load before the measured window, excluded from latency and rates (by the time
    /// each value was recorded); by default the scenario's.
    #[arg(long)]
    pub warmup: Option<f64>,
    /// An SLO gate, e.g. `p99<2ms`, `ledger.p999<500us`, `error_rate<0.1%`,
    /// `throughput>100000`; repeat for more. Replaces the scenario's gates. A failed gate exits 6.
    #[arg(long = "slo", value_name = "GATE")]
    pub slo: Vec<crate::slo::Gate>,
    /// Stop the load as soon as a latency or rate gate fails on the data so far (throughput gates
    /// are judged at the end only).
    #[arg(long)]
    pub abort_on_fail: bool,
    /// The share of planned payments the generator may send late (over 1 ms) or not at all
    /// before the run is invalid (exit 5): `1%` (the default) or a fraction such as `0.05`.
    #[arg(long, value_parser = parse_fraction,
          default_value_t = crate::constants::GENERATOR_LATE_FRACTION_MAX)]
    pub late_fraction_max: f64,
    /// No progress line (it is drawn only on a terminal anyway).
    #[arg(long)]
    pub quiet: bool,
    /// Folder for the run's files: summary.json, latency.hlog, a .hgrm spectrum per tag,
    /// scenario.toml, environment.json, and the settlement reports in batches/ (by default those
    /// go to out/batches and nothing else is written).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write report.html and its plots into `--out`.
    #[arg(long, requires = "out")]
    pub report: bool,
    /// The scenario resolved against the flags (`scenario::resolve`).
    #[arg(skip)]
    pub plan: crate::scenario::Plan,
}

impl Default for MeasureArgs {
    /// No scenario named (so `steady`), no gates, no files: what `clearway serve` measures with.
    fn default() -> Self {
        MeasureArgs {
            scenario: None,
            shape: None,
            warmup: None,
            slo: Vec::new(),
            abort_on_fail: false,
            late_fraction_max: crate::constants::GENERATOR_LATE_FRACTION_MAX,
            quiet: false,
            out: None,
            report: false,
            plan: crate::scenario::Plan::default(),
        }
    }
}

impl MeasureArgs {
    /// Where the settlement reports go.
    pub fn batches_dir(&self) -> PathBuf {
        match &self.out {
            Some(out) => out.join("batches"),
            None => PathBuf::from("out/batches"),
        }
    }
}

/// The flags of a durable switch, the same for `clearway run` and `clearway serve`.
#[derive(Args, Clone, Debug)]
pub struct DurableArgs {
    /// Folder of the durable journal and snapshots (docs/DURABILITY.md). The journal stage writes
    /// every input event there, beside authorize, and nothing is answered before it is on disk.
    /// If the folder already holds a journal, the run first recovers the ledger from it (the
    /// newest valid snapshot, then the journal after it) and continues from there.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// `fsync`: each group of journal writes is made durable with one fdatasync before anything
    /// in it is answered; `none`: written, never synced (the page cache decides). Needs
    /// `--data-dir`; `fsync` is the default with one.
    #[arg(long, value_enum)]
    pub durability: Option<DurabilityArg>,
    /// Size of each journal segment file, in MiB; a new segment starts when the next record does
    /// not fit.
    #[arg(long, default_value_t = crate::constants::SEGMENT_SIZE_MIB_DEFAULT)]
    pub segment_size_mib: u64,
    /// Do not pre-allocate segment files (they then grow as written, and each sync also updates
    /// the file's size).
    #[arg(long)]
    pub no_preallocate: bool,
    /// Take a snapshot at the first cutover after this many events since the last one (0:
    /// never). Recovery replays at most about this many events.
    #[arg(long, default_value_t = crate::constants::SNAPSHOT_EVERY_EVENTS_DEFAULT)]
    pub snapshot_every: u64,
    /// If recovery finds a corrupt journal record (not a torn last one), cut the journal there
    /// instead of refusing to start, discarding that record and everything after it.
    #[arg(long)]
    pub truncate_corrupt: bool,
    /// Append `txn_id,outcome` to this file for every payment, once answered.
    #[arg(long)]
    pub ack_log: Option<PathBuf>,
}

impl DurableArgs {
    /// No data directory: everything in memory (`clearway load`, which journals nothing).
    pub fn none() -> DurableArgs {
        DurableArgs {
            data_dir: None,
            durability: None,
            segment_size_mib: crate::constants::SEGMENT_SIZE_MIB_DEFAULT,
            no_preallocate: false,
            snapshot_every: 0,
            truncate_corrupt: false,
            ack_log: None,
        }
    }

    /// Refuses settings that contradict each other.
    pub fn validate(&self) -> Result<(), crate::exit::Failure> {
        if self.data_dir.is_none() && self.durability.is_some() {
            return Err(crate::exit::Failure::usage(
                "--durability says how the journal reaches the disk: it needs --data-dir",
            ));
        }
        if self.segment_size_mib == 0 {
            return Err(crate::exit::Failure::usage(
                "--segment-size-mib must be at least 1",
            ));
        }
        Ok(())
    }
}

/// `1%` or `0.01` → 0.01; a share between 0 and 1.
pub(crate) fn parse_fraction(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.trim().strip_suffix('%') {
        Some(percent) => (percent, 100.0),
        None => (text.trim(), 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(value) if (0.0..=1.0).contains(&(value / scale)) => Ok(value / scale),
        _ => Err(format!(
            "{text:?} is not a share: expected a percentage such as 1% or a fraction from 0 to 1"
        )),
    }
}

/// The offered rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rate {
    /// Payments per second.
    PerSecond(f64),
    /// As fast as the producer can offer.
    Max,
}

pub(crate) fn parse_rate(text: &str) -> Result<Rate, String> {
    if text == "max" {
        return Ok(Rate::Max);
    }
    match text.replace('_', "").parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(Rate::PerSecond(rate)),
        _ => Err(format!(
            "{text:?} is not a rate: expected payments per second above 0, or max"
        )),
    }
}

/// Which joins carry events between stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// The lock-free ring: stages write results in place in pre-allocated slots.
    Ring,
    /// One crossbeam bounded channel between consecutive stages, events moved by value.
    Channel,
}

impl Transport {
    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Ring => "ring",
            Transport::Channel => "channel",
        }
    }
}

/// How the journal makes its writes durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DurabilityArg {
    /// Written to the segment files, never synced.
    None,
    /// One fdatasync per group commit, before anything in the group is answered.
    Fsync,
}

/// The arrival process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ArrivalArg {
    /// Exponential gaps: independent senders.
    Poisson,
    /// Evenly spaced.
    Constant,
}
