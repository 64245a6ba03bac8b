//! How a pipeline fails and stops: panics and faults name their stage and sequence and end the
//! run within a second, a producer waiting on a full ring is released, start-up mistakes are
//! refused with the reason, and no path leaves a thread spinning.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use clearway_core::pipeline::{
    FailureCause, Handler, Handlers, Mode, Pipeline, PipelineError, ProducerKind, StageConfig,
    StageFailure, StageFault, TopologyConfig, Worker,
};
use clearway_core::ring::WaitStrategy;
use common::{value_of, First, Input, Next, Output, Reader};

/// Runs `body` on its own thread and fails the test if it has not finished within `limit`:
/// the "nothing hangs" half of every test below.
fn within<T: Send + 'static>(limit: Duration, body: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(body());
    });
    match receiver.recv_timeout(limit) {
        Ok(value) => value,
        Err(_) => panic!("did not finish within {limit:?}"),
    }
}

const ONE_SECOND: Duration = Duration::from_secs(1);

/// Handlers for the chain `first → second` most tests here run.
fn first_then_second() -> Handlers<Input, Output> {
    Handlers::new()
        .stage("first", First::unwatched)
        .stage("second", |worker: Worker| Next::new(worker, 2, 1))
}

/// Panics, or returns a fault, at one sequence.
struct BreakAt {
    sequence: u64,
    panic: bool,
}

impl Handler<Input, Output> for BreakAt {
    fn on_event(
        &mut self,
        _: &Input,
        _: &mut Output,
        sequence: u64,
        _: bool,
    ) -> Result<(), StageFault> {
        if sequence == self.sequence {
            if self.panic {
                panic!("broken on purpose");
            }
            return Err(StageFault::new("refused on purpose"));
        }
        Ok(())
    }
}

fn chain_with_breaker(wait: WaitStrategy, break_at: u64, panic: bool) -> Pipeline<Input, Output> {
    let topology = TopologyConfig::chain(["first", "breaker", "third"], wait)
        .ring_capacity(64)
        .validate()
        .unwrap();
    let handlers = Handlers::<Input, Output>::new()
        .stage("first", First::unwatched)
        .stage("breaker", move |_: Worker| BreakAt {
            sequence: break_at,
            panic,
        })
        .stage("third", |_: Worker| BreakAt {
            sequence: u64::MAX,
            panic: false,
        });
    Pipeline::start(&topology, handlers).unwrap()
}

fn expected_failure(sequence: u64, panic: bool) -> StageFailure {
    StageFailure {
        stage: "breaker".into(),
        worker: 0,
        sequence: Some(sequence),
        cause: if panic {
            FailureCause::Panicked("broken on purpose".into())
        } else {
            FailureCause::Fault("refused on purpose".into())
        },
    }
}

#[test]
fn panicking_stage_releases_a_producer_blocked_on_a_full_ring_and_names_itself() {
    for wait in [
        WaitStrategy::SpinThenYield,
        WaitStrategy::SpinThenPark,
        WaitStrategy::BusySpin,
    ] {
        let (publish_error, shutdown_error) = within(ONE_SECOND, move || {
            let pipeline = chain_with_breaker(wait, 300, true);
            let publish_error = {
                let mut producer = pipeline.producer().unwrap();
                // Far more than the ring holds: once the breaker stops, the ring fills and the
                // producer waits, until the halt releases it.
                (0..1_000_000u64)
                    .find_map(|_| {
                        producer
                            .publish(|sequence, input, _| input.value = value_of(sequence))
                            .err()
                    })
                    .expect("publishing must fail once the stage has panicked")
            };
            (publish_error, pipeline.shutdown().unwrap_err())
        });
        let expected = PipelineError::StageFailed(expected_failure(300, true));
        assert_eq!(publish_error, expected, "{wait}");
        assert_eq!(shutdown_error, expected, "{wait}");
        assert_eq!(
            shutdown_error.to_string(),
            "stage 'breaker' (worker 0) panicked at sequence 300: broken on purpose"
        );
    }
}

#[test]
fn faulting_stage_stops_the_pipeline_with_its_reason() {
    let error = within(ONE_SECOND, || {
        let pipeline = chain_with_breaker(WaitStrategy::SpinThenPark, 5, false);
        {
            let mut producer = pipeline.producer().unwrap();
            for _ in 0..10 {
                let _ = producer.publish(|sequence, input, _| input.value = value_of(sequence));
            }
        }
        pipeline.shutdown().unwrap_err()
    });
    assert_eq!(
        error,
        PipelineError::StageFailed(expected_failure(5, false))
    );
}

