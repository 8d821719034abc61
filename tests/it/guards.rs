//! Estimate before you allocate (issue 13): every row of the table
//! of crashing sweep files exits 2 within 10 s, naming the field and the
//! estimate, and writes nothing; the run count is the size of the plan
//! actually built; the memory and output estimates bound what the real
//! binary uses (peak RSS from the kernel, file sizes from the disk).

use crate::common::{refused, setup, stderr, text, valley, written};
use polars::prelude::{ParquetReader, SerReader};
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use valley::config::Plan;
use valley::estimate::Estimate;
use valley::{config::count, memory};

/// Runs `valley args` in `cwd` and returns its exit code and peak resident
/// memory (bytes), as the kernel reports it to `wait4`, here through GNU
/// time. Not measured from this process: a child's peak starts at its
/// parent's resident memory at the fork (the kernel carries it over the
/// exec), and this test binary holds every integration test, hundreds of
/// MB; GNU time is a small parent.
fn peak_rss(args: &[&str], cwd: &Path) -> (i32, u64) {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_valley"))
        .args(args)
        .current_dir(cwd)
        .env_remove("VALLEY_FAULT")
        .stdout(std::process::Stdio::null())
        .output()
        .expect("GNU time (/usr/bin/time, Debian package `time`) runs");
    let err = stderr(&out);
    let kb: u64 = err
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS from GNU time: {err}"));
    (out.status.code().expect("exited"), kb * 1024)
}

/// A sweep file: top-level settings, one landscape table, SGD with the
/// given extra lines, a constant schedule.
fn sweep(top: &str, landscape: &str, optimizer: &str) -> String {
    format!(
        "name = \"guard\"\n{top}\n[[landscape]]\n{landscape}\n[[optimizer]]\nkind = \"sgd\"\n{optimizer}\n[[schedule]]\nkind = \"constant\"\nlr = 0.01\n"
    )
}

const QUAD: &str =
    "kind = \"quadratic\"\neigenvalues = { kind = \"geometric\", min = 0.1, max = 1.0 }";

/// Asserts `valley sweep case.toml ARGS` exits 2 within 10 s with a message
/// naming `field` and containing every one of `needles`, and writes nothing.
fn case_refused(src: &str, extra: &[&str], field: &str, needles: &[&str]) {
    for dry in [false, true] {
        let (dir, _) = setup("case.toml", src);
        let mut args = vec!["sweep", "case.toml", "--quiet", "--max-memory", "12G"];
        args.extend_from_slice(extra);
        if dry {
            args.push("--dry-run");
        }
        let clock = Instant::now();
        let out = valley(&args, dir.path());
        let took = clock.elapsed();
        let field = format!("field `{field}`");
        refused(&out, &[&["case.toml:", field.as_str()], needles].concat());
        assert!(took < Duration::from_secs(10), "{args:?} took {took:?}");
        assert!(written(dir.path()).is_empty(), "{:?}", written(dir.path()));
    }
}

#[test]
fn a_trillion_seeds_are_refused_by_count() {
    case_refused(
        &sweep(
            "steps = 10\nseeds = 1000000000000",
            "kind = \"rastrigin\"\ndim = 2",
            "",
        ),
        &[],
        "seeds",
        &[
            "1000000000000 runs (1 landscape x 1 optimizer x 1 schedule x 1000000000000 seeds)",
            "the limit is 10000000 runs (--max-runs)",
        ],
    );
}

#[test]
fn an_axis_times_many_seeds_is_refused_by_count() {
    case_refused(
        &sweep(
            "steps = 10\nseeds = 100000000",
            "kind = \"rastrigin\"\ndim = 2",
            "momentum = { sweep = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7] }",
        ),
        &[],
        "seeds",
        &[
            "800000000 runs",
            "8 optimizers (optimizer[0].momentum: 8 values)",
            "100000000 seeds",
        ],
    );
}

