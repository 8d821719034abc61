//! One place per kind: the `kind`-tagged tables of a sweep file (landscapes,
//! optimizers, schedules, noise models) are enums declared by [`kinds!`], one
//! line per kind. Everything else about a kind (its fields and defaults, its
//! validation, what it builds) lives in the kind's own file, behind the
//! family's trait; the enum only dispatches.
//!
//! Parsing reads `kind` first and then deserializes the rest of the table
//! into that kind's spec, tracking the path of the failing field. serde's
//! internally tagged enums buffer the table and lose that path (a bad `dim`
//! was reported as `landscape[0]`, not `landscape[0].dim`); here the inner
//! path travels in the error message between two [`PATH_MARK`]s and
//! [`crate::config::Reporter`] joins it to the table's own path.
//!
//! Serialization is serde's internally tagged form, unchanged, so run ids (a
//! hash of each resolved table's canonical JSON) stay what they were.
//!
//! Documentation: every registered kind implements [`Documented`] next to its
//! spec struct, and the macro collects them into `docs()` ([`KindDoc`]). The
//! fields and defaults are not written by hand: [`crate::reference`] derives
//! them by resolving the kind's `EXAMPLE`.

use crate::error::SpecError;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A kind's documentation, written in the kind's own file next to its spec
/// struct. Fields and defaults are derived from the code, not written here.
pub trait Documented {
    /// What the kind is: one or two sentences, with its formula.
    const SUMMARY: &'static str;
    /// The library (and function) whose convention it follows.
    const CONVENTION: &'static str;
    /// A TOML table body (without `kind`) holding only the required fields.
    const EXAMPLE: &'static str;
    /// Other minimal table bodies, for a kind where a field of `EXAMPLE` can
    /// be replaced by another (exponential's `half_life` instead of
    /// `gamma`). A field is required only when every example holds it;
    /// one that some examples hold and others do not is required unless one
    /// of the fields replacing it is given.
    const ALTERNATIVES: &'static [&'static str] = &[];
}

/// The documentation of one kind of a family, as collected by `docs()`.
#[derive(Debug, Clone, Copy)]
pub struct KindDoc {
    pub kind: &'static str,
    pub summary: &'static str,
    pub convention: &'static str,
    pub example: &'static str,
    /// [`Documented::ALTERNATIVES`].
    pub alternatives: &'static [&'static str],
    /// Parses a table body of kind `kind` (the body without its `kind`
    /// line), validates it and returns its fields as JSON, every default
    /// filled in.
    pub resolve: fn(&str, &str) -> Result<serde_json::Value, String>,
}

impl KindDoc {
    /// A kind of a [`kinds!`] enum: `S` is its spec struct.
    pub fn of<S: Documented>(
        kind: &'static str,
        resolve: fn(&str, &str) -> Result<serde_json::Value, String>,
    ) -> Self {
        Self {
            kind,
            summary: S::SUMMARY,
            convention: S::CONVENTION,
            example: S::EXAMPLE,
            alternatives: S::ALTERNATIVES,
            resolve,
        }
    }
}

/// Parses `src` as a `T`, validates it and serializes it back to JSON.
pub fn resolve<T: DeserializeOwned + Serialize>(
    src: &str,
    validate: impl Fn(&T) -> Result<(), SpecError>,
) -> Result<serde_json::Value, String> {
    let spec: T = toml::from_str(src).map_err(|e| e.message().to_string())?;
    validate(&spec).map_err(|e| e.to_string())?;
    serde_json::to_value(&spec).map_err(|e| e.to_string())
}

/// [`resolve`] for one variant of a plain serde enum tagged by `kind`
/// (noise models, init forms): the `kind` is put back before parsing and
/// taken out of the result.
pub fn resolve_tagged<T: DeserializeOwned + Serialize>(
    kind: &str,
    body: &str,
    validate: impl Fn(&T) -> Result<(), SpecError>,
) -> Result<serde_json::Value, String> {
    let mut value = resolve(&format!("kind = \"{kind}\"\n{body}"), validate)?;
    if let Some(fields) = value.as_object_mut() {
        fields.remove("kind");
    }
    Ok(value)
}

/// Delimits a field path carried inside an error message.
pub const PATH_MARK: char = '\u{E000}';

