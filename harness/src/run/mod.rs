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
//! | `steps.rs` | a stage thread's chain of steps, the ledger's sink |
//! | `journal.rs` | the journal stage: segment files and group commit, or memory |
//! | `durable.rs` | a durable run's start: manifest, recovery, the journal writer |
//! | `snapshots.rs` | when route and the ledger save their state, and the snapshot writer |
//! | `ack_log.rs` | one line per answered payment, for crash tests |
//! | `memory.rs` | `--retention`, the epoch, the run's payment store |
//! | `timed.rs` | per-step exit latency, one clock read per batch |
//! | `egress.rs` | answers, forwarding to banks, tallies, end-to-end latency |
//! | `channel.rs` | the channel transport, the baseline |
//! | `replay.rs` | the replay check |
//! | `summary.rs` | the summary, human and JSON |
//! | `latency.rs`, `clock.rs`, `recording.rs`, `report.rs`, `environment.rs` | their one thing each |

pub(crate) mod ack_log;
pub(crate) mod args;
mod channel;
pub(crate) mod clock;
pub(crate) mod driver;
pub(crate) mod durable;
pub(crate) mod egress;
pub(crate) mod environment;
pub(crate) mod generator;
pub(crate) mod journal;
pub(crate) mod latency;
pub(crate) mod layout;
pub(crate) mod memory;
pub(crate) mod producers;
pub(crate) mod recording;
mod replay;
pub(crate) mod report;
pub(crate) mod snapshots;
pub(crate) mod steps;
pub(crate) mod summary;
pub(crate) mod timed;

pub use args::RunArgs;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;

use clearway_core::event::{Decline, Event, Results};
use clearway_core::network::Network;
use clearway_core::pipeline::{available_cores, Handlers, Mode, Pipeline, Producer, Worker};
use clearway_core::stage::{
    queues_for, Authorize, BatchReport, Ledger, LedgerConfig, LedgerStage, LedgerSummary, Prefetch,
    Route, StoreWriter,
};
use clearway_core::store::PaymentStore;
use crossbeam::channel::{unbounded, Sender};
use parking_lot::Mutex;

use self::ack_log::AckLog;
use self::args::{Rate, Transport};
use self::channel::{ChannelIngress, ChannelStage};
use self::clock::RunClock;
use self::driver::{DriverOutcome, Ingress, Load};
use self::durable::{Durable, RecoveryFigures};
use self::egress::{Door, Egress, EgressReport, Forwarded};
use self::generator::GeneratorFigures;
use self::journal::{DurableJournal, JournalFigures, JournalStage};
use self::latency::Latencies;
use self::layout::{Layout, Role, Step};
use self::producers::Measures;
use self::producers::Producers;
use self::recording::Recording;
use self::report::{ReportInbox, Reports, ThreadReport};
use self::snapshots::{
    spawn_snapshot_writer, JournalProgress, SnapshotFigures, SnapshotPart, SnapshotPolicy,
    Snapshotting,
};
use self::steps::{RunSink, StepChain, StepHandler};
use self::summary::{
    DurabilitySummary, LedgerFigures, OtherEvents, Payments, PipelineStage, StageSummary, Summary,
    TopologySummary,
};
use self::timed::{LiveLatencies, Timed};
use crate::constants::LEDGER_TABLE_CAPACITY_MIN;
use crate::exit::{self, Failure};
use crate::interval::{
    Monitor, MonitorConfig, MonitorHandle, Monitored, Outcomes, Tag, Timeline, Window,
};
use crate::scenario::Given;
use crate::slo::Observed;

/// Runs `clearway run`; the exit code is documented in docs/OUTPUT.md. `given` names the flags
/// the command line gave, which override the scenario's fields.
pub fn run(mut args: RunArgs, given: &Given) -> ExitCode {
    let result = crate::scenario::resolve(&mut args, given)
        .and_then(|()| execute(&args))
        .and_then(|(summary, monitored, window)| {
            let fingerprint = crate::results::Fingerprint {
                environment: summary.environment.clone(),
                topology: Some(format!(
                    "{}\n{}",
                    summary.topology.source, summary.topology.map
                )),
                command: "run".to_string(),
            };
            let written =
                crate::results::write(&args.measure, &summary, &monitored, &window, &fingerprint)?;
            Ok((summary, written))
        });
    crate::results::finish(result, args.json.as_deref(), |summary| {
        exit::verdict(summary.ok, summary.valid, summary.slo_passed)
    })
}

