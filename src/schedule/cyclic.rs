//! Cyclical schedules that also set momentum: PyTorch `CyclicLR` (Smith 2017,
//! arXiv:1506.01186) and `OneCycleLR` (Smith & Topin 2017, arXiv:1708.07120).
//!
//! cyclic, with L = step_size_up + step_size_down and r = step_size_up/L:
//!   cycle = ⌊1 + t/L⌋, x = 1 + t/L − cycle,
//!   s = x/r if x ≤ r else (x − 1)/(r − 1),
//!   lr = base_lr + (max_lr − base_lr)·s·scale,
//!   momentum = max_momentum − (max_momentum − base_momentum)·s·scale,
//!   scale = 1 (triangular), 1/2^(cycle−1) (triangular2), γ^t (exp_range,
//!   scaled by iterations).
//!
//! onecycle, with N = total_steps, p = pct_start, lr₀ = max_lr/div_factor,
//! lr_min = lr₀/final_div_factor: phases end at p·N − 1 and N − 1 (two
//! phases: lr₀ → max_lr → lr_min) or p·N − 1, 2·p·N − 2, N − 1 (three phases:
//! lr₀ → max_lr → lr₀ → lr_min); inside a phase from step a to b,
//! pct = (t − a)/(b − a) and the value anneals start → end by
//! cos: end + (start − end)/2·(1 + cos(π·pct)) or linear: start + (end − start)·pct.
//! Momentum anneals max → base → max (three phases: max → base → max → max).
//! PyTorch raises after t > N; valley holds the final values for t ≥ N − 1.

use super::ScheduleFn;
use crate::error::{check, SpecError};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// CyclicLR amplitude policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CyclicMode {
    Triangular,
    Triangular2,
    ExpRange,
}

fn default_step_size_up() -> u64 {
    2000
}

fn one_f() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

fn default_mode() -> CyclicMode {
    CyclicMode::Triangular
}

fn momentum_range(base: f64, max: f64) -> Result<(), SpecError> {
    check::in_half_open("base_momentum", base, 0.0, 1.0)?;
    check::in_half_open("max_momentum", max, 0.0, 1.0)?;
    if base > max {
        return Err(SpecError::new(
            "base_momentum",
            format!("must be <= max_momentum ({max}), got {base}"),
        ));
    }
    Ok(())
}

/// PyTorch `CyclicLR`, momentum included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cyclic {
    pub base_lr: f64,
    pub max_lr: f64,
    #[serde(default = "default_step_size_up")]
    pub step_size_up: u64,
    /// Defaults to `step_size_up`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_size_down: Option<u64>,
    #[serde(default = "default_mode")]
    pub mode: CyclicMode,
    #[serde(default = "one_f")]
    pub gamma: f64,
    #[serde(default = "yes")]
    pub cycle_momentum: bool,
    #[serde(default = "default_cyclic_base_momentum")]
    pub base_momentum: f64,
    #[serde(default = "default_cyclic_max_momentum")]
    pub max_momentum: f64,
    /// Steps the cycle is advanced by: update t takes PyTorch's values of
    /// step t + phase (0: PyTorch's start, at base_lr). With step_size_up
    /// as phase, a second player's cycle runs half a cycle out of phase.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub phase: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl crate::registry::Documented for Cyclic {
    const SUMMARY: &'static str = "Triangular cycles between base_lr and max_lr (step_size_down defaults to step_size_up); mode triangular, triangular2 or exp_range; momentum cycles inversely between max_momentum and base_momentum when cycle_momentum. `phase` (0) advances the cycle: update t takes the values of step t + phase (phase = step_size_up starts at max_lr, half a cycle out of phase with phase 0).";
    const CONVENTION: &'static str = "PyTorch `CyclicLR`, momentum included.";
    const EXAMPLE: &'static str = "base_lr = 0.001\nmax_lr = 0.1";
}

fn default_cyclic_base_momentum() -> f64 {
    0.8
}

fn default_cyclic_max_momentum() -> f64 {
    0.9
}

