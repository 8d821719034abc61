//! `valley compare DIR`: paired comparison of the levels of one factor
//! (see [`crate::compare`]), printed as a table, CSV or JSON.

use crate::cli::{CompareArgs, CompareFormat};
use crate::compare::{self, Options};
use crate::error::{Result, ValleyError};

pub fn run(args: CompareArgs) -> Result<()> {
    let dir = &args.dir;
    if !dir.is_dir() {
        return Err(ValleyError::invalid(
            dir,
            None,
            "",
            "no such results folder",
        ));
    }
    let (plan, _) = crate::results::recorded_plan(dir)?;
    let opts = Options {
        metric: args.metric,
        by: args.by,
        baseline: args.baseline,
        higher_is_better: args.higher_is_better,
    };
    let runs = compare::filtered(compare::read_runs(dir)?, &plan, &args.filters)?;
    let c = compare::compare(&runs, &dir.join(crate::results::RUNS_FILE), &plan, &opts)?;
    if c.rows.is_empty() {
        let why = compare::why_no_pairs(&runs, &plan, &c);
        let why = if why.is_empty() {
            "no two runs differ only in it".to_string()
        } else if why.iter().any(|w| w.contains('.')) {
            why.join("; ")
                + "; to pair fields at different paths, give them one axis name: `lr = { sweep = [...], axis = \"peak_lr\" }` in each table"
        } else {
            why.join("; ")
        };
        return Err(ValleyError::invalid(
            dir,
            None,
            "--by",
            format!(
                "no run of another level of `{}` pairs with a run of the baseline `{}` (runs pair when every other factor and the seed are equal): {why}",
                c.by, c.baseline
            ),
        ));
    }
    let text = match args.format {
        CompareFormat::Table => c.to_table(),
        CompareFormat::Csv => c.to_csv(),
        CompareFormat::Json => {
            serde_json::to_string_pretty(&c.to_json()).expect("json values serialize") + "\n"
        }
    };
    super::print_out(&text)
}
