use rapport_insights::charts::{
    PURCHASE_CARD_SIZE, PurchaseChartSize, churn_rate_chart, purchase_chart, purchase_history_chart, retention_heatmap,
    rfm_segments_chart, survival_chart,
};
use rapport_insights::churn::{ChurnBuilder, ChurnDefinition};
use rapport_insights::cohorts::CohortBuilder;
use rapport_insights::rfm::RfmBuilder;
use time::macros::date;

fn check(svg: &str, needles: &[&str]) {
    assert!(svg.starts_with("<svg") || svg.contains("<svg"), "no <svg");
    assert!(svg.trim_end().ends_with("</svg>"), "not closed");
    assert!(svg.contains("<text"), "no text elements");
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "NaN or inf in SVG");
    for needle in needles {
        assert!(svg.contains(needle), "missing {needle:?}");
    }
    // crude well-formedness: every opened element is closed
    let opened = svg.matches("<text").count();
    assert_eq!(opened, svg.matches("</text>").count());
}

fn sample() -> Vec<(u32, time::Date, i64)> {
    let mut rows = Vec::new();
    let mut seed = 0xdead_beef_u64;
    for c in 0..300u32 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let first = date!(2023 - 01 - 01) + time::Duration::days((seed >> 33) as i64 % 500);
        for k in 0..=(seed >> 20) % 5 {
            rows.push((c, first + time::Duration::days(k as i64 * ((seed >> 40) % 90) as i64), 1250 + k as i64));
        }
    }
    rows
}

#[test]
fn rfm_chart_has_titles_axes_and_segments() {
    let mut b = RfmBuilder::new(date!(2024 - 06 - 30), "EUR");
    for (c, d, a) in sample() {
        b.add(c, d, a);
    }
    let svg = rfm_segments_chart(&b.finish()).unwrap();
    check(&svg, &["RFM segments", "Customers (count)", "Total spent (EUR)", "Champions", "Can&apos;t lose", "Lost"]);
    let empty = rfm_segments_chart(&RfmBuilder::<u32>::new(date!(2024 - 06 - 30), "EUR").finish()).unwrap();
    check(&empty, &["RFM segments"]);
}

#[test]
fn heatmap_has_scale_labels_and_percentages() {
    let mut b = CohortBuilder::new(date!(2024 - 06 - 30), "EUR");
    for (c, d, a) in sample() {
        b.add(c, d, a).unwrap();
    }
    let svg = retention_heatmap(&b.finish()).unwrap();
    check(
        &svg,
        &[
            "Retention by cohort",
            "Months since first purchase",
            "Cohort (first purchase month",
            "100%",
            "Retained (%)",
            "2023-01",
        ],
    );
    let mut one = CohortBuilder::new(date!(2024 - 01 - 31), "EUR");
    one.add(1u8, date!(2024 - 01 - 02), 5).unwrap();
    check(&retention_heatmap(&one.finish()).unwrap(), &["100%"]);
    check(
        &retention_heatmap(&CohortBuilder::<u8>::new(date!(2024 - 01 - 31), "EUR").finish()).unwrap(),
        &["Retention"],
    );
}

#[test]
fn survival_and_churn_charts_have_legends() {
    let mut b = ChurnBuilder::new(date!(2024 - 06 - 30), ChurnDefinition::NoPurchaseFor { days: 90 });
    for (c, d, _) in sample() {
        b.add_purchase(c, d);
        b.set_group(c, if c % 2 == 0 { "Web shop" } else { "Referral" });
    }
    let report = b.finish();
    let svg = survival_chart("Customer lifetime by source", &report.survival, 0).unwrap();
    check(
        &svg,
        &[
            "Customer lifetime by source",
            "Days since first purchase",
            "Customers still active (%",
            "All customers (n=300",
            "Web shop",
            "Referral",
            "<polygon",
        ],
    );
    let svg = churn_rate_chart(&report).unwrap();
    check(
        &svg,
        &[
            "Monthly churn rate (churn = no purchase for 90 days)",
            "Month",
            "Churned / active at month start (%)",
            "Churn rate",
            "2023-",
        ],
    );
    let empty = ChurnBuilder::<u8>::new(date!(2024 - 06 - 30), ChurnDefinition::LifecycleChurned).finish();
    check(&churn_rate_chart(&empty).unwrap(), &["lifecycle stage churned"]);
    check(&survival_chart("Nothing", &empty.survival, 0).unwrap(), &["Nothing"]);
}

#[test]
fn purchase_history_chart_shows_amounts_over_time() {
    let purchases = [(date!(2024 - 01 - 05), 1999), (date!(2024 - 02 - 10), 4550), (date!(2024 - 05 - 20), -1000)];
    let svg = purchase_history_chart("Ada Lovelace", &purchases, "EUR").unwrap();
    check(
        &svg,
        &["Purchases of Ada Lovelace: 3 purchases, 55.49 EUR in total", "Amount (EUR)", "Date of purchase", "2024-0"],
    );
    let yen = purchase_history_chart("Tanaka", &[(date!(2024 - 01 - 05), 1200)], "JPY").unwrap();
    check(&yen, &["1,200 JPY in total"]);
    check(&purchase_history_chart("Nobody", &[], "EUR").unwrap(), &["0 purchases"]);
}

