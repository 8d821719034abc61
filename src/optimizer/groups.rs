//! Parameter groups, with PyTorch's `param_groups` semantics: coordinate
//! ranges with their own learning rate and optimizer fields (field `groups`
//! of an `[[optimizer]]` table; see docs/precision.md).
//!
//! - A list of groups: `groups = [{ coords = [0, 40], lr_scale = 0.1 }, ...]`.
//!   `coords = [a, b]` is the half-open range a..b. The group's lr is the
//!   run's schedule times `lr_scale` (default 1), or `lr_scale` times its own
//!   `schedule`, which overrides the run's (as `LambdaLR` with one lambda per
//!   group). Any other field overrides the optimizer's field of that name
//!   (`momentum`, `weight_decay`, `beta1`, ...), as a PyTorch group may.
//!   Coordinates in no group use the table's own fields and the run's lr.
//!   Groups may not overlap nor reach past the landscape's dimension.
//! - Layer-wise decay (ULMFiT, Howard and Ruder 2018):
//!   `groups = { blocks = 5, lr_decay = 2.6 }` splits the coordinates into
//!   `blocks` contiguous blocks (as `numpy.array_split`: the first `dim %
//!   blocks` blocks one coordinate longer); the last block (the head) gets the
//!   run's lr and block k the lr divided by lr_decay^(blocks − 1 − k).
//!
//! Every optimizer here (SGD, Adam, AdamW, RMSprop) is coordinate-wise, so a
//! run with groups takes one optimizer step per group over the group's range
//! with the group's own state, which is exactly PyTorch's loop over groups.

use super::{Optimizer, OptimizerKind};
use crate::error::{check, SpecError};
use crate::schedule::Schedule;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// At most this many groups (or blocks): the trace keeps one lr per group
/// per row.
pub const MAX_GROUPS: usize = 1000;

/// The `groups` field of an optimizer table, resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Groups {
    List(Vec<Group>),
    Layerwise(Layerwise),
}

/// `{ blocks = n, lr_decay = r }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layerwise {
    pub blocks: usize,
    pub lr_decay: f64,
}

/// One explicit group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub coords: [usize; 2],
    pub lr_scale: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// The optimizer with the group's overridden fields (`None`: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<OptimizerKind>,
}

/// A contiguous range of coordinates updated alike in a run.
#[derive(Clone, Copy)]
pub struct Segment<'a> {
    pub start: usize,
    pub end: usize,
    /// Index of the explicit group (`None`: coordinates in no group).
    pub group: Option<usize>,
    pub lr_scale: f64,
    /// The group's own schedule (`None`: the run's).
    pub schedule: Option<&'a Schedule>,
    /// The group's optimizer (`None`: the table's).
    pub optimizer: Option<&'a dyn Optimizer>,
}

impl Segment<'_> {
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

impl Layerwise {
    /// Block k's coordinate range for `dim` coordinates.
    fn block(&self, k: usize, dim: usize) -> Range<usize> {
        let (base, extra) = (dim / self.blocks, dim % self.blocks);
        let start = k * base + k.min(extra);
        start..start + base + usize::from(k < extra)
    }
}

impl Groups {
    /// Number of explicit groups (the length of the trace's `group_lr`).
    pub fn count(&self) -> usize {
        match self {
            Groups::List(g) => g.len(),
            Groups::Layerwise(l) => l.blocks,
        }
    }

    /// Checks the fields that do not depend on the landscape.
    pub fn validate(&self) -> Result<(), SpecError> {
        match self {
            Groups::Layerwise(l) => {
                check::at_least("blocks", l.blocks as u64, 1)?;
                if l.blocks > MAX_GROUPS {
                    return Err(SpecError::new(
                        "blocks",
                        format!("must be at most {MAX_GROUPS}, got {}", l.blocks),
                    ));
                }
                check::positive("lr_decay", l.lr_decay)
            }
            Groups::List(list) => {
                if list.is_empty() || list.len() > MAX_GROUPS {
                    return Err(SpecError::new(
                        "",
                        format!("needs 1 to {MAX_GROUPS} groups, got {}", list.len()),
                    ));
                }
                for (k, g) in list.iter().enumerate() {
                    check::non_negative(&format!("[{k}].lr_scale"), g.lr_scale)?;
                    if g.coords[0] >= g.coords[1] {
                        return Err(SpecError::new(
                            format!("[{k}].coords"),
                            format!(
                                "must be a half-open range [a, b] with a < b, got {:?}",
                                g.coords
                            ),
                        ));
                    }
                }
                let mut order: Vec<usize> = (0..list.len()).collect();
                order.sort_by_key(|&k| list[k].coords[0]);
                for w in order.windows(2) {
                    let (a, b) = (&list[w[0]], &list[w[1]]);
                    if b.coords[0] < a.coords[1] {
                        return Err(SpecError::new(
                            format!("[{}].coords", w[1]),
                            format!(
                                "{:?} overlaps group {} ({:?}): groups must be disjoint",
                                b.coords, w[0], a.coords
                            ),
                        ));
                    }
                }
                Ok(())
            }
        }
    }

