//! ```text
//!   4,096 signed payments ──► Authorize::check ──► results   (one thread, no ring)
//! ```
//! Group `stage_authorize`: the authorize stage alone on a batch of 4,096 pre-built payments from
//! 20 institutions (all four kinds, 16- and 19-digit card numbers, every one passing), once
//! checking HMAC-SHA256 MACs and once with MAC mode `none`. Throughput is events checked per
//! second; criterion's time per iteration divided by 4,096 is the cost of one event. Every event
//! is checked to pass before timing starts, so the whole rule chain runs for each.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use clearway_benches::Stream;
use clearway_core::event::{
    luhn_check_digit, Account, Event, Kind, KindSet, MacMode, ParticipantId, Results, TxnId,
};
use clearway_core::network::{BinPrefix, Link, LinkStrategy, Network, Participant, Role, Status};
use clearway_core::stage::Authorize;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Events per timed iteration: one ring's worth.
const EVENT_COUNT: usize = 4_096;

/// Institutions sending them.
const INSTITUTION_COUNT: u16 = 20;

/// Banks in the network (their keys are in the table but they send nothing here).
const BANK_COUNT: u16 = 10;

fn participant(id: u16, role: Role) -> Participant {
    let institution = role == Role::Institution;
    Participant {
        id: ParticipantId(id),
        name: format!("participant-{id}"),
        role,
        status: Status::Active,
        kinds: if institution {
            KindSet::PAYMENTS
        } else {
            KindSet::NONE
        },
        limits_fen: if institution { [5_000_000; 4] } else { [0; 4] },
        cap_fen: u64::MAX / 4,
        secret: format!("secret-of-participant-{id}-32-bytes").into_bytes(),
        links: if institution {
            Vec::new()
        } else {
            vec![Link {
                name: "dc-0".to_string(),
                up: true,
            }]
        },
        link_strategy: LinkStrategy::PrimarySecondary,
    }
}

fn network() -> Network {
    let institutions = (1..=INSTITUTION_COUNT).map(|id| participant(id, Role::Institution));
    let banks = (101..101 + BANK_COUNT).map(|id| participant(id, Role::Bank));
    Network {
        operator_secret: b"operator-secret".to_vec(),
        participants: institutions.chain(banks).collect(),
        bins: (0..BANK_COUNT)
            .map(|index| BinPrefix {
                prefix: format!("6222{:02}", index),
                bank: ParticipantId(101 + index),
            })
            .collect(),
    }
}

/// A card number of `length` digits under one of the network's BINs, passing Luhn.
fn card(stream: &mut Stream, length: usize) -> Account {
    let mut digits = format!("6222{:02}", stream.below(u64::from(BANK_COUNT))).into_bytes();
    while digits.len() < length - 1 {
        digits.push(b'0' + stream.below(10) as u8);
    }
    digits.push(luhn_check_digit(&digits));
    Account::new(&digits).expect("at most 19 digits")
}

/// `EVENT_COUNT` signed payments, every one passing authorize.
fn payments(network: &Network) -> Vec<Event> {
    let mut stream = Stream(0x5EED_A07E);
    (0..EVENT_COUNT)
        .map(|index| {
            let sender = ParticipantId(1 + stream.below(u64::from(INSTITUTION_COUNT)) as u16);
            let kind = Kind::PAYMENTS[stream.below(4) as usize];
            let length = if stream.below(2) == 0 { 16 } else { 19 };
            let mut event = Event::payment(
                kind,
                TxnId::new(20261130, index as u128 + 1),
                sender,
                card(&mut stream, length),
                1 + stream.below(1_000_000),
                index as u64,
            );
            if kind == Kind::Refund {
                event.original = TxnId::new(20261129, index as u128 + 1);
            }
            event.mac = network
                .participant(sender)
                .expect("a sender in the network")
                .mac_key()
                .sign(&event);
            event
        })
        .collect()
}

fn bench(criterion: &mut Criterion) {
    let network = network();
    let events = payments(&network);
    let mut group = criterion.benchmark_group("stage_authorize");
    group.throughput(Throughput::Elements(EVENT_COUNT as u64));
    for (name, mode) in [("hmac", MacMode::Hmac), ("none", MacMode::None)] {
        let mut authorize = Authorize::new(&network, mode);
        for event in &events {
            let mut results = Results::default();
            authorize.check(event, &mut results);
            assert_eq!(results.decline, None, "{name}: every bench event passes");
        }
        group.bench_function(name, |bencher| {
            bencher.iter(|| {
                let mut passed = 0u32;
                for event in black_box(&events) {
                    let mut results = Results::default();
                    authorize.check(event, &mut results);
                    passed += u32::from(results.passed());
                }
                black_box(passed)
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = clearway_benches::criterion();
    targets = bench
}
criterion_main!(benches);
