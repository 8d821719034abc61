//! Timing of the matrix-free curvature path (plain `main`, no criterion):
//! `cargo bench --bench curvature`.
//!
//! Lanczos sharpness (top eigenvalue only) of a d = 10^6 diagonal quadratic
//! with a geometric spectrum from 1e-3 to 10 (true sharpness 10), plus the
//! full `curvature()` summary (both ends and a Hutchinson trace). Prints wall
//! time, Lanczos steps, relative error and peak resident memory (VmHWM from
//! /proc/self/status). The 2-D AB protein (fib55) part is skipped: this branch
//! has no `protein_ab` landscape.

use std::time::Instant;
use valley::curvature::{curvature, lanczos, Ends, LanczosOptions};
use valley::landscape::quadratic::{QuadraticSpec, Spectrum, SpectrumRule};
use valley::landscape::Landscape;
use valley::rng::{rng_for, Stream};

fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
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
    println!("protein_ab fib55: skipped (no protein_ab landscape on this branch)");
}
