//! ```text
//! authorize_alone   events ──► Authorize::check                      (one thread, no ring)
//! route_alone       events ──► Route::route                          (one thread, no ring)
//! ledger_alone      events ──► Ledger::apply                         (one thread, no ring)
//! fused             producer ─► authorize ─► route ─► ledger          (all on the producer's thread)
//! ring              producer ─► authorize ─► route ─► ledger          (a thread each, one ring)
//! channel           producer ─► authorize ─► route ─► ledger          (a thread each, crossbeam bounded channels)
//! ```
//! Groups `switch_hmac` and `switch_mac_none`: the whole switch on the same 200,000 events, and
//! each step alone on them, so that one run of this bench gives both ratios the issue sets:
//! `ring ÷ channel` and `ring ÷ min(step alone)` (the pipeline against its slowest stage).
//!
//! The events come from the load generator with faults off: payments of every kind from the
//! generated 115-institution, 424-bank network, each followed by its bank's signed approval, and
//! a cutover every 20,000 events, so the ledger places and posts a hold per payment and closes
//! batches as it would in a run. `cargo bench -p clearway-benches --bench switch -- interleaved
//! [ROUNDS]` runs every case once per round instead and reports the two ratios within rounds.
//! Threads outnumber the dev box's 2 cores in `ring` and `channel`,
//! so they spin then yield, unpinned. Every case checks Σ positions = 0 and the count of approved
//! payments before it counts.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clearway_core::event::{Event, Kind, MacMode, Outcome, ParticipantId, Results};
use clearway_core::network::Network;
use clearway_core::pipeline::{
    Fused, Handler, Handlers, Pipeline, StageConfig, StageFault, TopologyConfig, Worker,
};
use clearway_core::ring::WaitStrategy;
use clearway_core::stage::{Authorize, Ledger, LedgerConfig, LedgerStage, Route};
use clearway_loadgen::{FaultRates, Institutions, WorkloadConfig};
use criterion::{criterion_group, Criterion, Throughput};

/// Events per timed iteration: 100,000 payments and their replies, with cutovers.
const EVENT_COUNT_TARGET: usize = 200_000;

/// Events between cutovers.
const CUTOVER_EVERY: usize = 20_000;

/// The events, and how many of them are approvals the ledger must post.
struct Workload {
    network: Arc<Network>,
    events: Vec<Event>,
    approvals: u64,
}

fn workload() -> Workload {
    let network = Network::generated(1);
    let config = WorkloadConfig {
        faults: FaultRates::NONE,
        ..WorkloadConfig::default()
    };
    let mut institutions = Institutions::new(&network, &config, 1);
    let mut route = Route::new(&network);
    let operator = network.operator_key();
    let mut events = Vec::with_capacity(EVENT_COUNT_TARGET + 16);
    let mut approvals = 0;
    let mut time_ns = 0;
    while events.len() < EVENT_COUNT_TARGET {
        time_ns += 1_000;
        let payment = institutions.next_payment(time_ns);
        let mut results = Results::default();
        route.route(&payment, &mut results);
        events.push(payment);
        if results.passed() {
            let bank = network
                .participant(results.bank)
                .expect("route names a bank of the network");
            let mut reply =
                Event::bank_reply(bank.id, payment.txn_id, true, payment.amount_fen, time_ns);
            reply.mac = bank.mac_key().sign(&reply);
            events.push(reply);
            approvals += 1;
        }
        if events.len() % CUTOVER_EVERY < 2 {
            let mut cutover = Event::operator(Kind::Cutover, ParticipantId::OPERATOR, 0, time_ns);
            cutover.mac = operator.sign(&cutover);
            events.push(cutover);
        }
    }
    for (sequence, event) in events.iter_mut().enumerate() {
        event.sequence = sequence as u64;
        event.event_ns = event.sent_ns;
    }
    Workload {
        network: Arc::new(network),
        events,
        approvals,
    }
}

fn ledger_config(events: usize) -> LedgerConfig {
    LedgerConfig {
        holds_capacity: 4_096,
        window_capacity: events,
        ..LedgerConfig::default()
    }
}

/// Counts approvals at the end of the chain, and checks the ledger's books at shutdown.
struct Count(Arc<AtomicU64>);

