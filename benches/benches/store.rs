//! The payment store on this machine's disk: writes of decided payments (ingested in order, and
//! batched), lookups that find one and lookups that do not, a refund's original with its
//! refunds, dropping an hour's partitions, and the bytes a payment takes on disk.
//!
//! ```text
//!   StoredPayment ×65,536 ─► PaymentStore::write (in order: sorted, ingested into a table)
//!   StoredPayment ×512    ─► PaymentStore::write (late: one atomic batch, no sync)
//!   txn id ─► PaymentStore::payment / original (the prefetch's reads)
//! ```
//!
//! `cargo bench -p clearway-benches --bench store` runs the criterion groups:
//! - `store_write/512`: a batch of 512 payments written to the late partitions, the engine's
//!   journal and memtables;
//! - `store_lookup/found`, `store_lookup/absent`, `store_lookup/original`: one read each, over a
//!   store of 1,000,000 payments.
//!
//! `cargo bench -p clearway-benches --bench store -- figures [PAYMENTS]` instead writes PAYMENTS
//! (default 2,000,000) over four hours' partitions on one thread, as the store writer does, in
//! writes of [`INGEST`] whose seconds follow each other, and prints payments per second written
//! (with the process's CPU time, the engine's background work included, until it is idle),
//! the same written in batches of [`BATCH`] into the late partitions, the mean of each kind of
//! read, the time to drop an hour's partitions, and bytes per payment on disk after a flush and
//! a full compaction: what docs/DURABILITY.md quotes. The files go to a folder under the
//! system's temporary directory, removed after.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::time::Instant;

use clearway_core::event::{Kind, Outcome, ParticipantId, TxnId};
use clearway_core::store::{Arrival, PaymentStore, StoredPayment};
use criterion::{criterion_group, BatchSize, Criterion, Throughput};

/// Payments a batched write holds in these measurements: a ring batch.
const BATCH: usize = 512;

/// Payments an in-order write holds in these measurements: about what the store writer writes
/// at once at 250,000 payments/s.
const INGEST: usize = 65_536;

/// 2026-12-07 10:00:00 UTC: the first payment's second.
const START_S: u64 = 1_796_637_600;

fn scratch(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "clearway-bench-store-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&path);
    path
}

/// Payment `index` of `count` spread evenly over `hours` hours from [`START_S`]: ids in time
/// order, 115 institutions interleaved; one in ten a refund of an earlier debit.
fn payment(index: u64, count: u64, hours: u64) -> StoredPayment {
    let second = START_S + index * hours * 3_600 / count.max(1);
    let institution = (index.wrapping_mul(0x9E37_79B9) % 115) as u16 + 1;
    let refund = index % 10 == 9;
    StoredPayment {
        txn_id: TxnId::at(second, u128::from(institution) << 40 | u128::from(index)),
        original: if refund {
            let original = index - 9;
            let original_second = START_S + original * hours * 3_600 / count.max(1);
            let original_institution = (original.wrapping_mul(0x9E37_79B9) % 115) as u16 + 1;
            TxnId::at(
                original_second,
                u128::from(original_institution) << 40 | u128::from(original),
            )
        } else {
            TxnId::NONE
        },
        fingerprint: index.wrapping_mul(0xD6E8_FEB8_6659_FD93),
        amount_fen: 1_000 + index % 100_000,
        outcome: if index % 50 == 0 {
            Outcome::Declined
        } else {
            Outcome::Approved
        },
        kind: if refund {
            Kind::Refund
        } else {
            Kind::AgreementDebit
        },
        institution: ParticipantId(institution),
        bank: ParticipantId(1_000 + (index % 424) as u16),
        batch: index / 120_000 + 1,
        finished_sequence: index * 2,
        finished_ns: index * 8_333,
    }
}

/// Writes `count` payments over `hours` hours in writes of `size` into `arrival`'s partitions;
/// returns the seconds the writes took. Payments follow each other in time, so writes of
/// [`INGEST`] in order keep their seconds in order, as the store writer's do (the ids within a
/// write are not sorted: institutions interleave).
fn fill(store: &mut PaymentStore, count: u64, hours: u64, size: usize, arrival: Arrival) -> f64 {
    let mut chunk = Vec::with_capacity(size);
    let started = Instant::now();
    for index in 0..count {
        chunk.push(payment(index, count, hours));
        if chunk.len() == size || index + 1 == count {
            store.write(&chunk, arrival).expect("the store writes");
            store
                .record_through(index * 2 + 1)
                .expect("the store writes");
            chunk.clear();
        }
    }
    started.elapsed().as_secs_f64()
}

/// This process's CPU time so far, s (user and system, every thread): from /proc, 0 elsewhere.
fn cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |at: usize| fields.get(at).and_then(|field| field.parse::<f64>().ok());
    // After the command's name: state is field 0, utime 11, stime 12, in clock ticks (100/s).
    (ticks(11).unwrap_or(0.0) + ticks(12).unwrap_or(0.0)) / 100.0
}

/// Waits until the engine's background threads have been idle for half a second: what a CPU
/// figure that includes its flushes and compactions needs.
fn until_idle() {
    let mut last = cpu_s();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
        let now = cpu_s();
        if now - last < 0.02 {
            return;
        }
        last = now;
    }
}

