//! Helpers shared by the tests that drive the `valley` binary.

use std::path::Path;
use std::process::{Command, Output};

/// Runs the binary with `args` in `cwd`.
pub fn valley(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_valley"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the valley binary runs")
}

/// A process's output as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
