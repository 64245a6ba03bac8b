//! [`Plot`]: one SVG image of the report, drawn with plotters' SVG backend: the latency
//! spectrum, throughput and latency over time, and the outcomes.
//!
//! The SVG backend writes text as `<text>` elements and lets the browser choose the font, so no
//! font is loaded here; plotters only estimates text widths for its layout.

use std::ops::Range;

use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::inputs::{E2eSecond, RunSummary, Second, SloGate, TagTotal};
use crate::run::summary::thousands;

/// The spectrum's file name.
pub const SPECTRUM_FILE: &str = "spectrum.svg";
/// The throughput plot's file name.
pub const THROUGHPUT_FILE: &str = "throughput.svg";
/// The latency-over-time plot's file name.
pub const LATENCY_OVER_TIME_FILE: &str = "latency-over-time.svg";
/// The outcomes plot's file name.
pub const OUTCOMES_FILE: &str = "outcomes.svg";
/// Every image the report may write.
pub const PLOT_FILES: [&str; 4] = [
    SPECTRUM_FILE,
    THROUGHPUT_FILE,
    LATENCY_OVER_TIME_FILE,
    OUTCOMES_FILE,
];

/// Quantile steps per halving of the distance to 100%, as HdrHistogram's percentile output
/// takes them.
const SPECTRUM_TICKS_PER_HALF: u32 = 5;
/// The spectrum's x axis reaches at least 99% and at most 99.9999%.
const SPECTRUM_DECADES: Range<i32> = 2..7;

/// Latency over time marks each interval's point up to this many intervals.
const MARKED_INTERVALS: usize = 120;

/// Every plot's width.
pub(crate) const WIDTH_PX: u32 = 960;
/// The spectrum's height.
const SPECTRUM_HEIGHT_PX: u32 = 520;
/// The plots over time's height.
const OVER_TIME_HEIGHT_PX: u32 = 400;
/// The outcomes plot's height per bar, and for its axis and title.
const OUTCOME_BAR_PX: u32 = 34;
/// The outcomes plot's height less its bars.
const OUTCOME_FRAME_PX: u32 = 110;

/// Plotters' font sizes: the SVG's `font-size` is these ÷ 1.24.
pub(crate) const TITLE_SIZE: f64 = 26.0;
/// Tick labels and the legend.
pub(crate) const LABEL_SIZE: f64 = 17.0;
/// Axis descriptions.
pub(crate) const DESC_SIZE: f64 = 18.0;
/// The font family: the browser's sans-serif.
pub(crate) const FONT: &str = "sans-serif";

/// The end-to-end line's colour, then each step's, then others'.
const TAG_COLOURS: [RGBColor; 6] = [
    RGBColor(31, 78, 140),
    RGBColor(230, 126, 34),
    RGBColor(39, 174, 96),
    RGBColor(142, 68, 173),
    RGBColor(22, 160, 133),
    RGBColor(127, 127, 127),
];
/// Offered payments.
const OFFERED_COLOUR: RGBColor = RGBColor(150, 150, 150);
/// Answered payments, and the p99 line.
const ANSWERED_COLOUR: RGBColor = RGBColor(31, 78, 140);
/// The median line.
const P50_COLOUR: RGBColor = RGBColor(39, 174, 96);
/// The maximum line, and rejected payments.
const MAX_COLOUR: RGBColor = RGBColor(192, 57, 43);
/// Gates' lines.
const GATE_COLOUR: RGBColor = RGBColor(211, 84, 0);
/// Warm-up shading.
const WARMUP_COLOUR: RGBColor = RGBColor(225, 225, 225);
/// Light grid lines.
pub(crate) const GRID_COLOUR: RGBColor = RGBColor(235, 235, 235);
/// Bold grid lines.
pub(crate) const BOLD_GRID_COLOUR: RGBColor = RGBColor(200, 200, 200);

/// One image, drawn, with what the page says of it.
#[derive(Clone, Debug)]
pub struct Plot {
    /// Its file name, beside `report.html`.
    pub file: &'static str,
    /// Its alternative text.
    pub alt: String,
    /// Its caption.
    pub caption: String,
    /// Its width.
    pub width_px: u32,
    /// Its height.
    pub height_px: u32,
    /// The SVG document.
    pub svg: String,
}

/// The points of `histogram`'s percentile spectrum, as HdrHistogram plots it: x is
/// 1 / (1 − quantile), capped at `x_max` (so the last points, and the maximum, sit at the right
/// edge); y is the latency, at least 1.
pub fn spectrum_points(histogram: &Histogram<u64>, x_max: f64) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = Vec::new();
    if histogram.is_empty() {
        return points;
    }
    for step in histogram.iter_quantiles(SPECTRUM_TICKS_PER_HALF) {
        let quantile = step.quantile_iterated_to();
        let x = if quantile >= 1.0 {
            x_max
        } else {
            (1.0 / (1.0 - quantile)).min(x_max)
        };
        let y = step.value_iterated_to().max(1) as f64;
        if points.last() != Some(&(x, y)) {
            points.push((x, y));
        }
    }
    let max = histogram.max().max(1) as f64;
    if points.last() != Some(&(x_max, max)) {
        points.push((x_max, max));
    }
    points
}

