//! Low precision: how the parameters are stored, where the gradient is
//! evaluated and in what type the gradient is computed (fields of an
//! `[[optimizer]]` table; see docs/precision.md).
//!
//! - `param_dtype` (`"f64"` default, `"f32"`, `"bf16"`, `"f16"`): the master
//!   parameters are stored in it after every update (and x₀ before the first),
//!   round-to-nearest-even; with `stochastic_rounding = true`, a value v
//!   between the adjacent representable values lo < v < hi is stored as hi
//!   with probability (v − lo)/(hi − lo), else lo, so E[SR(v)] = v. The
//!   uniform draws come from the run's own seeded generator (stream
//!   [`crate::rng::Stream::Rounding`], keyed like the noise by landscape and
//!   seed, so runs that differ only in schedule share them).
//! - `compute_dtype`: the oracle evaluates the loss and gradient at the master
//!   parameters rounded (nearest-even) to this type: mixed precision, an f32
//!   master with a bf16 or f16 model copy.
//! - `grad_dtype` with `loss_scale`: the gradient is multiplied by the scale,
//!   rounded to `grad_dtype` (overflow gives ±inf) and divided by the scale
//!   (exact for the power-of-two scales of GradScaler). A step whose gradient
//!   is then not finite is skipped: no optimizer step, no state change.
//!   `loss_scale` is a number (static; default 1) or a table with
//!   `torch.amp.GradScaler`'s semantics and defaults ([`DynamicScale`]).
//!
//! Rounding to bf16 and f16 is that of ml_dtypes' and torch's casts from
//! float64: round to f32 first, then to the 16-bit type
//! (`half::bf16::from_f32(v as f32)`), checked bit for bit against
//! tests/fixtures/precision/golden.json (scripts/golden_precision.py). half
//! 2.7's `from_f64` is not used: `bf16::from_f64` ignores the low 32 bits of
//! the f64 and `f16::from_f64` depends on the CPU.

use crate::error::{check, SpecError};
use half::{bf16, f16};
use serde::{Deserialize, Serialize};

/// A floating-point storage type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dtype {
    #[default]
    F64,
    F32,
    Bf16,
    F16,
}

impl<'de> Deserialize<'de> for Dtype {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(match name.as_str() {
            "f64" => Dtype::F64,
            "f32" => Dtype::F32,
            "bf16" => Dtype::Bf16,
            "f16" => Dtype::F16,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "expected one of \"f64\", \"f32\", \"bf16\", \"f16\", got {other:?}"
                )))
            }
        })
    }
}

impl Dtype {
    pub fn is_f64(&self) -> bool {
        *self == Dtype::F64
    }

    /// v rounded to this type, nearest-even (via f32 for the 16-bit types),
    /// as the f64 holding the stored value. Overflow gives ±inf.
    #[inline]
    pub fn round(self, v: f64) -> f64 {
        match self {
            Dtype::F64 => v,
            Dtype::F32 => v as f32 as f64,
            Dtype::Bf16 => bf16::from_f32(v as f32).to_f64(),
            Dtype::F16 => f16::from_f32(v as f32).to_f64(),
        }
    }

    /// The representable neighbour of the representable `r` towards +inf
    /// (`up`) or −inf.
    fn step_from(self, r: f64, up: bool) -> f64 {
        // Sign-magnitude bit patterns: moving away from zero adds one.
        fn next(bits: u64, sign: u64, up: bool) -> u64 {
            let negative = bits & sign != 0;
            let magnitude = bits & !sign;
            match (magnitude == 0, up, negative) {
                (true, true, _) => 1,
                (true, false, _) => sign | 1,
                (false, true, false) | (false, false, true) => bits + 1,
                (false, true, true) | (false, false, false) => bits - 1,
            }
        }
        match self {
            Dtype::F64 => {
                if up {
                    r.next_up()
                } else {
                    r.next_down()
                }
            }
            Dtype::F32 => {
                let x = r as f32;
                (if up { x.next_up() } else { x.next_down() }) as f64
            }
            Dtype::Bf16 => {
                let b = bf16::from_f32(r as f32).to_bits() as u64;
                bf16::from_bits(next(b, 0x8000, up) as u16).to_f64()
            }
            Dtype::F16 => {
                let b = f16::from_f32(r as f32).to_bits() as u64;
                f16::from_bits(next(b, 0x8000, up) as u16).to_f64()
            }
        }
    }

    /// The adjacent representable values lo <= v <= hi (equal when v is
    /// representable, not finite, or beyond the largest finite value).
    pub fn neighbours(self, v: f64) -> (f64, f64) {
        let r = self.round(v);
        if r == v || !r.is_finite() || !v.is_finite() {
            (r, r)
        } else if r < v {
            (r, self.step_from(r, true))
        } else {
            (self.step_from(r, false), r)
        }
    }

