//! `clearway search` end to end: real trials, each a `clearway run` (or `clearway load` against
//! a node) of its own, against a system whose capacity the test knows. The capacity is made by a
//! gate, `throughput<2000`: every rate up to 2,000/s holds, every rate above fails, so the
//! search must converge on 2,000/s within what it says its uncertainty is, plus the trials' own
//! Poisson noise. Nothing here times anything: a slow machine only makes the search slower.

mod common;
mod node;

use common::{clearway, scratch};
use node::Node;

/// The capacity the gate makes, payments/s.
const CAPACITY_PER_S: f64 = 2_000.0;

/// What a one-second trial at the capacity may measure: its Poisson count moves by about
/// √2000 ≈ 45 (2%), and a window's edges by a payment or two; 10% is far outside both.
const NOISE: f64 = 0.10;

fn search_json(dir: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("search.json")).expect("search.json written");
    serde_json::from_str(&text).expect("search.json parses")
}

fn known_capacity_flags(out: &str) -> Vec<String> {
    [
        "search",
        "--slo",
        "throughput<2000",
        "--start",
        "500",
        "--min-rate",
        "250",
        "--max-rate",
        "8000",
        "--precision",
        "20%",
        "--repeats",
        "1",
        "--duration",
        "1",
        "--warmup",
        "0.2",
        // Behaviour, not speed: a trial whose generator fell behind on this shared machine still
        // counts what it measured.
        "--late-fraction-max",
        "100%",
        "--out",
        out,
    ]
    .iter()
    .map(ToString::to_string)
    .collect()
}

fn check_converged(found: &serde_json::Value, stdout: &str) {
    let held = found["sustainable_per_s"].as_f64().expect(stdout);
    let failed = found["first_fail_per_s"].as_f64().expect(stdout);
    assert_eq!(found["ending"], "converged", "{stdout}");
    assert!(
        held <= CAPACITY_PER_S * (1.0 + NOISE) && failed >= CAPACITY_PER_S * (1.0 - NOISE),
        "the capacity {CAPACITY_PER_S} is not within [{held}, {failed}) and the noise:\n{stdout}"
    );
    assert!(
        failed - held <= 0.20 * held + 1.0,
        "[{held}, {failed}) is wider than the precision asked:\n{stdout}"
    );
    assert_eq!(found["uncertainty_per_s"].as_f64(), Some(failed - held));
    let probes = found["probes"].as_array().unwrap();
    assert!(probes.len() >= 4, "{stdout}");
    // Every trial left its results folder, and the search's record agrees with it.
    for probe in probes {
        let out = std::path::Path::new(probe["out"].as_str().unwrap());
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(
            summary["throughput_per_s"],
            probe["throughput_per_s"],
            "{}",
            out.display()
        );
        let passed = probe["passed"].as_bool().unwrap();
        assert_eq!(passed, summary["slo_passed"].as_bool().unwrap());
        assert_eq!(passed, probe["reason"].is_null());
    }
}

#[test]
fn search_embedded_converges_on_a_known_capacity_within_its_uncertainty() {
    let dir = scratch("search", "embedded");
    let out = dir.join("out");
    let flags = known_capacity_flags(out.to_str().unwrap());
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let output = clearway(&flags);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("sustainable  "), "{stdout}");
    assert!(stdout.contains("capacity lies in ["), "{stdout}");
    assert!(stdout.contains("FAIL throughput<"), "{stdout}");
    let found = search_json(&out);
    check_converged(&found, &stdout);
    assert_eq!(found["target"], serde_json::Value::Null);
    assert_eq!(found["gates_from"], "flags");
    assert_eq!(found["gates"][0], "throughput<2,000/s");
}

#[test]
fn search_against_a_node_converges_on_the_same_known_capacity() {
    let dir = scratch("search", "target");
    let node = Node::start(&dir, &["--durability", "none"]);
    let out = dir.join("out");
    let mut flags = known_capacity_flags(out.to_str().unwrap());
    flags.splice(1..1, ["--target".to_string(), node.address.to_string()]);
    // The drain waits up to this for the last answers of a node on a busy machine.
    flags.extend(["--", "--bank-timeout-ms", "5000"].map(String::from));
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let output = clearway(&flags);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    node.stop();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(&format!("the node at {}", node_address(&stdout))));
    let found = search_json(&out);
    check_converged(&found, &stdout);
    assert!(found["target"].is_string());
    let first = found["probes"][0]["out"].as_str().unwrap();
    let command = std::fs::read_to_string(std::path::Path::new(first).join("command.txt")).unwrap();
    assert!(command.contains(" load --target "), "{command}");
}

fn node_address(stdout: &str) -> String {
    stdout
        .split("the node at ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_search_where_nothing_holds_says_so_and_exits_6() {
    let dir = scratch("search", "none");
    let output = clearway(&[
        "search",
        "--slo",
        "p50<1ns",
        "--start",
        "1000",
        "--min-rate",
        "500",
        "--repeats",
        "2",
        "--duration",
        "0.3",
        "--warmup",
        "0",
        "--late-fraction-max",
        "100%",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(output.status.code(), Some(6), "{stdout}");
    assert!(stdout.contains("sustainable  none"), "{stdout}");
    let found = search_json(&dir);
    assert_eq!(found["ending"], "failed_down_to_min");
    assert!(found["sustainable_per_s"].is_null());
    // 1,000/s then 500/s, each ended by its first failed trial.
    let rates: Vec<f64> = found["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|probe| probe["rate_per_s"].as_f64().unwrap())
        .collect();
    assert_eq!(rates, [1_000.0, 500.0]);
}

#[test]
fn settings_a_search_cannot_follow_are_refused_before_any_trial() {
    common::refused_before_running(
        "search",
        &[
            (vec!["--precision", "0"], "--precision"),
            (vec!["--start", "100", "--min-rate", "500"], "between"),
            (vec!["--repeats", "0"], "--repeats"),
            (vec!["--", "--rate", "5000"], "--rate"),
            (vec!["--", "--out=x"], "--out"),
            (vec!["--scenario", "no-such-scenario"], "no-such-scenario"),
            (vec!["--cores", "0"], "--cores"),
        ],
    );
}
