//! Stage 3 of a step, the optimizer update: the schedule gives update t its
//! learning rate and, where it cycles momentum, SGD's momentum or Adam's β₁;
//! the optimizer (functional, as in burn) updates `x` and its state.

use crate::config::plan::WeightDecayMode;
use crate::config::{Plan, RunSpec};
use crate::optimizer::{OptState, Optimizer, StepParams};
use crate::schedule::Schedule;

/// What update t uses, and what the trace reports of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hyper {
    pub params: StepParams,
    /// The momentum in force: the schedule's, else the optimizer's own.
    pub momentum: Option<f64>,
}

/// The optimizer and schedule of one run.
pub struct Update<'a> {
    optimizer: &'a dyn Optimizer,
    schedule: &'a Schedule,
    weight_decay_mode: WeightDecayMode,
    lr0: f64,
}

impl<'a> Update<'a> {
    pub fn new(plan: &'a Plan, spec: &RunSpec) -> Self {
        let resolved = &plan.optimizers[spec.optimizer];
        let schedule = &plan.schedules[spec.schedule].schedule;
        Self {
            optimizer: resolved.kind.spec(),
            schedule,
            weight_decay_mode: resolved.weight_decay_mode,
            lr0: schedule.lr(0),
        }
    }

    pub fn optimizer(&self) -> &dyn Optimizer {
        self.optimizer
    }

    /// The hyperparameters of update `t`. With `weight_decay_mode =
    /// "lr_compensated"` the weight decay scales by lr(0)/lr(t).
    pub fn at(&self, t: u64) -> Hyper {
        let lr = self.schedule.lr(t);
        let scheduled = self.schedule.momentum(t);
        let weight_decay_scale = match self.weight_decay_mode {
            WeightDecayMode::Fixed => 1.0,
            WeightDecayMode::LrCompensated if lr > 0.0 => self.lr0 / lr,
            WeightDecayMode::LrCompensated => 1.0,
        };
        Hyper {
            params: StepParams {
                lr,
                momentum: scheduled,
                weight_decay_scale,
            },
            momentum: scheduled.or_else(|| self.optimizer.momentum()),
        }
    }

    /// Fresh optimizer state for `dim` coordinates.
    pub fn init_state(&self, dim: usize) -> OptState {
        self.optimizer.init_state(dim)
    }

    /// Updates `x` in place with the transformed gradient `g`.
    pub fn apply(&self, hyper: &Hyper, x: &mut [f64], g: &[f64], state: &mut OptState) {
        self.optimizer.step(&hyper.params, x, g, state);
    }
}
