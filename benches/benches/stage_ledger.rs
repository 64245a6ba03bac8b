//! `stage_ledger`: the ledger alone, on one core, over pre-built events — payments and the
//! banks' approvals (a hold placed, then posted), with 1,024 payments in flight between a
//! payment and its reply.
//!
//! ```text
//!   pre-built events ──► Ledger::apply ──► results (checked: every payment Forwarded,
//!                                                   every reply Approved)
//! ```
//!
//! Case `payment_and_approve` runs the ledger with its default configuration (a 2^22-entry
//! window per generation, 2^20 holds), so the tables are the size a node starts with, not ones
//! that fit in cache. One timed iteration applies 2^20 payment/reply pairs and then two
//! cutovers, which forget the ids so the next iteration can send them again; the cutovers are
//! timed too. Case `cache_resident` runs the same with tables sized for 2^14 pairs, which fit in
//! L2: the difference between the two is what the memory behind the default tables costs. Case
//! `rate_sized` sizes the tables the way `clearway run` does for 1 M payments/s (window and
//! holds = rate × 1 s × 1.5 = 1.5 M each), the realistic configuration.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use clearway_core::event::{
    luhn_check_digit, Account, Event, Kind, KindSet, Outcome, ParticipantId, Results, TxnId,
};
use clearway_core::network::{BinPrefix, Link, LinkStrategy, Network, Participant, Role, Status};
use clearway_core::stage::{Ledger, LedgerConfig};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Payment/reply pairs per timed iteration, with the default configuration.
const PAIR_COUNT: usize = 1 << 20;
/// Payment/reply pairs per timed iteration, with tables that fit in cache.
const PAIR_COUNT_CACHE_RESIDENT: usize = 1 << 14;
/// Payments sent before the first reply: the holds in flight.
const IN_FLIGHT: usize = 1_024;
/// Window and hold capacity of case `rate_sized`: 1 M payments/s × 1 s × 1.5.
const RATE_SIZED_CAPACITY: usize = 1_500_000;
const INSTITUTION_COUNT: u16 = 8;
const BANK: ParticipantId = ParticipantId(100);

fn network() -> Network {
    let participant = |id: u16, role: Role| Participant {
        id: ParticipantId(id),
        name: format!("participant-{id}"),
        role,
        status: Status::Active,
        kinds: if role == Role::Bank {
            KindSet::NONE
        } else {
            KindSet::PAYMENTS
        },
        limits_fen: [u64::MAX; 4],
        cap_fen: u64::MAX,
        secret: vec![id as u8],
        links: vec![Link {
            name: "line".into(),
            up: true,
        }],
        link_strategy: LinkStrategy::PrimarySecondary,
    };
    let mut participants: Vec<_> = (1..=INSTITUTION_COUNT)
        .map(|id| participant(id, Role::Institution))
        .collect();
    participants.push(participant(BANK.0, Role::Bank));
    Network {
        operator_secret: b"operator".to_vec(),
        participants,
        bins: vec![BinPrefix {
            prefix: "622202".into(),
            bank: BANK,
        }],
    }
}

/// `pair_count` payments (debits and payouts, alternating) and their approvals, each reply
/// `IN_FLIGHT` payments after its payment.
fn events(pair_count: usize) -> Vec<Event> {
    let mut digits = b"622202123456789012".to_vec();
    digits.push(luhn_check_digit(&digits));
    let account = Account::new(&digits).unwrap();
    let mut events = Vec::with_capacity(2 * pair_count);
    let payment = |index: usize| {
        let kind = if index % 2 == 0 {
            Kind::AgreementDebit
        } else {
            Kind::PayoutCredit
        };
        let sender = ParticipantId(1 + (index % INSTITUTION_COUNT as usize) as u16);
        let txn_id = TxnId::new(20261130, index as u128 * 7_919 + 1);
        Event::payment(kind, txn_id, sender, account, 100 + index as u64 % 1_000, 0)
    };
    for index in 0..pair_count + IN_FLIGHT {
        if index < pair_count {
            events.push(payment(index));
        }
        if index >= IN_FLIGHT {
            let answered = payment(index - IN_FLIGHT);
            events.push(Event::bank_reply(BANK, answered.txn_id, true, 0, 0));
        }
    }
    for (sequence, event) in events.iter_mut().enumerate() {
        event.sequence = sequence as u64;
        event.event_ns = sequence as u64;
    }
    events
}

fn cutover() -> Event {
    Event::operator(Kind::Cutover, ParticipantId::OPERATOR, 0, 0)
}

/// Applies the block, then two cutovers each a window span later than the clock, so that the
/// window turns twice and forgets the block's ids (memory turns by time, not by batch: the next
/// iteration's payments are new again); returns how many events got the outcome expected.
fn run(ledger: &mut Ledger, events: &[Event]) -> usize {
    let mut right = 0;
    for event in events {
        let mut results = Results {
            bank: BANK,
            ..Results::default()
        };
        ledger.apply(event, &mut results, &mut ());
        let expected = if event.kind == Kind::BankReply {
            Outcome::Approved
        } else {
            Outcome::Forwarded
        };
        right += usize::from(results.outcome == expected);
    }
    for _ in 0..2 {
        let mut results = Results::default();
        let mut event = cutover();
        event.event_ns = ledger.clock_ns() + ledger.config().window_span_ns;
        ledger.apply(&event, &mut results, &mut ());
        black_box(results);
    }
    right
}

fn stage_ledger(criterion: &mut Criterion) {
    let network = network();
    let mut group = criterion.benchmark_group("stage_ledger");
    group.sample_size(10);
    let cache_resident = LedgerConfig {
        holds_capacity: 2 * IN_FLIGHT,
        window_capacity: 2 * PAIR_COUNT_CACHE_RESIDENT,
        ..LedgerConfig::default()
    };
    let rate_sized = LedgerConfig {
        holds_capacity: RATE_SIZED_CAPACITY,
        window_capacity: RATE_SIZED_CAPACITY,
        ..LedgerConfig::default()
    };
    for (name, pair_count, config) in [
        ("payment_and_approve", PAIR_COUNT, LedgerConfig::default()),
        ("cache_resident", PAIR_COUNT_CACHE_RESIDENT, cache_resident),
        ("rate_sized", PAIR_COUNT, rate_sized),
    ] {
        let events = events(pair_count);
        let mut ledger = Ledger::new(&network, config);
        group.throughput(Throughput::Elements(events.len() as u64));
        group.bench_function(name, |bencher| {
            bencher.iter_custom(|iterations| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iterations {
                    let start = Instant::now();
                    let right = run(&mut ledger, black_box(&events));
                    elapsed += start.elapsed();
                    assert_eq!(right, events.len(), "an event was not answered as expected");
                    assert_eq!(ledger.positions_sum(), 0);
                }
                elapsed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, stage_ledger);
criterion_main!(benches);
