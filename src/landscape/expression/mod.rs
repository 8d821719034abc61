//! `kind = "expression"`: a landscape written as a formula in the sweep file,
//! with exact gradient and Hessian by automatic differentiation.
//!
//! The string is parsed ([`parse`]), compiled to a tape ([`tape`]) once per
//! sweep, and evaluated in the per-step loop on a per-thread buffer: value
//! forward, gradient by the reverse sweep, Hessian-vector products by the
//! reverse sweep over dual numbers (forward over reverse), the Hessian as d
//! of them. The grammar and examples are in `docs/expressions.md`.

pub mod parse;
pub mod tape;

use super::dual::Dual;
use super::{Bound, InitSpec, KnownPoint, Landscape, LandscapeSpec};
use crate::error::{check, SpecError};
use crate::memory::{f64s, Allocation};
use crate::rng::RunRng;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use tape::{Scalar, Tape};

/// Characters an expression may have (beyond this, write a `sum`).
pub const MAX_CHARS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpressionSpec {
    pub dim: usize,
    /// The function of x0 … x(dim−1).
    pub f: String,
    /// Named constants the expression may use (a sweep may put an axis on
    /// each).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, f64>,
    /// Known minima, one point of `dim` values each: they give
    /// `distance_to_min` and `basin` (the nearest one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub minima: Vec<Vec<f64>>,
    /// The global minimum's value (for `energy_gap`); default the lowest
    /// value at `minima`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_value: Option<f64>,
    /// A box `[[x0_lo, x0_hi], [x1_lo, x1_hi]]` for the contour plots of a
    /// 2-D expression, and its default init (uniform over it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<[[f64; 2]; 2]>,
}

impl crate::registry::Documented for ExpressionSpec {
    const SUMMARY: &'static str = "Your own function of x0 … x(dim−1): `f` is a formula with + − * / ^ (or **), unary minus, sin cos tan exp log sqrt abs tanh, min(a, b, …), max(…), pi, e, d (= dim), `x[i]` and `sum(i, lo, hi, body)` / `prod(…)` over i = lo … hi−1 (Python's range), and the names of `params`. Gradient and Hessian are exact (reverse-mode automatic differentiation; the Hessian forward over reverse), never finite differences. `minima` (points) and `minimum_value` feed distance_to_min, basin and energy_gap; `view` is a 2-D plot box and the default init (else normal, std 1). Errors name the column inside `f`; a start where f or its gradient is not finite is refused before the sweep. Grammar and examples: docs/expressions.md.";
    const CONVENTION: &'static str =
        "Your formula; abs′(0) = 0 and max/min follow the larger/smaller argument (the first on ties), as JAX does.";
    const EXAMPLE: &'static str = "dim = 2\nf = \"(1 - x0)^2 + 100*(x1 - x0^2)^2\"";
}

fn valid_name(n: &str) -> bool {
    let mut c = n.chars();
    c.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && c.all(|c| c.is_alphanumeric() || c == '_')
}

impl ExpressionSpec {
    /// Parses and compiles `f`; the errors name the column.
    pub fn tape(&self) -> Result<Tape, SpecError> {
        if self.f.chars().count() > MAX_CHARS {
            return Err(SpecError::new(
                "f",
                format!(
                    "has {} characters, more than {MAX_CHARS}: write repeated terms with sum(i, lo, hi, …)",
                    self.f.chars().count()
                ),
            ));
        }
        let at = |e: parse::ExprError| SpecError::new("f", format!("{e} in \"{}\"", self.f));
        let ast = parse::parse(&self.f).map_err(at)?;
        tape::compile(&ast, self.dim, &self.params).map_err(at)
    }

