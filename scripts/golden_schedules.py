#!/usr/bin/env python3
"""Golden learning-rate (and momentum) sequences for valley's schedules.

Runs the real schedulers -- torch.optim.lr_scheduler (float64 default dtype,
stepping the scheduler and reading optimizer.param_groups), optax schedules
(with jax x64 enabled), HF transformers schedules -- and, for Keras'
InverseTimeDecay (Keras is not installed), its documented formula.

Writes tests/fixtures/schedules/golden.json: a list of
  {name, source, schedule: <valley table>, lr: [...], momentum: [...] | null}
where lr[t] is the lr of update t (the value param_groups[0]["lr"] holds when
optimizer.step() is called for the (t+1)-th time).

For the schedules PyTorch computes recursively (chainable form) it also
evaluates `_get_closed_form_lr` at every step and records the largest relative
difference as `recursive_vs_closed_max_rel` (printed as well).

Each case also carries `versions` (Python, torch, jax, optax, transformers), the
same in every case: the file is a bare list, which the Rust readers expect.

Run inside the golden environment (docs/goldens.md):
    python3 scripts/golden_schedules.py
"""

import json
import math
import os

import torch

torch.set_default_dtype(torch.float64)

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import optax  # noqa: E402
import transformers  # noqa: E402
from torch.optim import lr_scheduler as L  # noqa: E402

from golden_env import versions  # noqa: E402

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "tests",
    "fixtures",
    "schedules",
    "golden.json",
)

CASES = []


def optimizer(lr, adam=False):
    p = [torch.nn.Parameter(torch.zeros(2))]
    if adam:
        return torch.optim.Adam(p, lr=lr, betas=(0.9, 0.999))
    return torch.optim.SGD(p, lr=lr, momentum=0.9)


def rel(a, b):
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(b), 1e-300)


def run_torch(name, schedule, make, lr, steps, adam=False, momentum=False):
    """make(opt) -> scheduler. Records lr (and momentum) before each update."""
    opt = optimizer(lr, adam)
    sched = make(opt)
    lrs, moms = [], []
    closed_drift = 0.0
    for t in range(steps):
        g = opt.param_groups[0]
        lrs.append(float(g["lr"]))
        if momentum:
            moms.append(float(g["betas"][0] if adam else g["momentum"]))
        if hasattr(sched, "_get_closed_form_lr") and not isinstance(sched, L.SequentialLR):
            closed = float(sched._get_closed_form_lr()[0])
            closed_drift = max(closed_drift, rel(lrs[-1], closed))
        opt.zero_grad()
        opt.step()
        sched.step()
    entry = {
        "name": name,
        "source": "torch " + type(sched).__name__,
        "schedule": schedule,
        "lr": lrs,
        "momentum": moms if momentum else None,
    }
    if hasattr(sched, "_get_closed_form_lr") and not isinstance(sched, L.SequentialLR):
        entry["recursive_vs_closed_max_rel"] = closed_drift
        print(f"{name:40s} torch recursive vs closed form: max rel {closed_drift:.3e}")
    CASES.append(entry)


def run_fn(name, source, schedule, fn, steps):
    CASES.append(
        {
            "name": name,
            "source": source,
            "schedule": schedule,
            "lr": [float(fn(t)) for t in range(steps)],
            "momentum": None,
        }
    )


N = 300

# ---- step / multistep ---------------------------------------------------
run_torch("step_30_half", {"kind": "step", "lr": 0.1, "step_size": 30, "gamma": 0.5},
          lambda o: L.StepLR(o, step_size=30, gamma=0.5), 0.1, N)
run_torch("step_7_default_gamma", {"kind": "step", "lr": 0.3, "step_size": 7},
          lambda o: L.StepLR(o, step_size=7), 0.3, N)
run_torch("multistep", {"kind": "multistep", "lr": 0.05, "milestones": [50, 120, 121, 250], "gamma": 0.3},
          lambda o: L.MultiStepLR(o, milestones=[50, 120, 121, 250], gamma=0.3), 0.05, N)

