//! Figures (plotters), regenerated from a results folder.

use crate::error::{Result, ValleyError};
use crate::schedule::Schedule;
use std::path::Path;

/// Every figure of a results folder into `DIR/figures/`.
pub fn plot_dir(dir: &Path) -> Result<()> {
    Err(ValleyError::Other(format!(
        "plot {}: figures are not implemented yet",
        dir.display()
    )))
}

/// The lr (and momentum) curve of one schedule.
pub fn schedule_figure(path: &Path, _label: &str, _schedule: &Schedule, _steps: u64) -> Result<()> {
    Err(ValleyError::Other(format!(
        "plot {}: figures are not implemented yet",
        path.display()
    )))
}
