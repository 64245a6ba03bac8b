//! Memory by time in a run: `--retention`, the wall-clock epoch of event time, and the payment
//! store a run keeps its decided payments in (the data directory's `store/`, or a temporary
//! folder removed at exit, so that a run without a data directory measures the pipeline a node
//! runs).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use clearway_core::constants::{RETENTION_MS_DEFAULT, RETENTION_MS_MAX, RETENTION_MS_MIN};
use clearway_core::stage::LongMemory;
use clearway_core::store::PaymentStore;

/// The store's folder in a data directory.
pub const STORE_DIR: &str = "store";

/// `--retention`: a number and a unit, `s`, `m`, `h` or `d` (`90s`, `10m`, `24h`, `30d`), within
/// [`RETENTION_MS_MIN`] and [`RETENTION_MS_MAX`]; in ms.
pub fn parse_retention(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|character: char| !character.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} has no unit: write 90s, 10m, 24h or 30d"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a whole number"))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("{text:?}: the unit is s, m, h or d")),
    };
    let ms = number
        .checked_mul(unit_ms)
        .filter(|ms| (RETENTION_MS_MIN..=RETENTION_MS_MAX).contains(ms))
        .ok_or_else(|| {
            format!(
                "{text:?} is outside {}s..{}d",
                RETENTION_MS_MIN / 1_000,
                RETENTION_MS_MAX / 86_400_000
            )
        })?;
    Ok(ms)
}

/// `ms` as `--retention` writes it: in the largest unit that divides it.
pub fn format_retention(ms: u64) -> String {
    for (unit, unit_ms) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)] {
        if ms % unit_ms == 0 {
            return format!("{}{unit}", ms / unit_ms);
        }
    }
    format!("{}s", ms / 1_000)
}

/// Retention as a run gives it, or the default.
pub fn retention_ns(retention_ms: Option<u64>) -> u64 {
    retention_ms.unwrap_or(RETENTION_MS_DEFAULT) * 1_000_000
}

/// Nanoseconds since 1970-01-01 UTC now: event time zero of a new run or data directory.
pub fn epoch_now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64)
}

/// Where a resumed clock starts: where the ledger's event time stopped, or the wall clock's
/// time since the epoch if later (a node down for a day resumes a day later, so that the ids its
/// institutions make now are not ahead of its clock).
pub fn resumed_clock_ns(memory: Option<LongMemory>, ledger_clock_ns: u64) -> u64 {
    match memory {
        Some(memory) => ledger_clock_ns.max(epoch_now_ns().saturating_sub(memory.epoch_unix_ns)),
        None => ledger_clock_ns,
    }
}

/// A store in a fresh temporary folder, removed when its last handle is dropped.
pub fn temporary_store() -> Result<PaymentStore, String> {
    static STORES: AtomicU64 = AtomicU64::new(0);
    let folder = std::env::temp_dir().join(format!(
        "clearway-store-{}-{}",
        std::process::id(),
        STORES.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&folder);
    PaymentStore::temporary(&folder)
        .map_err(|error| format!("cannot make a store in {}: {error}", folder.display()))
}

/// Removes the store at `folder` and makes an empty one there.
pub fn empty_store(folder: &Path) -> Result<PaymentStore, String> {
    if folder.exists() {
        std::fs::remove_dir_all(folder)
            .map_err(|error| format!("cannot remove {}: {error}", folder.display()))?;
    }
    PaymentStore::open(folder)
        .map_err(|error| format!("cannot make a store in {}: {error}", folder.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_takes_a_number_and_a_unit_within_bounds() {
        assert_eq!(parse_retention("90s"), Ok(90_000));
        assert_eq!(parse_retention("10m"), Ok(600_000));
        assert_eq!(parse_retention("24h"), Ok(86_400_000));
        assert_eq!(parse_retention("30d"), Ok(30 * 86_400_000));
        for text in ["90s", "10m", "25h", "30d"] {
            assert_eq!(format_retention(parse_retention(text).unwrap()), text);
        }
        for bad in [
            "",
            "10",
            "10x",
            "m",
            "59s",
            "401d",
            "1.5h",
            "99999999999999999999d",
        ] {
            assert!(parse_retention(bad).is_err(), "{bad}");
        }
    }
}
