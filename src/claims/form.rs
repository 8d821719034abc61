//! The trait of a claim's test form, and what the shared parser and driver
//! hand it: a form is one file that says what it is called, which fields it
//! takes, its rule, how it parses its own fields, how it tests a group of
//! runs, and how the report captions its effect and figure.

use super::{Claim, Expect, RawClaim, METRICS};
use crate::compare::{self, Group};
use crate::config::{Plan, Reporter};
use crate::error::{Result, ValleyError};
use crate::plot::render::Panel;
use polars::prelude::DataFrame;
use std::any::Any;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// When a form applies without `test` being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultWhen {
    /// Unless another form's condition holds.
    Always,
    /// When this field is given (it wins over [`DefaultWhen::Always`]).
    Given(&'static str),
}

/// A test form: everything that differs between `wilcoxon`, `mcnemar`,
/// `equivalence`, `every_step`, … The driver calls [`Form::test`] on the
/// claim's groups, Holm-adjusts each row's p-values over the groups, asks
/// [`Form::evidence`] what each row says and applies the verdict rule.
pub trait Form: Sync {
    /// The name written as `test = "…"`.
    fn name(&self) -> &'static str;

    /// When the form is chosen without `test`.
    fn default_when(&self) -> Option<DefaultWhen> {
        None
    }

    /// The optional fields it takes (every form takes `id`, `statement`,
    /// `metric`, `test` and `where`).
    fn takes(&self) -> &'static [&'static str];

    /// What the form adds to the meaning of a shared field in `valley
    /// reference`: (field, note).
    fn notes(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// The verdict rule, printed by `valley reference`.
    fn rule(&self) -> &'static str;

    /// Checks `metric` (after the windows are parsed). By default a
    /// numeric runs.parquet column unless `windowed`.
    fn check_metric(&self, cx: &Cx, raw: &RawClaim, windowed: bool) -> Result<()> {
        if !windowed && !METRICS.contains(&raw.metric.as_str()) {
            return Err(cx.at(
                "metric",
                format!(
                    "`{}` is not a numeric column of runs.parquet; metrics: {}",
                    raw.metric,
                    METRICS.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// Parses its own fields into its parameters (a `tolerance`, when
    /// given, is already checked finite and >= 0).
    fn parse(&self, _cx: &Cx, _raw: &RawClaim) -> Result<Params> {
        Ok(Arc::new(()))
    }

    /// What the claim expects, in words.
    fn expectation(&self, claim: &Claim) -> String {
        paired_expectation(claim, "")
    }

    /// The candidate, baseline and expect cells of the verdict table.
    fn summary(&self, claim: &Claim) -> [String; 3] {
        match &claim.paired {
            Some(p) => [
                p.candidate.clone(),
                p.baseline.clone(),
                p.expect.as_str().to_string(),
            ],
            None => ["-".into(), "-".into(), "-".into()],
        }
    }

    /// The evidence table's columns after the group columns: the cells of
    /// [`GroupRow::cells`], then a (p, p_holm) pair per p-value.
    fn header(&self) -> &'static [&'static str];

    /// Tests each group of the claim (restricted by `where`): one row per
    /// group that has evidence, in group order.
    fn test(&self, data: &Data, groups: &[&Group]) -> Result<Vec<GroupRow>>;

    /// What a row says once its p-values are Holm-adjusted (`p_holm`). By
    /// default a paired test of one p-value whose direction is
    /// [`GroupRow::lower`].
    fn evidence(&self, claim: &Claim, row: &GroupRow, p_holm: &[f64]) -> Evidence {
        let want_lower = claim.paired().expect == Expect::Lower;
        Evidence::Tested {
            p_for: p_holm[0],
            agrees: row.lower == Some(want_lower),
            p_against: (row.lower == Some(!want_lower)).then_some(p_holm[0]),
        }
    }

    /// The effect in words (the report's `effect` line).
    fn effect_caption(&self) -> &'static str;

    /// How to read the figure (the report's caption).
    fn figure_caption(&self) -> &'static str;
}

/// A form's parsed parameters (its own type, see [`Test::params`]).
pub type Params = Arc<dyn Any + Send + Sync>;

/// The test of a claim: its form and the parameters it parsed.
#[derive(Clone)]
pub struct Test {
    pub form: &'static dyn Form,
    params: Params,
}

impl Test {
    pub fn new(form: &'static dyn Form, params: Params) -> Self {
        Self { form, params }
    }

    pub fn name(&self) -> &'static str {
        self.form.name()
    }

    /// The form's own parameters.
    pub fn params<T: Any>(&self) -> &T {
        self.params
            .downcast_ref()
            .expect("a form reads the parameters it parsed")
    }
}

impl fmt::Debug for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Test({})", self.name())
    }
}

/// Where a claim table is parsed: errors name `claim[i].field` and its line.
pub struct Cx<'a> {
    pub rep: &'a Reporter<'a>,
    pub plan: &'a Plan,
    /// `claim[i]`.
    pub prefix: String,
}

