//! [`ParticipantId`]: who sent an event, or whom it concerns.

use serde::{Deserialize, Serialize};

use crate::constants::PARTICIPANT_ID_MAX;

/// A participant's id: a payment institution, a bank, or the switch's own operator (id 0, which
/// signs cutovers and control events). In `0..=PARTICIPANT_ID_MAX`, so per-participant state is a
/// flat array indexed by id.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ParticipantId(pub u16);

impl ParticipantId {
    /// The switch's operator: the sender of cutovers and control events.
    pub const OPERATOR: ParticipantId = ParticipantId(0);

    /// The id as an index into per-participant tables of `PARTICIPANT_ID_MAX + 1` entries.
    #[inline]
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// Whether the id is in range for per-participant tables.
    #[inline]
    pub fn in_range(self) -> bool {
        self.0 <= PARTICIPANT_ID_MAX
    }
}

impl std::fmt::Display for ParticipantId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}", self.0)
    }
}
