//! `clearway run`: a short run answers every payment, keeps the books at zero, writes its
//! settlement reports and the JSON contract of docs/OUTPUT.md, and exits 0; mistakes get their
//! documented exit codes. Runs are kept short (half a second of load at a modest rate, a 100 ms
//! bank timeout so the drain is short): these check behaviour, never speed.

use std::path::PathBuf;

use serde_json::Value;

mod common;

use common::clearway;

fn scratch(name: &str) -> PathBuf {
    common::scratch("run", name)
}

/// Runs briefly with `extra` arguments; returns the exit code, stdout and the parsed JSON.
fn short_run(name: &str, extra: &[&str]) -> (Option<i32>, String, Value, PathBuf) {
    let dir = scratch(name);
    let json = dir.join("summary.json");
    let out = dir.join("results");
    let reports = out.join("batches");
    let mut arguments = vec![
        "run",
        "--duration",
        "0.5",
        "--rate",
        "20000",
        "--cutover-ms",
        "200",
        "--bank-timeout-ms",
        "100",
        "--json",
        json.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    arguments.extend_from_slice(extra);
    let output = clearway(&arguments);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let text = std::fs::read_to_string(&json)
        .unwrap_or_else(|error| panic!("no JSON ({error}); stdout:\n{stdout}\nstderr:\n{stderr}"));
    let value: Value = serde_json::from_str(&text).expect("the summary is JSON");
    (output.status.code(), stdout, value, reports)
}

fn number(value: &Value, path: &str) -> u64 {
    path.split('.')
        .fold(value, |value, key| &value[key])
        .as_u64()
        .unwrap_or_else(|| panic!("{path} is not an integer in {value}"))
}

#[test]
fn a_short_run_answers_everything_and_keeps_the_contract() {
    let (code, stdout, summary, reports) = short_run("contract", &[]);
    assert!(common::finished(code), "{stdout}");
    assert!(
        stdout.contains("topology:"),
        "the chosen topology is printed:\n{stdout}"
    );
    assert!(stdout.contains("checks       all passed"), "{stdout}");

    let submitted = number(&summary, "payments.submitted");
    let answered: u64 = ["approved", "declined", "rejected", "expired", "busy"]
        .iter()
        .map(|field| number(&summary, &format!("payments.{field}")))
        .sum();
    assert!(
        submitted > 5_000,
        "half a second at 20,000/s submits about 10,000: {submitted}"
    );
    assert_eq!(answered, submitted, "the outcomes add up");
    let rejects: u64 = summary["rejects_by_reason"]
        .as_object()
        .expect("rejects_by_reason is an object")
        .values()
        .map(|count| count.as_u64().unwrap())
        .sum();
    assert_eq!(rejects, number(&summary, "payments.rejected"));
    assert!(
        rejects > 0,
        "the default workload injects faults, and they are refused by name"
    );

    assert_eq!(summary["ledger"]["positions_sum"], 0);
    assert_eq!(summary["ledger"]["replay_state_hash_ok"], true);
    assert_eq!(summary["ledger"]["state_hash"].as_str().unwrap().len(), 64);
    assert_eq!(summary["ok"], true);
    for field in ["seed", "duration_s", "offered_per_s", "throughput_per_s"] {
        assert!(summary[field].is_number(), "{field}");
    }
    for quantile in ["p50", "p90", "p99", "p999", "p9999", "max"] {
        assert!(
            summary["latency_ns"][quantile].is_u64(),
            "latency_ns.{quantile}"
        );
        for stage in ["authorize", "route", "ledger"] {
            assert!(
                summary["stages"][stage]["latency_ns"][quantile].is_u64(),
                "{stage}.{quantile}"
            );
        }
    }
    for stage in ["authorize", "route", "ledger"] {
        assert_eq!(
            number(&summary, &format!("stages.{stage}.events")),
            number(&summary, "events.published"),
            "{stage} handled every event"
        );
    }
    assert_eq!(summary["transport"], "ring");
    assert_eq!(summary["mac"], "hmac-sha256");
    for field in ["cpu_model", "os", "rustc", "git_commit"] {
        assert!(
            summary["environment"][field].is_string(),
            "environment.{field}"
        );
    }
    assert!(summary["environment"]["cores"].is_u64());
    assert!(summary["topology"]["source"].is_string());

    // A cutover every 200 ms over half a second, and the last one after the drain.
    let batches = number(&summary, "ledger.batches_closed");
    assert!(batches >= 3, "{batches}");
    let csv_count = std::fs::read_dir(&reports)
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|ext| ext == "csv")
        })
        .count() as u64;
    assert_eq!(csv_count, batches, "one settlement report per closed batch");
}

