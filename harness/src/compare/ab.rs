//! [`Interleaved`]: two builds of `clearway` run in turns, A B, then B A, then A B …, each run a
//! [`Probe`] in a process of its own writing into its own results folder (DIR/a-1, DIR/b-1,
//! DIR/b-2, DIR/a-2 …).
//!
//! Why in turns: a shared machine's speed drifts from one minute to the next (other jobs, the
//! CPU's frequency, the neighbours' caches), by ±15% between single runs. Runs of A then runs of
//! B would put the drift between the two builds; a run of A right before a run of B sees nearly
//! the same machine, so the ratio of the pair holds still while the runs themselves wander. The
//! order swaps every round, so that whatever favours the second run of a pair (a machine
//! speeding up as a job next door ends, caches the first run warmed) favours A in half the
//! rounds and B in the other half, instead of B in every one: with a fixed order, one build
//! against a byte-identical copy of itself was judged "improved", B faster in all 5 rounds. The
//! judge (`judge::pairwise`) then asks every pair for the same answer.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::inputs::Run;
use crate::exit::{Failure, CHECK_FAILED};
use crate::probe::{Probe, Probed};
use crate::run::latency::human_ns;
use crate::run::summary::thousands;

/// Two builds to run in turns.
#[derive(Clone, Debug)]
pub struct Interleaved {
    /// The baseline's binary.
    pub binary_a: PathBuf,
    /// The current binary.
    pub binary_b: PathBuf,
    /// Rounds: each runs A once and B once, A first in odd rounds and B first in even ones.
    pub rounds: usize,
    /// The flags each `clearway run` gets.
    pub run_flags: Vec<OsString>,
    /// Where the runs' folders go.
    pub out: PathBuf,
}

/// Every round's runs, in round order.
#[derive(Clone, Debug)]
pub struct Rounds {
    /// A's runs.
    pub a: Vec<Run>,
    /// B's runs.
    pub b: Vec<Run>,
}

impl Interleaved {
    /// Runs every round, A then B in odd rounds and B then A in even ones, saying each run's figures on stderr as it ends. A run that
    /// does not finish as a measurement stops the comparison: a failed check (exit 1) is
    /// [`NOT_COMPARABLE`](crate::exit::NOT_COMPARABLE); a binary that cannot start, crashes or
    /// refuses the flags is the probe's [`RUN_FAILED`](crate::exit::RUN_FAILED).
    pub fn run(&self) -> Result<Rounds, Failure> {
        let mut rounds = Rounds {
            a: Vec::with_capacity(self.rounds),
            b: Vec::with_capacity(self.rounds),
        };
        for round in 1..=self.rounds {
            let mut order = [("a", &self.binary_a), ("b", &self.binary_b)];
            if round % 2 == 0 {
                order.reverse();
            }
            for (name, binary) in order {
                let probed = self.probe(binary, &self.out.join(format!("{name}-{round}")))?;
                let summary = &probed.summary;
                // An invalid run or a failed gate is still a measurement: said, and judged.
                let note = probed
                    .failure()
                    .map_or_else(String::new, |why| format!(" (exit {}: {why})", probed.code));
                eprintln!(
                    "clearway compare: {name}-{round} of {}: {}/s, p50 {}, p99 {}{note}",
                    self.rounds,
                    thousands(summary.throughput_per_s.round() as u64),
                    human_ns(summary.latency_ns.p50),
                    human_ns(summary.latency_ns.p99),
                );
                let run = Run {
                    path: probed.out,
                    summary: probed.summary,
                };
                if name == "a" {
                    rounds.a.push(run);
                } else {
                    rounds.b.push(run);
                }
            }
        }
        Ok(rounds)
    }

    fn probe(&self, binary: &Path, out: &Path) -> Result<Probed, Failure> {
        let probe = Probe {
            binary: binary.to_path_buf(),
            command: "run",
            args: self.run_flags.clone(),
            cores: None,
        };
        probe.run(&[], out).map_err(|failure| {
            if failure.code == CHECK_FAILED {
                Failure::not_comparable(format!(
                    "not comparing: a run that failed its checks is not a measurement: {}",
                    failure.message
                ))
            } else {
                failure
            }
        })
    }
}

/// A fresh folder for the runs under the system's temporary directory, named after this process
/// and the time.
pub fn fresh_out() -> PathBuf {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    std::env::temp_dir().join(format!("clearway-compare-{seconds}-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_that_fails_its_checks_is_not_comparable() {
        use crate::exit::NOT_COMPARABLE;
        // `false` exits 1 as a run whose check failed would.
        let out = std::env::temp_dir().join(format!("clearway-compare-ab-{}", std::process::id()));
        let interleaved = Interleaved {
            binary_a: PathBuf::from("false"),
            binary_b: PathBuf::from("false"),
            rounds: 1,
            run_flags: Vec::new(),
            out: out.clone(),
        };
        let failure = interleaved.run().unwrap_err();
        assert_eq!(failure.code, NOT_COMPARABLE);
        assert!(out.join("a-1").join("command.txt").exists());
        let _ = std::fs::remove_dir_all(&out);
    }

    #[test]
    fn a_binary_that_is_not_there_is_a_run_failure() {
        let out =
            std::env::temp_dir().join(format!("clearway-compare-ab-n-{}", std::process::id()));
        let interleaved = Interleaved {
            binary_a: PathBuf::from("/nonexistent/clearway"),
            binary_b: PathBuf::from("/nonexistent/clearway"),
            rounds: 1,
            run_flags: Vec::new(),
            out: out.clone(),
        };
        assert_eq!(interleaved.run().unwrap_err().code, crate::exit::RUN_FAILED);
        let _ = std::fs::remove_dir_all(&out);
    }
}
