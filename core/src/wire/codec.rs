//! [`encode`] and [`decode`]: frames to bytes and back, every field little-endian at a fixed
//! offset. Neither allocates; the decoder never panics, and it refuses a length field before it
//! waits for (or reads) the bytes the length asks for.

use super::codes::{
    decline_from_wire_code, decline_wire_code, outcome_from_wire_code, outcome_wire_code,
};
use super::{
    Answer, ErrorFrame, Forward, Frame, FrameType, Hello, QueryStatus, Reason, Signed, Status,
    Welcome, WireError, VERSION,
};
use crate::constants::{ACCOUNT_LENGTH_MAX, ERROR_REASON_LENGTH_MAX, FRAME_SIZE_MAX, MAC_LENGTH};
use crate::event::{Account, Kind, Mac, ParticipantId, TxnId};

/// The bytes of the length field.
pub const LENGTH_FIELD_SIZE: usize = 4;
/// The bytes of a frame's header: the length field, the version and the frame type.
pub const HEADER_SIZE: usize = LENGTH_FIELD_SIZE + 2;
/// The largest value the length field may hold: [`FRAME_SIZE_MAX`] less the field itself.
pub const LENGTH_MAX: usize = FRAME_SIZE_MAX - LENGTH_FIELD_SIZE;

/// The bytes of an account on the wire: its bytes zero-padded to the longest, then its length.
const ACCOUNT_SIZE: usize = ACCOUNT_LENGTH_MAX + 1;

/// The body of a HELLO: participant, nonce, MAC.
pub const HELLO_BODY_SIZE: usize = 2 + 8 + MAC_LENGTH;
/// The body of a WELCOME: accepted, frames in flight max, frame size max.
pub const WELCOME_BODY_SIZE: usize = 1 + 4 + 4;
/// The body of a PAYMENT or a REPLY: an event's signed fields and its MAC.
pub const SIGNED_BODY_SIZE: usize = 16 + 16 + 8 + 8 + MAC_LENGTH + ACCOUNT_SIZE + 2 + 2 + 1 + 1;
/// The body of a FORWARD: txn id, bank, amount, account, sent time.
pub const FORWARD_BODY_SIZE: usize = 16 + 2 + 8 + ACCOUNT_SIZE + 8;
/// The body of an ANSWER: txn id, outcome, decline, original's outcome, sent time.
pub const ANSWER_BODY_SIZE: usize = 16 + 1 + 1 + 1 + 8;
/// The body of a BUSY: txn id.
pub const BUSY_BODY_SIZE: usize = 16;
/// The body of a QUERY: txn id.
pub const QUERY_BODY_SIZE: usize = 16;
/// The body of a STATUS: txn id, status, outcome, kind, amount, batch, finished time.
pub const STATUS_BODY_SIZE: usize = 16 + 1 + 1 + 1 + 8 + 8 + 8;
/// The body of an ERROR before its reason: code, reason length.
pub const ERROR_BODY_SIZE_MIN: usize = 2 + 2;
/// The body of a PING or a PONG: nonce.
pub const NONCE_BODY_SIZE: usize = 8;
/// The body of a GOODBYE: reason code.
pub const GOODBYE_BODY_SIZE: usize = 2;

const _: () = assert!(SIGNED_BODY_SIZE == 90);
const _: () = assert!(HEADER_SIZE + SIGNED_BODY_SIZE <= FRAME_SIZE_MAX);
const _: () = assert!(HEADER_SIZE + FORWARD_BODY_SIZE <= FRAME_SIZE_MAX);
const _: () = assert!(STATUS_BODY_SIZE == 43);
const _: () = assert!(HEADER_SIZE + STATUS_BODY_SIZE <= FRAME_SIZE_MAX);
const _: () =
    assert!(HEADER_SIZE + ERROR_BODY_SIZE_MIN + ERROR_REASON_LENGTH_MAX <= FRAME_SIZE_MAX);

/// What [`decode`] found at the start of its bytes.
// An ERROR's reason is held inline (256 bytes), so `Frame` variants differ in size; boxing the
// frame would allocate on every decode, which the decoder must not.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A whole frame, and the bytes it took: where the next frame starts.
    Frame(Frame, usize),
    /// The bytes end before the frame does: call again once there are this many in all (at
    /// least; a header read later may ask for more).
    NeedMore(usize),
}

