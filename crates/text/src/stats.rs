//! Survey figures with 95 % confidence intervals.
//!
//! - [`nps`]: the Net Promoter Score, 100 × (p − d) with p and d the
//!   promoters' and detractors' shares; its variance is that of a difference
//!   of two shares of one multinomial sample, (p + d − (p − d)²) / n, and the
//!   interval is the normal one, clamped to ±100.
//! - [`mean`]: the Student-t interval x̄ ± t(0.975, n − 1) · s / √n (CSAT,
//!   CES, ratings).
//! - [`proportion`]: the Wilson score interval, which stays inside 0..1 and
//!   behaves for small n and shares near 0 or 1 (response rates, satisfied
//!   shares).
//! - [`two_proportion_p_value`]: the two-sided pooled z-test, used to say
//!   whether a theme's share moved by more than noise.
//!
//! The special functions (log-gamma, the regularised incomplete beta behind
//! the t quantile, erfc) are implemented here and tested against tabled
//! values.

use serde::{Deserialize, Serialize};

/// The normal quantile for a two-sided 95 % interval.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// A figure with its 95 % interval and the number of answers behind it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
    pub n: u64,
}

impl Estimate {
    /// The same estimate in percent (a share of 0..1 as 0..100).
    pub fn percent(self) -> Estimate {
        Estimate { value: self.value * 100.0, low: self.low * 100.0, high: self.high * 100.0, n: self.n }
    }
}

/// The Net Promoter Score of a set of answers, in −100..100, with its 95 %
/// interval. `None` when there are no answers.
pub fn nps(promoters: u64, passives: u64, detractors: u64) -> Option<Estimate> {
    let n = promoters + passives + detractors;
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    let p = promoters as f64 / nf;
    let d = detractors as f64 / nf;
    let diff = p - d;
    let variance = ((p + d - diff * diff) / nf).max(0.0);
    let half = Z_95 * variance.sqrt();
    Some(Estimate {
        value: 100.0 * diff,
        low: (100.0 * (diff - half)).max(-100.0),
        high: (100.0 * (diff + half)).min(100.0),
        n,
    })
}

/// The mean of the values with its Student-t 95 % interval. `None` when there
/// are no values (or any is not finite). A single value has no spread to
/// measure: its interval collapses to the value (check `n`).
pub fn mean(values: &[f64]) -> Option<Estimate> {
    if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let n = values.len();
    let nf = n as f64;
    let m = values.iter().sum::<f64>() / nf;
    if n == 1 {
        return Some(Estimate { value: m, low: m, high: m, n: 1 });
    }
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    let sd = (ss / (nf - 1.0)).sqrt();
    let half = student_t_quantile(0.975, nf - 1.0) * sd / nf.sqrt();
    Some(Estimate { value: m, low: m - half, high: m + half, n: n as u64 })
}

/// The share `successes / n` in 0..1 with its Wilson score 95 % interval.
/// `None` when `n` is 0; successes above `n` count as `n`.
pub fn proportion(successes: u64, n: u64) -> Option<Estimate> {
    if n == 0 {
        return None;
    }
    let k = successes.min(n);
    let nf = n as f64;
    let p = k as f64 / nf;
    let z2 = Z_95 * Z_95;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = Z_95 * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
    Some(Estimate { value: p, low: (centre - half).max(0.0), high: (centre + half).min(1.0), n })
}

/// The two-sided p-value of the pooled z-test that `k1 / n1` and `k2 / n2`
/// come from the same share. 1.0 when it is undefined (an empty sample, or
/// a pooled share of 0 or 1).
pub fn two_proportion_p_value(k1: u64, n1: u64, k2: u64, n2: u64) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    let (k1, k2) = (k1.min(n1) as f64, k2.min(n2) as f64);
    let (n1, n2) = (n1 as f64, n2 as f64);
    let pooled = (k1 + k2) / (n1 + n2);
    let variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
    if variance <= 0.0 || !variance.is_finite() {
        return 1.0;
    }
    let z = (k1 / n1 - k2 / n2) / variance.sqrt();
    erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0)
}

/// The `p` quantile of Student's t distribution with `df` degrees of freedom
/// (`df` > 0, 0 < `p` < 1), by bisection on the distribution function.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -student_t_quantile(1.0 - p, df);
    }
    // The upper tail beyond t is I_{df/(df+t²)}(df/2, 1/2) / 2.
    let tail = 1.0 - p;
    let upper = |t: f64| 0.5 * regularized_incomplete_beta(df / (df + t * t), df / 2.0, 0.5);
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while upper(hi) > tail {
        hi *= 2.0;
        if hi > 1e12 {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if upper(mid) > tail {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients; about 15 digits).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised incomplete beta function I_x(a, b), by its continued
/// fraction (modified Lentz), using the symmetry I_x(a,b) = 1 − I_{1−x}(b,a)
/// where the fraction converges slowly.
pub fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..500 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The complementary error function, erfc(x) = 1 − erf(x), with a fractional
/// error below 1.2e-7 everywhere (the Chebyshev fit of Numerical Recipes'
/// `erfcc`).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}
