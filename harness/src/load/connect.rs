//! Opening the load's connections: for every institution `--connections-per-pi` TCP connections,
//! for every bank one, each introduced with a signed HELLO and admitted by the node's WELCOME
//! before any load starts (a bank's links are up only while it is connected).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use clearway_core::constants::FRAME_SIZE_MAX;
use clearway_core::event::{MacKey, ParticipantId};
use clearway_core::network::Network;
use clearway_core::wire::{encode, Frame, FrameReader, Hello, Welcome};

use crate::constants::CONNECT_TIMEOUT_MS;
use crate::exit::Failure;

/// What the ingress and the reader share about one connection.
#[derive(Debug)]
pub struct ConnectionState {
    /// The institution or bank it speaks for.
    pub participant: ParticipantId,
    /// Whether that is a bank.
    pub is_bank: bool,
    /// WELCOME's limit on PAYMENTs sent and not yet answered.
    pub in_flight_max: u32,
    /// PAYMENTs sent and not yet answered (ANSWER or BUSY).
    pub in_flight: AtomicU32,
    /// Set once the node said GOODBYE, closed it, or a write failed: nothing more goes out.
    pub closed: AtomicBool,
    /// Set by the reader when a PING asks for a PONG; the ingress sends it.
    pub pong_due: AtomicBool,
    /// The nonce the PONG echoes.
    pub pong_nonce: AtomicU64,
}

impl ConnectionState {
    /// A connection for `participant`, open, with nothing in flight.
    pub fn new(participant: ParticipantId, is_bank: bool, in_flight_max: u32) -> ConnectionState {
        ConnectionState {
            participant,
            is_bank,
            in_flight_max,
            in_flight: AtomicU32::new(0),
            closed: AtomicBool::new(false),
            pong_due: AtomicBool::new(false),
            pong_nonce: AtomicU64::new(0),
        }
    }

    /// Whether it still takes frames.
    pub fn is_open(&self) -> bool {
        !self.closed.load(Ordering::Acquire)
    }

    /// Whether a PAYMENT sent now stays within the in-flight limit.
    pub fn has_room(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) < self.in_flight_max
    }

    /// One PAYMENT answered: one fewer in flight (never below zero, whatever the node sends).
    pub fn answered(&self) {
        let _ = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
                count.checked_sub(1)
            });
    }
}

/// Everything the ingress and the reader share.
#[derive(Debug)]
pub struct Shared {
    /// Per connection, in [`crate::load::routing::Routing`]'s numbering.
    pub connections: Vec<ConnectionState>,
    /// Set when any connection has a PONG due.
    pub pongs_due: AtomicBool,
}

/// The connections, admitted, in [`crate::load::routing::Routing`]'s order: each institution's
/// in turn, then each bank's.
pub struct Opened {
    /// The sockets, non-blocking, TCP_NODELAY set.
    pub streams: Vec<TcpStream>,
    /// What the ingress and the reader share about them.
    pub states: Vec<ConnectionState>,
    /// The institutions, in id order.
    pub institutions: Vec<ParticipantId>,
    /// The banks, in id order.
    pub banks: Vec<ParticipantId>,
}

/// Opens and admits every connection to `target`. A node that cannot be reached, refuses a
/// HELLO, or closes before its WELCOME fails the command with a message naming the address.
pub fn open(network: &Network, target: &str, per_pi: usize) -> Result<Opened, Failure> {
    let address = resolve(target)?;
    let institutions: Vec<ParticipantId> = network.institutions().map(|p| p.id).collect();
    let banks: Vec<ParticipantId> = network.banks().map(|p| p.id).collect();
    let nonce_base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64);
    let mut opened = Opened {
        streams: Vec::new(),
        states: Vec::new(),
        institutions: institutions.clone(),
        banks: banks.clone(),
    };
    let wanted = institutions
        .iter()
        .flat_map(|&id| std::iter::repeat((id, false)).take(per_pi))
        .chain(banks.iter().map(|&id| (id, true)));
    for (index, (id, is_bank)) in wanted.enumerate() {
        let key = network
            .participant(id)
            .map(|participant| participant.mac_key())
            .ok_or_else(|| Failure::failed(format!("participant {} has no key", id.0)))?;
        // A nonce is never reused with the same key: nanoseconds since the epoch at start, plus
        // the connection's index.
        let nonce = nonce_base.wrapping_add(index as u64);
        let (stream, welcome) = admit(address, target, &key, id, nonce)?;
        opened.streams.push(stream);
        opened.states.push(ConnectionState::new(
            id,
            is_bank,
            welcome.frames_in_flight_max,
        ));
    }
    Ok(opened)
}

