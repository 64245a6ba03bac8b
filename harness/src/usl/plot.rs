//! [`write_svg`]: a [`Fit`] drawn as an SVG image with plotters, as `clearway report` draws
//! its plots (its fonts, sizes and grid): the measured points as markers, the fitted law as a
//! smooth curve from N = 1, linear scaling (λN) as a dashed reference, and N* as a dashed
//! vertical line where the throughput peaks within reach of the measurements.

use std::path::Path;

use plotters::prelude::*;

use super::fit::Fit;
use super::{rate, significant};
use crate::report::plots::{
    canvas, drawn, legend, trimmed, BOLD_GRID_COLOUR, DESC_SIZE, FONT, GRID_COLOUR, LABEL_SIZE,
    TITLE_SIZE, WIDTH_PX,
};
use crate::run::summary::thousands;

/// The image's height.
const HEIGHT_PX: u32 = 560;
/// Points along the fitted curve: at 960 pixels wide, one every two or three, which reads as
/// smooth.
const CURVE_SAMPLES: u32 = 400;
/// The x axis reaches this far past the largest N drawn, so the last point is not on the edge.
const X_MARGIN: f64 = 1.1;
/// N* is drawn (and the x axis stretched to it) when it is at most this many times the largest
/// N measured; further out, the curve would be a flat line over a few squeezed points.
const N_STAR_REACH: f64 = 4.0;
/// Room above the highest point or curve, as a multiple of it.
const Y_HEADROOM: f64 = 1.15;
/// A measured point's marker radius.
const MARKER_PX: u32 = 5;

/// The measured points.
const MEASURED_COLOUR: RGBColor = RGBColor(31, 78, 140);
/// The fitted curve.
const FITTED_COLOUR: RGBColor = RGBColor(230, 126, 34);
/// Linear scaling.
const LINEAR_COLOUR: RGBColor = RGBColor(150, 150, 150);
/// N*.
const N_STAR_COLOUR: RGBColor = RGBColor(192, 57, 43);

/// Draws `fit` as an SVG image titled `title`, its x axis described by `x_label`, into `path`.
pub fn write_svg(path: &Path, fit: &Fit, title: &str, x_label: &str) -> Result<(), String> {
    let image = svg(fit, title, x_label)?;
    std::fs::write(path, image).map_err(|error| format!("cannot write: {error}"))
}

/// N* when it is drawn: at least 1 and within [`N_STAR_REACH`] of the largest N measured.
fn n_star_drawn(fit: &Fit) -> Option<f64> {
    let n_max = n_max(fit);
    fit.usl
        .n_star()
        .filter(|n_star| (1.0..=N_STAR_REACH * n_max).contains(n_star))
}

/// The largest N measured (1 when there are none).
fn n_max(fit: &Fit) -> f64 {
    fit.points.iter().map(|point| point.n).fold(1.0, f64::max)
}

/// Where the x axis ends: past the largest N measured, or N* when it is drawn and beyond it.
fn x_end(fit: &Fit) -> f64 {
    n_max(fit).max(n_star_drawn(fit).unwrap_or(0.0)) * X_MARGIN
}

/// A throughput axis tick: `0`, `2.5`, `12,000`.
fn throughput_tick(value: f64) -> String {
    if value.abs() < 100.0 {
        trimmed(value)
    } else {
        thousands(value.max(0.0).round() as u64)
    }
}

