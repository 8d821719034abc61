//! RMSprop (Tieleman & Hinton 2012, lecture 6e; centered variant: Graves 2013,
//! eq. 38–45), as torch.optim.RMSprop (single-tensor path,
//! `_single_tensor_rmsprop` in torch/optim/rmsprop.py), with PyTorch's defaults
//! and order of floating-point operations.
//!
//! Per step with gradient g, learning rate η, smoothing α, momentum μ (the
//! schedule's when it sets one, as OneCycleLR/CyclicLR write `momentum`):
//!
//!   g ← g + λ·x                           (coupled weight decay)
//!   s ← α·s + (1 − α)·g·g
//!   centered: a ← a + (1 − α)·(g − a);  r = √(s − a·a) + ε
//!   otherwise:                          r = √s + ε
//!   μ > 0:  b ← μ·b + g/r;  x ← x − η·b
//!   μ = 0:  x ← x − η·g/r
//!
//! ε is added outside the square root, and there is no bias correction.
//! State slots: 0 = s, 1 = a (centered), 2 = b (momentum buffer).

use super::adam::lerp;
use super::{OptState, Optimizer, StepParams};
use crate::error::{check, SpecError};
use serde::{Deserialize, Serialize};

fn default_alpha() -> f64 {
    0.99
}
fn default_eps() -> f64 {
    1e-8
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RmspropSpec {
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    #[serde(default = "default_eps")]
    pub eps: f64,
    #[serde(default)]
    pub momentum: f64,
    #[serde(default)]
    pub centered: bool,
    #[serde(default)]
    pub weight_decay: f64,
}

impl crate::registry::Documented for RmspropSpec {
    const SUMMARY: &'static str = "s ← α·s + (1 − α)·g²; x ← x − lr·g/(√s + ε) (centered: s − a², a the running mean of g; momentum μ: a buffer b ← μ·b + g/r); no bias correction.";
    const CONVENTION: &'static str =
        "torch.optim.RMSprop (`_single_tensor_rmsprop`), PyTorch defaults.";
    const EXAMPLE: &'static str = "";
}

impl Default for RmspropSpec {
    fn default() -> Self {
        Self {
            alpha: default_alpha(),
            eps: default_eps(),
            momentum: 0.0,
            centered: false,
            weight_decay: 0.0,
        }
    }
}

impl RmspropSpec {
    /// torch checks eps, momentum, weight_decay, alpha >= 0; we also bound
    /// alpha and momentum below 1 (alpha = 1 never updates s, momentum >= 1
    /// never forgets).
    pub fn validate(&self) -> Result<(), SpecError> {
        check::in_half_open("alpha", self.alpha, 0.0, 1.0)?;
        check::non_negative("eps", self.eps)?;
        check::in_half_open("momentum", self.momentum, 0.0, 1.0)?;
        check::non_negative("weight_decay", self.weight_decay)
    }
}

impl Optimizer for RmspropSpec {
    fn validate(&self) -> Result<(), SpecError> {
        RmspropSpec::validate(self)
    }

    fn init_state(&self, dim: usize) -> OptState {
        OptState::new(dim, 3)
    }

    fn step(&self, p: &StepParams, x: &mut [f64], grad: &[f64], state: &mut OptState) {
        state.step += 1;
        let mu = p.momentum.unwrap_or(self.momentum);
        let wd = self.weight_decay * p.weight_decay_scale;
        let lr = p.lr;
        let alpha = self.alpha;
        let w = 1.0 - alpha;
        let [s, a, b] = &mut state.slots[..] else {
            panic!("RMSprop state needs 3 slots");
        };
        for i in 0..x.len() {
            let mut g = grad[i];
            if wd != 0.0 {
                g += wd * x[i];
            }
            s[i] = s[i] * alpha + w * g * g;
            let r = if self.centered {
                a[i] = lerp(a[i], g, w);
                (s[i] - a[i] * a[i]).sqrt()
            } else {
                s[i].sqrt()
            } + self.eps;
            if mu > 0.0 {
                b[i] = b[i] * mu + g / r;
                x[i] += -lr * b[i];
            } else {
                x[i] += -lr * g / r;
            }
        }
        state.started[0] = true;
        state.started[1] |= self.centered;
        state.started[2] |= mu > 0.0;
    }

    fn momentum(&self) -> Option<f64> {
        (self.momentum > 0.0).then_some(self.momentum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn first_step_by_hand() {
        // s = 0.01·g², r = 0.1|g| + ε: x moves by η·g/(0.1|g| + ε) ≈ 10η·sign(g).
        let s = RmspropSpec::default();
        let mut x = [1.0, -1.0];
        let mut st = s.init_state(2);
        s.step(&StepParams::new(0.01), &mut x, &[2.0, -0.5], &mut st);
        assert_relative_eq!(x[0], 1.0 - 0.01 * 2.0 / (0.2 + 1e-8), max_relative = 1e-14);
        assert_relative_eq!(
            x[1],
            -1.0 + 0.01 * 0.5 / (0.05 + 1e-8),
            max_relative = 1e-14
        );
        // Centered, one step: s − a² = 0.01g² − 1e-4g² = 0.0099g².
        let c = RmspropSpec {
            centered: true,
            ..Default::default()
        };
        let mut x = [1.0];
        let mut st = c.init_state(1);
        c.step(&StepParams::new(0.01), &mut x, &[2.0], &mut st);
        let r = (0.0099f64 * 4.0).sqrt() + 1e-8;
        assert_relative_eq!(x[0], 1.0 - 0.02 / r, max_relative = 1e-14);
    }

    #[test]
    fn validation_names_field_and_value() {
        let e = RmspropSpec {
            alpha: -0.1,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "alpha");
        assert!(e.message.contains("-0.1"));
        let e = RmspropSpec {
            weight_decay: f64::NAN,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "weight_decay");
        assert_eq!(RmspropSpec::default().momentum(), None);
        let m = RmspropSpec {
            momentum: 0.9,
            ..Default::default()
        };
        assert_eq!(m.momentum(), Some(0.9));
    }
}
