//! The network the switch serves: [`Network`], its participants (institutions and banks, with
//! keys, limits, caps and links), its BIN table and its operator key. Loaded from a TOML file
//! (docs/CONFIG.md) or generated to echo the real network's shape.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `participant.rs` | [`Participant`], [`Role`], [`Status`], [`Link`], [`LinkStrategy`], [`BinPrefix`] |
//! | `config.rs` | [`Network::from_toml`] and [`Network::load`]: the network file, refusals by line |
//! | `validate.rs` | [`Network::validate`]: the rules every network follows; [`ConfigError`] |
//! | `generate.rs` | [`Network::generated`]: the default network, NetsUnion's shape at the end of 2018 |
//! | `fingerprint.rs` | [`Network::fingerprint`]: SHA-256 of everything in the network, to refuse state made with another |

mod config;
mod fingerprint;
mod generate;
mod participant;
mod validate;

pub use participant::{BinPrefix, Link, LinkStrategy, Participant, Role, Status};
pub use validate::{prefix_well_formed, ConfigError, ConfigProblem};

use crate::event::{MacKey, ParticipantId};

/// Everything the stages need to know about the network at start. Immutable once built: stages
/// copy what they change (status, links, routes) into their own state.
#[derive(Clone, Debug)]
pub struct Network {
    /// The secret the operator signs cutovers and control events with.
    pub operator_secret: Vec<u8>,
    /// Every institution and bank, in id order.
    pub participants: Vec<Participant>,
    /// The BIN table.
    pub bins: Vec<BinPrefix>,
}

impl Network {
    /// The participant with `id`, if any.
    pub fn participant(&self, id: ParticipantId) -> Option<&Participant> {
        self.participants
            .binary_search_by_key(&id, |participant| participant.id)
            .ok()
            .map(|index| &self.participants[index])
    }

    /// The operator's MAC key.
    pub fn operator_key(&self) -> MacKey {
        MacKey::new(&self.operator_secret)
    }

    /// The institutions, in id order.
    pub fn institutions(&self) -> impl Iterator<Item = &Participant> {
        self.participants
            .iter()
            .filter(|participant| !participant.is_bank())
    }

    /// The banks, in id order.
    pub fn banks(&self) -> impl Iterator<Item = &Participant> {
        self.participants
            .iter()
            .filter(|participant| participant.is_bank())
    }
}
