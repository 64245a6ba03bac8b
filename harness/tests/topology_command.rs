//! `clearway topology FILE`: prints the stage → core map of a valid file and exits 0; refuses an
//! invalid one with the rule it breaks and exit 1; an unreadable file is exit 3; a mistaken
//! command line is exit 2.

use std::path::PathBuf;
use std::process::{Command, Output};

fn clearway(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clearway"))
        .args(arguments)
        .output()
        .expect("the clearway binary runs")
}

fn repository_file(path: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    root.join(path).to_string_lossy().into_owned()
}

fn scratch_file(name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("clearway-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn valid_topology_prints_every_stage_and_exits_zero() {
    let output = clearway(&["topology", &repository_file("topologies/switch-2core.toml")]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{text}");
    for stage in [
        "producer",
        "journal",
        "authorize",
        "route",
        "ledger",
        "egress",
    ] {
        assert!(text.contains(stage), "{stage} missing from:\n{text}");
    }
    assert!(text.contains("ledger, journal"), "{text}");
}

#[test]
fn invalid_topology_names_the_rule_and_exits_one() {
    let file = scratch_file(
        "cycle.toml",
        "[[stage]]\nname = \"a\"\nafter = [\"b\"]\n[[stage]]\nname = \"b\"\nafter = [\"a\"]\n",
    );
    let output = clearway(&["topology", &file]);
    let message = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        message.contains("stages wait for each other in a cycle: a, b"),
        "{message}"
    );
}

#[test]
fn unreadable_file_exits_three_and_wrong_usage_exits_two() {
    let output = clearway(&["topology", "/nonexistent/topology.toml"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("cannot read"));
    assert_eq!(clearway(&["no-such-command"]).status.code(), Some(2));
}
