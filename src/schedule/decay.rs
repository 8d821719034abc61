//! Monotone decays: constant, step, multistep, exponential.
//!
//! - constant: lr.
//! - step (PyTorch StepLR): lr·γ^⌊t/step_size⌋.
//! - multistep (MultiStepLR): lr·γ^(number of milestones ≤ t).
//! - exponential (ExponentialLR; optax `exponential_decay`):
//!   lr·γ^(t/decay_steps), the exponent floored when `staircase`.

use crate::error::{check, SpecError};
use serde::{Deserialize, Serialize};

fn default_gamma() -> f64 {
    0.1
}

fn one() -> u64 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constant {
    pub lr: f64,
}

impl Constant {
    pub fn validate(&self) -> Result<(), SpecError> {
        check::non_negative("lr", self.lr)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDecay {
    pub lr: f64,
    pub step_size: u64,
    #[serde(default = "default_gamma")]
    pub gamma: f64,
}

impl StepDecay {
    pub fn validate(&self) -> Result<(), SpecError> {
        check::non_negative("lr", self.lr)?;
        check::at_least("step_size", self.step_size, 1)?;
        check::positive("gamma", self.gamma)
    }

    pub fn lr(&self, t: u64) -> f64 {
        self.lr * self.gamma.powi((t / self.step_size) as i32)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiStep {
    pub lr: f64,
    pub milestones: Vec<u64>,
    #[serde(default = "default_gamma")]
    pub gamma: f64,
}

impl MultiStep {
    pub fn validate(&self) -> Result<(), SpecError> {
        check::non_negative("lr", self.lr)?;
        check::positive("gamma", self.gamma)?;
        if let Some(w) = self.milestones.windows(2).find(|w| w[0] >= w[1]) {
            return Err(SpecError::new(
                "milestones",
                format!("must be strictly increasing, got {} then {}", w[0], w[1]),
            ));
        }
        Ok(())
    }

    pub fn lr(&self, t: u64) -> f64 {
        let passed = self.milestones.partition_point(|&m| m <= t);
        self.lr * self.gamma.powi(passed as i32)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exponential {
    pub lr: f64,
    pub gamma: f64,
    #[serde(default = "one")]
    pub decay_steps: u64,
    #[serde(default)]
    pub staircase: bool,
}

impl Exponential {
    pub fn validate(&self) -> Result<(), SpecError> {
        check::non_negative("lr", self.lr)?;
        check::positive("gamma", self.gamma)?;
        check::at_least("decay_steps", self.decay_steps, 1)
    }

    pub fn lr(&self, t: u64) -> f64 {
        if self.staircase || self.decay_steps == 1 {
            self.lr * self.gamma.powi((t / self.decay_steps) as i32)
        } else {
            self.lr * self.gamma.powf(t as f64 / self.decay_steps as f64)
        }
    }
}