# Calibration by half-life: gamma = 2 ** (-period / half_life) on the torch side.
run_torch("step_half_life", {"kind": "step", "lr": 0.1, "step_size": 25, "half_life": 100.0},
          lambda o: L.StepLR(o, step_size=25, gamma=2.0 ** (-25 / 100)), 0.1, N)

# ---- exponential --------------------------------------------------------
run_torch("exponential_half_life", {"kind": "exponential", "lr": 0.1, "half_life": 80.0},
          lambda o: L.ExponentialLR(o, gamma=2.0 ** (-1 / 80)), 0.1, N)
run_torch("exponential_0.99", {"kind": "exponential", "lr": 0.1, "gamma": 0.99},
          lambda o: L.ExponentialLR(o, gamma=0.99), 0.1, N)
run_torch("exponential_0.9", {"kind": "exponential", "lr": 1.0, "gamma": 0.9},
          lambda o: L.ExponentialLR(o, gamma=0.9), 1.0, N)
# Worked example: 0.1 * 0.9 ** (250 / 1000) at t = 250.
run_fn("optax_exponential_decay_steps_1000", "optax exponential_decay",
       {"kind": "exponential", "lr": 0.1, "gamma": 0.9, "decay_steps": 1000},
       optax.exponential_decay(0.1, transition_steps=1000, decay_rate=0.9), N)
run_fn("optax_exponential_staircase", "optax exponential_decay",
       {"kind": "exponential", "lr": 0.1, "gamma": 0.5, "decay_steps": 40, "staircase": True},
       optax.exponential_decay(0.1, transition_steps=40, decay_rate=0.5, staircase=True), N)

# ---- polynomial ---------------------------------------------------------
for power in (1.0, 2.0, 0.5):
    run_torch(f"polynomial_power_{power}",
              {"kind": "polynomial", "lr": 0.1, "total_steps": 200, "power": power},
              lambda o, p=power: L.PolynomialLR(o, total_iters=200, power=p), 0.1, N)
# Worked example: 0.1 * (1 - 250/1000) ** 2 = 0.05625 at t = 250.
run_fn("optax_polynomial_power_2_T_1000", "optax polynomial_schedule",
       {"kind": "polynomial", "lr": 0.1, "total_steps": 1000, "power": 2.0},
       optax.polynomial_schedule(0.1, 0.0, power=2, transition_steps=1000), N)
run_fn("optax_polynomial_end_lr", "optax polynomial_schedule",
       {"kind": "polynomial", "lr": 0.1, "total_steps": 200, "power": 1.5, "end_lr": 0.01},
       optax.polynomial_schedule(0.1, 0.01, power=1.5, transition_steps=200), N)

# ---- linear -------------------------------------------------------------
run_torch("linear_defaults", {"kind": "linear", "lr": 0.1},
          lambda o: L.LinearLR(o), 0.1, 40)
run_torch("linear_decay", {"kind": "linear", "lr": 0.2, "start_factor": 1.0, "end_factor": 0.1, "total_steps": 250},
          lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=250), 0.2, N)
run_torch("linear_warmup", {"kind": "linear", "lr": 0.2, "start_factor": 0.01, "end_factor": 1.0, "total_steps": 100},
          lambda o: L.LinearLR(o, start_factor=0.01, end_factor=1.0, total_iters=100), 0.2, N)

# ---- inverse time (Keras formula) / inverse sqrt (HF) -------------------
def keras_inverse_time(lr, rate, steps, staircase):
    def f(t):
        p = t / steps
        if staircase:
            p = math.floor(p)
        return lr / (1.0 + rate * p)
    return f


run_fn("inverse_time", "Keras InverseTimeDecay formula",
       {"kind": "inverse_time", "lr": 0.1, "decay_rate": 0.5, "decay_steps": 10},
       keras_inverse_time(0.1, 0.5, 10, False), N)
