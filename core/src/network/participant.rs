//! [`Participant`]: an institution or a bank as the switch knows it, with its links.

use serde::{Deserialize, Serialize};

use crate::event::{KindSet, MacKey, ParticipantId, PAYMENT_KIND_COUNT};

/// What a participant is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A payment institution: sends payments, receives answers.
    Institution,
    /// A bank: receives forwarded payments on its links, sends replies.
    Bank,
}

/// Whether a participant's events are taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Taken.
    #[default]
    Active,
    /// Declined (`SenderSuspended`, or `BankUnavailable` for a bank routed to).
    Suspended,
}

/// How route picks among a bank's healthy links.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkStrategy {
    /// The first healthy link in the order listed.
    #[default]
    PrimarySecondary,
    /// The healthy links in turn.
    RoundRobin,
}

/// One line between the switch and a bank.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// For reports: the data centre or line it runs through.
    pub name: String,
    /// Whether it is up at start; link status events change it.
    pub up: bool,
}

/// An institution or a bank.
#[derive(Clone, Debug)]
pub struct Participant {
    /// In `1..=PARTICIPANT_ID_MAX`; 0 is the operator.
    pub id: ParticipantId,
    /// For reports.
    pub name: String,
    /// Institution or bank.
    pub role: Role,
    /// At start; participant status events change it.
    pub status: Status,
    /// The payment kinds an institution may send; empty for a bank.
    pub kinds: KindSet,
    /// The largest amount per payment, in fen, by payment kind ([`crate::event::Kind::PAYMENTS`]
    /// order).
    pub limits_fen: [u64; PAYMENT_KIND_COUNT],
    /// The most the participant may owe: its net debit position plus its pending holds as debtor
    /// stay at or below this. An institution's cap is its reserve.
    pub cap_fen: u64,
    /// The secret its MACs are made with.
    pub secret: Vec<u8>,
    /// A bank's links, in priority order; empty for an institution.
    pub links: Vec<Link>,
    /// A bank's link strategy.
    pub link_strategy: LinkStrategy,
}

impl Participant {
    /// The participant's MAC key, pads pre-hashed.
    pub fn mac_key(&self) -> MacKey {
        MacKey::new(&self.secret)
    }

    /// Whether it is a bank.
    pub fn is_bank(&self) -> bool {
        self.role == Role::Bank
    }
}

/// One row of the BIN table: account numbers starting with `prefix` belong to `bank`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinPrefix {
    /// 6 to 10 ASCII digits.
    pub prefix: String,
    /// A bank's id.
    pub bank: ParticipantId,
}
