//! End-to-end benchmark of the reference workload (benches/reference.toml):
//! parse, run 256 runs x 3000 steps on all cores, write Parquet. Run with
//! `cargo bench --bench sweep`; benches/peers/compare.sh measures the same
//! workload against the JAX peer in one run.

mod common;

use common::sweep_args;
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::PathBuf;
use valley::cli::SweepArgs;

fn args(out: PathBuf) -> SweepArgs {
    sweep_args("reference.toml", out, None)
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

/// Minibatch SGD (benches/minibatch.toml): 2 runs x 2000 steps of least
/// squares with n = 10^4, d = 100, b = 32; throughput in steps.
fn minibatch_sweep(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let out = tmp.path().join("minibatch");
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    group.throughput(criterion::Throughput::Elements(2 * 2000));
    group.bench_function("minibatch_n1e4_d100_b32", |b| {
        b.iter(|| {
            valley::commands::sweep::run(sweep_args("minibatch.toml", out.clone(), None))
                .expect("the sweep runs")
        })
    });
    group.finish();
}

criterion_group!(benches, reference_sweep, minibatch_sweep);
criterion_main!(benches);
