use rapport_insights::charts::{
    churn_rate_chart, purchase_history_chart, retention_heatmap, rfm_segments_chart, survival_chart,
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
    let svg = survival_chart("Customer lifetime by source", &report.survival).unwrap();
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
    check(&survival_chart("Nothing", &empty.survival).unwrap(), &["Nothing"]);
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
