//! The event's on-disk form: [`encode_event`] and [`decode_event`], 112 bytes with every field
//! little-endian at a fixed offset, so a journal written on one machine reads on any other.
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..16 | `txn_id` (u128) |
//! | 16..32 | `original` (u128) |
//! | 32..40 | `sequence` |
//! | 40..48 | `event_ns` |
//! | 48..56 | `sent_ns` |
//! | 56..64 | `amount_fen` |
//! | 64..80 | `mac` |
//! | 80..99 | `account`'s bytes, zero-padded |
//! | 99 | `account`'s length |
//! | 100..102 | `sender` (u16) |
//! | 102..104 | `counterparty` (u16) |
//! | 104 | `kind`, as its code |
//! | 105 | `code` |
//! | 106..112 | reserved, zero |

use crate::constants::{ACCOUNT_LENGTH_MAX, MAC_LENGTH};
use crate::event::{Account, Event, Kind, Mac, ParticipantId, TxnId};

/// The bytes of an encoded event: the same as the event in memory, though the layouts differ.
pub const EVENT_PAYLOAD_SIZE: usize = 112;

const TXN_ID_AT: usize = 0;
const ORIGINAL_AT: usize = 16;
const SEQUENCE_AT: usize = 32;
const EVENT_NS_AT: usize = 40;
const SENT_NS_AT: usize = 48;
const AMOUNT_FEN_AT: usize = 56;
const MAC_AT: usize = 64;
const ACCOUNT_AT: usize = 80;
const ACCOUNT_LENGTH_AT: usize = ACCOUNT_AT + ACCOUNT_LENGTH_MAX;
const SENDER_AT: usize = 100;
const COUNTERPARTY_AT: usize = 102;
const KIND_AT: usize = 104;
const CODE_AT: usize = 105;
const RESERVED_AT: usize = 106;

const _: () = assert!(MAC_AT + MAC_LENGTH == ACCOUNT_AT);
const _: () = assert!(ACCOUNT_LENGTH_AT + 1 == SENDER_AT);
const _: () = assert!(RESERVED_AT < EVENT_PAYLOAD_SIZE);
const _: () = assert!(std::mem::size_of::<Event>() == EVENT_PAYLOAD_SIZE);

/// Why bytes are not an encoded event. Every check [`decode_event`] makes has its own variant,
/// so a reader of a recovery report knows which field was wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// The payload is not [`EVENT_PAYLOAD_SIZE`] bytes long.
    WrongLength {
        /// The length found.
        length_bytes: usize,
    },
    /// The kind byte is no [`Kind`]'s code.
    UnknownKind {
        /// The byte found.
        code: u8,
    },
    /// The account's length is beyond [`ACCOUNT_LENGTH_MAX`].
    AccountTooLong {
        /// The length found.
        length: u8,
    },
    /// A byte of the account's padding, beyond its length, is not zero; an encoder never writes
    /// one.
    AccountPaddingNotZero,
    /// A reserved byte is not zero; an encoder never writes one.
    ReservedNotZero,
}

impl std::fmt::Display for PayloadError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PayloadError::WrongLength { length_bytes } => write!(
                formatter,
                "the payload is {length_bytes} bytes, not the {EVENT_PAYLOAD_SIZE} of an event"
            ),
            PayloadError::UnknownKind { code } => {
                write!(formatter, "the kind byte {code} is no event kind")
            }
            PayloadError::AccountTooLong { length } => write!(
                formatter,
                "the account length {length} is beyond the {ACCOUNT_LENGTH_MAX} an event holds"
            ),
            PayloadError::AccountPaddingNotZero => {
                formatter.write_str("the account's padding beyond its length is not zero")
            }
            PayloadError::ReservedNotZero => formatter.write_str("a reserved byte is not zero"),
        }
    }
}

impl std::error::Error for PayloadError {}

/// `event` in its on-disk form. Every field is written, so equal events encode to equal bytes.
pub fn encode_event(event: &Event) -> [u8; EVENT_PAYLOAD_SIZE] {
    let mut bytes = [0u8; EVENT_PAYLOAD_SIZE];
    let (account, account_length) = event.account.raw();
    bytes[TXN_ID_AT..ORIGINAL_AT].copy_from_slice(&event.txn_id.0.to_le_bytes());
    bytes[ORIGINAL_AT..SEQUENCE_AT].copy_from_slice(&event.original.0.to_le_bytes());
    bytes[SEQUENCE_AT..EVENT_NS_AT].copy_from_slice(&event.sequence.to_le_bytes());
    bytes[EVENT_NS_AT..SENT_NS_AT].copy_from_slice(&event.event_ns.to_le_bytes());
    bytes[SENT_NS_AT..AMOUNT_FEN_AT].copy_from_slice(&event.sent_ns.to_le_bytes());
    bytes[AMOUNT_FEN_AT..MAC_AT].copy_from_slice(&event.amount_fen.to_le_bytes());
    bytes[MAC_AT..ACCOUNT_AT].copy_from_slice(&event.mac.0);
    bytes[ACCOUNT_AT..ACCOUNT_LENGTH_AT].copy_from_slice(&account);
    bytes[ACCOUNT_LENGTH_AT] = account_length;
    bytes[SENDER_AT..COUNTERPARTY_AT].copy_from_slice(&event.sender.0.to_le_bytes());
    bytes[COUNTERPARTY_AT..KIND_AT].copy_from_slice(&event.counterparty.0.to_le_bytes());
    bytes[KIND_AT] = event.kind as u8;
    bytes[CODE_AT] = event.code;
    bytes
}

