#!/usr/bin/env python3
"""Golden schedule-free trajectories from the `schedulefree` package (torch, float64).

Writes tests/fixtures/optimizers/schedulefree.json, replayed by
src/optimizer/schedulefree_golden.rs. Each case runs the package's reference
implementation (SGDScheduleFreeReference or AdamWScheduleFreeReference) on
the quadratic f = x'Hx/2, H = diag(h) (gradient g_i = h_i * y_i, taken at the
parameters y as in train mode), setting param_groups[0]["lr"] to lr[t] before
step t, and records after every step:
  y  the parameters (train mode),
  x  the point optimizer.eval() gives (the weighted average),
  z  the gradient-step sequence,
  loss  f(x).

Run inside the golden environment (docs/goldens.md):
    python3 scripts/golden_schedulefree.py
"""
import contextlib
import importlib.metadata
import io
import math
import os

import schedulefree
import torch

from golden_env import dump, versions

torch.set_default_dtype(torch.float64)

STEPS = 80
H = [0.5, 2.0, 8.0]
X0 = [1.0, -2.0, 0.5]


def cosine_lrs(peak, n):
    return [peak * (1 + math.cos(math.pi * t / n)) / 2 for t in range(n)]


def run(name, kind, fields, make, lrs):
    p = torch.nn.Parameter(torch.tensor(X0))
    opt = make([p])
    h = torch.tensor(H)
    ys, xs, zs, losses = [], [], [], []
    # The AdamW reference prints at every train()/eval() switch.
    quiet = contextlib.redirect_stdout(io.StringIO())
    for t in range(STEPS):
        with quiet:
            opt.train()
        opt.param_groups[0]["lr"] = lrs[t]
        with torch.no_grad():
            p.grad = h * p
        opt.step()
        state = opt.state[p]
        ys.append([float(v) for v in p.detach()])
        zs.append([float(v) for v in state["z"]])
        with quiet:
            opt.eval()
        x = p.detach().clone()
        xs.append([float(v) for v in x])
        losses.append(float(0.5 * torch.sum(h * x * x)))
    return {
        "name": name,
        "optimizer": dict(kind=kind, **fields),
        "h": H,
        "x0": X0,
        "lr": lrs,
        "y": ys,
        "x": xs,
        "z": zs,
        "loss": losses,
    }


SGD = schedulefree.SGDScheduleFreeReference
ADAMW = schedulefree.AdamWScheduleFreeReference
CASES = [
    run("sgd_defaults_constant_lr", "sgd_schedulefree", {},
        lambda ps: SGD(ps, lr=0.1), [0.1] * STEPS),
    run("sgd_warmup_r_wd_cosine_lr", "sgd_schedulefree",
        {"momentum": 0.7, "warmup_steps": 10, "r": 1.0, "weight_lr_power": 1.0, "weight_decay": 0.01},
        lambda ps: SGD(ps, lr=0.1, momentum=0.7, warmup_steps=10, r=1.0, weight_lr_power=1.0, weight_decay=0.01),
        cosine_lrs(0.2, STEPS)),
    run("adamw_defaults_constant_lr", "adamw_schedulefree", {},
        lambda ps: ADAMW(ps, lr=0.05), [0.05] * STEPS),
    run("adamw_warmup_r_wd_cosine_lr", "adamw_schedulefree",
        {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "warmup_steps": 20, "r": 0.5, "weight_lr_power": 3.0,
         "weight_decay": 0.1},
        lambda ps: ADAMW(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-6, warmup_steps=20, r=0.5, weight_lr_power=3.0,
                         weight_decay=0.1),
        cosine_lrs(0.1, STEPS)),
]

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "optimizers",
                   "schedulefree.json")
VERSIONS = versions("torch")
VERSIONS["schedulefree"] = importlib.metadata.version("schedulefree")  # it has no __version__
dump({"versions": VERSIONS, "steps": STEPS, "cases": CASES}, OUT)
print(f"wrote {len(CASES)} cases to {os.path.normpath(OUT)}")
for c in CASES:
    print(f"{c['name']:32s} loss at x: {c['loss'][0]:.6g} -> {c['loss'][-1]:.6g}")
