//! Loss landscapes with known truth.
//!
//! One trait, [`Landscape`], with one capability per method (value, gradient,
//! Hessian, Hessian-vector product, known minima), in the manner of argmin's
//! `CostFunction`/`Gradient`/`Hessian`. Each landscape lives in a file of its own
//! with its maths as free functions and its reference values in tests.
//!
//! To add a landscape: write `src/landscape/<name>.rs` with a spec struct
//! (serde, `deny_unknown_fields`) that implements [`LandscapeSpec`], then add
//! its `mod` line and its line in [`LandscapeKind`]. See CONTRIBUTING.md.

pub mod bilinear_game;
pub mod descent;
pub mod dirac_gan;
pub mod dual;
pub mod expression;
pub mod functions;
pub mod muller_brown;
// Data-defined landscapes (issue 15).
pub mod data;
pub mod least_squares;
pub mod logistic;
pub mod matrix_factorization;
pub mod mlp;
pub mod protein_ab;
pub mod quadratic;
pub mod rastrigin;
pub mod transfer;
pub mod wells;

use crate::error::{check, SpecError};
use crate::rng::RunRng;
use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// A known stationary point (minimum or saddle) of a landscape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnownPoint {
    pub label: String,
    pub x: Vec<f64>,
    pub value: f64,
}

/// Where a point ended up: the basin's label, the distance to its minimum and
/// that minimum's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Basin {
    pub label: String,
    pub distance: f64,
    pub minimum_value: f64,
}

/// A differentiable function of `dim()` variables.
///
/// Implementors provide `value` and `value_and_gradient`; the curvature methods
/// have finite-difference defaults built on the analytic gradient, which a
/// landscape overrides where it knows better.
pub trait Landscape: Send + Sync {
    fn dim(&self) -> usize;

    fn value(&self, x: &[f64]) -> f64;

    /// Writes the gradient into `grad` and returns the value. Must not allocate:
    /// it is called once per optimizer step.
    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64;

    /// For a two-player game, the number of coordinates of the first player
    /// x (the minimising one); the rest are the second player's, y (the
    /// maximising one). `None` (the default): not a game.
    fn players(&self) -> Option<usize> {
        None
    }

    /// The oracle's direction, written into `out`; returns the value. The
    /// gradient, except for a game ([`Self::players`]), whose field is
    /// F = (∇ₓf, −∇ᵧf): descent along F is descent–ascent. Must not
    /// allocate.
    fn field(&self, x: &[f64], out: &mut [f64]) -> f64 {
        let v = self.value_and_gradient(x, out);
        if let Some(k) = self.players() {
            for o in &mut out[k..] {
                *o = -*o;
            }
        }
        v
    }

    /// Dense Hessian. Default: central differences of the analytic gradient,
    /// symmetrised (error O(h^2), h = 1e-5·max(1, |x_i|)).
    fn hessian(&self, x: &[f64]) -> DMatrix<f64> {
        let d = self.dim();
        let mut h = DMatrix::zeros(d, d);
        let mut xp = x.to_vec();
        let mut gp = vec![0.0; d];
        let mut gm = vec![0.0; d];
        for j in 0..d {
            let step = 1e-5 * x[j].abs().max(1.0);
            xp[j] = x[j] + step;
            self.value_and_gradient(&xp, &mut gp);
            xp[j] = x[j] - step;
            self.value_and_gradient(&xp, &mut gm);
            xp[j] = x[j];
            for i in 0..d {
                h[(i, j)] = (gp[i] - gm[i]) / (2.0 * step);
            }
        }
        (&h + h.transpose()) * 0.5
    }

