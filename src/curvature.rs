//! Curvature at a point: the largest and smallest Hessian eigenvalues
//! (sharpness) and the trace, at any dimension.
//!
//! - Up to [`DENSE_LIMIT`] dimensions the Hessian is formed and decomposed with
//!   nalgebra's symmetric eigensolver (exact to rounding).
//! - Above it, matrix-free, from Hessian-vector products
//!   ([`Landscape::hessian_vector_product`]: analytic where the landscape
//!   overrides it, else a central difference of the gradient):
//!   - extreme eigenvalues by the Lanczos process (Lanczos 1950; Golub & Van
//!     Loan, *Matrix Computations*, 4th ed., §10.1): m steps build the
//!     tridiagonal T_m = Q_m'·H·Q_m, whose extreme eigenvalues (Ritz values)
//!     converge to H's from inside. When the basis fits the memory budget
//!     ([`LanczosOptions::basis_bytes`]) every new vector is reorthogonalised
//!     against all earlier ones (twice, "twice is enough"); otherwise only the
//!     three-term recurrence is kept, O(d) memory. Without reorthogonalisation
//!     the basis loses orthogonality once a Ritz value converges and T_m picks
//!     up spurious copies of converged eigenvalues, but its extreme eigenvalues
//!     stay within O(ε‖H‖) of H's spectrum and keep converging (Paige 1976;
//!     Cullum & Willoughby 1985), which is all we need.
//!     The extreme eigenvalues of T_m come from Sturm-sequence bisection
//!     (O(m) per probe), not a dense eigensolver.
//!   - trace by Hutchinson's estimator (Hutchinson 1990): tr H ≈ mean of z'Hz
//!     over [`HUTCHINSON_PROBES`] Rademacher vectors z drawn from the
//!     curvature stream, with its standard error (sample s.d./√n). Its
//!     variance is 2·Σ_{i≠j} h_ij²: exact for a diagonal Hessian.
//!
//! Memory of the matrix-free path: 4 vectors of length d plus the basis when
//! it is stored (m·d·8 bytes, at most `basis_bytes`, 256 MiB by default); for
//! d = 10^6 that is 32 MB without the basis.

use crate::landscape::Landscape;
use crate::rng::RunRng;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

/// Largest dimension for which the dense Hessian is formed.
pub const DENSE_LIMIT: usize = 512;

/// Rademacher probes of the Hutchinson trace estimate in [`curvature`].
pub const HUTCHINSON_PROBES: usize = 32;

/// Which method produced a [`Curvature`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CurvatureMethod {
    Dense,
    /// Lanczos extreme eigenvalues and a Hutchinson trace.
    Lanczos,
}

impl CurvatureMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Dense => "dense",
            Self::Lanczos => "lanczos",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curvature {
    /// Largest eigenvalue (sharpness).
    pub max_eig: f64,
    /// Smallest eigenvalue.
    pub min_eig: f64,
    /// Trace of the Hessian (exact for dense, Hutchinson estimate otherwise).
    pub trace: f64,
    /// Standard error of `trace` (0 when exact).
    pub trace_stderr: f64,
    pub method: CurvatureMethod,
}

/// All eigenvalues of the dense Hessian at `x`, ascending.
pub fn dense_eigenvalues(f: &dyn Landscape, x: &[f64]) -> Vec<f64> {
    let h = f.hessian(x);
    let mut e: Vec<f64> = h.symmetric_eigenvalues().iter().copied().collect();
    e.sort_by(f64::total_cmp);
    e
}

