//! The journal under a disk's faults, on simulated storage, and once end to end on real files.
//!
//! ```text
//! appends ─► JournalWriter ─► segments ──crash(seed)──► scan ─► repair ─► read back ─► resume
//!                   ▲
//!        faults: failed write, short write, failed sync, full disk, flipped bit
//! ```
//!
//! For each seed a writer appends events with random group commits into small segments (so
//! rotation happens often) with a random write buffer; the machine halts between two random
//! storage calls and crashes, or a fault strikes first. Whatever happens, the restarted process must find every committed
//! event intact and in order, at most a torn tail after them and never corruption, and must be
//! able to repair and continue the sequence. A failure prints the seed; `CLEARWAY_SEEDS=n` runs
//! more seeds.

use std::convert::Infallible;

use clearway_core::event::{Account, Event, Kind, ParticipantId, TxnId};
use clearway_core::journal::storage::is_disk_full;
use clearway_core::journal::{
    list_segments, read_events, repair_torn_tail, scan, segment_name, truncate_at, Corruption,
    CorruptionReason, Durability, FileStorage, JournalConfig, JournalError, JournalScan,
    JournalWriter, Operation, ReadEventsError, SimulatedStorage, Storage, StorageFailure, TornTail,
    RECORD_SIZE,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const SEEDS_DEFAULT: u64 = 1_000;
const RECORD: u64 = RECORD_SIZE as u64;

fn seed_count() -> u64 {
    std::env::var("CLEARWAY_SEEDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(SEEDS_DEFAULT)
}

/// The event journaled at `sequence`: every field depends on it, so an event read back from the
/// wrong place, or half of one, would not match.
fn event_at(sequence: u64) -> Event {
    let mut event = Event::payment(
        Kind::PAYMENTS[(sequence % 4) as usize],
        TxnId::new(20261130, u128::from(sequence) * 7 + 1),
        ParticipantId((sequence % 115) as u16 + 1),
        Account::new(format!("62220202{:011}", sequence).as_bytes()).unwrap(),
        sequence * 13 + 1,
        sequence * 1_000 + 3,
    );
    event.sequence = sequence;
    event.event_ns = sequence * 1_000 + 17;
    event
}

/// Segments of `records` records and a buffer of `buffer_records` records plus a few stray bytes
/// (the writer rounds down to whole records).
fn config(records: u64, buffer_records: usize) -> JournalConfig {
    JournalConfig {
        segment_size_bytes: records * RECORD,
        durability: Durability::Fsync,
        write_buffer_bytes: buffer_records * RECORD_SIZE + 7,
    }
}

/// Every event the journal in `storage` holds from `from` on, checked against [`event_at`]; panics naming
/// `context` on a mismatch or a read error.
fn read_back<S: Storage>(storage: &S, from: u64, context: &str) -> u64 {
    let mut next = None;
    let result = read_events(storage, from, |sequence, event| {
        if let Some(expected) = next {
            assert_eq!(sequence, expected, "{context}: sequences out of order");
        }
        assert_eq!(
            *event,
            event_at(sequence),
            "{context}: event {sequence} differs"
        );
        next = Some(sequence + 1);
        Ok::<(), Infallible>(())
    });
    match result {
        Ok(count) => count,
        Err(ReadEventsError::Journal(error)) => panic!("{context}: {error}"),
        Err(ReadEventsError::Visitor(never)) => match never {},
    }
}

/// What a recovery found.
struct Recovered {
    /// The scan's `sequence_next`.
    next: u64,
    /// Whether there was a torn tail to repair.
    torn: bool,
}

/// Scans, repairs any torn tail, and checks the journal holds `first..` at least up to
/// `committed`, intact.
fn recover(storage: &mut SimulatedStorage, first: u64, committed: u64, context: &str) -> Recovered {
    let found = scan(storage).unwrap_or_else(|error| panic!("{context}: {error}"));
    assert_eq!(
        found.corruption, None,
        "{context}: corruption after a crash"
    );
    let next = found.sequence_next.unwrap_or(first);
    assert!(
        next >= committed,
        "{context}: committed up to {committed}, recovered up to {next}"
    );
    repair_torn_tail(storage, &found).unwrap();
    let repaired = scan(storage).unwrap();
    assert_eq!(
        (repaired.torn_tail.clone(), repaired.corruption.clone()),
        (None, None),
        "{context}: after repair"
    );
    assert_eq!(repaired.sequence_next, found.sequence_next, "{context}");
    let count = read_back(storage, first, context);
    assert_eq!(
        count,
        next - found.sequence_first.unwrap_or(first),
        "{context}"
    );
    Recovered {
        next,
        torn: found.torn_tail.is_some(),
    }
}

/// Appends from `sequence` with random group commits until `end`, returning the writer.
fn append_randomly(
    writer: &mut JournalWriter<SimulatedStorage>,
    rng: &mut SmallRng,
    end: u64,
) -> Result<(), JournalError> {
    while writer.sequence_next() < end {
        let sequence = writer.sequence_next();
        writer.append(sequence, &event_at(sequence))?;
        if rng.gen_bool(0.15) {
            writer.commit()?;
        }
    }
    Ok(())
}

#[test]
fn a_crash_at_any_point_keeps_every_committed_event_and_the_journal_continues() {
    // How often the crash tore a record, lost events appended but not committed, and kept some.
    let (mut torn, mut lost, mut kept) = (0, 0, 0);
    for seed in 0..seed_count() {
        let mut rng = SmallRng::seed_from_u64(seed);
        let config = config(rng.gen_range(3..40), rng.gen_range(1..20));
        let first = rng.gen_range(0..1_000);
        let storage = SimulatedStorage::new();
        let mut writer = JournalWriter::create(storage.clone(), config, first, None).unwrap();
        // The machine stops between two storage calls (mid-commit, mid-rotation) or, for one
        // seed in five, at a moment the writer is between calls.
        let halt = rng.gen_bool(0.8).then(|| rng.gen_range(0..120));
        if let Some(calls) = halt {
            storage.halt_after_calls(calls);
        }
        let end = first + rng.gen_range(0..400);
        let stopped = append_randomly(&mut writer, &mut rng, end);
        assert!(
            stopped.is_ok() || halt.is_some(),
            "seed {seed}: {stopped:?}"
        );
        let end = writer.sequence_next();
        let committed = writer.durable_next();
        let context = format!("seed {seed} (crash at {end}, committed {committed})");

        let mut crashed = storage.crash(seed);
        let recovered = recover(&mut crashed, first, committed, &context);
        let next = recovered.next;
        torn += u64::from(recovered.torn);
        lost += u64::from(next < end);
        kept += u64::from(next > committed);

        // The restarted writer continues the sequence, and a second crash loses nothing it
        // committed either.
        let resume = scan(&crashed).unwrap().resume();
        let mut writer = match resume {
            Some(resume) => JournalWriter::create(crashed.clone(), config, next, Some(resume)),
            None => JournalWriter::create(crashed.clone(), config, next, None),
        }
        .unwrap_or_else(|error| panic!("{context}: resume: {error}"));
        append_randomly(&mut writer, &mut rng, next + 50).unwrap();
        writer.commit().unwrap();
        let mut again = crashed.crash(seed + 1);
        let context = format!("{context}, second crash");
        let last = recover(&mut again, first, next + 50, &context);
        assert_eq!(last.next, next + 50, "{context}");
    }
    if seed_count() >= SEEDS_DEFAULT {
        assert!(torn > 0 && lost > 0 && kept > 0, "{torn} {lost} {kept}");
    }
}

/// A fault a test arms on the storage, and what the writer's error must then name.
#[derive(Clone, Copy, Debug)]
enum Fault {
    Write(u64),
    ShortWrite(u64, usize),
    Sync(u64),
    /// The disk holds this many segments.
    DiskFull(u64),
}

impl Fault {
    fn arm(self, storage: &SimulatedStorage, segment_size_bytes: u64) {
        match self {
            Fault::Write(n) => storage.fail_nth_write(n),
            Fault::ShortWrite(n, landed) => storage.shorten_nth_write(n, landed),
            Fault::Sync(n) => storage.fail_nth_sync(n),
            Fault::DiskFull(segments) => {
                storage.set_size_limit_bytes(Some(segments * segment_size_bytes + 100))
            }
        }
    }

    /// The operations whose failure it can be: a failed sync may be a segment's or the
    /// directory's after a rotation.
    fn operations(self) -> &'static [Operation] {
        match self {
            Fault::Write(_) | Fault::ShortWrite(..) => &[Operation::Write],
            Fault::Sync(_) => &[Operation::Sync, Operation::SyncDirectory],
            Fault::DiskFull(_) => &[Operation::Create],
        }
    }
}

/// Arms `fault`, appends until it strikes, and checks the writer stops there for good.
fn strike(seed: u64, fault: Fault) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let config = config(rng.gen_range(3..20), rng.gen_range(1..10));
    let storage = SimulatedStorage::new();
    let mut writer = JournalWriter::create(storage.clone(), config, 0, None).unwrap();
    fault.arm(&storage, config.segment_size_bytes);
    let context = format!("seed {seed} {fault:?}");
    let error = append_randomly(&mut writer, &mut rng, 100_000)
        .expect_err(&format!("{context}: the fault never struck"));
    let JournalError::Storage(failure) = &error else {
        panic!("{context}: {error}");
    };
    assert!(
        fault.operations().contains(&failure.operation),
        "{context}: {error}"
    );
    assert_eq!(
        failure.acknowledged_next,
        Some(writer.durable_next()),
        "{context}"
    );
    if let Fault::DiskFull(_) = fault {
        assert!(is_disk_full(failure.kind), "{context}: {error}");
        assert!(
            failure.message.contains("disk is full"),
            "{context}: {error}"
        );
    }
    assert!(
        error.to_string().contains("the journal stopped"),
        "{context}: {error}"
    );

    // Poisoned: the same error, and storage untouched.
    let durable = writer.durable_next();
    let counts = storage.counts();
    let sequence = writer.sequence_next();
    assert_eq!(
        writer.append(sequence, &event_at(sequence)),
        Err(error.clone())
    );
    assert_eq!(writer.commit(), Err(error.clone()));
    assert_eq!(writer.poisoned(), Some(&error), "{context}");
    assert_eq!(
        storage.counts(),
        counts,
        "{context}: a poisoned writer touched storage"
    );
    assert_eq!(writer.durable_next(), durable, "{context}");

    // Everything acknowledged survives a crash.
    let mut crashed = storage.crash(seed);
    recover(&mut crashed, 0, durable, &context);
}

