//! Data-defined landscapes and minibatch noise through the sweep runner.

use crate::common::{refused, stderr, valley};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use valley::config::Plan;
use valley::landscape::Landscape;
use valley::runner::{run_one, Prepared, RunResult};

/// A plan read as if the sweep file lived in tests/fixtures/data/.
fn plan(src: &str) -> Plan {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data/sweep.toml");
    Plan::from_source(&file, src).unwrap()
}

fn runs(p: &Plan) -> Vec<RunResult> {
    let prepared = Prepared::new(p);
    p.specs().iter().map(|r| run_one(p, &prepared, r)).collect()
}

const ONE_HOT: &str = r#"
name = "epochs"
steps = 24
seeds = 2
trace_every = 1
trace_positions = true
hessian = false
[[landscape]]
kind = "least_squares"
data = { file = "one_hot.csv", target = "y" }
init = { kind = "point", x = [0.0, 0.0, 0.0, 0.0] }
[[optimizer]]
kind = "sgd"
noise = { kind = "minibatch", batch_size = 1 }
[[schedule]]
kind = "constant"
lr = { sweep = [0.5, 0.25] }
"#;

/// The one-hot data set: sample i moves coordinate i only, so the trace's
/// positions show which sample each update used.
fn samples_used(r: &RunResult) -> Vec<usize> {
    let d = 4;
    let mut pos: Vec<&[f64]> = r.trace.position.chunks(d).collect();
    let end = r.row.final_position.as_ref().unwrap();
    pos.push(end);
    pos.windows(2)
        .map(|w| {
            let moved: Vec<usize> = (0..d).filter(|&i| w[0][i] != w[1][i]).collect();
            assert_eq!(moved.len(), 1, "{:?} -> {:?}", w[0], w[1]);
            moved[0]
        })
        .collect()
}

#[test]
fn every_sample_once_per_epoch_in_the_trace() {
    let p = plan(ONE_HOT);
    let results = runs(&p);
    for r in &results {
        let used = samples_used(r);
        assert_eq!(used.len(), 24);
        for epoch in used.chunks(4) {
            let mut e = epoch.to_vec();
            e.sort_unstable();
            assert_eq!(e, [0, 1, 2, 3], "{used:?}");
        }
        // batch_loss is sample i's loss (x_i − y_i)²/2 at x_t; the trace's
        // loss the mean over all four.
        for (t, &i) in used.iter().enumerate() {
            let x = &r.trace.position[t * 4..t * 4 + 4];
            let y = (i + 1) as f64;
            assert_eq!(r.trace.batch_loss[t], Some(0.5 * (x[i] - y).powi(2)));
            let full: f64 = (0..4).map(|k| (x[k] - (k + 1) as f64).powi(2)).sum::<f64>();
            assert!((r.trace.loss[t] - 0.5 * full / 4.0).abs() < 1e-15);
        }
    }
    // Runs that differ only in the lr see the same batches; other seeds
    // see other ones.
    let by_seed_lr = |seed: u64, lr: f64| {
        let i = p
            .specs()
            .iter()
            .position(|r| r.seed == seed && p.schedules[r.schedule].schedule.lr(0) == lr)
            .unwrap();
        samples_used(&results[i])
    };
    assert_eq!(by_seed_lr(0, 0.5), by_seed_lr(0, 0.25));
    assert_ne!(by_seed_lr(0, 0.5), by_seed_lr(1, 0.5));
}

