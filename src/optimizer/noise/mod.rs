//! Gradient-noise models: the optimizer sees g̃ = ∇f(x) + ξ (or, for `dp`, a
//! clipped gradient plus ξ). One model per file, each registered by one line
//! of the [`kinds!`](crate::kinds) table below; its fields, validation,
//! documentation and draws live in its file, behind [`NoiseModel`]:
//!
//! - `none` ([`none`]): ξ = 0.
//! - `gaussian` ([`gaussian`]): ξ ~ N(0, std(t)²·I).
//! - `langevin` ([`langevin`]): SGLD, ξ ~ N(0, (2·T(t)/lr(t))·I).
//! - `student_t` ([`student_t`]): heavy-tailed, every component with
//!   standard deviation `std`.
//! - `curvature` ([`curvature`]): covariance ∝ the Hessian diagonal.
//! - `dp` ([`dp`]): DP-SGD's clip, then Gaussian noise.
//! - `minibatch` ([`minibatch`]): the gradient of a minibatch of a
//!   data-defined landscape replaces the exact one.
//!
//! Every draw comes from the run's noise generator (rand_distr), so results
//! stay deterministic; no model allocates per step (the curvature model uses
//! the caller's scratch buffer for the Hessian diagonal, and relies on the
//! landscape's `hessian_diagonal` not allocating, true of every landscape
//! that overrides it).
//!
//! A model owns its per-run state: [`NoiseModel::state`] allocates it once
//! per run, as any type of the model's file, and the model finds it again
//! in the [`NoiseState`] it is handed. A model may also be the gradient
//! source ([`NoiseModel::replaces_gradient`], as minibatch noise is): the
//! runner's oracle then asks it for the gradient
//! ([`NoiseModel::gradient`]) instead of computing the exact one. So a new
//! model, stateful or a gradient source, is its file and its line below.

pub mod curvature;
pub mod dp;
pub mod gaussian;
pub mod langevin;
pub mod minibatch;
pub mod none;
pub mod student_t;

use crate::error::SpecError;
use crate::landscape::Landscape;
use crate::rng::RunRng;
use rand_distr::{Distribution, StandardNormal};
use std::any::Any;

crate::kinds! {
    /// The `noise` table of an `[[optimizer]]`.
    pub enum NoiseSpec: dyn NoiseModel {
        None(none::NoNoise) = "none",
        Gaussian(gaussian::Gaussian) = "gaussian",
        Langevin(langevin::Langevin) = "langevin",
        StudentT(student_t::StudentTNoise) = "student_t",
        Curvature(curvature::CurvatureNoise) = "curvature",
        Dp(dp::DpNoise) = "dp",
        Minibatch(minibatch::Minibatch) = "minibatch",
    }
}

/// Where and when a gradient was taken: the update it is for, the landscape
/// and the point.
#[derive(Clone, Copy)]
pub struct NoiseAt<'a> {
    pub step: NoiseStep,
    pub landscape: &'a dyn Landscape,
    pub x: &'a [f64],
}

/// A gradient-noise model.
pub trait NoiseModel {
    /// Checks the model's fields; the error names the field.
    fn validate(&self) -> Result<(), SpecError>;

    /// Checks the model against a landscape with `samples` samples (`None`:
    /// not data-defined). The error names a field of the noise table.
    fn check_samples(&self, _samples: Option<usize>) -> Result<(), SpecError> {
        Ok(())
    }

    /// The per-run state on `landscape`; allocates, once per run. `None`
    /// (the default): the model keeps no state.
    fn state(&self, _landscape: &dyn Landscape) -> Option<Box<dyn Any + Send>> {
        None
    }

    /// Whether the model replaces the gradient (it is the oracle's gradient
    /// source, [`Self::gradient`]) rather than perturbing the exact one.
    fn replaces_gradient(&self) -> bool {
        false
    }

    /// For a model that [`replaces_gradient`](Self::replaces_gradient):
    /// writes its gradient at `at.x` into `grad` and returns the loss it
    /// saw (a minibatch's); `None` with nothing written where it has none.
    /// Must not allocate.
    fn gradient(
        &self,
        _state: &mut NoiseState,
        _rng: &mut RunRng,
        _at: NoiseAt,
        _grad: &mut [f64],
    ) -> Option<f64> {
        None
    }

