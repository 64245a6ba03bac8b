//! `clearway ledger settlement`: a clearing batch's settlement report, rebuilt from the journal.

use std::path::Path;
use std::process::ExitCode;

use clearway_core::journal::ReplayObserver;
use clearway_core::stage::BatchReport;

use super::{open, rebuild_from_genesis};
use crate::exit::Failure;

/// Keeps the batch asked for, or every batch.
struct Reports {
    batch: Option<u64>,
    reports: Vec<BatchReport>,
}

impl ReplayObserver for Reports {
    fn batch_closed(&mut self, report: &BatchReport) {
        if self.batch.map_or(true, |batch| batch == report.batch) {
            self.reports.push(report.clone());
        }
    }
}

pub fn run(data_dir: &Path, batch: Option<u64>, out: Option<&Path>) -> Result<ExitCode, Failure> {
    let directory = open(data_dir)?;
    let mut reports = Reports {
        batch,
        reports: Vec::new(),
    };
    let rebuilt = rebuild_from_genesis(&directory, &mut reports)?;
    if let Some(batch) = batch {
        if reports.reports.is_empty() {
            return Err(Failure::check(format!(
                "batch {batch} is not closed in this journal: batches 1 to {} are",
                rebuilt.ledger.batch_number().saturating_sub(1)
            )));
        }
    }
    if let Some(out) = out {
        std::fs::create_dir_all(out).map_err(|error| {
            Failure::unreadable(format!("cannot create {}: {error}", out.display()))
        })?;
        for report in &reports.reports {
            report.write_to(out).map_err(|error| {
                Failure::unreadable(format!("cannot write into {}: {error}", out.display()))
            })?;
        }
        println!(
            "{} settlement report(s) → {}",
            reports.reports.len(),
            out.display()
        );
    } else if batch.is_some() {
        for report in &reports.reports {
            print!("{}", report.to_csv());
        }
    } else {
        println!("batch  participants  debit_fen_total        net_sum_fen  closed_at_ns");
        for report in &reports.reports {
            let debit: u128 = report.rows.iter().map(|row| row.debit_fen).sum();
            println!(
                "{:>5}  {:>12}  {:>15}  {:>17}  {}",
                report.batch,
                report.rows.len(),
                debit,
                report.net_sum(),
                report.closed_at_ns
            );
        }
    }
    if let Some(report) = reports.reports.iter().find(|report| report.net_sum() != 0) {
        return Err(Failure::check(format!(
            "batch {} nets to {} fen, not 0",
            report.batch,
            report.net_sum()
        )));
    }
    Ok(ExitCode::SUCCESS)
}
