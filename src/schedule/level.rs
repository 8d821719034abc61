//! A quantity that follows the steps, for noise levels and temperatures: a
//! number, any schedule table (whose learning rate is read as the quantity,
//! e.g. `{ kind = "linear", lr = 0.07, end_lr = 0, total_steps = 8000 }`
//! falls linearly from 0.07 to 0), or `"with_lr"`: proportional to the run's
//! own learning rate, q(t) = q₀·lr(t)/lr(0), with q₀ given next to it.

use super::Schedule;
use crate::error::{check, SpecError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq)]
pub enum Level {
    Constant(f64),
    Scheduled(Box<Schedule>),
    WithLr,
}

impl Level {
    /// The value at step `t`, where the run's lr is `lr` now and `lr0` at 0;
    /// `base` is q₀ for `"with_lr"`.
    pub fn at(&self, t: u64, lr: f64, lr0: f64, base: f64) -> f64 {
        match self {
            Self::Constant(v) => *v,
            Self::Scheduled(s) => s.lr(t),
            Self::WithLr if lr0 > 0.0 => base * lr / lr0,
            Self::WithLr => 0.0,
        }
    }

    /// Checks a level that must be ≥ 0 and may not be `"with_lr"` (noise
    /// scales: only langevin's temperature follows the lr); `field` names it.
    pub fn validate_without_lr(&self, field: &str) -> Result<(), SpecError> {
        match self {
            Self::WithLr => Err(SpecError::new(
                field,
                "\"with_lr\" is for langevin's temperature; give a number or a schedule table",
            )),
            _ => self.validate(field),
        }
    }

    /// Checks a level that must be ≥ 0; `field` names it.
    pub fn validate(&self, field: &str) -> Result<(), SpecError> {
        match self {
            Self::Constant(v) => check::non_negative(field, *v),
            Self::Scheduled(s) => {
                s.check_pure("a level").map_err(|e| e.within(field))?;
                s.validate().map_err(|e| e.within(field))
            }
            Self::WithLr => Ok(()),
        }
    }
}

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Constant(v) => v.serialize(s),
            Self::Scheduled(sc) => sc.serialize(s),
            Self::WithLr => s.serialize_str("with_lr"),
        }
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match toml::Value::deserialize(d)? {
            toml::Value::Float(v) => Ok(Self::Constant(v)),
            toml::Value::Integer(i) => Ok(Self::Constant(i as f64)),
            toml::Value::String(s) if s == "with_lr" => Ok(Self::WithLr),
            t @ toml::Value::Table(_) => Schedule::deserialize(t)
                .map(|s| Self::Scheduled(Box::new(s)))
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "expected a number, a schedule table or \"with_lr\", got {other}"
            ))),
        }
    }
}
