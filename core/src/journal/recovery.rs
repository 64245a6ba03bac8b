//! [`recover`] and [`rebuild`]: the switch's state from a data directory — the newest valid
//! snapshot, then the journal after it through the same authorize, route and ledger the
//! pipeline runs — and the checks that make it trustworthy: each snapshot's state hash is
//! compared with the state restored from it, and a replay from the first event compares the
//! ledger with every snapshot it passes (the state hash chain).

use std::fmt;
use std::time::Instant;

use super::scan::{
    read_events, repair_torn_tail, scan, truncate_at, Corruption, JournalScan, ReadEventsError,
    Resume,
};
use super::snapshot_file::{list_snapshots, read_snapshot, remove_stale_temporaries};
use super::storage::Storage;
use super::{JournalError, Operation};
use crate::event::{Event, MacMode, Results};
use crate::network::Network;
use crate::stage::{
    restore_switch, Authorize, BatchReport, Expiry, Ledger, LedgerConfig, LedgerSink, Remembering,
    Route, StateHash,
};
use crate::store::PaymentStore;

/// What a replay shows its observer: every event with the results the switch gave it, every
/// expiry, every closed batch. The ledger tools (`export`, `settlement`) are observers.
pub trait ReplayObserver {
    /// `event` went through authorize, route and the ledger with `results`; `ledger` is the
    /// ledger after it.
    fn applied(&mut self, _event: &Event, _results: &Results, _ledger: &Ledger) {}
    /// A hold expired while the ledger applied an event of batch `batch`.
    fn expired(&mut self, _expiry: &Expiry, _batch: u64) {}
    /// A cutover closed a batch.
    fn batch_closed(&mut self, _report: &BatchReport) {}
}

/// Observes nothing.
impl ReplayObserver for () {}

/// Where a rebuild starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayFrom {
    /// The first journaled event, with fresh stages; every snapshot passed on the way is checked
    /// against the replayed ledger. Needs the journal from its first event.
    Genesis,
    /// The newest snapshot that reads back whole and restores to its recorded state hash (older
    /// ones if not); from the first event if there is none.
    NewestSnapshot,
}

/// A snapshot a rebuild started from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotUsed {
    /// Its file.
    pub name: String,
    /// Every event below this sequence is in it.
    pub next_sequence: u64,
}

/// The state a rebuild reached.
pub struct Rebuilt {
    /// Route after the last event.
    pub route: Route,
    /// The ledger after the last event.
    pub ledger: Ledger,
    /// The sequence the next event gets.
    pub next_sequence: u64,
    /// Events replayed from the journal.
    pub events_replayed: u64,
    /// The snapshot it started from, if any.
    pub snapshot: Option<SnapshotUsed>,
    /// Snapshots it compared its ledger with on the way (a replay from the first event).
    pub snapshots_checked: u64,
    /// Snapshots passed over as unusable, each with why.
    pub snapshots_rejected: Vec<String>,
    /// Seconds it took.
    pub seconds: f64,
}

/// What recovery did before handing over the state.
pub struct Recovery {
    /// The state.
    pub rebuilt: Rebuilt,
    /// The journal as scanned, before any repair.
    pub scan: JournalScan,
    /// Temporary snapshot files a crash left mid-write, removed.
    pub temporaries_removed: Vec<String>,
    /// A torn last record that was cut off: file, offset and bytes.
    pub torn_tail: Option<String>,
    /// A corrupt record the journal was cut at (asked for), and the events that discarded.
    pub truncated: Option<(Corruption, u64)>,
    /// Snapshots removed with the cut: they covered events it discarded.
    pub snapshots_removed: Vec<String>,
    /// Where the writer continues.
    pub resume: Option<Resume>,
    /// Why the payment store was emptied and rebuilt from the journal's first event, if it was.
    pub store_rebuilt: Option<String>,
}

/// The payment store a recovery reads and writes, and how to get an empty one in its place when
/// it cannot carry the rebuilt ledger on ([`RecoveryError::Store`]).
pub struct StoreToRecover<'a> {
    /// The store as found (always `Some` on the way in and out; `None` only while it is
    /// renewed, so that the old one is closed before its folder is removed).
    pub store: &'a mut Option<PaymentStore>,
    /// Removes the store's folder and makes an empty store where it was.
    pub renew: &'a mut dyn FnMut() -> Result<PaymentStore, String>,
}

