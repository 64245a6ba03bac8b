//! The whole switch against the reference model.
//!
//! ```text
//!             ┌─► authorize (worker 0) ─┐
//! producer ───┤                         ├─► route ─► prefetch ─► ledger ─► store ─► collect
//!             └─► authorize (worker 1) ─┘
//! ```
//!
//! The ledger has memory by time: its window turns every ~136 payments, so resends and refunds
//! of older payments reach the store through the prefetch, and the model (which keeps every
//! payment in one map) holds the split between memory and store to "no difference".
//!
//! For each seed, the same generated event sequence (every kind, injected faults, control
//! events, cutovers, time jumps past the bank timeout) goes through the threaded pipeline and
//! through `ReferenceModel`, and every event's results, every expiry, the final positions and
//! the state hash must agree. The fused topology (every stage on the producer's thread) is held
//! to the same answers. A failure prints the seed; `CLEARWAY_SEEDS=n` runs more seeds.

mod common;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use clearway_core::event::{Event, Results};
use clearway_core::network::Network;
use clearway_core::pipeline::{
    Handler, Handlers, Mode, Pipeline, StageConfig, StageFault, TopologyConfig, Worker,
};
use clearway_core::reference_model::ReferenceModel;
use clearway_core::ring::WaitStrategy;
use clearway_core::stage::{
    queues_for, Authorize, BatchReport, Expiry, Ledger, LedgerConfig, LedgerSink, LedgerStage,
    LedgerSummary, Prefetch, Route, StoreFeed, StoreWriter,
};
use clearway_core::store::PaymentStore;
use common::switch_events::{events, memory_ledger_config, small_network, store_folder};
use parking_lot::Mutex;

const SEEDS_DEFAULT: u64 = 64;
const EVENTS_PER_SEED: usize = 3_000;

/// What the pipeline produced.
#[derive(Default)]
struct Observed {
    results: Vec<(u64, Results)>,
    expiries: Vec<Expiry>,
    summary: Option<LedgerSummary>,
    batches: Vec<BatchReport>,
}

type Shared = Arc<Mutex<Observed>>;

struct Collect(Shared);

impl Handler<Event, Results> for Collect {
    fn on_event(
        &mut self,
        _input: &Event,
        output: &mut Results,
        sequence: u64,
        _end_of_batch: bool,
    ) -> Result<(), StageFault> {
        self.0.lock().results.push((sequence, *output));
        Ok(())
    }
}

struct Sink(Shared);

impl LedgerSink for Sink {
    fn expired(&mut self, expiry: &Expiry) {
        self.0.lock().expiries.push(*expiry);
    }

    fn batch_closed(&mut self, report: BatchReport) {
        self.0.lock().batches.push(report);
    }

    fn finished(&mut self, summary: LedgerSummary) {
        self.0.lock().summary = Some(summary);
    }
}

fn topology(mode: Mode) -> TopologyConfig {
    let wait = WaitStrategy::SpinThenYield;
    let authorize_workers = if mode == Mode::Fused { 1 } else { 2 };
    TopologyConfig::new()
        .ring_capacity(256)
        .batch_size_max(32)
        .mode(mode)
        .producer_wait(wait)
        .stage(
            StageConfig::new("authorize")
                .workers(authorize_workers)
                .wait(wait),
        )
        .stage(StageConfig::new("route").after(["authorize"]).wait(wait))
        .stage(StageConfig::new("prefetch").after(["route"]).wait(wait))
        .stage(StageConfig::new("ledger").after(["prefetch"]).wait(wait))
        .stage(StageConfig::new("store").after(["ledger"]).wait(wait))
        .stage(StageConfig::new("collect").after(["store"]).wait(wait))
}

/// A single-threaded stage's factory that hands over a handler built beforehand.
fn once<H: Send>(handler: H) -> impl Fn(Worker) -> H + Send + Sync {
    let slot = Mutex::new(Some(handler));
    move |_: Worker| slot.lock().take().expect("one worker")
}

