//! [`Frame`] and the types of its variants: what each frame type carries, as values. How they
//! are laid out in bytes is `codec.rs`'s business.

use super::WireError;
use crate::constants::ERROR_REASON_LENGTH_MAX;
use crate::event::{Account, Decline, Event, Kind, Mac, Outcome, ParticipantId, TxnId};

/// The protocol version every frame carries in its header.
pub const VERSION: u8 = 1;

/// A GOODBYE's reason: the connection ends normally (the peer is done).
pub const GOODBYE_NORMAL: u16 = 0;
/// A GOODBYE's reason: the node is shutting down.
pub const GOODBYE_SHUTDOWN: u16 = 1;
/// A GOODBYE's reason: the peer broke the protocol; an ERROR frame said how.
pub const GOODBYE_PROTOCOL_ERROR: u16 = 2;
/// A GOODBYE's reason: the HELLO was refused (unknown participant, wrong MAC).
pub const GOODBYE_HELLO_REFUSED: u16 = 3;
/// A GOODBYE's reason: nothing arrived for too long, not even a PING.
pub const GOODBYE_IDLE: u16 = 4;

/// A frame type and its code, the header's second byte.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// Client → node: who is connecting, proved with a MAC.
    Hello = 0x01,
    /// Node → client: whether the HELLO was accepted, and the node's limits.
    Welcome = 0x02,
    /// Institution → node: a payment, signed.
    Payment = 0x10,
    /// Node → bank: a payment to approve or decline.
    Forward = 0x11,
    /// Bank → node: the bank's reply, signed.
    Reply = 0x12,
    /// Node → institution: what became of a payment.
    Answer = 0x13,
    /// Node → institution: the payment was not taken; send it again later.
    Busy = 0x14,
    /// Institution → node: what became of one of my payments?
    Query = 0x15,
    /// Node → institution: the answer to a QUERY.
    Status = 0x16,
    /// Either way: the peer broke the protocol, and how.
    Error = 0x20,
    /// Either way: are you there?
    Ping = 0x30,
    /// Either way: the answer to a PING, with its nonce.
    Pong = 0x31,
    /// Either way: the connection is closing, and why.
    Goodbye = 0x32,
}

impl FrameType {
    /// Every frame type, in code order.
    pub const ALL: [FrameType; 13] = [
        FrameType::Hello,
        FrameType::Welcome,
        FrameType::Payment,
        FrameType::Forward,
        FrameType::Reply,
        FrameType::Answer,
        FrameType::Busy,
        FrameType::Query,
        FrameType::Status,
        FrameType::Error,
        FrameType::Ping,
        FrameType::Pong,
        FrameType::Goodbye,
    ];

    /// The frame type with this code, if any.
    pub fn from_code(code: u8) -> Option<FrameType> {
        FrameType::ALL
            .into_iter()
            .find(|frame_type| *frame_type as u8 == code)
    }

    /// The name `docs/PROTOCOL.md` uses.
    pub fn name(self) -> &'static str {
        match self {
            FrameType::Hello => "HELLO",
            FrameType::Welcome => "WELCOME",
            FrameType::Payment => "PAYMENT",
            FrameType::Forward => "FORWARD",
            FrameType::Reply => "REPLY",
            FrameType::Answer => "ANSWER",
            FrameType::Busy => "BUSY",
            FrameType::Query => "QUERY",
            FrameType::Status => "STATUS",
            FrameType::Error => "ERROR",
            FrameType::Ping => "PING",
            FrameType::Pong => "PONG",
            FrameType::Goodbye => "GOODBYE",
        }
    }
}

/// One frame, decoded: the protocol's principal type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// Client → node: who is connecting.
    Hello(Hello),
    /// Node → client: accepted or not, and the node's limits.
    Welcome(Welcome),
    /// Institution → node: a payment as its sender signed it.
    Payment(Signed),
    /// Node → bank: a payment to approve or decline.
    Forward(Forward),
    /// Bank → node: a bank reply as the bank signed it.
    Reply(Signed),
    /// Node → institution: what became of a payment.
    Answer(Answer),
    /// Node → institution: the payment with this id was not taken.
    Busy(TxnId),
    /// Institution → node: what became of the payment with this id? The asker is the
    /// connection's participant.
    Query(TxnId),
    /// Node → institution: the answer to a QUERY.
    Status(Status),
    /// Either way: the peer broke the protocol.
    Error(ErrorFrame),
    /// Either way: a liveness probe and its nonce.
    Ping(u64),
    /// Either way: the answer to the PING with this nonce.
    Pong(u64),
    /// Either way: the connection is closing, for this reason (`GOODBYE_*`).
    Goodbye(u16),
}

