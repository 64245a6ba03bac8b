//! [`Door`]: the node's I/O thread. It accepts connections, checks each HELLO, decodes frames,
//! refuses what a peer may not send, and publishes payments and replies into the ring in batches;
//! it takes the answers and forwards egress queues and writes them to the right connections; it
//! runs the cutover clock; and at SIGTERM it drains. It answers an institution's QUERY itself,
//! from its table of payments in flight and its handle on the payment store, without the ring.
//!
//! It is the ring's one producer. It never waits on egress (egress's queues are sized so it
//! never waits on the door either), so the two cannot hold each other up. When the ring is full
//! it stops reading sockets: TCP's flow control then slows the senders.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use clearway_core::constants::FRAME_SIZE_MAX;
use clearway_core::event::{Decline, Event, Kind, MacKey, Outcome, ParticipantId, Results, TxnId};
use clearway_core::network::Network;
use clearway_core::pipeline::Producer;
use clearway_core::store::{PaymentStore, StoreError};
use clearway_core::wire::{
    verify_hello, Answer, ErrorFrame, Forward, Frame, Hello, QueryStatus, Reason, Signed, Status,
    Welcome, FRAME_READER_BUFFER_SIZE, GOODBYE_HELLO_REFUSED, GOODBYE_IDLE, GOODBYE_PROTOCOL_ERROR,
    GOODBYE_SHUTDOWN,
};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use rustc_hash::FxHashMap;

use super::connection::{Connection, Peer};
use super::in_flight::{Admitted, ConnectionRef, InFlight};
use super::metrics::{Counter, Counts, NodeMetrics};
use super::nonces::Nonces;
use super::signal::StopFlag;
use super::DoorBell;
use crate::constants::{
    BAD_MACS_PER_CONNECTION_MAX, DOOR_BATCH_EVENTS, DOOR_POLL_TIMEOUT_MS, DRAIN_GOODBYE_MS,
    FRAMES_IN_FLIGHT_PER_CONNECTION_MAX, NODE_CONNECTIONS_MAX, OUTPUT_BUFFER_BYTES_MAX,
    OUTPUT_PAUSE_READING_BYTES, VIOLATIONS_PER_CONNECTION_MAX,
};
use crate::run::clock::RunClock;
use crate::run::egress::Forwarded;
use crate::run::latency::{Latencies, Percentiles};

/// The listener's token.
pub const LISTENER: Token = Token(usize::MAX - 1);
/// The bell's token: egress woke the door.
pub const BELL: Token = Token(usize::MAX - 2);

/// ERROR code: a frame other than HELLO before the HELLO was accepted.
pub const ERROR_HELLO_FIRST: u16 = 100;
/// ERROR code: a frame this connection's participant may not send (a PI sending a REPLY, a bank
/// sending a PAYMENT, a client sending a node's frame, an operator kind, a second HELLO).
pub const ERROR_NOT_YOURS_TO_SEND: u16 = 101;
/// ERROR code: a PAYMENT or REPLY naming another sender than the connection's participant.
pub const ERROR_FOREIGN_SENDER: u16 = 102;
/// ERROR code: too many answers in a row with a `BadMac` decline; the connection is closed.
pub const ERROR_TOO_MANY_BAD_MACS: u16 = 103;
/// ERROR code: too many refused frames; the connection is closed.
pub const ERROR_TOO_MANY_VIOLATIONS: u16 = 104;
/// ERROR code: the node holds as many connections as it takes.
pub const ERROR_TOO_MANY_CONNECTIONS: u16 = 105;
/// ERROR code: the node could not answer a QUERY (its payment store could not be read); the
/// connection goes on.
pub const ERROR_INTERNAL: u16 = 106;

/// The most PAYMENTs or REPLYs one read can yield: a full frame buffer of the smallest of them.
const EVENTS_PER_READ_MAX: usize = FRAME_READER_BUFFER_SIZE / 96 + 1;

/// The door's settings.
#[derive(Clone, Copy, Debug)]
pub struct DoorConfig {
    /// Node clock time between cutovers.
    pub cutover_interval_ns: u64,
    /// The ledger's bank timeout: how long a drain waits for replies.
    pub bank_timeout_ns: u64,
    /// How long a connection may stay silent.
    pub idle_timeout_ns: u64,
    /// The first sequence this start publishes: where the recovered journal ends.
    pub sequence_base: u64,
}

/// What the door did, for the node's summary.
#[derive(Clone, Debug)]
pub struct DoorReport {
    /// Its counts.
    pub counts: Counts,
    /// Door to answer queued, ns.
    pub answer_latency: Percentiles,
    /// Payments still in flight when it stopped (answers not delivered).
    pub in_flight_at_end: usize,
}

/// Where a drain is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Drain {
    /// Not draining.
    Serving,
    /// No new connections or payments; waiting for in-flight payments' answers until `deadline`.
    Answering { deadline_ns: u64 },
    /// The last cutover is out (it expires what is left); waiting for those answers.
    Expiring { deadline_ns: u64 },
    /// GOODBYEs queued; waiting for them to be written.
    Closing { deadline_ns: u64 },
}