run_fn("inverse_time_staircase", "Keras InverseTimeDecay formula",
       {"kind": "inverse_time", "lr": 0.1, "decay_rate": 2.0, "decay_steps": 25, "staircase": True},
       keras_inverse_time(0.1, 2.0, 25, True), N)
run_torch("hf_inverse_sqrt", {"kind": "inverse_sqrt", "lr": 0.01, "timescale": 50},
          lambda o: transformers.get_inverse_sqrt_schedule(o, num_warmup_steps=0, timescale=50), 0.01, N)

# ---- cosine -------------------------------------------------------------
# PyTorch's CosineAnnealingLR rises again after T_max: compare t <= T only.
run_torch("cosine_T300", {"kind": "cosine", "lr": 0.1, "total_steps": 300},
          lambda o: L.CosineAnnealingLR(o, T_max=300), 0.1, 301)
run_torch("cosine_T120_eta_min", {"kind": "cosine", "lr": 0.1, "total_steps": 120, "eta_min": 0.001},
          lambda o: L.CosineAnnealingLR(o, T_max=120, eta_min=0.001), 0.1, 121)
# optax holds the end value after T, like valley.
run_fn("optax_cosine_hold", "optax cosine_decay_schedule",
       {"kind": "cosine", "lr": 0.1, "total_steps": 200, "eta_min": 0.005},
       optax.cosine_decay_schedule(0.1, decay_steps=200, alpha=0.05), N)

# ---- cosine restarts ----------------------------------------------------
run_torch("cosine_restarts_T0_10", {"kind": "cosine_restarts", "lr": 0.1, "T_0": 10},
          lambda o: L.CosineAnnealingWarmRestarts(o, T_0=10), 0.1, N)
run_torch("cosine_restarts_T0_7_mult_2", {"kind": "cosine_restarts", "lr": 0.1, "T_0": 7, "T_mult": 2, "eta_min": 0.01},
          lambda o: L.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2, eta_min=0.01), 0.1, N)
run_torch("cosine_restarts_T0_5_mult_3", {"kind": "cosine_restarts", "lr": 0.5, "T_0": 5, "T_mult": 3},
          lambda o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=3), 0.5, N)

# ---- cyclic (momentum included) -----------------------------------------
run_torch("cyclic_triangular", {"kind": "cyclic", "base_lr": 0.01, "max_lr": 0.1, "step_size_up": 20},
          lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=20), 0.05, N, momentum=True)
run_torch("cyclic_triangular2", {"kind": "cyclic", "base_lr": 0.001, "max_lr": 0.1, "step_size_up": 15,
                                 "step_size_down": 35, "mode": "triangular2", "base_momentum": 0.85, "max_momentum": 0.95},
          lambda o: L.CyclicLR(o, base_lr=0.001, max_lr=0.1, step_size_up=15, step_size_down=35,
                               mode="triangular2", base_momentum=0.85, max_momentum=0.95), 0.05, N, momentum=True)
run_torch("cyclic_exp_range_adam", {"kind": "cyclic", "base_lr": 0.001, "max_lr": 0.01, "step_size_up": 25,
                                    "mode": "exp_range", "gamma": 0.995},
          lambda o: L.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=25, mode="exp_range", gamma=0.995),
          0.05, N, adam=True, momentum=True)
run_torch("cyclic_no_momentum", {"kind": "cyclic", "base_lr": 0.02, "max_lr": 0.3, "step_size_up": 11,
                                 "step_size_down": 4, "cycle_momentum": False},
          lambda o: L.CyclicLR(o, base_lr=0.02, max_lr=0.3, step_size_up=11, step_size_down=4,
                               cycle_momentum=False), 0.05, N)

# ---- onecycle (momentum included); t = 0 .. N-1 -------------------------
run_torch("onecycle_cos", {"kind": "onecycle", "max_lr": 0.1, "total_steps": 300},
          lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=300), 0.1, 300, momentum=True)
