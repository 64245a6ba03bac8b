//! [`Trials`]: the [`System`] a real search tries: each trial a [`Probe`] of `clearway run` (or
//! `clearway load --target`) at one rate, in a process of its own, with its results folder under
//! the search's.

use std::ffi::OsString;
use std::path::PathBuf;

use super::bisect::{System, Trial};
use crate::exit::Failure;
use crate::probe::{Probe, Probed};

/// Trials of one probe, each into its own numbered folder.
pub struct Trials {
    /// What each trial runs; the rate is added per trial.
    pub probe: Probe,
    /// Where the trials' folders go.
    pub root: PathBuf,
    /// Trials run so far.
    pub count: usize,
}

impl Trials {
    /// Trials of `probe`, into folders under `root`.
    pub fn new(probe: Probe, root: PathBuf) -> Trials {
        Trials {
            probe,
            root,
            count: 0,
        }
    }
}

impl System for Trials {
    fn trial(&mut self, rate_per_s: f64, repeat: usize) -> Result<Trial, Failure> {
        self.count += 1;
        let out = self.root.join(format!(
            "{:03}-{}-{}",
            self.count,
            rate_per_s.round() as u64,
            repeat + 1
        ));
        let rate: OsString = format!("{}", rate_per_s.round() as u64).into();
        let probed = self.probe.run(&["--rate".into(), rate], &out)?;
        Ok(judged(&probed))
    }
}

/// A probe's run as a trial: it passes when every check passed, the measurement is valid and
/// every gate held.
pub fn judged(probed: &Probed) -> Trial {
    let reason = probed.failure();
    Trial {
        passed: reason.is_none(),
        reason,
        throughput_per_s: probed.summary.throughput_per_s,
        p50_ns: Some(probed.summary.latency_ns.p50),
        p99_ns: Some(probed.summary.latency_ns.p99),
        out: Some(probed.out.display().to_string()),
    }
}
