//! [`Connection`]: one institution's or bank's TCP connection, as the I/O thread keeps it.

use std::io::{self, Read, Write};

use clearway_core::event::ParticipantId;
use clearway_core::wire::{encode, encoded_size, Frame, FrameReader};
use mio::net::TcpStream;

use super::metrics::Counter;

/// Who is on the other end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// Connected, HELLO not yet accepted: only a HELLO is taken.
    Greeting,
    /// A payment institution: PAYMENTs.
    Institution(ParticipantId),
    /// A bank: REPLYs, and the FORWARDs for it.
    Bank(ParticipantId),
}

impl Peer {
    /// The label metrics use.
    pub fn label(self) -> &'static str {
        match self {
            Peer::Greeting => "greeting",
            Peer::Institution(_) => "institution",
            Peer::Bank(_) => "bank",
        }
    }
}

/// One connection: its socket, its frame buffer, what waits to be written, and its counts.
pub struct Connection {
    /// The socket, non-blocking.
    pub stream: TcpStream,
    /// Which occupant of its slot this is.
    pub generation: u32,
    /// Bytes read and not yet taken as frames: a fixed buffer.
    pub reader: FrameReader,
    /// Encoded frames waiting to be written, from `out_start`.
    out: Vec<u8>,
    out_start: usize,
    /// Who it speaks for.
    pub peer: Peer,
    /// PAYMENTs taken and not yet answered.
    pub in_flight: u32,
    /// Answers in a row it got with a `BadMac` decline: any other answer starts it again.
    pub bad_macs: u32,
    /// Frames it sent that were refused without closing it.
    pub violations: u32,
    /// When a frame last arrived (or it connected), on the node's clock.
    pub heard_ns: u64,
    /// Whether the socket may have bytes to read (mio is edge-triggered: set by a readable event,
    /// cleared when a read would block).
    pub readable: bool,
    /// Closing: nothing more is read; what is queued is written, then it is closed.
    pub closing: bool,
    /// When it began closing, on the node's clock: a peer that never reads its GOODBYE is
    /// closed anyway after a while.
    pub closing_since_ns: u64,
    /// Why it is closing, for the metrics.
    pub close_reason: Counter,
}

impl Connection {
    /// A new connection, greeting, heard from at `now_ns`.
    pub fn new(stream: TcpStream, generation: u32, now_ns: u64) -> Connection {
        Connection {
            stream,
            generation,
            reader: FrameReader::new(),
            out: Vec::with_capacity(4096),
            out_start: 0,
            peer: Peer::Greeting,
            in_flight: 0,
            bad_macs: 0,
            violations: 0,
            heard_ns: now_ns,
            readable: true,
            closing: false,
            closing_since_ns: 0,
            close_reason: Counter::ClosedByPeer,
        }
    }

    /// Queues `frame` to be written. Every frame the node sends fits the encoder, so this cannot
    /// fail.
    pub fn send(&mut self, frame: &Frame) {
        let size = encoded_size(frame);
        let at = self.out.len();
        self.out.resize(at + size, 0);
        let written = encode(frame, &mut self.out[at..]);
        debug_assert_eq!(
            written.ok(),
            Some(size),
            "the node encodes only frames that fit"
        );
    }

    /// Starts closing at `now_ns` for `reason`: nothing more is read; what is queued is written,
    /// then the connection is closed (or after a while anyway).
    pub fn close_soon(&mut self, now_ns: u64, reason: Counter) {
        self.closing = true;
        self.closing_since_ns = now_ns;
        self.close_reason = reason;
    }

    /// Bytes queued and not yet written.
    pub fn pending_out(&self) -> usize {
        self.out.len() - self.out_start
    }

    /// Writes what is queued until the socket would block; the bytes written.
    pub fn write_out(&mut self) -> io::Result<usize> {
        let mut written = 0;
        while self.out_start < self.out.len() {
            match self.stream.write(&self.out[self.out_start..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(count) => {
                    self.out_start += count;
                    written += count;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        if self.out_start == self.out.len() {
            self.out.clear();
            self.out_start = 0;
        } else if self.out_start >= self.out.capacity() / 2 {
            self.out.drain(..self.out_start);
            self.out_start = 0;
        }
        Ok(written)
    }

    /// Reads once into the frame buffer: the bytes read (0 at end of stream), or `WouldBlock`.
    pub fn read_in(&mut self) -> io::Result<usize> {
        let space = self.reader.buffer_mut();
        if space.is_empty() {
            // The door takes every whole frame before reading again, so at least the buffer less
            // one frame is free: this is a bug, reported as an error rather than a panic.
            return Err(io::Error::other(
                "the frame buffer is full of a partial frame",
            ));
        }
        let count = self.stream.read(space)?;
        self.reader.filled(count);
        Ok(count)
    }
}
