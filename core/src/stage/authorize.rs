//! [`Authorize`]: the first payment stage, a worker group. Checks each event on its own — sender,
//! MAC, kind, amount, account, original, in that order (docs/SWITCH.md, "authorize") — and writes
//! the first failure as the event's decline.
//!
//! Nothing it decides depends on an earlier event, so its workers split the sequence between
//! them, each with its own copy of the tables ([`Authorize`] is `Clone`). Participant status is
//! not checked here but in route, which sees every event in order.

use crate::constants::{CARD_NUMBER_LENGTH_MIN, PARTICIPANT_ID_MAX};
use crate::event::{
    Decline, Event, Kind, KindSet, MacKey, MacMode, ParticipantId, Results, PAYMENT_KIND_COUNT,
    REPLY_APPROVE, REPLY_DECLINE,
};
use crate::network::{Network, Role};
use crate::pipeline::{Handler, StageFault};

/// In [`Authorize::entry_by_id`]: the id is no participant's.
const NO_ENTRY: u16 = u16::MAX;

/// What authorize knows of one participant.
#[derive(Clone, Debug)]
struct Entry {
    role: Role,
    /// The payment kinds an institution may send; empty for a bank.
    kinds: KindSet,
    /// By payment kind: the largest amount, in fen.
    limits_fen: [u64; PAYMENT_KIND_COUNT],
    /// Pads pre-hashed: a check costs the message's blocks and one outer block.
    key: MacKey,
}

/// Who an event is from, once the sender check has passed.
enum Sender<'a> {
    /// An operator kind from the operator.
    Operator,
    /// Any other kind from a participant in the network.
    Participant(&'a Entry),
}

/// The authorize stage: one per worker.
///
/// Per-participant state is a flat table indexed by [`ParticipantId::index`] (sized
/// `PARTICIPANT_ID_MAX + 1`) that holds the position of the participant's entry in a dense list.
/// An entry carries its HMAC state (192 bytes with the rest), so the dense list keeps the entries a worker
/// touches together and each worker's copy small: 8 KiB of index and one entry per participant,
/// rather than 4,096 entries of which a network fills a few hundred.
#[derive(Clone, Debug)]
pub struct Authorize {
    mac: MacMode,
    /// Signs cutovers and control events.
    operator_key: MacKey,
    /// By participant index, `0..=PARTICIPANT_ID_MAX`: the index into `entries`, or
    /// [`NO_ENTRY`]. The operator's index (0) is always [`NO_ENTRY`].
    entry_by_id: Box<[u16]>,
    /// One per participant, in the network's order.
    entries: Vec<Entry>,
}

impl Authorize {
    /// The stage for `network`, checking MACs as `mac` says.
    ///
    /// # Panics
    ///
    /// If a participant's id is the operator's or above [`PARTICIPANT_ID_MAX`], or two share an
    /// id: the configuration loader refuses such a network, so one reaching here is a bug.
    pub fn new(network: &Network, mac: MacMode) -> Authorize {
        let mut entry_by_id =
            vec![NO_ENTRY; usize::from(PARTICIPANT_ID_MAX) + 1].into_boxed_slice();
        let mut entries = Vec::with_capacity(network.participants.len());
        for participant in &network.participants {
            let id = participant.id;
            assert!(
                id != ParticipantId::OPERATOR && id.in_range(),
                "participant id {id} is outside 1..={PARTICIPANT_ID_MAX}"
            );
            assert_eq!(
                entry_by_id[id.index()],
                NO_ENTRY,
                "participant id {id} is listed twice"
            );
            entry_by_id[id.index()] =
                u16::try_from(entries.len()).expect("at most PARTICIPANT_ID_MAX participants");
            entries.push(Entry {
                role: participant.role,
                kinds: participant.kinds,
                limits_fen: participant.limits_fen,
                key: participant.mac_key(),
            });
        }
        Authorize {
            mac,
            operator_key: network.operator_key(),
            entry_by_id,
            entries,
        }
    }

    /// Checks `event` and, on the first rule it fails, refuses it in `results`.
    #[inline]
    pub fn check(&mut self, event: &Event, results: &mut Results) {
        if let Err(decline) = self.decide(event) {
            results.refuse(decline);
        }
    }

    /// The rules, in docs/SWITCH.md's order.
    fn decide(&self, event: &Event) -> Result<(), Decline> {
        let sender = self.sender(event)?;
        if self.mac == MacMode::Hmac {
            let key = match sender {
                Sender::Operator => &self.operator_key,
                Sender::Participant(entry) => &entry.key,
            };
            if !key.verify(event) {
                return Err(Decline::BadMac);
            }
        }
        let Sender::Participant(entry) = sender else {
            // Whether a control event names a real participant, link or prefix is route's check.
            return Ok(());
        };
        if event.kind == Kind::BankReply {
            return check_reply(event, entry);
        }
        check_kind(event, entry)?;
        check_amount(event, entry)?;
        check_account(event)?;
        check_original(event)
    }

