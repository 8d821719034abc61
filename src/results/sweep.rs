//! Running a plan into a results folder: open it (one writer, resume or
//! refuse), record sweep.json, run the missing runs into parts, consolidate
//! and record the counts. The command adds the terminal (progress bar,
//! signals) through [`Progress`].

use super::parts::ChunkFiles;
use super::writer::{write_parts, StopSlot};
use super::{consolidate, open, write_sweep_json, Counts, Existing, Opened, SweepRecord};
use crate::config::{Plan, Runs};
use crate::error::Result;
use crate::runner;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// What the caller sees of a running sweep. `()` sees nothing.
pub trait Progress {
    /// The runs are about to start: `todo` to run, `resumed` found done, of
    /// `planned`; `stop` flushes and stops the writer (for signals).
    fn started(
        &mut self,
        _todo: usize,
        _resumed: usize,
        _planned: usize,
        _stop: Arc<StopSlot>,
    ) -> Result<()> {
        Ok(())
    }

    /// `n` more runs finished.
    fn runs_done(&self, _n: usize) {}
}

impl Progress for () {}

/// What a finished sweep did.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub counts: Counts,
    /// Runs found finished in the folder, and runs run now.
    pub resumed: usize,
    pub ran: usize,
    /// Damaged part files set aside (their runs were run again).
    pub quarantined: Vec<PathBuf>,
}

/// Runs `runs` of `plan` into `dir` on `threads` threads.
pub fn run_sweep(
    plan: &Plan,
    dir: &Path,
    runs: Runs,
    mode: Existing,
    threads: usize,
    shard: Option<(usize, usize)>,
    progress: &mut dyn Progress,
) -> Result<Outcome> {
    // Held until this function returns: one writer per folder.
    let Opened {
        lock: _lock,
        done,
        quarantined,
    } = open(dir, mode, plan, &runs)?;
    let todo = runs.without(&done);
    let mut record = SweepRecord {
        plan,
        shard,
        threads,
        started: SystemTime::now(),
        finished: None,
        planned: runs.len(),
        resumed: done.len(),
        counts: None,
    };
    write_sweep_json(dir, &record)?;
    let stop = Arc::new(StopSlot::default());
    progress.started(todo.len(), done.len(), runs.len(), stop.clone())?;
    let chunks = ChunkFiles::new(plan, dir);
    write_parts(plan, dir, &stop, |sink| {
        runner::execute_batches(plan, &todo, threads, Some(&chunks), |batch| {
            progress.runs_done(batch.len());
            sink(batch)
        })
    })?;
    let counts = consolidate(dir, plan, &runs)?;
    record.finished = Some(SystemTime::now());
    record.counts = Some(counts);
    write_sweep_json(dir, &record)?;
    Ok(Outcome {
        counts,
        resumed: done.len(),
        ran: todo.len(),
        quarantined,
    })
}
