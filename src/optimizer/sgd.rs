//! Stochastic gradient descent with momentum, as torch.optim.SGD, plus the
//! classic (Sutskever et al. 2013) velocity form.
//!
//! PyTorch form (`momentum_form = "pytorch"`), per step with gradient g:
//!   g ← g + wd·x;
//!   b ← g on the first step with momentum, else b ← μ·b + (1 − dampening)·g;
//!   g ← g + μ·b if nesterov, else g ← b;
//!   x ← x − lr·g.
//! Classic form (`"classic"`): v ← μ·v − lr·g; x ← x + v; with Nesterov,
//! x ← x + μ·v − lr·g (Bengio et al. 2013's reformulation, which needs no
//! gradient at the look-ahead point). The two forms agree for a constant lr
//! and differ when lr changes: the classic velocity carries the old lr.

use super::{OptState, Optimizer, StepParams};
use crate::error::{check, SpecError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MomentumForm {
    #[default]
    Pytorch,
    Classic,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgdSpec {
    #[serde(default)]
    pub momentum: f64,
    #[serde(default)]
    pub dampening: f64,
    #[serde(default)]
    pub nesterov: bool,
    #[serde(default)]
    pub momentum_form: MomentumForm,
    #[serde(default)]
    pub weight_decay: f64,
}

impl crate::registry::Documented for SgdSpec {
    const SUMMARY: &'static str = "SGD with momentum μ, dampening, Nesterov and coupled weight decay. momentum_form \"pytorch\": b ← μ·b + g, x ← x − lr·b; \"classic\": v ← μ·v − lr·g, x ← x + v.";
    const CONVENTION: &'static str =
        "torch.optim.SGD (pytorch form, PyTorch defaults); classic form: Sutskever et al. (2013).";
    const EXAMPLE: &'static str = "";
}

impl SgdSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        check::in_half_open("momentum", self.momentum, 0.0, 1.0)?;
        check::in_half_open("dampening", self.dampening, 0.0, 1.0)?;
        check::non_negative("weight_decay", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            // torch.optim.SGD raises the same error.
            return Err(SpecError::new(
                "nesterov",
                "Nesterov momentum requires momentum > 0 and dampening = 0",
            ));
        }
        if self.momentum_form == MomentumForm::Classic && self.dampening != 0.0 {
            return Err(SpecError::new(
                "dampening",
                "the classic momentum form has no dampening",
            ));
        }
        Ok(())
    }
}

impl Optimizer for SgdSpec {
    fn validate(&self) -> Result<(), SpecError> {
        SgdSpec::validate(self)
    }

    fn init_state(&self, dim: usize) -> OptState {
        OptState::new(dim, 1)
    }

    fn step(&self, p: &StepParams, x: &mut [f64], grad: &[f64], state: &mut OptState) {
        let mu = p.momentum.unwrap_or(self.momentum);
        let wd = self.weight_decay * p.weight_decay_scale;
        let lr = p.lr;
        let started = state.started[0];
        let buf = &mut state.slots[0];
        // The branches are taken once per step, outside the coordinate loops,
        // so that each loop is straight-line arithmetic the compiler
        // vectorises; every coordinate sees the same operations in the same
        // order as the formulas in the module header.
        let damp = 1.0 - self.dampening;
        match (self.momentum_form, mu != 0.0) {
            (MomentumForm::Pytorch, false) => {
                for (xi, &gi) in x.iter_mut().zip(grad) {
                    *xi -= lr * (gi + wd * *xi);
                }
            }
            (MomentumForm::Pytorch, true) => {
                match (started, self.nesterov) {
                    (false, false) => {
                        pytorch_momentum::<false, false>(x, grad, buf, mu, damp, wd, lr)
                    }
                    (false, true) => {
                        pytorch_momentum::<false, true>(x, grad, buf, mu, damp, wd, lr)
                    }
                    (true, false) => {
                        pytorch_momentum::<true, false>(x, grad, buf, mu, damp, wd, lr)
                    }
                    (true, true) => pytorch_momentum::<true, true>(x, grad, buf, mu, damp, wd, lr),
                }
                state.started[0] = true;
            }
            (MomentumForm::Classic, _) => {
                if self.nesterov {
                    classic_momentum::<true>(x, grad, buf, mu, wd, lr);
                } else {
                    classic_momentum::<false>(x, grad, buf, mu, wd, lr);
                }
                state.started[0] = true;
            }
        }
        state.step += 1;
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.momentum)
    }
}

/// The PyTorch form with momentum over all coordinates: `STARTED` is false
/// on the first step with momentum (b ← g), `NESTEROV` adds μ·b to g.
#[allow(clippy::too_many_arguments)]
#[inline]
fn pytorch_momentum<const STARTED: bool, const NESTEROV: bool>(
    x: &mut [f64],
    grad: &[f64],
    buf: &mut [f64],
    mu: f64,
    damp: f64,
    wd: f64,
    lr: f64,
) {
    for ((xi, &gi), bi) in x.iter_mut().zip(grad).zip(buf.iter_mut()) {
        let d = gi + wd * *xi;
        *bi = if STARTED { mu * *bi + damp * d } else { d };
        let d = if NESTEROV { d + mu * *bi } else { *bi };
        *xi -= lr * d;
    }
}