#[test]
fn the_card_purchase_chart_has_a_linked_mark_per_day_and_readable_text() {
    let purchases = [
        (date!(2024 - 03 - 02), 500),
        (date!(2024 - 01 - 05), 1999),
        (date!(2024 - 01 - 05), 1000),
        (date!(2024 - 09 - 30), 4550),
    ];
    let svg =
        purchase_chart("Ada", &purchases, "EUR", PurchaseChartSize::Card, |day| Some(format!("/purchases?day={day}")))
            .unwrap();
    check(&svg, &["Amount (EUR)", "Date of purchase", "2024-0"]);
    assert!(!svg.contains("Purchases of Ada"), "the card says whose purchases");
    let (width, height) = PURCHASE_CARD_SIZE;
    assert!(svg.contains(&format!("width=\"{width}\"")) && svg.contains(&format!("height=\"{height}\"")));
    // Two purchases on one day are one stem and one mark, in date order.
    let found = marks(&svg);
    let titles: Vec<&str> = found.iter().map(|m| m.1.as_str()).collect();
    assert_eq!(
        titles,
        ["2024-01-05: 2 purchases, 29.99 EUR", "2024-03-02: 1 purchase, 5.00 EUR", "2024-09-30: 1 purchase, 45.50 EUR"]
    );
    assert_eq!(found[0].0.as_deref(), Some("/purchases?day=2024-01-05"));
    // Every mark within the chart, at least 12 px wide, and no text under 12 px.
    for (_, _, (x, y, w, h)) in &found {
        assert!(*x >= 0 && *y >= 0 && x + w <= width as i32 && y + h <= height as i32, "{x} {y} {w} {h}");
        assert!(*w >= 12, "a mark too narrow to point at: {w}");
    }
    for size in svg.split("font-size=\"").skip(1).map(|s| s[..s.find('"').unwrap()].parse::<f64>().unwrap()) {
        assert!(size >= 12.0, "text of {size} px");
    }
    // A long span is labelled by month, never the same month twice.
    let labels: Vec<&str> =
        svg.split("<text").skip(1).map(|t| t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()].trim()).collect();
    let months: Vec<&&str> = labels.iter().filter(|l| l.len() == 7 && l.starts_with("2024-")).collect();
    assert!(!months.is_empty(), "{labels:?}");
    let mut unique = months.clone();
    unique.dedup();
    assert_eq!(unique, months);
}

/// A number attribute of an SVG element's text.
fn attr(element: &str, name: &str) -> i32 {
    let start =
        element.find(&format!(" {name}=\"")).unwrap_or_else(|| panic!("no {name} in {element}")) + name.len() + 3;
    let end = start + element[start..].find('"').unwrap();
    element[start..end].parse().unwrap()
}

/// A box as (x, y, width, height).
type Box = (i32, i32, i32, i32);

/// Every `<rect` element filled with `fill`.
fn rects(svg: &str, fill: &str) -> Vec<Box> {
    svg.split("<rect")
        .skip(1)
        .map(|r| &r[..r.find('>').unwrap()])
        .filter(|r| r.contains(&format!("fill=\"{fill}\"")))
        .map(|r| (attr(r, "x"), attr(r, "y"), attr(r, "width"), attr(r, "height")))
        .collect()
}

/// The marks as (href, title, box).
fn marks(svg: &str) -> Vec<(Option<String>, String, Box)> {
    let layer = &svg[svg.find("<g class=\"chart-marks\">").expect("no marks layer")..];
    layer
        .split("class=\"chart-mark\"")
        .skip(1)
        .map(|m| {
            let href = m.strip_prefix(" href=\"").map(|h| h[..h.find('"').unwrap()].replace("&amp;", "&"));
            let title = &m[m.find("<title>").unwrap() + 7..m.find("</title>").unwrap()];
            let r = &m[m.find("<rect").unwrap()..];
            (href, title.to_owned(), (attr(r, "x"), attr(r, "y"), attr(r, "width"), attr(r, "height")))
        })
        .collect()
}

fn inside(inner: Box, outer: Box) -> bool {
    inner.0 >= outer.0
        && inner.1 >= outer.1
        && inner.0 + inner.2 <= outer.0 + outer.2
        && inner.1 + inner.3 <= outer.1 + outer.3
}

