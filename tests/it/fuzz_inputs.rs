//! Fuzzing the other inputs of a sweep (issue 23): the data file of a data
//! landscape, mutated byte by byte and cell by cell, the command line's
//! flags with hostile values, and the formulas of expression landscapes
//! (issue 26). The invariant is the one of `fuzz.rs`: exit 0
//! or exit 2 with a message naming the file (or the flag), no panic, no
//! hang, and nothing written by a refused run. Fixed seeds, a few dozen
//! cases each (CI); `VALLEY_FUZZ_CASES` runs more.

use crate::common::{command, stderr, written};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const SECONDS: u64 = 20;

const SWEEP: &str = "name = \"d\"\nsteps = 20\nseeds = 2\nhessian = false\n\
[[landscape]]\nkind = \"least_squares\"\ndata = { file = \"data.csv\", target = \"y\" }\n\
[[optimizer]]\nkind = \"sgd\"\n[[schedule]]\nkind = \"constant\"\nlr = 0.01\n";

fn cases() -> u32 {
    std::env::var("VALLEY_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

/// Runs valley with `args` in `dir` under a deadline: (exit code, stderr).
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let clock = Instant::now();
    let mut child = command(args, dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the valley binary starts");
    while child.try_wait().unwrap().is_none() {
        if clock.elapsed() > Duration::from_secs(SECONDS) {
            child.kill().unwrap();
            let _ = child.wait();
            return (None, format!("timed out after {SECONDS} s"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), stderr(&out))
}

/// A mutation of a CSV file's bytes or cells.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Cell(usize, usize, &'static str),
    DropColumn(usize),
    DuplicateLine(usize),
    Bom,
}

const CELLS: [&str; 14] = [
    "nan",
    "inf",
    "-inf",
    "1e308",
    "1e155",
    "-1e200",
    "",
    "x",
    "1,2",
    "\"",
    "0x10",
    "1e-320",
    "99999999999999999999999",
    "  3 ",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..2000usize).prop_map(Mutation::Truncate),
        (0..2000usize, prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (0..30usize, 0..5usize, 0..CELLS.len())
            .prop_map(|(r, c, k)| Mutation::Cell(r, c, CELLS[k])),
        (0..5usize).prop_map(Mutation::DropColumn),
        (0..30usize).prop_map(Mutation::DuplicateLine),
        Just(Mutation::Bom),
    ]
}

fn apply(csv: &[u8], m: &Mutation) -> Vec<u8> {
    let text = String::from_utf8_lossy(csv).into_owned();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    match m {
        Mutation::Truncate(i) => csv[..(*i).min(csv.len())].to_vec(),
        Mutation::Insert(i, b) => {
            let i = (*i).min(csv.len());
            [&csv[..i], b.as_slice(), &csv[i..]].concat()
        }
        Mutation::Cell(r, c, v) => {
            let k = *r % lines.len().max(1);
            if let Some(line) = lines.get_mut(k) {
                let mut cells: Vec<&str> = line.split(',').collect();
                if !cells.is_empty() {
                    let k = *c % cells.len();
                    cells[k] = v;
                }
                *line = cells.join(",");
            }
            (lines.join("\n") + "\n").into_bytes()
        }
        Mutation::DropColumn(c) => {
            for line in &mut lines {
                let mut cells: Vec<&str> = line.split(',').collect();
                if cells.len() > 1 {
                    cells.remove(*c % cells.len());
                }
                *line = cells.join(",");
            }
            (lines.join("\n") + "\n").into_bytes()
        }
        Mutation::DuplicateLine(r) => {
            if !lines.is_empty() {
                let k = *r % lines.len();
                lines.insert(k, lines[k].clone());
            }
            (lines.join("\n") + "\n").into_bytes()
        }
        Mutation::Bom => [b"\xef\xbb\xbf".as_slice(), csv].concat(),
    }
}

/// One case: `sweep.toml` over `data` (bytes): dry run and sweep exit 0,
/// or 2 with a message that names one of `named` (the file or the flag at
/// fault), without a panic; a refusal writes nothing.
fn check(data: &[u8], args: &[&str], named: &[&str]) -> Result<(), String> {
    check_sweep(SWEEP, data, args, named)
}

/// [`check`] with the sweep file `sweep`.
fn check_sweep(sweep: &str, data: &[u8], args: &[&str], named: &[&str]) -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("sweep.toml"), sweep).unwrap();
    fs::write(tmp.path().join("data.csv"), data).unwrap();
    let (code, err) = run(tmp.path(), args);
    let fail = |what: String| {
        Err(format!(
            "{what}\n--- args {args:?}\n--- sweep.toml ---\n{sweep}\n--- data.csv ---\n{}\n--- stderr ---\n{err}",
            String::from_utf8_lossy(data)
        ))
    };
    if err.contains("panicked") {
        return fail("a panic".into());
    }
    match code {
        Some(0) => Ok(()),
        Some(2) => {
            if !named.iter().any(|n| err.contains(n)) {
                return fail(format!("exit 2 naming none of {named:?}"));
            }
            let files = written(tmp.path());
            let ours: Vec<_> = files
                .iter()
                .filter(|f| !matches!(f.as_str(), "sweep.toml" | "data.csv"))
                .collect();
            if ours.is_empty() {
                Ok(())
            } else {
                fail(format!("a refused run wrote {ours:?}"))
            }
        }
        other => fail(format!("exit code {other:?}")),
    }
}

