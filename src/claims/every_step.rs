//! `every_step`: a property at every traced step (needs `trace_every =
//! 1`): in every pair of runs (as in `wilcoxon`), the relative margin
//! r = (candidate − baseline)/|baseline| of the trace metric must be
//! ≥ −tolerance (`higher`; ≤ tolerance for `lower`) at every common step,
//! and |r| ≤ tolerance at the steps t with t mod `equal_every` = 0. A
//! check without sampling error: no p-value; the effect is the worst
//! margin.

use super::driver::tol_text;
use super::form::{Cx, Data, Evidence, Form, GroupRow, Params};
use super::metric::{read_trace, run_ids, TRACE_METRICS};
use super::{Claim, Expect, RawClaim};
use crate::compare::{self, Group};
use crate::error::Result;
use crate::plot::render::{color, Panel, Series, Style};
use crate::schema::runs as rc;
use std::collections::HashMap;
use std::sync::Arc;

pub struct EveryStep;

/// The parameters of an `every_step` claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Margin {
    /// Relative tolerance on the margin.
    pub tolerance: f64,
    /// Steps that are multiples of this must agree within the tolerance.
    pub equal_every: Option<u64>,
}

/// A step's (value, step, seed).
type At = Option<(f64, u64, String)>;

/// The check of one group.
#[derive(Default)]
struct Check {
    n: usize,
    steps: usize,
    failures: usize,
    /// (margin, step, seed) of the worst step.
    worst: At,
    /// (|r|, step, seed) of the worst boundary step, and how many.
    worst_equal: At,
    equal_steps: usize,
    curves: Vec<Vec<(f64, f64)>>,
}

impl Form for EveryStep {
    fn name(&self) -> &'static str {
        "every_step"
    }

    fn takes(&self) -> &'static [&'static str] {
        &[
            "by",
            "candidate",
            "baseline",
            "expect",
            "tolerance",
            "equal_every",
        ]
    }

    fn notes(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("metric", "a trace column for `every_step`"),
            ("tolerance", "the margin for `every_step` (default 0)"),
        ]
    }

    fn rule(&self) -> &'static str {
        "needs `trace_every = 1`; in every pair, at every common traced step, the relative margin (candidate − baseline)/\\|baseline\\| must be >= −tolerance (`higher`) or <= tolerance (`lower`): supported when no step fails, contradicted when one does; the evidence names the worst step"
    }

    fn check_metric(&self, cx: &Cx, raw: &RawClaim, _windowed: bool) -> Result<()> {
        if !TRACE_METRICS.contains(&raw.metric.as_str()) {
            return Err(cx.at(
                "metric",
                format!(
                    "`{}` is not a numeric column of trace.parquet (an `every_step` claim); trace metrics: {}",
                    raw.metric,
                    TRACE_METRICS.join(", ")
                ),
            ));
        }
        if cx.plan.settings.trace_every != 1 {
            return Err(cx.at(
                "test",
                format!(
                    "`every_step` needs every step traced (trace_every = 1), got trace_every = {}",
                    cx.plan.settings.trace_every
                ),
            ));
        }
        Ok(())
    }

    fn parse(&self, cx: &Cx, raw: &RawClaim) -> Result<Params> {
        if raw.equal_every == Some(0) {
            return Err(cx.at("equal_every", "must be >= 1".into()));
        }
        Ok(Arc::new(Margin {
            tolerance: raw.tolerance.unwrap_or(0.0),
            equal_every: raw.equal_every,
        }))
    }

    fn expectation(&self, claim: &Claim) -> String {
        let m: &Margin = claim.test.params();
        let p = claim.paired();
        let mut s = format!(
            "{} = {} has {} {} than {} = {} at every traced step (relative tolerance {})",
            p.by,
            p.candidate,
            if p.expect == Expect::Higher {
                "higher or equal"
            } else {
                "lower or equal"
            },
            claim.metric_label(),
            p.by,
            p.baseline,
            tol_text(m.tolerance)
        );
        if let Some(k) = m.equal_every {
            s.push_str(&format!(", equal at the multiples of {k}"));
        }
        s
    }

    fn header(&self) -> &'static [&'static str] {
        &[
            "n_pairs",
            "steps checked",
            "failing steps",
            "worst margin",
            "at step (seed)",
            "boundary steps",
            "worst |relative difference| at a boundary",
            "at step (seed)",
        ]
    }

    fn test(&self, data: &Data, groups: &[&Group]) -> Result<Vec<GroupRow>> {
        let m: &Margin = data.claim.test.params();
        let p = data.claim.paired();
        let sign = if p.expect == Expect::Higher {
            1.0
        } else {
            -1.0
        };
        let trace = read_trace(data.dir, &data.claim.metric)?;
        let ids = run_ids(data.runs, data.path)?;
        let seed = data.rendered(rc::SEED)?;
        let mut rows = Vec::new();
        for g in groups {
            let pairs = g.pairs(&p.candidate, &p.baseline);
            if pairs.is_empty() {
                continue;
            }
            let mut r = Check {
                n: pairs.len(),
                ..Check::default()
            };
            for (i, j) in &pairs {
                let (Some(c), Some(b)) = (trace.get(&ids[*i]), trace.get(&ids[*j])) else {
                    continue;
                };
                let curve = r.pair(m, sign, c, b, &seed[*i]);
                if r.curves.len() < 4 {
                    r.curves.push(curve);
                }
            }
            rows.push(r.row(data, g, m.tolerance));
        }
        Ok(rows)
    }

    fn evidence(&self, _claim: &Claim, row: &GroupRow, _p_holm: &[f64]) -> Evidence {
        row.check.expect("every `every_step` row is a check")
    }

    fn effect_caption(&self) -> &'static str {
        "worst relative margin in the expected direction"
    }

    fn figure_caption(&self) -> &'static str {
        "the relative margin at every traced step for the first pairs; a step below the dashed line fails."
    }
}

