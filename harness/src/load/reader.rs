//! The reader: one thread that polls every connection with mio and handles what the node sends
//! back: ANSWERs and BUSYs for the institutions (latency, outcomes, the shared `answered` count),
//! FORWARDs for the banks (into the bank side's queue), PINGs (a PONG for the ingress to send),
//! GOODBYEs and ERRORs (noted; the connection is no longer used).

use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use clearway_core::event::{Outcome, DECLINE_COUNT};
use clearway_core::wire::{Answer, Frame, FrameReader, GOODBYE_SHUTDOWN};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use super::connect::Shared;
use crate::constants::{READER_EVENTS_PER_POLL, READER_POLL_TIMEOUT_MS};
use crate::interval::{IntervalRecorder, Outcomes};
use crate::run::clock::RunClock;
use crate::run::egress::Forwarded;

/// What came back, counted.
#[derive(Clone, Debug, Default)]
pub struct ReaderFigures {
    /// ANSWERs `Approved`.
    pub approved: u64,
    /// ANSWERs `Declined`.
    pub declined: u64,
    /// ANSWERs `Expired`.
    pub expired: u64,
    /// ANSWERs `Rejected` or `Exists`, or with an outcome a payment cannot end with.
    pub rejected: u64,
    /// `Rejected` ANSWERs by decline, indexed by `Decline::index`.
    pub rejects_by_reason: [u64; DECLINE_COUNT],
    /// ANSWERs `Exists`.
    pub exists: u64,
    /// ANSWERs with an outcome a payment cannot end with, or `Rejected` without a reason.
    pub unexplained: u64,
    /// BUSYs: payments the node did not take.
    pub busy: u64,
    /// FORWARDs read on bank connections.
    pub forwarded: u64,
    /// FORWARDs dropped because the bank side's queue was full (their payments will expire).
    pub forwards_dropped: u64,
    /// PINGs read.
    pub pings: u64,
    /// ERRORs read.
    pub errors: u64,
    /// GOODBYEs read.
    pub goodbyes: u64,
    /// GOODBYEs saying the node is shutting down.
    pub goodbyes_shutdown: u64,
    /// Connections the node closed without a GOODBYE.
    pub closed_by_node: u64,
    /// Frames the node should not send a client (or sent on the wrong kind of connection), and
    /// connections whose stream became unreadable.
    pub unexpected: u64,
}

impl ReaderFigures {
    fn answer(&mut self, answer: &Answer) {
        match (answer.outcome, answer.decline) {
            (Outcome::Approved, _) => self.approved += 1,
            (Outcome::Declined, _) => self.declined += 1,
            (Outcome::Expired, _) => self.expired += 1,
            (Outcome::Exists, _) => {
                self.rejected += 1;
                self.exists += 1;
            }
            (Outcome::Rejected, Some(decline)) => {
                self.rejected += 1;
                self.rejects_by_reason[decline.index()] += 1;
            }
            _ => {
                self.rejected += 1;
                self.unexplained += 1;
            }
        }
    }
}

/// The reader thread's inputs.
pub struct Reader {
    /// The connections, as the routing numbers them.
    pub streams: Vec<TcpStream>,
    /// What it shares with the ingress.
    pub shared: Arc<Shared>,
    /// The load's clock.
    pub clock: RunClock,
    /// Payments answered (ANSWER or BUSY), which the driver's drain waits on.
    pub answered: Arc<AtomicU64>,
    /// Into the bank side.
    pub to_banks: rtrb::Producer<Forwarded>,
    /// Set to stop the thread.
    pub stop: Arc<AtomicBool>,
    /// End to end: intended send time (echoed in the ANSWER) → the ANSWER read here, second by
    /// second.
    pub recorder: IntervalRecorder,
    /// Where the counts by outcome are published, for gates judged as the load goes.
    pub outcomes: Arc<Outcomes>,
}

impl Reader {
    /// Starts the thread; its result is what it counted.
    pub fn spawn(self) -> std::io::Result<JoinHandle<ReaderFigures>> {
        let mut poll = Poll::new()?;
        let mut streams = self.streams;
        for (index, stream) in streams.iter_mut().enumerate() {
            poll.registry()
                .register(stream, Token(index), Interest::READABLE)?;
        }
        let mut state = ReaderState {
            streams,
            readers: Vec::new(),
            shared: self.shared,
            clock: self.clock,
            answered: self.answered,
            to_banks: self.to_banks,
            figures: ReaderFigures::default(),
            error_printed: false,
            recorder: self.recorder,
            outcomes: self.outcomes,
        };
        state.readers = state.streams.iter().map(|_| FrameReader::new()).collect();
        let stop = self.stop;
        std::thread::Builder::new()
            .name("reader".to_string())
            .spawn(move || {
                let mut events = Events::with_capacity(READER_EVENTS_PER_POLL);
                let timeout = Duration::from_millis(READER_POLL_TIMEOUT_MS);
                while !stop.load(Ordering::Acquire) {
                    if let Err(error) = poll.poll(&mut events, Some(timeout)) {
                        if error.kind() == std::io::ErrorKind::Interrupted {
                            continue;
                        }
                        eprintln!("clearway: the reader's poll failed: {error}");
                        break;
                    }
                    for event in events.iter() {
                        let connection = event.token().0;
                        if connection < state.streams.len() {
                            state.drain(connection, &poll);
                        }
                    }
                    let figures = &state.figures;
                    state.outcomes.publish([
                        figures.approved,
                        figures.declined,
                        figures.rejected,
                        figures.expired,
                        figures.busy,
                    ]);
                }
                state.recorder.finish();
                state.figures
            })
    }
}

