//! `valley schedule FILE.toml --steps N`: the `[schedule]` table as CSV
//! (`step,lr,momentum`, one row per step 0..N-1; `momentum` empty where the
//! schedule does not set it). Values print in Rust's shortest round-trip form.

use super::single_table;
use crate::cli::ScheduleArgs;
use crate::config::{self, expand, Reporter};
use crate::error::{Result, ValleyError};
use crate::schedule::Schedule;
use std::io::Write;

/// Reads, validates and labels the schedule table of a file.
pub fn load(file: &std::path::Path, name: Option<&str>) -> Result<(String, Schedule)> {
    let src = config::read_source(file)?;
    let rep = Reporter::new(file, &src);
    let (prefix, mut table) = single_table(file, &src, "schedule", name)?;
    if let Some(axis) = expand::find_axes(&table)
        .map_err(|e| rep.spec(&prefix, e))?
        .first()
    {
        return Err(rep.at(
            &format!("{prefix}.{}", axis.path),
            "sweep axes are for `valley sweep`; give one value here",
        ));
    }
    let label = match table.remove("name") {
        Some(v) => rep.parse::<String>(&format!("{prefix}.name"), v)?,
        None => String::new(),
    };
    let schedule: Schedule = rep.parse(&prefix, toml::Value::Table(table))?;
    schedule.validate().map_err(|e| rep.spec(&prefix, e))?;
    if schedule.reads_loss() {
        return Err(rep.at(
            &format!("{prefix}.kind"),
            "this schedule holds a `plateau`, whose lr depends on the run's losses: \
             it has no table without a run. Run it with `valley sweep` and read the \
             trace's `lr` column",
        ));
    }
    let label = if label.is_empty() {
        schedule.kind_name().to_string()
    } else {
        label
    };
    Ok((label, schedule))
}

pub fn run(args: ScheduleArgs) -> Result<()> {
    if args.steps == 0 {
        return Err(ValleyError::invalid(
            "command line",
            None,
            "--steps",
            "must be >= 1, got 0",
        ));
    }
    if let Some(path) = &args.plot {
        crate::plot::check_figure_path(path)?;
    }
    let (label, schedule) = load(&args.file, args.name.as_deref())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let write = |out: &mut std::io::BufWriter<_>| -> std::io::Result<()> {
        writeln!(out, "step,lr,momentum")?;
        for t in 0..args.steps {
            match schedule.momentum(t) {
                Some(m) => writeln!(out, "{t},{:?},{:?}", schedule.lr(t), m)?,
                None => writeln!(out, "{t},{:?},", schedule.lr(t))?,
            }
        }
        out.flush()
    };
    match write(&mut out) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        other => other?,
    }
    if let Some(path) = &args.plot {
        crate::plot::schedule_figure(path, &label, &schedule, args.steps)?;
    }
    Ok(())
}
