use rapport_insights::churn::{ChurnBuilder, ChurnDefinition, Observation, kaplan_meier};
use rapport_insights::clv::simulate::Rng;
use time::macros::date;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// Freireich et al. (1963), 6-MP arm, remission times in weeks (`+` =
/// censored): 6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+
/// 34+ 35+. Expected values as printed by R
/// `summary(survfit(Surv(time, status) ~ 1, conf.type = "log-log"))`
/// (survival, std.err, lower 95% CI, upper 95% CI), and to 4 decimals from the
/// same formulas.
#[test]
fn kaplan_meier_matches_freireich_6mp() {
    let events = [6, 6, 6, 7, 10, 13, 16, 22, 23];
    let censored = [6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35];
    let mut obs: Vec<Observation> = events
        .iter()
        .map(|&d| Observation { duration: d, event: true })
        .chain(censored.iter().map(|&d| Observation { duration: d, event: false }))
        .collect();
    let curve = kaplan_meier("6-MP", &mut obs);
    assert_eq!(curve.subjects, 21);
    assert_eq!(curve.events, 9);
    assert_eq!(curve.median, Some(23));
    #[rustfmt::skip]
    let expected = [
        // time, n.risk, n.event, survival, std.err, lower, upper
        (6, 21, 3, 0.8571, 0.0764, 0.6197, 0.9516),
        (7, 17, 1, 0.8067, 0.0869, 0.5631, 0.9228),
        (10, 15, 1, 0.7529, 0.0963, 0.5032, 0.8894),
        (13, 12, 1, 0.6902, 0.1068, 0.4316, 0.8491),
        (16, 11, 1, 0.6275, 0.1141, 0.3675, 0.8049),
        (22, 7, 1, 0.5378, 0.1282, 0.2678, 0.7468),
        (23, 6, 1, 0.4482, 0.1346, 0.1881, 0.6801),
    ];
    let with_events: Vec<_> = curve.points.iter().filter(|p| p.events > 0).collect();
    assert_eq!(with_events.len(), expected.len());
    for (p, &(t, n, d, s, se, lo, hi)) in with_events.iter().zip(&expected) {
        assert_eq!((p.time, p.at_risk, p.events), (t, n, d));
        assert!(close(p.survival, s, 5e-5), "S({t}) = {}", p.survival);
        assert!(close(p.std_err, se, 5e-5), "se({t}) = {}", p.std_err);
        assert!(close(p.lower, lo, 5e-5), "lower({t}) = {}", p.lower);
        assert!(close(p.upper, hi, 5e-5), "upper({t}) = {}", p.upper);
    }
    // R's 3-decimal printout for the first row: 0.857 0.0764 0.620 0.952
    let first = with_events[0];
    assert_eq!(format!("{:.3} {:.3} {:.3}", first.survival, first.lower, first.upper), "0.857 0.620 0.952");
    assert_eq!(curve.at(5), (1.0, 1.0, 1.0));
    assert_eq!(curve.at(35).0, curve.points.last().unwrap().survival);
}