#[test]
fn a_storage_fault_stops_the_writer_and_loses_nothing_it_acknowledged() {
    for seed in 0..seed_count() {
        let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed);
        let fault = match seed % 4 {
            0 => Fault::Write(rng.gen_range(1..30)),
            1 => Fault::ShortWrite(rng.gen_range(1..30), rng.gen_range(0..600)),
            2 => Fault::Sync(rng.gen_range(1..30)),
            _ => Fault::DiskFull(rng.gen_range(1..6)),
        };
        strike(seed, fault);
    }
}

#[test]
fn each_fault_names_its_file_and_offset() {
    // Segments of 4 records, a buffer of 2, no commits: write 1 is segment 0 at offset 0
    // (sequence 2 finds the buffer full), write 2 is segment 0 at 256 (sequence 4's rotation,
    // which then creates segment 4), write 3 is segment 4 at 0. Syncs 1 and 2 follow writes 1
    // and 2; sync 3 is the directory's after segment 4 is created.
    let rows = [
        (
            Fault::Write(2),
            Operation::Write,
            segment_name(0),
            Some(256),
            2,
        ),
        (
            Fault::ShortWrite(3, 10),
            Operation::Write,
            segment_name(4),
            Some(0),
            4,
        ),
        (Fault::Sync(2), Operation::Sync, segment_name(0), None, 2),
        (
            Fault::DiskFull(1),
            Operation::Create,
            segment_name(4),
            None,
            4,
        ),
    ];
    for (fault, operation, file, offset, durable) in rows {
        let storage = SimulatedStorage::new();
        let config = JournalConfig {
            write_buffer_bytes: 2 * RECORD_SIZE,
            ..config(4, 2)
        };
        let mut writer = JournalWriter::create(storage.clone(), config, 0, None).unwrap();
        fault.arm(&storage, config.segment_size_bytes);
        let mut error = None;
        for sequence in 0..20 {
            if let Err(found) = writer.append(sequence, &event_at(sequence)) {
                error = Some(found);
                break;
            }
        }
        let Some(JournalError::Storage(failure)) = error else {
            panic!("{fault:?}: {error:?}");
        };
        assert_eq!(
            (failure.operation, &failure.file, failure.offset),
            (operation, &file, offset),
            "{fault:?}"
        );
        assert_eq!(writer.durable_next(), durable, "{fault:?}");
        assert_eq!(failure.acknowledged_next, Some(durable), "{fault:?}");
    }
}

