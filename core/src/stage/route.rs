//! [`Route`]: the second payment stage, one thread that sees every event in order. It owns the
//! live view of the network — each participant's status, each bank's links, the BIN table — and
//! changes it only by control events that reached it un-refused (docs/SWITCH.md, "route").
//!
//! A payment gets its bank (the account's longest BIN prefix) and the link to forward it on; a
//! bank reply gets its bank; a refused event passes through untouched.

use crate::constants::{LINKS_PER_BANK_MAX, PARTICIPANT_ID_MAX};
use crate::event::{
    Decline, Event, Kind, ParticipantId, Results, LINK_UP, ROUTE_ADD, ROUTE_REMOVE, STATUS_ACTIVE,
    STATUS_SUSPENDED,
};
use crate::network::{LinkStrategy, Network, Role, Status};
use crate::pipeline::{Handler, StageFault};

use super::BinTable;

mod save;

/// In a link status event's `code`: the bits that hold the link's index.
const LINK_INDEX_MASK: u8 = !LINK_UP;

/// What route knows of one participant id: 6 bytes, so the whole table is 24 KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ParticipantState {
    /// `None` when no participant has this id (the operator's id among them).
    role: Option<Role>,
    status: Status,
    /// A bank's links; none for anyone else.
    links: Links,
}

/// A bank's links as route tracks them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Links {
    /// In `0..=LINKS_PER_BANK_MAX`.
    count: u8,
    /// Bit `i` set: link `i` is up. Only bits below `count` are ever set.
    up: u8,
    strategy: LinkStrategy,
    /// Round robin: the link the next search starts from, in `0..count` (0 before the first
    /// payment): the one after the link used last.
    next: u8,
}

impl Links {
    /// The link the next payment goes on, or `None` when every link is down. Round robin moves
    /// on past the link chosen.
    #[inline]
    fn choose(&mut self) -> Option<u8> {
        if self.up == 0 {
            return None;
        }
        let link = match self.strategy {
            LinkStrategy::PrimarySecondary => self.up.trailing_zeros() as u8,
            LinkStrategy::RoundRobin => {
                // The first up link at or after `next`, else the first up link: wrapping around.
                let from_next = self.up & (u8::MAX << self.next);
                let link = if from_next != 0 {
                    from_next.trailing_zeros()
                } else {
                    self.up.trailing_zeros()
                } as u8;
                self.next = if link + 1 == self.count { 0 } else { link + 1 };
                link
            }
        };
        Some(link)
    }
}

const _: () = assert!(std::mem::size_of::<ParticipantState>() == 6);

/// The route stage.
#[derive(Clone, Debug)]
pub struct Route {
    /// By participant index, `0..=PARTICIPANT_ID_MAX`.
    participants: Box<[ParticipantState]>,
    bins: BinTable,
    /// The [`Network::fingerprint`] of the network it was built for: what saved state names.
    network_fingerprint: [u8; 32],
}

impl Route {
    /// The stage for `network`, with its own copy of the participants' status, the banks' links
    /// and the BIN table.
    ///
    /// # Panics
    ///
    /// If a participant's id is out of range or a bank has more than [`LINKS_PER_BANK_MAX`]
    /// links, or a BIN prefix is not 6 to 10 digits: the configuration loader refuses such a
    /// network, so one reaching here is a bug.
    pub fn new(network: &Network) -> Route {
        let mut participants =
            vec![ParticipantState::default(); usize::from(PARTICIPANT_ID_MAX) + 1]
                .into_boxed_slice();
        for participant in &network.participants {
            let id = participant.id;
            assert!(
                id != ParticipantId::OPERATOR && id.in_range(),
                "participant id {id} is outside 1..={PARTICIPANT_ID_MAX}"
            );
            assert!(
                participant.links.len() <= LINKS_PER_BANK_MAX,
                "bank {id} has {} links, more than {LINKS_PER_BANK_MAX}",
                participant.links.len()
            );
            let up = participant
                .links
                .iter()
                .enumerate()
                .filter(|(_, link)| link.up)
                .fold(0u8, |up, (index, _)| up | 1 << index);
            participants[id.index()] = ParticipantState {
                role: Some(participant.role),
                status: participant.status,
                links: Links {
                    count: participant.links.len() as u8,
                    up,
                    strategy: participant.link_strategy,
                    next: 0,
                },
            };
        }
        Route {
            participants,
            bins: BinTable::new(&network.bins),
            network_fingerprint: network.fingerprint(),
        }
    }

