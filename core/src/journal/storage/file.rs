//! [`FileStorage`]: the journal's directory on a real file system.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{check_name, disk_full, Storage, StorageFile};

/// A directory of real files.
#[derive(Debug)]
pub struct FileStorage {
    directory: PathBuf,
    /// Whether new files get their blocks reserved at creation (`posix_fallocate`) or are only
    /// sized (`set_len`: sparse, blocks allocated as written, each sync then updates metadata).
    preallocate: bool,
}

impl FileStorage {
    /// The storage in `directory`, created (with its parents) if missing.
    pub fn open(directory: impl AsRef<Path>) -> io::Result<FileStorage> {
        let directory = directory.as_ref().to_path_buf();
        std::fs::create_dir_all(&directory)?;
        Ok(FileStorage {
            directory,
            preallocate: true,
        })
    }

    /// The same storage, creating files sparse instead of pre-allocated: they still read as
    /// zeros past what is written, but a full disk shows only when a write needs a block.
    pub fn without_preallocation(mut self) -> FileStorage {
        self.preallocate = false;
        self
    }

    /// The directory.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    fn path(&self, name: &str) -> io::Result<PathBuf> {
        Ok(self.directory.join(check_name(name)?))
    }
}

impl Storage for FileStorage {
    type File = FileHandle;

    fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.directory)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                if let Ok(name) = entry.file_name().into_string() {
                    names.push(name);
                }
            }
        }
        Ok(names)
    }

    fn create(&mut self, name: &str, size_bytes: u64) -> io::Result<FileHandle> {
        let path = self.path(name)?;
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        let sized = if self.preallocate {
            preallocate(&file, name, size_bytes)
        } else {
            file.set_len(size_bytes)
        };
        if let Err(error) = sized {
            // Leave no half-made file behind for a scan to puzzle over; the error is what counts.
            let _ = std::fs::remove_file(&path);
            return Err(error);
        }
        Ok(FileHandle {
            file,
            name: name.to_string(),
        })
    }

    fn open(&mut self, name: &str) -> io::Result<FileHandle> {
        let file = OpenOptions::new().write(true).open(self.path(name)?)?;
        Ok(FileHandle {
            file,
            name: name.to_string(),
        })
    }

    fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.path(name)?)
    }

    fn rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        std::fs::rename(self.path(from)?, self.path(to)?)
    }

    fn remove(&mut self, name: &str) -> io::Result<()> {
        std::fs::remove_file(self.path(name)?)
    }

    fn sync_directory(&mut self) -> io::Result<()> {
        File::open(&self.directory)?.sync_all()
    }
}

/// An open file of a [`FileStorage`].
#[derive(Debug)]
pub struct FileHandle {
    file: File,
    name: String,
}

impl StorageFile for FileHandle {
    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.file
            .write_all_at(bytes, offset)
            .map_err(|error| match error.raw_os_error() {
                Some(libc::ENOSPC) => disk_full(format_args!(
                    "write {} bytes to {} at offset {offset}",
                    bytes.len(),
                    self.name
                )),
                _ => error,
            })
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn size_bytes(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    fn truncate(&mut self, size_bytes: u64) -> io::Result<()> {
        self.file.set_len(size_bytes)
    }
}

/// Reserves `size_bytes` of disk for `file` so that writes into it never find the disk full and
/// never allocate blocks: the file reads as zeros until written.
#[cfg(target_os = "linux")]
fn preallocate(file: &File, name: &str, size_bytes: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    if size_bytes == 0 {
        return Ok(());
    }
    let length = libc::off_t::try_from(size_bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{size_bytes} bytes is beyond the largest file the system can address"),
        )
    })?;
    // SAFETY: the descriptor is `file`'s, open for writing and borrowed for the whole call;
    // posix_fallocate reads and writes no memory of ours.
    let result = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, length) };
    match result {
        0 => Ok(()),
        // The file system cannot reserve space (EOPNOTSUPP; glibc's emulation answers EINVAL on
        // some). The file is made its size, sparse: it still reads as zeros, and a full disk
        // shows at a write instead of here.
        libc::EOPNOTSUPP | libc::EINVAL => file.set_len(size_bytes),
        libc::ENOSPC => Err(disk_full(format_args!(
            "reserve {size_bytes} bytes for {name}"
        ))),
        errno => Err(io::Error::from_raw_os_error(errno)),
    }
}

/// Reserves `size_bytes` for `file`: without `posix_fallocate` the file is made its size,
/// sparse, and a full disk shows at a write instead.
#[cfg(not(target_os = "linux"))]
fn preallocate(file: &File, _name: &str, size_bytes: u64) -> io::Result<()> {
    file.set_len(size_bytes)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A directory under the system's temporary directory, unique to one test, removed with
    /// everything in it when dropped.
    pub(crate) struct TemporaryDirectory(pub(crate) PathBuf);

    impl TemporaryDirectory {
        pub(crate) fn new(test: &str) -> TemporaryDirectory {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos());
            TemporaryDirectory(
                std::env::temp_dir()
                    .join(format!("clearway-{test}-{}-{nanos}", std::process::id())),
            )
        }
    }

    impl Drop for TemporaryDirectory {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn files_are_created_preallocated_written_renamed_and_removed() {
        let directory = TemporaryDirectory::new("file-storage");
        let mut storage = FileStorage::open(directory.0.join("journal")).unwrap();
        assert!(storage.list().unwrap().is_empty());

        let mut file = storage.create("a", 8_192).unwrap();
        assert_eq!(file.size_bytes().unwrap(), 8_192);
        file.write_at(4_000, b"hello").unwrap();
        file.sync_data().unwrap();
        storage.sync_directory().unwrap();
        let bytes = storage.read("a").unwrap();
        assert_eq!(bytes.len(), 8_192);
        assert_eq!(&bytes[4_000..4_005], b"hello");
        assert!(bytes[..4_000].iter().all(|&byte| byte == 0));

        let taken = storage.create("a", 10).map(|_| ()).unwrap_err();
        assert_eq!(taken.kind(), io::ErrorKind::AlreadyExists);

        storage.rename("a", "b").unwrap();
        assert_eq!(storage.list().unwrap(), vec!["b".to_string()]);
        let mut reopened = storage.open("b").unwrap();
        reopened.truncate(4_002).unwrap();
        assert_eq!(reopened.size_bytes().unwrap(), 4_002);
        assert_eq!(&storage.read("b").unwrap()[4_000..], b"he");
        storage.remove("b").unwrap();
        assert!(storage.list().unwrap().is_empty());
        assert_eq!(
            storage.open("b").map(|_| ()).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn names_that_are_not_plain_file_names_are_refused() {
        let directory = TemporaryDirectory::new("file-storage-names");
        let mut storage = FileStorage::open(&directory.0).unwrap();
        for name in ["", ".", "..", "../escape", "a/b"] {
            let error = storage.create(name, 0).map(|_| ()).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{name:?}");
        }
    }
}
