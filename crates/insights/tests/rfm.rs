use rapport_insights::clv::simulate::Rng;
use rapport_insights::rfm::{RfmBuilder, Segment};
use time::macros::date;

#[test]
fn distinct_customers_get_exact_scores_and_segments() {
    let mut b = RfmBuilder::<u128>::new(date!(2024 - 06 - 30), "EUR");
    b.add(1, date!(2024 - 01 - 01), 1000);
    b.add(2, date!(2024 - 03 - 01), 500);
    b.add(2, date!(2024 - 04 - 01), 1500);
    for _ in 0..3 {
        b.add(3, date!(2024 - 05 - 01), 1000);
    }
    for _ in 0..4 {
        b.add(4, date!(2024 - 06 - 01), 2000);
    }
    for d in [
        date!(2024 - 06 - 25),
        date!(2024 - 06 - 26),
        date!(2024 - 06 - 27),
        date!(2024 - 06 - 29),
        date!(2024 - 06 - 28),
    ] {
        b.add(5, d, 1000);
    }
    b.add(5, date!(2024 - 07 - 01), 99_999); // after as_of
    let report = b.finish();
    assert_eq!(report.ignored_after_as_of, 1);
    assert_eq!(report.total_value_minor, 19_000);
    let rows: Vec<_> = report
        .customers
        .iter()
        .map(|c| (c.customer, c.recency_days, c.frequency, c.monetary_minor, c.code(), c.segment))
        .collect();
    assert_eq!(
        rows,
        vec![
            (1, 181, 1, 1000, "111".to_owned(), Segment::Lost),
            (2, 90, 2, 2000, "222".to_owned(), Segment::Hibernating),
            (3, 60, 3, 3000, "333".to_owned(), Segment::NeedAttention),
            (4, 29, 4, 8000, "445".to_owned(), Segment::Loyal),
            (5, 1, 5, 5000, "554".to_owned(), Segment::Champions),
        ]
    );
    assert_eq!(report.customer(&5).unwrap().last_purchase, date!(2024 - 06 - 29));
    assert_eq!(report.segment_of(&4), Some(Segment::Loyal));
    assert_eq!(report.segment_of(&42), None);
    assert_eq!(report.customers_in(Segment::Champions).collect::<Vec<_>>(), vec![5]);
    let lost = report.summary(Segment::Lost).unwrap();
    assert_eq!((lost.customers, lost.value_minor, lost.average_value_minor), (1, 1000, 1000));
    assert!((lost.share_of_customers - 0.2).abs() < 1e-12);
    assert!((lost.share_of_value - 1000.0 / 19000.0).abs() < 1e-12);
    assert_eq!(report.segments.len(), Segment::ALL.len());
    assert_eq!(report.summary(Segment::CantLose).unwrap().customers, 0);
}

#[test]
fn segment_grid_matches_the_documented_table() {
    use Segment::*;
    // rows R5..R1, columns F1..F5
    let grid = [
        [New, PotentialLoyalists, PotentialLoyalists, Champions, Champions],
        [Promising, PotentialLoyalists, PotentialLoyalists, Loyal, Loyal],
        [AboutToSleep, AboutToSleep, NeedAttention, Loyal, Loyal],
        [Hibernating, Hibernating, AtRisk, AtRisk, CantLose],
        [Lost, Hibernating, AtRisk, AtRisk, CantLose],
    ];
    for (row, expected) in grid.iter().enumerate() {
        for (col, &segment) in expected.iter().enumerate() {
            let (r, f) = (5 - row as u8, col as u8 + 1);
            assert_eq!(Segment::from_scores(r, f), segment, "R{r} F{f}");
        }
    }
}

#[test]
fn segment_names_round_trip() {
    for s in Segment::ALL {
        assert_eq!(Segment::parse(s.as_str()), Some(s));
        assert_eq!(s.as_str().parse::<Segment>(), Ok(s));
        assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
    }
    assert_eq!(Segment::parse("Cant-Lose"), Some(Segment::CantLose));
    assert_eq!(Segment::CantLose.as_str(), "cant_lose");
    assert_eq!(Segment::PotentialLoyalists.label(), "Potential loyalists");
    assert!(Segment::parse("vip").is_none());
}

