//! Composition: linear warm-up in front of a schedule, and PyTorch
//! `SequentialLR`. Both only shift the step; nothing is mutable.
//!
//! - warmup (W = warmup_steps, s = start_factor, f = then):
//!   t < W: f(0)·(s + (1 − s)·t/W); t ≥ W: f(t − W). Momentum: f's at 0
//!   during the warm-up, then f's at t − W. With s > 0 this is PyTorch
//!   `SequentialLR([LinearLR(s, 1, W), f], [W])`; with s = 0 and f = cosine
//!   (T = N − W) it is HF `get_cosine_schedule_with_warmup(W, N)` for t ≤ N,
//!   and optax `warmup_cosine_decay_schedule(init, peak, W, N, end)` is
//!   s = init/peak, f = cosine(peak, N − W, end) (HF rises again after N,
//!   valley and optax hold the end value).
//! - sequential (children f_0 … f_k, milestones m_1 < … < m_k):
//!   with i = number of milestones ≤ t, lr(t) = f_i(t − m_i) (m_0 = 0).
//!   PyTorch `SequentialLR` calls `child._update_lr(0)` at a milestone, which
//!   evaluates the child's closed form at its step 0, so every child starts
//!   from its own step 0 (e.g. `ExponentialLR` restarts at its base lr).
//!   In PyTorch all children share the optimizer's lr; valley lets each
//!   child carry its own `lr`. Where the active child sets no momentum,
//!   valley reports none (the optimizer's own), whereas PyTorch would keep
//!   whatever an earlier child last wrote into the param group.

use super::Schedule;
use super::ScheduleFn;
use crate::error::SpecError;
use serde::{Deserialize, Serialize};

/// Linear warm-up from `start_factor`·then(0) to then(0) over
/// `warmup_steps`, then `then` from its own step 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Warmup {
    pub warmup_steps: u64,
    #[serde(default)]
    pub start_factor: f64,
    pub then: Box<Schedule>,
}

impl crate::registry::Documented for Warmup {
    const SUMMARY: &'static str = "Linear warm-up in front of the schedule `then`: t < W: then(0)·(s + (1 − s)·t/W); t ≥ W: then(t − W), W = warmup_steps, s = start_factor. W = 0 is `then` itself (no warm-up), so that schedules of different shapes can be wrapped alike.";
    const CONVENTION: &'static str = "HF `get_*_schedule_with_warmup` (s = 0); PyTorch `SequentialLR([LinearLR, then])` (s > 0); optax `warmup_*` (s = init/peak).";
    const EXAMPLE: &'static str = "warmup_steps = 100\nthen = { kind = \"constant\", lr = 0.1 }";
}

impl Warmup {
    /// The warm-up factor at step `t < warmup_steps`.
    pub fn factor(&self, t: u64) -> f64 {
        let s = self.start_factor;
        s + (1.0 - s) * (t as f64 / self.warmup_steps as f64)
    }
}

impl ScheduleFn for Warmup {
    fn parts(&self) -> Vec<super::horizon::Part<'_>> {
        vec![super::horizon::Part {
            field: "then".to_string(),
            schedule: &self.then,
            start: self.warmup_steps,
            stop: None,
            counted: format!("after the warm-up (warmup_steps = {})", self.warmup_steps),
        }]
    }

    fn validate(&self) -> Result<(), SpecError> {
        if !(0.0..=1.0).contains(&self.start_factor) {
            return Err(SpecError::new(
                "start_factor",
                format!("must be in [0, 1], got {}", self.start_factor),
            ));
        }
        self.then.validate().map_err(|e| e.within("then"))
    }

    fn lr(&self, t: u64) -> f64 {
        if t < self.warmup_steps {
            self.then.lr(0) * self.factor(t)
        } else {
            self.then.lr(t - self.warmup_steps)
        }
    }

    fn momentum(&self, t: u64) -> Option<f64> {
        self.then.momentum(t.saturating_sub(self.warmup_steps))
    }

    fn sets_momentum(&self) -> bool {
        self.then.sets_momentum()
    }

    fn reads_loss(&self) -> bool {
        self.then.reads_loss()
    }

    /// A plateau in `then` starts counting at the end of the warm-up.
    fn lr_in_run(&self, t: u64, feed: &mut super::plateau::LossFeed) -> f64 {
        if t < self.warmup_steps {
            self.then.lr(0) * self.factor(t)
        } else {
            self.then.lr_in_run(t - self.warmup_steps, feed)
        }
    }
}

