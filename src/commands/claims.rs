//! `valley claims [FILES...]`: runs each claim file's sweep into
//! `OUT/<name>/` (resuming what exists), evaluates its `[[claim]]` tables
//! (see [`crate::claims`]) and writes `OUT/verdicts.csv`,
//! `OUT/verdicts.parquet` and `OUT/index.html`; prints the verdict table.

use crate::claims::{self, Evaluation, VERDICT_COLUMNS};
use crate::cli::ClaimsArgs;
use crate::config::{self, Plan};
use crate::error::{Result, ValleyError};
use crate::report::escape;
use crate::results::sweep::run_sweep;
use crate::results::Existing;
use polars::prelude::*;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The default claim files: `experiments/claims/*.toml`, sorted.
fn default_files() -> Result<Vec<PathBuf>> {
    let dir = Path::new("experiments/claims");
    let entries = std::fs::read_dir(dir).map_err(|e| {
        ValleyError::invalid(dir, None, "", format!("cannot list the claim files: {e}"))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// A claim's evaluation with the file it comes from and its figure (a PNG
/// relative to the output folder; empty with `--no-report`).
pub struct Entry {
    pub file: String,
    /// The sweep's name (its folder under the output folder).
    pub sweep: String,
    pub figure: String,
    pub eval: Evaluation,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A float for CSV: shortest round-trip form, empty for NaN.
fn csv_num(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        v.to_string()
    }
}

/// verdicts.csv, columns [`VERDICT_COLUMNS`].
pub fn verdicts_csv(entries: &[Entry]) -> String {
    let mut s = VERDICT_COLUMNS.join(",");
    s.push('\n');
    for en in entries {
        let e = &en.eval;
        let cells = [
            csv_field(&e.claim.id),
            csv_field(&e.claim.statement),
            csv_field(&en.file),
            e.verdict.as_str().to_string(),
            csv_field(&e.claim.metric_label()),
            csv_num(e.effect),
            csv_num(e.ci_low),
            csv_num(e.ci_high),
            e.n_pairs.to_string(),
            csv_num(e.p_holm),
            csv_field(&en.figure),
        ];
        s.push_str(&cells.join(","));
        s.push('\n');
    }
    s
}

/// verdicts.parquet, the same columns (floats as f64, NaN as null).
pub fn verdicts_frame(entries: &[Entry]) -> Result<DataFrame> {
    let text = |f: &dyn Fn(&Entry) -> String| -> Vec<String> { entries.iter().map(f).collect() };
    let num = |f: &dyn Fn(&Evaluation) -> f64| -> Vec<Option<f64>> {
        entries
            .iter()
            .map(|e| Some(f(&e.eval)).filter(|v| !v.is_nan()))
            .collect()
    };
    let c = VERDICT_COLUMNS;
    Ok(DataFrame::new(
        entries.len(),
        vec![
            Column::new(c[0].into(), text(&|e| e.eval.claim.id.clone())),
            Column::new(c[1].into(), text(&|e| e.eval.claim.statement.clone())),
            Column::new(c[2].into(), text(&|e| e.file.clone())),
            Column::new(c[3].into(), text(&|e| e.eval.verdict.as_str().into())),
            Column::new(c[4].into(), text(&|e| e.eval.claim.metric_label())),
            Column::new(c[5].into(), num(&|e| e.effect)),
            Column::new(c[6].into(), num(&|e| e.ci_low)),
            Column::new(c[7].into(), num(&|e| e.ci_high)),
            Column::new(
                c[8].into(),
                entries
                    .iter()
                    .map(|e| e.eval.n_pairs as u64)
                    .collect::<Vec<_>>(),
            ),
            Column::new(c[9].into(), num(&|e| e.p_holm)),
            Column::new(c[10].into(), text(&|e| e.figure.clone())),
        ],
    )?)
}

/// The self-contained index page: one section per claim, with its figure
/// inlined from `OUT/<sweep>/figures/` (`out`).
pub fn index_html(entries: &[Entry], out_dir: &Path) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"valley {}\">\n<title>valley claims</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n<h1>valley claims</h1>\n",
        env!("CARGO_PKG_VERSION"),
        crate::report::STYLE
    );
    let _ = writeln!(
        out,
        "<p class=\"lead\">{}</p>",
        escape(crate::report::CLAIMS_NOTE)
    );
    out.push_str("<div class=\"scroll\"><table>\n<tr><th>id</th><th>verdict</th><th>test</th><th>metric</th><th>statement</th></tr>\n");
    for en in entries {
        let e = &en.eval;
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#claim-{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&e.claim.id),
            escape(&e.claim.id),
            escape(e.verdict.as_str()),
            escape(e.claim.test.name()),
            escape(&e.claim.metric_label()),
            escape(&e.claim.statement)
        );
    }
    out.push_str("</table></div>\n");
    for en in entries {
        let svg = if en.figure.is_empty() {
            String::new()
        } else {
            let dir = out_dir.join(&en.sweep);
            crate::report::claim_svg(&dir, &en.eval.claim.id)
        };
        crate::report::claim_section(&mut out, &en.eval, Some(&en.file), &svg);
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// Writes `path` through a temporary file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Evaluates the claims of `plan` on `dir` and prints their table (used by
/// `valley sweep` at its end).
pub fn print_claims(dir: &Path, plan: &Plan) -> Result<()> {
    let evals = claims::evaluate_dir(dir, plan)?;
    if !evals.is_empty() {
        let named: Vec<(String, Evaluation)> =
            evals.into_iter().map(|e| (plan.name.clone(), e)).collect();
        super::print_out(&claims::to_table(&named))?;
    }
    Ok(())
}

pub fn run(args: ClaimsArgs) -> Result<()> {
    let files = if args.files.is_empty() {
        default_files()?
    } else {
        args.files.clone()
    };
    if args.threads == Some(0) {
        return Err(ValleyError::invalid(
            "command line",
            None,
            "--threads",
            "must be >= 1, got 0",
        ));
    }
    // Every file is validated before anything runs or is written.
    let mut plans: Vec<(PathBuf, Plan)> = Vec::new();
    for f in &files {
        let plan = config::load(f)?;
        claims::of_plan(&plan)?;
        if let Some((other, _)) = plans.iter().find(|(_, p)| p.name == plan.name) {
            return Err(ValleyError::invalid(
                f,
                config::locate::line_of(&plan.source, "name"),
                "name",
                format!(
                    "sweep name `{}` is also used by {}",
                    plan.name,
                    other.display()
                ),
            ));
        }
        plans.push((f.clone(), plan));
    }
    let threads = args.threads.unwrap_or_else(rayon::current_num_threads);
    let mut entries = Vec::new();
    for (file, plan) in &plans {
        let dir = args.out.join(&plan.name);
        let outcome = run_sweep(
            plan,
            &dir,
            plan.runs.clone(),
            Existing::Resume,
            threads,
            None,
            &mut (),
        )?;
        if !args.quiet {
            eprintln!(
                "{}: {} runs ({} ran, {} resumed) -> {}",
                plan.name,
                outcome.counts.runs,
                outcome.ran,
                outcome.resumed,
                dir.display()
            );
        }
        let evals = claims::evaluate_dir(&dir, plan)?;
        if !args.no_report {
            let (recorded, json) = crate::results::recorded_plan(&dir)?;
            crate::report::write(&dir, &recorded, &json)?;
        }
        for eval in evals {
            let figure = if args.no_report {
                String::new()
            } else {
                format!(
                    "{}/{}/{}.png",
                    plan.name,
                    crate::plot::FIGURES_DIR,
                    crate::report::claim_figure_stem(&eval.claim.id)
                )
            };
            entries.push(Entry {
                file: file.display().to_string(),
                sweep: plan.name.clone(),
                figure,
                eval,
            });
        }
    }
    std::fs::create_dir_all(&args.out)?;
    write_atomic(
        &args.out.join("verdicts.csv"),
        verdicts_csv(&entries).as_bytes(),
    )?;
    let mut df = verdicts_frame(&entries)?;
    let pq = args.out.join("verdicts.parquet");
    let tmp = pq.with_extension("tmp");
    {
        let file = std::fs::File::create(&tmp)?;
        ParquetWriter::new(file).finish(&mut df)?;
    }
    std::fs::rename(&tmp, &pq)?;
    write_atomic(
        &args.out.join("index.html"),
        index_html(&entries, &args.out).as_bytes(),
    )?;
    let named: Vec<(String, Evaluation)> = entries.into_iter().map(|e| (e.file, e.eval)).collect();
    super::print_out(&claims::to_table(&named))
}
