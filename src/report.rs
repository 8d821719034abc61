//! `DIR/report.html`: one self-contained page about a results folder.
//!
//! The page holds, in reading order: the sweep's name and description with
//! its key numbers; a compare table (see [`crate::compare`]) for every
//! factor with at least two levels, on `final_loss`, against the first level
//! in plan order, verdict cells coloured; every figure of `valley plot`
//! (inline SVG, regenerated into `DIR/figures/` on the way) with a one-line
//! caption of what to look at, contours with trajectories included for
//! landscapes of dimension <= 2; the diverged runs by group; the plan (axes
//! and levels, grid size); provenance from `sweep.json`; and the sweep
//! file's text.
//!
//! Self-contained means: no `<script>`, no `<link>`, no web fonts, no
//! `src`/`href` that leaves the page (only `#fragment` links), so the file
//! can be mailed or opened from a cluster's scratch disk.
//! `scripts/check_report.sh` renders it in headless Chromium and checks it.

use crate::claims::{Evaluation, Verdict as ClaimVerdict};
use crate::compare::{self, Comparison, Options, Verdict};
use crate::config::Plan;
use crate::error::{Result, ValleyError};
use crate::schema::runs as rc;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The file name of the report inside a results folder.
pub use crate::results::REPORT_FILE;

/// `s` with the five HTML-special characters escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What to look at in each figure of `valley plot`, by file stem.
pub fn caption(stem: &str) -> String {
    match stem {
        "lr" => "Learning rate (and momentum where a schedule varies it) against step: check that each schedule is the one you meant.".into(),
        "update_norm" => "Update norm ‖x(t+1) − x(t)‖, median and 10–90 % band over seeds: plateaus and cliffs where the lr steps, a smooth slide where it decays.".into(),
        "loss" => "Loss against step, median and 10–90 % band over seeds: where the schedules separate, and whether they have settled by the last step.".into(),
        "final_loss" => "Empirical CDF of the final loss over seeds: the curve further left is better; a curve that ends below 1 lost runs to divergence.".into(),
        "sharpness" => "Final sharpness against final loss, dashed: the stability bound 2(1+β)/lr_final: runs settle where the bound meets the landscape's curvature.".into(),
        "sharpness_trace" => "Sharpness during the run against the bound 2(1+β)/lr_t: whether the curvature follows the bound as the lr decays (edge of stability).".into(),
        s => match s.strip_prefix("contour_") {
            Some(l) => format!("Landscape {l}: contours with the first trajectories of each schedule (ring: start, dot: end, ×: known minima): which basin each run ends in and how it gets there."),
            None => s.to_string(),
        },
    }
}

/// An inline SVG figure read from `path`: the XML prolog dropped, so it can
/// sit inside HTML.
fn inline_svg(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)?;
    let start = text
        .find("<svg")
        .ok_or_else(|| ValleyError::Other(format!("{}: no <svg> element", path.display())))?;
    Ok(text[start..].trim_end().to_string())
}

/// How the verdicts are decided, in one paragraph.
pub const CLAIMS_NOTE: &str = "Each verdict is computed from this sweep's runs, never written by hand. wilcoxon: paired runs (same seed), supported when every group shows the expected direction with Holm-adjusted p < 0.05, contradicted when a group shows the opposite direction significantly. mcnemar: the same rule on the exact McNemar test of the paired divergence flags. equivalence: supported when every group's relative error to the formula is significantly within the tolerance (two one-sided Wilcoxon tests), contradicted when a group is significantly outside. every_step: supported when the property holds at every traced step of every pair, contradicted when it fails at one. Otherwise inconclusive.";