#[test]
fn the_channel_transport_and_no_mac_give_the_same_books() {
    let (code, stdout, ring, _) = short_run("ring", &["--mac", "none", "--seed", "7"]);
    assert!(common::finished(code), "{stdout}");
    let (code, stdout, channel, _) = short_run(
        "channel",
        &["--mac", "none", "--seed", "7", "--transport", "channel"],
    );
    assert!(common::finished(code), "{stdout}");
    assert_eq!(channel["transport"], "channel");
    assert_eq!(channel["mac"], "none");
    assert_eq!(channel["ledger"]["positions_sum"], 0);
    assert_eq!(channel["ledger"]["replay_state_hash_ok"], true);
    assert!(number(&ring, "payments.approved") > 0 && number(&channel, "payments.approved") > 0);
}

#[test]
fn the_fused_topology_runs_every_step_on_one_thread() {
    let (code, stdout, summary, _) = short_run("fused", &["--topology", "fused"]);
    assert!(common::finished(code), "{stdout}");
    assert_eq!(summary["topology"]["mode"], "fused");
    assert_eq!(summary["ok"], true);
}

#[test]
fn mistakes_get_their_exit_codes() {
    let rows: &[(&[&str], i32, &str)] = &[
        (&["run", "--rate", "fast"], 2, "not a rate"),
        (&["run", "--rate", "0"], 2, "not a rate"),
        (&["run", "--duration", "0"], 2, "--duration"),
        (
            &["run", "--topology", "nowhere.toml"],
            2,
            "cannot read topology",
        ),
        (&["run", "--mac", "md5"], 2, "unknown MAC mode"),
        (
            &["run", "--config", "/nonexistent/network.toml"],
            3,
            "network.toml",
        ),
        (
            &["run", "--topology", "fused", "--transport", "channel"],
            2,
            "fused",
        ),
    ];
    for (arguments, code, message) in rows {
        let output = clearway(arguments);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(*code), "{arguments:?}: {stderr}");
        assert!(stderr.contains(message), "{arguments:?}: {stderr}");
    }
}

#[test]
fn a_refused_participants_file_names_its_line() {
    let dir = scratch("config");
    let path = dir.join("network.toml");
    std::fs::write(
        &path,
        "[operator]\nsecret = \"s\"\n\n[[bank]]\nid = 1001\nname = \"Bank\"\ncap_fen = -5\nsecret = \"b\"\nlinks = [{ name = \"a\" }]\n",
    )
    .unwrap();
    let output = clearway(&["run", "--config", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(":7:"), "the message names line 7: {stderr}");
}

#[test]
fn the_example_participants_file_runs() {
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config/example.toml");
    let (code, stdout, summary, _) = short_run("example", &["--config", example.to_str().unwrap()]);
    assert!(common::finished(code), "{stdout}");
    assert_eq!(summary["ok"], true);
    // Institution 3 is suspended in the example: what it sends is refused by name.
    assert!(
        summary["rejects_by_reason"]["SenderSuspended"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "{stdout}"
    );
}

#[test]
fn several_producer_threads_share_the_load_and_the_books_still_replay() {
    let (code, stdout, summary, _) = short_run(
        "producers",
        &["--producers", "3", "--topology", "pipelined"],
    );
    assert!(common::finished(code), "{stdout}");
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["ledger"]["replay_state_hash_ok"], true);
    let output = clearway(&["run", "--producers", "2", "--topology", "fused"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "a fused topology has one producer"
    );
}
