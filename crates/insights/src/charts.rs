//! Charts as SVG strings, drawn with plotters' SVG backend only: text stays
//! `<text>` elements (no font library is needed on the server; the browser
//! lays out the text). Every chart has a title, axis descriptions with units
//! and, where more than one series is drawn, a legend or colour scale.
//!
//! The pages show the SVG inline, so every chart also carries its [`Mark`]s:
//! a transparent box over each bar, point or cell, with its value as a
//! `<title>` (the hover text, also read by app.js for a tooltip on hover and
//! keyboard focus) and, where there is one, a link to the customers behind
//! it. No white boxes: the background is left transparent and black text and
//! lines are restyled by app.css (`.chart-svg`) to follow the theme.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use time::Date;

use crate::churn::{ChurnReport, SurvivalCurve};
use crate::clv::HoldoutRow;
use crate::cohorts::CohortReport;
use crate::input::{CustomerKey, InsightsError, YearMonth, minor_to_major};
use crate::rfm::{RfmReport, Segment};

pub(crate) const FONT: &str = "sans-serif";
pub(crate) const TITLE_SIZE: u32 = 22;
/// Axis text: 15 px in plotters' units is about 12 px on screen (it
/// writes font sizes divided by 1.24), readable at the chart's own size.
pub(crate) const LABEL_SIZE: u32 = 15;
pub(crate) const BAR: RGBColor = RGBColor(49, 104, 176);
pub(crate) const BAR2: RGBColor = RGBColor(221, 132, 42);

pub(crate) fn chart_err<E: std::fmt::Display>(e: E) -> InsightsError {
    InsightsError::Chart(e.to_string())
}

/// The series' legend in a corner, on a light box, as every line chart draws it.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    corner: SeriesLabelPosition,
) -> Result<(), InsightsError> {
    chart
        .configure_series_labels()
        .position(corner)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, LABEL_SIZE))
        .draw()
        .map_err(chart_err)
}

/// The upper end of a segmented `0..=n-1` axis; a single category gets a
/// spare slot so the range is never empty.
pub(crate) fn last_slot(n: usize) -> i32 {
    (n.max(2) - 1) as i32
}

pub(crate) fn finite_or(v: f64, fallback: f64) -> f64 {
    if v.is_finite() { v } else { fallback }
}

pub(crate) fn fmt_count(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn fmt_money(v: f64) -> String {
    if v.abs() >= 100.0 { fmt_count(v) } else { format!("{v:.2}") }
}

/// What a person can point at on a chart: a bar, point or cell, its box in
/// SVG pixels, what it says and, where there is one, the list of customers
/// behind it (a people list URL).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub left_top: (i32, i32),
    pub right_bottom: (i32, i32),
    pub title: String,
    pub href: Option<String>,
}

impl Mark {
    pub(crate) fn new(a: (i32, i32), b: (i32, i32), title: String, href: Option<String>) -> Mark {
        Mark { left_top: (a.0.min(b.0), a.1.min(b.1)), right_bottom: (a.0.max(b.0), a.1.max(b.1)), title, href }
    }
}

/// The customers behind a segment's bar.
pub fn segment_href(segment: Segment) -> String {
    format!("/people?segment={}", segment.as_str())
}

/// The customers of a cohort (month of first purchase), and with `purchased`
/// those of them who bought in that month (a cell of the heat map).
pub fn cohort_href(cohort: YearMonth, purchased: Option<YearMonth>) -> String {
    match purchased {
        Some(month) => format!("/people?first_purchase_month={cohort}&purchased_in={month}"),
        None => format!("/people?first_purchase_month={cohort}"),
    }
}

fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// The drawn SVG with its marks on top, in reading order, and the root
/// element classed `chart-svg` (themed by app.css). A mark with a link is an
/// `<a>` (focusable, its name the title); one without is a focusable box.
pub fn with_marks(svg: String, marks: &[Mark]) -> String {
    let Some(end) = svg.rfind("</svg>") else { return svg };
    let mut out = String::with_capacity(svg.len() + marks.len() * 200);
    out.push_str(&svg[..end].replacen("<svg ", "<svg class=\"chart-svg\" ", 1));
    out.push_str("<g class=\"chart-marks\">\n");
    for m in marks {
        let title = escape_xml(&m.title);
        let (x, y) = m.left_top;
        let (w, h) = ((m.right_bottom.0 - x).max(1), (m.right_bottom.1 - y).max(1));
        let rect = format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"transparent\"><title>{title}</title></rect>"
        );
        match &m.href {
            Some(href) => out.push_str(&format!(
                "<a class=\"chart-mark\" href=\"{}\" aria-label=\"{title}\">{rect}</a>\n",
                escape_xml(href)
            )),
            None => out.push_str(&format!(
                "<g class=\"chart-mark\" tabindex=\"0\" role=\"img\" aria-label=\"{title}\">{rect}</g>\n"
            )),
        }
    }
    out.push_str("</g>\n");
    out.push_str(&svg[end..]);
    out
}