impl Cyclic {
    /// (s, scale) at step `t`, shared by lr and momentum. PyTorch multiplies
    /// (amplitude·s)·scale, so the two are kept apart.
    fn parts(&self, t: u64) -> (f64, f64) {
        let t = t.saturating_add(self.phase);
        let up = self.step_size_up as f64;
        let down = self.step_size_down.unwrap_or(self.step_size_up) as f64;
        let total = up + down;
        let ratio = up / total;
        let tf = t as f64;
        let cycle = (1.0 + tf / total).floor();
        let x = 1.0 + tf / total - cycle;
        let s = if x <= ratio {
            x / ratio
        } else {
            (x - 1.0) / (ratio - 1.0)
        };
        let scale = match self.mode {
            CyclicMode::Triangular => 1.0,
            CyclicMode::Triangular2 => 1.0 / 2f64.powf(cycle - 1.0),
            CyclicMode::ExpRange => self.gamma.powf(tf),
        };
        (s, scale)
    }

    /// The lr relative to its range, in [0, 1] (for tests and plots).
    pub fn relative_height(&self, t: u64) -> f64 {
        let (s, scale) = self.parts(t);
        s * scale
    }
}

impl ScheduleFn for Cyclic {
    fn validate(&self) -> Result<(), SpecError> {
        check::non_negative("base_lr", self.base_lr)?;
        check::finite("max_lr", self.max_lr)?;
        if self.max_lr <= self.base_lr {
            return Err(SpecError::new(
                "max_lr",
                format!("must be > base_lr ({}), got {}", self.base_lr, self.max_lr),
            ));
        }
        check::at_least("step_size_up", self.step_size_up, 1)?;
        check::positive("gamma", self.gamma)?;
        if self.cycle_momentum {
            momentum_range(self.base_momentum, self.max_momentum)?;
        }
        Ok(())
    }

    fn lr(&self, t: u64) -> f64 {
        let (s, scale) = self.parts(t);
        self.base_lr + (self.max_lr - self.base_lr) * s * scale
    }

    fn momentum(&self, t: u64) -> Option<f64> {
        if !self.cycle_momentum {
            return None;
        }
        let (s, scale) = self.parts(t);
        Some(self.max_momentum - (self.max_momentum - self.base_momentum) * s * scale)
    }

    fn sets_momentum(&self) -> bool {
        self.cycle_momentum
    }

    fn period(&self) -> Option<u64> {
        (self.mode == CyclicMode::Triangular)
            .then(|| self.step_size_up + self.step_size_down.unwrap_or(self.step_size_up))
    }
}

/// OneCycleLR annealing shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anneal {
    Cos,
    Linear,
}

fn default_anneal() -> Anneal {
    Anneal::Cos
}

fn default_pct_start() -> f64 {
    0.3
}

fn default_div_factor() -> f64 {
    25.0
}

fn default_final_div_factor() -> f64 {
    1e4
}

fn default_onecycle_base_momentum() -> f64 {
    0.85
}

fn default_onecycle_max_momentum() -> f64 {
    0.95
}

/// PyTorch `OneCycleLR`, momentum included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneCycle {
    pub max_lr: f64,
    pub total_steps: u64,
    #[serde(default = "default_pct_start")]
    pub pct_start: f64,
    #[serde(default = "default_anneal")]
    pub anneal_strategy: Anneal,
    #[serde(default = "default_div_factor")]
    pub div_factor: f64,
    #[serde(default = "default_final_div_factor")]
    pub final_div_factor: f64,
    #[serde(default)]
    pub three_phase: bool,
    #[serde(default = "yes")]
    pub cycle_momentum: bool,
    #[serde(default = "default_onecycle_base_momentum")]
    pub base_momentum: f64,
    #[serde(default = "default_onecycle_max_momentum")]
    pub max_momentum: f64,
}

