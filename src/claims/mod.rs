//! Claims in sweep files (`[[claim]]` tables) and their verdicts.
//!
//! A claim names a `metric` and a `test`; the verdict is computed from the
//! sweep's own results, never written by hand. Each test form is one file
//! implementing [`Form`] (its name, fields, rule, parsing, per-group test
//! and captions), registered once in [`FORMS`]:
//!
//! - `wilcoxon` (the default, [`wilcoxon`]): the paired comparison of
//!   [`crate::compare`], one row per group, Holm-adjusted among the claim's
//!   rows (α = [`compare::ALPHA`]);
//! - `mcnemar` ([`mcnemar`]): the exact McNemar test on the paired
//!   divergence flags;
//! - `equivalence` (the default when `target` is given, [`equivalence`]):
//!   agreement with a formula by two one-sided tests (TOST);
//! - `every_step` ([`every_step`]): a property at every traced step of
//!   every pair.
//!
//! One driver ([`driver`]) runs every form: restrict the groups (`where`),
//! test each group, Holm-adjust the p-values over the claim's groups, give
//! the verdict, the evidence table and the figure. Runs are grouped and
//! paired by seed as in `valley compare` ([`compare::group_runs`]).
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
//! the same run (a within-run comparison); see [`metric`].

mod driver;
mod expr;
mod form;
mod metric;
mod parse;
pub mod verdicts;

pub use expr::Expr;
pub use form::{Cx, Data, DefaultWhen, Evidence, Form, GroupRow, Test};
pub use metric::{Stat, Window, TRACE_LABELS, TRACE_METRICS};
pub use parse::{fields, parse, RawClaim};
pub use verdicts::{to_table, VERDICT_COLUMNS};

use crate::compare;
use crate::config::{Plan, Reporter};
use crate::error::Result;
use crate::plot::render::Figure;
use crate::schema::runs as rc;
use std::path::Path;

/// Declares the test forms: each `module => Type` is a file of this folder
/// and its [`Form`], listed in [`FORMS`] in this order (the order of
/// `valley reference` and of the `test` error message).
macro_rules! forms {
    ($($module:ident => $form:ident),* $(,)?) => {
        $(pub mod $module;)*
        /// The test forms, in the order `valley reference` lists them.
        pub static FORMS: &[&dyn Form] = &[$(&$module::$form),*];
    };
}

forms! {
    wilcoxon => Wilcoxon,
    mcnemar => McNemar,
    equivalence => Equivalence,
    paired_equivalence => PairedEquivalence,
    every_step => EveryStep,
}

/// The numeric columns of runs.parquet a claim may name as its metric.
pub const METRICS: [&str; 20] = [
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
    rc::SPECTRAL_RADIUS,
    rc::CYCLE_SPECTRAL_RADIUS,
];

/// The rule of each test form, printed by `valley reference`.
pub fn tests() -> Vec<(&'static str, &'static str)> {
    FORMS.iter().map(|f| (f.name(), f.rule())).collect()
}

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

/// The two levels a paired claim compares.
#[derive(Debug, Clone, PartialEq)]
pub struct Paired {
    pub by: String,
    pub candidate: String,
    pub baseline: String,
    pub expect: Expect,
}

/// A validated claim: its factor, levels and restrictions exist in the plan.
#[derive(Debug, Clone)]
pub struct Claim {
    pub id: String,
    pub statement: String,
    pub metric: String,
    pub test: Test,
    /// `Some` for the forms that take `by` (every form but `equivalence`).
    pub paired: Option<Paired>,
    /// (factor, level) pairs a group must match.
    pub restrict: Vec<(String, String)>,
    /// `Some`: `metric` is a trace.parquet column summarised over a window.
    pub window: Option<Window>,
    /// `Some`: the window's statistic is divided by this one's.
    pub relative_to: Option<Window>,
    /// The smallest effect that counts (`min_effect`).
    pub min_effect: Option<MinEffect>,
}

/// A practical-significance margin: a group's effect (median paired
/// difference) must reach it to support or contradict a claim.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MinEffect {
    /// In the metric's units.
    Absolute(f64),
    /// A fraction of the group's baseline median (`"5%"` is 0.05).
    Relative(f64),
}

impl MinEffect {
    /// Whether `effect` counts, against a baseline median of `baseline`.
    pub fn reached(&self, effect: f64, baseline: f64) -> bool {
        let margin = match *self {
            MinEffect::Absolute(m) => m,
            MinEffect::Relative(r) => r * baseline.abs(),
        };
        effect.abs() >= margin
    }
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
        self.test.form.expectation(self)
    }

    /// The paired levels; the forms that call this take `by`.
    pub(crate) fn paired(&self) -> &Paired {
        self.paired
            .as_ref()
            .expect("parse gives every form that takes `by` its levels")
    }
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
#[derive(Debug, Clone)]
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
    /// The deciding row: its group (`factor = level, …`) and its pairs.
    pub group: String,
    pub group_pairs: usize,
    /// The deciding row's p_holm (NaN for `every_step`, a check without
    /// sampling error).
    pub p_holm: f64,
    /// The figure that shows the evidence.
    pub figure: Figure,
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
    let runs = compare::read_runs(dir)?;
    let path = dir.join(crate::results::RUNS_FILE);
    claims
        .iter()
        .map(|c| driver::evaluate(c, &runs, dir, &path, plan))
        .collect()
}
