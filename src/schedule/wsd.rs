//! Warmup–stable–decay (WSD; Hu et al. 2024, MiniCPM; Hägele et al. 2024):
//! a warm-up, a long constant phase and a short cooldown.
//!
//! HF transformers `get_wsd_schedule` (its `_get_wsd_scheduler_lambda`,
//! times `lr` as `LambdaLR` does), value for value. With W = warmup_steps,
//! S = stable_steps (or total_steps − W − D), D = decay_steps and
//! m = min_lr_ratio:
//!
//! - t < W: p = t/max(1, W); warm-up factor w(p): linear p, cosine
//!   (1 − cos(πp))/2, 1-sqrt 1 − √(1 − p); factor max(0, w·(1 − m) + m);
//! - W ≤ t < W + S: 1;
//! - W + S ≤ t < W + S + D: p = (t − W − S)/max(1, D); decay factor d(p):
//!   linear 1 − p, cosine (1 + cos(π·num_cycles·2·p))/2, 1-sqrt 1 − √p;
//!   factor max(0, d·(1 − m) + m);
//! - t ≥ W + S + D: m (held).
//!
//! The decay shapes of the EPFL code (`epfml/schedules-and-scaling`,
//! `wsd_schedule`), in its arithmetic with final factor m: exp m^p, square
//! m + (1 − m)(1 − p²), mirror_cosine 2·linear − cosine (linear
//! m + (1 − m)(1 − p), cosine m + (1 − m)(1 + cos(πp))/2).
//!
//! # Where the cooldown starts and ends
//!
//! | convention | decay step k = t − W − S (k = 0 … D − 1) | lr at t = W + S | first t at the floor m | used by |
//! |---|---|---|---|---|
//! | `hf` (default) | p = k/D | lr (the stable value, once more) | W + S + D | HF `get_wsd_schedule`; EPFL `wsd_schedule` (decay from `n_hold` = N − D, floor at N) |
//! | `schaipp` | p = (k + 1)/D | lr·d(1/D) | W + S + D − 1 (the last decay step) | Schaipp et al. 2025 (`fabian-sp/lr-scheduling`, `_construct_cooldown`) |
//!
//! So with `schaipp` every decay step is one step further down: a run of
//! W + S + D steps takes its last update at the floor, whereas with `hf` its
//! last update is at d((D − 1)/D) and the floor comes one step after the
//! run. The EPFL code's own warm-up starts at 1/init_div_factor, which is
//! `warmup_type = "linear"` with m = 1/init_div_factor only when the
//! cooldown's floor is the same; valley's warm-up always starts at m.

use super::ScheduleFn;
use crate::error::{check, SpecError};

/// The reference's section on where the cooldown starts (`docs/reference.md`).
pub const CONVENTIONS: &str = "### WSD conventions\n\n\
`wsd` follows HF transformers `get_wsd_schedule` value for value. The libraries \
and papers differ by one step at the cooldown: with W = warmup_steps, S the stable \
steps, D = decay_steps, m = min_lr_ratio, d the decay shape, k = t − W − S the \
decay step (k = 0 … D − 1):\n\n\
| `convention` | progress p at decay step k | lr at t = W + S | first step at the floor m | follows |\n\
|---|---|---|---|---|\n\
| `hf` (default) | k/D | lr (the stable value once more) | W + S + D (one after the cooldown) | HF `get_wsd_schedule`; the EPFL code (`epfml/schedules-and-scaling` `wsd_schedule`: decay from N − D, floor at N) |\n\
| `schaipp` | (k + 1)/D | lr·d(1/D) | W + S + D − 1 (the last cooldown step) | Schaipp et al. 2025 (`fabian-sp/lr-scheduling`, `WSDSchedule`) |\n\n\
Decay shapes: `cosine` (1 + cos(2π·num_cycles·p))/2, `linear` 1 − p, `1-sqrt` 1 − √p \
(HF: factor max(0, d·(1 − m) + m)); `exp` m^p, `square` m + (1 − m)(1 − p²), \
`mirror_cosine` 2·linear − cosine (the EPFL code's, in its arithmetic). Warm-up from m: \
`linear` p, `cosine` (1 − cos(πp))/2, `1-sqrt` 1 − √(1 − p), p = t/W. The EPFL code \
warms up from 1/init_div_factor, which is m only when the cooldown ends at the same \
factor.\n\n";
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

fn half() -> f64 {
    0.5
}

/// The shape of the warm-up (HF's `warmup_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum WarmupShape {
    #[default]
    #[serde(rename = "linear")]
    Linear,
    #[serde(rename = "cosine")]
    Cosine,
    #[serde(rename = "1-sqrt")]
    OneMinusSqrt,
}

