//! `clearway plan`: the first worked example of docs/CAPACITY.md (180,000/s, six sites in three
//! cities, surviving a city, a hypothetical 50,000/s node) plans 2 nodes per site and 12 in all,
//! printed and as JSON, whether the per-node figure is given or read from a search's result; an
//! impossible topology is exit 2 with its reason; a per-node file without a known field is
//! exit 3.

mod common;

use common::{clearway, scratch};

const EXAMPLE_ONE: [&str; 11] = [
    "plan",
    "--peak",
    "180000",
    "--sites",
    "6",
    "--cities",
    "3",
    "--survive",
    "city",
    "--ceiling",
    "0.7",
];

fn json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("the plan wrote its JSON");
    serde_json::from_str(&text).expect("the plan's JSON parses")
}

#[test]
fn example_one_plans_two_per_site_and_twelve_in_all() {
    let folder = scratch("plan", "example-one");
    let json_path = folder.join("plan.json");
    let mut arguments = EXAMPLE_ONE.to_vec();
    let json_text = json_path.to_string_lossy().into_owned();
    arguments.extend(["--per-node", "50000", "--json", &json_text]);
    let output = clearway(&arguments);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("2 nodes per site, 12 in all"), "{text}");
    assert!(text.contains("= ⌈ 1.2857 ⌉ = 2"), "{text}");
    let plan = json(&json_path);
    assert_eq!(plan["nodes_per_site"], 2);
    assert_eq!(plan["nodes_total"], 12);
    assert_eq!(plan["remaining_sites"], 4);
    assert_eq!(plan["sites_per_city"], serde_json::json!([2, 2, 2]));
    assert_eq!(plan["survive"], "city");
    assert_eq!(plan["per_node_kind"], "given");
    assert!((plan["utilization"].as_f64().unwrap() - 0.3).abs() < 1e-9);
    assert!((plan["utilization_after_failure"].as_f64().unwrap() - 0.45).abs() < 1e-9);
    assert_eq!(plan["warnings"], serde_json::json!([]));
}

#[test]
fn a_search_result_as_per_node_gives_the_same_plan() {
    let folder = scratch("plan", "search-file");
    let search = folder.join("search.json");
    std::fs::write(&search, r#"{"sustainable_per_s": 50000.0}"#).unwrap();
    let json_path = folder.join("plan.json");
    let (search_text, json_text) = (
        search.to_string_lossy().into_owned(),
        json_path.to_string_lossy().into_owned(),
    );
    let mut arguments = EXAMPLE_ONE.to_vec();
    arguments.extend(["--per-node", &search_text, "--json", &json_text]);
    let output = clearway(&arguments);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("2 nodes per site, 12 in all"), "{text}");
    assert!(
        text.contains("sustainable_per_s (clearway search"),
        "{text}"
    );
    let plan = json(&json_path);
    assert_eq!(plan["nodes_per_site"], 2);
    assert_eq!(plan["nodes_total"], 12);
    assert_eq!(plan["per_node_kind"], "search");
}

#[test]
fn surviving_a_city_with_one_city_is_refused_with_its_reason() {
    let output = clearway(&[
        "plan",
        "--peak",
        "180k",
        "--per-node",
        "50k",
        "--sites",
        "6",
        "--cities",
        "1",
        "--survive",
        "city",
    ]);
    let message = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(
        message.contains("surviving a city needs at least 2 cities"),
        "{message}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn a_per_node_file_without_a_known_field_is_exit_three() {
    let folder = scratch("plan", "unknown-fields");
    let file = folder.join("result.json");
    std::fs::write(&file, r#"{"rate": 50000}"#).unwrap();
    let file_text = file.to_string_lossy().into_owned();
    let mut arguments = EXAMPLE_ONE.to_vec();
    arguments.extend(["--per-node", &file_text]);
    let output = clearway(&arguments);
    let message = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{message}");
    for field in [
        "sustainable_per_s",
        "best.throughput_per_s",
        "x_max",
        "throughput_per_s",
    ] {
        assert!(message.contains(field), "{field} not named in: {message}");
    }
}
