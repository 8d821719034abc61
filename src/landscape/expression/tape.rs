//! The compiled form of an expression: a tape of operations, each writing one
//! slot, evaluated forward for the value and backward for the gradient
//! (reverse-mode automatic differentiation), and both over dual numbers for
//! exact Hessian-vector products ("forward over reverse", Griewank & Walther,
//! *Evaluating Derivatives*, 2nd ed., §5.3). No finite differences anywhere.
//!
//! Compilation resolves every name, unrolls `sum` and `prod` over their
//! (constant) ranges, folds constants and shares repeated subexpressions, so
//! the per-step loop runs a flat list of arithmetic on a reused buffer and
//! never allocates.
//!
//! Slots `0 … d−1` hold the coordinates; operation k writes slot `d + k`.

use super::parse::{BinOp, Expr, ExprError, Node, Span};
use crate::landscape::dual::{Dual, Real};
use std::collections::{BTreeMap, HashMap};
use std::f64::consts::{E, PI};

/// A tape longer than this is refused (a sum over too many terms): its
/// buffers would take more than ~50 MB per thread.
pub const MAX_OPS: usize = 1_000_000;
/// `sum`/`prod` iterations (including those folded to constants) beyond
/// which compilation is refused before it starts them.
pub const MAX_ITERATIONS: u64 = 10_000_000;
/// The functions of one argument.
pub const FUNCTIONS: [&str; 8] = ["sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh"];
/// Names that a parameter or an index may not take.
pub const RESERVED: [&str; 16] = [
    "sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "min", "max", "sum", "prod", "pi",
    "e", "d", "x",
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Const(f64),
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    /// a + c (and a − c as a + (−c), which IEEE rounds identically).
    AddC(u32, f64),
    MulC(u32, f64),
    DivC(u32, f64),
    /// c − a.
    RSubC(f64, u32),
    /// c / a.
    RDivC(f64, u32),
    Neg(u32),
    /// a², the commonest power (powi with a run-time exponent is a loop).
    Square(u32),
    PowI(u32, i32),
    PowC(u32, f64),
    /// c ^ a.
    RPowC(f64, u32),
    Pow(u32, u32),
    Sin(u32),
    Cos(u32),
    Tan(u32),
    Exp(u32),
    Log(u32),
    Sqrt(u32),
    Abs(u32),
    Tanh(u32),
    Min(u32, u32),
    Max(u32, u32),
}

impl Op {
    fn name(&self) -> &'static str {
        match self {
            Op::Const(_) => "a constant",
            Op::Add(..) | Op::AddC(..) => "+",
            Op::Sub(..) | Op::RSubC(..) => "-",
            Op::Mul(..) | Op::MulC(..) => "*",
            Op::Div(..) | Op::DivC(..) | Op::RDivC(..) => "/",
            Op::Neg(_) => "unary -",
            Op::Square(_) | Op::PowI(..) | Op::PowC(..) | Op::RPowC(..) | Op::Pow(..) => "^",
            Op::Sin(_) => "sin",
            Op::Cos(_) => "cos",
            Op::Tan(_) => "tan",
            Op::Exp(_) => "exp",
            Op::Log(_) => "log",
            Op::Sqrt(_) => "sqrt",
            Op::Abs(_) => "abs",
            Op::Tanh(_) => "tanh",
            Op::Min(..) => "min",
            Op::Max(..) => "max",
        }
    }

    fn inputs(&self) -> [Option<u32>; 2] {
        match *self {
            Op::Const(_) => [None, None],
            Op::Add(a, b)
            | Op::Sub(a, b)
            | Op::Mul(a, b)
            | Op::Div(a, b)
            | Op::Pow(a, b)
            | Op::Min(a, b)
            | Op::Max(a, b) => [Some(a), Some(b)],
            Op::AddC(a, _)
            | Op::MulC(a, _)
            | Op::DivC(a, _)
            | Op::RSubC(_, a)
            | Op::RDivC(_, a)
            | Op::Neg(a)
            | Op::Square(a)
            | Op::PowI(a, _)
            | Op::PowC(a, _)
            | Op::RPowC(_, a)
            | Op::Sin(a)
            | Op::Cos(a)
            | Op::Tan(a)
            | Op::Exp(a)
            | Op::Log(a)
            | Op::Sqrt(a)
            | Op::Abs(a)
            | Op::Tanh(a) => [Some(a), None],
        }
    }
}

