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
mod tests {
    use super::*;
    use crate::landscape::descent::descend;
    use crate::landscape::testing::{assert_gradient_matches, assert_hessian_matches, FdOnly};
    use crate::rng::{rng_for, Stream};
    use approx::assert_relative_eq;
    use proptest::prelude::*;
    use rand::RngExt;
    use std::f64::consts::{FRAC_PI_2, PI};

    fn chain(seq: &str, dims: usize) -> ProteinAb {
        ProteinAbSpec {
            sequence: seq.into(),
            dims,
        }
        .build()
    }

    #[test]
    fn fibonacci_sequences() {
        assert_eq!(fibonacci_sequence(5).unwrap(), "ABBAB");
        assert_eq!(fibonacci_sequence(8).unwrap(), "BABABBAB");
        assert_eq!(fibonacci_sequence(13).unwrap(), "ABBABBABABBAB");
        assert_eq!(fibonacci_sequence(21).unwrap(), "BABABBABABBABBABABBAB");
        assert_eq!(fibonacci_sequence(89).unwrap().len(), 89);
        assert!(fibonacci_sequence(14).is_none());
        assert!(parse_sequence("fibonacci:14").is_err());
        assert!(parse_sequence("AB").is_err());
        assert!(parse_sequence("ABXA").is_err());
        assert!(parse_sequence(&"A".repeat(129)).is_err());
        let e = ProteinAbSpec {
            sequence: "fibonacci:13".into(),
            dims: 4,
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "dims");
        assert_eq!(
            ProteinAbSpec {
                sequence: "fibonacci:13".into(),
                dims: 3
            }
            .dim(),
            21
        );
    }

    #[test]
    fn four_bead_square_by_hand_2d() {
        // ABBA, turns (π/2, π/2): beads (0,0), (1,0), (1,1), (0,1).
        // Bends: 1/4·[(1 − cos π/2) + (1 − cos π/2)] = 0.5.
        // Pairs i < j−1: (0,2) A–B at √2, (0,3) A–A at 1, (1,3) B–A at √2.
        //   r = √2: r^−12 = 1/64, r^−6 = 1/8; C = −1/2: 4·(1/64 + 1/16) = 0.3125.
        //   (0,3): 4·(1 − 1·1) = 0.
        // E = 0.5 + 2·0.3125 = 1.125.
        let f = chain("ABBA", 2);
        let x = [FRAC_PI_2, FRAC_PI_2];
        assert_relative_eq!(f.value(&x), 1.125, max_relative = 1e-14);
        let mut r = [[0.0; 3]; 4];
        f.positions(&x, &mut r);
        assert_relative_eq!(r[3][0], 0.0, epsilon = 1e-15);
        assert_relative_eq!(r[3][1], 1.0, epsilon = 1e-15);
        // Straight chain ABBA: bends 0; (0,2),(1,3) at 2, (0,3) at 3.
        //   r = 2, C = −1/2: 4·(2^−12 + 2^−7) = 0.0322265625 (twice);
        //   r = 3, C = 1: 4·(3^−12 − 3^−6) = 4·(1 − 729)/531441 = −2912/531441.
        assert_relative_eq!(
            f.value(&[0.0, 0.0]),
            2.0 * 0.0322265625 - 2912.0 / 531441.0,
            max_relative = 1e-14
        );
    }