fn run_pipeline(
    mode: Mode,
    network: &Arc<Network>,
    config: LedgerConfig,
    input: &[Event],
) -> Observed {
    let shared: Shared = Arc::default();
    let topology = topology(mode)
        .validate()
        .expect("the test topology is valid");
    let mac = clearway_core::event::MacMode::Hmac;
    let memory = config.memory.expect("the switch runs with memory by time");
    let folder = store_folder(&format!("switch-against-model-{mode:?}"));
    let store = PaymentStore::temporary(&folder).expect("a store in a fresh folder");
    let ((loads_in, loads_out), (finished_in, finished_out)) =
        queues_for(256, config.holds_capacity);
    let through = Arc::new(AtomicU64::new(0));
    let mut ledger = Ledger::new(network, config);
    let prefetching = Arc::new(AtomicU64::new(0));
    ledger.attach_store(loads_out, Arc::clone(&through), Arc::clone(&prefetching));
    let prefetch = once(Prefetch::new(
        store.clone(),
        memory,
        ledger.schedule(),
        loads_in,
        prefetching,
    ));
    let ledger = once(LedgerStage::new(
        ledger,
        StoreFeed::new(Sink(Arc::clone(&shared)), finished_in),
    ));
    let writer = once(StoreWriter::new(
        store.clone(),
        memory,
        finished_out,
        through,
        config.holds_capacity + 512,
    ));
    let handlers = Handlers::new()
        .stage("authorize", {
            let network = Arc::clone(network);
            move |_: Worker| Authorize::new(&network, mac)
        })
        .stage("route", {
            let network = Arc::clone(network);
            move |_: Worker| Route::new(&network)
        })
        .stage("prefetch", prefetch)
        .stage("ledger", ledger)
        .stage("store", writer)
        .stage("collect", {
            let shared = Arc::clone(&shared);
            move |_: Worker| Collect(Arc::clone(&shared))
        });
    let pipeline = Pipeline::start(&topology, handlers).expect("the pipeline starts");
    {
        let mut producer = pipeline.producer().expect("one producer");
        for event in input {
            producer
                .publish(|sequence, slot, results| {
                    assert_eq!(
                        sequence, event.sequence,
                        "the generator stamps ring sequences"
                    );
                    *slot = *event;
                    *results = Results::default();
                })
                .expect("the pipeline runs");
        }
    }
    pipeline.shutdown().expect("no stage fails");
    let observed = std::mem::take(&mut *shared.lock());
    observed
}

fn check_seed(seed: u64, mode: Mode) {
    let network = Arc::new(small_network());
    let config = memory_ledger_config();
    let input = events(seed, EVENTS_PER_SEED, &network);
    let mut model = ReferenceModel::new(&network, clearway_core::event::MacMode::Hmac, config);
    let mut expected_results = Vec::with_capacity(input.len());
    let mut expected_expiries = Vec::new();
    for event in &input {
        let (results, expiries) = model.apply(event);
        assert_eq!(
            model.positions_sum(),
            0,
            "seed {seed}: model Σ positions at {}",
            event.sequence
        );
        expected_results.push(results);
        expected_expiries.extend(expiries);
    }
    let observed = run_pipeline(mode, &network, config, &input);
    assert_eq!(
        observed.results.len(),
        input.len(),
        "seed {seed} {mode:?}: every event collected"
    );
    for ((sequence, actual), expected) in observed.results.iter().zip(&expected_results) {
        let event = &input[*sequence as usize];
        assert_eq!(
            actual, expected,
            "seed {seed} {mode:?}: results differ at sequence {sequence} for {event:?}"
        );
    }
    assert_eq!(
        observed.expiries, expected_expiries,
        "seed {seed} {mode:?}: expiries differ"
    );
    let summary = observed.summary.expect("the ledger reports at shutdown");
    assert_eq!(
        summary.positions_sum, 0,
        "seed {seed} {mode:?}: Σ positions"
    );
    assert_eq!(
        summary.state_hash,
        model.state_hash(),
        "seed {seed} {mode:?}: state hash"
    );
    for report in &observed.batches {
        assert_eq!(
            report.net_sum(),
            0,
            "seed {seed} {mode:?}: batch {} nets",
            report.batch
        );
    }
    assert!(
        !observed.batches.is_empty(),
        "seed {seed}: the generator closes batches"
    );
}

fn seeds() -> u64 {
    std::env::var("CLEARWAY_SEEDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(SEEDS_DEFAULT)
}

#[test]
fn pipelined_switch_matches_the_reference_model_for_many_seeds() {
    for seed in 0..seeds() {
        check_seed(seed, Mode::Pipelined);
    }
}

#[test]
fn fused_switch_matches_the_reference_model() {
    for seed in 1_000..1_000 + seeds() / 4 {
        check_seed(seed, Mode::Fused);
    }
}
