//! The per-step loop does not allocate: with a counting global allocator, a
//! run of 2N steps makes exactly as many allocations as a run of N steps
//! (everything a run needs is allocated before its first step), for every
//! landscape, optimizer, noise model (every one on every landscape that
//! takes it), composed schedule, low precision and parameter groups, with
//! every step traced, positions and their nearest minimum included; two
//! players under every update order and method; the
//! schedules that read the loss (plateau, alone, after a warm-up and as a
//! stage) and the schedule-free optimizers among them.
//! Sharpness rows (`hessian_every`) are left out: the dense eigen-solver and
//! Lanczos allocate their own workspace.
//!
//! The landscapes and noise models are those of the registries, so a new
//! kind is checked without an edit here. The allocator is global to the
//! test binary, which runs other tests on other threads meanwhile: the
//! counter is per thread, and counts only the allocations of the test
//! that reads it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;
use valley::config::Plan;
use valley::landscape::LandscapeKind;
use valley::optimizer::noise::NoiseSpec;
use valley::optimizer::OptimizerKind;
use valley::runner::{run_one, Prepared};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(|c| c.get());
    f();
    ALLOCATIONS.with(|c| c.get()) - before
}

/// Allocations made by one run of `steps` steps, every step traced, less
/// those of classifying the run's final point (a short Newton descent, once
/// per run, after the step loop, whose length depends on the point).
fn step_loop_allocations(body: &str, steps: u64) -> usize {
    let src = format!(
        "name = \"a\"\nsteps = {steps}\ntrace_every = 1\ntrace_positions = true\nhessian = false\n{body}"
    );
    let plan = Plan::from_source(Path::new("alloc.toml"), &src).unwrap();
    let prepared = Prepared::new(&plan);
    let spec = plan.run(0);
    let mut result = None;
    let total = count(|| result = Some(run_one(&plan, &prepared, &spec)));
    let r = result.unwrap();
    assert!(!r.row.diverged, "{body}");
    assert_eq!(r.trace.len() as u64, steps, "{body}");
    let f = prepared.landscapes[0].as_ref();
    let end = r.row.final_position.clone().unwrap();
    let classify = count(|| {
        f.basin(&end);
    });
    total - classify
}

/// Landscape tables harder than the kind's documented example (a rotation,
/// a chosen init, a longer chain, several blocks, data of a chosen size).
/// A registered kind not listed here runs as its example.
const TABLES: &[(&str, &str)] = &[
    ("quadratic", "dim = 8\neigenvalues = { kind = \"geometric\", min = 0.1, max = 2.0 }\nrotate = true"),
    ("rastrigin", "dim = 5\ninit = { kind = \"uniform\", low = -0.2, high = 0.2 }"),
    ("muller_brown", "init = { kind = \"point\", x = [-0.5, 1.4] }"),
    ("protein_ab", "sequence = \"fibonacci:13\"\ndims = 2\ninit = { kind = \"uniform\", low = -0.3, high = 0.3 }"),
    ("protein_ab", "sequence = \"ABBAB\"\ndims = 3\ninit = { kind = \"uniform\", low = 0.5, high = 1.0 }"),
    ("wells", "dim = 3\nwells = [{ center = [1.0, 0.0, 0.0], depth = 1.0, width = 0.5 }]"),
    ("transfer", "blocks = [{ dim = 3, eigenvalues = [1.0, 2.0, 3.0], init_radius = 0.1 }, { dim = 2, eigenvalues = [0.1, 0.2], init_radius = 2.0 }]"),
    ("least_squares", "data = { n = 50, d = 4 }"),
    ("logistic", "data = { n = 50, d = 4 }"),
    ("mlp", "width = 3\ndata = { n = 50, d = 3 }"),
    ("matrix_factorization", "rows = 4\ncols = 3"),
    ("expression", "dim = 3\nf = \"sum(i, 0, d, a*x[i]^2 + abs(x[i]) * tanh(x[i])) + max(x0, x1) - log(2 + cos(x2))\"\nparams = { a = 0.5 }"),
    ("bilinear_game", "dim = 2\na = 0.1\nb = 0.2\ncoupling = 0.5"),
];

