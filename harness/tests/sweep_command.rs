//! `clearway sweep` end to end, with real runs kept short: the files it writes, the fit it makes
//! of them and what `clearway usl` and `clearway plan` make of those files, and the sweeps it
//! refuses. Nothing here judges speed: on a shared 2-core machine the figures are whatever they
//! are, and the tests check what is done with them.

mod common;

use common::{clearway, scratch};

fn json(path: &std::path::Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_workers_sweep_writes_its_points_fits_the_usl_and_feeds_usl_and_plan() {
    let dir = scratch("sweep", "workers");
    let out = dir.join("out");
    let output = clearway(&[
        "sweep",
        "--vary",
        "workers",
        "--values",
        "1..6",
        "--repeats",
        "1",
        "--duration",
        "0.3",
        "--warmup",
        "0.1",
        "--out",
        out.to_str().unwrap(),
        "--",
        "--topology",
        "pipelined",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in ["sweep.json", "points.csv", "usl.json", "usl.svg"] {
        assert!(out.join(file).exists(), "{file} missing:\n{stdout}");
    }
    let sweep = json(&out.join("sweep.json"));
    assert_eq!(sweep["vary"], "workers");
    assert_eq!(sweep["mode"], "saturation");
    let points = sweep["points"].as_array().unwrap();
    assert_eq!(points.len(), 6);
    for (index, point) in points.iter().enumerate() {
        assert_eq!(point["n"].as_f64(), Some(index as f64 + 1.0));
        assert!(point["throughput_per_s"].as_f64().unwrap() > 0.0);
        // Each run's own summary says it ran with those workers, at saturation.
        let folder = std::path::Path::new(point["folders"][0].as_str().unwrap());
        let command = std::fs::read_to_string(folder.join("command.txt")).unwrap();
        assert!(
            command.contains(&format!("--workers {}", index + 1)),
            "{command}"
        );
        assert!(command.contains("--rate max"), "{command}");
        assert_eq!(
            json(&folder.join("summary.json"))["shape"],
            "max (saturation)"
        );
    }
    // The best point is the highest throughput measured.
    let best = points
        .iter()
        .map(|point| point["throughput_per_s"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert_eq!(sweep["best"]["throughput_per_s"].as_f64(), Some(best));
    // The fit is in the summary, in usl.json, and is what `clearway usl` makes of points.csv.
    let fit = &sweep["usl"];
    for field in ["lambda", "sigma", "kappa", "n_star", "x_max"] {
        assert!(fit.get(field).is_some(), "{field} missing from {fit}");
    }
    assert_eq!(&json(&out.join("usl.json")), fit);
    let again = dir.join("again.json");
    let usl = clearway(&[
        "usl",
        out.join("points.csv").to_str().unwrap(),
        "--json",
        again.to_str().unwrap(),
    ]);
    assert_eq!(usl.status.code(), Some(0));
    assert_eq!(json(&again)["lambda"], fit["lambda"]);
    assert!(stdout.contains("σ") && stdout.contains("κ"), "{stdout}");
    let svg = std::fs::read_to_string(out.join("usl.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "usl.svg is an SVG");
    // From sweep to plan: the best point sizes the deployment, and the plan says so.
    let plan = clearway(&[
        "plan",
        "--peak",
        "180000",
        "--per-node",
        out.join("sweep.json").to_str().unwrap(),
        "--sites",
        "6",
        "--cities",
        "3",
        "--survive",
        "city",
    ]);
    let planned = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(plan.status.code(), Some(0), "{planned}");
    assert!(
        planned.contains("saturation"),
        "the plan warns where its figure came from: {planned}"
    );
}

#[test]
fn a_sweep_of_something_that_is_not_a_count_measures_it_without_a_fit() {
    let dir = scratch("sweep", "ring");
    let output = clearway(&[
        "sweep",
        "--vary",
        "ring",
        "--values",
        "1024..4096*2",
        "--repeats",
        "1",
        "--duration",
        "0.2",
        "--warmup",
        "0",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("no USL fit: ring is not a count"),
        "{stdout}"
    );
    let sweep = json(&dir.join("sweep.json"));
    assert!(sweep["usl"].is_null());
    let values: Vec<&str> = sweep["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|point| point["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["1024", "2048", "4096"]);
    let first = std::path::Path::new(sweep["points"][0]["folders"][0].as_str().unwrap());
    let summary = json(&first.join("summary.json"));
    assert!(
        summary["topology"]["map"]
            .as_str()
            .unwrap()
            .contains("ring 1024 slots"),
        "{}",
        summary["topology"]["map"]
    );
    assert!(!dir.join("usl.svg").exists());
}

#[test]
fn sweeps_that_cannot_run_are_refused_before_any_run() {
    common::refused_before_running(
        "sweep",
        &[
            (
                vec![
                    "--vary",
                    "rate",
                    "--values",
                    "1000,2000",
                    "--mode",
                    "sustainable",
                ],
                "--vary rate",
            ),
            (vec!["--vary", "cores", "--values", "1,4096"], "4096 cores"),
            (vec!["--vary", "workers", "--values", "0..3"], "not a range"),
            (
                vec!["--vary", "workers", "--values", "1,2", "--", "--rate", "5"],
                "--rate",
            ),
            (
                vec!["--vary", "cores", "--values", "1", "--cores", "1"],
                "--cores",
            ),
        ],
    );
}
