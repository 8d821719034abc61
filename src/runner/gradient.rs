//! Stage 2 of a step, the gradient transforms: applied in order to the
//! oracle's exact gradient before the optimizer sees it, as in optax's
//! `chain(...)`:
//!
//! 1. low precision with a loss scale (`grad_dtype`, `loss_scale`,
//!    [`crate::optimizer::precision`]): g ← round(g·scale)/scale. It comes
//!    first because in a training loop the scale multiplies the loss, so the
//!    backward pass computes the scaled gradient in low precision; a step
//!    whose gradient is then not finite is skipped and a dynamic scale backs
//!    off (torch.amp.GradScaler);
//! 2. the noise model of the optimizer table (`noise`,
//!    [`crate::optimizer::noise`]), drawn on skipped steps too, so the noise
//!    stream stays aligned with the step index. A model that replaces the
//!    gradient (minibatch noise) is the exception: the oracle asks it for
//!    the gradient ([`GradientTransforms::source_gradient`]), which it
//!    computes itself (a batch's only), so the loss scale of stage 1
//!    applies to that gradient;
//! 3. clipping (`clip_grad_norm`, `clip_grad_value`,
//!    [`crate::optimizer::clip`]), not applied on a skipped step.

use crate::config::ResolvedOptimizer;
use crate::landscape::Landscape;
use crate::optimizer::clip::{Clip, Clipped};
use crate::optimizer::noise::{NoiseAt, NoiseSpec, NoiseState, NoiseStep};
use crate::optimizer::precision::GradScaler;
use crate::rng::RunRng;

/// What the transforms did to one gradient.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GradStep {
    /// What clipping did (`None` without clipping or on a skipped step).
    pub clipped: Option<Clipped>,
    /// Whether the update is skipped (a non-finite low-precision gradient).
    pub skipped: bool,
    /// The loss scale the gradient was computed with (`None` without
    /// `grad_dtype`).
    pub loss_scale: Option<f64>,
    /// The loss on the minibatch (minibatch noise; else `None`).
    pub batch_loss: Option<f64>,
}

/// The transforms of one optimizer table, in the order they apply.
pub struct GradientTransforms<'a> {
    scaler: Option<GradScaler>,
    noise: &'a NoiseSpec,
    /// The noise model's per-run state, allocated once.
    noise_state: NoiseState,
    /// Whether the noise model is the gradient source (asked once, not per
    /// step).
    noise_is_source: bool,
    clip: Clip,
}

impl<'a> GradientTransforms<'a> {
    pub fn new(optimizer: &'a ResolvedOptimizer, f: &dyn Landscape) -> Self {
        Self {
            scaler: optimizer.precision.scaler(),
            noise: &optimizer.noise,
            noise_state: optimizer.noise.state(f),
            noise_is_source: optimizer.noise.spec().replaces_gradient(),
            clip: optimizer.clip,
        }
    }

    /// The oracle's gradient where the noise model is the gradient source
    /// (minibatch noise): the model writes its gradient at `x` into `g`, so
    /// the exact gradient is never computed; returns the loss it saw.
    /// `None`, with nothing drawn or written, for the other models (the
    /// oracle computes the exact gradient). Does not allocate.
    pub fn source_gradient(
        &mut self,
        rng: &mut RunRng,
        at: NoiseStep,
        f: &dyn Landscape,
        x: &[f64],
        g: &mut [f64],
    ) -> Option<f64> {
        if !self.noise_is_source {
            return None;
        }
        let model = self.noise.spec();
        let at = NoiseAt {
            step: at,
            landscape: f,
            x,
        };
        model.gradient(&mut self.noise_state, rng, at, g)
    }

    /// Transforms `g`, the exact gradient at `x` (or the noise model's own
    /// from [`Self::source_gradient`]), in place for the update
    /// `at`. `scratch` is a buffer of length `dim`. Does not allocate.
    pub fn apply(
        &mut self,
        rng: &mut RunRng,
        at: NoiseStep,
        f: &dyn Landscape,
        x: &[f64],
        g: &mut [f64],
        scratch: &mut [f64],
    ) -> GradStep {
        let (finite, loss_scale) = match &mut self.scaler {
            None => (true, None),
            Some(s) => {
                let scale = s.scale();
                let finite = s.apply(g);
                s.update(finite);
                (finite, Some(scale))
            }
        };
        // A gradient source was asked by the oracle (`source_gradient`).
        if !self.noise_is_source {
            self.noise
                .perturb_with(&mut self.noise_state, rng, at, f, x, g, scratch);
        }
        GradStep {
            clipped: if finite { self.clip.apply(g) } else { None },
            skipped: !finite,
            loss_scale,
            batch_loss: self.noise_state.batch_loss,
        }
    }
}
