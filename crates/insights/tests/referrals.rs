use rapport_insights::referrals::ReferralBuilder;

#[test]
fn referral_counts_values_and_share() {
    let mut b = ReferralBuilder::<u32>::new("EUR");
    b.add(1, None, 1000);
    b.add(2, Some(1), 500);
    b.add(3, Some(1), 700);
    b.add(4, Some(2), 300);
    b.add(5, None, 2000);
    b.add(6, Some(6), 100); // self-referral: not referred
    b.add(7, Some(99), 50); // referrer is not a customer (deleted)
    let r = b.finish(10);
    assert_eq!((r.customers, r.referred_customers, r.referrers, r.self_referrals_ignored), (7, 4, 3, 1));
    assert!((r.share_referred - 4.0 / 7.0).abs() < 1e-12);
    assert_eq!((r.referred_value_minor, r.other_value_minor), (1550, 3100));
    assert_eq!((r.average_referred_value_minor, r.average_other_value_minor), (387, 1033));
    let top: Vec<_> =
        r.top_referrers.iter().map(|t| (t.referrer, t.referrals, t.referred_value_minor, t.is_customer)).collect();
    assert_eq!(top, vec![(1, 2, 1200, true), (2, 1, 300, true), (99, 1, 50, false)]);
    let edges: Vec<_> = r.referrals.iter().map(|e| (e.referrer, e.customer, e.value_minor)).collect();
    assert_eq!(edges, vec![(1, 2, 500), (1, 3, 700), (2, 4, 300), (99, 7, 50)]);
    let r2 = {
        let mut b = ReferralBuilder::<u32>::new("EUR");
        b.add(2, Some(1), 500);
        b.add(3, Some(1), 700);
        b.add(4, Some(2), 300);
        b.finish(1)
    };
    assert_eq!(r2.top_referrers.len(), 1);
    assert_eq!(r2.top_referrers[0].referrer, 1);
    serde_json::to_string(&r).unwrap();
}

#[test]
fn empty_referrals() {
    let r = ReferralBuilder::<u64>::new("EUR").finish(5);
    assert_eq!((r.customers, r.referred_customers, r.share_referred), (0, 0, 0.0));
    assert!(r.top_referrers.is_empty());
}

#[test]
fn values_beyond_i64_are_exact() {
    let big = i128::from(i64::MAX);
    let mut b = ReferralBuilder::<u32>::new("EUR");
    b.add(2, Some(1), big);
    b.add(3, Some(1), big);
    b.add(4, None, big);
    b.add(4, None, big); // the same customer twice: values add up
    let r = b.finish(10);
    assert_eq!(r.referred_value_minor, 2 * big);
    assert_eq!(r.other_value_minor, 2 * big);
    assert_eq!(r.average_referred_value_minor, big);
    assert_eq!(r.top_referrers[0].referred_value_minor, 2 * big);
}
