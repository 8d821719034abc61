//! `paired_equivalence`: on `metric`, level `candidate` of factor `by` is
//! within ±`tolerance` (relative) of level `baseline`, pair by pair (same
//! seed, same other factors), in every group. Per pair, the relative
//! difference e = (candidate − baseline)/|baseline|; per group, two
//! one-sided Wilcoxon signed-rank tests (TOST, Schuirmann 1987;
//! [`stats::tost`]) as in `equivalence`, Holm-adjusted over the groups. The
//! effect is the median relative difference with its bootstrap interval.
//! "WSD's final loss is within 5 % of cosine's" is this form.

use super::driver::tol_text;
use super::equivalence::{panel, Names, Tost};
use super::form::{Cx, Data, Evidence, Form, GroupRow, Params};
use super::{Claim, RawClaim};
use crate::compare::{self, Group};
use crate::error::Result;
use crate::stats;
use std::sync::Arc;

pub struct PairedEquivalence;

/// The tolerance of a `paired_equivalence` claim.
struct Tolerance(f64);

impl Form for PairedEquivalence {
    fn name(&self) -> &'static str {
        "paired_equivalence"
    }

    fn takes(&self) -> &'static [&'static str] {
        &[
            "by",
            "candidate",
            "baseline",
            "tolerance",
            "window",
            "relative_to",
        ]
    }

    fn notes(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "tolerance",
            "\\|candidate − baseline\\|/\\|baseline\\| per pair for `paired_equivalence` (required)",
        )]
    }

    fn rule(&self) -> &'static str {
        "per group, the relative paired difference e = (candidate − baseline)/\\|baseline\\| of each pair of runs (same seed); two one-sided Wilcoxon tests (TOST): supported when every group is within ±tolerance with Holm p < 0.05, contradicted when a group is beyond it with Holm p < 0.05"
    }

    fn parse(&self, cx: &Cx, raw: &RawClaim) -> Result<Params> {
        match raw.tolerance {
            Some(t) => Ok(Arc::new(Tolerance(t))),
            None => Err(cx.at(
                "tolerance",
                "missing: a `paired_equivalence` claim needs `tolerance` (relative, e.g. 0.05)".into(),
            )),
        }
    }

    fn expectation(&self, claim: &Claim) -> String {
        let p = claim.paired();
        let t: &Tolerance = claim.test.params();
        format!(
            "{} of {} = {} within ±{} (relative) of {}'s, pair by pair",
            claim.metric_label(),
            p.by,
            p.candidate,
            tol_text(t.0),
            p.baseline
        )
    }

    fn summary(&self, claim: &Claim) -> [String; 3] {
        let p = claim.paired();
        let t: &Tolerance = claim.test.params();
        [
            p.candidate.clone(),
            p.baseline.clone(),
            format!("within ±{}", tol_text(t.0)),
        ]
    }

    fn header(&self) -> &'static [&'static str] {
        &[
            "n_pairs",
            "median candidate",
            "median baseline",
            "median rel. diff",
            "95% CI",
            "p within (TOST)",
            "p_holm within",
            "p outside",
            "p_holm outside",
        ]
    }

    fn test(&self, data: &Data, groups: &[&Group]) -> Result<Vec<GroupRow>> {
        let p = data.claim.paired();
        let tol = data.claim.test.params::<Tolerance>().0;
        let values = data.values()?;
        let diverged = data.diverged()?;
        let sig = compare::sig;
        let mut rows = Vec::new();
        for g in groups {
            let pairs = g.pairs(&p.candidate, &p.baseline);
            if pairs.is_empty() {
                continue;
            }
            // (baseline, candidate) of the pairs where both ran and the
            // baseline is a finite non-zero number.
            let points: Vec<(f64, f64)> = pairs
                .iter()
                .filter(|(i, j)| !diverged[*i] && !diverged[*j])
                .filter_map(|&(i, j)| Some((values[j]?, values[i]?)))
                .filter(|(b, c)| b.is_finite() && c.is_finite() && *b != 0.0)
                .collect();
            let e: Vec<f64> = points.iter().map(|(b, c)| (c - b) / b.abs()).collect();
            let key = format!(
                "paired_equivalence|{}|{}",
                data.claim.id,
                g.label.join("|")
            );
            let tost = Tost::of(&e, tol, &key);
            let (median_e, ci) = (tost.median, tost.ci);
            let (cand, base): (Vec<f64>, Vec<f64>) = points.iter().map(|(b, c)| (*c, *b)).unzip();
            let median_base = stats::median(&base);
            rows.push(GroupRow {
                label: g.label.clone(),
                n: e.len(),
                cells: vec![
                    e.len().to_string(),
                    sig(stats::median(&cand)),
                    sig(median_base),
                    sig(median_e),
                    format!("[{}, {}]", sig(ci.0), sig(ci.1)),
                ],
                p: tost.p.to_vec(),
                lower: None,
                check: None,
                effect: [median_e, ci.0, ci.1],
                baseline: median_base,
                panel: panel(
                    data,
                    g,
                    tol,
                    &Names {
                        reference: &p.baseline,
                        line: "no difference",
                        point: "pair",
                    },
                    median_base,
                    &points,
                ),
            });
        }
        Ok(rows)
    }

    fn evidence(&self, _claim: &Claim, _row: &GroupRow, p_holm: &[f64]) -> Evidence {
        Tost::evidence(p_holm)
    }

    fn effect_caption(&self) -> &'static str {
        "median relative paired difference (candidate − baseline)/|baseline|"
    }

    fn figure_caption(&self) -> &'static str {
        "each point is one pair of runs (same seed): the candidate's relative difference to the baseline; the dashed lines are no difference and the tolerance."
    }
}
