//! `clearway serve`: the switch as a TCP node. Institutions and banks connect, say HELLO, and
//! speak the protocol of docs/PROTOCOL.md; the node journals, authorizes, routes and posts their
//! payments with the same stages and recovery as `clearway run`, and drains on SIGTERM.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `args.rs` | [`ServeArgs`]: the command line |
//! | `door.rs` | the I/O thread: connections, frames, the ring's producer, cutovers, the drain |
//! | `connection.rs` | one connection's socket, buffers and counts |
//! | `in_flight.rs` | payments taken and not yet answered, and their connections |
//! | `nonces.rs` | HELLO nonces seen, so a HELLO cannot be replayed |
//! | `metrics.rs` | the counters and the Prometheus endpoint |
//! | `signal.rs` | SIGTERM and SIGINT |
//! | `summary.rs` | what the node says when it stops |

mod args;
mod connection;
mod door;
mod in_flight;
mod metrics;
mod nonces;
mod signal;
mod summary;

pub use args::ServeArgs;

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::Arc;

use clearway_core::pipeline::{available_cores, pin_current_thread, Pipeline};
use clearway_core::ring::WaitStrategy;
use mio::{Interest, Poll, Waker};

use self::door::{Door, DoorConfig, DoorParts, BELL, LISTENER};
use self::metrics::{NodeMetrics, StageFigures};
use self::signal::StopFlag;
use self::summary::NodeSummary;
use crate::constants::{LISTEN_BACKLOG, NODE_PAYMENTS_IN_FLIGHT_MAX};
use crate::exit::{self, Failure};
use crate::run::clock::RunClock;
use crate::run::egress::Door as EgressDoor;
use crate::run::layout::Step;
use crate::run::timed::LiveLatencies;
use crate::run::{self, layout, Assembled};

/// How egress wakes the I/O thread: rung after a batch that gave it answers or forwards, it
/// writes to the poll's waker only if the thread is asleep in `poll`, so a busy node makes no
/// system call for it.
pub struct DoorBell {
    waker: Waker,
    asleep: AtomicBool,
}

impl DoorBell {
    /// A bell that wakes `waker`'s poll.
    pub fn new(waker: Waker) -> DoorBell {
        DoorBell {
            waker,
            asleep: AtomicBool::new(false),
        }
    }

    /// Egress: something was queued; wake the I/O thread if it sleeps.
    pub fn ring(&self) {
        // Pairs with the fence in `sleeping`: either the I/O thread sees what was queued before
        // it sleeps, or this sees it asleep and wakes it.
        fence(Ordering::SeqCst);
        if self.asleep.swap(false, Ordering::SeqCst) {
            // A failed wake leaves the thread to its poll timeout, at most DOOR_POLL_TIMEOUT_MS.
            let _ = self.waker.wake();
        }
    }

    /// The I/O thread, before it polls: it is about to sleep (it checks the queues after this).
    pub fn sleeping(&self) {
        self.asleep.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }

    /// The I/O thread, after its poll.
    pub fn awake(&self) {
        self.asleep.store(false, Ordering::Relaxed);
    }
}

/// Runs `clearway serve`; the exit codes are those of docs/OUTPUT.md.
pub fn serve(args: ServeArgs) -> ExitCode {
    exit::finish(execute(&args), args.json.as_deref(), |summary| {
        exit::verdict(summary.ok, true, true)
    })
}

