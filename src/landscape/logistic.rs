//! L2-regularised logistic regression:
//! f(w) = (1/n)·Σ_i log(1 + exp(−s_i·x_i·w)) + (l2/2)·‖w‖², s_i = 2·y_i − 1.
//!
//! Labels y_i are 0 or 1 (a file's target column must hold only 0 and 1). No
//! intercept: add a column of ones to the file for one. Gradient
//! −(1/n)·Σ σ(−m_i)·s_i·x_i + l2·w with margins m_i = s_i·x_i·w; Hessian
//! (1/n)·Σ σ(m_i)·σ(−m_i)·x_i·x_iᵀ + l2·I, exact. With l2 > 0 the loss is
//! strongly convex and its minimizer is found by damped Newton (Armijo
//! backtracking) when the landscape is built, to a step below
//! 1e-12·max(1, ‖w‖), so that `distance_to_min` and `energy_gap` are exact.
//!
//! Generated data (see [`super::data`]): balanced classes s_i = ±1, inputs
//! x_i = z_i + s_i·(separation/2)·u with z_i from the covariance recipe and
//! u a random unit vector (class means `separation` apart, default 2), then
//! each label flipped with probability `label_noise` (default 0).
//!
//! A minibatch B gives (1/|B|)·Σ_{i∈B} log(1 + exp(−m_i)) + (l2/2)·‖w‖²,
//! summed in ascending sample order exactly as the full loss is.

use super::data::{dot, normal_vector, DataRules, DataSpec};
use super::{InitSpec, KnownPoint, Landscape, LandscapeSpec};
use crate::error::{check, SpecError};
use crate::memory::Allocation;
use crate::rng::RunRng;
use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::path::Path;

const RULES: DataRules = DataRules {
    label_noise_default: 0.0,
    label_noise_is_probability: true,
    separation: true,
};

fn default_l2() -> f64 {
    0.01
}

fn default_separation() -> f64 {
    2.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogisticSpec {
    #[serde(default)]
    pub data: DataSpec,
    #[serde(default = "default_l2")]
    pub l2: f64,
}

impl crate::registry::Documented for LogisticSpec {
    const SUMMARY: &'static str = "Mean logistic loss of labels y ∈ {0, 1} plus `l2`/2·‖w‖² (a finite minimizer, found by Newton's method to 1e-12 when built); generated classes (`separation`, `label_noise` as a flip probability) or a data file.";
    const CONVENTION: &'static str = "Logistic regression with L2 penalty, as scikit-learn's `LogisticRegression` objective (mean loss).";
    const EXAMPLE: &'static str = "";
}

impl LandscapeSpec for LogisticSpec {
    fn validate(&self) -> Result<(), SpecError> {
        LogisticSpec::validate(self)
    }

    fn dim(&self) -> usize {
        self.data.d()
    }

    fn memory(&self) -> Vec<Allocation> {
        vec![
            self.data.memory(),
            // The Newton Hessian and its Cholesky factor.
            self.data
                .factorisation("Newton's Hessian and its Cholesky factor", 2),
        ]
    }

    fn default_init(&self) -> InitSpec {
        InitSpec::Normal {
            std: 0.1,
            mean: 0.0,
        }
    }

    fn build(&self, rng: &mut RunRng) -> Box<dyn Landscape> {
        Box::new(LogisticSpec::build(self, rng))
    }

    fn load_data(&mut self, base_dir: &Path) -> Result<(), SpecError> {
        self.data.load(base_dir)
    }

    fn samples(&self) -> Option<usize> {
        Some(self.data.n())
    }
}

