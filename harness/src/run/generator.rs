//! [`GeneratorFigures`]: whether the load generator kept to its schedule in the measured window
//! (after the warm-up, which absorbs the start). A payment sent more than
//! [`GENERATOR_LATE_NS`](crate::constants::GENERATOR_LATE_NS) after its intended time was late
//! because of the generator (or the switch pushing back), and one the schedule meant to send
//! before the window closed but never sent is later still; past
//! [`GENERATOR_LATE_FRACTION_MAX`](crate::constants::GENERATOR_LATE_FRACTION_MAX) of the planned
//! payments (or `--late-fraction-max`), the run measured the generator and is invalid.

use serde::Serialize;

/// How the generator kept to its schedule (docs/OUTPUT.md).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct GeneratorFigures {
    /// Payments the schedule intended after the warm-up and before the window closed; `null` at
    /// saturation (no schedule: nothing can be late).
    pub planned: Option<u64>,
    /// Of those, payments sent.
    pub offered: u64,
    /// Payments sent more than 1 ms after their intended time.
    pub late: u64,
    /// Payments intended before the window closed that were never sent.
    pub unsent: u64,
    /// (`late` + `unsent`) ÷ `planned`.
    pub late_fraction: f64,
    /// The latest a payment was sent after its intended time, ns.
    pub late_max_ns: u64,
    /// Times the switch's in-flight room was full when the generator sent (the ring; for a node,
    /// WELCOME's in-flight limit, and BUSY answers).
    pub caps_hit: u64,
    /// The most `late_fraction` may be: 1% unless `--late-fraction-max` says otherwise.
    pub late_fraction_max: f64,
    /// Whether late and unsent payments stayed within `late_fraction_max` of those planned. When
    /// false the run is invalid: its latencies describe the generator.
    pub kept_up: bool,
}

impl GeneratorFigures {
    /// The figures from the drivers' counts, judged against `late_fraction_max` (1% unless the
    /// command line says otherwise).
    pub fn new(
        planned: Option<u64>,
        offered: u64,
        (late, unsent, late_max_ns): (u64, u64, u64),
        caps_hit: u64,
        late_fraction_max: f64,
    ) -> GeneratorFigures {
        let late_fraction = match planned {
            Some(planned) if planned > 0 => (late + unsent) as f64 / planned as f64,
            _ => 0.0,
        };
        GeneratorFigures {
            planned,
            offered,
            late,
            unsent,
            late_fraction,
            late_max_ns,
            caps_hit,
            late_fraction_max,
            kept_up: late_fraction <= late_fraction_max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::GENERATOR_LATE_FRACTION_MAX;

    #[test]
    fn late_and_unsent_payments_over_one_percent_of_the_plan_make_a_run_invalid() {
        // (planned, late, unsent, kept up)
        let rows: &[(Option<u64>, u64, u64, bool)] = &[
            (Some(1_000), 0, 0, true),
            (Some(1_000), 10, 0, true),
            (Some(1_000), 5, 5, true),
            (Some(1_000), 11, 0, false),
            (Some(1_000), 0, 11, false),
            (Some(0), 0, 0, true),
            (None, 500, 0, true),
        ];
        for &(planned, late, unsent, kept_up) in rows {
            let figures = GeneratorFigures::new(
                planned,
                1_000,
                (late, unsent, 0),
                0,
                GENERATOR_LATE_FRACTION_MAX,
            );
            assert_eq!(figures.kept_up, kept_up, "{planned:?} {late} {unsent}");
        }
        assert_eq!(
            GeneratorFigures::new(Some(1_000), 990, (5, 10, 0), 0, 0.01).late_fraction,
            0.015
        );
    }
}