/// `0%`, `90%`, `99%` … for x = 1, 10, 100 …; `50%` for 2.
fn percentile_label(x: f64) -> String {
    if (x - 2.0).abs() < 1e-9 {
        return "50%".to_string();
    }
    let decades = x.log10().round() as i32;
    match decades {
        0 => "0%".to_string(),
        1 => "90%".to_string(),
        2 => "99%".to_string(),
        decades => format!("99.{}%", "9".repeat(decades as usize - 2)),
    }
}

/// A value with at most three decimals and no trailing zeros: `2`, `0.5`, `12.25`.
pub(crate) fn trimmed(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// A latency axis tick: `500 ns`, `2 µs`, `10 ms`, `1.5 s`.
fn latency_tick(nanoseconds: f64) -> String {
    if nanoseconds < 1e3 {
        format!("{} ns", trimmed(nanoseconds))
    } else if nanoseconds < 1e6 {
        format!("{} µs", trimmed(nanoseconds / 1e3))
    } else if nanoseconds < 1e9 {
        format!("{} ms", trimmed(nanoseconds / 1e6))
    } else {
        format!("{} s", trimmed(nanoseconds / 1e9))
    }
}

/// A log axis: its range, from a 1-2-5 step at or below the least value to one at or above the
/// greatest, and its labelled and unlabelled grid lines.
#[derive(Clone, Debug, PartialEq)]
struct LogAxis {
    /// From and to.
    range: Range<f64>,
    /// Labelled: every 1-2-5 step over three decades or less, else the powers of ten.
    bold: Vec<f64>,
    /// Unlabelled: the other whole multiples of each power of ten.
    light: Vec<f64>,
}

impl LogAxis {
    /// The axis for values from `least` to `greatest` (both above 0).
    fn new(least: f64, greatest: f64) -> LogAxis {
        let least = least.max(1.0);
        let greatest = greatest.max(least);
        let steps = |decade: i32| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(decade));
        let low_decade = least.log10().floor() as i32;
        let from = steps(low_decade)
            .into_iter()
            .rev()
            .find(|step| *step <= least * (1.0 + 1e-9))
            .unwrap_or(10f64.powi(low_decade));
        let high_decade = greatest.log10().floor() as i32;
        let to = steps(high_decade)
            .into_iter()
            .chain([10f64.powi(high_decade + 1)])
            .find(|step| *step >= greatest * (1.0 - 1e-9) && *step > from)
            .unwrap_or(10f64.powi(high_decade + 1));
        let within = |value: &f64| *value >= from * (1.0 - 1e-9) && *value <= to * (1.0 + 1e-9);
        let few = (to / from).log10() <= 3.0;
        let mut bold = Vec::new();
        let mut light = Vec::new();
        for decade in low_decade..=high_decade + 1 {
            for multiple in 1..10 {
                let value = f64::from(multiple) * 10f64.powi(decade);
                if !within(&value) {
                    continue;
                }
                if multiple == 1 || (few && (multiple == 2 || multiple == 5)) {
                    bold.push(value);
                } else {
                    light.push(value);
                }
            }
        }
        LogAxis {
            range: from..to,
            bold,
            light,
        }
    }
}

/// Plotters' result, as a sentence.
pub(crate) fn drawn<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, String> {
    result.map_err(|error| format!("plotting failed: {error}"))
}

/// `chart`'s legend at `position`, in the report's style: the series' labels on white, a grid
/// line's border.
pub(crate) fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    drawn(
        chart
            .configure_series_labels()
            .position(position)
            .label_font((FONT, LABEL_SIZE))
            .background_style(WHITE.mix(0.9))
            .border_style(BOLD_GRID_COLOUR)
            .draw(),
    )
}

/// A fresh white drawing area on `svg`.
pub(crate) fn canvas(
    svg: &mut String,
    width_px: u32,
    height_px: u32,
) -> DrawingArea<SVGBackend<'_>, Shift> {
    SVGBackend::with_string(svg, (width_px, height_px)).into_drawing_area()
}

/// `tag`'s line colour (`index` is its place among the lines).
fn tag_colour(index: usize) -> RGBColor {
    TAG_COLOURS[index.min(TAG_COLOURS.len() - 1)]
}