    /// Rule 1: operator kinds from the operator, other kinds from a participant.
    #[inline]
    fn sender(&self, event: &Event) -> Result<Sender<'_>, Decline> {
        if event.kind.is_operator() {
            return if event.sender == ParticipantId::OPERATOR {
                Ok(Sender::Operator)
            } else {
                Err(Decline::KindNotAllowed)
            };
        }
        match self.entry_by_id.get(event.sender.index()) {
            Some(&index) if index != NO_ENTRY => {
                Ok(Sender::Participant(&self.entries[usize::from(index)]))
            }
            _ => Err(Decline::UnknownSender),
        }
    }
}

/// Rule 3 for a bank reply: from a bank, with a known code.
#[inline]
fn check_reply(event: &Event, entry: &Entry) -> Result<(), Decline> {
    if entry.role != Role::Bank {
        return Err(Decline::KindNotAllowed);
    }
    if event.code != REPLY_APPROVE && event.code != REPLY_DECLINE {
        return Err(Decline::UnknownReplyCode);
    }
    Ok(())
}

/// Rule 3 for a payment: from an institution allowed the kind.
#[inline]
fn check_kind(event: &Event, entry: &Entry) -> Result<(), Decline> {
    if entry.role != Role::Institution || !entry.kinds.contains(event.kind) {
        return Err(Decline::KindNotAllowed);
    }
    Ok(())
}

/// Rule 4: not zero, at most the sender's limit for the kind.
#[inline]
fn check_amount(event: &Event, entry: &Entry) -> Result<(), Decline> {
    if event.amount_fen == 0 {
        return Err(Decline::AmountMustNotBeZero);
    }
    // A payment kind always has an index; check_kind let only payment kinds through.
    let limit_fen = event
        .kind
        .payment_index()
        .map_or(0, |index| entry.limits_fen[index]);
    if event.amount_fen > limit_fen {
        return Err(Decline::AmountExceedsLimit);
    }
    Ok(())
}

/// Rule 5: 12 to 19 digits; a card number (16 digits or more) passes Luhn.
#[inline]
fn check_account(event: &Event) -> Result<(), Decline> {
    let account = &event.account;
    if !account.is_well_formed()
        || (account.as_bytes().len() >= CARD_NUMBER_LENGTH_MIN && !account.passes_luhn())
    {
        return Err(Decline::MalformedAccount);
    }
    Ok(())
}

/// Rule 6: a refund names its original.
#[inline]
fn check_original(event: &Event) -> Result<(), Decline> {
    if event.kind == Kind::Refund && event.original.is_none() {
        return Err(Decline::RefundWithoutOriginal);
    }
    Ok(())
}

