//! How many ns one `Institutions::next_payment` costs, signing included, on a network of the real
//! one's size (115 institutions, 424 banks): `cargo run --release -p clearway-loadgen --example
//! payment_cost`. It bounds what one producer thread can offer.

use std::time::Instant;

use clearway_core::event::{Kind, KindSet, ParticipantId, PAYMENT_KIND_COUNT};
use clearway_core::network::{BinPrefix, LinkStrategy, Network, Participant, Role, Status};
use clearway_loadgen::{Arrivals, Institutions, WorkloadConfig};

fn participant(id: u16, role: Role) -> Participant {
    Participant {
        id: ParticipantId(id),
        name: format!("p{id}"),
        role,
        status: Status::Active,
        kinds: if role == Role::Bank {
            KindSet::NONE
        } else {
            Kind::PAYMENTS.into_iter().collect()
        },
        limits_fen: [500_000_000; PAYMENT_KIND_COUNT],
        cap_fen: u64::MAX,
        secret: format!("secret-{id}").into_bytes(),
        links: Vec::new(),
        link_strategy: LinkStrategy::PrimarySecondary,
    }
}

/// Nanoseconds this thread has run on a CPU (Linux): on a shared machine, wall time counts the
/// time other processes held the core.
fn cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}

fn main() {
    let mut participants: Vec<Participant> = (1..=115)
        .map(|id| participant(id, Role::Institution))
        .collect();
    participants.extend((1_000..1_424).map(|id| participant(id, Role::Bank)));
    let bins = (0..424u32)
        .flat_map(|index| {
            [
                BinPrefix {
                    prefix: format!("{}", 600_000 + index),
                    bank: ParticipantId(1_000 + index as u16),
                },
                BinPrefix {
                    prefix: format!("{}", 400_000 + index * 7),
                    bank: ParticipantId(1_000 + index as u16),
                },
            ]
        })
        .collect();
    let network = Network {
        operator_secret: b"operator".to_vec(),
        participants,
        bins,
    };
    let config = WorkloadConfig::default();
    let built = Instant::now();
    let mut institutions = Institutions::new(&network, &config, 1);
    println!("built in {:?}", built.elapsed());
    let mut arrivals = Arrivals::from_config(&config, 1);
    let times: Vec<u64> = (0..1_000_000).map(|_| arrivals.next_ns()).collect();
    for round in 0..3 {
        let start = Instant::now();
        let cpu_start = cpu_ns();
        let mut checksum = 0u64;
        for &time in &times {
            let event = institutions.next_payment(time + round * 10_000_000_000);
            checksum = checksum.wrapping_add(event.amount_fen ^ u64::from(event.mac.0[0]));
        }
        let elapsed = start.elapsed();
        let cpu = cpu_ns() - cpu_start;
        println!(
            "round {round}: {:.1} ns/payment wall, {:.1} ns/payment on CPU ({checksum})",
            elapsed.as_nanos() as f64 / times.len() as f64,
            cpu as f64 / times.len() as f64
        );
    }
    println!("injected {:?}", institutions.injected());
    let key = network.participants[0].mac_key();
    let mut event = institutions.next_payment(0);
    let start = Instant::now();
    let cpu_start = cpu_ns();
    for index in 0..1_000_000u64 {
        event.amount_fen = index;
        event.mac = key.sign(std::hint::black_box(&event));
    }
    println!(
        "sign alone: {:.1} ns wall, {:.1} ns on CPU ({:?})",
        start.elapsed().as_nanos() as f64 / 1e6,
        (cpu_ns() - cpu_start) as f64 / 1e6,
        event.mac.0[0]
    );
}
