//! Tests of the AB protein model: energies against the published tables,
//! derivatives against central differences, ground states and folds.

use super::*;
use crate::landscape::descent::descend;
use crate::landscape::testing::{assert_gradient_matches, assert_hessian_matches, FdOnly};
use crate::rng::{rng_for, Stream};
use approx::assert_relative_eq;
use proptest::prelude::*;
use rand::RngExt;
use std::f64::consts::{FRAC_PI_2, PI};

fn chain(seq: &str, dims: usize) -> ProteinAb {
    ProteinAbSpec {
        sequence: seq.into(),
        dims,
    }
    .build()
}

#[test]
fn fibonacci_sequences() {
    assert_eq!(fibonacci_sequence(5).unwrap(), "ABBAB");
    assert_eq!(fibonacci_sequence(8).unwrap(), "BABABBAB");
    assert_eq!(fibonacci_sequence(13).unwrap(), "ABBABBABABBAB");
    assert_eq!(fibonacci_sequence(21).unwrap(), "BABABBABABBABBABABBAB");
    assert_eq!(fibonacci_sequence(89).unwrap().len(), 89);
    assert!(fibonacci_sequence(14).is_none());
    assert!(parse_sequence("fibonacci:14").is_err());
    assert!(parse_sequence("AB").is_err());
    assert!(parse_sequence("ABXA").is_err());
    assert!(parse_sequence(&"A".repeat(129)).is_err());
    let e = ProteinAbSpec {
        sequence: "fibonacci:13".into(),
        dims: 4,
    }
    .validate()
    .unwrap_err();
    assert_eq!(e.field, "dims");
    assert_eq!(
        ProteinAbSpec {
            sequence: "fibonacci:13".into(),
            dims: 3
        }
        .dim(),
        21
    );
}

#[test]
fn four_bead_square_by_hand_2d() {
    // ABBA, turns (π/2, π/2): beads (0,0), (1,0), (1,1), (0,1).
    // Bends: 1/4·[(1 − cos π/2) + (1 − cos π/2)] = 0.5.
    // Pairs i < j−1: (0,2) A–B at √2, (0,3) A–A at 1, (1,3) B–A at √2.
    //   r = √2: r^−12 = 1/64, r^−6 = 1/8; C = −1/2: 4·(1/64 + 1/16) = 0.3125.
    //   (0,3): 4·(1 − 1·1) = 0.
    // E = 0.5 + 2·0.3125 = 1.125.
    let f = chain("ABBA", 2);
    let x = [FRAC_PI_2, FRAC_PI_2];
    assert_relative_eq!(f.value(&x), 1.125, max_relative = 1e-14);
    let mut r = [[0.0; 3]; 4];
    f.positions(&x, &mut r);
    assert_relative_eq!(r[3][0], 0.0, epsilon = 1e-15);
    assert_relative_eq!(r[3][1], 1.0, epsilon = 1e-15);
    // Straight chain ABBA: bends 0; (0,2),(1,3) at 2, (0,3) at 3.
    //   r = 2, C = −1/2: 4·(2^−12 + 2^−7) = 0.0322265625 (twice);
    //   r = 3, C = 1: 4·(3^−12 − 3^−6) = 4·(1 − 729)/531441 = −2912/531441.
    assert_relative_eq!(
        f.value(&[0.0, 0.0]),
        2.0 * 0.0322265625 - 2912.0 / 531441.0,
        max_relative = 1e-14
    );
}

