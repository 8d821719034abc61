//! Helpers shared by the integration tests: the one way to launch the
//! `valley` binary, and the readers and assertions several test files use.

use polars::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `valley` binary with `args`, to run in `cwd`. The fault hook
/// `VALLEY_FAULT` (see `src/results/fault.rs`) is never inherited from the
/// environment; a test that wants it sets it on the command.
pub fn command(args: &[&str], cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_valley"));
    c.args(args).current_dir(cwd).env_remove("VALLEY_FAULT");
    c
}

/// Runs the binary with `args` in `cwd` and waits for its output.
pub fn valley(args: &[&str], cwd: &Path) -> Output {
    command(args, cwd).output().expect("the valley binary runs")
}

/// A process's output as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A process's stderr as text.
pub fn stderr(o: &Output) -> String {
    text(&o.stderr)
}

/// A temporary folder holding one file, `name`, with `src` in it; returns
/// the folder and the file's path.
pub fn setup(name: &str, src: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    fs::write(&file, src).unwrap();
    (dir, file)
}

/// Names in `dir` other than the sweep file `case.toml`.
pub fn written(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "case.toml")
        .collect()
}

/// Asserts that the process exited 2 (invalid input) and that its stderr
/// contains every one of `needles`; returns the stderr.
pub fn refused(o: &Output, needles: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in: {err}");
    }
    err
}

/// A parquet file as a frame.
pub fn read(path: &Path) -> DataFrame {
    ParquetReader::new(fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

/// Rows of a frame sorted by `by`, as text, for bit-for-bit comparison.
pub fn canonical(df: &DataFrame, by: &[&str]) -> Vec<String> {
    let mut df = df
        .sort(by.to_vec(), SortMultipleOptions::default())
        .unwrap();
    df.rechunk_mut();
    (0..df.height())
        .map(|i| {
            df.columns()
                .iter()
                .map(|c| format!("{:?}", c.get(i).unwrap()))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

/// Asserts that two results folders hold the same rows, bit for bit, up to
/// row order (`runs.parquet` and `trace.parquet`); returns the number of
/// runs.
pub fn assert_same_rows(a: &Path, b: &Path) -> usize {
    let runs = |d: &Path| canonical(&read(&d.join("runs.parquet")), &["run_id"]);
    let trace = |d: &Path| canonical(&read(&d.join("trace.parquet")), &["run_id", "step"]);
    let (ra, rb) = (runs(a), runs(b));
    assert_eq!(ra, rb, "runs.parquet differs");
    assert_eq!(trace(a), trace(b), "trace.parquet differs");
    ra.len()
}

/// The cells of a CSV text, split at every comma (for tables none of whose
/// fields holds a comma).
pub fn csv_rows(s: &str) -> Vec<Vec<String>> {
    s.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}
