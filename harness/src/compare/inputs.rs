//! [`Run`]: one measured run a comparison reads, with where it came from. [`collect`] finds the
//! runs a `--baseline` or `--current` path names; [`check`] refuses runs that are not a
//! measurement (a failed check) and sets of runs that were not measured under the same
//! [`Conditions`](crate::summary_file::Conditions), and warns of invalid ones.

use std::path::{Path, PathBuf};

use crate::exit::Failure;
use crate::summary_file::{self, RunSummary, SUMMARY_FILE};

/// One measured run.
#[derive(Clone, Debug)]
pub struct Run {
    /// Where its summary came from, as the user will recognise it: the path given, or the
    /// repeat's folder under it.
    pub path: PathBuf,
    /// Its summary.
    pub summary: RunSummary,
}

/// What [`check`] found that does not stop the comparison.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checked {
    /// One sentence each: conditions that differ (with `--allow-different-environment`),
    /// invalid runs.
    pub warnings: Vec<String>,
    /// Runs whose generator fell behind (`valid: false`): compared anyway, counted here.
    pub invalid_runs: usize,
}

/// The runs `paths` name, in order: each path is a `summary.json`, a results folder holding one,
/// or a folder whose immediate subfolders each hold one (repeats: `baseline/run-1 … run-5`,
/// taken in name order; subfolders without a summary are passed over). A path that is missing,
/// unreadable or holds no summary at all is [`UNREADABLE`](crate::exit::UNREADABLE).
pub fn collect(paths: &[PathBuf]) -> Result<Vec<Run>, Failure> {
    let mut runs = Vec::new();
    for path in paths {
        if !path.exists() {
            return Err(Failure::unreadable(format!(
                "cannot read {}: no such file or folder",
                path.display()
            )));
        }
        if path.is_file() || path.join(SUMMARY_FILE).exists() {
            runs.push(read(path)?);
            continue;
        }
        let repeats = repeats(path)?;
        if repeats.is_empty() {
            return Err(Failure::unreadable(format!(
                "{} holds no {SUMMARY_FILE}, and none of its subfolders does",
                path.display()
            )));
        }
        for repeat in repeats {
            runs.push(read(&repeat)?);
        }
    }
    Ok(runs)
}

/// The immediate subfolders of `folder` that hold a summary, in name order (`run-2` before
/// `run-10`: numbers in names compare as numbers).
fn repeats(folder: &Path) -> Result<Vec<PathBuf>, Failure> {
    let entries = std::fs::read_dir(folder).map_err(|error| {
        Failure::unreadable(format!("cannot read {}: {error}", folder.display()))
    })?;
    let mut repeats = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| {
            Failure::unreadable(format!("cannot read {}: {error}", folder.display()))
        })?;
        let path = entry.path();
        if path.is_dir() && path.join(SUMMARY_FILE).is_file() {
            repeats.push(path);
        }
    }
    repeats.sort_by_key(|path| natural_key(&path.to_string_lossy()));
    Ok(repeats)
}

/// A name cut into text and numbers, so that `run-2` sorts before `run-10`.
fn natural_key(name: &str) -> Vec<(String, u64)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut number: Option<u64> = None;
    for character in name.chars() {
        match character.to_digit(10) {
            Some(digit) => {
                let value = number.unwrap_or(0);
                number = Some(value.saturating_mul(10).saturating_add(u64::from(digit)));
            }
            None => {
                if let Some(value) = number.take() {
                    key.push((std::mem::take(&mut text), value));
                }
                text.push(character);
            }
        }
    }
    key.push((text, number.unwrap_or(0)));
    key
}

fn read(path: &Path) -> Result<Run, Failure> {
    Ok(Run {
        path: path.to_path_buf(),
        summary: summary_file::read(path)?,
    })
}

