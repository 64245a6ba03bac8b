//! The channel transport: the same steps on the same threads, joined by crossbeam bounded
//! channels that move each event and its results by value. The baseline the ring is measured
//! against.
//!
//! Stage k's worker j sends sequence s to stage k+1's worker `s % workers(k+1)`, over one channel
//! per (sender, receiver) pair, so each channel carries its sequences in order and a receiver
//! reads its share back in sequence order by taking sequence s from sender `s % workers(k)`.

use std::sync::Arc;
use std::thread::JoinHandle;

use clearway_core::event::{Event, Results};
use clearway_core::pipeline::{pin_current_thread, Handler, Worker};
use crossbeam::channel::{bounded, Receiver, Sender};
use parking_lot::Mutex;

use super::driver::Ingress;
use super::steps::StepChain;

/// An event and its results, moved between stages.
type Message = (Event, Results);

/// One stage of the chain: its workers, cores, and how to build a worker's handler.
pub struct ChannelStage {
    /// For thread names and failures.
    pub name: String,
    /// Workers (only authorize has more than one).
    pub workers: usize,
    /// Cores, one per worker, or none.
    pub cores: Vec<usize>,
    /// Builds worker `index`'s handler on its thread.
    pub build: Arc<dyn Fn(Worker) -> StepChain + Send + Sync>,
}

/// The running chain.
pub struct ChannelChain {
    threads: Vec<JoinHandle<()>>,
    failure: Arc<Mutex<Option<String>>>,
}

/// The producer's end: sends sequence s to the first stage's worker `s % workers`.
pub struct ChannelIngress {
    senders: Vec<Sender<Message>>,
    next: u64,
    failure: Arc<Mutex<Option<String>>>,
}

impl Ingress for ChannelIngress {
    fn publish(&mut self, events: &mut [Event], event_ns: u64) -> Result<(), String> {
        let count = self.senders.len() as u64;
        for event in events.iter_mut() {
            event.sequence = self.next;
            event.event_ns = event_ns;
            let sender = &self.senders[(self.next % count) as usize];
            if sender.send((*event, Results::default())).is_err() {
                return Err(self
                    .failure
                    .lock()
                    .clone()
                    .unwrap_or_else(|| "a stage stopped".to_string()));
            }
            self.next += 1;
        }
        Ok(())
    }
}

/// Starts `stages` in order, with `capacity` messages of buffering between each pair of stages
/// in all (split over the channels between them). Returns the producer's end and the chain.
pub fn start(
    stages: Vec<ChannelStage>,
    capacity: usize,
) -> std::io::Result<(ChannelIngress, ChannelChain)> {
    let failure = Arc::new(Mutex::new(None));
    let first_workers = stages.first().map_or(1, |stage| stage.workers);
    // The producer is a "stage" of one worker.
    let (ingress_senders, mut inputs) = channels(1, first_workers, capacity);
    let ingress_senders = ingress_senders.into_iter().next().unwrap_or_default();
    let mut threads = Vec::new();
    for (index, stage) in stages.iter().enumerate() {
        let next_workers = stages.get(index + 1).map(|next| next.workers);
        let (mut outputs, next_inputs) = match next_workers {
            Some(next) => channels(stage.workers, next, capacity),
            None => ((0..stage.workers).map(|_| Vec::new()).collect(), Vec::new()),
        };
        let upstream_count = if index == 0 {
            1
        } else {
            stages[index - 1].workers
        };
        for worker in 0..stage.workers {
            let receivers: Vec<Receiver<Message>> = inputs[worker].drain(..).collect();
            debug_assert_eq!(receivers.len(), upstream_count);
            let senders = std::mem::take(&mut outputs[worker]);
            let build = Arc::clone(&stage.build);
            let core = stage.cores.get(worker).copied();
            let failure = Arc::clone(&failure);
            let name = stage.name.clone();
            let worker = Worker {
                index: worker,
                count: stage.workers,
            };
            let thread = std::thread::Builder::new()
                .name(format!("{name}-{}", worker.index))
                .spawn(move || {
                    if let Some(core) = core {
                        if let Err(error) = pin_current_thread(core) {
                            *failure.lock() = Some(format!("{name}: {error}"));
                            return;
                        }
                    }
                    let handler = build(worker);
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        consume(handler, worker, &receivers, &senders)
                    }));
                    let message = match outcome {
                        Ok(Ok(())) => return,
                        Ok(Err(message)) => message,
                        Err(_) => "panicked".to_string(),
                    };
                    failure
                        .lock()
                        .get_or_insert(format!("stage {name} worker {}: {message}", worker.index));
                })?;
            threads.push(thread);
        }
        inputs = next_inputs;
    }
    Ok((
        ChannelIngress {
            senders: ingress_senders,
            next: 0,
            failure: Arc::clone(&failure),
        },
        ChannelChain { threads, failure },
    ))
}

/// `senders[i][j]` sends from upstream worker i to downstream worker j; `receivers[j][i]` is
/// its other end.
#[allow(clippy::type_complexity)]
fn channels(
    upstream: usize,
    downstream: usize,
    capacity: usize,
) -> (Vec<Vec<Sender<Message>>>, Vec<Vec<Receiver<Message>>>) {
    let each = (capacity / (upstream * downstream)).max(1);
    let mut senders: Vec<Vec<Sender<Message>>> = (0..upstream).map(|_| Vec::new()).collect();
    let mut receivers: Vec<Vec<Receiver<Message>>> = (0..downstream).map(|_| Vec::new()).collect();
    for sender_row in senders.iter_mut() {
        for receiver_row in receivers.iter_mut() {
            let (sender, receiver) = bounded(each);
            sender_row.push(sender);
            receiver_row.push(receiver);
        }
    }
    (senders, receivers)
}

/// A worker's loop: take its share in sequence order, handle, pass on. Ends when upstream has
/// hung up and every channel is drained.
fn consume(
    mut handler: StepChain,
    worker: Worker,
    receivers: &[Receiver<Message>],
    senders: &[Sender<Message>],
) -> Result<(), String> {
    let upstream = receivers.len() as u64;
    let downstream = senders.len() as u64;
    let mut sequence = worker.index as u64;
    let step = worker.count as u64;
    loop {
        let receiver = &receivers[(sequence % upstream) as usize];
        let Ok((event, mut results)) = receiver.recv() else {
            break;
        };
        let next = &receivers[((sequence + step) % upstream) as usize];
        let end_of_batch = next.is_empty();
        handler
            .on_event(&event, &mut results, sequence, end_of_batch)
            .map_err(|fault| fault.to_string())?;
        if downstream > 0
            && senders[(sequence % downstream) as usize]
                .send((event, results))
                .is_err()
        {
            return Err("the next stage stopped".to_string());
        }
        sequence += step;
    }
    handler.on_shutdown();
    Ok(())
}

impl ChannelChain {
    /// Waits for every thread (the producer's end must be dropped first); the first failure, if
    /// any.
    pub fn join(self) -> Result<(), String> {
        for thread in self.threads {
            if thread.join().is_err() {
                self.failure
                    .lock()
                    .get_or_insert_with(|| "a stage thread panicked".to_string());
            }
        }
        match self.failure.lock().take() {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }
}
