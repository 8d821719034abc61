//! The expression engine against sympy (scripts/golden_expressions.py), the
//! hand-written Rosenbrock, central differences, and its error messages.

use super::*;
use crate::curvature::dense_eigenvalues;
use crate::landscape::functions::rosenbrock::Rosenbrock;
use crate::landscape::testing::{assert_gradient_matches, assert_hessian_matches};
use proptest::prelude::*;
use serde_json::Value;

/// tests/fixtures/landscapes/expressions.json (scripts/golden_expressions.py),
/// read by the test functions' tests too.
pub(crate) fn fixture() -> Value {
    let path = format!(
        "{}/tests/fixtures/landscapes/expressions.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub(crate) fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn spec(dim: usize, f: &str) -> ExpressionSpec {
    ExpressionSpec {
        dim,
        f: f.into(),
        params: BTreeMap::new(),
        minima: Vec::new(),
        minimum_value: None,
        view: None,
    }
}

fn close(a: f64, b: f64, rel: f64, scale: f64) -> bool {
    (a - b).abs() <= rel * scale.max(b.abs())
}

/// Value (1e-12), gradient (1e-9) and Hessian eigenvalues (1e-7), each
/// relative, against sympy's symbolic derivatives at 40 digits.
#[test]
fn value_gradient_and_hessian_eigenvalues_match_sympy() {
    let fx = fixture();
    let cases = fx["expressions"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let mut s = spec(
            case["dim"].as_u64().unwrap() as usize,
            case["f"].as_str().unwrap(),
        );
        for (k, v) in case["params"].as_object().unwrap() {
            s.params.insert(k.clone(), v.as_f64().unwrap());
        }
        s.validate().unwrap();
        let f = s.build();
        for p in case["points"].as_array().unwrap() {
            let x = floats(&p["x"]);
            let want = p["value"].as_f64().unwrap();
            let mut g = vec![0.0; x.len()];
            let v = f.value_and_gradient(&x, &mut g);
            assert!(close(v, want, 1e-12, 0.0), "{name} {x:?}: {v} vs {want}");
            assert_eq!(f.value(&x), v, "{name}: value alone");
            let want_g = floats(&p["gradient"]);
            let gscale = want_g.iter().fold(0.0f64, |m, a| m.max(a.abs()));
            for (a, b) in g.iter().zip(&want_g) {
                assert!(
                    close(*a, *b, 1e-9, gscale),
                    "{name} {x:?}: {g:?} vs {want_g:?}"
                );
            }
            let eig = dense_eigenvalues(&f, &x);
            let want_e = floats(&p["eigenvalues"]);
            let escale = want_e.iter().fold(0.0f64, |m, a| m.max(a.abs()));
            for (a, b) in eig.iter().zip(&want_e) {
                assert!(
                    close(*a, *b, 1e-7, escale),
                    "{name} {x:?}: {eig:?} vs {want_e:?}"
                );
            }
        }
    }
}

#[test]
fn hessian_vector_products_are_the_hessian_times_v() {
    let f = spec(
        3,
        "exp(x0*x1) + sin(x2)*x0^3 - log(1 + x1^2) * tanh(x2) + abs(x0 - x2)",
    )
    .build();
    let x = [0.3, -0.7, 1.1];
    let v = [1.0, -2.0, 0.5];
    let h = f.hessian(&x);
    let mut hv = [0.0; 3];
    f.hessian_vector_product(&x, &v, &mut hv);
    for i in 0..3 {
        let want: f64 = (0..3).map(|j| h[(i, j)] * v[j]).sum();
        assert!((hv[i] - want).abs() < 1e-12 * want.abs().max(1.0), "{hv:?}");
    }
    let mut diag = [0.0; 3];
    f.hessian_diagonal(&x, &mut diag);
    for i in 0..3 {
        assert_eq!(diag[i], h[(i, i)]);
    }
}

proptest! {
    /// The Rosenbrock formula compiled equals the hand-written Rosenbrock.
    #[test]
    fn compiled_rosenbrock_equals_the_hand_written_one(x in prop::collection::vec(-2.0f64..2.0, 5)) {
        let e = spec(5, "sum(i, 0, d-1, 100*(x[i+1] - x[i]^2)^2 + (x[i] - 1)^2)").build();
        let r = Rosenbrock { dim: 5 };
        let (mut ge, mut gr) = (vec![0.0; 5], vec![0.0; 5]);
        let (ve, vr) = (e.value_and_gradient(&x, &mut ge), r.value_and_gradient(&x, &mut gr));
        prop_assert!((ve - vr).abs() <= 1e-12 * vr.abs().max(1.0));
        for (a, b) in ge.iter().zip(&gr) {
            prop_assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0));
        }
        let (he, hr) = (e.hessian(&x), r.hessian(&x));
        prop_assert!((he - hr).abs().max() <= 1e-12 * 1200.0 * 4.0);
    }

    /// Every function and operator against central differences.
    #[test]
    fn derivatives_match_central_differences(x in prop::collection::vec(0.2f64..1.8, 3)) {
        let f = spec(
            3,
            "x0^x1 / (1 + x2^2) + tan(x0/2) - sqrt(x1) * cos(x2) + exp(-x0)*log(x1 + x2) - 2^x2 + x0^-1.5 + min(x0, x1) * max(x1, x2) + abs(x2 - 1)^3",
        )
        .build();
        assert_gradient_matches(&f, &x, 1e-6);
        assert_hessian_matches(&f, &x, 1e-5);
    }
}

