//! [`Incident`]: something the operator reports during a load, at a set moment: a bank's links
//! going down, or coming back.

use clearway_core::event::ParticipantId;
use clearway_core::network::Network;
use serde::{Deserialize, Serialize};

/// Whether links go down or come back up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// Every link of the bank goes down: route fails its payments over, or declines them
    /// `BankUnavailable`.
    Down,
    /// Every link comes back.
    Up,
}

/// At `at_s` seconds into the load, every link of `bank` goes `links`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// Seconds from the start of the load (warm-up included).
    pub at_s: f64,
    /// The bank's participant id (the generated network numbers banks from 1001, largest first).
    pub bank: u16,
    /// `down` or `up`.
    pub links: LinkState,
}

impl Incident {
    /// Refuses an incident that names no bank of `network` or no moment of the load; `index` is
    /// its place in the file, for the message.
    pub fn check(&self, index: usize, network: &Network, load_s: f64) -> Result<(), String> {
        if !(self.at_s.is_finite() && self.at_s >= 0.0 && self.at_s < load_s) {
            return Err(format!(
                "incidents[{index}].at_s: {} is not a moment of the load (0 to {load_s} s)",
                self.at_s
            ));
        }
        match network.participant(ParticipantId(self.bank)) {
            Some(participant) if participant.is_bank() && !participant.links.is_empty() => Ok(()),
            Some(_) => Err(format!(
                "incidents[{index}].bank: participant {} is not a bank with links",
                self.bank
            )),
            None => Err(format!(
                "incidents[{index}].bank: the network has no participant {}",
                self.bank
            )),
        }
    }
}
