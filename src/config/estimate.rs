//! Estimates before allocation: how many runs a sweep file asks for, how much
//! memory the sweep will hold at its peak, how large its output will be, and
//! (for `--dry-run`) how long it will take. A sweep is refused with exit
//! code 2, naming the field and the estimate, before anything is allocated or
//! written:
//!
//! - **runs**: the product of the section sizes (each `[[landscape]]`,
//!   `[[optimizer]]` and `[[schedule]]` table counts the product of its
//!   `{ sweep = [...] }` axis lengths) and the seeds, counted with checked
//!   arithmetic from the file's tables, before any run is built
//!   ([`count_runs`]); refused above `--max-runs` (default
//!   [`DEFAULT_MAX_RUNS`]).
//! - **memory**: the process itself ([`BASE_BYTES`]), the plan
//!   ([`RUN_BYTES`] per run and [`VARIANT_BYTES`] per table variant, checked
//!   before the plan is built), every landscape's own allocations kept for the
//!   whole sweep ([`Allocation`], stated by its spec struct in its own file: a
//!   rotation is d², a generated well d, ...), and the largest of three
//!   phases that follow one another:
//!   - building the landscapes, one after the other: the largest transient
//!     of a build (the QR factors that draw a rotation, Newton descents);
//!   - running: per run in flight (min(threads, runs) at once) the runner's
//!     vectors (x, gradient, previous gradient, previous x, noise scratch:
//!     5·d), the optimizer's slots (d each), the curvature workspace (dense
//!     Hessian and its eigen-decomposition, 3·d², up to
//!     [`crate::curvature::DENSE_LIMIT`]; above it Lanczos: 6·d plus the
//!     stored basis when it fits
//!     [`crate::curvature::LanczosOptions::basis_bytes`]) and the landscape's
//!     per-run allocations; and the trace buffers, bounded by chunks: a run
//!     holds at most one chunk of trace rows ([`chunk_rows`]: about
//!     [`CHUNK_BYTES`](crate::runner::trace::CHUNK_BYTES), [`TRACE_ROW_BYTES`] per row plus 8·d where positions
//!     are traced). A run whose trace is longer streams it chunk by chunk,
//!     each chunk held again as a Parquet frame while it is written
//!     ([`TRACE_FRAME_ROW_BYTES`] per row, plus
//!     [`TRACE_FRAME_POSITION_ROW_BYTES`] and 8·d with positions) with the
//!     writer's buffers ([`PARQUET_WRITER_BYTES`]); so its memory does not
//!     grow with its steps. A shorter run keeps its trace until it
//!     finishes: up to [`runs_held`] runs hold theirs at once (running, or
//!     queued for the writer), and the writer's batch (up to [`FLUSH_ROWS`]
//!     rows plus the run that crosses it) is held as rows and again as a
//!     frame while it is flushed;
//!   - consolidating: `runs.parquet` [`RUNS_FRAME_BYTES`] per run; then
//!     `trace.parquet`, written row group by row group (about
//!     [`BATCH_ROWS`] rows, plus the source row group that crosses it, held
//!     three times while encoded), and the metadata of its row groups
//!     kept until the footer ([`ROW_GROUP_META_BYTES`] each).
//!
//!   Refused above `--max-memory` (default: half of the machine's RAM, or of
//!   the cgroup's `memory.max` where lower: [`default_max_memory`]).
//! - **output**: `trace.parquet` is at most rows × values per row ×
//!   [`BYTES_PER_VALUE`] bytes (values: [`TRACE_VALUES`] columns, plus d per
//!   row where positions are traced); `runs.parquet` [`RUNS_ROW_BYTES`] per
//!   run. While the parts are consolidated, parts and consolidated files
//!   coexist, so the disk must hold twice that. Refused above `--max-output`
//!   (default: the free space of the output folder's file system).
//!
//! Sizes print and parse in powers of 1000 (`12G` = 12·10⁹ bytes; `12GiB` in
//! powers of 1024).

use super::expand::find_axes;
use super::file::{Seeds, SweepFile};
use super::{Plan, Reporter};
use crate::curvature::{LanczosOptions, DENSE_LIMIT};
use crate::error::{Result, ValleyError};
use crate::landscape::LandscapeKind;
use crate::runner::trace::chunk_rows;
use std::path::Path;
use std::time::{Duration, Instant};

/// Default of `--max-runs`.
pub const DEFAULT_MAX_RUNS: u64 = 10_000_000;

