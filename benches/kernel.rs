//! valley against a hand-written kernel of the same arithmetic, on 1 and 2
//! threads: how much of valley's wall time is the steps themselves, and how
//! well it scales. Run with `cargo bench --bench kernel`; the ratios are
//! read from one run (the machine is shared and noisy):
//!
//! - `reference_*`: the reference workload (benches/reference.toml, 256 runs
//!   of 3000 steps: SGD with momentum 0.9 and Gaussian gradient noise on a
//!   100-d quadratic and 10-d Rastrigin, a trace row every 10 steps). The
//!   kernel computes the same value, gradient, noise and update per step and
//!   keeps the same trace rows in memory, without Parquet.
//! - `short_runs_*`: 100,000 runs of 20 steps on 2-D Rastrigin
//!   (benches/short_runs.toml), one row per run: the per-run overhead.

mod common;

use common::sweep_args;
use criterion::{criterion_group, criterion_main, Criterion};
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;
use std::f64::consts::PI;

/// A landscape of the kernel: value and gradient at x.
#[derive(Clone, Copy)]
enum Kernel {
    /// Σ λ_i x_i² / 2, λ geometric from 0.01 to 10 (d = 100).
    Quadratic,
    /// 10·d + Σ (x_i² − 10 cos 2πx_i).
    Rastrigin,
}

impl Kernel {
    fn value_and_gradient(self, lambda: &[f64], x: &[f64], g: &mut [f64]) -> f64 {
        let mut f = 0.0;
        match self {
            Kernel::Quadratic => {
                for ((gi, &xi), &l) in g.iter_mut().zip(x).zip(lambda) {
                    *gi = l * xi;
                    f += 0.5 * l * xi * xi;
                }
            }
            Kernel::Rastrigin => {
                f = 10.0 * x.len() as f64;
                for (gi, &xi) in g.iter_mut().zip(x) {
                    let (s, c) = (2.0 * PI * xi).sin_cos();
                    *gi = 2.0 * xi + 20.0 * PI * s;
                    f += xi * xi - 10.0 * c;
                }
            }
        }
        f
    }
}

/// One run: `steps` steps of SGD (momentum, PyTorch form) with Gaussian
/// gradient noise of `std`, lr from `lr(t)`; returns the trace rows
/// (step, loss, lr, gradient norm) every `every` steps and the final loss.
#[allow(clippy::too_many_arguments)]
fn run(
    k: Kernel,
    lambda: &[f64],
    seed: u64,
    steps: u64,
    every: u64,
    momentum: f64,
    std: f64,
    lr: &dyn Fn(u64) -> f64,
) -> (Vec<[f64; 4]>, f64) {
    let d = lambda.len();
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut x: Vec<f64> = (0..d).map(|_| rng.random_range(-2.0..2.0)).collect();
    let (mut g, mut buf) = (vec![0.0; d], vec![0.0; d]);
    let mut trace = Vec::with_capacity((steps / every.max(1) + 1) as usize);
    let mut loss = 0.0;
    for t in 0..steps {
        loss = k.value_and_gradient(lambda, &x, &mut g);
        if std > 0.0 {
            for gi in g.iter_mut() {
                *gi += std * rng.sample::<f64, _>(StandardNormal);
            }
        }
        let eta = lr(t);
        for ((xi, bi), &gi) in x.iter_mut().zip(buf.iter_mut()).zip(&g) {
            *bi = if t == 0 { gi } else { momentum * *bi + gi };
            *xi -= eta * *bi;
        }
        if t % every == 0 {
            let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
            trace.push([t as f64, loss, eta, norm]);
        }
    }
    (trace, loss)
}

fn geometric(d: usize, min: f64, max: f64) -> Vec<f64> {
    (0..d)
        .map(|i| min * (max / min).powf(i as f64 / (d - 1) as f64))
        .collect()
}

/// The reference workload's arithmetic: 2 landscapes x 2 schedules x 64
/// seeds x 3000 steps.
fn reference_kernel(threads: usize) -> f64 {
    let quad = geometric(100, 0.01, 10.0);
    let rast = vec![0.0; 10];
    let step = |t: u64| 0.05 * 0.5f64.powi((t / 500) as i32);
    let exponential = |t: u64| 0.05 * 0.5f64.powi(t as i32);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a pool");
    pool.install(|| {
        (0..256u64)
            .into_par_iter()
            .map(|i| {
                let (k, lambda) = if i < 128 {
                    (Kernel::Quadratic, &quad)
                } else {
                    (Kernel::Rastrigin, &rast)
                };
                let lr: &dyn Fn(u64) -> f64 = if i % 128 < 64 { &step } else { &exponential };
                let (trace, loss) = run(k, lambda, i, 3000, 10, 0.9, 0.1, lr);
                std::hint::black_box(trace);
                loss
            })
            .sum()
    })
}

/// The short runs' arithmetic: 100,000 runs of 20 plain SGD steps on 2-D
/// Rastrigin, from a uniform start in [-5.12, 5.12]².
fn short_runs_kernel(threads: usize) -> f64 {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a pool");
    let lambda = [0.0; 2];
    pool.install(|| {
        (0..100_000u64)
            .into_par_iter()
            .map(|i| {
                let (trace, loss) =
                    run(Kernel::Rastrigin, &lambda, i, 20, 20, 0.0, 0.0, &|_| 0.001);
                std::hint::black_box(trace);
                loss
            })
            .sum()
    })
}

fn kernel(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let mut group = c.benchmark_group("kernel");
    group.sample_size(10);
    for threads in [1, 2] {
        group.bench_function(format!("reference_kernel_{threads}t"), |b| {
            b.iter(|| reference_kernel(threads))
        });
        let out = tmp.path().join(format!("reference-{threads}"));
        group.bench_function(format!("reference_valley_{threads}t"), |b| {
            b.iter(|| {
                valley::commands::sweep::run(sweep_args(
                    "reference.toml",
                    out.clone(),
                    Some(threads),
                ))
                .expect("the sweep runs")
            })
        });
        group.bench_function(format!("short_runs_kernel_{threads}t"), |b| {
            b.iter(|| short_runs_kernel(threads))
        });
        let out = tmp.path().join(format!("short-{threads}"));
        group.bench_function(format!("short_runs_valley_{threads}t"), |b| {
            b.iter(|| {
                valley::commands::sweep::run(sweep_args(
                    "short_runs.toml",
                    out.clone(),
                    Some(threads),
                ))
                .expect("the sweep runs")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, kernel);
criterion_main!(benches);
