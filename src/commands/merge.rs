//! `valley merge DIR`: joins `DIR/shard-K-of-N/` into `DIR/runs.parquet`,
//! `DIR/trace.parquet` and `DIR/sweep.json`, after checking that every run of
//! the plan is there exactly once.

use super::sweep::{write_sweep_json, SweepRecord};
use crate::cli::MergeArgs;
use crate::config::Plan;
use crate::error::{Result, ValleyError};
use crate::output::{self, read_parquet, RUNS_FILE, SWEEP_FILE, TRACE_FILE};
use crate::schema::runs as rc;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Re-reads the plan recorded in a results folder's `sweep.json`.
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

pub fn run(args: MergeArgs) -> Result<()> {
    let dir = &args.dir;
    let mut shards: Vec<(usize, usize, PathBuf)> = Vec::new();
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
    let missing: Vec<usize> = (1..=n)
        .filter(|k| !shards.iter().any(|s| s.0 == *k))
        .collect();
    if !missing.is_empty() {
        return Err(ValleyError::invalid(
            dir,
            None,
            "",
            format!("shards {missing:?} of {n} are missing"),
        ));
    }
    let (plan, first) = recorded_plan(&shards[0].2)?;
    let mut seen: HashMap<String, usize> = HashMap::new();
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
        {
            return Err(ValleyError::invalid(
                path,
                None,
                "",
                format!("shard {k} is not complete: run it (with --resume) first"),
            ));
        }
        let runs = read_parquet(&path.join(RUNS_FILE))?;
        for id in runs.column(rc::RUN_ID)?.str()?.iter().flatten() {
            *seen.entry(id.to_string()).or_default() += 1;
        }
    }
    let absent = plan
        .runs
        .iter()
        .filter(|r| !seen.contains_key(&r.run_id))
        .count();
    let twice = seen.values().filter(|&&c| c > 1).count();
    let foreign = seen
        .keys()
        .filter(|id| !plan.runs.iter().any(|r| &r.run_id == *id))
        .count();
    if absent + twice + foreign > 0 {
        return Err(ValleyError::Other(format!(
            "the shards do not cover the plan exactly once: {absent} runs missing, {twice} repeated, {foreign} not in the plan"
        )));
    }
    let runs: Vec<PathBuf> = shards.iter().map(|s| s.2.join(RUNS_FILE)).collect();
    let traces: Vec<PathBuf> = shards.iter().map(|s| s.2.join(TRACE_FILE)).collect();
    let counts = output::join_parts(dir, &plan, &runs, &traces)?;
    let time = |key: &str| {
        first[key]
            .as_str()
            .and_then(|s| humantime::parse_rfc3339(s).ok())
            .unwrap_or_else(std::time::SystemTime::now)
    };
    write_sweep_json(
        dir,
        &SweepRecord {
            plan: &plan,
            shard: None,
            threads: first["threads"].as_u64().unwrap_or(0) as usize,
            started: time("started_at"),
            finished: Some(std::time::SystemTime::now()),
            planned: plan.runs.len(),
            resumed: 0,
            counts: Some(counts),
        },
    )?;
    eprintln!(
        "merged {n} shards: {} runs ({} diverged), {} trace rows -> {}",
        counts.runs,
        counts.diverged,
        counts.trace_rows,
        dir.display()
    );
    Ok(())
}
