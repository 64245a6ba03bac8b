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
use self::summary::{ConnectionFigures, LoadEvents, LoadSummary};
use crate::constants::LOAD_DRAIN_MARGIN_NS;
use crate::exit::{self, Failure};
use crate::run::args::Rate;
use crate::run::clock::RunClock;
use crate::run::driver::{DriverOutcome, Ingress};
use crate::run::environment::Environment;
use crate::run::producers::{self, Producers};
use crate::run::summary::Payments;

/// Runs `clearway load`; the exit code is documented in docs/OUTPUT.md.
pub fn run(args: LoadArgs) -> ExitCode {
    exit::finish(execute(&args), args.json.as_deref(), |summary| summary.ok)
}

/// The driver's view of the ingress, borrowed so that its figures stay readable after the run.
struct Borrowed<'a>(&'a mut TcpIngress);

impl Ingress for Borrowed<'_> {
    fn publish(&mut self, events: &mut [Event], event_ns: u64) -> Result<(), String> {
        self.0.publish(events, event_ns)
    }
}

fn validate(args: &LoadArgs) -> Result<(), Failure> {
    if !(args.duration > 0.0 && args.duration.is_finite()) {
        return Err(Failure::usage(
            "--duration must be a number of seconds above 0",
        ));
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
            "--id-offset must be below 2^94 ({}), so that ids stay below the generator's \
             never-sent range",
            NEVER_SENT_SEQUENCE_BIT / 2
        )));
    }
    Ok(())
}

fn execute(args: &LoadArgs) -> Result<LoadSummary, Failure> {
    validate(args)?;
    let network = match &args.config {
        Some(path) => {
            Network::load(path).map_err(|error| Failure::unreadable(error.to_string()))?
        }
        None => Network::generated(args.seed),
    };
    let run_args = args.run_args();
    let ledger_config = crate::run::ledger_config(&run_args);
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
        &run_args,
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
    let reader = Reader {
        streams: reader_streams,
        shared: Arc::clone(&shared),
        clock,
        answered: Arc::clone(&answered),
        to_banks,
        stop: Arc::clone(&stop),
    }
    .spawn()
    .map_err(|error| Failure::failed(format!("cannot start the reader: {error}")))?;
    let mut ingress = TcpIngress::new(clock, routing, opened.streams, Arc::clone(&shared));
    let started = SystemTime::now();
    let mut load = producers::load(
        &run_args,
        clock,
        ledger_config.bank_timeout_ns + LOAD_DRAIN_MARGIN_NS,
        false,
        answered,
    );
    load.banks_may_wait = true;
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
    ingress.goodbye();
    let (driven, _) = driven.map_err(|error| {
        Failure::failed(format!(
            "the load against {} stopped: {error} ({} GOODBYEs received, {} saying the node \
             was shutting down; {} connections closed without one)",
            args.target, figures.goodbyes, figures.goodbyes_shutdown, figures.closed_by_node
        ))
    })?;
    let (summary, figures) = summarise(args, driven, &ingress, figures, connections);
    if let Some(path) = &args.histogram {
        write_histogram(path, &figures, started, summary.duration_s)?;
    }
    Ok(summary)
}

fn write_histogram(
    path: &std::path::Path,
    figures: &ReaderFigures,
    started: SystemTime,
    duration_s: f64,
) -> Result<(), Failure> {
    let bytes = crate::hlog::write(
        figures.latencies.histogram(),
        started,
        std::time::Duration::from_secs_f64(duration_s.max(0.0)),
        crate::hlog::E2E_TAG,
    )
    .map_err(|error| Failure::failed(format!("cannot encode the histogram: {error}")))?;
    std::fs::write(path, bytes)
        .map_err(|error| Failure::unreadable(format!("cannot write {}: {error}", path.display())))
}

fn summarise(
    args: &LoadArgs,
    driven: DriverOutcome,
    ingress: &TcpIngress,
    figures: ReaderFigures,
    mut connections: ConnectionFigures,
) -> (LoadSummary, ReaderFigures) {
    let sent = ingress.figures;
    let window_s = driven.window_ns as f64 / 1e9;
    let per_s = |count: u64| {
        if window_s > 0.0 {
            count as f64 / window_s
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
    let generator = sent.lateness.summary(driven.submitted);
    let mut checks = BTreeMap::new();
    checks.insert(
        "outcomes_add_up".to_string(),
        payments.add_up() && figures.unexplained == 0,
    );
    checks.insert(
        "every_payment_answered".to_string(),
        answers == driven.submitted && sent.payments == driven.submitted,
    );
    // At `--rate max` there is no schedule to keep: every payment is due when the driver gets to
    // it, and the run measures how many the node takes. Lateness is still reported.
    if args.rate != Rate::Max {
        checks.insert("generator_kept_up".to_string(), generator.kept_up);
    }
    let ok = checks.values().all(|passed| *passed);
    let summary = LoadSummary {
        seed: args.seed,
        target: args.target.clone(),
        duration_s: window_s,
        offered_per_s: per_s(driven.submitted),
        throughput_per_s: per_s(driven.answered_in_window),
        payments,
        rejects_by_reason,
        latency_ns: figures.latencies.percentiles(),
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
        checks,
        ok,
    };
    (summary, figures)
}
