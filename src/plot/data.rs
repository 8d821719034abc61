//! A results folder read into plain vectors: one [`Run`] per row of
//! `runs.parquet` and one [`Trace`] per run from `trace.parquet`, plus the
//! axis columns listed in `sweep.json` (`plan.axes[].column`).
//!
//! Runs are labelled by *variant*: the table's label followed by the values of
//! its sweep axes (`sgd momentum=0.9`), so that runs of one group
//! (landscape, optimizer, schedule variants) differ only in seed.

use crate::error::{Result, ValleyError};
use crate::results::frames::{RUNS_FILE, SWEEP_FILE, TRACE_FILE};
use crate::schema::{runs as rc, trace as tc};
use polars::prelude::*;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// One row of `runs.parquet`.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub run_id: String,
    pub run_index: usize,
    /// Landscape label with its axis values, e.g. `rastrigin dim=2`.
    pub landscape: String,
    /// Optimizer label with its axis values, e.g. `sgd momentum=0.9`.
    pub optimizer: String,
    /// Schedule label with its axis values.
    pub schedule: String,
    pub optimizer_kind: String,
    pub dim: usize,
    pub seed: u64,
    pub final_loss: f64,
    pub final_lr: f64,
    pub sharpness: Option<f64>,
    pub diverged: bool,
    /// The known minimum whose basin the final point lies in (by descent).
    pub basin: Option<String>,
}

/// The traced steps of one run (steps as f64 for plotting).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    pub step: Vec<f64>,
    pub lr: Vec<f64>,
    pub momentum: Vec<Option<f64>>,
    pub loss: Vec<f64>,
    pub update_norm: Vec<Option<f64>>,
    pub sharpness: Vec<Option<f64>>,
    /// x_t where positions are traced (dim <= 2 by default).
    pub position: Vec<Option<Vec<f64>>>,
}

impl Trace {
    /// `(step, value)` pairs of an optional column, skipping nulls.
    pub fn pairs(&self, col: &[Option<f64>]) -> Vec<(f64, f64)> {
        self.step
            .iter()
            .zip(col)
            .filter_map(|(&s, v)| v.map(|v| (s, v)))
            .collect()
    }

    /// The momentum of the last traced step, where set.
    pub fn last_momentum(&self) -> Option<f64> {
        self.momentum.iter().rev().find_map(|m| *m)
    }
}

/// A results folder in memory.
#[derive(Debug, Clone)]
pub struct Results {
    pub dir: PathBuf,
    /// Sorted by `run_index` (grid order).
    pub runs: Vec<Run>,
    pub traces: HashMap<String, Trace>,
}

fn invalid(path: &Path, message: impl Into<String>) -> ValleyError {
    ValleyError::invalid(path, None, "", message)
}

/// Reads a Parquet file; a missing or unreadable file is invalid input.
fn read(path: &Path) -> Result<DataFrame> {
    let file = File::open(path).map_err(|e| invalid(path, format!("cannot open: {e}")))?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| invalid(path, format!("not a readable Parquet file: {e}")))
}

/// Column access that names the file and column on failure.
struct Table<'a> {
    path: &'a Path,
    df: &'a DataFrame,
}

impl Table<'_> {
    fn column(&self, name: &str) -> Result<&Column> {
        self.df
            .column(name)
            .map_err(|_| invalid(self.path, format!("missing column `{name}`")))
    }

    fn bad(&self, name: &str, e: PolarsError) -> ValleyError {
        invalid(self.path, format!("column `{name}`: {e}"))
    }

    fn f64s(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let c = self
            .column(name)?
            .cast(&DataType::Float64)
            .map_err(|e| self.bad(name, e))?;
        Ok(c.f64().map_err(|e| self.bad(name, e))?.iter().collect())
    }

    fn strs(&self, name: &str) -> Result<Vec<Option<String>>> {
        let c = self.column(name)?;
        Ok(c.str()
            .map_err(|e| self.bad(name, e))?
            .iter()
            .map(|s| s.map(str::to_string))
            .collect())
    }

    fn bools(&self, name: &str) -> Result<Vec<Option<bool>>> {
        let c = self.column(name)?;
        Ok(c.bool().map_err(|e| self.bad(name, e))?.iter().collect())
    }

    /// A column rendered as text for labels: floats in Rust's shortest form
    /// (`0`, `0.9`), booleans and integers plainly, nulls as `None`.
    fn rendered(&self, name: &str) -> Result<Vec<Option<String>>> {
        let c = self.column(name)?;
        match c.dtype() {
            DataType::String => self.strs(name),
            DataType::Boolean => Ok(self
                .bools(name)?
                .into_iter()
                .map(|b| b.map(|b| b.to_string()))
                .collect()),
            DataType::Float32 | DataType::Float64 => Ok(self
                .f64s(name)?
                .into_iter()
                .map(|v| v.map(|v| v.to_string()))
                .collect()),
            _ => {
                let s = c.cast(&DataType::String).map_err(|e| self.bad(name, e))?;
                Ok(s.str()
                    .map_err(|e| self.bad(name, e))?
                    .iter()
                    .map(|s| s.map(str::to_string))
                    .collect())
            }
        }
    }

    fn lists(&self, name: &str) -> Result<Vec<Option<Vec<f64>>>> {
        let c = self.column(name)?;
        let list = c.list().map_err(|e| self.bad(name, e))?;
        list.amortized_iter()
            .map(|s| {
                s.map(|s| {
                    let s = s
                        .as_ref()
                        .cast(&DataType::Float64)
                        .map_err(|e| self.bad(name, e))?;
                    Ok(s.f64()
                        .map_err(|e| self.bad(name, e))?
                        .iter()
                        .map(|v| v.unwrap_or(f64::NAN))
                        .collect())
                })
                .transpose()
            })
            .collect()
    }
}

