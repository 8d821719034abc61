//! Runs: one optimizer trajectory per [`RunSpec`], in parallel over runs on
//! a rayon pool, handed to a sink (the Parquet writer) in small batches as
//! they finish ([`execute_batches`]).
//!
//! A step is a chain of stages, each in a file of its own, in the manner of
//! optax's `chain(...)`:
//!
//! 1. the oracle: the landscape's value and gradient at x_t;
//!    With `compute_dtype` it is evaluated at a copy of x_t rounded to that
//!    type (mixed precision). Under minibatch noise it computes only the
//!    minibatch's gradient, and the full-data loss only on traced steps and
//!    where the batch loss or gradient looks divergent ([`Observer::wants_loss`]);
//! 2. [`gradient`]: the gradient transforms (low precision with a loss
//!    scale, noise, clipping); a non-finite low-precision gradient skips
//!    the update;
//! 3. [`update`]: the optimizer step, with lr and momentum from the schedule,
//!    per parameter group where there are groups; for two players
//!    ([`game`]) stages 2 and 3 are the game's update rule, which applies
//!    them per player and calls the oracle again where its method needs;
//! 4. [`storage`]: how the parameters are stored after the update
//!    (`param_dtype`);
//! 5. [`observe`]: the divergence check, the trace row, the run's results.
//!
//! Row t of the trace describes update t: the lr and momentum it used, the
//! loss and the norm of the (transformed) gradient at x_t, the update norm
//! ||x_(t+1) − x_t|| and the cosine between the gradients of updates t−1 and
//! t. Every buffer of a run is allocated before its first step.

pub mod game;
#[cfg(test)]
mod game_tests;
pub mod gradient;
pub mod observe;
#[cfg(test)]
mod plateau_tests;
#[cfg(test)]
mod precision_tests;
#[cfg(test)]
mod schedulefree_tests;
pub mod storage;
pub mod trace;
pub mod update;

pub use trace::{ChunkWriter, SpilledTrace, TraceColumns, TraceRow, TraceSpill};

use crate::config::{Plan, RunSpec, Runs};
use crate::curvature::Curvature;
use crate::landscape::{Basin, KnownPoint, Landscape};
use crate::optimizer::noise::NoiseStep;
use crate::optimizer::precision::Dtype;
use crate::optimizer::OptState;
use crate::rng::{rng_for, RunRng, Stream};
use crate::schedule::plateau::LossFeed;
use game::GameRule;
use gradient::{GradStep, GradientTransforms};
use observe::Observer;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use storage::Storage;
use update::Update;

/// Per-run results (one row of `runs.parquet`).
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub index: usize,
    pub run_id: String,
    pub seed: u64,
    pub dim: usize,
    pub initial_loss: f64,
    pub final_loss: f64,
    pub min_loss: f64,
    pub final_grad_norm: f64,
    pub final_lr: f64,
    pub curvature: Option<Curvature>,
    pub diverged: bool,
    pub steps_run: u64,
    pub basin: Option<Basin>,
    pub energy_gap: Option<f64>,
    pub final_position: Option<Vec<f64>>,
    /// The lowest loss met (at any x_t or the final point), its step (the
    /// number of updates before it) and its gap to the best known value.
    pub best_loss: f64,
    pub best_step: u64,
    pub best_energy_gap: Option<f64>,
    /// The point of `best_loss`, where positions are traced or the landscape
    /// asks for it (protein conformations).
    pub best_position: Option<Vec<f64>>,
    /// Updates whose gradient was clipped; `None` without clipping.
    pub clipped_steps: Option<u64>,
    /// Updates skipped for a non-finite low-precision gradient; `None`
    /// without `grad_dtype`.
    pub skipped_steps: Option<u64>,
    /// The first update from which every update rounded away in storage
    /// (none skipped), to the end of the run; `None` if there is none or the
    /// parameters are stored in f64.
    pub stalled_at: Option<u64>,
    /// Games under SGD: the spectral radius of the update map
    /// linearised at the equilibrium, at the lrs of update 0, and of the
    /// product of the maps over one cycle of periodic lrs
    /// ([`game::linearisation`]).
    pub spectral_radius: Option<f64>,
    pub cycle_spectral_radius: Option<f64>,
}

/// One finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    pub row: RunRow,
    /// The trace rows held in memory (empty when the trace was streamed).
    pub trace: TraceColumns,
    /// Dimension of each traced position (0 when positions are not traced).
    pub position_dim: usize,
    /// Where a streamed trace was written, or why streaming failed; `None`
    /// when the trace is in `trace`.
    pub spilled: Option<std::result::Result<SpilledTrace, String>>,
}

