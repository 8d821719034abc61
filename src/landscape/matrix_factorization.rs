//! Matrix factorization: f(U, V) = ‖U·Vᵀ − M‖²_F/2, U ∈ R^(m×k), V ∈
//! R^(p×k).
//!
//! Coordinates: U row-major, then V row-major (dim = (m + p)·k). With R =
//! U·Vᵀ − M: ∇_U f = R·V, ∇_V f = Rᵀ·U; the Hessian along (dU, dV) is
//! (dR·V + R·dV, dRᵀ·U + Rᵀ·dU) with dR = dU·Vᵀ + U·dVᵀ, computed entry by
//! entry of R without forming it (no allocation). The dense Hessian is built
//! from these exact products.
//!
//! The target M: generated M = A·diag(σ)·Bᵀ with A, B the first
//! `target_rank` columns of Haar-random orthogonal matrices (landscape seed)
//! and σ the `singular_values` (the quadratic's spectrum forms; default
//! geometric 1 to 10), or read from a file (`data = { file = "m.csv" }`: every
//! column of the table is a column of M).
//!
//! Minimum (Eckart–Young): ½·Σ_{l > k} σ_l², 0 when k >= rank M. The
//! minimizers form a manifold (U·G, V·G⁻ᵀ for any invertible G), so only the
//! value is reported (`energy_gap`), not a point.
//!
//! Initialisation (default): U's entries uniform with standard deviation
//! init_scale·√imbalance, V's with init_scale/√imbalance. `imbalance = 1`
//! (default) is the balanced start (E UᵀU = E VᵀV when m = p); other values
//! give the unbalanced starts of Du, Hu & Lee (2018), whose imbalance UᵀU −
//! VᵀV gradient flow conserves.

use super::data::{hessian_from_hvp, DataSpec};
use super::quadratic::{eigenvalues, haar_orthogonal, Spectrum, SpectrumRule};
use super::{Bound, InitSpec, Landscape, LandscapeSpec};
use crate::error::{check, SpecError};
use crate::memory::Allocation;
use crate::rng::RunRng;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixFactorizationSpec {
    /// m (generated M; default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<usize>,
    /// p (generated M; default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cols: Option<usize>,
    /// Rank of the generated M (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_rank: Option<usize>,
    /// Singular values of the generated M (default geometric 1 to 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub singular_values: Option<Spectrum>,
    /// k, the inner dimension of the factors (default 2).
    #[serde(default = "default_rank")]
    pub rank: usize,
    #[serde(default = "default_init_scale")]
    pub init_scale: f64,
    #[serde(default = "default_imbalance")]
    pub imbalance: f64,
    #[serde(default)]
    pub data: DataSpec,
}

fn default_rank() -> usize {
    2
}

fn default_init_scale() -> f64 {
    0.1
}

fn default_imbalance() -> f64 {
    1.0
}

impl crate::registry::Documented for MatrixFactorizationSpec {
    const SUMMARY: &'static str = "f(U, V) = ‖UVᵀ − M‖²_F/2 for a target M (generated with `rows`, `cols`, `target_rank`, `singular_values`, or read from a file) and factors of inner dimension `rank`; `init_scale` and `imbalance` set balanced or unbalanced initial factors. Best known value by Eckart–Young.";
    const CONVENTION: &'static str =
        "Matrix sensing/factorization as in the Edge of Stability literature (Cohen et al. 2021).";
    const EXAMPLE: &'static str = "";
}

impl LandscapeSpec for MatrixFactorizationSpec {
    fn validate(&self) -> Result<(), SpecError> {
        MatrixFactorizationSpec::validate(self)
    }

    fn dim(&self) -> usize {
        MatrixFactorizationSpec::dim(self)
    }

    /// dim = (rows + cols)·rank: `rank`, or the shape where it is the
    /// larger factor (`rows`/`cols`, or `data.file`'s table).
    fn dim_field(&self) -> &'static str {
        let (m, p) = self.shape();
        if m.saturating_add(p) <= self.rank {
            "rank"
        } else if self.data.file.is_some() {
            "data.file"
        } else if m >= p {
            "rows"
        } else {
            "cols"
        }
    }

    fn default_init_bytes(&self) -> u64 {
        crate::memory::f64s((self.dim() as u64).saturating_mul(2))
    }

    fn memory(&self) -> Vec<Allocation> {
        vec![self.data.memory()]
    }

    fn default_init(&self) -> InitSpec {
        MatrixFactorizationSpec::default_init(self)
    }

    fn build(&self, rng: &mut RunRng) -> Box<dyn Landscape> {
        Box::new(MatrixFactorizationSpec::build(self, rng))
    }

    fn load_data(&mut self, base_dir: &Path) -> Result<(), SpecError> {
        self.data.load(base_dir)
    }
}

