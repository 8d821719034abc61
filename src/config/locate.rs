//! Maps a field path (`schedule[1].gamma`) to its line in the sweep file, using
//! the spans of toml's `DeTable` parser. Used only to report errors.

use toml::de::{DeTable, DeValue};

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Parses a dotted path with indices: `schedule[1].then.gamma`.
pub fn parse_path(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(Seg::Key(rest[..i].to_string()));
            }
            rest = &rest[i..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let Some(end) = stripped.find(']') else { break };
                if let Ok(n) = stripped[..end].parse() {
                    out.push(Seg::Index(n));
                }
                rest = &stripped[end + 1..];
            }
        } else {
            out.push(Seg::Key(rest.to_string()));
        }
    }
    out
}

/// 1-based line of byte offset `pos` in `src`.
pub fn line_of_offset(src: &str, pos: usize) -> usize {
    src[..pos.min(src.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// The line of the deepest part of `path` found in `src`: the field itself if
/// present, else the nearest enclosing table (its header or first key).
pub fn line_of(src: &str, path: &str) -> Option<usize> {
    let doc = DeTable::parse(src).ok()?;
    let segs = parse_path(path);
    let mut best: Option<usize> = None;
    let mut table: Option<&DeTable> = Some(doc.get_ref());
    let mut value: Option<&DeValue> = None;
    for seg in &segs {
        let next = match (seg, table, value) {
            (Seg::Key(k), Some(t), _) => t
                .iter()
                .find(|(key, _)| key.get_ref().as_ref() == k.as_str())
                .map(|(key, v)| (key.span().start, v)),
            (Seg::Index(i), _, Some(DeValue::Array(a))) => a.get(*i).map(|v| (v.span().start, v)),
            _ => None,
        };
        let Some((pos, v)) = next else { break };
        best = Some(pos);
        value = Some(v.get_ref());
        table = match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
    }
    best.map(|pos| line_of_offset(src, pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "name = \"x\"\nsteps = 10\n\n[[schedule]]\nkind = \"step\"\nlr = 0.1\n\n[[schedule]]\nkind = \"exponential\"\ngamma = -1\nthen = { lr = 2 }\n";

    #[test]
    fn finds_fields_in_arrays_of_tables() {
        assert_eq!(line_of(SRC, "steps"), Some(2));
        assert_eq!(line_of(SRC, "schedule[0].lr"), Some(6));
        assert_eq!(line_of(SRC, "schedule[1].gamma"), Some(10));
        assert_eq!(line_of(SRC, "schedule[1].then.lr"), Some(11));
        // A missing field falls back to its table.
        assert!(matches!(line_of(SRC, "schedule[1].missing"), Some(8..=9)));
    }

    #[test]
    fn parses_paths() {
        assert_eq!(
            parse_path("schedule[1].schedules[0].lr"),
            vec![
                Seg::Key("schedule".into()),
                Seg::Index(1),
                Seg::Key("schedules".into()),
                Seg::Index(0),
                Seg::Key("lr".into())
            ]
        );
    }
}