/// The latency percentile spectrum of every tag that recorded something; `None` when none did.
pub fn spectrum(totals: &[TagTotal]) -> Result<Option<Plot>, String> {
    let recorded: Vec<&TagTotal> = totals
        .iter()
        .filter(|total| total.latencies.count() > 0)
        .collect();
    let Some(most) = recorded.iter().map(|total| total.latencies.count()).max() else {
        return Ok(None);
    };
    let decades = ((most as f64).log10().ceil() as i32)
        .clamp(SPECTRUM_DECADES.start, SPECTRUM_DECADES.end - 1);
    let x_max = 10f64.powi(decades);
    let lines: Vec<(&str, Vec<(f64, f64)>)> = recorded
        .iter()
        .map(|total| {
            (
                total.tag.as_str(),
                spectrum_points(total.latencies.histogram(), x_max),
            )
        })
        .collect();
    let values = lines
        .iter()
        .flat_map(|(_, points)| points.iter().map(|p| p.1));
    let least = values.clone().fold(f64::INFINITY, f64::min);
    let greatest = values.fold(0.0, f64::max);
    let y_axis = LogAxis::new(least, greatest);
    let mut x_ticks: Vec<f64> = (0..=decades).map(|decade| 10f64.powi(decade)).collect();
    x_ticks.insert(1, 2.0);

    let mut svg = String::new();
    {
        let root = canvas(&mut svg, WIDTH_PX, SPECTRUM_HEIGHT_PX);
        drawn(root.fill(&WHITE))?;
        let mut chart = drawn(
            ChartBuilder::on(&root)
                .caption("Latency by percentile", (FONT, TITLE_SIZE))
                .margin(18)
                .margin_right(44)
                .x_label_area_size(56)
                .y_label_area_size(90)
                .build_cartesian_2d(
                    (1.0..x_max).log_scale().with_key_points(x_ticks),
                    y_axis
                        .range
                        .clone()
                        .log_scale()
                        .with_key_points(y_axis.bold.clone())
                        .with_light_points(y_axis.light.clone()),
                ),
        )?;
        drawn(
            chart
                .configure_mesh()
                .x_desc("percentile (log scale of 1 / (1 − p))")
                .y_desc("latency (log scale)")
                .x_label_formatter(&|x| percentile_label(*x))
                .y_label_formatter(&|y| latency_tick(*y))
                .label_style((FONT, LABEL_SIZE))
                .axis_desc_style((FONT, DESC_SIZE))
                .bold_line_style(BOLD_GRID_COLOUR)
                .light_line_style(GRID_COLOUR)
                .draw(),
        )?;
        for (index, (tag, points)) in lines.iter().enumerate() {
            let colour = tag_colour(index);
            let width = if index == 0 { 3 } else { 2 };
            drawn(chart.draw_series(LineSeries::new(points.clone(), colour.stroke_width(width))))?
                .label(*tag)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(width))
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        drawn(root.present())?;
    }
    let tags: Vec<&str> = lines.iter().map(|(tag, _)| *tag).collect();
    Ok(Some(Plot {
        file: SPECTRUM_FILE,
        alt: format!(
            "Latency percentile spectrum of {}: latency on a log scale against the percentile \
             on a log scale of 1/(1−p), from 0% to {}.",
            tags.join(", "),
            percentile_label(x_max)
        ),
        caption: format!(
            "Latency by percentile, every measured interval of latency.hlog added: {}. The \
             further right, the rarer; the last point of each line is its maximum.",
            tags.join(", ")
        ),
        width_px: WIDTH_PX,
        height_px: SPECTRUM_HEIGHT_PX,
        svg,
    }))
}

/// How a legend entry is drawn.
#[derive(Clone, Copy, Debug)]
enum Swatch {
    /// A solid line.
    Line(RGBColor),
    /// A dashed line.
    Dashed(RGBColor),
    /// A shaded box.
    Shade(RGBColor),
}

/// One legend entry.
struct LegendEntry {
    /// What it names.
    label: String,
    /// How it is drawn.
    swatch: Swatch,
}

/// A legend row's height.
const LEGEND_ROW_PX: u32 = 26;
/// The legend strip's margins, above and below its rows.
const LEGEND_PAD_PX: u32 = 6;
/// A legend swatch's width, and the gap before its label.
const SWATCH_PX: i32 = 26;
/// Estimated pixels per character of a legend label (the browser chooses the font).
const LEGEND_CHAR_PX: i32 = 8;
/// The space between two legend entries.
const LEGEND_GAP_PX: i32 = 28;

impl LegendEntry {
    /// The entry's estimated width.
    fn width_px(&self) -> i32 {
        SWATCH_PX + 8 + LEGEND_CHAR_PX * self.label.chars().count() as i32
    }
}

/// The legend's entries in rows, each row no wider than `width_px`.
fn legend_rows(entries: &[LegendEntry], width_px: i32) -> Vec<Vec<&LegendEntry>> {
    let mut rows: Vec<Vec<&LegendEntry>> = Vec::new();
    let mut used = 0;
    for entry in entries {
        let width = entry.width_px();
        match rows.last_mut() {
            Some(row) if used + LEGEND_GAP_PX + width <= width_px => {
                row.push(entry);
                used += LEGEND_GAP_PX + width;
            }
            _ => {
                rows.push(vec![entry]);
                used = width;
            }
        }
    }
    rows
}

