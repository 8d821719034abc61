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

/// Why there is no [`Timing`]: the first calibration run did not finish
/// within the budget. Since a run of the plan is at least as long as its
/// first `steps` steps, every run takes longer than `waited`.
#[derive(Debug, Clone, PartialEq)]
pub struct Unfinished {
    pub steps: u64,
    /// Whether the landscapes were built (else nothing ran).
    pub built: bool,
    /// How long the first run ran.
    pub waited: Duration,
    /// The sweep's least wall time that follows: its runs, `waited` each,
    /// on its threads.
    pub at_least: f64,
}

/// What the calibration thread reports, as it happens.
enum Measured {
    /// The landscapes are built.
    Built(Instant),
    /// The first run, of the first length, took this many seconds.
    Probe(f64),
    /// A run at both lengths: the second length and the two times.
    Pair(u64, [f64; 2]),
}

/// Share of the budget the calibration plans to use (the rest is margin
/// for a misjudged run).
const BUDGET_SHARE: f64 = 0.7;

/// Times runs of `plan` at two short lengths and fits time = fixed + per
/// step·steps, scales to the estimate's runs of the full length on its
/// threads, and adds the writing of its trace rows. The lengths and the
/// number of runs fit the `budget`: a first run of min(steps, 50) steps
/// gives the cost of a step; the second length is min(steps, 500) or what
/// the budget allows, and up to 8 runs spread over the plan are timed at
/// both while it lasts. A sweep of slow runs (a network with its Hessian
/// every 20 steps) is calibrated on one run of 50 and a few hundred steps;
/// where even the first run does not finish, the answer is a lower bound
/// ([`Unfinished`]). The calibration keeps running on a detached thread
/// until the process exits.
pub fn calibrate(plan: &Plan, e: &Estimate, budget: Duration) -> Result<Timing, Unfinished> {
    let steps = plan.settings.steps;
    let s0 = steps.min(50);
    let n = plan.run_count();
    let picks: Vec<_> = (0..8usize.min(n))
        .map(|k| plan.run(k * n / 8.min(n)))
        .collect();
    let short = plan.shortened(s0);
    let (tx, rx) = std::sync::mpsc::channel::<Measured>();
    let started = Instant::now();
    std::thread::spawn(move || {
        let prepared = crate::runner::Prepared::new(&short);
        if tx.send(Measured::Built(Instant::now())).is_err() {
            return;
        }
        let time = |p: &Plan, spec| {
            let clock = Instant::now();
            std::hint::black_box(crate::runner::run_one(p, &prepared, spec));
            clock.elapsed().as_secs_f64()
        };
        let Some(first) = picks.first() else { return };
        let t0 = time(&short, first);
        if tx.send(Measured::Probe(t0)).is_err() {
            return;
        }
        // The second length: what the budget left allows for one run at
        // both lengths, at the first run's cost per step.
        let left = (budget.as_secs_f64() * BUDGET_SHARE - started.elapsed().as_secs_f64()).max(0.0);
        let per_step = t0 / s0.max(1) as f64;
        let affordable = if per_step > 0.0 {
            (left / per_step) as u64
        } else {
            u64::MAX
        };
        let s1 = steps.min(500).min(affordable.saturating_sub(s0));
        let s1 = if s1 >= 2 * s0 { s1 } else { s0 };
        let long = short.shortened(s1);
        for (k, spec) in picks.iter().enumerate() {
            let a = if k == 0 { t0 } else { time(&short, spec) };
            let b = if s1 == s0 { a } else { time(&long, spec) };
            if tx.send(Measured::Pair(s1, [a, b])).is_err() {
                return;
            }
            if started.elapsed().as_secs_f64() > budget.as_secs_f64() * BUDGET_SHARE {
                return;
            }
        }
    });
    let (mut built, mut probe) = (None, None);
    let mut per_run: Vec<[f64; 2]> = Vec::new();
    let mut s1 = s0;
    while let Some(wait) = budget.checked_sub(started.elapsed()) {
        match rx.recv_timeout(wait) {
            Ok(Measured::Built(at)) => built = Some(at),
            Ok(Measured::Probe(t)) => probe = Some(t),
            Ok(Measured::Pair(len, t)) => {
                s1 = len;
                per_run.push(t);
            }
            Err(_) => break,
        }
    }
    let took = started.elapsed();
    // The first run alone, where its second length did not finish.
    if let (true, Some(t0)) = (per_run.is_empty(), probe) {
        per_run.push([t0, t0]);
        s1 = s0;
    }
    if per_run.is_empty() {
        let waited = built.map_or(Duration::ZERO, |at| at.elapsed());
        return Err(Unfinished {
            steps: s0,
            built: built.is_some(),
            waited,
            at_least: waited.as_secs_f64() * e.runs as f64 / e.in_flight.max(1) as f64,
        });
    }
    let mean = |k: usize| per_run.iter().map(|t| t[k]).sum::<f64>() / per_run.len() as f64;
    let (t0, t1) = (mean(0), mean(1));
    let (per_step, fixed) = if s1 > s0 {
        let per_step = ((t1 - t0) / (s1 - s0) as f64).max(0.0);
        (per_step, (t0 - per_step * s0 as f64).max(0.0))
    } else {
        (t0 / s0.max(1) as f64, 0.0)
    };
    let one = fixed + per_step * steps as f64;
    let compute = one * e.runs as f64 / e.in_flight.max(1) as f64;
    let write = e.trace_rows as f64 * WRITE_SECONDS_PER_ROW[usize::from(e.positions)];
    Ok(Timing {
        seconds: compute + write,
        compute,
        write,
        sampled_runs: per_run.len(),
        steps: [s0, s1],
        took,
    })
}

