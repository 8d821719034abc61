//! End-to-end benchmark of the reference workload (benches/reference.toml):
//! parse, run 256 runs x 3000 steps on all cores, write Parquet. Run with
//! `cargo bench --bench sweep`; benches/peers/compare.sh measures the same
//! workload against the JAX peer in one run.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::PathBuf;
use valley::cli::SweepArgs;

fn args(out: PathBuf) -> SweepArgs {
    SweepArgs {
        file: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/reference.toml"
        )),
        out: Some(out),
        threads: None,
        force: true,
        resume: false,
        shard: None,
        dry_run: false,
        plot: false,
        report: false,
        quiet: true,
    }
}

fn reference_sweep(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let out = tmp.path().join("reference");
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    group.bench_function("reference_end_to_end", |b| {
        b.iter(|| valley::commands::sweep::run(args(out.clone())).expect("the sweep runs"))
    });
    group.finish();
}

criterion_group!(benches, reference_sweep);
criterion_main!(benches);
