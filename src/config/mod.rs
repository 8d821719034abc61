//! Sweep files: from TOML text to a fully resolved [`Plan`].
//!
//! Two stages, as ripgrep separates LowArgs from HiArgs:
//! 1. [`file::SweepFile`]: the file's shape (`deny_unknown_fields`), with each
//!    `[[landscape]]`, `[[optimizer]]` and `[[schedule]]` table kept raw.
//! 2. [`Plan`]: every `{ sweep = [...] }` axis expanded, every table
//!    deserialized into its typed spec and validated, every run resolved with
//!    a stable `run_id` and its seeds.
//!
//! Every error names the file, the line and the field ([`locate`]).

pub mod expand;
pub mod file;
pub mod locate;
pub mod plan;

pub use plan::{Plan, ResolvedLandscape, ResolvedOptimizer, ResolvedSchedule, RunSpec};

use crate::error::{Result, ValleyError};
use std::path::Path;

/// Reads and resolves a sweep file. Nothing is written.
pub fn load(path: &Path) -> Result<Plan> {
    let src = read_source(path)?;
    Plan::from_source(path, &src)
}

/// Reads a TOML file, mapping a missing or unreadable file to invalid input.
pub fn read_source(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| ValleyError::invalid(path, None, "", format!("cannot read the file: {e}")))
}
