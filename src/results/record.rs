//! `sweep.json`: the resolved sweep, the build that ran it, start and end
//! time, and run counts; and reading the plan back from it.

use super::{Counts, SWEEP_FILE};
use crate::config::Plan;
use crate::error::{Result, ValleyError};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The git commit valley was built from, recorded by `build.rs` at build
/// time (so it is known on a machine without the source tree); `None` when
/// built outside a git work tree.
pub fn git_revision() -> Option<&'static str> {
    Some(env!("VALLEY_GIT_REVISION")).filter(|s| !s.is_empty())
}

/// Whether tracked files differed from [`git_revision`] at build time.
pub fn git_dirty() -> Option<bool> {
    match env!("VALLEY_GIT_DIRTY") {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Everything `sweep.json` records.
pub struct SweepRecord<'a> {
    pub plan: &'a Plan,
    pub shard: Option<(usize, usize)>,
    pub threads: usize,
    pub started: SystemTime,
    pub finished: Option<SystemTime>,
    pub planned: usize,
    pub resumed: usize,
    pub counts: Option<Counts>,
}

/// Writes `dir/sweep.json` through a temporary file and a rename.
pub fn write_sweep_json(dir: &Path, r: &SweepRecord) -> Result<()> {
    let ts = |t: SystemTime| humantime::format_rfc3339_seconds(t).to_string();
    let value = json!({
        "name": r.plan.name,
        "description": r.plan.description,
        "valley_version": env!("CARGO_PKG_VERSION"),
        "git_revision": git_revision(),
        "git_dirty": git_dirty(),
        "sweep_file": r.plan.file.display().to_string(),
        "source": r.plan.source,
        "plan_fingerprint": r.plan.fingerprint(),
        "status": if r.finished.is_some() { "complete" } else { "running" },
        "shard": r.shard.map(|(k, n)| json!({"k": k, "n": n})),
        "threads": r.threads,
        "started_at": ts(r.started),
        "finished_at": r.finished.map(ts),
        "wall_seconds": r.finished.and_then(|f| f.duration_since(r.started).ok()).map(|d| d.as_secs_f64()),
        "runs": {
            "planned": r.planned,
            "resumed": r.resumed,
            "finished": r.counts.map(|c| c.runs),
            "diverged": r.counts.map(|c| c.diverged),
        },
        "trace_rows": r.counts.map(|c| c.trace_rows),
        "plan": r.plan,
    });
    let path = dir.join(SWEEP_FILE);
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(&value)
        .map_err(|e| ValleyError::Other(format!("sweep.json: {e}")))?;
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(tmp, path)?;
    Ok(())
}

/// Checks that the rows of `dir` belong to its `sweep.json`: the plan
/// fingerprint of `runs.parquet` is the one `sweep.json` records (where
/// both carry one). A merge killed between its commit and `sweep.json`, or
/// a file copied in from elsewhere, would otherwise show one plan's file
/// over another plan's data.
pub fn check_rows_belong(dir: &Path) -> Result<()> {
    let sweep = dir.join(SWEEP_FILE);
    let runs = dir.join(super::RUNS_FILE);
    let Ok(text) = std::fs::read_to_string(&sweep) else {
        return Ok(());
    };
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ValleyError::invalid(&sweep, Some(e.line()), "", e.to_string()))?;
    let Some(recorded) = json["plan_fingerprint"].as_str() else {
        return Ok(());
    };
    if !runs.exists() {
        return Ok(());
    }
    match super::frames::file_fingerprint(&runs)? {
        Some(f) if f != recorded => Err(ValleyError::invalid(
            &runs,
            None,
            "",
            format!(
                "belongs to another plan (fingerprint {f}) than the sweep.json beside it ({recorded}): an interrupted merge or a file copied in; run the merge or the sweep again"
            ),
        )),
        _ => Ok(()),
    }
}

/// Re-reads the plan recorded in a results folder's `sweep.json`, with the
/// whole record.
pub fn recorded_plan(dir: &Path) -> Result<(Plan, serde_json::Value)> {
    let path = dir.join(SWEEP_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ValleyError::invalid(&path, None, "", format!("cannot read: {e}")))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ValleyError::invalid(&path, Some(e.line()), "", e.to_string()))?;
    let source = json["source"].as_str().ok_or_else(|| {
        ValleyError::invalid(&path, None, "source", "missing: not a valley sweep.json")
    })?;
    let file = PathBuf::from(json["sweep_file"].as_str().unwrap_or("sweep.toml"));
    Ok((Plan::from_source(&file, source)?, json))
}
