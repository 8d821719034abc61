//! Himmelblau's function (2-D):
//! f(x, y) = (x² + y − 11)² + (x + y² − 7)²: four global minima of value 0,
//! at (3, 2) and three irrational points, and a local maximum at
//! (−0.270845, −0.923039). Domain [−5, 5]².
//!
//! Reference: D. M. Himmelblau, *Applied Nonlinear Programming*, McGraw-Hill (1972); minima to 16 digits by Newton's method in mpmath (scripts/golden_expressions.py).

use super::{compile, Definition};
use crate::error::SpecError;
use crate::landscape::expression::Expression;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HimmelblauSpec {}

impl crate::registry::Documented for HimmelblauSpec {
    const SUMMARY: &'static str = "Himmelblau's function (2-D): f = (x² + y − 11)² + (x + y² − 7)²; four global minima of value 0, at (3, 2), (−2.805118, 3.131313), (−3.779310, −3.283186) and (3.584428, −1.848127); domain [−5, 5]² (the default init).";
    const CONVENTION: &'static str =
        "Surjanovic & Bingham, Virtual Library of Simulation Experiments (sfu.ca/~ssurjano).";
    const EXAMPLE: &'static str = "";
}

impl Definition for HimmelblauSpec {
    const FORMULA: &'static str = "(x0^2 + x1 - 11)^2 + (x0 + x1^2 - 7)^2";

    fn dim(&self) -> usize {
        2
    }

    fn domain(&self, _i: usize) -> [f64; 2] {
        [-5.0, 5.0]
    }

    fn minima(&self) -> Vec<(String, Vec<f64>)> {
        vec![
            ("(3, 2)".into(), vec![3.0, 2.0]),
            (
                "(-2.81, 3.13)".into(),
                vec![-2.805118086952745, 3.131312518250573],
            ),
            (
                "(-3.78, -3.28)".into(),
                vec![-3.779310253377747, -3.2831859912861696],
            ),
            (
                "(3.58, -1.85)".into(),
                vec![3.5844283403304917, -1.8481265269644036],
            ),
        ]
    }

    fn minimum_value(&self) -> f64 {
        0.0
    }
}

impl HimmelblauSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        Ok(())
    }

    pub fn build(&self) -> Expression {
        compile(self)
    }
}

crate::test_function!(HimmelblauSpec);
