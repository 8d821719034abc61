//! Part files: finished runs, flushed as they finish.
//!
//! Finished runs are buffered and flushed into numbered pairs under
//! `DIR/parts/`: first `trace-N.parquet`, then `runs-N.parquet`, each written
//! to a temporary name and renamed, so a part exists only when complete. A
//! run counts as finished once its `runs` part exists. A `trace` part without
//! its `runs` part (killed between the two renames) is discarded on resume,
//! and a pair that cannot be read (truncated outside valley, say) is set
//! aside in `parts/quarantine/` so that its runs are run again.
//!
//! A run whose trace is longer than a chunk streams it while it runs into
//! `parts/chunks-I.parquet.tmp` (I: its index in the plan), one row group
//! per chunk ([`ChunkFiles`]). When the run finishes, that file becomes the
//! trace part of a pair of its own (renamed, never copied), after the runs
//! finished before it. A run killed midway leaves only the temporary, which
//! is removed on resume: its chunks never count, and the run is run again.

use super::{ids_in, QUARANTINE_DIR};
use crate::config::Plan;
use crate::error::{Result, ValleyError};
use crate::output::{metadata, runs_frame, trace_frame};
use crate::runner::{ChunkWriter, RunResult, RunRow, SpilledTrace, TraceColumns, TraceSpill};
use polars::io::parquet::write::BatchedWriter;
use polars::prelude::*;
use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest time finished runs wait in memory before they are flushed.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(2);
/// Buffered trace rows that force a flush.
pub const FLUSH_TRACE_ROWS: usize = 1 << 17;

pub fn part_name(kind: &str, seq: u64) -> String {
    format!("{kind}-{seq:06}.parquet")
}

/// Part files of `kind` (`runs` or `trace`) in `parts`, by sequence number.
pub fn list_parts(parts: &Path, kind: &str) -> Result<Vec<(u64, PathBuf)>> {
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

/// The complete pairs of `parts`: (sequence, runs file, trace file).
pub fn pairs(parts: &Path) -> Result<Vec<(u64, PathBuf, Option<PathBuf>)>> {
    let mut traces: HashMap<u64, PathBuf> = list_parts(parts, "trace")?.into_iter().collect();
    Ok(list_parts(parts, "runs")?
        .into_iter()
        .map(|(seq, runs)| (seq, runs, traces.remove(&seq)))
        .collect())
}

fn next_seq(parts: &Path) -> Result<u64> {
    let last = list_parts(parts, "runs")?
        .into_iter()
        .chain(list_parts(parts, "trace")?)
        .map(|(s, _)| s + 1)
        .max();
    Ok(last.unwrap_or(0))
}

/// Reads a Parquet file's footer: fails on a truncated file.
pub(crate) fn check_footer(path: &Path) -> Result<()> {
    let file = File::open(path)?;
    ParquetReader::new(file).num_rows()?;
    Ok(())
}

/// Moves `path` into `to` (created), under a name not yet taken there.
fn move_into(path: &Path, to: &Path) -> Result<PathBuf> {
    fs::create_dir_all(to)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("part");
    let mut target = to.join(name);
    let mut i = 1;
    while target.exists() {
        target = to.join(format!("{name}.{i}"));
        i += 1;
    }
    fs::rename(path, &target)?;
    Ok(target)
}

/// Sets the pair `seq` of `parts` aside in `parts/quarantine/`, runs part
/// first (from then on its runs count as not finished).
pub fn quarantine(parts: &Path, runs: &Path, trace: Option<&Path>) -> Result<Vec<PathBuf>> {
    let to = parts.join(QUARANTINE_DIR);
    let mut moved = vec![move_into(runs, &to)?];
    if let Some(t) = trace {
        moved.push(move_into(t, &to)?);
    }
    Ok(moved)
}

/// The run ids finished in `parts`, and the damaged files set aside there.
pub fn finished_ids(parts: &Path) -> Result<(HashSet<String>, Vec<PathBuf>)> {
    let mut done = HashSet::new();
    let mut quarantined = Vec::new();
    for (_, runs, trace) in pairs(parts)? {
        let ids = match (&trace, ids_in(&runs)) {
            (Some(t), Ok(ids)) if check_footer(t).is_ok() => ids,
            _ => {
                quarantined.extend(quarantine(parts, &runs, trace.as_deref())?);
                continue;
            }
        };
        done.extend(ids);
    }
    Ok((done, quarantined))
}

/// Removes trace parts without their runs part, and temporaries.
pub fn remove_orphans(parts: &Path) -> Result<()> {
    let seqs: HashSet<u64> = list_parts(parts, "runs")?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    for (seq, path) in list_parts(parts, "trace")? {
        if !seqs.contains(&seq) {
            fs::remove_file(path)?;
        }
    }
    super::remove_temporaries(parts)
}

/// Moves the quarantine of a parts folder about to be removed to
/// `dir/quarantine/`, so damaged files stay for a look.
pub fn keep_quarantine(parts: &Path, dir: &Path) -> Result<()> {
    let from = parts.join(QUARANTINE_DIR);
    if !from.exists() {
        return Ok(());
    }
    for entry in fs::read_dir(&from)? {
        move_into(&entry?.path(), &dir.join(QUARANTINE_DIR))?;
    }
    fs::remove_dir(&from)?;
    Ok(())
}

/// Writes `df` to `path` through a temporary file and a rename.
fn write_part(path: &Path, df: &mut DataFrame, plan: &Plan) -> Result<()> {
    let tmp = path.with_extension("parquet.tmp");
    let file = File::create(&tmp)?;
    writer_options(plan, file).finish(df)?;
    fs::rename(&tmp, path)?;
    Ok(())
}

fn writer_options(plan: &Plan, file: File) -> ParquetWriter<File> {
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(None))
        .with_key_value_metadata(Some(metadata(plan)))
}

