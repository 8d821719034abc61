//! Forward-mode dual numbers a + b·ε (ε² = 0) for exact directional
//! derivatives: evaluating f(x + ε·v) gives f(x) + ε·(∇f·v). Run over an
//! analytic gradient, the ε parts are the Hessian-vector product H·v
//! ("forward over reverse", Griewank & Walther, *Evaluating Derivatives*,
//! 2nd ed., SIAM 2008, §5.3), exact to rounding, at the cost of about two
//! gradient evaluations and without allocation.
//!
//! [`Real`] is the small float-like trait that gradient code is written
//! against, so that one source serves `f64` (value and gradient) and [`Dual`]
//! (Hessian-vector products). Constants enter through `Mul<f64>` and
//! [`Real::cst`]; for `f64` every operation is the plain IEEE one, so generic
//! code evaluates bit for bit as its `f64`-only original.

use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub, SubAssign};

/// The arithmetic a generic gradient needs.
pub trait Real:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Mul<f64, Output = Self>
    + AddAssign
    + SubAssign
{
    /// A constant (zero ε part).
    fn cst(v: f64) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn sin_cos(self) -> (Self, Self);
    fn sqrt(self) -> Self;
}

impl Real for f64 {
    fn cst(v: f64) -> Self {
        v
    }
    fn sin(self) -> Self {
        f64::sin(self)
    }
    fn cos(self) -> Self {
        f64::cos(self)
    }
    fn sin_cos(self) -> (Self, Self) {
        f64::sin_cos(self)
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
}

/// `re + eps·ε` with ε² = 0.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Dual {
    pub re: f64,
    pub eps: f64,
}

impl Dual {
    pub const fn new(re: f64, eps: f64) -> Self {
        Self { re, eps }
    }
}

impl Add for Dual {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Self::new(self.re + o.re, self.eps + o.eps)
    }
}

impl Sub for Dual {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        Self::new(self.re - o.re, self.eps - o.eps)
    }
}

impl Mul for Dual {
    type Output = Self;
    fn mul(self, o: Self) -> Self {
        Self::new(self.re * o.re, self.re * o.eps + self.eps * o.re)
    }
}

impl Div for Dual {
    type Output = Self;
    /// (a + a'ε)/(b + b'ε) = a/b + (a' − (a/b)·b')/b·ε.
    fn div(self, o: Self) -> Self {
        let q = self.re / o.re;
        Self::new(q, (self.eps - q * o.eps) / o.re)
    }
}

impl Neg for Dual {
    type Output = Self;
    fn neg(self) -> Self {
        Self::new(-self.re, -self.eps)
    }
}

impl Mul<f64> for Dual {
    type Output = Self;
    fn mul(self, c: f64) -> Self {
        Self::new(self.re * c, self.eps * c)
    }
}

impl AddAssign for Dual {
    fn add_assign(&mut self, o: Self) {
        *self = *self + o;
    }
}

impl SubAssign for Dual {
    fn sub_assign(&mut self, o: Self) {
        *self = *self - o;
    }
}

impl Real for Dual {
    fn cst(v: f64) -> Self {
        Self::new(v, 0.0)
    }
    fn sin(self) -> Self {
        let (s, c) = self.re.sin_cos();
        Self::new(s, c * self.eps)
    }
    fn cos(self) -> Self {
        let (s, c) = self.re.sin_cos();
        Self::new(c, -s * self.eps)
    }
    fn sin_cos(self) -> (Self, Self) {
        let (s, c) = self.re.sin_cos();
        (Self::new(s, c * self.eps), Self::new(c, -s * self.eps))
    }
    /// √(a + a'ε) = √a + a'/(2√a)·ε.
    fn sqrt(self) -> Self {
        let r = self.re.sqrt();
        Self::new(r, self.eps / (2.0 * r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// f(x) = sin(x)·√x / (1 + x²) − cos(x)·3, written once for any Real.
    fn f<T: Real>(x: T) -> T {
        let (s, c) = x.sin_cos();
        s * x.sqrt() / (T::cst(1.0) + x * x) - c * 3.0 + (-x).cos()
    }

    #[test]
    fn derivatives_match_the_hand_derivative() {
        // f'(x) = [cos x·√x + sin x/(2√x)]/(1+x²) − sin x·√x·2x/(1+x²)² + 3 sin x − sin x
        // (the (−x).cos() term contributes −sin x).
        for x in [0.3, 1.0, 2.7, 10.0] {
            let hand = (x.cos() * x.sqrt() + x.sin() / (2.0 * x.sqrt())) / (1.0 + x * x)
                - x.sin() * x.sqrt() * 2.0 * x / (1.0 + x * x).powi(2)
                + 3.0 * x.sin()
                - x.sin();
            let d = f(Dual::new(x, 1.0));
            assert_relative_eq!(d.re, f(x), max_relative = 1e-15);
            assert_relative_eq!(d.eps, hand, max_relative = 1e-13);
        }
    }
}