/// Memory per run of the plan: its `RunSpec` and 16-character id (about 100
/// bytes with allocator overhead), the copy of the run list a sweep filters
/// and the set of planned ids it checks finished runs against. Measured:
/// a dry run of 2,000,000 runs peaked at 432 MB RSS (216 bytes per run).
pub const RUN_BYTES: u64 = 300;
/// Memory of the process itself: code, the allocator's, the thread pool's
/// and Parquet's reserves (measured: 9 MB peak RSS for a dry run of one run,
/// 28 MB for running it).
pub const BASE_BYTES: u64 = 32_000_000;
/// Memory per variant of a table (its concrete TOML table and resolved spec).
pub const VARIANT_BYTES: u64 = 4096;
/// Memory per trace row held by a run, without positions: the columns of
/// `runner::trace::TraceColumns` (one u64, three f64, ten optional f64, two
/// optional bools, the optional basin index; `trace::row_bytes(0, 0)`).
pub const TRACE_ROW_BYTES: u64 = 208;
/// Memory per row of a chunk or batch while it is a Parquet frame (the
/// gathered columns, validity, run id and basin views).
pub const TRACE_FRAME_ROW_BYTES: u64 = 192;
/// Extra frame memory per row where positions are traced (a list offset and
/// validity), besides 8·d for the coordinates. With the constants above, 4
/// runs × 3,000,000 steps traced at every step on a 2-D quadratic on 2
/// threads are estimated at 0.16 GB; measured peak RSS 0.11 GB (4 ×
/// 300,000 steps: 0.155 GB and 0.06 to 0.11 GB; before traces were
/// streamed, the 3,000,000-step sweep peaked at 3.1 to 3.9 GB).
pub const TRACE_FRAME_POSITION_ROW_BYTES: u64 = 64;
/// The buffers of one Parquet writer encoding a chunk (pages, compressor
/// contexts, a 1 MiB output buffer).
pub const PARQUET_WRITER_BYTES: u64 = 8_000_000;
/// Rows the writer buffers before it flushes (`parts::FLUSH_TRACE_ROWS`).
pub const FLUSH_ROWS: u64 = 1 << 17;
/// Rows per row group of the consolidated `trace.parquet`
/// (`consolidate::BATCH_ROWS`).
pub const BATCH_ROWS: u64 = 1 << 17;
/// Largest row group of a part written in one piece (polars' default row
/// group size).
pub const PART_GROUP_ROWS: u64 = 512 * 512;
/// Metadata a Parquet writer keeps per row group until it writes the footer
/// (about 20 columns of page headers and chunk metadata; measured 50 kB).
pub const ROW_GROUP_META_BYTES: u64 = 64_000;
/// Values in a row of `trace.parquet` besides positions: run_id, step, lr,
/// momentum, loss, grad_norm, update_norm, grad_cosine, effective_step,
/// shrink, sharpness, basin.
pub const TRACE_VALUES: u64 = 12;
/// Bytes per value of the output estimate: a float64 stored uncompressed,
/// an upper bound (zstd stores the traces of `experiments/` in 2 to 4 bytes
/// per value).
pub const BYTES_PER_VALUE: u64 = 8;
/// Memory per run while `runs.parquet` is consolidated: every runs part is
/// read into one frame and sorted (a copy).
/// Measured: a sweep of 1,000,000 two-step runs peaked at 1.50 GB RSS
/// (with [`RUN_BYTES`]: 1.6 kB per run).
pub const RUNS_FRAME_BYTES: u64 = 1300;
/// Bytes per row of `runs.parquet` (about 30 columns of 8 bytes, labels).
pub const RUNS_ROW_BYTES: u64 = 400;

/// One allocation a landscape makes, as its spec states it.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// The field that drives it, inside the landscape table (`dim`).
    pub field: &'static str,
    /// The field's value and whatever else matters, e.g.
    /// `dim = 200000 with rotate = true`.
    pub cause: String,
    /// What is allocated, e.g. `rotation matrix`.
    pub what: &'static str,
    /// Bytes kept (for the sweep, or for a run when `per_run`).
    pub bytes: u64,
    /// Bytes held on top of `bytes` while it is built (transient).
    pub building: u64,
    /// Allocated by every run in flight rather than once per landscape.
    pub per_run: bool,
}

impl Allocation {
    /// Kept once per landscape for the whole sweep.
    pub fn shared(field: &'static str, cause: String, what: &'static str, bytes: u64) -> Self {
        Self {
            field,
            cause,
            what,
            bytes,
            building: 0,
            per_run: false,
        }
    }

    /// Allocated by each run in flight.
    pub fn per_run(field: &'static str, cause: String, what: &'static str, bytes: u64) -> Self {
        Self {
            per_run: true,
            ..Self::shared(field, cause, what, bytes)
        }
    }

