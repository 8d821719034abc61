//! The layering of the crate, checked on its own source (test only).
//!
//! Top-level modules stand in layers; a module may import (`use crate::…`,
//! or a path `crate::…` anywhere in non-test code) only modules of its own
//! layer or below, and the imports between top-level modules have no cycle:
//!
//! | layer | modules |
//! |---|---|
//! | 7 | cli, commands, reference (the command line and its generated reference) |
//! | 6 | report, plot, claims, compare (what is read back from results) |
//! | 5 | results, estimate (a results folder; what a sweep will cost) |
//! | 4 | runner (the run loop) |
//! | 3 | config (the sweep file, the plan, run counting) |
//! | 2 | optimizer, curvature |
//! | 1 | schedule, landscape |
//! | 0 | error, rng, vecmath, registry, schema, stats, memory |
//!
//! The same scan holds two size rules: no file of `src/` over
//! [`MAX_FILE_LINES`] lines, no non-test function over [`MAX_FN_LINES`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: &[&[&str]] = &[
    &[
        "error", "rng", "vecmath", "registry", "schema", "stats", "memory",
    ],
    &["schedule", "landscape"],
    &["optimizer", "curvature"],
    &["config"],
    &["runner"],
    &["results", "estimate"],
    &["report", "plot", "claims", "compare"],
    &["cli", "commands", "reference"],
];

/// Longest file of `src/`, in lines.
pub const MAX_FILE_LINES: usize = 1000;
/// Longest non-test function, in lines (signature to closing brace).
pub const MAX_FN_LINES: usize = 120;

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The text with comments, string and character literals blanked (newlines
/// kept, so line numbers hold).
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, s: &[u8]| {
        out.extend(s.iter().map(|&c| if c == b'\n' { b'\n' } else { b' ' }));
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"/*") {
            let (mut depth, mut j) = (0usize, 0usize);
            loop {
                if j >= rest.len() {
                    break;
                }
                if rest[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &rest[..j]);
            i += j;
        } else if let Some(len) = raw_string_len(rest) {
            blank(&mut out, &rest[..len]);
            i += len;
        } else if rest[0] == b'"' || rest.starts_with(b"b\"") {
            let start = usize::from(rest[0] == b'b');
            let mut j = start + 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let len = (j + 1).min(rest.len());
            out.extend_from_slice(&rest[..start]);
            blank(&mut out, &rest[start..len]);
            i += len;
        } else if rest[0] == b'\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            let len = if rest.get(1) == Some(&b'\\') {
                rest.iter().skip(2).position(|&c| c == b'\'').map(|p| p + 3)
            } else if rest.get(2) == Some(&b'\'') {
                Some(3)
            } else {
                // Multi-byte UTF-8 char literal, or a lifetime.
                let ch_len = std::str::from_utf8(&rest[1..rest.len().min(5)])
                    .ok()
                    .or_else(|| {
                        (2..=5)
                            .rev()
                            .find_map(|k| std::str::from_utf8(rest.get(1..k)?).ok())
                    })
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                (rest.get(1 + ch_len) == Some(&b'\'')).then_some(ch_len + 2)
            };
            match len {
                Some(len) => {
                    blank(&mut out, &rest[..len]);
                    i += len;
                }
                None => {
                    out.push(b'\'');
                    i += 1;
                }
            }
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Length of a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) at the start.
fn raw_string_len(s: &[u8]) -> Option<usize> {
    let start = if s.starts_with(b"br") {
        2
    } else if s.starts_with(b"r") {
        1
    } else {
        return None;
    };
    let hashes = s[start..].iter().take_while(|&&c| c == b'#').count();
    if s.get(start + hashes) != Some(&b'"') {
        return None;
    }
    let mut close = vec![b'"'];
    close.extend(std::iter::repeat_n(b'#', hashes));
    let body = start + hashes + 1;
    let end = s[body..].windows(close.len()).position(|w| w == close)?;
    Some(body + end + close.len())
}

