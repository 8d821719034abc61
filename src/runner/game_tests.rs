//! Two players in real runs: every method's trajectory on the bilinear game
//! against the numpy reference of `tests/fixtures/games/golden.json`
//! (`scripts/golden_games.py`, itself checked against optax's
//! `optimistic_gradient_descent`), the closed forms on f = x·y, and the
//! Dirac-GAN of Mescheder et al. 2018 without and with R1.

use crate::config::Plan;
use crate::runner::{run_one, Prepared, RunResult};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
struct Golden {
    steps: usize,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    landscape: String,
    optimizer: String,
    schedule: String,
    z0: Vec<f64>,
    z: Vec<Vec<f64>>,
}

fn golden() -> Golden {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/games/golden.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn sweep(steps: usize, landscape: &str, z0: &[f64], optimizer: &str, schedule: &str) -> Plan {
    let src = format!(
        "name = \"game\"\nsteps = {steps}\ntrace_every = 1\ntrace_positions = true\nhessian = false\ndiverge_factor = 1e200\n\
         [[landscape]]\n{landscape}\ninit = {{ kind = \"point\", x = {z0:?} }}\n\
         [[optimizer]]\n{optimizer}\n[[schedule]]\n{schedule}\n"
    );
    Plan::from_source(Path::new("game.toml"), &src).unwrap_or_else(|e| panic!("{e}\n{src}"))
}

fn run(plan: &Plan) -> RunResult {
    run_one(plan, &Prepared::new(plan), &plan.run(0))
}

/// z after update t: the position traced at row t + 1, or the final one.
fn position(r: &RunResult, t: usize, steps: usize) -> Vec<f64> {
    let d = r.position_dim;
    if t + 1 < steps {
        r.trace.position[(t + 1) * d..(t + 2) * d].to_vec()
    } else {
        r.row.final_position.clone().unwrap()
    }
}

/// Simultaneous and alternating GDA, extragradient and optimistic, with
/// SGD, heavy-ball momentum and Adam, one lr or per-player lrs (a 4:1 lr
/// ratio through `lr_scale`, cyclic lrs half a cycle apart through each
/// group's schedule): every coordinate after every update equals numpy to
/// 1e-12 (relative above 1).
#[test]
fn every_method_follows_the_numpy_reference() {
    let g = golden();
    assert_eq!(g.cases.len(), 30);
    for c in &g.cases {
        let plan = sweep(g.steps, &c.landscape, &c.z0, &c.optimizer, &c.schedule);
        let r = run(&plan);
        assert!(!r.row.diverged, "{}", c.name);
        for (t, want) in c.z.iter().enumerate() {
            let got = position(&r, t, g.steps);
            for (i, (a, b)) in got.iter().zip(want).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                    "{}: z[{i}] after update {t}: {a} vs numpy {b}",
                    c.name
                );
            }
        }
    }
}

/// The per-player lrs are traced as the groups' lrs: the out-of-phase
/// cyclic case starts with x at base_lr 0.02 and y at max_lr 0.3, and
/// they swap after half a cycle (10 steps).
#[test]
fn each_players_lr_is_traced() {
    let g = golden();
    let c = g
        .cases
        .iter()
        .find(|c| c.name == "xy_out_of_phase/simultaneous/gda")
        .unwrap();
    let r = run(&sweep(20, &c.landscape, &c.z0, &c.optimizer, &c.schedule));
    let lr = |row: usize| &r.trace.group_lr[2 * row..2 * row + 2];
    assert!((lr(0)[0] - 0.02).abs() < 1e-15 && (lr(0)[1] - 0.3).abs() < 1e-15);
    assert!((lr(10)[0] - 0.3).abs() < 1e-15 && (lr(10)[1] - 0.02).abs() < 1e-15);
}

fn xy(method: &str, update: &str, eta: f64, steps: usize) -> RunResult {
    run(&sweep(
        steps,
        "kind = \"bilinear_game\"\ndim = 1",
        &[0.8, -0.5],
        &format!("kind = \"sgd\"\ngame = {{ update = \"{update}\", method = \"{method}\" }}"),
        &format!("kind = \"constant\"\nlr = {eta}"),
    ))
}

