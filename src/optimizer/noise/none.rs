//! `none`: ξ = 0, the exact gradient.

use super::{NoiseAt, NoiseModel, NoiseState};
use crate::error::SpecError;
use crate::rng::RunRng;
use serde::{Deserialize, Serialize};

/// No noise. A struct with no fields (not a unit) so that
/// `deny_unknown_fields` rejects `{ kind = "none", foo = 1 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoNoise {}

impl crate::registry::Documented for NoNoise {
    const SUMMARY: &'static str = "No noise: the exact gradient.";
    const CONVENTION: &'static str = "—";
    const EXAMPLE: &'static str = "";
}

impl NoiseModel for NoNoise {
    fn validate(&self) -> Result<(), SpecError> {
        Ok(())
    }

    fn perturb(
        &self,
        _: &mut NoiseState,
        _: &mut RunRng,
        _: NoiseAt,
        _: &mut [f64],
        _: &mut [f64],
    ) {
    }
}
