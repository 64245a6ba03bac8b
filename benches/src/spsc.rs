//! The cases of group `spsc_64B`, shared by the criterion bench (`benches/spsc.rs`) and the
//! interleaved one (`benches/ratios.rs`). Each moves [`MESSAGES`] 64-byte
//! messages from the calling thread (the producer, pinned by the caller) to a consumer pinned to
//! the second core, and returns the time from the first send to the consumer's end, with the
//! consumer's checksum.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clearway_core::pipeline::ProducerKind;
use clearway_core::ring::WaitStrategy;
use disruptor::{BusySpin, ProcessorSettings as _, Producer as _};

use crate::{
    bench_cores, checksum, pin, publish_messages, summing_pipeline, value_of, Case, Group, Message,
    CAPACITY, MESSAGES,
};

/// Group `spsc_64B`.
pub const GROUP: Group = Group {
    name: "spsc_64B",
    overhead_name: "spsc",
    cases: &[
        ("clearway", (|| clearway(1)) as Case),
        ("clearway_batch64", || clearway(64)),
        ("crossbeam_array_queue", crossbeam_array_queue),
        ("crossbeam_channel", crossbeam_channel),
        ("rtrb", rtrb),
        ("disruptor", || disruptor(1)),
        ("disruptor_batch64", || disruptor(64)),
    ],
    expected: || checksum(MESSAGES),
    overhead,
    overhead_expected: || checksum(MESSAGES),
    describe: || {
        let cores = bench_cores(2);
        format!(
            "spsc_64B: producer on core {:?}, consumer on core {:?}",
            cores[0], cores[1]
        )
    },
    producer_core: || bench_cores(1)[0],
};

/// Clearway's pipeline with one input-only stage; one publish per message when `batch` is 1,
/// else `publish_batch` of `batch`.
pub fn clearway(batch: usize) -> (Duration, u64) {
    let consumer_core = bench_cores(2)[1];
    let (pipeline, total) =
        summing_pipeline(ProducerKind::Single, WaitStrategy::BusySpin, consumer_core);
    let start = Instant::now();
    {
        let mut producer = pipeline.producer().unwrap();
        publish_messages(&mut producer, 0, MESSAGES, batch);
    }
    pipeline.shutdown().expect("the bench pipeline runs clean");
    (start.elapsed(), total.load(Ordering::Relaxed))
}

/// Spawns the consumer thread pinned to core 1, running `consume` until it has `MESSAGES`.
pub(crate) fn spawn_consumer(
    consume: impl FnOnce() -> u64 + Send + 'static,
) -> thread::JoinHandle<u64> {
    let core = bench_cores(2)[1];
    thread::spawn(move || {
        pin(core);
        consume()
    })
}

/// Pops until [`MESSAGES`] have arrived, re-trying at once on an empty queue; returns their sum.
fn sum_spinning(mut pop: impl FnMut() -> Option<Message>) -> u64 {
    let (mut sum, mut received) = (0u64, 0);
    while received < MESSAGES {
        if let Some(message) = pop() {
            sum = sum.wrapping_add(message.value);
            received += 1;
        }
    }
    sum
}

/// crossbeam's `ArrayQueue`, both sides spinning on a full or empty queue.
pub fn crossbeam_array_queue() -> (Duration, u64) {
    let queue = Arc::new(crossbeam::queue::ArrayQueue::<Message>::new(CAPACITY));
    let consumer = {
        let queue = Arc::clone(&queue);
        spawn_consumer(move || sum_spinning(|| queue.pop()))
    };
    let start = Instant::now();
    for index in 0..MESSAGES {
        let mut message = Message::new(value_of(index));
        while let Err(back) = queue.push(message) {
            message = back;
        }
    }
    let sum = consumer.join().unwrap();
    (start.elapsed(), sum)
}

/// crossbeam's bounded channel, blocking as it does.
pub fn crossbeam_channel() -> (Duration, u64) {
    let (sender, receiver) = crossbeam::channel::bounded::<Message>(CAPACITY);
    let consumer = spawn_consumer(move || {
        let mut sum = 0u64;
        for message in receiver.iter().take(MESSAGES as usize) {
            sum = sum.wrapping_add(message.value);
        }
        sum
    });
    let start = Instant::now();
    for index in 0..MESSAGES {
        sender.send(Message::new(value_of(index))).unwrap();
    }
    let sum = consumer.join().unwrap();
    (start.elapsed(), sum)
}

/// rtrb's wait-free SPSC ring, one push and one pop per message, both sides spinning.
pub fn rtrb() -> (Duration, u64) {
    let (mut producer, mut consumer) = rtrb::RingBuffer::<Message>::new(CAPACITY);
    let consumer = spawn_consumer(move || sum_spinning(|| consumer.pop().ok()));
    let start = Instant::now();
    for index in 0..MESSAGES {
        let mut message = Message::new(value_of(index));
        while let Err(rtrb::PushError::Full(back)) = producer.push(message) {
            message = back;
        }
    }
    let sum = consumer.join().unwrap();
    (start.elapsed(), sum)
}

/// The `disruptor` crate, `BusySpin`; one `publish` per message when `batch` is 1, else
/// `batch_publish` of `batch`.
pub fn disruptor(batch: usize) -> (Duration, u64) {
    let total = Arc::new(AtomicU64::new(0));
    let handler = {
        let total = Arc::clone(&total);
        let mut local = 0u64;
        move |message: &Message, _: i64, end_of_batch: bool| {
            local = local.wrapping_add(message.value);
            if end_of_batch {
                total.store(local, Ordering::Relaxed);
            }
        }
    };
    let cores = bench_cores(2);
    let builder = disruptor::build_single_producer(CAPACITY, Message::default, BusySpin);
    let mut producer = match cores[1] {
        Some(core) => {
            // disruptor checks the core against the *calling* thread's affinity and its consumer
            // inherits it; this thread is pinned to the producer's core, so it moves to the
            // consumer's core while building, and back before the timed span.
            pin(Some(core));
            let producer = builder
                .pin_at_core(core)
                .handle_events_with(handler)
                .build();
            pin(cores[0]);
            producer
        }
        None => builder.handle_events_with(handler).build(),
    };
    let start = Instant::now();
    if batch == 1 {
        for index in 0..MESSAGES {
            producer.publish(|message| message.value = value_of(index));
        }
    } else {
        let mut index = 0;
        while index < MESSAGES {
            let count = batch.min((MESSAGES - index) as usize);
            producer.batch_publish(count, |messages| {
                for message in messages {
                    message.value = value_of(index);
                    index += 1;
                }
            });
        }
    }
    // Dropping the producer drains the consumer and joins it.
    drop(producer);
    (start.elapsed(), total.load(Ordering::Relaxed))
}

/// The harness with nothing to carry: start and join a pinned thread, and loop over the values.
pub fn overhead() -> (Duration, u64) {
    let consumer = spawn_consumer(|| 0);
    let start = Instant::now();
    let sum = (0..MESSAGES).fold(0u64, |sum, index| {
        sum.wrapping_add(std::hint::black_box(value_of(index)))
    });
    consumer.join().unwrap();
    (start.elapsed(), sum)
}