/// Curvature summary at `x`, or `None` where it cannot be computed (non-finite
/// point or result). Dense up to [`DENSE_LIMIT`] dimensions, Lanczos and
/// Hutchinson above. `rng` draws the random vectors of the matrix-free
/// methods (it is the run's curvature stream).
pub fn curvature(f: &dyn Landscape, x: &[f64], rng: &mut RunRng) -> Option<Curvature> {
    if x.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let c = if f.dim() <= DENSE_LIMIT {
        let e = dense_eigenvalues(f, x);
        Curvature {
            max_eig: *e.last()?,
            min_eig: e[0],
            trace: e.iter().sum(),
            trace_stderr: 0.0,
            method: CurvatureMethod::Dense,
        }
    } else {
        let l = lanczos(f, x, rng, &LanczosOptions::default());
        let t = hutchinson_trace(f, x, HUTCHINSON_PROBES, rng);
        Curvature {
            max_eig: l.max,
            min_eig: l.min,
            trace: t.trace,
            trace_stderr: t.stderr,
            method: CurvatureMethod::Lanczos,
        }
    };
    [c.max_eig, c.min_eig, c.trace]
        .iter()
        .all(|v| v.is_finite())
        .then_some(c)
}

/// The largest Hessian eigenvalue at `x` by the cheapest adequate method:
/// dense up to [`DENSE_LIMIT`], Lanczos above (no trace).
pub fn sharpness(f: &dyn Landscape, x: &[f64], rng: &mut RunRng) -> Option<f64> {
    if x.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let s = if f.dim() <= DENSE_LIMIT {
        *dense_eigenvalues(f, x).last()?
    } else {
        let o = LanczosOptions {
            ends: Ends::Top,
            ..Default::default()
        };
        lanczos(f, x, rng, &o).max
    };
    s.is_finite().then_some(s)
}

/// Which extreme eigenvalues [`lanczos`] must converge before it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ends {
    /// The largest only (sharpness); the smallest is reported as reached.
    Top,
    Both,
}

/// Controls of [`lanczos`].
#[derive(Debug, Clone, PartialEq)]
pub struct LanczosOptions {
    pub ends: Ends,
    /// Most Lanczos steps (Hessian-vector products).
    pub max_iter: usize,
    /// Stop when the wanted extreme Ritz values moved by less than
    /// `tol`·max(|θ_max|, |θ_min|) since the previous check (checks every
    /// max(10, j/16) steps) and at least `min_iter` steps were taken.
    pub tol: f64,
    pub min_iter: usize,
    /// Largest memory for a stored basis; above it, no reorthogonalisation.
    pub basis_bytes: usize,
}

impl Default for LanczosOptions {
    fn default() -> Self {
        Self {
            ends: Ends::Both,
            max_iter: 1000,
            tol: 1e-10,
            min_iter: 20,
            basis_bytes: 256 << 20,
        }
    }
}

/// Result of [`lanczos`].
#[derive(Debug, Clone, PartialEq)]
pub struct LanczosResult {
    /// Largest and smallest Ritz values.
    pub max: f64,
    pub min: f64,
    /// Steps taken (Hessian-vector products).
    pub iterations: usize,
    /// Whether the basis was stored and fully reorthogonalised.
    pub reorthogonalised: bool,
    /// Whether the tolerance was met (or the Krylov space became invariant)
    /// before `max_iter`.
    pub converged: bool,
}

use crate::vecmath::dot;

