//! ```text
//!   producer (core 0) ──► queue of 1024 × 64 B ──► consumer (core 1)
//! ```
//! Group `spsc_64B`: one producer, one consumer, 1,000,000 messages of 64 bytes per iteration,
//! each pinned to its own core, every thread busy-spinning. The consumer adds up what arrives;
//! the sum is checked before the iteration counts. The cases are in `src/spsc.rs`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};

fn bench(criterion: &mut Criterion) {
    clearway_benches::run_group(criterion, &clearway_benches::spsc::GROUP);
}

criterion_group! {
    name = benches;
    config = clearway_benches::criterion();
    targets = bench
}
criterion_main!(benches);