    /// `out = H(x)·v`. Default: central difference of the gradient along `v`,
    /// O(d) memory.
    fn hessian_vector_product(&self, x: &[f64], v: &[f64], out: &mut [f64]) {
        let d = self.dim();
        let vnorm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if vnorm == 0.0 {
            out.fill(0.0);
            return;
        }
        let xnorm = x.iter().map(|a| a * a).sum::<f64>().sqrt();
        let eps = 1e-5 * xnorm.max(1.0) / vnorm;
        let mut xs: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + eps * b).collect();
        let mut gm = vec![0.0; d];
        self.value_and_gradient(&xs, out);
        for ((xi, &x0), &vi) in xs.iter_mut().zip(x).zip(v) {
            *xi = x0 - eps * vi;
        }
        self.value_and_gradient(&xs, &mut gm);
        for (o, g) in out.iter_mut().zip(&gm) {
            *o = (*o - g) / (2.0 * eps);
        }
    }

    /// Diagonal of the Hessian (used by curvature-shaped noise). Default: from
    /// [`Landscape::hessian`].
    fn hessian_diagonal(&self, x: &[f64], out: &mut [f64]) {
        let h = self.hessian(x);
        for (i, o) in out.iter_mut().enumerate() {
            *o = h[(i, i)];
        }
    }

    /// Number of samples the loss averages over (data-defined landscapes);
    /// `None` for landscapes that are not a sum over samples (minibatch noise
    /// needs `Some`).
    fn samples(&self) -> Option<usize> {
        None
    }

    /// Value and gradient of the loss over the samples `batch` only (their
    /// mean), for minibatch noise. Must not allocate. A batch of every sample
    /// in ascending order gives exactly `value_and_gradient`. Default
    /// (landscapes without samples): the full loss.
    fn batch_value_and_gradient(&self, x: &[f64], batch: &[usize], grad: &mut [f64]) -> f64 {
        let _ = batch;
        self.value_and_gradient(x, grad)
    }

    /// Known minima, best first where known. Empty when none are known.
    fn minima(&self) -> Vec<KnownPoint> {
        Vec::new()
    }

    /// Known saddle points (for figures and tests).
    fn saddles(&self) -> Vec<KnownPoint> {
        Vec::new()
    }

    /// A box `[[x_lo, x_hi], [y_lo, y_hi]]` that shows the interesting part of a
    /// 2-D landscape (for contour plots); `None` for other dimensions.
    fn view_box(&self) -> Option<[[f64; 2]; 2]> {
        None
    }

    /// Whether a run keeps the point of its lowest loss (`best_position`)
    /// whatever the dimension: true where the point itself is the answer
    /// (a protein's conformation).
    fn keeps_best_point(&self) -> bool {
        false
    }

    /// The lowest known value (global minimum or best known ground state).
    fn best_known_value(&self) -> Option<f64> {
        self.minima()
            .iter()
            .map(|m| m.value)
            .min_by(|a, b| a.total_cmp(b))
    }

    /// The basin `x` belongs to. Default rule: the nearest known minimum
    /// (Euclidean), `None` where no minimum is known.
    fn basin(&self, x: &[f64]) -> Option<Basin> {
        nearest_minimum(&self.minima(), x)
    }
}

/// The nearest of `minima` to `x`.
pub fn nearest_minimum(minima: &[KnownPoint], x: &[f64]) -> Option<Basin> {
    minima
        .iter()
        .map(|m| (m, distance(&m.x, x)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(m, d)| Basin {
            label: m.label.clone(),
            distance: d,
            minimum_value: m.value,
        })
}

pub use crate::vecmath::distance;

/// A bound of a uniform initial point: one value for every coordinate
/// (`low = -2.0`) or one per coordinate (`low = [-1.5, -0.5]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Bound {
    All(f64),
    Each(Vec<f64>),
}

impl Bound {
    /// The bound of coordinate `i`.
    pub fn at(&self, i: usize) -> f64 {
        match self {
            Self::All(v) => *v,
            Self::Each(v) => v[i],
        }
    }

    fn check(&self, field: &str, dim: usize) -> Result<(), SpecError> {
        match self {
            Self::All(v) => check::finite(field, *v),
            Self::Each(v) if v.len() != dim => Err(SpecError::new(
                field,
                format!(
                    "has {} values, the landscape has {dim} coordinates",
                    v.len()
                ),
            )),
            Self::Each(v) => v.iter().try_for_each(|&b| check::finite(field, b)),
        }
    }
}

/// Values per coordinate of a `grid` init: one count for every coordinate,
/// or one per coordinate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GridPoints {
    All(usize),
    Each(Vec<usize>),
}

