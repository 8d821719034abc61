//! Optimizers, functional in the manner of burn: a spec holds only
//! hyperparameters; the runner passes the learning rate (and any momentum the
//! schedule sets) into [`Optimizer::step`], which updates `x` and the
//! optimizer's [`OptState`] in place. Schedules and optimizers stay apart, and
//! a checkpoint of a run is its step number plus the state buffers.
//!
//! Update rules follow torch.optim exactly, with PyTorch's defaults.
//!
//! To add an optimizer: write `src/optimizer/<name>.rs` with a spec struct that
//! implements [`Optimizer`], then its `mod` line and its line in
//! [`OptimizerKind`]. See CONTRIBUTING.md.

pub mod adam;
pub mod clip;
pub mod game;
pub mod groups;
pub mod noise;
pub mod precision;
pub mod rmsprop;
pub mod schedulefree;
pub mod sgd;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod schedulefree_golden;

use crate::error::SpecError;

/// What one update needs from outside the optimizer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepParams {
    /// The learning rate of this update.
    pub lr: f64,
    /// Momentum set by the schedule (cyclic, onecycle): SGD's momentum or
    /// Adam's beta1. `None`: the optimizer's own.
    pub momentum: Option<f64>,
    /// Multiplies the optimizer's weight decay this step (1 unless a
    /// weight-decay schedule is in force).
    pub weight_decay_scale: f64,
}

impl StepParams {
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            momentum: None,
            weight_decay_scale: 1.0,
        }
    }
}

/// The mutable state of an optimizer for one run: a step counter and a few
/// buffers of length `dim`, allocated once by [`Optimizer::init_state`].
#[derive(Debug, Clone, PartialEq)]
pub struct OptState {
    /// Updates taken so far.
    pub step: u64,
    /// Named by each optimizer (momentum buffer, first and second moments).
    pub slots: Vec<Vec<f64>>,
    /// Whether each slot has been written yet (PyTorch creates the momentum
    /// buffer lazily, as a copy of the first gradient it sees).
    pub started: Vec<bool>,
    /// Running scalars, named by each optimizer (schedule-free: the sum of
    /// the averaging weights and the largest lr so far).
    pub scalars: [f64; 2],
}

impl OptState {
    pub fn new(dim: usize, slots: usize) -> Self {
        Self {
            step: 0,
            slots: vec![vec![0.0; dim]; slots],
            started: vec![false; slots],
            scalars: [0.0; 2],
        }
    }
}

/// A first-order optimizer.
pub trait Optimizer: Send + Sync {
    /// Checks every hyperparameter, naming the bad one.
    fn validate(&self) -> Result<(), SpecError>;

    /// Fresh state for a problem of `dim` variables.
    fn init_state(&self, dim: usize) -> OptState;

    /// One update of `x` in place, given the (noisy) gradient at `x`. Must not
    /// allocate.
    fn step(&self, p: &StepParams, x: &mut [f64], grad: &[f64], state: &mut OptState);

    /// The momentum this optimizer uses when the schedule sets none (SGD's
    /// momentum, Adam's beta1), for the trace; `None` where it has none.
    fn momentum(&self) -> Option<f64>;

    /// The decoupled weight-decay shrink factor applied to `x` this step
    /// (AdamW: 1 − lr·wd), `None` where weight decay is not decoupled.
    fn decoupled_shrink(&self, _p: &StepParams) -> Option<f64> {
        None
    }

    /// Where the model is evaluated, where that is not the parameters the
    /// gradient is taken at: schedule-free's x, the point `optimizer.eval()`
    /// gives, held in `state`; `None` before the first step and for every
    /// other optimizer.
    fn eval_point<'a>(&self, _state: &'a OptState) -> Option<&'a [f64]> {
        None
    }

    /// Whether [`Optimizer::eval_point`] is ever `Some`.
    fn has_eval_point(&self) -> bool {
        false
    }
}

crate::kinds! {
    /// The `kind` of an `[[optimizer]]` table. `name`, `noise` and
    /// `weight_decay_mode` are common to every kind and handled by the
    /// configuration layer.
    pub enum OptimizerKind: dyn Optimizer {
        Sgd(sgd::SgdSpec) = "sgd",
        Adam(adam::AdamSpec) = "adam",
        AdamW(adam::AdamWSpec) = "adamw",
        Rmsprop(rmsprop::RmspropSpec) = "rmsprop",
        SgdScheduleFree(schedulefree::SgdScheduleFree) = "sgd_schedulefree",
        AdamWScheduleFree(schedulefree::AdamWScheduleFree) = "adamw_schedulefree",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_with_torch_defaults() {
        let k: OptimizerKind = serde_json::from_str(r#"{"kind": "adamw"}"#).unwrap();
        assert_eq!(k.kind_name(), "adamw");
        let OptimizerKind::AdamW(a) = &k else {
            panic!("{k:?}")
        };
        assert_eq!(
            (a.beta1, a.beta2, a.eps, a.weight_decay),
            (0.9, 0.999, 1e-8, 0.01)
        );
        let k: OptimizerKind = serde_json::from_str(r#"{"kind": "adam"}"#).unwrap();
        let OptimizerKind::Adam(a) = &k else {
            panic!("{k:?}")
        };
        assert_eq!((a.weight_decay, a.amsgrad), (0.0, false));
        let k: OptimizerKind =
            serde_json::from_str(r#"{"kind": "rmsprop", "centered": true}"#).unwrap();
        let OptimizerKind::Rmsprop(r) = &k else {
            panic!("{k:?}")
        };
        assert_eq!((r.alpha, r.eps, r.momentum), (0.99, 1e-8, 0.0));
        assert!(r.centered);
        assert!(serde_json::from_str::<OptimizerKind>(r#"{"kind": "adam", "betas": 1}"#).is_err());
    }
}
