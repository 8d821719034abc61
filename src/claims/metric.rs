//! A claim's metric per run: a numeric runs.parquet column, or a
//! trace.parquet column summarised over a window of steps (`mean`, `max`,
//! `min`, or `changes`: how often the value differs from the previous
//! traced step's), optionally divided by a second window of the same run.

use super::Claim;
use crate::compare;
use crate::error::{Result, ValleyError};
use crate::schema::runs as rc;
use crate::schema::trace as tc;
use polars::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// How a trace window is summarised per run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    Mean,
    Max,
    Min,
    /// The number of traced steps whose value differs from the previous
    /// traced step's (inside the window).
    Changes,
}

impl Stat {
    pub fn as_str(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::Max => "max",
            Stat::Min => "min",
            Stat::Changes => "changes",
        }
    }
}

/// A trace metric summarised over the traced steps `from <= step < to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: u64,
    pub to: u64,
    pub stat: Stat,
}

impl Window {
    pub fn label(&self) -> String {
        format!("{}@{}..{}", self.stat.as_str(), self.from, self.to)
    }
}

/// The numeric columns of trace.parquet a windowed claim may name.
pub const TRACE_METRICS: [&str; 12] = [
    tc::LOSS,
    tc::LR,
    tc::MOMENTUM,
    tc::GRAD_NORM,
    tc::UPDATE_NORM,
    tc::GRAD_COSINE,
    tc::EFFECTIVE_STEP,
    tc::SHRINK,
    tc::SHARPNESS,
    tc::BATCH_LOSS,
    tc::PRECLIP_NORM,
    tc::UPDATE_UNDERFLOW,
];

/// Trace columns that only `stat = "changes"` may summarise (labels).
pub const TRACE_LABELS: [&str; 1] = [tc::BASIN];

/// Per run (run_id), the traced (step, value) of `column` in step order.
/// A label column (string) is coded by its distinct values, which is
/// enough for `changes`.
pub type Traces = HashMap<String, Vec<(u64, Option<f64>)>>;

pub fn read_trace(dir: &Path, column: &str) -> Result<Traces> {
    let path = dir.join(crate::results::TRACE_FILE);
    let bad = |e: PolarsError| {
        ValleyError::invalid(&path, None, "", format!("not a readable trace: {e}"))
    };
    let file = std::fs::File::open(&path)
        .map_err(|e| ValleyError::invalid(&path, None, "", format!("cannot open: {e}")))?;
    let trace = ParquetReader::new(file)
        .with_columns(Some(vec![
            tc::RUN_ID.into(),
            tc::STEP.into(),
            column.into(),
        ]))
        .finish()
        .map_err(bad)?;
    let ids = trace
        .column(tc::RUN_ID)
        .map_err(bad)?
        .str()
        .map_err(bad)?
        .clone();
    let step = trace
        .column(tc::STEP)
        .map_err(bad)?
        .cast(&DataType::UInt64)
        .map_err(bad)?;
    let step = step.u64().map_err(bad)?;
    let col = trace.column(column).map_err(bad)?;
    let values: Vec<Option<f64>> = if col.dtype() == &DataType::String {
        let mut codes: HashMap<String, f64> = HashMap::new();
        col.str()
            .map_err(bad)?
            .iter()
            .map(|v| {
                let v = v?;
                let next = codes.len() as f64;
                Some(*codes.entry(v.to_string()).or_insert(next))
            })
            .collect()
    } else {
        col.cast(&DataType::Float64)
            .map_err(bad)?
            .f64()
            .map_err(bad)?
            .iter()
            .collect()
    };
    let mut out: Traces = HashMap::new();
    for ((id, t), v) in ids.iter().zip(step.iter()).zip(values) {
        let (Some(id), Some(t)) = (id, t) else {
            continue;
        };
        out.entry(id.to_string()).or_default().push((t, v));
    }
    for s in out.values_mut() {
        s.sort_by_key(|q| q.0);
    }
    Ok(out)
}

/// The window statistic of one run's series; `None` where the window holds
/// no (non-null, non-NaN) value.
fn summarise(series: &[(u64, Option<f64>)], w: &Window) -> Option<f64> {
    let inside: Vec<f64> = series
        .iter()
        .filter(|(t, _)| *t >= w.from && *t < w.to)
        .filter_map(|(_, v)| v.filter(|x| !x.is_nan()))
        .collect();
    if inside.is_empty() {
        return None;
    }
    Some(match w.stat {
        Stat::Mean => inside.iter().sum::<f64>() / inside.len() as f64,
        Stat::Max => inside.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Stat::Min => inside.iter().copied().fold(f64::INFINITY, f64::min),
        Stat::Changes => inside.windows(2).filter(|p| p[0] != p[1]).count() as f64,
    })
}

pub fn run_ids(runs: &DataFrame, path: &Path) -> Result<Vec<String>> {
    compare::rendered(runs, rc::RUN_ID, path)
}

/// The claim's metric per run, in the row order of `runs` (`None`: null).
pub fn run_values(
    runs: &DataFrame,
    dir: &Path,
    path: &Path,
    claim: &Claim,
) -> Result<Vec<Option<f64>>> {
    let Some(w) = &claim.window else {
        let bad = |e: PolarsError| {
            ValleyError::invalid(path, None, "", format!("column `{}`: {e}", claim.metric))
        };
        return Ok(runs
            .column(&claim.metric)
            .map_err(bad)?
            .cast(&DataType::Float64)
            .map_err(bad)?
            .f64()
            .map_err(bad)?
            .iter()
            .collect());
    };
    let trace = read_trace(dir, &claim.metric)?;
    Ok(run_ids(runs, path)?
        .iter()
        .map(|id| {
            let s = trace.get(id)?;
            let v = summarise(s, w)?;
            match &claim.relative_to {
                None => Some(v),
                Some(r) => Some(v / summarise(s, r)?),
            }
        })
        .collect())
}
