//! Gradient clipping, as `torch.nn.utils`:
//!
//! - `clip_grad_norm = c` (`clip_grad_norm_(params, c)`, 2-norm): with
//!   n = ‖g‖, the clip coefficient is c/(n + 1e-6), clamped to at most 1,
//!   and g is multiplied by it. Clipping fires when the coefficient is below
//!   1, i.e. n + 1e-6 > c. A non-finite n gives a coefficient of 0 (or NaN),
//!   as in torch with `error_if_nonfinite = False`; the run then diverges.
//! - `clip_grad_value = c` (`clip_grad_value_(params, c)`): every coordinate
//!   is clamped to [−c, c] (NaN stays NaN).
//!
//! Clipping is a gradient transform applied after the gradient noise, as in a
//! training loop where the noise is part of the minibatch gradient (the `dp`
//! noise model keeps its own clip-then-noise order inside the noise).

use crate::error::{check, SpecError};
use crate::vecmath::norm;
use serde::{Deserialize, Serialize};

/// The clipping of one optimizer table (fields `clip_grad_norm`,
/// `clip_grad_value`; both may be set: the norm clip applies first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Clip {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_grad_norm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_grad_value: Option<f64>,
}

/// What clipping did to one gradient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clipped {
    /// ‖g‖ before clipping.
    pub norm: f64,
    /// Whether any clip changed the gradient.
    pub fired: bool,
}

impl Clip {
    pub fn validate(&self) -> Result<(), SpecError> {
        if let Some(c) = self.clip_grad_norm {
            check::positive("clip_grad_norm", c)?;
        }
        if let Some(c) = self.clip_grad_value {
            check::positive("clip_grad_value", c)?;
        }
        Ok(())
    }

    pub fn is_active(&self) -> bool {
        self.clip_grad_norm.is_some() || self.clip_grad_value.is_some()
    }

    /// Clips `g` in place; `None` when no clipping is configured.
    pub fn apply(&self, g: &mut [f64]) -> Option<Clipped> {
        if !self.is_active() {
            return None;
        }
        let n = norm(g);
        let mut fired = false;
        if let Some(c) = self.clip_grad_norm {
            let coef = (c / (n + 1e-6)).min(1.0);
            if !(coef >= 1.0) {
                fired = true;
                g.iter_mut().for_each(|v| *v *= coef);
            }
        }
        if let Some(c) = self.clip_grad_value {
            for v in g.iter_mut() {
                let clamped = v.clamp(-c, c);
                fired |= clamped != *v;
                *v = clamped;
            }
        }
        Some(Clipped { norm: n, fired })
    }
}