/// The event `bytes` encode. Never panics: any input that [`encode_event`] could not have
/// written is a [`PayloadError`] naming what is wrong, and for every input it accepts,
/// `encode_event(&decode_event(bytes)?) == bytes`.
pub fn decode_event(bytes: &[u8]) -> Result<Event, PayloadError> {
    let bytes: &[u8; EVENT_PAYLOAD_SIZE] =
        bytes.try_into().map_err(|_| PayloadError::WrongLength {
            length_bytes: bytes.len(),
        })?;
    let kind = Kind::from_code(bytes[KIND_AT]).ok_or(PayloadError::UnknownKind {
        code: bytes[KIND_AT],
    })?;
    let account_length = bytes[ACCOUNT_LENGTH_AT];
    let length = usize::from(account_length);
    if length > ACCOUNT_LENGTH_MAX {
        return Err(PayloadError::AccountTooLong {
            length: account_length,
        });
    }
    if bytes[ACCOUNT_AT + length..ACCOUNT_LENGTH_AT]
        .iter()
        .any(|&byte| byte != 0)
    {
        return Err(PayloadError::AccountPaddingNotZero);
    }
    if bytes[RESERVED_AT..].iter().any(|&byte| byte != 0) {
        return Err(PayloadError::ReservedNotZero);
    }
    let account = Account::new(&bytes[ACCOUNT_AT..ACCOUNT_AT + length]).map_err(|_| {
        PayloadError::AccountTooLong {
            length: account_length,
        }
    })?;
    Ok(Event {
        txn_id: TxnId(u128::from_le_bytes(array(bytes, TXN_ID_AT))),
        original: TxnId(u128::from_le_bytes(array(bytes, ORIGINAL_AT))),
        sequence: u64::from_le_bytes(array(bytes, SEQUENCE_AT)),
        event_ns: u64::from_le_bytes(array(bytes, EVENT_NS_AT)),
        sent_ns: u64::from_le_bytes(array(bytes, SENT_NS_AT)),
        amount_fen: u64::from_le_bytes(array(bytes, AMOUNT_FEN_AT)),
        mac: Mac(array(bytes, MAC_AT)),
        account,
        sender: ParticipantId(u16::from_le_bytes(array(bytes, SENDER_AT))),
        counterparty: ParticipantId(u16::from_le_bytes(array(bytes, COUNTERPARTY_AT))),
        kind,
        code: bytes[CODE_AT],
    })
}

