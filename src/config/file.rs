//! Stage 1: the shape of a sweep file. Unknown top-level fields are errors;
//! the section tables stay raw until their axes are expanded.

use serde::{Deserialize, Serialize};

fn default_seeds() -> Seeds {
    Seeds::Count(1)
}
fn default_trace_every() -> u64 {
    10
}
fn default_true() -> bool {
    true
}
fn default_diverge_factor() -> f64 {
    1e6
}

/// Replicates per grid point: a count (seeds 0..n-1) or an explicit list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Seeds {
    Count(u64),
    List(Vec<u64>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub steps: u64,
    #[serde(default = "default_seeds")]
    pub seeds: Seeds,
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_trace_every")]
    pub trace_every: u64,
    #[serde(default)]
    pub hessian_every: u64,
    #[serde(default = "default_true")]
    pub hessian: bool,
    #[serde(default = "default_diverge_factor")]
    pub diverge_factor: f64,
    /// Record x_t in the trace (default: only for landscapes of dim <= 2).
    #[serde(default)]
    pub trace_positions: Option<bool>,
    pub landscape: Vec<toml::Table>,
    pub optimizer: Vec<toml::Table>,
    pub schedule: Vec<toml::Table>,
    /// `[[claim]]` tables, validated against the plan (see [`crate::claims`]).
    #[serde(default)]
    pub claim: Vec<toml::Table>,
}