#[test]
fn five_bead_chain_by_hand_3d() {
    // ABBAB, bends (π/2, π/2, π/2), torsions (0, π/2):
    //   r0 = (0,0,0), r1 = (1,0,0); b1 = ŷ → r2 = (1,1,0);
    //   τ1 = 0 (cis) → b2 = −x̂, r3 = (0,1,0); τ2 = π/2 → b3 = ẑ, r4 = (0,1,1).
    // Bends: 3·1/4 = 0.75.
    // Pairs: (0,2) A–B √2: 0.3125; (0,3) A–A at 1: 0; (0,4) A–B √2: 0.3125;
    //   (1,3) B–A √2: 0.3125; (1,4) B–B √3: 4·(1/729 − 0.5/27) = −50/729;
    //   (2,4) B–B √2: 4·(1/64 − 1/16) = −0.1875.
    // E = 0.75 + 0.9375 − 0.1875 − 50/729 = 1.5 − 50/729.
    let f = chain("ABBAB", 3);
    let x = [FRAC_PI_2, FRAC_PI_2, FRAC_PI_2, 0.0, FRAC_PI_2];
    assert_relative_eq!(f.value(&x), 1.5 - 50.0 / 729.0, max_relative = 1e-14);
    let mut r = [[0.0; 3]; 5];
    f.positions(&x, &mut r);
    for (p, q) in r.iter().zip([
        [0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [1.0, 1.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 1.0, 1.0],
    ]) {
        for a in 0..3 {
            assert!((p[a] - q[a]).abs() < 1e-15, "{r:?}");
        }
    }
}

#[derive(serde::Deserialize)]
struct Fixture {
    sequence: String,
    dims: usize,
    published_energy: f64,
    energy_from_positions: f64,
    angles: Vec<f64>,
}

fn fixture(name: &str) -> Fixture {
    let path = format!(
        "{}/tests/fixtures/landscapes/ab_{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn published_ground_states_reproduce_published_energies() {
    // (fixture, literature energy to its published digits, tolerance).
    let cases = [
        ("2d_fib13", -3.294078, 1e-6, 13),
        ("2d_fib21", -6.197989, 1e-6, 21),
        ("3d_fib13", -4.974605, 2e-6, 13),
        ("3d_fib21", -12.3266, 5e-5, 21),
        ("2d_fib34", -10.8060, 5e-5, 34),
        ("2d_fib55", -19.2570, 5e-5, 55),
        ("3d_fib34", -25.5113, 5e-5, 34),
        ("3d_fib55", -44.8765, 5e-5, 55),
    ];
    for (name, published, tol, n) in cases {
        let fx = fixture(name);
        let f = ProteinAbSpec {
            sequence: format!("fibonacci:{n}"),
            dims: fx.dims,
        }
        .build();
        assert_eq!(fibonacci_sequence(n).unwrap(), fx.sequence);
        assert_eq!(f.dim(), fx.angles.len());
        let mut g = vec![0.0; f.dim()];
        let e = f.value_and_gradient(&fx.angles, &mut g);
        assert!((e - published).abs() <= tol, "{name}: {e} vs {published}");
        assert!((e - fx.published_energy).abs() <= 5e-5, "{name}: {e}");
        // Same energy as numpy computed from the published Cartesian beads.
        assert!((e - fx.energy_from_positions).abs() < 1e-8, "{name}: {e}");
        assert_relative_eq!(f.best_known_value().unwrap(), e, epsilon = 1e-8);
        // The published coordinates (14 digits, but the fold itself was
        // converged less tightly) sit next to a minimum: the largest
        // gradient components are 1.5e-3 (2d_fib21), 2.4e-3 (2d_fib34) and
        // 8.7e-3 (3d_fib55); 1e-3 holds only for the others.
        let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        eprintln!("{name}: E = {e}, |grad|_max = {gmax:.2e}");
        assert!(gmax < 1e-2, "{name}: |grad|_max = {gmax}");
        let lowest_eigenvalue = |x: &[f64]| {
            let eig = f.hessian(x).symmetric_eigenvalues();
            eig.iter().copied().fold(f64::INFINITY, f64::min)
        };
        let lo = lowest_eigenvalue(&fx.angles);
        assert!(lo > -1e-3, "{name}: smallest Hessian eigenvalue {lo}");
        // A local descent from there stays close and barely lowers E: the
        // published fold is (up to its precision) a true local minimum.
        let end = descend(&f, &fx.angles, 0.01, 1e-9, 200);
        let mut ge = vec![0.0; f.dim()];
        let ee = f.value_and_gradient(&end, &mut ge);
        let gn = ge.iter().map(|v| v * v).sum::<f64>().sqrt();
        // (Rounding in E, ~1e-14, stalls the line search at |grad| ~ 1e-6
        // in the stiffest folds.)
        assert!(gn < 1e-5, "{name}: refined |grad| {gn}");
        assert!(e - ee >= 0.0 && e - ee < 1e-5, "{name}: {e} -> {ee}");
        let moved = crate::landscape::distance(&end, &fx.angles);
        eprintln!("{name}: refined E = {ee}, |grad| = {gn:.1e}, moved {moved:.1e}");
        assert!(moved < 1e-2, "{name}: moved {moved}");
        let lo = lowest_eigenvalue(&end);
        assert!(
            lo > 0.0,
            "{name}: smallest Hessian eigenvalue {lo} at the refined fold"
        );
    }
    // An explicit sequence equal to fib13 gets the same best value.
    assert_eq!(
        chain("ABBABBABABBAB", 2).best_known_value(),
        Some(GROUND_STATES[0].2)
    );
    assert_eq!(chain("ABBABBABABBAA", 2).best_known_value(), None);
}

#[test]
fn local_minimization_never_goes_below_the_ground_state() {
    // 50 random starts, uniform angles in [−π, π), descended to a local
    // minimum; none may fall below the published ground state.
    for dims in [2, 3] {
        let f = chain("fibonacci:13", dims);
        let ground = f.best_known_value().unwrap();
        let mut rng = rng_for(11, "protein_ab", Stream::Init);
        let mut lowest = f64::INFINITY;
        let mut x = vec![0.0; f.dim()];
        for _ in 0..50 {
            for xi in x.iter_mut() {
                *xi = -PI + 2.0 * PI * rng.random::<f64>();
            }
            let end = descend(&f, &x, 0.1, 1e-6, 3000);
            let e = f.value(&end);
            assert!(e >= ground - 1e-6, "dims {dims}: {e} < ground {ground}");
            lowest = lowest.min(e);
        }
        // The search does reach compact folds (measured: −2.27 in 2-D,
        // −4.58 in 3-D), not only crossed or extended chains.
        assert!(lowest < -2.0, "dims {dims}: lowest {lowest}");
    }
}

fn min_distance(f: &ProteinAb, x: &[f64]) -> f64 {
    let mut r = [[0.0; 3]; MAX_BEADS];
    f.positions(x, &mut r);
    let n = f.beads();
    let mut m = f64::INFINITY;
    for i in 0..n {
        for j in i + 2..n {
            let d = [r[i][0] - r[j][0], r[i][1] - r[j][1], r[i][2] - r[j][2]];
            m = m.min(dot(d, d).sqrt());
        }
    }
    m
}

#[test]
fn experiment_file_landscapes_build() {
    // experiments/protein/*.toml: their landscape tables parse into this
    // kind, take the self-avoiding init, and know their published ground
    // states.
    use crate::landscape::{InitSpec, LandscapeKind};
    let mut best = Vec::new();
    for name in ["fib13_2d", "fib21_2d", "fib13_3d"] {
        let path = format!(
            "{}/experiments/protein/{name}.toml",
            env!("CARGO_MANIFEST_DIR")
        );
        let file: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut t = file["landscape"].as_array().unwrap()[0]
            .as_table()
            .unwrap()
            .clone();
        t.remove("name");
        let init: InitSpec = t.remove("init").unwrap().try_into().unwrap();
        assert!(matches!(init, InitSpec::SelfAvoiding { .. }), "{name}");
        let kind: LandscapeKind = toml::Value::Table(t).try_into().unwrap();
        kind.spec().validate().unwrap();
        init.validate(kind.spec().dim()).unwrap();
        let f = kind.spec().build(&mut rng_for(0, "x", Stream::Landscape));
        best.push((f.best_known_value().unwrap() * 1e4).round() / 1e4);
    }
    assert_eq!(best, [-3.2941, -6.198, -4.9746]);
}

/// Bead positions of a 2-D chain written out from the definition (bond k
/// along the cumulative turn θ_1 + … + θ_k), independent of
/// `build_chain`; the smallest distance between non-bonded beads.
fn closest_pair_2d_by_hand(x: &[f64]) -> f64 {
    let mut r = vec![[0.0f64, 0.0], [1.0, 0.0]];
    let mut heading = 0.0;
    for &t in x {
        heading += t;
        let [px, py] = r[r.len() - 1];
        r.push([px + heading.cos(), py + heading.sin()]);
    }
    let mut m = f64::INFINITY;
    for i in 0..r.len() {
        for j in i + 2..r.len() {
            m = m.min((r[i][0] - r[j][0]).hypot(r[i][1] - r[j][1]));
        }
    }
    m
}

#[test]
fn self_avoiding_init_rejects_clashing_starts() {
    use crate::landscape::InitSpec;
    let uniform: InitSpec = toml::from_str("kind = \"uniform\"\nlow = -1.5\nhigh = 1.5").unwrap();
    let mut avoiding: InitSpec =
        toml::from_str("kind = \"self_avoiding\"\nlow = -1.5\nhigh = 1.5").unwrap();
    let InitSpec::SelfAvoiding {
        min_distance, dims, ..
    } = &mut avoiding
    else {
        unreachable!()
    };
    assert_eq!(*min_distance, 0.9, "documented default");
    *dims = 2;
    let f = chain(&fibonacci_sequence(21).unwrap(), 2);
    let d = f.dim();
    let (mut rng_u, mut rng_a) = (rng_for(0, "u", Stream::Init), rng_for(0, "a", Stream::Init));
    let (mut x, mut clashing, mut worst) = (vec![0.0; d], 0, f64::NEG_INFINITY);
    for _ in 0..400 {
        uniform.sample(&mut rng_u, &mut x);
        clashing += usize::from(closest_pair_2d_by_hand(&x) < 0.9);
        avoiding.sample(&mut rng_a, &mut x);
        assert!(x.iter().all(|a| (-1.5..1.5).contains(a)), "{x:?}");
        let m = closest_pair_2d_by_hand(&x);
        assert!(m >= 0.9, "closest pair {m}");
        assert_relative_eq!(f.closest_pair(&x), m, max_relative = 1e-12);
        worst = worst.max(f.value(&x));
    }
    // The uniform draw clashes often (numpy, 20,000 draws of 21 beads:
    // 38% have a pair closer than 0.9), so the rejection is not idle.
    assert!((100..200).contains(&clashing), "{clashing} of 400");
    // No bead inside the wall (a jammed start sits at E ≈ 10³): each
    // r⁻¹² term is below 4·0.9⁻¹² ≈ 14, and only a few pairs are that close.
    assert!(worst < 50.0, "{worst}");
    // 3-D: the same rule through the chain's own geometry.
    let f3 = chain(&fibonacci_sequence(13).unwrap(), 3);
    if let InitSpec::SelfAvoiding { dims, .. } = &mut avoiding {
        *dims = 3;
    }
    let mut x = vec![0.0; f3.dim()];
    for _ in 0..200 {
        avoiding.sample(&mut rng_a, &mut x);
        assert!(f3.closest_pair(&x) >= 0.9);
    }
    // bare_chain: the angle count of an n-bead chain in 2-D and 3-D.
    assert_eq!(bare_chain(11, 2).unwrap().beads(), 13);
    assert_eq!(bare_chain(21, 3).unwrap().beads(), 13);
    assert!(bare_chain(20, 3).is_none() && bare_chain(11, 4).is_none());
}

/// The exact Hessian-vector product and diagonal agree with the exact
/// dense Hessian (three code paths: dual numbers one column at a time,
/// dual numbers along v, the O(n²) diagonal formula).
fn assert_curvature_paths_agree(f: &ProteinAb, x: &[f64], v: &[f64]) {
    let h = f.hessian(x);
    let d = f.dim();
    let scale = h.iter().fold(1.0f64, |m, a| m.max(a.abs()));
    let mut hv = vec![0.0; d];
    f.hessian_vector_product(x, v, &mut hv);
    let dense = &h * nalgebra::DVector::from_column_slice(v);
    let vscale = scale * v.iter().map(|a| a.abs()).sum::<f64>();
    let mut diag = vec![0.0; d];
    f.hessian_diagonal(x, &mut diag);
    for i in 0..d {
        assert!(
            (hv[i] - dense[i]).abs() <= 1e-12 * vscale,
            "Hv[{i}] {} vs H·v {} at {x:?}",
            hv[i],
            dense[i]
        );
        assert!(
            (diag[i] - h[(i, i)]).abs() <= 1e-12 * scale,
            "diag[{i}] {} vs H[{i},{i}] {} at {x:?}",
            diag[i],
            h[(i, i)]
        );
    }
}

/// H·v by central differences of the analytic gradient along v, with one
/// Richardson step: (4·D(h/2) − D(h))/3, error O(h⁴), h = 1e-4. Measured
/// at the eight published folds, its distance to the exact Hessian falls
/// as h⁴ from 1e-5..7e-3 (h = 1e-2) to 3e-12..6e-11 (h = 1e-4) of the
/// largest entry, then rounding takes over: the exact Hessian is the
/// limit. The trait's plain central differences (O(h²), h = 1e-5) miss it
/// by up to 3e-7 there.
fn richardson_hvp(f: &ProteinAb, x: &[f64], v: &[f64]) -> Vec<f64> {
    let d = f.dim();
    let central = |h: f64| {
        let (mut gp, mut gm) = (vec![0.0; d], vec![0.0; d]);
        let xp: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + h * b).collect();
        let xm: Vec<f64> = x.iter().zip(v).map(|(a, b)| a - h * b).collect();
        f.value_and_gradient(&xp, &mut gp);
        f.value_and_gradient(&xm, &mut gm);
        gp.iter()
            .zip(&gm)
            .map(|(p, m)| (p - m) / (2.0 * h))
            .collect::<Vec<f64>>()
    };
    let (coarse, fine) = (central(1e-4), central(5e-5));
    fine.iter()
        .zip(&coarse)
        .map(|(f, c)| (4.0 * f - c) / 3.0)
        .collect()
}

/// Largest |H·v − Richardson(H·v)| relative to the largest |H| entry,
/// over the unit vectors and `v`.
fn worst_against_differences(f: &ProteinAb, x: &[f64], v: &[f64]) -> f64 {
    let h = f.hessian(x);
    let d = f.dim();
    let scale = h.iter().fold(1.0f64, |m, a| m.max(a.abs()));
    let mut worst = 0.0f64;
    let mut e = vec![0.0; d];
    for j in 0..d {
        e[j] = 1.0;
        let fd = richardson_hvp(f, x, &e);
        e[j] = 0.0;
        for i in 0..d {
            worst = worst.max((h[(i, j)] - fd[i]).abs() / scale);
        }
    }
    let mut hv = vec![0.0; d];
    f.hessian_vector_product(x, v, &mut hv);
    let fd = richardson_hvp(f, x, v);
    let vsum = v.iter().map(|a| a.abs()).sum::<f64>().max(1.0);
    for i in 0..d {
        worst = worst.max((hv[i] - fd[i]).abs() / (scale * vsum));
    }
    worst
}

/// The 2-D fib13 race's momentum form (experiments/protein/fib13_2d.toml):
/// at the published 2-D fib13 ground state (largest Hessian eigenvalue about
/// 1.2e3, see the test below), noiseless SGD with momentum 0.95 and
/// clip_grad_norm 10 at lr 2e-3 (lr·λ ≈ 2.4) stays with heavy ball
/// (stable below 2(1+μ) = 3.9) and leaves with Nesterov (stable below
/// 2(1+μ)/(1+2μ) = 1.34); Nesterov at lr 1e-3 (≈ 1.2) stays.
#[test]
fn nesterov_leaves_the_stiff_ground_state_where_heavy_ball_stays() {
    use crate::optimizer::{clip::Clip, sgd::SgdSpec, Optimizer, StepParams};
    let clip = Clip {
        clip_grad_norm: Some(10.0),
        ..Default::default()
    };
    let fx = fixture("2d_fib13");
    let f = chain(&fx.sequence, fx.dims);
    let e0 = f.value(&fx.angles);
    let end = |nesterov: bool, lr: f64| {
        let spec = SgdSpec {
            momentum: 0.95,
            nesterov,
            ..Default::default()
        };
        let mut x = fx.angles.clone();
        let mut g = vec![0.0; x.len()];
        let mut state = spec.init_state(x.len());
        for _ in 0..2000 {
            f.value_and_gradient(&x, &mut g);
            clip.apply(&mut g);
            spec.step(&StepParams::new(lr), &mut x, &g, &mut state);
        }
        f.value(&x)
    };
    // The published coordinates are rounded: staying means settling
    // into the exact minimum, within 1e-6 of their energy.
    let (heavy, slow, left) = (end(false, 2e-3), end(true, 1e-3), end(true, 2e-3));
    eprintln!("E0 {e0}: heavy ball {heavy}, Nesterov 1e-3 {slow}, 2e-3 {left}");
    assert!((heavy - e0).abs() < 1e-6, "{heavy} vs {e0}");
    assert!((slow - e0).abs() < 1e-6, "{slow} vs {e0}");
    assert!(left > e0 + 0.1, "{left} vs {e0}");
}

#[test]
fn exact_curvature_at_the_published_ground_states() {
    // The exact Hessian against differences of the analytic gradient at
    // every published fold, and its spectrum: positive definite up to the
    // precision of the published coordinates; largest eigenvalue about
    // 1.2e3 (2-D fib13) and 2.1e4 (2-D fib21), as measured with numpy for
    // issue 12.
    let names = [
        "2d_fib13", "2d_fib21", "2d_fib34", "2d_fib55", "3d_fib13", "3d_fib21", "3d_fib34",
        "3d_fib55",
    ];
    for name in names {
        let fx = fixture(name);
        let f = chain(&fx.sequence, fx.dims);
        let v: Vec<f64> = (0..f.dim()).map(|i| (0.7 * i as f64).sin()).collect();
        assert_curvature_paths_agree(&f, &fx.angles, &v);
        let worst = worst_against_differences(&f, &fx.angles, &v);
        let exact = f.hessian(&fx.angles).symmetric_eigenvalues();
        let (lo, hi) = exact
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &e| {
                (a.min(e), b.max(e))
            });
        eprintln!(
            "{name}: Hessian eigenvalues {lo:.4e} .. {hi:.6e}; \
             max |H - differences| / max |H| = {worst:.1e}"
        );
        assert!(worst < 1e-9, "{name}: {worst}");
        assert!(lo > -1e-3, "{name}: {lo}");
        match name {
            "2d_fib13" => assert!((hi / 1.2e3 - 1.0).abs() < 0.05, "{name}: {hi}"),
            "2d_fib21" => assert!((hi / 2.1e4 - 1.0).abs() < 0.05, "{name}: {hi}"),
            _ => {}
        }
    }
}

