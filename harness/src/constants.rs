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
/// range: a start may send 2^24 ids per event the journal holds before it (16.7 M) before
/// reaching the next start's range, which begins at least one journaled event (2^24 ids) later;
/// ids also carry the second they were made in, so two starts seconds apart never share one.
/// The offset stays below the load generator's never-sent bit (2^78, under the 79 bits a
/// transaction id keeps for its sequence) for journals under 2^54 events.
pub const TXN_ID_OFFSET_SHIFT: u32 = 24;

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

/// Answers in a row with a `BadMac` decline one connection may earn before the node closes it: a
/// client with the wrong key fails every payment, while a corrupted frame now and then (the load
/// generator injects 0.1%) is followed by good ones; 16 in a row tells the two apart.
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

/// How late `clearway load` may write a payment after its intended send time before the payment
/// counts as late: 1 ms is far above the ~50 µs a turn of the driver takes when it keeps up, and
/// far below the latencies a node under load is judged by (p99 in milliseconds), so a payment
/// this late means the generator, not the node, was behind.
pub const GENERATOR_LATE_NS: u64 = 1_000_000;

/// The share of payments `clearway load` may send late (see [`GENERATOR_LATE_NS`]) and still
/// claim to have measured the node: 1% late payments move p99 by the generator's own delay, so
/// past it the percentiles describe the generator.
pub const GENERATOR_LATE_FRACTION_MAX: f64 = 0.01;

/// Connections `clearway load` opens per institution unless told: two let a payment go out on
/// the other while one connection's socket buffer is full, without multiplying the node's
/// connection count (115 institutions × 2 + 424 banks = 654 with the generated network).
pub const CONNECTIONS_PER_PI_DEFAULT: usize = 2;

/// How long `clearway load` waits for a TCP connection to open, and for the node's WELCOME after
/// a HELLO: a node on the same network answers in microseconds, so 5 s means it is not there or
/// not answering, and a run should say so rather than hang.
pub const CONNECT_TIMEOUT_MS: u64 = 5_000;

/// Added to the bank timeout for how long `clearway load`'s drain waits for the last answers: the
/// node expires a hold one bank timeout after it was placed, on its own clock and sweep, and the
/// ANSWER then crosses the network; one second covers both on any sane deployment.
pub const LOAD_DRAIN_MARGIN_NS: u64 = 1_000_000_000;

/// How long `clearway load`'s reader waits in one poll before it looks at its stop flag again:
/// 10 ms makes stopping prompt without waking a core more than 100 times a second when idle.
pub const READER_POLL_TIMEOUT_MS: u64 = 10;

/// How long `clearway load` sleeps before it tries a full socket again: 50 µs is a few hundred
/// frames of the node's reading at full speed, so the wait adds little to what TCP's flow
/// control already imposes, and the sleep leaves the core to the node on a small machine.
pub const WRITE_WAIT_SLICE_US: u64 = 50;

/// The most time `clearway load` waits in all on a socket the node stopped reading before it
/// gives the connection up: 10 s is far beyond any pause a working node takes.
pub const WRITE_STALL_MAX_NS: u64 = 10_000_000_000;

/// Shift applied to the wall clock's nanoseconds since the Unix epoch to make `clearway load`'s
/// transaction id offset: 2^24 ids (16.7 M, over 800 s at 20,000 payments/s) fit between two
/// starts one nanosecond apart. The offset wraps below the load generator's never-sent bit
/// (2^78, `Institutions::numbered_from`); ids also carry the second they were made in, so two
/// starts a second apart never share one.
pub const LOAD_ID_OFFSET_SHIFT: u32 = 24;

/// Readiness events `clearway load`'s reader takes from one poll: 1,024 covers every connection
/// of the generated network (654) becoming readable at once; more wait for the next poll.
pub const READER_EVENTS_PER_POLL: usize = 1_024;

/// Frames a connection's write buffer in `clearway load` has room for before it grows: 64 frames
/// of the largest size are 32 KiB, more than a driver turn (256 payments spread over at least
/// two connections per institution) puts on one connection in practice.
pub const OUTBOX_FRAMES_INITIAL: usize = 64;

