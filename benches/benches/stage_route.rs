//! ```text
//!   4,096 accounts ──► BinTable::lookup          (trie, one thread)
//!   4,096 accounts ──► sorted Vec, lengths 10..=6 (baseline: binary search per length)
//!   4,096 payments ──► Route::route ──► results  (one thread, no ring)
//! ```
//! Group `stage_route`: a 3,000-prefix BIN table over 424 banks, shaped like the real network's
//! (2,700 six-digit BINs and 300 nested 8–10 digit splits of them), generated deterministically.
//! The accounts are 16- and 19-digit card numbers drawn under the table's prefixes, so every
//! lookup matches; a third of them fall under a nested prefix, where the longest match matters.
//!
//! - `lookup_trie`: [`BinTable::lookup`] alone.
//! - `lookup_sorted_vec`: the obvious alternative, written here: the prefixes in one sorted
//!   `Vec<(prefix, bank)>`, searched for the account's first 10, 9, … 6 digits in turn.
//! - `route`: the whole [`Route::route`] per payment: sender status, lookup, bank status, link
//!   choice (half the banks primary-secondary, half round-robin, two links each).
//!
//! Throughput is events per second; time per iteration / 4,096 is the cost of one event. Before
//! timing, the trie and the baseline are checked to agree on every account.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::collections::BTreeSet;
use std::hint::black_box;

use clearway_benches::Stream;
use clearway_core::event::{
    luhn_check_digit, Account, Event, Kind, KindSet, ParticipantId, Results, TxnId,
};
use clearway_core::network::{BinPrefix, Link, LinkStrategy, Network, Participant, Role, Status};
use clearway_core::stage::{BinTable, Route};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Events per timed iteration: one ring's worth.
const EVENT_COUNT: usize = 4_096;

/// Institutions sending the payments: the real network's 115.
const INSTITUTION_COUNT: u16 = 115;

/// Banks: the real network's 424, ids after the institutions'.
const BANK_COUNT: u16 = 424;

/// The first bank's id.
const BANK_ID_FIRST: u16 = 200;

/// Six-digit BINs.
const SHORT_PREFIX_COUNT: usize = 2_700;

/// 8–10 digit prefixes nested under six-digit ones.
const NESTED_PREFIX_COUNT: usize = 300;

/// 2,700 distinct six-digit BINs (starting 4, 5 or 6, as UnionPay, Visa and Mastercard cards
/// do) and 300 distinct 8–10 digit prefixes under them, each with a bank.
fn bins(stream: &mut Stream) -> Vec<BinPrefix> {
    let mut short = BTreeSet::new();
    while short.len() < SHORT_PREFIX_COUNT {
        let mut prefix = vec![b'4' + stream.below(3) as u8];
        stream.digits(&mut prefix, 5);
        short.insert(prefix);
    }
    let short: Vec<Vec<u8>> = short.into_iter().collect();
    let mut nested = BTreeSet::new();
    while nested.len() < NESTED_PREFIX_COUNT {
        let mut prefix = short[stream.below(short.len() as u64) as usize].clone();
        let extra = 2 + stream.below(3) as usize;
        stream.digits(&mut prefix, extra);
        nested.insert(prefix);
    }
    short
        .into_iter()
        .chain(nested)
        .map(|prefix| BinPrefix {
            prefix: String::from_utf8(prefix).expect("digits"),
            bank: ParticipantId(BANK_ID_FIRST + stream.below(u64::from(BANK_COUNT)) as u16),
        })
        .collect()
}

fn participant(id: u16, role: Role) -> Participant {
    let bank = role == Role::Bank;
    Participant {
        id: ParticipantId(id),
        name: format!("participant-{id}"),
        role,
        status: Status::Active,
        kinds: if bank {
            KindSet::NONE
        } else {
            KindSet::PAYMENTS
        },
        limits_fen: [5_000_000; 4],
        cap_fen: u64::MAX / 4,
        secret: format!("secret-{id}").into_bytes(),
        links: if bank {
            (0..2)
                .map(|index| Link {
                    name: format!("dc-{index}"),
                    up: true,
                })
                .collect()
        } else {
            Vec::new()
        },
        link_strategy: if id % 2 == 0 {
            LinkStrategy::PrimarySecondary
        } else {
            LinkStrategy::RoundRobin
        },
    }
}

fn network(stream: &mut Stream) -> Network {
    let institutions = (1..=INSTITUTION_COUNT).map(|id| participant(id, Role::Institution));
    let banks = (BANK_ID_FIRST..BANK_ID_FIRST + BANK_COUNT).map(|id| participant(id, Role::Bank));
    Network {
        operator_secret: b"operator-secret".to_vec(),
        participants: institutions.chain(banks).collect(),
        bins: bins(stream),
    }
}

