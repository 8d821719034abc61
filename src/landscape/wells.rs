//! Gaussian wells on a weak quadratic bowl:
//!
//! f(x) = bowl/2·‖x‖² − Σ_k depth_k·exp(−‖x − c_k‖²/(2·width_k²)),
//!
//! ∇f = bowl·x + Σ_k (depth_k/width_k²)·e_k·(x − c_k),
//! ∇²f = bowl·I + Σ_k (depth_k/width_k²)·e_k·(I − (x − c_k)(x − c_k)ᵀ/width_k²),
//! with e_k = exp(−‖x − c_k‖²/(2·width_k²)). At an isolated well's centre the
//! curvature is depth/width² + bowl in every direction, so one landscape holds
//! flat (wide) and sharp (narrow) basins of chosen depths.
//!
//! Wells are listed (`wells = [{ center, depth, width }, …]`) or generated
//! (`generate = { count, depth = [lo, hi], width = [lo, hi], radius }`: centres
//! uniform in the ball of that radius — Gaussian direction, radius
//! radius·U^(1/dim) — depths and widths uniform in their ranges, all from the
//! landscape's generator).
//!
//! Known minima: each well's centre refined by [`super::descent::descend`]
//! (Newton with backtracking) to the true local minimum, which neighbouring
//! wells and the bowl shift; a refined point that is not a strict minimum
//! (Hessian not positive definite) or lies within 1e-6 of an earlier one is
//! dropped. Labels are "w<k>" after the well the refinement started from;
//! minima are listed best first. Basin rule: the minimum reached by the same
//! descent started from the point (steps ≤ half the smallest width), i.e. the
//! nearest known minimum to its end point; distance from the point itself.

use super::descent::descend;
use super::{nearest_minimum, Basin, InitSpec, KnownPoint, Landscape, LandscapeSpec};
use crate::error::{check, SpecError};
use crate::memory::{f64s, Allocation};
use crate::rng::RunRng;
use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

fn default_bowl() -> f64 {
    0.01
}

/// One well: centre, depth (> 0 for a well, < 0 for a bump) and width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Well {
    pub center: Vec<f64>,
    pub depth: f64,
    pub width: f64,
}

/// Random wells drawn from the landscape's generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WellGenerator {
    pub count: usize,
    pub depth: [f64; 2],
    pub width: [f64; 2],
    pub radius: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WellsSpec {
    pub dim: usize,
    #[serde(default = "default_bowl")]
    pub bowl: f64,
    #[serde(default)]
    pub wells: Option<Vec<Well>>,
    #[serde(default)]
    pub generate: Option<WellGenerator>,
}

impl crate::registry::Documented for WellsSpec {
    const SUMMARY: &'static str = "f(x) = bowl/2·‖x‖² − Σ_k depth_k·exp(−‖x − c_k‖²/(2·width_k²)); wells listed (`wells = [{ center, depth, width }]`) or generated (`generate = { count, depth = [lo, hi], width = [lo, hi], radius }`): give one of the two.";
    const CONVENTION: &'static str =
        "valley's own construction (flat and sharp basins of chosen depth).";
    const EXAMPLE: &'static str =
        "dim = 2\nwells = [{ center = [1.0, 0.0], depth = 1.0, width = 0.5 }]";
    const ALTERNATIVES: &'static [&'static str] = &[
        "dim = 2\ngenerate = { count = 4, depth = [0.5, 2.0], width = [0.2, 0.8], radius = 2.0 }",
    ];
}

fn check_range(field: &str, r: [f64; 2]) -> Result<(), SpecError> {
    check::positive(&format!("{field}[0]"), r[0])?;
    check::positive(&format!("{field}[1]"), r[1])?;
    if r[1] < r[0] {
        return Err(SpecError::new(
            field,
            format!("must be [lo, hi] with lo <= hi, got [{}, {}]", r[0], r[1]),
        ));
    }
    Ok(())
}

