//! Faults driven on the real binary: a kill at every stage of consolidation
//! and merge, damaged parts, two processes on one folder, SIGTERM mid-sweep,
//! and the build-time git revision of a binary run outside any repository.
//!
//! Kills at a chosen stage use the test hook `VALLEY_FAULT` (see
//! `src/results/fault.rs`): `VALLEY_FAULT=<stage>` makes the process send
//! itself SIGKILL there, exactly what a `kill -9` at that moment does;
//! `pause:<stage>` holds it there so that this test kills it from outside.

use crate::common::{assert_same_rows, command, read, setup, stderr, valley};
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SWEEP: &str = r#"
name = "faults"
steps = 40
seeds = 3
trace_every = 10

[[landscape]]
kind = "quadratic"
dim = 3
eigenvalues = { kind = "geometric", min = 0.1, max = 4.0 }
rotate = true

[[landscape]]
kind = "muller_brown"

[[optimizer]]
kind = "sgd"
momentum = { sweep = [0.0, 0.9] }
noise = { kind = "gaussian", std = 0.1 }

[[schedule]]
kind = "cosine"
lr = 0.002
total_steps = 40
"#;

/// 2 landscapes x 2 momenta x 3 seeds.
const RUNS: usize = 12;

/// The binary with `args` in `cwd`, the fault hook set to `fault`.
fn faulted(args: &[&str], cwd: &Path, fault: Option<&str>) -> Command {
    let mut c = command(args, cwd);
    if let Some(f) = fault {
        c.env("VALLEY_FAULT", f);
    }
    c
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", stderr(o));
}

fn killed(o: &Output) {
    assert_eq!(o.status.signal(), Some(9), "{}", stderr(o));
}

/// A complete folder: consolidated files, no parts or temporaries left.
fn assert_clean(dir: &Path) {
    let names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for stale in ["parts", "parts.old", "parts.new"] {
        assert!(!names.iter().any(|n| n == stale), "{stale} left: {names:?}");
    }
    assert!(
        !names.iter().any(|n| n.ends_with(".tmp")),
        "temporaries left: {names:?}"
    );
}

struct Setup {
    tmp: tempfile::TempDir,
    file: String,
}

impl Setup {
    /// A sweep file and its uninterrupted results in `whole/`.
    fn new(src: &str) -> Self {
        let (tmp, file) = setup("sweep.toml", src);
        let s = Self {
            file: file.to_str().unwrap().to_string(),
            tmp,
        };
        ok(&s.run(&["--out", "whole"], None));
        s
    }

