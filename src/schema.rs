//! Column names of the output tables, in one place (see CONTRACT.md,
//! "Parquet"). Notebooks and figures rely on these names: change one only if
//! the old name keeps working.

/// `runs.parquet`: one row per run.
pub mod runs {
    pub const RUN_ID: &str = "run_id";
    /// Position of the run in the plan (grid order).
    pub const RUN_INDEX: &str = "run_index";
    pub const LANDSCAPE: &str = "landscape";
    pub const OPTIMIZER: &str = "optimizer";
    pub const SCHEDULE: &str = "schedule";
    pub const LANDSCAPE_KIND: &str = "landscape_kind";
    pub const OPTIMIZER_KIND: &str = "optimizer_kind";
    pub const SCHEDULE_KIND: &str = "schedule_kind";
    pub const NOISE: &str = "noise";
    pub const DIM: &str = "dim";
    pub const SEED: &str = "seed";
    pub const INITIAL_LOSS: &str = "initial_loss";
    pub const FINAL_LOSS: &str = "final_loss";
    pub const MIN_LOSS: &str = "min_loss";
    pub const FINAL_GRAD_NORM: &str = "final_grad_norm";
    pub const FINAL_LR: &str = "final_lr";
    pub const SHARPNESS: &str = "sharpness";
    pub const HESSIAN_MIN_EIG: &str = "hessian_min_eig";
    pub const HESSIAN_TRACE: &str = "hessian_trace";
    /// Standard error of the Hutchinson estimate of `hessian_trace` above the
    /// dense limit; null where the trace is exact (dense).
    pub const HESSIAN_TRACE_STDERR: &str = "hessian_trace_stderr";
    /// Which method produced the curvature columns (`dense`, `lanczos`).
    pub const CURVATURE_METHOD: &str = "curvature_method";
    pub const DIVERGED: &str = "diverged";
    pub const STEPS_RUN: &str = "steps_run";
    pub const BASIN: &str = "basin";
    pub const DISTANCE_TO_MIN: &str = "distance_to_min";
    pub const ENERGY_GAP: &str = "energy_gap";
    /// The final point, for landscapes of dimension <= 2 or with
    /// `trace_positions = true` (list of f64).
    pub const FINAL_POSITION: &str = "final_position";
    /// The lowest loss met during the run (at any x_t or the final point).
    pub const BEST_LOSS: &str = "best_loss";
    /// The step of `best_loss` (the number of updates before that point).
    pub const BEST_STEP: &str = "best_step";
    /// `best_loss` minus the best known value of the landscape.
    pub const BEST_ENERGY_GAP: &str = "best_energy_gap";
    /// The point of `best_loss` (list of f64), where positions are traced or
    /// the landscape keeps it (protein_ab: the best conformation's angles).
    pub const BEST_POSITION: &str = "best_position";
    /// Updates whose gradient was clipped (null without clipping).
    pub const CLIPPED_STEPS: &str = "clipped_steps";
    /// Updates skipped for a non-finite low-precision gradient (null without
    /// `grad_dtype`).
    pub const SKIPPED_STEPS: &str = "skipped_steps";
    /// The first update from which every update rounded away in storage, to
    /// the end of the run (null if none, or with f64 parameters).
    pub const STALLED_AT: &str = "stalled_at";
}

/// `trace.parquet`: one row per traced step; row t describes update t.
pub mod trace {
    pub const RUN_ID: &str = "run_id";
    pub const STEP: &str = "step";
    pub const LR: &str = "lr";
    pub const MOMENTUM: &str = "momentum";
    /// f(x_t).
    pub const LOSS: &str = "loss";
    /// ||g_t||, the (noisy) gradient the update used.
    pub const GRAD_NORM: &str = "grad_norm";
    /// ||x_(t+1) - x_t||.
    pub const UPDATE_NORM: &str = "update_norm";
    /// cos(g_(t-1), g_t); null at t = 0.
    pub const GRAD_COSINE: &str = "grad_cosine";
    /// update_norm / (lr_t·grad_norm): 1 for plain SGD; Adam's effective
    /// step relative to SGD's (claim C6).
    pub const EFFECTIVE_STEP: &str = "effective_step";
    /// Decoupled weight-decay shrink factor 1 - lr_t·wd_t (null where none).
    pub const SHRINK: &str = "shrink";
    /// Largest Hessian eigenvalue at x_t on rows where `hessian_every` asks.
    pub const SHARPNESS: &str = "sharpness";
    /// Loss on the minibatch update t used (minibatch noise; null otherwise).
    pub const BATCH_LOSS: &str = "batch_loss";
    /// x_t (list of f64) where positions are traced.
    pub const POSITION: &str = "position";
    /// The known minimum nearest to x_t (Euclidean), where positions are
    /// traced and minima known. (runs.parquet's `basin` is the basin of
    /// attraction of the final point, by descent.)
    pub const BASIN: &str = "basin";
    /// ‖g‖ after the noise and before clipping (null without clipping).
    pub const PRECLIP_NORM: &str = "preclip_norm";
    /// Whether clipping changed the gradient of this update (null without
    /// clipping).
    pub const CLIPPED: &str = "clipped";
    /// The loss scale the update's gradient was computed with (null without
    /// `grad_dtype`).
    pub const LOSS_SCALE: &str = "loss_scale";
    /// Whether the update was skipped for a non-finite gradient (null
    /// without `grad_dtype`).
    pub const SKIPPED: &str = "skipped";
    /// Fraction of coordinates whose update rounded away in storage (null
    /// with f64 parameters).
    pub const UPDATE_UNDERFLOW: &str = "update_underflow";
    /// The lr of each parameter group, in the order of `groups` (list of
    /// f64; null without groups). `lr` stays the run schedule's lr.
    pub const GROUP_LR: &str = "group_lr";
}
