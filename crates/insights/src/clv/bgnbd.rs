//! The BG/NBD model of Fader, Hardie & Lee (2005), "Counting Your Customers"
//! the Easy Way: purchases follow a Poisson process with a gamma(r, α)
//! distributed rate while the customer is alive, and after every purchase the
//! customer drops out with a beta(a, b) distributed probability.

use serde::{Deserialize, Serialize};

use super::fit::{Evaluation, minimize, symmetrize};
use super::hyp2f1::{ln_hyp2f1, ln_scaled_bgnbd_term};
use super::special::{digamma, ln_gamma, trigamma};
use super::{ClvError, Summary};

/// Above this dropout shape `a`, the beta distribution of dropout
/// probabilities is so narrow (coefficient of variation below 1 %) that
/// predictions treat it as one value. Fits reach such shapes when customers
/// differ little in how soon they drop out.
const POINT_MASS_SHAPE: f64 = 1e4;

/// BG/NBD parameters (all positive). `alpha` is in the summaries' time unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbdParams {
    /// Shape of the gamma distribution of purchase rates.
    #[serde(with = "crate::float")]
    pub r: f64,
    /// Scale (rate parameter) of the gamma distribution of purchase rates.
    #[serde(with = "crate::float")]
    pub alpha: f64,
    /// First shape of the beta distribution of dropout probabilities.
    #[serde(with = "crate::float")]
    pub a: f64,
    /// Second shape of the beta distribution of dropout probabilities.
    #[serde(with = "crate::float")]
    pub b: f64,
}

/// A fitted BG/NBD model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbdFit {
    /// Maximum-likelihood parameters.
    pub params: BgNbdParams,
    /// Log-likelihood at the optimum (FHL 2005 eq. 6 summed over customers).
    #[serde(with = "crate::float")]
    pub log_likelihood: f64,
    /// Customers fitted.
    pub n_customers: usize,
    /// Optimiser iterations.
    pub iterations: usize,
    /// Whether the optimiser met its gradient tolerance.
    pub converged: bool,
}

/// Customers prepared for repeated likelihood evaluation: customers without
/// repeat purchases (whose terms depend only on `T`) are kept apart from
/// repeat buyers, and quantities that depend only on the frequency `x` are
/// computed once per distinct `x`.
struct Prepared {
    /// `T` of the customers with `x = 0`.
    zero_age: Vec<f64>,
    /// `x`, `t_x` and `T` of the customers with `x > 0`.
    x: Vec<u32>,
    t_x: Vec<f64>,
    age: Vec<f64>,
    /// Number of customers with each frequency.
    count_by_x: Vec<f64>,
    n: usize,
    total_x: f64,
    total_age: f64,
}

/// Log-likelihood with its gradient and Hessian in (r, α, a, b).
struct Derivatives {
    ll: f64,
    grad: [f64; 4],
    hess: [[f64; 4]; 4],
}

