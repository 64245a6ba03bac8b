//! The event model: [`Event`], what ingress writes into a ring slot, and [`Results`], what the
//! stages write beside it. Together they are one 128-byte [`SwitchSlot`].
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `event.rs` | [`Event`] and its constructors, the codes of replies and control events |
//! | `results.rs` | [`Results`], each stage's fields |
//! | `kind.rs` | [`Kind`]: the four payment kinds, bank reply, cutover, control; [`KindSet`] |
//! | `decline.rs` | [`Decline`]: every refusal by name |
//! | `outcome.rs` | [`Outcome`]: what the ledger did |
//! | `txn_id.rs` | [`TxnId`]: date + sequence, the idempotency key |
//! | `account.rs` | [`Account`]: the account number as sent, and its format checks |
//! | `participant_id.rs` | [`ParticipantId`] |
//! | `mac.rs` | [`Mac`], [`MacKey`], [`MacMode`]: HMAC-SHA256 |

mod account;
mod decline;
#[allow(clippy::module_inception)]
mod event;
mod kind;
mod mac;
mod outcome;
mod participant_id;
mod results;
mod txn_id;

pub use account::{luhn_check_digit, Account, AccountTooLong};
pub use decline::{Decline, DECLINE_COUNT};
pub use event::{
    Event, LINK_UP, REPLY_APPROVE, REPLY_DECLINE, ROUTE_ADD, ROUTE_REMOVE, SIGNED_LENGTH,
    STATUS_ACTIVE, STATUS_SUSPENDED,
};
pub use kind::{Kind, KindSet, PAYMENT_KIND_COUNT};
pub use mac::{Mac, MacKey, MacMode};
pub use outcome::Outcome;
pub use participant_id::ParticipantId;
pub use results::Results;
pub use txn_id::TxnId;

use crate::ring::Slot;

/// The ring slot the switch runs on.
pub type SwitchSlot = Slot<Event, Results>;

/// The event fits the budget its layout was drawn for: 112 bytes of input and 16 of results, two
/// cache lines a slot.
const _: () = assert!(std::mem::size_of::<Event>() == 112);
const _: () = assert!(std::mem::size_of::<Results>() == 16);
const _: () = assert!(std::mem::size_of::<SwitchSlot>() == 128);