/// One table or more per registered landscape kind: those of [`TABLES`],
/// else the kind's documented example.
fn landscapes() -> Vec<String> {
    for (kind, _) in TABLES {
        assert!(
            LandscapeKind::KINDS.contains(kind),
            "{kind} is not registered"
        );
    }
    LandscapeKind::docs()
        .iter()
        .flat_map(|d| {
            let own: Vec<String> = TABLES
                .iter()
                .filter(|(kind, _)| *kind == d.kind)
                .map(|(kind, table)| format!("kind = \"{kind}\"\n{table}"))
                .collect();
            if own.is_empty() {
                vec![format!("kind = \"{}\"\n{}", d.kind, d.example)]
            } else {
                own
            }
        })
        .collect()
}

/// The landscape `table` built (under plain SGD), to ask what it is.
fn built(table: &str) -> Box<dyn valley::landscape::Landscape> {
    let src = format!(
        "name = \"a\"\nsteps = 1\n[[landscape]]\n{table}\n[[optimizer]]\nkind = \"sgd\"\n[[schedule]]\nkind = \"constant\"\nlr = 0.1\n"
    );
    let plan = Plan::from_source(Path::new("alloc.toml"), &src).unwrap();
    Prepared::new(&plan).landscapes.swap_remove(0)
}

/// Whether the landscape `table` is data-defined (has samples to draw
/// minibatches from).
fn has_samples(table: &str) -> bool {
    built(table).samples().is_some()
}

const OPTIMIZERS: &[&str] = &[
    "kind = \"sgd\"\nmomentum = 0.9\nnesterov = true\nweight_decay = 0.01\nnoise = { kind = \"gaussian\", std = 0.01 }",
    "kind = \"sgd\"\nmomentum = 0.9\nmomentum_form = \"classic\"\nnoise = { kind = \"student_t\", std = 0.01, dof = 5.0 }",
    "kind = \"adam\"\nweight_decay = 0.01\nnoise = { kind = \"dp\", clip = 1.0, multiplier = 0.01 }",
    "kind = \"adamw\"\nweight_decay_mode = \"lr_compensated\"",
    "kind = \"rmsprop\"\nmomentum = 0.5\ncentered = true",
    "kind = \"sgd\"\nmomentum = 0.9\nparam_dtype = \"bf16\"\nstochastic_rounding = true\ncompute_dtype = \"f16\"\ngrad_dtype = \"f16\"\nloss_scale = { growth_interval = 5 }\ngroups = [{ coords = [0, 1], lr_scale = 0.5, momentum = 0.5 }]",
    "kind = \"adam\"\nparam_dtype = \"f32\"\ngroups = { blocks = 2, lr_decay = 2.6 }\nclip_grad_norm = 1.0",
    "kind = \"sgd_schedulefree\"\nwarmup_steps = 5\nr = 1.0\nweight_decay = 0.01\nnoise = { kind = \"gaussian\", std = 0.01 }",
    "kind = \"adamw_schedulefree\"\nweight_decay = 0.01\ngroups = { blocks = 2, lr_decay = 2.6 }",
];

