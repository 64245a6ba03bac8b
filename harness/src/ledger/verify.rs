//! `clearway ledger verify`: every segment and snapshot read and checked. Clean means: every
//! segment intact from its first record to its last with no gap in sequences, no torn tail, no
//! corruption, no temporary left by a crash, and every snapshot reads back whole and restores
//! to the state hash it records.

use std::path::Path;
use std::process::ExitCode;

use clearway_core::journal::{list_snapshots, restore, SnapshotInfo};
use serde::Serialize;

use super::{open, write_json};
use crate::exit::Failure;

#[derive(Serialize)]
struct Report {
    segments: Vec<SegmentReport>,
    records: u64,
    sequence_first: Option<u64>,
    sequence_next: Option<u64>,
    torn_tail: Option<String>,
    corruption: Option<String>,
    snapshots: Vec<SnapshotReport>,
    temporaries: Vec<String>,
    clean: bool,
}

#[derive(Serialize)]
struct SegmentReport {
    name: String,
    sequence_first: u64,
    records: u64,
    bytes_used: u64,
}

#[derive(Serialize)]
struct SnapshotReport {
    name: String,
    sequence_next: u64,
    /// `null` when it reads back and restores to its recorded hash; why not otherwise.
    problem: Option<String>,
}

pub fn run(data_dir: &Path, json: Option<&Path>) -> Result<ExitCode, Failure> {
    let directory = open(data_dir)?;
    let journal = &directory.journal;
    let listing = list_snapshots(&directory.storage)
        .map_err(|error| Failure::unreadable(error.to_string()))?;
    let snapshots: Vec<SnapshotReport> = listing
        .snapshots
        .iter()
        .map(
            |SnapshotInfo {
                 sequence_next,
                 name,
             }| {
                let problem = if journal
                    .sequence_next
                    .map_or(true, |journal_next| *sequence_next > journal_next)
                {
                    Some(format!(
                        "covers events up to sequence {}, past the journal's end",
                        sequence_next.saturating_sub(1)
                    ))
                } else {
                    restore(
                        &directory.storage,
                        name,
                        &directory.opened.network,
                        directory.opened.ledger_config,
                    )
                    .err()
                };
                SnapshotReport {
                    name: name.clone(),
                    sequence_next: *sequence_next,
                    problem,
                }
            },
        )
        .collect();
    let report = Report {
        segments: journal
            .segments
            .iter()
            .map(|segment| SegmentReport {
                name: segment.name.clone(),
                sequence_first: segment.sequence_first,
                records: segment.records,
                bytes_used: segment.bytes_used,
            })
            .collect(),
        records: journal.event_count(),
        sequence_first: journal.sequence_first,
        sequence_next: journal.sequence_next,
        torn_tail: journal.torn_tail.as_ref().map(ToString::to_string),
        corruption: journal.corruption.as_ref().map(ToString::to_string),
        clean: journal.torn_tail.is_none()
            && journal.corruption.is_none()
            && listing.temporaries.is_empty()
            && snapshots.iter().all(|snapshot| snapshot.problem.is_none()),
        snapshots,
        temporaries: listing.temporaries,
    };
    print_report(data_dir, &report);
    if let Some(path) = json {
        write_json(path, &report)?;
    }
    Ok(if report.clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::exit::CHECK_FAILED)
    })
}

fn print_report(data_dir: &Path, report: &Report) {
    println!("data dir:  {}", data_dir.display());
    println!(
        "journal:   {} segments, {} records, sequences {}",
        report.segments.len(),
        report.records,
        match (report.sequence_first, report.sequence_next) {
            (Some(first), Some(next)) if next > first => format!("{first}..={}", next - 1),
            _ => "none".to_string(),
        }
    );
    for segment in &report.segments {
        println!(
            "  {}  first {:>12}  {:>9} records  {:>12} bytes used",
            segment.name, segment.sequence_first, segment.records, segment.bytes_used
        );
    }
    if let Some(tail) = &report.torn_tail {
        println!("TORN TAIL: {tail} (a crash mid-write; the next start cuts it off)");
    }
    if let Some(corruption) = &report.corruption {
        println!("CORRUPT:   {corruption}");
    }
    println!("snapshots: {}", report.snapshots.len());
    for snapshot in &report.snapshots {
        match &snapshot.problem {
            None => println!(
                "  {}  covers sequences below {:>12}  ok",
                snapshot.name, snapshot.sequence_next
            ),
            Some(problem) => println!("  {}  INVALID: {problem}", snapshot.name),
        }
    }
    for temporary in &report.temporaries {
        println!("TEMPORARY: {temporary} (a snapshot a crash left unfinished; the next start removes it)");
    }
    println!("{}", if report.clean { "clean" } else { "NOT CLEAN" });
}
