//! Claims in sweep files (`[[claim]]` tables) and their verdicts.
//!
//! A claim names a `metric` and a `test`; the verdict is computed from the
//! sweep's own results, never written by hand. Four tests:
//!
//! - `wilcoxon` (the default): on `metric`, level `candidate` of factor `by`
//!   is `lower` or `higher` than level `baseline`, in every group of the
//!   comparison (optionally restricted by `where`). The evidence is the
//!   paired comparison of [`crate::compare`]: one row per group, each with
//!   its Wilcoxon p-value, Holm-adjusted among the claim's rows (α =
//!   [`compare::ALPHA`]). The direction of a row is that of its rank sums
//!   (T− against T+), as in `valley compare`.
//! - `mcnemar`: `metric = "diverged"`; per group, the exact McNemar test on
//!   the paired divergence flags: of the discordant pairs, k where only the
//!   candidate diverged and n − k where only the baseline did, two-sided
//!   binomial p-value under Binomial(n, ½) ([`stats::binom_test_half`]).
//!   The candidate is lower when k < n − k.
//! - `equivalence` (the default when `target` is given): agreement with a
//!   formula. Per run, the relative error e = (metric − target)/|target|
//!   with `target` evaluated on the run's row of runs.parquet. Per group
//!   (every factor with two levels or more), two one-sided Wilcoxon
//!   signed-rank tests (TOST, Schuirmann 1987): p_within = max(P(e + tol > 0
//!   one-sided), P(e − tol < 0 one-sided)); p_outside = 2·min(P(e − tol > 0),
//!   P(e + tol < 0)), capped at 1. Each is Holm-adjusted over the groups.
//! - `every_step`: a property at every traced step (needs `trace_every =
//!   1`): in every pair of runs (as in `wilcoxon`), the relative margin
//!   r = (candidate − baseline)/|baseline| of the trace metric must be
//!   ≥ −tolerance (`higher`; ≤ tolerance for `lower`) at every common step,
//!   and |r| ≤ tolerance at the steps t with t mod `equal_every` = 0.
//!
//! The verdict:
//! - `supported`: every row shows the expected direction with p_holm < α
//!   (`equivalence`: every group within the tolerance, p_within Holm < α;
//!   `every_step`: no step fails in any pair, and at least one is checked);
//! - `contradicted`: some row shows the opposite direction with p_holm < α
//!   (`equivalence`: some group outside, p_outside Holm < α; `every_step`:
//!   a step fails);
//! - `inconclusive`: otherwise (also when no pair has a value).
//!
//! A metric is a numeric runs.parquet column, or with `window` a trace
//! column summarised per run over steps `from <= step < to` (`mean`, `max`,
//! `min`, or `changes`: how often the value changes between consecutive
//! traced steps, e.g. the nearest-minimum `basin`), or with `relative_to`
//! the ratio of the `window` statistic to the `relative_to` statistic of
//! the same run (a within-run comparison).

mod expr;

pub use expr::Expr;

use crate::compare::{self, Comparison, Options, Row};
use crate::config::plan::render_value;
use crate::config::{Plan, Reporter};
use crate::error::{Result, ValleyError};
use crate::plot::render::{color, Figure, Legend, Panel, Series, Style};
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

/// The fields of a `[[claim]]` table: (field, which tests take it, meaning),
/// printed by `valley reference`.
pub const FIELDS: &[(&str, &str, &str)] = &[
    ("id", "all", "a unique name (`C3`, `C12a`)"),
    ("statement", "all", "the claim in words"),
    ("metric", "all", "a numeric runs.parquet column; with `window` a trace.parquet column (`basin` with stat `changes` only); `diverged` for `mcnemar`; a trace column for `every_step`"),
    ("test", "all", "`wilcoxon` (default), `mcnemar`, `equivalence` (default when `target` is given) or `every_step`"),
    ("by", "wilcoxon, mcnemar, every_step", "the factor whose levels are compared, as in `valley compare --by`"),
    ("candidate, baseline", "wilcoxon, mcnemar, every_step", "two levels of `by`; runs are paired by seed within each group of the other factors"),
    ("expect", "wilcoxon, mcnemar, every_step", "`lower` or `higher`: the candidate against the baseline"),
    ("where", "all", "`{ factor = level, ... }`: keep only the groups with these levels"),
    ("window", "wilcoxon, equivalence", "`{ from, to, stat }`: the trace metric over steps from <= step < to, per run: `mean`, `max`, `min` or `changes` (how often the value differs from the previous traced step's); named `metric.stat@from..to`"),
    ("relative_to", "wilcoxon, equivalence (with `window`)", "a second window of the same run; the metric is the ratio window / relative_to (`metric.stat@a..b/stat@c..d`)"),
    ("target", "equivalence", "an expression: numbers, numeric runs.parquet columns and numeric sweep axes (`final_lr`, `optimizer.momentum`), `+ - * / ^` and parentheses"),
    ("tolerance", "equivalence, every_step", "relative: \\|metric − target\\|/\\|target\\| for `equivalence` (required), the margin for `every_step` (default 0)"),
    ("equal_every", "every_step", "k: at the steps t with t mod k = 0 the two levels must agree within the tolerance"),
];

/// The rule of each test, printed by `valley reference`.
pub const TESTS: &[(&str, &str)] = &[
    ("wilcoxon", "per group, the paired Wilcoxon signed-rank test of `valley compare`, Holm-adjusted over the claim's groups: supported when every group shows the expected direction with p_holm < 0.05, contradicted when a group shows the opposite direction with p_holm < 0.05"),
    ("mcnemar", "per group, the exact McNemar test: a two-sided binomial test (p = ½) on the discordant pairs (only the candidate diverged against only the baseline); the same rule as `wilcoxon`"),
    ("equivalence", "per group (every factor with two levels), the relative error e = (metric − target)/\\|target\\| of each run; two one-sided Wilcoxon tests (TOST): supported when every group is within ±tolerance with Holm p < 0.05, contradicted when a group is beyond it with Holm p < 0.05"),
    ("every_step", "needs `trace_every = 1`; in every pair, at every common traced step, the relative margin (candidate − baseline)/\\|baseline\\| must be >= −tolerance (`higher`) or <= tolerance (`lower`): supported when no step fails, contradicted when one does; the evidence names the worst step"),
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
    #[serde(default)]
    test: Option<String>,
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    candidate: Option<Value>,
    #[serde(default)]
    baseline: Option<Value>,
    #[serde(default)]
    expect: Option<String>,
    #[serde(default, rename = "where")]
    restrict: Option<Table>,
    #[serde(default)]
    window: Option<RawWindow>,
    #[serde(default)]
    relative_to: Option<RawWindow>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    tolerance: Option<f64>,
    #[serde(default)]
    equal_every: Option<u64>,
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
    /// The number of traced steps whose value differs from the previous
    /// traced step's (inside the window).
    Changes,
}