run_torch("onecycle_linear_adam", {"kind": "onecycle", "max_lr": 0.05, "total_steps": 257, "pct_start": 0.25,
                                   "anneal_strategy": "linear", "div_factor": 10.0, "final_div_factor": 100.0},
          lambda o: L.OneCycleLR(o, max_lr=0.05, total_steps=257, pct_start=0.25, anneal_strategy="linear",
                                 div_factor=10.0, final_div_factor=100.0), 0.05, 257, adam=True, momentum=True)
run_torch("onecycle_three_phase", {"kind": "onecycle", "max_lr": 0.2, "total_steps": 300, "pct_start": 0.4,
                                   "three_phase": True, "base_momentum": 0.8, "max_momentum": 0.9},
          lambda o: L.OneCycleLR(o, max_lr=0.2, total_steps=300, pct_start=0.4, three_phase=True,
                                 base_momentum=0.8, max_momentum=0.9), 0.2, 300, momentum=True)
run_torch("onecycle_three_phase_linear_odd", {"kind": "onecycle", "max_lr": 1.0, "total_steps": 101, "pct_start": 0.33,
                                              "three_phase": True, "anneal_strategy": "linear", "cycle_momentum": False},
          lambda o: L.OneCycleLR(o, max_lr=1.0, total_steps=101, pct_start=0.33, three_phase=True,
                                 anneal_strategy="linear", cycle_momentum=False), 1.0, 101)

# ---- warm-up ------------------------------------------------------------
run_torch("warmup_linear_then_cosine",
          {"kind": "warmup", "warmup_steps": 20, "start_factor": 0.1,
           "then": {"kind": "cosine", "lr": 0.1, "total_steps": 280}},
          lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=20),
                                       L.CosineAnnealingLR(o, T_max=280)], milestones=[20]), 0.1, N + 1)
run_torch("warmup_then_exponential",
          {"kind": "warmup", "warmup_steps": 13, "start_factor": 0.25,
           "then": {"kind": "exponential", "lr": 0.1, "gamma": 0.98}},
          lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.25, total_iters=13),
                                       L.ExponentialLR(o, gamma=0.98)], milestones=[13]), 0.1, N)
# HF: linear warm-up from 0, then half a cosine to 0 at num_training_steps.
run_torch("hf_cosine_with_warmup",
          {"kind": "warmup", "warmup_steps": 30, "start_factor": 0.0,
           "then": {"kind": "cosine", "lr": 0.1, "total_steps": 270}},
          lambda o: transformers.get_cosine_schedule_with_warmup(o, num_warmup_steps=30, num_training_steps=300),
          0.1, N + 1)
run_fn("optax_warmup_cosine_decay", "optax warmup_cosine_decay_schedule",
       {"kind": "warmup", "warmup_steps": 25, "start_factor": 0.1,
        "then": {"kind": "cosine", "lr": 0.1, "total_steps": 275, "eta_min": 0.001}},
       optax.warmup_cosine_decay_schedule(0.01, 0.1, warmup_steps=25, decay_steps=300, end_value=0.001), N + 50)

# ---- sequential ---------------------------------------------------------
run_torch("sequential_exp_step_cosine",
          {"kind": "sequential", "milestones": [40, 100],
           "schedules": [{"kind": "exponential", "lr": 0.1, "gamma": 0.95},
                         {"kind": "step", "lr": 0.1, "step_size": 10, "gamma": 0.5},
                         {"kind": "cosine", "lr": 0.1, "total_steps": 200}]},
          lambda o: L.SequentialLR(o, [L.ExponentialLR(o, gamma=0.95), L.StepLR(o, step_size=10, gamma=0.5),
                                       L.CosineAnnealingLR(o, T_max=200)], milestones=[40, 100]), 0.1, N + 1)