/// The height of the strip [`draw_legend`] draws `entries` in.
fn legend_height_px(entries: &[LegendEntry]) -> u32 {
    let rows = legend_rows(entries, WIDTH_PX as i32 - 40).len() as u32;
    rows * LEGEND_ROW_PX + 2 * LEGEND_PAD_PX
}

/// Draws `entries` centred in rows on `area`, a strip under the chart, where no line can hide
/// them.
fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    entries: &[LegendEntry],
) -> Result<(), String> {
    let (width_px, _) = area.dim_in_pixel();
    let style =
        TextStyle::from((FONT, LABEL_SIZE).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (index, row) in legend_rows(entries, width_px as i32 - 40)
        .iter()
        .enumerate()
    {
        let row_width: i32 = row.iter().map(|entry| entry.width_px()).sum::<i32>()
            + LEGEND_GAP_PX * (row.len() as i32 - 1);
        let mut x = (width_px as i32 - row_width) / 2;
        let y = (LEGEND_PAD_PX + LEGEND_ROW_PX * index as u32 + LEGEND_ROW_PX / 2) as i32;
        for entry in row {
            match entry.swatch {
                Swatch::Line(colour) => drawn(area.draw(&PathElement::new(
                    vec![(x, y), (x + SWATCH_PX, y)],
                    colour.stroke_width(3),
                )))?,
                Swatch::Dashed(colour) => {
                    for dash in [0, 16] {
                        drawn(area.draw(&PathElement::new(
                            vec![(x + dash, y), (x + dash + 10, y)],
                            colour.stroke_width(2),
                        )))?;
                    }
                }
                Swatch::Shade(colour) => drawn(area.draw(&Rectangle::new(
                    [(x, y - 8), (x + SWATCH_PX, y + 8)],
                    colour.filled(),
                )))?,
            }
            drawn(area.draw(&Text::new(
                entry.label.clone(),
                (x + SWATCH_PX + 8, y),
                style.clone(),
            )))?;
            x += entry.width_px() + LEGEND_GAP_PX;
        }
    }
    Ok(())
}

/// A stepped line through per-second values: each value held from its second's start to its
/// end.
fn steps(seconds: impl Iterator<Item = (f64, f64, f64)>) -> Vec<(f64, f64)> {
    let mut points = Vec::new();
    for (start_s, length_s, value) in seconds {
        points.push((start_s, value));
        points.push((start_s + length_s, value));
    }
    points
}

/// A line of a plot over time, in segments where it has gaps.
struct Line {
    /// What the legend calls it.
    label: &'static str,
    /// Its colour.
    colour: RGBColor,
    /// Its points, split where there is nothing to draw.
    segments: Vec<Vec<(f64, f64)>>,
}

impl Line {
    /// A line of one segment, `points`.
    fn new(label: &'static str, colour: RGBColor, points: Vec<(f64, f64)>) -> Line {
        Line {
            label,
            colour,
            segments: vec![points],
        }
    }

    /// Every point of every segment.
    fn points(&self) -> impl Iterator<Item = &(f64, f64)> + Clone + '_ {
        self.segments.iter().flatten()
    }
}

/// A time axis label: `0 s`, `2.5 s`.
fn seconds_tick(seconds: f64) -> String {
    format!("{} s", trimmed(seconds))
}