impl Stat {
    pub fn as_str(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::Max => "max",
            Stat::Min => "min",
            Stat::Changes => "changes",
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

impl Window {
    fn label(&self) -> String {
        format!("{}@{}..{}", self.stat.as_str(), self.from, self.to)
    }
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

/// Trace columns that only `stat = "changes"` may summarise (labels).
pub const TRACE_LABELS: [&str; 1] = [tc::BASIN];

/// The test that decides a claim (see the module header).
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Wilcoxon,
    McNemar,
    Equivalence {
        /// The expression as written.
        target: String,
        expr: Expr,
        /// Relative tolerance on |metric − target|/|target|.
        tolerance: f64,
    },
    EveryStep {
        /// Relative tolerance on the margin.
        tolerance: f64,
        /// Steps that are multiples of this must agree within the tolerance.
        equal_every: Option<u64>,
    },
}

impl Test {
    pub fn name(&self) -> &'static str {
        match self {
            Test::Wilcoxon => "wilcoxon",
            Test::McNemar => "mcnemar",
            Test::Equivalence { .. } => "equivalence",
            Test::EveryStep { .. } => "every_step",
        }
    }
}

/// The two levels a paired claim compares.
#[derive(Debug, Clone, PartialEq)]
pub struct Paired {
    pub by: String,
    pub candidate: String,
    pub baseline: String,
    pub expect: Expect,
}

/// A validated claim: its factor, levels and restrictions exist in the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub id: String,
    pub statement: String,
    pub metric: String,
    pub test: Test,
    /// `Some` for every test but `equivalence`.
    pub paired: Option<Paired>,
    /// (factor, level) pairs a group must match.
    pub restrict: Vec<(String, String)>,
    /// `Some`: `metric` is a trace.parquet column summarised over a window.
    pub window: Option<Window>,
    /// `Some`: the window's statistic is divided by this one's.
    pub relative_to: Option<Window>,
}

impl Claim {
    /// The metric as compared: the runs.parquet column, or
    /// `metric.stat@from..to` for a trace window (steps from..to, end
    /// excluded), followed by `/stat@from..to` for `relative_to`.
    pub fn metric_label(&self) -> String {
        match (&self.window, &self.relative_to) {
            (None, _) => self.metric.clone(),
            (Some(w), None) => format!("{}.{}", self.metric, w.label()),
            (Some(w), Some(r)) => format!("{}.{}/{}", self.metric, w.label(), r.label()),
        }
    }

    /// What the claim expects, in words.
    pub fn expectation(&self) -> String {
        let m = self.metric_label();
        match (&self.test, &self.paired) {
            (
                Test::Equivalence {
                    target, tolerance, ..
                },
                _,
            ) => {
                format!(
                    "{m} within ±{} (relative) of {target}",
                    tol_text(*tolerance)
                )
            }
            (
                Test::EveryStep {
                    tolerance,
                    equal_every,
                },
                Some(p),
            ) => {
                let mut s = format!(
                    "{} = {} has {} {m} than {} = {} at every traced step (relative tolerance {})",
                    p.by,
                    p.candidate,
                    if p.expect == Expect::Higher {
                        "higher or equal"
                    } else {
                        "lower or equal"
                    },
                    p.by,
                    p.baseline,
                    tol_text(*tolerance)
                );
                if let Some(k) = equal_every {
                    s.push_str(&format!(", equal at the multiples of {k}"));
                }
                s
            }
            (_, Some(p)) => format!(
                "{} = {} has {} {m} than {} = {}{}",
                p.by,
                p.candidate,
                p.expect.as_str(),
                p.by,
                p.baseline,
                if self.test == Test::McNemar {
                    " (exact McNemar test)"
                } else {
                    ""
                }
            ),
            (_, None) => m,
        }
    }
}

