//! The cases of group `pipeline_1p3c`, shared by the criterion bench (`benches/pipeline.rs`) and
//! the interleaved one (`benches/ratios.rs`).
//!
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
//! channels block as they always do; the topology printed at the start says which.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use clearway_core::pipeline::{
    Fused, Handler, Handlers, Pipeline, StageConfig, StageFault, Topology, TopologyConfig,
};
use clearway_core::ring::WaitStrategy;

use crate::{
    bench_cores, checksum, pin, stage_work, value_of, Case, Group, Message, CAPACITY, MESSAGES,
};

/// Group `pipeline_1p3c`.
pub const GROUP: Group = Group {
    name: "pipeline_1p3c",
    overhead_name: "pipeline",
    cases: &[
        ("clearway", clearway as Case),
        ("crossbeam_channel", crossbeam_channel),
        ("fused", fused),
    ],
    expected: expected_checksum,
    overhead,
    overhead_expected: || checksum(MESSAGES),
    describe: || format!("pipeline_1p3c, {}", topology()),
    producer_core: || topology().config().producer.core,
};

/// What the stages write into the event as it passes.
#[derive(Clone, Copy, Default)]
struct Results {
    a: u64,
    b: u64,
    c: u64,
}

const KEY_A: u64 = 0xA5A5_A5A5_A5A5_A5A5;
const KEY_B: u64 = 0x5A5A_5A5A_5A5A_5A5A;
const KEY_C: u64 = 0x0F0F_0F0F_0F0F_0F0F;

/// The three stages' work, one event through all of it: what the checksum is built from.
fn through_all(value: u64) -> u64 {
    stage_work(stage_work(stage_work(value, KEY_A), KEY_B), KEY_C)
}

/// What the last stage's sum must come to.
pub fn expected_checksum() -> u64 {
    (0..MESSAGES).fold(0u64, |sum, index| {
        sum.wrapping_add(through_all(value_of(index)))
    })
}

struct StageA;
struct StageB;
/// The last stage: reports the sum of its results at shutdown.
struct StageC {
    local: u64,
    total: Arc<AtomicU64>,
}

impl Handler<Message, Results> for StageA {
    #[inline(always)]
    fn on_event(
        &mut self,
        m: &Message,
        r: &mut Results,
        _: u64,
        _: bool,
    ) -> Result<(), StageFault> {
        r.a = stage_work(m.value, KEY_A);
        Ok(())
    }
}

impl Handler<Message, Results> for StageB {
    #[inline(always)]
    fn on_event(
        &mut self,
        _: &Message,
        r: &mut Results,
        _: u64,
        _: bool,
    ) -> Result<(), StageFault> {
        r.b = stage_work(r.a, KEY_B);
        Ok(())
    }
}

impl Handler<Message, Results> for StageC {
    #[inline(always)]
    fn on_event(
        &mut self,
        _: &Message,
        r: &mut Results,
        _: u64,
        _: bool,
    ) -> Result<(), StageFault> {
        r.c = stage_work(r.b, KEY_C);
        self.local = self.local.wrapping_add(r.c);
        Ok(())
    }

    fn on_shutdown(&mut self) {
        self.total.store(self.local, Ordering::Relaxed);
    }
}

/// Pinned and busy-spinning with a core per thread; unpinned, spin-then-yield otherwise.
/// Validated once, before anything is pinned.
pub fn topology() -> Topology {
    static TOPOLOGY: OnceLock<Topology> = OnceLock::new();
    TOPOLOGY.get_or_init(build_topology).clone()
}

fn build_topology() -> Topology {
    let cores = bench_cores(4);
    let pinned = cores.iter().all(Option::is_some);
    let wait = if pinned {
        WaitStrategy::BusySpin
    } else {
        WaitStrategy::SpinThenYield
    };
    let mut config = TopologyConfig::new()
        .ring_capacity(CAPACITY)
        .producer_wait(wait);
    for (index, name) in ["a", "b", "c"].into_iter().enumerate() {
        let mut stage = StageConfig::new(name).wait(wait);
        if index > 0 {
            stage = stage.after([["a", "b"][index - 1]]);
        }
        if let (true, Some(core)) = (pinned, cores[index + 1]) {
            stage = stage.core(core);
        }
        config = config.stage(stage);
    }
    if let (true, Some(core)) = (pinned, cores[0]) {
        config = config.producer_core(core);
    }
    config.validate().expect("the bench topology is valid")
}

