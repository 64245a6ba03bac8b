//! [`Monitor`]: the thread that gathers every recorder's interval histograms and hands back what
//! the run measured, second by second and in total.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crossbeam::channel::{bounded, unbounded, Receiver, RecvTimeoutError, Sender};
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;

use super::progress::{Progress, Second};
use super::recorder::{Filled, IntervalRecorder};
use super::timeline::{Counted, Timeline};
use super::window::{Tag, Window};
use crate::constants::{
    INTERVAL_FILLED_QUEUE_CAPACITY, INTERVAL_NS, INTERVAL_SPARES, MONITOR_TICK_MS,
};
use crate::hlog::IntervalRef;
use crate::run::clock::RunClock;
use crate::run::latency::Latencies;
use crate::run::summary::Payments;
use crate::run::timed::LiveLatencies;
use crate::slo::{Gate, Observed};

/// Answers given so far, by outcome, published by egress (or `clearway load`'s reader) at the end
/// of each batch, for gates judged while the run goes on.
#[derive(Debug, Default)]
pub struct Outcomes {
    approved: AtomicU64,
    declined: AtomicU64,
    rejected: AtomicU64,
    expired: AtomicU64,
    busy: AtomicU64,
}

impl Outcomes {
    /// The counts as they now stand: approved, declined, rejected, expired, busy.
    #[inline]
    pub fn publish(&self, counts: [u64; 5]) {
        let fields = [
            &self.approved,
            &self.declined,
            &self.rejected,
            &self.expired,
            &self.busy,
        ];
        for (field, count) in fields.into_iter().zip(counts) {
            field.store(count, Ordering::Relaxed);
        }
    }

    fn read(&self) -> [u64; 5] {
        [
            self.approved.load(Ordering::Relaxed),
            self.declined.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed),
            self.expired.load(Ordering::Relaxed),
            self.busy.load(Ordering::Relaxed),
        ]
    }
}

/// What the monitor is told at start.
pub struct MonitorConfig {
    /// The load's intervals.
    pub window: Arc<Window>,
    /// The run's clock.
    pub clock: RunClock,
    /// The drivers' per-second counts, when there are drivers.
    pub timeline: Option<Arc<Timeline>>,
    /// Payments expected in a stretch of the load (seconds from its start), from its traffic
    /// shape; none for a saturation run or a trace.
    pub planned: Option<Box<dyn Fn(f64, f64) -> f64 + Send>>,
    /// Answers so far.
    pub outcomes: Arc<Outcomes>,
    /// Gates to judge while the run goes (those that can be judged early).
    pub gates: Vec<Gate>,
    /// Whether a failed gate stops the load: `stop` is set.
    pub abort_on_fail: bool,
    /// Set to stop the load early.
    pub stop: Arc<AtomicBool>,
    /// Where a node's metrics read the steps' latency.
    pub live: Option<Arc<LiveLatencies>>,
    /// Seconds of load and whether to keep quiet, for the progress line; none for no line.
    pub progress: Option<(f64, bool)>,
}

/// A recorder's queues, as the monitor holds them.
struct Registration {
    filled: rtrb::Consumer<Filled>,
    spares: rtrb::Producer<Latencies>,
}

/// Makes recorders that report to a monitor; cloned into every stage's factory.
#[derive(Clone)]
pub struct MonitorHandle {
    registrations: Sender<Registration>,
    window: Arc<Window>,
}

impl MonitorHandle {
    /// A recorder of `tag`, with its histogram and spares allocated now.
    pub fn recorder(&self, tag: Tag) -> IntervalRecorder {
        let (filled_in, filled_out) = rtrb::RingBuffer::new(INTERVAL_FILLED_QUEUE_CAPACITY);
        let (mut spares_in, spares_out) = rtrb::RingBuffer::new(INTERVAL_SPARES);
        for _ in 0..INTERVAL_SPARES {
            let _ = spares_in.push(Latencies::new());
        }
        // A monitor that has stopped leaves the recorder recording into one histogram.
        let _ = self.registrations.send(Registration {
            filled: filled_out,
            spares: spares_in,
        });
        IntervalRecorder::new(tag, Arc::clone(&self.window), filled_in, spares_out)
    }
}

