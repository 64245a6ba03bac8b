//! [`Routing`]: which connection each event goes out on. An institution's payments go
//! round-robin over its connections, skipping those at WELCOME's in-flight limit; a bank's reply
//! goes on the bank's one connection; operator events go nowhere (the node runs its own
//! cutovers).

use clearway_core::event::{Event, Kind, ParticipantId};

/// Where one event goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// A PAYMENT on this connection; `over_limit` when every open connection of its institution
    /// was at its in-flight limit (the node will answer BUSY).
    Payment {
        /// The connection's index.
        connection: usize,
        /// Whether it was sent past the limit.
        over_limit: bool,
    },
    /// A REPLY on this bank connection.
    Reply {
        /// The connection's index.
        connection: usize,
    },
    /// An operator event (a cutover, a control event): not sent.
    Skipped,
    /// A payment or reply whose participant has no open connection left.
    Unsendable,
}

/// One participant's connections: `first..first + count`, and the next to try.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    first: usize,
    count: usize,
    next: usize,
}

/// Participant → connections. Connections are numbered institutions first (each institution's
/// `per_pi` together), then banks, one each.
#[derive(Debug)]
pub struct Routing {
    /// Indexed by participant id; `count` 0 for ids with no connection.
    slots: Vec<Slot>,
}

impl Routing {
    /// The routing for `institutions` (each with `per_pi` connections) then `banks` (one each).
    pub fn new(institutions: &[ParticipantId], banks: &[ParticipantId], per_pi: usize) -> Routing {
        let largest = institutions
            .iter()
            .chain(banks)
            .map(|id| usize::from(id.0))
            .max()
            .unwrap_or(0);
        let mut slots = vec![Slot::default(); largest + 1];
        for (index, id) in institutions.iter().enumerate() {
            slots[usize::from(id.0)] = Slot {
                first: index * per_pi,
                count: per_pi,
                next: 0,
            };
        }
        let banks_first = institutions.len() * per_pi;
        for (index, id) in banks.iter().enumerate() {
            slots[usize::from(id.0)] = Slot {
                first: banks_first + index,
                count: 1,
                next: 0,
            };
        }
        Routing { slots }
    }

    /// Where `event` goes. `usable(connection)` says whether a connection is still open, and
    /// `has_room(connection)` whether it is under its in-flight limit.
    pub fn route(
        &mut self,
        event: &Event,
        usable: impl Fn(usize) -> bool,
        has_room: impl Fn(usize) -> bool,
    ) -> Route {
        let is_payment = event.kind.is_payment();
        if !is_payment && event.kind != Kind::BankReply {
            return Route::Skipped;
        }
        let Some(slot) = self.slots.get_mut(usize::from(event.sender.0)) else {
            return Route::Unsendable;
        };
        if !is_payment {
            return if slot.count > 0 && usable(slot.first) {
                Route::Reply {
                    connection: slot.first,
                }
            } else {
                Route::Unsendable
            };
        }
        let mut fallback = None;
        for step in 0..slot.count {
            let connection = slot.first + (slot.next + step) % slot.count;
            if !usable(connection) {
                continue;
            }
            if has_room(connection) {
                slot.next = (slot.next + step + 1) % slot.count;
                return Route::Payment {
                    connection,
                    over_limit: false,
                };
            }
            fallback.get_or_insert((step, connection));
        }
        match fallback {
            Some((step, connection)) => {
                slot.next = (slot.next + step + 1) % slot.count;
                Route::Payment {
                    connection,
                    over_limit: true,
                }
            }
            None => Route::Unsendable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clearway_core::event::{Account, TxnId};

    fn payment(sender: u16) -> Event {
        Event::payment(
            Kind::AgreementDebit,
            TxnId::new(20261130, 1),
            ParticipantId(sender),
            Account::new(b"6222020200112233").unwrap(),
            100,
            0,
        )
    }

    fn reply(bank: u16) -> Event {
        Event {
            kind: Kind::BankReply,
            ..payment(bank)
        }
    }

    fn routing() -> Routing {
        // Institutions 1 and 2 with three connections each (0..3, 3..6), banks 10 and 11 (6, 7).
        Routing::new(
            &[ParticipantId(1), ParticipantId(2)],
            &[ParticipantId(10), ParticipantId(11)],
            3,
        )
    }

    fn payment_connection(route: Route) -> usize {
        match route {
            Route::Payment {
                connection,
                over_limit: false,
            } => connection,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn payments_go_round_robin_over_their_institutions_connections() {
        let mut routing = routing();
        let open = |_| true;
        let order: Vec<usize> = (0..4)
            .map(|_| payment_connection(routing.route(&payment(2), open, open)))
            .collect();
        assert_eq!(order, [3, 4, 5, 3]);
        assert_eq!(
            payment_connection(routing.route(&payment(1), open, open)),
            0
        );
    }

    #[test]
    fn replies_go_on_their_banks_connection_and_operator_events_are_skipped() {
        let mut routing = routing();
        let open = |_| true;
        assert_eq!(
            routing.route(&reply(11), open, open),
            Route::Reply { connection: 7 }
        );
        let cutover = Event::operator(Kind::Cutover, ParticipantId::OPERATOR, 0, 5);
        assert_eq!(routing.route(&cutover, open, open), Route::Skipped);
        assert_eq!(routing.route(&payment(99), open, open), Route::Unsendable);
    }

    #[test]
    fn full_connections_are_passed_over_and_when_all_are_full_it_sends_anyway() {
        let mut routing = routing();
        let open = |_| true;
        // Connection 0 is full: institution 1's payments go on 1 and 2.
        let room = |connection| connection != 0;
        assert_eq!(
            payment_connection(routing.route(&payment(1), open, room)),
            1
        );
        assert_eq!(
            payment_connection(routing.route(&payment(1), open, room)),
            2
        );
        assert_eq!(
            payment_connection(routing.route(&payment(1), open, room)),
            1
        );
        // All full: sent past the limit, still round-robin.
        let none = |_| false;
        let first = routing.route(&payment(1), open, none);
        let second = routing.route(&payment(1), open, none);
        assert!(matches!(
            first,
            Route::Payment {
                over_limit: true,
                ..
            }
        ));
        assert_ne!(first, second);
    }

    #[test]
    fn closed_connections_are_never_used() {
        let mut routing = routing();
        let only_4 = |connection| connection == 4;
        for _ in 0..3 {
            assert_eq!(
                payment_connection(routing.route(&payment(2), only_4, |_| true)),
                4
            );
        }
        let closed = |_| false;
        assert_eq!(
            routing.route(&payment(2), closed, closed),
            Route::Unsendable
        );
        assert_eq!(routing.route(&reply(10), closed, closed), Route::Unsendable);
    }
}
