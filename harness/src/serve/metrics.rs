//! [`NodeMetrics`]: what the node counts, shared with the `--metrics` endpoint, and that
//! endpoint: Prometheus text exposition over plain HTTP on loopback.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clearway_core::event::{Decline, Outcome, DECLINE_COUNT};

use crate::run::latency::Percentiles;

/// The I/O thread's counters, by name. Each is a monotonic total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Counter {
    /// Connections accepted.
    ConnectionsAccepted,
    /// Connections refused at accept: the node held `NODE_CONNECTIONS_MAX` already.
    ConnectionsRefused,
    /// Frames decoded.
    FramesReceived,
    /// Frames queued to be written.
    FramesSent,
    /// Bytes read from sockets.
    BytesReceived,
    /// Bytes written to sockets.
    BytesSent,
    /// PAYMENTs put on the ring.
    PaymentsAdmitted,
    /// REPLYs put on the ring.
    RepliesAdmitted,
    /// PAYMENTs answered BUSY: the connection's or the node's frames in flight were at their
    /// limit.
    Busy,
    /// PAYMENTs whose id was already in flight, answered `DuplicateInFlight` at the door.
    DuplicatesInFlight,
    /// Frames refused without closing: another sender's, or a type the peer's role may not send.
    Violations,
    /// Answers with a `BadMac` decline.
    BadMacs,
    /// Frames that could not be decoded (the connection is then closed).
    Malformed,
    /// HELLOs refused: unknown participant, wrong MAC, reused nonce.
    HellosRefused,
    /// PINGs answered.
    Pings,
    /// Answers for payments whose connection had closed (or from before a restart).
    AnswersUndeliverable,
    /// FORWARDs queued to banks.
    Forwards,
    /// Forwards for a bank with no connection: its payment will expire.
    ForwardsUnroutable,
    /// Cutovers put on the ring.
    Cutovers,
    /// Link status events put on the ring (a bank connecting or leaving).
    LinkEvents,
    /// Times the I/O thread stopped reading because the ring was full.
    RingFull,
    /// Connections closed: the peer closed or said GOODBYE.
    ClosedByPeer,
    /// Connections closed: silent past the idle timeout.
    ClosedIdle,
    /// Connections closed: a malformed frame, or a frame before HELLO.
    ClosedProtocol,
    /// Connections closed: HELLO refused.
    ClosedHelloRefused,
    /// Connections closed: too many bad MACs.
    ClosedBadMacs,
    /// Connections closed: too many refused frames.
    ClosedViolations,
    /// Connections closed: output not read (past `OUTPUT_BUFFER_BYTES_MAX`).
    ClosedSlowReader,
    /// Connections closed: a socket error.
    ClosedError,
    /// Connections closed by the node's shutdown.
    ClosedShutdown,
    /// QUERYs answered STATUS `Found`.
    QueriesFound,
    /// QUERYs answered STATUS `Unknown` (another institution's payment among them).
    QueriesUnknown,
    /// QUERYs answered STATUS `InFlight`.
    QueriesInFlight,
    /// QUERYs answered ERROR 106: the payment store could not be read.
    QueryErrors,
}

impl Counter {
    /// Every counter, in index order.
    pub const ALL: [Counter; 34] = [
        Counter::ConnectionsAccepted,
        Counter::ConnectionsRefused,
        Counter::FramesReceived,
        Counter::FramesSent,
        Counter::BytesReceived,
        Counter::BytesSent,
        Counter::PaymentsAdmitted,
        Counter::RepliesAdmitted,
        Counter::Busy,
        Counter::DuplicatesInFlight,
        Counter::Violations,
        Counter::BadMacs,
        Counter::Malformed,
        Counter::HellosRefused,
        Counter::Pings,
        Counter::AnswersUndeliverable,
        Counter::Forwards,
        Counter::ForwardsUnroutable,
        Counter::Cutovers,
        Counter::LinkEvents,
        Counter::RingFull,
        Counter::ClosedByPeer,
        Counter::ClosedIdle,
        Counter::ClosedProtocol,
        Counter::ClosedHelloRefused,
        Counter::ClosedBadMacs,
        Counter::ClosedViolations,
        Counter::ClosedSlowReader,
        Counter::ClosedError,
        Counter::ClosedShutdown,
        Counter::QueriesFound,
        Counter::QueriesUnknown,
        Counter::QueriesInFlight,
        Counter::QueryErrors,
    ];