    /// With `bytes` more held while it is built.
    pub fn building(self, bytes: u64) -> Self {
        Self {
            building: bytes,
            ..self
        }
    }
}

/// `n` values of 8 bytes, saturating.
pub fn f64s(n: u64) -> u64 {
    n.saturating_mul(8)
}

/// What the landscape of `kind` allocates (the per-kind statements live in
/// each landscape's file).
pub fn landscape_allocations(kind: &LandscapeKind) -> Vec<Allocation> {
    kind.spec().memory()
}

// ---------------------------------------------------------------- run count

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

// ------------------------------------------------------------------- memory

/// One contribution to the memory peak, for messages and `--dry-run`.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Full path of the field that drives it (`landscape[0].dim`).
    pub field: String,
    /// `landscape[0].dim = 200000 with rotate = true`.
    pub cause: String,
    pub what: String,
    /// Bytes of one instance.
    pub each: u64,
    /// Instances held at once.
    pub count: u64,
    /// Transient bytes on top while it is built.
    pub building: u64,
    /// Held by every run in flight (`count` of them).
    pub per_run: bool,
}

impl Item {
    fn total(&self) -> u64 {
        self.each
            .saturating_mul(self.count)
            .saturating_add(self.building)
    }

    /// `landscape[0].dim = 200000 with rotate = true needs a 320 GB rotation
    /// matrix (and 640 GB more while it is built)`, or for what every run
    /// holds: `... needs 6.40 TB per run for optimizer buffers, 2 runs at
    /// once: 12.8 TB`.
    fn sentence(&self) -> String {
        if self.each == 0 && self.building > 0 {
            return format!(
                "{} needs {} for {} while the landscape is built",
                self.cause,
                fmt_bytes(self.building),
                self.what
            );
        }
        let mut s = if self.per_run {
            format!(
                "{} needs {} per run for {}",
                self.cause,
                fmt_bytes(self.each),
                self.what
            )
        } else {
            format!(
                "{} needs a {} {}",
                self.cause,
                fmt_bytes(self.each),
                self.what
            )
        };
        if self.count > 1 {
            s += &format!(
                ", {} runs at once: {}",
                self.count,
                fmt_bytes(self.each.saturating_mul(self.count))
            );
        }
        if self.building > 0 {
            s += &format!(" (and {} more while it is built)", fmt_bytes(self.building));
        }
        s
    }
}

/// The estimates of one sweep process (its shard of the plan).
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Runs of the whole plan and of this process.
    pub plan_runs: u64,
    pub runs: u64,
    pub threads: u64,
    /// Runs in flight at once: min(threads, runs).
    pub in_flight: u64,
    pub plan_memory: u64,
    /// Kept by the landscapes (their build transients are in the peak).
    pub landscape_memory: u64,
    /// The largest transient of a landscape build.
    pub build_memory: u64,
    pub run_memory: u64,
    pub trace_memory: u64,
    /// Consolidating `runs.parquet` and `trace.parquet` at the end.
    pub consolidation_memory: u64,
    pub memory_peak: u64,
    pub items: Vec<Item>,
    pub trace_rows: u64,
    pub trace_values_per_row: u64,
    /// Whether positions are traced (for some landscape).
    pub positions: bool,
    pub trace_bytes: u64,
    pub runs_bytes: u64,
}

/// Runs whose whole traces are held at once by `threads` workers, besides
/// the writer's batch: the running ones and the results channel (4 per
/// thread).
pub fn runs_held(threads: u64) -> u64 {
    threads.saturating_mul(5)
}

/// Curvature workspace of one run on a landscape of dimension `d`: dense
/// Hessian and its eigen-decomposition up to the dense limit, else the
/// Lanczos vectors and the basis when it is stored.
pub fn curvature_bytes(d: u64) -> u64 {
    if d <= DENSE_LIMIT as u64 {
        f64s(d.saturating_mul(d)).saturating_mul(3)
    } else {
        let o = LanczosOptions::default();
        let basis = f64s((o.max_iter as u64).min(d).saturating_mul(d));
        let stored = if basis <= o.basis_bytes as u64 {
            basis
        } else {
            0
        };
        f64s(d.saturating_mul(6)).saturating_add(stored)
    }
}

