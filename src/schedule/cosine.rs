//! Cosine annealing, with and without warm restarts (SGDR, Loshchilov &
//! Hutter 2017, arXiv:1608.03983).
//!
//! - cosine: η_min + (lr − η_min)·(1 + cos(π·min(t, T)/T))/2. For t ≤ T this
//!   is PyTorch `CosineAnnealingLR` (whose closed form valley evaluates;
//!   PyTorch itself iterates a recursive form, measured to agree to
//!   1.3e-15 relative for t ≤ T); after T valley holds η_min, as optax
//!   `cosine_decay_schedule(lr, T, alpha = η_min/lr)` does, whereas PyTorch's
//!   `CosineAnnealingLR` rises again (period 2T).
//! - cosine_restarts: PyTorch `CosineAnnealingWarmRestarts` with integer
//!   T_mult: cycle i lasts T_i = T_0·T_mult^i steps, restarts happen at
//!   T_0, T_0(1 + T_mult), T_0(1 + T_mult + T_mult²), …, and inside a cycle
//!   lr = η_min + (lr − η_min)·(1 + cos(π·T_cur/T_i))/2.

use super::ScheduleFn;
use crate::error::{check, SpecError};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

fn one() -> u64 {
    1
}

/// η_min + (lr − η_min)·(1 + cos(π·t/T))/2, in PyTorch's order of operations.
pub fn cosine_anneal(lr: f64, eta_min: f64, t: u64, period: u64) -> f64 {
    eta_min + (lr - eta_min) * (1.0 + (PI * t as f64 / period as f64).cos()) / 2.0
}

/// Cosine decay from `lr` to `eta_min` over `total_steps`, then held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cosine {
    pub lr: f64,
    pub total_steps: u64,
    #[serde(default)]
    pub eta_min: f64,
}

impl crate::registry::Documented for Cosine {
    const SUMMARY: &'static str = "lr(t) = eta_min + (lr − eta_min)·(1 + cos(π·min(t, T)/T))/2, T = total_steps; held at eta_min after T.";
    const CONVENTION: &'static str = "PyTorch `CosineAnnealingLR` for t ≤ T; after T, optax `cosine_decay_schedule` (held, PyTorch rises again).";
    const EXAMPLE: &'static str = "lr = 0.1\ntotal_steps = 1000";
}

impl ScheduleFn for Cosine {
    fn end(&self) -> Option<super::horizon::End> {
        Some(super::horizon::End {
            field: "total_steps",
            value: self.total_steps,
            steps: self.total_steps,
            reaches: format!("eta_min = {}", self.eta_min),
        })
    }

    fn validate(&self) -> Result<(), SpecError> {
        check::non_negative("lr", self.lr)?;
        check::at_least("total_steps", self.total_steps, 1)?;
        check::non_negative("eta_min", self.eta_min)
    }

    fn lr(&self, t: u64) -> f64 {
        cosine_anneal(
            self.lr,
            self.eta_min,
            t.min(self.total_steps),
            self.total_steps,
        )
    }
}

/// PyTorch `CosineAnnealingWarmRestarts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineRestarts {
    pub lr: f64,
    #[serde(rename = "T_0")]
    pub t_0: u64,
    #[serde(rename = "T_mult", default = "one")]
    pub t_mult: u64,
    #[serde(default)]
    pub eta_min: f64,
}

impl crate::registry::Documented for CosineRestarts {
    const SUMMARY: &'static str = "SGDR: cycle i lasts T_0·T_mult^i steps; inside a cycle lr = eta_min + (lr − eta_min)·(1 + cos(π·T_cur/T_i))/2.";
    const CONVENTION: &'static str = "PyTorch `CosineAnnealingWarmRestarts` (integer T_mult).";
    const EXAMPLE: &'static str = "lr = 0.1\nT_0 = 100";
}

impl CosineRestarts {
    /// (T_cur, T_i): steps since the last restart and length of the cycle
    /// containing `t`.
    pub fn position(&self, t: u64) -> (u64, u64) {
        if self.t_mult == 1 {
            return (t % self.t_0, self.t_0);
        }
        let mut start = 0u64;
        let mut len = self.t_0;
        // The cycle lengths grow geometrically: at most 64 iterations.
        while t - start >= len {
            start += len;
            len = len.saturating_mul(self.t_mult);
        }
        (t - start, len)
    }

    /// Step of the k-th restart (k = 0 is the start): T_0·(1 + m + … + m^(k−1)).
    pub fn restart_step(&self, k: u32) -> u64 {
        (0..k).map(|i| self.t_0 * self.t_mult.pow(i)).sum()
    }
}

impl ScheduleFn for CosineRestarts {
    fn validate(&self) -> Result<(), SpecError> {
        check::non_negative("lr", self.lr)?;
        check::at_least("T_0", self.t_0, 1)?;
        check::at_least("T_mult", self.t_mult, 1)?;
        check::non_negative("eta_min", self.eta_min)
    }

    fn lr(&self, t: u64) -> f64 {
        let (cur, len) = self.position(t);
        cosine_anneal(self.lr, self.eta_min, cur, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_midpoint_and_hold() {
        // Half-way the cosine factor is exactly 1/2: 0.01 + 0.09/2 = 0.055.
        let c = Cosine {
            lr: 0.1,
            total_steps: 100,
            eta_min: 0.01,
        };
        assert!((c.lr(50) - 0.055).abs() < 1e-16);
        assert_eq!(c.lr(0), 0.1);
        // cos(π) = −1 exactly in f64, so the end is η_min exactly, and held.
        assert_eq!(c.lr(100), 0.01);
        assert_eq!(c.lr(1_000_000), 0.01);
    }

    #[test]
    fn restart_positions() {
        // T_0 = 10, T_mult = 2: cycles [0,10), [10,30), [30,70), [70,150).
        let s = CosineRestarts {
            lr: 1.0,
            t_0: 10,
            t_mult: 2,
            eta_min: 0.0,
        };
        assert_eq!(s.position(9), (9, 10));
        assert_eq!(s.position(10), (0, 20));
        assert_eq!(s.position(29), (19, 20));
        assert_eq!(s.position(30), (0, 40));
        assert_eq!(s.position(70), (0, 80));
        assert_eq!(s.restart_step(3), 70);
        // Quarter of cycle 2 (T_cur 10 of 40): (1 + cos(π/4))/2.
        let want = (1.0 + std::f64::consts::FRAC_1_SQRT_2) / 2.0;
        assert!((s.lr(40) - want).abs() < 1e-15);
        // Far out the loop terminates and stays in range.
        let (cur, len) = s.position(u64::MAX - 1);
        assert!(cur < len);
    }
}
