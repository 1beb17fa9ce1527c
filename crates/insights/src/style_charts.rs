//! The staff scorecard's charts, drawn like those in [`crate::charts`]
//! (plotters' SVG backend, text kept as `<text>`): a radar of the five
//! dimension scores (each a percentile rank in the team, 0..100, so the
//! ring at 50 is the team's middle), and a sparkline of one figure over the
//! periods of its trend. They take plain numbers; the figures come from the
//! reports.
//!
//! Plotters has no polar chart: the radar is drawn on a cartesian −1..1
//! chart without a mesh, each axis a spoke from the centre.
//!
//! Both carry their [`Mark`]s, as the insights charts do: each axis's name
//! on the radar, each period on a sparkline, with its value for hover and
//! focus and a link to what is behind it. All text is at least 15 units
//! (12 px) at the chart's own size, and no box is filled white.

use std::f64::consts::{FRAC_PI_2, TAU};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::charts::{BAR, BAR2, FONT, LABEL_SIZE, Mark, TITLE_SIZE, chart_err, with_marks};
use crate::input::InsightsError;

/// The radar chart's size in pixels: shown at this size, so its text reads
/// at 12 px (a phone scrolls it sideways rather than shrink it).
pub const RADAR_SIZE: (u32, u32) = (540, 480);
/// A sparkline's size in pixels.
pub const SPARKLINE_SIZE: (u32, u32) = (160, 40);
/// What an axis without a score says under its name.
pub const TOO_FEW: &str = "(too few cases)";
/// The dashed ring's label: a percentile rank of 50 is the team's middle.
pub const MEDIAN_LABEL: &str = "team median";

const GRID: RGBColor = RGBColor(200, 200, 200);
const MUTED: RGBColor = RGBColor(90, 90, 90);
/// The radar's reach beyond the outer ring, for the axis names.
const REACH: f64 = 1.55;
/// An axis name's box on the radar (its mark): the height of its two lines,
/// and the width per character of the longer (bold 13 px text).
const AXIS_BOX_HEIGHT: i32 = 44;
const AXIS_BOX_CHAR: i32 = 8;

/// A score kept within 0..100; a missing or non-finite one is `None`.
fn score(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite()).map(|v| v.clamp(0.0, 100.0))
}

/// Where axis `i` of `n` points: the first straight up, then clockwise.
fn direction(i: usize, n: usize) -> (f64, f64) {
    let angle = FRAC_PI_2 - TAU * i as f64 / n as f64;
    (angle.cos(), angle.sin())
}

/// The ring at `radius` (0..1) through every axis, closed.
fn ring(radius: f64, n: usize) -> Vec<(f64, f64)> {
    (0..=n)
        .map(|i| {
            let (x, y) = direction(i % n, n);
            (x * radius, y * radius)
        })
        .collect()
}

/// A radar of scores from 0 to 100, one axis per `(name, score)`: the scores
/// as a filled polygon over rings at 25, 50, 75 and 100, the ring at 50
/// dashed and labelled [`MEDIAN_LABEL`]. Each axis is named with its score;
/// an axis without one is drawn at the centre and says [`TOO_FEW`]. Each
/// axis name is a mark saying its score and linking to `axis_href(i)`.
pub fn radar_chart(
    title: &str,
    axes: &[(&str, Option<f64>)],
    axis_href: impl Fn(usize) -> Option<String>,
) -> Result<String, InsightsError> {
    let n = axes.len();
    let mut svg = String::new();
    let mut marks = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, RADAR_SIZE).into_drawing_area();
        let root = root.titled(title, (FONT, TITLE_SIZE).into_font().style(FontStyle::Bold)).map_err(chart_err)?;
        // A square plot, so the rings are regular.
        let (width, height) = root.dim_in_pixel();
        let side = width.min(height);
        let area = root.clone().shrink(((width - side) / 2, (height - side) / 2), (side, side));
        let mut chart =
            ChartBuilder::on(&area).margin(5).build_cartesian_2d(-REACH..REACH, -REACH..REACH).map_err(chart_err)?;
        if n < 3 {
            // Not a polygon: say so rather than draw a line.
            chart
                .draw_series(std::iter::once(Text::new(
                    "Too few dimensions to draw",
                    (0.0, 0.0),
                    (FONT, 16).into_font().color(&MUTED).pos(Pos::new(HPos::Center, VPos::Center)),
                )))
                .map_err(chart_err)?;
        } else {
            marks = draw_radar(&mut chart, axes, axis_href)?;
        }
        root.present().map_err(chart_err)?;
    }
    Ok(with_marks(svg, &marks))
}

/// What an axis's mark says: its score as a rank in the team, or why none.
fn axis_title(name: &str, value: Option<f64>) -> String {
    match score(value) {
        Some(s) => format!("{name}: {s:.0} of 100, a percentile rank in the team (50 is the team median)"),
        None => format!("{name}: too few cases to score"),
    }
}

