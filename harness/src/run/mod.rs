//! `clearway run`: the switch, its institutions and its banks in one process, for a set time,
//! then a summary whose every figure was measured in this run.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `args.rs` | [`RunArgs`]: the command line |
//! | `layout.rs` | which threads run which steps: `auto`, `fused`, `pipelined` or a file |
//! | `driver.rs` | the producer thread: institutions, banks, cutovers, the drain |
//! | `steps.rs` | a stage thread's chain of steps, the ledger's sink, the journal |
//! | `timed.rs` | per-step exit latency, one clock read per batch |
//! | `egress.rs` | answers, forwarding to banks, tallies, end-to-end latency |
//! | `channel.rs` | the channel transport, the baseline |
//! | `replay.rs` | the replay check |
//! | `summary.rs` | the summary, human and JSON |
//! | `latency.rs`, `clock.rs`, `recording.rs`, `report.rs`, `environment.rs` | their one thing each |

mod args;
mod channel;
mod clock;
mod driver;
mod egress;
mod environment;
mod latency;
mod layout;
mod producers;
mod recording;
mod replay;
mod report;
mod steps;
mod summary;
mod timed;

pub use args::RunArgs;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use clearway_core::event::{Decline, Event, Results};
use clearway_core::network::Network;
use clearway_core::pipeline::{available_cores, Handlers, Mode, Pipeline, Producer, Worker};
use clearway_core::stage::{
    Authorize, BatchReport, Ledger, LedgerConfig, LedgerStage, LedgerSummary, Route,
};
use crossbeam::channel::unbounded;
use parking_lot::Mutex;

use self::args::{Rate, Transport};
use self::channel::{ChannelIngress, ChannelStage};
use self::clock::RunClock;
use self::driver::{DriverOutcome, Ingress, Load};
use self::egress::{Egress, EgressReport};
use self::latency::Latencies;
use self::layout::{Layout, Role, Step};
use self::producers::Producers;
use self::recording::Recording;
use self::report::{ReportInbox, Reports, ThreadReport};
use self::steps::{Journal, RunSink, StepChain, StepHandler};
use self::summary::{
    LedgerFigures, OtherEvents, Payments, PipelineStage, StageSummary, Summary, TopologySummary,
};
use self::timed::Timed;
use crate::constants::LEDGER_TABLE_CAPACITY_MIN;
use crate::exit;

/// Runs `clearway run`; the exit code is documented in docs/OUTPUT.md.
pub fn run(args: RunArgs) -> ExitCode {
    match execute(&args) {
        Ok(summary) => {
            print!("{summary}");
            if let Some(path) = &args.json {
                let text = serde_json::to_string_pretty(&summary).expect("the summary serialises");
                if let Err(error) = std::fs::write(path, text + "\n") {
                    eprintln!("clearway: cannot write {}: {error}", path.display());
                    return ExitCode::from(exit::UNREADABLE);
                }
            }
            if summary.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(exit::CHECK_FAILED)
            }
        }
        Err(RunError { message, code }) => {
            eprintln!("clearway: {message}");
            ExitCode::from(code)
        }
    }
}

/// Why a run could not give a summary, and the exit code that says so.
struct RunError {
    message: String,
    code: u8,
}

impl RunError {
    fn usage(message: impl Into<String>) -> RunError {
        RunError {
            message: message.into(),
            code: exit::USAGE,
        }
    }

    fn failed(message: impl Into<String>) -> RunError {
        RunError {
            message: message.into(),
            code: exit::RUN_FAILED,
        }
    }
}

/// Everything the stages' factories share.
struct Shared {
    network: Arc<Network>,
    args: RunArgs,
    ledger_config: LedgerConfig,
    clock: RunClock,
    batch_size_max: usize,
    reports: Reports,
    sink: Mutex<Option<RunSink>>,
    egress: Mutex<Option<Egress>>,
}

impl Shared {
    /// `handler` for `step`, timed.
    fn timed<H>(&self, step: Step, handler: H) -> Timed<H> {
        Timed::new(
            step,
            handler,
            self.clock,
            self.batch_size_max,
            self.reports.clone(),
        )
    }

