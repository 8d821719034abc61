//! Stage 5 of a step, the observers: the divergence check on the oracle's
//! value, the trace row (norms, cosine, effective step, sharpness every
//! `hessian_every` steps, positions and the nearest known minimum), and the
//! run's row of results when it ends.
//!
//! A run diverges when the loss exceeds `diverge_factor`·max(1, |f(x₀)|), or
//! the loss or gradient is not finite; it stops there and is kept with
//! `diverged = true`.
//!
//! Nothing here allocates per step, except a sharpness row's curvature
//! (every `hessian_every` steps), whose dense eigen-solver or Lanczos
//! allocates its own workspace, and a full chunk of a streamed trace, which
//! is handed to its [`ChunkWriter`] (see [`super::trace`]).

use super::trace::{chunk_rows, ChunkWriter, TraceColumns, TraceRow, TraceSpill};
use super::update::{Hyper, Update};
use super::{Prepared, RunResult, RunRow, RunState};
use crate::config::plan::Settings;
use crate::config::{Plan, RunSpec};
use crate::curvature;
use crate::landscape::{KnownPoint, Landscape};
use crate::rng::{rng_for, RunRng, Stream};
use crate::vecmath::{all_finite, distance, dot, norm};

/// Watches one run.
pub struct Observer<'a> {
    settings: &'a Settings,
    minima: &'a [KnownPoint],
    rng_curvature: RunRng,
    pub trace: TraceColumns,
    /// Coordinates per traced position (0: positions not traced).
    pub position_dim: usize,
    /// Rows held before a chunk is streamed (`usize::MAX`: not streamed).
    chunk_rows: usize,
    /// Where a streamed trace goes.
    chunks: Option<Box<dyn ChunkWriter>>,
    /// Why streaming failed (the run stops there).
    spill_error: Option<String>,
    threshold: f64,
    initial_loss: f64,
    min_loss: f64,
    lr: f64,
    diverged_at: Option<u64>,
    best_loss: f64,
    best_step: u64,
    /// Where `best_loss` was met, when kept (else empty).
    best_x: Vec<f64>,
    clipped_steps: Option<u64>,
    skipped_steps: Option<u64>,
    /// Whether storage rounds (so updates can round away).
    rounds: bool,
    /// A game's f has no lower bound worth descending to: |f| is checked
    /// against the threshold.
    two_sided: bool,
    /// The first update of the current run of updates that all rounded away.
    stall_from: Option<u64>,
}

impl<'a> Observer<'a> {
    pub fn new(
        plan: &'a Plan,
        prepared: &'a Prepared,
        spec: &RunSpec,
        f: &dyn Landscape,
        lr0: f64,
        groups: usize,
        spill: Option<&dyn TraceSpill>,
    ) -> Self {
        let settings = &plan.settings;
        let dim = f.dim();
        let minima = &prepared.minima[spec.landscape];
        let position_dim = if plan.settings.traces_positions(dim) {
            dim
        } else {
            0
        };
        let labels = if position_dim > 0 {
            minima.iter().map(|m| m.label.clone()).collect()
        } else {
            Vec::new()
        };
        let rows = usize::try_from(plan.trace_rows_per_run())
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        let chunk = chunk_rows(position_dim, groups);
        let (chunks, spill_error) = match spill {
            Some(s) if rows > chunk => match s.open(&spec.run_id, spec.index, position_dim) {
                Ok(w) => (Some(w), None),
                Err(e) => (None, Some(e.to_string())),
            },
            _ => (None, None),
        };
        let streamed = chunks.is_some() || spill_error.is_some();
        Self {
            settings,
            minima,
            rng_curvature: rng_for(settings.seed, &spec.run_id, Stream::Curvature),
            trace: TraceColumns::with_capacity(
                if streamed { chunk } else { rows },
                position_dim,
                labels,
            )
            .with_groups(groups),
            position_dim,
            chunk_rows: if streamed { chunk } else { usize::MAX },
            chunks,
            spill_error,
            threshold: f64::INFINITY,
            initial_loss: f64::NAN,
            min_loss: f64::INFINITY,
            lr: lr0,
            diverged_at: None,
            best_loss: f64::INFINITY,
            best_step: 0,
            best_x: if position_dim > 0 || f.keeps_best_point() {
                vec![f64::NAN; dim]
            } else {
                Vec::new()
            },
            clipped_steps: plan.optimizers[spec.optimizer]
                .clip
                .is_active()
                .then_some(0),
            skipped_steps: plan.optimizers[spec.optimizer]
                .precision
                .grad_dtype
                .map(|_| 0),
            rounds: plan.optimizers[spec.optimizer]
                .precision
                .rounds_parameters(),
            stall_from: None,
            two_sided: f.players().is_some(),
        }
    }

