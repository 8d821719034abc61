//! `valley claims [FILES...]`: runs each claim file's sweep into
//! `OUT/<name>/` (resuming what exists), evaluates its `[[claim]]` tables
//! (see [`crate::claims`]) and writes `OUT/verdicts.csv`,
//! `OUT/verdicts.parquet` ([`crate::claims::verdicts`]) and
//! `OUT/index.html`; prints the verdict table.

use crate::claims::verdicts::{self, write_atomic, Entry};
use crate::claims::{self, Evaluation};
use crate::cli::ClaimsArgs;
use crate::config::{self, Plan};
use crate::error::{Result, ValleyError};
use crate::report::escape;
use crate::results::sweep::run_sweep;
use crate::results::Existing;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The default claim files: `experiments/claims/*.toml`, sorted; with
/// `all`, then `experiments/claims/slow/*.toml` (studies that take minutes,
/// opt-in so that the suite stays quick).
fn default_files(all: bool) -> Result<Vec<PathBuf>> {
    let mut files = toml_files(Path::new("experiments/claims"))?;
    if all {
        files.extend(toml_files(Path::new("experiments/claims/slow"))?);
    }
    Ok(files)
}

/// The `.toml` files of `dir`, sorted.
fn toml_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        ValleyError::invalid(dir, None, "", format!("cannot list the claim files: {e}"))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
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
        default_files(args.all)?
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
        super::sweep::print_warnings(&plan);
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
            plan.all_runs(),
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
    verdicts::write(&args.out, &entries)?;
    write_atomic(
        &args.out.join("index.html"),
        index_html(&entries, &args.out).as_bytes(),
    )?;
    let named: Vec<(String, Evaluation)> = entries.into_iter().map(|e| (e.file, e.eval)).collect();
    super::print_out(&claims::to_table(&named))
}