/// Clearway: the three stages as a pipeline over one ring, one publish per event.
pub fn clearway() -> (Duration, u64) {
    let topology = topology();
    let total = Arc::new(AtomicU64::new(0));
    let handlers = {
        let total = Arc::clone(&total);
        Handlers::<Message, Results>::new()
            .stage("a", |_| StageA)
            .stage("b", |_| StageB)
            .stage("c", move |_| StageC {
                local: 0,
                total: Arc::clone(&total),
            })
    };
    let pipeline = Pipeline::start(&topology, handlers).expect("the bench pipeline starts");
    let start = Instant::now();
    {
        let mut producer = pipeline.producer().unwrap();
        for index in 0..MESSAGES {
            producer
                .publish(|_, message, _| message.value = value_of(index))
                .unwrap();
        }
    }
    pipeline.shutdown().expect("the bench pipeline runs clean");
    (start.elapsed(), total.load(Ordering::Relaxed))
}

/// The same three stages as threads joined by crossbeam's bounded channels.
pub fn crossbeam_channel() -> (Duration, u64) {
    let topology = topology();
    use crossbeam::channel::{bounded, Receiver, Sender};
    let cores = bench_cores(4);
    let pinned = topology.config().producer.core.is_some();
    let stage = |index: usize,
                 receiver: Receiver<(Message, Results)>,
                 sender: Option<Sender<(Message, Results)>>| {
        let core = if pinned { cores[index + 1] } else { None };
        thread::spawn(move || {
            pin(core);
            let mut sum = 0u64;
            for (message, mut results) in receiver.iter() {
                match index {
                    0 => results.a = stage_work(message.value, KEY_A),
                    1 => results.b = stage_work(results.a, KEY_B),
                    _ => {
                        results.c = stage_work(results.b, KEY_C);
                        sum = sum.wrapping_add(results.c);
                    }
                }
                if let Some(sender) = &sender {
                    sender.send((message, results)).unwrap();
                }
            }
            sum
        })
    };
    let (to_a, a_in) = bounded(CAPACITY);
    let (to_b, b_in) = bounded(CAPACITY);
    let (to_c, c_in) = bounded(CAPACITY);
    let threads = [
        stage(0, a_in, Some(to_b)),
        stage(1, b_in, Some(to_c)),
        stage(2, c_in, None),
    ];
    let start = Instant::now();
    for index in 0..MESSAGES {
        to_a.send((Message::new(value_of(index)), Results::default()))
            .unwrap();
    }
    drop(to_a);
    let sums: Vec<u64> = threads.map(|thread| thread.join().unwrap()).into();
    (start.elapsed(), sums[2])
}

/// The same three stages fused on the producer's thread.
pub fn fused() -> (Duration, u64) {
    let total = Arc::new(AtomicU64::new(0));
    let mut fused = Fused::<Message, Results, _>::new((
        StageA,
        StageB,
        StageC {
            local: 0,
            total: Arc::clone(&total),
        },
    ));
    let start = Instant::now();
    for index in 0..MESSAGES {
        fused
            .publish(|_, message, _| message.value = value_of(index))
            .unwrap();
    }
    fused.finish();
    (start.elapsed(), total.load(Ordering::Relaxed))
}

/// The harness with nothing to carry: start and join three threads, loop over the values. (The
/// stages' work itself, with no handoff, is what `fused` measures.)
pub fn overhead() -> (Duration, u64) {
    let threads: Vec<_> = (0..3).map(|_| thread::spawn(|| ())).collect();
    let start = Instant::now();
    let sum = (0..MESSAGES).fold(0u64, |sum, index| {
        sum.wrapping_add(std::hint::black_box(value_of(index)))
    });
    for thread in threads {
        thread.join().unwrap();
    }
    (start.elapsed(), sum)
}