impl Handler<Event, Results> for Count {
    #[inline]
    fn on_event(
        &mut self,
        _: &Event,
        output: &mut Results,
        _: u64,
        _: bool,
    ) -> Result<(), StageFault> {
        if output.outcome == Outcome::Approved {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

fn check(workload: &Workload, approved: u64) {
    assert_eq!(
        approved, workload.approvals,
        "every reply posts its payment"
    );
}

/// The whole chain on one thread: a thread of its own, as the steps alone run.
fn fused(workload: &Workload, mac: MacMode) -> Duration {
    std::thread::scope(|scope| {
        scope
            .spawn(|| fused_here(workload, mac))
            .join()
            .expect("no step panics")
    })
}

fn fused_here(workload: &Workload, mac: MacMode) -> Duration {
    let network = &workload.network;
    let approved = Arc::new(AtomicU64::new(0));
    let mut chain = Fused::new((
        Authorize::new(network, mac),
        Route::new(network),
        LedgerStage::new(
            Ledger::new(network, ledger_config(workload.events.len())),
            (),
        ),
        Count(Arc::clone(&approved)),
    ));
    let started = Instant::now();
    for event in &workload.events {
        chain
            .publish(|_, input, output| {
                *input = *event;
                *output = Results::default();
            })
            .expect("no stage faults");
    }
    let elapsed = started.elapsed();
    let chain = chain.finish();
    assert_eq!(chain.2.ledger().positions_sum(), 0);
    check(workload, approved.load(Ordering::Relaxed));
    elapsed
}

fn ring(workload: &Workload, mac: MacMode) -> Duration {
    let wait = WaitStrategy::SpinThenYield;
    let topology = TopologyConfig::new()
        .ring_capacity(4_096)
        .batch_size_max(256)
        .producer_wait(wait)
        .stage(StageConfig::new("authorize").wait(wait))
        .stage(StageConfig::new("route").after(["authorize"]).wait(wait))
        .stage(StageConfig::new("ledger").after(["route"]).wait(wait))
        .validate()
        .expect("a valid chain");
    let approved = Arc::new(AtomicU64::new(0));
    let events = workload.events.len();
    let handlers = Handlers::new()
        .stage("authorize", {
            let network = Arc::clone(&workload.network);
            move |_: Worker| Authorize::new(&network, mac)
        })
        .stage("route", {
            let network = Arc::clone(&workload.network);
            move |_: Worker| Route::new(&network)
        })
        .stage("ledger", {
            let network = Arc::clone(&workload.network);
            let approved = Arc::clone(&approved);
            move |_: Worker| {
                (
                    LedgerStage::new(Ledger::new(&network, ledger_config(events)), ()),
                    Count(Arc::clone(&approved)),
                )
            }
        });
    let pipeline = Pipeline::start(&topology, handlers).expect("the pipeline starts");
    let started = Instant::now();
    {
        let mut producer = pipeline.producer().expect("one producer");
        let mut next = 0;
        while next < workload.events.len() {
            let chunk = (workload.events.len() - next).min(256);
            let batch = &workload.events[next..next + chunk];
            let mut index = 0;
            producer
                .publish_batch(chunk, |_, input, output| {
                    *input = batch[index];
                    *output = Results::default();
                    index += 1;
                })
                .expect("the pipeline runs");
            next += chunk;
        }
    }
    pipeline.shutdown().expect("no stage fails");
    let elapsed = started.elapsed();
    check(workload, approved.load(Ordering::Relaxed));
    elapsed
}

fn channel(workload: &Workload, mac: MacMode) -> Duration {
    use crossbeam::channel::bounded;
    type Message = (Event, Results);
    const CAPACITY: usize = 4_096 / 3;
    let (to_authorize, authorize_in) = bounded::<Message>(CAPACITY);
    let (to_route, route_in) = bounded::<Message>(CAPACITY);
    let (to_ledger, ledger_in) = bounded::<Message>(CAPACITY);
    let approved = Arc::new(AtomicU64::new(0));
    let events = workload.events.len();
    let authorize = {
        let network = Arc::clone(&workload.network);
        std::thread::spawn(move || {
            let mut stage = Authorize::new(&network, mac);
            for (event, mut results) in authorize_in {
                stage.check(&event, &mut results);
                to_route.send((event, results)).expect("route runs");
            }
        })
    };
    let route = {
        let network = Arc::clone(&workload.network);
        std::thread::spawn(move || {
            let mut stage = Route::new(&network);
            for (event, mut results) in route_in {
                stage.route(&event, &mut results);
                to_ledger.send((event, results)).expect("the ledger runs");
            }
        })
    };
    let ledger = {
        let network = Arc::clone(&workload.network);
        let approved = Arc::clone(&approved);
        std::thread::spawn(move || {
            let mut ledger = Ledger::new(&network, ledger_config(events));
            for (event, mut results) in ledger_in {
                ledger.apply(&event, &mut results, &mut ());
                if results.outcome == Outcome::Approved {
                    approved.fetch_add(1, Ordering::Relaxed);
                }
            }
            assert_eq!(ledger.positions_sum(), 0);
        })
    };
    let started = Instant::now();
    for event in &workload.events {
        to_authorize
            .send((*event, Results::default()))
            .expect("authorize runs");
    }
    drop(to_authorize);
    for thread in [authorize, route, ledger] {
        thread.join().expect("no stage panics");
    }
    let elapsed = started.elapsed();
    check(workload, approved.load(Ordering::Relaxed));
    elapsed
}

/// One step alone over the events, on a thread of its own as a pipeline's stages are: what the
/// step costs without a pipeline. On the bench's main thread the ledger measured 2–2.5× slower
/// than on a thread of its own, where a pipeline's stages run (not pinned down; the allocator's
/// main arena, where its fresh tables come from there, is the suspect).
fn alone(workload: &Workload, mac: MacMode, step: &str) -> Duration {
    std::thread::scope(|scope| {
        scope
            .spawn(|| alone_here(workload, mac, step))
            .join()
            .expect("no step panics")
    })
}

fn alone_here(workload: &Workload, mac: MacMode, step: &str) -> Duration {
    let network = &workload.network;
    // Route and the ledger need the results the steps before them wrote; compute those untimed.
    let mut authorize = Authorize::new(network, mac);
    let mut route = Route::new(network);
    let mut before: Vec<Results> = Vec::with_capacity(workload.events.len());
    for event in &workload.events {
        let mut results = Results::default();
        if step != "authorize" {
            authorize.check(event, &mut results);
        }
        if step == "ledger" {
            route.route(event, &mut results);
        }
        before.push(results);
    }
    let mut ledger = Ledger::new(network, ledger_config(workload.events.len()));
    let mut authorize = Authorize::new(network, mac);
    let mut route = Route::new(network);
    // One loop per step, chosen before the clock starts: no per-event dispatch in the timing.
    let pairs = workload.events.iter().zip(before.iter_mut());
    let started = Instant::now();
    match step {
        "authorize" => pairs.for_each(|(event, results)| authorize.check(event, results)),
        "route" => pairs.for_each(|(event, results)| route.route(event, results)),
        _ => pairs.for_each(|(event, results)| ledger.apply(event, results, &mut ())),
    }
    let elapsed = started.elapsed();
    std::hint::black_box(&before);
    if step == "ledger" {
        assert_eq!(ledger.positions_sum(), 0);
        let approved = before
            .iter()
            .filter(|results| results.outcome == Outcome::Approved)
            .count() as u64;
        check(workload, approved);
    }
    elapsed
}

fn bench(criterion: &mut Criterion) {
    let workload = workload();
    for (name, mac) in [
        ("switch_hmac", MacMode::Hmac),
        ("switch_mac_none", MacMode::None),
    ] {
        let mut group = criterion.benchmark_group(name);
        group.throughput(Throughput::Elements(workload.events.len() as u64));
        group.sample_size(10);
        for step in ["authorize", "route", "ledger"] {
            group.bench_function(format!("{step}_alone"), |bencher| {
                bencher.iter_custom(|iterations| {
                    (0..iterations).map(|_| alone(&workload, mac, step)).sum()
                })
            });
        }
        group.bench_function("fused", |bencher| {
            bencher.iter_custom(|iterations| (0..iterations).map(|_| fused(&workload, mac)).sum())
        });
        group.bench_function("ring", |bencher| {
            bencher.iter_custom(|iterations| (0..iterations).map(|_| ring(&workload, mac)).sum())
        });
        group.bench_function("channel", |bencher| {
            bencher.iter_custom(|iterations| (0..iterations).map(|_| channel(&workload, mac)).sum())
        });
        group.finish();
    }
}

/// Every case once per round, all of them in every round, and the ratios the issue sets taken
/// within each round: on a machine whose speed drifts between cases, ratios of the same round
/// hold still where criterion's one-case-after-another medians do not.
fn interleaved(rounds: usize) {
    let workload = workload();
    let events = workload.events.len() as f64;
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    for (name, mac) in [
        ("switch_mac_none", MacMode::None),
        ("switch_hmac", MacMode::Hmac),
    ] {
        let cases: [(&str, &dyn Fn() -> Duration); 6] = [
            ("ring", &|| ring(&workload, mac)),
            ("channel", &|| channel(&workload, mac)),
            ("fused", &|| fused(&workload, mac)),
            ("authorize_alone", &|| alone(&workload, mac, "authorize")),
            ("route_alone", &|| alone(&workload, mac, "route")),
            ("ledger_alone", &|| alone(&workload, mac, "ledger")),
        ];
        let mut rates: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); cases.len()];
        for _ in 0..rounds {
            for (index, (_, case)) in cases.iter().enumerate() {
                rates[index].push(events / case().as_secs_f64() / 1e6);
            }
        }
        println!(
            "{name}, interleaved, {rounds} rounds, {} events a case",
            events as u64
        );
        for (index, (case, _)) in cases.iter().enumerate() {
            println!(
                "  {case:<16} {:>8.2} M events/s (median)",
                median(rates[index].clone())
            );
        }
        let ring_over_channel = (0..rounds).map(|round| rates[0][round] / rates[1][round]);
        let ring_over_slowest = (0..rounds).map(|round| {
            let slowest = rates[3..]
                .iter()
                .map(|rate| rate[round])
                .fold(f64::MAX, f64::min);
            rates[0][round] / slowest
        });
        println!(
            "  ring / channel {:.2}, ring / slowest step alone {:.2} (medians of per-round ratios)",
            median(ring_over_channel.collect()),
            median(ring_over_slowest.collect())
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments.iter().any(|argument| argument == "interleaved") {
        let rounds = arguments
            .iter()
            .find_map(|argument| argument.parse().ok())
            .unwrap_or(11);
        interleaved(rounds);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
