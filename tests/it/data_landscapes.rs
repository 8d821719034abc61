//! Data-defined landscapes (least_squares, logistic, matrix_factorization,
//! mlp) and minibatch noise.
//!
//! - Loaded from the committed files of tests/fixtures/data/, each landscape
//!   agrees with the independent numpy/torch script
//!   benches/peers/data_landscapes.py (golden.json) on value, gradient and
//!   Hessian eigenvalues to 1e-9 relative, and on the known minima.
//! - Parquet files read as the CSV files do; bad files and fields are
//!   SpecErrors naming the field, the line and the column.
//! - Hessian-vector products agree with central differences of the gradient
//!   (proptest over points and directions).
//! - Minibatch noise: batch_size = n is bit for bit full-batch gradient
//!   descent; without replacement every sample is used exactly once per
//!   epoch.

use polars::prelude::*;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use valley::curvature::dense_eigenvalues;
use valley::landscape::{Landscape, LandscapeKind};
use valley::optimizer::noise::minibatch::{Minibatch, Order};
use valley::optimizer::noise::NoiseSpec;
use valley::rng::{rng_for, Stream};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data")
}

fn golden() -> serde_json::Value {
    let text = std::fs::read_to_string(fixtures().join("golden.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Parses, loads (relative to `base`), validates and builds a landscape table.
fn build(table: &str, base: &Path) -> Result<Box<dyn Landscape>, valley::SpecError> {
    let mut kind: LandscapeKind = toml::from_str(table).expect("the table parses");
    kind.spec_mut().load_data(base)?;
    kind.spec().validate()?;
    Ok(kind.spec().build(&mut rng_for(0, table, Stream::Landscape)))
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_f64().unwrap())
        .collect()
}

/// |got − want| <= rel·max(|want|, floor) for every entry.
fn assert_close(what: &str, got: &[f64], want: &[f64], rel: f64, floor: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= rel * b.abs().max(floor),
            "{what}[{i}]: valley {a} vs reference {b}"
        );
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, a| m.max(a.abs()))
}

#[test]
fn file_landscapes_match_the_numpy_reference() {
    let g = golden();
    let mut compared = 0;
    for case in g["cases"].as_array().unwrap() {
        let table = case["table"].as_str().unwrap();
        let f = build(table, &fixtures()).unwrap();
        for point in case["points"].as_array().unwrap() {
            let x = floats(&point["x"]);
            let mut grad = vec![0.0; x.len()];
            let value = f.value_and_gradient(&x, &mut grad);
            let want = point["value"].as_f64().unwrap();
            assert_close(&format!("{table}: value"), &[value], &[want], 1e-9, 0.0);
            assert_eq!(
                f.value(&x),
                value,
                "{table}: value() and value_and_gradient()"
            );
            let want_grad = floats(&point["gradient"]);
            // Components far below the gradient's norm are compared to it.
            let floor = 1e-3 * max_abs(&want_grad);
            assert_close(
                &format!("{table}: gradient"),
                &grad,
                &want_grad,
                1e-9,
                floor,
            );
            let want_eig = floats(&point["hessian_eigenvalues"]);
            let floor = 1e-3 * max_abs(&want_eig);
            let eig = dense_eigenvalues(f.as_ref(), &x);
            assert_close(
                &format!("{table}: eigenvalues"),
                &eig,
                &want_eig,
                1e-9,
                floor,
            );
            compared += 1;
        }
        if let Some(m) = case.get("minimum") {
            let got = &f.minima()[0];
            let want_x = floats(&m["x"]);
            assert_close(
                &format!("{table}: argmin"),
                &got.x,
                &want_x,
                1e-9,
                1e-3 * max_abs(&want_x),
            );
            assert_close(
                &format!("{table}: min"),
                &[got.value],
                &[m["value"].as_f64().unwrap()],
                1e-12,
                0.0,
            );
        }
        if let Some(best) = case.get("best_value") {
            assert_close(
                &format!("{table}: Eckart-Young"),
                &[f.best_known_value().unwrap()],
                &[best.as_f64().unwrap()],
                1e-12,
                0.0,
            );
        }
    }
    assert_eq!(compared, 10, "five kinds, two points each");
}

