//! [`TxnId`]: a transaction's identity, the ledger's idempotency key.

use serde::{Deserialize, Serialize};

/// A transaction id: 128 bits in the network's date + time + sequence form: the date (`yyyymmdd`,
/// UTC) in the top 32 bits, the second of that day (0–86,399) in the next 17, and a
/// sender-assigned sequence in the low 79. Zero means "none" (an event with no original, a
/// control event).
///
/// The date and second are when the sender made the id ([`TxnId::at`]): the ledger decides by
/// them whether a payment can still be within retention (docs/SWITCH.md, "Memory by time"). An id
/// made by [`TxnId::new`] has second 0 of its date.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct TxnId(pub u128);

impl TxnId {
    /// No transaction.
    pub const NONE: TxnId = TxnId(0);

    /// The id for `date` (`yyyymmdd`, e.g. 20261130) and `sequence`; the sequence keeps its low 96
    /// bits, so a sequence of 2^79 or more also sets the second of the day.
    pub fn new(date: u32, sequence: u128) -> TxnId {
        TxnId(u128::from(date) << 96 | (sequence & ((1u128 << 96) - 1)))
    }

    /// The id a sender makes at `unix_s` (seconds since 1970-01-01 UTC) with `sequence` (its low
    /// 79 bits kept).
    pub fn at(unix_s: u64, sequence: u128) -> TxnId {
        let days = unix_s / SECONDS_PER_DAY;
        let second = (unix_s % SECONDS_PER_DAY) as u128;
        let date = date_of_days(days as i64);
        TxnId(u128::from(date) << 96 | second << SECOND_SHIFT | (sequence & SEQUENCE_MASK))
    }

    /// The sender-assigned sequence of an id made by [`TxnId::at`]: its low 79 bits, below the
    /// second of the day.
    pub fn sender_sequence(self) -> u128 {
        self.0 & SEQUENCE_MASK
    }

    /// When the sender made it, in seconds since 1970-01-01 UTC, from its date and second; `None`
    /// when the date is not a real `yyyymmdd` from 1970 on or the second is past the day's end.
    pub fn unix_s(self) -> Option<u64> {
        let date = self.date();
        let (year, month, day) = (date / 10_000, date / 100 % 100, date % 100);
        if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        if day > days_in_month(year, month) {
            return None;
        }
        let second = self.second_of_day();
        if second >= SECONDS_PER_DAY {
            return None;
        }
        let days = days_of_civil(i64::from(year), month, day);
        Some(days as u64 * SECONDS_PER_DAY + second)
    }

    /// Its date and second of the day as one number, `date << 17 | second`: ids compare by it as
    /// by the time they were made, without the date's arithmetic (what sorting a store write by
    /// second needs per payment). An id from [`TxnId::at`] at `unix_s` has the stamp
    /// `TxnId::at(unix_s, 0).stamp()`.
    #[inline]
    pub fn stamp(self) -> u64 {
        (self.0 >> SECOND_SHIFT) as u64
    }

    /// The second-of-the-day part (0–86,399 for an id from [`TxnId::at`]; up to 2^17 − 1 in
    /// an id that was not).
    #[inline]
    pub fn second_of_day(self) -> u64 {
        ((self.0 >> SECOND_SHIFT) & SECOND_MASK) as u64
    }

    /// The date part, `yyyymmdd`.
    pub fn date(self) -> u32 {
        (self.0 >> 96) as u32
    }

    /// The sequence part.
    pub fn sequence(self) -> u128 {
        self.0 & ((1u128 << 96) - 1)
    }

    /// Whether this is [`TxnId::NONE`].
    #[inline]
    pub fn is_none(self) -> bool {
        self.0 == 0
    }
}

/// Seconds in a day.
const SECONDS_PER_DAY: u64 = 86_400;
/// Where the second of the day starts: above the 79-bit sequence.
const SECOND_SHIFT: u32 = 79;
/// The second of the day's 17 bits (86,400 < 2^17).
const SECOND_MASK: u128 = (1 << 17) - 1;
/// The sequence's 79 bits in [`TxnId::at`].
const SEQUENCE_MASK: u128 = (1 << SECOND_SHIFT) - 1;

