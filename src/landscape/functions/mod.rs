//! The standard test functions of optimisation, each a kind of its own, as
//! the Virtual Library of Simulation Experiments defines them (Surjanovic &
//! Bingham, <https://www.sfu.ca/~ssurjano/optimization.html>), with their
//! domains and known minima.
//!
//! Rosenbrock and Ackley are written by hand (Rosenbrock is the baseline the
//! expression engine is measured against; Ackley's cone at the origin needs a
//! chosen subgradient). The others are formulas compiled by the expression
//! engine ([`super::expression`]), so their derivatives are exact by
//! automatic differentiation. Each file holds its formula, domain, minima
//! and reference; `tests.rs` checks them all against sympy and the published
//! minima.

pub mod ackley;
pub mod beale;
pub mod booth;
pub mod goldstein_price;
pub mod griewank;
pub mod himmelblau;
pub mod levy;
pub mod rosenbrock;
pub mod six_hump_camel;
pub mod styblinski_tang;

use super::expression::{parse, tape, Expression};
use super::{Bound, InitSpec};
use crate::error::{check, SpecError};
use crate::memory::{f64s, Allocation};

/// What a test function is: its formula (in the expression language), its
/// domain, its minima. The kinds implement [`super::LandscapeSpec`] through
/// [`test_function!`].
pub trait Definition {
    /// The formula, for the expression engine.
    const FORMULA: &'static str;
    /// The search domain per coordinate, [low, high] (VLSE's).
    fn domain(&self, i: usize) -> [f64; 2];
    fn dim(&self) -> usize;
    /// The known global minima: label and point.
    fn minima(&self) -> Vec<(String, Vec<f64>)>;
    /// The global minimum's value.
    fn minimum_value(&self) -> f64;
    /// The contour plots' box (2-D): the domain unless a kind zooms in.
    fn view(&self) -> [[f64; 2]; 2] {
        [self.domain(0), self.domain(1)]
    }
}

/// The expression landscape of a definition.
pub fn compile<D: Definition>(def: &D) -> Expression {
    let ast = parse::parse(D::FORMULA).expect("a built-in formula parses");
    let tape = tape::compile(&ast, def.dim(), &Default::default()).expect("and compiles");
    let minima = def.minima();
    let points: Vec<Vec<f64>> = minima.iter().map(|(_, x)| x.clone()).collect();
    let labels: Vec<&str> = minima.iter().map(|(l, _)| l.as_str()).collect();
    let view = (def.dim() == 2).then(|| def.view());
    Expression::new(tape, &points, Some(def.minimum_value()), view)
        .with_labels(&labels)
        .with_values(def.minimum_value())
}

/// The uniform init over the domain.
pub fn domain_init<D: Definition>(def: &D) -> InitSpec {
    InitSpec::Uniform {
        low: Bound::Each((0..def.dim()).map(|i| def.domain(i)[0]).collect()),
        high: Bound::Each((0..def.dim()).map(|i| def.domain(i)[1]).collect()),
    }
}

/// `dim` of a d-dimensional test function: at least `min`, and small enough
/// for a per-step tape.
pub fn check_dim(dim: usize, min: u64) -> Result<(), SpecError> {
    check::at_least("dim", dim as u64, min)?;
    if dim > tape::MAX_OPS / 16 {
        return Err(SpecError::new(
            "dim",
            format!("must be at most {}, got {dim}", tape::MAX_OPS / 16),
        ));
    }
    Ok(())
}

/// The memory of a test function of `dim` coordinates (its per-thread
/// buffers, at most ~20 slots per coordinate).
pub fn memory(dim: usize) -> Vec<Allocation> {
    let d = dim as u64;
    vec![Allocation::per_run(
        "dim",
        format!("dim = {d}"),
        "evaluation buffers",
        f64s(d.saturating_mul(120)),
    )]
}

/// Implements [`super::LandscapeSpec`] for a test function's spec that
/// implements [`Definition`] and has an inherent `validate`.
#[macro_export]
macro_rules! test_function {
    ($spec:ty) => {
        impl $crate::landscape::LandscapeSpec for $spec {
            fn memory(&self) -> Vec<$crate::memory::Allocation> {
                $crate::landscape::functions::memory($crate::landscape::functions::Definition::dim(
                    self,
                ))
            }
            fn validate(&self) -> Result<(), $crate::error::SpecError> {
                <$spec>::validate(self)
            }
            fn dim(&self) -> usize {
                $crate::landscape::functions::Definition::dim(self)
            }
            fn default_init(&self) -> $crate::landscape::InitSpec {
                $crate::landscape::functions::domain_init(self)
            }
            fn build(
                &self,
                _rng: &mut $crate::rng::RunRng,
            ) -> Box<dyn $crate::landscape::Landscape> {
                Box::new(<$spec>::build(self))
            }
        }
    };
}

#[cfg(test)]
mod tests;