    /// The metric's name and help, and its label (name, value) when it is one series of several:
    /// a `connections_closed` reason, a query's answer.
    fn exposition(
        self,
    ) -> (
        &'static str,
        &'static str,
        Option<(&'static str, &'static str)>,
    ) {
        use Counter::*;
        let closed = "clearway_connections_closed_total";
        let closed_help = "Connections closed, by reason.";
        let queries = "clearway_queries_total";
        let queries_help = "QUERYs answered, by answer.";
        match self {
            ConnectionsAccepted => (
                "clearway_connections_accepted_total",
                "Connections accepted.",
                None,
            ),
            ConnectionsRefused => (
                "clearway_connections_refused_total",
                "Connections refused at the connection limit.",
                None,
            ),
            FramesReceived => ("clearway_frames_received_total", "Frames decoded.", None),
            FramesSent => ("clearway_frames_sent_total", "Frames sent.", None),
            BytesReceived => (
                "clearway_bytes_received_total",
                "Bytes read from connections.",
                None,
            ),
            BytesSent => (
                "clearway_bytes_sent_total",
                "Bytes written to connections.",
                None,
            ),
            PaymentsAdmitted => (
                "clearway_payments_admitted_total",
                "PAYMENTs put on the ring.",
                None,
            ),
            RepliesAdmitted => (
                "clearway_replies_admitted_total",
                "REPLYs put on the ring.",
                None,
            ),
            Busy => ("clearway_busy_total", "PAYMENTs answered BUSY.", None),
            DuplicatesInFlight => (
                "clearway_duplicates_in_flight_total",
                "PAYMENTs whose id was in flight, refused at the door.",
                None,
            ),
            Violations => (
                "clearway_violations_total",
                "Frames refused: another sender's, or not the peer's to send.",
                None,
            ),
            BadMacs => ("clearway_bad_macs_total", "Answers declined BadMac.", None),
            Malformed => (
                "clearway_frames_malformed_total",
                "Frames that could not be decoded.",
                None,
            ),
            HellosRefused => ("clearway_hellos_refused_total", "HELLOs refused.", None),
            Pings => ("clearway_pings_total", "PINGs answered.", None),
            AnswersUndeliverable => (
                "clearway_answers_undeliverable_total",
                "Answers whose connection had closed.",
                None,
            ),
            Forwards => ("clearway_forwards_total", "FORWARDs sent to banks.", None),
            ForwardsUnroutable => (
                "clearway_forwards_unroutable_total",
                "Forwards for a bank with no connection.",
                None,
            ),
            Cutovers => ("clearway_cutovers_total", "Cutovers put on the ring.", None),
            LinkEvents => (
                "clearway_link_events_total",
                "Link status events put on the ring.",
                None,
            ),
            RingFull => (
                "clearway_ring_full_total",
                "Times reading stopped because the ring was full.",
                None,
            ),
            ClosedByPeer => (closed, closed_help, Some(("reason", "peer"))),
            ClosedIdle => (closed, closed_help, Some(("reason", "idle"))),
            ClosedProtocol => (closed, closed_help, Some(("reason", "protocol_error"))),
            ClosedHelloRefused => (closed, closed_help, Some(("reason", "hello_refused"))),
            ClosedBadMacs => (closed, closed_help, Some(("reason", "bad_macs"))),
            ClosedViolations => (closed, closed_help, Some(("reason", "violations"))),
            ClosedSlowReader => (closed, closed_help, Some(("reason", "slow_reader"))),
            ClosedError => (closed, closed_help, Some(("reason", "socket_error"))),
            ClosedShutdown => (closed, closed_help, Some(("reason", "shutdown"))),
            QueriesFound => (queries, queries_help, Some(("answer", "found"))),
            QueriesUnknown => (queries, queries_help, Some(("answer", "unknown"))),
            QueriesInFlight => (queries, queries_help, Some(("answer", "in_flight"))),
            QueryErrors => (queries, queries_help, Some(("answer", "error"))),
        }
    }
}

const COUNTER_COUNT: usize = Counter::ALL.len();
/// Outcomes are counted in an array indexed by their `u8` value: `BatchClosed` is the last.
const OUTCOME_COUNT: usize = Outcome::BatchClosed as usize + 1;

/// The outcomes an ANSWER can carry.
const ANSWER_OUTCOMES: [Outcome; 5] = [
    Outcome::Approved,
    Outcome::Declined,
    Outcome::Expired,
    Outcome::Rejected,
    Outcome::Exists,
];