    /// Stochastic rounding of v with the uniform draw u in [0, 1): the upper
    /// neighbour with probability (v − lo)/(hi − lo).
    #[inline]
    pub fn round_stochastic(self, v: f64, u: f64) -> f64 {
        let (lo, hi) = self.neighbours(v);
        if lo == hi {
            return lo;
        }
        if u < (v - lo) / (hi - lo) {
            hi
        } else {
            lo
        }
    }
}

/// `torch.amp.GradScaler`'s dynamic loss scale (its defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicScale {
    #[serde(default = "DynamicScale::default_init")]
    pub init_scale: f64,
    #[serde(default = "DynamicScale::default_growth")]
    pub growth_factor: f64,
    #[serde(default = "DynamicScale::default_backoff")]
    pub backoff_factor: f64,
    #[serde(default = "DynamicScale::default_interval")]
    pub growth_interval: u64,
}

impl DynamicScale {
    fn default_init() -> f64 {
        65536.0
    }
    fn default_growth() -> f64 {
        2.0
    }
    fn default_backoff() -> f64 {
        0.5
    }
    fn default_interval() -> u64 {
        2000
    }
}

impl Default for DynamicScale {
    fn default() -> Self {
        Self {
            init_scale: Self::default_init(),
            growth_factor: Self::default_growth(),
            backoff_factor: Self::default_backoff(),
            growth_interval: Self::default_interval(),
        }
    }
}

/// `loss_scale`: a number (static) or a GradScaler table (dynamic).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LossScale {
    Static(f64),
    Dynamic(DynamicScale),
}

/// The precision fields of one optimizer table. Defaults (f64, no rounding)
/// are left out of the serialized form, so run ids without them do not change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Precision {
    #[serde(default, skip_serializing_if = "Dtype::is_f64")]
    pub param_dtype: Dtype,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stochastic_rounding: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_dtype: Option<Dtype>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grad_dtype: Option<Dtype>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_scale: Option<LossScale>,
}

impl Precision {
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.stochastic_rounding && self.param_dtype.is_f64() {
            return Err(SpecError::new(
                "stochastic_rounding",
                "needs a param_dtype below f64 (f32, bf16 or f16)",
            ));
        }
        match self.loss_scale {
            Some(_) if self.grad_dtype.is_none() => {
                return Err(SpecError::new(
                    "loss_scale",
                    "needs grad_dtype (the type the scaled gradient is rounded to)",
                ))
            }
            Some(LossScale::Static(s)) => check::positive("loss_scale", s)?,
            Some(LossScale::Dynamic(d)) => {
                check::positive("loss_scale.init_scale", d.init_scale)?;
                if !(d.growth_factor.is_finite() && d.growth_factor > 1.0) {
                    return Err(SpecError::new(
                        "loss_scale.growth_factor",
                        format!("must be > 1, got {}", d.growth_factor),
                    ));
                }
                check::in_open("loss_scale.backoff_factor", d.backoff_factor, 0.0, 1.0)?;
                check::at_least("loss_scale.growth_interval", d.growth_interval, 1)?;
            }
            None => {}
        }
        Ok(())
    }

    /// Whether the parameters are rounded after each update.
    pub fn rounds_parameters(&self) -> bool {
        !self.param_dtype.is_f64()
    }

    /// The gradient's precision transform, if any.
    pub fn scaler(&self) -> Option<GradScaler> {
        self.grad_dtype
            .map(|dtype| GradScaler::new(dtype, self.loss_scale))
    }
}

/// The gradient in low precision with a loss scale, and the scale's
/// evolution (torch.amp.GradScaler's `update`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradScaler {
    dtype: Dtype,
    scale: f64,
    dynamic: Option<DynamicScale>,
    /// Consecutive steps with a finite gradient since the last change.
    growth_tracker: u64,
}

impl GradScaler {
    pub fn new(dtype: Dtype, loss_scale: Option<LossScale>) -> Self {
        let (scale, dynamic) = match loss_scale {
            None => (1.0, None),
            Some(LossScale::Static(s)) => (s, None),
            // torch keeps the scale in a float32 tensor.
            Some(LossScale::Dynamic(d)) => (d.init_scale as f32 as f64, Some(d)),
        };
        Self {
            dtype,
            scale,
            dynamic,
            growth_tracker: 0,
        }
    }

    /// The scale in force for the next step.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// g ← round(g·scale)/scale in place; returns whether every coordinate
    /// is finite (else the step is to be skipped).
    pub fn apply(&self, g: &mut [f64]) -> bool {
        let mut finite = true;
        for v in g.iter_mut() {
            *v = self.dtype.round(*v * self.scale) / self.scale;
            finite &= v.is_finite();
        }
        finite
    }

