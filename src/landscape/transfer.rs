//! A transfer-learning landscape: blocks of coordinates, each with its own
//! spectrum, some "pretrained" (they start near their minimum) and a head
//! that starts far from it.
//!
//! f(x) = Σ_b Σ_(i in b) λ_i x_i²/2, minimum 0 at the origin, the λ of block
//! b from its own `eigenvalues` (a list or a rule, as the quadratic's). The
//! default initial point draws the coordinates of block b uniformly in
//! [−r_b, r_b] with r_b its `init_radius`: a small radius is a pretrained
//! block, a large one the freshly initialised head (or a block whose
//! features no longer fit: a domain shift).
//!
//! ```toml
//! [[landscape]]
//! kind = "transfer"
//! blocks = [
//!   { dim = 10, eigenvalues = { kind = "geometric", min = 1.0, max = 20.0 }, init_radius = 0.05 },
//!   { dim = 10, eigenvalues = { kind = "geometric", min = 0.05, max = 1.0 }, init_radius = 2.0 },
//! ]
//! ```
//!
//! The question it makes concrete (experiments/discriminative.toml): with
//! gradient noise a large lr lifts a pretrained block to its noise floor
//! (≈ lr·σ²/4 per coordinate, "forgetting"), while a small lr leaves the head
//! unconverged; layer-wise lrs (ULMFiT) give each block its own.

use super::quadratic::{eigenvalues, Quadratic, QuadraticSpec, Spectrum};
use super::{Bound, InitSpec, Landscape, LandscapeSpec};
use crate::error::{check, SpecError};
use crate::memory::{f64s, Allocation};
use crate::rng::RunRng;
use serde::{Deserialize, Serialize};

/// One block of coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    pub dim: usize,
    pub eigenvalues: Spectrum,
    /// Half-width of the default initial box of this block.
    pub init_radius: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferSpec {
    pub blocks: Vec<Block>,
}

/// At most this many coordinates in all: the default initial point holds two
/// bounds per coordinate and is built with the plan, before the memory
/// estimate can refuse a run.
pub const MAX_DIM: usize = 10_000_000;

impl TransferSpec {
    /// Each coordinate's block radius.
    fn radii(&self) -> Vec<f64> {
        self.blocks
            .iter()
            .flat_map(|b| std::iter::repeat_n(b.init_radius, b.dim))
            .collect()
    }
}

impl crate::registry::Documented for TransferSpec {
    const SUMMARY: &'static str = "f(x) = Σ_b Σ_(i in b) λ_i x_i²/2 over blocks of coordinates with their own spectra; block b starts uniformly in [−init_radius, init_radius]: small for a pretrained block, large for the head.";
    const CONVENTION: &'static str = "valley's own construction for discriminative (layer-wise) learning rates (ULMFiT, Howard & Ruder 2018).";
    const EXAMPLE: &'static str =
        "blocks = [{ dim = 2, eigenvalues = [1.0, 2.0], init_radius = 0.1 }]";
}

impl LandscapeSpec for TransferSpec {
    fn validate(&self) -> Result<(), SpecError> {
        if self.blocks.is_empty() {
            return Err(SpecError::new("blocks", "needs at least one block"));
        }
        for (k, b) in self.blocks.iter().enumerate() {
            let within = |e: SpecError| e.within(&format!("blocks[{k}]"));
            QuadraticSpec {
                dim: b.dim,
                eigenvalues: b.eigenvalues.clone(),
                rotate: false,
            }
            .validate()
            .map_err(within)?;
            check::positive("init_radius", b.init_radius).map_err(within)?;
        }
        let dim = self
            .blocks
            .iter()
            .try_fold(0usize, |n, b| n.checked_add(b.dim))
            .filter(|&n| n <= MAX_DIM);
        if dim.is_none() {
            return Err(SpecError::new(
                "blocks",
                format!("the blocks have more than {MAX_DIM} coordinates in all"),
            ));
        }
        Ok(())
    }

    /// What it allocates, for the memory estimate ([`crate::config::estimate`]).
    fn memory(&self) -> Vec<Allocation> {
        let d = self.dim() as u64;
        vec![Allocation::shared(
            "blocks",
            format!("{d} coordinates in all"),
            "eigenvalue vector and the default initial bounds",
            f64s(d).saturating_mul(3),
        )]
    }

    fn dim(&self) -> usize {
        self.blocks
            .iter()
            .fold(0usize, |n, b| n.saturating_add(b.dim))
    }

    fn default_init(&self) -> InitSpec {
        let r = self.radii();
        InitSpec::Uniform {
            low: Bound::Each(r.iter().map(|v| -v).collect()),
            high: Bound::Each(r),
        }
    }

    fn build(&self, _rng: &mut RunRng) -> Box<dyn Landscape> {
        let lambda = self
            .blocks
            .iter()
            .flat_map(|b| eigenvalues(&b.eigenvalues, b.dim))
            .collect();
        Box::new(Quadratic::new(lambda, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::testing::{assert_gradient_matches, assert_hessian_matches};
    use crate::rng::{rng_for, Stream};

    fn spec() -> TransferSpec {
        toml::from_str(
            "blocks = [\n\
             { dim = 2, eigenvalues = [4.0, 1.0], init_radius = 0.1 },\n\
             { dim = 3, eigenvalues = { kind = \"linear\", min = 0.5, max = 1.5 }, init_radius = 3.0 },\n]",
        )
        .unwrap()
    }

    /// f = (4·1 + 1·4 + 0.5·1 + 1·1 + 1.5·4)/2 = 7.75 at (1, 2, 1, 1, 2); the
    /// derivatives against central differences; the default box per block.
    #[test]
    fn blocks_concatenate_their_spectra() {
        let s = spec();
        s.validate().unwrap();
        assert_eq!(s.dim(), 5);
        let f = s.build(&mut rng_for(0, "t", Stream::Landscape));
        let x = [1.0, 2.0, 1.0, 1.0, 2.0];
        assert_eq!(f.value(&x), 7.75);
        assert_gradient_matches(f.as_ref(), &x, 1e-8);
        assert_hessian_matches(f.as_ref(), &x, 1e-6);
        assert_eq!(f.minima()[0].value, 0.0);
        let init = s.default_init();
        init.validate(5).unwrap();
        let mut rng = rng_for(0, "init", Stream::Init);
        let mut p = [0.0; 5];
        for _ in 0..200 {
            init.sample(&mut rng, &mut p);
            assert!(p[..2].iter().all(|v| v.abs() <= 0.1));
            assert!(p[2..].iter().all(|v| v.abs() <= 3.0));
        }
        let mut bad = spec();
        bad.blocks[1].init_radius = 0.0;
        assert_eq!(bad.validate().unwrap_err().field, "blocks[1].init_radius");
        bad.blocks[1].init_radius = 1.0;
        bad.blocks[0].dim = 3;
        assert_eq!(bad.validate().unwrap_err().field, "blocks[0].eigenvalues");
        let mut huge = spec();
        huge.blocks[1].dim = usize::MAX;
        huge.blocks[1].eigenvalues =
            Spectrum::Rule(crate::landscape::quadratic::SpectrumRule::Linear {
                min: 1.0,
                max: 1.0,
            });
        assert_eq!(huge.validate().unwrap_err().field, "blocks");
    }
}
