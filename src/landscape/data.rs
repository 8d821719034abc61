//! Data of the data-defined landscapes (`least_squares`, `logistic`, `mlp`):
//! a design matrix X (n samples × d features, row-major) and a target y.
//!
//! The `data` table of a landscape either gives a seeded recipe,
//!
//! ```toml
//! data = { n = 512, d = 20, covariance = { kind = "geometric", min = 0.1, max = 10.0 }, label_noise = 0.1 }
//! ```
//!
//! where every input is x_i = Q·diag(√λ)·z_i with z_i ~ N(0, I), λ the
//! covariance spectrum (the quadratic's forms: a list, `geometric` or
//! `linear`) and Q = I, or a Haar-random rotation with `rotate = true`; the
//! labels come from a random teacher drawn from the landscape's seed (see each
//! kind); or names a file,
//!
//! ```toml
//! data = { file = "data/wine.csv", target = "quality" }
//! ```
//!
//! a CSV file (a header row of column names, then one row of numbers per
//! sample) or a Parquet file (`.parquet`, read with polars), whose `target`
//! column is y and every other column a feature. A relative path is relative to
//! the sweep file's folder. A missing file or column, a non-numeric or
//! non-finite value is a [`SpecError`] naming `data.file` or `data.target`,
//! with the line (CSV) or row (Parquet) and the column.
//!
//! The file is read when the plan is resolved ([`DataSpec::load`]), and the
//! loaded table is kept in the spec (not serialized: the run id hashes the
//! spec as written).

use super::quadratic::{eigenvalues, haar_orthogonal, Spectrum, SpectrumRule};
use super::Landscape;
use crate::error::{check, SpecError};
use crate::rng::RunRng;
use nalgebra::DMatrix;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Samples of a generated data set when `n` is not given.
pub const DEFAULT_N: usize = 256;
/// Features of a generated data set when `d` is not given.
pub const DEFAULT_D: usize = 10;

/// A table of samples: `x` is n×d row-major, `y` has n entries (empty for a
/// file read without a target).
#[derive(Clone, PartialEq)]
pub struct Dataset {
    pub n: usize,
    pub d: usize,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// Feature column names (files) or `x0`, `x1`, ... (generated).
    pub columns: Vec<String>,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dataset {{ n: {}, d: {} }}", self.n, self.d)
    }
}

impl Dataset {
    /// Row i of X.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// X as a dense matrix.
    pub fn matrix(&self) -> DMatrix<f64> {
        DMatrix::from_row_slice(self.n, self.d, &self.x)
    }
}

/// The `data` table of a data-defined landscape.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    /// A CSV or Parquet file (relative to the sweep file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// The file's label column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Generated: number of samples (256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    /// Generated: number of features (10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<usize>,
    /// Generated: eigenvalues of the input covariance (all 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covariance: Option<Spectrum>,
    /// Generated: rotate the covariance's eigenbasis (false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate: Option<bool>,
    /// Generated: label noise (regression: std of the added Gaussian noise;
    /// logistic: probability of flipping a label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_noise: Option<f64>,
    /// Generated, logistic only: distance between the two class means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separation: Option<f64>,
    /// The file's content hash (FNV-1a 64 of its bytes, hex), set by
    /// [`DataSpec::load`]: part of every run id, so that a file edited
    /// between a kill and `--resume`, or between two shards, is a different
    /// plan (its path alone says nothing of what it holds). Not a field a
    /// sweep file can set.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The file's table once [`DataSpec::load`] has read it.
    #[serde(skip)]
    pub loaded: Option<Arc<Dataset>>,
}

/// What a kind accepts in its `data` table.
#[derive(Debug, Clone, Copy)]
pub struct DataRules {
    pub label_noise_default: f64,
    /// `label_noise` is a probability (logistic) rather than a std.
    pub label_noise_is_probability: bool,
    pub separation: bool,
}

impl DataSpec {
    pub fn is_file(&self) -> bool {
        self.file.is_some()
    }

    pub fn n(&self) -> usize {
        match &self.loaded {
            Some(data) => data.n,
            None => self.n.unwrap_or(DEFAULT_N),
        }
    }

