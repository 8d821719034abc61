//! Stage 4 of a step, parameter storage: what the master parameters are
//! stored as after each update (`param_dtype`, [`crate::optimizer::precision`]).
//! In f64 (the default) they are kept as computed and this stage does nothing.
//! In f32, bf16 or f16 every coordinate is rounded to nearest-even, or
//! stochastically from the run's rounding generator.
//!
//! The stage also measures what rounding cost: `update_underflow`, the
//! fraction of coordinates whose update was not zero in f64 but whose stored
//! value did not change (the update rounded away).

use crate::optimizer::precision::{Dtype, Precision};
use crate::rng::RunRng;
use rand::RngExt;

/// How a run stores its parameters.
#[derive(Debug, Clone)]
pub struct Storage {
    dtype: Dtype,
    /// The generator of stochastic rounding (`None`: round to nearest).
    rng: Option<RunRng>,
}

impl Storage {
    /// `rng` is the run's rounding generator, used when `precision` asks
    /// for stochastic rounding.
    pub fn new(precision: &Precision, rng: RunRng) -> Self {
        Self {
            dtype: precision.param_dtype,
            rng: precision.stochastic_rounding.then_some(rng),
        }
    }

    /// Whether storing changes anything (not f64).
    pub fn rounds(&self) -> bool {
        !self.dtype.is_f64()
    }

    fn round_all(&mut self, x: &mut [f64]) {
        match &mut self.rng {
            None => x.iter_mut().for_each(|v| *v = self.dtype.round(*v)),
            Some(rng) => {
                for v in x.iter_mut() {
                    *v = self.dtype.round_stochastic(*v, rng.random::<f64>());
                }
            }
        }
    }

    /// Stores the initial point.
    pub fn store_initial(&mut self, x: &mut [f64]) {
        if self.rounds() {
            self.round_all(x);
        }
    }

    /// Stores `x` after an update from `x_prev` (in place); returns the
    /// number of coordinates whose update rounded away (`None` in f64).
    #[inline]
    pub fn store(&mut self, x: &mut [f64], x_prev: &[f64]) -> Option<usize> {
        if !self.rounds() {
            return None;
        }
        let mut lost = 0;
        for (v, &p) in x.iter_mut().zip(x_prev) {
            let moved = *v != p;
            *v = match &mut self.rng {
                None => self.dtype.round(*v),
                Some(rng) => self.dtype.round_stochastic(*v, rng.random::<f64>()),
            };
            lost += usize::from(moved && *v == p);
        }
        Some(lost)
    }
}
