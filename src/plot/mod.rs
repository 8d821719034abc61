//! Figures (plotters), regenerated from a results folder.
//!
//! `valley plot DIR` reads only `DIR/runs.parquet`, `DIR/trace.parquet` and
//! `DIR/sweep.json` and writes PNG and SVG files into `DIR/figures/`:
//!
//! | file | content |
//! |------|---------|
//! | `lr` | lr (and momentum where a schedule varies it) against step |
//! | `update_norm` | ‖x_(t+1) − x_t‖: median, 10–90 % band over seeds (C2) |
//! | `loss` | loss: median, 10–90 % band |
//! | `final_loss` | ECDF of the final loss over seeds (COCO style) |
//! | `sharpness` | final sharpness vs final loss, with 2(1+β)/lr_final (C3) |
//! | `sharpness_trace` | sharpness during the run vs 2/lr_t, 2(1+β)/lr_t |
//! | `edge_of_stability` | constant lr, no momentum: sharpness per lr against 2/lr, one panel per landscape |
//! | `contour_<landscape>` | 2-D landscapes: contours, trajectories, minima (a game's: the players' plane and the equilibrium) |
//! | `distance_<landscape>` | games: distance to the equilibrium against step, median and 10–90 % band |
//! | `fold_<landscape>` | protein_ab: lowest conformation kept, energy against step |
//!
//! Statistics are in [`stats`] (numpy-linear quantiles, ECDF), figure
//! contents in [`figures`], [`contour`] and [`fold`], drawing in [`render`]. The same
//! data give byte-identical files.

pub mod basins;
pub mod contour;
pub mod data;
pub mod figures;
pub mod fold;
pub mod games;
pub mod precision;
pub mod render;
pub mod stats;

use crate::error::{Result, ValleyError};
use crate::schedule::Schedule;
use render::{color, Figure, Legend, Panel, Series, Style};
use std::path::{Path, PathBuf};

/// The folder figures go into.
pub use crate::results::FIGURES_DIR;

fn draw_failed(path: &Path, e: render::DrawError) -> ValleyError {
    ValleyError::Other(format!("plot {}: {}", path.display(), e.0))
}

/// Writes `DIR/figures/<stem>.png` and `.svg`.
fn save_both(dir: &Path, stem: &str, fig: &Figure, written: &mut Vec<PathBuf>) -> Result<()> {
    for ext in ["png", "svg"] {
        let path = dir.join(format!("{stem}.{ext}"));
        fig.save(&path).map_err(|e| draw_failed(&path, e))?;
        written.push(path);
    }
    Ok(())
}

/// Every figure of a results folder into `DIR/figures/`; returns the files
/// written, in order.
pub fn plot_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let res = data::Results::read(dir)?;
    if res.runs.is_empty() {
        return Err(ValleyError::invalid(
            dir.join(crate::results::RUNS_FILE),
            None,
            "",
            "has no runs to plot",
        ));
    }
    let (plan, _) = crate::results::recorded_plan(dir)?;
    let out = dir.join(FIGURES_DIR);
    std::fs::create_dir_all(&out).map_err(|e| crate::results::io_at(&out, e))?;
    let mut written = Vec::new();
    save_both(&out, "lr", &figures::lr(&res), &mut written)?;
    save_both(
        &out,
        "update_norm",
        &figures::update_norm(&res),
        &mut written,
    )?;
    save_both(&out, "loss", &figures::loss(&res), &mut written)?;
    save_both(&out, "final_loss", &figures::final_loss(&res), &mut written)?;
    if let Some(f) = figures::sharpness(&res) {
        save_both(&out, "sharpness", &f, &mut written)?;
    }
    if let Some(f) = figures::sharpness_trace(&res) {
        save_both(&out, "sharpness_trace", &f, &mut written)?;
    }
    if let Some(f) = figures::edge_of_stability(&res) {
        save_both(&out, "edge_of_stability", &f, &mut written)?;
    }
    for (stem, f) in precision::figures(&res, dir)? {
        save_both(&out, &stem, &f, &mut written)?;
    }
    for (stem, f) in contour::contours(&res, &plan) {
        save_both(&out, &stem, &f, &mut written)?;
    }
    for (stem, f) in games::distances(&res, &plan) {
        save_both(&out, &stem, &f, &mut written)?;
    }
    for (stem, f) in basins::basin_maps(&res, &plan) {
        save_both(&out, &stem, &f, &mut written)?;
    }
    for (stem, f) in fold::folds(&res, &plan)? {
        save_both(&out, &stem, &f, &mut written)?;
    }
    Ok(written)
}

