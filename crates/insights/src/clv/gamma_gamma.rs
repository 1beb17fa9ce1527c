//! The Gamma-Gamma spend model (Fader & Hardie, "The Gamma-Gamma Model of
//! Monetary Value", 2013): each transaction value is gamma(p, ν) with a
//! customer-specific ν ~ gamma(q, γ), fitted on repeat buyers' mean repeat
//! transaction values.

use serde::{Deserialize, Serialize};

use super::bgnbd::parallel_map;
use super::fit::bfgs;
use super::special::{digamma, ln_gamma};
use super::{ClvError, Summary};

/// Gamma-Gamma parameters (all positive).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaParams {
    /// Shape of each transaction value's gamma distribution.
    pub p: f64,
    /// Shape of the gamma distribution of the customers' ν.
    pub q: f64,
    /// Scale of the gamma distribution of the customers' ν (lifetimes calls it `v`).
    pub gamma: f64,
}

/// A fitted Gamma-Gamma model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaFit {
    /// Maximum-likelihood parameters.
    pub params: GammaGammaParams,
    /// Log-likelihood at the optimum.
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
    m: Vec<f64>,
    /// Σ over customers of (ln m) and x (ln x + ln m), which enter linearly in p.
    sum_ln_m: f64,
    sum_x_ln_xm: f64,
    count_by_x: Vec<f64>,
}

fn repeat_buyers(summaries: &[Summary]) -> impl Iterator<Item = &Summary> {
    summaries.iter().filter(|s| s.frequency > 0 && s.monetary_value > 0.0 && s.monetary_value.is_finite())
}

impl Prepared {
    fn new(summaries: &[Summary]) -> Result<Self, ClvError> {
        let rows: Vec<&Summary> = repeat_buyers(summaries).collect();
        if rows.is_empty() {
            return Err(ClvError::NoRepeatBuyers);
        }
        let max_x = rows.iter().map(|s| s.frequency).max().unwrap_or(0) as usize;
        let mut count_by_x = vec![0.0; max_x + 1];
        for s in &rows {
            count_by_x[s.frequency as usize] += 1.0;
        }
        let x: Vec<f64> = rows.iter().map(|s| s.frequency as f64).collect();
        let m: Vec<f64> = rows.iter().map(|s| s.monetary_value).collect();
        let sum_ln_m = m.iter().map(|v| v.ln()).sum();
        let sum_x_ln_xm = x.iter().zip(&m).map(|(x, m)| x * (x.ln() + m.ln())).sum();
        Ok(Prepared { x, m, sum_ln_m, sum_x_ln_xm, count_by_x })
    }

    fn ll_and_grad(&self, p: &GammaGammaParams) -> (f64, [f64; 3]) {
        let GammaGammaParams { p, q, gamma } = *p;
        let n = self.x.len() as f64;
        // Σ lnΓ(px+q) - lnΓ(px) - lnΓ(q) + q ln γ + (px-1) ln m + px ln x
        let mut ll = -n * ln_gamma(q) + n * q * gamma.ln() - self.sum_ln_m + p * self.sum_x_ln_xm;
        let mut grad = [self.sum_x_ln_xm, -n * digamma(q) + n * gamma.ln(), n * q / gamma];
        for (x, &c) in self.count_by_x.iter().enumerate() {
            if c == 0.0 {
                continue;
            }
            let px = p * x as f64;
            ll += c * (ln_gamma(px + q) - ln_gamma(px));
            let d = digamma(px + q);
            grad[0] += c * x as f64 * (d - digamma(px));
            grad[1] += c * d;
        }
        // - (px+q) ln(γ + x m)
        let parts = parallel_map(self.x.len(), |range| {
            let mut ll = 0.0;
            let mut g = [0.0; 3];
            for i in range {
                let (x, m) = (self.x[i], self.m[i]);
                let pxq = p * x + q;
                let d = gamma + x * m;
                let l = d.ln();
                ll -= pxq * l;
                g[0] -= x * l;
                g[1] -= l;
                g[2] -= pxq / d;
            }
            (ll, g)
        });
        for (l, g) in parts {
            ll += l;
            for k in 0..3 {
                grad[k] += g[k];
            }
        }
        (ll, grad)
    }
}

/// Gamma-Gamma log-likelihood over the repeat buyers in `summaries`.
pub fn log_likelihood(params: &GammaGammaParams, summaries: &[Summary]) -> Result<f64, ClvError> {
    Ok(Prepared::new(summaries)?.ll_and_grad(params).0)
}

/// Fits Gamma-Gamma by maximum likelihood on customers with frequency > 0
/// and a positive monetary value (others are skipped).
pub fn fit(summaries: &[Summary]) -> Result<GammaGammaFit, ClvError> {
    let data = Prepared::new(summaries)?;
    let n = data.x.len() as f64;
    // Start: p = 1, q = 2, γ = mean spend (so the population mean pγ/(q-1) matches it).
    let mean_m = data.m.iter().sum::<f64>() / n;
    let start = [0.0, 2f64.ln(), mean_m.ln()];
    let objective = |theta: &[f64]| {
        if theta.iter().any(|t| !t.is_finite() || t.abs() > 40.0) {
            return (f64::INFINITY, vec![0.0; 3]);
        }
        let p = GammaGammaParams { p: theta[0].exp(), q: theta[1].exp(), gamma: theta[2].exp() };
        let (ll, g) = data.ll_and_grad(&p);
        let scale = [p.p, p.q, p.gamma];
        (-ll / n, (0..3).map(|k| -g[k] * scale[k] / n).collect())
    };
    let m = bfgs(objective, &start, 1e-10, 2000);
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
