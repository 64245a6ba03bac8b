//! Shared pieces of Clearway's criterion benchmarks. The principal type in this crate is
//! [`Message`], the 64-byte payload every queue in the comparison carries.
//!
//! # Layout
//!
//! | bench | group | compares |
//! | --- | --- | --- |
//! | `benches/spsc.rs` | `spsc_64B` | Clearway's ring, one publish and batches of 64, against crossbeam, rtrb and disruptor |
//! | `benches/pipeline.rs` | `pipeline_1p3c` | one producer and three chained stages: Clearway, crossbeam channels, fused |
//! | `benches/mpsc.rs` | `mpsc_64B` | two producers and one consumer: Clearway's multi-producer ring, crossbeam |
//! | `benches/ratios.rs` | (none) | any group's cases interleaved round by round, as ratios |
//!
//! The cases live in `src/{spsc,pipeline,mpsc}.rs`; the bench files only hand them to criterion
//! or to the interleaving runner.
//!
//! Every bench times only the messages moving (threads are started and stopped around each timed
//! span, the same way for every queue), and checks a checksum of what arrived before it counts.
//! Group `harness_overhead` runs each bench's harness with nothing to carry (start and join the
//! threads, loop over the values), so its cost can be told apart from the queues'.

pub mod mpsc;
pub mod pipeline;
pub mod spsc;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clearway_core::pipeline::{
    available_cores, pin_current_thread, Handlers, InputHandler, Pipeline, Producer, ProducerKind,
    StageConfig, StageFault, TopologyConfig,
};
use clearway_core::ring::WaitStrategy;
use criterion::{Criterion, Throughput};

/// A case: moves [`MESSAGES`] once; returns the time it took and the checksum that arrived.
pub type Case = fn() -> (Duration, u64);

/// A benchmark group: its cases, what their checksum must be, and its harness-overhead case.
pub struct Group {
    /// The criterion group id.
    pub name: &'static str,
    /// The function id of this group's case in group `harness_overhead`.
    pub overhead_name: &'static str,
    /// The cases, by function id.
    pub cases: &'static [(&'static str, Case)],
    /// The checksum every case must arrive at.
    pub expected: fn() -> u64,
    /// The harness with nothing to carry.
    pub overhead: Case,
    /// The checksum the overhead case must arrive at.
    pub overhead_expected: fn() -> u64,
    /// Where the threads run, in words: printed before the group.
    pub describe: fn() -> String,
    /// The core of the calling thread, when it is the producer and has one. Threads it starts
    /// inherit its affinity, so a group whose other threads run unpinned leaves it unpinned too.
    pub producer_core: fn() -> Option<usize>,
}

/// Runs `group` under criterion, with the producer's thread pinned first, and its overhead case
/// in group `harness_overhead`.
pub fn run_group(criterion: &mut Criterion, group: &Group) {
    println!("{}", (group.describe)());
    pin((group.producer_core)());
    let expected = (group.expected)();
    let mut benchmark = criterion.benchmark_group(group.name);
    benchmark.throughput(Throughput::Elements(MESSAGES));
    for &(name, case) in group.cases {
        benchmark.bench_function(name, |bencher| {
            bencher.iter_custom(|iterations| timed(name, iterations, expected, case))
        });
    }
    benchmark.finish();

    let expected = (group.overhead_expected)();
    let mut benchmark = criterion.benchmark_group("harness_overhead");
    benchmark.throughput(Throughput::Elements(MESSAGES));
    benchmark.bench_function(group.overhead_name, |bencher| {
        bencher.iter_custom(|iterations| timed("overhead", iterations, expected, group.overhead))
    });
    benchmark.finish();
}

/// Messages per timed iteration.
pub const MESSAGES: u64 = 1_000_000;

/// Slots in every queue and ring.
pub const CAPACITY: usize = 1024;

/// A 64-byte message: one value the consumer sums, and padding to a cache line.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
pub struct Message {
    /// What the consumer adds up.
    pub value: u64,
    /// Makes the message 64 bytes, as a small payment event is.
    pub padding: [u64; 7],
}

const _: () = assert!(std::mem::size_of::<Message>() == 64);

impl Message {
    /// The message carrying `value`.
    #[inline(always)]
    pub fn new(value: u64) -> Self {
        Self {
            value,
            padding: [0; 7],
        }
    }
}

/// The consumer every Clearway case uses: sums message values, and reports the sum into `total`
/// when the pipeline shuts down (so nothing shared is written per message).
pub struct Sum {
    local: u64,
    total: Arc<AtomicU64>,
}

impl Sum {
    /// A sum at zero, reported into `total`.
    pub fn new(total: Arc<AtomicU64>) -> Self {
        Self { local: 0, total }
    }
}

