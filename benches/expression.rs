//! The expression engine against hand-written code: Rosenbrock's value and
//! gradient, compiled from its formula (`kind = "expression"`) and written by
//! hand (`kind = "rosenbrock"`), at d = 2 and d = 100; and the same sweep
//! (benches/rosenbrock_*.toml: 64 runs × 2000 steps of SGD, end to end,
//! Parquet included) on each. Run with `cargo bench --bench expression`;
//! the ratios are in docs/studies/performance.md.

mod common;

use common::sweep_args;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use valley::landscape::{Landscape, LandscapeKind};
use valley::rng::{rng_for, Stream};

const FORMULA: &str = "sum(i, 0, d-1, 100*(x[i+1] - x[i]^2)^2 + (x[i] - 1)^2)";

fn build(body: &str) -> Box<dyn Landscape> {
    let k: LandscapeKind = toml::from_str(body).expect("a landscape table");
    k.spec().validate().expect("valid");
    k.spec().build(&mut rng_for(0, "bench", Stream::Landscape))
}

fn gradient(c: &mut Criterion) {
    let mut group = c.benchmark_group("rosenbrock_gradient");
    for d in [2usize, 100] {
        let hand = build(&format!("kind = \"rosenbrock\"\ndim = {d}"));
        let expr = build(&format!(
            "kind = \"expression\"\ndim = {d}\nf = \"{FORMULA}\""
        ));
        let x: Vec<f64> = (0..d).map(|i| 0.3 + 0.01 * i as f64).collect();
        let mut g = vec![0.0; d];
        group.bench_function(format!("hand_d{d}"), |b| {
            b.iter(|| black_box(hand.value_and_gradient(black_box(&x), &mut g)))
        });
        group.bench_function(format!("expression_d{d}"), |b| {
            b.iter(|| black_box(expr.value_and_gradient(black_box(&x), &mut g)))
        });
    }
    group.finish();
}

fn sweep(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let mut group = c.benchmark_group("rosenbrock_sweep");
    group.sample_size(10);
    for name in ["rosenbrock_hand.toml", "rosenbrock_expression.toml"] {
        let out = tmp.path().join(name);
        group.bench_function(name.trim_end_matches(".toml"), |b| {
            b.iter(|| {
                valley::commands::sweep::run(sweep_args(name, out.clone(), None))
                    .expect("the sweep runs")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, gradient, sweep);
criterion_main!(benches);
