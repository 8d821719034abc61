//! `minibatch { batch_size, replacement }`: the gradient is replaced by the
//! mean gradient over a minibatch of the landscape's samples (data-defined
//! landscapes only: [`Landscape::samples`]). Without replacement (default),
//! epoch shuffling as PyTorch's `DataLoader(shuffle=True, drop_last=False)`:
//! a fresh permutation of the n samples (Fisher–Yates from the run's noise
//! generator) at the start of each epoch, consecutive batches of
//! `batch_size`, the last one shorter when n is not a multiple; every sample
//! is used exactly once per epoch. With replacement: `batch_size` indices
//! drawn uniformly and independently each step. The indices of a batch are
//! summed in ascending order, so `batch_size = n` without replacement is
//! bit for bit full-batch gradient descent. The sample order is the model's
//! per-run state ([`Order`]). The model is the gradient source: the runner
//! does not compute the full gradient first, its oracle asks the model
//! ([`NoiseModel::gradient`]), which draws the batch
//! ([`Minibatch::next_batch`]) and computes that batch's gradient only.

use super::{NoiseAt, NoiseModel, NoiseState};
use crate::error::{check, SpecError};
use crate::landscape::Landscape;
use crate::rng::RunRng;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::any::Any;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Minibatch {
    pub batch_size: usize,
    #[serde(default)]
    pub replacement: bool,
}

impl crate::registry::Documented for Minibatch {
    const SUMMARY: &'static str = "The gradient of a minibatch of `batch_size` samples of a data-defined landscape replaces the exact gradient (the trace keeps the full-data loss and adds `batch_loss`). Without replacement (default): epoch shuffling, a fresh permutation each epoch from the run's noise generator, every sample once per epoch; with `replacement = true`: i.i.d. draws. `batch_size = n` is full-batch GD bit for bit.";
    const CONVENTION: &'static str =
        "PyTorch `DataLoader(shuffle=True, drop_last=False)` order; the mean loss over the batch.";
    const EXAMPLE: &'static str = "batch_size = 32";
}

impl NoiseModel for Minibatch {
    fn validate(&self) -> Result<(), SpecError> {
        check::at_least("batch_size", self.batch_size as u64, 1)
    }

    fn check_samples(&self, samples: Option<usize>) -> Result<(), SpecError> {
        match samples {
            None => Err(SpecError::new(
                "kind",
                "minibatch noise needs a landscape made of samples (least_squares, logistic, mlp)",
            )),
            Some(n) if self.batch_size > n => Err(SpecError::new(
                "batch_size",
                format!(
                    "must be <= the landscape's {n} samples, got {}",
                    self.batch_size
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    fn state(&self, landscape: &dyn Landscape) -> Option<Box<dyn Any + Send>> {
        let order = match landscape.samples() {
            Some(_) if self.replacement => vec![0; self.batch_size],
            Some(n) => (0..n).collect(),
            None => Vec::new(),
        };
        // Without replacement, the first step starts an epoch.
        let next = order.len();
        Some(Box::new(Order {
            order,
            start: next,
            next,
        }))
    }

    fn replaces_gradient(&self) -> bool {
        true
    }

    fn gradient(
        &self,
        state: &mut NoiseState,
        rng: &mut RunRng,
        at: NoiseAt,
        grad: &mut [f64],
    ) -> Option<f64> {
        let n = at.landscape.samples()?;
        let batch = self.next_batch(state.get_mut::<Order>()?, rng, n);
        if batch.is_empty() {
            return None;
        }
        let loss = at.landscape.batch_value_and_gradient(at.x, batch, grad);
        state.batch_loss = Some(loss);
        Some(loss)
    }

    fn perturb(
        &self,
        state: &mut NoiseState,
        rng: &mut RunRng,
        at: NoiseAt,
        grad: &mut [f64],
        _: &mut [f64],
    ) {
        self.gradient(state, rng, at, grad);
    }
}

/// The run's sample order: without replacement a permutation of 0..n (the
/// epoch's order); with replacement the current batch.
#[derive(Debug, Clone, Default)]
pub struct Order {
    order: Vec<usize>,
    /// The last batch is `order[start..next]`.
    start: usize,
    next: usize,
}

impl Order {
    /// The sample indices of the last minibatch, ascending.
    pub fn last_batch(&self) -> &[usize] {
        &self.order[self.start..self.next]
    }
}

impl Minibatch {
    /// Draws the next minibatch from the run's noise generator, out of `n`
    /// samples, and returns its indices in ascending order (empty for an
    /// empty state). Does not allocate.
    pub fn next_batch<'s>(&self, state: &'s mut Order, rng: &mut RunRng, n: usize) -> &'s [usize] {
        if state.order.is_empty() {
            return &[];
        }
        if self.replacement {
            for i in state.order.iter_mut() {
                *i = rng.random_range(0..n);
            }
            state.start = 0;
            state.next = state.order.len();
        } else {
            if state.next >= state.order.len() {
                shuffle(rng, &mut state.order);
                state.next = 0;
            }
            state.start = state.next;
            state.next = (state.next + self.batch_size).min(state.order.len());
        }
        let batch = &mut state.order[state.start..state.next];
        batch.sort_unstable();
        batch
    }
}

/// Fisher–Yates: a uniformly random permutation of `v` in place.
fn shuffle(rng: &mut RunRng, v: &mut [usize]) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}
