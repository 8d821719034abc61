//! Paired comparisons of the levels of one plan factor (`valley compare`).
//!
//! A *factor* is a label column (`landscape`, `optimizer`, `schedule`) or a
//! sweep axis (`optimizer.momentum`); its *levels* are its values in plan
//! order. To compare the levels of factor F on a metric, runs are grouped by
//! every other factor (a *group*), and within a group a run of level L is
//! paired with the run of the baseline level that has the same seed. Runs
//! that differ only in optimizer or schedule share their initial point and
//! noise draws (common random numbers, see [`crate::config::plan`]), so the
//! pairs are matched samples.
//!
//! For each pair the difference is d = candidate − baseline. A diverged
//! run's metric counts as the worst value: +∞ (−∞ with
//! `higher_is_better`); a pair in which both runs diverged is a tie (d = 0).
//! So is a pair whose values agree to [`TIE_RTOL`] relative to the larger
//! magnitude: two schedules that end at the same minimum by different
//! arithmetic differ in the last bits (a few 1e-16 at E = −0.0122 in the
//! protein race), and the signed-rank test would call that rounding an
//! effect.
//! Pairs where a run that did not diverge has no value (null) are left out.
//! Each (group, candidate) row reports the medians, the median difference
//! with its 95 % percentile-bootstrap interval, the win rate (the fraction
//! of pairs where the candidate is strictly better), the two-sided Wilcoxon
//! signed-rank p-value, its Holm adjustment over all rows, and a verdict at
//! α = 0.05 on the Holm p-value. The formulas are in [`crate::stats`].

use crate::config::Plan;
use crate::error::{Result, ValleyError};
use crate::schema::runs as rc;
use crate::stats::{self, Method};
use polars::prelude::*;

mod explain;
pub use explain::{filtered, why_no_pairs};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

/// Significance level of the verdict (on the Holm-adjusted p-value).
pub const ALPHA: f64 = 0.05;
/// Paired values that agree to this relative tolerance are a tie (d = 0):
/// floating-point rounding, not an effect.
pub const TIE_RTOL: f64 = 1e-12;
/// The level shown for a null value of an axis column (a table that does
/// not set the field).
pub const NONE_LEVEL: &str = "none";

/// What to compare.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// A numeric column of runs.parquet.
    pub metric: String,
    /// A factor: label column or sweep-axis column.
    pub by: String,
    /// A level of `by`; `None`: the first in plan order.
    pub baseline: Option<String>,
    pub higher_is_better: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            metric: rc::FINAL_LOSS.into(),
            by: rc::SCHEDULE.into(),
            baseline: None,
            higher_is_better: false,
        }
    }
}

/// A factor of the plan and its levels in plan order.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    pub column: String,
    pub levels: Vec<String>,
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// Every factor of the plan: the three label columns, then the sweep axes.
pub fn factors(plan: &Plan) -> Vec<Factor> {
    let labels = |it: &mut dyn Iterator<Item = &String>| {
        let mut out = Vec::new();
        for l in it {
            push_unique(&mut out, l);
        }
        out
    };
    let mut out = vec![
        Factor {
            column: rc::LANDSCAPE.into(),
            levels: labels(&mut plan.landscapes.iter().map(|l| &l.label)),
        },
        Factor {
            column: rc::OPTIMIZER.into(),
            levels: labels(&mut plan.optimizers.iter().map(|o| &o.label)),
        },
        Factor {
            column: rc::SCHEDULE.into(),
            levels: labels(&mut plan.schedules.iter().map(|s| &s.label)),
        },
    ];
    for a in &plan.axes {
        out.push(Factor {
            column: a.column.clone(),
            levels: labels(&mut a.values.iter()),
        });
    }
    out
}

/// Whether the outcome favours the candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Better,
    Worse,
    NoDifference,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::NoDifference => "no difference",
        }
    }
}

/// The statistics of one set of pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct PairStats {
    pub n_pairs: usize,
    pub n_diverged_candidate: usize,
    pub n_diverged_baseline: usize,
    pub median_candidate: f64,
    pub median_baseline: f64,
    pub median_diff: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub win_rate: f64,
    pub wilcoxon: stats::Wilcoxon,
}

