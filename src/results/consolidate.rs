//! Joining finished runs into `runs.parquet` and `trace.parquet`, crash-safe.
//!
//! Both files are written to temporaries (`*.parquet.tmp`); then
//! `trace.parquet` is renamed into place and `runs.parquet` last: its rename
//! is the commit. The sources (the parts of a sweep, the shards of a merge)
//! are only retired after that, so a process killed at any point leaves
//! either the sources intact or a committed pair. Before anything is written
//! the plan is checked: a missing run is an error that says how many are
//! missing, never a partial success.

use super::{fault, parts, PARTS_DIR, RETIRED_PARTS_DIR, RUNS_FILE, TRACE_FILE};
use crate::config::{IndexSet, Plan, Resolver, Runs};
use crate::error::{Result, ValleyError};
use crate::results::frames::{read_parquet, runs_frame, trace_frame};
use crate::schema::{runs as rc, trace as tc};
use polars::io::parquet::write::BatchedWriter;
use polars::prelude::*;
use std::collections::HashSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// Rows per row group of a consolidated `trace.parquet` (at least; a
/// group ends at the first source row group that reaches it).
pub const BATCH_ROWS: usize = 1 << 17;

/// Rows per row group of a consolidated `runs.parquet` (at least; a group
/// ends with the source that reaches it). A runs row is wide (its labels,
/// axes and positions): about 16,000 of them are some megabytes.
pub const RUNS_BATCH_ROWS: usize = 1 << 14;

/// Counts of a consolidated results folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub runs: usize,
    pub diverged: usize,
    pub trace_rows: usize,
}

/// The plan index of a row of a source taken from an earlier source (or
/// not in the plan): the row is dropped.
const DROPPED: u32 = u32::MAX;

/// One source of runs (a part pair, a shard): its runs file, its trace, and
/// what each of its rows is in the plan.
pub(crate) struct Source {
    pub runs: PathBuf,
    pub trace: PathBuf,
    /// The plan index of each row of `runs`, in file order; [`DROPPED`] for
    /// a run already taken from an earlier source.
    rows: Vec<u32>,
    /// The smallest plan index kept (`u32::MAX` if none).
    first: u32,
    /// Run ids of this source already taken from an earlier one, whose rows
    /// (and trace rows) are dropped here: a run is never counted twice.
    pub repeated: HashSet<String>,
}

/// What the sources hold, against the plan.
#[derive(Default)]
pub(crate) struct Found {
    /// Plan indices found.
    pub runs: IndexSet,
    /// Rows read, repeated ones included.
    pub rows: usize,
    /// Rows whose run is not in the plan, and the first such id.
    pub foreign: usize,
    pub first_foreign: Option<String>,
}

/// Calls `f` with the recorded index and id of every row of the runs file
/// `path` (two columns read, not the file).
pub(crate) fn for_each_id(path: &Path, f: &mut dyn FnMut(Option<i64>, &str)) -> Result<()> {
    let named = |e: &dyn std::fmt::Display| ValleyError::Other(format!("{}: {e}", path.display()));
    let file = File::open(path).map_err(|e| named(&e))?;
    let df = ParquetReader::new(file)
        .with_columns(Some(vec![rc::RUN_INDEX.into(), rc::RUN_ID.into()]))
        .finish()
        .map_err(|e| named(&e))?;
    let index = df.column(rc::RUN_INDEX)?.i64()?;
    let ids = df.column(rc::RUN_ID)?.str()?;
    for (i, id) in index.iter().zip(ids.iter()) {
        f(i, id.unwrap_or(""));
    }
    Ok(())
}

/// Reads the run ids of `pairs` in order and places every row in `plan`;
/// a run seen in an earlier source is dropped.
pub(crate) fn sources(plan: &Plan, pairs: Vec<(PathBuf, PathBuf)>) -> Result<(Vec<Source>, Found)> {
    let mut resolver = Resolver::new(plan);
    let mut found = Found {
        runs: IndexSet::new(plan.run_count()),
        ..Found::default()
    };
    let mut out = Vec::new();
    for (runs, trace) in pairs {
        let mut rows = Vec::new();
        let mut repeated = HashSet::new();
        let mut first = u32::MAX;
        for_each_id(&runs, &mut |index, id| {
            found.rows += 1;
            let placed = resolver.find(index, id).and_then(|i| u32::try_from(i).ok());
            let Some(i) = placed.filter(|&i| i != DROPPED) else {
                found.foreign += 1;
                found.first_foreign.get_or_insert_with(|| id.to_string());
                rows.push(DROPPED);
                return;
            };
            if found.runs.insert(i as usize) {
                first = first.min(i);
                rows.push(i);
            } else {
                repeated.insert(id.to_string());
                rows.push(DROPPED);
            }
        })?;
        out.push(Source {
            runs,
            trace,
            rows,
            first,
            repeated,
        });
    }
    Ok((out, found))
}

