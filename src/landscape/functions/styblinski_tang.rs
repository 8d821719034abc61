//! The Styblinski–Tang function, f(x) = ½ Σᵢ (xᵢ⁴ − 16xᵢ² + 5xᵢ): separable, 2^d local minima; the global
//! one at xᵢ = −2.903534027771177 for every i, value −39.16616570377142·d.
//! Domain [−5, 5]^d.
//!
//! Reference: M. A. Styblinski and T.-S. Tang, *Experiments in nonconvex optimization: stochastic approximation with function smoothing and simulated annealing*, Neural Networks 3 (1990) 467–483; VLSE; digits by Newton's method in mpmath.

use super::{check_dim, compile, Definition};
use crate::error::SpecError;
use crate::landscape::expression::Expression;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyblinskiTangSpec {
    pub dim: usize,
}

impl crate::registry::Documented for StyblinskiTangSpec {
    const SUMMARY: &'static str = "The Styblinski–Tang function: f = ½ Σ (xᵢ⁴ − 16xᵢ² + 5xᵢ); 2^d local minima, the global one at xᵢ = −2.903534 (every i), value −39.166166·d; domain [−5, 5]^d.";
    const CONVENTION: &'static str =
        "Surjanovic & Bingham, Virtual Library of Simulation Experiments (sfu.ca/~ssurjano).";
    const EXAMPLE: &'static str = "dim = 2";
}

impl Definition for StyblinskiTangSpec {
    const FORMULA: &'static str = "sum(i, 0, d, x[i]^4 - 16*x[i]^2 + 5*x[i]) / 2";

    fn dim(&self) -> usize {
        self.dim
    }

    fn domain(&self, _i: usize) -> [f64; 2] {
        [-5.0, 5.0]
    }

    fn minima(&self) -> Vec<(String, Vec<f64>)> {
        vec![("all -2.9035".into(), vec![-2.903534027771177; self.dim])]
    }

    fn minimum_value(&self) -> f64 {
        -39.16616570377142 * self.dim as f64
    }
}

impl StyblinskiTangSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        check_dim(self.dim, 1)
    }

    pub fn build(&self) -> Expression {
        compile(self)
    }
}

crate::test_function!(StyblinskiTangSpec);