/// The `N` bytes of `bytes` starting at `at`; every caller's range lies inside the payload.
fn array<const N: usize>(bytes: &[u8; EVENT_PAYLOAD_SIZE], at: usize) -> [u8; N] {
    let mut part = [0u8; N];
    part.copy_from_slice(&bytes[at..at + N]);
    part
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Any event the public constructors and fields can make: every field over its whole range,
    /// the account any bytes up to its longest.
    pub(crate) fn arbitrary_event() -> impl Strategy<Value = Event> {
        (
            (any::<u128>(), any::<u128>(), any::<u64>(), any::<u64>()),
            (any::<u64>(), any::<u64>(), any::<[u8; MAC_LENGTH]>()),
            proptest::collection::vec(any::<u8>(), 0..=ACCOUNT_LENGTH_MAX),
            (any::<u16>(), any::<u16>(), 0..Kind::ALL.len(), any::<u8>()),
        )
            .prop_map(
                |(
                    (txn_id, original, sequence, event_ns),
                    (sent_ns, amount_fen, mac),
                    account,
                    (sender, counterparty, kind, code),
                )| Event {
                    txn_id: TxnId(txn_id),
                    original: TxnId(original),
                    sequence,
                    event_ns,
                    sent_ns,
                    amount_fen,
                    mac: Mac(mac),
                    account: Account::new(&account).expect("at most the longest account"),
                    sender: ParticipantId(sender),
                    counterparty: ParticipantId(counterparty),
                    kind: Kind::ALL[kind],
                    code,
                },
            )
    }

    proptest! {
        #[test]
        fn every_event_round_trips(event in arbitrary_event()) {
            let bytes = encode_event(&event);
            prop_assert_eq!(decode_event(&bytes), Ok(event));
        }

        #[test]
        fn decoding_any_bytes_never_panics_and_what_it_accepts_re_encodes_the_same(
            bytes in proptest::collection::vec(any::<u8>(), 0..2 * EVENT_PAYLOAD_SIZE),
        ) {
            if let Ok(event) = decode_event(&bytes) {
                prop_assert_eq!(&encode_event(&event)[..], &bytes[..]);
            }
        }

        #[test]
        fn a_payload_sized_buffer_with_known_kind_and_clean_padding_decodes(
            mut bytes in any::<[u8; EVENT_PAYLOAD_SIZE]>(),
            kind in 0..Kind::ALL.len(),
            length in 0..=ACCOUNT_LENGTH_MAX,
        ) {
            bytes[KIND_AT] = kind as u8;
            bytes[ACCOUNT_LENGTH_AT] = length as u8;
            bytes[ACCOUNT_AT + length..ACCOUNT_LENGTH_AT].fill(0);
            bytes[RESERVED_AT..].fill(0);
            let event = decode_event(&bytes);
            prop_assert!(event.is_ok(), "{:?}", event);
        }
    }

    fn sample() -> Event {
        Event {
            txn_id: TxnId::new(20261130, 7),
            original: TxnId::new(20261129, 3),
            sequence: 0x0102_0304_0506_0708,
            event_ns: 11,
            sent_ns: 12,
            amount_fen: 0x1234,
            mac: Mac([0xab; MAC_LENGTH]),
            account: Account::new(b"6222020200112233445").unwrap(),
            sender: ParticipantId(0x0405),
            counterparty: ParticipantId(1001),
            kind: Kind::Refund,
            code: 9,
        }
    }

    #[test]
    fn fields_sit_at_their_documented_offsets_little_endian() {
        let bytes = encode_event(&sample());
        assert_eq!(
            bytes[SEQUENCE_AT..EVENT_NS_AT],
            [0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01]
        );
        assert_eq!(bytes[AMOUNT_FEN_AT..AMOUNT_FEN_AT + 3], [0x34, 0x12, 0]);
        assert_eq!(
            &bytes[ACCOUNT_AT..ACCOUNT_LENGTH_AT],
            b"6222020200112233445"
        );
        assert_eq!(bytes[ACCOUNT_LENGTH_AT], 19);
        assert_eq!(bytes[SENDER_AT..COUNTERPARTY_AT], [0x05, 0x04]);
        assert_eq!(bytes[KIND_AT], Kind::Refund as u8);
        assert_eq!(bytes[CODE_AT], 9);
        assert_eq!(
            u128::from_le_bytes(array(&bytes, TXN_ID_AT)) >> 96,
            20261130
        );
        assert!(bytes[RESERVED_AT..].iter().all(|&byte| byte == 0));
    }

    #[test]
    fn malformed_payloads_are_named_errors() {
        let good = encode_event(&sample());
        let with = |at: usize, value: u8| {
            let mut bytes = good;
            bytes[at] = value;
            bytes
        };
        let short_account = encode_event(&Event {
            account: Account::new(b"1234").unwrap(),
            ..sample()
        });
        let mut padded = short_account;
        padded[ACCOUNT_AT + 4] = b'5';
        let rows: Vec<(Vec<u8>, PayloadError)> = vec![
            (Vec::new(), PayloadError::WrongLength { length_bytes: 0 }),
            (
                good[..111].to_vec(),
                PayloadError::WrongLength { length_bytes: 111 },
            ),
            (
                [&good[..], &[0]].concat(),
                PayloadError::WrongLength { length_bytes: 113 },
            ),
            (
                with(KIND_AT, 9).to_vec(),
                PayloadError::UnknownKind { code: 9 },
            ),
            (
                with(KIND_AT, 255).to_vec(),
                PayloadError::UnknownKind { code: 255 },
            ),
            (
                with(ACCOUNT_LENGTH_AT, 20).to_vec(),
                PayloadError::AccountTooLong { length: 20 },
            ),
            (
                with(ACCOUNT_LENGTH_AT, 255).to_vec(),
                PayloadError::AccountTooLong { length: 255 },
            ),
            (padded.to_vec(), PayloadError::AccountPaddingNotZero),
            (
                with(EVENT_PAYLOAD_SIZE - 1, 1).to_vec(),
                PayloadError::ReservedNotZero,
            ),
        ];
        for (bytes, expected) in rows {
            assert_eq!(decode_event(&bytes), Err(expected), "{expected}");
        }
        assert_eq!(
            decode_event(&short_account).map(|event| event.account),
            Ok(Account::new(b"1234").unwrap())
        );
    }
}
