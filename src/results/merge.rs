//! Merging the shards of a sharded sweep (`DIR/shard-K-of-N/`) into
//! `DIR/runs.parquet`, `DIR/trace.parquet` and `DIR/sweep.json`, after
//! checking that every run of the plan is there exactly once.
//!
//! The shards stay as they are: they are the truth, and the merged files
//! are committed as in [`consolidate`](super::consolidate) (temporaries,
//! `runs.parquet` renamed last). A merge killed at any moment is finished
//! by running it again. The check costs O(runs) (hash sets of run ids).

use super::consolidate::{commit, sources};
use super::frames::file_fingerprint;
use super::{
    recorded_plan, remove_temporaries, write_sweep_json, Counts, FolderLock, SweepRecord,
    PARTS_DIR, RUNS_FILE, SWEEP_FILE, TRACE_FILE,
};
use crate::config::Plan;
use crate::error::{Result, ValleyError};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What a merge did.
#[derive(Debug, Clone, Copy)]
pub struct Merged {
    /// N, the number of shards.
    pub shards: usize,
    pub counts: Counts,
}

/// The `shard-K-of-N` folders of `dir`, sorted by K.
fn shard_folders(dir: &Path) -> Result<Vec<(usize, usize, PathBuf)>> {
    let mut shards = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ValleyError::invalid(dir, None, "", format!("cannot read the folder: {e}")))?;
    for entry in entries {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let parsed = name
            .strip_prefix("shard-")
            .and_then(|r| r.split_once("-of-"))
            .and_then(|(k, n)| Some((k.parse().ok()?, n.parse().ok()?)));
        if let (Some((k, n)), true) = (parsed, path.is_dir()) {
            shards.push((k, n, path));
        }
    }
    shards.sort();
    Ok(shards)
}

/// Refuses to merge into `dir` where it holds results of another plan than
/// its shards', which merging would overwrite: a `sweep.json` of another
/// plan (its fingerprint; its sweep file where it records none), or,
/// without a `sweep.json`, result files that do not carry the plan's
/// fingerprint. Files of an earlier, interrupted merge of the same shards
/// carry it, so running the merge again finishes it.
fn refuse_another_sweep(dir: &Path, plan: &Plan, shard: &serde_json::Value) -> Result<()> {
    let sweep = dir.join(SWEEP_FILE);
    if sweep.exists() {
        let (_, json) = recorded_plan(dir)?;
        let same = match json["plan_fingerprint"].as_str() {
            Some(f) => f == plan.fingerprint(),
            None => json["source"] == shard["source"],
        };
        if !same {
            return Err(ValleyError::invalid(
                &sweep,
                None,
                "",
                "holds the results of another sweep file than its shards: merging would overwrite them; merge the shards in a folder of their own",
            ));
        }
        return Ok(());
    }
    for f in [RUNS_FILE, TRACE_FILE] {
        let path = dir.join(f);
        if path.exists() && file_fingerprint(&path)?.as_deref() != Some(plan.fingerprint()) {
            return Err(ValleyError::invalid(
                &path,
                None,
                "",
                "exists without a sweep.json beside it and belongs to another plan than the shards: merging would overwrite it; merge the shards in a folder of their own",
            ));
        }
    }
    Ok(())
}

/// Merges the shards of `dir` (see the module header).
pub fn merge(dir: &Path) -> Result<Merged> {
    let shards = shard_folders(dir)?;
    let Some(&(_, n, _)) = shards.first() else {
        return Err(ValleyError::invalid(
            dir,
            None,
            "",
            "no shard-K-of-N folders to merge",
        ));
    };
    if shards.iter().any(|s| s.1 != n) {
        return Err(ValleyError::invalid(
            dir,
            None,
            "",
            "shards of different splits (N) in one folder",
        ));
    }
    let present: HashSet<usize> = shards.iter().map(|s| s.0).collect();
    let missing: Vec<usize> = (1..=n).filter(|k| !present.contains(k)).collect();
    if !missing.is_empty() {
        return Err(ValleyError::invalid(
            dir,
            None,
            "",
            format!(
                "shards {missing:?} of {n} are missing (no shard-K-of-{n} folder): run them with --shard K/{n}, then merge again"
            ),
        ));
    }
    let (plan, first) = recorded_plan(&shards[0].2)?;
    for (k, _, path) in &shards {
        let (_, json) = recorded_plan(path)?;
        if json["source"] != first["source"] {
            return Err(ValleyError::invalid(
                path,
                None,
                "",
                "comes from a different sweep file than shard 1",
            ));
        }
        if json["status"] != "complete"
            || !path.join(RUNS_FILE).exists()
            || !path.join(TRACE_FILE).exists()
            || path.join(PARTS_DIR).exists()
        {
            return Err(ValleyError::invalid(
                path,
                None,
                "",
                format!("shard {k} of {n} is not complete: run it (with --resume) first"),
            ));
        }
    }
    refuse_another_sweep(dir, &plan, &first)?;
    let _lock = FolderLock::acquire(dir)?;
    remove_temporaries(dir)?;
    let pairs = shards
        .iter()
        .map(|s| (s.2.join(RUNS_FILE), s.2.join(TRACE_FILE)))
        .collect();
    let (sources, found) = sources(&plan, pairs)?;
    let absent = plan.run_count() - found.runs.len();
    let foreign = found.foreign;
    let twice = found.rows - found.runs.len() - foreign;
    if absent + twice + foreign > 0 {
        return Err(ValleyError::Other(format!(
            "the shards do not cover the plan exactly once: {absent} runs missing, {twice} repeated, {foreign} not in the plan"
        )));
    }
    let counts = commit(dir, &plan, sources)?;
    let time = |key: &str| {
        first[key]
            .as_str()
            .and_then(|s| humantime::parse_rfc3339(s).ok())
            .unwrap_or_else(SystemTime::now)
    };
    write_sweep_json(
        dir,
        &SweepRecord {
            plan: &plan,
            shard: None,
            threads: first["threads"].as_u64().unwrap_or(0) as usize,
            started: time("started_at"),
            finished: Some(SystemTime::now()),
            planned: plan.run_count(),
            resumed: 0,
            counts: Some(counts),
        },
    )?;
    Ok(Merged { shards: n, counts })
}