    /// Routes `event`, or applies it if it is a control event; on a rule it fails, refuses it in
    /// `results`. An event an earlier stage refused is left as it is.
    #[inline]
    pub fn route(&mut self, event: &Event, results: &mut Results) {
        if !results.passed() {
            return;
        }
        let routed = match event.kind {
            Kind::AgreementDebit | Kind::GatewayDebit | Kind::PayoutCredit | Kind::Refund => {
                self.route_payment(event, results)
            }
            Kind::BankReply => self.route_reply(event, results),
            Kind::ParticipantStatus => self.set_participant_status(event),
            Kind::LinkStatus => self.set_link_status(event),
            Kind::RouteChange => self.change_route(event),
            Kind::Cutover => Ok(()),
        };
        if let Err(decline) = routed {
            results.refuse(decline);
        }
    }

    /// A participant's status as route sees it now; `None` for an id no participant has.
    pub fn status(&self, id: ParticipantId) -> Option<Status> {
        let state = self.participants.get(id.index())?;
        state.role.map(|_| state.status)
    }

    /// Whether link `index` of `bank` is up now; false for a link or bank that does not exist.
    pub fn link_up(&self, bank: ParticipantId, index: usize) -> bool {
        self.participants.get(bank.index()).is_some_and(|state| {
            index < usize::from(state.links.count) && state.links.up & (1 << index) != 0
        })
    }

    /// The bank `account` routes to now, by its longest BIN prefix.
    pub fn bank_for(&self, account: &[u8]) -> Option<ParticipantId> {
        self.bins.lookup(account)
    }

    /// The BIN table as route holds it now.
    pub fn bins(&self) -> &BinTable {
        &self.bins
    }

    /// The [`Network::fingerprint`] of the network it was built for.
    pub fn network_fingerprint(&self) -> [u8; 32] {
        self.network_fingerprint
    }

    /// Whether `id` is a participant (not the operator) and a bank.
    fn is_bank(&self, id: ParticipantId) -> bool {
        self.state(id)
            .is_some_and(|state| state.role == Some(Role::Bank))
    }

    fn state(&self, id: ParticipantId) -> Option<&ParticipantState> {
        self.participants.get(id.index())
    }

    /// Whether `id` is suspended; an id no participant has is not (authorize refused its
    /// events before they got here).
    #[inline]
    fn is_suspended(&self, id: ParticipantId) -> bool {
        self.state(id)
            .is_some_and(|state| state.status == Status::Suspended)
    }

    /// A payment: the sender active, a bank for the account, the bank active with a link up.
    #[inline]
    fn route_payment(&mut self, event: &Event, results: &mut Results) -> Result<(), Decline> {
        if self.is_suspended(event.sender) {
            return Err(Decline::SenderSuspended);
        }
        let bank = self
            .bins
            .lookup(event.account.as_bytes())
            .ok_or(Decline::NoRoute)?;
        let state = self
            .participants
            .get_mut(bank.index())
            .ok_or(Decline::BankUnavailable)?;
        if state.status == Status::Suspended {
            return Err(Decline::BankUnavailable);
        }
        let link = state.links.choose().ok_or(Decline::BankUnavailable)?;
        results.bank = bank;
        results.link = link;
        Ok(())
    }

    /// A bank reply: the bank active. Correlation is the ledger's.
    #[inline]
    fn route_reply(&self, event: &Event, results: &mut Results) -> Result<(), Decline> {
        if self.is_suspended(event.sender) {
            return Err(Decline::SenderSuspended);
        }
        results.bank = event.sender;
        Ok(())
    }