    /// The handler of a stage running `steps`, built on its worker's thread.
    fn chain(&self, steps: &[Step]) -> StepChain {
        StepChain(
            steps
                .iter()
                .map(|&step| match step {
                    Step::Authorize => StepHandler::Authorize(
                        self.timed(step, Authorize::new(&self.network, self.args.mac)),
                    ),
                    Step::Route => StepHandler::Route(self.timed(step, Route::new(&self.network))),
                    Step::Ledger => {
                        let sink = self.sink.lock().take().expect("one ledger per run");
                        let ledger = Ledger::new(&self.network, self.ledger_config);
                        StepHandler::Ledger(Box::new(
                            self.timed(step, LedgerStage::new(ledger, sink)),
                        ))
                    }
                    Step::Egress => StepHandler::Egress(Box::new(
                        self.egress.lock().take().expect("one egress per run"),
                    )),
                })
                .collect(),
        )
    }
}

fn execute(args: &RunArgs) -> Result<Summary, RunError> {
    if !(args.duration > 0.0 && args.duration.is_finite()) {
        return Err(RunError::usage(
            "--duration must be a number of seconds above 0",
        ));
    }
    if args.cutover_ms == 0 {
        return Err(RunError::usage("--cutover-ms must be above 0"));
    }
    if !(args.bank_latency_sigma.is_finite() && args.bank_latency_sigma >= 0.0) {
        return Err(RunError::usage(
            "--bank-latency-sigma must be a number, 0 or more",
        ));
    }
    let network = match &args.config {
        Some(path) => Network::load(path).map_err(|error| RunError {
            message: error.to_string(),
            code: exit::UNREADABLE,
        })?,
        None => Network::generated(args.seed),
    };
    let network = Arc::new(network);
    let cores = available_cores();
    let layout = layout::choose(&args.topology, args.workers, args.producers, &cores)
        .map_err(RunError::usage)?;
    let ledger_config = ledger_config(args);
    println!("topology: {}", layout.source);
    print!("{}", layout.topology);

    let config = layout.topology.config();
    let batch_size_max = config.batch_size_max;
    let clock = RunClock::start();
    let (reports, inbox) = unbounded();
    // Egress never waits on either queue: every forwarded payment holds a ledger hold, and
    // outstanding expiries are at most the holds plus the events in flight between the ledger
    // and egress (a ring's worth; twice that is allocated, for margin).
    let (to_banks, from_egress) = rtrb::RingBuffer::new(ledger_config.holds_capacity);
    let (expiries_in, expiries_out) =
        rtrb::RingBuffer::new(ledger_config.holds_capacity + config.ring_capacity * 2);
    let (batches, batch_inbox) = unbounded::<BatchReport>();
    let writer = spawn_report_writer(args.out.clone(), batch_inbox);
    let answered = Arc::new(AtomicU64::new(0));

    let shared = Arc::new(Shared {
        network: Arc::clone(&network),
        args: args.clone(),
        ledger_config,
        clock,
        batch_size_max,
        reports: reports.clone(),
        sink: Mutex::new(Some(RunSink {
            expiries: expiries_in,
            batches,
            reports: reports.clone(),
        })),
        egress: Mutex::new(Some(Egress::new(
            clock,
            to_banks,
            expiries_out,
            batch_size_max,
            Arc::clone(&answered),
            reports.clone(),
        ))),
    });

    let mut producers = Producers::new(
        args,
        &network,
        &ledger_config,
        layout.producers,
        layout.producer_cores.clone(),
        from_egress,
    );
    let record = !args.no_replay && (!layout.has_journal() || args.transport == Transport::Channel);
    let start = Start {
        args,
        clock,
        bank_timeout_ns: ledger_config.bank_timeout_ns,
        record,
        answered,
    };
    let (driven, pipeline) = match args.transport {
        Transport::Ring => run_ring(&layout, &shared, &reports, &mut producers, start)?,
        Transport::Channel => (run_channel(&layout, &shared, &mut producers, start)?, None),
    };
    drop(shared);
    drop(reports);
    let written = writer
        .join()
        .map_err(|_| RunError::failed("the report writer panicked"))?;
    let written = written.map_err(RunError::failed)?;
    let collected = collect(inbox);
    let simulated = Simulated {
        faults_injected: producers.faults_injected(),
        banks: producers.bank_decisions(),
    };
    summarise(
        args,
        &network,
        &layout,
        ledger_config,
        driven,
        collected,
        pipeline,
        written,
        simulated,
    )
}