/// Writes a CSV fixture as Parquet with polars and reads it back through the
/// landscape: the same numbers, bit for bit.
#[test]
fn parquet_files_read_as_csv_files() {
    let dir = tempfile::tempdir().unwrap();
    let csv = std::fs::read_to_string(fixtures().join("regression.csv")).unwrap();
    let mut lines = csv.lines();
    let names: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let columns: Vec<Column> = names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            Column::new(
                (*name).into(),
                rows.iter().map(|r| r[j]).collect::<Vec<f64>>(),
            )
        })
        .collect();
    let mut df = DataFrame::new_infer_height(columns).unwrap();
    let path = dir.path().join("regression.parquet");
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    let from_csv = build(
        "kind = \"least_squares\"\ndata = { file = \"regression.csv\", target = \"y\" }",
        &fixtures(),
    )
    .unwrap();
    let from_parquet = build(
        "kind = \"least_squares\"\ndata = { file = \"regression.parquet\", target = \"y\" }",
        dir.path(),
    )
    .unwrap();
    let x = [0.3, -0.7, 1.1];
    let (mut g1, mut g2) = ([0.0; 3], [0.0; 3]);
    assert_eq!(
        from_csv.value_and_gradient(&x, &mut g1),
        from_parquet.value_and_gradient(&x, &mut g2)
    );
    assert_eq!(g1, g2);

    // A string column in a Parquet file is named.
    let mut bad = df!("x0" => [1.0, 2.0], "y" => ["a", "b"]).unwrap();
    let path = dir.path().join("strings.parquet");
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut bad)
        .unwrap();
    let e = build(
        "kind = \"least_squares\"\ndata = { file = \"strings.parquet\", target = \"y\" }",
        dir.path(),
    )
    .err()
    .unwrap();
    assert_eq!(e.field, "data.file");
    assert!(e.message.contains("column `y`"), "{e}");
}

#[test]
fn bad_data_files_and_fields_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.csv"), "x0,y\n1.0,2.0\n3.0,oops\n").unwrap();
    std::fs::write(dir.path().join("labels.csv"), "x0,y\n1.0,1\n3.0,2\n").unwrap();
    let cases = [
        (
            "kind = \"least_squares\"\ndata = { file = \"missing.csv\", target = \"y\" }",
            "data.file",
            "missing.csv",
        ),
        (
            "kind = \"least_squares\"\ndata = { file = \"bad.csv\", target = \"y\" }",
            "data.file",
            "bad.csv:3: column `y`: `oops`",
        ),
        (
            "kind = \"mlp\"\ndata = { file = \"bad.csv\", target = \"label\" }",
            "data.file",
            "oops",
        ),
        (
            "kind = \"least_squares\"\ndata = { file = \"labels.csv\", target = \"z\" }",
            "data.target",
            "no column `z`",
        ),
        (
            "kind = \"logistic\"\ndata = { file = \"labels.csv\", target = \"y\" }",
            "data.target",
            "sample 1 has 2",
        ),
        (
            "kind = \"least_squares\"\ndata = { file = \"labels.csv\" }",
            "data.target",
            "required",
        ),
        (
            "kind = \"least_squares\"\ndata = { file = \"labels.csv\", target = \"y\", n = 3 }",
            "data.n",
            "generated",
        ),
        (
            "kind = \"least_squares\"\ndata = { file = \"labels.txt\", target = \"y\" }",
            "data.file",
            ".csv or .parquet",
        ),
        (
            "kind = \"logistic\"\ndata = { n = 10, label_noise = 0.5 }",
            "data.label_noise",
            "[0, 0.5)",
        ),
        (
            "kind = \"least_squares\"\ndata = { d = 3, covariance = [1.0, 2.0] }",
            "data.covariance",
            "needs 3",
        ),
        (
            "kind = \"least_squares\"\ndata = { separation = 1.0 }",
            "data.separation",
            "logistic",
        ),
        ("kind = \"logistic\"\nl2 = 0.0", "l2", "> 0"),
        (
            "kind = \"matrix_factorization\"\nrows = 3\ntarget_rank = 4",
            "target_rank",
            "min(rows, cols) = 3",
        ),
    ];
    for (table, field, message) in cases {
        let e = build(table, dir.path())
            .err()
            .unwrap_or_else(|| panic!("{table}: accepted"));
        assert_eq!(e.field, field, "{table}: {e}");
        assert!(e.message.contains(message), "{table}: {e}");
    }
    // Unknown fields are refused by serde.
    assert!(toml::from_str::<LandscapeKind>("kind = \"mlp\"\nwidht = 3").is_err());
    assert!(toml::from_str::<LandscapeKind>("kind = \"mlp\"\ndata = { m = 3 }").is_err());
}

