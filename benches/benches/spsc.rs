//! ```text
//!   producer (core 0) ──► queue of 1024 × 64 B ──► consumer (core 1)
//! ```
//! Group `spsc_64B`: one producer, one consumer, 1,000,000 messages of 64 bytes per iteration,
//! each pinned to its own core, every thread busy-spinning. The consumer adds up what arrives;
//! the sum is checked before the iteration counts. The cases are in `src/spsc.rs`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use clearway_benches::spsc::{overhead, CASES};
use clearway_benches::{bench_cores, criterion, pin, timed, MESSAGES};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn spsc(criterion: &mut Criterion) {
    let cores = bench_cores(2);
    pin(cores[0]);
    println!(
        "spsc_64B: producer on core {:?}, consumer on core {:?}",
        cores[0], cores[1]
    );
    let mut group = criterion.benchmark_group("spsc_64B");
    group.throughput(Throughput::Elements(MESSAGES));
    for (name, case) in CASES {
        group.bench_function(name, |bencher| {
            bencher.iter_custom(|iterations| timed(name, iterations, case))
        });
    }
    group.finish();

    let mut group = criterion.benchmark_group("harness_overhead");
    group.throughput(Throughput::Elements(MESSAGES));
    group.bench_function("spsc", |bencher| {
        bencher.iter_custom(|iterations| timed("overhead", iterations, overhead))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = spsc
}
criterion_main!(benches);