impl Check {
    /// Checks one pair, candidate `c` against baseline `b` (traced
    /// (step, value)); the curve of its margins.
    fn pair(
        &mut self,
        m: &Margin,
        sign: f64,
        c: &[(u64, Option<f64>)],
        b: &[(u64, Option<f64>)],
        seed: &str,
    ) -> Vec<(f64, f64)> {
        let tol = m.tolerance;
        let base: HashMap<u64, f64> = b.iter().filter_map(|(t, v)| Some((*t, (*v)?))).collect();
        let mut curve = Vec::new();
        for (t, v) in c {
            let (Some(cv), Some(bv)) = (v, base.get(t)) else {
                continue;
            };
            let rel = (cv - bv) / bv.abs();
            let margin = sign * rel;
            self.steps += 1;
            let mut failed = margin.is_nan() || margin < -tol;
            if self
                .worst
                .as_ref()
                .is_none_or(|w| margin < w.0 || margin.is_nan())
            {
                self.worst = Some((margin, *t, seed.to_string()));
            }
            if m.equal_every.is_some_and(|k| t % k == 0) {
                self.equal_steps += 1;
                let off = rel.abs();
                failed |= off.is_nan() || off > tol;
                if self
                    .worst_equal
                    .as_ref()
                    .is_none_or(|w| off > w.0 || off.is_nan())
                {
                    self.worst_equal = Some((off, *t, seed.to_string()));
                }
            }
            self.failures += usize::from(failed);
            curve.push((*t as f64, margin));
        }
        curve
    }

    fn row(self, data: &Data, g: &Group, tol: f64) -> GroupRow {
        let sig = compare::sig;
        let at = |w: &At| {
            w.as_ref()
                .map_or("-".into(), |w| format!("{} ({})", w.1, w.2))
        };
        let worst = self.worst.as_ref().map_or(f64::NAN, |w| w.0);
        GroupRow {
            label: g.label.clone(),
            n: self.n,
            cells: vec![
                self.n.to_string(),
                self.steps.to_string(),
                self.failures.to_string(),
                self.worst.as_ref().map_or("-".into(), |w| sig(w.0)),
                at(&self.worst),
                self.equal_steps.to_string(),
                self.worst_equal.as_ref().map_or("-".into(), |w| sig(w.0)),
                at(&self.worst_equal),
            ],
            p: Vec::new(),
            lower: None,
            check: Some(Evidence::Checked {
                failed: self.failures > 0,
                checked: self.steps > 0,
                margin: self.worst.as_ref().map(|w| w.0),
            }),
            effect: [worst, f64::NAN, f64::NAN],
            baseline: f64::NAN,
            panel: self.panel(data, g, tol),
        }
    }

    /// The margins of the first pairs with the −tolerance line.
    fn panel(&self, data: &Data, g: &Group, tol: f64) -> Panel {
        let p = data.claim.paired();
        let direction = if p.expect == Expect::Higher {
            format!("({} − {})/|{}|", p.candidate, p.baseline, p.baseline)
        } else {
            format!("({} − {})/|{}|", p.baseline, p.candidate, p.baseline)
        };
        let mut panel = Panel::new(
            format!(
                "{}: {} failing of {} steps",
                data.panel_title(&g.label),
                self.failures,
                self.steps
            ),
            "step",
            format!("relative margin of {}: {direction}", data.claim.metric),
        );
        let last = self
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
        for (k, c) in self.curves.iter().enumerate() {
            panel.series.push(Series::new(
                (k == 0).then(|| "one pair (first 4 shown)".to_string()),
                color(0),
                Style::Line { width: 2 },
                c.clone(),
            ));
        }
        panel
    }
}
