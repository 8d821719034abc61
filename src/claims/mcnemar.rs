//! `mcnemar`: `metric = "diverged"`; per group, the exact McNemar test on
//! the paired divergence flags: of the discordant pairs, k where only the
//! candidate diverged and n − k where only the baseline did, two-sided
//! binomial p-value under Binomial(n, ½) ([`stats::binom_test_half`]).
//! The candidate is lower when k < n − k. The effect is the difference of
//! the divergence rates, with a bootstrap interval of the mean paired
//! difference ([`stats::bootstrap_mean_ci`]).

use super::form::{paired_expectation, Cx, Data, Form, GroupRow};
use super::{Claim, RawClaim};
use crate::compare::{self, Group};
use crate::error::Result;
use crate::plot::render::{color, Panel, Series, Style};
use crate::schema::runs as rc;
use crate::stats;

pub struct McNemar;

impl Form for McNemar {
    fn name(&self) -> &'static str {
        "mcnemar"
    }

    fn takes(&self) -> &'static [&'static str] {
        &["by", "candidate", "baseline", "expect"]
    }

    fn notes(&self) -> &'static [(&'static str, &'static str)] {
        &[("metric", "`diverged` for `mcnemar`")]
    }

    fn rule(&self) -> &'static str {
        "per group, the exact McNemar test: a two-sided binomial test (p = ½) on the discordant pairs (only the candidate diverged against only the baseline); the same rule as `wilcoxon`"
    }

    fn check_metric(&self, cx: &Cx, raw: &RawClaim, _windowed: bool) -> Result<()> {
        if raw.metric != rc::DIVERGED {
            return Err(cx.at(
                "metric",
                format!(
                    "a `mcnemar` claim tests `{}`, got `{}`",
                    rc::DIVERGED,
                    raw.metric
                ),
            ));
        }
        Ok(())
    }

    fn expectation(&self, claim: &Claim) -> String {
        paired_expectation(claim, " (exact McNemar test)")
    }

    fn header(&self) -> &'static [&'static str] {
        &[
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
    }

    fn test(&self, data: &Data, groups: &[&Group]) -> Result<Vec<GroupRow>> {
        let p = data.claim.paired();
        let diverged = data.diverged()?;
        let sig = compare::sig;
        let mut rows = Vec::new();
        for g in groups {
            let pairs = g.pairs(&p.candidate, &p.baseline);
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
                data.claim.id,
                g.label.join("|"),
                p.candidate,
                p.baseline
            );
            let n = pairs.len();
            let dc = pairs.iter().filter(|(i, _)| diverged[*i]).count();
            let db = pairs.iter().filter(|(_, j)| diverged[*j]).count();
            let diff = d.iter().sum::<f64>() / d.len() as f64;
            let ci = stats::bootstrap_mean_ci(&d, stats::RESAMPLES, &key);
            rows.push(GroupRow {
                label: g.label.clone(),
                n,
                cells: vec![
                    n.to_string(),
                    dc.to_string(),
                    db.to_string(),
                    only_c.to_string(),
                    only_b.to_string(),
                    sig(diff),
                    format!("[{}, {}]", sig(ci.0), sig(ci.1)),
                ],
                p: vec![stats::binom_test_half(only_c, only_c + only_b)],
                lower: (only_c != only_b).then_some(only_c < only_b),
                check: None,
                effect: [diff, ci.0, ci.1],
                baseline: f64::NAN,
                panel: panel(data, g, [n, dc, db], [only_c, only_b]),
            });
        }
        Ok(rows)
    }

    fn effect_caption(&self) -> &'static str {
        "divergence rate, candidate − baseline"
    }

    fn figure_caption(&self) -> &'static str {
        "the fraction of runs that diverged at each level; the title gives the discordant pairs (only candidate / only baseline)."
    }
}

/// The divergence rate of each level: `[n, dc, db]` pairs and runs
/// diverged, `[only_c, only_b]` the discordant pairs.
fn panel(data: &Data, g: &Group, [n, dc, db]: [usize; 3], [only_c, only_b]: [u64; 2]) -> Panel {
    let p = data.claim.paired();
    let mut panel = Panel::new(
        format!(
            "{}: only {} diverged in {} pairs, only {} in {}",
            data.panel_title(&g.label),
            p.candidate,
            only_c,
            p.baseline,
            only_b
        ),
        format!(
            "0: {} = {}, 1: {} = {}",
            p.by, p.baseline, p.by, p.candidate
        ),
        "fraction of runs diverged",
    );
    panel.x_range = Some((-0.5, 1.5));
    panel.y_range = Some((0.0, 1.05));
    let nf = n as f64;
    panel.series = vec![
        Series::new(
            Some(format!("{} diverged {}/{}", p.baseline, db, n)),
            color(1),
            Style::Points { radius: 9 },
            vec![(0.0, db as f64 / nf)],
        ),
        Series::new(
            Some(format!("{} diverged {}/{}", p.candidate, dc, n)),
            color(0),
            Style::Points { radius: 9 },
            vec![(1.0, dc as f64 / nf)],
        ),
    ];
    panel
}
