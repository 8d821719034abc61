//! The checks that pair an optimizer table with a game landscape (two
//! players, [`crate::optimizer::game`]): an update rule for two players
//! needs an optimizer whose gradient is taken at the players' parameters,
//! groups that are the players', a second player for `alternating`, and
//! transforms that act per player.

use super::plan::{ResolvedLandscape, ResolvedOptimizer};
use crate::error::SpecError;
use crate::optimizer::game::check_groups_cover;

/// Checks optimizer `o` against landscape `l`; the error names a field of
/// the optimizer table.
pub fn check(o: &ResolvedOptimizer, l: &ResolvedLandscape) -> Result<(), SpecError> {
    let spec = l.kind.spec();
    let players = spec.players();
    let with = || format!("with {} ({})", l.table, l.kind.kind_name());
    if let Some(game) = &o.game {
        game.check_players(players, &format!("{} ({})", l.table, l.kind.kind_name()))
            .map_err(|e| e.within("game"))?;
    }
    if players.is_none() && o.game.is_none() {
        return Ok(());
    }
    if o.kind.spec().has_eval_point() {
        return Err(SpecError::new(
            "kind",
            format!(
                "`{}` has no game semantics {}: its gradient is taken at an interpolation of its iterates, not at the players' parameters (use sgd, adam, adamw or rmsprop)",
                o.kind.kind_name(),
                with()
            ),
        ));
    }
    for (field, set) in [
        ("compute_dtype", o.precision.compute_dtype.is_some()),
        ("grad_dtype", o.precision.grad_dtype.is_some()),
    ] {
        if set {
            return Err(SpecError::new(
                field,
                format!("is not supported {} (two players' update rule)", with()),
            ));
        }
    }
    if o.noise.kind_name() == "curvature" {
        return Err(SpecError::new(
            "noise.kind",
            format!(
                "\"curvature\" reads the whole Hessian diagonal; {} each player draws its own noise (use gaussian, student_t, langevin or dp)",
                with()
            ),
        ));
    }
    if let (Some(split), Some(groups)) = (players, &o.groups) {
        let dim = spec.dim();
        let ranges: Vec<_> = groups
            .segments(dim)
            .iter()
            .filter(|s| s.group.is_some())
            .map(|s| s.range())
            .collect();
        check_groups_cover(&ranges, split, dim).map_err(|e| {
            SpecError::new(e.field, format!("{} {}", e.message, with())).within("groups")
        })?;
    }
    Ok(())
}
