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
    /// Games: the spectral radius of the linearised one-step update map.
    pub const SPECTRAL_RADIUS: &str = "spectral_radius";
    /// Games: the spectral radius of the product map over one lr cycle.
    pub const CYCLE_SPECTRAL_RADIUS: &str = "cycle_spectral_radius";

    /// Every column with its type and unit, and its meaning (printed by
    /// `valley reference`). Sweep-axis columns, named by their path, come on
    /// top.
    pub const COLUMNS: &[(&str, &str, &str)] = &[
        (RUN_ID, "string", "hash of the run's resolved parameters (FNV-1a 64 of their canonical JSON, hex): the same parameters give the same id on every machine"),
        (RUN_INDEX, "int", "position of the run in the plan (grid order)"),
        (LANDSCAPE, "string", "the landscape table's label (`name`, default its kind)"),
        (OPTIMIZER, "string", "the optimizer table's label"),
        (SCHEDULE, "string", "the schedule table's label"),
        (LANDSCAPE_KIND, "string", "the landscape's `kind`"),
        (OPTIMIZER_KIND, "string", "the optimizer's `kind`"),
        (SCHEDULE_KIND, "string", "the schedule's `kind`"),
        (NOISE, "string", "the noise model's `kind`"),
        (DIM, "int", "number of coordinates of the landscape"),
        (SEED, "int", "the replicate's seed"),
        (INITIAL_LOSS, "float, loss units", "f(x_0); null if not finite"),
        (FINAL_LOSS, "float, loss units", "f at the last point reached"),
        (MIN_LOSS, "float, loss units", "smallest loss seen at the steps of the run (minibatch noise: at the traced steps and the final point, the only ones where the full-data loss is computed); null if not finite"),
        (FINAL_GRAD_NORM, "float, loss per coordinate unit", "norm of the exact gradient at the final point; null if not finite"),
        (FINAL_LR, "float", "the lr of the last update"),
        (SHARPNESS, "float, loss per coordinate unit squared", "largest Hessian eigenvalue at the final point; null without curvature (`hessian = false`, diverged)"),
        (HESSIAN_MIN_EIG, "float, loss per coordinate unit squared", "smallest Hessian eigenvalue at the final point"),
        (HESSIAN_TRACE, "float, loss per coordinate unit squared", "trace of the Hessian at the final point"),
        (HESSIAN_TRACE_STDERR, "float, as hessian_trace", "standard error of the Hutchinson estimate of `hessian_trace` above the dense limit; null where the trace is exact (dense)"),
        (CURVATURE_METHOD, "string", "how the curvature columns were computed: `dense` or `lanczos`"),
        (DIVERGED, "bool", "the run stopped because loss > diverge_factor·max(1, |initial loss|) or a value was not finite"),
        (STEPS_RUN, "int", "updates taken (less than `steps` when diverged)"),
        (BASIN, "string", "label of the known minimum whose basin holds the final point (landscapes with known minima; null otherwise or when diverged)"),
        (DISTANCE_TO_MIN, "float, coordinate units", "Euclidean distance from the final point to that minimum; null with `basin`"),
        (ENERGY_GAP, "float, loss units", "final loss minus the best known minimum's value, where one is known; null when diverged"),
        (FINAL_POSITION, "list of float, coordinate units", "the final point, for landscapes of dimension <= 2 or with `trace_positions = true`"),
        (BEST_LOSS, "float, loss units", "the lowest loss met during the run (at any x_t or the final point; minibatch noise: at the traced x_t or the final point); null if not finite"),
        (BEST_STEP, "int", "the step of `best_loss`: the number of updates before that point"),
        (BEST_ENERGY_GAP, "float, loss units", "`best_loss` minus the best known value of the landscape, where one is known"),
        (BEST_POSITION, "list of float, coordinate units", "the point of `best_loss`, where positions are traced or the landscape keeps it (protein_ab: the best conformation's angles)"),
        (CLIPPED_STEPS, "int", "updates whose gradient was clipped; null without clipping"),
        (SKIPPED_STEPS, "int", "updates skipped for a non-finite low-precision gradient (loss scaling); null without `grad_dtype`"),
        (STALLED_AT, "int", "the first update from which every update rounded away in storage, to the end of the run; null if none or with f64 parameters"),
        (SPECTRAL_RADIUS, "float", "games (two players) stepped by SGD (PyTorch's momentum form; momentum, dampening, Nesterov and a fixed weight decay included): the spectral radius of the one-step update map linearised at the equilibrium (exact Jacobian of F; exact on a bilinear game), at the lrs and momenta of update 0; below 1: locally convergent. Null otherwise (Adam, RMSprop, classic momentum, lr-compensated weight decay, a schedule that reads the loss)"),
        (CYCLE_SPECTRAL_RADIUS, "float", "as `spectral_radius`, of the product of the update maps over one full cycle of periodic lrs (the lcm of the players' schedule periods: constant 1, triangular cyclic its cycle); below 1: stable over a cycle. Null where an lr is not periodic"),
    ];
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

    /// Every column with its type and unit, and its meaning (printed by
    /// `valley reference`).
    pub const COLUMNS: &[(&str, &str, &str)] = &[
        (RUN_ID, "string", "the run (see runs.parquet)"),
        (STEP, "int", "t, the index of the update this row describes (every `trace_every` steps and the last step)"),
        (LR, "float", "the learning rate update t used"),
        (MOMENTUM, "float", "the momentum (SGD momentum, Adam beta1) update t used; null where the optimizer has none"),
        (LOSS, "float, loss units", "f(x_t), at the point update t starts from"),
        (GRAD_NORM, "float, loss per coordinate unit", "||g_t||, the gradient update t used (after noise and clipping)"),
        (UPDATE_NORM, "float, coordinate units", "||x_(t+1) - x_t||"),
        (GRAD_COSINE, "float, in [-1, 1]", "cosine between the gradients of updates t-1 and t; null at t = 0"),
        (EFFECTIVE_STEP, "float, dimensionless", "update_norm / (lr_t·grad_norm): 1 for plain SGD (claim C6)"),
        (SHRINK, "float, dimensionless", "decoupled weight-decay shrink factor 1 - lr_t·wd_t; null where weight decay is not decoupled"),
        (SHARPNESS, "float, loss per coordinate unit squared", "largest Hessian eigenvalue at x_t, on rows where `hessian_every` asks; null elsewhere"),
        (POSITION, "list of float, coordinate units", "x_t, where positions are traced"),
        (BASIN, "string", "the known minimum nearest to x_t (Euclidean), where positions are traced and minima known (runs.parquet's `basin` is the basin of attraction of the final point, by descent)"),
        (PRECLIP_NORM, "float, loss per coordinate unit", "||g|| after the noise and before clipping; null without clipping"),
        (CLIPPED, "bool", "whether clipping changed the gradient of this update; null without clipping"),
        (BATCH_LOSS, "float, loss units", "loss on the minibatch update t used (minibatch noise); null otherwise"),
        (LOSS_SCALE, "float", "the loss scale update t's gradient was computed with; null without `grad_dtype`"),
        (SKIPPED, "bool", "whether update t was skipped for a non-finite gradient; null without `grad_dtype`"),
        (UPDATE_UNDERFLOW, "float, fraction", "fraction of coordinates whose update rounded away in storage; null with f64 parameters"),
        (GROUP_LR, "list of float", "the lr of each parameter group, in the order of `groups`; null without groups"),
    ];
}