/// The I/O thread's own counts, plain integers: published into [`NodeMetrics`] now and then, so
/// counting costs an add, not an atomic.
#[derive(Clone, Debug)]
pub struct Counts {
    /// By [`Counter`].
    pub counters: [u64; COUNTER_COUNT],
    /// Answers by outcome, indexed by the outcome's `u8` value.
    pub outcomes: [u64; OUTCOME_COUNT],
    /// `Rejected` answers by decline, indexed by `Decline::index`.
    pub declines: [u64; DECLINE_COUNT],
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            counters: [0; COUNTER_COUNT],
            outcomes: [0; OUTCOME_COUNT],
            declines: [0; DECLINE_COUNT],
        }
    }
}

impl Counts {
    /// Adds `count` to `counter`.
    #[inline]
    pub fn add(&mut self, counter: Counter, count: u64) {
        self.counters[counter as usize] += count;
    }

    /// Counts one.
    #[inline]
    pub fn one(&mut self, counter: Counter) {
        self.add(counter, 1);
    }

    /// `counter`'s total.
    pub fn get(&self, counter: Counter) -> u64 {
        self.counters[counter as usize]
    }
}

/// What the `--metrics` endpoint reads: the I/O thread's counts and gauges, published by it every
/// few milliseconds, and the pipeline's and stages' figures.
pub struct NodeMetrics {
    counters: [AtomicU64; COUNTER_COUNT],
    outcomes: [AtomicU64; OUTCOME_COUNT],
    declines: [AtomicU64; DECLINE_COUNT],
    /// Open connections by role: greeting, institution, bank.
    pub connections: [AtomicU64; 3],
    /// Payments in flight.
    pub in_flight: AtomicU64,
    /// Door to answer, ns: p50, p90, p99, p99.9, max.
    answer_latency_ns: [AtomicU64; 5],
    /// Set when the node is shutting down: the endpoint stops.
    pub stopping: AtomicBool,
}

impl Default for NodeMetrics {
    fn default() -> Self {
        NodeMetrics {
            counters: std::array::from_fn(|_| AtomicU64::new(0)),
            outcomes: std::array::from_fn(|_| AtomicU64::new(0)),
            declines: std::array::from_fn(|_| AtomicU64::new(0)),
            connections: std::array::from_fn(|_| AtomicU64::new(0)),
            in_flight: AtomicU64::new(0),
            answer_latency_ns: std::array::from_fn(|_| AtomicU64::new(0)),
            stopping: AtomicBool::new(false),
        }
    }
}

impl NodeMetrics {
    /// Publishes the I/O thread's counts.
    pub fn publish(&self, counts: &Counts) {
        for (atomic, value) in self.counters.iter().zip(counts.counters) {
            atomic.store(value, Ordering::Relaxed);
        }
        for (atomic, value) in self.outcomes.iter().zip(counts.outcomes) {
            atomic.store(value, Ordering::Relaxed);
        }
        for (atomic, value) in self.declines.iter().zip(counts.declines) {
            atomic.store(value, Ordering::Relaxed);
        }
    }

    /// Publishes the door's answer latency quantiles.
    pub fn publish_latency(&self, answer_latency: &Percentiles) {
        let quantiles = [
            answer_latency.p50,
            answer_latency.p90,
            answer_latency.p99,
            answer_latency.p999,
            answer_latency.max,
        ];
        for (atomic, value) in self.answer_latency_ns.iter().zip(quantiles) {
            atomic.store(value, Ordering::Relaxed);
        }
    }

