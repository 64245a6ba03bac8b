//! [`StageCounters`]: what each worker did (events, batches, batch sizes, lag behind its
//! upstream), kept where they cost nothing until someone reads them; and the reports built from
//! them.

use std::fmt;

use crossbeam_utils::CachePadded;

use crate::constants::BATCH_SIZE_BUCKET_COUNT;
use crate::ring::sync::{AtomicU64, Ordering};

/// One worker's counters. Written only by the worker, once per batch, on a line of its own: plain
/// loads and stores (no read-modify-write, no fence), so the line stays in the worker's cache
/// and the counters cost a few instructions a batch. A reader on another core pulls the line over
/// only when it reads.
pub struct StageCounters {
    inner: CachePadded<CounterCells>,
}

struct CounterCells {
    /// Events this worker handled (its own sequences, for a worker in a group).
    events: AtomicU64,
    /// Batches taken from the barrier.
    batches: AtomicU64,
    /// Sequences spanned by all batches.
    span_sum: AtomicU64,
    /// Sum over batches of the lag at the moment the batch was taken.
    lag_sum: AtomicU64,
    /// The largest such lag.
    lag_max: AtomicU64,
    /// Bucket k counts batches spanning 2^k ..= 2^(k+1) − 1 sequences.
    batch_size_log2: [AtomicU64; BATCH_SIZE_BUCKET_COUNT],
}

impl StageCounters {
    /// All counters at zero.
    pub fn new() -> Self {
        Self {
            inner: CachePadded::new(CounterCells {
                events: AtomicU64::new(0),
                batches: AtomicU64::new(0),
                span_sum: AtomicU64::new(0),
                lag_sum: AtomicU64::new(0),
                lag_max: AtomicU64::new(0),
                batch_size_log2: std::array::from_fn(|_| AtomicU64::new(0)),
            }),
        }
    }

    /// Records one batch: `span` sequences taken from the barrier, `events` of them this worker's
    /// own, taken when the upstream was `lag` sequences ahead. Only the owning worker calls this.
    #[inline(always)]
    pub fn record_batch(&self, span: u64, events: u64, lag: u64) {
        let cells = &*self.inner;
        add(&cells.events, events);
        add(&cells.batches, 1);
        add(&cells.span_sum, span);
        add(&cells.lag_sum, lag);
        if lag > cells.lag_max.load(Ordering::Relaxed) {
            cells.lag_max.store(lag, Ordering::Relaxed);
        }
        let bucket = (63 - span.max(1).leading_zeros() as usize).min(BATCH_SIZE_BUCKET_COUNT - 1);
        add(&cells.batch_size_log2[bucket], 1);
    }

    /// Records events handled outside the ring (a fused chain): one batch of `events`.
    pub fn record_fused(&self, events: u64) {
        if events > 0 {
            self.record_batch(events, events, 0);
        }
    }

    /// A copy of the counters as they are now.
    pub fn snapshot(&self) -> CountersSnapshot {
        let cells = &*self.inner;
        CountersSnapshot {
            events: cells.events.load(Ordering::Relaxed),
            batches: cells.batches.load(Ordering::Relaxed),
            span_sum: cells.span_sum.load(Ordering::Relaxed),
            lag_sum: cells.lag_sum.load(Ordering::Relaxed),
            lag_max: cells.lag_max.load(Ordering::Relaxed),
            batch_size_log2: std::array::from_fn(|k| {
                cells.batch_size_log2[k].load(Ordering::Relaxed)
            }),
        }
    }
}

impl Default for StageCounters {
    fn default() -> Self {
        Self::new()
    }
}

/// Single-writer increment: a load and a store, which on x86-64 are two plain `mov`s.
#[inline(always)]
fn add(cell: &AtomicU64, amount: u64) {
    cell.store(cell.load(Ordering::Relaxed) + amount, Ordering::Relaxed);
}

/// A copy of one worker's counters, or the sum over a stage's workers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CountersSnapshot {
    /// Events handled.
    pub events: u64,
    /// Batches taken.
    pub batches: u64,
    /// Sequences spanned by all batches (for a worker in a group, its own and the others').
    pub span_sum: u64,
    /// Sum of the lag behind the upstream when each batch was taken.
    pub lag_sum: u64,
    /// The largest lag.
    pub lag_max: u64,
    /// Bucket k counts batches spanning 2^k ..= 2^(k+1) − 1 sequences.
    pub batch_size_log2: [u64; BATCH_SIZE_BUCKET_COUNT],
}