impl MatrixFactorizationSpec {
    pub fn shape(&self) -> (usize, usize) {
        match &self.data.loaded {
            Some(m) => (m.n, m.d),
            None => (self.rows.unwrap_or(10), self.cols.unwrap_or(10)),
        }
    }

    fn target_rank(&self) -> usize {
        self.target_rank.unwrap_or(2)
    }

    fn spectrum(&self) -> Spectrum {
        self.singular_values
            .clone()
            .unwrap_or(Spectrum::Rule(SpectrumRule::Geometric {
                min: 1.0,
                max: 10.0,
            }))
    }

    pub fn validate(&self) -> Result<(), SpecError> {
        check::at_least("rank", self.rank as u64, 1)?;
        check::positive("init_scale", self.init_scale)?;
        check::positive("imbalance", self.imbalance)?;
        if self.data.is_file() {
            let generated = [
                ("rows", self.rows.is_some()),
                ("cols", self.cols.is_some()),
                ("target_rank", self.target_rank.is_some()),
                ("singular_values", self.singular_values.is_some()),
            ];
            if let Some((field, _)) = generated.iter().find(|(_, given)| *given) {
                return Err(SpecError::new(
                    *field,
                    "describes a generated target; it cannot be given with `data.file`",
                ));
            }
            if self.data.target.is_some() {
                return Err(SpecError::new(
                    "data.target",
                    "matrix_factorization reads the whole table as M; remove `target`",
                ));
            }
            return self.data.validate(
                super::data::DataRules {
                    label_noise_default: 0.0,
                    label_noise_is_probability: false,
                    separation: false,
                },
                false,
            );
        }
        if self.data != DataSpec::default() {
            return Err(SpecError::new(
                "data",
                "matrix_factorization takes only `data = { file = \"...\" }`; generate M with rows, cols, target_rank and singular_values",
            ));
        }
        let (m, p) = self.shape();
        check::at_least("rows", m as u64, 1)?;
        check::at_least("cols", p as u64, 1)?;
        let r = self.target_rank();
        check::at_least("target_rank", r as u64, 1)?;
        if r > m.min(p) {
            return Err(SpecError::new(
                "target_rank",
                format!("must be <= min(rows, cols) = {}, got {r}", m.min(p)),
            ));
        }
        super::data::validate_spectrum("singular_values", &self.spectrum(), r)
    }

    pub fn dim(&self) -> usize {
        let (m, p) = self.shape();
        m.saturating_add(p).saturating_mul(self.rank)
    }

    /// U's entries with std init_scale·√imbalance, V's init_scale/√imbalance
    /// (uniform: half-width √3·std).
    pub fn default_init(&self) -> InitSpec {
        let (m, p) = self.shape();
        let k = self.rank;
        let half_u = 3f64.sqrt() * self.init_scale * self.imbalance.sqrt();
        let half_v = 3f64.sqrt() * self.init_scale / self.imbalance.sqrt();
        let high: Vec<f64> = (0..(m + p) * k)
            .map(|i| if i < m * k { half_u } else { half_v })
            .collect();
        InitSpec::Uniform {
            low: Bound::Each(high.iter().map(|h| -h).collect()),
            high: Bound::Each(high),
        }
    }

    pub fn build(&self, rng: &mut RunRng) -> MatrixFactorization {
        let (m, p) = self.shape();
        let (target, mut sigma) = match &self.data.loaded {
            Some(data) => {
                let t = DMatrix::from_row_slice(data.n, data.d, &data.x);
                let s = t.clone().singular_values().iter().copied().collect();
                (t, s)
            }
            None => {
                let r = self.target_rank();
                let sigma = eigenvalues(&self.spectrum(), r);
                let a = haar_orthogonal(m, rng);
                let b = haar_orthogonal(p, rng);
                let mut t = DMatrix::zeros(m, p);
                for (l, s) in sigma.iter().enumerate() {
                    t += a.column(l) * b.column(l).transpose() * *s;
                }
                (t, sigma)
            }
        };
        sigma.sort_by(|a, b| b.total_cmp(a));
        let best = 0.5 * sigma.iter().skip(self.rank).map(|s| s * s).sum::<f64>();
        MatrixFactorization {
            target: (0..m)
                .flat_map(|i| (0..p).map(move |j| (i, j)))
                .map(|(i, j)| target[(i, j)])
                .collect(),
            m,
            p,
            k: self.rank,
            best,
        }
    }
}