fn resolve(target: &str) -> Result<SocketAddr, Failure> {
    target
        .to_socket_addrs()
        .map_err(|error| {
            Failure::failed(format!(
                "cannot resolve the node's address {target}: {error}"
            ))
        })?
        .next()
        .ok_or_else(|| Failure::failed(format!("the node's address {target} resolves to nothing")))
}

/// One connection: TCP, HELLO, WELCOME.
fn admit(
    address: SocketAddr,
    target: &str,
    key: &MacKey,
    participant: ParticipantId,
    nonce: u64,
) -> Result<(TcpStream, Welcome), Failure> {
    let timeout = Duration::from_millis(CONNECT_TIMEOUT_MS);
    let who = format!("participant {}", participant.0);
    let failed = |what: String| Failure::failed(format!("the node at {target}: {what}"));
    let io = |what: &str, error: std::io::Error| failed(format!("{what} for {who}: {error}"));
    let mut stream = TcpStream::connect_timeout(&address, timeout)
        .map_err(|error| Failure::failed(format!("cannot reach the node at {target}: {error}")))?;
    stream
        .set_nodelay(true)
        .map_err(|error| io("cannot set TCP_NODELAY", error))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|error| io("cannot set a read timeout", error))?;
    let hello = Frame::Hello(Hello::signed(key, participant, nonce));
    let mut bytes = [0u8; FRAME_SIZE_MAX];
    let size = encode(&hello, &mut bytes).map_err(|error| failed(error.to_string()))?;
    stream
        .write_all(&bytes[..size])
        .map_err(|error| io("cannot send the HELLO", error))?;
    let mut reader = FrameReader::new();
    let welcome = loop {
        match reader.next_frame() {
            Ok(Some(Frame::Welcome(welcome))) => break welcome,
            Ok(Some(Frame::Goodbye(reason))) => {
                return Err(failed(format!(
                    "said GOODBYE ({reason}) to the HELLO of {who}"
                )))
            }
            Ok(Some(Frame::Error(error))) => {
                return Err(failed(format!(
                    "sent ERROR {} to the HELLO of {who}: {}",
                    error.code,
                    error.reason.as_str()
                )))
            }
            Ok(Some(Frame::Ping(_))) => continue,
            Ok(Some(other)) => {
                return Err(failed(format!(
                    "answered the HELLO of {who} with {} instead of WELCOME",
                    other.frame_type().name()
                )))
            }
            Ok(None) => {}
            Err(error) => return Err(failed(format!("sent a malformed frame to {who}: {error}"))),
        }
        match stream.read(reader.buffer_mut()) {
            Ok(0) => {
                return Err(failed(format!(
                    "closed the connection of {who} before its WELCOME"
                )))
            }
            Ok(count) => reader.filled(count),
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(io("no WELCOME", error)),
        }
    };
    if !welcome.accepted {
        return Err(failed(format!(
            "refused the HELLO of {who} (is --seed or --config the node's? the keys come from the \
             network)"
        )));
    }
    if reader.pending_bytes() > 0 {
        return Err(failed(format!(
            "sent frames after the WELCOME of {who} before any load"
        )));
    }
    stream
        .set_read_timeout(None)
        .map_err(|error| io("cannot clear the read timeout", error))?;
    stream
        .set_nonblocking(true)
        .map_err(|error| io("cannot make the socket non-blocking", error))?;
    Ok((stream, welcome))
}
