//! ReduceLROnPlateau: the lr is cut by `factor` when the loss stops
//! improving. PyTorch `torch.optim.lr_scheduler.ReduceLROnPlateau`, every
//! field and default.
//!
//! Timing: before update t, for t ≥ 1 with t mod every = 0, `step(metric)`
//! is called with the loss at x_t (the trace's `loss` of row t); the lr it
//! leaves is the lr of update t. Update 0 has `lr`. Inside `warmup` the
//! count starts at the end of the warm-up (local step 0 there); as a stage
//! of `sequential` it starts afresh, at `lr`, at its milestone.
//!
//! `step(metric)`, as PyTorch's: `metric` is better than `best` when
//! (mode min, rel) metric < best·(1 − threshold), (min, abs) metric < best −
//! threshold, (max, rel) metric > best·(1 + threshold), (max, abs) metric >
//! best + threshold; `best` starts at +∞ (min) or −∞ (max). Better: best ←
//! metric, bad ← 0; otherwise bad ← bad + 1. In cooldown (counter > 0) the
//! counter falls by one and bad ← 0. When bad > patience: new = max(lr·factor,
//! min_lr), taken only if lr − new > eps; the cooldown counter ← cooldown and
//! bad ← 0. So the first cut comes at the (patience + 1)-th call without
//! improvement. A NaN metric is never better.
//!
//! `convention = "optax"`: optax `contrib.reduce_on_plateau` (`threshold`
//! is its rtol, with `atol` and `accumulation_size`; `min_lr`/`lr` its
//! min_scale). Called before every update t with t mod every = 0, t = 0
//! included (an optax loop passes the loss of the current parameters to
//! each `update`); the reads are averaged over `accumulation_size` calls,
//! then: improved when avg < (1 − rtol)·best − atol; otherwise the count
//! of bad decisions grows, and the scale is cut when it reaches `patience`
//! (PyTorch: when it exceeds it); in cooldown the count is held at 0 (the
//! best still updates); no `eps`; mode min only.
//!
//! The loss read is the trace's: the full-data loss where minibatch noise
//! is on (computed every step while a plateau schedule runs, as a
//! validation loss is every epoch). Its lr depends on the run, so
//! `valley schedule` cannot print it; `lr(t)` without a run is `lr`.

use super::ScheduleFn;
use crate::error::{check, SpecError};
use serde::{Deserialize, Serialize};

fn default_factor() -> f64 {
    0.1
}
fn default_patience() -> u64 {
    10
}
fn default_threshold() -> f64 {
    1e-4
}
fn default_eps() -> f64 {
    1e-8
}
fn one() -> u64 {
    1
}

/// Whether a lower (`min`) or a higher (`max`) metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Min,
    Max,
}

/// Whether `threshold` is relative to `best` or absolute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdMode {
    #[default]
    Rel,
    Abs,
}

/// Whose rule: PyTorch's `ReduceLROnPlateau` or optax's
/// `contrib.reduce_on_plateau`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Convention {
    #[default]
    Pytorch,
    Optax,
}

/// PyTorch `ReduceLROnPlateau`, fed the loss at x_t every `every` steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plateau {
    pub lr: f64,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default = "default_factor")]
    pub factor: f64,
    #[serde(default = "default_patience")]
    pub patience: u64,
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    #[serde(default)]
    pub threshold_mode: ThresholdMode,
    #[serde(default)]
    pub cooldown: u64,
    #[serde(default)]
    pub min_lr: f64,
    #[serde(default = "default_eps")]
    pub eps: f64,
    #[serde(default = "one")]
    pub every: u64,
    /// `optax`: optax's rule (see the module's header).
    #[serde(default)]
    pub convention: Convention,
    /// optax's `atol`, subtracted together with the relative `threshold`.
    #[serde(default)]
    pub atol: f64,
    /// optax's `accumulation_size`: reads averaged per decision.
    #[serde(default = "one")]
    pub accumulation_size: u64,
}

impl crate::registry::Documented for Plateau {
    const SUMMARY: &'static str = "ReduceLROnPlateau: before update t (t ≥ 1, t mod every = 0) it reads the loss at x_t (the trace's loss; the full-data loss under minibatch noise); after more than `patience` such reads without improvement by `threshold` the lr becomes max(lr·factor, min_lr) (skipped when the cut is ≤ eps), then `cooldown` reads are ignored. `convention = \"optax\"`: optax's rule (reads from t = 0, averaged over accumulation_size, improvement by threshold (rtol) and atol together, cut when the bad count reaches patience, min_lr/lr the min_scale, no eps). Its lr depends on the run: `valley schedule` refuses it.";
    const CONVENTION: &'static str = "PyTorch `ReduceLROnPlateau` (every field and default); optax `contrib.reduce_on_plateau` with `convention = \"optax\"`; inside `warmup` it counts from the end of the warm-up, in `sequential` from its milestone.";
    const EXAMPLE: &'static str = "lr = 0.1";
}

