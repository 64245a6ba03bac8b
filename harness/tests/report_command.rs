//! `clearway report DIR`: a results folder (a summary.json and a latency.hlog of four tags, made
//! here) becomes report.html and four SVG plots; a folder without a summary is refused with exit
//! 3, one without an interval log still gets a page that says so; and, where Chromium is
//! installed, the page loads every plot and no script error in a headless browser, and its
//! screenshot is not blank.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;
use serde_json::{json, Value};

mod common;

use common::clearway;

/// The tags `clearway run` writes, e2e first.
const TAGS: [&str; 4] = ["e2e", "authorize", "route", "ledger"];
/// The images a full folder gets, in the page's order.
const PLOTS: [&str; 4] = [
    "spectrum.svg",
    "throughput.svg",
    "latency-over-time.svg",
    "outcomes.svg",
];
/// Measured seconds in the fixture's interval log (after 2 s of warm-up).
const MEASURED_S: u64 = 5;
/// Warm-up seconds before them.
const WARMUP_S: u64 = 2;
/// Latencies recorded per tag and second.
const PER_SECOND: u64 = 5_000;
/// Where Debian installs Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";
/// The longest a browser may take before it is killed.
const BROWSER_LIMIT: Duration = Duration::from_secs(60);

fn scratch(name: &str) -> PathBuf {
    common::scratch("report", name)
}

/// A summary as `clearway run --out` writes it, with every part the report shows.
fn summary() -> Value {
    let block = |scale: u64| {
        json!({"p50": 30 * scale, "p90": 55 * scale, "p99": 140 * scale, "p999": 600 * scale,
               "p9999": 2_000 * scale, "max": 4_500 * scale})
    };
    let timeline: Vec<Value> = (0..WARMUP_S + MEASURED_S)
        .map(|second| {
            json!({"start_s": second, "length_s": 1.0, "offered": PER_SECOND,
                   "answered": PER_SECOND - 3 + second % 5, "warmup": second < WARMUP_S})
        })
        .collect();
    json!({
        "command": "run",
        "scenario": "peak <hour> & more",
        "seed": 42,
        "duration_s": MEASURED_S as f64,
        "warmup_s": WARMUP_S as f64,
        "offered_per_s": PER_SECOND as f64,
        "throughput_per_s": PER_SECOND as f64 - 0.4,
        "payments": {"submitted": 25_000, "approved": 21_500, "declined": 2_900,
                     "rejected": 140, "expired": 460, "busy": 0},
        "rejects_by_reason": {"InsufficientLiquidity": 120, "BadMac": 17, "Exists": 3},
        "latency_ns": block(1_000),
        "stages": {
            "authorize": {"latency_ns": block(100), "events": 25_000, "workers": 2},
            "route": {"latency_ns": block(70), "events": 25_000, "workers": 1},
            "ledger": {"latency_ns": block(160), "events": 25_000, "workers": 1}
        },
        "slo": [
            {"gate": "p99<2ms", "metric": "e2e.p99", "threshold": 2_000_000.0,
             "measured": 140_000.0, "unit": "ns", "passed": true, "measured_text": "140.0 µs"},
            {"gate": "throughput>=4000/s", "metric": "throughput", "threshold": 4_000.0,
             "measured": 4_999.6, "unit": "payments/s", "passed": true,
             "measured_text": "4,999.6/s"}
        ],
        "generator": {"planned": 25_000, "offered": 25_000, "late": 12,
                      "late_fraction": 0.00048, "late_max_ns": 1_800_000, "caps_hit": 0,
                      "kept_up": true},
        "valid": true,
        "ok": true,
        "checks": {"outcomes_add_up": true, "positions_sum_zero": true,
                   "replay_state_hash": true},
        "timeline": timeline,
        "environment": {"cpu_model": "Test CPU @ 3.0GHz", "cores": 2, "os": "Linux 6.1",
                        "rustc": "rustc 1.95.0", "git_commit": "abc1234"},
        "topology": {"source": "auto, 2 cores", "mode": "pipelined", "threads": 5,
                     "map": "authorize → core 0\nroute → core 1\nledger → core 1"}
    })
}

/// A Pareto-tailed latency: `base_ns` at the median's order, rarely a hundred times it.
fn latency_ns(state: &mut u64, base_ns: f64) -> u64 {
    // xorshift64: the same fixture every time.
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    let uniform = (*state >> 11) as f64 / (1u64 << 53) as f64;
    (base_ns / (1.0 - uniform).powf(0.6)).min(1e10) as u64
}

