//! Parsing `[[claim]]` tables: the fields a table may have ([`RawClaim`],
//! documented by [`fields`]), the choice of the test form, the fields each
//! form refuses, the windows, the paired levels and `where`. The form's own
//! fields are parsed by its [`Form::parse`].

use super::form::{Cx, DefaultWhen, Form, Test};
use super::metric::{Stat, Window, TRACE_LABELS, TRACE_METRICS};
use super::{Claim, Expect, MinEffect, Paired, FORMS};
use crate::compare::{self, Factor};
use crate::config::plan::render_value;
use crate::config::{Plan, Reporter};
use crate::error::Result;
use toml::{Table, Value};

/// One `[[claim]]` table as written.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClaim {
    pub id: String,
    pub statement: String,
    pub metric: String,
    #[serde(default)]
    pub test: Option<String>,
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub candidate: Option<Value>,
    #[serde(default)]
    pub baseline: Option<Value>,
    #[serde(default)]
    pub expect: Option<String>,
    #[serde(default, rename = "where")]
    pub restrict: Option<Table>,
    #[serde(default)]
    pub window: Option<RawWindow>,
    #[serde(default)]
    pub relative_to: Option<RawWindow>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub tolerance: Option<f64>,
    #[serde(default)]
    pub equal_every: Option<u64>,
    #[serde(default)]
    pub min_effect: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    pub from: u64,
    pub to: u64,
    pub stat: String,
}

/// The fields every form takes.
const COMMON: [&str; 5] = ["id", "statement", "metric", "test", "where"];

/// The optional fields in the order a form's refusals are reported.
const OPTIONAL: [&str; 10] = [
    "target",
    "tolerance",
    "equal_every",
    "min_effect",
    "window",
    "relative_to",
    "by",
    "candidate",
    "baseline",
    "expect",
];

impl RawClaim {
    /// Whether an optional field is given.
    pub fn given(&self, field: &str) -> bool {
        match field {
            "by" => self.by.is_some(),
            "candidate" => self.candidate.is_some(),
            "baseline" => self.baseline.is_some(),
            "expect" => self.expect.is_some(),
            "window" => self.window.is_some(),
            "relative_to" => self.relative_to.is_some(),
            "target" => self.target.is_some(),
            "tolerance" => self.tolerance.is_some(),
            "equal_every" => self.equal_every.is_some(),
            "min_effect" => self.min_effect.is_some(),
            _ => false,
        }
    }
}

/// The fields of a `[[claim]]` table: (field, meaning). In a meaning,
/// `{notes}` stands for the forms' [`Form::notes`] on the field (joined by
/// the third element) and `{tests}` for the list of forms.
const FIELDS: &[(&str, &str, &str)] = &[
    ("id", "a unique name (`C3`, `C12a`)", ""),
    ("statement", "the claim in words", ""),
    ("metric", "a numeric runs.parquet column; with `window` a trace.parquet column (`basin` with stat `changes` only); {notes}", "; "),
    ("test", "{tests}", ""),
    ("by", "the factor whose levels are compared, as in `valley compare --by`", ""),
    ("candidate, baseline", "two levels of `by`; runs are paired by seed within each group of the other factors", ""),
    ("expect", "`lower` or `higher`: the candidate against the baseline", ""),
    ("where", "`{ factor = level, ... }`: keep only the groups with these levels", ""),
    ("window", "`{ from, to, stat }`: the trace metric over steps from <= step < to, per run: `mean`, `max`, `min` or `changes` (how often the value differs from the previous traced step's); named `metric.stat@from..to`", ""),
    ("relative_to", "a second window of the same run; the metric is the ratio window / relative_to (`metric.stat@a..b/stat@c..d`)", ""),
    ("target", "an expression: numbers, numeric runs.parquet columns and numeric sweep axes (`final_lr`, `optimizer.momentum`), `+ - * / ^` and parentheses", ""),
    ("tolerance", "relative: {notes}", ", "),
    ("equal_every", "k: at the steps t with t mod k = 0 the two levels must agree within the tolerance", ""),
    ("min_effect", "the smallest effect that counts: a number (the median paired difference must be at least this large, in the metric's units) or a percentage string (`\"5%\"`: of the baseline's median in the group); a group whose effect is smaller neither supports nor contradicts the claim, however small its p-value", ""),
];