#[test]
fn a_count_beyond_64_bits_is_refused() {
    // (2^63 - 1) seeds x 4096 momenta overflows 64 bits.
    let axis = format!(
        "momentum = {{ sweep = [{}] }}",
        vec!["0.5"; 4096].join(", ")
    );
    let src = sweep(
        "steps = 10\nseeds = 9223372036854775807",
        "kind = \"rastrigin\"\ndim = 2",
        &axis,
    );
    case_refused(&src, &[], "seeds", &["more than 18446744073709551615 runs"]);
}

#[test]
fn a_huge_dim_is_refused_by_memory() {
    // 10^11 coordinates: the 6 vectors of a run (x, gradient, previous
    // gradient, previous x, noise scratch, SGD's momentum buffer) are
    // 6·8·10^11 bytes = 4.80 TB.
    case_refused(
        &sweep("steps = 10", &format!("{QUAD}\ndim = 100000000000"), ""),
        &["--threads", "1"],
        "landscape[0].dim",
        &[
            "landscape[0].dim = 100000000000 needs 4.80 TB per run for optimizer buffers (6 vectors of length dim)",
            "the limit is 12.0 GB (--max-memory)",
        ],
    );
}

/// An mlp's size is width·(d + 1): its default init holds two bounds per
/// coordinate, refused before they are built (this aborted with an
/// allocation failure, or panicked on a capacity overflow, found by the
/// fuzz test).
#[test]
fn a_huge_mlp_width_is_refused_before_its_default_init() {
    // d = 10 by default: 11 coordinates per hidden unit.
    case_refused(
        &sweep("steps = 10", "kind = \"mlp\"\nwidth = 1000000000000", ""),
        &[],
        "landscape[0].width",
        &[
            "gives 11000000000000 coordinates, whose default init needs 176 TB of per-coordinate bounds",
            "the limit is 12.0 GB (--max-memory)",
        ],
    );
    case_refused(
        &sweep(
            "steps = 10",
            "kind = \"mlp\"\nwidth = 4000000000000000000",
            "",
        ),
        &[],
        "landscape[0].width",
        &["gives more than 18446744073709551615 coordinates"],
    );
    // The message names the factor that makes the size: here the input
    // dimension (8·(10^12 + 1) coordinates), and a factorization's rows
    // ((10^12 + 10)·2).
    case_refused(
        &sweep(
            "steps = 10",
            "kind = \"mlp\"\nwidth = 8\ndata = { d = 1000000000000 }",
            "",
        ),
        &[],
        "landscape[0].data.d",
        &["gives 8000000000008 coordinates, whose default init needs 128 TB"],
    );
    case_refused(
        &sweep(
            "steps = 10",
            "kind = \"matrix_factorization\"\nrank = 2\nrows = 1000000000000",
            "",
        ),
        &[],
        "landscape[0].rows",
        &["gives 2000000000020 coordinates, whose default init needs 32.0 TB"],
    );
}

#[test]
fn a_huge_rotation_is_refused_by_memory() {
    // 200000² · 8 bytes = 3.2·10^11 = 320 GB.
    case_refused(
        &sweep(
            "steps = 10",
            &format!("{QUAD}\ndim = 200000\nrotate = true"),
            "",
        ),
        &[],
        "landscape[0].dim",
        &[
            "landscape[0].dim = 200000 with rotate = true needs a 320 GB rotation matrix (and 640 GB more while it is built)",
            "the limit is 12.0 GB (--max-memory)",
        ],
    );
}

#[test]
fn a_huge_step_count_is_refused_by_memory() {
    // 10^14 steps traced every 10: 10^13 + 1 rows. The trace streams in
    // chunks, but trace.parquet keeps the metadata of its 76,293,946 row
    // groups of 131,072 rows (64 kB each) until its footer: 4.88 TB.
    case_refused(
        &sweep(
            "steps = 100000000000000",
            "kind = \"rastrigin\"\ndim = 20",
            "",
        ),
        &[],
        "steps",
        &[
            "steps = 100000000000000 with trace_every = 10 (10000000000001 trace rows) needs a 4.88 TB row group metadata of trace.parquet",
            "(--max-memory)",
        ],
    );
}