fn runner(seed: u64) -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: 100,
        ..Config::default()
    })
}

#[test]
fn mutated_data_files_never_crash() {
    let csv =
        fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data/regression.csv"))
            .unwrap();
    let strategy = prop::collection::vec(mutation(), 1..4);
    let result = runner(20261207).run(&strategy, |ms| {
        let mut data = csv.clone();
        for m in &ms {
            data = apply(&data, m);
        }
        let named = ["data.csv", "sweep.toml"];
        check(&data, &["sweep", "sweep.toml", "--dry-run"], &named).map_err(TestCaseError::fail)?;
        check(&data, &["sweep", "sweep.toml", "--out", "r", "-q"], &named)
            .map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

const FLAG_VALUES: [&str; 12] = [
    "0",
    "-1",
    "1",
    "2",
    "abc",
    "",
    "99999999999999999999",
    "1/0",
    "3/2",
    "0/1",
    "1e9",
    "2/2",
];

#[test]
fn hostile_flags_never_crash() {
    let csv =
        fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data/regression.csv"))
            .unwrap();
    let flags = [
        "--threads",
        "--max-runs",
        "--max-memory",
        "--max-output",
        "--shard",
    ];
    let strategy = prop::collection::vec((0..flags.len(), 0..FLAG_VALUES.len()), 1..4);
    let result = runner(20261208).run(&strategy, |picks| {
        let mut args = vec!["sweep", "sweep.toml", "--out", "r", "-q"];
        for (f, v) in &picks {
            args.push(flags[*f]);
            args.push(FLAG_VALUES[*v]);
        }
        let named: Vec<&str> = picks.iter().map(|(f, _)| flags[*f]).collect();
        check(&csv, &args, &named).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Formulas the expression fuzz starts from (issue 26).
const FORMULAS: [&str; 4] = [
    "sum(i, 0, d-1, 100*(x[i+1] - x[i]^2)^2 + (1 - x[i])^2)",
    "exp(-x0^2/2) * log(1 + x1^2) + tanh(x0*x1) - sqrt(1 + abs(x0))",
    "max(x0, x1)^2 + min(cos(x0), 0.5) + a*x0*x1",
    "prod(i, 0, d, 1 + x[i]^2/10) - 2^x0 / (1 + x1^2)",
];

/// Pieces an edit inserts: tokens of the language, and hostile ones.
const PIECES: [&str; 24] = [
    "(",
    ")",
    "[",
    "]",
    ",",
    "^",
    "**",
    "-",
    "/0",
    "x9",
    "x[",
    "i",
    "sum(",
    "log(",
    "sqrt(-1)",
    "1e999",
    "1e-320",
    "max(",
    "d",
    "a",
    "\\",
    "\"",
    "💥",
    "sum(i, 0, 100000000000, x0)",
];

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Insert(usize, usize),
    Replace(usize, usize),
}

/// One expression case: the sweep (dry run and real) exits 0, or 2 naming
/// sweep.toml (the field and column are in the message), nothing written.
#[test]
fn mutated_expressions_never_crash() {
    let edit = prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), 0..PIECES.len()).prop_map(|(a, b)| Edit::Insert(a, b)),
        (any::<usize>(), 0..PIECES.len()).prop_map(|(a, b)| Edit::Replace(a, b)),
    ];
    let strategy = (0..FORMULAS.len(), prop::collection::vec(edit, 1..4));
    let result = runner(20261209).run(&strategy, |(k, edits)| {
        let mut f: Vec<char> = FORMULAS[k].chars().collect();
        for e in edits {
            match e {
                Edit::Delete(at) if !f.is_empty() => {
                    f.remove(at % f.len());
                }
                Edit::Insert(at, p) => {
                    let at = at % (f.len() + 1);
                    f.splice(at..at, PIECES[p].chars());
                }
                Edit::Replace(at, p) if !f.is_empty() => {
                    let at = at % f.len();
                    f.splice(at..at + 1, PIECES[p].chars());
                }
                _ => {}
            }
        }
        let f: String = f.into_iter().collect();
        let sweep = format!(
            "name = \"e\"\nsteps = 20\nseeds = 2\nhessian = false\n[[landscape]]\nkind = \"expression\"\ndim = 2\nparams = {{ a = 0.5 }}\nf = \"{f}\"\n[[optimizer]]\nkind = \"sgd\"\n[[schedule]]\nkind = \"constant\"\nlr = 0.001\n"
        );
        let named = ["sweep.toml"];
        check_sweep(&sweep, b"", &["sweep", "sweep.toml", "--dry-run"], &named)
            .map_err(TestCaseError::fail)?;
        check_sweep(&sweep, b"", &["sweep", "sweep.toml", "--out", "r", "-q"], &named)
            .map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
