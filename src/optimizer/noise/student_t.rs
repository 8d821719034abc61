//! `student_t { std, dof }`: ξ_i = std(t)·√((ν−2)/ν)·t_i with t_i ~
//! Student-t(ν) i.i.d.; Var t = ν/(ν−2), so every component has standard
//! deviation `std` (heavy tails, kurtosis 3 + 6/(ν−4) for ν > 4). Requires
//! ν > 2. `std` is a number or a schedule table, as gaussian's ([`Level`]).

use super::{NoiseAt, NoiseModel, NoiseState};
use crate::error::SpecError;
use crate::rng::RunRng;
use crate::schedule::level::Level;
use rand_distr::{Distribution, StudentT};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudentTNoise {
    pub std: Level,
    pub dof: f64,
}

impl crate::registry::Documented for StudentTNoise {
    const SUMMARY: &'static str = "ξ_i = std·√((ν−2)/ν)·t_i, t_i ~ Student-t(ν = dof) i.i.d.: every component has standard deviation std(t), with heavy tails; dof > 2; `std` is a number or any schedule table, as gaussian's.";
    const CONVENTION: &'static str = "rand_distr `StudentT`, rescaled to the given std.";
    const EXAMPLE: &'static str = "std = 0.1\ndof = 3.0";
}

/// The factor that gives a Student-t(ν) variable standard deviation `std`:
/// std·√((ν−2)/ν).
pub fn student_t_scale(std: f64, dof: f64) -> f64 {
    std * ((dof - 2.0) / dof).sqrt()
}

impl NoiseModel for StudentTNoise {
    fn validate(&self) -> Result<(), SpecError> {
        self.std.validate_without_lr("std")?;
        if self.dof.is_finite() && self.dof > 2.0 {
            Ok(())
        } else {
            Err(SpecError::new(
                "dof",
                format!("must be > 2 for a finite variance, got {}", self.dof),
            ))
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
        let t = StudentT::new(self.dof).expect("dof validated > 2");
        let step = at.step;
        let std = self.std.at(step.t, step.lr, step.lr0, 0.0);
        let s = student_t_scale(std, self.dof);
        for g in grad.iter_mut() {
            let z: f64 = t.sample(rng);
            *g += s * z;
        }
    }
}