const SCHEDULES: &[&str] = &[
    "kind = \"onecycle\"\nmax_lr = 0.0001\ntotal_steps = 400",
    "kind = \"warmup\"\nwarmup_steps = 10\nthen = { kind = \"cosine\", lr = 0.0001, total_steps = 100 }",
    "kind = \"sequential\"\nmilestones = [50]\nschedules = [{ kind = \"constant\", lr = 0.0001 }, { kind = \"cosine_restarts\", lr = 0.0001, T_0 = 20, T_mult = 2 }]",
    "kind = \"cyclic\"\nbase_lr = 0.00001\nmax_lr = 0.0001\nstep_size_up = 20",
    "kind = \"wsd\"\nlr = 0.0001\nwarmup_steps = 10\ndecay_steps = 40\ntotal_steps = 150\ndecay_type = \"1-sqrt\"",
    "kind = \"plateau\"\nlr = 0.0001\npatience = 2\nfactor = 0.5\ncooldown = 3",
    "kind = \"warmup\"\nwarmup_steps = 10\nthen = { kind = \"plateau\", lr = 0.0001, patience = 1 }",
    "kind = \"sequential\"\nmilestones = [30]\nschedules = [{ kind = \"wsd\", lr = 0.0001, decay_steps = 10, stable_steps = 10 }, { kind = \"plateau\", lr = 0.0001, patience = 0, every = 3 }]",
];

/// The counter sees an allocation of this thread, and a loop that
/// allocates once per pass counts more for more passes (the comparison the
/// tests below make).
#[test]
fn the_counter_sees_allocations() {
    let once = count(|| {
        let v = std::hint::black_box(vec![1u8]);
        std::hint::black_box(&v);
    });
    assert!(once >= 1, "{once}");
    let passes = |n: u64| {
        count(|| {
            for i in 0..n {
                std::hint::black_box(Box::new(i));
            }
        })
    };
    assert_ne!(passes(100), passes(200));
}

