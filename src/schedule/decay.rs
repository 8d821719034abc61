//! Monotone decays: constant, step, multistep, exponential, polynomial,
//! linear, inverse-time and inverse-square-root.
//!
//! - constant: lr.
//! - step (PyTorch `StepLR`): lr·γ^⌊t/step_size⌋.
//! - multistep (`MultiStepLR`): lr·γ^(number of milestones ≤ t).
//! - exponential (`ExponentialLR`; optax `exponential_decay`):
//!   lr·γ^(t/decay_steps), the exponent floored when `staircase`.
//! - polynomial (`PolynomialLR`; optax `polynomial_schedule`):
//!   end_lr + (lr − end_lr)·(1 − min(t, T)/T)^power.
//! - linear (`LinearLR`): lr·(s + (e − s)·min(t, T)/T).
//! - inverse_time (Keras `InverseTimeDecay`): lr / (1 + rate·t/decay_steps),
//!   t/decay_steps floored when `staircase`.
//! - inverse_sqrt (HF `get_inverse_sqrt_schedule` without warm-up):
//!   lr / √(1 + t/timescale).
//!
//! PyTorch computes `ExponentialLR`, `PolynomialLR` and `LinearLR`
//! recursively (lr_t = lr_{t−1}·factor); valley evaluates the closed forms
//! (PyTorch's `_get_closed_form_lr`). Over the 300-step golden cases the
//! recursive and closed forms differ by at most 4.4e-15 relative (measured by
//! `scripts/golden_schedules.py`), so valley is checked against the values
//! PyTorch actually produces.
//!
//! # Calibration (claim C8)
//!
//! `step` and `exponential` accept `half_life` (in steps) instead of `gamma`:
//! the lr halves every `half_life` steps, i.e. γ = 2^(−step_size/half_life)
//! for step decay and γ = 2^(−decay_steps/half_life) for exponential decay.
//! Step and exponential decay with the same half-life coincide at every
//! multiple of `step_size` (the step decay lies above in between).
//!
//! Recipe, "same final lr at step N": choose the step decay (lr, S, γ); its
//! lr at N is lr·γ^⌊N/S⌋. Give the exponential decay
//! `half_life = half_life_for_final_lr(lr, step_lr(N), N)`
//! (= N·ln 2 / ln(lr/lr_N)); when S divides N this is the step decay's own
//! half-life S·ln 2/ln(1/γ), so "same half-life" and "same final lr" agree.

use super::ScheduleFn;
use crate::error::{check, SpecError};
use serde::{Deserialize, Serialize};

fn default_gamma() -> f64 {
    0.1
}

fn one() -> u64 {
    1
}

fn one_f() -> f64 {
    1.0
}

fn zero_f() -> f64 {
    0.0
}

fn one_third() -> f64 {
    1.0 / 3.0
}

fn five() -> u64 {
    5
}

/// γ^n for a step count `n`, exact repeated squaring for any `n`.
pub fn pow_steps(gamma: f64, n: u64) -> f64 {
    match i32::try_from(n) {
        Ok(k) => gamma.powi(k),
        Err(_) => gamma.powf(n as f64),
    }
}

/// The decay factor per `period` steps that halves the lr every `half_life`
/// steps: 2^(−period/half_life).
pub fn gamma_from_half_life(period: u64, half_life: f64) -> f64 {
    (-(period as f64) / half_life).exp2()
}

/// The half-life (steps) of an exponential decay that goes from `lr` to
/// `final_lr` in `n` steps: n·ln 2 / ln(lr/final_lr).
pub fn half_life_for_final_lr(lr: f64, final_lr: f64, n: u64) -> f64 {
    n as f64 * std::f64::consts::LN_2 / (lr / final_lr).ln()
}