#[test]
fn a_huge_output_is_refused_by_max_output() {
    // 1000 steps (1000 rows) x 18 values x 8 bytes = 144 kB of trace,
    // 400 B of runs, twice: 289 kB.
    case_refused(
        &sweep(
            "steps = 1000\ntrace_every = 1\nhessian = false",
            "kind = \"rastrigin\"\ndim = 20",
            "",
        ),
        &["--max-output", "100K"],
        "steps",
        &[
            "the output needs about 289 kB on disk at its peak",
            "1000 rows x 18 values x 8 bytes",
            "the limit is 100 kB (--max-output)",
        ],
    );
}

#[test]
fn a_negative_dim_names_its_field() {
    case_refused(
        &sweep("steps = 10", &format!("{QUAD}\ndim = -3"), ""),
        &[],
        "landscape[0].dim",
        &["invalid value"],
    );
}

#[test]
fn bad_limit_flags_are_invalid_input() {
    let src = sweep("steps = 10", "kind = \"rastrigin\"\ndim = 2", "");
    for (flag, value) in [("--max-memory", "12X"), ("--max-output", "lots")] {
        let (dir, _) = setup("case.toml", &src);
        let out = valley(&["sweep", "case.toml", flag, value], dir.path());
        refused(&out, &[&format!("field `{flag}`")]);
        assert!(written(dir.path()).is_empty());
    }
}

#[test]
fn max_runs_is_a_boundary() {
    // 2 landscapes x 3 momenta x 1 schedule x 5 seeds = 30 runs.
    let src = String::from(
        "name = \"b\"\nsteps = 5\nseeds = 5\n[[landscape]]\nkind = \"rastrigin\"\ndim = 2\n[[landscape]]\nkind = \"muller_brown\"\n[[optimizer]]\nkind = \"sgd\"\nmomentum = { sweep = [0.0, 0.5, 0.9] }\n[[schedule]]\nkind = \"constant\"\nlr = 0.01\n",
    );
    let (dir, _) = setup("case.toml", &src);
    let ok = valley(
        &["sweep", "case.toml", "--dry-run", "--max-runs", "30"],
        dir.path(),
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let no = valley(
        &["sweep", "case.toml", "--dry-run", "--max-runs", "29"],
        dir.path(),
    );
    refused(
        &no,
        &["30 runs (2 landscapes (2 tables) x 3 optimizers (optimizer[0].momentum: 3 values) x 1 schedule x 5 seeds)"],
    );
}

#[test]
fn the_run_count_is_the_size_of_the_built_plan() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    // The sweep files of experiments/ and of its subfolders (claims/, protein/).
    let mut files: Vec<_> = Vec::new();
    for d in [dir.clone(), dir.join("claims"), dir.join("protein")] {
        files.extend(
            fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml")),
        );
    }
    files.sort();
    let extra = [
        // Axes in several tables of one section, nested axes, a seed list.
        "name = \"x\"\nsteps = 5\nseeds = [4, 9, 11]\n[[landscape]]\nkind = \"rastrigin\"\ndim = { sweep = [1, 2, 3] }\namplitude = { sweep = [1.0, 10.0] }\n[[landscape]]\nkind = \"muller_brown\"\nscale = { sweep = [1.0, 2.0] }\n[[optimizer]]\nkind = \"adam\"\nnoise = { kind = \"gaussian\", std = { sweep = [0.1, 0.2] } }\n[[schedule]]\nkind = \"warmup\"\nwarmup_steps = { sweep = [1, 2] }\nthen = { kind = \"constant\", lr = { sweep = [0.1, 0.2, 0.3] } }\n",
    ];
    let mut checked = 0;
    for (name, src) in files
        .iter()
        .map(|p| (p.display().to_string(), fs::read_to_string(p).unwrap()))
        .chain(extra.iter().map(|s| ("extra".to_string(), s.to_string())))
    {
        let plan = Plan::from_source(Path::new(&name), &src).unwrap();
        let count = count::count_runs_in(Path::new(&name), &src).unwrap();
        assert_eq!(count.total, Some(plan.run_count() as u64), "{name}");
        checked += 1;
    }
    assert!(checked >= 9);
}

