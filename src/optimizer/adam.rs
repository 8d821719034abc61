//! Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), as
//! torch.optim.Adam / torch.optim.AdamW (single-tensor path,
//! `_single_tensor_adam` in torch/optim/adam.py), with PyTorch's defaults and
//! PyTorch's order of floating-point operations.
//!
//! Per step t = 1, 2, … with gradient g, learning rate η, β₁ (the schedule's
//! momentum when it sets one, as OneCycleLR/CyclicLR write `betas[0]`):
//!
//!   AdamW:  x ← x·(1 − η·λ)              (decoupled weight decay)
//!   Adam:   g ← g + λ·x                   (coupled L2 weight decay)
//!   m ← m + (1 − β₁)·(g − m)              (torch's `lerp`)
//!   v ← β₂·v + (1 − β₂)·g·g
//!   v̂ ← max(v̂, v) if amsgrad, else v̂ = v
//!   x ← x − η/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
//!
//! Note where ε enters: it is added to the bias-corrected √v̂, as in the
//! paper's Algorithm 1, not to the uncorrected √v as in the paper's "more
//! efficient" ordering (§2), which differs for the first steps.
//!
//! State slots: 0 = m, 1 = v, 2 = v̂ (amsgrad only, still allocated).

use super::{OptState, Optimizer, StepParams};
use crate::error::{check, SpecError};
use serde::{Deserialize, Serialize};

fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_eps() -> f64 {
    1e-8
}
fn default_adamw_weight_decay() -> f64 {
    0.01
}

/// torch.optim.Adam: weight decay is coupled (added to the gradient).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamSpec {
    #[serde(default = "default_beta1")]
    pub beta1: f64,
    #[serde(default = "default_beta2")]
    pub beta2: f64,
    #[serde(default = "default_eps")]
    pub eps: f64,
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default)]
    pub amsgrad: bool,
}

impl crate::registry::Documented for AdamSpec {
    const SUMMARY: &'static str = "Adam with coupled L2 weight decay (g ← g + λ·x), bias correction, ε added to the bias-corrected √v̂; amsgrad keeps max(v̂, v).";
    const CONVENTION: &'static str =
        "torch.optim.Adam (`_single_tensor_adam`), PyTorch defaults and order of operations.";
    const EXAMPLE: &'static str = "";
}

impl Default for AdamSpec {
    fn default() -> Self {
        Self {
            beta1: default_beta1(),
            beta2: default_beta2(),
            eps: default_eps(),
            weight_decay: 0.0,
            amsgrad: false,
        }
    }
}

/// torch.optim.AdamW: weight decay is decoupled (x shrinks by 1 − η·λ before
/// the Adam step); default λ = 0.01.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamWSpec {
    #[serde(default = "default_beta1")]
    pub beta1: f64,
    #[serde(default = "default_beta2")]
    pub beta2: f64,
    #[serde(default = "default_eps")]
    pub eps: f64,
    #[serde(default = "default_adamw_weight_decay")]
    pub weight_decay: f64,
    #[serde(default)]
    pub amsgrad: bool,
}

impl crate::registry::Documented for AdamWSpec {
    const SUMMARY: &'static str =
        "Adam with decoupled weight decay: x ← x·(1 − lr·λ) before the Adam step.";
    const CONVENTION: &'static str = "torch.optim.AdamW, PyTorch defaults (weight_decay 0.01).";
    const EXAMPLE: &'static str = "";
}

impl Default for AdamWSpec {
    fn default() -> Self {
        Self {
            beta1: default_beta1(),
            beta2: default_beta2(),
            eps: default_eps(),
            weight_decay: default_adamw_weight_decay(),
            amsgrad: false,
        }
    }
}

/// The checks of torch.optim.Adam's constructor (`lr` is the schedule's).
pub fn validate_adam(beta1: f64, beta2: f64, eps: f64, weight_decay: f64) -> Result<(), SpecError> {
    check::in_half_open("beta1", beta1, 0.0, 1.0)?;
    check::in_half_open("beta2", beta2, 0.0, 1.0)?;
    check::non_negative("eps", eps)?;
    check::non_negative("weight_decay", weight_decay)
}

impl AdamSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        validate_adam(self.beta1, self.beta2, self.eps, self.weight_decay)
    }
}

impl AdamWSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        validate_adam(self.beta1, self.beta2, self.eps, self.weight_decay)
    }
}

