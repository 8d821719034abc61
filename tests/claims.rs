//! `[[claim]]` tables and `valley claims` on a real tiny sweep, through the
//! binary: the verdict logic must say `contradicted` for a claim opposite to
//! a clear difference, `inconclusive` for identical levels, `supported` for a
//! true claim; a malformed claim exits 2 naming the field and its line.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn valley(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_valley"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the valley binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A stable quadratic (lr·λ_max ≤ 0.4) for 40 steps, 10 seeds, two momenta.
/// The analytic contraction per step in the flattest direction (λ = 0.1) is
/// 1 − lr·λ: 0.99 at lr 0.1 (0.67 over 40 steps) and 0.9999 at lr 0.001
/// (0.996), so `fast` ends clearly below `slow` in every pair, in both momentum
/// groups. `fast_twin` is `fast` under another name: its runs are identical.
/// Ten seeds: the smallest exact Wilcoxon p-value is 2/2^10 ≈ 0.002, which
/// survives Holm over two rows.
const SWEEP: &str = r#"
name = "tiny"
steps = 40
seeds = 10
trace_every = 10

[[landscape]]
kind = "quadratic"
dim = 4
eigenvalues = { kind = "geometric", min = 0.1, max = 4.0 }
rotate = true

[[optimizer]]
kind = "sgd"
momentum = { sweep = [0.0, 0.5] }
noise = { kind = "gaussian", std = 0.01 }

[[schedule]]
name = "fast"
kind = "constant"
lr = 0.1

[[schedule]]
name = "fast_twin"
kind = "constant"
lr = 0.1

[[schedule]]
name = "slow"
kind = "constant"
lr = 0.001
"#;

const CLAIMS: &str = r#"
[[claim]]
id = "TRUE"
statement = "A larger stable lr ends lower"
metric = "final_loss"
by = "schedule"
candidate = "fast"
baseline = "slow"
expect = "lower"

[[claim]]
id = "FALSE"
statement = "A larger stable lr ends higher (deliberately false)"
metric = "final_loss"
by = "schedule"
candidate = "fast"
baseline = "slow"
expect = "higher"

[[claim]]
id = "SAME"
statement = "Two identical schedules differ"
metric = "final_loss"
by = "schedule"
candidate = "fast_twin"
baseline = "fast"
expect = "lower"

[[claim]]
id = "WHERE"
statement = "The same restricted to momentum 0.5"
metric = "final_loss"
by = "schedule"
candidate = "fast"
baseline = "slow"
expect = "lower"
where = { "optimizer.momentum" = 0.5 }

[[claim]]
id = "LR"
statement = "The traced lr of fast is higher over its first 40 steps"
metric = "lr"
window = { from = 0, to = 40, stat = "mean" }
by = "schedule"
candidate = "fast"
baseline = "slow"
expect = "higher"
"#;

fn csv_rows(s: &str) -> Vec<Vec<String>> {
    // No field of this test's claims holds a comma.
    s.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn verdicts_follow_the_data() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("tiny.toml"), format!("{SWEEP}{CLAIMS}")).unwrap();
    let o = valley(
        &[
            "claims",
            "tiny.toml",
            "--out",
            "out",
            "--quiet",
            "--no-report",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let csv = fs::read_to_string(tmp.path().join("out/verdicts.csv")).unwrap();
    let rows = csv_rows(&csv);
    assert_eq!(
        rows[0].join(","),
        "id,statement,file,verdict,metric,effect,ci_low,ci_high,n_pairs,p_holm,figure"
    );
    let row = |id: &str| rows.iter().find(|r| r[0] == id).unwrap().clone();
    let num = |r: &[String], i: usize| r[i].parse::<f64>().unwrap();
    let t = row("TRUE");
    assert_eq!(t[3], "supported", "{csv}");
    // Two momentum groups of 10 pairs; fast ends below slow in every pair.
    assert_eq!(t[8], "20");
    assert!(num(&t, 5) < 0.0 && num(&t, 7) < 0.0, "{csv}");
    // Every pair has the same sign: exact p = 2/2^10, Holm over 2 rows.
    assert!((num(&t, 9) - 2.0 * 2.0 / 1024.0).abs() < 1e-12, "{csv}");
    let f = row("FALSE");
    assert_eq!(f[3], "contradicted", "{csv}");
    assert_eq!(f[5], t[5], "same data, same effect");
    assert_eq!(row("SAME")[3], "inconclusive", "{csv}");
    assert_eq!(row("SAME")[5], "0");
    let w = row("WHERE");
    assert_eq!(w[3], "supported", "{csv}");
    assert_eq!(w[8], "10", "only the momentum 0.5 group");
    // Within one group Holm over one row is the exact p-value itself.
    assert!((num(&w, 9) - 2.0 / 1024.0).abs() < 1e-12, "{csv}");
    // A trace window: the mean traced lr is the constant lr itself, so the
    // difference is 0.1 - 0.001 in every pair.
    let l = row("LR");
    assert_eq!(l[3], "supported", "{csv}");
    assert_eq!(l[4], "lr.mean@0..40");
    assert!((num(&l, 5) - 0.099).abs() < 1e-12, "{csv}");
    // The Parquet file and the page exist; stdout has the table.
    assert!(tmp.path().join("out/verdicts.parquet").is_file());
    let html = fs::read_to_string(tmp.path().join("out/index.html")).unwrap();
    assert!(html.contains("<section id=\"FALSE\">") && html.contains("contradicted"));
    let out = text(&o.stdout);
    assert!(out.contains("TRUE") && out.contains("supported"), "{out}");

    // `valley compare` on the same folder gives the same effect (one
    // group: momentum 0.5).
    let c = valley(
        &[
            "compare",
            "out/tiny",
            "--metric",
            "final_loss",
            "--baseline",
            "slow",
            "--format",
            "csv",
        ],
        tmp.path(),
    );
    assert!(c.status.success(), "{}", text(&c.stderr));
    let cmp = csv_rows(&text(&c.stdout));
    let head = &cmp[0];
    let at = |name: &str| head.iter().position(|h| h == name).unwrap();
    let r = cmp
        .iter()
        .find(|r| r[at("optimizer.momentum")] == "0.5" && r[at("candidate")] == "fast")
        .unwrap();
    assert_eq!(r[at("median_diff")], w[5]);

    // Run again: everything resumes, the verdicts are the same.
    let o2 = valley(
        &[
            "claims",
            "tiny.toml",
            "--out",
            "out",
            "--quiet",
            "--no-report",
        ],
        tmp.path(),
    );
    assert!(o2.status.success(), "{}", text(&o2.stderr));
    assert_eq!(
        fs::read_to_string(tmp.path().join("out/verdicts.csv")).unwrap(),
        csv
    );

    // `valley sweep` evaluates the claims at the end.
    let s = valley(&["sweep", "tiny.toml", "--out", "s", "--quiet"], tmp.path());
    assert!(s.status.success(), "{}", text(&s.stderr));
    let out = text(&s.stdout);
    assert!(
        out.contains("contradicted") && out.contains("inconclusive"),
        "{out}"
    );
}

/// A malformed claim: exit 2, the field and its line named, nothing written.
fn refused(claim: &str, field: &str, line: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let src = format!("{SWEEP}{claim}");
    fs::write(tmp.path().join("bad.toml"), &src).unwrap();
    for args in [
        vec!["claims", "bad.toml", "--out", "out"],
        vec!["sweep", "bad.toml", "--out", "out"],
    ] {
        let o = valley(&args, tmp.path());
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("bad.toml:{line}: field `{field}`")),
            "want {field} at line {line}: {err}"
        );
        assert!(!tmp.path().join("out").exists());
    }
}

