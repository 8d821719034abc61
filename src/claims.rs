//! Claims in sweep files (`[[claim]]` tables) and their verdicts.
//!
//! A claim states that, on `metric`, level `candidate` of factor `by` is
//! `lower` or `higher` than level `baseline`, in every group of the
//! comparison (optionally restricted by `where`). The evidence is the paired
//! comparison of [`crate::compare`]: one row per group, each with its
//! Wilcoxon p-value. The claim's rows are Holm-adjusted among themselves
//! (α = [`compare::ALPHA`]), and the verdict is
//! - `supported`: every row shows the expected direction with p_holm < α;
//! - `contradicted`: some row shows the opposite direction with p_holm < α;
//! - `inconclusive`: otherwise (also when no pair has a value).
//!
//! The direction of a row is that of its Wilcoxon rank sums (T− against
//! T+), as in `valley compare`.

use crate::compare::{self, Comparison, Options, Row};
use crate::config::plan::render_value;
use crate::config::{Plan, Reporter};
use crate::error::Result;
use crate::schema::runs as rc;
use crate::schema::trace as tc;
use crate::stats;
use polars::prelude::*;
use std::collections::HashMap;
use std::path::Path;
use toml::{Table, Value};

/// The numeric columns of runs.parquet a claim may name as its metric.
pub const METRICS: [&str; 18] = [
    rc::INITIAL_LOSS,
    rc::FINAL_LOSS,
    rc::MIN_LOSS,
    rc::FINAL_GRAD_NORM,
    rc::FINAL_LR,
    rc::SHARPNESS,
    rc::HESSIAN_MIN_EIG,
    rc::HESSIAN_TRACE,
    rc::STEPS_RUN,
    rc::DISTANCE_TO_MIN,
    rc::ENERGY_GAP,
    rc::BEST_LOSS,
    rc::BEST_STEP,
    rc::BEST_ENERGY_GAP,
    rc::CLIPPED_STEPS,
    rc::SKIPPED_STEPS,
    rc::STALLED_AT,
    rc::HESSIAN_TRACE_STDERR,
];

/// Which way the candidate is expected to differ from the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Lower,
    Higher,
}

impl Expect {
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Lower => "lower",
            Expect::Higher => "higher",
        }
    }
}

/// One `[[claim]]` table as written.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClaim {
    id: String,
    statement: String,
    metric: String,
    by: String,
    candidate: Value,
    baseline: Value,
    expect: String,
    #[serde(default, rename = "where")]
    restrict: Option<Table>,
    #[serde(default)]
    window: Option<RawWindow>,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    from: u64,
    to: u64,
    stat: String,
}

/// How a trace window is summarised per run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    Mean,
    Max,
    Min,
}

impl Stat {
    pub fn as_str(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::Max => "max",
            Stat::Min => "min",
        }
    }
}

/// A trace metric summarised over the traced steps `from <= step < to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: u64,
    pub to: u64,
    pub stat: Stat,
}

/// The numeric columns of trace.parquet a windowed claim may name.
pub const TRACE_METRICS: [&str; 12] = [
    tc::LOSS,
    tc::LR,
    tc::MOMENTUM,
    tc::GRAD_NORM,
    tc::UPDATE_NORM,
    tc::GRAD_COSINE,
    tc::EFFECTIVE_STEP,
    tc::SHRINK,
    tc::SHARPNESS,
    tc::BATCH_LOSS,
    tc::PRECLIP_NORM,
    tc::UPDATE_UNDERFLOW,
];

/// A validated claim: its factor, levels and restrictions exist in the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub id: String,
    pub statement: String,
    pub metric: String,
    pub by: String,
    pub candidate: String,
    pub baseline: String,
    pub expect: Expect,
    /// (factor, level) pairs a group must match.
    pub restrict: Vec<(String, String)>,
    /// `Some`: `metric` is a trace.parquet column summarised over a window.
    pub window: Option<Window>,
}

impl Claim {
    /// The metric as compared: the runs.parquet column, or
    /// `metric.stat@from..to` for a trace window (steps from..to, end
    /// excluded).
    pub fn metric_label(&self) -> String {
        match &self.window {
            None => self.metric.clone(),
            Some(w) => format!("{}.{}@{}..{}", self.metric, w.stat.as_str(), w.from, w.to),
        }
    }
}

