//! The one evaluation of a claim, whatever its form: restrict the groups of
//! runs (`where`), test each group ([`Form::test`]), Holm-adjust each
//! p-value over the claim's groups ([`stats::holm`]), give the verdict, and
//! assemble the evidence table and the figure.
//!
//! The verdict of tested rows ([`Evidence::Tested`]): `contradicted` when
//! some row leans against the expectation with p_holm < α (the deciding row
//! is the one with the smallest such p_holm); else `supported` when every
//! row leans the expected way with p_holm < α (and there is a row); else
//! `inconclusive`; the deciding row is then the one with the largest
//! p_holm, NaN counting as largest, the first on ties. Checked rows
//! ([`Evidence::Checked`], no sampling error): `contradicted` when one
//! fails, `supported` when none fails and something was checked; the
//! deciding row has the worst margin. With `min_effect`, a tested row
//! whose effect is smaller than the margin neither supports nor
//! contradicts ([`sized`]).

use super::form::{Data, Evidence, GroupRow};
use super::{Claim, Evaluation, Verdict};
use crate::compare::{self, Group};
use crate::config::Plan;
use crate::error::Result;
use crate::plot::render::{Figure, Panel};
use crate::stats;
use polars::prelude::DataFrame;
use std::path::Path;

/// Evaluates `claim` on runs.parquet (`runs`, read from `path` in `dir`).
pub fn evaluate(
    claim: &Claim,
    runs: &DataFrame,
    dir: &Path,
    path: &Path,
    plan: &Plan,
) -> Result<Evaluation> {
    let form = claim.test.form;
    // Restrict.
    let by = claim.paired.as_ref().map(|p| p.by.as_str());
    let grouping = compare::group_runs(runs, path, plan, by)?;
    let groups: Vec<&Group> = grouping
        .groups
        .iter()
        .filter(|g| {
            claim.restrict.iter().all(|(k, v)| {
                grouping
                    .others
                    .iter()
                    .position(|f| &f.column == k)
                    .is_none_or(|j| &g.key[j] == v)
            })
        })
        .collect();
    // Test.
    let data = Data {
        claim,
        runs,
        dir,
        path,
        columns: &grouping.columns,
    };
    let rows = form.test(&data, &groups)?;
    // Holm.
    let holm = holm_by_column(&rows);
    // Verdict.
    let evidence: Vec<Evidence> = rows
        .iter()
        .zip(&holm)
        .map(|(r, h)| sized(claim, r, form.evidence(claim, r, h)))
        .collect();
    let (verdict, deciding, p_holm) = decide(&evidence);
    let pick = |k: usize| deciding.map_or(f64::NAN, |i| rows[i].effect[k]);
    // Table.
    let mut header = grouping.columns.clone();
    header.extend(form.header().iter().map(|h| h.to_string()));
    let table = rows
        .iter()
        .zip(&holm)
        .map(|(r, h)| {
            let mut cells = r.label.clone();
            cells.extend(r.cells.iter().cloned());
            for (p, ph) in r.p.iter().zip(h) {
                cells.push(compare::p_text(*p));
                cells.push(compare::p_text(*ph));
            }
            cells
        })
        .collect();
    let n_pairs = rows.iter().map(|r| r.n).sum();
    let (group, group_pairs) = deciding.map_or((String::new(), 0), |i| {
        (panel_title(&grouping.columns, &rows[i].label), rows[i].n)
    });
    let (effect, ci_low, ci_high) = (pick(0), pick(1), pick(2));
    // Figure.
    let panels = rows.into_iter().map(|r| r.panel).collect();
    Ok(Evaluation {
        claim: claim.clone(),
        verdict,
        header,
        table,
        effect,
        ci_low,
        ci_high,
        n_pairs,
        group,
        group_pairs,
        p_holm,
        figure: figure(claim, panels),
    })
}

/// A row's evidence under the claim's `min_effect`: an effect smaller than
/// the margin (or none) neither supports nor contradicts, whatever its
/// p-value.
fn sized(claim: &Claim, row: &GroupRow, e: Evidence) -> Evidence {
    match (claim.min_effect, e) {
        (Some(m), Evidence::Tested { agrees, .. }) if !m.reached(row.effect[0], row.baseline) => {
            Evidence::Tested {
                p_for: 1.0,
                agrees,
                p_against: None,
            }
        }
        _ => e,
    }
}

