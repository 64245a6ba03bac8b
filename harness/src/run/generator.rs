//! [`GeneratorFigures`]: whether the load generator kept to its schedule. A payment sent more
//! than [`GENERATOR_LATE_NS`](crate::constants::GENERATOR_LATE_NS) after its intended time was late because of the generator (or the
//! switch pushing back), and one the schedule meant to send before the window closed but never
//! sent is later still; past [`GENERATOR_LATE_FRACTION_MAX`] of the planned payments, the run
//! measured the generator and is invalid.

use serde::Serialize;

use crate::constants::GENERATOR_LATE_FRACTION_MAX;

/// How the generator kept to its schedule (docs/OUTPUT.md).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct GeneratorFigures {
    /// Payments the schedule intended before the window closed; `null` at saturation (no
    /// schedule: nothing can be late).
    pub planned: Option<u64>,
    /// Payments sent.
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
    /// Whether late and unsent payments stayed within 1% of those planned. When false the run
    /// is invalid: its latencies describe the generator.
    pub kept_up: bool,
}

impl GeneratorFigures {
    /// The figures from the drivers' counts.
    pub fn new(
        planned: Option<u64>,
        offered: u64,
        late: u64,
        unsent: u64,
        late_max_ns: u64,
        caps_hit: u64,
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
            kept_up: late_fraction <= GENERATOR_LATE_FRACTION_MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let figures = GeneratorFigures::new(planned, 1_000, late, unsent, 0, 0);
            assert_eq!(figures.kept_up, kept_up, "{planned:?} {late} {unsent}");
        }
        assert_eq!(
            GeneratorFigures::new(Some(1_000), 990, 5, 10, 0, 0).late_fraction,
            0.015
        );
    }
}