    pub fn d(&self) -> usize {
        match &self.loaded {
            Some(data) => data.d,
            None => self.d.unwrap_or(DEFAULT_D),
        }
    }

    pub fn label_noise(&self, rules: DataRules) -> f64 {
        self.label_noise.unwrap_or(rules.label_noise_default)
    }

    /// The data set, for the memory estimate: n·(d + 1) values, kept once.
    pub fn memory(&self) -> crate::memory::Allocation {
        let (n, d) = (self.n() as u64, self.d() as u64);
        crate::memory::Allocation::shared(
            "data",
            format!("n = {n}, d = {d}"),
            "the data set",
            crate::memory::f64s(n.saturating_mul(d.saturating_add(1))),
        )
    }

    /// What finding the exact minimum holds while the landscape is built,
    /// for the memory estimate: a copy of X (n·d) and `squares` d×d
    /// matrices (XᵀX, its copy and factors; or the Newton Hessian and its
    /// Cholesky factor).
    pub fn factorisation(&self, what: &'static str, squares: u64) -> crate::memory::Allocation {
        let (n, d) = (self.n() as u64, self.d() as u64);
        let values = n
            .saturating_mul(d)
            .saturating_add(squares.saturating_mul(d).saturating_mul(d));
        crate::memory::Allocation::shared("data", format!("n = {n}, d = {d}"), what, 0)
            .building(crate::memory::f64s(values))
    }

    /// Refuses more features than [`MAX_FACTORISED_FEATURES`]: the exact
    /// minimum is found by factorising d×d matrices (O(d³) each), which
    /// for a wide file would take hours before the first step.
    pub fn check_factorisable(&self) -> Result<(), SpecError> {
        let d = self.d();
        if d > MAX_FACTORISED_FEATURES {
            let field = if self.is_file() {
                "data.file"
            } else {
                "data.d"
            };
            return Err(SpecError::new(
                field,
                format!(
                    "gives d = {d} features; the exact minimum is found by factorising d x d matrices, so d is limited to {MAX_FACTORISED_FEATURES}"
                ),
            ));
        }
        Ok(())
    }

    /// Reads the file (if any), resolving a relative path against
    /// `base_dir` (the sweep file's folder).
    pub fn load(&mut self, base_dir: &Path) -> Result<(), SpecError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let path = if file.is_absolute() {
            file.clone()
        } else {
            base_dir.join(file)
        };
        let (data, content) = read_table(&path, self.target.as_deref())?;
        self.content = Some(format!("{content:016x}"));
        self.loaded = Some(Arc::new(data));
        Ok(())
    }

    /// Checks the table: a file (loaded) or a recipe, never both.
    pub fn validate(&self, rules: DataRules, needs_target: bool) -> Result<(), SpecError> {
        if self.is_file() {
            let generated = [
                ("n", self.n.is_some()),
                ("d", self.d.is_some()),
                ("covariance", self.covariance.is_some()),
                ("rotate", self.rotate.is_some()),
                ("label_noise", self.label_noise.is_some()),
                ("separation", self.separation.is_some()),
            ];
            if let Some((field, _)) = generated.iter().find(|(_, given)| *given) {
                return Err(SpecError::new(
                    format!("data.{field}"),
                    "describes generated data; it cannot be given with `file`",
                ));
            }
            if needs_target && self.target.is_none() {
                return Err(SpecError::new(
                    "data.target",
                    "is required with `file`: the name of the label column",
                ));
            }
            if self.loaded.is_none() {
                return Err(SpecError::new(
                    "data.file",
                    "was not read (the sweep file's folder is needed to resolve it)",
                ));
            }
            return Ok(());
        }
        if self.target.is_some() {
            return Err(SpecError::new(
                "data.target",
                "names a column of `file`; give `file` too",
            ));
        }
        check::at_least("data.n", self.n() as u64, 1)?;
        check::at_least("data.d", self.d() as u64, 1)?;
        if let Some(spectrum) = &self.covariance {
            validate_spectrum("data.covariance", spectrum, self.d())?;
        }
        let noise = self.label_noise(rules);
        if rules.label_noise_is_probability {
            check::in_half_open("data.label_noise", noise, 0.0, 0.5)?;
        } else {
            check::non_negative("data.label_noise", noise)?;
        }
        match self.separation {
            Some(_) if !rules.separation => Err(SpecError::new(
                "data.separation",
                "applies to logistic regression only",
            )),
            Some(s) => check::non_negative("data.separation", s),
            None => Ok(()),
        }
    }

    /// The inputs of the data set: the file's features, or n generated
    /// Gaussian inputs (drawn first from `rng`).
    pub fn inputs(&self, rng: &mut RunRng) -> Dataset {
        if let Some(data) = &self.loaded {
            return (**data).clone();
        }
        let (n, d) = (self.n(), self.d());
        let spectrum = self
            .covariance
            .clone()
            .unwrap_or(Spectrum::Rule(SpectrumRule::Linear { min: 1.0, max: 1.0 }));
        let x = gaussian_inputs(
            n,
            &eigenvalues(&spectrum, d),
            self.rotate.unwrap_or(false),
            rng,
        );
        Dataset {
            n,
            d,
            x,
            y: vec![0.0; n],
            columns: (0..d).map(|j| format!("x{j}")).collect(),
        }
    }
}