/// Why the state could not be rebuilt.
#[derive(Debug)]
pub enum RecoveryError {
    /// The journal could not be read, or repaired.
    Journal(JournalError),
    /// A record other than the last is corrupt: the node will not start on it.
    Corrupt(Corruption),
    /// The journal does not start at its first event and no snapshot covers the gap.
    Gap {
        /// The first sequence the journal holds.
        journal_first: u64,
        /// Where the state needs it to start.
        needed: u64,
    },
    /// The payment store cannot carry the rebuilt ledger on: it is behind what the snapshot's
    /// window has dropped, ahead of the journal, or a read of it failed. Rebuild it from the
    /// journal's first event.
    Store(String),
    /// A replayed ledger disagrees with a snapshot on the way.
    ChainBroken {
        /// The snapshot.
        name: String,
        /// What it recorded.
        recorded: StateHash,
        /// What the replay reached.
        replayed: StateHash,
    },
}

impl fmt::Display for RecoveryError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecoveryError::Journal(error) => write!(formatter, "{error}"),
            RecoveryError::Corrupt(corruption) => write!(
                formatter,
                "the journal is corrupt: {corruption}; refusing to start (run `clearway ledger \
                 verify`, or start with --truncate-corrupt to cut the journal there)"
            ),
            RecoveryError::Gap {
                journal_first,
                needed,
            } => write!(
                formatter,
                "the journal starts at sequence {journal_first}, but rebuilding needs sequence \
                 {needed} and no snapshot covers the gap"
            ),
            RecoveryError::Store(reason) => write!(formatter, "the payment store {reason}"),
            RecoveryError::ChainBroken {
                name,
                recorded,
                replayed,
            } => write!(
                formatter,
                "snapshot {name} records state hash {recorded}, but replaying the journal to it \
                 gives {replayed}"
            ),
        }
    }
}

impl std::error::Error for RecoveryError {}

impl From<JournalError> for RecoveryError {
    fn from(error: JournalError) -> Self {
        RecoveryError::Journal(error)
    }
}

/// Recovers a data directory for a node about to start: scans the journal; cuts off a torn last
/// record (a crash mid-write) and reports it; refuses a corrupt record anywhere else unless
/// `truncate_corrupt`, in which case it cuts the journal there and says how many events that
/// discarded; then rebuilds from the newest valid snapshot (or, `from` [`ReplayFrom::Genesis`],
/// from the first event: what an empty store needs) and the journal after it. With a `store`
/// that cannot carry the rebuilt ledger on (missing what the snapshot's window has dropped,
/// ahead of the journal, a record that does not read), it renews the store and rebuilds from the
/// first event, and says why.
#[allow(clippy::too_many_arguments)]
pub fn recover<S: Storage>(
    storage: &mut S,
    network: &Network,
    mac: MacMode,
    config: LedgerConfig,
    truncate_corrupt: bool,
    from: ReplayFrom,
    mut store: Option<StoreToRecover<'_>>,
    observer: &mut impl ReplayObserver,
) -> Result<Recovery, RecoveryError> {
    let temporaries_removed = remove_stale_temporaries(storage)?;
    let scanned = scan(storage)?;
    let mut torn_tail = None;
    let mut truncated = None;
    let mut snapshots_removed = Vec::new();
    if let Some(corruption) = &scanned.corruption {
        if !truncate_corrupt {
            return Err(RecoveryError::Corrupt(corruption.clone()));
        }
        let discarded = truncate_at(storage, corruption)?;
        truncated = Some((corruption.clone(), discarded));
        snapshots_removed = remove_snapshots_past(storage)?;
    } else if let Some(tail) = &scanned.torn_tail {
        repair_torn_tail(storage, &scanned)?;
        torn_tail = Some(tail.to_string());
    }
    // Scan again: the repairs changed what the writer resumes from.
    let current = scan(storage)?;
    let mut store_rebuilt = None;
    let attempt = rebuild(
        storage,
        &current,
        network,
        mac,
        config,
        from,
        store.as_ref().and_then(|store| store.store.as_ref()),
        observer,
    );
    let rebuilt = match (attempt, &mut store) {
        (Err(RecoveryError::Store(reason)), Some(to_recover)) => {
            *to_recover.store = None;
            *to_recover.store = Some((to_recover.renew)().map_err(RecoveryError::Store)?);
            store_rebuilt = Some(reason);
            rebuild(
                storage,
                &current,
                network,
                mac,
                config,
                ReplayFrom::Genesis,
                to_recover.store.as_ref(),
                observer,
            )?
        }
        (attempt, _) => attempt?,
    };
    let resume = current.resume();
    Ok(Recovery {
        rebuilt,
        scan: scanned,
        temporaries_removed,
        torn_tail,
        truncated,
        snapshots_removed,
        resume,
        store_rebuilt,
    })
}

