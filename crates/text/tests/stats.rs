//! Survey statistics against hand-computed figures.

use rapport_text::stats::{
    Estimate, Z_95, erfc, ln_gamma, mean, nps, proportion, regularized_incomplete_beta, student_t_quantile,
    two_proportion_p_value,
};

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

#[test]
fn nps_and_its_interval() {
    // 50 promoters, 30 passives, 20 detractors: n = 100, p = 0.5, d = 0.2,
    // NPS = 100 · (0.5 − 0.2) = 30. Variance (p + d − (p − d)²) / n =
    // (0.7 − 0.09) / 100 = 0.0061, standard error √0.0061 = 0.078102,
    // half-width 1.959964 · 0.078102 = 0.153078: 30 ± 15.3078 →
    // 14.6922 .. 45.3078.
    let e = nps(50, 30, 20).unwrap();
    assert_eq!(e.n, 100);
    assert!(close(e.value, 30.0, 1e-9));
    assert!(close(e.low, 14.692192, 1e-5), "{e:?}");
    assert!(close(e.high, 45.307808, 1e-5), "{e:?}");

    // All promoters: no spread, 100 .. 100. Bounds never pass ±100.
    assert_eq!(nps(5, 0, 0), Some(Estimate { value: 100.0, low: 100.0, high: 100.0, n: 5 }));
    // 1 promoter, 1 detractor: p = d = 0.5, variance (1 − 0) / 2 = 0.5,
    // half-width 1.96 · 0.7071 = 1.386 → clamped to −100 .. 100.
    let e = nps(1, 0, 1).unwrap();
    assert_eq!((e.value, e.low, e.high), (0.0, -100.0, 100.0));
    assert_eq!(nps(0, 0, 0), None);
}

#[test]
fn mean_with_a_student_t_interval() {
    // 4, 5, 3, 4, 4: mean 4, squared deviations 0 + 1 + 1 + 0 + 0 = 2,
    // s² = 2 / 4 = 0.5, s = 0.707107, standard error s / √5 = 0.316228,
    // t(0.975, 4) = 2.776445, half-width 0.877989 → 3.122011 .. 4.877989.
    let e = mean(&[4.0, 5.0, 3.0, 4.0, 4.0]).unwrap();
    assert_eq!((e.value, e.n), (4.0, 5));
    assert!(close(e.low, 3.122011, 1e-5), "{e:?}");
    assert!(close(e.high, 4.877989, 1e-5), "{e:?}");

    assert_eq!(mean(&[]), None);
    assert_eq!(mean(&[f64::NAN, 1.0]), None);
    assert_eq!(mean(&[3.0]), Some(Estimate { value: 3.0, low: 3.0, high: 3.0, n: 1 }));
}

#[test]
fn wilson_interval() {
    // 8 of 10: p̂ = 0.8, z² = 3.841459, z²/n = 0.384146, centre
    // (0.8 + 0.192073) / 1.384146 = 0.716742, half-width
    // 1.959964 · √(0.016 + 0.009604) / 1.384146 = 0.226578 →
    // 0.490162 .. 0.943318 (the published 0.4902 .. 0.9433).
    let e = proportion(8, 10).unwrap();
    assert_eq!((e.value, e.n), (0.8, 10));
    assert!(close(e.low, 0.490162, 1e-5), "{e:?}");
    assert!(close(e.high, 0.943318, 1e-5), "{e:?}");

    // 0 of 10 stays inside 0..1: 0 .. z²/(n + z²) = 0.277533.
    let e = proportion(0, 10).unwrap();
    assert_eq!(e.low, 0.0);
    assert!(close(e.high, 0.277533, 1e-5), "{e:?}");
    assert_eq!(proportion(0, 0), None);
}

#[test]
fn two_proportion_test() {
    // 45/100 against 30/100: pooled 75/200 = 0.375, standard error
    // √(0.375 · 0.625 · 0.02) = 0.068465, z = 0.15 / 0.068465 = 2.190890,
    // two-sided p = erfc(2.190890 / √2) = 0.028460.
    assert!(close(two_proportion_p_value(45, 100, 30, 100), 0.028460, 1e-5));
    assert!(close(two_proportion_p_value(30, 100, 45, 100), 0.028460, 1e-5));
    // Same shares: p = 1.
    assert!(close(two_proportion_p_value(10, 100, 20, 200), 1.0, 1e-9));
    // Undefined: 1.
    assert_eq!(two_proportion_p_value(0, 0, 3, 10), 1.0);
    assert_eq!(two_proportion_p_value(0, 10, 0, 10), 1.0);
    assert_eq!(two_proportion_p_value(10, 10, 10, 10), 1.0);
}

#[test]
fn special_functions_match_tables() {
    // Student t 0.975 quantiles (any statistics table).
    for (df, t) in
        [(1.0, 12.706205), (2.0, 4.302653), (4.0, 2.776445), (9.0, 2.262157), (29.0, 2.045230), (120.0, 1.979930)]
    {
        assert!(close(student_t_quantile(0.975, df), t, 1e-5), "df {df}: {}", student_t_quantile(0.975, df));
    }
    assert!(close(student_t_quantile(0.025, 4.0), -2.776445, 1e-5));
    assert!(close(student_t_quantile(0.975, 1e6), Z_95, 1e-4));
    // Γ(5) = 24, Γ(0.5) = √π.
    assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-12));
    assert!(close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-12));
    // I_x(1, 1) = x; I_0.5(a, a) = 0.5; I_x(a, 1) = x^a.
    assert!(close(regularized_incomplete_beta(0.3, 1.0, 1.0), 0.3, 1e-12));
    assert!(close(regularized_incomplete_beta(0.5, 3.5, 3.5), 0.5, 1e-12));
    assert!(close(regularized_incomplete_beta(0.7, 3.0, 1.0), 0.343, 1e-12));
    // erfc(1) = 0.157299, erfc(0) = 1, erfc(−1) = 1.842701.
    assert!(close(erfc(1.0), 0.157_299_207, 1e-7));
    assert!(close(erfc(0.0), 1.0, 1e-7));
    assert!(close(erfc(-1.0), 1.842_700_793, 1e-7));
}