#[test]
fn available_space_agrees_with_df() {
    let dir = tempfile::tempdir().unwrap();
    let ours = memory::available_space(&dir.path().join("not/yet/there")).unwrap();
    let out = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(dir.path())
        .output()
        .unwrap();
    let df: u64 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Other processes write meanwhile: agree within 1 GB.
    assert!(ours.abs_diff(df) < 1_000_000_000, "statvfs {ours}, df {df}");
}

/// A trace-heavy sweep: `runs` runs of `steps` steps traced at every step on
/// a 2-D quadratic (positions and basins traced).
fn trace_heavy(runs: u64, steps: u64) -> String {
    format!(
        "name = \"heavy\"\nsteps = {steps}\nseeds = {runs}\ntrace_every = 1\nhessian = false\n[[landscape]]\nkind = \"quadratic\"\ndim = 2\neigenvalues = [0.5, 1.0]\n[[optimizer]]\nkind = \"sgd\"\nnoise = {{ kind = \"gaussian\", std = 0.1 }}\n[[schedule]]\nkind = \"constant\"\nlr = 0.01\n"
    )
}

/// The estimate bounds the measured peak from above, and is not looser than
/// `slack` times it.
fn assert_bounds(what: &str, estimated: u64, measured: u64, slack: f64) {
    eprintln!(
        "{what}: estimated {}, measured {}",
        memory::fmt_bytes(estimated),
        memory::fmt_bytes(measured)
    );
    assert!(
        estimated >= measured,
        "{what}: estimate {estimated} < peak RSS {measured}"
    );
    assert!(
        (estimated as f64) <= slack * measured as f64,
        "{what}: estimate {estimated} > {slack} x peak RSS {measured}"
    );
}

/// Runs the sweep `src` of `runs` runs on `threads` threads into `out/`;
/// returns its estimate, its measured peak RSS and the folder.
fn estimate_and_run(src: &str, runs: u64, threads: u64) -> (Estimate, u64, tempfile::TempDir) {
    let (dir, _) = setup("case.toml", src);
    let plan = Plan::from_source(Path::new("case.toml"), src).unwrap();
    let e = Estimate::of(&plan, runs, threads);
    let threads = threads.to_string();
    let args = [
        "sweep",
        "case.toml",
        "--quiet",
        "--threads",
        &threads,
        "--out",
        "out",
    ];
    let (code, rss) = peak_rss(&args, dir.path());
    assert_eq!(code, 0);
    (e, rss, dir)
}

#[test]
fn memory_estimate_bounds_the_peak_of_a_trace_heavy_sweep() {
    let (e, rss, dir) = estimate_and_run(&trace_heavy(4, 300_000), 4, 2);
    assert_bounds("trace-heavy sweep", e.memory_peak, rss, 3.0);
    // The output estimate bounds the files written.
    let trace = fs::metadata(dir.path().join("out/trace.parquet"))
        .unwrap()
        .len();
    eprintln!(
        "trace.parquet: estimated {}, written {} ({:.2} bytes per value)",
        memory::fmt_bytes(e.trace_bytes),
        memory::fmt_bytes(trace),
        trace as f64 / (e.trace_rows * e.trace_values_per_row) as f64
    );
    assert!(e.trace_bytes >= trace);
}

