//! The Gamma-Gamma spend model (Fader & Hardie, "The Gamma-Gamma Model of
//! Monetary Value", 2013): each transaction value is gamma(p, ν) with a
//! customer-specific ν ~ gamma(q, γ), fitted on repeat buyers' mean repeat
//! transaction values.

use serde::{Deserialize, Serialize};

use super::bgnbd::{log_space, parallel_map};
use super::fit::{minimize, symmetrize};
use super::special::{digamma, ln_gamma, trigamma};
use super::{ClvError, Summary};

/// Gamma-Gamma parameters (all positive).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaParams {
    /// Shape of each transaction value's gamma distribution.
    #[serde(with = "crate::float")]
    pub p: f64,
    /// Shape of the gamma distribution of the customers' ν.
    #[serde(with = "crate::float")]
    pub q: f64,
    /// Scale of the gamma distribution of the customers' ν (lifetimes calls it `v`).
    #[serde(with = "crate::float")]
    pub gamma: f64,
}

/// A fitted Gamma-Gamma model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaFit {
    /// Maximum-likelihood parameters.
    pub params: GammaGammaParams,
    /// Log-likelihood at the optimum.
    #[serde(with = "crate::float")]
    pub log_likelihood: f64,
    /// Repeat buyers fitted (frequency > 0 and a positive monetary value).
    pub n_customers: usize,
    /// Optimiser iterations.
    pub iterations: usize,
    /// Whether the optimiser met its gradient tolerance.
    pub converged: bool,
}

struct Prepared {
    x: Vec<f64>,
    /// x m, the total repeat spend.
    xm: Vec<f64>,
    /// Σ over customers of (ln m) and x (ln x + ln m), which enter linearly in p.
    sum_ln_m: f64,
    sum_x_ln_xm: f64,
    sum_m: f64,
    count_by_x: Vec<f64>,
}

fn repeat_buyers(summaries: &[Summary]) -> impl Iterator<Item = &Summary> {
    summaries.iter().filter(|s| s.frequency > 0 && s.monetary_value > 0.0 && s.monetary_value.is_finite())
}

impl Prepared {
    fn new(summaries: &[Summary]) -> Result<Self, ClvError> {
        let mut data = Prepared {
            x: Vec::new(),
            xm: Vec::new(),
            sum_ln_m: 0.0,
            sum_x_ln_xm: 0.0,
            sum_m: 0.0,
            count_by_x: Vec::new(),
        };
        for s in repeat_buyers(summaries) {
            let (x, m) = (s.frequency as f64, s.monetary_value);
            let ln_m = m.ln();
            data.x.push(x);
            data.xm.push(x * m);
            data.sum_ln_m += ln_m;
            data.sum_x_ln_xm += x * (x.ln() + ln_m);
            data.sum_m += m;
            let k = s.frequency as usize;
            if data.count_by_x.len() <= k {
                data.count_by_x.resize(k + 1, 0.0);
            }
            data.count_by_x[k] += 1.0;
        }
        if data.x.is_empty() {
            return Err(ClvError::NoRepeatBuyers);
        }
        Ok(data)
    }

    /// Log-likelihood with its gradient and Hessian in (p, q, γ).
    fn derivatives(&self, p: &GammaGammaParams) -> (f64, [f64; 3], [[f64; 3]; 3]) {
        let GammaGammaParams { p, q, gamma } = *p;
        let n = self.x.len() as f64;
        // Σ lnΓ(px+q) - lnΓ(px) - lnΓ(q) + q ln γ + (px-1) ln m + px ln x - (px+q) ln(γ + x m)
        let mut ll = -n * ln_gamma(q) + n * q * gamma.ln() - self.sum_ln_m + p * self.sum_x_ln_xm;
        let mut grad = [self.sum_x_ln_xm, -n * digamma(q) + n * gamma.ln(), n * q / gamma];
        let mut h = [[0.0; 3]; 3];
        h[1][1] = -n * trigamma(q);
        h[1][2] = n / gamma;
        h[2][2] = -n * q / (gamma * gamma);
        for (x, &c) in self.count_by_x.iter().enumerate() {
            if c == 0.0 {
                continue;
            }
            let (x, px) = (x as f64, p * x as f64);
            ll += c * (ln_gamma(px + q) - ln_gamma(px));
            let d = digamma(px + q);
            let t = trigamma(px + q);
            grad[0] += c * x * (d - digamma(px));
            grad[1] += c * d;
            h[0][0] += c * x * x * (t - trigamma(px));
            h[0][1] += c * x * t;
            h[1][1] += c * t;
        }
        // Rows: sums of x ln d, ln d, x/d, 1/d, x/d², 1/d² with d = γ + x m.
        let parts = parallel_map(self.x.len(), |range| {
            let mut s = [0.0; 6];
            for (&x, &xm) in self.x[range.clone()].iter().zip(&self.xm[range]) {
                let d = gamma + xm;
                let l = d.ln();
                let inv = 1.0 / d;
                let inv2 = inv * inv;
                s[0] += x * l;
                s[1] += l;
                s[2] += x * inv;
                s[3] += inv;
                s[4] += x * inv2;
                s[5] += inv2;
            }
            s
        });
        let mut s = [0.0; 6];
        for part in parts {
            for (acc, v) in s.iter_mut().zip(part) {
                *acc += v;
            }
        }
        ll -= p * s[0] + q * s[1];
        grad[0] -= s[0];
        grad[1] -= s[1];
        grad[2] -= p * s[2] + q * s[3];
        h[0][2] -= s[2];
        h[1][2] -= s[3];
        h[2][2] += p * s[4] + q * s[5];
        symmetrize(&mut h);
        (ll, grad, h)
    }
}

