//! Least squares: f(w) = ‖Xw − y‖²/(2n) = (1/n)·Σ_i (x_i·w − y_i)²/2.
//!
//! Gradient Xᵀ(Xw − y)/n, Hessian XᵀX/n (constant). The minimizer solves
//! the normal equations XᵀX·w = Xᵀy (Cholesky; the minimum-norm solution by
//! SVD when XᵀX is singular), found when the landscape is built.
//!
//! Data (see [`super::data`]): a file, or generated inputs with labels
//! y_i = x_i·w_t + label_noise·ε_i, the teacher w_t ~ N(0, I/d) and ε_i ~
//! N(0, 1) drawn from the landscape's seed after the inputs.
//!
//! A minibatch B gives (1/|B|)·Σ_{i∈B} (x_i·w − y_i)²/2 and its gradient,
//! summed in ascending sample order exactly as the full loss is, so that a
//! batch of all n samples reproduces the full gradient bit for bit.

use super::data::{dot, normal_vector, DataRules, DataSpec};
use super::{InitSpec, KnownPoint, Landscape, LandscapeSpec};
use crate::error::SpecError;
use crate::memory::Allocation;
use crate::rng::RunRng;
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};
use std::path::Path;

const RULES: DataRules = DataRules {
    label_noise_default: 0.1,
    label_noise_is_probability: false,
    separation: false,
};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeastSquaresSpec {
    #[serde(default)]
    pub data: DataSpec,
}

impl crate::registry::Documented for LeastSquaresSpec {
    const SUMMARY: &'static str = "f(w) = ‖Xw − y‖²/(2n) on a data set: generated (`data = { n, d, covariance, rotate, label_noise }`, labels from a random teacher plus noise) or read from CSV/Parquet (`data = { file, target }`). Exact gradient and Hessian XᵀX/n; the minimizer solves the normal equations.";
    const CONVENTION: &'static str =
        "Ordinary least squares; the Hessian and minimizer in closed form.";
    const EXAMPLE: &'static str = "";
}

impl LandscapeSpec for LeastSquaresSpec {
    fn validate(&self) -> Result<(), SpecError> {
        self.data.validate(RULES, true)?;
        self.data.check_factorisable()
    }

    fn dim(&self) -> usize {
        self.data.d()
    }

    fn memory(&self) -> Vec<Allocation> {
        vec![
            self.data.memory(),
            // XᵀX, the copy Cholesky takes, and an SVD's U, Vᵀ and copy.
            self.data
                .factorisation("the normal equations (XᵀX and its factors)", 5),
        ]
    }

    fn default_init(&self) -> InitSpec {
        InitSpec::Normal {
            std: 0.1,
            mean: 0.0,
        }
    }

    fn build(&self, rng: &mut RunRng) -> Box<dyn Landscape> {
        Box::new(LeastSquaresSpec::build(self, rng))
    }

    fn load_data(&mut self, base_dir: &Path) -> Result<(), SpecError> {
        self.data.load(base_dir)
    }

    fn samples(&self) -> Option<usize> {
        Some(self.data.n())
    }
}

impl LeastSquaresSpec {
    pub fn build(&self, rng: &mut RunRng) -> LeastSquares {
        let mut data = self.data.inputs(rng);
        if !self.data.is_file() {
            let teacher = normal_vector(data.d, 1.0 / (data.d as f64).sqrt(), rng);
            let noise = normal_vector(data.n, self.data.label_noise(RULES), rng);
            let labels: Vec<f64> = (0..data.n)
                .map(|i| dot(data.row(i), &teacher) + noise[i])
                .collect();
            data.y = labels;
        }
        LeastSquares::new(data.x, data.y, data.d)
    }
}

#[derive(Debug, Clone)]
pub struct LeastSquares {
    x: Vec<f64>,
    y: Vec<f64>,
    n: usize,
    d: usize,
    /// Σ_i x_ij²/n: the Hessian's diagonal.
    diagonal: Vec<f64>,
    minimum: Option<KnownPoint>,
}

impl LeastSquares {
    /// `x` row-major n×d, `y` of length n.
    pub fn new(x: Vec<f64>, y: Vec<f64>, d: usize) -> Self {
        let n = y.len();
        let diagonal = (0..d)
            .map(|j| (0..n).map(|i| x[i * d + j] * x[i * d + j]).sum::<f64>() / n as f64)
            .collect();
        let mut f = Self {
            x,
            y,
            n,
            d,
            diagonal,
            minimum: None,
        };
        f.minimum = f.solve_normal_equations();
        f
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    fn solve_normal_equations(&self) -> Option<KnownPoint> {
        let xm = DMatrix::from_row_slice(self.n, self.d, &self.x);
        let xty = xm.tr_mul(&DVector::from_column_slice(&self.y));
        let gram = xm.tr_mul(&xm);
        let w = match gram.clone().cholesky() {
            Some(c) => c.solve(&xty),
            None => gram.svd(true, true).solve(&xty, 1e-12).ok()?,
        };
        let w: Vec<f64> = w.iter().copied().collect();
        Some(KnownPoint {
            label: "least_squares".into(),
            value: self.value(&w),
            x: w,
        })
    }

    /// Σ over `samples` (ascending for the full loss) of the residual terms,
    /// divided by `count`: the one summation both the full and the batch
    /// loss use.
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
            let r = dot(xi, w) - self.y[i];
            loss += r * r;
            for (g, a) in grad.iter_mut().zip(xi) {
                *g += r * a;
            }
        }
        let scale = 1.0 / count as f64;
        grad.iter_mut().for_each(|g| *g *= scale);
        0.5 * loss * scale
    }
}

impl Landscape for LeastSquares {
    fn dim(&self) -> usize {
        self.d
    }

    fn value(&self, w: &[f64]) -> f64 {
        let loss: f64 = (0..self.n)
            .map(|i| {
                let r = dot(self.row(i), w) - self.y[i];
                r * r
            })
            .sum();
        0.5 * loss * (1.0 / self.n as f64)
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

    fn hessian(&self, _w: &[f64]) -> DMatrix<f64> {
        let xm = DMatrix::from_row_slice(self.n, self.d, &self.x);
        xm.tr_mul(&xm) / self.n as f64
    }

    fn hessian_vector_product(&self, _w: &[f64], v: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for i in 0..self.n {
            let xi = self.row(i);
            let c = dot(xi, v);
            for (o, a) in out.iter_mut().zip(xi) {
                *o += c * a;
            }
        }
        let scale = 1.0 / self.n as f64;
        out.iter_mut().for_each(|o| *o *= scale);
    }

    fn hessian_diagonal(&self, _w: &[f64], out: &mut [f64]) {
        out.copy_from_slice(&self.diagonal);
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
    fn derivatives_and_minimum() {
        let spec: LeastSquaresSpec =
            toml::from_str("data = { n = 40, d = 5, label_noise = 0.3 }").unwrap();
        spec.validate().unwrap();
        let f = spec.build(&mut rng_for(1, "ls", Stream::Landscape));
        let x = [0.3, -0.2, 0.1, 0.5, -1.0];
        assert_gradient_matches(&f, &x, 1e-7);
        assert_hessian_matches(&f, &x, 1e-7);
        // The minimizer has a zero gradient and beats nearby points.
        let m = &f.minima()[0];
        let mut g = vec![0.0; 5];
        f.value_and_gradient(&m.x, &mut g);
        assert!(g.iter().all(|v| v.abs() < 1e-12), "{g:?}");
        assert!(f.value(&x) > m.value);
    }
}
