//! `curvature { scale }`: ξ ~ N(0, scale·diag(H(x))⁺), i.e.
//! ξ_i = √(scale·max(h_ii, 0))·z_i: noise whose covariance follows the
//! Hessian diagonal, as the gradient noise of a least-squares loss near a
//! minimum does (covariance ≈ Fisher ≈ Hessian; Zhu et al. 2019, "The
//! anisotropic noise in SGD"). Negative diagonal entries (non-convex
//! regions) are clamped to 0: a covariance cannot be negative, so those
//! coordinates get no noise.

use super::{NoiseAt, NoiseModel, NoiseState};
use crate::error::{check, SpecError};
use crate::rng::RunRng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurvatureNoise {
    pub scale: f64,
}

impl crate::registry::Documented for CurvatureNoise {
    const SUMMARY: &'static str = "ξ_i = √(scale·max(h_ii, 0))·z_i: covariance proportional to the Hessian diagonal, clamped at 0 where it is negative.";
    const CONVENTION: &'static str = "Zhu et al. (2019), \"The anisotropic noise in SGD\".";
    const EXAMPLE: &'static str = "scale = 0.01";
}

impl NoiseModel for CurvatureNoise {
    fn validate(&self) -> Result<(), SpecError> {
        check::non_negative("scale", self.scale)
    }

    fn perturb(
        &self,
        _: &mut NoiseState,
        rng: &mut RunRng,
        at: NoiseAt,
        grad: &mut [f64],
        scratch: &mut [f64],
    ) {
        at.landscape.hessian_diagonal(at.x, scratch);
        for (g, &h) in grad.iter_mut().zip(scratch.iter()) {
            let z: f64 = StandardNormal.sample(rng);
            *g += (self.scale * h.max(0.0)).sqrt() * z;
        }
    }
}
