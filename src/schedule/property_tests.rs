//! Property tests (proptest) of the schedules: claims that hold for every
//! parameter choice, checked against analytic facts rather than reference
//! sequences.

use super::compose::Warmup;
use super::cosine::{Cosine, CosineRestarts};
use super::cyclic::{Anneal, Cyclic, CyclicMode, OneCycle};
use super::decay::{
    Exponential, InverseSqrt, InverseTime, Linear, MultiStep, Polynomial, StepDecay,
};
use super::{Schedule, ScheduleFn};
use proptest::prelude::*;

fn step(lr: f64, step_size: u64, gamma: f64) -> StepDecay {
    StepDecay {
        lr,
        step_size,
        gamma: Some(gamma),
        half_life: None,
    }
}

fn exponential(lr: f64, gamma: f64, decay_steps: u64) -> Exponential {
    Exponential {
        lr,
        gamma: Some(gamma),
        half_life: None,
        decay_steps,
        staircase: false,
    }
}

fn non_increasing(s: &Schedule, steps: u64) -> Result<(), TestCaseError> {
    s.validate()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    for t in 0..steps {
        let (a, b) = (s.lr(t), s.lr(t + 1));
        prop_assert!(
            b <= a,
            "{}: lr({}) = {a} < lr({}) = {b}",
            s.kind_name(),
            t,
            t + 1,
            b = b
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Claim C1: synchronised step and exponential decay (same γ per T
    /// steps): the step decay is never below, and they meet at multiples of T.
    #[test]
    fn step_dominates_synchronised_exponential(
        lr in 1e-4f64..1.0, period in 1u64..60, gamma in 0.05f64..0.999,
    ) {
        let s = step(lr, period, gamma);
        let e = exponential(lr, gamma, period);
        for t in 0..(period * 8) {
            let (a, b) = (s.lr(t), e.lr(t));
            if t.is_multiple_of(period) {
                prop_assert!((a - b).abs() <= 1e-14 * b, "t = {t}: step {a} vs exponential {b}");
            } else {
                prop_assert!(a > b, "t = {t}: step {a} <= exponential {b}");
            }
        }
    }

    #[test]
    fn decays_are_non_increasing(
        lr in 1e-4f64..1.0, n in 1u64..200, gamma in 0.05f64..1.0, power in 0.1f64..4.0,
        frac in 0.0f64..1.0, rate in 0.0f64..5.0, ms in proptest::collection::btree_set(0u64..300, 0..5),
    ) {
        let steps = 300;
        non_increasing(&Schedule::Step(step(lr, n, gamma)), steps)?;
        non_increasing(&Schedule::Exponential(exponential(lr, gamma, n)), steps)?;
        non_increasing(&Schedule::Multistep(MultiStep { lr, milestones: ms.into_iter().collect(), gamma }), steps)?;
        non_increasing(&Schedule::Polynomial(Polynomial { lr, total_steps: n, power, end_lr: lr * frac }), steps)?;
        non_increasing(&Schedule::Linear(Linear { lr, start_factor: 1.0, end_factor: frac, total_steps: n }), steps)?;
        non_increasing(&Schedule::InverseTime(InverseTime { lr, decay_rate: rate, decay_steps: n, staircase: frac < 0.5 }), steps)?;
        non_increasing(&Schedule::InverseSqrt(InverseSqrt { lr, timescale: n as f64 * frac + 0.1 }), steps)?;
        non_increasing(&Schedule::Cosine(Cosine { lr, total_steps: n, eta_min: lr * frac }), steps)?;
    }

    /// The warm-up meets its successor with a gap of exactly one warm-up
    /// increment then(0)·(1 − s)/W, and rises linearly before.
    #[test]
    fn warmup_joins_continuously(
        lr in 1e-4f64..1.0, w in 1u64..100, s in 0.0f64..1.0, n in 1u64..100,
    ) {
        let then = Schedule::Cosine(Cosine { lr, total_steps: n, eta_min: 0.0 });
        let wu = Warmup { warmup_steps: w, start_factor: s, then: Box::new(then) };
        wu.validate().unwrap();
        let inc = lr * (1.0 - s) / w as f64;
        let gap = (wu.lr(w) - wu.lr(w - 1)).abs();
        // lr(w − 1) and lr(w) are each rounded to within an ulp of lr, so the
        // gap may exceed the exact increment by a few ulps of lr (not of inc:
        // with s near 1 the increment is tiny).
        prop_assert!(gap <= inc + 4.0 * f64::EPSILON * lr, "gap {gap} > increment {inc}");
        prop_assert!((wu.lr(0) - lr * s).abs() <= 1e-15 * lr);
        prop_assert_eq!(wu.lr(w), lr);
        for t in 0..w {
            let d = wu.lr(t + 1) - wu.lr(t);
            prop_assert!((d - inc).abs() <= 1e-12 * lr, "step {t}: rise {d} vs {inc}");
        }
    }

    /// SGDR restarts: lr is back at lr (η_min + (lr − η_min)·2/2, within an
    /// ulp) at T_0·(1 + m + … + m^(k−1)) and below it one step earlier.
    #[test]
    fn cosine_restarts_restart_on_schedule(
        lr in 1e-3f64..1.0, t0 in 1u64..30, mult in 1u64..4, frac in 0.0f64..0.9,
    ) {
        let s = CosineRestarts { lr, t_0: t0, t_mult: mult, eta_min: lr * frac };
        s.validate().unwrap();
        for k in 0u32..6 {
            // Geometric series, computed independently of the code under test.
            let at = if mult == 1 { t0 * k as u64 } else { t0 * (mult.pow(k) - 1) / (mult - 1) };
            prop_assert!((s.lr(at) - lr).abs() <= 2.3e-16 * lr, "restart {} at {}: {}", k, at, s.lr(at));
            prop_assert_eq!(s.position(at).0, 0);
            if at > 0 && t0 > 1 {
                prop_assert!(s.lr(at - 1) < lr);
            }
        }
    }

    /// CyclicLR stays within its band; momentum mirrors the lr.
    #[test]
    fn cyclic_stays_in_band(
        base in 1e-4f64..0.1, span in 1e-3f64..1.0, up in 1u64..50, down in 1u64..50,
        mode in 0usize..3, gamma in 0.9f64..1.0,
    ) {
        let c = Cyclic {
            base_lr: base, max_lr: base + span, step_size_up: up, step_size_down: Some(down),
            mode: [CyclicMode::Triangular, CyclicMode::Triangular2, CyclicMode::ExpRange][mode],
            gamma, cycle_momentum: true, base_momentum: 0.8, max_momentum: 0.9, phase: 0,
        };
        c.validate().unwrap();
        for t in 0..400 {
            let lr = c.lr(t);
            let m = c.momentum(t).unwrap();
            prop_assert!(lr >= base * (1.0 - 1e-15) && lr <= (base + span) * (1.0 + 1e-15));
            // (lr − base)/span + (0.9 − m)/0.1 are the same fraction.
            prop_assert!(((lr - base) / span - (0.9 - m) / 0.1).abs() < 1e-9);
        }
        // Peak of cycle one at step_size_up: max_lr (scale 1 in cycle 1 except exp_range).
        if mode != 2 {
            prop_assert!((c.lr(up) - (base + span)).abs() <= 1e-14 * (base + span));
        }
    }

    /// OneCycleLR: starts at max_lr/div_factor, peaks next to PyTorch's
    /// phase end pct·N − 1, never exceeds max_lr, ends at
    /// max_lr/div_factor/final_div_factor at N − 1; momentum mirrors it.
    #[test]
    fn onecycle_shape(
        max_lr in 1e-3f64..1.0, n in 20u64..400, pct in 0.1f64..0.9, linear in any::<bool>(),
        div in 2.0f64..50.0, fdiv in 1.0f64..1e4,
    ) {
        let s = OneCycle {
            max_lr, total_steps: n, pct_start: pct,
            anneal_strategy: if linear { Anneal::Linear } else { Anneal::Cos },
            div_factor: div, final_div_factor: fdiv, three_phase: false,
            cycle_momentum: true, base_momentum: 0.85, max_momentum: 0.95,
        };
        prop_assume!(pct * n as f64 - 1.0 > 0.0);
        s.validate().unwrap();
        prop_assert!((s.lr(0) - max_lr / div).abs() <= 1e-15 * max_lr);
        prop_assert!((s.lr(n - 1) - max_lr / div / fdiv).abs() <= 3e-16 * max_lr);
        let lrs: Vec<f64> = (0..n).map(|t| s.lr(t)).collect();
        let peak = (0..n as usize).max_by(|&a, &b| lrs[a].total_cmp(&lrs[b])).unwrap() as f64;
        let end1 = pct * n as f64 - 1.0;
        prop_assert!(peak == end1.floor() || peak == end1.floor() + 1.0, "peak {peak}, phase end {end1}");
        for (t, &lr) in lrs.iter().enumerate() {
            prop_assert!(lr <= max_lr * (1.0 + 1e-15));
            let m = s.momentum(t as u64).unwrap();
            // Same anneal fraction for lr and momentum within a phase.
            let (lo, hi) = if (t as f64) <= end1 { (max_lr / div, max_lr) } else { (max_lr / div / fdiv, max_lr) };
            let f_lr = (lr - lo) / (hi - lo);
            let f_m = (0.95 - m) / 0.1;
            prop_assert!((f_lr - f_m).abs() < 1e-9, "t {t}: {f_lr} vs {f_m}");
        }
    }
}