#[test]
fn kinks_take_the_documented_side() {
    let f = spec(2, "abs(x0) + max(x0, x1) + min(x1, x0)").build();
    let mut g = [9.0; 2];
    // abs′(0) = 0; max on a tie follows its first argument, min too.
    f.value_and_gradient(&[0.0, 0.0], &mut g);
    assert_eq!(g, [1.0, 1.0]);
    f.value_and_gradient(&[-1.0, 2.0], &mut g);
    assert_eq!(g, [-1.0 + 1.0, 1.0]);
}

#[test]
fn constants_fold_and_repeated_terms_are_computed_once() {
    // 2*pi*3 folds; x0*x0 appears twice but is one operation; the sum
    // unrolls to d terms.
    let t = spec(2, "x0*x0 + x0*x0 + 2*pi*3").tape().unwrap();
    assert_eq!(t.ops.len(), 3, "{:?}", t.ops); // x0*x0, +, + 6π
    let t = spec(4, "sum(i, 0, d, x[i]^2)").tape().unwrap();
    assert_eq!(t.ops.len(), 4 + 3, "{:?}", t.ops);
    let f = spec(1, "7").build();
    let mut g = [1.0];
    assert_eq!(f.value_and_gradient(&[3.0], &mut g), 7.0);
    assert_eq!(g, [0.0]);
    let f = spec(2, "x1").build();
    assert_eq!(f.value_and_gradient(&[3.0, 4.0], &mut [0.0; 2]), 4.0);
}

fn error(dim: usize, f: &str) -> SpecError {
    spec(dim, f).validate().unwrap_err()
}