impl Handler<Event, Results> for Authorize {
    #[inline]
    fn on_event(
        &mut self,
        event: &Event,
        results: &mut Results,
        _sequence: u64,
        _end_of_batch: bool,
    ) -> Result<(), StageFault> {
        self.check(event, results);
        Ok(())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::event::{luhn_check_digit, Account, TxnId, LINK_UP, STATUS_SUSPENDED};
    use crate::network::{BinPrefix, Link, LinkStrategy, Participant, Status};

    /// Institution allowed every payment kind.
    pub(in crate::stage) const INSTITUTION_ALL: ParticipantId = ParticipantId(1);
    /// Institution allowed agreement debits only.
    pub(in crate::stage) const INSTITUTION_DEBIT_ONLY: ParticipantId = ParticipantId(2);
    /// Institution suspended at start.
    pub(in crate::stage) const INSTITUTION_SUSPENDED: ParticipantId = ParticipantId(3);
    /// Bank, primary-secondary, two links up; BIN 622202.
    pub(in crate::stage) const BANK_PRIMARY: ParticipantId = ParticipantId(101);
    /// Bank, round-robin, three links up; BINs 62220299 (nested in 622202) and 621700.
    pub(in crate::stage) const BANK_ROUND_ROBIN: ParticipantId = ParticipantId(102);
    /// Bank suspended at start, one link up; BIN 622848.
    pub(in crate::stage) const BANK_SUSPENDED: ParticipantId = ParticipantId(103);
    /// Bank with both links down at start; BIN 601382.
    pub(in crate::stage) const BANK_LINKS_DOWN: ParticipantId = ParticipantId(104);

    /// The largest payment per kind, in fen, for every test institution.
    pub(in crate::stage) const LIMITS_FEN: [u64; PAYMENT_KIND_COUNT] =
        [5_000_000, 5_000_000, 2_000_000, 5_000_000];

    fn participant(
        id: ParticipantId,
        role: Role,
        status: Status,
        kinds: KindSet,
        links: &[bool],
        link_strategy: LinkStrategy,
    ) -> Participant {
        Participant {
            id,
            name: format!("participant-{id}"),
            role,
            status,
            kinds,
            limits_fen: if role == Role::Institution {
                LIMITS_FEN
            } else {
                [0; PAYMENT_KIND_COUNT]
            },
            cap_fen: 1_000_000_000,
            secret: format!("secret-{id}").into_bytes(),
            links: links
                .iter()
                .enumerate()
                .map(|(index, &up)| Link {
                    name: format!("dc-{index}"),
                    up,
                })
                .collect(),
            link_strategy,
        }
    }

    /// A small network by hand: three institutions, four banks, five BIN prefixes.
    pub(in crate::stage) fn network() -> Network {
        use LinkStrategy::{PrimarySecondary, RoundRobin};
        use Role::{Bank, Institution};
        use Status::{Active, Suspended};
        let debit_only = KindSet::NONE.with(Kind::AgreementDebit);
        let none = KindSet::NONE;
        let bin = |prefix: &str, bank: ParticipantId| BinPrefix {
            prefix: prefix.to_string(),
            bank,
        };
        Network {
            operator_secret: b"operator-secret".to_vec(),
            #[rustfmt::skip]
            participants: vec![
                participant(INSTITUTION_ALL, Institution, Active, KindSet::PAYMENTS, &[], PrimarySecondary),
                participant(INSTITUTION_DEBIT_ONLY, Institution, Active, debit_only, &[], PrimarySecondary),
                participant(INSTITUTION_SUSPENDED, Institution, Suspended, KindSet::PAYMENTS, &[], PrimarySecondary),
                participant(BANK_PRIMARY, Bank, Active, none, &[true, true], PrimarySecondary),
                participant(BANK_ROUND_ROBIN, Bank, Active, none, &[true, true, true], RoundRobin),
                participant(BANK_SUSPENDED, Bank, Suspended, none, &[true], PrimarySecondary),
                participant(BANK_LINKS_DOWN, Bank, Active, none, &[false, false], PrimarySecondary),
            ],
            bins: vec![
                bin("622202", BANK_PRIMARY),
                bin("62220299", BANK_ROUND_ROBIN),
                bin("621700", BANK_ROUND_ROBIN),
                bin("622848", BANK_SUSPENDED),
                bin("601382", BANK_LINKS_DOWN),
            ],
        }
    }

    /// A 16-digit card number starting with `prefix` that passes Luhn.
    pub(in crate::stage) fn card(prefix: &str) -> Account {
        let mut digits = prefix.as_bytes().to_vec();
        digits.resize(15, b'3');
        digits.push(luhn_check_digit(&digits));
        Account::new(&digits).unwrap()
    }

    /// An unsigned payment from `sender`.
    pub(in crate::stage) fn payment(
        kind: Kind,
        sender: ParticipantId,
        account: Account,
        amount_fen: u64,
    ) -> Event {
        let event = Event::payment(
            kind,
            TxnId::new(20261130, 7),
            sender,
            account,
            amount_fen,
            1_000,
        );
        if kind == Kind::Refund {
            event.with_original(TxnId::new(20261130, 3))
        } else {
            event
        }
    }

    /// `event` signed with `sender`'s key (the operator's for the operator).
    fn signed(network: &Network, mut event: Event) -> Event {
        let key = match network.participant(event.sender) {
            Some(participant) => participant.mac_key(),
            None => network.operator_key(),
        };
        event.mac = key.sign(&event);
        event
    }

    fn account(text: &[u8]) -> Account {
        Account::new(text).unwrap()
    }

    fn with_account(mut event: Event, account: Account) -> Event {
        event.account = account;
        event
    }

    fn checked(authorize: &mut Authorize, event: &Event) -> Option<Decline> {
        let mut results = Results::default();
        authorize.check(event, &mut results);
        results.decline
    }

    #[test]
    fn each_rule_declines_by_name() {
        use Decline::*;
        use Kind::*;
        let network = network();
        let mut authorize = Authorize::new(&network, MacMode::Hmac);
        let sign = |event: Event| signed(&network, event);
        let good = card("622202");
        let pay = |kind, sender, amount_fen| payment(kind, sender, good, amount_fen);
        let debit = pay(AgreementDebit, INSTITUTION_ALL, 10_000);
        let debit_to = |text: &[u8]| sign(with_account(debit, account(text)));
        let txn_id = TxnId::new(20261130, 7);
        let reply = |sender, code| Event {
            code,
            ..Event::bank_reply(sender, txn_id, true, 0, 5)
        };
        let operator = |kind, counterparty, code| Event::operator(kind, counterparty, code, 5);
        let from = |sender, event: Event| Event { sender, ..event };
        let cutover = operator(Cutover, ParticipantId::OPERATOR, 0);
        let mut tampered = sign(debit);
        tampered.amount_fen += 1;
        let key_of = |id| network.participant(id).unwrap().mac_key();
        let with_mac_of = |id, mut event: Event| {
            event.mac = key_of(id).sign(&event);
            event
        };
        let luhn_valid_19 = {
            let mut digits = b"622202020011223344".to_vec();
            digits.push(luhn_check_digit(&digits));
            digits
        };
        let mut luhn_invalid_16 = good.as_bytes().to_vec();
        luhn_invalid_16[15] = b'0' + (luhn_invalid_16[15] - b'0' + 1) % 10;
        let unknown = ParticipantId(50);
        let beyond = ParticipantId(PARTICIPANT_ID_MAX + 1);
        let refund_without_original =
            pay(Refund, INSTITUTION_ALL, 10_000).with_original(TxnId::NONE);

        #[rustfmt::skip]
        let rows: Vec<(&str, Event, Option<Decline>)> = vec![
            ("agreement debit", sign(debit), None),
            ("gateway debit", sign(pay(GatewayDebit, INSTITUTION_ALL, 10_000)), None),
            ("payout credit", sign(pay(PayoutCredit, INSTITUTION_ALL, 10_000)), None),
            ("refund with original", sign(pay(Refund, INSTITUTION_ALL, 10_000)), None),
            ("suspended sender: route's to refuse", sign(pay(AgreementDebit, INSTITUTION_SUSPENDED, 1)), None),
            ("bank approves", sign(reply(BANK_PRIMARY, REPLY_APPROVE)), None),
            ("bank declines", sign(reply(BANK_PRIMARY, REPLY_DECLINE)), None),
            ("cutover", sign(cutover), None),
            ("participant status", sign(operator(ParticipantStatus, INSTITUTION_ALL, STATUS_SUSPENDED)), None),
            ("link status", sign(operator(LinkStatus, BANK_PRIMARY, LINK_UP)), None),
            ("route change: route's to check", sign(operator(RouteChange, unknown, 9)), None),
            // 1. Sender.
            ("unknown sender", sign(pay(AgreementDebit, unknown, 10_000)), Some(UnknownSender)),
            ("sender beyond the id range", pay(AgreementDebit, beyond, 10_000), Some(UnknownSender)),
            ("operator sending a payment", sign(pay(AgreementDebit, ParticipantId::OPERATOR, 10_000)), Some(UnknownSender)),
            ("operator sending a reply", sign(reply(ParticipantId::OPERATOR, REPLY_APPROVE)), Some(UnknownSender)),
            ("institution sending a cutover", sign(from(INSTITUTION_ALL, cutover)), Some(KindNotAllowed)),
            ("bank sending a link status", sign(from(BANK_PRIMARY, operator(LinkStatus, BANK_PRIMARY, LINK_UP))), Some(KindNotAllowed)),
            ("unknown id sending a route change", from(unknown, operator(RouteChange, BANK_PRIMARY, 1)), Some(KindNotAllowed)),
            // 2. MAC.
            ("unsigned payment", debit, Some(BadMac)),
            ("amount changed after signing", tampered, Some(BadMac)),
            ("signed with another participant's key", with_mac_of(INSTITUTION_DEBIT_ONLY, debit), Some(BadMac)),
            ("operator event unsigned", cutover, Some(BadMac)),
            ("operator event signed by a participant", with_mac_of(INSTITUTION_ALL, cutover), Some(BadMac)),
            ("bad MAC comes before a bad kind", pay(GatewayDebit, INSTITUTION_DEBIT_ONLY, 10_000), Some(BadMac)),
            // 3. Kind.
            ("kind not in the institution's set", sign(pay(GatewayDebit, INSTITUTION_DEBIT_ONLY, 10_000)), Some(KindNotAllowed)),
            ("bank sending a payment", sign(pay(AgreementDebit, BANK_PRIMARY, 10_000)), Some(KindNotAllowed)),
            ("institution sending a reply", sign(reply(INSTITUTION_ALL, REPLY_APPROVE)), Some(KindNotAllowed)),
            ("institution sending a bad reply code", sign(reply(INSTITUTION_ALL, 3)), Some(KindNotAllowed)),
            ("reply code neither approve nor decline", sign(reply(BANK_PRIMARY, 3)), Some(UnknownReplyCode)),
            ("reply code zero", sign(reply(BANK_PRIMARY, 0)), Some(UnknownReplyCode)),
            ("kind comes before amount", sign(pay(GatewayDebit, INSTITUTION_DEBIT_ONLY, 0)), Some(KindNotAllowed)),
            // 4. Amount.
            ("zero amount", sign(pay(AgreementDebit, INSTITUTION_ALL, 0)), Some(AmountMustNotBeZero)),
            ("at the limit", sign(pay(PayoutCredit, INSTITUTION_ALL, LIMITS_FEN[2])), None),
            ("above the limit for the kind", sign(pay(PayoutCredit, INSTITUTION_ALL, LIMITS_FEN[2] + 1)), Some(AmountExceedsLimit)),
            ("the same amount under another kind's limit", sign(pay(AgreementDebit, INSTITUTION_ALL, LIMITS_FEN[2] + 1)), None),
            ("amount comes before account", sign(with_account(pay(AgreementDebit, INSTITUTION_ALL, 0), account(b"1"))), Some(AmountMustNotBeZero)),
            // 5. Account.
            ("non-digit account", debit_to(b"62220202001122x3"), Some(MalformedAccount)),
            ("empty account", debit_to(b""), Some(MalformedAccount)),
            ("eleven digits", debit_to(b"62220202001"), Some(MalformedAccount)),
            ("twelve digits need no Luhn", debit_to(b"622202020011"), None),
            ("fifteen digits need no Luhn", debit_to(b"622202020011224"), None),
            ("sixteen digits failing Luhn", debit_to(&luhn_invalid_16), Some(MalformedAccount)),
            ("nineteen digits passing Luhn", debit_to(&luhn_valid_19), None),
            ("account comes before original", sign(with_account(refund_without_original, account(b"1"))), Some(MalformedAccount)),
            // 6. Original.
            ("refund without original", sign(refund_without_original), Some(RefundWithoutOriginal)),
        ];
        for (description, event, expected) in rows {
            assert_eq!(checked(&mut authorize, &event), expected, "{description}");
        }
    }

    #[test]
    fn mac_mode_none_skips_only_the_mac() {
        use Decline::*;
        use Kind::*;
        let network = network();
        let mut authorize = Authorize::new(&network, MacMode::None);
        let pay = |kind, sender, amount_fen| payment(kind, sender, card("622202"), amount_fen);
        #[rustfmt::skip]
        let rows: Vec<(&str, Event, Option<Decline>)> = vec![
            ("unsigned payment", pay(AgreementDebit, INSTITUTION_ALL, 10_000), None),
            ("unsigned operator event", Event::operator(Cutover, ParticipantId::OPERATOR, 0, 5), None),
            ("unknown sender still refused", pay(AgreementDebit, ParticipantId(50), 10_000), Some(UnknownSender)),
            ("kind still checked", pay(GatewayDebit, INSTITUTION_DEBIT_ONLY, 10_000), Some(KindNotAllowed)),
            ("amount still checked", pay(AgreementDebit, INSTITUTION_ALL, 0), Some(AmountMustNotBeZero)),
            ("account still checked", with_account(pay(AgreementDebit, INSTITUTION_ALL, 1), account(b"1")), Some(MalformedAccount)),
        ];
        for (description, event, expected) in rows {
            assert_eq!(checked(&mut authorize, &event), expected, "{description}");
        }
    }

    #[test]
    fn an_earlier_refusal_stays_and_the_handler_checks() {
        let network = network();
        let mut authorize = Authorize::new(&network, MacMode::Hmac);
        let event = payment(
            Kind::AgreementDebit,
            INSTITUTION_ALL,
            card("622202"),
            10_000,
        );
        let mut results = Results {
            decline: Some(Decline::NoRoute),
            ..Results::default()
        };
        authorize.on_event(&event, &mut results, 0, true).unwrap();
        assert_eq!(results.decline, Some(Decline::NoRoute));
        let mut results = Results::default();
        let mut copy = authorize.clone();
        copy.on_event(&event, &mut results, 1, false).unwrap();
        assert_eq!(results.decline, Some(Decline::BadMac));
        let mut results = Results::default();
        copy.on_event(&signed(&network, event), &mut results, 2, false)
            .unwrap();
        assert_eq!(
            results,
            Results::default(),
            "a passed event's results are untouched"
        );
    }
}