    /// Perturbs `grad`, the exact gradient at `at.x`, in place. `scratch` is
    /// a buffer of length `dim` the model may use. Must not allocate.
    fn perturb(
        &self,
        state: &mut NoiseState,
        rng: &mut RunRng,
        at: NoiseAt,
        grad: &mut [f64],
        scratch: &mut [f64],
    );
}

/// Per-run state of a noise model, allocated once before the first step
/// ([`NoiseModel::state`]): whatever the model keeps (its own type, found
/// again with [`Self::get_mut`]), and the loss its gradient saw.
#[derive(Default)]
pub struct NoiseState {
    own: Option<Box<dyn Any + Send>>,
    /// The loss of the last gradient a gradient source drew (a minibatch's;
    /// `None` for the other models).
    pub batch_loss: Option<f64>,
}

impl NoiseState {
    /// The model's own state, if it keeps one of type `T`.
    pub fn get_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.own.as_mut()?.downcast_mut()
    }

    /// The model's own state, if it keeps one of type `T`.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        self.own.as_ref()?.downcast_ref()
    }
}

impl Default for NoiseSpec {
    fn default() -> Self {
        Self::None(none::NoNoise {})
    }
}

/// The update a noise draw is for: its step and learning rate, and the
/// learning rate of update 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseStep {
    pub t: u64,
    pub lr: f64,
    pub lr0: f64,
}

impl NoiseStep {
    /// Update 0 with lr 1 (for models that read neither).
    pub const FIRST: Self = Self {
        t: 0,
        lr: 1.0,
        lr0: 1.0,
    };
}

impl NoiseSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        self.spec().validate()
    }

    /// See [`NoiseModel::check_samples`].
    pub fn check_samples(&self, samples: Option<usize>) -> Result<(), SpecError> {
        self.spec().check_samples(samples)
    }

    /// See [`NoiseModel::state`].
    pub fn state(&self, landscape: &dyn Landscape) -> NoiseState {
        NoiseState {
            own: self.spec().state(landscape),
            batch_loss: None,
        }
    }

    /// Adds noise to `grad` (the exact gradient at `x`) in place, for the
    /// update `at`, with a fresh per-run state: for the stateless models.
    pub fn perturb(
        &self,
        rng: &mut RunRng,
        at: NoiseStep,
        landscape: &dyn Landscape,
        x: &[f64],
        grad: &mut [f64],
        scratch: &mut [f64],
    ) {
        self.perturb_with(
            &mut NoiseState::default(),
            rng,
            at,
            landscape,
            x,
            grad,
            scratch,
        );
    }

    /// [`Self::perturb`] with the run's state (from [`Self::state`]):
    /// minibatch noise replaces `grad` by the gradient of the next minibatch
    /// and records its loss in `state.batch_loss`. Must not allocate.
    // The stage's inputs, one each; the model itself takes them bundled.
    #[allow(clippy::too_many_arguments)]
    pub fn perturb_with(
        &self,
        state: &mut NoiseState,
        rng: &mut RunRng,
        at: NoiseStep,
        landscape: &dyn Landscape,
        x: &[f64],
        grad: &mut [f64],
        scratch: &mut [f64],
    ) {
        let at = NoiseAt {
            step: at,
            landscape,
            x,
        };
        self.spec().perturb(state, rng, at, grad, scratch);
    }
}

