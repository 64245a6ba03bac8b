//! [`TcpIngress`]: the driver's [`Ingress`] over the node's connections. Each event becomes a
//! frame appended to its connection's buffer; at the end of a publish every buffer with data is
//! written out.
//!
//! The sockets are non-blocking (the reader thread polls the same sockets with mio, and a
//! socket's blocking mode is shared by every handle on it), so a write the kernel cannot take
//! whole waits in `poll(2)` for the socket to drain and goes on: the driver's thread blocks
//! exactly as a blocking write would, and the time it waits is measured — it is the node pushing
//! back through TCP, and part of the generator's self-check. Payments are counted late against
//! the moment the publish finished writing (the driver publishes a turn's payments together).
//!
//! The reader never writes: a PONG it owes is left in the connection's shared state and goes
//! out with the next publish (the driver publishes every turn it has payments or bank replies,
//! so during load that is within milliseconds).

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use clearway_core::constants::FRAME_SIZE_MAX;
use clearway_core::event::Event;
use clearway_core::wire::{encode, Frame, Signed, GOODBYE_NORMAL};

use super::connect::Shared;
use super::generator::Lateness;
use super::routing::{Route, Routing};
use crate::constants::{OUTBOX_FRAMES_INITIAL, WRITE_STALL_MAX_NS, WRITE_WAIT_SLICE_US};
use crate::run::clock::RunClock;
use crate::run::driver::Ingress;

/// What the ingress sent and skipped.
#[derive(Clone, Copy, Debug, Default)]
pub struct IngressFigures {
    /// PAYMENT frames written.
    pub payments: u64,
    /// REPLY frames written.
    pub replies: u64,
    /// Operator events (cutovers) not sent: the node runs its own.
    pub cutovers_skipped: u64,
    /// PAYMENTs sent while every connection of their institution was at WELCOME's in-flight
    /// limit (the node answers them BUSY).
    pub over_limit: u64,
    /// Payments and replies with no open connection left to go on.
    pub unsendable: u64,
    /// PONGs sent.
    pub pongs: u64,
    /// Connections given up because a write failed or stalled.
    pub write_failures: u64,
    /// Late payments and time blocked in writes.
    pub lateness: Lateness,
}

/// One connection's write side.
struct Outbox {
    stream: TcpStream,
    buffer: Vec<u8>,
}

/// The driver's ingress over TCP.
pub struct TcpIngress {
    clock: RunClock,
    routing: Routing,
    outboxes: Vec<Outbox>,
    shared: Arc<Shared>,
    /// Connections with bytes waiting, each once.
    dirty: Vec<usize>,
    is_dirty: Vec<bool>,
    /// The intended send times of this publish's payments, those after the warm-up.
    intended_ns: Vec<u64>,
    /// Payments intended from this time on (the end of the warm-up) are judged for lateness.
    measured_from_ns: u64,
    /// What it did so far.
    pub figures: IngressFigures,
}

impl TcpIngress {
    /// Judges the lateness only of payments intended at or after `measured_from_ns`: the warm-up
    /// absorbs the start, the generator's too.
    pub fn measure_from(&mut self, measured_from_ns: u64) {
        self.measured_from_ns = measured_from_ns;
    }

    /// An ingress writing to `streams` (numbered as `routing` numbers them).
    pub fn new(
        clock: RunClock,
        routing: Routing,
        streams: Vec<TcpStream>,
        shared: Arc<Shared>,
    ) -> TcpIngress {
        let count = streams.len();
        TcpIngress {
            clock,
            routing,
            outboxes: streams
                .into_iter()
                .map(|stream| Outbox {
                    stream,
                    buffer: Vec::with_capacity(FRAME_SIZE_MAX * OUTBOX_FRAMES_INITIAL),
                })
                .collect(),
            shared,
            dirty: Vec::with_capacity(count),
            is_dirty: vec![false; count],
            intended_ns: Vec::new(),
            measured_from_ns: 0,
            figures: IngressFigures::default(),
        }
    }

    /// Says GOODBYE (normal) on every connection still open, without waiting on any.
    pub fn goodbye(&mut self) {
        for (index, outbox) in self.outboxes.iter_mut().enumerate() {
            if self.shared.connections[index].is_open() {
                let mut bytes = [0u8; FRAME_SIZE_MAX];
                if let Ok(size) = encode(&Frame::Goodbye(GOODBYE_NORMAL), &mut bytes) {
                    outbox.buffer.extend_from_slice(&bytes[..size]);
                    let _ = outbox.stream.write(&outbox.buffer);
                }
            }
        }
    }

