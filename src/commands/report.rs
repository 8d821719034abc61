//! `valley report DIR` (and `sweep --report`): writes `DIR/report.html`, one
//! self-contained page (see [`crate::report`]).

use crate::cli::ReportArgs;
use crate::error::{Result, ValleyError};
use std::path::Path;

/// Writes the report of a results folder and says where.
pub fn write(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Err(ValleyError::invalid(
            dir,
            None,
            "",
            "no such results folder",
        ));
    }
    let (plan, json) = crate::results::recorded_plan(dir)?;
    let path = crate::report::write(dir, &plan, &json)?;
    eprintln!("report -> {}", path.display());
    Ok(())
}

pub fn run(args: ReportArgs) -> Result<()> {
    write(&args.dir)
}
