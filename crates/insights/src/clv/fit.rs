//! A small BFGS minimiser with a backtracking (Armijo) line search, used on
//! the log-parameters of each model so every parameter stays positive.

/// Outcome of a minimisation.
#[derive(Debug, Clone)]
pub struct Minimum {
    /// The minimising point.
    pub x: Vec<f64>,
    /// Objective value there.
    pub value: f64,
    /// Largest absolute gradient component there.
    pub gradient_norm: f64,
    /// Iterations used.
    pub iterations: usize,
    /// Whether the gradient is small (below the tolerance, or below 1e-6 when
    /// rounding stopped progress first).
    pub converged: bool,
}

/// Minimise `f` (returning value and gradient) from `x0` by BFGS.
///
/// Stops when the largest gradient component is below `gtol`, when the
/// objective stops changing beyond rounding for three iterations, when a line
/// search can make no further progress, or after `max_iter` iterations.
pub fn bfgs<F>(mut f: F, x0: &[f64], gtol: f64, max_iter: usize) -> Minimum
where
    F: FnMut(&[f64]) -> (f64, Vec<f64>),
{
    let n = x0.len();
    let mut x = x0.to_vec();
    let (mut fx, mut g) = f(&x);
    let mut h = identity(n);
    let mut first = true;
    let mut iterations = 0;
    let mut stalled = 0;
    let mut flat = 0;
    while iterations < max_iter {
        let gnorm = max_abs(&g);
        if gnorm < gtol {
            return Minimum { x, value: fx, gradient_norm: gnorm, iterations, converged: true };
        }
        iterations += 1;
        // Search direction d = -H g (fall back to steepest descent if not a descent direction).
        let mut d: Vec<f64> = (0..n).map(|i| -(0..n).map(|j| h[i][j] * g[j]).sum::<f64>()).collect();
        let mut slope: f64 = dot(&d, &g);
        if slope.is_nan() || slope >= 0.0 {
            h = identity(n);
            d = g.iter().map(|v| -v).collect();
            slope = dot(&d, &g);
        }
        // Keep trial steps to at most 5 in log-parameter space.
        let dmax = max_abs(&d);
        let mut step = if dmax > 5.0 { 5.0 / dmax } else { 1.0 };
        let mut accepted = None;
        for _ in 0..40 {
            let xn: Vec<f64> = x.iter().zip(&d).map(|(xi, di)| xi + step * di).collect();
            let (fxn, gn) = f(&xn);
            if fxn.is_finite() && fxn <= fx + 1e-4 * step * slope {
                accepted = Some((xn, fxn, gn));
                break;
            }
            step *= 0.5;
        }
        let Some((xn, fxn, gn)) = accepted else {
            // No decrease possible along d: reset curvature once, then stop.
            stalled += 1;
            if stalled > 1 || max_abs(&g) < 1e-6 {
                break;
            }
            h = identity(n);
            first = true;
            continue;
        };
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-300 {
            stalled = 0;
            if first {
                let scale = sy / dot(&y, &y);
                for (i, row) in h.iter_mut().enumerate() {
                    for (j, v) in row.iter_mut().enumerate() {
                        *v = if i == j { scale } else { 0.0 };
                    }
                }
                first = false;
            }
            // H <- (I - ρ s yᵀ) H (I - ρ y sᵀ) + ρ s sᵀ
            let rho = 1.0 / sy;
            let hy: Vec<f64> = (0..n).map(|i| (0..n).map(|j| h[i][j] * y[j]).sum()).collect();
            let yhy = dot(&y, &hy);
            for i in 0..n {
                for j in 0..n {
                    h[i][j] += -rho * (s[i] * hy[j] + hy[i] * s[j]) + (rho * rho * yhy + rho) * s[i] * s[j];
                }
            }
        }
        let improvement = fx - fxn;
        x = xn;
        fx = fxn;
        g = gn;
        // Rounding noise in a sum over many customers can keep the gradient
        // above `gtol`; stop once the objective no longer moves.
        if improvement.abs() <= 4.0 * f64::EPSILON * fx.abs().max(1e-300) {
            flat += 1;
            if flat >= 3 {
                break;
            }
        } else {
            flat = 0;
        }
    }
    let gnorm = max_abs(&g);
    Minimum { x, value: fx, gradient_norm: gnorm, iterations, converged: gnorm < gtol.max(1e-6) }
}

fn identity(n: usize) -> Vec<Vec<f64>> {
    (0..n).map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect()).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_rosenbrock() {
        let f = |p: &[f64]| {
            let (x, y) = (p[0], p[1]);
            let v = (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2);
            let g = vec![-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)];
            (v, g)
        };
        let m = bfgs(f, &[-1.2, 1.0], 1e-10, 1000);
        assert!((m.x[0] - 1.0).abs() < 1e-6 && (m.x[1] - 1.0).abs() < 1e-6, "{m:?}");
    }
}
