//! The journal on this machine's disk: what appending costs, what a group commit costs as the
//! group grows, and how long `fdatasync` takes.
//!
//! ```text
//!   events ─► JournalWriter::append ×N ─► commit: one write + one fdatasync
//! ```
//!
//! `cargo bench -p clearway-benches --bench journal` runs the criterion groups:
//! - `journal_append`: encode and buffer 4,096 events, then write them with no sync;
//! - `journal_group_commit_fsync/N`: N events appended, then one commit with fdatasync: the
//!   cost of durability per event as groups grow.
//!
//! `cargo bench -p clearway-benches --bench journal -- fsync-latency [SECONDS]` instead runs each
//! group size for SECONDS (default 2) and prints the fdatasync latency distribution (an
//! HdrHistogram), events per second, MB/s written and events per sync — what docs/DURABILITY.md
//! quotes. The files go to a folder under the system's temporary directory, removed after.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clearway_core::event::{Event, Kind, ParticipantId};
use clearway_core::journal::{Durability, FileStorage, JournalConfig, JournalWriter};
use criterion::{criterion_group, BatchSize, BenchmarkId, Criterion, Throughput};
use hdrhistogram::Histogram;

/// Group sizes the fsync cases sweep: one event per sync (no group commit) up to a ring's worth.
const GROUP_SIZES: [usize; 5] = [1, 16, 256, 4_096, 16_384];

fn scratch(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "clearway-bench-journal-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&path);
    path
}

fn event(sequence: u64) -> Event {
    let mut event = Event::operator(Kind::Cutover, ParticipantId::OPERATOR, 0, sequence);
    event.sequence = sequence;
    event.amount_fen = sequence;
    event
}

fn writer(path: &PathBuf, durability: Durability) -> JournalWriter<FileStorage> {
    let storage = FileStorage::open(path).expect("the scratch folder opens");
    let config = JournalConfig {
        durability,
        ..JournalConfig::default()
    };
    JournalWriter::create(storage, config, 0, None).expect("a journal starts")
}

fn bench(criterion: &mut Criterion) {
    let events: Vec<Event> = (0..16_384).map(event).collect();

    let mut group = criterion.benchmark_group("journal_append");
    group.throughput(Throughput::Elements(4_096));
    let path = scratch("append");
    let mut journal = writer(&path, Durability::None);
    let mut sequence = 0u64;
    group.bench_function("4096_events_written_unsynced", |bencher| {
        bencher.iter(|| {
            for event in &events[..4_096] {
                journal.append(sequence, event).expect("appends");
                sequence += 1;
            }
            journal.commit().expect("writes")
        })
    });
    group.finish();
    drop(journal);
    let _ = std::fs::remove_dir_all(&path);

    let mut group = criterion.benchmark_group("journal_group_commit_fsync");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    for size in GROUP_SIZES {
        group.throughput(Throughput::Elements(size as u64));
        let path = scratch(&format!("fsync-{size}"));
        let mut journal = writer(&path, Durability::Fsync);
        let mut sequence = 0u64;
        group.bench_with_input(
            BenchmarkId::from_parameter(size),
            &size,
            |bencher, &size| {
                bencher.iter_batched(
                    || (),
                    |()| {
                        for event in &events[..size] {
                            journal.append(sequence, event).expect("appends");
                            sequence += 1;
                        }
                        journal.commit().expect("syncs")
                    },
                    BatchSize::SmallInput,
                )
            },
        );
        drop(journal);
        let _ = std::fs::remove_dir_all(&path);
    }
    group.finish();
}

/// Each group size for `seconds`: the fdatasync latency distribution and what it carried.
fn fsync_latency(seconds: f64) {
    let events: Vec<Event> = (0..16_384).map(event).collect();
    println!(
        "journal group commit with fdatasync, {seconds} s per group size, files under {}",
        std::env::temp_dir().display()
    );
    println!(
        "{:>6} {:>9} {:>12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "group", "syncs", "events/s", "MB/s", "p50", "p90", "p99", "p99.9", "max"
    );
    for size in GROUP_SIZES {
        let path = scratch(&format!("latency-{size}"));
        let mut journal = writer(&path, Durability::Fsync);
        let mut histogram =
            Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
        let mut sequence = 0u64;
        let started = Instant::now();
        while started.elapsed().as_secs_f64() < seconds {
            for event in &events[..size] {
                journal.append(sequence, event).expect("appends");
                sequence += 1;
            }
            let commit = journal.commit().expect("syncs");
            histogram.saturating_record(commit.sync_ns.max(1));
        }
        let elapsed = started.elapsed().as_secs_f64();
        let stats = journal.stats();
        let us = |quantile: f64| histogram.value_at_quantile(quantile) as f64 / 1e3;
        println!(
            "{:>6} {:>9} {:>12.0} {:>9.1} {:>7.0}µs {:>7.0}µs {:>7.0}µs {:>7.0}µs {:>8.0}µs",
            size,
            stats.syncs,
            stats.events as f64 / elapsed,
            stats.bytes_written as f64 / 1e6 / elapsed,
            us(0.5),
            us(0.9),
            us(0.99),
            us(0.999),
            histogram.max() as f64 / 1e3,
        );
        drop(journal);
        let _ = std::fs::remove_dir_all(&path);
    }
}

criterion_group!(benches, bench);

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments.iter().any(|argument| argument == "fsync-latency") {
        let seconds = arguments
            .iter()
            .find_map(|argument| argument.parse().ok())
            .unwrap_or(2.0);
        fsync_latency(seconds);
        return;
    }
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
