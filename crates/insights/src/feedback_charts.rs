//! The feedback dashboard's charts, drawn like those in [`crate::charts`]
//! (plotters' SVG backend, text kept as `<text>`): a survey score by month
//! with each month's 95 % interval as an error bar, and how many NPS answers
//! gave each score from 0 to 10, coloured by detractors, passives and
//! promoters. They take plain numbers; the figures come from the reports.
//!
//! Without data (no month with a value, no NPS answer) a chart still comes
//! back: its title over "No answers in this period".

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::charts::{
    BAR, BAR2, FONT, LABEL_SIZE, Mark, TITLE_SIZE, chart_err, finite_or, fmt_count, last_slot, with_marks,
};
use crate::input::InsightsError;

/// Every feedback chart's size in pixels.
pub const CHART_SIZE: (u32, u32) = (900, 420);
/// What a chart without data says under its title.
pub const NO_DATA: &str = "No answers in this period";
/// Passives' colour, between the detractors' orange and the promoters' blue.
const PASSIVE: RGBColor = RGBColor(150, 150, 150);
const MUTED: RGBColor = RGBColor(90, 90, 90);

/// One month (or other period) of a score trend: the value and its 95 %
/// interval, in the axis's unit.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendPoint {
    pub label: String,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// The value axis of a score trend: what it measures, its range, and how
/// the values are written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrendAxis {
    pub description: &'static str,
    pub min: f64,
    pub max: f64,
    /// Decimals of the value written beside each point.
    pub decimals: usize,
    /// Written after each value ("%").
    pub unit: &'static str,
    /// A level drawn as a dashed line across the chart (NPS 0).
    pub reference: Option<f64>,
}

impl TrendAxis {
    pub const NPS: TrendAxis = TrendAxis {
        description: "NPS (promoters − detractors, points; bars: 95% interval)",
        min: -100.0,
        max: 100.0,
        decimals: 0,
        unit: "",
        reference: Some(0.0),
    };
    pub const CSAT: TrendAxis = TrendAxis {
        description: "CSAT (share of 4s and 5s, %; bars: 95% interval)",
        min: 0.0,
        max: 100.0,
        decimals: 0,
        unit: "%",
        reference: None,
    };
    pub const CES: TrendAxis = TrendAxis {
        description: "CES (mean, 1 very hard to 7 very easy; bars: 95%)",
        min: 1.0,
        max: 7.0,
        decimals: 1,
        unit: "",
        reference: None,
    };
}