/// The shortest gap before its next arrival through which `clearway load`'s driver sleeps rather
/// than yields: 20 µs, so that at 20,000 payments/s (50 µs apart) it sleeps between almost every
/// payment and leaves the cores to the node on the same machine.
pub const DRIVER_SLEEP_GAP_MIN_NS: u64 = 20_000;

/// How much longer than asked a short sleep takes on Linux, measured at ~60 µs: the driver asks
/// for that much less.
pub const DRIVER_SLEEP_OVERSHOOT_NS: u64 = 60_000;

/// The length of an interval: the interval log, the timeline and the progress line count whole
/// seconds, as HdrHistogram's interval logs conventionally do; long enough for a p99 of its own
/// at any rate worth measuring (100 payments/s gives one value above it), short enough to see a
/// Double-11 peak arrive within two seconds.
pub const INTERVAL_NS: u64 = 1_000_000_000;

/// Filled histograms a recorder may have waiting for the monitor: the monitor takes them every
/// [`MONITOR_TICK_MS`], so 4 is four seconds of slack before a recorder has to keep one
/// histogram over two intervals.
pub const INTERVAL_FILLED_QUEUE_CAPACITY: usize = 4;

/// Empty histograms each recorder holds for the next intervals, allocated with it (~270 KB each
/// at [`LATENCY_NS_MAX`] and 3 digits): as many as it may have waiting, so that turning an
/// interval never waits for the monitor.
pub const INTERVAL_SPARES: usize = INTERVAL_FILLED_QUEUE_CAPACITY;

/// How often the monitor gathers filled histograms and redraws the progress line: ten times a
/// second costs nothing measurable and shows a second's figures within 0.1 s of its end.
pub const MONITOR_TICK_MS: u64 = 100;

/// Seconds each trial of `clearway search` measures: five seconds at 100,000/s is half a million
/// payments, enough for a p99 of 5,000 values above it and a p99.9 of 500, while a search of a
/// dozen rates, three trials each, stays within a few minutes.
pub const SEARCH_DURATION_S_DEFAULT: f64 = 5.0;

/// Seconds of warm-up before each trial's measured window: the first second of a run carries
/// first touches of its tables and queues (see docs/SCENARIOS.md, "Warm-up").
pub const SEARCH_WARMUP_S_DEFAULT: f64 = 1.0;

/// Trials at each rate, all of which must pass for the rate to hold: a shared machine moves a
/// run's figures by ±15%, and three passes in a row make a lucky one unlikely to be mistaken
/// for capacity (failing rates stop at their first failure, so repeats cost only where they
/// hold).
pub const SEARCH_REPEATS_DEFAULT: usize = 3;

/// The first rate a search tries, payments/s: a tenth of the sustained design figure, held by
/// any build on any machine, so the bracket usually climbs (a doubling a probe) rather than
/// descends.
pub const SEARCH_START_PER_S_DEFAULT: f64 = 10_000.0;

/// The rate below which a search stops looking for one that holds: under 1,000/s a trial of a
/// few seconds measures too few payments for a p99.9.
pub const SEARCH_MIN_PER_S_DEFAULT: f64 = 1_000.0;

/// The rate above which a search stops doubling: ten million payments/s is far beyond one
/// node, so reaching it means the gates are too loose, not that capacity was found.
pub const SEARCH_MAX_PER_S_DEFAULT: f64 = 10_000_000.0;

/// A search ends when the lowest failing rate is within this fraction of the highest holding
/// one: 5% is finer than a shared machine's run-to-run drift (±15%), so a finer answer would
/// only measure noise.
pub const SEARCH_PRECISION_DEFAULT: f64 = 0.05;

/// The gates a search holds each trial to when neither `--slo` nor the scenario names any: the
/// design target's "average response under 1 s including the bank" leaves the switch a small
/// share, so p99 under 100 ms through the switch; and fewer than 0.1% of payments undecided
/// (expired or refused as busy). Above capacity queues grow without bound, so either gate
/// fails soon after the rate passes what the switch sustains.
pub const SEARCH_GATES_DEFAULT: [&str; 2] = ["p99<100ms", "error_rate<0.1%"];

