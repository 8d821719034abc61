//! Timing of the matrix-free curvature path (plain `main`, no criterion):
//! `cargo bench --bench curvature`.
//!
//! Lanczos sharpness (top eigenvalue only) of a d = 10^6 diagonal quadratic
//! with a geometric spectrum from 1e-3 to 10 (true sharpness 10), plus the
//! full `curvature()` summary (both ends and a Hutchinson trace). Prints wall
//! time, Lanczos steps, relative error and peak resident memory (VmHWM from
//! /proc/self/status).

use std::time::Instant;
use valley::curvature::{curvature, dense_eigenvalues, lanczos, Ends, LanczosOptions};
use valley::landscape::quadratic::{QuadraticSpec, Spectrum, SpectrumRule};
use valley::landscape::Landscape;
use valley::landscape::LandscapeKind;
use valley::rng::{rng_for, Stream};

fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// fib55 in 2-D at the published fold (tests/fixtures/landscapes).
fn protein_fib55() {
    let kind: LandscapeKind =
        toml::from_str("kind = \"protein_ab\"\nsequence = \"fibonacci:55\"\ndims = 2")
            .expect("a protein table");
    let f = kind
        .spec()
        .build(&mut rng_for(0, "bench", Stream::Landscape));
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/landscapes/ab_2d_fib55.json"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).expect("the fixture"))
            .expect("json");
    let x: Vec<f64> = serde_json::from_value(json["angles"].clone()).expect("angles");
    let t0 = Instant::now();
    let e = dense_eigenvalues(f.as_ref(), &x);
    let dense = t0.elapsed().as_secs_f64();
    let o = LanczosOptions {
        ends: Ends::Top,
        ..Default::default()
    };
    let t0 = Instant::now();
    let l = lanczos(
        f.as_ref(),
        &x,
        &mut rng_for(0, "bench", Stream::Curvature),
        &o,
    );
    let secs = t0.elapsed().as_secs_f64();
    let top = *e.last().expect("eigenvalues");
    println!(
        "protein_ab fib55 2-D (d = {}): dense sharpness {top:.10} in {:.1} ms; Lanczos {:.10} \
         (rel. diff {:.1e}), {} steps, {:.1} ms; peak RSS {:.1} MiB",
        x.len(),
        dense * 1e3,
        l.max,
        (l.max - top).abs() / top.abs(),
        l.iterations,
        secs * 1e3,
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}

fn main() {
    protein_fib55();
    let d = 1_000_000;
    let spec = QuadraticSpec {
        dim: d,
        eigenvalues: Spectrum::Rule(SpectrumRule::Geometric {
            min: 1e-3,
            max: 10.0,
        }),
        rotate: false,
    };
    let f = spec.build(&mut rng_for(0, "bench", Stream::Landscape));
    let x = vec![0.1; d];
    let base = peak_rss_mib().unwrap_or(f64::NAN);
    println!("d = {d}, geometric spectrum 1e-3..10; peak RSS after building: {base:.1} MiB");

    let o = LanczosOptions {
        ends: Ends::Top,
        ..Default::default()
    };
    let t0 = Instant::now();
    let l = lanczos(&f, &x, &mut rng_for(0, "bench", Stream::Curvature), &o);
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "sharpness (Lanczos, top only): {:.15} (rel. error {:.1e}), {} steps, converged {}, \
         reorthogonalised {}, {secs:.2} s, peak RSS {:.1} MiB",
        l.max,
        (l.max - 10.0).abs() / 10.0,
        l.iterations,
        l.converged,
        l.reorthogonalised,
        peak_rss_mib().unwrap_or(f64::NAN)
    );

    let t0 = Instant::now();
    let c = curvature(&f, &x, &mut rng_for(1, "bench", Stream::Curvature)).expect("finite");
    let secs = t0.elapsed().as_secs_f64();
    let exact_trace: f64 = f.eigenvalues().iter().sum();
    println!(
        "curvature(): max {:.12}, min {:.6e} (true 1e-3), trace {:.6} ± {:.1e} (exact {exact_trace:.6}), \
         method {}, {secs:.2} s, peak RSS {:.1} MiB",
        c.max_eig,
        c.min_eig,
        c.trace,
        c.trace_stderr,
        c.method.as_str(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    assert_eq!(f.dim(), d);
}
