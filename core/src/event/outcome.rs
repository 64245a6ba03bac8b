//! [`Outcome`]: what the ledger did with an event, the answer egress gives.

use serde::{Deserialize, Serialize};

/// What the ledger did with an event. `Pending` until the ledger has seen it.
#[repr(u8)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum Outcome {
    /// Not yet decided.
    #[default]
    Pending = 0,
    /// A payment: a hold was placed and the payment forwarded to its bank.
    Forwarded,
    /// A bank reply (or, as `original`, a payment): the bank approved and the hold was posted.
    Approved,
    /// A bank reply (or, as `original`, a payment): the bank declined and the hold was voided.
    Declined,
    /// As `original` or in an expiry notice: no reply within the bank timeout; the hold was
    /// voided.
    Expired,
    /// Refused: `decline` in the results says why.
    Rejected,
    /// A payment whose id and fields match one already finished: `original` holds its outcome
    /// and nothing changes.
    Exists,
    /// A bank reply for a payment that already expired: counted, never posted.
    LateReply,
    /// A control event, applied.
    Applied,
    /// A cutover: the batch was closed and its report written.
    BatchClosed,
}

impl Outcome {
    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pending => "Pending",
            Outcome::Forwarded => "Forwarded",
            Outcome::Approved => "Approved",
            Outcome::Declined => "Declined",
            Outcome::Expired => "Expired",
            Outcome::Rejected => "Rejected",
            Outcome::Exists => "Exists",
            Outcome::LateReply => "LateReply",
            Outcome::Applied => "Applied",
            Outcome::BatchClosed => "BatchClosed",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}