/// `EVENT_COUNT` payments, each to a card number under a prefix drawn from the table, so every
/// lookup matches (a nested prefix a tenth of the draws, by the table's share of them; a card
/// under a six-digit BIN may still fall under a nested one by chance).
fn payments(stream: &mut Stream, bins: &[BinPrefix]) -> Vec<Event> {
    (0..EVENT_COUNT)
        .map(|index| {
            // One draw in three from the nested prefixes, where the longest match decides.
            let row = if stream.below(3) == 0 {
                &bins[SHORT_PREFIX_COUNT + stream.below(NESTED_PREFIX_COUNT as u64) as usize]
            } else {
                &bins[stream.below(SHORT_PREFIX_COUNT as u64) as usize]
            };
            let length = if stream.below(2) == 0 { 16 } else { 19 };
            let mut digits = row.prefix.as_bytes().to_vec();
            let fill = length - 1 - digits.len();
            stream.digits(&mut digits, fill);
            digits.push(luhn_check_digit(&digits));
            Event::payment(
                Kind::PAYMENTS[stream.below(4) as usize],
                TxnId::new(20261130, index as u128 + 1),
                ParticipantId(1 + stream.below(u64::from(INSTITUTION_COUNT)) as u16),
                Account::new(&digits).expect("at most 19 digits"),
                1 + stream.below(1_000_000),
                index as u64,
            )
        })
        .collect()
}

/// The baseline: every prefix in one list sorted by its digits, searched for the account's first
/// 10, 9, … 6 digits in turn; the first found is the longest match.
struct SortedPrefixes(Vec<(Vec<u8>, ParticipantId)>);

impl SortedPrefixes {
    fn new(bins: &[BinPrefix]) -> SortedPrefixes {
        let mut rows: Vec<(Vec<u8>, ParticipantId)> = bins
            .iter()
            .map(|row| (row.prefix.as_bytes().to_vec(), row.bank))
            .collect();
        rows.sort();
        SortedPrefixes(rows)
    }

    #[inline]
    fn lookup(&self, account: &[u8]) -> Option<ParticipantId> {
        (6..=10.min(account.len())).rev().find_map(|length| {
            let wanted = &account[..length];
            self.0
                .binary_search_by(|(prefix, _)| prefix.as_slice().cmp(wanted))
                .ok()
                .map(|index| self.0[index].1)
        })
    }
}

fn bench(criterion: &mut Criterion) {
    let mut stream = Stream(0x5EED_B1A5);
    let network = network(&mut stream);
    let events = payments(&mut stream, &network.bins);
    let table = BinTable::new(&network.bins);
    let sorted = SortedPrefixes::new(&network.bins);
    let accounts: Vec<Account> = events.iter().map(|event| event.account).collect();
    assert_eq!(table.len(), SHORT_PREFIX_COUNT + NESTED_PREFIX_COUNT);
    for account in &accounts {
        let bank = table.lookup(account.as_bytes());
        assert!(bank.is_some(), "{account:?} matches a prefix");
        assert_eq!(bank, sorted.lookup(account.as_bytes()), "{account:?}");
    }
    let mut route = Route::new(&network);
    for event in &events {
        let mut results = Results::default();
        route.route(event, &mut results);
        assert_eq!(results.decline, None, "every bench payment routes");
    }
    println!(
        "stage_route: {} prefixes, {} trie nodes ({} KiB), {} banks",
        table.len(),
        table.node_count(),
        table.node_count() * 44 / 1024,
        BANK_COUNT
    );

    let mut group = criterion.benchmark_group("stage_route");
    group.throughput(Throughput::Elements(EVENT_COUNT as u64));
    group.bench_function("lookup_trie", |bencher| {
        bencher.iter(|| {
            let mut sum = 0u64;
            for account in black_box(&accounts) {
                sum += table
                    .lookup(account.as_bytes())
                    .map_or(0, |bank| u64::from(bank.0));
            }
            black_box(sum)
        })
    });
    group.bench_function("lookup_sorted_vec", |bencher| {
        bencher.iter(|| {
            let mut sum = 0u64;
            for account in black_box(&accounts) {
                sum += sorted
                    .lookup(account.as_bytes())
                    .map_or(0, |bank| u64::from(bank.0));
            }
            black_box(sum)
        })
    });
    group.bench_function("route", |bencher| {
        bencher.iter(|| {
            let mut sum = 0u64;
            for event in black_box(&events) {
                let mut results = Results::default();
                route.route(event, &mut results);
                sum += u64::from(results.bank.0) + u64::from(results.link);
            }
            black_box(sum)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = clearway_benches::criterion();
    targets = bench
}
criterion_main!(benches);