/// Everything the stages' factories share.
pub(crate) struct Shared {
    network: Arc<Network>,
    args: RunArgs,
    clock: RunClock,
    batch_size_max: usize,
    reports: Reports,
    sink: Mutex<Option<RunSink>>,
    egress: Mutex<Option<Egress>>,
    /// Route as recovered from the data directory; a fresh one without.
    route: Mutex<Option<Route>>,
    /// The ledger as recovered; a fresh one without. Attached to the store.
    ledger: Mutex<Option<Ledger>>,
    /// The prefetch, connected to the ledger.
    prefetch: Mutex<Option<Prefetch>>,
    /// The store writer, connected to the ledger's sink.
    store_writer: Mutex<Option<StoreWriter>>,
    /// The journal stage's handler.
    journal: Mutex<Option<JournalStage>>,
    /// When route and the ledger save their state.
    snapshot_policy: SnapshotPolicy,
    /// Where they send it; none without a data directory.
    snapshot_parts: Option<Sender<SnapshotPart>>,
    /// Where the timed steps' recorders report.
    monitor: MonitorHandle,
}

impl Shared {
    /// `handler` for `step`, timed.
    fn timed<H>(&self, step: Step, handler: H) -> Timed<H> {
        let tag = Tag::of(step).expect("only authorize, route and the ledger are timed");
        Timed::new(
            step,
            handler,
            self.clock,
            self.batch_size_max,
            self.reports.clone(),
            self.monitor.recorder(tag),
        )
    }

    /// `handler`, saving its state at due cutovers when the run has a data directory.
    fn snapshotting<H>(&self, handler: H) -> Snapshotting<H> {
        Snapshotting::new(handler, self.snapshot_policy, self.snapshot_parts.clone())
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
                    Step::Route => {
                        let route = self.route.lock().take();
                        let route = route.unwrap_or_else(|| Route::new(&self.network));
                        StepHandler::Route(self.timed(step, self.snapshotting(route)))
                    }
                    Step::Prefetch => StepHandler::Prefetch(Box::new(
                        self.prefetch.lock().take().expect("one prefetch per run"),
                    )),
                    Step::Ledger => {
                        let sink = self.sink.lock().take().expect("one ledger per run");
                        let ledger = self.ledger.lock().take().expect("one ledger per run");
                        let stage = self.snapshotting(LedgerStage::new(ledger, sink));
                        StepHandler::Ledger(Box::new(self.timed(step, stage)))
                    }
                    Step::Store => StepHandler::Store(Box::new(
                        self.store_writer.lock().take().expect("one store per run"),
                    )),
                    Step::Egress => StepHandler::Egress(Box::new(
                        self.egress.lock().take().expect("one egress per run"),
                    )),
                })
                .collect(),
        )
    }
}

