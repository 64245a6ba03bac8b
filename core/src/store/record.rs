//! [`StoredPayment`] and [`StoredRefund`]: a finished payment as the store keeps it, and an
//! approved refund's entry under its original, with their byte encodings.
//!
//! Keys sort by transaction id, big-endian, so a payment's key (its 16-byte id) is immediately
//! followed by the keys of its approved refunds (its id, then the refund's id: 32 bytes), and one
//! prefix read finds a refund's original and everything already refunded from it.
//!
//! Values are fixed-size little-endian fields behind a version byte and followed by a CRC-32C of
//! everything before it: a flipped byte is found on read and named, never taken for a payment.

use crate::event::{Kind, Outcome, ParticipantId, TxnId};

/// The encoding's version: the first byte of every value.
pub const RECORD_VERSION: u8 = 1;

/// The bytes of an encoded [`StoredPayment`] value.
pub const PAYMENT_VALUE_BYTES: usize = 1 + 8 * 5 + 16 + 1 + 1 + 2 + 2 + 4;

/// The bytes of an encoded [`StoredRefund`] value.
pub const REFUND_VALUE_BYTES: usize = 1 + 8 + 8 + 4;

/// A payment that finished: what a resend, a refund or a QUERY needs of it, for as long as
/// retention lasts. Written once, when it finishes, and never changed: what refunds took from it
/// is kept beside it as [`StoredRefund`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredPayment {
    /// Its id: the key.
    pub txn_id: TxnId,
    /// A refund's original; [`TxnId::NONE`] otherwise.
    pub original: TxnId,
    /// The fingerprint of the fields idempotency compares (kind, sender, account, amount,
    /// original).
    pub fingerprint: u64,
    /// Its amount, fen.
    pub amount_fen: u64,
    /// `Approved`, `Declined` or `Expired`.
    pub outcome: Outcome,
    /// Its kind.
    pub kind: Kind,
    /// The institution that sent it.
    pub institution: ParticipantId,
    /// The bank it was routed to.
    pub bank: ParticipantId,
    /// The clearing batch it finished in.
    pub batch: u64,
    /// The sequence of the event during which it finished: a reader as of sequence `s` sees it
    /// only when this is below `s`.
    pub finished_sequence: u64,
    /// The event time it finished at, ns.
    pub finished_ns: u64,
}

/// An approved refund, kept under its original's id so that what remains refundable can be
/// worked out from the store alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredRefund {
    /// The original payment.
    pub original: TxnId,
    /// The refund's own id.
    pub txn_id: TxnId,
    /// The amount refunded, fen.
    pub amount_fen: u64,
    /// The sequence of the event during which it was approved.
    pub finished_sequence: u64,
}

/// Why stored bytes are not a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The value has the wrong length for its key.
    Length(usize),
    /// The version byte is not [`RECORD_VERSION`].
    Version(u8),
    /// The CRC-32C does not match: the bytes were damaged.
    Checksum,
    /// A field holds a code no outcome or kind has.
    Field(&'static str),
    /// The key is neither 16 nor 32 bytes.
    Key(usize),
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordError::Length(length) => write!(formatter, "a value of {length} bytes"),
            RecordError::Version(version) => write!(formatter, "record version {version}"),
            RecordError::Checksum => formatter.write_str("a record whose checksum does not match"),
            RecordError::Field(field) => write!(formatter, "a record with an invalid {field}"),
            RecordError::Key(length) => write!(formatter, "a key of {length} bytes"),
        }
    }
}

impl std::error::Error for RecordError {}

/// A payment's key: its id, big-endian.
pub fn payment_key(txn_id: TxnId) -> [u8; 16] {
    txn_id.0.to_be_bytes()
}

/// An approved refund's key: its original's id, then its own, big-endian.
pub fn refund_key(original: TxnId, txn_id: TxnId) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(&original.0.to_be_bytes());
    key[16..].copy_from_slice(&txn_id.0.to_be_bytes());
    key
}

/// The id a key starts with.
pub fn key_txn_id(key: &[u8]) -> Result<TxnId, RecordError> {
    match key.len() {
        16 | 32 => Ok(TxnId(u128::from_be_bytes(key[..16].try_into().unwrap()))),
        length => Err(RecordError::Key(length)),
    }
}

