//! Curvature at a point: the largest and smallest Hessian eigenvalues
//! (sharpness) and the trace.
//!
//! Up to [`DENSE_LIMIT`] dimensions the Hessian is formed and decomposed with
//! nalgebra's symmetric eigensolver (exact to rounding). Above it the columns
//! stay null (`None`) until the matrix-free estimators land.

use crate::landscape::Landscape;
use crate::rng::RunRng;
use serde::Serialize;

/// Largest dimension for which the dense Hessian is formed.
pub const DENSE_LIMIT: usize = 512;

/// Which method produced a [`Curvature`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CurvatureMethod {
    Dense,
}

impl CurvatureMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Dense => "dense",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curvature {
    /// Largest eigenvalue (sharpness).
    pub max_eig: f64,
    /// Smallest eigenvalue.
    pub min_eig: f64,
    /// Trace of the Hessian.
    pub trace: f64,
    pub method: CurvatureMethod,
}

/// All eigenvalues of the dense Hessian at `x`, ascending.
pub fn dense_eigenvalues(f: &dyn Landscape, x: &[f64]) -> Vec<f64> {
    let h = f.hessian(x);
    let mut e: Vec<f64> = h.symmetric_eigenvalues().iter().copied().collect();
    e.sort_by(f64::total_cmp);
    e
}

/// Curvature summary at `x`, or `None` where it cannot be computed (dimension
/// above the dense limit, non-finite point). `rng` draws any random vectors
/// a matrix-free method needs (it is the run's curvature stream).
pub fn curvature(f: &dyn Landscape, x: &[f64], _rng: &mut RunRng) -> Option<Curvature> {
    if f.dim() > DENSE_LIMIT || x.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let e = dense_eigenvalues(f, x);
    if e.iter().any(|v| !v.is_finite()) {
        return None;
    }
    Some(Curvature {
        max_eig: *e.last()?,
        min_eig: e[0],
        trace: e.iter().sum(),
        method: CurvatureMethod::Dense,
    })
}