    fn path(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    fn run(&self, extra: &[&str], fault: Option<&str>) -> Output {
        let mut args = vec!["sweep", self.file.as_str(), "-q"];
        args.extend(extra);
        faulted(&args, self.tmp.path(), fault)
            .output()
            .expect("the valley binary runs")
    }
}

const CONSOLIDATION_STAGES: [&str; 6] = [
    "runs_tmp",
    "trace_tmp",
    "trace_renamed",
    "runs_renamed",
    "parts_renamed",
    "parts_removing",
];

#[test]
fn a_sweep_killed_at_any_stage_of_consolidation_resumes_to_the_same_rows() {
    let s = Setup::new(SWEEP);
    for stage in CONSOLIDATION_STAGES {
        let out = format!("k-{stage}");
        killed(&s.run(&["--out", &out], Some(stage)));
        let dir = s.path(&out);
        // The state the kill left, as the stage names it.
        let exists = |p: &str| dir.join(p).exists();
        match stage {
            "runs_tmp" => assert!(exists("runs.parquet.tmp") && exists("parts")),
            "trace_tmp" => assert!(exists("trace.parquet.tmp") && exists("runs.parquet.tmp")),
            "trace_renamed" => assert!(exists("trace.parquet") && exists("runs.parquet.tmp")),
            "runs_renamed" => assert!(exists("runs.parquet") && exists("parts")),
            _ => assert!(exists("runs.parquet") && exists("parts.old") && !exists("parts")),
        }
        // The lock of the killed process does not block the resume.
        assert!(exists(".valley.lock"));
        let o = s.run(&["--out", &out, "--resume"], None);
        ok(&o);
        assert!(
            stderr(&o).contains(&format!("{RUNS} resumed")),
            "{stage}: {}",
            stderr(&o)
        );
        assert_eq!(assert_same_rows(&s.path("whole"), &dir), RUNS);
        assert_clean(&dir);
    }
}

#[test]
fn resuming_a_finished_sweep_killed_while_it_reopens_keeps_every_row() {
    let s = Setup::new(SWEEP);
    for stage in ["staging", "staged"] {
        let out = format!("r-{stage}");
        ok(&s.run(&["--out", &out], None));
        killed(&s.run(&["--out", &out, "--resume"], Some(stage)));
        ok(&s.run(&["--out", &out, "--resume"], None));
        assert_eq!(assert_same_rows(&s.path("whole"), &s.path(&out)), RUNS);
        assert_clean(&s.path(&out));
    }
}

#[test]
fn a_merge_killed_at_any_stage_gives_the_same_rows_when_run_again() {
    let s = Setup::new(SWEEP);
    for k in ["1/2", "2/2"] {
        ok(&s.run(&["--out", "split", "--shard", k], None));
    }
    for stage in &CONSOLIDATION_STAGES[..4] {
        killed(
            &faulted(&["merge", "split"], s.tmp.path(), Some(stage))
                .output()
                .unwrap(),
        );
        let o = valley(&["merge", "split"], s.tmp.path());
        ok(&o);
        assert_eq!(assert_same_rows(&s.path("whole"), &s.path("split")), RUNS);
        assert_clean(&s.path("split"));
    }
}

/// A first merge (no sweep.json yet) killed after it renamed trace.parquet,
/// or runs.parquet, into place is finished by running it again: the files
/// it left carry the shards' plan fingerprint, so the merge knows them for
/// its own (and would refuse another plan's).
#[test]
fn a_first_merge_killed_after_its_renames_finishes_when_run_again() {
    for stage in ["trace_renamed", "runs_renamed"] {
        let s = Setup::new(SWEEP);
        for k in ["1/2", "2/2"] {
            ok(&s.run(&["--out", "split", "--shard", k], None));
        }
        killed(
            &faulted(&["merge", "split"], s.tmp.path(), Some(stage))
                .output()
                .unwrap(),
        );
        assert!(!s.path("split").join("sweep.json").exists(), "{stage}");
        let o = valley(&["merge", "split"], s.tmp.path());
        ok(&o);
        assert_eq!(assert_same_rows(&s.path("whole"), &s.path("split")), RUNS);
    }
}

fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn(s: &Setup, extra: &[&str], fault: Option<&str>) -> Child {
    let mut args = vec!["sweep", s.file.as_str(), "-q"];
    args.extend(extra);
    faulted(&args, s.tmp.path(), fault)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A real `kill -9` from outside, between the two renames (the window of
/// the original bug report), then `--resume`.
#[test]
fn a_real_kill_9_between_the_renames_is_resumed() {
    let s = Setup::new(SWEEP);
    let mut child = spawn(&s, &["--out", "k9"], Some("pause:trace_renamed"));
    let dir = s.path("k9");
    wait_for("trace.parquet", Duration::from_secs(60), || {
        dir.join("trace.parquet").exists() && dir.join("runs.parquet.tmp").exists()
    });
    child.kill().unwrap(); // SIGKILL
    assert_eq!(child.wait().unwrap().signal(), Some(9));
    ok(&s.run(&["--out", "k9", "--resume"], None));
    assert_eq!(assert_same_rows(&s.path("whole"), &dir), RUNS);
}

/// Names in `dir` (empty when it does not exist).
fn names_in(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A `kill -9` in the middle of a run whose trace streams to disk (three
/// runs of 60,000 steps traced at every step: about three chunks each),
/// after the first run finished: the killed run's chunks are discarded on
/// `--resume`, the finished run is kept, and the rows equal those of an
/// uninterrupted sweep.
#[test]
fn a_kill_9_while_a_trace_streams_resumes_to_the_same_rows() {
    let src = "name = \"stream\"\nsteps = 60000\nseeds = 3\ntrace_every = 1\nhessian = false\n[[landscape]]\nkind = \"quadratic\"\ndim = 2\neigenvalues = [0.5, 1.0]\n[[optimizer]]\nkind = \"sgd\"\nnoise = { kind = \"gaussian\", std = 0.1 }\n[[schedule]]\nkind = \"constant\"\nlr = 0.01\n";
    let s = Setup::new(src);
    // Each chunk pauses 0.3 s: a run takes about a second.
    let mut child = spawn(
        &s,
        &["--out", "k9", "--threads", "1"],
        Some("pause:chunk_written:0.3"),
    );
    let parts = s.path("k9/parts");
    let streaming = |names: &[String]| {
        names
            .iter()
            .any(|n| n.starts_with("chunks-") && n.ends_with(".tmp"))
    };
    wait_for(
        "a finished run and a streaming one",
        Duration::from_secs(60),
        || {
            let names = names_in(&parts);
            names.iter().any(|n| n == "runs-000000.parquet") && streaming(&names)
        },
    );
    child.kill().unwrap(); // SIGKILL
    assert_eq!(child.wait().unwrap().signal(), Some(9));
    let names = names_in(&parts);
    assert!(streaming(&names), "{names:?}");
    assert!(
        !names.iter().any(|n| n == "runs-000002.parquet"),
        "killed after the last run: {names:?}"
    );
    let o = s.run(&["--out", "k9", "--resume"], None);
    ok(&o);
    let msg = stderr(&o);
    assert!(
        msg.contains(", 1 resumed") || msg.contains(", 2 resumed"),
        "{msg}"
    );
    assert_eq!(assert_same_rows(&s.path("whole"), &s.path("k9")), 3);
    assert_eq!(read(&s.path("k9/trace.parquet")).height(), 3 * 60_000);
    assert_clean(&s.path("k9"));
}

/// A second process on a folder in use is refused at once and names the
/// holder's pid; the first finishes with every run.
#[test]
fn a_second_writer_is_refused_and_the_first_keeps_every_run() {
    let s = Setup::new(SWEEP);
    let mut first = spawn(&s, &["--out", "busy"], Some("pause:runs_tmp:4"));
    let dir = s.path("busy");
    wait_for(
        "the first sweep to consolidate",
        Duration::from_secs(60),
        || dir.join("runs.parquet.tmp").exists(),
    );
    let started = Instant::now();
    let o = s.run(&["--out", "busy", "--resume"], None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "refused at once"
    );
    let msg = stderr(&o);
    assert!(msg.contains("in use by process"), "{msg}");
    assert!(msg.contains(&first.id().to_string()), "{msg}");
    assert!(msg.contains("busy: the results folder is in use"), "{msg}");
    let status = first.wait().unwrap();
    assert!(status.success());
    assert_eq!(assert_same_rows(&s.path("whole"), &dir), RUNS);
}

/// SIGTERM (what Slurm sends at the time limit) flushes the finished runs,
/// says how many are kept, exits 130; `--resume` completes the same rows.
#[test]
fn sigterm_keeps_every_finished_run() {
    // 24 runs of a few hundred milliseconds each, run one at a time: the
    // first flush (after 2 s) comes long before the end.
    let src = r#"
name = "term"
steps = 6000000
seeds = 24
hessian = false
trace_every = 200000

[[landscape]]
kind = "quadratic"
dim = 2
eigenvalues = [0.5, 1.0]

[[optimizer]]
kind = "sgd"
noise = { kind = "gaussian", std = 0.1 }

[[schedule]]
kind = "constant"
lr = 0.01
"#;
    const RUNS: usize = 24;
    let s = Setup::new(src);
    let child = spawn(&s, &["--out", "term", "--threads", "1"], None);
    let parts = s.path("term/parts");
    let runs_parts = || {
        fs::read_dir(&parts)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("runs-"))
                    .count()
            })
            .unwrap_or(0)
    };
    wait_for("a first flushed part", Duration::from_secs(120), || {
        runs_parts() > 0
    });
    // SAFETY: kill(2) on the pid of our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    let msg = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{msg}");
    let kept: usize = msg
        .split("interrupted: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {msg:?}"));
    assert!(
        msg.contains(&format!(
            "interrupted: {kept} of {RUNS} runs kept; rerun with --resume"
        )),
        "{msg}"
    );
    assert!((1..RUNS).contains(&kept), "{msg}");
    // Every kept run is on disk.
    let on_disk: usize = fs::read_dir(&parts)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("runs-"))
        .map(|e| read(&e.path()).height())
        .sum();
    assert_eq!(on_disk, kept);
    let o = s.run(&["--out", "term", "--resume"], None);
    ok(&o);
    assert!(
        stderr(&o).contains(&format!("{kept} resumed")),
        "{}",
        stderr(&o)
    );
    assert_eq!(assert_same_rows(&s.path("whole"), &s.path("term")), RUNS);
}

