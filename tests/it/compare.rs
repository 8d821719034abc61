//! `valley compare` and `valley report` on real tiny sweeps, through the
//! binary.

use crate::common::{csv_rows, read, setup, stderr, text, valley};

use polars::prelude::*;
use std::fs;
use std::path::PathBuf;

/// 2 landscapes (one 2-D) x 2 momenta x 3 schedules x 10 seeds; the `hot`
/// schedule diverges on the quadratic (lr·λ_max = 4.4 > 2(1+β)). Ten seeds:
/// the smallest exact p-value, 2/2^10, survives Holm over eight rows.
const SWEEP: &str = r#"
name = "cmp"
description = "compare test"
steps = 60
seeds = 10
trace_every = 10
diverge_factor = 1e3

[[landscape]]
kind = "quadratic"
dim = 4
eigenvalues = { kind = "geometric", min = 0.1, max = 4.0 }
rotate = true

[[landscape]]
kind = "rastrigin"
dim = 2

[[optimizer]]
kind = "sgd"
momentum = { sweep = [0.0, 0.5] }
noise = { kind = "gaussian", std = 0.1 }

[[schedule]]
name = "step"
kind = "step"
lr = 0.02
step_size = 20
gamma = 0.5

[[schedule]]
name = "exp"
kind = "exponential"
lr = 0.02
gamma = 0.5
decay_steps = 20

[[schedule]]
name = "hot"
kind = "constant"
lr = 1.1
"#;

