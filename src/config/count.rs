//! How many runs a sweep file asks for, counted from its tables with checked
//! arithmetic before any run is built, and the limits checked on that count
//! (`--max-runs`, and the run list's memory under `--max-memory`).

use super::expand::find_axes;
use super::file::{Seeds, SweepFile};
use super::Reporter;
use crate::error::Result;
use crate::memory::{fmt_bytes, machine_memory};
use std::path::Path;

/// Default of `--max-runs`.
pub const DEFAULT_MAX_RUNS: u64 = 10_000_000;

/// Memory per run of the plan: runs are made from their index when needed
/// (`config::runs`), so a run costs its seed (8 bytes), its index in the
/// list of runs left to run on resume or in a shard (8), its plan index in
/// the consolidation (4) and its bit in the sets of finished runs.
pub const RUN_BYTES: u64 = 24;
/// Memory per variant of a table (its concrete TOML table and resolved spec).
pub const VARIANT_BYTES: u64 = 4096;

/// One factor of the run count.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    /// The field that contributes it (`seeds`, `optimizer[0].momentum`, or a
    /// section name when it has several tables).
    pub field: String,
    pub count: u64,
    /// How it reads in a message: `8 optimizers (optimizer[0].momentum: 8 values)`.
    pub text: String,
}

/// The number of runs a sweep file asks for, counted without building them.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCount {
    /// `None` when the product overflows 64 bits.
    pub total: Option<u64>,
    /// Table variants of all sections (the concrete tables a plan builds).
    pub variants: Option<u64>,
    pub factors: Vec<Factor>,
}

impl RunCount {
    fn describe(&self) -> String {
        let total = match self.total {
            Some(n) => n.to_string(),
            None => format!("more than {}", u64::MAX),
        };
        let parts: Vec<&str> = self.factors.iter().map(|f| f.text.as_str()).collect();
        format!("{total} runs ({})", parts.join(" x "))
    }

    /// The field of the largest factor: where the message points.
    fn main_field(&self) -> &str {
        self.factors
            .iter()
            .max_by_key(|f| f.count)
            .map_or("seeds", |f| f.field.as_str())
    }
}

/// Counts the runs of a parsed sweep file: sections × axes × seeds, with
/// checked arithmetic, without expanding anything.
pub fn count_runs(rep: &Reporter, f: &SweepFile) -> Result<RunCount> {
    let mut factors = Vec::new();
    let mut variants: Option<u64> = Some(0);
    for (section, tables) in [
        ("landscape", &f.landscape),
        ("optimizer", &f.optimizer),
        ("schedule", &f.schedule),
    ] {
        let mut count: Option<u64> = Some(0);
        let mut biggest: Option<(String, u64)> = None;
        let mut axis_texts = Vec::new();
        for (i, t) in tables.iter().enumerate() {
            let prefix = format!("{section}[{i}]");
            let axes = find_axes(t).map_err(|e| rep.spec(&prefix, e))?;
            let mut product: Option<u64> = Some(1);
            for a in &axes {
                let n = a.values.len() as u64;
                product = product.and_then(|p| p.checked_mul(n));
                let field = format!("{prefix}.{}", a.path);
                axis_texts.push(format!("{field}: {n} values"));
                if biggest.as_ref().is_none_or(|(_, m)| n > *m) {
                    biggest = Some((field, n));
                }
            }
            count = count.zip(product).and_then(|(c, p)| c.checked_add(p));
        }
        variants = variants.zip(count).and_then(|(v, c)| v.checked_add(c));
        let n = count.unwrap_or(u64::MAX);
        let field = match biggest {
            Some((field, m)) if m > 1 && tables.len() <= 1 => field,
            _ => section.to_string(),
        };
        let noun = if n == 1 {
            section.to_string()
        } else {
            format!("{section}s")
        };
        let n_text = count.map_or(format!("more than {}", u64::MAX), |c| c.to_string());
        let mut text = format!("{n_text} {noun}");
        if tables.len() > 1 {
            text += &format!(" ({} tables", tables.len());
            text += &if axis_texts.is_empty() {
                ")".to_string()
            } else {
                format!("; {})", axis_texts.join(", "))
            };
        } else if !axis_texts.is_empty() {
            text += &format!(" ({})", axis_texts.join(", "));
        }
        factors.push(Factor {
            field,
            count: n,
            text,
        });
    }
    let seeds = match &f.seeds {
        Seeds::Count(n) => *n,
        Seeds::List(l) => l.len() as u64,
    };
    factors.push(Factor {
        field: "seeds".into(),
        count: seeds,
        text: format!("{seeds} seeds"),
    });
    let total = factors
        .iter()
        .try_fold(1u64, |acc, f| acc.checked_mul(f.count));
    Ok(RunCount {
        total,
        variants,
        factors,
    })
}

/// Counts the runs of a sweep file's text (see [`count_runs`]).
pub fn count_runs_in(file: &Path, src: &str) -> Result<RunCount> {
    let rep = Reporter::new(file, src);
    let raw = super::parse_document(file, src)?;
    let f: SweepFile = rep.parse("", toml::Value::Table(raw))?;
    count_runs(&rep, &f)
}

/// Limits checked while the plan is built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanLimits {
    pub max_runs: u64,
    pub max_memory: u64,
}

impl PlanLimits {
    /// What any caller can afford: no run limit, the machine's whole memory
    /// for the plan itself.
    pub fn machine() -> Self {
        Self {
            max_runs: u64::MAX,
            max_memory: machine_memory().unwrap_or(u64::MAX),
        }
    }
}

/// Refuses a file whose run count or plan size exceeds `limits`, before the
/// plan is built.
pub fn check_run_count(rep: &Reporter, count: &RunCount, limits: &PlanLimits) -> Result<()> {
    let runs = count.total.unwrap_or(u64::MAX);
    if count.total.is_none() || runs > limits.max_runs {
        return Err(rep.at(
            count.main_field(),
            format!(
                "the plan has {}; the limit is {} runs (--max-runs)",
                count.describe(),
                limits.max_runs
            ),
        ));
    }
    let bytes = plan_bytes(runs, count.variants.unwrap_or(u64::MAX));
    if bytes > limits.max_memory {
        return Err(rep.at(
            count.main_field(),
            format!(
                "the plan has {}, whose run list needs {}; the limit is {} (--max-memory)",
                count.describe(),
                fmt_bytes(bytes),
                fmt_bytes(limits.max_memory)
            ),
        ));
    }
    Ok(())
}

/// Memory of a plan of `runs` runs built from `variants` table variants.
pub fn plan_bytes(runs: u64, variants: u64) -> u64 {
    runs.saturating_mul(RUN_BYTES)
        .saturating_add(variants.saturating_mul(VARIANT_BYTES))
}