impl crate::registry::Documented for OneCycle {
    const SUMMARY: &'static str = "lr rises from max_lr/div_factor to max_lr over pct_start of total_steps, then anneals (cos or linear) to max_lr/(div_factor·final_div_factor); three_phase adds a return to the start value; momentum anneals inversely; final values held from step N − 1.";
    const CONVENTION: &'static str = "PyTorch `OneCycleLR`, momentum included.";
    const EXAMPLE: &'static str = "max_lr = 0.1\ntotal_steps = 1000";
}

/// Which end of a phase a value comes from.
#[derive(Clone, Copy)]
enum Level {
    Initial,
    Max,
    Min,
}

impl OneCycle {
    fn phase_count(&self) -> usize {
        if self.three_phase {
            3
        } else {
            2
        }
    }

    /// Last step of each phase, as PyTorch computes them (floats).
    fn phase_ends(&self) -> [f64; 3] {
        let n = self.total_steps as f64;
        let last = n - 1.0;
        let first = self.pct_start * n - 1.0;
        if self.three_phase {
            [first, 2.0 * self.pct_start * n - 2.0, last]
        } else {
            [first, last, last]
        }
    }

    fn initial_lr(&self) -> f64 {
        self.max_lr / self.div_factor
    }

    fn anneal(&self, start: f64, end: f64, pct: f64) -> f64 {
        match self.anneal_strategy {
            Anneal::Cos => end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0),
            Anneal::Linear => (end - start) * pct + start,
        }
    }

    /// (phase index, pct) at step `t`; t ≥ N − 1 maps to the end of the last phase.
    fn locate(&self, t: u64) -> (usize, f64) {
        let ends = self.phase_ends();
        let count = self.phase_count();
        let step = (t.min(self.total_steps - 1)) as f64;
        let mut start = 0.0;
        for (i, &end) in ends[..count].iter().enumerate() {
            if step <= end || i == count - 1 {
                return (i, (step - start) / (end - start));
            }
            start = end;
        }
        unreachable!("the last phase always matches")
    }

    fn lr_level(&self, level: Level) -> f64 {
        match level {
            Level::Initial => self.initial_lr(),
            Level::Max => self.max_lr,
            Level::Min => self.initial_lr() / self.final_div_factor,
        }
    }
}

impl ScheduleFn for OneCycle {
    fn end(&self) -> Option<super::horizon::End> {
        Some(super::horizon::End {
            field: "total_steps",
            value: self.total_steps,
            steps: self.total_steps,
            reaches: format!(
                "its final lr max_lr/(div_factor·final_div_factor) = {}",
                self.initial_lr() / self.final_div_factor
            ),
        })
    }

    fn validate(&self) -> Result<(), SpecError> {
        check::positive("max_lr", self.max_lr)?;
        check::at_least("total_steps", self.total_steps, 1)?;
        check::in_open("pct_start", self.pct_start, 0.0, 1.0)?;
        check::positive("div_factor", self.div_factor)?;
        check::positive("final_div_factor", self.final_div_factor)?;
        if self.cycle_momentum {
            momentum_range(self.base_momentum, self.max_momentum)?;
        }
        // Every phase must be longer than zero steps (PyTorch divides by its
        // length and fails otherwise).
        let ends = self.phase_ends();
        let mut start = 0.0;
        for &end in &ends[..self.phase_count()] {
            if end <= start {
                return Err(SpecError::new(
                    "pct_start",
                    format!(
                        "{} with total_steps {} leaves an empty phase (ends {:?})",
                        self.pct_start,
                        self.total_steps,
                        &ends[..self.phase_count()]
                    ),
                ));
            }
            start = end;
        }
        Ok(())
    }

    fn lr(&self, t: u64) -> f64 {
        let (phase, pct) = self.locate(t);
        let (a, b) = match (self.three_phase, phase) {
            (_, 0) => (Level::Initial, Level::Max),
            (false, _) => (Level::Max, Level::Min),
            (true, 1) => (Level::Max, Level::Initial),
            (true, _) => (Level::Initial, Level::Min),
        };
        self.anneal(self.lr_level(a), self.lr_level(b), pct)
    }