impl LogisticSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        self.data.validate(RULES, true)?;
        self.data.check_factorisable()?;
        check::positive("l2", self.l2)?;
        if let Some(data) = &self.data.loaded {
            if let Some((i, y)) = data
                .y
                .iter()
                .enumerate()
                .find(|(_, &y)| y != 0.0 && y != 1.0)
            {
                return Err(SpecError::new(
                    "data.target",
                    format!("labels must be 0 or 1; sample {i} has {y}"),
                ));
            }
        }
        Ok(())
    }

    pub fn build(&self, rng: &mut RunRng) -> Logistic {
        let mut data = self.data.inputs(rng);
        if !self.data.is_file() {
            let u = normal_vector(data.d, 1.0, rng);
            let norm = dot(&u, &u).sqrt();
            let shift = self.data.separation.unwrap_or_else(default_separation) / 2.0;
            let flip = self.data.label_noise(RULES);
            for i in 0..data.n {
                let s = if rng.random::<bool>() { 1.0 } else { -1.0 };
                for (xj, uj) in data.x[i * data.d..(i + 1) * data.d].iter_mut().zip(&u) {
                    *xj += s * shift * uj / norm;
                }
                let flipped = rng.random::<f64>() < flip;
                data.y[i] = if (s > 0.0) != flipped { 1.0 } else { 0.0 };
            }
        }
        Logistic::new(data.x, &data.y, data.d, self.l2)
    }
}

/// log(1 + exp(t)) without overflow.
pub fn softplus(t: f64) -> f64 {
    t.max(0.0) + (-t.abs()).exp().ln_1p()
}

/// 1/(1 + exp(−t)) without overflow.
pub fn sigmoid(t: f64) -> f64 {
    if t >= 0.0 {
        1.0 / (1.0 + (-t).exp())
    } else {
        let e = t.exp();
        e / (1.0 + e)
    }
}

#[derive(Debug, Clone)]
pub struct Logistic {
    x: Vec<f64>,
    /// s_i = ±1.
    sign: Vec<f64>,
    n: usize,
    d: usize,
    l2: f64,
    minimum: Option<KnownPoint>,
}

impl Logistic {
    /// `x` row-major n×d, labels `y` in {0, 1}.
    pub fn new(x: Vec<f64>, y: &[f64], d: usize, l2: f64) -> Self {
        let sign = y.iter().map(|&v| 2.0 * v - 1.0).collect();
        let mut f = Self {
            x,
            sign,
            n: y.len(),
            d,
            l2,
            minimum: None,
        };
        f.minimum = f.newton().map(|w| KnownPoint {
            label: "logistic".into(),
            value: f.value(&w),
            x: w,
        });
        f
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// Damped Newton from w = 0: the strongly convex loss's minimizer.
    fn newton(&self) -> Option<Vec<f64>> {
        let d = self.d;
        let mut w = vec![0.0; d];
        let mut g = vec![0.0; d];
        let mut trial = vec![0.0; d];
        for _ in 0..200 {
            let fw = self.value_and_gradient(&w, &mut g);
            let h = self.hessian(&w);
            let p = h.cholesky()?.solve(&DVector::from_column_slice(&g));
            let slope = dot(&g, p.as_slice());
            let mut t = 1.0;
            loop {
                for ((v, &a), &b) in trial.iter_mut().zip(&w).zip(p.iter()) {
                    *v = a - t * b;
                }
                if self.value(&trial) <= fw - 1e-4 * t * slope || t < 1e-12 {
                    break;
                }
                t *= 0.5;
            }
            let step = t * p.norm();
            w.copy_from_slice(&trial);
            if step <= 1e-12 * dot(&w, &w).sqrt().max(1.0) {
                return Some(w);
            }
        }
        None
    }

    fn mean_over(
        &self,
        w: &[f64],
        samples: impl Iterator<Item = usize>,
        count: usize,
        grad: &mut [f64],
    ) -> f64 {
        grad.fill(0.0);
        let mut loss = 0.0;
        for i in samples {
            let xi = self.row(i);
            let s = self.sign[i];
            let m = s * dot(xi, w);
            loss += softplus(-m);
            let c = -s * sigmoid(-m);
            for (g, a) in grad.iter_mut().zip(xi) {
                *g += c * a;
            }
        }
        let scale = 1.0 / count as f64;
        let mut norm2 = 0.0;
        for (g, &wj) in grad.iter_mut().zip(w) {
            *g = *g * scale + self.l2 * wj;
            norm2 += wj * wj;
        }
        loss * scale + 0.5 * self.l2 * norm2
    }
}

impl Landscape for Logistic {
    fn dim(&self) -> usize {
        self.d
    }

