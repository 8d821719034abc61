//! Griewank's function, f(x) = Σᵢ xᵢ²/4000 − Πᵢ cos(xᵢ/√i) + 1 (i from 1): a wide bowl with a
//! fine product of cosines on top, global minimum 0 at the origin. Domain
//! [−600, 600]^d; the plots of the 2-D function show [−10, 10]².
//!
//! Reference: A. O. Griewank, *Generalized descent for global optimization*, J. Optim. Theory Appl. 34 (1981) 11–39; VLSE.

use super::{check_dim, compile, Definition};
use crate::error::SpecError;
use crate::landscape::expression::Expression;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GriewankSpec {
    pub dim: usize,
}

impl crate::registry::Documented for GriewankSpec {
    const SUMMARY: &'static str = "Griewank's function: f = Σ xᵢ²/4000 − Π cos(xᵢ/√i) + 1 (i from 1); global minimum 0 at the origin, a lattice of local minima; domain [−600, 600]^d (plots of the 2-D function show [−10, 10]²).";
    const CONVENTION: &'static str =
        "Surjanovic & Bingham, Virtual Library of Simulation Experiments (sfu.ca/~ssurjano).";
    const EXAMPLE: &'static str = "dim = 2";
}

impl Definition for GriewankSpec {
    const FORMULA: &'static str =
        "sum(i, 0, d, x[i]^2) / 4000 - prod(i, 0, d, cos(x[i] / sqrt(i + 1))) + 1";

    fn dim(&self) -> usize {
        self.dim
    }

    fn domain(&self, _i: usize) -> [f64; 2] {
        [-600.0, 600.0]
    }

    fn minima(&self) -> Vec<(String, Vec<f64>)> {
        vec![("origin".into(), vec![0.0; self.dim])]
    }

    fn minimum_value(&self) -> f64 {
        0.0
    }

    fn view(&self) -> [[f64; 2]; 2] {
        [[-10.0, 10.0], [-10.0, 10.0]]
    }
}

impl GriewankSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        check_dim(self.dim, 1)
    }

    pub fn build(&self) -> Expression {
        compile(self)
    }
}

crate::test_function!(GriewankSpec);
