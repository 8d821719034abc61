//! The fold of each `protein_ab` landscape (issue 12): the lowest-energy
//! conformation any run of the sweep kept, drawn as beads and bonds, beside
//! the energy against step (median and 10–90 % band over seeds, one colour per
//! schedule, one panel per optimizer, legend in its own column clear of the
//! bands) with the published ground state.
//!
//! The conformation of a run is its `best_position` where `runs.parquet` has
//! that column and the run has a value, else its `final_position` (kept for
//! every dimension with `trace_positions = true`). Its energy is recomputed
//! from the angles, so the figure never trusts a stored number it draws.
//!
//! * 2-D: the chain in its plane; A beads (hydrophobic) red, B beads blue,
//!   bead 0 ringed, equal scales on both axes.
//! * 3-D: two projections, x-y and x-z, at equal scales.
//!
//! The energy axis is linear and clipped at |E_ground| above zero: a clash
//! (E ~ 1e3 and more) shows as a flat line at the clip, and the interesting
//! range between 0 and the ground state stays readable.

use super::data::{Results, Run};
use super::figures::add_band;
use super::render::{color, Figure, Legend, Panel, Series, Style, PALETTE};
use crate::config::plan::Plan;
use crate::error::{Result, ValleyError};
use crate::landscape::protein_ab::ProteinAb;
use crate::landscape::{Landscape, LandscapeKind};
use crate::results::RUNS_FILE;
use crate::schema::runs as rc;
use polars::prelude::*;
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

/// The column of the best-so-far conformation, preferred where present.
pub const BEST_POSITION: &str = "best_position";

/// Colours of A and B beads and of the bonds.
const A_COLOR: usize = 3;
const B_COLOR: usize = 0;
const BOND: plotters::style::RGBColor = plotters::style::RGBColor(90, 90, 90);

/// Panels per row, and the size of one panel in pixels.
const COLS: usize = 2;
const PANEL: (u32, u32) = (700, 560);

/// Where a drawn conformation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Best,
    Final,
}

/// One conformation per run id: `best_position` where set, else
/// `final_position`; runs with neither are absent.
pub fn conformations(dir: &Path) -> Result<HashMap<String, (Vec<f64>, Source)>> {
    let path = dir.join(RUNS_FILE);
    let bad = |m: String| ValleyError::invalid(&path, None, "", m);
    let file = File::open(&path).map_err(|e| bad(format!("cannot open: {e}")))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|e| bad(format!("not a readable Parquet file: {e}")))?;
    let ids = df
        .column(rc::RUN_ID)
        .and_then(|c| c.str().cloned())
        .map_err(|e| bad(format!("column `{}`: {e}", rc::RUN_ID)))?;
    let lists = |name: &str| -> Result<Option<Vec<Option<Vec<f64>>>>> {
        let Ok(c) = df.column(name) else {
            return Ok(None);
        };
        let list = c.list().map_err(|e| bad(format!("column `{name}`: {e}")))?;
        let mut out = Vec::with_capacity(list.len());
        for s in list.amortized_iter() {
            out.push(match s {
                None => None,
                Some(s) => {
                    let s = s
                        .as_ref()
                        .cast(&DataType::Float64)
                        .map_err(|e| bad(format!("column `{name}`: {e}")))?;
                    let v = s.f64().map_err(|e| bad(format!("column `{name}`: {e}")))?;
                    Some(v.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
                }
            });
        }
        Ok(Some(out))
    };
    let best = lists(BEST_POSITION)?;
    let last = lists(rc::FINAL_POSITION)?;
    let mut out = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        let pick = |col: &Option<Vec<Option<Vec<f64>>>>, src| {
            col.as_ref().and_then(|c| c[i].clone()).map(|x| (x, src))
        };
        let found = pick(&best, Source::Best).or_else(|| pick(&last, Source::Final));
        if let (Some(id), Some(found)) = (id, found) {
            out.insert(id.to_string(), found);
        }
    }
    Ok(out)
}

/// The lowest-energy conformation among `runs`: (run, angles, source,
/// energy).
fn lowest<'a>(
    chain: &ProteinAb,
    runs: &[&'a Run],
    conf: &'a HashMap<String, (Vec<f64>, Source)>,
) -> Option<(&'a Run, &'a [f64], Source, f64)> {
    runs.iter()
        .filter_map(|r| {
            let (x, src) = conf.get(&r.run_id)?;
            (x.len() == chain.dim() && x.iter().all(|v| v.is_finite()))
                .then(|| (*r, x.as_slice(), *src, chain.value(x)))
        })
        .filter(|c| c.3.is_finite())
        .min_by(|a, b| a.3.total_cmp(&b.3))
}

