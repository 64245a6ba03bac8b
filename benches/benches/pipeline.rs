//! ```text
//!                      ┌──────┐      ┌──────┐      ┌──────┐
//!   producer ──ring──► │  a   │ ───► │  b   │ ───► │  c   │     clearway: one ring, three cursors
//!                      └──────┘      └──────┘      └──────┘
//!   producer ──chan──►    a    ──chan──►   b   ──chan──►   c     crossbeam_channel: three queues
//!   producer ─► a ─► b ─► c   (one thread, no queue)              fused
//! ```
//! Group `pipeline_1p3c`: one producer and three chained stages, each doing the same small fixed
//! work per event (`stage_work`), 1,000,000 events per iteration. The last stage adds up its
//! results; the sum is checked before the iteration counts.
//!
//! With a core for every thread, each thread is pinned to its own and busy-spins. With fewer
//! (the 2-core dev box), threads outnumber cores, so the ring's stages spin then yield, and the
//! channels block as they always do; the topology printed at the start says which. The cases are
//! in `src/pipeline.rs`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};

fn bench(criterion: &mut Criterion) {
    clearway_benches::run_group(criterion, &clearway_benches::pipeline::GROUP);
}

criterion_group! {
    name = benches;
    config = clearway_benches::criterion();
    targets = bench
}
criterion_main!(benches);