/// Removes the snapshots that cover events past the journal's end (after a cut, the events they
/// include are gone), syncing the directory; returns their names.
fn remove_snapshots_past<S: Storage>(storage: &mut S) -> Result<Vec<String>, JournalError> {
    let journal_next = scan(storage)?.sequence_next.unwrap_or(0);
    let mut removed = Vec::new();
    for info in list_snapshots(storage)?.snapshots {
        if info.sequence_next > journal_next {
            storage.remove(&info.name).map_err(|error| {
                JournalError::storage(Operation::Remove, &info.name, None, &error)
            })?;
            removed.push(info.name);
        }
    }
    if !removed.is_empty() {
        storage
            .sync_directory()
            .map_err(|error| JournalError::storage(Operation::SyncDirectory, "", None, &error))?;
    }
    Ok(removed)
}

/// Rebuilds the state `journal` (a clean scan of `storage`) and the snapshots describe. With
/// memory by time configured, `store` is the payment store the ledger reads what its window has
/// dropped from, and the replay writes what it decides into it again (the same records, as of
/// the same sequences); it must hold everything the starting state's window has dropped and
/// nothing past the journal's end, else [`RecoveryError::Store`]: rebuild it from
/// [`ReplayFrom::Genesis`] into an empty store.
#[allow(clippy::too_many_arguments)]
pub fn rebuild<S: Storage>(
    storage: &S,
    journal: &JournalScan,
    network: &Network,
    mac: MacMode,
    config: LedgerConfig,
    from: ReplayFrom,
    store: Option<&PaymentStore>,
    observer: &mut impl ReplayObserver,
) -> Result<Rebuilt, RecoveryError> {
    if let Some(corruption) = &journal.corruption {
        return Err(RecoveryError::Corrupt(corruption.clone()));
    }
    let started = Instant::now();
    let journal_next = journal.sequence_next.unwrap_or(0);
    let journal_first = journal.sequence_first.unwrap_or(journal_next);
    let mut snapshots = list_snapshots(storage)?.snapshots;
    snapshots.sort_by_key(|snapshot| snapshot.sequence_next);
    let mut rejected = Vec::new();
    let mut start = None;
    if from == ReplayFrom::NewestSnapshot {
        for info in snapshots.iter().rev() {
            if info.sequence_next > journal_next || info.sequence_next < journal_first {
                // Ahead of what the journal holds (it never is, written after the journal was
                // durable that far, unless the journal was cut), or behind where it starts.
                if info.sequence_next > journal_next {
                    rejected.push(format!(
                        "{}: covers sequences up to {}, past the journal's end {journal_next}",
                        info.name,
                        info.sequence_next.saturating_sub(1)
                    ));
                }
                continue;
            }
            match restore(storage, &info.name, network, config) {
                Ok((route, ledger)) => {
                    start = Some((info, route, ledger));
                    break;
                }
                Err(reason) => rejected.push(format!("{}: {reason}", info.name)),
            }
        }
    }
    let (mut route, ledger, from_sequence, snapshot) = match start {
        Some((info, route, ledger)) => (
            route,
            ledger,
            info.sequence_next,
            Some(SnapshotUsed {
                name: info.name.clone(),
                next_sequence: info.sequence_next,
            }),
        ),
        None => {
            if journal_first != 0 {
                return Err(RecoveryError::Gap {
                    journal_first,
                    needed: 0,
                });
            }
            (Route::new(network), Ledger::new(network, config), 0, None)
        }
    };
    // With a replay from the first event, each snapshot on the way is a link of the chain.
    let mut chain: Vec<(u64, String)> = if from == ReplayFrom::Genesis {
        snapshots
            .iter()
            .filter(|info| info.sequence_next <= journal_next)
            .map(|info| (info.sequence_next, info.name.clone()))
            .collect()
    } else {
        Vec::new()
    };
    chain.reverse();
    let mut snapshots_checked = 0;
    let mut authorize = Authorize::new(network, mac);
    let sink = ObserverSink { observer, batch: 0 };
    let mut events_replayed = 0;
    let mut applier = match (store, config.memory) {
        (Some(store), Some(memory)) => {
            let through = store
                .through()
                .map_err(|error| RecoveryError::Store(format!("cannot be read: {error}")))?;
            let needed = ledger.store_needed_through();
            if through < needed {
                return Err(RecoveryError::Store(format!(
                    "is written through sequence {through}, behind the {needed} the starting \
                     state's window needs"
                )));
            }
            if through > journal_next {
                return Err(RecoveryError::Store(format!(
                    "is written through sequence {through}, past the journal's end {journal_next}"
                )));
            }
            Applier::Remembering(Box::new(Remembering::new(ledger, store, memory, sink)))
        }
        _ => Applier::Ledger(Box::new(ledger), sink),
    };
    read_events(storage, from_sequence, |sequence, event| {
        while let Some((next, name)) = chain.last() {
            if *next > sequence {
                break;
            }
            if *next == sequence {
                check_link(storage, name, applier.ledger())?;
                snapshots_checked += 1;
            }
            chain.pop();
        }
        let mut results = Results::default();
        authorize.check(event, &mut results);
        route.route(event, &mut results);
        applier.apply(event, &mut results)?;
        events_replayed += 1;
        Ok::<(), RecoveryError>(())
    })
    .map_err(|error| match error {
        ReadEventsError::Journal(error) => RecoveryError::Journal(error),
        ReadEventsError::Visitor(error) => error,
    })?;
    let ledger = applier.finish(journal_next.max(from_sequence))?;
    // A snapshot at the journal's very end is checked against the final state.
    if let Some((next, name)) = chain.last() {
        if *next == journal_next {
            check_link(storage, name, &ledger)?;
            snapshots_checked += 1;
        }
    }
    Ok(Rebuilt {
        route,
        ledger,
        next_sequence: journal_next.max(from_sequence),
        events_replayed,
        snapshot,
        snapshots_checked,
        snapshots_rejected: rejected,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What a replay applies events with: the ledger alone, or the ledger with its prefetch and store.
enum Applier<'o, O: ReplayObserver> {
    Ledger(Box<Ledger>, ObserverSink<'o, O>),
    Remembering(Box<Remembering<ObserverSink<'o, O>>>),
}

impl<O: ReplayObserver> Applier<'_, O> {
    fn ledger(&self) -> &Ledger {
        match self {
            Applier::Ledger(ledger, _) => ledger,
            Applier::Remembering(remembering) => remembering.ledger(),
        }
    }

    /// The ledger's part of `event` (authorize's and route's in `results`), shown to the
    /// observer.
    fn apply(&mut self, event: &Event, results: &mut Results) -> Result<(), RecoveryError> {
        match self {
            Applier::Ledger(ledger, sink) => {
                sink.batch = ledger.batch_number();
                ledger.apply(event, results, sink);
                sink.observer.applied(event, results, ledger);
            }
            Applier::Remembering(remembering) => {
                let batch = remembering.ledger().batch_number();
                remembering.sink().batch = batch;
                remembering
                    .apply(event, results)
                    .map_err(|fault| RecoveryError::Store(fault.to_string()))?;
                let (sink, ledger) = remembering.parts();
                sink.observer.applied(event, results, ledger);
            }
        }
        Ok(())
    }

    /// The ledger, the store written through `through`.
    fn finish(self, through: u64) -> Result<Ledger, RecoveryError> {
        match self {
            Applier::Ledger(ledger, _) => Ok(*ledger),
            Applier::Remembering(mut remembering) => {
                remembering
                    .flush(through)
                    .map_err(|fault| RecoveryError::Store(fault.to_string()))?;
                let mut ledger = remembering.into_ledger();
                ledger.detach_store();
                Ok(ledger)
            }
        }
    }
}

/// Route and the ledger restored from snapshot `name`, checked against its recorded hash.
pub fn restore<S: Storage>(
    storage: &S,
    name: &str,
    network: &Network,
    config: LedgerConfig,
) -> Result<(Route, Ledger), String> {
    let snapshot = read_snapshot(storage, name).map_err(|error| error.to_string())?;
    let (route, ledger) =
        restore_switch(network, config, &snapshot.payload).map_err(|error| error.to_string())?;
    let restored = ledger.state_hash();
    if restored.0 != snapshot.state_hash {
        return Err(format!(
            "restores to state hash {restored}, not the recorded {}",
            StateHash(snapshot.state_hash)
        ));
    }
    Ok((route, ledger))
}

fn check_link<S: Storage>(storage: &S, name: &str, ledger: &Ledger) -> Result<(), RecoveryError> {
    let recorded = match read_snapshot(storage, name) {
        Ok(snapshot) => StateHash(snapshot.state_hash),
        // An unreadable snapshot is no link; `verify` reports it on its own.
        Err(_) => return Ok(()),
    };
    let replayed = ledger.state_hash();
    if recorded != replayed {
        return Err(RecoveryError::ChainBroken {
            name: name.to_string(),
            recorded,
            replayed,
        });
    }
    Ok(())
}

/// The ledger's sink during a replay: hands everything to the observer.
struct ObserverSink<'o, O: ReplayObserver> {
    observer: &'o mut O,
    batch: u64,
}

impl<O: ReplayObserver> LedgerSink for ObserverSink<'_, O> {
    fn expired(&mut self, expiry: &Expiry) {
        self.observer.expired(expiry, self.batch);
    }

    fn batch_closed(&mut self, report: BatchReport) {
        self.observer.batch_closed(&report);
    }
}