/// Extreme eigenvalues of the Hessian at `x` by Lanczos (see the module
/// docs), started from a Gaussian vector drawn from `rng`.
pub fn lanczos(
    f: &dyn Landscape,
    x: &[f64],
    rng: &mut RunRng,
    o: &LanczosOptions,
) -> LanczosResult {
    let d = f.dim();
    let max_iter = o.max_iter.max(1);
    let store = max_iter.min(d).saturating_mul(d).saturating_mul(8) <= o.basis_bytes;
    let mut basis: Vec<f64> = Vec::new();
    // Gaussian start (uniform direction): a Rademacher start would give every
    // eigenvector of a diagonal Hessian the same weight whatever the seed.
    let mut q: Vec<f64> = (0..d).map(|_| StandardNormal.sample(rng)).collect();
    let n0 = dot(&q, &q).sqrt();
    q.iter_mut().for_each(|v| *v /= n0);
    let mut q_prev = vec![0.0; d];
    let mut w = vec![0.0; d];
    let mut alpha: Vec<f64> = Vec::new();
    let mut beta: Vec<f64> = Vec::new(); // beta[j] couples q_j and q_{j+1}
    let (mut top, mut bot) = (f64::NAN, f64::NAN);
    let mut next_check = 10;
    let mut converged = false;
    for j in 0..max_iter {
        if store {
            basis.extend_from_slice(&q);
        }
        f.hessian_vector_product(x, &q, &mut w);
        let a = dot(&w, &q);
        let b_prev = if j > 0 { beta[j - 1] } else { 0.0 };
        for ((wi, qi), pi) in w.iter_mut().zip(&q).zip(&q_prev) {
            *wi -= a * qi + b_prev * pi;
        }
        alpha.push(a);
        if store {
            for _ in 0..2 {
                for k in 0..=j {
                    let v = &basis[k * d..(k + 1) * d];
                    let c = dot(&w, v);
                    w.iter_mut().zip(v).for_each(|(wi, vi)| *wi -= c * vi);
                }
            }
        } else {
            // Local reorthogonalisation against the current vector only.
            let c = dot(&w, &q);
            w.iter_mut().zip(&q).for_each(|(wi, qi)| *wi -= c * qi);
        }
        let b = dot(&w, &w).sqrt();
        let scale = alpha.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(b_prev);
        let invariant = b.is_nan() || b <= 1e-12 * scale || (store && j + 1 == d);
        let steps = j + 1;
        if invariant || steps >= next_check || steps == max_iter {
            let (t, s) = (
                tridiagonal_extreme(&alpha, &beta, true),
                tridiagonal_extreme(&alpha, &beta, false),
            );
            let moved = match o.ends {
                Ends::Top => (t - top).abs(),
                Ends::Both => (t - top).abs().max((s - bot).abs()),
            };
            let size = t.abs().max(s.abs());
            (top, bot) = (t, s);
            if invariant || (steps >= o.min_iter && moved <= o.tol * size) {
                converged = true;
                return LanczosResult {
                    max: top,
                    min: bot,
                    iterations: steps,
                    reorthogonalised: store,
                    converged,
                };
            }
            next_check = steps + (steps / 16).max(10);
        }
        beta.push(b);
        std::mem::swap(&mut q_prev, &mut q);
        for (qi, wi) in q.iter_mut().zip(&w) {
            *qi = wi / b;
        }
    }
    LanczosResult {
        max: top,
        min: bot,
        iterations: max_iter,
        reorthogonalised: store,
        converged,
    }
}

/// Number of eigenvalues of the symmetric tridiagonal matrix (diagonal
/// `alpha`, off-diagonal `beta`, `beta.len() >= alpha.len() - 1`) below `s`:
/// the negative pivots of the LDLᵀ factorisation of T − sI (Sturm count).
pub fn sturm_count(alpha: &[f64], beta: &[f64], s: f64) -> usize {
    let mut count = 0;
    let mut piv = 1.0;
    for (k, &a) in alpha.iter().enumerate() {
        let b2 = if k > 0 {
            beta[k - 1] * beta[k - 1]
        } else {
            0.0
        };
        piv = a - s - if k > 0 { b2 / piv } else { 0.0 };
        if piv == 0.0 {
            piv = -f64::EPSILON * (a.abs() + s.abs()).max(f64::MIN_POSITIVE);
        }
        if piv < 0.0 {
            count += 1;
        }
    }
    count
}

