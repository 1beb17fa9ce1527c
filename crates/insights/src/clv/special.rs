//! Special functions the likelihoods need: log-gamma (from `libm`, a port of
//! musl's `lgamma`) and digamma (recurrence plus asymptotic series).

/// Natural log of the gamma function for `x > 0`.
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// Digamma ψ(x) = d/dx ln Γ(x) for `x > 0`, accurate to about 1e-14.
pub fn digamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // ln x - 1/(2x) - Σ B_2k / (2k x^2k)
    let series =
        inv2 * (1.0 / 12.0 - inv2 * (1.0 / 120.0 - inv2 * (1.0 / 252.0 - inv2 * (1.0 / 240.0 - inv2 * (1.0 / 132.0)))));
    acc + x.ln() - 0.5 * inv - series
}

/// Trigamma ψ₁(x) = d²/dx² ln Γ(x) for `x > 0`, accurate to about 1e-14
/// relative.
pub fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 10.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // 1/x + 1/(2x²) + Σ B_2k / x^(2k+1)
    let tail = 1.0 / 30.0 - inv2 * (5.0 / 66.0 - inv2 * (691.0 / 2730.0 - inv2 * (7.0 / 6.0)));
    let series = inv * inv2 * (1.0 / 6.0 - inv2 * (1.0 / 30.0 - inv2 * (1.0 / 42.0 - inv2 * tail)));
    acc + inv + 0.5 * inv2 + series
}

/// ln(e^a + e^b) without overflow.
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + (-(a - b).abs()).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digamma_known_values() {
        // ψ(1) = -γ, ψ(1/2) = -γ - 2 ln 2, ψ(10) = H_9 - γ.
        let euler = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + euler).abs() < 1e-13);
        assert!((digamma(0.5) + euler + 2.0 * 2f64.ln()).abs() < 1e-13);
        let h9: f64 = (1..10).map(|k| 1.0 / k as f64).sum();
        assert!((digamma(10.0) - (h9 - euler)).abs() < 1e-13);
        // ψ(x) = -1/x - γ + ζ(2) x - ζ(3) x² + ...
        assert!((digamma(1e-3) - (-1_000.575_571_932_9)).abs() < 1e-8);
    }

    #[test]
    fn trigamma_known_values() {
        // ψ₁(1) = π²/6, ψ₁(1/2) = π²/2, ψ₁(x+1) = ψ₁(x) - 1/x², and the derivative of ψ.
        let pi2 = std::f64::consts::PI * std::f64::consts::PI;
        assert!((trigamma(1.0) - pi2 / 6.0).abs() < 1e-13);
        assert!((trigamma(0.5) - pi2 / 2.0).abs() < 1e-13);
        // mpmath psi(1, x) at 30 digits.
        for (x, want) in
            [(9.99, 0.105_276_950_148_241_78), (10.0, 0.105_166_335_681_685_75), (37.0, 0.027_395_547_002_757_681)]
        {
            assert!(((trigamma(x) - want) / want).abs() < 1e-14, "{x}");
        }
        for x in [0.01, 0.3, 2.5, 9.99, 10.0, 37.0, 1e4] {
            assert!((trigamma(x + 1.0) - (trigamma(x) - 1.0 / (x * x))).abs() < 1e-13 * trigamma(x), "{x}");
            let h = 1e-5 * x;
            let fd = (digamma(x + h) - digamma(x - h)) / (2.0 * h);
            assert!(((fd - trigamma(x)) / trigamma(x)).abs() < 1e-6, "{x}");
        }
    }

    #[test]
    fn ln_gamma_known_values() {
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-14);
        assert!((ln_gamma(10.0) - 362_880f64.ln()).abs() < 1e-12);
    }
}
