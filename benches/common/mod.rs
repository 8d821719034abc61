//! What the benchmarks share: the arguments of `valley sweep` on a file of
//! `benches/` into `out` (forced, quiet), as the command line would give.

use std::path::PathBuf;
use valley::cli::SweepArgs;

/// `valley sweep benches/<name> --out <out> --force --quiet`, on `threads`
/// threads (`None`: all cores).
pub fn sweep_args(name: &str, out: PathBuf, threads: Option<usize>) -> SweepArgs {
    SweepArgs {
        file: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("benches")
            .join(name),
        out: Some(out),
        threads,
        force: true,
        resume: false,
        shard: None,
        dry_run: false,
        plot: false,
        report: false,
        quiet: true,
        max_runs: valley::config::count::DEFAULT_MAX_RUNS,
        max_memory: None,
        max_output: None,
    }
}