/// An interval log of the four tags, one interval a second after the warm-up.
fn interval_log() -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let bases = [30_000.0, 3_000.0, 2_000.0, 5_000.0];
    {
        let mut writer = IntervalLogWriterBuilder::new()
            .with_max_value_divisor(1e6)
            .begin_log_with(&mut bytes, &mut serializer)
            .unwrap();
        for second in WARMUP_S..WARMUP_S + MEASURED_S {
            for (tag, base) in TAGS.iter().zip(bases) {
                let mut histogram =
                    Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
                // One slow second, as a stall would show.
                let base = if second == WARMUP_S + 3 {
                    base * 3.0
                } else {
                    base
                };
                for _ in 0..PER_SECOND {
                    histogram.record(latency_ns(&mut state, base)).unwrap();
                }
                writer
                    .write_histogram(
                        &histogram,
                        Duration::from_secs(second),
                        Duration::from_secs(1),
                        Tag::new(tag),
                    )
                    .unwrap();
            }
        }
    }
    bytes
}

/// A results folder: the summary, the interval log when `with_log`, and two files to link.
fn fixture(name: &str, with_log: bool) -> PathBuf {
    let dir = scratch(name);
    let text = serde_json::to_string_pretty(&summary()).unwrap();
    std::fs::write(dir.join("summary.json"), text).unwrap();
    if with_log {
        std::fs::write(dir.join("latency.hlog"), interval_log()).unwrap();
    }
    std::fs::write(
        dir.join("e2e.hgrm"),
        "Value Percentile TotalCount 1/(1-Percentile)\n",
    )
    .unwrap();
    std::fs::write(dir.join("scenario.toml"), "name = \"peak\"\n").unwrap();
    dir
}

/// `clearway report DIR`: the exit code, stdout and stderr.
fn report(dir: &Path) -> (Option<i32>, String, String) {
    let output = clearway(&["report", dir.to_str().unwrap()]);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The SVG `file` in `dir`, checked to look like a whole SVG document.
fn svg(dir: &Path, file: &str) -> String {
    let text = std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|error| panic!("{file} was not written: {error}"));
    let start = text.trim_start();
    assert!(
        start.starts_with("<svg") || start.starts_with("<?xml"),
        "{file} does not start as SVG: {}",
        &text[..text.len().min(200)]
    );
    assert!(text.trim_end().ends_with("</svg>"), "{file} is not closed");
    text
}

/// Whether `svg` has a `<text>` element reading `text` (escaped as SVG escapes it).
fn has_text(svg: &str, text: &str) -> bool {
    svg.split("<text")
        .skip(1)
        .filter_map(|element| {
            let content = &element[element.find('>')? + 1..];
            Some(content[..content.find("</text>")?].trim())
        })
        .any(|content| content == text)
}

/// Lines drawn (plotters draws a line series as a polyline or a path).
fn lines(svg: &str) -> usize {
    svg.matches("<polyline").count() + svg.matches("<path").count()
}

#[test]
fn a_full_folder_gets_a_page_and_four_plots() {
    let dir = fixture("full", true);
    let (code, stdout, stderr) = report(&dir);
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let html_path = dir.join("report.html");
    assert!(
        stdout.contains(&format!("report: {} (4 plots)", html_path.display())),
        "{stdout}"
    );
    assert!(!stdout.contains("skipped"), "{stdout}");
    let html = std::fs::read_to_string(&html_path).unwrap();
    for plot in PLOTS {
        assert!(
            html.contains(&format!("<img src=\"{plot}\"")),
            "the page shows {plot}"
        );
    }
    assert!(html.contains("PASS"), "the verdict banner");
    assert!(html.contains("warm-up 2 s excluded"), "the warm-up");
    assert!(
        html.contains("peak &lt;hour&gt; &amp; more"),
        "the scenario's name is escaped"
    );
    assert!(!html.contains("<hour>"));
    assert!(
        html.contains("href=\"e2e.hgrm\"") && html.contains("href=\"scenario.toml\""),
        "the other files are linked"
    );
    assert!(!html.contains("No interval log"), "the log was found");

    let spectrum = svg(&dir, "spectrum.svg");
    for tag in TAGS {
        assert!(
            has_text(&spectrum, tag),
            "the spectrum's legend names {tag}"
        );
    }
    assert!(
        lines(&spectrum) >= 2 * TAGS.len(),
        "a line and a legend swatch for each tag: {}",
        lines(&spectrum)
    );
    for label in ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"] {
        assert!(has_text(&spectrum, label), "x tick {label}");
    }
    assert!(has_text(&spectrum, "100 µs"), "latency in human units");
    let throughput = svg(&dir, "throughput.svg");
    assert!(has_text(&throughput, "offered") && has_text(&throughput, "answered"));
    assert!(has_text(&throughput, "warm-up (excluded)"));
    assert!(lines(&throughput) >= 4, "offered and answered");
    let over_time = svg(&dir, "latency-over-time.svg");
    for line in ["p50", "p99", "max", "gate p99&lt;2ms"] {
        assert!(has_text(&over_time, line), "{line}");
    }
    let outcomes = svg(&dir, "outcomes.svg");
    for outcome in [
        "approved",
        "declined",
        "expired",
        "busy",
        "rejected: BadMac",
    ] {
        assert!(has_text(&outcomes, outcome), "{outcome}");
    }
    assert!(outcomes.contains("21,500"), "counts in thousands");
}