/// Whether `baseline` and `current` may be compared: every run passed its checks (`ok`), else
/// [`NOT_COMPARABLE`](crate::exit::NOT_COMPARABLE) naming each that did not; and every run was
/// measured under the first baseline run's conditions, else `NOT_COMPARABLE` naming every
/// difference, unless `allow_different_environment` makes them warnings. Invalid runs
/// (`valid: false`) are warned of and counted.
pub fn check(
    baseline: &[Run],
    current: &[Run],
    allow_different_environment: bool,
) -> Result<Checked, Failure> {
    let runs: Vec<&Run> = baseline.iter().chain(current).collect();
    let failed: Vec<String> = runs
        .iter()
        .filter(|run| !run.summary.ok)
        .map(|run| {
            format!(
                "  {}: {}",
                run.path.display(),
                run.summary
                    .failure()
                    .unwrap_or_else(|| "a check failed".to_string())
            )
        })
        .collect();
    if !failed.is_empty() {
        return Err(Failure::not_comparable(format!(
            "not comparing: a run that failed its checks is not a measurement\n{}",
            failed.join("\n")
        )));
    }

    let mut checked = Checked::default();
    if let Some(reference) = runs.first() {
        let conditions = reference.summary.conditions();
        let differences: Vec<String> = runs[1..]
            .iter()
            .flat_map(|run| {
                run.summary
                    .conditions()
                    .differences(&conditions)
                    .into_iter()
                    .map(|difference| {
                        format!(
                            "{} against {}: {difference}",
                            run.path.display(),
                            reference.path.display()
                        )
                    })
            })
            .collect();
        if !differences.is_empty() && !allow_different_environment {
            return Err(Failure::not_comparable(format!(
                "not comparing: the runs were not measured under the same conditions \
                 (--allow-different-environment compares them anyway)\n  {}",
                differences.join("\n  ")
            )));
        }
        checked.warnings.extend(
            differences
                .into_iter()
                .map(|difference| format!("different conditions: {difference}")),
        );
    }

    for run in runs.iter().filter(|run| !run.summary.is_valid()) {
        checked.invalid_runs += 1;
        checked.warnings.push(format!(
            "{} is {}: its figures describe the generator as much as the switch",
            run.path.display(),
            run.summary
                .failure()
                .unwrap_or_else(|| "invalid".to_string())
        ));
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::NOT_COMPARABLE;

    /// A run at `path` on a machine with `cpu_model`, which passed its checks when `ok` and kept
    /// up when `valid`.
    fn run(path: &str, cpu_model: &str, ok: bool, valid: bool) -> Run {
        let summary = RunSummary::from_json(&format!(
            r#"{{"command": "run", "scenario": "steady", "shape": "max", "seed": 1,
                "duration_s": 5.0, "offered_per_s": 100000.0, "throughput_per_s": 100000.0,
                "payments": {{"submitted": 10, "approved": 10, "declined": 0, "rejected": 0,
                              "expired": 0, "busy": 0}},
                "latency_ns": {{"p50": 1, "p90": 2, "p99": 3, "p999": 4, "p9999": 5, "max": 6}},
                "environment": {{"cpu_model": "{cpu_model}", "cores": 2, "governor": null}},
                "topology": {{"map": "fused"}},
                "checks": {{"positions_sum_zero": {ok}}}, "valid": {valid}, "ok": {ok}}}"#
        ))
        .expect("the test summary reads");
        Run {
            path: PathBuf::from(path),
            summary,
        }
    }

    #[test]
    fn the_same_conditions_compare_without_warnings() {
        let baseline = [run("b1", "Xeon", true, true), run("b2", "Xeon", true, true)];
        let current = [run("c1", "Xeon", true, true)];
        let checked = check(&baseline, &current, false).expect("comparable");
        assert_eq!(checked, Checked::default());
    }

    #[test]
    fn a_different_cpu_model_is_refused_with_the_difference_named() {
        let baseline = [run("b1", "Xeon", true, true)];
        let current = [run("c1", "EPYC", true, true)];
        let failure = check(&baseline, &current, false).unwrap_err();
        assert_eq!(failure.code, NOT_COMPARABLE);
        assert!(
            failure
                .message
                .contains(r#"c1 against b1: cpu_model: "EPYC" against "Xeon""#),
            "{}",
            failure.message
        );
        assert!(failure.message.contains("--allow-different-environment"));
    }

    #[test]
    fn conditions_that_differ_within_a_side_are_refused_too() {
        let baseline = [run("b1", "Xeon", true, true), run("b2", "EPYC", true, true)];
        let current = [run("c1", "Xeon", true, true)];
        let failure = check(&baseline, &current, false).unwrap_err();
        assert_eq!(failure.code, NOT_COMPARABLE);
        assert!(
            failure.message.contains("b2 against b1"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn allow_different_environment_proceeds_with_a_warning() {
        let baseline = [run("b1", "Xeon", true, true)];
        let current = [run("c1", "EPYC", true, true)];
        let checked = check(&baseline, &current, true).expect("allowed");
        assert_eq!(checked.warnings.len(), 1);
        assert!(checked.warnings[0].contains("cpu_model"), "{checked:?}");
    }

    #[test]
    fn a_run_that_failed_its_checks_is_refused_even_when_differences_are_allowed() {
        let baseline = [run("b1", "Xeon", true, true)];
        let current = [run("c1", "Xeon", false, true)];
        let failure = check(&baseline, &current, true).unwrap_err();
        assert_eq!(failure.code, NOT_COMPARABLE);
        assert!(
            failure
                .message
                .contains("c1: check failed: positions_sum_zero"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn an_invalid_run_is_warned_of_and_counted() {
        let baseline = [run("b1", "Xeon", true, false)];
        let current = [
            run("c1", "Xeon", true, true),
            run("c2", "Xeon", true, false),
        ];
        let checked = check(&baseline, &current, false).expect("comparable");
        assert_eq!(checked.invalid_runs, 2);
        assert!(
            checked.warnings[1].starts_with("c2 is invalid"),
            "{checked:?}"
        );
    }

    #[test]
    fn repeats_sort_by_their_numbers() {
        let mut names = ["run-10", "run-2", "run-1"];
        names.sort_by_key(|name| natural_key(name));
        assert_eq!(names, ["run-1", "run-2", "run-10"]);
    }

    #[test]
    fn a_missing_path_is_unreadable() {
        let failure = collect(&[PathBuf::from("/nonexistent/baseline")]).unwrap_err();
        assert_eq!(failure.code, crate::exit::UNREADABLE);
        assert!(failure.message.contains("/nonexistent/baseline"));
    }
}