/// The arithmetic the tape runs on: `f64` for values and gradients, [`Dual`]
/// for Hessian-vector products.
pub trait Scalar: Real {
    fn re(self) -> f64;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn tan(self) -> Self;
    fn tanh(self) -> Self;
    fn abs(self) -> Self;
    fn powi(self, n: i32) -> Self;
    fn powf(self, c: f64) -> Self;
    /// self ^ b with both varying.
    fn pow(self, b: Self) -> Self;
    fn is_zero(self) -> bool;
}

/// The derivative of |a|: its sign, 0 at 0 (the subgradient of least norm).
fn sign(a: f64) -> f64 {
    if a > 0.0 {
        1.0
    } else if a < 0.0 {
        -1.0
    } else {
        0.0
    }
}

impl Scalar for f64 {
    fn re(self) -> f64 {
        self
    }
    fn exp(self) -> Self {
        f64::exp(self)
    }
    fn ln(self) -> Self {
        f64::ln(self)
    }
    fn tan(self) -> Self {
        f64::tan(self)
    }
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
    fn abs(self) -> Self {
        f64::abs(self)
    }
    fn powi(self, n: i32) -> Self {
        f64::powi(self, n)
    }
    fn powf(self, c: f64) -> Self {
        f64::powf(self, c)
    }
    fn pow(self, b: Self) -> Self {
        f64::powf(self, b)
    }
    fn is_zero(self) -> bool {
        self == 0.0
    }
}

impl Scalar for Dual {
    fn re(self) -> f64 {
        self.re
    }
    fn exp(self) -> Self {
        let e = self.re.exp();
        Dual::new(e, e * self.eps)
    }
    fn ln(self) -> Self {
        Dual::new(self.re.ln(), self.eps / self.re)
    }
    fn tan(self) -> Self {
        let t = self.re.tan();
        Dual::new(t, (1.0 + t * t) * self.eps)
    }
    fn tanh(self) -> Self {
        let t = self.re.tanh();
        Dual::new(t, (1.0 - t * t) * self.eps)
    }
    fn abs(self) -> Self {
        Dual::new(self.re.abs(), sign(self.re) * self.eps)
    }
    fn powi(self, n: i32) -> Self {
        let d = if n == 0 {
            0.0
        } else {
            n as f64 * self.re.powi(n - 1)
        };
        Dual::new(self.re.powi(n), d * self.eps)
    }
    fn powf(self, c: f64) -> Self {
        Dual::new(self.re.powf(c), c * self.re.powf(c - 1.0) * self.eps)
    }
    fn pow(self, b: Self) -> Self {
        let y = self.re.powf(b.re);
        let mut eps = if self.eps == 0.0 {
            0.0
        } else {
            b.re * self.re.powf(b.re - 1.0) * self.eps
        };
        if b.eps != 0.0 {
            eps += y * self.re.ln() * b.eps;
        }
        Dual::new(y, eps)
    }
    fn is_zero(self) -> bool {
        self.re == 0.0 && self.eps == 0.0
    }
}

/// A compiled expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Tape {
    pub dim: usize,
    pub ops: Vec<Op>,
    /// The source columns of each operation (for messages).
    pub spans: Vec<Span>,
    /// The slot of the result.
    pub out: u32,
}

/// A reference during compilation: a slot, or a constant not yet placed.
#[derive(Debug, Clone, Copy)]
enum Ref {
    Slot(u32),
    Const(f64),
}

struct Builder<'a> {
    dim: usize,
    params: &'a BTreeMap<String, f64>,
    ops: Vec<Op>,
    spans: Vec<Span>,
    /// Shared subexpressions: (kind, inputs, constant bits) → slot.
    memo: HashMap<(std::mem::Discriminant<Op>, u32, u32, u64), u32>,
    bound: Vec<(String, f64)>,
    iterations: u64,
}

