//! The Goldstein–Price function (2-D):
//! f(x, y) = [1 + (x + y + 1)²(19 − 14x + 3x² − 14y + 6xy + 3y²)]
//!          · [30 + (2x − 3y)²(18 − 32x + 12x² + 48y − 36xy + 27y²)]:
//! global minimum 3 at (0, −1), several local minima, values up to 10⁶ on
//! the domain [−2, 2]².
//!
//! Reference: A. A. Goldstein and J. F. Price, *On descent from local minima*, Math. Comp. 25 (1971) 569–574; VLSE.

use super::{compile, Definition};
use crate::error::SpecError;
use crate::landscape::expression::Expression;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoldsteinPriceSpec {}

impl crate::registry::Documented for GoldsteinPriceSpec {
    const SUMMARY: &'static str = "The Goldstein–Price function (2-D): global minimum 3 at (0, −1), several local minima, values up to ~10⁶; domain [−2, 2]².";
    const CONVENTION: &'static str =
        "Surjanovic & Bingham, Virtual Library of Simulation Experiments (sfu.ca/~ssurjano).";
    const EXAMPLE: &'static str = "";
}

impl Definition for GoldsteinPriceSpec {
    const FORMULA: &'static str = "(1 + (x0 + x1 + 1)^2*(19 - 14*x0 + 3*x0^2 - 14*x1 + 6*x0*x1 + 3*x1^2)) * (30 + (2*x0 - 3*x1)^2*(18 - 32*x0 + 12*x0^2 + 48*x1 - 36*x0*x1 + 27*x1^2))";

    fn dim(&self) -> usize {
        2
    }

    fn domain(&self, _i: usize) -> [f64; 2] {
        [-2.0, 2.0]
    }

    fn minima(&self) -> Vec<(String, Vec<f64>)> {
        vec![("(0, -1)".into(), vec![0.0, -1.0])]
    }

    fn minimum_value(&self) -> f64 {
        3.0
    }
}

impl GoldsteinPriceSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        Ok(())
    }

    pub fn build(&self) -> Expression {
        compile(self)
    }
}

crate::test_function!(GoldsteinPriceSpec);