run_torch("sequential_linear_then_exponential_restarts",
          {"kind": "sequential", "milestones": [10, 60],
           "schedules": [{"kind": "linear", "lr": 0.1, "start_factor": 0.5, "total_steps": 10},
                         {"kind": "exponential", "lr": 0.1, "gamma": 0.9},
                         {"kind": "polynomial", "lr": 0.1, "total_steps": 100, "power": 2.0}]},
          lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.5, total_iters=10), L.ExponentialLR(o, gamma=0.9),
                                       L.PolynomialLR(o, total_iters=100, power=2.0)], milestones=[10, 60]), 0.1, N)
run_torch("sequential_restarts_child",
          {"kind": "sequential", "milestones": [25],
           "schedules": [{"kind": "multistep", "lr": 0.1, "milestones": [5, 15], "gamma": 0.5},
                         {"kind": "cosine_restarts", "lr": 0.1, "T_0": 10, "T_mult": 2, "eta_min": 0.001}]},
          lambda o: L.SequentialLR(o, [L.MultiStepLR(o, milestones=[5, 15], gamma=0.5),
                                       L.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2, eta_min=0.001)],
                                   milestones=[25]), 0.1, N)

# ---- warmup-stable-decay (HF get_wsd_schedule: LambdaLR, lambda x lr) -----
def hf_wsd(name, schedule, steps, **kw):
    run_torch(name, dict(kind="wsd", **schedule),
              lambda o: transformers.get_wsd_schedule(o, **kw), schedule["lr"], steps)


hf_wsd("hf_wsd_linear_cosine", {"lr": 0.1, "warmup_steps": 20, "decay_steps": 60, "total_steps": 250},
       N, num_warmup_steps=20, num_decay_steps=60, num_training_steps=250)
hf_wsd("hf_wsd_cosine_linear_min", {"lr": 0.2, "warmup_steps": 30, "stable_steps": 150, "decay_steps": 80,
                                    "warmup_type": "cosine", "decay_type": "linear", "min_lr_ratio": 0.1},
       N, num_warmup_steps=30, num_stable_steps=150, num_decay_steps=80,
       warmup_type="cosine", decay_type="linear", min_lr_ratio=0.1)
hf_wsd("hf_wsd_1sqrt_1sqrt", {"lr": 0.05, "warmup_steps": 25, "decay_steps": 100, "total_steps": 250,
                              "warmup_type": "1-sqrt", "decay_type": "1-sqrt", "min_lr_ratio": 0.05},
       N, num_warmup_steps=25, num_decay_steps=100, num_training_steps=250,
       warmup_type="1-sqrt", decay_type="1-sqrt", min_lr_ratio=0.05)
hf_wsd("hf_wsd_cosine_cycles", {"lr": 0.1, "stable_steps": 100, "decay_steps": 120, "num_cycles": 0.8,
                                "min_lr_ratio": 0.02},
       N, num_warmup_steps=0, num_stable_steps=100, num_decay_steps=120, num_cycles=0.8, min_lr_ratio=0.02)
hf_wsd("hf_wsd_1sqrt_warmup_linear_decay", {"lr": 1.0, "warmup_steps": 7, "decay_steps": 41, "total_steps": 101,
                                            "warmup_type": "1-sqrt", "decay_type": "linear"},
       N, num_warmup_steps=7, num_decay_steps=41, num_training_steps=101,
       warmup_type="1-sqrt", decay_type="linear")
hf_wsd("hf_wsd_cosine_warmup_1sqrt_decay", {"lr": 0.3, "warmup_steps": 40, "stable_steps": 0, "decay_steps": 200,
                                            "warmup_type": "cosine", "decay_type": "1-sqrt", "min_lr_ratio": 0.25},
       N, num_warmup_steps=40, num_stable_steps=0, num_decay_steps=200,
       warmup_type="cosine", decay_type="1-sqrt", min_lr_ratio=0.25)


