//! Stage 4 of a step, parameter storage: what the master parameters are
//! stored as after each update. Today they are kept in f64 as computed, so
//! this stage does nothing; it is the place where rounding to a lower
//! precision (bf16, f16, f32) belongs.

/// How a run stores its parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Storage;

impl Storage {
    /// Stores `x` after an update (in place).
    #[inline]
    pub fn store(&mut self, _x: &mut [f64]) {}
}