/// Compiles `expr` over `dim` coordinates with the named `params`.
pub fn compile(expr: &Expr, dim: usize, params: &BTreeMap<String, f64>) -> Result<Tape, ExprError> {
    let mut b = Builder {
        dim,
        params,
        ops: Vec::new(),
        spans: Vec::new(),
        memo: HashMap::new(),
        bound: Vec::new(),
        iterations: 0,
    };
    let out = match b.compile(expr)? {
        Ref::Slot(s) => s,
        Ref::Const(c) => b.push(Op::Const(c), expr.span)?,
    };
    Ok(Tape {
        dim,
        ops: b.ops,
        spans: b.spans,
        out,
    })
}

fn constant(span: Span, what: &str, v: f64) -> Result<Ref, ExprError> {
    if v.is_finite() {
        Ok(Ref::Const(v))
    } else {
        Err(ExprError::at(
            span,
            format!("{what} of constants is {v}, not a finite number"),
        ))
    }
}

impl Builder<'_> {
    fn push(&mut self, op: Op, span: Span) -> Result<u32, ExprError> {
        let [a, b] = op.inputs();
        let c = match op {
            Op::Const(c)
            | Op::AddC(_, c)
            | Op::MulC(_, c)
            | Op::DivC(_, c)
            | Op::RSubC(c, _)
            | Op::RDivC(c, _)
            | Op::PowC(_, c)
            | Op::RPowC(c, _) => c.to_bits(),
            Op::PowI(_, n) => n as u64,
            _ => 0,
        };
        let key = (
            std::mem::discriminant(&op),
            a.unwrap_or(u32::MAX),
            b.unwrap_or(u32::MAX),
            c,
        );
        if let Some(&slot) = self.memo.get(&key) {
            return Ok(slot);
        }
        if self.ops.len() >= MAX_OPS {
            return Err(ExprError::at(
                span,
                format!(
                    "the expression unrolls to more than {MAX_OPS} operations; use fewer coordinates or shorter sums"
                ),
            ));
        }
        let slot = (self.dim + self.ops.len()) as u32;
        self.ops.push(op);
        self.spans.push(span);
        self.memo.insert(key, slot);
        Ok(slot)
    }

    fn compile(&mut self, e: &Expr) -> Result<Ref, ExprError> {
        match &e.node {
            Node::Num(v) => Ok(Ref::Const(*v)),
            Node::Name(n) => self.name(n, e.span),
            Node::Index(i) => {
                let k = self.integer(i, "the index of x[…]")?;
                if k < 0 || k as usize >= self.dim {
                    return Err(ExprError::at(
                        e.span,
                        format!(
                            "x[{k}]{} is out of range: the landscape has dim {}, so x[0] … x[{}]",
                            self.where_bound(),
                            self.dim,
                            self.dim - 1
                        ),
                    ));
                }
                Ok(Ref::Slot(k as u32))
            }
            Node::Neg(a) => match self.compile(a)? {
                Ref::Const(c) => Ok(Ref::Const(-c)),
                Ref::Slot(s) => self.push(Op::Neg(s), e.span).map(Ref::Slot),
            },
            Node::Bin(op, a, b) => {
                let (a, b) = (self.compile(a)?, self.compile(b)?);
                self.binary(*op, a, b, e.span)
            }
            Node::Call(f, args) => self.call(f, args, e.span),
        }
    }

    /// ` (where i = 3, j = 0)` inside sums, else nothing.
    fn where_bound(&self) -> String {
        if self.bound.is_empty() {
            return String::new();
        }
        let b: Vec<String> = self
            .bound
            .iter()
            .map(|(n, v)| format!("{n} = {v}"))
            .collect();
        format!(" (where {})", b.join(", "))
    }

    fn name(&mut self, n: &str, span: Span) -> Result<Ref, ExprError> {
        if let Some((_, v)) = self.bound.iter().rev().find(|(b, _)| b == n) {
            return Ok(Ref::Const(*v));
        }
        match n {
            "pi" => return Ok(Ref::Const(PI)),
            "e" => return Ok(Ref::Const(E)),
            "d" => return Ok(Ref::Const(self.dim as f64)),
            _ => {}
        }
        if let Some(v) = self.params.get(n) {
            return Ok(Ref::Const(*v));
        }
        if let Some(k) = n
            .strip_prefix('x')
            .filter(|k| !k.is_empty() && k.bytes().all(|c| c.is_ascii_digit()))
        {
            return match k.parse::<usize>() {
                Ok(k) if k < self.dim => Ok(Ref::Slot(k as u32)),
                _ => Err(ExprError::at(
                    span,
                    format!(
                        "`{n}` is not a coordinate: the landscape has dim {}, so x0 … x{}",
                        self.dim,
                        self.dim - 1
                    ),
                )),
            };
        }
        if FUNCTIONS.contains(&n) || ["min", "max", "sum", "prod"].contains(&n) {
            return Err(ExprError::at(
                span,
                format!("`{n}` is a function: write {n}(…)"),
            ));
        }
        let mut names = format!("x0 … x{}, x[i], pi, e, d", self.dim.saturating_sub(1));
        for p in self.params.keys() {
            names.push_str(", ");
            names.push_str(p);
        }
        for (b, _) in &self.bound {
            names.push_str(", ");
            names.push_str(b);
        }
        Err(ExprError::at(
            span,
            format!("unknown name `{n}`; the names here are {names}"),
        ))
    }

    /// A whole number known at compile time.
    fn integer(&mut self, e: &Expr, what: &str) -> Result<i64, ExprError> {
        match self.compile(e)? {
            Ref::Const(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => Ok(v as i64),
            Ref::Const(v) => Err(ExprError::at(
                e.span,
                format!("{what} must be a whole number, got {v}"),
            )),
            Ref::Slot(_) => Err(ExprError::at(
                e.span,
                format!(
                    "{what} must be known before the run (numbers, d, parameters and indices of sum/prod), not depend on x"
                ),
            )),
        }
    }

    fn binary(&mut self, op: BinOp, a: Ref, b: Ref, span: Span) -> Result<Ref, ExprError> {
        use Ref::{Const as C, Slot as S};
        let op = match (op, a, b) {
            (BinOp::Add, C(x), C(y)) => return constant(span, "the sum", x + y),
            (BinOp::Sub, C(x), C(y)) => return constant(span, "the difference", x - y),
            (BinOp::Mul, C(x), C(y)) => return constant(span, "the product", x * y),
            (BinOp::Div, C(x), C(y)) => return constant(span, "the quotient", x / y),
            (BinOp::Pow, C(x), C(y)) => return constant(span, "the power", x.powf(y)),
            (BinOp::Add, S(x), S(y)) => Op::Add(x, y),
            (BinOp::Add, S(x), C(c)) | (BinOp::Add, C(c), S(x)) => Op::AddC(x, c),
            (BinOp::Sub, S(x), S(y)) => Op::Sub(x, y),
            (BinOp::Sub, S(x), C(c)) => Op::AddC(x, -c),
            (BinOp::Sub, C(c), S(x)) => Op::RSubC(c, x),
            (BinOp::Mul, S(x), S(y)) => Op::Mul(x, y),
            (BinOp::Mul, S(x), C(c)) | (BinOp::Mul, C(c), S(x)) => Op::MulC(x, c),
            (BinOp::Div, S(x), S(y)) => Op::Div(x, y),
            (BinOp::Div, S(x), C(c)) => Op::DivC(x, c),
            (BinOp::Div, C(c), S(x)) => Op::RDivC(c, x),
            (BinOp::Pow, S(x), C(2.0)) => Op::Square(x),
            (BinOp::Pow, S(x), C(c)) if c.fract() == 0.0 && c.abs() <= 64.0 => {
                Op::PowI(x, c as i32)
            }
            (BinOp::Pow, S(x), C(c)) => Op::PowC(x, c),
            (BinOp::Pow, C(c), S(x)) => Op::RPowC(c, x),
            (BinOp::Pow, S(x), S(y)) => Op::Pow(x, y),
        };
        self.push(op, span).map(Ref::Slot)
    }

    fn call(&mut self, f: &str, args: &[Expr], span: Span) -> Result<Ref, ExprError> {
        let arity = |n: usize| -> Result<(), ExprError> {
            if args.len() == n {
                Ok(())
            } else {
                Err(ExprError::at(
                    span,
                    format!(
                        "{f} takes {n} argument{}, got {}",
                        if n == 1 { "" } else { "s" },
                        args.len()
                    ),
                ))
            }
        };
        match f {
            "sum" | "prod" => {
                arity(4)?;
                self.reduce(f == "sum", args, span)
            }
            "min" | "max" => {
                if args.len() < 2 {
                    return Err(ExprError::at(
                        span,
                        format!("{f} takes at least 2 arguments, got 1"),
                    ));
                }
                let mut acc = self.compile(&args[0])?;
                for a in &args[1..] {
                    let b = self.compile(a)?;
                    acc = match (acc, b) {
                        (Ref::Const(x), Ref::Const(y)) => {
                            Ref::Const(if f == "min" { x.min(y) } else { x.max(y) })
                        }
                        _ => {
                            let (x, y) = (self.place(acc, span)?, self.place(b, span)?);
                            let op = if f == "min" {
                                Op::Min(x, y)
                            } else {
                                Op::Max(x, y)
                            };
                            Ref::Slot(self.push(op, span)?)
                        }
                    };
                }
                Ok(acc)
            }
            _ if FUNCTIONS.contains(&f) => {
                arity(1)?;
                match self.compile(&args[0])? {
                    Ref::Const(c) => {
                        let v = apply(f, c);
                        constant(span, &format!("{f}({c})"), v).map_err(|_| {
                            ExprError::at(span, format!("{f}({c}) is {v}, not a finite number"))
                        })
                    }
                    Ref::Slot(s) => {
                        let op = match f {
                            "sin" => Op::Sin(s),
                            "cos" => Op::Cos(s),
                            "tan" => Op::Tan(s),
                            "exp" => Op::Exp(s),
                            "log" => Op::Log(s),
                            "sqrt" => Op::Sqrt(s),
                            "abs" => Op::Abs(s),
                            _ => Op::Tanh(s),
                        };
                        self.push(op, span).map(Ref::Slot)
                    }
                }
            }
            _ => Err(ExprError::at(
                span,
                format!(
                    "unknown function `{f}`; the functions are {}, min, max, sum, prod",
                    FUNCTIONS.join(", ")
                ),
            )),
        }
    }

    fn place(&mut self, r: Ref, span: Span) -> Result<u32, ExprError> {
        match r {
            Ref::Slot(s) => Ok(s),
            Ref::Const(c) => self.push(Op::Const(c), span),
        }
    }

    /// `sum(i, lo, hi, body)` / `prod(…)`: body for i = lo, lo+1, …, hi−1
    /// (Python's `range`), unrolled.
    fn reduce(&mut self, sum: bool, args: &[Expr], span: Span) -> Result<Ref, ExprError> {
        let f = if sum { "sum" } else { "prod" };
        let var = match &args[0].node {
            Node::Name(n) => n.clone(),
            _ => {
                return Err(ExprError::at(
                    args[0].span,
                    format!("the first argument of {f} is its index, a name such as i"),
                ))
            }
        };
        if RESERVED.contains(&var.as_str())
            || self.params.contains_key(&var)
            || self.bound.iter().any(|(b, _)| *b == var)
            || (var.starts_with('x') && var[1..].bytes().all(|c| c.is_ascii_digit()))
        {
            return Err(ExprError::at(
                args[0].span,
                format!("the index `{var}` of {f} is already a name here; choose another"),
            ));
        }
        let lo = self.integer(&args[1], &format!("the lower bound of {f}"))?;
        let hi = self.integer(&args[2], &format!("the upper bound of {f}"))?;
        let n = (hi - lo).max(0) as u64;
        self.iterations = self.iterations.saturating_add(n);
        if self.iterations > MAX_ITERATIONS {
            return Err(ExprError::at(
                span,
                format!("{f} runs {n} terms; with the other sums the expression unrolls more than {MAX_ITERATIONS} of them"),
            ));
        }
        let mut acc: Option<Ref> = None;
        for i in lo..hi {
            self.bound.push((var.clone(), i as f64));
            let term = self.compile(&args[3]);
            self.bound.pop();
            let term = term?;
            acc = Some(match acc {
                None => term,
                Some(a) => self.binary(if sum { BinOp::Add } else { BinOp::Mul }, a, term, span)?,
            });
        }
        Ok(acc.unwrap_or(Ref::Const(if sum { 0.0 } else { 1.0 })))
    }
}