/// What every run of a plan shares: the built landscapes and their known
/// minima.
pub struct Prepared {
    pub landscapes: Vec<Box<dyn Landscape>>,
    pub minima: Vec<Vec<KnownPoint>>,
}

impl Prepared {
    pub fn new(plan: &Plan) -> Self {
        let landscapes: Vec<Box<dyn Landscape>> = (0..plan.landscapes.len())
            .map(|li| {
                let mut rng = rng_for(
                    plan.settings.seed,
                    &plan.landscape_key(li),
                    Stream::Landscape,
                );
                plan.landscapes[li].kind.spec().build(&mut rng)
            })
            .collect();
        let minima = landscapes.iter().map(|f| f.minima()).collect();
        Self { landscapes, minima }
    }
}

/// The buffers and generators of one run, allocated and seeded before its
/// first step.
pub struct RunState {
    /// x_t, and x_t before the last update.
    pub x: Vec<f64>,
    pub x_prev: Vec<f64>,
    /// The transformed gradients of this update and of the previous one.
    pub g: Vec<f64>,
    pub g_prev: Vec<f64>,
    pub scratch: Vec<f64>,
    pub optimizer: OptState,
    /// One state per group segment (empty without groups).
    pub group_states: Vec<OptState>,
    /// With `compute_dtype`: where the oracle evaluates, x_t rounded to it
    /// (empty otherwise).
    pub x_eval: Vec<f64>,
    /// Draws the gradient noise. Keyed by (landscape, seed), not by run, so
    /// runs that differ only in optimizer or schedule share their initial
    /// point and noise (common random numbers).
    pub rng_noise: RunRng,
    /// What the gradient transforms did to this update's gradient.
    pub grad_step: GradStep,
    /// Coordinates of this update that rounded away in storage (`None` in
    /// f64 or on a skipped step).
    pub underflow: Option<usize>,
    /// The loss at x_t and the state of a schedule that reads it (plateau).
    pub loss_feed: LossFeed,
    /// Where the optimizer evaluates the model at a point of its own
    /// (schedule-free's x): that point (empty otherwise).
    pub x_model: Vec<f64>,
}

impl RunState {
    fn new(
        plan: &Plan,
        spec: &RunSpec,
        dim: usize,
        update: &Update,
        compute: Option<Dtype>,
    ) -> Self {
        let seed = plan.settings.seed;
        let replicate = plan.replicate_key(spec.landscape, spec.seed);
        let mut x = vec![0.0; dim];
        plan.landscapes[spec.landscape].init.start(
            spec.seed,
            &mut rng_for(seed, &replicate, Stream::Init),
            &mut x,
        );
        Self {
            x,
            x_prev: vec![0.0; dim],
            g: vec![0.0; dim],
            g_prev: vec![0.0; dim],
            scratch: vec![0.0; dim],
            optimizer: update.init_state(dim),
            group_states: update.init_group_states(),
            x_eval: if compute.is_some() {
                vec![0.0; dim]
            } else {
                Vec::new()
            },
            rng_noise: rng_for(seed, &replicate, Stream::Noise),
            grad_step: GradStep::default(),
            underflow: None,
            loss_feed: LossFeed::default(),
            x_model: if update.has_eval_point() {
                vec![0.0; dim]
            } else {
                Vec::new()
            },
        }
    }

    /// For an optimizer that evaluates the model at a point of its own
    /// (schedule-free's x, as `optimizer.eval()`): the loss there in place
    /// of `loss` (the loss at the parameters, where the gradient was
    /// taken); `None` stays `None` (no loss asked for this step).
    fn model_loss(&mut self, f: &dyn Landscape, update: &Update, loss: Option<f64>) -> Option<f64> {
        if self.x_model.is_empty() || loss.is_none() {
            return loss;
        }
        if update.eval_point_into(&self.optimizer, &self.group_states, &mut self.x_model) {
            // `value_and_gradient`, not `value`: the step loop's oracle,
            // which never allocates (a rotated quadratic's `value` does).
            Some(f.value_and_gradient(&self.x_model, &mut self.scratch))
        } else {
            loss
        }
    }

    /// At the end of a run, moves the parameters to the optimizer's
    /// evaluation point (schedule-free's x), so that the final loss,
    /// position and curvature are the model's.
    fn move_to_model(&mut self, update: &Update) {
        if !self.x_model.is_empty()
            && update.eval_point_into(&self.optimizer, &self.group_states, &mut self.x_model)
        {
            self.x.copy_from_slice(&self.x_model);
        }
    }

