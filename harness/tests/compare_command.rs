//! `clearway compare`: synthetic summaries in scratch folders (baseline/run-1..3,
//! current/run-1..3) judged through the built binary — a 20% throughput drop exits 7 and says
//! REGRESSION, a 1% drop exits 0, runs from different machines exit 8 naming the field (and are
//! judged with `--allow-different-environment`), a run that failed its checks exits 8, a missing
//! path exits 3 — and one `--ab` of this very binary against itself, which must finish and write
//! its four folders. Nothing here asserts on speed.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

mod common;

use common::clearway;

/// The verdicts the table prints.
const VERDICTS: [&str; 4] = ["REGRESSION", "within noise", "improved", "ok"];

fn scratch(name: &str) -> PathBuf {
    common::scratch("compare", name)
}

/// A summary as `clearway run --out` writes it, with what a comparison reads: `throughput` per
/// second, a p99 of `p99_ns`, measured on `cpu_model`, its checks passed when `ok`.
fn summary(throughput: f64, p99_ns: u64, cpu_model: &str, ok: bool) -> Value {
    json!({
        "command": "run",
        "scenario": "steady",
        "shape": "max",
        "seed": 1,
        "duration_s": 5.0,
        "warmup_s": 1.0,
        "offered_per_s": throughput,
        "throughput_per_s": throughput,
        "payments": {"submitted": 500_000, "approved": 470_000, "declined": 29_000,
                     "rejected": 1_000, "expired": 0, "busy": 0},
        "latency_ns": {"p50": p99_ns / 4, "p90": p99_ns / 2, "p99": p99_ns, "p999": p99_ns * 2,
                       "p9999": p99_ns * 3, "max": p99_ns * 5},
        "environment": {"cpu_model": cpu_model, "cores": 2, "os": "Linux 6.1",
                        "governor": null, "rustc": "rustc 1.80.0", "git_commit": "abc123"},
        "topology": {"source": "auto", "mode": "fused", "threads": 2,
                     "map": "core 0: producer, core 1: authorize route ledger egress"},
        "valid": true,
        "checks": {"outcomes_add_up": true, "positions_sum_zero": ok},
        "ok": ok
    })
}

/// `side/run-1`, `side/run-2` … under `dir`, one for each summary, and `dir/side`.
fn repeats(dir: &Path, side: &str, summaries: &[Value]) -> PathBuf {
    let folder = dir.join(side);
    for (index, summary) in summaries.iter().enumerate() {
        let run = folder.join(format!("run-{}", index + 1));
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(
            run.join("summary.json"),
            serde_json::to_string_pretty(summary).unwrap(),
        )
        .unwrap();
    }
    folder
}

/// Three runs at `throughput` ± 1% on `cpu_model`, with a steady p99.
fn three_runs(throughput: f64, cpu_model: &str) -> Vec<Value> {
    [0.99, 1.0, 1.01]
        .iter()
        .map(|factor| summary(throughput * factor, 200_000, cpu_model, true))
        .collect()
}

