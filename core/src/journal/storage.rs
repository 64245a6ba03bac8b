//! [`Storage`]: the one directory the journal and its snapshots live in, as a small trait, so
//! that tests run the journal on [`SimulatedStorage`] and inject the faults a real disk has
//! (failed and short writes, failed syncs, a full disk, flipped bits, a crash that keeps only
//! what was synced) without one. In the spirit of TigerBeetle's simulated storage.
//!
//! | file | holds |
//! | --- | --- |
//! | [`file`](mod@file) | [`FileStorage`]: real files, pre-allocated, `fdatasync` and directory `fsync` |
//! | [`simulated`] | [`SimulatedStorage`]: in memory, with faults and crashes a test sets |
//!
//! Durability is the same in both. Bytes written to a file are durable once that file's
//! [`StorageFile::sync_data`] returns. A file's name (its creation, a rename, a removal) is
//! durable once [`Storage::sync_directory`] returns. Before then a crash may keep, lose or tear
//! either.

pub mod file;
pub mod simulated;

pub use file::FileStorage;
pub use simulated::SimulatedStorage;

use std::io;

/// One directory of files. Names are plain file names: no separators, not empty.
pub trait Storage: Send + 'static {
    /// An open file of this storage.
    type File: StorageFile;

    /// The names of the files in the directory, in no particular order. Reflects creations,
    /// renames and removals at once, durable or not.
    fn list(&self) -> io::Result<Vec<String>>;

    /// Creates a file of `size_bytes` zeros, reserving the space on the disk, and opens it for
    /// writing. Fails (`AlreadyExists`) if the name is taken. The name is durable after
    /// [`Storage::sync_directory`], the size after the file's [`StorageFile::sync_data`].
    fn create(&mut self, name: &str, size_bytes: u64) -> io::Result<Self::File>;

    /// Opens an existing file for writing.
    fn open(&mut self, name: &str) -> io::Result<Self::File>;

    /// The whole file as it reads now, synced or not.
    fn read(&self, name: &str) -> io::Result<Vec<u8>>;

    /// Renames `from` to `to`, replacing any file called `to` atomically. Durable after
    /// [`Storage::sync_directory`]; a crash before then may leave either name.
    fn rename(&mut self, from: &str, to: &str) -> io::Result<()>;

    /// Removes the file. Durable after [`Storage::sync_directory`].
    fn remove(&mut self, name: &str) -> io::Result<()>;

    /// Makes every creation, rename and removal so far durable (`fsync` of the directory).
    fn sync_directory(&mut self) -> io::Result<()>;
}

/// A file open for writing.
pub trait StorageFile: Send {
    /// Writes all of `bytes` at `offset`, growing the file if they reach past its end. Not
    /// durable until [`StorageFile::sync_data`]; an error may leave a prefix of the bytes
    /// written.
    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()>;

    /// Makes every byte written to this file, and its size, durable (`fdatasync`). After an
    /// error, nothing written since the last successful sync is known to be durable.
    fn sync_data(&mut self) -> io::Result<()>;

    /// The file's size now.
    fn size_bytes(&self) -> io::Result<u64>;

    /// Sets the file's length: a shorter one drops the tail, a longer one adds zeros. Durable
    /// after [`StorageFile::sync_data`].
    fn truncate(&mut self, size_bytes: u64) -> io::Result<()>;
}

/// `name` if it is a plain file name; `InvalidInput` otherwise.
pub(crate) fn check_name(name: &str) -> io::Result<&str> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not a plain file name"),
        ));
    }
    Ok(name)
}

/// The error a full disk gives, saying so: `ENOSPC`'s kind, and a message that names the disk
/// being full and what could not be stored.
pub(crate) fn disk_full(what: std::fmt::Arguments<'_>) -> io::Error {
    io::Error::new(
        io::Error::from_raw_os_error(libc::ENOSPC).kind(),
        format!("the disk is full (No space left on device): cannot {what}"),
    )
}

/// Whether `error` is a full disk's.
pub fn is_disk_full(error_kind: io::ErrorKind) -> bool {
    error_kind == io::Error::from_raw_os_error(libc::ENOSPC).kind()
}
