//! The expression language: a lexer and a recursive-descent parser from a
//! string to a syntax tree whose every node knows its column.
//!
//! Grammar (lowest precedence first; `^` and `**` are the same operator):
//!
//! ```text
//! expr    := term (("+" | "-") term)*
//! term    := unary (("*" | "/") unary)*
//! unary   := "-" unary | "+" unary | power
//! power   := atom (("^" | "**") unary)?        right-associative: 2^3^2 = 2^9
//! atom    := number | name | name "(" expr ("," expr)* ")"
//!          | "x" "[" expr "]" | "(" expr ")"
//! ```
//!
//! So `-x0^2` is `-(x0^2)`, as in mathematics and Python. Names are resolved
//! later ([`super::tape`]): the coordinates `x0 … x(d−1)`, `x[i]`, the
//! constants `pi`, `e` and `d` (the dimension), the table's `params`, and the
//! index of an enclosing `sum`/`prod`.

use std::fmt;

/// Where a node sits in the source: 1-based columns, counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// An error inside the expression, with its column.
#[derive(Debug, Clone, PartialEq)]
pub struct ExprError {
    pub column: usize,
    pub message: String,
}

impl ExprError {
    pub fn at(span: Span, message: impl Into<String>) -> Self {
        Self {
            column: span.start,
            message: message.into(),
        }
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Num(f64),
    /// A bare name: a coordinate `x3`, a constant, a parameter or an index.
    Name(String),
    /// `x[expr]`.
    Index(Box<Expr>),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// A function call `name(args…)`, including `sum` and `prod`.
    Call(String, Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub node: Node,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Name(String),
    Op(char),
    Pow,
    Open(char),
    Close(char),
    Comma,
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Num(v) => format!("the number {v}"),
            Tok::Name(n) => format!("`{n}`"),
            Tok::Op(c) | Tok::Open(c) | Tok::Close(c) => format!("`{c}`"),
            Tok::Pow => "`^`".into(),
            Tok::Comma => "`,`".into(),
            Tok::End => "the end of the expression".into(),
        }
    }
}

fn lex(src: &str) -> Result<Vec<(Tok, Span)>, ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            if j < chars.len() && (chars[j] == 'e' || chars[j] == 'E') {
                let mut k = j + 1;
                if k < chars.len() && (chars[k] == '+' || chars[k] == '-') {
                    k += 1;
                }
                if k < chars.len() && chars[k].is_ascii_digit() {
                    while k < chars.len() && chars[k].is_ascii_digit() {
                        k += 1;
                    }
                    j = k;
                }
            }
            let text: String = chars[i..j].iter().collect();
            let span = Span { start, end: j };
            let v: f64 = text
                .parse()
                .map_err(|_| ExprError::at(span, format!("`{text}` is not a number")))?;
            i = j;
            out.push((Tok::Num(v), span));
            continue;
        } else if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let text: String = chars[i..j].iter().collect();
            out.push((Tok::Name(text), Span { start, end: j }));
            i = j;
            continue;
        } else if c == '*' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            out.push((Tok::Pow, Span { start, end: i }));
            continue;
        } else {
            match c {
                '+' | '-' | '*' | '/' => Tok::Op(c),
                '^' => Tok::Pow,
                '(' | '[' => Tok::Open(c),
                ')' | ']' => Tok::Close(c),
                ',' => Tok::Comma,
                _ => {
                    return Err(ExprError {
                        column: start,
                        message: format!("unexpected character `{c}`"),
                    })
                }
            }
        };
        out.push((tok, Span { start, end: start }));
        i += 1;
    }
    let end = chars.len() + 1;
    out.push((Tok::End, Span { start: end, end }));
    Ok(out)
}

/// Nesting deeper than this is refused (it would overflow the parser's
/// stack long before it meant anything).
pub const MAX_DEPTH: usize = 200;

struct Parser {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    depth: usize,
}