    /// Checks the groups against a landscape of `dim` coordinates.
    pub fn validate_dim(&self, dim: usize) -> Result<(), SpecError> {
        match self {
            Groups::Layerwise(l) if l.blocks > dim => Err(SpecError::new(
                "blocks",
                format!("{} blocks for a landscape of {dim} coordinates", l.blocks),
            )),
            Groups::Layerwise(_) => Ok(()),
            Groups::List(list) => match list.iter().position(|g| g.coords[1] > dim) {
                Some(k) => Err(SpecError::new(
                    format!("[{k}].coords"),
                    format!(
                        "{:?} is out of range: the landscape has {dim} coordinates (0..{dim})",
                        list[k].coords
                    ),
                )),
                None => Ok(()),
            },
        }
    }

    /// The segments covering 0..dim in order: every group, and the gaps
    /// between them (coordinates in no group, with the table's defaults).
    pub fn segments(&self, dim: usize) -> Vec<Segment<'_>> {
        let plain = |start, end| Segment {
            start,
            end,
            group: None,
            lr_scale: 1.0,
            schedule: None,
            optimizer: None,
        };
        let mut out = Vec::new();
        match self {
            Groups::Layerwise(l) => {
                for k in 0..l.blocks {
                    let r = l.block(k, dim);
                    out.push(Segment {
                        group: Some(k),
                        lr_scale: 1.0 / l.lr_decay.powi((l.blocks - 1 - k) as i32),
                        ..plain(r.start, r.end)
                    });
                }
            }
            Groups::List(list) => {
                let mut order: Vec<usize> = (0..list.len()).collect();
                order.sort_by_key(|&k| list[k].coords[0]);
                let mut at = 0;
                for k in order {
                    let g = &list[k];
                    if g.coords[0] > at {
                        out.push(plain(at, g.coords[0]));
                    }
                    out.push(Segment {
                        start: g.coords[0],
                        end: g.coords[1],
                        group: Some(k),
                        lr_scale: g.lr_scale,
                        schedule: g.schedule.as_ref(),
                        optimizer: g.optimizer.as_ref().map(|o| o.spec()),
                    });
                    at = g.coords[1];
                }
                if at < dim {
                    out.push(plain(at, dim));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layerwise_blocks_split_as_numpy_array_split() {
        // numpy.array_split(range(11), 3) -> sizes 4, 4, 3.
        let g = Groups::Layerwise(Layerwise {
            blocks: 3,
            lr_decay: 2.0,
        });
        let s = g.segments(11);
        let ranges: Vec<_> = s.iter().map(|s| s.range()).collect();
        assert_eq!(ranges, [0..4, 4..8, 8..11]);
        let scales: Vec<_> = s.iter().map(|s| s.lr_scale).collect();
        assert_eq!(scales, [0.25, 0.5, 1.0]);
    }

    #[test]
    fn gaps_use_the_defaults() {
        let g = |a, b| Group {
            coords: [a, b],
            lr_scale: 0.5,
            schedule: None,
            optimizer: None,
        };
        let groups = Groups::List(vec![g(6, 8), g(2, 4)]);
        groups.validate().unwrap();
        let s = groups.segments(10);
        let got: Vec<_> = s.iter().map(|s| (s.range(), s.group)).collect();
        assert_eq!(
            got,
            [
                (0..2, None),
                (2..4, Some(1)),
                (4..6, None),
                (6..8, Some(0)),
                (8..10, None)
            ]
        );
        assert_eq!(groups.validate_dim(7).unwrap_err().field, "[0].coords");
        let bad = Groups::List(vec![g(0, 5), g(4, 6)]);
        assert_eq!(bad.validate().unwrap_err().field, "[1].coords");
    }
}
