//! `clearway load` and `clearway merge` from the outside: the errors a load meets before any
//! node answers it get their documented exit codes, a load against a small fake node (it admits
//! every HELLO, answers PAYMENTs `Rejected`/`NoRoute` or BUSY, and PINGs each connection once)
//! answers every payment and exits 0, and `clearway merge` adds interval logs exactly. Every
//! test finishes in seconds.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clearway_core::constants::FRAME_SIZE_MAX;
use clearway_core::event::{Decline, Outcome};
use clearway_core::wire::{encode, Answer, Frame, FrameReader, Welcome};
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;
use serde_json::Value;

mod common;

use common::clearway;

fn scratch(name: &str) -> PathBuf {
    common::scratch("load", name)
}

fn example_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/example.toml")
}

#[test]
fn a_node_that_is_not_there_exits_4_naming_the_address() {
    let output = clearway(&["load", "--target", "127.0.0.1:1", "--duration", "1"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
}

#[test]
fn a_rate_of_zero_or_no_connections_is_a_usage_error() {
    let output = clearway(&["load", "--rate", "0"]);
    assert_eq!(output.status.code(), Some(2));
    let output = clearway(&["load", "--connections-per-pi", "0"]);
    assert_eq!(output.status.code(), Some(2));
    let output = clearway(&["load", "--duration", "-1"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_config_that_cannot_be_read_exits_3() {
    let output = clearway(&["load", "--config", "/nonexistent/participants.toml"]);
    assert_eq!(output.status.code(), Some(3));
}

/// Frames the fake node saw, for the test to check.
#[derive(Default)]
struct Seen {
    hellos: AtomicU64,
    payments: AtomicU64,
    pongs: AtomicU64,
    goodbyes: AtomicU64,
}

fn send(stream: &mut TcpStream, frame: &Frame) -> std::io::Result<()> {
    let mut bytes = [0u8; FRAME_SIZE_MAX];
    let size = encode(frame, &mut bytes).unwrap();
    stream.write_all(&bytes[..size])
}

/// One connection of the fake node: WELCOME to the HELLO, then every third PAYMENT BUSY and the
/// rest `Rejected`/`NoRoute` with `sent_ns` echoed, and one PING after the first PAYMENT.
fn fake_connection(mut stream: TcpStream, seen: &Seen) -> std::io::Result<()> {
    let mut reader = FrameReader::new();
    let mut payments = 0u64;
    loop {
        while let Some(frame) = reader
            .next_frame()
            .expect("the load sends well-formed frames")
        {
            match frame {
                Frame::Hello(_) => {
                    seen.hellos.fetch_add(1, Ordering::Relaxed);
                    let welcome = Welcome {
                        accepted: true,
                        frames_in_flight_max: 64,
                        frame_size_max: FRAME_SIZE_MAX as u32,
                    };
                    send(&mut stream, &Frame::Welcome(welcome))?;
                }
                Frame::Payment(payment) => {
                    seen.payments.fetch_add(1, Ordering::Relaxed);
                    payments += 1;
                    if payments % 3 == 0 {
                        send(&mut stream, &Frame::Busy(payment.txn_id))?;
                    } else {
                        let answer = Answer {
                            txn_id: payment.txn_id,
                            outcome: Outcome::Rejected,
                            decline: Some(Decline::NoRoute),
                            original: Outcome::Pending,
                            sent_ns: payment.sent_ns,
                        };
                        send(&mut stream, &Frame::Answer(answer))?;
                    }
                    if payments == 1 {
                        send(&mut stream, &Frame::Ping(payments))?;
                    }
                }
                Frame::Pong(_) => {
                    seen.pongs.fetch_add(1, Ordering::Relaxed);
                }
                Frame::Goodbye(_) => {
                    seen.goodbyes.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                _ => {}
            }
        }
        let count = stream.read(reader.buffer_mut())?;
        if count == 0 {
            return Ok(());
        }
        reader.filled(count);
    }
}

/// A fake node on a free port; its address and what it saw.
fn fake_node() -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Seen::default());
    let shared = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let seen = Arc::clone(&shared);
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let _ = fake_connection(stream, &seen);
            });
        }
    });
    (address, seen)
}

