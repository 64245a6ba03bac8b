//! `clearway run --data-dir` and `clearway ledger`: a durable run restarts where it stopped; a
//! corrupt journal record is refused by name, file and offset, by the node and by `verify`, and
//! cut only when asked; flags that would change the state machine on a restart are refused; the
//! tools answer a folder that is not a data directory with their exit code; a payment store that
//! is missing, cannot be opened, is behind what the window needs or ahead of the journal is
//! rebuilt, and the run says why. Short runs at a modest rate: these check behaviour, never
//! speed (the store's test waits twice for the window's 5 s span to pass, ~20 s in all).

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

mod common;

use common::clearway;

fn scratch(name: &str) -> PathBuf {
    common::scratch("durable", name)
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A short durable run in `dir`, with `extra` arguments.
fn durable_run(dir: &Path, extra: &[&str]) -> Output {
    let data = dir.join("data");
    let json = dir.join("summary.json");
    let out = dir.join("batches");
    let mut arguments = vec![
        "run",
        "--data-dir",
        data.to_str().unwrap(),
        "--duration",
        "0.4",
        "--rate",
        "20000",
        "--cutover-ms",
        "100",
        "--bank-timeout-ms",
        "100",
        "--segment-size-mib",
        "1",
        "--json",
        json.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    arguments.extend_from_slice(extra);
    clearway(&arguments)
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_restarted_run_continues_the_journal_from_its_snapshot() {
    let dir = scratch("restart");
    let first = durable_run(&dir, &["--snapshot-every", "3000"]);
    assert!(common::finished(first.status.code()), "{}", text(&first));
    let before = summary(&dir);
    assert_eq!(before["durability"]["mode"], "fsync");
    let journaled = before["durability"]["journal"]["events"].as_u64().unwrap();
    assert_eq!(journaled, before["events"]["published"].as_u64().unwrap());
    assert!(
        before["durability"]["snapshots"]["written"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(before["ledger"]["replay_state_hash_ok"], true);

    let second = durable_run(&dir, &["--durability", "none", "--snapshot-every", "3000"]);
    assert!(common::finished(second.status.code()), "{}", text(&second));
    let after = summary(&dir);
    let recovery = &after["durability"]["recovery"];
    assert_eq!(recovery["resumed"], true);
    assert_eq!(recovery["next_sequence"].as_u64().unwrap(), journaled);
    assert!(recovery["snapshot"]
        .as_str()
        .unwrap()
        .starts_with("snapshot-"));
    assert_eq!(after["durability"]["mode"], "none");
    // The replay check covers both runs' events, from the first.
    assert_eq!(after["ledger"]["replay_state_hash_ok"], true);
    assert_eq!(after["ok"], true);

    let data = dir.join("data");
    let verify = clearway(&["ledger", "verify", "--data-dir", data.to_str().unwrap()]);
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(text(&verify).contains("clean"));
    let replay = dir.join("replay.json");
    let replayed = clearway(&[
        "ledger",
        "replay",
        "--data-dir",
        data.to_str().unwrap(),
        "--json",
        replay.to_str().unwrap(),
    ]);
    assert!(replayed.status.success(), "{}", text(&replayed));
    let replay: Value = serde_json::from_str(&std::fs::read_to_string(&replay).unwrap()).unwrap();
    assert_eq!(replay["state_hash"], after["ledger"]["state_hash"]);
    assert!(replay["snapshots_checked"].as_u64().unwrap() >= 2);
    let settlement = clearway(&[
        "ledger",
        "settlement",
        "--data-dir",
        data.to_str().unwrap(),
        "--batch",
        "2",
    ]);
    assert!(settlement.status.success(), "{}", text(&settlement));
    assert!(String::from_utf8_lossy(&settlement.stdout)
        .starts_with("batch,participant,name,count,debit_fen,credit_fen,net_fen,direction\n2,"));
    let missing = clearway(&[
        "ledger",
        "settlement",
        "--data-dir",
        data.to_str().unwrap(),
        "--batch",
        "999999",
    ]);
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupt_record_is_refused_by_name_and_cut_only_when_asked() {
    let dir = scratch("corrupt");
    // Snapshots too: those past the cut describe discarded events and must go with them.
    let first = durable_run(&dir, &["--snapshot-every", "3000"]);
    assert!(common::finished(first.status.code()), "{}", text(&first));
    let events = summary(&dir)["durability"]["journal"]["events"]
        .as_u64()
        .unwrap();
    assert!(events > 200, "{events} events");
    // Flip a bit in the 101st record of the first segment: records follow it, so this is
    // corruption, not a torn tail.
    let data = dir.join("data");
    let segment = data.join("journal-00000000000000000000.seg");
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes[100 * 128 + 40] ^= 0x10;
    std::fs::write(&segment, &bytes).unwrap();

    let verify = clearway(&["ledger", "verify", "--data-dir", data.to_str().unwrap()]);
    assert_eq!(verify.status.code(), Some(1), "{}", text(&verify));
    let said = text(&verify);
    assert!(
        said.contains("journal-00000000000000000000.seg") && said.contains("offset 12800"),
        "{said}"
    );
    let refused = durable_run(&dir, &[]);
    assert_eq!(refused.status.code(), Some(4), "{}", text(&refused));
    let said = text(&refused);
    assert!(
        said.contains("offset 12800") && said.contains("--truncate-corrupt"),
        "{said}"
    );

    let cut = durable_run(&dir, &["--truncate-corrupt"]);
    assert!(common::finished(cut.status.code()), "{}", text(&cut));
    let truncated = summary(&dir)["durability"]["recovery"]["truncated"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        truncated.contains(&format!("{} events discarded", events - 100)),
        "{truncated}"
    );
    assert_eq!(
        summary(&dir)["durability"]["recovery"]["next_sequence"],
        100
    );
    let verify = clearway(&["ledger", "verify", "--data-dir", data.to_str().unwrap()]);
    assert!(verify.status.success(), "{}", text(&verify));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_restart_that_would_change_the_state_machine_is_refused() {
    let dir = scratch("refuse");
    let first = durable_run(&dir, &[]);
    assert!(common::finished(first.status.code()), "{}", text(&first));
    for (extra, expected) in [
        (&["--mac", "none"][..], "--mac"),
        (&["--bank-timeout-ms", "250"][..], "--bank-timeout-ms"),
        (
            &["--config", "../config/example.toml"][..],
            "another network",
        ),
    ] {
        let mut arguments: Vec<&str> = extra.to_vec();
        let config = format!("{}/../config/example.toml", env!("CARGO_MANIFEST_DIR"));
        if extra[0] == "--config" {
            arguments[1] = &config;
        }
        let refused = durable_run(&dir, &arguments);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{extra:?}: {}",
            text(&refused)
        );
        assert!(
            text(&refused).contains(expected),
            "{extra:?}: {}",
            text(&refused)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn durability_flags_without_a_data_directory_and_tools_without_one_get_their_codes() {
    let dir = scratch("codes");
    let rows: [(&[&str], i32, &str); 4] = [
        (&["run", "--durability", "fsync"], 2, "needs --data-dir"),
        (
            &["run", "--data-dir", "unused", "--transport", "channel"],
            2,
            "ring transport",
        ),
        (
            &["ledger", "verify", "--data-dir", "/nonexistent/clearway"],
            3,
            "not a directory",
        ),
        (
            &["ledger", "replay", "--data-dir", dir.to_str().unwrap()],
            3,
            "clearway.json",
        ),
    ];
    for (arguments, code, expected) in rows {
        let output = clearway(arguments);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{arguments:?}: {}",
            text(&output)
        );
        assert!(
            text(&output).contains(expected),
            "{arguments:?}: {}",
            text(&output)
        );
    }
    assert!(
        !Path::new("unused").exists(),
        "a refused run made its data directory"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Copies the folder `from` to `to`, file by file.
fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Waits until the data directory's event clock (wall-clock time since its epoch) has passed
/// `clock_s`: a start after that resumes its clock there. Returns the clock then.
fn wait_for_clock(data: &Path, clock_s: f64) -> f64 {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("clearway.json")).unwrap())
            .unwrap();
    let epoch_ns = manifest["epoch_unix_ns"].as_u64().unwrap();
    loop {
        let now_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        let clock_s_now = now_ns.saturating_sub(epoch_ns) as f64 / 1e9;
        if clock_s_now >= clock_s {
            return clock_s_now;
        }
        std::thread::sleep(std::time::Duration::from_secs_f64(
            clock_s - clock_s_now + 0.05,
        ));
    }
}

#[test]
fn a_store_missing_unreadable_behind_or_ahead_of_the_journal_is_rebuilt_and_the_run_says_why() {
    let dir = scratch("store-rebuilt");
    let data = dir.join("data");
    let store = data.join("store");
    let restart = |case: &str| -> Value {
        let output = durable_run(&dir, &["--snapshot-every", "3000"]);
        assert!(
            common::finished(output.status.code()),
            "{case}: {}",
            text(&output)
        );
        let after = summary(&dir);
        // Whatever the store was, the replay check and the run's own checks hold.
        assert_eq!(after["ledger"]["replay_state_hash_ok"], true, "{case}");
        assert_eq!(after["ok"], true, "{case}: {}", text(&output));
        if let Some(reason) = after["durability"]["recovery"]["store_rebuilt"].as_str() {
            assert!(
                text(&output)
                    .contains("the payment store was rebuilt from the journal's first event"),
                "{case}: the start says so: {}",
                text(&output)
            );
            assert!(!reason.is_empty(), "{case}");
        }
        after
    };
    let rebuilt = |after: &Value| after["durability"]["recovery"]["store_rebuilt"].clone();
    let rebuilt_because = |after: &Value, reason: &str| {
        assert!(
            rebuilt(after)
                .as_str()
                .is_some_and(|said| said.contains(reason)),
            "rebuilt because {reason}: {after}"
        );
    };

    let first = restart("first");
    assert_eq!(
        rebuilt(&first),
        Value::Null,
        "a fresh data directory builds its store"
    );
    let early = dir.join("data-early");
    copy_folder(&data, &early);
    // The next two starts each come a window generation's span (5 s of event time) after the
    // last turn, so the window turns at once: after the second it has dropped a generation, and
    // a store written through nothing is behind.
    let span_s = first["memory"]["window_span_ms"].as_f64().unwrap() / 1e3;
    let turned_s = wait_for_clock(&data, span_s + 0.2);
    let second = restart("second");
    assert_eq!(
        rebuilt(&second),
        Value::Null,
        "a store that is in step is kept"
    );

    // Missing.
    std::fs::remove_dir_all(&store).unwrap();
    wait_for_clock(&data, turned_s + span_s + 0.2);
    let missing = restart("missing");
    rebuilt_because(&missing, "missing");

    // The engine's own record of its tables overwritten: the store cannot be opened.
    let version = store.join("version");
    assert!(
        version.exists(),
        "the engine keeps its version file at {}",
        version.display()
    );
    let length = std::fs::metadata(&version).unwrap().len() as usize;
    std::fs::write(&version, vec![0xA5; length.max(16)]).unwrap();
    let unreadable = restart("unreadable");
    rebuilt_because(&unreadable, "could not be opened");

    // Behind: an empty store, written through nothing, under a window that has dropped a
    // generation.
    std::fs::remove_dir_all(&store).unwrap();
    drop(clearway_core::store::PaymentStore::open(&store).unwrap());
    let behind = restart("behind");
    rebuilt_because(&behind, "behind");

    // Ahead: the journal and snapshots of the first run under the store of the last.
    for entry in std::fs::read_dir(&data).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "store" {
            let path = entry.path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }
    std::fs::remove_dir_all(early.join("store")).unwrap();
    copy_folder(&early, &data);
    let ahead = restart("ahead");
    rebuilt_because(&ahead, "past the journal's end");
    let again = restart("again");
    assert_eq!(rebuilt(&again), Value::Null, "the rebuilt store is kept");
    std::fs::remove_dir_all(&dir).unwrap();
}
