//! The run loop with low precision and parameter groups, against
//! tests/fixtures/precision/golden.json (scripts/golden_precision.py:
//! numpy + ml_dtypes trajectories, checked there against torch's casts;
//! torch.amp.GradScaler; torch.optim.lr_scheduler.LambdaLR).

use super::*;
use serde_json::Value;
use std::path::Path;

fn plan(src: &str) -> Plan {
    Plan::from_source(Path::new("test.toml"), src).unwrap()
}

use crate::optimizer::precision::golden::{golden, num};

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

/// x after update t: the position of trace row t + 1, or the final position.
fn x_after(r: &RunResult, t: usize, steps: usize) -> &[f64] {
    let d = r.position_dim;
    if t + 1 < steps {
        &r.trace.position[(t + 1) * d..(t + 2) * d]
    } else {
        r.row.final_position.as_deref().unwrap()
    }
}

fn schedule_table(s: &Value) -> String {
    s.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| match v.as_str() {
            Some(text) if text.parse::<f64>().is_ok() => format!("{k} = {text}"),
            _ => format!("{k} = {v}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every trajectory of the fixture (bf16, f16, f32 and f64 parameters; f32
/// master with a bf16 or f16 compute copy; f16 gradients with a static loss
/// scale), replayed by the real run loop: every stored x, bit for bit; the
/// skipped steps, the underflow fractions and `stalled_at` exactly.
#[test]
fn trajectories_match_ml_dtypes_bit_for_bit() {
    let g = golden();
    let cases = g["trajectories"].as_array().unwrap();
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let steps = c["lr"].as_array().unwrap().len();
        let mut opt = format!(
            "kind = \"sgd\"\nmomentum = {:?}\nparam_dtype = \"{}\"\n",
            num(&c["momentum"]),
            c["param_dtype"].as_str().unwrap()
        );
        if let Some(dt) = c["compute_dtype"].as_str() {
            opt += &format!("compute_dtype = \"{dt}\"\n");
        }
        if let Some(dt) = c["grad_dtype"].as_str() {
            opt += &format!(
                "grad_dtype = \"{dt}\"\nloss_scale = {:?}\n",
                num(&c["loss_scale"])
            );
        }
        let h = floats(&c["h"]);
        let src = format!(
            "name = \"p\"\nsteps = {steps}\ntrace_every = 1\ntrace_positions = true\nhessian = false\n\
             [[landscape]]\nkind = \"quadratic\"\ndim = {}\neigenvalues = {h:?}\n\
             init = {{ kind = \"point\", x = {:?} }}\n[[optimizer]]\n{opt}[[schedule]]\n{}\n",
            h.len(),
            floats(&c["x0"]),
            schedule_table(&c["schedule"]),
        );
        let p = plan(&src);
        let r = run_one(&p, &Prepared::new(&p), &p.run(0));
        assert!(!r.row.diverged, "{name}");
        let d = h.len();
        let stored0 = floats(&c["x0_stored"]);
        assert_eq!(
            r.trace.position[..d]
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>(),
            stored0.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            "{name}: x0"
        );
        let lrs = floats(&c["lr"]);
        let rounds = c["param_dtype"] != "f64";
        for t in 0..steps {
            assert_eq!(r.trace.lr[t], lrs[t], "{name}: lr at {t}");
            let want = floats(&c["x"][t]);
            let got = x_after(&r, t, steps);
            for i in 0..d {
                assert_eq!(
                    got[i].to_bits(),
                    want[i].to_bits(),
                    "{name}: x[{i}] after update {t}: {} vs ml_dtypes {}",
                    got[i],
                    want[i]
                );
            }
            let skipped = c["skipped"][t].as_bool().unwrap();
            let underflow = num(&c["update_underflow"][t]);
            if c["grad_dtype"].is_string() {
                assert_eq!(r.trace.skipped[t], Some(skipped), "{name}: skipped {t}");
            } else {
                assert_eq!(r.trace.skipped[t], None);
            }
            if rounds {
                assert_eq!(r.trace.update_underflow[t], Some(underflow), "{name}: {t}");
            } else {
                assert_eq!(underflow, 0.0, "{name}: the f64 fixture underflows at {t}");
                assert_eq!(r.trace.update_underflow[t], None);
            }
        }
        let stalled = c["stalled_at"].as_str().map(|s| s.parse::<u64>().unwrap());
        assert_eq!(r.row.stalled_at, stalled.filter(|_| rounds), "{name}");
        if !rounds {
            assert_eq!(stalled, None, "{name}");
        }
        let skipped = c["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s.as_bool().unwrap())
            .count() as u64;
        assert_eq!(
            r.row.skipped_steps,
            c["grad_dtype"].is_string().then_some(skipped),
            "{name}"
        );
    }
    assert_eq!(cases.len(), 43);
}

/// The case: f = x²/2 from x₀ = 1, SGD at lr 0.001. In bf16 the
/// update 0.001 is under half the spacing below 1.0 (2⁻⁹ ≈ 0.00195): x never
/// moves and the run stalls from step 0; in f32 it converges like f64.
#[test]
fn bf16_stalls_where_f32_converges() {
    let src = |dt: &str| {
        format!(
            "name = \"s\"\nsteps = 200\ntrace_every = 1\ntrace_positions = true\nhessian = false\n\
             [[landscape]]\nkind = \"quadratic\"\ndim = 1\neigenvalues = [1.0]\n\
             init = {{ kind = \"point\", x = [1.0] }}\n[[optimizer]]\nkind = \"sgd\"\nparam_dtype = \"{dt}\"\n\
             [[schedule]]\nkind = \"constant\"\nlr = 0.001\n"
        )
    };
    let run = |dt: &str| {
        let p = plan(&src(dt));
        run_one(&p, &Prepared::new(&p), &p.run(0))
    };
    let bf16 = run("bf16");
    assert_eq!(bf16.row.final_position.as_deref(), Some(&[1.0][..]));
    assert_eq!(bf16.row.stalled_at, Some(0));
    assert!(bf16.trace.update_underflow.iter().all(|u| *u == Some(1.0)));
    let f32run = run("f32");
    let exact = 0.999f64.powi(200);
    let x = f32run.row.final_position.unwrap()[0];
    assert!((x - exact).abs() < 1e-5, "{x} vs {exact}");
    assert_eq!(f32run.row.stalled_at, None);
}

/// With stochastic rounding E[SR(v)] = v, so on the same case E[x_t] =
/// 0.999^t, the f64 trajectory: over 200 seeds × 20 independent
/// coordinates the mean of x_200 is within 5 standard errors of 0.999^200
/// (each rounding adds variance at most (2⁻⁸)²/4).
#[test]
fn stochastic_rounding_follows_the_f64_trajectory_in_expectation() {
    let p = plan(
        "name = \"sr\"\nsteps = 200\nseeds = 200\ntrace_positions = true\nhessian = false\ntrace_every = 100\n\
         [[landscape]]\nkind = \"quadratic\"\ndim = 20\neigenvalues = { kind = \"linear\", min = 1.0, max = 1.0 }\n\
         init = { kind = \"uniform\", low = 1.0, high = 1.0000001 }\n\
         [[optimizer]]\nkind = \"sgd\"\nparam_dtype = \"bf16\"\nstochastic_rounding = true\n\
         [[schedule]]\nkind = \"constant\"\nlr = 0.001\n",
    );
    let prepared = Prepared::new(&p);
    let mut xs = Vec::new();
    for spec in &p.specs() {
        let r = run_one(&p, &prepared, spec);
        // The initial point rounds to 1.0 (stochastically: 1 + 1e-7 is far
        // below the spacing 2⁻⁷ above 1, so almost surely to 1.0).
        xs.extend(r.row.final_position.unwrap());
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let expected = 0.999f64.powi(200);
    let se = (var / n).sqrt();
    eprintln!("SR mean x_200 = {mean:.6}, 0.999^200 = {expected:.6}, se {se:.2e}");
    assert!(
        (mean - expected).abs() < 5.0 * se + 1e-6,
        "{mean} vs {expected} (se {se})"
    );
    // Round to nearest would not have moved at all.
    assert!(mean < 0.9);
}

/// torch.amp.GradScaler driving SGD on f = a·x²/2 with fp16 gradients: the
/// scale before every step, the skipped steps and x after every step.
#[test]
fn dynamic_loss_scale_matches_torch_grad_scaler() {
    let g = golden();
    for case in g["grad_scaler"]["landscape"].as_array().unwrap() {
        let steps = case["steps"].as_array().unwrap();
        let src = format!(
            "name = \"gs\"\nsteps = {}\ntrace_every = 1\ntrace_positions = true\nhessian = false\n\
             [[landscape]]\nkind = \"quadratic\"\ndim = 1\neigenvalues = [{:?}]\n\
             init = {{ kind = \"point\", x = [{:?}] }}\n[[optimizer]]\nkind = \"sgd\"\nmomentum = {}\n\
             grad_dtype = \"f16\"\nloss_scale = {{ growth_interval = {} }}\n\
             [[schedule]]\nkind = \"constant\"\nlr = {}\n",
            steps.len(),
            num(&case["a"]),
            num(&case["x0"]),
            num(&case["momentum"]),
            num(&case["growth_interval"]),
            num(&case["lr"]),
        );
        let p = plan(&src);
        let r = run_one(&p, &Prepared::new(&p), &p.run(0));
        let mut skips = 0;
        for (t, row) in steps.iter().enumerate() {
            assert_eq!(
                r.trace.loss_scale[t],
                Some(num(&row["scale_before"])),
                "{t}"
            );
            let skipped = row["skipped"].as_bool().unwrap();
            skips += u64::from(skipped);
            assert_eq!(r.trace.skipped[t], Some(skipped), "{t}");
            let x = x_after(&r, t, steps.len())[0];
            assert_eq!(x, num(&row["x"]), "x after {t}");
        }
        assert!(skips > 0);
        assert_eq!(r.row.skipped_steps, Some(skips));
    }
}

/// torch.optim.SGD(momentum 0.9) with four parameter groups under LambdaLR
/// (0.95^t, 1/(1 + t/10), 0.1, 0): here groups with their own schedules
/// (exponential, inverse_time) and lr scales 0.1 and 0 of the run's constant
/// 0.1. Group lrs to 1e-12 relative, x to 1e-12 relative; the group with lr
/// 0 never moves.
#[test]
fn per_group_schedules_match_torch_lambda_lr() {
    let g = golden();
    let c = &g["lambda_lr"];
    let steps = c["lr"].as_array().unwrap().len();
    let src = format!(
        "name = \"ll\"\nsteps = {steps}\ntrace_every = 1\ntrace_positions = true\nhessian = false\n\
         [[landscape]]\nkind = \"quadratic\"\ndim = 8\neigenvalues = {:?}\n\
         init = {{ kind = \"point\", x = {:?} }}\n[[optimizer]]\nkind = \"sgd\"\nmomentum = 0.9\n\
         groups = [\n\
           {{ coords = [0, 2], schedule = {{ kind = \"exponential\", lr = 0.1, gamma = 0.95 }} }},\n\
           {{ coords = [2, 4], schedule = {{ kind = \"inverse_time\", lr = 0.1, decay_rate = 0.1 }} }},\n\
           {{ coords = [4, 6], lr_scale = 0.1 }},\n\
           {{ coords = [6, 8], lr_scale = 0.0 }},\n]\n\
         [[schedule]]\nkind = \"constant\"\nlr = 0.1\n",
        floats(&c["h"]),
        floats(&c["x0"]),
    );
    let p = plan(&src);
    let r = run_one(&p, &Prepared::new(&p), &p.run(0));
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs();
    let x0 = floats(&c["x0"]);
    for t in 0..steps {
        let want = floats(&c["lr"][t]);
        let got = r.trace.group_lrs(t);
        for k in 0..4 {
            assert!(
                close(got[k], want[k]),
                "lr of group {k} at {t}: {} vs {}",
                got[k],
                want[k]
            );
        }
        let want = floats(&c["x"][t]);
        let got = x_after(&r, t, steps);
        for i in 0..8 {
            assert!(
                close(got[i], want[i]),
                "x[{i}] after {t}: {} vs torch {}",
                got[i],
                want[i]
            );
        }
        assert_eq!(&got[6..8], &x0[6..8], "lr 0 never moves");
    }
}

/// `lr_scale = 0` never moves its coordinates, with Adam and with SGD with
/// momentum and weight decay, under gradient noise and while the other
/// coordinates move.
#[test]
fn lr_scale_zero_never_moves_its_coordinates() {
    for opt in [
        "kind = \"adam\"",
        "kind = \"sgd\"\nmomentum = 0.9\nweight_decay = 0.01",
        "kind = \"adamw\"",
    ] {
        let p = plan(&format!(
            "name = \"z\"\nsteps = 300\nseeds = 2\ntrace_every = 1\ntrace_positions = true\nhessian = false\n\
             [[landscape]]\nkind = \"quadratic\"\ndim = 6\neigenvalues = {{ kind = \"geometric\", min = 0.1, max = 5.0 }}\n\
             [[optimizer]]\n{opt}\nnoise = {{ kind = \"gaussian\", std = 0.5 }}\n\
             groups = [{{ coords = [1, 3], lr_scale = 0.0 }}, {{ coords = [4, 5], lr_scale = 2.0 }}]\n\
             [[schedule]]\nkind = \"cosine\"\nlr = 0.05\ntotal_steps = 300\n"
        ));
        let prepared = Prepared::new(&p);
        for spec in &p.specs() {
            let r = run_one(&p, &prepared, spec);
            let x0 = &r.trace.position[..6];
            let xf = r.row.final_position.as_deref().unwrap();
            assert_eq!(&xf[1..3], &x0[1..3], "{opt}");
            for i in [0, 3, 4, 5] {
                assert_ne!(xf[i], x0[i], "{opt}: coordinate {i} moves");
            }
            assert!(r
                .trace
                .group_lrs(0)
                .iter()
                .zip([0.0, 0.1])
                .all(|(a, b)| *a == b));
        }
    }
}

/// The default path is unchanged: the first run of experiments/step_vs_exp.toml
/// keeps its run id and its final loss, bit for bit, as computed by main
/// before precision and groups existed (valley 3b46515).
#[test]
fn default_runs_are_unchanged() {
    let src = include_str!("../../experiments/step_vs_exp.toml");
    let p = plan(src);
    assert_eq!(p.run(0).run_id, "844d30ba08feaa50");
    let r = run_one(&p, &Prepared::new(&p), &p.run(0));
    assert_eq!(r.row.final_loss, 0.008428794997833593);
    assert_eq!(r.trace.loss_scale[0], None);
    assert_eq!(r.trace.update_underflow[0], None);
    assert_eq!((r.row.skipped_steps, r.row.stalled_at), (None, None));
    assert!(r.trace.group_lr.is_empty());
}

/// Layer-wise decay (ULMFiT): block k of 4 gets lr/2.6^(3 − k); the head the
/// run's lr.
#[test]
fn layerwise_decay_scales_the_blocks() {
    let p = plan(
        "name = \"lw\"\nsteps = 3\nhessian = false\n[[landscape]]\nkind = \"quadratic\"\ndim = 10\n\
         eigenvalues = { kind = \"linear\", min = 1.0, max = 1.0 }\n\
         [[optimizer]]\nkind = \"sgd\"\ngroups = { blocks = 4, lr_decay = { sweep = [1.0, 2.6] } }\n\
         [[schedule]]\nkind = \"constant\"\nlr = 0.1\n",
    );
    assert_eq!(p.run_count(), 2);
    let r = run_one(&p, &Prepared::new(&p), &p.run(1));
    let lrs = r.trace.group_lrs(0);
    for (k, lr) in lrs.iter().enumerate() {
        let want = 0.1 / 2.6f64.powi(3 - k as i32);
        assert!((lr - want).abs() <= 1e-15 * want, "{k}: {lr} vs {want}");
    }
    let r = run_one(&p, &Prepared::new(&p), &p.run(0));
    assert_eq!(r.trace.group_lrs(0), [0.1; 4]);
}

/// Bad groups and dtypes are rejected, naming the field.
#[test]
fn bad_groups_and_dtypes_name_the_field() {
    let base = "name = \"b\"\nsteps = 3\n[[landscape]]\nkind = \"quadratic\"\ndim = 10\n\
                eigenvalues = { kind = \"linear\", min = 1.0, max = 2.0 }\n[[optimizer]]\nkind = \"sgd\"\n";
    let tail = "[[schedule]]\nkind = \"constant\"\nlr = 0.1\n";
    for (line, field) in [
        (
            "groups = [{ coords = [0, 5] }, { coords = [4, 8] }]",
            "optimizer[0].groups[1].coords",
        ),
        (
            "groups = [{ coords = [0, 11] }]",
            "optimizer[0].groups[0].coords",
        ),
        (
            "groups = [{ coords = [5, 5] }]",
            "optimizer[0].groups[0].coords",
        ),
        (
            "groups = [{ coords = [0, 2], lr_scale = -1 }]",
            "optimizer[0].groups[0].lr_scale",
        ),
        (
            "groups = [{ coords = [0, 2], momentum = 1.5 }]",
            "optimizer[0].groups[0].momentum",
        ),
        (
            "groups = [{ coords = [0, 2], betas = 1 }]",
            "optimizer[0].groups[0].betas",
        ),
        (
            "groups = [{ coords = [0, 2], kind = \"adam\" }]",
            "optimizer[0].groups[0].kind",
        ),
        (
            "groups = { blocks = 11, lr_decay = 2.6 }",
            "optimizer[0].groups.blocks",
        ),
        (
            "groups = { blocks = 2, lr_decay = 0 }",
            "optimizer[0].groups.lr_decay",
        ),
        ("groups = 3", "optimizer[0].groups"),
        ("param_dtype = \"f8\"", "optimizer[0].param_dtype"),
        ("compute_dtype = \"half\"", "optimizer[0].compute_dtype"),
        ("grad_dtype = 16", "optimizer[0].grad_dtype"),
        (
            "stochastic_rounding = true",
            "optimizer[0].stochastic_rounding",
        ),
        ("loss_scale = 1024.0", "optimizer[0].loss_scale"),
        (
            "grad_dtype = \"f16\"\nloss_scale = -1.0",
            "optimizer[0].loss_scale",
        ),
        (
            "grad_dtype = \"f16\"\nloss_scale = { backoff_factor = 2.0 }",
            "optimizer[0].loss_scale.backoff_factor",
        ),
    ] {
        let src = format!("{base}{line}\n{tail}");
        let e = Plan::from_source(Path::new("test.toml"), &src).unwrap_err();
        assert!(e.is_invalid_input());
        let msg = e.to_string();
        assert!(msg.contains(&format!("`{field}`")), "{line}: {msg}");
    }
}