/// One bar panel: area, caption, axis description, colour, values, bar texts.
struct Panel<'a, A>(&'a A, &'static str, String, RGBColor, Vec<f64>, Vec<String>);

/// Horizontal bars of RFM segments: customers (left) and their total value
/// (right), champions at the top.
pub fn rfm_segments_chart<K: CustomerKey>(report: &RfmReport<K>) -> Result<String, InsightsError> {
    let segments = &report.segments;
    let n = segments.len().max(1);
    let label_of = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) if (*i as usize) < segments.len() => {
            segments[segments.len() - 1 - *i as usize].segment.label().to_owned()
        }
        _ => String::new(),
    };
    let mut svg = String::new();
    let mut marks = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1000, 520)).into_drawing_area();
        let root = root
            .titled(
                &format!("RFM segments: customers and value (as of {})", report.as_of),
                (FONT, TITLE_SIZE).into_font().style(FontStyle::Bold),
            )
            .map_err(chart_err)?;
        let (left, right) = root.split_horizontally(520);
        let panels: [Panel<'_, _>; 2] = [
            Panel(
                &left,
                "Customers per segment",
                "Customers (count)".to_owned(),
                BAR,
                segments.iter().map(|s| s.customers as f64).collect(),
                segments
                    .iter()
                    .map(|s| format!("{} ({:.0}%)", fmt_count(s.customers as f64), s.share_of_customers * 100.0))
                    .collect(),
            ),
            Panel(
                &right,
                "Value per segment",
                format!("Total spent ({})", report.currency),
                BAR2,
                segments.iter().map(|s| minor_to_major(s.value_minor, &report.currency)).collect(),
                segments.iter().map(|s| format!("{:.0}%", s.share_of_value * 100.0)).collect(),
            ),
        ];
        for Panel(area, caption, x_desc, color, values, texts) in panels {
            let max = values.iter().copied().fold(0.0f64, f64::max);
            let max = if max > 0.0 { max * 1.25 } else { 1.0 };
            let min = values.iter().copied().fold(0.0f64, f64::min);
            let mut chart = ChartBuilder::on(area)
                .caption(caption, (FONT, 16))
                .margin(10)
                .x_label_area_size(45)
                .y_label_area_size(if std::ptr::eq(area, &left) { 140 } else { 10 })
                .build_cartesian_2d(min..max, (0..last_slot(n)).into_segmented())
                .map_err(chart_err)?;
            let show_labels = std::ptr::eq(area, &left);
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_desc(x_desc)
                .x_labels(6)
                .y_labels(n)
                .x_label_formatter(&|v| fmt_count(*v))
                .y_label_formatter(&|v| if show_labels { label_of(v) } else { String::new() })
                .label_style((FONT, LABEL_SIZE))
                .axis_desc_style((FONT, LABEL_SIZE))
                .draw()
                .map_err(chart_err)?;
            let count = values.len();
            chart
                .draw_series(values.iter().enumerate().map(|(i, &v)| {
                    let row = (count - 1 - i) as i32;
                    let mut bar = Rectangle::new(
                        [(0.0, SegmentValue::Exact(row)), (v, SegmentValue::Exact(row + 1))],
                        color.filled(),
                    );
                    bar.set_margin(4, 4, 0, 0);
                    bar
                }))
                .map_err(chart_err)?;
            chart
                .draw_series(values.iter().zip(&texts).enumerate().map(|(i, (&v, text))| {
                    let row = (count - 1 - i) as i32;
                    Text::new(
                        format!("  {text}"),
                        (v.max(0.0), SegmentValue::CenterOf(row)),
                        (FONT, LABEL_SIZE).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
                    )
                }))
                .map_err(chart_err)?;
            for (i, s) in segments.iter().enumerate() {
                let row = (count - 1 - i) as i32;
                let title = if show_labels {
                    format!(
                        "{}: {} customers ({:.0}% of customers)",
                        s.segment.label(),
                        fmt_count(s.customers as f64),
                        s.share_of_customers * 100.0
                    )
                } else {
                    format!(
                        "{}: {} {} spent ({:.0}% of all value)",
                        s.segment.label(),
                        fmt_money(minor_to_major(s.value_minor, &report.currency)),
                        report.currency,
                        s.share_of_value * 100.0
                    )
                };
                marks.push(Mark::new(
                    chart.backend_coord(&(min, SegmentValue::Exact(row))),
                    chart.backend_coord(&(max, SegmentValue::Exact(row + 1))),
                    title,
                    Some(segment_href(s.segment)),
                ));
            }
        }
        root.present().map_err(chart_err)?;
    }
    Ok(with_marks(svg, &marks))
}

