//! [`Producers`]: the run's producer threads, their simulated participants, and how they are
//! started against an ingress and gathered.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::Arc;

use clearway_core::event::ParticipantId;
use clearway_core::network::Network;
use clearway_core::pipeline::pin_current_thread;
use clearway_core::stage::LedgerConfig;
use clearway_loadgen::{Arrival, Arrivals, Banks, Institutions, ReplySchedule};

use super::args::{ArrivalArg, Rate, RunArgs};
use super::clock::RunClock;
use super::driver::{BankSide, Driver, DriverOutcome, Ingress, InstitutionSide, Load};
use super::egress::Forwarded;
use super::recording::Recording;
use crate::interval::{Timeline, Window};
use crate::scenario::LinkState;

/// The simulated participants, split over the producer threads.
pub struct Producers {
    /// One per institution thread (one in all when a single thread plays everything).
    pub institutions: Vec<InstitutionSide>,
    /// The banks and the operator.
    pub banks: BankSide,
    /// Whether one thread plays everything.
    pub combined: bool,
    /// The threads' cores, one each, or none.
    pub cores: Vec<usize>,
}

impl Producers {
    /// `count` producer threads over `network`, seeded from `args.seed`, their transaction ids
    /// numbered from `id_offset`.
    pub fn new(
        args: &RunArgs,
        network: &Network,
        ledger_config: &LedgerConfig,
        count: usize,
        cores: Vec<usize>,
        from_egress: rtrb::Consumer<Forwarded>,
        id_offset: u128,
    ) -> Producers {
        let institution_threads = count.saturating_sub(1).max(1);
        let plan = &args.measure.plan;
        let mut workload = plan.workload.clone();
        if let Rate::PerSecond(rate) = args.rate {
            workload.rate_per_s = rate / institution_threads as f64;
        }
        // Ids carry the second they are made in, on the switch's clock: its epoch plus the
        // intended send time.
        if let Some(memory) = ledger_config.memory {
            workload.epoch_unix_ns = memory.epoch_unix_ns;
        }
        workload.arrival = match args.arrival {
            ArrivalArg::Poisson => Arrival::Poisson,
            ArrivalArg::Constant => Arrival::Constant,
        };
        let institutions = (0..institution_threads)
            .map(|index| {
                // Each partition its own stream; with one thread, exactly the seed given.
                let seed = args.seed.wrapping_add(index as u64 * 0x9E37_79B9_7F4A_7C15);
                let arrivals = match &plan.schedule {
                    Some(schedule) => Arrivals::scheduled(
                        schedule,
                        index as u32,
                        institution_threads as u32,
                        seed,
                    ),
                    // At saturation the driver sends without a schedule.
                    None => Arrivals::from_config(&workload, seed),
                };
                InstitutionSide {
                    institutions: Institutions::new(network, &workload, seed)
                        .partition(index as u32, institution_threads as u32)
                        .numbered_from(id_offset),
                    arrivals,
                }
            })
            .collect();
        let bank_config = plan.banks;
        let mut incidents: Vec<(u64, ParticipantId, u8)> = plan
            .incidents
            .iter()
            .flat_map(|incident| {
                let links = network
                    .participant(ParticipantId(incident.bank))
                    .map_or(0, |bank| bank.links.len());
                let up = if incident.links == LinkState::Up {
                    0x80
                } else {
                    0
                };
                (0..links.min(0x80)).map(move |link| {
                    (
                        (incident.at_s * 1e9) as u64,
                        ParticipantId(incident.bank),
                        link as u8 | up,
                    )
                })
            })
            .collect();
        incidents.sort_by_key(|(at_ns, _, _)| *at_ns);
        Producers {
            institutions,
            banks: BankSide {
                banks: Banks::new(
                    network,
                    &bank_config,
                    ledger_config.bank_timeout_ns,
                    args.seed,
                ),
                // Every scheduled reply answers a forwarded payment, which keeps its hold until
                // it is answered or expires; late replies outlive their hold by at most one bank
                // timeout, so twice the hold capacity covers them.
                schedule: ReplySchedule::with_capacity(ledger_config.holds_capacity * 2),
                from_egress,
                operator_key: network.operator_key(),
                incidents,
            },
            combined: count == 1,
            cores,
        }
    }

