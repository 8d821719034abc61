//! Whether two results folders hold the same rows, bit for bit, up to row
//! order: the check behind "the same sweep file gives the same rows whatever
//! `--threads`, `--shard` split or `--resume` history produced them", for
//! scripts that have no Parquet reader (`scripts/slurm/selftest.sh`).

use super::{RUNS_FILE, TRACE_FILE};
use crate::error::{Result, ValleyError};
use crate::results::frames::read_parquet;
use crate::schema::{runs as rc, trace as tc};
use polars::prelude::*;
use std::path::Path;

/// The rows of a Parquet file sorted by `by`, each as the text of its
/// values (floats in full precision), one string per row.
pub fn row_texts(path: &Path, by: &[&str]) -> Result<Vec<String>> {
    let mut df = read_parquet(path)?.sort(by.to_vec(), SortMultipleOptions::default())?;
    df.rechunk_mut();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let cells: Result<Vec<String>> = df
            .columns()
            .iter()
            .map(|c| Ok(format!("{:?}", c.get(i)?)))
            .collect();
        rows.push(format!("{}: {}", names.join(","), cells?.join("|")));
    }
    Ok(rows)
}

/// Ok when `a` and `b` hold the same runs and trace rows; otherwise an
/// error naming the file and the first differing row.
pub fn same_rows(a: &Path, b: &Path) -> Result<usize> {
    let mut compared = 0;
    for (file, by) in [
        (RUNS_FILE, &[rc::RUN_ID][..]),
        (TRACE_FILE, &[tc::RUN_ID, tc::STEP][..]),
    ] {
        let (ra, rb) = (row_texts(&a.join(file), by)?, row_texts(&b.join(file), by)?);
        if ra.len() != rb.len() {
            return Err(ValleyError::Other(format!(
                "{file}: {} rows in {}, {} in {}",
                ra.len(),
                a.display(),
                rb.len(),
                b.display()
            )));
        }
        if let Some(i) = (0..ra.len()).find(|&i| ra[i] != rb[i]) {
            return Err(ValleyError::Other(format!(
                "{file}: row {i} (sorted by {}) differs:\n  {}: {}\n  {}: {}",
                by.join(", "),
                a.display(),
                ra[i],
                b.display(),
                rb[i]
            )));
        }
        compared += ra.len();
    }
    Ok(compared)
}