impl GridPoints {
    pub fn at(&self, i: usize) -> usize {
        match self {
            Self::All(n) => *n,
            Self::Each(v) => v.get(i).copied().unwrap_or(1),
        }
    }

    /// Points of the grid in `dim` coordinates (saturating).
    pub fn total(&self, dim: usize) -> u64 {
        (0..dim).fold(1u64, |acc, i| acc.saturating_mul(self.at(i) as u64))
    }
}

/// How the initial point is drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum InitSpec {
    /// Coordinate i uniform in [low_i, high_i) (one bound for all, or a list).
    Uniform { low: Bound, high: Bound },
    /// Each coordinate normal with mean `mean` (0) and std `std`.
    Normal {
        std: f64,
        #[serde(default)]
        mean: f64,
    },
    /// A fixed point.
    Point { x: Vec<f64> },
    /// One start per point of a regular grid over [low, high] (numpy's
    /// `linspace` per coordinate, `points` values each), row-major with the
    /// last coordinate fastest: the run of seed k starts at point k.
    Grid {
        low: Bound,
        high: Bound,
        points: GridPoints,
    },
    /// protein_ab only: every angle uniform in [low, high), the whole draw
    /// repeated until no two beads are closer than `min_distance`.
    SelfAvoiding {
        low: f64,
        high: f64,
        #[serde(default = "default_min_distance")]
        min_distance: f64,
        /// The chain's dimension (2 or 3), set from the landscape when the
        /// plan is resolved; not a field of the table.
        #[serde(skip)]
        dims: usize,
    },
}

fn default_min_distance() -> f64 {
    0.9
}

/// Draws of a `self_avoiding` init before it settles for the least clashing
/// one it has seen.
pub const SELF_AVOIDING_TRIES: usize = 1000;

impl InitSpec {
    /// The documentation of every init form, in the order of the enum.
    pub fn docs() -> Vec<crate::registry::KindDoc> {
        let doc = |kind, summary, convention, example| crate::registry::KindDoc {
            kind,
            summary,
            convention,
            example,
            alternatives: &[],
            resolve: |kind, body| {
                crate::registry::resolve_tagged::<InitSpec>(kind, body, |s: &InitSpec| {
                    s.validate(match s {
                        InitSpec::Point { x } => x.len(),
                        _ => 2,
                    })
                })
            },
        };
        vec![
            doc(
                "uniform",
                "Coordinate i uniform in [low_i, high_i): one bound for every coordinate (`low = -2.0`) or one per coordinate (`low = [-1.5, -0.5]`).",
                "numpy `uniform(low, high)`.",
                "low = -2.0\nhigh = 2.0",
            ),
            doc(
                "normal",
                "Each coordinate normal with mean `mean` and standard deviation `std`.",
                "numpy `normal(mean, std)`.",
                "std = 1.0",
            ),
            doc(
                "point",
                "A fixed point `x` (one value per coordinate).",
                "—",
                "x = [0.5, -0.5]",
            ),
            doc(
                "grid",
                "One start per point of a regular grid over [low, high] (one bound for every coordinate or one per coordinate; `points` values per coordinate, numpy's `linspace`), row-major with the last coordinate fastest: the run of seed k starts at grid point k, so `seeds = ` the number of points runs every start once (a basin map: `valley plot` colours each start of a 2-D landscape by the basin it ended in). Seeds must be below the number of points.",
                "numpy `linspace(low, high, points)` per coordinate, `itertools.product` order.",
                "low = -2.0\nhigh = 2.0\npoints = 50",
            ),
            doc(
                "self_avoiding",
                "protein_ab only: every angle uniform in [low, high), and the whole draw repeated until no two beads are closer than `min_distance` (default 0.9; ≥ 1/√2 also rules out crossed bonds in 2-D, whose end beads are then closer than that). A uniform draw can jam a bead inside the chain (r⁻¹² wall, E ≈ 10³ for the whole run); this init rejects such starts. After 1000 draws it keeps the draw whose closest pair is farthest apart.",
                "rejection sampling of the uniform draw.",
                "low = -1.5\nhigh = 1.5",
            ),
        ]
    }
}