impl Estimate {
    /// Estimates for running `runs` runs of `plan` on `threads` threads.
    pub fn of(plan: &Plan, runs: u64, threads: u64) -> Estimate {
        let st = &plan.settings;
        let threads = threads.max(1);
        let in_flight = threads.min(runs).max(1);
        let rows_per_run = plan.trace_rows_per_run().saturating_add(1);
        let mut items = Vec::new();

        let plan_memory = plan_bytes(plan.runs.len() as u64, 0);
        items.push(Item {
            field: "seeds".into(),
            cause: format!("a plan of {} runs", plan.runs.len()),
            what: "run list".into(),
            each: plan_memory,
            count: 1,
            building: 0,
            per_run: false,
        });

        let slots = plan
            .optimizers
            .iter()
            .map(|o| o.kind.spec().init_state(0).slots.len() as u64)
            .max()
            .unwrap_or(0);
        let curvature = st.hessian;
        let (mut kept, mut building, mut per_run) = (0u64, 0u64, 0u64);
        let (mut trace_memory, mut trace_consolidation) = (0u64, 0u64);
        let held = runs_held(threads).min(runs.max(1));
        let mut trace_values_max = TRACE_VALUES;
        let mut any_positions = false;
        for l in &plan.landscapes {
            let d = l.kind.spec().dim() as u64;
            let dim_field = format!("{}.dim", l.table);
            let dim_cause = format!("{dim_field} = {d}");
            let mut run_bytes = 0u64;
            for a in landscape_allocations(&l.kind) {
                let field = format!("{}.{}", l.table, a.field);
                let cause = format!("{}.{}", l.table, a.cause);
                if a.per_run {
                    run_bytes = run_bytes.saturating_add(a.bytes);
                    items.push(Item {
                        field,
                        cause,
                        what: a.what.into(),
                        each: a.bytes,
                        count: in_flight,
                        building: 0,
                        per_run: true,
                    });
                } else {
                    kept = kept.saturating_add(a.bytes);
                    building = building.max(a.building);
                    items.push(Item {
                        field,
                        cause,
                        what: a.what.into(),
                        each: a.bytes,
                        count: 1,
                        building: a.building,
                        per_run: false,
                    });
                }
            }
            let vectors = 5 + slots;
            let buffers = f64s(d.saturating_mul(vectors));
            items.push(Item {
                field: dim_field.clone(),
                cause: dim_cause.clone(),
                what: format!("optimizer buffers ({vectors} vectors of length dim)"),
                each: buffers,
                count: in_flight,
                building: 0,
                per_run: true,
            });
            run_bytes = run_bytes.saturating_add(buffers);
            if curvature {
                let c = curvature_bytes(d);
                let what = if d <= DENSE_LIMIT as u64 {
                    "a dense Hessian and its eigen-decomposition"
                } else {
                    "Lanczos vectors"
                };
                items.push(Item {
                    field: dim_field.clone(),
                    cause: format!("{dim_cause} with hessian = true"),
                    what: what.into(),
                    each: c,
                    count: in_flight,
                    building: 0,
                    per_run: true,
                });
                run_bytes = run_bytes.saturating_add(c);
            }
            per_run = per_run.max(run_bytes);

            let positions = crate::runner::traces_positions(plan, l.kind.spec().dim());
            let pos = if positions { d } else { 0 };
            any_positions |= positions;
            let row = TRACE_ROW_BYTES.saturating_add(f64s(pos));
            let frame = TRACE_FRAME_ROW_BYTES
                .saturating_add(if positions {
                    TRACE_FRAME_POSITION_ROW_BYTES
                } else {
                    0
                })
                .saturating_add(f64s(pos));
            let chunk = chunk_rows(usize::try_from(pos).unwrap_or(usize::MAX), 0) as u64;
            let streamed = rows_per_run > chunk;
            // What one run holds of its trace while it runs.
            let this_run = if streamed {
                chunk
                    .saturating_mul(row.saturating_add(frame))
                    .saturating_add(PARQUET_WRITER_BYTES)
            } else {
                rows_per_run.saturating_mul(row)
            };
            // Finished runs waiting for the writer, and its batch.
            let this_queue = if streamed {
                0
            } else {
                let batch_rows = FLUSH_ROWS
                    .saturating_add(rows_per_run)
                    .min(rows_per_run.saturating_mul(runs.max(1)));
                this_run
                    .saturating_mul(held.saturating_sub(in_flight))
                    .saturating_add(batch_rows.saturating_mul(row.saturating_add(frame)))
            };
            // Consolidation: a batch plus the source row group crossing it,
            // three times (its pieces, their rechunked copy, the encoded
            // pages), and the metadata of every row group written.
            let source_group = if streamed { chunk } else { PART_GROUP_ROWS };
            let groups = plan
                .trace_rows_per_run()
                .saturating_mul(runs)
                .div_ceil(BATCH_ROWS);
            let this_consolidation = BATCH_ROWS
                .saturating_add(source_group)
                .min(rows_per_run.saturating_mul(runs.max(1)))
                .saturating_mul(frame)
                .saturating_mul(3)
                .saturating_add(groups.saturating_mul(ROW_GROUP_META_BYTES));
            trace_consolidation = trace_consolidation.max(this_consolidation);
            let this_total = this_run
                .saturating_mul(in_flight)
                .saturating_add(this_queue);
            if this_total > trace_memory {
                trace_memory = this_total;
                let cause = if positions && d > 2 {
                    format!(
                        "steps = {} with trace_every = {} and trace_positions = true on {dim_field} = {d}",
                        st.steps, st.trace_every
                    )
                } else {
                    format!("steps = {} with trace_every = {}", st.steps, st.trace_every)
                };
                items.retain(|i| i.what != "trace buffers" && i.what != "trace chunks");
                items.push(Item {
                    field: "steps".into(),
                    cause,
                    what: if streamed {
                        "trace chunks".into()
                    } else {
                        "trace buffers".into()
                    },
                    each: this_run,
                    count: in_flight,
                    building: 0,
                    per_run: true,
                });
            }
            trace_values_max = trace_values_max.max(TRACE_VALUES.saturating_add(pos));
        }
        let run_memory = per_run.saturating_mul(in_flight);
        let landscape_memory = kept;
        let groups = plan
            .trace_rows_per_run()
            .saturating_mul(runs)
            .div_ceil(BATCH_ROWS);
        items.push(Item {
            field: "steps".into(),
            cause: format!(
                "steps = {} with trace_every = {} ({} trace rows)",
                st.steps,
                st.trace_every,
                plan.trace_rows_per_run().saturating_mul(runs)
            ),
            what: "row group metadata of trace.parquet (kept until its footer)".into(),
            each: groups.saturating_mul(ROW_GROUP_META_BYTES),
            count: 1,
            building: 0,
            per_run: false,
        });
        // At the end the runs frame replaces the runs in flight, and the
        // trace is written while it is held.
        let consolidation = runs
            .saturating_mul(RUNS_FRAME_BYTES)
            .saturating_add(trace_consolidation);
        // Phases one after the other: building the landscapes, the runs,
        // the consolidation.
        let memory_peak = BASE_BYTES
            .saturating_add(plan_memory)
            .saturating_add(landscape_memory)
            .saturating_add(
                building
                    .max(run_memory.saturating_add(trace_memory))
                    .max(consolidation),
            );

        let trace_rows = plan.trace_rows_per_run().saturating_mul(runs);
        let trace_bytes = trace_rows
            .saturating_mul(trace_values_max)
            .saturating_mul(BYTES_PER_VALUE);
        Estimate {
            plan_runs: plan.runs.len() as u64,
            runs,
            threads,
            in_flight,
            plan_memory,
            landscape_memory,
            build_memory: building,
            run_memory,
            trace_memory,
            consolidation_memory: consolidation,
            memory_peak,
            items,
            trace_rows,
            trace_values_per_row: trace_values_max,
            positions: any_positions,
            trace_bytes,
            runs_bytes: runs.saturating_mul(RUNS_ROW_BYTES),
        }
    }

