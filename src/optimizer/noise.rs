//! Gradient-noise models: the optimizer sees g̃ = ∇f(x) + ξ (or, for `dp`, a
//! clipped gradient plus ξ).
//!
//! - `none`: ξ = 0.
//! - `gaussian { std }`: ξ ~ N(0, std(t)²·I); `std` is a number or any
//!   schedule table read as the standard deviation ([`Level`]).
//! - `langevin { temperature, T0 }`: ξ ~ N(0, (2·T(t)/lr(t))·I), so that SGD's
//!   update x ← x − lr·(∇f + ξ) is x − lr·∇f + √(2·lr·T)·z with z ~ N(0, I):
//!   stochastic gradient Langevin dynamics (Welling & Teh 2011), whose
//!   stationary density for small lr is ∝ exp(−f/T). `temperature` is a
//!   number, a schedule table (annealing), or `"with_lr"`: T(t) =
//!   T0·lr(t)/lr(0). With momentum β the same noise enters the momentum
//!   buffer (underdamped Langevin with friction (1−β)/lr; the stationary
//!   temperature is T only in the small-lr limit); with Adam the noise is
//!   divided by √v̂ like the gradient (preconditioned, not true Langevin).
//!   A step with lr = 0 gets no noise.
//! - `student_t { std, dof }`: ξ_i = std·√((ν−2)/ν)·t_i with t_i ~ Student-t(ν)
//!   i.i.d.; Var t = ν/(ν−2), so every component has standard deviation `std`
//!   (heavy tails, kurtosis 3 + 6/(ν−4) for ν > 4). Requires ν > 2.
//! - `curvature { scale }`: ξ ~ N(0, scale·diag(H(x))⁺), i.e.
//!   ξ_i = √(scale·max(h_ii, 0))·z_i: noise whose covariance follows the
//!   Hessian diagonal, as the gradient noise of a least-squares loss near a
//!   minimum does (covariance ≈ Fisher ≈ Hessian; Zhu et al. 2019, "The
//!   anisotropic noise in SGD"). Negative diagonal entries (non-convex
//!   regions) are clamped to 0: a covariance cannot be negative, so those
//!   coordinates get no noise.
//! - `dp { clip, multiplier }`: DP-SGD (Abadi et al. 2016, Algorithm 1, one
//!   example per batch): g ← g·min(1, clip/‖g‖), then add
//!   N(0, (multiplier·clip)²) to every component.
//! - `minibatch { batch_size, replacement }`: the gradient is replaced by the
//!   mean gradient over a minibatch of the landscape's samples (data-defined
//!   landscapes only: [`Landscape::samples`]). Without replacement (default),
//!   epoch shuffling as PyTorch's `DataLoader(shuffle=True, drop_last=False)`:
//!   a fresh permutation of the n samples (Fisher–Yates from the run's noise
//!   generator) at the start of each epoch, consecutive batches of
//!   `batch_size`, the last one shorter when n is not a multiple; every sample
//!   is used exactly once per epoch. With replacement: `batch_size` indices
//!   drawn uniformly and independently each step. The indices of a batch are
//!   summed in ascending order, so `batch_size = n` without replacement is
//!   bit for bit full-batch gradient descent. Needs per-run state
//!   ([`NoiseState`], from [`NoiseSpec::state`]) passed to
//!   [`NoiseSpec::perturb_with`]. The runner does not compute the full
//!   gradient first: its oracle draws the batch ([`NoiseSpec::next_batch`])
//!   and computes that batch's gradient only
//!   (`runner::gradient::GradientTransforms::batch_oracle`).
//!
//! Every draw comes from the run's noise generator (rand_distr), so results
//! stay deterministic; `perturb` does not allocate (the curvature model uses
//! the caller's scratch buffer for the Hessian diagonal, and relies on the
//! landscape's `hessian_diagonal` not allocating, true of every landscape
//! that overrides it).

use crate::error::{check, SpecError};
use crate::landscape::Landscape;
use crate::rng::RunRng;
use crate::schedule::level::Level;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal, StudentT};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NoiseSpec {
    /// A struct variant (not a unit one) so that `deny_unknown_fields`
    /// rejects `{ kind = "none", foo = 1 }`; it serializes as before.
    None {},
    Gaussian {
        std: Level,
    },
    Langevin {
        temperature: Level,
        #[serde(rename = "T0", default, skip_serializing_if = "Option::is_none")]
        t0: Option<f64>,
    },
    StudentT {
        std: f64,
        dof: f64,
    },
    Curvature {
        scale: f64,
    },
    Dp {
        clip: f64,
        multiplier: f64,
    },
    Minibatch {
        batch_size: usize,
        #[serde(default)]
        replacement: bool,
    },
}

