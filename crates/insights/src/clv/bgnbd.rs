//! The BG/NBD model of Fader, Hardie & Lee (2005), "Counting Your Customers"
//! the Easy Way: purchases follow a Poisson process with a gamma(r, α)
//! distributed rate while the customer is alive, and after every purchase the
//! customer drops out with a beta(a, b) distributed probability.

use serde::{Deserialize, Serialize};

use super::fit::bfgs;
use super::hyp2f1::{ln_hyp2f1, ln_scaled_bgnbd_term};
use super::special::{digamma, ln_gamma, log_add_exp};
use super::{ClvError, Summary};

/// BG/NBD parameters (all positive). `alpha` is in the summaries' time unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbdParams {
    /// Shape of the gamma distribution of purchase rates.
    pub r: f64,
    /// Scale (rate parameter) of the gamma distribution of purchase rates.
    pub alpha: f64,
    /// First shape of the beta distribution of dropout probabilities.
    pub a: f64,
    /// Second shape of the beta distribution of dropout probabilities.
    pub b: f64,
}

/// A fitted BG/NBD model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbdFit {
    /// Maximum-likelihood parameters.
    pub params: BgNbdParams,
    /// Log-likelihood at the optimum (FHL 2005 eq. 6 summed over customers).
    pub log_likelihood: f64,
    /// Customers fitted.
    pub n_customers: usize,
    /// Optimiser iterations.
    pub iterations: usize,
    /// Whether the optimiser met its gradient tolerance.
    pub converged: bool,
}

/// Customers prepared for repeated likelihood evaluation: grouped quantities
/// that depend only on the frequency `x` are computed once per distinct `x`.
struct Prepared {
    x: Vec<u32>,
    t_x: Vec<f64>,
    age: Vec<f64>,
    /// Number of customers with each frequency.
    count_by_x: Vec<f64>,
}

impl Prepared {
    fn new(summaries: &[Summary]) -> Result<Self, ClvError> {
        if summaries.is_empty() {
            return Err(ClvError::NoCustomers);
        }
        let mut max_x = 0;
        for (i, s) in summaries.iter().enumerate() {
            s.validate().map_err(|reason| ClvError::InvalidSummary { index: i, reason })?;
            max_x = max_x.max(s.frequency);
        }
        let mut count_by_x = vec![0.0; max_x as usize + 1];
        for s in summaries {
            count_by_x[s.frequency as usize] += 1.0;
        }
        Ok(Prepared {
            x: summaries.iter().map(|s| s.frequency).collect(),
            t_x: summaries.iter().map(|s| s.recency).collect(),
            age: summaries.iter().map(|s| s.age).collect(),
            count_by_x,
        })
    }

    /// Log-likelihood and its gradient with respect to (r, α, a, b).
    fn ll_and_grad(&self, p: &BgNbdParams) -> (f64, [f64; 4]) {
        let BgNbdParams { r, alpha, a, b } = *p;
        // Per-x terms: ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, b+x) - ln B(a, b), and ln a - ln(b+x-1).
        let nx = self.count_by_x.len();
        let mut c4 = vec![0.0; nx];
        let (lg_r, lg_b, lg_ab, ln_a, ln_alpha) = (ln_gamma(r), ln_gamma(b), ln_gamma(a + b), a.ln(), alpha.ln());
        let (dg_r, dg_b, dg_ab) = (digamma(r), digamma(b), digamma(a + b));
        let mut ll = 0.0;
        let mut grad = [0.0; 4];
        for (x, &n) in self.count_by_x.iter().enumerate() {
            let xf = x as f64;
            if x > 0 {
                c4[x] = ln_a - (b + xf - 1.0).ln();
            }
            if n == 0.0 {
                continue;
            }
            let a1 = ln_gamma(r + xf) - lg_r + r * ln_alpha;
            let a2 = lg_ab + ln_gamma(b + xf) - lg_b - ln_gamma(a + b + xf);
            ll += n * (a1 + a2);
            grad[0] += n * (digamma(r + xf) - dg_r + ln_alpha);
            grad[1] += n * r / alpha;
            let dg_abx = digamma(a + b + xf);
            grad[2] += n * (dg_ab - dg_abx);
            grad[3] += n * (dg_ab + digamma(b + xf) - dg_b - dg_abx);
        }
        let chunk = |range: std::ops::Range<usize>| {
            let mut ll = 0.0;
            let mut g = [0.0; 4];
            for i in range {
                let x = self.x[i];
                let rx = r + x as f64;
                let at = alpha + self.age[i];
                let l_t = at.ln();
                let a3 = -rx * l_t;
                if x == 0 {
                    ll += a3;
                    g[0] -= l_t;
                    g[1] -= rx / at;
                } else {
                    let atx = alpha + self.t_x[i];
                    let l_tx = atx.ln();
                    let a4 = c4[x as usize] - rx * l_tx;
                    let lse = log_add_exp(a3, a4);
                    ll += lse;
                    let w3 = (a3 - lse).exp();
                    let w4 = 1.0 - w3;
                    g[0] -= w3 * l_t + w4 * l_tx;
                    g[1] -= rx * (w3 / at + w4 / atx);
                    g[2] += w4 / a;
                    g[3] -= w4 / (b + x as f64 - 1.0);
                }
            }
            (ll, g)
        };
        let n = self.x.len();
        let parts = parallel_map(n, chunk);
        for (l, g) in parts {
            ll += l;
            for k in 0..4 {
                grad[k] += g[k];
            }
        }
        (ll, grad)
    }
}