/// Splits a table into its `kind` and the remaining fields.
pub fn split_kind(value: toml::Value, kinds: &[&str]) -> Result<(String, toml::Value), String> {
    let toml::Value::Table(mut table) = value else {
        return Err(format!("expected a table with a `kind` field, got {value}"));
    };
    match table.remove("kind") {
        Some(toml::Value::String(kind)) => Ok((kind, toml::Value::Table(table))),
        Some(other) => Err(mark(
            "kind",
            &format!(
                "expected a string naming one of {}, got {other}",
                quoted(kinds)
            ),
        )),
        None => Err(mark("kind", "missing field `kind`")),
    }
}

/// The message for a `kind` that is not registered (serde's wording).
pub fn unknown_kind(kind: &str, kinds: &[&str]) -> String {
    mark(
        "kind",
        &format!(
            "unknown variant `{kind}`, expected one of {}",
            quoted(kinds)
        ),
    )
}

fn quoted(kinds: &[&str]) -> String {
    kinds
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Deserializes a kind's fields, carrying the failing field's path.
pub fn parse_fields<T: DeserializeOwned>(value: toml::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // toml's own errors end with "in `field`", which the path now says.
        let message = message
            .lines()
            .filter(|l| !l.trim_start().starts_with("in `"))
            .collect::<Vec<_>>()
            .join(" ");
        let path = if path == "." { String::new() } else { path };
        nest(&path, message.trim())
    })
}

/// Prefixes `message` with the field path `path`, joining it to a path the
/// message already carries (a nested kind-tagged table).
fn nest(path: &str, message: &str) -> String {
    match split_marked(message) {
        Some((inner, rest)) => mark(&join(path, &inner), &rest),
        None => mark(path, message),
    }
}

fn mark(path: &str, message: &str) -> String {
    if path.is_empty() {
        message.to_string()
    } else {
        format!("{PATH_MARK}{path}{PATH_MARK}{message}")
    }
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}.{b}"),
    }
}

/// Splits a message into the field path it carries and the rest.
pub fn split_marked(message: &str) -> Option<(String, String)> {
    let rest = message.strip_prefix(PATH_MARK)?;
    let (path, rest) = rest.split_once(PATH_MARK)?;
    Some((path.to_string(), rest.to_string()))
}