    #[test]
    fn five_bead_chain_by_hand_3d() {
        // ABBAB, bends (π/2, π/2, π/2), torsions (0, π/2):
        //   r0 = (0,0,0), r1 = (1,0,0); b1 = ŷ → r2 = (1,1,0);
        //   τ1 = 0 (cis) → b2 = −x̂, r3 = (0,1,0); τ2 = π/2 → b3 = ẑ, r4 = (0,1,1).
        // Bends: 3·1/4 = 0.75.
        // Pairs: (0,2) A–B √2: 0.3125; (0,3) A–A at 1: 0; (0,4) A–B √2: 0.3125;
        //   (1,3) B–A √2: 0.3125; (1,4) B–B √3: 4·(1/729 − 0.5/27) = −50/729;
        //   (2,4) B–B √2: 4·(1/64 − 1/16) = −0.1875.
        // E = 0.75 + 0.9375 − 0.1875 − 50/729 = 1.5 − 50/729.
        let f = chain("ABBAB", 3);
        let x = [FRAC_PI_2, FRAC_PI_2, FRAC_PI_2, 0.0, FRAC_PI_2];
        assert_relative_eq!(f.value(&x), 1.5 - 50.0 / 729.0, max_relative = 1e-14);
        let mut r = [[0.0; 3]; 5];
        f.positions(&x, &mut r);
        for (p, q) in r.iter().zip([
            [0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [1.0, 1.0, 0.0],
            [0.0, 1.0, 0.0],
            [0.0, 1.0, 1.0],
        ]) {
            for a in 0..3 {
                assert!((p[a] - q[a]).abs() < 1e-15, "{r:?}");
            }
        }
    }

    #[derive(serde::Deserialize)]
    struct Fixture {
        sequence: String,
        dims: usize,
        published_energy: f64,
        energy_from_positions: f64,
        angles: Vec<f64>,
    }

    fn fixture(name: &str) -> Fixture {
        let path = format!(
            "{}/tests/fixtures/landscapes/ab_{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn published_ground_states_reproduce_published_energies() {
        // (fixture, literature energy to its published digits, tolerance).
        let cases = [
            ("2d_fib13", -3.294078, 1e-6, 13),
            ("2d_fib21", -6.197989, 1e-6, 21),
            ("3d_fib13", -4.974605, 2e-6, 13),
            ("3d_fib21", -12.3266, 5e-5, 21),
            ("2d_fib34", -10.8060, 5e-5, 34),
            ("2d_fib55", -19.2570, 5e-5, 55),
            ("3d_fib34", -25.5113, 5e-5, 34),
            ("3d_fib55", -44.8765, 5e-5, 55),
        ];
        for (name, published, tol, n) in cases {
            let fx = fixture(name);
            let f = ProteinAbSpec {
                sequence: format!("fibonacci:{n}"),
                dims: fx.dims,
            }
            .build();
            assert_eq!(fibonacci_sequence(n).unwrap(), fx.sequence);
            assert_eq!(f.dim(), fx.angles.len());
            let mut g = vec![0.0; f.dim()];
            let e = f.value_and_gradient(&fx.angles, &mut g);
            assert!((e - published).abs() <= tol, "{name}: {e} vs {published}");
            assert!((e - fx.published_energy).abs() <= 5e-5, "{name}: {e}");
            // Same energy as numpy computed from the published Cartesian beads.
            assert!((e - fx.energy_from_positions).abs() < 1e-8, "{name}: {e}");
            assert_relative_eq!(f.best_known_value().unwrap(), e, epsilon = 1e-8);
            // The published coordinates (14 digits, but the fold itself was
            // converged less tightly) sit next to a minimum: the largest
            // gradient components are 1.5e-3 (2d_fib21), 2.4e-3 (2d_fib34) and
            // 8.7e-3 (3d_fib55); 1e-3 holds only for the others.
            let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            eprintln!("{name}: E = {e}, |grad|_max = {gmax:.2e}");
            assert!(gmax < 1e-2, "{name}: |grad|_max = {gmax}");
            let lowest_eigenvalue = |x: &[f64]| {
                let eig = f.hessian(x).symmetric_eigenvalues();
                eig.iter().copied().fold(f64::INFINITY, f64::min)
            };
            let lo = lowest_eigenvalue(&fx.angles);
            assert!(lo > -1e-3, "{name}: smallest Hessian eigenvalue {lo}");
            // A local descent from there stays close and barely lowers E: the
            // published fold is (up to its precision) a true local minimum.
            let end = descend(&f, &fx.angles, 0.01, 1e-9, 200);
            let mut ge = vec![0.0; f.dim()];
            let ee = f.value_and_gradient(&end, &mut ge);
            let gn = ge.iter().map(|v| v * v).sum::<f64>().sqrt();
            // (Rounding in E, ~1e-14, stalls the line search at |grad| ~ 1e-6
            // in the stiffest folds.)
            assert!(gn < 1e-5, "{name}: refined |grad| {gn}");
            assert!(e - ee >= 0.0 && e - ee < 1e-5, "{name}: {e} -> {ee}");
            let moved = crate::landscape::distance(&end, &fx.angles);
            eprintln!("{name}: refined E = {ee}, |grad| = {gn:.1e}, moved {moved:.1e}");
            assert!(moved < 1e-2, "{name}: moved {moved}");
            let lo = lowest_eigenvalue(&end);
            assert!(
                lo > 0.0,
                "{name}: smallest Hessian eigenvalue {lo} at the refined fold"
            );
        }
        // An explicit sequence equal to fib13 gets the same best value.
        assert_eq!(
            chain("ABBABBABABBAB", 2).best_known_value(),
            Some(GROUND_STATES[0].2)
        );
        assert_eq!(chain("ABBABBABABBAA", 2).best_known_value(), None);
    }

    #[test]
    fn local_minimization_never_goes_below_the_ground_state() {
        // 50 random starts, uniform angles in [−π, π), descended to a local
        // minimum; none may fall below the published ground state.
        for dims in [2, 3] {
            let f = chain("fibonacci:13", dims);
            let ground = f.best_known_value().unwrap();
            let mut rng = rng_for(11, "protein_ab", Stream::Init);
            let mut lowest = f64::INFINITY;
            let mut x = vec![0.0; f.dim()];
            for _ in 0..50 {
                for xi in x.iter_mut() {
                    *xi = -PI + 2.0 * PI * rng.random::<f64>();
                }
                let end = descend(&f, &x, 0.1, 1e-6, 3000);
                let e = f.value(&end);
                assert!(e >= ground - 1e-6, "dims {dims}: {e} < ground {ground}");
                lowest = lowest.min(e);
            }
            // The search does reach compact folds (measured: −2.27 in 2-D,
            // −4.58 in 3-D), not only crossed or extended chains.
            assert!(lowest < -2.0, "dims {dims}: lowest {lowest}");
        }
    }

    fn min_distance(f: &ProteinAb, x: &[f64]) -> f64 {
        let mut r = [[0.0; 3]; MAX_BEADS];
        f.positions(x, &mut r);
        let n = f.beads();
        let mut m = f64::INFINITY;
        for i in 0..n {
            for j in i + 2..n {
                let d = [r[i][0] - r[j][0], r[i][1] - r[j][1], r[i][2] - r[j][2]];
                m = m.min(dot(d, d).sqrt());
            }
        }
        m
    }

    #[test]
    fn experiment_file_landscapes_build() {
        // experiments/protein/*.toml: their landscape tables parse into this
        // kind, take the self-avoiding init, and know their published ground
        // states.
        use crate::landscape::{InitSpec, LandscapeKind};
        let mut best = Vec::new();
        for name in ["fib13_2d", "fib21_2d", "fib13_3d"] {
            let path = format!(
                "{}/experiments/protein/{name}.toml",
                env!("CARGO_MANIFEST_DIR")
            );
            let file: toml::Table =
                toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let mut t = file["landscape"].as_array().unwrap()[0]
                .as_table()
                .unwrap()
                .clone();
            t.remove("name");
            let init: InitSpec = t.remove("init").unwrap().try_into().unwrap();
            assert!(matches!(init, InitSpec::SelfAvoiding { .. }), "{name}");
            let kind: LandscapeKind = toml::Value::Table(t).try_into().unwrap();
            kind.spec().validate().unwrap();
            init.validate(kind.spec().dim()).unwrap();
            let f = kind.spec().build(&mut rng_for(0, "x", Stream::Landscape));
            best.push((f.best_known_value().unwrap() * 1e4).round() / 1e4);
        }
        assert_eq!(best, [-3.2941, -6.198, -4.9746]);
    }

    /// Bead positions of a 2-D chain written out from the definition (bond k
    /// along the cumulative turn θ_1 + … + θ_k), independent of
    /// `build_chain`; the smallest distance between non-bonded beads.
    fn closest_pair_2d_by_hand(x: &[f64]) -> f64 {
        let mut r = vec![[0.0f64, 0.0], [1.0, 0.0]];
        let mut heading = 0.0;
        for &t in x {
            heading += t;
            let [px, py] = r[r.len() - 1];
            r.push([px + heading.cos(), py + heading.sin()]);
        }
        let mut m = f64::INFINITY;
        for i in 0..r.len() {
            for j in i + 2..r.len() {
                m = m.min((r[i][0] - r[j][0]).hypot(r[i][1] - r[j][1]));
            }
        }
        m
    }

    #[test]
    fn self_avoiding_init_rejects_clashing_starts() {
        use crate::landscape::InitSpec;
        let uniform: InitSpec =
            toml::from_str("kind = \"uniform\"\nlow = -1.5\nhigh = 1.5").unwrap();
        let mut avoiding: InitSpec =
            toml::from_str("kind = \"self_avoiding\"\nlow = -1.5\nhigh = 1.5").unwrap();
        let InitSpec::SelfAvoiding {
            min_distance, dims, ..
        } = &mut avoiding
        else {
            unreachable!()
        };
        assert_eq!(*min_distance, 0.9, "documented default");
        *dims = 2;
        let f = chain(&fibonacci_sequence(21).unwrap(), 2);
        let d = f.dim();
        let (mut rng_u, mut rng_a) = (rng_for(0, "u", Stream::Init), rng_for(0, "a", Stream::Init));
        let (mut x, mut clashing, mut worst) = (vec![0.0; d], 0, f64::NEG_INFINITY);
        for _ in 0..400 {
            uniform.sample(&mut rng_u, &mut x);
            clashing += usize::from(closest_pair_2d_by_hand(&x) < 0.9);
            avoiding.sample(&mut rng_a, &mut x);
            assert!(x.iter().all(|a| (-1.5..1.5).contains(a)), "{x:?}");
            let m = closest_pair_2d_by_hand(&x);
            assert!(m >= 0.9, "closest pair {m}");
            assert_relative_eq!(f.closest_pair(&x), m, max_relative = 1e-12);
            worst = worst.max(f.value(&x));
        }
        // The uniform draw clashes often (numpy, 20,000 draws of 21 beads:
        // 38% have a pair closer than 0.9), so the rejection is not idle.
        assert!((100..200).contains(&clashing), "{clashing} of 400");
        // No bead inside the wall (a jammed start sits at E ≈ 10³): each
        // r⁻¹² term is below 4·0.9⁻¹² ≈ 14, and only a few pairs are that close.
        assert!(worst < 50.0, "{worst}");
        // 3-D: the same rule through the chain's own geometry.
        let f3 = chain(&fibonacci_sequence(13).unwrap(), 3);
        if let InitSpec::SelfAvoiding { dims, .. } = &mut avoiding {
            *dims = 3;
        }
        let mut x = vec![0.0; f3.dim()];
        for _ in 0..200 {
            avoiding.sample(&mut rng_a, &mut x);
            assert!(f3.closest_pair(&x) >= 0.9);
        }
        // bare_chain: the angle count of an n-bead chain in 2-D and 3-D.
        assert_eq!(bare_chain(11, 2).unwrap().beads(), 13);
        assert_eq!(bare_chain(21, 3).unwrap().beads(), 13);
        assert!(bare_chain(20, 3).is_none() && bare_chain(11, 4).is_none());
    }

    /// The exact Hessian-vector product and diagonal agree with the exact
    /// dense Hessian (three code paths: dual numbers one column at a time,
    /// dual numbers along v, the O(n²) diagonal formula).
    fn assert_curvature_paths_agree(f: &ProteinAb, x: &[f64], v: &[f64]) {
        let h = f.hessian(x);
        let d = f.dim();
        let scale = h.iter().fold(1.0f64, |m, a| m.max(a.abs()));
        let mut hv = vec![0.0; d];
        f.hessian_vector_product(x, v, &mut hv);
        let dense = &h * nalgebra::DVector::from_column_slice(v);
        let vscale = scale * v.iter().map(|a| a.abs()).sum::<f64>();
        let mut diag = vec![0.0; d];
        f.hessian_diagonal(x, &mut diag);
        for i in 0..d {
            assert!(
                (hv[i] - dense[i]).abs() <= 1e-12 * vscale,
                "Hv[{i}] {} vs H·v {} at {x:?}",
                hv[i],
                dense[i]
            );
            assert!(
                (diag[i] - h[(i, i)]).abs() <= 1e-12 * scale,
                "diag[{i}] {} vs H[{i},{i}] {} at {x:?}",
                diag[i],
                h[(i, i)]
            );
        }
    }

    /// H·v by central differences of the analytic gradient along v, with one
    /// Richardson step: (4·D(h/2) − D(h))/3, error O(h⁴), h = 1e-4. Measured
    /// at the eight published folds, its distance to the exact Hessian falls
    /// as h⁴ from 1e-5..7e-3 (h = 1e-2) to 3e-12..6e-11 (h = 1e-4) of the
    /// largest entry, then rounding takes over: the exact Hessian is the
    /// limit. The trait's plain central differences (O(h²), h = 1e-5) miss it
    /// by up to 3e-7 there.
    fn richardson_hvp(f: &ProteinAb, x: &[f64], v: &[f64]) -> Vec<f64> {
        let d = f.dim();
        let central = |h: f64| {
            let (mut gp, mut gm) = (vec![0.0; d], vec![0.0; d]);
            let xp: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + h * b).collect();
            let xm: Vec<f64> = x.iter().zip(v).map(|(a, b)| a - h * b).collect();
            f.value_and_gradient(&xp, &mut gp);
            f.value_and_gradient(&xm, &mut gm);
            gp.iter()
                .zip(&gm)
                .map(|(p, m)| (p - m) / (2.0 * h))
                .collect::<Vec<f64>>()
        };
        let (coarse, fine) = (central(1e-4), central(5e-5));
        fine.iter()
            .zip(&coarse)
            .map(|(f, c)| (4.0 * f - c) / 3.0)
            .collect()
    }

    /// Largest |H·v − Richardson(H·v)| relative to the largest |H| entry,
    /// over the unit vectors and `v`.
    fn worst_against_differences(f: &ProteinAb, x: &[f64], v: &[f64]) -> f64 {
        let h = f.hessian(x);
        let d = f.dim();
        let scale = h.iter().fold(1.0f64, |m, a| m.max(a.abs()));
        let mut worst = 0.0f64;
        let mut e = vec![0.0; d];
        for j in 0..d {
            e[j] = 1.0;
            let fd = richardson_hvp(f, x, &e);
            e[j] = 0.0;
            for i in 0..d {
                worst = worst.max((h[(i, j)] - fd[i]).abs() / scale);
            }
        }
        let mut hv = vec![0.0; d];
        f.hessian_vector_product(x, v, &mut hv);
        let fd = richardson_hvp(f, x, v);
        let vsum = v.iter().map(|a| a.abs()).sum::<f64>().max(1.0);
        for i in 0..d {
            worst = worst.max((hv[i] - fd[i]).abs() / (scale * vsum));
        }
        worst
    }

    /// The 2-D fib13 race's momentum form (experiments/protein/fib13_2d.toml):
    /// at the published 2-D fib13 ground state (largest Hessian eigenvalue about
    /// 1.2e3, see the test below), noiseless SGD with momentum 0.95 and
    /// clip_grad_norm 10 at lr 2e-3 (lr·λ ≈ 2.4) stays with heavy ball
    /// (stable below 2(1+μ) = 3.9) and leaves with Nesterov (stable below
    /// 2(1+μ)/(1+2μ) = 1.34); Nesterov at lr 1e-3 (≈ 1.2) stays.
    #[test]
    fn nesterov_leaves_the_stiff_ground_state_where_heavy_ball_stays() {
        use crate::optimizer::{clip::Clip, sgd::SgdSpec, Optimizer, StepParams};
        let clip = Clip {
            clip_grad_norm: Some(10.0),
            ..Default::default()
        };
        let fx = fixture("2d_fib13");
        let f = chain(&fx.sequence, fx.dims);
        let e0 = f.value(&fx.angles);
        let end = |nesterov: bool, lr: f64| {
            let spec = SgdSpec {
                momentum: 0.95,
                nesterov,
                ..Default::default()
            };
            let mut x = fx.angles.clone();
            let mut g = vec![0.0; x.len()];
            let mut state = spec.init_state(x.len());
            for _ in 0..2000 {
                f.value_and_gradient(&x, &mut g);
                clip.apply(&mut g);
                spec.step(&StepParams::new(lr), &mut x, &g, &mut state);
            }
            f.value(&x)
        };
        // The published coordinates are rounded: staying means settling
        // into the exact minimum, within 1e-6 of their energy.
        let (heavy, slow, left) = (end(false, 2e-3), end(true, 1e-3), end(true, 2e-3));
        eprintln!("E0 {e0}: heavy ball {heavy}, Nesterov 1e-3 {slow}, 2e-3 {left}");
        assert!((heavy - e0).abs() < 1e-6, "{heavy} vs {e0}");
        assert!((slow - e0).abs() < 1e-6, "{slow} vs {e0}");
        assert!(left > e0 + 0.1, "{left} vs {e0}");
    }

    #[test]
    fn exact_curvature_at_the_published_ground_states() {
        // The exact Hessian against differences of the analytic gradient at
        // every published fold, and its spectrum: positive definite up to the
        // precision of the published coordinates; largest eigenvalue about
        // 1.2e3 (2-D fib13) and 2.1e4 (2-D fib21), as measured with numpy for
        // issue 12.
        let names = [
            "2d_fib13", "2d_fib21", "2d_fib34", "2d_fib55", "3d_fib13", "3d_fib21", "3d_fib34",
            "3d_fib55",
        ];
        for name in names {
            let fx = fixture(name);
            let f = chain(&fx.sequence, fx.dims);
            let v: Vec<f64> = (0..f.dim()).map(|i| (0.7 * i as f64).sin()).collect();
            assert_curvature_paths_agree(&f, &fx.angles, &v);
            let worst = worst_against_differences(&f, &fx.angles, &v);
            let exact = f.hessian(&fx.angles).symmetric_eigenvalues();
            let (lo, hi) = exact
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &e| {
                    (a.min(e), b.max(e))
                });
            eprintln!(
                "{name}: Hessian eigenvalues {lo:.4e} .. {hi:.6e}; \
                 max |H - differences| / max |H| = {worst:.1e}"
            );
            assert!(worst < 1e-9, "{name}: {worst}");
            assert!(lo > -1e-3, "{name}: {lo}");
            match name {
                "2d_fib13" => assert!((hi / 1.2e3 - 1.0).abs() < 0.05, "{name}: {hi}"),
                "2d_fib21" => assert!((hi / 2.1e4 - 1.0).abs() < 0.05, "{name}: {hi}"),
                _ => {}
            }
        }
    }

