//! The Rosenbrock function, written by hand:
//! f(x) = Σᵢ₌₁^(d−1) [100(xᵢ₊₁ − xᵢ²)² + (xᵢ − 1)²], a curved, narrow valley
//! whose floor leads slowly to the global minimum 0 at (1, …, 1). For
//! 4 ≤ d ≤ 7 there is one more local minimum near (−1, 1, …, 1). Domain
//! [−5, 10]^d (VLSE); the plots of the 2-D function show [−2, 2] × [−1, 3].
//!
//! Value, gradient and Hessian are the closed forms below (the Hessian is
//! tridiagonal); the same function compiled by the expression engine is the
//! benchmark's measure of the engine's speed (benches/expression.rs).
//!
//! Reference: H. H. Rosenbrock, *An automatic method for finding the greatest
//! or least value of a function*, Comput. J. 3 (1960) 175–184; VLSE.

use super::{check_dim, Definition};
use crate::error::SpecError;
use crate::landscape::{KnownPoint, Landscape};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosenbrockSpec {
    pub dim: usize,
}

impl crate::registry::Documented for RosenbrockSpec {
    const SUMMARY: &'static str = "The Rosenbrock function: f = Σᵢ<d [100(xᵢ₊₁ − xᵢ²)² + (xᵢ − 1)²], a curved narrow valley; global minimum 0 at (1, …, 1) (and, for 4 ≤ dim ≤ 7, a local one near (−1, 1, …, 1)); domain [−5, 10]^d. Written by hand (closed-form gradient and tridiagonal Hessian).";
    const CONVENTION: &'static str =
        "Rosenbrock (1960); Surjanovic & Bingham, Virtual Library of Simulation Experiments.";
    const EXAMPLE: &'static str = "dim = 2";
}

impl Definition for RosenbrockSpec {
    const FORMULA: &'static str = "sum(i, 0, d-1, 100*(x[i+1] - x[i]^2)^2 + (x[i] - 1)^2)";

    fn dim(&self) -> usize {
        self.dim
    }

    fn domain(&self, _i: usize) -> [f64; 2] {
        [-5.0, 10.0]
    }

    fn minima(&self) -> Vec<(String, Vec<f64>)> {
        vec![("ones".into(), vec![1.0; self.dim])]
    }

    fn minimum_value(&self) -> f64 {
        0.0
    }

    fn view(&self) -> [[f64; 2]; 2] {
        [[-2.0, 2.0], [-1.0, 3.0]]
    }
}

impl RosenbrockSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        check_dim(self.dim, 2)
    }

    pub fn build(&self) -> Rosenbrock {
        Rosenbrock { dim: self.dim }
    }
}

crate::test_function!(RosenbrockSpec);

#[derive(Debug, Clone)]
pub struct Rosenbrock {
    pub dim: usize,
}

impl Landscape for Rosenbrock {
    fn dim(&self) -> usize {
        self.dim
    }

    fn value(&self, x: &[f64]) -> f64 {
        x.windows(2)
            .map(|w| {
                let (a, b) = (w[0], w[1]);
                100.0 * (b - a * a) * (b - a * a) + (a - 1.0) * (a - 1.0)
            })
            .sum()
    }

    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        grad.fill(0.0);
        let mut f = 0.0;
        for i in 0..self.dim - 1 {
            let (a, b) = (x[i], x[i + 1]);
            let r = b - a * a;
            f += 100.0 * r * r + (a - 1.0) * (a - 1.0);
            grad[i] += -400.0 * a * r + 2.0 * (a - 1.0);
            grad[i + 1] += 200.0 * r;
        }
        f
    }

    fn hessian(&self, x: &[f64]) -> DMatrix<f64> {
        let mut h = DMatrix::zeros(self.dim, self.dim);
        for i in 0..self.dim - 1 {
            let (a, b) = (x[i], x[i + 1]);
            h[(i, i)] += 1200.0 * a * a - 400.0 * b + 2.0;
            h[(i + 1, i + 1)] += 200.0;
            h[(i, i + 1)] = -400.0 * a;
            h[(i + 1, i)] = -400.0 * a;
        }
        h
    }

    fn hessian_vector_product(&self, x: &[f64], v: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for i in 0..self.dim - 1 {
            let (a, b) = (x[i], x[i + 1]);
            out[i] += (1200.0 * a * a - 400.0 * b + 2.0) * v[i] - 400.0 * a * v[i + 1];
            out[i + 1] += 200.0 * v[i + 1] - 400.0 * a * v[i];
        }
    }

    fn hessian_diagonal(&self, x: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for i in 0..self.dim - 1 {
            out[i] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
            out[i + 1] += 200.0;
        }
    }

    fn minima(&self) -> Vec<KnownPoint> {
        vec![KnownPoint {
            label: "ones".into(),
            x: vec![1.0; self.dim],
            value: 0.0,
        }]
    }

    fn view_box(&self) -> Option<[[f64; 2]; 2]> {
        (self.dim == 2).then(|| RosenbrockSpec { dim: 2 }.view())
    }
}