/// The run's part of a plateau schedule: PyTorch's `best`,
/// `num_bad_epochs`, `cooldown_counter` and the lr in force. Plain data:
/// stepping it never allocates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlateauState {
    pub lr: f64,
    pub best: f64,
    pub num_bad: u64,
    pub cooldown_counter: u64,
    /// optax: the scale (lr = lr·scale), and the reads averaged so far.
    pub scale: f64,
    pub count: u64,
    pub avg: f64,
}

impl Default for PlateauState {
    fn default() -> Self {
        Self {
            lr: f64::NAN,
            best: f64::INFINITY,
            num_bad: 0,
            cooldown_counter: 0,
            scale: 1.0,
            count: 0,
            avg: 0.0,
        }
    }
}

impl Plateau {
    /// The state before the first call: lr in force, nothing seen.
    pub fn start(&self) -> PlateauState {
        PlateauState {
            lr: self.lr,
            best: match self.mode {
                Mode::Min => f64::INFINITY,
                Mode::Max => f64::NEG_INFINITY,
            },
            num_bad: 0,
            cooldown_counter: 0,
            scale: 1.0,
            count: 0,
            avg: 0.0,
        }
    }

    fn is_better(&self, a: f64, best: f64) -> bool {
        match (self.mode, self.threshold_mode) {
            (Mode::Min, ThresholdMode::Rel) => a < best * (1.0 - self.threshold),
            (Mode::Min, ThresholdMode::Abs) => a < best - self.threshold,
            (Mode::Max, ThresholdMode::Rel) => a > best * (self.threshold + 1.0),
            (Mode::Max, ThresholdMode::Abs) => a > best + self.threshold,
        }
    }

    /// PyTorch's `step(metric)`.
    pub fn step(&self, s: &mut PlateauState, metric: f64) {
        if self.is_better(metric, s.best) {
            s.best = metric;
            s.num_bad = 0;
        } else {
            s.num_bad += 1;
        }
        if s.cooldown_counter > 0 {
            s.cooldown_counter -= 1;
            s.num_bad = 0;
        }
        if s.num_bad > self.patience {
            let new = (s.lr * self.factor).max(self.min_lr);
            if s.lr - new > self.eps {
                s.lr = new;
            }
            s.cooldown_counter = self.cooldown;
            s.num_bad = 0;
        }
    }

    /// The lr of update `t` (its own step count), `loss` the loss at x_t.
    /// Called for every step in order; step 0 starts afresh.
    pub fn lr_at(&self, t: u64, loss: Option<f64>, s: &mut PlateauState) -> f64 {
        if t == 0 {
            *s = self.start();
        }
        let metric = loss.unwrap_or(f64::NAN);
        match self.convention {
            Convention::Pytorch if t >= 1 && t.is_multiple_of(self.every) => self.step(s, metric),
            Convention::Optax if t.is_multiple_of(self.every) => self.optax_update(s, metric),
            _ => {}
        }
        s.lr
    }

    /// optax `contrib.reduce_on_plateau`'s `update(value = metric)`: the
    /// reads are averaged over `accumulation_size` calls; then improved
    /// when avg < (1 − threshold)·best − atol; the cut (scale·factor,
    /// floored at min_lr/lr) comes when the count of reads without
    /// improvement reaches `patience`; in cooldown the count stays 0.
    fn optax_update(&self, s: &mut PlateauState, metric: f64) {
        let count = s.count;
        s.count += 1;
        s.avg = (count as f64 * s.avg + metric) / s.count as f64;
        if s.count != self.accumulation_size {
            return;
        }
        let improved = s.avg < (1.0 - self.threshold) * s.best - self.atol;
        if improved {
            s.best = s.avg;
        }
        let plateau = if improved { 0 } else { s.num_bad + 1 };
        if s.cooldown_counter > 0 {
            s.num_bad = 0;
            s.cooldown_counter -= 1;
        } else {
            let cut = plateau == self.patience;
            s.num_bad = if cut { 0 } else { plateau };
            let min_scale = if self.lr > 0.0 {
                self.min_lr / self.lr
            } else {
                0.0
            };
            s.scale = (if cut { s.scale * self.factor } else { s.scale }).max(min_scale);
            s.cooldown_counter = if cut { self.cooldown } else { 0 };
        }
        s.lr = self.lr * s.scale;
        s.count = 0;
        s.avg = 0.0;
    }
}

