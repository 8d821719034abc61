//! Part files: finished runs, flushed as they finish.
//!
//! Finished runs are buffered and flushed into numbered pairs under
//! `DIR/parts/`: first `trace-N.parquet`, then `runs-N.parquet`, each written
//! to a temporary name and renamed, so a part exists only when complete. A
//! run counts as finished once its `runs` part exists. A `trace` part without
//! its `runs` part (killed between the two renames) is discarded on resume,
//! and a pair that cannot be read (truncated outside valley, say) is set
//! aside in `parts/quarantine/` so that its runs are run again.

use super::{ids_in, QUARANTINE_DIR};
use crate::config::Plan;
use crate::error::{Result, ValleyError};
use crate::output::{metadata, runs_frame, trace_frame};
use crate::runner::{RunResult, RunRow, TraceColumns};
use polars::prelude::*;
use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest time finished runs wait in memory before they are flushed.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(2);
/// Buffered trace rows that force a flush.
const FLUSH_TRACE_ROWS: usize = 500_000;

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
    pub fn push(&mut self, r: RunResult) -> Result<()> {
        self.trace_rows += r.trace.len();
        self.traces
            .push((r.row.run_id.clone(), r.trace, r.position_dim));
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

    /// Writes the buffered runs as one part pair, trace first.
    pub fn flush(&mut self) -> Result<()> {
        self.last_flush = Instant::now();
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut trace = trace_frame(&self.traces)?;
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