    /// The oracle at x_t, or at x_t rounded to `compute` into `x_eval`:
    /// the loss and gradient there. Where the noise model is the gradient
    /// source (minibatch noise) the gradient is its own (a minibatch's; the
    /// full-data gradient is never computed) and the full-data loss is
    /// computed only where `wants_loss(batch loss, batch gradient)` asks;
    /// `None` otherwise.
    fn evaluate(
        &mut self,
        f: &dyn Landscape,
        compute: Option<Dtype>,
        transforms: &mut GradientTransforms,
        at: NoiseStep,
        wants_loss: impl FnOnce(f64, &[f64]) -> bool,
    ) -> Option<f64> {
        let point = match compute {
            None => &self.x,
            Some(dt) => {
                for (e, &v) in self.x_eval.iter_mut().zip(&self.x) {
                    *e = dt.round(v);
                }
                &self.x_eval
            }
        };
        match transforms.source_gradient(&mut self.rng_noise, at, f, point, &mut self.g) {
            None => Some(f.field(point, &mut self.g)),
            Some(batch_loss) => wants_loss(batch_loss, &self.g).then(|| f.value(point)),
        }
    }
}

/// Runs one trajectory, its trace in memory.
pub fn run_one(plan: &Plan, prepared: &Prepared, spec: &RunSpec) -> RunResult {
    run_one_streamed(plan, prepared, spec, None)
}

/// Runs one trajectory; a trace longer than a chunk goes to `spill`.
pub fn run_one_streamed(
    plan: &Plan,
    prepared: &Prepared,
    spec: &RunSpec,
    spill: Option<&dyn TraceSpill>,
) -> RunResult {
    let f: &dyn Landscape = prepared.landscapes[spec.landscape].as_ref();
    let resolved = &plan.optimizers[spec.optimizer];
    let players = game::players_of(plan, spec, f);
    let update = Update::new(plan, spec, f.dim(), players.as_deref());
    let mut transforms = GradientTransforms::new(resolved, f);
    let compute = resolved.precision.compute_dtype;
    let mut run = RunState::new(plan, spec, f.dim(), &update, compute);
    let mut rule = players
        .clone()
        .map(|p| GameRule::new(plan, spec, p, f.dim(), &run.group_states));
    // Keyed like the noise by (landscape, seed): runs that differ only in
    // optimizer or schedule draw the same rounding uniforms.
    let replicate = plan.replicate_key(spec.landscape, spec.seed);
    let mut storage = Storage::new(
        &resolved.precision,
        rng_for(plan.settings.seed, &replicate, Stream::Rounding),
    );
    storage.store_initial(&mut run.x);
    let lr0 = update.at(0).params.lr;
    let mut observer = Observer::new(plan, prepared, spec, f, lr0, update.groups(), spill);

    for t in 0..plan.settings.steps {
        if observer.failed() {
            break;
        }
        // A schedule that reads the loss (plateau) sets update t's lr after
        // the loss at x_t; the oracle does not read the lr.
        let reads_loss = update.reads_loss();
        let mut hyper = update.at(t);
        let mut at = NoiseStep {
            t,
            lr: hyper.params.lr,
            lr0,
        };
        let loss = run.evaluate(f, compute, &mut transforms, at, |batch_loss, g| {
            reads_loss || observer.wants_loss(t, batch_loss, g)
        });
        let loss = run.model_loss(f, &update, loss);
        if reads_loss {
            run.loss_feed.loss = loss;
            hyper = update.at_in_run(t, &mut run.loss_feed);
            at.lr = hyper.params.lr;
        }
        if observer.diverged(t, loss, &hyper, &update, &run) {
            break;
        }
        let point = if run.x_eval.is_empty() {
            &run.x
        } else {
            &run.x_eval
        };
        observer.before_update(t, &run.x);
        run.x_prev.copy_from_slice(&run.x);
        run.underflow = None;
        match rule.as_mut() {
            Some(rule) => {
                run.grad_step = rule.step(t, &hyper, at, &update, &mut transforms, f, &mut run);
            }
            None => {
                run.grad_step = transforms.apply(
                    &mut run.rng_noise,
                    at,
                    f,
                    point,
                    &mut run.g,
                    &mut run.scratch,
                );
                if !run.grad_step.skipped {
                    update.apply(
                        t,
                        &hyper,
                        &mut run.x,
                        &run.g,
                        &mut run.optimizer,
                        &mut run.group_states,
                    );
                }
            }
        }
        if !run.grad_step.skipped {
            run.underflow = storage.store(&mut run.x, &run.x_prev);
        }
        observer.after_update(t, loss, &hyper, &update, f, &run);
        std::mem::swap(&mut run.g, &mut run.g_prev);
    }

    run.move_to_model(&update);
    let mut result = observer.finish(f, &mut run, spec);
    if let Some(players) = &players {
        (result.row.spectral_radius, result.row.cycle_spectral_radius) =
            game::linearisation(plan, spec, f, &update, players);
    }
    result
}

