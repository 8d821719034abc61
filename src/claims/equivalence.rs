//! `equivalence` (the default when `target` is given): agreement with a
//! formula. Per run, the relative error e = (metric − target)/|target|
//! with `target` ([`Expr`]) evaluated on the run's row of runs.parquet. Per
//! group (every factor with two levels or more), two one-sided Wilcoxon
//! signed-rank tests (TOST, Schuirmann 1987; [`stats::tost`]): p_within =
//! max(P(e + tol > 0 one-sided), P(e − tol < 0 one-sided)); p_outside =
//! 2·min(P(e − tol > 0), P(e + tol < 0)), capped at 1. Each is
//! Holm-adjusted over the groups. The effect is the median relative error
//! with its bootstrap interval.

use super::driver::tol_text;
use super::form::{Cx, Data, DefaultWhen, Evidence, Form, GroupRow, Params};
use super::{Claim, Expr, RawClaim, METRICS};
use crate::compare::{self, Group};
use crate::error::{Result, ValleyError};
use crate::plot::render::{color, Legend, Panel, Series, Style};
use crate::stats;
use polars::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

pub struct Equivalence;

/// The parameters of an `equivalence` claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The expression as written.
    pub target: String,
    pub expr: Expr,
    /// Relative tolerance on |metric − target|/|target|.
    pub tolerance: f64,
}

impl Form for Equivalence {
    fn name(&self) -> &'static str {
        "equivalence"
    }

    fn default_when(&self) -> Option<DefaultWhen> {
        Some(DefaultWhen::Given("target"))
    }

    fn takes(&self) -> &'static [&'static str] {
        &["window", "relative_to", "target", "tolerance"]
    }

    fn notes(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "tolerance",
            "\\|metric − target\\|/\\|target\\| for `equivalence` (required)",
        )]
    }

    fn rule(&self) -> &'static str {
        "per group (every factor with two levels), the relative error e = (metric − target)/\\|target\\| of each run; two one-sided Wilcoxon tests (TOST): supported when every group is within ±tolerance with Holm p < 0.05, contradicted when a group is beyond it with Holm p < 0.05"
    }

    fn parse(&self, cx: &Cx, raw: &RawClaim) -> Result<Params> {
        let Some(tolerance) = raw.tolerance else {
            return Err(cx.at(
                "tolerance",
                "missing: an `equivalence` claim needs `target` and `tolerance` (relative, e.g. 0.05)".into(),
            ));
        };
        let Some(target) = raw.target.clone() else {
            return Err(cx.at(
                "target",
                "missing: an `equivalence` claim needs `target` (an expression over runs.parquet columns)".into(),
            ));
        };
        let expr = Expr::parse(&target).map_err(|e| cx.at("target", format!("`{target}`: {e}")))?;
        let numeric_axes: Vec<&str> = cx
            .plan
            .axes
            .iter()
            .filter(|a| a.values.iter().all(|v| v.parse::<f64>().is_ok()))
            .map(|a| a.column.as_str())
            .collect();
        for name in expr.names() {
            if !METRICS.contains(&name.as_str()) && !numeric_axes.contains(&name.as_str()) {
                return Err(cx.at(
                    "target",
                    format!(
                        "`{name}` is neither a numeric column of runs.parquet nor a numeric sweep axis; names: {}",
                        METRICS.iter().copied().chain(numeric_axes.iter().copied()).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        Ok(Arc::new(Target {
            target,
            expr,
            tolerance,
        }))
    }

    fn expectation(&self, claim: &Claim) -> String {
        let t: &Target = claim.test.params();
        format!(
            "{} within ±{} (relative) of {}",
            claim.metric_label(),
            tol_text(t.tolerance),
            t.target
        )
    }

    fn summary(&self, claim: &Claim) -> [String; 3] {
        let t: &Target = claim.test.params();
        [
            "-".into(),
            "target".into(),
            format!("within ±{}", tol_text(t.tolerance)),
        ]
    }

    fn header(&self) -> &'static [&'static str] {
        &[
            "runs",
            "diverged",
            "median metric",
            "median target",
            "median rel. error",
            "95% CI",
            "p within (TOST)",
            "p_holm within",
            "p outside",
            "p_holm outside",
        ]
    }

    fn test(&self, data: &Data, groups: &[&Group]) -> Result<Vec<GroupRow>> {
        let t: &Target = data.claim.test.params();
        let values = data.values()?;
        let target = targets(data, &t.expr)?;
        let diverged = data.diverged()?;
        let sig = compare::sig;
        let mut rows = Vec::new();
        for g in groups {
            let ok: Vec<usize> = g
                .rows
                .iter()
                .copied()
                .filter(|&i| !diverged[i])
                .filter(|&i| matches!((values[i], target[i]), (Some(m), Some(t)) if m.is_finite() && t.is_finite() && t != 0.0))
                .collect();
            let m: Vec<f64> = ok.iter().map(|&i| values[i].unwrap_or(f64::NAN)).collect();
            let tv: Vec<f64> = ok.iter().map(|&i| target[i].unwrap_or(f64::NAN)).collect();
            let e: Vec<f64> = m.iter().zip(&tv).map(|(m, t)| (m - t) / t.abs()).collect();
            let key = format!("equivalence|{}|{}", data.claim.id, g.label.join("|"));
            let tost = Tost::of(&e, t.tolerance, &key);
            let (median_err, ci) = (tost.median, tost.ci);
            let median_target = stats::median(&tv);
            let points: Vec<(f64, f64)> = tv.iter().copied().zip(m.iter().copied()).collect();
            rows.push(GroupRow {
                label: g.label.clone(),
                n: e.len(),
                cells: vec![
                    e.len().to_string(),
                    g.rows.iter().filter(|&&i| diverged[i]).count().to_string(),
                    sig(stats::median(&m)),
                    sig(median_target),
                    sig(median_err),
                    format!("[{}, {}]", sig(ci.0), sig(ci.1)),
                ],
                p: tost.p.to_vec(),
                lower: None,
                check: None,
                effect: [median_err, ci.0, ci.1],
                baseline: f64::NAN,
                panel: panel(
                    data,
                    g,
                    t.tolerance,
                    &Names {
                        reference: "target",
                        line: "formula",
                        point: "run",
                    },
                    median_target,
                    &points,
                ),
            });
        }
        Ok(rows)
    }

    /// Within the tolerance (the first p-value) for, beyond it (the
    /// second) against.
    fn evidence(&self, _claim: &Claim, _row: &GroupRow, p_holm: &[f64]) -> Evidence {
        Tost::evidence(p_holm)
    }

    fn effect_caption(&self) -> &'static str {
        "median relative error (metric − target)/|target|"
    }

    fn figure_caption(&self) -> &'static str {
        "each point is one run, measured against the formula; the dashed lines are the diagonal and the tolerance."
    }
}

/// The two one-sided tests of relative errors `e` against ±tolerance
/// ([`stats::tost`]) with the median error and its bootstrap interval
/// (resampled under `key`); shared with `paired_equivalence`.
pub(super) struct Tost {
    /// p within the tolerance, p beyond it.
    pub p: [f64; 2],
    pub median: f64,
    pub ci: (f64, f64),
}

impl Tost {
    pub(super) fn of(e: &[f64], tolerance: f64, key: &str) -> Self {
        let (p_in, p_out) = stats::tost(e, tolerance);
        Self {
            p: [p_in, p_out],
            median: stats::median(e),
            ci: stats::bootstrap_median_ci(e, stats::RESAMPLES, key),
        }
    }

    /// Within the tolerance (the first p-value) for, beyond it (the
    /// second) against.
    pub(super) fn evidence(p_holm: &[f64]) -> Evidence {
        Evidence::Tested {
            p_for: p_holm[0],
            agrees: true,
            p_against: Some(p_holm[1]),
        }
    }
}

/// The target of every run: `expr` on its row of runs.parquet.
fn targets(data: &Data, expr: &Expr) -> Result<Vec<Option<f64>>> {
    let (runs, path) = (data.runs, data.path);
    let mut columns_of: HashMap<String, Vec<Option<f64>>> = HashMap::new();
    for n in &expr.names() {
        let bad = |e: PolarsError| {
            ValleyError::invalid(path, None, "", format!("column `{n}` (in `target`): {e}"))
        };
        let c = runs.column(n).map_err(bad)?;
        if !c.dtype().is_primitive_numeric() {
            return Err(ValleyError::invalid(
                path,
                None,
                "",
                format!("column `{n}` (in `target`) is not numeric ({})", c.dtype()),
            ));
        }
        let v: Vec<Option<f64>> = c
            .cast(&DataType::Float64)
            .map_err(bad)?
            .f64()
            .map_err(bad)?
            .iter()
            .collect();
        columns_of.insert(n.clone(), v);
    }
    Ok((0..runs.height())
        .map(|i| expr.eval(&|n| columns_of.get(n)?[i]))
        .collect())
}

/// What the panel of [`panel`] calls its parts.
pub(super) struct Names<'a> {
    /// The reference in the title and the axis (`target`, the baseline).
    pub reference: &'a str,
    /// The legend of the zero line (`formula`, `no difference`).
    pub line: &'a str,
    /// One point (`run`, `pair`).
    pub point: &'a str,
}