/// The I/O thread's state. See the module doc.
pub struct Door<'p> {
    poll: Poll,
    events: Events,
    listener: Option<TcpListener>,
    connections: Vec<Option<Connection>>,
    /// Per slot, the generation of its next occupant.
    generations: Vec<u32>,
    free: Vec<usize>,
    /// Slots that may have bytes to read.
    ready: Vec<usize>,
    /// Slots with output queued.
    dirty: Vec<usize>,
    /// Open connections by role: greeting, institution, bank.
    by_role: [u64; 3],
    in_flight: InFlight,
    nonces: Nonces,
    /// Each connected bank's connections.
    banks: FxHashMap<ParticipantId, Vec<usize>>,
    bank_turn: usize,
    producer: Producer<'p, Event, Results>,
    staged: Vec<Event>,
    /// Free slots in the ring as last read, less what was staged since.
    room: usize,
    answers: rtrb::Consumer<Answer>,
    forwards: rtrb::Consumer<Forwarded>,
    network: Arc<Network>,
    operator_key: MacKey,
    clock: RunClock,
    config: DoorConfig,
    counts: Counts,
    latency: Latencies,
    metrics: Arc<NodeMetrics>,
    bell: Arc<DoorBell>,
    stop: StopFlag,
    drain: Drain,
    /// The ring was full at the last read attempt (counted once per episode).
    ring_full: bool,
    /// The payment store, read to answer QUERYs; `None` on a node without one (every QUERY for
    /// a finished payment is then answered `Unknown`).
    store: Option<PaymentStore>,
    /// Closed institution connections that still have payments in flight, by (slot,
    /// generation): whose they were, so a QUERY from that institution on another connection
    /// learns `InFlight`. An entry goes when its last payment is answered.
    orphans: FxHashMap<(u32, u32), Orphaned>,
    /// Whether a failed store read has been reported on stderr (once; they are all counted).
    store_error_reported: bool,
}

/// A closed connection's payments still in flight.
#[derive(Clone, Copy, Debug)]
struct Orphaned {
    /// The institution that sent them.
    institution: ParticipantId,
    /// How many are not yet answered.
    in_flight: u32,
}

/// The door's inputs, gathered.
pub struct DoorParts<'p> {
    /// The poll the listener and the bell are registered with.
    pub poll: Poll,
    /// The listening socket, registered as [`LISTENER`].
    pub listener: TcpListener,
    /// The ring's producer.
    pub producer: Producer<'p, Event, Results>,
    /// Egress's answers.
    pub answers: rtrb::Consumer<Answer>,
    /// Egress's forwards.
    pub forwards: rtrb::Consumer<Forwarded>,
    /// The network: participants, keys, links.
    pub network: Arc<Network>,
    /// The node's clock.
    pub clock: RunClock,
    /// Settings.
    pub config: DoorConfig,
    /// Shared with the endpoint.
    pub metrics: Arc<NodeMetrics>,
    /// Rung by egress.
    pub bell: Arc<DoorBell>,
    /// SIGTERM.
    pub stop: StopFlag,
    /// The payment store, for QUERYs: a handle of the door's own (`None`: answer `Unknown`).
    pub store: Option<PaymentStore>,
}

