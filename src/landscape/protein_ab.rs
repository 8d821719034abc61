//! The off-lattice AB protein model of Stillinger, Head-Gordon and Hirshfeld
//! (Phys. Rev. E 48, 1469 (1993)); 3-D form as in Irbäck et al. (J. Chem.
//! Phys. 107, 1310 (1997)), "model 1" of later work.
//!
//! A chain of n beads with unit bonds, each bead A (hydrophobic) or B:
//!
//! E = 1/4·Σ_{i=1}^{n−2} (1 − cos θ_i) + 4·Σ_{i<j−1} (r_ij^−12 − C(s_i, s_j)·r_ij^−6),
//!
//! C(A,A) = 1, C(B,B) = 1/2, C(A,B) = C(B,A) = −1/2, cos θ_i = b̂_(i−1)·b̂_i the
//! bend at bead i (beads numbered from 0).
//!
//! Coordinates (the landscape's x):
//! * 2-D: the n−2 turn angles θ_1..θ_(n−2) (radians, 0 = straight on, positive =
//!   counter-clockwise). Bead 0 sits at the origin, bead 1 at (1, 0), and bond
//!   b_k points along the cumulative angle θ_1 + … + θ_k.
//! * 3-D: the n−2 bend angles β_1..β_(n−2) then the n−3 torsions τ_1..τ_(n−3)
//!   (τ_j the IUPAC dihedral of beads j−1, j, j+1, j+2; 0 = cis). The chain is
//!   built by propagating an orthonormal frame (b̂, m̂, n̂), starting from
//!   (x̂, ŷ, ẑ): bond b_k = cos β_k·b̂ + sin β_k·ê with ê = cos τ_(k−1)·m̂ +
//!   sin τ_(k−1)·n̂ (ê = ŷ for k = 1), then n̂ ← b̂ × ê, b̂ ← b_k, m̂ ← n̂ × b̂.
//!   For bends in (0, π) the torsion is exactly the IUPAC dihedral; the chart is
//!   smooth for every real angle, so negative bends are allowed (β → −β with
//!   τ → τ + π gives the same chain).
//!
//! Gradient, O(n²): dE/dr_j for the Lennard-Jones part, then back-propagation:
//! an angle at bead k rigidly rotates beads k+1..n−1 about an axis â through r_k
//! (2-D turn: ẑ; 3-D bend: b̂ × ê; 3-D torsion: the bond b̂_(k−1)), so
//! ∂E/∂angle = â·Σ_{j>k} (r_j − r_k) × ∂E/∂r_j, accumulated from the chain's end
//! with two running sums. The bend term depends on its own angle only.
//!
//! Curvature, exact: the gradient code is generic over [`Real`], so running it
//! on dual numbers x + ε·v gives H·v in one pass (forward over reverse,
//! `dual.rs`); the dense Hessian is d such passes. The diagonal (read every
//! step by curvature-shaped noise) has its own O(n²) formula, from the
//! second derivatives of the same rigid rotations (`hessian_diag`). Neither
//! allocates.
//!
//! Allocation: `value_and_gradient` keeps positions, forces and rotation axes
//! in fixed-size stack arrays of [`MAX_BEADS`] = 128 beads (≈ 12 KB), which
//! covers the Fibonacci sequences up to fib89; longer sequences are rejected by
//! `validate`.
//!
//! Best known values: the energies of published ground-state conformations
//! (3ki5tj/zcom, `abpro/data/2dm1`, `abpro/data/3dm1`; see
//! `scripts/ab_fixtures.py`), which round to the literature values 2-D fib13
//! −3.2941, fib21 −6.1980, fib34 −10.8060, fib55 −19.2570; 3-D fib13 −4.9746,
//! fib21 −12.3266, fib34 −25.5113, fib55 −44.8765 (e.g. Kim, Lee & Lee, Phys.
//! Rev. E 72, 011916 (2005); Zhang, Kou & Liu, J. Chem. Phys. 2007). The
//! published coordinates are converged to a gradient of ~1e-3 (up to 8.7e-3
//! for 3-D fib55); a local descent from them lowers E by at most 4.2e-6
//! (3-D fib55; 9.8e-7 for 2-D fib34, < 1e-7 for the others), so an
//! `energy_gap` down to about −4e-6 means "reached the published fold". No minima
//! are enumerated, so `basin` is `None`.

