//! [`Decline`]: every reason the switch refuses an event, each a sentence-like name.

use serde::{Deserialize, Serialize};

/// Why the switch refused an event. The first stage to refuse writes it into the event's results;
/// later stages see it and pass the event on untouched. Every reason is counted by name.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Decline {
    // authorize
    /// The MAC does not verify under the sender's key.
    BadMac = 1,
    /// No participant has the sender's id, or the event's kind code is not a kind.
    UnknownSender,
    /// The sender may not send this kind: an institution sending a reply, a bank sending a
    /// payment, anyone but the operator sending a control event, or a kind the participant is not
    /// allowed.
    KindNotAllowed,
    /// The amount is zero.
    AmountMustNotBeZero,
    /// The amount is above the sender's limit for this kind.
    AmountExceedsLimit,
    /// The account number is not 12 to 19 digits, or a 16–19 digit card number fails its Luhn
    /// check.
    MalformedAccount,
    /// A refund names no original.
    RefundWithoutOriginal,
    /// A bank reply's code is neither approve nor decline.
    UnknownReplyCode,
    // route
    /// The sender is suspended (a participant status control event).
    SenderSuspended,
    /// No BIN prefix matches the account number.
    NoRoute,
    /// The account's bank is suspended or has no healthy link.
    BankUnavailable,
    /// A control event names a participant, bank or link the switch does not have, or a prefix
    /// that is not 6 to 10 digits.
    BadControlEvent,
    // ledger
    /// The same id was seen with different fields.
    ExistsWithDifferentFields,
    /// The same id is still waiting for its bank.
    DuplicateInFlight,
    /// The debtor's position plus its pending holds plus this amount would exceed its cap.
    InsufficientLiquidity,
    /// A refund names an original the ledger does not know (never seen, or older than the
    /// retention window).
    RefundOfUnknownPayment,
    /// A refund names an original that is not an approved debit.
    RefundOfUnapprovedPayment,
    /// A refund names an original another institution sent.
    RefundOfOtherInstitution,
    /// A refund asks for more than remains refundable on its original.
    RefundExceedsOriginal,
    /// A bank replied about a payment the ledger is not holding and never held.
    ReplyForUnknownPayment,
    /// A bank replied about a payment that was routed to another bank.
    ReplyFromWrongBank,
    /// Posting would take a position or a total beyond what the ledger's arithmetic holds.
    AmountOverflow,
    /// The ledger's pending-hold table or idempotency window is full: the node is past the
    /// capacity it was started with.
    LedgerFull,
    // memory by time (ledger)
    /// The transaction id carries no real date and second of the day, so the switch cannot tell
    /// whether it is within retention.
    TxnIdWithoutTime,
    /// The transaction id's own time is ahead of the switch's clock by more than a second.
    TxnIdInFuture,
    /// The transaction id was made longer ago than retention: whether it was decided can no
    /// longer be told, so it is never decided afresh.
    TxnIdBeyondRetention,
    /// A refund's original was made longer ago than retention.
    OriginalBeyondRetention,
}

/// How many decline reasons there are: the size of per-reason counter tables.
pub const DECLINE_COUNT: usize = Decline::OriginalBeyondRetention as usize;

impl Decline {
    /// Every reason, in code order.
    pub const ALL: [Decline; DECLINE_COUNT] = [
        Decline::BadMac,
        Decline::UnknownSender,
        Decline::KindNotAllowed,
        Decline::AmountMustNotBeZero,
        Decline::AmountExceedsLimit,
        Decline::MalformedAccount,
        Decline::RefundWithoutOriginal,
        Decline::UnknownReplyCode,
        Decline::SenderSuspended,
        Decline::NoRoute,
        Decline::BankUnavailable,
        Decline::BadControlEvent,
        Decline::ExistsWithDifferentFields,
        Decline::DuplicateInFlight,
        Decline::InsufficientLiquidity,
        Decline::RefundOfUnknownPayment,
        Decline::RefundOfUnapprovedPayment,
        Decline::RefundOfOtherInstitution,
        Decline::RefundExceedsOriginal,
        Decline::ReplyForUnknownPayment,
        Decline::ReplyFromWrongBank,
        Decline::AmountOverflow,
        Decline::LedgerFull,
        Decline::TxnIdWithoutTime,
        Decline::TxnIdInFuture,
        Decline::TxnIdBeyondRetention,
        Decline::OriginalBeyondRetention,
    ];

    /// The index into per-reason tables, `0..DECLINE_COUNT`.
    #[inline]
    pub fn index(self) -> usize {
        self as usize - 1
    }

    /// The name reports use: the variant's name.
    pub fn name(self) -> &'static str {
        match self {
            Decline::BadMac => "BadMac",
            Decline::UnknownSender => "UnknownSender",
            Decline::KindNotAllowed => "KindNotAllowed",
            Decline::AmountMustNotBeZero => "AmountMustNotBeZero",
            Decline::AmountExceedsLimit => "AmountExceedsLimit",
            Decline::MalformedAccount => "MalformedAccount",
            Decline::RefundWithoutOriginal => "RefundWithoutOriginal",
            Decline::UnknownReplyCode => "UnknownReplyCode",
            Decline::SenderSuspended => "SenderSuspended",
            Decline::NoRoute => "NoRoute",
            Decline::BankUnavailable => "BankUnavailable",
            Decline::BadControlEvent => "BadControlEvent",
            Decline::ExistsWithDifferentFields => "ExistsWithDifferentFields",
            Decline::DuplicateInFlight => "DuplicateInFlight",
            Decline::InsufficientLiquidity => "InsufficientLiquidity",
            Decline::RefundOfUnknownPayment => "RefundOfUnknownPayment",
            Decline::RefundOfUnapprovedPayment => "RefundOfUnapprovedPayment",
            Decline::RefundOfOtherInstitution => "RefundOfOtherInstitution",
            Decline::RefundExceedsOriginal => "RefundExceedsOriginal",
            Decline::ReplyForUnknownPayment => "ReplyForUnknownPayment",
            Decline::ReplyFromWrongBank => "ReplyFromWrongBank",
            Decline::AmountOverflow => "AmountOverflow",
            Decline::LedgerFull => "LedgerFull",
            Decline::TxnIdWithoutTime => "TxnIdWithoutTime",
            Decline::TxnIdInFuture => "TxnIdInFuture",
            Decline::TxnIdBeyondRetention => "TxnIdBeyondRetention",
            Decline::OriginalBeyondRetention => "OriginalBeyondRetention",
        }
    }
}

impl std::fmt::Display for Decline {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_reason_once_in_code_order() {
        for (index, decline) in Decline::ALL.iter().enumerate() {
            assert_eq!(decline.index(), index);
            assert_eq!(format!("{decline:?}"), decline.name());
        }
    }
}
