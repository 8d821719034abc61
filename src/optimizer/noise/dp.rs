//! `dp { clip, multiplier }`: DP-SGD (Abadi et al. 2016, Algorithm 1, one
//! example per batch): g ← g·min(1, clip/‖g‖), then add
//! N(0, (multiplier·clip)²) to every component.

use super::{add_gaussian, NoiseAt, NoiseModel, NoiseState};
use crate::error::{check, SpecError};
use crate::rng::RunRng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpNoise {
    pub clip: f64,
    pub multiplier: f64,
}

impl crate::registry::Documented for DpNoise {
    const SUMMARY: &'static str =
        "DP-SGD: g ← g·min(1, clip/‖g‖), then ξ ~ N(0, (multiplier·clip)²·I).";
    const CONVENTION: &'static str = "Abadi et al. (2016), Algorithm 1, one example per batch.";
    const EXAMPLE: &'static str = "clip = 1.0\nmultiplier = 1.0";
}

/// Clips `g` in place to Euclidean norm at most `clip`: g·min(1, clip/‖g‖).
/// Returns the norm before clipping.
pub fn clip_to_norm(g: &mut [f64], clip: f64) -> f64 {
    let norm = g.iter().map(|a| a * a).sum::<f64>().sqrt();
    if norm > clip {
        let s = clip / norm;
        g.iter_mut().for_each(|a| *a *= s);
    }
    norm
}

impl NoiseModel for DpNoise {
    fn validate(&self) -> Result<(), SpecError> {
        check::positive("clip", self.clip)?;
        check::non_negative("multiplier", self.multiplier)
    }

    fn perturb(
        &self,
        _: &mut NoiseState,
        rng: &mut RunRng,
        _: NoiseAt,
        grad: &mut [f64],
        _: &mut [f64],
    ) {
        clip_to_norm(grad, self.clip);
        add_gaussian(rng, grad, self.multiplier * self.clip);
    }
}
