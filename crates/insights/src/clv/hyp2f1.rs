//! The Gauss hypergeometric function ₂F₁(a, b; c; z) for `0 <= z < 1`, summed
//! as a power series in log space so that neither huge terms (heavy buyers:
//! large `a`, `b`) nor tiny prefactors overflow or underflow.
//!
//! BG/NBD's conditional expectation needs `(1-z)^(r+x) ₂F₁(r+x, b+x; a+b+x-1; z)`.
//! For a heavy buyer the series terms grow like `x^k z^k / k!` before they
//! shrink, so [`ln_scaled_bgnbd_term`] applies Euler's transformation
//! `₂F₁(a,b;c;z) = (1-z)^(c-a-b) ₂F₁(c-a, c-b; c; z)` whose parameters no
//! longer grow with `x`, and the `(1-z)` powers cancel analytically.

/// A real number held as `sign * exp(ln_abs)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignedLog {
    /// Natural log of the absolute value (`-inf` for zero).
    pub ln_abs: f64,
    /// `1.0`, `-1.0`, or `0.0` for zero.
    pub sign: f64,
}

impl SignedLog {
    /// The plain value (may overflow to ±inf or underflow to 0).
    pub fn value(self) -> f64 {
        if self.sign == 0.0 { 0.0 } else { self.sign * self.ln_abs.exp() }
    }
}

/// Most series terms summed before giving up (only reached for `z` very near 1).
const MAX_TERMS: usize = 1_000_000;

/// ₂F₁(a, b; c; z) for `0 <= z < 1` and `c` not a non-positive integer, as a
/// signed logarithm (NaN outside that range).
///
/// Sums `Σ_k (a)_k (b)_k / ((c)_k k!) z^k`, rescaling the running sum so
/// intermediate terms never overflow. Terms may change sign when `a` or `b`
/// is negative; the series stops when a term is negligible against the sum
/// (and the term ratio has started shrinking) or when it terminates exactly.
pub fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> SignedLog {
    if !(0.0..1.0).contains(&z) || c.is_nan() {
        return SignedLog { ln_abs: f64::NAN, sign: f64::NAN };
    }
    if z == 0.0 || a == 0.0 || b == 0.0 {
        return SignedLog { ln_abs: 0.0, sign: 1.0 };
    }
    // term and sum are scaled by exp(-shift).
    let mut shift = 0.0f64;
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    let mut k = 0.0f64;
    for _ in 0..MAX_TERMS {
        let ratio = (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        term *= ratio;
        sum += term;
        k += 1.0;
        if term == 0.0 {
            break;
        }
        // Past the peak (|ratio| < 1) and negligible: done.
        if ratio.abs() < 1.0 && term.abs() <= f64::EPSILON * 1e-3 * sum.abs() {
            break;
        }
        let mag = term.abs().max(sum.abs());
        if mag > 1e280 {
            let s = mag.ln();
            shift += s;
            term /= mag;
            sum /= mag;
        }
    }
    if sum == 0.0 {
        return SignedLog { ln_abs: f64::NEG_INFINITY, sign: 0.0 };
    }
    SignedLog { ln_abs: sum.abs().ln() + shift, sign: sum.signum() }
}

/// `ln[(1-z)^(r+x) ₂F₁(r+x, b+x; a+b+x-1; z)]` for the BG/NBD conditional
/// expectation, via Euler's transformation:
/// `= (a-1) ln(1-z) + ln ₂F₁(a+b-1-r, a-1; a+b+x-1; z)`.
///
/// Returns the signed value (it is positive for every valid parameter set,
/// but the transformed series may alternate).
pub fn ln_scaled_bgnbd_term(r: f64, a: f64, b: f64, x: f64, z: f64) -> SignedLog {
    let f = ln_hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z);
    SignedLog { ln_abs: f.ln_abs + (a - 1.0) * (-z).ln_1p(), sign: f.sign }
}