#[test]
fn a_folder_without_a_summary_is_unreadable() {
    let dir = scratch("no-summary");
    let (code, stdout, stderr) = report(&dir);
    assert_eq!(code, Some(3), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let expected = format!("cannot read {}: ", dir.join("summary.json").display());
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(!dir.join("report.html").exists());

    let missing = dir.join("not-there");
    let (code, _, stderr) = report(&missing);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("cannot read"), "{stderr}");
}

#[test]
fn a_malformed_summary_or_interval_log_is_named() {
    let dir = fixture("malformed", false);
    let mut summary = summary();
    summary.as_object_mut().unwrap().remove("payments");
    std::fs::write(dir.join("summary.json"), summary.to_string()).unwrap();
    let (code, _, stderr) = report(&dir);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("missing field `payments`"), "{stderr}");

    let dir = fixture("malformed-log", false);
    std::fs::write(dir.join("latency.hlog"), "garbage\n").unwrap();
    let (code, _, stderr) = report(&dir);
    assert_eq!(code, Some(3), "{stderr}");
    let expected = format!("cannot read {}: ", dir.join("latency.hlog").display());
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn a_missing_folder_argument_is_a_usage_error() {
    let output = clearway(&["report"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("<DIR>"));
}

#[test]
fn a_folder_without_an_interval_log_gets_a_page_that_says_so() {
    let dir = fixture("no-log", false);
    // What a previous report drew from a log that is gone must not stay beside the page.
    std::fs::write(dir.join("spectrum.svg"), "<svg></svg>").unwrap();
    let (code, stdout, stderr) = report(&dir);
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("(2 plots)"), "{stdout}");
    assert!(stdout.contains("skipped spectrum.svg"), "{stdout}");
    assert!(stdout.contains("skipped latency-over-time.svg"), "{stdout}");
    assert!(!dir.join("spectrum.svg").exists(), "the stale plot is gone");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("No interval log was found"),
        "the page says so"
    );
    assert!(!html.contains("src=\"spectrum.svg\""));
    assert!(
        html.contains("src=\"throughput.svg\""),
        "drawn from the timeline"
    );
    assert!(html.contains("src=\"outcomes.svg\""));
    assert!(
        html.contains("140.0 µs"),
        "the summary's percentiles are shown"
    );
}

/// Runs Chromium headless on `page` with `arguments`, its stdout to `stdout_to`; kills it and
/// fails if it outlives [`BROWSER_LIMIT`].
fn chromium(arguments: &[String], page: &Path, stdout_to: &Path, profile: &Path) {
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(arguments)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::from(File::create(stdout_to).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium {arguments:?} exited {status}");
            return;
        }
        if started.elapsed() > BROWSER_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium {arguments:?} ran past {BROWSER_LIMIT:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_page_loads_every_plot_in_a_headless_browser() {
    if !Path::new(CHROMIUM).exists() {
        if std::env::var("CLEARWAY_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "{CHROMIUM} not found, and CLEARWAY_REQUIRE_BROWSER=1: chromium must be \
                 installed (apt-get install -y chromium)"
            );
        }
        eprintln!(
            "\n*** skipped: {CHROMIUM} not found; the page was not checked in a browser ***\n"
        );
        return;
    }
    let dir = fixture("browser", true);
    let (code, stdout, stderr) = report(&dir);
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let page = dir.join("report.html");
    let work = scratch("browser-work");

    let dom_path = work.join("dom.html");
    chromium(
        &["--dump-dom".to_string()],
        &page,
        &dom_path,
        &work.join("profile-dom"),
    );
    let dom = std::fs::read_to_string(&dom_path).unwrap();
    let body_at = dom.find("<body").expect("the dumped DOM has a body");
    let body = &dom[body_at..body_at + dom[body_at..].find('>').unwrap()];
    let expected = format!("data-plots=\"{0}/{0}\"", PLOTS.len());
    assert!(
        body.contains(&expected),
        "every plot loaded ({expected}): {body}"
    );
    assert!(
        !body.contains("data-errors") || body.contains("data-errors=\"0\""),
        "no script error: {body}"
    );

    let screenshot = dir.join("report.png");
    chromium(
        &[
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,2400".to_string(),
        ],
        &page,
        &work.join("screenshot.out"),
        &work.join("profile-screenshot"),
    );
    let png = std::fs::read(&screenshot).expect("the screenshot was written");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "the screenshot is a PNG"
    );
    assert!(
        png.len() > 20_000,
        "the screenshot is not blank: {} bytes",
        png.len()
    );
}