    #[test]
    fn exact_curvature_timing_against_finite_differences() {
        // Printed, never asserted (`cargo test --release exact_curvature_timing
        // -- --nocapture`): dense Hessian, Hessian-vector product and diagonal,
        // exact against the trait's central-difference defaults.
        use std::time::Instant;
        // The fastest of 5 batches: the machine is shared.
        fn per_call(reps: usize, mut f: impl FnMut()) -> f64 {
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    for _ in 0..reps {
                        f();
                    }
                    t.elapsed().as_secs_f64() / reps as f64
                })
                .fold(f64::INFINITY, f64::min)
        }
        for name in ["2d_fib13", "3d_fib13", "2d_fib55", "3d_fib55"] {
            let fx = fixture(name);
            let f = chain(&fx.sequence, fx.dims);
            let fd = FdOnly(&f);
            let x = &fx.angles;
            let d = f.dim();
            let v: Vec<f64> = (0..d).map(|i| (0.3 * i as f64).cos()).collect();
            let mut out = vec![0.0; d];
            let reps = if d > 50 { 3 } else { 30 };
            let dense = per_call(reps, || drop(f.hessian(x)));
            let dense_fd = per_call(reps, || drop(fd.hessian(x)));
            let hvp = per_call(10 * reps, || f.hessian_vector_product(x, &v, &mut out));
            let hvp_fd = per_call(10 * reps, || fd.hessian_vector_product(x, &v, &mut out));
            let diag = per_call(10 * reps, || f.hessian_diagonal(x, &mut out));
            let diag_fd = per_call(reps, || fd.hessian_diagonal(x, &mut out));
            let mut g = vec![0.0; d];
            let grad = per_call(10 * reps, || {
                std::hint::black_box(f.value_and_gradient(x, &mut g));
            });
            eprintln!(
                "{name} (d = {d}): gradient {:.1} µs; dense Hessian {:.1} µs (finite differences {:.1} µs, {:.1}x); \
                 Hv {:.1} µs ({:.1} µs, {:.1}x); diagonal {:.1} µs ({:.1} µs, {:.0}x)",
                grad * 1e6,
                dense * 1e6,
                dense_fd * 1e6,
                dense_fd / dense,
                hvp * 1e6,
                hvp_fd * 1e6,
                hvp_fd / hvp,
                diag * 1e6,
                diag_fd * 1e6,
                diag_fd / diag
            );
        }
    }

    proptest! {
        #[test]
        fn hessian_matches_central_differences(
            dims in 2usize..=3,
            seq in prop::sample::select(vec!["fibonacci:13", "ABBABBAB", "fibonacci:21", "BBBAB", "AAAAB"]),
            raw in prop::collection::vec(-1.5f64..1.5, 37),
            dir in prop::collection::vec(-1.0f64..1.0, 37),
        ) {
            let f = chain(seq, dims);
            let x = &raw[..f.dim()];
            prop_assume!(min_distance(&f, x) > 0.9);
            // The trait's own check (plain central differences, O(h²)).
            assert_hessian_matches(&f, x, 1e-5);
            assert_curvature_paths_agree(&f, x, &dir[..f.dim()]);
            let worst = worst_against_differences(&f, x, &dir[..f.dim()]);
            prop_assert!(worst < 1e-9, "max |H - differences| / max |H| = {}", worst);
        }

        #[test]
        fn gradient_matches_central_differences_2d(
            seq in prop::sample::select(vec!["fibonacci:13", "ABBABBAB", "fibonacci:21", "AAAAB"]),
            raw in prop::collection::vec(-1.5f64..1.5, 19),
        ) {
            let f = chain(seq, 2);
            let x = &raw[..f.dim()];
            // Near-overlapping beads make the energy stiff (third derivatives
            // ~1e8 at r = 0.6) and central differences inaccurate at the 1e-6
            // level; test conformations without close contacts.
            prop_assume!(min_distance(&f, x) > 0.9);
            assert_gradient_matches(&f, x, 1e-6);
        }

        #[test]
        fn gradient_matches_central_differences_3d(
            seq in prop::sample::select(vec!["fibonacci:13", "ABBABBAB", "fibonacci:21", "BBBAB"]),
            raw in prop::collection::vec(-1.5f64..1.5, 37),
        ) {
            let f = chain(seq, 3);
            let x = &raw[..f.dim()];
            prop_assume!(min_distance(&f, x) > 0.9);
            assert_gradient_matches(&f, x, 1e-6);
        }
    }
}
