//! Schedule-free in a real run: the trace's loss of row t is f at x after t
//! updates, `final_loss` is f(x) after the last and `final_position` is x
//! (the point the package's `optimizer.eval()` gives), against the trajectories of
//! `tests/fixtures/optimizers/schedulefree.json` (written by
//! `scripts/golden_schedulefree.py` from the `schedulefree` package), to
//! 1e-10 relative.

use crate::config::Plan;
use crate::optimizer::OptimizerKind;
use crate::runner::{run_one, Prepared};
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
    x: Vec<Vec<f64>>,
    loss: Vec<f64>,
}

fn golden() -> Golden {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/optimizers/schedulefree.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn close(ours: f64, theirs: f64) -> bool {
    approx::relative_eq!(ours, theirs, epsilon = 1e-13, max_relative = 1e-10)
}

fn quadratic(h: &[f64], x: &[f64]) -> f64 {
    0.5 * h.iter().zip(x).map(|(h, x)| h * x * x).sum::<f64>()
}

#[test]
fn a_run_reports_the_loss_at_x() {
    let g = golden();
    for c in &g.cases {
        // The script's lrs: constant, or (1 + cos(πt/T))/2 times the peak,
        // which is valley's cosine schedule.
        let schedule = if c.lr.iter().all(|&l| l == c.lr[0]) {
            format!("kind = \"constant\"\nlr = {:?}", c.lr[0])
        } else {
            format!(
                "kind = \"cosine\"\nlr = {:?}\ntotal_steps = {}",
                c.lr[0], g.steps
            )
        };
        let fields = serde_json::to_value(&c.optimizer).unwrap();
        let fields: toml::Value = serde_json::from_value(fields).unwrap();
        let src = format!(
            "name = \"sf\"\nsteps = {steps}\nseeds = 1\ntrace_every = 1\ntrace_positions = true\nhessian = false\n\
             [[landscape]]\nkind = \"quadratic\"\ndim = 3\neigenvalues = {h:?}\n\
             init = {{ kind = \"point\", x = {x0:?} }}\n\
             [optimizer]\n{opt}\n\
             [[schedule]]\n{schedule}\n",
            steps = g.steps,
            h = c.h,
            x0 = c.x0,
            opt = toml::to_string(&fields).unwrap(),
        );
        let src = src.replace("[optimizer]", "[[optimizer]]");
        let plan = Plan::from_source(std::path::Path::new("sf.toml"), &src)
            .unwrap_or_else(|e| panic!("{}: {e}\n{src}", c.name));
        let prepared = Prepared::new(&plan);
        let r = run_one(&plan, &prepared, &plan.run(0));
        assert!(!r.row.diverged, "{}", c.name);
        for (t, &lr) in r.trace.lr.iter().enumerate() {
            assert!(close(lr, c.lr[t]), "{} lr({t})", c.name);
        }
        // Row 0: x = y = x0; row t ≥ 1: x after t updates.
        assert!(close(r.trace.loss[0], quadratic(&c.h, &c.x0)));
        for t in 1..g.steps {
            assert!(
                close(r.trace.loss[t], c.loss[t - 1]),
                "{} row {t}: {} against {}",
                c.name,
                r.trace.loss[t],
                c.loss[t - 1]
            );
        }
        assert!(close(r.row.final_loss, c.loss[g.steps - 1]), "{}", c.name);
        let end = r.row.final_position.as_ref().unwrap();
        for (ours, theirs) in end.iter().zip(&c.x[g.steps - 1]) {
            assert!(close(*ours, *theirs), "{}: final_position", c.name);
        }
    }
}
