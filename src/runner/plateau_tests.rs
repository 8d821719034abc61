//! `plateau` in a real run, against torch: the run of
//! `tests/fixtures/schedules/plateau_run.toml` gives at every step the lr
//! that torch's `ReduceLROnPlateau` gives when replaying the run's own
//! losses (the case `plateau_replay_of_a_valley_run` of
//! `tests/fixtures/schedules/golden.json`, from `scripts/golden_schedules.py`),
//! and its losses are the ones torch was fed
//! (`plateau_run_losses.csv`, from `scripts/plateau_run_losses.py`).

use crate::config::Plan;
use crate::runner::{run_one, Prepared};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schedules");

fn close(a: f64, b: f64) -> bool {
    approx::relative_eq!(a, b, epsilon = 1e-15, max_relative = 1e-12)
}

#[test]
fn a_run_gives_the_lrs_torch_gives_for_its_own_losses() {
    let path = std::path::PathBuf::from(format!("{DIR}/plateau_run.toml"));
    let plan = Plan::from_source(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
    let prepared = Prepared::new(&plan);
    let r = run_one(&plan, &prepared, &plan.run(0));
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/golden.json")).unwrap())
            .unwrap();
    let case = golden
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "plateau_replay_of_a_valley_run")
        .expect("the replay case");
    let torch: Vec<f64> = serde_json::from_value(case["lr"].clone()).unwrap();
    let fed: Vec<f64> = serde_json::from_value(case["losses"].clone()).unwrap();
    let csv = std::fs::read_to_string(format!("{DIR}/plateau_run_losses.csv")).unwrap();
    let recorded: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(r.trace.lr.len(), torch.len());
    // The same numbers (serde_json's float parsing may differ by an ulp).
    assert_eq!(fed.len(), recorded.len());
    assert!(fed.iter().zip(&recorded).all(|(a, b)| close(*a, *b)));
    let cuts = torch.windows(2).filter(|w| w[1] < w[0]).count();
    assert!(
        cuts >= 3,
        "only {cuts} cuts: the case does not exercise the rule"
    );
    for t in 0..torch.len() {
        assert!(
            close(r.trace.loss[t], recorded[t]),
            "loss({t}) = {}, recorded {}",
            r.trace.loss[t],
            recorded[t]
        );
        assert!(
            close(r.trace.lr[t], torch[t]),
            "lr({t}) = {}, torch {}",
            r.trace.lr[t],
            torch[t]
        );
    }
}
