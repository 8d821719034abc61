//! Records the git revision valley is built from, so that `sweep.json` names
//! it wherever the binary later runs (a cluster node has no source tree).
//!
//! Sets `VALLEY_GIT_REVISION` (the commit hash, or empty when unknown) and
//! `VALLEY_GIT_DIRTY` (`true` when tracked files differ from that commit,
//! `false`, or empty when unknown). Without git or without `.git` (a source
//! tarball) both are empty and the build goes on. Cargo reruns this script
//! when HEAD moves (`.git/HEAD`, the branch's ref file, `packed-refs`), when
//! the index changes, and when a source file of the binary changes (for the
//! dirty flag). Its own `git status` must not write the index
//! (`--no-optional-locks`), or the build would trigger its own rerun.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let out = Command::new("git")
        .arg("-C")
        .arg(manifest)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// True when the manifest folder is the top of a git work tree (and not a
/// tarball unpacked inside some other repository).
fn in_own_repository() -> bool {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let top = git(&["rev-parse", "--show-toplevel"]);
    let canon = |p: &str| std::fs::canonicalize(p).ok();
    top.is_some_and(|t| canon(&t).is_some() && canon(&t) == canon(&manifest))
}

fn main() {
    for path in ["build.rs", "Cargo.toml", "Cargo.lock", "src"] {
        println!("cargo:rerun-if-changed={path}");
    }
    if !in_own_repository() {
        println!("cargo:rustc-env=VALLEY_GIT_REVISION=");
        println!("cargo:rustc-env=VALLEY_GIT_DIRTY=");
        return;
    }
    let revision = git(&["rev-parse", "--verify", "HEAD"]).unwrap_or_default();
    // `--git-path` resolves the files of linked worktrees and of the common
    // repository alike.
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git(&["rev-parse", "--git-path", &branch]));
    }
    watched.push(git(&["rev-parse", "--git-path", "packed-refs"]));
    watched.push(git(&["rev-parse", "--git-path", "index"]));
    for path in watched.into_iter().flatten() {
        if PathBuf::from(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let dirty = if revision.is_empty() {
        String::new()
    } else {
        // `--no-optional-locks`: status must not refresh (rewrite) the
        // index, which this script watches; it did, and every first build
        // was followed by a second one.
        match git(&[
            "--no-optional-locks",
            "status",
            "--porcelain",
            "--untracked-files=no",
        ]) {
            Some(s) => (!s.is_empty()).to_string(),
            None => String::new(),
        }
    };
    println!("cargo:rustc-env=VALLEY_GIT_REVISION={revision}");
    println!("cargo:rustc-env=VALLEY_GIT_DIRTY={dirty}");
}