    /// `counterparty` a participant, `code` a status.
    fn set_participant_status(&mut self, event: &Event) -> Result<(), Decline> {
        let status = match event.code {
            STATUS_ACTIVE => Status::Active,
            STATUS_SUSPENDED => Status::Suspended,
            _ => return Err(Decline::BadControlEvent),
        };
        match self.participants.get_mut(event.counterparty.index()) {
            Some(state) if state.role.is_some() => {
                state.status = status;
                Ok(())
            }
            _ => Err(Decline::BadControlEvent),
        }
    }

    /// `counterparty` a bank, `code & 0x7f` one of its links; up if `code & LINK_UP`.
    fn set_link_status(&mut self, event: &Event) -> Result<(), Decline> {
        if !self.is_bank(event.counterparty) {
            return Err(Decline::BadControlEvent);
        }
        let links = &mut self.participants[event.counterparty.index()].links;
        let index = event.code & LINK_INDEX_MASK;
        if index >= links.count {
            return Err(Decline::BadControlEvent);
        }
        if event.code & LINK_UP != 0 {
            links.up |= 1 << index;
        } else {
            links.up &= !(1 << index);
        }
        Ok(())
    }

    /// `account` a prefix; add routes it to the bank in `counterparty`, remove takes it out.
    fn change_route(&mut self, event: &Event) -> Result<(), Decline> {
        let prefix = event.account.as_bytes();
        if !BinTable::is_prefix(prefix) {
            return Err(Decline::BadControlEvent);
        }
        match event.code {
            ROUTE_ADD if self.is_bank(event.counterparty) => {
                self.bins.insert(prefix, event.counterparty);
                Ok(())
            }
            ROUTE_REMOVE if self.bins.remove(prefix) => Ok(()),
            _ => Err(Decline::BadControlEvent),
        }
    }
}

