//! Booth's function (2-D):
//! f(x, y) = (x + 2y − 7)² + (2x + y − 5)²: a quadratic with Hessian
//! [[10, 8], [8, 10]] (eigenvalues 2 and 18), minimum 0 at (1, 3). Domain
//! [−10, 10]².
//!
//! Reference: VLSE (Surjanovic & Bingham); a plate-shaped quadratic.

use super::{compile, Definition};
use crate::error::SpecError;
use crate::landscape::expression::Expression;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoothSpec {}

impl crate::registry::Documented for BoothSpec {
    const SUMMARY: &'static str = "Booth's function (2-D): f = (x + 2y − 7)² + (2x + y − 5)², a quadratic with Hessian eigenvalues 2 and 18; minimum 0 at (1, 3); domain [−10, 10]².";
    const CONVENTION: &'static str =
        "Surjanovic & Bingham, Virtual Library of Simulation Experiments (sfu.ca/~ssurjano).";
    const EXAMPLE: &'static str = "";
}

impl Definition for BoothSpec {
    const FORMULA: &'static str = "(x0 + 2*x1 - 7)^2 + (2*x0 + x1 - 5)^2";

    fn dim(&self) -> usize {
        2
    }

    fn domain(&self, _i: usize) -> [f64; 2] {
        [-10.0, 10.0]
    }

    fn minima(&self) -> Vec<(String, Vec<f64>)> {
        vec![("(1, 3)".into(), vec![1.0, 3.0])]
    }

    fn minimum_value(&self) -> f64 {
        0.0
    }
}

impl BoothSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        Ok(())
    }

    pub fn build(&self) -> Expression {
        compile(self)
    }
}

crate::test_function!(BoothSpec);