/// A colour from a faint (0) to a full dark blue (1): the blue laid over the
/// page's card with its opacity, so an empty cell is near the card's colour
/// in light and dark mode alike (a fixed near-white was a white box in dark).
fn heat(share: f64) -> RGBAColor {
    let s = finite_or(share, 0.0).clamp(0.0, 1.0);
    RGBColor(8, 48, 107).mix(0.06 + 0.94 * s)
}

/// The cohort retention heat map: one row per cohort (oldest at the top),
/// one column per month since the first purchase, each cell labelled with its
/// percentage, and a colour scale on the right.
pub fn retention_heatmap(report: &CohortReport) -> Result<String, InsightsError> {
    let rows = report.cohorts.len().max(1);
    let cols = report.max_offset + 1;
    let width = (230 + cols as u32 * 52 + 130).max(640);
    let height = (160 + rows as u32 * 30).max(360);
    let cohorts = &report.cohorts;
    let y_label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) if (*i as usize) < cohorts.len() => {
            let c = &cohorts[cohorts.len() - 1 - *i as usize];
            format!("{} (n={})", c.month, fmt_count(c.size as f64))
        }
        _ => String::new(),
    };
    let x_label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) if (*i as usize) < cols => i.to_string(),
        _ => String::new(),
    };
    let mut svg = String::new();
    let mut marks = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let root = root
            .titled(
                &format!("Retention by cohort (month of first purchase), as of {}", report.as_of),
                (FONT, TITLE_SIZE).into_font().style(FontStyle::Bold),
            )
            .map_err(chart_err)?;
        let (main, legend) = root.split_horizontally(width - 130);
        let mut chart = ChartBuilder::on(&main)
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(165)
            .build_cartesian_2d((0..last_slot(cols)).into_segmented(), (0..last_slot(rows)).into_segmented())
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("Months since first purchase")
            .y_desc("Cohort (first purchase month, customers)")
            .x_labels(cols)
            .y_labels(rows)
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(chart_err)?;
        let count = cohorts.len();
        // Row by row, the cohort's label (its customers) then its cells.
        for (i, c) in cohorts.iter().enumerate() {
            let row = (count - 1 - i) as i32;
            let (left, top) = chart.backend_coord(&(SegmentValue::Exact(0), SegmentValue::Exact(row + 1)));
            let (_, bottom) = chart.backend_coord(&(SegmentValue::Exact(0), SegmentValue::Exact(row)));
            marks.push(Mark::new(
                (left - 160, top),
                (left - 2, bottom),
                format!("Cohort {}: {} customers", c.month, fmt_count(c.size as f64)),
                Some(cohort_href(c.month, None)),
            ));
            for (k, &share) in c.retention.iter().enumerate() {
                let k = k as i32;
                let month = c.month.plus_months(k);
                let active = c.active.get(k as usize).copied().unwrap_or(0);
                marks.push(Mark::new(
                    chart.backend_coord(&(SegmentValue::Exact(k), SegmentValue::Exact(row + 1))),
                    chart.backend_coord(&(SegmentValue::Exact(k + 1), SegmentValue::Exact(row))),
                    format!(
                        "Cohort {}, month {k} ({month}): {:.0}% bought ({} of {})",
                        c.month,
                        finite_or(share, 0.0) * 100.0,
                        fmt_count(active as f64),
                        fmt_count(c.size as f64)
                    ),
                    Some(cohort_href(c.month, Some(month))),
                ));
            }
        }
        let cells = cohorts.iter().enumerate().flat_map(|(i, c)| {
            let row = (count - 1 - i) as i32;
            c.retention.iter().enumerate().map(move |(k, &share)| (row, k as i32, share))
        });
        chart
            .draw_series(cells.clone().map(|(row, k, share)| {
                let mut cell = Rectangle::new(
                    [
                        (SegmentValue::Exact(k), SegmentValue::Exact(row)),
                        (SegmentValue::Exact(k + 1), SegmentValue::Exact(row + 1)),
                    ],
                    heat(share).filled(),
                );
                cell.set_margin(1, 1, 1, 1);
                cell
            }))
            .map_err(chart_err)?;
        chart
            .draw_series(cells.map(|(row, k, share)| {
                let share = finite_or(share, 0.0);
                // Black turns to the theme's text colour (app.css), as a
                // faint cell shows the card through it; white on the dark ones.
                let color = if share > 0.55 { WHITE } else { BLACK };
                Text::new(
                    format!("{:.0}%", share * 100.0),
                    (SegmentValue::CenterOf(k), SegmentValue::CenterOf(row)),
                    (FONT, 14).into_font().color(&color).pos(Pos::new(HPos::Center, VPos::Center)),
                )
            }))
            .map_err(chart_err)?;

        let mut scale = ChartBuilder::on(&legend)
            .caption("Retained (%)", (FONT, LABEL_SIZE))
            .margin_top(10)
            .margin_bottom(55)
            .margin_right(10)
            .y_label_area_size(45)
            .build_cartesian_2d(0.0f64..1.0, 0.0f64..100.0)
            .map_err(chart_err)?;
        scale
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(5)
            .y_label_formatter(&|v| format!("{v:.0}%"))
            .label_style((FONT, 14))
            .draw()
            .map_err(chart_err)?;
        scale
            .draw_series((0..50).map(|i| {
                let lo = f64::from(i) * 2.0;
                Rectangle::new([(0.0, lo), (1.0, lo + 2.0)], heat((lo + 1.0) / 100.0).filled())
            }))
            .map_err(chart_err)?;
        root.present().map_err(chart_err)?;
    }
    Ok(with_marks(svg, &marks))
}