impl InitSpec {
    pub fn validate(&self, dim: usize) -> Result<(), SpecError> {
        match self {
            Self::Uniform { low, high } => {
                low.check("low", dim)?;
                high.check("high", dim)?;
                match (0..dim).find(|&i| low.at(i) >= high.at(i)) {
                    Some(i) => Err(SpecError::new(
                        "high",
                        format!(
                            "must be > low in every coordinate: coordinate {i} has low {} and high {}",
                            low.at(i),
                            high.at(i)
                        ),
                    )),
                    None => Ok(()),
                }
            }
            Self::Normal { std, mean } => {
                check::positive("std", *std)?;
                check::finite("mean", *mean)
            }
            Self::Grid { low, high, points } => {
                low.check("low", dim)?;
                high.check("high", dim)?;
                if let GridPoints::Each(v) = points {
                    if v.len() != dim {
                        return Err(SpecError::new(
                            "points",
                            format!(
                                "has {} counts, the landscape has {dim} coordinates",
                                v.len()
                            ),
                        ));
                    }
                }
                if let Some(i) = (0..dim).find(|&i| points.at(i) == 0) {
                    return Err(SpecError::new(
                        "points",
                        format!("must be >= 1 in every coordinate, coordinate {i} has 0"),
                    ));
                }
                match (0..dim).find(|&i| low.at(i) > high.at(i)) {
                    Some(i) => Err(SpecError::new(
                        "high",
                        format!("must be >= low in every coordinate: coordinate {i} has low {} and high {}", low.at(i), high.at(i)),
                    )),
                    None => Ok(()),
                }
            }
            Self::Point { x } => {
                if x.len() != dim {
                    return Err(SpecError::new(
                        "x",
                        format!("has {} coordinates, the landscape has {dim}", x.len()),
                    ));
                }
                x.iter().try_for_each(|&v| check::finite("x", v))
            }
            Self::SelfAvoiding {
                low,
                high,
                min_distance,
                ..
            } => {
                check::finite("low", *low)?;
                check::finite("high", *high)?;
                if low >= high {
                    return Err(SpecError::new(
                        "high",
                        format!("must be > low, got low {low} and high {high}"),
                    ));
                }
                check::positive("min_distance", *min_distance)?;
                if *min_distance >= 2.0 {
                    return Err(SpecError::new(
                        "min_distance",
                        format!(
                            "must be < 2 (beads two bonds apart are never farther apart than 2), got {min_distance}"
                        ),
                    ));
                }
                Ok(())
            }
        }
    }

    /// The initial point of the run of seed `seed` into `x`: grid point
    /// `seed` for a grid, else a draw from `rng`.
    pub fn start(&self, seed: u64, rng: &mut RunRng, x: &mut [f64]) {
        match self {
            Self::Grid { low, high, points } => grid_point(low, high, points, seed, x),
            _ => self.sample(rng, x),
        }
    }

    /// Draws the initial point into `x` (a grid: its first point).
    pub fn sample(&self, rng: &mut RunRng, x: &mut [f64]) {
        match self {
            Self::Grid { low, high, points } => grid_point(low, high, points, 0, x),
            Self::Uniform { low, high } => {
                for (i, xi) in x.iter_mut().enumerate() {
                    let (lo, hi) = (low.at(i), high.at(i));
                    *xi = lo + (hi - lo) * rng.random::<f64>();
                }
            }
            Self::Normal { std, mean } => {
                for xi in x.iter_mut() {
                    let z: f64 = StandardNormal.sample(rng);
                    *xi = mean + std * z;
                }
            }
            Self::Point { x: p } => x.copy_from_slice(p),
            Self::SelfAvoiding {
                low,
                high,
                min_distance,
                dims,
            } => {
                let mut draw = |x: &mut [f64]| {
                    for xi in x.iter_mut() {
                        *xi = low + (high - low) * rng.random::<f64>();
                    }
                };
                let Some(chain) = protein_ab::bare_chain(x.len(), *dims) else {
                    // Not resolved against a protein_ab landscape (the plan
                    // refuses that): a plain uniform draw.
                    draw(x);
                    return;
                };
                let mut best = (f64::NEG_INFINITY, vec![0.0; x.len()]);
                for _ in 0..SELF_AVOIDING_TRIES {
                    draw(x);
                    let d = chain.closest_pair(x);
                    if d >= *min_distance {
                        return;
                    }
                    if d > best.0 {
                        best = (d, x.to_vec());
                    }
                }
                x.copy_from_slice(&best.1);
            }
        }
    }
}

