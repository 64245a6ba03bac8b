//! [`WindowSchedule`]: when the in-memory window's generations turn, decided from the input alone,
//! so that the prefetch (before the ledger) and the ledger agree on what memory holds.
//!
//! A generation turns when its span of event time has passed, or earlier when it has taken
//! [`WindowSchedule::payments_max`] payment events (so that a generation never outgrows its
//! table at any rate). Both depend only on the events in sequence order, never on what the
//! ledger decided, so the prefetch stage runs its own copy and knows, for every event, from
//! which event time on the ledger still holds every payment it touched
//! ([`WindowSchedule::memory_start_ns`]). The ledger may turn its generations *later* than the
//! schedule says (while the store has not yet written what the oldest generation holds), never
//! earlier, so it always holds at least that much.

use crate::event::Event;

/// See the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowSchedule {
    /// A generation's span of event time, ns.
    pub span_ns: u64,
    /// Payment events a generation takes before it turns regardless of time.
    pub payments_max: u64,
    /// The largest event time seen.
    pub clock_ns: u64,
    /// When the current generation started, event time.
    pub current_start_ns: u64,
    /// When the generation before it started: every payment touched since is in memory.
    pub previous_start_ns: u64,
    /// Payment events in the current generation.
    pub current_payments: u64,
    /// Turns so far.
    pub turns: u64,
}

impl WindowSchedule {
    /// A schedule whose generations span `span_ns` and take at most `payments_max` payments.
    pub fn new(span_ns: u64, payments_max: u64) -> WindowSchedule {
        WindowSchedule {
            span_ns: span_ns.max(1),
            payments_max: payments_max.max(1),
            clock_ns: 0,
            current_start_ns: 0,
            previous_start_ns: 0,
            current_payments: 0,
            turns: 0,
        }
    }

    /// Takes the next event in sequence order: true when a generation turned before it.
    #[inline]
    pub fn observe(&mut self, event: &Event) -> bool {
        self.clock_ns = self.clock_ns.max(event.event_ns);
        let payment = event.kind.is_payment();
        let turned = self.clock_ns >= self.current_start_ns.saturating_add(self.span_ns)
            || (payment && self.current_payments >= self.payments_max);
        if turned {
            self.previous_start_ns = self.current_start_ns;
            self.current_start_ns = self.clock_ns;
            self.current_payments = 0;
            self.turns += 1;
        }
        if payment {
            self.current_payments += 1;
        }
        turned
    }

    /// Event time from which every payment touched is still in the window, ns.
    #[inline]
    pub fn memory_start_ns(&self) -> u64 {
        self.previous_start_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Account, Kind, ParticipantId, TxnId};

    fn at(kind: Kind, event_ns: u64) -> Event {
        let mut event = Event::payment(
            kind,
            TxnId(1),
            ParticipantId(1),
            Account::new(b"6222020200112233445").unwrap(),
            1,
            0,
        );
        event.kind = kind;
        event.event_ns = event_ns;
        event
    }

    #[test]
    fn generations_turn_by_time_or_by_count_whichever_comes_first() {
        let mut schedule = WindowSchedule::new(100, 3);
        assert!(!schedule.observe(&at(Kind::AgreementDebit, 10)));
        assert!(!schedule.observe(&at(Kind::Cutover, 50)));
        assert!(schedule.observe(&at(Kind::AgreementDebit, 100)));
        assert_eq!(
            (schedule.previous_start_ns, schedule.current_start_ns),
            (0, 100)
        );
        assert!(!schedule.observe(&at(Kind::Refund, 110)));
        assert!(!schedule.observe(&at(Kind::PayoutCredit, 120)));
        // The fourth payment of the generation turns it early.
        assert!(schedule.observe(&at(Kind::GatewayDebit, 130)));
        assert_eq!(schedule.memory_start_ns(), 100);
        assert_eq!(schedule.turns, 2);
        // Replies and control events count time, not payments.
        for event_ns in [131, 140, 150] {
            assert!(!schedule.observe(&at(Kind::BankReply, event_ns)));
        }
        // An event time behind the clock does not move it back.
        assert!(!schedule.observe(&at(Kind::BankReply, 5)));
        assert_eq!(schedule.clock_ns, 150);
    }
}