/// One side of a pair: the metric (`None`: null) and whether the run diverged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Side {
    pub value: Option<f64>,
    pub diverged: bool,
}

/// The statistics of the pairs `(candidate, baseline)` under the rules of the
/// module header; `key` seeds the bootstrap.
pub fn pair_stats(pairs: &[(Side, Side)], higher_is_better: bool, key: &str) -> PairStats {
    let worst = if higher_is_better {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    };
    let value = |s: &Side| if s.diverged { Some(worst) } else { s.value };
    let mut c = Vec::new();
    let mut b = Vec::new();
    let mut d = Vec::new();
    let (mut dc, mut db) = (0, 0);
    for (sc, sb) in pairs {
        let (Some(vc), Some(vb)) = (value(sc), value(sb)) else {
            continue;
        };
        if vc.is_nan() || vb.is_nan() {
            continue;
        }
        c.push(vc);
        b.push(vb);
        let rounding = vc.is_finite()
            && vb.is_finite()
            && (vc - vb).abs() <= TIE_RTOL * vc.abs().max(vb.abs());
        d.push(if (sc.diverged && sb.diverged) || rounding {
            0.0
        } else {
            vc - vb
        });
        dc += usize::from(sc.diverged);
        db += usize::from(sb.diverged);
    }
    let wins = d
        .iter()
        .filter(|&&x| if higher_is_better { x > 0.0 } else { x < 0.0 })
        .count();
    let (ci_low, ci_high) = stats::bootstrap_median_ci(&d, stats::RESAMPLES, key);
    PairStats {
        n_pairs: d.len(),
        n_diverged_candidate: dc,
        n_diverged_baseline: db,
        median_candidate: stats::median(&c),
        median_baseline: stats::median(&b),
        median_diff: stats::median(&d),
        ci_low,
        ci_high,
        win_rate: if d.is_empty() {
            f64::NAN
        } else {
            wins as f64 / d.len() as f64
        },
        wilcoxon: stats::wilcoxon(&d),
    }
}

/// One output row: a candidate level against the baseline in one group.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Values of [`Comparison::group_columns`].
    pub group: Vec<String>,
    pub candidate: String,
    pub baseline: String,
    pub stats: PairStats,
    pub p_holm: f64,
    pub verdict: Verdict,
}

impl Row {
    pub fn p_value(&self) -> f64 {
        self.stats.wilcoxon.p_value
    }
}

/// A whole comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub metric: String,
    pub by: String,
    pub baseline: String,
    pub higher_is_better: bool,
    /// The other factors with at least two levels, as named in runs.parquet.
    pub group_columns: Vec<String>,
    pub rows: Vec<Row>,
}

/// The names of the numeric columns of `df`.
fn numeric_columns(df: &DataFrame) -> Vec<String> {
    df.columns()
        .iter()
        .filter(|c| c.dtype().is_primitive_numeric())
        .map(|c| c.name().to_string())
        .collect()
}

fn flag_error(flag: &str, message: String) -> ValleyError {
    ValleyError::invalid("command line", None, flag, message)
}

fn bad_file(path: &Path, message: String) -> ValleyError {
    ValleyError::invalid(path, None, "", message)
}

/// A column rendered as level text: floats in Rust's shortest form (as the
/// plan renders axis values), nulls as [`NONE_LEVEL`].
pub fn rendered(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<String>> {
    let col = df
        .column(name)
        .map_err(|_| bad_file(path, format!("missing column `{name}`")))?;
    let bad = |e: PolarsError| bad_file(path, format!("column `{name}`: {e}"));
    let none = || NONE_LEVEL.to_string();
    Ok(match col.dtype() {
        DataType::Float32 | DataType::Float64 => col
            .cast(&DataType::Float64)
            .map_err(bad)?
            .f64()
            .map_err(bad)?
            .iter()
            .map(|v| v.map_or_else(none, |v| v.to_string()))
            .collect(),
        _ => col
            .cast(&DataType::String)
            .map_err(bad)?
            .str()
            .map_err(bad)?
            .iter()
            .map(|v| v.map_or_else(none, str::to_string))
            .collect(),
    })
}

/// Reads `DIR/runs.parquet`; a missing or unreadable file is invalid input.
pub fn read_runs(dir: &Path) -> Result<DataFrame> {
    crate::results::record::check_rows_belong(dir)?;
    let path = dir.join(crate::results::RUNS_FILE);
    let file =
        std::fs::File::open(&path).map_err(|e| bad_file(&path, format!("cannot open: {e}")))?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| bad_file(&path, format!("not a readable Parquet file: {e}")))
}