use super::dual::{Dual, Real};
use super::{Bound, InitSpec, Landscape, LandscapeSpec};
use crate::error::SpecError;
use crate::memory::{f64s, Allocation};
use crate::rng::RunRng;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// A chain of `dim` angle coordinates in `dims` dimensions with every bead A,
/// for geometry only (bead positions, distances); `None` unless `dims` is 2
/// or 3 and `dim` is the angle count of a chain of 3 to [`MAX_BEADS`] beads.
pub fn bare_chain(dim: usize, dims: usize) -> Option<ProteinAb> {
    let n = match dims {
        2 => dim + 2,
        3 if dim % 2 == 1 => (dim + 5) / 2,
        _ => return None,
    };
    (3..=MAX_BEADS)
        .contains(&n)
        .then(|| ProteinAb::new(vec![true; n], dims))
}

/// Longest chain supported (stack scratch size).
pub const MAX_BEADS: usize = 128;

/// Energies of published ground states (dims, Fibonacci length, energy),
/// computed by `scripts/ab_fixtures.py` from the zcom coordinates.
pub const GROUND_STATES: [(usize, usize, f64); 8] = [
    (2, 13, -3.2940776639128924),
    (2, 21, -6.197989091744283),
    (2, 34, -10.80600194172746),
    (2, 55, -19.25702432980936),
    (3, 13, -4.974603548000415),
    (3, 21, -12.32656927192853),
    (3, 34, -25.51128592814881),
    (3, 55, -44.87651707885725),
];