/// Hyperparameters of one Adam update, after the schedule's overrides.
#[derive(Debug, Clone, Copy)]
pub struct AdamStep {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Effective weight decay λ (already multiplied by the schedule's scale).
    pub weight_decay: f64,
    pub decoupled: bool,
    pub amsgrad: bool,
}

/// One Adam/AdamW update in place; `state` needs three slots. No allocation.
pub fn adam_step(h: &AdamStep, x: &mut [f64], grad: &[f64], state: &mut OptState) {
    state.step += 1;
    let t = state.step as f64;
    // Scalars computed as torch computes them (Python floats, C pow).
    let shrink = 1.0 - h.lr * h.weight_decay;
    let w1 = 1.0 - h.beta1;
    let w2 = 1.0 - h.beta2;
    let bc1 = 1.0 - h.beta1.powf(t);
    let bc2 = 1.0 - h.beta2.powf(t);
    let neg_step_size = -(h.lr / bc1);
    let bc2_sqrt = bc2.powf(0.5);
    let [m, v, vmax] = &mut state.slots[..] else {
        panic!("Adam state needs 3 slots");
    };
    for i in 0..x.len() {
        let mut g = grad[i];
        if h.weight_decay != 0.0 {
            if h.decoupled {
                x[i] *= shrink;
            } else {
                g += h.weight_decay * x[i];
            }
        }
        m[i] = lerp(m[i], g, w1);
        v[i] = v[i] * h.beta2 + w2 * g * g;
        let second = if h.amsgrad {
            vmax[i] = vmax[i].max(v[i]);
            vmax[i]
        } else {
            v[i]
        };
        let denom = second.sqrt() / bc2_sqrt + h.eps;
        x[i] += neg_step_size * m[i] / denom;
    }
    state.started.iter_mut().for_each(|s| *s = true);
}

/// torch's `lerp(a, b, w)` = a + w·(b − a), evaluated as ATen does (from the
/// nearer end, for accuracy).
pub fn lerp(a: f64, b: f64, w: f64) -> f64 {
    if w.abs() < 0.5 {
        a + w * (b - a)
    } else {
        b - (b - a) * (1.0 - w)
    }
}

impl AdamSpec {
    /// This step's hyperparameters: the schedule's momentum replaces beta1,
    /// the weight-decay schedule scales the weight decay.
    fn hyperparameters(&self, p: &StepParams, decoupled: bool) -> AdamStep {
        AdamStep {
            lr: p.lr,
            beta1: p.momentum.unwrap_or(self.beta1),
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay * p.weight_decay_scale,
            decoupled,
            amsgrad: self.amsgrad,
        }
    }
}

impl Optimizer for AdamSpec {
    fn validate(&self) -> Result<(), SpecError> {
        AdamSpec::validate(self)
    }

    fn init_state(&self, dim: usize) -> OptState {
        OptState::new(dim, 3)
    }

    fn step(&self, p: &StepParams, x: &mut [f64], grad: &[f64], state: &mut OptState) {
        adam_step(&self.hyperparameters(p, false), x, grad, state);
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.beta1)
    }
}

impl Optimizer for AdamWSpec {
    fn validate(&self) -> Result<(), SpecError> {
        AdamWSpec::validate(self)
    }

    fn init_state(&self, dim: usize) -> OptState {
        OptState::new(dim, 3)
    }

    fn step(&self, p: &StepParams, x: &mut [f64], grad: &[f64], state: &mut OptState) {
        let adam = AdamSpec {
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay,
            amsgrad: self.amsgrad,
        };
        adam_step(&adam.hyperparameters(p, true), x, grad, state);
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.beta1)
    }

    fn decoupled_shrink(&self, p: &StepParams) -> Option<f64> {
        Some(1.0 - p.lr * self.weight_decay * p.weight_decay_scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn first_step_moves_every_coordinate_by_lr() {
        // With m = v = 0, step 1 gives m = (1−β₁)g, v = (1−β₂)g², and after
        // bias correction x moves by η·g/(|g| + ε) ≈ η·sign(g) (paper, §2.1).
        let s = AdamSpec::default();
        let mut x = [1.0, -2.0, 3.0];
        let g = [0.5, -4.0, 1e-3];
        let mut st = s.init_state(3);
        s.step(&StepParams::new(0.1), &mut x, &g, &mut st);
        for (xi, (x0, gi)) in x.iter().zip([(1.0, 0.5), (-2.0, -4.0), (3.0, 1e-3)]) {
            let expected = x0 - 0.1 * gi / (f64::abs(gi) + 1e-8);
            assert_relative_eq!(*xi, expected, max_relative = 1e-14);
        }
    }

    #[test]
    fn adamw_shrinks_before_the_step() {
        // Zero gradient: m = v = 0, the Adam step is 0/ε = 0, only the
        // decoupled decay acts: x ← x·(1 − 0.1·0.01).
        let s = AdamWSpec::default();
        let mut x = [2.0];
        let mut st = s.init_state(1);
        let p = StepParams::new(0.1);
        s.step(&p, &mut x, &[0.0], &mut st);
        assert_relative_eq!(x[0], 2.0 * 0.999, max_relative = 1e-15);
        assert_eq!(s.decoupled_shrink(&p), Some(0.999));
        assert_eq!(AdamSpec::default().decoupled_shrink(&p), None);
    }

    #[test]
    fn validation_names_field_and_value() {
        let bad = AdamSpec {
            beta2: 1.0,
            ..Default::default()
        };
        let e = bad.validate().unwrap_err();
        assert_eq!(e.field, "beta2");
        assert!(e.message.contains('1'), "{}", e.message);
        let bad = AdamWSpec {
            eps: -1e-8,
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "eps");
        assert!(AdamWSpec::default().validate().is_ok());
    }
}
