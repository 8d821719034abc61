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
//! the folder `parts/chunks-I.tmp/` (I: its index in the plan), one small
//! Parquet file per chunk ([`ChunkFiles`]): a file per chunk, rather than a
//! row group per chunk in one file, because a Parquet writer keeps the
//! metadata of every row group until its footer, which would grow with the
//! run. When the run finishes, that folder becomes the trace part of a pair
//! of its own, `trace-N.chunks/` (renamed, never copied), after the runs
//! finished before it. A run killed midway leaves only the temporary, which
//! is removed on resume: its chunks never count, and the run is run again.

use super::QUARANTINE_DIR;
use crate::config::{IndexSet, Plan, Resolver};
use crate::error::{Result, ValleyError};
use crate::results::frames::{metadata, runs_frame, trace_frame};
use crate::runner::{ChunkWriter, RunResult, RunRow, SpilledTrace, TraceColumns, TraceSpill};
use polars::io::parquet::write::KeyValueMetadata;
use polars::prelude::*;
use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longest time finished runs wait in memory before they are flushed.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(2);
/// Buffered trace rows that force a flush.
pub const FLUSH_TRACE_ROWS: usize = 1 << 17;
/// Buffered runs that force a flush: a run in memory holds its row and the
/// buffers of its trace (about 1 kB for a short run), so many short runs
/// are flushed by their number before their trace rows add up.
pub const FLUSH_RUNS: usize = 1 << 13;

pub fn part_name(kind: &str, seq: u64) -> String {
    format!("{kind}-{seq:06}.parquet")
}

/// Part files of `kind` (`runs` or `trace`) in `parts`, by sequence number:
/// `kind-N.parquet`, or for a streamed trace the folder `trace-N.chunks`.
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
            .and_then(|r| {
                r.strip_suffix(".parquet")
                    .or_else(|| r.strip_suffix(".chunks").filter(|_| kind == "trace"))
            })
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