    fn momentum(&self, t: u64) -> Option<f64> {
        if !self.cycle_momentum {
            return None;
        }
        let (phase, pct) = self.locate(t);
        let (hi, lo) = (self.max_momentum, self.base_momentum);
        let (a, b) = match (self.three_phase, phase) {
            (_, 0) => (hi, lo),
            (false, _) => (lo, hi),
            (true, 1) => (lo, hi),
            (true, _) => (hi, hi),
        };
        Some(self.anneal(a, b, pct))
    }

    fn sets_momentum(&self) -> bool {
        self.cycle_momentum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn onecycle(n: u64, pct: f64, three: bool) -> OneCycle {
        OneCycle {
            max_lr: 1.0,
            total_steps: n,
            pct_start: pct,
            anneal_strategy: Anneal::Linear,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: three,
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
        }
    }

    #[test]
    fn onecycle_linear_phase_ends() {
        // N = 101, pct 0.3 (0.3·101 − 1 = 29.3 in f64, i.e. 29.299999…):
        // lr(0) = 1/25, peak between 29 and 30, lr(100) = 1/25/1e4.
        let s = onecycle(101, 0.3, false);
        s.validate().unwrap();
        assert!((s.lr(0) - 0.04).abs() < 1e-16);
        // Linear annealing (end − start)·1 + start rounds to within an ulp of 1.
        assert!((s.lr(100) - 4e-6).abs() < 3e-16);
        assert_eq!(s.lr(10_000), s.lr(100));
        // Linear ramp: lr(t) = 0.04 + 0.96·t/29.3 in phase one.
        let end = 0.3 * 101.0 - 1.0;
        assert!((s.lr(20) - (0.04 + 0.96 * 20.0 / end)).abs() < 1e-15);
        assert!((s.momentum(0).unwrap() - 0.95).abs() < 1e-16);
        assert!((s.momentum(100).unwrap() - 0.95).abs() < 1e-16);
    }

    #[test]
    fn onecycle_rejects_empty_phase() {
        // pct·N − 1 = 0: the warm-up phase is empty.
        let e = onecycle(10, 0.1, false).validate().unwrap_err();
        assert_eq!(e.field, "pct_start");
        // Three phases need 2·p·N − 2 < N − 1.
        let e = onecycle(10, 0.6, true).validate().unwrap_err();
        assert_eq!(e.field, "pct_start");
    }

    #[test]
    fn cyclic_triangle_by_hand() {
        // up 4, down 6: lr rises 0.1 → 0.5 over 4 steps, falls over 6.
        let c = Cyclic {
            base_lr: 0.1,
            max_lr: 0.5,
            step_size_up: 4,
            step_size_down: Some(6),
            mode: CyclicMode::Triangular2,
            gamma: 1.0,
            cycle_momentum: true,
            base_momentum: 0.8,
            max_momentum: 0.9,
            phase: 0,
        };
        c.validate().unwrap();
        assert!((c.lr(2) - 0.3).abs() < 1e-15);
        assert!((c.lr(4) - 0.5).abs() < 1e-15);
        assert!((c.lr(7) - 0.3).abs() < 1e-15);
        // Second cycle at half amplitude: peak 0.1 + 0.4/2.
        assert!((c.lr(14) - 0.3).abs() < 1e-15);
        // A phase of 4 starts at the peak: update t takes step t + 4.
        let shifted = Cyclic {
            phase: 4,
            ..c.clone()
        };
        assert!((shifted.lr(0) - 0.5).abs() < 1e-15);
        assert!((shifted.lr(3) - 0.3).abs() < 1e-15);
        assert_eq!(c.period(), None);
        let tri = Cyclic {
            mode: CyclicMode::Triangular,
            ..c
        };
        assert_eq!(tri.period(), Some(10));
        assert!((tri.lr(12) - tri.lr(2)).abs() < 1e-15);
        assert!((c.momentum(4).unwrap() - 0.8).abs() < 1e-15);
        assert!((c.momentum(14).unwrap() - 0.85).abs() < 1e-15);
        assert!((c.relative_height(14) - 0.5).abs() < 1e-15);
    }
}
