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

pub mod count;
pub mod expand;
pub mod file;
pub mod game;
pub mod locate;
pub mod plan;
pub mod runs;

pub use plan::{Plan, ResolvedLandscape, ResolvedOptimizer, ResolvedSchedule};
pub use runs::{IndexSet, Resolver, RunSpec, Runs, SeedList};

use crate::error::{Result, SpecError, ValleyError};
use locate::line_of;
use serde::de::DeserializeOwned;
use std::path::Path;
use toml::Value;

/// Reads and resolves a sweep file. Nothing is written.
pub fn load(path: &Path) -> Result<Plan> {
    let src = read_source(path)?;
    Plan::from_source(path, &src)
}

/// As [`load`], refusing a plan above `limits` before it is built.
pub fn load_within(path: &Path, limits: &count::PlanLimits) -> Result<Plan> {
    let src = read_source(path)?;
    Plan::from_source_within(path, &src, limits)
}

/// Parses TOML text, naming the file and line of a syntax error.
pub fn parse_document(file: &Path, src: &str) -> Result<toml::Table> {
    toml::from_str(src).map_err(|e| {
        let line = e.span().map(|s| locate::line_of_offset(src, s.start));
        ValleyError::invalid(file, line, "", e.message().trim().to_string())
    })
}

/// Reads a TOML file, mapping a missing or unreadable file to invalid input.
pub fn read_source(path: &Path) -> Result<String> {
    crate::memory::read_text_within(path, crate::memory::MAX_SWEEP_FILE_BYTES)
        .map_err(|m| ValleyError::invalid(path, None, "", m))
}

/// Maps errors of one file to [`ValleyError::Invalid`] with their line.
pub struct Reporter<'a> {
    file: &'a Path,
    src: &'a str,
}

impl<'a> Reporter<'a> {
    pub fn new(file: &'a Path, src: &'a str) -> Self {
        Self { file, src }
    }

    /// An invalid-input error at `field` (a dotted path), with its line.
    pub fn at(&self, field: &str, message: impl Into<String>) -> ValleyError {
        ValleyError::invalid(self.file, line_of(self.src, field), field, message)
    }

    /// A [`SpecError`] of the table at `prefix`.
    pub fn spec(&self, prefix: &str, e: SpecError) -> ValleyError {
        let e = e.within(prefix);
        self.at(&e.field, e.message)
    }

    /// Deserializes `value` as `T`, reporting the failing field's path.
    pub fn parse<T: DeserializeOwned>(&self, prefix: &str, value: Value) -> Result<T> {
        // Kept to find unknown fields that serde reports without their path
        // (inside internally tagged enums, e.g. a warm-up's `then` table).
        let original = value.clone();
        serde_path_to_error::deserialize(value).map_err(|e| {
            let mut field = e.path().to_string();
            let mut message = e.inner().to_string().trim().to_string();
            if field == "." || field.is_empty() {
                field.clear();
            }
            // A kind-tagged table carries the path inside it in the message.
            if let Some((inner, rest)) = crate::registry::split_marked(&message) {
                field = join_field(&field, &inner);
                message = rest;
                let full = join_field(prefix, &field);
                return self.at(&full, message);
            }
            // serde names an unknown field in its message; the path names it
            // too, except inside internally tagged enums. An unknown or
            // missing `kind` is the `kind` field's error.
            if let Some(unknown) = message
                .strip_prefix("unknown field `")
                .and_then(|r| r.split('`').next())
            {
                if !(field == unknown || field.ends_with(&format!(".{unknown}"))) {
                    let inner = find_key(&original, unknown).unwrap_or_else(|| unknown.to_string());
                    field = join_field(&field, &inner);
                }
            } else if (message.starts_with("unknown variant")
                || message.starts_with("missing field `kind`"))
                && !(field == "kind" || field.ends_with(".kind"))
            {
                field = join_field(&field, "kind");
            }
            let full = match (prefix.is_empty(), field.is_empty()) {
                (true, _) => field,
                (false, true) => prefix.to_string(),
                (false, false) => format!("{prefix}.{field}"),
            };
            self.at(&full, message)
        })
    }
}

fn join_field(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

/// The dotted path of the first key named `key` in `value`, breadth first
/// (so a top-level key wins over a nested one).
fn find_key(value: &Value, key: &str) -> Option<String> {
    let mut queue: std::collections::VecDeque<(String, &Value)> = [(String::new(), value)].into();
    while let Some((path, v)) = queue.pop_front() {
        match v {
            Value::Table(t) => {
                for (k, child) in t {
                    let p = join_field(&path, k);
                    if k == key {
                        return Some(p);
                    }
                    queue.push_back((p, child));
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    queue.push_back((format!("{path}[{i}]"), child));
                }
            }
            _ => {}
        }
    }
    None
}
