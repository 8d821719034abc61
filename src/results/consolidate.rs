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
use crate::config::Plan;
use crate::error::{Result, ValleyError};
use crate::results::frames::{metadata, read_parquet, runs_frame, trace_frame};
use crate::schema::{runs as rc, trace as tc};
use polars::prelude::*;
use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// Rows per row group of a consolidated `trace.parquet` (at least; a
/// group ends at the first source row group that reaches it).
pub const BATCH_ROWS: usize = 1 << 17;

/// Counts of a consolidated results folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub runs: usize,
    pub diverged: usize,
    pub trace_rows: usize,
}

/// One source of runs: its runs rows (already read) and its trace file.
pub(crate) struct Source {
    pub runs: DataFrame,
    pub trace: PathBuf,
    /// Run ids of this source already taken from an earlier one, whose rows
    /// are dropped here (a run is never counted twice).
    pub repeated: HashSet<String>,
}

/// Reads the runs of `sources` in order, dropping run ids already seen.
pub(crate) fn sources(pairs: Vec<(PathBuf, PathBuf)>) -> Result<(Vec<Source>, HashSet<String>)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (runs_path, trace) in pairs {
        let runs = read_parquet(&runs_path)?;
        let mut repeated = HashSet::new();
        for id in runs.column(rc::RUN_ID)?.str()?.iter().flatten() {
            if !seen.insert(id.to_string()) {
                repeated.insert(id.to_string());
            }
        }
        out.push(Source {
            runs,
            trace,
            repeated,
        });
    }
    Ok((out, seen))
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

/// Rows written under an earlier form of the plan (a sweep extended by
/// seeds, tables, axis values or axes, then resumed) put in the current
/// plan's terms: `run_index` recomputed from the current plan, the axis
/// columns rebuilt from it (an axis a run's table does not have is null),
/// the columns in the current frame's order. So every part joins, and the
/// rows equal those of an uninterrupted sweep of the current plan.
fn in_plan_order(
    df: DataFrame,
    plan: &Plan,
    index: &HashMap<&str, usize>,
    template: &DataFrame,
) -> Result<DataFrame> {
    let ids = df.column(rc::RUN_ID)?.str()?;
    let mut indices = Vec::with_capacity(df.height());
    for id in ids.iter() {
        let id = id.unwrap_or("");
        indices.push(*index.get(id).ok_or_else(|| {
            ValleyError::Other(format!(
                "run {id} of the results is not in the plan (the sweep file changed?)"
            ))
        })?);
    }
    let mut df = df;
    df.with_column(Column::new(
        rc::RUN_INDEX.into(),
        indices.iter().map(|&i| i as i64).collect::<Vec<_>>(),
    ))?;
    for axis in super::frames::axis_columns_of(plan, &indices) {
        df.with_column(axis)?;
    }
    Ok(df.select(template.get_column_names().into_iter().cloned())?)
}

/// Errors when `found` does not hold every run of `planned`.
pub(crate) fn check_plan(
    dir: &Path,
    found: &HashSet<String>,
    planned: &HashSet<String>,
) -> Result<()> {
    let missing = planned.difference(found).count();
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

    // The first source sets the column types (an axis may be text).
    let mut all: Option<DataFrame> = None;
    let index: HashMap<&str, usize> = plan
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.run_id.as_str(), i))
        .collect();
    let template = runs_frame(plan, &[])?;
    for s in &sources {
        let df = without(s.runs.clone(), rc::RUN_ID, &s.repeated)?;
        let df = in_plan_order(df, plan, &index, &template)?;
        match all.as_mut() {
            Some(a) => {
                a.vstack_mut_owned(df)?;
            }
            None => all = Some(df),
        }
    }
    let mut all = match all {
        Some(a) => a,
        None => runs_frame(plan, &[])?,
    };
    all.sort_in_place([rc::RUN_INDEX], SortMultipleOptions::default())?;
    all.rechunk_mut();
    let diverged = all.column(rc::DIVERGED)?.bool()?.sum().unwrap_or(0) as usize;
    let file = File::create(&runs_tmp)?;
    ParquetWriter::new(&file)
        .with_compression(ParquetCompression::Zstd(None))
        .with_key_value_metadata(Some(metadata(plan)))
        .finish(&mut all)?;
    file.sync_all()?;
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
        runs: all.height(),
        diverged,
        trace_rows,
    })
}

/// Joins the parts of `dir` into `runs.parquet` and `trace.parquet`, after
/// checking they hold every run of `planned`, then removes the parts.
/// A part that cannot be read is set aside in `parts/quarantine/` and its
/// runs count as missing.
pub fn consolidate(dir: &Path, plan: &Plan, planned: &HashSet<String>) -> Result<Counts> {
    let parts_dir = dir.join(PARTS_DIR);
    let mut pairs = Vec::new();
    let mut damaged = Vec::new();
    for (_, runs, trace) in parts::pairs(&parts_dir)? {
        match trace {
            Some(t) => pairs.push((runs, t)),
            None => damaged.extend(parts::quarantine(&parts_dir, &runs, None)?),
        }
    }
    let (sources, found) = match sources(pairs.clone()) {
        Ok(s) => s,
        Err(_) => {
            // Find the unreadable runs parts, set them aside, and read again.
            let mut good = Vec::new();
            for (runs, trace) in pairs {
                if super::ids_in(&runs).is_ok() {
                    good.push((runs, trace));
                } else {
                    damaged.extend(parts::quarantine(&parts_dir, &runs, Some(&trace))?);
                }
            }
            sources(good)?
        }
    };
    if !damaged.is_empty() {
        let names: Vec<String> = damaged.iter().map(|p| p.display().to_string()).collect();
        return Err(ValleyError::Other(format!(
            "damaged part files were set aside: {}; {} of the plan's {} runs are missing: rerun with --resume",
            names.join(", "),
            planned.difference(&found).count(),
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
            runner::execute(plan, runs, 1, &mut *sink)
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
        runner::execute(&plan, &plan.runs, 1, |r| {
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
            runner::execute_streamed(&plan, &plan.runs, 1, Some(&chunks), |r| {
                assert!(matches!(r.spilled, Some(Ok(_))));
                assert!(r.trace.is_empty());
                sink(r)
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
        let planned: HashSet<String> = plan.runs.iter().map(|r| r.run_id.clone()).collect();
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
        flush(&plan, tmp.path(), &plan.runs[..3]);
        let planned: HashSet<String> = plan.runs.iter().map(|r| r.run_id.clone()).collect();
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
        flush(&plan, tmp.path(), &plan.runs[..3]);
        flush(&plan, tmp.path(), &plan.runs[2..]);
        let planned: HashSet<String> = plan.runs.iter().map(|r| r.run_id.clone()).collect();
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