/// A chart with nothing to draw: its title and [`NO_DATA`].
fn no_data_chart(title: &str) -> Result<String, InsightsError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        let root = root.titled(title, (FONT, TITLE_SIZE).into_font().style(FontStyle::Bold)).map_err(chart_err)?;
        let (width, height) = root.dim_in_pixel();
        root.draw(&Text::new(
            NO_DATA,
            (width as i32 / 2, height as i32 / 2),
            (FONT, 18).into_font().color(&MUTED).pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(chart_err)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// A score by month: each month's value as a point, joined by a line, with
/// its 95 % interval as an error bar and the value written beside it.
/// Points without a finite value are left out; values and intervals are
/// kept within the axis's range.
pub fn score_trend_chart(title: &str, axis: &TrendAxis, points: &[TrendPoint]) -> Result<String, InsightsError> {
    let (min, max) = (axis.min, axis.max);
    let fit = |v: f64, fallback: f64| finite_or(v, fallback).clamp(min, max);
    let points: Vec<(&str, f64, f64, f64)> = points
        .iter()
        .filter(|p| p.value.is_finite())
        .map(|p| {
            let value = fit(p.value, 0.0);
            (p.label.as_str(), value, fit(p.low.min(p.value), value), fit(p.high.max(p.value), value))
        })
        .collect();
    if points.is_empty() {
        return no_data_chart(title);
    }
    let n = points.len();
    // A single month stands in the middle of three slots.
    let (slots, first) = if n == 1 { (3, 1) } else { (n, 0) };
    let x_label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) => {
            usize::try_from(*i - first).ok().and_then(|k| points.get(k)).map(|p| p.0.to_owned()).unwrap_or_default()
        }
        _ => String::new(),
    };
    let y_label = |v: &f64| {
        let digits = if (v - v.round()).abs() < 1e-9 { 0 } else { 1 };
        format!("{v:.digits$}{}", axis.unit)
    };
    let x = |i: usize| SegmentValue::CenterOf(i as i32 + first);
    let mut svg = String::new();
    let mut marks = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, TITLE_SIZE).into_font().style(FontStyle::Bold))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((0..last_slot(slots)).into_segmented(), min..max)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc("Month")
            .y_desc(axis.description)
            .x_labels(12.min(slots))
            .y_labels(9)
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .label_style((FONT, 12))
            .axis_desc_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(chart_err)?;
        if let Some(level) = axis.reference.filter(|r| (min..=max).contains(r)) {
            chart
                .draw_series(DashedLineSeries::new(
                    [(SegmentValue::Exact(0), level), (SegmentValue::Last, level)],
                    6,
                    4,
                    MUTED.stroke_width(1),
                ))
                .map_err(chart_err)?;
        }
        chart
            .draw_series(
                points
                    .iter()
                    .enumerate()
                    .map(|(i, p)| ErrorBar::new_vertical(x(i), p.2, p.1, p.3, BAR.stroke_width(2), 12)),
            )
            .map_err(chart_err)?;
        chart
            .draw_series(LineSeries::new(points.iter().enumerate().map(|(i, p)| (x(i), p.1)), BAR.stroke_width(2)))
            .map_err(chart_err)?;
        chart
            .draw_series(points.iter().enumerate().map(|(i, p)| Circle::new((x(i), p.1), 4, BAR.filled())))
            .map_err(chart_err)?;
        let decimals = axis.decimals;
        chart
            .draw_series(points.iter().enumerate().map(|(i, p)| {
                EmptyElement::at((x(i), p.1))
                    + Text::new(
                        format!("{:.decimals$}{}", p.1, axis.unit),
                        (7, -4),
                        (FONT, 12).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Bottom)),
                    )
            }))
            .map_err(chart_err)?;
        let decimals = axis.decimals;
        for (i, p) in points.iter().enumerate() {
            let slot = i as i32 + first;
            marks.push(Mark::new(
                chart.backend_coord(&(SegmentValue::Exact(slot), max)),
                chart.backend_coord(&(SegmentValue::Exact(slot + 1), min)),
                format!(
                    "{}: {:.decimals$}{unit} (95% interval {:.decimals$} to {:.decimals$}{unit})",
                    p.0,
                    p.1,
                    p.2,
                    p.3,
                    unit = axis.unit
                ),
                None,
            ));
        }
        root.present().map_err(chart_err)?;
    }
    Ok(with_marks(svg, &marks))
}

/// The NPS groups: name, scores, colour.
const NPS_GROUPS: [(&str, std::ops::RangeInclusive<usize>, RGBColor); 3] =
    [("Detractors (0–6)", 0..=6, BAR2), ("Passives (7–8)", 7..=8, PASSIVE), ("Promoters (9–10)", 9..=10, BAR)];

