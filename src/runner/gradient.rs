//! Stage 2 of a step, the gradient transforms: applied in order to the
//! oracle's exact gradient before the optimizer sees it, as in optax's
//! `chain(add_noise(...), clip(...), ...)`: first the noise model of the
//! optimizer table (`noise`, [`crate::optimizer::noise`]), then clipping
//! (`clip_grad_norm`, `clip_grad_value`, [`crate::optimizer::clip`]).

use crate::config::ResolvedOptimizer;
use crate::landscape::Landscape;
use crate::optimizer::clip::{Clip, Clipped};
use crate::optimizer::noise::{NoiseSpec, NoiseStep};
use crate::rng::RunRng;

/// The transforms of one optimizer table, in the order they apply.
pub struct GradientTransforms<'a> {
    noise: &'a NoiseSpec,
    clip: Clip,
}

impl<'a> GradientTransforms<'a> {
    pub fn new(optimizer: &'a ResolvedOptimizer) -> Self {
        Self {
            noise: &optimizer.noise,
            clip: optimizer.clip,
        }
    }

    /// Transforms `g`, the exact gradient at `x`, in place for the update
    /// `at`; returns what clipping did, `None` without clipping. `scratch`
    /// is a buffer of length `dim`. Does not allocate.
    pub fn apply(
        &self,
        rng: &mut RunRng,
        at: NoiseStep,
        f: &dyn Landscape,
        x: &[f64],
        g: &mut [f64],
        scratch: &mut [f64],
    ) -> Option<Clipped> {
        self.noise.perturb(rng, at, f, x, g, scratch);
        self.clip.apply(g)
    }
}