/// `clearway compare --baseline BASELINE --current CURRENT` with `extra` flags.
fn compare(baseline: &Path, current: &Path, extra: &[&str]) -> std::process::Output {
    let mut arguments = vec![
        "compare",
        "--baseline",
        baseline.to_str().unwrap(),
        "--current",
        current.to_str().unwrap(),
    ];
    arguments.extend_from_slice(extra);
    clearway(&arguments)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_twenty_percent_throughput_drop_exits_7_and_says_regression() {
    let dir = scratch("drop-20");
    let baseline = repeats(&dir, "baseline", &three_runs(100_000.0, "Xeon"));
    let current = repeats(&dir, "current", &three_runs(80_000.0, "Xeon"));
    let json = dir.join("compare.json");
    let output = compare(&baseline, &current, &["--json", json.to_str().unwrap()]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(7),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("REGRESSION"), "{stdout}");
    assert!(
        stdout.contains("100,000/s") && stdout.contains("80,000/s"),
        "{stdout}"
    );
    assert!(stdout.contains("-20.0%"), "{stdout}");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(written["regression"], true);
    assert_eq!(written["metrics"][0]["metric"], "throughput");
    assert_eq!(written["metrics"][0]["verdict"], "regression");
    assert_eq!(written["metrics"][0]["baseline"]["runs"], 3);
    assert_eq!(written["metrics"][2]["metric"], "p99");
    assert_eq!(written["metrics"][2]["verdict"], "ok");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_one_percent_drop_exits_0() {
    let dir = scratch("drop-1");
    let baseline = repeats(&dir, "baseline", &three_runs(100_000.0, "Xeon"));
    let current = repeats(&dir, "current", &three_runs(99_000.0, "Xeon"));
    let output = compare(&baseline, &current, &[]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("verdict: no regression"), "{stdout}");
    assert!(!stdout.contains("REGRESSION"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn single_summaries_and_repeated_flags_are_runs_too() {
    let dir = scratch("files");
    let baseline = repeats(&dir, "baseline", &three_runs(100_000.0, "Xeon"));
    let current = repeats(&dir, "current", &three_runs(100_000.0, "Xeon"));
    let output = clearway(&[
        "compare",
        "--baseline",
        baseline.join("run-1").to_str().unwrap(),
        "--baseline",
        baseline.join("run-2/summary.json").to_str().unwrap(),
        "--current",
        current.join("run-3").to_str().unwrap(),
        "--percentiles",
        "p999",
    ]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains("current (1 run) against baseline (2 runs)"),
        "{stdout}"
    );
    assert!(stdout.contains("p999"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn different_machines_exit_8_naming_the_field_unless_allowed() {
    let dir = scratch("machines");
    let baseline = repeats(&dir, "baseline", &three_runs(100_000.0, "Xeon"));
    let same = repeats(&dir, "same", &three_runs(99_000.0, "EPYC"));
    let slower = repeats(&dir, "slower", &three_runs(80_000.0, "EPYC"));

    let output = compare(&baseline, &same, &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(8), "{stderr}");
    assert!(
        stderr.contains(r#"cpu_model: "EPYC" against "Xeon""#),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());

    let output = compare(&baseline, &same, &["--allow-different-environment"]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("warning: different conditions"), "{stdout}");

    let output = compare(&baseline, &slower, &["--allow-different-environment"]);
    assert_eq!(output.status.code(), Some(7), "{}", text(&output.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_that_failed_its_checks_exits_8() {
    let dir = scratch("failed");
    let baseline = repeats(&dir, "baseline", &three_runs(100_000.0, "Xeon"));
    let current = repeats(
        &dir,
        "current",
        &[summary(100_000.0, 200_000, "Xeon", false)],
    );
    let output = compare(&baseline, &current, &["--allow-different-environment"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(8), "{stderr}");
    assert!(stderr.contains("positions_sum_zero"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_path_exits_3() {
    let dir = scratch("missing");
    let baseline = repeats(&dir, "baseline", &three_runs(100_000.0, "Xeon"));
    let output = compare(&baseline, &dir.join("nowhere"), &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("nowhere"), "{stderr}");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let output = compare(&baseline, &empty, &[]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ab_runs_the_two_binaries_in_turns() {
    let dir = scratch("ab");
    let binary = env!("CARGO_BIN_EXE_clearway");
    let output = clearway(&[
        "compare",
        "--ab",
        binary,
        binary,
        "--rounds",
        "2",
        "--out",
        dir.to_str().unwrap(),
        "--",
        "--rate",
        "5000",
        "--duration",
        "0.5",
        "--warmup",
        "0.2",
        "--no-replay",
        "--late-fraction-max",
        "100%",
    ]);
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    // A build against itself on a noisy machine: no regression, or one the noise made.
    assert!(
        matches!(output.status.code(), Some(0) | Some(7)),
        "exit {:?}\n{stdout}{stderr}",
        output.status.code()
    );
    for metric in ["throughput", "p50", "p99"] {
        let row = stdout
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{metric} ")))
            .unwrap_or_else(|| panic!("no {metric} row in\n{stdout}"));
        assert!(
            VERDICTS
                .iter()
                .any(|verdict| row.trim_end().ends_with(verdict)),
            "{row}"
        );
        assert!(row.contains("of 2 worse"), "{row}");
    }
    assert!(stdout.contains("verdict: "), "{stdout}");
    for run in ["a-1", "b-1", "a-2", "b-2"] {
        assert!(
            dir.join(run).join("summary.json").is_file(),
            "no {run}/summary.json"
        );
    }
    assert!(stderr.contains("a-1 of 2"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