/// Per row, its p-values Holm-adjusted over the rows (the k-th p-value of
/// every row is one family).
fn holm_by_column(rows: &[GroupRow]) -> Vec<Vec<f64>> {
    let width = rows.first().map_or(0, |r| r.p.len());
    let columns: Vec<Vec<f64>> = (0..width)
        .map(|k| stats::holm(&rows.iter().map(|r| r.p[k]).collect::<Vec<_>>()))
        .collect();
    (0..rows.len())
        .map(|i| columns.iter().map(|c| c[i]).collect())
        .collect()
}

/// The verdict, the deciding row and its p_holm (see the module header).
fn decide(evidence: &[Evidence]) -> (Verdict, Option<usize>, f64) {
    let checks: Vec<(bool, bool, Option<f64>)> = evidence
        .iter()
        .filter_map(|e| match *e {
            Evidence::Checked {
                failed,
                checked,
                margin,
            } => Some((failed, checked, margin)),
            Evidence::Tested { .. } => None,
        })
        .collect();
    if !checks.is_empty() {
        return decide_checks(&checks);
    }
    let tested: Vec<(f64, bool, Option<f64>)> = evidence
        .iter()
        .filter_map(|e| match *e {
            Evidence::Tested {
                p_for,
                agrees,
                p_against,
            } => Some((p_for, agrees, p_against)),
            Evidence::Checked { .. } => None,
        })
        .collect();
    let significant = |p: f64| p < compare::ALPHA; // false for NaN
    let contradicting = (0..tested.len())
        .filter_map(|i| tested[i].2.filter(|p| significant(*p)).map(|p| (i, p)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((i, p)) = contradicting {
        return (Verdict::Contradicted, Some(i), p);
    }
    let all = !tested.is_empty() && tested.iter().all(|t| significant(t.0) && t.1);
    let p_for: Vec<f64> = tested.iter().map(|t| t.0).collect();
    let deciding = largest_p(&p_for);
    (
        if all {
            Verdict::Supported
        } else {
            Verdict::Inconclusive
        },
        deciding,
        deciding.map_or(f64::NAN, |i| p_for[i]),
    )
}

/// The verdict of checks (failed, checked, worst margin); no p-value.
fn decide_checks(checks: &[(bool, bool, Option<f64>)]) -> (Verdict, Option<usize>, f64) {
    let verdict = if checks.iter().any(|c| c.0) {
        Verdict::Contradicted
    } else if checks.iter().any(|c| c.1) {
        Verdict::Supported
    } else {
        Verdict::Inconclusive
    };
    let worst = (0..checks.len())
        .filter_map(|i| checks[i].2.map(|m| (i, m)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i);
    (verdict, worst, f64::NAN)
}

/// The row with the largest p (NaN counts as largest), the first on ties.
fn largest_p(p: &[f64]) -> Option<usize> {
    let key = |i: usize| if p[i].is_nan() { 2.0 } else { p[i] };
    (0..p.len())
        .rev()
        .max_by(|&a, &b| key(a).total_cmp(&key(b)))
}

/// "factor = level, …" of a group, "all runs" without label columns.
pub fn panel_title(columns: &[String], label: &[String]) -> String {
    if label.is_empty() {
        "all runs".into()
    } else {
        columns
            .iter()
            .zip(label)
            .map(|(c, v)| format!("{c} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A tolerance as written: `0.05`, `1e-12`.
pub fn tol_text(t: f64) -> String {
    if t != 0.0 && t.abs() < 1e-3 {
        format!("{t:e}")
    } else {
        format!("{t}")
    }
}

fn figure(claim: &Claim, panels: Vec<Panel>) -> Figure {
    let cols = panels.len().clamp(1, 3);
    let mut f = Figure::grid(
        format!(
            "{} ({}): {}",
            claim.id,
            claim.test.name(),
            claim.metric_label()
        ),
        cols,
        panels,
    );
    f.size.0 = f.size.0.max(900);
    f
}
