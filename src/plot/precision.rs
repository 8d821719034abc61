//! Figures of low precision and parameter groups (issue 14), drawn where a
//! results folder has the data:
//!
//! - `precision`: per (landscape, optimizer variant), the median loss and the
//!   median `update_underflow` (fraction of coordinates whose update rounded
//!   away) per step, one colour per schedule; where a schedule's updates
//!   all round away the loss goes flat (the stall).
//! - `loss_scale`: per optimizer variant, the median loss scale per step and
//!   the mean cumulative number of skipped steps, one colour per schedule
//!   (the count is over traced steps: trace every step to see every skip).
//! - `lr_decay`: the final loss (median and 10–90 % quantiles over seeds)
//!   against the `optimizer.groups.lr_decay` axis (1 = a single lr), one
//!   panel per schedule, one colour per landscape.

use super::data::{Results, Run};
use super::render::{color, Figure, Legend, Panel, Series, Style};
use super::stats::{band, quantiles};
use crate::error::Result;
use crate::results::frames::{read_parquet, RUNS_FILE, TRACE_FILE};
use crate::schema::{runs as rc, trace as tc};
use polars::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// The lr-decay axis column of runs.parquet.
const LR_DECAY: &str = "optimizer.groups.lr_decay";

/// Per run: (step, value) of a nullable trace column, where not null.
type Curves = HashMap<String, Vec<(f64, f64)>>;

fn f64_column(df: &DataFrame, name: &str) -> Option<Vec<Option<f64>>> {
    let c = df.column(name).ok()?.cast(&DataType::Float64).ok()?;
    Some(c.f64().ok()?.iter().collect())
}

fn curves(df: &DataFrame, name: &str) -> Option<Curves> {
    let ids: Vec<Option<String>> = df
        .column(tc::RUN_ID)
        .ok()?
        .str()
        .ok()?
        .iter()
        .map(|s| s.map(str::to_string))
        .collect();
    let step = f64_column(df, tc::STEP)?;
    let v = f64_column(df, name)?;
    let mut out: Curves = HashMap::new();
    for i in 0..df.height() {
        if let (Some(id), Some(s), Some(y)) = (&ids[i], step[i], v[i]) {
            out.entry(id.clone()).or_default().push((s, y));
        }
    }
    for c in out.values_mut() {
        c.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    (!out.is_empty()).then_some(out)
}

/// Median line and 10–90 % band of per-run curves.
fn add_median(p: &mut Panel, curves: &[&[(f64, f64)]], ci: usize, label: &str) {
    let b = band(curves.iter().copied());
    if b.is_empty() {
        return;
    }
    p.series.push(Series::band(
        color(ci),
        b.iter().map(|q| (q.x, q.hi)).collect(),
        b.iter().map(|q| (q.x, q.lo)).collect(),
    ));
    p.series.push(Series::new(
        Some(label.to_string()),
        color(ci),
        Style::Line { width: 2 },
        b.iter().map(|q| (q.x, q.median)).collect(),
    ));
}

fn runs_of<'a>(res: &'a Results, l: &str, o: &str, s: &str) -> Vec<&'a Run> {
    res.group(l, o, s)
}

/// Loss and update underflow per step.
fn precision(res: &Results, underflow: &Curves) -> Figure {
    let mut top = Vec::new();
    let mut bottom = Vec::new();
    let optimizers = res.optimizers();
    for l in res.landscapes() {
        for o in &optimizers {
            let mut loss = Panel::new(format!("{l} · {o}"), "step", "loss (median)");
            let mut under = Panel::new(o.to_string(), "step", "update_underflow");
            under.y_range = Some((-0.02, 1.02));
            under.legend = Legend::LowerRight;
            for (ci, s) in res.schedules().iter().enumerate() {
                let runs = runs_of(res, &l, o, s);
                let losses: Vec<Vec<(f64, f64)>> = runs
                    .iter()
                    .filter_map(|r| res.trace(r))
                    .map(|t| t.step.iter().copied().zip(t.loss.iter().copied()).collect())
                    .collect();
                add_median(
                    &mut loss,
                    &losses.iter().map(Vec::as_slice).collect::<Vec<_>>(),
                    ci,
                    s,
                );
                let u: Vec<&[(f64, f64)]> = runs
                    .iter()
                    .filter_map(|r| underflow.get(&r.run_id).map(Vec::as_slice))
                    .collect();
                add_median(&mut under, &u, ci, s);
            }
            loss.auto_log_y();
            top.push(loss);
            bottom.push(under);
        }
    }
    let cols = top.len();
    top.extend(bottom);
    Figure::grid(
        "Low-precision parameters: loss and the fraction of updates rounded away",
        cols,
        top,
    )
}

