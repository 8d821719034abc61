//! Quadratic bowl with a chosen spectrum: f(x) = x'Hx/2, H = Q·diag(λ)·Q'.
//!
//! Minimum 0 at the origin. Without rotation Q = I and every operation is O(d);
//! with `rotate = true`, Q is a Haar-random orthogonal matrix (QR of a Gaussian
//! matrix with the signs of R's diagonal fixed, Mezzadri 2007) drawn from the
//! landscape's seed, and the gradient costs O(d^2).

use super::{Bound, InitSpec, KnownPoint, Landscape, LandscapeSpec};
use crate::error::{check, SpecError};
use crate::memory::{f64s, Allocation};
use crate::rng::RunRng;
use nalgebra::{DMatrix, DVector};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// The eigenvalues of H: a list, or a spectrum rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Spectrum {
    List(Vec<f64>),
    Rule(SpectrumRule),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SpectrumRule {
    /// λ_i = min·(max/min)^(i/(d-1)), i = 0..d-1.
    Geometric { min: f64, max: f64 },
    /// λ_i = min + (max-min)·i/(d-1).
    Linear { min: f64, max: f64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuadraticSpec {
    pub dim: usize,
    pub eigenvalues: Spectrum,
    #[serde(default)]
    pub rotate: bool,
}

impl crate::registry::Documented for QuadraticSpec {
    const SUMMARY: &'static str = "f(x) = x'Hx/2, H = Q·diag(λ)·Q'; minimum 0 at the origin. `eigenvalues`: a list of dim values, or `{ kind = \"geometric\" | \"linear\", min, max }`; `rotate`: Q Haar-random from the landscape's seed, else Q = I.";
    const CONVENTION: &'static str = "Textbook quadratic; Haar rotation as in Mezzadri (2007).";
    const EXAMPLE: &'static str =
        "dim = 10\neigenvalues = { kind = \"geometric\", min = 0.01, max = 10.0 }";
}

/// λ_0..λ_(d-1), ascending for the rules.
pub fn eigenvalues(spectrum: &Spectrum, dim: usize) -> Vec<f64> {
    match spectrum {
        Spectrum::List(v) => v.clone(),
        Spectrum::Rule(SpectrumRule::Geometric { min, max }) => (0..dim)
            .map(|i| {
                if dim == 1 {
                    *min
                } else {
                    min * (max / min).powf(i as f64 / (dim - 1) as f64)
                }
            })
            .collect(),
        Spectrum::Rule(SpectrumRule::Linear { min, max }) => (0..dim)
            .map(|i| {
                if dim == 1 {
                    *min
                } else {
                    min + (max - min) * i as f64 / (dim - 1) as f64
                }
            })
            .collect(),
    }
}

impl LandscapeSpec for QuadraticSpec {
    /// What it allocates, for the memory estimate ([`crate::config::estimate`]).
    fn memory(&self) -> Vec<Allocation> {
        let d = self.dim as u64;
        let mut out = vec![Allocation::shared(
            "dim",
            format!("dim = {d}"),
            "eigenvalue vector",
            f64s(d),
        )];
        if self.rotate {
            // Q is kept; drawing it (haar_orthogonal) also holds the
            // Gaussian matrix's QR factorisation and R: 3·d² at the peak.
            let dd = f64s(d.saturating_mul(d));
            out.push(
                Allocation::shared(
                    "dim",
                    format!("dim = {d} with rotate = true"),
                    "rotation matrix",
                    dd,
                )
                .building(dd.saturating_mul(2)),
            );
        }
        out
    }

    fn validate(&self) -> Result<(), SpecError> {
        QuadraticSpec::validate(self)
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn default_init(&self) -> InitSpec {
        InitSpec::Uniform {
            low: Bound::All(-1.0),
            high: Bound::All(1.0),
        }
    }

    fn build(&self, rng: &mut RunRng) -> Box<dyn Landscape> {
        Box::new(QuadraticSpec::build(self, rng))
    }
}

impl QuadraticSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        check::at_least("dim", self.dim as u64, 1)?;
        match &self.eigenvalues {
            Spectrum::List(v) => {
                if v.len() != self.dim {
                    return Err(SpecError::new(
                        "eigenvalues",
                        format!("has {} values, dim is {}", v.len(), self.dim),
                    ));
                }
                for &l in v {
                    check::finite("eigenvalues", l)?;
                }
            }
            Spectrum::Rule(SpectrumRule::Geometric { min, max }) => {
                check::positive("eigenvalues.min", *min)?;
                check::positive("eigenvalues.max", *max)?;
                if max < min {
                    return Err(SpecError::new(
                        "eigenvalues.max",
                        format!("must be >= min ({min}), got {max}"),
                    ));
                }
            }
            Spectrum::Rule(SpectrumRule::Linear { min, max }) => {
                check::finite("eigenvalues.min", *min)?;
                check::finite("eigenvalues.max", *max)?;
                if max < min {
                    return Err(SpecError::new(
                        "eigenvalues.max",
                        format!("must be >= min ({min}), got {max}"),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn build(&self, rng: &mut RunRng) -> Quadratic {
        let lambda = eigenvalues(&self.eigenvalues, self.dim);
        let basis = self.rotate.then(|| haar_orthogonal(self.dim, rng));
        Quadratic::new(lambda, basis)
    }
}

/// A Haar-distributed random orthogonal matrix (Mezzadri 2007).
pub fn haar_orthogonal(d: usize, rng: &mut RunRng) -> DMatrix<f64> {
    let g = DMatrix::from_fn(d, d, |_, _| StandardNormal.sample(rng));
    let qr = g.qr();
    let mut q = qr.q();
    let r = qr.r();
    for j in 0..d {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    q
}

/// f(x) = x'Hx/2 with H = Q·diag(λ)·Q' (Q = I when `basis` is `None`).
#[derive(Debug, Clone)]
pub struct Quadratic {
    lambda: Vec<f64>,
    basis: Option<DMatrix<f64>>,
}

impl Quadratic {
    pub fn new(lambda: Vec<f64>, basis: Option<DMatrix<f64>>) -> Self {
        Self { lambda, basis }
    }

    pub fn eigenvalues(&self) -> &[f64] {
        &self.lambda
    }

    /// `out = H·v` without forming H.
    fn apply(&self, v: &[f64], out: &mut [f64]) {
        match &self.basis {
            None => {
                for ((o, l), vi) in out.iter_mut().zip(&self.lambda).zip(v) {
                    *o = l * vi;
                }
            }
            Some(q) => {
                // out = Q·(λ ∘ (Q'·v)); two passes over Q, no allocation.
                let d = self.lambda.len();
                out.fill(0.0);
                for k in 0..d {
                    let col = q.column(k);
                    let mut c = 0.0;
                    for i in 0..d {
                        c += col[i] * v[i];
                    }
                    c *= self.lambda[k];
                    for i in 0..d {
                        out[i] += col[i] * c;
                    }
                }
            }
        }
    }
}

impl Landscape for Quadratic {
    fn dim(&self) -> usize {
        self.lambda.len()
    }

    fn value(&self, x: &[f64]) -> f64 {
        match &self.basis {
            None => {
                0.5 * self
                    .lambda
                    .iter()
                    .zip(x)
                    .map(|(l, v)| l * v * v)
                    .sum::<f64>()
            }
            Some(q) => {
                let y = q.tr_mul(&DVector::from_column_slice(x));
                0.5 * self
                    .lambda
                    .iter()
                    .zip(y.iter())
                    .map(|(l, v)| l * v * v)
                    .sum::<f64>()
            }
        }
    }

    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.apply(x, grad);
        0.5 * x.iter().zip(grad.iter()).map(|(a, b)| a * b).sum::<f64>()
    }

    fn hessian(&self, _x: &[f64]) -> DMatrix<f64> {
        let diag = DMatrix::from_diagonal(&DVector::from_column_slice(&self.lambda));
        match &self.basis {
            None => diag,
            Some(q) => q * diag * q.transpose(),
        }
    }

    fn hessian_vector_product(&self, _x: &[f64], v: &[f64], out: &mut [f64]) {
        self.apply(v, out);
    }

    fn hessian_diagonal(&self, _x: &[f64], out: &mut [f64]) {
        match &self.basis {
            None => out.copy_from_slice(&self.lambda),
            Some(q) => {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = (0..self.lambda.len())
                        .map(|k| q[(i, k)] * q[(i, k)] * self.lambda[k])
                        .sum();
                }
            }
        }
    }

    fn view_box(&self) -> Option<[[f64; 2]; 2]> {
        (self.lambda.len() == 2).then_some([[-1.5, 1.5], [-1.5, 1.5]])
    }

    fn minima(&self) -> Vec<KnownPoint> {
        // With a negative eigenvalue the origin is a saddle, not a minimum.
        if self.lambda.iter().all(|&l| l >= 0.0) {
            vec![KnownPoint {
                label: "origin".into(),
                x: vec![0.0; self.lambda.len()],
                value: 0.0,
            }]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::testing::assert_gradient_matches;
    use crate::rng::{rng_for, Stream};
    use approx::assert_relative_eq;

    #[test]
    fn spectrum_rules_hit_their_ends() {
        let g = eigenvalues(
            &Spectrum::Rule(SpectrumRule::Geometric {
                min: 0.01,
                max: 10.0,
            }),
            4,
        );
        assert_relative_eq!(g[0], 0.01);
        assert_relative_eq!(g[1], 0.1, max_relative = 1e-14);
        assert_relative_eq!(g[3], 10.0, max_relative = 1e-14);
        let l = eigenvalues(
            &Spectrum::Rule(SpectrumRule::Linear { min: 1.0, max: 4.0 }),
            4,
        );
        assert_eq!(l, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn rotated_hessian_has_the_chosen_spectrum() {
        let spec = QuadraticSpec {
            dim: 6,
            eigenvalues: Spectrum::List(vec![0.5, 1.0, 2.0, 3.0, 5.0, 8.0]),
            rotate: true,
        };
        let f = spec.build(&mut rng_for(7, "q", Stream::Landscape));
        let x = [0.3, -0.2, 0.9, 0.1, -0.7, 0.4];
        let eig = f.hessian(&x).symmetric_eigenvalues();
        let mut e: Vec<f64> = eig.iter().copied().collect();
        e.sort_by(f64::total_cmp);
        for (a, b) in e.iter().zip([0.5, 1.0, 2.0, 3.0, 5.0, 8.0]) {
            assert_relative_eq!(*a, b, max_relative = 1e-12);
        }
        // The basis really rotates: H is not diagonal.
        assert!(f.hessian(&x)[(0, 1)].abs() > 1e-6);
        assert_gradient_matches(&f, &x, 1e-7);
        // x'Hx/2 by the dense Hessian.
        let h = f.hessian(&x);
        let xv = DVector::from_column_slice(&x);
        assert_relative_eq!(f.value(&x), 0.5 * xv.dot(&(&h * &xv)), max_relative = 1e-12);
        let mut diag = vec![0.0; 6];
        f.hessian_diagonal(&x, &mut diag);
        for (i, d) in diag.iter().enumerate() {
            assert_relative_eq!(*d, h[(i, i)], max_relative = 1e-12);
        }
    }
}
