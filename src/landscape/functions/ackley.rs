//! The Ackley function, written by hand:
//! f(x) = −a·exp(−b·√(Σxᵢ²/d)) − exp(Σcos(c·xᵢ)/d) + a + e,
//! a = 20, b = 0.2, c = 2π: a nearly flat outer region, a lattice of local
//! minima, and a cone to the global minimum 0 at the origin. Domain
//! [−32.768, 32.768]^d; the plots of the 2-D function show [−5, 5]².
//!
//! At the origin the cone √(Σxᵢ²) has no derivative: valley takes its
//! subgradient of least norm, 0, so the gradient there is 0 (the cosine
//! term's is 0 too), and the Hessian there is the cosine term's alone (the
//! cone's curvature is unbounded). Elsewhere every derivative is the closed
//! form.
//!
//! Reference: D. H. Ackley, *A connectionist machine for genetic
//! hillclimbing*, Kluwer (1987); VLSE (with a, b, c as above).

use super::{check_dim, Definition};
use crate::error::SpecError;
use crate::landscape::{KnownPoint, Landscape};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::f64::consts::{E, PI};

const A: f64 = 20.0;
const B: f64 = 0.2;
const C: f64 = 2.0 * PI;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckleySpec {
    pub dim: usize,
}

impl crate::registry::Documented for AckleySpec {
    const SUMMARY: &'static str = "The Ackley function: f = −20·exp(−0.2·√(Σxᵢ²/d)) − exp(Σcos(2πxᵢ)/d) + 20 + e; a lattice of local minima and a cone to the global minimum 0 at the origin (its gradient there is the subgradient 0); domain [−32.768, 32.768]^d. Written by hand.";
    const CONVENTION: &'static str =
        "Ackley (1987); Surjanovic & Bingham, Virtual Library of Simulation Experiments (a = 20, b = 0.2, c = 2π).";
    const EXAMPLE: &'static str = "dim = 2";
}

impl Definition for AckleySpec {
    const FORMULA: &'static str =
        "-20*exp(-0.2*sqrt(sum(i, 0, d, x[i]^2)/d)) - exp(sum(i, 0, d, cos(2*pi*x[i]))/d) + 20 + e";

    fn dim(&self) -> usize {
        self.dim
    }

    fn domain(&self, _i: usize) -> [f64; 2] {
        [-32.768, 32.768]
    }

    fn minima(&self) -> Vec<(String, Vec<f64>)> {
        vec![("origin".into(), vec![0.0; self.dim])]
    }

    fn minimum_value(&self) -> f64 {
        0.0
    }

    fn view(&self) -> [[f64; 2]; 2] {
        [[-5.0, 5.0], [-5.0, 5.0]]
    }
}

impl AckleySpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        check_dim(self.dim, 1)
    }

    pub fn build(&self) -> Ackley {
        Ackley { dim: self.dim }
    }
}

crate::test_function!(AckleySpec);

#[derive(Debug, Clone)]
pub struct Ackley {
    pub dim: usize,
}

impl Ackley {
    /// r = √(Σxᵢ²/d), exp(−b·r) and exp(Σcos(c·xᵢ)/d).
    fn parts(&self, x: &[f64]) -> (f64, f64, f64) {
        let d = self.dim as f64;
        let r = (x.iter().map(|v| v * v).sum::<f64>() / d).sqrt();
        let cos = x.iter().map(|v| (C * v).cos()).sum::<f64>() / d;
        (r, (-B * r).exp(), cos.exp())
    }

    /// ∂²f/∂xᵢ∂xⱼ from [`Ackley::parts`]; the cone's part is left out at
    /// the origin, where it is unbounded.
    fn entry(&self, x: &[f64], (r, e1, e2): (f64, f64, f64), i: usize, j: usize) -> f64 {
        let d = self.dim as f64;
        let (xi, xj) = (x[i], x[j]);
        let delta = if i == j { 1.0 } else { 0.0 };
        let cone = if r > 0.0 {
            A * B
                * e1
                * (-B * xi * xj / (d * d * r * r) + delta / (d * r) - xi * xj / (d * d * r * r * r))
        } else {
            0.0
        };
        let wave =
            C / d * e2 * (delta * C * (C * xi).cos() - (C * xi).sin() * C * (C * xj).sin() / d);
        cone + wave
    }
}

impl Landscape for Ackley {
    fn dim(&self) -> usize {
        self.dim
    }

    fn value(&self, x: &[f64]) -> f64 {
        let (_, e1, e2) = self.parts(x);
        -A * e1 - e2 + A + E
    }

    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let d = self.dim as f64;
        let (r, e1, e2) = self.parts(x);
        // ∂r/∂xᵢ = xᵢ/(d·r); the subgradient 0 at r = 0.
        let cone = if r > 0.0 { A * B * e1 / (d * r) } else { 0.0 };
        for (g, &v) in grad.iter_mut().zip(x) {
            *g = cone * v + C / d * (C * v).sin() * e2;
        }
        -A * e1 - e2 + A + E
    }

    fn hessian(&self, x: &[f64]) -> DMatrix<f64> {
        let parts = self.parts(x);
        DMatrix::from_fn(self.dim, self.dim, |i, j| self.entry(x, parts, i, j))
    }

    fn hessian_diagonal(&self, x: &[f64], out: &mut [f64]) {
        let parts = self.parts(x);
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.entry(x, parts, i, i);
        }
    }

    fn minima(&self) -> Vec<KnownPoint> {
        vec![KnownPoint {
            label: "origin".into(),
            x: vec![0.0; self.dim],
            value: 0.0,
        }]
    }

    fn view_box(&self) -> Option<[[f64; 2]; 2]> {
        (self.dim == 2).then(|| AckleySpec { dim: 2 }.view())
    }
}