/// Makes a folder as a sweep killed after two flushes would leave it: the
/// two shards' consolidated files become parts 0 and 1.
fn two_parts(s: &Setup, out: &str) -> PathBuf {
    for k in ["1/2", "2/2"] {
        ok(&s.run(&["--out", &format!("{out}-src"), "--shard", k], None));
    }
    let dir = s.path(out);
    fs::create_dir_all(dir.join("parts")).unwrap();
    for (i, k) in ["1", "2"].iter().enumerate() {
        let shard = s.path(&format!("{out}-src/shard-{k}-of-2"));
        for kind in ["runs", "trace"] {
            fs::rename(
                shard.join(format!("{kind}.parquet")),
                dir.join(format!("parts/{kind}-{i:06}.parquet")),
            )
            .unwrap();
        }
    }
    dir
}

fn truncate(path: &Path) {
    let len = fs::metadata(path).unwrap().len();
    let f = fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_len(len / 2).unwrap();
}

#[test]
fn a_truncated_part_is_set_aside_and_its_runs_are_run_again() {
    let s = Setup::new(SWEEP);
    for kind in ["runs", "trace"] {
        let out = format!("damaged-{kind}");
        let dir = two_parts(&s, &out);
        truncate(&dir.join(format!("parts/{kind}-000001.parquet")));
        let o = s.run(&["--out", &out, "--resume"], None);
        ok(&o);
        let msg = stderr(&o);
        assert!(
            msg.contains(&format!(
                "damaged part file set aside: {}",
                Path::new(&out)
                    .join(format!("parts/quarantine/{kind}-000001.parquet"))
                    .display()
            )),
            "{msg}"
        );
        // Shard 1/2 holds half the runs: those are kept, the rest run again.
        assert!(msg.contains(&format!("{} resumed", RUNS / 2)), "{msg}");
        assert_eq!(assert_same_rows(&s.path("whole"), &dir), RUNS);
        assert!(dir
            .join(format!("quarantine/{kind}-000001.parquet"))
            .exists());
        assert_clean(&dir);
    }
}

