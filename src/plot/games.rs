//! Two players: the distance from x_t to the equilibrium against step, for
//! every game landscape of a sweep whose positions are traced (one panel;
//! a median and a 10–90 % band over seeds for each optimizer and schedule,
//! log y). The trajectories in the (x, y) plane are the contour figures of
//! [`super::contour`].

use super::data::Results;
use super::figures::add_band;
use super::render::{Figure, Legend, Panel};
use crate::config::Plan;
use crate::vecmath::distance;

/// One figure per game landscape: (file stem, figure).
pub fn distances(res: &Results, plan: &Plan) -> Vec<(String, Figure)> {
    let prepared = crate::runner::Prepared::new(plan);
    let mut out = Vec::new();
    for (li, f) in prepared.landscapes.iter().enumerate() {
        let (Some(_), Some(eq)) = (f.players(), f.minima().into_iter().next()) else {
            continue;
        };
        let Some(first) = res.of_landscape(plan, li).first().copied() else {
            continue;
        };
        let label = first.landscape.clone();
        let mut p = Panel::new(
            format!("{label}: distance to the equilibrium"),
            "step",
            "distance ||z(t) - z*||",
        );
        p.legend = Legend::LowerLeft;
        let mut ci = 0;
        for o in res.optimizers() {
            for s in res.schedules() {
                let group = res.group(&label, &o, &s);
                if group.is_empty() {
                    continue;
                }
                let eq = eq.x.clone();
                add_band(&mut p, res, &group, ci, &format!("{o} · {s}"), move |t| {
                    t.step
                        .iter()
                        .zip(&t.position)
                        .filter_map(|(&s, x)| x.as_ref().map(|x| (s, distance(x, &eq))))
                        .collect()
                });
                ci += 1;
            }
        }
        if p.series.is_empty() {
            continue;
        }
        let ys: Vec<f64> = p
            .series
            .iter()
            .flat_map(|s| &s.points)
            .map(|q| q.1)
            .collect();
        p.y_log = ys.iter().all(|v| *v > 0.0 && v.is_finite());
        let mut fig = Figure::grid(
            format!("{label}: median and 10-90% band over seeds"),
            1,
            vec![p],
        );
        fig.size = (1200, 800);
        out.push((format!("distance_{}", super::contour::slug(&label)), fig));
    }
    out
}
