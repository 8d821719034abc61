//! `langevin { temperature, T0 }`: ξ ~ N(0, (2·T(t)/lr(t))·I), so that SGD's
//! update x ← x − lr·(∇f + ξ) is x − lr·∇f + √(2·lr·T)·z with z ~ N(0, I):
//! stochastic gradient Langevin dynamics (Welling & Teh 2011), whose
//! stationary density for small lr is ∝ exp(−f/T). `temperature` is a
//! number, a schedule table (annealing), or `"with_lr"`: T(t) =
//! T0·lr(t)/lr(0). With momentum β the same noise enters the momentum
//! buffer (underdamped Langevin with friction (1−β)/lr; the stationary
//! temperature is T only in the small-lr limit); with Adam the noise is
//! divided by √v̂ like the gradient (preconditioned, not true Langevin).
//! A step with lr = 0 gets no noise.

use super::{add_gaussian, NoiseAt, NoiseModel, NoiseState};
use crate::error::{check, SpecError};
use crate::rng::RunRng;
use crate::schedule::level::Level;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Langevin {
    pub temperature: Level,
    #[serde(rename = "T0", default, skip_serializing_if = "Option::is_none")]
    pub t0: Option<f64>,
}

impl crate::registry::Documented for Langevin {
    const SUMMARY: &'static str = "ξ ~ N(0, (2·T(t)/lr(t))·I), so SGD's update is x − lr·∇f + √(2·lr·T)·z: stochastic gradient Langevin dynamics, stationary density ∝ exp(−f/T) for small lr. `temperature` is a number, a schedule table (annealing) or \"with_lr\" (T(t) = T0·lr(t)/lr(0), with `T0`). With momentum or Adam it is not exact Langevin dynamics; a step with lr = 0 gets no noise.";
    const CONVENTION: &'static str = "Welling & Teh (2011), SGLD.";
    const EXAMPLE: &'static str = "temperature = 0.01";
}

impl NoiseModel for Langevin {
    fn validate(&self) -> Result<(), SpecError> {
        self.temperature.validate("temperature")?;
        match (&self.temperature, self.t0) {
            (Level::WithLr, None) => Err(SpecError::new(
                "T0",
                "is needed with temperature = \"with_lr\" (T(t) = T0·lr(t)/lr(0))",
            )),
            (Level::WithLr, Some(t)) => check::non_negative("T0", t),
            (_, Some(_)) => Err(SpecError::new(
                "T0",
                "is only read with temperature = \"with_lr\"",
            )),
            _ => Ok(()),
        }
    }

    fn perturb(
        &self,
        _: &mut NoiseState,
        rng: &mut RunRng,
        at: NoiseAt,
        grad: &mut [f64],
        _: &mut [f64],
    ) {
        let s = at.step;
        let temp = self
            .temperature
            .at(s.t, s.lr, s.lr0, self.t0.unwrap_or(0.0));
        if s.lr > 0.0 {
            add_gaussian(rng, grad, (2.0 * temp / s.lr).sqrt());
        }
    }
}