/// Rows of `df` whose run id is not in `drop`.
fn without(df: DataFrame, column: &str, drop: &HashSet<String>) -> Result<DataFrame> {
    if drop.is_empty() {
        return Ok(df);
    }
    let mask: BooleanChunked = df
        .column(column)?
        .str()?
        .iter()
        .map(|id| Some(!id.is_some_and(|id| drop.contains(id))))
        .collect();
    Ok(df.filter(&mask)?)
}

impl Source {
    /// The kept rows of this source's runs file in the current plan's
    /// terms: `run_index` from the plan, the axis columns rebuilt from it
    /// (an axis a run's table does not have is null: rows written under an
    /// earlier form of an extended plan join), the columns in `names`'
    /// order. So the rows equal those of an uninterrupted sweep.
    fn rows_in_plan(&self, plan: &Plan, names: &[PlSmallStr]) -> Result<DataFrame> {
        let mut df = read_parquet(&self.runs)?;
        if df.height() != self.rows.len() {
            return Err(ValleyError::Other(format!(
                "{}: changed while it was read",
                self.runs.display()
            )));
        }
        if self.rows.contains(&DROPPED) {
            let mask: BooleanChunked = self.rows.iter().map(|&i| Some(i != DROPPED)).collect();
            df = df.filter(&mask)?;
        }
        let indices: Vec<usize> = self
            .rows
            .iter()
            .filter(|&&i| i != DROPPED)
            .map(|&i| i as usize)
            .collect();
        df.with_column(Column::new(
            rc::RUN_INDEX.into(),
            indices.iter().map(|&i| i as i64).collect::<Vec<_>>(),
        ))?;
        for axis in super::frames::axis_columns_of(plan, &indices) {
            df.with_column(axis)?;
        }
        Ok(df.select(names.iter().cloned())?)
    }
}

/// Errors unless the sources hold every run of `planned` and nothing else.
pub(crate) fn check_plan(dir: &Path, found: &Found, planned: &Runs) -> Result<()> {
    if let Some(id) = &found.first_foreign {
        return Err(ValleyError::Other(format!(
            "{}: {} recorded runs are not in this sweep's plan (run {id}; the sweep file changed?); nothing was consolidated",
            dir.display(),
            found.foreign
        )));
    }
    let outside = found.runs.len()
        - planned
            .indices()
            .filter(|&i| found.runs.contains(i))
            .count();
    let missing = planned.len() - (found.runs.len() - outside);
    if outside > 0 {
        return Err(ValleyError::Other(format!(
            "{}: {outside} recorded runs belong to another shard of the plan; nothing was consolidated",
            dir.display()
        )));
    }
    if missing > 0 {
        return Err(ValleyError::Other(format!(
            "{}: {missing} of the plan's {} runs are missing; nothing was consolidated: rerun with --resume",
            dir.display(),
            planned.len()
        )));
    }
    Ok(())
}

/// Calls `f` with each row group of the Parquet file `path`, one at a time,
/// so that a file larger than memory can be read. A row group is decoded
/// with its columns in parallel (there is one group in hand at a time).
fn for_each_row_group(path: &Path, f: &mut dyn FnMut(DataFrame) -> Result<()>) -> Result<()> {
    let named = |e: &dyn std::fmt::Display| ValleyError::Other(format!("{}: {e}", path.display()));
    let open = || File::open(path).map_err(|e| named(&e));
    let mut reader = ParquetReader::new(open()?);
    let metadata = reader.get_metadata().map_err(|e| named(&e))?.clone();
    let mut offset = 0;
    for group in &metadata.row_groups {
        let rows = group.num_rows();
        let mut reader = ParquetReader::new(open()?);
        reader.set_metadata(metadata.clone());
        let df = reader
            .with_slice(Some((offset, rows)))
            .read_parallel(ParallelStrategy::Columns)
            .finish()
            .map_err(|e| named(&e))?;
        offset += rows;
        f(df)?;
    }
    Ok(())
}