/// Validates a spectrum of `d` values (list or rule), non-negative.
pub fn validate_spectrum(field: &str, spectrum: &Spectrum, d: usize) -> Result<(), SpecError> {
    match spectrum {
        Spectrum::List(v) => {
            if v.len() != d {
                return Err(SpecError::new(
                    field,
                    format!("has {} values, needs {d}", v.len()),
                ));
            }
            v.iter().try_for_each(|&l| check::non_negative(field, l))
        }
        Spectrum::Rule(SpectrumRule::Geometric { min, max }) => {
            check::positive(&format!("{field}.min"), *min)?;
            check::positive(&format!("{field}.max"), *max)?;
            ordered(field, *min, *max)
        }
        Spectrum::Rule(SpectrumRule::Linear { min, max }) => {
            check::non_negative(&format!("{field}.min"), *min)?;
            check::non_negative(&format!("{field}.max"), *max)?;
            ordered(field, *min, *max)
        }
    }
}

fn ordered(field: &str, min: f64, max: f64) -> Result<(), SpecError> {
    if max < min {
        Err(SpecError::new(
            format!("{field}.max"),
            format!("must be >= min ({min}), got {max}"),
        ))
    } else {
        Ok(())
    }
}

/// n inputs x_i = Q·diag(√λ)·z_i, z_i ~ N(0, I) (row-major n×d); Q a Haar
/// rotation drawn after the z's when `rotate`.
pub fn gaussian_inputs(n: usize, lambda: &[f64], rotate: bool, rng: &mut RunRng) -> Vec<f64> {
    let d = lambda.len();
    let scale: Vec<f64> = lambda.iter().map(|l| l.sqrt()).collect();
    let mut x = vec![0.0; n * d];
    for row in x.chunks_mut(d) {
        for (v, s) in row.iter_mut().zip(&scale) {
            let z: f64 = StandardNormal.sample(rng);
            *v = s * z;
        }
    }
    if rotate {
        let q = haar_orthogonal(d, rng);
        let mut tmp = vec![0.0; d];
        for row in x.chunks_mut(d) {
            for (i, t) in tmp.iter_mut().enumerate() {
                *t = (0..d).map(|k| q[(i, k)] * row[k]).sum();
            }
            row.copy_from_slice(&tmp);
        }
    }
    x
}

