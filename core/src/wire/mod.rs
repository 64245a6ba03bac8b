//! The node's binary protocol, the codec only: the principal type is [`Frame`], one message on a
//! connection, turned into bytes by [`encode`] and back by [`decode`]; [`FrameReader`] cuts a
//! byte stream into frames. No sockets and no threads here. `docs/PROTOCOL.md` gives every byte.
//!
//! Every frame is a 4-byte little-endian length (the bytes after it), the version
//! ([`VERSION`]), the frame type's code, then the type's fields at fixed offsets, little-endian.
//! Only ERROR varies in size, and its reason is bounded by
//! [`ERROR_REASON_LENGTH_MAX`](crate::constants::ERROR_REASON_LENGTH_MAX) before it is read; no
//! frame is larger than [`FRAME_SIZE_MAX`](crate::constants::FRAME_SIZE_MAX).
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `frame.rs` | [`Frame`], [`FrameType`] and each frame's fields: [`Hello`], [`Welcome`], [`Signed`] (PAYMENT and REPLY), [`Forward`], [`Answer`], [`Status`] (the answer to a QUERY) and its [`QueryStatus`], [`ErrorFrame`] and its [`Reason`]; GOODBYE reasons |
//! | `codec.rs` | [`encode`], [`decode`] and [`Decoded`]; the header and body sizes |
//! | `codes.rs` | the stable wire codes of [`Outcome`](crate::event::Outcome) and [`Decline`](crate::event::Decline) |
//! | `hello.rs` | the HELLO's MAC: [`hello_mac`], [`verify_hello`] |
//! | `reader.rs` | [`FrameReader`]: a fixed buffer fed from a stream, frames out one by one |
//! | `error.rs` | [`WireError`]: every malformed frame by name, and its ERROR code |

mod codec;
mod codes;
mod error;
mod frame;
mod hello;
mod reader;

pub use codec::{
    body_size, decode, encode, encoded_size, Decoded, ANSWER_BODY_SIZE, BUSY_BODY_SIZE,
    ERROR_BODY_SIZE_MIN, FORWARD_BODY_SIZE, GOODBYE_BODY_SIZE, HEADER_SIZE, HELLO_BODY_SIZE,
    LENGTH_FIELD_SIZE, LENGTH_MAX, NONCE_BODY_SIZE, QUERY_BODY_SIZE, SIGNED_BODY_SIZE,
    STATUS_BODY_SIZE, WELCOME_BODY_SIZE,
};
pub use codes::{
    decline_from_wire_code, decline_wire_code, outcome_from_wire_code, outcome_wire_code,
    DECLINE_CODES, DECLINE_NONE, OUTCOME_CODES,
};
pub use error::WireError;
pub use frame::{
    Answer, ErrorFrame, Forward, Frame, FrameType, Hello, QueryStatus, Reason, Signed, Status,
    Welcome, GOODBYE_HELLO_REFUSED, GOODBYE_IDLE, GOODBYE_NORMAL, GOODBYE_PROTOCOL_ERROR,
    GOODBYE_SHUTDOWN, VERSION,
};
pub use hello::{hello_mac, hello_signed_bytes, verify_hello, HELLO_LABEL, HELLO_SIGNED_LENGTH};
pub use reader::{FrameReader, FRAME_READER_BUFFER_SIZE};