/// Checks the options against the plan and the columns of runs.parquet
/// before any work: an unknown metric, a non-numeric metric, an unknown
/// factor, a factor with one level or an unknown baseline is invalid input
/// naming what exists.
pub fn resolve(runs: &DataFrame, plan: &Plan, opts: &Options) -> Result<(Factor, String)> {
    let numeric = numeric_columns(runs);
    match runs.column(&opts.metric) {
        Err(_) => {
            return Err(flag_error(
                "--metric",
                format!(
                    "no column `{}` in runs.parquet; numeric columns: {}",
                    opts.metric,
                    numeric.join(", ")
                ),
            ))
        }
        Ok(c) if !c.dtype().is_primitive_numeric() => {
            return Err(flag_error(
                "--metric",
                format!(
                    "column `{}` is not numeric ({}); numeric columns: {}",
                    opts.metric,
                    c.dtype(),
                    numeric.join(", ")
                ),
            ))
        }
        Ok(_) => {}
    }
    let all = factors(plan);
    let Some(factor) = all.iter().find(|f| f.column == opts.by).cloned() else {
        let names: Vec<&str> = all.iter().map(|f| f.column.as_str()).collect();
        return Err(flag_error(
            "--by",
            format!(
                "`{}` is not a factor of this sweep; factors: {}",
                opts.by,
                names.join(", ")
            ),
        ));
    };
    if factor.levels.len() < 2 {
        return Err(flag_error(
            "--by",
            format!(
                "factor `{}` has one level ({}): nothing to compare",
                factor.column,
                factor.levels.join(", ")
            ),
        ));
    }
    let baseline = match &opts.baseline {
        None => factor.levels[0].clone(),
        Some(b) if factor.levels.contains(b) => b.clone(),
        Some(b) => {
            return Err(flag_error(
                "--baseline",
                format!(
                    "`{b}` is not a level of `{}`; levels: {}",
                    factor.column,
                    factor.levels.join(", ")
                ),
            ))
        }
    };
    Ok((factor, baseline))
}

/// The runs of one seed in one group: (seed, level -> row).
pub type SeedRuns = (String, HashMap<String, usize>);

/// Runs that share every factor but the compared one.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The values of every other factor (the group's key).
    pub key: Vec<String>,
    /// The values of [`Grouping::columns`].
    pub label: Vec<String>,
    /// Rows of runs.parquet, in grid order.
    pub rows: Vec<usize>,
    /// By seed, in order of first appearance: the row of each level.
    pub seeds: Vec<SeedRuns>,
}

impl Group {
    /// The (candidate, baseline) row pairs with the same seed, in seed order.
    pub fn pairs(&self, candidate: &str, baseline: &str) -> Vec<(usize, usize)> {
        self.seeds
            .iter()
            .filter_map(|(_, by_level)| Some((*by_level.get(candidate)?, *by_level.get(baseline)?)))
            .collect()
    }
}

/// The runs grouped by every factor but the compared one.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    /// Every factor but the compared one, in plan order (the key's columns).
    pub others: Vec<Factor>,
    /// The other factors with at least two levels (the label's columns).
    pub columns: Vec<String>,
    /// The groups in grid order of their first run.
    pub groups: Vec<Group>,
}

