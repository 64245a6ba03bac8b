//! [`TxnId`]: a transaction's identity, the ledger's idempotency key.

use serde::{Deserialize, Serialize};

/// A transaction id: 128 bits in the network's date + sequence form, the date (`yyyymmdd`) in the
/// top 32 bits and a sender-assigned sequence in the low 96. Zero means "none" (an event with no
/// original, a control event).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct TxnId(pub u128);

impl TxnId {
    /// No transaction.
    pub const NONE: TxnId = TxnId(0);

    /// The id for `date` (`yyyymmdd`, e.g. 20261130) and `sequence`; the sequence keeps its low 96
    /// bits.
    pub fn new(date: u32, sequence: u128) -> TxnId {
        TxnId(u128::from(date) << 96 | (sequence & ((1u128 << 96) - 1)))
    }

    /// The date part, `yyyymmdd`.
    pub fn date(self) -> u32 {
        (self.0 >> 96) as u32
    }

    /// The sequence part.
    pub fn sequence(self) -> u128 {
        self.0 & ((1u128 << 96) - 1)
    }

    /// Whether this is [`TxnId::NONE`].
    #[inline]
    pub fn is_none(self) -> bool {
        self.0 == 0
    }
}

impl std::fmt::Display for TxnId {
    /// `yyyymmdd-` and the sequence in 24 decimal digits.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{:08}-{:024}", self.date(), self.sequence())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_and_sequence_round_trip() {
        let id = TxnId::new(20261130, 123_456_789);
        assert_eq!(id.date(), 20261130);
        assert_eq!(id.sequence(), 123_456_789);
        assert_eq!(id.to_string(), "20261130-000000000000000123456789");
        assert!(!id.is_none());
        assert!(TxnId::NONE.is_none());
    }
}