pub(crate) const STYLE: &str = r#"
:root { --ink: #1f2328; --muted: #59636e; --rule: #d8dee4; --bg: #ffffff; --panel: #f6f8fa;
        --good: #1a7f37; --good-bg: #dcf5e3; --bad: #b42318; --bad-bg: #fde4e1; --same-bg: #eef1f4; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 15px/1.5 -apple-system, "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 28px 32px 64px; }
h1 { font-size: 28px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 21px; margin: 40px 0 10px; padding-bottom: 6px; border-bottom: 1px solid var(--rule); }
h3 { font-size: 16px; margin: 24px 0 6px; }
p { margin: 6px 0; }
.lead { color: var(--muted); font-size: 16px; max-width: 900px; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 10px; margin: 14px 0 4px; padding: 0; list-style: none; }
.facts li { background: var(--panel); border: 1px solid var(--rule); border-radius: 6px; padding: 3px 10px; font-size: 13px; }
.facts b { font-weight: 600; }
nav { margin: 16px 0 0; font-size: 14px; color: var(--muted); }
nav a { color: #0b5cad; text-decoration: none; margin-right: 14px; }
.note { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 4px; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; font-size: 12px; }
table.compare th { vertical-align: bottom; }
.ci { color: var(--muted); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.verdict { font-weight: 600; text-align: center; white-space: nowrap; border-radius: 3px; }
td.better { background: var(--good-bg); color: var(--good); }
td.worse { background: var(--bad-bg); color: var(--bad); }
td.same { background: var(--same-bg); color: var(--muted); font-weight: 500; }
.pill { padding: 1px 8px; border-radius: 4px; font-weight: 600; }
.pill.better { background: var(--good-bg); color: var(--good); }
.pill.worse { background: var(--bad-bg); color: var(--bad); }
.pill.same { background: var(--same-bg); color: var(--muted); }
.scroll { overflow-x: auto; }
figure { margin: 22px 0 30px; }
figure svg { display: block; width: 100%; height: auto; border: 1px solid var(--rule); border-radius: 4px; }
figcaption { font-size: 14px; color: var(--ink); margin-top: 6px; }
figcaption b { font-weight: 600; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 3px 18px; font-size: 14px; margin: 8px 0; }
dt { color: var(--muted); }
dd { margin: 0; font-variant-numeric: tabular-nums; }
code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--panel); border: 1px solid var(--rule); border-radius: 6px; padding: 12px 14px; overflow-x: auto; line-height: 1.45; }
footer { margin-top: 48px; color: var(--muted); font-size: 12px; }
"#;

/// Whether a factor's levels are different problems: the landscape, or an
/// axis of a landscape table (its dimension, spectrum, data). Their raw
/// losses are on different scales, so the report does not pair them.
pub fn compares_problems(column: &str) -> bool {
    column == rc::LANDSCAPE || column.starts_with("landscape.")
}

/// The compare tables of the report: one per factor with two or more
/// levels, except factors whose levels are different problems
/// ([`compares_problems`]).
pub fn comparisons(dir: &Path, plan: &Plan) -> Result<Vec<Comparison>> {
    let runs = compare::read_runs(dir)?;
    let path = dir.join(crate::results::RUNS_FILE);
    // Schedules first (the usual question).
    let mut factors: Vec<_> = compare::factors(plan)
        .into_iter()
        .filter(|f| f.levels.len() >= 2 && !compares_problems(&f.column))
        .collect();
    factors.sort_by_key(|f| f.column != rc::SCHEDULE);
    factors
        .into_iter()
        .map(|f| {
            let opts = Options {
                by: f.column,
                ..Options::default()
            };
            compare::compare(&runs, &path, plan, &opts)
        })
        .collect()
}

/// The factors left out of the comparisons because their levels are
/// different problems.
fn problem_factors(plan: &Plan) -> Vec<String> {
    compare::factors(plan)
        .into_iter()
        .filter(|f| f.levels.len() >= 2 && compares_problems(&f.column))
        .map(|f| f.column)
        .collect()
}

fn compare_table(c: &Comparison, out: &mut String) {
    let count = |v: Verdict| c.rows.iter().filter(|r| r.verdict == v).count();
    let _ = writeln!(
        out,
        "<h3 id=\"cmp-{id}\">{by}: each level against <code>{base}</code></h3>",
        id = escape(&c.by),
        by = escape(&c.by),
        base = escape(&c.baseline)
    );
    let _ = writeln!(
        out,
        "<p>{} on paired seeds, {} is better: <b>better</b> in {} of {} rows, <b>worse</b> in {}, no difference in {}.</p>",
        escape(&c.metric),
        if c.higher_is_better { "higher" } else { "lower" },
        count(Verdict::Better),
        c.rows.len(),
        count(Verdict::Worse),
        count(Verdict::NoDifference)
    );
    out.push_str("<div class=\"scroll\"><table class=\"compare\">\n<thead><tr>");
    for g in &c.group_columns {
        let _ = write!(out, "<th>{}</th>", escape(g));
    }
    for h in [
        "candidate",
        "verdict",
        "median_diff [95% CI]",
        "win_rate",
        "p_holm",
        "p_value",
        "median_candidate",
        "median_baseline",
        "n_pairs",
        "n_diverged cand / base",
    ] {
        // Let long column names break after an underscore.
        let _ = write!(out, "<th>{}</th>", escape(h).replace('_', "_<wbr>"));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in &c.rows {
        let s = &r.stats;
        out.push_str("<tr>");
        for g in &r.group {
            let _ = write!(out, "<td>{}</td>", escape(g));
        }
        let (class, text) = match r.verdict {
            Verdict::Better => ("better", "better"),
            Verdict::Worse => ("worse", "worse"),
            Verdict::NoDifference => ("same", "no difference"),
        };
        let _ = write!(
            out,
            "<td>{cand}</td><td class=\"verdict {class}\">{text}</td>\
             <td class=\"num\">{md} <span class=\"ci\">[{lo}, {hi}]</span></td><td class=\"num\">{w}</td>\
             <td class=\"num\">{ph}</td><td class=\"num\">{p}</td>\
             <td class=\"num\">{mc}</td><td class=\"num\">{mb}</td>\
             <td class=\"num\">{n}</td><td class=\"num\">{dc} / {db}</td>",
            cand = escape(&r.candidate),
            n = s.n_pairs,
            dc = s.n_diverged_candidate,
            db = s.n_diverged_baseline,
            mc = compare::sig(s.median_candidate),
            mb = compare::sig(s.median_baseline),
            md = compare::sig(s.median_diff),
            lo = compare::sig(s.ci_low),
            hi = compare::sig(s.ci_high),
            w = if s.win_rate.is_nan() {
                "-".to_string()
            } else {
                format!("{:.0} %", 100.0 * s.win_rate)
            },
            p = compare::p_text(s.wilcoxon.p_value),
            ph = compare::p_text(r.p_holm),
        );
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

/// Diverged runs per group (every factor), from runs.parquet.
fn diverged_section(dir: &Path, plan: &Plan, out: &mut String) -> Result<()> {
    let runs = compare::read_runs(dir)?;
    let path = dir.join(crate::results::RUNS_FILE);
    // The factors that tell groups apart (the labels if none does).
    let all = compare::factors(plan);
    let mut factors: Vec<String> = all
        .iter()
        .filter(|f| f.levels.len() >= 2)
        .map(|f| f.column.clone())
        .collect();
    if factors.is_empty() {
        factors = vec![
            rc::LANDSCAPE.into(),
            rc::OPTIMIZER.into(),
            rc::SCHEDULE.into(),
        ];
    }
    let values: Vec<Vec<String>> = factors
        .iter()
        .map(|f| compare::rendered(&runs, f, &path))
        .collect::<Result<_>>()?;
    let seeds = compare::rendered(&runs, rc::SEED, &path)?;
    let diverged: Vec<bool> = runs
        .column(rc::DIVERGED)?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    let steps = compare::rendered(&runs, rc::STEPS_RUN, &path)?;
    let mut groups: Vec<(Vec<String>, usize, Vec<String>)> = Vec::new();
    let mut at: HashMap<Vec<String>, usize> = HashMap::new();
    for i in 0..runs.height() {
        let key: Vec<String> = values.iter().map(|v| v[i].clone()).collect();
        let g = *at.entry(key.clone()).or_insert_with(|| {
            groups.push((key, 0, Vec::new()));
            groups.len() - 1
        });
        groups[g].1 += 1;
        if diverged[i] {
            groups[g]
                .2
                .push(format!("{} (step {})", seeds[i], steps[i]));
        }
    }
    let total: usize = groups.iter().map(|g| g.2.len()).sum();
    let _ = writeln!(out, "<h2 id=\"diverged\">Diverged runs</h2>");
    if total == 0 {
        let _ = writeln!(
            out,
            "<p>No run diverged ({} runs in {} groups).</p>",
            runs.height(),
            groups.len()
        );
        return Ok(());
    }
    let _ = writeln!(
        out,
        "<p>{total} of {} runs diverged. A diverged run stops where its loss exceeded the divergence threshold; compare tables count it as the worst outcome of its pair.</p>",
        runs.height()
    );
    out.push_str("<div class=\"scroll\"><table><thead><tr>");
    for f in &factors {
        let _ = write!(out, "<th>{}</th>", escape(f));
    }
    out.push_str("<th>diverged / runs</th><th>seeds (step reached)</th></tr></thead><tbody>\n");
    for (key, n, seeds) in groups.iter().filter(|g| !g.2.is_empty()) {
        out.push_str("<tr>");
        for k in key {
            let _ = write!(out, "<td>{}</td>", escape(k));
        }
        let _ = writeln!(
            out,
            "<td class=\"num\">{} / {n}</td><td>{}</td></tr>",
            seeds.len(),
            escape(&seeds.join(", "))
        );
    }
    out.push_str("</tbody></table></div>\n");
    Ok(())
}

fn plan_section(plan: &Plan, out: &mut String) {
    let st = &plan.settings;
    let _ = writeln!(out, "<h2 id=\"plan\">Plan</h2>");
    let grid = plan.landscapes.len() * plan.optimizers.len() * plan.schedules.len();
    let _ = writeln!(
        out,
        "<p>Grid: {grid} points (landscape × optimizer × schedule variants, sweep axes included) × {} seeds = <b>{} runs</b>.</p>",
        plan.seeds.len(),
        plan.run_count()
    );
    out.push_str("<table><thead><tr><th>factor</th><th>levels (plan order)</th><th>count</th></tr></thead><tbody>\n");
    for f in compare::factors(plan) {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td></tr>",
            escape(&f.column),
            escape(&f.levels.join(", ")),
            f.levels.len()
        );
    }
    let _ = writeln!(
        out,
        "<tr><td><code>seed</code></td><td>{}</td><td class=\"num\">{}</td></tr>",
        escape(&plan.seeds.summary()),
        plan.seeds.len()
    );
    out.push_str("</tbody></table>\n<dl>\n");
    let hessian = match (st.hessian, st.hessian_every) {
        (false, _) => "off".to_string(),
        (true, 0) => "at the end".to_string(),
        (true, k) => format!("every {k} steps and at the end"),
    };
    for (k, v) in [
        ("steps per run", st.steps.to_string()),
        ("trace every", format!("{} steps", st.trace_every)),
        ("curvature", hessian),
        ("diverge factor", format!("{:e}", st.diverge_factor)),
        ("base seed", st.seed.to_string()),
        ("trace rows per run", plan.trace_rows_per_run().to_string()),
    ] {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", k, escape(&v));
    }
    out.push_str("</dl>\n");
}

fn provenance_section(json: &Value, out: &mut String) {
    let _ = writeln!(out, "<h2 id=\"provenance\">Provenance</h2>\n<dl>");
    let text = |v: &Value| match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    let runs = &json["runs"];
    let rows = [
        ("valley version", text(&json["valley_version"])),
        ("git revision", text(&json["git_revision"])),
        ("sweep file", text(&json["sweep_file"])),
        ("status", text(&json["status"])),
        ("started", text(&json["started_at"])),
        ("finished", text(&json["finished_at"])),
        (
            "wall time",
            json["wall_seconds"]
                .as_f64()
                .map_or("-".into(), |s| format!("{s:.2} s")),
        ),
        ("threads", text(&json["threads"])),
        (
            "runs",
            format!(
                "{} planned, {} finished, {} diverged, {} resumed",
                text(&runs["planned"]),
                text(&runs["finished"]),
                text(&runs["diverged"]),
                text(&runs["resumed"])
            ),
        ),
        ("trace rows", text(&json["trace_rows"])),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "<dt>{k}</dt><dd>{}</dd>", escape(&v));
    }
    out.push_str("</dl>\n");
}

/// The file stem of a claim's figure in `DIR/figures/`.
pub fn claim_figure_stem(id: &str) -> String {
    let slug: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("claim_{slug}")
}

/// Writes each claim's figure to `DIR/figures/claim_<id>.png` and `.svg`.
pub fn write_claim_figures(dir: &Path, evals: &[Evaluation]) -> Result<()> {
    let out = dir.join(crate::plot::FIGURES_DIR);
    std::fs::create_dir_all(&out).map_err(|e| crate::results::io_at(&out, e))?;
    for e in evals {
        for ext in ["png", "svg"] {
            let path = out.join(format!("{}.{ext}", claim_figure_stem(&e.claim.id)));
            e.figure.save(&path).map_err(|err| {
                ValleyError::Other(format!("{}: cannot draw: {err:?}", path.display()))
            })?;
        }
    }
    Ok(())
}

/// One claim as an HTML section: statement, verdict, facts, evidence table
/// and its figure (`svg`: inline SVG, empty for none).
pub fn claim_section(out: &mut String, e: &Evaluation, file: Option<&str>, svg: &str) {
    let c = &e.claim;
    let class = match e.verdict {
        ClaimVerdict::Supported => "better",
        ClaimVerdict::Contradicted => "worse",
        ClaimVerdict::Inconclusive => "same",
    };
    let _ = writeln!(
        out,
        "<section id=\"claim-{}\">\n<h3>{}: <span class=\"pill {class}\">{}</span></h3>",
        escape(&c.id),
        escape(&c.id),
        escape(e.verdict.as_str())
    );
    let _ = writeln!(out, "<p>{}</p>", escape(&c.statement));
    let restrict: Vec<String> = c
        .restrict
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    let sig = compare::sig;
    let mut facts = Vec::new();
    if let Some(f) = file {
        facts.push(("file", f.to_string()));
    }
    facts.extend([
        ("test", c.test.name().to_string()),
        ("expectation", c.expectation()),
        (
            "where",
            if restrict.is_empty() {
                "every group".into()
            } else {
                restrict.join(", ")
            },
        ),
        (
            "effect",
            format!(
                "{} [{}, {}] ({})",
                sig(e.effect),
                sig(e.ci_low),
                sig(e.ci_high),
                c.test.form.effect_caption()
            ),
        ),
        ("pairs", e.n_pairs.to_string()),
        ("p_holm", compare::p_text(e.p_holm)),
    ]);
    out.push_str("<dl>\n");
    for (k, v) in facts {
        let _ = writeln!(out, "<dt>{k}</dt><dd>{}</dd>", escape(&v));
    }
    out.push_str("</dl>\n<div class=\"scroll\"><table class=\"evidence\">\n<tr>");
    for h in &e.header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for r in &e.table {
        out.push_str("<tr>");
        for cell in r {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    if !svg.is_empty() {
        let _ = writeln!(
            out,
            "<figure>\n{svg}\n<figcaption>The evidence of {}: {}</figcaption>\n</figure>",
            escape(&c.id),
            escape(c.test.form.figure_caption())
        );
    }
    out.push_str("</section>\n");
}

/// The inline SVG of a claim's figure in `dir`, empty when absent.
pub fn claim_svg(dir: &Path, id: &str) -> String {
    let path = dir
        .join(crate::plot::FIGURES_DIR)
        .join(format!("{}.svg", claim_figure_stem(id)));
    inline_svg(&path).unwrap_or_default()
}

/// The list of facts under the title: runs, diverged, steps, seeds,
/// version, revision, finish time.
fn facts_list(plan: &Plan, json: &Value, out: &mut String) {
    let runs = &json["runs"];
    let facts = [
        (
            "runs",
            runs["finished"]
                .as_u64()
                .unwrap_or(plan.run_count() as u64)
                .to_string(),
        ),
        (
            "diverged",
            runs["diverged"]
                .as_u64()
                .map_or("-".into(), |v| v.to_string()),
        ),
        ("steps", plan.settings.steps.to_string()),
        ("seeds", plan.seeds.len().to_string()),
        (
            "valley",
            json["valley_version"].as_str().unwrap_or("-").to_string(),
        ),
        (
            "revision",
            json["git_revision"]
                .as_str()
                .map_or("-".into(), |r| r.chars().take(10).collect()),
        ),
        (
            "finished",
            json["finished_at"].as_str().unwrap_or("-").to_string(),
        ),
    ];
    out.push_str("<ul class=\"facts\">");
    for (k, v) in facts {
        let _ = write!(out, "<li>{k} <b>{}</b></li>", escape(&v));
    }
}

/// The figures of the sweep, inlined and numbered; returns how many.
fn figures_section(figures: &[PathBuf], out: &mut String) -> Result<usize> {
    let _ = writeln!(out, "<h2 id=\"figures\">Figures</h2>");
    let mut k = 0;
    for path in figures
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
    {
        k += 1;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let _ = writeln!(
            out,
            "<figure id=\"fig-{}\">\n{}\n<figcaption><b>Figure {k}.</b> {} <span class=\"note\">(figures/{}.svg)</span></figcaption>\n</figure>",
            escape(stem),
            inline_svg(path)?,
            escape(&caption(stem)),
            escape(stem)
        );
    }

    Ok(k)
}

/// The whole page.
pub fn render(dir: &Path, plan: &Plan, json: &Value, figures: &[PathBuf]) -> Result<String> {
    let evals = crate::claims::evaluate_dir(dir, plan)?;
    render_with(dir, plan, json, figures, &evals)
}

fn render_with(
    dir: &Path,
    plan: &Plan,
    json: &Value,
    figures: &[PathBuf],
    evals: &[Evaluation],
) -> Result<String> {
    let comparisons = comparisons(dir, plan)?;
    let mut out = String::new();
    let title = format!("valley report: {}", plan.name);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"valley {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&title)
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(&plan.name));
    if let Some(d) = &plan.description {
        let _ = writeln!(out, "<p class=\"lead\">{}</p>", escape(d));
    }
    facts_list(plan, json, &mut out);
    out.push_str(
        "</ul>\n<nav><a href=\"#claims\">Claims</a><a href=\"#compare\">Comparisons</a><a href=\"#figures\">Figures</a>\
                  <a href=\"#diverged\">Diverged runs</a><a href=\"#plan\">Plan</a>\
                  <a href=\"#provenance\">Provenance</a><a href=\"#source\">Sweep file</a></nav>\n",
    );

    let _ = writeln!(out, "<h2 id=\"claims\">Claims</h2>");
    if evals.is_empty() {
        out.push_str("<p>The sweep file has no <code>[[claim]]</code> table.</p>\n");
    } else {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(CLAIMS_NOTE));
        for e in evals {
            claim_section(&mut out, e, None, &claim_svg(dir, &e.claim.id));
        }
    }

    let _ = writeln!(out, "<h2 id=\"compare\">Comparisons</h2>");
    let _ = writeln!(
        out,
        "<p class=\"note\">Each row pairs runs that differ only in the compared factor (same seed: same initial point and noise draws). \
         median_diff = candidate − baseline with a 95 % percentile-bootstrap interval ({} resamples); win_rate: fraction of pairs where the candidate is strictly better; \
         p: two-sided Wilcoxon signed-rank test (as scipy.stats.wilcoxon), p_holm: Holm-adjusted over the rows of the table; verdict at α = {} on p_holm. \
         A diverged run counts as the worst value of its pair. Same table in a terminal: <code>valley compare DIR --by FACTOR</code>.</p>",
        crate::stats::RESAMPLES,
        compare::ALPHA
    );
    let skipped = problem_factors(plan);
    if !skipped.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"note\">Not compared: {}. Their levels are different problems, whose raw losses are on different scales; \
             each table below pairs runs on the same problem.</p>",
            skipped
                .iter()
                .map(|c| format!("<code>{}</code>", escape(c)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if comparisons.is_empty() {
        out.push_str("<p>No other factor has two levels: nothing to compare.</p>\n");
    }
    for c in &comparisons {
        compare_table(c, &mut out);
    }

    let k = figures_section(figures, &mut out)?;

    diverged_section(dir, plan, &mut out)?;
    plan_section(plan, &mut out);
    provenance_section(json, &mut out);
    let _ = writeln!(
        out,
        "<h2 id=\"source\">Sweep file</h2>\n<p class=\"note\">{}</p>\n<pre>{}</pre>",
        escape(json["sweep_file"].as_str().unwrap_or("")),
        escape(plan.source.trim_end())
    );
    let _ = writeln!(
        out,
        "<footer>Written by <code>valley report</code> {} from runs.parquet, trace.parquet and sweep.json ({} figures). Self-contained: no scripts, no external resources.</footer>\n</main>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION"),
        k
    );
    Ok(out)
}

/// Regenerates the figures of `dir` and writes `dir/report.html`; returns
/// its path.
pub fn write(dir: &Path, plan: &Plan, json: &Value) -> Result<PathBuf> {
    let figures = crate::plot::plot_files(dir)?;
    let evals = crate::claims::evaluate_dir(dir, plan)?;
    write_claim_figures(dir, &evals)?;
    let html = render_with(dir, plan, json, &figures, &evals)?;
    let path = dir.join(REPORT_FILE);
    let tmp = dir.join(format!("{REPORT_FILE}.tmp"));
    std::fs::write(&tmp, html)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}