/// Point `k` of a grid (row-major, last coordinate fastest; `k` wraps
/// around the grid's size): coordinate i is `linspace(low_i, high_i,
/// n_i)[index_i]`, the midpoint where n_i = 1.
fn grid_point(low: &Bound, high: &Bound, points: &GridPoints, k: u64, x: &mut [f64]) {
    let mut rest = k % points.total(x.len()).max(1);
    for i in (0..x.len()).rev() {
        let n = points.at(i) as u64;
        let index = rest % n;
        rest /= n;
        let (lo, hi) = (low.at(i), high.at(i));
        x[i] = if n == 1 {
            0.5 * (lo + hi)
        } else {
            lo + (hi - lo) * index as f64 / (n - 1) as f64
        };
    }
}

/// What every landscape kind provides, in its own file: validation of its
/// table, its dimension, its default initial point and the landscape itself.
pub trait LandscapeSpec {
    /// Checks every field, naming the bad one.
    fn validate(&self) -> Result<(), SpecError>;

    /// Number of coordinates (saturating: a huge size is refused by the
    /// memory checks, never wrapped).
    fn dim(&self) -> usize;

    /// The field that sets the number of coordinates (where several do,
    /// the one that contributes most), for messages.
    fn dim_field(&self) -> &'static str {
        "dim"
    }

    /// The bytes [`Self::default_init`] allocates (bounds per coordinate),
    /// checked against `--max-memory` before it is called.
    fn default_init_bytes(&self) -> u64 {
        0
    }

    /// What building and running it allocates, named by the fields that
    /// decide it, for the memory estimate ([`crate::config::estimate`]).
    fn memory(&self) -> Vec<crate::memory::Allocation>;

    /// The initial-point rule used when the table gives no `init`.
    fn default_init(&self) -> InitSpec;

    /// Builds the landscape. `rng` draws its random structure (rotations,
    /// generated wells); it is seeded per landscape table, not per run, so
    /// every run of one table sees the same function.
    fn build(&self, rng: &mut RunRng) -> Box<dyn Landscape>;

    /// Reads the table's data file, if any, resolving a relative path
    /// against `base_dir` (the sweep file's folder). Called before
    /// `validate`.
    fn load_data(&mut self, _base_dir: &std::path::Path) -> Result<(), SpecError> {
        Ok(())
    }

    /// Number of samples minibatch noise can draw from (`None`: minibatch
    /// noise is not available).
    fn samples(&self) -> Option<usize> {
        None
    }

    /// Checked before a sweep writes anything, at the start of each of its
    /// first runs: why the landscape cannot start at a point (its value or
    /// gradient is not finite there), as a sentence. `None` (the default)
    /// where every start is fine (a built-in kind is finite wherever it is
    /// defined), so the plan does not draw the starts.
    #[allow(clippy::type_complexity)]
    fn start_check(&self) -> Option<Box<dyn Fn(&[f64]) -> Result<(), String> + '_>> {
        None
    }

    /// For a two-player game, the coordinates of the first player (see
    /// [`Landscape::players`]); `None`: not a game.
    fn players(&self) -> Option<usize> {
        None
    }
}

