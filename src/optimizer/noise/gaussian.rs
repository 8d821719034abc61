//! `gaussian { std }`: ξ ~ N(0, std(t)²·I); `std` is a number or any
//! schedule table read as the standard deviation ([`Level`]).

use super::{add_gaussian, NoiseAt, NoiseModel, NoiseState};
use crate::error::SpecError;
use crate::rng::RunRng;
use crate::schedule::level::Level;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gaussian {
    pub std: Level,
}

impl crate::registry::Documented for Gaussian {
    const SUMMARY: &'static str = "ξ ~ N(0, std(t)²·I) added to the exact gradient; `std` is a number or any schedule table read as the standard deviation at step t.";
    const CONVENTION: &'static str = "Isotropic Gaussian gradient noise.";
    const EXAMPLE: &'static str = "std = 0.1";
}

impl NoiseModel for Gaussian {
    fn validate(&self) -> Result<(), SpecError> {
        self.std.validate_without_lr("std")
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
        add_gaussian(rng, grad, self.std.at(s.t, s.lr, s.lr0, 0.0));
    }
}