/// Payments a second from the timeline (offered and answered, warm-up shaded), or else from
/// the end-to-end intervals' counts; `None` when there is neither.
pub fn throughput(
    timeline: &[Second],
    e2e: &[E2eSecond<'_>],
    warmup_s: f64,
) -> Result<Option<Plot>, String> {
    let rate = |count: u64, length_s: f64| {
        if length_s > 0.0 {
            count as f64 / length_s
        } else {
            0.0
        }
    };
    let (lines, warmup, source) = if !timeline.is_empty() {
        let offered = steps(
            timeline
                .iter()
                .map(|s| (s.start_s, s.length_s, rate(s.offered, s.length_s))),
        );
        let answered = steps(
            timeline
                .iter()
                .map(|s| (s.start_s, s.length_s, rate(s.answered, s.length_s))),
        );
        let warm: Vec<&Second> = timeline.iter().filter(|s| s.warmup).collect();
        let warmup = match (warm.first(), warm.last()) {
            (Some(first), Some(last)) => Some(first.start_s..last.start_s + last.length_s),
            _ => None,
        };
        (
            vec![
                Line::new("offered", OFFERED_COLOUR, offered),
                Line::new("answered", ANSWERED_COLOUR, answered),
            ],
            warmup,
            "the summary's timeline",
        )
    } else if !e2e.is_empty() {
        let answered = steps(
            e2e.iter()
                .map(|s| (s.start_s, s.length_s, rate(s.histogram.len(), s.length_s))),
        );
        let warmup = (warmup_s > 0.0).then_some(0.0..warmup_s);
        (
            vec![Line::new(
                "answered (e2e latencies recorded)",
                ANSWERED_COLOUR,
                answered,
            )],
            warmup,
            "the e2e intervals of latency.hlog",
        )
    } else {
        return Ok(None);
    };
    let points = lines.iter().flat_map(Line::points);
    let mut x_from = points.clone().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let mut x_to = points
        .clone()
        .map(|p| p.0)
        .fold(f64::NEG_INFINITY, f64::max);
    if let Some(warmup) = &warmup {
        x_from = x_from.min(warmup.start);
        x_to = x_to.max(warmup.end);
    }
    if x_to <= x_from {
        x_to = x_from + 1.0;
    }
    let y_to = points.map(|p| p.1).fold(0.0, f64::max).max(1.0) * 1.15;

    let mut legend: Vec<LegendEntry> = Vec::new();
    if warmup.is_some() {
        legend.push(LegendEntry {
            label: "warm-up (excluded)".to_string(),
            swatch: Swatch::Shade(WARMUP_COLOUR),
        });
    }
    for line in &lines {
        legend.push(LegendEntry {
            label: line.label.to_string(),
            swatch: Swatch::Line(line.colour),
        });
    }
    let height_px = OVER_TIME_HEIGHT_PX + legend_height_px(&legend);
    let mut svg = String::new();
    {
        let root = canvas(&mut svg, WIDTH_PX, height_px);
        drawn(root.fill(&WHITE))?;
        let (chart_area, legend_area) = root.split_vertically(OVER_TIME_HEIGHT_PX);
        let mut chart = drawn(
            ChartBuilder::on(&chart_area)
                .caption("Throughput, second by second", (FONT, TITLE_SIZE))
                .margin(18)
                .margin_bottom(4)
                .x_label_area_size(56)
                .y_label_area_size(100)
                .build_cartesian_2d(x_from..x_to, 0.0..y_to),
        )?;
        drawn(
            chart
                .configure_mesh()
                .x_desc("seconds from the load's start")
                .y_desc("payments/s")
                .x_label_formatter(&|x| seconds_tick(*x))
                .y_label_formatter(&|y| thousands(y.max(0.0).round() as u64))
                .label_style((FONT, LABEL_SIZE))
                .axis_desc_style((FONT, DESC_SIZE))
                .bold_line_style(BOLD_GRID_COLOUR)
                .light_line_style(GRID_COLOUR)
                .draw(),
        )?;
        if let Some(warmup) = warmup {
            drawn(chart.draw_series(std::iter::once(Rectangle::new(
                [(warmup.start, 0.0), (warmup.end, y_to)],
                WARMUP_COLOUR.mix(0.6).filled(),
            ))))?;
        }
        // Offered first and wider, so that answered drawn over it leaves it showing.
        for line in lines {
            let width = if line.colour == OFFERED_COLOUR { 5 } else { 2 };
            for segment in line.segments {
                drawn(
                    chart.draw_series(LineSeries::new(segment, line.colour.stroke_width(width))),
                )?;
            }
        }
        draw_legend(&legend_area, &legend)?;
        drawn(root.present())?;
    }
    Ok(Some(Plot {
        file: THROUGHPUT_FILE,
        alt: format!("Payments per second, second by second, from {source}."),
        caption: format!(
            "Payments per second, second by second, from {source}; seconds shaded grey are \
             warm-up, left out of every figure."
        ),
        width_px: WIDTH_PX,
        height_px,
        svg,
    }))
}

/// The end-to-end p50, p99 and maximum of each interval, with the latency gates on `e2e` as
/// dashed lines; `None` when no interval recorded anything.
pub fn latency_over_time(
    e2e: &[E2eSecond<'_>],
    gates: &[SloGate],
    warmup_s: f64,
) -> Result<Option<Plot>, String> {
    let figures = [
        ("max", MAX_COLOUR, 1.0),
        ("p99", ANSWERED_COLOUR, 0.99),
        ("p50", P50_COLOUR, 0.5),
    ];
    // Each line, split where an interval recorded nothing.
    let mut lines: Vec<Line> = figures
        .iter()
        .map(|(name, colour, _)| Line::new(name, *colour, Vec::new()))
        .collect();
    for second in e2e {
        for ((_, _, quantile), line) in figures.iter().zip(lines.iter_mut()) {
            let segments = &mut line.segments;
            let segment = segments
                .last_mut()
                .expect("every line starts with a segment");
            if second.histogram.is_empty() {
                if !segment.is_empty() {
                    segments.push(Vec::new());
                }
                continue;
            }
            let value = if *quantile >= 1.0 {
                second.histogram.max()
            } else {
                second.histogram.value_at_quantile(*quantile)
            };
            segment.push((second.start_s + second.length_s / 2.0, value.max(1) as f64));
        }
    }
    let points = lines.iter().flat_map(Line::points);
    let least = points.clone().map(|p| p.1).fold(f64::INFINITY, f64::min);
    if !least.is_finite() {
        return Ok(None);
    }
    let gates: Vec<&SloGate> = gates
        .iter()
        .filter(|gate| {
            gate.unit.as_deref() == Some("ns")
                && gate
                    .metric
                    .as_deref()
                    .is_some_and(|metric| metric.starts_with("e2e."))
                && gate.threshold > 0.0
        })
        .collect();
    let greatest = points
        .map(|p| p.1)
        .chain(gates.iter().map(|gate| gate.threshold))
        .fold(0.0, f64::max);
    let least = gates
        .iter()
        .map(|gate| gate.threshold)
        .fold(least, f64::min);
    let y_axis = LogAxis::new(least, greatest);
    let mut x_from = e2e.iter().map(|s| s.start_s).fold(f64::INFINITY, f64::min);
    let mut x_to = e2e
        .iter()
        .map(|s| s.start_s + s.length_s)
        .fold(f64::NEG_INFINITY, f64::max);
    if warmup_s > 0.0 {
        x_from = x_from.min(0.0);
    }
    if x_to <= x_from {
        x_to = x_from + 1.0;
    }

    let show_warmup = warmup_s > 0.0 && x_from < warmup_s;
    let mut legend: Vec<LegendEntry> = Vec::new();
    if show_warmup {
        legend.push(LegendEntry {
            label: "warm-up (not recorded)".to_string(),
            swatch: Swatch::Shade(WARMUP_COLOUR),
        });
    }
    for gate in &gates {
        legend.push(LegendEntry {
            label: format!("gate {}", gate.gate),
            swatch: Swatch::Dashed(GATE_COLOUR),
        });
    }
    for line in lines.iter().rev() {
        legend.push(LegendEntry {
            label: line.label.to_string(),
            swatch: Swatch::Line(line.colour),
        });
    }
    let height_px = OVER_TIME_HEIGHT_PX + legend_height_px(&legend);
    let mut svg = String::new();
    {
        let root = canvas(&mut svg, WIDTH_PX, height_px);
        drawn(root.fill(&WHITE))?;
        let (chart_area, legend_area) = root.split_vertically(OVER_TIME_HEIGHT_PX);
        let mut chart = drawn(
            ChartBuilder::on(&chart_area)
                .caption("End-to-end latency, second by second", (FONT, TITLE_SIZE))
                .margin(18)
                .margin_bottom(4)
                .x_label_area_size(56)
                .y_label_area_size(90)
                .build_cartesian_2d(
                    x_from..x_to,
                    y_axis
                        .range
                        .clone()
                        .log_scale()
                        .with_key_points(y_axis.bold.clone())
                        .with_light_points(y_axis.light.clone()),
                ),
        )?;
        drawn(
            chart
                .configure_mesh()
                .x_desc("seconds from the load's start")
                .y_desc("latency (log scale)")
                .x_label_formatter(&|x| seconds_tick(*x))
                .y_label_formatter(&|y| latency_tick(*y))
                .label_style((FONT, LABEL_SIZE))
                .axis_desc_style((FONT, DESC_SIZE))
                .bold_line_style(BOLD_GRID_COLOUR)
                .light_line_style(GRID_COLOUR)
                .draw(),
        )?;
        if show_warmup {
            drawn(chart.draw_series(std::iter::once(Rectangle::new(
                [(x_from, y_axis.range.start), (warmup_s, y_axis.range.end)],
                WARMUP_COLOUR.mix(0.6).filled(),
            ))))?;
        }
        for gate in &gates {
            drawn(chart.draw_series(DashedLineSeries::new(
                [(x_from, gate.threshold), (x_to, gate.threshold)],
                10,
                6,
                GATE_COLOUR.stroke_width(2),
            )))?;
        }
        // A marker per interval while they are few enough to tell apart.
        let marker_px = if e2e.len() <= MARKED_INTERVALS { 3 } else { 0 };
        for line in lines {
            for segment in line.segments.into_iter().filter(|s| !s.is_empty()) {
                drawn(chart.draw_series(
                    LineSeries::new(segment, line.colour.stroke_width(2)).point_size(marker_px),
                ))?;
            }
        }
        draw_legend(&legend_area, &legend)?;
        drawn(root.present())?;
    }
    Ok(Some(Plot {
        file: LATENCY_OVER_TIME_FILE,
        alt: "End-to-end latency p50, p99 and maximum of each second, on a log scale, against \
              seconds from the load's start."
            .to_string(),
        caption: "End-to-end latency of each second of latency.hlog: median, 99th percentile \
                  and maximum, one point per interval; dashed lines are the run's latency \
                  gates."
            .to_string(),
        width_px: WIDTH_PX,
        height_px,
        svg,
    }))
}

/// One bar of the outcomes plot.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// What it counts: `approved`, `rejected: BadMac`.
    pub name: String,
    /// Payments.
    pub count: u64,
}

/// `1500` → `1.5k`, `2000000` → `2M`: an axis label that stays short.
fn compact(value: f64) -> String {
    let (scaled, suffix) = if value >= 1e6 {
        (value / 1e6, "M")
    } else if value >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let text = format!("{scaled:.1}");
    format!("{}{suffix}", text.trim_end_matches(".0"))
}

/// The outcomes in the order the page shows them: approved, declined, expired, busy, then each
/// reject reason (or `rejected` alone when the summary names no reason), with any rejects no
/// reason accounts for as `rejected: other`.
pub fn outcomes_of(summary: &RunSummary) -> Vec<Outcome> {
    let payments = summary.payments;
    let mut outcomes: Vec<Outcome> = [
        ("approved", payments.approved),
        ("declined", payments.declined),
        ("expired", payments.expired),
        ("busy", payments.busy),
    ]
    .into_iter()
    .map(|(name, count)| Outcome {
        name: name.to_string(),
        count,
    })
    .collect();
    let mut reasons: Vec<(&String, &u64)> = summary.rejects_by_reason.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let named: u64 = reasons.iter().map(|(_, count)| **count).sum();
    if reasons.is_empty() {
        outcomes.push(Outcome {
            name: "rejected".to_string(),
            count: payments.rejected,
        });
    } else {
        outcomes.extend(reasons.into_iter().map(|(reason, count)| Outcome {
            name: format!("rejected: {reason}"),
            count: *count,
        }));
        if payments.rejected > named {
            outcomes.push(Outcome {
                name: "rejected: other".to_string(),
                count: payments.rejected - named,
            });
        }
    }
    outcomes
}

/// The colour of an outcome's bar.
fn outcome_colour(name: &str) -> RGBColor {
    match name {
        "approved" => RGBColor(39, 174, 96),
        "declined" => RGBColor(230, 126, 34),
        "expired" => RGBColor(127, 140, 141),
        "busy" => RGBColor(142, 68, 173),
        _ => MAX_COLOUR,
    }
}

/// A horizontal bar a payment outcome, with its count and share of the submitted payments.
pub fn outcomes(summary: &RunSummary) -> Result<Plot, String> {
    let outcomes = outcomes_of(summary);
    let bars = outcomes.len();
    let height_px = OUTCOME_FRAME_PX + OUTCOME_BAR_PX * bars as u32;
    let most = outcomes.iter().map(|o| o.count).max().unwrap_or(0).max(1) as f64;
    let submitted = summary.payments.submitted;
    let longest = outcomes
        .iter()
        .map(|o| o.name.chars().count())
        .max()
        .unwrap_or(0);
    let label_area_px = (longest as u32 * 8 + 24).clamp(90, 360);
    let names: Vec<String> = outcomes.iter().map(|o| o.name.clone()).collect();
    // Row 0 is the bottom bar: the first outcome is drawn in the top row.
    let name_at = |row: &SegmentValue<usize>| -> String {
        match row {
            SegmentValue::CenterOf(row) | SegmentValue::Exact(row) => bars
                .checked_sub(1 + row)
                .and_then(|index| names.get(index))
                .cloned()
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        }
    };

    let mut svg = String::new();
    {
        let root = canvas(&mut svg, WIDTH_PX, height_px);
        drawn(root.fill(&WHITE))?;
        let mut chart = drawn(
            ChartBuilder::on(&root)
                .caption("Payments by outcome", (FONT, TITLE_SIZE))
                .margin(18)
                .x_label_area_size(50)
                .y_label_area_size(label_area_px)
                // A range of integers holds both ends: 0..bars − 1 is a segment per bar.
                .build_cartesian_2d(0.0..most * 1.3, (0..bars - 1).into_segmented()),
        )?;
        drawn(
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(bars + 1)
                .x_desc("payments")
                // Few, short labels: a run of millions of payments must not run its ticks together.
                .x_labels(6)
                .x_label_formatter(&|x| compact(x.max(0.0)))
                .y_label_formatter(&name_at)
                .label_style((FONT, LABEL_SIZE))
                .axis_desc_style((FONT, DESC_SIZE))
                .bold_line_style(BOLD_GRID_COLOUR)
                .light_line_style(GRID_COLOUR)
                .draw(),
        )?;
        let label_style =
            TextStyle::from((FONT, LABEL_SIZE).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        for (index, outcome) in outcomes.iter().enumerate() {
            let row = bars - 1 - index;
            let colour = outcome_colour(&outcome.name);
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(row)),
                    (outcome.count as f64, SegmentValue::Exact(row + 1)),
                ],
                colour.filled(),
            );
            bar.set_margin(5, 5, 0, 0);
            drawn(chart.draw_series(std::iter::once(bar)))?;
            let share = if submitted > 0 {
                format!(" ({})", percent(outcome.count as f64 / submitted as f64))
            } else {
                String::new()
            };
            let label = EmptyElement::at((outcome.count as f64, SegmentValue::CenterOf(row)))
                + Text::new(
                    format!("{}{share}", thousands(outcome.count)),
                    (8, 0),
                    label_style.clone(),
                );
            drawn(chart.draw_series(std::iter::once(label)))?;
        }
        drawn(root.present())?;
    }
    let listed: Vec<String> = outcomes
        .iter()
        .map(|o| format!("{} {}", o.name, thousands(o.count)))
        .collect();
    Ok(Plot {
        file: OUTCOMES_FILE,
        alt: format!("Bar chart of payments by outcome: {}.", listed.join(", ")),
        caption: format!(
            "Every one of the {} submitted payments by its answer; refused payments by the \
             switch's reason.",
            thousands(submitted)
        ),
        width_px: WIDTH_PX,
        height_px,
        svg,
    })
}