/// Parses `src` into a syntax tree.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
        depth: 0,
    };
    if p.peek() == &Tok::End {
        return Err(ExprError {
            column: 1,
            message: "the expression is empty".into(),
        });
    }
    let e = p.expr()?;
    match p.next() {
        (Tok::End, _) => Ok(e),
        (Tok::Close(c), span) => Err(ExprError::at(
            span,
            format!("unbalanced `{c}`: nothing opened it"),
        )),
        (t, span) => Err(ExprError::at(
            span,
            format!("expected an operator, found {}", t.describe()),
        )),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn span(&self) -> Span {
        self.toks[self.pos].1
    }

    fn next(&mut self) -> (Tok, Span) {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn deeper(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::at(
                self.span(),
                format!("nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, ExprError> {
        self.deeper()?;
        let mut lhs = self.term()?;
        while let Tok::Op(c @ ('+' | '-')) = *self.peek() {
            self.next();
            let rhs = self.term()?;
            let op = if c == '+' { BinOp::Add } else { BinOp::Sub };
            lhs = bin(op, lhs, rhs);
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn term(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.unary()?;
        while let Tok::Op(c @ ('*' | '/')) = *self.peek() {
            self.next();
            let rhs = self.unary()?;
            let op = if c == '*' { BinOp::Mul } else { BinOp::Div };
            lhs = bin(op, lhs, rhs);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        match *self.peek() {
            Tok::Op(c @ ('-' | '+')) => {
                let (_, span) = self.next();
                self.deeper()?;
                let inner = self.unary()?;
                self.depth -= 1;
                let span = Span {
                    start: span.start,
                    end: inner.span.end,
                };
                Ok(if c == '-' {
                    Expr {
                        node: Node::Neg(Box::new(inner)),
                        span,
                    }
                } else {
                    Expr { span, ..inner }
                })
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Result<Expr, ExprError> {
        let base = self.atom()?;
        if *self.peek() == Tok::Pow {
            self.next();
            self.deeper()?;
            let exp = self.unary()?;
            self.depth -= 1;
            return Ok(bin(BinOp::Pow, base, exp));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Expr, ExprError> {
        let (tok, span) = self.next();
        match tok {
            Tok::Num(v) => Ok(Expr {
                node: Node::Num(v),
                span,
            }),
            Tok::Open('(') => {
                let inner = self.expr()?;
                self.close('(', ')', span)?;
                Ok(inner)
            }
            Tok::Name(name) => match self.peek() {
                Tok::Open('(') => {
                    self.next();
                    let mut args = vec![self.expr()?];
                    while *self.peek() == Tok::Comma {
                        self.next();
                        args.push(self.expr()?);
                    }
                    let end = self.close('(', ')', span)?;
                    Ok(Expr {
                        node: Node::Call(name, args),
                        span: Span {
                            start: span.start,
                            end,
                        },
                    })
                }
                Tok::Open('[') if name == "x" => {
                    self.next();
                    let index = self.expr()?;
                    let end = self.close('[', ']', span)?;
                    Ok(Expr {
                        node: Node::Index(Box::new(index)),
                        span: Span {
                            start: span.start,
                            end,
                        },
                    })
                }
                _ => Ok(Expr {
                    node: Node::Name(name),
                    span,
                }),
            },
            Tok::Close(c) => Err(ExprError::at(
                span,
                format!("unbalanced `{c}`: nothing opened it"),
            )),
            Tok::End => Err(ExprError::at(
                span,
                "the expression ends where a value was expected",
            )),
            t => Err(ExprError::at(
                span,
                format!("expected a value, found {}", t.describe()),
            )),
        }
    }

    /// Consumes the `close` of an `open` at `opened`; returns its column.
    fn close(&mut self, open: char, close: char, opened: Span) -> Result<usize, ExprError> {
        match self.next() {
            (Tok::Close(c), span) if c == close => Ok(span.end),
            (Tok::End, _) => Err(ExprError::at(
                opened,
                format!("unbalanced `{open}`: it is never closed"),
            )),
            (t, span) => Err(ExprError::at(
                span,
                format!(
                    "expected `{close}` (for the `{open}` at column {}), found {}",
                    opened.start,
                    t.describe()
                ),
            )),
        }
    }
}

fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    let span = Span {
        start: a.span.start,
        end: b.span.end,
    };
    Expr {
        node: Node::Bin(op, Box::new(a), Box::new(b)),
        span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(e: &Expr) -> String {
        match &e.node {
            Node::Num(v) => format!("{v}"),
            Node::Name(n) => n.clone(),
            Node::Index(i) => format!("x[{}]", show(i)),
            Node::Neg(a) => format!("(-{})", show(a)),
            Node::Bin(op, a, b) => {
                let o = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::Div => "/",
                    BinOp::Pow => "^",
                };
                format!("({} {o} {})", show(a), show(b))
            }
            Node::Call(f, args) => format!(
                "{f}({})",
                args.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    #[test]
    fn precedence_and_associativity_follow_mathematics() {
        for (src, want) in [
            ("1 + 2 * 3", "(1 + (2 * 3))"),
            ("1 - 2 - 3", "((1 - 2) - 3)"),
            ("8 / 4 / 2", "((8 / 4) / 2)"),
            ("-x0^2", "(-(x0 ^ 2))"),
            ("2^3^2", "(2 ^ (3 ^ 2))"),
            ("2**-1", "(2 ^ (-1))"),
            ("x[i+1]*.5e1", "(x[(i + 1)] * 5)"),
            ("max(x0, 1e-3, sin(x1))", "max(x0, 0.001, sin(x1))"),
            ("sum(i, 0, d, x[i]^2)", "sum(i, 0, d, (x[i] ^ 2))"),
        ] {
            assert_eq!(show(&parse(src).unwrap()), want, "{src}");
        }
    }

    #[test]
    fn errors_point_at_their_column() {
        for (src, column, words) in [
            ("x0 + (x1", 6, "never closed"),
            ("x0 + x1)", 8, "nothing opened"),
            ("x0 + * x1", 6, "expected a value"),
            ("x0 x1", 4, "expected an operator"),
            ("x0 $ 1", 4, "unexpected character"),
            ("", 1, "empty"),
            ("sin(x0", 1, "never closed"),
            ("x[0)", 4, "expected `]`"),
            ("1.2.3", 1, "not a number"),
            ("x0 +", 5, "ends where a value"),
        ] {
            let e = parse(src).unwrap_err();
            assert_eq!(e.column, column, "{src}: {e}");
            assert!(e.message.contains(words), "{src}: {e}");
        }
        let deep = "(".repeat(10_000) + "x0" + &")".repeat(10_000);
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
        let minus = "-".repeat(10_000) + "x0";
        assert!(parse(&minus).unwrap_err().message.contains("nested"));
    }
}