/// The ledger's tables sized for the offered rate: a window generation holds one clearing
/// batch's payments, and the holds table every payment that may wait a whole bank timeout, each
/// with half again as much room for Poisson bursts. Sizing them for the run rather than for the
/// largest machine keeps a 180,000/s run's tables in megabytes instead of the defaults' hundreds,
/// which the ledger would otherwise page in, a fault at a time, while it runs.
fn ledger_config(args: &RunArgs) -> LedgerConfig {
    let mut config = LedgerConfig::default();
    if let Some(timeout_ms) = args.bank_timeout_ms {
        config.bank_timeout_ns = timeout_ms * 1_000_000;
    }
    if let Rate::PerSecond(rate) = args.rate {
        let sized = |seconds: f64, largest: usize| {
            ((rate * seconds * 1.5) as usize).clamp(LEDGER_TABLE_CAPACITY_MIN, largest)
        };
        let wait_s = config.bank_timeout_ns as f64 / 1e9 + args.bank_latency_us as f64 / 1e6;
        config.window_capacity = sized(args.cutover_ms as f64 / 1e3, config.window_capacity);
        config.holds_capacity = sized(wait_s, config.holds_capacity);
    }
    config
}

/// The ring transport: a [`Pipeline`] over the layout's topology, the driver as its producer.
fn run_ring(
    layout: &Layout,
    shared: &Arc<Shared>,
    reports: &Reports,
    producers: &mut Producers,
    start: Start<'_>,
) -> Result<(Driven, Option<Vec<PipelineStage>>), RunError> {
    let mut handlers = Handlers::<Event, Results>::new();
    for (index, role) in layout.roles.iter().enumerate() {
        let name = &layout.topology.stage(index).name;
        match role {
            Role::Journal => {
                let reports = reports.clone();
                handlers =
                    handlers.input_stage(name, move |_: Worker| Journal::new(reports.clone()));
            }
            Role::Steps(steps) => {
                let shared = Arc::clone(shared);
                let steps = steps.clone();
                handlers = handlers.stage(name, move |_: Worker| shared.chain(&steps));
            }
        }
    }
    let pipeline = Pipeline::start(&layout.topology, handlers)
        .map_err(|error| RunError::failed(error.to_string()))?;
    let load = start.load();
    let driven = producers.drive(&load, || {
        pipeline
            .producer()
            .map(|producer| RingIngress { producer })
            .map_err(|error| error.to_string())
    });
    let counters = pipeline.counters();
    let shutdown = pipeline.shutdown();
    let driven = driven.map_err(RunError::failed)?;
    shutdown.map_err(|error| RunError {
        message: error.to_string(),
        code: exit::RUN_FAILED,
    })?;
    let stages = (layout.topology.config().mode == Mode::Pipelined).then(|| {
        counters
            .stages
            .iter()
            .map(|stage| {
                let total = stage.total();
                PipelineStage {
                    name: stage.name.clone(),
                    workers: stage.workers.len(),
                    events: total.events,
                    batch_mean: total.batch_size_mean(),
                    lag_mean: total.lag_mean(),
                    lag_max: total.lag_max,
                }
            })
            .collect()
    });
    Ok((driven, stages))
}

/// What a run's producers did, and the input they recorded.
type Driven = (DriverOutcome, Option<Recording>);

/// What starting the load needs, once the pipeline is up.
struct Start<'a> {
    args: &'a RunArgs,
    clock: RunClock,
    bank_timeout_ns: u64,
    record: bool,
    answered: Arc<AtomicU64>,
}

impl Start<'_> {
    /// The load, starting now: the pipeline's start-up (the ledger allocating its tables) is
    /// behind us and does not count as a stall.
    fn load(&self) -> Load {
        producers::load(
            self.args,
            self.clock,
            self.bank_timeout_ns,
            self.record,
            Arc::clone(&self.answered),
        )
    }
}

/// The channel transport's ingress shared by several producer threads: each publish takes the
/// lock, so sequences go out in order on every channel.
struct SharedIngress(Arc<Mutex<ChannelIngress>>);

impl Ingress for SharedIngress {
    fn publish(&mut self, events: &mut [Event], event_ns: u64) -> Result<(), String> {
        self.0.lock().publish(events, event_ns)
    }
}

