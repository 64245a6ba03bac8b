//! A `clearway serve` process for tests, and clients that speak its protocol byte for byte:
//! institutions, banks, and peers that break the rules on purpose.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clearway_core::event::{Event, Kind, ParticipantId, TxnId};
use clearway_core::network::Network;
use clearway_core::wire::{encode, Frame, FrameReader, Hello, Signed, Welcome};
use clearway_loadgen::{FaultRates, Institutions, KindMix, WorkloadConfig};

/// A running `clearway serve`.
pub struct Node {
    child: Option<Child>,
    /// Where it listens.
    pub address: SocketAddr,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Its JSON summary, written at exit.
    pub json: PathBuf,
    /// Where it serves metrics, when asked to.
    pub metrics: Option<SocketAddr>,
    stdout: Option<JoinHandle<String>>,
}

/// What a stopped node left.
pub struct Stopped {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it printed.
    pub stdout: String,
    /// Its errors.
    pub stderr: String,
    /// Its summary.
    pub summary: serde_json::Value,
}

impl Node {
    /// Starts a node in `dir` with the generated network of seed 1, short timeouts for tests,
    /// and `extra` flags; returns once it listens.
    pub fn start(dir: &Path, extra: &[&str]) -> Node {
        let data_dir = dir.join("data");
        let json = dir.join("node.json");
        let out = dir.join("batches");
        let mut arguments: Vec<String> = [
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--cutover-ms",
            "200",
            "--bank-timeout-ms",
            "300",
            "--idle-timeout-ms",
            "3000",
            "--capacity-per-s",
            "20000",
        ]
        .iter()
        .map(|argument| argument.to_string())
        .collect();
        arguments.extend([
            "--data-dir".to_string(),
            data_dir.display().to_string(),
            "--json".to_string(),
            json.display().to_string(),
            "--out".to_string(),
            out.display().to_string(),
        ]);
        arguments.extend(extra.iter().map(|argument| argument.to_string()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_clearway"))
            .args(&arguments)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("clearway serve starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut seen = String::new();
        let wants_metrics = extra.contains(&"--metrics");
        let mut metrics = None;
        let mut address = None;
        while address.is_none() || (wants_metrics && metrics.is_none()) {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                let mut stderr = String::new();
                let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
                panic!("the node stopped before listening:\n{seen}\n{stderr}");
            }
            seen.push_str(&line);
            if let Some(listening) = line.trim().strip_prefix("listening on ") {
                address = Some(listening.parse().expect("an address"));
            }
            if let Some(endpoint) = line.trim().strip_prefix("metrics on http://") {
                metrics = endpoint.trim_end_matches("/metrics").parse().ok();
            }
        }
        let address = address.unwrap();
        let stdout = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
            seen + &rest
        });
        Node {
            child: Some(child),
            address,
            data_dir,
            json,
            metrics,
            stdout: Some(stdout),
        }
    }

    /// The node's resident memory, KiB.
    pub fn rss_kib(&self) -> u64 {
        let pid = self.child.as_ref().unwrap().id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.as_mut().unwrap().try_wait().unwrap().is_none()
    }

    /// SIGTERM and the drain, which must end with exit 0.
    pub fn stop_cleanly(self) -> Stopped {
        let stopped = self.stop();
        assert!(
            stopped.status.success(),
            "the node exited {:?}:\n{}\n{}",
            stopped.status.code(),
            stopped.stdout,
            stopped.stderr
        );
        stopped
    }