/// Kaplan–Meier step curves, one per group, with a legend giving each
/// group's size and median lifetime. The `highlight`ed curve (the first, all
/// customers, on the page by default) is drawn in colour with its 95 % band
/// and carries the marks (its value every few days); the others are thin
/// grey lines behind it, so seven groups do not pile up.
pub fn survival_chart(title: &str, curves: &[SurvivalCurve], highlight: usize) -> Result<String, InsightsError> {
    let max_time = curves.iter().filter_map(|c| c.points.last()).map(|p| p.time).max().unwrap_or(0).max(1);
    let x_max = f64::from(max_time) * 1.02;
    let mut svg = String::new();
    let mut marks = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 560)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, TITLE_SIZE).into_font().style(FontStyle::Bold))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max, 0.0f64..100.0)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc("Days since first purchase")
            .y_desc("Customers still active (%, 95% band shaded)")
            .y_label_formatter(&|v| format!("{v:.0}%"))
            .x_label_formatter(&|v| fmt_count(*v))
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(chart_err)?;
        // The highlighted curve last, on top of the others.
        let order =
            (0..curves.len()).filter(|&i| i != highlight).chain((highlight < curves.len()).then_some(highlight));
        for i in order {
            let curve = &curves[i];
            let highlighted = i == highlight;
            let color = if highlighted { Palette99::pick(i).to_rgba() } else { RGBColor(140, 148, 160).to_rgba() };
            let (mut line, mut upper, mut lower) = (vec![(0.0, 100.0)], vec![(0.0, 100.0)], vec![(0.0, 100.0)]);
            let (mut s, mut u, mut l) = (100.0, 100.0, 100.0);
            for p in &curve.points {
                let t = f64::from(p.time);
                let (ns, nu, nl) = (
                    finite_or(p.survival, 0.0) * 100.0,
                    finite_or(p.upper, 1.0) * 100.0,
                    finite_or(p.lower, 0.0) * 100.0,
                );
                line.extend([(t, s), (t, ns)]);
                upper.extend([(t, u), (t, nu)]);
                lower.extend([(t, l), (t, nl)]);
                (s, u, l) = (ns, nu, nl);
            }
            let end = curve.points.last().map_or(0.0, |p| f64::from(p.time));
            line.push((end, s));
            upper.push((end, u));
            lower.push((end, l));
            let mut band = upper;
            band.extend(lower.into_iter().rev());
            if highlighted {
                chart.draw_series(std::iter::once(Polygon::new(band, color.mix(0.18)))).map_err(chart_err)?;
            }
            let median =
                curve.median.map_or_else(|| "not reached".to_owned(), |m| format!("{} days", fmt_count(f64::from(m))));
            chart
                .draw_series(std::iter::once(PathElement::new(
                    line,
                    color.stroke_width(if highlighted { 3 } else { 1 }),
                )))
                .map_err(chart_err)?
                .label(format!("{} (n={}, median {median})", curve.group, fmt_count(curve.subjects as f64)))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
        }
        // Marks: vertical strips across the plot, one per stretch of days,
        // each saying the highlighted curve's value at its end.
        if let Some(curve) = curves.get(highlight) {
            const STRIPS: u32 = 30;
            for k in 1..=STRIPS {
                let (from, to) =
                    (x_max * f64::from(k - 1) / f64::from(STRIPS), x_max * f64::from(k) / f64::from(STRIPS));
                let day = (to.min(f64::from(max_time))).round() as u32;
                let (s, low, high) = curve.at(day);
                marks.push(Mark::new(
                    chart.backend_coord(&(from, 100.0)),
                    chart.backend_coord(&(to, 0.0)),
                    format!(
                        "{}, day {}: {:.0}% still active (95% band {:.0}–{:.0}%)",
                        curve.group,
                        fmt_count(f64::from(day)),
                        finite_or(s, 0.0) * 100.0,
                        finite_or(low, 0.0) * 100.0,
                        finite_or(high, 1.0) * 100.0
                    ),
                    None,
                ));
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(chart_err)?;
    }
    Ok(with_marks(svg, &marks))
}

