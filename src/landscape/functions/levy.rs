//! The Levy function, with wᵢ = 1 + (xᵢ − 1)/4,
//! f(x) = sin²(πw₁) + Σᵢ₌₁^(d−1) (wᵢ − 1)²[1 + 10 sin²(πwᵢ + 1)]
//!        + (w_d − 1)²[1 + sin²(2πw_d)]:
//! many local minima, the global one 0 at (1, …, 1). Domain [−10, 10]^d.
//!
//! Reference: A. V. Levy and A. Montalvo, *The tunneling algorithm for the global minimization of functions*, SIAM J. Sci. Stat. Comput. 6 (1985) 15–29; VLSE's form.

use super::{check_dim, compile, Definition};
use crate::error::SpecError;
use crate::landscape::expression::Expression;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevySpec {
    pub dim: usize,
}

impl crate::registry::Documented for LevySpec {
    const SUMMARY: &'static str = "The Levy function: with wᵢ = 1 + (xᵢ − 1)/4, f = sin²(πw₁) + Σᵢ<d (wᵢ − 1)²[1 + 10 sin²(πwᵢ + 1)] + (w_d − 1)²[1 + sin²(2πw_d)]; many local minima, the global one 0 at (1, …, 1); domain [−10, 10]^d.";
    const CONVENTION: &'static str =
        "Surjanovic & Bingham, Virtual Library of Simulation Experiments (sfu.ca/~ssurjano).";
    const EXAMPLE: &'static str = "dim = 2";
}

impl Definition for LevySpec {
    const FORMULA: &'static str = "sin(pi*(1 + (x0 - 1)/4))^2 + sum(i, 0, d-1, ((x[i] - 1)/4)^2 * (1 + 10*sin(pi*(1 + (x[i] - 1)/4) + 1)^2)) + ((x[d-1] - 1)/4)^2 * (1 + sin(2*pi*(1 + (x[d-1] - 1)/4))^2)";

    fn dim(&self) -> usize {
        self.dim
    }

    fn domain(&self, _i: usize) -> [f64; 2] {
        [-10.0, 10.0]
    }

    fn minima(&self) -> Vec<(String, Vec<f64>)> {
        vec![("ones".into(), vec![1.0; self.dim])]
    }

    fn minimum_value(&self) -> f64 {
        0.0
    }
}

impl LevySpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        check_dim(self.dim, 1)
    }

    pub fn build(&self) -> Expression {
        compile(self)
    }
}

crate::test_function!(LevySpec);