/// NPS answers by score: one bar per score from 0 to 10 (`counts[score]`;
/// missing scores count 0), coloured by group, each with its count above
/// it, and a legend giving each group's answers and share.
pub fn nps_distribution_chart(title: &str, counts: &[u64]) -> Result<String, InsightsError> {
    let counts: Vec<u64> = (0..=10).map(|score| counts.get(score).copied().unwrap_or(0)).collect();
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return no_data_chart(title);
    }
    let top = counts.iter().copied().max().unwrap_or(0);
    // Room above the highest bar for its count.
    let y_max = (top + top / 5).max(top + 1);
    let x_label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) if (0..=10).contains(i) => i.to_string(),
        _ => String::new(),
    };
    let mut svg = String::new();
    let mut marks = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        let root = root.titled(title, (FONT, TITLE_SIZE).into_font().style(FontStyle::Bold)).map_err(chart_err)?;
        let (width, _) = root.dim_in_pixel();
        let (main, legend) = root.split_horizontally(width - 230);
        let mut chart = ChartBuilder::on(&main)
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((0..10).into_segmented(), 0..y_max)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("Score (0 not at all likely to 10 extremely likely)")
            .y_desc("Answers (count)")
            .x_labels(11)
            .y_labels(6)
            .x_label_formatter(&x_label)
            .y_label_formatter(&|v| fmt_count(*v as f64))
            .label_style((FONT, 12))
            .axis_desc_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(chart_err)?;
        for (_, scores, colour) in &NPS_GROUPS {
            chart
                .draw_series(scores.clone().map(|score| {
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(score as i32), 0),
                            (SegmentValue::Exact(score as i32 + 1), counts[score]),
                        ],
                        colour.filled(),
                    );
                    bar.set_margin(0, 0, 6, 6);
                    bar
                }))
                .map_err(chart_err)?;
        }
        chart
            .draw_series(counts.iter().enumerate().map(|(score, &count)| {
                EmptyElement::at((SegmentValue::CenterOf(score as i32), count))
                    + Text::new(
                        fmt_count(count as f64),
                        (0, -3),
                        (FONT, 12).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )
            }))
            .map_err(chart_err)?;

        for (score, &count) in counts.iter().enumerate() {
            let group = NPS_GROUPS.iter().find(|g| g.1.contains(&score)).map_or("", |g| g.0);
            marks.push(Mark::new(
                chart.backend_coord(&(SegmentValue::Exact(score as i32), y_max)),
                chart.backend_coord(&(SegmentValue::Exact(score as i32 + 1), 0)),
                format!(
                    "Score {score}: {} {} ({group})",
                    fmt_count(count as f64),
                    if count == 1 { "answer" } else { "answers" }
                ),
                None,
            ));
        }
        legend
            .draw(&Text::new("Groups", (10, 30), (FONT, 14).into_font().style(FontStyle::Bold).color(&BLACK)))
            .map_err(chart_err)?;
        for (k, (name, scores, colour)) in NPS_GROUPS.iter().enumerate() {
            let answers: u64 = counts[scores.clone()].iter().sum();
            let y = 60 + k as i32 * 44;
            legend.draw(&Rectangle::new([(10, y), (26, y + 16)], colour.filled())).map_err(chart_err)?;
            legend.draw(&Text::new(*name, (34, y), (FONT, 13).into_font().color(&BLACK))).map_err(chart_err)?;
            let share = answers as f64 / total as f64 * 100.0;
            legend
                .draw(&Text::new(
                    format!(
                        "{} {} ({share:.0}%)",
                        fmt_count(answers as f64),
                        if answers == 1 { "answer" } else { "answers" }
                    ),
                    (34, y + 17),
                    (FONT, 12).into_font().color(&MUTED),
                ))
                .map_err(chart_err)?;
        }
        root.present().map_err(chart_err)?;
    }
    Ok(with_marks(svg, &marks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::check_svg as check;

    fn point(label: &str, value: f64, low: f64, high: f64) -> TrendPoint {
        TrendPoint { label: label.into(), value, low, high }
    }

    #[test]
    fn a_trend_has_its_months_values_and_axis() {
        let points = [
            point("2025-01", 12.0, -20.0, 44.0),
            point("2025-02", 31.0, 8.0, 54.0),
            point("2025-03", -5.0, -40.0, 30.0),
        ];
        let svg = score_trend_chart("NPS by month", &TrendAxis::NPS, &points).unwrap();
        check(
            &svg,
            &["NPS by month", "2025-01", "2025-02", "2025-03", "Month", "promoters − detractors", "\n31\n", "\n-5\n"],
        );
        assert!(!svg.contains(NO_DATA));
        assert!(svg.contains("<circle"), "a point per month");
        assert!(svg.contains("stroke-dasharray") || svg.matches("<line").count() > 3, "the zero line");

        let ces = [point("2025-01", 5.44, 4.9, 5.98), point("2025-02", 6.1, 5.5, 6.7)];
        let svg = score_trend_chart("CES by month", &TrendAxis::CES, &ces).unwrap();
        check(&svg, &["CES by month", "\n5.4\n", "\n6.1\n", "1 very hard to 7 very easy"]);
        let csat = [point("2025-02", 80.0, 60.0, 92.0)];
        check(&score_trend_chart("CSAT", &TrendAxis::CSAT, &csat).unwrap(), &["\n80%\n", "100%"]);
    }

    #[test]
    fn one_month_and_values_outside_the_range_are_drawn() {
        let svg = score_trend_chart("NPS", &TrendAxis::NPS, &[point("2025-04", 100.0, 62.0, 140.0)]).unwrap();
        check(&svg, &["2025-04", "\n100\n"]);
        // A month without a finite value is left out; an infinite bound is the value.
        let points = [point("2025-05", f64::NAN, 0.0, 0.0), point("2025-06", 50.0, f64::NEG_INFINITY, 70.0)];
        let svg = score_trend_chart("NPS", &TrendAxis::NPS, &points).unwrap();
        check(&svg, &["2025-06", "\n50\n"]);
        assert!(!svg.contains("2025-05"));
    }

    #[test]
    fn no_data_says_so() {
        let svg = score_trend_chart("CSAT by month", &TrendAxis::CSAT, &[]).unwrap();
        check(&svg, &["CSAT by month", NO_DATA]);
        let svg = score_trend_chart("NPS", &TrendAxis::NPS, &[point("2025-01", f64::NAN, 0.0, 0.0)]).unwrap();
        check(&svg, &[NO_DATA]);
        check(&nps_distribution_chart("NPS answers by score", &[0; 11]).unwrap(), &["NPS answers by score", NO_DATA]);
        check(&nps_distribution_chart("NPS answers by score", &[]).unwrap(), &[NO_DATA]);
    }

    #[test]
    fn the_distribution_has_scores_groups_and_counts() {
        let counts = [3, 0, 1, 0, 0, 2, 4, 10, 12, 1500, 20];
        let svg = nps_distribution_chart("NPS answers by score", &counts).unwrap();
        check(
            &svg,
            &[
                "NPS answers by score",
                "Score (0 not at all likely to 10 extremely likely)",
                "Answers (count)",
                "Detractors (0–6)",
                "Passives (7–8)",
                "Promoters (9–10)",
                "10 answers (1%)",
                "22 answers (1%)",
                "1,520 answers (98%)",
                "1,500",
            ],
        );
        assert!(!svg.contains(NO_DATA));
        // Each group in its colour.
        for colour in ["#DD842A", "#969696", "#3168B0"] {
            assert!(svg.to_uppercase().contains(colour), "no {colour}");
        }
        // One answer, and fewer than eleven counts given.
        let svg = nps_distribution_chart("NPS", &[0, 0, 0, 0, 0, 0, 0, 0, 1]).unwrap();
        check(&svg, &["0 answers (0%)", "1 answer (100%)"]);
    }

    #[test]
    fn every_month_and_score_has_a_mark_with_its_value() {
        let point =
            |label: &str, value: f64| TrendPoint { label: label.into(), value, low: value - 12.0, high: value + 12.0 };
        let svg = score_trend_chart("NPS", &TrendAxis::NPS, &[point("2025-01", 42.0), point("2025-02", -5.0)]).unwrap();
        check(&svg, &["<title>2025-01: 42", "<title>2025-02: -5", "(95% interval "]);
        assert_eq!(svg.matches("class=\"chart-mark\"").count(), 2);
        let mut counts = [0u64; 11];
        counts[9] = 3;
        counts[2] = 1;
        let svg = nps_distribution_chart("By score", &counts).unwrap();
        check(
            &svg,
            &["<title>Score 9: 3 answers (Promoters (9–10))</title>", "<title>Score 2: 1 answer (Detractors (0–6))"],
        );
        assert_eq!(svg.matches("class=\"chart-mark\"").count(), 11);
    }
}
