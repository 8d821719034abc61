//! `valley schedule FILE.toml --steps N`: the `[schedule]` table as CSV
//! (`step,lr,momentum`, one row per step 0..N-1; `momentum` empty where the
//! schedule does not set it). Values print in Rust's shortest round-trip form.
//! A file of several `[[schedule]]` tables prints every one of them, with a
//! first column `schedule` (its label), and `--plot` draws one curve each;
//! `--name` picks one.

use super::{all_tables, single_table};
use crate::cli::ScheduleArgs;
use crate::config::{self, expand, Reporter};
use crate::error::{Result, ValleyError};
use crate::schedule::Schedule;
use std::io::Write;

/// Reads, validates and labels the schedule table of a file.
pub fn load(file: &std::path::Path, name: Option<&str>) -> Result<(String, Schedule)> {
    let src = config::read_source(file)?;
    let rep = Reporter::new(file, &src);
    let (prefix, table) = single_table(file, &src, "schedule", name)?;
    load_table(&rep, &prefix, table)
}

/// Reads, validates and labels every schedule table of a file, or only the
/// one labelled `name`. Labels that repeat get their table's path
/// (`cosine (schedule[2])`) so that each curve is told apart.
pub fn load_all(file: &std::path::Path, name: Option<&str>) -> Result<Vec<(String, Schedule)>> {
    if name.is_some() {
        return Ok(vec![load(file, name)?]);
    }
    let src = config::read_source(file)?;
    let rep = Reporter::new(file, &src);
    let tables = all_tables(file, &src, "schedule")?;
    let mut out = Vec::with_capacity(tables.len());
    let mut prefixes = Vec::with_capacity(tables.len());
    for (prefix, table) in tables {
        out.push(load_table(&rep, &prefix, table)?);
        prefixes.push(prefix);
    }
    let labels: Vec<String> = out.iter().map(|(l, _)| l.clone()).collect();
    for ((label, _), prefix) in out.iter_mut().zip(&prefixes) {
        if labels.iter().filter(|l| *l == label).count() > 1 {
            *label = format!("{label} ({prefix})");
        }
    }
    Ok(out)
}

/// Validates and labels the schedule table at `prefix`.
fn load_table(rep: &Reporter, prefix: &str, mut table: toml::Table) -> Result<(String, Schedule)> {
    if let Some(axis) = expand::find_axes(&table)
        .map_err(|e| rep.spec(prefix, e))?
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
    let schedule: Schedule = rep.parse(prefix, toml::Value::Table(table))?;
    schedule.validate().map_err(|e| rep.spec(prefix, e))?;
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
    let schedules = load_all(&args.file, args.name.as_deref())?;
    let several = schedules.len() > 1;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let write = |out: &mut std::io::BufWriter<_>| -> std::io::Result<()> {
        writeln!(
            out,
            "{}step,lr,momentum",
            if several { "schedule," } else { "" }
        )?;
        for (label, schedule) in &schedules {
            let first = if several {
                format!("{},", csv_field(label))
            } else {
                String::new()
            };
            for t in 0..args.steps {
                match schedule.momentum(t) {
                    Some(m) => writeln!(out, "{first}{t},{:?},{:?}", schedule.lr(t), m)?,
                    None => writeln!(out, "{first}{t},{:?},", schedule.lr(t))?,
                }
            }
        }
        out.flush()
    };
    // A reader that has gone away (`| head`) ends the table, not the figure.
    match write(&mut out) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    if let Some(path) = &args.plot {
        crate::plot::schedule_figure(path, &schedules, args.steps)?;
    }
    Ok(())
}

/// A CSV field, quoted where it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
