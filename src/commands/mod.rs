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

/// Every table `section` of a small file: the one `[section]`, or each of
/// its `[[section]]` tables, with its path (`schedule[1]`).
pub(crate) fn all_tables(
    file: &Path,
    src: &str,
    section: &str,
) -> Result<Vec<(String, toml::Table)>> {
    let doc = crate::config::parse_document(file, src)?;
    let missing = || {
        ValleyError::invalid(
            file,
            None,
            section,
            format!("no [{section}] table in the file"),
        )
    };
    match doc.get(section).ok_or_else(missing)? {
        toml::Value::Table(t) => Ok(vec![(section.to_string(), t.clone())]),
        toml::Value::Array(a) => {
            let tables: Vec<(String, toml::Table)> = a
                .iter()
                .enumerate()
                .filter_map(|(i, v)| Some((format!("{section}[{i}]"), v.as_table()?.clone())))
                .collect();
            if tables.is_empty() {
                return Err(missing());
            }
            Ok(tables)
        }
        _ => Err(missing()),
    }
}

/// A table's label: its `name`, else its `kind`.
pub(crate) fn table_label(t: &toml::Table) -> String {
    t.get("name")
        .or_else(|| t.get("kind"))
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string()
}

/// The one table `section` of a small file (`[schedule]`), or the one of its
/// `[[section]]` tables labelled `name` (or the only one).
pub(crate) fn single_table(
    file: &Path,
    src: &str,
    section: &str,
    name: Option<&str>,
) -> Result<(String, toml::Table)> {
    let tables = all_tables(file, src, section)?;
    let single = tables.len() == 1 && tables[0].0 == section;
    let pick = match (name, tables.len()) {
        _ if single => tables.first(),
        (None, 1) => tables.first(),
        (None, _) => None,
        (Some(n), _) => tables.iter().find(|(_, t)| table_label(t) == n),
    };
    match pick {
        Some(found) => Ok(found.clone()),
        None => {
            let labels: Vec<String> = tables.iter().map(|(_, t)| table_label(t)).collect();
            Err(ValleyError::invalid(
                file,
                line_of(src, section),
                section,
                format!(
                    "{} [[{section}]] tables ({}): pick one with --name",
                    tables.len(),
                    labels.join(", ")
                ),
            ))
        }
    }
}