    /// After a step: a non-finite gradient multiplies the scale by
    /// `backoff_factor` and resets the tracker; `growth_interval` finite
    /// steps in a row multiply it by `growth_factor`. The product is stored
    /// in f32, as torch's `_amp_update_scale_`. A static scale never changes.
    pub fn update(&mut self, finite: bool) {
        let Some(d) = self.dynamic else { return };
        if !finite {
            self.scale = (self.scale * d.backoff_factor) as f32 as f64;
            self.growth_tracker = 0;
        } else {
            self.growth_tracker += 1;
            if self.growth_tracker == d.growth_interval {
                self.scale = (self.scale * d.growth_factor) as f32 as f64;
                self.growth_tracker = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    use crate::optimizer::precision::golden::{golden, num};

    fn dtype(s: &str) -> Dtype {
        serde_json::from_value(Value::String(s.into())).unwrap()
    }

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    /// The fixture's edge cases (ties, subnormals, overflow thresholds) are
    /// what ml_dtypes and torch store, bit for bit.
    #[test]
    fn rounding_matches_ml_dtypes_and_torch() {
        let g = golden();
        let cases = g["rounding"]["edge_cases"].as_array().unwrap();
        for c in cases {
            let (dt, v) = (dtype(c["dtype"].as_str().unwrap()), num(&c["value"]));
            let want = num(&c["via_f32"]);
            assert!(same(dt.round(v), want), "{c}: got {}", dt.round(v));
        }
        assert_eq!(cases.len(), 27);
    }

    /// The neighbours of the fixture's values are its `lower` and `upper`,
    /// and the frequency of rounding up is the exact probability: with N =
    /// 20000 draws, |k/N − p| <= 5·sqrt(p(1−p)/N) (the fixture's hint).
    #[test]
    fn stochastic_rounding_in_distribution() {
        use rand::Rng;
        let g = golden();
        let mut rng = crate::rng::rng_for(0, "sr", crate::rng::Stream::Rounding);
        let n = 20_000;
        for c in g["stochastic_rounding"]["cases"].as_array().unwrap() {
            let v = num(&c["value"]);
            let (lo, hi) = Dtype::Bf16.neighbours(v);
            assert_eq!((lo, hi), (num(&c["lower"]), num(&c["upper"])), "{c}");
            let p = num(&c["p_upper_exact"]);
            let k = (0..n)
                .filter(|_| {
                    let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
                    let r = Dtype::Bf16.round_stochastic(v, u);
                    assert!(r == lo || r == hi);
                    r == hi && hi != lo
                })
                .count();
            let freq = k as f64 / n as f64;
            let tol = 5.0 * (p * (1.0 - p) / n as f64).sqrt();
            assert!((freq - p).abs() <= tol, "{v}: {freq} vs {p}");
        }
    }

    /// torch.amp.GradScaler fed the fixture's raw gradients: the scale before
    /// and after every step and the skipped steps, exactly.
    #[test]
    fn grad_scaler_matches_torch_on_fixed_gradients() {
        let g = golden();
        for case in g["grad_scaler"]["fixed"].as_array().unwrap() {
            let d = DynamicScale {
                growth_interval: num(&case["growth_interval"]) as u64,
                ..DynamicScale::default()
            };
            assert_eq!(d.init_scale, num(&case["init_scale"]));
            let mut s = GradScaler::new(Dtype::F16, Some(LossScale::Dynamic(d)));
            for (i, row) in case["steps"].as_array().unwrap().iter().enumerate() {
                assert_eq!(s.scale(), num(&row["scale_before"]), "step {i}");
                let mut grad = [num(&row["grad"])];
                let scaled = Dtype::F16.round(grad[0] * s.scale());
                assert!(same(scaled, num(&row["grad_f16_scaled"])), "step {i}");
                let finite = s.apply(&mut grad);
                assert_eq!(!finite, row["skipped"].as_bool().unwrap(), "step {i}");
                s.update(finite);
                assert_eq!(s.scale(), num(&row["scale_after"]), "step {i}");
            }
        }
    }
}

/// Reading the golden fixture exactly. serde_json (without its
/// `float_roundtrip` feature) may parse a decimal number 1 ulp away from the
/// double it was printed from, so every number of the fixture is read as
/// its text and parsed by Rust's correctly rounded `str::parse`.
#[cfg(test)]
pub(crate) mod golden {
    use serde_json::Value;

    /// The fixture with every number turned into the string of its digits.
    pub fn golden() -> Value {
        let text = include_str!("../../tests/fixtures/precision/golden.json");
        let mut out = String::with_capacity(text.len() * 2);
        let (mut in_string, mut escaped, mut in_number) = (false, false, false);
        for c in text.chars() {
            if in_string {
                out.push(c);
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            let numeric = if in_number {
                c.is_ascii_digit() || "-+.eE".contains(c)
            } else {
                c.is_ascii_digit() || c == '-'
            };
            if numeric && !in_number {
                out.push('"');
                in_number = true;
            } else if !numeric && in_number {
                out.push('"');
                in_number = false;
            }
            if c == '"' {
                in_string = true;
            }
            out.push(c);
        }
        serde_json::from_str(&out).expect("the fixture is JSON")
    }

    /// A number of the fixture (or "inf", "-inf", "nan"), exactly.
    pub fn num(v: &Value) -> f64 {
        v.as_str()
            .unwrap_or_else(|| panic!("{v} is not a number of the fixture"))
            .parse()
            .unwrap()
    }
}