/// Resolves the γ / half-life alternative: exactly one may be given; when
/// neither is, `default` applies (`None`: one is required).
fn check_gamma_or_half_life(
    gamma: Option<f64>,
    half_life: Option<f64>,
    default: Option<f64>,
) -> Result<(), SpecError> {
    match (gamma, half_life) {
        (Some(g), None) => check::positive("gamma", g),
        (None, Some(h)) => check::positive("half_life", h),
        (Some(g), Some(h)) => Err(SpecError::new(
            "half_life",
            format!("give either gamma or half_life, not both (gamma = {g}, half_life = {h})"),
        )),
        (None, None) if default.is_some() => Ok(()),
        (None, None) => Err(SpecError::new("gamma", "missing: give gamma or half_life")),
    }
}

fn check_lr(field: &str, v: f64) -> Result<(), SpecError> {
    check::non_negative(field, v)
}

/// lr, for every step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constant {
    pub lr: f64,
}

impl crate::registry::Documented for Constant {
    const SUMMARY: &'static str = "lr(t) = lr.";
    const CONVENTION: &'static str = "PyTorch (no scheduler); optax `constant_schedule`.";
    const EXAMPLE: &'static str = "lr = 0.1";
}

impl ScheduleFn for Constant {
    fn validate(&self) -> Result<(), SpecError> {
        check_lr("lr", self.lr)
    }

    fn lr(&self, _t: u64) -> f64 {
        self.lr
    }

    fn period(&self) -> Option<u64> {
        Some(1)
    }
}

/// PyTorch `StepLR`: lr·γ^⌊t/step_size⌋; γ may be given as `half_life`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDecay {
    pub lr: f64,
    pub step_size: u64,
    /// Decay factor per `step_size` steps (default 0.1 unless `half_life`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
    /// Steps for the lr to halve (alternative to `gamma`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_life: Option<f64>,
}

impl crate::registry::Documented for StepDecay {
    const SUMMARY: &'static str = "lr(t) = lr·γ^⌊t/step_size⌋; give `gamma` (0.1 when neither is given) or `half_life` (γ = 2^(−step_size/half_life)).";
    const CONVENTION: &'static str = "PyTorch `StepLR`.";
    const EXAMPLE: &'static str = "lr = 0.1\nstep_size = 100";
}

impl StepDecay {
    /// The effective decay factor per `step_size` steps.
    pub fn gamma(&self) -> f64 {
        match (self.gamma, self.half_life) {
            (Some(g), _) => g,
            (None, Some(h)) => gamma_from_half_life(self.step_size, h),
            (None, None) => default_gamma(),
        }
    }
}

impl ScheduleFn for StepDecay {
    fn validate(&self) -> Result<(), SpecError> {
        check_lr("lr", self.lr)?;
        check::at_least("step_size", self.step_size, 1)?;
        check_gamma_or_half_life(self.gamma, self.half_life, Some(default_gamma()))
    }

    fn lr(&self, t: u64) -> f64 {
        self.lr * pow_steps(self.gamma(), t / self.step_size)
    }
}

/// PyTorch `MultiStepLR`: lr·γ^(number of milestones ≤ t).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiStep {
    pub lr: f64,
    pub milestones: Vec<u64>,
    #[serde(default = "default_gamma")]
    pub gamma: f64,
}

impl crate::registry::Documented for MultiStep {
    const SUMMARY: &'static str = "lr(t) = lr·γ^(number of milestones ≤ t).";
    const CONVENTION: &'static str = "PyTorch `MultiStepLR`.";
    const EXAMPLE: &'static str = "lr = 0.1\nmilestones = [100, 200]";
}

/// Checks that `milestones` is strictly increasing.
pub(crate) fn check_increasing(field: &str, milestones: &[u64]) -> Result<(), SpecError> {
    if let Some(w) = milestones.windows(2).find(|w| w[0] >= w[1]) {
        return Err(SpecError::new(
            field,
            format!("must be strictly increasing, got {} then {}", w[0], w[1]),
        ));
    }
    Ok(())
}

impl ScheduleFn for MultiStep {
    fn validate(&self) -> Result<(), SpecError> {
        check_lr("lr", self.lr)?;
        check::positive("gamma", self.gamma)?;
        check_increasing("milestones", &self.milestones)
    }

