//! Runs the real `valley` binary on tiny sweep files in temporary folders.

use crate::common::{assert_same_rows, command, read, refused, setup, stderr, valley};

use polars::prelude::*;
use std::fs;
use std::path::Path;
use std::process::Output;

const TINY: &str = r#"
name = "tiny"
steps = 50
seeds = 3
trace_every = 10

[[landscape]]
kind = "quadratic"
dim = 4
eigenvalues = { kind = "geometric", min = 0.1, max = 4.0 }
rotate = true

[[landscape]]
kind = "rastrigin"
dim = 2

[[optimizer]]
kind = "sgd"
momentum = { sweep = [0.0, 0.9] }
noise = { kind = "gaussian", std = 0.1 }

[[schedule]]
kind = "step"
lr = 0.02
step_size = 20
gamma = 0.5

[[schedule]]
kind = "exponential"
lr = 0.02
gamma = 0.5
decay_steps = 20
"#;

/// The second schedule table of [`TINY`].
const EXPONENTIAL: &str = "kind = \"exponential\"\nlr = 0.02\ngamma = 0.5\ndecay_steps = 20";

/// 2 landscapes x 2 momenta x 2 schedules x 3 seeds.
const TINY_RUNS: usize = 24;
/// Steps 0, 10, 20, 30, 40 and the last, 49.
const TINY_TRACE_PER_RUN: usize = 6;

#[test]
fn sweep_writes_the_contract_columns_and_one_row_per_run() {
    let (tmp, file) = setup("sweep.toml", TINY);
    let o = valley(
        &["sweep", file.to_str().unwrap(), "--out", "out"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let runs = read(&tmp.path().join("out/runs.parquet"));
    let trace = read(&tmp.path().join("out/trace.parquet"));
    for c in [
        "run_id",
        "landscape",
        "optimizer",
        "schedule",
        "seed",
        "optimizer.momentum",
        "final_loss",
        "min_loss",
        "final_grad_norm",
        "sharpness",
        "hessian_min_eig",
        "hessian_trace",
        "diverged",
        "steps_run",
        "basin",
        "distance_to_min",
        "energy_gap",
    ] {
        assert!(runs.column(c).is_ok(), "runs.parquet lacks {c}");
    }
    for c in [
        "run_id",
        "step",
        "lr",
        "momentum",
        "loss",
        "grad_norm",
        "update_norm",
        "grad_cosine",
    ] {
        assert!(trace.column(c).is_ok(), "trace.parquet lacks {c}");
    }
    assert_eq!(runs.height(), TINY_RUNS);
    assert_eq!(trace.height(), TINY_RUNS * TINY_TRACE_PER_RUN);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.path().join("out/sweep.json")).unwrap())
            .unwrap();
    assert_eq!(json["status"], "complete");
    assert_eq!(json["runs"]["finished"], TINY_RUNS);
    assert_eq!(json["valley_version"], env!("CARGO_PKG_VERSION"));
    // Row t describes update t: the first traced lr is the schedule's lr(0),
    // and grad_cosine is null exactly at t = 0.
    let lr = trace.column("lr").unwrap().f64().unwrap().get(0).unwrap();
    assert_eq!(lr, 0.02);
    let steps = trace.column("step").unwrap().i64().unwrap();
    let cos = trace.column("grad_cosine").unwrap();
    for i in 0..trace.height() {
        assert_eq!(steps.get(i) == Some(0), cos.get(i).unwrap().is_null());
    }
}

