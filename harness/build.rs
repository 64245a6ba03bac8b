//! Records what the `clearway` binary was built from, for the `environment` block of run
//! summaries: the compiler's version and the git commit.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let rustc_version = output(Command::new(rustc).arg("--version")).unwrap_or_default();
    let commit = output(Command::new("git").args(["rev-parse", "HEAD"])).unwrap_or_default();
    let dirty = output(Command::new("git").args(["status", "--porcelain", "--untracked-files=no"]))
        .is_some_and(|status| !status.is_empty());
    let commit = match (commit.is_empty(), dirty) {
        (true, _) => "unknown".to_string(),
        (false, true) => format!("{commit}-dirty"),
        (false, false) => commit,
    };
    println!("cargo:rustc-env=CLEARWAY_RUSTC_VERSION={rustc_version}");
    println!("cargo:rustc-env=CLEARWAY_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/index");
}

fn output(command: &mut Command) -> Option<String> {
    let output = command.output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}
