//! [`page`]: `report.html`, one self-contained page (inline style, a small inline script, no
//! fonts, libraries or anything else fetched) that shows a results folder and links the SVG
//! images written beside it. Every text from the folder is escaped with [`escape`].

use std::fmt::Write;

use super::inputs::{step_rank, FileEntry, Inputs, LogFound, RunSummary, SloGate};
use super::plots::{
    outcomes_of, percent, Plot, LATENCY_OVER_TIME_FILE, OUTCOMES_FILE, SPECTRUM_FILE,
    THROUGHPUT_FILE,
};
use crate::hlog::E2E_TAG;
use crate::run::latency::human_ns;
use crate::run::latency::Percentiles;
use crate::run::summary::thousands;

/// The page's style: system fonts, a readable measure, plots as wide as the column.
const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  font-size: 16px; line-height: 1.45; color: #1d232a; background: #f4f5f7; margin: 0; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 32px 48px; background: #fff;
  box-shadow: 0 0 12px rgba(0,0,0,.06); }
p.kicker { margin: 0; font-size: 14px; text-transform: uppercase; letter-spacing: .08em;
  color: #5a6570; }
h1 { font-size: 30px; margin: 2px 0 6px; }
h1 .scenario { color: #4a5560; font-weight: 500; }
h2 { font-size: 21px; margin: 36px 0 10px; border-bottom: 1px solid #dde1e5; padding-bottom: 4px; }
p.meta { margin: 4px 0; color: #3a4550; }
p.env { margin: 2px 0; color: #5a6570; font-size: 14px; }
.verdict { margin: 18px 0 6px; padding: 12px 18px; border-radius: 6px; font-size: 22px;
  font-weight: 700; letter-spacing: .02em; color: #fff; }
.verdict.pass { background: #1e8449; }
.verdict.slo { background: #b9770e; }
.verdict.invalid { background: #7d3c98; }
.verdict.check { background: #c0392b; }
ul.reasons { margin: 4px 0 0; color: #3a4550; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 15px; }
th, td { padding: 5px 12px; border-bottom: 1px solid #e3e6e9; text-align: left; }
th { background: #f0f2f4; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.pass { color: #1e8449; font-weight: 600; }
td.fail { color: #c0392b; font-weight: 600; }
figure { margin: 12px 0 20px; }
figure img { display: block; width: 100%; height: auto; border: 1px solid #e3e6e9; }
figcaption { font-size: 14px; color: #5a6570; margin-top: 6px; }
p.note { background: #fff8e1; border-left: 4px solid #f0b429; padding: 8px 12px; }
pre { background: #f6f8fa; padding: 8px 12px; overflow-x: auto; font-size: 13px; }
code { font-size: 14px; }
footer { margin-top: 40px; font-size: 13px; color: #7a858f; }
"#;

/// The page's script: `data-plots` counts the images that loaded once the page has, and
/// `data-errors` counts script errors, for a headless browser to read.
const SCRIPT: &str = r#"
(function () {
  var errors = 0;
  window.onerror = function () {
    errors += 1;
    if (document.body) { document.body.dataset.errors = String(errors); }
  };
  window.addEventListener("load", function () {
    var images = document.images, loaded = 0;
    for (var i = 0; i < images.length; i += 1) {
      if (images[i].complete && images[i].naturalWidth > 0) { loaded += 1; }
    }
    document.body.dataset.plots = loaded + "/" + images.length;
    if (errors > 0) { document.body.dataset.errors = String(errors); }
  });
})();
"#;

/// `text` safe in HTML text and in quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A file name as a relative URL: every byte but unreserved ones percent-encoded.
pub fn href(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Seconds with at most three decimals: `10 s`, `0.5 s`.
fn seconds(value: f64) -> String {
    let text = format!("{value:.3}");
    format!("{} s", text.trim_end_matches('0').trim_end_matches('.'))
}

/// Payments a second: `49,990/s`.
fn per_second(value: f64) -> String {
    format!("{}/s", thousands(value.max(0.0).round() as u64))
}

/// A byte count: `812 B`, `14.2 kB`, `3.1 MB`.
fn bytes(size_bytes: u64) -> String {
    let value = size_bytes as f64;
    if size_bytes < 1_000 {
        format!("{size_bytes} B")
    } else if size_bytes < 1_000_000 {
        format!("{:.1} kB", value / 1e3)
    } else {
        format!("{:.1} MB", value / 1e6)
    }
}

/// The verdict: its class, its headline, and the reasons under it.
#[derive(Debug, PartialEq)]
pub struct Verdict {
    /// `pass`, `slo`, `invalid` or `check`, for the banner's colour.
    pub class: &'static str,
    /// `PASS`, `SLO FAILED`, `INVALID RUN (…)` or `CHECK FAILED`.
    pub headline: String,
    /// What failed, one line each.
    pub reasons: Vec<String>,
}

/// The run's verdict. An invalid run (the generator fell behind) says so first, since then no
/// figure describes the switch; then failed checks; then failed gates.
pub fn verdict(summary: &RunSummary) -> Verdict {
    let failed_gates: Vec<&SloGate> = summary.slo.iter().filter(|gate| !gate.passed).collect();
    let failed_checks: Vec<String> = summary
        .checks
        .iter()
        .filter(|(_, passed)| !**passed)
        .map(|(name, _)| format!("check {name} failed"))
        .collect();
    let gate_reasons: Vec<String> = failed_gates
        .iter()
        .map(|gate| {
            format!(
                "gate {} failed: measured {}",
                gate.gate,
                measured_text(gate)
            )
        })
        .collect();
    if !summary.is_valid() {
        let late = summary
            .generator
            .and_then(|generator| generator.late_fraction)
            .map(|fraction| format!(": {} late", percent(fraction)))
            .unwrap_or_default();
        let mut reasons = vec![
            "the load generator did not keep to its schedule, so the latencies below describe \
             the generator, not the switch"
                .to_string(),
        ];
        reasons.extend(failed_checks);
        reasons.extend(gate_reasons);
        return Verdict {
            class: "invalid",
            headline: format!("INVALID RUN (the generator fell behind{late})"),
            reasons,
        };
    }
    if !failed_checks.is_empty() || (!summary.ok && failed_gates.is_empty()) {
        let mut reasons = failed_checks;
        if reasons.is_empty() {
            reasons.push("the summary says a check failed (ok is false)".to_string());
        }
        reasons.extend(gate_reasons);
        return Verdict {
            class: "check",
            headline: "CHECK FAILED".to_string(),
            reasons,
        };
    }
    if !failed_gates.is_empty() {
        return Verdict {
            class: "slo",
            headline: "SLO FAILED".to_string(),
            reasons: gate_reasons,
        };
    }
    Verdict {
        class: "pass",
        headline: "PASS".to_string(),
        reasons: Vec::new(),
    }
}

/// What a gate measured, in human units.
fn measured_text(gate: &SloGate) -> String {
    if let Some(text) = &gate.measured_text {
        return text.clone();
    }
    match gate.measured {
        Some(value) => in_unit(value, gate.unit.as_deref()),
        None => "not measured".to_string(),
    }
}

/// `value` in `unit`, in human units.
fn in_unit(value: f64, unit: Option<&str>) -> String {
    match unit {
        Some("ns") => human_ns(value.max(0.0).round() as u64),
        Some("fraction") => percent(value),
        Some("payments/s") => per_second(value),
        Some(other) => format!("{value} {other}"),
        None => format!("{value}"),
    }
}

/// What the page is made of besides the summary: the plots drawn, and those not drawn with why.
pub struct Parts<'a> {
    /// The folder, read.
    pub inputs: &'a Inputs,
    /// The images written beside the page.
    pub plots: &'a [Plot],
    /// Interval counts per tag from `latency.hlog`, when it was read.
    pub recorded: &'a [(String, u64)],
}

/// The whole page.
pub fn page(parts: &Parts<'_>) -> String {
    let summary = &parts.inputs.summary;
    let command = summary.command.as_deref().unwrap_or("run");
    let mut title = format!("clearway {command}");
    if let Some(scenario) = &summary.scenario {
        title.push_str(&format!(" · {scenario}"));
    }
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        html,
        "<title>Clearway report: {}, seed {}</title>",
        escape(&title),
        summary.seed
    );
    let _ = writeln!(html, "<style>{STYLE}</style>");
    let _ = writeln!(html, "<script>{SCRIPT}</script>");
    html.push_str("</head>\n<body>\n<main>\n");
    header(&mut html, summary, command);
    slo_section(&mut html, summary);
    latency_section(&mut html, parts);
    over_time_section(&mut html, parts);
    outcomes_section(&mut html, parts);
    checks_section(&mut html, summary);
    files_section(&mut html, &parts.inputs.files);
    html.push_str("<footer>Written by <code>clearway report</code>.</footer>\n");
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

/// The title, the run's settings and machine, and the verdict banner.
fn header(html: &mut String, summary: &RunSummary, command: &str) {
    html.push_str("<header>\n");
    let scenario = summary
        .scenario
        .as_ref()
        .map(|name| {
            format!(
                " <span class=\"scenario\">· scenario {}</span>",
                escape(name)
            )
        })
        .unwrap_or_default();
    html.push_str("<p class=\"kicker\">Clearway report</p>\n");
    let _ = writeln!(html, "<h1>clearway {}{scenario}</h1>", escape(command));
    let warmup = if summary.warmup_s > 0.0 {
        format!("warm-up {} excluded", seconds(summary.warmup_s))
    } else {
        "no warm-up".to_string()
    };
    let _ = writeln!(
        html,
        "<p class=\"meta\">seed {} · {} measured · {warmup} · offered {} · throughput {} · {} \
         payments submitted</p>",
        summary.seed,
        seconds(summary.duration_s),
        per_second(summary.offered_per_s),
        per_second(summary.throughput_per_s),
        thousands(summary.payments.submitted)
    );
    if let Some(environment) = &summary.environment {
        let mut parts = Vec::new();
        if let Some(cpu) = &environment.cpu_model {
            parts.push(escape(cpu));
        }
        if let Some(cores) = environment.cores {
            parts.push(format!("{cores} cores"));
        }
        if let Some(os) = &environment.os {
            parts.push(escape(os));
        }
        if let Some(commit) = &environment.git_commit {
            parts.push(format!("commit <code>{}</code>", escape(commit)));
        }
        if let Some(rustc) = &environment.rustc {
            parts.push(escape(rustc));
        }
        if !parts.is_empty() {
            let _ = writeln!(
                html,
                "<p class=\"env\">environment: {}</p>",
                parts.join(" · ")
            );
        }
    }
    if let Some(topology) = &summary.topology {
        let mut parts = Vec::new();
        if let Some(mode) = &topology.mode {
            parts.push(escape(mode));
        }
        if let Some(threads) = topology.threads {
            parts.push(format!("{threads} threads"));
        }
        if let Some(source) = &topology.source {
            parts.push(format!("chosen by {}", escape(source)));
        }
        if !parts.is_empty() {
            let _ = writeln!(html, "<p class=\"env\">topology: {}</p>", parts.join(" · "));
        }
        if let Some(map) = topology.map.as_deref().filter(|map| !map.trim().is_empty()) {
            let _ = writeln!(
                html,
                "<details><summary class=\"env\">stage → core map</summary><pre>{}</pre>\
                 </details>",
                escape(map.trim_end())
            );
        }
    }
    let verdict = verdict(summary);
    let _ = writeln!(
        html,
        "<div class=\"verdict {}\" id=\"verdict\">{}</div>",
        verdict.class,
        escape(&verdict.headline)
    );
    if !verdict.reasons.is_empty() {
        html.push_str("<ul class=\"reasons\">\n");
        for reason in &verdict.reasons {
            let _ = writeln!(html, "<li>{}</li>", escape(reason));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</header>\n");
}

/// The gates' table, when the run had gates.
fn slo_section(html: &mut String, summary: &RunSummary) {
    if summary.slo.is_empty() {
        return;
    }
    html.push_str("<section id=\"slo\">\n<h2>Service-level objectives</h2>\n<table>\n");
    html.push_str(
        "<tr><th>gate</th><th>metric</th><th class=\"num\">measured</th>\
         <th class=\"num\">threshold</th><th>verdict</th></tr>\n",
    );
    for gate in &summary.slo {
        let (class, word) = if gate.passed {
            ("pass", "pass")
        } else {
            ("fail", "FAIL")
        };
        let _ = writeln!(
            html,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"{class}\">{word}</td></tr>",
            escape(&gate.gate),
            escape(gate.metric.as_deref().unwrap_or("")),
            escape(&measured_text(gate)),
            escape(&in_unit(gate.threshold, gate.unit.as_deref()))
        );
    }
    html.push_str("</table>\n</section>\n");
}

/// A figure for `file` if it was drawn, else nothing.
fn figure(html: &mut String, plots: &[Plot], file: &str) -> bool {
    let Some(plot) = plots.iter().find(|plot| plot.file == file) else {
        return false;
    };
    let _ = writeln!(
        html,
        "<figure><img src=\"{}\" alt=\"{}\" width=\"{}\" height=\"{}\">\
         <figcaption>{}</figcaption></figure>",
        href(plot.file),
        escape(&plot.alt),
        plot.width_px,
        plot.height_px,
        escape(&plot.caption)
    );
    true
}

/// Why the interval log's plots are missing, when they are.
fn log_note(log: &LogFound) -> Option<&'static str> {
    match log {
        LogFound::Read(_) => None,
        LogFound::Missing => Some(
            "No interval log was found (latency.hlog is not in this folder), so the latency \
             spectrum and latency over time are not drawn. The percentiles below are the \
             summary's.",
        ),
        LogFound::Empty => Some(
            "The interval log (latency.hlog) holds no intervals, so the latency spectrum and \
             latency over time are not drawn. The percentiles below are the summary's.",
        ),
    }
}

/// The spectrum and the table of percentiles per tag.
fn latency_section(html: &mut String, parts: &Parts<'_>) {
    let summary = &parts.inputs.summary;
    html.push_str("<section id=\"latency\">\n<h2>Latency</h2>\n");
    if let Some(note) = log_note(&parts.inputs.log) {
        let _ = writeln!(html, "<p class=\"note\" id=\"no-log\">{}</p>", escape(note));
    }
    figure(html, parts.plots, SPECTRUM_FILE);
    let mut rows: Vec<(String, Percentiles, String)> = vec![(
        E2E_TAG.to_string(),
        summary.latency_ns,
        "institution's intended send time → its answer".to_string(),
    )];
    for (name, stage) in summary.ordered_stages() {
        let mut what = "event time → the end of the batch that handled it".to_string();
        if let Some(events) = stage.events {
            what.push_str(&format!("; {} events", thousands(events)));
        }
        if let Some(workers) = stage.workers {
            what.push_str(&format!(
                "; {workers} worker{}",
                if workers == 1 { "" } else { "s" }
            ));
        }
        rows.push((name.to_string(), stage.latency_ns, what));
    }
    let counted = !parts.recorded.is_empty();
    html.push_str("<table>\n<tr><th>tag</th>");
    if counted {
        html.push_str("<th class=\"num\">recorded</th>");
    }
    for heading in ["p50", "p90", "p99", "p99.9", "p99.99", "max"] {
        let _ = write!(html, "<th class=\"num\">{heading}</th>");
    }
    html.push_str("<th>from → to</th></tr>\n");
    let mut extra: Vec<(String, u64)> = parts
        .recorded
        .iter()
        .filter(|(tag, _)| !rows.iter().any(|(name, _, _)| name == tag))
        .cloned()
        .collect();
    extra.sort_by_key(|(tag, _)| step_rank(tag));
    for (tag, latency, what) in &rows {
        let _ = write!(html, "<tr><td><code>{}</code></td>", escape(tag));
        if counted {
            let count = parts
                .recorded
                .iter()
                .find(|(name, _)| name == tag)
                .map(|(_, count)| thousands(*count))
                .unwrap_or_else(|| "–".to_string());
            let _ = write!(html, "<td class=\"num\">{count}</td>");
        }
        for value in [
            latency.p50,
            latency.p90,
            latency.p99,
            latency.p999,
            latency.p9999,
            latency.max,
        ] {
            let _ = write!(html, "<td class=\"num\">{}</td>", human_ns(value));
        }
        let _ = writeln!(html, "<td>{}</td></tr>", escape(what));
    }
    html.push_str("</table>\n");
    if counted {
        html.push_str(
            "<p class=\"env\">Percentiles are the summary's; <em>recorded</em> counts the \
             latencies in latency.hlog's measured intervals.</p>\n",
        );
    }
    if !extra.is_empty() {
        let listed: Vec<String> = extra
            .iter()
            .map(|(tag, count)| format!("{} ({})", escape(tag), thousands(*count)))
            .collect();
        let _ = writeln!(
            html,
            "<p class=\"env\">Also in latency.hlog: {}.</p>",
            listed.join(", ")
        );
    }
    html.push_str("</section>\n");
}

/// Throughput and latency over time.
fn over_time_section(html: &mut String, parts: &Parts<'_>) {
    let summary = &parts.inputs.summary;
    html.push_str("<section id=\"over-time\">\n<h2>Over time</h2>\n");
    let throughput = figure(html, parts.plots, THROUGHPUT_FILE);
    let latency = figure(html, parts.plots, LATENCY_OVER_TIME_FILE);
    if !throughput && !latency {
        html.push_str(
            "<p class=\"note\">Nothing second by second to draw: the summary has no timeline \
             and there is no interval log.</p>\n",
        );
    }
    if !summary.timeline.is_empty() {
        let warmup = summary.timeline.iter().filter(|s| s.warmup).count();
        let measured = summary.timeline.len() - warmup;
        let _ = writeln!(
            html,
            "<p class=\"env\">Timeline: {measured} measured second{}, {warmup} of warm-up.</p>",
            if measured == 1 { "" } else { "s" }
        );
    }
    html.push_str("</section>\n");
}

/// The outcomes plot and table.
fn outcomes_section(html: &mut String, parts: &Parts<'_>) {
    let summary = &parts.inputs.summary;
    let payments = summary.payments;
    html.push_str("<section id=\"outcomes\">\n<h2>Outcomes</h2>\n");
    figure(html, parts.plots, OUTCOMES_FILE);
    html.push_str(
        "<table>\n<tr><th>outcome</th><th class=\"num\">payments</th>\
         <th class=\"num\">share</th></tr>\n",
    );
    let share = |count: u64| {
        if payments.submitted == 0 {
            "–".to_string()
        } else {
            percent(count as f64 / payments.submitted as f64)
        }
    };
    for outcome in outcomes_of(summary) {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&outcome.name),
            thousands(outcome.count),
            share(outcome.count)
        );
    }
    let _ = writeln!(
        html,
        "<tr><th>submitted</th><th class=\"num\">{}</th><th class=\"num\"></th></tr>",
        thousands(payments.submitted)
    );
    html.push_str("</table>\n</section>\n");
}

/// The checks and the generator's figures.
fn checks_section(html: &mut String, summary: &RunSummary) {
    if summary.checks.is_empty() && summary.generator.is_none() {
        return;
    }
    html.push_str("<section id=\"checks\">\n<h2>Checks</h2>\n");
    if !summary.checks.is_empty() {
        html.push_str("<table>\n<tr><th>check</th><th>result</th></tr>\n");
        for (name, passed) in &summary.checks {
            let (class, word) = if *passed {
                ("pass", "pass")
            } else {
                ("fail", "FAIL")
            };
            let _ = writeln!(
                html,
                "<tr><td><code>{}</code></td><td class=\"{class}\">{word}</td></tr>",
                escape(name)
            );
        }
        html.push_str("</table>\n");
    }
    if let Some(generator) = summary.generator {
        let mut rows: Vec<(&str, String)> = Vec::new();
        if let Some(planned) = generator.planned {
            rows.push(("planned", thousands(planned)));
        }
        if let Some(offered) = generator.offered {
            rows.push(("offered", thousands(offered)));
        }
        if let Some(late) = generator.late {
            let fraction = generator
                .late_fraction
                .map(|fraction| format!(" ({})", percent(fraction)))
                .unwrap_or_default();
            rows.push(("sent late", format!("{}{fraction}", thousands(late))));
        } else if let Some(fraction) = generator.late_fraction {
            rows.push(("sent late", percent(fraction)));
        }
        if let Some(latest) = generator.late_max_ns {
            rows.push(("latest", human_ns(latest)));
        }
        if let Some(caps) = generator.caps_hit {
            rows.push(("caps hit", thousands(caps)));
        }
        if let Some(kept_up) = generator.kept_up {
            rows.push(("kept up", if kept_up { "yes" } else { "NO" }.to_string()));
        }
        if !rows.is_empty() {
            html.push_str("<h3>Load generator</h3>\n<table>\n");
            for (name, value) in rows {
                let _ = writeln!(
                    html,
                    "<tr><td>{name}</td><td class=\"num\">{}</td></tr>",
                    escape(&value)
                );
            }
            html.push_str("</table>\n");
        }
    }
    html.push_str("</section>\n");
}

/// What a file in a results folder is, when its name says.
fn describe(name: &str) -> &'static str {
    match name {
        "summary.json" => "the run's summary (JSON, docs/OUTPUT.md)",
        "latency.hlog" => "latency interval log, one interval a second per tag (HdrHistogram)",
        "scenario.toml" => "the scenario the run played",
        "environment.json" => "the machine and build",
        _ if name.ends_with(".hgrm") => "percentile spectrum as text (HdrHistogram)",
        _ if name.ends_with(".hlog") => "interval log (HdrHistogram)",
        _ => "",
    }
}

/// Links to the folder's other files.
fn files_section(html: &mut String, files: &[FileEntry]) {
    html.push_str("<section id=\"files\">\n<h2>Files</h2>\n");
    if files.is_empty() {
        html.push_str("<p>No other files in this folder.</p>\n</section>\n");
        return;
    }
    html.push_str("<ul>\n");
    for file in files {
        let (link, size) = match file.size_bytes {
            Some(size) => (href(&file.name), bytes(size)),
            None => (format!("{}/", href(&file.name)), "folder".to_string()),
        };
        let what = describe(&file.name);
        let what = if what.is_empty() {
            String::new()
        } else {
            format!(": {what}")
        };
        let _ = writeln!(
            html,
            "<li><a href=\"{link}\"><code>{}</code></a> ({size}){what}</li>",
            escape(&file.name)
        );
    }
    html.push_str("</ul>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_html_and_names_for_urls() {
        assert_eq!(
            escape(r#"<b>"Tom" & 'Jerry'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
        assert_eq!(escape("plain µs → text"), "plain µs → text");
        assert_eq!(href("e2e.hgrm"), "e2e.hgrm");
        assert_eq!(href("a b#?.txt"), "a%20b%23%3F.txt");
        assert_eq!(href("é"), "%C3%A9");
    }

    fn summary(extra: &str) -> RunSummary {
        let text = format!(
            r#"{{"seed": 1, "duration_s": 1, "offered_per_s": 1, "throughput_per_s": 1,
                "payments": {{"submitted": 1, "approved": 1, "declined": 0, "rejected": 0,
                             "expired": 0, "busy": 0}},
                "latency_ns": {{"p50": 1, "p90": 1, "p99": 1, "p999": 1, "p9999": 1,
                               "max": 1}}
                {extra}}}"#
        );
        RunSummary::from_json(&text).unwrap()
    }

    #[test]
    fn the_verdict_names_what_failed_first() {
        assert_eq!(verdict(&summary(r#", "ok": true"#)).headline, "PASS");
        let gate = r#"{"gate": "p99<2ms", "threshold": 2e6, "measured": 3e6, "unit": "ns",
                       "passed": false}"#;
        let slo = verdict(&summary(&format!(r#", "ok": true, "slo": [{gate}]"#)));
        assert_eq!(slo.headline, "SLO FAILED");
        assert_eq!(slo.reasons, ["gate p99<2ms failed: measured 3.00 ms"]);
        let check = verdict(&summary(
            r#", "ok": false, "checks": {"outcomes_add_up": false, "other": true}"#,
        ));
        assert_eq!(check.headline, "CHECK FAILED");
        assert_eq!(check.reasons, ["check outcomes_add_up failed"]);
        let invalid = verdict(&summary(
            r#", "ok": false, "valid": false, "generator": {"late_fraction": 0.125}"#,
        ));
        assert_eq!(
            invalid.headline,
            "INVALID RUN (the generator fell behind: 12.5% late)"
        );
        assert_eq!(invalid.class, "invalid");
    }
}