/// Axis ranges centred on `pts`, at equal scales for a plot area of pixel
/// aspect `aspect` (width / height), with half-height `half_h` (the caller
/// shares it between projections so that they have one scale).
fn equal_ranges(pts: &[(f64, f64)], aspect: f64, half_h: f64) -> ((f64, f64), (f64, f64)) {
    let (x0, x1, y0, y1) = bounds(pts);
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let half_w = half_h * aspect;
    ((cx - half_w, cx + half_w), (cy - half_h, cy + half_h))
}

/// (x_min, x_max, y_min, y_max) of `pts`.
fn bounds(pts: &[(f64, f64)]) -> (f64, f64, f64, f64) {
    pts.iter().fold(
        (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ),
        |(x0, x1, y0, y1), &(x, y)| (x0.min(x), x1.max(x), y0.min(y), y1.max(y)),
    )
}

/// The half-height that fits every projection of `r` on `axes` at equal
/// scales, with a margin of 0.8 bond lengths.
fn shared_half_height(r: &[[f64; 3]], axes: &[(usize, usize)], aspect: f64) -> f64 {
    axes.iter()
        .map(|&(a, b)| {
            let pts: Vec<(f64, f64)> = r.iter().map(|q| (q[a], q[b])).collect();
            let (x0, x1, y0, y1) = bounds(&pts);
            ((y1 - y0) / 2.0 + 0.8).max(((x1 - x0) / 2.0 + 0.8) / aspect)
        })
        .fold(0.0, f64::max)
}

/// The chain projected on axes (a, b): bonds, then A and B beads, bead 0
/// ringed.
fn chain_panel(
    title: String,
    seq: &[bool],
    r: &[[f64; 3]],
    (a, b): (usize, usize),
    aspect: f64,
    half_h: f64,
) -> Panel {
    let names = ["x", "y", "z"];
    let mut p = Panel::new(title, names[a], names[b]);
    let pts: Vec<(f64, f64)> = r.iter().map(|q| (q[a], q[b])).collect();
    let (xr, yr) = equal_ranges(&pts, aspect, half_h);
    p.x_range = Some(xr);
    p.y_range = Some(yr);
    p.legend = Legend::UpperRight;
    // One segment per bond: a line through the beads would get a miter
    // spike wherever the projected chain doubles back.
    let bonds: Vec<(f64, f64)> = pts.windows(2).flat_map(|w| [w[0], w[1]]).collect();
    p.series
        .push(Series::new(None, BOND, Style::Segments { width: 4 }, bonds));
    for (is_a, label, ci) in [
        (true, "A (hydrophobic)", A_COLOR),
        (false, "B (polar)", B_COLOR),
    ] {
        let beads: Vec<(f64, f64)> = pts
            .iter()
            .zip(seq)
            .filter(|(_, &s)| s == is_a)
            .map(|(q, _)| *q)
            .collect();
        p.series.push(Series::new(
            Some(label.to_string()),
            color(ci),
            Style::Points { radius: 11 },
            beads,
        ));
    }
    p.series.push(Series::new(
        Some("bead 0".to_string()),
        PALETTE[7],
        Style::Rings { radius: 16 },
        vec![pts[0]],
    ));
    p
}

/// Energy against step for one optimizer: a band per schedule, clipped at
/// `cap`, and the ground state dashed.
fn energy_panel(
    res: &Results,
    landscape: &str,
    optimizer: &str,
    ground: Option<f64>,
    cap: f64,
) -> Panel {
    let mut p = Panel::new(
        format!("energy · {optimizer}"),
        "step",
        format!("energy (clipped at {cap:.2})"),
    );
    p.legend = Legend::Outside;
    let mut last_step: f64 = 0.0;
    for (ci, s) in res.schedules().iter().enumerate() {
        let runs = res.group(landscape, optimizer, s);
        if runs.is_empty() {
            continue;
        }
        add_band(&mut p, res, &runs, ci, s, |t| {
            t.step
                .iter()
                .zip(&t.loss)
                .map(|(&x, &y)| (x, y.min(cap)))
                .collect()
        });
        for t in runs.iter().filter_map(|r| res.trace(r)) {
            last_step = last_step.max(t.step.last().copied().unwrap_or(0.0));
        }
    }
    if let Some(g) = ground {
        p.series.push(Series::new(
            Some(format!("ground state {g:.4}")),
            plotters::style::RGBColor(0, 0, 0),
            Style::Dashed { width: 2 },
            vec![(0.0, g), (last_step.max(1.0), g)],
        ));
        p.y_range = Some((g - 0.08 * cap.max(1.0), cap + 0.04 * cap.max(1.0)));
    }
    p
}