/// The shape of the cooldown: HF's `decay_type` (linear, cosine, 1-sqrt)
/// and the EPFL code's further shapes (exp, square, mirror_cosine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DecayShape {
    #[default]
    #[serde(rename = "cosine")]
    Cosine,
    #[serde(rename = "linear")]
    Linear,
    #[serde(rename = "1-sqrt")]
    OneMinusSqrt,
    #[serde(rename = "exp")]
    Exp,
    #[serde(rename = "square")]
    Square,
    #[serde(rename = "mirror_cosine")]
    MirrorCosine,
}

/// Where the cooldown's progress starts (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Convention {
    #[default]
    #[serde(rename = "hf")]
    Hf,
    #[serde(rename = "schaipp")]
    Schaipp,
}

/// HF transformers `get_wsd_schedule`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wsd {
    pub lr: f64,
    #[serde(default)]
    pub warmup_steps: u64,
    pub decay_steps: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable_steps: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_steps: Option<u64>,
    #[serde(default)]
    pub warmup_type: WarmupShape,
    #[serde(default)]
    pub decay_type: DecayShape,
    #[serde(default)]
    pub min_lr_ratio: f64,
    #[serde(default = "half")]
    pub num_cycles: f64,
    #[serde(default)]
    pub convention: Convention,
}

impl crate::registry::Documented for Wsd {
    const SUMMARY: &'static str = "Warmup–stable–decay: warm-up from min_lr_ratio (linear, cosine or 1-sqrt) over warmup_steps, lr for stable_steps (or up to total_steps − decay_steps), a cooldown over decay_steps (cosine with num_cycles, linear, 1-sqrt; EPFL's exp, square, mirror_cosine) down to lr·min_lr_ratio, held after. Give exactly one of stable_steps and total_steps. `convention = \"schaipp\"` starts the cooldown one step earlier (see WSD conventions below).";
    const CONVENTION: &'static str = "HF transformers `get_wsd_schedule` (lambda × lr); exp, square, mirror_cosine: EPFL `wsd_schedule`; `schaipp`: Schaipp et al. 2025.";
    const EXAMPLE: &'static str = "lr = 0.1\ndecay_steps = 200\ntotal_steps = 1000";
    const ALTERNATIVES: &'static [&'static str] =
        &["lr = 0.1\ndecay_steps = 200\nstable_steps = 800"];
}

impl Wsd {
    /// Steps of the stable phase: `stable_steps`, or what `total_steps`
    /// leaves after the warm-up and the cooldown.
    pub fn stable(&self) -> u64 {
        match (self.stable_steps, self.total_steps) {
            (Some(s), _) => s,
            (None, Some(n)) => n.saturating_sub(self.warmup_steps + self.decay_steps),
            (None, None) => 0,
        }
    }

    /// First step of the cooldown.
    pub fn decay_start(&self) -> u64 {
        self.warmup_steps + self.stable()
    }

    /// The factor (lr multiplier) of update `t`.
    pub fn factor(&self, t: u64) -> f64 {
        let m = self.min_lr_ratio;
        if t < self.warmup_steps {
            let p = t as f64 / self.warmup_steps.max(1) as f64;
            let w = match self.warmup_type {
                WarmupShape::Linear => p,
                WarmupShape::Cosine => 0.5 * (1.0 - (PI * p).cos()),
                WarmupShape::OneMinusSqrt => 1.0 - (1.0 - p).sqrt(),
            };
            return (w * (1.0 - m) + m).max(0.0);
        }
        let start = self.decay_start();
        if t < start {
            return 1.0;
        }
        let k = t - start + u64::from(self.convention == Convention::Schaipp);
        if k >= self.decay_steps {
            return m;
        }
        self.decay_factor(k)
    }

    /// The cooldown's factor at decay step `k` < D (progress k/D).
    fn decay_factor(&self, k: u64) -> f64 {
        let m = self.min_lr_ratio;
        let d = self.decay_steps.max(1) as f64;
        let p = k as f64 / d;
        let hf = |shape: f64| (shape * (1.0 - m) + m).max(0.0);
        // The EPFL code's cosine and linear values, in its arithmetic.
        let epfl_cos = || m + (1.0 - m) * (1.0 + (PI * k as f64 / d).cos()) * 0.5;
        let epfl_lin = || m + (1.0 - m) * (1.0 - p);
        match self.decay_type {
            DecayShape::Linear => hf(1.0 - p),
            DecayShape::Cosine => hf(0.5 * (1.0 + (PI * self.num_cycles * 2.0 * p).cos())),
            DecayShape::OneMinusSqrt => hf(1.0 - p.sqrt()),
            DecayShape::Exp => m.powf(p),
            DecayShape::Square => m + (1.0 - m) * (1.0 - p.powi(2)),
            DecayShape::MirrorCosine => epfl_lin() * 2.0 - epfl_cos(),
        }
    }
}

