//! Two-layer teacher-student network with mean squared error:
//! f(θ) = (1/(2n))·Σ_i (Σ_j a_j·φ(w_j·x_i) − y_i)², φ = tanh or ReLU.
//!
//! Coordinates θ: the hidden weights W (width×d, row-major, row j = w_j),
//! then the output weights a (width). No biases (add a column of ones to the
//! inputs for a hidden bias). dim = width·(d + 1).
//!
//! Exact derivatives by the R-operator (Pearlmutter 1994), i.e.
//! forward-over-reverse by hand: with z_j = w_j·x, r = out − y and a
//! direction (V, c), R{z_j} = v_j·x, R{out} = Σ_j c_j·φ(z_j) +
//! a_j·φ'(z_j)·R{z_j}, and per sample
//! H·(V, c) = ( [R{out}·a_j·φ'_j + r·c_j·φ'_j + r·a_j·φ''_j·R{z_j}]·x ,
//!              R{out}·φ_j + r·φ'_j·R{z_j} ),
//! averaged over samples. Every pass recomputes z_j instead of storing it,
//! so value, gradient and Hessian-vector products allocate nothing. For
//! ReLU, φ'(z) = 1 for z > 0 (0 otherwise, as PyTorch) and φ'' = 0.
//!
//! Generated data (see [`super::data`]): a teacher of `teacher_width`
//! (default: width) hidden units, W_t ~ N(0, 1/d), a_t ~ N(0,
//! 1/teacher_width), drawn after the inputs; y_i = teacher(x_i) +
//! label_noise·ε_i (default label_noise 0). With label_noise = 0 and
//! teacher_width <= width, the teacher (padded with zero units) is a global
//! minimum of value 0, reported by `minima()`.
//!
//! Initialisation (default): PyTorch's `nn.Linear` rule without bias, W
//! uniform in ±1/√d and a uniform in ±1/√width.

use super::data::{dot, hessian_from_hvp, normal_vector, DataRules, DataSpec};
use super::{Bound, InitSpec, KnownPoint, Landscape, LandscapeSpec};
use crate::error::{check, SpecError};
use crate::memory::Allocation;
use crate::rng::RunRng;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::path::Path;

const RULES: DataRules = DataRules {
    label_noise_default: 0.0,
    label_noise_is_probability: false,
    separation: false,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Tanh,
    Relu,
}

impl Activation {
    /// (φ(z), φ'(z), φ''(z)).
    #[inline]
    pub fn eval(self, z: f64) -> (f64, f64, f64) {
        match self {
            Self::Tanh => {
                let t = z.tanh();
                let d = 1.0 - t * t;
                (t, d, -2.0 * t * d)
            }
            Self::Relu => {
                if z > 0.0 {
                    (z, 1.0, 0.0)
                } else {
                    (0.0, 0.0, 0.0)
                }
            }
        }
    }
}

fn default_width() -> usize {
    8
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpSpec {
    #[serde(default = "default_width")]
    pub width: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teacher_width: Option<usize>,
    #[serde(default)]
    pub activation: Activation,
    #[serde(default)]
    pub data: DataSpec,
}

impl crate::registry::Documented for MlpSpec {
    const SUMMARY: &'static str = "A two-layer network x ↦ aᵀσ(Wx) (σ = tanh or relu, `width` hidden units) fitted by mean squared error to labels of a random teacher network (`teacher_width`) on generated Gaussian inputs, or to a data file. Exact Hessian-vector products by the R-operator.";
    const CONVENTION: &'static str =
        "Teacher–student two-layer networks (Saad & Solla 1995); MSE/2 as in Cohen et al. 2021.";
    const EXAMPLE: &'static str = "";
}

impl LandscapeSpec for MlpSpec {
    fn validate(&self) -> Result<(), SpecError> {
        MlpSpec::validate(self)
    }

    fn dim(&self) -> usize {
        self.width.saturating_mul(self.data.d().saturating_add(1))
    }

    /// dim = width·(d + 1): `width`, or the input dimension where it is
    /// the larger factor (`data.d`, or `data.file`'s columns).
    fn dim_field(&self) -> &'static str {
        if self.data.d().saturating_add(1) <= self.width {
            "width"
        } else if self.data.file.is_some() {
            "data.file"
        } else {
            "data.d"
        }
    }

    fn default_init_bytes(&self) -> u64 {
        crate::memory::f64s((self.dim() as u64).saturating_mul(2))
    }

    fn memory(&self) -> Vec<Allocation> {
        vec![self.data.memory()]
    }

    fn default_init(&self) -> InitSpec {
        MlpSpec::default_init(self)
    }

    fn build(&self, rng: &mut RunRng) -> Box<dyn Landscape> {
        Box::new(MlpSpec::build(self, rng))
    }

    fn load_data(&mut self, base_dir: &Path) -> Result<(), SpecError> {
        self.data.load(base_dir)
    }

    fn samples(&self) -> Option<usize> {
        Some(self.data.n())
    }
}

