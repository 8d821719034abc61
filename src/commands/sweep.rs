//! `valley sweep FILE.toml`: validate the whole plan, then run it into
//! `results/<name>/` (or `--out`), streaming Parquet; `--dry-run` prints the
//! plan; `--shard K/N` runs every N-th run into `DIR/shard-K-of-N/`.

use crate::cli::SweepArgs;
use crate::config;
use crate::error::{Result, ValleyError};
use crate::estimate::{self, Estimate, Limits};
use crate::results::sweep::{run_sweep, Progress};
use crate::results::writer::StopSlot;
use crate::results::Existing;
use indicatif::{ProgressBar, ProgressStyle};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// The terminal side of a sweep: the progress bar, the warnings, and
/// SIGINT/SIGTERM.
struct Terminal {
    bar: Option<ProgressBar>,
    quiet: bool,
    interrupts: Option<Interrupts>,
}

impl Progress for Terminal {
    fn started(
        &mut self,
        todo: usize,
        resumed: usize,
        planned: usize,
        stop: Arc<StopSlot>,
    ) -> Result<()> {
        let bar = if self.quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(todo as u64)
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} runs, {per_sec}, ETA {eta}",
            )
            .expect("a valid progress template"),
        );
        self.bar = Some(bar);
        self.interrupts = Some(exit_on_interrupt(stop, resumed, planned)?);
        Ok(())
    }

    fn runs_done(&self, n: usize) {
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        }
    }
}

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

/// The sweep that SIGINT and SIGTERM interrupt: its writer, runs resumed
/// and runs planned. `None` outside a sweep.
type Current = Option<(Arc<StopSlot>, usize, usize)>;
static CURRENT: Mutex<Current> = Mutex::new(None);

/// Turns SIGINT and SIGTERM (Ctrl-C; Slurm at the time limit) during a sweep
/// into: flush the finished runs, say how many are kept, exit 130. The runs
/// in flight are lost; everything on disk is resumable. Outside a sweep the
/// signals act as by default. One handler thread per process.
fn exit_on_interrupt(stop: Arc<StopSlot>, resumed: usize, planned: usize) -> Result<Interrupts> {
    static HANDLER: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    HANDLER
        .get_or_init(|| {
            let mut signals = Signals::new([SIGINT, SIGTERM]).map_err(|e| e.to_string())?;
            std::thread::spawn(move || {
                for signal in signals.forever() {
                    let current = CURRENT.lock().ok().and_then(|c| c.clone());
                    let Some((stop, resumed, planned)) = current else {
                        let _ = signal_hook::low_level::emulate_default_handler(signal);
                        continue;
                    };
                    match stop.flush_and_stop() {
                        Ok(written) => eprintln!(
                            "\ninterrupted: {} of {planned} runs kept; rerun with --resume",
                            resumed + written
                        ),
                        Err(e) => eprintln!(
                            "\ninterrupted: flushing the finished runs failed ({e}); rerun with --resume"
                        ),
                    }
                    std::process::exit(130);
                }
            });
            Ok(())
        })
        .clone()
        .map_err(ValleyError::Other)?;
    if let Ok(mut c) = CURRENT.lock() {
        *c = Some((stop, resumed, planned));
    }
    Ok(Interrupts)
}

/// The current sweep's claim on SIGINT and SIGTERM, released on drop.
struct Interrupts;

impl Drop for Interrupts {
    fn drop(&mut self) {
        if let Ok(mut c) = CURRENT.lock() {
            *c = None;
        }
    }
}

/// The plan's warnings on stderr ([`config::Plan::warnings`]): printed
/// before the sweep runs (and by `--dry-run`), which goes on.
pub fn print_warnings(plan: &config::Plan) {
    for w in plan.warnings() {
        eprintln!("warning: {w}");
    }
}

pub fn run(args: SweepArgs) -> Result<()> {
    let limits = Limits::from_flags(
        Some(args.max_runs),
        args.max_memory.as_deref(),
        args.max_output.as_deref(),
    )?;
    let plan = config::load_within(&args.file, &limits.plan())?;
    crate::claims::of_plan(&plan)?;
    print_warnings(&plan);
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
        None => plan.all_runs(),
    };
    let threads = args.threads.unwrap_or_else(rayon::current_num_threads);
    let estimate = Estimate::of(&plan, runs.len() as u64, threads as u64);
    estimate.check(&plan, &limits, &dir)?;
    if args.dry_run {
        let mut text = plan.describe();
        if let Some((k, n)) = shard {
            text += &format!(
                "  shard {k}/{n}: {} of the {} runs\n",
                runs.len(),
                plan.run_count()
            );
        }
        text += &format!("  output: {}\n", dir.display());
        text += &estimate::dry_run_report(&plan, &estimate, &limits, &dir);
        return super::print_out(&text);
    }
    let mode = match (args.force, args.resume) {
        (true, _) => Existing::Force,
        (_, true) => Existing::Resume,
        _ => Existing::Refuse,
    };
    let clock = Instant::now();
    let mut terminal = Terminal {
        bar: None,
        quiet: args.quiet,
        interrupts: None,
    };
    let outcome = run_sweep(&plan, &dir, runs, mode, threads, shard, &mut terminal)?;
    if let Some(bar) = &terminal.bar {
        bar.finish_and_clear();
    }
    let (counts, resumed) = (outcome.counts, outcome.resumed);
    for path in &outcome.quarantined {
        eprintln!(
            "warning: damaged part file set aside: {} (its runs were run again)",
            path.display()
        );
    }
    let secs = clock.elapsed().as_secs_f64();
    eprintln!(
        "{}: {} runs ({} diverged{}), {} trace rows in {:.2} s ({:.0} runs/s, {} threads) -> {}",
        plan.name,
        counts.runs,
        counts.diverged,
        if resumed == 0 {
            String::new()
        } else {
            format!(", {resumed} resumed")
        },
        counts.trace_rows,
        secs,
        outcome.ran as f64 / secs.max(1e-9),
        threads,
        dir.display()
    );
    if args.plot {
        crate::plot::plot_dir(&dir)?;
    }
    if args.report {
        super::report::write(&dir)?;
    }
    // A sharded part holds only some runs: its claims wait for the merge.
    if shard.is_none() {
        super::claims::print_claims(&dir, &plan)?;
    }
    Ok(())
}
