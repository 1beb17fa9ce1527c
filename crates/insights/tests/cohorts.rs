use rapport_insights::clv::simulate::Rng;
use rapport_insights::cohorts::CohortBuilder;
use rapport_insights::input::{InsightsError, YearMonth};
use time::macros::date;

#[test]
fn small_example_has_exact_matrix_revenue_and_repeat_rates() {
    let mut b = CohortBuilder::<u32>::new(date!(2024 - 03 - 31), "EUR");
    // customer 1, out of time order within the customer
    b.add(1, date!(2024 - 03 - 03), 200).unwrap();
    b.add(1, date!(2024 - 01 - 05), 100).unwrap();
    b.add(1, date!(2024 - 01 - 20), 50).unwrap();
    b.add(2, date!(2024 - 01 - 10), 300).unwrap();
    b.add(3, date!(2024 - 02 - 01), 100).unwrap();
    b.add(3, date!(2024 - 02 - 28), 100).unwrap();
    b.add(4, date!(2024 - 02 - 14), 40).unwrap();
    b.add(4, date!(2024 - 03 - 01), 60).unwrap();
    b.add(5, date!(2024 - 04 - 01), 999).unwrap(); // after as_of
    let r = b.finish();
    assert_eq!(r.ignored_after_as_of, 1);
    assert_eq!((r.customers, r.repeat_customers, r.revenue_minor, r.max_offset), (4, 3, 950, 2));
    assert!((r.repeat_purchase_rate - 0.75).abs() < 1e-12);
    assert_eq!(r.cohorts.len(), 2);

    let jan = r.cohort(YearMonth::new(2024, 1).unwrap()).unwrap();
    assert_eq!((jan.size, jan.purchases, jan.repeat_customers), (2, 4, 1));
    assert_eq!(jan.active, vec![2, 0, 1]);
    assert_eq!(jan.retention, vec![1.0, 0.0, 0.5]);
    assert_eq!(jan.revenue_by_month_minor, vec![450, 0, 200]);
    assert_eq!(jan.revenue_minor, 650);
    assert_eq!(jan.repeat_purchase_rate, 0.5);

    let feb = &r.cohorts[1];
    assert_eq!(feb.month.to_string(), "2024-02");
    assert_eq!((feb.size, feb.purchases, feb.repeat_customers), (2, 4, 2));
    assert_eq!(feb.active, vec![2, 1]);
    assert_eq!(feb.retention, vec![1.0, 0.5]);
    assert_eq!(feb.revenue_by_month_minor, vec![240, 60]);
    assert_eq!(feb.repeat_purchase_rate, 1.0);

    assert_eq!(r.average_retention(1), Some(0.25));
    assert_eq!(r.average_retention(2), Some(0.5));
    assert_eq!(r.average_retention(3), None);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["cohorts"][0]["month"], "2024-01");
}

#[test]
fn customers_must_be_contiguous() {
    let mut b = CohortBuilder::<u32>::new(date!(2024 - 03 - 31), "EUR");
    b.add(1, date!(2024 - 01 - 05), 100).unwrap();
    b.add(2, date!(2024 - 01 - 05), 100).unwrap();
    assert_eq!(b.add(1, date!(2024 - 02 - 05), 100), Err(InsightsError::CustomerNotContiguous("1".into())));
    let r = b.finish();
    assert_eq!(r.customers, 2);
    assert_eq!(r.revenue_minor, 200);
}

#[test]
fn month_zero_is_always_full_and_shares_are_in_range() {
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15u64);
    let mut next = move || rng.next_u64();
    let as_of = date!(2024 - 12 - 31);
    let mut b = CohortBuilder::<u64>::new(as_of, "EUR");
    let mut purchases = 0u64;
    for c in 0..2000u64 {
        for _ in 0..=(next() % 8) {
            let day = as_of - time::Duration::days((next() % 900) as i64);
            b.add(c, day, 100).unwrap();
            purchases += 1;
        }
    }
    let r = b.finish();
    assert_eq!(r.customers, 2000);
    assert_eq!(r.cohorts.iter().map(|c| c.size).sum::<u64>(), 2000);
    assert_eq!(r.cohorts.iter().map(|c| c.purchases).sum::<u64>(), purchases);
    assert_eq!(r.revenue_minor as u64, purchases * 100);
    for c in &r.cohorts {
        assert_eq!(c.retention[0], 1.0);
        assert!(c.retention.iter().all(|s| (0.0..=1.0).contains(s)));
        assert_eq!(c.retention.len() as i32, YearMonth::of(as_of).months_since(c.month) + 1);
    }
}

#[test]
fn year_month_arithmetic() {
    let m = YearMonth::new(2023, 12).unwrap();
    assert_eq!(m.plus_months(1).to_string(), "2024-01");
    assert_eq!(m.plus_months(-12).to_string(), "2022-12");
    assert_eq!(YearMonth::new(2024, 3).unwrap().months_since(m), 3);
    assert_eq!(YearMonth::new(2024, 2).unwrap().last_day(), date!(2024 - 02 - 29));
    assert_eq!("2024-02".parse::<YearMonth>().unwrap(), YearMonth::new(2024, 2).unwrap());
    assert!("2024-13".parse::<YearMonth>().is_err());
    assert!(YearMonth::new(2024, 0).is_none());
}

#[test]
fn revenue_beyond_i64_is_exact() {
    const MAX: i64 = rapport_domain::money::MAX_AMOUNT_MINOR;
    let mut b = CohortBuilder::<u32>::new(date!(2024 - 06 - 30), "EUR");
    for customer in 0..5_000 {
        b.add(customer, date!(2024 - 01 - 10), MAX).unwrap();
        b.add(customer, date!(2024 - 02 - 10), MAX).unwrap();
    }
    let report = b.finish();
    let month = i128::from(MAX) * 5_000;
    assert_eq!(report.cohorts[0].revenue_by_month_minor[..2], [month, month]);
    assert_eq!(report.cohorts[0].revenue_minor, 2 * month);
    assert_eq!(report.revenue_minor, 2 * month);
    assert!(report.revenue_minor > i128::from(i64::MAX));
}