/// One interval histogram as kept: V2-encoded (run-length zeros, variable-length counts: a few
/// kilobytes), deflated only when the interval log is written, after the run. Deflating while
/// the run goes took the monitor tens of milliseconds a second, which on a 2-core machine it
/// took from the producer.
pub struct Logged {
    /// What it measured.
    pub tag: Tag,
    /// The last interval it covers (the one it is counted in).
    pub last: i64,
    /// The histogram, V2-encoded.
    pub encoded: Vec<u8>,
}

/// One second of the load, as the summary's timeline gives it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct IntervalStats {
    /// Seconds from the start of load to the interval's start.
    pub start_s: f64,
    /// Its length, s (the first warm-up interval may be shorter).
    pub length_s: f64,
    /// Whether it is part of the warm-up, excluded from the measured figures.
    pub warmup: bool,
    /// Payments the traffic shape planned in it; `null` for a saturation run or a trace.
    pub planned: Option<f64>,
    /// Payments offered (sent) in it.
    pub offered: u64,
    /// Of those, sent late.
    pub late: u64,
    /// Payments answered in it.
    pub answered: u64,
    /// End-to-end latency of the payments answered in it, ns: p50, p99 and max (0 when none).
    pub p50_ns: u64,
    /// The 99th percentile.
    pub p99_ns: u64,
    /// The largest.
    pub max_ns: u64,
}

/// What the monitor hands back when stopped.
pub struct Monitored {
    /// Per tag, every value recorded after the warm-up.
    pub totals: BTreeMap<Tag, Latencies>,
    /// Every interval histogram, warm-up included, in arrival order, encoded.
    pub log: Vec<Logged>,
    /// Each second of the load.
    pub intervals: Vec<IntervalStats>,
    /// Why the load was stopped early, if a gate stopped it.
    pub aborted: Option<String>,
    /// Histograms that spanned more than one interval because the monitor fell behind (each is
    /// counted in its last interval).
    pub spanning: u64,
    /// When load started, by the wall clock; none if it never did.
    pub started: Option<SystemTime>,
}

/// The monitor thread.
pub struct Monitor {
    thread: JoinHandle<Monitored>,
    control: Sender<()>,
    handle: MonitorHandle,
}

impl Monitor {
    /// Starts the thread.
    pub fn start(config: MonitorConfig) -> Monitor {
        let (registrations, inbox) = unbounded();
        let (control, stop) = bounded(1);
        let handle = MonitorHandle {
            registrations,
            window: Arc::clone(&config.window),
        };
        let thread = std::thread::Builder::new()
            .name("monitor".to_string())
            .spawn(move || Gatherer::new(config, inbox).run(&stop))
            .expect("the monitor thread starts");
        Monitor {
            thread,
            control,
            handle,
        }
    }

    /// Makes recorders for this monitor.
    pub fn handle(&self) -> MonitorHandle {
        self.handle.clone()
    }

    /// Stops the thread once every recorder has finished, and takes what it gathered.
    pub fn stop(self) -> Monitored {
        let _ = self.control.send(());
        drop(self.handle);
        self.thread
            .join()
            .expect("the monitor thread does not panic")
    }
}

/// The monitor thread's state.
struct Gatherer {
    config: MonitorConfig,
    inbox: Receiver<Registration>,
    registrations: Vec<Registration>,
    totals: BTreeMap<Tag, Latencies>,
    log: Vec<Logged>,
    serializer: V2Serializer,
    progress: Option<Progress>,
    /// The last end-to-end interval seen, and its p99.
    last_e2e: Option<(i64, u64, u64)>,
    /// Whether a measured end-to-end interval came since the gates were last judged.
    judge: bool,
    aborted: Option<String>,
    spanning: u64,
    live_next_ns: u64,
}

