//! A small hand-built network and a seeded generator of every kind of switch event, for the
//! ledger's tests and the pipeline-versus-model test.
//!
//! The network is small on purpose, so that every rule fires often: four institutions (one
//! allowed only agreement debits and refunds), five banks (one round-robin over three links, one
//! primary-secondary over two), nested BIN prefixes, and caps small enough that
//! `InsufficientLiquidity` happens.

use std::collections::BTreeMap;

use clearway_core::event::{
    luhn_check_digit, Account, Event, Kind, KindSet, MacKey, ParticipantId, TxnId, LINK_UP,
    ROUTE_ADD, ROUTE_REMOVE, STATUS_ACTIVE, STATUS_SUSPENDED,
};
use clearway_core::network::{BinPrefix, Link, LinkStrategy, Network, Participant, Role, Status};
use clearway_core::stage::LedgerConfig;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The institutions of [`small_network`].
pub const INSTITUTIONS: [ParticipantId; 4] = [
    ParticipantId(1),
    ParticipantId(2),
    ParticipantId(3),
    ParticipantId(4),
];

/// The banks of [`small_network`].
pub const BANKS: [ParticipantId; 5] = [
    ParticipantId(11),
    ParticipantId(12),
    ParticipantId(13),
    ParticipantId(14),
    ParticipantId(15),
];

/// The BIN prefixes of [`small_network`] and their banks: `622202` holds the nested `6222020`,
/// which holds `62220201`.
pub const BINS: [(&str, u16); 6] = [
    ("622202", 11),
    ("6222020", 12),
    ("62220201", 13),
    ("436742", 14),
    ("955880", 15),
    ("621700", 13),
];

/// Each institution's cap, fen: four payments at the limit exhaust it.
pub const INSTITUTION_CAP_FEN: u64 = 2_000_000;

/// Each bank's cap, fen.
pub const BANK_CAP_FEN: u64 = 3_000_000;

/// Each institution's per-payment limit, fen, for every kind.
pub const LIMIT_FEN: u64 = 500_000;

/// The date in generated transaction ids.
pub const DATE: u32 = 20261130;

fn participant(
    id: u16,
    role: Role,
    kinds: KindSet,
    links: usize,
    strategy: LinkStrategy,
) -> Participant {
    let is_bank = role == Role::Bank;
    Participant {
        id: ParticipantId(id),
        name: if is_bank {
            format!("bank-{id}")
        } else {
            format!("institution-{id}")
        },
        role,
        status: Status::Active,
        kinds,
        limits_fen: if is_bank { [0; 4] } else { [LIMIT_FEN; 4] },
        cap_fen: if is_bank {
            BANK_CAP_FEN
        } else {
            INSTITUTION_CAP_FEN
        },
        secret: format!("secret-{id}").into_bytes(),
        links: (0..links)
            .map(|index| Link {
                name: format!("line-{index}"),
                up: true,
            })
            .collect(),
        link_strategy: strategy,
    }
}

/// The hand-built network: institutions 1–4 (3 may send only agreement debits and refunds),
/// banks 11–15 (11 round-robin over three links, 12 primary-secondary over two, the rest one
/// link), the nested prefixes of [`BINS`].
pub fn small_network() -> Network {
    let mut participants = vec![];
    for id in INSTITUTIONS {
        let kinds = if id.0 == 3 {
            [Kind::AgreementDebit, Kind::Refund].into_iter().collect()
        } else {
            KindSet::PAYMENTS
        };
        participants.push(participant(
            id.0,
            Role::Institution,
            kinds,
            0,
            LinkStrategy::PrimarySecondary,
        ));
    }
    for id in BANKS {
        let (links, strategy) = match id.0 {
            11 => (3, LinkStrategy::RoundRobin),
            12 => (2, LinkStrategy::PrimarySecondary),
            _ => (1, LinkStrategy::PrimarySecondary),
        };
        participants.push(participant(
            id.0,
            Role::Bank,
            KindSet::NONE,
            links,
            strategy,
        ));
    }
    Network {
        operator_secret: b"operator-secret".to_vec(),
        participants,
        bins: BINS
            .iter()
            .map(|(prefix, bank)| BinPrefix {
                prefix: prefix.to_string(),
                bank: ParticipantId(*bank),
            })
            .collect(),
    }
}

/// The ledger configuration the switch tests run [`small_network`] with: a 1 ms bank timeout
/// (the generator's time steps pass it every hundred events or so) and capacities small enough
/// that `LedgerFull` happens now and then.
pub fn small_ledger_config() -> LedgerConfig {
    LedgerConfig {
        bank_timeout_ns: BANK_TIMEOUT_NS,
        holds_capacity: 24,
        window_capacity: 320,
        window_span_ns: 5_000_000_000,
        memory: None,
    }
}