impl MlpSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        check::at_least("width", self.width as u64, 1)?;
        if let Some(t) = self.teacher_width {
            if self.data.is_file() {
                return Err(SpecError::new(
                    "teacher_width",
                    "applies to generated data; a file brings its own labels",
                ));
            }
            check::at_least("teacher_width", t as u64, 1)?;
        }
        self.data.validate(RULES, true)
    }

    pub fn default_init(&self) -> InitSpec {
        let d = self.data.d();
        let hw = 1.0 / (d as f64).sqrt();
        let ha = 1.0 / (self.width as f64).sqrt();
        let high: Vec<f64> = (0..self.dim())
            .map(|i| if i < self.width * d { hw } else { ha })
            .collect();
        InitSpec::Uniform {
            low: Bound::Each(high.iter().map(|h| -h).collect()),
            high: Bound::Each(high),
        }
    }

    pub fn build(&self, rng: &mut RunRng) -> Mlp {
        let mut data = self.data.inputs(rng);
        let (d, h) = (data.d, self.width);
        let mut f = Mlp {
            x: std::mem::take(&mut data.x),
            y: std::mem::take(&mut data.y),
            n: data.n,
            d,
            width: h,
            activation: self.activation,
            teacher: None,
        };
        if !self.data.is_file() {
            let th = self.teacher_width.unwrap_or(h);
            let w = normal_vector(th * d, 1.0 / (d as f64).sqrt(), rng);
            let a = normal_vector(th, 1.0 / (th as f64).sqrt(), rng);
            let noise = normal_vector(f.n, self.data.label_noise(RULES), rng);
            let teacher = Mlp {
                width: th,
                y: vec![0.0; f.n],
                ..f.clone()
            };
            let theta: Vec<f64> = w.iter().chain(&a).copied().collect();
            f.y = (0..f.n)
                .map(|i| teacher.forward(&theta, i) + noise[i])
                .collect();
            if self.data.label_noise(RULES) == 0.0 && th <= h {
                // Zero units appended: the same function, value exactly 0.
                let mut padded = vec![0.0; h * (d + 1)];
                padded[..th * d].copy_from_slice(&w);
                padded[h * d..h * d + th].copy_from_slice(&a);
                f.teacher = Some(padded);
            }
        }
        f
    }
}

#[derive(Debug, Clone)]
pub struct Mlp {
    x: Vec<f64>,
    y: Vec<f64>,
    n: usize,
    d: usize,
    width: usize,
    activation: Activation,
    teacher: Option<Vec<f64>>,
}

impl Mlp {
    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    fn hidden<'a>(&self, theta: &'a [f64], j: usize) -> &'a [f64] {
        &theta[j * self.d..(j + 1) * self.d]
    }

    fn outer<'a>(&self, theta: &'a [f64]) -> &'a [f64] {
        &theta[self.width * self.d..]
    }

    /// The network's output on sample i.
    fn forward(&self, theta: &[f64], i: usize) -> f64 {
        let xi = self.row(i);
        let a = self.outer(theta);
        (0..self.width)
            .map(|j| a[j] * self.activation.eval(dot(self.hidden(theta, j), xi)).0)
            .sum()
    }

    fn mean_over(
        &self,
        theta: &[f64],
        samples: impl Iterator<Item = usize>,
        count: usize,
        grad: &mut [f64],
    ) -> f64 {
        let (d, h) = (self.d, self.width);
        grad.fill(0.0);
        let a = self.outer(theta);
        let mut loss = 0.0;
        for i in samples {
            let xi = self.row(i);
            let r = self.forward(theta, i) - self.y[i];
            loss += r * r;
            let (gw, ga) = grad.split_at_mut(h * d);
            for j in 0..h {
                let (phi, dphi, _) = self.activation.eval(dot(self.hidden(theta, j), xi));
                ga[j] += r * phi;
                let c = r * a[j] * dphi;
                for (g, x) in gw[j * d..(j + 1) * d].iter_mut().zip(xi) {
                    *g += c * x;
                }
            }
        }
        let scale = 1.0 / count as f64;
        grad.iter_mut().for_each(|g| *g *= scale);
        0.5 * loss * scale
    }
}

impl Landscape for Mlp {
    fn dim(&self) -> usize {
        self.width * (self.d + 1)
    }

