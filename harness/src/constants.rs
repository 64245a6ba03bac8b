//! The harness's limits and defaults, each with the reasoning behind its number.

/// Ring slots for `clearway run`'s pipelines: 16,384 slots of 128 bytes are 2 MiB, within a
/// server core's L2 + L3 share, and at 1 M events/s they absorb 16 ms of a stalled stage before
/// the producer feels it.
pub const RUN_RING_CAPACITY: usize = 16_384;

/// Events a stage takes from its barrier at once in `clearway run`: large enough to amortise the
/// cursor handoff (~100 ns between cores, docs/ARCHITECTURE.md) over hundreds of events, small
/// enough that a batch's latency stays in the tens of microseconds.
pub const RUN_BATCH_SIZE_MAX: usize = 512;

/// Authorize workers `auto` gives a machine with cores to spare: HMAC-SHA256 checking runs at
/// ~3–5 M events/s per core, so four cover any rate one producer thread can offer.
pub const AUTHORIZE_WORKERS_MAX_AUTO: usize = 4;

/// Cores below which `auto` runs the whole switch on one thread beside the producer rather than
/// a thread per stage: a pipelined switch needs a core each for the producer, authorize, route,
/// ledger and egress, plus one left for the system.
pub const PIPELINED_CORE_COUNT_MIN: usize = 6;

/// Payments the producer offers in one go before it looks at the banks' replies again: bounds
/// how long a reply waits behind a burst of arrivals.
pub const ARRIVALS_PER_TURN_MAX: usize = 256;

/// The largest latency the histograms hold, in ns: one hour. Anything longer is a hung run, and
/// is recorded as one hour.
pub const LATENCY_NS_MAX: u64 = 3_600_000_000_000;

/// Significant decimal digits the latency histograms keep: 3 means 0.1% resolution at any
/// magnitude, the HdrHistogram convention.
pub const LATENCY_SIGNIFICANT_DIGITS: u8 = 3;

/// Events per chunk of the in-memory input recording: 65,536 × 112 bytes = 7 MiB, so a chunk is
/// allocated about once every 65 ms at 1 M events/s, never per event.
pub const RECORDING_CHUNK_EVENTS: usize = 65_536;

/// The smallest ledger table `clearway run` sizes for its rate: 65,536 entries (a few MiB), so a
/// slow run still has room for bursts and duplicates.
pub const LEDGER_TABLE_CAPACITY_MIN: usize = 1 << 16;

/// The ack log's buffer: a batch of at most `RUN_BATCH_SIZE_MAX` answers at ~45 bytes a line is
/// ~23 KiB, so 64 KiB holds a whole batch and egress writes once per batch.
pub const ACK_LOG_BUFFER_BYTES: usize = 64 * 1024;

/// Journal segment size `clearway run` uses unless told: 64 MiB holds ~524,000 records of 128
/// bytes, about 3 s at 180,000 payments/s, so a new file (and its pre-allocation) is needed only
/// every few seconds and recovery opens few files.
pub const SEGMENT_SIZE_MIB_DEFAULT: u64 = 64;

/// Events between snapshots unless told: 2,000,000 events is ~5.6 s of a 180,000 payments/s run
/// (a payment and its bank's reply are an event each), and replaying them through the
/// single-threaded switch (~1.2 M events/s measured on the 2-core dev box, HMAC included) takes
/// under 2 s, which bounds recovery. Saving costs route and the ledger a pause of tens of
/// milliseconds (52 ms measured at 180,000/s), paid once per interval.
pub const SNAPSHOT_EVERY_EVENTS_DEFAULT: u64 = 2_000_000;

/// Bits a durable start's first sequence is shifted by to give its transaction ids their own
/// range: a start may send 2^40 ids (~70 days at 180,000 payments/s) before reaching the next
/// start's range, which begins at least one journaled event (2^40 ids) later; and the offset
/// stays below the load generator's never-sent bit (2^95) for journals under 2^55 events.
pub const TXN_ID_OFFSET_SHIFT: u32 = 40;