/// Appends `bytes`' CRC-32C and checks it on the way back.
fn seal(bytes: &mut [u8]) {
    let body = bytes.len() - 4;
    let crc = crc32c::crc32c(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
}

fn check(bytes: &[u8], expected: usize) -> Result<(), RecordError> {
    if bytes.len() != expected {
        return Err(RecordError::Length(bytes.len()));
    }
    let body = bytes.len() - 4;
    let crc = u32::from_le_bytes(bytes[body..].try_into().unwrap());
    if crc32c::crc32c(&bytes[..body]) != crc {
        return Err(RecordError::Checksum);
    }
    if bytes[0] != RECORD_VERSION {
        return Err(RecordError::Version(bytes[0]));
    }
    Ok(())
}

/// Little-endian fields read in order.
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Fields<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let field = self.bytes[self.at..self.at + N].try_into().unwrap();
        self.at += N;
        field
    }

    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }
}

impl StoredPayment {
    /// The value's bytes.
    pub fn encode(&self) -> [u8; PAYMENT_VALUE_BYTES] {
        let mut bytes = [0u8; PAYMENT_VALUE_BYTES];
        let mut at = 0;
        let mut put = |part: &[u8]| {
            bytes[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        };
        put(&[RECORD_VERSION]);
        put(&self.fingerprint.to_le_bytes());
        put(&self.amount_fen.to_le_bytes());
        put(&self.batch.to_le_bytes());
        put(&self.finished_sequence.to_le_bytes());
        put(&self.finished_ns.to_le_bytes());
        put(&self.original.0.to_le_bytes());
        put(&[self.outcome as u8, self.kind as u8]);
        put(&self.institution.0.to_le_bytes());
        put(&self.bank.0.to_le_bytes());
        seal(&mut bytes);
        bytes
    }

    /// The payment `txn_id` from its value's bytes.
    pub fn decode(txn_id: TxnId, bytes: &[u8]) -> Result<StoredPayment, RecordError> {
        check(bytes, PAYMENT_VALUE_BYTES)?;
        let mut fields = Fields { bytes, at: 1 };
        let fingerprint = fields.u64();
        let amount_fen = fields.u64();
        let batch = fields.u64();
        let finished_sequence = fields.u64();
        let finished_ns = fields.u64();
        let original = TxnId(u128::from_le_bytes(fields.take()));
        let [outcome, kind] = fields.take();
        let outcome = match outcome {
            code if code == Outcome::Approved as u8 => Outcome::Approved,
            code if code == Outcome::Declined as u8 => Outcome::Declined,
            code if code == Outcome::Expired as u8 => Outcome::Expired,
            _ => return Err(RecordError::Field("outcome")),
        };
        let kind = Kind::from_code(kind)
            .filter(|kind| kind.is_payment())
            .ok_or(RecordError::Field("kind"))?;
        let institution = ParticipantId(u16::from_le_bytes(fields.take()));
        let bank = ParticipantId(u16::from_le_bytes(fields.take()));
        Ok(StoredPayment {
            txn_id,
            original,
            fingerprint,
            amount_fen,
            outcome,
            kind,
            institution,
            bank,
            batch,
            finished_sequence,
            finished_ns,
        })
    }

    /// Whether refunds may take from it: an approved debit.
    pub fn is_refundable(&self) -> bool {
        self.outcome == Outcome::Approved && self.kind.is_debit()
    }
}

impl StoredRefund {
    /// The value's bytes.
    pub fn encode(&self) -> [u8; REFUND_VALUE_BYTES] {
        let mut bytes = [0u8; REFUND_VALUE_BYTES];
        bytes[0] = RECORD_VERSION;
        bytes[1..9].copy_from_slice(&self.amount_fen.to_le_bytes());
        bytes[9..17].copy_from_slice(&self.finished_sequence.to_le_bytes());
        seal(&mut bytes);
        bytes
    }