#[test]
fn panicking_worker_in_a_group_is_named_by_its_index() {
    let error = within(ONE_SECOND, || {
        let topology = TopologyConfig::new()
            .ring_capacity(64)
            .stage(StageConfig::new("group").workers(3))
            .validate()
            .unwrap();
        let handlers = Handlers::<Input, Output>::new().stage("group", |_: Worker| BreakAt {
            sequence: 7,
            panic: true,
        });
        let pipeline = Pipeline::start(&topology, handlers).unwrap();
        {
            let mut producer = pipeline.producer().unwrap();
            let _ = producer.publish_batch(100, |_, _, _| {});
        }
        pipeline.shutdown().unwrap_err()
    });
    let PipelineError::StageFailed(failure) = error else {
        panic!("expected a stage failure, got {error}");
    };
    assert_eq!(
        (failure.stage.as_str(), failure.worker, failure.sequence),
        ("group", 1, Some(7))
    );
}

#[test]
fn dropping_a_running_pipeline_halts_and_joins_every_thread() {
    for wait in WaitStrategy::ALL {
        within(ONE_SECOND, move || {
            let topology = TopologyConfig::chain(["first", "second"], wait)
                .validate()
                .unwrap();
            let handlers = first_then_second();
            let pipeline = Pipeline::start(&topology, handlers).unwrap();
            {
                let mut producer = pipeline.producer().unwrap();
                producer
                    .publish_batch(1_000, |s, input, _| input.value = value_of(s))
                    .unwrap();
            }
            drop(pipeline);
        });
    }
}

#[test]
fn idle_parked_pipeline_wakes_for_late_events_and_drains_on_shutdown() {
    let report = within(Duration::from_secs(5), || {
        let topology = TopologyConfig::chain(["first", "second"], WaitStrategy::SpinThenPark)
            .validate()
            .unwrap();
        let handlers = first_then_second();
        let pipeline = Pipeline::start(&topology, handlers).unwrap();
        for _ in 0..3 {
            // Long enough for every stage to give up spinning and park.
            std::thread::sleep(Duration::from_millis(50));
            let mut producer = pipeline.producer().unwrap();
            producer
                .publish(|s, input, _| input.value = value_of(s))
                .unwrap();
        }
        pipeline.shutdown().unwrap()
    });
    assert_eq!(report.published, 3);
    assert_eq!(report.stages[1].total().events, 3);
}

#[test]
fn shutdown_with_nothing_published_returns_empty_counters() {
    let report = within(ONE_SECOND, || {
        let topology = TopologyConfig::chain(["first"], WaitStrategy::SpinThenPark)
            .validate()
            .unwrap();
        let handlers = Handlers::<Input, Output>::new().stage("first", First::unwatched);
        Pipeline::start(&topology, handlers)
            .unwrap()
            .shutdown()
            .unwrap()
    });
    assert_eq!(report.published, 0);
    assert_eq!(report.stages[0].total().events, 0);
}

#[test]
fn single_producer_is_handed_out_once_at_a_time_and_keeps_numbering() {
    let topology = TopologyConfig::chain(["first"], WaitStrategy::SpinThenYield)
        .validate()
        .unwrap();
    let handlers = Handlers::<Input, Output>::new().stage("first", First::unwatched);
    let pipeline = Pipeline::start(&topology, handlers).unwrap();
    {
        let mut producer = pipeline.producer().unwrap();
        assert_eq!(
            pipeline.producer().err(),
            Some(PipelineError::ProducerInUse)
        );
        assert_eq!(
            producer.publish(|s, input, _| input.value = value_of(s)),
            Ok(0)
        );
    }
    let mut producer = pipeline.producer().unwrap();
    assert_eq!(
        producer.publish(|s, input, _| input.value = value_of(s)),
        Ok(1)
    );
    drop(producer);
    assert_eq!(pipeline.shutdown().unwrap().stages[0].total().events, 2);
}

#[test]
fn producer_panicking_mid_fill_halts_instead_of_stalling_the_consumers() {
    let error = within(ONE_SECOND, || {
        let topology = TopologyConfig::chain(["first"], WaitStrategy::SpinThenPark)
            .producer_kind(ProducerKind::Multi)
            .validate()
            .unwrap();
        let handlers = Handlers::<Input, Output>::new().stage("first", First::unwatched);
        let pipeline = Pipeline::start(&topology, handlers).unwrap();
        let panicked = std::thread::scope(|scope| {
            let mut producer = pipeline.producer().unwrap();
            scope
                .spawn(move || {
                    producer.publish_batch(10, |sequence, input, _| {
                        assert!(sequence != 4, "the producer's own bug");
                        input.value = value_of(sequence);
                    })
                })
                .join()
                .is_err()
        });
        assert!(panicked);
        pipeline.shutdown().unwrap_err()
    });
    let PipelineError::StageFailed(failure) = error else {
        panic!("expected a stage failure, got {error}");
    };
    assert_eq!(
        (failure.stage.as_str(), failure.sequence),
        ("producer", Some(4))
    );
}

