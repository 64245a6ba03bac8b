//! QUERY against a running `clearway serve` (docs/PROTOCOL.md, "QUERY"): an institution learns
//! its own payment's outcome, or `InFlight`, or `Unknown`; another institution's payment is
//! `Unknown` in exactly the bytes of an id never used; a bank's QUERY and one before HELLO are
//! refused like any frame their sender may not send.

mod common;
mod node;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clearway_core::event::{Event, Kind, Outcome, ParticipantId, TxnId};
use clearway_core::network::Network;
use clearway_core::wire::{ErrorFrame, Frame, QueryStatus, Status, GOODBYE_PROTOCOL_ERROR};

use common::scratch;
use node::{bytes, metrics, payment, payments, unused_id, Banks, Client, Node};

const ERROR_HELLO_FIRST: u16 = 100;
const ERROR_NOT_YOURS_TO_SEND: u16 = 101;

/// The STATUS `client` gets for a QUERY about `txn_id`.
fn query(client: &mut Client, txn_id: TxnId) -> Status {
    client.send(&Frame::Query(txn_id));
    match client.answer() {
        Frame::Status(status) => {
            assert_eq!(status.txn_id, txn_id, "a STATUS names the id asked about");
            status
        }
        other => panic!("a QUERY for {txn_id} was answered {other:?}"),
    }
}

/// `count` valid agreement debits from one institution, with ids made now (date and second of
/// the wall clock, as a real institution makes them, so that no retention refuses them), signed.
fn payments_now(network: &Network, count: usize, offset: u128) -> (ParticipantId, Vec<Event>) {
    let (pi, events) = payments(network, count, 0);
    let now_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let key = network.participant(pi).unwrap().mac_key();
    let events = events
        .into_iter()
        .enumerate()
        .map(|(index, mut event)| {
            event.txn_id = TxnId::at(now_s, offset + index as u128 + 1);
            event.mac = key.sign(&event);
            event
        })
        .collect();
    (pi, events)
}

/// An institution of `network` other than `pi`.
fn another_institution(network: &Network, pi: ParticipantId) -> ParticipantId {
    network
        .institutions()
        .map(|institution| institution.id)
        .find(|id| *id != pi)
        .expect("the generated network has several institutions")
}

/// Sends `events` one at a time until one is approved, and returns it. Payments the switch
/// refuses (a suspended sender, no route) are passed over.
fn one_approved(client: &mut Client, events: &[Event]) -> Event {
    let mut answers = Vec::new();
    for event in events {
        client.send(&payment(event));
        match client.answer() {
            Frame::Answer(answer) if answer.txn_id == event.txn_id => {
                if answer.outcome == Outcome::Approved {
                    return *event;
                }
                answers.push(answer);
            }
            other => panic!("a PAYMENT was answered {other:?}"),
        }
    }
    panic!(
        "none of {} payments was approved: {answers:?}",
        events.len()
    );
}

