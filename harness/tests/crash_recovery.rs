//! The crash test. A durable `clearway run` is killed with SIGKILL at random moments, again and
//! again, and restarted on the same data directory each time; a last run finishes normally.
//! Then the ledger is checked from `clearway ledger export` alone, against the ack log the runs
//! kept:
//!
//! - every acknowledged payment is in the export with the outcome it was answered with;
//! - no payment is posted (approved) twice;
//! - positions sum to 0, and equal what the exported approved payments add up to;
//! - `clearway ledger verify` finds the directory clean, and two replays give the same hash;
//! - the run after the kills, a restart into a clearing batch its killed predecessors began,
//!   declines nothing `LedgerFull` (memory turns by time, not by batch).
//!
//! `CLEARWAY_CRASH_KILLS` sets the number of kills (default 4, seconds in all) and
//! `CLEARWAY_CRASH_SEED` the seed of the kill times; `scripts/crash-test.sh` runs the long
//! version. The seed is printed, and a failure names it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KILLS_DEFAULT: usize = 4;

fn clearway() -> Command {
    Command::new(env!("CARGO_BIN_EXE_clearway"))
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

/// SplitMix64: kill times from the seed, with no dependency.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The run every start makes: modest load, a short bank timeout, small segments and frequent
/// snapshots so that kills land in every part of the journal's life. The ledger remembers every
/// decided payment for the retention (24 hours) across restarts, in its window or its store, so
/// every duplicate the load generator resends must be answered `Exists`, never posted again.
fn run_arguments<'a>(directory: &'a Path, duration: &'a str) -> Vec<String> {
    let path = |name: &str| directory.join(name).display().to_string();
    [
        "run",
        "--data-dir",
        &path("data"),
        "--ack-log",
        &path("ack.log"),
        "--out",
        &path("batches"),
        "--json",
        &path("summary.json"),
        "--rate",
        "20000",
        "--duration",
        duration,
        "--cutover-ms",
        "500",
        "--bank-timeout-ms",
        "100",
        "--bank-latency-us",
        "2000",
        "--segment-size-mib",
        "1",
        "--snapshot-every",
        "5000",
    ]
    .iter()
    .map(|text| text.to_string())
    .collect()
}

