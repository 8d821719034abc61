//! What a results folder is: its files, its lock, its parts, how they are
//! consolidated, and how shards are merged. The commands (`sweep`, `merge`,
//! `plot`) use this module; it knows nothing of the command line.
//!
//! A results folder `DIR` holds, while a sweep runs:
//!
//! | path | what |
//! |---|---|
//! | `.valley.lock` | the writer's lock (an advisory `flock`), with its pid ([`lock`]) |
//! | `sweep.json` | the resolved plan and the run counts ([`record`]) |
//! | `parts/runs-N.parquet`, `parts/trace-N.parquet` | finished runs, flushed as they finish ([`parts`]) |
//! | `parts/trace-N.chunks/` | the trace of one long run, streamed chunk by chunk while it ran ([`parts`]) |
//! | `parts/chunks-I.tmp/` | the chunks of run I while it runs; removed on resume if it did not finish |
//! | `parts/quarantine/` | damaged parts set aside on resume; their runs are run again |
//!
//! and once complete, `runs.parquet` and `trace.parquet` instead of `parts/`.
//!
//! **The parts are the truth while `parts/` exists.** Consolidation
//! ([`consolidate`]) writes both consolidated files to temporary names,
//! renames `trace.parquet` into place and then `runs.parquet`, the commit
//! marker, then renames `parts/` to `parts.old/` in one step and removes it.
//! Opening a folder to resume ([`open`]) first brings it back to a state of
//! that sequence: temporaries and `parts.new/` are removed; with `parts/`
//! present, consolidated files are stale and removed; `parts.old/` is
//! removed (its runs are in the committed `runs.parquet`). So a sweep or a
//! merge killed at any moment (`kill -9` included) loses no finished run and
//! counts none twice.

pub mod compare;
pub mod consolidate;
mod fault;
pub mod frames;
pub mod lock;
pub mod merge;
pub mod parts;
pub mod record;
pub mod sweep;
pub mod writer;

pub use consolidate::{consolidate, Counts};
pub use lock::FolderLock;
pub use merge::merge;
pub use record::{recorded_plan, write_sweep_json, SweepRecord};

use crate::config::{IndexSet, Plan, Runs};
use crate::error::{Result, ValleyError};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

pub const RUNS_FILE: &str = "runs.parquet";
pub const TRACE_FILE: &str = "trace.parquet";
pub const SWEEP_FILE: &str = "sweep.json";
pub const LOCK_FILE: &str = ".valley.lock";
pub const PARTS_DIR: &str = "parts";
/// `parts/` after its runs were committed to `runs.parquet`, being removed.
pub const RETIRED_PARTS_DIR: &str = "parts.old";
/// Parts being made from a consolidated folder on resume.
pub const STAGED_PARTS_DIR: &str = "parts.new";
pub const QUARANTINE_DIR: &str = "quarantine";
/// The figures `valley plot` and `valley report` draw into a results folder.
pub const FIGURES_DIR: &str = "figures";
/// The page `valley report` writes into a results folder.
pub const REPORT_FILE: &str = "report.html";

/// Everything valley writes at the top of a results folder; with `.tmp`
/// appended, their temporaries. `--force` removes these and nothing else.
const OWN_ENTRIES: [&str; 9] = [
    LOCK_FILE,
    SWEEP_FILE,
    RUNS_FILE,
    TRACE_FILE,
    PARTS_DIR,
    RETIRED_PARTS_DIR,
    STAGED_PARTS_DIR,
    FIGURES_DIR,
    REPORT_FILE,
];

/// Whether valley wrote the entry `name` of a results folder (one of
/// [`OWN_ENTRIES`] or its temporary).
fn is_own(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    let base = name.strip_suffix(".tmp").unwrap_or(&name);
    OWN_ENTRIES.contains(&base)
}

/// Whether valley made `dir`: it holds valley's lock, its `sweep.json` or
/// its `parts/`.
pub fn is_results_folder(dir: &Path) -> bool {
    dir.join(LOCK_FILE).is_file() || dir.join(SWEEP_FILE).is_file() || dir.join(PARTS_DIR).is_dir()
}