#[derive(Debug, Clone)]
pub struct MatrixFactorization {
    /// M, row-major m×p.
    target: Vec<f64>,
    m: usize,
    p: usize,
    k: usize,
    best: f64,
}

impl MatrixFactorization {
    fn split<'a>(&self, x: &'a [f64]) -> (&'a [f64], &'a [f64]) {
        x.split_at(self.m * self.k)
    }

    fn residual(&self, u: &[f64], v: &[f64], i: usize, j: usize) -> f64 {
        let k = self.k;
        let ui = &u[i * k..(i + 1) * k];
        let vj = &v[j * k..(j + 1) * k];
        ui.iter().zip(vj).map(|(a, b)| a * b).sum::<f64>() - self.target[i * self.p + j]
    }
}

impl Landscape for MatrixFactorization {
    fn dim(&self) -> usize {
        (self.m + self.p) * self.k
    }

    fn value(&self, x: &[f64]) -> f64 {
        let (u, v) = self.split(x);
        let mut s = 0.0;
        for i in 0..self.m {
            for j in 0..self.p {
                let r = self.residual(u, v, i, j);
                s += r * r;
            }
        }
        0.5 * s
    }

    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let k = self.k;
        let (u, v) = self.split(x);
        grad.fill(0.0);
        let (gu, gv) = grad.split_at_mut(self.m * k);
        let mut s = 0.0;
        for i in 0..self.m {
            for j in 0..self.p {
                let r = self.residual(u, v, i, j);
                s += r * r;
                for a in 0..k {
                    gu[i * k + a] += r * v[j * k + a];
                    gv[j * k + a] += r * u[i * k + a];
                }
            }
        }
        0.5 * s
    }

    fn hessian(&self, x: &[f64]) -> DMatrix<f64> {
        hessian_from_hvp(self, x)
    }

    fn hessian_vector_product(&self, x: &[f64], dir: &[f64], out: &mut [f64]) {
        let k = self.k;
        let (u, v) = self.split(x);
        let (du, dv) = self.split(dir);
        out.fill(0.0);
        let (ou, ov) = out.split_at_mut(self.m * k);
        for i in 0..self.m {
            for j in 0..self.p {
                let r = self.residual(u, v, i, j);
                let mut dr = 0.0;
                for a in 0..k {
                    dr += du[i * k + a] * v[j * k + a] + u[i * k + a] * dv[j * k + a];
                }
                for a in 0..k {
                    ou[i * k + a] += dr * v[j * k + a] + r * dv[j * k + a];
                    ov[j * k + a] += dr * u[i * k + a] + r * du[i * k + a];
                }
            }
        }
    }

    fn hessian_diagonal(&self, x: &[f64], out: &mut [f64]) {
        // ∂²f/∂U_ia² = Σ_j V_ja², ∂²f/∂V_ja² = Σ_i U_ia².
        let k = self.k;
        let (u, v) = self.split(x);
        let (ou, ov) = out.split_at_mut(self.m * k);
        for a in 0..k {
            let sv: f64 = (0..self.p).map(|j| v[j * k + a] * v[j * k + a]).sum();
            let su: f64 = (0..self.m).map(|i| u[i * k + a] * u[i * k + a]).sum();
            (0..self.m).for_each(|i| ou[i * k + a] = sv);
            (0..self.p).for_each(|j| ov[j * k + a] = su);
        }
    }

    fn best_known_value(&self) -> Option<f64> {
        Some(self.best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::testing::{assert_gradient_matches, assert_hessian_matches};
    use crate::rng::{rng_for, Stream};

    #[test]
    fn derivatives_and_eckart_young() {
        let spec: MatrixFactorizationSpec = toml::from_str(
            "rows = 4\ncols = 3\ntarget_rank = 3\nsingular_values = [1.0, 2.0, 5.0]\nrank = 2",
        )
        .unwrap();
        spec.validate().unwrap();
        let f = spec.build(&mut rng_for(4, "mf", Stream::Landscape));
        assert_eq!(f.dim(), 14);
        // Rank 2 < 3: the best value drops the smallest singular value.
        assert!((f.best_known_value().unwrap() - 0.5).abs() < 1e-15);
        let x: Vec<f64> = (0..14).map(|i| (i as f64 * 0.37).sin()).collect();
        assert_gradient_matches(&f, &x, 1e-7);
        assert_hessian_matches(&f, &x, 1e-6);
        let mut diag = vec![0.0; 14];
        f.hessian_diagonal(&x, &mut diag);
        let h = f.hessian(&x);
        for (i, dv) in diag.iter().enumerate() {
            assert!((dv - h[(i, i)]).abs() < 1e-12);
        }
    }
}