#[test]
fn exact_curvature_timing_against_finite_differences() {
    // Printed, never asserted (`cargo test --release exact_curvature_timing
    // -- --nocapture`): dense Hessian, Hessian-vector product and diagonal,
    // exact against the trait's central-difference defaults.
    use std::time::Instant;
    // The fastest of 5 batches: the machine is shared.
    fn per_call(reps: usize, mut f: impl FnMut()) -> f64 {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..reps {
                    f();
                }
                t.elapsed().as_secs_f64() / reps as f64
            })
            .fold(f64::INFINITY, f64::min)
    }
    for name in ["2d_fib13", "3d_fib13", "2d_fib55", "3d_fib55"] {
        let fx = fixture(name);
        let f = chain(&fx.sequence, fx.dims);
        let fd = FdOnly(&f);
        let x = &fx.angles;
        let d = f.dim();
        let v: Vec<f64> = (0..d).map(|i| (0.3 * i as f64).cos()).collect();
        let mut out = vec![0.0; d];
        let reps = if d > 50 { 3 } else { 30 };
        let dense = per_call(reps, || drop(f.hessian(x)));
        let dense_fd = per_call(reps, || drop(fd.hessian(x)));
        let hvp = per_call(10 * reps, || f.hessian_vector_product(x, &v, &mut out));
        let hvp_fd = per_call(10 * reps, || fd.hessian_vector_product(x, &v, &mut out));
        let diag = per_call(10 * reps, || f.hessian_diagonal(x, &mut out));
        let diag_fd = per_call(reps, || fd.hessian_diagonal(x, &mut out));
        let mut g = vec![0.0; d];
        let grad = per_call(10 * reps, || {
            std::hint::black_box(f.value_and_gradient(x, &mut g));
        });
        eprintln!(
            "{name} (d = {d}): gradient {:.1} µs; dense Hessian {:.1} µs (finite differences {:.1} µs, {:.1}x); \
             Hv {:.1} µs ({:.1} µs, {:.1}x); diagonal {:.1} µs ({:.1} µs, {:.0}x)",
            grad * 1e6,
            dense * 1e6,
            dense_fd * 1e6,
            dense_fd / dense,
            hvp * 1e6,
            hvp_fd * 1e6,
            hvp_fd / hvp,
            diag * 1e6,
            diag_fd * 1e6,
            diag_fd / diag
        );
    }
}