/// The relative error of each run or pair (in plan order) with the
/// tolerance band; `points` are (reference, metric).
pub(super) fn panel(
    data: &Data,
    g: &Group,
    tol: f64,
    names: &Names,
    median_reference: f64,
    points: &[(f64, f64)],
) -> Panel {
    let mut panel = Panel::new(
        format!(
            "{}: median {} {}",
            data.panel_title(&g.label),
            names.reference,
            compare::sig(median_reference)
        ),
        format!("{} (in plan order)", names.point),
        format!(
            "relative error of {} to the {}",
            data.claim.metric_label(),
            names.reference
        ),
    );
    panel.legend = Legend::UpperLeft;
    let errors: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(k, (t, m))| ((k + 1) as f64, (m - t) / t.abs()))
        .collect();
    let right = errors.len().max(1) as f64 + 0.5;
    let spread = errors
        .iter()
        .map(|q| q.1.abs())
        .fold(tol, f64::max)
        .max(1e-12)
        * 1.1;
    // A round half-range, so that the ticks fall on round values.
    let unit = 10f64.powf(spread.log10().floor());
    let spread = (spread / unit * 2.0).ceil() / 2.0 * unit;
    panel.x_range = Some((0.5, right));
    panel.y_range = Some((-spread, spread));
    panel.series = vec![
        Series::new(
            Some(names.line.into()),
            color(7),
            Style::Dashed { width: 1 },
            vec![(0.5, 0.0), (right, 0.0)],
        ),
        Series::new(
            Some(format!("±{} tolerance", tol_text(tol))),
            color(3),
            Style::Dashed { width: 2 },
            vec![(0.5, tol), (right, tol)],
        ),
        Series::new(
            None,
            color(3),
            Style::Dashed { width: 2 },
            vec![(0.5, -tol), (right, -tol)],
        ),
        Series::new(
            Some(format!("one {}", names.point)),
            color(0),
            Style::Points { radius: 5 },
            errors,
        ),
    ];
    panel
}