/// Churn rate by month as a line (months without active customers are left
/// out; the current, incomplete month is drawn hollow).
pub fn churn_rate_chart(report: &ChurnReport) -> Result<String, InsightsError> {
    let months: Vec<YearMonth> = report.monthly.iter().map(|m| m.month).collect();
    let n = months.len().max(1);
    let points: Vec<(i32, f64, bool)> = report
        .monthly
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.churn_rate.map(|r| (i as i32, finite_or(r, 0.0) * 100.0, m.partial)))
        .collect();
    let y_max = points.iter().map(|p| p.1).fold(0.0f64, f64::max);
    let y_max = if y_max > 0.0 { y_max * 1.2 } else { 1.0 };
    let definition = match report.definition {
        crate::churn::ChurnDefinition::NoPurchaseFor { days } => format!("no purchase for {days} days"),
        crate::churn::ChurnDefinition::LifecycleChurned => "lifecycle stage churned".to_owned(),
    };
    let x_label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) if (*i as usize) < months.len() => months[*i as usize].to_string(),
        _ => String::new(),
    };
    let mut svg = String::new();
    let mut marks = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 480)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Monthly churn rate (churn = {definition})"),
                (FONT, TITLE_SIZE).into_font().style(FontStyle::Bold),
            )
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((0..last_slot(n)).into_segmented(), 0.0..y_max)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc("Month")
            .y_desc("Churned / active at month start (%)")
            .x_labels(12.min(n))
            .x_label_formatter(&x_label)
            .y_label_formatter(&|v| format!("{v:.1}%"))
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(chart_err)?;
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|&(i, r, _)| (SegmentValue::CenterOf(i), r)),
                BAR.stroke_width(2),
            ))
            .map_err(chart_err)?
            .label("Churn rate")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BAR.stroke_width(2)));
        chart
            .draw_series(points.iter().map(|&(i, r, partial)| {
                let style = if partial { BAR.stroke_width(2) } else { BAR.filled() };
                Circle::new((SegmentValue::CenterOf(i), r), 4, style)
            }))
            .map_err(chart_err)?;
        for (i, m) in report.monthly.iter().enumerate() {
            let Some(rate) = m.churn_rate else { continue };
            let i = i as i32;
            let so_far = if m.partial { " so far" } else { "" };
            marks.push(Mark::new(
                chart.backend_coord(&(SegmentValue::Exact(i), y_max)),
                chart.backend_coord(&(SegmentValue::Exact(i + 1), 0.0)),
                format!(
                    "{}{so_far}: {:.1}% churned ({} of {} active at the start)",
                    m.month,
                    finite_or(rate, 0.0) * 100.0,
                    fmt_count(m.churned_of_active as f64),
                    fmt_count(m.active_at_start as f64)
                ),
                None,
            ));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(chart_err)?;
    }
    Ok(with_marks(svg, &marks))
}

