//! Latency and traffic second by second. The principal type here is [`Monitor`]: a thread that
//! gathers every recorder's interval histograms, keeps the measured totals (warm-up excluded by
//! time), the per-second timeline, the interval log, the live progress line, and judges SLO gates
//! as the run goes.
//!
//! Each thread that measures latency (a timed step, egress, `clearway load`'s reader) records
//! into its own [`IntervalRecorder`]: one histogram for the current second, handed to the monitor
//! through a wait-free queue when the second turns, replaced by a spare the monitor handed back.
//! Nothing is allocated or locked on the way; a monitor that falls behind makes a recorder keep
//! one histogram over several seconds rather than wait.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `window.rs` | [`Window`]: when load started, the warm-up, which second a moment falls in; [`Tag`] |
//! | `recorder.rs` | [`IntervalRecorder`]: one thread's latency, one histogram a second |
//! | `timeline.rs` | [`Timeline`]: payments offered and sent late, per second, counted by the drivers |
//! | `monitor.rs` | [`Monitor`]: the thread that gathers it all, and what it hands back |
//! | `progress.rs` | the progress line on a terminal |

mod monitor;
mod progress;
mod recorder;
mod timeline;
mod window;

pub use monitor::{IntervalStats, Monitor, MonitorConfig, MonitorHandle, Monitored, Outcomes};
pub use recorder::IntervalRecorder;
pub use timeline::Timeline;
pub use window::{Tag, Window};