    /// The exposition text; `pipeline` adds the ring's and the stages' figures.
    pub fn render(&self, pipeline: &[StageFigures]) -> String {
        let mut text = String::with_capacity(8192);
        let mut described = std::collections::HashSet::new();
        for counter in Counter::ALL {
            let (name, help, label) = counter.exposition();
            if described.insert(name) {
                let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} counter");
            }
            let value = self.counters[counter as usize].load(Ordering::Relaxed);
            match label {
                Some((key, label)) => {
                    let _ = writeln!(text, "{name}{{{key}=\"{label}\"}} {value}");
                }
                None => {
                    let _ = writeln!(text, "{name} {value}");
                }
            }
        }
        text.push_str(
            "# HELP clearway_answers_total Payments answered, by outcome.\n\
             # TYPE clearway_answers_total counter\n",
        );
        for outcome in ANSWER_OUTCOMES {
            let value = self.outcomes[outcome as usize].load(Ordering::Relaxed);
            let _ = writeln!(
                text,
                "clearway_answers_total{{outcome=\"{}\"}} {value}",
                outcome.name()
            );
        }
        text.push_str(
            "# HELP clearway_rejects_total Payments refused by the switch, by reason.\n\
             # TYPE clearway_rejects_total counter\n",
        );
        for decline in Decline::ALL {
            let value = self.declines[decline.index()].load(Ordering::Relaxed);
            let _ = writeln!(
                text,
                "clearway_rejects_total{{reason=\"{}\"}} {value}",
                decline.name()
            );
        }
        text.push_str(
            "# HELP clearway_connections Open connections, by role.\n\
             # TYPE clearway_connections gauge\n",
        );
        for (index, role) in ["greeting", "institution", "bank"].iter().enumerate() {
            let value = self.connections[index].load(Ordering::Relaxed);
            let _ = writeln!(text, "clearway_connections{{role=\"{role}\"}} {value}");
        }
        let _ = writeln!(
            text,
            "# HELP clearway_payments_in_flight Payments taken and not yet answered.\n\
             # TYPE clearway_payments_in_flight gauge\n\
             clearway_payments_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        text.push_str(
            "# HELP clearway_answer_latency_seconds From the node taking a payment to queueing \
             its answer, since start.\n# TYPE clearway_answer_latency_seconds summary\n",
        );
        for (index, quantile) in ["0.5", "0.9", "0.99", "0.999", "1"].iter().enumerate() {
            let value = self.answer_latency_ns[index].load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                text,
                "clearway_answer_latency_seconds{{quantile=\"{quantile}\"}} {value}"
            );
        }
        text.push_str(
            "# HELP clearway_stage_events_total Events each pipeline stage has finished.\n\
             # TYPE clearway_stage_events_total counter\n",
        );
        let (steps, stages): (Vec<&StageFigures>, Vec<&StageFigures>) = pipeline
            .iter()
            .partition(|figures| !figures.latency_ns.is_empty());
        for stage in &stages {
            let _ = writeln!(
                text,
                "clearway_stage_events_total{{stage=\"{}\"}} {}",
                stage.name, stage.events
            );
        }
        text.push_str(
            "# HELP clearway_stage_lag_events How far each stage trails what it may read, mean \
             and max over its reads.\n# TYPE clearway_stage_lag_events gauge\n",
        );
        for stage in &stages {
            let _ = writeln!(
                text,
                "clearway_stage_lag_events{{stage=\"{}\",stat=\"mean\"}} {}\n\
                 clearway_stage_lag_events{{stage=\"{}\",stat=\"max\"}} {}",
                stage.name, stage.lag_mean, stage.name, stage.lag_max
            );
        }
        text.push_str(
            "# HELP clearway_step_latency_seconds Event time to the end of the batch that \
             handled it, per step, since start (published each second).\n\
             # TYPE clearway_step_latency_seconds summary\n",
        );
        for stage in &steps {
            for (quantile, value) in &stage.latency_ns {
                let _ = writeln!(
                    text,
                    "clearway_step_latency_seconds{{step=\"{}\",quantile=\"{quantile}\"}} {}",
                    stage.name,
                    *value as f64 / 1e9
                );
            }
        }
        text
    }
}

/// One stage's figures for the endpoint.
#[derive(Clone, Debug, Default)]
pub struct StageFigures {
    /// The stage or step.
    pub name: String,
    /// Events finished.
    pub events: u64,
    /// Mean lag, events.
    pub lag_mean: f64,
    /// Largest lag, events.
    pub lag_max: u64,
    /// For a step: its latency quantiles, as (quantile label, ns); empty for a pipeline stage.
    pub latency_ns: Vec<(&'static str, u64)>,
}

/// Serves `GET /metrics` on `listener` until `metrics.stopping`, each answer made by `figures`.
/// One request at a time: a scraper, not the public.
pub fn serve_metrics(
    listener: TcpListener,
    metrics: Arc<NodeMetrics>,
    figures: impl Fn() -> Vec<StageFigures>,
) {
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    while !metrics.stopping.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
                let mut request = [0u8; 1024];
                let length = stream.read(&mut request).unwrap_or(0);
                let request = &request[..length];
                let response = if request.starts_with(b"GET /metrics ") {
                    let body = metrics.render(&figures());
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_string()
                };
                let _ = stream.write_all(response.as_bytes());
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Binds the metrics endpoint's address.
pub fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(address)
}