impl Cx<'_> {
    /// An invalid-input error at the claim's `field`.
    pub fn at(&self, field: &str, message: String) -> ValleyError {
        self.rep.at(&format!("{}.{field}", self.prefix), message)
    }
}

/// What a form's test reads: the claim and the results.
pub struct Data<'a> {
    pub claim: &'a Claim,
    /// runs.parquet, read from `path`.
    pub runs: &'a DataFrame,
    /// The results folder.
    pub dir: &'a Path,
    pub path: &'a Path,
    /// The groups' label columns.
    pub columns: &'a [String],
}

impl Data<'_> {
    /// The claim's metric per run, in the row order of `runs`.
    pub fn values(&self) -> Result<Vec<Option<f64>>> {
        super::metric::run_values(self.runs, self.dir, self.path, self.claim)
    }

    /// Whether each run diverged.
    pub fn diverged(&self) -> Result<Vec<bool>> {
        compare::diverged_flags(self.runs, self.path)
    }

    /// A column rendered as level text.
    pub fn rendered(&self, column: &str) -> Result<Vec<String>> {
        compare::rendered(self.runs, column, self.path)
    }

    /// The title of a group's panel.
    pub fn panel_title(&self, label: &[String]) -> String {
        super::driver::panel_title(self.columns, label)
    }
}

/// One group's evidence.
pub struct GroupRow {
    /// The group's label (values of [`Data::columns`]).
    pub label: Vec<String>,
    /// Pairs (runs for `equivalence`) behind the row.
    pub n: usize,
    /// The cells after the group columns and before the p-values.
    pub cells: Vec<String>,
    /// The p-values, each Holm-adjusted over the claim's rows and shown as
    /// p then p_holm.
    pub p: Vec<f64>,
    /// Paired forms: whether the candidate is lower (`None`: a tie).
    pub lower: Option<bool>,
    /// A check's evidence, decided without p-values (`None` for tests).
    pub check: Option<Evidence>,
    /// The effect and its interval (NaN where there is none).
    pub effect: [f64; 3],
    /// The baseline's median the effect is measured against (NaN where a
    /// form has none): the scale of a relative `min_effect`.
    pub baseline: f64,
    /// The group's panel of the figure.
    pub panel: Panel,
}

/// What a row says about the claim.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Evidence {
    /// A test: the Holm p-value for the expectation, whether the row leans
    /// the expected way, and the Holm p-value against it (`None`: the row
    /// does not lean against it).
    Tested {
        p_for: f64,
        agrees: bool,
        p_against: Option<f64>,
    },
    /// A check without sampling error: whether it failed, whether anything
    /// was checked, and the worst margin (the effect).
    Checked {
        failed: bool,
        checked: bool,
        margin: Option<f64>,
    },
}

/// "by = candidate has lower metric than by = baseline" and `suffix`.
pub fn paired_expectation(claim: &Claim, suffix: &str) -> String {
    let p = claim.paired();
    format!(
        "{} = {} has {} {} than {} = {}{suffix}",
        p.by,
        p.candidate,
        p.expect.as_str(),
        claim.metric_label(),
        p.by,
        p.baseline,
    )
}