#[test]
fn a_flipped_bit_in_any_synced_record_is_found_where_it_is() {
    for seed in 0..seed_count() {
        let mut rng = SmallRng::seed_from_u64(seed);
        let records = rng.gen_range(3..20);
        let storage = SimulatedStorage::new();
        let mut writer =
            JournalWriter::create(storage.clone(), config(records, 8), 0, None).unwrap();
        let total = rng.gen_range(1..200);
        append_randomly(&mut writer, &mut rng, total).unwrap();
        writer.commit().unwrap();
        let mut storage = storage.crash(seed);

        let damaged = rng.gen_range(0..total);
        let segment = damaged / records * records;
        let offset = (damaged - segment) * RECORD + rng.gen_range(0..RECORD);
        storage
            .flip_bit(&segment_name(segment), offset, rng.gen_range(0..8))
            .unwrap();
        let context = format!("seed {seed}: bit at sequence {damaged}");
        let found = scan(&storage).unwrap();
        let slot = (damaged - segment) * RECORD;
        assert_eq!(found.sequence_next, Some(damaged), "{context}");
        if damaged == total - 1 {
            // The last record: indistinguishable from a torn write, and never more than one
            // record's loss.
            let torn = found.torn_tail.clone().expect(&context);
            assert_eq!(
                (torn.file, torn.offset),
                (segment_name(segment), slot),
                "{context}"
            );
            assert_eq!(found.corruption, None, "{context}");
        } else {
            let corruption = found.corruption.clone().expect(&context);
            assert_eq!(
                (
                    corruption.file.clone(),
                    corruption.offset,
                    corruption.sequence_expected
                ),
                (segment_name(segment), slot, damaged),
                "{context}"
            );
            assert!(
                matches!(
                    corruption.reason,
                    CorruptionReason::BadChecksum | CorruptionReason::BadLength { .. }
                ),
                "{context}: {corruption}"
            );
            assert_eq!(found.torn_tail, None, "{context}");
            let discarded = truncate_at(&mut storage, &corruption).unwrap();
            assert_eq!(discarded, total - damaged, "{context}");
            let after = scan(&storage).unwrap();
            assert_eq!(
                (after.corruption, after.torn_tail),
                (None, None),
                "{context}"
            );
            assert_eq!(read_back(&storage, 0, &context), damaged, "{context}");
        }
    }
}

