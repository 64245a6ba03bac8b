//! A durable run's start: the data directory's manifest made or checked, the state recovered
//! from its journal and snapshots, and the journal writer opened where the journal ends.

use std::path::Path;

use clearway_core::event::MacMode;
use clearway_core::journal::{
    recover, Durability, FileStorage, JournalConfig, JournalWriter, ReplayFrom, ReplayObserver,
    StoreToRecover,
};
use clearway_core::network::Network;
use clearway_core::stage::{BatchReport, Ledger, LedgerConfig, Route};
use clearway_core::store::PaymentStore;
use serde::Serialize;

use super::args::{DurabilityArg, RunArgs};
use crate::data_dir::{self, hex, Manifest, NetworkSource};
use crate::exit::Failure;

/// What a durable run starts from.
pub struct Durable {
    /// The network the directory was made with.
    pub network: Network,
    /// The ledger's settings it was made with.
    pub ledger_config: LedgerConfig,
    /// The state recovered, for route and the ledger to continue from.
    pub route: Route,
    /// The ledger recovered.
    pub ledger: Ledger,
    /// The sequence the run's first event gets.
    pub next_sequence: u64,
    /// The journal writer, positioned after the last durable record.
    pub writer: JournalWriter<FileStorage>,
    /// Storage for the snapshot writer.
    pub snapshot_storage: FileStorage,
    /// What recovery did, for the summary.
    pub recovery: RecoveryFigures,
    /// How the writer syncs.
    pub durability: Durability,
    /// The payment store, consistent with the recovered ledger.
    pub store: PaymentStore,
}

/// What recovery found and did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RecoveryFigures {
    /// Whether the directory held a journal already.
    pub resumed: bool,
    /// The snapshot it started from.
    pub snapshot: Option<String>,
    /// Journal events replayed after it.
    pub events_replayed: u64,
    /// The torn last record cut off, if there was one.
    pub torn_tail: Option<String>,
    /// The corrupt record the journal was cut at (`--truncate-corrupt`), and what it discarded.
    pub truncated: Option<String>,
    /// Snapshots passed over, each with why.
    pub snapshots_rejected: Vec<String>,
    /// Why the payment store was rebuilt from the journal's first event, if it was: missing,
    /// damaged, behind what the snapshot's window needs, or ahead of the journal.
    pub store_rebuilt: Option<String>,
    /// The first sequence of this run.
    pub next_sequence: u64,
    /// Seconds recovery took.
    pub seconds: f64,
}

/// Writes the settlement reports of batches closed during recovery's replay (the same files the
/// crashed run wrote or was about to write).
struct ReportsDuringReplay<'a> {
    out: &'a Path,
    error: Option<String>,
}

impl ReplayObserver for ReportsDuringReplay<'_> {
    fn batch_closed(&mut self, report: &BatchReport) {
        if self.error.is_none() {
            if let Err(error) = std::fs::create_dir_all(self.out)
                .and_then(|()| report.write_to(self.out).map(|_| ()))
            {
                self.error = Some(format!(
                    "cannot write a settlement report in {}: {error}",
                    self.out.display()
                ));
            }
        }
    }
}

