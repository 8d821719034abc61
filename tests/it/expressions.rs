//! Expression landscapes and the test functions through the binary:
//! `valley inspect` against sympy, the refusals with file, line, field and
//! column, and a study's landscape rewritten as an expression giving the
//! same verdict as the built-in one.

use crate::common::*;
use serde_json::Value;
use std::fs;

fn fixture() -> Value {
    let path = format!(
        "{}/tests/fixtures/landscapes/expressions.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn inspect(table: &str, x: &[f64]) -> Value {
    let (tmp, file) = setup("f.toml", &format!("[landscape]\n{table}\n"));
    let at: Vec<String> = x.iter().map(|v| format!("{v:?}")).collect();
    let o = valley(
        &["inspect", file.to_str().unwrap(), "--at", &at.join(",")],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn assert_close(got: &[f64], want: &[f64], rel: f64, what: &str) {
    let scale = want.iter().fold(0.0f64, |m, a| m.max(a.abs()));
    for (a, b) in got.iter().zip(want) {
        assert!((a - b).abs() <= rel * scale, "{what}: {got:?} vs {want:?}");
    }
}

/// The "Done when" of issue 26: inspect agrees with sympy in value (1e-12),
/// gradient (1e-9) and Hessian eigenvalues (1e-7), with exp, log, tanh,
/// abs, sqrt and max among the functions.
#[test]
fn inspect_agrees_with_sympy() {
    let fx = fixture();
    for case in fx["expressions"].as_array().unwrap() {
        let mut table = format!(
            "kind = \"expression\"\ndim = {}\nf = \"{}\"",
            case["dim"],
            case["f"].as_str().unwrap()
        );
        let params = case["params"].as_object().unwrap();
        if !params.is_empty() {
            let p: Vec<String> = params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            table.push_str(&format!("\nparams = {{ {} }}", p.join(", ")));
        }
        for p in case["points"].as_array().unwrap().iter().take(2) {
            let x = floats(&p["x"]);
            let out = inspect(&table, &x);
            let name = case["name"].as_str().unwrap();
            assert_close(
                &[out["value"].as_f64().unwrap()],
                &[p["value"].as_f64().unwrap()],
                1e-12,
                name,
            );
            assert_close(
                &floats(&out["gradient"]),
                &floats(&p["gradient"]),
                1e-9,
                name,
            );
            assert_close(
                &floats(&out["hessian_eigenvalues"]),
                &floats(&p["eigenvalues"]),
                1e-7,
                name,
            );
        }
    }
}

/// Each test function at its (refined) published minimum: the value, and a
/// zero gradient.
#[test]
fn inspect_at_each_test_functions_minimum() {
    let fx = fixture();
    for case in fx["functions"].as_array().unwrap() {
        let kind = case["kind"].as_str().unwrap();
        let dim = case["dim"].as_u64().unwrap();
        let table = match kind {
            "himmelblau" | "beale" | "booth" | "six_hump_camel" | "goldstein_price" => {
                format!("kind = \"{kind}\"")
            }
            _ => format!("kind = \"{kind}\"\ndim = {dim}"),
        };
        let mut minima: Vec<(Vec<f64>, f64)> = case["minima"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (floats(&m["x"]), m["value"].as_f64().unwrap()))
            .collect();
        if kind == "ackley" {
            minima.push((vec![0.0; dim as usize], 0.0));
        }
        for (x, value) in minima {
            let out = inspect(&table, &x);
            let v = out["value"].as_f64().unwrap();
            assert!(
                (v - value).abs() <= 1e-12 * value.abs().max(1.0),
                "{kind}: {v}"
            );
            let g = floats(&out["gradient"]);
            assert!(g.iter().all(|gi| gi.abs() < 1e-9), "{kind}: {g:?}");
            let best = out["best_known_value"].as_f64().unwrap();
            assert!(
                (best - value).abs() <= 1e-12 * value.abs().max(1.0),
                "{kind}: {best}"
            );
        }
    }
}

const SWEEP: &str =
    "name = \"e\"\nsteps = 20\nseeds = 2\n\n[[landscape]]\nkind = \"expression\"\ndim = 2\n";
const REST: &str =
    "\n[[optimizer]]\nkind = \"sgd\"\n\n[[schedule]]\nkind = \"constant\"\nlr = 0.01\n";

#[test]
fn a_bad_expression_exits_2_naming_file_line_field_and_column() {
    for (f, needles) in [
        (
            "x0 + (x1",
            vec!["case.toml:8", "landscape[0].f", "column 6", "never closed"],
        ),
        (
            "x0 + y",
            vec![
                "case.toml:8",
                "landscape[0].f",
                "column 6",
                "unknown name `y`",
            ],
        ),
        (
            "x0 + x7",
            vec![
                "column 6",
                "`x7` is not a coordinate: the landscape has dim 2",
            ],
        ),
        ("x0 + erf(x1)", vec!["column 6", "unknown function `erf`"]),
    ] {
        let (tmp, _) = setup("case.toml", &format!("{SWEEP}f = \"{f}\"\n{REST}"));
        let o = valley(
            &["sweep", "case.toml", "--out", "out", "--quiet"],
            tmp.path(),
        );
        refused(&o, &needles);
        assert!(
            written(tmp.path()).is_empty(),
            "{f}: wrote {:?}",
            written(tmp.path())
        );
    }
}

#[test]
fn a_start_where_f_is_not_finite_is_refused_before_the_sweep() {
    let src = format!("{SWEEP}f = \"x1^2 + log(x0)\"\n{REST}");
    let (tmp, _) = setup("case.toml", &src);
    let o = valley(
        &["sweep", "case.toml", "--out", "out", "--quiet"],
        tmp.path(),
    );
    refused(
        &o,
        &[
            "case.toml:",
            "landscape[0].init",
            "starts at x = [",
            "log at column 8 is NaN",
        ],
    );
    assert!(written(tmp.path()).is_empty());
    // Inside the domain it runs, and every row is finite.
    let ok = src.replace(
        "dim = 2\n",
        "dim = 2\ninit = { kind = \"uniform\", low = [0.5, -1.0], high = [2.0, 1.0] }\n",
    );
    let (tmp, _) = setup("case.toml", &ok);
    let o = valley(
        &["sweep", "case.toml", "--out", "out", "--quiet"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The Müller–Brown potential of claim C5, written as an expression with its
/// published minima: the claim's verdict is the built-in landscape's.
#[test]
fn muller_brown_as_an_expression_gives_c5_its_verdict() {
    let c5 = fs::read_to_string(format!(
        "{}/experiments/claims/c05_basin_trapping.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let term = |k: usize| {
        let (amp, a, b, c, x0, y0) = [
            (-200.0, -1.0, 0.0, -10.0, 1.0, 0.0),
            (-100.0, -1.0, 0.0, -10.0, 0.0, 0.5),
            (-170.0, -6.5, 11.0, -6.5, -0.5, 1.5),
            (15.0, 0.7, 0.6, 0.7, -1.0, 1.0),
        ][k];
        format!("({amp})*exp(({a})*(x0 - ({x0}))^2 + ({b})*(x0 - ({x0}))*(x1 - ({y0})) + ({c})*(x1 - ({y0}))^2)")
    };
    let f: Vec<String> = (0..4).map(term).collect();
    let table = format!(
        "kind = \"expression\"\ndim = 2\nf = \"{}\"\nminima = [[-0.5582236346330243, 1.4417258418046686], [0.6234994049308765, 0.02803775852868566], [-0.05001082299820604, 0.4666941048719721]]\nview = [[-1.5, 1.2], [-0.5, 2.0]]",
        f.join(" + ")
    );
    let expr = c5.replace("kind = \"muller_brown\"", &table);
    assert_ne!(expr, c5);
    let verdict = |src: &str| {
        let (tmp, _) = setup("c5.toml", src);
        let o = valley(
            &[
                "claims",
                "c5.toml",
                "--out",
                "out",
                "--quiet",
                "--no-report",
            ],
            tmp.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let csv = fs::read_to_string(tmp.path().join("out/verdicts.csv")).unwrap();
        let rows = csv_rows(&csv);
        let c5 = rows.iter().find(|r| r[0] == "C5").unwrap().clone();
        (c5[3].clone(), c5[8].clone())
    };
    let (built_in, expression) = (verdict(&c5), verdict(&expr));
    assert_eq!(built_in, expression);
    assert_eq!(built_in.0, "supported");
}
