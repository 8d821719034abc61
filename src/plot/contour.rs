//! Contour figures of 2-D landscapes with trajectories.
//!
//! The landscape is rebuilt from the plan recorded in `sweep.json`, with the
//! generator the sweep used for its random structure, and evaluated on a
//! regular grid over its `view_box()`. The colour is sqrt((f - f_min) /
//! (f_max - f_min)) on the grid (the square root spreads the low values), or
//! a logarithm of it where the range dwarfs the typical height ([`shade`]);
//! iso-lines are drawn at ten equally spaced levels of that quantity by
//! marching squares with linear interpolation along cell edges (Lorensen &
//! Cline 1987, in two dimensions). The first few seeds of each schedule are
//! drawn on top (hollow circle: start, dot: end) with the known minima (×).

use super::data::Results;
use super::render::{color, Figure, Heatmap, Legend, Panel, Series, Style};
use crate::config::Plan;
use crate::landscape::Landscape;

/// Trajectories per (schedule, optimizer) drawn on a contour.
pub const TRAJECTORIES: usize = 3;
/// Grid cells per side.
pub const GRID: usize = 120;
/// Number of iso-lines.
pub const LEVELS: usize = 10;

/// `f` on a `nx × ny` grid of cell centres over `bx`, row-major (`j·nx + i`).
pub fn sample(f: &dyn Landscape, bx: [[f64; 2]; 2], nx: usize, ny: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(nx * ny);
    for j in 0..ny {
        let y = bx[1][0] + (j as f64 + 0.5) * (bx[1][1] - bx[1][0]) / ny as f64;
        for i in 0..nx {
            let x = bx[0][0] + (i as f64 + 0.5) * (bx[0][1] - bx[0][0]) / nx as f64;
            out.push(f.value(&[x, y]));
        }
    }
    out
}

/// Segments (as point pairs) of the iso-line `level` of `z`, a row-major
/// `nx × ny` grid whose node (i, j) sits at `node(i, j)`.
pub fn iso_segments(
    z: &[f64],
    nx: usize,
    ny: usize,
    level: f64,
    node: impl Fn(usize, usize) -> (f64, f64),
) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let at = |i: usize, j: usize| z[j * nx + i];
    // Point on the edge between nodes a and b where z crosses `level`.
    let cut = |(ia, ja): (usize, usize), (ib, jb): (usize, usize)| {
        let (za, zb) = (at(ia, ja), at(ib, jb));
        let t = if zb != za {
            (level - za) / (zb - za)
        } else {
            0.5
        };
        let (pa, pb) = (node(ia, ja), node(ib, jb));
        (pa.0 + t * (pb.0 - pa.0), pa.1 + t * (pb.1 - pa.1))
    };
    for j in 0..ny.saturating_sub(1) {
        for i in 0..nx.saturating_sub(1) {
            // Corners counter-clockwise from (i, j); edges between consecutive corners.
            let c = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
            if c.iter().any(|&(a, b)| !at(a, b).is_finite()) {
                continue;
            }
            let crossings: Vec<(f64, f64)> = (0..4)
                .filter_map(|e| {
                    let (a, b) = (c[e], c[(e + 1) % 4]);
                    ((at(a.0, a.1) >= level) != (at(b.0, b.1) >= level)).then(|| cut(a, b))
                })
                .collect();
            // Two crossings: one segment; four (a saddle cell): pair them in order.
            for pair in crossings.chunks_exact(2) {
                out.push(pair[0]);
                out.push(pair[1]);
            }
        }
    }
    out
}

fn inside(q: (f64, f64), bx: [[f64; 2]; 2]) -> bool {
    (bx[0][0]..=bx[0][1]).contains(&q.0) && (bx[1][0]..=bx[1][1]).contains(&q.1)
}

