//! Stage 3 of a step, the optimizer update: the schedule gives update t its
//! learning rate and, where it cycles momentum, SGD's momentum or Adam's β₁;
//! the optimizer (functional, as in burn) updates `x` and its state.
//!
//! With parameter groups ([`crate::optimizer::groups`]) the update is one
//! optimizer step per group over the group's coordinate range, with the
//! group's lr (its schedule, or the run's, times its `lr_scale`), its
//! optimizer fields and its own state, as PyTorch loops over
//! `param_groups`. Without groups the run takes the single step it always
//! took.

use crate::config::plan::WeightDecayMode;
use crate::config::{Plan, RunSpec};
use crate::optimizer::groups::Segment;
use crate::optimizer::{OptState, Optimizer, StepParams};
use crate::schedule::plateau::LossFeed;
use crate::schedule::Schedule;
use std::ops::Range;

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
    /// The optimizer's own momentum (asked once, not every step).
    own_momentum: Option<f64>,
    /// Whether the schedule reads the loss (asked once, not every step).
    reads_loss: bool,
    /// The groups' segments in coordinate order (empty without groups).
    segments: Vec<Segment<'a>>,
    /// For explicit group k, the index of its segment.
    group_segment: Vec<usize>,
}

impl<'a> Update<'a> {
    /// `players`: for a run with a two-player update rule, the players'
    /// coordinate ranges; without groups each player is then a segment of
    /// its own (with the table's fields and the run's lr), so that a player
    /// can step alone.
    pub fn new(
        plan: &'a Plan,
        spec: &RunSpec,
        dim: usize,
        players: Option<&[Range<usize>]>,
    ) -> Self {
        let resolved = &plan.optimizers[spec.optimizer];
        let schedule = &plan.schedules[spec.schedule].schedule;
        let segments = match (&resolved.groups, players) {
            (Some(g), _) => g.segments(dim),
            (None, Some(players)) => players
                .iter()
                .map(|r| Segment {
                    start: r.start,
                    end: r.end,
                    group: None,
                    lr_scale: 1.0,
                    schedule: None,
                    optimizer: None,
                })
                .collect(),
            (None, None) => Vec::new(),
        };
        let groups = resolved.groups.as_ref().map_or(0, |g| g.count());
        let group_segment = (0..groups)
            .map(|k| {
                segments
                    .iter()
                    .position(|s| s.group == Some(k))
                    .expect("every group has a segment")
            })
            .collect();
        Self {
            optimizer: resolved.kind.spec(),
            schedule,
            weight_decay_mode: resolved.weight_decay_mode,
            lr0: schedule.lr(0),
            own_momentum: resolved.kind.spec().momentum(),
            reads_loss: schedule.reads_loss(),
            segments,
            group_segment,
        }
    }

    pub fn optimizer(&self) -> &dyn Optimizer {
        self.optimizer
    }

    /// Number of explicit parameter groups (0 without groups).
    pub fn groups(&self) -> usize {
        self.group_segment.len()
    }

    fn weight_decay_scale(&self, lr: f64, lr0: f64) -> f64 {
        match self.weight_decay_mode {
            WeightDecayMode::Fixed => 1.0,
            WeightDecayMode::LrCompensated if lr > 0.0 => lr0 / lr,
            WeightDecayMode::LrCompensated => 1.0,
        }
    }

    /// Whether the schedule reads the run's loss (plateau): then the lr of
    /// update t comes from [`Self::at_in_run`], after the loss at x_t.
    pub fn reads_loss(&self) -> bool {
        self.reads_loss
    }

    /// The hyperparameters of update `t`. With `weight_decay_mode =
    /// "lr_compensated"` the weight decay scales by lr(0)/lr(t). For a
    /// schedule that reads the loss this is its lr before any loss is read;
    /// a run uses [`Self::at_in_run`].
    pub fn at(&self, t: u64) -> Hyper {
        self.with_lr(t, self.schedule.lr(t))
    }

    /// [`Self::at`] inside a run: `feed.loss` is the loss at x_t, and
    /// `feed` keeps what a schedule that reads the loss remembers. Called
    /// for every update in order.
    pub fn at_in_run(&self, t: u64, feed: &mut LossFeed) -> Hyper {
        self.with_lr(t, self.schedule.lr_in_run(t, feed))
    }

    fn with_lr(&self, t: u64, lr: f64) -> Hyper {
        let scheduled = self.schedule.momentum(t);
        Hyper {
            params: StepParams {
                lr,
                momentum: scheduled,
                weight_decay_scale: self.weight_decay_scale(lr, self.lr0),
            },
            momentum: scheduled.or(self.own_momentum),
        }
    }