/// Connections a node holds at once, greeting ones included. The generated network's 115
/// institutions with 2 connections each and its 424 banks with one make ~650; six times that
/// leaves room for several load processes. Each costs an 8 KiB frame buffer, its output buffer
/// and a few hundred bytes of state, so the whole is tens of megabytes at most.
pub const NODE_CONNECTIONS_MAX: usize = 4_096;

/// PAYMENTs one connection may have sent and not yet had answered; past it the node answers
/// BUSY. At 180,000 payments/s over ~230 institution connections and ~50 ms worst-case answers
/// (a group commit on a slow disk), about 40 are in flight per connection: 1,024 is 25 times that,
/// and bounds what a client that never reads its answers can make the node hold (1,024 answers of
/// 33 bytes).
pub const FRAMES_IN_FLIGHT_PER_CONNECTION_MAX: u32 = 1_024;

/// PAYMENTs in flight across the whole node; past it the node answers BUSY. It sizes the answer
/// queue from egress to the I/O thread (one entry per payment in flight, so egress never waits on
/// it) and the table that remembers which connection to answer: 262,144 is 1.4 s of the
/// 180,000/s design peak, far longer than any answer should take.
pub const NODE_PAYMENTS_IN_FLIGHT_MAX: usize = 262_144;

/// Default milliseconds a connection may stay silent (no frame at all, not even a PING) before
/// the node says GOODBYE 4 and closes it; also how long a connection may take to finish its
/// HELLO. Long enough for a client that pings every few seconds, short enough that thousands of
/// abandoned connections are gone within a minute.
pub const CONNECTION_IDLE_TIMEOUT_MS_DEFAULT: u64 = 30_000;

/// Answers with a `BadMac` decline one connection may earn before the node closes it: a client
/// with the wrong key fails every payment, and 16 is enough to tell that from a corrupted frame.
pub const BAD_MACS_PER_CONNECTION_MAX: u32 = 16;

/// Frames one connection may send that the node refuses without closing (a sender that is not
/// the connection's participant, a frame its role may not send) before it closes the connection.
pub const VIOLATIONS_PER_CONNECTION_MAX: u32 = 16;

/// Bytes waiting to be written to one connection past which the node stops reading from it: a
/// client that does not read its answers (or PONGs) gets no more of its frames taken. 64 KiB is
/// all of a connection's in-flight answers (1,024 × 33 bytes) twice over.
pub const OUTPUT_PAUSE_READING_BYTES: usize = 64 * 1024;

/// Bytes waiting to be written to one connection past which the node closes it as too slow: only
/// a bank can get here (its FORWARDs are not limited by frames in flight). 1 MiB is ~270 ms of a
/// bank taking a fifth of 180,000 payments/s.
pub const OUTPUT_BUFFER_BYTES_MAX: usize = 1024 * 1024;

/// Nonces the node remembers per participant to refuse a replayed HELLO; the oldest is forgotten
/// first. 1,024 is more connections than one participant makes between two restarts of a client.
pub const HELLO_NONCES_REMEMBERED: usize = 1_024;

/// Events the I/O thread collects before publishing them into the ring in one claim: the
/// pipeline's batch size, so one publish feeds the first stage one batch.
pub const DOOR_BATCH_EVENTS: usize = RUN_BATCH_SIZE_MAX;

/// Milliseconds the I/O thread sleeps at most in `poll` when nothing is due: SIGTERM and idle
/// connections are noticed within it.
pub const DOOR_POLL_TIMEOUT_MS: u64 = 100;

/// Milliseconds a draining node waits, after its last answer is due, for GOODBYEs to be written
/// before it closes the connections anyway.
pub const DRAIN_GOODBYE_MS: u64 = 1_000;

/// Connections the kernel holds for the node before it accepts them. A load generator opens a
/// connection per bank and a few per institution at once (~650 for the generated network); with
/// the default of 128, a burst overflows the queue while the I/O thread is busy, and each dropped
/// handshake costs its client a one-second retransmission.
pub const LISTEN_BACKLOG: i32 = 1_024;
