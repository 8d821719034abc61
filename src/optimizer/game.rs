//! Two players: the optimizer field `game = { update, method }` and the
//! linearisation of the update rule at the equilibrium.
//!
//! A game landscape (`bilinear_game`, `dirac_gan`) has two players, x (its
//! first coordinates, minimising f) and y (the rest, maximising f); the
//! oracle returns the field F = (∇ₓf, −∇ᵧf), so an optimizer that descends
//! along F descends in x and ascends in y. Each player is a parameter group
//! (`groups`), with its own lr, schedule and optimizer fields and its own
//! gradient-noise stream.
//!
//! `update`:
//! - `"simultaneous"` (default): both players step from F(x_t, y_t);
//! - `"alternating"`: x steps first, then y steps from F at (x_(t+1), y_t)
//!   (Gauss–Seidel; the field is evaluated once more per step).
//!
//! `method`, applied to each step of a player (both at once when
//! simultaneous), with u(g) the optimizer's update of x from field g (for
//! SGD, u(g) = −lr_t·g):
//! - `"gda"` (default): x ← x + u(F(x)).
//! - `"extragradient"` (Korpelevich 1976; Gidel et al. 2019): the
//!   look-ahead x' = x + u(F(x)) is taken from a copy of the optimizer's
//!   state, then x ← x + u(F(x')) from the real state, which thus sees only
//!   the look-ahead fields. The field is evaluated twice (the second with its
//!   own noise draw); a step counts once in `steps`. With SGD it is
//!   x ← x − lr_t·F(x − lr_t·F(x)); with momentum the buffer accumulates
//!   F(x'); with Adam the moments do (Gidel et al.'s Extra-Adam updates
//!   them at both points; valley keeps one moment update per step).
//!   Coupled weight decay acts at the parameters being updated (x in the
//!   step, x' nowhere), as Gidel et al.'s ExtraSGD restores them first.
//! - `"optimistic"` (Popov 1980; Daskalakis et al. 2018): with d_t the
//!   optimizer's direction at lr 1 (SGD: g_t, with momentum: the buffer,
//!   Adam: m̂_t/(√v̂_t + ε)), x ← x − lr_t·(2d_t − d_(t−1)), d_(−1) = d_0.
//!   With SGD this is optax's `optimistic_gradient_descent` with
//!   α = β = 1 (update −lr_t·(2g_t − g_(t−1))); with Adam it is the
//!   Optimistic Adam of Daskalakis et al. 2018 (Algorithm 1) at constant lr.
//!
//! The linearisation ([`one_step_map`]): at the equilibrium z*, with
//! J = ∂F(z*) exact (the landscape's Hessian with the y rows negated) and
//! the coordinates' lrs, momenta and weight decays at update t, SGD's
//! update (PyTorch's momentum form) is linear in the deviation and the
//! optimizer's buffers; its matrix M_t has spectral radius ρ(M_t) (< 1:
//! locally convergent, exactly so on a bilinear game). With periodic lrs
//! (period T), the product M_(T−1)···M_0 decides stability over a cycle.

use crate::error::SpecError;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// How the two players' steps are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GameUpdate {
    #[default]
    Simultaneous,
    Alternating,
}

/// What one player's step does with the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GameMethod {
    #[default]
    Gda,
    Extragradient,
    Optimistic,
}

/// The `game` field of an optimizer table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Game {
    #[serde(default)]
    pub update: GameUpdate,
    #[serde(default)]
    pub method: GameMethod,
}

/// The reference's text for the field.
pub const GAME_DOC: &str = "two players (game landscapes; see docs/studies/games.md): `{ update = \"simultaneous\" | \"alternating\", method = \"gda\" | \"extragradient\" | \"optimistic\" }`, defaults simultaneous and gda. The optimizer follows F = (∇ₓf, −∇ᵧf). `alternating` steps x, then y from F at the new x. `extragradient` steps from F at the look-ahead x + u(F(x)), the look-ahead taken from a copy of the optimizer's state (with momentum or Adam the buffers see only look-ahead fields; weight decay acts at x), its field with its own noise draw; a step counts once. `optimistic` steps by −lr_t·(2d_t − d_(t−1)), d_(−1) = d_0, d_t the optimizer's direction at lr 1: with SGD, optax's optimistic_gradient_descent (α = β = 1, d = g); with Adam, Optimistic Adam (Daskalakis et al. 2018, d = m̂/(√v̂ + ε)). Runs on a game report `spectral_radius` (and `cycle_spectral_radius`) where every player steps by SGD. A game landscape needs an optimizer whose gradient is taken at its parameters (not schedule-free); with `groups`, every group lies within one player and every coordinate is in a group; `alternating` needs two players. Noise: each player draws from its own stream. Not with `compute_dtype`, `grad_dtype` or curvature noise";