/// The entries of `dir` valley did not write, sorted (at most `most`, and
/// how many in all).
fn foreign_entries(dir: &Path, most: usize) -> (Vec<String>, usize) {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| !is_own(&e.file_name()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let total = names.len();
    names.truncate(most);
    (names, total)
}

/// What to do with an existing results folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Refuse,
    Force,
    Resume,
}

/// True when `dir` holds anything besides its lock file.
fn occupied(dir: &Path) -> bool {
    dir.exists()
        && fs::read_dir(dir)
            .map(|d| d.flatten().any(|e| e.file_name() != LOCK_FILE))
            .unwrap_or(true)
}

/// Checks whether `dir` may be used, without writing anything.
pub fn check_dir(dir: &Path, mode: Existing) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(ValleyError::invalid(
            dir,
            None,
            "",
            "exists and is not a folder",
        ));
    }
    if mode == Existing::Refuse && occupied(dir) {
        return Err(ValleyError::invalid(
            dir,
            None,
            "",
            "the results folder exists: pass --resume to finish its missing runs or --force to start over",
        ));
    }
    if mode != Existing::Refuse && occupied(dir) && !is_results_folder(dir) {
        let (names, total) = foreign_entries(dir, 5);
        let more = if total > names.len() {
            format!(" and {} more", total - names.len())
        } else {
            String::new()
        };
        let flag = if mode == Existing::Force {
            "--force"
        } else {
            "--resume"
        };
        return Err(ValleyError::invalid(
            dir,
            None,
            "",
            format!(
                "is not a valley results folder (no sweep.json, parts/ or .valley.lock) and holds {}{more}: valley deletes only files it wrote, in folders it made, so {flag} is refused; choose a new or empty --out folder",
                names.join(", ")
            ),
        ));
    }
    Ok(())
}

/// A results folder opened for writing: locked, and brought to a state from
/// which the sweep can go on.
pub struct Opened {
    pub lock: FolderLock,
    /// Plan indices of the runs already finished (empty unless resuming).
    pub done: IndexSet,
    /// Damaged part files set aside in `parts/quarantine/`: their runs are
    /// missing from `done` and will be run again.
    pub quarantined: Vec<PathBuf>,
}

/// Locks `dir` (creating it) and makes it ready for writing the runs
/// `planned` of `plan`. `Force` empties it of what valley wrote; `Resume`
/// recovers from any interrupted write and returns the finished runs, each
/// of which must be one of `planned` or nothing is changed.
pub fn open(dir: &Path, mode: Existing, plan: &Plan, planned: &Runs) -> Result<Opened> {
    check_dir(dir, mode)?;
    fs::create_dir_all(dir).map_err(|e| io_at(dir, e))?;
    let lock = FolderLock::acquire(dir)?;
    // Another process may have filled the folder between the check and the lock.
    check_dir(dir, mode)?;
    let parts = dir.join(PARTS_DIR);
    match mode {
        Existing::Refuse => {}
        Existing::Force => remove_own_but_lock(dir)?,
        Existing::Resume => {
            recover(dir)?;
            let found = if parts.exists() {
                parts::finished(&parts, plan)?
            } else if dir.join(RUNS_FILE).exists() {
                parts::recorded(plan, &[dir.join(RUNS_FILE)])?
            } else {
                parts::Recorded::default()
            };
            let outside = found.done.len()
                - planned
                    .indices()
                    .filter(|&i| found.done.contains(i))
                    .count();
            if found.foreign + outside > 0 {
                let which = found
                    .first_foreign
                    .map(|id| format!(" (run {id})"))
                    .unwrap_or_default();
                return Err(ValleyError::invalid(
                    dir,
                    None,
                    "",
                    format!("{} recorded runs are not in this sweep's plan{which} (the sweep file changed?): use --force to start over", found.foreign + outside),
                ));
            }
            if !parts.exists() && dir.join(RUNS_FILE).exists() {
                reopen_consolidated(dir)?;
            }
            fs::create_dir_all(&parts).map_err(|e| io_at(&parts, e))?;
            return Ok(Opened {
                lock,
                done: found.done,
                quarantined: found.quarantined,
            });
        }
    }
    fs::create_dir_all(&parts).map_err(|e| io_at(&parts, e))?;
    Ok(Opened {
        lock,
        done: IndexSet::default(),
        quarantined: Vec::new(),
    })
}

