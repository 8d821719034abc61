//! A user's files are sacred: every destructive path of the binary
//! (`--force`, `--resume`, `merge`) driven on folders full of someone else's
//! files, each of which must still be there, byte for byte, afterwards.

use crate::common::{text, valley};

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

const SMALL: &str = r#"
name = "small"
steps = 20
seeds = 2
trace_every = 5

[[landscape]]
kind = "quadratic"
dim = 2
eigenvalues = { kind = "geometric", min = 0.1, max = 4.0 }

[[optimizer]]
kind = "sgd"

[[schedule]]
kind = "constant"
lr = 0.1
"#;

/// Another plan: a different sweep file.
const OTHER: &str = r#"
name = "other"
steps = 20
seeds = 2
trace_every = 5

[[landscape]]
kind = "rastrigin"
dim = 2

[[optimizer]]
kind = "sgd"

[[schedule]]
kind = "constant"
lr = 0.01
"#;

/// Writes a folder of someone else's files into `dir`: text, data, a
/// temporary of another program, a nested folder, a PNG of their own.
fn user_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let files: [(&str, &[u8]); 6] = [
        ("notes.txt", b"my notes\n"),
        ("data.csv", b"a,b\n1,2\n"),
        ("editor.swp.tmp", b"another program's temporary"),
        ("analysis/fit.py", b"print('mine')\n"),
        ("analysis/deep/x.bin", &[0, 1, 2, 3]),
        ("plots/mine.png", b"not valley's"),
    ];
    let mut out = BTreeMap::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, bytes).unwrap();
        out.insert(path, bytes.to_vec());
    }
    out
}

fn assert_all_there(files: &BTreeMap<PathBuf, Vec<u8>>) {
    for (path, bytes) in files {
        let now = fs::read(path).unwrap_or_else(|e| panic!("{} is gone: {e}", path.display()));
        assert_eq!(&now, bytes, "{} changed", path.display());
    }
}

#[test]
fn force_and_resume_refuse_a_folder_valley_did_not_make() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    fs::create_dir_all(&project).unwrap();
    let mut files = user_files(&project);
    // The sweep file itself lives in the folder, as in the report.
    let sweep = project.join("sweep.toml");
    fs::write(&sweep, SMALL).unwrap();
    files.insert(sweep.clone(), SMALL.as_bytes().to_vec());
    for flag in ["--force", "--resume"] {
        let o = valley(
            &[
                "sweep",
                "project/sweep.toml",
                "--out",
                "project",
                flag,
                "-q",
            ],
            tmp.path(),
        );
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flag}: {err}");
        assert!(
            err.contains("not a valley results folder") && err.contains("notes.txt"),
            "{flag}: {err}"
        );
        assert!(err.contains(flag), "{flag}: {err}");
        assert_all_there(&files);
        // Nothing of valley's was written there either.
        for own in [".valley.lock", "parts", "sweep.json", "runs.parquet"] {
            assert!(!project.join(own).exists(), "{flag} wrote {own}");
        }
    }
    // `--out .` from inside the folder: the same.
    let o = valley(&["sweep", "sweep.toml", "--out", ".", "--force"], &project);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert_all_there(&files);
}