    /// Whether a loss stays within the divergence threshold (for a game,
    /// |loss| does).
    fn within(&self, loss: f64) -> bool {
        let l = if self.two_sided { loss.abs() } else { loss };
        l.is_finite() && l <= self.threshold
    }

    /// Under minibatch noise, whether update `t` needs the full-data loss,
    /// given its minibatch's loss and gradient: on traced steps (and the
    /// first), and where the batch loss or gradient would fail the
    /// divergence check. Elsewhere the run's `min_loss` and `best_loss` do
    /// not see the step, and a divergence is caught at the first step whose
    /// batch or traced full loss shows it.
    pub fn wants_loss(&self, t: u64, batch_loss: f64, g: &[f64]) -> bool {
        t == 0
            || self.settings.traced(t)
            || !(batch_loss.is_finite() && batch_loss <= self.threshold)
            || !all_finite(g)
    }

    /// Sees the oracle's value (`None` where a minibatch step did not ask
    /// for the full-data loss, [`Self::wants_loss`]) and gradient at the
    /// start of update `t`; returns whether the run diverged there (its row
    /// is then traced).
    pub fn diverged(
        &mut self,
        t: u64,
        loss: Option<f64>,
        hyper: &Hyper,
        update: &Update,
        run: &RunState,
    ) -> bool {
        self.lr = hyper.params.lr;
        if let Some(loss) = loss {
            if t == 0 {
                self.initial_loss = loss;
                self.threshold = self.settings.diverge_factor * loss.abs().max(1.0);
            }
            self.min_loss = self.min_loss.min(loss);
            self.see_best(t, loss, &run.x);
        }
        let loss_ok = loss.is_none_or(|l| self.within(l));
        if loss_ok && all_finite(&run.g) {
            return false;
        }
        let loss = loss.unwrap_or(f64::NAN);
        self.diverged_at = Some(t);
        self.make_room();
        self.trace.push(TraceRow {
            step: t,
            lr: hyper.params.lr,
            momentum: hyper.momentum,
            loss,
            grad_norm: norm(&run.g),
            update_norm: None,
            grad_cosine: None,
            effective_step: None,
            shrink: None,
            sharpness: None,
            batch_loss: None,
            preclip_norm: None,
            clipped: None,
            loss_scale: None,
            skipped: None,
            update_underflow: None,
        });
        update.push_group_lrs(t, hyper, &mut self.trace.group_lr);
        self.push_position(&run.x);
        true
    }

    /// Keeps the lowest loss met so far, its step and (where kept) point.
    fn see_best(&mut self, t: u64, loss: f64, x: &[f64]) {
        if loss < self.best_loss {
            self.best_loss = loss;
            self.best_step = t;
            if !self.best_x.is_empty() {
                self.best_x.copy_from_slice(x);
            }
        }
    }

    /// Before update `t`: the position of a traced row.
    pub fn before_update(&mut self, t: u64, x: &[f64]) {
        if self.settings.traced(t) {
            self.make_room();
            self.push_position(x);
        }
    }

    /// Before a row is pushed: streams a full chunk and clears it.
    fn make_room(&mut self) {
        if self.trace.len() < self.chunk_rows {
            return;
        }
        if let Some(w) = self.chunks.as_mut() {
            if let Err(e) = w.write(&self.trace) {
                self.spill_error = Some(e.to_string());
                self.chunks = None;
            }
        }
        self.trace.clear();
    }

    /// Whether the run must stop because its trace cannot be streamed.
    pub fn failed(&self) -> bool {
        self.spill_error.is_some()
    }