impl InputHandler<Message> for Sum {
    #[inline(always)]
    fn on_event(&mut self, message: &Message, _: u64, _: bool) -> Result<(), StageFault> {
        self.local = self.local.wrapping_add(message.value);
        Ok(())
    }

    fn on_shutdown(&mut self) {
        self.total.store(self.local, Ordering::Relaxed);
    }
}

/// The Clearway side of the queue comparisons: a pipeline with one input-only stage, `consumer`,
/// that sums what arrives. Returns the pipeline and where the sum lands when it shuts down.
pub fn summing_pipeline(
    kind: ProducerKind,
    wait: WaitStrategy,
    consumer_core: Option<usize>,
) -> (Pipeline<Message, ()>, Arc<AtomicU64>) {
    let mut stage = StageConfig::new("consumer").wait(wait);
    if let Some(core) = consumer_core {
        stage = stage.core(core);
    }
    let topology = TopologyConfig::new()
        .ring_capacity(CAPACITY)
        .producer_kind(kind)
        .producer_wait(wait)
        .stage(stage)
        .validate()
        .expect("the bench topology is valid");
    let total = Arc::new(AtomicU64::new(0));
    let handlers = {
        let total = Arc::clone(&total);
        Handlers::new().input_stage("consumer", move |_| Sum::new(Arc::clone(&total)))
    };
    let pipeline = Pipeline::start(&topology, handlers).expect("the bench pipeline starts");
    (pipeline, total)
}

/// Publishes the messages `first..first + count` through `producer`: one publish per message
/// when `batch` is 1, else `publish_batch` of up to `batch` at a time.
pub fn publish_messages(
    producer: &mut Producer<'_, Message, ()>,
    first: u64,
    count: u64,
    batch: usize,
) {
    let end = first + count;
    if batch == 1 {
        for index in first..end {
            producer
                .publish(|_, message, _| message.value = value_of(index))
                .unwrap();
        }
    } else {
        let mut index = first;
        while index < end {
            let chunk = batch.min((end - index) as usize);
            producer
                .publish_batch(chunk, |_, message, _| {
                    message.value = value_of(index);
                    index += 1;
                })
                .unwrap();
        }
    }
}

/// The value of message `index`: distinct per message, so a lost, duplicated or stale message
/// changes the checksum.
#[inline(always)]
pub fn value_of(index: u64) -> u64 {
    index.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 8
}

/// What a consumer's sum of `value_of(0..count)` must come to.
pub fn checksum(count: u64) -> u64 {
    (0..count).fold(0, |sum, index| sum.wrapping_add(value_of(index)))
}

/// Runs `iterations` iterations of `case`, checking each one's checksum against `expected`, and
/// returns the time they took together: what criterion's `iter_custom` wants.
pub fn timed(name: &str, iterations: u64, expected: u64, case: Case) -> Duration {
    (0..iterations)
        .map(|_| {
            let (elapsed, received) = case();
            verify(name, received, expected);
            elapsed
        })
        .sum()
}

/// Panics with the bench name unless what arrived adds up.
pub fn verify(bench: &str, received: u64, expected: u64) {
    assert_eq!(
        received, expected,
        "{bench}: the checksum of what arrived is wrong; this run does not count"
    );
}

/// The small fixed work each pipeline stage does per event: a few rounds of a 64-bit mix, so the
/// stages cost something and the compiler cannot fold them away.
#[inline(always)]
pub fn stage_work(value: u64, round_key: u64) -> u64 {
    let mut x = value ^ round_key;
    for _ in 0..4 {
        x ^= x >> 31;
        x = x.wrapping_mul(0x7FB5_D329_728E_A185);
    }
    x
}

/// The cores the benches pin to: the producer's, then one per other thread as far as the machine
/// has them (`None` where it does not: that thread runs unpinned).
pub fn bench_cores(threads: usize) -> Vec<Option<usize>> {
    let cores = available_cores();
    (0..threads)
        .map(|index| cores.get(index).copied())
        .collect()
}

/// Pins the calling thread, if it has a core.
pub fn pin(core: Option<usize>) {
    if let Some(core) = core {
        pin_current_thread(core).unwrap_or_else(|error| panic!("{error}"));
    }
}

/// Criterion set for these benches: each iteration moves a million messages, so ten samples over
/// a few seconds give a stable median without the run taking minutes per queue.
pub fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args()
}

/// splitmix64: a deterministic stream, so every run of a bench builds the same inputs.
pub struct Stream(pub u64);

impl Stream {
    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// Appends `count` random ASCII digits to `into`.
    pub fn digits(&mut self, into: &mut Vec<u8>, count: usize) {
        for _ in 0..count {
            into.push(b'0' + self.below(10) as u8);
        }
    }
}