/// The body size of a fixed-size frame type; `None` for ERROR, whose reason varies.
pub fn body_size(frame_type: FrameType) -> Option<usize> {
    match frame_type {
        FrameType::Hello => Some(HELLO_BODY_SIZE),
        FrameType::Welcome => Some(WELCOME_BODY_SIZE),
        FrameType::Payment | FrameType::Reply => Some(SIGNED_BODY_SIZE),
        FrameType::Forward => Some(FORWARD_BODY_SIZE),
        FrameType::Answer => Some(ANSWER_BODY_SIZE),
        FrameType::Busy => Some(BUSY_BODY_SIZE),
        FrameType::Query => Some(QUERY_BODY_SIZE),
        FrameType::Status => Some(STATUS_BODY_SIZE),
        FrameType::Error => None,
        FrameType::Ping | FrameType::Pong => Some(NONCE_BODY_SIZE),
        FrameType::Goodbye => Some(GOODBYE_BODY_SIZE),
    }
}

/// The bytes `frame` takes on the wire, header included.
pub fn encoded_size(frame: &Frame) -> usize {
    let body = match frame {
        Frame::Error(error) => ERROR_BODY_SIZE_MIN + error.reason.as_str().len(),
        other => body_size(other.frame_type()).expect("only ERROR varies"),
    };
    HEADER_SIZE + body
}

/// Writes `frame` at the start of `out` and returns its size; [`WireError::BufferTooSmall`] if
/// it does not fit. No allocation; a buffer of [`FRAME_SIZE_MAX`] bytes always suffices.
pub fn encode(frame: &Frame, out: &mut [u8]) -> Result<usize, WireError> {
    let size = encoded_size(frame);
    let Some(out) = out.get_mut(..size) else {
        return Err(WireError::BufferTooSmall {
            needed: size,
            available: out.len(),
        });
    };
    let mut writer = Writer { bytes: out, at: 0 };
    writer.put(&((size - LENGTH_FIELD_SIZE) as u32).to_le_bytes());
    writer.put(&[VERSION, frame.frame_type() as u8]);
    match frame {
        Frame::Hello(hello) => {
            writer.put(&hello.participant.0.to_le_bytes());
            writer.put(&hello.nonce.to_le_bytes());
            writer.put(&hello.mac.0);
        }
        Frame::Welcome(welcome) => {
            writer.put(&[u8::from(welcome.accepted)]);
            writer.put(&welcome.frames_in_flight_max.to_le_bytes());
            writer.put(&welcome.frame_size_max.to_le_bytes());
        }
        Frame::Payment(signed) | Frame::Reply(signed) => {
            writer.put(&signed.txn_id.0.to_le_bytes());
            writer.put(&signed.original.0.to_le_bytes());
            writer.put(&signed.sent_ns.to_le_bytes());
            writer.put(&signed.amount_fen.to_le_bytes());
            writer.put(&signed.mac.0);
            writer.account(&signed.account);
            writer.put(&signed.sender.0.to_le_bytes());
            writer.put(&signed.counterparty.0.to_le_bytes());
            writer.put(&[signed.kind as u8, signed.code]);
        }
        Frame::Forward(forward) => {
            writer.put(&forward.txn_id.0.to_le_bytes());
            writer.put(&forward.bank.0.to_le_bytes());
            writer.put(&forward.amount_fen.to_le_bytes());
            writer.account(&forward.account);
            writer.put(&forward.sent_ns.to_le_bytes());
        }
        Frame::Answer(answer) => {
            writer.put(&answer.txn_id.0.to_le_bytes());
            writer.put(&[
                outcome_wire_code(answer.outcome),
                decline_wire_code(answer.decline),
                outcome_wire_code(answer.original),
            ]);
            writer.put(&answer.sent_ns.to_le_bytes());
        }
        Frame::Busy(txn_id) | Frame::Query(txn_id) => writer.put(&txn_id.0.to_le_bytes()),
        Frame::Status(status) => {
            writer.put(&status.txn_id.0.to_le_bytes());
            writer.put(&[
                status.status as u8,
                outcome_wire_code(status.outcome),
                status.kind as u8,
            ]);
            writer.put(&status.amount_fen.to_le_bytes());
            writer.put(&status.batch.to_le_bytes());
            writer.put(&status.finished_ns.to_le_bytes());
        }
        Frame::Error(error) => {
            let reason = error.reason.as_str().as_bytes();
            writer.put(&error.code.to_le_bytes());
            writer.put(&(reason.len() as u16).to_le_bytes());
            writer.put(reason);
        }
        Frame::Ping(nonce) | Frame::Pong(nonce) => writer.put(&nonce.to_le_bytes()),
        Frame::Goodbye(reason) => writer.put(&reason.to_le_bytes()),
    }
    debug_assert_eq!(writer.at, size);
    Ok(size)
}