#[test]
fn factory_that_panics_fails_the_start_and_names_the_stage() {
    let error = within(ONE_SECOND, || {
        let topology = TopologyConfig::chain(["first", "second"], WaitStrategy::SpinThenPark)
            .validate()
            .unwrap();
        let handlers = Handlers::<Input, Output>::new()
            .stage("first", First::unwatched)
            .stage("second", |_: Worker| -> Next { panic!("no configuration") });
        Pipeline::start(&topology, handlers).err().unwrap()
    });
    assert_eq!(
        error.to_string(),
        "stage 'second' (worker 0) panicked outside any event (starting or stopping): no \
         configuration"
    );
}

/// Every way the handlers can fail to fit the topology, with the error each gives.
#[test]
fn handlers_that_do_not_fit_the_topology_are_refused() {
    let first = First::unwatched;
    let chain = TopologyConfig::chain(["first", "second"], WaitStrategy::SpinThenYield)
        .validate()
        .unwrap();
    let side_by_side = TopologyConfig::new()
        .stage(StageConfig::new("first"))
        .stage(StageConfig::new("second"))
        .validate()
        .unwrap();
    let second = |worker| Next::new(worker, 2, 1);
    let table: Vec<(_, Handlers<Input, Output>, PipelineError)> = vec![
        (
            &chain,
            Handlers::new().stage("first", first),
            PipelineError::MissingHandler {
                stage: "second".into(),
            },
        ),
        (
            &chain,
            Handlers::new()
                .stage("first", first)
                .stage("second", second)
                .stage("third", second),
            PipelineError::HandlerWithoutStage {
                name: "third".into(),
            },
        ),
        (
            &chain,
            Handlers::new()
                .stage("first", first)
                .stage("first", first)
                .stage("second", second),
            PipelineError::DuplicateHandler {
                name: "first".into(),
            },
        ),
        (
            &side_by_side,
            Handlers::new()
                .stage("first", first)
                .stage("second", second),
            PipelineError::ConcurrentWriters {
                first: "first".into(),
                second: "second".into(),
            },
        ),
    ];
    for (topology, handlers, expected) in table {
        assert_eq!(Pipeline::start(topology, handlers).err(), Some(expected));
    }
    // Side by side is fine when one of the two only reads the input.
    let handlers = Handlers::<Input, Output>::new()
        .stage("first", first)
        .input_stage("second", |worker| {
            Reader::new(worker, Arc::new(AtomicU64::new(0)))
        });
    let pipeline = Pipeline::start(&side_by_side, handlers).unwrap();
    pipeline.shutdown().unwrap();
}

#[test]
fn fused_topology_runs_the_same_handlers_to_the_same_result_on_one_thread() {
    const EVENTS: u64 = 100_000;
    let run = |mode: Mode| {
        let topology = TopologyConfig::new()
            .mode(mode)
            .stage(StageConfig::new("reader"))
            .stage(StageConfig::new("first"))
            .stage(StageConfig::new("second").after(["first"]))
            .stage(StageConfig::new("third").after(["second", "reader"]))
            .validate()
            .unwrap();
        assert_eq!(
            topology.thread_count(),
            if mode == Mode::Fused { 0 } else { 4 }
        );
        let sum = Arc::new(AtomicU64::new(0));
        let handlers = {
            let sum = Arc::clone(&sum);
            Handlers::<Input, Output>::new()
                .input_stage("reader", move |worker| {
                    Reader::new(worker, Arc::clone(&sum))
                })
                .stage("first", First::unwatched)
                .stage("second", |worker: Worker| Next::new(worker, 2, 1))
                .stage("third", |worker: Worker| Next::new(worker, 3, 1))
        };
        let pipeline = Pipeline::start(&topology, handlers).unwrap();
        {
            let mut producer = pipeline.producer().unwrap();
            producer
                .publish_batch(EVENTS as usize, |s, input, _| input.value = value_of(s))
                .unwrap();
        }
        let report = pipeline.shutdown().unwrap();
        let events: Vec<u64> = report
            .stages
            .iter()
            .map(|stage| stage.total().events)
            .collect();
        (report.published, events, sum.load(Ordering::Relaxed))
    };
    let pipelined = run(Mode::Pipelined);
    assert_eq!(pipelined.0, EVENTS);
    assert_eq!(run(Mode::Fused), pipelined);
}

#[test]
fn fused_stage_failure_names_the_stage_and_sequence() {
    let topology = TopologyConfig::chain(["first", "breaker"], WaitStrategy::SpinThenYield)
        .mode(Mode::Fused)
        .validate()
        .unwrap();
    let handlers = Handlers::<Input, Output>::new()
        .stage("first", First::unwatched)
        .stage("breaker", |_: Worker| BreakAt {
            sequence: 3,
            panic: true,
        });
    let pipeline = Pipeline::start(&topology, handlers).unwrap();
    let error = {
        let mut producer = pipeline.producer().unwrap();
        (0..10)
            .find_map(|_| {
                producer
                    .publish(|s, input, _| input.value = value_of(s))
                    .err()
            })
            .unwrap()
    };
    let expected = PipelineError::StageFailed(expected_failure(3, true));
    assert_eq!(error, expected);
    assert_eq!(pipeline.shutdown().unwrap_err(), expected);
}