/// Declares a kind-tagged enum: `Variant(Spec) = "name"` per line. Generates
/// the enum (serialized with `kind`), `KINDS`, `kind_name`, `spec()` (the
/// kind behind the family's trait), path-keeping deserialization and
/// `docs()` (every spec must implement [`Documented`]).
#[macro_export]
macro_rules! kinds {
    (@dispatch $Enum:ident, $Trait:path, $variants:tt) => {};
    (@dispatch $Enum:ident, $Trait:path, $variants:tt static dispatch { $($methods:tt)* }) => {
        $crate::kinds!(@forward $Enum, $Trait, $variants $($methods)*);
    };
    (@forward $Enum:ident, $Trait:path, $variants:tt) => {};
    (@forward $Enum:ident, $Trait:path, $variants:tt
        $(#[$fmeta:meta])* fn $method:ident(&self, $arg:ident: $argty:ty) -> $ret:ty; $($rest:tt)*) => {
        $crate::kinds!(@method $Enum, $Trait, $variants, $(#[$fmeta])* $method, $arg, $argty, $ret);
        $crate::kinds!(@forward $Enum, $Trait, $variants $($rest)*);
    };
    (@method $Enum:ident, $Trait:path, [$($Variant:ident $Spec:ty),+],
        $(#[$fmeta:meta])* $method:ident, $arg:ident, $argty:ty, $ret:ty) => {
        impl $Enum {
            $(#[$fmeta])*
            #[inline]
            pub fn $method(&self, $arg: $argty) -> $ret {
                match self { $(Self::$Variant(s) => <$Spec as $Trait>::$method(s, $arg),)+ }
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $Enum:ident: dyn $Trait:path {
            $( $(#[$vmeta:meta])* $Variant:ident($Spec:ty) = $name:literal, )+
        }
        // Optionally `static dispatch { fn m(&self, a: T) -> R; ... }`:
        // methods called in the step loop, dispatched by a match on the kind
        // (inlined) rather than through `spec()`.
        $($dispatch:tt)*
    ) => {
        $crate::kinds!(@dispatch $Enum, $Trait, [$($Variant $Spec),+] $($dispatch)*);

        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        #[serde(tag = "kind")]
        $vis enum $Enum {
            $( $(#[$vmeta])* #[serde(rename = $name)] $Variant($Spec), )+
        }

        impl $Enum {
            /// Every registered kind, in registration order.
            pub const KINDS: &'static [&'static str] = &[$($name),+];

            /// The `kind` of this table.
            pub fn kind_name(&self) -> &'static str {
                match self { $(Self::$Variant(_) => $name,)+ }
            }

            /// The kind behind its family's trait.
            pub fn spec(&self) -> &dyn $Trait {
                match self { $(Self::$Variant(s) => s,)+ }
            }

            /// The kind behind its family's trait, mutably.
            pub fn spec_mut(&mut self) -> &mut dyn $Trait {
                match self { $(Self::$Variant(s) => s,)+ }
            }

            /// The documentation of every registered kind, in registration
            /// order.
            pub fn docs() -> Vec<$crate::registry::KindDoc> {
                vec![$(
                    $crate::registry::KindDoc::of::<$Spec>($name, |_, src| {
                        $crate::registry::resolve::<$Spec>(src, |s| <$Spec as $Trait>::validate(s))
                    }),
                )+]
            }
        }

        impl<'de> serde::Deserialize<'de> for $Enum {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                use serde::de::Error;
                let value = <toml::Value as serde::Deserialize>::deserialize(d)?;
                let (kind, fields) = $crate::registry::split_kind(value, Self::KINDS)
                    .map_err(D::Error::custom)?;
                match kind.as_str() {
                    $($name => $crate::registry::parse_fields(fields)
                        .map(Self::$Variant)
                        .map_err(D::Error::custom),)+
                    other => Err(D::Error::custom($crate::registry::unknown_kind(other, Self::KINDS))),
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::config::Plan;
    use std::path::Path;

    /// The field and line an invalid sweep file is reported at.
    fn error_at(body: &str) -> (String, Option<usize>) {
        let src = format!("name = \"e\"\nsteps = 5\n{body}");
        match Plan::from_source(Path::new("e.toml"), &src).err().unwrap() {
            crate::ValleyError::Invalid { field, line, .. } => (field, line),
            other => panic!("{other}"),
        }
    }

    const LANDSCAPE: &str = "[[landscape]]\nkind = \"quadratic\"\ndim = 2\neigenvalues = [1, 2]\n";
    const OPTIMIZER: &str = "[[optimizer]]\nkind = \"sgd\"\n";
    const SCHEDULE: &str = "[[schedule]]\nkind = \"constant\"\nlr = 0.1\n";

    /// Inside every family's kind-tagged tables, and inside nested ones, the
    /// error names the field itself, on its line.
    #[test]
    fn errors_name_the_field_inside_kind_tables() {
        let cases = [
            (
                format!("[[landscape]]\nkind = \"quadratic\"\ndim = -3\neigenvalues = [1]\n{OPTIMIZER}{SCHEDULE}"),
                "landscape[0].dim",
                5,
            ),
            (
                format!("[[landscape]]\nkind = \"rastrigin\"\ndim = 2\na = \"x\"\n{OPTIMIZER}{SCHEDULE}"),
                "landscape[0].a",
                6,
            ),
            (
                format!("{LANDSCAPE}[[optimizer]]\nkind = \"adam\"\nbeta1 = \"high\"\n{SCHEDULE}"),
                "optimizer[0].beta1",
                9,
            ),
            (
                format!("{LANDSCAPE}{OPTIMIZER}[[schedule]]\nkind = \"warmup\"\nwarmup_steps = 2\nthen = {{ kind = \"cosine\", lr = 0.1, total_steps = -1 }}\n"),
                "schedule[0].then.total_steps",
                12,
            ),
            (
                format!("{LANDSCAPE}{OPTIMIZER}[[schedule]]\nkind = \"sequential\"\nmilestones = [2]\nschedules = [{{ kind = \"constant\", lr = 1 }}, {{ kind = \"step\", lr = 1, step_size = 0.5 }}]\n"),
                "schedule[0].schedules[1].step_size",
                12,
            ),
            (
                format!("{LANDSCAPE}{OPTIMIZER}[[schedule]]\nkind = \"cosine_annealing\"\nlr = 1\n"),
                "schedule[0].kind",
                10,
            ),
        ];
        for (body, field, line) in cases {
            assert_eq!(error_at(&body), (field.to_string(), Some(line)), "{body}");
        }
    }
}
