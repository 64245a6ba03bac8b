//! [`Fault`] and [`FaultCounts`]: the mistakes the institutions make on purpose, and how many of
//! each were made, so a report can set what was injected beside what the switch refused.

use serde::Serialize;

/// A mistake an institution makes on purpose, and the answer the switch owes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// A recent payment sent again under its id: `DuplicateInFlight` or `Exists`, or
    /// `ExistsWithDifferentFields` when the amount was changed.
    DuplicateId,
    /// One byte of the MAC flipped: `BadMac`.
    BadMac,
    /// A Luhn-valid account no BIN prefix matches: `NoRoute`.
    UnknownAccount,
    /// One fen over the sender's limit for the kind: `AmountExceedsLimit`.
    OverLimit,
    /// A refund of an id never sent: `RefundOfUnknownPayment`.
    UnknownRefund,
}

impl Fault {
    /// Every fault, in the order of [`crate::FaultRates::rates`].
    pub const ALL: [Fault; 5] = [
        Fault::DuplicateId,
        Fault::BadMac,
        Fault::UnknownAccount,
        Fault::OverLimit,
        Fault::UnknownRefund,
    ];
}

/// How many payments carried each fault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FaultCounts {
    /// Duplicate ids, changed amounts included.
    pub duplicate_id: u64,
    /// Of `duplicate_id`, those with a changed amount.
    pub duplicate_id_changed_amount: u64,
    /// Flipped MACs.
    pub bad_mac: u64,
    /// Accounts no prefix matches.
    pub unknown_account: u64,
    /// Amounts one fen over the limit.
    pub over_limit: u64,
    /// Refunds of ids never sent.
    pub unknown_refund: u64,
}

impl FaultCounts {
    /// Counts one more `fault`.
    pub(crate) fn count(&mut self, fault: Fault) {
        let counter = match fault {
            Fault::DuplicateId => &mut self.duplicate_id,
            Fault::BadMac => &mut self.bad_mac,
            Fault::UnknownAccount => &mut self.unknown_account,
            Fault::OverLimit => &mut self.over_limit,
            Fault::UnknownRefund => &mut self.unknown_refund,
        };
        *counter += 1;
    }

    /// How many payments carried `fault`.
    pub fn of(&self, fault: Fault) -> u64 {
        match fault {
            Fault::DuplicateId => self.duplicate_id,
            Fault::BadMac => self.bad_mac,
            Fault::UnknownAccount => self.unknown_account,
            Fault::OverLimit => self.over_limit,
            Fault::UnknownRefund => self.unknown_refund,
        }
    }

    /// All faults together.
    pub fn total(&self) -> u64 {
        Fault::ALL.iter().map(|&fault| self.of(fault)).sum()
    }
}
