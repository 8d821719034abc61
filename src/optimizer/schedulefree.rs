//! Schedule-free SGD and AdamW (Defazio et al. 2024, "The Road Less
//! Scheduled"), as the reference implementations of the `schedulefree`
//! package 1.4 (`SGDScheduleFreeReference`, `AdamWScheduleFreeReference`),
//! step for step.
//!
//! Three sequences: z takes the gradient steps, x is the weighted average
//! of the z's (the point `optimizer.eval()` gives), y the interpolation
//! where the gradient is taken (the parameters in train mode). Per step
//! k = 0, 1, … with gradient g at y and the schedule's lr η:
//!
//!   η_k = η·min(1, (k + 1)/warmup_steps)        (warm-up inside)
//!   lr_max ← max(lr_max, η_k); w_k = (k + 1)^r · lr_max^weight_lr_power
//!   c = w_k / Σ_{i≤k} w_i   (0 while the sum is 0)
//!   SGD:   g ← g + λ·y;  z ← z − η_k·g
//!   AdamW: z ← z − η_k·λ·y;  v ← β₂·v + (1 − β₂)·g²;
//!          z ← z − η_k·g / (√(v/(1 − β₂^(k+1))) + ε)
//!   x ← (1 − c)·x + c·z;  y ← β·x + (1 − β)·z   (β: momentum, or β₁)
//!
//! Since schedulefree 1.3 AdamW's bias correction sits inside the root, so
//! neither the step nor the weights carry √(1 − β₂^(k+1)) (the paper's
//! Algorithm 1 put it in the lr). A schedule still applies: η is the
//! schedule's lr, as the package's `lr` would be set each step; a cycling
//! schedule's momentum replaces β (β₁).
//!
//! In a run the parameters are y: the oracle is asked at y. The loss the
//! trace reports, `final_loss` and `final_position` are at x, the point
//! the package's `optimizer.eval()` gives ([`Optimizer::eval_point`]).
//!
//! optax `contrib.schedule_free` differs: it wraps any base optimizer
//! (`schedule_free_adamw` keeps Adam's first moment when b1 > 0 is given to
//! the base), has no r term (weights lr_max^weight_lr_power only) and puts
//! AdamW's bias correction where the base optimizer does.
//!
//! State slots: 0 = z, 1 = x, 2 = v (AdamW); `scalars` = [Σw, lr_max].

use super::{OptState, Optimizer, StepParams};
use crate::error::{check, SpecError};

/// The reference's section on schedule-free (`docs/reference.md`).
pub const NOTES: &str = "### Schedule-free: where the loss is read, and optax\n\n\
`sgd_schedulefree` and `adamw_schedulefree` follow the `schedulefree` package's \
reference optimizers (1.4) step for step. The gradient is taken at y (the parameters \
in train mode); the trace's `loss`, `final_loss`, `final_position` and the final \
curvature are at x, the point `optimizer.eval()` gives (its loss is computed once \
more per evaluated step); `grad_norm` is the gradient's at y. The lr is the \
schedule's, as if the package's `lr` were set before each step; `warmup_steps` is \
the package's own warm-up on top of it. Since schedulefree 1.3 AdamW's bias \
correction is inside the root (√(v/(1 − β₂^(k+1))) + ε), so neither lr_max nor the \
averaging weights carry √(1 − β₂^(k+1)) (the paper's Algorithm 1 put it in the lr).\n\n\
optax `contrib.schedule_free` differs: it wraps a base optimizer (in \
`schedule_free_adamw` the base is Adam with b1 = 0; a b1 > 0 would add a first \
moment), its weights are lr_max^weight_lr_power without the (k + 1)^r term, and the \
bias correction sits where the base optimizer puts it.\n\n";
use serde::{Deserialize, Serialize};

fn default_momentum() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_eps() -> f64 {
    1e-8
}
fn two() -> f64 {
    2.0
}

/// `schedulefree.SGDScheduleFreeReference`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgdScheduleFree {
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    #[serde(default)]
    pub warmup_steps: u64,
    #[serde(default)]
    pub r: f64,
    #[serde(default = "two")]
    pub weight_lr_power: f64,
    #[serde(default)]
    pub weight_decay: f64,
}

