//! Stages 2–3 for two players, the update rule of
//! [`crate::optimizer::game`]: it takes the oracle's field F(z_t) and
//! applies the gradient transforms and the optimizer step per player, in
//! the order the rule says (simultaneous: both players from F(z_t);
//! alternating: x, then y from F at the new x), calling the oracle again
//! where the method needs it (extragradient's look-ahead, alternating's
//! second player).
//!
//! Each player's gradient noise comes from its own stream: player 0's is
//! the run's noise stream (keyed by landscape and seed, so a one-player run
//! under the rule draws as it would without it), player p > 0's is keyed
//! by (landscape, seed, p). Player p's k-th field evaluation takes the k-th
//! draw of its stream, whatever the thread, shard or resume. Clipping acts
//! per player (each network has its own optimizer).
//!
//! The trace's `grad_norm` is ‖F‖ of the fields the players stepped from
//! (extragradient: at z_t), after noise; `lr` is the run's lr and
//! `group_lr` each player's. Every buffer is allocated when the run starts.
//!
//! [`linearisation`] gives the run's `spectral_radius` and
//! `cycle_spectral_radius`.

use super::gradient::{GradStep, GradientTransforms};
use super::update::{Hyper, Update};
use super::RunState;
use crate::config::plan::WeightDecayMode;
use crate::config::{Plan, RunSpec};
use crate::landscape::Landscape;
use crate::optimizer::clip::Clipped;
use crate::optimizer::game::{
    field_jacobian, one_step_map, spectral_radius, Game, GameMethod, GameUpdate, LinearSgd,
};
use crate::optimizer::groups::Groups;
use crate::optimizer::noise::NoiseStep;
use crate::optimizer::sgd::MomentumForm;
use crate::optimizer::{OptState, OptimizerKind};
use crate::rng::{rng_for, RunRng, Stream};
use nalgebra::DMatrix;
use std::ops::Range;

/// The two-player update rule of one run, with its buffers.
pub struct GameRule {
    game: Game,
    /// The players' coordinate ranges (one range for a one-player
    /// landscape under the rule).
    players: Vec<Range<usize>>,
    /// What steps in turn: every coordinate (simultaneous) or each player
    /// (alternating).
    blocks: Vec<Range<usize>>,
    /// Each player's noise stream.
    rngs: Vec<RunRng>,
    /// The look-ahead point (extragradient), or the unit-lr step
    /// (optimistic).
    z: Vec<f64>,
    /// The field at the look-ahead point or at the new x (alternating).
    g2: Vec<f64>,
    /// The last direction of each coordinate (optimistic).
    d_prev: Vec<f64>,
    /// Whether each block has stepped (optimistic: d_(−1) = d_0).
    started: Vec<bool>,
    /// A copy of the optimizer states for the look-ahead (extragradient).
    look_states: Vec<OptState>,
    /// Each coordinate's lr at this update.
    lrs: Vec<f64>,
}

/// The players' ranges of a run under a two-player rule: `None` when the
/// run has none (no `game` field and not a game landscape).
pub fn players_of(plan: &Plan, spec: &RunSpec, f: &dyn Landscape) -> Option<Vec<Range<usize>>> {
    let dim = f.dim();
    match (f.players(), plan.optimizers[spec.optimizer].game) {
        (Some(k), _) => Some(vec![0..k, k..dim]),
        (None, Some(_)) => Some(std::iter::once(0..dim).collect()),
        (None, None) => None,
    }
}

/// Copies `from` into `to` (same shapes) without allocating.
fn copy_state(from: &OptState, to: &mut OptState) {
    to.step = from.step;
    for (a, b) in to.slots.iter_mut().zip(&from.slots) {
        a.copy_from_slice(b);
    }
    to.started.copy_from_slice(&from.started);
    to.scalars = from.scalars;
}

impl GameRule {
    pub fn new(
        plan: &Plan,
        spec: &RunSpec,
        players: Vec<Range<usize>>,
        dim: usize,
        group_states: &[OptState],
    ) -> Self {
        let game = plan.optimizers[spec.optimizer].game.unwrap_or_default();
        let replicate = plan.replicate_key(spec.landscape, spec.seed);
        let rngs = (0..players.len())
            .map(|p| {
                let key = if p == 0 {
                    replicate.clone()
                } else {
                    format!("{replicate}#player{p}")
                };
                rng_for(plan.settings.seed, &key, Stream::Noise)
            })
            .collect();
        let blocks = match game.update {
            GameUpdate::Simultaneous => std::iter::once(0..dim).collect(),
            GameUpdate::Alternating => players.clone(),
        };
        Self {
            game,
            started: vec![false; blocks.len()],
            blocks,
            players,
            rngs,
            z: vec![0.0; dim],
            g2: vec![0.0; dim],
            d_prev: vec![0.0; dim],
            look_states: group_states.to_vec(),
            lrs: vec![0.0; dim],
        }
    }

