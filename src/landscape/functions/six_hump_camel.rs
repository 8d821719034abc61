//! The six-hump camel function (2-D):
//! f(x, y) = (4 − 2.1x² + x⁴/3)x² + xy + (−4 + 4y²)y²: six local minima,
//! two of them global, value −1.031628453489877 at ±(0.0898420131, −0.7126564030).
//! Domain x ∈ [−3, 3], y ∈ [−2, 2]; the plots show [−2, 2] × [−1, 1].
//!
//! Reference: L. C. W. Dixon and G. P. Szegö, *The global optimisation problem: an introduction*, in Towards Global Optimisation 2, North-Holland (1978); VLSE (−1.0316 at ±(0.0898, −0.7126)); digits by Newton's method in mpmath.

use super::{compile, Definition};
use crate::error::SpecError;
use crate::landscape::expression::Expression;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SixHumpCamelSpec {}

impl crate::registry::Documented for SixHumpCamelSpec {
    const SUMMARY: &'static str = "The six-hump camel function (2-D): f = (4 − 2.1x² + x⁴/3)x² + xy + (−4 + 4y²)y²; six local minima, the two global ones −1.031628 at ±(0.089842, −0.712656); domain x ∈ [−3, 3], y ∈ [−2, 2].";
    const CONVENTION: &'static str =
        "Surjanovic & Bingham, Virtual Library of Simulation Experiments (sfu.ca/~ssurjano).";
    const EXAMPLE: &'static str = "";
}

impl Definition for SixHumpCamelSpec {
    const FORMULA: &'static str = "(4 - 2.1*x0^2 + x0^4/3)*x0^2 + x0*x1 + (-4 + 4*x1^2)*x1^2";

    fn dim(&self) -> usize {
        2
    }

    fn domain(&self, i: usize) -> [f64; 2] {
        [[-3.0, 3.0], [-2.0, 2.0]][i]
    }

    fn minima(&self) -> Vec<(String, Vec<f64>)> {
        vec![
            (
                "(0.09, -0.71)".into(),
                vec![0.08984201310031806, -0.7126564030207396],
            ),
            (
                "(-0.09, 0.71)".into(),
                vec![-0.08984201310031806, 0.7126564030207396],
            ),
        ]
    }

    fn minimum_value(&self) -> f64 {
        -1.0316284534898774
    }

    fn view(&self) -> [[f64; 2]; 2] {
        [[-2.0, 2.0], [-1.0, 1.0]]
    }
}

impl SixHumpCamelSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        Ok(())
    }

    pub fn build(&self) -> Expression {
        compile(self)
    }
}

crate::test_function!(SixHumpCamelSpec);