/// A function of one argument on a constant (for folding).
fn apply(f: &str, c: f64) -> f64 {
    match f {
        "sin" => c.sin(),
        "cos" => c.cos(),
        "tan" => c.tan(),
        "exp" => c.exp(),
        "log" => c.ln(),
        "sqrt" => c.sqrt(),
        "abs" => c.abs(),
        _ => c.tanh(),
    }
}

impl Tape {
    /// Slots a buffer needs: the coordinates and one per operation.
    pub fn slots(&self) -> usize {
        self.dim + self.ops.len()
    }

    /// Runs the tape forward; `vals` holds `slots()` values, its first `dim`
    /// already set to the point.
    pub fn forward<T: Scalar>(&self, vals: &mut [T]) {
        let d = self.dim;
        for (k, op) in self.ops.iter().enumerate() {
            let v = |i: u32| vals[i as usize];
            let y = match *op {
                Op::Const(c) => T::cst(c),
                Op::Add(a, b) => v(a) + v(b),
                Op::Sub(a, b) => v(a) - v(b),
                Op::Mul(a, b) => v(a) * v(b),
                Op::Div(a, b) => v(a) / v(b),
                Op::AddC(a, c) => v(a) + T::cst(c),
                Op::MulC(a, c) => v(a) * c,
                Op::DivC(a, c) => v(a) / T::cst(c),
                Op::RSubC(c, a) => T::cst(c) - v(a),
                Op::RDivC(c, a) => T::cst(c) / v(a),
                Op::Neg(a) => -v(a),
                Op::Square(a) => v(a) * v(a),
                Op::PowI(a, n) => v(a).powi(n),
                Op::PowC(a, c) => v(a).powf(c),
                Op::RPowC(c, a) => T::cst(c).pow(v(a)),
                Op::Pow(a, b) => v(a).pow(v(b)),
                Op::Sin(a) => v(a).sin(),
                Op::Cos(a) => v(a).cos(),
                Op::Tan(a) => Scalar::tan(v(a)),
                Op::Exp(a) => Scalar::exp(v(a)),
                Op::Log(a) => v(a).ln(),
                Op::Sqrt(a) => v(a).sqrt(),
                Op::Abs(a) => Scalar::abs(v(a)),
                Op::Tanh(a) => Scalar::tanh(v(a)),
                Op::Min(a, b) => {
                    if v(b).re() < v(a).re() {
                        v(b)
                    } else {
                        v(a)
                    }
                }
                Op::Max(a, b) => {
                    if v(b).re() > v(a).re() {
                        v(b)
                    } else {
                        v(a)
                    }
                }
            };
            vals[d + k] = y;
        }
    }