impl Game {
    /// Checks the field against `landscape` (named in the message) with
    /// `players` (the first player's coordinates; `None`: one player).
    pub fn check_players(&self, players: Option<usize>, landscape: &str) -> Result<(), SpecError> {
        if self.update == GameUpdate::Alternating && players.is_none() {
            return Err(SpecError::new(
                "update",
                format!("is \"alternating\", which steps two players in turn, and {landscape} has one player (use a game landscape, or \"simultaneous\")"),
            ));
        }
        Ok(())
    }
}

/// Checks `groups` (as coordinate ranges) against the players of a game
/// of `dim` coordinates whose first player has `split`: every group within
/// one player, every coordinate in a group. Returns the index of a bad
/// group, or `None` with the first uncovered coordinate, in the error.
pub fn check_groups_cover(
    groups: &[Range<usize>],
    split: usize,
    dim: usize,
) -> Result<(), SpecError> {
    for (k, g) in groups.iter().enumerate() {
        if g.start < split && g.end > split {
            return Err(SpecError::new(
                format!("[{k}].coords"),
                format!(
                    "[{}, {}] straddles the two players (x is 0..{split}, y is {split}..{dim}): a group is one player's",
                    g.start, g.end
                ),
            ));
        }
    }
    let covered = |i: usize| groups.iter().any(|g| g.contains(&i));
    if let Some(i) = (0..dim).find(|&i| !covered(i)) {
        let player = if i < split { "x" } else { "y" };
        return Err(SpecError::new(
            "",
            format!(
                "leave coordinate {i} (player {player}) in no group: with a game, the groups cover the players (x is 0..{split}, y is {split}..{dim})"
            ),
        ));
    }
    Ok(())
}

/// The Jacobian of F = (∇ₓf, −∇ᵧf) from the Hessian of f: the rows of y
/// (from `split` on) negated.
pub fn field_jacobian(hessian: &DMatrix<f64>, split: usize) -> DMatrix<f64> {
    let mut j = hessian.clone();
    for r in split..j.nrows() {
        for c in 0..j.ncols() {
            j[(r, c)] = -j[(r, c)];
        }
    }
    j
}

/// SGD's fields for one coordinate, at one update, as the linearised map
/// sees them (PyTorch's form: b ← μ·b + (1 − τ)·g, the step along b, or
/// along g + μ·b with Nesterov; g ← g + wd·x first).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LinearSgd {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub nesterov: bool,
    pub weight_decay: f64,
}

impl LinearSgd {
    /// Plain SGD at `lr`.
    pub fn plain(lr: f64) -> Self {
        Self {
            lr,
            ..Self::default()
        }
    }
}