/// The share of its sustainable throughput `clearway plan` lets a node carry at peak unless told
/// (`--ceiling`). Queueing delay grows as 1/(1 − ρ) with the utilization ρ: in an M/M/1 queue
/// the mean time in the system is the service time ÷ (1 − ρ), so at ρ = 0.7 a payment spends
/// 3.3 times its service time in the node, at 0.9 ten times, and near 1 the wait (and far more
/// its tail) explodes. 0.7 keeps headroom for bursts above the planned peak (Double-11's arrives
/// within seconds) and for hosts that are free of garbage collection but not of noisy
/// neighbours, at a cost of 30% idle capacity at peak.
pub const UTILIZATION_CEILING_DEFAULT: f64 = 0.7;

/// The most nodes `clearway plan` will plan, all sites together: the largest payment networks
/// run tens to hundreds of switching nodes, so a plan of a million means a slip of units (a
/// per-node figure per minute, a peak per day), and is refused rather than printed. It also
/// keeps every count well inside the integers a float holds exactly (2^53).
pub const PLAN_NODES_TOTAL_MAX: u64 = 1_000_000;

const _: () = assert!(UTILIZATION_CEILING_DEFAULT > 0.0 && UTILIZATION_CEILING_DEFAULT <= 1.0);

/// Measured points `clearway usl` needs before it fits the Universal Scalability Law: its three
/// parameters (λ, σ, κ) are pinned down by any three points, which it then passes through
/// exactly, so R² = 1 says nothing. With six, three points are left over beyond the parameters
/// (three degrees of freedom), and the residuals are evidence that the curve fits, not an echo
/// of the points.
pub const USL_POINTS_MIN: usize = 6;

/// Distinct concurrencies (N) the fit needs: its three parameters set a quadratic in N (the
/// law's denominator, 1 + σ(N − 1) + κN(N − 1)), which fewer than three distinct N cannot
/// determine.
pub const USL_CONCURRENCY_LEVELS_MIN: usize = 3;
// As many points again as there are parameters (one per distinct N at the least).
const _: () = assert!(USL_POINTS_MIN >= 2 * USL_CONCURRENCY_LEVELS_MIN);

/// The most values one `clearway sweep` takes: 64 covers every core count of a large node one
/// by one, while a typo such as `1..1000` is refused before it starts hours of runs.
pub const SWEEP_VALUES_MAX: usize = 64;

/// How much worse `clearway compare` lets throughput get before it calls the change a regression
/// (when it is beyond the noise too): 5%. Single runs on a shared machine drift ±15% from one to
/// the next, so a single-run difference under that is noise; repeats (each side's range) and
/// interleaving (A and B in turns, judged pair by pair) narrow the noise down to a few percent,
/// and a 5% loss of throughput is a change worth a look.
pub const COMPARE_THROUGHPUT_THRESHOLD_DEFAULT: f64 = 0.05;

/// How much worse `clearway compare` lets a latency percentile get before it calls the change a
/// regression (when it is beyond the noise too): 10%, twice throughput's. A tail percentile is
/// decided by a few hundred payments out of a run's tens of thousands, and one scheduler hiccup
/// on a shared machine moves it further than it moves the median or the throughput.
pub const COMPARE_LATENCY_THRESHOLD_DEFAULT: f64 = 0.10;

/// Rounds of `clearway compare --ab` unless told: with 5 pairs, all 5 moving the worse way
/// happens by chance 1 time in 2^5 = 32 (p ≈ 0.03), the fewest rounds for which the sign test
/// is below the customary 5%.
pub const COMPARE_ROUNDS_DEFAULT: usize = 5;

// The sign test of `COMPARE_ROUNDS_DEFAULT` pairs must be able to reach p < 0.05: 1/2^5 < 1/20.
const _: () = assert!(1 << COMPARE_ROUNDS_DEFAULT > 20);