struct RingIngress<'p> {
    producer: Producer<'p, Event, Results>,
}

impl Ingress for RingIngress<'_> {
    fn publish(&mut self, events: &mut [Event], event_ns: u64) -> Result<(), String> {
        let mut index = 0;
        self.producer
            .publish_batch(events.len(), |sequence, input, output| {
                let event = &mut events[index];
                event.sequence = sequence;
                event.event_ns = event_ns;
                *input = *event;
                *output = Results::default();
                index += 1;
            })
            .map_err(|error| error.to_string())
    }
}

/// The channel transport: the layout's step stages as threads joined by bounded channels. A
/// journal stage has no channel counterpart; the driver records instead.
fn run_channel(
    layout: &Layout,
    shared: &Arc<Shared>,
    producers: &mut Producers,
    start: Start<'_>,
) -> Result<Driven, RunError> {
    if layout.topology.config().mode == Mode::Fused {
        return Err(RunError::usage(
            "the channel transport joins stages on separate threads; a fused topology has none \
             to join (use --transport ring)",
        ));
    }
    let stages: Vec<ChannelStage> = layout
        .topology
        .order()
        .iter()
        .filter_map(|&index| match &layout.roles[index] {
            Role::Steps(steps) => {
                let stage = layout.topology.stage(index);
                let shared = Arc::clone(shared);
                let steps = steps.clone();
                Some(ChannelStage {
                    name: stage.name.clone(),
                    workers: stage.workers,
                    cores: stage.cores.clone(),
                    build: Arc::new(move |_: Worker| shared.chain(&steps)),
                })
            }
            Role::Journal => None,
        })
        .collect();
    let (ingress, chain) = channel::start(stages, layout.topology.config().ring_capacity)
        .map_err(|error| RunError::failed(format!("cannot start a stage thread: {error}")))?;
    let ingress = Arc::new(Mutex::new(ingress));
    let load = start.load();
    let driven = producers.drive(&load, || Ok(SharedIngress(Arc::clone(&ingress))));
    drop(ingress);
    let joined = chain.join();
    let driven = driven.map_err(RunError::failed)?;
    joined.map_err(RunError::failed)?;
    Ok(driven)
}

/// Writes each closed batch's settlement report; returns how many.
fn spawn_report_writer(
    dir: std::path::PathBuf,
    inbox: crossbeam::channel::Receiver<BatchReport>,
) -> std::thread::JoinHandle<Result<u64, String>> {
    std::thread::spawn(move || {
        std::fs::create_dir_all(&dir)
            .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
        let mut written = 0;
        for report in inbox {
            report.write_to(&dir).map_err(|error| {
                format!(
                    "cannot write a settlement report in {}: {error}",
                    dir.display()
                )
            })?;
            written += 1;
        }
        Ok(written)
    })
}

/// Everything the threads reported.
#[derive(Default)]
struct Collected {
    stages: BTreeMap<Step, (u64, usize, Latencies)>,
    egress: Option<EgressReport>,
    ledger: Option<LedgerSummary>,
    journal: Option<Recording>,
}

fn collect(inbox: ReportInbox) -> Collected {
    let mut collected = Collected::default();
    for report in inbox.try_iter() {
        match report {
            ThreadReport::Stage {
                step,
                events,
                latencies,
            } => {
                let entry = collected
                    .stages
                    .entry(step)
                    .or_insert_with(|| (0, 0, Latencies::new()));
                entry.0 += events;
                entry.1 += 1;
                entry.2.add(&latencies);
            }
            ThreadReport::Egress(report) => collected.egress = Some(*report),
            ThreadReport::Ledger(summary) => collected.ledger = Some(summary),
            ThreadReport::Journal(recording) => collected.journal = Some(recording),
        }
    }
    collected
}

/// What the simulated participants did, as reported.
struct Simulated {
    faults_injected: serde_json::Value,
    banks: serde_json::Value,
}