/// The frame at the start of `bytes`, [`Decoded::NeedMore`] if they end before it does, or the
/// [`WireError`] that says why they are no frame. Never panics, whatever the bytes; the checks
/// run in this order, each as soon as its bytes are there: the length field within
/// `2..=LENGTH_MAX`, the version, the frame type, the length for that type, then the fields.
pub fn decode(bytes: &[u8]) -> Result<Decoded, WireError> {
    let Some(length_field) = bytes.get(..LENGTH_FIELD_SIZE) else {
        return Ok(Decoded::NeedMore(HEADER_SIZE));
    };
    let length = u32::from_le_bytes(array(length_field, 0));
    if length as usize > LENGTH_MAX {
        return Err(WireError::FrameTooLarge { length });
    }
    if (length as usize) < HEADER_SIZE - LENGTH_FIELD_SIZE {
        return Err(WireError::FrameTooShort { length });
    }
    let Some(&version) = bytes.get(LENGTH_FIELD_SIZE) else {
        return Ok(Decoded::NeedMore(HEADER_SIZE));
    };
    if version != VERSION {
        return Err(WireError::UnknownVersion { version });
    }
    let Some(&code) = bytes.get(LENGTH_FIELD_SIZE + 1) else {
        return Ok(Decoded::NeedMore(HEADER_SIZE));
    };
    let frame_type = FrameType::from_code(code).ok_or(WireError::UnknownFrameType { code })?;
    let body_length = length as usize - (HEADER_SIZE - LENGTH_FIELD_SIZE);
    let length_fits = match body_size(frame_type) {
        Some(size) => body_length == size,
        None => body_length >= ERROR_BODY_SIZE_MIN,
    };
    if !length_fits {
        return Err(WireError::WrongLengthForType {
            frame_type: code,
            length,
        });
    }
    let size = HEADER_SIZE + body_length;
    let Some(body) = bytes.get(HEADER_SIZE..size) else {
        return Ok(Decoded::NeedMore(size));
    };
    let frame = decode_body(frame_type, length, body)?;
    Ok(Decoded::Frame(frame, size))
}