    /// Disk space the sweep needs at its peak: parts and consolidated files
    /// side by side while the parts are joined.
    pub fn disk_peak(&self) -> u64 {
        self.trace_bytes
            .saturating_add(self.runs_bytes)
            .saturating_mul(2)
    }

    /// The contribution that weighs most (the first of equals).
    fn largest(&self) -> Option<&Item> {
        self.items
            .iter()
            .fold(None, |best: Option<&Item>, i| match best {
                Some(b) if b.total() >= i.total() => Some(b),
                _ => Some(i),
            })
    }

    /// Refuses the sweep above the memory or output limits. `out` is the
    /// results folder (it need not exist: its nearest existing ancestor's
    /// file system is measured).
    pub fn check(&self, plan: &Plan, limits: &Limits, out: &Path) -> Result<()> {
        let rep = Reporter::new(&plan.file, &plan.source);
        if self.memory_peak > limits.max_memory {
            let (field, what) = match self.largest() {
                Some(i) => (i.field.clone(), i.sentence()),
                None => (String::new(), String::new()),
            };
            return Err(rep.at(
                &field,
                format!(
                    "{what}; the sweep's memory peak is about {} ({}); the limit is {} (--max-memory)",
                    fmt_bytes(self.memory_peak),
                    self.memory_breakdown(),
                    fmt_bytes(limits.max_memory)
                ),
            ));
        }
        let (max_output, source) = match limits.max_output {
            Some(b) => (b, "--max-output".to_string()),
            None => match available_space(out) {
                Some(b) => (
                    b,
                    format!(
                        "free space of {} (--max-output)",
                        existing_ancestor(out).display()
                    ),
                ),
                None => return Ok(()),
            },
        };
        if self.disk_peak() > max_output {
            return Err(rep.at(
                "steps",
                format!(
                    "the output needs about {} on disk at its peak ({}); the limit is {} ({source})",
                    fmt_bytes(self.disk_peak()),
                    self.output_breakdown(),
                    fmt_bytes(max_output)
                ),
            ));
        }
        Ok(())
    }