/// Groups the runs by every factor but `by` (`None`: by every factor, so a
/// group holds the seeds of one cell), in grid order so that groups and
/// seeds come in plan order; within a group a run is found by seed and
/// level of `by`.
pub fn group_runs(
    runs: &DataFrame,
    path: &Path,
    plan: &Plan,
    by: Option<&str>,
) -> Result<Grouping> {
    let others: Vec<Factor> = factors(plan)
        .into_iter()
        .filter(|f| Some(f.column.as_str()) != by)
        .collect();
    let level = match by {
        Some(by) => rendered(runs, by, path)?,
        None => vec![String::new(); runs.height()],
    };
    let seed = rendered(runs, rc::SEED, path)?;
    let other_values: Vec<Vec<String>> = others
        .iter()
        .map(|f| rendered(runs, &f.column, path))
        .collect::<Result<_>>()?;
    let display: Vec<usize> = (0..others.len())
        .filter(|&i| others[i].levels.len() >= 2)
        .collect();
    let mut groups: Vec<Group> = Vec::new();
    let mut group_at: HashMap<Vec<String>, usize> = HashMap::new();
    for i in grid_order(runs) {
        let key: Vec<String> = other_values.iter().map(|v| v[i].clone()).collect();
        let g = *group_at.entry(key.clone()).or_insert_with(|| {
            groups.push(Group {
                label: display.iter().map(|&d| key[d].clone()).collect(),
                key,
                rows: Vec::new(),
                seeds: Vec::new(),
            });
            groups.len() - 1
        });
        let group = &mut groups[g];
        group.rows.push(i);
        let s = match group.seeds.iter().position(|(s, _)| *s == seed[i]) {
            Some(s) => s,
            None => {
                group.seeds.push((seed[i].clone(), HashMap::new()));
                group.seeds.len() - 1
            }
        };
        group.seeds[s].1.insert(level[i].clone(), i);
    }
    let columns = display.iter().map(|&d| others[d].column.clone()).collect();
    Ok(Grouping {
        others,
        columns,
        groups,
    })
}

/// The rows of runs.parquet in grid order (by `run_index` where present).
fn grid_order(runs: &DataFrame) -> Vec<usize> {
    let mut order: Vec<usize> = (0..runs.height()).collect();
    if let Ok(idx) = runs
        .column(rc::RUN_INDEX)
        .and_then(|c| c.cast(&DataType::Int64))
    {
        let idx: Vec<Option<i64>> = idx.i64().map(|a| a.iter().collect()).unwrap_or_default();
        order.sort_by_key(|&i| idx.get(i).copied().flatten().unwrap_or(i as i64));
    }
    order
}

/// The divergence flag of every run (null: not diverged).
pub fn diverged_flags(runs: &DataFrame, path: &Path) -> Result<Vec<bool>> {
    Ok(runs
        .column(rc::DIVERGED)
        .map_err(|_| bad_file(path, format!("missing column `{}`", rc::DIVERGED)))?
        .bool()
        .map_err(|e| bad_file(path, format!("column `{}`: {e}", rc::DIVERGED)))?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect())
}

/// Compares the levels of `opts.by` on `opts.metric` in the runs of `plan`
/// (`runs` is runs.parquet, read from `path`).
pub fn compare(runs: &DataFrame, path: &Path, plan: &Plan, opts: &Options) -> Result<Comparison> {
    let (factor, baseline) = resolve(runs, plan, opts)?;
    let metric_bad = |e: PolarsError| bad_file(path, format!("column `{}`: {e}", opts.metric));
    let metric: Vec<Option<f64>> = runs
        .column(&opts.metric)
        .map_err(metric_bad)?
        .cast(&DataType::Float64)
        .map_err(metric_bad)?
        .f64()
        .map_err(metric_bad)?
        .iter()
        .collect();
    let diverged = diverged_flags(runs, path)?;
    let grouping = group_runs(runs, path, plan, Some(&factor.column))?;
    let side = |i: usize| Side {
        value: metric[i],
        diverged: diverged[i],
    };
    let mut rows = Vec::new();
    for g in &grouping.groups {
        for candidate in factor.levels.iter().filter(|l| **l != baseline) {
            let pairs: Vec<(Side, Side)> = g
                .pairs(candidate, &baseline)
                .into_iter()
                .map(|(c, b)| (side(c), side(b)))
                .collect();
            if pairs.is_empty() {
                continue;
            }
            let seed_key = format!(
                "{}|{}|{}|{}|{}",
                opts.metric,
                factor.column,
                g.key.join("|"),
                candidate,
                baseline
            );
            rows.push(Row {
                group: g.label.clone(),
                candidate: candidate.clone(),
                baseline: baseline.clone(),
                stats: pair_stats(&pairs, opts.higher_is_better, &seed_key),
                p_holm: f64::NAN,
                verdict: Verdict::NoDifference,
            });
        }
    }
    judge(&mut rows, opts.higher_is_better);
    Ok(Comparison {
        metric: opts.metric.clone(),
        by: factor.column,
        baseline,
        higher_is_better: opts.higher_is_better,
        group_columns: grouping.columns,
        rows,
    })
}

