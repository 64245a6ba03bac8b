//! [`WireError`]: every way bytes can fail to be a frame, or a frame fail to fit a buffer, each
//! with a sentence and the code an ERROR frame carries back.

use crate::constants::{ACCOUNT_LENGTH_MAX, ERROR_REASON_LENGTH_MAX, FRAME_SIZE_MAX};

/// Why bytes are not a frame (or a frame could not be written). Every check the decoder makes has
/// its own variant, so the peer's ERROR frame names the field that was wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The length field asks for more than [`FRAME_SIZE_MAX`] bytes in all.
    FrameTooLarge {
        /// The length field's value.
        length: u32,
    },
    /// The length field is below 2: there is no room for the version and the frame type.
    FrameTooShort {
        /// The length field's value.
        length: u32,
    },
    /// The version byte is not [`VERSION`](super::VERSION).
    UnknownVersion {
        /// The byte found.
        version: u8,
    },
    /// The frame type byte is no frame type's code.
    UnknownFrameType {
        /// The byte found.
        code: u8,
    },
    /// The length field does not match the frame type's fixed size (or, for ERROR, its reason's
    /// length).
    WrongLengthForType {
        /// The frame type's code.
        frame_type: u8,
        /// The length field's value.
        length: u32,
    },
    /// A PAYMENT's or REPLY's kind byte is no event kind.
    UnknownKind {
        /// The byte found.
        code: u8,
    },
    /// An ANSWER's outcome byte is no outcome's wire code.
    UnknownOutcome {
        /// The byte found.
        code: u8,
    },
    /// An ANSWER's decline byte is neither 0 (none) nor a decline's wire code.
    UnknownDecline {
        /// The byte found.
        code: u8,
    },
    /// An account's length byte is beyond [`ACCOUNT_LENGTH_MAX`].
    AccountTooLong {
        /// The byte found.
        length: u8,
    },
    /// A byte of an account's padding, beyond its length, is not zero; an encoder never writes
    /// one, so the frame is damaged.
    AccountPaddingNotZero,
    /// A WELCOME's accepted byte is neither 0 nor 1.
    FlagNotBoolean {
        /// The byte found.
        value: u8,
    },
    /// An ERROR's reason is longer than [`ERROR_REASON_LENGTH_MAX`].
    ReasonTooLong {
        /// The reason's length in bytes.
        length: usize,
    },
    /// An ERROR's reason is not UTF-8.
    ReasonNotUtf8,
    /// A STATUS's status byte is no query status.
    UnknownQueryStatus {
        /// The byte found.
        code: u8,
    },
    /// The buffer given to `encode` is shorter than the frame.
    BufferTooSmall {
        /// The frame's size in bytes.
        needed: usize,
        /// The buffer's size in bytes.
        available: usize,
    },
}

impl WireError {
    /// The code an ERROR frame carries for this error: stable, listed in `docs/PROTOCOL.md`.
    pub fn error_code(&self) -> u16 {
        match self {
            WireError::FrameTooLarge { .. } => 1,
            WireError::FrameTooShort { .. } => 2,
            WireError::UnknownVersion { .. } => 3,
            WireError::UnknownFrameType { .. } => 4,
            WireError::WrongLengthForType { .. } => 5,
            WireError::UnknownKind { .. } => 6,
            WireError::UnknownOutcome { .. } => 7,
            WireError::UnknownDecline { .. } => 8,
            WireError::AccountTooLong { .. } => 9,
            WireError::AccountPaddingNotZero => 10,
            WireError::FlagNotBoolean { .. } => 11,
            WireError::ReasonTooLong { .. } => 12,
            WireError::ReasonNotUtf8 => 13,
            WireError::BufferTooSmall { .. } => 14,
            WireError::UnknownQueryStatus { .. } => 15,
        }
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::FrameTooLarge { length } => write!(
                formatter,
                "the frame's length {length} is beyond the {} a frame may have after its length field",
                FRAME_SIZE_MAX - 4
            ),
            WireError::FrameTooShort { length } => write!(
                formatter,
                "the frame's length {length} leaves no room for its version and type"
            ),
            WireError::UnknownVersion { version } => {
                write!(formatter, "the protocol version {version} is not 1")
            }
            WireError::UnknownFrameType { code } => {
                write!(formatter, "the frame type {code} is no frame type")
            }
            WireError::WrongLengthForType { frame_type, length } => write!(
                formatter,
                "the length {length} is wrong for a frame of type {frame_type}"
            ),
            WireError::UnknownKind { code } => {
                write!(formatter, "the kind byte {code} is no event kind")
            }
            WireError::UnknownOutcome { code } => {
                write!(formatter, "the outcome byte {code} is no outcome")
            }
            WireError::UnknownDecline { code } => {
                write!(formatter, "the decline byte {code} is no decline reason")
            }
            WireError::AccountTooLong { length } => write!(
                formatter,
                "the account length {length} is beyond the {ACCOUNT_LENGTH_MAX} an account holds"
            ),
            WireError::AccountPaddingNotZero => {
                formatter.write_str("the account's padding beyond its length is not zero")
            }
            WireError::FlagNotBoolean { value } => {
                write!(formatter, "the flag byte {value} is neither 0 nor 1")
            }
            WireError::ReasonTooLong { length } => write!(
                formatter,
                "the reason of {length} bytes is longer than the {ERROR_REASON_LENGTH_MAX} allowed"
            ),
            WireError::ReasonNotUtf8 => formatter.write_str("the reason is not UTF-8"),
            WireError::UnknownQueryStatus { code } => {
                write!(formatter, "the status byte {code} is no query status")
            }
            WireError::BufferTooSmall { needed, available } => write!(
                formatter,
                "the frame needs {needed} bytes and the buffer has {available}"
            ),
        }
    }
}

impl std::error::Error for WireError {}