/// The sweep-axis column names recorded in `sweep.json`.
pub fn axis_columns(dir: &Path) -> Result<Vec<String>> {
    let path = dir.join(SWEEP_FILE);
    let text =
        std::fs::read_to_string(&path).map_err(|e| invalid(&path, format!("cannot read: {e}")))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ValleyError::invalid(&path, Some(e.line()), "", e.to_string()))?;
    Ok(json["plan"]["axes"]
        .as_array()
        .map(|axes| {
            axes.iter()
                .filter_map(|a| a["column"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

/// `label` followed by ` name=value` for each axis of `section` the run sets.
fn variant_label(
    label: &str,
    section: &str,
    axes: &[(String, Vec<Option<String>>)],
    row: usize,
) -> String {
    let mut out = label.to_string();
    for (col, values) in axes {
        let Some(name) = col.strip_prefix(section).and_then(|r| r.strip_prefix('.')) else {
            continue;
        };
        if let Some(v) = &values[row] {
            out.push_str(&format!(" {name}={v}"));
        }
    }
    out
}

impl Results {
    /// Reads `DIR/runs.parquet`, `DIR/trace.parquet` and the axis list of
    /// `DIR/sweep.json`.
    pub fn read(dir: &Path) -> Result<Results> {
        if !dir.is_dir() {
            return Err(invalid(dir, "no such results folder"));
        }
        let axes = axis_columns(dir)?;
        crate::results::record::check_rows_belong(dir)?;
        let runs = Self::read_runs(&dir.join(RUNS_FILE), &axes)?;
        let traces = Self::read_traces(&dir.join(TRACE_FILE))?;
        Ok(Results {
            dir: dir.to_path_buf(),
            runs,
            traces,
        })
    }

    fn read_runs(path: &Path, axes: &[String]) -> Result<Vec<Run>> {
        let df = read(path)?;
        let t = Table { path, df: &df };
        let run_id = t.strs(rc::RUN_ID)?;
        let run_index = t.f64s(rc::RUN_INDEX)?;
        let landscape = t.strs(rc::LANDSCAPE)?;
        let optimizer = t.strs(rc::OPTIMIZER)?;
        let schedule = t.strs(rc::SCHEDULE)?;
        let optimizer_kind = t.strs(rc::OPTIMIZER_KIND)?;
        let dim = t.f64s(rc::DIM)?;
        let seed = t.f64s(rc::SEED)?;
        let final_loss = t.f64s(rc::FINAL_LOSS)?;
        let final_lr = t.f64s(rc::FINAL_LR)?;
        let sharpness = t.f64s(rc::SHARPNESS)?;
        let diverged = t.bools(rc::DIVERGED)?;
        let basin = t.strs(rc::BASIN)?;
        let axis_values: Vec<(String, Vec<Option<String>>)> = axes
            .iter()
            .map(|c| Ok((c.clone(), t.rendered(c)?)))
            .collect::<Result<_>>()?;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        // Axes of sections other than the three tables go with the optimizer.
        let mut opt_axes = axis_values.clone();
        for (c, _) in opt_axes.iter_mut() {
            if !["landscape.", "optimizer.", "schedule."]
                .iter()
                .any(|p| c.starts_with(p))
            {
                *c = format!("optimizer.{c}");
            }
        }
        let mut runs: Vec<Run> = (0..df.height())
            .map(|i| Run {
                run_id: text(&run_id[i]),
                run_index: run_index[i].unwrap_or(i as f64) as usize,
                landscape: variant_label(&text(&landscape[i]), "landscape", &axis_values, i),
                optimizer: variant_label(&text(&optimizer[i]), "optimizer", &opt_axes, i),
                schedule: variant_label(&text(&schedule[i]), "schedule", &axis_values, i),
                optimizer_kind: text(&optimizer_kind[i]),
                dim: dim[i].unwrap_or(0.0) as usize,
                seed: seed[i].unwrap_or(0.0) as u64,
                final_loss: final_loss[i].unwrap_or(f64::NAN),
                final_lr: final_lr[i].unwrap_or(f64::NAN),
                sharpness: sharpness[i].filter(|v| v.is_finite()),
                diverged: diverged[i].unwrap_or(false),
                basin: basin[i].clone(),
            })
            .collect();
        runs.sort_by(|a, b| a.run_index.cmp(&b.run_index).then(a.run_id.cmp(&b.run_id)));
        Ok(runs)
    }

    fn read_traces(path: &Path) -> Result<HashMap<String, Trace>> {
        let df = read(path)?;
        let t = Table { path, df: &df };
        let run_id = t.strs(tc::RUN_ID)?;
        let step = t.f64s(tc::STEP)?;
        let lr = t.f64s(tc::LR)?;
        let momentum = t.f64s(tc::MOMENTUM)?;
        let loss = t.f64s(tc::LOSS)?;
        let update_norm = t.f64s(tc::UPDATE_NORM)?;
        let sharpness = t.f64s(tc::SHARPNESS)?;
        let position = t.lists(tc::POSITION)?;
        let mut traces: HashMap<String, Trace> = HashMap::new();
        for i in 0..df.height() {
            let tr = traces
                .entry(run_id[i].clone().unwrap_or_default())
                .or_default();
            tr.step.push(step[i].unwrap_or(f64::NAN));
            tr.lr.push(lr[i].unwrap_or(f64::NAN));
            tr.momentum.push(momentum[i]);
            tr.loss.push(loss[i].unwrap_or(f64::NAN));
            tr.update_norm.push(update_norm[i]);
            tr.sharpness.push(sharpness[i]);
            tr.position.push(position[i].clone());
        }
        // Rows of a run are written in step order, but do not rely on it.
        for tr in traces.values_mut() {
            if tr.step.windows(2).any(|w| w[0] > w[1]) {
                let mut order: Vec<usize> = (0..tr.step.len()).collect();
                order.sort_by(|&a, &b| tr.step[a].total_cmp(&tr.step[b]));
                let pick = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<_>>();
                let pick_opt = |v: &[Option<f64>]| order.iter().map(|&i| v[i]).collect::<Vec<_>>();
                *tr = Trace {
                    step: pick(&tr.step),
                    lr: pick(&tr.lr),
                    momentum: pick_opt(&tr.momentum),
                    loss: pick(&tr.loss),
                    update_norm: pick_opt(&tr.update_norm),
                    sharpness: pick_opt(&tr.sharpness),
                    position: order.iter().map(|&i| tr.position[i].clone()).collect(),
                };
            }
        }
        Ok(traces)
    }

    /// The distinct values of `key` over the runs, in order of first
    /// appearance in grid order (deterministic, and follows the sweep file).
    pub fn distinct(&self, key: impl Fn(&Run) -> &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.runs {
            let k = key(r);
            if !out.iter().any(|o| o == k) {
                out.push(k.to_string());
            }
        }
        out
    }

    pub fn landscapes(&self) -> Vec<String> {
        self.distinct(|r| &r.landscape)
    }

    pub fn optimizers(&self) -> Vec<String> {
        self.distinct(|r| &r.optimizer)
    }

    pub fn schedules(&self) -> Vec<String> {
        self.distinct(|r| &r.schedule)
    }

    /// The runs of landscape table variant `li` of `plan`, in file order.
    pub fn of_landscape(&self, plan: &crate::config::Plan, li: usize) -> Vec<&Run> {
        self.runs
            .iter()
            .filter(|r| plan.landscape_of(r.run_index) == Some(li))
            .collect()
    }

    /// The runs of one group, in seed order.
    pub fn group(&self, landscape: &str, optimizer: &str, schedule: &str) -> Vec<&Run> {
        let mut g: Vec<&Run> = self
            .runs
            .iter()
            .filter(|r| {
                r.landscape == landscape && r.optimizer == optimizer && r.schedule == schedule
            })
            .collect();
        g.sort_by(|a, b| a.seed.cmp(&b.seed).then(a.run_index.cmp(&b.run_index)));
        g
    }

    pub fn trace(&self, run: &Run) -> Option<&Trace> {
        self.traces.get(&run.run_id)
    }
}