#[test]
fn the_step_loop_does_not_allocate() {
    for kind in OptimizerKind::KINDS {
        assert!(
            OPTIMIZERS
                .iter()
                .any(|o| o.starts_with(&format!("kind = \"{kind}\"\n"))),
            "no optimizer table of kind {kind}"
        );
    }
    let landscapes = landscapes();
    let mut checked = 0;
    let mut refused = 0;
    for landscape in &landscapes {
        for (i, optimizer) in OPTIMIZERS.iter().enumerate() {
            let schedule = SCHEDULES[(i + checked + refused) % SCHEDULES.len()];
            let body = format!("[[landscape]]\n{landscape}\n[[optimizer]]\n{optimizer}\n[[schedule]]\n{schedule}\n");
            // A game refuses the optimizers without game semantics and the
            // transforms that do not act per player (games_do_not_allocate
            // covers the rest).
            if is_game(landscape) {
                let src = format!("name = \"a\"\nsteps = 1\n{body}");
                if Plan::from_source(Path::new("alloc.toml"), &src).is_err() {
                    refused += 1;
                    continue;
                }
            }
            let short = step_loop_allocations(&body, 100);
            let long = step_loop_allocations(&body, 200);
            assert_eq!(
                short, long,
                "allocations grow with steps ({short} for 100 steps, {long} for 200):\n{body}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked + refused, landscapes.len() * OPTIMIZERS.len());
    assert!(refused < 10, "{refused} refused");
}

/// Whether the landscape `table` is a two-player game.
fn is_game(table: &str) -> bool {
    built(table).players().is_some()
}

/// Two players: every update order and method, with SGD (momentum,
/// noise from each player's stream, clipping, each player's own cyclic
/// schedule half a cycle apart) and Adam (a 4:1 lr ratio), on both game
/// landscapes: the look-ahead point, the second field and the saved
/// optimizer states are allocated before the first step.
#[test]
fn games_do_not_allocate() {
    let optimizers = [
        "kind = \"sgd\"\nmomentum = 0.5\nclip_grad_norm = 1.0\nnoise = { kind = \"gaussian\", std = 0.01 }\n\
         groups = [{ coords = [0, 1], schedule = { kind = \"cyclic\", base_lr = 0.001, max_lr = 0.01, step_size_up = 5 } }, \
         { coords = [1, 2], schedule = { kind = \"cyclic\", base_lr = 0.001, max_lr = 0.01, step_size_up = 5, phase = 5 } }]",
        "kind = \"adam\"\nnoise = { kind = \"langevin\", temperature = 1e-6 }\ngroups = [{ coords = [0, 1] }, { coords = [1, 2], lr_scale = 4.0 }]",
    ];
    let mut checked = 0;
    for landscape in [
        "kind = \"bilinear_game\"\ndim = 1\na = 0.1",
        "kind = \"dirac_gan\"\nr1 = 0.5",
    ] {
        for optimizer in optimizers {
            for update in ["simultaneous", "alternating"] {
                for method in ["gda", "extragradient", "optimistic"] {
                    let body = format!(
                        "[[landscape]]\n{landscape}\n[[optimizer]]\n{optimizer}\ngame = {{ update = \"{update}\", method = \"{method}\" }}\n[[schedule]]\nkind = \"constant\"\nlr = 0.01\n"
                    );
                    assert_eq!(
                        step_loop_allocations(&body, 100),
                        step_loop_allocations(&body, 200),
                        "{body}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 24);
}

/// Every noise model (its documented example) on every landscape that takes
/// it. The curvature-shaped noise reads the Hessian diagonal every step; the
/// landscapes with an analytic diagonal provide it without allocating
/// (protein_ab's exact O(n²) diagonal included). A model that needs samples
/// (minibatch) runs on the data-defined landscapes only.
#[test]
fn every_noise_model_does_not_allocate() {
    let landscapes = landscapes();
    let data: Vec<bool> = landscapes.iter().map(|l| has_samples(l)).collect();
    assert!(data.iter().any(|&d| d), "no data-defined landscape");
    for noise in NoiseSpec::docs() {
        let mut ran = 0;
        for (i, landscape) in landscapes.iter().enumerate() {
            let body = format!(
                "[[landscape]]\n{landscape}\n[[optimizer]]\nkind = \"sgd\"\nmomentum = 0.9\n[optimizer.noise]\nkind = \"{}\"\n{}\n[[schedule]]\n{}\n",
                noise.kind,
                noise.example,
                SCHEDULES[i % SCHEDULES.len()]
            );
            let src = format!("name = \"a\"\nsteps = 1\n{body}");
            if let Err(e) = Plan::from_source(Path::new("alloc.toml"), &src) {
                // Refused: only a model that needs samples, on a landscape
                // without them.
                assert!(!data[i] && e.to_string().contains("noise"), "{e}\n{body}");
                continue;
            }
            assert_eq!(
                step_loop_allocations(&body, 100),
                step_loop_allocations(&body, 200),
                "{body}"
            );
            ran += 1;
        }
        let takes = data.iter().filter(|&&d| d).count();
        assert!(ran >= takes, "{} ran on {ran} landscapes", noise.kind);
    }
}

/// The data-defined landscapes under full-batch, minibatch (a batch that
/// does not divide the samples, with and without replacement) and curvature
/// noise: the per-run noise state is allocated before the first step.
#[test]
fn data_landscapes_and_minibatch_noise_do_not_allocate() {
    let noises = [
        "{ kind = \"none\" }",
        "{ kind = \"minibatch\", batch_size = 7 }",
        "{ kind = \"minibatch\", batch_size = 7, replacement = true }",
        "{ kind = \"curvature\", scale = 1e-4 }",
    ];
    let mut checked = 0;
    for landscape in landscapes().iter().filter(|l| has_samples(l)) {
        for (i, noise) in noises.iter().enumerate() {
            // The plateau schedule reads the full-data loss every step.
            let schedule = if i == 1 { SCHEDULES[5] } else { SCHEDULES[1] };
            let body = format!(
                "[[landscape]]\n{landscape}\n[[optimizer]]\nkind = \"sgd\"\nmomentum = 0.9\nnoise = {noise}\n[[schedule]]\n{schedule}\n"
            );
            assert_eq!(
                step_loop_allocations(&body, 100),
                step_loop_allocations(&body, 200),
                "{body}"
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}