const GOOD: [&str; 7] = [
    "id = \"X\"",
    "statement = \"s\"",
    "metric = \"final_loss\"",
    "by = \"schedule\"",
    "candidate = \"fast\"",
    "baseline = \"slow\"",
    "expect = \"lower\"",
];

/// A claim with line `i` of [`GOOD`] replaced by `with`, and the line number
/// of that field in the whole file.
fn claim_with(i: usize, with: &str) -> (String, usize) {
    let mut lines: Vec<&str> = GOOD.to_vec();
    lines[i] = with;
    let claim = format!("\n[[claim]]\n{}\n", lines.join("\n"));
    let line = SWEEP.lines().count() + 3 + i;
    (claim, line)
}

#[test]
fn malformed_claims_exit_2_naming_the_field() {
    let (c, l) = claim_with(2, "metric = \"final_los\"");
    refused(&c, "claim[0].metric", l);
    let (c, l) = claim_with(2, "metric = \"basin\"");
    refused(&c, "claim[0].metric", l);
    let (c, l) = claim_with(3, "by = \"momentum\"");
    refused(&c, "claim[0].by", l);
    let (c, l) = claim_with(4, "candidate = \"cosine\"");
    refused(&c, "claim[0].candidate", l);
    let (c, l) = claim_with(5, "baseline = \"fastest\"");
    refused(&c, "claim[0].baseline", l);
    let (c, l) = claim_with(6, "expect = \"smaller\"");
    refused(&c, "claim[0].expect", l);
    let (c, l) = claim_with(
        6,
        "expect = \"lower\"\nwhere = { \"optimizer.beta\" = 0.5 }",
    );
    refused(&c, "claim[0].where", l + 1);
    let (c, l) = claim_with(
        6,
        "expect = \"lower\"\nwhere = { \"optimizer.momentum\" = 0.7 }",
    );
    refused(&c, "claim[0].where", l + 1);
    let (c, l) = claim_with(6, "expect = \"lower\"\nexpected = \"lower\"");
    refused(&c, "claim[0].expected", l + 1);
    // Windows: no traced step inside (trace_every = 10), a runs.parquet
    // column as a trace metric, a bad statistic.
    let (c, l) = claim_with(
        2,
        "metric = \"loss\"\nwindow = { from = 1, to = 5, stat = \"mean\" }",
    );
    refused(&c, "claim[0].window", l + 1);
    let (c, l) = claim_with(
        2,
        "metric = \"loss\"\nwindow = { from = 0, to = 40, stat = \"median\" }",
    );
    refused(&c, "claim[0].window", l + 1);
    let (c, _) = claim_with(
        6,
        "expect = \"lower\"\nwindow = { from = 0, to = 40, stat = \"mean\" }",
    );
    refused(&c, "claim[0].metric", SWEEP.lines().count() + 3 + 2);
}

#[test]
fn claims_do_not_change_run_ids() {
    let file = Path::new("tiny.toml");
    let plain = valley::config::Plan::from_source(file, SWEEP).unwrap();
    let with = valley::config::Plan::from_source(file, &format!("{SWEEP}{CLAIMS}")).unwrap();
    let ids =
        |p: &valley::config::Plan| p.runs.iter().map(|r| r.run_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&plain), ids(&with));
    assert!(plain.claims.is_empty());
    assert_eq!(with.claims.len(), 5);
}
