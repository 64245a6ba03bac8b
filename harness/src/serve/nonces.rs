//! [`Nonces`]: the HELLO nonces each participant has used lately, so a recorded HELLO cannot be
//! played again.

use std::collections::VecDeque;

use clearway_core::event::ParticipantId;
use rustc_hash::FxHashMap;

use crate::constants::HELLO_NONCES_REMEMBERED;

/// The last [`HELLO_NONCES_REMEMBERED`] nonces per participant. Kept in memory only: a restarted
/// node forgets them (docs/PROTOCOL.md says so).
#[derive(Default)]
pub struct Nonces {
    seen: FxHashMap<ParticipantId, VecDeque<u64>>,
}

impl Nonces {
    /// Remembers `nonce` for `participant`; false if it was used already.
    pub fn first_use(&mut self, participant: ParticipantId, nonce: u64) -> bool {
        let seen = self.seen.entry(participant).or_default();
        if seen.contains(&nonce) {
            return false;
        }
        if seen.len() == HELLO_NONCES_REMEMBERED {
            seen.pop_front();
        }
        seen.push_back(nonce);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_taken_once_per_participant_and_the_oldest_is_forgotten() {
        let mut nonces = Nonces::default();
        assert!(nonces.first_use(ParticipantId(1), 10));
        assert!(!nonces.first_use(ParticipantId(1), 10));
        assert!(
            nonces.first_use(ParticipantId(2), 10),
            "another participant's own"
        );
        for nonce in 11..11 + HELLO_NONCES_REMEMBERED as u64 {
            assert!(nonces.first_use(ParticipantId(1), nonce));
        }
        assert!(
            nonces.first_use(ParticipantId(1), 10),
            "forgotten after as many newer ones"
        );
    }
}