/// [`small_ledger_config`] with memory by time: a day's retention, event time zero ten seconds
/// into [`DATE`] (so that the generated ids, made in its first seconds, are neither ahead of the
/// clock nor beyond retention, and an unknown original made at second 2,048 is ahead of it).
/// Its window turns every 2 ms of event time (a seed's 3,000 events span ~30 ms), so a seed's
/// resends and refunds reach the store; its generations have room for the turns a pipeline makes
/// late while the store catches up (the model does not model the window's capacity).
pub fn memory_ledger_config() -> LedgerConfig {
    LedgerConfig {
        memory: Some(clearway_core::stage::LongMemory {
            retention_ns: 24 * 3_600 * 1_000_000_000,
            epoch_unix_ns: (TxnId::new(DATE, 0).unix_s().unwrap() + 10) * 1_000_000_000,
        }),
        window_span_ns: 2_000_000,
        window_capacity: 4_096,
        ..small_ledger_config()
    }
}

/// A folder for a test's store, removed first if a run before left it.
pub fn store_folder(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("clearway-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    path
}

/// [`small_ledger_config`]'s bank timeout.
pub const BANK_TIMEOUT_NS: u64 = 1_000_000;

/// A card number of `length` digits under `prefix`, passing the Luhn check when 16 or longer.
pub fn account_under(prefix: &str, length: usize, rng: &mut impl Rng) -> Account {
    let mut digits: Vec<u8> = prefix.as_bytes().to_vec();
    let body = if length >= 16 { length - 1 } else { length };
    while digits.len() < body {
        digits.push(b'0' + rng.gen_range(0..10u8));
    }
    if length >= 16 {
        let check = luhn_check_digit(&digits);
        digits.push(check);
    }
    Account::new(&digits).unwrap()
}

/// A payment the generator sent, remembered for replies, duplicates and refunds.
#[derive(Clone, Copy)]
struct Sent {
    event: Event,
    /// The bank the generator believes it routes to.
    bank: ParticipantId,
}

/// The generator's state.
struct Generator {
    rng: SmallRng,
    keys: BTreeMap<ParticipantId, MacKey>,
    operator: MacKey,
    /// Its own idea of the BIN table (it issues the route changes).
    bins: Vec<(String, ParticipantId)>,
    sent: Vec<Sent>,
    next_id: u128,
    now_ns: u64,
    suspended: Vec<ParticipantId>,
}

impl Generator {
    fn sign(&self, mut event: Event) -> Event {
        let key = if event.sender == ParticipantId::OPERATOR {
            &self.operator
        } else {
            match self.keys.get(&event.sender) {
                Some(key) => key,
                None => return event,
            }
        };
        event.mac = key.sign(&event);
        event
    }

    fn bank_of(&self, account: &Account) -> Option<ParticipantId> {
        let bytes = account.as_bytes();
        self.bins
            .iter()
            .filter(|(prefix, _)| bytes.starts_with(prefix.as_bytes()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, bank)| *bank)
    }

    /// A new id: made in [`DATE`]'s first seconds, except one in a hundred made with no real
    /// date, far ahead of the clock, or two days before (beyond a day's retention).
    fn new_id(&mut self) -> TxnId {
        self.next_id += 1;
        match self.rng.gen_range(0..300) {
            0 => TxnId(self.next_id),
            1 => TxnId::new(DATE, 1 << 90 | self.next_id),
            2 => TxnId::new(DATE - 2, self.next_id),
            _ => TxnId::new(DATE, self.next_id),
        }
    }

    fn institution(&mut self) -> ParticipantId {
        INSTITUTIONS[self.rng.gen_range(0..INSTITUTIONS.len())]
    }

    fn bank(&mut self) -> ParticipantId {
        BANKS[self.rng.gen_range(0..BANKS.len())]
    }

    fn account(&mut self) -> Account {
        let roll = self.rng.gen_range(0..100);
        let prefix = if roll < 3 {
            "999999".to_string()
        } else {
            let index = self.rng.gen_range(0..BINS.len());
            BINS[index].0.to_string()
        };
        let length = match self.rng.gen_range(0..10) {
            0 => 12,
            1 => 16,
            _ => 19,
        };
        account_under(&prefix, length, &mut self.rng)
    }

    fn amount(&mut self) -> u64 {
        match self.rng.gen_range(0..100) {
            0 => 0,
            1 => LIMIT_FEN + 1,
            2..=9 => LIMIT_FEN,
            _ => self.rng.gen_range(1..=LIMIT_FEN / 2),
        }
    }

    fn payment(&mut self) -> Event {
        let kind = match self.rng.gen_range(0..10) {
            0..=3 => Kind::AgreementDebit,
            4..=5 => Kind::GatewayDebit,
            6..=7 => Kind::PayoutCredit,
            _ => Kind::Refund,
        };
        let sender = self.institution();
        let txn_id = self.new_id();
        let account = self.account();
        let amount = self.amount();
        let mut event = Event::payment(kind, txn_id, sender, account, amount, self.now_ns);
        if kind == Kind::Refund {
            event = self.refund_of(event);
        }
        let bank = self.bank_of(&event.account).unwrap_or(BANKS[0]);
        self.sent.push(Sent { event, bank });
        self.sign(event)
    }

    /// Makes `event` a refund of something: an earlier debit of its sender (mostly), someone
    /// else's, an unknown id, or none.
    fn refund_of(&mut self, mut event: Event) -> Event {
        let roll = self.rng.gen_range(0..100);
        let original = if roll < 3 {
            TxnId::NONE
        } else if roll < 10 || self.sent.is_empty() {
            TxnId::new(DATE, 1 << 80 | self.rng.gen::<u64>() as u128)
        } else {
            let start = self.sent.len().saturating_sub(200);
            let pick = self.sent[self.rng.gen_range(start..self.sent.len())];
            if roll < 80 {
                event.sender = pick.event.sender;
            }
            event.amount_fen = match self.rng.gen_range(0..4) {
                0 => pick.event.amount_fen,
                1 => pick.event.amount_fen.saturating_add(1).min(LIMIT_FEN),
                _ => (pick.event.amount_fen / 3).max(1),
            };
            pick.event.txn_id
        };
        event.with_original(original)
    }

    fn recent(&mut self) -> Option<Sent> {
        if self.sent.is_empty() {
            return None;
        }
        let start = self.sent.len().saturating_sub(40);
        Some(self.sent[self.rng.gen_range(start..self.sent.len())])
    }

    fn reply(&mut self) -> Event {
        let roll = self.rng.gen_range(0..100);
        let (txn_id, bank) = match self.recent() {
            Some(sent) if roll >= 5 => {
                let bank = if roll < 10 { self.bank() } else { sent.bank };
                (sent.event.txn_id, bank)
            }
            _ => (
                TxnId::new(DATE, 1 << 90 | self.rng.gen::<u64>() as u128),
                self.bank(),
            ),
        };
        let approve = self.rng.gen_range(0..10) < 7;
        let mut event = Event::bank_reply(bank, txn_id, approve, 0, self.now_ns);
        if self.rng.gen_range(0..100) == 0 {
            event.code = 9;
        }
        self.sign(event)
    }

    fn duplicate(&mut self) -> Option<Event> {
        let sent = self.recent()?;
        let mut event = sent.event;
        match self.rng.gen_range(0..4) {
            0 => event.amount_fen = event.amount_fen.saturating_add(1),
            1 => event.account = self.account(),
            _ => {}
        }
        Some(self.sign(event))
    }

    fn control(&mut self) -> Event {
        let event = match self.rng.gen_range(0..8) {
            0 | 1 => {
                let who = if self.rng.gen_bool(0.5) {
                    self.institution()
                } else {
                    self.bank()
                };
                self.suspended.push(who);
                Event::operator(Kind::ParticipantStatus, who, STATUS_SUSPENDED, self.now_ns)
            }
            2 => {
                let (counterparty, code) = match self.rng.gen_range(0..3) {
                    0 => (ParticipantId::OPERATOR, STATUS_ACTIVE),
                    1 => (ParticipantId(77), STATUS_ACTIVE),
                    _ => (self.institution(), 5),
                };
                Event::operator(Kind::ParticipantStatus, counterparty, code, self.now_ns)
            }
            3 | 4 => {
                let bank = if self.rng.gen_bool(0.5) {
                    BANKS[0]
                } else {
                    self.bank()
                };
                let link = self.rng.gen_range(0..4u8);
                let up = if self.rng.gen_bool(0.6) { LINK_UP } else { 0 };
                let counterparty = if self.rng.gen_range(0..10) == 0 {
                    INSTITUTIONS[0]
                } else {
                    bank
                };
                Event::operator(Kind::LinkStatus, counterparty, link | up, self.now_ns)
            }
            5 | 6 => {
                let bank = self.bank();
                let roll = self.rng.gen_range(0..10);
                let prefix = match roll {
                    0 => "62220".to_string(),
                    1 => "62x202".to_string(),
                    _ => {
                        let base = BINS[self.rng.gen_range(0..BINS.len())].0;
                        if self.rng.gen_bool(0.5) {
                            base.to_string()
                        } else {
                            format!("{base}{}", self.rng.gen_range(0..10))
                        }
                    }
                };
                let code = match self.rng.gen_range(0..10) {
                    0 => 7,
                    1..=4 => ROUTE_REMOVE,
                    _ => ROUTE_ADD,
                };
                let counterparty = if self.rng.gen_range(0..10) == 0 {
                    INSTITUTIONS[1]
                } else {
                    bank
                };
                let well_formed = (6..=10).contains(&prefix.len())
                    && prefix.bytes().all(|byte| byte.is_ascii_digit());
                if well_formed {
                    let existing = self.bins.iter().position(|(known, _)| *known == prefix);
                    let is_bank = BANKS.contains(&counterparty);
                    match (code, existing) {
                        (ROUTE_ADD, Some(index)) if is_bank => self.bins[index].1 = counterparty,
                        (ROUTE_ADD, None) if is_bank => {
                            self.bins.push((prefix.clone(), counterparty))
                        }
                        (ROUTE_REMOVE, Some(index)) => {
                            self.bins.remove(index);
                        }
                        _ => {}
                    }
                }
                let mut event = Event::operator(Kind::RouteChange, counterparty, code, self.now_ns);
                event.account = Account::new(prefix.as_bytes()).unwrap();
                event
            }
            _ => {
                // From someone other than the operator.
                let mut event = Event::operator(Kind::LinkStatus, BANKS[0], LINK_UP, self.now_ns);
                event.sender = self.institution();
                event
            }
        };
        self.sign(event)
    }

    fn resume(&mut self) -> Option<Event> {
        let who = self.suspended.pop()?;
        Some(self.sign(Event::operator(
            Kind::ParticipantStatus,
            who,
            STATUS_ACTIVE,
            self.now_ns,
        )))
    }

    fn next(&mut self) -> Event {
        let roll = self.rng.gen_range(0..1000);
        match roll {
            0..=399 => self.payment(),
            400..=719 => self.reply(),
            720..=779 => self.duplicate().unwrap_or_else(|| self.payment()),
            780..=799 => {
                // A bad MAC.
                let mut event = self.payment();
                event.mac.0[0] ^= 1;
                event
            }
            800..=814 => {
                // An unknown sender.
                let mut event = self.payment();
                event.sender = ParticipantId(99);
                event
            }
            815..=829 => {
                // A malformed account.
                let mut event = self.payment();
                let text: &[u8] = match self.rng.gen_range(0..3) {
                    0 => b"62220202001",
                    1 => b"6222020200112233440",
                    _ => b"62220x0200112233",
                };
                event.account = Account::new(text).unwrap();
                self.sign(event)
            }
            830..=839 => {
                // A bank sending a payment.
                let mut event = self.payment();
                event.sender = self.bank();
                self.sign(event)
            }
            840..=869 => self.control(),
            870..=909 => self.resume().unwrap_or_else(|| self.reply()),
            _ => self.payment(),
        }
    }
}

/// `count` events for `network` (built by [`small_network`]) from `seed`: payments of all four
/// kinds signed with the right keys, duplicates with the same and with different fields, bank
/// replies (approve, decline, unknown ids, wrong bank, late), refunds of approved, unknown and
/// others' originals and over-refunds, bad MACs, unknown senders, zero and over-limit amounts,
/// malformed accounts, control events (some malformed), and a cutover every 200 to 400 events.
/// `sequence` runs `0..count`; `event_ns` rises by small steps with occasional jumps past the
/// bank timeout.
pub fn events(seed: u64, count: usize, network: &Network) -> Vec<Event> {
    let mut generator = Generator {
        rng: SmallRng::seed_from_u64(seed),
        keys: network
            .participants
            .iter()
            .map(|participant| (participant.id, participant.mac_key()))
            .collect(),
        operator: network.operator_key(),
        bins: network
            .bins
            .iter()
            .map(|bin| (bin.prefix.clone(), bin.bank))
            .collect(),
        sent: vec![],
        next_id: 0,
        now_ns: 1_000,
        suspended: vec![],
    };
    let mut next_cutover = generator.rng.gen_range(200..400);
    let mut events = Vec::with_capacity(count);
    for sequence in 0..count {
        generator.now_ns += if generator.rng.gen_range(0..200) == 0 {
            BANK_TIMEOUT_NS + generator.rng.gen_range(0..BANK_TIMEOUT_NS)
        } else {
            generator.rng.gen_range(0..20_000)
        };
        let mut event = if sequence == next_cutover {
            next_cutover += generator.rng.gen_range(200..400);
            let event =
                Event::operator(Kind::Cutover, ParticipantId::OPERATOR, 0, generator.now_ns);
            generator.sign(event)
        } else {
            generator.next()
        };
        event.sequence = sequence as u64;
        event.event_ns = generator.now_ns;
        events.push(event);
    }
    events
}