    fn push_position(&mut self, x: &[f64]) {
        if self.position_dim == 0 {
            return;
        }
        self.trace.position.extend_from_slice(x);
        let nearest = self
            .minima
            .iter()
            .enumerate()
            .map(|(i, m)| (i, distance(&m.x, x)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .filter(|(_, d)| d.is_finite())
            .map(|(i, _)| i as u32);
        self.trace.basin.push(nearest);
    }

    /// After update `t`: its trace row. `run.g` is the transformed gradient
    /// of update t, `run.g_prev` that of update t − 1. `loss` is the
    /// oracle's, known on every traced step.
    pub fn after_update(
        &mut self,
        t: u64,
        loss: Option<f64>,
        hyper: &Hyper,
        update: &Update,
        f: &dyn Landscape,
        run: &RunState,
    ) {
        let step = run.grad_step;
        let clipped = step.clipped;
        if let (Some(n), Some(c)) = (self.clipped_steps.as_mut(), clipped) {
            *n += u64::from(c.fired);
        }
        if let Some(n) = self.skipped_steps.as_mut() {
            *n += u64::from(step.skipped);
        }
        let dim = run.x.len();
        if self.rounds {
            if run.underflow == Some(dim) {
                self.stall_from.get_or_insert(t);
            } else {
                self.stall_from = None;
            }
        }
        if !self.settings.traced(t) {
            return;
        }
        let grad_norm = norm(&run.g);
        let prev_norm = norm(&run.g_prev);
        let grad_cosine = (t > 0 && grad_norm > 0.0 && prev_norm > 0.0)
            .then(|| dot(&run.g, &run.g_prev) / (grad_norm * prev_norm));
        let update_norm = distance(&run.x, &run.x_prev);
        let sgd_step = hyper.params.lr * grad_norm;
        let sharpness = self
            .settings
            .sharpness_at(t)
            .then(|| curvature::sharpness(f, &run.x_prev, &mut self.rng_curvature))
            .flatten();
        self.trace.push(TraceRow {
            step: t,
            lr: hyper.params.lr,
            momentum: hyper.momentum,
            loss: loss.unwrap_or(f64::NAN),
            grad_norm,
            update_norm: Some(update_norm),
            grad_cosine,
            effective_step: (sgd_step > 0.0).then(|| update_norm / sgd_step),
            shrink: update.optimizer().decoupled_shrink(&hyper.params),
            sharpness,
            batch_loss: run.grad_step.batch_loss,
            preclip_norm: clipped.map(|c| c.norm),
            clipped: clipped.map(|c| c.fired),
            loss_scale: step.loss_scale,
            skipped: self.skipped_steps.map(|_| step.skipped),
            update_underflow: self
                .rounds
                .then(|| run.underflow.unwrap_or(0) as f64 / dim as f64),
        });
        update.push_group_lrs(t, hyper, &mut self.trace.group_lr);
    }

    /// The run's row of results, at its last point `run.x`.
    pub fn finish(mut self, f: &dyn Landscape, run: &mut RunState, spec: &RunSpec) -> RunResult {
        let settings = self.settings;
        let (final_loss, final_grad_norm) = if self.diverged_at.is_some() {
            (*self.trace.loss.last().unwrap_or(&f64::NAN), f64::NAN)
        } else {
            let loss = f.value_and_gradient(&run.x, &mut run.g);
            (loss, norm(&run.g))
        };
        let diverged = self.diverged_at.is_some() || !self.within(final_loss);
        if final_loss.is_finite() {
            self.min_loss = self.min_loss.min(final_loss);
            if self.diverged_at.is_none() {
                self.see_best(settings.steps, final_loss, &run.x);
            }
        }
        let x = &run.x;
        let curvature = (!diverged && settings.hessian)
            .then(|| curvature::curvature(f, x, &mut self.rng_curvature))
            .flatten();
        let basin = (!diverged).then(|| f.basin(x)).flatten();
        let energy_gap = (!diverged)
            .then(|| f.best_known_value().map(|best| final_loss - best))
            .flatten();
        let row = RunRow {
            index: spec.index,
            run_id: spec.run_id.clone(),
            seed: spec.seed,
            dim: x.len(),
            initial_loss: self.initial_loss,
            final_loss,
            min_loss: self.min_loss,
            final_grad_norm,
            final_lr: self.lr,
            curvature,
            diverged,
            steps_run: self.diverged_at.unwrap_or(settings.steps),
            basin,
            energy_gap,
            final_position: (self.position_dim > 0).then(|| x.clone()),
            best_loss: self.best_loss,
            best_step: self.best_step,
            best_energy_gap: f
                .best_known_value()
                .filter(|_| self.best_loss.is_finite())
                .map(|best| self.best_loss - best),
            best_position: (!self.best_x.is_empty() && self.best_loss.is_finite())
                .then_some(self.best_x),
            clipped_steps: self.clipped_steps,
            skipped_steps: self.skipped_steps,
            stalled_at: self.stall_from,
            spectral_radius: None,
            cycle_spectral_radius: None,
        };
        let spilled = match (self.chunks.take(), self.spill_error.take()) {
            (_, Some(e)) => Some(Err(e)),
            (Some(mut w), None) => {
                let last = if self.trace.is_empty() {
                    Ok(())
                } else {
                    w.write(&self.trace)
                };
                self.trace.clear();
                Some(last.and_then(|()| w.finish()).map_err(|e| e.to_string()))
            }
            (None, None) => None,
        };
        RunResult {
            row,
            trace: self.trace,
            position_dim: self.position_dim,
            spilled,
        }
    }
}
