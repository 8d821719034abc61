//! Parquet frames of finished runs: per-run rows ([`runs_frame`]) and
//! per-step trace rows ([`trace_frame`]), with provenance in the Parquet
//! key-value metadata. How they are written to a results folder (parts,
//! consolidation, merge) is [`crate::results`].

use crate::config::plan::render_value;
use crate::config::Plan;
use crate::curvature::CurvatureMethod;
use crate::error::{Result, ValleyError};
use crate::runner::{RunRow, TraceColumns};
use crate::schema::{runs as rc, trace as tc};
use polars::io::parquet::write::KeyValueMetadata;
use polars::prelude::*;
use std::fs::File;
use std::path::Path;

pub use super::{RUNS_FILE, SWEEP_FILE, TRACE_FILE};

pub fn read_parquet(path: &Path) -> Result<DataFrame> {
    let file =
        File::open(path).map_err(|e| ValleyError::Other(format!("{}: {e}", path.display())))?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| ValleyError::Other(format!("{}: {e}", path.display())))
}

/// Parquet key-value metadata key of the plan fingerprint
/// ([`Plan::fingerprint`]).
pub const PLAN_KEY: &str = "valley_plan";

/// The plan fingerprint a Parquet file carries (`None`: none, as in files
/// of valley before 0.1 wrote one).
pub fn file_fingerprint(path: &Path) -> Result<Option<String>> {
    let file =
        File::open(path).map_err(|e| ValleyError::Other(format!("{}: {e}", path.display())))?;
    let meta = ParquetReader::new(file)
        .get_metadata()
        .map_err(|e| ValleyError::Other(format!("{}: {e}", path.display())))?
        .clone();
    Ok(meta.key_value_metadata().as_ref().and_then(|kv| {
        kv.iter()
            .find(|k| k.key == PLAN_KEY)
            .and_then(|k| k.value.clone())
    }))
}

pub(crate) fn metadata(plan: &Plan) -> KeyValueMetadata {
    KeyValueMetadata::from_static(vec![
        (PLAN_KEY.into(), plan.fingerprint().to_string()),
        ("valley_version".into(), env!("CARGO_PKG_VERSION").into()),
        ("valley_sweep".into(), plan.name.clone()),
        (
            "valley_sweep_file_fnv1a64".into(),
            format!("{:016x}", crate::rng::fnv1a64(plan.source.as_bytes())),
        ),
    ])
}

/// A nullable list-of-f64 column, built from slices without a `Series` per
/// row.
fn list_column<'v>(
    name: &str,
    len: usize,
    values: impl Iterator<Item = Option<&'v [f64]>>,
) -> Column {
    let mut builder =
        ListPrimitiveChunkedBuilder::<Float64Type>::new(name.into(), len, len, DataType::Float64);
    for v in values {
        match v {
            Some(v) => builder.append_slice(v),
            None => builder.append_null(),
        }
    }
    builder.finish().into_series().into()
}

/// The trace rows of one run: its id, its rows, and the coordinates per
/// traced position (0: none).
pub type RunTrace<'t> = (&'t str, &'t TraceColumns, usize);

/// The trace rows of several runs as one frame.
pub fn trace_frame(traces: &[RunTrace]) -> Result<DataFrame> {
    let n: usize = traces.iter().map(|(_, t, _)| t.len()).sum();
    let mut run_id: Vec<&str> = Vec::with_capacity(n);
    let mut basin: Vec<Option<&str>> = Vec::with_capacity(n);
    macro_rules! gather {
        ($field:ident) => {
            traces
                .iter()
                .flat_map(|(_, t, _)| t.$field.iter().cloned())
                .collect::<Vec<_>>()
        };
    }
    for (id, t, _) in traces {
        run_id.extend(std::iter::repeat_n(*id, t.len()));
        basin.extend((0..t.len()).map(|i| t.basin_label(i)));
    }
    let step: Vec<i64> = traces
        .iter()
        .flat_map(|(_, t, _)| t.step.iter().map(|&s| s as i64))
        .collect();
    let position = list_column(
        tc::POSITION,
        n,
        traces.iter().flat_map(|(_, t, dim)| {
            (0..t.len()).map(move |i| (*dim > 0).then(|| &t.position[i * dim..(i + 1) * dim]))
        }),
    );
    let group_lr = list_column(
        tc::GROUP_LR,
        n,
        traces.iter().flat_map(|(_, t, _)| {
            (0..t.len()).map(move |i| (t.groups > 0).then(|| t.group_lrs(i)))
        }),
    );
    let columns = vec![
        Column::new(tc::RUN_ID.into(), run_id),
        Column::new(tc::STEP.into(), step),
        Column::new(tc::LR.into(), gather!(lr)),
        Column::new(tc::MOMENTUM.into(), gather!(momentum)),
        Column::new(tc::LOSS.into(), gather!(loss)),
        Column::new(tc::GRAD_NORM.into(), gather!(grad_norm)),
        Column::new(tc::UPDATE_NORM.into(), gather!(update_norm)),
        Column::new(tc::GRAD_COSINE.into(), gather!(grad_cosine)),
        Column::new(tc::EFFECTIVE_STEP.into(), gather!(effective_step)),
        Column::new(tc::SHRINK.into(), gather!(shrink)),
        Column::new(tc::SHARPNESS.into(), gather!(sharpness)),
        Column::new(tc::BATCH_LOSS.into(), gather!(batch_loss)),
        Column::new(tc::PRECLIP_NORM.into(), gather!(preclip_norm)),
        Column::new(tc::CLIPPED.into(), gather!(clipped)),
        Column::new(tc::LOSS_SCALE.into(), gather!(loss_scale)),
        Column::new(tc::SKIPPED.into(), gather!(skipped)),
        Column::new(tc::UPDATE_UNDERFLOW.into(), gather!(update_underflow)),
        group_lr,
        position,
        Column::new(tc::BASIN.into(), basin),
    ];
    Ok(DataFrame::new(n, columns)?)
}