/// Runs the sweep once per test into a fresh folder.
fn sweep(extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let (tmp, _) = setup("cmp.toml", SWEEP);
    let mut args = vec!["sweep", "cmp.toml", "--out", "out", "--quiet"];
    args.extend_from_slice(extra);
    let o = valley(&args, tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = tmp.path().join("out");
    (tmp, dir)
}

#[test]
fn compare_prints_table_csv_and_json_that_agree_with_the_parquet_file() {
    let (tmp, dir) = sweep(&[]);
    let d = dir.to_str().unwrap();
    let table = valley(
        &["compare", d, "--by", "schedule", "--baseline", "step"],
        tmp.path(),
    );
    assert!(table.status.success(), "{}", stderr(&table));
    let table = text(&table.stdout);
    let lines: Vec<&str> = table.lines().collect();
    // summary, header, 2 landscapes x 2 momenta x 2 candidates.
    assert_eq!(lines.len(), 2 + 8, "{table}");
    for col in [
        "landscape",
        "optimizer.momentum",
        "candidate",
        "median_diff",
        "p_holm",
        "verdict",
    ] {
        assert!(lines[1].contains(col), "{}", lines[1]);
    }

    let csv = valley(
        &["compare", d, "--baseline", "step", "--format", "csv"],
        tmp.path(),
    );
    assert!(csv.status.success());
    let rows = csv_rows(&text(&csv.stdout));
    let header = &rows[0];
    assert_eq!(rows.len(), 9);
    assert!(rows[1..].iter().all(|r| r.len() == header.len()));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();

    let json = valley(
        &["compare", d, "--baseline", "step", "--format", "json"],
        tmp.path(),
    );
    assert!(json.status.success());
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let jrows = json["rows"].as_array().unwrap();
    assert_eq!(jrows.len(), 8);
    assert_eq!(json["baseline"], "step");

    // An independent reading of runs.parquet: pair by seed, medians by sorting.
    let runs = read(&dir.join("runs.parquet"));
    let s = |c: &str| -> Vec<String> {
        let c = runs.column(c).unwrap().cast(&DataType::String).unwrap();
        c.str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect()
    };
    let (land, sched, mom, seed) = (
        s("landscape"),
        s("schedule"),
        s("optimizer.momentum"),
        s("seed"),
    );
    let loss: Vec<f64> = runs
        .column("final_loss")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    let div: Vec<bool> = runs
        .column("diverged")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    let value = |i: usize| if div[i] { f64::INFINITY } else { loss[i] };
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    for (r, j) in rows[1..].iter().zip(jrows) {
        let (l, m, cand) = (
            &r[col("landscape")],
            &r[col("optimizer.momentum")],
            &r[col("candidate")],
        );
        assert_eq!(j["candidate"], cand.as_str());
        let pick = |sch: &str| -> Vec<usize> {
            let mut idx: Vec<usize> = (0..runs.height())
                .filter(|&i| {
                    &land[i] == l
                        && mom[i].parse::<f64>().unwrap().to_string() == *m
                        && sched[i] == sch
                })
                .collect();
            idx.sort_by_key(|&i| seed[i].parse::<u64>().unwrap());
            idx
        };
        let (ci, bi) = (pick(cand), pick("step"));
        assert_eq!(ci.len(), 10);
        assert_eq!(r[col("n_pairs")], "10");
        let mc = median(ci.iter().map(|&i| value(i)).collect());
        let mb = median(bi.iter().map(|&i| value(i)).collect());
        let got = |name: &str| -> f64 { r[col(name)].parse().unwrap() };
        assert_eq!(got("median_candidate"), mc, "{r:?}");
        assert_eq!(got("median_baseline"), mb, "{r:?}");
        let wins = ci
            .iter()
            .zip(&bi)
            .filter(|(&c, &b)| {
                let d = if div[c] && div[b] {
                    0.0
                } else {
                    value(c) - value(b)
                };
                d < 0.0
            })
            .count();
        assert_eq!(got("win_rate"), wins as f64 / 10.0);
        let nd = ci.iter().filter(|&&i| div[i]).count();
        assert_eq!(r[col("n_diverged_candidate")], nd.to_string());
        if cand == "hot" && l == "quadratic" {
            // Every hot run diverges on the quadratic: the worst outcome.
            assert_eq!(nd, 10);
            assert_eq!(r[col("median_diff")], "inf");
            assert_eq!(j["median_diff"], "inf");
            assert_eq!(got("win_rate"), 0.0);
            assert_eq!(r[col("verdict")], "worse");
        }
        // JSON and CSV agree to the last digit.
        let p: f64 = r[col("p_value")].parse().unwrap();
        assert_eq!(j["p_value"].as_f64().unwrap(), p);
        let ph: f64 = r[col("p_holm")].parse().unwrap();
        assert!(ph >= p && ph <= 1.0);
        assert_eq!(j["verdict"], r[col("verdict")].as_str());
    }
    // Same output every time (the bootstrap is seeded).
    let again = valley(
        &["compare", d, "--baseline", "step", "--format", "csv"],
        tmp.path(),
    );
    assert_eq!(again.stdout, csv.stdout);
}

#[test]
fn compare_by_an_axis_and_higher_is_better() {
    let (tmp, dir) = sweep(&[]);
    let d = dir.to_str().unwrap();
    let o = valley(
        &[
            "compare",
            d,
            "--by",
            "optimizer.momentum",
            "--metric",
            "steps_run",
            "--higher-is-better",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["baseline"], "0");
    assert_eq!(json["higher_is_better"], true);
    // landscapes x schedules, one candidate (0.5).
    assert_eq!(json["rows"].as_array().unwrap().len(), 6);
    assert_eq!(
        json["group_columns"],
        serde_json::json!(["landscape", "schedule"])
    );
}

#[test]
fn bad_flags_exit_2_and_name_what_exists() {
    let (tmp, dir) = sweep(&[]);
    let d = dir.to_str().unwrap();
    let before: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let cases: [(&[&str], &[&str]); 6] = [
        (
            &["--metric", "nope"],
            &["--metric", "nope", "final_loss", "sharpness"],
        ),
        (
            &["--metric", "schedule"],
            &["--metric", "not numeric", "final_loss"],
        ),
        (
            &["--by", "colour"],
            &["--by", "colour", "schedule", "optimizer.momentum"],
        ),
        (&["--by", "optimizer"], &["--by", "one level", "sgd"]),
        (
            &["--baseline", "cosine"],
            &["--baseline", "cosine", "step, exp, hot"],
        ),
        (&["--format", "xml"], &["xml", "table", "csv", "json"]),
    ];
    for (flags, needles) in cases {
        let mut args = vec!["compare", d];
        args.extend_from_slice(flags);
        let o = valley(&args, tmp.path());
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
        let err = stderr(&o);
        for n in needles {
            assert!(err.contains(n), "{flags:?}: `{n}` not in {err}");
        }
        assert!(o.stdout.is_empty());
    }
    for args in [vec!["compare", "missing"], vec!["report", "missing"]] {
        let o = valley(&args, tmp.path());
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("missing"));
    }
    assert!(!tmp.path().join("missing").exists());
    let after: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after);
}