/// Loss scale and cumulative skipped steps per step.
fn loss_scale(res: &Results, scale: &Curves, skipped: &Curves) -> Figure {
    let mut panels = Vec::new();
    for l in res.landscapes() {
        for o in res.optimizers() {
            let mut sp = Panel::new(format!("{l} · {o}"), "step", "loss scale (median)");
            let mut kp = Panel::new(
                format!("{o}: skipped steps"),
                "step",
                "skipped steps so far (mean)",
            );
            kp.legend = Legend::LowerRight;
            for (ci, s) in res.schedules().iter().enumerate() {
                let runs = runs_of(res, &l, &o, s);
                let sc: Vec<&[(f64, f64)]> = runs
                    .iter()
                    .filter_map(|r| scale.get(&r.run_id).map(Vec::as_slice))
                    .collect();
                add_median(&mut sp, &sc, ci, s);
                let cumulative: Vec<Vec<(f64, f64)>> = runs
                    .iter()
                    .filter_map(|r| skipped.get(&r.run_id))
                    .map(|c| {
                        let mut n = 0.0;
                        c.iter()
                            .map(|&(t, k)| {
                                n += k;
                                (t, n)
                            })
                            .collect()
                    })
                    .collect();
                if cumulative.is_empty() {
                    continue;
                }
                let len = cumulative.iter().map(Vec::len).min().unwrap_or(0);
                let mean: Vec<(f64, f64)> = (0..len)
                    .map(|i| {
                        let y = cumulative.iter().map(|c| c[i].1).sum::<f64>()
                            / cumulative.len() as f64;
                        (cumulative[0][i].0, y)
                    })
                    .collect();
                kp.series.push(Series::new(
                    Some(s.to_string()),
                    color(ci),
                    Style::Line { width: 2 },
                    mean,
                ));
            }
            sp.y_log = true;
            panels.push(sp);
            panels.push(kp);
        }
    }
    Figure::grid(
        "Low-precision gradients with GradScaler: loss scale and skipped steps (every step traced)",
        2,
        panels,
    )
}

/// Final loss against the layer-wise lr decay.
fn lr_decay(res: &Results, decay: &HashMap<String, f64>) -> Figure {
    let mut panels = Vec::new();
    for s in res.schedules() {
        let mut p = Panel::new(
            format!("schedule {s}"),
            "lr_decay (1 = one lr for every block)",
            "final loss",
        );
        for (ci, l) in res.landscapes().iter().enumerate() {
            let mut by: Vec<(f64, Vec<f64>)> = Vec::new();
            for r in res
                .runs
                .iter()
                .filter(|r| &r.landscape == l && r.schedule == s)
            {
                let Some(&d) = decay.get(&r.run_id) else {
                    continue;
                };
                match by.iter_mut().find(|(x, _)| *x == d) {
                    Some((_, v)) => v.push(r.final_loss),
                    None => by.push((d, vec![r.final_loss])),
                }
            }
            by.sort_by(|a, b| a.0.total_cmp(&b.0));
            let q: Vec<(f64, Vec<f64>)> = by
                .iter()
                .filter_map(|(x, v)| Some((*x, quantiles(v, &[0.1, 0.5, 0.9])?)))
                .collect();
            p.series.push(Series::band(
                color(ci),
                q.iter().map(|(x, v)| (*x, v[2])).collect(),
                q.iter().map(|(x, v)| (*x, v[0])).collect(),
            ));
            let median: Vec<(f64, f64)> = q.iter().map(|(x, v)| (*x, v[1])).collect();
            p.series.push(Series::new(
                Some(l.to_string()),
                color(ci),
                Style::Line { width: 2 },
                median.clone(),
            ));
            p.series.push(Series::new(
                None,
                color(ci),
                Style::Points { radius: 4 },
                median,
            ));
        }
        p.auto_log_y();
        panels.push(p);
    }
    let cols = panels.len();
    Figure::grid(
        "Discriminative (layer-wise) learning rates on the transfer landscape",
        cols,
        panels,
    )
}

/// The figures of this module that `dir` has data for, with their stems.
pub fn figures(res: &Results, dir: &Path) -> Result<Vec<(String, Figure)>> {
    let trace = read_parquet(&dir.join(TRACE_FILE))?;
    let mut out = Vec::new();
    if let Some(u) = curves(&trace, tc::UPDATE_UNDERFLOW) {
        out.push(("precision".to_string(), precision(res, &u)));
    }
    if let (Some(scale), Some(skipped)) =
        (curves(&trace, tc::LOSS_SCALE), curves(&trace, tc::SKIPPED))
    {
        out.push(("loss_scale".to_string(), loss_scale(res, &scale, &skipped)));
    }
    let runs = read_parquet(&dir.join(RUNS_FILE))?;
    if let (Some(d), Ok(ids)) = (f64_column(&runs, LR_DECAY), runs.column(rc::RUN_ID)) {
        let ids: Vec<Option<&str>> = ids.str().map(|c| c.iter().collect()).unwrap_or_default();
        let decay: HashMap<String, f64> = ids
            .iter()
            .zip(d)
            .filter_map(|(id, d)| Some((id.as_ref()?.to_string(), d?)))
            .collect();
        if !decay.is_empty() {
            out.push(("lr_decay".to_string(), lr_decay(res, &decay)));
        }
    }
    Ok(out)
}
