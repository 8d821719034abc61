//! A short deterministic local descent, used to assign basins and to refine
//! known minima (Müller–Brown, Gaussian wells) and in tests.
//!
//! Each iteration tries the Newton step −H⁻¹g when the Hessian is positive
//! definite (Cholesky succeeds) and points downhill, else the modified Newton
//! step −(H + μI)⁻¹g with μ = 2·|λ_min| + 1e-8·(1 + max|λ|), then the steepest
//! descent step −g; each is shortened to at most `max_step` (so that it cannot jump
//! over a ridge into another basin) and backtracked (halving, Armijo condition
//! f(x + t·p) ≤ f(x) + 10⁻⁴·t·g·p; Nocedal & Wright, Numerical Optimization,
//! 2nd ed., Alg. 3.1). The first direction that passes is taken. It stops when
//! ‖g‖ ≤ `gtol`, when neither direction decreases f, or after `max_iter`
//! iterations. Where rounding hides the decrease of f near a minimum, a full
//! Newton step is still taken if it shrinks ‖g‖. Not a hot path: it allocates.

use super::Landscape;
use nalgebra::{DMatrix, DVector};

use crate::vecmath::norm;

/// Backtracking along `p` from `x` (value `fx`, gradient `g`); writes the
/// accepted point into `trial` and returns its value.
fn line_search(
    f: &dyn Landscape,
    x: &[f64],
    fx: f64,
    g: &[f64],
    p: &[f64],
    max_step: f64,
    trial: &mut [f64],
) -> Option<f64> {
    let slope: f64 = p.iter().zip(g).map(|(a, b)| a * b).sum();
    if slope.is_nan() || slope >= 0.0 {
        return None;
    }
    let pnorm = norm(p);
    let mut t = if pnorm > max_step {
        max_step / pnorm
    } else {
        1.0
    };
    for _ in 0..60 {
        for ((ti, xi), pi) in trial.iter_mut().zip(x).zip(p) {
            *ti = xi + t * pi;
        }
        let ft = f.value(trial);
        if ft.is_finite() && ft <= fx + 1e-4 * t * slope {
            return Some(ft);
        }
        t *= 0.5;
    }
    None
}

/// Runs the descent from `x0` and returns the end point. `max_step` bounds
/// the length of each step; pick it well below the width of a basin.
pub fn descend(
    f: &dyn Landscape,
    x0: &[f64],
    max_step: f64,
    gtol: f64,
    max_iter: usize,
) -> Vec<f64> {
    let d = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; d];
    let mut trial = vec![0.0; d];
    let mut fx = f.value_and_gradient(&x, &mut g);
    if !fx.is_finite() {
        return x;
    }
    for _ in 0..max_iter {
        let gnorm = norm(&g);
        if gnorm <= gtol {
            break;
        }
        let gv = DVector::from_column_slice(&g);
        let h = f.hessian(&x);
        let solve = |m: DMatrix<f64>| -> Option<Vec<f64>> {
            m.cholesky()
                .map(|ch| -ch.solve(&gv))
                .filter(|p| p.dot(&gv) < 0.0 && p.iter().all(|v| v.is_finite()))
                .map(|p| p.iter().copied().collect())
        };
        let newton = solve(h.clone());
        // Not positive definite: shift the spectrum (modified Newton,
        // H + μI with μ = 2·|λ_min| + 1e-8·(1 + |λ|_max)).
        let shifted = if newton.is_none() && h.iter().all(|v| v.is_finite()) {
            let eig = h.clone().symmetric_eigenvalues();
            let lo = eig.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = eig.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let mu = 2.0 * lo.abs() + 1e-8 * (1.0 + hi);
            solve(h + DMatrix::identity(d, d) * mu)
        } else {
            None
        };
        let steepest: Vec<f64> = g.iter().map(|v| -v).collect();
        let mut accepted = None;
        for p in newton
            .iter()
            .chain(shifted.iter())
            .chain(std::iter::once(&steepest))
        {
            if let Some(ft) = line_search(f, &x, fx, &g, p, max_step, &mut trial) {
                accepted = Some(ft);
                break;
            }
        }
        if accepted.is_some() {
            std::mem::swap(&mut x, &mut trial);
            fx = f.value_and_gradient(&x, &mut g);
            continue;
        }
        // Rounding: take a short full Newton step if it shrinks the gradient.
        let Some(p) = newton.filter(|p| norm(p) <= max_step) else {
            break;
        };
        for ((ti, xi), pi) in trial.iter_mut().zip(&x).zip(&p) {
            *ti = xi + pi;
        }
        let mut gt = vec![0.0; d];
        let ft = f.value_and_gradient(&trial, &mut gt);
        if !(ft.is_finite() && norm(&gt) < gnorm) {
            break;
        }
        std::mem::swap(&mut x, &mut trial);
        g = gt;
        fx = ft;
    }
    x
}