impl Frame {
    /// This frame's type.
    pub fn frame_type(&self) -> FrameType {
        match self {
            Frame::Hello(_) => FrameType::Hello,
            Frame::Welcome(_) => FrameType::Welcome,
            Frame::Payment(_) => FrameType::Payment,
            Frame::Forward(_) => FrameType::Forward,
            Frame::Reply(_) => FrameType::Reply,
            Frame::Answer(_) => FrameType::Answer,
            Frame::Busy(_) => FrameType::Busy,
            Frame::Query(_) => FrameType::Query,
            Frame::Status(_) => FrameType::Status,
            Frame::Error(_) => FrameType::Error,
            Frame::Ping(_) => FrameType::Ping,
            Frame::Pong(_) => FrameType::Pong,
            Frame::Goodbye(_) => FrameType::Goodbye,
        }
    }
}

/// A HELLO: the participant connecting, a nonce it chose, and the MAC of both under its key
/// (see `hello.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hello {
    /// Who is connecting.
    pub participant: ParticipantId,
    /// A value the client never uses twice with the same key.
    pub nonce: u64,
    /// [`hello_mac`](super::hello_mac) of the two.
    pub mac: Mac,
}

/// A WELCOME: the node's answer to a HELLO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Welcome {
    /// Whether the HELLO was accepted; if not, a GOODBYE follows.
    pub accepted: bool,
    /// Frames the client may have sent and not yet had answered.
    pub frames_in_flight_max: u32,
    /// The largest frame the node takes, in bytes, length field included.
    pub frame_size_max: u32,
}

/// The fields of an [`Event`] its sender signs, and the MAC: a PAYMENT's and a REPLY's body.
/// The switch's own stamps (`sequence`, `event_ns`) are not here; ingress writes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signed {
    /// The payment's id (for a reply, the payment answered).
    pub txn_id: TxnId,
    /// A refund's original payment; [`TxnId::NONE`] otherwise.
    pub original: TxnId,
    /// The sender's send time, nanoseconds on its clock.
    pub sent_ns: u64,
    /// Amount in fen.
    pub amount_fen: u64,
    /// The sender's MAC over [`Event::signed_bytes`].
    pub mac: Mac,
    /// The bank-side account number, as sent.
    pub account: Account,
    /// Who sent it.
    pub sender: ParticipantId,
    /// For control events, the participant concerned; otherwise zero.
    pub counterparty: ParticipantId,
    /// What it is: a payment kind in a PAYMENT, [`Kind::BankReply`] in a REPLY.
    pub kind: Kind,
    /// Kind-specific: a reply's approve or decline.
    pub code: u8,
}

impl Signed {
    /// The signed fields of `event`: everything but the switch's stamps.
    pub fn from_event(event: &Event) -> Signed {
        Signed {
            txn_id: event.txn_id,
            original: event.original,
            sent_ns: event.sent_ns,
            amount_fen: event.amount_fen,
            mac: event.mac,
            account: event.account,
            sender: event.sender,
            counterparty: event.counterparty,
            kind: event.kind,
            code: event.code,
        }
    }

    /// The event these fields make, its `sequence` and `event_ns` zero for ingress to stamp. Its
    /// MAC verifies exactly when the sender's did.
    pub fn to_event(&self) -> Event {
        Event {
            txn_id: self.txn_id,
            original: self.original,
            sequence: 0,
            event_ns: 0,
            sent_ns: self.sent_ns,
            amount_fen: self.amount_fen,
            mac: self.mac,
            account: self.account,
            sender: self.sender,
            counterparty: self.counterparty,
            kind: self.kind,
            code: self.code,
        }
    }
}

/// A FORWARD: what a bank needs to decide a payment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forward {
    /// The payment's id, which the bank's REPLY names.
    pub txn_id: TxnId,
    /// The bank the payment was routed to.
    pub bank: ParticipantId,
    /// Amount in fen.
    pub amount_fen: u64,
    /// The account at the bank.
    pub account: Account,
    /// The institution's send time, passed on.
    pub sent_ns: u64,
}

/// An ANSWER: what became of a payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The payment's id.
    pub txn_id: TxnId,
    /// What the ledger did.
    pub outcome: Outcome,
    /// Why it was refused, when `outcome` is `Rejected`.
    pub decline: Option<Decline>,
    /// For `Exists`, the original's outcome; otherwise `Pending`.
    pub original: Outcome,
    /// The institution's send time, echoed so it can measure latency without a table.
    pub sent_ns: u64,
}