#[test]
fn a_load_against_a_fake_node_answers_every_payment_and_exits_0() {
    let (address, seen) = fake_node();
    let dir = scratch("fake-node");
    let json = dir.join("summary.json");
    let histogram = dir.join("e2e.hlog");
    let config = example_config();
    let output = clearway(&[
        "load",
        "--target",
        &address,
        "--config",
        config.to_str().unwrap(),
        "--rate",
        "1000",
        "--duration",
        "1",
        "--bank-timeout-ms",
        "200",
        "--json",
        json.to_str().unwrap(),
        "--histogram",
        histogram.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("clearway load:"), "{stdout}");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let number = |path: &str| {
        path.split('.')
            .fold(&summary, |value, key| &value[key])
            .as_u64()
            .unwrap_or_else(|| panic!("{path} in {summary}"))
    };
    let submitted = number("payments.submitted");
    assert!((500..2_000).contains(&submitted), "{summary}");
    assert_eq!(seen.payments.load(Ordering::Relaxed), submitted);
    assert_eq!(
        number("payments.rejected") + number("payments.busy"),
        submitted,
        "{summary}"
    );
    assert!(number("payments.busy") > 0);
    assert_eq!(
        number("rejects_by_reason.NoRoute"),
        number("payments.rejected")
    );
    assert_eq!(number("connections.institutions"), 3);
    assert_eq!(number("connections.banks"), 4);
    assert_eq!(number("connections.per_pi"), 2);
    assert_eq!(seen.hellos.load(Ordering::Relaxed), 3 * 2 + 4);
    assert!(number("events.cutovers_skipped") > 0);
    assert!(number("events.pings_received") > 0);
    assert!(number("latency_ns.max") > 0);
    assert_eq!(summary["checks"]["every_payment_answered"], true);
    assert_eq!(summary["checks"]["outcomes_add_up"], true);
    assert_eq!(summary["checks"]["generator_kept_up"], true);
    assert_eq!(summary["generator"]["kept_up"], true);
    assert_eq!(summary["ok"], true);
    // The histogram holds one value per ANSWER (a BUSY has no latency to measure).
    let merged = clearway(&["merge", histogram.to_str().unwrap()]);
    let merged_out = String::from_utf8_lossy(&merged.stdout);
    assert_eq!(merged.status.code(), Some(0), "{merged_out}");
    assert!(
        merged_out.contains(&format!(
            "1 intervals, {} values",
            number("payments.rejected")
        )),
        "{merged_out}"
    );
    // The load said GOODBYE on every connection at the end; PONGs came back for the PINGs.
    std::thread::sleep(Duration::from_millis(100));
    assert!(seen.pongs.load(Ordering::Relaxed) > 0);
    assert_eq!(seen.goodbyes.load(Ordering::Relaxed), 3 * 2 + 4);
}

#[test]
fn a_node_that_refuses_the_hello_exits_4() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut hello = [0u8; 32];
            if stream.read_exact(&mut hello).is_ok() {
                let refused = Welcome {
                    accepted: false,
                    frames_in_flight_max: 0,
                    frame_size_max: FRAME_SIZE_MAX as u32,
                };
                let _ = send(&mut stream, &Frame::Welcome(refused));
                let _ = send(&mut stream, &Frame::Goodbye(3));
            }
        }
    });
    let config = example_config();
    let output = clearway(&[
        "load",
        "--target",
        &address,
        "--config",
        config.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("refused the HELLO"), "{stderr}");
    assert!(stderr.contains(&address), "{stderr}");
}

/// An interval log of `values`, as `clearway load --histogram` writes one.
fn hlog(path: &Path, values: impl Iterator<Item = u64>) -> Histogram<u64> {
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
    for value in values {
        histogram.record(value).unwrap();
    }
    let mut bytes = b"#[Histogram log format version 1.3]\n".to_vec();
    let mut serializer = V2DeflateSerializer::new();
    {
        let mut writer = IntervalLogWriterBuilder::new()
            .with_start_time(SystemTime::now())
            .begin_log_with(&mut bytes, &mut serializer)
            .unwrap();
        writer
            .write_histogram(
                &histogram,
                Duration::ZERO,
                Duration::from_secs(1),
                Tag::new("e2e"),
            )
            .unwrap();
    }
    std::fs::write(path, bytes).unwrap();
    histogram
}

#[test]
fn merge_adds_interval_logs_exactly_and_writes_json() {
    let dir = scratch("merge");
    let first = dir.join("first.hlog");
    let second = dir.join("second.hlog");
    let mut both = hlog(&first, (1..=1_000u64).map(|value| value * 1_000));
    both.add(hlog(&second, (1..=500u64).map(|value| value * 1_000_000)))
        .unwrap();
    let json = dir.join("merged.json");
    let output = clearway(&[
        "merge",
        first.to_str().unwrap(),
        second.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("2 files, 2 intervals, 1,500 values"),
        "{stdout}"
    );
    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(merged["count"], 1_500);
    assert_eq!(merged["intervals"], 2);
    for (field, quantile) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)] {
        assert_eq!(
            merged["latency_ns"][field],
            both.value_at_quantile(quantile),
            "{field}"
        );
    }
    assert_eq!(merged["latency_ns"]["max"], both.max());
}

#[test]
fn merge_of_a_file_that_is_not_an_interval_log_exits_3() {
    let dir = scratch("merge-bad");
    let bad = dir.join("bad.hlog");
    std::fs::write(&bad, "this is not a histogram\n").unwrap();
    let output = clearway(&["merge", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(3));
    let output = clearway(&["merge", dir.join("missing.hlog").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(3));
    let output = clearway(&["merge"]);
    assert_eq!(output.status.code(), Some(2));
}