#[test]
fn a_query_is_unknown_for_strangers_refused_for_banks_and_in_flight_for_the_sender_alone() {
    let dir = scratch("query-frame", "rules");
    let network = Network::generated(1);
    let node = Node::start(&dir, &["--metrics", "127.0.0.1:0"]);
    // Banks that never answer: a payment stays in flight until its hold expires.
    let banks = Banks::silent(node.address, &network);
    let (pi, events) = payments_now(&network, 20, 0);
    let other = another_institution(&network, pi);
    let (mut stranger, welcome) = Client::hello(node.address, &network, other, 1);
    assert!(welcome.accepted);
    let metrics_address = node.metrics.expect("the node serves metrics");

    // An id nobody sent: Unknown, every other field zero.
    let unknown = query(&mut stranger, unused_id(1));
    assert_eq!(unknown, Status::bare(unused_id(1), QueryStatus::Unknown));

    // A payment waiting for its bank: in flight for its sender, unknown to anyone else, and the
    // QUERY does not count against what the connection has in flight (no ANSWER, no BUSY). The
    // sender then loses its connection (the node sees it close) and asks on a new one: still in
    // flight, its own. A hold lasts the node's bank timeout (300 ms here), so on a machine too
    // busy to do all that within it the payment expires first; that attempt proves nothing, and
    // the next payment tries again.
    let mut closed = 0;
    let mut again = None;
    let mut waiting = None;
    for (attempt, event) in events.iter().take(5).enumerate() {
        let nonce = 10 + 2 * attempt as u64;
        let (mut client, welcome) = Client::hello(node.address, &network, pi, nonce);
        assert!(welcome.accepted);
        // (The generated payments are deterministic, and these are valid and routed: they
        // wait for their bank.)
        client.send(&payment(event));
        assert_eq!(
            query(&mut client, event.txn_id),
            Status::bare(event.txn_id, QueryStatus::InFlight),
            "the sender asks right after the PAYMENT"
        );
        assert_eq!(
            bytes(&Frame::Status(query(&mut stranger, event.txn_id))),
            bytes(&Frame::Status(Status::bare(
                event.txn_id,
                QueryStatus::Unknown
            ))),
            "another institution's payment in flight is answered exactly as an unknown id"
        );
        drop(client);
        closed += 1;
        let seen = format!("clearway_connections_closed_total{{reason=\"peer\"}} {closed}\n");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !metrics(metrics_address).contains(&seen) {
            assert!(
                Instant::now() < deadline,
                "the node never saw the close: {}",
                metrics(metrics_address)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let (mut reconnected, welcome) = Client::hello(node.address, &network, pi, nonce + 1);
        assert!(welcome.accepted);
        let status = query(&mut reconnected, event.txn_id);
        if status.status == QueryStatus::InFlight {
            assert_eq!(status, Status::bare(event.txn_id, QueryStatus::InFlight));
            again = Some(reconnected);
            waiting = Some(*event);
            break;
        }
        // Expired meanwhile: never anything but the sender's own answer.
        assert!(
            matches!(status.status, QueryStatus::Unknown | QueryStatus::Found),
            "{status:?}"
        );
        drop(reconnected);
        closed += 1;
    }
    let (Some(mut again), Some(waiting)) = (again, waiting) else {
        panic!("no payment was still in flight after its sender reconnected, in 5 attempts");
    };
    assert_eq!(
        query(&mut stranger, waiting.txn_id).status,
        QueryStatus::Unknown
    );

    // A bank may not ask: ERROR 101, and its connection goes on.
    let bank = network.banks().next().unwrap().id;
    let (mut bank_client, welcome) = Client::hello(node.address, &network, bank, 2);
    assert!(welcome.accepted);
    bank_client.send(&Frame::Query(waiting.txn_id));
    match bank_client.recv() {
        Some(Frame::Error(ErrorFrame { code, reason })) => {
            assert_eq!(code, ERROR_NOT_YOURS_TO_SEND, "{}", reason.as_str());
            assert!(reason.as_str().contains("QUERY"), "{}", reason.as_str());
        }
        other => panic!("a bank's QUERY was answered {other:?}"),
    }
    bank_client.send(&Frame::Ping(7));
    assert_eq!(bank_client.recv(), Some(Frame::Pong(7)));
    drop(bank_client);

    // A STATUS is the node's to send: an institution sending one gets ERROR 101, and goes on.
    stranger.send(&Frame::Status(Status::bare(
        waiting.txn_id,
        QueryStatus::Found,
    )));
    match stranger.recv() {
        Some(Frame::Error(ErrorFrame { code, reason })) => {
            assert_eq!(code, ERROR_NOT_YOURS_TO_SEND, "{}", reason.as_str());
        }
        other => panic!("an institution's STATUS was answered {other:?}"),
    }
    assert_eq!(
        query(&mut stranger, waiting.txn_id).status,
        QueryStatus::Unknown
    );

    // Before HELLO: ERROR 100, GOODBYE 2, closed.
    let mut greeting = Client::connect(node.address);
    greeting.send(&Frame::Query(waiting.txn_id));
    let frames = greeting.recv_until_closed();
    assert!(
        matches!(frames.first(), Some(Frame::Error(ErrorFrame { code, .. })) if *code == ERROR_HELLO_FIRST),
        "{frames:?}"
    );
    assert_eq!(frames.last(), Some(&Frame::Goodbye(GOODBYE_PROTOCOL_ERROR)));

    // The payment expires (no bank answers): its sender gets no ANSWER on the closed
    // connection, and the QUERY no longer says InFlight.
    let deadline = Instant::now() + Duration::from_secs(10);
    let finished = loop {
        let status = query(&mut again, waiting.txn_id);
        if status.status != QueryStatus::InFlight {
            break status;
        }
        assert!(Instant::now() < deadline, "still in flight after 10 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        matches!(finished.status, QueryStatus::Found | QueryStatus::Unknown),
        "{finished:?}"
    );
    if finished.status == QueryStatus::Found {
        assert_eq!(finished.outcome, Outcome::Expired);
    }
    assert_eq!(
        query(&mut stranger, waiting.txn_id),
        Status::bare(waiting.txn_id, QueryStatus::Unknown),
        "expired, it is still none of the stranger's business"
    );

    // Every QUERY counted by its answer.
    std::thread::sleep(Duration::from_millis(100));
    let text = metrics(metrics_address);
    assert!(
        text.contains("# TYPE clearway_queries_total counter"),
        "{text}"
    );
    for answer in ["found", "unknown", "in_flight", "error"] {
        assert!(
            text.contains(&format!("clearway_queries_total{{answer=\"{answer}\"}} ")),
            "{answer}: {text}"
        );
    }
    assert!(
        !text.contains("clearway_queries_total{answer=\"in_flight\"} 0\n"),
        "{text}"
    );
    assert!(text.contains("clearway_queries_total{answer=\"error\"} 0\n"));
    drop(banks);
    let stopped = node.stop_cleanly();
    assert_eq!(stopped.summary["positions_sum"], 0);
}

#[test]
fn a_query_finds_the_askers_finished_payment_with_its_outcome() {
    let dir = scratch("query-frame", "found");
    let network = Network::generated(1);
    let node = Node::start(&dir, &[]);
    let banks = Banks::connect(node.address, &network);
    let (pi, events) = payments_now(&network, 20, 0);
    let (mut client, welcome) = Client::hello(node.address, &network, pi, 1);
    assert!(welcome.accepted);
    let approved = one_approved(&mut client, &events);

    // The store is written a batch at a time, after the ANSWER may be out: ask until it has it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let found = loop {
        let status = query(&mut client, approved.txn_id);
        if status.status == QueryStatus::Found {
            break status;
        }
        assert_eq!(
            status,
            Status::bare(approved.txn_id, QueryStatus::Unknown),
            "before the store has it"
        );
        assert!(
            Instant::now() < deadline,
            "the node's store never had the approved payment {}",
            approved.txn_id
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(found.outcome, Outcome::Approved);
    assert_eq!(found.kind, Kind::AgreementDebit);
    assert_eq!(found.amount_fen, approved.amount_fen);
    assert!(found.batch >= 1, "{found:?}");
    assert!(found.finished_ns > 0, "{found:?}");

    // Unknown ids stay unknown.
    assert_eq!(
        query(&mut client, unused_id(2)),
        Status::bare(unused_id(2), QueryStatus::Unknown)
    );

    // Another institution asking about it learns nothing: the bytes of an id never used.
    let other = another_institution(&network, pi);
    let (mut stranger, welcome) = Client::hello(node.address, &network, other, 1);
    assert!(welcome.accepted);
    assert_eq!(
        bytes(&Frame::Status(query(&mut stranger, approved.txn_id))),
        bytes(&Frame::Status(Status::bare(
            approved.txn_id,
            QueryStatus::Unknown
        ))),
    );

    // A restart keeps the store: the payment is still found.
    drop(client);
    drop(stranger);
    drop(banks);
    node.stop_cleanly();
    let node = Node::start(&dir, &[]);
    let (mut client, _) = Client::hello(node.address, &network, pi, 2);
    assert_eq!(query(&mut client, approved.txn_id), found);
    drop(client);
    node.stop_cleanly();
}