#[test]
fn no_purchase_for_days_gives_exact_monthly_rates_and_curve() {
    let mut b = ChurnBuilder::<u32>::new(date!(2024 - 06 - 30), ChurnDefinition::NoPurchaseFor { days: 30 });
    b.add_purchase(1, date!(2024 - 02 - 01));
    b.add_purchase(1, date!(2024 - 01 - 10));
    b.add_purchase(2, date!(2024 - 01 - 20));
    b.add_purchase(2, date!(2024 - 06 - 15));
    b.add_purchase(3, date!(2024 - 02 - 10));
    b.add_purchase(4, date!(2024 - 03 - 05));
    b.add_purchase(5, date!(2024 - 04 - 10));
    b.add_purchase(5, date!(2024 - 05 - 01));
    b.add_purchase(5, date!(2024 - 07 - 10)); // after as_of: ignored
    b.set_group(1, "email");
    b.set_group(2, "email");
    b.set_group(3, "ads");
    let r = b.finish();
    assert_eq!((r.customers, r.churned, r.without_purchase), (5, 4, 0));
    assert!(close(r.churned_share, 0.8, 1e-12));
    let rows: Vec<_> = r
        .monthly
        .iter()
        .map(|m| {
            (m.month.to_string(), m.active_at_start, m.new_customers, m.churned, m.churned_of_active, m.churn_rate)
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("2024-01".to_owned(), 0, 2, 0, 0, None),
            ("2024-02".to_owned(), 2, 1, 0, 0, Some(0.0)),
            ("2024-03".to_owned(), 3, 1, 2, 2, Some(2.0 / 3.0)),
            ("2024-04".to_owned(), 2, 1, 1, 1, Some(0.5)),
            ("2024-05".to_owned(), 2, 0, 1, 1, Some(0.5)),
            ("2024-06".to_owned(), 1, 0, 0, 0, Some(0.0)),
        ]
    );
    assert!(r.monthly.iter().all(|m| !m.partial));

    let groups: Vec<_> = r.survival.iter().map(|c| (c.group.as_str(), c.subjects, c.events)).collect();
    assert_eq!(groups, vec![("All customers", 5, 4), ("Unknown", 2, 2), ("ads", 1, 1), ("email", 2, 1)]);
    let all = &r.survival[0];
    let points: Vec<_> = all.points.iter().map(|p| (p.time, p.at_risk, p.events, p.censored)).collect();
    // lifetimes: 1 → 52 days (churned 2024-03-02), 2 → 162 censored, 3 → 30, 4 → 30, 5 → 51
    assert_eq!(points, vec![(30, 5, 2, 0), (51, 3, 1, 0), (52, 2, 1, 0), (162, 1, 0, 1)]);
    let s: Vec<f64> = all.points.iter().map(|p| p.survival).collect();
    for (got, want) in s.iter().zip([0.6, 0.4, 0.2, 0.2]) {
        assert!(close(*got, want, 1e-12));
    }
    assert_eq!(all.median, Some(51));
    serde_json::to_string(&r).unwrap();
}

#[test]
fn lifecycle_churned_uses_the_given_day() {
    let mut b = ChurnBuilder::<u32>::new(date!(2024 - 06 - 15), ChurnDefinition::LifecycleChurned);
    b.add_purchase(1, date!(2024 - 01 - 01));
    b.set_churned(1, date!(2024 - 02 - 01));
    b.add_purchase(2, date!(2024 - 01 - 01));
    b.set_churned(3, date!(2024 - 03 - 01)); // never bought
    b.add_purchase(4, date!(2024 - 05 - 01));
    b.set_churned(4, date!(2024 - 07 - 15)); // after as_of: censored
    let r = b.finish();
    assert_eq!((r.customers, r.churned, r.without_purchase), (3, 1, 1));
    let pts: Vec<_> = r.survival[0].points.iter().map(|p| (p.time, p.events, p.censored)).collect();
    assert_eq!(pts, vec![(31, 1, 0), (45, 0, 1), (166, 0, 1)]);
    assert!(r.monthly.last().unwrap().partial);
    assert_eq!(r.survival.len(), 1);
}

#[test]
fn kaplan_meier_is_monotone_bounded_and_inside_its_band() {
    let mut rng = Rng::new(0x1234_5678_9abc_def1u64);
    let mut next = move || rng.next_u64();
    for size in [1usize, 2, 7, 50, 500] {
        let mut obs: Vec<Observation> =
            (0..size).map(|_| Observation { duration: (next() % 100) as u32, event: next() % 3 != 0 }).collect();
        let curve = kaplan_meier("x", &mut obs);
        let mut previous = 1.0;
        for p in &curve.points {
            assert!((0.0..=1.0).contains(&p.survival));
            assert!(p.survival <= previous + 1e-15);
            assert!(p.lower <= p.survival + 1e-12 && p.survival <= p.upper + 1e-12, "{p:?}");
            assert!((0.0..=1.0).contains(&p.lower) && (0.0..=1.0).contains(&p.upper));
            assert!(p.survival.is_finite() && p.std_err.is_finite());
            previous = p.survival;
        }
        assert_eq!(curve.subjects as usize, size);
    }
    // everyone has the event at once: S drops to 0 with a [0, 0] band
    let mut all_die = vec![Observation { duration: 3, event: true }; 4];
    let curve = kaplan_meier("x", &mut all_die);
    assert_eq!((curve.points[0].survival, curve.points[0].lower, curve.points[0].upper), (0.0, 0.0, 0.0));
    assert!(kaplan_meier("empty", &mut []).points.is_empty());
}