proptest! {
    #[test]
    fn hessian_matches_central_differences(
        dims in 2usize..=3,
        seq in prop::sample::select(vec!["fibonacci:13", "ABBABBAB", "fibonacci:21", "BBBAB", "AAAAB"]),
        raw in prop::collection::vec(-1.5f64..1.5, 37),
        dir in prop::collection::vec(-1.0f64..1.0, 37),
    ) {
        let f = chain(seq, dims);
        let x = &raw[..f.dim()];
        prop_assume!(min_distance(&f, x) > 0.9);
        // The trait's own check (plain central differences, O(h²)).
        assert_hessian_matches(&f, x, 1e-5);
        assert_curvature_paths_agree(&f, x, &dir[..f.dim()]);
        let worst = worst_against_differences(&f, x, &dir[..f.dim()]);
        prop_assert!(worst < 1e-9, "max |H - differences| / max |H| = {}", worst);
    }

    #[test]
    fn gradient_matches_central_differences_2d(
        seq in prop::sample::select(vec!["fibonacci:13", "ABBABBAB", "fibonacci:21", "AAAAB"]),
        raw in prop::collection::vec(-1.5f64..1.5, 19),
    ) {
        let f = chain(seq, 2);
        let x = &raw[..f.dim()];
        // Near-overlapping beads make the energy stiff (third derivatives
        // ~1e8 at r = 0.6) and central differences inaccurate at the 1e-6
        // level; test conformations without close contacts.
        prop_assume!(min_distance(&f, x) > 0.9);
        assert_gradient_matches(&f, x, 1e-6);
    }

    #[test]
    fn gradient_matches_central_differences_3d(
        seq in prop::sample::select(vec!["fibonacci:13", "ABBABBAB", "fibonacci:21", "BBBAB"]),
        raw in prop::collection::vec(-1.5f64..1.5, 37),
    ) {
        let f = chain(seq, 3);
        let x = &raw[..f.dim()];
        prop_assume!(min_distance(&f, x) > 0.9);
        assert_gradient_matches(&f, x, 1e-6);
    }
}
