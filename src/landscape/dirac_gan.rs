//! The Dirac-GAN of Mescheder, Geiger and Nowozin 2018 ("Which Training
//! Methods for GANs do actually Converge?", ICML, section 2.2): a generator
//! δ_θ (a point mass at θ), a linear discriminator D(x) = ψ·x, data at 0:
//!
//! f(θ, ψ) = φ(θψ) − r1/2·ψ²,   φ(t) = −log(1 + e^(−t)),
//!
//! (the paper's constant φ(0) is left out, so f(0, 0) = φ(0) = −log 2). θ
//! (coordinate 0) minimises f, ψ (coordinate 1) maximises it. The R1 penalty
//! γ/2·E_data‖∇D‖² is γ/2·ψ² here (r1 = γ); it only enters the
//! discriminator's objective, since it does not depend on θ.
//!
//! The field is F = (ψ·φ'(θψ), r1·ψ − θ·φ'(θψ)) with φ'(t) = 1/(1 + e^t);
//! the unique equilibrium is (0, 0), where the Jacobian of F is
//! [[0, φ'(0)], [−φ'(0), r1]] with φ'(0) = 1/2. Its eigenvalues are ±i/2
//! without R1 (purely imaginary: simultaneous gradient descent–ascent spirals
//! out, Mescheder et al. Lemma 2.3) and (r1 ± √(r1² − 1))/2 with it (positive
//! real parts: locally convergent for small steps, their Theorem 4.1).

use super::{Bound, InitSpec, KnownPoint, Landscape, LandscapeSpec};
use crate::error::{check, SpecError};
use crate::memory::Allocation;
use crate::rng::RunRng;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiracGanSpec {
    /// γ ≥ 0, the weight of the R1 penalty γ/2·ψ².
    #[serde(default)]
    pub r1: f64,
}

impl crate::registry::Documented for DiracGanSpec {
    const SUMMARY: &'static str = "Mescheder et al.'s Dirac-GAN: f(θ, ψ) = φ(θψ) − r1/2·ψ², φ(t) = −log(1 + e^(−t)) (the paper's constant φ(0) left out). θ (coordinate 0, the generator) minimises, ψ (coordinate 1, the linear discriminator) maximises; the equilibrium is (0, 0). Without R1 simultaneous gradient descent–ascent does not converge; with r1 > 0 it does for small steps. Needs the optimizer's `game` field.";
    const CONVENTION: &'static str =
        "Mescheder, Geiger and Nowozin 2018 (Which Training Methods for GANs do actually Converge?, ICML), section 2.2.";
    const EXAMPLE: &'static str = "";
}

impl LandscapeSpec for DiracGanSpec {
    fn memory(&self) -> Vec<Allocation> {
        Vec::new()
    }

    fn validate(&self) -> Result<(), SpecError> {
        check::non_negative("r1", self.r1)
    }

    fn dim(&self) -> usize {
        2
    }

    fn players(&self) -> Option<usize> {
        Some(1)
    }

    fn default_init(&self) -> InitSpec {
        InitSpec::Uniform {
            low: Bound::All(-1.0),
            high: Bound::All(1.0),
        }
    }

    fn build(&self, _rng: &mut RunRng) -> Box<dyn Landscape> {
        Box::new(DiracGan { r1: self.r1 })
    }
}

/// The Dirac-GAN with R1 weight `r1`, over z = (θ, ψ).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiracGan {
    pub r1: f64,
}

/// φ(t) = −log(1 + e^(−t)) = −softplus(−t), without overflow.
pub fn phi(t: f64) -> f64 {
    -((-t).max(0.0) + (-t.abs()).exp().ln_1p())
}

/// φ'(t) = 1/(1 + e^t).
pub fn phi_prime(t: f64) -> f64 {
    if t > 0.0 {
        let e = (-t).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + t.exp())
    }
}

/// φ''(t) = −φ'(t)·(1 − φ'(t)).
pub fn phi_second(t: f64) -> f64 {
    let p = phi_prime(t);
    -p * (1.0 - p)
}

impl Landscape for DiracGan {
    fn dim(&self) -> usize {
        2
    }

    fn value(&self, z: &[f64]) -> f64 {
        phi(z[0] * z[1]) - 0.5 * self.r1 * z[1] * z[1]
    }