/// Generated landscapes small enough for proptest.
fn generated() -> Vec<(&'static str, Box<dyn Landscape>)> {
    [
        "kind = \"least_squares\"\ndata = { n = 20, d = 4, covariance = { kind = \"geometric\", min = 0.1, max = 3.0 }, rotate = true }",
        "kind = \"logistic\"\nl2 = 0.01\ndata = { n = 25, d = 4, separation = 1.0, label_noise = 0.1 }",
        "kind = \"matrix_factorization\"\nrows = 4\ncols = 3\ntarget_rank = 2\nrank = 3",
        "kind = \"mlp\"\nwidth = 4\ndata = { n = 20, d = 3, label_noise = 0.1 }",
        "kind = \"mlp\"\nwidth = 4\nactivation = \"relu\"\ndata = { n = 20, d = 3 }",
    ]
    .into_iter()
    .map(|t| (t, build(t, Path::new(".")).unwrap()))
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// H·v against (∇f(x + εv) − ∇f(x − εv))/(2ε), ε = 1e-5, to 1e-5 of
    /// the product's norm (the difference's error is O(ε²)).
    #[test]
    fn hessian_vector_products_match_finite_differences(
        seed in 0u64..1000,
        scale in 0.1f64..2.0,
    ) {
        for (table, f) in generated() {
            let d = f.dim();
            let mut rng = rng_for(seed, table, Stream::Init);
            let x = valley::landscape::data::normal_vector(d, scale, &mut rng);
            let v = valley::landscape::data::normal_vector(d, 1.0, &mut rng);
            let mut hv = vec![0.0; d];
            f.hessian_vector_product(&x, &v, &mut hv);
            let eps = 1e-5;
            let (mut gp, mut gm) = (vec![0.0; d], vec![0.0; d]);
            let xp: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + eps * b).collect();
            let xm: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a - eps * b).collect();
            f.value_and_gradient(&xp, &mut gp);
            f.value_and_gradient(&xm, &mut gm);
            let norm = hv.iter().map(|a| a * a).sum::<f64>().sqrt().max(1e-3);
            for i in 0..d {
                let fd = (gp[i] - gm[i]) / (2.0 * eps);
                prop_assert!(
                    (hv[i] - fd).abs() <= 1e-5 * norm,
                    "{}: (Hv)[{}] = {} vs finite difference {}", table, i, hv[i], fd
                );
            }
        }
    }
}

fn minibatch(batch_size: usize, replacement: bool) -> NoiseSpec {
    NoiseSpec::Minibatch(Minibatch {
        batch_size,
        replacement,
    })
}

/// Gradient descent for `steps` steps at lr 0.1 with `noise`; the iterates.
fn descend(f: &dyn Landscape, noise: &NoiseSpec, steps: usize) -> Vec<Vec<f64>> {
    let d = f.dim();
    let mut rng = rng_for(7, "descend", Stream::Noise);
    let mut state = noise.state(f);
    let mut x = vec![0.5; d];
    let (mut g, mut scratch) = (vec![0.0; d], vec![0.0; d]);
    let mut path = vec![x.clone()];
    for _ in 0..steps {
        f.value_and_gradient(&x, &mut g);
        noise.perturb_with(
            &mut state,
            &mut rng,
            valley::optimizer::noise::NoiseStep::FIRST,
            f,
            &x,
            &mut g,
            &mut scratch,
        );
        x.iter_mut().zip(&g).for_each(|(a, b)| *a -= 0.1 * b);
        path.push(x.clone());
    }
    path
}

#[test]
fn batch_of_every_sample_is_full_batch_gradient_descent() {
    for (table, f) in generated() {
        let Some(n) = f.samples() else { continue };
        let full = descend(f.as_ref(), &NoiseSpec::default(), 30);
        let batched = descend(f.as_ref(), &minibatch(n, false), 30);
        assert_eq!(full, batched, "{table}: bit for bit");
        // A real minibatch does differ.
        assert_ne!(
            full,
            descend(f.as_ref(), &minibatch(n - 1, false), 30),
            "{table}"
        );
    }
}