    /// The step parameters of a segment at update `t`.
    fn segment_params(&self, s: &Segment, t: u64, hyper: &Hyper) -> StepParams {
        match s.schedule {
            None => {
                let lr = hyper.params.lr * s.lr_scale;
                StepParams {
                    lr,
                    momentum: hyper.params.momentum,
                    weight_decay_scale: self.weight_decay_scale(lr, self.lr0 * s.lr_scale),
                }
            }
            Some(own) => {
                let lr = own.lr(t) * s.lr_scale;
                StepParams {
                    lr,
                    momentum: own.momentum(t),
                    weight_decay_scale: self.weight_decay_scale(lr, own.lr(0) * s.lr_scale),
                }
            }
        }
    }

    /// Appends the lr of every explicit group at update `t` (group order).
    pub fn push_group_lrs(&self, t: u64, hyper: &Hyper, out: &mut Vec<f64>) {
        for &i in &self.group_segment {
            out.push(self.segment_params(&self.segments[i], t, hyper).lr);
        }
    }

    /// Whether the optimizer evaluates the model at a point of its own
    /// (schedule-free's x) rather than at the parameters.
    pub fn has_eval_point(&self) -> bool {
        self.optimizer.has_eval_point()
    }

    /// Copies the optimizer's evaluation point (schedule-free's x, per
    /// group segment where there are groups) into `out`; `false` where it
    /// has none yet (before the first update: x is the parameters then).
    pub fn eval_point_into(
        &self,
        state: &OptState,
        group_states: &[OptState],
        out: &mut [f64],
    ) -> bool {
        if self.segments.is_empty() {
            return match self.optimizer.eval_point(state) {
                Some(x) => {
                    out.copy_from_slice(x);
                    true
                }
                None => false,
            };
        }
        for (s, st) in self.segments.iter().zip(group_states) {
            match s.optimizer.unwrap_or(self.optimizer).eval_point(st) {
                Some(x) => out[s.range()].copy_from_slice(x),
                None => return false,
            }
        }
        true
    }

    /// Fresh optimizer state for `dim` coordinates.
    pub fn init_state(&self, dim: usize) -> OptState {
        self.optimizer.init_state(dim)
    }

    /// Fresh state for each group segment (empty without groups).
    pub fn init_group_states(&self) -> Vec<OptState> {
        self.segments
            .iter()
            .map(|s| {
                s.optimizer
                    .unwrap_or(self.optimizer)
                    .init_state(s.end - s.start)
            })
            .collect()
    }

    /// Updates `x` in place with the transformed gradient `g`: one step, or
    /// one step per group segment with `group_states`.
    pub fn apply(
        &self,
        t: u64,
        hyper: &Hyper,
        x: &mut [f64],
        g: &[f64],
        state: &mut OptState,
        group_states: &mut [OptState],
    ) {
        if self.segments.is_empty() {
            self.optimizer.step(&hyper.params, x, g, state);
            return;
        }
        for (s, st) in self.segments.iter().zip(group_states) {
            let params = self.segment_params(s, t, hyper);
            s.optimizer.unwrap_or(self.optimizer).step(
                &params,
                &mut x[s.range()],
                &g[s.range()],
                st,
            );
        }
    }

    /// With segments (a run with a two-player rule): updates the
    /// coordinates of `range` only, one step per segment inside it. With
    /// `unit_lr` every segment steps with lr 1 (the optimizer's direction,
    /// for `optimistic`); its state advances as in a real step.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_in(
        &self,
        t: u64,
        hyper: &Hyper,
        x: &mut [f64],
        g: &[f64],
        group_states: &mut [OptState],
        range: &Range<usize>,
        unit_lr: bool,
    ) {
        for (s, st) in self.segments.iter().zip(group_states) {
            if s.start < range.start || s.end > range.end {
                continue;
            }
            let mut params = self.segment_params(s, t, hyper);
            if unit_lr {
                params.lr = 1.0;
            }
            s.optimizer.unwrap_or(self.optimizer).step(
                &params,
                &mut x[s.range()],
                &g[s.range()],
                st,
            );
        }
    }

    /// Writes the lr of every coordinate at update `t` into `out` (the
    /// run's lr without segments).
    pub fn coord_lrs(&self, t: u64, hyper: &Hyper, out: &mut [f64]) {
        if self.segments.is_empty() {
            out.fill(hyper.params.lr);
            return;
        }
        for s in &self.segments {
            out[s.range()].fill(self.segment_params(s, t, hyper).lr);
        }
    }

    /// Writes the momentum a schedule sets for every coordinate at update
    /// `t` into `out` (`None`: the optimizer's own).
    pub fn coord_momenta(&self, t: u64, hyper: &Hyper, out: &mut [Option<f64>]) {
        if self.segments.is_empty() {
            out.fill(hyper.params.momentum);
            return;
        }
        for s in &self.segments {
            out[s.range()].fill(self.segment_params(s, t, hyper).momentum);
        }
    }
}
