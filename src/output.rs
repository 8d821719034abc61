//! Parquet output, written durably as runs finish.
//!
//! While a sweep runs, finished runs are buffered and flushed at least every
//! [`FLUSH_SECONDS`] seconds into numbered part files under `DIR/parts/`: first
//! `trace-N.parquet`, then `runs-N.parquet`, each written to a temporary name
//! and renamed, so a part exists only when complete. A run counts as finished
//! once its `runs` part exists; a sweep killed at any moment loses only the
//! runs in flight and those finished in the last flush interval. `--resume`
//! reads the finished run ids from the parts (and from a consolidated
//! `runs.parquet`), removes trace parts without their runs part, and runs only
//! what is missing. At the end the parts are joined into `runs.parquet`
//! (sorted by plan order) and `trace.parquet` (streamed part by part, so memory
//! does not grow with runs × steps), zstd-compressed, with provenance in the
//! Parquet key-value metadata.

use crate::config::plan::render_value;
use crate::config::Plan;
use crate::curvature::CurvatureMethod;
use crate::error::{Result, ValleyError};
use crate::runner::{RunResult, RunRow, TraceColumns};
use crate::schema::{runs as rc, trace as tc};
use polars::io::parquet::write::KeyValueMetadata;
use polars::prelude::*;
use std::collections::HashSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Longest time finished runs wait in memory before they are flushed.
pub const FLUSH_SECONDS: u64 = 2;
/// Buffered trace rows that force a flush.
const FLUSH_TRACE_ROWS: usize = 500_000;

pub const RUNS_FILE: &str = "runs.parquet";
pub const TRACE_FILE: &str = "trace.parquet";
pub const SWEEP_FILE: &str = "sweep.json";
const PARTS_DIR: &str = "parts";

/// What to do with an existing results folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Refuse,
    Force,
    Resume,
}

/// Checks whether `dir` may be used, without writing anything.
pub fn check_dir(dir: &Path, mode: Existing) -> Result<()> {
    let occupied = dir.exists()
        && fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true);
    if occupied && mode == Existing::Refuse {
        return Err(ValleyError::invalid(
            dir,
            None,
            "",
            "the results folder exists: pass --resume to finish its missing runs or --force to start over",
        ));
    }
    if dir.exists() && !dir.is_dir() {
        return Err(ValleyError::invalid(
            dir,
            None,
            "",
            "exists and is not a folder",
        ));
    }
    Ok(())
}

/// Run ids recorded in `dir`, finished or consolidated.
fn recorded_ids(dir: &Path) -> Result<HashSet<String>> {
    let mut files: Vec<PathBuf> = list_parts(&dir.join(PARTS_DIR), "runs")?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if dir.join(RUNS_FILE).exists() {
        files.push(dir.join(RUNS_FILE));
    }
    let mut done = HashSet::new();
    for path in files {
        let df = read_parquet(&path)?;
        for id in df.column(rc::RUN_ID)?.str()?.iter().flatten() {
            done.insert(id.to_string());
        }
    }
    Ok(done)
}

/// Makes `dir` ready for writing and returns the run ids already finished
/// there (empty unless resuming). When resuming, every recorded run must be
/// one of `planned`, or nothing is touched.
pub fn prepare_dir(
    dir: &Path,
    mode: Existing,
    planned: &HashSet<String>,
) -> Result<HashSet<String>> {
    if mode == Existing::Resume {
        let foreign = recorded_ids(dir)?.difference(planned).count();
        if foreign > 0 {
            return Err(ValleyError::invalid(
                dir,
                None,
                "",
                format!("{foreign} recorded runs are not in this sweep's plan (the sweep file changed?): use --force to start over"),
            ));
        }
    }
    if mode == Existing::Force && dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    let parts = dir.join(PARTS_DIR);
    fs::create_dir_all(&parts)?;
    if mode != Existing::Resume {
        return Ok(HashSet::new());
    }
    // A consolidated sweep becomes part 0 again.
    if dir.join(RUNS_FILE).exists() {
        let seq = next_seq(&parts)?;
        fs::rename(dir.join(TRACE_FILE), parts.join(part_name("trace", seq)))?;
        fs::rename(dir.join(RUNS_FILE), parts.join(part_name("runs", seq)))?;
    }
    let seqs: HashSet<u64> = list_parts(&parts, "runs")?
        .iter()
        .map(|(s, _)| *s)
        .collect();
    for (seq, path) in list_parts(&parts, "trace")? {
        if !seqs.contains(&seq) {
            fs::remove_file(path)?;
        }
    }
    for entry in fs::read_dir(&parts)? {
        let p = entry?.path();
        if p.extension().is_some_and(|e| e == "tmp") {
            fs::remove_file(p)?;
        }
    }
    recorded_ids(dir)
}