/// Largest (`top`) or smallest eigenvalue of a symmetric tridiagonal matrix by
/// bisection on the Sturm count, inside its Gershgorin interval, to full
/// precision.
pub fn tridiagonal_extreme(alpha: &[f64], beta: &[f64], top: bool) -> f64 {
    let n = alpha.len();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for k in 0..n {
        let r = if k > 0 { beta[k - 1].abs() } else { 0.0 }
            + if k + 1 < n { beta[k].abs() } else { 0.0 };
        lo = lo.min(alpha[k] - r);
        hi = hi.max(alpha[k] + r);
    }
    let target = if top { n - 1 } else { 0 };
    // Find s with count(s) <= target < count(hi): the target-th eigenvalue.
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if sturm_count(alpha, beta, mid) > target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Result of [`hutchinson_trace`].
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEstimate {
    pub trace: f64,
    /// Standard error: sample standard deviation of z'Hz over √probes.
    pub stderr: f64,
    pub probes: usize,
}

/// Fills `z` with independent ±1 (Rademacher) entries, 64 per draw.
pub fn rademacher(rng: &mut RunRng, z: &mut [f64]) {
    for chunk in z.chunks_mut(64) {
        let bits = rng.next_u64();
        for (i, v) in chunk.iter_mut().enumerate() {
            *v = if (bits >> i) & 1 == 1 { 1.0 } else { -1.0 };
        }
    }
}

/// Hutchinson's trace estimate tr H ≈ (1/n)·Σ z_k'Hz_k with `probes`
/// Rademacher vectors from `rng` (at least 2, for the standard error).
pub fn hutchinson_trace(
    f: &dyn Landscape,
    x: &[f64],
    probes: usize,
    rng: &mut RunRng,
) -> TraceEstimate {
    let n = probes.max(2);
    let d = f.dim();
    let mut z = vec![0.0; d];
    let mut hz = vec![0.0; d];
    let samples: Vec<f64> = (0..n)
        .map(|_| {
            rademacher(rng, &mut z);
            f.hessian_vector_product(x, &z, &mut hz);
            dot(&z, &hz)
        })
        .collect();
    let mean = samples.iter().sum::<f64>() / n as f64;
    let var = samples.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    TraceEstimate {
        trace: mean,
        stderr: (var / n as f64).sqrt(),
        probes: n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::quadratic::{Quadratic, QuadraticSpec, Spectrum, SpectrumRule};
    use crate::landscape::testing::FdOnly;
    use crate::rng::{rng_for, Stream};

    fn geometric(dim: usize, min: f64, max: f64) -> Quadratic {
        QuadraticSpec {
            dim,
            eigenvalues: Spectrum::Rule(SpectrumRule::Geometric { min, max }),
            rotate: false,
        }
        .build(&mut rng_for(0, "unused", Stream::Landscape))
    }

    #[test]
    fn sturm_bisection_on_a_known_tridiagonal() {
        // tridiag(-1, 2, -1) of order n: eigenvalues 2 − 2cos(kπ/(n+1)).
        let n = 50;
        let a = vec![2.0; n];
        let b = vec![-1.0; n - 1];
        let pi = std::f64::consts::PI;
        let top = 2.0 - 2.0 * (n as f64 * pi / (n as f64 + 1.0)).cos();
        let bot = 2.0 - 2.0 * (pi / (n as f64 + 1.0)).cos();
        assert!((tridiagonal_extreme(&a, &b, true) - top).abs() < 1e-14);
        assert!((tridiagonal_extreme(&a, &b, false) - bot).abs() < 1e-14);
        assert_eq!(sturm_count(&a, &b, 2.0), n / 2);
    }

    #[test]
    fn lanczos_matches_dense_on_rotated_quadratics() {
        for seed in 0..3 {
            let mut r = rng_for(seed, "spectrum", Stream::Landscape);
            // Random spectrum with both signs (a saddle): N(1, 2²).
            let eig: Vec<f64> = (0..200)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut r);
                    1.0 + 2.0 * z
                })
                .collect();
            let spec = QuadraticSpec {
                dim: 200,
                eigenvalues: Spectrum::List(eig.clone()),
                rotate: true,
            };
            let f = spec.build(&mut rng_for(seed, "rotated", Stream::Landscape));
            let x = vec![0.1; 200];
            let dense = dense_eigenvalues(&f, &x);
            let mut rng = rng_for(seed, "lanczos", Stream::Curvature);
            let l = lanczos(&f, &x, &mut rng, &LanczosOptions::default());
            assert!(l.reorthogonalised && l.converged, "{l:?}");
            let (top, bot) = (dense[199], dense[0]);
            assert!(
                (l.max - top).abs() <= 1e-8 * top.abs(),
                "{} vs {top}",
                l.max
            );
            assert!(
                (l.min - bot).abs() <= 1e-8 * bot.abs(),
                "{} vs {bot}",
                l.min
            );
            // The dense eigenvalues are the chosen spectrum (independent truth).
            let max = eig.iter().copied().fold(f64::MIN, f64::max);
            assert!((top - max).abs() <= 1e-10 * max.abs());
        }
    }

    #[test]
    fn lanczos_by_finite_differences_of_the_gradient() {
        // Same check through the default (central-difference) product.
        let spec = QuadraticSpec {
            dim: 60,
            eigenvalues: Spectrum::Rule(SpectrumRule::Linear {
                min: -1.0,
                max: 4.0,
            }),
            rotate: true,
        };
        let f = spec.build(&mut rng_for(3, "fd", Stream::Landscape));
        let l = lanczos(
            &FdOnly(&f),
            &[0.5; 60],
            &mut rng_for(3, "fd", Stream::Curvature),
            &LanczosOptions::default(),
        );
        assert!(
            (l.max - 4.0).abs() < 1e-7 && (l.min + 1.0).abs() < 1e-7,
            "{l:?}"
        );
    }

    #[test]
    fn lanczos_large_diagonal_geometric_spectrum() {
        // d = 10^5, λ geometric from 0.01 to 10: top 10, bottom 0.01.
        let d = 100_000;
        let f = geometric(d, 0.01, 10.0);
        let x = vec![0.0; d];
        for seed in 0..2 {
            let mut rng = rng_for(seed, "big", Stream::Curvature);
            let top = LanczosOptions {
                ends: Ends::Top,
                ..Default::default()
            };
            let l = lanczos(&f, &x, &mut rng, &top);
            eprintln!("top only: {l:?}");
            assert!(!l.reorthogonalised && l.converged, "{l:?}");
            assert!((l.max - 10.0).abs() <= 1e-6 * 10.0, "{l:?}");
            // Ritz values lie inside the spectrum (up to rounding).
            assert!(l.min >= 0.01 * (1.0 - 1e-12) && l.max <= 10.0 * (1.0 + 1e-12));
        }
        // The bottom of this spectrum is hard for any Krylov method: λ₂ − λ₁ =
        // 0.01·(1000^(1/99999) − 1) = 6.9e-7, a relative gap of 6.9e-8 of the
        // spread, so resolving λ₁ needs ~1/√gap ≈ 4000 steps per e-fold.
        // After 3000 steps the smallest Ritz value is within 2e-4 (relative)
        // and never below the true minimum.
        let both = LanczosOptions {
            max_iter: 3000,
            ..Default::default()
        };
        let l = lanczos(&f, &x, &mut rng_for(0, "big", Stream::Curvature), &both);
        eprintln!("both: {l:?}");
        assert!(
            l.min >= 0.01 * (1.0 - 1e-12) && l.min <= 0.01 * (1.0 + 2e-4),
            "{l:?}"
        );
        assert!((l.max - 10.0).abs() <= 1e-12 * 10.0, "{l:?}");
    }

    #[test]
    fn lanczos_finds_an_isolated_negative_eigenvalue_at_large_d() {
        // A saddle: the geometric spectrum 0.01..10 (d − 1 values) plus one
        // eigenvalue −0.5, at d = 10^5: both ends to 1e-6.
        let d = 100_000;
        let mut lambda = crate::landscape::quadratic::eigenvalues(
            &Spectrum::Rule(SpectrumRule::Geometric {
                min: 0.01,
                max: 10.0,
            }),
            d - 1,
        );
        lambda.insert(d / 2, -0.5);
        let f = Quadratic::new(lambda, None);
        let l = lanczos(
            &f,
            &vec![0.0; d],
            &mut rng_for(2, "saddle", Stream::Curvature),
            &LanczosOptions::default(),
        );
        eprintln!("saddle: {l:?}");
        assert!(l.converged, "{l:?}");
        assert!((l.min + 0.5).abs() <= 1e-6 * 0.5, "{l:?}");
        assert!((l.max - 10.0).abs() <= 1e-6 * 10.0, "{l:?}");
    }

    #[test]
    fn hutchinson_trace_within_three_standard_errors() {
        // Rotated quadratic, d = 300, spectrum linear from −1 to 5: exact
        // trace Σλ = 300·2 = 600. Off-diagonal entries give the estimator
        // variance; the reported s.e. must cover the error.
        let spec = QuadraticSpec {
            dim: 300,
            eigenvalues: Spectrum::Rule(SpectrumRule::Linear {
                min: -1.0,
                max: 5.0,
            }),
            rotate: true,
        };
        let f = spec.build(&mut rng_for(4, "trace", Stream::Landscape));
        let x = vec![0.0; 300];
        let mut within = 0;
        for seed in 0..10 {
            let mut rng = rng_for(seed, "hutch", Stream::Curvature);
            let t = hutchinson_trace(&f, &x, 64, &mut rng);
            assert!(t.stderr > 0.0);
            // Var z'Hz = 2·Σ_{i≠j} h_ij² = 2(‖H‖_F² − Σ h_ii²).
            let h = f.hessian(&x);
            let off: f64 = (0..300)
                .flat_map(|i| (0..300).map(move |j| (i, j)))
                .filter(|(i, j)| i != j)
                .map(|(i, j)| h[(i, j)] * h[(i, j)])
                .sum();
            let se_true = (2.0 * off / 64.0).sqrt();
            assert!(
                (t.stderr / se_true - 1.0).abs() < 0.5,
                "{} vs {se_true}",
                t.stderr
            );
            assert!((t.trace - 600.0).abs() <= 3.0 * t.stderr + 1e-9, "{t:?}");
            within += usize::from((t.trace - 600.0).abs() <= t.stderr);
        }
        // About 68% of estimates fall within one s.e.; not all and not none.
        assert!((3..=10).contains(&within), "{within}");
        // A diagonal Hessian: z'Hz = Σ h_ii for every Rademacher z, exact.
        let g = geometric(1000, 0.01, 10.0);
        let exact: f64 = g.eigenvalues().iter().sum();
        let t = hutchinson_trace(
            &g,
            &vec![0.0; 1000],
            8,
            &mut rng_for(0, "d", Stream::Curvature),
        );
        assert!((t.trace - exact).abs() < 1e-10 * exact && t.stderr < 1e-10 * exact);
    }

    #[test]
    fn curvature_switches_method_at_the_dense_limit() {
        let small = geometric(DENSE_LIMIT, 0.5, 2.0);
        let big = geometric(DENSE_LIMIT + 1, 0.5, 2.0);
        let mut rng = rng_for(0, "switch", Stream::Curvature);
        let c = curvature(&small, &vec![0.0; DENSE_LIMIT], &mut rng).unwrap();
        assert_eq!(c.method.as_str(), "dense");
        let c2 = curvature(&big, &vec![0.0; DENSE_LIMIT + 1], &mut rng).unwrap();
        assert_eq!(c2.method.as_str(), "lanczos");
        for c in [&c, &c2] {
            assert!(
                (c.max_eig - 2.0).abs() < 1e-9 && (c.min_eig - 0.5).abs() < 1e-9,
                "{c:?}"
            );
        }
        // Exact trace of the geometric spectrum, Hutchinson exact on diagonals.
        let exact: f64 = big.eigenvalues().iter().sum();
        assert!((c2.trace - exact).abs() < 1e-9 * exact);
        let s = sharpness(&big, &vec![0.0; DENSE_LIMIT + 1], &mut rng).unwrap();
        assert!((s - 2.0).abs() < 1e-9);
        assert_eq!(
            sharpness(&big, &vec![f64::NAN; DENSE_LIMIT + 1], &mut rng),
            None
        );
    }
}