/// PyTorch `SequentialLR`: child i runs from milestone i on, counting its
/// own steps from 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sequential {
    pub schedules: Vec<Schedule>,
    pub milestones: Vec<u64>,
}

impl crate::registry::Documented for Sequential {
    const SUMMARY: &'static str = "Children in turn: with i = number of milestones ≤ t, lr(t) = schedules[i](t − m_i); each child counts its own steps from its milestone and carries its own lr.";
    const CONVENTION: &'static str = "PyTorch `SequentialLR`.";
    const EXAMPLE: &'static str = "milestones = [100]\nschedules = [{ kind = \"constant\", lr = 0.1 }, { kind = \"cosine\", lr = 0.1, total_steps = 900 }]";
}

impl Sequential {
    /// (active child, its local step) at global step `t`.
    pub fn locate(&self, t: u64) -> (&Schedule, u64) {
        let i = self.milestones.partition_point(|&m| m <= t);
        let start = if i == 0 { 0 } else { self.milestones[i - 1] };
        (&self.schedules[i], t - start)
    }
}

impl ScheduleFn for Sequential {
    fn parts(&self) -> Vec<super::horizon::Part<'_>> {
        self.schedules
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let start = if i == 0 { 0 } else { self.milestones[i - 1] };
                super::horizon::Part {
                    field: format!("schedules[{i}]"),
                    schedule: s,
                    start,
                    stop: self.milestones.get(i).copied(),
                    counted: if i == 0 {
                        "from step 0".to_string()
                    } else {
                        format!("from its milestone ({start})")
                    },
                }
            })
            .collect()
    }

    fn validate(&self) -> Result<(), SpecError> {
        if self.schedules.is_empty() {
            return Err(SpecError::new(
                "schedules",
                "must hold at least one schedule, got none",
            ));
        }
        if self.milestones.len() + 1 != self.schedules.len() {
            return Err(SpecError::new(
                "milestones",
                format!(
                    "must have one entry fewer than schedules ({}), got {} ({:?})",
                    self.schedules.len(),
                    self.milestones.len(),
                    self.milestones
                ),
            ));
        }
        if self.milestones.first() == Some(&0) {
            return Err(SpecError::new(
                "milestones",
                "must be >= 1 (a milestone at 0 skips the first schedule), got 0",
            ));
        }
        super::decay::check_increasing("milestones", &self.milestones)?;
        for (i, s) in self.schedules.iter().enumerate() {
            s.validate()
                .map_err(|e| e.within(&format!("schedules[{i}]")))?;
        }
        Ok(())
    }

    fn lr(&self, t: u64) -> f64 {
        let (s, local) = self.locate(t);
        s.lr(local)
    }

    fn momentum(&self, t: u64) -> Option<f64> {
        let (s, local) = self.locate(t);
        s.momentum(local)
    }

    fn sets_momentum(&self) -> bool {
        self.schedules.iter().any(Schedule::sets_momentum)
    }

    fn reads_loss(&self) -> bool {
        self.schedules.iter().any(Schedule::reads_loss)
    }

    /// A plateau stage starts afresh, at its own lr, at its milestone.
    fn lr_in_run(&self, t: u64, feed: &mut super::plateau::LossFeed) -> f64 {
        let (s, local) = self.locate(t);
        s.lr_in_run(local, feed)
    }
}
