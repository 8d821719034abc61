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
//!   ([`crate::config::count::count_runs`]); refused above `--max-runs` (default
//!   [`crate::config::count::DEFAULT_MAX_RUNS`]).
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
//!     [`CHUNK_BYTES`](crate::runner::trace::CHUNK_BYTES), [`row_bytes`](crate::runner::trace::row_bytes) per row plus 8·d where positions
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
//!   - consolidating: `runs.parquet` [`RUNS_FRAME_BYTES`] per row of a part and a row group; then
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

mod model;
mod timing;

pub use crate::config::count::{DEFAULT_MAX_RUNS, RUN_BYTES, VARIANT_BYTES};
pub use timing::*;

use crate::config::count::{plan_bytes, PlanLimits};
use crate::config::{Plan, Reporter};
use crate::curvature::{LanczosOptions, DENSE_LIMIT};
use crate::error::{Result, ValleyError};
use crate::memory::{
    available_space, default_max_memory, existing_ancestor, f64s, fmt_bytes, parse_size,
};
use std::path::Path;

/// Memory of the process itself: code, the allocator's, the thread pool's
/// and Parquet's reserves (measured: 9 MB peak RSS for a dry run of one run,
/// 28 MB for running it).
pub const BASE_BYTES: u64 = 32_000_000;
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
/// Rows the writer buffers before it flushes.
pub const FLUSH_ROWS: u64 = crate::results::parts::FLUSH_TRACE_ROWS as u64;
/// Rows per row group of the consolidated `trace.parquet`.
pub const BATCH_ROWS: u64 = crate::results::consolidate::BATCH_ROWS as u64;
/// Largest row group of a part written in one piece (polars' default row
/// group size).
pub const PART_GROUP_ROWS: u64 = 512 * 512;
/// Metadata a Parquet writer keeps per row group until it writes the footer
/// (about 20 columns of page headers and chunk metadata; measured 50 kB).
pub const ROW_GROUP_META_BYTES: u64 = 64_000;
/// Values in a row of `trace.parquet` besides positions and group lrs.
pub const TRACE_VALUES: u64 = crate::runner::trace::FIXED_VALUES as u64;
/// Bytes per value of the output estimate: a float64 stored uncompressed,
/// an upper bound (zstd stores the traces of `experiments/` in 2 to 4 bytes
/// per value).
pub const BYTES_PER_VALUE: u64 = 8;
/// Memory per row of `runs.parquet` while it is consolidated: the rows of
/// a part and of a row group ([`RUNS_BATCH_ROWS`] and a part's
/// [`FLUSH_RUNS`]), held as read, sorted and encoded.
/// Measured: a sweep of 1,000,000 runs of 20 steps peaked at 205 MB RSS,
/// 100 MB more than while its runs ran.
pub const RUNS_FRAME_BYTES: u64 = 1300;
/// Bytes per row of `runs.parquet` (about 30 columns of 8 bytes, labels).
pub const RUNS_ROW_BYTES: u64 = 400;

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

/// Batches of finished runs held at once by `threads` workers besides the
/// writer's buffer: one being filled per worker, those queued for the sink
/// ([`BATCHES_QUEUED`](crate::runner::BATCHES_QUEUED) per worker) and those
/// queued for the writer ([`QUEUE`](crate::results::writer::QUEUE)). A
/// batch holds at most [`BATCH_RUNS`](crate::runner::BATCH_RUNS) runs and,
/// beyond its last run, [`BATCH_TRACE_ROWS`](crate::runner::BATCH_TRACE_ROWS)
/// trace rows.
pub fn batches_held(threads: u64) -> u64 {
    threads
        .saturating_mul(1 + crate::runner::BATCHES_QUEUED as u64)
        .saturating_add(crate::results::writer::QUEUE as u64)
}

/// Runs whose whole traces may be held at once by `threads` workers (see
/// [`batches_held`]), besides the writer's buffer.
pub fn runs_held(threads: u64) -> u64 {
    batches_held(threads).saturating_mul(crate::runner::BATCH_RUNS as u64)
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

#[cfg(test)]
mod tests {
    use super::*;

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