type Cartesian<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The radar's grid, scores and axis names on a −1..1 chart; 3 axes or more.
/// Returns a mark over each axis name.
fn draw_radar(
    chart: &mut Cartesian<'_, '_>,
    axes: &[(&str, Option<f64>)],
    axis_href: impl Fn(usize) -> Option<String>,
) -> Result<Vec<Mark>, InsightsError> {
    let mut marks = Vec::with_capacity(axes.len());
    let n = axes.len();
    // The grid: spokes, rings at 25 and 75 and 100, the dashed median ring.
    chart
        .draw_series((0..n).map(|i| {
            let (x, y) = direction(i, n);
            PathElement::new(vec![(0.0, 0.0), (x, y)], GRID.stroke_width(1))
        }))
        .map_err(chart_err)?;
    chart
        .draw_series([0.25, 0.75, 1.0].into_iter().map(|r| PathElement::new(ring(r, n), GRID.stroke_width(1))))
        .map_err(chart_err)?;
    chart.draw_series(DashedLineSeries::new(ring(0.5, n), 6, 4, MUTED.stroke_width(1))).map_err(chart_err)?;
    let ring_label = (FONT, LABEL_SIZE).into_font().color(&MUTED).pos(Pos::new(HPos::Left, VPos::Bottom));
    chart
        .draw_series(
            [(0.25, "25".to_owned()), (0.5, format!("50 {MEDIAN_LABEL}")), (0.75, "75".to_owned())]
                .map(|(r, text)| EmptyElement::at((0.0, r)) + Text::new(text, (4, -2), ring_label.clone())),
        )
        .map_err(chart_err)?;
    chart
        .draw_series(std::iter::once(EmptyElement::at((0.0, 1.0)) + Text::new("100", (4, 12), ring_label.clone())))
        .map_err(chart_err)?;

    // The scores.
    let points: Vec<(f64, f64)> = axes
        .iter()
        .enumerate()
        .map(|(i, (_, value))| {
            let (x, y) = direction(i, n);
            let r = score(*value).unwrap_or(0.0) / 100.0;
            (x * r, y * r)
        })
        .collect();
    chart.draw_series(std::iter::once(Polygon::new(points.clone(), BAR.mix(0.3).filled()))).map_err(chart_err)?;
    let mut outline = points.clone();
    outline.push(points[0]);
    chart.draw_series(std::iter::once(PathElement::new(outline, BAR.stroke_width(2)))).map_err(chart_err)?;
    chart
        .draw_series(axes.iter().zip(&points).map(|((_, value), p)| {
            let colour = if score(*value).is_some() { BAR } else { BAR2 };
            Circle::new(*p, 4, colour.filled())
        }))
        .map_err(chart_err)?;

    // The axis names, each with its score or why there is none.
    for (i, (name, value)) in axes.iter().enumerate() {
        let (x, y) = direction(i, n);
        let h = if x > 0.2 {
            HPos::Left
        } else if x < -0.2 {
            HPos::Right
        } else {
            HPos::Center
        };
        // Above the top axis, below the bottom ones, centred beside the rest.
        let (v, name_dy, value_dy) = if y > 0.5 {
            (VPos::Bottom, -19, 0)
        } else if y < -0.5 {
            (VPos::Top, 0, 19)
        } else {
            (VPos::Center, -10, 10)
        };
        let (detail, colour) = match score(*value) {
            Some(s) => (format!("{s:.0}"), BLACK),
            None => (TOO_FEW.to_owned(), BAR2),
        };
        let detail_len = detail.chars().count();
        let at = (x * 1.08, y * 1.08);
        chart
            .draw_series([
                EmptyElement::at(at)
                    + Text::new(
                        (*name).to_owned(),
                        (0, name_dy),
                        (FONT, 16).into_font().style(FontStyle::Bold).color(&BLACK).pos(Pos::new(h, v)),
                    ),
                EmptyElement::at(at)
                    + Text::new(
                        detail,
                        (0, value_dy),
                        (FONT, LABEL_SIZE).into_font().color(&colour).pos(Pos::new(h, v)),
                    ),
            ])
            .map_err(chart_err)?;
        // The name's box, on the side the text runs to, within the chart.
        let (px, py) = chart.backend_coord(&at);
        let (w, tall) = (name.chars().count().max(detail_len) as i32 * AXIS_BOX_CHAR + 8, AXIS_BOX_HEIGHT);
        let left = match h {
            HPos::Left => px - 4,
            HPos::Right => px - w + 4,
            HPos::Center => px - w / 2,
        };
        let top = match v {
            VPos::Bottom => py - tall,
            VPos::Top => py,
            VPos::Center => py - tall / 2,
        };
        let (right, bottom) = ((left + w).min(RADAR_SIZE.0 as i32), (top + tall).min(RADAR_SIZE.1 as i32));
        marks.push(Mark::new((left.max(0), top.max(0)), (right, bottom), axis_title(name, *value), axis_href(i)));
    }
    Ok(marks)
}