struct ReaderState {
    streams: Vec<TcpStream>,
    readers: Vec<FrameReader>,
    shared: Arc<Shared>,
    clock: RunClock,
    answered: Arc<AtomicU64>,
    to_banks: rtrb::Producer<Forwarded>,
    figures: ReaderFigures,
    error_printed: bool,
    recorder: IntervalRecorder,
    outcomes: Arc<Outcomes>,
}

impl ReaderState {
    /// Reads `connection` until the socket has nothing more (mio's readiness is edge-triggered).
    fn drain(&mut self, connection: usize, poll: &Poll) {
        loop {
            let read = self.streams[connection].read(self.readers[connection].buffer_mut());
            match read {
                Ok(0) => {
                    if self.shared.connections[connection].is_open() {
                        self.figures.closed_by_node += 1;
                    }
                    self.close(connection, poll);
                    return;
                }
                Ok(count) => {
                    self.readers[connection].filled(count);
                    if !self.frames(connection) {
                        self.close(connection, poll);
                        return;
                    }
                }
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.figures.closed_by_node += 1;
                    self.close(connection, poll);
                    return;
                }
            }
        }
    }

    fn close(&mut self, connection: usize, poll: &Poll) {
        self.shared.connections[connection]
            .closed
            .store(true, Ordering::Release);
        let _ = poll.registry().deregister(&mut self.streams[connection]);
    }

    /// Handles every whole frame read so far; false when the connection is done (a GOODBYE, or
    /// a stream that cannot be read on).
    fn frames(&mut self, connection: usize) -> bool {
        loop {
            let frame = match self.readers[connection].next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return true,
                Err(error) => {
                    self.figures.unexpected += 1;
                    let participant = self.shared.connections[connection].participant.0;
                    self.print_once(&format!(
                        "the node sent a malformed frame to participant {participant}: {error}"
                    ));
                    return false;
                }
            };
            let state = &self.shared.connections[connection];
            match frame {
                Frame::Answer(answer) if !state.is_bank => {
                    state.answered();
                    let now_ns = self.clock.now_ns();
                    self.recorder
                        .at(now_ns)
                        .record(now_ns.saturating_sub(answer.sent_ns));
                    self.figures.answer(&answer);
                    self.answered.fetch_add(1, Ordering::AcqRel);
                }
                Frame::Busy(_) if !state.is_bank => {
                    state.answered();
                    self.figures.busy += 1;
                    self.answered.fetch_add(1, Ordering::AcqRel);
                }
                Frame::Forward(forward) if state.is_bank => {
                    self.figures.forwarded += 1;
                    let forwarded = Forwarded {
                        txn_id: forward.txn_id,
                        bank: forward.bank,
                        amount_fen: forward.amount_fen,
                        account: forward.account,
                        sent_ns: forward.sent_ns,
                    };
                    if self.to_banks.push(forwarded).is_err() {
                        self.figures.forwards_dropped += 1;
                    }
                }
                Frame::Ping(nonce) => {
                    self.figures.pings += 1;
                    state.pong_nonce.store(nonce, Ordering::Release);
                    state.pong_due.store(true, Ordering::Release);
                    self.shared.pongs_due.store(true, Ordering::Release);
                }
                Frame::Pong(_) => {}
                Frame::Goodbye(reason) => {
                    self.figures.goodbyes += 1;
                    self.figures.goodbyes_shutdown += u64::from(reason == GOODBYE_SHUTDOWN);
                    return false;
                }
                Frame::Error(error) => {
                    self.figures.errors += 1;
                    let participant = state.participant.0;
                    self.print_once(&format!(
                        "the node sent ERROR {} to participant {participant}: {}",
                        error.code,
                        error.reason.as_str()
                    ));
                }
                _ => self.figures.unexpected += 1,
            }
        }
    }

    fn print_once(&mut self, message: &str) {
        if !self.error_printed {
            self.error_printed = true;
            eprintln!("clearway: {message} (further errors are counted, not printed)");
        }
    }
}