/// The lifetime value check: mean actual against mean expected repeat
/// purchases in the holdout period, by repeat purchases in the calibration
/// period (the last group holds that many or more).
pub fn holdout_chart(rows: &[HoldoutRow], calibration_end: Date, holdout_end: Date) -> Result<String, InsightsError> {
    let n = rows.len().max(1);
    let y_max =
        rows.iter().flat_map(|r| [r.mean_actual, r.mean_expected]).map(|v| finite_or(v, 0.0)).fold(0.0, f64::max);
    let y_max = if y_max > 0.0 { y_max * 1.2 } else { 1.0 };
    let label = |f: u32| {
        if f >= crate::clv::HOLDOUT_MAX_FREQUENCY { format!("{f}+") } else { f.to_string() }
    };
    let x_label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) if (*i as usize) < rows.len() => label(rows[*i as usize].frequency),
        _ => String::new(),
    };
    let mut svg = String::new();
    let mut marks = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 480)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Model check: repeat purchases {calibration_end} to {holdout_end}"),
                (FONT, TITLE_SIZE).into_font().style(FontStyle::Bold),
            )
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((0..last_slot(n)).into_segmented(), 0.0..y_max)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc(format!("Repeat purchases up to {calibration_end}"))
            .y_desc("Mean purchases per customer after it")
            .x_label_formatter(&x_label)
            .y_label_formatter(&|v| format!("{v:.2}"))
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(chart_err)?;
        let series = [(0usize, "Actual", BAR), (1, "Expected by the model", BAR2)];
        for (k, name, colour) in series {
            chart
                .draw_series(rows.iter().enumerate().map(|(i, r)| {
                    let v = finite_or(if k == 0 { r.mean_actual } else { r.mean_expected }, 0.0);
                    let x = SegmentValue::CenterOf(i as i32);
                    PathElement::new(vec![(x.clone(), 0.0), (x, v)], colour.stroke_width(if k == 0 { 14 } else { 4 }))
                }))
                .map_err(chart_err)?
                .label(name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], colour.filled()));
        }
        for (i, r) in rows.iter().enumerate() {
            let i = i as i32;
            marks.push(Mark::new(
                chart.backend_coord(&(SegmentValue::Exact(i), y_max)),
                chart.backend_coord(&(SegmentValue::Exact(i + 1), 0.0)),
                format!(
                    "{} repeat purchases before ({} customers): {:.2} bought after on average, {:.2} expected",
                    label(r.frequency),
                    fmt_count(r.customers as f64),
                    finite_or(r.mean_actual, 0.0),
                    finite_or(r.mean_expected, 0.0)
                ),
                None,
            ));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        root.present().map_err(chart_err)?;
    }
    Ok(with_marks(svg, &marks))
}

/// Where to label a date axis from `from` to `to` (Julian days) with at
/// most `most` labels: on a span over two months the first of every 1, 2,
/// 3, 6 or 12·n months (`2024-03`), else every 1, 2, 7 or 14·n days
/// (`2024-03-05`). Steps are aligned to the calendar, so labels never repeat
/// and do not move as the span grows.
fn date_ticks(from: i32, to: i32, most: usize) -> Vec<(i32, String)> {
    let most = most.max(1);
    let (Ok(start), Ok(end)) = (Date::from_julian_day(from), Date::from_julian_day(to)) else { return Vec::new() };
    if to - from > 62 {
        let index = |d: Date| d.year() * 12 + i32::from(u8::from(d.month())) - 1;
        // Month starts within the span, as month indexes.
        let first = index(start) + i32::from(start.day() > 1);
        let last = index(end);
        let step = [1, 2, 3, 6]
            .into_iter()
            .chain((1..).map(|n| 12 * n))
            .find(|step| ((last - first).max(0) / step + 1) as usize <= most)
            .unwrap_or(12);
        (first..=last)
            .filter(|m| m.rem_euclid(step) == 0)
            .filter_map(|m| {
                let month = time::Month::try_from((m.rem_euclid(12) + 1) as u8).ok()?;
                let day = Date::from_calendar_date(m.div_euclid(12), month, 1).ok()?;
                Some((day.to_julian_day(), format!("{}-{:02}", day.year(), u8::from(month))))
            })
            .collect()
    } else {
        let step = [1, 2, 7]
            .into_iter()
            .chain((1..).map(|n| 14 * n))
            .find(|step| ((to - from) / step + 1) as usize <= most)
            .unwrap_or(14);
        (from..=to)
            .filter(|d| d.rem_euclid(step) == 0)
            .filter_map(|d| Some((d, Date::from_julian_day(d).ok()?.to_string())))
            .collect()
    }
}

