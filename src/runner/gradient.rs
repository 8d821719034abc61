//! Stage 2 of a step, the gradient transforms: applied in order to the
//! oracle's exact gradient before the optimizer sees it, as in optax's
//! `chain(add_noise(...), clip(...), ...)`. Today: the noise model of the
//! optimizer table (`noise`; see [`crate::optimizer::noise`]).

use crate::config::ResolvedOptimizer;
use crate::landscape::Landscape;
use crate::optimizer::noise::NoiseSpec;
use crate::rng::RunRng;

/// The transforms of one optimizer table, in the order they apply.
pub struct GradientTransforms<'a> {
    noise: &'a NoiseSpec,
}

impl<'a> GradientTransforms<'a> {
    pub fn new(optimizer: &'a ResolvedOptimizer) -> Self {
        Self {
            noise: &optimizer.noise,
        }
    }

    /// Transforms `g`, the exact gradient at `x`, in place. `scratch` is a
    /// buffer of length `dim`. Does not allocate.
    pub fn apply(
        &self,
        rng: &mut RunRng,
        f: &dyn Landscape,
        x: &[f64],
        g: &mut [f64],
        scratch: &mut [f64],
    ) {
        self.noise.perturb(rng, f, x, g, scratch);
    }
}