crate::kinds! {
    /// The `kind` of a `[[landscape]]` table. `name` and `init` are common to
    /// every kind and handled by the configuration layer.
    pub enum LandscapeKind: dyn LandscapeSpec {
        Quadratic(quadratic::QuadraticSpec) = "quadratic",
        Rastrigin(rastrigin::RastriginSpec) = "rastrigin",
        MullerBrown(muller_brown::MullerBrownSpec) = "muller_brown",
        ProteinAb(protein_ab::ProteinAbSpec) = "protein_ab",
        Wells(wells::WellsSpec) = "wells",
        LeastSquares(least_squares::LeastSquaresSpec) = "least_squares",
        Logistic(logistic::LogisticSpec) = "logistic",
        MatrixFactorization(matrix_factorization::MatrixFactorizationSpec) = "matrix_factorization",
        Mlp(mlp::MlpSpec) = "mlp",
        Transfer(transfer::TransferSpec) = "transfer",
        Expression(expression::ExpressionSpec) = "expression",
        Rosenbrock(functions::rosenbrock::RosenbrockSpec) = "rosenbrock",
        Himmelblau(functions::himmelblau::HimmelblauSpec) = "himmelblau",
        Beale(functions::beale::BealeSpec) = "beale",
        Booth(functions::booth::BoothSpec) = "booth",
        Ackley(functions::ackley::AckleySpec) = "ackley",
        StyblinskiTang(functions::styblinski_tang::StyblinskiTangSpec) = "styblinski_tang",
        SixHumpCamel(functions::six_hump_camel::SixHumpCamelSpec) = "six_hump_camel",
        GoldsteinPrice(functions::goldstein_price::GoldsteinPriceSpec) = "goldstein_price",
        Levy(functions::levy::LevySpec) = "levy",
        Griewank(functions::griewank::GriewankSpec) = "griewank",
        BilinearGame(bilinear_game::BilinearGameSpec) = "bilinear_game",
        DiracGan(dirac_gan::DiracGanSpec) = "dirac_gan",
    }
}

#[cfg(test)]
mod init_tests {
    use super::*;
    use crate::rng::{rng_for, Stream};

    /// Grid point k is `itertools.product(linspace(-1.5, 1.2, 4),
    /// linspace(-0.5, 2.0, 3))[k]`: numpy's linspace values are exact
    /// here (-1.5, -0.6, 0.3, 1.2 and -0.5, 0.75, 2.0).
    #[test]
    fn grid_points_follow_linspace_in_product_order() {
        let init: InitSpec = toml::from_str(
            "kind = \"grid\"\nlow = [-1.5, -0.5]\nhigh = [1.2, 2.0]\npoints = [4, 3]",
        )
        .unwrap();
        init.validate(2).unwrap();
        let xs = [-1.5, -0.6, 0.3, 1.2];
        let ys = [-0.5, 0.75, 2.0];
        let mut rng = rng_for(0, "init", Stream::Init);
        let mut x = [0.0; 2];
        for k in 0..12u64 {
            init.start(k, &mut rng, &mut x);
            let (want_x, want_y) = (xs[k as usize / 3], ys[k as usize % 3]);
            assert!((x[0] - want_x).abs() < 1e-15, "{k}: {x:?}");
            assert!((x[1] - want_y).abs() < 1e-15, "{k}: {x:?}");
        }
        // One value per coordinate: the midpoint.
        let one: InitSpec =
            toml::from_str("kind = \"grid\"\nlow = 0.0\nhigh = 1.0\npoints = 1").unwrap();
        one.start(0, &mut rng, &mut x);
        assert_eq!(x, [0.5, 0.5]);
        // Bad tables name their field.
        for (body, field) in [
            ("low = 0.0\nhigh = 1.0\npoints = 0", "points"),
            ("low = 0.0\nhigh = 1.0\npoints = [3]", "points"),
            ("low = 1.0\nhigh = 0.0\npoints = 3", "high"),
        ] {
            let init: InitSpec = toml::from_str(&format!("kind = \"grid\"\n{body}")).unwrap();
            assert_eq!(init.validate(2).unwrap_err().field, field, "{body}");
        }
    }

