//! Learning-rate schedules: pure functions of the step, as in optax.
//!
//! Step t = 0, 1, ... is the index of the update: `lr(t)` is the learning rate
//! of update t (PyTorch: the lr in force after t calls of `scheduler.step()`).
//! Schedules that cycle momentum return it from [`Schedule::momentum`]; it
//! overrides the optimizer's (SGD momentum, Adam beta1), as in PyTorch.
//! Composition (warm-up, sequential, restarts) offsets the step; nothing is
//! mutable, so a checkpoint of a schedule is just the step number.
//!
//! To add a schedule: a struct with `validate` and `lr` in the file of its
//! family, and one variant of [`Schedule`].

pub mod decay;

use crate::error::SpecError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    Constant(decay::Constant),
    Step(decay::StepDecay),
    Multistep(decay::MultiStep),
    Exponential(decay::Exponential),
}

impl Schedule {
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Constant(_) => "constant",
            Self::Step(_) => "step",
            Self::Multistep(_) => "multistep",
            Self::Exponential(_) => "exponential",
        }
    }

    /// Checks every field, naming the bad one and its value.
    pub fn validate(&self) -> Result<(), SpecError> {
        match self {
            Self::Constant(s) => s.validate(),
            Self::Step(s) => s.validate(),
            Self::Multistep(s) => s.validate(),
            Self::Exponential(s) => s.validate(),
        }
    }

    /// The learning rate of update `t`.
    pub fn lr(&self, t: u64) -> f64 {
        match self {
            Self::Constant(s) => s.lr,
            Self::Step(s) => s.lr(t),
            Self::Multistep(s) => s.lr(t),
            Self::Exponential(s) => s.lr(t),
        }
    }

    /// The momentum of update `t` where the schedule sets it.
    pub fn momentum(&self, _t: u64) -> Option<f64> {
        None
    }

    /// Whether [`Schedule::momentum`] is ever `Some`.
    pub fn sets_momentum(&self) -> bool {
        false
    }
}