fn bench(criterion: &mut Criterion) {
    let path = scratch("criterion");
    let mut store = PaymentStore::open(&path).expect("a fresh store opens");
    let count = 1_000_000u64;
    fill(&mut store, count, 4, INGEST, Arrival::InOrder);

    let mut group = criterion.benchmark_group("store_write");
    group.throughput(Throughput::Elements(BATCH as u64));
    let next = std::cell::Cell::new(count);
    group.bench_function("512", |bencher| {
        bencher.iter_batched(
            || {
                let first = next.get();
                next.set(first + BATCH as u64);
                (first..first + BATCH as u64)
                    .map(|index| payment(index % count, count, 4))
                    .map(|mut payment| {
                        payment.txn_id = TxnId(payment.txn_id.0 ^ 1 << 70);
                        payment
                    })
                    .collect::<Vec<StoredPayment>>()
            },
            |batch| {
                store
                    .write(&batch, Arrival::Late)
                    .expect("the store writes")
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();

    let mut group = criterion.benchmark_group("store_lookup");
    let mut index = 0u64;
    group.bench_function("found", |bencher| {
        bencher.iter(|| {
            index = (index + 7_919) % count;
            store
                .payment(payment(index, count, 4).txn_id, u64::MAX)
                .expect("the store reads")
        });
    });
    group.bench_function("absent", |bencher| {
        bencher.iter(|| {
            index = (index + 7_919) % count;
            let id = payment(index, count, 4).txn_id;
            store
                .payment(TxnId(id.0 ^ 1 << 60), u64::MAX)
                .expect("the store reads")
        });
    });
    group.bench_function("original", |bencher| {
        bencher.iter(|| {
            index = (index + 7_919) % count;
            store
                .original(payment(index, count, 4).txn_id, u64::MAX)
                .expect("the store reads")
        });
    });
    group.finish();
    drop(store);
    let _ = std::fs::remove_dir_all(&path);
}

/// `figures [PAYMENTS]`: see the module documentation.
fn figures(count: u64) {
    let hours = 4;
    {
        let path = scratch("figures-late");
        let mut store = PaymentStore::open(&path).expect("a fresh store opens");
        let cpu = cpu_s();
        let seconds = fill(&mut store, count, hours, BATCH, Arrival::Late);
        until_idle();
        println!(
            "write, batches of {BATCH} into the late partitions: {:.0} payments/s on the writing \
             thread; {:.2} µs of CPU a payment, the engine's flushes and compactions included",
            count as f64 / seconds,
            (cpu_s() - cpu) * 1e6 / count as f64
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&path);
    }
    let path = scratch("figures");
    let mut store = PaymentStore::open(&path).expect("a fresh store opens");
    let cpu = cpu_s();
    let seconds = fill(&mut store, count, hours, INGEST, Arrival::InOrder);
    until_idle();
    println!(
        "write, {INGEST} at a time in order (ingested): {:.0} payments/s on the writing thread; \
         {:.2} µs of CPU a payment, the engine's background work included",
        count as f64 / seconds,
        (cpu_s() - cpu) * 1e6 / count as f64
    );
    let lookups = 200_000u64;
    let mean_ns = |store: &mut PaymentStore, read: &dyn Fn(&mut PaymentStore, u64)| {
        let started = Instant::now();
        for step in 0..lookups {
            read(store, step.wrapping_mul(7_919) % count);
        }
        started.elapsed().as_nanos() as f64 / lookups as f64
    };
    let read_found = |store: &mut PaymentStore, index: u64| {
        let id = payment(index, count, hours).txn_id;
        assert!(store.payment(id, u64::MAX).unwrap().is_some());
    };
    let read_absent = |store: &mut PaymentStore, index: u64| {
        let id = payment(index, count, hours).txn_id;
        assert!(store
            .payment(TxnId(id.0 ^ 1 << 60), u64::MAX)
            .unwrap()
            .is_none());
    };
    let found = mean_ns(&mut store, &read_found);
    let absent = mean_ns(&mut store, &read_absent);
    let original = mean_ns(&mut store, &|store, index| {
        let id = payment(index - index % 10, count, hours).txn_id;
        assert!(store.original(id, u64::MAX).unwrap().is_some());
    });
    println!(
        "lookup (before settling, memtables and young tables): found {found:.0} ns, absent \
         {absent:.0} ns, an original with its refunds {original:.0} ns"
    );
    let started = Instant::now();
    store.settle().expect("the store settles");
    println!(
        "flush and full compaction: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let tables = store.table_bytes();
    println!(
        "on disk: {tables} bytes of tables for {count} payments and {} refund entries: {:.1} \
         bytes a payment ({} bytes with the engine's journal)",
        count / 10,
        tables as f64 / count as f64,
        store.disk_bytes()
    );
    let found = mean_ns(&mut store, &read_found);
    let absent = mean_ns(&mut store, &read_absent);
    println!("lookup (settled): found {found:.0} ns, absent {absent:.0} ns");
    let started = Instant::now();
    let dropped = store
        .expire(START_S + 3_600)
        .expect("the oldest hour drops");
    println!(
        "expiry: {dropped} hour ({} payments, its two partitions) dropped in {:.1} ms",
        count / hours,
        started.elapsed().as_secs_f64() * 1e3
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&path);
}

criterion_group!(benches, bench);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|arg| arg == "figures") {
        let count = args
            .get(at + 1)
            .and_then(|text| text.parse().ok())
            .unwrap_or(2_000_000);
        figures(count);
        return;
    }
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
