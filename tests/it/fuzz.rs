//! Structured fuzzing of sweep files, as a test (cargo-fuzz needs nightly).
//!
//! proptest mutates valid sweep files (every `experiments/*.toml`, small
//! synthetic ones, and ones built from the registries that hold every
//! registered landscape, optimizer, schedule and noise kind): it deletes a field, swaps a value's type, puts in extreme numbers
//! (0, −1, ±1e308, "NaN" strings, 2⁶⁴, huge dims and counts), random kinds,
//! sweep axes and duplicated tables. Each mutant runs through the real binary
//! (`valley sweep FILE --dry-run`) in a temporary folder. The invariant:
//!
//! - exit code 0 or 2: never a panic (101), an abort (134) or a signal;
//! - on exit 2 the message names the file, and the same command without
//!   `--dry-run` also exits 2; nothing is written either way (the folder
//!   holds only the sweep file);
//! - each case finishes within [`CASE_SECONDS`].
//!
//! Normal runs (CI) try [`DEFAULT_CASES`] cases from a fixed seed. More:
//!
//!     VALLEY_FUZZ_CASES=5000 cargo test --release --test it fuzz::
//!
//! (`VALLEY_FUZZ_SEED=N` picks another seed; by default the long mode draws
//! a random one and prints it.) Failing cases are kept: proptest writes them
//! to `proptest-regressions/fuzz.txt`, replayed first on every run, and the
//! crashes found so far are explicit cases in [`regressions`].
//!
//! The fuzzer targets crashes, not size: it passes `--max-runs 100000` so
//! that a mutant with a legal but large grid does not spend a minute
//! building its plan (the default limit is tested in `tests/it/guards.rs`).

use crate::common::{command, setup, stderr, written};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestCaseError, TestRunner};
use std::path::Path;
use std::process::Stdio;
use std::sync::LazyLock;
use std::time::{Duration, Instant};
use toml::Value;
use valley::landscape::{InitSpec, LandscapeKind};
use valley::optimizer::noise::NoiseSpec;
use valley::optimizer::OptimizerKind;
use valley::registry::KindDoc;
use valley::schedule::Schedule;

const DEFAULT_CASES: u32 = 64;
/// Longest a case may take (dry-run, plus the run without it on exit 2).
const CASE_SECONDS: u64 = 15;

/// Small valid sweep files covering what `experiments/` does not.
const SYNTHETIC: &[&str] = &[
    r#"
name = "all_landscapes"
steps = 30
seeds = 2
trace_every = 5
hessian_every = 10

[[landscape]]
kind = "quadratic"
dim = 3
eigenvalues = [0.5, 1.0, 2.0]
rotate = true

[[landscape]]
kind = "muller_brown"

[[landscape]]
kind = "protein_ab"
sequence = "fibonacci:13"
dims = 3

[[landscape]]
kind = "wells"
dim = 2
generate = { count = 3, depth = [1.0, 2.0], width = [0.3, 0.8], radius = 3.0 }

[[optimizer]]
kind = "adamw"
weight_decay = 0.01

[[optimizer]]
kind = "rmsprop"
centered = true
noise = { kind = "student_t", std = 0.1, dof = 3.0 }

[[schedule]]
kind = "onecycle"
max_lr = 0.01
total_steps = 30
"#,
    r#"
name = "schedules"
steps = 40
seeds = [3, 7]

[[landscape]]
kind = "rastrigin"
dim = 2
init = { kind = "normal", std = 1.0 }

[[optimizer]]
kind = "sgd"
momentum = 0.9
nesterov = true
noise = { kind = "dp", clip = 1.0, multiplier = 0.5 }

[[schedule]]
kind = "warmup"
warmup_steps = 5
then = { kind = "cosine", lr = 0.01, total_steps = 35 }

[[schedule]]
name = "seq"
kind = "sequential"
milestones = [10]
schedules = [{ kind = "constant", lr = 0.01 }, { kind = "multistep", lr = 0.01, milestones = [5, 20] }]

[[schedule]]
kind = "cyclic"
base_lr = 0.001
max_lr = { sweep = [0.01, 0.02] }
step_size_up = 10

[[schedule]]
kind = "cosine_restarts"
lr = 0.01
T_0 = 10
T_mult = 2
"#,
    r#"
name = "wells_list"
steps = 20
hessian = false

[[landscape]]
kind = "wells"
dim = 2
wells = [{ center = [0.0, 0.0], depth = 1.0, width = 0.5 }, { center = [2.0, 0.0], depth = 2.0, width = 0.3 }]
init = { kind = "point", x = [0.5, 0.5] }

[[optimizer]]
kind = "adam"
noise = { kind = "curvature", scale = 0.1 }

[[schedule]]
kind = "polynomial"
lr = 0.01
total_steps = 20
power = 2.0
"#,
];