/// Per-run state of a noise model, allocated once before the first step
/// ([`NoiseSpec::state`]). Minibatch: the epoch's sample order and the
/// position in it; empty for the other models.
#[derive(Debug, Clone, Default)]
pub struct NoiseState {
    /// Without replacement: a permutation of 0..n (the epoch's order); with
    /// replacement: the current batch.
    order: Vec<usize>,
    /// The last batch is `order[start..next]`.
    start: usize,
    next: usize,
    /// The minibatch loss of the last step (`None` for the other models).
    pub batch_loss: Option<f64>,
}

impl NoiseState {
    /// The sample indices of the last minibatch, ascending (empty for the
    /// other models).
    pub fn last_batch(&self) -> &[usize] {
        &self.order[self.start..self.next]
    }
}

impl NoiseSpec {
    /// The documentation of every noise model, in the order of the enum.
    pub fn docs() -> Vec<crate::registry::KindDoc> {
        let doc = |kind, summary, convention, example| crate::registry::KindDoc {
            kind,
            summary,
            convention,
            example,
            resolve: |kind, body| {
                crate::registry::resolve_tagged::<NoiseSpec>(kind, body, NoiseSpec::validate)
            },
        };
        vec![
            doc(
                "none",
                "No noise: the exact gradient.",
                "—",
                "",
            ),
            doc(
                "gaussian",
                "ξ ~ N(0, std(t)²·I) added to the exact gradient; `std` is a number or any schedule table read as the standard deviation at step t.",
                "Isotropic Gaussian gradient noise.",
                "std = 0.1",
            ),
            doc(
                "langevin",
                "ξ ~ N(0, (2·T(t)/lr(t))·I), so SGD's update is x − lr·∇f + √(2·lr·T)·z: stochastic gradient Langevin dynamics, stationary density ∝ exp(−f/T) for small lr. `temperature` is a number, a schedule table (annealing) or \"with_lr\" (T(t) = T0·lr(t)/lr(0), with `T0`). With momentum or Adam it is not exact Langevin dynamics; a step with lr = 0 gets no noise.",
                "Welling & Teh (2011), SGLD.",
                "temperature = 0.01",
            ),
            doc(
                "student_t",
                "ξ_i = std·√((ν−2)/ν)·t_i, t_i ~ Student-t(ν = dof) i.i.d.: every component has standard deviation std, with heavy tails; dof > 2.",
                "rand_distr `StudentT`, rescaled to the given std.",
                "std = 0.1\ndof = 3.0",
            ),
            doc(
                "curvature",
                "ξ_i = √(scale·max(h_ii, 0))·z_i: covariance proportional to the Hessian diagonal, clamped at 0 where it is negative.",
                "Zhu et al. (2019), \"The anisotropic noise in SGD\".",
                "scale = 0.01",
            ),
            doc(
                "dp",
                "DP-SGD: g ← g·min(1, clip/‖g‖), then ξ ~ N(0, (multiplier·clip)²·I).",
                "Abadi et al. (2016), Algorithm 1, one example per batch.",
                "clip = 1.0\nmultiplier = 1.0",
            ),
            doc(
                "minibatch",
                "The gradient of a minibatch of `batch_size` samples of a data-defined landscape replaces the exact gradient (the trace keeps the full-data loss and adds `batch_loss`). Without replacement (default): epoch shuffling, a fresh permutation each epoch from the run's noise generator, every sample once per epoch; with `replacement = true`: i.i.d. draws. `batch_size = n` is full-batch GD bit for bit.",
                "PyTorch `DataLoader(shuffle=True, drop_last=False)` order; the mean loss over the batch.",
                "batch_size = 32",
            ),
        ]
    }
}