impl Gatherer {
    fn new(config: MonitorConfig, inbox: Receiver<Registration>) -> Gatherer {
        let progress = config
            .progress
            .map(|(load_s, quiet)| Progress::new(load_s, quiet));
        Gatherer {
            config,
            inbox,
            registrations: Vec::new(),
            totals: BTreeMap::new(),
            log: Vec::new(),
            serializer: V2Serializer::new(),
            progress,
            last_e2e: None,
            judge: false,
            aborted: None,
            spanning: 0,
            live_next_ns: 0,
        }
    }

    fn run(mut self, stop: &Receiver<()>) -> Monitored {
        loop {
            let stopping = match stop.recv_timeout(Duration::from_millis(MONITOR_TICK_MS)) {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
                Err(RecvTimeoutError::Timeout) => false,
            };
            self.gather();
            if stopping {
                break;
            }
            self.tick();
        }
        if let Some(progress) = &self.progress {
            progress.finish();
        }
        self.publish_live();
        let intervals = self.intervals();
        let started = self.config.window.started_ns().map(|start_ns| {
            let since_ns = self.config.clock.now_ns().saturating_sub(start_ns);
            SystemTime::now() - Duration::from_nanos(since_ns)
        });
        Monitored {
            started,
            totals: self.totals,
            log: self.log,
            intervals,
            aborted: self.aborted,
            spanning: self.spanning,
        }
    }

    /// Takes in new recorders and every histogram they have filled.
    fn gather(&mut self) {
        self.registrations.extend(self.inbox.try_iter());
        let mut filled = Vec::new();
        for registration in &mut self.registrations {
            while let Ok(one) = registration.filled.pop() {
                filled.push(one);
            }
        }
        for one in filled {
            let mut latencies = self.take(one);
            latencies.reset();
            // Every histogram has the same bounds: an emptied one can be any recorder's spare.
            if let Some(registration) = self
                .registrations
                .iter_mut()
                .find(|registration| registration.spares.slots() > 0)
            {
                let _ = registration.spares.push(latencies);
            }
        }
    }

    /// Keeps one filled histogram: in the log, in the totals when measured, in the progress line.
    fn take(&mut self, filled: Filled) -> Latencies {
        let Filled {
            tag,
            first,
            last,
            latencies,
        } = filled;
        if first != last {
            self.spanning += 1;
        }
        let mut encoded = Vec::new();
        self.serializer
            .serialize(latencies.histogram(), &mut encoded)
            .expect("a histogram serialises into memory");
        self.log.push(Logged { tag, last, encoded });
        if last >= 0 {
            self.totals.entry(tag).or_default().add(&latencies);
            if tag == Tag::E2e {
                self.judge = true;
            }
        }
        if tag == Tag::E2e && self.last_e2e.map_or(true, |(index, _, _)| last >= index) {
            let percentiles = latencies.percentiles();
            self.last_e2e = Some((last, latencies.count(), percentiles.p99));
        }
        latencies
    }

    fn tick(&mut self) {
        let now_ns = self.config.clock.now_ns();
        if now_ns >= self.live_next_ns {
            self.live_next_ns = now_ns + INTERVAL_NS;
            self.publish_live();
        }
        if self.judge {
            self.judge = false;
            self.judge_gates();
        }
        self.show_progress(now_ns);
    }

    fn publish_live(&self) {
        if let Some(live) = &self.config.live {
            for (tag, latencies) in &self.totals {
                if let Some(step) = tag.step() {
                    live.publish(step, &latencies.percentiles());
                }
            }
        }
    }

    /// Judges the gates that can be judged on the data so far; with `abort_on_fail`, the first
    /// failure stops the load.
    fn judge_gates(&mut self) {
        if !self.config.abort_on_fail || self.aborted.is_some() || self.config.gates.is_empty() {
            return;
        }
        let observed = self.observed();
        let window = &self.config.window;
        for gate in self.config.gates.iter().filter(|gate| gate.judged_early()) {
            let verdict = gate.check(&observed);
            if verdict.measured.is_some() && !verdict.passed {
                let at_s = window.started_ns().map_or(0.0, |start_ns| {
                    self.config.clock.now_ns().saturating_sub(start_ns) as f64 / 1e9
                });
                self.aborted = Some(format!(
                    "{} failed {at_s:.1} s into the load (measured {})",
                    verdict.gate, verdict.measured_text
                ));
                self.config.stop.store(true, Ordering::Release);
                return;
            }
        }
    }