/// Holm-adjusts the rows' p-values and gives each its verdict.
fn judge(rows: &mut [Row], higher_is_better: bool) {
    let p: Vec<f64> = rows.iter().map(Row::p_value).collect();
    for (row, p_holm) in rows.iter_mut().zip(stats::holm(&p)) {
        row.p_holm = p_holm;
        let w = &row.stats.wilcoxon;
        // Lower is better: the candidate wins when the negative differences
        // carry more rank (T- > T+).
        let candidate_lower = w.r_minus > w.r_plus;
        let significant = p_holm < ALPHA; // false for NaN
        row.verdict = if !significant || w.r_minus == w.r_plus {
            Verdict::NoDifference
        } else if candidate_lower != higher_is_better {
            Verdict::Better
        } else {
            Verdict::Worse
        };
    }
}

/// Reads `DIR/runs.parquet` and compares.
pub fn compare_dir(dir: &Path, plan: &Plan, opts: &Options) -> Result<Comparison> {
    let runs = read_runs(dir)?;
    compare(&runs, &dir.join(crate::results::RUNS_FILE), plan, opts)
}

/// The output columns after the group columns.
pub const COLUMNS: [&str; 15] = [
    "candidate",
    "baseline",
    "n_pairs",
    "n_diverged_candidate",
    "n_diverged_baseline",
    "median_candidate",
    "median_baseline",
    "median_diff",
    "ci_low",
    "ci_high",
    "win_rate",
    "p_value",
    "p_holm",
    "verdict",
    "method",
];

fn method_name(m: Option<Method>) -> &'static str {
    match m {
        Some(Method::Exact) => "exact",
        Some(Method::Permutation) => "permutation",
        Some(Method::Asymptotic) => "normal",
        None => "",
    }
}

/// `v` with four significant digits (`1.235e-5` below 1e-3 or from 1e5).
pub fn sig(v: f64) -> String {
    if v.is_nan() {
        return "-".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.3e}")
    } else {
        let digits = (3 - a.log10().floor() as i32).max(0) as usize;
        format!("{v:.digits$}")
    }
}

/// A p-value for people: three significant digits, `< 1e-300` style never
/// needed since p >= 2^-50 under the exact test.
pub fn p_text(p: f64) -> String {
    if p.is_nan() {
        "-".into()
    } else if p < 1e-3 {
        format!("{p:.2e}")
    } else {
        format!("{p:.3}")
    }
}

impl Row {
    /// The cells after the group columns: `full` gives every float in
    /// Rust's shortest round-trip form (CSV), otherwise rounded for reading.
    pub fn cells(&self, full: bool) -> Vec<String> {
        let s = &self.stats;
        let f = |v: f64| {
            if full {
                if v.is_nan() {
                    String::new()
                } else {
                    v.to_string()
                }
            } else {
                sig(v)
            }
        };
        let p = |v: f64| if full { f(v) } else { p_text(v) };
        vec![
            self.candidate.clone(),
            self.baseline.clone(),
            s.n_pairs.to_string(),
            s.n_diverged_candidate.to_string(),
            s.n_diverged_baseline.to_string(),
            f(s.median_candidate),
            f(s.median_baseline),
            f(s.median_diff),
            f(s.ci_low),
            f(s.ci_high),
            if full {
                f(s.win_rate)
            } else if s.win_rate.is_nan() {
                "-".into()
            } else {
                format!("{:.3}", s.win_rate)
            },
            p(s.wilcoxon.p_value),
            p(self.p_holm),
            self.verdict.as_str().into(),
            method_name(s.wilcoxon.method).into(),
        ]
    }
}