/// `fit` as an SVG document (see [`write_svg`]).
pub fn svg(fit: &Fit, title: &str, x_label: &str) -> Result<String, String> {
    let usl = fit.usl;
    let x_end = x_end(fit);
    let curve: Vec<(f64, f64)> = (0..=CURVE_SAMPLES)
        .map(|index| {
            let n = 1.0 + (x_end - 1.0) * f64::from(index) / f64::from(CURVE_SAMPLES);
            (n, usl.throughput(n))
        })
        .collect();
    let measured: Vec<(f64, f64)> = fit
        .points
        .iter()
        .map(|point| (point.n, point.measured_per_s))
        .collect();
    let highest = measured
        .iter()
        .chain(&curve)
        .map(|point| point.1)
        .fold(0.0, f64::max);
    let y_top = highest * Y_HEADROOM;
    if !(x_end.is_finite() && y_top.is_finite() && y_top > 0.0 && usl.lambda > 0.0) {
        return Err(format!(
            "nothing to draw: throughput up to {highest}/s over n up to {x_end}"
        ));
    }
    // Linear scaling from the origin, until it leaves the chart at the top or the right.
    let linear_end = (y_top / usl.lambda).min(x_end);
    let linear = [(0.0, 0.0), (linear_end, usl.lambda * linear_end)];
    let n_star = n_star_drawn(fit);

    let mut svg = String::new();
    {
        let root = canvas(&mut svg, WIDTH_PX, HEIGHT_PX);
        drawn(root.fill(&WHITE))?;
        let mut chart = drawn(
            ChartBuilder::on(&root)
                .caption(title, (FONT, TITLE_SIZE))
                .margin(18)
                .margin_right(36)
                .x_label_area_size(56)
                .y_label_area_size(100)
                .build_cartesian_2d(0.0..x_end, 0.0..y_top),
        )?;
        drawn(
            chart
                .configure_mesh()
                .x_desc(x_label)
                .y_desc("throughput/s")
                .x_label_formatter(&|x| trimmed(*x))
                .y_label_formatter(&|y| throughput_tick(*y))
                .label_style((FONT, LABEL_SIZE))
                .axis_desc_style((FONT, DESC_SIZE))
                .bold_line_style(BOLD_GRID_COLOUR)
                .light_line_style(GRID_COLOUR)
                .draw(),
        )?;
        let dashed = |colour: RGBColor| {
            move |(x, y): (i32, i32)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (10, 0)], colour.stroke_width(2))
                    + PathElement::new(vec![(14, 0), (24, 0)], colour.stroke_width(2))
            }
        };
        drawn(chart.draw_series(DashedLineSeries::new(
            linear,
            10,
            6,
            LINEAR_COLOUR.stroke_width(2),
        )))?
        .label("linear scaling, λN")
        .legend(dashed(LINEAR_COLOUR));
        if let (Some(n_star), Some(x_max)) = (n_star, usl.x_max()) {
            drawn(chart.draw_series(DashedLineSeries::new(
                [(n_star, 0.0), (n_star, y_top)],
                10,
                6,
                N_STAR_COLOUR.stroke_width(2),
            )))?
            .label(format!("N* = {n_star:.1}, X(N*) = {}/s", rate(x_max)))
            .legend(dashed(N_STAR_COLOUR));
        }
        drawn(chart.draw_series(LineSeries::new(curve, FITTED_COLOUR.stroke_width(3))))?
            .label(format!(
                "fitted: λ = {}/s, σ = {}, κ = {}",
                rate(usl.lambda),
                significant(usl.sigma),
                significant(usl.kappa)
            ))
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], FITTED_COLOUR.stroke_width(3))
            });
        drawn(
            chart.draw_series(
                measured
                    .iter()
                    .map(|&point| Circle::new(point, MARKER_PX, MEASURED_COLOUR.filled())),
            ),
        )?
        .label("measured")
        .legend(|(x, y)| Circle::new((x + 12, y), MARKER_PX, MEASURED_COLOUR.filled()));
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        drawn(root.present())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usl::fit::fit;
    use crate::usl::{Point, Usl};

    /// The fit of `usl`'s exact throughput at N = 1 … `last`.
    fn fit_of(usl: Usl, last: u32) -> Fit {
        let points: Vec<Point> = (1..=last)
            .map(|n| Point {
                n: f64::from(n),
                throughput_per_s: usl.throughput(f64::from(n)),
            })
            .collect();
        fit(&points).unwrap()
    }

    const RETROGRADE: Usl = Usl {
        lambda: 2_000.0,
        sigma: 0.1,
        kappa: 0.01,
    };

    #[test]
    fn the_image_marks_every_point_and_the_peak() {
        let fit = fit_of(RETROGRADE, 20);
        let image = svg(&fit, "A sweep", "threads").unwrap();
        assert!(image.starts_with("<svg"), "{}", &image[..80]);
        // One marker per point, and the legend's.
        assert_eq!(image.matches("<circle").count(), 21);
        for text in [
            "A sweep",
            "threads",
            "throughput/s",
            "measured",
            "N* = 9.5",
            "λN",
        ] {
            assert!(image.contains(text), "{text}");
        }
    }

    #[test]
    fn no_peak_no_line() {
        let amdahl = Usl {
            kappa: 0.0,
            ..RETROGRADE
        };
        let image = svg(&fit_of(amdahl, 8), "Amdahl", "n").unwrap();
        assert!(!image.contains("N* ="));
        assert_eq!(image.matches("<circle").count(), 9);
    }

    #[test]
    fn the_axis_reaches_n_star_only_when_it_is_near() {
        let retrograde = fit_of(RETROGRADE, 6);
        let n_star = RETROGRADE.n_star().unwrap();
        assert!((x_end(&retrograde) - n_star * X_MARGIN).abs() < 1e-6);
        let far = fit_of(
            Usl {
                kappa: 1e-5,
                ..RETROGRADE
            },
            6,
        );
        assert!(far.usl.n_star().unwrap() > N_STAR_REACH * 6.0);
        assert_eq!(n_star_drawn(&far), None);
        assert!((x_end(&far) - 6.0 * X_MARGIN).abs() < 1e-9);
        let beyond = fit_of(RETROGRADE, 16);
        assert!((x_end(&beyond) - 16.0 * X_MARGIN).abs() < 1e-9);
    }
}