/// A directory under the system's temporary directory, removed with everything in it when
/// dropped.
struct TemporaryDirectory(std::path::PathBuf);

impl TemporaryDirectory {
    fn new(test: &str) -> TemporaryDirectory {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        TemporaryDirectory(
            std::env::temp_dir().join(format!("clearway-{test}-{}-{nanos}", std::process::id())),
        )
    }
}

impl Drop for TemporaryDirectory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn real_files_hold_every_event_across_segments_and_a_restart() {
    let directory = TemporaryDirectory::new("journal-files");
    let config = JournalConfig {
        segment_size_bytes: 50 * RECORD,
        durability: Durability::Fsync,
        write_buffer_bytes: 16 * RECORD_SIZE,
    };
    let storage = FileStorage::open(&directory.0).unwrap();
    let mut writer = JournalWriter::create(storage, config, 0, None).unwrap();
    for sequence in 0..1_000 {
        writer.append(sequence, &event_at(sequence)).unwrap();
        if sequence % 37 == 36 {
            writer.commit().unwrap();
        }
    }
    writer.commit().unwrap();
    let stats = writer.stats();
    assert_eq!((stats.events, stats.segments_created), (1_000, 20));
    assert_eq!(stats.bytes_written, 1_000 * RECORD);
    drop(writer);