    /// The noise and clipping of the players inside `block`, each from its
    /// own stream, on `g` (the field at `x`); what they did is merged into
    /// `out` when given.
    #[allow(clippy::too_many_arguments)]
    fn transform(
        &mut self,
        block: &Range<usize>,
        transforms: &mut GradientTransforms,
        at: NoiseStep,
        f: &dyn Landscape,
        x: &[f64],
        g: &mut [f64],
        scratch: &mut [f64],
        mut out: Option<&mut GradStep>,
    ) {
        for (p, r) in self.players.iter().enumerate() {
            if r.start < block.start || r.end > block.end {
                continue;
            }
            let s = transforms.apply(
                &mut self.rngs[p],
                at,
                f,
                x,
                &mut g[r.clone()],
                &mut scratch[r.clone()],
            );
            if let (Some(out), Some(c)) = (out.as_deref_mut(), s.clipped) {
                let before = out.clipped.unwrap_or(Clipped {
                    norm: 0.0,
                    fired: false,
                });
                out.clipped = Some(Clipped {
                    norm: before.norm.hypot(c.norm),
                    fired: before.fired || c.fired,
                });
            }
        }
    }

    /// Update `t` of the run: `run.g` holds the oracle's field at `run.x`;
    /// moves `run.x` to x_(t+1). Does not allocate.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &mut self,
        t: u64,
        hyper: &Hyper,
        at: NoiseStep,
        update: &Update,
        transforms: &mut GradientTransforms,
        f: &dyn Landscape,
        run: &mut RunState,
    ) -> GradStep {
        let mut out = GradStep::default();
        for b in 0..self.blocks.len() {
            let block = self.blocks[b].clone();
            if b > 0 {
                // Alternating: this player's field at the others' new point.
                f.field(&run.x, &mut self.g2);
                run.g[block.clone()].copy_from_slice(&self.g2[block.clone()]);
            }
            self.transform(
                &block,
                transforms,
                at,
                f,
                &run.x,
                &mut run.g,
                &mut run.scratch,
                Some(&mut out),
            );
            match self.game.method {
                GameMethod::Gda => update.apply_in(
                    t,
                    hyper,
                    &mut run.x,
                    &run.g,
                    &mut run.group_states,
                    &block,
                    false,
                ),
                GameMethod::Extragradient => {
                    self.extragradient(t, hyper, at, &block, update, transforms, f, run)
                }
                GameMethod::Optimistic => self.optimistic(t, hyper, b, &block, update, run),
            }
        }
        out
    }

    /// x ← x + u(F(x + u(F(x)))), the look-ahead from a copy of the state.
    #[allow(clippy::too_many_arguments)]
    fn extragradient(
        &mut self,
        t: u64,
        hyper: &Hyper,
        at: NoiseStep,
        block: &Range<usize>,
        update: &Update,
        transforms: &mut GradientTransforms,
        f: &dyn Landscape,
        run: &mut RunState,
    ) {
        self.z.copy_from_slice(&run.x);
        for (from, to) in run.group_states.iter().zip(&mut self.look_states) {
            copy_state(from, to);
        }
        update.apply_in(
            t,
            hyper,
            &mut self.z,
            &run.g,
            &mut self.look_states,
            block,
            false,
        );
        f.field(&self.z, &mut self.g2);
        let (z, mut g2) = (std::mem::take(&mut self.z), std::mem::take(&mut self.g2));
        self.transform(
            block,
            transforms,
            at,
            f,
            &z,
            &mut g2,
            &mut run.scratch,
            None,
        );
        update.apply_in(
            t,
            hyper,
            &mut run.x,
            &g2,
            &mut run.group_states,
            block,
            false,
        );
        (self.z, self.g2) = (z, g2);
    }

    /// x ← x − lr·(2d_t − d_(t−1)), d_t the optimizer's step at lr 1.
    fn optimistic(
        &mut self,
        t: u64,
        hyper: &Hyper,
        b: usize,
        block: &Range<usize>,
        update: &Update,
        run: &mut RunState,
    ) {
        self.z[block.clone()].copy_from_slice(&run.x[block.clone()]);
        update.apply_in(
            t,
            hyper,
            &mut self.z,
            &run.g,
            &mut run.group_states,
            block,
            true,
        );
        update.coord_lrs(t, hyper, &mut self.lrs);
        for i in block.clone() {
            let d = run.x[i] - self.z[i];
            let before = if self.started[b] { self.d_prev[i] } else { d };
            run.x[i] -= self.lrs[i] * (2.0 * d - before);
            self.d_prev[i] = d;
        }
        self.started[b] = true;
    }
}