    fn lr(&self, t: u64) -> f64 {
        let passed = self.milestones.partition_point(|&m| m <= t);
        self.lr * pow_steps(self.gamma, passed as u64)
    }
}

/// PyTorch `ExponentialLR` / optax `exponential_decay`:
/// lr·γ^(t/decay_steps); γ may be given as `half_life`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exponential {
    pub lr: f64,
    /// Decay factor per `decay_steps` steps (or give `half_life`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
    /// Steps for the lr to halve (alternative to `gamma`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_life: Option<f64>,
    #[serde(default = "one")]
    pub decay_steps: u64,
    #[serde(default)]
    pub staircase: bool,
}

impl crate::registry::Documented for Exponential {
    const SUMMARY: &'static str = "lr(t) = lr·γ^(t/decay_steps), the exponent floored when `staircase`; give `gamma` or `half_life` (γ = 2^(−decay_steps/half_life)).";
    const CONVENTION: &'static str =
        "optax `exponential_decay` (decay_steps = 1 is PyTorch `ExponentialLR`).";
    const EXAMPLE: &'static str = "lr = 0.1\ngamma = 0.99";
    const ALTERNATIVES: &'static [&'static str] = &["lr = 0.1\nhalf_life = 1000"];
}

impl Exponential {
    /// The effective decay factor per `decay_steps` steps.
    pub fn gamma(&self) -> f64 {
        match (self.gamma, self.half_life) {
            (Some(g), _) => g,
            (None, Some(h)) => gamma_from_half_life(self.decay_steps, h),
            (None, None) => f64::NAN,
        }
    }
}

impl ScheduleFn for Exponential {
    fn validate(&self) -> Result<(), SpecError> {
        check_lr("lr", self.lr)?;
        check_gamma_or_half_life(self.gamma, self.half_life, None)?;
        check::at_least("decay_steps", self.decay_steps, 1)
    }

    fn lr(&self, t: u64) -> f64 {
        let gamma = self.gamma();
        if self.staircase || self.decay_steps == 1 {
            self.lr * pow_steps(gamma, t / self.decay_steps)
        } else {
            self.lr * gamma.powf(t as f64 / self.decay_steps as f64)
        }
    }
}

/// PyTorch `PolynomialLR` (end_lr = 0) / optax `polynomial_schedule`:
/// end_lr + (lr − end_lr)·(1 − min(t, T)/T)^power.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Polynomial {
    pub lr: f64,
    pub total_steps: u64,
    #[serde(default = "one_f")]
    pub power: f64,
    #[serde(default = "zero_f")]
    pub end_lr: f64,
}

impl crate::registry::Documented for Polynomial {
    const SUMMARY: &'static str =
        "lr(t) = end_lr + (lr − end_lr)·(1 − min(t, T)/T)^power, T = total_steps, held after T.";
    const CONVENTION: &'static str =
        "PyTorch `PolynomialLR` (end_lr = 0); optax `polynomial_schedule`.";
    const EXAMPLE: &'static str = "lr = 0.1\ntotal_steps = 1000";
}

impl ScheduleFn for Polynomial {
    fn end(&self) -> Option<super::horizon::End> {
        Some(super::horizon::End {
            field: "total_steps",
            value: self.total_steps,
            steps: self.total_steps,
            reaches: format!("end_lr = {}", self.end_lr),
        })
    }

    fn validate(&self) -> Result<(), SpecError> {
        check_lr("lr", self.lr)?;
        check::at_least("total_steps", self.total_steps, 1)?;
        check::positive("power", self.power)?;
        check_lr("end_lr", self.end_lr)
    }

    fn lr(&self, t: u64) -> f64 {
        let frac = 1.0 - t.min(self.total_steps) as f64 / self.total_steps as f64;
        (self.lr - self.end_lr) * frac.powf(self.power) + self.end_lr
    }
}

/// PyTorch `LinearLR`: lr·(s + (e − s)·min(t, T)/T).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Linear {
    pub lr: f64,
    #[serde(default = "one_third")]
    pub start_factor: f64,
    #[serde(default = "one_f")]
    pub end_factor: f64,
    #[serde(default = "five")]
    pub total_steps: u64,
}