#[test]
fn rfm_marks_cover_every_bar_and_lead_to_the_segment() {
    let mut b = RfmBuilder::new(date!(2024 - 06 - 30), "EUR");
    for (c, d, a) in sample() {
        b.add(c, d, a);
    }
    let report = b.finish();
    let svg = rfm_segments_chart(&report).unwrap();
    check(&svg, &["class=\"chart-svg\""]);
    let marks = marks(&svg);
    assert_eq!(marks.len(), report.segments.len() * 2, "one mark per bar in each panel");
    let bars: Vec<_> = rects(&svg, "#3168B0").into_iter().chain(rects(&svg, "#DD842A")).collect();
    assert_eq!(bars.len(), report.segments.len() * 2);
    for bar in bars {
        assert!(marks.iter().any(|m| inside(bar, m.2)), "bar {bar:?} has no mark over it");
    }
    let first = &report.segments[0];
    let (href, title, _) = &marks[0];
    assert_eq!(href.as_deref(), Some(format!("/people?segment={}", first.segment.as_str()).as_str()));
    assert_eq!(
        title,
        &format!(
            "{}: {} customers ({:.0}% of customers)",
            first.segment.label(),
            first.customers,
            first.share_of_customers * 100.0
        )
    );
    assert!(marks[report.segments.len()].1.contains("EUR spent"), "{}", marks[report.segments.len()].1);
    assert!(!svg.contains("fill=\"#FFFFFF\" stroke=\"none\"/>\n<text"), "no white background box");
}

#[test]
fn heatmap_marks_are_cohort_rows_and_cells_with_their_customers() {
    let mut b = CohortBuilder::new(date!(2024 - 06 - 30), "EUR");
    for (c, d, a) in sample() {
        b.add(c, d, a).unwrap();
    }
    let report = b.finish();
    let svg = retention_heatmap(&report).unwrap();
    let marks = marks(&svg);
    let cells: usize = report.cohorts.iter().map(|c| c.retention.len() + 1).sum();
    assert_eq!(marks.len(), cells, "a label mark and a mark per cell for every cohort");
    let first = &report.cohorts[0];
    assert_eq!(marks[0].0.as_deref(), Some(format!("/people?first_purchase_month={}", first.month).as_str()));
    assert_eq!(marks[0].1, format!("Cohort {}: {} customers", first.month, first.size));
    let next = first.month.plus_months(1);
    assert_eq!(
        marks[2].0.as_deref(),
        Some(format!("/people?first_purchase_month={}&purchased_in={next}", first.month).as_str())
    );
    assert_eq!(
        marks[2].1,
        format!(
            "Cohort {}, month 1 ({next}): {:.0}% bought ({} of {})",
            first.month,
            first.retention[1] * 100.0,
            first.active[1],
            first.size
        )
    );
    // Every mark lies within the picture, and no cell is drawn without one.
    let (w, h) = (attr(&svg, "width"), attr(&svg, "height"));
    assert!(marks.iter().all(|m| inside(m.2, (0, 0, w, h))));
    assert!(svg.contains("font-size=\"12.096774\"") || svg.contains("font-size=\"12.09"), "labels about 12 px");
}

#[test]
fn survival_highlights_one_curve_and_churn_and_history_marks_say_their_values() {
    let mut b = ChurnBuilder::new(date!(2024 - 06 - 30), ChurnDefinition::NoPurchaseFor { days: 90 });
    for (c, d, _) in sample() {
        b.add_purchase(c, d);
        b.set_group(c, if c % 2 == 0 { "Web shop" } else { "Referral" });
    }
    let report = b.finish();
    let all = survival_chart("By source", &report.survival, 0).unwrap();
    let web = survival_chart("By source", &report.survival, 1).unwrap();
    assert_eq!(all.matches("<polygon").count(), 1, "only the highlighted curve has its band");
    let (all_marks, web_marks) = (marks(&all), marks(&web));
    assert_eq!(all_marks.len(), 30);
    assert!(all_marks.iter().all(|m| m.0.is_none() && m.1.starts_with("All customers, day ")), "{:?}", all_marks[0]);
    let group = &report.survival[1].group;
    assert!(web_marks.iter().all(|m| m.1.starts_with(&format!("{group}, day "))));
    assert!(all_marks[29].1.contains("% still active (95% band"));

    let churn = churn_rate_chart(&report).unwrap();
    let churn_marks = marks(&churn);
    let rated: Vec<_> = report.monthly.iter().filter(|m| m.churn_rate.is_some()).collect();
    assert_eq!(churn_marks.len(), rated.len());
    let m = rated[rated.len() / 2];
    let expected = format!(
        "{}: {:.1}% churned ({} of {} active at the start)",
        m.month,
        m.churn_rate.unwrap() * 100.0,
        m.churned_of_active,
        m.active_at_start
    );
    assert!(churn_marks.iter().any(|c| c.1 == expected), "{expected} not among the marks");

    let history =
        purchase_history_chart("Ada", &[(date!(2024 - 01 - 05), 1999), (date!(2024 - 02 - 10), 4550)], "EUR").unwrap();
    let titles: Vec<String> = marks(&history).into_iter().map(|m| m.1).collect();
    assert_eq!(titles, ["2024-01-05: 1 purchase, 19.99 EUR", "2024-02-10: 1 purchase, 45.50 EUR"]);
    for svg in [&all, &web, &churn, &history] {
        check(svg, &["chart-marks"]);
    }
}

#[test]
fn mark_text_is_escaped() {
    let curves = vec![rapport_insights::churn::kaplan_meier("Ads & <promos>", &mut [])];
    let svg = survival_chart("T", &curves, 0).unwrap();
    assert!(svg.contains("Ads &amp; &lt;promos&gt;, day"), "escaped");
    assert!(!svg.contains("Ads & <"));
}