impl CountersSnapshot {
    /// Sequences per batch, on average.
    pub fn batch_size_mean(&self) -> f64 {
        ratio(self.span_sum, self.batches)
    }

    /// How far behind its upstream the stage was when it took a batch, on average: a stage that
    /// is always far behind is the bottleneck.
    pub fn lag_mean(&self) -> f64 {
        ratio(self.lag_sum, self.batches)
    }

    /// Adds `other` (another worker of the same stage).
    pub fn add(&mut self, other: &CountersSnapshot) {
        self.events += other.events;
        self.batches += other.batches;
        self.span_sum += other.span_sum;
        self.lag_sum += other.lag_sum;
        self.lag_max = self.lag_max.max(other.lag_max);
        for (mine, theirs) in self.batch_size_log2.iter_mut().zip(other.batch_size_log2) {
            *mine += theirs;
        }
    }
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// One stage's counters, per worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageReport {
    /// The stage.
    pub name: String,
    /// One snapshot per worker, in worker order.
    pub workers: Vec<CountersSnapshot>,
}

impl StageReport {
    /// The sum over the stage's workers.
    pub fn total(&self) -> CountersSnapshot {
        let mut total = CountersSnapshot::default();
        for worker in &self.workers {
            total.add(worker);
        }
        total
    }
}

/// The counters of a whole pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineReport {
    /// Sequences published into the pipeline.
    pub published: u64,
    /// Claims that found the ring full and waited: backpressure reaching the producers.
    pub producer_full_count: u64,
    /// The stages, upstreams before downstreams.
    pub stages: Vec<StageReport>,
}

impl fmt::Display for PipelineReport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            formatter,
            "published {} events; producer found the ring full {} times",
            self.published, self.producer_full_count
        )?;
        writeln!(
            formatter,
            "  {:<12} {:>7} {:>14} {:>12} {:>11} {:>11} {:>10}",
            "stage", "workers", "events", "batches", "batch mean", "lag mean", "lag max"
        )?;
        for stage in &self.stages {
            let total = stage.total();
            writeln!(
                formatter,
                "  {:<12} {:>7} {:>14} {:>12} {:>11.1} {:>11.1} {:>10}",
                stage.name,
                stage.workers.len(),
                total.events,
                total.batches,
                total.batch_size_mean(),
                total.lag_mean(),
                total.lag_max
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_land_in_log2_buckets_and_lag_is_tracked() {
        let counters = StageCounters::new();
        counters.record_batch(1, 1, 1);
        counters.record_batch(3, 3, 10);
        counters.record_batch(256, 128, 300);
        let snapshot = counters.snapshot();
        assert_eq!(snapshot.events, 132);
        assert_eq!(snapshot.batches, 3);
        assert_eq!(snapshot.span_sum, 260);
        assert!((snapshot.batch_size_mean() - 260.0 / 3.0).abs() < 1e-9);
        assert_eq!(snapshot.lag_max, 300);
        assert_eq!(snapshot.lag_sum, 311);
        assert_eq!(snapshot.batch_size_log2[0], 1);
        assert_eq!(snapshot.batch_size_log2[1], 1);
        assert_eq!(snapshot.batch_size_log2[8], 1);
        assert_eq!(snapshot.batch_size_log2.iter().sum::<u64>(), 3);
        assert!((snapshot.lag_mean() - 311.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn stage_total_sums_workers_and_keeps_the_largest_lag() {
        let first = StageCounters::new();
        let second = StageCounters::new();
        first.record_batch(4, 2, 7);
        second.record_batch(4, 2, 9);
        let report = StageReport {
            name: "authorize".into(),
            workers: vec![first.snapshot(), second.snapshot()],
        };
        let total = report.total();
        assert_eq!(total.events, 4);
        assert_eq!(total.batches, 2);
        assert_eq!(total.lag_max, 9);
        assert_eq!(total.batch_size_log2[2], 2);
    }
}