#[test]
fn one_and_two_threads_give_identical_rows() {
    let (tmp, file) = setup("sweep.toml", TINY);
    let f = file.to_str().unwrap();
    for (threads, out) in [("1", "a"), ("2", "b")] {
        let o = valley(
            &["sweep", f, "--out", out, "--threads", threads, "--quiet"],
            tmp.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_same_rows(&tmp.path().join("a"), &tmp.path().join("b"));
}

#[test]
fn shards_merged_equal_the_whole_sweep() {
    let (tmp, file) = setup("sweep.toml", TINY);
    let f = file.to_str().unwrap();
    assert!(valley(&["sweep", f, "--out", "whole", "-q"], tmp.path())
        .status
        .success());
    for k in ["1/3", "2/3", "3/3"] {
        let o = valley(
            &["sweep", f, "--out", "split", "--shard", k, "-q"],
            tmp.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = valley(&["merge", "split"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_rows(&tmp.path().join("whole"), &tmp.path().join("split"));
    // A missing shard is refused.
    fs::remove_dir_all(tmp.path().join("split/shard-2-of-3")).unwrap();
    let o = valley(&["merge", "split"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// A text sweep axis that only some tables have: a shard holding only runs
/// of the other tables writes the column as text too (typed by the plan, not
/// by its rows), so shards merge and equal the whole sweep. This failed to
/// join ("type Float64 is incompatible with expected type String").
#[test]
fn a_text_axis_of_one_table_joins_across_shards() {
    let src = r#"
name = "text_axis"
steps = 20
seeds = 1
trace_every = 10
hessian = false

[[landscape]]
kind = "quadratic"
dim = 2
eigenvalues = [1.0, 2.0]

[[optimizer]]
kind = "sgd"

[[schedule]]
kind = "constant"
lr = 0.1

[[schedule]]
kind = "cyclic"
base_lr = 0.01
max_lr = 0.1
step_size_up = 5
mode = { sweep = ["triangular", "triangular2"] }
"#;
    let (tmp, file) = setup("sweep.toml", src);
    let f = file.to_str().unwrap();
    let o = valley(&["sweep", f, "--out", "whole", "-q"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    for k in ["1/3", "2/3", "3/3"] {
        let o = valley(
            &["sweep", f, "--out", "split", "--shard", k, "-q"],
            tmp.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // Shard 1 holds the constant schedule's run only.
    let first = read(&tmp.path().join("split/shard-1-of-3/runs.parquet"));
    let mode = first.column("schedule.mode").unwrap();
    assert_eq!(mode.dtype(), &DataType::String);
    assert_eq!(mode.null_count(), 1);
    let o = valley(&["merge", "split"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_rows(&tmp.path().join("whole"), &tmp.path().join("split"));
}

#[test]
fn resume_finishes_an_interrupted_sweep_with_the_same_rows() {
    let (tmp, file) = setup("sweep.toml", TINY);
    let f = file.to_str().unwrap();
    assert!(valley(&["sweep", f, "--out", "whole", "-q"], tmp.path())
        .status
        .success());
    // Simulate a sweep killed after its first shard of runs: shard 1/2's
    // finished runs become the parts of an unfinished folder.
    assert!(valley(
        &["sweep", f, "--out", "half", "--shard", "1/2", "-q"],
        tmp.path()
    )
    .status
    .success());
    let half = tmp.path().join("half/shard-1-of-2");
    let dir = tmp.path().join("killed");
    fs::create_dir_all(dir.join("parts")).unwrap();
    fs::rename(
        half.join("runs.parquet"),
        dir.join("parts/runs-000000.parquet"),
    )
    .unwrap();
    fs::rename(
        half.join("trace.parquet"),
        dir.join("parts/trace-000000.parquet"),
    )
    .unwrap();
    // An orphan trace part (killed between the two renames) is discarded.
    fs::copy(
        dir.join("parts/trace-000000.parquet"),
        dir.join("parts/trace-000001.parquet"),
    )
    .unwrap();

    let o = valley(&["sweep", f, "--out", "killed", "-q"], tmp.path());
    assert_eq!(
        o.status.code(),
        Some(2),
        "an existing folder is refused: {}",
        stderr(&o)
    );
    let o = valley(&["sweep", f, "--out", "killed", "--resume"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{} resumed", TINY_RUNS / 2)),
        "{}",
        stderr(&o)
    );
    assert_same_rows(&tmp.path().join("whole"), &tmp.path().join("killed"));
    let p = |d: &str, f: &str| tmp.path().join(d).join(f);
    // Resuming a finished sweep runs nothing and keeps every row.
    let o = valley(&["sweep", f, "--out", "killed", "--resume"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read(&p("killed", "runs.parquet")).height(), TINY_RUNS);
    // Resuming with a different sweep file is refused and touches nothing.
    fs::write(&file, TINY.replace("steps = 50", "steps = 60")).unwrap();
    let o = valley(&["sweep", f, "--out", "killed", "--resume"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(read(&p("killed", "runs.parquet")).height(), TINY_RUNS);
}

#[test]
fn an_existing_folder_is_refused_unless_forced() {
    let (tmp, file) = setup("sweep.toml", TINY);
    let f = file.to_str().unwrap();
    assert!(valley(&["sweep", f, "--out", "o", "-q"], tmp.path())
        .status
        .success());
    let marker = tmp.path().join("o/marker");
    fs::write(&marker, "x").unwrap();
    let o = valley(&["sweep", f, "--out", "o", "-q"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert!(marker.exists(), "a refused sweep touches nothing");
    let o = valley(&["sweep", f, "--out", "o", "--force", "-q"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    // --force starts over with valley's own files only: a file valley did
    // not write stays (tests/it/user_files.rs drives the rest).
    assert!(
        marker.exists(),
        "--force removed a file valley did not write"
    );
    assert_eq!(read(&tmp.path().join("o/runs.parquet")).height(), TINY_RUNS);
}

/// Each bad input exits 2, names the file, line and field, and writes nothing.
#[test]
fn bad_inputs_exit_2_name_the_line_and_field_and_write_nothing() {
    let cases: Vec<(String, &str, &str)> = vec![
        // Line numbers count the leading blank line of TINY.
        (
            TINY.replace("steps = 50", "steps = 50\nstpes = 3"),
            "stpes`",
            ":4:",
        ),
        (
            TINY.replace(
                "gamma = 0.5\n\n[[schedule]]",
                "gamma = -0.5\n\n[[schedule]]",
            ),
            "schedule[0].gamma`",
            ":26:",
        ),
        (
            TINY.replace("kind = \"rastrigin\"", "kind = \"rastrign\""),
            "landscape[1].kind`",
            ":14:",
        ),
        (
            TINY.replace("step_size = 20", "step_size = 20\nwarm = 1"),
            "schedule[0].warm`",
            ":26:",
        ),
        (
            TINY.replace("std = 0.1", "std = -0.1"),
            "optimizer[0].noise.std`",
            ":20:",
        ),
        (
            TINY.replace(
                "momentum = { sweep = [0.0, 0.9] }",
                "momentum = { sweep = [0.0, 1.5] }",
            ),
            "optimizer[0].momentum`",
            ":19:",
        ),
        (
            TINY.replace("seeds = 3", "seeds = \"three\""),
            "seeds`",
            ":4:",
        ),
        // The parser notices the unclosed array on the next line.
        (TINY.replace("steps = 50", "steps = [50"), "", ":4:"),
        (
            TINY.replace("dim = 4", "dim = 0"),
            "landscape[0].dim`",
            ":9:",
        ),
        (
            TINY.replace("kind = \"step\"\n", ""),
            "schedule[0].kind`",
            ":22:",
        ),
        // The self-avoiding init places the beads of a protein chain.
        (
            TINY.replace(
                "kind = \"rastrigin\"\ndim = 2",
                "kind = \"rastrigin\"\ndim = 2\ninit = { kind = \"self_avoiding\", low = -1.5, high = 1.5 }",
            ),
            "landscape[1].init.kind`",
            ":16:",
        ),
        (
            TINY.replace(
                "kind = \"rastrigin\"\ndim = 2",
                "kind = \"protein_ab\"\nsequence = \"fibonacci:13\"\ninit = { kind = \"self_avoiding\", low = -1.5, high = 1.5, min_distance = 2.5 }",
            ),
            "landscape[1].init.min_distance`",
            ":16:",
        ),
        // Unknown fields inside nested schedule tables are named by their path.
        (
            TINY.replace(
                "kind = \"exponential\"\nlr = 0.02\ngamma = 0.5\ndecay_steps = 20",
                "kind = \"warmup\"\nwarmup_steps = 5\n[schedule.then]\nkind = \"constant\"\nlr = 0.1\nbogus = 1",
            ),
            "schedule[1].then.bogus`",
            ":34:",
        ),
        // wsd: stable_steps and total_steps, both or neither; a decay type
        // that does not exist. plateau: factor >= 1, also after a warm-up.
        // Schedule-free: momentum outside (0, 1).
        (
            TINY.replace(EXPONENTIAL, "kind = \"wsd\"\nlr = 0.02\ndecay_steps = 20\nstable_steps = 10\ntotal_steps = 50"),
            "schedule[1].stable_steps`",
            ":32:",
        ),
        (
            TINY.replace(EXPONENTIAL, "kind = \"wsd\"\nlr = 0.02\ndecay_steps = 20"),
            "schedule[1].stable_steps`",
            ":28:",
        ),
        (
            TINY.replace(EXPONENTIAL, "kind = \"wsd\"\nlr = 0.02\ndecay_steps = 20\nstable_steps = 10\ndecay_type = \"sqrt\""),
            "schedule[1].decay_type`",
            ":33:",
        ),
        (
            TINY.replace(EXPONENTIAL, "kind = \"plateau\"\nlr = 0.02\nfactor = 1.0"),
            "schedule[1].factor`",
            ":31:",
        ),
        (
            TINY.replace(EXPONENTIAL, "kind = \"warmup\"\nwarmup_steps = 5\nthen = { kind = \"plateau\", lr = 0.02, factor = 2.0 }"),
            "schedule[1].then.factor`",
            ":31:",
        ),
        (
            TINY.replace(
                "kind = \"sgd\"\nmomentum = { sweep = [0.0, 0.9] }",
                "kind = \"sgd_schedulefree\"\nmomentum = 1.0",
            ),
            "optimizer[0].momentum`",
            ":19:",
        ),
    ];
    for (src, field, line) in cases {
        let (tmp, file) = setup("sweep.toml", &src);
        let o = valley(&["sweep", file.to_str().unwrap()], tmp.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{field}: {err}");
        assert!(err.contains("sweep.toml"), "names the file: {err}");
        assert!(err.contains(line), "names line {line}: {err}");
        assert!(
            err.contains(&format!("`{field}")),
            "names the field {field}: {err}"
        );
        assert!(
            !tmp.path().join("results").exists(),
            "writes nothing: {err}"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let o = valley(&["sweep", "missing.toml"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.toml"));
    let (tmp, file) = setup("sweep.toml", TINY);
    let o = valley(
        &["sweep", file.to_str().unwrap(), "--shard", "4/3"],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!tmp.path().join("results").exists());
    let o = valley(&["sweep", file.to_str().unwrap(), "--bogus"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let (tmp, file) = setup("sweep.toml", TINY);
    let o = valley(&["sweep", file.to_str().unwrap(), "--dry-run"], tmp.path());
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("24 runs"), "{out}");
    assert!(out.contains("axis optimizer.momentum = [0, 0.9]"), "{out}");
    assert!(
        out.contains(&format!(
            "{} in trace.parquet",
            TINY_RUNS * TINY_TRACE_PER_RUN
        )),
        "{out}"
    );
    assert!(!tmp.path().join("results").exists());
}

/// Runs the binary with its stdout on a pipe whose reader is already closed
/// (as `valley ... | head` after head exits): every write fails with EPIPE.
fn with_closed_stdout(args: &[&str], cwd: &Path) -> Output {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just returned by pipe(2) and are owned here.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    command(args, cwd)
        .stdout(std::process::Stdio::from(writer))
        .output()
        .expect("the valley binary runs")
}

/// A reader that went away ends the output quietly: exit 0, no panic (the
/// `print!` macros panicked on EPIPE), and a sweep still writes its results.
#[test]
fn a_closed_stdout_ends_the_output_quietly() {
    let (tmp, file) = setup("sweep.toml", TINY);
    let f = file.to_str().unwrap();
    for args in [
        vec!["sweep", f, "--dry-run"],
        vec!["reference"],
        vec!["sweep", f],
        vec!["compare", "results/tiny", "--by", "schedule"],
    ] {
        let o = with_closed_stdout(&args, tmp.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert!(tmp.path().join("results/tiny/runs.parquet").exists());
}

#[test]
fn a_diverging_run_is_recorded_and_the_sweep_goes_on() {
    // f = 10 x^2/2 (lambda = 10): lr 0.21 > 2/10 diverges, lr 0.19 < 2/10 does not.
    let src = r#"
name = "div"
steps = 400
seeds = 2
[[landscape]]
kind = "quadratic"
dim = 1
eigenvalues = [10.0]
init = { kind = "point", x = [1.0] }
[[optimizer]]
kind = "sgd"
[[schedule]]
kind = "constant"
lr = { sweep = [0.19, 0.21] }
"#;
    let (tmp, file) = setup("sweep.toml", src);
    let o = valley(
        &["sweep", file.to_str().unwrap(), "--out", "o", "-q"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let runs = read(&tmp.path().join("o/runs.parquet"))
        .sort(["schedule.lr"], SortMultipleOptions::default())
        .unwrap();
    let div = runs.column("diverged").unwrap().bool().unwrap();
    let steps = runs.column("steps_run").unwrap().i64().unwrap();
    let lr = runs.column("schedule.lr").unwrap().f64().unwrap();
    for i in 0..runs.height() {
        let diverges = lr.get(i).unwrap() > 0.2;
        assert_eq!(div.get(i), Some(diverges));
        // x_t = (1 - 2.1)^t, loss_t = 5·1.21^t exceeds 1e6·5 first at
        // t = 73 (1.21^72 = 9.1e5, 1.21^73 = 1.1e6).
        assert_eq!(steps.get(i), Some(if diverges { 73 } else { 400 }));
    }
}

#[test]
fn schedule_and_inspect_commands() {
    let (tmp, file) = setup(
        "sweep.toml",
        "[schedule]\nkind = \"step\"\nlr = 0.1\nstep_size = 2\ngamma = 0.5\n",
    );
    let o = valley(
        &["schedule", file.to_str().unwrap(), "--steps", "5"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "step,lr,momentum\n0,0.1,\n1,0.1,\n2,0.05,\n3,0.05,\n4,0.025,\n"
    );
    let (tmp, file) = setup(
        "sweep.toml",
        "[landscape]\nkind = \"quadratic\"\ndim = 2\neigenvalues = [1.0, 3.0]\n",
    );
    let o = valley(
        &["inspect", file.to_str().unwrap(), "--at", "1,-2"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // f = (1·1² + 3·2²)/2 = 6.5; gradient (1, -6); eigenvalues 1, 3.
    assert_eq!(v["value"], 6.5);
    assert_eq!(v["gradient"], serde_json::json!([1.0, -6.0]));
    assert_eq!(v["hessian_eigenvalues"], serde_json::json!([1.0, 3.0]));
    let o = valley(
        &["inspect", file.to_str().unwrap(), "--at", "1"],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2));
}

/// Issue 24: a file of several schedules prints and plots every one of
/// them (a `schedule` column, one curve each); `--name` still picks one.
#[test]
fn schedule_command_prints_and_plots_every_schedule_of_a_file() {
    let (tmp, file) = setup(
        "sweep.toml",
        "[[schedule]]\nname = \"halving\"\nkind = \"step\"\nlr = 0.1\nstep_size = 2\ngamma = 0.5\n\n\
         [[schedule]]\nkind = \"constant\"\nlr = 0.3\n",
    );
    let f = file.to_str().unwrap();
    let o = valley(
        &["schedule", f, "--steps", "3", "--plot", "all.png"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "schedule,step,lr,momentum\nhalving,0,0.1,\nhalving,1,0.1,\nhalving,2,0.05,\n\
         constant,0,0.3,\nconstant,1,0.3,\nconstant,2,0.3,\n"
    );
    let png = std::fs::read(tmp.path().join("all.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let o = valley(
        &["schedule", f, "--steps", "2", "--name", "constant"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "step,lr,momentum\n0,0.3,\n1,0.3,\n"
    );
    // A bad table among several is named by its path.
    let (tmp, file) = setup(
        "sweep.toml",
        "[[schedule]]\nkind = \"constant\"\nlr = 0.3\n\n[[schedule]]\nkind = \"step\"\nlr = 0.1\n",
    );
    let o = valley(
        &["schedule", file.to_str().unwrap(), "--steps", "2"],
        tmp.path(),
    );
    refused(&o, &["sweep.toml", "schedule[1]", "step_size"]);
}

/// Issue 24: `claims` runs the quick suite without FILES, so FILES is
/// optional in `--help` and in the reference, with its default described.
#[test]
fn claims_files_are_optional_in_help_and_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let help = valley(&["claims", "--help"], tmp.path());
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    assert!(
        help.contains("Usage: valley claims [OPTIONS] [FILES]..."),
        "{help}"
    );
    assert!(help.contains("default: the quick suite"), "{help}");
    let o = valley(&["reference"], tmp.path());
    let reference = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        reference.contains("    valley claims [OPTIONS] [FILES]...\n"),
        "{reference}"
    );
    let row = reference
        .lines()
        .find(|l| l.starts_with("| `[FILES]...` |"))
        .expect("a row for FILES");
    assert!(!row.contains("Required"), "{row}");
    // A required positional still says so.
    assert!(
        reference.contains("    valley sweep [OPTIONS] <FILE>\n"),
        "{reference}"
    );
}

/// `valley schedule` prints every golden schedule (torch.optim.lr_scheduler,
/// optax, HF (WSD included), Keras, EPFL and Schaipp et al. formulas;
/// tests/fixtures/schedules/golden.json, generated by
/// scripts/golden_schedules.py) to 1e-12 relative, momentum included, and
/// refuses the plateau cases (exit 2, nothing printed).
#[test]
fn schedule_command_reproduces_the_reference_libraries() {
    let golden: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/schedules/golden.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let cases = golden.as_array().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let table: toml::Value = toml::Value::try_from(&case["schedule"]).unwrap();
        let mut doc = toml::Table::new();
        doc.insert("schedule".into(), table);
        let file = tmp.path().join(format!("{name}.toml"));
        fs::write(&file, toml::to_string(&doc).unwrap()).unwrap();
        let lrs = case["lr"].as_array().unwrap();
        let o = valley(
            &[
                "schedule",
                file.to_str().unwrap(),
                "--steps",
                &lrs.len().to_string(),
            ],
            tmp.path(),
        );
        if case.get("losses").is_some() {
            // plateau: its lr depends on the run, so no table without one.
            assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
            let e = stderr(&o);
            assert!(e.contains("schedule.kind") && e.contains("plateau"), "{e}");
            assert!(o.stdout.is_empty(), "{name}: printed a table");
            continue;
        }
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let out = String::from_utf8(o.stdout).unwrap();
        let rows: Vec<&str> = out.lines().skip(1).collect();
        assert_eq!(rows.len(), lrs.len(), "{name}");
        for (t, row) in rows.iter().enumerate() {
            let cols: Vec<&str> = row.split(',').collect();
            assert_eq!(cols[0], t.to_string());
            let close =
                |a: f64, b: f64| approx::relative_eq!(a, b, epsilon = 1e-15, max_relative = 1e-12);
            let lr: f64 = cols[1].parse().unwrap();
            let want = lrs[t].as_f64().unwrap();
            assert!(close(lr, want), "{name} step {t}: lr {lr} vs {want}");
            match case["momentum"].as_array() {
                Some(m) => {
                    let got: f64 = cols[2].parse().unwrap();
                    let want = m[t].as_f64().unwrap();
                    assert!(
                        close(got, want),
                        "{name} step {t}: momentum {got} vs {want}"
                    );
                }
                None => assert_eq!(cols[2], "", "{name}: no momentum column"),
            }
        }
    }
    assert_eq!(cases.len(), 61);
}

/// `valley inspect` agrees with independent computations to 1e-9 relative:
/// the AB energies that scripts/ab_fixtures.py computed with numpy from the
/// published Cartesian bead positions, and Müller–Brown values from a plain
/// numpy evaluation of the 1979 formula.
#[test]
fn inspect_agrees_with_independent_computations() {
    let tmp = tempfile::tempdir().unwrap();
    let check = |table: &str, at: &str, want: f64| {
        let file = tmp.path().join("l.toml");
        fs::write(&file, format!("[landscape]\n{table}\n")).unwrap();
        let o = valley(&["inspect", file.to_str().unwrap(), "--at", at], tmp.path());
        assert!(o.status.success(), "{table}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let got = v["value"].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-9 * want.abs(),
            "{table} at {at}: {got} vs {want}"
        );
        v
    };
    for fixture in [
        "ab_2d_fib13",
        "ab_2d_fib21",
        "ab_2d_fib34",
        "ab_2d_fib55",
        "ab_3d_fib13",
        "ab_3d_fib21",
    ] {
        let path = format!(
            "{}/tests/fixtures/landscapes/{fixture}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let f: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        let angles: Vec<String> = f["angles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.to_string())
            .collect();
        let table = format!(
            "kind = \"protein_ab\"\nsequence = {}\ndims = {}",
            f["sequence"], f["dims"]
        );
        let v = check(
            &table,
            &angles.join(","),
            f["energy_from_positions"].as_f64().unwrap(),
        );
        // A published fold is (nearly) a minimum: no clearly negative eigenvalue.
        let lowest = v["hessian_eigenvalues"][0].as_f64().unwrap();
        assert!(
            lowest > -1e-3,
            "{fixture}: lowest Hessian eigenvalue {lowest}"
        );
    }
    for (at, want) in [
        ("0.5,0.5", -35.62620054061107),
        ("-0.5,1.5", -145.27271669314962),
        ("0.0,0.0", -48.40127417318389),
        ("-1.0,0.25", -0.6719822805654339),
    ] {
        check("kind = \"muller_brown\"", at, want);
    }
}

/// Bad groups and dtypes exit 2 naming the field and write nothing; a good
/// precision sweep writes the precision and group columns.
#[test]
fn precision_and_groups_inputs_and_columns() {
    let with = |extra: &str| TINY.replace("noise = {", &format!("{extra}\nnoise = {{"));
    for (extra, field) in [
        (
            "groups = [{ coords = [0, 3] }, { coords = [2, 4] }]",
            "optimizer[0].groups[1].coords`",
        ),
        (
            "groups = [{ coords = [0, 3] }]",
            "optimizer[0].groups[0].coords`",
        ),
        ("param_dtype = \"fp8\"", "optimizer[0].param_dtype`"),
        (
            "grad_dtype = \"f16\"\nloss_scale = 0.0",
            "optimizer[0].loss_scale`",
        ),
    ] {
        let (tmp, file) = setup("sweep.toml", &with(extra));
        let o = valley(&["sweep", file.to_str().unwrap()], tmp.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{extra}: {err}");
        assert!(err.contains(&format!("`{field}")), "{field}: {err}");
        assert!(!tmp.path().join("results").exists());
    }
    let src = with(
        "param_dtype = \"bf16\"\ngrad_dtype = \"f16\"\nloss_scale = {}\ngroups = [{ coords = [0, 1], lr_scale = 0.5 }]",
    )
    .replace("rotate = true", "rotate = true\n[[landscape]]\nkind = \"transfer\"\nblocks = [{ dim = 2, eigenvalues = [1.0, 2.0], init_radius = 0.1 }]");
    let (tmp, file) = setup("sweep.toml", &src);
    let o = valley(
        &["sweep", file.to_str().unwrap(), "--out", "out"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let runs = read(&tmp.path().join("out/runs.parquet"));
    let trace = read(&tmp.path().join("out/trace.parquet"));
    assert_eq!(runs.column("skipped_steps").unwrap().null_count(), 0);
    assert!(runs.column("stalled_at").is_ok());
    for c in ["loss_scale", "skipped", "update_underflow", "group_lr"] {
        assert_eq!(trace.column(c).unwrap().null_count(), 0, "{c}");
    }
    let scale = trace.column("loss_scale").unwrap().f64().unwrap().get(0);
    assert_eq!(scale, Some(65536.0));
}

/// Every column a sweep writes is documented in `schema::*::COLUMNS` (and so
/// in docs/reference.md), apart from the sweep-axis columns.
#[test]
fn every_written_column_is_documented() {
    let src = "name = \"cols\"\nsteps = 4\ntrace_every = 2\nhessian_every = 2\n\
               [[landscape]]\nkind = \"muller_brown\"\n\
               [[optimizer]]\nkind = \"adamw\"\nbeta1 = { sweep = [0.8, 0.9] }\n\
               [[schedule]]\nkind = \"constant\"\nlr = 0.0001\n";
    let (dir, file) = setup("sweep.toml", src);
    let out = dir.path().join("out");
    let o = valley(
        &[
            "sweep",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for (name, cols, axes) in [
        (
            "runs.parquet",
            valley::schema::runs::COLUMNS,
            &["optimizer.beta1"][..],
        ),
        ("trace.parquet", valley::schema::trace::COLUMNS, &[][..]),
    ] {
        let df = read(&out.join(name));
        for c in df.get_column_names() {
            assert!(
                cols.iter().any(|(n, _, _)| *n == c.as_str()) || axes.contains(&c.as_str()),
                "{name}: column `{c}` is not in schema's COLUMNS (docs/reference.md)"
            );
        }
    }
}

/// Drawing into a place that cannot be written: the message names the path
/// and says what the operating system said, never Rust's debug form.
#[test]
fn plot_errors_name_the_path_in_plain_words() {
    let (tmp, _) = setup("tiny.toml", TINY);
    let o = valley(&["sweep", "tiny.toml", "--out", "r", "-q"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let figures = tmp.path().join("r/figures");
    fs::write(&figures, "not a folder").unwrap();
    let o = valley(&["plot", "r"], tmp.path());
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("r/figures:") && err.contains("File exists"),
        "{err}"
    );
    fs::remove_file(&figures).unwrap();
    fs::create_dir_all(figures.join("loss.png")).unwrap();
    let o = valley(&["plot", "r"], tmp.path());
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(err.contains("figures/loss.png: Is a directory"), "{err}");
    assert!(!err.contains("Os {") && !err.contains("IoError("), "{err}");
}
