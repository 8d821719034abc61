#!/usr/bin/env python3
"""Golden optimizer trajectories from torch.optim (float64, single-tensor path).

Writes tests/fixtures/optimizers/golden.json, replayed by
src/optimizer/golden.rs. For every (landscape, schedule, optimizer) case we run
60 steps from a fixed x0 on a noiseless landscape and record, per step, the
learning rate and momentum/beta1 read from param_groups just before
optimizer.step(), and x after the step.

Landscapes (gradients computed with Python's math module in the same order of
operations as src/landscape, so both sides see bit-identical gradients at
bit-identical points):
  quadratic  f = x'Hx/2, H = diag(0.1, 0.5, 1, 2, 5)    g_i = h_i * x_i
  rastrigin  f = 10 d + sum(x^2 - 10 cos(2 pi x)), d = 3 g_i = 2x + 2 pi A sin(2 pi x)
Schedules:
  step      StepLR(lr=0.05, step_size=20, gamma=0.5)
  onecycle  OneCycleLR(max_lr=0.05, total_steps=60), default momentum cycling
            (0.95 -> 0.85 -> 0.95, written into momentum or betas[0])

The classic SGD form (v = mu v - lr g; x += v) has no torch counterpart; it is
a plain numpy loop fed with the same lr/momentum sequences.

Each case also records `sensitivity`: per step, the largest |x - x'| where x'
is the torch trajectory started from x0 moved by one ulp in every coordinate.
It measures how much rounding differences are amplified (chaotic cases).

Each step also records the optimizer state after it, mapped into valley's
OptState layout ({"step", "slots", "started"}; slot order as in
src/optimizer/{sgd,adam,rmsprop}.rs), so a test can replay every single step
from torch's own (x, state) even where the free-running trajectory is chaotic.

Run inside the golden environment (docs/goldens.md):
    python3 scripts/golden_optimizers.py
"""
import json
import math
import os

import numpy as np
import torch

from golden_env import versions

torch.set_default_dtype(torch.float64)

STEPS = 60
A = 10.0
QUAD_EIG = [0.1, 0.5, 1.0, 2.0, 5.0]
LANDSCAPES = {
    "quadratic": {
        "spec": {"kind": "quadratic", "dim": 5, "eigenvalues": QUAD_EIG},
        "x0": [1.0, -1.5, 0.8, -0.6, 0.4],
    },
    "rastrigin": {
        "spec": {"kind": "rastrigin", "dim": 3, "amplitude": A},
        "x0": [0.3, -0.2, 0.45],
    },
}


def gradient(name, x):
    if name == "quadratic":
        return [h * v for h, v in zip(QUAD_EIG, x)]
    out = []
    for v in x:
        s = math.sin(2.0 * math.pi * v)
        out.append(2.0 * v + 2.0 * math.pi * A * s)
    return out


# (case name, torch constructor, Rust OptimizerKind as JSON)
OPTIMIZERS = [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.05, foreach=False), {"kind": "sgd"}),
    (
        "sgd_momentum",
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, foreach=False),
        {"kind": "sgd", "momentum": 0.9},
    ),
    (
        "sgd_nesterov",
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, foreach=False),
        {"kind": "sgd", "momentum": 0.9, "nesterov": True},
    ),
    (
        "sgd_weight_decay",
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01, foreach=False),
        {"kind": "sgd", "momentum": 0.9, "weight_decay": 0.01},
    ),
    (
        "sgd_dampening",
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.5, foreach=False),
        {"kind": "sgd", "momentum": 0.9, "dampening": 0.5},
    ),
    ("adam", lambda p: torch.optim.Adam(p, lr=0.05, foreach=False), {"kind": "adam"}),
    (
        "adam_l2",
        lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.01, foreach=False),
        {"kind": "adam", "weight_decay": 0.01},
    ),
    (
        "adamw",
        lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.01, foreach=False),
        {"kind": "adamw", "weight_decay": 0.01},
    ),
    (
        "adam_amsgrad",
        lambda p: torch.optim.Adam(p, lr=0.05, amsgrad=True, foreach=False),
        {"kind": "adam", "amsgrad": True},
    ),
    (
        "rmsprop_momentum",
        lambda p: torch.optim.RMSprop(p, lr=0.05, momentum=0.9, foreach=False),
        {"kind": "rmsprop", "momentum": 0.9},
    ),
    (
        "rmsprop_centered",
        lambda p: torch.optim.RMSprop(p, lr=0.05, centered=True, foreach=False),
        {"kind": "rmsprop", "centered": True},
    ),
]