/// Writes `dir/runs.parquet` (sorted by plan order) and `dir/trace.parquet`
/// (streamed row group by row group, one in memory at a time) from `sources`,
/// committing by renaming `runs.parquet` last.
pub(crate) fn commit(dir: &Path, plan: &Plan, sources: Vec<Source>) -> Result<Counts> {
    let written = write_and_rename(dir, plan, sources);
    if written.is_err() {
        // Do not leave a large temporary behind on a full disk.
        super::remove_temporaries(dir)?;
    }
    written
}

fn write_and_rename(dir: &Path, plan: &Plan, sources: Vec<Source>) -> Result<Counts> {
    let runs_path = dir.join(RUNS_FILE);
    let trace_path = dir.join(TRACE_FILE);
    let runs_tmp = runs_path.with_extension("parquet.tmp");
    let trace_tmp = trace_path.with_extension("parquet.tmp");

    let (runs, diverged) = write_runs(&runs_tmp, plan, &sources)?;
    fault::point("runs_tmp");

    let empty = trace_frame(&[])?;
    let file = parts::SharedFile::create(&trace_tmp)?;
    let mut writer = parts::parquet_writer(plan, file.clone()).batched(empty.schema())?;
    let mut trace_rows = 0;
    if sources.is_empty() {
        writer.write_batch(&empty)?;
    }
    // Row groups of about BATCH_ROWS rows: fewer, larger groups than the
    // chunks, as the writer keeps every group's metadata until the footer.
    let mut batch: Option<DataFrame> = None;
    let mut write = |batch: &mut Option<DataFrame>| -> Result<()> {
        if let Some(mut df) = batch.take() {
            df.rechunk_mut();
            writer.write_batch(&df)?;
        }
        Ok(())
    };
    for s in &sources {
        for file in parts::trace_files(&s.trace)? {
            for_each_row_group(&file, &mut |df| {
                let df = without(df, tc::RUN_ID, &s.repeated)?;
                trace_rows += df.height();
                match batch.as_mut() {
                    Some(b) => {
                        b.vstack_mut_owned(df)?;
                    }
                    None => batch = Some(df),
                }
                if batch.as_ref().is_some_and(|b| b.height() >= BATCH_ROWS) {
                    write(&mut batch)?;
                }
                Ok(())
            })?;
        }
    }
    write(&mut batch)?;
    writer.finish()?;
    drop(writer);
    file.finish(true)?;
    fault::point("trace_tmp");

    fs::rename(&trace_tmp, &trace_path)?;
    fault::point("trace_renamed");
    fs::rename(&runs_tmp, &runs_path)?;
    fault::point("runs_renamed");
    Ok(Counts {
        runs,
        diverged,
        trace_rows,
    })
}

/// Writes the kept runs rows of `sources` to `path`, sorted by plan index,
/// with one source's rows and a row group in memory at a time (more only
/// where sources overlap in plan order). Sources are read in the order of
/// their first run; the rows before the next source's first run are final
/// and written. Returns the rows and the diverged runs written.
fn write_runs(path: &Path, plan: &Plan, sources: &[Source]) -> Result<(usize, usize)> {
    let template = runs_frame(plan, &[])?;
    let names: Vec<PlSmallStr> = template.get_column_names_owned();
    let mut order: Vec<&Source> = sources.iter().filter(|s| s.first != u32::MAX).collect();
    order.sort_by_key(|s| s.first);
    let file = parts::SharedFile::create(path)?;
    let mut writer: Option<BatchedWriter<parts::SharedFile>> = None;
    let (mut rows, mut diverged) = (0, 0);
    let mut write = |df: &mut DataFrame| -> Result<()> {
        df.rechunk_mut();
        let w = match writer.as_mut() {
            Some(w) => w,
            None => writer.insert(parts::parquet_writer(plan, file.clone()).batched(df.schema())?),
        };
        w.write_batch(df)?;
        rows += df.height();
        diverged += df.column(rc::DIVERGED)?.bool()?.sum().unwrap_or(0) as usize;
        Ok(())
    };
    let mut pending: Option<DataFrame> = None;
    let mut ready: Option<DataFrame> = None;
    for (k, source) in order.iter().enumerate() {
        let df = source.rows_in_plan(plan, &names)?;
        let mut all = stacked(pending.take(), df)?;
        all.sort_in_place([rc::RUN_INDEX], SortMultipleOptions::default())?;
        let next = order.get(k + 1).map_or(i64::MAX, |s| i64::from(s.first));
        let before = all
            .column(rc::RUN_INDEX)?
            .i64()?
            .iter()
            .take_while(|i| i.is_some_and(|i| i < next))
            .count();
        let head = all.slice(0, before);
        pending = Some(all.slice(before as i64, usize::MAX));
        let mut out = stacked(ready.take(), head)?;
        if out.height() >= RUNS_BATCH_ROWS {
            write(&mut out)?;
        } else {
            ready = Some(out);
        }
    }
    let mut last = match (ready, pending) {
        (Some(r), Some(p)) => stacked(Some(r), p)?,
        (r, p) => r.or(p).unwrap_or(template),
    };
    write(&mut last)?;
    let writer =
        writer.ok_or_else(|| ValleyError::Other("runs.parquet: no batch written".into()))?;
    writer.finish()?;
    drop(writer);
    file.finish(true)?;
    Ok((rows, diverged))
}

