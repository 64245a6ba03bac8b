//! [`SimulatedStorage`]: a directory in memory that remembers what is durable, so a test can
//! inject a disk's faults and crash the "machine" at any point, then look at what a restarted
//! process would find. Test tooling, not the hot path: one mutex guards the whole disk.
//!
//! The model, per file: the bytes as they read now, the bytes as the last successful
//! [`sync_data`](StorageFile::sync_data) left them (durable), and the writes and length changes
//! since (unsynced). Per directory: the names as they are now, the names as the last successful
//! [`sync_directory`](Storage::sync_directory) left them, and the creations, renames and removals
//! since. A [`crash`](SimulatedStorage::crash) keeps every durable byte and name; of the unsynced
//! directory changes it keeps a prefix (file systems journal their metadata in order); each
//! unsynced write it keeps whole, drops, or tears to a prefix, each length change it keeps or
//! drops, each choice drawn from the seed.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{check_name, disk_full, Storage, StorageFile};

/// A directory in memory. Cloning gives another handle on the same disk, so a test keeps one
/// while a writer owns another.
#[derive(Clone, Debug, Default)]
pub struct SimulatedStorage {
    disk: Arc<Mutex<Disk>>,
}

/// The calls a [`SimulatedStorage`] has answered, counted from its creation (or its crash).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OperationCounts {
    /// Every call of [`Storage`] and [`StorageFile`] methods, failed ones included.
    pub calls: u64,
    /// Calls of [`StorageFile::write_at`].
    pub writes: u64,
    /// Calls of [`StorageFile::sync_data`] and [`Storage::sync_directory`].
    pub syncs: u64,
}

type FileId = u64;

#[derive(Debug, Default)]
struct Disk {
    /// The directory as the process sees it.
    entries: BTreeMap<String, FileId>,
    /// The directory as the last `sync_directory` left it.
    durable_entries: BTreeMap<String, FileId>,
    /// Changes to the directory since the last `sync_directory`, oldest first.
    directory_log: Vec<DirectoryChange>,
    /// Every file's contents, by id; a removed file stays until a crash, in case its removal is
    /// lost.
    files: BTreeMap<FileId, FileState>,
    file_id_next: FileId,
    /// The disk's size: the files the directory names may hold at most this many bytes.
    size_limit_bytes: Option<u64>,
    faults: Faults,
    counts: OperationCounts,
}

#[derive(Clone, Debug)]
enum DirectoryChange {
    Link { name: String, id: FileId },
    Rename { from: String, to: String },
    Unlink { name: String },
}

#[derive(Clone, Debug, Default)]
struct FileState {
    /// The bytes as they read now.
    current: Vec<u8>,
    /// The bytes as the last successful sync left them.
    durable: Vec<u8>,
    /// Writes and length changes since then, oldest first.
    unsynced: Vec<FileChange>,
}

#[derive(Clone, Debug)]
enum FileChange {
    Write { offset: usize, bytes: Vec<u8> },
    SetLength(usize),
}

/// Faults armed by the test, each firing once, at a count of the operation it is for.
#[derive(Clone, Copy, Debug, Default)]
struct Faults {
    /// The write (by `counts.writes`) that fails with nothing landing.
    write_fails_at: Option<u64>,
    /// The write that lands only its first bytes, then fails.
    write_short_at: Option<(u64, usize)>,
    /// The sync (by `counts.syncs`) that fails.
    sync_fails_at: Option<u64>,
    /// The call (by `counts.calls`) from which every call fails: the machine has stopped.
    halt_at: Option<u64>,
}

impl SimulatedStorage {
    /// An empty directory on a disk of unlimited size.
    pub fn new() -> SimulatedStorage {
        SimulatedStorage::default()
    }

    /// The `n`th write from now (1: the next) fails with an I/O error, and none of its bytes
    /// land.
    pub fn fail_nth_write(&self, n: u64) {
        let mut disk = self.lock();
        disk.faults.write_fails_at = Some(disk.counts.writes + n.max(1));
    }

    /// The `n`th write from now lands only its first `landed_bytes` bytes (unsynced, like any
    /// write), then fails with an I/O error.
    pub fn shorten_nth_write(&self, n: u64, landed_bytes: usize) {
        let mut disk = self.lock();
        disk.faults.write_short_at = Some((disk.counts.writes + n.max(1), landed_bytes));
    }

