//! The arithmetic of a claim's `target`: numbers, names of numeric
//! runs.parquet columns (axis columns such as `optimizer.momentum`
//! included), `+ - * / ^` and parentheses, with the usual precedence
//! (`^` binds tightest and is right-associative; unary minus binds looser
//! than `^`, so `-x^2` is `-(x^2)`).

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Var(String),
    Neg(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Num(f64),
    Name(String),
    Op(char),
    Open,
    Close,
}

fn tokens(s: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            // An exponent: e or E, an optional sign, digits.
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text: String = chars[start..i].iter().collect();
            let v: f64 = text
                .parse()
                .map_err(|_| format!("`{text}` is not a number"))?;
            out.push(Token::Num(v));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            out.push(Token::Name(chars[start..i].iter().collect()));
        } else if "+-*/^".contains(c) {
            out.push(Token::Op(c));
            i += 1;
        } else if c == '(' {
            out.push(Token::Open);
            i += 1;
        } else if c == ')' {
            out.push(Token::Close);
            i += 1;
        } else {
            return Err(format!("unexpected character `{c}`"));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn op(&self) -> Option<char> {
        match self.peek() {
            Some(Token::Op(c)) => Some(*c),
            _ => None,
        }
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut e = self.product()?;
        while let Some(c @ ('+' | '-')) = self.op() {
            self.at += 1;
            let r = self.product()?;
            let op = if c == '+' { Op::Add } else { Op::Sub };
            e = Expr::Bin(op, Box::new(e), Box::new(r));
        }
        Ok(e)
    }

    fn product(&mut self) -> Result<Expr, String> {
        let mut e = self.unary()?;
        while let Some(c @ ('*' | '/')) = self.op() {
            self.at += 1;
            let r = self.unary()?;
            let op = if c == '*' { Op::Mul } else { Op::Div };
            e = Expr::Bin(op, Box::new(e), Box::new(r));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.op() == Some('-') {
            self.at += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr, String> {
        let base = self.atom()?;
        if self.op() == Some('^') {
            self.at += 1;
            let exp = self.unary()?;
            return Ok(Expr::Bin(Op::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Num(v)) => Ok(Expr::Num(v)),
            Some(Token::Name(n)) => Ok(Expr::Var(n)),
            Some(Token::Open) => {
                let e = self.sum()?;
                match self.next() {
                    Some(Token::Close) => Ok(e),
                    _ => Err("a `(` is not closed".into()),
                }
            }
            Some(Token::Close) => Err("unexpected `)`".into()),
            Some(Token::Op(c)) => Err(format!("unexpected `{c}`")),
            None => Err("the expression ends too early".into()),
        }
    }
}

impl Expr {
    /// Parses `s`; the error says what is wrong.
    pub fn parse(s: &str) -> Result<Expr, String> {
        let toks = tokens(s)?;
        if toks.is_empty() {
            return Err("empty expression".into());
        }
        let mut p = Parser { toks, at: 0 };
        let e = p.sum()?;
        if p.at < p.toks.len() {
            return Err(match &p.toks[p.at] {
                Token::Close => "unexpected `)`".into(),
                _ => "an operator is missing between two terms".into(),
            });
        }
        Ok(e)
    }

    /// The names the expression uses, each once, in order of appearance.
    pub fn names(&self) -> Vec<String> {
        fn walk(e: &Expr, out: &mut Vec<String>) {
            match e {
                Expr::Num(_) => {}
                Expr::Var(n) => {
                    if !out.contains(n) {
                        out.push(n.clone());
                    }
                }
                Expr::Neg(a) => walk(a, out),
                Expr::Bin(_, a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    /// The value with each name looked up in `value` (`None`: null, and the
    /// whole value is `None`).
    pub fn eval(&self, value: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
        Some(match self {
            Expr::Num(v) => *v,
            Expr::Var(n) => value(n)?,
            Expr::Neg(a) => -a.eval(value)?,
            Expr::Bin(op, a, b) => {
                let (x, y) = (a.eval(value)?, b.eval(value)?);
                match op {
                    Op::Add => x + y,
                    Op::Sub => x - y,
                    Op::Mul => x * y,
                    Op::Div => x / y,
                    Op::Pow => x.powf(y),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(s: &str, vars: &[(&str, f64)]) -> f64 {
        let e = Expr::parse(s).unwrap();
        e.eval(&|n| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| *v))
            .unwrap()
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(eval("1 + 2 * 3", &[]), 7.0);
        assert_eq!(eval("(1 + 2) * 3", &[]), 9.0);
        assert_eq!(eval("2 ^ 3 ^ 2", &[]), 512.0);
        assert_eq!(eval("-2 ^ 2", &[]), -4.0);
        assert_eq!(eval("8 / 4 / 2", &[]), 1.0);
        assert_eq!(eval("10 - 4 - 3", &[]), 3.0);
        assert_eq!(eval("2 * -3", &[]), -6.0);
        assert_eq!(eval("1.5e2 + 2E-1", &[]), 150.2);
    }

    #[test]
    fn c9_formula_by_hand() {
        // lr = 0.1, sigma = 1, beta = 0.5, lambda = 2:
        // 0.1·1·1.5 / (2·0.5·(2·1.5 − 0.2)) = 0.15 / 2.8.
        let f = "lr * sigma^2 * (1 + beta) / (2 * (1 - beta) * (2 * (1 + beta) - lr * lambda))";
        let v = eval(
            f,
            &[("lr", 0.1), ("sigma", 1.0), ("beta", 0.5), ("lambda", 2.0)],
        );
        assert!((v - 0.15 / 2.8).abs() < 1e-15);
        assert_eq!(
            Expr::parse(f).unwrap().names(),
            vec!["lr", "sigma", "beta", "lambda"]
        );
        assert_eq!(
            eval("2 / optimizer.momentum", &[("optimizer.momentum", 0.5)]),
            4.0
        );
    }

    #[test]
    fn malformed_expressions_are_refused() {
        for bad in ["", "1 +", "(1 + 2", "1 + 2)", "2 3", "1 $ 2", "* 2", "1..2"] {
            assert!(Expr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_null_name_makes_the_value_null() {
        let e = Expr::parse("x + 1").unwrap();
        assert_eq!(e.eval(&|_| None), None);
    }
}