/// SGD's fields the linearised map reads (momentum, dampening, Nesterov,
/// weight decay), where `kind` is SGD in PyTorch's momentum form.
fn linear_sgd(kind: &OptimizerKind) -> Option<LinearSgd> {
    match kind {
        OptimizerKind::Sgd(s) if s.momentum_form == MomentumForm::Pytorch => Some(LinearSgd {
            lr: 0.0,
            momentum: s.momentum,
            dampening: s.dampening,
            nesterov: s.nesterov,
            weight_decay: s.weight_decay,
        }),
        _ => None,
    }
}

/// Updates at most this long are multiplied out for the cycle's map.
pub const MAX_CYCLE: u64 = 100_000;

/// Each coordinate's SGD fields (its group's optimizer, else the table's);
/// `None` unless every coordinate steps by SGD in PyTorch's form with a
/// fixed weight decay.
fn coordinate_sgd(plan: &Plan, spec: &RunSpec, dim: usize) -> Option<Vec<LinearSgd>> {
    let resolved = &plan.optimizers[spec.optimizer];
    if resolved.weight_decay_mode != WeightDecayMode::Fixed {
        return None;
    }
    let mut out = vec![linear_sgd(&resolved.kind)?; dim];
    if let Some(Groups::List(list)) = &resolved.groups {
        for g in list {
            if let Some(kind) = &g.optimizer {
                out[g.coords[0]..g.coords[1]].fill(linear_sgd(kind)?);
            }
        }
    }
    Some(out)
}

/// The spectral radius of the update map linearised at the equilibrium, at
/// the lrs and momenta of update 0, and of the product of the maps over one
/// cycle where every lr is periodic (the lcm of the schedules' periods, at
/// most [`MAX_CYCLE`]). `(None, None)` unless the landscape is a game with a
/// known equilibrium and every player steps by SGD in PyTorch's momentum
/// form with a fixed weight decay (momentum, dampening, Nesterov and
/// weight decay included; a schedule's momentum overrides the optimizer's,
/// as in a run), under a schedule that does not read the loss.
pub fn linearisation(
    plan: &Plan,
    spec: &RunSpec,
    f: &dyn Landscape,
    update: &Update,
    players: &[Range<usize>],
) -> (Option<f64>, Option<f64>) {
    let resolved = &plan.optimizers[spec.optimizer];
    let (Some(split), Some(eq)) = (f.players(), f.minima().into_iter().next()) else {
        return (None, None);
    };
    let n = f.dim();
    let Some(base) = coordinate_sgd(plan, spec, n).filter(|_| !update.reads_loss()) else {
        return (None, None);
    };
    let game = resolved.game.unwrap_or_default();
    let j = field_jacobian(&f.hessian(&eq.x), split);
    let (mut lrs, mut momenta) = (vec![0.0; n], vec![None; n]);
    let mut map_at = |t: u64| -> DMatrix<f64> {
        let hyper = update.at(t);
        update.coord_lrs(t, &hyper, &mut lrs);
        update.coord_momenta(t, &hyper, &mut momenta);
        let sgd: Vec<LinearSgd> = (0..n)
            .map(|i| LinearSgd {
                lr: lrs[i],
                momentum: momenta[i].unwrap_or(base[i].momentum),
                ..base[i]
            })
            .collect();
        one_step_map(&j, &sgd, players, game)
    };
    let first = map_at(0);
    let one = spectral_radius(&first);
    let groups = match &resolved.groups {
        Some(Groups::List(list)) => list.as_slice(),
        _ => &[],
    };
    // The run's schedule counts where a coordinate follows it.
    let own_everywhere = !groups.is_empty() && groups.iter().all(|g| g.schedule.is_some());
    let mut period = if own_everywhere {
        Some(1)
    } else {
        plan.schedules[spec.schedule].schedule.spec().period()
    };
    for s in groups.iter().filter_map(|g| g.schedule.as_ref()) {
        period = period.zip(s.spec().period()).map(|(a, b)| lcm(a, b));
    }
    let cycle = period.filter(|&p| p <= MAX_CYCLE).map(|p| {
        let mut m = first;
        for t in 1..p {
            m = map_at(t) * m;
        }
        spectral_radius(&m)
    });
    (Some(one), cycle)
}

fn lcm(a: u64, b: u64) -> u64 {
    let gcd = |mut a: u64, mut b: u64| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    (a / gcd(a, b).max(1)).saturating_mul(b)
}
