//! Gradient-noise models: the optimizer sees g̃ = ∇f(x) + ξ.
//!
//! - `none`: ξ = 0.
//! - `gaussian`: ξ ~ N(0, std²·I).
//!
//! Every draw comes from the run's noise generator, so results stay
//! deterministic.

use crate::error::{check, SpecError};
use crate::landscape::Landscape;
use crate::rng::RunRng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NoiseSpec {
    #[default]
    None,
    Gaussian {
        std: f64,
    },
}

impl NoiseSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        match self {
            Self::None => Ok(()),
            Self::Gaussian { std } => check::non_negative("std", *std),
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Gaussian { .. } => "gaussian",
        }
    }

    /// Adds noise to `grad` (the exact gradient at `x`) in place. `scratch` is
    /// a buffer of length `dim` the model may use. Must not allocate.
    pub fn perturb(
        &self,
        rng: &mut RunRng,
        _landscape: &dyn Landscape,
        _x: &[f64],
        grad: &mut [f64],
        _scratch: &mut [f64],
    ) {
        match self {
            Self::None => {}
            Self::Gaussian { std } => {
                for g in grad.iter_mut() {
                    let z: f64 = StandardNormal.sample(rng);
                    *g += std * z;
                }
            }
        }
    }
}