/// Parses and validates the `[[claim]]` tables of `plan`'s file against the
/// plan: an unknown metric, factor or level, or a bad `expect`, is invalid
/// input naming `claim[i].field` and its line.
pub fn parse(rep: &Reporter, tables: &[Table], plan: &Plan) -> Result<Vec<Claim>> {
    let factors = compare::factors(plan);
    let mut out: Vec<Claim> = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        let p = format!("claim[{i}]");
        let raw: RawClaim = rep.parse(&p, Value::Table(t.clone()))?;
        if out.iter().any(|c| c.id == raw.id) {
            return Err(rep.at(
                &format!("{p}.id"),
                format!("duplicate claim id `{}`", raw.id),
            ));
        }
        let window = match &raw.window {
            None => None,
            Some(w) => Some(parse_window(rep, &p, w, &raw.metric, plan)?),
        };
        if window.is_none() && !METRICS.contains(&raw.metric.as_str()) {
            return Err(rep.at(
                &format!("{p}.metric"),
                format!(
                    "`{}` is not a numeric column of runs.parquet; metrics: {}",
                    raw.metric,
                    METRICS.join(", ")
                ),
            ));
        }
        let names = || {
            factors
                .iter()
                .map(|f| f.column.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some(factor) = factors.iter().find(|f| f.column == raw.by) else {
            return Err(rep.at(
                &format!("{p}.by"),
                format!(
                    "`{}` is not a factor of this sweep; factors: {}",
                    raw.by,
                    names()
                ),
            ));
        };
        let level = |field: &str, v: &Value, levels: &[String], column: &str| {
            let s = render_value(v);
            if levels.contains(&s) {
                Ok(s)
            } else {
                Err(rep.at(
                    &format!("{p}.{field}"),
                    format!(
                        "`{s}` is not a level of `{column}`; levels: {}",
                        levels.join(", ")
                    ),
                ))
            }
        };
        let candidate = level("candidate", &raw.candidate, &factor.levels, &factor.column)?;
        let baseline = level("baseline", &raw.baseline, &factor.levels, &factor.column)?;
        if candidate == baseline {
            return Err(rep.at(
                &format!("{p}.candidate"),
                format!("candidate and baseline are the same level `{candidate}`"),
            ));
        }
        let expect = match raw.expect.as_str() {
            "lower" => Expect::Lower,
            "higher" => Expect::Higher,
            other => {
                return Err(rep.at(
                    &format!("{p}.expect"),
                    format!("must be \"lower\" or \"higher\", got \"{other}\""),
                ))
            }
        };
        let mut restrict = Vec::new();
        for (k, v) in raw.restrict.iter().flatten() {
            let field = format!("where.{k}");
            let Some(f) = factors.iter().find(|f| &f.column == k) else {
                return Err(rep.at(
                    &format!("{p}.where"),
                    format!("`{k}` is not a factor of this sweep; factors: {}", names()),
                ));
            };
            if f.column == factor.column {
                return Err(rep.at(
                    &format!("{p}.where"),
                    format!("`{k}` is the claim's own factor (`by`)"),
                ));
            }
            // `where` keys may be quoted dotted names; report at the table.
            let lv = level(&field, v, &f.levels, &f.column).map_err(|_| {
                rep.at(
                    &format!("{p}.where"),
                    format!(
                        "`{}` is not a level of `{k}`; levels: {}",
                        render_value(v),
                        f.levels.join(", ")
                    ),
                )
            })?;
            restrict.push((k.clone(), lv));
        }
        out.push(Claim {
            id: raw.id,
            statement: raw.statement,
            metric: raw.metric,
            by: raw.by,
            candidate,
            baseline,
            expect,
            restrict,
            window,
        });
    }
    Ok(out)
}

/// Checks a `window` table: a trace metric, 0 <= from < to <= steps, and at
/// least one traced step inside.
fn parse_window(
    rep: &Reporter,
    p: &str,
    w: &RawWindow,
    metric: &str,
    plan: &Plan,
) -> Result<Window> {
    if !TRACE_METRICS.contains(&metric) {
        return Err(rep.at(
            &format!("{p}.metric"),
            format!(
                "`{metric}` is not a numeric column of trace.parquet (a `window` claim); trace metrics: {}",
                TRACE_METRICS.join(", ")
            ),
        ));
    }
    let stat = match w.stat.as_str() {
        "mean" => Stat::Mean,
        "max" => Stat::Max,
        "min" => Stat::Min,
        other => {
            return Err(rep.at(
                &format!("{p}.window"),
                format!("stat must be \"mean\", \"max\" or \"min\", got \"{other}\""),
            ))
        }
    };
    let steps = plan.settings.steps;
    if w.from >= w.to || w.to > steps {
        return Err(rep.at(
            &format!("{p}.window"),
            format!(
                "needs from < to <= steps ({steps}), got from = {}, to = {}",
                w.from, w.to
            ),
        ));
    }
    let every = plan.settings.trace_every;
    let first_multiple = w.from.div_ceil(every).saturating_mul(every);
    if first_multiple >= w.to && w.to < steps {
        return Err(rep.at(
            &format!("{p}.window"),
            format!(
                "no traced step in [{}, {}) with trace_every = {every}",
                w.from, w.to
            ),
        ));
    }
    Ok(Window {
        from: w.from,
        to: w.to,
        stat,
    })
}

/// Adds the column [`Claim::metric_label`] to `runs`: per run, the claim's
/// trace metric summarised over its window (null where the run has no
/// non-null value in it).
fn add_window_column(runs: &mut DataFrame, dir: &Path, claim: &Claim, w: &Window) -> Result<()> {
    let path = dir.join(crate::output::TRACE_FILE);
    let bad = |e: PolarsError| {
        crate::error::ValleyError::invalid(&path, None, "", format!("not a readable trace: {e}"))
    };
    let file = std::fs::File::open(&path).map_err(|e| {
        crate::error::ValleyError::invalid(&path, None, "", format!("cannot open: {e}"))
    })?;
    let trace = ParquetReader::new(file)
        .with_columns(Some(vec![
            tc::RUN_ID.into(),
            tc::STEP.into(),
            claim.metric.clone(),
        ]))
        .finish()
        .map_err(bad)?;
    let ids = trace
        .column(tc::RUN_ID)
        .map_err(bad)?
        .str()
        .map_err(bad)?
        .clone();
    let step = trace
        .column(tc::STEP)
        .map_err(bad)?
        .cast(&DataType::UInt64)
        .map_err(bad)?;
    let step = step.u64().map_err(bad)?;
    let value = trace
        .column(&claim.metric)
        .map_err(bad)?
        .cast(&DataType::Float64)
        .map_err(bad)?;
    let value = value.f64().map_err(bad)?;
    // run_id -> (sum, count, max, min)
    let mut acc: HashMap<String, (f64, usize, f64, f64)> = HashMap::new();
    for ((id, t), v) in ids.iter().zip(step.iter()).zip(value.iter()) {
        let (Some(id), Some(t), Some(v)) = (id, t, v) else {
            continue;
        };
        if t < w.from || t >= w.to || v.is_nan() {
            continue;
        }
        let e = acc
            .entry(id.to_string())
            .or_insert((0.0, 0, f64::NEG_INFINITY, f64::INFINITY));
        e.0 += v;
        e.1 += 1;
        e.2 = e.2.max(v);
        e.3 = e.3.min(v);
    }
    let run_ids = runs
        .column(rc::RUN_ID)
        .map_err(bad)?
        .str()
        .map_err(bad)?
        .clone();
    let column: Vec<Option<f64>> = run_ids
        .iter()
        .map(|id| {
            let (sum, n, max, min) = *acc.get(id?)?;
            Some(match w.stat {
                Stat::Mean => sum / n as f64,
                Stat::Max => max,
                Stat::Min => min,
            })
        })
        .collect();
    runs.with_column(Column::new(claim.metric_label().into(), column))
        .map_err(bad)?;
    Ok(())
}

/// The outcome of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Supported,
    Contradicted,
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::Contradicted => "contradicted",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// A claim's verdict with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub claim: Claim,
    pub verdict: Verdict,
    /// The compare rows of the claim (its groups), with `p_holm` adjusted
    /// over these rows only.
    pub rows: Vec<Row>,
    /// The group columns of `rows`.
    pub group_columns: Vec<String>,
    /// The deciding row's median paired difference (candidate − baseline)
    /// and 95 % bootstrap interval: the contradicting row with the smallest
    /// p_holm for `contradicted`, else the row with the largest p_holm (the
    /// first in plan order on ties).
    pub effect: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Pairs over all the claim's rows.
    pub n_pairs: usize,
    /// The deciding row's p_holm.
    pub p_holm: f64,
}