    /// The measured figures so far, as gates read them.
    fn observed(&self) -> Observed {
        let [approved, declined, rejected, expired, busy] = self.config.outcomes.read();
        let payments = Payments {
            submitted: self
                .config
                .timeline
                .as_ref()
                .map_or(0, |timeline| timeline.offered_total()),
            approved,
            declined,
            rejected,
            expired,
            busy,
        };
        Observed::of(&self.totals, &payments, None)
    }

    fn show_progress(&self, now_ns: u64) {
        let (Some(progress), Some(start_ns)) = (&self.progress, self.config.window.started_ns())
        else {
            return;
        };
        let window = &self.config.window;
        let current = window.index(now_ns);
        let offered = self
            .config
            .timeline
            .as_ref()
            .map_or(0, |timeline| timeline.offered_in(current - 1));
        let (answered, p99_ns) = match self.last_e2e {
            Some((index, count, p99_ns)) if index == current - 1 => (count, Some(p99_ns)),
            _ => (0, None),
        };
        progress.show(&Second {
            elapsed_s: now_ns.saturating_sub(start_ns) as f64 / 1e9,
            warming_up: current < 0,
            offered,
            answered,
            p99_ns,
        });
    }

    /// Each second of the load: the drivers' counts beside the end-to-end histograms of the
    /// second (added over recorders).
    fn intervals(&self) -> Vec<IntervalStats> {
        let window = &self.config.window;
        let counted: Vec<Counted> = self
            .config
            .timeline
            .as_ref()
            .map_or_else(Vec::new, |timeline| timeline.read());
        let mut e2e: BTreeMap<i64, Latencies> = BTreeMap::new();
        let mut deserializer = Deserializer::new();
        for logged in self.log.iter().filter(|logged| logged.tag == Tag::E2e) {
            let histogram: Histogram<u64> = deserializer
                .deserialize(&mut logged.encoded.as_slice())
                .expect("the monitor's own histograms deserialise");
            let _ = e2e
                .entry(logged.last)
                .or_default()
                .add_histogram(&histogram);
        }
        let first = counted
            .first()
            .map(|counted| counted.index)
            .into_iter()
            .chain(e2e.keys().next().copied().filter(|&index| index > i64::MIN))
            .min();
        let last = counted
            .iter()
            .filter(|counted| counted.offered > 0)
            .map(|counted| counted.index)
            .chain(e2e.keys().next_back().copied())
            .max();
        let (Some(first), Some(last)) = (first, last) else {
            return Vec::new();
        };
        let first = first.max(window.first_index());
        (first..=last)
            .map(|index| {
                let start_ns = window.interval_start_ns(index);
                let end_ns = window.interval_start_ns(index + 1);
                let counts = counted
                    .iter()
                    .find(|counted| counted.index == index)
                    .copied()
                    .unwrap_or_default();
                let latencies = e2e.get(&index);
                let percentiles = latencies.map(Latencies::percentiles).unwrap_or_default();
                IntervalStats {
                    start_s: start_ns as f64 / 1e9,
                    length_s: (end_ns - start_ns) as f64 / 1e9,
                    warmup: index < 0,
                    planned: self
                        .config
                        .planned
                        .as_ref()
                        .map(|planned| planned(start_ns as f64 / 1e9, end_ns as f64 / 1e9)),
                    offered: counts.offered,
                    late: counts.late,
                    answered: latencies.map_or(0, Latencies::count),
                    p50_ns: percentiles.p50,
                    p99_ns: percentiles.p99,
                    max_ns: percentiles.max,
                }
            })
            .collect()
    }
}

