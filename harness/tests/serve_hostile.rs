//! Hostile input against a running `clearway serve`: each case gets the documented answer or a
//! closed connection, a witness connection keeps being served after every case, the node's
//! memory stays bounded, and at the end the ledger holds exactly what was approved.

mod common;
mod node;

use std::collections::BTreeSet;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use clearway_core::event::{Decline, Event, Kind, Outcome, ParticipantId, TxnId};
use clearway_core::network::Network;
use clearway_core::wire::{
    ErrorFrame, Frame, Hello, Signed, WireError, GOODBYE_HELLO_REFUSED, GOODBYE_IDLE,
    GOODBYE_PROTOCOL_ERROR, GOODBYE_SHUTDOWN,
};

use common::{clearway, scratch};
use node::{bytes, payment, payments, Banks, Client, Node};

const ERROR_HELLO_FIRST: u16 = 100;
const ERROR_NOT_YOURS_TO_SEND: u16 = 101;
const ERROR_FOREIGN_SENDER: u16 = 102;
const ERROR_TOO_MANY_BAD_MACS: u16 = 103;

/// The frames a connection got before the node closed it, checked against `expected` codes:
/// an ERROR with `error`, then GOODBYE `goodbye`, then the end.
fn closed_with(client: &mut Client, error: Option<u16>, goodbye: u16, case: &str) {
    let frames = client.recv_until_closed();
    let errors: Vec<u16> = frames
        .iter()
        .filter_map(|frame| match frame {
            Frame::Error(ErrorFrame { code, .. }) => Some(*code),
            _ => None,
        })
        .collect();
    if let Some(error) = error {
        assert!(
            errors.contains(&error),
            "{case}: expected ERROR {error}, got {frames:?}"
        );
    }
    assert_eq!(
        frames.last(),
        Some(&Frame::Goodbye(goodbye)),
        "{case}: expected GOODBYE {goodbye} last, got {frames:?}"
    );
}

/// The witness: one more valid payment, answered on its own connection.
struct Witness {
    client: Client,
    events: std::vec::IntoIter<Event>,
    approved: BTreeSet<String>,
    answered: u64,
}

impl Witness {
    fn check(&mut self, case: &str) {
        let event = self.events.next().expect("enough witness payments");
        self.client.send(&payment(&event));
        match self.client.answer() {
            Frame::Answer(answer) if answer.txn_id == event.txn_id => {
                self.answered += 1;
                if answer.outcome == Outcome::Approved {
                    self.approved.insert(event.txn_id.to_string());
                }
            }
            other => panic!("after {case}: the witness got {other:?}"),
        }
    }
}

fn signed(event: &Event, network: &Network) -> Event {
    let mut event = *event;
    event.mac = network
        .participant(event.sender)
        .unwrap()
        .mac_key()
        .sign(&event);
    event
}

