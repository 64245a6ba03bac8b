//! [`Manifest`]: what a data directory was made with — the network, the MAC mode and the ledger's
//! settings — so that a restart, a replay and every `clearway ledger` tool rebuild the same state
//! machine the journal was written for.
//!
//! A data directory holds `clearway.json` (this manifest, written once, atomically, when the
//! directory is first used), `network.toml` when the network came from a file, the journal's
//! segment files and the snapshots (docs/DURABILITY.md).

use std::path::{Path, PathBuf};

use clearway_core::event::MacMode;
use clearway_core::network::Network;
use clearway_core::stage::{LedgerConfig, LongMemory};
use serde::{Deserialize, Serialize};

/// The manifest's file name.
pub const MANIFEST_FILE: &str = "clearway.json";
/// A copy of the network file the directory was made with.
pub const NETWORK_FILE: &str = "network.toml";
/// The manifest format this build writes and reads.
const MANIFEST_FORMAT: u32 = 2;

/// Where the network came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkSource {
    /// `Network::generated(seed)`.
    Generated {
        /// The seed.
        seed: u64,
    },
    /// The file `network.toml` in the data directory, copied from the one given.
    File {
        /// Where it was copied from, for people.
        copied_from: String,
    },
}

/// What a data directory's journal was written with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The manifest format.
    pub format: u32,
    /// The network.
    pub network: NetworkSource,
    /// SHA-256 of the network as the stages read it, hex: a restart with another network is
    /// refused.
    pub network_fingerprint: String,
    /// `hmac-sha256` or `none`.
    pub mac: String,
    /// The ledger's bank timeout.
    pub bank_timeout_ns: u64,
    /// The ledger's holds table.
    pub holds_capacity: usize,
    /// The ledger's window generation.
    pub window_capacity: usize,
    /// Nanoseconds since 1970-01-01 UTC at event time zero: what the ledger judges ids' own
    /// times against.
    pub epoch_unix_ns: u64,
    /// How long a decided payment is remembered, ns.
    pub retention_ns: u64,
}

/// A data directory's manifest and the network it names, loaded.
pub struct Opened {
    /// The manifest.
    pub manifest: Manifest,
    /// The network, rebuilt.
    pub network: Network,
    /// The MAC mode.
    pub mac: MacMode,
    /// The ledger's settings.
    pub ledger_config: LedgerConfig,
}

impl Manifest {
    /// The manifest for a new directory.
    pub fn new(
        network: &Network,
        source: NetworkSource,
        mac: MacMode,
        config: LedgerConfig,
    ) -> Manifest {
        Manifest {
            format: MANIFEST_FORMAT,
            network: source,
            network_fingerprint: hex(&network.fingerprint()),
            mac: mac.to_string(),
            bank_timeout_ns: config.bank_timeout_ns,
            holds_capacity: config.holds_capacity,
            window_capacity: config.window_capacity,
            epoch_unix_ns: config.memory.map_or(0, |memory| memory.epoch_unix_ns),
            retention_ns: config.memory.map_or(0, |memory| memory.retention_ns),
        }
    }

    /// The ledger settings it records.
    pub fn ledger_config(&self) -> LedgerConfig {
        LedgerConfig {
            bank_timeout_ns: self.bank_timeout_ns,
            holds_capacity: self.holds_capacity,
            window_capacity: self.window_capacity,
            memory: (self.retention_ns > 0).then_some(LongMemory {
                retention_ns: self.retention_ns,
                epoch_unix_ns: self.epoch_unix_ns,
            }),
            ..LedgerConfig::default()
        }
    }
}

/// Whether `directory` already has a manifest.
pub fn exists(directory: &Path) -> bool {
    directory.join(MANIFEST_FILE).exists()
}

/// Reads `directory`'s manifest and rebuilds its network.
pub fn open(directory: &Path) -> Result<Opened, String> {
    let path = directory.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|error| format!("{} is not a Clearway manifest: {error}", path.display()))?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(format!(
            "{} has format {}; this build reads format {MANIFEST_FORMAT}",
            path.display(),
            manifest.format
        ));
    }
    let network = match &manifest.network {
        NetworkSource::Generated { seed } => Network::generated(*seed),
        NetworkSource::File { .. } => {
            Network::load(&directory.join(NETWORK_FILE)).map_err(|error| error.to_string())?
        }
    };
    let fingerprint = hex(&network.fingerprint());
    if fingerprint != manifest.network_fingerprint {
        return Err(format!(
            "{}: the network rebuilt from it has fingerprint {fingerprint}, not the recorded {} \
             (was {NETWORK_FILE} edited?)",
            path.display(),
            manifest.network_fingerprint
        ));
    }
    let mac = manifest
        .mac
        .parse::<MacMode>()
        .map_err(|error| format!("{}: {error}", path.display()))?;
    let ledger_config = manifest.ledger_config();
    Ok(Opened {
        manifest,
        network,
        mac,
        ledger_config,
    })
}

/// Makes `directory` a data directory: copies the network file if there is one, then writes the
/// manifest atomically (a temporary file, synced, renamed, the directory synced), so a crash
/// leaves either no manifest or a whole one.
pub fn create(
    directory: &Path,
    manifest: &Manifest,
    network_file: Option<&Path>,
) -> Result<(), String> {
    std::fs::create_dir_all(directory)
        .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
    if let Some(file) = network_file {
        let text = std::fs::read(file)
            .map_err(|error| format!("cannot read {}: {error}", file.display()))?;
        write_durably(&directory.join(NETWORK_FILE), &text)?;
    }
    let text = serde_json::to_string_pretty(manifest).expect("the manifest serialises") + "\n";
    write_durably(&directory.join(MANIFEST_FILE), text.as_bytes())?;
    sync_directory(directory)
}

fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let temporary: PathBuf = path.with_extension("tmp");
    let failed = |error: std::io::Error| format!("cannot write {}: {error}", path.display());
    let mut file = std::fs::File::create(&temporary).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    std::fs::rename(&temporary, path).map_err(failed)
}

fn sync_directory(directory: &Path) -> Result<(), String> {
    std::fs::File::open(directory)
        .and_then(|file| file.sync_all())
        .map_err(|error| format!("cannot sync {}: {error}", directory.display()))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_directory_opens_to_the_same_network_and_settings() {
        let directory =
            std::env::temp_dir().join(format!("clearway-manifest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&directory);
        let network = Network::generated(5);
        let config = LedgerConfig {
            bank_timeout_ns: 7_000_000,
            holds_capacity: 1 << 12,
            window_capacity: 1 << 14,
            memory: Some(LongMemory {
                retention_ns: 600_000_000_000,
                epoch_unix_ns: 1_796_686_205_000_000_000,
            }),
            ..LedgerConfig::default()
        };
        let manifest = Manifest::new(
            &network,
            NetworkSource::Generated { seed: 5 },
            MacMode::None,
            config,
        );
        assert!(!exists(&directory));
        create(&directory, &manifest, None).unwrap();
        assert!(exists(&directory));
        let opened = open(&directory).unwrap();
        assert_eq!(opened.manifest, manifest);
        assert_eq!(opened.network.fingerprint(), network.fingerprint());
        assert_eq!(opened.mac, MacMode::None);
        assert_eq!(opened.ledger_config, config);
        std::fs::write(
            directory.join(MANIFEST_FILE),
            serde_json::to_string(&Manifest {
                network: NetworkSource::Generated { seed: 6 },
                ..manifest
            })
            .unwrap(),
        )
        .unwrap();
        let error = open(&directory).err().unwrap_or_default();
        assert!(error.contains("fingerprint"), "{error}");
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
