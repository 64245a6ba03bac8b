//! ```text
//!   producer 0 ──┐
//!                ├──► queue of 1024 × 64 B ──► consumer
//!   producer 1 ──┘
//! ```
//! Group `mpsc_64B`: two producers, one consumer, 1,000,000 messages of 64 bytes per iteration
//! (half from each producer). `clearway` is the multi-producer ring, one publish per message: one
//! atomic add per claim and per-slot availability flags; `clearway_batch64` claims 64 at a time; `crossbeam_array_queue` is
//! crossbeam's MPMC array queue. With a core per thread, all three are pinned and spin; with fewer
//! (the 2-core dev box) threads outnumber cores, so waits spin then yield (Clearway's
//! `spin-then-yield`, crossbeam's `Backoff::snooze`). The consumer's sum is checked before the
//! iteration counts. The cases are in `src/mpsc.rs`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};

fn bench(criterion: &mut Criterion) {
    clearway_benches::run_group(criterion, &clearway_benches::mpsc::GROUP);
}

criterion_group! {
    name = benches;
    config = clearway_benches::criterion();
    targets = bench
}
criterion_main!(benches);