impl<'p> Door<'p> {
    /// A door over `parts`.
    pub fn new(parts: DoorParts<'p>) -> Door<'p> {
        let operator_key = parts.network.operator_key();
        Door {
            poll: parts.poll,
            events: Events::with_capacity(1024),
            listener: Some(parts.listener),
            connections: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            ready: Vec::new(),
            dirty: Vec::new(),
            by_role: [0; 3],
            in_flight: InFlight::new(),
            nonces: Nonces::default(),
            banks: FxHashMap::default(),
            bank_turn: 0,
            producer: parts.producer,
            staged: Vec::with_capacity(DOOR_BATCH_EVENTS),
            room: 0,
            answers: parts.answers,
            forwards: parts.forwards,
            network: parts.network,
            operator_key,
            clock: parts.clock,
            config: parts.config,
            counts: Counts::default(),
            latency: Latencies::new(),
            metrics: parts.metrics,
            bell: parts.bell,
            stop: parts.stop,
            drain: Drain::Serving,
            ring_full: false,
            store: parts.store,
            orphans: FxHashMap::default(),
            store_error_reported: false,
        }
    }

    /// Serves until SIGTERM (or SIGINT) and a drain; then every connection is closed.
    pub fn run(mut self) -> Result<DoorReport, String> {
        // No bank is connected yet: every link starts down, and comes up with its bank.
        let now_ns = self.clock.now_ns();
        let banks: Vec<(ParticipantId, usize)> = self
            .network
            .banks()
            .map(|bank| (bank.id, bank.links.len()))
            .collect();
        for (bank, links) in banks {
            self.stage_links(bank, links, false, now_ns)?;
        }
        self.publish_staged()?;
        let mut next_cutover_ns = now_ns + self.config.cutover_interval_ns;
        let sweep_interval_ns = (self.config.idle_timeout_ns / 4).clamp(10_000_000, 1_000_000_000);
        let mut next_sweep_ns = now_ns + sweep_interval_ns;
        let mut next_metrics_ns = now_ns;
        let mut next_latency_ns = now_ns;
        loop {
            let now_ns = self.clock.now_ns();
            if self.drain == Drain::Serving && self.stop.raised() {
                self.start_drain(now_ns);
            }
            self.deliver(now_ns);
            if now_ns >= next_cutover_ns {
                self.stage(self.operator_event(Kind::Cutover, ParticipantId::OPERATOR, 0, now_ns))?;
                self.counts.one(Counter::Cutovers);
                next_cutover_ns = (next_cutover_ns + self.config.cutover_interval_ns).max(now_ns);
            }
            self.read_ready(now_ns)?;
            self.publish_staged()?;
            self.flush_dirty();
            if now_ns >= next_sweep_ns {
                self.sweep(now_ns);
                next_sweep_ns = now_ns + sweep_interval_ns;
            }
            if now_ns >= next_metrics_ns {
                let latency = now_ns >= next_latency_ns;
                if latency {
                    next_latency_ns = now_ns + 1_000_000_000;
                }
                self.publish_metrics(latency);
                next_metrics_ns = now_ns + 10_000_000;
            }
            if self.drain_step(now_ns)? {
                break;
            }
            self.wait(now_ns, next_cutover_ns)?;
        }
        self.publish_metrics(true);
        let slots: Vec<usize> = (0..self.connections.len())
            .filter(|&slot| self.connections[slot].is_some())
            .collect();
        for slot in slots {
            self.close_now(slot, Counter::ClosedShutdown)?;
        }
        self.publish_staged()?;
        Ok(DoorReport {
            counts: self.counts.clone(),
            answer_latency: self.latency.percentiles(),
            in_flight_at_end: self.in_flight.len(),
        })
    }

    /// Sleeps in `poll` unless something is waiting, then takes its events.
    fn wait(&mut self, now_ns: u64, next_cutover_ns: u64) -> Result<(), String> {
        let can_read = !self.ready.is_empty() && !self.ring_full;
        let mut timeout = if can_read {
            Duration::ZERO
        } else if self.ring_full {
            // The stages are behind: look again soon, without burning the core they need.
            Duration::from_micros(100)
        } else {
            Duration::from_nanos(
                next_cutover_ns
                    .saturating_sub(now_ns)
                    .min(DOOR_POLL_TIMEOUT_MS * 1_000_000),
            )
        };
        if !timeout.is_zero() {
            self.bell.sleeping();
            if !self.answers.is_empty() || !self.forwards.is_empty() {
                timeout = Duration::ZERO;
            }
        }
        let polled = self.poll.poll(&mut self.events, Some(timeout));
        self.bell.awake();
        match polled {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(error) => return Err(format!("the I/O thread's poll failed: {error}")),
        }
        let mut accept = false;
        for event in self.events.iter() {
            match event.token() {
                LISTENER => accept = true,
                BELL => {}
                Token(slot) => {
                    if let Some(Some(connection)) = self.connections.get_mut(slot) {
                        let readable =
                            event.is_readable() || event.is_read_closed() || event.is_error();
                        if readable && !connection.readable {
                            connection.readable = true;
                            self.ready.push(slot);
                        }
                        if event.is_writable() && connection.pending_out() > 0 {
                            self.dirty.push(slot);
                        }
                    }
                }
            }
        }
        if accept {
            self.accept();
        }
        Ok(())
    }

    /// Takes every waiting connection, up to the limit.
    fn accept(&mut self) {
        let now_ns = self.clock.now_ns();
        loop {
            let Some(listener) = &self.listener else {
                return;
            };
            let (stream, _) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                // A connection that failed before it was taken (reset, out of descriptors): the
                // others go on.
                Err(_) => return,
            };
            let open: u64 = self.by_role.iter().sum();
            if open as usize >= NODE_CONNECTIONS_MAX {
                self.counts.one(Counter::ConnectionsRefused);
                refuse_connection(stream);
                continue;
            }
            let _ = stream.set_nodelay(true);
            let slot = self.free.pop().unwrap_or_else(|| {
                self.connections.push(None);
                self.generations.push(0);
                self.connections.len() - 1
            });
            let mut stream = stream;
            if self
                .poll
                .registry()
                .register(
                    &mut stream,
                    Token(slot),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .is_err()
            {
                self.free.push(slot);
                continue;
            }
            self.generations[slot] = self.generations[slot].wrapping_add(1);
            self.connections[slot] = Some(Connection::new(stream, self.generations[slot], now_ns));
            self.ready.push(slot);
            self.by_role[0] += 1;
            self.counts.one(Counter::ConnectionsAccepted);
        }
    }

    /// Reads every ready connection while the ring has room.
    fn read_ready(&mut self, now_ns: u64) -> Result<(), String> {
        let mut index = 0;
        while index < self.ready.len() {
            let slot = self.ready[index];
            let keep = self.read_connection(slot, now_ns)?;
            if keep {
                index += 1;
            } else {
                self.ready.swap_remove(index);
            }
            if self.ring_full {
                break;
            }
        }
        Ok(())
    }

    /// Reads one connection until its socket would block, it must pause, or the ring is full;
    /// whether it stays on the ready list.
    fn read_connection(&mut self, slot: usize, now_ns: u64) -> Result<bool, String> {
        let Some(mut connection) = self.connections[slot].take() else {
            return Ok(false);
        };
        let result = self.read_frames(&mut connection, slot, now_ns);
        let close = match result {
            Ok(close) => close,
            Err(error) => {
                self.connections[slot] = Some(connection);
                return Err(error);
            }
        };
        let keep = connection.readable && !connection.closing;
        // A closing connection is closed by `flush_dirty` once what it is owed is written.
        let dirty = connection.pending_out() > 0 || connection.closing;
        self.connections[slot] = Some(connection);
        if dirty {
            self.dirty.push(slot);
        }
        if let Some(reason) = close {
            self.close_now(slot, reason)?;
            return Ok(false);
        }
        Ok(keep)
    }

    /// The reading itself; `Some(reason)` when the connection must close at once.
    fn read_frames(
        &mut self,
        connection: &mut Connection,
        slot: usize,
        now_ns: u64,
    ) -> Result<Option<Counter>, String> {
        loop {
            if connection.closing || !connection.readable {
                return Ok(None);
            }
            if connection.pending_out() > OUTPUT_PAUSE_READING_BYTES {
                // Its peer is not reading what it is sent: take nothing more from it for now.
                return Ok(None);
            }
            let draining = self.drain != Drain::Serving;
            if draining && !matches!(connection.peer, Peer::Bank(_)) {
                // A draining node takes only the banks' replies.
                return Ok(None);
            }
            if !self.has_room(EVENTS_PER_READ_MAX)? {
                return Ok(None);
            }
            match connection.read_in() {
                Ok(0) => return Ok(Some(Counter::ClosedByPeer)),
                Ok(count) => {
                    self.counts.add(Counter::BytesReceived, count as u64);
                    connection.heard_ns = now_ns;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    connection.readable = false;
                    return Ok(None);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Ok(Some(Counter::ClosedError)),
            }
            loop {
                let frame = match connection.reader.next_frame() {
                    Ok(Some(frame)) => frame,
                    Ok(None) => break,
                    Err(error) => {
                        self.counts.one(Counter::Malformed);
                        connection.send(&Frame::Error(ErrorFrame::from_wire_error(&error)));
                        self.close_after(
                            connection,
                            GOODBYE_PROTOCOL_ERROR,
                            Counter::ClosedProtocol,
                            now_ns,
                        );
                        return Ok(None);
                    }
                };
                self.counts.one(Counter::FramesReceived);
                self.on_frame(connection, slot, frame, now_ns)?;
                if connection.closing {
                    return Ok(None);
                }
            }
        }
    }

    /// Whether the ring has room for what is staged and `more`; refreshes the reading when the
    /// last one says no, and publishes what is staged when the batch is full.
    fn has_room(&mut self, more: usize) -> Result<bool, String> {
        if self.staged.len() + more > DOOR_BATCH_EVENTS {
            self.publish_staged()?;
        }
        if self.room < self.staged.len() + more {
            self.room = self.producer.free_slots();
            if self.room < self.staged.len() + more {
                if !self.ring_full {
                    self.ring_full = true;
                    self.counts.one(Counter::RingFull);
                }
                return Ok(false);
            }
        }
        self.ring_full = false;
        Ok(true)
    }

    /// Acts on one frame from `connection`.
    fn on_frame(
        &mut self,
        connection: &mut Connection,
        slot: usize,
        frame: Frame,
        now_ns: u64,
    ) -> Result<(), String> {
        match (connection.peer, frame) {
            (Peer::Greeting, Frame::Hello(hello)) => {
                self.on_hello(connection, slot, hello, now_ns)?
            }
            (Peer::Greeting, frame) => {
                connection.send(&error_frame(
                    ERROR_HELLO_FIRST,
                    &format!(
                        "{} before HELLO: a connection opens with HELLO",
                        frame.frame_type().name()
                    ),
                ));
                self.close_after(
                    connection,
                    GOODBYE_PROTOCOL_ERROR,
                    Counter::ClosedProtocol,
                    now_ns,
                );
            }
            (Peer::Institution(participant), Frame::Payment(signed)) => {
                if !self.speaks_for(connection, &signed, participant, now_ns) {
                    // Refused with an ERROR: another sender's, or not a payment kind.
                } else if connection.in_flight >= FRAMES_IN_FLIGHT_PER_CONNECTION_MAX
                    || self.in_flight.is_full()
                {
                    self.counts.one(Counter::Busy);
                    self.counts.one(Counter::FramesSent);
                    connection.send(&Frame::Busy(signed.txn_id));
                } else {
                    let admitted = Admitted {
                        connection: ConnectionRef {
                            index: slot as u32,
                            generation: connection.generation,
                        },
                        admitted_ns: now_ns,
                    };
                    if self.in_flight.admit(signed.txn_id, admitted) {
                        connection.in_flight += 1;
                        self.counts.one(Counter::PaymentsAdmitted);
                        self.stage(signed.to_event())?;
                    } else {
                        // The ledger would refuse it the same way; refusing here keeps one
                        // answer per id in flight, which is how answers find their connection.
                        self.counts.one(Counter::DuplicatesInFlight);
                        self.counts.one(Counter::FramesSent);
                        connection.send(&Frame::Answer(Answer {
                            txn_id: signed.txn_id,
                            outcome: Outcome::Rejected,
                            decline: Some(Decline::DuplicateInFlight),
                            original: Outcome::Pending,
                            sent_ns: signed.sent_ns,
                        }));
                    }
                }
            }
            (Peer::Institution(participant), Frame::Query(txn_id)) => {
                self.on_query(connection, slot, participant, txn_id);
            }
            (Peer::Bank(bank), Frame::Reply(signed)) => {
                if self.speaks_for(connection, &signed, bank, now_ns) {
                    self.counts.one(Counter::RepliesAdmitted);
                    self.stage(signed.to_event())?;
                }
            }
            (_, Frame::Ping(nonce)) => {
                self.counts.one(Counter::Pings);
                self.counts.one(Counter::FramesSent);
                connection.send(&Frame::Pong(nonce));
            }
            (_, Frame::Pong(_)) => {}
            (_, Frame::Goodbye(_)) | (_, Frame::Error(_)) => {
                connection.close_soon(now_ns, Counter::ClosedByPeer);
            }
            (peer, frame) => {
                let reason = format!(
                    "{} is not for {} connections to send",
                    frame.frame_type().name(),
                    peer.label()
                );
                self.violation(connection, ERROR_NOT_YOURS_TO_SEND, reason, now_ns);
            }
        }
        Ok(())
    }

    /// A QUERY from institution `asker` on `connection` (docs/PROTOCOL.md, "QUERY"): answered at
    /// once with a STATUS, or ERROR 106 when the store cannot be read. The ring is not touched.
    fn on_query(
        &mut self,
        connection: &mut Connection,
        slot: usize,
        asker: ParticipantId,
        txn_id: TxnId,
    ) {
        self.counts.one(Counter::FramesSent);
        match self.query_status(connection, slot, asker, txn_id) {
            Ok(status) => {
                self.counts.one(match status.status {
                    QueryStatus::Found => Counter::QueriesFound,
                    QueryStatus::InFlight => Counter::QueriesInFlight,
                    QueryStatus::Unknown | QueryStatus::BeyondRetention => Counter::QueriesUnknown,
                });
                connection.send(&Frame::Status(status));
            }
            Err(error) => {
                self.counts.one(Counter::QueryErrors);
                if !self.store_error_reported {
                    self.store_error_reported = true;
                    eprintln!(
                        "clearway serve: a QUERY could not read the payment store (answered \
                         ERROR {ERROR_INTERNAL}; later failures are counted only): {error}"
                    );
                }
                // The store's own words stay in the node's log: they may name a record.
                connection.send(&error_frame(
                    ERROR_INTERNAL,
                    "an internal error: the node's payment store could not be read; ask again",
                ));
            }
        }
    }

    /// What the node can tell `asker` of `txn_id`: its own payment in flight, then its own
    /// finished payment in the store; anything else, another institution's payment included,
    /// is `Unknown`, in the same bytes as an id never seen.
    fn query_status(
        &mut self,
        connection: &Connection,
        slot: usize,
        asker: ParticipantId,
        txn_id: TxnId,
    ) -> Result<Status, StoreError> {
        if self.in_flight_sender(connection, slot, txn_id) == Some(asker) {
            return Ok(Status::bare(txn_id, QueryStatus::InFlight));
        }
        let Some(store) = &mut self.store else {
            return Ok(Status::bare(txn_id, QueryStatus::Unknown));
        };
        // Retention is the store's: an id it has dropped is simply not there (and answered
        // `Unknown`; the door does not judge retention itself).
        Ok(match store.payment(txn_id, u64::MAX)? {
            Some(payment) if payment.institution == asker => Status {
                txn_id,
                status: QueryStatus::Found,
                outcome: payment.outcome,
                kind: payment.kind,
                amount_fen: payment.amount_fen,
                batch: payment.batch,
                finished_ns: payment.finished_ns,
            },
            _ => Status::bare(txn_id, QueryStatus::Unknown),
        })
    }

    /// The institution whose payment `txn_id` is in flight, known by the connection it came in
    /// on (`connection`, in `slot`, is the one being read, out of its slot meanwhile); `None` when
    /// it is not in flight.
    fn in_flight_sender(
        &mut self,
        connection: &Connection,
        slot: usize,
        txn_id: TxnId,
    ) -> Option<ParticipantId> {
        // `InFlight` has no look-up that leaves the entry in place: take it and put it back (it
        // was there, so the table does not grow).
        let admitted = self.in_flight.take(txn_id)?;
        self.in_flight.admit(txn_id, admitted);
        let at = admitted.connection;
        let open = if at.index as usize == slot {
            Some(connection)
        } else {
            self.connections
                .get(at.index as usize)
                .and_then(Option::as_ref)
        };
        match open
            .filter(|open| open.generation == at.generation)
            .map(|open| open.peer)
        {
            Some(Peer::Institution(institution)) => Some(institution),
            Some(_) => None,
            None => self
                .orphans
                .get(&(at.index, at.generation))
                .map(|orphaned| orphaned.institution),
        }
    }

    /// An answer for a payment whose connection `at` has closed: one fewer in flight for it.
    fn orphan_answered(&mut self, at: ConnectionRef) {
        let key = (at.index, at.generation);
        if let Some(orphaned) = self.orphans.get_mut(&key) {
            orphaned.in_flight = orphaned.in_flight.saturating_sub(1);
            if orphaned.in_flight == 0 {
                self.orphans.remove(&key);
            }
        }
    }

    /// Whether a PAYMENT or REPLY on a connection for `participant` may go on the ring: it must
    /// name that participant as its sender, and carry a kind its frame may (a payment kind from
    /// an institution, a bank reply from a bank). Otherwise it is refused as a violation.
    fn speaks_for(
        &mut self,
        connection: &mut Connection,
        signed: &Signed,
        participant: ParticipantId,
        now_ns: u64,
    ) -> bool {
        let (kind_fits, rule) = match connection.peer {
            Peer::Bank(_) => (
                signed.kind == Kind::BankReply,
                "a REPLY carries kind 4 (bank_reply)",
            ),
            _ => (
                signed.kind.is_payment(),
                "a PAYMENT carries a payment kind (0 to 3)",
            ),
        };
        if signed.sender != participant {
            let reason = foreign(signed.sender, participant);
            self.violation(connection, ERROR_FOREIGN_SENDER, reason, now_ns);
            false
        } else if !kind_fits {
            self.violation(
                connection,
                ERROR_NOT_YOURS_TO_SEND,
                rule.to_string(),
                now_ns,
            );
            false
        } else {
            true
        }
    }

    /// A HELLO on a greeting connection: WELCOME it, or refuse it and close.
    fn on_hello(
        &mut self,
        connection: &mut Connection,
        slot: usize,
        hello: Hello,
        now_ns: u64,
    ) -> Result<(), String> {
        let participant = self
            .network
            .participant(hello.participant)
            .filter(|participant| participant.id != ParticipantId::OPERATOR)
            .map(|participant| {
                (
                    participant.id,
                    participant.is_bank(),
                    participant.links.len(),
                    participant.mac_key(),
                )
            });
        let accepted = match &participant {
            Some((id, _, _, key)) => {
                verify_hello(key, &hello) && self.nonces.first_use(*id, hello.nonce)
            }
            None => false,
        };
        self.counts.one(Counter::FramesSent);
        let Some((id, is_bank, links, _)) = participant.filter(|_| accepted) else {
            self.counts.one(Counter::HellosRefused);
            connection.send(&Frame::Welcome(Welcome {
                accepted: false,
                frames_in_flight_max: 0,
                frame_size_max: FRAME_SIZE_MAX as u32,
            }));
            self.close_after(
                connection,
                GOODBYE_HELLO_REFUSED,
                Counter::ClosedHelloRefused,
                now_ns,
            );
            return Ok(());
        };
        connection.send(&Frame::Welcome(Welcome {
            accepted: true,
            frames_in_flight_max: FRAMES_IN_FLIGHT_PER_CONNECTION_MAX,
            frame_size_max: FRAME_SIZE_MAX as u32,
        }));
        self.by_role[0] -= 1;
        if is_bank {
            connection.peer = Peer::Bank(id);
            self.by_role[2] += 1;
            let slots = self.banks.entry(id).or_default();
            slots.push(slot);
            if slots.len() == 1 {
                self.stage_links(id, links, true, now_ns)?;
            }
        } else {
            connection.peer = Peer::Institution(id);
            self.by_role[1] += 1;
        }
        Ok(())
    }

    /// A refused frame: ERROR, and past the limit, GOODBYE and close.
    fn violation(&mut self, connection: &mut Connection, code: u16, reason: String, now_ns: u64) {
        self.counts.one(Counter::Violations);
        self.counts.one(Counter::FramesSent);
        connection.violations += 1;
        connection.send(&error_frame(code, &reason));
        if connection.violations > VIOLATIONS_PER_CONNECTION_MAX {
            connection.send(&error_frame(
                ERROR_TOO_MANY_VIOLATIONS,
                &format!("more than {VIOLATIONS_PER_CONNECTION_MAX} refused frames"),
            ));
            self.close_after(
                connection,
                GOODBYE_PROTOCOL_ERROR,
                Counter::ClosedViolations,
                now_ns,
            );
        }
    }

    /// Queues GOODBYE `reason` and closes once it is written.
    fn close_after(
        &mut self,
        connection: &mut Connection,
        reason: u16,
        counter: Counter,
        now_ns: u64,
    ) {
        self.counts.one(Counter::FramesSent);
        connection.send(&Frame::Goodbye(reason));
        connection.close_soon(now_ns, counter);
    }

    /// Egress's answers and forwards, onto their connections.
    fn deliver(&mut self, now_ns: u64) {
        while let Ok(answer) = self.answers.pop() {
            self.counts.outcomes[answer.outcome as usize] += 1;
            if let (Outcome::Rejected, Some(decline)) = (answer.outcome, answer.decline) {
                self.counts.declines[decline.index()] += 1;
            }
            let Some(admitted) = self.in_flight.take(answer.txn_id) else {
                // From before a restart (its hold expired now), or refused at the door already.
                self.counts.one(Counter::AnswersUndeliverable);
                continue;
            };
            self.latency
                .record(now_ns.saturating_sub(admitted.admitted_ns));
            let slot = admitted.connection.index as usize;
            let Some(Some(connection)) = self.connections.get_mut(slot) else {
                self.counts.one(Counter::AnswersUndeliverable);
                self.orphan_answered(admitted.connection);
                continue;
            };
            if connection.generation != admitted.connection.generation {
                self.counts.one(Counter::AnswersUndeliverable);
                self.orphan_answered(admitted.connection);
                continue;
            }
            connection.in_flight -= 1;
            connection.send(&Frame::Answer(answer));
            self.counts.one(Counter::FramesSent);
            self.dirty.push(slot);
            if answer.decline != Some(Decline::BadMac) {
                connection.bad_macs = 0;
            } else {
                self.counts.one(Counter::BadMacs);
                connection.bad_macs += 1;
                if connection.bad_macs > BAD_MACS_PER_CONNECTION_MAX && !connection.closing {
                    connection.send(&error_frame(
                        ERROR_TOO_MANY_BAD_MACS,
                        &format!(
                            "more than {BAD_MACS_PER_CONNECTION_MAX} payments in a row with a bad MAC"
                        ),
                    ));
                    self.counts.add(Counter::FramesSent, 2);
                    connection.send(&Frame::Goodbye(GOODBYE_PROTOCOL_ERROR));
                    connection.close_soon(now_ns, Counter::ClosedBadMacs);
                }
            }
        }
        while let Ok(forwarded) = self.forwards.pop() {
            let Some(slots) = self
                .banks
                .get(&forwarded.bank)
                .filter(|slots| !slots.is_empty())
            else {
                self.counts.one(Counter::ForwardsUnroutable);
                continue;
            };
            // One of the bank's connections in turn, passing over any that is closing (its bank
            // said GOODBYE, or stopped reading).
            self.bank_turn = self.bank_turn.wrapping_add(1);
            let connections = &self.connections;
            let open = (0..slots.len())
                .map(|offset| slots[(self.bank_turn + offset) % slots.len()])
                .find(|&slot| matches!(connections.get(slot), Some(Some(connection)) if !connection.closing));
            let Some(slot) = open else {
                self.counts.one(Counter::ForwardsUnroutable);
                continue;
            };
            let Some(Some(connection)) = self.connections.get_mut(slot) else {
                self.counts.one(Counter::ForwardsUnroutable);
                continue;
            };
            connection.send(&Frame::Forward(Forward {
                txn_id: forwarded.txn_id,
                bank: forwarded.bank,
                amount_fen: forwarded.amount_fen,
                account: forwarded.account,
                sent_ns: forwarded.sent_ns,
            }));
            self.counts.one(Counter::Forwards);
            self.counts.one(Counter::FramesSent);
            self.dirty.push(slot);
            if connection.pending_out() > OUTPUT_BUFFER_BYTES_MAX && !connection.closing {
                // A bank that does not read its FORWARDs: closing it takes its links down, so
                // route stops sending it payments; those it holds expire.
                connection.close_soon(now_ns, Counter::ClosedSlowReader);
            }
        }
    }

    /// Writes every connection with output queued; closes those done closing.
    fn flush_dirty(&mut self) {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        for &slot in &dirty {
            let Some(Some(connection)) = self.connections.get_mut(slot) else {
                continue;
            };
            let paused = connection.pending_out() > OUTPUT_PAUSE_READING_BYTES;
            match connection.write_out() {
                Ok(written) => {
                    self.counts.add(Counter::BytesSent, written as u64);
                    if paused
                        && connection.pending_out() <= OUTPUT_PAUSE_READING_BYTES
                        && connection.readable
                    {
                        // It was paused for not reading; now it has, take its frames again.
                        self.ready.push(slot);
                    }
                    if connection.closing && connection.pending_out() == 0 {
                        let reason = connection.close_reason;
                        let _ = self.close_now(slot, reason);
                    } else if connection.pending_out() > OUTPUT_BUFFER_BYTES_MAX {
                        let _ = self.close_now(slot, Counter::ClosedSlowReader);
                    }
                }
                Err(_) => {
                    let _ = self.close_now(slot, Counter::ClosedError);
                }
            }
        }
        dirty.clear();
        self.dirty = dirty;
    }

    /// Closes connections silent past the idle timeout, and those that have been closing too
    /// long (their peer does not read the GOODBYE).
    fn sweep(&mut self, now_ns: u64) {
        for slot in 0..self.connections.len() {
            let Some(connection) = &mut self.connections[slot] else {
                continue;
            };
            if connection.closing {
                if now_ns.saturating_sub(connection.closing_since_ns) > DRAIN_GOODBYE_MS * 1_000_000
                {
                    let reason = connection.close_reason;
                    let _ = self.close_now(slot, reason);
                }
            } else if now_ns.saturating_sub(connection.heard_ns) > self.config.idle_timeout_ns {
                self.counts.add(Counter::FramesSent, 1);
                connection.send(&Frame::Goodbye(GOODBYE_IDLE));
                connection.close_soon(now_ns, Counter::ClosedIdle);
                self.dirty.push(slot);
            }
        }
    }

    /// Closes `slot` now: deregisters it, and when it was a bank's last connection, takes the
    /// bank's links down.
    fn close_now(&mut self, slot: usize, reason: Counter) -> Result<(), String> {
        let Some(mut connection) = self.connections[slot].take() else {
            return Ok(());
        };
        let _ = self.poll.registry().deregister(&mut connection.stream);
        self.counts.one(reason);
        self.free.push(slot);
        match connection.peer {
            Peer::Greeting => self.by_role[0] -= 1,
            Peer::Institution(institution) => {
                self.by_role[1] -= 1;
                if connection.in_flight > 0 {
                    self.orphans.insert(
                        (slot as u32, connection.generation),
                        Orphaned {
                            institution,
                            in_flight: connection.in_flight,
                        },
                    );
                }
            }
            Peer::Bank(bank) => {
                self.by_role[2] -= 1;
                let links = self
                    .network
                    .participant(bank)
                    .map_or(0, |bank| bank.links.len());
                if let Some(slots) = self.banks.get_mut(&bank) {
                    slots.retain(|&other| other != slot);
                    if slots.is_empty() {
                        self.banks.remove(&bank);
                        self.stage_links(bank, links, false, self.clock.now_ns())?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Stages a link status event for each of `bank`'s links.
    fn stage_links(
        &mut self,
        bank: ParticipantId,
        links: usize,
        up: bool,
        now_ns: u64,
    ) -> Result<(), String> {
        for link in 0..links.min(0x80) {
            let code = link as u8 | if up { 0x80 } else { 0 };
            self.stage(self.operator_event(Kind::LinkStatus, bank, code, now_ns))?;
            self.counts.one(Counter::LinkEvents);
        }
        Ok(())
    }

    /// An operator event, signed with the operator's key.
    fn operator_event(
        &self,
        kind: Kind,
        counterparty: ParticipantId,
        code: u8,
        now_ns: u64,
    ) -> Event {
        crate::run::driver::operator_event(&self.operator_key, kind, counterparty, code, now_ns)
    }

    /// Adds `event` to the batch going into the ring, publishing the batch first if it is full.
    fn stage(&mut self, event: Event) -> Result<(), String> {
        if self.staged.len() == DOOR_BATCH_EVENTS {
            self.publish_staged()?;
        }
        self.staged.push(event);
        Ok(())
    }

    /// Publishes what is staged, in one claim, stamping sequence and event time.
    fn publish_staged(&mut self) -> Result<(), String> {
        if self.staged.is_empty() {
            return Ok(());
        }
        let now_ns = self.clock.now_ns();
        let base = self.config.sequence_base;
        let staged = &self.staged;
        let mut index = 0;
        self.producer
            .publish_batch(staged.len(), |sequence, input, output| {
                *input = staged[index];
                input.sequence = base + sequence;
                input.event_ns = now_ns;
                *output = Results::default();
                index += 1;
            })
            .map_err(|error| error.to_string())?;
        self.room = self.room.saturating_sub(self.staged.len());
        self.staged.clear();
        Ok(())
    }

    /// SIGTERM: stop accepting and taking payments; answer what is in flight.
    fn start_drain(&mut self, now_ns: u64) {
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        let deadline_ns =
            now_ns + self.config.bank_timeout_ns + self.config.bank_timeout_ns / 10 + 100_000_000;
        self.drain = Drain::Answering { deadline_ns };
    }

    /// Moves the drain on; true once it is done.
    fn drain_step(&mut self, now_ns: u64) -> Result<bool, String> {
        match self.drain {
            Drain::Serving => Ok(false),
            Drain::Answering { deadline_ns } => {
                if self.in_flight.is_empty() || now_ns >= deadline_ns {
                    // Its event time is past every hold's deadline: whatever is still held
                    // expires, and is answered so.
                    self.stage(self.operator_event(
                        Kind::Cutover,
                        ParticipantId::OPERATOR,
                        0,
                        now_ns,
                    ))?;
                    self.counts.one(Counter::Cutovers);
                    self.publish_staged()?;
                    self.drain = Drain::Expiring {
                        deadline_ns: now_ns + DRAIN_GOODBYE_MS * 1_000_000,
                    };
                }
                Ok(false)
            }
            Drain::Expiring { deadline_ns } => {
                if self.in_flight.is_empty() || now_ns >= deadline_ns {
                    for slot in 0..self.connections.len() {
                        if let Some(connection) = &mut self.connections[slot] {
                            if !connection.closing {
                                connection.send(&Frame::Goodbye(GOODBYE_SHUTDOWN));
                                self.counts.one(Counter::FramesSent);
                                connection.close_soon(now_ns, Counter::ClosedShutdown);
                            }
                            self.dirty.push(slot);
                        }
                    }
                    self.drain = Drain::Closing {
                        deadline_ns: now_ns + DRAIN_GOODBYE_MS * 1_000_000,
                    };
                }
                Ok(false)
            }
            Drain::Closing { deadline_ns } => {
                let open = self.connections.iter().any(Option::is_some);
                Ok(!open || now_ns >= deadline_ns)
            }
        }
    }

    /// Copies the counts and gauges to the endpoint's atomics; with `latency`, the answer
    /// latency's quantiles too (reading them walks the histogram: once a second, not per call).
    fn publish_metrics(&mut self, latency: bool) {
        self.metrics.publish(&self.counts);
        if latency {
            self.metrics.publish_latency(&self.latency.percentiles());
        }
        for (atomic, value) in self.metrics.connections.iter().zip(self.by_role) {
            atomic.store(value, Ordering::Relaxed);
        }
        self.metrics
            .in_flight
            .store(self.in_flight.len() as u64, Ordering::Relaxed);
    }
}

/// An ERROR frame with `code` and `reason` (cut to fit).
fn error_frame(code: u16, reason: &str) -> Frame {
    Frame::Error(ErrorFrame {
        code,
        reason: Reason::truncated(reason),
    })
}

fn foreign(sender: ParticipantId, participant: ParticipantId) -> String {
    format!(
        "the frame names sender {}; this connection speaks for participant {} only",
        sender.0, participant.0
    )
}

/// Tells a connection over the limit why, as far as one non-blocking write can, and drops it.
fn refuse_connection(mut stream: TcpStream) {
    let frame = error_frame(
        ERROR_TOO_MANY_CONNECTIONS,
        &format!("the node holds {NODE_CONNECTIONS_MAX} connections already"),
    );
    let mut bytes = [0u8; FRAME_SIZE_MAX];
    if let Ok(size) = clearway_core::wire::encode(&frame, &mut bytes) {
        let _ = io::Write::write(&mut stream, &bytes[..size]);
    }
}
