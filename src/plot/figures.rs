//! The figures of a results folder, as plain [`Figure`] descriptions.
//!
//! A group is (landscape variant, optimizer variant, schedule variant); its
//! runs differ only in seed. Grids have one column per landscape and one row
//! per optimizer variant; within a panel each schedule has one colour (the
//! same in every figure). Bands are the per-step median and the 10 % / 90 %
//! quantiles across seeds (numpy's linear convention, see [`super::stats`]),
//! over runs that did not diverge; a legend entry says "n diverged" where
//! runs were left out.
//!
//! Stability bound (claim C3): gradient descent on a quadratic with curvature
//! λ is stable iff lr·λ < 2; heavy-ball momentum β (PyTorch form
//! v ← βv + g, x ← x − lr·v) raises this to lr·λ < 2(1 + β) (Goh, "Why
//! momentum really works", Distill 2017; Cohen et al., "Gradient descent on
//! neural networks typically occurs at the edge of stability", ICLR 2021).

use super::data::{Results, Run, Trace};
use super::render::{color, Figure, Legend, Panel, Series, Style};
use super::stats::{band, ecdf, ecdf_staircase, finite_range};

/// Title of the panel of one (landscape, optimizer) cell.
fn cell_title(landscape: &str, optimizer: &str) -> String {
    format!("{landscape} · {optimizer}")
}

/// Legend entry of a schedule, with the count of diverged runs if any.
fn schedule_label(schedule: &str, diverged: usize) -> String {
    if diverged > 0 {
        format!("{schedule} ({diverged} diverged)")
    } else {
        schedule.to_string()
    }
}

/// One panel per (optimizer, landscape), built by `fill`, in a grid with one
/// column per landscape.
fn grid(res: &Results, title: &str, mut fill: impl FnMut(&str, &str, &mut Panel)) -> Figure {
    let landscapes = res.landscapes();
    let mut panels = Vec::new();
    for o in res.optimizers() {
        for l in &landscapes {
            let mut p = Panel::new(cell_title(l, &o), "step", "");
            fill(l, &o, &mut p);
            panels.push(p);
        }
    }
    Figure::grid(title, landscapes.len(), panels)
}

/// Median line and 10–90 % band of `metric` over the non-diverged runs of a
/// group. Returns the number of diverged runs.
pub(super) fn add_band(
    p: &mut Panel,
    res: &Results,
    runs: &[&Run],
    ci: usize,
    schedule: &str,
    metric: impl Fn(&Trace) -> Vec<(f64, f64)>,
) -> usize {
    let diverged = runs.iter().filter(|r| r.diverged).count();
    let curves: Vec<Vec<(f64, f64)>> = runs
        .iter()
        .filter(|r| !r.diverged)
        .filter_map(|r| res.trace(r))
        .map(&metric)
        .collect();
    let b = band(curves.iter().map(Vec::as_slice));
    if b.is_empty() {
        return diverged;
    }
    let c = color(ci);
    p.series.push(Series::band(
        c,
        b.iter().map(|q| (q.x, q.hi)).collect(),
        b.iter().map(|q| (q.x, q.lo)).collect(),
    ));
    p.series.push(Series::new(
        Some(schedule_label(schedule, diverged)),
        c,
        Style::Line { width: 2 },
        b.iter().map(|q| (q.x, q.median)).collect(),
    ));
    diverged
}

/// Log y where every finite value is positive (bands and medians).
fn log_y_if_positive(p: &mut Panel) {
    let ys: Vec<f64> = p
        .series
        .iter()
        .flat_map(|s| s.points.iter().chain(&s.lower))
        .map(|q| q.1)
        .filter(|v| v.is_finite())
        .collect();
    p.y_log = !ys.is_empty() && ys.iter().all(|v| *v > 0.0);
}

/// The longest trace of `runs` (a diverged run stops early), the first
/// among equals.
fn longest<'a>(res: &'a Results, runs: impl Iterator<Item = &'a Run>) -> Option<&'a Trace> {
    let mut best: Option<&Trace> = None;
    for t in runs.filter_map(|r| res.trace(r)) {
        if best.is_none_or(|b| t.step.len() > b.step.len()) {
            best = Some(t);
        }
    }
    best
}