impl crate::registry::Documented for Linear {
    const SUMMARY: &'static str =
        "lr(t) = lr·(s + (e − s)·min(t, T)/T), s = start_factor, e = end_factor, T = total_steps.";
    const CONVENTION: &'static str = "PyTorch `LinearLR`.";
    const EXAMPLE: &'static str = "lr = 0.1";
}

impl ScheduleFn for Linear {
    fn end(&self) -> Option<super::horizon::End> {
        Some(super::horizon::End {
            field: "total_steps",
            value: self.total_steps,
            steps: self.total_steps,
            reaches: format!("end_factor·lr = {}", self.end_factor * self.lr),
        })
    }

    fn validate(&self) -> Result<(), SpecError> {
        check_lr("lr", self.lr)?;
        if !(self.start_factor > 0.0 && self.start_factor <= 1.0) {
            return Err(SpecError::new(
                "start_factor",
                format!("must be in (0, 1], got {}", self.start_factor),
            ));
        }
        if !(0.0..=1.0).contains(&self.end_factor) {
            return Err(SpecError::new(
                "end_factor",
                format!("must be in [0, 1], got {}", self.end_factor),
            ));
        }
        check::at_least("total_steps", self.total_steps, 1)
    }

    fn lr(&self, t: u64) -> f64 {
        let s = self.start_factor;
        let e = self.end_factor;
        self.lr * (s + (e - s) * t.min(self.total_steps) as f64 / self.total_steps as f64)
    }
}

/// Keras `InverseTimeDecay`: lr / (1 + decay_rate·p), p = t/decay_steps
/// (floored when `staircase`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InverseTime {
    pub lr: f64,
    pub decay_rate: f64,
    #[serde(default = "one")]
    pub decay_steps: u64,
    #[serde(default)]
    pub staircase: bool,
}

impl crate::registry::Documented for InverseTime {
    const SUMMARY: &'static str =
        "lr(t) = lr/(1 + decay_rate·t/decay_steps), t/decay_steps floored when `staircase`.";
    const CONVENTION: &'static str =
        "Keras `InverseTimeDecay` (formula re-implemented, see the golden script).";
    const EXAMPLE: &'static str = "lr = 0.1\ndecay_rate = 0.5";
}

impl ScheduleFn for InverseTime {
    fn validate(&self) -> Result<(), SpecError> {
        check_lr("lr", self.lr)?;
        check::non_negative("decay_rate", self.decay_rate)?;
        check::at_least("decay_steps", self.decay_steps, 1)
    }

    fn lr(&self, t: u64) -> f64 {
        let p = if self.staircase {
            (t / self.decay_steps) as f64
        } else {
            t as f64 / self.decay_steps as f64
        };
        self.lr / (1.0 + self.decay_rate * p)
    }
}

/// lr / √(1 + t/timescale) (HF `get_inverse_sqrt_schedule`, no warm-up).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InverseSqrt {
    pub lr: f64,
    #[serde(default = "one_f")]
    pub timescale: f64,
}

impl crate::registry::Documented for InverseSqrt {
    const SUMMARY: &'static str = "lr(t) = lr/√(1 + t/timescale).";
    const CONVENTION: &'static str = "HF transformers `get_inverse_sqrt_schedule` without warm-up.";
    const EXAMPLE: &'static str = "lr = 0.1";
}

impl ScheduleFn for InverseSqrt {
    fn validate(&self) -> Result<(), SpecError> {
        check_lr("lr", self.lr)?;
        check::positive("timescale", self.timescale)
    }

    fn lr(&self, t: u64) -> f64 {
        self.lr / (1.0 + t as f64 / self.timescale).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs()
    }