fn part_name(kind: &str, seq: u64) -> String {
    format!("{kind}-{seq:06}.parquet")
}

/// Part files of `kind` in `parts`, by sequence number.
fn list_parts(parts: &Path, kind: &str) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    if !parts.exists() {
        return Ok(out);
    }
    for entry in fs::read_dir(parts)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(seq) = name
            .strip_prefix(kind)
            .and_then(|r| r.strip_prefix('-'))
            .and_then(|r| r.strip_suffix(".parquet"))
            .and_then(|r| r.parse().ok())
        {
            out.push((seq, path));
        }
    }
    out.sort();
    Ok(out)
}

fn next_seq(parts: &Path) -> Result<u64> {
    let last = list_parts(parts, "runs")?
        .into_iter()
        .chain(list_parts(parts, "trace")?)
        .map(|(s, _)| s + 1)
        .max();
    Ok(last.unwrap_or(0))
}

pub fn read_parquet(path: &Path) -> Result<DataFrame> {
    let file =
        File::open(path).map_err(|e| ValleyError::Other(format!("{}: {e}", path.display())))?;
    Ok(ParquetReader::new(file).finish()?)
}

fn metadata(plan: &Plan) -> KeyValueMetadata {
    KeyValueMetadata::from_static(vec![
        ("valley_version".into(), env!("CARGO_PKG_VERSION").into()),
        ("valley_sweep".into(), plan.name.clone()),
        (
            "valley_sweep_file_fnv1a64".into(),
            format!("{:016x}", crate::rng::fnv1a64(plan.source.as_bytes())),
        ),
    ])
}

fn write_parquet(path: &Path, df: &mut DataFrame, plan: &Plan) -> Result<()> {
    let tmp = path.with_extension("parquet.tmp");
    let file = File::create(&tmp)?;
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(None))
        .with_key_value_metadata(Some(metadata(plan)))
        .finish(df)?;
    fs::rename(&tmp, path)?;
    Ok(())
}

/// Buffers finished runs and flushes them into part files.
pub struct PartWriter<'a> {
    plan: &'a Plan,
    parts: PathBuf,
    seq: u64,
    rows: Vec<RunRow>,
    traces: Vec<(String, TraceColumns, usize)>,
    trace_rows: usize,
    last_flush: Instant,
}

impl<'a> PartWriter<'a> {
    pub fn new(plan: &'a Plan, dir: &Path) -> Result<Self> {
        let parts = dir.join(PARTS_DIR);
        let seq = next_seq(&parts)?;
        Ok(Self {
            plan,
            parts,
            seq,
            rows: Vec::new(),
            traces: Vec::new(),
            trace_rows: 0,
            last_flush: Instant::now(),
        })
    }