impl Handler<Event, Results> for Route {
    #[inline]
    fn on_event(
        &mut self,
        event: &Event,
        results: &mut Results,
        _sequence: u64,
        _end_of_batch: bool,
    ) -> Result<(), StageFault> {
        self.route(event, results);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::authorize::tests::{
        card, network, payment, BANK_LINKS_DOWN, BANK_PRIMARY, BANK_ROUND_ROBIN, BANK_SUSPENDED,
        INSTITUTION_ALL, INSTITUTION_SUSPENDED,
    };
    use super::*;
    use crate::event::{Account, TxnId};

    /// What a row expects: the decline, or the bank and link chosen.
    type Expected = Result<(ParticipantId, u8), Decline>;

    /// What a control event that passes expects: no bank, no link.
    const APPLIED: Expected = Ok((ParticipantId(0), 0));

    /// A control event route refuses.
    const BAD: Expected = Err(Decline::BadControlEvent);

    fn routed(route: &mut Route, event: &Event) -> Expected {
        let mut results = Results::default();
        route.route(event, &mut results);
        match results.decline {
            Some(decline) => {
                assert_eq!(
                    (results.bank, results.link),
                    (ParticipantId(0), 0),
                    "a refused event gets no bank"
                );
                Err(decline)
            }
            None => Ok((results.bank, results.link)),
        }
    }

    fn debit(account: Account) -> Event {
        payment(Kind::AgreementDebit, INSTITUTION_ALL, account, 10_000)
    }

    fn debit_to(prefix: &str) -> Event {
        debit(card(prefix))
    }

    fn operator(kind: Kind, counterparty: ParticipantId, code: u8) -> Event {
        Event::operator(kind, counterparty, code, 5)
    }

    fn status(id: ParticipantId, code: u8) -> Event {
        operator(Kind::ParticipantStatus, id, code)
    }

    fn link_status(bank: ParticipantId, index: u8, up: bool) -> Event {
        operator(Kind::LinkStatus, bank, index | if up { LINK_UP } else { 0 })
    }

    fn route_change(prefix: &[u8], bank: ParticipantId, code: u8) -> Event {
        Event {
            account: Account::new(prefix).unwrap(),
            ..operator(Kind::RouteChange, bank, code)
        }
    }

    fn reply(bank: ParticipantId) -> Event {
        Event::bank_reply(bank, TxnId::new(20261130, 7), true, 0, 5)
    }

    /// Runs `rows` in order on one route: each row's event may change what later rows see.
    fn run(route: &mut Route, rows: &[(&str, Event, Expected)]) {
        for (description, event, expected) in rows {
            assert_eq!(routed(route, event), *expected, "{description}");
        }
    }

    #[test]
    fn payments_and_replies_route_or_decline_by_name() {
        use Decline::*;
        let mut route = Route::new(&network());
        let suspended_sender =
            |prefix| payment(Kind::AgreementDebit, INSTITUTION_SUSPENDED, card(prefix), 1);
        #[rustfmt::skip]
        let rows = [
            ("six-digit BIN, primary link", debit_to("622202"), Ok((BANK_PRIMARY, 0))),
            ("nested eight-digit BIN wins", debit_to("62220299"), Ok((BANK_ROUND_ROBIN, 0))),
            ("refund routes like a debit", payment(Kind::Refund, INSTITUTION_ALL, card("622202"), 1), Ok((BANK_PRIMARY, 0))),
            ("twelve-digit account number", debit(Account::new(b"622202020011").unwrap()), Ok((BANK_PRIMARY, 0))),
            ("suspended sender", suspended_sender("622202"), Err(SenderSuspended)),
            ("suspended sender, before the route", suspended_sender("999999"), Err(SenderSuspended)),
            ("no BIN matches", debit_to("999999"), Err(NoRoute)),
            ("bank suspended", debit_to("622848"), Err(BankUnavailable)),
            ("every link down", debit_to("601382"), Err(BankUnavailable)),
            ("reply from a bank", reply(BANK_PRIMARY), Ok((BANK_PRIMARY, 0))),
            ("reply from a bank whose links are down", reply(BANK_LINKS_DOWN), Ok((BANK_LINKS_DOWN, 0))),
            ("reply from a suspended bank", reply(BANK_SUSPENDED), Err(SenderSuspended)),
            ("cutover does nothing", operator(Kind::Cutover, ParticipantId::OPERATOR, 0), APPLIED),
        ];
        run(&mut route, &rows);
    }

    #[test]
    fn control_events_change_what_later_payments_see() {
        use Decline::*;
        let mut route = Route::new(&network());
        #[rustfmt::skip]
        let rows = [
            ("suspend the sender", status(INSTITUTION_ALL, STATUS_SUSPENDED), APPLIED),
            ("its payment is refused", debit_to("622202"), Err(SenderSuspended)),
            ("activate it again", status(INSTITUTION_ALL, STATUS_ACTIVE), APPLIED),
            ("its payment routes", debit_to("622202"), Ok((BANK_PRIMARY, 0))),
            ("suspend the bank", status(BANK_PRIMARY, STATUS_SUSPENDED), APPLIED),
            ("payments to it are refused", debit_to("622202"), Err(BankUnavailable)),
            ("its replies are refused", reply(BANK_PRIMARY), Err(SenderSuspended)),
            ("activate the suspended bank", status(BANK_SUSPENDED, STATUS_ACTIVE), APPLIED),
            ("payments reach it", debit_to("622848"), Ok((BANK_SUSPENDED, 0))),
            ("bring a link of the dark bank up", link_status(BANK_LINKS_DOWN, 1, true), APPLIED),
            ("payments take that link", debit_to("601382"), Ok((BANK_LINKS_DOWN, 1))),
        ];
        run(&mut route, &rows);
        assert_eq!(route.status(INSTITUTION_ALL), Some(Status::Active));
        assert_eq!(route.status(BANK_PRIMARY), Some(Status::Suspended));
        assert_eq!(route.status(ParticipantId::OPERATOR), None);
        assert!(route.link_up(BANK_LINKS_DOWN, 1));
        assert!(!route.link_up(BANK_LINKS_DOWN, 0));
        assert!(!route.link_up(BANK_LINKS_DOWN, 2));
    }

    #[test]
    fn malformed_control_events_are_refused_and_change_nothing() {
        let mut route = Route::new(&network());
        let unknown = ParticipantId(50);
        let beyond = ParticipantId(PARTICIPANT_ID_MAX + 1);
        #[rustfmt::skip]
        let rows = [
            ("status of the operator", status(ParticipantId::OPERATOR, STATUS_SUSPENDED), BAD),
            ("status of an unknown id", status(unknown, STATUS_SUSPENDED), BAD),
            ("status of an id beyond the range", status(beyond, STATUS_SUSPENDED), BAD),
            ("status code neither active nor suspended", status(INSTITUTION_ALL, 2), BAD),
            ("link of an institution", link_status(INSTITUTION_ALL, 0, false), BAD),
            ("link of an unknown id", link_status(unknown, 0, false), BAD),
            ("link of the operator", link_status(ParticipantId::OPERATOR, 0, false), BAD),
            ("link index past the bank's links", link_status(BANK_PRIMARY, 2, false), BAD),
            ("link index 127", operator(Kind::LinkStatus, BANK_PRIMARY, 0x7f), BAD),
            ("route prefix of five digits", route_change(b"62220", BANK_PRIMARY, ROUTE_ADD), BAD),
            ("route prefix of eleven digits", route_change(b"62220299011", BANK_PRIMARY, ROUTE_ADD), BAD),
            ("route prefix with a letter", route_change(b"62220a", BANK_PRIMARY, ROUTE_ADD), BAD),
            ("route to an institution", route_change(b"955880", INSTITUTION_ALL, ROUTE_ADD), BAD),
            ("route to the operator", route_change(b"955880", ParticipantId::OPERATOR, ROUTE_ADD), BAD),
            ("route to an unknown id", route_change(b"955880", unknown, ROUTE_ADD), BAD),
            ("remove a prefix not in the table", route_change(b"955880", BANK_PRIMARY, ROUTE_REMOVE), BAD),
            ("remove a path that is no prefix", route_change(b"6222029", BANK_PRIMARY, ROUTE_REMOVE), BAD),
            ("route code neither add nor remove", route_change(b"955880", BANK_PRIMARY, 2), BAD),
        ];
        run(&mut route, &rows);
        let untouched = Route::new(&network());
        assert_eq!(route.participants, untouched.participants);
        assert_eq!(route.bins().len(), untouched.bins().len());
        assert_eq!(route.bank_for(b"9558800000000000"), None);
    }

    #[test]
    fn primary_secondary_fails_over_to_the_next_link_and_back() {
        let mut route = Route::new(&network());
        let to = |link| Ok((BANK_PRIMARY, link));
        let pay = || debit_to("622202");
        #[rustfmt::skip]
        let rows = [
            ("primary up: link 0", pay(), to(0)),
            ("again link 0", pay(), to(0)),
            ("link 0 goes down", link_status(BANK_PRIMARY, 0, false), APPLIED),
            ("secondary takes over", pay(), to(1)),
            ("and stays", pay(), to(1)),
            ("link 1 goes down too", link_status(BANK_PRIMARY, 1, false), APPLIED),
            ("nothing up", pay(), Err(Decline::BankUnavailable)),
            ("link 1 comes back", link_status(BANK_PRIMARY, 1, true), APPLIED),
            ("secondary again", pay(), to(1)),
            ("link 0 comes back", link_status(BANK_PRIMARY, 0, true), APPLIED),
            ("primary again", pay(), to(0)),
            ("an up link brought up stays up", link_status(BANK_PRIMARY, 0, true), APPLIED),
            ("still primary", pay(), to(0)),
        ];
        run(&mut route, &rows);
    }

    #[test]
    fn round_robin_takes_links_in_turn_skipping_down_ones() {
        let mut route = Route::new(&network());
        let to = |link| Ok((BANK_ROUND_ROBIN, link));
        let pay = || debit_to("621700");
        #[rustfmt::skip]
        let rows = [
            ("first payment: link 0", pay(), to(0)),
            ("then link 1", pay(), to(1)),
            ("then link 2", pay(), to(2)),
            ("wraps to link 0", pay(), to(0)),
            ("link 1 goes down", link_status(BANK_ROUND_ROBIN, 1, false), APPLIED),
            ("skips link 1", pay(), to(2)),
            ("wraps to link 0", pay(), to(0)),
            ("skips link 1 again", pay(), to(2)),
            ("link 0 goes down too", link_status(BANK_ROUND_ROBIN, 0, false), APPLIED),
            ("only link 2", pay(), to(2)),
            ("only link 2 again", pay(), to(2)),
            ("link 2 goes down: none up", link_status(BANK_ROUND_ROBIN, 2, false), APPLIED),
            ("bank unavailable", pay(), Err(Decline::BankUnavailable)),
            ("link 1 comes back", link_status(BANK_ROUND_ROBIN, 1, true), APPLIED),
            ("link 1, the only one up", pay(), to(1)),
            ("link 0 comes back", link_status(BANK_ROUND_ROBIN, 0, true), APPLIED),
            ("after link 1, link 2 is down: wraps to 0", pay(), to(0)),
            ("then link 1", pay(), to(1)),
            ("a nested BIN of the same bank shares the turn", debit_to("62220299"), to(0)),
        ];
        run(&mut route, &rows);
    }

    #[test]
    fn route_changes_add_replace_and_remove_prefixes() {
        use Decline::*;
        let mut route = Route::new(&network());
        #[rustfmt::skip]
        let rows = [
            ("unknown BIN", debit_to("955880"), Err(NoRoute)),
            ("add it", route_change(b"955880", BANK_PRIMARY, ROUTE_ADD), APPLIED),
            ("now it routes", debit_to("955880"), Ok((BANK_PRIMARY, 0))),
            ("replace its bank", route_change(b"955880", BANK_SUSPENDED, ROUTE_ADD), APPLIED),
            ("routes to the new bank", debit_to("955880"), Err(BankUnavailable)),
            ("add a nested ten-digit prefix", route_change(b"9558801234", BANK_ROUND_ROBIN, ROUTE_ADD), APPLIED),
            ("the longer prefix wins", debit_to("9558801234"), Ok((BANK_ROUND_ROBIN, 0))),
            ("others keep the shorter one", debit_to("9558809999"), Err(BankUnavailable)),
            ("remove the six-digit prefix", route_change(b"955880", BANK_PRIMARY, ROUTE_REMOVE), APPLIED),
            ("the nested one stays", debit_to("9558801234"), Ok((BANK_ROUND_ROBIN, 1))),
            ("the rest no longer route", debit_to("9558809999"), Err(NoRoute)),
            ("remove a nested prefix of the start", route_change(b"62220299", BANK_PRIMARY, ROUTE_REMOVE), APPLIED),
            ("its accounts fall back to the six-digit BIN", debit_to("62220299"), Ok((BANK_PRIMARY, 0))),
            ("removing it twice is refused", route_change(b"62220299", BANK_PRIMARY, ROUTE_REMOVE), BAD),
        ];
        run(&mut route, &rows);
        assert_eq!(route.bank_for(b"9558801234000000"), Some(BANK_ROUND_ROBIN));
        assert_eq!(route.bins().len(), 5);
    }

    #[test]
    fn a_refused_event_passes_through_untouched() {
        let mut route = Route::new(&network());
        let refused = Results {
            decline: Some(Decline::BadMac),
            ..Results::default()
        };
        let events = [
            debit_to("622202"),
            debit_to("999999"),
            reply(BANK_SUSPENDED),
            status(INSTITUTION_ALL, STATUS_SUSPENDED),
            status(INSTITUTION_ALL, 9),
            link_status(BANK_PRIMARY, 0, false),
            route_change(b"622202", BANK_PRIMARY, ROUTE_REMOVE),
            route_change(b"955880", BANK_PRIMARY, ROUTE_ADD),
        ];
        for event in &events {
            let mut results = refused;
            route.on_event(event, &mut results, 0, true).unwrap();
            assert_eq!(results, refused, "{event:?}");
        }
        // None of the refused control events was applied.
        assert_eq!(route.participants, Route::new(&network()).participants);
        assert_eq!(route.bank_for(b"6222020000000000"), Some(BANK_PRIMARY));
        assert_eq!(route.bank_for(b"9558800000000000"), None);
        assert_eq!(
            routed(&mut route, &debit_to("621700")),
            Ok((BANK_ROUND_ROBIN, 0))
        );
    }
}