impl crate::registry::Documented for SgdScheduleFree {
    const SUMMARY: &'static str = "Schedule-free SGD: z ← z − η_k·(g + λ·y), x ← (1 − c)·x + c·z with c = w_k/Σw, w_k = (k+1)^r·lr_max^weight_lr_power, y ← momentum·x + (1 − momentum)·z; the gradient is taken at y, the loss reported at x; η_k warms up over warmup_steps.";
    const CONVENTION: &'static str =
        "schedulefree 1.4 `SGDScheduleFreeReference`; the lr is the schedule's.";
    const EXAMPLE: &'static str = "";
}

/// `schedulefree.AdamWScheduleFreeReference`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamWScheduleFree {
    #[serde(default = "default_momentum")]
    pub beta1: f64,
    #[serde(default = "default_beta2")]
    pub beta2: f64,
    #[serde(default = "default_eps")]
    pub eps: f64,
    #[serde(default)]
    pub warmup_steps: u64,
    #[serde(default)]
    pub r: f64,
    #[serde(default = "two")]
    pub weight_lr_power: f64,
    #[serde(default)]
    pub weight_decay: f64,
}

impl crate::registry::Documented for AdamWScheduleFree {
    const SUMMARY: &'static str = "Schedule-free AdamW: z ← z − η_k·λ·y − η_k·g/(√(v/(1 − β₂^(k+1))) + ε), v ← β₂·v + (1 − β₂)·g², x ← (1 − c)·x + c·z, y ← β₁·x + (1 − β₁)·z; gradient at y, loss reported at x.";
    const CONVENTION: &'static str = "schedulefree 1.4 `AdamWScheduleFreeReference` (bias correction inside the root, since 1.3).";
    const EXAMPLE: &'static str = "";
}

/// Checks shared by both: the interpolation β in (0, 1) (the package
/// refuses momentum outside it), the weighting and warm-up.
fn validate_common(
    field: &str,
    beta: f64,
    r: f64,
    power: f64,
    weight_decay: f64,
) -> Result<(), SpecError> {
    check::in_open(field, beta, 0.0, 1.0)?;
    check::non_negative("r", r)?;
    check::non_negative("weight_lr_power", power)?;
    check::non_negative("weight_decay", weight_decay)
}

/// The step's lr after the warm-up, and c = w_k/Σw; updates k's scalars.
fn averaging(warmup_steps: u64, r: f64, power: f64, lr: f64, state: &mut OptState) -> (f64, f64) {
    let k = state.step;
    let sched = if k < warmup_steps {
        (k + 1) as f64 / warmup_steps as f64
    } else {
        1.0
    };
    let lr = lr * sched;
    if !state.started[0] {
        state.scalars = [0.0, -1.0];
    }
    let lr_max = lr.max(state.scalars[1]);
    state.scalars[1] = lr_max;
    let weight = ((k + 1) as f64).powf(r) * lr_max.powf(power);
    state.scalars[0] += weight;
    let sum = state.scalars[0];
    let c = if sum == 0.0 { 0.0 } else { weight / sum };
    (lr, c)
}

/// On the first step z and x start at y, the parameters.
fn start(y: &[f64], state: &mut OptState) {
    if !state.started[0] {
        state.slots[0].copy_from_slice(y);
        state.slots[1].copy_from_slice(y);
        state.started[0] = true;
        state.started[1] = true;
    }
}

/// x ← (1 − c)·x + c·z; y ← β·x + (1 − β)·z.
fn average_and_interpolate(c: f64, beta: f64, y: &mut [f64], state: &mut OptState) {
    let [z, x, ..] = &mut state.slots[..] else {
        unreachable!("schedule-free state has slots z and x")
    };
    for ((yi, xi), zi) in y.iter_mut().zip(x.iter_mut()).zip(z.iter()) {
        *xi = *xi * (1.0 - c) + *zi * c;
        *yi = *xi * beta + *zi * (1.0 - beta);
    }
}

impl Optimizer for SgdScheduleFree {
    fn validate(&self) -> Result<(), SpecError> {
        validate_common(
            "momentum",
            self.momentum,
            self.r,
            self.weight_lr_power,
            self.weight_decay,
        )
    }

    fn init_state(&self, dim: usize) -> OptState {
        OptState::new(dim, 2)
    }