/// What a STATUS says of the payment a QUERY named: its byte on the wire is the variant's value.
#[repr(u8)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum QueryStatus {
    /// The payment finished and is the asker's: the STATUS carries its outcome and fields.
    Found = 0,
    /// The node knows no payment of the asker's by this id: never received, not yet finished
    /// into the store, dropped by retention, or another institution's (which a STATUS never
    /// tells apart from none).
    #[default]
    Unknown = 1,
    /// The asker's payment is taken and not yet answered: ask again after its ANSWER is due.
    InFlight = 2,
    /// The id's own time is beyond the node's retention: it can no longer say. (Reserved: the
    /// node answers such a QUERY `Unknown` today.)
    BeyondRetention = 3,
}

impl QueryStatus {
    /// Every status, in code order.
    pub const ALL: [QueryStatus; 4] = [
        QueryStatus::Found,
        QueryStatus::Unknown,
        QueryStatus::InFlight,
        QueryStatus::BeyondRetention,
    ];

    /// The status with this code, or [`WireError::UnknownQueryStatus`].
    pub fn from_code(code: u8) -> Result<QueryStatus, WireError> {
        QueryStatus::ALL
            .into_iter()
            .find(|status| *status as u8 == code)
            .ok_or(WireError::UnknownQueryStatus { code })
    }

    /// The name `docs/PROTOCOL.md` uses.
    pub fn name(self) -> &'static str {
        match self {
            QueryStatus::Found => "Found",
            QueryStatus::Unknown => "Unknown",
            QueryStatus::InFlight => "InFlight",
            QueryStatus::BeyondRetention => "BeyondRetention",
        }
    }
}

impl std::fmt::Display for QueryStatus {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A STATUS: the node's answer to a QUERY. Every field after `status` means something only when
/// it is [`QueryStatus::Found`]; otherwise the node writes them zero (outcome `Pending`, kind
/// code 0), and a client ignores them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// The id the QUERY named.
    pub txn_id: TxnId,
    /// What the node can say of it.
    pub status: QueryStatus,
    /// The payment's outcome: `Approved`, `Declined` or `Expired`.
    pub outcome: Outcome,
    /// The payment's kind.
    pub kind: Kind,
    /// Its amount, fen.
    pub amount_fen: u64,
    /// The clearing batch it finished in.
    pub batch: u64,
    /// The node's event time when it finished, ns.
    pub finished_ns: u64,
}

impl Status {
    /// A STATUS for `txn_id` that carries only `status` (anything but `Found`): its other fields
    /// zero.
    pub fn bare(txn_id: TxnId, status: QueryStatus) -> Status {
        Status {
            txn_id,
            status,
            ..Status::default()
        }
    }
}

/// An ERROR: a code from `WireError::error_code` (or the node's own, see PROTOCOL.md) and a
/// sentence for a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorFrame {
    /// What went wrong, as a code.
    pub code: u16,
    /// What went wrong, as a sentence.
    pub reason: Reason,
}

impl ErrorFrame {
    /// The ERROR a node sends back for `error`: its code and its sentence.
    pub fn from_wire_error(error: &WireError) -> ErrorFrame {
        let mut sentence = [0u8; ERROR_REASON_LENGTH_MAX];
        let mut writer = Truncating {
            bytes: &mut sentence,
            length: 0,
        };
        // A sentence longer than the buffer is cut, never an error.
        let _ = std::fmt::Write::write_fmt(&mut writer, format_args!("{error}"));
        let length = writer.length;
        ErrorFrame {
            code: error.error_code(),
            reason: Reason::truncated(std::str::from_utf8(&sentence[..length]).unwrap_or("")),
        }
    }
}

/// A `fmt::Write` into a fixed buffer that keeps whole characters that fit and drops the rest.
struct Truncating<'a> {
    bytes: &'a mut [u8],
    length: usize,
}

impl std::fmt::Write for Truncating<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        for character in text.chars() {
            let size = character.len_utf8();
            if self.length + size > self.bytes.len() {
                return Err(std::fmt::Error);
            }
            character.encode_utf8(&mut self.bytes[self.length..self.length + size]);
            self.length += size;
        }
        Ok(())
    }
}

/// An ERROR's reason: UTF-8 of at most [`ERROR_REASON_LENGTH_MAX`] bytes, held inline so a frame
/// is `Copy` and decoding one allocates nothing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Reason {
    bytes: [u8; ERROR_REASON_LENGTH_MAX],
    /// In `0..=ERROR_REASON_LENGTH_MAX`; `bytes[..length]` is UTF-8.
    length: u16,
}

impl Reason {
    /// No reason.
    pub const EMPTY: Reason = Reason {
        bytes: [0; ERROR_REASON_LENGTH_MAX],
        length: 0,
    };

