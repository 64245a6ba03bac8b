//! `clearway load`: a separate process that plays a network's institutions and banks against a
//! Clearway node over TCP (docs/PROTOCOL.md), for a set time, then a summary of what came back.
//!
//! It reuses `clearway run`'s producers: the same [`Driver`](crate::run::driver::Driver) offers
//! open-loop arrivals stamped with their intended send time and plays the banks, publishing
//! through a TCP [`Ingress`] instead of a ring; a reader thread
//! turns the node's ANSWERs into end-to-end latency (coordinated-omission-corrected: measured
//! from the intended send time the ANSWER echoes) and its FORWARDs into the banks' queue.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `args.rs` | [`LoadArgs`]: the command line; the transaction id offset |
//! | `connect.rs` | opening the connections: HELLO, WELCOME, what ingress and reader share |
//! | `routing.rs` | which connection each event goes out on |
//! | `ingress.rs` | the TCP ingress: frames into per-connection buffers, written out per publish |
//! | `reader.rs` | the reader thread: ANSWER, BUSY, FORWARD, PING, GOODBYE, ERROR |
//! | `generator.rs` | the generator's self-check: late payments, time blocked writing |
//! | `summary.rs` | the summary, human and JSON |

pub(crate) mod args;
pub(crate) mod connect;
pub(crate) mod generator;
pub(crate) mod ingress;
pub(crate) mod reader;
pub(crate) mod routing;
pub(crate) mod summary;

pub use args::LoadArgs;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use clearway_core::event::{Decline, Event};
use clearway_core::network::Network;
use clearway_loadgen::constants::NEVER_SENT_SEQUENCE_BIT;

use self::connect::Shared;
use self::ingress::TcpIngress;
use self::reader::{Reader, ReaderFigures};
use self::routing::Routing;
use self::summary::{ConnectionFigures, LoadEvents, LoadGenerator, LoadSummary};
use crate::constants::LOAD_DRAIN_MARGIN_NS;
use crate::exit::{self, Failure};
use crate::interval::{Monitored, Tag, Timeline, Window};
use crate::run::args::Rate;
use crate::run::clock::RunClock;
use crate::run::driver::{DriverOutcome, Ingress};
use crate::run::environment::Environment;
use crate::run::generator::GeneratorFigures;
use crate::run::latency::Latencies;
use crate::run::producers::{self, Producers};
use crate::run::summary::Payments;
use crate::run::{Measuring, RunArgs};
use crate::scenario::{Given, Plan};
use crate::slo::Observed;

/// Runs `clearway load`; the exit code is documented in docs/OUTPUT.md. `given` names the flags
/// the command line gave, which override the scenario's fields.
pub fn run(args: LoadArgs, given: &Given) -> ExitCode {
    let mut run_args = args.run_args();
    let result = crate::scenario::resolve(&mut run_args, given)
        .and_then(|()| execute(&args, &run_args))
        .and_then(|(summary, monitored, window)| {
            let fingerprint = crate::results::Fingerprint {
                environment: summary.environment.clone(),
                topology: None,
                command: "load".to_string(),
            };
            if let Some(path) = &args.histogram {
                let log = monitored
                    .interval_log(&window, monitored.started.unwrap_or(SystemTime::now()), &[])
                    .map_err(|error| {
                        Failure::failed(format!("cannot encode the histogram: {error}"))
                    })?;
                std::fs::write(path, log).map_err(|error| {
                    Failure::unreadable(format!("cannot write {}: {error}", path.display()))
                })?;
            }
            let written = crate::results::write(
                &run_args.measure,
                &summary,
                &monitored,
                &window,
                &fingerprint,
            )?;
            Ok((summary, written))
        });
    crate::results::finish(result, args.json.as_deref(), |summary| {
        exit::verdict(summary.ok, summary.valid, summary.slo_passed)
    })
}

/// The driver's view of the ingress, borrowed so that its figures stay readable after the run.
struct Borrowed<'a>(&'a mut TcpIngress);

impl Ingress for Borrowed<'_> {
    fn publish(&mut self, events: &mut [Event], event_ns: u64) -> Result<(), String> {
        self.0.publish(events, event_ns)
    }

    fn caps_hit(&self) -> u64 {
        self.0.figures.over_limit
    }
}

