//! [`Environment`]: the machine and build a run's figures came from.

use serde::{Deserialize, Serialize};

/// Where a run ran: figures mean nothing without it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Environment {
    /// The CPU's model name, from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Cores this process may run on.
    pub cores: usize,
    /// The operating system and kernel release.
    pub os: String,
    /// The CPU frequency governor (`performance`, `powersave`, …), where the kernel shows it.
    pub governor: Option<String>,
    /// The compiler the binary was built with.
    pub rustc: String,
    /// The commit the binary was built from (`-dirty` when the tree had changes).
    pub git_commit: String,
}

impl Environment {
    /// Reads this machine's.
    pub fn here() -> Environment {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, model)| model.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".to_string());
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|text| text.trim().to_string())
            .unwrap_or_default();
        Environment {
            cpu_model,
            cores: clearway_core::pipeline::available_cores().len(),
            governor: std::fs::read_to_string(
                "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor",
            )
            .ok()
            .map(|text| text.trim().to_string()),
            os: format!("{} {release}", std::env::consts::OS)
                .trim()
                .to_string(),
            rustc: env!("CLEARWAY_RUSTC_VERSION").to_string(),
            git_commit: env!("CLEARWAY_GIT_COMMIT").to_string(),
        }
    }
}
