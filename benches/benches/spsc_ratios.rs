//! ```text
//!   producer (core 0) ──► queue of 1024 × 64 B ──► consumer (core 1)
//! ```
//! The `spsc_64B` cases again, interleaved: each round runs every case once, and the result is
//! the median over rounds of Clearway's throughput divided by each other queue's *in the same
//! round*. On a shared machine whose speed drifts from one minute to the next, ratios taken
//! within a round hold still where criterion's one-case-after-another medians do not.
//!
//! `cargo bench -p clearway-benches --bench spsc_ratios [-- ROUNDS]` (default 21 rounds).

use clearway_benches::spsc::CASES;
use clearway_benches::{bench_cores, pin, timed, MESSAGES};

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|argument| argument.parse().ok())
        .unwrap_or(21);
    let cores = bench_cores(2);
    pin(cores[0]);
    println!(
        "spsc_64B interleaved, {rounds} rounds: producer on core {:?}, consumer on core {:?}",
        cores[0], cores[1]
    );
    let mut rates: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); CASES.len()];
    for _ in 0..rounds {
        for (index, (name, case)) in CASES.iter().enumerate() {
            let elapsed = timed(name, 1, *case);
            rates[index].push(MESSAGES as f64 / elapsed.as_secs_f64() / 1e6);
        }
    }
    println!(
        "{:<24} {:>12} {:>10} {:>10} {:>16}",
        "case", "median M/s", "min", "max", "clearway / case"
    );
    for (index, (name, _)) in CASES.iter().enumerate() {
        let ratio = median(
            rates[0]
                .iter()
                .zip(&rates[index])
                .map(|(ours, theirs)| ours / theirs)
                .collect(),
        );
        let sorted = {
            let mut sorted = rates[index].clone();
            sorted.sort_by(f64::total_cmp);
            sorted
        };
        println!(
            "{:<24} {:>12.1} {:>10.1} {:>10.1} {:>16.2}",
            name,
            median(rates[index].clone()),
            sorted[0],
            sorted[sorted.len() - 1],
            ratio
        );
    }
}