    fn memory_breakdown(&self) -> String {
        format!(
            "run list {}, landscapes {} ({} more while built), {} in flight {}, trace buffers {}, consolidation {}",
            fmt_bytes(self.plan_memory),
            fmt_bytes(self.landscape_memory),
            fmt_bytes(self.build_memory),
            plural(self.in_flight, "run"),
            fmt_bytes(self.run_memory),
            fmt_bytes(self.trace_memory),
            fmt_bytes(self.consolidation_memory)
        )
    }

    fn output_breakdown(&self) -> String {
        format!(
            "trace.parquet {} from {} rows x {} values x {BYTES_PER_VALUE} bytes, runs.parquet {}, twice while the parts are consolidated",
            fmt_bytes(self.trace_bytes),
            self.trace_rows,
            self.trace_values_per_row,
            fmt_bytes(self.runs_bytes)
        )
    }

    /// The estimates as `--dry-run` prints them.
    pub fn describe(&self, limits: &Limits, out: &Path) -> String {
        let output_limit = match limits.max_output {
            Some(b) => format!("{} (--max-output)", fmt_bytes(b)),
            None => match available_space(out) {
                Some(b) => format!(
                    "{} free in {} (--max-output)",
                    fmt_bytes(b),
                    existing_ancestor(out).display()
                ),
                None => "free space unknown".into(),
            },
        };
        format!(
            "  memory peak: about {} ({}); limit {} (--max-memory)\n  output: about {} on disk at the peak ({}); limit {}\n",
            fmt_bytes(self.memory_peak),
            self.memory_breakdown(),
            fmt_bytes(limits.max_memory),
            fmt_bytes(self.disk_peak()),
            self.output_breakdown(),
            output_limit
        )
    }
}

// ------------------------------------------------------------------- limits

/// The limits of one sweep command.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_runs: u64,
    pub max_memory: u64,
    /// `None`: the free space of the output folder's file system.
    pub max_output: Option<u64>,
}

impl Limits {
    /// From the flags' raw values; a bad size is invalid input naming its
    /// flag.
    pub fn from_flags(
        max_runs: Option<u64>,
        max_memory: Option<&str>,
        max_output: Option<&str>,
    ) -> Result<Limits> {
        let size = |flag: &str, v: &str| {
            parse_size(v).map_err(|m| ValleyError::invalid("command line", None, flag, m))
        };
        Ok(Limits {
            max_runs: max_runs.unwrap_or(DEFAULT_MAX_RUNS),
            max_memory: match max_memory {
                Some(v) => size("--max-memory", v)?,
                None => default_max_memory(),
            },
            max_output: max_output.map(|v| size("--max-output", v)).transpose()?,
        })
    }

    pub fn plan(&self) -> PlanLimits {
        PlanLimits {
            max_runs: self.max_runs,
            max_memory: self.max_memory,
        }
    }
}

/// Parses a size: bytes, or a number with a suffix K, M, G, T, P (powers of
/// 1000, an optional trailing `B`) or KiB, MiB, GiB, TiB, PiB (powers of
/// 1024), case-insensitive: `512M`, `12G`, `1.5GiB`, `100000`.
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || format!("must be a size such as 512M, 12G or 1.5GiB, got {s:?}");
    let value: f64 = num.parse().map_err(|_| bad())?;
    let unit = unit.trim().to_ascii_lowercase();
    let scale: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "p" | "pb" => 1e15,
        "kib" => 1024.0,
        "mib" => 1024f64.powi(2),
        "gib" => 1024f64.powi(3),
        "tib" => 1024f64.powi(4),
        "pib" => 1024f64.powi(5),
        _ => return Err(bad()),
    };
    let bytes = value * scale;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes.round() as u64)
}

/// A size in powers of 1000 with three significant digits: `320 GB`,
/// `12.6 GB`, `4.10 kB`.
pub fn fmt_bytes(b: u64) -> String {
    if b == u64::MAX {
        return "more than 18.4 EB".into();
    }
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 999.5 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else if v >= 99.95 {
        format!("{v:.0} {}", UNITS[u])
    } else if v >= 9.995 {
        format!("{v:.1} {}", UNITS[u])
    } else {
        format!("{v:.2} {}", UNITS[u])
    }
}

