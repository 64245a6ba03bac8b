//! [`InFlight`]: the payments the node has taken and not yet answered, and where each answer goes.

use clearway_core::event::TxnId;
use rustc_hash::FxHashMap;

use crate::constants::NODE_PAYMENTS_IN_FLIGHT_MAX;

/// A connection as the I/O thread knows it: its slot and the generation of the slot's occupant,
/// so an answer for a closed connection never reaches the next one in its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionRef {
    /// The connection's slot (and mio token).
    pub index: u32,
    /// Which occupant of the slot.
    pub generation: u32,
}

/// Where a payment came in, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admitted {
    /// The connection to answer on.
    pub connection: ConnectionRef,
    /// When the node took it, on its clock.
    pub admitted_ns: u64,
}

/// Payments in flight by transaction id, allocated whole at start for
/// [`NODE_PAYMENTS_IN_FLIGHT_MAX`] entries: the door admits no more than that, so it never grows.
pub struct InFlight {
    table: FxHashMap<TxnId, Admitted>,
}

impl Default for InFlight {
    fn default() -> Self {
        InFlight::new()
    }
}

impl InFlight {
    /// Empty, with room for every payment the node may have in flight.
    pub fn new() -> InFlight {
        InFlight {
            table: FxHashMap::with_capacity_and_hasher(
                NODE_PAYMENTS_IN_FLIGHT_MAX,
                Default::default(),
            ),
        }
    }

    /// Payments in flight.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Whether the node may take no more.
    pub fn is_full(&self) -> bool {
        self.table.len() >= NODE_PAYMENTS_IN_FLIGHT_MAX
    }

    /// Records `txn_id` as in flight; false, changing nothing, if it already is.
    pub fn admit(&mut self, txn_id: TxnId, admitted: Admitted) -> bool {
        match self.table.entry(txn_id) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(admitted);
                true
            }
        }
    }

    /// The payment `txn_id`, answered: no longer in flight.
    pub fn take(&mut self, txn_id: TxnId) -> Option<Admitted> {
        self.table.remove(&txn_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(index: u32) -> Admitted {
        Admitted {
            connection: ConnectionRef {
                index,
                generation: 1,
            },
            admitted_ns: 5,
        }
    }

    #[test]
    fn a_payment_is_in_flight_once_until_answered() {
        let mut in_flight = InFlight::new();
        assert!(in_flight.admit(TxnId(7), at(1)));
        assert!(
            !in_flight.admit(TxnId(7), at(2)),
            "a second admit is refused"
        );
        assert_eq!(in_flight.len(), 1);
        assert_eq!(
            in_flight.take(TxnId(7)),
            Some(at(1)),
            "the first connection keeps it"
        );
        assert_eq!(in_flight.take(TxnId(7)), None);
        assert!(in_flight.is_empty());
        assert!(
            in_flight.admit(TxnId(7), at(2)),
            "answered, it may come again"
        );
    }
}