#[allow(clippy::too_many_arguments)]
fn summarise(
    args: &RunArgs,
    network: &Network,
    layout: &Layout,
    ledger_config: LedgerConfig,
    driven: Driven,
    collected: Collected,
    pipeline: Option<Vec<PipelineStage>>,
    reports_written: u64,
    simulated: Simulated,
) -> Result<Summary, RunError> {
    let egress = collected
        .egress
        .ok_or_else(|| RunError::failed("egress did not report"))?;
    let ledger = collected
        .ledger
        .ok_or_else(|| RunError::failed("the ledger did not report"))?;
    let (driven, recording) = driven;
    let recording = recording.or(collected.journal);
    let replayed = recording
        .as_ref()
        .map(|recording| replay::replay(network, args.mac, ledger_config, recording));
    let window_s = driven.window_ns as f64 / 1e9;
    let payments = Payments {
        submitted: driven.submitted,
        approved: egress.approved,
        declined: egress.declined,
        rejected: egress.rejected,
        expired: egress.expired,
        busy: 0,
    };
    let mut rejects_by_reason: BTreeMap<String, u64> = Decline::ALL
        .iter()
        .filter(|decline| egress.rejects_by_reason[decline.index()] > 0)
        .map(|decline| {
            (
                decline.name().to_string(),
                egress.rejects_by_reason[decline.index()],
            )
        })
        .collect();
    if egress.exists > 0 {
        rejects_by_reason.insert("Exists".to_string(), egress.exists);
    }
    if egress.unexplained > 0 {
        rejects_by_reason.insert("Unexplained".to_string(), egress.unexplained);
    }
    let stages = collected
        .stages
        .iter()
        .filter(|(step, _)| **step != Step::Egress)
        .map(|(step, (events, workers, latencies))| {
            (
                step.name().to_string(),
                StageSummary {
                    latency_ns: latencies.percentiles(),
                    events: *events,
                    workers: *workers,
                },
            )
        })
        .collect();
    let replay_ok = replayed.as_ref().map(|replayed| {
        replayed.state_hash == ledger.state_hash
            && replayed.positions_sum == 0
            && replayed.events as u64 == driven.published
    });
    let mut checks = BTreeMap::new();
    checks.insert("outcomes_add_up".to_string(), payments.add_up());
    checks.insert(
        "every_refusal_has_a_reason".to_string(),
        egress.unexplained == 0,
    );
    checks.insert("positions_sum_zero".to_string(), ledger.positions_sum == 0);
    checks.insert(
        "every_payment_answered".to_string(),
        egress.answered() == driven.submitted,
    );
    checks.insert(
        "settlement_reports_written".to_string(),
        reports_written == egress.batches_closed,
    );
    if let Some(ok) = replay_ok {
        checks.insert("replay_rebuilds_state_hash".to_string(), ok);
    }
    let ok = checks.values().all(|passed| *passed);
    let config = layout.topology.config();
    Ok(Summary {
        seed: args.seed,
        duration_s: window_s,
        offered_per_s: driven.submitted as f64 / window_s,
        throughput_per_s: driven.answered_in_window as f64 / window_s,
        payments,
        rejects_by_reason,
        latency_ns: egress.latencies.percentiles(),
        stages,
        ledger: LedgerFigures {
            positions_sum: ledger.positions_sum,
            batches_closed: egress.batches_closed,
            state_hash: ledger.state_hash.to_string(),
            replay_state_hash_ok: replay_ok,
            pending_at_end: ledger.pending_count as u64,
            reports_dir: args.out.display().to_string(),
        },
        topology: TopologySummary {
            source: layout.source.clone(),
            mode: match config.mode {
                Mode::Pipelined => "pipelined".to_string(),
                Mode::Fused => "fused".to_string(),
            },
            threads: layout.topology.thread_count() + layout.producers - 1,
            producers: layout.producers,
            map: layout.topology.to_string(),
        },
        transport: args.transport.name().to_string(),
        mac: args.mac.to_string(),
        environment: environment::Environment::here(),
        events: OtherEvents {
            published: driven.published,
            bank_replies: driven.replies,
            late_replies: egress.late_replies,
            replies_rejected: egress.replies_rejected,
            forwarded: egress.forwarded,
            silent: driven.silent,
            cutovers: driven.cutovers,
            replies_dropped: driven.schedule_full,
        },
        faults_injected: simulated.faults_injected,
        banks: simulated.banks,
        pipeline,
        drain_s: driven.drain_ns as f64 / 1e9,
        replay_s: replayed.as_ref().map(|replayed| replayed.seconds),
        checks,
        ok,
    })
}