/// Index just past the `}` matching the first `{` at or after `from`.
fn matching_brace(code: &[u8], from: usize) -> Option<usize> {
    let open = from + code[from..].iter().position(|&c| c == b'{')?;
    let mut depth = 0usize;
    for (k, &c) in code.iter().enumerate().skip(open) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The code without items marked `#[cfg(test)]` (a `mod x;` line or a
/// braced item).
fn without_tests(code: &str) -> String {
    let mut b = code.as_bytes().to_vec();
    let mark = b"#[cfg(test)]";
    let mut from = 0;
    while let Some(p) = b[from..].windows(mark.len()).position(|w| w == mark) {
        let at = from + p;
        let after = at + mark.len();
        let semi = b[after..]
            .iter()
            .position(|&c| c == b';')
            .map(|k| after + k);
        let brace = b[after..]
            .iter()
            .position(|&c| c == b'{')
            .map(|k| after + k);
        let end = match (semi, brace) {
            (Some(s), Some(o)) if s < o => s + 1,
            (Some(s), None) => s + 1,
            _ => matching_brace(&b, after).unwrap_or(b.len()),
        };
        for c in &mut b[at..end] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        from = end;
    }
    String::from_utf8(b).expect("blanking keeps UTF-8")
}

/// Top-level modules named by `crate::…` paths and `use crate::{…}` groups.
fn imports(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = code;
    while let Some(p) = rest.find("crate::") {
        let before = rest[..p].chars().last();
        rest = &rest[p + "crate::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.trim_start().strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (c == ',' && depth == 1) {
                    out.insert(ident(&item));
                    item.clear();
                    if depth == 0 {
                        break;
                    }
                } else {
                    item.push(c);
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

struct Source {
    path: PathBuf,
    module: String,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).unwrap();
                let first = rel.components().next().unwrap().as_os_str();
                let module = first.to_string_lossy().trim_end_matches(".rs").to_string();
                let text = std::fs::read_to_string(&path).unwrap();
                out.push(Source { path, module, text });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Test-only files: declared under `#[cfg(test)]` by their parent.
fn is_test_file(path: &Path) -> bool {
    let name = path.file_stem().unwrap().to_string_lossy();
    name == "tests" || name.ends_with("_tests") || name == "architecture"
}

/// Edges between top-level modules, each with one file that makes it.
fn module_graph(srcs: &[Source]) -> BTreeMap<(String, String), PathBuf> {
    let modules: BTreeSet<&str> = srcs.iter().map(|s| s.module.as_str()).collect();
    let mut edges = BTreeMap::new();
    for s in srcs {
        if is_test_file(&s.path) || matches!(s.module.as_str(), "lib" | "main") {
            continue;
        }
        let code = without_tests(&code_only(&s.text));
        for m in imports(&code) {
            if m != s.module && modules.contains(m.as_str()) {
                edges
                    .entry((s.module.clone(), m))
                    .or_insert_with(|| s.path.clone());
            }
        }
    }
    edges
}

#[test]
fn every_top_level_module_has_a_layer() {
    let missing: BTreeSet<String> = sources()
        .into_iter()
        .map(|s| s.module)
        .filter(|m| !matches!(m.as_str(), "lib" | "main" | "architecture"))
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a layer in src/architecture.rs: {missing:?}"
    );
}

#[test]
fn no_module_imports_a_higher_layer() {
    let upward: Vec<String> = module_graph(&sources())
        .into_iter()
        .filter_map(|((from, to), path)| {
            let (a, b) = (layer_of(&from)?, layer_of(&to)?);
            (b > a).then(|| {
                format!(
                    "{from} (layer {a}) imports {to} (layer {b}) in {}",
                    path.display()
                )
            })
        })
        .collect();
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn top_level_modules_import_each_other_without_a_cycle() {
    let edges = module_graph(&sources());
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        next.entry(from).or_default().push(to);
    }
    // Depth-first search for a back edge; report the cycle it closes.
    fn visit<'a>(
        m: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(i) = path.iter().position(|p| *p == m) {
            let mut cycle = path[i..].to_vec();
            cycle.push(m);
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m);
        for n in next.get(m).into_iter().flatten() {
            if let Some(c) = visit(n, next, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m);
        None
    }
    let mut done = BTreeSet::new();
    for m in next.keys() {
        if let Some(cycle) = visit(m, &next, &mut Vec::new(), &mut done) {
            let files: Vec<String> = cycle
                .windows(2)
                .map(|w| {
                    let p = &edges[&(w[0].to_string(), w[1].to_string())];
                    format!("{} -> {} ({})", w[0], w[1], p.display())
                })
                .collect();
            panic!("import cycle: {}", files.join(", "));
        }
    }
}

#[test]
fn files_and_functions_stay_short() {
    let mut long = Vec::new();
    for s in sources() {
        let lines = s.text.lines().count();
        if lines > MAX_FILE_LINES {
            long.push(format!("{}: {lines} lines", s.path.display()));
        }
        if is_test_file(&s.path) {
            continue;
        }
        let code = without_tests(&code_only(&s.text));
        let bytes = code.as_bytes();
        let mut from = 0;
        while let Some(p) = code[from..].find("fn ") {
            let at = from + p;
            from = at + 3;
            let word_start =
                at == 0 || !bytes[at - 1].is_ascii_alphanumeric() && bytes[at - 1] != b'_';
            if !word_start {
                continue;
            }
            // A declaration without a body (trait method, fn pointer type).
            let semi = code[at..].find(';').map(|k| at + k);
            let brace = code[at..].find('{').map(|k| at + k);
            if !matches!((semi, brace), (Some(s), Some(b)) if b < s)
                && !matches!((semi, brace), (None, Some(_)))
            {
                continue;
            }
            let Some(end) = matching_brace(bytes, at) else {
                continue;
            };
            let first = code[..at].matches('\n').count() + 1;
            let last = code[..end].matches('\n').count() + 1;
            if last - first + 1 > MAX_FN_LINES {
                let name: String = code[at + 3..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                long.push(format!(
                    "{}:{first}: fn {name} is {} lines",
                    s.path.display(),
                    last - first + 1
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "over {MAX_FILE_LINES} lines a file or {MAX_FN_LINES} a function:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_scanner_reads_paths_groups_and_skips_comments_and_tests() {
    let src = r##"
use crate::{config::Plan, landscape::{self, X}};
// use crate::plot;
/// [`crate::report`]
fn f() -> &'static str { let c = '{'; let s = "crate::claims {"; let r = r#"crate::cli"#; crate::stats::median(&[]) }
#[cfg(test)]
mod tests { use crate::commands; }
#[cfg(test)]
mod more_tests;
"##;
    let code = without_tests(&code_only(src));
    let found: Vec<String> = imports(&code).into_iter().collect();
    assert_eq!(found, ["config", "landscape", "stats"]);
    assert_eq!(code.lines().count(), src.lines().count());
}