/// The frame of type `frame_type` whose body is `body`, its length already checked for the type.
fn decode_body(frame_type: FrameType, length: u32, body: &[u8]) -> Result<Frame, WireError> {
    let mut reader = Reader { bytes: body, at: 0 };
    let frame = match frame_type {
        FrameType::Hello => Frame::Hello(Hello {
            participant: ParticipantId(reader.u16()),
            nonce: reader.u64(),
            mac: Mac(reader.array()),
        }),
        FrameType::Welcome => {
            let accepted = match reader.u8() {
                0 => false,
                1 => true,
                value => return Err(WireError::FlagNotBoolean { value }),
            };
            Frame::Welcome(Welcome {
                accepted,
                frames_in_flight_max: reader.u32(),
                frame_size_max: reader.u32(),
            })
        }
        FrameType::Payment => Frame::Payment(reader.signed()?),
        FrameType::Reply => Frame::Reply(reader.signed()?),
        FrameType::Forward => Frame::Forward(Forward {
            txn_id: TxnId(reader.u128()),
            bank: ParticipantId(reader.u16()),
            amount_fen: reader.u64(),
            account: reader.account()?,
            sent_ns: reader.u64(),
        }),
        FrameType::Answer => Frame::Answer(Answer {
            txn_id: TxnId(reader.u128()),
            outcome: outcome_from_wire_code(reader.u8())?,
            decline: decline_from_wire_code(reader.u8())?,
            original: outcome_from_wire_code(reader.u8())?,
            sent_ns: reader.u64(),
        }),
        FrameType::Busy => Frame::Busy(TxnId(reader.u128())),
        FrameType::Query => Frame::Query(TxnId(reader.u128())),
        FrameType::Status => {
            let txn_id = TxnId(reader.u128());
            let status = QueryStatus::from_code(reader.u8())?;
            let outcome = outcome_from_wire_code(reader.u8())?;
            let kind_code = reader.u8();
            let kind =
                Kind::from_code(kind_code).ok_or(WireError::UnknownKind { code: kind_code })?;
            Frame::Status(Status {
                txn_id,
                status,
                outcome,
                kind,
                amount_fen: reader.u64(),
                batch: reader.u64(),
                finished_ns: reader.u64(),
            })
        }
        FrameType::Error => {
            let code = reader.u16();
            let reason_length = usize::from(reader.u16());
            if reason_length > ERROR_REASON_LENGTH_MAX {
                return Err(WireError::ReasonTooLong {
                    length: reason_length,
                });
            }
            if ERROR_BODY_SIZE_MIN + reason_length != body.len() {
                return Err(WireError::WrongLengthForType {
                    frame_type: FrameType::Error as u8,
                    length,
                });
            }
            let reason = Reason::from_utf8(&body[ERROR_BODY_SIZE_MIN..])?;
            reader.at = body.len();
            Frame::Error(ErrorFrame { code, reason })
        }
        FrameType::Ping => Frame::Ping(reader.u64()),
        FrameType::Pong => Frame::Pong(reader.u64()),
        FrameType::Goodbye => Frame::Goodbye(reader.u16()),
    };
    debug_assert_eq!(reader.at, body.len());
    Ok(frame)
}

/// Writes fields one after another; every caller's total is the frame's size, checked first.
struct Writer<'a> {
    bytes: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, part: &[u8]) {
        self.bytes[self.at..self.at + part.len()].copy_from_slice(part);
        self.at += part.len();
    }

    /// An account: its bytes zero-padded to [`ACCOUNT_LENGTH_MAX`], then its length.
    fn account(&mut self, account: &Account) {
        let (bytes, length) = account.raw();
        self.put(&bytes);
        self.put(&[length]);
    }
}

/// Reads fields one after another from a body whose length the caller checked for its type, so
/// every read lies inside it.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let part = array(self.bytes, self.at);
        self.at += N;
        part
    }

    fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }

    fn u128(&mut self) -> u128 {
        u128::from_le_bytes(self.array())
    }

    /// An account: [`WireError::AccountTooLong`] or [`WireError::AccountPaddingNotZero`] if the
    /// bytes are none an encoder writes.
    fn account(&mut self) -> Result<Account, WireError> {
        let bytes: [u8; ACCOUNT_LENGTH_MAX] = self.array();
        let length = self.u8();
        let Some(padding) = bytes.get(usize::from(length)..) else {
            return Err(WireError::AccountTooLong { length });
        };
        if padding.iter().any(|&byte| byte != 0) {
            return Err(WireError::AccountPaddingNotZero);
        }
        Account::new(&bytes[..usize::from(length)])
            .map_err(|_| WireError::AccountTooLong { length })
    }

    /// A PAYMENT's or REPLY's body.
    fn signed(&mut self) -> Result<Signed, WireError> {
        let txn_id = TxnId(self.u128());
        let original = TxnId(self.u128());
        let sent_ns = self.u64();
        let amount_fen = self.u64();
        let mac = Mac(self.array());
        let account = self.account()?;
        let sender = ParticipantId(self.u16());
        let counterparty = ParticipantId(self.u16());
        let kind_code = self.u8();
        let kind = Kind::from_code(kind_code).ok_or(WireError::UnknownKind { code: kind_code })?;
        Ok(Signed {
            txn_id,
            original,
            sent_ns,
            amount_fen,
            mac,
            account,
            sender,
            counterparty,
            kind,
            code: self.u8(),
        })
    }
}