    /// `text` as a reason, or [`WireError::ReasonTooLong`].
    pub fn new(text: &str) -> Result<Reason, WireError> {
        if text.len() > ERROR_REASON_LENGTH_MAX {
            return Err(WireError::ReasonTooLong { length: text.len() });
        }
        let mut bytes = [0; ERROR_REASON_LENGTH_MAX];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(Reason {
            bytes,
            length: text.len() as u16,
        })
    }

    /// `text` as a reason, cut after the last whole character that fits.
    pub fn truncated(text: &str) -> Reason {
        let mut end = text.len().min(ERROR_REASON_LENGTH_MAX);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Reason::new(&text[..end]).expect("cut to the longest reason")
    }

    /// The UTF-8 bytes `bytes` as a reason: [`WireError::ReasonTooLong`] or
    /// [`WireError::ReasonNotUtf8`] if they cannot be one.
    pub fn from_utf8(bytes: &[u8]) -> Result<Reason, WireError> {
        if bytes.len() > ERROR_REASON_LENGTH_MAX {
            return Err(WireError::ReasonTooLong {
                length: bytes.len(),
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|_| WireError::ReasonNotUtf8)?;
        Reason::new(text)
    }

    /// The reason's text.
    pub fn as_str(&self) -> &str {
        let bytes = &self.bytes[..usize::from(self.length).min(ERROR_REASON_LENGTH_MAX)];
        // Every constructor checked the bytes are UTF-8; this never falls back.
        std::str::from_utf8(bytes).unwrap_or("")
    }
}

impl Default for Reason {
    fn default() -> Self {
        Reason::EMPTY
    }
}

impl std::fmt::Debug for Reason {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "Reason({:?})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_type_codes_round_trip_and_others_are_none() {
        for frame_type in FrameType::ALL {
            assert_eq!(FrameType::from_code(frame_type as u8), Some(frame_type));
        }
        let known = FrameType::ALL.map(|frame_type| frame_type as u8);
        for code in 0..=u8::MAX {
            if !known.contains(&code) {
                assert_eq!(FrameType::from_code(code), None, "{code}");
            }
        }
    }

    #[test]
    fn query_status_codes_round_trip_and_others_are_refused() {
        for (index, status) in QueryStatus::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(status as u8), index, "{status}");
            assert_eq!(QueryStatus::from_code(status as u8), Ok(status));
        }
        for code in QueryStatus::ALL.len() as u8..=u8::MAX {
            assert_eq!(
                QueryStatus::from_code(code),
                Err(WireError::UnknownQueryStatus { code })
            );
        }
        let bare = Status::bare(TxnId(9), QueryStatus::InFlight);
        assert_eq!(
            (
                bare.outcome,
                bare.kind,
                bare.amount_fen,
                bare.batch,
                bare.finished_ns
            ),
            (Outcome::Pending, Kind::AgreementDebit, 0, 0, 0),
            "a STATUS that is not Found carries zeros"
        );
    }

    #[test]
    fn reasons_are_bounded_and_cut_on_character_boundaries() {
        assert_eq!(Reason::new("bad").unwrap().as_str(), "bad");
        let long = "x".repeat(ERROR_REASON_LENGTH_MAX + 1);
        assert_eq!(
            Reason::new(&long),
            Err(WireError::ReasonTooLong {
                length: ERROR_REASON_LENGTH_MAX + 1
            })
        );
        // 86 three-byte characters are 258 bytes: the cut keeps 85 of them, 255 bytes.
        let chinese = "错".repeat(86);
        assert_eq!(Reason::truncated(&chinese).as_str(), "错".repeat(85));
        assert_eq!(Reason::from_utf8(&[0xff]), Err(WireError::ReasonNotUtf8));
    }

    #[test]
    fn an_error_frame_for_a_wire_error_carries_its_code_and_sentence() {
        let error = WireError::UnknownVersion { version: 7 };
        let frame = ErrorFrame::from_wire_error(&error);
        assert_eq!(frame.code, 3);
        assert_eq!(frame.reason.as_str(), "the protocol version 7 is not 1");
    }

    #[test]
    fn a_payment_event_survives_signed_fields_but_loses_the_switch_stamps() {
        let mut event = Event::payment(
            Kind::Refund,
            TxnId::new(20261130, 9),
            ParticipantId(3),
            Account::new(b"6222020200112233").unwrap(),
            500,
            77,
        )
        .with_original(TxnId::new(20261130, 1));
        event.sequence = 5;
        event.event_ns = 6;
        let back = Signed::from_event(&event).to_event();
        assert_eq!(
            back,
            Event {
                sequence: 0,
                event_ns: 0,
                ..event
            }
        );
    }
}
