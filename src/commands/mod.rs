//! One file per command. Each resolves its raw arguments, does its work, and
//! returns a [`crate::ValleyError`]; invalid input writes nothing.

pub mod claims;
pub mod compare;
pub mod inspect;
pub mod merge;
pub mod plot;
pub mod reference;
pub mod report;
pub mod schedule;
pub mod sweep;

use crate::config::locate::line_of;
use crate::error::{Result, ValleyError};
use std::io::Write;
use std::path::Path;

/// Writes a command's output to stdout. A reader that has gone away
/// (`valley ... | head`) ends the output quietly, as in other command-line
/// tools, instead of the panic of `print!`; other write errors are errors.
pub(crate) fn print_out(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// The one table `section` of a small file (`[schedule]`), or the one of its
/// `[[section]]` tables labelled `name` (or the only one).
pub(crate) fn single_table(
    file: &Path,
    src: &str,
    section: &str,
    name: Option<&str>,
) -> Result<(String, toml::Table)> {
    let doc = crate::config::parse_document(file, src)?;
    let missing = || {
        ValleyError::invalid(
            file,
            None,
            section,
            format!("no [{section}] table in the file"),
        )
    };
    let (prefix, table) = match doc.get(section).ok_or_else(missing)? {
        toml::Value::Table(t) => (section.to_string(), t.clone()),
        toml::Value::Array(a) => {
            let tables: Vec<(usize, &toml::Table)> = a
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.as_table().map(|t| (i, t)))
                .collect();
            let label = |t: &toml::Table| {
                t.get("name")
                    .or_else(|| t.get("kind"))
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let pick = match (name, tables.len()) {
                (None, 1) => Some(tables[0]),
                (None, _) => None,
                (Some(n), _) => tables.iter().copied().find(|(_, t)| label(t) == n),
            };
            let Some((i, t)) = pick else {
                let labels: Vec<String> = tables.iter().map(|(_, t)| label(t)).collect();
                return Err(ValleyError::invalid(
                    file,
                    line_of(src, section),
                    section,
                    format!(
                        "{} [[{section}]] tables ({}): pick one with --name",
                        tables.len(),
                        labels.join(", ")
                    ),
                ));
            };
            (format!("{section}[{i}]"), t.clone())
        }
        _ => return Err(missing()),
    };
    Ok((prefix, table))
}