impl Default for NoiseSpec {
    fn default() -> Self {
        Self::None {}
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

/// The factor that gives a Student-t(ν) variable standard deviation `std`:
/// std·√((ν−2)/ν).
pub fn student_t_scale(std: f64, dof: f64) -> f64 {
    std * ((dof - 2.0) / dof).sqrt()
}

/// Clips `g` in place to Euclidean norm at most `clip`: g·min(1, clip/‖g‖).
/// Returns the norm before clipping.
pub fn clip_to_norm(g: &mut [f64], clip: f64) -> f64 {
    let norm = g.iter().map(|a| a * a).sum::<f64>().sqrt();
    if norm > clip {
        let s = clip / norm;
        g.iter_mut().for_each(|a| *a *= s);
    }
    norm
}

impl NoiseSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        match self {
            Self::None {} => Ok(()),
            Self::Gaussian { std: Level::WithLr } => Err(SpecError::new(
                "std",
                "\"with_lr\" is for langevin's temperature; give a number or a schedule table",
            )),
            Self::Gaussian { std } => std.validate("std"),
            Self::Langevin { temperature, t0 } => {
                temperature.validate("temperature")?;
                match (temperature, t0) {
                    (Level::WithLr, None) => Err(SpecError::new(
                        "T0",
                        "is needed with temperature = \"with_lr\" (T(t) = T0·lr(t)/lr(0))",
                    )),
                    (Level::WithLr, Some(t)) => check::non_negative("T0", *t),
                    (_, Some(_)) => Err(SpecError::new(
                        "T0",
                        "is only read with temperature = \"with_lr\"",
                    )),
                    _ => Ok(()),
                }
            }
            Self::StudentT { std, dof } => {
                check::non_negative("std", *std)?;
                if dof.is_finite() && *dof > 2.0 {
                    Ok(())
                } else {
                    Err(SpecError::new(
                        "dof",
                        format!("must be > 2 for a finite variance, got {dof}"),
                    ))
                }
            }
            Self::Curvature { scale } => check::non_negative("scale", *scale),
            Self::Dp { clip, multiplier } => {
                check::positive("clip", *clip)?;
                check::non_negative("multiplier", *multiplier)
            }
            Self::Minibatch { batch_size, .. } => {
                check::at_least("batch_size", *batch_size as u64, 1)
            }
        }
    }

    /// Checks the model against a landscape with `samples` samples (`None`:
    /// not data-defined). The error names `kind` or `batch_size` of the
    /// noise table.
    pub fn check_samples(&self, samples: Option<usize>) -> Result<(), SpecError> {
        match (self, samples) {
            (Self::Minibatch { .. }, None) => Err(SpecError::new(
                "kind",
                "minibatch noise needs a landscape made of samples (least_squares, logistic, mlp)",
            )),
            (Self::Minibatch { batch_size, .. }, Some(n)) if *batch_size > n => {
                Err(SpecError::new(
                    "batch_size",
                    format!("must be <= the landscape's {n} samples, got {batch_size}"),
                ))
            }
            _ => Ok(()),
        }
    }

    /// The per-run state on `landscape`; allocates, once per run.
    pub fn state(&self, landscape: &dyn Landscape) -> NoiseState {
        let order = match (self, landscape.samples()) {
            (
                Self::Minibatch {
                    replacement,
                    batch_size,
                },
                Some(n),
            ) => {
                if *replacement {
                    vec![0; *batch_size]
                } else {
                    (0..n).collect()
                }
            }
            _ => Vec::new(),
        };
        // Without replacement, the first step starts an epoch.
        let next = order.len();
        NoiseState {
            order,
            start: next,
            next,
            batch_loss: None,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::None {} => "none",
            Self::Gaussian { .. } => "gaussian",
            Self::Langevin { .. } => "langevin",
            Self::StudentT { .. } => "student_t",
            Self::Curvature { .. } => "curvature",
            Self::Dp { .. } => "dp",
            Self::Minibatch { .. } => "minibatch",
        }
    }