/// Opens or makes `directory` for `args`, recovers, and opens the journal writer.
pub fn open(args: &RunArgs, directory: &Path, sized: LedgerConfig) -> Result<Durable, Failure> {
    let unreadable = Failure::unreadable;
    let resumed = data_dir::exists(directory);
    let (network, ledger_config) = if resumed {
        let opened = data_dir::open(directory).map_err(unreadable)?;
        check_flags_agree(
            args,
            directory,
            &opened.manifest,
            opened.mac,
            &opened.network,
        )?;
        (opened.network, opened.ledger_config)
    } else {
        refuse_stray_journal(directory)?;
        let (network, source) = match &args.config {
            Some(path) => (
                Network::load(path).map_err(|error| unreadable(error.to_string()))?,
                NetworkSource::File {
                    copied_from: path.display().to_string(),
                },
            ),
            None => (
                Network::generated(args.seed),
                NetworkSource::Generated { seed: args.seed },
            ),
        };
        let manifest = Manifest::new(&network, source, args.mac, sized);
        data_dir::create(directory, &manifest, args.config.as_deref()).map_err(unreadable)?;
        (network, sized)
    };
    let mut storage = FileStorage::open(directory)
        .map_err(|error| unreadable(format!("cannot open {}: {error}", directory.display())))?;
    let batches = args.measure.batches_dir();
    let mut reports = ReportsDuringReplay {
        out: &batches,
        error: None,
    };
    // The store is derived state: missing, damaged, behind or ahead of what the journal and
    // the snapshot say, it is rebuilt from the journal's first event, and the run says why.
    let store_folder = directory.join(super::memory::STORE_DIR);
    let store_was_there = store_folder.exists();
    let (store, mut store_rebuilt) = match PaymentStore::open(&store_folder) {
        Ok(store) if store_was_there || !resumed => (store, None),
        Ok(store) => (store, Some("it was missing".to_string())),
        Err(error) => (
            super::memory::empty_store(&store_folder).map_err(unreadable)?,
            Some(format!("it could not be opened: {error}")),
        ),
    };
    let from = if store_rebuilt.is_some() {
        ReplayFrom::Genesis
    } else {
        ReplayFrom::NewestSnapshot
    };
    let mut store = Some(store);
    let mut renew = || super::memory::empty_store(&store_folder);
    let recovery = recover(
        &mut storage,
        &network,
        args.mac,
        ledger_config,
        args.durable.truncate_corrupt,
        from,
        Some(StoreToRecover {
            store: &mut store,
            renew: &mut renew,
        }),
        &mut reports,
    )
    .map_err(|error| Failure::failed(format!("cannot recover {}: {error}", directory.display())))?;
    if let Some(reason) = &recovery.store_rebuilt {
        store_rebuilt = Some(format!("it {reason}"));
    }
    if let Some(error) = reports.error {
        return Err(unreadable(error));
    }
    let rebuilt = recovery.rebuilt;
    let durability = match args.durable.durability.unwrap_or(DurabilityArg::Fsync) {
        DurabilityArg::Fsync => Durability::Fsync,
        DurabilityArg::None => Durability::None,
    };
    let config = JournalConfig {
        segment_size_bytes: args.durable.segment_size_mib * 1024 * 1024,
        durability,
        ..JournalConfig::default()
    };
    let mut journal_storage = FileStorage::open(directory)
        .map_err(|error| unreadable(format!("cannot open {}: {error}", directory.display())))?;
    if args.durable.no_preallocate {
        journal_storage = journal_storage.without_preallocation();
    }
    let writer = JournalWriter::create(
        journal_storage,
        config,
        rebuilt.next_sequence,
        recovery.resume,
    )
    .map_err(|error| Failure::failed(format!("cannot open the journal: {error}")))?;
    let figures = RecoveryFigures {
        resumed,
        snapshot: rebuilt
            .snapshot
            .as_ref()
            .map(|snapshot| snapshot.name.clone()),
        events_replayed: rebuilt.events_replayed,
        torn_tail: recovery.torn_tail,
        truncated: recovery.truncated.map(|(corruption, discarded)| {
            let mut said = format!("cut at {corruption}: {discarded} events discarded");
            if !recovery.snapshots_removed.is_empty() {
                said.push_str(&format!(
                    ", and the snapshots that covered them removed ({})",
                    recovery.snapshots_removed.join(", ")
                ));
            }
            said
        }),
        snapshots_rejected: rebuilt.snapshots_rejected,
        store_rebuilt,
        next_sequence: rebuilt.next_sequence,
        seconds: rebuilt.seconds,
    };
    Ok(Durable {
        network,
        ledger_config,
        route: rebuilt.route,
        ledger: rebuilt.ledger,
        next_sequence: rebuilt.next_sequence,
        writer,
        snapshot_storage: storage,
        recovery: figures,
        durability,
        store: store.expect("recovery hands the store back"),
    })
}

/// A restart must run the state machine the journal was written for: the same network, MAC
/// mode and bank timeout. Anything else is refused rather than silently replaced.
fn check_flags_agree(
    args: &RunArgs,
    directory: &Path,
    manifest: &Manifest,
    mac: MacMode,
    network: &Network,
) -> Result<(), Failure> {
    let refuse = |what: String| {
        Err(Failure::usage(format!(
            "{} was made with {what}; a restart must run the same state machine (or use a new \
             --data-dir)",
            directory.display()
        )))
    };
    if args.mac != mac {
        return refuse(format!("--mac {}, not {}", manifest.mac, args.mac));
    }
    if let Some(timeout_ms) = args.bank_timeout_ms {
        if timeout_ms * 1_000_000 != manifest.bank_timeout_ns {
            return refuse(format!(
                "--bank-timeout-ms {}, not {timeout_ms}",
                manifest.bank_timeout_ns / 1_000_000
            ));
        }
    }
    if let Some(retention_ms) = args.retention {
        if retention_ms * 1_000_000 != manifest.retention_ns {
            return refuse(format!(
                "--retention {}, not {}",
                super::memory::format_retention(manifest.retention_ns / 1_000_000),
                super::memory::format_retention(retention_ms)
            ));
        }
    }
    if let Some(path) = &args.config {
        let given = Network::load(path).map_err(|error| Failure::unreadable(error.to_string()))?;
        if given.fingerprint() != network.fingerprint() {
            return refuse(format!(
                "another network (fingerprint {}), not {} (fingerprint {})",
                manifest.network_fingerprint,
                path.display(),
                hex(&given.fingerprint())
            ));
        }
    }
    Ok(())
}

/// Journal files without a manifest are not ours to reuse.
fn refuse_stray_journal(directory: &Path) -> Result<(), Failure> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Ok(());
    };
    let stray = entries.flatten().any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        name.ends_with(".seg") || name.ends_with(".snap")
    });
    if stray {
        return Err(Failure::unreadable(format!(
            "{} holds journal files but no {}: not a data directory this build made",
            directory.display(),
            data_dir::MANIFEST_FILE
        )));
    }
    Ok(())
}