/// The git revision is recorded at build time: a copy of the binary run
/// outside any repository still writes it into sweep.json.
#[test]
fn sweep_json_carries_the_build_revision_outside_any_repository() {
    let (tmp, _) = setup("sweep.toml", SWEEP);
    let bin = tmp.path().join("valley");
    fs::copy(env!("CARGO_BIN_EXE_valley"), &bin).unwrap();
    // A copy of the binary, not the one `command` runs.
    let o = Command::new(&bin)
        .args(["sweep", "sweep.toml", "--out", "out", "-q"])
        .current_dir(tmp.path())
        .env("GIT_CEILING_DIRECTORIES", tmp.path().parent().unwrap())
        .env_remove("VALLEY_FAULT")
        .output()
        .unwrap();
    ok(&o);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.path().join("out/sweep.json")).unwrap())
            .unwrap();
    let source = Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match source {
        Some(rev) => {
            assert_eq!(json["git_revision"], rev.as_str());
            assert!(json["git_dirty"].is_boolean(), "{}", json["git_dirty"]);
        }
        // Built from a tarball: nothing is known, and nothing is made up.
        None => assert!(json["git_revision"].is_null()),
    }
}

/// `valley same-rows` (the check of scripts/slurm/selftest.sh) agrees on
/// equal folders and names the first difference otherwise.
#[test]
fn same_rows_tells_equal_folders_from_different_ones() {
    let s = Setup::new(SWEEP);
    ok(&s.run(&["--out", "again", "--threads", "1"], None));
    let o = valley(&["same-rows", "whole", "again"], s.tmp.path());
    ok(&o);
    let other = s.path("other.toml");
    fs::write(&other, SWEEP.replace("std = 0.1", "std = 0.10000001")).unwrap();
    let other = other.to_str().unwrap();
    ok(&valley(
        &["sweep", other, "--out", "other", "-q"],
        s.tmp.path(),
    ));
    let o = valley(&["same-rows", "whole", "other"], s.tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("runs.parquet: row 0"), "{}", stderr(&o));
}

/// A tmpfs mounted for one test (root only), unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: PathBuf, bytes: u64) -> Option<Self> {
        fs::create_dir_all(&at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}")])
            .arg("tmpfs")
            .arg(&at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self(at))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A full disk during consolidation: exit 1 naming ENOSPC, the finished
/// parts kept and no temporary left; `--resume` after moving the folder to
/// a larger disk gives the same rows. Needs root (mount); skipped otherwise.
#[test]
fn a_full_disk_keeps_the_parts_and_names_enospc() {
    let s = Setup::new(&SWEEP.replace("trace_every = 10", "trace_every = 1"));
    let size = |f: &str| fs::metadata(s.path("whole").join(f)).unwrap().len();
    // Room for the parts (about the size of the consolidated files) but not
    // for a second copy of them.
    let room = (size("runs.parquet") + size("trace.parquet")) * 3 / 2 + 16 * 1024;
    let Some(disk) = SmallDisk::mount(s.path("small"), room) else {
        eprintln!("skipped: cannot mount a tmpfs (not root?)");
        return;
    };
    // The output estimate (an upper bound) would refuse this sweep up front
    // (exit 2, tested in tests/it/guards.rs); lift it to reach the disk itself.
    let o = s.run(&["--out", "small/o", "--max-output", "1000G"], None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("No space left on device"),
        "{}",
        stderr(&o)
    );
    let parts: Vec<String> = fs::read_dir(s.path("small/o/parts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(parts.iter().any(|p| p.starts_with("runs-")), "{parts:?}");
    assert!(!parts.iter().any(|p| p.ends_with(".tmp")), "{parts:?}");
    copy_dir(&s.path("small/o"), &s.path("moved"));
    drop(disk);
    ok(&s.run(&["--out", "moved", "--resume"], None));
    assert_eq!(assert_same_rows(&s.path("whole"), &s.path("moved")), RUNS);
}