    fn step(&self, p: &StepParams, y: &mut [f64], grad: &[f64], state: &mut OptState) {
        let (lr, c) = averaging(self.warmup_steps, self.r, self.weight_lr_power, p.lr, state);
        start(y, state);
        let wd = self.weight_decay * p.weight_decay_scale;
        let z = &mut state.slots[0];
        for ((zi, &gi), &yi) in z.iter_mut().zip(grad).zip(y.iter()) {
            let g = if wd != 0.0 { gi + yi * wd } else { gi };
            *zi -= lr * g;
        }
        let beta = p.momentum.unwrap_or(self.momentum);
        average_and_interpolate(c, beta, y, state);
        state.step += 1;
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.momentum)
    }

    fn eval_point<'a>(&self, state: &'a OptState) -> Option<&'a [f64]> {
        state.started[1].then_some(&state.slots[1][..])
    }

    fn has_eval_point(&self) -> bool {
        true
    }
}

impl Optimizer for AdamWScheduleFree {
    fn validate(&self) -> Result<(), SpecError> {
        validate_common(
            "beta1",
            self.beta1,
            self.r,
            self.weight_lr_power,
            self.weight_decay,
        )?;
        check::in_half_open("beta2", self.beta2, 0.0, 1.0)?;
        check::non_negative("eps", self.eps)
    }

    fn init_state(&self, dim: usize) -> OptState {
        OptState::new(dim, 3)
    }

    fn step(&self, p: &StepParams, y: &mut [f64], grad: &[f64], state: &mut OptState) {
        let k = state.step;
        let bias_correction2 = 1.0 - self.beta2.powf((k + 1) as f64);
        let (lr, c) = averaging(self.warmup_steps, self.r, self.weight_lr_power, p.lr, state);
        start(y, state);
        let wd = self.weight_decay * p.weight_decay_scale;
        let [z, _, v] = &mut state.slots[..] else {
            unreachable!("adamw_schedulefree state has slots z, x and v")
        };
        for (((zi, vi), &gi), &yi) in z.iter_mut().zip(v.iter_mut()).zip(grad).zip(y.iter()) {
            if wd != 0.0 {
                *zi -= yi * (lr * wd);
            }
            *vi = *vi * self.beta2 + gi * gi * (1.0 - self.beta2);
            let denom = (*vi / bias_correction2).sqrt() + self.eps;
            *zi -= lr * (gi / denom);
        }
        let beta = p.momentum.unwrap_or(self.beta1);
        average_and_interpolate(c, beta, y, state);
        state.step += 1;
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.beta1)
    }

    fn eval_point<'a>(&self, state: &'a OptState) -> Option<&'a [f64]> {
        state.started[1].then_some(&state.slots[1][..])
    }

    fn has_eval_point(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentum_outside_the_open_interval_is_refused() {
        for m in [0.0, 1.0, -0.1] {
            let s = SgdScheduleFree {
                momentum: m,
                warmup_steps: 0,
                r: 0.0,
                weight_lr_power: 2.0,
                weight_decay: 0.0,
            };
            assert_eq!(s.validate().unwrap_err().field, "momentum");
        }
        let a: AdamWScheduleFree = toml::from_str("beta1 = 1.0").unwrap();
        assert_eq!(a.validate().unwrap_err().field, "beta1");
    }

    #[test]
    fn constant_lr_average_is_the_uniform_mean_of_z() {
        // With a constant lr, r = 0 and no warm-up every weight is equal, so
        // c = 1/(k + 1) and x is the running mean of z_1 … z_(k+1). On
        // f = x²/2 from y = 1 with momentum β: by hand, z_1 = 1 − η,
        // x_1 = z_1, y_1 = z_1; z_2 = z_1 − η·y_1 = (1 − η)², x_2 = (z_1 + z_2)/2.
        let s = SgdScheduleFree {
            momentum: 0.5,
            warmup_steps: 0,
            r: 0.0,
            weight_lr_power: 2.0,
            weight_decay: 0.0,
        };
        let eta = 0.25;
        let mut y = vec![1.0];
        let mut st = s.init_state(1);
        let p = StepParams::new(eta);
        let g = [y[0]];
        s.step(&p, &mut y, &g, &mut st);
        assert!((y[0] - 0.75).abs() < 1e-15);
        let g = [y[0]];
        s.step(&p, &mut y, &g, &mut st);
        let (z1, z2) = (0.75, 0.75 * 0.75);
        let x2 = (z1 + z2) / 2.0;
        assert!((s.eval_point(&st).unwrap()[0] - x2).abs() < 1e-15);
        assert!((y[0] - (0.5 * x2 + 0.5 * z2)).abs() < 1e-15);
    }
}
