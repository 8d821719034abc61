//! `wilcoxon` (the default form): on `metric`, level `candidate` of factor
//! `by` is `lower` or `higher` than level `baseline`, in every group of the
//! comparison (optionally restricted by `where`). The evidence is the
//! paired comparison of [`crate::compare`] ([`compare::pair_stats`]): one
//! row per group, each with its Wilcoxon signed-rank p-value, Holm-adjusted
//! among the claim's rows (α = [`compare::ALPHA`]). The direction of a row
//! is that of its rank sums (T− against T+), as in `valley compare`. The
//! effect is the median paired difference (candidate − baseline) with its
//! bootstrap interval.

use super::form::{Data, DefaultWhen, Form, GroupRow};
use super::Expect;
use crate::compare::{self, Group, PairStats, Side};
use crate::error::Result;
use crate::plot::render::{color, Legend, Panel, Series, Style};

pub struct Wilcoxon;

impl Form for Wilcoxon {
    fn name(&self) -> &'static str {
        "wilcoxon"
    }

    fn default_when(&self) -> Option<DefaultWhen> {
        Some(DefaultWhen::Always)
    }

    fn takes(&self) -> &'static [&'static str] {
        &[
            "by",
            "candidate",
            "baseline",
            "expect",
            "window",
            "relative_to",
            "min_effect",
        ]
    }

    fn rule(&self) -> &'static str {
        "per group, the paired Wilcoxon signed-rank test of `valley compare`, Holm-adjusted over the claim's groups: supported when every group shows the expected direction with p_holm < 0.05, contradicted when a group shows the opposite direction with p_holm < 0.05; with `min_effect`, a group whose median paired difference is smaller than the margin does neither"
    }

    fn header(&self) -> &'static [&'static str] {
        &[
            "n_pairs",
            "median candidate",
            "median baseline",
            "median diff",
            "95% CI",
            "win rate",
            "p",
            "p_holm",
        ]
    }

    fn test(&self, data: &Data, groups: &[&Group]) -> Result<Vec<GroupRow>> {
        let p = data.claim.paired();
        let values = data.values()?;
        let diverged = data.diverged()?;
        let metric = data.claim.metric_label();
        let mut rows = Vec::new();
        for g in groups {
            let pairs = g.pairs(&p.candidate, &p.baseline);
            if pairs.is_empty() {
                continue;
            }
            let side = |i: usize| Side {
                value: values[i],
                diverged: diverged[i],
            };
            let sides: Vec<(Side, Side)> = pairs.iter().map(|&(i, j)| (side(i), side(j))).collect();
            // The bootstrap key of `valley compare`'s row.
            let key = format!(
                "{metric}|{}|{}|{}|{}",
                p.by,
                g.key.join("|"),
                p.candidate,
                p.baseline
            );
            let s = compare::pair_stats(&sides, p.expect == Expect::Higher, &key);
            let points: Vec<(f64, f64)> = pairs
                .iter()
                .filter(|(i, j)| !diverged[*i] && !diverged[*j])
                .filter_map(|(i, j)| Some((values[*j]?, values[*i]? - values[*j]?)))
                .filter(|q| q.0.is_finite() && q.1.is_finite())
                .collect();
            let lost = pairs.len() - points.len();
            rows.push(GroupRow {
                label: g.label.clone(),
                n: s.n_pairs,
                cells: cells(&s),
                p: vec![s.wilcoxon.p_value],
                lower: candidate_lower(&s),
                check: None,
                effect: [s.median_diff, s.ci_low, s.ci_high],
                baseline: s.median_baseline,
                panel: panel(data, g, points, lost),
            });
        }
        Ok(rows)
    }

    fn effect_caption(&self) -> &'static str {
        "median paired difference, candidate − baseline"
    }

    fn figure_caption(&self) -> &'static str {
        "each point is one pair of runs (same seed): the candidate's value minus the baseline's, against the baseline's; below the dashed line the candidate is lower."
    }
}

/// Direction of a row by its rank sums: `Some(true)` when the candidate is
/// lower, `None` on a tie.
fn candidate_lower(s: &PairStats) -> Option<bool> {
    let w = &s.wilcoxon;
    if w.r_minus == w.r_plus {
        None
    } else {
        Some(w.r_minus > w.r_plus)
    }
}

fn cells(s: &PairStats) -> Vec<String> {
    let sig = compare::sig;
    vec![
        s.n_pairs.to_string(),
        sig(s.median_candidate),
        sig(s.median_baseline),
        sig(s.median_diff),
        format!("[{}, {}]", sig(s.ci_low), sig(s.ci_high)),
        sig(s.win_rate),
    ]
}

/// Candidate against baseline, one point per pair (`lost`: pairs with a
/// diverged or null run, not shown).
fn panel(data: &Data, g: &Group, pts: Vec<(f64, f64)>, lost: usize) -> Panel {
    let p = data.claim.paired();
    let title = data.panel_title(&g.label);
    let mut panel = Panel::new(
        if lost > 0 {
            format!("{title} ({lost} pairs with a diverged or null run not shown)")
        } else {
            title
        },
        format!("{} = {}: {}", p.by, p.baseline, data.claim.metric_label()),
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
    panel
}