/// A sweep axis's values as a column: numbers as f64, booleans as bool,
/// anything else as text; null where the run's table does not set the field.
/// The type is decided by every value the axis takes in the plan
/// (`plan_values`), not by the rows at hand, so that every part of a sweep
/// writes the column with one type (a part holding only runs of a table
/// without the axis would otherwise write nulls as numbers, and could not be
/// joined with a part of text values).
fn axis_column(
    name: &str,
    values: Vec<Option<&toml::Value>>,
    plan_values: &[&toml::Value],
) -> Column {
    use toml::Value as V;
    let all = |pred: fn(&V) -> bool| plan_values.iter().all(|v| pred(v));
    if all(|v| matches!(v, V::Integer(_) | V::Float(_))) {
        let vals: Vec<Option<f64>> = values
            .iter()
            .map(|v| {
                v.and_then(|v| match v {
                    V::Integer(i) => Some(*i as f64),
                    V::Float(f) => Some(*f),
                    _ => None,
                })
            })
            .collect();
        Column::new(name.into(), vals)
    } else if all(|v| matches!(v, V::Boolean(_))) {
        let vals: Vec<Option<bool>> = values.iter().map(|v| v.and_then(|v| v.as_bool())).collect();
        Column::new(name.into(), vals)
    } else {
        let vals: Vec<Option<String>> = values.iter().map(|v| v.map(render_value)).collect();
        Column::new(name.into(), vals)
    }
}

fn axis_value<'p>(
    values: &'p [(String, Option<toml::Value>)],
    column: &str,
) -> Option<&'p toml::Value> {
    values
        .iter()
        .find(|(c, _)| c == column)
        .and_then(|(_, v)| v.as_ref())
}

/// Per-run rows as a frame, with labels and sweep-axis columns from the plan.
pub fn runs_frame(plan: &Plan, rows: &[RunRow]) -> Result<DataFrame> {
    let n = rows.len();
    let mut columns = identity_columns(plan, rows);
    columns.extend(axis_columns(plan, rows));
    columns.extend(outcome_columns(rows));
    columns.push(list_column(
        rc::FINAL_POSITION,
        n,
        rows.iter().map(|r| r.final_position.as_deref()),
    ));
    columns.push(list_column(
        rc::BEST_POSITION,
        n,
        rows.iter().map(|r| r.best_position.as_deref()),
    ));
    Ok(DataFrame::new(n, columns)?)
}

/// The tables of run `index` of a plan.
struct Coords {
    landscape: usize,
    optimizer: usize,
    schedule: usize,
}

impl Coords {
    fn of(plan: &Plan, index: usize) -> Self {
        let (landscape, optimizer, schedule, _) = plan.coords(index);
        Self {
            landscape,
            optimizer,
            schedule,
        }
    }
}

/// Which run a row is: id, index, labels, kinds, dim and seed.
fn identity_columns(plan: &Plan, rows: &[RunRow]) -> Vec<Column> {
    let spec = |r: &RunRow| Coords::of(plan, r.index);
    let str_col = |name: &str, f: &dyn Fn(&RunRow) -> String| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    vec![
        str_col(rc::RUN_ID, &|r| r.run_id.clone()),
        Column::new(
            rc::RUN_INDEX.into(),
            rows.iter().map(|r| r.index as i64).collect::<Vec<_>>(),
        ),
        str_col(rc::LANDSCAPE, &|r| {
            plan.landscapes[spec(r).landscape].label.clone()
        }),
        str_col(rc::OPTIMIZER, &|r| {
            plan.optimizers[spec(r).optimizer].label.clone()
        }),
        str_col(rc::SCHEDULE, &|r| {
            plan.schedules[spec(r).schedule].label.clone()
        }),
        str_col(rc::LANDSCAPE_KIND, &|r| {
            plan.landscapes[spec(r).landscape].kind.kind_name().into()
        }),
        str_col(rc::OPTIMIZER_KIND, &|r| {
            plan.optimizers[spec(r).optimizer].kind.kind_name().into()
        }),
        str_col(rc::SCHEDULE_KIND, &|r| {
            plan.schedules[spec(r).schedule].schedule.kind_name().into()
        }),
        str_col(rc::NOISE, &|r| {
            plan.optimizers[spec(r).optimizer].noise.kind_name().into()
        }),
        Column::new(
            rc::DIM.into(),
            rows.iter().map(|r| r.dim as i64).collect::<Vec<_>>(),
        ),
        Column::new(
            rc::SEED.into(),
            rows.iter().map(|r| r.seed as i64).collect::<Vec<_>>(),
        ),
    ]
}

