//! SIGTERM and SIGINT: a flag the I/O thread reads, set by `signal-hook`'s handler (which does
//! nothing else, so it is async-signal-safe).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Set once SIGTERM or SIGINT has arrived.
#[derive(Clone, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// A flag that SIGTERM and SIGINT set. The first asks the node to drain and stop; later ones
    /// change nothing (the drain has deadlines of its own).
    pub fn install() -> std::io::Result<StopFlag> {
        let flag = StopFlag::default();
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(signal, Arc::clone(&flag.0))?;
        }
        Ok(flag)
    }

    /// Whether a stop was asked for.
    pub fn raised(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}
