//! `clearway usl POINTS.csv`: a sweep's CSV (made here from a known law, with a sweep's extra
//! columns and comments) is fitted back to that law, printed, written as JSON and drawn; too few
//! points, a missing file and a cell that is not a number are refused with exit 3 and a message
//! that names the file and what was wrong.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;

use common::clearway;

/// The law the fixture is measured from: λ, σ, κ; N* = √((1 − σ)/κ) ≈ 21.8.
const LAMBDA: f64 = 1_000.0;
/// Contention.
const SIGMA: f64 = 0.05;
/// Coherency.
const KAPPA: f64 = 0.002;
/// The sweep's largest N.
const N_LAST: u32 = 24;

fn scratch(name: &str) -> PathBuf {
    common::scratch("usl", name)
}

fn throughput(n: f64) -> f64 {
    LAMBDA * n / (1.0 + SIGMA * (n - 1.0) + KAPPA * n * (n - 1.0))
}

/// A sweep's CSV with `count` points from N = 1: the law's throughput within ±1%, a fixed
/// pattern so that the test never varies.
fn sweep(count: u32) -> String {
    let mut text =
        String::from("# clearway sweep --vary threads\nvalue,n,throughput_per_s,p50_ns,p99_ns\n");
    for n in 1..=count {
        let wobble = [1.0, 1.01, 0.99, 1.005, 0.995][n as usize % 5];
        let x = throughput(f64::from(n)) * wobble;
        text.push_str(&format!(
            "{},{n},{x:.3},{},{}\n",
            n * 8,
            5_000 + n,
            9_000 + n * 10
        ));
    }
    text
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `clearway usl` with `arguments`: its exit code, stdout and stderr.
fn usl(arguments: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["usl"];
    all.extend_from_slice(arguments);
    let output = clearway(&all);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_sweep_is_fitted_printed_written_and_drawn() {
    let dir = scratch("fitted");
    let points = write(&dir, "sweep.csv", &sweep(N_LAST));
    let json = dir.join("usl.json");
    let svg = dir.join("usl.svg");
    let (code, stdout, stderr) = usl(&[
        points.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    // X(N*) ≈ 7,400/s, grouped by thousands.
    for part in [
        "σ (contention)",
        "κ (coherency)",
        "N* (peak concurrency)",
        "(peak throughput) 7,",
    ] {
        assert!(stdout.contains(part), "{part}:\n{stdout}");
    }

    let fit: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let number = |field: &str| {
        fit[field]
            .as_f64()
            .unwrap_or_else(|| panic!("{field} is a number: {fit}"))
    };
    let n_star = (1.0 - SIGMA) / KAPPA;
    let n_star = n_star.sqrt();
    let close = |field: &str, truth: f64, within: f64| {
        let found = number(field);
        assert!(
            ((found - truth) / truth).abs() < within,
            "{field}: {found}, not within {within} of {truth}"
        );
    };
    close("lambda", LAMBDA, 0.02);
    close("n_star", n_star, 0.05);
    close("x_max", throughput(n_star), 0.02);
    assert!((number("sigma") - SIGMA).abs() < 0.01, "{fit}");
    assert!((number("kappa") - KAPPA).abs() < 0.0002, "{fit}");
    assert!(number("r_squared") > 0.99, "{fit}");
    assert!(number("rmse_per_s") > 0.0, "{fit}");
    let rows = fit["points"].as_array().unwrap();
    assert_eq!(rows.len(), N_LAST as usize);
    assert_eq!(rows[0]["n"], 1.0);
    assert!(rows[0]["residual_fraction"].as_f64().unwrap().abs() < 0.02);

    let image = std::fs::read_to_string(&svg).unwrap();
    assert!(
        image.starts_with("<svg"),
        "{}",
        &image[..image.len().min(80)]
    );
    assert!(
        image.matches("<circle").count() > N_LAST as usize,
        "a marker for every point, and the legend's"
    );
    assert!(image.contains("measured") && image.contains("N* = "));
}

#[test]
fn five_points_are_refused_naming_the_minimum() {
    let dir = scratch("five");
    let points = write(&dir, "five.csv", &sweep(5));
    let (code, stdout, stderr) = usl(&[points.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!("clearway: {}: 5 points", points.display()))
            && stderr.contains("at least 6"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
}

#[test]
fn a_missing_file_is_refused() {
    let dir = scratch("missing");
    let points = dir.join("absent.csv");
    let (code, _, stderr) = usl(&[points.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("clearway: {}: cannot read", points.display())),
        "{stderr}"
    );
}

#[test]
fn a_cell_that_is_not_a_number_is_refused_naming_its_line() {
    let dir = scratch("word");
    let text = sweep(8).replacen(",3,", ",three,", 1);
    let points = write(&dir, "word.csv", &text);
    let (code, _, stderr) = usl(&[points.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{stderr}");
    // The comment is line 1, the header line 2, N = 3 line 5.
    assert!(
        stderr.contains("line 5, column `n`: `three` is not a number"),
        "{stderr}"
    );
}

#[test]
fn no_file_is_a_usage_error() {
    let (code, _, stderr) = usl(&[]);
    assert_eq!(code, Some(2), "{stderr}");
}