    /// Runs every producer thread against an ingress from `ingress` (called once per thread, on
    /// the caller's thread) and gathers what they did, their recordings merged in sequence order.
    pub fn drive<I, F>(
        &mut self,
        load: &Load,
        mut ingress: F,
    ) -> Result<(DriverOutcome, Option<Recording>), String>
    where
        I: Ingress + Send,
        F: FnMut() -> Result<I, String>,
    {
        load.institutions_running.store(
            self.institutions.len(),
            std::sync::atomic::Ordering::Release,
        );
        let mut drivers: Vec<Driver<'_>> = Vec::new();
        let mut banks = Some(&mut self.banks);
        for side in &mut self.institutions {
            let banks_here = if self.combined { banks.take() } else { None };
            drivers.push(Driver {
                load,
                institutions: Some(side),
                banks: banks_here,
            });
        }
        if let Some(banks) = banks {
            drivers.push(Driver {
                load,
                institutions: None,
                banks: Some(banks),
            });
        }
        let ingresses = drivers
            .iter()
            .map(|_| ingress())
            .collect::<Result<Vec<I>, String>>()?;
        let cores = &self.cores;
        let outcomes: Vec<Result<DriverOutcome, String>> = std::thread::scope(|scope| {
            let threads: Vec<_> = drivers
                .into_iter()
                .zip(ingresses)
                .enumerate()
                .map(|(index, (mut driver, mut ingress))| {
                    let core = cores.get(index).copied();
                    std::thread::Builder::new()
                        .name(format!("producer-{index}"))
                        .spawn_scoped(scope, move || {
                            if let Some(core) = core {
                                pin_current_thread(core)
                                    .map_err(|error| format!("producer {index}: {error}"))?;
                            }
                            driver.run(&mut ingress)
                        })
                        .expect("a producer thread starts")
                })
                .collect();
            threads
                .into_iter()
                .map(|thread| {
                    thread
                        .join()
                        .unwrap_or_else(|_| Err("a producer thread panicked".to_string()))
                })
                .collect()
        });
        let mut total = DriverOutcome::default();
        let mut recordings = Vec::new();
        for outcome in outcomes {
            let mut outcome = outcome?;
            if let Some(recording) = outcome.recording.take() {
                recordings.push(recording);
            }
            total.absorb(outcome);
        }
        let recording = (!recordings.is_empty()).then(|| Recording::merge(recordings));
        Ok((total, recording))
    }

    /// The faults the institutions injected, all partitions summed.
    pub fn faults_injected(&self) -> serde_json::Value {
        sum(self.institutions.iter().map(|side| {
            serde_json::to_value(side.institutions.injected()).expect("counts serialise")
        }))
    }

    /// The banks' decisions.
    pub fn bank_decisions(&self) -> serde_json::Value {
        serde_json::to_value(self.banks.banks.decisions()).expect("counts serialise")
    }
}

/// What a load measures with: its intervals, its per-second counts, and the flag that ends it
/// early.
pub struct Measures {
    /// The intervals; the load starts it.
    pub window: Arc<Window>,
    /// Payments offered per second.
    pub timeline: Arc<Timeline>,
    /// Set to end the load early.
    pub stop: Arc<AtomicBool>,
}

/// The shared window and counts for a run starting now: warm-up and measured window together.
pub fn load(
    args: &RunArgs,
    clock: RunClock,
    bank_timeout_ns: u64,
    record: bool,
    answered: Arc<AtomicU64>,
    measures: &Measures,
) -> Load {
    let start_ns = clock.now_ns();
    measures.window.start(start_ns);
    Load {
        clock,
        start_ns,
        duration_ns: ((args.measure.plan.warmup_s + args.duration) * 1e9) as u64,
        window: Arc::clone(&measures.window),
        timeline: Arc::clone(&measures.timeline),
        stop: Arc::clone(&measures.stop),
        rate: args.rate,
        cutover_interval_ns: args.cutover_ms * 1_000_000,
        bank_timeout_ns,
        record,
        answered,
        submitted: AtomicU64::new(0),
        institutions_running: AtomicUsize::new(0),
        banks_may_wait: false,
    }
}

/// Field-by-field sums of JSON objects of counts.
fn sum(values: impl Iterator<Item = serde_json::Value>) -> serde_json::Value {
    let mut total = serde_json::Map::new();
    for value in values {
        if let serde_json::Value::Object(fields) = value {
            for (name, count) in fields {
                let add = count.as_u64().unwrap_or(0);
                let entry = total.entry(name).or_insert(serde_json::Value::from(0u64));
                *entry = serde_json::Value::from(entry.as_u64().unwrap_or(0) + add);
            }
        }
    }
    serde_json::Value::Object(total)
}