/// The case of issue 13: 4 runs x 3,000,000 steps traced at every step on
/// a 2-D quadratic, 2 threads. The traces stream to disk in chunks, so the
/// peak RSS stays far below the 3.9 GB it had when each run held its trace.
#[test]
fn a_long_trace_sweep_runs_in_bounded_memory() {
    let (dir, _) = setup("case.toml", &trace_heavy(4, 3_000_000));
    let args = [
        "sweep",
        "case.toml",
        "--quiet",
        "--threads",
        "2",
        "--out",
        "out",
    ];
    let (code, rss) = peak_rss(&args, dir.path());
    assert_eq!(code, 0);
    eprintln!("4 x 3,000,000 steps: peak RSS {}", memory::fmt_bytes(rss));
    assert!(rss < 256_000_000, "peak RSS {rss}");
    let file = fs::File::open(dir.path().join("out/trace.parquet")).unwrap();
    let rows = ParquetReader::new(file).num_rows().unwrap();
    assert_eq!(rows, 12_000_000);
    assert!(!dir.path().join("out/parts").exists());
}

#[test]
fn memory_estimate_bounds_the_peak_of_a_rotation() {
    // d = 1000: an 8 MB rotation, 24 MB at the peak of its draw.
    let src = "name = \"rot\"\nsteps = 5\nhessian = false\n[[landscape]]\nkind = \"quadratic\"\ndim = 1000\neigenvalues = { kind = \"geometric\", min = 0.1, max = 1.0 }\nrotate = true\n[[optimizer]]\nkind = \"sgd\"\n[[schedule]]\nkind = \"constant\"\nlr = 0.01\n";
    let (e, rss, _dir) = estimate_and_run(src, 1, 1);
    assert_bounds("rotated quadratic d = 1000", e.memory_peak, rss, 3.0);
}

/// The case of issue 23: a million short runs (20 steps on 2-D Rastrigin).
/// Runs are made from their index, handed over in batches and consolidated
/// part by part, so the peak stays flat (it was 1.8 GB when the plan and
/// the runs frame were held whole); the estimate bounds it.
#[test]
fn a_million_short_runs_run_in_flat_memory() {
    let src = "name = \"many\"\nsteps = 20\nseeds = 1000000\ntrace_every = 20\ntrace_positions = false\nhessian = false\n[[landscape]]\nkind = \"rastrigin\"\ndim = 2\n[[optimizer]]\nkind = \"sgd\"\n[[schedule]]\nkind = \"constant\"\nlr = 0.001\n";
    let (e, rss, dir) = estimate_and_run(src, 1_000_000, 2);
    eprintln!("1,000,000 runs: peak RSS {}", memory::fmt_bytes(rss));
    assert!(rss < 256_000_000, "peak RSS {rss}");
    assert_bounds("1,000,000 short runs", e.memory_peak, rss, 3.0);
    let file = fs::File::open(dir.path().join("out/runs.parquet")).unwrap();
    let runs = ParquetReader::new(file).finish().unwrap();
    assert_eq!(runs.height(), 1_000_000);
    // In plan order, each run once.
    let index = runs.column("run_index").unwrap().i64().unwrap();
    assert!(index.iter().enumerate().all(|(i, v)| v == Some(i as i64)));
}

#[test]
fn dry_run_prints_the_estimates() {
    let src = sweep(
        "steps = 200\nseeds = 4",
        "kind = \"rastrigin\"\ndim = 10",
        "momentum = 0.9",
    );
    let (dir, _) = setup("case.toml", &src);
    let out = valley(
        &["sweep", "case.toml", "--dry-run", "--threads", "2"],
        dir.path(),
    );
    let text = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(text.contains("memory peak: about"), "{text}");
    assert!(text.contains("(--max-memory)"), "{text}");
    // 4 runs x 21 rows (steps 0, 10, ..., 190 and 199) x 18 values (run_id, step, lr, loss, grad_norm, ten optional floats, two flags, basin) x 8 bytes.
    assert!(text.contains("84 rows x 18 values x 8 bytes"), "{text}");
    assert!(text.contains("time: about"), "{text}");
    assert!(written(dir.path()).is_empty());
}