impl Monitored {
    /// The interval log of the measured intervals (docs/OUTPUT.md): one line per tag and second,
    /// timestamps from `started` (when load started), `comments` after the header.
    pub fn interval_log(
        &self,
        window: &Window,
        started: SystemTime,
        comments: &[String],
    ) -> Result<Vec<u8>, String> {
        let mut deserializer = Deserializer::new();
        let mut measured: Vec<(i64, Tag, Histogram<u64>)> = Vec::new();
        for logged in self.log.iter().filter(|logged| logged.last >= 0) {
            let histogram: Histogram<u64> = deserializer
                .deserialize(&mut logged.encoded.as_slice())
                .map_err(|error| format!("an interval histogram: {error:?}"))?;
            // Several recorders of one tag (authorize's workers) add into one line a second.
            match measured
                .iter_mut()
                .find(|(index, tag, _)| *index == logged.last && *tag == logged.tag)
            {
                Some((_, _, sum)) => sum
                    .add(&histogram)
                    .map_err(|error| format!("interval histograms do not add: {error:?}"))?,
                None => measured.push((logged.last, logged.tag, histogram)),
            }
        }
        measured.sort_by_key(|(index, tag, _)| (*index, *tag));
        let intervals: Vec<IntervalRef<'_>> = measured
            .iter()
            .map(|(index, tag, histogram)| {
                let start_ns = window.interval_start_ns(*index);
                IntervalRef {
                    tag: tag.name(),
                    start: Duration::from_nanos(start_ns),
                    length: Duration::from_nanos(window.interval_start_ns(index + 1) - start_ns),
                    histogram,
                }
            })
            .collect();
        crate::hlog::write_log(started, comments, &intervals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_leave_out_the_warm_up_and_each_second_keeps_its_own_figures() {
        let window = Arc::new(Window::new(1_000_000_000));
        let monitor = Monitor::start(MonitorConfig {
            window: Arc::clone(&window),
            clock: RunClock::start_at(0),
            timeline: None,
            planned: None,
            outcomes: Arc::new(Outcomes::default()),
            gates: Vec::new(),
            abort_on_fail: false,
            stop: Arc::new(AtomicBool::new(false)),
            live: None,
            progress: None,
        });
        let mut recorder = monitor.handle().recorder(Tag::E2e);
        let mut ledger = monitor.handle().recorder(Tag::Ledger);
        window.start(0);
        // (ns after load start, latency): warm-up, then two measured seconds.
        let values: &[(u64, u64)] = &[
            (500_000_000, 7_000_000),
            (1_200_000_000, 2_000),
            (1_300_000_000, 3_000),
            (2_500_000_000, 4_000),
        ];
        for &(at_ns, latency_ns) in values {
            recorder.at(at_ns).record(latency_ns);
            ledger.at(at_ns).record(latency_ns / 2);
        }
        recorder.finish();
        ledger.finish();
        let monitored = monitor.stop();
        let e2e = &monitored.totals[&Tag::E2e];
        assert_eq!(
            e2e.count(),
            3,
            "the warm-up's value is not among the totals"
        );
        assert!(e2e.percentiles().max < 5_000);
        assert_eq!(monitored.totals[&Tag::Ledger].count(), 3);
        assert_eq!(monitored.log.len(), 6);
        let seconds: Vec<(f64, bool, u64)> = monitored
            .intervals
            .iter()
            .map(|second| (second.start_s, second.warmup, second.answered))
            .collect();
        assert_eq!(
            seconds,
            vec![(0.0, true, 1), (1.0, false, 2), (2.0, false, 1)]
        );
        assert_eq!(monitored.spanning, 0);
        // The interval log holds the measured seconds only, both tags, one line each.
        let log = monitored
            .interval_log(&window, SystemTime::now(), &["test".to_string()])
            .unwrap();
        let read = crate::hlog::read_log(&log).unwrap();
        assert_eq!(read.intervals.len(), 4);
        assert!(read
            .intervals
            .iter()
            .all(|interval| interval.start_s >= 1.0));
    }
}