    /// Runs the tape backward after [`Tape::forward`]: `adj` (also
    /// `slots()` long) ends with ∂f/∂slot; its first `dim` entries are the
    /// gradient.
    pub fn reverse<T: Scalar>(&self, vals: &[T], adj: &mut [T]) {
        let d = self.dim;
        adj.fill(T::cst(0.0));
        adj[self.out as usize] = T::cst(1.0);
        for (k, op) in self.ops.iter().enumerate().rev() {
            let g = adj[d + k];
            if !g.is_zero() {
                back(op, g, vals[d + k], vals, adj);
            }
        }
    }

    /// At the point in `vals[..dim]`: the first operation whose value, or
    /// whose contribution to the gradient, is not finite although its inputs
    /// are; as a sentence naming the operation, its column and its inputs.
    /// `None` where value and gradient are finite.
    pub fn diagnose(&self, x: &[f64]) -> Option<String> {
        let d = self.dim;
        let mut vals = vec![0.0; self.slots()];
        vals[..d].copy_from_slice(x);
        self.forward(&mut vals);
        let inputs = |op: &Op, vals: &[f64]| -> Vec<f64> {
            op.inputs()
                .iter()
                .flatten()
                .map(|&i| vals[i as usize])
                .collect()
        };
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        for (k, op) in self.ops.iter().enumerate() {
            let ins = inputs(op, &vals);
            if !vals[d + k].is_finite() && ins.iter().all(|v| v.is_finite()) {
                return Some(format!(
                    "{} at column {} is {} at its argument{} {}",
                    op.name(),
                    self.spans[k].start,
                    vals[d + k],
                    plural(ins.len()),
                    show(&ins)
                ));
            }
        }
        let mut adj = vec![0.0f64; self.slots()];
        adj[self.out as usize] = 1.0;
        for (k, op) in self.ops.iter().enumerate().rev() {
            let g = adj[d + k];
            if g == 0.0 || !g.is_finite() {
                continue;
            }
            back(op, g, vals[d + k], &vals, &mut adj);
            if op
                .inputs()
                .iter()
                .flatten()
                .any(|&i| !adj[i as usize].is_finite())
            {
                let ins = inputs(op, &vals);
                return Some(format!(
                    "the derivative of {} at column {} is not finite at its argument{} {}",
                    op.name(),
                    self.spans[k].start,
                    plural(ins.len()),
                    show(&ins)
                ));
            }
        }
        None
    }
}