#[test]
fn hostile_input_gets_its_documented_answer_and_changes_nothing_else() {
    let dir = scratch("serve-hostile", "all");
    let node = Node::start(&dir, &["--durability", "none"]);
    let address = node.address;
    let network = Network::generated(1);
    let banks = Banks::connect(address, &network);
    let (pi, events) = payments(&network, 400, 0);
    let other_pi = network
        .institutions()
        .map(|institution| institution.id)
        .find(|id| *id != pi)
        .unwrap();
    let mut events = events.into_iter();
    let mut fresh = move || events.next().expect("enough payments");
    let (witness_client, welcome) = Client::hello(address, &network, pi, 1_000);
    assert!(welcome.accepted);
    assert_eq!(welcome.frames_in_flight_max, 1_024);
    let (_, witness_events) = payments(&network, 100, 1 << 60);
    let mut witness = Witness {
        client: witness_client,
        events: witness_events.into_iter(),
        approved: BTreeSet::new(),
        answered: 0,
    };
    witness.check("start");
    let rss_start = node.rss_kib();
    let mut approved = BTreeSet::new();

    // A frame before HELLO.
    let mut client = Client::connect(address);
    client.send(&Frame::Ping(1));
    closed_with(
        &mut client,
        Some(ERROR_HELLO_FIRST),
        GOODBYE_PROTOCOL_ERROR,
        "before HELLO",
    );
    witness.check("a frame before HELLO");

    // Lengths of 0 and 4 GiB, an unknown version, an unknown type.
    let hello = bytes(&Frame::Hello(Hello::signed(
        &network.participant(pi).unwrap().mac_key(),
        pi,
        2_000,
    )));
    let mut wrong_version = hello.clone();
    wrong_version[4] = 2;
    let mut wrong_type = hello.clone();
    wrong_type[5] = 0x7f;
    for (case, bytes, error) in [
        (
            "length 0",
            vec![0, 0, 0, 0],
            WireError::FrameTooShort { length: 0 },
        ),
        (
            "length 4 GiB",
            vec![0xff, 0xff, 0xff, 0xff],
            WireError::FrameTooLarge { length: u32::MAX },
        ),
        (
            "unknown version",
            wrong_version,
            WireError::UnknownVersion { version: 2 },
        ),
        (
            "unknown type",
            wrong_type,
            WireError::UnknownFrameType { code: 0x7f },
        ),
    ] {
        let mut client = Client::connect(address);
        client.send_bytes(&bytes);
        closed_with(
            &mut client,
            Some(error.error_code()),
            GOODBYE_PROTOCOL_ERROR,
            case,
        );
        witness.check(case);
    }

    // A truncated frame, then the client goes away; and one that goes silent.
    let mut client = Client::connect(address);
    client.send_bytes(&hello[..20]);
    drop(client);
    witness.check("a truncated frame, then close");
    let mut silent = Client::connect(address);
    silent.send_bytes(&hello[..20]);

    // HELLOs refused: a bad MAC, an unknown participant, a replayed nonce.
    let mut bad_mac = hello.clone();
    bad_mac[20] ^= 1;
    let unknown = bytes(&Frame::Hello(Hello::signed(
        &network.participant(pi).unwrap().mac_key(),
        clearway_core::event::ParticipantId(60_000),
        1,
    )));
    let (_, accepted) = Client::hello(address, &network, pi, 3_000);
    assert!(accepted.accepted);
    let replayed = bytes(&Frame::Hello(Hello::signed(
        &network.participant(pi).unwrap().mac_key(),
        pi,
        3_000,
    )));
    for (case, bytes) in [
        ("a HELLO with a bad MAC", bad_mac),
        ("a HELLO from no participant", unknown),
        ("a replayed HELLO", replayed),
    ] {
        let mut client = Client::connect(address);
        client.send_bytes(&bytes);
        let frames = client.recv_until_closed();
        assert_eq!(
            frames,
            vec![
                Frame::Welcome(clearway_core::wire::Welcome {
                    accepted: false,
                    frames_in_flight_max: 0,
                    frame_size_max: 512
                }),
                Frame::Goodbye(GOODBYE_HELLO_REFUSED)
            ],
            "{case}"
        );
        witness.check(case);
    }

    // On an accepted connection: another sender's payment (validly signed by that sender), a
    // REPLY from an institution, an operator kind in a PAYMENT. Each is refused with an ERROR;
    // the connection goes on.
    let (mut client, _) = Client::hello(address, &network, pi, 4_000);
    let mut foreign = fresh();
    foreign.sender = other_pi;
    let foreign = signed(&foreign, &network);
    client.send(&payment(&foreign));
    let mut reply = Event::bank_reply(pi, fresh().txn_id, true, 1, 0);
    reply = signed(&reply, &network);
    client.send(&Frame::Reply(Signed::from_event(&reply)));
    let mut operator = fresh();
    operator.kind = Kind::Cutover;
    let operator = signed(&operator, &network);
    client.send(&payment(&operator));
    for (case, code) in [
        ("another sender's payment", ERROR_FOREIGN_SENDER),
        ("a REPLY from an institution", ERROR_NOT_YOURS_TO_SEND),
        ("an operator kind in a PAYMENT", ERROR_NOT_YOURS_TO_SEND),
    ] {
        match client.answer() {
            Frame::Error(error) => {
                assert_eq!(error.code, code, "{case}: {}", error.reason.as_str())
            }
            other => panic!("{case}: expected ERROR {code}, got {other:?}"),
        }
    }
    // Amounts of zero and u64::MAX are declined by name.
    let mut zero = fresh();
    zero.amount_fen = 0;
    let mut huge = fresh();
    huge.amount_fen = u64::MAX;
    for (event, decline) in [
        (zero, Decline::AmountMustNotBeZero),
        (huge, Decline::AmountExceedsLimit),
    ] {
        client.send(&payment(&signed(&event, &network)));
        match client.answer() {
            Frame::Answer(answer) => {
                assert_eq!(answer.txn_id, event.txn_id);
                assert_eq!(
                    (answer.outcome, answer.decline),
                    (Outcome::Rejected, Some(decline))
                );
            }
            other => panic!("expected {decline:?}, got {other:?}"),
        }
    }
    // A payment sent twice at once, then again once answered: one is taken, the copy in flight
    // is refused at the door, the later copy is answered with the original's outcome.
    let once = fresh();
    client.send(&payment(&once));
    client.send(&payment(&once));
    let mut outcomes = Vec::new();
    for _ in 0..2 {
        match client.answer() {
            Frame::Answer(answer) => {
                assert_eq!(answer.txn_id, once.txn_id);
                outcomes.push((answer.outcome, answer.decline, answer.original));
            }
            other => panic!("replayed payment: {other:?}"),
        }
    }
    assert!(
        outcomes.contains(&(Outcome::Approved, None, Outcome::Pending)),
        "the first copy is approved by the bank: {outcomes:?}"
    );
    let copy = outcomes
        .iter()
        .find(|outcome| outcome.0 != Outcome::Approved)
        .copied()
        .expect("the copy has its own answer");
    assert!(
        copy == (
            Outcome::Rejected,
            Some(Decline::DuplicateInFlight),
            Outcome::Pending
        ) || copy == (Outcome::Exists, None, Outcome::Approved),
        "the copy: {copy:?}"
    );
    approved.insert(once.txn_id.to_string());
    client.send(&payment(&once));
    match client.answer() {
        Frame::Answer(answer) => assert_eq!(
            (answer.outcome, answer.original),
            (Outcome::Exists, Outcome::Approved),
            "a replayed payment changes nothing"
        ),
        other => panic!("replayed payment: {other:?}"),
    }
    witness.check("refused frames, odd amounts, replays");

    // Bad MACs: each declined by name; past the limit the connection is closed.
    for _ in 0..17 {
        let mut event = fresh();
        event.mac.0[0] ^= 0xff;
        client.send(&payment(&event));
    }
    let frames = client.recv_until_closed();
    let bad_macs = frames
        .iter()
        .filter(|frame| matches!(frame, Frame::Answer(answer) if answer.decline == Some(Decline::BadMac)))
        .count();
    assert!(bad_macs >= 17, "every bad MAC answered: {bad_macs}");
    assert!(
        frames.contains(&Frame::Error(ErrorFrame {
            code: ERROR_TOO_MANY_BAD_MACS,
            reason: clearway_core::wire::Reason::truncated(
                "more than 16 payments in a row with a bad MAC",
            ),
        })),
        "{frames:?}"
    );
    assert_eq!(frames.last(), Some(&Frame::Goodbye(GOODBYE_PROTOCOL_ERROR)));
    witness.check("bad MACs");

    // A flood of PINGs, each answered, in order.
    let (mut pinger, _) = Client::hello(address, &network, other_pi, 5_000);
    let flood: Vec<u8> = (0..20_000u64)
        .flat_map(|nonce| bytes(&Frame::Ping(nonce)))
        .collect();
    let mut writer = pinger.stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || writer.write_all(&flood).is_ok());
    for nonce in 0..20_000u64 {
        assert_eq!(pinger.recv(), Some(Frame::Pong(nonce)));
    }
    assert!(sending.join().unwrap());
    witness.check("a PING flood");

    // A client that never reads its answers: the node stops reading it, and serves the others.
    let (lazy, _) = Client::hello(address, &network, other_pi, 6_000);
    let mut lazy_stream: TcpStream = lazy.stream.try_clone().unwrap();
    lazy_stream
        .set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let pongs_owed: Vec<u8> = bytes(&Frame::Ping(7)).repeat(1_000);
    let mut written = 0usize;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        match lazy_stream.write(&pongs_owed) {
            Ok(count) => written += count,
            Err(_) => break,
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the node kept reading a client that never reads ({written} bytes taken)"
    );
    witness.check("a client that never reads");

    // Thousands of idle connections: the others are served meanwhile, and the idle timeout
    // closes every one of them (GOODBYE 4).
    let idle: Vec<Client> = (0..2_000).map(|_| Client::connect(address)).collect();
    witness.check("2,000 idle connections");
    let rss_peak = node.rss_kib();
    let closing = std::thread::spawn(move || {
        for (index, mut client) in idle.into_iter().enumerate() {
            let frames = client.recv_until_closed();
            assert_eq!(
                frames,
                vec![Frame::Goodbye(GOODBYE_IDLE)],
                "idle connection {index}"
            );
        }
        closed_with(
            &mut silent,
            None,
            GOODBYE_IDLE,
            "a truncated frame, then silence",
        );
    });
    // The witness pings meanwhile, so it is never idle itself.
    let mut nonce = 0;
    while !closing.is_finished() {
        nonce += 1;
        witness.client.send(&Frame::Ping(nonce));
        std::thread::sleep(Duration::from_millis(250));
    }
    closing.join().unwrap();
    drop(lazy);
    witness.check("after the idle connections closed");
    assert!(
        rss_peak < rss_start + 256 * 1024,
        "memory grew from {rss_start} KiB to {rss_peak} KiB"
    );

    drop(banks);
    let stopped = node.stop_cleanly();
    let summary = &stopped.summary;
    assert_eq!(summary["positions_sum"], 0, "{summary}");
    assert_eq!(summary["ok"], true, "{summary}");
    assert!(summary["security"]["hellos_refused"].as_u64().unwrap() >= 3);
    assert!(summary["security"]["violations"].as_u64().unwrap() >= 3);
    assert!(summary["security"]["bad_macs"].as_u64().unwrap() >= 17);
    assert!(summary["security"]["frames_malformed"].as_u64().unwrap() >= 4);
    assert!(summary["connections"]["closed_idle"].as_u64().unwrap() >= 2_001);

    // The ledger holds exactly the payments answered Approved, and positions sum to zero.
    let verify = clearway(&["ledger", "verify", "--data-dir", node_data(&dir).as_str()]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    let export = dir.join("export");
    let exported = clearway(&[
        "ledger",
        "export",
        "--data-dir",
        node_data(&dir).as_str(),
        "--format",
        "csv",
        "--out",
        export.to_str().unwrap(),
    ]);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let csv = std::fs::read_to_string(export.join("payments.csv")).unwrap();
    let posted: BTreeSet<String> = csv
        .lines()
        .skip(1)
        .filter(|line| line.split(',').nth(5) == Some("Approved"))
        .map(|line| line.split(',').next().unwrap().to_string())
        .collect();
    approved.extend(witness.approved.iter().cloned());
    assert_eq!(
        posted, approved,
        "approved in the ledger vs answered Approved"
    );
    let _ = (GOODBYE_SHUTDOWN, TxnId(0), ParticipantId(0));
}

fn node_data(dir: &std::path::Path) -> String {
    dir.join("data").display().to_string()
}