/// One period on a sparkline: its value, what its mark says and where it leads.
#[derive(Clone, Debug, PartialEq)]
pub struct SparkPoint {
    pub value: Option<f64>,
    pub title: String,
    pub href: Option<String>,
}

/// A small line of `points`' values (oldest first) with a gap where one is
/// missing, the last value a dot. With `lower_is_better` the scale is turned
/// over, so up always means better; a value alone (no neighbour) is a dot.
/// Each period is a mark, a strip the line's height.
pub fn sparkline(points: &[SparkPoint], lower_is_better: bool) -> Result<String, InsightsError> {
    let values: Vec<Option<f64>> = points.iter().map(|p| p.value.filter(|v| v.is_finite())).collect();
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    let (low, high) = match (known.iter().copied().reduce(f64::min), known.iter().copied().reduce(f64::max)) {
        (Some(low), Some(high)) if high - low > 1e-9 => {
            let pad = (high - low) * 0.15;
            (low - pad, high + pad)
        }
        (Some(v), _) => (v - 1.0, v + 1.0),
        _ => (0.0, 1.0),
    };
    // Turned over when lower is better: up is the better way.
    let y = |v: f64| if lower_is_better { -v } else { v };
    let (y_min, y_max) = if lower_is_better { (-high, -low) } else { (low, high) };
    let x_max = values.len().saturating_sub(1).max(1) as f64;
    let mut svg = String::new();
    let mut marks = Vec::with_capacity(points.len());
    {
        let root = SVGBackend::with_string(&mut svg, SPARKLINE_SIZE).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(6)
            .build_cartesian_2d(-0.05..x_max + 0.05, y_min..y_max)
            .map_err(chart_err)?;
        if known.is_empty() {
            // Nothing to draw: a muted dashed baseline.
            let mid = (y_min + y_max) / 2.0;
            chart
                .draw_series(DashedLineSeries::new([(0.0, mid), (x_max, mid)], 4, 4, GRID.stroke_width(1)))
                .map_err(chart_err)?;
        } else {
            // Each run of values without a gap is one line.
            let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for (i, value) in values.iter().enumerate() {
                match value {
                    Some(v) => runs.last_mut().expect("a run").push((i as f64, y(*v))),
                    None => runs.push(Vec::new()),
                }
            }
            for run in runs.iter().filter(|r| !r.is_empty()) {
                if run.len() == 1 {
                    chart.draw_series(std::iter::once(Circle::new(run[0], 2, BAR.filled()))).map_err(chart_err)?;
                } else {
                    chart.draw_series(LineSeries::new(run.iter().copied(), BAR.stroke_width(2))).map_err(chart_err)?;
                }
            }
            if let Some((i, Some(v))) = values.iter().enumerate().next_back() {
                chart
                    .draw_series(std::iter::once(Circle::new((i as f64, y(*v)), 3, BAR.filled())))
                    .map_err(chart_err)?;
            }
        }
        // Strips between the midpoints of neighbouring periods, edge to edge.
        let (width, height) = (SPARKLINE_SIZE.0 as i32, SPARKLINE_SIZE.1 as i32);
        let x_of = |i: usize| chart.backend_coord(&(i as f64, y_min)).0;
        for (i, point) in points.iter().enumerate() {
            let left = if i == 0 { 0 } else { (x_of(i - 1) + x_of(i)) / 2 };
            let right = if i + 1 == points.len() { width } else { (x_of(i) + x_of(i + 1)) / 2 };
            marks.push(Mark::new((left, 0), (right, height), point.title.clone(), point.href.clone()));
        }
        root.present().map_err(chart_err)?;
    }
    Ok(with_marks(svg, &marks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::check_svg as check;

    /// Points with a title and a link each, as the scorecard page gives them.
    fn points(values: &[Option<f64>]) -> Vec<SparkPoint> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| SparkPoint {
                value: *v,
                title: format!(
                    "period {i}: {}",
                    v.filter(|v| v.is_finite()).map_or("none".to_owned(), |v| v.to_string())
                ),
                href: Some(format!("/period/{i}")),
            })
            .collect()
    }

    const AXES: [&str; 5] = ["Responsiveness", "Follow-through", "Proactivity", "Personal touch", "Outcomes"];

    #[test]
    fn a_radar_names_its_axes_scores_and_the_median_ring() {
        let scores = [Some(62.0), Some(100.0), None, Some(0.0), Some(37.4)];
        let axes: Vec<(&str, Option<f64>)> = AXES.iter().copied().zip(scores).collect();
        let svg = radar_chart("Ada's style", &axes, |i| Some(format!("#axis-{i}"))).unwrap();
        check(&svg, &["Ada&apos;s style", "Responsiveness", "Follow-through", "Personal touch", "Outcomes"]);
        check(&svg, &["\n62\n", "\n37\n", TOO_FEW, MEDIAN_LABEL]);
        assert!(svg.contains("<polygon"), "the scores as a polygon");
        // The dashed median ring is drawn as many short lines.
        assert!(svg.matches("<polyline").count() > 20, "the dashes of the median ring");
        assert_eq!(svg.matches(TOO_FEW).count(), 1, "only the missing score");
        // Each axis name is a mark with its score, leading where it was told.
        assert_eq!(svg.matches("class=\"chart-mark\"").count(), 5);
        assert!(svg.contains("<svg class=\"chart-svg\""), "themed by the page");
        assert!(!svg.contains("fill=\"#FFFFFF\""), "no white box");
        check(
            &svg,
            &[
                "href=\"#axis-0\"",
                "Responsiveness: 62 of 100, a percentile rank in the team",
                "Proactivity: too few cases",
            ],
        );
    }

    #[test]
    fn radar_text_is_readable_and_its_marks_stay_inside() {
        let axes: Vec<(&str, Option<f64>)> = AXES.iter().map(|a| (*a, Some(50.0))).collect();
        let svg = radar_chart("Readable", &axes, |_| None).unwrap();
        for size in svg.split("font-size=\"").skip(1).map(|s| s[..s.find('"').unwrap()].parse::<f64>().unwrap()) {
            assert!(size >= 12.0, "text of {size} px");
        }
        let number = |r: &str, name: &str| -> i32 {
            let start = r.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            r[start..start + r[start..].find('"').unwrap()].parse().unwrap()
        };
        let layer = &svg[svg.find("chart-marks").unwrap()..];
        for rect in layer.split("<rect").skip(1) {
            let (x, y, w, h) = (number(rect, "x"), number(rect, "y"), number(rect, "width"), number(rect, "height"));
            assert!(x >= 0 && y >= 0, "a mark outside the chart: {rect}");
            assert!(x + w <= RADAR_SIZE.0 as i32 && y + h <= RADAR_SIZE.1 as i32, "a mark outside: {rect}");
        }
    }

    #[test]
    fn a_radar_without_scores_or_axes_is_still_drawn() {
        let axes: Vec<(&str, Option<f64>)> = AXES.iter().map(|a| (*a, None)).collect();
        let svg = radar_chart("Nobody", &axes, |_| None).unwrap();
        check(&svg, &["Nobody", MEDIAN_LABEL]);
        assert_eq!(svg.matches(TOO_FEW).count(), 5);
        // Out of range and non-finite scores are kept within 0..100 or left out.
        let odd = [("A", Some(250.0)), ("B", Some(-3.0)), ("C", Some(f64::NAN)), ("D", Some(f64::INFINITY))];
        check(&radar_chart("Odd", &odd, |_| None).unwrap(), &["\n100\n", "\n0\n", TOO_FEW]);
        check(&radar_chart("Empty", &[], |_| None).unwrap(), &["Empty", "Too few dimensions"]);
        check(&radar_chart("Two", &[("A", Some(1.0)), ("B", None)], |_| None).unwrap(), &["Too few dimensions"]);
    }

    #[test]
    fn a_sparkline_draws_its_values_with_gaps() {
        let svg = sparkline(&points(&[Some(3.5), None, Some(2.0), Some(4.0)]), true).unwrap();
        check(&svg, &["width=\"160\"", "height=\"40\"", "href=\"/period/3\"", "<title>period 1: none</title>"]);
        assert_eq!(svg.matches("class=\"chart-mark\"").count(), 4, "a mark per period");
        assert!(!svg.contains("fill=\"#FFFFFF\""), "no white box");
        assert!(svg.contains("<polyline"), "the run of two values is a line");
        assert_eq!(svg.matches("<circle").count(), 2, "the lone first value and the last");
        let flat = sparkline(&points(&[Some(5.0), Some(5.0), Some(5.0)]), false).unwrap();
        check(&flat, &["<polyline"]);
        check(&sparkline(&points(&[Some(1.0)]), false).unwrap(), &["<circle"]);
    }

    #[test]
    fn a_sparkline_without_values_does_not_panic() {
        for values in [&[None, None, None, None][..], &[], &[Some(f64::NAN)]] {
            let svg = sparkline(&points(values), false).unwrap();
            check(&svg, &[]);
            assert!(!svg.contains("<circle"), "nothing to mark");
        }
    }
}