/// Streams the traces of long runs into `parts/chunks-I.parquet.tmp`.
pub struct ChunkFiles<'a> {
    plan: &'a Plan,
    parts: PathBuf,
}

impl<'a> ChunkFiles<'a> {
    /// Chunk files in `dir/parts/`.
    pub fn new(plan: &'a Plan, dir: &Path) -> Self {
        Self {
            plan,
            parts: dir.join(super::PARTS_DIR),
        }
    }
}

impl TraceSpill for ChunkFiles<'_> {
    fn open(
        &self,
        run_id: &str,
        index: usize,
        position_dim: usize,
    ) -> Result<Box<dyn ChunkWriter>> {
        let path = self.parts.join(format!("chunks-{index}.parquet.tmp"));
        let file = File::create(&path)?;
        // Removes the file if the writer cannot be made.
        let mut chunks = ChunkFile {
            path,
            run_id: run_id.to_string(),
            position_dim,
            writer: None,
            rows: 0,
        };
        let empty = trace_frame(&[])?;
        chunks.writer = Some(writer_options(self.plan, file).batched(empty.schema())?);
        Ok(Box::new(chunks))
    }
}

/// The chunk file of one run, removed unless finished.
struct ChunkFile {
    path: PathBuf,
    run_id: String,
    position_dim: usize,
    writer: Option<BatchedWriter<File>>,
    rows: usize,
}

impl ChunkWriter for ChunkFile {
    fn write(&mut self, chunk: &TraceColumns) -> Result<()> {
        let df = trace_frame(&[(&self.run_id, chunk, self.position_dim)])?;
        if let Some(w) = self.writer.as_mut() {
            w.write_batch(&df)?;
        }
        self.rows += chunk.len();
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<SpilledTrace> {
        if let Some(w) = self.writer.take() {
            w.finish()?;
        }
        Ok(SpilledTrace {
            path: std::mem::take(&mut self.path),
            rows: self.rows,
        })
    }
}

impl Drop for ChunkFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Buffers finished runs and flushes them into part files.
pub struct PartWriter<'a> {
    plan: &'a Plan,
    parts: PathBuf,
    seq: u64,
    rows: Vec<RunRow>,
    traces: Vec<(TraceColumns, usize)>,
    trace_rows: usize,
    last_flush: Instant,
    /// Runs flushed so far.
    flushed: usize,
}

impl<'a> PartWriter<'a> {
    pub fn new(plan: &'a Plan, dir: &Path) -> Result<Self> {
        let parts = dir.join(super::PARTS_DIR);
        if !parts.is_dir() {
            return Err(ValleyError::Other(format!(
                "{}: no parts folder (open the results folder first)",
                parts.display()
            )));
        }
        let seq = next_seq(&parts)?;
        Ok(Self {
            plan,
            parts,
            seq,
            rows: Vec::new(),
            traces: Vec::new(),
            trace_rows: 0,
            last_flush: Instant::now(),
            flushed: 0,
        })
    }

    /// Buffers one finished run; flushes when the buffer is large or old.
    /// A run whose trace was streamed is written at once as a pair of its
    /// own, after the runs buffered before it.
    pub fn push(&mut self, r: RunResult) -> Result<()> {
        match r.spilled {
            Some(Ok(spilled)) => return self.write_streamed(r.row, spilled),
            Some(Err(e)) => {
                return Err(ValleyError::Other(format!(
                    "run {}: writing its trace: {e}",
                    r.row.run_id
                )))
            }
            None => {}
        }
        self.trace_rows += r.trace.len();
        self.traces.push((r.trace, r.position_dim));
        self.rows.push(r.row);
        if self.trace_rows >= FLUSH_TRACE_ROWS || self.last_flush.elapsed() >= FLUSH_INTERVAL {
            self.flush()?;
        }
        Ok(())
    }

    /// When the next flush is due by the timer.
    pub fn deadline(&self) -> Instant {
        self.last_flush + FLUSH_INTERVAL
    }

    /// Runs written to parts by this writer.
    pub fn flushed(&self) -> usize {
        self.flushed
    }

    /// The pair of a run whose trace was streamed to `spilled`: the
    /// buffered runs first, then its trace renamed into place and its row.
    fn write_streamed(&mut self, row: RunRow, spilled: SpilledTrace) -> Result<()> {
        self.flush()?;
        fs::rename(&spilled.path, self.parts.join(part_name("trace", self.seq)))?;
        let mut runs = runs_frame(self.plan, std::slice::from_ref(&row))?;
        write_part(
            &self.parts.join(part_name("runs", self.seq)),
            &mut runs,
            self.plan,
        )?;
        self.seq += 1;
        self.flushed += 1;
        Ok(())
    }

    /// Writes the buffered runs as one part pair, trace first.
    pub fn flush(&mut self) -> Result<()> {
        self.last_flush = Instant::now();
        if self.rows.is_empty() {
            return Ok(());
        }
        let traces: Vec<_> = self
            .rows
            .iter()
            .zip(&self.traces)
            .map(|(r, (t, dim))| (r.run_id.as_str(), t, *dim))
            .collect();
        let mut trace = trace_frame(&traces)?;
        write_part(
            &self.parts.join(part_name("trace", self.seq)),
            &mut trace,
            self.plan,
        )?;
        let mut runs = runs_frame(self.plan, &self.rows)?;
        write_part(
            &self.parts.join(part_name("runs", self.seq)),
            &mut runs,
            self.plan,
        )?;
        self.seq += 1;
        self.flushed += self.rows.len();
        self.rows.clear();
        self.traces.clear();
        self.trace_rows = 0;
        Ok(())
    }
}