    pub fn push(&mut self, r: RunResult) -> Result<()> {
        self.trace_rows += r.trace.len();
        self.traces
            .push((r.row.run_id.clone(), r.trace, r.position_dim));
        self.rows.push(r.row);
        if self.trace_rows >= FLUSH_TRACE_ROWS
            || self.last_flush.elapsed().as_secs() >= FLUSH_SECONDS
        {
            self.flush()?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> Result<()> {
        self.last_flush = Instant::now();
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut trace = trace_frame(&self.traces)?;
        write_parquet(
            &self.parts.join(part_name("trace", self.seq)),
            &mut trace,
            self.plan,
        )?;
        let mut runs = runs_frame(self.plan, &self.rows)?;
        write_parquet(
            &self.parts.join(part_name("runs", self.seq)),
            &mut runs,
            self.plan,
        )?;
        self.seq += 1;
        self.rows.clear();
        self.traces.clear();
        self.trace_rows = 0;
        Ok(())
    }
}

/// A nullable list-of-f64 column, built from slices without a `Series` per
/// row.
fn list_column<'v>(
    name: &str,
    len: usize,
    values: impl Iterator<Item = Option<&'v [f64]>>,
) -> Column {
    let mut builder =
        ListPrimitiveChunkedBuilder::<Float64Type>::new(name.into(), len, len, DataType::Float64);
    for v in values {
        match v {
            Some(v) => builder.append_slice(v),
            None => builder.append_null(),
        }
    }
    builder.finish().into_series().into()
}

/// The trace rows of several runs as one frame.
pub fn trace_frame(traces: &[(String, TraceColumns, usize)]) -> Result<DataFrame> {
    let n: usize = traces.iter().map(|(_, t, _)| t.len()).sum();
    let mut run_id: Vec<&str> = Vec::with_capacity(n);
    let mut basin: Vec<Option<&str>> = Vec::with_capacity(n);
    macro_rules! gather {
        ($field:ident) => {
            traces
                .iter()
                .flat_map(|(_, t, _)| t.$field.iter().cloned())
                .collect::<Vec<_>>()
        };
    }
    for (id, t, _) in traces {
        run_id.extend(std::iter::repeat_n(id.as_str(), t.len()));
        basin.extend((0..t.len()).map(|i| t.basin_label(i)));
    }
    let step: Vec<i64> = traces
        .iter()
        .flat_map(|(_, t, _)| t.step.iter().map(|&s| s as i64))
        .collect();
    let position = list_column(
        tc::POSITION,
        n,
        traces.iter().flat_map(|(_, t, dim)| {
            (0..t.len()).map(move |i| (*dim > 0).then(|| &t.position[i * dim..(i + 1) * dim]))
        }),
    );
    let columns = vec![
        Column::new(tc::RUN_ID.into(), run_id),
        Column::new(tc::STEP.into(), step),
        Column::new(tc::LR.into(), gather!(lr)),
        Column::new(tc::MOMENTUM.into(), gather!(momentum)),
        Column::new(tc::LOSS.into(), gather!(loss)),
        Column::new(tc::GRAD_NORM.into(), gather!(grad_norm)),
        Column::new(tc::UPDATE_NORM.into(), gather!(update_norm)),
        Column::new(tc::GRAD_COSINE.into(), gather!(grad_cosine)),
        Column::new(tc::EFFECTIVE_STEP.into(), gather!(effective_step)),
        Column::new(tc::SHRINK.into(), gather!(shrink)),
        Column::new(tc::SHARPNESS.into(), gather!(sharpness)),
        Column::new(tc::PRECLIP_NORM.into(), gather!(preclip_norm)),
        Column::new(tc::CLIPPED.into(), gather!(clipped)),
        position,
        Column::new(tc::BASIN.into(), basin),
    ];
    Ok(DataFrame::new(n, columns)?)
}

/// A sweep axis's values as a column: numbers as f64, booleans as bool,
/// anything else as text; null where the run's table does not set the field.
fn axis_column(name: &str, values: Vec<Option<&toml::Value>>) -> Column {
    use toml::Value as V;
    let all = |pred: fn(&V) -> bool| values.iter().flatten().all(|v| pred(v));
    if all(|v| matches!(v, V::Integer(_) | V::Float(_))) {
        let vals: Vec<Option<f64>> = values
            .iter()
            .map(|v| {
                v.and_then(|v| match v {
                    V::Integer(i) => Some(*i as f64),
                    V::Float(f) => Some(*f),
                    _ => None,
                })
            })
            .collect();
        Column::new(name.into(), vals)
    } else if all(|v| matches!(v, V::Boolean(_))) {
        let vals: Vec<Option<bool>> = values.iter().map(|v| v.and_then(|v| v.as_bool())).collect();
        Column::new(name.into(), vals)
    } else {
        let vals: Vec<Option<String>> = values.iter().map(|v| v.map(render_value)).collect();
        Column::new(name.into(), vals)
    }
}

fn axis_value<'p>(
    values: &'p [(String, Option<toml::Value>)],
    column: &str,
) -> Option<&'p toml::Value> {
    values
        .iter()
        .find(|(c, _)| c == column)
        .and_then(|(_, v)| v.as_ref())
}