/// The line `--dry-run` prints for the time estimate.
pub fn describe_timing(
    t: Option<&Result<Timing, Unfinished>>,
    threads: u64,
    skipped: Option<&str>,
) -> String {
    match (t, skipped) {
        (_, Some(why)) => format!("  time: not estimated ({why})\n"),
        (None, None) => "  time: not estimated (no calibration)\n".to_string(),
        (Some(Ok(t)), None) => {
            let lengths = if t.steps[1] > t.steps[0] {
                format!("{} and {} steps", t.steps[0], t.steps[1])
            } else {
                format!("{} steps", t.steps[0])
            };
            format!(
                "  time: about {} on {} idle cores (runs {}, from {} of {lengths} in {:.2} s; writing the trace {})\n",
                fmt_seconds(t.seconds),
                threads,
                fmt_seconds(t.compute),
                plural(t.sampled_runs as u64, "calibration run"),
                t.took.as_secs_f64(),
                fmt_seconds(t.write),
            )
        }
        (Some(Err(u)), None) if !u.built => {
            "  time: not estimated (building the landscapes took longer than the calibration's budget)\n".to_string()
        }
        (Some(Err(u)), None) => format!(
            "  time: more than {} on {} idle cores (a calibration run of {} steps did not finish within {:.1} s, and every run is longer)\n",
            fmt_seconds(u.at_least),
            threads,
            u.steps,
            u.waited.as_secs_f64(),
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
        describe_timing(Some(&t), e.threads, None)
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
    if s < 10.0 {
        format!("{s:.2} s")
    } else if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let src = "name = \"t\"\nsteps = 2000\nseeds = 4\n\
                   [[landscape]]\nkind = \"quadratic\"\ndim = 2\neigenvalues = [1.0, 2.0]\n\
                   [[optimizer]]\nkind = \"sgd\"\n[[schedule]]\nkind = \"constant\"\nlr = 0.1\n";
        Plan::from_source(Path::new("t.toml"), src).unwrap()
    }

    #[test]
    fn no_finished_run_gives_a_lower_bound_not_an_estimate() {
        let p = plan();
        let e = Estimate::of(&p, 4, 2);
        let mut u = calibrate(&p, &e, Duration::ZERO).unwrap_err();
        assert_eq!(u.steps, 50);
        let line = describe_timing(Some(&Err(u.clone())), 2, None);
        assert!(
            line.contains("not estimated (building the landscapes"),
            "{line}"
        );
        u.built = true;
        u.waited = Duration::from_secs(3);
        u.at_least = 6.0;
        let line = describe_timing(Some(&Err(u)), 2, None);
        assert!(line.starts_with("  time: more than "), "{line}");
        assert!(
            line.contains("a calibration run of 50 steps did not finish"),
            "{line}"
        );
    }

    #[test]
    fn the_calibration_fits_its_lengths_into_its_budget() {
        let p = plan();
        let e = Estimate::of(&p, 4, 2);
        let t = calibrate(&p, &e, Duration::from_secs(5)).unwrap();
        // Cheap runs: both standard lengths, every one of the 4 runs.
        assert_eq!(t.steps, [50, 500]);
        assert_eq!(t.sampled_runs, 4);
        assert!(t.took < Duration::from_secs(5));
        let line = describe_timing(Some(&Ok(t)), 2, None);
        assert!(
            line.contains("from 4 calibration runs of 50 and 500 steps"),
            "{line}"
        );
    }
}
