//! [`Event`]: what ingress writes into a ring slot, and its constructors for each kind.

use super::{Account, Kind, Mac, ParticipantId, TxnId};

/// A bank reply's `code`: the bank approved the payment.
pub const REPLY_APPROVE: u8 = 1;
/// A bank reply's `code`: the bank declined the payment.
pub const REPLY_DECLINE: u8 = 2;
/// A participant status event's `code`: the participant may send and be routed to.
pub const STATUS_ACTIVE: u8 = 0;
/// A participant status event's `code`: the participant's events are declined.
pub const STATUS_SUSPENDED: u8 = 1;
/// In a link status event's `code`: the bit that says the link is up.
pub const LINK_UP: u8 = 0x80;
/// A route change event's `code`: the prefix now routes to `counterparty`.
pub const ROUTE_ADD: u8 = 1;
/// A route change event's `code`: the prefix no longer routes.
pub const ROUTE_REMOVE: u8 = 0;

/// One event as ingress wrote it: read-only once published. 112 bytes; with its
/// [`Results`](super::Results) it fills a 128-byte slot (two cache lines).
///
/// Every field but `sequence` and `event_ns` is the sender's, and the MAC covers exactly those
/// ([`Event::signed_bytes`]); `sequence` and `event_ns` are stamped by the switch's ingress, and
/// event time is the only time the stages ever see, which keeps them deterministic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// The payment's id; for a reply, the id of the payment answered. The ledger's idempotency
    /// key.
    pub txn_id: TxnId,
    /// A refund's original payment; [`TxnId::NONE`] otherwise.
    pub original: TxnId,
    /// The ring sequence, stamped by ingress when it publishes.
    pub sequence: u64,
    /// Event time: nanoseconds on the switch's clock when ingress took the event. Timeouts and
    /// expiry run on it, never on a thread's own clock.
    pub event_ns: u64,
    /// The sender's own send time, nanoseconds on the sender's clock; a load generator stamps the
    /// payment's *intended* send time, so latency counted from it includes any stall.
    pub sent_ns: u64,
    /// Amount in fen (0.01 yuan), integer; for control events, zero.
    pub amount_fen: u64,
    /// The MAC over [`Event::signed_bytes`] with the sender's key.
    pub mac: Mac,
    /// The bank-side account number; for a route change, the prefix.
    pub account: Account,
    /// Who sent it: an institution, a bank (replies) or the operator (cutover, control).
    pub sender: ParticipantId,
    /// For control events, the participant concerned; otherwise unused (zero).
    pub counterparty: ParticipantId,
    /// What it is.
    pub kind: Kind,
    /// Kind-specific: a reply's approve or decline, a status, a link and its state, a route
    /// change's add or remove.
    pub code: u8,
}

/// The length of [`Event::signed_bytes`].
pub const SIGNED_LENGTH: usize =
    16 + 16 + 8 + 8 + crate::constants::ACCOUNT_LENGTH_MAX + 1 + 2 + 2 + 1 + 1;

impl Event {
    /// The fields the sender's MAC covers, in a fixed little-endian layout: everything the sender
    /// wrote except the MAC itself.
    pub fn signed_bytes(&self) -> [u8; SIGNED_LENGTH] {
        let mut bytes = [0u8; SIGNED_LENGTH];
        let (account, length) = self.account.raw();
        let mut at = 0;
        let mut put = |part: &[u8]| {
            bytes[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        };
        put(&self.txn_id.0.to_le_bytes());
        put(&self.original.0.to_le_bytes());
        put(&self.sent_ns.to_le_bytes());
        put(&self.amount_fen.to_le_bytes());
        put(&account);
        put(&[length]);
        put(&self.sender.0.to_le_bytes());
        put(&self.counterparty.0.to_le_bytes());
        put(&[self.kind as u8, self.code]);
        bytes
    }

    /// A payment request, unsigned: `kind` must be one of [`Kind::PAYMENTS`]; a refund also needs
    /// [`Event::original`] set.
    pub fn payment(
        kind: Kind,
        txn_id: TxnId,
        sender: ParticipantId,
        account: Account,
        amount_fen: u64,
        sent_ns: u64,
    ) -> Event {
        Event {
            kind,
            txn_id,
            sender,
            account,
            amount_fen,
            sent_ns,
            ..Event::default()
        }
    }

    /// A bank's reply about payment `txn_id`, unsigned.
    pub fn bank_reply(
        bank: ParticipantId,
        txn_id: TxnId,
        approve: bool,
        amount_fen: u64,
        sent_ns: u64,
    ) -> Event {
        Event {
            kind: Kind::BankReply,
            txn_id,
            sender: bank,
            amount_fen,
            sent_ns,
            code: if approve {
                REPLY_APPROVE
            } else {
                REPLY_DECLINE
            },
            ..Event::default()
        }
    }

    /// An operator event of `kind` about `counterparty`, unsigned.
    pub fn operator(kind: Kind, counterparty: ParticipantId, code: u8, sent_ns: u64) -> Event {
        Event {
            kind,
            sender: ParticipantId::OPERATOR,
            counterparty,
            code,
            sent_ns,
            ..Event::default()
        }
    }

    /// This event with `original` set: a refund's original payment.
    pub fn with_original(mut self, original: TxnId) -> Event {
        self.original = original;
        self
    }
}