/// Gamma-Gamma log-likelihood over the repeat buyers in `summaries`.
pub fn log_likelihood(params: &GammaGammaParams, summaries: &[Summary]) -> Result<f64, ClvError> {
    Ok(Prepared::new(summaries)?.derivatives(params).0)
}

/// Fits Gamma-Gamma by maximum likelihood on customers with frequency > 0
/// and a positive monetary value (others are skipped): damped Newton steps
/// on the log-parameters with the analytic gradient and Hessian, falling
/// back to BFGS if Newton does not converge.
pub fn fit(summaries: &[Summary]) -> Result<GammaGammaFit, ClvError> {
    let data = Prepared::new(summaries)?;
    let n = data.x.len() as f64;
    // Start: p = 1, q = 2, γ = mean spend (so the population mean pγ/(q-1) matches it).
    let mean_m = data.sum_m / n;
    let start = [0.0, 2f64.ln(), mean_m.ln()];
    let objective = |theta: &[f64]| {
        if theta.iter().any(|t| !t.is_finite() || t.abs() > 40.0) {
            return (f64::INFINITY, vec![0.0; 3], vec![vec![0.0; 3]; 3]);
        }
        let p = GammaGammaParams { p: theta[0].exp(), q: theta[1].exp(), gamma: theta[2].exp() };
        let (ll, g, h) = data.derivatives(&p);
        log_space(ll, &g, &h, &[p.p, p.q, p.gamma], n)
    };
    let m = minimize(objective, &start, 1e-10, 2000);
    if !m.value.is_finite() {
        return Err(ClvError::FitFailed("Gamma-Gamma likelihood is not finite"));
    }
    Ok(GammaGammaFit {
        params: GammaGammaParams { p: m.x[0].exp(), q: m.x[1].exp(), gamma: m.x[2].exp() },
        log_likelihood: -m.value * n,
        n_customers: data.x.len(),
        iterations: m.iterations,
        converged: m.converged,
    })
}

impl GammaGammaParams {
    /// Expected average transaction value for a customer with `frequency`
    /// repeat purchases of mean value `monetary_value`:
    /// `(γ + m x) p / (p x + q - 1)`; for `frequency = 0` the population
    /// mean `p γ / (q - 1)` (as lifetimes' conditional_expected_average_profit).
    pub fn conditional_expected_average_spend(&self, frequency: u32, monetary_value: f64) -> f64 {
        let x = frequency as f64;
        let m = if frequency == 0 { 0.0 } else { monetary_value };
        (self.gamma + m * x) * self.p / (self.p * x + self.q - 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::bgnbd::BgNbdParams;
    use crate::clv::simulate::simulate;

    #[test]
    #[allow(clippy::needless_range_loop)] // index arithmetic over parameters reads best here
    fn gradient_and_hessian_match_finite_differences() {
        let bg = BgNbdParams { r: 0.5, alpha: 6.0, a: 0.7, b: 2.5 };
        let gg = GammaGammaParams { p: 6.0, q: 4.0, gamma: 15.0 };
        let data = Prepared::new(&simulate(&bg, Some(&gg), 3_000, (10.0, 60.0), 5)).unwrap();
        let base = [3.0, 6.5, 20.0];
        let at = |p: [f64; 3]| data.derivatives(&GammaGammaParams { p: p[0], q: p[1], gamma: p[2] });
        let (_, grad, hess) = at(base);
        for k in 0..3 {
            let h = 1e-5 * base[k];
            let (mut up, mut down) = (base, base);
            up[k] += h;
            down[k] -= h;
            let (up, down) = (at(up), at(down));
            let fd = (up.0 - down.0) / (2.0 * h);
            assert!((fd - grad[k]).abs() < 1e-6 * grad[k].abs().max(1.0), "grad {k}: {fd} vs {}", grad[k]);
            for j in 0..3 {
                let fd = (up.1[j] - down.1[j]) / (2.0 * h);
                let want = hess[k][j];
                assert!((fd - want).abs() < 1e-5 * want.abs().max(1.0), "hess {k},{j}: {fd} vs {want}");
            }
        }
    }
}