/// A fraction as a percentage: `0.42%`, `12.5%`, `100%`.
pub fn percent(fraction: f64) -> String {
    let value = fraction * 100.0;
    if value == 0.0 || value == 100.0 {
        format!("{value}%")
    } else if value < 10.0 {
        format!("{value:.2}%")
    } else {
        format!("{value:.1}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(values: impl Iterator<Item = u64>) -> Histogram<u64> {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        for value in values {
            histogram.record(value).unwrap();
        }
        histogram
    }

    #[test]
    fn the_spectrum_puts_each_quantile_at_one_over_one_minus_it() {
        // 1 µs to 1 ms, one each: the value at quantile q is about q × 1 ms.
        let recorded = histogram((1..=1_000u64).map(|value| value * 1_000));
        let points = spectrum_points(&recorded, 1_000.0);
        assert_eq!(points[0].0, 1.0, "the first point is the 0th percentile");
        assert!(
            (points[0].1 - 1_000.0).abs() <= 1.0,
            "at 0% the least: {points:?}"
        );
        // The value at quantile q is about q × 1 ms, and the point is drawn at x = 1/(1 − q):
        // within three significant digits and one recorded value.
        for &(x, value) in &points {
            let expected = (1.0 - 1.0 / x) * 1e6;
            assert!(
                (value - expected).abs() <= expected * 0.003 + 1_000.0,
                "at x = {x}: {value}, not about {expected}: {points:?}"
            );
        }
        for (x, quantile) in [(2.0, 0.5), (10.0, 0.9)] {
            assert!(
                points.iter().any(|point| (point.0 - x).abs() < 1e-9 * x),
                "quantile {quantile} is drawn at x = {x}: {points:?}"
            );
        }
        let last = *points.last().unwrap();
        assert_eq!(last.0, 1_000.0, "capped at the axis' end");
        assert_eq!(
            last.1,
            recorded.max() as f64,
            "the line ends at the maximum"
        );
        for pair in points.windows(2) {
            assert!(pair[0].0 <= pair[1].0 && pair[0].1 <= pair[1].1, "{pair:?}");
        }
        assert!(spectrum_points(&histogram(std::iter::empty()), 100.0).is_empty());
    }

    #[test]
    fn counts_on_an_axis_are_short() {
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(950.0), "950");
        assert_eq!(compact(1_500.0), "1.5k");
        assert_eq!(compact(500_000.0), "500k");
        assert_eq!(compact(2_000_000.0), "2M");
        assert_eq!(compact(4_250_000.0), "4.2M");
    }

    #[test]
    fn axes_are_labelled_in_percentiles_and_human_latencies() {
        let labels: Vec<String> = [1.0, 2.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6]
            .map(percentile_label)
            .to_vec();
        assert_eq!(
            labels,
            ["0%", "50%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"]
        );
        assert_eq!(latency_tick(500.0), "500 ns");
        assert_eq!(latency_tick(2_000.0), "2 µs");
        assert_eq!(latency_tick(500_000.0), "500 µs");
        assert_eq!(latency_tick(10_000_000.0), "10 ms");
        assert_eq!(latency_tick(1_500_000_000.0), "1.5 s");
        assert_eq!(seconds_tick(2.5), "2.5 s");
        assert_eq!(percent(0.0042), "0.42%");
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
    }

    #[test]
    fn a_log_axis_spans_the_values_on_one_two_five_steps() {
        let axis = LogAxis::new(3_100.0, 450_000.0);
        assert_eq!(axis.range, 2_000.0..500_000.0);
        assert_eq!(axis.bold, [2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5].to_vec());
        assert!(axis.light.contains(&3e3) && !axis.light.contains(&1e6));
        let wide = LogAxis::new(900.0, 2.1e9);
        assert_eq!(wide.range, 500.0..5e9);
        assert_eq!(wide.bold, [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9].to_vec());
        let flat = LogAxis::new(1_000.0, 1_000.0);
        assert_eq!(flat.range, 1_000.0..2_000.0);
    }
}