/// Splits `0..n` over the available cores (only when `n` is large) and
/// returns each chunk's result.
pub(crate) fn parallel_map<T, F>(n: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(std::ops::Range<usize>) -> T + Sync,
{
    let threads = if n < 100_000 { 1 } else { std::thread::available_parallelism().map_or(1, |t| t.get()).min(16) };
    if threads <= 1 {
        return vec![f(0..n)];
    }
    let size = n.div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let f = &f;
                scope.spawn(move || f(t * size..((t + 1) * size).min(n)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("likelihood worker panicked")).collect()
    })
}

/// BG/NBD log-likelihood of `summaries` under `params` (FHL 2005 eq. 6,
/// evaluated in log space).
pub fn log_likelihood(params: &BgNbdParams, summaries: &[Summary]) -> Result<f64, ClvError> {
    Ok(Prepared::new(summaries)?.ll_and_grad(params).0)
}

/// Fits BG/NBD by maximum likelihood (BFGS on log-parameters with the
/// analytic gradient).
pub fn fit(summaries: &[Summary]) -> Result<BgNbdFit, ClvError> {
    let data = Prepared::new(summaries)?;
    let n = summaries.len() as f64;
    // Start: r = 1 with α matching the mean purchase rate, a = 1, b = 3.
    let total_x: f64 = data.x.iter().map(|&x| x as f64).sum();
    let total_t: f64 = data.age.iter().sum();
    let alpha0 = if total_x > 0.0 && total_t > 0.0 { total_t / total_x } else { 1.0 };
    let start = [0.0, alpha0.ln(), 0.0, 3f64.ln()];
    let objective = |theta: &[f64]| {
        if theta.iter().any(|t| !t.is_finite() || t.abs() > 40.0) {
            return (f64::INFINITY, vec![0.0; 4]);
        }
        let p = BgNbdParams { r: theta[0].exp(), alpha: theta[1].exp(), a: theta[2].exp(), b: theta[3].exp() };
        let (ll, g) = data.ll_and_grad(&p);
        let scale = [p.r, p.alpha, p.a, p.b];
        (-ll / n, (0..4).map(|k| -g[k] * scale[k] / n).collect())
    };
    let m = bfgs(objective, &start, 1e-10, 2000);
    let params = BgNbdParams { r: m.x[0].exp(), alpha: m.x[1].exp(), a: m.x[2].exp(), b: m.x[3].exp() };
    if !m.value.is_finite() {
        return Err(ClvError::FitFailed("BG/NBD likelihood is not finite"));
    }
    Ok(BgNbdFit {
        params,
        log_likelihood: -m.value * n,
        n_customers: summaries.len(),
        iterations: m.iterations,
        converged: m.converged,
    })
}

impl BgNbdParams {
    /// Probability the customer is still alive at the end of calibration:
    /// `1 / (1 + [x>0] a/(b+x-1) ((α+T)/(α+t_x))^(r+x))`, computed as a
    /// logistic of a log-ratio so it never overflows.
    pub fn probability_alive(&self, s: &Summary) -> f64 {
        if s.frequency == 0 {
            return 1.0;
        }
        let x = s.frequency as f64;
        let ln_ratio = self.a.ln() - (self.b + x - 1.0).ln()
            + (self.r + x) * ((self.alpha + s.age).ln() - (self.alpha + s.recency).ln());
        // 1 / (1 + e^l), stable for either sign of l.
        if ln_ratio > 0.0 {
            let e = (-ln_ratio).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + ln_ratio.exp())
        }
    }

    /// Expected purchases in the next `t` time units for a customer with
    /// this summary (FHL 2005 eq. 10).
    pub fn conditional_expected_purchases(&self, t: f64, s: &Summary) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let BgNbdParams { r, alpha, a, b } = *self;
        let x = s.frequency as f64;
        let z = t / (alpha + s.age + t);
        // (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) through Euler's transformation.
        let g = ln_scaled_bgnbd_term(r, a, b, x, z);
        // (a+b+x-1)/(a-1) * (1 - g); 1 - g = -expm1(ln g) keeps precision for small t.
        let numerator = (a + b + x - 1.0) / (a - 1.0) * one_minus_exp(g.sign, g.ln_abs);
        numerator * self.probability_alive(s)
    }

    /// Expected purchases of a newly acquired customer in a period of length
    /// `t`: `E[X(t)] = (a+b-1)/(a-1) [1 - (α/(α+t))^r ₂F₁(r, b; a+b-1; t/(α+t))]`.
    pub fn expected_purchases(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let BgNbdParams { r, alpha, a, b } = *self;
        let z = t / (alpha + t);
        let f = ln_hyp2f1(r, b, a + b - 1.0, z);
        let ln_g = f.ln_abs + r * (alpha / (alpha + t)).ln();
        (a + b - 1.0) / (a - 1.0) * one_minus_exp(f.sign, ln_g)
    }
}

/// `1 - sign * e^ln_abs`, using `expm1` to keep precision when the result is small.
fn one_minus_exp(sign: f64, ln_abs: f64) -> f64 {
    if sign > 0.0 {
        -ln_abs.exp_m1()
    } else if sign < 0.0 {
        1.0 + ln_abs.exp()
    } else {
        1.0
    }
}
