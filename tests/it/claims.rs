//! `[[claim]]` tables and `valley claims` on a real tiny sweep, through the
//! binary: the verdict logic must say `contradicted` for a claim opposite to
//! a clear difference, `inconclusive` for identical levels, `supported` for a
//! true claim; a malformed claim exits 2 naming the field and its line.

use crate::common::{self, csv_rows, setup, stderr, text, valley};

use std::fs;
use std::path::Path;

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

#[test]
fn verdicts_follow_the_data() {
    let (tmp, _) = setup("tiny.toml", &format!("{SWEEP}{CLAIMS}"));
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
    assert!(o.status.success(), "{}", stderr(&o));
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
    assert!(html.contains("<section id=\"claim-FALSE\">") && html.contains("contradicted"));
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
    assert!(c.status.success(), "{}", stderr(&c));
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
    assert!(o2.status.success(), "{}", stderr(&o2));
    assert_eq!(
        fs::read_to_string(tmp.path().join("out/verdicts.csv")).unwrap(),
        csv
    );

    // `valley sweep` evaluates the claims at the end.
    let s = valley(&["sweep", "tiny.toml", "--out", "s", "--quiet"], tmp.path());
    assert!(s.status.success(), "{}", stderr(&s));
    let out = text(&s.stdout);
    assert!(
        out.contains("contradicted") && out.contains("inconclusive"),
        "{out}"
    );
}

