//! [`BatchReport`]: the settlement report of one clearing batch, what a cutover hands to the
//! writer — each participant's count, debit and credit totals and its net position to settle.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::event::ParticipantId;

/// Which way a participant settles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Net below zero: it pays.
    Pay,
    /// Net above zero: it receives.
    Receive,
    /// Net zero.
    Flat,
}

impl Direction {
    /// The direction of `net_fen`.
    pub fn of(net_fen: i128) -> Direction {
        match net_fen.signum() {
            -1 => Direction::Pay,
            1 => Direction::Receive,
            _ => Direction::Flat,
        }
    }

    /// The name the report uses.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Pay => "pay",
            Direction::Receive => "receive",
            Direction::Flat => "flat",
        }
    }
}

/// One participant's line in a batch report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRow {
    /// The participant.
    pub participant: ParticipantId,
    /// Its name in the network configuration.
    pub name: String,
    /// Payments posted in the batch that it was party to.
    pub count: u64,
    /// What it owes for them, fen.
    pub debit_fen: u128,
    /// What it is owed for them, fen.
    pub credit_fen: u128,
    /// `credit_fen − debit_fen`: its position at the cutover.
    pub net_fen: i128,
    /// Which way it settles.
    pub direction: Direction,
}

/// The settlement report of one clearing batch: every participant with a payment posted in it,
/// in id order. Σ net is zero.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReport {
    /// The batch's number, from 1.
    pub batch: u64,
    /// Event time of the cutover that closed it.
    pub closed_at_ns: u64,
    /// One row per participant with a posting, in id order.
    pub rows: Vec<BatchRow>,
}

impl BatchReport {
    /// Σ net over the rows: zero for every report the ledger writes.
    pub fn net_sum(&self) -> i128 {
        self.rows.iter().map(|row| row.net_fen).sum()
    }

    /// The report as CSV: a header line, then one line per row.
    pub fn to_csv(&self) -> String {
        let mut csv =
            String::from("batch,participant,name,count,debit_fen,credit_fen,net_fen,direction\n");
        for row in &self.rows {
            csv.push_str(&format!(
                "{},{},{},{},{},{},{},{}\n",
                self.batch,
                row.participant,
                csv_field(&row.name),
                row.count,
                row.debit_fen,
                row.credit_fen,
                row.net_fen,
                row.direction.name(),
            ));
        }
        csv
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a batch report always serializes")
    }

    /// The file name stem of this batch: `batch-000001`.
    pub fn file_stem(&self) -> String {
        format!("batch-{:06}", self.batch)
    }

    /// Writes `batch-NNNNNN.csv` and `batch-NNNNNN.json` into `directory`; returns their paths.
    pub fn write_to(&self, directory: &Path) -> std::io::Result<[PathBuf; 2]> {
        let stem = self.file_stem();
        let csv = directory.join(format!("{stem}.csv"));
        let json = directory.join(format!("{stem}.json"));
        std::fs::write(&csv, self.to_csv())?;
        std::fs::write(&json, self.to_json())?;
        Ok([csv, json])
    }
}

/// `text` as one CSV field: quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json_carry_every_row() {
        let report = BatchReport {
            batch: 3,
            closed_at_ns: 77,
            rows: vec![
                BatchRow {
                    participant: ParticipantId(1),
                    name: "Pay, Inc.".into(),
                    count: 2,
                    debit_fen: 0,
                    credit_fen: u128::from(u64::MAX) * 2,
                    net_fen: i128::from(u64::MAX) * 2,
                    direction: Direction::Receive,
                },
                BatchRow {
                    participant: ParticipantId(11),
                    name: "Bank".into(),
                    count: 2,
                    debit_fen: u128::from(u64::MAX) * 2,
                    credit_fen: 0,
                    net_fen: -i128::from(u64::MAX) * 2,
                    direction: Direction::Pay,
                },
            ],
        };
        assert_eq!(report.net_sum(), 0);
        assert_eq!(
            report.to_csv(),
            "batch,participant,name,count,debit_fen,credit_fen,net_fen,direction\n\
             3,1,\"Pay, Inc.\",2,0,36893488147419103230,36893488147419103230,receive\n\
             3,11,Bank,2,36893488147419103230,0,-36893488147419103230,pay\n"
        );
        let back: BatchReport = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(back, report);
        assert_eq!(report.file_stem(), "batch-000003");
        assert_eq!(Direction::of(0), Direction::Flat);
    }
}
