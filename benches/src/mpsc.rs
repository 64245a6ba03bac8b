//! The cases of group `mpsc_64B`, shared by the criterion bench (`benches/mpsc.rs`) and the
//! interleaved one (`benches/ratios.rs`).
//!
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
//! iteration counts.

use std::sync::atomic::Ordering;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use clearway_core::pipeline::ProducerKind;
use clearway_core::ring::WaitStrategy;
use crossbeam::utils::Backoff;

use crate::{
    bench_cores, checksum, pin, publish_messages, summing_pipeline, value_of, Case, Group, Message,
    CAPACITY, MESSAGES,
};

/// Group `mpsc_64B`.
pub const GROUP: Group = Group {
    name: "mpsc_64B",
    overhead_name: "mpsc",
    cases: &[
        ("clearway", (|| clearway(1)) as Case),
        ("clearway_batch64", || clearway(64)),
        ("crossbeam_array_queue", crossbeam_array_queue),
    ],
    expected: || checksum(MESSAGES),
    overhead,
    overhead_expected: || checksum(MESSAGES),
    describe: || match placement() {
        Some(cores) => format!(
            "mpsc_64B: producers on cores {} and {}, consumer on core {}, busy-spinning",
            cores[0], cores[1], cores[2]
        ),
        None => "mpsc_64B: fewer cores than threads; unpinned, spin then yield".to_string(),
    },
    // The producers are threads of their own, which pin themselves.
    producer_core: || None,
};

const PRODUCERS: u64 = 2;
const PER_PRODUCER: u64 = MESSAGES / PRODUCERS;

/// Cores for producer 0, producer 1 and the consumer, when there is one for each.
fn placement() -> Option<[usize; 3]> {
    let cores = bench_cores(3);
    Some([cores[0]?, cores[1]?, cores[2]?])
}

/// Clearway's multi-producer ring: one publish per message when `batch` is 1, else
/// `publish_batch` of `batch`.
pub fn clearway(batch: usize) -> (Duration, u64) {
    let placement = placement();
    let wait = match placement {
        Some(_) => WaitStrategy::BusySpin,
        None => WaitStrategy::SpinThenYield,
    };
    let consumer_core = placement.map(|cores| cores[2]);
    let (pipeline, total) = summing_pipeline(ProducerKind::Multi, wait, consumer_core);
    let start_line = Barrier::new(PRODUCERS as usize + 1);
    let start = thread::scope(|scope| {
        for producer_index in 0..PRODUCERS {
            let mut producer = pipeline.producer().unwrap();
            let start_line = &start_line;
            scope.spawn(move || {
                pin(placement.map(|cores| cores[producer_index as usize]));
                start_line.wait();
                let first = producer_index * PER_PRODUCER;
                publish_messages(&mut producer, first, PER_PRODUCER, batch);
            });
        }
        start_line.wait();
        Instant::now()
    });
    pipeline.shutdown().expect("the bench pipeline runs clean");
    (start.elapsed(), total.load(Ordering::Relaxed))
}

/// crossbeam's `ArrayQueue`, shared by both producers.
pub fn crossbeam_array_queue() -> (Duration, u64) {
    let placement = placement();
    let spin = placement.is_some();
    let queue = crossbeam::queue::ArrayQueue::<Message>::new(CAPACITY);
    let start_line = Barrier::new(PRODUCERS as usize + 1);
    thread::scope(|scope| {
        let queue = &queue;
        let start_line = &start_line;
        for producer_index in 0..PRODUCERS {
            scope.spawn(move || {
                pin(placement.map(|cores| cores[producer_index as usize]));
                start_line.wait();
                let first = producer_index * PER_PRODUCER;
                for index in first..first + PER_PRODUCER {
                    let mut message = Message::new(value_of(index));
                    let backoff = Backoff::new();
                    while let Err(back) = queue.push(message) {
                        message = back;
                        if !spin {
                            backoff.snooze();
                        }
                    }
                }
            });
        }
        let consumer = scope.spawn(move || {
            pin(placement.map(|cores| cores[2]));
            let (mut sum, mut received) = (0u64, 0);
            let backoff = Backoff::new();
            while received < MESSAGES {
                match queue.pop() {
                    Some(message) => {
                        sum = sum.wrapping_add(message.value);
                        received += 1;
                        backoff.reset();
                    }
                    None if !spin => backoff.snooze(),
                    None => {}
                }
            }
            sum
        });
        start_line.wait();
        let start = Instant::now();
        let sum = consumer.join().unwrap();
        (start.elapsed(), sum)
    })
}

/// The harness with nothing to carry: start two producer threads behind a start line, have each
/// loop over its values, join them.
pub fn overhead() -> (Duration, u64) {
    let start_line = Barrier::new(PRODUCERS as usize + 1);
    thread::scope(|scope| {
        let start_line = &start_line;
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|producer_index| {
                scope.spawn(move || {
                    start_line.wait();
                    let first = producer_index * PER_PRODUCER;
                    (first..first + PER_PRODUCER).fold(0u64, |sum, index| {
                        sum.wrapping_add(std::hint::black_box(value_of(index)))
                    })
                })
            })
            .collect();
        start_line.wait();
        let start = Instant::now();
        let sum = producers.into_iter().fold(0u64, |sum, producer| {
            sum.wrapping_add(producer.join().unwrap())
        });
        (start.elapsed(), sum)
    })
}