/// Parses and validates the `[[claim]]` tables of `plan`'s file against the
/// plan: an unknown metric, factor or level, a bad `expect`, `test`,
/// window, `target` or `tolerance`, or a field the test does not take, is
/// invalid input naming `claim[i].field` and its line.
pub fn parse(rep: &Reporter, tables: &[Table], plan: &Plan) -> Result<Vec<Claim>> {
    let factors = compare::factors(plan);
    let mut out: Vec<Claim> = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        let p = format!("claim[{i}]");
        let raw: RawClaim = rep.parse(&p, Value::Table(t.clone()))?;
        let at = |field: &str, msg: String| rep.at(&format!("{p}.{field}"), msg);
        if out.iter().any(|c| c.id == raw.id) {
            return Err(at("id", format!("duplicate claim id `{}`", raw.id)));
        }
        let test_name = raw.test.clone().unwrap_or_else(|| {
            if raw.target.is_some() {
                "equivalence".into()
            } else {
                "wilcoxon".into()
            }
        });
        if !["wilcoxon", "mcnemar", "equivalence", "every_step"].contains(&test_name.as_str()) {
            return Err(at(
                "test",
                format!("must be \"wilcoxon\", \"mcnemar\", \"equivalence\" or \"every_step\", got \"{test_name}\""),
            ));
        }
        // Fields a test does not take.
        let refuse = |field: &str, present: bool| -> Result<()> {
            if present {
                Err(at(
                    field,
                    format!("a `{test_name}` claim does not take `{field}`"),
                ))
            } else {
                Ok(())
            }
        };
        refuse("target", raw.target.is_some() && test_name != "equivalence")?;
        refuse(
            "tolerance",
            raw.tolerance.is_some() && !["equivalence", "every_step"].contains(&test_name.as_str()),
        )?;
        refuse(
            "equal_every",
            raw.equal_every.is_some() && test_name != "every_step",
        )?;
        refuse(
            "window",
            raw.window.is_some() && ["mcnemar", "every_step"].contains(&test_name.as_str()),
        )?;
        refuse(
            "relative_to",
            raw.relative_to.is_some() && raw.window.is_none(),
        )?;
        if test_name == "equivalence" {
            refuse("by", raw.by.is_some())?;
            refuse("candidate", raw.candidate.is_some())?;
            refuse("baseline", raw.baseline.is_some())?;
            refuse("expect", raw.expect.is_some())?;
        }
        // The metric.
        let window = match &raw.window {
            None => None,
            Some(w) => Some(parse_window(rep, &p, "window", w, &raw.metric, plan)?),
        };
        let relative_to = match &raw.relative_to {
            None => None,
            Some(w) => Some(parse_window(rep, &p, "relative_to", w, &raw.metric, plan)?),
        };
        match test_name.as_str() {
            "mcnemar" if raw.metric != rc::DIVERGED => {
                return Err(at(
                    "metric",
                    format!(
                        "a `mcnemar` claim tests `{}`, got `{}`",
                        rc::DIVERGED,
                        raw.metric
                    ),
                ))
            }
            "every_step" => {
                if !TRACE_METRICS.contains(&raw.metric.as_str()) {
                    return Err(at(
                        "metric",
                        format!(
                            "`{}` is not a numeric column of trace.parquet (an `every_step` claim); trace metrics: {}",
                            raw.metric,
                            TRACE_METRICS.join(", ")
                        ),
                    ));
                }
                if plan.settings.trace_every != 1 {
                    return Err(at(
                        "test",
                        format!(
                            "`every_step` needs every step traced (trace_every = 1), got trace_every = {}",
                            plan.settings.trace_every
                        ),
                    ));
                }
            }
            "mcnemar" => {}
            _ if window.is_none() && !METRICS.contains(&raw.metric.as_str()) => {
                return Err(at(
                    "metric",
                    format!(
                        "`{}` is not a numeric column of runs.parquet; metrics: {}",
                        raw.metric,
                        METRICS.join(", ")
                    ),
                ))
            }
            _ => {}
        }
        let tolerance = match raw.tolerance {
            Some(t) if !(t.is_finite() && t >= 0.0) => {
                return Err(at(
                    "tolerance",
                    format!("must be a finite number >= 0, got {t}"),
                ))
            }
            Some(t) => t,
            None if test_name == "equivalence" => {
                return Err(at(
                    "tolerance",
                    "missing: an `equivalence` claim needs `target` and `tolerance` (relative, e.g. 0.05)".into(),
                ))
            }
            None => 0.0,
        };
        let test = match test_name.as_str() {
            "wilcoxon" => Test::Wilcoxon,
            "mcnemar" => Test::McNemar,
            "every_step" => {
                if raw.equal_every == Some(0) {
                    return Err(at("equal_every", "must be >= 1".into()));
                }
                Test::EveryStep {
                    tolerance,
                    equal_every: raw.equal_every,
                }
            }
            _ => {
                let Some(target) = raw.target.clone() else {
                    return Err(at(
                        "target",
                        "missing: an `equivalence` claim needs `target` (an expression over runs.parquet columns)".into(),
                    ));
                };
                let expr =
                    Expr::parse(&target).map_err(|e| at("target", format!("`{target}`: {e}")))?;
                let numeric_axes: Vec<&str> = plan
                    .axes
                    .iter()
                    .filter(|a| a.values.iter().all(|v| v.parse::<f64>().is_ok()))
                    .map(|a| a.column.as_str())
                    .collect();
                for name in expr.names() {
                    if !METRICS.contains(&name.as_str()) && !numeric_axes.contains(&name.as_str()) {
                        return Err(at(
                            "target",
                            format!(
                                "`{name}` is neither a numeric column of runs.parquet nor a numeric sweep axis; names: {}",
                                METRICS.iter().copied().chain(numeric_axes.iter().copied()).collect::<Vec<_>>().join(", ")
                            ),
                        ));
                    }
                }
                Test::Equivalence {
                    target,
                    expr,
                    tolerance,
                }
            }
        };
        let names = || {
            factors
                .iter()
                .map(|f| f.column.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let level = |field: &str, v: &Value, levels: &[String], column: &str| {
            let s = render_value(v);
            if levels.contains(&s) {
                Ok(s)
            } else {
                Err(at(
                    field,
                    format!(
                        "`{s}` is not a level of `{column}`; levels: {}",
                        levels.join(", ")
                    ),
                ))
            }
        };
        let paired = if test_name == "equivalence" {
            None
        } else {
            let missing = |field: &str| {
                at(
                    field,
                    format!(
                        "missing: a `{test_name}` claim needs by, candidate, baseline and expect"
                    ),
                )
            };
            let by = raw.by.as_ref().ok_or_else(|| missing("by"))?;
            let Some(factor) = factors.iter().find(|f| &f.column == by) else {
                return Err(at(
                    "by",
                    format!("`{by}` is not a factor of this sweep; factors: {}", names()),
                ));
            };
            let cv = raw.candidate.as_ref().ok_or_else(|| missing("candidate"))?;
            let bv = raw.baseline.as_ref().ok_or_else(|| missing("baseline"))?;
            let candidate = level("candidate", cv, &factor.levels, &factor.column)?;
            let baseline = level("baseline", bv, &factor.levels, &factor.column)?;
            if candidate == baseline {
                return Err(at(
                    "candidate",
                    format!("candidate and baseline are the same level `{candidate}`"),
                ));
            }
            let expect = match raw.expect.as_deref() {
                Some("lower") => Expect::Lower,
                Some("higher") => Expect::Higher,
                Some(other) => {
                    return Err(at(
                        "expect",
                        format!("must be \"lower\" or \"higher\", got \"{other}\""),
                    ))
                }
                None => return Err(missing("expect")),
            };
            Some(Paired {
                by: factor.column.clone(),
                candidate,
                baseline,
                expect,
            })
        };
        let mut restrict = Vec::new();
        for (k, v) in raw.restrict.iter().flatten() {
            let Some(f) = factors.iter().find(|f| &f.column == k) else {
                return Err(at(
                    "where",
                    format!("`{k}` is not a factor of this sweep; factors: {}", names()),
                ));
            };
            if paired.as_ref().is_some_and(|pp| pp.by == f.column) {
                return Err(at(
                    "where",
                    format!("`{k}` is the claim's own factor (`by`)"),
                ));
            }
            // `where` keys may be quoted dotted names; report at the table.
            let s = render_value(v);
            if !f.levels.contains(&s) {
                return Err(at(
                    "where",
                    format!(
                        "`{s}` is not a level of `{k}`; levels: {}",
                        f.levels.join(", ")
                    ),
                ));
            }
            restrict.push((k.clone(), s));
        }
        out.push(Claim {
            id: raw.id,
            statement: raw.statement,
            metric: raw.metric,
            test,
            paired,
            restrict,
            window,
            relative_to,
        });
    }
    Ok(out)
}

/// Checks a `window` (or `relative_to`) table: a trace metric, 0 <= from <
/// to <= steps, and at least one traced step inside.
fn parse_window(
    rep: &Reporter,
    p: &str,
    field: &str,
    w: &RawWindow,
    metric: &str,
    plan: &Plan,
) -> Result<Window> {
    let stat = match w.stat.as_str() {
        "mean" => Stat::Mean,
        "max" => Stat::Max,
        "min" => Stat::Min,
        "changes" => Stat::Changes,
        other => {
            return Err(rep.at(
                &format!("{p}.{field}"),
                format!("stat must be \"mean\", \"max\", \"min\" or \"changes\", got \"{other}\""),
            ))
        }
    };
    let numeric = TRACE_METRICS.contains(&metric);
    let label = TRACE_LABELS.contains(&metric);
    let summarisable = numeric || (label && stat == Stat::Changes);
    if !summarisable {
        let why = if label {
            format!("`{metric}` is a label: only stat = \"changes\" summarises it")
        } else {
            format!(
                "`{metric}` is not a numeric column of trace.parquet (a `window` claim); trace metrics: {}, and with stat = \"changes\": {}",
                TRACE_METRICS.join(", "),
                TRACE_LABELS.join(", ")
            )
        };
        return Err(rep.at(&format!("{p}.metric"), why));
    }
    let steps = plan.settings.steps;
    if w.from >= w.to || w.to > steps {
        return Err(rep.at(
            &format!("{p}.{field}"),
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
            &format!("{p}.{field}"),
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

/// Per run (run_id), the traced (step, value) of `column` in step order.
/// A label column (string) is coded by its distinct values, which is
/// enough for `changes`.
type Series_ = HashMap<String, Vec<(u64, Option<f64>)>>;

fn read_trace(dir: &Path, column: &str) -> Result<Series_> {
    let path = dir.join(crate::results::TRACE_FILE);
    let bad = |e: PolarsError| {
        ValleyError::invalid(&path, None, "", format!("not a readable trace: {e}"))
    };
    let file = std::fs::File::open(&path)
        .map_err(|e| ValleyError::invalid(&path, None, "", format!("cannot open: {e}")))?;
    let trace = ParquetReader::new(file)
        .with_columns(Some(vec![
            tc::RUN_ID.into(),
            tc::STEP.into(),
            column.into(),
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
    let col = trace.column(column).map_err(bad)?;
    let values: Vec<Option<f64>> = if col.dtype() == &DataType::String {
        let mut codes: HashMap<String, f64> = HashMap::new();
        col.str()
            .map_err(bad)?
            .iter()
            .map(|v| {
                let v = v?;
                let next = codes.len() as f64;
                Some(*codes.entry(v.to_string()).or_insert(next))
            })
            .collect()
    } else {
        col.cast(&DataType::Float64)
            .map_err(bad)?
            .f64()
            .map_err(bad)?
            .iter()
            .collect()
    };
    let mut out: Series_ = HashMap::new();
    for ((id, t), v) in ids.iter().zip(step.iter()).zip(values) {
        let (Some(id), Some(t)) = (id, t) else {
            continue;
        };
        out.entry(id.to_string()).or_default().push((t, v));
    }
    for s in out.values_mut() {
        s.sort_by_key(|q| q.0);
    }
    Ok(out)
}

/// The window statistic of one run's series; `None` where the window holds
/// no (non-null, non-NaN) value.
fn summarise(series: &[(u64, Option<f64>)], w: &Window) -> Option<f64> {
    let inside: Vec<f64> = series
        .iter()
        .filter(|(t, _)| *t >= w.from && *t < w.to)
        .filter_map(|(_, v)| v.filter(|x| !x.is_nan()))
        .collect();
    if inside.is_empty() {
        return None;
    }
    Some(match w.stat {
        Stat::Mean => inside.iter().sum::<f64>() / inside.len() as f64,
        Stat::Max => inside.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Stat::Min => inside.iter().copied().fold(f64::INFINITY, f64::min),
        Stat::Changes => inside.windows(2).filter(|p| p[0] != p[1]).count() as f64,
    })
}

fn run_ids(runs: &DataFrame, path: &Path) -> Result<Vec<String>> {
    compare::rendered(runs, rc::RUN_ID, path)
}

/// The claim's metric per run, in the row order of `runs` (`None`: null).
fn run_values(
    runs: &DataFrame,
    dir: &Path,
    path: &Path,
    claim: &Claim,
) -> Result<Vec<Option<f64>>> {
    let Some(w) = &claim.window else {
        let bad = |e: PolarsError| {
            ValleyError::invalid(path, None, "", format!("column `{}`: {e}", claim.metric))
        };
        return Ok(runs
            .column(&claim.metric)
            .map_err(bad)?
            .cast(&DataType::Float64)
            .map_err(bad)?
            .f64()
            .map_err(bad)?
            .iter()
            .collect());
    };
    let trace = read_trace(dir, &claim.metric)?;
    Ok(run_ids(runs, path)?
        .iter()
        .map(|id| {
            let s = trace.get(id)?;
            let v = summarise(s, w)?;
            match &claim.relative_to {
                None => Some(v),
                Some(r) => Some(v / summarise(s, r)?),
            }
        })
        .collect())
}

/// Runs that share every factor but the compared one.
struct Group {
    /// Values of the grouping's display columns.
    label: Vec<String>,
    /// Rows of runs.parquet, in grid order.
    rows: Vec<usize>,
}

/// The runs grouped by every factor but `by`, keeping the groups that match
/// `restrict`; the display columns are the grouping factors with two levels
/// or more (as in [`compare::compare`]).
fn grouping(
    runs: &DataFrame,
    path: &Path,
    plan: &Plan,
    by: Option<&str>,
    restrict: &[(String, String)],
) -> Result<(Vec<String>, Vec<Group>)> {
    let others: Vec<compare::Factor> = compare::factors(plan)
        .into_iter()
        .filter(|f| Some(f.column.as_str()) != by)
        .collect();
    let values: Vec<Vec<String>> = others
        .iter()
        .map(|f| compare::rendered(runs, &f.column, path))
        .collect::<Result<_>>()?;
    let display: Vec<usize> = (0..others.len())
        .filter(|&i| others[i].levels.len() >= 2)
        .collect();
    let mut order: Vec<usize> = (0..runs.height()).collect();
    if let Ok(idx) = runs
        .column(rc::RUN_INDEX)
        .and_then(|c| c.cast(&DataType::Int64))
    {
        let idx: Vec<Option<i64>> = idx.i64().map(|a| a.iter().collect()).unwrap_or_default();
        order.sort_by_key(|&i| idx.get(i).copied().flatten().unwrap_or(i as i64));
    }
    let mut groups: Vec<(Vec<String>, Group)> = Vec::new();
    for i in order {
        let key: Vec<String> = values.iter().map(|v| v[i].clone()).collect();
        let keep = restrict.iter().all(|(k, v)| {
            others
                .iter()
                .position(|f| &f.column == k)
                .is_none_or(|j| &key[j] == v)
        });
        if !keep {
            continue;
        }
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.rows.push(i),
            None => {
                let label = display.iter().map(|&d| key[d].clone()).collect();
                groups.push((
                    key,
                    Group {
                        label,
                        rows: vec![i],
                    },
                ));
            }
        }
    }
    let columns = display.iter().map(|&d| others[d].column.clone()).collect();
    Ok((columns, groups.into_iter().map(|(_, g)| g).collect()))
}

/// The (candidate, baseline) row pairs of a group: same seed.
fn pairs_of(g: &Group, level: &[String], seed: &[String], p: &Paired) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for &i in g.rows.iter().filter(|&&i| level[i] == p.candidate) {
        if let Some(&j) = g
            .rows
            .iter()
            .find(|&&j| level[j] == p.baseline && seed[j] == seed[i])
        {
            out.push((i, j));
        }
    }
    out
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
    /// The evidence table: one row per group of the claim.
    pub header: Vec<String>,
    pub table: Vec<Vec<String>>,
    /// The deciding row's effect and its 95 % interval: for `wilcoxon` the
    /// median paired difference (candidate − baseline) with its bootstrap
    /// interval; for `mcnemar` the difference of the divergence rates with
    /// a bootstrap interval of the mean paired difference; for
    /// `equivalence` the median relative error with its bootstrap interval;
    /// for `every_step` the worst relative margin (no interval). The
    /// deciding row is the contradicting row with the smallest p_holm for
    /// `contradicted`, else the row with the largest p_holm (the first in
    /// plan order on ties); for `every_step`, the row with the worst margin.
    pub effect: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Pairs (runs for `equivalence`) over all the claim's rows.
    pub n_pairs: usize,
    /// The deciding row's p_holm (NaN for `every_step`, a check without
    /// sampling error).
    pub p_holm: f64,
    /// The figure that shows the evidence.
    pub figure: Figure,
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

/// Row indices by p-value and direction: the verdict and the deciding row
/// under the paired rule (`lower[i]`: the candidate is lower in row i,
/// `None` on a tie).
fn paired_verdict(
    p_holm: &[f64],
    lower: &[Option<bool>],
    want_lower: bool,
) -> (Verdict, Option<usize>) {
    let significant = |i: usize| p_holm[i] < compare::ALPHA; // false for NaN
    let contradicting = (0..p_holm.len())
        .filter(|&i| significant(i) && lower[i] == Some(!want_lower))
        .min_by(|&a, &b| p_holm[a].total_cmp(&p_holm[b]));
    if let Some(i) = contradicting {
        return (Verdict::Contradicted, Some(i));
    }
    let all = !p_holm.is_empty()
        && (0..p_holm.len()).all(|i| significant(i) && lower[i] == Some(want_lower));
    (
        if all {
            Verdict::Supported
        } else {
            Verdict::Inconclusive
        },
        largest_p(p_holm),
    )
}

/// The row with the largest p (NaN counts as largest), the first on ties.
fn largest_p(p: &[f64]) -> Option<usize> {
    let key = |i: usize| if p[i].is_nan() { 2.0 } else { p[i] };
    (0..p.len())
        .rev()
        .max_by(|&a, &b| key(a).total_cmp(&key(b)))
}

/// A tolerance as written: `0.05`, `1e-12`.
fn tol_text(t: f64) -> String {
    if t != 0.0 && t.abs() < 1e-3 {
        format!("{t:e}")
    } else {
        format!("{t}")
    }
}

fn panel_title(columns: &[String], label: &[String]) -> String {
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

/// The claims of `plan`: its `[[claim]]` tables parsed and checked
/// against its factors (exit 2 naming the table's line and field).
pub fn of_plan(plan: &Plan) -> Result<Vec<Claim>> {
    if plan.claim_tables.is_empty() {
        return Ok(Vec::new());
    }
    let rep = Reporter::new(&plan.file, &plan.source);
    parse(&rep, &plan.claim_tables, plan)
}

/// Evaluates every claim of `plan` on the results in `dir`.
pub fn evaluate_dir(dir: &Path, plan: &Plan) -> Result<Vec<Evaluation>> {
    let claims = of_plan(plan)?;
    if claims.is_empty() {
        return Ok(Vec::new());
    }
    let mut runs = compare::read_runs(dir)?;
    let path = dir.join(crate::results::RUNS_FILE);
    let mut out = Vec::new();
    for c in &claims {
        out.push(match &c.test {
            Test::Wilcoxon => {
                let values = run_values(&runs, dir, &path, c)?;
                if c.window.is_some() {
                    runs.with_column(Column::new(c.metric_label().into(), values.clone()))
                        .map_err(|e| ValleyError::Other(e.to_string()))?;
                }
                evaluate_wilcoxon(c, &runs, &path, plan, &values)?
            }
            Test::McNemar => evaluate_mcnemar(c, &runs, &path, plan)?,
            Test::Equivalence { .. } => {
                let values = run_values(&runs, dir, &path, c)?;
                evaluate_equivalence(c, &runs, &path, plan, &values)?
            }
            Test::EveryStep { .. } => evaluate_every_step(c, &runs, dir, &path, plan)?,
        });
    }
    Ok(out)
}

fn paired_of(claim: &Claim) -> &Paired {
    claim
        .paired
        .as_ref()
        .expect("parse gives every test but equivalence its levels")
}

/// `wilcoxon`: the rows of `valley compare` for the claim's levels.
fn evaluate_wilcoxon(
    claim: &Claim,
    runs: &DataFrame,
    path: &Path,
    plan: &Plan,
    values: &[Option<f64>],
) -> Result<Evaluation> {
    let p = paired_of(claim);
    let opts = Options {
        metric: claim.metric_label(),
        by: p.by.clone(),
        baseline: Some(p.baseline.clone()),
        higher_is_better: p.expect == Expect::Higher,
    };
    let comparison: Comparison = compare::compare(runs, path, plan, &opts)?;
    let col = |name: &str| comparison.group_columns.iter().position(|c| c == name);
    let mut rows: Vec<Row> = comparison
        .rows
        .iter()
        .filter(|r| r.candidate == p.candidate)
        .filter(|r| {
            claim
                .restrict
                .iter()
                .all(|(k, v)| col(k).is_none_or(|i| &r.group[i] == v))
        })
        .cloned()
        .collect();
    let pv: Vec<f64> = rows.iter().map(Row::p_value).collect();
    for (row, ph) in rows.iter_mut().zip(stats::holm(&pv)) {
        row.p_holm = ph;
    }
    let p_holm: Vec<f64> = rows.iter().map(|r| r.p_holm).collect();
    let lower: Vec<Option<bool>> = rows.iter().map(candidate_lower).collect();
    let (verdict, deciding) = paired_verdict(&p_holm, &lower, p.expect == Expect::Lower);
    let pick = |f: fn(&Row) -> f64| deciding.map_or(f64::NAN, |i| f(&rows[i]));
    let mut header = comparison.group_columns.clone();
    header.extend(
        [
            "n_pairs",
            "median candidate",
            "median baseline",
            "median diff",
            "95% CI",
            "win rate",
            "p",
            "p_holm",
        ]
        .map(String::from),
    );
    let sig = compare::sig;
    let table = rows
        .iter()
        .map(|r| {
            let s = &r.stats;
            let mut cells = r.group.clone();
            cells.extend([
                s.n_pairs.to_string(),
                sig(s.median_candidate),
                sig(s.median_baseline),
                sig(s.median_diff),
                format!("[{}, {}]", sig(s.ci_low), sig(s.ci_high)),
                sig(s.win_rate),
                compare::p_text(r.p_value()),
                compare::p_text(r.p_holm),
            ]);
            cells
        })
        .collect();
    // The figure: candidate against baseline, one point per pair.
    let (columns, groups) = grouping(runs, path, plan, Some(&p.by), &claim.restrict)?;
    let level = compare::rendered(runs, &p.by, path)?;
    let seed = compare::rendered(runs, rc::SEED, path)?;
    let diverged = diverged_flags(runs, path)?;
    let mut panels = Vec::new();
    for g in &groups {
        let pairs = pairs_of(g, &level, &seed, p);
        if pairs.is_empty() {
            continue;
        }
        let pts: Vec<(f64, f64)> = pairs
            .iter()
            .filter(|(i, j)| !diverged[*i] && !diverged[*j])
            .filter_map(|(i, j)| Some((values[*j]?, values[*i]? - values[*j]?)))
            .filter(|q| q.0.is_finite() && q.1.is_finite())
            .collect();
        let lost = pairs.len() - pts.len();
        let mut panel = Panel::new(
            if lost > 0 {
                format!(
                    "{} ({lost} pairs with a diverged or null run not shown)",
                    panel_title(&columns, &g.label)
                )
            } else {
                panel_title(&columns, &g.label)
            },
            format!("{} = {}: {}", p.by, p.baseline, claim.metric_label()),
            format!("{} − {}", p.candidate, p.baseline),
        );
        // The legend on the side the points leave free.
        let above = pts.iter().filter(|q| q.1 > 0.0).count();
        let upper = 2 * above <= pts.len();
        panel.legend = if upper {
            Legend::UpperRight
        } else {
            Legend::LowerRight
        };
        // Room for the legend: a quarter of the height beyond the points.
        let ys = pts.iter().map(|q| q.1).chain([0.0]);
        let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), y| {
            (l.min(y), h.max(y))
        });
        let span = (hi - lo).max(hi.abs().max(lo.abs()) * 1e-3).max(1e-300);
        panel.y_range = Some(if upper {
            (lo - 0.04 * span, hi + 0.3 * span)
        } else {
            (lo - 0.3 * span, hi + 0.04 * span)
        });
        let xs: Vec<f64> = pts.iter().map(|q| q.0).collect();
        if let (Some(lo), Some(hi)) = (
            xs.iter().copied().reduce(f64::min),
            xs.iter().copied().reduce(f64::max),
        ) {
            // Across the panel, also when every pair has the same baseline.
            let w = if hi > lo {
                0.0
            } else {
                lo.abs().max(1.0) * 0.1
            };
            panel.series.push(Series::new(
                Some("no difference".into()),
                color(7),
                Style::Dashed { width: 1 },
                vec![(lo - w, 0.0), (hi + w, 0.0)],
            ));
        }
        panel.series.push(Series::new(
            Some(format!(
                "one pair (same seed); expected {} 0",
                if p.expect == Expect::Lower {
                    "below"
                } else {
                    "above"
                }
            )),
            color(0),
            Style::Points { radius: 4 },
            pts,
        ));
        panel.auto_log_x();
        panels.push(panel);
    }
    Ok(Evaluation {
        claim: claim.clone(),
        verdict,
        header,
        table,
        effect: pick(|r| r.stats.median_diff),
        ci_low: pick(|r| r.stats.ci_low),
        ci_high: pick(|r| r.stats.ci_high),
        n_pairs: rows.iter().map(|r| r.stats.n_pairs).sum(),
        p_holm: pick(|r| r.p_holm),
        figure: figure(claim, panels),
    })
}

fn diverged_flags(runs: &DataFrame, path: &Path) -> Result<Vec<bool>> {
    Ok(runs
        .column(rc::DIVERGED)
        .map_err(|_| {
            ValleyError::invalid(path, None, "", format!("missing column `{}`", rc::DIVERGED))
        })?
        .bool()
        .map_err(|e| {
            ValleyError::invalid(path, None, "", format!("column `{}`: {e}", rc::DIVERGED))
        })?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect())
}

/// `mcnemar`: the exact test on the discordant pairs of each group.
fn evaluate_mcnemar(
    claim: &Claim,
    runs: &DataFrame,
    path: &Path,
    plan: &Plan,
) -> Result<Evaluation> {
    let p = paired_of(claim);
    let (columns, groups) = grouping(runs, path, plan, Some(&p.by), &claim.restrict)?;
    let level = compare::rendered(runs, &p.by, path)?;
    let seed = compare::rendered(runs, rc::SEED, path)?;
    let diverged = diverged_flags(runs, path)?;
    struct R {
        label: Vec<String>,
        n: usize,
        dc: usize,
        db: usize,
        only_c: u64,
        only_b: u64,
        diff: f64,
        ci: (f64, f64),
        p: f64,
    }
    let mut rows = Vec::new();
    for g in &groups {
        let pairs = pairs_of(g, &level, &seed, p);
        if pairs.is_empty() {
            continue;
        }
        let d: Vec<f64> = pairs
            .iter()
            .map(|(i, j)| f64::from(u8::from(diverged[*i])) - f64::from(u8::from(diverged[*j])))
            .collect();
        let only_c = d.iter().filter(|x| **x > 0.0).count() as u64;
        let only_b = d.iter().filter(|x| **x < 0.0).count() as u64;
        let key = format!(
            "mcnemar|{}|{}|{}|{}",
            claim.id,
            g.label.join("|"),
            p.candidate,
            p.baseline
        );
        rows.push(R {
            label: g.label.clone(),
            n: pairs.len(),
            dc: pairs.iter().filter(|(i, _)| diverged[*i]).count(),
            db: pairs.iter().filter(|(_, j)| diverged[*j]).count(),
            only_c,
            only_b,
            diff: d.iter().sum::<f64>() / d.len() as f64,
            ci: stats::bootstrap_mean_ci(&d, stats::RESAMPLES, &key),
            p: stats::binom_test_half(only_c, only_c + only_b),
        });
    }
    let p_holm = stats::holm(&rows.iter().map(|r| r.p).collect::<Vec<_>>());
    let lower: Vec<Option<bool>> = rows
        .iter()
        .map(|r| (r.only_c != r.only_b).then_some(r.only_c < r.only_b))
        .collect();
    let (verdict, deciding) = paired_verdict(&p_holm, &lower, p.expect == Expect::Lower);
    let mut header = columns.clone();
    header.extend(
        [
            "n_pairs",
            "diverged candidate",
            "diverged baseline",
            "only candidate diverged",
            "only baseline diverged",
            "rate diff",
            "95% CI",
            "p (exact McNemar)",
            "p_holm",
        ]
        .map(String::from),
    );
    let sig = compare::sig;
    let table = rows
        .iter()
        .zip(&p_holm)
        .map(|(r, ph)| {
            let mut cells = r.label.clone();
            cells.extend([
                r.n.to_string(),
                r.dc.to_string(),
                r.db.to_string(),
                r.only_c.to_string(),
                r.only_b.to_string(),
                sig(r.diff),
                format!("[{}, {}]", sig(r.ci.0), sig(r.ci.1)),
                compare::p_text(r.p),
                compare::p_text(*ph),
            ]);
            cells
        })
        .collect();
    let panels = rows
        .iter()
        .map(|r| {
            let mut panel = Panel::new(
                format!(
                    "{}: only {} diverged in {} pairs, only {} in {}",
                    panel_title(&columns, &r.label),
                    p.candidate,
                    r.only_c,
                    p.baseline,
                    r.only_b
                ),
                format!(
                    "0: {} = {}, 1: {} = {}",
                    p.by, p.baseline, p.by, p.candidate
                ),
                "fraction of runs diverged",
            );
            panel.x_range = Some((-0.5, 1.5));
            panel.y_range = Some((0.0, 1.05));
            let n = r.n as f64;
            panel.series = vec![
                Series::new(
                    Some(format!("{} diverged {}/{}", p.baseline, r.db, r.n)),
                    color(1),
                    Style::Points { radius: 9 },
                    vec![(0.0, r.db as f64 / n)],
                ),
                Series::new(
                    Some(format!("{} diverged {}/{}", p.candidate, r.dc, r.n)),
                    color(0),
                    Style::Points { radius: 9 },
                    vec![(1.0, r.dc as f64 / n)],
                ),
            ];
            panel
        })
        .collect();
    let pick = |f: &dyn Fn(&R) -> f64| deciding.map_or(f64::NAN, |i| f(&rows[i]));
    Ok(Evaluation {
        claim: claim.clone(),
        verdict,
        header,
        table,
        effect: pick(&|r| r.diff),
        ci_low: pick(&|r| r.ci.0),
        ci_high: pick(&|r| r.ci.1),
        n_pairs: rows.iter().map(|r| r.n).sum(),
        p_holm: deciding.map_or(f64::NAN, |i| p_holm[i]),
        figure: figure(claim, panels),
    })
}

/// `equivalence`: TOST on the relative errors of each group.
fn evaluate_equivalence(
    claim: &Claim,
    runs: &DataFrame,
    path: &Path,
    plan: &Plan,
    values: &[Option<f64>],
) -> Result<Evaluation> {
    let Test::Equivalence {
        expr, tolerance, ..
    } = &claim.test
    else {
        unreachable!("called for equivalence claims only");
    };
    let tol = *tolerance;
    let names = expr.names();
    let mut columns_of: HashMap<String, Vec<Option<f64>>> = HashMap::new();
    for n in &names {
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
    let target: Vec<Option<f64>> = (0..runs.height())
        .map(|i| expr.eval(&|n| columns_of.get(n)?[i]))
        .collect();
    let diverged = diverged_flags(runs, path)?;
    let (columns, groups) = grouping(runs, path, plan, None, &claim.restrict)?;
    struct R {
        label: Vec<String>,
        n: usize,
        diverged: usize,
        median_metric: f64,
        median_target: f64,
        median_err: f64,
        ci: (f64, f64),
        p_in: f64,
        p_out: f64,
        points: Vec<(f64, f64)>,
    }
    let mut rows = Vec::new();
    for g in &groups {
        let ok: Vec<usize> = g
            .rows
            .iter()
            .copied()
            .filter(|&i| !diverged[i])
            .filter(|&i| matches!((values[i], target[i]), (Some(m), Some(t)) if m.is_finite() && t.is_finite() && t != 0.0))
            .collect();
        let m: Vec<f64> = ok.iter().map(|&i| values[i].unwrap_or(f64::NAN)).collect();
        let t: Vec<f64> = ok.iter().map(|&i| target[i].unwrap_or(f64::NAN)).collect();
        let e: Vec<f64> = m.iter().zip(&t).map(|(m, t)| (m - t) / t.abs()).collect();
        let (p_in, p_out) = stats::tost(&e, tol);
        let key = format!("equivalence|{}|{}", claim.id, g.label.join("|"));
        rows.push(R {
            label: g.label.clone(),
            n: e.len(),
            diverged: g.rows.iter().filter(|&&i| diverged[i]).count(),
            median_metric: stats::median(&m),
            median_target: stats::median(&t),
            median_err: stats::median(&e),
            ci: stats::bootstrap_median_ci(&e, stats::RESAMPLES, &key),
            p_in,
            p_out,
            points: t.iter().copied().zip(m.iter().copied()).collect(),
        });
    }
    let in_holm = stats::holm(&rows.iter().map(|r| r.p_in).collect::<Vec<_>>());
    let out_holm = stats::holm(&rows.iter().map(|r| r.p_out).collect::<Vec<_>>());
    let contradicting = (0..rows.len())
        .filter(|&i| out_holm[i] < compare::ALPHA)
        .min_by(|&a, &b| out_holm[a].total_cmp(&out_holm[b]));
    let (verdict, deciding, p_holm) = match contradicting {
        Some(i) => (Verdict::Contradicted, Some(i), out_holm[i]),
        None => {
            let all = !rows.is_empty() && in_holm.iter().all(|p| *p < compare::ALPHA);
            let d = largest_p(&in_holm);
            (
                if all {
                    Verdict::Supported
                } else {
                    Verdict::Inconclusive
                },
                d,
                d.map_or(f64::NAN, |i| in_holm[i]),
            )
        }
    };
    let mut header = columns.clone();
    header.extend(
        [
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
        .map(String::from),
    );
    let sig = compare::sig;
    let table = rows
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let mut cells = r.label.clone();
            cells.extend([
                r.n.to_string(),
                r.diverged.to_string(),
                sig(r.median_metric),
                sig(r.median_target),
                sig(r.median_err),
                format!("[{}, {}]", sig(r.ci.0), sig(r.ci.1)),
                compare::p_text(r.p_in),
                compare::p_text(in_holm[k]),
                compare::p_text(r.p_out),
                compare::p_text(out_holm[k]),
            ]);
            cells
        })
        .collect();
    let panels = rows
        .iter()
        .map(|r| {
            let mut panel = Panel::new(
                format!(
                    "{}: median target {}",
                    panel_title(&columns, &r.label),
                    compare::sig(r.median_target)
                ),
                "run (in plan order)",
                format!("relative error of {} to the target", claim.metric_label()),
            );
            panel.legend = Legend::UpperLeft;
            let errors: Vec<(f64, f64)> = r
                .points
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
                    Some("formula".into()),
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
                    Some("one run".into()),
                    color(0),
                    Style::Points { radius: 5 },
                    errors,
                ),
            ];
            panel
        })
        .collect();
    let pick = |f: &dyn Fn(&R) -> f64| deciding.map_or(f64::NAN, |i| f(&rows[i]));
    Ok(Evaluation {
        claim: claim.clone(),
        verdict,
        header,
        table,
        effect: pick(&|r| r.median_err),
        ci_low: pick(&|r| r.ci.0),
        ci_high: pick(&|r| r.ci.1),
        n_pairs: rows.iter().map(|r| r.n).sum(),
        p_holm,
        figure: figure(claim, panels),
    })
}

/// `every_step`: the relative margin at every common traced step of every
/// pair.
fn evaluate_every_step(
    claim: &Claim,
    runs: &DataFrame,
    dir: &Path,
    path: &Path,
    plan: &Plan,
) -> Result<Evaluation> {
    let Test::EveryStep {
        tolerance,
        equal_every,
    } = &claim.test
    else {
        unreachable!("called for every_step claims only");
    };
    let tol = *tolerance;
    let p = paired_of(claim);
    let sign = if p.expect == Expect::Higher {
        1.0
    } else {
        -1.0
    };
    let trace = read_trace(dir, &claim.metric)?;
    let ids = run_ids(runs, path)?;
    let (columns, groups) = grouping(runs, path, plan, Some(&p.by), &claim.restrict)?;
    let level = compare::rendered(runs, &p.by, path)?;
    let seed = compare::rendered(runs, rc::SEED, path)?;
    struct R {
        label: Vec<String>,
        n: usize,
        steps: usize,
        failures: usize,
        /// (margin, step, seed) of the worst step.
        worst: Option<(f64, u64, String)>,
        /// (|r|, step, seed) of the worst boundary step, and how many.
        worst_equal: Option<(f64, u64, String)>,
        equal_steps: usize,
        curves: Vec<Vec<(f64, f64)>>,
    }
    let mut rows = Vec::new();
    for g in &groups {
        let pairs = pairs_of(g, &level, &seed, p);
        if pairs.is_empty() {
            continue;
        }
        let mut r = R {
            label: g.label.clone(),
            n: pairs.len(),
            steps: 0,
            failures: 0,
            worst: None,
            worst_equal: None,
            equal_steps: 0,
            curves: Vec::new(),
        };
        for (i, j) in &pairs {
            let (Some(c), Some(b)) = (trace.get(&ids[*i]), trace.get(&ids[*j])) else {
                continue;
            };
            let base: HashMap<u64, f64> = b.iter().filter_map(|(t, v)| Some((*t, (*v)?))).collect();
            let mut curve = Vec::new();
            for (t, v) in c {
                let (Some(cv), Some(bv)) = (v, base.get(t)) else {
                    continue;
                };
                let rel = (cv - bv) / bv.abs();
                let margin = sign * rel;
                r.steps += 1;
                let mut failed = margin.is_nan() || margin < -tol;
                if r.worst
                    .as_ref()
                    .is_none_or(|w| margin < w.0 || margin.is_nan())
                {
                    r.worst = Some((margin, *t, seed[*i].clone()));
                }
                if equal_every.is_some_and(|k| t % k == 0) {
                    r.equal_steps += 1;
                    let off = rel.abs();
                    failed |= off.is_nan() || off > tol;
                    if r.worst_equal
                        .as_ref()
                        .is_none_or(|w| off > w.0 || off.is_nan())
                    {
                        r.worst_equal = Some((off, *t, seed[*i].clone()));
                    }
                }
                r.failures += usize::from(failed);
                curve.push((*t as f64, margin));
            }
            if r.curves.len() < 4 {
                r.curves.push(curve);
            }
        }
        rows.push(r);
    }
    let failed = rows.iter().any(|r| r.failures > 0);
    let checked = rows.iter().any(|r| r.steps > 0);
    let verdict = if failed {
        Verdict::Contradicted
    } else if checked {
        Verdict::Supported
    } else {
        Verdict::Inconclusive
    };
    let worst_row = (0..rows.len())
        .filter(|&i| rows[i].worst.is_some())
        .min_by(|&a, &b| {
            let m = |i: usize| rows[i].worst.as_ref().map_or(f64::INFINITY, |w| w.0);
            m(a).total_cmp(&m(b))
        });
    let mut header = columns.clone();
    header.extend(
        [
            "n_pairs",
            "steps checked",
            "failing steps",
            "worst margin",
            "at step (seed)",
            "boundary steps",
            "worst |relative difference| at a boundary",
            "at step (seed)",
        ]
        .map(String::from),
    );
    let sig = compare::sig;
    let at = |w: &Option<(f64, u64, String)>| {
        w.as_ref()
            .map_or("-".into(), |w| format!("{} ({})", w.1, w.2))
    };
    let table = rows
        .iter()
        .map(|r| {
            let mut cells = r.label.clone();
            cells.extend([
                r.n.to_string(),
                r.steps.to_string(),
                r.failures.to_string(),
                r.worst.as_ref().map_or("-".into(), |w| sig(w.0)),
                at(&r.worst),
                r.equal_steps.to_string(),
                r.worst_equal.as_ref().map_or("-".into(), |w| sig(w.0)),
                at(&r.worst_equal),
            ]);
            cells
        })
        .collect();
    let direction = if p.expect == Expect::Higher {
        format!("({} − {})/|{}|", p.candidate, p.baseline, p.baseline)
    } else {
        format!("({} − {})/|{}|", p.baseline, p.candidate, p.baseline)
    };
    let panels = rows
        .iter()
        .map(|r| {
            let mut panel = Panel::new(
                format!(
                    "{}: {} failing of {} steps",
                    panel_title(&columns, &r.label),
                    r.failures,
                    r.steps
                ),
                "step",
                format!("relative margin of {}: {direction}", claim.metric),
            );
            let last = r
                .curves
                .iter()
                .flat_map(|c| c.last().map(|q| q.0))
                .fold(0.0, f64::max);
            panel.series.push(Series::new(
                Some(format!("−tolerance ({})", tol_text(tol))),
                color(3),
                Style::Dashed { width: 2 },
                vec![(0.0, -tol), (last, -tol)],
            ));
            for (k, c) in r.curves.iter().enumerate() {
                panel.series.push(Series::new(
                    (k == 0).then(|| "one pair (first 4 shown)".to_string()),
                    color(0),
                    Style::Line { width: 2 },
                    c.clone(),
                ));
            }
            panel
        })
        .collect();
    Ok(Evaluation {
        claim: claim.clone(),
        verdict,
        header,
        table,
        effect: worst_row
            .and_then(|i| rows[i].worst.as_ref().map(|w| w.0))
            .unwrap_or(f64::NAN),
        ci_low: f64::NAN,
        ci_high: f64::NAN,
        n_pairs: rows.iter().map(|r| r.n).sum(),
        p_holm: f64::NAN,
        figure: figure(claim, panels),
    })
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
        "test",
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
        let c = &e.claim;
        let (candidate, baseline, expect) = match (&c.paired, &c.test) {
            (Some(p), _) => (
                p.candidate.clone(),
                p.baseline.clone(),
                p.expect.as_str().to_string(),
            ),
            (None, Test::Equivalence { tolerance, .. }) => (
                "-".into(),
                "target".into(),
                format!("within ±{}", tol_text(*tolerance)),
            ),
            (None, _) => ("-".into(), "-".into(), "-".into()),
        };
        rows.push(vec![
            c.id.clone(),
            e.verdict.as_str().into(),
            c.test.name().into(),
            c.metric_label(),
            candidate,
            baseline,
            expect,
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