    fn value(&self, theta: &[f64]) -> f64 {
        let loss: f64 = (0..self.n)
            .map(|i| {
                let r = self.forward(theta, i) - self.y[i];
                r * r
            })
            .sum();
        0.5 * loss * (1.0 / self.n as f64)
    }

    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        self.mean_over(theta, 0..self.n, self.n, grad)
    }

    fn samples(&self) -> Option<usize> {
        Some(self.n)
    }

    fn batch_value_and_gradient(&self, theta: &[f64], batch: &[usize], grad: &mut [f64]) -> f64 {
        self.mean_over(theta, batch.iter().copied(), batch.len(), grad)
    }

    fn hessian(&self, theta: &[f64]) -> DMatrix<f64> {
        hessian_from_hvp(self, theta)
    }

    fn hessian_vector_product(&self, theta: &[f64], v: &[f64], out: &mut [f64]) {
        let (d, h) = (self.d, self.width);
        out.fill(0.0);
        let a = self.outer(theta);
        let c = &v[h * d..];
        for i in 0..self.n {
            let xi = self.row(i);
            let (mut y_hat, mut r_out) = (0.0, 0.0);
            for j in 0..h {
                let (phi, dphi, _) = self.activation.eval(dot(self.hidden(theta, j), xi));
                y_hat += a[j] * phi;
                r_out += c[j] * phi + a[j] * dphi * dot(&v[j * d..(j + 1) * d], xi);
            }
            let r = y_hat - self.y[i];
            let (ow, oa) = out.split_at_mut(h * d);
            for j in 0..h {
                let (phi, dphi, ddphi) = self.activation.eval(dot(self.hidden(theta, j), xi));
                let rz = dot(&v[j * d..(j + 1) * d], xi);
                oa[j] += r_out * phi + r * dphi * rz;
                let coef = r_out * a[j] * dphi + r * c[j] * dphi + r * a[j] * ddphi * rz;
                for (o, x) in ow[j * d..(j + 1) * d].iter_mut().zip(xi) {
                    *o += coef * x;
                }
            }
        }
        let scale = 1.0 / self.n as f64;
        out.iter_mut().for_each(|o| *o *= scale);
    }

    fn hessian_diagonal(&self, theta: &[f64], out: &mut [f64]) {
        // ∂²/∂a_j² = mean φ_j²; ∂²/∂W_jk² = mean (a_j·φ'_j·x_k)² + r·a_j·φ''_j·x_k².
        let (d, h) = (self.d, self.width);
        out.fill(0.0);
        let a = self.outer(theta);
        for i in 0..self.n {
            let xi = self.row(i);
            let r = self.forward(theta, i) - self.y[i];
            let (ow, oa) = out.split_at_mut(h * d);
            for j in 0..h {
                let (phi, dphi, ddphi) = self.activation.eval(dot(self.hidden(theta, j), xi));
                oa[j] += phi * phi;
                let coef = (a[j] * dphi).powi(2) + r * a[j] * ddphi;
                for (o, x) in ow[j * d..(j + 1) * d].iter_mut().zip(xi) {
                    *o += coef * x * x;
                }
            }
        }
        let scale = 1.0 / self.n as f64;
        out.iter_mut().for_each(|o| *o *= scale);
    }

    fn minima(&self) -> Vec<KnownPoint> {
        self.teacher
            .iter()
            .map(|t| KnownPoint {
                label: "teacher".into(),
                x: t.clone(),
                value: self.value(t),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::testing::{assert_gradient_matches, assert_hessian_matches};
    use crate::rng::{rng_for, Stream};

    #[test]
    fn derivatives_and_teacher_minimum() {
        for activation in ["tanh", "relu"] {
            let spec: MlpSpec = toml::from_str(&format!(
                "width = 3\nteacher_width = 2\nactivation = \"{activation}\"\ndata = {{ n = 30, d = 4 }}"
            ))
            .unwrap();
            spec.validate().unwrap();
            let f = spec.build(&mut rng_for(5, "mlp", Stream::Landscape));
            assert_eq!(f.dim(), 15);
            let x: Vec<f64> = (0..15).map(|i| (i as f64 * 0.71).sin()).collect();
            assert_gradient_matches(&f, &x, 1e-7);
            assert_hessian_matches(&f, &x, 1e-6);
            let mut diag = vec![0.0; 15];
            f.hessian_diagonal(&x, &mut diag);
            let h = f.hessian(&x);
            for (i, dv) in diag.iter().enumerate() {
                assert!((dv - h[(i, i)]).abs() < 1e-12, "{activation} {i}");
            }
            let m = &f.minima()[0];
            assert_eq!(m.value, 0.0);
        }
    }
}