fn default_dims() -> usize {
    2
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProteinAbSpec {
    /// "fibonacci:N" (N a Fibonacci number ≥ 3) or explicit letters "ABBA…".
    pub sequence: String,
    /// 2 or 3.
    #[serde(default = "default_dims")]
    pub dims: usize,
}

impl crate::registry::Documented for ProteinAbSpec {
    const SUMMARY: &'static str = "Stillinger's off-lattice AB protein with unit bonds; `sequence` \"fibonacci:N\" or letters A/B; `dims` 2 (n−2 turn angles) or 3 (n−2 bends then n−3 IUPAC torsions). Exact Hessian and Hessian-vector products (forward-mode dual numbers over the analytic gradient).";
    const CONVENTION: &'static str = "Stillinger, Head-Gordon and Hirshfeld, Phys. Rev. E 48, 1469 (1993); 3-D as Irbäck et al., J. Chem. Phys. 107, 1310 (1997); best known energies from published ground states.";
    const EXAMPLE: &'static str = "sequence = \"fibonacci:13\"";
}

/// The Fibonacci sequence S_k of length `n`: S_1 = A, S_2 = B,
/// S_k = S_(k−2)·S_(k−1); `None` unless `n` is one of the lengths 2, 3, 5, 8, …
pub fn fibonacci_sequence(n: usize) -> Option<String> {
    let (mut prev, mut cur) = (String::from("A"), String::from("B"));
    while cur.len() < n {
        let next = format!("{prev}{cur}");
        prev = cur;
        cur = next;
    }
    (cur.len() == n && n >= 2).then_some(cur)
}

/// Parses a `sequence` field into monomers (`true` = A).
pub fn parse_sequence(s: &str) -> Result<Vec<bool>, SpecError> {
    let letters = if let Some(n) = s.strip_prefix("fibonacci:") {
        let n: usize = n.trim().parse().map_err(|_| {
            SpecError::new(
                "sequence",
                format!("`{s}`: expected fibonacci:N with N an integer"),
            )
        })?;
        // Refused before a string of n letters is built.
        if n > MAX_BEADS {
            return Err(SpecError::new(
                "sequence",
                format!("`{s}` has {n} beads; between 3 and {MAX_BEADS} are supported"),
            ));
        }
        fibonacci_sequence(n).ok_or_else(|| {
            SpecError::new(
                "sequence",
                format!("`{s}`: {n} is not a Fibonacci sequence length (13, 21, 34, 55, 89, …)"),
            )
        })?
    } else {
        s.to_string()
    };
    let mut out = Vec::with_capacity(letters.len());
    for c in letters.chars() {
        match c {
            'A' => out.push(true),
            'B' => out.push(false),
            _ => {
                return Err(SpecError::new(
                    "sequence",
                    format!("`{s}`: expected only the letters A and B, found `{c}`"),
                ))
            }
        }
    }
    if out.len() < 3 || out.len() > MAX_BEADS {
        return Err(SpecError::new(
            "sequence",
            format!(
                "`{s}` has {} beads; between 3 and {MAX_BEADS} are supported",
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// C(s_i, s_j): 1 for AA, 1/2 for BB, −1/2 for AB and BA.
pub fn coupling(a: bool, b: bool) -> f64 {
    match (a, b) {
        (true, true) => 1.0,
        (false, false) => 0.5,
        _ => -0.5,
    }
}

/// Number of angle coordinates of an n-bead chain: n−2 in 2-D, 2n−5 in 3-D.
pub fn angle_count(n: usize, dims: usize) -> usize {
    if dims == 2 {
        n - 2
    } else {
        2 * n - 5
    }
}

impl LandscapeSpec for ProteinAbSpec {
    /// What it allocates, for the memory estimate ([`crate::config::estimate`]).
    fn memory(&self) -> Vec<Allocation> {
        let d = self.dim() as u64;
        vec![Allocation::per_run(
            "sequence",
            format!("sequence = {:?} ({d} angles)", self.sequence),
            "finite-difference Hessian",
            f64s(d.saturating_mul(d)),
        )]
    }

    fn validate(&self) -> Result<(), SpecError> {
        ProteinAbSpec::validate(self)
    }

    fn dim(&self) -> usize {
        ProteinAbSpec::dim(self)
    }

    fn default_init(&self) -> InitSpec {
        // Every angle (turns; 3-D bends and torsions) uniform in [-1.5, 1.5).
        // A full turn [-π, π) makes overlapping beads common (2-D fib13:
        // median initial energy 1e10; crossed 2-D chains cannot uncross, so
        // 35 of 40 local descents end above 0, fib21 all 40), while plain
        // gradient descent from [-1.5, 1.5) never met an energy above 2e-1
        // after 4000 steps at lr 1e-3 (16 starts).
        InitSpec::Uniform {
            low: Bound::All(-1.5),
            high: Bound::All(1.5),
        }
    }

    fn build(&self, _rng: &mut RunRng) -> Box<dyn Landscape> {
        Box::new(ProteinAbSpec::build(self))
    }
}

impl ProteinAbSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.dims != 2 && self.dims != 3 {
            return Err(SpecError::new(
                "dims",
                format!("must be 2 or 3, got {}", self.dims),
            ));
        }
        parse_sequence(&self.sequence).map(|_| ())
    }

    /// The number of coordinates; 0 for an invalid sequence.
    pub fn dim(&self) -> usize {
        parse_sequence(&self.sequence)
            .map(|s| angle_count(s.len(), self.dims))
            .unwrap_or(0)
    }

    /// Builds the chain. Panics on a spec that does not validate.
    pub fn build(&self) -> ProteinAb {
        let seq = parse_sequence(&self.sequence).expect("validated protein_ab spec");
        ProteinAb::new(seq, self.dims)
    }
}

#[derive(Debug, Clone)]
pub struct ProteinAb {
    seq: Vec<bool>,
    dims: usize,
    best: Option<f64>,
}

fn cross<T: Real>(a: [T; 3], b: [T; 3]) -> [T; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// `a/|a|`. Re-normalising the frame at every bead matters: without it
/// rounding errors in the frame's orthonormality grow geometrically along the
/// chain (measured: ~2× per bead, 5e-7 in the positions of 3-D fib34).
fn unit<T: Real>(a: [T; 3]) -> [T; 3] {
    let l = dot(a, a).sqrt();
    [a[0] / l, a[1] / l, a[2] / l]
}

fn dot<T: Real>(a: [T; 3], b: [T; 3]) -> T {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn sub<T: Real>(a: [T; 3], b: [T; 3]) -> [T; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// Largest number of angle coordinates (3-D chain of [`MAX_BEADS`] beads).
const MAX_ANGLES: usize = 2 * MAX_BEADS - 5;

impl ProteinAb {
    /// A chain of `seq` (`true` = A) in `dims` (2 or 3) dimensions.
    pub fn new(seq: Vec<bool>, dims: usize) -> Self {
        assert!((3..=MAX_BEADS).contains(&seq.len()) && (dims == 2 || dims == 3));
        let best = GROUND_STATES
            .iter()
            .find(|&&(d, n, _)| {
                d == dims
                    && fibonacci_sequence(n)
                        .is_some_and(|f| f.chars().map(|c| c == 'A').eq(seq.iter().copied()))
            })
            .map(|&(_, _, e)| e);
        Self { seq, dims, best }
    }

    pub fn beads(&self) -> usize {
        self.seq.len()
    }

    /// The monomers, `true` = A (hydrophobic), `false` = B.
    pub fn sequence(&self) -> &[bool] {
        &self.seq
    }

    /// 2 or 3.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Bead positions of the conformation `x` (z = 0 in 2-D) into `r`
    /// (length ≥ n). No allocation.
    pub fn positions(&self, x: &[f64], r: &mut [[f64; 3]]) {
        let mut bend_axis = [[0.0; 3]; MAX_BEADS];
        let mut tors_axis = [[0.0; 3]; MAX_BEADS];
        self.build_chain(x, r, &mut bend_axis, &mut tors_axis);
    }

    /// The bead positions of the conformation `x`, one `[x, y, z]` per bead
    /// (z = 0 in 2-D). Allocates; for figures and reports.
    pub fn to_positions(&self, x: &[f64]) -> Vec<[f64; 3]> {
        let mut r = vec![[0.0; 3]; self.seq.len()];
        self.positions(x, &mut r);
        r
    }

    /// The smallest distance between two beads that are not bonded
    /// (|i − j| ≥ 2) in the conformation `x`. No allocation.
    pub fn closest_pair(&self, x: &[f64]) -> f64 {
        let mut r = [[0.0; 3]; MAX_BEADS];
        let n = self.seq.len();
        self.positions(x, &mut r[..n]);
        let mut d2 = f64::INFINITY;
        for i in 0..n {
            for j in i + 2..n {
                let s = sub(r[i], r[j]);
                d2 = d2.min(s[0] * s[0] + s[1] * s[1] + s[2] * s[2]);
            }
        }
        d2.sqrt()
    }

    /// Places the beads; records for each bead k the rotation axes of its
    /// bend/turn angle and (3-D) of the torsion whose rotation starts there.
    fn build_chain<T: Real>(
        &self,
        x: &[T],
        r: &mut [[T; 3]],
        bend_axis: &mut [[T; 3]],
        tors_axis: &mut [[T; 3]],
    ) {
        let n = self.seq.len();
        let (zero, one) = (T::cst(0.0), T::cst(1.0));
        r[0] = [zero; 3];
        r[1] = [one, zero, zero];
        if self.dims == 2 {
            let mut phi = zero;
            for k in 1..n - 1 {
                phi += x[k - 1];
                let (s, c) = phi.sin_cos();
                r[k + 1] = [r[k][0] + c, r[k][1] + s, zero];
                bend_axis[k] = [zero, zero, one];
            }
        } else {
            let mut bc = [one, zero, zero];
            let mut m = [zero, one, zero];
            let mut nr = [zero, zero, one];
            for k in 1..n - 1 {
                let e = if k == 1 {
                    m
                } else {
                    let (st, ct) = x[n - 2 + k - 2].sin_cos();
                    [
                        ct * m[0] + st * nr[0],
                        ct * m[1] + st * nr[1],
                        ct * m[2] + st * nr[2],
                    ]
                };
                let (sb, cb) = x[k - 1].sin_cos();
                let b = unit([
                    cb * bc[0] + sb * e[0],
                    cb * bc[1] + sb * e[1],
                    cb * bc[2] + sb * e[2],
                ]);
                r[k + 1] = [r[k][0] + b[0], r[k][1] + b[1], r[k][2] + b[2]];
                tors_axis[k] = bc;
                nr = unit(cross(bc, e));
                bend_axis[k] = nr;
                bc = b;
                m = cross(nr, bc);
            }
        }
    }

    /// Energy, and its gradient into `grad` when given. No allocation.
    /// Generic so that dual numbers give exact Hessian-vector products.
    fn energy<T: Real>(&self, x: &[T], grad: Option<&mut [T]>) -> T {
        let n = self.seq.len();
        let nb = n - 2;
        let zero = T::cst(0.0);
        let mut r = [[zero; 3]; MAX_BEADS];
        let mut bend_axis = [[zero; 3]; MAX_BEADS];
        let mut tors_axis = [[zero; 3]; MAX_BEADS];
        self.build_chain(x, &mut r, &mut bend_axis, &mut tors_axis);
        let mut e = zero;
        for &t in &x[..nb] {
            e += (T::cst(1.0) - t.cos()) * 0.25;
        }
        let Some(grad) = grad else {
            for i in 0..n {
                for j in i + 2..n {
                    let d = sub(r[i], r[j]);
                    let inv2 = T::cst(1.0) / dot(d, d);
                    let inv6 = inv2 * inv2 * inv2;
                    e += (inv6 * inv6 - inv6 * coupling(self.seq[i], self.seq[j])) * 4.0;
                }
            }
            return e;
        };
        let mut g = [[zero; 3]; MAX_BEADS];
        for i in 0..n {
            for j in i + 2..n {
                let d = sub(r[i], r[j]);
                let inv2 = T::cst(1.0) / dot(d, d);
                let inv6 = inv2 * inv2 * inv2;
                let c = coupling(self.seq[i], self.seq[j]);
                e += (inv6 * inv6 - inv6 * c) * 4.0;
                // dE/d(d) = 4(−12 r^−14 + 6C r^−8)·d.
                let f = inv2 * 4.0 * (inv6 * -12.0 * inv6 + inv6 * (6.0 * c));
                for a in 0..3 {
                    g[i][a] += f * d[a];
                    g[j][a] -= f * d[a];
                }
            }
        }
        // Back-propagation: s = Σ_{j>k} g_j, mom = Σ_{j>k} r_j × g_j, so that
        // Σ_{j>k} (r_j − r_k) × g_j = mom − r_k × s.
        let mut s = [zero; 3];
        let mut mom = [zero; 3];
        for k in (1..n).rev() {
            if k < n - 1 {
                let t = sub(mom, cross(r[k], s));
                grad[k - 1] = x[k - 1].sin() * 0.25 + dot(bend_axis[k], t);
                if self.dims == 3 && k >= 2 {
                    grad[nb + k - 2] = dot(tors_axis[k], t);
                }
            }
            let rg = cross(r[k], g[k]);
            for a in 0..3 {
                s[a] += g[k][a];
                mom[a] += rg[a];
            }
        }
        e
    }

    /// The Hessian's diagonal, analytically in O(n²).
    ///
    /// An angle θ with axis â and pivot bead p rotates the beads j > p, so
    /// ∂r_j/∂θ = u = â × w and ∂²r_j/∂θ² = â × u, w = r_j − r_p. Only the pairs
    /// (i ≤ p < j) change their distance. With φ(d) the pair energy of
    /// d = r_i − r_j, ∇φ = f·d and ∇²φ = f·I + h·d·dᵀ, where f = 4(−12r^−14 +
    /// 6C r^−8) and h = 16(42r^−16 − 12C r^−10), each pair adds
    ///
    ///   ∂²φ/∂θ² = f|u|² + h(d·u)² − f[(â·d)(â·w) − d·w],
    ///
    /// and the bend term adds cos θ/4 (turns and bends only). For each bead j
    /// the sums S0 = Σf, S1 = Σf·d, S2 = Σh·d·dᵀ over i ≤ p grow with p, so
    /// every angle's entry is read off them.
    fn hessian_diag(&self, x: &[f64], out: &mut [f64]) {
        let n = self.seq.len();
        let nb = n - 2;
        let mut r = [[0.0; 3]; MAX_BEADS];
        let mut bend_axis = [[0.0; 3]; MAX_BEADS];
        let mut tors_axis = [[0.0; 3]; MAX_BEADS];
        self.build_chain(x, &mut r, &mut bend_axis, &mut tors_axis);
        out.fill(0.0);
        for (o, &t) in out.iter_mut().zip(&x[..nb]) {
            *o = 0.25 * t.cos();
        }
        for j in 2..n {
            let mut s0 = 0.0;
            let mut s1 = [0.0; 3];
            let mut s2 = [[0.0; 3]; 3];
            for p in 0..j {
                if p + 2 <= j {
                    let d = sub(r[p], r[j]);
                    let inv2 = 1.0 / dot(d, d);
                    let inv6 = inv2 * inv2 * inv2;
                    let c = coupling(self.seq[p], self.seq[j]);
                    let f = 4.0 * inv2 * (-12.0 * inv6 * inv6 + 6.0 * c * inv6);
                    let h = 16.0 * inv2 * inv2 * (42.0 * inv6 * inv6 - 12.0 * c * inv6);
                    s0 += f;
                    for a in 0..3 {
                        s1[a] += f * d[a];
                        for b in 0..3 {
                            s2[a][b] += h * d[a] * d[b];
                        }
                    }
                }
                if p == 0 || p > nb {
                    continue;
                }
                let w = sub(r[j], r[p]);
                let term = |axis: [f64; 3]| {
                    let u = cross(axis, w);
                    let s2u = [dot(s2[0], u), dot(s2[1], u), dot(s2[2], u)];
                    s0 * dot(u, u) + dot(u, s2u) - dot(axis, s1) * dot(axis, w) + dot(s1, w)
                };
                out[p - 1] += term(bend_axis[p]);
                if self.dims == 3 && p >= 2 {
                    out[nb + p - 2] += term(tors_axis[p]);
                }
            }
        }
    }
}

impl Landscape for ProteinAb {
    fn dim(&self) -> usize {
        angle_count(self.seq.len(), self.dims)
    }

    fn value(&self, x: &[f64]) -> f64 {
        self.energy(x, None)
    }

    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.energy(x, Some(grad))
    }

    /// Exact: column j is H·e_j by dual numbers (d passes of the gradient).
    fn hessian(&self, x: &[f64]) -> DMatrix<f64> {
        let d = self.dim();
        let mut h = DMatrix::zeros(d, d);
        let mut e = vec![0.0; d];
        let mut col = vec![0.0; d];
        for j in 0..d {
            e[j] = 1.0;
            self.hessian_vector_product(x, &e, &mut col);
            e[j] = 0.0;
            h.column_mut(j).copy_from_slice(&col);
        }
        // Symmetric up to rounding; make it exactly so for the eigensolver.
        (&h + h.transpose()) * 0.5
    }

    /// Exact, by one pass of the gradient over dual numbers x + ε·v. No
    /// allocation.
    fn hessian_vector_product(&self, x: &[f64], v: &[f64], out: &mut [f64]) {
        let d = self.dim();
        let mut xd = [Dual::default(); MAX_ANGLES];
        let mut gd = [Dual::default(); MAX_ANGLES];
        for ((xd, &xi), &vi) in xd.iter_mut().zip(x).zip(v) {
            *xd = Dual::new(xi, vi);
        }
        self.energy(&xd[..d], Some(&mut gd[..d]));
        for (o, g) in out.iter_mut().zip(&gd[..d]) {
            *o = g.eps;
        }
    }

    /// Exact, O(n²), no allocation (see `hessian_diag`).
    fn hessian_diagonal(&self, x: &[f64], out: &mut [f64]) {
        self.hessian_diag(x, out);
    }

    /// The best conformation is the answer of a folding search.
    fn keeps_best_point(&self) -> bool {
        true
    }

    fn best_known_value(&self) -> Option<f64> {
        self.best
    }
}

#[cfg(test)]
#[path = "protein_ab_tests.rs"]
mod tests;