/// Removes what valley wrote in `dir` ([`OWN_ENTRIES`] and their
/// temporaries), except the lock; files valley did not write stay.
fn remove_own_but_lock(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(|e| io_at(dir, e))? {
        let entry = entry.map_err(|e| io_at(dir, e))?;
        let name = entry.file_name();
        if name == LOCK_FILE || !is_own(&name) {
            continue;
        }
        if name == FIGURES_DIR && entry.path().is_dir() {
            remove_figures(&entry.path())?;
        } else {
            remove_if_exists(&entry.path())?;
        }
    }
    Ok(())
}

/// Removes the PNG files of `figures/` (what plot and report draw) and the
/// folder if nothing else is left in it.
fn remove_figures(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(|e| io_at(dir, e))? {
        let path = entry.map_err(|e| io_at(dir, e))?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "png") {
            remove_if_exists(&path)?;
        }
    }
    // Fails, leaving it, where other files remain.
    let _ = fs::remove_dir(dir);
    Ok(())
}

/// An I/O error that names its path.
pub(crate) fn io_at(path: &Path, e: std::io::Error) -> ValleyError {
    ValleyError::Other(format!("{}: {e}", path.display()))
}

pub(crate) fn remove_if_exists(path: &Path) -> Result<()> {
    let r = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    match r {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(io_at(path, e)),
        _ => Ok(()),
    }
}

/// Removes the temporaries of valley's interrupted writes in `dir`
/// (`runs.parquet.tmp`, `sweep.json.tmp`, ...: valley's own names with
/// `.tmp`); another program's `*.tmp` stays.
pub(crate) fn remove_temporaries(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(|e| io_at(dir, e))? {
        let entry = entry.map_err(|e| io_at(dir, e))?;
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".tmp") && is_own(&name) {
            remove_if_exists(&entry.path())?;
        }
    }
    Ok(())
}

/// Brings a folder left by an interrupted sweep, resume or consolidation back
/// to a consistent state (see the module header). Changes no finished run.
fn recover(dir: &Path) -> Result<()> {
    remove_temporaries(dir)?;
    // Staging from a consolidated folder did not finish: that folder is intact.
    remove_if_exists(&dir.join(STAGED_PARTS_DIR))?;
    let retired = dir.join(RETIRED_PARTS_DIR);
    if retired.exists() {
        parts::keep_quarantine(&retired, dir)?;
        remove_if_exists(&retired)?;
    }
    if dir.join(PARTS_DIR).exists() {
        // The parts are the truth; whatever was consolidated from them is
        // stale or half-written.
        remove_if_exists(&dir.join(RUNS_FILE))?;
        remove_if_exists(&dir.join(TRACE_FILE))?;
        parts::remove_orphans(&dir.join(PARTS_DIR))?;
    } else if dir.join(RUNS_FILE).exists() && !dir.join(TRACE_FILE).exists() {
        return Err(ValleyError::Other(format!(
            "{}: runs.parquet without trace.parquet and no parts/: this folder was not written by this version of valley; use --force to start over",
            dir.display()
        )));
    }
    Ok(())
}

/// Turns a consolidated folder back into parts (part 0), so that resuming it
/// goes through the same path as any other: the consolidated files are
/// hard-linked (or copied) into `parts.new/`, which is renamed to `parts/` in
/// one step, and only then are they removed.
fn reopen_consolidated(dir: &Path) -> Result<()> {
    let staged = dir.join(STAGED_PARTS_DIR);
    fs::create_dir_all(&staged)?;
    for (file, kind) in [(TRACE_FILE, "trace"), (RUNS_FILE, "runs")] {
        let to = staged.join(parts::part_name(kind, 0));
        if fs::hard_link(dir.join(file), &to).is_err() {
            fs::copy(dir.join(file), &to)?;
        }
        fault::point("staging");
    }
    fs::rename(&staged, dir.join(PARTS_DIR))?;
    fault::point("staged");
    fs::remove_file(dir.join(RUNS_FILE))?;
    fs::remove_file(dir.join(TRACE_FILE))?;
    Ok(())
}