    fn append(&mut self, connection: usize, frame: &Frame) {
        let mut bytes = [0u8; FRAME_SIZE_MAX];
        // Every frame built here fits in FRAME_SIZE_MAX: encoding cannot fail.
        if let Ok(size) = encode(frame, &mut bytes) {
            self.outboxes[connection]
                .buffer
                .extend_from_slice(&bytes[..size]);
            if !self.is_dirty[connection] {
                self.is_dirty[connection] = true;
                self.dirty.push(connection);
            }
        }
    }

    /// PONGs the reader asked for.
    fn pongs(&mut self) {
        if !self.shared.pongs_due.swap(false, Ordering::AcqRel) {
            return;
        }
        for connection in 0..self.outboxes.len() {
            let state = &self.shared.connections[connection];
            if state.pong_due.swap(false, Ordering::AcqRel) && state.is_open() {
                let nonce = state.pong_nonce.load(Ordering::Acquire);
                self.append(connection, &Frame::Pong(nonce));
                self.figures.pongs += 1;
            }
        }
    }

    /// Writes every buffer with data; a connection whose write fails is closed.
    fn flush(&mut self) {
        for index in 0..self.dirty.len() {
            let connection = self.dirty[index];
            self.is_dirty[connection] = false;
            let state = &self.shared.connections[connection];
            let outbox = &mut self.outboxes[connection];
            if write_all(outbox, state, &mut self.figures.lateness.blocked_ns).is_err() {
                state.closed.store(true, Ordering::Release);
                self.figures.write_failures += 1;
            }
            outbox.buffer.clear();
        }
        self.dirty.clear();
    }
}

impl Ingress for TcpIngress {
    /// Sends `events` as frames. The node stamps sequence and event time itself, so neither is
    /// written here. Fails only when the node has closed every connection.
    fn publish(&mut self, events: &mut [Event], _event_ns: u64) -> Result<(), String> {
        let shared = Arc::clone(&self.shared);
        let usable = |connection: usize| shared.connections[connection].is_open();
        let has_room = |connection: usize| shared.connections[connection].has_room();
        for event in events.iter() {
            match self.routing.route(event, usable, has_room) {
                Route::Payment {
                    connection,
                    over_limit,
                } => {
                    shared.connections[connection]
                        .in_flight
                        .fetch_add(1, Ordering::AcqRel);
                    self.append(connection, &Frame::Payment(Signed::from_event(event)));
                    if event.sent_ns >= self.measured_from_ns {
                        self.intended_ns.push(event.sent_ns);
                    }
                    self.figures.payments += 1;
                    self.figures.over_limit += u64::from(over_limit);
                }
                Route::Reply { connection } => {
                    self.append(connection, &Frame::Reply(Signed::from_event(event)));
                    self.figures.replies += 1;
                }
                Route::Skipped => self.figures.cutovers_skipped += 1,
                Route::Unsendable => self.figures.unsendable += 1,
            }
        }
        self.pongs();
        self.flush();
        let written_ns = self.clock.now_ns();
        self.figures.lateness.account(&self.intended_ns, written_ns);
        self.intended_ns.clear();
        if shared.connections.iter().all(|state| !state.is_open()) {
            return Err("the node closed every connection".to_string());
        }
        Ok(())
    }
}

