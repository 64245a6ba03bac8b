//! [`Route::save`] and [`Route::restore`]: route's live view of the network — each
//! participant's status, each bank's links and round-robin position, the BIN table as route
//! changes left it — in the saved-state format ([`StateWriter`]), for a snapshot.
//!
//! What route copied from the network and never changes (roles, link strategies, link counts)
//! is not saved but checked: a restore starts from [`Route::new`] for the network it is given,
//! and refuses state whose participants or links differ from that network's.
//!
//! # Format
//!
//! 1. participant count (`u32`); per participant, in increasing id order: id (`u16`), status
//!    (`u8`: 0 active, 1 suspended), link count (`u8`), links up (`u8`, bit `i` for link `i`),
//!    round-robin next link (`u8`);
//! 2. BIN prefix count (`u32`); per prefix, in increasing byte order: the prefix (length-prefixed
//!    ASCII digits) and its bank (`u16`).

use crate::event::ParticipantId;
use crate::network::{BinPrefix, Network, Role, Status};
use crate::stage::state::{StateError, StateReader, StateWriter};
use crate::stage::BinTable;

use super::{ParticipantState, Route};

/// The bytes one participant takes: id, status, link count, links up, next link.
const PARTICIPANT_SIZE: usize = 2 + 1 + 1 + 1 + 1;

/// The fewest bytes one BIN prefix takes: a length, six digits, a bank.
const PREFIX_SIZE_MIN: usize = 4 + 6 + 2;

/// What a refusal caused by a different network says.
const ANOTHER_NETWORK: &str = "the state was saved with another network";

impl Route {
    /// Appends route's state to `out` (the module documentation gives the format).
    pub fn save(&self, out: &mut StateWriter) {
        let participants: Vec<(usize, &ParticipantState)> = self.participants_in_network();
        out.write_count(participants.len());
        for (index, state) in participants {
            out.write_u16(index as u16);
            out.write_u8(match state.status {
                Status::Active => 0,
                Status::Suspended => 1,
            });
            out.write_u8(state.links.count);
            out.write_u8(state.links.up);
            out.write_u8(state.links.next);
        }
        out.write_count(self.bins.len());
        for row in self.bins.prefixes() {
            out.write_bytes(row.prefix.as_bytes());
            out.write_u16(row.bank.0);
        }
    }

    /// Route for `network` in the state [`Route::save`] wrote; refused if the state is malformed
    /// or was saved with a network whose participants or links differ.
    pub fn restore(network: &Network, input: &mut StateReader) -> Result<Route, StateError> {
        let mut route = Route::new(network);
        let expected: Vec<usize> = route
            .participants_in_network()
            .into_iter()
            .map(|(index, _)| index)
            .collect();
        let count = input.read_count("route's participant count", PARTICIPANT_SIZE)?;
        if count != expected.len() {
            return Err(StateError::new(
                "route's participant count",
                format!(
                    "{ANOTHER_NETWORK}: it holds {count} participants, this network {}",
                    expected.len()
                ),
            ));
        }
        for (position, &index) in expected.iter().enumerate() {
            route.restore_participant(position, index, input)?;
        }
        route.bins = route.restore_bins(input)?;
        Ok(route)
    }

    /// The participants (not the operator, not unused ids), by index, in increasing id order.
    fn participants_in_network(&self) -> Vec<(usize, &ParticipantState)> {
        self.participants
            .iter()
            .enumerate()
            .filter(|(_, state)| state.role.is_some())
            .collect()
    }

    /// Reads the `position`th participant, which this network says has id index `index`.
    fn restore_participant(
        &mut self,
        position: usize,
        index: usize,
        input: &mut StateReader,
    ) -> Result<(), StateError> {
        let what = || format!("route's participant {position}");
        let id = input.read_u16("a participant's id")?;
        if usize::from(id) != index {
            return Err(StateError::new(
                what(),
                format!("{ANOTHER_NETWORK}: it has id {id} where this network has id {index}"),
            ));
        }
        let status = match input.read_u8("a participant's status")? {
            0 => Status::Active,
            1 => Status::Suspended,
            code => {
                return Err(StateError::new(
                    what(),
                    format!("participant {id}'s status code {code} is neither 0 nor 1"),
                ))
            }
        };
        let link_count = input.read_u8("a participant's link count")?;
        let up = input.read_u8("a participant's links up")?;
        let next = input.read_u8("a participant's next link")?;
        let state = &mut self.participants[index];
        if link_count != state.links.count {
            return Err(StateError::new(
                what(),
                format!(
                    "{ANOTHER_NETWORK}: participant {id} has {link_count} links, in this \
                     network {}",
                    state.links.count
                ),
            ));
        }
        // Links::choose shifts by `next` and only ever sets bits below the count.
        let links_mask = ((1u16 << link_count) - 1) as u8;
        if up & !links_mask != 0 {
            return Err(StateError::new(
                what(),
                format!("participant {id} has {link_count} links but bits {up:#010b} up"),
            ));
        }
        if next >= link_count.max(1) {
            return Err(StateError::new(
                what(),
                format!("participant {id}'s next link {next} is not one of its {link_count}"),
            ));
        }
        state.status = status;
        state.links.up = up;
        state.links.next = next;
        Ok(())
    }