/// The maximal runs of consecutive points of `path` inside the box (plotters
/// does not clip lines to the plotting area).
pub fn inside_pieces(path: &[(f64, f64)], bx: [[f64; 2]; 2]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for &q in path {
        if inside(q, bx) {
            current.push(q);
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// File-name-safe form of a label.
pub fn slug(label: &str) -> String {
    let s: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    s.trim_matches('_').to_string()
}

/// One contour figure per 2-D landscape: (file stem, figure).
pub fn contours(res: &Results, plan: &Plan) -> Vec<(String, Figure)> {
    let prepared = crate::runner::Prepared::new(plan);
    let schedules = res.schedules();
    let mut out = Vec::new();
    for (li, f) in prepared.landscapes.iter().enumerate() {
        let Some(bx) = f.view_box().filter(|_| f.dim() == 2) else {
            continue;
        };
        let runs = res.of_landscape(plan, li);
        let Some(first) = runs.first() else { continue };
        let label = first.landscape.clone();
        let (level, iso) = background(f.as_ref(), bx);
        let minima: Vec<(f64, f64)> = f
            .minima()
            .iter()
            .filter(|m| m.x.len() == 2)
            .map(|m| (m.x[0], m.x[1]))
            .collect();
        let mut optimizers: Vec<String> = Vec::new();
        for r in &runs {
            if !optimizers.contains(&r.optimizer) {
                optimizers.push(r.optimizer.clone());
            }
        }
        let mut panels = Vec::new();
        for o in &optimizers {
            // A game's axes are its players; its known point is the
            // equilibrium.
            let game = f.players().is_some();
            let (xl, yl) = if game {
                ("x (minimising player)", "y (maximising player)")
            } else {
                ("x1", "x2")
            };
            let mut p = Panel::new(format!("{label} · {o}"), xl, yl);
            p.x_range = Some((bx[0][0], bx[0][1]));
            p.y_range = Some((bx[1][0], bx[1][1]));
            p.legend = Legend::UpperRight;
            p.heatmap = Some(Heatmap {
                x: (bx[0][0], bx[0][1]),
                y: (bx[1][0], bx[1][1]),
                nx: GRID,
                ny: GRID,
                level: level.clone(),
                palette: None,
            });
            p.series.push(
                Series::new(
                    None,
                    plotters::style::RGBColor(70, 80, 110),
                    Style::Segments { width: 1 },
                    iso.clone(),
                )
                .with_alpha(0.55),
            );
            trajectories(res, &label, o, &schedules, bx, &mut p);
            if !minima.is_empty() {
                p.series.push(Series::new(
                    Some(if game { "equilibrium" } else { "known minimum" }.into()),
                    plotters::style::RGBColor(0, 0, 0),
                    Style::Crosses { size: 8 },
                    minima.clone(),
                ));
            }
            panels.push(p);
        }
        let cols = panels.len().min(2);
        let mut fig = Figure::grid(
            format!("{label}: contours of f (lighter = lower), trajectories: o start, • end"),
            cols,
            panels,
        );
        fig.size = (
            if cols == 1 { 1000 } else { 1800 },
            50 + 880 * fig.rows as u32,
        );
        out.push((format!("contour_{}", slug(&label)), fig));
    }
    out
}

/// Above this ratio of the grid's range to its median height over the
/// minimum, the shading is logarithmic (Goldstein–Price spans 10⁶ on its
/// box, with all its structure in the lowest 10⁻³ of it).
pub const LOG_SHADING_RATIO: f64 = 100.0;

/// Each node's shade in [0, 1]: sqrt((v − min)/(max − min)), or, where the
/// range exceeds [`LOG_SHADING_RATIO`] times the median height m over the
/// minimum, log(1 + (v − min)/δ)/log(1 + (max − min)/δ) with δ = m/10.
fn shade(z: &[f64], zmin: f64, zmax: f64) -> Vec<f64> {
    let span = (zmax - zmin).max(1e-300);
    let mut heights: Vec<f64> = z
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| v - zmin)
        .collect();
    heights.sort_by(f64::total_cmp);
    let median = heights.get(heights.len() / 2).copied().unwrap_or(0.0);
    if median > 0.0 && span > LOG_SHADING_RATIO * median {
        let delta = median / 10.0;
        let top = (span / delta).ln_1p();
        z.iter()
            .map(|v| (((v - zmin) / delta).max(0.0).ln_1p() / top).min(1.0))
            .collect()
    } else {
        z.iter()
            .map(|v| ((v - zmin) / span).max(0.0).sqrt())
            .collect()
    }
}

/// The landscape's background on the view box: the grid's levels (a
/// square root of the normalised value, so that low regions show detail)
/// and the iso-lines between them.
fn background(f: &dyn Landscape, bx: [[f64; 2]; 2]) -> (Vec<f64>, Vec<(f64, f64)>) {
    let z = sample(f, bx, GRID, GRID);
    let (zmin, zmax) = z
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let level = shade(&z, zmin, zmax);
    let (dx, dy) = (
        (bx[0][1] - bx[0][0]) / GRID as f64,
        (bx[1][1] - bx[1][0]) / GRID as f64,
    );
    let node = |i: usize, j: usize| {
        (
            bx[0][0] + (i as f64 + 0.5) * dx,
            bx[1][0] + (j as f64 + 0.5) * dy,
        )
    };
    let mut iso = Vec::new();
    for k in 1..LEVELS {
        iso.extend(iso_segments(
            &level,
            GRID,
            GRID,
            k as f64 / LEVELS as f64,
            node,
        ));
    }
    (level, iso)
}

/// Up to [`TRAJECTORIES`] runs of each schedule on landscape `label` with
/// optimizer `o`: their paths (clipped to the box), starts and ends.
fn trajectories(
    res: &Results,
    label: &str,
    o: &str,
    schedules: &[String],
    bx: [[f64; 2]; 2],
    p: &mut Panel,
) {
    for (ci, s) in schedules.iter().enumerate() {
        let group = res.group(label, o, s);
        let mut labelled = false;
        for r in group.iter().take(TRAJECTORIES) {
            let Some(t) = res.trace(r) else { continue };
            let path: Vec<(f64, f64)> = t
                .position
                .iter()
                .flatten()
                .filter(|x| x.len() == 2)
                .map(|x| (x[0], x[1]))
                .collect();
            let (Some(&start), Some(&end)) = (path.first(), path.last()) else {
                continue;
            };
            for piece in inside_pieces(&path, bx) {
                let name = (!labelled).then(|| {
                    let seeds: Vec<String> = group
                        .iter()
                        .take(TRAJECTORIES)
                        .map(|r| r.seed.to_string())
                        .collect();
                    format!("{s} (seeds {})", seeds.join(", "))
                });
                labelled = true;
                p.series.push(
                    // Width 1: plotters joins wider polylines with
                    // miters that spike where a path reverses.
                    Series::new(name, color(ci), Style::Line { width: 1 }, piece),
                );
            }
            for (q, style) in [
                (start, Style::Rings { radius: 6 }),
                (end, Style::Points { radius: 5 }),
            ] {
                if inside(q, bx) {
                    p.series.push(Series::new(None, color(ci), style, vec![q]));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_segments_of_a_plane_lie_on_the_level_line() {
        // z = x + y on nodes (i, j) at (i, j): the level 2.5 crosses the grid
        // along x + y = 2.5, exactly (linear interpolation is exact for a plane).
        let n = 5;
        let z: Vec<f64> = (0..n * n).map(|k| ((k % n) + (k / n)) as f64).collect();
        let seg = iso_segments(&z, n, n, 2.5, |i, j| (i as f64, j as f64));
        assert!(!seg.is_empty() && seg.len() % 2 == 0);
        for (x, y) in &seg {
            assert!((x + y - 2.5).abs() < 1e-12, "({x}, {y}) is off the line");
        }
        // Cells crossed: those with i + j in {1, 2} (corner sums span 2.5):
        // 2 + 3 = 5 cells of the 4x4, one segment each.
        assert_eq!(seg.len(), 2 * 5);
    }

    #[test]
    fn paths_are_cut_where_they_leave_the_box() {
        let bx = [[-1.0, 1.0], [-1.0, 1.0]];
        let path = [
            (0.0, 0.0),
            (0.5, 0.5),
            (2.0, 0.0),
            (0.9, -0.9),
            (1.0, 1.0),
            (0.0, -3.0),
        ];
        assert_eq!(
            inside_pieces(&path, bx),
            vec![vec![(0.0, 0.0), (0.5, 0.5)], vec![(0.9, -0.9), (1.0, 1.0)]]
        );
    }

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(slug("rastrigin dim=2"), "rastrigin_dim_2");
        assert_eq!(slug("q/1"), "q_1");
    }
}