/// Number of running sums a likelihood pass keeps per row.
const SUMS: usize = 18;

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
        let mut data = Prepared {
            zero_age: Vec::new(),
            x: Vec::new(),
            t_x: Vec::new(),
            age: Vec::new(),
            count_by_x: Vec::new(),
            n: summaries.len(),
            total_x: 0.0,
            total_age: 0.0,
        };
        let repeat = summaries.iter().filter(|s| s.frequency > 0).count();
        data.zero_age.reserve(summaries.len() - repeat);
        data.x.reserve(repeat);
        data.t_x.reserve(repeat);
        data.age.reserve(repeat);
        for s in summaries {
            count_by_x[s.frequency as usize] += 1.0;
            data.total_x += s.frequency as f64;
            data.total_age += s.age;
            if s.frequency == 0 {
                data.zero_age.push(s.age);
            } else {
                data.x.push(s.frequency);
                data.t_x.push(s.recency);
                data.age.push(s.age);
            }
        }
        data.count_by_x = count_by_x;
        Ok(data)
    }

    /// Log-likelihood (FHL 2005 eq. 6) with its gradient and Hessian.
    fn derivatives(&self, p: &BgNbdParams) -> Derivatives {
        let BgNbdParams { r, alpha, a, b } = *p;
        let mut h = [[0.0; 4]; 4];
        let mut grad = [0.0; 4];
        let mut ll = 0.0;
        // Per-x terms: ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, b+x) - ln B(a, b);
        // and for the repeat buyers' second term ln a - ln(b+x-1) and 1/(b+x-1).
        let nx = self.count_by_x.len();
        let mut c4 = vec![0.0; nx];
        let mut inv_b = vec![0.0; nx];
        let (lg_r, lg_b, lg_ab, ln_a, ln_alpha) = (ln_gamma(r), ln_gamma(b), ln_gamma(a + b), a.ln(), alpha.ln());
        let (dg_r, dg_b, dg_ab) = (digamma(r), digamma(b), digamma(a + b));
        let (tg_r, tg_b, tg_ab) = (trigamma(r), trigamma(b), trigamma(a + b));
        for (x, &n) in self.count_by_x.iter().enumerate() {
            let xf = x as f64;
            if x > 0 {
                c4[x] = ln_a - (b + xf - 1.0).ln();
                inv_b[x] = 1.0 / (b + xf - 1.0);
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
            h[0][0] += n * (trigamma(r + xf) - tg_r);
            h[0][1] += n / alpha;
            h[1][1] -= n * r / (alpha * alpha);
            let tg_abx = trigamma(a + b + xf);
            h[2][2] += n * (tg_ab - tg_abx);
            h[2][3] += n * (tg_ab - tg_abx);
            h[3][3] += n * (tg_ab + trigamma(b + xf) - tg_b - tg_abx);
        }
        // Rows: the zero-frequency customers contribute -r ln(α+T); repeat
        // buyers ln(e^A3 + e^A4) with A3 = -(r+x) ln(α+T) and
        // A4 = ln a - ln(b+x-1) - (r+x) ln(α+t_x).
        let n0 = self.zero_age.len();
        let n = n0 + self.x.len();
        let chunk = |range: std::ops::Range<usize>| {
            let mut s = [0.0; SUMS];
            for &t in &self.zero_age[range.start.min(n0)..range.end.min(n0)] {
                let at = alpha + t;
                let inv = 1.0 / at;
                s[15] += at.ln();
                s[16] += inv;
                s[17] += inv * inv;
            }
            let rows = range.start.max(n0) - n0..range.end.max(n0) - n0;
            for ((&x, &t_x), &t) in self.x[rows.clone()].iter().zip(&self.t_x[rows.clone()]).zip(&self.age[rows]) {
                let rx = r + x as f64;
                let at = alpha + t;
                let atx = alpha + t_x;
                let (l_t, l_tx) = (at.ln(), atx.ln());
                let (i_t, i_tx) = (1.0 / at, 1.0 / atx);
                let ib = inv_b[x as usize];
                let a3 = -rx * l_t;
                let a4 = c4[x as usize] - rx * l_tx;
                // Weights of the two terms: w3 = e^(A3 - lse), w4 = 1 - w3.
                let e = (-(a3 - a4).abs()).exp();
                let big = 1.0 / (1.0 + e);
                let (w3, w4) = if a3 > a4 { (big, e * big) } else { (e * big, big) };
                let ww = w3 * w4;
                let u_r = l_tx - l_t;
                let u_a = rx * (i_tx - i_t);
                let wi = w3 * i_t + w4 * i_tx;
                s[0] += a3.max(a4) + e.ln_1p();
                s[1] -= w3 * l_t + w4 * l_tx;
                s[2] -= rx * wi;
                s[3] += w4;
                s[4] -= w4 * ib;
                s[5] += ww * u_r * u_r;
                s[6] += ww * u_r * u_a - wi;
                s[7] += rx * (w3 * i_t * i_t + w4 * i_tx * i_tx) + ww * u_a * u_a;
                s[8] += ww * u_r;
                s[9] += ww * u_r * ib;
                s[10] += ww * u_a;
                s[11] += ww * u_a * ib;
                s[12] += ww;
                s[13] += ww * ib;
                s[14] += (w4 + ww) * ib * ib;
            }
            s
        };
        let mut s = [0.0; SUMS];
        for part in parallel_map(n, chunk) {
            for (acc, v) in s.iter_mut().zip(part) {
                *acc += v;
            }
        }
        ll += s[0] - r * s[15];
        grad[0] += s[1] - s[15];
        grad[1] += s[2] - r * s[16];
        grad[2] += s[3] / a;
        grad[3] += s[4];
        h[0][0] += s[5];
        h[0][1] += s[6] - s[16];
        h[1][1] += s[7] + r * s[17];
        h[0][2] -= s[8] / a;
        h[0][3] += s[9];
        h[1][2] -= s[10] / a;
        h[1][3] += s[11];
        h[2][2] += (s[12] - s[3]) / (a * a);
        h[2][3] -= s[13] / a;
        h[3][3] += s[14];
        symmetrize(&mut h);
        Derivatives { ll, grad, hess: h }
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

/// Value, gradient and Hessian of `-ll / n` in the log-parameters
/// `θ = ln p`, given `ll` with its gradient and Hessian in `p = scale`:
/// `∂/∂θᵢ = pᵢ ∂/∂pᵢ` and `∂²/∂θᵢ∂θⱼ = pᵢ pⱼ ∂²/∂pᵢ∂pⱼ + [i = j] pᵢ ∂/∂pᵢ`.
pub(crate) fn log_space<const K: usize>(
    ll: f64,
    grad: &[f64; K],
    hess: &[[f64; K]; K],
    scale: &[f64; K],
    n: f64,
) -> Evaluation {
    let g = (0..K).map(|i| -grad[i] * scale[i] / n).collect();
    let h = (0..K)
        .map(|i| {
            (0..K)
                .map(|j| {
                    let diag = if i == j { grad[i] * scale[i] } else { 0.0 };
                    -(hess[i][j] * scale[i] * scale[j] + diag) / n
                })
                .collect()
        })
        .collect();
    (-ll / n, g, h)
}

/// BG/NBD log-likelihood of `summaries` under `params` (FHL 2005 eq. 6,
/// evaluated in log space).
pub fn log_likelihood(params: &BgNbdParams, summaries: &[Summary]) -> Result<f64, ClvError> {
    Ok(Prepared::new(summaries)?.derivatives(params).ll)
}

/// Fits BG/NBD by maximum likelihood: damped Newton steps on the
/// log-parameters with the analytic gradient and Hessian, falling back to
/// BFGS if Newton does not converge.
pub fn fit(summaries: &[Summary]) -> Result<BgNbdFit, ClvError> {
    let data = Prepared::new(summaries)?;
    let n = summaries.len() as f64;
    // Start: r = 1 with α matching the mean purchase rate, a = 1, b = 3.
    let (total_x, total_t) = (data.total_x, data.total_age);
    let alpha0 = if total_x > 0.0 && total_t > 0.0 { total_t / total_x } else { 1.0 };
    let start = [0.0, alpha0.ln(), 0.0, 3f64.ln()];
    let objective = |theta: &[f64]| {
        if theta.iter().any(|t| !t.is_finite() || t.abs() > 40.0) {
            return (f64::INFINITY, vec![0.0; 4], vec![vec![0.0; 4]; 4]);
        }
        let p = BgNbdParams { r: theta[0].exp(), alpha: theta[1].exp(), a: theta[2].exp(), b: theta[3].exp() };
        let d = data.derivatives(&p);
        let scale = [p.r, p.alpha, p.a, p.b];
        log_space(d.ll, &d.grad, &d.hess, &scale, n)
    };
    let m = minimize(objective, &start, 1e-10, 2000);
    let params = BgNbdParams { r: m.x[0].exp(), alpha: m.x[1].exp(), a: m.x[2].exp(), b: m.x[3].exp() };
    if !m.value.is_finite() {
        return Err(ClvError::FitFailed("BG/NBD likelihood is not finite"));
    }
    Ok(BgNbdFit {
        params,
        log_likelihood: -m.value * n,
        n_customers: data.n,
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
        if a > POINT_MASS_SHAPE {
            // Beta(a, b) is then a point mass at p = a/(a+b): the 2F1 limit is
            // closed, E = (1/p) [1 - ((α+T)/(α+T+pt))^(r+x)] × P(alive); the
            // series would need about a·z/(1-z) terms per customer.
            let p = a / (a + b);
            let ln_kept = (r + x) * ((alpha + s.age) / (alpha + s.age + p * t)).ln();
            return -ln_kept.exp_m1() / p * self.probability_alive(s);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::simulate::simulate;

    #[test]
    #[allow(clippy::needless_range_loop)] // index arithmetic over parameters reads best here
    fn gradient_and_hessian_match_finite_differences() {
        let truth = BgNbdParams { r: 0.5, alpha: 6.0, a: 0.7, b: 2.5 };
        let data = Prepared::new(&simulate(&truth, None, 3_000, (10.0, 60.0), 5)).unwrap();
        let at = BgNbdParams { r: 0.8, alpha: 4.0, a: 1.1, b: 1.9 };
        let d = data.derivatives(&at);
        let with = |k: usize, v: f64| {
            let mut p = [at.r, at.alpha, at.a, at.b];
            p[k] = v;
            data.derivatives(&BgNbdParams { r: p[0], alpha: p[1], a: p[2], b: p[3] })
        };
        let base = [at.r, at.alpha, at.a, at.b];
        for k in 0..4 {
            let h = 1e-5 * base[k];
            let (up, down) = (with(k, base[k] + h), with(k, base[k] - h));
            let fd = (up.ll - down.ll) / (2.0 * h);
            assert!((fd - d.grad[k]).abs() < 1e-6 * d.grad[k].abs().max(1.0), "grad {k}: {fd} vs {}", d.grad[k]);
            for j in 0..4 {
                let fd = (up.grad[j] - down.grad[j]) / (2.0 * h);
                let want = d.hess[k][j];
                assert!((fd - want).abs() < 1e-5 * want.abs().max(1.0), "hess {k},{j}: {fd} vs {want}");
            }
        }
    }
}