#[test]
fn errors_name_the_column_inside_the_expression() {
    for (dim, f, column, words) in [
        (3, "x0 + y", 6, "unknown name `y`"),
        (
            3,
            "x0 + x7",
            6,
            "`x7` is not a coordinate: the landscape has dim 3",
        ),
        (3, "x0 * (x1 + x2", 6, "never closed"),
        (3, "x0 + x1)", 8, "nothing opened"),
        (3, "x0 + foo(x1)", 6, "unknown function `foo`"),
        (3, "x0 + sin(x1, x2)", 6, "sin takes 1 argument, got 2"),
        (
            3,
            "sum(i, 0, d, x[i+1])",
            14,
            "x[3] (where i = 2) is out of range",
        ),
        (2, "sum(i, 0, x0, x[i])", 11, "must be known before the run"),
        (2, "x[0.5]", 3, "must be a whole number"),
        (2, "x0 + log(-1)", 6, "log(-1) is NaN"),
        (2, "x0 + 1/0", 6, "inf"),
        (2, "sum(pi, 0, 2, x0)", 5, "already a name"),
        (2, "sum(i, 0, 1000000000000, x0)", 1, "more than 10000000"),
        (2, "sin + x0", 1, "`sin` is a function"),
    ] {
        let e = error(dim, f);
        assert_eq!(e.field, "f", "{f}");
        assert!(
            e.message.starts_with(&format!("column {column}: ")),
            "{f}: {}",
            e.message
        );
        assert!(e.message.contains(words), "{f}: {}", e.message);
        assert!(
            e.message.contains(f),
            "the message quotes the expression: {}",
            e.message
        );
    }
    let long = "x0 + ".repeat(3000) + "x0";
    assert!(error(1, &long)
        .message
        .contains("characters, more than 10000"));
    let many = "sum(i, 0, 2000, sum(j, 0, 1000, x0*i*j))";
    assert!(error(1, many)
        .message
        .contains("more than 1000000 operations"));
}

#[test]
fn a_tape_too_long_is_refused_before_it_is_built() {
    let e = error(2_000, "sum(i, 0, d, sum(j, 0, d, x[i]*x[j]))");
    assert!(
        e.message.contains("more than 1000000 operations"),
        "{}",
        e.message
    );
}

#[test]
fn fields_are_checked() {
    let mut s = spec(2, "a*x0^2 + x1^2");
    s.params.insert("a".into(), 2.0);
    s.minima = vec![vec![0.0, 0.0]];
    s.minimum_value = Some(0.0);
    s.validate().unwrap();
    let f = s.build();
    assert_eq!(f.best_known_value(), Some(0.0));
    let b = f.basin(&[3.0, 4.0]).unwrap();
    assert_eq!((b.label.as_str(), b.distance), ("minimum 0", 5.0));
    for (edit, field, words) in [
        (
            (|s: &mut ExpressionSpec| s.minima = vec![vec![0.0]]) as fn(&mut ExpressionSpec),
            "minima[0]",
            "has 1 coordinates",
        ),
        (|s| s.minimum_value = Some(1.0), "minimum_value", "lower"),
        (
            |s| {
                s.params.insert("pi".into(), 1.0);
            },
            "params.pi",
            "cannot name a parameter",
        ),
        (
            |s| {
                s.params.insert("x1".into(), 1.0);
            },
            "params.x1",
            "cannot name a parameter",
        ),
        (
            |s| s.view = Some([[1.0, 0.0], [0.0, 1.0]]),
            "view",
            "low < high",
        ),
        (|s| s.dim = 0, "dim", ">= 1"),
    ] {
        let mut t = s.clone();
        edit(&mut t);
        let e = t.validate().unwrap_err();
        assert_eq!(e.field, field, "{e:?}");
        assert!(e.message.contains(words), "{e:?}");
    }
    let mut t = spec(2, "log(x0) + x1");
    t.minima = vec![vec![-1.0, 0.0]];
    let e = t.validate().unwrap_err();
    assert!(
        e.message
            .contains("log at column 1 is NaN at its argument -1"),
        "{e:?}"
    );
}

#[test]
fn a_start_outside_the_domain_is_diagnosed_with_the_column() {
    let t = spec(2, "x1^2 + sqrt(x0) + log(x0 + 2)").tape().unwrap();
    assert_eq!(t.diagnose(&[1.0, 1.0]), None);
    let why = t.diagnose(&[-1.0, 1.0]).unwrap();
    assert!(
        why.starts_with("sqrt at column 8 is NaN at its argument -1"),
        "{why}"
    );
    // Value finite, gradient not: sqrt′(0) is infinite.
    let why = t.diagnose(&[0.0, 1.0]).unwrap();
    assert!(why.contains("derivative of sqrt at column 8"), "{why}");
}
