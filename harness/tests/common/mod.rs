//! What the command tests share: running the built `clearway`, and a scratch folder per test.

use std::path::PathBuf;
use std::process::{Command, Output};

/// `clearway` with `arguments`, run to the end.
pub fn clearway(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clearway"))
        .args(arguments)
        .output()
        .expect("the clearway binary runs")
}

/// An empty folder for the test `name` of the file `prefix`, under the system's temporary
/// directory and this process's id.
pub fn scratch(prefix: &str, name: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("clearway-{prefix}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    path
}

/// Whether a measured command (`clearway run`, `clearway load`) finished with every check
/// passed: exit 0, or exit 5, a run whose generator fell behind its schedule. These tests check
/// behaviour, never speed, and on a shared 2-core machine the generator, the switch and the
/// other tests share the cores: an invalid measurement is not a wrong answer.
#[allow(dead_code)]
pub fn finished(code: Option<i32>) -> bool {
    matches!(code, Some(0) | Some(5))
}

/// `clearway COMMAND --out DIR FLAGS…` for each row of `cases`: it exits 2, its message names
/// what the row says it must, and it ran nothing (DIR has no `trials/`).
#[allow(dead_code)]
pub fn refused_before_running(command: &str, cases: &[(Vec<&str>, &str)]) {
    for (flags, named) in cases {
        let dir = scratch(command, "refused");
        let mut arguments = vec![command, "--out", dir.to_str().unwrap()];
        arguments.extend(flags.iter().copied());
        let output = clearway(&arguments);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(
            stderr.contains(named),
            "{flags:?} should name {named}: {stderr}"
        );
        assert!(!dir.join("trials").exists(), "{flags:?} ran something");
    }
}