    /// A plan whose seeds outrun the grid is refused, naming the field.
    #[test]
    fn seeds_beyond_the_grid_are_refused() {
        let src =
            "name = \"g\"\nsteps = 5\nseeds = 13\n[[landscape]]\nkind = \"rastrigin\"\ndim = 2\n\
                   init = { kind = \"grid\", low = -1.0, high = 1.0, points = [4, 3] }\n\
                   [[optimizer]]\nkind = \"sgd\"\n[[schedule]]\nkind = \"constant\"\nlr = 0.01\n";
        let e = crate::config::Plan::from_source(std::path::Path::new("g.toml"), src)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("landscape[0].init.points") && e.contains("gives 12 starts"),
            "{e}"
        );
        let ok = src.replace("seeds = 13", "seeds = 12");
        assert!(crate::config::Plan::from_source(std::path::Path::new("g.toml"), &ok).is_ok());
    }

    #[test]
    fn uniform_bounds_per_coordinate() {
        let init: InitSpec =
            toml::from_str("kind = \"uniform\"\nlow = [-1.5, 10.0]\nhigh = [1.2, 10.5]").unwrap();
        init.validate(2).unwrap();
        let mut rng = rng_for(0, "init", Stream::Init);
        let mut x = [0.0; 2];
        for _ in 0..1000 {
            init.sample(&mut rng, &mut x);
            assert!(
                (-1.5..1.2).contains(&x[0]) && (10.0..10.5).contains(&x[1]),
                "{x:?}"
            );
        }
        assert_eq!(init.validate(3).unwrap_err().field, "low");
        let crossed: InitSpec =
            toml::from_str("kind = \"uniform\"\nlow = [0.0, 1.0]\nhigh = 0.5").unwrap();
        let e = crossed.validate(2).unwrap_err();
        assert_eq!(e.field, "high");
        assert!(e.message.contains("coordinate 1"), "{e}");
    }

    #[test]
    fn scalar_bounds_serialize_as_before() {
        // Run ids hash the canonical JSON of the resolved tables: a scalar
        // bound must keep its old form, a bare number.
        let init = InitSpec::Uniform {
            low: Bound::All(-2.0),
            high: Bound::All(2.0),
        };
        assert_eq!(
            serde_json::to_string(&init).unwrap(),
            r#"{"kind":"uniform","low":-2.0,"high":2.0}"#
        );
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Checks shared by the landscape tests: analytic derivatives against
    //! central differences of the value (gradient) and of the gradient (Hessian).
    use super::Landscape;

    /// A landscape seen only through its value and gradient, so the trait's
    /// finite-difference defaults (Hessian, Hessian-vector product) are used.
    pub struct FdOnly<'a>(pub &'a dyn Landscape);

    impl Landscape for FdOnly<'_> {
        fn dim(&self) -> usize {
            self.0.dim()
        }
        fn value(&self, x: &[f64]) -> f64 {
            self.0.value(x)
        }
        fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
            self.0.value_and_gradient(x, grad)
        }
    }

    /// Asserts that the analytic Hessian matches central differences of the
    /// analytic gradient, entry by entry, relative to the largest entry.
    pub fn assert_hessian_matches(f: &dyn Landscape, x: &[f64], rel: f64) {
        let h = f.hessian(x);
        let fd = FdOnly(f).hessian(x);
        let scale = h.iter().fold(1.0f64, |m, a| m.max(a.abs()));
        for i in 0..h.nrows() {
            for j in 0..h.ncols() {
                assert!(
                    (h[(i, j)] - fd[(i, j)]).abs() <= rel * scale,
                    "hessian[{i},{j}]: analytic {} vs central difference {} at {x:?}",
                    h[(i, j)],
                    fd[(i, j)]
                );
            }
        }
    }

    /// Central-difference gradient of the value.
    pub fn fd_gradient(f: &dyn Landscape, x: &[f64]) -> Vec<f64> {
        let mut xp = x.to_vec();
        (0..x.len())
            .map(|i| {
                let h = 1e-6 * x[i].abs().max(1.0);
                xp[i] = x[i] + h;
                let fp = f.value(&xp);
                xp[i] = x[i] - h;
                let fm = f.value(&xp);
                xp[i] = x[i];
                (fp - fm) / (2.0 * h)
            })
            .collect()
    }

    /// Asserts that the analytic gradient matches central differences.
    pub fn assert_gradient_matches(f: &dyn Landscape, x: &[f64], rel: f64) {
        let mut g = vec![0.0; x.len()];
        let v = f.value_and_gradient(x, &mut g);
        assert!((v - f.value(x)).abs() <= 1e-12 * v.abs().max(1.0));
        let fd = fd_gradient(f, x);
        let scale = fd.iter().fold(1.0f64, |m, a| m.max(a.abs()));
        for (i, (a, b)) in g.iter().zip(&fd).enumerate() {
            assert!(
                (a - b).abs() <= rel * scale,
                "gradient[{i}]: analytic {a} vs central difference {b} at {x:?}"
            );
        }
    }
}