# The EPFL code's wsd_schedule (epfml/schedules-and-scaling, src/optim/utils.py,
# not a package): its formula for the decay shapes HF lacks, no warm-up
# (n_warmup = 0), n_hold = N - int(fract_decay * N), floor final_lr_factor.
def epfl_wsd(n_iterations, final, fract_decay, decay_type):
    n_anneal = int(fract_decay * n_iterations)
    n_hold = n_iterations - n_anneal

    def f(step):
        if step < n_hold:
            return 1.0
        if step >= n_iterations:
            return final
        p = (step - n_hold) / n_anneal
        cos = final + (1 - final) * (1 + math.cos(math.pi * (step - n_hold) / n_anneal)) * 0.5
        lin = final + (1 - final) * (1 - p)
        return {"exp": final ** p,
                "square": final + (1 - final) * (1 - p ** 2),
                "mirror_cosine": lin * 2 - cos}[decay_type]
    return f


for shape, final in (("exp", 0.01), ("square", 0.0), ("mirror_cosine", 0.1)):
    g = epfl_wsd(250, final, 0.2, shape)
    run_fn(f"epfl_wsd_{shape}", "EPFL wsd_schedule formula",
           {"kind": "wsd", "lr": 0.1, "decay_steps": 50, "total_steps": 250, "decay_type": shape,
            "min_lr_ratio": final},
           lambda t, g=g: 0.1 * g(t), N)


# Schaipp et al. 2025 (fabian-sp/lr-scheduling, ScheduleBase._construct_cooldown,
# not a package): the cooldown of D steps reaches its floor at its last step.
def schaipp_wsd(steps, cooldown_len, final, decay_type):
    d = int(cooldown_len * steps)
    last = 1.0
    if decay_type == "linear":
        cool = [last - (t + 1) * (last - final) / d for t in range(d)]
    else:
        cool = [final + (last - final) * (1.0 - math.sqrt((t + 1) / d)) for t in range(d)]
    return [1.0] * (steps - d) + cool


for shape, final in (("linear", 0.0), ("1-sqrt", 0.1)):
    sched = schaipp_wsd(300, 0.2, final, "linear" if shape == "linear" else "sqrt")
    run_fn(f"schaipp_wsd_{shape}", "Schaipp et al. WSDSchedule formula",
           {"kind": "wsd", "lr": 0.5, "decay_steps": 60, "total_steps": 300, "decay_type": shape,
            "min_lr_ratio": final, "convention": "schaipp"},
           lambda t, s=sched: 0.5 * s[t], 300)


# ---- ReduceLROnPlateau, driven by a committed loss sequence --------------
# losses[t] is the loss at x_t; before update t (t >= 1, t % every == 0) the
# scheduler is stepped with it, and lr[t] is the lr it leaves.
def plateau_losses(n):
    import numpy as np

    rng = np.random.default_rng(20261122)
    t = np.arange(n)
    # Falls, stalls on plateaus, falls again; noise of 1 %.
    base = 1.0 / (1.0 + 0.03 * t) + 0.3 * (t < 120) + 0.15 * (t < 220)
    return [round(float(v), 9) for v in base * (1.0 + 0.01 * rng.standard_normal(n))]


LOSSES = plateau_losses(N)


def run_plateau(name, schedule, every=1, **kw):
    opt = optimizer(schedule["lr"])
    sched = L.ReduceLROnPlateau(opt, **kw)
    lrs = []
    for t in range(len(LOSSES)):
        if t >= 1 and t % every == 0:
            sched.step(LOSSES[t])
        lrs.append(float(opt.param_groups[0]["lr"]))
        opt.zero_grad()
        opt.step()
    CASES.append({"name": name, "source": "torch ReduceLROnPlateau",
                  "schedule": dict(kind="plateau", **schedule), "lr": lrs, "momentum": None,
                  "losses": LOSSES})