/// How a customer's purchase chart is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PurchaseChartSize {
    /// A file of its own (900 × 420), titled with the customer and totals.
    Full,
    /// The customer page's card (about 330 px wide): no title, as the card
    /// says it, and drawn at the size it is shown so text stays 12 px.
    Card,
}

/// The card chart's size: the customer page's right column less its padding.
pub const PURCHASE_CARD_SIZE: (u32, u32) = (330, 250);

/// One customer's purchases as a file: a stem and dot per day (amount over
/// time), without links.
pub fn purchase_history_chart(
    customer_name: &str,
    purchases: &[(Date, i64)],
    currency: &str,
) -> Result<String, InsightsError> {
    purchase_chart(customer_name, purchases, currency, PurchaseChartSize::Full, |_| None)
}

/// One customer's purchases: a stem and dot per day they bought (the day's
/// amounts summed), each day a mark saying its date, count and amount and
/// linking to `day_href(day)`, the list of that day's purchases.
pub fn purchase_chart(
    customer_name: &str,
    purchases: &[(Date, i64)],
    currency: &str,
    size: PurchaseChartSize,
    day_href: impl Fn(Date) -> Option<String>,
) -> Result<String, InsightsError> {
    // Per day: (date, amount in major units, purchases), in date order.
    let mut by_day: std::collections::BTreeMap<Date, (i64, usize)> = std::collections::BTreeMap::new();
    for &(date, amount) in purchases {
        let day = by_day.entry(date).or_default();
        day.0 += amount;
        day.1 += 1;
    }
    let days: Vec<(Date, i32, f64, usize)> = by_day
        .into_iter()
        .map(|(date, (amount, count))| (date, date.to_julian_day(), minor_to_major(amount, currency), count))
        .collect();
    let (first, last) = match (days.first(), days.last()) {
        (Some(a), Some(b)) => (a.1, b.1),
        _ => {
            let day = Date::from_calendar_date(2000, time::Month::January, 1).map_or(0, |d| d.to_julian_day());
            (day, day)
        }
    };
    let pad = ((last - first) / 20).max(3);
    let y_max = days.iter().map(|d| d.2).fold(0.0f64, f64::max);
    let y_min = days.iter().map(|d| d.2).fold(0.0f64, f64::min);
    let y_max = if y_max > 0.0 { y_max * 1.15 } else { 1.0 };
    let y_min = if y_min < 0.0 { y_min * 1.15 } else { 0.0 };
    let total: f64 = days.iter().map(|d| d.2).sum();
    let card = size == PurchaseChartSize::Card;
    let ticks = date_ticks(first - pad, last + pad, if card { 3 } else { 8 });
    let (pixels, dot, half) = if card { (PURCHASE_CARD_SIZE, 3, 6) } else { ((900, 420), 4, 8) };
    let mut svg = String::new();
    let mut marks = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, pixels).into_drawing_area();
        let mut builder = ChartBuilder::on(&root);
        if !card {
            builder.caption(
                format!(
                    "Purchases of {customer_name}: {} purchases, {} {currency} in total",
                    purchases.len(),
                    fmt_money(total)
                ),
                (FONT, 20).into_font().style(FontStyle::Bold),
            );
        }
        let mut chart = builder
            .margin(if card { 8 } else { 15 })
            .x_label_area_size(if card { 42 } else { 50 })
            .y_label_area_size(if card { 62 } else { 80 })
            .build_cartesian_2d((first - pad)..(last + pad), y_min..y_max)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc("Date of purchase")
            .y_desc(format!("Amount ({currency})"))
            // The dates are labelled below, on whole months or days.
            .x_labels(1)
            .x_label_formatter(&|_| String::new())
            .disable_x_mesh()
            .max_light_lines(1)
            .y_labels(if card { 5 } else { 10 })
            .y_label_formatter(&|v| fmt_money(*v))
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(chart_err)?;
        let label = (FONT, LABEL_SIZE).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
        for (day, text) in &ticks {
            let (x, y) = chart.backend_coord(&(*day, y_min));
            root.draw(&PathElement::new(vec![(x, y), (x, y + 5)], BLACK)).map_err(chart_err)?;
            root.draw(&Text::new(text.clone(), (x, y + 8), label.clone())).map_err(chart_err)?;
        }
        chart
            .draw_series(days.iter().map(|&(_, d, a, _)| PathElement::new(vec![(d, 0.0), (d, a)], BAR.stroke_width(2))))
            .map_err(chart_err)?;
        let dots = chart
            .draw_series(days.iter().map(|&(_, d, a, _)| Circle::new((d, a), dot, BAR.filled())))
            .map_err(chart_err)?;
        if !card {
            dots.label(format!("Purchase amount ({currency})"))
                .legend(|(x, y)| Circle::new((x + 10, y), 4, BAR.filled()));
        }
        // A strip the plot's height over each day: easy to point at and tap.
        for &(date, day, amount, count) in &days {
            let (x, _) = chart.backend_coord(&(day, amount));
            let (_, top) = chart.backend_coord(&(day, y_max));
            let (_, bottom) = chart.backend_coord(&(day, y_min));
            let purchases = if count == 1 { "1 purchase".to_owned() } else { format!("{count} purchases") };
            marks.push(Mark::new(
                (x - half, top),
                (x + half, bottom),
                format!("{date}: {purchases}, {} {currency}", fmt_money(amount)),
                day_href(date),
            ));
        }
        if !card {
            draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        }
        root.present().map_err(chart_err)?;
    }
    Ok(with_marks(svg, &marks))
}