/// `a` with `b` below it.
fn stacked(a: Option<DataFrame>, b: DataFrame) -> Result<DataFrame> {
    Ok(match a {
        Some(mut a) => {
            a.vstack_mut_owned(b)?;
            a
        }
        None => b,
    })
}

/// Joins the parts of `dir` into `runs.parquet` and `trace.parquet`, after
/// checking they hold every run of `planned`, then removes the parts.
/// A part that cannot be read is set aside in `parts/quarantine/` and its
/// runs count as missing.
pub fn consolidate(dir: &Path, plan: &Plan, planned: &Runs) -> Result<Counts> {
    let parts_dir = dir.join(PARTS_DIR);
    let mut pairs = Vec::new();
    let mut damaged = Vec::new();
    for (_, runs, trace) in parts::pairs(&parts_dir)? {
        match trace {
            Some(t) => pairs.push((runs, t)),
            None => damaged.extend(parts::quarantine(&parts_dir, &runs, None)?),
        }
    }
    let (sources, found) = match sources(plan, pairs.clone()) {
        Ok(s) => s,
        Err(_) => {
            // Find the unreadable runs parts, set them aside, and read again.
            let mut good = Vec::new();
            for (runs, trace) in pairs {
                if for_each_id(&runs, &mut |_, _| {}).is_ok() {
                    good.push((runs, trace));
                } else {
                    damaged.extend(parts::quarantine(&parts_dir, &runs, Some(&trace))?);
                }
            }
            sources(plan, good)?
        }
    };
    if !damaged.is_empty() {
        let names: Vec<String> = damaged.iter().map(|p| p.display().to_string()).collect();
        return Err(ValleyError::Other(format!(
            "damaged part files were set aside: {}; {} of the plan's {} runs are missing: rerun with --resume",
            names.join(", "),
            planned.indices().filter(|&i| !found.runs.contains(i)).count(),
            planned.len()
        )));
    }
    check_plan(dir, &found, planned)?;
    let counts = match commit(dir, plan, sources) {
        Ok(c) => c,
        Err(e) => {
            // A damaged trace part: set it aside so that --resume reruns it.
            for (_, runs, trace) in parts::pairs(&parts_dir)? {
                if let Some(t) = trace {
                    if parts::check_footer(&t).is_err() {
                        parts::quarantine(&parts_dir, &runs, Some(&t))?;
                    }
                }
            }
            return Err(e);
        }
    };
    retire_parts(dir)?;
    Ok(counts)
}

