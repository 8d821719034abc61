//! The dry run's time estimate: a short calibration run of a copy of the
//! plan, and the rows' write cost.

use super::*;
use std::time::{Duration, Instant};

/// Seconds per trace row to gather, write and consolidate it, without and
/// with positions (measured end to end on 2 busy cores, traces streamed in
/// chunks: 12,000,000 rows with positions in 13.6 to 27.2 s, 1.1 to 2.3 µs
/// per row; one run of 10^8 rows on 1 thread, 6.7 µs per row; before
/// streaming, without positions took about half the time per row).
pub const WRITE_SECONDS_PER_ROW: [f64; 2] = [1.5e-6, 3e-6];

/// A timing calibration: a few runs of the plan, shortened, plus the
/// writing of the trace rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Estimated wall time of the sweep: `compute + write`.
    pub seconds: f64,
    /// The runs themselves, on the threads.
    pub compute: f64,
    /// Writing the trace ([`WRITE_SECONDS_PER_ROW`]).
    pub write: f64,
    pub sampled_runs: usize,
    pub steps: [u64; 2],
    pub took: Duration,
}

/// Whether calibrating is cheap: the landscapes are small to build and the
/// memory of a run is small.
pub fn cheap_to_calibrate(e: &Estimate) -> bool {
    e.landscape_memory.saturating_add(e.build_memory) <= 64_000_000
        && e.run_memory / e.in_flight.max(1) <= 64_000_000
}

/// Times up to 8 runs of `plan` (spread over the plan) at two short lengths,
/// fits time = fixed + per step·steps, scales to the estimate's runs of the
/// full length on its threads, and adds the writing of its trace rows.
/// Gives up after `budget`, returning `None` (the calibration keeps running
/// on a detached thread until the process exits).
pub fn calibrate(plan: &Plan, e: &Estimate, budget: Duration) -> Option<Timing> {
    let steps = plan.settings.steps;
    let short = [steps.min(50), steps.min(500)];
    let n = plan.run_count();
    let picks: Vec<_> = (0..8usize.min(n))
        .map(|k| plan.run(k * n / 8.min(n)))
        .collect();
    let plans = [plan.shortened(short[0]), plan.shortened(short[1])];
    let (tx, rx) = std::sync::mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let prepared = crate::runner::Prepared::new(&plans[0]);
        let mut per_run = Vec::new();
        for spec in &picks {
            let mut t = [0.0; 2];
            for (k, p) in plans.iter().enumerate() {
                let clock = Instant::now();
                std::hint::black_box(crate::runner::run_one(p, &prepared, spec));
                t[k] = clock.elapsed().as_secs_f64();
            }
            per_run.push(t);
        }
        let _ = tx.send(per_run);
    });
    let per_run = rx
        .recv_timeout(budget.saturating_sub(started.elapsed()))
        .ok()?;
    let took = started.elapsed();
    let mean = |k: usize| per_run.iter().map(|t| t[k]).sum::<f64>() / per_run.len().max(1) as f64;
    let (t0, t1) = (mean(0), mean(1));
    let per_step = if short[1] > short[0] {
        ((t1 - t0) / (short[1] - short[0]) as f64).max(0.0)
    } else {
        0.0
    };
    let fixed = (t0 - per_step * short[0] as f64).max(0.0);
    let one = fixed + per_step * steps as f64;
    let compute = one * e.runs as f64 / e.in_flight as f64;
    let write = e.trace_rows as f64 * WRITE_SECONDS_PER_ROW[usize::from(e.positions)];
    Some(Timing {
        seconds: compute + write,
        compute,
        write,
        sampled_runs: per_run.len(),
        steps: short,
        took,
    })
}

/// The line `--dry-run` prints for the time estimate.
pub fn describe_timing(t: Option<&Timing>, threads: u64, skipped: Option<&str>) -> String {
    match (t, skipped) {
        (_, Some(why)) => format!("  time: not estimated ({why})\n"),
        (Some(t), None) => format!(
            "  time: about {} on {} idle cores (runs {}, from {} calibration runs of {} and {} steps in {:.2} s; writing the trace {})\n",
            fmt_seconds(t.seconds),
            threads,
            fmt_seconds(t.compute),
            t.sampled_runs,
            t.steps[0],
            t.steps[1],
            t.took.as_secs_f64(),
            fmt_seconds(t.write),
        ),
        (None, None) => format!(
            "  time: not estimated (the calibration runs did not finish within {} s)\n",
            CALIBRATION_BUDGET.as_secs()
        ),
    }
}

/// Longest wall time `--dry-run` spends on its timing calibration.
pub const CALIBRATION_BUDGET: Duration = Duration::from_secs(2);

/// Everything `--dry-run` prints about the estimates: memory, output and,
/// where calibrating is cheap, time.
pub fn dry_run_report(plan: &Plan, e: &Estimate, limits: &Limits, out: &Path) -> String {
    let timing = if cheap_to_calibrate(e) {
        let t = calibrate(plan, e, CALIBRATION_BUDGET);
        describe_timing(t.as_ref(), e.threads, None)
    } else {
        describe_timing(
            None,
            e.threads,
            Some("the landscapes or a run are too large to calibrate on quickly"),
        )
    };
    format!("estimates:\n{}{timing}", e.describe(limits, out))
}

/// `1 run`, `2 runs`.
pub(super) fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn fmt_seconds(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86400.0)
    }
}