#[test]
fn batch_of_every_sample_is_noise_none_bit_for_bit() {
    for landscape in [
        "kind = \"least_squares\"\ndata = { n = 64, d = 5 }",
        "kind = \"logistic\"\ndata = { n = 64, d = 5 }",
        "kind = \"mlp\"\nwidth = 4\ndata = { n = 64, d = 3 }",
    ] {
        let src = |noise: &str| {
            format!(
                "name = \"b\"\nsteps = 200\nseeds = 2\ntrace_every = 1\ntrace_positions = true\nhessian_every = 50\n\
                 [[landscape]]\n{landscape}\n[[optimizer]]\nkind = \"sgd\"\nmomentum = 0.9\nnoise = {noise}\n\
                 [[schedule]]\nkind = \"step\"\nlr = 0.1\nstep_size = 50\ngamma = 0.5\n"
            )
        };
        let full = runs(&plan(&src("{ kind = \"none\" }")));
        let batched = runs(&plan(&src("{ kind = \"minibatch\", batch_size = 64 }")));
        for (a, b) in full.iter().zip(&batched) {
            assert_eq!(a.trace.loss, b.trace.loss, "{landscape}");
            assert_eq!(a.trace.position, b.trace.position, "{landscape}");
            assert_eq!(a.trace.sharpness, b.trace.sharpness, "{landscape}");
            assert_eq!(a.row.final_loss, b.row.final_loss, "{landscape}");
            // The batch loss of the whole data set is the loss.
            let bl: Vec<f64> = b.trace.batch_loss.iter().map(|v| v.unwrap()).collect();
            assert_eq!(bl, b.trace.loss, "{landscape}");
        }
    }
}

/// How often the runner asked a landscape for each quantity.
#[derive(Default)]
struct Counts {
    full_gradients: AtomicUsize,
    full_values: AtomicUsize,
    batch_samples: AtomicUsize,
}

/// A landscape that counts its calls into shared [`Counts`].
struct Counting {
    inner: Box<dyn Landscape>,
    counts: Arc<Counts>,
}

impl Landscape for Counting {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn value(&self, x: &[f64]) -> f64 {
        self.counts.full_values.fetch_add(1, Ordering::Relaxed);
        self.inner.value(x)
    }
    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.counts.full_gradients.fetch_add(1, Ordering::Relaxed);
        self.inner.value_and_gradient(x, grad)
    }
    fn samples(&self) -> Option<usize> {
        self.inner.samples()
    }
    fn batch_value_and_gradient(&self, x: &[f64], batch: &[usize], grad: &mut [f64]) -> f64 {
        self.counts
            .batch_samples
            .fetch_add(batch.len(), Ordering::Relaxed);
        self.inner.batch_value_and_gradient(x, batch, grad)
    }
}

/// Under minibatch noise a step computes its batch's gradient only: the
/// full-data loss on the traced steps (0, 10, ..., 90 and the last, 99: 11
/// of them) and the full gradient once, at the final point, for
/// runs.parquet. Without noise every step computes the full gradient.
#[test]
fn a_minibatch_step_computes_only_its_batch() {
    let sweep = |noise: &str| {
        plan(&format!(
            "name = \"cost\"\nsteps = 100\ntrace_every = 10\nhessian = false\n\
             [[landscape]]\nkind = \"least_squares\"\ndata = {{ n = 200, d = 3 }}\n\
             [[optimizer]]\nkind = \"sgd\"\nnoise = {noise}\n\
             [[schedule]]\nkind = \"constant\"\nlr = 0.05\n"
        ))
    };
    let counted = |p: &Plan| {
        let built = Prepared::new(p);
        let counts = Arc::new(Counts::default());
        let inner = built.landscapes.into_iter().next().unwrap();
        let prepared = Prepared {
            landscapes: vec![Box::new(Counting {
                inner,
                counts: counts.clone(),
            })],
            minima: built.minima,
        };
        let r = run_one(p, &prepared, &p.run(0));
        assert!(!r.row.diverged);
        let n = |c: &AtomicUsize| c.load(Ordering::Relaxed);
        let calls = (
            n(&counts.full_gradients),
            n(&counts.full_values),
            n(&counts.batch_samples),
        );
        (r, calls)
    };
    let (r, calls) = counted(&sweep("{ kind = \"minibatch\", batch_size = 8 }"));
    assert_eq!(calls, (1, 11, 100 * 8));
    // min_loss and best_loss are over the traced steps and the final point.
    let traced_min = r
        .trace
        .loss
        .iter()
        .copied()
        .fold(r.row.final_loss, f64::min);
    assert_eq!(r.trace.loss.len(), 11);
    assert_eq!((r.row.min_loss, r.row.best_loss), (traced_min, traced_min));
    let (_, calls) = counted(&sweep("{ kind = \"none\" }"));
    assert_eq!(calls, (101, 0, 0));
}