/// Per-run rows as a frame, with labels and sweep-axis columns from the plan.
pub fn runs_frame(plan: &Plan, rows: &[RunRow]) -> Result<DataFrame> {
    let n = rows.len();
    let spec = |r: &RunRow| &plan.runs[r.index];
    let str_col = |name: &str, f: &dyn Fn(&RunRow) -> String| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    let f64_col = |name: &str, f: &dyn Fn(&RunRow) -> Option<f64>| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    let mut columns = vec![
        str_col(rc::RUN_ID, &|r| r.run_id.clone()),
        Column::new(
            rc::RUN_INDEX.into(),
            rows.iter().map(|r| r.index as i64).collect::<Vec<_>>(),
        ),
        str_col(rc::LANDSCAPE, &|r| {
            plan.landscapes[spec(r).landscape].label.clone()
        }),
        str_col(rc::OPTIMIZER, &|r| {
            plan.optimizers[spec(r).optimizer].label.clone()
        }),
        str_col(rc::SCHEDULE, &|r| {
            plan.schedules[spec(r).schedule].label.clone()
        }),
        str_col(rc::LANDSCAPE_KIND, &|r| {
            plan.landscapes[spec(r).landscape].kind.kind_name().into()
        }),
        str_col(rc::OPTIMIZER_KIND, &|r| {
            plan.optimizers[spec(r).optimizer].kind.kind_name().into()
        }),
        str_col(rc::SCHEDULE_KIND, &|r| {
            plan.schedules[spec(r).schedule].schedule.kind_name().into()
        }),
        str_col(rc::NOISE, &|r| {
            plan.optimizers[spec(r).optimizer].noise.kind_name().into()
        }),
        Column::new(
            rc::DIM.into(),
            rows.iter().map(|r| r.dim as i64).collect::<Vec<_>>(),
        ),
        Column::new(
            rc::SEED.into(),
            rows.iter().map(|r| r.seed as i64).collect::<Vec<_>>(),
        ),
    ];
    for axis in &plan.axes {
        let values: Vec<Option<&toml::Value>> = rows
            .iter()
            .map(|r| {
                let s = spec(r);
                axis_value(&plan.landscapes[s.landscape].axis_values, &axis.column)
                    .or_else(|| axis_value(&plan.optimizers[s.optimizer].axis_values, &axis.column))
                    .or_else(|| axis_value(&plan.schedules[s.schedule].axis_values, &axis.column))
            })
            .collect();
        columns.push(axis_column(&axis.column, values));
    }
    let finite = |v: f64| v.is_finite().then_some(v);
    columns.extend([
        f64_col(rc::INITIAL_LOSS, &|r| finite(r.initial_loss)),
        f64_col(rc::FINAL_LOSS, &|r| Some(r.final_loss)),
        f64_col(rc::MIN_LOSS, &|r| finite(r.min_loss)),
        f64_col(rc::FINAL_GRAD_NORM, &|r| finite(r.final_grad_norm)),
        f64_col(rc::FINAL_LR, &|r| Some(r.final_lr)),
        f64_col(rc::SHARPNESS, &|r| r.curvature.as_ref().map(|c| c.max_eig)),
        f64_col(rc::HESSIAN_MIN_EIG, &|r| {
            r.curvature.as_ref().map(|c| c.min_eig)
        }),
        f64_col(rc::HESSIAN_TRACE, &|r| {
            r.curvature.as_ref().map(|c| c.trace)
        }),
        f64_col(rc::HESSIAN_TRACE_STDERR, &|r| {
            r.curvature
                .as_ref()
                .filter(|c| c.method != CurvatureMethod::Dense)
                .map(|c| c.trace_stderr)
        }),
        Column::new(
            rc::CURVATURE_METHOD.into(),
            rows.iter()
                .map(|r| r.curvature.as_ref().map(|c| c.method.as_str()))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            rc::DIVERGED.into(),
            rows.iter().map(|r| r.diverged).collect::<Vec<_>>(),
        ),
        Column::new(
            rc::STEPS_RUN.into(),
            rows.iter().map(|r| r.steps_run as i64).collect::<Vec<_>>(),
        ),
        Column::new(
            rc::BASIN.into(),
            rows.iter()
                .map(|r| r.basin.as_ref().map(|b| b.label.clone()))
                .collect::<Vec<_>>(),
        ),
        f64_col(rc::DISTANCE_TO_MIN, &|r| {
            r.basin.as_ref().map(|b| b.distance)
        }),
        f64_col(rc::ENERGY_GAP, &|r| r.energy_gap),
        f64_col(rc::BEST_LOSS, &|r| finite(r.best_loss)),
        Column::new(
            rc::BEST_STEP.into(),
            rows.iter()
                .map(|r| r.best_loss.is_finite().then_some(r.best_step as i64))
                .collect::<Vec<_>>(),
        ),
        f64_col(rc::BEST_ENERGY_GAP, &|r| r.best_energy_gap),
        Column::new(
            rc::CLIPPED_STEPS.into(),
            rows.iter()
                .map(|r| r.clipped_steps.map(|n| n as i64))
                .collect::<Vec<_>>(),
        ),
    ]);
    columns.push(list_column(
        rc::FINAL_POSITION,
        n,
        rows.iter().map(|r| r.final_position.as_deref()),
    ));
    columns.push(list_column(
        rc::BEST_POSITION,
        n,
        rows.iter().map(|r| r.best_position.as_deref()),
    ));
    Ok(DataFrame::new(n, columns)?)
}