/// Crashes the fuzzer found, kept as explicit cases.
fn regressions() -> Vec<&'static str> {
    vec![
        // Built the Fibonacci word up to 10^12 letters before checking its
        // length (ran out of time or memory).
        "name = \"r\"\nsteps = 10\n[[landscape]]\nkind = \"protein_ab\"\nsequence = \"fibonacci:1000000000000\"\n[[optimizer]]\nkind = \"sgd\"\n[[schedule]]\nkind = \"constant\"\nlr = 0.1\n",
        // Accepted by --dry-run, then aborted allocating 10^11 coordinates.
        "name = \"r\"\nsteps = 10\n[[landscape]]\nkind = \"rastrigin\"\ndim = 100000000000\n[[optimizer]]\nkind = \"sgd\"\n[[schedule]]\nkind = \"constant\"\nlr = 0.1\n",
        // Aborted building the per-coordinate bounds of the mlp's default
        // init (1.28 TB) before any estimate.
        "name = \"m\"\nsteps = 10\n[[landscape]]\nkind = \"mlp\"\ndata = { n = 1024, d = 10000000000 }\n[[optimizer]]\nkind = \"sgd\"\n[[schedule]]\nkind = \"constant\"\nlr = 0.1\n",
    ]
}

/// The seed files: `experiments/*.toml`, `experiments/protein/*.toml`,
/// [`SYNTHETIC`] and the [`registered`] kinds.
fn seeds() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut paths: Vec<_> = [root.clone(), root.join("protein")]
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).expect("experiments/ is readable"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut out: Vec<Value> = paths
        .iter()
        .map(|p| toml::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();
    out.extend(
        SYNTHETIC
            .iter()
            .map(|s| toml::from_str::<Value>(s).unwrap()),
    );
    out.extend(
        registered()
            .iter()
            .map(|s| toml::from_str::<Value>(s).unwrap()),
    );
    out
}

/// Seed files from the registries, so that every kind is fuzzed from a
/// valid table of its own: every landscape, optimizer and schedule kind as
/// its documented example, and every noise model (its example) on a
/// data-defined landscape, which minibatch noise needs.
fn registered() -> Vec<String> {
    let tables = |section: &str, docs: Vec<KindDoc>| -> String {
        docs.iter()
            .map(|d| format!("[[{section}]]\nkind = \"{}\"\n{}\n", d.kind, d.example))
            .collect()
    };
    // Games (two players) take the optimizers with game semantics only:
    // they are a seed of their own, with an update rule.
    let is_game = |d: &KindDoc| {
        let text = format!("kind = \"{}\"\n{}", d.kind, d.example);
        toml::from_str::<LandscapeKind>(&text).is_ok_and(|k| k.spec().players().is_some())
    };
    let (games, others): (Vec<KindDoc>, Vec<KindDoc>) =
        LandscapeKind::docs().into_iter().partition(is_game);
    let every_kind = format!(
        "name = \"every_kind\"\nsteps = 20\n{}{}{}",
        tables("landscape", others),
        tables("optimizer", OptimizerKind::docs()),
        tables("schedule", Schedule::docs()),
    );
    let game_optimizers: String = OptimizerKind::docs()
        .iter()
        .filter(|d| {
            let text = format!("kind = \"{}\"\n{}", d.kind, d.example);
            toml::from_str::<OptimizerKind>(&text).is_ok_and(|k| !k.spec().has_eval_point())
        })
        .map(|d| {
            format!(
                "[[optimizer]]\nkind = \"{}\"\n{}\ngame = {{ update = \"alternating\", method = \"extragradient\" }}\n",
                d.kind, d.example
            )
        })
        .collect();
    assert!(!games.is_empty() && !game_optimizers.is_empty());
    let every_game = format!(
        "name = \"every_game\"\nsteps = 20\n{}{game_optimizers}[[schedule]]\nkind = \"constant\"\nlr = 0.01\n",
        tables("landscape", games),
    );
    let noises: String = NoiseSpec::docs()
        .iter()
        .map(|d| {
            format!(
                "[[optimizer]]\nname = \"sgd_{kind}\"\nkind = \"sgd\"\n[optimizer.noise]\nkind = \"{kind}\"\n{}\n",
                d.example,
                kind = d.kind
            )
        })
        .collect();
    let every_noise = format!(
        "name = \"every_noise\"\nsteps = 20\n[[landscape]]\nkind = \"least_squares\"\n{noises}[[schedule]]\nkind = \"constant\"\nlr = 0.01\n"
    );
    vec![every_kind, every_noise, every_game]
}

/// One step of a path into a document.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Every path to a value in `v`, depth first.
fn paths(v: &Value, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match v {
        Value::Table(t) => {
            for (k, child) in t {
                prefix.push(Seg::Key(k.clone()));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(Seg::Index(i));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// The parent container of `path` and the last segment.
fn parent_mut<'a>(root: &'a mut Value, path: &[Seg]) -> Option<(&'a mut Value, Seg)> {
    let (last, init) = path.split_last()?;
    let mut cur = root;
    for seg in init {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Table(t)) => t.get_mut(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some((cur, last.clone()))
}

fn get_mut<'a>(root: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let (parent, last) = parent_mut(root, path)?;
    match (last, parent) {
        (Seg::Key(k), Value::Table(t)) => t.get_mut(&k),
        (Seg::Index(i), Value::Array(a)) => a.get_mut(i),
        _ => None,
    }
}

/// Raw TOML put in place of a placeholder string after serialization:
/// values a TOML document cannot hold as `toml::Value` (2^64 overflows i64).
const RAW: &[&str] = &[
    "18446744073709551616",
    "18446744073709551615",
    "-9223372036854775809",
    "nan",
    "-inf",
];

/// Extreme and odd values.
fn extreme(i: usize) -> Value {
    let pick: [Value; 26] = [
        Value::Integer(0),
        Value::Integer(-1),
        Value::Integer(1),
        Value::Integer(-3),
        Value::Float(1e308),
        Value::Float(-1e308),
        Value::Float(f64::NAN),
        Value::Float(f64::INFINITY),
        Value::Float(5e-324),
        Value::Float(-0.0),
        Value::String("NaN".into()),
        Value::String("inf".into()),
        Value::String(String::new()),
        Value::Integer(i64::MAX),
        Value::Integer(i64::MIN),
        Value::Integer(1 << 32),
        Value::Integer(100_000),
        Value::Integer(200_000),
        Value::Integer(100_000_000_000),
        Value::Integer(1_000_000_000_000),
        Value::Integer(100_000_000_000_000),
        Value::Float(1.8446744073709552e19),
        Value::Integer(513),
        Value::Float(0.5),
        Value::Array(vec![]),
        Value::Table(Default::default()),
    ];
    pick[i % pick.len()].clone()
}

/// A value of another type than `v`.
fn swap_type(v: &Value, i: usize) -> Value {
    let options = [
        Value::String("x".into()),
        Value::Integer(7),
        Value::Float(0.25),
        Value::Boolean(true),
        Value::Array(vec![Value::Integer(1), Value::String("a".into())]),
        Value::Table(toml::Table::from_iter([(
            "kind".to_string(),
            Value::String("constant".into()),
        )])),
    ];
    let same = |o: &Value| std::mem::discriminant(o) == std::mem::discriminant(v);
    let others: Vec<&Value> = options.iter().filter(|o| !same(o)).collect();
    others[i % others.len()].clone()
}

/// The values `Op::Kind` puts in a `kind` field: every registered kind of
/// every family (from the registries, so that a new kind is fuzzed without
/// an edit here), the spectrum rules of a quadratic's `eigenvalues`, which
/// no registry lists, and one that is nothing.
static KINDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut kinds = [
        LandscapeKind::KINDS,
        OptimizerKind::KINDS,
        Schedule::KINDS,
        NoiseSpec::KINDS,
    ]
    .concat();
    kinds.extend(InitSpec::docs().iter().map(|d| d.kind));
    kinds.extend(["geometric", "linear", "nonsense"]);
    kinds
});

/// One mutation: what to do, where (an index into the document's paths),
/// and a choice of value.
#[derive(Debug, Clone)]
enum Op {
    Delete(usize),
    SwapType(usize, usize),
    Extreme(usize, usize),
    Raw(usize, usize),
    Kind(usize, usize),
    Sweep(usize, usize),
    DuplicateTable(usize),
    TopLevel(usize, usize),
    Scale(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let n = any::<usize>();
    prop_oneof![
        1 => n.prop_map(Op::Delete),
        1 => (n, n).prop_map(|(a, b)| Op::SwapType(a, b)),
        3 => (n, n).prop_map(|(a, b)| Op::Extreme(a, b)),
        1 => (n, n).prop_map(|(a, b)| Op::Raw(a, b)),
        1 => (n, n).prop_map(|(a, b)| Op::Kind(a, b)),
        1 => (n, n).prop_map(|(a, b)| Op::Sweep(a, b)),
        1 => n.prop_map(Op::DuplicateTable),
        2 => (n, n).prop_map(|(a, b)| Op::TopLevel(a, b)),
        3 => (n, n).prop_map(|(a, b)| Op::Scale(a, b)),
    ]
}

/// Applies `op` to `doc`; placeholders for raw values are recorded in `raw`.
fn apply(doc: &mut Value, op: &Op, raw: &mut Vec<(String, &'static str)>) {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    if all.is_empty() {
        return;
    }
    let at = |i: usize| all[i % all.len()].clone();
    match *op {
        Op::Delete(i) => {
            if let Some((parent, last)) = parent_mut(doc, &at(i)) {
                match (last, parent) {
                    (Seg::Key(k), Value::Table(t)) => {
                        t.remove(&k);
                    }
                    (Seg::Index(j), Value::Array(a)) if j < a.len() => {
                        a.remove(j);
                    }
                    _ => {}
                }
            }
        }
        Op::SwapType(i, j) => {
            if let Some(v) = get_mut(doc, &at(i)) {
                *v = swap_type(v, j);
            }
        }
        Op::Extreme(i, j) => {
            if let Some(v) = get_mut(doc, &numeric_path(doc, &all, i)) {
                *v = extreme(j);
            }
        }
        Op::Scale(i, j) => {
            // A valid-looking value, scaled by a power of ten (up or down)
            // or shifted by one: large but plausible sizes.
            if let Some(v) = get_mut(doc, &numeric_path(doc, &all, i)) {
                let k = (j % 13) as i32;
                *v = match (&*v, j % 3) {
                    (Value::Integer(n), 0) => Value::Integer(n.saturating_mul(10i64.pow(k as u32))),
                    (Value::Integer(n), 1) => Value::Integer(n.saturating_sub(1)),
                    (Value::Integer(n), _) => Value::Integer(n.saturating_add(1)),
                    (Value::Float(x), 0) => Value::Float(x * 10f64.powi(k)),
                    (Value::Float(x), _) => Value::Float(x / 10f64.powi(k)),
                    (other, _) => other.clone(),
                };
            }
        }
        Op::Raw(i, j) => {
            if let Some(v) = get_mut(doc, &at(i)) {
                let key = format!("@@raw{}@@", raw.len());
                *v = Value::String(key.clone());
                raw.push((key, RAW[j % RAW.len()]));
            }
        }
        Op::Kind(i, j) => {
            let kinds: Vec<_> = all
                .iter()
                .filter(|p| matches!(p.last(), Some(Seg::Key(k)) if k == "kind"))
                .cloned()
                .collect();
            if let Some(p) = kinds.get(i % kinds.len().max(1)) {
                if let Some(v) = get_mut(doc, p) {
                    *v = Value::String(KINDS[j % KINDS.len()].into());
                }
            }
        }
        Op::Sweep(i, j) => {
            if let Some(v) = get_mut(doc, &at(i)) {
                let values = match j % 4 {
                    0 => vec![],
                    1 => vec![v.clone()],
                    2 => vec![v.clone(), extreme(j / 4)],
                    _ => vec![v.clone(); 8],
                };
                let mut t = toml::Table::new();
                t.insert("sweep".into(), Value::Array(values));
                *v = Value::Table(t);
            }
        }
        Op::DuplicateTable(i) => {
            let section = ["landscape", "optimizer", "schedule"][i % 3];
            if let Some(Value::Array(a)) = doc.get_mut(section) {
                if let Some(first) = a.first().cloned() {
                    a.push(first);
                }
            }
        }
        Op::TopLevel(i, j) => {
            let key = [
                "steps",
                "seeds",
                "seed",
                "trace_every",
                "hessian_every",
                "hessian",
                "diverge_factor",
                "trace_positions",
                "name",
                "unknown_field",
            ][i % 10];
            if let Value::Table(t) = doc {
                let v = match j % 3 {
                    0 => extreme(j / 3),
                    1 => swap_type(t.get(key).unwrap_or(&Value::Integer(1)), j / 3),
                    _ => {
                        t.remove(key);
                        return;
                    }
                };
                t.insert(key.into(), v);
            }
        }
    }
}

/// A path to a number in `doc` (any path when it holds none).
fn numeric_path(doc: &Value, all: &[Vec<Seg>], i: usize) -> Vec<Seg> {
    let mut probe = doc.clone();
    let numeric: Vec<_> = all
        .iter()
        .filter(|p| {
            matches!(
                get_mut(&mut probe, p),
                Some(Value::Integer(_) | Value::Float(_))
            )
        })
        .cloned()
        .collect();
    if numeric.is_empty() {
        all[i % all.len()].clone()
    } else {
        numeric[i % numeric.len()].clone()
    }
}

/// The mutant's text, with raw placeholders replaced.
fn render(doc: &Value, raw: &[(String, &str)]) -> String {
    let mut text = toml::to_string(doc).unwrap_or_default();
    for (key, value) in raw {
        text = text.replace(&format!("\"{key}\""), value);
    }
    text
}

/// Runs `valley sweep case.toml [--dry-run]` in `dir`; returns the exit
/// code (`None`: killed by a signal), stderr and the elapsed time.
fn run(dir: &Path, dry_run: bool) -> (Option<i32>, String, Duration) {
    let mut args = vec!["sweep", "case.toml", "--quiet", "--max-runs", "100000"];
    if dry_run {
        args.push("--dry-run");
    }
    let clock = Instant::now();
    let mut child = command(&args, dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the valley binary starts");
    let deadline = Duration::from_secs(CASE_SECONDS);
    loop {
        if let Some(_status) = child.try_wait().unwrap() {
            break;
        }
        if clock.elapsed() > deadline {
            child.kill().unwrap();
            let _ = child.wait();
            return (
                None,
                format!("timed out after {CASE_SECONDS} s"),
                clock.elapsed(),
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), stderr(&out), clock.elapsed())
}

/// Checks the invariant on one sweep file's text; returns the dry run's
/// exit code.
fn check_case(text: &str) -> Result<i32, String> {
    let (dir, _) = setup("case.toml", text);
    let (code, err, took) = run(dir.path(), true);
    let fail = |what: String| {
        Err(format!(
            "{what}\n--- case.toml ---\n{text}\n--- stderr ---\n{err}"
        ))
    };
    match code {
        Some(0) => {}
        Some(2) => {
            if !err.contains("case.toml") {
                return fail("exit 2 without naming the file".into());
            }
            let (code2, err2, _) = run(dir.path(), false);
            if code2 != Some(2) {
                return fail(format!(
                    "--dry-run exits 2 but the sweep exits {code2:?}: {err2}"
                ));
            }
        }
        other => return fail(format!("exit code {other:?}")),
    }
    if err.contains("panicked") {
        return fail("a panic message".into());
    }
    let files = written(dir.path());
    if !files.is_empty() {
        return fail(format!("wrote {files:?}"));
    }
    if took > Duration::from_secs(CASE_SECONDS) {
        return fail(format!("took {took:?}"));
    }
    Ok(code.unwrap_or(-1))
}

#[test]
fn regressions_keep_passing() {
    for text in regressions() {
        check_case(text).unwrap();
    }
}

#[test]
fn seed_files_are_valid() {
    for doc in seeds() {
        let (dir, _) = setup("case.toml", &render(&doc, &[]));
        let (code, err, _) = run(dir.path(), true);
        assert_eq!(code, Some(0), "{err}");
    }
}

#[test]
fn mutated_sweep_files_never_crash() {
    let long = std::env::var("VALLEY_FUZZ_CASES").ok();
    let cases = long
        .as_deref()
        .map(|v| v.parse().expect("VALLEY_FUZZ_CASES is a number"))
        .unwrap_or(DEFAULT_CASES);
    let seed: u64 = match std::env::var("VALLEY_FUZZ_SEED") {
        Ok(v) => v.parse().expect("VALLEY_FUZZ_SEED is a number"),
        Err(_) if long.is_some() => rand_seed(),
        Err(_) => 20261129,
    };
    eprintln!("fuzz: {cases} cases from seed {seed}");
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/fuzz.txt",
        ))),
        max_shrink_iters: 200,
        ..Config::default()
    };
    let docs = seeds();
    let strategy = (
        0..docs.len(),
        prop_oneof![3 => Just(1usize), 1 => 2..4usize]
            .prop_flat_map(|n| prop::collection::vec(op(), n)),
    );
    let mut runner = TestRunner::new(config);
    let slowest = std::sync::Mutex::new(Duration::ZERO);
    let outcomes = std::sync::Mutex::new([0u32; 3]);
    let result = runner.run(&strategy, |(which, ops)| {
        let mut doc = docs[which].clone();
        let mut raw = Vec::new();
        for o in &ops {
            apply(&mut doc, o, &mut raw);
        }
        let text = render(&doc, &raw);
        let clock = Instant::now();
        let code = check_case(&text).map_err(TestCaseError::fail)?;
        outcomes.lock().unwrap()[usize::from(code == 2)] += 1;
        outcomes.lock().unwrap()[2] += u32::from(text.is_empty());
        let mut s = slowest.lock().unwrap();
        *s = (*s).max(clock.elapsed());
        Ok(())
    });
    let [valid, invalid, empty] = *outcomes.lock().unwrap();
    eprintln!(
        "fuzz: {valid} mutants valid (exit 0), {invalid} refused (exit 2, {empty} of them empty); slowest case {:.2} s",
        slowest.lock().unwrap().as_secs_f64()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// A seed for the long mode, from the clock (printed, so a failure can be
/// replayed with VALLEY_FUZZ_SEED).
fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}