impl ScheduleFn for Plateau {
    fn validate(&self) -> Result<(), SpecError> {
        check::non_negative("lr", self.lr)?;
        if !(self.factor.is_finite() && self.factor >= 0.0 && self.factor < 1.0) {
            return Err(SpecError::new(
                "factor",
                format!(
                    "must be in [0, 1) (PyTorch: factor should be < 1.0), got {}",
                    self.factor
                ),
            ));
        }
        check::non_negative("threshold", self.threshold)?;
        check::non_negative("min_lr", self.min_lr)?;
        check::non_negative("eps", self.eps)?;
        check::at_least("every", self.every, 1)?;
        check::non_negative("atol", self.atol)?;
        check::at_least("accumulation_size", self.accumulation_size, 1)?;
        if self.convention == Convention::Pytorch {
            if self.atol != 0.0 || self.accumulation_size != 1 {
                return Err(SpecError::new(
                    if self.atol != 0.0 {
                        "atol"
                    } else {
                        "accumulation_size"
                    },
                    "is optax's: give it with convention = \"optax\"",
                ));
            }
            return Ok(());
        }
        // optax's constructor checks.
        if self.factor <= 0.0 {
            return Err(SpecError::new(
                "factor",
                format!(
                    "must be in (0, 1) with convention = \"optax\", got {}",
                    self.factor
                ),
            ));
        }
        if self.mode != Mode::Min || self.threshold_mode != ThresholdMode::Rel {
            return Err(SpecError::new(
                if self.mode != Mode::Min {
                    "mode"
                } else {
                    "threshold_mode"
                },
                "optax's rule is mode \"min\" with a relative threshold (rtol) and atol",
            ));
        }
        if self.threshold > 1.0 || (self.threshold == 0.0 && self.atol == 0.0) {
            return Err(SpecError::new(
                "threshold",
                format!(
                    "optax's rtol must be in [0, 1], and rtol or atol > 0, got {} and atol {}",
                    self.threshold, self.atol
                ),
            ));
        }
        Ok(())
    }

    /// Without a run: the starting lr.
    fn lr(&self, _t: u64) -> f64 {
        self.lr
    }

    fn reads_loss(&self) -> bool {
        true
    }

    fn lr_in_run(&self, t: u64, feed: &mut LossFeed) -> f64 {
        self.lr_at(t, feed.loss, &mut feed.plateau)
    }
}