/// A list of runs to execute: some of a plan's runs by index ([`Runs`]),
/// or specs made by hand.
pub trait RunSource: Sync {
    fn count(&self) -> usize;
    /// The `k`-th run of the list.
    fn spec(&self, plan: &Plan, k: usize) -> RunSpec;
}

impl RunSource for Runs {
    fn count(&self) -> usize {
        self.len()
    }

    fn spec(&self, plan: &Plan, k: usize) -> RunSpec {
        plan.run(self.index(k))
    }
}

impl RunSource for [RunSpec] {
    fn count(&self) -> usize {
        self.len()
    }

    fn spec(&self, _: &Plan, k: usize) -> RunSpec {
        self[k].clone()
    }
}

/// A worker hands its finished runs over when it holds this many, or
/// [`BATCH_TRACE_ROWS`] trace rows in memory...
pub const BATCH_RUNS: usize = 256;
pub const BATCH_TRACE_ROWS: usize = 1 << 14;
/// ...or when the first of them started this long ago: short runs travel
/// in batches (one hand-off per batch, not per run), a run of this length
/// or longer travels at once.
pub const BATCH_AGE: Duration = Duration::from_millis(20);
/// Batches of finished runs waiting between the workers and the sink, per
/// worker.
pub const BATCHES_QUEUED: usize = 2;

/// Runs `runs` of `plan` on `threads` threads, handing each finished run to
/// `sink` (on the calling thread).
pub fn execute<E: Send + From<crate::error::ValleyError>>(
    plan: &Plan,
    runs: &(impl RunSource + ?Sized),
    threads: usize,
    mut sink: impl FnMut(RunResult) -> Result<(), E>,
) -> Result<(), E> {
    execute_batches(plan, runs, threads, None, |batch| {
        batch.into_iter().try_for_each(&mut sink)
    })
}

/// Runs `runs` of `plan` on `threads` workers and hands the finished runs
/// to `sink` (on the calling thread) in batches. Each worker takes the next
/// run of the list in turn, so runs finish nearly in list order, and keeps
/// what it finished until [`BATCH_RUNS`] or [`BATCH_AGE`]. A trace longer
/// than a chunk goes to `spill` while its run runs. An error of `sink`
/// stops the workers after their current run.
pub fn execute_batches<E: Send + From<crate::error::ValleyError>>(
    plan: &Plan,
    runs: &(impl RunSource + ?Sized),
    threads: usize,
    spill: Option<&dyn TraceSpill>,
    mut sink: impl FnMut(Vec<RunResult>) -> Result<(), E>,
) -> Result<(), E> {
    let prepared = Prepared::new(plan);
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool,
        Err(e) => {
            return Err(crate::error::ValleyError::Other(format!(
                "cannot start {threads} worker threads: {e}"
            ))
            .into())
        }
    };
    let workers = pool.current_num_threads().max(1);
    let work = Work {
        plan,
        prepared: &prepared,
        runs,
        spill,
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    };
    let (tx, rx) = mpsc::sync_channel::<Vec<RunResult>>(BATCHES_QUEUED * workers);
    std::thread::scope(|scope| {
        let work = &work;
        scope.spawn(move || {
            pool.scope(|s| {
                for _ in 0..workers {
                    let tx = tx.clone();
                    s.spawn(move |_| work.worker(tx));
                }
            });
        });
        for batch in rx {
            if let Err(e) = sink(batch) {
                work.stop.store(true, Ordering::Relaxed);
                return Err(e);
            }
        }
        Ok(())
    })
}

/// What the workers of [`execute_batches`] share.
struct Work<'a, R: RunSource + ?Sized> {
    plan: &'a Plan,
    prepared: &'a Prepared,
    runs: &'a R,
    spill: Option<&'a dyn TraceSpill>,
    /// The next run of the list to take.
    next: AtomicUsize,
    stop: AtomicBool,
}