#[test]
fn every_sample_once_per_epoch() {
    // n = 10, batch 3: epochs of batches 3, 3, 3, 1.
    let f = build(
        "kind = \"least_squares\"\ndata = { n = 10, d = 2 }",
        Path::new("."),
    )
    .unwrap();
    let noise = minibatch(3, false);
    let mut state = noise.state(f.as_ref());
    let mut rng = rng_for(1, "epochs", Stream::Noise);
    let (x, mut g, mut scratch) = ([0.2, -0.1], [0.0; 2], [0.0; 2]);
    let mut epochs: Vec<Vec<usize>> = Vec::new();
    for step in 0..40 {
        noise.perturb_with(
            &mut state,
            &mut rng,
            valley::optimizer::noise::NoiseStep::FIRST,
            f.as_ref(),
            &x,
            &mut g,
            &mut scratch,
        );
        let batch = state.get::<Order>().unwrap().last_batch().to_vec();
        assert_eq!(batch.len(), if step % 4 == 3 { 1 } else { 3 });
        assert!(batch.windows(2).all(|w| w[0] < w[1]), "ascending {batch:?}");
        // The recorded batch loss is the batch's mean loss.
        let mut gb = [0.0; 2];
        assert_eq!(
            state.batch_loss,
            Some(f.batch_value_and_gradient(&x, &batch, &mut gb))
        );
        assert_eq!(gb, g);
        if step % 4 == 0 {
            epochs.push(Vec::new());
        }
        epochs.last_mut().unwrap().extend(batch);
    }
    for (e, used) in epochs.iter().enumerate() {
        let mut sorted = used.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>(), "epoch {e}");
    }
    // A fresh permutation each epoch: the batches' order changes.
    assert!(epochs.windows(2).any(|w| w[0] != w[1]));
}

#[test]
fn sampling_with_replacement_is_unbiased() {
    // The mean over draws of the batch gradient is the full gradient: 20000
    // batches of 4 out of 20 samples, 4 standard errors.
    let (table, f) = generated().swap_remove(0);
    let noise = minibatch(4, true);
    let mut state = noise.state(f.as_ref());
    let mut rng = rng_for(3, table, Stream::Noise);
    let d = f.dim();
    let x = vec![0.3; d];
    let mut full = vec![0.0; d];
    f.value_and_gradient(&x, &mut full);
    let (mut g, mut scratch) = (vec![0.0; d], vec![0.0; d]);
    let draws = 20_000;
    let (mut sum, mut sq) = (vec![0.0; d], vec![0.0; d]);
    for _ in 0..draws {
        noise.perturb_with(
            &mut state,
            &mut rng,
            valley::optimizer::noise::NoiseStep::FIRST,
            f.as_ref(),
            &x,
            &mut g,
            &mut scratch,
        );
        for i in 0..d {
            sum[i] += g[i];
            sq[i] += g[i] * g[i];
        }
    }
    let n = draws as f64;
    for i in 0..d {
        let mean = sum[i] / n;
        let se = ((sq[i] / n - mean * mean) / n).sqrt();
        assert!(
            (mean - full[i]).abs() <= 4.0 * se,
            "{i}: {mean} vs {}",
            full[i]
        );
    }
}

#[test]
fn minibatch_needs_samples() {
    let quadratic: LandscapeKind =
        toml::from_str("kind = \"quadratic\"\ndim = 2\neigenvalues = [1.0, 2.0]").unwrap();
    let e = minibatch(4, false)
        .check_samples(quadratic.spec().samples())
        .unwrap_err();
    assert_eq!(e.field, "kind");
    let mf: LandscapeKind = toml::from_str("kind = \"matrix_factorization\"").unwrap();
    assert_eq!(mf.spec().samples(), None);
    let ls: LandscapeKind = toml::from_str("kind = \"least_squares\"\ndata = { n = 50 }").unwrap();
    assert_eq!(ls.spec().samples(), Some(50));
    let e = minibatch(64, false)
        .check_samples(ls.spec().samples())
        .unwrap_err();
    assert_eq!(e.field, "batch_size");
    assert!(e.message.contains("50 samples"), "{e}");
    minibatch(50, true)
        .check_samples(ls.spec().samples())
        .unwrap();
    assert_eq!(
        minibatch(0, false).validate().unwrap_err().field,
        "batch_size"
    );
    let n: NoiseSpec = toml::from_str("kind = \"minibatch\"\nbatch_size = 8").unwrap();
    assert_eq!(n, minibatch(8, false));
}