fn norm(z: &[f64]) -> f64 {
    z.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// On f = x·y with step η (Gidel et al. 2019; Daskalakis et al. 2018):
/// simultaneous GDA multiplies ‖z‖ by √(1 + η²) every step, extragradient
/// by √(1 − η² + η⁴) (both exactly: the update matrix is a scaled
/// rotation); alternating GDA conserves x² + y² − η·x·y; optimistic
/// gradient contracts by the modulus of the largest root of
/// λ² − (1 − 2iη)λ − iη, which is 1 − η²/2 + O(η⁴). The run's
/// `spectral_radius` and `cycle_spectral_radius` are these rates.
#[test]
fn closed_forms_on_x_times_y() {
    let steps = 400;
    for eta in [0.1f64, 0.3] {
        let n0 = norm(&[0.8, -0.5]);
        for (method, rate) in [
            ("gda", (1.0 + eta * eta).sqrt()),
            ("extragradient", (1.0 - eta * eta + eta.powi(4)).sqrt()),
        ] {
            let r = xy(method, "simultaneous", eta, steps);
            for t in [0, 9, 99, steps - 1] {
                let want = n0 * rate.powi(t as i32 + 1);
                let got = norm(&position(&r, t, steps));
                assert!(
                    (got / want - 1.0).abs() < 1e-12,
                    "{method} η={eta} after update {t}: {got} vs {want}"
                );
            }
            let rho = r.row.spectral_radius.unwrap();
            assert!((rho - rate).abs() < 1e-14, "{method}: ρ {rho} vs {rate}");
            assert_eq!(r.row.cycle_spectral_radius, Some(rho));
        }
        let r = xy("gda", "alternating", eta, steps);
        let q = |z: &[f64]| z[0] * z[0] + z[1] * z[1] - eta * z[0] * z[1];
        let q0 = q(&[0.8, -0.5]);
        for t in 0..steps {
            let got = q(&position(&r, t, steps));
            assert!(
                (got - q0).abs() < 1e-12,
                "alternating η={eta}, update {t}: {got} vs {q0}"
            );
        }
        assert!((r.row.spectral_radius.unwrap() - 1.0).abs() < 1e-12);
        let r = xy("optimistic", "simultaneous", eta, steps);
        let b = nalgebra::Complex::new(1.0, -2.0 * eta);
        let root = ((b + (b * b + nalgebra::Complex::new(0.0, 4.0 * eta)).sqrt()) / 2.0).norm();
        let late = (norm(&position(&r, steps - 1, steps))
            / norm(&position(&r, steps - 101, steps)))
        .powf(0.01);
        assert!(
            (late - root).abs() < 1e-9,
            "optimistic η={eta}: {late} vs {root}"
        );
        assert!(
            (late - (1.0 - eta * eta / 2.0)).abs() < eta.powi(4),
            "{late}"
        );
        assert!((r.row.spectral_radius.unwrap() - root).abs() < 1e-12);
    }
}

fn dirac(r1: f64, update: &str, lr: f64, steps: usize) -> RunResult {
    run(&sweep(
        steps,
        &format!("kind = \"dirac_gan\"\nr1 = {r1}"),
        &[1.0, 1.0],
        &format!("kind = \"sgd\"\ngame = {{ update = \"{update}\" }}"),
        &format!("kind = \"constant\"\nlr = {lr}"),
    ))
}

/// Mescheder et al. 2018: simultaneous gradient descent–ascent on the
/// Dirac-GAN does not converge (the Jacobian at the equilibrium has
/// eigenvalues ±i/2, so ρ = √(1 + η²/4) > 1: it spirals out), alternating
/// does not converge either (ρ = 1 at the equilibrium; it circles), and
/// with the R1 penalty (eigenvalues (γ ± √(γ² − 1))/2) both converge for
/// small steps.
#[test]
fn dirac_gan_converges_only_with_r1() {
    let (lr, steps) = (0.1, 3000);
    let d0 = std::f64::consts::SQRT_2;
    let sim = dirac(0.0, "simultaneous", lr, steps);
    let d = sim.row.basin.as_ref().unwrap().distance;
    assert!(d > 2.0 * d0, "simultaneous without R1 ends at distance {d}");
    let rho = sim.row.spectral_radius.unwrap();
    assert!((rho - (1.0 + lr * lr / 4.0).sqrt()).abs() < 1e-14, "{rho}");
    let alt = dirac(0.0, "alternating", lr, steps);
    let d = alt.row.basin.as_ref().unwrap().distance;
    assert!(d > 0.5 * d0 && d < 2.0 * d0, "alternating without R1: {d}");
    assert!((alt.row.spectral_radius.unwrap() - 1.0).abs() < 1e-12);
    for update in ["simultaneous", "alternating"] {
        let r = dirac(1.0, update, lr, steps);
        let d = r.row.basin.as_ref().unwrap().distance;
        assert!(d < 1e-6, "{update} with R1: distance {d}");
        assert!(r.row.spectral_radius.unwrap() < 1.0);
    }
}

/// With heavy-ball momentum, Nesterov and weight decay the run's
/// `spectral_radius` is the rate its trajectory shows: on x·y (circular
/// modes, so ‖z_t‖ ∝ ρ^t once the smaller root has died out) the measured
/// rate over steps 300..400 equals ρ to 1e-6, for each method. Plain SGD
/// with decoupled or classic momentum has no linear map here: null.
#[test]
fn the_spectral_radius_is_the_measured_rate_with_momentum() {
    let steps = 400;
    for optimizer in [
        "kind = \"sgd\"\nmomentum = 0.5",
        "kind = \"sgd\"\nmomentum = 0.3\nnesterov = true",
        "kind = \"sgd\"\nmomentum = 0.5\ndampening = 0.2\nweight_decay = 0.05",
    ] {
        for method in ["gda", "extragradient", "optimistic"] {
            let r = run(&sweep(
                steps,
                "kind = \"bilinear_game\"\ndim = 1",
                &[0.8, -0.5],
                &format!("{optimizer}\ngame = {{ method = \"{method}\" }}"),
                "kind = \"constant\"\nlr = 0.1",
            ));
            let rho = r.row.spectral_radius.unwrap();
            let late = (norm(&position(&r, steps - 1, steps))
                / norm(&position(&r, steps - 101, steps)))
            .powf(0.01);
            assert!(
                (late - rho).abs() < 1e-6,
                "{optimizer} {method}: measured {late}, ρ {rho}"
            );
        }
    }
    for optimizer in [
        "kind = \"adam\"",
        "kind = \"sgd\"\nmomentum = 0.5\nmomentum_form = \"classic\"",
    ] {
        let r = run(&sweep(
            10,
            "kind = \"bilinear_game\"\ndim = 1",
            &[0.8, -0.5],
            optimizer,
            "kind = \"constant\"\nlr = 0.1",
        ));
        assert_eq!(r.row.spectral_radius, None, "{optimizer}");
    }
}