/// Days in `month` of `year` (Gregorian).
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_of_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The `yyyymmdd` of the day `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn date_of_days(days: i64) -> u32 {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year * 10_000 + month * 100 + day) as u32
}

impl std::fmt::Display for TxnId {
    /// `yyyymmdd-sssss-` and the sequence: the date, the second of that day in (at least) 5
    /// digits, and the 79-bit sequence in 24 decimal digits: `20261207-84605-000000000000000000000042`.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{:08}-{:05}-{:024}",
            self.date(),
            self.second_of_day(),
            self.sender_sequence()
        )
    }
}

impl std::str::FromStr for TxnId {
    type Err = String;

    /// Exactly the text [`Display`](std::fmt::Display) writes, nothing else: 8 date digits, the
    /// second of the day, 24 sequence digits, joined by `-`.
    fn from_str(text: &str) -> Result<TxnId, String> {
        let form = "yyyymmdd-sssss-<24 digits>, as the switch prints it \
                    (20261207-84605-000000000000000000000042)";
        let mut parts = text.split('-');
        let (Some(date), Some(second), Some(sequence), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("{text:?} is not a txn id: {form}"));
        };
        let digits =
            |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
        if !(date.len() >= 8
            && digits(date)
            && digits(second)
            && sequence.len() == 24
            && digits(sequence))
        {
            return Err(format!("{text:?} is not a txn id: {form}"));
        }
        let date: u128 = date
            .parse::<u32>()
            .map_err(|_| format!("{text:?}: the date is beyond the id's 32 bits"))?
            .into();
        let second: u128 = second
            .parse()
            .ok()
            .filter(|second| *second <= SECOND_MASK)
            .ok_or_else(|| format!("{text:?}: the second is beyond the id's 17 bits"))?;
        let sequence: u128 = sequence
            .parse()
            .ok()
            .filter(|sequence| *sequence <= SEQUENCE_MASK)
            .ok_or_else(|| format!("{text:?}: the sequence is beyond the id's 79 bits"))?;
        let id = TxnId(date << 96 | second << SECOND_SHIFT | sequence);
        if id.to_string() != text {
            return Err(format!("{text:?} is not as the switch prints it ({id})"));
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_and_sequence_round_trip() {
        let id = TxnId::new(20261130, 123_456_789);
        assert_eq!(id.date(), 20261130);
        assert_eq!(id.sequence(), 123_456_789);
        assert_eq!(id.to_string(), "20261130-00000-000000000000000123456789");
        assert_eq!(
            TxnId::at(1_796_686_205, 42).to_string(),
            "20261207-84605-000000000000000000000042"
        );
        for id in [
            id,
            TxnId::at(1_796_686_205, 42),
            TxnId::NONE,
            TxnId(u128::MAX),
        ] {
            assert_eq!(id.to_string().parse::<TxnId>(), Ok(id), "{id}");
        }
        for text in [
            "",
            "20261130-000000000000000123456789",
            "20261130-00000-00000000000000012345678",
            "20261130-0000-000000000000000123456789",
            "20261130-00000-00000000000000012345678x",
            " 20261130-00000-000000000000000123456789",
            "20261130-99999999-000000000000000123456789",
        ] {
            assert!(text.parse::<TxnId>().is_err(), "{text}");
        }
        assert!(!id.is_none());
        assert!(TxnId::NONE.is_none());
    }

    #[test]
    fn an_id_made_at_a_moment_gives_that_moment_back() {
        // 2026-12-07 23:30:05 UTC.
        let unix_s = 1_796_686_205;
        let id = TxnId::at(unix_s, 42);
        assert_eq!(id.date(), 20261207);
        assert_eq!(id.unix_s(), Some(unix_s));
        assert_eq!(id.sender_sequence(), 42);
        for unix_s in [
            0,
            951_782_400,
            951_868_799,
            4_102_444_800,
            1_796_686_205 + 86_399,
        ] {
            assert_eq!(TxnId::at(unix_s, 7).unix_s(), Some(unix_s), "{unix_s}");
        }
        assert_eq!(TxnId::new(20261130, 5).unix_s(), Some(1_795_996_800));
    }

    #[test]
    fn an_id_without_a_real_date_has_no_moment() {
        for date in [0, 20261301, 20260230, 20250229, 19691231, 20261100] {
            assert_eq!(TxnId::new(date, 1).unix_s(), None, "{date}");
        }
        assert!(TxnId::new(20240229, 1).unix_s().is_some());
        let past_midnight = TxnId(TxnId::new(20261130, 0).0 | 86_400u128 << SECOND_SHIFT);
        assert_eq!(past_midnight.unix_s(), None);
        assert_eq!(TxnId(7).unix_s(), None);
    }
}