run_plateau("plateau_defaults", {"lr": 0.1})
run_plateau("plateau_patience_cooldown_min_lr",
            {"lr": 0.1, "factor": 0.5, "patience": 3, "cooldown": 5, "threshold": 1e-2, "min_lr": 0.01},
            factor=0.5, patience=3, cooldown=5, threshold=1e-2, min_lr=0.01)
run_plateau("plateau_abs_every_4",
            {"lr": 0.2, "factor": 0.3, "patience": 2, "threshold": 5e-3, "threshold_mode": "abs", "every": 4},
            every=4, factor=0.3, patience=2, threshold=5e-3, threshold_mode="abs")
run_plateau("plateau_max_mode", {"lr": 0.1, "mode": "max", "patience": 4, "factor": 0.5},
            mode="max", patience=4, factor=0.5)
# A real valley run (tests/fixtures/schedules/plateau_run.toml): its own losses
# (plateau_run_losses.csv, from scripts/plateau_run_losses.py) replayed through
# torch; src/schedule/golden_tests.rs checks that the run gives these lrs.
def valley_run_losses():
    import csv

    path = os.path.join(os.path.dirname(OUT), "plateau_run_losses.csv")
    with open(path) as f:
        return [float(row["loss"]) for row in csv.DictReader(f)]


def replay_valley_run():
    global LOSSES
    saved, LOSSES = LOSSES, valley_run_losses()
    run_plateau("plateau_replay_of_a_valley_run",
                {"lr": 0.4, "factor": 0.5, "patience": 8, "threshold": 0.01, "cooldown": 3, "min_lr": 0.01,
                 "every": 2},
                every=2, factor=0.5, patience=8, threshold=0.01, cooldown=3, min_lr=0.01)
    LOSSES = saved


replay_valley_run()
# optax contrib.reduce_on_plateau (jax x64), called before every update t with
# t % every == 0, t = 0 included; lr[t] = lr * scale after the call.
def run_optax_plateau(name, schedule, every=1, **kw):
    import jax.numpy as jnp

    tx = optax.contrib.reduce_on_plateau(**kw)
    params = jnp.zeros(1)
    state = tx.init(params)
    lrs = []
    for t in range(len(LOSSES)):
        if t % every == 0:
            _, state = tx.update(jnp.zeros(1), state, params, value=LOSSES[t])
        lrs.append(float(schedule["lr"] * state.scale))
    CASES.append({"name": name, "source": "optax contrib.reduce_on_plateau",
                  "schedule": dict(kind="plateau", convention="optax", **schedule), "lr": lrs,
                  "momentum": None, "losses": LOSSES})


run_optax_plateau("optax_plateau_defaults", {"lr": 0.1})
run_optax_plateau("optax_plateau_atol_cooldown_min_lr",
                  {"lr": 0.1, "factor": 0.5, "patience": 3, "cooldown": 4, "threshold": 1e-3, "atol": 1e-3,
                   "min_lr": 0.01},
                  factor=0.5, patience=3, cooldown=4, rtol=1e-3, atol=1e-3, min_scale=0.01 / 0.1)
run_optax_plateau("optax_plateau_accumulation_every_2",
                  {"lr": 0.2, "factor": 0.3, "patience": 2, "threshold": 0.0, "atol": 0.02,
                   "accumulation_size": 5, "every": 2},
                  every=2, factor=0.3, patience=2, rtol=0.0, atol=0.02, accumulation_size=5)
run_plateau("plateau_eps_skips", {"lr": 3e-8, "patience": 1, "factor": 0.5, "eps": 1e-8},
            patience=1, factor=0.5, eps=1e-8)

VERSIONS = versions("torch", "jax", "optax", "transformers")
for case in CASES:
    case["versions"] = VERSIONS
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(CASES, f, indent=1)
    f.write("\n")
print(f"wrote {len(CASES)} cases to {os.path.normpath(OUT)}")
print("worked examples:", repr(0.1 * 0.9 ** (250 / 1000)), repr(0.1 * (1 - 250 / 1000) ** 2))