/// Removes `dir/parts/` after a commit: renamed to `parts.old/` in one step
/// (from then on the committed files are the truth), its quarantine kept as
/// `dir/quarantine/`, then removed file by file.
fn retire_parts(dir: &Path) -> Result<()> {
    let retired = dir.join(RETIRED_PARTS_DIR);
    fs::rename(dir.join(PARTS_DIR), &retired)?;
    fault::point("parts_renamed");
    parts::keep_quarantine(&retired, dir)?;
    for (i, entry) in fs::read_dir(&retired)?.enumerate() {
        if i == 1 {
            fault::point("parts_removing");
        }
        let path = entry?.path();
        if path.is_dir() {
            fs::remove_dir_all(path)?;
        } else {
            fs::remove_file(path)?;
        }
    }
    fs::remove_dir(&retired)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::writer::{write_parts, StopSlot};
    use crate::runner;

    fn plan() -> Plan {
        Plan::from_source(
            Path::new("t.toml"),
            r#"
name = "t"
steps = 20
seeds = 5
trace_every = 10
[[landscape]]
kind = "quadratic"
dim = 2
eigenvalues = [1.0, 2.0]
[[optimizer]]
kind = "sgd"
noise = { kind = "gaussian", std = 0.1 }
[[schedule]]
kind = "constant"
lr = 0.1
"#,
        )
        .unwrap()
    }

    /// Runs `runs` of `plan` into `dir/parts/` as one more part.
    fn flush(plan: &Plan, dir: &Path, runs: &[crate::config::RunSpec]) {
        fs::create_dir_all(dir.join(PARTS_DIR)).unwrap();
        write_parts(plan, dir, &StopSlot::default(), |sink| {
            runner::execute(plan, runs, 1, |r| sink(vec![r]))
        })
        .unwrap();
    }

    /// Runs longer than a chunk stream their traces to chunk files; the
    /// consolidated trace.parquet equals, row for row and in order, the
    /// frame of the same runs traced in memory.
    #[test]
    fn streamed_traces_consolidate_to_the_rows_traced_in_memory() {
        let plan = Plan::from_source(
            Path::new("t.toml"),
            r#"
name = "t"
steps = 45000
seeds = 2
trace_every = 1
hessian = false
[[landscape]]
kind = "quadratic"
dim = 2
eigenvalues = [0.5, 1.0]
[[optimizer]]
kind = "sgd"
noise = { kind = "gaussian", std = 0.1 }
[[schedule]]
kind = "constant"
lr = 0.01
"#,
        )
        .unwrap();
        // Three chunks per run.
        assert!(45_000 > 2 * crate::runner::trace::chunk_rows(2, 0));
        let mut in_memory = Vec::new();
        runner::execute(&plan, &plan.all_runs(), 1, |r| {
            assert!(r.spilled.is_none());
            in_memory.push(r);
            Ok::<(), crate::error::ValleyError>(())
        })
        .unwrap();
        let traces: Vec<_> = in_memory
            .iter()
            .map(|r| (r.row.run_id.as_str(), &r.trace, r.position_dim))
            .collect();
        let expected = trace_frame(&traces).unwrap();

        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join(PARTS_DIR)).unwrap();
        let chunks = parts::ChunkFiles::new(&plan, tmp.path());
        write_parts(&plan, tmp.path(), &StopSlot::default(), |sink| {
            runner::execute_batches(&plan, &plan.all_runs(), 1, Some(&chunks), |runs| {
                for r in &runs {
                    assert!(matches!(r.spilled, Some(Ok(_))));
                    assert!(r.trace.is_empty());
                }
                sink(runs)
            })
        })
        .unwrap();
        let names: Vec<String> = fs::read_dir(tmp.path().join(PARTS_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.contains(&"trace-000000.chunks".to_string()),
            "{names:?}"
        );
        let planned = plan.all_runs();
        let counts = consolidate(tmp.path(), &plan, &planned).unwrap();
        assert_eq!(counts.trace_rows, 90_000);
        let written = read_parquet(&tmp.path().join(TRACE_FILE)).unwrap();
        assert_eq!(written.height(), expected.height());
        assert!(written.equals_missing(&expected));
    }

    #[test]
    fn missing_runs_are_an_error_that_says_how_many_and_writes_nothing() {
        let plan = plan();
        let tmp = tempfile::tempdir().unwrap();
        flush(&plan, tmp.path(), &plan.specs()[..3]);
        let planned = plan.all_runs();
        let err = consolidate(tmp.path(), &plan, &planned)
            .unwrap_err()
            .to_string();
        assert!(err.contains("2 of the plan's 5 runs are missing"), "{err}");
        assert!(err.contains("--resume"), "{err}");
        assert!(!tmp.path().join(RUNS_FILE).exists());
        assert!(!tmp.path().join(TRACE_FILE).exists());
        assert_eq!(parts::pairs(&tmp.path().join(PARTS_DIR)).unwrap().len(), 1);
    }

    #[test]
    fn a_run_recorded_twice_is_counted_once() {
        let plan = plan();
        let tmp = tempfile::tempdir().unwrap();
        // Runs 0..3, then 2..5 again: runs 2 is in two parts.
        flush(&plan, tmp.path(), &plan.specs()[..3]);
        flush(&plan, tmp.path(), &plan.specs()[2..]);
        let planned = plan.all_runs();
        let counts = consolidate(tmp.path(), &plan, &planned).unwrap();
        // Steps 0, 10 and the last, 19: three trace rows per run.
        assert_eq!(
            counts,
            Counts {
                runs: 5,
                diverged: 0,
                trace_rows: 15
            }
        );
        let runs = read_parquet(&tmp.path().join(RUNS_FILE)).unwrap();
        let ids: Vec<i64> = runs
            .column(rc::RUN_INDEX)
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(ids, vec![0, 1, 2, 3, 4]);
        assert_eq!(
            read_parquet(&tmp.path().join(TRACE_FILE)).unwrap().height(),
            15
        );
        assert!(!tmp.path().join(PARTS_DIR).exists());
    }
}