    /// Reads the BIN table: prefixes in increasing order, each routed to a bank of this network.
    fn restore_bins(&self, input: &mut StateReader) -> Result<BinTable, StateError> {
        let count = input.read_count("route's BIN prefix count", PREFIX_SIZE_MIN)?;
        let mut rows: Vec<BinPrefix> = Vec::with_capacity(count);
        for position in 0..count {
            let what = || format!("route's BIN prefix {position}");
            let prefix = input.read_bytes("a BIN prefix")?;
            let bank = ParticipantId(input.read_u16("a BIN prefix's bank")?);
            if !BinTable::is_prefix(prefix) {
                return Err(StateError::new(
                    what(),
                    format!("{prefix:?} is not 6 to 10 ASCII digits"),
                ));
            }
            if rows
                .last()
                .is_some_and(|last| last.prefix.as_bytes() >= prefix)
            {
                return Err(StateError::new(
                    what(),
                    "the prefixes are not in increasing order, as a save writes them",
                ));
            }
            let is_bank = self
                .participants
                .get(bank.index())
                .is_some_and(|state| state.role == Some(Role::Bank));
            if !is_bank {
                return Err(StateError::new(
                    what(),
                    format!("{ANOTHER_NETWORK}: its bank {bank} is not a bank in this network"),
                ));
            }
            rows.push(BinPrefix {
                prefix: String::from_utf8_lossy(prefix).into_owned(),
                bank,
            });
        }
        Ok(BinTable::new(&rows))
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::authorize::tests::{
        card, network, payment, BANK_LINKS_DOWN, BANK_PRIMARY, BANK_ROUND_ROBIN, INSTITUTION_ALL,
        INSTITUTION_SUSPENDED,
    };
    use super::*;
    use crate::event::{
        Account, Event, Kind, Results, LINK_UP, ROUTE_ADD, ROUTE_REMOVE, STATUS_ACTIVE,
        STATUS_SUSPENDED,
    };

    fn saved(route: &Route) -> Vec<u8> {
        let mut out = StateWriter::new();
        route.save(&mut out);
        out.into_bytes()
    }

    fn restored(network: &Network, bytes: &[u8]) -> Result<Route, StateError> {
        let mut input = StateReader::new(bytes);
        let route = Route::restore(network, &mut input)?;
        input.finish()?;
        Ok(route)
    }

    fn route_change(prefix: &[u8], bank: ParticipantId, code: u8) -> Event {
        Event {
            account: Account::new(prefix).unwrap(),
            ..Event::operator(Kind::RouteChange, bank, code, 5)
        }
    }

    /// A route changed in every way a control event or a payment can change it.
    fn changed_route() -> Route {
        let mut route = Route::new(&network());
        let events = [
            Event::operator(
                Kind::ParticipantStatus,
                INSTITUTION_ALL,
                STATUS_SUSPENDED,
                5,
            ),
            Event::operator(
                Kind::ParticipantStatus,
                INSTITUTION_SUSPENDED,
                STATUS_ACTIVE,
                5,
            ),
            Event::operator(Kind::LinkStatus, BANK_PRIMARY, 0, 5),
            Event::operator(Kind::LinkStatus, BANK_LINKS_DOWN, 1 | LINK_UP, 5),
            route_change(b"955880", BANK_PRIMARY, ROUTE_ADD),
            route_change(b"6222029901", BANK_LINKS_DOWN, ROUTE_ADD),
            route_change(b"621700", BANK_PRIMARY, ROUTE_REMOVE),
            // Moves the round-robin bank's next link to 1.
            payment(
                Kind::AgreementDebit,
                INSTITUTION_SUSPENDED,
                card("62220299"),
                1,
            ),
        ];
        for event in &events {
            let mut results = Results::default();
            route.route(event, &mut results);
            assert_eq!(results.decline, None, "{event:?}");
        }
        route
    }

    #[test]
    fn a_changed_route_round_trips_and_saves_the_same_bytes() {
        let route = changed_route();
        let bytes = saved(&route);
        let back = restored(&network(), &bytes).unwrap();
        assert_eq!(back.participants, route.participants);
        assert_eq!(
            back.bins.prefixes().collect::<Vec<_>>(),
            route.bins.prefixes().collect::<Vec<_>>()
        );
        assert_eq!(saved(&back), bytes);
        assert_ne!(
            bytes,
            saved(&Route::new(&network())),
            "the changes are saved"
        );
        assert_eq!(back.bank_for(b"9558800000000000"), Some(BANK_PRIMARY));
        assert_eq!(back.bank_for(b"6217000000000000"), None);
        assert_eq!(back.participants[BANK_ROUND_ROBIN.index()].links.next, 1);
    }

    #[test]
    fn state_from_another_network_is_refused() {
        let bytes = saved(&changed_route());
        let mut fewer = network();
        fewer.participants.pop();
        let mut other_id = network();
        other_id.participants[0].id = ParticipantId(9);
        other_id
            .participants
            .sort_by_key(|participant| participant.id);
        let mut more_links = network();
        let link = more_links.participants[3].links[0].clone();
        more_links.participants[3].links.push(link);
        let mut no_such_bank = network();
        no_such_bank
            .participants
            .retain(|p| p.id != BANK_LINKS_DOWN);
        no_such_bank.bins.retain(|bin| bin.bank != BANK_LINKS_DOWN);
        // (description, network, what the refusal names)
        let rows = [
            ("a participant fewer", fewer, "participant count"),
            ("a participant with another id", other_id, "participant 0"),
            ("a bank with another link", more_links, "participant 3"),
            ("a bank fewer", no_such_bank, "participant count"),
        ];
        for (description, network, what) in rows {
            let error = restored(&network, &bytes).expect_err(description);
            assert!(error.what.contains(what), "{description}: {error}");
            assert!(
                error.why.contains("another network"),
                "{description}: {error}"
            );
        }
    }

    #[test]
    fn malformed_state_is_refused_with_what_was_wrong() {
        let good = saved(&changed_route());
        // Participant 3 is BANK_PRIMARY (two links); its fields start after the count.
        let at = 4 + 3 * PARTICIPANT_SIZE;
        // (description, byte offset, new value, words in the refusal)
        let rows: &[(&str, usize, u8, &str)] = &[
            ("a status code of 2", at + 2, 2, "status code 2"),
            ("a link up beyond the count", at + 4, 0b100, "bits"),
            ("a next link beyond the count", at + 5, 2, "next link 2"),
            (
                "a prefix that is not digits",
                good.len() - 3,
                b'x',
                "ASCII digits",
            ),
        ];
        for &(description, offset, value, words) in rows {
            let mut bytes = good.clone();
            bytes[offset] = value;
            let error = restored(&network(), &bytes).expect_err(description);
            assert!(error.why.contains(words), "{description}: {error}");
        }
        let mut bytes = good.clone();
        bytes.push(0);
        assert!(restored(&network(), &bytes).is_err(), "a byte left over");
        for length in 0..good.len() {
            assert!(
                restored(&network(), &good[..length]).is_err(),
                "cut at {length}"
            );
        }
    }

    #[test]
    fn prefixes_out_of_order_or_routed_to_an_institution_are_refused() {
        let route = Route::new(&network());
        let write = |prefixes: &[(&[u8], ParticipantId)]| {
            let mut out = StateWriter::new();
            let mut bins_free = StateWriter::new();
            Route {
                bins: BinTable::new(&[]),
                ..route.clone()
            }
            .save(&mut bins_free);
            let mut bytes = bins_free.into_bytes();
            bytes.truncate(bytes.len() - 4);
            out.write_array(&bytes);
            out.write_count(prefixes.len());
            for (prefix, bank) in prefixes {
                out.write_bytes(prefix);
                out.write_u16(bank.0);
            }
            out.into_bytes()
        };
        let ordered = write(&[(b"622202", BANK_PRIMARY), (b"6222021", BANK_PRIMARY)]);
        assert_eq!(restored(&network(), &ordered).unwrap().bins.len(), 2);
        // (description, the prefixes saved, words in the refusal)
        type Row<'a> = (&'a str, &'a [(&'a [u8], ParticipantId)], &'a str);
        let rows: &[Row] = &[
            (
                "out of order",
                &[(b"6222021", BANK_PRIMARY), (b"622202", BANK_PRIMARY)],
                "increasing order",
            ),
            (
                "twice",
                &[(b"622202", BANK_PRIMARY), (b"622202", BANK_PRIMARY)],
                "increasing order",
            ),
            (
                "to an institution",
                &[(b"622202", INSTITUTION_ALL)],
                "not a bank",
            ),
            (
                "too short",
                &[(b"62220", BANK_PRIMARY), (b"6222021", BANK_PRIMARY)],
                "6 to 10",
            ),
        ];
        for (description, prefixes, words) in rows {
            let error = restored(&network(), &write(prefixes)).expect_err(description);
            assert!(error.why.contains(words), "{description}: {error}");
        }
    }
}