    pub fn validate(&self) -> Result<(), SpecError> {
        check::at_least("dim", self.dim as u64, 1)?;
        if self.dim > tape::MAX_OPS {
            return Err(SpecError::new(
                "dim",
                format!("must be at most {}, got {}", tape::MAX_OPS, self.dim),
            ));
        }
        for (name, &v) in &self.params {
            let field = format!("params.{name}");
            if !valid_name(name)
                || tape::RESERVED.contains(&name.as_str())
                || (name.starts_with('x') && name[1..].bytes().all(|c| c.is_ascii_digit()))
            {
                return Err(SpecError::new(
                    field,
                    format!("`{name}` cannot name a parameter: use letters, digits and _ (not starting with a digit), other than x0, x1, …, pi, e, d and the function names"),
                ));
            }
            check::finite(&field, v)?;
        }
        let tape = self.tape()?;
        for (k, m) in self.minima.iter().enumerate() {
            let field = format!("minima[{k}]");
            if m.len() != self.dim {
                return Err(SpecError::new(
                    field,
                    format!(
                        "has {} coordinates, the landscape has {}",
                        m.len(),
                        self.dim
                    ),
                ));
            }
            m.iter().try_for_each(|&v| check::finite(&field, v))?;
            if let Some(why) = tape.diagnose(m) {
                return Err(SpecError::new(
                    field,
                    format!("f is not finite there: {why}"),
                ));
            }
        }
        if let Some(v) = self.minimum_value {
            check::finite("minimum_value", v)?;
            let e = Expression::new(tape, &self.minima, None, None);
            for m in &e.minima {
                if m.value < v - 1e-9 * v.abs().max(1.0) {
                    return Err(SpecError::new(
                        "minimum_value",
                        format!(
                            "is {v}, but f at {} is {}, lower: the global minimum cannot be above a listed minimum",
                            m.label, m.value
                        ),
                    ));
                }
            }
        }
        if let Some(view) = &self.view {
            if self.dim != 2 {
                return Err(SpecError::new(
                    "view",
                    format!(
                        "is a plot box for 2-D landscapes; this one has dim {}",
                        self.dim
                    ),
                ));
            }
            for (i, [lo, hi]) in view.iter().enumerate() {
                check::finite("view", *lo)?;
                check::finite("view", *hi)?;
                if lo >= hi {
                    return Err(SpecError::new(
                        "view",
                        format!("coordinate {i}: needs low < high, got [{lo}, {hi}]"),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn build(&self) -> Expression {
        let tape = self.tape().expect("validated before it is built");
        Expression::new(tape, &self.minima, self.minimum_value, self.view)
    }
}

impl LandscapeSpec for ExpressionSpec {
    fn memory(&self) -> Vec<Allocation> {
        // The tape is at most MAX_OPS operations; its buffers (values and
        // adjoints, f64 and dual) are per thread, counted here per run.
        let ops = self.tape().map(|t| t.ops.len() as u64).unwrap_or(0);
        let slots = ops + self.dim as u64;
        vec![
            Allocation::shared(
                "f",
                format!("{ops} operations"),
                "the compiled tape",
                ops.saturating_mul(40),
            ),
            Allocation::per_run(
                "f",
                format!("{slots} slots"),
                "values and adjoints, in f64 and dual numbers",
                f64s(slots.saturating_mul(6)),
            ),
        ]
    }

    fn validate(&self) -> Result<(), SpecError> {
        ExpressionSpec::validate(self)
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn default_init(&self) -> InitSpec {
        match self.view {
            Some([[a, b], [c, d]]) => InitSpec::Uniform {
                low: Bound::Each(vec![a, c]),
                high: Bound::Each(vec![b, d]),
            },
            None => InitSpec::Normal {
                std: 1.0,
                mean: 0.0,
            },
        }
    }

    fn build(&self, _rng: &mut RunRng) -> Box<dyn Landscape> {
        Box::new(ExpressionSpec::build(self))
    }

    fn start_check(&self) -> Option<Box<dyn Fn(&[f64]) -> Result<(), String> + '_>> {
        let tape = self.tape().ok()?;
        Some(Box::new(move |x| match tape.diagnose(x) {
            Some(why) => Err(why),
            None => Ok(()),
        }))
    }
}

/// A compiled expression as a landscape.
#[derive(Debug, Clone)]
pub struct Expression {
    pub tape: Tape,
    pub minima: Vec<KnownPoint>,
    best: Option<f64>,
    view: Option<[[f64; 2]; 2]>,
}

thread_local! {
    static REAL: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    static DUAL: RefCell<Vec<Dual>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on this thread's buffer of at least `n` values (grown once,
/// then reused: no allocation in the per-step loop).
fn with_buffer<T: Copy + Default + 'static, R>(
    key: &'static std::thread::LocalKey<RefCell<Vec<T>>>,
    n: usize,
    f: impl FnOnce(&mut [T]) -> R,
) -> R {
    key.with(|b| {
        let mut b = b.borrow_mut();
        if b.len() < n {
            b.resize(n, T::default());
        }
        f(&mut b[..n])
    })
}

impl Expression {
    /// The landscape of `tape`, with the known minima at `minima` (their
    /// values computed) and the global minimum value `best` (default the
    /// lowest of them).
    pub fn new(
        tape: Tape,
        minima: &[Vec<f64>],
        best: Option<f64>,
        view: Option<[[f64; 2]; 2]>,
    ) -> Self {
        // This thread's buffers, sized now; other threads size theirs at
        // their first evaluation, once (never per step).
        let n = 2 * tape.slots();
        with_buffer(&REAL, n, |_| ());
        with_buffer(&DUAL, n, |_| ());
        let mut e = Self {
            tape,
            minima: Vec::new(),
            best,
            view,
        };
        e.minima = minima
            .iter()
            .enumerate()
            .map(|(k, m)| KnownPoint {
                label: format!("minimum {k}"),
                x: m.clone(),
                value: e.value(m),
            })
            .collect();
        e
    }

    /// Sets the labels of the known minima (built-in test functions).
    pub fn with_labels(mut self, labels: &[&str]) -> Self {
        for (m, l) in self.minima.iter_mut().zip(labels) {
            m.label = (*l).to_string();
        }
        self
    }

    /// Sets the known minima's values (where the published value is exact
    /// and the published point is rounded).
    pub fn with_values(mut self, value: f64) -> Self {
        for m in &mut self.minima {
            m.value = value;
        }
        self.best = Some(value);
        self
    }

    fn forward<T: Scalar + Default + 'static>(
        &self,
        key: &'static std::thread::LocalKey<RefCell<Vec<T>>>,
        x: impl Fn(usize) -> T,
        grad: impl FnOnce(&[T], &[T]),
        with_gradient: bool,
    ) {
        let n = self.tape.slots();
        let d = self.tape.dim;
        with_buffer(key, 2 * n, |buf| {
            let (vals, adj) = buf.split_at_mut(n);
            for (i, v) in vals[..d].iter_mut().enumerate() {
                *v = x(i);
            }
            self.tape.forward(vals);
            if with_gradient {
                self.tape.reverse(vals, adj);
            }
            grad(vals, adj);
        })
    }
}

impl Landscape for Expression {
    fn dim(&self) -> usize {
        self.tape.dim
    }

    fn value(&self, x: &[f64]) -> f64 {
        let mut f = 0.0;
        let out = self.tape.out as usize;
        self.forward(&REAL, |i| x[i], |vals, _| f = vals[out], false);
        f
    }

    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let mut f = 0.0;
        let out = self.tape.out as usize;
        let d = self.tape.dim;
        self.forward(
            &REAL,
            |i| x[i],
            |vals, adj| {
                f = vals[out];
                grad.copy_from_slice(&adj[..d]);
            },
            true,
        );
        f
    }

    fn hessian_vector_product(&self, x: &[f64], v: &[f64], out: &mut [f64]) {
        let d = self.tape.dim;
        self.forward(
            &DUAL,
            |i| Dual::new(x[i], v[i]),
            |_, adj| {
                for (o, a) in out.iter_mut().zip(&adj[..d]) {
                    *o = a.eps;
                }
            },
            true,
        );
    }

    fn hessian(&self, x: &[f64]) -> DMatrix<f64> {
        let d = self.tape.dim;
        let mut h = DMatrix::zeros(d, d);
        let mut e = vec![0.0; d];
        let mut col = vec![0.0; d];
        for j in 0..d {
            e[j] = 1.0;
            self.hessian_vector_product(x, &e, &mut col);
            e[j] = 0.0;
            for i in 0..d {
                h[(i, j)] = col[i];
            }
        }
        (&h + h.transpose()) * 0.5
    }

    /// d Hessian-vector products with the unit vectors, seeded in place
    /// (no allocation: curvature-shaped noise calls it every step).
    fn hessian_diagonal(&self, x: &[f64], out: &mut [f64]) {
        for (j, o) in out.iter_mut().enumerate() {
            self.forward(
                &DUAL,
                |i| Dual::new(x[i], if i == j { 1.0 } else { 0.0 }),
                |_, adj| *o = adj[j].eps,
                true,
            );
        }
    }

    fn minima(&self) -> Vec<KnownPoint> {
        self.minima.clone()
    }

    fn best_known_value(&self) -> Option<f64> {
        self.best.or_else(|| {
            self.minima
                .iter()
                .map(|m| m.value)
                .min_by(|a, b| a.total_cmp(b))
        })
    }

    fn view_box(&self) -> Option<[[f64; 2]; 2]> {
        if self.tape.dim != 2 {
            return None;
        }
        self.view.or_else(|| {
            // Around the known minima, at least [-2, 2] wide.
            let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for m in &self.minima {
                for i in 0..2 {
                    lo[i] = lo[i].min(m.x[i]);
                    hi[i] = hi[i].max(m.x[i]);
                }
            }
            if self.minima.is_empty() {
                return Some([[-3.0, 3.0], [-3.0, 3.0]]);
            }
            let pad = |i: usize| ((hi[i] - lo[i]) * 0.5).max(2.0);
            Some([
                [lo[0] - pad(0), hi[0] + pad(0)],
                [lo[1] - pad(1), hi[1] + pad(1)],
            ])
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
