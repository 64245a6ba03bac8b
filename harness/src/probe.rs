//! [`Probe`]: one measured run of `clearway run` or `clearway load` in a process of its own,
//! read back from its results folder. `clearway search`, `sweep` and `compare --ab` are made of
//! probes: each starts a fresh process, so no run inherits another's warmed tables, queues or
//! heap, and a probe's folder keeps everything it wrote (summary, interval log, what it printed)
//! for a second look.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::exit::{Failure, CHECK_FAILED, INVALID_RUN, SLO_FAILED};
use crate::summary_file::RunSummary;

/// How to start one kind of measured run: which binary, which command, which flags.
#[derive(Clone, Debug)]
pub struct Probe {
    /// The `clearway` binary to run: this one, or another build (`compare --ab`).
    pub binary: PathBuf,
    /// `run` (embedded) or `load` (against a node).
    pub command: &'static str,
    /// Flags every run of this probe gets, after the command.
    pub args: Vec<OsString>,
    /// Run on the first this many cores only (through `taskset`), or on every core.
    pub cores: Option<usize>,
}

/// One probe's run, read back.
#[derive(Debug)]
pub struct Probed {
    /// Its summary.
    pub summary: RunSummary,
    /// Its exit code: 0, [`INVALID_RUN`] or [`SLO_FAILED`].
    pub code: i32,
    /// Its results folder.
    pub out: PathBuf,
}

impl Probed {
    /// Why it did not pass (a failed check, an invalid measurement, a failed gate), or `None`.
    pub fn failure(&self) -> Option<String> {
        self.summary.failure()
    }
}

impl Probe {
    /// A probe of this very binary.
    // `clearway search` and `sweep` probe this binary; `compare --ab` names its two.
    pub fn here(command: &'static str, args: Vec<OsString>) -> Result<Probe, Failure> {
        let binary = std::env::current_exe().map_err(|error| {
            Failure::failed(format!(
                "cannot find the clearway binary to probe with: {error}"
            ))
        })?;
        Ok(Probe {
            binary,
            command,
            args,
            cores: None,
        })
    }

    /// Runs it once with `extra` flags after the probe's own, writing its results into `out`
    /// (created; what the process printed goes to `out/stdout.txt` and `out/stderr.txt`), and
    /// reads its summary back. A run that exits 0, 5 (invalid) or 6 (a gate failed) is a
    /// measurement; any other exit is a failure that names the folder and the last thing the run
    /// said: a failed check (1) is a bug in the switch, not a capacity limit.
    pub fn run(&self, extra: &[OsString], out: &Path) -> Result<Probed, Failure> {
        std::fs::create_dir_all(out).map_err(|error| {
            Failure::unreadable(format!("cannot create {}: {error}", out.display()))
        })?;
        let mut arguments: Vec<OsString> = vec![self.command.into()];
        arguments.extend(self.args.iter().cloned());
        arguments.extend(extra.iter().cloned());
        arguments.extend(["--out".into(), out.as_os_str().to_owned(), "--quiet".into()]);
        let mut command = match self.cores {
            Some(cores) => {
                let mut command = Command::new("taskset");
                command
                    .arg("-c")
                    .arg(format!("0-{}", cores.saturating_sub(1)))
                    .arg(&self.binary);
                command
            }
            None => Command::new(&self.binary),
        };
        command.args(&arguments).stdin(Stdio::null());
        let line = std::iter::once(self.binary.as_os_str())
            .chain(arguments.iter().map(OsString::as_os_str))
            .map(|part| part.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let output = command.output().map_err(|error| {
            let what = if self.cores.is_some() {
                "taskset (util-linux), which limits a probe's cores,"
            } else {
                "the clearway binary"
            };
            Failure::failed(format!("cannot start {what}: {error} ({line})"))
        })?;
        let written = std::fs::write(out.join("command.txt"), line.clone() + "\n")
            .and_then(|()| std::fs::write(out.join("stdout.txt"), &output.stdout))
            .and_then(|()| std::fs::write(out.join("stderr.txt"), &output.stderr));
        written.map_err(|error| {
            Failure::unreadable(format!("cannot write into {}: {error}", out.display()))
        })?;
        let code = output.status.code();
        let measured = matches!(code, Some(0))
            || code == Some(i32::from(INVALID_RUN))
            || code == Some(i32::from(SLO_FAILED));
        if !measured {
            let said = String::from_utf8_lossy(&output.stderr);
            let said = said.lines().rev().find(|line| !line.trim().is_empty());
            let message = format!(
                "the probe `{line}` {} ({}): see {}",
                match code {
                    Some(code) => format!("exited {code}"),
                    None => "was killed by a signal".to_string(),
                },
                said.unwrap_or("it printed nothing"),
                out.display()
            );
            return Err(if code == Some(i32::from(CHECK_FAILED)) {
                Failure::check(message)
            } else {
                Failure::failed(message)
            });
        }
        let summary = crate::summary_file::read(out)?;
        Ok(Probed {
            summary,
            code: code.unwrap_or_default(),
            out: out.to_path_buf(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_that_is_not_there_is_a_failure_not_a_panic() {
        let probe = Probe {
            binary: PathBuf::from("/nonexistent/clearway"),
            command: "run",
            args: Vec::new(),
            cores: None,
        };
        let out = std::env::temp_dir().join(format!("clearway-probe-{}", std::process::id()));
        let failure = probe.run(&[], &out).unwrap_err();
        assert_eq!(failure.code, crate::exit::RUN_FAILED);
        assert!(
            failure.message.contains("cannot start"),
            "{}",
            failure.message
        );
        let _ = std::fs::remove_dir_all(&out);
    }

    #[test]
    fn an_exit_that_is_not_a_measurement_names_what_the_run_said() {
        // `false` exits 1 having printed nothing: a failed check, not a measurement.
        let probe = Probe {
            binary: PathBuf::from("false"),
            command: "run",
            args: Vec::new(),
            cores: None,
        };
        let out = std::env::temp_dir().join(format!("clearway-probe-f-{}", std::process::id()));
        let failure = probe.run(&[], &out).unwrap_err();
        assert_eq!(failure.code, CHECK_FAILED);
        assert!(failure.message.contains("exited 1"), "{}", failure.message);
        assert!(out.join("command.txt").exists());
        let _ = std::fs::remove_dir_all(&out);
    }
}