#[test]
fn force_on_a_results_folder_removes_only_what_valley_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("s.toml"), SMALL).unwrap();
    let o = valley(&["sweep", "s.toml", "--out", "res", "-q"], tmp.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let res = tmp.path().join("res");
    let o = valley(&["plot", "res"], tmp.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(res.join("figures").is_dir());
    // The user keeps their own things in the results folder.
    let mut files = user_files(&res);
    fs::write(res.join("figures/annotated.svg"), b"<svg/>").unwrap();
    files.insert(res.join("figures/annotated.svg"), b"<svg/>".to_vec());
    let o = valley(
        &["sweep", "s.toml", "--out", "res", "--force", "-q"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_all_there(&files);
    assert!(res.join("runs.parquet").is_file() && res.join("trace.parquet").is_file());
    // valley's own PNGs went with --force; the user's figure stayed.
    let pngs = fs::read_dir(res.join("figures"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count();
    assert_eq!(pngs, 0);
    // --resume on the finished folder keeps them too.
    let o = valley(
        &["sweep", "s.toml", "--out", "res", "--resume", "-q"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_all_there(&files);
}

#[test]
fn merge_refuses_a_folder_that_holds_another_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("a.toml"), SMALL).unwrap();
    fs::write(tmp.path().join("b.toml"), OTHER).unwrap();
    // Plan B, finished, in `out`.
    let o = valley(&["sweep", "b.toml", "--out", "out", "-q"], tmp.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = tmp.path().join("out");
    let before: BTreeMap<PathBuf, Vec<u8>> = ["runs.parquet", "trace.parquet", "sweep.json"]
        .iter()
        .map(|f| (out.join(f), fs::read(out.join(f)).unwrap()))
        .collect();
    // Plan A's shards put into the same folder.
    for k in ["1/2", "2/2"] {
        let o = valley(
            &["sweep", "a.toml", "--out", "out", "--shard", k, "-q"],
            tmp.path(),
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    let o = valley(&["merge", "out"], tmp.path());
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("another sweep file"), "{err}");
    assert_all_there(&before);

    // Result files without a sweep.json (someone else's runs.parquet) are
    // not overwritten either.
    fs::remove_file(out.join("sweep.json")).unwrap();
    let o = valley(&["merge", "out"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert_eq!(
        fs::read(out.join("runs.parquet")).unwrap(),
        before[&out.join("runs.parquet")]
    );
}

/// One plan per results folder: a data file edited between a sweep and
/// `--resume` is another plan (its content is in every run id), so the
/// resume is refused instead of mixing two datasets under exit 0.
#[test]
fn an_edited_data_file_is_another_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = r#"
name = "data"
steps = 10
seeds = 2
[[landscape]]
kind = "least_squares"
data = { file = "d.csv", target = "y" }
[[optimizer]]
kind = "sgd"
[[schedule]]
kind = "constant"
lr = 0.1
"#;
    fs::write(tmp.path().join("s.toml"), sweep).unwrap();
    fs::write(tmp.path().join("d.csv"), "a,b,y\n1,0,1\n0,1,2\n1,1,2\n").unwrap();
    let o = valley(&["sweep", "s.toml", "--out", "res", "-q"], tmp.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let runs = fs::read(tmp.path().join("res/runs.parquet")).unwrap();
    // The same file again: resuming finds every run done.
    let o = valley(
        &["sweep", "s.toml", "--out", "res", "--resume", "-q"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    // One value edited: the recorded runs belong to another plan.
    fs::write(tmp.path().join("d.csv"), "a,b,y\n1,0,1\n0,1,2\n1,1,3\n").unwrap();
    let o = valley(
        &["sweep", "s.toml", "--out", "res", "--resume", "-q"],
        tmp.path(),
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("not in this sweep's plan"), "{err}");
    assert_eq!(fs::read(tmp.path().join("res/runs.parquet")).unwrap(), runs);
}

/// A changed plan resumes, never bricks: a sweep extended by a seed, an axis
/// value and a schedule with an axis of its own consolidates on `--resume`,
/// and its rows (run_index and axis columns included) equal those of the
/// extended sweep run in one go. Before, the consolidation failed on the
/// new column ("lengths don't match") after removing runs.parquet, and the
/// old runs kept their old run_index.
#[test]
fn an_extended_sweep_resumes_to_the_rows_of_the_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let base = r#"
name = "grow"
steps = 20
seeds = SEEDS
trace_every = 5
[[landscape]]
kind = "rastrigin"
dim = 2
[[optimizer]]
kind = "sgd"
momentum = { sweep = MOMENTA }
[[schedule]]
kind = "constant"
lr = 0.01
"#;
    let first = base.replace("SEEDS", "2").replace("MOMENTA", "[0.0, 0.9]");
    let grown = base.replace("SEEDS", "3").replace("MOMENTA", "[0.0, 0.5, 0.9]")
        + "[[schedule]]\nkind = \"step\"\nlr = 0.01\nstep_size = 5\ngamma = { sweep = [0.5, 0.1] }\n";
    fs::write(tmp.path().join("first.toml"), &first).unwrap();
    fs::write(tmp.path().join("grown.toml"), &grown).unwrap();
    let o = valley(&["sweep", "first.toml", "--out", "res", "-q"], tmp.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    // The grown file in place of the first, as a user edits it.
    fs::copy(tmp.path().join("grown.toml"), tmp.path().join("first.toml")).unwrap();
    let o = valley(
        &["sweep", "first.toml", "--out", "res", "--resume", "-q"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = valley(&["sweep", "grown.toml", "--out", "whole", "-q"], tmp.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let n = crate::common::assert_same_rows(&tmp.path().join("res"), &tmp.path().join("whole"));
    // 3 seeds x 3 momenta x (1 + 2) schedules.
    assert_eq!(n, 27);
}

/// Every reader checks that the rows and sweep.json belong together: plan
/// B's runs.parquet under plan A's sweep.json (as a merge killed between
/// its commit and sweep.json, over an older merge, left it) is refused by
/// compare, report and plot instead of shown under the wrong plan.
#[test]
fn readers_refuse_rows_of_another_plan() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("a.toml"), SMALL).unwrap();
    fs::write(
        tmp.path().join("b.toml"),
        SMALL.replace("lr = 0.1", "lr = 0.2"),
    )
    .unwrap();
    for (f, out) in [("a.toml", "a"), ("b.toml", "b")] {
        let o = valley(&["sweep", f, "--out", out, "-q"], tmp.path());
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    // Both readers work on a folder whose parts belong together.
    let o = valley(&["plot", "a"], tmp.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    for f in ["runs.parquet", "trace.parquet"] {
        fs::copy(tmp.path().join("b").join(f), tmp.path().join("a").join(f)).unwrap();
    }
    for args in [
        vec!["compare", "a", "--by", "seed"],
        vec!["report", "a"],
        vec!["plot", "a"],
    ] {
        let o = valley(&args, tmp.path());
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("belongs to another plan"), "{args:?}: {err}");
    }
}
