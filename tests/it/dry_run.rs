//! What a sweep says before it runs: plan warnings (issue 24: a schedule
//! length that ends after the run) and the dry run's time estimate for slow
//! runs.

use crate::common::{setup, stderr, valley};

/// A cosine behind a 20-step warm-up, its `total_steps` the run's 50 steps:
/// it counts the steps after the warm-up and would end at step 70.
const OVERRUN: &str = "name = \"overrun\"\nsteps = 50\nseeds = 1\n\n\
[[landscape]]\nkind = \"quadratic\"\ndim = 2\neigenvalues = [1.0, 2.0]\n\n\
[[optimizer]]\nkind = \"sgd\"\n\n\
[[schedule]]\nkind = \"warmup\"\nwarmup_steps = 20\n\
then = { kind = \"cosine\", lr = 0.1, total_steps = 50 }\n";

#[test]
fn a_cosine_that_ends_after_the_run_is_a_warning_naming_file_line_and_field() {
    let (tmp, file) = setup("sweep.toml", OVERRUN);
    let f = file.to_str().unwrap();
    let expected = "sweep.toml:16: field `schedule[0].then.total_steps`: total_steps = 50 \
                    counts the steps after the warm-up (warmup_steps = 20): the cosine ends at \
                    step 70, after the run's 50 steps, so it never reaches eta_min = 0";
    // The dry run warns and exits 0.
    let o = valley(&["sweep", f, "--dry-run"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("warning: ") && err.contains(expected), "{err}");
    // So does the sweep, which runs.
    let o = valley(&["sweep", f, "-q"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains(expected), "{}", stderr(&o));
    assert!(tmp.path().join("results/overrun/runs.parquet").exists());
    // total_steps = steps − warmup_steps (HF's convention) is quiet.
    let (tmp, file) = setup(
        "sweep.toml",
        &OVERRUN.replace("total_steps = 50", "total_steps = 30"),
    );
    let o = valley(&["sweep", file.to_str().unwrap(), "--dry-run"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

/// The Edge of Stability's runs (a tanh network, its Hessian every 20
/// steps) took too long for the fixed calibration (8 runs of 50 and 500
/// steps within 2 s): "time: not estimated". The calibration now fits its
/// lengths to its budget.
#[test]
fn a_dry_run_of_slow_runs_estimates_the_time() {
    let src = "name = \"slow\"\nsteps = 4000\nseeds = 2\ntrace_every = 20\nhessian_every = 20\n\n\
               [[landscape]]\nkind = \"mlp\"\nwidth = 16\ndata = { n = 256, d = 10 }\n\
               init = { kind = \"uniform\", low = -0.05, high = 0.05 }\n\n\
               [[optimizer]]\nkind = \"sgd\"\n\n\
               [[schedule]]\nkind = \"constant\"\nlr = { sweep = [1.5, 2.0] }\n";
    let (tmp, file) = setup("sweep.toml", src);
    let o = valley(&["sweep", file.to_str().unwrap(), "--dry-run"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out.lines().find(|l| l.contains("time:")).unwrap();
    assert!(line.contains("time: about"), "{line}");
    assert!(line.contains("calibration run"), "{line}");
}