impl LandscapeSpec for WellsSpec {
    /// What it allocates, for the memory estimate ([`crate::config::estimate`]).
    fn memory(&self) -> Vec<Allocation> {
        let d = self.dim as u64;
        let (count, field, cause) = match (&self.wells, &self.generate) {
            (_, Some(g)) => (
                g.count as u64,
                "generate.count",
                format!("generate.count = {} with dim = {d}", g.count),
            ),
            (Some(w), None) => (w.len() as u64, "dim", format!("dim = {d}")),
            (None, None) => (0, "dim", format!("dim = {d}")),
        };
        let well = f64s(d).saturating_add(64);
        let descent = f64s(d.saturating_mul(d)).saturating_mul(5);
        vec![
            Allocation::shared(
                field,
                cause,
                "set of wells and minima",
                count.saturating_mul(well).saturating_mul(2),
            ),
            Allocation::shared(
                "dim",
                format!("dim = {d}"),
                "the Newton descents that refine the minima (5 matrices of dim x dim)",
                0,
            )
            .building(descent),
            Allocation::per_run(
                "dim",
                format!("dim = {d}"),
                "Newton descent to the basin (5 matrices of dim x dim)",
                descent,
            ),
        ]
    }

    fn validate(&self) -> Result<(), SpecError> {
        WellsSpec::validate(self)
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn default_init(&self) -> InitSpec {
        // Normal around the origin, spread like the generated centres.
        InitSpec::Normal {
            std: self.generate.as_ref().map_or(2.0, |g| g.radius.max(0.5)),
            mean: 0.0,
        }
    }

    fn build(&self, rng: &mut RunRng) -> Box<dyn Landscape> {
        Box::new(WellsSpec::build(self, rng))
    }
}

impl WellsSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        check::at_least("dim", self.dim as u64, 1)?;
        check::non_negative("bowl", self.bowl)?;
        match (&self.wells, &self.generate) {
            (Some(_), Some(_)) => Err(SpecError::new(
                "generate",
                "give either `wells` or `generate`, not both",
            )),
            (None, None) => Err(SpecError::new("wells", "give `wells` or `generate`")),
            (Some(ws), None) => {
                if ws.is_empty() {
                    return Err(SpecError::new("wells", "must list at least one well"));
                }
                for (i, w) in ws.iter().enumerate() {
                    let at = |f: &str| format!("wells[{i}].{f}");
                    if w.center.len() != self.dim {
                        return Err(SpecError::new(
                            at("center"),
                            format!("has {} coordinates, dim is {}", w.center.len(), self.dim),
                        ));
                    }
                    for &c in &w.center {
                        check::finite(&at("center"), c)?;
                    }
                    check::finite(&at("depth"), w.depth)?;
                    check::positive(&at("width"), w.width)?;
                }
                Ok(())
            }
            (None, Some(g)) => {
                check::at_least("generate.count", g.count as u64, 1)?;
                check_range("generate.depth", g.depth)?;
                check_range("generate.width", g.width)?;
                check::non_negative("generate.radius", g.radius)
            }
        }
    }

    /// Whether building draws random wells.
    pub fn is_random(&self) -> bool {
        self.generate.is_some()
    }

    pub fn build(&self, rng: &mut RunRng) -> Wells {
        let wells = match (&self.wells, &self.generate) {
            (Some(ws), _) => ws.clone(),
            (None, Some(g)) => generate(self.dim, g, rng),
            (None, None) => Vec::new(),
        };
        Wells::new(self.dim, self.bowl, wells)
    }
}

