//! Sweep axes: any value written `{ sweep = [v1, v2, ...] }` becomes an axis
//! of the grid. A table's variants are the Cartesian product of its axes, in
//! the order the axes appear, the last varying fastest.
//!
//! An axis is named by its path (`schedule.then.lr`), or by the name given
//! as `{ sweep = [...], axis = "peak_lr" }` (`schedule.peak_lr`): fields at
//! different paths in different tables (a warm-up's `then.lr`, a step
//! decay's `lr`) then make one axis, and their runs pair on it.

use super::locate::{parse_path, Seg};
use crate::error::SpecError;
use toml::{Table, Value};

/// One axis of one table: the path of the field inside the table and its
/// values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub path: String,
    pub values: Vec<Value>,
    /// The name given with `axis = "..."`, if any.
    pub name: Option<String>,
}

impl Axis {
    /// The axis' name within its section: its given name, else its path.
    pub fn key(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.path)
    }
}

/// A valid axis name: a letter or `_`, then letters, digits and `_`.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The axes of `table`, depth first in key order.
pub fn find_axes(table: &Table) -> Result<Vec<Axis>, SpecError> {
    let mut out = Vec::new();
    for (k, v) in table {
        walk(v, &join("", k), &mut out)?;
    }
    Ok(out)
}

fn walk(v: &Value, path: &str, out: &mut Vec<Axis>) -> Result<(), SpecError> {
    match v {
        Value::Table(t)
            if t.contains_key("sweep") && t.keys().all(|k| k == "sweep" || k == "axis") =>
        {
            let name = match t.get("axis") {
                None => None,
                Some(Value::String(n)) if valid_name(n) => Some(n.clone()),
                Some(other) => {
                    return Err(SpecError::new(
                        format!("{path}.axis"),
                        format!(
                        "must be a name of letters, digits and `_` (as \"peak_lr\"), got {other}"
                    ),
                    ))
                }
            };
            if let Some(n) = &name {
                if let Some(a) = out.iter().find(|a| a.name.as_ref() == Some(n)) {
                    return Err(SpecError::new(
                        format!("{path}.axis"),
                        format!("axis `{n}` is already the axis of {} in this table", a.path),
                    ));
                }
            }
            match &t["sweep"] {
                Value::Array(a) if !a.is_empty() => {
                    out.push(Axis {
                        path: path.to_string(),
                        values: a.clone(),
                        name,
                    });
                    Ok(())
                }
                Value::Array(_) => Err(SpecError::new(path, "`sweep` needs at least one value")),
                other => Err(SpecError::new(
                    path,
                    format!("`sweep` must be an array of values, got {other}"),
                )),
            }
        }
        Value::Table(t) => {
            for (k, v) in t {
                walk(v, &join(path, k), out)?;
            }
            Ok(())
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                walk(v, &format!("{path}[{i}]"), out)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The value at `path` inside `table`, if present.
pub fn get_path<'a>(table: &'a Table, path: &str) -> Option<&'a Value> {
    let segs = parse_path(path);
    let mut cur: Option<&Value> = None;
    for (i, seg) in segs.iter().enumerate() {
        cur = match (seg, cur) {
            (Seg::Key(k), None) if i == 0 => table.get(k),
            (Seg::Key(k), Some(Value::Table(t))) => t.get(k),
            (Seg::Index(n), Some(Value::Array(a))) => a.get(*n),
            _ => None,
        };
        cur?;
    }
    cur
}

fn set_path(table: &mut Table, path: &str, value: Value) {
    let segs = parse_path(path);
    let Some((last, init)) = segs.split_last() else {
        return;
    };
    let mut cur: &mut Value = match init.first() {
        None => {
            if let Seg::Key(k) = last {
                table.insert(k.clone(), value);
            }
            return;
        }
        Some(Seg::Key(k)) => match table.get_mut(k) {
            Some(v) => v,
            None => return,
        },
        Some(Seg::Index(_)) => return,
    };
    for seg in &init[1..] {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Table(t)) => match t.get_mut(k) {
                Some(v) => v,
                None => return,
            },
            (Seg::Index(n), Value::Array(a)) => match a.get_mut(*n) {
                Some(v) => v,
                None => return,
            },
            _ => return,
        };
    }
    match (last, cur) {
        (Seg::Key(k), Value::Table(t)) => {
            t.insert(k.clone(), value);
        }
        (Seg::Index(n), Value::Array(a)) if *n < a.len() => a[*n] = value,
        _ => {}
    }
}

/// Every concrete table of `table`: one per point of its axes' product.
pub fn variants(table: &Table, axes: &[Axis]) -> Vec<Table> {
    let mut out = vec![table.clone()];
    for axis in axes {
        let mut next = Vec::with_capacity(out.len() * axis.values.len());
        for t in &out {
            for v in &axis.values {
                let mut c = t.clone();
                set_path(&mut c, &axis.path, v.clone());
                next.push(c);
            }
        }
        out = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(src: &str) -> Table {
        toml::from_str(src).unwrap()
    }

    #[test]
    fn nested_axes_expand_in_order() {
        let t = table(
            "kind = \"sgd\"\nmomentum = { sweep = [0.0, 0.9] }\nnoise = { kind = \"gaussian\", std = { sweep = [0.1, 0.2, 0.3] } }\n",
        );
        let axes = find_axes(&t).unwrap();
        let paths: Vec<_> = axes.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(paths, ["momentum", "noise.std"]);
        let v = variants(&t, &axes);
        assert_eq!(v.len(), 6);
        assert_eq!(get_path(&v[0], "momentum"), Some(&Value::Float(0.0)));
        assert_eq!(get_path(&v[5], "noise.std"), Some(&Value::Float(0.3)));
        assert_eq!(get_path(&v[5], "momentum"), Some(&Value::Float(0.9)));
    }

    #[test]
    fn axes_inside_arrays_of_tables() {
        let t = table("kind = \"sequential\"\nmilestones = [10]\nschedules = [{ kind = \"constant\", lr = { sweep = [1, 2] } }, { kind = \"constant\", lr = 3 }]\n");
        let axes = find_axes(&t).unwrap();
        assert_eq!(axes[0].path, "schedules[0].lr");
        let v = variants(&t, &axes);
        assert_eq!(get_path(&v[1], "schedules[0].lr"), Some(&Value::Integer(2)));
    }

    #[test]
    fn named_axes_keep_their_path_and_take_their_name() {
        let t = table("kind = \"warmup\"\nwarmup_steps = 10\nthen = { kind = \"constant\", lr = { sweep = [0.1, 0.3], axis = \"peak_lr\" } }\n");
        let axes = find_axes(&t).unwrap();
        assert_eq!(axes[0].path, "then.lr");
        assert_eq!(axes[0].key(), "peak_lr");
        let v = variants(&t, &axes);
        assert_eq!(get_path(&v[1], "then.lr"), Some(&Value::Float(0.3)));
        for (bad, field) in [
            ("lr = { sweep = [1], axis = \"peak lr\" }", "lr.axis"),
            ("lr = { sweep = [1], axis = 3 }", "lr.axis"),
            (
                "a = { sweep = [1], axis = \"x\" }\nb = { sweep = [2], axis = \"x\" }",
                "b.axis",
            ),
        ] {
            assert_eq!(find_axes(&table(bad)).unwrap_err().field, field, "{bad}");
        }
    }

    #[test]
    fn empty_sweep_is_an_error() {
        let t = table("lr = { sweep = [] }\n");
        assert_eq!(find_axes(&t).unwrap_err().field, "lr");
    }
}