    /// The refund under `key` (original ‖ refund id) from its value's bytes.
    pub fn decode(key: &[u8], bytes: &[u8]) -> Result<StoredRefund, RecordError> {
        if key.len() != 32 {
            return Err(RecordError::Key(key.len()));
        }
        check(bytes, REFUND_VALUE_BYTES)?;
        let mut fields = Fields { bytes, at: 1 };
        Ok(StoredRefund {
            original: TxnId(u128::from_be_bytes(key[..16].try_into().unwrap())),
            txn_id: TxnId(u128::from_be_bytes(key[16..].try_into().unwrap())),
            amount_fen: fields.u64(),
            finished_sequence: fields.u64(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn payment() -> impl Strategy<Value = StoredPayment> {
        (
            any::<u128>(),
            any::<u128>(),
            any::<u64>(),
            any::<u64>(),
            prop::sample::select(vec![Outcome::Approved, Outcome::Declined, Outcome::Expired]),
            prop::sample::select(Kind::PAYMENTS.to_vec()),
            any::<u16>(),
            any::<u16>(),
            (any::<u64>(), any::<u64>(), any::<u64>()),
        )
            .prop_map(
                |(
                    id,
                    original,
                    fingerprint,
                    amount_fen,
                    outcome,
                    kind,
                    institution,
                    bank,
                    rest,
                )| {
                    StoredPayment {
                        txn_id: TxnId(id),
                        original: TxnId(original),
                        fingerprint,
                        amount_fen,
                        outcome,
                        kind,
                        institution: ParticipantId(institution),
                        bank: ParticipantId(bank),
                        batch: rest.0,
                        finished_sequence: rest.1,
                        finished_ns: rest.2,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn a_payment_round_trips(payment in payment()) {
            let bytes = payment.encode();
            prop_assert_eq!(StoredPayment::decode(payment.txn_id, &bytes), Ok(payment));
            prop_assert_eq!(key_txn_id(&payment_key(payment.txn_id)), Ok(payment.txn_id));
        }

        #[test]
        fn a_refund_round_trips(original: u128, id: u128, amount_fen: u64, sequence: u64) {
            let refund = StoredRefund {
                original: TxnId(original),
                txn_id: TxnId(id),
                amount_fen,
                finished_sequence: sequence,
            };
            let key = refund_key(refund.original, refund.txn_id);
            prop_assert_eq!(StoredRefund::decode(&key, &refund.encode()), Ok(refund));
            prop_assert_eq!(key_txn_id(&key), Ok(refund.original));
        }

        #[test]
        fn any_flipped_bit_is_found(payment in payment(), bit in 0..PAYMENT_VALUE_BYTES * 8) {
            let mut bytes = payment.encode();
            bytes[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(StoredPayment::decode(payment.txn_id, &bytes).is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
            let _ = StoredPayment::decode(TxnId(1), &bytes);
            let _ = StoredRefund::decode(&[0; 32], &bytes);
            let _ = key_txn_id(&bytes);
        }
    }

    #[test]
    fn a_refund_key_sorts_right_after_its_original() {
        let original = TxnId::new(20261207, 5);
        let next = TxnId::new(20261207, 6);
        let payment = payment_key(original);
        let refund = refund_key(original, TxnId::new(20261208, 1));
        assert!(payment.as_slice() < refund.as_slice());
        assert!(refund.as_slice() < payment_key(next).as_slice());
        assert!(refund.starts_with(&payment));
    }

    #[test]
    fn wrong_lengths_and_versions_are_named() {
        let payment = StoredPayment {
            txn_id: TxnId(3),
            original: TxnId::NONE,
            fingerprint: 1,
            amount_fen: 2,
            outcome: Outcome::Approved,
            kind: Kind::AgreementDebit,
            institution: ParticipantId(1),
            bank: ParticipantId(2),
            batch: 1,
            finished_sequence: 9,
            finished_ns: 10,
        };
        let bytes = payment.encode();
        assert_eq!(
            StoredPayment::decode(TxnId(3), &bytes[..10]),
            Err(RecordError::Length(10))
        );
        let mut other = bytes;
        other[0] = 9;
        seal(&mut other);
        assert_eq!(
            StoredPayment::decode(TxnId(3), &other),
            Err(RecordError::Version(9))
        );
        let mut bad_outcome = bytes;
        bad_outcome[57] = Outcome::Exists as u8;
        seal(&mut bad_outcome);
        assert_eq!(
            StoredPayment::decode(TxnId(3), &bad_outcome),
            Err(RecordError::Field("outcome"))
        );
        assert_eq!(key_txn_id(&[0; 5]), Err(RecordError::Key(5)));
    }
}