    fn value_and_gradient(&self, z: &[f64], grad: &mut [f64]) -> f64 {
        let (theta, psi) = (z[0], z[1]);
        let t = theta * psi;
        let d = phi_prime(t);
        grad[0] = psi * d;
        grad[1] = theta * d - self.r1 * psi;
        phi(t) - 0.5 * self.r1 * psi * psi
    }

    fn players(&self) -> Option<usize> {
        Some(1)
    }

    fn hessian(&self, z: &[f64]) -> DMatrix<f64> {
        let (theta, psi) = (z[0], z[1]);
        let t = theta * psi;
        let (d1, d2) = (phi_prime(t), phi_second(t));
        let cross = d1 + t * d2;
        DMatrix::from_row_slice(
            2,
            2,
            &[psi * psi * d2, cross, cross, theta * theta * d2 - self.r1],
        )
    }

    fn hessian_vector_product(&self, z: &[f64], v: &[f64], out: &mut [f64]) {
        let (theta, psi) = (z[0], z[1]);
        let t = theta * psi;
        let (d1, d2) = (phi_prime(t), phi_second(t));
        let cross = d1 + t * d2;
        out[0] = psi * psi * d2 * v[0] + cross * v[1];
        out[1] = cross * v[0] + (theta * theta * d2 - self.r1) * v[1];
    }

    fn hessian_diagonal(&self, z: &[f64], out: &mut [f64]) {
        let d2 = phi_second(z[0] * z[1]);
        out[0] = z[1] * z[1] * d2;
        out[1] = z[0] * z[0] * d2 - self.r1;
    }

    fn minima(&self) -> Vec<KnownPoint> {
        vec![KnownPoint {
            label: "equilibrium".into(),
            x: vec![0.0, 0.0],
            value: -std::f64::consts::LN_2,
        }]
    }

    fn view_box(&self) -> Option<[[f64; 2]; 2]> {
        Some([[-2.0, 2.0], [-2.0, 2.0]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::testing::{assert_gradient_matches, assert_hessian_matches};

    /// φ(t) = −log(1 + e^(−t)): φ(0) = −log 2, φ(1) = −0.31326168751822286
    /// (= −log(1 + e^(−1)), numpy), φ(−40) = −40.000000000000000004 → −40
    /// in f64; φ'(0) = 1/2.
    #[test]
    fn phi_by_hand() {
        assert_eq!(phi(0.0), -std::f64::consts::LN_2);
        assert!((phi(1.0) + 0.313_261_687_518_222_86).abs() < 1e-16);
        assert_eq!(phi(-40.0), -40.0);
        assert!(phi(800.0).abs() < 1e-300 && phi(-800.0) == -800.0);
        assert_eq!(phi_prime(0.0), 0.5);
        assert!(phi_prime(-800.0) == 1.0 && phi_prime(800.0) == 0.0);
    }

    #[test]
    fn derivatives_match_central_differences() {
        for r1 in [0.0, 0.3] {
            let g = DiracGan { r1 };
            for z in [[0.7, -1.3], [-2.0, 0.4], [0.0, 0.0], [3.0, 2.5]] {
                assert_gradient_matches(&g, &z, 1e-7);
                assert_hessian_matches(&g, &z, 1e-6);
            }
        }
    }

    /// At the equilibrium the Jacobian of F is [[0, 1/2], [−1/2, r1]]
    /// (Mescheder et al. 2018, eq. 9 and section 4.1): purely imaginary
    /// eigenvalues ±i/2 without R1.
    #[test]
    fn jacobian_of_the_field_at_the_equilibrium() {
        let g = DiracGan { r1: 0.3 };
        let h = g.hessian(&[0.0, 0.0]);
        assert_eq!(
            (h[(0, 0)], h[(0, 1)], h[(1, 0)], h[(1, 1)]),
            (0.0, 0.5, 0.5, -0.3)
        );
        let mut f = [0.0; 2];
        assert_eq!(g.field(&[0.0, 0.0], &mut f), -std::f64::consts::LN_2);
        assert_eq!(f, [0.0, 0.0]);
        // F = (ψφ', r1ψ − θφ') at (1, 2): φ'(2) = 1/(1 + e²).
        let d = 1.0 / (1.0 + 2f64.exp());
        g.field(&[1.0, 2.0], &mut f);
        assert!((f[0] - 2.0 * d).abs() < 1e-16 && (f[1] - (0.6 - d)).abs() < 1e-15);
    }
}