/// The Parquet files of a trace part, in order: the part itself, or the
/// chunk files of a streamed trace's folder.
pub(crate) fn trace_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in fs::read_dir(path)? {
        let file = entry?.path();
        if file.extension().is_some_and(|e| e == "parquet") {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads the footer of a part's Parquet files: fails on a truncated file.
pub(crate) fn check_footer(path: &Path) -> Result<()> {
    for file in trace_files(path)? {
        ParquetReader::new(File::open(file)?).num_rows()?;
    }
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

/// The runs recorded in the runs files `files` (in order), placed in
/// `plan`: the plan indices found, and the rows not in the plan (with the
/// first such id).
pub fn recorded(plan: &Plan, files: &[PathBuf]) -> Result<Recorded> {
    let mut resolver = Resolver::new(plan);
    let mut out = Recorded {
        done: IndexSet::new(plan.run_count()),
        ..Recorded::default()
    };
    for file in files {
        super::consolidate::for_each_id(file, &mut |index, id| match resolver.find(index, id) {
            Some(i) => {
                out.done.insert(i);
            }
            None => {
                out.foreign += 1;
                out.first_foreign.get_or_insert_with(|| id.to_string());
            }
        })?;
    }
    Ok(out)
}

/// Runs recorded in a results folder.
#[derive(Debug, Default)]
pub struct Recorded {
    /// Plan indices of the finished runs.
    pub done: IndexSet,
    /// Rows whose run is not in the plan, and the first such id.
    pub foreign: usize,
    pub first_foreign: Option<String>,
    /// Damaged part files set aside in `parts/quarantine/`.
    pub quarantined: Vec<PathBuf>,
}

/// The runs finished in `parts` (placed in `plan`), after setting aside
/// the pairs that cannot be read.
pub fn finished(parts: &Path, plan: &Plan) -> Result<Recorded> {
    let mut good = Vec::new();
    let mut quarantined = Vec::new();
    for (_, runs, trace) in pairs(parts)? {
        let readable = super::consolidate::for_each_id(&runs, &mut |_, _| {}).is_ok();
        match &trace {
            Some(t) if readable && check_footer(t).is_ok() => good.push(runs),
            _ => quarantined.extend(quarantine(parts, &runs, trace.as_deref())?),
        }
    }
    let mut out = recorded(plan, &good)?;
    out.quarantined = quarantined;
    Ok(out)
}

/// Removes trace parts without their runs part, and temporaries.
pub fn remove_orphans(parts: &Path) -> Result<()> {
    let seqs: HashSet<u64> = list_parts(parts, "runs")?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    for (seq, path) in list_parts(parts, "trace")? {
        if !seqs.contains(&seq) {
            super::remove_if_exists(&path)?;
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

/// Writes `df` to `path` through a temporary file and a rename. A part is
/// read once, by consolidation: LZ4 and no statistics, which cost less to
/// write than the zstd and statistics of the consolidated files.
fn write_part(path: &Path, df: &mut DataFrame, plan: &Plan) -> Result<()> {
    let tmp = path.with_extension("parquet.tmp");
    let file = SharedFile::create(&tmp)?;
    ParquetWriter::new(file.clone())
        .with_compression(ParquetCompression::Lz4Raw)
        .with_statistics(StatisticsOptions::empty())
        .with_key_value_metadata(Some(metadata(plan)))
        .finish(df)?;
    file.finish(false)?;
    fs::rename(&tmp, path)?;
    Ok(())
}

/// valley's Parquet options (zstd, provenance metadata) on `w`.
pub(crate) fn parquet_writer<W: Write>(plan: &Plan, w: W) -> ParquetWriter<W> {
    ParquetWriter::new(w)
        .with_compression(ParquetCompression::Zstd(None))
        .with_key_value_metadata(Some(metadata(plan)))
}

/// A buffered file that a Parquet writer owns while its creator keeps a
/// handle to flush it: polars' `BatchedWriter` does not give its writer
/// back, and a flush on drop would lose a write error (a full disk). The
/// Parquet writer makes many small writes (about 360 bytes each).
#[derive(Clone)]
pub(crate) struct SharedFile(Arc<Mutex<BufWriter<File>>>);

impl SharedFile {
    pub(crate) fn create(path: &Path) -> Result<Self> {
        let file = File::create(path)?;
        Ok(Self(Arc::new(Mutex::new(BufWriter::with_capacity(
            1 << 20,
            file,
        )))))
    }

    fn lock(&self) -> io::Result<std::sync::MutexGuard<'_, BufWriter<File>>> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("a writer thread panicked"))
    }

    /// Flushes the buffer, and with `sync` the file to the disk.
    pub(crate) fn finish(&self, sync: bool) -> Result<()> {
        let mut w = self.lock()?;
        w.flush()?;
        if sync {
            w.get_ref().sync_all()?;
        }
        Ok(())
    }
}

impl Write for SharedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.lock()?.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.lock()?.flush()
    }
}

/// Streams the traces of long runs into `parts/chunks-I.tmp/`.
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
        let dir = self.parts.join(format!("chunks-{index}.tmp"));
        super::remove_if_exists(&dir)?;
        fs::create_dir(&dir)?;
        Ok(Box::new(ChunkFolder {
            dir,
            metadata: metadata(self.plan),
            run_id: run_id.to_string(),
            position_dim,
            chunks: 0,
            rows: 0,
        }))
    }
}

/// The chunk folder of one run, removed unless finished.
struct ChunkFolder {
    dir: PathBuf,
    metadata: KeyValueMetadata,
    run_id: String,
    position_dim: usize,
    chunks: usize,
    rows: usize,
}

impl ChunkWriter for ChunkFolder {
    fn write(&mut self, chunk: &TraceColumns) -> Result<()> {
        let mut df = trace_frame(&[(&self.run_id, chunk, self.position_dim)])?;
        let file = SharedFile::create(&self.dir.join(format!("{:09}.parquet", self.chunks)))?;
        // A chunk is read once, by consolidation: fast compression and no
        // statistics (trace.parquet has zstd and statistics). Encoded on
        // this thread: a run's thread is a rayon worker, and waiting on
        // polars' thread pool would let it start another run meanwhile
        // (rayon steals work while it waits), a chunk more per nested run.
        ParquetWriter::new(file.clone())
            .set_parallel(false)
            .with_key_value_metadata(Some(self.metadata.clone()))
            .with_compression(ParquetCompression::Lz4Raw)
            .with_statistics(StatisticsOptions::empty())
            .finish(&mut df)?;
        file.finish(false)?;
        self.chunks += 1;
        self.rows += chunk.len();
        super::fault::point("chunk_written");
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<SpilledTrace> {
        Ok(SpilledTrace {
            path: std::mem::take(&mut self.dir),
            rows: self.rows,
        })
    }
}

impl Drop for ChunkFolder {
    fn drop(&mut self) {
        if !self.dir.as_os_str().is_empty() {
            let _ = fs::remove_dir_all(&self.dir);
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
        if self.trace_rows >= FLUSH_TRACE_ROWS
            || self.rows.len() >= FLUSH_RUNS
            || self.last_flush.elapsed() >= FLUSH_INTERVAL
        {
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
        let trace = self.parts.join(format!("trace-{:06}.chunks", self.seq));
        fs::rename(&spilled.path, trace)?;
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