fn execute(args: &ServeArgs) -> Result<NodeSummary, Failure> {
    if args.cutover_ms == 0 {
        return Err(Failure::usage("--cutover-ms must be above 0"));
    }
    if args.idle_timeout_ms == 0 {
        return Err(Failure::usage("--idle-timeout-ms must be above 0"));
    }
    if !(args.capacity_per_s > 0.0 && args.capacity_per_s.is_finite()) {
        return Err(Failure::usage(
            "--capacity-per-s must be a number of payments per second above 0",
        ));
    }
    args.durable.validate()?;
    let run_args = args.run_args();
    let cores = available_cores();
    let layout = layout::choose(
        &args.topology,
        args.workers,
        Some(1),
        args.durable.data_dir.is_some(),
        &cores,
        layout::Sizes::default(),
    )
    .map_err(Failure::usage)?;
    let layout = parked(layout)?;
    let stop = StopFlag::install()
        .map_err(|error| Failure::failed(format!("cannot handle SIGTERM: {error}")))?;
    let mut listener = listen(args.listen)
        .map_err(|error| Failure::usage(format!("cannot listen on {}: {error}", args.listen)))?;
    let metrics_listener = args
        .metrics
        .map(|address| {
            metrics::bind(address).map_err(|error| {
                Failure::usage(format!("cannot serve metrics on {address}: {error}"))
            })
        })
        .transpose()?;
    let (network, ledger_config, mut start) = run::open(&run_args)?;
    let network = Arc::new(network);
    let sequence_base = start.next_sequence;
    let recovered = start.recovery.clone();
    let durability = start.durability;
    println!("topology: {}", layout.source);
    print!("{}", layout.topology);

    let poll = Poll::new().map_err(|error| Failure::failed(format!("cannot poll: {error}")))?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .map_err(|error| Failure::failed(format!("cannot poll the listener: {error}")))?;
    let waker = Waker::new(poll.registry(), BELL)
        .map_err(|error| Failure::failed(format!("cannot make a waker: {error}")))?;
    let bell = Arc::new(DoorBell::new(waker));
    let live = Arc::new(LiveLatencies::default());
    let measuring = run::Measuring::start(
        &run_args,
        0.0,
        RunClock::start_at(start.clock_ns),
        Some(Arc::clone(&live)),
        false,
    );
    // One answer per payment in flight, plus the expiries of holds carried over a restart.
    let (answers_in, answers_out) =
        rtrb::RingBuffer::new(NODE_PAYMENTS_IN_FLIGHT_MAX + ledger_config.holds_capacity);
    let Assembled {
        shared,
        reports,
        inbox,
        from_egress,
        writer,
        snapshot_writer,
        answered: _,
        id_offset: _,
        clock,
        store: node_store,
    } = run::assemble(
        &run_args,
        &network,
        ledger_config,
        &layout,
        &mut start,
        Some(EgressDoor::new(answers_in, Arc::clone(&bell))),
        &measuring,
    )?;
    // The node measures from its start: no warm-up, every second its steps' latency.
    measuring.measures.window.start(clock.now_ns());
    let pipeline = Pipeline::start(&layout.topology, run::handlers(&layout, &shared))
        .map_err(|error| Failure::failed(error.to_string()))?;
    let node_metrics = Arc::new(NodeMetrics::default());
    let started_ns = clock.now_ns();
    let metrics_address = metrics_listener
        .as_ref()
        .and_then(|listener| listener.local_addr().ok());
    let door_report = std::thread::scope(|scope| {
        if let Some(listener) = metrics_listener {
            let node_metrics = Arc::clone(&node_metrics);
            let pipeline = &pipeline;
            let live = Arc::clone(&live);
            std::thread::Builder::new()
                .name("metrics".to_string())
                .spawn_scoped(scope, move || {
                    metrics::serve_metrics(listener, node_metrics, || {
                        stage_figures(pipeline, &live)
                    })
                })
                .map_err(|error| {
                    Failure::failed(format!("cannot start the metrics thread: {error}"))
                })?;
        }
        // The door is the ring's producer: on a layout that pins the producer, it takes that core.
        if let Some(&core) = layout.producer_cores.first() {
            pin_current_thread(core)
                .map_err(|error| Failure::failed(format!("the I/O thread: {error}")))?;
        }
        let producer = pipeline
            .producer()
            .map_err(|error| Failure::failed(error.to_string()))?;
        let address = listener.local_addr().map_err(|error| {
            Failure::failed(format!("cannot read the listening address: {error}"))
        })?;
        let door = Door::new(DoorParts {
            poll,
            listener,
            producer,
            answers: answers_out,
            forwards: from_egress,
            network: Arc::clone(&network),
            clock,
            config: DoorConfig {
                cutover_interval_ns: args.cutover_ms * 1_000_000,
                bank_timeout_ns: ledger_config.bank_timeout_ns,
                idle_timeout_ns: args.idle_timeout_ms * 1_000_000,
                sequence_base,
            },
            metrics: Arc::clone(&node_metrics),
            bell: Arc::clone(&bell),
            stop,
            store: Some(node_store),
        });
        println!("listening on {address}");
        if let Some(address) = metrics_address {
            println!("metrics on http://{address}/metrics");
        }
        let _ = std::io::stdout().flush();
        let report = door.run().map_err(Failure::failed);
        node_metrics.stopping.store(true, Ordering::Release);
        report
    });
    let stopped_ns = clock.now_ns();
    // Every stage drains before shutdown returns: the journal has made durable all it took.
    let shutdown = pipeline.shutdown();
    let finished = run::finish(shared, reports, snapshot_writer, writer, inbox);
    let monitored = measuring.monitor.stop();
    shutdown.map_err(|error| Failure::failed(error.to_string()))?;
    let door_report = door_report?;
    let snapshots = finished.snapshots?;
    let written = finished.written?;
    let collected = finished.collected;
    Ok(NodeSummary::new(
        args,
        (stopped_ns - started_ns) as f64 / 1e9,
        door_report,
        collected,
        &monitored,
        written,
        durability,
        recovered,
        snapshots,
    ))
}

/// `layout` with every spin-then-yield stage made spin-then-park: a node waits for traffic, and
/// an idle one should not take the cores from everything else by yielding in a loop. Pinned,
/// busy-spinning stages stay as they are: that layout owns its cores.
fn parked(mut layout: layout::Layout) -> Result<layout::Layout, Failure> {
    let mut config = layout.topology.config().clone();
    let mut changed = false;
    for stage in &mut config.stages {
        if stage.wait == WaitStrategy::SpinThenYield {
            stage.wait = WaitStrategy::SpinThenPark;
            changed = true;
        }
    }
    if changed {
        layout.topology = config
            .validate()
            .map_err(|error| Failure::usage(error.to_string()))?;
        layout.source.push_str("; stages park when idle");
    }
    Ok(layout)
}

/// A non-blocking listener on `address` with a backlog of [`LISTEN_BACKLOG`].
fn listen(address: std::net::SocketAddr) -> std::io::Result<mio::net::TcpListener> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(address),
        socket2::Type::STREAM,
        None,
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(mio::net::TcpListener::from_std(socket.into()))
}

/// The pipeline's and the steps' figures for the metrics endpoint.
fn stage_figures<I, O>(pipeline: &Pipeline<I, O>, live: &LiveLatencies) -> Vec<StageFigures> {
    let mut figures: Vec<StageFigures> = pipeline
        .counters()
        .stages
        .iter()
        .map(|stage| {
            let total = stage.total();
            StageFigures {
                name: stage.name.clone(),
                events: total.events,
                lag_mean: total.lag_mean(),
                lag_max: total.lag_max,
                latency_ns: Vec::new(),
            }
        })
        .collect();
    for step in [Step::Authorize, Step::Route, Step::Ledger] {
        figures.push(StageFigures {
            name: step.name().to_string(),
            latency_ns: live.quantiles(step),
            ..StageFigures::default()
        });
    }
    figures
}
