//! Small minimisers used on the log-parameters of each model so every
//! parameter stays positive: a damped Newton method (Levenberg-style
//! regularisation, backtracking line search) for objectives with an analytic
//! Hessian, and a BFGS with a backtracking (Armijo) line search that
//! [`minimize`] falls back to when Newton does not converge.

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

/// Value, gradient and Hessian (rows) of an objective at a point.
pub type Evaluation = (f64, Vec<f64>, Vec<Vec<f64>>);

/// Minimise `f` from `x0` by damped Newton steps ([`newton`]); if that does
/// not converge, continue with BFGS ([`bfgs`]) from the best point found.
/// The reported iterations are the sum of both.
pub fn minimize<F>(mut f: F, x0: &[f64], gtol: f64, max_iter: usize) -> Minimum
where
    F: FnMut(&[f64]) -> Evaluation,
{
    let m = newton(&mut f, x0, gtol, max_iter);
    if m.converged {
        return m;
    }
    let start = if m.value.is_finite() { m.x.clone() } else { x0.to_vec() };
    let mut b = bfgs(
        |x: &[f64]| {
            let (v, g, _) = f(x);
            (v, g)
        },
        &start,
        gtol,
        max_iter,
    );
    b.iterations += m.iterations;
    if !b.value.is_finite() || (m.value.is_finite() && m.value < b.value) {
        Minimum { iterations: b.iterations, ..m }
    } else {
        b
    }
}

/// Minimise `f` (returning value, gradient and Hessian) from `x0` by Newton
/// steps. Where the Hessian is not positive definite a multiple of the
/// identity is added until it is (Levenberg), steps are capped at 5 in each
/// coordinate, and a backtracking line search enforces a sufficient decrease
/// (or, within rounding of the objective, a smaller gradient).
///
/// Stops when the largest gradient component is below `gtol` (converged),
/// when no step makes progress or the objective stops moving (converged if
/// the gradient is below 1e-6), or after `max_iter` iterations.
pub fn newton<F>(mut f: F, x0: &[f64], gtol: f64, max_iter: usize) -> Minimum
where
    F: FnMut(&[f64]) -> Evaluation,
{
    let mut x = x0.to_vec();
    let (mut fx, mut g, mut h) = f(&x);
    let mut iterations = 0;
    let mut flat = 0;
    while fx.is_finite() && iterations < max_iter {
        let gnorm = max_abs(&g);
        if gnorm < gtol {
            return Minimum { x, value: fx, gradient_norm: gnorm, iterations, converged: true };
        }
        iterations += 1;
        let Some(d) = damped_newton_direction(&h, &g) else { break };
        let slope = dot(&d, &g);
        if slope.is_nan() || slope >= 0.0 {
            break;
        }
        let dmax = max_abs(&d);
        let mut step = if dmax > 5.0 { 5.0 / dmax } else { 1.0 };
        let mut accepted = None;
        for _ in 0..40 {
            let xn: Vec<f64> = x.iter().zip(&d).map(|(xi, di)| xi + step * di).collect();
            let (fxn, gn, hn) = f(&xn);
            let rounding = 1e-12 * fx.abs().max(1e-300);
            let armijo = fxn <= fx + 1e-4 * step * slope;
            let noise_level = (fxn - fx).abs() <= rounding && max_abs(&gn) < gnorm;
            if fxn.is_finite() && (armijo || noise_level) {
                accepted = Some((xn, fxn, gn, hn));
                break;
            }
            step *= 0.5;
        }
        let Some((xn, fxn, gn, hn)) = accepted else { break };
        let improvement = fx - fxn;
        x = xn;
        fx = fxn;
        g = gn;
        h = hn;
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
    let converged = fx.is_finite() && gnorm < gtol.max(1e-6);
    Minimum { x, value: fx, gradient_norm: gnorm, iterations, converged }
}

/// Solves `(H + μI) d = -g` by Cholesky with the smallest `μ` (0, then
/// growing from 1e-10 of the largest diagonal entry by factors of 10) for
/// which the matrix is positive definite; `None` if none is found or the
/// inputs are not finite.
fn damped_newton_direction(h: &[Vec<f64>], g: &[f64]) -> Option<Vec<f64>> {
    let n = g.len();
    if g.iter().chain(h.iter().flatten()).any(|v| !v.is_finite()) {
        return None;
    }
    let scale = (0..n).fold(0.0f64, |m, i| m.max(h[i][i].abs())).max(1e-300);
    let mut mu = 0.0;
    for _ in 0..40 {
        let mut a: Vec<Vec<f64>> = h.to_vec();
        for (i, row) in a.iter_mut().enumerate() {
            row[i] += mu;
        }
        if let Some(l) = cholesky(&a) {
            // L y = -g, then Lᵀ d = y.
            let mut y = vec![0.0; n];
            for i in 0..n {
                y[i] = (-g[i] - (0..i).map(|k| l[i][k] * y[k]).sum::<f64>()) / l[i][i];
            }
            let mut d = vec![0.0; n];
            for i in (0..n).rev() {
                d[i] = (y[i] - (i + 1..n).map(|k| l[k][i] * d[k]).sum::<f64>()) / l[i][i];
            }
            if d.iter().all(|v| v.is_finite()) {
                return Some(d);
            }
        }
        mu = if mu == 0.0 { 1e-10 * scale } else { mu * 10.0 };
    }
    None
}

/// Lower-triangular Cholesky factor of a symmetric matrix, `None` unless it
/// is (numerically) positive definite.
fn cholesky(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s = a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            if i == j {
                if s.is_nan() || s <= 1e-14 * a[i][i].abs() {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    Some(l)
}

/// Copies the upper triangle of `h` onto its lower triangle.
pub(crate) fn symmetrize<const K: usize>(h: &mut [[f64; K]; K]) {
    let upper = *h;
    for (i, row) in h.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate().take(i) {
            *v = upper[j][i];
        }
    }
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

    fn rosenbrock(p: &[f64]) -> Evaluation {
        let (x, y) = (p[0], p[1]);
        let v = (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2);
        let g = vec![-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)];
        let h = vec![vec![2.0 - 400.0 * (y - 3.0 * x * x), -400.0 * x], vec![-400.0 * x, 200.0]];
        (v, g, h)
    }

    #[test]
    fn newton_minimises_rosenbrock() {
        // The start has an indefinite Hessian, so the damping is exercised.
        let m = newton(rosenbrock, &[-1.2, 1.0], 1e-10, 1000);
        assert!(m.converged && (m.x[0] - 1.0).abs() < 1e-8 && (m.x[1] - 1.0).abs() < 1e-8, "{m:?}");
        assert!(m.iterations < 60, "{m:?}");
        let m = newton(rosenbrock, &[0.0, 1.0], 1e-10, 1000);
        assert!(m.converged && (m.x[0] - 1.0).abs() < 1e-8, "{m:?}");
    }

    #[test]
    fn minimize_falls_back_to_bfgs() {
        // A wrong (negated) Hessian gives ascent directions that the damping
        // only cures slowly; with an iteration cap Newton stops short and
        // BFGS finishes.
        let bad = |p: &[f64]| {
            let (v, g, h) = rosenbrock(p);
            (v, g, h.iter().map(|r| r.iter().map(|v| -v).collect()).collect())
        };
        let m = minimize(bad, &[-1.2, 1.0], 1e-10, 1000);
        assert!(m.converged && (m.x[0] - 1.0).abs() < 1e-6 && (m.x[1] - 1.0).abs() < 1e-6, "{m:?}");
    }
}
