//! The trace of one run, column by column: a row every `trace_every` steps
//! (and on sharpness rows and the last step), pushed into columns reserved
//! before the first step, so tracing does not allocate.
//!
//! A run whose trace would not fit in one chunk ([`chunk_rows`] rows, about
//! [`CHUNK_BYTES`]) streams it: when the columns are full they are handed to
//! a [`ChunkWriter`] (a file of the results folder) and cleared, so the
//! memory of a run does not grow with its steps. Shorter runs keep their
//! trace in memory, reserved exactly, as before.

use crate::error::Result;
use std::path::PathBuf;

/// Memory budget of one run's trace columns (the chunk of a streamed run).
pub const CHUNK_BYTES: usize = 4 << 20;
/// Most rows in a chunk, whatever the row size.
pub const CHUNK_ROWS: usize = 1 << 16;

/// Columns of [`TraceColumns`] by type: `step`; `lr`, `loss`, `grad_norm`;
/// the ten optional floats; the two optional flags; and `basin`.
const STEP_COLUMNS: usize = 1;
const F64_COLUMNS: usize = 3;
const OPTIONAL_F64_COLUMNS: usize = 10;
const OPTIONAL_BOOL_COLUMNS: usize = 2;
const BASIN_COLUMNS: usize = 1;

/// Values of a row of `trace.parquet` besides positions and group lrs:
/// `run_id` and the columns of [`TraceColumns`].
pub const FIXED_VALUES: usize =
    1 + STEP_COLUMNS + F64_COLUMNS + OPTIONAL_F64_COLUMNS + OPTIONAL_BOOL_COLUMNS + BASIN_COLUMNS;

/// Bytes of one row in [`TraceColumns`]: the fixed columns, the basin
/// index, `position_len` coordinates and `groups` group lrs.
pub const fn row_bytes(position_len: usize, groups: usize) -> usize {
    use std::mem::size_of;
    let fixed = STEP_COLUMNS * size_of::<u64>()
        + F64_COLUMNS * size_of::<f64>()
        + OPTIONAL_F64_COLUMNS * size_of::<Option<f64>>()
        + OPTIONAL_BOOL_COLUMNS * size_of::<Option<bool>>()
        + BASIN_COLUMNS * size_of::<Option<u32>>();
    fixed + size_of::<f64>() * (position_len + groups)
}

/// Rows per chunk of a streamed trace: [`CHUNK_BYTES`] worth, at most
/// [`CHUNK_ROWS`], at least one.
pub fn chunk_rows(position_len: usize, groups: usize) -> usize {
    (CHUNK_BYTES / row_bytes(position_len, groups)).clamp(1, CHUNK_ROWS)
}

/// Where the trace of a long run is streamed: one [`ChunkWriter`] per run.
pub trait TraceSpill: Sync {
    /// Opens the chunk writer of run `index` (`run_id`), whose rows carry
    /// `position_dim` coordinates.
    fn open(&self, run_id: &str, index: usize, position_dim: usize)
        -> Result<Box<dyn ChunkWriter>>;
}

/// Takes the chunks of one run's trace, in order.
pub trait ChunkWriter {
    /// Writes the rows of `chunk` after those written before.
    fn write(&mut self, chunk: &TraceColumns) -> Result<()>;
    /// Completes the run's trace.
    fn finish(self: Box<Self>) -> Result<SpilledTrace>;
}

/// A run's trace written to a file as it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpilledTrace {
    pub path: PathBuf,
    pub rows: usize,
}

/// The traced steps of one run, column by column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceColumns {
    pub step: Vec<u64>,
    pub lr: Vec<f64>,
    pub momentum: Vec<Option<f64>>,
    pub loss: Vec<f64>,
    pub grad_norm: Vec<f64>,
    pub update_norm: Vec<Option<f64>>,
    pub grad_cosine: Vec<Option<f64>>,
    pub effective_step: Vec<Option<f64>>,
    pub shrink: Vec<Option<f64>>,
    pub sharpness: Vec<Option<f64>>,
    /// Loss on the minibatch of the update (minibatch noise; else null).
    pub batch_loss: Vec<Option<f64>>,
    /// ‖g‖ before clipping, and whether clipping changed g (null without
    /// clipping).
    pub preclip_norm: Vec<Option<f64>>,
    pub clipped: Vec<Option<bool>>,
    /// The loss scale of the update (null without `grad_dtype`).
    pub loss_scale: Vec<Option<f64>>,
    /// Whether the update was skipped (null without `grad_dtype`).
    pub skipped: Vec<Option<bool>>,
    /// Fraction of coordinates whose update rounded away in storage (null
    /// in f64).
    pub update_underflow: Vec<Option<f64>>,
    /// `groups` values per row: the lr of each parameter group (empty
    /// without groups).
    pub group_lr: Vec<f64>,
    pub groups: usize,
    /// `dim` values per row when positions are traced, else empty.
    pub position: Vec<f64>,
    /// Per row where positions are traced: the index in [`Self::basin_labels`]
    /// of the known minimum nearest to the row's position.
    pub basin: Vec<Option<u32>>,
    /// The labels of the landscape's known minima (once per run).
    pub basin_labels: Vec<String>,
}