fn validate(args: &LoadArgs, plan: &Plan) -> Result<(), Failure> {
    if !plan.incidents.is_empty() {
        return Err(Failure::usage(format!(
            "scenario {}: incidents are operator events, which only the node itself sends: run \
             this scenario with clearway run",
            plan.name
        )));
    }
    if !plan.caps.is_empty() {
        return Err(Failure::usage(format!(
            "scenario {}: network.caps change the node's network: give the node (clearway serve \
             --config) a network file with those caps, and this load the same file",
            plan.name
        )));
    }
    if args.connections_per_pi == 0 {
        return Err(Failure::usage("--connections-per-pi must be at least 1"));
    }
    if !(args.bank_latency_sigma.is_finite() && args.bank_latency_sigma >= 0.0) {
        return Err(Failure::usage(
            "--bank-latency-sigma must be a number, 0 or more",
        ));
    }
    if args.bank_timeout_ms == Some(0) {
        return Err(Failure::usage("--bank-timeout-ms must be above 0"));
    }
    if args
        .id_offset
        .is_some_and(|offset| offset >= NEVER_SENT_SEQUENCE_BIT / 2)
    {
        return Err(Failure::usage(format!(
            "--id-offset must be below 2^{} ({}), so that ids stay below the generator's \
             never-sent range",
            (NEVER_SENT_SEQUENCE_BIT / 2).trailing_zeros(),
            NEVER_SENT_SEQUENCE_BIT / 2
        )));
    }
    Ok(())
}

fn execute(
    args: &LoadArgs,
    run_args: &RunArgs,
) -> Result<(LoadSummary, Monitored, Arc<Window>), Failure> {
    let plan = &run_args.measure.plan;
    validate(args, plan)?;
    let network = match &run_args.config {
        Some(path) => {
            Network::load(path).map_err(|error| Failure::unreadable(error.to_string()))?
        }
        None => Network::generated(run_args.seed),
    };
    println!(
        "scenario: {}: {}; warm-up {} s, then {} s measured",
        plan.name, plan.shape, plan.warmup_s, run_args.duration
    );
    let ledger_config = crate::run::ledger_config(run_args);
    let opened = connect::open(&network, &args.target, args.connections_per_pi)?;
    let routing = Routing::new(&opened.institutions, &opened.banks, args.connections_per_pi);
    let connections = ConnectionFigures {
        institutions: opened.institutions.len(),
        banks: opened.banks.len(),
        per_pi: args.connections_per_pi,
        lost: 0,
    };
    let shared = Arc::new(Shared {
        connections: opened.states,
        pongs_due: AtomicBool::new(false),
    });
    let mut reader_streams = Vec::with_capacity(opened.streams.len());
    for stream in &opened.streams {
        let clone = stream
            .try_clone()
            .map_err(|error| Failure::failed(format!("cannot share a socket: {error}")))?;
        reader_streams.push(mio::net::TcpStream::from_std(clone));
    }

    // The bank side's queue holds every payment the node may hold for a bank at once (the
    // ledger's hold capacity for this rate), so it does not fill in practice; if it does, the
    // reader counts the drop and the payment expires.
    let (to_banks, from_readers) = rtrb::RingBuffer::new(ledger_config.holds_capacity);
    // Ids never repeat at a node across load runs and processes: see `wall_clock_id_offset`.
    let id_offset = args.id_offset.unwrap_or_else(args::wall_clock_id_offset);
    let mut producers = Producers::new(
        run_args,
        &network,
        &ledger_config,
        1,
        Vec::new(),
        from_readers,
        id_offset,
    );
    let clock = RunClock::start_at(0);
    let answered = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Measuring::start(
        run_args,
        plan.warmup_s + run_args.duration,
        clock,
        None,
        true,
    );
    let reader = Reader {
        streams: reader_streams,
        shared: Arc::clone(&shared),
        clock,
        answered: Arc::clone(&answered),
        to_banks,
        stop: Arc::clone(&stop),
        recorder: measuring.monitor.handle().recorder(Tag::E2e),
        outcomes: Arc::clone(&measuring.outcomes),
    }
    .spawn()
    .map_err(|error| Failure::failed(format!("cannot start the reader: {error}")))?;
    let mut ingress = TcpIngress::new(clock, routing, opened.streams, Arc::clone(&shared));
    let mut load = producers::load(
        run_args,
        clock,
        ledger_config.bank_timeout_ns + LOAD_DRAIN_MARGIN_NS,
        false,
        answered,
        &measuring.measures,
    );
    load.banks_may_wait = true;
    ingress.measure_from(load.start_ns + load.window.warmup_ns());
    let mut slot = Some(&mut ingress);
    let driven = producers.drive(&load, || {
        slot.take()
            .map(Borrowed)
            .ok_or_else(|| "one producer thread only".to_string())
    });
    stop.store(true, Ordering::Release);
    let figures = reader
        .join()
        .map_err(|_| Failure::failed("the reader thread panicked"))?;
    let monitored = measuring.monitor.stop();
    ingress.goodbye();
    let (driven, _) = driven.map_err(|error| {
        Failure::failed(format!(
            "the load against {} stopped: {error} ({} GOODBYEs received, {} saying the node \
             was shutting down; {} connections closed without one)",
            args.target, figures.goodbyes, figures.goodbyes_shutdown, figures.closed_by_node
        ))
    })?;
    let summary = summarise(
        args,
        run_args,
        driven,
        &ingress,
        figures,
        connections,
        Measured {
            monitored: &monitored,
            timeline: &measuring.measures.timeline,
        },
    );
    Ok((summary, monitored, Arc::clone(&measuring.measures.window)))
}