def make_schedule(kind, opt):
    if kind == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=20, gamma=0.5)
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=STEPS)


def group_momentum(group):
    if "betas" in group:
        return group["betas"][0]
    return group["momentum"]


def export_state(opt, p, dim):
    """torch's per-parameter state in valley's OptState layout."""
    st = opt.state[p]
    zeros = [0.0] * dim

    def slot(key):
        v = st.get(key)
        return (v.tolist(), True) if v is not None else (zeros, False)

    if isinstance(opt, torch.optim.SGD):
        b, started = slot("momentum_buffer")
        return {"step": None, "slots": [b], "started": [started]}
    keys = (
        ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        if isinstance(opt, torch.optim.Adam)  # AdamW is a subclass
        else ["square_avg", "grad_avg", "momentum_buffer"]
    )
    slots, started = zip(*(slot(k) for k in keys))
    return {"step": int(st["step"].item()), "slots": list(slots), "started": list(started)}


def run_torch(land, x0, make_opt, sched_kind):
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = make_opt([p])
    sched = make_schedule(sched_kind, opt)
    lrs, moms, xs, states = [], [], [], []
    for t in range(STEPS):
        g = gradient(land, p.detach().tolist())
        p.grad = torch.tensor(g, dtype=torch.float64)
        group = opt.param_groups[0]
        lrs.append(float(group["lr"]))
        moms.append(float(group_momentum(group)))
        opt.step()
        xs.append(p.detach().tolist())
        states.append(export_state(opt, p, len(x0)))
        if t < STEPS - 1:  # OneCycleLR refuses a step past total_steps
            sched.step()
    return lrs, moms, xs, states


def run_classic(land, x0, lrs, moms):
    x = np.array(x0, dtype=np.float64)
    v = np.zeros_like(x)
    xs, states = [], []
    for lr, mu in zip(lrs, moms):
        g = np.array(gradient(land, x.tolist()))
        v = mu * v - lr * g
        x = x + v
        xs.append(x.tolist())
        states.append({"step": None, "slots": [v.tolist()], "started": [True]})
    return xs, states


def ulp_shift(x0):
    return [float(np.nextafter(v, np.inf)) for v in x0]


def spread(xs, ys):
    return [max(abs(a - b) for a, b in zip(u, w)) for u, w in zip(xs, ys)]


def main():
    cases = []
    for land, info in LANDSCAPES.items():
        x0 = info["x0"]
        for sched in ["step", "onecycle"]:
            for name, make, spec in OPTIMIZERS:
                lrs, moms, xs, states = run_torch(land, x0, make, sched)
                xs2 = run_torch(land, ulp_shift(x0), make, sched)[2]
                cases.append(
                    {
                        "name": f"{land}/{sched}/{name}",
                        "landscape": info["spec"],
                        "x0": x0,
                        "optimizer": spec,
                        "cycles_momentum": sched == "onecycle",
                        "lr": lrs,
                        "momentum": moms,
                        "x": xs,
                        "state": states,
                        "sensitivity": spread(xs, xs2),
                    }
                )
            # Classic momentum: momentum 0.9 under StepLR, the cycled momentum
            # under OneCycleLR (same sequences as torch's SGD case).
            lrs, moms, _, _ = run_torch(land, x0, OPTIMIZERS[1][1], sched)
            xs, states = run_classic(land, x0, lrs, moms)
            xs2 = run_classic(land, ulp_shift(x0), lrs, moms)[0]
            cases.append(
                {
                    "name": f"{land}/{sched}/sgd_classic",
                    "landscape": info["spec"],
                    "x0": x0,
                    "optimizer": {"kind": "sgd", "momentum": 0.9, "momentum_form": "classic"},
                    "cycles_momentum": sched == "onecycle",
                    "lr": lrs,
                    "momentum": moms,
                    "x": xs,
                    "state": states,
                    "sensitivity": spread(xs, xs2),
                }
            )
    out = {
        "generator": "scripts/golden_optimizers.py",
        "versions": versions("torch", "numpy"),
        "steps": STEPS,
        "cases": cases,
    }
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "tests", "fixtures", "optimizers", "golden.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # json.dump writes floats with repr(), i.e. 17 significant digits.
    with open(path, "w") as f:
        json.dump(out, f)
    for c in cases:
        print(f"{c['name']:40s} max sensitivity {max(c['sensitivity']):.2e}")


if __name__ == "__main__":
    main()