impl<R: RunSource + ?Sized> Work<'_, R> {
    fn worker(&self, tx: mpsc::SyncSender<Vec<RunResult>>) {
        let mut batch = Vec::new();
        let mut rows = 0;
        let mut since = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            let k = self.next.fetch_add(1, Ordering::Relaxed);
            if k >= self.runs.count() {
                break;
            }
            if batch.is_empty() {
                since = Instant::now();
            }
            let spec = self.runs.spec(self.plan, k);
            let result = run_one_streamed(self.plan, self.prepared, &spec, self.spill);
            rows += result.trace.len();
            batch.push(result);
            if batch.len() >= BATCH_RUNS || rows >= BATCH_TRACE_ROWS || since.elapsed() >= BATCH_AGE
            {
                rows = 0;
                if tx.send(std::mem::take(&mut batch)).is_err() {
                    self.stop.store(true, Ordering::Relaxed);
                    return;
                }
            }
        }
        if !batch.is_empty() && tx.send(batch).is_err() {
            self.stop.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn plan(src: &str) -> Plan {
        Plan::from_source(Path::new("test.toml"), src).unwrap()
    }

    /// Mean of the traced loss over steps >= `burn_in`, over every run.
    fn stationary_loss(plan: &Plan, burn_in: u64) -> f64 {
        let (mut sum, mut n) = (0.0, 0usize);
        execute(plan, &plan.all_runs(), 2, |r| {
            assert!(!r.row.diverged);
            for (s, l) in r.trace.step.iter().zip(&r.trace.loss) {
                if *s >= burn_in {
                    sum += l;
                    n += 1;
                }
            }
            Ok::<(), crate::error::ValleyError>(())
        })
        .unwrap();
        sum / n as f64
    }

    fn noisy_quadratic(
        dim: usize,
        lambda: f64,
        lr: f64,
        momentum: f64,
        form: &str,
        sigma: f64,
    ) -> String {
        format!(
            r#"
name = "floor"
steps = 6000
seeds = 32
trace_every = 1
hessian = false
[[landscape]]
kind = "quadratic"
dim = {dim}
eigenvalues = {{ kind = "linear", min = {lambda}, max = {lambda} }}
init = {{ kind = "point", x = [{x0}] }}
[[optimizer]]
kind = "sgd"
momentum = {momentum}
momentum_form = "{form}"
noise = {{ kind = "gaussian", std = {sigma} }}
[[schedule]]
kind = "constant"
lr = {lr}
"#,
            x0 = vec!["0.0"; dim].join(", ")
        )
    }

    /// C9: SGD with constant lr on f = λx²/2 with gradient noise of variance
    /// σ² has stationary loss lr·σ²/(2(2 − lr·λ)) per coordinate; with
    /// momentum β, lr·σ²(1+β)/(2(1−β)(2(1+β) − lr·λ)). 32 seeds × 20
    /// independent coordinates × 5000 late steps: the estimate's relative
    /// standard error is below 1% (autocorrelation time ~1/(lr·λ(1−β))).
    #[test]
    fn sgd_noise_floor_matches_the_analytic_stationary_loss() {
        let (dim, lambda, lr, sigma) = (20, 1.0, 0.1, 1.0);
        for (beta, form) in [
            (0.0, "pytorch"),
            (0.9, "pytorch"),
            (0.9, "classic"),
            (0.5, "pytorch"),
        ] {
            let expected = dim as f64 * lr * sigma * sigma * (1.0 + beta)
                / (2.0 * (1.0 - beta) * (2.0 * (1.0 + beta) - lr * lambda));
            let got = stationary_loss(
                &plan(&noisy_quadratic(dim, lambda, lr, beta, form, sigma)),
                1000,
            );
            let rel = (got - expected).abs() / expected;
            eprintln!("noise floor beta={beta} form={form}: measured {got:.5}, analytic {expected:.5}, rel err {rel:.4}");
            assert!(
                rel < 0.03,
                "beta={beta} {form}: measured {got}, analytic {expected}"
            );
        }
    }

    /// SGLD at constant temperature T on f = λx²/2: x ← (1 − lr·λ)x −
    /// √(2·lr·T)·z has the exact stationary variance 2T/(λ(2 − lr·λ)) (→ T/λ
    /// as lr → 0), so the mean loss per coordinate is T/(2 − lr·λ). Measured
    /// over 32 seeds × 20 coordinates × 5000 late steps (relative standard
    /// error below 1%), for two step sizes and with `"with_lr"` (T0·lr/lr0 =
    /// T at constant lr).
    #[test]
    fn langevin_stationary_variance() {
        let (dim, lambda, temp) = (20, 1.0, 0.5);
        for (lr, noise) in [
            (
                0.1,
                format!("{{ kind = \"langevin\", temperature = {temp} }}"),
            ),
            (
                0.02,
                format!("{{ kind = \"langevin\", temperature = {temp} }}"),
            ),
            (
                0.1,
                format!("{{ kind = \"langevin\", temperature = \"with_lr\", T0 = {temp} }}"),
            ),
        ] {
            let src = noisy_quadratic(dim, lambda, lr, 0.0, "pytorch", 1.0).replace(
                "noise = { kind = \"gaussian\", std = 1 }",
                &format!("noise = {noise}"),
            );
            assert!(src.contains("langevin"), "{src}");
            let expected = dim as f64 * temp / (2.0 - lr * lambda);
            let got = stationary_loss(&plan(&src), 1000);
            let rel = (got - expected).abs() / expected;
            eprintln!("langevin lr={lr}: measured {got:.5}, exact {expected:.5}, rel err {rel:.4}");
            assert!(rel < 0.03, "lr {lr}: measured {got}, exact {expected}");
        }
    }

    /// Best-so-far on GD over f = x²/2 from x₀ = 1 with lr 0.5: x_t = 0.5^t,
    /// so the lowest loss is the final point's, 0.5·0.25^10 after 10 updates;
    /// with lr 1.5, x_t = (−0.5)^t: the same values.
    #[test]
    fn best_so_far_is_the_lowest_loss_met() {
        for lr in [0.5, 1.5] {
            let p = plan(&format!(
                "name = \"b\"\nsteps = 10\nhessian = false\n[[landscape]]\nkind = \"quadratic\"\ndim = 1\n\
                 eigenvalues = [1.0]\ninit = {{ kind = \"point\", x = [1.0] }}\n[[optimizer]]\nkind = \"sgd\"\n\
                 [[schedule]]\nkind = \"constant\"\nlr = {lr}\n"
            ));
            let r = run_one(&p, &Prepared::new(&p), &p.run(0));
            let expected = 0.5 * 0.25f64.powi(10);
            approx::assert_relative_eq!(r.row.best_loss, expected, max_relative = 1e-14);
            assert_eq!(r.row.best_step, 10);
            approx::assert_relative_eq!(
                r.row.best_energy_gap.unwrap(),
                expected,
                max_relative = 1e-14
            );
            assert_eq!(r.row.best_position.as_deref(), Some(&[0.5f64.powi(10)][..]));
        }
    }

    /// Decay lowers the floor (C9): a step decay to lr/10 ends near the floor
    /// of lr/10, ten times below the constant-lr floor.
    #[test]
    fn decay_lowers_the_noise_floor() {
        let constant = noisy_quadratic(20, 1.0, 0.1, 0.0, "pytorch", 1.0);
        let decayed = constant.replace(
            "kind = \"constant\"\nlr = 0.1",
            "kind = \"multistep\"\nlr = 0.1\nmilestones = [1000]\ngamma = 0.1",
        );
        let high = stationary_loss(&plan(&constant), 3000);
        let low = stationary_loss(&plan(&decayed), 3000);
        let expected_low = 20.0 * 0.01 / (2.0 * (2.0 - 0.01));
        assert!(
            (low - expected_low).abs() / expected_low < 0.05,
            "{low} vs {expected_low}"
        );
        assert!(high / low > 9.0, "{high} / {low}");
    }

    /// Without noise, lr·λ_max < 2(1+β) is the stability edge of heavy-ball
    /// momentum: 1% below it the run converges, 1% above it diverges.
    #[test]
    fn stability_edge_with_and_without_momentum() {
        for beta in [0.0, 0.9] {
            let edge = 2.0 * (1.0 + beta) / 10.0;
            for (factor, diverges) in [(0.99, false), (1.01, true)] {
                let src = format!(
                    "name = \"edge\"\nsteps = 20000\n[[landscape]]\nkind = \"quadratic\"\ndim = 3\neigenvalues = [0.5, 2.0, 10.0]\n\
                     [[optimizer]]\nkind = \"sgd\"\nmomentum = {beta}\n[[schedule]]\nkind = \"constant\"\nlr = {}\n",
                    edge * factor
                );
                let p = plan(&src);
                let r = run_one(&p, &Prepared::new(&p), &p.run(0));
                assert_eq!(
                    r.row.diverged,
                    diverges,
                    "beta {beta}, lr {}",
                    edge * factor
                );
            }
        }
    }

    /// Runs that differ only in schedule share their initial point and noise
    /// (common random numbers); different seeds do not.
    #[test]
    fn schedules_are_paired_by_seed() {
        let src = noisy_quadratic(3, 1.0, 0.1, 0.0, "pytorch", 1.0)
            .replace("seeds = 32", "seeds = 2")
            .replace("init = { kind = \"point\", x = [0.0, 0.0, 0.0] }", "")
            .replace("lr = 0.1", "lr = { sweep = [0.1, 0.05] }");
        let p = plan(&src);
        let prepared = Prepared::new(&p);
        let by = |i: usize| run_one(&p, &prepared, &p.run(i));
        let (a, b) = (by(0), by(2));
        assert_eq!(a.row.seed, b.row.seed);
        assert_ne!(a.row.run_id, b.row.run_id);
        assert_eq!(a.row.initial_loss, b.row.initial_loss);
        assert_eq!(a.trace.grad_norm[0], b.trace.grad_norm[0]);
        assert_ne!(by(1).row.initial_loss, a.row.initial_loss);
    }

    /// A sweep with each optimizer reproduces torch.optim (float64) over 60
    /// steps, under step decay and one-cycle (whose momentum cycling drives SGD's
    /// momentum and Adam's beta1): the sweep file is built from each golden case of
    /// tests/fixtures/optimizers/golden.json (scripts/golden_optimizers.py),
    /// and every traced lr, momentum and position must match to 1e-9
    /// relative. Only the non-chaotic landscape (the quadratic) is compared
    /// end to end; the Rastrigin cases are replayed step by step in
    /// optimizer::golden_tests.
    #[test]
    fn sweeps_reproduce_torch_optim_trajectories() {
        let text = include_str!("../../tests/fixtures/optimizers/golden.json");
        let golden: serde_json::Value = serde_json::from_str(text).unwrap();
        // The lr sequences of the golden script (StepLR; OneCycleLR defaults).
        let schedules = [
            (
                "step",
                "kind = \"step\"\nlr = 0.05\nstep_size = 20\ngamma = 0.5",
            ),
            (
                "onecycle",
                "kind = \"onecycle\"\nmax_lr = 0.05\ntotal_steps = 60",
            ),
        ];
        let mut compared = 0;
        for case in golden["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let Some((_, schedule)) = schedules
                .iter()
                .find(|(s, _)| name.starts_with(&format!("quadratic/{s}/")))
            else {
                continue;
            };
            let landscape: toml::Value = toml::Value::try_from(&case["landscape"]).unwrap();
            let optimizer: toml::Value = toml::Value::try_from(&case["optimizer"]).unwrap();
            let x0: Vec<f64> = serde_json::from_value(case["x0"].clone()).unwrap();
            let inline = |v: &toml::Value| {
                let t = v.as_table().unwrap();
                t.iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let src = format!(
                "name = \"parity\"\nsteps = 60\ntrace_every = 1\ntrace_positions = true\nhessian = false\n\
                 [[landscape]]\n{}\ninit = {{ kind = \"point\", x = {x0:?} }}\n\
                 [[optimizer]]\n{}\n[[schedule]]\n{schedule}\n",
                inline(&landscape),
                inline(&optimizer),
            );
            let p = plan(&src);
            let r = run_one(&p, &Prepared::new(&p), &p.run(0));
            let close =
                |a: f64, b: f64| approx::relative_eq!(a, b, epsilon = 1e-12, max_relative = 1e-9);
            let xs = case["x"].as_array().unwrap();
            let d = x0.len();
            for t in 0..60 {
                let lr = case["lr"][t].as_f64().unwrap();
                assert!(
                    close(r.trace.lr[t], lr),
                    "{name} lr at step {t}: {} vs {lr}",
                    r.trace.lr[t]
                );
                if case["cycles_momentum"].as_bool().unwrap() {
                    let m = case["momentum"][t].as_f64().unwrap();
                    assert!(
                        close(r.trace.momentum[t].unwrap(), m),
                        "{name} momentum at step {t}"
                    );
                }
                // x after update t is the position traced at row t + 1 (the
                // final position after the last update).
                let got: &[f64] = if t + 1 < 60 {
                    &r.trace.position[(t + 1) * d..(t + 2) * d]
                } else {
                    r.row.final_position.as_deref().unwrap()
                };
                for (i, (a, b)) in got.iter().zip(xs[t].as_array().unwrap()).enumerate() {
                    let b = b.as_f64().unwrap();
                    assert!(
                        close(*a, b),
                        "{name}: x[{i}] after update {t}: {a} vs torch {b}"
                    );
                }
            }
            compared += 1;
        }
        assert_eq!(
            compared,
            12 * schedules.len(),
            "every quadratic case was compared"
        );
    }

    /// Sharpness is recorded every `hessian_every` steps even when that is
    /// not a multiple of `trace_every`: steps 0..=100 traced every 10 and
    /// sharpness every 25 give rows at 0, 10, 20, 25, 30, 40, 50, 60, 70,
    /// 75, 80, 90, 100 (13 rows), sharpness at 0, 25, 50, 75, 100; the
    /// sharpness of the quadratic is its largest eigenvalue, 4.
    #[test]
    fn sharpness_rows_follow_hessian_every() {
        let p = plan(
            "name = \"h\"\nsteps = 101\ntrace_every = 10\nhessian_every = 25\n\
             [[landscape]]\nkind = \"quadratic\"\ndim = 2\neigenvalues = [1.0, 4.0]\n\
             [[optimizer]]\nkind = \"sgd\"\n[[schedule]]\nkind = \"constant\"\nlr = 0.01\n",
        );
        assert_eq!(p.trace_rows_per_run(), 13);
        let r = run_one(&p, &Prepared::new(&p), &p.run(0));
        assert_eq!(
            r.trace.step,
            [0, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 100]
        );
        let sharp: Vec<u64> = r
            .trace
            .step
            .iter()
            .zip(&r.trace.sharpness)
            .filter_map(|(t, s)| {
                s.map(|v| {
                    assert!((v - 4.0).abs() < 1e-12, "{v}");
                    *t
                })
            })
            .collect();
        assert_eq!(sharp, [0, 25, 50, 75, 100]);
        // Without Hessians the same settings trace every 10 steps only.
        let q = plan(
            &p.source
                .replace("hessian_every = 25", "hessian_every = 25\nhessian = false"),
        );
        assert_eq!(q.trace_rows_per_run(), 11);
    }
}

#[cfg(test)]
mod ground_state_tests {
    use super::*;
    use std::path::Path;

    /// No run reports an energy below the published ground state of its AB
    /// chain (2-D fib13 −3.2941, 3-D fib13 −4.9746, from the fixtures of
    /// tests/fixtures/landscapes/): neither the best-so-far nor the final
    /// loss, and the gaps are never negative. Noisy, clipped Adam from 8
    /// random starts, so the runs go deep and wander.
    #[test]
    fn no_reported_energy_is_below_a_published_ground_state() {
        let src = "name = \"g\"\nsteps = 3000\nseeds = 8\nhessian = false\n\
                   [[landscape]]\nname = \"fib13_2d\"\nkind = \"protein_ab\"\nsequence = \"fibonacci:13\"\ndims = 2\n\
                   [[landscape]]\nname = \"fib13_3d\"\nkind = \"protein_ab\"\nsequence = \"fibonacci:13\"\ndims = 3\n\
                   [[optimizer]]\nkind = \"adam\"\nclip_grad_norm = 10.0\n\
                   noise = { kind = \"langevin\", temperature = { kind = \"linear\", lr = 0.01, start_factor = 1.0, end_factor = 0.0, total_steps = 2400 } }\n\
                   [[schedule]]\nkind = \"cosine\"\nlr = 0.01\ntotal_steps = 3000\neta_min = 1e-5\n";
        let plan = Plan::from_source(Path::new("g.toml"), src).unwrap();
        let prepared = Prepared::new(&plan);
        let mut checked = 0;
        for spec in &plan.specs() {
            let ground = prepared.landscapes[spec.landscape]
                .best_known_value()
                .expect("a published ground state");
            let r = run_one(&plan, &prepared, spec);
            assert!(
                r.row.best_loss >= ground,
                "{}: {} < {ground}",
                spec.run_id,
                r.row.best_loss
            );
            if !r.row.diverged {
                assert!(r.row.final_loss >= ground);
                assert!(r.row.best_energy_gap.unwrap() >= 0.0);
                assert!(r.row.energy_gap.unwrap() >= 0.0);
                checked += 1;
            }
        }
        assert!(checked >= 8, "{checked} runs finished");
    }
}
