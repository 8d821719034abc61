//! The trace of one run, column by column: a row every `trace_every` steps
//! (and on sharpness rows and the last step), pushed into columns reserved
//! before the first step, so tracing does not allocate.

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
    /// ‖g‖ before clipping, and whether clipping changed g (null without
    /// clipping).
    pub preclip_norm: Vec<Option<f64>>,
    pub clipped: Vec<Option<bool>>,
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
    pub preclip_norm: Option<f64>,
    pub clipped: Option<bool>,
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
            preclip_norm: Vec::with_capacity(rows),
            clipped: Vec::with_capacity(rows),
            position: Vec::with_capacity(positions * position_len),
            basin: Vec::with_capacity(positions),
            basin_labels,
        }
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
        self.preclip_norm.push(row.preclip_norm);
        self.clipped.push(row.clipped);
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
