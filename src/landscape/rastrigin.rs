//! Rastrigin function (Rastrigin 1974; Mühlenbein et al. 1991):
//! f(x) = A·d + Σ_i (x_i² − A·cos(2π·x_i)), global minimum 0 at the origin,
//! a local minimum near every integer lattice point.
//!
//! The basin of a point is its nearest lattice point (rounding each
//! coordinate); the local minimum there sits slightly inside it, at the root of
//! x + A·π·sin(2π·x) = 0, e.g. 0.994958637652335 for the lattice point 1 and
//! A = 10, with value 0.994959057093292 per such coordinate.

use super::{Basin, Bound, InitSpec, KnownPoint, Landscape, LandscapeSpec};
use crate::error::{check, SpecError};
use crate::memory::{f64s, Allocation};
use crate::rng::RunRng;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

fn default_amplitude() -> f64 {
    10.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RastriginSpec {
    pub dim: usize,
    #[serde(default = "default_amplitude")]
    pub amplitude: f64,
}

impl crate::registry::Documented for RastriginSpec {
    const SUMMARY: &'static str = "f(x) = A·d + Σ (x_i² − A·cos(2π·x_i)), A = amplitude; global minimum 0 at the origin, a local minimum near every integer lattice point (its basin).";
    const CONVENTION: &'static str = "Rastrigin (1974); Mühlenbein et al. (1991).";
    const EXAMPLE: &'static str = "dim = 10";
}

impl LandscapeSpec for RastriginSpec {
    /// What it allocates, for the memory estimate ([`crate::config::estimate`]).
    fn memory(&self) -> Vec<Allocation> {
        let d = self.dim as u64;
        vec![Allocation::per_run(
            "dim",
            format!("dim = {d}"),
            "basin lattice point, minimum and label",
            f64s(d.saturating_mul(3)),
        )]
    }

    fn validate(&self) -> Result<(), SpecError> {
        RastriginSpec::validate(self)
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn default_init(&self) -> InitSpec {
        InitSpec::Uniform {
            low: Bound::All(-5.12),
            high: Bound::All(5.12),
        }
    }

    fn build(&self, _rng: &mut RunRng) -> Box<dyn Landscape> {
        Box::new(RastriginSpec::build(self))
    }
}

impl RastriginSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        check::at_least("dim", self.dim as u64, 1)?;
        check::non_negative("amplitude", self.amplitude)
    }

    pub fn build(&self) -> Rastrigin {
        Rastrigin {
            dim: self.dim,
            amplitude: self.amplitude,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rastrigin {
    pub dim: usize,
    pub amplitude: f64,
}

/// One coordinate's term: x² − A·cos(2πx) + A.
pub fn term(a: f64, x: f64) -> f64 {
    x * x - a * (2.0 * PI * x).cos() + a
}

/// d/dx of [`term`]: 2x + 2πA·sin(2πx).
pub fn term_derivative(a: f64, x: f64) -> f64 {
    2.0 * x + 2.0 * PI * a * (2.0 * PI * x).sin()
}

/// d²/dx² of [`term`]: 2 + 4π²A·cos(2πx).
pub fn term_curvature(a: f64, x: f64) -> f64 {
    2.0 + 4.0 * PI * PI * a * (2.0 * PI * x).cos()
}

/// The local minimum of one coordinate's term nearest to the integer `k`
/// (Newton's method on [`term_derivative`], to machine precision).
pub fn local_minimum(a: f64, k: f64) -> f64 {
    let mut x = k;
    for _ in 0..50 {
        let step = term_derivative(a, x) / term_curvature(a, x);
        x -= step;
        if step.abs() < 1e-16 {
            break;
        }
    }
    x
}

impl Landscape for Rastrigin {
    fn dim(&self) -> usize {
        self.dim
    }

    fn value(&self, x: &[f64]) -> f64 {
        x.iter().map(|&v| term(self.amplitude, v)).sum()
    }

    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let a = self.amplitude;
        let mut f = 0.0;
        for (g, &v) in grad.iter_mut().zip(x) {
            let (s, c) = (2.0 * PI * v).sin_cos();
            f += v * v - a * c + a;
            *g = 2.0 * v + 2.0 * PI * a * s;
        }
        f
    }

    fn hessian(&self, x: &[f64]) -> DMatrix<f64> {
        DMatrix::from_fn(self.dim, self.dim, |i, j| {
            if i == j {
                term_curvature(self.amplitude, x[i])
            } else {
                0.0
            }
        })
    }

    fn hessian_vector_product(&self, x: &[f64], v: &[f64], out: &mut [f64]) {
        for ((o, &xi), &vi) in out.iter_mut().zip(x).zip(v) {
            *o = term_curvature(self.amplitude, xi) * vi;
        }
    }

    fn hessian_diagonal(&self, x: &[f64], out: &mut [f64]) {
        for (o, &xi) in out.iter_mut().zip(x) {
            *o = term_curvature(self.amplitude, xi);
        }
    }

    fn view_box(&self) -> Option<[[f64; 2]; 2]> {
        (self.dim == 2).then_some([[-5.12, 5.12], [-5.12, 5.12]])
    }

    fn minima(&self) -> Vec<KnownPoint> {
        vec![KnownPoint {
            label: "origin".into(),
            x: vec![0.0; self.dim],
            value: 0.0,
        }]
    }

    /// The nearest integer lattice point; its label lists the integers
    /// (`"[0,1,-2]"`) and its value is the local minimum of that cell.
    fn basin(&self, x: &[f64]) -> Option<Basin> {
        let lattice: Vec<f64> = x.iter().map(|v| v.round()).collect();
        let label = format!(
            "[{}]",
            lattice
                .iter()
                .map(|k| format!("{}", *k as i64))
                .collect::<Vec<_>>()
                .join(",")
        );
        let minimum: Vec<f64> = lattice
            .iter()
            .map(|&k| local_minimum(self.amplitude, k))
            .collect();
        let value = self.value(&minimum);
        Some(Basin {
            label,
            distance: super::distance(&minimum, x),
            minimum_value: value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::testing::{assert_gradient_matches, assert_hessian_matches};
    use approx::assert_relative_eq;
    use proptest::prelude::*;

    #[test]
    fn published_local_minimum_next_to_the_origin() {
        // Reference values for A = 10 (issue 4): 0.994958637652335 per
        // coordinate, with value 0.994959057093292.
        let x = local_minimum(10.0, 1.0);
        assert_relative_eq!(x, 0.994958637652335, max_relative = 1e-14);
        assert_relative_eq!(term(10.0, x), 0.994959057093292, max_relative = 1e-13);
        let f = RastriginSpec {
            dim: 3,
            amplitude: 10.0,
        }
        .build();
        let p = [x, 0.0, -x];
        let mut g = [1.0; 3];
        let v = f.value_and_gradient(&p, &mut g);
        assert_relative_eq!(v, 2.0 * 0.994959057093292, max_relative = 1e-13);
        assert!(g.iter().all(|gi| gi.abs() < 1e-12));
        let b = f.basin(&[1.2, 0.1, -0.8]).unwrap();
        assert_eq!(b.label, "[1,0,-1]");
        assert_relative_eq!(
            b.minimum_value,
            2.0 * 0.994959057093292,
            max_relative = 1e-13
        );
    }

    proptest! {
        #[test]
        fn derivatives_match_central_differences(x in prop::collection::vec(-5.12f64..5.12, 4)) {
            let f = Rastrigin { dim: 4, amplitude: 10.0 };
            assert_gradient_matches(&f, &x, 1e-6);
            assert_hessian_matches(&f, &x, 1e-6);
        }
    }
}
