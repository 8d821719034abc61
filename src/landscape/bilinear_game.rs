//! A two-player bilinear game with optional strongly convex and strongly
//! concave terms:
//!
//! f(x, y) = a/2·‖x‖² + coupling·xᵀy − b/2·‖y‖²,   x, y ∈ ℝ^dim,
//!
//! x (the first `dim` coordinates) minimises f, y (the next `dim`) maximises
//! it. The field the optimizer follows is F = (∇ₓf, −∇ᵧf) =
//! (a·x + c·y, b·y − c·x) with c = coupling; its Jacobian is the constant
//! [[a·I, c·I], [−c·I, b·I]], so the linearisation of any first-order method
//! is exact. The unique equilibrium (saddle point) is the origin, f = 0, for
//! a, b ≥ 0 and c ≠ 0 (or a, b > 0).
//!
//! On f = x·y (a = b = 0, c = 1, dim = 1) with step η, the closed forms the
//! tests check (Gidel et al. 2019, "A Variational Inequality Perspective on
//! Generative Adversarial Networks", ICLR; Daskalakis et al. 2018, "Training
//! GANs with Optimism", ICLR): simultaneous gradient descent–ascent grows
//! ‖z‖ by √(1 + η²) per step; alternating descent–ascent conserves
//! x² + y² − η·x·y; extragradient shrinks ‖z‖ by √(1 − η² + η⁴); optimistic
//! gradient (2g_t − g_(t−1)) by about 1 − η²/2.

use super::{Bound, InitSpec, KnownPoint, Landscape, LandscapeSpec};
use crate::error::{check, SpecError};
use crate::memory::Allocation;
use crate::rng::RunRng;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BilinearGameSpec {
    /// Coordinates per player (the landscape has 2·dim).
    pub dim: usize,
    /// c, the weight of xᵀy.
    #[serde(default = "one")]
    pub coupling: f64,
    /// a ≥ 0: the strong convexity of f in x.
    #[serde(default)]
    pub a: f64,
    /// b ≥ 0: the strong concavity of f in y.
    #[serde(default)]
    pub b: f64,
}

impl crate::registry::Documented for BilinearGameSpec {
    const SUMMARY: &'static str = "A two-player game f(x, y) = a/2‖x‖² + coupling·xᵀy − b/2‖y‖², x and y of `dim` coordinates each (x first, the minimising player; y next, the maximising player). The optimizer follows F = (∇ₓf, −∇ᵧf) and needs a `game` field; `loss` is f, `distance_to_min` the distance to the equilibrium, the origin. a = b = 0 is the bilinear game x·y on which simultaneous gradient descent–ascent spirals out; a, b > 0 make it strongly-convex–strongly-concave.";
    const CONVENTION: &'static str = "Gidel et al. 2019 (A Variational Inequality Perspective on GANs, ICLR); Daskalakis et al. 2018 (Training GANs with Optimism, ICLR).";
    const EXAMPLE: &'static str = "dim = 1";
}

impl LandscapeSpec for BilinearGameSpec {
    fn memory(&self) -> Vec<Allocation> {
        Vec::new()
    }

    fn validate(&self) -> Result<(), SpecError> {
        check::at_least("dim", self.dim as u64, 1)?;
        check::finite("coupling", self.coupling)?;
        check::non_negative("a", self.a)?;
        check::non_negative("b", self.b)?;
        if self.coupling == 0.0 && (self.a == 0.0 || self.b == 0.0) {
            return Err(SpecError::new(
                "coupling",
                format!(
                    "is 0 with a = {} and b = {}: the equilibrium is not unique (use a, b > 0 or coupling ≠ 0)",
                    self.a, self.b
                ),
            ));
        }
        Ok(())
    }

    fn dim(&self) -> usize {
        self.dim.saturating_mul(2)
    }

    fn players(&self) -> Option<usize> {
        Some(self.dim)
    }

    fn default_init(&self) -> InitSpec {
        InitSpec::Uniform {
            low: Bound::All(-1.0),
            high: Bound::All(1.0),
        }
    }

    fn build(&self, _rng: &mut RunRng) -> Box<dyn Landscape> {
        Box::new(BilinearGame {
            dim: self.dim,
            c: self.coupling,
            a: self.a,
            b: self.b,
        })
    }
}

/// f(x, y) = a/2‖x‖² + c·xᵀy − b/2‖y‖² over z = (x, y).
#[derive(Debug, Clone, PartialEq)]
pub struct BilinearGame {
    pub dim: usize,
    pub c: f64,
    pub a: f64,
    pub b: f64,
}

/// The value at z = (x, y), the gradient (∇ₓf, ∇ᵧf) written into `grad`.
pub fn value_and_gradient(g: &BilinearGame, z: &[f64], grad: &mut [f64]) -> f64 {
    let n = g.dim;
    let (x, y) = z.split_at(n);
    let (gx, gy) = grad.split_at_mut(n);
    let mut f = 0.0;
    for i in 0..n {
        f += 0.5 * g.a * x[i] * x[i] + g.c * x[i] * y[i] - 0.5 * g.b * y[i] * y[i];
        gx[i] = g.a * x[i] + g.c * y[i];
        gy[i] = g.c * x[i] - g.b * y[i];
    }
    f
}