fn execute(args: &RunArgs) -> Result<(Summary, Monitored, Arc<Window>), Failure> {
    if args.cutover_ms == 0 {
        return Err(Failure::usage("--cutover-ms must be above 0"));
    }
    if !(args.bank_latency_sigma.is_finite() && args.bank_latency_sigma >= 0.0) {
        return Err(Failure::usage(
            "--bank-latency-sigma must be a number, 0 or more",
        ));
    }
    args.durable.validate()?;
    if args.durable.data_dir.is_some() && args.transport == Transport::Channel {
        return Err(Failure::usage(
            "--data-dir needs the ring transport: the journal is a stage on the ring, beside \
             authorize (use --transport ring)",
        ));
    }
    // The layout first: a refused topology must not leave a new data directory behind.
    let cores = available_cores();
    let layout = layout::choose(
        &args.topology,
        args.workers,
        args.producers,
        args.durable.data_dir.is_some(),
        &cores,
        layout::Sizes {
            ring_capacity: args.ring_capacity,
            batch_size_max: args.batch_size_max,
        },
    )
    .map_err(Failure::usage)?;
    let (network, ledger_config, mut start) = open(args)?;
    let plan = &args.measure.plan;
    let load_s = plan.warmup_s + args.duration;
    plan.check_incidents(&network, load_s)?;
    let network = Arc::new(network);
    println!(
        "scenario: {}: {}; warm-up {} s, then {} s measured{}",
        plan.name,
        plan.shape,
        plan.warmup_s,
        args.duration,
        if plan.gates.is_empty() {
            String::new()
        } else {
            format!(
                "; SLO {}",
                plan.gates
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    println!("topology: {}", layout.source);
    print!("{}", layout.topology);

    let measuring = Measuring::start(args, load_s, RunClock::start_at(start.clock_ns), None, true);
    let Assembled {
        shared,
        reports,
        inbox,
        from_egress,
        writer,
        snapshot_writer,
        answered,
        id_offset,
        clock,
        store: _,
    } = assemble(
        args,
        &network,
        ledger_config,
        &layout,
        &mut start,
        None,
        &measuring,
    )?;
    let mut producers = Producers::new(
        args,
        &network,
        &ledger_config,
        layout.producers,
        layout.producer_cores.clone(),
        from_egress,
        id_offset,
    );
    let record = !args.no_replay && (!layout.has_journal() || args.transport == Transport::Channel);
    let load_start = Start {
        args,
        clock,
        bank_timeout_ns: ledger_config.bank_timeout_ns,
        record,
        answered,
        sequence_base: start.next_sequence,
        measures: &measuring.measures,
    };
    let ran = match args.transport {
        Transport::Ring => run_ring(&layout, &shared, &mut producers, load_start),
        Transport::Channel => {
            run_channel(&layout, &shared, &mut producers, load_start).map(|driven| (driven, None))
        }
    };
    let finished = finish(shared, reports, snapshot_writer, writer, inbox);
    let monitored = measuring.monitor.stop();
    let (driven, pipeline) = ran?;
    let snapshots = finished.snapshots?;
    let written = finished.written?;
    let collected = finished.collected;
    let simulated = Simulated {
        faults_injected: producers.faults_injected(),
        banks: producers.bank_decisions(),
    };
    let durability = Durability {
        mode: start.durability,
        recovery: start.recovery.take(),
        snapshots,
        sequence_base: start.next_sequence,
    };
    let summary = summarise(
        args,
        &network,
        &layout,
        ledger_config,
        driven,
        collected,
        pipeline,
        written,
        simulated,
        durability,
        Measured {
            monitored: &monitored,
            timeline: &measuring.measures.timeline,
        },
    )?;
    Ok((summary, monitored, Arc::clone(&measuring.measures.window)))
}

/// What a run measures with: the monitor thread and what the drivers and egress share with it.
pub(crate) struct Measuring {
    /// The thread.
    pub monitor: Monitor,
    /// The drivers' share.
    pub measures: Measures,
    /// Egress's counts by outcome, as published.
    pub outcomes: Arc<Outcomes>,
}

impl Measuring {
    /// Starts the monitor for a load of `load_s` seconds (warm-up included) of `args`'s plan;
    /// with `live`, it publishes the steps' latency there for a node's metrics; with `progress`,
    /// it draws the progress line.
    pub fn start(
        args: &RunArgs,
        load_s: f64,
        clock: RunClock,
        live: Option<Arc<LiveLatencies>>,
        progress: bool,
    ) -> Measuring {
        let plan = &args.measure.plan;
        let window = Arc::new(Window::new((plan.warmup_s * 1e9) as u64));
        let timeline = Arc::new(Timeline::new(Arc::clone(&window), (load_s * 1e9) as u64));
        let stop = Arc::new(AtomicBool::new(false));
        let outcomes = Arc::new(Outcomes::default());
        let shape = plan.shape.clone();
        let planned: Option<Box<dyn Fn(f64, f64) -> f64 + Send>> =
            shape.expected_count(0.0, 1.0).is_some().then(|| {
                Box::new(move |from_s: f64, to_s: f64| {
                    shape.expected_count(from_s, to_s).unwrap_or(0.0)
                }) as Box<dyn Fn(f64, f64) -> f64 + Send>
            });
        let monitor = Monitor::start(MonitorConfig {
            window: Arc::clone(&window),
            clock,
            timeline: Some(Arc::clone(&timeline)),
            planned,
            outcomes: Arc::clone(&outcomes),
            gates: plan.gates.clone(),
            abort_on_fail: args.measure.abort_on_fail,
            stop: Arc::clone(&stop),
            live,
            progress: progress.then_some((load_s, args.measure.quiet)),
        });
        Measuring {
            monitor,
            measures: Measures {
                window,
                timeline,
                stop,
            },
            outcomes,
        }
    }
}

/// The network, the ledger's settings and where the switch continues from: a data directory
/// recovered (and its recovery printed), or a fresh start.
pub(crate) fn open(args: &RunArgs) -> Result<(Network, LedgerConfig, Continuation), Failure> {
    if args.durable.data_dir.is_some() && !args.measure.plan.caps.is_empty() {
        return Err(Failure::usage(format!(
            "scenario {}: network.caps change the network, which a data directory keeps from its \
             first start: with --data-dir, set the caps in a --config network file instead",
            args.measure.plan.name
        )));
    }
    let durable = match &args.durable.data_dir {
        Some(directory) => Some(durable::open(args, directory, ledger_config(args))?),
        None => None,
    };
    let mut start = Continuation::default();
    let (network, ledger_config) = match durable {
        Some(durable) => {
            print_recovery(args, &durable);
            let Durable {
                network,
                ledger_config,
                route,
                ledger,
                next_sequence,
                writer,
                snapshot_storage,
                recovery,
                durability,
                store,
            } = durable;
            start = Continuation {
                next_sequence,
                clock_ns: if recovery.resumed {
                    memory::resumed_clock_ns(ledger_config.memory, ledger.clock_ns())
                } else {
                    0
                },
                store: Some(store),
                route: Some(route),
                ledger: Some(ledger),
                writer: Some(writer),
                snapshot_storage: Some(snapshot_storage),
                recovery: Some(recovery),
                durability: durability.name(),
            };
            (network, ledger_config)
        }
        None => {
            let mut network = match &args.config {
                Some(path) => {
                    Network::load(path).map_err(|error| Failure::unreadable(error.to_string()))?
                }
                None => Network::generated(args.seed),
            };
            args.measure.plan.apply_caps(&mut network)?;
            (network, ledger_config(args))
        }
    };
    Ok((network, ledger_config, start))
}

/// What the switch's other threads left once its pipeline has stopped.
pub(crate) struct Finished {
    /// The snapshot writer's figures, when it ran.
    pub snapshots: Result<Option<SnapshotFigures>, Failure>,
    /// Settlement reports written.
    pub written: Result<u64, Failure>,
    /// Every thread's report.
    pub collected: Collected,
}

/// Once the pipeline has stopped: lets go of what the stages shared (so the writers see their
/// inputs close), joins the snapshot and report writers, and collects every thread's report.
pub(crate) fn finish(
    shared: Arc<Shared>,
    reports: Reports,
    snapshot_writer: Option<std::thread::JoinHandle<Result<SnapshotFigures, String>>>,
    writer: std::thread::JoinHandle<Result<u64, String>>,
    inbox: ReportInbox,
) -> Finished {
    drop(shared);
    drop(reports);
    let snapshots = snapshot_writer
        .map(|writer| {
            writer
                .join()
                .map_err(|_| Failure::failed("the snapshot writer panicked"))?
                .map_err(Failure::failed)
        })
        .transpose();
    let written = writer
        .join()
        .map_err(|_| Failure::failed("the report writer panicked"))
        .and_then(|written| written.map_err(Failure::failed));
    Finished {
        snapshots,
        written,
        collected: collect(inbox),
    }
}

/// The switch's parts, made and waiting for the pipeline to start: the stages' factories share
/// them.
pub(crate) struct Assembled {
    /// What the stages' factories share.
    pub shared: Arc<Shared>,
    /// Where the threads report.
    pub reports: Reports,
    /// What they reported.
    pub inbox: ReportInbox,
    /// What egress forwards to the banks.
    pub from_egress: rtrb::Consumer<Forwarded>,
    /// The settlement report writer.
    pub writer: std::thread::JoinHandle<Result<u64, String>>,
    /// The snapshot writer, when the run takes snapshots.
    pub snapshot_writer: Option<std::thread::JoinHandle<Result<SnapshotFigures, String>>>,
    /// Payments egress has answered.
    pub answered: Arc<AtomicU64>,
    /// Where this start's transaction ids begin.
    pub id_offset: u128,
    /// The switch's clock.
    pub clock: RunClock,
    /// A handle on the payment store the stages write, for readers beside them (a node's
    /// QUERY).
    pub store: PaymentStore,
}

/// Makes the switch's parts for `layout`, continuing from `start`; with `door`, egress answers
/// a node's connections; the steps (and egress, without a door) record into `measuring`'s
/// monitor.
pub(crate) fn assemble(
    args: &RunArgs,
    network: &Arc<Network>,
    ledger_config: LedgerConfig,
    layout: &Layout,
    start: &mut Continuation,
    door: Option<Door>,
    measuring: &Measuring,
) -> Result<Assembled, Failure> {
    let config = layout.topology.config();
    let batch_size_max = config.batch_size_max;
    let clock = RunClock::start_at(start.clock_ns);
    let (reports, inbox) = unbounded();
    // Egress never waits on either queue: every forwarded payment holds a ledger hold, and
    // outstanding expiries are at most the holds plus the events in flight between the ledger
    // and egress (a ring's worth; twice that is allocated, for margin).
    let (to_banks, from_egress) = rtrb::RingBuffer::new(ledger_config.holds_capacity);
    let (expiries_in, expiries_out) =
        rtrb::RingBuffer::new(ledger_config.holds_capacity + config.ring_capacity * 2);
    let (batches, batch_inbox) = unbounded::<BatchReport>();
    let writer = spawn_report_writer(args.measure.batches_dir(), batch_inbox);
    // Memory by time: the ledger (recovered, or new) attached to the store through the prefetch
    // before it and the store writer after it.
    let memory = ledger_config
        .memory
        .expect("every run configures memory by time");
    let store = match start.store.take() {
        Some(store) => store,
        None => memory::temporary_store().map_err(Failure::unreadable)?,
    };
    let ((loads_in, loads_out), (finished_in, finished_out)) =
        queues_for(config.ring_capacity, ledger_config.holds_capacity);
    let through = Arc::new(AtomicU64::new(
        store
            .through()
            .map_err(|error| Failure::unreadable(error.to_string()))?,
    ));
    let mut ledger = start
        .ledger
        .take()
        .unwrap_or_else(|| Ledger::new(network, ledger_config));
    let prefetching = Arc::new(AtomicU64::new(0));
    ledger.attach_store(loads_out, Arc::clone(&through), Arc::clone(&prefetching));
    let prefetch = {
        let reports = reports.clone();
        Prefetch::new(
            store.clone(),
            memory,
            ledger.schedule(),
            loads_in,
            prefetching,
        )
        .on_finish(move |counters| {
            let _ = reports.send(ThreadReport::Prefetch(counters));
        })
    };
    let store_reader = store.clone();
    let store_writer = {
        let reports = reports.clone();
        StoreWriter::new(
            store,
            memory,
            finished_out,
            through,
            ledger_config.holds_capacity + 2 * config.ring_capacity,
        )
        .on_thread()
        .map_err(|error| Failure::failed(format!("the store's writing thread: {error}")))?
        .on_finish(move |counters| {
            let _ = reports.send(ThreadReport::Store(counters));
        })
    };
    let answered = Arc::new(AtomicU64::new(0));
    // Each start against a data directory numbers its payments from its own range, so a restart
    // never resends an id the journal already holds (see `Institutions::numbered_from`).
    let id_offset = u128::from(start.next_sequence) << crate::constants::TXN_ID_OFFSET_SHIFT;
    let progress = JournalProgress::default();
    progress
        .durable_next
        .store(start.next_sequence, std::sync::atomic::Ordering::Release);
    let journal = match start.writer.take() {
        Some(writer) => JournalStage::Durable(Box::new(DurableJournal::new(
            writer,
            progress.clone(),
            clock,
            crate::constants::RUN_RING_CAPACITY,
            reports.clone(),
        ))),
        None => JournalStage::Memory {
            recording: Recording::new(),
            reports: reports.clone(),
        },
    };
    let (snapshot_parts, snapshot_writer) = match start.snapshot_storage.take() {
        Some(storage) if args.durable.snapshot_every > 0 => {
            let (parts, inbox) = unbounded();
            let writer =
                spawn_snapshot_writer(storage, network.fingerprint(), inbox, progress.clone());
            (Some(parts), Some(writer))
        }
        _ => (None, None),
    };
    let mut egress = Egress::new(
        clock,
        to_banks,
        expiries_out,
        batch_size_max,
        Arc::clone(&answered),
        reports.clone(),
    )
    .carried_below(id_offset);
    if let Some(path) = &args.durable.ack_log {
        let ack_log = AckLog::open(path).map_err(|error| {
            Failure::unreadable(format!(
                "cannot open the ack log {}: {error}",
                path.display()
            ))
        })?;
        egress = egress.with_ack_log(ack_log);
    }
    match door {
        Some(door) => egress = egress.with_door(door),
        None => {
            egress = egress.with_timing(
                measuring.monitor.handle().recorder(Tag::E2e),
                Arc::clone(&measuring.outcomes),
            )
        }
    }

    let shared = Arc::new(Shared {
        network: Arc::clone(network),
        args: args.clone(),
        clock,
        batch_size_max,
        reports: reports.clone(),
        sink: Mutex::new(Some(RunSink {
            expiries: expiries_in,
            finished: finished_in,
            batches,
            reports: reports.clone(),
        })),
        egress: Mutex::new(Some(egress)),
        route: Mutex::new(start.route.take()),
        ledger: Mutex::new(Some(ledger)),
        prefetch: Mutex::new(Some(prefetch)),
        store_writer: Mutex::new(Some(store_writer)),
        journal: Mutex::new(Some(journal)),
        snapshot_policy: SnapshotPolicy::new(args.durable.snapshot_every, start.next_sequence),
        snapshot_parts,
        monitor: measuring.monitor.handle(),
    });

    Ok(Assembled {
        shared,
        reports,
        inbox,
        from_egress,
        writer,
        snapshot_writer,
        answered,
        id_offset,
        clock,
        store: store_reader,
    })
}

/// Where this run continues from: a recovered data directory, or nothing.
pub(crate) struct Continuation {
    /// The sequence of the first event: where a recovered journal ends.
    pub next_sequence: u64,
    pub(crate) clock_ns: u64,
    route: Option<Route>,
    ledger: Option<Ledger>,
    writer: Option<clearway_core::journal::JournalWriter<clearway_core::journal::FileStorage>>,
    snapshot_storage: Option<clearway_core::journal::FileStorage>,
    /// The data directory's payment store; a temporary one is made without.
    store: Option<PaymentStore>,
    /// What recovery did.
    pub recovery: Option<RecoveryFigures>,
    /// `memory`, `none` or `fsync`.
    pub durability: &'static str,
}

impl Default for Continuation {
    fn default() -> Self {
        Continuation {
            next_sequence: 0,
            clock_ns: 0,
            route: None,
            ledger: None,
            writer: None,
            snapshot_storage: None,
            store: None,
            recovery: None,
            durability: "memory",
        }
    }
}

/// What the run's durability did, for the summary.
struct Durability {
    mode: &'static str,
    recovery: Option<RecoveryFigures>,
    snapshots: Option<SnapshotFigures>,
    sequence_base: u64,
}

fn print_recovery(args: &RunArgs, durable: &Durable) {
    let directory = args
        .durable
        .data_dir
        .as_deref()
        .unwrap_or(std::path::Path::new("."));
    let recovery = &durable.recovery;
    if !recovery.resumed {
        println!(
            "data dir: {} (new), durability {}",
            directory.display(),
            durable.durability.name()
        );
        return;
    }
    println!(
        "data dir: {} recovered in {:.3} s: {}, {} journal events replayed; continuing at \
         sequence {}; durability {}",
        directory.display(),
        recovery.seconds,
        recovery
            .snapshot
            .as_deref()
            .map_or("no snapshot".to_string(), |name| format!("snapshot {name}")),
        recovery.events_replayed,
        recovery.next_sequence,
        durable.durability.name()
    );
    if let Some(tail) = &recovery.torn_tail {
        println!("data dir: a torn last record was cut off: {tail}");
    }
    if let Some(truncated) = &recovery.truncated {
        println!("data dir: the journal was {truncated}");
    }
    if let Some(reason) = &recovery.store_rebuilt {
        println!(
            "data dir: the payment store was rebuilt from the journal's first event: {reason}"
        );
    }
    for rejected in &recovery.snapshots_rejected {
        println!("data dir: snapshot passed over: {rejected}");
    }
}

/// The ledger's tables sized for the offered rate: a window generation holds a span's payments
/// (two records each at most) and what a turn carries, and the holds table every payment that may wait a whole bank timeout, each
/// with half again as much room for Poisson bursts. Sizing them for the run rather than for the
/// largest machine keeps a 180,000/s run's tables in megabytes instead of the defaults' hundreds,
/// which the ledger would otherwise page in, a fault at a time, while it runs.
pub(crate) fn ledger_config(args: &RunArgs) -> LedgerConfig {
    let mut config = LedgerConfig {
        memory: Some(clearway_core::stage::LongMemory {
            retention_ns: memory::retention_ns(args.retention),
            epoch_unix_ns: memory::epoch_now_ns(),
        }),
        ..LedgerConfig::default()
    };
    if let Some(timeout_ms) = args.bank_timeout_ms {
        config.bank_timeout_ns = timeout_ms * 1_000_000;
    }
    if let Rate::PerSecond(rate) = args.rate {
        let sized = |seconds: f64, largest: usize| {
            ((rate * seconds * 1.5) as usize).clamp(LEDGER_TABLE_CAPACITY_MIN, largest)
        };
        let wait_s = config.bank_timeout_ns as f64 / 1e9 + args.bank_latency_us as f64 / 1e6;
        config.holds_capacity = sized(wait_s, config.holds_capacity);
        // A window generation turns by time (its span) unless it fills first: room for two
        // records a payment over a span, and for what a turn carries (two a hold).
        let span_s = config.window_span_ns as f64 / 1e9;
        config.window_capacity = (sized(2.0 * span_s, config.window_capacity)
            + 2 * config.holds_capacity)
            .min(LedgerConfig::default().window_capacity);
    }
    config
}

/// The pipeline's handlers for `layout`: each stage's factory builds its handler from `shared` on
/// the stage's own thread.
pub(crate) fn handlers(layout: &Layout, shared: &Arc<Shared>) -> Handlers<Event, Results> {
    let mut handlers = Handlers::<Event, Results>::new();
    for (index, role) in layout.roles.iter().enumerate() {
        let name = &layout.topology.stage(index).name;
        match role {
            Role::Journal => {
                let shared = Arc::clone(shared);
                handlers = handlers.input_stage(name, move |_: Worker| {
                    shared.journal.lock().take().expect("one journal per run")
                });
            }
            Role::Steps(steps) => {
                let shared = Arc::clone(shared);
                let steps = steps.clone();
                handlers = handlers.stage(name, move |_: Worker| shared.chain(&steps));
            }
        }
    }
    handlers
}

/// The ring transport: a [`Pipeline`] over the layout's topology, the driver as its producer.
fn run_ring(
    layout: &Layout,
    shared: &Arc<Shared>,
    producers: &mut Producers,
    start: Start<'_>,
) -> Result<(Driven, Option<Vec<PipelineStage>>), Failure> {
    let pipeline = Pipeline::start(&layout.topology, handlers(layout, shared))
        .map_err(|error| Failure::failed(error.to_string()))?;
    let load = start.load();
    let base = start.sequence_base;
    let driven = producers.drive(&load, || {
        pipeline
            .producer()
            .map(|producer| RingIngress {
                producer,
                base,
                full: 0,
            })
            .map_err(|error| error.to_string())
    });
    // The counters as shutdown returns them, once every stage has drained: read before it, they
    // would miss the events still in flight when the producers stopped.
    let shutdown = pipeline.shutdown();
    // A stage's failure (a journal that cannot write, say) explains why the producers stopped:
    // report it first.
    let counters = shutdown.map_err(|error| Failure::failed(error.to_string()))?;
    let driven = driven.map_err(Failure::failed)?;
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
    /// The sequence of the run's first event: where a recovered journal ends.
    sequence_base: u64,
    /// The window, timeline and stop flag the drivers share with the monitor.
    measures: &'a Measures,
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
            self.measures,
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
    /// Added to ring sequences: events are numbered on from where a recovered journal ends.
    base: u64,
    /// Publishes that found the ring without room for the batch, and waited.
    full: u64,
}

impl Ingress for RingIngress<'_> {
    fn publish(&mut self, events: &mut [Event], event_ns: u64) -> Result<(), String> {
        if self.producer.free_slots() < events.len() {
            self.full += 1;
        }
        let mut index = 0;
        let base = self.base;
        self.producer
            .publish_batch(events.len(), |sequence, input, output| {
                let event = &mut events[index];
                event.sequence = base + sequence;
                event.event_ns = event_ns;
                *input = *event;
                *output = Results::default();
                index += 1;
            })
            .map_err(|error| error.to_string())
    }

    fn caps_hit(&self) -> u64 {
        self.full
    }
}

/// The channel transport: the layout's step stages as threads joined by bounded channels. A
/// journal stage has no channel counterpart; the driver records instead.
fn run_channel(
    layout: &Layout,
    shared: &Arc<Shared>,
    producers: &mut Producers,
    start: Start<'_>,
) -> Result<Driven, Failure> {
    if layout.topology.config().mode == Mode::Fused {
        return Err(Failure::usage(
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
        .map_err(|error| Failure::failed(format!("cannot start a stage thread: {error}")))?;
    let ingress = Arc::new(Mutex::new(ingress));
    let load = start.load();
    let driven = producers.drive(&load, || Ok(SharedIngress(Arc::clone(&ingress))));
    drop(ingress);
    let joined = chain.join();
    let driven = driven.map_err(Failure::failed)?;
    joined.map_err(Failure::failed)?;
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
pub(crate) struct Collected {
    /// Per step: events, workers.
    pub stages: BTreeMap<Step, (u64, usize)>,
    /// Egress's counts.
    pub egress: Option<EgressReport>,
    /// The ledger's last word.
    pub ledger: Option<LedgerSummary>,
    /// The in-memory journal.
    pub journal: Option<Recording>,
    /// The durable journal's figures.
    pub durable: Option<JournalFigures>,
    /// What the prefetch loaded.
    pub prefetch: Option<clearway_core::stage::PrefetchCounters>,
    /// What the store writer wrote.
    pub store: Option<clearway_core::stage::StoreCounters>,
}

pub(crate) fn collect(inbox: ReportInbox) -> Collected {
    let mut collected = Collected::default();
    for report in inbox.try_iter() {
        match report {
            ThreadReport::Stage { step, events } => {
                let entry = collected.stages.entry(step).or_insert((0, 0));
                entry.0 += events;
                entry.1 += 1;
            }
            ThreadReport::Egress(report) => collected.egress = Some(*report),
            ThreadReport::Ledger(summary) => collected.ledger = Some(summary),
            ThreadReport::Journal(recording) => collected.journal = Some(recording),
            ThreadReport::Durable(figures) => collected.durable = Some(figures),
            ThreadReport::Prefetch(counters) => collected.prefetch = Some(counters),
            ThreadReport::Store(counters) => collected.store = Some(counters),
        }
    }
    collected
}

/// What the monitor and the drivers measured, second by second.
struct Measured<'a> {
    monitored: &'a Monitored,
    timeline: &'a Timeline,
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
    durability: Durability,
    measured: Measured<'_>,
) -> Result<Summary, Failure> {
    let egress = collected
        .egress
        .ok_or_else(|| Failure::failed("egress did not report"))?;
    let ledger = collected
        .ledger
        .ok_or_else(|| Failure::failed("the ledger did not report"))?;
    let (driven, recording) = driven;
    let recording = recording.or(collected.journal);
    let replayed = match (&args.durable.data_dir, args.no_replay) {
        (_, true) => None,
        (Some(directory), false) => Some(
            replay::replay_journal(directory, network, args.mac, ledger_config)
                .map_err(Failure::failed)?,
        ),
        (None, false) => recording
            .as_ref()
            .map(|recording| replay::replay(network, args.mac, ledger_config, recording))
            .transpose()
            .map_err(Failure::failed)?,
    };
    let window_s = driven.window_ns as f64 / 1e9;
    let warmup_s = args.measure.plan.warmup_s;
    // The measured window: after the warm-up, to when the load stopped (earlier if a gate
    // stopped it).
    let measured_s = (window_s - warmup_s).max(0.0);
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
    let totals = &measured.monitored.totals;
    let stages = collected
        .stages
        .iter()
        .filter_map(|(step, (events, workers))| {
            let tag = Tag::of(*step)?;
            Some((
                step.name().to_string(),
                StageSummary {
                    latency_ns: totals
                        .get(&tag)
                        .map(Latencies::percentiles)
                        .unwrap_or_default(),
                    events: *events,
                    workers: *workers,
                },
            ))
        })
        .collect();
    // A journal on disk also holds the events of earlier starts: the replay must end where this
    // run's last event is.
    let replay_ok = replayed.as_ref().map(|replayed| {
        replayed.state_hash == ledger.state_hash
            && replayed.positions_sum == 0
            && replayed.next_sequence == durability.sequence_base + driven.published
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
    let latency_ns = totals
        .get(&Tag::E2e)
        .map(Latencies::percentiles)
        .unwrap_or_default();
    let per_second = |count: u64| {
        if measured_s > 0.0 {
            count as f64 / measured_s
        } else {
            0.0
        }
    };
    let offered_measured = measured.timeline.offered_measured();
    let throughput_per_s = per_second(
        driven
            .answered_in_window
            .saturating_sub(driven.answered_at_warmup),
    );
    let generator = GeneratorFigures::new(
        (args.rate != Rate::Max).then_some(driven.submitted_measured + driven.unsent),
        driven.submitted_measured,
        (driven.late, driven.unsent, driven.late_max_ns),
        driven.caps_hit,
        args.measure.late_fraction_max,
    );
    let observed = Observed::of(totals, &payments, Some(throughput_per_s));
    let slo = crate::slo::check_all(&args.measure.plan.gates, &observed);
    Ok(Summary {
        command: "run".to_string(),
        scenario: args.measure.plan.name.clone(),
        shape: args.measure.plan.shape.to_string(),
        seed: args.seed,
        duration_s: measured_s,
        warmup_s,
        offered_per_s: per_second(offered_measured),
        throughput_per_s,
        payments,
        rejects_by_reason,
        latency_ns,
        stages,
        ledger: LedgerFigures {
            positions_sum: ledger.positions_sum,
            batches_closed: egress.batches_closed,
            state_hash: ledger.state_hash.to_string(),
            replay_state_hash_ok: replay_ok,
            pending_at_end: ledger.pending_count as u64,
            reports_dir: args.measure.batches_dir().display().to_string(),
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
        durability: DurabilitySummary {
            mode: durability.mode.to_string(),
            data_dir: args
                .durable
                .data_dir
                .as_ref()
                .map(|directory| directory.display().to_string()),
            written_mb_per_s: collected
                .durable
                .as_ref()
                .map(|journal| journal.bytes as f64 / 1e6 / window_s),
            journal: collected.durable,
            snapshots: durability.snapshots,
            recovery: durability.recovery,
            carried_over_expired: egress.carried_over_expired,
        },
        memory: summary::MemorySummary::of(
            ledger_config.memory.map_or(0, |memory| memory.retention_ns),
            ledger_config.window_span_ns,
            collected.prefetch,
            collected.store,
        ),
        valid: generator.kept_up,
        generator,
        slo_passed: slo.iter().all(|verdict| verdict.passed),
        slo,
        aborted: measured.monitored.aborted.clone(),
        incidents: driven.incidents,
        timeline: measured.monitored.intervals.clone(),
        checks,
        ok,
    })
}
