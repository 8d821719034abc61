//! Basin maps: for a 2-D landscape whose runs start on a grid (`init = {
//! kind = "grid", … }`, the run of seed k at grid point k), every start is
//! a cell coloured by the known minimum whose basin its final point lies in
//! (runs.parquet `basin`, found by descent from the final point), one
//! panel per optimizer and schedule. A start whose run diverged, or ended
//! in no known basin, is left white; the legend gives each basin's share of
//! the starts. The known minima are marked (×).

use super::data::{Results, Run};
use super::render::{color, Figure, Heatmap, Legend, Panel, Series, Style};
use crate::config::Plan;
use crate::landscape::{Bound, GridPoints, InitSpec};

/// One basin map per 2-D landscape with a grid init: (file stem, figure).
pub fn basin_maps(res: &Results, plan: &Plan) -> Vec<(String, Figure)> {
    let mut out = Vec::new();
    let mut prepared = None;
    for (li, l) in plan.landscapes.iter().enumerate() {
        let InitSpec::Grid { low, high, points } = &l.init else {
            continue;
        };
        if l.kind.spec().dim() != 2 {
            continue;
        }
        let runs: Vec<&Run> = res.of_landscape(plan, li);
        let Some(first) = runs.first() else { continue };
        let label = first.landscape.clone();
        let mut basins: Vec<String> = runs.iter().filter_map(|r| r.basin.clone()).collect();
        basins.sort();
        basins.dedup();
        let mut keys: Vec<(String, String)> = Vec::new();
        for r in &runs {
            let key = (r.optimizer.clone(), r.schedule.clone());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        // The landscapes as the sweep built them (their random structure
        // from the sweep's generators), for their known minima.
        let prepared = prepared.get_or_insert_with(|| crate::runner::Prepared::new(plan));
        let minima: Vec<(f64, f64)> = prepared.landscapes[li]
            .minima()
            .iter()
            .filter(|m| m.x.len() == 2)
            .map(|m| (m.x[0], m.x[1]))
            .collect();
        let panels: Vec<Panel> = keys
            .iter()
            .map(|(o, s)| {
                let group: Vec<&&Run> = runs
                    .iter()
                    .filter(|r| &r.optimizer == o && &r.schedule == s)
                    .collect();
                let grid = Grid { low, high, points };
                panel(&grid, &basins, &group, &minima, &format!("{o} · {s}"))
            })
            .collect();
        let cols = panels.len().min(2);
        let mut fig = Figure::grid(
            format!(
                "{label}: basin map, each of {} starts coloured by the minimum it ended in",
                points.total(2)
            ),
            cols,
            panels,
        );
        fig.size = (
            if cols == 1 { 1000 } else { 1800 },
            60 + 860 * fig.rows as u32,
        );
        out.push((format!("basins_{}", super::contour::slug(&label)), fig));
    }
    out
}

/// The fields of a `grid` init.
struct Grid<'a> {
    low: &'a Bound,
    high: &'a Bound,
    points: &'a GridPoints,
}

/// One panel: the grid of starts of one optimizer and schedule.
fn panel(
    grid: &Grid,
    basins: &[String],
    group: &[&&Run],
    minima: &[(f64, f64)],
    title: &str,
) -> Panel {
    let Grid { low, high, points } = grid;
    let (nx, ny) = (points.at(0), points.at(1));
    let half = |lo: f64, hi: f64, n: usize| {
        if n > 1 {
            0.5 * (hi - lo) / (n - 1) as f64
        } else {
            0.5
        }
    };
    let (hx, hy) = (
        half(low.at(0), high.at(0), nx),
        half(low.at(1), high.at(1), ny),
    );
    let x = (low.at(0) - hx, high.at(0) + hx);
    let y = (low.at(1) - hy, high.at(1) + hy);
    let mut level = vec![f64::NAN; nx * ny];
    let mut counts = vec![0usize; basins.len()];
    for r in group {
        // Seed k is grid point k, the last coordinate fastest.
        let k = r.seed as usize;
        let (i, j) = (k / ny, k % ny);
        if i >= nx || r.diverged {
            continue;
        }
        if let Some(b) = r
            .basin
            .as_ref()
            .and_then(|b| basins.iter().position(|x| x == b))
        {
            level[j * nx + i] = b as f64;
            counts[b] += 1;
        }
    }
    let mut p = Panel::new(title.to_string(), "x1", "x2");
    p.x_range = Some(x);
    p.y_range = Some(y);
    // The map fills the plot area: the legend goes beside it.
    p.legend = Legend::Outside;
    p.heatmap = Some(Heatmap {
        x,
        y,
        nx,
        ny,
        level,
        palette: Some((0..basins.len()).map(color).collect()),
    });
    let total = group.len().max(1) as f64;
    for (b, name) in basins.iter().enumerate() {
        p.series.push(Series::new(
            Some(format!("{name}: {:.1} %", 100.0 * counts[b] as f64 / total)),
            color(b),
            Style::Points { radius: 6 },
            Vec::new(),
        ));
    }
    let none = group.len() - counts.iter().sum::<usize>();
    if none > 0 {
        p.series.push(Series::new(
            Some(format!(
                "white, no basin: {:.1} %",
                100.0 * none as f64 / total
            )),
            plotters::style::RGBColor(200, 200, 200),
            Style::Rings { radius: 6 },
            Vec::new(),
        ));
    }
    if !minima.is_empty() {
        p.series.push(Series::new(
            Some("known minimum".into()),
            plotters::style::RGBColor(0, 0, 0),
            Style::Crosses { size: 9 },
            minima.to_vec(),
        ));
    }
    p
}
