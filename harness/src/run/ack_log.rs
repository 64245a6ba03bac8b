//! [`AckLog`]: one line per answered payment, `txn_id,outcome`, appended once the answer is
//! given; what a crash test compares the recovered ledger against.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clearway_core::event::TxnId;

use crate::constants::ACK_LOG_BUFFER_BYTES;

/// The acknowledgement log. Egress calls [`AckLog::record`] for each answer and
/// [`AckLog::flush`] at the end of each batch, so the file grows by one write per batch. A line
/// is only ever written after its payment was answered, and egress answers only what the journal
/// made durable: a line in this file names a payment the ledger must still have after a crash.
/// Lines still buffered when the process is killed are lost, which errs the safe way (fewer
/// acknowledgements, never more).
pub struct AckLog {
    path: PathBuf,
    file: BufWriter<File>,
}

impl AckLog {
    /// Opens `path` for appending (a restarted run adds to what the last one wrote).
    pub fn open(path: &Path) -> std::io::Result<AckLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AckLog {
            path: path.to_path_buf(),
            file: BufWriter::with_capacity(ACK_LOG_BUFFER_BYTES, file),
        })
    }

    /// `txn_id,outcome`: the id as [`TxnId`]'s `Display` writes it, the outcome's name
    /// (`Approved`, `Declined`, `Expired`, `Exists`, or the name of the decline that refused it).
    #[inline]
    pub fn record(&mut self, txn_id: TxnId, outcome: &str) -> Result<(), String> {
        writeln!(self.file, "{txn_id},{outcome}").map_err(|error| self.failed(error))
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> Result<(), String> {
        self.file.flush().map_err(|error| self.failed(error))
    }

    fn failed(&self, error: std::io::Error) -> String {
        format!("cannot write the ack log {}: {error}", self.path.display())
    }
}