    /// The `n`th sync from now, of a file or of the directory, fails with an I/O error; what it
    /// was to make durable stays unsynced.
    pub fn fail_nth_sync(&self, n: u64) {
        let mut disk = self.lock();
        disk.faults.sync_fails_at = Some(disk.counts.syncs + n.max(1));
    }

    /// The machine stops after `n` more calls: from the one after them on, every call fails and
    /// changes nothing. A test halts at a random point, then [`crash`](Self::crash)es, to crash
    /// between any two storage operations (between a write and its sync, a creation and the
    /// directory's sync).
    pub fn halt_after_calls(&self, n: u64) {
        let mut disk = self.lock();
        disk.faults.halt_at = Some(disk.counts.calls + n + 1);
    }

    /// Limits the bytes the directory's files may hold together; `None` lifts the limit. A
    /// creation or a write that would go beyond it fails as a full disk does, and changes
    /// nothing.
    pub fn set_size_limit_bytes(&self, size_limit_bytes: Option<u64>) {
        self.lock().size_limit_bytes = size_limit_bytes;
    }

    /// Flips bit `bit` (0..8) of byte `offset` of `name`, as it reads now and as a crash would
    /// find it: damage on the medium.
    pub fn flip_bit(&self, name: &str, offset: u64, bit: u8) -> io::Result<()> {
        let mut disk = self.lock();
        let id = disk.id(name)?;
        let state = disk.files.get_mut(&id).expect("a named file has contents");
        let at = usize::try_from(offset).unwrap_or(usize::MAX);
        if at >= state.current.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name} has no byte at offset {offset}"),
            ));
        }
        state.current[at] ^= 1 << (bit % 8);
        if let Some(byte) = state.durable.get_mut(at) {
            *byte ^= 1 << (bit % 8);
        }
        Ok(())
    }

    /// What a process restarted after the machine crashed now would find, by `seed`: a new,
    /// independent disk with every synced byte and name, and each unsynced change kept,
    /// dropped or torn as the module doc says. The disk's size limit carries over; armed faults
    /// and counts do not. This handle is left as it was.
    pub fn crash(&self, seed: u64) -> SimulatedStorage {
        let disk = self.lock();
        let mut random = SplitMix64(seed);
        let kept = random.below(disk.directory_log.len() as u64 + 1) as usize;
        let mut entries = disk.durable_entries.clone();
        for change in &disk.directory_log[..kept] {
            apply(&mut entries, change);
        }
        let mut files = BTreeMap::new();
        for &id in entries.values() {
            let state = &disk.files[&id];
            let mut image = state.durable.clone();
            for change in &state.unsynced {
                match change {
                    FileChange::Write { offset, bytes } => match random.below(3) {
                        0 => write_into(&mut image, *offset, bytes),
                        1 => {}
                        _ => {
                            let landed = random.below(bytes.len() as u64) as usize;
                            write_into(&mut image, *offset, &bytes[..landed]);
                        }
                    },
                    FileChange::SetLength(length) => {
                        if random.below(2) == 0 {
                            image.resize(*length, 0);
                        }
                    }
                }
            }
            files.insert(
                id,
                FileState {
                    current: image.clone(),
                    durable: image,
                    unsynced: Vec::new(),
                },
            );
        }
        SimulatedStorage {
            disk: Arc::new(Mutex::new(Disk {
                durable_entries: entries.clone(),
                entries,
                directory_log: Vec::new(),
                files,
                file_id_next: disk.file_id_next,
                size_limit_bytes: disk.size_limit_bytes,
                faults: Faults::default(),
                counts: OperationCounts::default(),
            })),
        }
    }

    /// The calls answered so far.
    pub fn counts(&self) -> OperationCounts {
        self.lock().counts
    }

    fn lock(&self) -> MutexGuard<'_, Disk> {
        // A test that panicked while holding the lock leaves the disk as consistent as any
        // other moment: every method changes it in one step.
        self.disk
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Disk {
    fn id(&self, name: &str) -> io::Result<FileId> {
        self.entries
            .get(name)
            .copied()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no file named {name}")))
    }

    /// Counts a call; fails it if the machine has halted.
    fn call(&mut self) -> io::Result<()> {
        self.counts.calls += 1;
        match self.faults.halt_at {
            Some(at) if self.counts.calls >= at => {
                Err(io::Error::other("the simulated machine has halted"))
            }
            _ => Ok(()),
        }
    }

    /// The bytes the directory's files hold now.
    fn used_bytes(&self) -> u64 {
        self.entries
            .values()
            .map(|id| self.files[id].current.len() as u64)
            .sum()
    }

    /// Fails as a full disk does if `growth_bytes` more would go beyond the limit.
    fn reserve(&self, growth_bytes: u64, what: std::fmt::Arguments<'_>) -> io::Result<()> {
        match self.size_limit_bytes {
            Some(limit) if self.used_bytes() + growth_bytes > limit => Err(disk_full(what)),
            _ => Ok(()),
        }
    }

    fn write(&mut self, id: FileId, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.call()?;
        self.counts.writes += 1;
        let offset = usize::try_from(offset)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "offset beyond memory"))?;
        if self.faults.write_fails_at == Some(self.counts.writes) {
            self.faults.write_fails_at = None;
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        let mut landed = bytes;
        let mut short = false;
        if let Some((at, landed_bytes)) = self.faults.write_short_at {
            if at == self.counts.writes {
                self.faults.write_short_at = None;
                landed = &bytes[..landed_bytes.min(bytes.len())];
                short = true;
            }
        }
        let length = self.files[&id].current.len();
        let growth_bytes = (offset + landed.len()).saturating_sub(length) as u64;
        self.reserve(
            growth_bytes,
            format_args!("write {} bytes at offset {offset}", bytes.len()),
        )?;
        let state = self.files.get_mut(&id).expect("an open file has contents");
        write_into(&mut state.current, offset, landed);
        if !landed.is_empty() {
            state.unsynced.push(FileChange::Write {
                offset,
                bytes: landed.to_vec(),
            });
        }
        if short {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        Ok(())
    }

    /// Counts a sync and fails it if one is armed for this count.
    fn sync(&mut self) -> io::Result<()> {
        self.call()?;
        self.counts.syncs += 1;
        if self.faults.sync_fails_at == Some(self.counts.syncs) {
            self.faults.sync_fails_at = None;
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        Ok(())
    }
}

/// `entries` after `change`.
fn apply(entries: &mut BTreeMap<String, FileId>, change: &DirectoryChange) {
    match change {
        DirectoryChange::Link { name, id } => {
            entries.insert(name.clone(), *id);
        }
        DirectoryChange::Rename { from, to } => {
            if let Some(id) = entries.remove(from) {
                entries.insert(to.clone(), id);
            }
        }
        DirectoryChange::Unlink { name } => {
            entries.remove(name);
        }
    }
}

/// `image` with `bytes` written at `offset`, grown with zeros if they reach past its end.
fn write_into(image: &mut Vec<u8>, offset: usize, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let end = offset + bytes.len();
    if image.len() < end {
        image.resize(end, 0);
    }
    image[offset..end].copy_from_slice(bytes);
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a crash's choices, reproducible from its seed.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`; `bound` is at least 1.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

impl Storage for SimulatedStorage {
    type File = SimulatedFile;

    fn list(&self) -> io::Result<Vec<String>> {
        let mut disk = self.lock();
        disk.call()?;
        Ok(disk.entries.keys().cloned().collect())
    }

    fn create(&mut self, name: &str, size_bytes: u64) -> io::Result<SimulatedFile> {
        let mut disk = self.lock();
        disk.call()?;
        check_name(name)?;
        if disk.entries.contains_key(name) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{name} exists"),
            ));
        }
        disk.reserve(
            size_bytes,
            format_args!("reserve {size_bytes} bytes for {name}"),
        )?;
        let length = usize::try_from(size_bytes)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "size beyond memory"))?;
        let id = disk.file_id_next;
        disk.file_id_next += 1;
        disk.files.insert(
            id,
            FileState {
                current: vec![0; length],
                durable: Vec::new(),
                unsynced: vec![FileChange::SetLength(length)],
            },
        );
        disk.entries.insert(name.to_string(), id);
        disk.directory_log.push(DirectoryChange::Link {
            name: name.to_string(),
            id,
        });
        Ok(SimulatedFile {
            disk: Arc::clone(&self.disk),
            id,
        })
    }

    fn open(&mut self, name: &str) -> io::Result<SimulatedFile> {
        let mut disk = self.lock();
        disk.call()?;
        let id = disk.id(name)?;
        Ok(SimulatedFile {
            disk: Arc::clone(&self.disk),
            id,
        })
    }

    fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        let mut disk = self.lock();
        disk.call()?;
        let id = disk.id(name)?;
        Ok(disk.files[&id].current.clone())
    }

    fn rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        let mut disk = self.lock();
        disk.call()?;
        check_name(to)?;
        let id = disk.id(from)?;
        disk.entries.remove(from);
        disk.entries.insert(to.to_string(), id);
        disk.directory_log.push(DirectoryChange::Rename {
            from: from.to_string(),
            to: to.to_string(),
        });
        Ok(())
    }

    fn remove(&mut self, name: &str) -> io::Result<()> {
        let mut disk = self.lock();
        disk.call()?;
        disk.id(name)?;
        disk.entries.remove(name);
        disk.directory_log.push(DirectoryChange::Unlink {
            name: name.to_string(),
        });
        Ok(())
    }

    fn sync_directory(&mut self) -> io::Result<()> {
        let mut disk = self.lock();
        disk.sync()?;
        disk.durable_entries = disk.entries.clone();
        disk.directory_log.clear();
        Ok(())
    }
}

