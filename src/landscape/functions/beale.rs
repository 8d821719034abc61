//! Beale's function (2-D):
//! f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²:
//! global minimum 0 at (3, 0.5), flat valleys and sharp walls towards the
//! corners. Domain [−4.5, 4.5]².
//!
//! Reference: E. M. L. Beale, *On an iterative method for finding a local minimum of a function of more than one variable*, Princeton Univ. Statistical Techniques Research Group, Tech. Rep. 25 (1958); VLSE.

use super::{compile, Definition};
use crate::error::SpecError;
use crate::landscape::expression::Expression;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BealeSpec {}

impl crate::registry::Documented for BealeSpec {
    const SUMMARY: &'static str = "Beale's function (2-D): f = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²; global minimum 0 at (3, 0.5); domain [−4.5, 4.5]².";
    const CONVENTION: &'static str =
        "Surjanovic & Bingham, Virtual Library of Simulation Experiments (sfu.ca/~ssurjano).";
    const EXAMPLE: &'static str = "";
}

impl Definition for BealeSpec {
    const FORMULA: &'static str =
        "(1.5 - x0 + x0*x1)^2 + (2.25 - x0 + x0*x1^2)^2 + (2.625 - x0 + x0*x1^3)^2";

    fn dim(&self) -> usize {
        2
    }

    fn domain(&self, _i: usize) -> [f64; 2] {
        [-4.5, 4.5]
    }

    fn minima(&self) -> Vec<(String, Vec<f64>)> {
        vec![("(3, 0.5)".into(), vec![3.0, 0.5])]
    }

    fn minimum_value(&self) -> f64 {
        0.0
    }
}

impl BealeSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        Ok(())
    }

    pub fn build(&self) -> Expression {
        compile(self)
    }
}

crate::test_function!(BealeSpec);