/// For each schedule, the trace of its longest run.
fn representatives(res: &Results) -> Vec<(String, &Trace)> {
    res.schedules()
        .into_iter()
        .filter_map(|s| {
            let t = longest(res, res.runs.iter().filter(|r| r.schedule == s))?;
            Some((s, t))
        })
        .collect()
}

/// 1. lr against step per schedule, and momentum where a schedule varies it.
pub fn lr(res: &Results) -> Figure {
    let reps = representatives(res);
    let mut lr_panel = Panel::new("learning rate", "step", "lr");
    let mut mom_panel = Panel::new("momentum", "step", "momentum");
    let mut varies = false;
    for (ci, (s, t)) in reps.iter().enumerate() {
        let pts = t.step.iter().copied().zip(t.lr.iter().copied()).collect();
        lr_panel.series.push(Series::new(
            Some(s.clone()),
            color(ci),
            Style::Line { width: 3 },
            pts,
        ));
        let m = t.pairs(&t.momentum);
        varies |= m.windows(2).any(|w| w[0].1 != w[1].1);
        mom_panel.series.push(Series::new(
            Some(s.clone()),
            color(ci),
            Style::Line { width: 3 },
            m,
        ));
    }
    lr_panel.auto_log_y();
    let mut panels = vec![lr_panel];
    if varies {
        panels.push(mom_panel);
    }
    let n = panels.len();
    let mut f = Figure::grid("Learning-rate schedules", 1, panels);
    f.size = (1200, if n == 1 { 760 } else { 1000 });
    f
}

/// 2. and 3.: a trace metric, median and 10–90 % band across seeds.
fn banded(
    res: &Results,
    title: &str,
    y_label: &str,
    metric: fn(&Trace) -> Vec<(f64, f64)>,
) -> Figure {
    let schedules = res.schedules();
    grid(res, title, |l, o, p| {
        p.y_label = y_label.to_string();
        for (ci, s) in schedules.iter().enumerate() {
            add_band(p, res, &res.group(l, o, s), ci, s, metric);
        }
        log_y_if_positive(p);
    })
}

/// 2. update_norm against step (claim C2: plateaus with cliffs vs a smooth slide).
pub fn update_norm(res: &Results) -> Figure {
    banded(
        res,
        "Update norm ||x(t+1) - x(t)||: median and 10-90% band over seeds",
        "update norm",
        |t| t.pairs(&t.update_norm),
    )
}

/// 3. loss against step.
pub fn loss(res: &Results) -> Figure {
    banded(
        res,
        "Loss: median and 10-90% band over seeds",
        "loss f(x)",
        |t| t.step.iter().copied().zip(t.loss.iter().copied()).collect(),
    )
}

/// 4. final-loss ECDF over seeds per schedule; diverged runs count in n.
pub fn final_loss(res: &Results) -> Figure {
    let schedules = res.schedules();
    let mut f = grid(res, "Final loss: empirical CDF over seeds", |l, o, p| {
        p.x_label = "final loss".into();
        p.y_label = "fraction of runs".into();
        p.y_range = Some((0.0, 1.04));
        p.legend = Legend::LowerRight;
        for (ci, s) in schedules.iter().enumerate() {
            let runs = res.group(l, o, s);
            if runs.is_empty() {
                continue;
            }
            let diverged = runs.iter().filter(|r| r.diverged).count();
            let values: Vec<f64> = runs
                .iter()
                .map(|r| if r.diverged { f64::NAN } else { r.final_loss })
                .collect();
            let stairs = ecdf_staircase(&ecdf(&values));
            p.series.push(Series::new(
                Some(schedule_label(s, diverged)),
                color(ci),
                Style::Line { width: 3 },
                stairs,
            ));
        }
        p.auto_log_x();
    });
    for p in &mut f.panels {
        // Extend each staircase to the right edge so the top level is visible.
        let xs: Vec<f64> = p
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|q| q.0))
            .collect();
        if let Some((lo, hi)) = finite_range(xs, p.x_log) {
            let right = if p.x_log {
                hi * (hi / lo).powf(0.03).max(1.05)
            } else {
                hi + 0.03 * (hi - lo).max(1e-12)
            };
            for s in &mut p.series {
                if let Some(&(_, y)) = s.points.last() {
                    s.points.push((right, y));
                }
            }
        }
    }
    f
}