/// The `N` bytes of `bytes` starting at `at`; every caller's range lies inside `bytes`.
fn array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut part = [0u8; N];
    part.copy_from_slice(&bytes[at..at + N]);
    part
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::event::{Decline, Event, MacKey, Outcome, REPLY_APPROVE};
    use crate::wire::{hello_mac, verify_hello, GOODBYE_SHUTDOWN};

    fn account() -> Account {
        Account::new(b"6222020200112233445").unwrap()
    }

    /// A payment as institution 1 signs it with key `institution-1`: the worked example.
    fn signed_payment() -> Event {
        let mut event = Event::payment(
            Kind::AgreementDebit,
            TxnId::new(20261130, 1),
            ParticipantId(1),
            account(),
            10_000,
            1_000_000,
        );
        event.mac = MacKey::new(b"institution-1").sign(&event);
        event
    }

    /// One frame of every type, every field away from zero where it can be.
    pub(crate) fn one_of_each() -> Vec<Frame> {
        let key = MacKey::new(b"bank-1001");
        let mut reply = Event::bank_reply(
            ParticipantId(1001),
            TxnId::new(20261130, 1),
            true,
            10_000,
            9,
        );
        reply.mac = key.sign(&reply);
        vec![
            Frame::Hello(Hello::signed(&key, ParticipantId(1001), u64::MAX - 1)),
            Frame::Welcome(Welcome {
                accepted: true,
                frames_in_flight_max: 4_096,
                frame_size_max: FRAME_SIZE_MAX as u32,
            }),
            Frame::Welcome(Welcome {
                accepted: false,
                frames_in_flight_max: 0,
                frame_size_max: 0,
            }),
            Frame::Payment(Signed::from_event(
                &signed_payment().with_original(TxnId(u128::MAX)),
            )),
            Frame::Forward(Forward {
                txn_id: TxnId::new(20261130, 2),
                bank: ParticipantId(1001),
                amount_fen: u64::MAX,
                account: Account::new(b"622202").unwrap(),
                sent_ns: 3,
            }),
            Frame::Reply(Signed::from_event(&reply)),
            Frame::Answer(Answer {
                txn_id: TxnId::new(20261130, 3),
                outcome: Outcome::Rejected,
                decline: Some(Decline::LedgerFull),
                original: Outcome::Pending,
                sent_ns: 4,
            }),
            Frame::Answer(Answer {
                txn_id: TxnId::new(20261130, 4),
                outcome: Outcome::Exists,
                decline: None,
                original: Outcome::Approved,
                sent_ns: 5,
            }),
            Frame::Busy(TxnId::new(20261130, 5)),
            Frame::Error(ErrorFrame {
                code: 3,
                reason: Reason::new("the protocol version 7 is not 1").unwrap(),
            }),
            Frame::Error(ErrorFrame {
                code: u16::MAX,
                reason: Reason::new(&"错".repeat(85)).unwrap(),
            }),
            Frame::Error(ErrorFrame {
                code: 0,
                reason: Reason::EMPTY,
            }),
            Frame::Ping(0x0102_0304_0506_0708),
            Frame::Pong(0x0102_0304_0506_0708),
            Frame::Goodbye(GOODBYE_SHUTDOWN),
            Frame::Query(TxnId(u128::MAX - 1)),
            Frame::Status(found_status()),
            Frame::Status(Status::bare(TxnId::new(20261130, 6), QueryStatus::Unknown)),
            Frame::Status(Status {
                status: QueryStatus::BeyondRetention,
                outcome: Outcome::BatchClosed,
                kind: Kind::RouteChange,
                amount_fen: u64::MAX,
                batch: u64::MAX,
                finished_ns: u64::MAX,
                ..found_status()
            }),
        ]
    }

    /// The STATUS of the worked example: the worked PAYMENT, found approved.
    fn found_status() -> Status {
        Status {
            txn_id: TxnId::new(20261130, 1),
            status: QueryStatus::Found,
            outcome: Outcome::Approved,
            kind: Kind::AgreementDebit,
            amount_fen: 10_000,
            batch: 3,
            finished_ns: 2_500_000_000,
        }
    }

    fn encoded(frame: &Frame) -> Vec<u8> {
        let mut out = [0u8; FRAME_SIZE_MAX];
        let size = encode(frame, &mut out).unwrap();
        out[..size].to_vec()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    #[test]
    fn every_frame_type_round_trips_and_says_how_many_bytes_it_took() {
        let frames = one_of_each();
        for frame_type in FrameType::ALL {
            assert!(
                frames.iter().any(|frame| frame.frame_type() == frame_type),
                "{} untested",
                frame_type.name()
            );
        }
        for frame in frames {
            let mut bytes = encoded(&frame);
            assert_eq!(bytes.len(), encoded_size(&frame));
            assert_eq!(bytes[4], VERSION);
            assert_eq!(bytes[5], frame.frame_type() as u8);
            bytes.extend_from_slice(&[0xee; 7]);
            assert_eq!(
                decode(&bytes),
                Ok(Decoded::Frame(frame, bytes.len() - 7)),
                "{frame:?}"
            );
        }
    }

    #[test]
    fn every_frame_cut_short_at_any_byte_needs_more() {
        for frame in one_of_each() {
            let bytes = encoded(&frame);
            for cut in 0..bytes.len() {
                let expected = if cut < HEADER_SIZE {
                    HEADER_SIZE
                } else {
                    bytes.len()
                };
                assert_eq!(
                    decode(&bytes[..cut]),
                    Ok(Decoded::NeedMore(expected)),
                    "{frame:?} cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn a_buffer_too_small_to_encode_into_is_an_error() {
        let mut out = [0u8; HEADER_SIZE + NONCE_BODY_SIZE - 1];
        assert_eq!(
            encode(&Frame::Ping(1), &mut out),
            Err(WireError::BufferTooSmall {
                needed: HEADER_SIZE + NONCE_BODY_SIZE,
                available: HEADER_SIZE + NONCE_BODY_SIZE - 1
            })
        );
    }

    /// `bytes` with the byte at `at` set to `value`.
    fn with(bytes: &[u8], at: usize, value: u8) -> Vec<u8> {
        let mut bytes = bytes.to_vec();
        bytes[at] = value;
        bytes
    }

    /// A header with this length field, version and type, and `body_length` zero bytes after.
    fn header(length: u32, version: u8, frame_type: u8, body_length: usize) -> Vec<u8> {
        let mut bytes = length.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[version, frame_type]);
        bytes.resize(HEADER_SIZE + body_length, 0);
        bytes
    }

    #[test]
    fn every_malformed_frame_is_its_own_named_error() {
        let payment = encoded(&Frame::Payment(Signed::from_event(&signed_payment())));
        let answer = encoded(&one_of_each()[6]);
        let welcome = encoded(&one_of_each()[1]);
        let status = encoded(&Frame::Status(found_status()));
        let query = encoded(&Frame::Query(TxnId::new(20261130, 1)));
        // The account's length byte sits after txn_id, original, sent_ns, amount, mac, account.
        let account_length_at = HEADER_SIZE + 16 + 16 + 8 + 8 + MAC_LENGTH + ACCOUNT_LENGTH_MAX;
        let kind_at = HEADER_SIZE + SIGNED_BODY_SIZE - 2;
        let short_account = encoded(&Frame::Payment(Signed {
            account: Account::new(b"1234").unwrap(),
            ..Signed::from_event(&signed_payment())
        }));
        let mut error_frame = header(2 + 4 + 3, VERSION, FrameType::Error as u8, 4 + 3);
        error_frame[8] = 3;
        let mut too_long_reason = header(2 + 4 + 300, VERSION, FrameType::Error as u8, 4 + 300);
        too_long_reason[8..10].copy_from_slice(&300u16.to_le_bytes());
        let rows: Vec<(&str, Vec<u8>, WireError)> = vec![
            (
                "length 0",
                vec![0, 0, 0, 0],
                WireError::FrameTooShort { length: 0 },
            ),
            (
                "length 1",
                header(1, VERSION, 0x30, 0),
                WireError::FrameTooShort { length: 1 },
            ),
            (
                "length 4 GiB, from its length field alone",
                vec![0xff; 4],
                WireError::FrameTooLarge { length: u32::MAX },
            ),
            (
                "one byte past the largest frame",
                (LENGTH_MAX as u32 + 1).to_le_bytes().to_vec(),
                WireError::FrameTooLarge {
                    length: LENGTH_MAX as u32 + 1,
                },
            ),
            (
                "version 0",
                with(&payment, 4, 0),
                WireError::UnknownVersion { version: 0 },
            ),
            (
                "version 2",
                with(&payment, 4, 2),
                WireError::UnknownVersion { version: 2 },
            ),
            (
                "type 0",
                with(&payment, 5, 0),
                WireError::UnknownFrameType { code: 0 },
            ),
            (
                "type 0xff",
                with(&payment, 5, 0xff),
                WireError::UnknownFrameType { code: 0xff },
            ),
            (
                "a PING one byte long",
                header(2 + 9, VERSION, FrameType::Ping as u8, 9),
                WireError::WrongLengthForType {
                    frame_type: 0x30,
                    length: 11,
                },
            ),
            (
                "a PAYMENT's length on a BUSY",
                with(&payment, 5, FrameType::Busy as u8),
                WireError::WrongLengthForType {
                    frame_type: FrameType::Busy as u8,
                    length: 2 + SIGNED_BODY_SIZE as u32,
                },
            ),
            (
                "a QUERY one byte short",
                {
                    let mut bytes = query[..query.len() - 1].to_vec();
                    bytes[..4].copy_from_slice(&(2 + QUERY_BODY_SIZE as u32 - 1).to_le_bytes());
                    bytes
                },
                WireError::WrongLengthForType {
                    frame_type: FrameType::Query as u8,
                    length: 2 + QUERY_BODY_SIZE as u32 - 1,
                },
            ),
            (
                "a STATUS's length on a QUERY",
                with(&status, 5, FrameType::Query as u8),
                WireError::WrongLengthForType {
                    frame_type: FrameType::Query as u8,
                    length: 2 + STATUS_BODY_SIZE as u32,
                },
            ),
            (
                "a QUERY's length on a STATUS",
                with(&query, 5, FrameType::Status as u8),
                WireError::WrongLengthForType {
                    frame_type: FrameType::Status as u8,
                    length: 2 + QUERY_BODY_SIZE as u32,
                },
            ),
            (
                "an ERROR shorter than its code and reason length",
                header(2 + 3, VERSION, FrameType::Error as u8, 3),
                WireError::WrongLengthForType {
                    frame_type: 0x20,
                    length: 5,
                },
            ),
            (
                "an ERROR whose reason length disagrees with its frame length",
                with(&error_frame, 8, 2),
                WireError::WrongLengthForType {
                    frame_type: 0x20,
                    length: 9,
                },
            ),
            (
                "kind 9",
                with(&payment, kind_at, 9),
                WireError::UnknownKind { code: 9 },
            ),
            (
                "kind 0xff",
                with(&payment, kind_at, 0xff),
                WireError::UnknownKind { code: 0xff },
            ),
            (
                "outcome 10",
                with(&answer, HEADER_SIZE + 16, 10),
                WireError::UnknownOutcome { code: 10 },
            ),
            (
                "original outcome 0xff",
                with(&answer, HEADER_SIZE + 18, 0xff),
                WireError::UnknownOutcome { code: 0xff },
            ),
            (
                "decline 28",
                with(&answer, HEADER_SIZE + 17, 28),
                WireError::UnknownDecline { code: 28 },
            ),
            (
                "query status 4",
                with(&status, HEADER_SIZE + 16, 4),
                WireError::UnknownQueryStatus { code: 4 },
            ),
            (
                "query status 0xff",
                with(&status, HEADER_SIZE + 16, 0xff),
                WireError::UnknownQueryStatus { code: 0xff },
            ),
            (
                "a STATUS's outcome 10",
                with(&status, HEADER_SIZE + 17, 10),
                WireError::UnknownOutcome { code: 10 },
            ),
            (
                "a STATUS's kind 9",
                with(&status, HEADER_SIZE + 18, 9),
                WireError::UnknownKind { code: 9 },
            ),
            (
                "account length 20",
                with(&payment, account_length_at, 20),
                WireError::AccountTooLong { length: 20 },
            ),
            (
                "account length 0xff",
                with(&payment, account_length_at, 0xff),
                WireError::AccountTooLong { length: 0xff },
            ),
            (
                "a digit in the account's padding",
                with(&short_account, account_length_at - 1, b'9'),
                WireError::AccountPaddingNotZero,
            ),
            (
                "accepted 2",
                with(&welcome, HEADER_SIZE, 2),
                WireError::FlagNotBoolean { value: 2 },
            ),
            (
                "a reason of 300 bytes",
                too_long_reason,
                WireError::ReasonTooLong { length: 300 },
            ),
            (
                "a reason that is not UTF-8",
                {
                    let mut bytes = error_frame.clone();
                    bytes[10..13].copy_from_slice(&[b'o', 0xc3, b'k']);
                    bytes
                },
                WireError::ReasonNotUtf8,
            ),
        ];
        for (name, bytes, expected) in rows {
            assert_eq!(decode(&bytes), Err(expected), "{name}");
            // Every error has a sentence and an ERROR code of its own.
            assert!(!expected.to_string().is_empty());
            assert_ne!(expected.error_code(), 0, "{name}");
        }
        let mut codes: Vec<u16> = [
            WireError::FrameTooLarge { length: 0 },
            WireError::FrameTooShort { length: 0 },
            WireError::UnknownVersion { version: 0 },
            WireError::UnknownFrameType { code: 0 },
            WireError::WrongLengthForType {
                frame_type: 0,
                length: 0,
            },
            WireError::UnknownKind { code: 0 },
            WireError::UnknownOutcome { code: 0 },
            WireError::UnknownDecline { code: 0 },
            WireError::AccountTooLong { length: 0 },
            WireError::AccountPaddingNotZero,
            WireError::FlagNotBoolean { value: 0 },
            WireError::ReasonTooLong { length: 0 },
            WireError::ReasonNotUtf8,
            WireError::BufferTooSmall {
                needed: 0,
                available: 0,
            },
            WireError::UnknownQueryStatus { code: 0 },
        ]
        .iter()
        .map(WireError::error_code)
        .collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 15, "every error code is distinct");
    }

    #[test]
    fn a_signed_payment_crosses_the_wire_and_still_verifies() {
        let key = MacKey::new(b"institution-1");
        let event = signed_payment();
        assert!(key.verify(&event));
        let bytes = encoded(&Frame::Payment(Signed::from_event(&event)));
        let Ok(Decoded::Frame(Frame::Payment(signed), _)) = decode(&bytes) else {
            panic!("{:?}", decode(&bytes));
        };
        let received = signed.to_event();
        assert_eq!(received, event);
        assert!(key.verify(&received));
        assert!(!MacKey::new(b"institution-2").verify(&received));
    }

    #[test]
    fn a_signed_reply_crosses_the_wire_and_still_verifies() {
        let key = MacKey::new(b"bank-1001");
        let Frame::Reply(sent) = one_of_each()[5] else {
            panic!("the sixth frame is a reply");
        };
        assert_eq!((sent.kind, sent.code), (Kind::BankReply, REPLY_APPROVE));
        let bytes = encoded(&Frame::Reply(sent));
        let Ok(Decoded::Frame(Frame::Reply(received), _)) = decode(&bytes) else {
            panic!("{:?}", decode(&bytes));
        };
        assert!(key.verify(&received.to_event()));
    }

    /// The worked example of `docs/PROTOCOL.md`: the hex there is what this test prints, and
    /// the test fails if the document and the encoder ever disagree.
    #[test]
    fn the_worked_examples_in_protocol_md_are_what_the_encoder_writes() {
        let key = MacKey::new(b"institution-1");
        let hello = Frame::Hello(Hello::signed(&key, ParticipantId(1), 0x0102_0304_0506_0708));
        let Frame::Hello(fields) = hello else {
            unreachable!()
        };
        assert_eq!(
            fields.mac,
            hello_mac(&key, ParticipantId(1), 0x0102_0304_0506_0708)
        );
        assert!(verify_hello(&key, &fields));
        let payment = Frame::Payment(Signed::from_event(&signed_payment()));
        let query = Frame::Query(signed_payment().txn_id);
        let status = Frame::Status(found_status());
        let protocol = include_str!("../../../docs/PROTOCOL.md");
        let examples = [
            ("HELLO", hello),
            ("PAYMENT", payment),
            ("QUERY", query),
            ("STATUS", status),
        ];
        for (name, frame) in examples {
            println!("{name}: {}", hex(&encoded(&frame)));
        }
        for (name, frame) in examples {
            let text = hex(&encoded(&frame));
            // The document wraps the hex at 64 digits a line.
            let wrapped: Vec<&str> = text
                .as_bytes()
                .chunks(64)
                .map(|line| std::str::from_utf8(line).unwrap())
                .collect();
            assert!(
                protocol.contains(&wrapped.join("\n")),
                "PROTOCOL.md lacks the {name} example:\n{}",
                wrapped.join("\n")
            );
        }
    }
}