    fn value(&self, w: &[f64]) -> f64 {
        let loss: f64 = (0..self.n)
            .map(|i| softplus(-self.sign[i] * dot(self.row(i), w)))
            .sum();
        loss * (1.0 / self.n as f64) + 0.5 * self.l2 * dot(w, w)
    }

    fn value_and_gradient(&self, w: &[f64], grad: &mut [f64]) -> f64 {
        self.mean_over(w, 0..self.n, self.n, grad)
    }

    fn samples(&self) -> Option<usize> {
        Some(self.n)
    }

    fn batch_value_and_gradient(&self, w: &[f64], batch: &[usize], grad: &mut [f64]) -> f64 {
        self.mean_over(w, batch.iter().copied(), batch.len(), grad)
    }

    fn hessian(&self, w: &[f64]) -> DMatrix<f64> {
        let d = self.d;
        let mut h = DMatrix::<f64>::zeros(d, d);
        for i in 0..self.n {
            let xi = self.row(i);
            let m = dot(xi, w);
            let c = sigmoid(m) * sigmoid(-m);
            for a in 0..d {
                for b in 0..=a {
                    h[(a, b)] += c * xi[a] * xi[b];
                }
            }
        }
        let scale = 1.0 / self.n as f64;
        for a in 0..d {
            for b in 0..a {
                h[(a, b)] *= scale;
                h[(b, a)] = h[(a, b)];
            }
            h[(a, a)] = h[(a, a)] * scale + self.l2;
        }
        h
    }

    fn hessian_vector_product(&self, w: &[f64], v: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for i in 0..self.n {
            let xi = self.row(i);
            let m = dot(xi, w);
            let c = sigmoid(m) * sigmoid(-m) * dot(xi, v);
            for (o, a) in out.iter_mut().zip(xi) {
                *o += c * a;
            }
        }
        let scale = 1.0 / self.n as f64;
        for (o, vj) in out.iter_mut().zip(v) {
            *o = *o * scale + self.l2 * vj;
        }
    }

    fn hessian_diagonal(&self, w: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for i in 0..self.n {
            let xi = self.row(i);
            let m = dot(xi, w);
            let c = sigmoid(m) * sigmoid(-m);
            for (o, a) in out.iter_mut().zip(xi) {
                *o += c * a * a;
            }
        }
        let scale = 1.0 / self.n as f64;
        out.iter_mut().for_each(|o| *o = *o * scale + self.l2);
    }

    fn minima(&self) -> Vec<KnownPoint> {
        self.minimum.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::testing::{assert_gradient_matches, assert_hessian_matches};
    use crate::rng::{rng_for, Stream};

    #[test]
    fn stable_scalar_functions() {
        assert_eq!(softplus(1000.0), 1000.0);
        assert!(softplus(-1000.0) >= 0.0 && softplus(-1000.0) < 1e-300);
        assert!((softplus(0.0) - 2f64.ln()).abs() < 1e-16);
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert!((sigmoid(2.0) + sigmoid(-2.0) - 1.0).abs() <= f64::EPSILON);
        // σ(2) = 1/(1 + e^-2) = 0.8807970779778823 (scipy.special.expit(2)).
        assert!((sigmoid(2.0) - 0.8807970779778823).abs() <= f64::EPSILON);
    }

    #[test]
    fn derivatives_and_newton_minimum() {
        let spec: LogisticSpec = toml::from_str(
            "l2 = 0.05\ndata = { n = 60, d = 4, separation = 1.5, label_noise = 0.1 }",
        )
        .unwrap();
        spec.validate().unwrap();
        let f = spec.build(&mut rng_for(2, "lg", Stream::Landscape));
        let x = [0.3, -0.2, 0.8, 0.1];
        assert_gradient_matches(&f, &x, 1e-7);
        assert_hessian_matches(&f, &x, 1e-7);
        let m = &f.minima()[0];
        let mut g = vec![0.0; 4];
        f.value_and_gradient(&m.x, &mut g);
        assert!(g.iter().all(|v| v.abs() < 1e-14), "{g:?}");
    }
}