/// Every figure of a results folder into `DIR/figures/`.
pub fn plot_dir(dir: &Path) -> Result<()> {
    let written = plot_files(dir)?;
    eprintln!(
        "{} figures -> {}",
        written.len(),
        dir.join(FIGURES_DIR).display()
    );
    Ok(())
}

/// The figure of schedules: lr against step (log axis where it spans
/// decades) and, where one of them sets it, momentum in a second panel. One
/// schedule is drawn alone; several get one curve each, in the palette's
/// order, labelled in a legend beside the plot; a curve identical to an
/// earlier one is dashed so that both stay visible.
pub fn schedule_panels(schedules: &[(String, Schedule)], steps: u64) -> Vec<Panel> {
    let one = match schedules {
        [(label, _)] => Some(label.as_str()),
        _ => None,
    };
    let title = |what: &str| match one {
        Some(label) => format!("{label}: {what}"),
        None => what.to_string(),
    };
    let mut lr = Panel::new(title("learning rate"), "step", "lr");
    let mut m = Panel::new(title("momentum"), "step", "momentum");
    for (i, (label, schedule)) in schedules.iter().enumerate() {
        let add = |p: &mut Panel, c: usize, points: Vec<(f64, f64)>| {
            let style = if p.series.iter().any(|s| s.points == points) {
                Style::Dashed { width: 3 }
            } else {
                Style::Line { width: 3 }
            };
            p.series
                .push(Series::new(Some(label.clone()), color(c), style, points));
        };
        add(
            &mut lr,
            i,
            (0..steps).map(|t| (t as f64, schedule.lr(t))).collect(),
        );
        if schedule.sets_momentum() {
            add(
                &mut m,
                if one.is_some() { 1 } else { i },
                (0..steps)
                    .filter_map(|t| Some((t as f64, schedule.momentum(t)?)))
                    .collect(),
            );
        }
    }
    lr.auto_log_y();
    if one.is_none() {
        lr.legend = Legend::Outside;
        m.legend = Legend::Outside;
    }
    let mut panels = vec![lr];
    if !m.series.is_empty() {
        panels.push(m);
    }
    panels
}

/// Checks that `path` names a figure valley can draw (`.png` or `.svg`), so a
/// command can refuse a bad `--plot` before it writes anything.
pub fn check_figure_path(path: &Path) -> Result<()> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if matches!(ext.as_deref(), Some("png" | "svg")) {
        Ok(())
    } else {
        Err(ValleyError::invalid(
            "command line",
            None,
            "--plot",
            format!("must end in .png or .svg, got {}", path.display()),
        ))
    }
}

/// The lr (and momentum) curves of schedules (one or more, with their
/// labels), PNG or SVG by the extension.
pub fn schedule_figure(path: &Path, schedules: &[(String, Schedule)], steps: u64) -> Result<()> {
    check_figure_path(path)?;
    let panels = schedule_panels(schedules, steps);
    let n = panels.len();
    let title = match schedules {
        [(label, schedule)] => {
            format!("Schedule {label} ({}), {steps} steps", schedule.kind_name())
        }
        _ => format!("{} schedules, {steps} steps", schedules.len()),
    };
    let mut fig = Figure::grid(title, 1, panels);
    fig.size = (1200, if n == 1 { 760 } else { 1000 });
    fig.save(path).map_err(|e| draw_failed(path, e))
}

#[cfg(test)]
mod tests;
