//! `valley sweep FILE.toml`: validate the whole plan, then run it into
//! `results/<name>/` (or `--out`), streaming Parquet; `--dry-run` prints the
//! plan; `--shard K/N` runs every N-th run into `DIR/shard-K-of-N/`.

use crate::cli::SweepArgs;
use crate::config::estimate::{self, Estimate, Limits};
use crate::config::{self, Plan};
use crate::error::{Result, ValleyError};
use crate::output::{self, Counts, Existing, PartWriter};
use crate::runner;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

/// `K/N` with 1 <= K <= N.
pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let bad = || {
        ValleyError::invalid(
            "command line",
            None,
            "--shard",
            format!("must be K/N with 1 <= K <= N, got {s:?}"),
        )
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// The git revision of the source tree valley was built from, where known.
fn git_revision() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
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

pub fn write_sweep_json(dir: &Path, r: &SweepRecord) -> Result<()> {
    let ts = |t: SystemTime| humantime::format_rfc3339_seconds(t).to_string();
    let value = json!({
        "name": r.plan.name,
        "description": r.plan.description,
        "valley_version": env!("CARGO_PKG_VERSION"),
        "git_revision": git_revision(),
        "sweep_file": r.plan.file.display().to_string(),
        "source": r.plan.source,
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
    let path = dir.join(output::SWEEP_FILE);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_string_pretty(&value).expect("json") + "\n",
    )?;
    std::fs::rename(tmp, path)?;
    Ok(())
}

pub fn run(args: SweepArgs) -> Result<()> {
    let limits = Limits::from_flags(
        Some(args.max_runs),
        args.max_memory.as_deref(),
        args.max_output.as_deref(),
    )?;
    let plan = config::load_within(&args.file, &limits.plan())?;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    if args.threads == Some(0) {
        return Err(ValleyError::invalid(
            "command line",
            None,
            "--threads",
            "must be >= 1, got 0",
        ));
    }
    let base = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&plan.name));
    let dir = match shard {
        Some((k, n)) => base.join(format!("shard-{k}-of-{n}")),
        None => base,
    };
    let runs = match shard {
        Some((k, n)) => plan.shard(k, n),
        None => plan.runs.clone(),
    };
    let threads = args.threads.unwrap_or_else(rayon::current_num_threads);
    let estimate = Estimate::of(&plan, runs.len() as u64, threads as u64);
    estimate.check(&plan, &limits, &dir)?;
    if args.dry_run {
        print!("{}", plan.describe());
        if let Some((k, n)) = shard {
            println!(
                "  shard {k}/{n}: {} of the {} runs",
                runs.len(),
                plan.runs.len()
            );
        }
        println!("  output: {}", dir.display());
        print!(
            "{}",
            estimate::dry_run_report(&plan, &estimate, &limits, &dir)
        );
        return Ok(());
    }
    let mode = match (args.force, args.resume) {
        (true, _) => Existing::Force,
        (_, true) => Existing::Resume,
        _ => Existing::Refuse,
    };
    output::check_dir(&dir, mode)?;
    let planned: HashSet<String> = runs.iter().map(|r| r.run_id.clone()).collect();
    let done = output::prepare_dir(&dir, mode, &planned)?;
    let todo: Vec<_> = runs
        .into_iter()
        .filter(|r| !done.contains(&r.run_id))
        .collect();

    let started = SystemTime::now();
    let mut record = SweepRecord {
        plan: &plan,
        shard,
        threads,
        started,
        finished: None,
        planned: planned.len(),
        resumed: done.len(),
        counts: None,
    };
    write_sweep_json(&dir, &record)?;

    let clock = Instant::now();
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(todo.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} runs, {per_sec}, ETA {eta}",
        )
        .expect("a valid progress template"),
    );
    let mut writer = PartWriter::new(&plan, &dir)?;
    runner::execute(&plan, &todo, threads, |result| {
        bar.inc(1);
        writer.push(result)
    })?;
    writer.flush()?;
    bar.finish_and_clear();
    let counts = output::consolidate(&dir, &plan)?;
    record.finished = Some(SystemTime::now());
    record.counts = Some(counts);
    write_sweep_json(&dir, &record)?;
    let secs = clock.elapsed().as_secs_f64();
    eprintln!(
        "{}: {} runs ({} diverged{}), {} trace rows in {:.2} s ({:.0} runs/s, {} threads) -> {}",
        plan.name,
        counts.runs,
        counts.diverged,
        if done.is_empty() {
            String::new()
        } else {
            format!(", {} resumed", done.len())
        },
        counts.trace_rows,
        secs,
        todo.len() as f64 / secs.max(1e-9),
        threads,
        dir.display()
    );
    if args.plot {
        crate::plot::plot_dir(&dir)?;
    }
    Ok(())
}