/// A malformed claim: exit 2, the field and its line named, nothing written.
fn claim_refused(claim: &str, field: &str, line: usize) {
    let (tmp, _) = setup("bad.toml", &format!("{SWEEP}{claim}"));
    for args in [
        vec!["claims", "bad.toml", "--out", "out"],
        vec!["sweep", "bad.toml", "--out", "out"],
    ] {
        let o = valley(&args, tmp.path());
        common::refused(&o, &[&format!("bad.toml:{line}: field `{field}`")]);
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
    claim_refused(&c, "claim[0].metric", l);
    let (c, l) = claim_with(2, "metric = \"basin\"");
    claim_refused(&c, "claim[0].metric", l);
    let (c, l) = claim_with(3, "by = \"momentum\"");
    claim_refused(&c, "claim[0].by", l);
    let (c, l) = claim_with(4, "candidate = \"cosine\"");
    claim_refused(&c, "claim[0].candidate", l);
    let (c, l) = claim_with(5, "baseline = \"fastest\"");
    claim_refused(&c, "claim[0].baseline", l);
    let (c, l) = claim_with(6, "expect = \"smaller\"");
    claim_refused(&c, "claim[0].expect", l);
    let (c, l) = claim_with(
        6,
        "expect = \"lower\"\nwhere = { \"optimizer.beta\" = 0.5 }",
    );
    claim_refused(&c, "claim[0].where", l + 1);
    let (c, l) = claim_with(
        6,
        "expect = \"lower\"\nwhere = { \"optimizer.momentum\" = 0.7 }",
    );
    claim_refused(&c, "claim[0].where", l + 1);
    let (c, l) = claim_with(6, "expect = \"lower\"\nexpected = \"lower\"");
    claim_refused(&c, "claim[0].expected", l + 1);
    // Windows: no traced step inside (trace_every = 10), a runs.parquet
    // column as a trace metric, a bad statistic.
    let (c, l) = claim_with(
        2,
        "metric = \"loss\"\nwindow = { from = 1, to = 5, stat = \"mean\" }",
    );
    claim_refused(&c, "claim[0].window", l + 1);
    let (c, l) = claim_with(
        2,
        "metric = \"loss\"\nwindow = { from = 0, to = 40, stat = \"median\" }",
    );
    claim_refused(&c, "claim[0].window", l + 1);
    let (c, _) = claim_with(
        6,
        "expect = \"lower\"\nwindow = { from = 0, to = 40, stat = \"mean\" }",
    );
    claim_refused(&c, "claim[0].metric", SWEEP.lines().count() + 3 + 2);
}

#[test]
fn claims_do_not_change_run_ids() {
    let file = Path::new("tiny.toml");
    let plain = valley::config::Plan::from_source(file, SWEEP).unwrap();
    let with = valley::config::Plan::from_source(file, &format!("{SWEEP}{CLAIMS}")).unwrap();
    let ids = |p: &valley::config::Plan| {
        p.specs()
            .iter()
            .map(|r| r.run_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&plain), ids(&with));
    assert!(valley::claims::of_plan(&plain).unwrap().is_empty());
    assert_eq!(valley::claims::of_plan(&with).unwrap().len(), 5);
}

/// A sweep for the tests `mcnemar`, `every_step` and `equivalence`, and the
/// window statistic `changes` and `relative_to`: every step traced, two
/// noise groups, 10 seeds. `blowup` (lr 1 with lambda_max = 4: |1 − 4| = 3
/// per step) diverges in every run, `fast` (lr·lambda_max = 0.4) in none.
/// `step` is 0.1·0.5^floor(t/10), `exp` is 0.1·0.5^(t/10): `step` >= `exp`
/// at every step, equal at t = 0, 10, 20, 30.
const SWEEP2: &str = r#"
name = "tiny2"
steps = 40
seeds = 10
trace_every = 1

[[landscape]]
kind = "quadratic"
dim = 4
eigenvalues = { kind = "geometric", min = 0.1, max = 4.0 }
rotate = true

[[optimizer]]
kind = "sgd"
noise = { kind = "gaussian", std = { sweep = [0.0, 0.01] } }

[[schedule]]
name = "fast"
kind = "constant"
lr = 0.1

[[schedule]]
name = "fast_twin"
kind = "constant"
lr = 0.1

[[schedule]]
name = "blowup"
kind = "constant"
lr = 1.0

[[schedule]]
name = "step"
kind = "step"
lr = 0.1
step_size = 10
gamma = 0.5

[[schedule]]
name = "exp"
kind = "exponential"
lr = 0.1
gamma = 0.5
decay_steps = 10
"#;

/// Each claim's verdict is known from the construction of [`SWEEP2`].
const CLAIMS2: &str = r#"
[[claim]]
id = "MC_TRUE"
statement = "A stable lr diverges less often than lr·lambda_max = 4"
metric = "diverged"
test = "mcnemar"
by = "schedule"
candidate = "fast"
baseline = "blowup"
expect = "lower"

[[claim]]
id = "MC_FALSE"
statement = "A stable lr diverges more often (deliberately false)"
metric = "diverged"
test = "mcnemar"
by = "schedule"
candidate = "fast"
baseline = "blowup"
expect = "higher"

[[claim]]
id = "MC_SAME"
statement = "Two identical schedules diverge differently"
metric = "diverged"
test = "mcnemar"
by = "schedule"
candidate = "fast_twin"
baseline = "fast"
expect = "lower"

[[claim]]
id = "ES_TRUE"
statement = "Step decay >= synchronised exponential decay at every step, equal at t = 10k"
metric = "lr"
test = "every_step"
by = "schedule"
candidate = "step"
baseline = "exp"
expect = "higher"
tolerance = 1e-12
equal_every = 10

[[claim]]
id = "ES_FALSE"
statement = "Exponential decay >= step decay at every step (deliberately false)"
metric = "lr"
test = "every_step"
by = "schedule"
candidate = "exp"
baseline = "step"
expect = "higher"
tolerance = 1e-12

[[claim]]
id = "EQ_TRUE"
statement = "The traced lr of a constant schedule is its final lr"
metric = "lr"
window = { from = 0, to = 40, stat = "mean" }
target = "final_lr"
tolerance = 0.01
where = { schedule = "fast" }

[[claim]]
id = "EQ_FALSE"
statement = "The traced lr is twice the final lr (deliberately false)"
metric = "lr"
window = { from = 0, to = 40, stat = "mean" }
target = "2 * final_lr"
tolerance = 0.01
where = { schedule = "fast" }

[[claim]]
id = "EQ_ZERO"
statement = "Exact agreement cannot be shown with a zero tolerance"
metric = "final_lr"
target = "final_lr"
tolerance = 0.0
where = { schedule = "fast" }

[[claim]]
id = "REL"
statement = "The step schedule's mean lr over [20, 40) is 0.1875 of that over [0, 10)"
metric = "lr"
window = { from = 20, to = 40, stat = "mean" }
relative_to = { from = 0, to = 10, stat = "mean" }
target = "0.1875"
tolerance = 1e-9
where = { schedule = "step" }

[[claim]]
id = "PE_TRUE"
statement = "Two identical schedules end at the same lr pair by pair"
metric = "final_lr"
test = "paired_equivalence"
by = "schedule"
candidate = "fast_twin"
baseline = "fast"
tolerance = 0.01

[[claim]]
id = "PE_FALSE"
statement = "Step decay ends at constant's lr (deliberately false)"
metric = "final_lr"
test = "paired_equivalence"
by = "schedule"
candidate = "step"
baseline = "fast"
tolerance = 0.1

[[claim]]
id = "CHANGES"
statement = "The step schedule's lr changes 3 times in 40 steps, a constant one never"
metric = "lr"
window = { from = 0, to = 40, stat = "changes" }
by = "schedule"
candidate = "step"
baseline = "fast"
expect = "higher"
"#;

/// A CSV line split on commas outside double quotes.
fn csv_split(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

#[test]
fn new_tests_give_the_verdicts_their_construction_implies() {
    let (tmp, _) = setup("tiny2.toml", &format!("{SWEEP2}{CLAIMS2}"));
    let o = valley(
        &["claims", "tiny2.toml", "--out", "out", "--quiet"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = fs::read_to_string(tmp.path().join("out/verdicts.csv")).unwrap();
    let rows: Vec<Vec<String>> = csv.lines().map(csv_split).collect();
    let row = |id: &str| rows.iter().find(|r| r[0] == id).unwrap().clone();
    let num = |r: &[String], i: usize| r[i].parse::<f64>().unwrap();
    let verdict = |id: &str| row(id)[3].clone();

    // McNemar: 10 discordant pairs per noise group, all "only blowup":
    // binomial p = 2/2^10, Holm over the two groups doubles it. The rate
    // difference is -1 in every pair.
    assert_eq!(verdict("MC_TRUE"), "supported", "{csv}");
    let m = row("MC_TRUE");
    assert_eq!(m[8], "20");
    assert!((num(&m, 9) - 2.0 * 2.0 / 1024.0).abs() < 1e-12, "{csv}");
    assert_eq!(num(&m, 5), -1.0);
    assert_eq!(verdict("MC_FALSE"), "contradicted", "{csv}");
    // No discordant pair: no evidence either way.
    assert_eq!(verdict("MC_SAME"), "inconclusive", "{csv}");

    // every_step: the margin of step over exp is 0 at the boundaries (the
    // worst margin) and 2^(f) − 1 > 0 inside each period.
    assert_eq!(verdict("ES_TRUE"), "supported", "{csv}");
    assert!(num(&row("ES_TRUE"), 5).abs() < 1e-12, "{csv}");
    assert_eq!(verdict("ES_FALSE"), "contradicted", "{csv}");
    // The worst step of exp against step is t = 9: 0.5^0.9/1 − 1.
    let worst = 0.5f64.powf(0.9) - 1.0;
    assert!((num(&row("ES_FALSE"), 5) - worst).abs() < 1e-9, "{csv}");

    // equivalence: relative error exactly 0 in all 20 runs (two groups of
    // 10): within ±0.01 with permutation p = 1/2^10 per group, Holm 2/2^10.
    assert_eq!(verdict("EQ_TRUE"), "supported", "{csv}");
    assert!(
        (num(&row("EQ_TRUE"), 9) - 2.0 / 1024.0).abs() < 1e-12,
        "{csv}"
    );
    assert!(num(&row("EQ_TRUE"), 5).abs() < 1e-12, "{csv}");
    assert_eq!(verdict("EQ_FALSE"), "contradicted", "{csv}");
    assert!((num(&row("EQ_FALSE"), 5) + 0.5).abs() < 1e-12, "{csv}");
    // Errors exactly 0 against a zero tolerance: every difference is a tie,
    // no test has a sample, no evidence either way.
    assert_eq!(verdict("EQ_ZERO"), "inconclusive", "{csv}");

    // paired_equivalence: identical twins differ by exactly 0 in all 20
    // pairs (two noise groups of 10): within ±0.01 with p = 1/2^10 per
    // group, Holm 2/2^10. Step decay ends at 0.1·0.5³ = 0.0125, a relative
    // difference of −0.875 to the constant 0.1 in every pair: beyond ±0.1.
    assert_eq!(verdict("PE_TRUE"), "supported", "{csv}");
    assert!(
        (num(&row("PE_TRUE"), 9) - 2.0 / 1024.0).abs() < 1e-12,
        "{csv}"
    );
    assert_eq!(row("PE_TRUE")[8], "20");
    assert_eq!(verdict("PE_FALSE"), "contradicted", "{csv}");
    assert!((num(&row("PE_FALSE"), 5) + 0.875).abs() < 1e-12, "{csv}");

    // relative_to: (0.025·10 + 0.0125·10)/20 / 0.1 = 0.1875.
    assert_eq!(verdict("REL"), "supported", "{csv}");
    assert_eq!(row("REL")[4], "lr.mean@20..40/mean@0..10");
    // changes: 3 lr changes (t = 10, 20, 30) against 0 in every pair.
    assert_eq!(verdict("CHANGES"), "supported", "{csv}");
    assert_eq!(num(&row("CHANGES"), 5), 3.0);

    // Each claim has a figure, named in the CSV, and the index inlines it
    // with the worst step of the every_step table.
    for r in &rows[1..] {
        let fig = tmp.path().join("out").join(&r[10]);
        assert!(fig.is_file(), "{}: no figure {}", r[0], fig.display());
    }
    let html = fs::read_to_string(tmp.path().join("out/index.html")).unwrap();
    assert!(
        html.contains("<section id=\"claim-ES_FALSE\">"),
        "no section"
    );
    assert!(html.contains("at step (seed)") && html.contains("<svg"));
    // The sweep's own report shows its claims.
    let report = fs::read_to_string(tmp.path().join("out/tiny2/report.html")).unwrap();
    assert!(report.contains("id=\"claims\"") && report.contains("claim-MC_TRUE"));
}

/// A whole claim table (after [`SWEEP`]) refused at `field`, on the line of
/// the claim that holds `marker`.
fn refused_at(claim: &str, field: &str, marker: &str) {
    let offset = claim
        .lines()
        .position(|l| l.contains(marker))
        .expect("the marker is in the claim");
    claim_refused(claim, field, SWEEP.lines().count() + 1 + offset);
}

#[test]
fn malformed_new_forms_exit_2_naming_the_field() {
    let (c, l) = claim_with(6, "expect = \"lower\"\ntest = \"ttest\"");
    claim_refused(&c, "claim[0].test", l + 1);
    // mcnemar on another metric than `diverged`.
    let (c, l) = claim_with(6, "expect = \"lower\"\ntest = \"mcnemar\"");
    claim_refused(&c, "claim[0].metric", l - 4);
    // every_step needs trace_every = 1 (SWEEP traces every 10th step).
    let (c, l) = claim_with(2, "metric = \"lr\"\ntest = \"every_step\"");
    claim_refused(&c, "claim[0].test", l + 1);
    // A target only with the equivalence test; a tolerance not with wilcoxon.
    let (c, l) = claim_with(6, "expect = \"lower\"\ntarget = \"1\"\ntest = \"wilcoxon\"");
    claim_refused(&c, "claim[0].target", l + 1);
    let (c, l) = claim_with(6, "expect = \"lower\"\ntolerance = 0.1");
    claim_refused(&c, "claim[0].tolerance", l + 1);
    // Equivalence claims: no `by`; a bad expression; an unknown name; no
    // tolerance; a negative tolerance.
    let eq = |extra: &str| {
        format!("\n[[claim]]\nid = \"E\"\nstatement = \"s\"\nmetric = \"final_loss\"\n{extra}\n")
    };
    refused_at(
        &eq("target = \"1\"\ntolerance = 0.1\nby = \"schedule\""),
        "claim[0].by",
        "by = ",
    );
    refused_at(
        &eq("target = \"2 * (final_lr\"\ntolerance = 0.1"),
        "claim[0].target",
        "target = ",
    );
    refused_at(
        &eq("target = \"2 * learning_rate\"\ntolerance = 0.1"),
        "claim[0].target",
        "target = ",
    );
    refused_at(
        &eq("target = \"final_lr\""),
        "claim[0].tolerance",
        "[[claim]]",
    );
    refused_at(
        &eq("target = \"final_lr\"\ntolerance = -0.1"),
        "claim[0].tolerance",
        "tolerance = ",
    );
    // paired_equivalence: a tolerance is required, and it has no direction.
    let pe = |extra: &str| {
        format!("\n[[claim]]\nid = \"P\"\nstatement = \"s\"\nmetric = \"final_loss\"\ntest = \"paired_equivalence\"\nby = \"schedule\"\ncandidate = \"fast_twin\"\nbaseline = \"fast\"\n{extra}\n")
    };
    refused_at(&pe(""), "claim[0].tolerance", "[[claim]]");
    refused_at(
        &pe("tolerance = 0.05\nexpect = \"lower\""),
        "claim[0].expect",
        "expect = ",
    );
    // relative_to without a window; `changes` is the only statistic of a
    // label column.
    let (c, l) = claim_with(
        2,
        "metric = \"loss\"\nrelative_to = { from = 0, to = 40, stat = \"mean\" }",
    );
    claim_refused(&c, "claim[0].relative_to", l + 1);
    let (c, l) = claim_with(
        2,
        "metric = \"basin\"\nwindow = { from = 0, to = 40, stat = \"mean\" }",
    );
    claim_refused(&c, "claim[0].metric", l);
}

/// `min_effect`: lr 0.1 against 0.1001 on the stable quadratic of
/// [`SWEEP`]. The larger lr ends lower in every pair (a faster contraction,
/// 1 − lr·λ per step), so "the larger lr ends higher" is contradicted with
/// the smallest exact p; but the difference is a few 1e-4 of the loss, and
/// with a 5 % margin the same data neither support nor contradict it. An
/// absolute margin below the effect changes nothing.
#[test]
fn min_effect_turns_a_trivial_difference_inconclusive() {
    let sweep = SWEEP.replace(
        "name = \"fast_twin\"\nkind = \"constant\"\nlr = 0.1",
        "name = \"fast_plus\"\nkind = \"constant\"\nlr = 0.1001",
    );
    assert!(sweep.contains("fast_plus"));
    let claims = r#"
[[claim]]
id = "SMALL"
statement = "lr 0.1001 ends higher than lr 0.1 (false by a trivial amount)"
metric = "final_loss"
by = "schedule"
candidate = "fast_plus"
baseline = "fast"
expect = "higher"

[[claim]]
id = "MARGIN"
statement = "The same with a 5 % margin"
metric = "final_loss"
by = "schedule"
candidate = "fast_plus"
baseline = "fast"
expect = "higher"
min_effect = "5%"

[[claim]]
id = "ABSOLUTE"
statement = "lr 0.1 ends lower than lr 0.001 by at least 1e-9"
metric = "final_loss"
by = "schedule"
candidate = "fast"
baseline = "slow"
expect = "lower"
min_effect = 1e-9
"#;
    let (tmp, _) = setup("m.toml", &format!("{sweep}{claims}"));
    let o = valley(
        &["claims", "m.toml", "--out", "out", "--quiet", "--no-report"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = fs::read_to_string(tmp.path().join("out/verdicts.csv")).unwrap();
    let rows = csv_rows(&csv);
    let row = |id: &str| rows.iter().find(|r| r[0] == id).unwrap().clone();
    let (small, margin) = (row("SMALL"), row("MARGIN"));
    assert_eq!(small[3], "contradicted", "{csv}");
    assert_eq!(margin[3], "inconclusive", "{csv}");
    // Same data: the effect is below 5 % of the baseline's median loss.
    assert_eq!(small[5], margin[5]);
    let effect: f64 = small[5].parse().unwrap();
    assert!(effect < 0.0, "{csv}");
    assert_eq!(row("ABSOLUTE")[3], "supported", "{csv}");
    for (bad, says) in [
        ("\"five\"", "min_effect"),
        ("-1.0", "min_effect"),
        ("\"-5%\"", "min_effect"),
    ] {
        let src = format!(
            "{sweep}{}",
            claims.replace("min_effect = \"5%\"", &format!("min_effect = {bad}"))
        );
        let (tmp, _) = setup("b.toml", &src);
        let o = valley(&["claims", "b.toml", "--out", "out", "--quiet"], tmp.path());
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).contains(says), "{}", stderr(&o));
        assert!(!tmp.path().join("out").exists());
    }
}