/// Writes `outbox`'s buffer whole, waiting for the socket when it is full; adds the time waited
/// to `blocked_ns`. Gives up when the connection is closed meanwhile or stalls past
/// [`WRITE_STALL_MAX_NS`].
fn write_all(
    outbox: &mut Outbox,
    state: &super::connect::ConnectionState,
    blocked_ns: &mut u64,
) -> std::io::Result<()> {
    let mut written = 0;
    let mut stalled_ns = 0u64;
    while written < outbox.buffer.len() {
        match outbox.stream.write(&outbox.buffer[written..]) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(count) => {
                written += count;
                stalled_ns = 0;
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                if !state.is_open() || stalled_ns > WRITE_STALL_MAX_NS {
                    return Err(std::io::ErrorKind::TimedOut.into());
                }
                let started = std::time::Instant::now();
                wait_writable(&outbox.stream);
                let waited = started.elapsed().as_nanos() as u64;
                *blocked_ns += waited;
                stalled_ns += waited;
            }
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Waits a moment for `stream` to take more bytes. A sleep, not a poll on the socket: the
/// reader's mio registration owns the socket's readiness, and a second waiter would need unsafe
/// code for a gain of microseconds.
fn wait_writable(_stream: &TcpStream) {
    std::thread::sleep(std::time::Duration::from_micros(WRITE_WAIT_SLICE_US));
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::TcpListener;

    use clearway_core::event::{Account, Kind, ParticipantId, TxnId};
    use clearway_core::wire::FrameReader;

    use super::*;
    use crate::load::connect::ConnectionState;

    /// Connections for institution 1 (two) and bank 10 (one): the ingress's ends and the
    /// node's.
    fn connected() -> (TcpIngress, Vec<TcpStream>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for _ in 0..3 {
            let stream = TcpStream::connect(address).unwrap();
            stream.set_nonblocking(true).unwrap();
            ours.push(stream);
            theirs.push(listener.accept().unwrap().0);
        }
        let shared = Arc::new(Shared {
            connections: vec![
                ConnectionState::new(ParticipantId(1), false, 2),
                ConnectionState::new(ParticipantId(1), false, 2),
                ConnectionState::new(ParticipantId(10), true, 2),
            ],
            pongs_due: std::sync::atomic::AtomicBool::new(false),
        });
        let routing = Routing::new(&[ParticipantId(1)], &[ParticipantId(10)], 2);
        let clock = RunClock::start_at(0);
        (TcpIngress::new(clock, routing, ours, shared), theirs)
    }

    fn frames(stream: &mut TcpStream, count: usize) -> Vec<Frame> {
        let mut reader = FrameReader::new();
        let mut found = Vec::new();
        while found.len() < count {
            let read = stream.read(reader.buffer_mut()).unwrap();
            assert!(read > 0, "closed after {} frames", found.len());
            reader.filled(read);
            while let Some(frame) = reader.next_frame().unwrap() {
                found.push(frame);
            }
        }
        found
    }

    #[test]
    fn payments_replies_and_cutovers_go_where_they_belong() {
        let (mut ingress, mut theirs) = connected();
        let payment = |sequence: u128| {
            Event::payment(
                Kind::GatewayDebit,
                TxnId::new(20261130, sequence),
                ParticipantId(1),
                Account::new(b"6222020200112233").unwrap(),
                100,
                0,
            )
        };
        let reply = Event::bank_reply(ParticipantId(10), TxnId::new(20261130, 1), true, 100, 0);
        let cutover = Event::operator(Kind::Cutover, ParticipantId::OPERATOR, 0, 0);
        let mut events = [payment(1), payment(2), reply, cutover, payment(3)];
        ingress.publish(&mut events, 0).unwrap();
        let figures = ingress.figures;
        assert_eq!(
            (figures.payments, figures.replies, figures.cutovers_skipped),
            (3, 1, 1)
        );
        // Round-robin: payments 1 and 3 on the first connection, 2 on the second.
        assert_eq!(
            frames(&mut theirs[0], 2),
            [
                Frame::Payment(Signed::from_event(&events[0])),
                Frame::Payment(Signed::from_event(&events[4]))
            ]
        );
        assert_eq!(
            frames(&mut theirs[1], 1),
            [Frame::Payment(Signed::from_event(&events[1]))]
        );
        assert_eq!(
            frames(&mut theirs[2], 1),
            [Frame::Reply(Signed::from_event(&events[2]))]
        );
        let in_flight: Vec<u32> = ingress.shared.connections[..2]
            .iter()
            .map(|state| state.in_flight.load(Ordering::Acquire))
            .collect();
        assert_eq!(in_flight, [2, 1]);
        // Intended at time 0, written later: late only past the threshold.
        assert_eq!(figures.lateness.payments, 3);
    }

    #[test]
    fn a_pong_goes_out_with_the_next_publish_and_closed_connections_are_skipped() {
        let (mut ingress, mut theirs) = connected();
        let bank = &ingress.shared.connections[2];
        bank.pong_nonce.store(77, Ordering::Release);
        bank.pong_due.store(true, Ordering::Release);
        ingress.shared.pongs_due.store(true, Ordering::Release);
        ingress.publish(&mut [], 0).unwrap();
        assert_eq!(frames(&mut theirs[2], 1), [Frame::Pong(77)]);
        assert_eq!(ingress.figures.pongs, 1);
        for state in &ingress.shared.connections {
            state.closed.store(true, Ordering::Release);
        }
        let reply = Event::bank_reply(ParticipantId(10), TxnId::new(20261130, 1), true, 100, 0);
        let error = ingress.publish(&mut [reply], 0).unwrap_err();
        assert!(error.contains("closed every connection"), "{error}");
        assert_eq!(ingress.figures.unsendable, 1);
    }
}