/// A vector of `len` i.i.d. N(0, std²) draws.
pub fn normal_vector(len: usize, std: f64, rng: &mut RunRng) -> Vec<f64> {
    (0..len)
        .map(|_| {
            let z: f64 = StandardNormal.sample(rng);
            std * z
        })
        .collect()
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// The dense Hessian from `dim` exact Hessian-vector products (column j =
/// H·e_j), symmetrised.
pub fn hessian_from_hvp(f: &dyn Landscape, x: &[f64]) -> DMatrix<f64> {
    let d = f.dim();
    let mut h = DMatrix::zeros(d, d);
    let mut e = vec![0.0; d];
    let mut col = vec![0.0; d];
    for j in 0..d {
        e[j] = 1.0;
        f.hessian_vector_product(x, &e, &mut col);
        e[j] = 0.0;
        for i in 0..d {
            h[(i, j)] = col[i];
        }
    }
    (&h + h.transpose()) * 0.5
}

/// Most features of a landscape whose exact minimum is found by a
/// factorisation (least squares, logistic regression): d³/3 ≈ 4·10¹⁰
/// operations and 200 MB per d×d matrix at the limit.
pub const MAX_FACTORISED_FEATURES: usize = 5000;

/// Largest |value| a data file may hold: squares and sums of n·d products
/// of such values stay finite (1e100² = 1e200), so the factorisations of
/// the data (SVD, eigen-decomposition) see no overflow.
pub const MAX_DATA_VALUE: f64 = 1e100;

/// Reads a CSV or Parquet table, once; `target` (if any) becomes y. Also
/// returns the FNV-1a 64 hash of the file's bytes (its content, for run
/// ids).
pub fn read_table(path: &Path, target: Option<&str>) -> Result<(Dataset, u64), SpecError> {
    let shown = path.display();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let read = || {
        crate::memory::read_bytes_within(path, crate::memory::MAX_DATA_FILE_BYTES)
            .map_err(|m| SpecError::new("data.file", format!("{shown} {m}")))
    };
    let (content, (names, columns)) = match ext.as_deref() {
        Some("csv") => {
            let bytes = read()?;
            let content = crate::rng::fnv1a64(&bytes);
            let text = String::from_utf8(bytes).map_err(|e| {
                SpecError::new("data.file", format!("{shown} is not UTF-8 text: {e}"))
            })?;
            (content, read_csv(&text, &shown.to_string())?)
        }
        Some("parquet") | Some("pq") => {
            let bytes = read()?;
            let content = crate::rng::fnv1a64(&bytes);
            (
                content,
                read_parquet(std::io::Cursor::new(bytes), &shown.to_string())?,
            )
        }
        _ => {
            return Err(SpecError::new(
                "data.file",
                format!("{shown}: must end in .csv or .parquet"),
            ))
        }
    };
    let n = columns.first().map_or(0, Vec::len);
    if n == 0 {
        return Err(SpecError::new(
            "data.file",
            format!("{shown} has no rows of data"),
        ));
    }
    let target_index = match target {
        None => None,
        Some(t) => Some(names.iter().position(|c| c == t).ok_or_else(|| {
            SpecError::new(
                "data.target",
                format!(
                    "{shown} has no column `{t}`; its columns are {}",
                    names.join(", ")
                ),
            )
        })?),
    };
    let features: Vec<usize> = (0..names.len())
        .filter(|&j| Some(j) != target_index)
        .collect();
    if features.is_empty() {
        return Err(SpecError::new(
            "data.file",
            format!("{shown} has no feature column besides the target"),
        ));
    }
    let d = features.len();
    let mut x = vec![0.0; n * d];
    for (k, &j) in features.iter().enumerate() {
        for (i, v) in columns[j].iter().enumerate() {
            x[i * d + k] = *v;
        }
    }
    let data = Dataset {
        n,
        d,
        x,
        y: target_index.map_or_else(Vec::new, |t| columns[t].clone()),
        columns: features.iter().map(|&j| names[j].clone()).collect(),
    };
    Ok((data, content))
}

type Columns = (Vec<String>, Vec<Vec<f64>>);

/// A CSV text with a header row; every value a finite number. Errors name
/// the line and column.
pub fn read_csv(text: &str, shown: &str) -> Result<Columns, SpecError> {
    // A byte-order mark (spreadsheets write one) is not part of the first
    // column's name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(SpecError::new(
            "data.file",
            format!("{shown} is empty (a header row is needed)"),
        ));
    };
    let names: Vec<String> = header
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .collect();
    let mut columns = vec![Vec::new(); names.len()];
    for (index, line) in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != names.len() {
            return Err(SpecError::new(
                "data.file",
                format!(
                    "{shown}:{}: has {} values, the header has {} columns",
                    index + 1,
                    fields.len(),
                    names.len()
                ),
            ));
        }
        for ((field, name), column) in fields.iter().zip(&names).zip(columns.iter_mut()) {
            let raw = field.trim().trim_matches('"');
            match raw.parse::<f64>() {
                Ok(v) if v.is_finite() && v.abs() > MAX_DATA_VALUE => {
                    return Err(SpecError::new(
                        "data.file",
                        format!(
                            "{shown}:{}: column `{name}`: {raw} is too large: |value| must be <= {MAX_DATA_VALUE:e} (squares and sums of products would overflow, and the factorisation of the data would not finish)",
                            index + 1
                        ),
                    ))
                }
                Ok(v) if v.is_finite() => column.push(v),
                _ => {
                    return Err(SpecError::new(
                        "data.file",
                        format!(
                            "{shown}:{}: column `{name}`: `{raw}` is not a finite number",
                            index + 1
                        ),
                    ))
                }
            }
        }
    }
    Ok((names, columns))
}