/// One column per sweep axis of the plan (null where a run's table has no
/// such axis).
fn axis_columns(plan: &Plan, rows: &[RunRow]) -> Vec<Column> {
    let indices: Vec<usize> = rows.iter().map(|r| r.index).collect();
    axis_columns_of(plan, &indices)
}

/// The sweep-axis columns of the runs at `indices` of the plan.
pub(crate) fn axis_columns_of(plan: &Plan, indices: &[usize]) -> Vec<Column> {
    let mut columns = Vec::with_capacity(plan.axes.len());
    for axis in &plan.axes {
        let values: Vec<Option<&toml::Value>> = indices
            .iter()
            .map(|&i| {
                let s = Coords::of(plan, i);
                axis_value(&plan.landscapes[s.landscape].axis_values, &axis.column)
                    .or_else(|| axis_value(&plan.optimizers[s.optimizer].axis_values, &axis.column))
                    .or_else(|| axis_value(&plan.schedules[s.schedule].axis_values, &axis.column))
            })
            .collect();
        let plan_values: Vec<&toml::Value> = plan
            .landscapes
            .iter()
            .map(|l| &l.axis_values)
            .chain(plan.optimizers.iter().map(|o| &o.axis_values))
            .chain(plan.schedules.iter().map(|s| &s.axis_values))
            .filter_map(|v| axis_value(v, &axis.column))
            .collect();
        columns.push(axis_column(&axis.column, values, &plan_values));
    }
    columns
}

/// What the run found: losses, curvature, basin, best point, counters.
fn outcome_columns(rows: &[RunRow]) -> Vec<Column> {
    let f64_col = |name: &str, f: &dyn Fn(&RunRow) -> Option<f64>| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    let finite = |v: f64| v.is_finite().then_some(v);
    vec![
        f64_col(rc::INITIAL_LOSS, &|r| finite(r.initial_loss)),
        f64_col(rc::FINAL_LOSS, &|r| Some(r.final_loss)),
        f64_col(rc::MIN_LOSS, &|r| finite(r.min_loss)),
        f64_col(rc::FINAL_GRAD_NORM, &|r| finite(r.final_grad_norm)),
        f64_col(rc::FINAL_LR, &|r| Some(r.final_lr)),
        f64_col(rc::SHARPNESS, &|r| r.curvature.as_ref().map(|c| c.max_eig)),
        f64_col(rc::HESSIAN_MIN_EIG, &|r| {
            r.curvature.as_ref().map(|c| c.min_eig)
        }),
        f64_col(rc::HESSIAN_TRACE, &|r| {
            r.curvature.as_ref().map(|c| c.trace)
        }),
        f64_col(rc::HESSIAN_TRACE_STDERR, &|r| {
            r.curvature
                .as_ref()
                .filter(|c| c.method != CurvatureMethod::Dense)
                .map(|c| c.trace_stderr)
        }),
        Column::new(
            rc::CURVATURE_METHOD.into(),
            rows.iter()
                .map(|r| r.curvature.as_ref().map(|c| c.method.as_str()))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            rc::DIVERGED.into(),
            rows.iter().map(|r| r.diverged).collect::<Vec<_>>(),
        ),
        Column::new(
            rc::STEPS_RUN.into(),
            rows.iter().map(|r| r.steps_run as i64).collect::<Vec<_>>(),
        ),
        Column::new(
            rc::BASIN.into(),
            rows.iter()
                .map(|r| r.basin.as_ref().map(|b| b.label.clone()))
                .collect::<Vec<_>>(),
        ),
        f64_col(rc::DISTANCE_TO_MIN, &|r| {
            r.basin.as_ref().map(|b| b.distance)
        }),
        f64_col(rc::ENERGY_GAP, &|r| r.energy_gap),
        f64_col(rc::BEST_LOSS, &|r| finite(r.best_loss)),
        Column::new(
            rc::BEST_STEP.into(),
            rows.iter()
                .map(|r| r.best_loss.is_finite().then_some(r.best_step as i64))
                .collect::<Vec<_>>(),
        ),
        f64_col(rc::BEST_ENERGY_GAP, &|r| r.best_energy_gap),
        Column::new(
            rc::CLIPPED_STEPS.into(),
            rows.iter()
                .map(|r| r.clipped_steps.map(|n| n as i64))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            rc::SKIPPED_STEPS.into(),
            rows.iter()
                .map(|r| r.skipped_steps.map(|n| n as i64))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            rc::STALLED_AT.into(),
            rows.iter()
                .map(|r| r.stalled_at.map(|n| n as i64))
                .collect::<Vec<_>>(),
        ),
        f64_col(rc::SPECTRAL_RADIUS, &|r| r.spectral_radius),
        f64_col(rc::CYCLE_SPECTRAL_RADIUS, &|r| r.cycle_spectral_radius),
    ]
}