/// One payment row of `payments.csv`.
struct Row {
    kind: String,
    sender: i128,
    bank: Option<i128>,
    amount_fen: i128,
    outcome: String,
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_payment() {
    let kills = env_number("CLEARWAY_CRASH_KILLS", KILLS_DEFAULT as u64) as usize;
    let seed = env_number("CLEARWAY_CRASH_SEED", 1);
    println!("crash test: {kills} kills, seed {seed} (CLEARWAY_CRASH_SEED={seed} repeats it)");
    let directory = std::env::temp_dir().join(format!("clearway-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).unwrap();
    let mut state = seed;
    let mut torn_tails_made = 0;
    let mut torn_tails_cut = 0;
    let mut snapshots_started_from = 0;
    let started = Instant::now();
    for kill in 0..kills {
        let log = directory.join(format!("start-{kill}.log"));
        let mut child = clearway()
            .args(run_arguments(&directory, "60"))
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::null())
            .spawn()
            .expect("clearway starts");
        // Anywhere from start-up (recovery, table allocation) to well into the load.
        let after_ms = 50 + next(&mut state) % 1_500;
        std::thread::sleep(Duration::from_millis(after_ms));
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "seed {seed}: start {kill} exited by itself ({status}) before its kill:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let printed = std::fs::read_to_string(&log).unwrap_or_default();
        torn_tails_cut += printed.matches("torn last record").count();
        snapshots_started_from += printed.matches("snapshot snapshot-").count();
        // A process kill leaves whole writes in the page cache; a power cut can leave the last,
        // unsynced one half written. Every third kill, write such a fragment after the last
        // record: the restart must cut it off and say so.
        if next(&mut state) % 3 == 0 && tear_tail(&directory.join("data"), &mut state) {
            torn_tails_made += 1;
        }
    }
    let last = clearway()
        .args(run_arguments(&directory, "0.5"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&last.stdout);
    assert!(
        // 5: every check passed, but the generator fell behind its schedule on a busy machine.
        matches!(last.status.code(), Some(0) | Some(5)),
        "seed {seed}: the last run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&last.stderr)
    );
    torn_tails_cut += stdout.matches("torn last record").count();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(directory.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(
        summary["rejects_by_reason"].get("LedgerFull"),
        None,
        "seed {seed}: the restart after the kills declined payments LedgerFull: {}",
        summary["rejects_by_reason"]
    );
    // Each torn tail written is cut off by the next start that gets that far: a start killed
    // after the cut but before it prints says nothing, which is why `verify` below, not this
    // count, is the check that none is left.
    snapshots_started_from += stdout.matches("snapshot snapshot-").count();

    let data = directory.join("data");
    let verify = clearway()
        .args(["ledger", "verify", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "seed {seed}: verify:\n{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let export = directory.join("export");
    let exported = clearway()
        .args(["ledger", "export", "--format", "csv", "--data-dir"])
        .arg(&data)
        .arg("--out")
        .arg(&export)
        .output()
        .unwrap();
    assert!(exported.status.success(), "seed {seed}: export failed");
    let hashes: Vec<String> = (0..2)
        .map(|index| {
            let json = directory.join(format!("replay-{index}.json"));
            let replay = clearway()
                .args(["ledger", "replay", "--data-dir"])
                .arg(&data)
                .arg("--json")
                .arg(&json)
                .output()
                .unwrap();
            assert!(
                replay.status.success(),
                "seed {seed}: replay {index} failed"
            );
            let value: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
            value["state_hash"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(hashes[0], hashes[1], "seed {seed}: two replays differ");

    let payments = read_payments(&export.join("payments.csv"));
    let (acks, torn_acks) = read_acks(&directory.join("ack.log"));
    // Every acknowledged (txn_id, outcome) is in the export as often as it was acknowledged.
    let mut exported_outcomes: HashMap<(String, String), usize> = HashMap::new();
    for (txn_id, rows) in &payments {
        for row in rows {
            *exported_outcomes
                .entry((txn_id.clone(), row.outcome.clone()))
                .or_default() += 1;
        }
    }
    let mut acknowledged: HashMap<(String, String), usize> = HashMap::new();
    for ack in &acks {
        *acknowledged.entry(ack.clone()).or_default() += 1;
    }
    for ((txn_id, outcome), count) in &acknowledged {
        let found = exported_outcomes
            .get(&(txn_id.clone(), outcome.clone()))
            .copied()
            .unwrap_or(0);
        assert!(
            found >= *count,
            "seed {seed}: {txn_id} was acknowledged {outcome} {count} time(s) but the export \
             has it {found} time(s): {:?}",
            payments.get(txn_id).map(|rows| rows
                .iter()
                .map(|row| row.outcome.clone())
                .collect::<Vec<_>>())
        );
    }
    // No payment posted twice; the positions are what the approved payments add up to.
    let mut net: HashMap<i128, i128> = HashMap::new();
    let mut approved = 0;
    for (txn_id, rows) in &payments {
        let posted = rows.iter().filter(|row| row.outcome == "Approved").count();
        assert!(posted <= 1, "seed {seed}: {txn_id} posted {posted} times");
        for row in rows.iter().filter(|row| row.outcome == "Approved") {
            approved += 1;
            let bank = row.bank.expect("an approved payment has a bank");
            let (pays, receives) = match row.kind.as_str() {
                "agreement_debit" | "gateway_debit" => (bank, row.sender),
                "payout_credit" | "refund" => (row.sender, bank),
                other => panic!("seed {seed}: {txn_id} has kind {other}"),
            };
            *net.entry(pays).or_default() -= row.amount_fen;
            *net.entry(receives).or_default() += row.amount_fen;
        }
    }
    let positions = std::fs::read_to_string(export.join("positions.csv")).unwrap();
    let (mut position_sum, mut total_sum) = (0i128, 0i128);
    for line in positions.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let participant: i128 = fields[0].parse().unwrap();
        let position: i128 = fields[2].parse().unwrap();
        let total: i128 = fields[3].parse().unwrap();
        position_sum += position;
        total_sum += total;
        assert_eq!(
            total,
            net.get(&participant).copied().unwrap_or(0),
            "seed {seed}: participant {participant}'s net over all batches is not what its \
             approved payments add up to"
        );
    }
    assert_eq!(
        position_sum, 0,
        "seed {seed}: open positions sum to {position_sum}"
    );
    assert_eq!(total_sum, 0, "seed {seed}: nets sum to {total_sum}");
    assert!(
        torn_acks <= kills,
        "seed {seed}: {torn_acks} torn ack lines from {kills} kills"
    );
    assert!(
        !acks.is_empty() && approved > 0,
        "seed {seed}: nothing was acknowledged or approved"
    );
    println!(
        "crash test: {kills} kills in {:.1} s; {} acknowledgements checked ({torn_acks} lines torn \
         by a kill, skipped); {} payments exported, {approved} approved; {torn_tails_made} torn \
         tails written, {torn_tails_cut} cut off by a restart; {snapshots_started_from} restarts \
         from a snapshot; replay hash {}",
        started.elapsed().as_secs_f64(),
        acks.len(),
        payments.values().map(Vec::len).sum::<usize>(),
        hashes[0]
    );
    std::fs::remove_dir_all(&directory).unwrap();
}

/// Writes part of a record (a plausible header, some payload) right after the last record of
/// the journal's last segment, as an unfinished write would leave it; false when the segment has
/// no room after its last record.
fn tear_tail(data: &Path, state: &mut u64) -> bool {
    use std::os::unix::fs::FileExt;
    let json = data.with_extension("verify.json");
    let verify = clearway()
        .args(["ledger", "verify", "--data-dir"])
        .arg(data)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let Ok(text) = std::fs::read_to_string(&json) else {
        // Killed before the data directory was made.
        assert!(!verify.status.success());
        return false;
    };
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let Some(last) = report["segments"]
        .as_array()
        .and_then(|segments| segments.last())
    else {
        return false;
    };
    let path = data.join(last["name"].as_str().unwrap());
    let offset = last["bytes_used"].as_u64().unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    if offset + 128 > file.metadata().unwrap().len() {
        return false;
    }
    let mut fragment = vec![0u8; 16 + (next(state) % 100) as usize];
    fragment[..4].copy_from_slice(&112u32.to_le_bytes());
    let sequence = report["sequence_next"].as_u64().unwrap_or(0);
    fragment[4..12].copy_from_slice(&sequence.to_le_bytes());
    for byte in &mut fragment[12..] {
        *byte = next(state) as u8 | 1;
    }
    file.write_all_at(&fragment, offset).unwrap();
    true
}

/// `payments.csv` by txn id.
fn read_payments(path: &PathBuf) -> HashMap<String, Vec<Row>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("txn_id,kind,sender,bank,amount_fen,outcome,batch")
    );
    let mut payments: HashMap<String, Vec<Row>> = HashMap::new();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 7, "{line}");
        payments
            .entry(fields[0].to_string())
            .or_default()
            .push(Row {
                kind: fields[1].to_string(),
                sender: fields[2].parse().unwrap(),
                bank: fields[3].parse().ok(),
                amount_fen: fields[4].parse().unwrap(),
                outcome: fields[5].to_string(),
            });
    }
    payments
}

/// The ack log's `(txn_id, outcome)` pairs, and how many lines a kill tore (a write cut short:
/// the line is incomplete, or ran into the next start's first line).
fn read_acks(path: &Path) -> (Vec<(String, String)>, usize) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut acks = Vec::new();
    let mut torn = 0;
    for line in text.lines() {
        let fields: Vec<&str> = line.split(',').collect();
        let well_formed = fields.len() == 2
            && fields[0].len() == 39
            && fields[1].chars().all(|c| c.is_ascii_alphabetic())
            && !fields[1].is_empty();
        if well_formed {
            acks.push((fields[0].to_string(), fields[1].to_string()));
        } else {
            torn += 1;
        }
    }
    (acks, torn)
}