#[test]
fn minibatch_errors_name_the_noise_field() {
    let file = Path::new("x.toml");
    let quadratic = "name = \"m\"\nsteps = 5\n[[landscape]]\nkind = \"quadratic\"\ndim = 2\neigenvalues = [1.0, 2.0]\n\
                     [[optimizer]]\nkind = \"sgd\"\n[[optimizer]]\nkind = \"adam\"\nnoise = { kind = \"minibatch\", batch_size = 4 }\n\
                     [[schedule]]\nkind = \"constant\"\nlr = 0.1\n";
    let e = Plan::from_source(file, quadratic).unwrap_err().to_string();
    assert!(
        e.contains("x.toml:11") && e.contains("optimizer[1].noise.kind"),
        "{e}"
    );
    let big = quadratic.replace(
        "kind = \"quadratic\"\ndim = 2\neigenvalues = [1.0, 2.0]",
        "kind = \"logistic\"\ndata = { n = 3 }",
    );
    let e = Plan::from_source(file, &big).unwrap_err().to_string();
    assert!(
        e.contains("optimizer[1].noise.batch_size") && e.contains("3 samples"),
        "{e}"
    );
    let missing = ONE_HOT.replace("one_hot.csv", "nowhere.csv");
    let e = Plan::from_source(file, &missing).unwrap_err().to_string();
    assert!(
        e.contains("landscape[0].data.file") && e.contains("nowhere.csv"),
        "{e}"
    );
}

/// `valley inspect` on each data landscape of golden.json, the data file
/// next to the sweep file: value, gradient and Hessian eigenvalues agree
/// with benches/peers/data_landscapes.py to 1e-9 relative.
#[test]
fn inspect_agrees_with_the_numpy_reference() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data");
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("golden.json")).unwrap())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for f in ["regression.csv", "classification.csv", "matrix.csv"] {
        std::fs::copy(fixtures.join(f), dir.path().join(f)).unwrap();
    }
    let floats = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_f64().unwrap())
            .collect()
    };
    let close = |what: &str, got: &[f64], want: &[f64]| {
        let scale = want.iter().fold(0.0f64, |m, a| m.max(a.abs()));
        for (a, b) in got.iter().zip(want) {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1e-3 * scale),
                "{what}: {a} vs {b}"
            );
        }
        assert_eq!(got.len(), want.len());
    };
    let mut checked = 0;
    for case in golden["cases"].as_array().unwrap() {
        let table = case["table"].as_str().unwrap();
        std::fs::write(dir.path().join("l.toml"), format!("[landscape]\n{table}\n")).unwrap();
        for point in case["points"].as_array().unwrap() {
            let at: Vec<String> = floats(&point["x"])
                .iter()
                .map(|v| format!("{v:?}"))
                .collect();
            let out = valley(&["inspect", "l.toml", "--at", &at.join(",")], dir.path());
            assert!(out.status.success(), "{}", stderr(&out));
            let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            close(
                table,
                &[got["value"].as_f64().unwrap()],
                &[point["value"].as_f64().unwrap()],
            );
            close(
                table,
                &floats(&got["gradient"]),
                &floats(&point["gradient"]),
            );
            close(
                table,
                &floats(&got["hessian_eigenvalues"]),
                &floats(&point["hessian_eigenvalues"]),
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 10);
    // A bad file exits 2 and names the field.
    std::fs::write(dir.path().join("bad.csv"), "x0,y\n1,2\nx,3\n").unwrap();
    std::fs::write(
        dir.path().join("l.toml"),
        "[landscape]\nkind = \"least_squares\"\ndata = { file = \"bad.csv\", target = \"y\" }\n",
    )
    .unwrap();
    let out = valley(&["inspect", "l.toml", "--at", "0"], dir.path());
    refused(&out, &["landscape.data.file", "bad.csv:3"]);
}