/// Adds i.i.d. N(0, std²) draws to every component of `grad`.
pub(crate) fn add_gaussian(rng: &mut RunRng, grad: &mut [f64], std: f64) {
    for g in grad.iter_mut() {
        let z: f64 = StandardNormal.sample(rng);
        *g += std * z;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::quadratic::Quadratic;
    use crate::landscape::rastrigin::{term_curvature, Rastrigin};
    use crate::rng::{rng_for, Stream};
    use crate::schedule::level::Level;

    const N: usize = 200_000;

    /// Draws ξ = perturb(g) − g' (g' the clipped gradient for dp) N times and
    /// returns per-component means, variances, and the (0,1) covariance.
    fn moments(
        spec: &NoiseSpec,
        f: &dyn Landscape,
        x: &[f64],
        g: &[f64],
        center: &[f64],
    ) -> (Vec<f64>, Vec<f64>, f64) {
        let d = x.len();
        let mut rng = rng_for(11, spec.kind_name(), Stream::Noise);
        let mut sum = vec![0.0; d];
        let mut sq = vec![0.0; d];
        let mut cross = 0.0;
        let mut buf = vec![0.0; d];
        let mut scratch = vec![0.0; d];
        for _ in 0..N {
            buf.copy_from_slice(g);
            spec.perturb(&mut rng, NoiseStep::FIRST, f, x, &mut buf, &mut scratch);
            for i in 0..d {
                let e = buf[i] - center[i];
                sum[i] += e;
                sq[i] += e * e;
            }
            cross += (buf[0] - center[0]) * (buf[1] - center[1]);
        }
        let n = N as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let var: Vec<f64> = sq.iter().zip(&mean).map(|(s, m)| s / n - m * m).collect();
        (mean.clone(), var, cross / n - mean[0] * mean[1])
    }

    /// Asserts |got − want| <= 4·se.
    fn within(what: &str, got: f64, want: f64, se: f64) {
        assert!(
            (got - want).abs() <= 4.0 * se,
            "{what}: {got} vs {want} (4 s.e. = {})",
            4.0 * se
        );
    }

    /// Mean 0, variance σ_i², zero cross-covariance, with standard errors
    /// σ/√N (mean), σ²·√((κ−1)/N) (variance, κ the kurtosis) and σ₀σ₁/√N.
    fn check_moments(got: (Vec<f64>, Vec<f64>, f64), sd: &[f64], kurtosis: f64) {
        let n = N as f64;
        let (mean, var, cov) = got;
        for i in 0..sd.len() {
            within(&format!("mean[{i}]"), mean[i], 0.0, sd[i] / n.sqrt());
            within(
                &format!("var[{i}]"),
                var[i],
                sd[i] * sd[i],
                sd[i] * sd[i] * ((kurtosis - 1.0) / n).sqrt(),
            );
        }
        within("cov[0,1]", cov, 0.0, sd[0] * sd[1] / n.sqrt());
    }

    fn flat(d: usize) -> Quadratic {
        Quadratic::new(vec![1.0; d], None)
    }

    #[test]
    fn gaussian_moments() {
        let f = flat(3);
        let g = [1.0, -2.0, 0.5];
        let spec = NoiseSpec::Gaussian(gaussian::Gaussian {
            std: Level::Constant(0.7),
        });
        check_moments(moments(&spec, &f, &[0.0; 3], &g, &g), &[0.7; 3], 3.0);
    }

    #[test]
    fn student_t_moments_and_tails() {
        // ν = 10: kurtosis 3 + 6/(ν − 4) = 4.
        let f = flat(3);
        let g = [0.0; 3];
        let spec = NoiseSpec::StudentT(student_t::StudentTNoise {
            std: Level::Constant(2.0),
            dof: 10.0,
        });
        check_moments(moments(&spec, &f, &[0.0; 3], &g, &g), &[2.0; 3], 4.0);
        // Heavier tails than the Gaussian of the same variance: P(|t_ν| > 3.5σ)
        // for ν = 10 rescaled to unit variance, i.e. P(|t_10| > 3.5·√(10/8))
        // = 2·(1 − F_10(3.9131)) = 0.0028985612064518335
        // (2·scipy.stats.t.sf(3.5·√1.25, 10)), against 0.000465 for the
        // Gaussian.
        let mut rng = rng_for(5, "tails", Stream::Noise);
        let mut buf = [0.0; 1];
        let mut scratch = [0.0; 1];
        let f1 = flat(1);
        let tail = (0..N)
            .filter(|_| {
                buf[0] = 0.0;
                spec.perturb(
                    &mut rng,
                    NoiseStep::FIRST,
                    &f1,
                    &[0.0],
                    &mut buf,
                    &mut scratch,
                );
                buf[0].abs() > 3.5 * 2.0
            })
            .count() as f64
            / N as f64;
        let p: f64 = 0.0028985612064518335;
        within("tail", tail, p, (p * (1.0 - p) / N as f64).sqrt());
    }

    /// A scheduled `std`: StepLR from 2 halving every 100 updates gives every
    /// component the standard deviation 2 at update 0 and 1 at update 150
    /// (ν = 10, kurtosis 4, as above).
    #[test]
    fn student_t_std_follows_its_schedule() {
        let spec: NoiseSpec = toml::from_str(
            r#"kind = "student_t"
dof = 10.0
std = { kind = "step", lr = 2.0, step_size = 100, gamma = 0.5 }"#,
        )
        .unwrap();
        spec.validate().unwrap();
        let f = flat(1);
        let mut rng = rng_for(9, "scheduled", Stream::Noise);
        let (mut buf, mut scratch) = ([0.0; 1], [0.0; 1]);
        for (t, sd) in [(0, 2.0), (150, 1.0)] {
            let at = NoiseStep {
                t,
                lr: 0.1,
                lr0: 0.1,
            };
            let var = (0..N)
                .map(|_| {
                    buf[0] = 0.0;
                    spec.perturb(&mut rng, at, &f, &[0.0], &mut buf, &mut scratch);
                    buf[0] * buf[0]
                })
                .sum::<f64>()
                / N as f64;
            within(
                &format!("var at {t}"),
                var,
                sd * sd,
                sd * sd * (3.0 / N as f64).sqrt(),
            );
        }
        let e: NoiseSpec =
            toml::from_str("kind = \"student_t\"\ndof = 3.0\nstd = \"with_lr\"").unwrap();
        assert_eq!(e.validate().unwrap_err().field, "std");
    }

    #[test]
    fn curvature_noise_follows_the_hessian_diagonal() {
        // Rastrigin (A = 10): h_ii = 2 + 40π²·cos(2πx_i). At x = (0, 0.1, 0.5):
        // 396.78, 321.40 and 2 − 40π² < 0 (clamped: no noise at all).
        let f = Rastrigin {
            dim: 3,
            amplitude: 10.0,
        };
        let x = [0.0, 0.1, 0.5];
        let mut g = [0.0; 3];
        f.value_and_gradient(&x, &mut g);
        let scale = 0.01;
        let sd: Vec<f64> = x
            .iter()
            .map(|&v| (scale * term_curvature(10.0, v).max(0.0)).sqrt())
            .collect();
        assert!(
            (sd[0] - (0.01f64 * (2.0 + 40.0 * std::f64::consts::PI.powi(2))).sqrt()).abs() < 1e-12
        );
        let spec = NoiseSpec::Curvature(curvature::CurvatureNoise { scale });
        let (mean, var, cov) = moments(&spec, &f, &x, &g, &g);
        check_moments((mean.clone(), var.clone(), cov), &sd[..2], 3.0);
        assert_eq!((mean[2], var[2]), (0.0, 0.0));
    }

    #[test]
    fn dp_clips_to_exactly_clip_then_adds_noise() {
        let f = flat(2);
        let mut rng = rng_for(1, "dp", Stream::Noise);
        let mut scratch = [0.0; 2];
        // ‖(3, 4)‖ = 5 > clip 2: clipped to (1.2, 1.6), norm exactly 2.
        let mut g = [3.0, 4.0];
        let quiet = NoiseSpec::Dp(dp::DpNoise {
            clip: 2.0,
            multiplier: 0.0,
        });
        quiet.perturb(
            &mut rng,
            NoiseStep::FIRST,
            &f,
            &[0.0; 2],
            &mut g,
            &mut scratch,
        );
        assert!((g[0] - 1.2).abs() < 1e-15 && (g[1] - 1.6).abs() < 1e-15);
        assert!((g[0].hypot(g[1]) - 2.0).abs() <= 4.0 * f64::EPSILON);
        // Below the clip: untouched.
        let mut small = [0.3, -0.4];
        quiet.perturb(
            &mut rng,
            NoiseStep::FIRST,
            &f,
            &[0.0; 2],
            &mut small,
            &mut scratch,
        );
        assert_eq!(small, [0.3, -0.4]);
        // With noise: mean the clipped gradient, std multiplier·clip = 1.1.
        let spec = NoiseSpec::Dp(dp::DpNoise {
            clip: 2.0,
            multiplier: 0.55,
        });
        let got = moments(&spec, &f, &[0.0; 2], &[3.0, 4.0], &[1.2, 1.6]);
        check_moments(got, &[1.1, 1.1], 3.0);
    }

    #[test]
    fn validation_and_serde() {
        let n: NoiseSpec = serde_json::from_str(r#"{"kind":"student_t","std":1,"dof":5}"#).unwrap();
        assert_eq!(n.kind_name(), "student_t");
        let e = NoiseSpec::StudentT(student_t::StudentTNoise {
            std: Level::Constant(1.0),
            dof: 2.0,
        })
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "dof");
        assert!(e.message.contains('2'));
        let e = NoiseSpec::Dp(dp::DpNoise {
            clip: 0.0,
            multiplier: 1.0,
        })
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "clip");
        assert_eq!(
            NoiseSpec::Curvature(curvature::CurvatureNoise { scale: -1.0 })
                .validate()
                .unwrap_err()
                .field,
            "scale"
        );
        assert!(serde_json::from_str::<NoiseSpec>(r#"{"kind":"dp","clip":1}"#).is_err());
        assert!(serde_json::from_str::<NoiseSpec>(r#"{"kind":"gaussian","std":1,"x":2}"#).is_err());
    }

    #[test]
    fn momentum_noise_floor_matches_c9() {
        // C9: SGD with momentum β, constant lr η, on f = λx²/2 with gradient
        // noise N(0, σ²) settles at E f = ησ²(1+β) / (2(1−β)(2(1+β) − ηλ))
        // (stationary variance of the heavy-ball AR(2) recursion). λ = 1,
        // η = 0.1, β = 0.9, σ = 1: 0.19/0.74 = 0.25675675…
        use crate::optimizer::sgd::SgdSpec;
        use crate::optimizer::{Optimizer, StepParams};
        let (lambda, lr, beta, sigma): (f64, f64, f64, f64) = (1.0, 0.1, 0.9, 1.0);
        let theory = lr * sigma * sigma * (1.0 + beta)
            / (2.0 * (1.0 - beta) * (2.0 * (1.0 + beta) - lr * lambda));
        assert!((theory - 0.19 / 0.74).abs() < 1e-15);
        let f = Quadratic::new(vec![lambda], None);
        let opt = SgdSpec {
            momentum: beta,
            ..Default::default()
        };
        let noise = NoiseSpec::Gaussian(gaussian::Gaussian {
            std: Level::Constant(sigma),
        });
        let p = StepParams::new(lr);
        let (seeds, burn, steps) = (64, 2_000, 100_000);
        let per_seed: Vec<f64> = (0..seeds)
            .map(|s| {
                let mut rng = rng_for(s, "c9", Stream::Noise);
                let mut st = opt.init_state(1);
                let (mut x, mut g, mut scratch) = ([1.0], [0.0], [0.0]);
                let mut sum = 0.0;
                for t in 0..burn + steps {
                    let loss = f.value_and_gradient(&x, &mut g);
                    if t >= burn {
                        sum += loss;
                    }
                    noise.perturb(&mut rng, NoiseStep::FIRST, &f, &x, &mut g, &mut scratch);
                    opt.step(&p, &mut x, &g, &mut st);
                }
                sum / steps as f64
            })
            .collect();
        let n = seeds as f64;
        let mean = per_seed.iter().sum::<f64>() / n;
        let sd = (per_seed.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let se = sd / n.sqrt();
        eprintln!("C9: average loss {mean:.6} vs {theory:.6}, s.e. {se:.2e}");
        assert!(se / theory < 0.004, "statistical error {}", se / theory);
        assert!(
            (mean - theory).abs() / theory < 0.015,
            "average loss {mean} vs C9 {theory} (s.e. {se})"
        );
    }
}