/// `v` with four significant digits, for legends.
pub fn sig4(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return v.to_string();
    }
    let digits = (3 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

/// The stability bound 2(1+β)/lr of SGD with heavy-ball momentum β; `None`
/// for other optimizers (Adam's preconditioned step has no such bound).
pub fn stability_bound(optimizer_kind: &str, lr: f64, beta: f64) -> Option<f64> {
    (optimizer_kind == "sgd" && lr > 0.0).then(|| 2.0 * (1.0 + beta) / lr)
}

/// 5. sharpness at the end against final loss, with 2(1+β)/lr_final lines.
pub fn sharpness(res: &Results) -> Option<Figure> {
    if !res.runs.iter().any(|r| r.sharpness.is_some()) {
        return None;
    }
    let schedules = res.schedules();
    Some(grid(
        res,
        "Sharpness (largest Hessian eigenvalue) at the end vs final loss; dashed: stability bound 2(1+β)/lr_final",
        |l, o, p| {
            p.x_label = "final loss".into();
            p.y_label = "sharpness λ_max".into();
            let mut lines = Vec::new();
            for (ci, s) in schedules.iter().enumerate() {
                let runs = res.group(l, o, s);
                let diverged = runs.iter().filter(|r| r.diverged).count();
                let pts: Vec<(f64, f64)> = runs
                    .iter()
                    .filter(|r| !r.diverged)
                    .filter_map(|r| Some((r.final_loss, r.sharpness?)))
                    .filter(|q| q.0.is_finite() && q.1.is_finite())
                    .collect();
                if pts.is_empty() {
                    continue;
                }
                p.series.push(Series::new(
                    Some(schedule_label(s, diverged)),
                    color(ci),
                    Style::Points { radius: 5 },
                    pts,
                ));
                // A diverged run stopped early: its final lr is not the schedule's.
                let first = runs.iter().find(|r| !r.diverged).copied().unwrap_or(runs[0]);
                let beta = res.trace(first).and_then(Trace::last_momentum).unwrap_or(0.0);
                if let Some(b) = stability_bound(&first.optimizer_kind, first.final_lr, beta) {
                    let name = if beta > 0.0 { "2(1+β)/lr_final" } else { "2/lr_final" };
                    lines.push((ci, format!("{name} ({s}) = {}", sig4(b)), b));
                }
            }
            p.auto_log_x();
            let xs: Vec<f64> = p.series.iter().flat_map(|s| s.points.iter().map(|q| q.0)).collect();
            if let Some((lo, hi)) = finite_range(xs, p.x_log) {
                let (lo, hi) = if hi > lo { (lo, hi) } else { (lo * 0.9, hi * 1.1 + 1e-12) };
                for (ci, label, b) in lines {
                    p.series.push(Series::new(
                        Some(label),
                        color(ci),
                        Style::Dashed { width: 2 },
                        vec![(lo, b), (hi, b)],
                    ));
                }
            }
            log_y_if_positive(p);
            p.legend = Legend::MiddleRight;
        },
    ))
}

/// 5b. sharpness during the run (median over seeds) with the 2/lr_t and
/// 2(1+β)/lr_t curves of each schedule; `None` when the trace has none.
pub fn sharpness_trace(res: &Results) -> Option<Figure> {
    let any = res
        .traces
        .values()
        .any(|t| t.sharpness.iter().any(|v| v.is_some_and(f64::is_finite)));
    if !any {
        return None;
    }
    let schedules = res.schedules();
    Some(grid(
        res,
        "Sharpness during the run (median, 10-90% band); dashed: stability bound 2(1+β)/lr_t, thin: 2/lr_t",
        |l, o, p| {
            p.y_label = "sharpness λ_max".into();
            for (ci, s) in schedules.iter().enumerate() {
                let runs = res.group(l, o, s);
                if runs.is_empty() {
                    continue;
                }
                add_band(p, res, &runs, ci, s, |t| t.pairs(&t.sharpness));
                let Some(t) = longest(res, runs.iter().copied()) else {
                    continue;
                };
                let kind = &runs[0].optimizer_kind;
                let beta = t.last_momentum().unwrap_or(0.0);
                let curve = |b: f64| -> Vec<(f64, f64)> {
                    t.step
                        .iter()
                        .zip(&t.lr)
                        .filter_map(|(&x, &lr)| Some((x, stability_bound(kind, lr, b)?)))
                        .collect()
                };
                if beta > 0.0 {
                    p.series.push(
                        Series::new(None, color(ci), Style::Dashed { width: 1 }, curve(0.0))
                            .with_alpha(0.5),
                    );
                }
                p.series.push(Series::new(
                    Some(format!("bound ({s})")),
                    color(ci),
                    Style::Dashed { width: 2 },
                    curve(beta),
                ));
            }
            log_y_if_positive(p);
            p.legend = Legend::UpperLeft;
        },
    ))
}

/// Whether every traced run holds one lr and no momentum: full-batch
/// gradient descent at constant lr, where 2/lr is the stability edge.
fn constant_lr_without_momentum(res: &Results) -> bool {
    res.traces.values().all(|t| {
        t.lr.first()
            .is_some_and(|lr0| t.lr.iter().all(|lr| lr == lr0))
            && t.momentum.iter().all(|m| m.is_none_or(|b| b == 0.0))
    })
}

/// 5c. The Edge of Stability (Cohen et al. 2021), for sweeps at constant lr
/// without momentum whose trace has the sharpness: one panel per
/// landscape, per lr the sharpness of every seed's run (a median would
/// blur the period-2 orbits of unstable runs) and its edge 2/lr (dashed,
/// same colour), the legend in a
/// column right of the data. Groups whose runs all diverged are named in
/// the panel title instead. `None` otherwise.
pub fn edge_of_stability(res: &Results) -> Option<Figure> {
    let any = res
        .traces
        .values()
        .any(|t| t.sharpness.iter().any(|v| v.is_some_and(f64::is_finite)));
    if !any || !constant_lr_without_momentum(res) {
        return None;
    }
    let schedules = res.schedules();
    let mut fig = grid(
        res,
        "Edge of Stability: sharpness of every seed (solid) against 2/lr (dashed, same colour)",
        |l, o, p| {
            p.y_label = "sharpness λ_max".into();
            let mut gone = Vec::new();
            for (ci, s) in schedules.iter().enumerate() {
                let runs = res.group(l, o, s);
                let Some(t) = longest(res, runs.iter().copied().filter(|r| !r.diverged)) else {
                    if let Some(r) = runs.first() {
                        gone.push(format!("{}", r.final_lr));
                    }
                    continue;
                };
                let lr = t.lr[0];
                let diverged = runs.iter().filter(|r| r.diverged).count();
                let c = color(ci);
                let mut label = Some(schedule_label(&format!("lr = {lr}"), diverged));
                for r in runs.iter().filter(|r| !r.diverged) {
                    let Some(tr) = res.trace(r) else { continue };
                    p.series.push(Series::new(
                        label.take(),
                        c,
                        Style::Line { width: 2 },
                        tr.pairs(&tr.sharpness),
                    ));
                }
                let (first, last) = (t.step[0], t.step[t.step.len() - 1]);
                p.series.push(Series::new(
                    None,
                    c,
                    Style::Dashed { width: 2 },
                    vec![(first, 2.0 / lr), (last, 2.0 / lr)],
                ));
            }
            if !gone.is_empty() {
                p.title = format!(
                    "{} (diverged, not shown: lr = {})",
                    p.title,
                    gone.join(", ")
                );
            }
            p.auto_log_y();
            p.legend = Legend::Outside;
        },
    );
    fig.size.0 += 190 * fig.cols as u32;
    Some(fig)
}