    // A restart: scan, read back, resume.
    let storage = FileStorage::open(&directory.0).unwrap();
    let found: JournalScan = scan(&storage).unwrap();
    assert_eq!(
        (found.torn_tail.clone(), found.corruption.clone()),
        (None, None)
    );
    assert_eq!(found.sequence_next, Some(1_000));
    assert_eq!(list_segments(&storage).unwrap().len(), 20);
    // Every segment is pre-allocated to its full size.
    for segment in list_segments(&storage).unwrap() {
        assert_eq!(
            storage.read(&segment.name).unwrap().len() as u64,
            50 * RECORD
        );
    }
    assert_eq!(read_back(&storage, 0, "real files"), 1_000);
    let resume = found.resume().unwrap();
    assert_eq!(resume.segment, segment_name(950));
    let mut writer = JournalWriter::create(storage, config, 1_000, Some(resume)).unwrap();
    for sequence in 1_000..1_100 {
        writer.append(sequence, &event_at(sequence)).unwrap();
    }
    writer.commit().unwrap();
    drop(writer);
    let storage = FileStorage::open(&directory.0).unwrap();
    assert_eq!(read_back(&storage, 0, "real files, resumed"), 1_100);

    // Damage in the middle of a real segment is corruption naming file and offset.
    let path = directory.0.join(segment_name(500));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[7 * RECORD_SIZE + 40] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let found = scan(&storage).unwrap();
    assert_eq!(
        found.corruption,
        Some(Corruption {
            file: segment_name(500),
            offset: 7 * RECORD,
            sequence_expected: 507,
            reason: CorruptionReason::BadChecksum,
        })
    );
    assert_eq!(found.torn_tail, None::<TornTail>);
}

#[test]
fn a_poisoned_writer_s_error_is_a_storage_failure_with_its_sentence() {
    let storage = SimulatedStorage::new();
    let mut writer = JournalWriter::create(storage.clone(), config(100, 4), 0, None).unwrap();
    for sequence in 0..3 {
        writer.append(sequence, &event_at(sequence)).unwrap();
    }
    writer.commit().unwrap();
    storage.fail_nth_write(1);
    writer.append(3, &event_at(3)).unwrap();
    let error = writer.commit().unwrap_err();
    assert!(matches!(
        &error,
        JournalError::Storage(StorageFailure {
            operation: Operation::Write,
            offset: Some(384),
            acknowledged_next: Some(3),
            ..
        })
    ));
    assert_eq!(
        error.to_string(),
        "cannot write journal-00000000000000000000.seg at offset 384: Input/output error (os \
         error 5); the journal stopped, and no event from sequence 3 on was acknowledged"
    );
}