/// Counts of a consolidated results folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub runs: usize,
    pub diverged: usize,
    pub trace_rows: usize,
}

/// Joins the parts of `dir` into `runs.parquet` and `trace.parquet` and
/// removes the parts.
pub fn consolidate(dir: &Path, plan: &Plan) -> Result<Counts> {
    let parts = dir.join(PARTS_DIR);
    let runs_parts = list_parts(&parts, "runs")?;
    let trace_parts = list_parts(&parts, "trace")?;
    let counts = join_parts(
        dir,
        plan,
        &runs_parts
            .iter()
            .map(|(_, p)| p.clone())
            .collect::<Vec<_>>(),
        &trace_parts
            .iter()
            .map(|(_, p)| p.clone())
            .collect::<Vec<_>>(),
    )?;
    fs::remove_dir_all(&parts)?;
    Ok(counts)
}

/// Writes `dir/runs.parquet` from `runs` files (sorted by plan order) and
/// `dir/trace.parquet` from `traces` files, one file in memory at a time.
pub fn join_parts(dir: &Path, plan: &Plan, runs: &[PathBuf], traces: &[PathBuf]) -> Result<Counts> {
    let mut all = match runs.first() {
        Some(p) => read_parquet(p)?,
        None => runs_frame(plan, &[])?,
    };
    for p in runs.iter().skip(1) {
        all.vstack_mut_owned(read_parquet(p)?)?;
    }
    all.sort_in_place([rc::RUN_INDEX], SortMultipleOptions::default())?;
    all.rechunk_mut();
    let diverged = all.column(rc::DIVERGED)?.bool()?.sum().unwrap_or(0) as usize;
    let n_runs = all.height();
    write_parquet(&dir.join(RUNS_FILE), &mut all, plan)?;

    let path = dir.join(TRACE_FILE);
    let tmp = path.with_extension("parquet.tmp");
    let empty = trace_frame(&[])?;
    let mut writer = ParquetWriter::new(File::create(&tmp)?)
        .with_compression(ParquetCompression::Zstd(None))
        .with_key_value_metadata(Some(metadata(plan)))
        .batched(empty.schema())?;
    let mut trace_rows = 0;
    if traces.is_empty() {
        writer.write_batch(&empty)?;
    }
    for p in traces {
        let df = read_parquet(p)?;
        trace_rows += df.height();
        writer.write_batch(&df)?;
    }
    writer.finish()?;
    fs::rename(&tmp, &path)?;
    Ok(Counts {
        runs: n_runs,
        diverged,
        trace_rows,
    })
}
