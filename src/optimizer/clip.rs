//! Gradient clipping, as `torch.nn.utils`:
//!
//! - `clip_grad_norm = c` (`clip_grad_norm_(params, c)`, 2-norm): with
//!   n = ‖g‖, the clip coefficient is c/(n + 1e-6), clamped to at most 1,
//!   and g is multiplied by it. Clipping fires when the coefficient is below
//!   1, i.e. n + 1e-6 > c. A non-finite n gives a coefficient of 0 (or NaN),
//!   as in torch with `error_if_nonfinite = False`; the run then diverges.
//! - `clip_grad_value = c` (`clip_grad_value_(params, c)`): every coordinate
//!   is clamped to [−c, c] (NaN stays NaN).
//!
//! Clipping is a gradient transform applied after the gradient noise, as in a
//! training loop where the noise is part of the minibatch gradient (the `dp`
//! noise model keeps its own clip-then-noise order inside the noise).

use crate::error::{check, SpecError};
use crate::vecmath::norm;
use serde::{Deserialize, Serialize};

/// The clipping of one optimizer table (fields `clip_grad_norm`,
/// `clip_grad_value`; both may be set: the norm clip applies first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Clip {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_grad_norm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_grad_value: Option<f64>,
}

/// What clipping did to one gradient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clipped {
    /// ‖g‖ before clipping.
    pub norm: f64,
    /// Whether any clip changed the gradient.
    pub fired: bool,
}

impl Clip {
    pub fn validate(&self) -> Result<(), SpecError> {
        if let Some(c) = self.clip_grad_norm {
            check::positive("clip_grad_norm", c)?;
        }
        if let Some(c) = self.clip_grad_value {
            check::positive("clip_grad_value", c)?;
        }
        Ok(())
    }

    pub fn is_active(&self) -> bool {
        self.clip_grad_norm.is_some() || self.clip_grad_value.is_some()
    }

    /// Clips `g` in place; `None` when no clipping is configured.
    pub fn apply(&self, g: &mut [f64]) -> Option<Clipped> {
        if !self.is_active() {
            return None;
        }
        let n = norm(g);
        let mut fired = false;
        if let Some(c) = self.clip_grad_norm {
            // torch.clamp(coef, max=1): NaN stays NaN (f64::min would not).
            let coef = c / (n + 1e-6);
            if coef < 1.0 || coef.is_nan() {
                fired = true;
                g.iter_mut().for_each(|v| *v *= coef);
            }
        }
        if let Some(c) = self.clip_grad_value {
            for v in g.iter_mut() {
                let clamped = v.clamp(-c, c);
                fired |= clamped != *v;
                *v = clamped;
            }
        }
        Some(Clipped { norm: n, fired })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// A float of the fixture: a number or "inf", "-inf", "nan".
    fn num(v: &Value) -> f64 {
        match v {
            Value::String(s) => s.parse().unwrap(),
            v => v.as_f64().unwrap(),
        }
    }

    /// The fixture's tensors, concatenated (the norm clip is global).
    fn flat(v: &Value) -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t.as_array().unwrap().iter().map(num))
            .collect()
    }

    fn same(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-14 * b.abs()
    }

    /// `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_` in float64
    /// (tests/fixtures/clipping/golden.json, scripts/golden_clipping.py):
    /// the returned norm and every clipped coordinate, to 1e-14 relative
    /// (torch reduces several tensors as a norm of norms).
    #[test]
    fn clipping_matches_torch() {
        let golden: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/clipping/golden.json"))
                .unwrap();
        let cases = golden["clip_grad_norm"].as_array().unwrap();
        for c in cases {
            let mut g = flat(&c["grad"]);
            let clip = Clip {
                clip_grad_norm: Some(num(&c["max_norm"])),
                clip_grad_value: None,
            };
            let out = clip.apply(&mut g).unwrap();
            let name = c["name"].as_str().unwrap();
            assert!(
                same(out.norm, num(&c["total_norm"])),
                "{name}: norm {}",
                out.norm
            );
            for (a, b) in g.iter().zip(flat(&c["clipped_grad"])) {
                assert!(same(*a, b), "{name}: {a} vs torch {b}");
            }
            assert_eq!(
                out.fired,
                num(&c["clip_coef"]).is_nan() || num(&c["clip_coef"]) < 1.0,
                "{name}"
            );
        }
        let value_cases = golden["clip_grad_value"].as_array().unwrap();
        for c in value_cases {
            let mut g = flat(&c["grad"]);
            let clip = Clip {
                clip_grad_norm: None,
                clip_grad_value: Some(num(&c["clip_value"])),
            };
            clip.apply(&mut g).unwrap();
            for (a, b) in g.iter().zip(flat(&c["clipped_grad"])) {
                assert!(same(*a, b), "{}: {a} vs torch {b}", c["name"]);
            }
        }
        assert_eq!((cases.len(), value_cases.len()), (27, 13));
    }
}