/// One traced step, before it is split into columns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceRow {
    pub step: u64,
    pub lr: f64,
    pub momentum: Option<f64>,
    pub loss: f64,
    pub grad_norm: f64,
    pub update_norm: Option<f64>,
    pub grad_cosine: Option<f64>,
    pub effective_step: Option<f64>,
    pub shrink: Option<f64>,
    pub sharpness: Option<f64>,
    pub batch_loss: Option<f64>,
    pub preclip_norm: Option<f64>,
    pub clipped: Option<bool>,
    pub loss_scale: Option<f64>,
    pub skipped: Option<bool>,
    pub update_underflow: Option<f64>,
}

impl TraceColumns {
    /// Columns for `rows` rows; `position_len` values per row of positions.
    pub fn with_capacity(rows: usize, position_len: usize, basin_labels: Vec<String>) -> Self {
        let positions = if position_len > 0 { rows } else { 0 };
        Self {
            step: Vec::with_capacity(rows),
            lr: Vec::with_capacity(rows),
            momentum: Vec::with_capacity(rows),
            loss: Vec::with_capacity(rows),
            grad_norm: Vec::with_capacity(rows),
            update_norm: Vec::with_capacity(rows),
            grad_cosine: Vec::with_capacity(rows),
            effective_step: Vec::with_capacity(rows),
            shrink: Vec::with_capacity(rows),
            sharpness: Vec::with_capacity(rows),
            batch_loss: Vec::with_capacity(rows),
            preclip_norm: Vec::with_capacity(rows),
            clipped: Vec::with_capacity(rows),
            loss_scale: Vec::with_capacity(rows),
            skipped: Vec::with_capacity(rows),
            update_underflow: Vec::with_capacity(rows),
            group_lr: Vec::new(),
            groups: 0,
            position: Vec::with_capacity(positions * position_len),
            basin: Vec::with_capacity(positions),
            basin_labels,
        }
    }

    /// Reserves the per-group lr columns of `groups` parameter groups.
    pub fn with_groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self.group_lr = Vec::with_capacity(self.step.capacity() * groups);
        self
    }

    /// The group lrs of row `i` (empty without groups).
    pub fn group_lrs(&self, i: usize) -> &[f64] {
        &self.group_lr[i * self.groups..(i + 1) * self.groups]
    }

    /// Appends the columns of one traced step (positions separately).
    pub fn push(&mut self, row: TraceRow) {
        self.step.push(row.step);
        self.lr.push(row.lr);
        self.momentum.push(row.momentum);
        self.loss.push(row.loss);
        self.grad_norm.push(row.grad_norm);
        self.update_norm.push(row.update_norm);
        self.grad_cosine.push(row.grad_cosine);
        self.effective_step.push(row.effective_step);
        self.shrink.push(row.shrink);
        self.sharpness.push(row.sharpness);
        self.batch_loss.push(row.batch_loss);
        self.preclip_norm.push(row.preclip_norm);
        self.clipped.push(row.clipped);
        self.loss_scale.push(row.loss_scale);
        self.skipped.push(row.skipped);
        self.update_underflow.push(row.update_underflow);
    }

    /// Empties the columns, keeping their memory.
    pub fn clear(&mut self) {
        self.step.clear();
        self.lr.clear();
        self.momentum.clear();
        self.loss.clear();
        self.grad_norm.clear();
        self.update_norm.clear();
        self.grad_cosine.clear();
        self.effective_step.clear();
        self.shrink.clear();
        self.sharpness.clear();
        self.batch_loss.clear();
        self.preclip_norm.clear();
        self.clipped.clear();
        self.loss_scale.clear();
        self.skipped.clear();
        self.update_underflow.clear();
        self.group_lr.clear();
        self.position.clear();
        self.basin.clear();
    }

    /// The basin label of row `i`, where positions are traced.
    pub fn basin_label(&self, i: usize) -> Option<&str> {
        let k = (*self.basin.get(i)?)?;
        self.basin_labels.get(k as usize).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.step.len()
    }

    pub fn is_empty(&self) -> bool {
        self.step.is_empty()
    }
}