fn json_number(v: f64) -> Value {
    if v.is_nan() {
        Value::Null
    } else if v.is_infinite() {
        Value::String(if v > 0.0 { "inf" } else { "-inf" }.into())
    } else {
        json!(v)
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl Comparison {
    /// Header names: group columns then [`COLUMNS`].
    pub fn header(&self) -> Vec<String> {
        self.group_columns
            .iter()
            .cloned()
            .chain(COLUMNS.iter().map(|s| s.to_string()))
            .collect()
    }

    /// One line saying what was compared.
    pub fn summary(&self) -> String {
        format!(
            "{} ({} is better) by {}, baseline {}: {} rows; median_diff = candidate - baseline with a 95% bootstrap CI ({} resamples); Wilcoxon signed-rank p, Holm-adjusted over the rows; verdict at alpha = {}",
            self.metric,
            if self.higher_is_better { "higher" } else { "lower" },
            self.by,
            self.baseline,
            self.rows.len(),
            stats::RESAMPLES,
            ALPHA
        )
    }

    /// An aligned table for a terminal (numbers right-aligned).
    pub fn to_table(&self) -> String {
        let header = self.header();
        let body: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.group.iter().cloned().chain(r.cells(false)).collect())
            .collect();
        let width: Vec<usize> = (0..header.len())
            .map(|j| {
                body.iter()
                    .map(|r| r[j].chars().count())
                    .chain([header[j].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let text_cols = self.group_columns.len() + 2;
        let verdict_col = header.len() - 2;
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (j, c) in cells.iter().enumerate() {
                let pad = width[j] - c.chars().count();
                if j > 0 {
                    s.push_str("  ");
                }
                if j < text_cols || j >= verdict_col {
                    s.push_str(c);
                    s.push_str(&" ".repeat(pad));
                } else {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                }
            }
            s.trim_end().to_string()
        };
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.summary());
        let _ = writeln!(out, "{}", line(&header));
        for r in &body {
            let _ = writeln!(out, "{}", line(r));
        }
        out
    }

    /// CSV with a header row; floats in shortest round-trip form, `inf`,
    /// `-inf`, and an empty field for NaN.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let row = |cells: Vec<String>| {
            cells
                .iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(",")
        };
        let _ = writeln!(out, "{}", row(self.header()));
        for r in &self.rows {
            let _ = writeln!(
                out,
                "{}",
                row(r.group.iter().cloned().chain(r.cells(true)).collect())
            );
        }
        out
    }

    /// JSON: the settings and one object per row; ±∞ as the strings `"inf"`
    /// and `"-inf"`, NaN as null.
    pub fn to_json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let s = &r.stats;
                let mut o = serde_json::Map::new();
                for (c, v) in self.group_columns.iter().zip(&r.group) {
                    o.insert(c.clone(), json!(v));
                }
                o.insert("candidate".into(), json!(r.candidate));
                o.insert("baseline".into(), json!(r.baseline));
                o.insert("n_pairs".into(), json!(s.n_pairs));
                o.insert("n_diverged_candidate".into(), json!(s.n_diverged_candidate));
                o.insert("n_diverged_baseline".into(), json!(s.n_diverged_baseline));
                o.insert("median_candidate".into(), json_number(s.median_candidate));
                o.insert("median_baseline".into(), json_number(s.median_baseline));
                o.insert("median_diff".into(), json_number(s.median_diff));
                o.insert("ci_low".into(), json_number(s.ci_low));
                o.insert("ci_high".into(), json_number(s.ci_high));
                o.insert("win_rate".into(), json_number(s.win_rate));
                o.insert("p_value".into(), json_number(s.wilcoxon.p_value));
                o.insert("p_holm".into(), json_number(r.p_holm));
                o.insert("verdict".into(), json!(r.verdict.as_str()));
                o.insert("method".into(), json!(method_name(s.wilcoxon.method)));
                Value::Object(o)
            })
            .collect();
        json!({
            "metric": self.metric,
            "by": self.by,
            "baseline": self.baseline,
            "higher_is_better": self.higher_is_better,
            "alpha": ALPHA,
            "resamples": stats::RESAMPLES,
            "group_columns": self.group_columns,
            "rows": rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::golden::{close, fixture, num, nums};

    fn flags(v: &Value) -> Vec<bool> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_bool().unwrap())
            .collect()
    }

    #[test]
    fn pair_statistics_match_numpy_and_scipy() {
        for case in fixture()["pairs"].as_array().unwrap() {
            let name = &case["name"];
            let (c, b) = (nums(&case["candidate"]), nums(&case["baseline"]));
            let (dc, db) = (
                flags(&case["candidate_diverged"]),
                flags(&case["baseline_diverged"]),
            );
            let pairs: Vec<(Side, Side)> = (0..c.len())
                .map(|i| {
                    (
                        Side {
                            value: Some(c[i]),
                            diverged: dc[i],
                        },
                        Side {
                            value: Some(b[i]),
                            diverged: db[i],
                        },
                    )
                })
                .collect();
            let hib = case["higher_is_better"].as_bool().unwrap();
            let s = pair_stats(&pairs, hib, "golden");
            assert_eq!(s.n_pairs, c.len());
            assert_eq!(s.n_diverged_candidate, dc.iter().filter(|&&x| x).count());
            assert_eq!(s.median_candidate, num(&case["median_candidate"]), "{name}");
            assert_eq!(s.median_baseline, num(&case["median_baseline"]), "{name}");
            assert_eq!(s.median_diff, num(&case["median_diff"]), "{name}");
            assert_eq!(s.win_rate, num(&case["win_rate"]), "{name}");
            let want = num(&case["p_value"]);
            assert!(
                close(s.wilcoxon.p_value, want),
                "{name}: {} vs {want}",
                s.wilcoxon.p_value
            );
            assert!(
                s.ci_low <= s.median_diff && s.median_diff <= s.ci_high || s.median_diff.is_nan(),
                "{name}: {s:?}"
            );
        }
    }

    /// Values equal up to rounding are ties. Ten real differences
    /// (−0.001·k) and 22 pairs at E = −0.0122 apart by 1e-16: the rounding
    /// pairs become zeros, and p is scipy's `wilcoxon(d)` with those 22
    /// zeros, 0.005062032126267864; left as they are, they would give
    /// 6.2e-7. A difference of 1e-9 relative is kept.
    #[test]
    fn rounding_level_differences_are_ties() {
        let side = |v: f64| Side {
            value: Some(v),
            diverged: false,
        };
        let e = -0.0122;
        let mut pairs: Vec<(Side, Side)> = (1..=10)
            .map(|k| (side(e - 0.001 * k as f64), side(e)))
            .collect();
        for k in 0..22 {
            let ulps = if k % 2 == 0 { 1.4e-16 } else { 1.0e-16 };
            pairs.push((side(e - ulps), side(e)));
        }
        let s = pair_stats(&pairs, false, "k");
        assert_eq!(s.n_pairs, 32);
        assert!(
            close(s.wilcoxon.p_value, 0.005062032126267864),
            "{}",
            s.wilcoxon.p_value
        );
        assert_eq!(s.win_rate, 10.0 / 32.0);
        let real = pair_stats(&[(side(e * (1.0 + 1e-9)), side(e))], false, "k");
        assert!(real.median_diff != 0.0);
    }

    #[test]
    fn null_metric_pairs_are_left_out() {
        let side = |v: Option<f64>, diverged| Side { value: v, diverged };
        let pairs = [
            (side(Some(1.0), false), side(Some(2.0), false)),
            (side(None, false), side(Some(2.0), false)),
            (side(None, true), side(Some(2.0), false)),
        ];
        let s = pair_stats(&pairs, false, "k");
        // The second pair has no candidate value; the third counts the
        // diverged candidate as +inf.
        assert_eq!((s.n_pairs, s.n_diverged_candidate), (2, 1));
        assert_eq!(s.win_rate, 0.5);
    }
}