/// An open file of a [`SimulatedStorage`]: it stays the same file when renamed or removed.
#[derive(Debug)]
pub struct SimulatedFile {
    disk: Arc<Mutex<Disk>>,
    id: FileId,
}

impl SimulatedFile {
    fn lock(&self) -> MutexGuard<'_, Disk> {
        self.disk
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl StorageFile for SimulatedFile {
    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let id = self.id;
        self.lock().write(id, offset, bytes)
    }

    fn sync_data(&mut self) -> io::Result<()> {
        let id = self.id;
        let mut disk = self.lock();
        disk.sync()?;
        let state = disk.files.get_mut(&id).expect("an open file has contents");
        state.durable = state.current.clone();
        state.unsynced.clear();
        Ok(())
    }

    fn size_bytes(&self) -> io::Result<u64> {
        let mut disk = self.lock();
        disk.call()?;
        Ok(disk.files[&self.id].current.len() as u64)
    }

    fn truncate(&mut self, size_bytes: u64) -> io::Result<()> {
        let id = self.id;
        let mut disk = self.lock();
        disk.call()?;
        let length = usize::try_from(size_bytes)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "size beyond memory"))?;
        let growth_bytes = length.saturating_sub(disk.files[&id].current.len()) as u64;
        disk.reserve(
            growth_bytes,
            format_args!("grow a file to {size_bytes} bytes"),
        )?;
        let state = disk.files.get_mut(&id).expect("an open file has contents");
        state.current.resize(length, 0);
        state.unsynced.push(FileChange::SetLength(length));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::storage::is_disk_full;

    const SEEDS: u64 = 200;

    /// A storage with `a`, durable, holding 8 synced bytes of 1 and then 8 unsynced bytes of 2.
    fn synced_then_unsynced() -> SimulatedStorage {
        let mut storage = SimulatedStorage::new();
        let mut file = storage.create("a", 0).unwrap();
        storage.sync_directory().unwrap();
        file.write_at(0, &[1; 8]).unwrap();
        file.sync_data().unwrap();
        file.write_at(8, &[2; 8]).unwrap();
        assert_eq!(storage.read("a").unwrap(), [[1u8; 8], [2; 8]].concat());
        storage
    }

    #[test]
    fn a_crash_keeps_synced_bytes_and_keeps_drops_or_tears_unsynced_ones() {
        let storage = synced_then_unsynced();
        let (mut whole, mut dropped, mut torn) = (0, 0, 0);
        for seed in 0..SEEDS {
            let bytes = storage.crash(seed).read("a").unwrap();
            assert_eq!(bytes[..8], [1; 8], "seed {seed}: synced bytes lost");
            let tail = &bytes[8..];
            assert!(tail.iter().all(|&byte| byte == 2), "seed {seed}: {tail:?}");
            match tail.len() {
                8 => whole += 1,
                0 => dropped += 1,
                _ => torn += 1,
            }
        }
        assert!(
            whole > 0 && dropped > 0 && torn > 0,
            "{whole} {dropped} {torn}"
        );
        // The handle crashed from is untouched.
        assert_eq!(storage.read("a").unwrap().len(), 16);
    }

    #[test]
    fn names_are_durable_only_after_the_directory_is_synced() {
        let mut storage = SimulatedStorage::new();
        let mut file = storage.create("a.tmp", 4).unwrap();
        file.write_at(0, b"data").unwrap();
        file.sync_data().unwrap();
        storage.rename("a.tmp", "a").unwrap();
        let mut outcomes = std::collections::BTreeSet::new();
        for seed in 0..SEEDS {
            let names = storage.crash(seed).list().unwrap();
            assert!(names.len() <= 1, "seed {seed}: {names:?}");
            outcomes.insert(names);
        }
        // Lost entirely, created but not renamed, renamed: each happens for some seed.
        assert_eq!(outcomes.len(), 3, "{outcomes:?}");
        storage.sync_directory().unwrap();
        for seed in 0..SEEDS {
            let after = storage.crash(seed);
            assert_eq!(after.list().unwrap(), vec!["a".to_string()], "seed {seed}");
            assert_eq!(after.read("a").unwrap(), b"data", "seed {seed}");
        }
    }

    #[test]
    fn an_armed_write_fault_fails_that_write_only_and_nothing_lands() {
        let mut storage = SimulatedStorage::new();
        let mut file = storage.create("a", 0).unwrap();
        storage.fail_nth_write(2);
        file.write_at(0, b"one").unwrap();
        let error = file.write_at(3, b"two").unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EIO));
        assert_eq!(storage.read("a").unwrap(), b"one");
        file.write_at(3, b"three").unwrap();
        assert_eq!(storage.read("a").unwrap(), b"onethree");
        assert_eq!(storage.counts().writes, 3);
    }

    #[test]
    fn a_short_write_lands_a_prefix_and_fails() {
        let mut storage = SimulatedStorage::new();
        let mut file = storage.create("a", 0).unwrap();
        storage.shorten_nth_write(1, 2);
        assert!(file.write_at(0, b"abcdef").is_err());
        assert_eq!(storage.read("a").unwrap(), b"ab");
    }

    #[test]
    fn a_failed_sync_leaves_its_bytes_unsynced() {
        let mut storage = SimulatedStorage::new();
        let mut file = storage.create("a", 0).unwrap();
        storage.sync_directory().unwrap();
        file.write_at(0, b"abc").unwrap();
        storage.fail_nth_sync(1);
        assert_eq!(
            file.sync_data().unwrap_err().raw_os_error(),
            Some(libc::EIO)
        );
        let lost = (0..SEEDS).any(|seed| storage.crash(seed).read("a").unwrap() != b"abc");
        assert!(lost, "a crash after a failed sync always kept the bytes");
        file.sync_data().unwrap();
        assert!((0..SEEDS).all(|seed| storage.crash(seed).read("a").unwrap() == b"abc"));
    }

    #[test]
    fn a_full_disk_refuses_creations_and_growth_and_says_so() {
        let mut storage = SimulatedStorage::new();
        storage.set_size_limit_bytes(Some(100));
        let mut file = storage.create("a", 60).unwrap();
        let refused = storage.create("b", 41).map(|_| ()).unwrap_err();
        assert!(is_disk_full(refused.kind()), "{refused}");
        assert!(refused.to_string().contains("disk is full"), "{refused}");
        assert_eq!(storage.list().unwrap(), vec!["a".to_string()]);
        file.write_at(50, &[1; 50]).unwrap();
        let refused = file.write_at(100, &[1]).unwrap_err();
        assert!(is_disk_full(refused.kind()), "{refused}");
        assert_eq!(storage.read("a").unwrap().len(), 100);
    }

    #[test]
    fn a_halted_machine_fails_every_call_and_changes_nothing() {
        let mut storage = SimulatedStorage::new();
        let mut file = storage.create("a", 0).unwrap();
        storage.halt_after_calls(1);
        file.write_at(0, b"landed").unwrap();
        assert!(file.sync_data().is_err());
        assert!(file.write_at(6, b"lost").is_err());
        assert!(storage.create("b", 0).is_err());
        assert!(storage.list().is_err());
        for seed in 0..SEEDS {
            let after = storage.crash(seed);
            assert!(
                !after.list().unwrap().contains(&"b".to_string()),
                "seed {seed}"
            );
            if let Ok(bytes) = after.read("a") {
                assert!(b"landed".starts_with(&bytes), "seed {seed}: {bytes:?}");
            }
        }
    }

    #[test]
    fn a_flipped_bit_reads_flipped_before_and_after_a_crash() {
        let mut storage = synced_then_unsynced();
        storage.sync_directory().unwrap();
        storage.flip_bit("a", 3, 7).unwrap();
        assert_eq!(storage.read("a").unwrap()[3], 1 | 0x80);
        for seed in 0..10 {
            assert_eq!(storage.crash(seed).read("a").unwrap()[3], 1 | 0x80);
        }
        assert!(storage.flip_bit("a", 99, 0).is_err());
        assert!(storage.flip_bit("b", 0, 0).is_err());
    }
}