    #[test]
    fn step_half_life_halves_every_half_life() {
        // step_size 250, half-life 1000: γ = 2^(-1/4) = 0.8408964152537145.
        let s = StepDecay {
            lr: 0.08,
            step_size: 250,
            gamma: None,
            half_life: Some(1000.0),
        };
        s.validate().unwrap();
        assert!(rel(s.gamma(), 0.840_896_415_253_714_5) < 1e-15);
        assert!(rel(s.lr(1000), 0.04) < 1e-14);
        assert!(rel(s.lr(2000), 0.02) < 1e-14);
        // Between multiples it holds: 3 decays at t = 999.
        assert!(rel(s.lr(999), 0.08 * 0.840_896_415_253_714_5_f64.powi(3)) < 1e-14);
    }

    #[test]
    fn exponential_half_life_and_sync_with_step() {
        let e = Exponential {
            lr: 0.08,
            gamma: None,
            half_life: Some(1000.0),
            decay_steps: 1,
            staircase: false,
        };
        e.validate().unwrap();
        assert!(rel(e.lr(1000), 0.04) < 1e-12);
        assert!(rel(e.lr(3000), 0.01) < 1e-12);
        // Same half-life as the step decay above: equal at multiples of 250,
        // e.g. t = 750: 0.08·2^(-3/4) = 0.04756828460010884.
        let s = StepDecay {
            lr: 0.08,
            step_size: 250,
            gamma: None,
            half_life: Some(1000.0),
        };
        assert!(rel(e.lr(750), 0.047_568_284_600_108_84) < 1e-12);
        assert!(rel(s.lr(750), 0.047_568_284_600_108_84) < 1e-12);
    }

    #[test]
    fn final_lr_recipe() {
        // Step decay lr 0.1, S = 300, γ = 0.5 reaches 0.1/8 at N = 1000
        // (⌊1000/300⌋ = 3). Exponential half-life N/3 = 333.33… does too.
        let h = half_life_for_final_lr(0.1, 0.0125, 1000);
        assert!(rel(h, 1000.0 / 3.0) < 1e-14);
        let e = Exponential {
            lr: 0.1,
            gamma: None,
            half_life: Some(h),
            decay_steps: 1,
            staircase: false,
        };
        assert!(rel(e.lr(1000), 0.0125) < 1e-12);
    }

    #[test]
    fn gamma_and_half_life_are_exclusive() {
        let both = Exponential {
            lr: 0.1,
            gamma: Some(0.9),
            half_life: Some(10.0),
            decay_steps: 1,
            staircase: false,
        };
        assert_eq!(both.validate().unwrap_err().field, "half_life");
        let none = Exponential {
            gamma: None,
            half_life: None,
            ..both.clone()
        };
        assert_eq!(none.validate().unwrap_err().field, "gamma");
        // Step decay defaults to γ = 0.1: lr(10) = 0.1·0.1 with step_size 10.
        let s = StepDecay {
            lr: 0.1,
            step_size: 10,
            gamma: None,
            half_life: None,
        };
        s.validate().unwrap();
        assert!(rel(s.lr(10), 0.01) < 1e-15);
        let bad = StepDecay {
            half_life: Some(-3.0),
            ..s
        };
        let err = bad.validate().unwrap_err();
        assert_eq!(err.field, "half_life");
        assert!(err.message.contains("-3"), "{}", err.message);
    }

    #[test]
    fn worked_examples() {
        // 0.1·0.9^(250/1000) and 0.1·(1 − 250/1000)^2, computed by hand.
        let e = Exponential {
            lr: 0.1,
            gamma: Some(0.9),
            half_life: None,
            decay_steps: 1000,
            staircase: false,
        };
        assert!(rel(e.lr(250), 0.097_400_374_642_529_68) < 1e-15);
        let p = Polynomial {
            lr: 0.1,
            total_steps: 1000,
            power: 2.0,
            end_lr: 0.0,
        };
        assert!(rel(p.lr(250), 0.05625) < 1e-15);
    }

    #[test]
    fn pow_steps_beyond_i32() {
        let n = 3_000_000_000u64;
        assert_eq!(pow_steps(1.0, n), 1.0);
        assert!(rel(pow_steps(0.999_999_999_9, n), (-0.3_f64).exp()) < 1e-6);
    }
}