/// Draws `g.count` wells: centres uniform in the ball of radius `g.radius`,
/// depths and widths uniform in their ranges.
pub fn generate(dim: usize, g: &WellGenerator, rng: &mut RunRng) -> Vec<Well> {
    (0..g.count)
        .map(|_| {
            let mut c: Vec<f64> = (0..dim).map(|_| StandardNormal.sample(rng)).collect();
            let n = c
                .iter()
                .map(|v| v * v)
                .sum::<f64>()
                .sqrt()
                .max(f64::MIN_POSITIVE);
            let r = g.radius * rng.random::<f64>().powf(1.0 / dim as f64);
            c.iter_mut().for_each(|v| *v *= r / n);
            let depth = g.depth[0] + (g.depth[1] - g.depth[0]) * rng.random::<f64>();
            let width = g.width[0] + (g.width[1] - g.width[0]) * rng.random::<f64>();
            Well {
                center: c,
                depth,
                width,
            }
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct Wells {
    dim: usize,
    bowl: f64,
    wells: Vec<Well>,
    minima: Vec<KnownPoint>,
}

impl Wells {
    pub fn new(dim: usize, bowl: f64, wells: Vec<Well>) -> Self {
        let mut f = Self {
            dim,
            bowl,
            wells,
            minima: Vec::new(),
        };
        f.minima = f.refine_minima();
        f
    }

    pub fn wells(&self) -> &[Well] {
        &self.wells
    }

    fn min_width(&self) -> f64 {
        self.wells
            .iter()
            .map(|w| w.width)
            .fold(f64::INFINITY, f64::min)
    }

    fn refine_minima(&self) -> Vec<KnownPoint> {
        let mut out: Vec<KnownPoint> = Vec::new();
        let step = 0.5 * self.min_width();
        for (k, w) in self.wells.iter().enumerate() {
            let x = descend(self, &w.center, step, 1e-12, 200);
            if out.iter().any(|m| super::distance(&m.x, &x) < 1e-6) {
                continue;
            }
            if self.hessian(&x).cholesky().is_none() {
                continue;
            }
            out.push(KnownPoint {
                label: format!("w{k}"),
                value: self.value(&x),
                x,
            });
        }
        out.sort_by(|a, b| a.value.total_cmp(&b.value));
        out
    }

    /// (e_k·depth_k/width_k², ‖x − c_k‖² ) for well k.
    fn weight(&self, w: &Well, x: &[f64]) -> (f64, f64) {
        let r2: f64 = x
            .iter()
            .zip(&w.center)
            .map(|(a, c)| (a - c) * (a - c))
            .sum();
        let e = (-r2 / (2.0 * w.width * w.width)).exp();
        (w.depth * e / (w.width * w.width), r2)
    }
}

impl Landscape for Wells {
    fn dim(&self) -> usize {
        self.dim
    }

    fn value(&self, x: &[f64]) -> f64 {
        let mut f = 0.5 * self.bowl * x.iter().map(|v| v * v).sum::<f64>();
        for w in &self.wells {
            let (s, _) = self.weight(w, x);
            f -= s * w.width * w.width;
        }
        f
    }

    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let mut f = 0.0;
        for (g, &v) in grad.iter_mut().zip(x) {
            *g = self.bowl * v;
            f += 0.5 * self.bowl * v * v;
        }
        for w in &self.wells {
            let (s, _) = self.weight(w, x);
            f -= s * w.width * w.width;
            for ((g, &v), &c) in grad.iter_mut().zip(x).zip(&w.center) {
                *g += s * (v - c);
            }
        }
        f
    }

    fn hessian(&self, x: &[f64]) -> DMatrix<f64> {
        let d = self.dim;
        let mut h = DMatrix::from_diagonal_element(d, d, self.bowl);
        for w in &self.wells {
            let (s, _) = self.weight(w, x);
            let inv_w2 = 1.0 / (w.width * w.width);
            for i in 0..d {
                let di = x[i] - w.center[i];
                h[(i, i)] += s;
                for j in 0..d {
                    h[(i, j)] -= s * di * (x[j] - w.center[j]) * inv_w2;
                }
            }
        }
        h
    }

    fn hessian_vector_product(&self, x: &[f64], v: &[f64], out: &mut [f64]) {
        for (o, &vi) in out.iter_mut().zip(v) {
            *o = self.bowl * vi;
        }
        for w in &self.wells {
            let (s, _) = self.weight(w, x);
            let inv_w2 = 1.0 / (w.width * w.width);
            let proj: f64 = x
                .iter()
                .zip(&w.center)
                .zip(v)
                .map(|((a, c), vi)| (a - c) * vi)
                .sum();
            for ((o, &vi), (&a, &c)) in out.iter_mut().zip(v).zip(x.iter().zip(&w.center)) {
                *o += s * (vi - (a - c) * proj * inv_w2);
            }
        }
    }

    fn hessian_diagonal(&self, x: &[f64], out: &mut [f64]) {
        out.fill(self.bowl);
        for w in &self.wells {
            let (s, _) = self.weight(w, x);
            let inv_w2 = 1.0 / (w.width * w.width);
            for ((o, &a), &c) in out.iter_mut().zip(x).zip(&w.center) {
                *o += s * (1.0 - (a - c) * (a - c) * inv_w2);
            }
        }
    }

    fn minima(&self) -> Vec<KnownPoint> {
        self.minima.clone()
    }

    /// For dim = 2: the bounding box of the centres ± 3 widths.
    fn view_box(&self) -> Option<[[f64; 2]; 2]> {
        if self.dim != 2 || self.wells.is_empty() {
            return None;
        }
        let mut b = [[f64::INFINITY, f64::NEG_INFINITY]; 2];
        for w in &self.wells {
            for (a, bb) in b.iter_mut().enumerate() {
                bb[0] = bb[0].min(w.center[a] - 3.0 * w.width);
                bb[1] = bb[1].max(w.center[a] + 3.0 * w.width);
            }
        }
        Some(b)
    }

    /// The minimum reached by a short descent from `x` (module docs).
    fn basin(&self, x: &[f64]) -> Option<Basin> {
        if self.minima.is_empty() || !x.iter().all(|v| v.is_finite()) {
            return None;
        }
        let end = descend(self, x, 0.5 * self.min_width(), 1e-9, 500);
        let reached = nearest_minimum(&self.minima, &end)?;
        let m = self.minima.iter().find(|m| m.label == reached.label)?;
        Some(Basin {
            distance: super::distance(&m.x, x),
            ..reached
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::testing::{assert_gradient_matches, assert_hessian_matches, FdOnly};
    use crate::rng::{rng_for, Stream};
    use approx::assert_relative_eq;
    use proptest::prelude::*;

    fn well(center: &[f64], depth: f64, width: f64) -> Well {
        Well {
            center: center.to_vec(),
            depth,
            width,
        }
    }

    #[test]
    fn isolated_well_at_the_origin() {
        // f = bowl/2·‖x‖² − 2·exp(−‖x‖²/(2·0.5²)): minimum −2 at 0, Hessian
        // (2/0.25 + 0.01)·I = 8.01·I exactly.
        let f = Wells::new(3, 0.01, vec![well(&[0.0; 3], 2.0, 0.5)]);
        let m = f.minima();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].label, "w0");
        assert!(m[0].x.iter().all(|v| v.abs() < 1e-12));
        assert_eq!(m[0].value, -2.0);
        let h = f.hessian(&[0.0; 3]);
        for i in 0..3 {
            for j in 0..3 {
                assert_eq!(h[(i, j)], if i == j { 8.01 } else { 0.0 });
            }
        }
        assert_eq!(f.best_known_value(), Some(-2.0));
    }

    #[test]
    fn a_far_well_keeps_its_depth_and_curvature() {
        // A well at (10, 0) with the bowl off: its minimum is its centre, value
        // −depth (the other well contributes e^{−100/2}·… ≈ 2e-22).
        let f = Wells::new(
            2,
            0.0,
            vec![well(&[0.0, 0.0], 1.0, 1.0), well(&[10.0, 0.0], 3.0, 0.3)],
        );
        let m = f.minima();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].label, "w1");
        assert_relative_eq!(m[0].value, -3.0, max_relative = 1e-14);
        assert!((m[0].x[0] - 10.0).abs() < 1e-12 && m[0].x[1].abs() < 1e-12);
        assert_relative_eq!(m[1].value, -1.0, max_relative = 1e-14);
        let h = f.hessian(&m[0].x);
        assert_relative_eq!(h[(0, 0)], 3.0 / 0.09, max_relative = 1e-12);
        assert_relative_eq!(h[(1, 1)], 3.0 / 0.09, max_relative = 1e-12);
        assert_eq!(f.view_box(), Some([[-3.0, 10.9], [-3.0, 3.0]]));
    }

    #[test]
    fn sharpness_ratio_of_equal_depth_wells() {
        // Equal depths, widths 0.3 and 1.0, far apart, small bowl: curvatures
        // 1/0.09 + 0.01 and 1/1 + 0.01; ratio (1/0.09 + 0.01)/(1 + 0.01).
        let bowl = 0.01;
        let f = Wells::new(
            2,
            bowl,
            vec![well(&[-6.0, 0.0], 1.0, 0.3), well(&[6.0, 0.0], 1.0, 1.0)],
        );
        let m = f.minima();
        assert_eq!(m.len(), 2);
        let sharp = m.iter().find(|p| p.label == "w0").unwrap();
        let flat = m.iter().find(|p| p.label == "w1").unwrap();
        let lmax = |p: &KnownPoint| {
            let e = f.hessian(&p.x).symmetric_eigenvalues();
            e.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        };
        let ratio = lmax(sharp) / lmax(flat);
        let expected = (1.0 / 0.09 + bowl) / (1.0 + bowl);
        // The bowl shifts each minimum towards the origin (by ≈ bowl·6/κ),
        // which changes the curvatures at the 1e-3 level.
        assert_relative_eq!(ratio, expected, max_relative = 5e-3);
        assert!(ratio > 10.0);
        // The bowl moved the minima inwards: x* ≈ c·κ_well/(κ_well + bowl).
        assert!(sharp.x[0] > -6.0 && flat.x[0] < 6.0);
        let mut g = [0.0; 2];
        for p in &m {
            f.value_and_gradient(&p.x, &mut g);
            assert!(g[0].hypot(g[1]) < 1e-10);
        }
    }

    #[test]
    fn overlapping_wells_merge_into_one_minimum() {
        // Two wide wells 0.2 apart form a single basin: one minimum, between.
        let f = Wells::new(1, 0.0, vec![well(&[0.0], 1.0, 1.0), well(&[0.2], 1.0, 1.0)]);
        let m = f.minima();
        assert_eq!(m.len(), 1);
        assert!((m[0].x[0] - 0.1).abs() < 1e-9, "{:?}", m[0].x);
        // f(0.1) = −2·exp(−0.01/2).
        assert_relative_eq!(m[0].value, -2.0 * (-0.005f64).exp(), max_relative = 1e-14);
    }

    #[test]
    fn basins_and_generation() {
        let f = Wells::new(
            2,
            0.01,
            vec![well(&[-2.0, 0.0], 1.0, 0.5), well(&[2.0, 0.0], 1.5, 0.7)],
        );
        assert_eq!(f.basin(&[-1.5, 0.3]).unwrap().label, "w0");
        assert_eq!(f.basin(&[1.2, -0.4]).unwrap().label, "w1");
        let spec = WellsSpec {
            dim: 5,
            bowl: 0.01,
            wells: None,
            generate: Some(WellGenerator {
                count: 6,
                depth: [0.5, 2.0],
                width: [0.2, 0.8],
                radius: 3.0,
            }),
        };
        spec.validate().unwrap();
        assert!(spec.is_random());
        let a = spec.build(&mut rng_for(3, "w", Stream::Landscape));
        let b = spec.build(&mut rng_for(3, "w", Stream::Landscape));
        assert_eq!(a.wells(), b.wells());
        for w in a.wells() {
            let r = w.center.iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!(r <= 3.0);
            assert!((0.5..=2.0).contains(&w.depth) && (0.2..=0.8).contains(&w.width));
        }
        assert!(!a.minima().is_empty());
        let bad = WellsSpec {
            dim: 2,
            bowl: 0.01,
            wells: Some(vec![well(&[0.0], 1.0, 1.0)]),
            generate: None,
        };
        assert_eq!(bad.validate().unwrap_err().field, "wells[0].center");
    }

    proptest! {
        #[test]
        fn derivatives_match_central_differences(
            x in prop::collection::vec(-3.0f64..3.0, 3),
            v in prop::collection::vec(-1.0f64..1.0, 3),
        ) {
            let f = Wells::new(
                3,
                0.05,
                vec![
                    well(&[0.5, -0.5, 1.0], 1.0, 0.7),
                    well(&[-1.0, 1.0, 0.0], 2.0, 1.2),
                    well(&[1.5, 1.5, -1.0], 0.5, 0.4),
                ],
            );
            assert_gradient_matches(&f, &x, 1e-6);
            assert_hessian_matches(&f, &x, 1e-6);
            let mut hv = [0.0; 3];
            let mut fd = [0.0; 3];
            f.hessian_vector_product(&x, &v, &mut hv);
            FdOnly(&f).hessian_vector_product(&x, &v, &mut fd);
            let mut diag = [0.0; 3];
            f.hessian_diagonal(&x, &mut diag);
            let h = FdOnly(&f).hessian(&x);
            let scale = h.iter().fold(1.0f64, |m, a| m.max(a.abs()));
            for i in 0..3 {
                prop_assert!((hv[i] - fd[i]).abs() <= 1e-5 * scale);
                prop_assert!((diag[i] - h[(i, i)]).abs() <= 1e-6 * scale);
            }
        }
    }
}