/// Count of non-overlapping occurrences.
fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn report_is_one_self_contained_page_with_every_figure_and_table() {
    let (tmp, dir) = sweep(&["--report"]);
    let path = dir.join("report.html");
    let html = fs::read_to_string(&path).expect("sweep --report writes report.html");
    let svgs = fs::read_dir(dir.join("figures"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "svg")
        })
        .count();
    // lr, update_norm, loss, final_loss, sharpness, contour of the 2-D rastrigin.
    assert!(svgs >= 6, "{svgs}");
    assert!(dir.join("figures/contour_rastrigin.svg").exists());
    assert_eq!(count(&html, "<svg"), svgs);
    assert_eq!(count(&html, "<figure"), svgs);
    assert_eq!(count(&html, "<figcaption>"), svgs);
    // A compare table per factor with two levels, schedule and momentum;
    // not the landscape, whose levels are different problems (a quadratic's
    // raw loss against Rastrigin's), and the page says why.
    assert_eq!(count(&html, "<table class=\"compare\">"), 2);
    for id in ["cmp-schedule", "cmp-optimizer.momentum"] {
        assert!(html.contains(id), "{id}");
    }
    assert!(!html.contains("cmp-landscape"));
    assert!(html.contains("Not compared: <code>landscape</code>"));
    assert!(
        html.contains("class=\"verdict worse\""),
        "hot loses on the quadratic"
    );
    // Diverged runs by group, the plan, provenance and the sweep file.
    assert!(html.contains("id=\"diverged\"") && html.contains("10 / 10</td>"));
    assert!(html.contains("name = &quot;cmp&quot;"));
    assert!(html.contains("compare test"));
    // Nothing from the network, no scripts, no stylesheets, no fonts.
    for bad in [
        "<script",
        "<link",
        "@import",
        "@font-face",
        "url(",
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
    ] {
        assert!(!html.contains(bad), "{bad}");
    }
    // Every href is an in-page anchor.
    for (i, _) in html.match_indices("href=\"") {
        assert_eq!(&html[i + 6..i + 7], "#", "{}", &html[i..i + 40]);
    }
    // `valley report` rewrites the same page (up to nothing: same data).
    let before = html;
    let o = valley(&["report", dir.to_str().unwrap()], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(&path).unwrap(), before);
}

/// A comparison across two lr axes that never meet (warm-up's lr is
/// `schedule.then.lr`, step decay's `schedule.lr`) finds no pair: it says
/// which factors keep the levels apart and exits 2, instead of printing an
/// empty table with exit 0.
#[test]
fn a_comparison_without_pairs_explains_itself() {
    let src = r#"
name = "apart"
steps = 20
seeds = 2
[[landscape]]
kind = "rastrigin"
dim = 2
[[optimizer]]
kind = "sgd"
[[schedule]]
name = "warm"
kind = "warmup"
warmup_steps = 5
then = { kind = "constant", lr = { sweep = [0.01, 0.02] } }
[[schedule]]
name = "step"
kind = "step"
lr = { sweep = [0.01, 0.02] }
step_size = 10
gamma = 0.5
"#;
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("s.toml"), src).unwrap();
    let o = valley(&["sweep", "s.toml", "--out", "res", "-q"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = valley(&["compare", "res", "--by", "schedule"], tmp.path());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("pairs with a run of the baseline"), "{err}");
    assert!(
        err.contains("schedule.then.lr") && err.contains("schedule.lr"),
        "{err}"
    );
    assert!(o.stdout.is_empty(), "{}", text(&o.stdout));
}

