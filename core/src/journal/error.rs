//! [`JournalError`]: every way writing, scanning or reading the journal can fail, each a value
//! that names the file, the offset and what the operating system said.

use std::io;

use super::scan::Corruption;

/// A storage operation, as an error names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Listing the directory.
    List,
    /// Creating and pre-allocating a file.
    Create,
    /// Opening an existing file for writing.
    Open,
    /// Reading a whole file.
    Read,
    /// Writing at an offset.
    Write,
    /// `fdatasync` of a file.
    Sync,
    /// `fsync` of the directory, making a creation, rename or removal durable.
    SyncDirectory,
    /// Renaming a file.
    Rename,
    /// Removing a file.
    Remove,
    /// Setting a file's length.
    Truncate,
    /// Asking a file's size.
    Size,
}

impl Operation {
    /// The verb an error sentence uses: "cannot {verb} {file}".
    pub fn verb(self) -> &'static str {
        match self {
            Operation::List => "list the directory of",
            Operation::Create => "create",
            Operation::Open => "open",
            Operation::Read => "read",
            Operation::Write => "write",
            Operation::Sync => "sync",
            Operation::SyncDirectory => "sync the directory entry of",
            Operation::Rename => "rename",
            Operation::Remove => "remove",
            Operation::Truncate => "truncate",
            Operation::Size => "ask the size of",
        }
    }
}

/// A storage operation that failed: which, on which file, where, and what the operating system
/// said. Kept as the error's kind and message rather than the `io::Error` itself, so that a
/// poisoned writer can hand the same error to every later caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageFailure {
    /// What was being done.
    pub operation: Operation,
    /// The file it was done to; for [`Operation::List`], the journal.
    pub file: String,
    /// Where in the file, for writes and truncations.
    pub offset: Option<u64>,
    /// The error's kind.
    pub kind: io::ErrorKind,
    /// The error as the operating system (or the simulated storage) put it.
    pub message: String,
    /// Set when a writer stopped: no event at or after this sequence was acknowledged (every
    /// sequence below it was committed).
    pub acknowledged_next: Option<u64>,
}

impl StorageFailure {
    /// The failure of `operation` on `file` with `error`.
    pub fn new(
        operation: Operation,
        file: &str,
        offset: Option<u64>,
        error: &io::Error,
    ) -> StorageFailure {
        StorageFailure {
            operation,
            file: file.to_string(),
            offset,
            kind: error.kind(),
            message: error.to_string(),
            acknowledged_next: None,
        }
    }
}

impl std::fmt::Display for StorageFailure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "cannot {} {}", self.operation.verb(), self.file)?;
        if let Some(offset) = self.offset {
            write!(formatter, " at offset {offset}")?;
        }
        write!(formatter, ": {}", self.message)?;
        if let Some(sequence) = self.acknowledged_next {
            write!(
                formatter,
                "; the journal stopped, and no event from sequence {sequence} on was acknowledged"
            )?;
        }
        Ok(())
    }
}

/// Every way the journal can fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JournalError {
    /// A storage operation failed. A writer that returns this is stopped (fail-stop): every
    /// later call returns this same error without touching storage.
    Storage(StorageFailure),
    /// The configuration asks for something the journal cannot do.
    InvalidConfig {
        /// What is wrong, as a sentence.
        reason: String,
    },
    /// The place a writer was asked to resume at does not agree with the sequence it was given.
    InvalidResume {
        /// What is wrong, as a sentence.
        reason: String,
    },
    /// An event was appended out of order.
    SequenceNotConsecutive {
        /// The sequence the writer expected.
        expected: u64,
        /// The sequence it was given.
        found: u64,
    },
    /// Reading found damage that a scan reports as corruption.
    Corrupt(Corruption),
    /// The events asked for are not all in the journal.
    SequenceNotInJournal {
        /// The first sequence asked for.
        requested: u64,
        /// The journal's first sequence.
        first: u64,
        /// The journal's next sequence: every event it holds is below it.
        next: u64,
    },
}

impl JournalError {
    /// The storage failure of `operation` on `file`.
    pub(crate) fn storage(
        operation: Operation,
        file: &str,
        offset: Option<u64>,
        error: &io::Error,
    ) -> JournalError {
        JournalError::Storage(StorageFailure::new(operation, file, offset, error))
    }
}

impl std::fmt::Display for JournalError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JournalError::Storage(failure) => failure.fmt(formatter),
            JournalError::InvalidConfig { reason } => {
                write!(
                    formatter,
                    "the journal's configuration is invalid: {reason}"
                )
            }
            JournalError::InvalidResume { reason } => {
                write!(formatter, "the journal cannot resume there: {reason}")
            }
            JournalError::SequenceNotConsecutive { expected, found } => write!(
                formatter,
                "event {found} was appended where the journal expected {expected}: sequences \
                 must be consecutive"
            ),
            JournalError::Corrupt(corruption) => corruption.fmt(formatter),
            JournalError::SequenceNotInJournal {
                requested,
                first,
                next,
            } => write!(
                formatter,
                "events from sequence {requested} were asked for, but the journal holds \
                 sequences {first} to {next} (exclusive)"
            ),
        }
    }
}

impl std::error::Error for JournalError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_writer_s_error_reads_as_a_sentence() {
        let full = io::Error::from_raw_os_error(libc::ENOSPC);
        let mut failure = StorageFailure::new(
            Operation::Write,
            "journal-00000000000000000032.seg",
            Some(4_096),
            &full,
        );
        failure.acknowledged_next = Some(64);
        assert_eq!(
            JournalError::Storage(failure).to_string(),
            "cannot write journal-00000000000000000032.seg at offset 4096: No space left on \
             device (os error 28); the journal stopped, and no event from sequence 64 on was \
             acknowledged"
        );
    }
}