/// The fields of a `[[claim]]` table: (field, which forms take it,
/// meaning), printed by `valley reference`.
pub fn fields() -> Vec<(String, String, String)> {
    FIELDS
        .iter()
        .map(|(field, meaning, sep)| {
            let first = field.split(", ").next().unwrap_or(*field);
            let takes = if COMMON.contains(&first) {
                "all".to_string()
            } else {
                let forms: Vec<&str> = FORMS
                    .iter()
                    .filter(|f| f.takes().contains(&first))
                    .map(|f| f.name())
                    .collect();
                let with = if first == "relative_to" {
                    " (with `window`)"
                } else {
                    ""
                };
                format!("{}{with}", forms.join(", "))
            };
            let notes: Vec<&str> = FORMS
                .iter()
                .flat_map(|f| f.notes().iter())
                .filter(|(f, _)| f == field)
                .map(|(_, n)| *n)
                .collect();
            let meaning = meaning
                .replace("{notes}", &notes.join(*sep))
                .replace("{tests}", &form_list());
            (field.to_string(), takes, meaning)
        })
        .collect()
}

/// "`wilcoxon` (default), `mcnemar`, … or `every_step`".
fn form_list() -> String {
    let names: Vec<String> = FORMS
        .iter()
        .map(|f| match f.default_when() {
            None => format!("`{}`", f.name()),
            Some(DefaultWhen::Always) => format!("`{}` (default)", f.name()),
            Some(DefaultWhen::Given(field)) => {
                format!("`{}` (default when `{field}` is given)", f.name())
            }
        })
        .collect();
    or_list(&names)
}

/// "a, b, c or d".
fn or_list(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
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
        let cx = Cx {
            rep,
            plan,
            prefix: format!("claim[{i}]"),
        };
        let raw: RawClaim = rep.parse(&cx.prefix, Value::Table(t.clone()))?;
        if out.iter().any(|c| c.id == raw.id) {
            return Err(cx.at("id", format!("duplicate claim id `{}`", raw.id)));
        }
        out.push(parse_one(&cx, &factors, raw)?);
    }
    Ok(out)
}

/// One claim table: its form, the fields the form refuses, the windows,
/// the metric, the form's own fields, the paired levels and `where`.
fn parse_one(cx: &Cx, factors: &[Factor], raw: RawClaim) -> Result<Claim> {
    let form = form_of(cx, &raw)?;
    for field in OPTIONAL {
        let taken =
            form.takes().contains(&field) && (field != "relative_to" || raw.window.is_some());
        if raw.given(field) && !taken {
            return Err(cx.at(
                field,
                format!("a `{}` claim does not take `{field}`", form.name()),
            ));
        }
    }
    let window = match &raw.window {
        None => None,
        Some(w) => Some(parse_window(cx, "window", w, &raw.metric)?),
    };
    let relative_to = match &raw.relative_to {
        None => None,
        Some(w) => Some(parse_window(cx, "relative_to", w, &raw.metric)?),
    };
    form.check_metric(cx, &raw, window.is_some())?;
    if let Some(t) = raw.tolerance {
        if !(t.is_finite() && t >= 0.0) {
            return Err(cx.at(
                "tolerance",
                format!("must be a finite number >= 0, got {t}"),
            ));
        }
    }
    let test = Test::new(form, form.parse(cx, &raw)?);
    let paired = if form.takes().contains(&"by") {
        Some(parse_paired(cx, factors, form, &raw)?)
    } else {
        None
    };
    let restrict = parse_restrict(cx, factors, &raw, paired.as_ref())?;
    let min_effect = raw
        .min_effect
        .as_ref()
        .map(|v| parse_min_effect(cx, v))
        .transpose()?;
    Ok(Claim {
        id: raw.id,
        statement: raw.statement,
        metric: raw.metric,
        test,
        paired,
        restrict,
        window,
        relative_to,
        min_effect,
    })
}

/// `min_effect`: a finite number >= 0, or a percentage string `"p%"`.
fn parse_min_effect(cx: &Cx, v: &Value) -> Result<MinEffect> {
    let bad = || {
        cx.at(
            "min_effect",
            format!("must be a number >= 0 (absolute) or a string \"p%\" (relative to the baseline's median), got {v}"),
        )
    };
    let m = match v {
        Value::Float(x) => MinEffect::Absolute(*x),
        Value::Integer(i) => MinEffect::Absolute(*i as f64),
        Value::String(s) => {
            let p: f64 = s
                .trim()
                .strip_suffix('%')
                .ok_or_else(bad)?
                .trim()
                .parse()
                .map_err(|_| bad())?;
            MinEffect::Relative(p / 100.0)
        }
        _ => return Err(bad()),
    };
    match m {
        MinEffect::Absolute(x) | MinEffect::Relative(x) if x.is_finite() && x >= 0.0 => Ok(m),
        _ => Err(bad()),
    }
}

