//! Errors of the library.
//!
//! A [`SpecError`] names the offending field by its path inside one table
//! (`gamma`, `noise.std`, `then.lr`) and says what is wrong with the value. The
//! configuration layer prefixes the table (`schedule[1].gamma`) and attaches the
//! file and line; the binary maps every [`ValleyError::Invalid`] to exit code 2.

use std::path::PathBuf;
use thiserror::Error;

/// A bad value in one specification table: which field, and why.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    /// Dotted path of the field inside its table, e.g. `then.gamma`.
    pub field: String,
    /// What is wrong, naming the value.
    pub message: String,
}

impl SpecError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error seen from an enclosing table: `gamma` becomes `then.gamma`.
    pub fn within(self, prefix: &str) -> Self {
        let field = if self.field.is_empty() {
            prefix.to_string()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        Self { field, ..self }
    }
}

/// Checks shared by every specification: each returns a [`SpecError`] naming
/// the field and the value.
pub mod check {
    use super::SpecError;

    pub fn finite(field: &str, v: f64) -> Result<(), SpecError> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(SpecError::new(field, format!("must be finite, got {v}")))
        }
    }

    pub fn positive(field: &str, v: f64) -> Result<(), SpecError> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(SpecError::new(field, format!("must be > 0, got {v}")))
        }
    }

    pub fn non_negative(field: &str, v: f64) -> Result<(), SpecError> {
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(SpecError::new(field, format!("must be >= 0, got {v}")))
        }
    }

    /// `lo <= v < hi` (`lo` inclusive, `hi` exclusive).
    pub fn in_half_open(field: &str, v: f64, lo: f64, hi: f64) -> Result<(), SpecError> {
        if v >= lo && v < hi {
            Ok(())
        } else {
            Err(SpecError::new(
                field,
                format!("must be in [{lo}, {hi}), got {v}"),
            ))
        }
    }

    /// `lo < v < hi`.
    pub fn in_open(field: &str, v: f64, lo: f64, hi: f64) -> Result<(), SpecError> {
        if v > lo && v < hi {
            Ok(())
        } else {
            Err(SpecError::new(
                field,
                format!("must be in ({lo}, {hi}), got {v}"),
            ))
        }
    }

    pub fn at_least(field: &str, v: u64, min: u64) -> Result<(), SpecError> {
        if v >= min {
            Ok(())
        } else {
            Err(SpecError::new(field, format!("must be >= {min}, got {v}")))
        }
    }
}

/// Every failure the library reports.
#[derive(Debug, Error)]
pub enum ValleyError {
    /// Invalid input: exit code 2, nothing written.
    #[error("{}", render_invalid(.file, .line, .field, .message))]
    Invalid {
        file: PathBuf,
        line: Option<usize>,
        field: String,
        message: String,
    },
    /// Anything else (I/O, Parquet): exit code 1.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("parquet: {0}")]
    Polars(#[from] polars::error::PolarsError),
    #[error("{0}")]
    Other(String),
}

fn render_invalid(file: &std::path::Path, line: &Option<usize>, field: &str, msg: &str) -> String {
    let loc = match line {
        Some(l) => format!("{}:{l}", file.display()),
        None => file.display().to_string(),
    };
    if field.is_empty() {
        format!("{loc}: {msg}")
    } else {
        format!("{loc}: field `{field}`: {msg}")
    }
}

impl ValleyError {
    pub fn invalid(
        file: impl Into<PathBuf>,
        line: Option<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            file: file.into(),
            line,
            field: field.into(),
            message: message.into(),
        }
    }

    /// True for errors that mean "the user's input is wrong" (exit code 2).
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Self::Invalid { .. })
    }
}

pub type Result<T, E = ValleyError> = std::result::Result<T, E>;
