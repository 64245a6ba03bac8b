//! The cores this process may run on, and pinning a thread to one of them.

use std::sync::OnceLock;

use crate::constants::CORE_ID_LIMIT;

/// The ids of the cores this process may run on, in ascending order; empty when the operating
/// system will not say.
///
/// Read once, the first time anything asks, and kept: the operating system answers for the
/// calling thread, and a thread pinned to one core (a producer) and the threads it starts would
/// otherwise see only that core. Validate topologies before pinning anything.
pub fn available_cores() -> Vec<usize> {
    static CORES: OnceLock<Vec<usize>> = OnceLock::new();
    CORES
        .get_or_init(|| {
            let mut cores: Vec<usize> = core_affinity::get_core_ids()
                .unwrap_or_default()
                .into_iter()
                .map(|core| core.id)
                .collect();
            cores.sort_unstable();
            cores
        })
        .clone()
}

/// A core a thread could not be pinned to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinError {
    /// The core asked for.
    pub core: usize,
}

impl std::fmt::Display for PinError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "could not pin this thread to core {}", self.core)
    }
}

impl std::error::Error for PinError {}

/// Pins the calling thread to `core`: how a producer thread takes the core its topology names.
///
/// A core id beyond [`CORE_ID_LIMIT`] is refused before the operating system is asked: asking
/// would panic inside `libc`, not fail.
pub fn pin_current_thread(core: usize) -> Result<(), PinError> {
    if core >= CORE_ID_LIMIT {
        return Err(PinError { core });
    }
    if core_affinity::set_for_current(core_affinity::CoreId { id: core }) {
        Ok(())
    } else {
        Err(PinError { core })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_can_be_pinned_to_an_available_core_and_not_to_a_missing_one() {
        let cores = available_cores();
        assert!(!cores.is_empty(), "this machine reports no cores");
        let (first, last) = (cores[0], *cores.last().unwrap());
        std::thread::spawn(move || {
            pin_current_thread(first).unwrap();
            // A thread started by a pinned thread inherits its one core, and can still move.
            std::thread::spawn(move || pin_current_thread(last))
                .join()
                .unwrap()
                .unwrap();
            assert_eq!(
                available_cores(),
                cores,
                "pinning does not shrink what is available"
            );
            assert_eq!(pin_current_thread(100_000), Err(PinError { core: 100_000 }));
            let beyond = CORE_ID_LIMIT - 1;
            if !cores.contains(&beyond) {
                assert_eq!(pin_current_thread(beyond), Err(PinError { core: beyond }));
            }
        })
        .join()
        .unwrap();
    }
}
