//! Replays the trajectories of `tests/fixtures/optimizers/schedulefree.json`
//! (written by `scripts/golden_schedulefree.py` from the `schedulefree`
//! package's reference optimizers, torch float64) on f = x'Hx/2, H = diag(h):
//! after every step y (the parameters), x (the point `optimizer.eval()`
//! gives), z and f(x), to 1e-10 relative (1e-13 absolute). The runner's
//! `schedulefree_tests` replays the same fixture through real runs.

use super::{OptimizerKind, StepParams};
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    steps: usize,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    optimizer: OptimizerKind,
    h: Vec<f64>,
    x0: Vec<f64>,
    lr: Vec<f64>,
    y: Vec<Vec<f64>>,
    x: Vec<Vec<f64>>,
    z: Vec<Vec<f64>>,
    loss: Vec<f64>,
}

fn golden() -> Golden {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/optimizers/schedulefree.json"
    );
    let text = std::fs::read_to_string(path).expect("run scripts/golden_schedulefree.py");
    serde_json::from_str(&text).unwrap()
}

fn close(ours: f64, theirs: f64) -> bool {
    approx::relative_eq!(ours, theirs, epsilon = 1e-13, max_relative = 1e-10)
}

fn assert_close(what: &str, ours: &[f64], theirs: &[f64]) {
    assert_eq!(ours.len(), theirs.len(), "{what}");
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        assert!(close(a, b), "{what}[{i}]: ours {a:e}, schedulefree {b:e}");
    }
}

fn quadratic(h: &[f64], x: &[f64]) -> f64 {
    0.5 * h.iter().zip(x).map(|(h, x)| h * x * x).sum::<f64>()
}

#[test]
fn trajectories_match_the_schedulefree_package() {
    let g = golden();
    assert_eq!(g.cases.len(), 4);
    let kinds: Vec<&str> = g.cases.iter().map(|c| c.optimizer.kind_name()).collect();
    assert!(kinds.contains(&"sgd_schedulefree") && kinds.contains(&"adamw_schedulefree"));
    for c in &g.cases {
        let opt = c.optimizer.spec();
        opt.validate().unwrap();
        let mut y = c.x0.clone();
        let mut state = opt.init_state(y.len());
        assert!(opt.eval_point(&state).is_none(), "{}", c.name);
        let mut grad = vec![0.0; y.len()];
        for t in 0..g.steps {
            for ((g, h), y) in grad.iter_mut().zip(&c.h).zip(&y) {
                *g = h * y;
            }
            opt.step(&StepParams::new(c.lr[t]), &mut y, &grad, &mut state);
            let at = format!("{} step {t}", c.name);
            assert_close(&format!("{at} y"), &y, &c.y[t]);
            assert_close(&format!("{at} z"), &state.slots[0], &c.z[t]);
            let x = opt.eval_point(&state).unwrap();
            assert_close(&format!("{at} x"), x, &c.x[t]);
            assert!(close(quadratic(&c.h, x), c.loss[t]), "{at} loss");
        }
    }
}