/// The form named by `test`, or the default one.
fn form_of(cx: &Cx, raw: &RawClaim) -> Result<&'static dyn Form> {
    let default = || {
        let given = FORMS.iter().find(
            |f| matches!(f.default_when(), Some(DefaultWhen::Given(field)) if raw.given(field)),
        );
        given
            .or_else(|| {
                FORMS
                    .iter()
                    .find(|f| f.default_when() == Some(DefaultWhen::Always))
            })
            .map_or(String::new(), |f| f.name().to_string())
    };
    let name = raw.test.clone().unwrap_or_else(default);
    FORMS
        .iter()
        .copied()
        .find(|f| f.name() == name)
        .ok_or_else(|| {
            let names: Vec<String> = FORMS.iter().map(|f| format!("\"{}\"", f.name())).collect();
            cx.at(
                "test",
                format!("must be {}, got \"{name}\"", or_list(&names)),
            )
        })
}

fn factor_names(factors: &[Factor]) -> String {
    factors
        .iter()
        .map(|f| f.column.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `by`, `candidate`, `baseline` and `expect` of a paired form.
fn parse_paired(cx: &Cx, factors: &[Factor], form: &dyn Form, raw: &RawClaim) -> Result<Paired> {
    let missing = |field: &str| {
        cx.at(
            field,
            format!(
                "missing: a `{}` claim needs by, candidate, baseline and expect",
                form.name()
            ),
        )
    };
    let by = raw.by.as_ref().ok_or_else(|| missing("by"))?;
    let Some(factor) = factors.iter().find(|f| &f.column == by) else {
        return Err(cx.at(
            "by",
            format!(
                "`{by}` is not a factor of this sweep; factors: {}",
                factor_names(factors)
            ),
        ));
    };
    let level = |field: &str, v: &Value| {
        let s = render_value(v);
        if factor.levels.contains(&s) {
            Ok(s)
        } else {
            Err(cx.at(
                field,
                format!(
                    "`{s}` is not a level of `{}`; levels: {}",
                    factor.column,
                    factor.levels.join(", ")
                ),
            ))
        }
    };
    let cv = raw.candidate.as_ref().ok_or_else(|| missing("candidate"))?;
    let bv = raw.baseline.as_ref().ok_or_else(|| missing("baseline"))?;
    let candidate = level("candidate", cv)?;
    let baseline = level("baseline", bv)?;
    if candidate == baseline {
        return Err(cx.at(
            "candidate",
            format!("candidate and baseline are the same level `{candidate}`"),
        ));
    }
    let expect = match raw.expect.as_deref() {
        Some("lower") => Expect::Lower,
        Some("higher") => Expect::Higher,
        Some(other) => {
            return Err(cx.at(
                "expect",
                format!("must be \"lower\" or \"higher\", got \"{other}\""),
            ))
        }
        // A form without a direction (paired_equivalence) takes no expect.
        None if !form.takes().contains(&"expect") => Expect::Lower,
        None => return Err(missing("expect")),
    };
    Ok(Paired {
        by: factor.column.clone(),
        candidate,
        baseline,
        expect,
    })
}

/// The `where` table: (factor, level) pairs of factors other than `by`.
fn parse_restrict(
    cx: &Cx,
    factors: &[Factor],
    raw: &RawClaim,
    paired: Option<&Paired>,
) -> Result<Vec<(String, String)>> {
    let mut restrict = Vec::new();
    for (k, v) in raw.restrict.iter().flatten() {
        let Some(f) = factors.iter().find(|f| &f.column == k) else {
            return Err(cx.at(
                "where",
                format!(
                    "`{k}` is not a factor of this sweep; factors: {}",
                    factor_names(factors)
                ),
            ));
        };
        if paired.is_some_and(|pp| pp.by == f.column) {
            return Err(cx.at("where", format!("`{k}` is the claim's own factor (`by`)")));
        }
        // `where` keys may be quoted dotted names; report at the table.
        let s = render_value(v);
        if !f.levels.contains(&s) {
            return Err(cx.at(
                "where",
                format!(
                    "`{s}` is not a level of `{k}`; levels: {}",
                    f.levels.join(", ")
                ),
            ));
        }
        restrict.push((k.clone(), s));
    }
    Ok(restrict)
}

/// Checks a `window` (or `relative_to`) table: a trace metric, 0 <= from <
/// to <= steps, and at least one traced step inside.
fn parse_window(cx: &Cx, field: &str, w: &RawWindow, metric: &str) -> Result<Window> {
    let stat = match w.stat.as_str() {
        "mean" => Stat::Mean,
        "max" => Stat::Max,
        "min" => Stat::Min,
        "changes" => Stat::Changes,
        other => {
            return Err(cx.at(
                field,
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
        return Err(cx.at("metric", why));
    }
    let steps = cx.plan.settings.steps;
    if w.from >= w.to || w.to > steps {
        return Err(cx.at(
            field,
            format!(
                "needs from < to <= steps ({steps}), got from = {}, to = {}",
                w.from, w.to
            ),
        ));
    }
    let every = cx.plan.settings.trace_every;
    let first_multiple = w.from.div_ceil(every).saturating_mul(every);
    if first_multiple >= w.to && w.to < steps {
        return Err(cx.at(
            field,
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
