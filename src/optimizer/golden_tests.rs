//! Replays the torch.optim trajectories of `tests/fixtures/optimizers/golden.json`
//! (written by `scripts/golden_optimizers.py`, torch float64, single-tensor
//! path) through our optimizers and landscapes.
//!
//! Each case feeds the recorded learning rate (and, under OneCycleLR, the
//! recorded momentum/beta1) into [`StepParams`]. Two checks, both to 1e-9
//! relative or 1e-12 absolute:
//!
//! - free run: our own trajectory from x0 against torch's, at every step
//!   while torch's trajectory is not chaotic. SGD on Rastrigin at lr 0.05 is
//!   (lr·f'' reaches 0.05·(2 + 40π²) ≈ 20): one ulp in x0 grows to O(1) within
//!   ~15 steps (the fixture's `sensitivity`), and torch's CPU `add_(alpha=)`
//!   kernel rounds once (fused multiply-add) where plain Rust rounds twice, so
//!   no implementation can follow it for 60 steps. Steps are compared while
//!   the sensitivity is <= 1e-12, which is all 60 for 36 of the 48 cases.
//! - single steps: every step of every case restarted from torch's own x and
//!   optimizer state, comparing x and the state buffers afterwards.

use super::{OptimizerKind, StepParams};
use crate::landscape::LandscapeKind;
use crate::rng::{rng_for, Stream};
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    steps: usize,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    landscape: LandscapeKind,
    x0: Vec<f64>,
    optimizer: OptimizerKind,
    cycles_momentum: bool,
    lr: Vec<f64>,
    momentum: Vec<f64>,
    x: Vec<Vec<f64>>,
    state: Vec<TorchState>,
    sensitivity: Vec<f64>,
}

/// torch's optimizer state after a step, in our slot layout.
#[derive(Deserialize)]
struct TorchState {
    step: Option<u64>,
    slots: Vec<Vec<f64>>,
    started: Vec<bool>,
}

/// Largest sensitivity (spread under a one-ulp change of x0) at which a free
/// run is still compared.
const CHAOS_CUTOFF: f64 = 1e-12;

fn close(ours: f64, theirs: f64) -> bool {
    approx::relative_eq!(ours, theirs, epsilon = 1e-12, max_relative = 1e-9)
}

fn golden() -> Golden {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/optimizers/golden.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn params(c: &Case, t: usize) -> StepParams {
    let mut p = StepParams::new(c.lr[t]);
    if c.cycles_momentum {
        p.momentum = Some(c.momentum[t]);
    }
    p
}

/// Runs one case from x0; returns the number of steps compared and the first
/// mismatch (step, coordinate, ours, torch's), if any.
fn replay(c: &Case) -> (usize, Option<(usize, usize, f64, f64)>) {
    c.optimizer.spec().validate().unwrap();
    let f = c
        .landscape
        .spec()
        .build(&mut rng_for(0, &c.name, Stream::Landscape));
    let opt = c.optimizer.spec();
    let mut x = c.x0.clone();
    let mut g = vec![0.0; x.len()];
    let mut st = opt.init_state(x.len());
    for t in 0..c.lr.len() {
        if c.sensitivity[t] > CHAOS_CUTOFF {
            return (t, None);
        }
        f.value_and_gradient(&x, &mut g);
        opt.step(&params(c, t), &mut x, &g, &mut st);
        for (i, (&ours, &theirs)) in x.iter().zip(&c.x[t]).enumerate() {
            if !close(ours, theirs) {
                return (t, Some((t, i, ours, theirs)));
            }
        }
    }
    (c.lr.len(), None)
}

#[test]
fn trajectories_match_torch_optim() {
    let g = golden();
    assert_eq!(g.cases.len(), 48);
    let mut failures = Vec::new();
    let mut full = 0;
    for c in &g.cases {
        assert_eq!(c.x.len(), g.steps, "{}", c.name);
        assert_eq!(c.sensitivity.len(), g.steps, "{}", c.name);
        let (compared, mismatch) = replay(c);
        if let Some((t, i, ours, theirs)) = mismatch {
            failures.push(format!(
                "{}: step {t} x[{i}] = {ours:e}, torch {theirs:e} (sensitivity {:e})",
                c.name, c.sensitivity[t]
            ));
        }
        if compared == g.steps {
            full += 1;
        } else {
            // Only plain-gradient SGD on Rastrigin is chaotic, and it is
            // still followed for the first few steps.
            assert!(c.name.starts_with("rastrigin/"), "{}", c.name);
            assert!(matches!(c.optimizer, OptimizerKind::Sgd(_)), "{}", c.name);
            assert!(compared >= 3, "{}: {compared} steps", c.name);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(full, 36);
}

#[test]
fn every_step_matches_torch_from_its_own_state() {
    let g = golden();
    let mut failures = Vec::new();
    for c in &g.cases {
        let f = c
            .landscape
            .spec()
            .build(&mut rng_for(0, &c.name, Stream::Landscape));
        let opt = c.optimizer.spec();
        let mut grad = vec![0.0; c.x0.len()];
        for t in 0..g.steps {
            let (mut x, mut st) = if t == 0 {
                (c.x0.clone(), opt.init_state(c.x0.len()))
            } else {
                let prev = &c.state[t - 1];
                let mut st = opt.init_state(c.x0.len());
                st.step = prev.step.unwrap_or(t as u64);
                st.slots.clone_from(&prev.slots);
                st.started.clone_from(&prev.started);
                (c.x[t - 1].clone(), st)
            };
            f.value_and_gradient(&x, &mut grad);
            opt.step(&params(c, t), &mut x, &grad, &mut st);
            let want = &c.state[t];
            let mut bad = x
                .iter()
                .zip(&c.x[t])
                .position(|(a, b)| !close(*a, *b))
                .map(|i| format!("x[{i}] = {:e}, torch {:e}", x[i], c.x[t][i]));
            for (k, (ours, theirs)) in st.slots.iter().zip(&want.slots).enumerate() {
                if !want.started[k] {
                    continue;
                }
                if let Some(i) = ours.iter().zip(theirs).position(|(a, b)| !close(*a, *b)) {
                    bad.get_or_insert(format!(
                        "slot {k}[{i}] = {:e}, torch {:e}",
                        ours[i], theirs[i]
                    ));
                }
            }
            if let Some(s) = want.step {
                assert_eq!(st.step, s, "{}", c.name);
            }
            if let Some(b) = bad {
                failures.push(format!("{} step {t}: {b}", c.name));
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
