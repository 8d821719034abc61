//! A short deterministic local descent, used to assign basins and to refine
//! known minima (Müller–Brown, Gaussian wells).
//!
//! Each iteration takes the Newton step −H⁻¹g when the Hessian is positive
//! definite (Cholesky succeeds) and points downhill, otherwise the steepest
//! descent step −g, shortens it to at most `max_step` (so that it cannot
//! jump over a ridge into another basin), and backtracks (halving, Armijo condition
//! f(x + t·p) ≤ f(x) + 10⁻⁴·t·g·p; Nocedal & Wright, Numerical Optimization,
//! 2nd ed., Alg. 3.1). It stops when ‖g‖ ≤ `gtol`, when no step decreases f,
//! or after `max_iter` iterations. Where rounding hides the decrease of f
//! near a minimum, a full Newton step is taken if it shrinks ‖g‖. Not a hot path: it allocates.

use super::Landscape;
use nalgebra::DVector;

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
        let gnorm = g.iter().map(|a| a * a).sum::<f64>().sqrt();
        if gnorm <= gtol {
            break;
        }
        let gv = DVector::from_column_slice(&g);
        let newton = f
            .hessian(&x)
            .cholesky()
            .map(|ch| -ch.solve(&gv))
            .filter(|p| p.dot(&gv) < 0.0 && p.iter().all(|v| v.is_finite()));
        let is_newton = newton.is_some();
        let p: Vec<f64> = match newton {
            Some(p) => p.iter().copied().collect(),
            None => g.iter().map(|v| -v).collect(),
        };
        let slope: f64 = p.iter().zip(&g).map(|(a, b)| a * b).sum();
        let pnorm = p.iter().map(|a| a * a).sum::<f64>().sqrt();
        let mut t = if pnorm > max_step {
            max_step / pnorm
        } else {
            1.0
        };
        let mut accepted = false;
        for _ in 0..80 {
            for ((ti, xi), pi) in trial.iter_mut().zip(&x).zip(&p) {
                *ti = xi + t * pi;
            }
            let ft = f.value(&trial);
            if ft.is_finite() && ft <= fx + 1e-4 * t * slope {
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            // Near a minimum the decrease of f drowns in rounding; a full
            // Newton step is still taken if it shrinks the gradient.
            if !is_newton || pnorm > max_step {
                break;
            }
            for ((ti, xi), pi) in trial.iter_mut().zip(&x).zip(&p) {
                *ti = xi + pi;
            }
            let mut gt = vec![0.0; d];
            let ft = f.value_and_gradient(&trial, &mut gt);
            let gtn = gt.iter().map(|a| a * a).sum::<f64>().sqrt();
            if !(ft.is_finite() && gtn < gnorm) {
                break;
            }
            std::mem::swap(&mut x, &mut trial);
            g = gt;
            fx = ft;
            continue;
        }
        std::mem::swap(&mut x, &mut trial);
        fx = f.value_and_gradient(&x, &mut g);
    }
    x
}
