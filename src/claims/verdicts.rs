//! The verdict files of `valley claims`: verdicts.csv and verdicts.parquet
//! (columns [`VERDICT_COLUMNS`], one line per claim) and the verdict table
//! printed at the end of `valley claims` and `valley sweep`.

use super::Evaluation;
use crate::compare;
use crate::error::Result;
use polars::prelude::*;
use std::path::Path;

/// The columns of verdicts.csv and verdicts.parquet.
pub const VERDICT_COLUMNS: [&str; 11] = [
    "id",
    "statement",
    "file",
    "verdict",
    "metric",
    "effect",
    "ci_low",
    "ci_high",
    "n_pairs",
    "p_holm",
    "figure",
];

/// A verdict table: one line per claim.
pub fn to_table(evals: &[(String, Evaluation)]) -> String {
    let mut rows: Vec<Vec<String>> = vec![[
        "id",
        "verdict",
        "test",
        "metric",
        "candidate",
        "baseline",
        "expect",
        "deciding group",
        "effect",
        "ci",
        "n_pairs",
        "p_holm",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()];
    // Per claim, its row (the deciding group's numbers, all of one group),
    // then one line per group where there are several.
    let mut groups: Vec<Vec<String>> = Vec::new();
    for (_, e) in evals {
        let c = &e.claim;
        let [candidate, baseline, expect] = c.test.form.summary(c);
        rows.push(vec![
            c.id.clone(),
            e.verdict.as_str().into(),
            c.test.name().into(),
            c.metric_label(),
            candidate,
            baseline,
            expect,
            e.group.clone(),
            compare::sig(e.effect),
            format!("[{}, {}]", compare::sig(e.ci_low), compare::sig(e.ci_high)),
            e.group_pairs.to_string(),
            compare::p_text(e.p_holm),
        ]);
        groups.push(if e.table.len() > 1 {
            group_lines(e)
        } else {
            Vec::new()
        });
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|j| rows.iter().map(|r| r[j].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for (i, r) in rows.iter().enumerate() {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        s.push_str(cells.join("  ").trim_end());
        s.push('\n');
        for line in i.checked_sub(1).map_or(&[][..], |k| &groups[k][..]) {
            s.push_str("    ");
            s.push_str(line);
            s.push('\n');
        }
    }
    s
}

/// One line per group of a claim's evidence table: `header value, …`.
fn group_lines(e: &Evaluation) -> Vec<String> {
    let labels = e
        .header
        .len()
        .saturating_sub(e.claim.test.form.header().len());
    e.table
        .iter()
        .map(|row| {
            let (group, numbers) = row.split_at(labels.min(row.len()));
            let group: Vec<String> = e
                .header
                .iter()
                .zip(group)
                .map(|(h, v)| format!("{h} = {v}"))
                .collect();
            let numbers: Vec<String> = e.header[labels..]
                .iter()
                .zip(numbers)
                .map(|(h, v)| format!("{h} {v}"))
                .collect();
            format!("{}: {}", group.join(", "), numbers.join(", "))
        })
        .collect()
}

/// A claim's evaluation with the file it comes from and its figure (a PNG
/// relative to the output folder; empty with `--no-report`).
pub struct Entry {
    pub file: String,
    /// The sweep's name (its folder under the output folder).
    pub sweep: String,
    pub figure: String,
    pub eval: Evaluation,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A float for CSV: shortest round-trip form, empty for NaN.
fn csv_num(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        v.to_string()
    }
}

/// verdicts.csv, columns [`VERDICT_COLUMNS`].
pub fn verdicts_csv(entries: &[Entry]) -> String {
    let mut s = VERDICT_COLUMNS.join(",");
    s.push('\n');
    for en in entries {
        let e = &en.eval;
        let cells = [
            csv_field(&e.claim.id),
            csv_field(&e.claim.statement),
            csv_field(&en.file),
            e.verdict.as_str().to_string(),
            csv_field(&e.claim.metric_label()),
            csv_num(e.effect),
            csv_num(e.ci_low),
            csv_num(e.ci_high),
            e.n_pairs.to_string(),
            csv_num(e.p_holm),
            csv_field(&en.figure),
        ];
        s.push_str(&cells.join(","));
        s.push('\n');
    }
    s
}

/// verdicts.parquet, the same columns (floats as f64, NaN as null).
pub fn verdicts_frame(entries: &[Entry]) -> Result<DataFrame> {
    let text = |f: &dyn Fn(&Entry) -> String| -> Vec<String> { entries.iter().map(f).collect() };
    let num = |f: &dyn Fn(&Evaluation) -> f64| -> Vec<Option<f64>> {
        entries
            .iter()
            .map(|e| Some(f(&e.eval)).filter(|v| !v.is_nan()))
            .collect()
    };
    let c = VERDICT_COLUMNS;
    Ok(DataFrame::new(
        entries.len(),
        vec![
            Column::new(c[0].into(), text(&|e| e.eval.claim.id.clone())),
            Column::new(c[1].into(), text(&|e| e.eval.claim.statement.clone())),
            Column::new(c[2].into(), text(&|e| e.file.clone())),
            Column::new(c[3].into(), text(&|e| e.eval.verdict.as_str().into())),
            Column::new(c[4].into(), text(&|e| e.eval.claim.metric_label())),
            Column::new(c[5].into(), num(&|e| e.effect)),
            Column::new(c[6].into(), num(&|e| e.ci_low)),
            Column::new(c[7].into(), num(&|e| e.ci_high)),
            Column::new(
                c[8].into(),
                entries
                    .iter()
                    .map(|e| e.eval.n_pairs as u64)
                    .collect::<Vec<_>>(),
            ),
            Column::new(c[9].into(), num(&|e| e.p_holm)),
            Column::new(c[10].into(), text(&|e| e.figure.clone())),
        ],
    )?)
}

/// Writes `path` through a temporary file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Writes `OUT/verdicts.csv` and `OUT/verdicts.parquet` (`out`).
pub fn write(out: &Path, entries: &[Entry]) -> Result<()> {
    std::fs::create_dir_all(out)?;
    write_atomic(&out.join("verdicts.csv"), verdicts_csv(entries).as_bytes())?;
    let mut df = verdicts_frame(entries)?;
    let pq = out.join("verdicts.parquet");
    let tmp = pq.with_extension("tmp");
    {
        let file = std::fs::File::create(&tmp)?;
        ParquetWriter::new(file).finish(&mut df)?;
    }
    std::fs::rename(&tmp, &pq)?;
    Ok(())
}