/// Segment names and labels as used on the charts (for legends elsewhere).
pub fn segment_label(segment: Segment) -> &'static str {
    segment.label()
}

/// What every drawn chart's test checks: a closed SVG, no NaN or infinity,
/// balanced text elements, and each of `needles` in it.
#[cfg(test)]
pub(crate) fn check_svg(svg: &str, needles: &[&str]) {
    assert!(svg.starts_with("<svg"), "not an SVG: {svg}");
    assert!(svg.trim_end().ends_with("</svg>"), "not closed");
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "NaN or inf in the SVG");
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    for needle in needles {
        assert!(svg.contains(needle), "missing {needle:?}");
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::date_ticks;

    fn ticks(from: Date, to: Date, most: usize) -> Vec<String> {
        date_ticks(from.to_julian_day(), to.to_julian_day(), most).into_iter().map(|t| t.1).collect()
    }

    use time::Date;

    #[test]
    fn date_ticks_fall_on_whole_months_or_days_and_never_repeat() {
        assert_eq!(ticks(date!(2026 - 02 - 20), date!(2026 - 08 - 25), 3), ["2026-03", "2026-05", "2026-07"]);
        assert_eq!(ticks(date!(2026 - 03 - 01), date!(2026 - 05 - 10), 8), ["2026-03", "2026-04", "2026-05"]);
        assert_eq!(ticks(date!(2019 - 06 - 01), date!(2026 - 05 - 10), 3), ["2022-01", "2025-01"]);
        let days = ticks(date!(2026 - 03 - 01), date!(2026 - 03 - 20), 3);
        assert_eq!(days, ["2026-03-02", "2026-03-09", "2026-03-16"], "weekly");
        assert!(days.iter().all(|d| d.len() == 10 && d.starts_with("2026-03-")), "{days:?}");
        assert_eq!(ticks(date!(2026 - 03 - 01), date!(2026 - 03 - 02), 3), ["2026-03-01", "2026-03-02"]);
        for (from, to) in
            [(date!(2020 - 01 - 01), date!(2026 - 12 - 31)), (date!(2026 - 01 - 01), date!(2026 - 04 - 01))]
        {
            for most in 1..10 {
                let found = ticks(from, to, most);
                assert!(!found.is_empty() && found.len() <= most, "{from} {to} {most}: {found:?}");
                let mut unique = found.clone();
                unique.dedup();
                assert_eq!(unique, found);
            }
        }
    }
}