/// `MemTotal` of `/proc/meminfo` text, in bytes.
pub fn parse_meminfo(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut it = line.split_whitespace().skip(1);
    let n: u64 = it.next()?.parse().ok()?;
    match it.next() {
        Some("kB") => n.checked_mul(1024),
        None => Some(n),
        _ => None,
    }
}

/// The machine's memory: `MemTotal`, or the cgroup v2 `memory.max` of this
/// process where that is lower (a Slurm job, a container).
pub fn machine_memory() -> Option<u64> {
    let total = parse_meminfo(&std::fs::read_to_string("/proc/meminfo").ok()?)?;
    Some(cgroup_memory_max().map_or(total, |c| c.min(total)))
}

fn cgroup_memory_max() -> Option<u64> {
    let cg = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = cg.lines().find_map(|l| l.strip_prefix("0::"))?;
    let file = Path::new("/sys/fs/cgroup")
        .join(path.trim_start_matches('/'))
        .join("memory.max");
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

/// Default of `--max-memory`: half of [`machine_memory`] (8 GB where it
/// cannot be read).
pub fn default_max_memory() -> u64 {
    machine_memory().map_or(8_000_000_000, |m| m / 2)
}

/// `path` or its nearest existing ancestor.
fn existing_ancestor(path: &Path) -> &Path {
    let mut p = path;
    loop {
        if p.as_os_str().is_empty() {
            return Path::new(".");
        }
        if p.exists() {
            return p;
        }
        match p.parent() {
            Some(q) => p = q,
            None => return Path::new("."),
        }
    }
}

/// Bytes available to this user on the file system that holds `path` (or
/// would hold it), by `statvfs`.
#[allow(clippy::unnecessary_cast)] // the field types differ between platforms
pub fn available_space(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = existing_ancestor(path);
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c` is a NUL-terminated path and `st` points to writable
    // memory of the struct statvfs fills; it is read only on success.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it initialised `st`.
    let st = unsafe { st.assume_init() };
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

// ------------------------------------------------------------------- timing

/// Seconds per trace row to gather, write and consolidate it, without and
/// with positions (measured end to end on 2 busy cores, traces streamed in
/// chunks: 12,000,000 rows with positions in 13.6 to 27.2 s, 1.1 to 2.3 µs
/// per row; one run of 10^8 rows on 1 thread, 6.7 µs per row; before
/// streaming, without positions took about half the time per row).
pub const WRITE_SECONDS_PER_ROW: [f64; 2] = [1.5e-6, 3e-6];

/// A timing calibration: a few runs of the plan, shortened, plus the
/// writing of the trace rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Estimated wall time of the sweep: `compute + write`.
    pub seconds: f64,
    /// The runs themselves, on the threads.
    pub compute: f64,
    /// Writing the trace ([`WRITE_SECONDS_PER_ROW`]).
    pub write: f64,
    pub sampled_runs: usize,
    pub steps: [u64; 2],
    pub took: Duration,
}

/// Whether calibrating is cheap: the landscapes are small to build and the
/// memory of a run is small.
pub fn cheap_to_calibrate(e: &Estimate) -> bool {
    e.landscape_memory.saturating_add(e.build_memory) <= 64_000_000
        && e.run_memory / e.in_flight.max(1) <= 64_000_000
}

/// Times up to 8 runs of `plan` (spread over the plan) at two short lengths,
/// fits time = fixed + per step·steps, scales to the estimate's runs of the
/// full length on its threads, and adds the writing of its trace rows.
/// Gives up after `budget`, returning `None` (the calibration keeps running
/// on a detached thread until the process exits).
pub fn calibrate(plan: &Plan, e: &Estimate, budget: Duration) -> Option<Timing> {
    let steps = plan.settings.steps;
    let short = [steps.min(50), steps.min(500)];
    let n = plan.runs.len();
    let picks: Vec<_> = (0..8usize.min(n))
        .map(|k| plan.runs[k * n / 8.min(n)].clone())
        .collect();
    let plans = [plan.shortened(short[0]), plan.shortened(short[1])];
    let (tx, rx) = std::sync::mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let prepared = crate::runner::Prepared::new(&plans[0]);
        let mut per_run = Vec::new();
        for spec in &picks {
            let mut t = [0.0; 2];
            for (k, p) in plans.iter().enumerate() {
                let clock = Instant::now();
                std::hint::black_box(crate::runner::run_one(p, &prepared, spec));
                t[k] = clock.elapsed().as_secs_f64();
            }
            per_run.push(t);
        }
        let _ = tx.send(per_run);
    });
    let per_run = rx
        .recv_timeout(budget.saturating_sub(started.elapsed()))
        .ok()?;
    let took = started.elapsed();
    let mean = |k: usize| per_run.iter().map(|t| t[k]).sum::<f64>() / per_run.len().max(1) as f64;
    let (t0, t1) = (mean(0), mean(1));
    let per_step = if short[1] > short[0] {
        ((t1 - t0) / (short[1] - short[0]) as f64).max(0.0)
    } else {
        0.0
    };
    let fixed = (t0 - per_step * short[0] as f64).max(0.0);
    let one = fixed + per_step * steps as f64;
    let compute = one * e.runs as f64 / e.in_flight as f64;
    let write = e.trace_rows as f64 * WRITE_SECONDS_PER_ROW[usize::from(e.positions)];
    Some(Timing {
        seconds: compute + write,
        compute,
        write,
        sampled_runs: per_run.len(),
        steps: short,
        took,
    })
}

/// The line `--dry-run` prints for the time estimate.
pub fn describe_timing(t: Option<&Timing>, threads: u64, skipped: Option<&str>) -> String {
    match (t, skipped) {
        (_, Some(why)) => format!("  time: not estimated ({why})\n"),
        (Some(t), None) => format!(
            "  time: about {} on {} idle cores (runs {}, from {} calibration runs of {} and {} steps in {:.2} s; writing the trace {})\n",
            fmt_seconds(t.seconds),
            threads,
            fmt_seconds(t.compute),
            t.sampled_runs,
            t.steps[0],
            t.steps[1],
            t.took.as_secs_f64(),
            fmt_seconds(t.write),
        ),
        (None, None) => format!(
            "  time: not estimated (the calibration runs did not finish within {} s)\n",
            CALIBRATION_BUDGET.as_secs()
        ),
    }
}

/// Longest wall time `--dry-run` spends on its timing calibration.
pub const CALIBRATION_BUDGET: Duration = Duration::from_secs(2);

/// Everything `--dry-run` prints about the estimates: memory, output and,
/// where calibrating is cheap, time.
pub fn dry_run_report(plan: &Plan, e: &Estimate, limits: &Limits, out: &Path) -> String {
    let timing = if cheap_to_calibrate(e) {
        let t = calibrate(plan, e, CALIBRATION_BUDGET);
        describe_timing(t.as_ref(), e.threads, None)
    } else {
        describe_timing(
            None,
            e.threads,
            Some("the landscapes or a run are too large to calibrate on quickly"),
        )
    };
    format!("estimates:\n{}{timing}", e.describe(limits, out))
}

/// `1 run`, `2 runs`.
fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn fmt_seconds(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_both_bases() {
        assert_eq!(parse_size("12G"), Ok(12_000_000_000));
        assert_eq!(parse_size("512M"), Ok(512_000_000));
        assert_eq!(parse_size("1.5GiB"), Ok(1_610_612_736));
        assert_eq!(parse_size("100000"), Ok(100_000));
        assert_eq!(parse_size("2 kb"), Ok(2000));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("-1G").is_err());
        assert!(parse_size("1e30").is_err());
        assert!(parse_size("99999999999P").is_err());
    }

    #[test]
    fn sizes_print_with_three_digits() {
        assert_eq!(fmt_bytes(320_000_000_000), "320 GB");
        assert_eq!(fmt_bytes(12_638_257_152), "12.6 GB");
        assert_eq!(fmt_bytes(4_100), "4.10 kB");
        assert_eq!(fmt_bytes(999), "999 B");
        assert_eq!(fmt_bytes(999_600), "1.00 MB");
        assert_eq!(fmt_bytes(u64::MAX), "more than 18.4 EB");
    }

    #[test]
    fn meminfo_total() {
        let text = "MemTotal:       24684096 kB\nMemFree:        15000000 kB\n";
        assert_eq!(parse_meminfo(text), Some(24_684_096 * 1024));
        assert_eq!(parse_meminfo("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn curvature_workspace_follows_the_method() {
        // Dense: H, its copy and the eigenvector workspace, 3·d²·8.
        assert_eq!(curvature_bytes(512), 3 * 512 * 512 * 8);
        // Lanczos with a stored basis: 1000 vectors of d = 10,000 (80 MB <= 256 MiB).
        assert_eq!(curvature_bytes(10_000), 6 * 10_000 * 8 + 1000 * 10_000 * 8);
        // Basis too large to store (1000·10^5·8 = 800 MB): vectors only.
        assert_eq!(curvature_bytes(100_000), 6 * 100_000 * 8);
        assert_eq!(curvature_bytes(u64::MAX), u64::MAX);
    }
}
