//! Why a comparison is what it is: the filter of `--where`, and why a
//! comparison found no pair.

use super::{factors, Comparison};
use crate::config::Plan;
use crate::error::{Result, ValleyError};
use polars::prelude::*;

/// Whether two levels are the same: equal text, or equal numbers (`0.01`
/// and `1e-2`).
fn same_level(a: &str, b: &str) -> bool {
    a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
}

/// The runs whose factors have the levels of `filters` (`FACTOR=LEVEL`
/// each, all must hold). A factor or level the plan does not have is an
/// error that lists what it has.
pub fn filtered(runs: DataFrame, plan: &Plan, filters: &[String]) -> Result<DataFrame> {
    let bad = |msg: String| ValleyError::invalid("command line", None, "--where", msg);
    let mut keep = vec![true; runs.height()];
    let factors = factors(plan);
    for f in filters {
        let (column, level) = f
            .split_once('=')
            .ok_or_else(|| bad(format!("must be FACTOR=LEVEL, got {f:?}")))?;
        let (column, level) = (column.trim(), level.trim());
        let Some(factor) = factors.iter().find(|x| x.column == column) else {
            let names: Vec<&str> = factors.iter().map(|x| x.column.as_str()).collect();
            return Err(bad(format!(
                "no factor `{column}`; the factors are {}",
                names.join(", ")
            )));
        };
        if !factor.levels.iter().any(|l| same_level(l, level)) {
            return Err(bad(format!(
                "`{column}` has no level `{level}`; its levels are {}",
                factor.levels.join(", ")
            )));
        }
        let values = runs.column(column)?.cast(&DataType::String)?;
        for (k, v) in keep.iter_mut().zip(values.str()?.iter()) {
            *k &= v.is_some_and(|v| same_level(v, level));
        }
    }
    let mask: BooleanChunked = keep.into_iter().map(Some).collect();
    Ok(runs.filter(&mask)?)
}

/// Why a comparison found no pair: the other factors whose values never
/// meet between the runs of the baseline and those of any candidate
/// (runs pair only when every other factor is equal), as sentences.
pub fn why_no_pairs(runs: &DataFrame, plan: &Plan, c: &Comparison) -> Vec<String> {
    let text = |column: &str| -> Option<Vec<Option<String>>> {
        let col = runs.column(column).ok()?.cast(&DataType::String).ok()?;
        Some(
            col.str()
                .ok()?
                .iter()
                .map(|v| v.map(str::to_string))
                .collect(),
        )
    };
    let Some(by) = text(&c.by) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in factors(plan).into_iter().filter(|f| f.column != c.by) {
        let Some(values) = text(&f.column) else {
            continue;
        };
        let of = |level: &dyn Fn(&str) -> bool| -> Vec<String> {
            let mut v: Vec<String> = by
                .iter()
                .zip(&values)
                .filter(|(b, _)| b.as_deref().is_some_and(level))
                .map(|(_, v)| v.clone().unwrap_or_else(|| "(none)".into()))
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let base = of(&|l| l == c.baseline);
        let cand = of(&|l| l != c.baseline);
        if !base.is_empty() && !cand.is_empty() && base.iter().all(|b| !cand.contains(b)) {
            out.push(format!(
                "`{}` is {} for the baseline `{}` and {} for the other levels",
                f.column,
                base.join(", "),
                c.baseline,
                cand.join(", ")
            ));
        }
    }
    out
}