    /// Adds noise to `grad` (the exact gradient at `x`) in place, for the
    /// update `at`. `scratch` is a buffer of length `dim` the model may use.
    /// Must not allocate. Stateless models only: minibatch noise needs
    /// [`Self::perturb_with`] and leaves `grad` unchanged here.
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
    // The stage's inputs, one each; bundling them would only rename them.
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
        match self {
            Self::None {} => {}
            Self::Gaussian { std } => add_gaussian(rng, grad, std.at(at.t, at.lr, at.lr0, 0.0)),
            Self::Langevin { temperature, t0 } => {
                let temp = temperature.at(at.t, at.lr, at.lr0, t0.unwrap_or(0.0));
                if at.lr > 0.0 {
                    add_gaussian(rng, grad, (2.0 * temp / at.lr).sqrt());
                }
            }
            Self::Minibatch { .. } => {
                let n = landscape.samples().unwrap_or(0);
                let batch = self.next_batch(state, rng, n);
                if !batch.is_empty() {
                    let loss = landscape.batch_value_and_gradient(x, batch, grad);
                    state.batch_loss = Some(loss);
                }
            }
            Self::StudentT { std, dof } => {
                let t = StudentT::new(*dof).expect("dof validated > 2");
                let s = student_t_scale(*std, *dof);
                for g in grad.iter_mut() {
                    let z: f64 = t.sample(rng);
                    *g += s * z;
                }
            }
            Self::Curvature { scale } => {
                landscape.hessian_diagonal(x, scratch);
                for (g, &h) in grad.iter_mut().zip(scratch.iter()) {
                    let z: f64 = StandardNormal.sample(rng);
                    *g += (scale * h.max(0.0)).sqrt() * z;
                }
            }
            Self::Dp { clip, multiplier } => {
                clip_to_norm(grad, *clip);
                add_gaussian(rng, grad, multiplier * clip);
            }
        }
    }
}

impl NoiseSpec {
    /// Whether the model replaces the gradient by a minibatch's, so that the
    /// oracle need only compute that batch's gradient
    /// ([`Self::next_batch`] and [`Landscape::batch_value_and_gradient`]).
    pub fn is_minibatch(&self) -> bool {
        matches!(self, Self::Minibatch { .. })
    }

    /// Draws the next minibatch from the run's noise generator, out of `n`
    /// samples, and returns its indices in ascending order. Minibatch noise
    /// only (empty for the other models and an empty state). Does not
    /// allocate.
    pub fn next_batch<'s>(
        &self,
        state: &'s mut NoiseState,
        rng: &mut RunRng,
        n: usize,
    ) -> &'s [usize] {
        let Self::Minibatch {
            batch_size,
            replacement,
        } = self
        else {
            return &[];
        };
        if state.order.is_empty() {
            return &[];
        }
        if *replacement {
            for i in state.order.iter_mut() {
                *i = rng.random_range(0..n);
            }
            state.start = 0;
            state.next = state.order.len();
        } else {
            if state.next >= state.order.len() {
                shuffle(rng, &mut state.order);
                state.next = 0;
            }
            state.start = state.next;
            state.next = (state.next + batch_size).min(state.order.len());
        }
        let batch = &mut state.order[state.start..state.next];
        batch.sort_unstable();
        batch
    }
}

/// Fisher–Yates: a uniformly random permutation of `v` in place.
fn shuffle(rng: &mut RunRng, v: &mut [usize]) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

fn add_gaussian(rng: &mut RunRng, grad: &mut [f64], std: f64) {
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
        let spec = NoiseSpec::Gaussian {
            std: Level::Constant(0.7),
        };
        check_moments(moments(&spec, &f, &[0.0; 3], &g, &g), &[0.7; 3], 3.0);
    }

    #[test]
    fn student_t_moments_and_tails() {
        // ν = 10: kurtosis 3 + 6/(ν − 4) = 4.
        let f = flat(3);
        let g = [0.0; 3];
        let spec = NoiseSpec::StudentT {
            std: 2.0,
            dof: 10.0,
        };
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
        let spec = NoiseSpec::Curvature { scale };
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
        let quiet = NoiseSpec::Dp {
            clip: 2.0,
            multiplier: 0.0,
        };
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
        let spec = NoiseSpec::Dp {
            clip: 2.0,
            multiplier: 0.55,
        };
        let got = moments(&spec, &f, &[0.0; 2], &[3.0, 4.0], &[1.2, 1.6]);
        check_moments(got, &[1.1, 1.1], 3.0);
    }

    #[test]
    fn validation_and_serde() {
        let n: NoiseSpec = serde_json::from_str(r#"{"kind":"student_t","std":1,"dof":5}"#).unwrap();
        assert_eq!(n.kind_name(), "student_t");
        let e = NoiseSpec::StudentT { std: 1.0, dof: 2.0 }
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "dof");
        assert!(e.message.contains('2'));
        let e = NoiseSpec::Dp {
            clip: 0.0,
            multiplier: 1.0,
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "clip");
        assert_eq!(
            NoiseSpec::Curvature { scale: -1.0 }
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
        let noise = NoiseSpec::Gaussian {
            std: Level::Constant(sigma),
        };
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