/// Issue 24's 3 × 3 design: three schedule shapes whose peak lr sits at
/// three different paths (`then.lr`, `lr`, `lr`), one named axis
/// `peak_lr`; the shapes pair on it, seed by seed, in one table. The
/// medians are checked against an independent reading of runs.parquet.
#[test]
fn named_axes_pair_schedules_of_different_shapes() {
    let src = r#"
name = "shapes"
steps = 40
seeds = 4
[[landscape]]
kind = "rastrigin"
dim = 2
[[optimizer]]
kind = "sgd"
noise = { kind = "gaussian", std = 0.5 }
[[schedule]]
name = "warm"
kind = "warmup"
warmup_steps = 5
then = { kind = "constant", lr = { sweep = [0.001, 0.002, 0.004], axis = "peak_lr" } }
[[schedule]]
name = "step"
kind = "step"
lr = { sweep = [0.001, 0.002, 0.004], axis = "peak_lr" }
step_size = 20
gamma = 0.5
[[schedule]]
name = "plain"
kind = "warmup"
warmup_steps = 0
then = { kind = "cosine", lr = { sweep = [0.001, 0.002, 0.004], axis = "peak_lr" }, total_steps = 40 }
"#;
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("s.toml"), src).unwrap();
    let o = valley(&["sweep", "s.toml", "--out", "res", "-q"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = valley(
        &[
            "compare",
            "res",
            "--by",
            "schedule",
            "--baseline",
            "step",
            "--format",
            "csv",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = csv_rows(&text(&o.stdout));
    let header = &rows[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    // Two candidates x three peak lrs, four pairs each.
    assert_eq!(rows.len(), 1 + 2 * 3, "{rows:?}");
    let runs = read(&tmp.path().join("res/runs.parquet"));
    let strings = |c: &str| -> Vec<String> {
        let c = runs.column(c).unwrap().cast(&DataType::String).unwrap();
        c.str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect()
    };
    let (sched, lr) = (strings("schedule"), strings("schedule.peak_lr"));
    let loss: Vec<f64> = runs
        .column("final_loss")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    let median = |s: &str, l: &str| {
        let mut v: Vec<f64> = (0..loss.len())
            .filter(|&i| sched[i] == s && lr[i].parse::<f64>() == l.parse::<f64>())
            .map(|i| loss[i])
            .collect();
        assert_eq!(v.len(), 4, "{s} {l}");
        v.sort_by(f64::total_cmp);
        (v[1] + v[2]) / 2.0
    };
    let mut seen = Vec::new();
    for r in &rows[1..] {
        assert_eq!(r[col("n_pairs")], "4", "{r:?}");
        let (cand, l) = (&r[col("candidate")], &r[col("schedule.peak_lr")]);
        seen.push(format!("{cand} {l}"));
        let got = |name: &str| -> f64 { r[col(name)].parse().unwrap() };
        assert_eq!(got("median_candidate"), median(cand, l), "{r:?}");
        assert_eq!(got("median_baseline"), median("step", l), "{r:?}");
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "plain 0.001",
            "plain 0.002",
            "plain 0.004",
            "warm 0.001",
            "warm 0.002",
            "warm 0.004"
        ]
    );

    // --where keeps one peak lr before pairing, so Holm adjusts over the
    // two rows printed: p_holm = Holm's step-down over those p-values.
    let o = valley(
        &[
            "compare",
            "res",
            "--baseline",
            "step",
            "--where",
            "schedule.peak_lr=2e-3",
            "--format",
            "csv",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = csv_rows(&text(&o.stdout));
    assert_eq!(rows.len(), 3, "{rows:?}");
    let p: Vec<f64> = rows[1..]
        .iter()
        .map(|r| r[col("p_value")].parse().unwrap())
        .collect();
    let holm: Vec<f64> = rows[1..]
        .iter()
        .map(|r| r[col("p_holm")].parse().unwrap())
        .collect();
    let (lo, hi) = if p[0] <= p[1] { (0, 1) } else { (1, 0) };
    let first = (2.0 * p[lo]).min(1.0);
    assert!((holm[lo] - first).abs() < 1e-12, "{p:?} {holm:?}");
    assert!(
        (holm[hi] - p[hi].max(first).min(1.0)).abs() < 1e-12,
        "{p:?} {holm:?}"
    );
    for r in &rows[1..] {
        assert_eq!(r[col("schedule.peak_lr")].parse::<f64>().unwrap(), 0.002);
    }
    for (bad, says) in [
        ("schedule.peak_lr=0.5", "its levels are 0.001, 0.002, 0.004"),
        ("nope=1", "no factor `nope`"),
        ("schedule", "must be FACTOR=LEVEL"),
    ] {
        let o = valley(&["compare", "res", "--where", bad], tmp.path());
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).contains(says), "{bad}: {}", stderr(&o));
        assert!(stderr(&o).contains("--where"), "{}", stderr(&o));
    }
}