/// One figure per `protein_ab` landscape whose runs kept a conformation:
/// (file stem, figure).
pub fn folds(res: &Results, plan: &Plan) -> Result<Vec<(String, Figure)>> {
    let mut conf: Option<HashMap<String, (Vec<f64>, Source)>> = None;
    let mut out = Vec::new();
    for (li, l) in plan.landscapes.iter().enumerate() {
        let LandscapeKind::ProteinAb(spec) = &l.kind else {
            continue;
        };
        let runs: Vec<&Run> = res
            .runs
            .iter()
            .filter(|r| plan.landscape_of(r.run_index) == Some(li) && !r.diverged)
            .collect();
        let Some(label) = runs.first().map(|r| r.landscape.clone()) else {
            continue;
        };
        let conf = match &conf {
            Some(c) => c,
            None => conf.insert(conformations(&res.dir)?),
        };
        let chain = spec.build();
        let Some((best, x, source, energy)) = lowest(&chain, &runs, conf) else {
            continue;
        };
        let ground = chain.best_known_value();
        let letters: String = chain
            .sequence()
            .iter()
            .map(|&a| if a { 'A' } else { 'B' })
            .collect();
        let r = chain.to_positions(x);
        let what = match ground {
            Some(g) => format!("E = {energy:.4}, gap {:.4}", energy - g),
            None => format!("E = {energy:.4}"),
        };
        let projections: &[(usize, usize)] = if chain.dims() == 2 {
            &[(0, 1)]
        } else {
            &[(0, 1), (0, 2)]
        };
        let optimizers: Vec<String> = {
            let mut v: Vec<String> = Vec::new();
            for r in &runs {
                if !v.contains(&r.optimizer) {
                    v.push(r.optimizer.clone());
                }
            }
            v
        };
        let panels_n = projections.len() + optimizers.len();
        let rows = panels_n.div_ceil(COLS);
        // Plot-area aspect: the panel less its caption, label areas and margins.
        let aspect = (PANEL.0 as f64 - 78.0 - 24.0) / (PANEL.1 as f64 - 52.0 - 24.0 - 30.0);
        let half_h = shared_half_height(&r, projections, aspect);
        let mut panels = Vec::new();
        for &(a, b) in projections {
            let title = if chain.dims() == 2 {
                what.clone()
            } else {
                format!(
                    "{what} · {}-{} projection",
                    ["x", "y", "z"][a],
                    ["x", "y", "z"][b]
                )
            };
            panels.push(chain_panel(
                title,
                chain.sequence(),
                &r,
                (a, b),
                aspect,
                half_h,
            ));
        }
        let cap = ground.map_or(1.0, |g| g.abs().max(1.0));
        for o in &optimizers {
            panels.push(energy_panel(res, &label, o, ground, cap));
        }
        let mut fig = Figure::grid(
            format!(
                "{label} ({}-D, {letters}): lowest {} conformation of {} runs ({} · {}, seed {})",
                chain.dims(),
                match source {
                    Source::Best => "best-so-far",
                    Source::Final => "final",
                },
                runs.len(),
                best.optimizer,
                best.schedule,
                best.seed
            ),
            COLS,
            panels,
        );
        fig.size = (PANEL.0 * COLS as u32, 50 + PANEL.1 * rows as u32);
        out.push((format!("fold_{}", super::contour::slug(&label)), fig));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::protein_ab::ProteinAbSpec;

    const SWEEP: &str = r#"
name = "fold_test"
steps = 200
seeds = 3
trace_every = 10
trace_positions = true
hessian = false

[[landscape]]
name = "fib13"
kind = "protein_ab"
sequence = "fibonacci:13"
dims = 2

[[landscape]]
name = "fib8_3d"
kind = "protein_ab"
sequence = "BABABBAB"
dims = 3

[[landscape]]
name = "bowl"
kind = "quadratic"
dim = 2
eigenvalues = [1.0, 2.0]

[[optimizer]]
kind = "adam"

[[schedule]]
kind = "constant"
lr = 0.002
"#;

    #[test]
    fn one_figure_per_protein_landscape_from_the_stored_conformations() {
        let (_tmp, dir) = crate::plot::tests::run_sweep(SWEEP);
        let res = Results::read(&dir).unwrap();
        let (plan, _) = crate::results::recorded_plan(&dir).unwrap();
        let figs = folds(&res, &plan).unwrap();
        let stems: Vec<&str> = figs.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(stems, ["fold_fib13", "fold_fib8_3d"]);
        // 2-D: one chain panel and one energy panel; 3-D: two projections.
        assert_eq!(figs[0].1.panels.len(), 2);
        assert_eq!(figs[1].1.panels.len(), 3);
        // The drawn conformation is the run with the lowest best-so-far loss
        // as the runner recorded it (runs.parquet `best_loss`, the protein
        // keeps its best point), and its energy in the title is that loss.
        let conf = conformations(&dir).unwrap();
        let table = crate::results::frames::read_parquet(&dir.join("runs.parquet")).unwrap();
        let ids = table.column(rc::RUN_ID).unwrap().str().unwrap().clone();
        let best_loss = table.column(rc::BEST_LOSS).unwrap().f64().unwrap().clone();
        let best_of = |id: &str| {
            (0..ids.len())
                .find(|&i| ids.get(i) == Some(id))
                .and_then(|i| best_loss.get(i))
                .unwrap()
        };
        for (stem, fig) in &figs {
            let label = stem.strip_prefix("fold_").unwrap();
            let runs: Vec<&Run> = res.runs.iter().filter(|r| r.landscape == label).collect();
            assert_eq!(runs.len(), 3);
            let best = runs
                .iter()
                .min_by(|a, b| best_of(&a.run_id).total_cmp(&best_of(&b.run_id)))
                .unwrap();
            assert!(
                fig.title.contains(&format!("seed {})", best.seed)),
                "{}",
                fig.title
            );
            assert!(
                fig.title
                    .contains("lowest best-so-far conformation of 3 runs"),
                "{}",
                fig.title
            );
            let e = format!("E = {:.4}", best_of(&best.run_id));
            assert!(
                fig.panels[0].title.starts_with(&e),
                "{} vs {e}",
                fig.panels[0].title
            );
            assert_eq!(conf[&best.run_id].1, Source::Best);
            // The bonds drawn, one segment each, are one bond length long
            // and join bead to bead.
            let bonds = &fig.panels[0].series[0].points;
            if label == "fib13" {
                assert_eq!(bonds.len(), 2 * 12);
                for w in bonds.chunks_exact(2) {
                    let d = ((w[1].0 - w[0].0).powi(2) + (w[1].1 - w[0].1).powi(2)).sqrt();
                    assert!((d - 1.0).abs() < 1e-12, "{d}");
                }
                for pair in bonds.chunks_exact(2).collect::<Vec<_>>().windows(2) {
                    assert_eq!(pair[0][1], pair[1][0]);
                }
            }
        }
    }

    #[test]
    fn best_position_is_preferred_where_present() {
        use polars::prelude::Series as PlSeries;
        let tmp = tempfile::tempdir().unwrap();
        let final_pos = PlSeries::new(
            rc::FINAL_POSITION.into(),
            [
                PlSeries::new("".into(), [1.0, 2.0]),
                PlSeries::new("".into(), [3.0, 4.0]),
            ],
        );
        let best_pos = PlSeries::new(
            BEST_POSITION.into(),
            [Some(PlSeries::new("".into(), [5.0, 6.0])), None],
        );
        let mut df = DataFrame::new(
            2,
            vec![
                Column::new(rc::RUN_ID.into(), ["a", "b"]),
                final_pos.into(),
                best_pos.into(),
            ],
        )
        .unwrap();
        let path = tmp.path().join(RUNS_FILE);
        ParquetWriter::new(File::create(&path).unwrap())
            .finish(&mut df)
            .unwrap();
        let conf = conformations(tmp.path()).unwrap();
        assert_eq!(conf["a"], (vec![5.0, 6.0], Source::Best));
        assert_eq!(conf["b"], (vec![3.0, 4.0], Source::Final));
    }

    #[test]
    fn projections_share_one_scale() {
        // A 3-D chain drawn in two panels: equal units per pixel on every axis
        // of both (the plot area's aspect), every bead inside.
        let chain = ProteinAbSpec {
            sequence: "fibonacci:13".into(),
            dims: 3,
        }
        .build();
        let x: Vec<f64> = (0..chain.dim()).map(|i| (1.3 * i as f64).sin()).collect();
        let r = chain.to_positions(&x);
        let axes = [(0, 1), (0, 2)];
        let aspect = 1.4;
        let h = shared_half_height(&r, &axes, aspect);
        for (a, b) in axes {
            let pts: Vec<(f64, f64)> = r.iter().map(|q| (q[a], q[b])).collect();
            let ((x0, x1), (y0, y1)) = equal_ranges(&pts, aspect, h);
            assert!(((x1 - x0) / (y1 - y0) - aspect).abs() < 1e-12);
            assert!((y1 - y0 - 2.0 * h).abs() < 1e-12);
            for p in &pts {
                assert!(p.0 > x0 && p.0 < x1 && p.1 > y0 && p.1 < y1);
            }
        }
    }

    /// Pixels of `b` that differ from `a`, as (column, row).
    fn changed(a: &[u8], b: &[u8], width: usize) -> Vec<(usize, usize)> {
        a.chunks_exact(3)
            .zip(b.chunks_exact(3))
            .enumerate()
            .filter(|(_, (p, q))| p != q)
            .map(|(i, _)| (i % width, i / width))
            .collect()
    }

    #[test]
    fn bonds_stay_between_their_beads_where_the_chain_doubles_back() {
        // The 3-D race's best fold (fib13, E = -4.9627) turns back on itself
        // at bead 2 in its x-z projection. Drawn as one polyline, the turn got
        // a miter spike from bead 0 to the edge of the plot (281 pixels
        // outside the beads here); every bond pixel must lie within the
        // beads' extent. The panel is drawn as `folds` draws it: at the
        // figure's panel size and the scale shared with x-y.
        let letters = crate::landscape::protein_ab::fibonacci_sequence(13).unwrap();
        let seq = crate::landscape::protein_ab::parse_sequence(&letters).unwrap();
        let r = [
            [0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [1.062, -0.9981, 0.0],
            [0.0721, -1.1396, 0.0079],
            [-0.4653, -1.974, 0.13],
            [-1.2125, -1.508, 0.6038],
            [-0.793, -0.6028, 0.5359],
            [-1.413, 0.1022, 0.8802],
            [-1.0809, 0.3223, -0.037],
            [-1.5893, 0.5332, -0.8719],
            [-1.3104, -0.2986, -1.3519],
            [-0.7327, -0.6142, -0.5991],
            [-1.3062, -1.4251, -0.7156],
        ];
        let aspect = (PANEL.0 as f64 - 78.0 - 24.0) / (PANEL.1 as f64 - 52.0 - 24.0 - 30.0);
        let half_h = shared_half_height(&r, &[(0, 1), (0, 2)], aspect);
        let full = chain_panel("x-z".into(), &seq, &r, (0, 2), aspect, half_h);
        assert!(matches!(full.series[0].style, Style::Segments { width: 4 }));
        let mut beads = full.clone();
        beads.series.remove(0);
        let mut axes = full.clone();
        axes.series.clear();
        let render = |p: Panel| {
            let mut fig = Figure::grid("", 1, vec![p]);
            fig.size = (PANEL.0, 50 + PANEL.1);
            fig.rgb()
        };
        let width = PANEL.0 as usize;
        let (full, beads, axes) = (render(full), render(beads), render(axes));
        let bead_px = changed(&axes, &beads, width);
        let bond_px = changed(&beads, &full, width);
        assert!(!bond_px.is_empty(), "no bond drawn");
        let (x0, x1) = (
            bead_px.iter().map(|p| p.0).min().unwrap(),
            bead_px.iter().map(|p| p.0).max().unwrap(),
        );
        let (y0, y1) = (
            bead_px.iter().map(|p| p.1).min().unwrap(),
            bead_px.iter().map(|p| p.1).max().unwrap(),
        );
        let outside: Vec<_> = bond_px
            .iter()
            .filter(|p| p.0 + 2 < x0 || p.0 > x1 + 2 || p.1 + 2 < y0 || p.1 > y1 + 2)
            .collect();
        assert!(
            outside.is_empty(),
            "{} bond pixels outside the beads' extent {:?}..{:?}, e.g. {:?}",
            outside.len(),
            (x0, y0),
            (x1, y1),
            &outside[..outside.len().min(5)]
        );
    }
}