/// One operation's step of the reverse sweep: adds ∂f/∂y · ∂y/∂input to the
/// adjoint of each input of `op`, whose value is `y` and adjoint `g`.
#[inline(always)]
fn back<T: Scalar>(op: &Op, g: T, y: T, vals: &[T], adj: &mut [T]) {
    let v = |i: u32| vals[i as usize];
    match *op {
        Op::Const(_) => {}
        Op::Add(a, b) => {
            adj[a as usize] += g;
            adj[b as usize] += g;
        }
        Op::Sub(a, b) => {
            adj[a as usize] += g;
            adj[b as usize] -= g;
        }
        Op::Mul(a, b) => {
            let (va, vb) = (v(a), v(b));
            adj[a as usize] += g * vb;
            adj[b as usize] += g * va;
        }
        Op::Div(a, b) => {
            let vb = v(b);
            adj[a as usize] += g / vb;
            adj[b as usize] -= g * y / vb;
        }
        Op::AddC(a, _) => adj[a as usize] += g,
        Op::MulC(a, c) => adj[a as usize] += g * c,
        Op::DivC(a, c) => adj[a as usize] += g / T::cst(c),
        Op::RSubC(_, a) | Op::Neg(a) => adj[a as usize] -= g,
        Op::RDivC(_, a) => adj[a as usize] -= g * y / v(a),
        Op::Square(a) => adj[a as usize] += g * v(a) * 2.0,
        Op::PowI(a, n) => {
            if n != 0 {
                adj[a as usize] += g * v(a).powi(n - 1) * n as f64;
            }
        }
        Op::PowC(a, c) => adj[a as usize] += g * v(a).powf(c - 1.0) * c,
        Op::RPowC(c, a) => adj[a as usize] += g * y * c.ln(),
        Op::Pow(a, b) => {
            let (va, vb) = (v(a), v(b));
            adj[a as usize] += g * vb * va.pow(vb - T::cst(1.0));
            if va.re() > 0.0 {
                adj[b as usize] += g * y * va.ln();
            }
        }
        Op::Sin(a) => adj[a as usize] += g * v(a).cos(),
        Op::Cos(a) => adj[a as usize] -= g * v(a).sin(),
        Op::Tan(a) => adj[a as usize] += g * (T::cst(1.0) + y * y),
        Op::Exp(a) => adj[a as usize] += g * y,
        Op::Log(a) => adj[a as usize] += g / v(a),
        Op::Sqrt(a) => adj[a as usize] += g / (y * 2.0),
        Op::Abs(a) => adj[a as usize] += g * sign(v(a).re()),
        Op::Tanh(a) => adj[a as usize] += g * (T::cst(1.0) - y * y),
        Op::Min(a, b) => {
            let i = if v(b).re() < v(a).re() { b } else { a };
            adj[i as usize] += g;
        }
        Op::Max(a, b) => {
            let i = if v(b).re() > v(a).re() { b } else { a };
            adj[i as usize] += g;
        }
    }
}

fn show(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x}"))
        .collect::<Vec<_>>()
        .join(", ")
}