/// The columns of a Parquet file's bytes (`shown`: its path, for messages).
fn read_parquet(bytes: std::io::Cursor<Vec<u8>>, shown: &str) -> Result<Columns, SpecError> {
    use polars::prelude::*;
    let df = ParquetReader::new(bytes)
        .finish()
        .map_err(|e| SpecError::new("data.file", format!("{shown}: not a Parquet file: {e}")))?;
    let mut names = Vec::new();
    let mut columns = Vec::new();
    for column in df.columns() {
        let name = column.name().to_string();
        let bad =
            |what: String| SpecError::new("data.file", format!("{shown}: column `{name}`: {what}"));
        if !column.dtype().is_primitive_numeric() && !column.dtype().is_bool() {
            return Err(bad(format!("has type {}, not a number", column.dtype())));
        }
        let cast = column
            .cast(&DataType::Float64)
            .map_err(|e| bad(e.to_string()))?;
        let values = cast.f64().map_err(|e| bad(e.to_string()))?;
        let mut out = Vec::with_capacity(values.len());
        for (row, v) in values.iter().enumerate() {
            match v {
                Some(v) if v.is_finite() && v.abs() > MAX_DATA_VALUE => {
                    return Err(bad(format!(
                        "row {row}: {v} is too large: |value| must be <= {MAX_DATA_VALUE:e} (squares and sums of products would overflow, and the factorisation of the data would not finish)"
                    )))
                }
                Some(v) if v.is_finite() => out.push(v),
                other => {
                    return Err(bad(format!(
                        "row {row}: {} is not a finite number",
                        other.map_or("null".to_string(), |v| v.to_string())
                    )))
                }
            }
        }
        names.push(name);
        columns.push(out);
    }
    Ok((names, columns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_errors_name_line_and_column() {
        let e = read_csv("a,b\n1,2\n3,x\n", "t.csv").unwrap_err();
        assert_eq!(e.field, "data.file");
        assert!(
            e.message.contains("t.csv:3") && e.message.contains("`b`"),
            "{e}"
        );
        let e = read_csv("a,b\n1,2,3\n", "t.csv").unwrap_err();
        assert!(e.message.contains("t.csv:2"), "{e}");
        let e = read_csv("a,b\n1,inf\n", "t.csv").unwrap_err();
        assert!(e.message.contains("inf"), "{e}");
        let (names, cols) = read_csv("\"a\", b\n1, 2.5\n\n-3e-1,4\n", "t.csv").unwrap();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(cols, [vec![1.0, -0.3], vec![2.5, 4.0]]);
    }

    #[test]
    fn generated_inputs_have_the_covariance() {
        // Var x_j = λ_j: 20000 samples, standard error λ·√(2/n) = 1%.
        let mut rng = crate::rng::rng_for(3, "inputs", crate::rng::Stream::Landscape);
        let lambda = [0.25, 4.0];
        let n = 20_000;
        let x = gaussian_inputs(n, &lambda, false, &mut rng);
        for (j, l) in lambda.iter().enumerate() {
            let var = (0..n).map(|i| x[i * 2 + j].powi(2)).sum::<f64>() / n as f64;
            assert!(
                (var - l).abs() < 4.0 * l * (2.0 / n as f64).sqrt(),
                "{var} vs {l}"
            );
        }
    }
}
