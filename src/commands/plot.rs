//! `valley plot DIR`: every figure of a results folder, from its Parquet files
//! and `sweep.json` only.

use crate::cli::PlotArgs;
use crate::error::Result;

pub fn run(args: PlotArgs) -> Result<()> {
    crate::plot::plot_dir(&args.dir)
}