/// What the monitor and the driver measured, second by second.
struct Measured<'a> {
    monitored: &'a Monitored,
    timeline: &'a Timeline,
}

fn summarise(
    args: &LoadArgs,
    run_args: &RunArgs,
    driven: DriverOutcome,
    ingress: &TcpIngress,
    figures: ReaderFigures,
    mut connections: ConnectionFigures,
    measured: Measured<'_>,
) -> LoadSummary {
    let plan = &run_args.measure.plan;
    let sent = ingress.figures;
    let window_s = driven.window_ns as f64 / 1e9;
    let measured_s = (window_s - plan.warmup_s).max(0.0);
    let per_s = |count: u64| {
        if measured_s > 0.0 {
            count as f64 / measured_s
        } else {
            0.0
        }
    };
    let payments = Payments {
        submitted: driven.submitted,
        approved: figures.approved,
        declined: figures.declined,
        rejected: figures.rejected,
        expired: figures.expired,
        busy: figures.busy,
    };
    let answers = payments.approved
        + payments.declined
        + payments.rejected
        + payments.expired
        + payments.busy;
    let mut rejects_by_reason: BTreeMap<String, u64> = Decline::ALL
        .iter()
        .filter(|decline| figures.rejects_by_reason[decline.index()] > 0)
        .map(|decline| {
            (
                decline.name().to_string(),
                figures.rejects_by_reason[decline.index()],
            )
        })
        .collect();
    if figures.exists > 0 {
        rejects_by_reason.insert("Exists".to_string(), figures.exists);
    }
    if figures.unexplained > 0 {
        rejects_by_reason.insert("Unexplained".to_string(), figures.unexplained);
    }
    connections.lost = figures.closed_by_node + sent.write_failures;
    // Late as written to the socket: the driver's own clock is read before the write.
    let figures_generator = GeneratorFigures::new(
        (run_args.rate != Rate::Max).then_some(driven.submitted_measured + driven.unsent),
        driven.submitted_measured,
        (sent.lateness.late, driven.unsent, sent.lateness.latest_ns),
        sent.over_limit + figures.busy,
        run_args.measure.late_fraction_max,
    );
    let generator = LoadGenerator {
        figures: figures_generator,
        late_payments: sent.lateness.late,
        latest_ns: sent.lateness.latest_ns,
        blocked_writing_s: sent.lateness.blocked_writing_s(),
    };
    let mut checks = BTreeMap::new();
    checks.insert(
        "outcomes_add_up".to_string(),
        payments.add_up() && figures.unexplained == 0,
    );
    checks.insert(
        "every_payment_answered".to_string(),
        answers == driven.submitted && sent.payments == driven.submitted,
    );
    let ok = checks.values().all(|passed| *passed);
    let totals = &measured.monitored.totals;
    let latency_ns = totals
        .get(&Tag::E2e)
        .map(Latencies::percentiles)
        .unwrap_or_default();
    let throughput_per_s = per_s(
        driven
            .answered_in_window
            .saturating_sub(driven.answered_at_warmup),
    );
    let observed = Observed::of(totals, &payments, Some(throughput_per_s));
    let slo = crate::slo::check_all(&plan.gates, &observed);
    LoadSummary {
        command: "load".to_string(),
        scenario: plan.name.clone(),
        shape: plan.shape.to_string(),
        seed: run_args.seed,
        target: args.target.clone(),
        duration_s: measured_s,
        warmup_s: plan.warmup_s,
        offered_per_s: per_s(measured.timeline.offered_measured()),
        throughput_per_s,
        payments,
        rejects_by_reason,
        latency_ns,
        connections,
        events: LoadEvents {
            bank_replies: sent.replies,
            forwarded_received: figures.forwarded,
            forwarded_dropped: figures.forwards_dropped,
            silent: driven.silent,
            cutovers_skipped: sent.cutovers_skipped,
            sent_over_limit: sent.over_limit,
            unsendable: sent.unsendable,
            errors_received: figures.errors,
            goodbyes_received: figures.goodbyes,
            goodbyes_shutdown: figures.goodbyes_shutdown,
            pings_received: figures.pings,
            unexpected_frames: figures.unexpected,
        },
        generator,
        drain_s: driven.drain_ns as f64 / 1e9,
        environment: Environment::here(),
        valid: figures_generator.kept_up,
        slo_passed: slo.iter().all(|verdict| verdict.passed),
        slo,
        aborted: measured.monitored.aborted.clone(),
        timeline: measured.monitored.intervals.clone(),
        checks,
        ok,
    }
}