/// The classic velocity form over all coordinates.
#[inline]
fn classic_momentum<const NESTEROV: bool>(
    x: &mut [f64],
    grad: &[f64],
    vel: &mut [f64],
    mu: f64,
    wd: f64,
    lr: f64,
) {
    for ((xi, &gi), vi) in x.iter_mut().zip(grad).zip(vel.iter_mut()) {
        let d = gi + wd * *xi;
        *vi = mu * *vi - lr * d;
        *xi += if NESTEROV { mu * *vi - lr * d } else { *vi };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn run(spec: &SgdSpec, lrs: &[f64], lambda: f64, x0: f64) -> Vec<f64> {
        let mut x = [x0];
        let mut st = spec.init_state(1);
        lrs.iter()
            .map(|&lr| {
                let g = [lambda * x[0]];
                spec.step(&StepParams::new(lr), &mut x, &g, &mut st);
                x[0]
            })
            .collect()
    }

    #[test]
    fn pytorch_momentum_by_hand() {
        // f = x²/2 (λ = 1), x0 = 1, lr 0.1, μ 0.9: b1 = 1 → x1 = 0.9;
        // g = 0.9, b2 = 0.9·1 + 0.9 = 1.8 → x2 = 0.72;
        // g = 0.72, b3 = 1.62 + 0.72 = 2.34 → x3 = 0.486.
        let s = SgdSpec {
            momentum: 0.9,
            ..Default::default()
        };
        let xs = run(&s, &[0.1; 3], 1.0, 1.0);
        for (a, b) in xs.iter().zip([0.9, 0.72, 0.486]) {
            assert_relative_eq!(*a, b, max_relative = 1e-14);
        }
    }

    #[test]
    fn nesterov_and_weight_decay_by_hand() {
        // Nesterov, μ 0.5, wd 0.1, lr 0.1, f = x²/2, x0 = 2:
        // d = 2 + 0.2 = 2.2, b = 2.2, d = 2.2 + 1.1 = 3.3 → x1 = 1.67;
        // d = 1.67 + 0.167 = 1.837, b = 1.1 + 1.837 = 2.937,
        // d = 1.837 + 1.4685 = 3.3055 → x2 = 1.33945.
        let s = SgdSpec {
            momentum: 0.5,
            nesterov: true,
            weight_decay: 0.1,
            ..Default::default()
        };
        let xs = run(&s, &[0.1; 2], 1.0, 2.0);
        assert_relative_eq!(xs[0], 1.67, max_relative = 1e-14);
        assert_relative_eq!(xs[1], 1.33945, max_relative = 1e-14);
    }

    /// On f = λx²/2 with h = lr·λ, heavy ball is stable for h < 2(1 + μ) and
    /// PyTorch's Nesterov for h < 2(1 + μ)/(1 + 2μ): the roots of
    /// z² − (1 + μ − h)z + μ and z² − (1 + μ)(1 − h)z + μ(1 − h) leave the
    /// unit circle at z = −1 there. The protein race depends on it (a stiff
    /// fold that heavy ball settles in, Nesterov leaves). 2% either side of
    /// the limit: 1,000 steps shrink or grow |x| by orders of magnitude.
    #[test]
    fn stability_limits_of_heavy_ball_and_nesterov() {
        for mu in [0.5, 0.9, 0.95] {
            for (nesterov, limit) in [
                (false, 2.0 * (1.0 + mu)),
                (true, 2.0 * (1.0 + mu) / (1.0 + 2.0 * mu)),
            ] {
                let s = SgdSpec {
                    momentum: mu,
                    nesterov,
                    ..Default::default()
                };
                let end = |h: f64| run(&s, &[h; 1000], 1.0, 1.0)[999].abs();
                assert!(end(0.98 * limit) < 1e-6, "mu {mu} nesterov {nesterov}");
                assert!(end(1.02 * limit) > 1e6, "mu {mu} nesterov {nesterov}");
            }
        }
    }

    #[test]
    fn forms_agree_at_constant_lr_and_differ_after_a_drop() {
        let py = SgdSpec {
            momentum: 0.9,
            ..Default::default()
        };
        let cl = SgdSpec {
            momentum: 0.9,
            momentum_form: MomentumForm::Classic,
            ..Default::default()
        };
        let a = run(&py, &[0.05; 20], 2.0, 1.0);
        let b = run(&cl, &[0.05; 20], 2.0, 1.0);
        for (p, q) in a.iter().zip(&b) {
            assert_relative_eq!(*p, *q, max_relative = 1e-12);
        }
        let mut lrs = vec![0.05; 10];
        lrs.extend([0.005; 2]);
        let a = run(&py, &lrs, 2.0, 1.0);
        let b = run(&cl, &lrs, 2.0, 1.0);
        // Classic keeps the velocity built at the old lr: its first step after
        // the drop is ten times the PyTorch one's velocity contribution.
        assert!((a[10] - a[9]).abs() < (b[10] - b[9]).abs());
    }
}