    /// SIGTERM, then waits for it to drain and exit.
    pub fn stop(mut self) -> Stopped {
        let mut child = self.child.take().unwrap();
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the node did not stop within 30 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
        let stdout = self.stdout.take().unwrap().join().unwrap();
        let summary = std::fs::read_to_string(&self.json)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(serde_json::Value::Null);
        Stopped {
            status,
            stdout,
            stderr,
            summary,
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One TCP connection to the node, blocking with a timeout.
pub struct Client {
    /// The socket.
    pub stream: TcpStream,
    reader: FrameReader,
}

impl Client {
    /// Connects, without a HELLO.
    pub fn connect(address: SocketAddr) -> Client {
        let stream = TcpStream::connect(address).expect("the node accepts");
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        Client {
            stream,
            reader: FrameReader::new(),
        }
    }

    /// Connects and says HELLO as `participant` with `nonce`; the WELCOME.
    pub fn hello(
        address: SocketAddr,
        network: &Network,
        participant: ParticipantId,
        nonce: u64,
    ) -> (Client, Welcome) {
        let key = network.participant(participant).unwrap().mac_key();
        let mut client = Client::connect(address);
        client.send(&Frame::Hello(Hello::signed(&key, participant, nonce)));
        match client.recv() {
            Some(Frame::Welcome(welcome)) => (client, welcome),
            other => panic!("expected WELCOME, got {other:?}"),
        }
    }

    /// Writes `frame`.
    pub fn send(&mut self, frame: &Frame) {
        self.send_bytes(&bytes(frame));
    }

    /// Writes `bytes` as they are.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("the node reads");
    }

    /// The next frame; `None` when the node closed the connection (or 5 s passed).
    pub fn recv(&mut self) -> Option<Frame> {
        loop {
            match self.reader.next_frame() {
                Ok(Some(frame)) => return Some(frame),
                Ok(None) => {}
                Err(error) => panic!("the node sent a frame that does not decode: {error}"),
            }
            let space = self.reader.buffer_mut();
            match self.stream.read(space) {
                Ok(0) | Err(_) => return None,
                Ok(count) => self.reader.filled(count),
            }
        }
    }

    /// Every frame until the node closes the connection.
    pub fn recv_until_closed(&mut self) -> Vec<Frame> {
        let mut frames = Vec::new();
        while let Some(frame) = self.recv() {
            frames.push(frame);
            assert!(
                frames.len() < 100_000,
                "the node never closed the connection"
            );
        }
        frames
    }

    /// The next ANSWER or BUSY, skipping PONGs.
    pub fn answer(&mut self) -> Frame {
        loop {
            match self.recv() {
                Some(Frame::Pong(_)) => {}
                Some(frame) => return frame,
                None => panic!("the connection closed before an answer"),
            }
        }
    }
}

/// `frame`'s bytes.
/// The node's Prometheus text from its `--metrics` address.
pub fn metrics(address: SocketAddr) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

pub fn bytes(frame: &Frame) -> Vec<u8> {
    let mut buffer = [0u8; 512];
    let size = encode(frame, &mut buffer).unwrap();
    buffer[..size].to_vec()
}

/// `count` valid, signed agreement debits, all from one institution (the one that sends most),
/// with ids from `id_offset` on.
pub fn payments(network: &Network, count: usize, id_offset: u128) -> (ParticipantId, Vec<Event>) {
    let workload = WorkloadConfig {
        faults: FaultRates::NONE,
        kind_mix: KindMix {
            agreement_debit: 1.0,
            gateway_debit: 0.0,
            payout_credit: 0.0,
            refund: 0.0,
        },
        // Ids made now: the node judges them against its own clock, which starts now.
        epoch_unix_ns: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
        ..WorkloadConfig::default()
    };
    let mut institutions = Institutions::new(network, &workload, 7).numbered_from(id_offset);
    let first = institutions.next_payment(0);
    let sender = first.sender;
    let mut events = vec![first];
    let mut intended_ns = 0;
    while events.len() < count {
        intended_ns += 1_000;
        let event = institutions.next_payment(intended_ns);
        if event.sender == sender {
            events.push(event);
        }
    }
    (sender, events)
}

/// `event` as a PAYMENT frame.
pub fn payment(event: &Event) -> Frame {
    Frame::Payment(Signed::from_event(event))
}

/// Every bank of the network connected, approving every FORWARD at once, on one thread, until
/// dropped.
pub struct Banks {
    stop: Arc<AtomicBool>,
    /// FORWARDs answered.
    pub replied: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Banks {
    /// Connects every bank (each HELLO accepted) and starts answering.
    pub fn connect(address: SocketAddr, network: &Network) -> Banks {
        Banks::start(address, network, true)
    }

    /// Connects every bank, which then never answers: every forwarded payment stays in flight
    /// until its hold expires.
    pub fn silent(address: SocketAddr, network: &Network) -> Banks {
        Banks::start(address, network, false)
    }

    fn start(address: SocketAddr, network: &Network, answering: bool) -> Banks {
        let mut banks: Vec<(Client, clearway_core::event::MacKey, ParticipantId)> = network
            .banks()
            .map(|bank| {
                let (client, welcome) = Client::hello(address, network, bank.id, 1);
                assert!(welcome.accepted, "bank {} refused", bank.id.0);
                client.stream.set_nonblocking(true).unwrap();
                (client, bank.mac_key(), bank.id)
            })
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let replied = Arc::new(AtomicU64::new(0));
        let thread = {
            let stop = Arc::clone(&stop);
            let replied = Arc::clone(&replied);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    let mut idle = true;
                    for (client, key, id) in &mut banks {
                        let space = client.reader.buffer_mut();
                        if let Ok(count) = client.stream.read(space) {
                            client.reader.filled(count);
                        }
                        while let Ok(Some(frame)) = client.reader.next_frame() {
                            if let (Frame::Forward(forward), true) = (frame, answering) {
                                idle = false;
                                let mut reply = Event::bank_reply(
                                    *id,
                                    forward.txn_id,
                                    true,
                                    forward.amount_fen,
                                    forward.sent_ns,
                                );
                                reply.mac = key.sign(&reply);
                                let bytes = bytes(&Frame::Reply(Signed::from_event(&reply)));
                                let _ = client.stream.set_nonblocking(false);
                                let _ = client.stream.write_all(&bytes);
                                let _ = client.stream.set_nonblocking(true);
                                replied.fetch_add(1, Ordering::AcqRel);
                            }
                        }
                    }
                    if idle {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            })
        };
        Banks {
            stop,
            replied,
            thread: Some(thread),
        }
    }
}

impl Drop for Banks {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The kind of a frame, for messages.
pub fn kind_of(event: &Event) -> Kind {
    event.kind
}

/// An id no test payment uses.
pub fn unused_id(n: u128) -> TxnId {
    TxnId((1u128 << 100) + n)
}