#[test]
fn ties_are_split_deterministically_by_key() {
    let mut b = RfmBuilder::<u32>::new(date!(2024 - 01 - 31), "EUR");
    for c in (0..10).rev() {
        b.add(c, date!(2024 - 01 - 01), 100);
    }
    let report = b.finish();
    let r: Vec<u8> = report.customers.iter().map(|c| c.r).collect();
    assert_eq!(r, vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    let f: Vec<u8> = report.customers.iter().map(|c| c.f).collect();
    assert_eq!(f, vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
}

#[test]
fn empty_input_gives_empty_report() {
    let report = RfmBuilder::<u64>::new(date!(2024 - 01 - 31), "EUR").finish();
    assert!(report.customers.is_empty());
    assert!(report.segments.iter().all(|s| s.customers == 0 && s.share_of_customers == 0.0));
    serde_json::to_string(&report).unwrap();
}

#[test]
fn quintiles_are_balanced_and_totals_add_up() {
    let mut rng = Rng::new(0x2545_f491_4f6c_dd1du64);
    let mut next = move || rng.next_u64();
    let as_of = date!(2024 - 12 - 31);
    let mut b = RfmBuilder::<u64>::new(as_of, "EUR");
    let n = 1003u64;
    let mut total = 0i64;
    for c in 0..n {
        for _ in 0..=(next() % 6) {
            let day = as_of - time::Duration::days((next() % 700) as i64);
            let amount = (next() % 50) as i64 * 100;
            total += amount;
            b.add(c, day, amount);
        }
    }
    let report = b.finish();
    assert_eq!(report.customers.len() as u64, n);
    for which in 0..3 {
        let mut counts = [0u64; 5];
        for c in &report.customers {
            counts[[c.r, c.f, c.m][which] as usize - 1] += 1;
        }
        assert!(counts.iter().all(|&k| k == n / 5 || k == n / 5 + 1), "{counts:?}");
    }
    // recency score never decreases as recency improves
    let mut by_recency: Vec<_> = report.customers.iter().map(|c| (c.recency_days, c.r)).collect();
    by_recency.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    assert!(by_recency.windows(2).all(|w| w[0].1 <= w[1].1));
    assert_eq!(report.segments.iter().map(|s| s.customers).sum::<u64>(), n);
    assert_eq!(report.segments.iter().map(|s| s.value_minor).sum::<i128>(), i128::from(total));
    assert_eq!(report.total_value_minor, i128::from(total));
    let shares: f64 = report.segments.iter().map(|s| s.share_of_customers).sum();
    assert!((shares - 1.0).abs() < 1e-9);
}

/// The scores equal those of ranking every customer by a full sort (what the
/// module documents), whatever the number of customers and however many ties.
#[test]
fn scores_match_a_full_sort_for_every_size() {
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15u64);
    let mut next = move || rng.next_u64();
    let as_of = date!(2024 - 12 - 31);
    for n in (1..=23).chain([99, 100, 101, 1000]) {
        let mut b = RfmBuilder::<u64>::new(as_of, "EUR");
        for c in 0..n {
            // Few distinct values, so most customers tie on each measure.
            for _ in 0..=(next() % 3) {
                b.add(c, as_of - time::Duration::days((next() % 4) as i64 * 30), (next() % 3) as i64 * 500);
            }
        }
        let report = b.finish();
        let len = report.customers.len();
        let score = |rank: usize| (1 + rank * 5 / len) as u8;
        let mut by_r: Vec<_> = report.customers.iter().collect();
        by_r.sort_by(|a, b| {
            (b.recency_days, a.frequency, a.monetary_minor, a.customer).cmp(&(
                a.recency_days,
                b.frequency,
                b.monetary_minor,
                b.customer,
            ))
        });
        let mut by_f: Vec<_> = report.customers.iter().collect();
        by_f.sort_by_key(|c| (c.frequency, c.monetary_minor, std::cmp::Reverse(c.recency_days), c.customer));
        let mut by_m: Vec<_> = report.customers.iter().collect();
        by_m.sort_by_key(|c| (c.monetary_minor, c.frequency, std::cmp::Reverse(c.recency_days), c.customer));
        for rank in 0..len {
            assert_eq!(by_r[rank].r, score(rank), "n = {n}: R of rank {rank}");
            assert_eq!(by_f[rank].f, score(rank), "n = {n}: F of rank {rank}");
            assert_eq!(by_m[rank].m, score(rank), "n = {n}: M of rank {rank}");
        }
    }
}

#[test]
fn totals_beyond_i64_are_exact() {
    // Each amount is within the ±10^15 bound; 10 000 of them pass i64::MAX.
    const MAX: i64 = rapport_domain::money::MAX_AMOUNT_MINOR;
    let mut b = RfmBuilder::<u128>::new(date!(2024 - 06 - 30), "EUR");
    for _ in 0..10_000 {
        b.add(1, date!(2024 - 01 - 01), MAX);
    }
    b.add(2, date!(2024 - 02 - 01), MAX);
    b.add(3, date!(2024 - 02 - 01), -MAX);
    let report = b.finish();
    let expected = 10_000 * i128::from(MAX);
    assert!(expected > i128::from(i64::MAX));
    assert_eq!(report.customer(&1).unwrap().monetary_minor, expected);
    assert_eq!(report.total_value_minor, expected);
    assert_eq!(report.segments.iter().map(|s| s.value_minor).sum::<i128>(), expected);
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("\"total_value_minor\":10000000000000000000"), "{json}");
}
