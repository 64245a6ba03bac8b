//! Any group's cases, interleaved: each round runs every case of the group once, and the result
//! is, per case, the median throughput over rounds and the median over rounds of Clearway's
//! throughput divided by that case's *in the same round*. On a shared machine whose speed drifts
//! from one minute to the next, ratios taken within a round hold still where criterion's
//! one-case-after-another medians do not.
//!
//! `cargo bench -p clearway-benches --bench ratios -- [spsc|pipeline|mpsc] [ROUNDS]`
//! (default: every group, 21 rounds).

use clearway_benches::{mpsc, pin, pipeline, spsc, timed, Group, MESSAGES};

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn run(group: &Group, rounds: usize) {
    println!("{}", (group.describe)());
    pin((group.producer_core)());
    println!("{}, interleaved, {rounds} rounds", group.name);
    let expected = (group.expected)();
    let mut rates: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); group.cases.len()];
    for _ in 0..rounds {
        for (index, &(name, case)) in group.cases.iter().enumerate() {
            let elapsed = timed(name, 1, expected, case);
            rates[index].push(MESSAGES as f64 / elapsed.as_secs_f64() / 1e6);
        }
    }
    println!(
        "  {:<24} {:>11} {:>9} {:>9} {:>16}",
        "case", "median M/s", "min", "max", "clearway / case"
    );
    for (index, &(name, _)) in group.cases.iter().enumerate() {
        let ratios = rates[0]
            .iter()
            .zip(&rates[index])
            .map(|(ours, theirs)| ours / theirs)
            .collect();
        let (minimum, maximum) = rates[index]
            .iter()
            .fold((f64::MAX, 0f64), |(low, high), &rate| {
                (low.min(rate), high.max(rate))
            });
        println!(
            "  {:<24} {:>11.1} {:>9.1} {:>9.1} {:>16.2}",
            name,
            median(rates[index].clone()),
            minimum,
            maximum,
            median(ratios)
        );
    }
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let rounds = arguments
        .iter()
        .find_map(|argument| argument.parse().ok())
        .unwrap_or(21);
    let groups: Vec<&Group> = [&spsc::GROUP, &pipeline::GROUP, &mpsc::GROUP]
        .into_iter()
        .filter(|group| {
            let short = group.overhead_name;
            !arguments
                .iter()
                .any(|a| ["spsc", "pipeline", "mpsc"].contains(&a.as_str()))
                || arguments.iter().any(|argument| argument == short)
        })
        .collect();
    // Each group runs on a thread of its own, started from this unpinned one: a group pins its
    // producer's thread, and threads inherit their parent's affinity, so a group run on this
    // thread after a pinned one would find its unpinned threads stuck on one core.
    for group in groups {
        std::thread::scope(|scope| {
            scope.spawn(|| run(group, rounds));
        });
    }
}
