//! [`Kind`]: what an event is — one of the four payment kinds, a bank's reply, a cutover, or a
//! control event that changes the network the switch sees.

use serde::{Deserialize, Serialize};

/// What an event is. Stored as one byte in the event.
#[repr(u8)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 协议支付: the bank debits its customer's account under a standing agreement; the funds go
    /// to the institution. Bank −amount, institution +amount.
    #[default]
    AgreementDebit = 0,
    /// 网关支付: the customer pays through the bank's gateway; the same money flow as an
    /// agreement debit.
    GatewayDebit = 1,
    /// 付款: the institution pays out to a bank account. Institution −amount, bank +amount.
    PayoutCredit = 2,
    /// 退款: reverses part or all of an approved debit, named by `original`. Institution −amount,
    /// bank +amount.
    Refund = 3,
    /// A bank's answer to a payment the switch forwarded: `code` says approve or decline.
    BankReply = 4,
    /// Closes the current clearing batch, writes its settlement report and opens the next.
    Cutover = 5,
    /// Control: sets the status of the participant in `counterparty` to `code`.
    ParticipantStatus = 6,
    /// Control: brings link `code & 0x7f` of the bank in `counterparty` up (`code & 0x80`) or
    /// down.
    LinkStatus = 7,
    /// Control: the account prefix in `account` now routes to the bank in `counterparty`
    /// (`code` 1), or no longer routes anywhere (`code` 0).
    RouteChange = 8,
}

/// How many payment kinds there are: the size of per-kind tables such as amount limits.
pub const PAYMENT_KIND_COUNT: usize = 4;

impl Kind {
    /// Every kind, in code order.
    pub const ALL: [Kind; 9] = [
        Kind::AgreementDebit,
        Kind::GatewayDebit,
        Kind::PayoutCredit,
        Kind::Refund,
        Kind::BankReply,
        Kind::Cutover,
        Kind::ParticipantStatus,
        Kind::LinkStatus,
        Kind::RouteChange,
    ];

    /// The four kinds a payment institution sends.
    pub const PAYMENTS: [Kind; PAYMENT_KIND_COUNT] = [
        Kind::AgreementDebit,
        Kind::GatewayDebit,
        Kind::PayoutCredit,
        Kind::Refund,
    ];

    /// The kind with this code, if any.
    pub fn from_code(code: u8) -> Option<Kind> {
        Kind::ALL.get(usize::from(code)).copied()
    }

    /// A payment institution's request: one of [`Kind::PAYMENTS`].
    #[inline]
    pub fn is_payment(self) -> bool {
        (self as u8) < PAYMENT_KIND_COUNT as u8
    }

    /// A payment whose money flows from the bank to the institution.
    #[inline]
    pub fn is_debit(self) -> bool {
        matches!(self, Kind::AgreementDebit | Kind::GatewayDebit)
    }

    /// An event the switch's operator sends: cutover and the three control kinds.
    #[inline]
    pub fn is_operator(self) -> bool {
        matches!(
            self,
            Kind::Cutover | Kind::ParticipantStatus | Kind::LinkStatus | Kind::RouteChange
        )
    }

    /// The index of a payment kind into per-kind tables; `None` for other kinds.
    #[inline]
    pub fn payment_index(self) -> Option<usize> {
        self.is_payment().then_some(self as usize)
    }

    /// The snake_case name used in configuration files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::AgreementDebit => "agreement_debit",
            Kind::GatewayDebit => "gateway_debit",
            Kind::PayoutCredit => "payout_credit",
            Kind::Refund => "refund",
            Kind::BankReply => "bank_reply",
            Kind::Cutover => "cutover",
            Kind::ParticipantStatus => "participant_status",
            Kind::LinkStatus => "link_status",
            Kind::RouteChange => "route_change",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A set of payment kinds, as a bit per kind: what a participant is allowed to send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct KindSet(u8);

impl KindSet {
    /// No kinds.
    pub const NONE: KindSet = KindSet(0);
    /// All four payment kinds.
    pub const PAYMENTS: KindSet = KindSet(0b1111);

    /// This set with `kind` added; only payment kinds can be added.
    pub fn with(self, kind: Kind) -> KindSet {
        match kind.payment_index() {
            Some(index) => KindSet(self.0 | 1 << index),
            None => self,
        }
    }

    /// Whether `kind` is in the set.
    #[inline]
    pub fn contains(self, kind: Kind) -> bool {
        kind.payment_index()
            .is_some_and(|index| self.0 & (1 << index) != 0)
    }
}

impl FromIterator<Kind> for KindSet {
    fn from_iter<T: IntoIterator<Item = Kind>>(iter: T) -> Self {
        iter.into_iter().fold(KindSet::NONE, KindSet::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_none() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_code(kind as u8), Some(kind));
        }
        assert_eq!(Kind::from_code(9), None);
        assert_eq!(Kind::from_code(255), None);
    }

    #[test]
    fn kind_sets_hold_payment_kinds_only() {
        let set: KindSet = [Kind::AgreementDebit, Kind::Refund, Kind::Cutover]
            .into_iter()
            .collect();
        assert!(set.contains(Kind::AgreementDebit));
        assert!(set.contains(Kind::Refund));
        assert!(!set.contains(Kind::GatewayDebit));
        assert!(!set.contains(Kind::Cutover));
        assert!(KindSet::PAYMENTS.contains(Kind::PayoutCredit));
    }
}
