//! [`Progress`]: one line on the terminal while a load runs: elapsed time, offered and achieved
//! rate, and the last second's p99. Hidden when stderr is not a terminal, or when asked.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::run::latency::human_ns;
use crate::run::summary::thousands;

/// The progress line.
pub struct Progress {
    bar: ProgressBar,
}

/// What the line shows for the last whole second.
pub struct Second {
    /// Seconds of load so far.
    pub elapsed_s: f64,
    /// Whether the load is still in its warm-up.
    pub warming_up: bool,
    /// Payments offered in the last whole second.
    pub offered: u64,
    /// Payments answered in it.
    pub answered: u64,
    /// Its end-to-end p99, ns, if anything was answered.
    pub p99_ns: Option<u64>,
}

impl Progress {
    /// A line for a load of `load_s` seconds on stderr; drawn only on a terminal, and not at all
    /// when `quiet`.
    pub fn new(load_s: f64, quiet: bool) -> Progress {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(load_s.ceil().max(1.0) as u64), target);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>9} [{bar:24}] {pos}/{len} s  {msg}")
                .expect("the template is a constant")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress { bar }
    }

    /// Shows `second`.
    pub fn show(&self, second: &Second) {
        self.bar.set_position(second.elapsed_s as u64);
        self.bar.set_prefix(if second.warming_up {
            "warm-up"
        } else {
            "measuring"
        });
        self.bar.set_message(format!(
            "offered {}/s  answered {}/s  p99 {}",
            thousands(second.offered),
            thousands(second.answered),
            second.p99_ns.map_or("-".to_string(), human_ns)
        ));
    }

    /// The load is over: the line goes away before the summary is printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