/// One update of `game` with SGD (`sgd`, per coordinate) on the linear
/// field F(z) = J·z, applied to the state s = (z, b, h) of length 3n: b the
/// momentum buffers, h the last direction of each coordinate (read by
/// `optimistic` only; zero after the update otherwise). Linear in s; the
/// momentum buffer starts as zeros (PyTorch's first buffer, the first
/// gradient, is the same up to dampening at the first step, which does not
/// change the asymptotic rate).
fn linear_step(
    j: &DMatrix<f64>,
    sgd: &[LinearSgd],
    blocks: &[Range<usize>],
    method: GameMethod,
    s: &[f64],
) -> Vec<f64> {
    let n = j.nrows();
    let (mut z, mut b, mut h) = (s[..n].to_vec(), s[n..2 * n].to_vec(), s[2 * n..].to_vec());
    // The field at `at` plus the weight decay of the parameters `x` being
    // updated (extragradient: the field at the look-ahead point, the decay
    // at the iterate, as Gidel et al.'s ExtraSGD restores the parameters
    // before the step).
    let grad = |at: &[f64], x: &[f64], i: usize| -> f64 {
        (0..n).map(|k| j[(i, k)] * at[k]).sum::<f64>() + sgd[i].weight_decay * x[i]
    };
    // The direction from buffer `b` and gradient `g`; updates the buffer.
    let direction = |p: &LinearSgd, b: &mut f64, g: f64| -> f64 {
        *b = p.momentum * *b + (1.0 - p.dampening) * g;
        if p.nesterov {
            g + p.momentum * *b
        } else {
            *b
        }
    };
    for block in blocks {
        let g: Vec<f64> = block.clone().map(|i| grad(&z, &z, i)).collect();
        match method {
            GameMethod::Gda => {
                for (i, g) in block.clone().zip(g) {
                    z[i] -= sgd[i].lr * direction(&sgd[i], &mut b[i], g);
                }
            }
            GameMethod::Extragradient => {
                let mut look = z.clone();
                for (i, &g) in block.clone().zip(&g) {
                    let mut copy = b[i];
                    look[i] -= sgd[i].lr * direction(&sgd[i], &mut copy, g);
                }
                for i in block.clone() {
                    let g2 = grad(&look, &z, i);
                    z[i] -= sgd[i].lr * direction(&sgd[i], &mut b[i], g2);
                }
            }
            GameMethod::Optimistic => {
                for (i, g) in block.clone().zip(g) {
                    let d = direction(&sgd[i], &mut b[i], g);
                    z[i] -= sgd[i].lr * (2.0 * d - h[i]);
                    h[i] = d;
                }
            }
        }
    }
    if method != GameMethod::Optimistic {
        h.fill(0.0);
    }
    z.extend(b);
    z.extend(h);
    z
}

/// The matrix of one update of `game` with SGD (fields per coordinate in
/// `sgd`) on the linear field F(z) = J·z, in the state (z, b, h) of
/// [`linear_step`]: its columns are the images of the unit vectors.
/// `players` are the players' coordinate ranges in order.
pub fn one_step_map(
    j: &DMatrix<f64>,
    sgd: &[LinearSgd],
    players: &[Range<usize>],
    game: Game,
) -> DMatrix<f64> {
    let n = j.nrows();
    let blocks: Vec<Range<usize>> = match game.update {
        GameUpdate::Simultaneous => std::iter::once(0..n).collect(),
        GameUpdate::Alternating => players.to_vec(),
    };
    let mut m = DMatrix::zeros(3 * n, 3 * n);
    let mut e = vec![0.0; 3 * n];
    for c in 0..3 * n {
        e[c] = 1.0;
        for (r, v) in linear_step(j, sgd, &blocks, game.method, &e)
            .into_iter()
            .enumerate()
        {
            m[(r, c)] = v;
        }
        e[c] = 0.0;
    }
    m
}

