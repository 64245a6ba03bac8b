//! [`Network::fingerprint`]: SHA-256 over a canonical byte serialization of everything in the
//! network the stages read, so that a snapshot or a journal can name the network it was made
//! with, and a node refuse one made with another.
//!
//! # Serialization
//!
//! Integers little-endian; a byte string is its length (`u32`) and its bytes; a list is its
//! length (`u32`) and its items, in the network's order. In order:
//!
//! 1. the tag `clearway network fingerprint v1` (a byte string), so the format can change;
//! 2. the operator secret;
//! 3. the participants, each: id (`u16`), name, role (`u8`: 0 institution, 1 bank), status
//!    (`u8`: 0 active, 1 suspended), kinds (`u8`, bit `i` for [`Kind::PAYMENTS`]`[i]`), the four
//!    per-kind limits (`u64` each), cap (`u64`), secret, links (each: name, up as `u8`), link
//!    strategy (`u8`: 0 primary-secondary, 1 round-robin);
//! 4. the BIN prefixes, each: prefix, bank (`u16`).
//!
//! Every field is written, including those no stage decides by (participant and link names,
//! which appear in reports): two networks with one fingerprint are the same network.

use sha2::{Digest, Sha256};

use super::{LinkStrategy, Network, Role, Status};
use crate::event::Kind;

/// The tag the serialization opens with.
const TAG: &[u8] = b"clearway network fingerprint v1";

/// Feeds the serialization to a hash.
struct Canonical(Sha256);

impl Canonical {
    fn u8(&mut self, value: u8) {
        self.0.update([value]);
    }

    fn u16(&mut self, value: u16) {
        self.0.update(value.to_le_bytes());
    }

    fn u64(&mut self, value: u64) {
        self.0.update(value.to_le_bytes());
    }

    fn count(&mut self, count: usize) {
        // A network of 2^32 participants or bytes is not a network any loader builds; hashing
        // the low bits would still be deterministic, but two lengths must never alias.
        let count = u32::try_from(count).expect("a network list or string under 4 GiB");
        self.0.update(count.to_le_bytes());
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.count(bytes.len());
        self.0.update(bytes);
    }
}

impl Network {
    /// SHA-256 over the canonical serialization of the network (the module documentation gives
    /// it): equal for equal networks, different for networks that differ in any field.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut hash = Canonical(Sha256::new());
        hash.bytes(TAG);
        hash.bytes(&self.operator_secret);
        hash.count(self.participants.len());
        for participant in &self.participants {
            hash.u16(participant.id.0);
            hash.bytes(participant.name.as_bytes());
            hash.u8(match participant.role {
                Role::Institution => 0,
                Role::Bank => 1,
            });
            hash.u8(match participant.status {
                Status::Active => 0,
                Status::Suspended => 1,
            });
            let kinds = Kind::PAYMENTS
                .iter()
                .enumerate()
                .filter(|(_, &kind)| participant.kinds.contains(kind))
                .fold(0u8, |bits, (index, _)| bits | 1 << index);
            hash.u8(kinds);
            for limit_fen in participant.limits_fen {
                hash.u64(limit_fen);
            }
            hash.u64(participant.cap_fen);
            hash.bytes(&participant.secret);
            hash.count(participant.links.len());
            for link in &participant.links {
                hash.bytes(link.name.as_bytes());
                hash.u8(u8::from(link.up));
            }
            hash.u8(match participant.link_strategy {
                LinkStrategy::PrimarySecondary => 0,
                LinkStrategy::RoundRobin => 1,
            });
        }
        hash.count(self.bins.len());
        for bin in &self.bins {
            hash.bytes(bin.prefix.as_bytes());
            hash.u16(bin.bank.0);
        }
        hash.0.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{KindSet, ParticipantId};
    use crate::network::{BinPrefix, Link, Participant};

    fn network() -> Network {
        let participant = |id: u16, role: Role, links: usize| Participant {
            id: ParticipantId(id),
            name: format!("participant-{id}"),
            role,
            status: Status::Active,
            kinds: if role == Role::Bank {
                KindSet::NONE
            } else {
                KindSet::PAYMENTS
            },
            limits_fen: [100, 200, 300, 400],
            cap_fen: 1_000,
            secret: format!("secret-{id}").into_bytes(),
            links: (0..links)
                .map(|index| Link {
                    name: format!("dc-{index}"),
                    up: true,
                })
                .collect(),
            link_strategy: LinkStrategy::PrimarySecondary,
        };
        Network {
            operator_secret: b"operator".to_vec(),
            participants: vec![
                participant(1, Role::Institution, 0),
                participant(11, Role::Bank, 2),
            ],
            bins: vec![BinPrefix {
                prefix: "622202".to_string(),
                bank: ParticipantId(11),
            }],
        }
    }

    #[test]
    fn every_field_changes_the_fingerprint() {
        let base = network();
        let fingerprint = base.fingerprint();
        assert_eq!(network().fingerprint(), fingerprint, "deterministic");
        type Change = fn(&mut Network);
        #[rustfmt::skip]
        let changes: &[(&str, Change)] = &[
            ("operator secret", |n| n.operator_secret.push(b'x')),
            ("participant id", |n| n.participants[0].id = ParticipantId(2)),
            ("participant name", |n| n.participants[0].name.push('x')),
            ("role", |n| n.participants[0].role = Role::Bank),
            ("status", |n| n.participants[1].status = Status::Suspended),
            ("kinds", |n| n.participants[0].kinds = KindSet::NONE.with(Kind::Refund)),
            ("limit", |n| n.participants[0].limits_fen[3] += 1),
            ("cap", |n| n.participants[1].cap_fen += 1),
            ("secret", |n| n.participants[1].secret[0] ^= 1),
            ("link name", |n| n.participants[1].links[1].name.push('x')),
            ("link up", |n| n.participants[1].links[0].up = false),
            ("link added", |n| n.participants[1].links.push(Link { name: "dc-2".into(), up: true })),
            ("link strategy", |n| n.participants[1].link_strategy = LinkStrategy::RoundRobin),
            ("participant removed", |n| { n.participants.pop(); }),
            ("prefix", |n| n.bins[0].prefix.push('1')),
            ("prefix's bank", |n| n.bins[0].bank = ParticipantId(1)),
            ("prefix removed", |n| n.bins.clear()),
        ];
        for (description, change) in changes {
            let mut changed = network();
            change(&mut changed);
            assert_ne!(changed.fingerprint(), fingerprint, "{description}");
        }
    }
}
