//! `valley merge DIR`: joins `DIR/shard-K-of-N/` into `DIR/runs.parquet`,
//! `DIR/trace.parquet` and `DIR/sweep.json` ([`crate::results::merge`]).

use crate::cli::{MergeArgs, SameRowsArgs};
use crate::error::Result;
use crate::results;

pub fn run(args: MergeArgs) -> Result<()> {
    let merged = results::merge(&args.dir)?;
    let c = merged.counts;
    eprintln!(
        "merged {} shards: {} runs ({} diverged), {} trace rows -> {}",
        merged.shards,
        c.runs,
        c.diverged,
        c.trace_rows,
        args.dir.display()
    );
    Ok(())
}

/// `valley same-rows A B` (hidden): the rows of two results folders agree.
pub fn same_rows(args: SameRowsArgs) -> Result<()> {
    let n = results::compare::same_rows(&args.a, &args.b)?;
    eprintln!(
        "same rows: {n} rows of {} and {} agree",
        args.a.display(),
        args.b.display()
    );
    Ok(())
}