/// Direction of a row by its rank sums: `Some(true)` when the candidate is
/// lower, `None` on a tie.
fn candidate_lower(row: &Row) -> Option<bool> {
    let w = &row.stats.wilcoxon;
    if w.r_minus == w.r_plus {
        None
    } else {
        Some(w.r_minus > w.r_plus)
    }
}

/// Evaluates `claim` on `comparison`, the output of [`compare::compare`]
/// with `by` and `baseline` of the claim.
pub fn evaluate(claim: &Claim, comparison: &Comparison) -> Evaluation {
    let col = |name: &str| comparison.group_columns.iter().position(|c| c == name);
    let mut rows: Vec<Row> = comparison
        .rows
        .iter()
        .filter(|r| r.candidate == claim.candidate)
        .filter(|r| {
            claim
                .restrict
                .iter()
                .all(|(k, v)| col(k).is_none_or(|i| &r.group[i] == v))
        })
        .cloned()
        .collect();
    let p: Vec<f64> = rows.iter().map(Row::p_value).collect();
    for (row, ph) in rows.iter_mut().zip(stats::holm(&p)) {
        row.p_holm = ph;
    }
    let want_lower = claim.expect == Expect::Lower;
    let significant = |r: &Row| r.p_holm < compare::ALPHA; // false for NaN
    let contradicting = rows
        .iter()
        .filter(|r| significant(r) && candidate_lower(r) == Some(!want_lower))
        .min_by(|a, b| a.p_holm.total_cmp(&b.p_holm));
    let all_expected = !rows.is_empty()
        && rows
            .iter()
            .all(|r| significant(r) && candidate_lower(r) == Some(want_lower));
    let (verdict, deciding) = match contradicting {
        Some(r) => (Verdict::Contradicted, Some(r)),
        None => (
            if all_expected {
                Verdict::Supported
            } else {
                Verdict::Inconclusive
            },
            // The first of equal maxima (max_by keeps the last).
            rows.iter().rev().max_by(|a, b| {
                let key = |r: &Row| if r.p_holm.is_nan() { 2.0 } else { r.p_holm };
                key(a).total_cmp(&key(b))
            }),
        ),
    };
    let pick = |f: fn(&Row) -> f64| deciding.map_or(f64::NAN, f);
    Evaluation {
        claim: claim.clone(),
        verdict,
        effect: pick(|r| r.stats.median_diff),
        ci_low: pick(|r| r.stats.ci_low),
        ci_high: pick(|r| r.stats.ci_high),
        p_holm: pick(|r| r.p_holm),
        n_pairs: rows.iter().map(|r| r.stats.n_pairs).sum(),
        group_columns: comparison.group_columns.clone(),
        rows,
    }
}