impl ScheduleFn for Wsd {
    fn end(&self) -> Option<super::horizon::End> {
        let (field, value) = match (self.total_steps, self.stable_steps) {
            (Some(n), _) => ("total_steps", n),
            (None, s) => ("stable_steps", s.unwrap_or(0)),
        };
        Some(super::horizon::End {
            field,
            value,
            steps: self.decay_start().saturating_add(self.decay_steps),
            reaches: format!("lr·min_lr_ratio = {}", self.lr * self.min_lr_ratio),
        })
    }

    fn validate(&self) -> Result<(), SpecError> {
        check::non_negative("lr", self.lr)?;
        match (self.stable_steps, self.total_steps) {
            (Some(_), Some(_)) => {
                return Err(SpecError::new(
                    "stable_steps",
                    "give stable_steps or total_steps, not both",
                ))
            }
            (None, None) => {
                return Err(SpecError::new(
                    "stable_steps",
                    "missing: give stable_steps or total_steps (exactly one)",
                ))
            }
            (None, Some(n)) if n < self.warmup_steps + self.decay_steps => {
                return Err(SpecError::new(
                    "total_steps",
                    format!(
                        "must be >= warmup_steps + decay_steps ({}), got {n}",
                        self.warmup_steps + self.decay_steps
                    ),
                ))
            }
            _ => {}
        }
        check::at_least("decay_steps", self.decay_steps, 1)?;
        if !(0.0..=1.0).contains(&self.min_lr_ratio) {
            return Err(SpecError::new(
                "min_lr_ratio",
                format!("must be in [0, 1], got {}", self.min_lr_ratio),
            ));
        }
        check::finite("num_cycles", self.num_cycles)
    }

    fn lr(&self, t: u64) -> f64 {
        self.lr * self.factor(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wsd(src: &str) -> Wsd {
        let w: Wsd = toml::from_str(src).unwrap();
        w.validate().unwrap();
        w
    }

    #[test]
    fn phases_by_hand() {
        // W = 4, S = 6, D = 4, linear both ways, m = 0.2:
        // warm-up 0.2 + 0.8·t/4; decay 0.2 + 0.8·(1 − k/4).
        let w = wsd("lr = 2.0\nwarmup_steps = 4\nstable_steps = 6\ndecay_steps = 4\ndecay_type = \"linear\"\nmin_lr_ratio = 0.2\n");
        let want = [
            0.4, 0.8, 1.2, 1.6, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.6, 1.2, 0.8, 0.4, 0.4,
        ];
        for (t, &v) in want.iter().enumerate() {
            assert!(
                (w.lr(t as u64) - v).abs() < 1e-15,
                "t = {t}: {}",
                w.lr(t as u64)
            );
        }
        // Schaipp: each decay step one further down, the floor at the last one.
        let s = wsd("lr = 2.0\nwarmup_steps = 4\nstable_steps = 6\ndecay_steps = 4\ndecay_type = \"linear\"\nmin_lr_ratio = 0.2\nconvention = \"schaipp\"\n");
        for t in 10..13 {
            assert_eq!(s.lr(t), w.lr(t + 1), "t = {t}");
        }
        assert!((s.lr(13) - 0.4).abs() < 1e-15);
    }

    #[test]
    fn total_steps_gives_the_stable_phase() {
        let w = wsd("lr = 1\nwarmup_steps = 10\ndecay_steps = 20\ntotal_steps = 100\n");
        assert_eq!(w.stable(), 70);
        assert_eq!(w.decay_start(), 80);
        // Cosine half-way through the cooldown: factor exactly 1/2.
        assert!((w.lr(90) - 0.5).abs() < 1e-15);
        assert_eq!(w.lr(100), 0.0);
    }

    #[test]
    fn bad_tables_name_the_field() {
        let cases: &[(&str, &str)] = &[
            ("lr = 1\ndecay_steps = 3\n", "stable_steps"),
            (
                "lr = 1\ndecay_steps = 3\nstable_steps = 3\ntotal_steps = 9\n",
                "stable_steps",
            ),
            (
                "lr = 1\ndecay_steps = 3\nwarmup_steps = 4\ntotal_steps = 6\n",
                "total_steps",
            ),
            ("lr = 1\ndecay_steps = 0\nstable_steps = 3\n", "decay_steps"),
            (
                "lr = 1\ndecay_steps = 3\nstable_steps = 3\nmin_lr_ratio = 1.5\n",
                "min_lr_ratio",
            ),
        ];
        for (src, field) in cases {
            let w: Wsd = toml::from_str(src).unwrap();
            assert_eq!(w.validate().unwrap_err().field, *field, "{src}");
        }
        let e = toml::from_str::<Wsd>(
            "lr = 1\ndecay_steps = 3\nstable_steps = 3\ndecay_type = \"sqrt\"\n",
        );
        assert!(e
            .unwrap_err()
            .to_string()
            .contains("unknown variant `sqrt`"));
    }
}