/// The spectral radius of a square matrix (largest |eigenvalue|).
pub fn spectral_radius(m: &DMatrix<f64>) -> f64 {
    m.complex_eigenvalues()
        .iter()
        .map(|c| c.norm())
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xy() -> DMatrix<f64> {
        // f = x·y: H = [[0, 1], [1, 0]], J = [[0, 1], [−1, 0]].
        field_jacobian(&DMatrix::from_row_slice(2, 2, &[0.0, 1.0, 1.0, 0.0]), 1)
    }

    fn game(update: GameUpdate, method: GameMethod) -> Game {
        Game { update, method }
    }

    /// The closed forms on f = x·y (Gidel et al. 2019, Daskalakis et al.
    /// 2018): ρ = √(1 + η²) (simultaneous GDA), 1 (alternating GDA: the
    /// map has determinant 1 and trace 2 − η², so complex eigenvalues of
    /// modulus 1 for η < 2), √(1 − η² + η⁴) (extragradient); optimistic:
    /// the roots of λ² − (1 ∓ 2iη)λ ∓ iη = 0, whose modulus is
    /// 1 − η²/2 + O(η⁴).
    #[test]
    fn closed_forms_on_x_times_y() {
        let players = [0..1, 1..2];
        for eta in [0.05, 0.1, 0.3] {
            let sgd = [LinearSgd::plain(eta); 2];
            let r = |u, m| spectral_radius(&one_step_map(&xy(), &sgd, &players, game(u, m)));
            use GameMethod::*;
            use GameUpdate::*;
            assert!((r(Simultaneous, Gda) - (1.0 + eta * eta).sqrt()).abs() < 1e-14);
            assert!((r(Alternating, Gda) - 1.0).abs() < 1e-12);
            let eg = (1.0 - eta * eta + eta.powi(4)).sqrt();
            assert!((r(Simultaneous, Extragradient) - eg).abs() < 1e-14);
            let og = r(Simultaneous, Optimistic);
            assert!(
                (og - (1.0 - eta * eta / 2.0)).abs() < eta.powi(4),
                "{eta}: {og}"
            );
            // The exact root: λ = ((1 − 2iη) + √((1 − 2iη)² + 4iη))/2.
            let b = nalgebra::Complex::new(1.0, -2.0 * eta);
            let disc = (b * b + nalgebra::Complex::new(0.0, 4.0 * eta)).sqrt();
            let root = ((b + disc) / 2.0).norm();
            assert!((og - root).abs() < 1e-12, "{og} vs {root}");
        }
    }

    /// Heavy-ball momentum μ (PyTorch form, no dampening) under
    /// simultaneous GDA on a linear field: b' = μb + Jz, z' = z − ηb', the
    /// map [[I − ηJ, −ημI], [J, μI]] on (z, b), whose eigenvalues λ
    /// solve λ² − (1 + μ − ηκ)λ + μ = 0 for each eigenvalue κ of J. On
    /// x·y (κ = ±i) the root of largest modulus is the spectral radius.
    /// Weight decay wd adds wd to κ: GDA on x·y with wd has
    /// ρ = |1 − η(wd ± i)| = √((1 − η·wd)² + η²).
    #[test]
    fn momentum_and_weight_decay_by_hand() {
        let players = [0..1, 1..2];
        let (eta, mu) = (0.1, 0.5);
        let sgd = [LinearSgd {
            momentum: mu,
            ..LinearSgd::plain(eta)
        }; 2];
        let rho = spectral_radius(&one_step_map(
            &xy(),
            &sgd,
            &players,
            game(GameUpdate::Simultaneous, GameMethod::Gda),
        ));
        let k = nalgebra::Complex::new(0.0, 1.0);
        let bq = nalgebra::Complex::new(1.0 + mu, 0.0) - k * eta;
        let disc = (bq * bq - nalgebra::Complex::new(4.0 * mu, 0.0)).sqrt();
        let root = ((bq + disc) / 2.0).norm().max(((bq - disc) / 2.0).norm());
        assert!((rho - root).abs() < 1e-12, "{rho} vs {root}");
        let wd = 0.2;
        let sgd = [LinearSgd {
            weight_decay: wd,
            ..LinearSgd::plain(eta)
        }; 2];
        let rho = spectral_radius(&one_step_map(
            &xy(),
            &sgd,
            &players,
            game(GameUpdate::Simultaneous, GameMethod::Gda),
        ));
        let want = ((1.0 - eta * wd).powi(2) + eta * eta).sqrt();
        assert!((rho - want).abs() < 1e-12, "{rho} vs {want}");
    }

    #[test]
    fn groups_must_cover_the_players() {
        assert!(check_groups_cover(&[0..1, 1..2], 1, 2).is_ok());
        assert_eq!(
            check_groups_cover(std::slice::from_ref(&(0..2)), 1, 2)
                .unwrap_err()
                .field,
            "[0].coords"
        );
        let e = check_groups_cover(std::slice::from_ref(&(0..1)), 1, 2).unwrap_err();
        assert!(e.message.contains("coordinate 1 (player y)"), "{e}");
        assert!(game(GameUpdate::Alternating, GameMethod::Gda)
            .check_players(None, "quadratic")
            .is_err());
    }
}