/// Evaluates every claim of `plan` on the results in `dir`.
pub fn evaluate_dir(dir: &Path, plan: &Plan) -> Result<Vec<Evaluation>> {
    if plan.claims.is_empty() {
        return Ok(Vec::new());
    }
    let mut runs = compare::read_runs(dir)?;
    let path = dir.join(crate::output::RUNS_FILE);
    for c in &plan.claims {
        if let Some(w) = &c.window {
            add_window_column(&mut runs, dir, c, w)?;
        }
    }
    plan.claims
        .iter()
        .map(|c| {
            let opts = Options {
                metric: c.metric_label(),
                by: c.by.clone(),
                baseline: Some(c.baseline.clone()),
                higher_is_better: c.expect == Expect::Higher,
            };
            Ok(evaluate(c, &compare::compare(&runs, &path, plan, &opts)?))
        })
        .collect()
}

/// The columns of verdicts.csv and verdicts.parquet.
pub const VERDICT_COLUMNS: [&str; 11] = [
    "id",
    "statement",
    "file",
    "verdict",
    "metric",
    "effect",
    "ci_low",
    "ci_high",
    "n_pairs",
    "p_holm",
    "figure",
];

/// A verdict table: one line per claim.
pub fn to_table(evals: &[(String, Evaluation)]) -> String {
    let mut rows: Vec<Vec<String>> = vec![[
        "id",
        "verdict",
        "metric",
        "candidate",
        "baseline",
        "expect",
        "effect",
        "ci",
        "n_pairs",
        "p_holm",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()];
    for (_, e) in evals {
        rows.push(vec![
            e.claim.id.clone(),
            e.verdict.as_str().into(),
            e.claim.metric_label(),
            e.claim.candidate.clone(),
            e.claim.baseline.clone(),
            e.claim.expect.as_str().into(),
            compare::sig(e.effect),
            format!("[{}, {}]", compare::sig(e.ci_low), compare::sig(e.ci_high)),
            e.n_pairs.to_string(),
            compare::p_text(e.p_holm),
        ]);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|j| rows.iter().map(|r| r[j].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        s.push_str(cells.join("  ").trim_end());
        s.push('\n');
    }
    s
}