/// What a schedule that reads the loss gets in a run: the loss at x_t of
/// this update and its own state, kept by the run.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LossFeed {
    pub loss: Option<f64>,
    pub plateau: PlateauState,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plateau(src: &str) -> Plateau {
        let p: Plateau = toml::from_str(src).unwrap();
        p.validate().unwrap();
        p
    }

    #[test]
    fn first_cut_after_patience_plus_one_flat_reads() {
        // Patience 2: reads 1 (improves from ∞), 2, 3 (bad 1, 2), 4 (bad 3 > 2): cut.
        let p = plateau("lr = 1.0\npatience = 2\nfactor = 0.5\n");
        let mut s = PlateauState::default();
        let lrs: Vec<f64> = (0..8).map(|t| p.lr_at(t, Some(1.0), &mut s)).collect();
        assert_eq!(lrs, [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]);
    }

    #[test]
    fn cooldown_eps_and_min_lr() {
        // cooldown 2 after a cut: the next two reads do not count.
        let p = plateau("lr = 1.0\npatience = 0\nfactor = 0.5\ncooldown = 2\n");
        let mut s = PlateauState::default();
        let lrs: Vec<f64> = (0..7).map(|t| p.lr_at(t, Some(1.0), &mut s)).collect();
        // t=1 improves; t=2 bad 1 > 0: cut; t=3, 4 in cooldown; t=5 cut.
        assert_eq!(lrs, [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]);
        // A cut smaller than eps is skipped; min_lr floors.
        let p = plateau("lr = 1e-8\npatience = 0\nfactor = 0.5\n");
        let mut s = PlateauState::default();
        let lrs: Vec<f64> = (0..4).map(|t| p.lr_at(t, Some(1.0), &mut s)).collect();
        assert_eq!(lrs, [1e-8; 4]);
        let p = plateau("lr = 1.0\npatience = 0\nfactor = 0.1\nmin_lr = 0.05\n");
        let mut s = PlateauState::default();
        let lrs: Vec<f64> = (0..5).map(|t| p.lr_at(t, Some(1.0), &mut s)).collect();
        assert_eq!(lrs, [1.0, 1.0, 0.1, 0.05, 0.05]);
    }

    #[test]
    fn every_skips_steps() {
        let p = plateau("lr = 1.0\npatience = 0\nfactor = 0.5\nevery = 3\n");
        let mut s = PlateauState::default();
        let lrs: Vec<f64> = (0..10).map(|t| p.lr_at(t, Some(1.0), &mut s)).collect();
        // Reads at 3 (improves), 6 (cut), 9 (cut).
        assert_eq!(lrs, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]);
    }

    #[test]
    fn after_a_warm_up_and_as_a_stage_it_counts_its_own_steps() {
        use crate::schedule::Schedule;
        let w: Schedule = toml::from_str(
            "kind = \"warmup\"\nwarmup_steps = 4\nthen = { kind = \"plateau\", lr = 1.0, patience = 0, factor = 0.5 }\n",
        )
        .unwrap();
        w.validate().unwrap();
        assert!(w.reads_loss());
        let mut feed = LossFeed {
            loss: Some(1.0),
            ..LossFeed::default()
        };
        let lrs: Vec<f64> = (0..8).map(|t| w.lr_in_run(t, &mut feed)).collect();
        // Warm-up 0, 1/4, 1/2, 3/4; then local steps 0 (lr), 1 (first read,
        // improves on ∞), 2 and 3 (no improvement, patience 0: a cut each).
        assert_eq!(lrs, [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 0.5, 0.25]);
        let q: Schedule = toml::from_str(
            "kind = \"sequential\"\nmilestones = [3]\nschedules = [{ kind = \"plateau\", lr = 1.0, patience = 0, factor = 0.5 }, { kind = \"plateau\", lr = 0.8, patience = 0, factor = 0.5 }]\n",
        )
        .unwrap();
        q.validate().unwrap();
        let mut feed = LossFeed {
            loss: Some(1.0),
            ..LossFeed::default()
        };
        let lrs: Vec<f64> = (0..6).map(|t| q.lr_in_run(t, &mut feed)).collect();
        // The second stage starts afresh at its milestone.
        assert_eq!(lrs, [1.0, 1.0, 0.5, 0.8, 0.8, 0.4]);
    }

    #[test]
    fn refused_where_no_loss_is_at_hand() {
        let l: crate::schedule::level::Level =
            toml::from_str::<toml::Table>("v = { kind = \"plateau\", lr = 0.1 }").unwrap()["v"]
                .clone()
                .try_into()
                .unwrap();
        let e = l.validate("std").unwrap_err();
        assert_eq!(e.field, "std.kind");
        assert!(e.message.contains("plateau"), "{}", e.message);
    }

    #[test]
    fn optax_cuts_at_patience_and_pytorch_after_it() {
        // Flat reads, patience 2: optax reads from t = 0 (improves on ∞),
        // then bad 1, 2 = patience: cut at t = 2; PyTorch at t = 4.
        let src = "lr = 1.0\npatience = 2\nfactor = 0.5\n";
        let torch = plateau(src);
        let optax = plateau(&format!("{src}convention = \"optax\"\n"));
        let (mut a, mut b) = (PlateauState::default(), PlateauState::default());
        let lr_t: Vec<f64> = (0..6).map(|t| torch.lr_at(t, Some(1.0), &mut a)).collect();
        let lr_o: Vec<f64> = (0..6).map(|t| optax.lr_at(t, Some(1.0), &mut b)).collect();
        assert_eq!(lr_t, [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]);
        assert_eq!(lr_o, [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]);
        // optax's own fields are refused under PyTorch's rule.
        let p: Plateau = toml::from_str("lr = 1.0\natol = 0.1\n").unwrap();
        assert_eq!(p.validate().unwrap_err().field, "atol");
    }

    #[test]
    fn factor_at_least_one_is_refused() {
        let p: Plateau = toml::from_str("lr = 1.0\nfactor = 1.0\n").unwrap();
        assert_eq!(p.validate().unwrap_err().field, "factor");
        let p: Plateau = toml::from_str("lr = 1.0\nevery = 0\n").unwrap();
        assert_eq!(p.validate().unwrap_err().field, "every");
    }
}