impl Landscape for BilinearGame {
    fn dim(&self) -> usize {
        2 * self.dim
    }

    fn value(&self, z: &[f64]) -> f64 {
        let (x, y) = z.split_at(self.dim);
        x.iter()
            .zip(y)
            .map(|(&x, &y)| 0.5 * self.a * x * x + self.c * x * y - 0.5 * self.b * y * y)
            .sum()
    }

    fn value_and_gradient(&self, z: &[f64], grad: &mut [f64]) -> f64 {
        value_and_gradient(self, z, grad)
    }

    fn players(&self) -> Option<usize> {
        Some(self.dim)
    }

    /// Constant: [[a·I, c·I], [c·I, −b·I]].
    fn hessian(&self, _z: &[f64]) -> DMatrix<f64> {
        let n = self.dim;
        let mut h = DMatrix::zeros(2 * n, 2 * n);
        for i in 0..n {
            h[(i, i)] = self.a;
            h[(n + i, n + i)] = -self.b;
            h[(i, n + i)] = self.c;
            h[(n + i, i)] = self.c;
        }
        h
    }

    fn hessian_vector_product(&self, _z: &[f64], v: &[f64], out: &mut [f64]) {
        let n = self.dim;
        for i in 0..n {
            out[i] = self.a * v[i] + self.c * v[n + i];
            out[n + i] = self.c * v[i] - self.b * v[n + i];
        }
    }

    fn hessian_diagonal(&self, _z: &[f64], out: &mut [f64]) {
        let n = self.dim;
        out[..n].fill(self.a);
        out[n..].fill(-self.b);
    }

    /// The equilibrium (a saddle point of f, labelled as the run's target).
    fn minima(&self) -> Vec<KnownPoint> {
        vec![KnownPoint {
            label: "equilibrium".into(),
            x: vec![0.0; 2 * self.dim],
            value: 0.0,
        }]
    }

    fn view_box(&self) -> Option<[[f64; 2]; 2]> {
        (self.dim == 1).then_some([[-2.0, 2.0], [-2.0, 2.0]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::testing::{assert_gradient_matches, assert_hessian_matches};

    fn game(dim: usize, c: f64, a: f64, b: f64) -> BilinearGame {
        BilinearGame { dim, c, a, b }
    }

    /// f(x, y) = x·y at (2, 3) is 6, its field (∂ₓf, −∂ᵧf) = (3, −2);
    /// with a = 1, b = 2, c = 0.5 at (1, −1): f = 0.5 − 0.5 − 1 = −1,
    /// ∇f = (1 − 0.5, 0.5 + 2) = (0.5, 2.5), F = (0.5, −2.5).
    #[test]
    fn value_and_field_by_hand() {
        let g = game(1, 1.0, 0.0, 0.0);
        let mut f = [0.0; 2];
        assert_eq!(g.field(&[2.0, 3.0], &mut f), 6.0);
        assert_eq!(f, [3.0, -2.0]);
        let g = game(1, 0.5, 1.0, 2.0);
        assert_eq!(g.field(&[1.0, -1.0], &mut f), -1.0);
        assert_eq!(f, [0.5, -2.5]);
        assert_eq!(g.value(&[1.0, -1.0]), -1.0);
    }

    #[test]
    fn derivatives_match_central_differences() {
        let g = game(3, 0.7, 0.3, 1.1);
        let z = [0.3, -1.2, 2.0, 0.5, 0.9, -0.4];
        assert_gradient_matches(&g, &z, 1e-7);
        assert_hessian_matches(&g, &z, 1e-6);
        let v = [1.0, 0.5, -0.25, 2.0, -1.0, 0.125];
        let mut hv = [0.0; 6];
        g.hessian_vector_product(&z, &v, &mut hv);
        let h = g.hessian(&z);
        for i in 0..6 {
            let want: f64 = (0..6).map(|j| h[(i, j)] * v[j]).sum();
            assert!((hv[i] - want).abs() < 1e-15);
        }
    }

    #[test]
    fn bad_tables_name_their_field() {
        let spec = |dim, coupling, a, b| BilinearGameSpec {
            dim,
            coupling,
            a,
            b,
        };
        assert_eq!(spec(0, 1.0, 0.0, 0.0).validate().unwrap_err().field, "dim");
        assert_eq!(spec(1, 1.0, -1.0, 0.0).validate().unwrap_err().field, "a");
        assert_eq!(
            spec(1, 0.0, 1.0, 0.0).validate().unwrap_err().field,
            "coupling"
        );
        assert!(spec(1, 0.0, 1.0, 1.0).validate().is_ok());
    }
}
