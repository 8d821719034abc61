#!/usr/bin/env python3
"""Best AB energy against the gradient budget on 2-D fib13 (issue 12): valley's
best schedule of the race (experiments/protein/fib13_2d.toml: constant lr with
Langevin noise held and quenched for the last 300 steps, the best median at
10,000 evaluations) and two other forms of the tuning rounds, at several
budgets, against scipy's basin hopping at the same budgets
(benches/peers/protein_peers_budget.json, written by
`protein_peers.py --budget-curve`):
  - "nesterov": the race since tuning round 7 (Nesterov momentum 0.95, lr
    3e-3, T = 0.01 held);
  - "heavy_ball": the race of round 5 (heavy-ball momentum 0.95, lr 2e-3,
    T = 0.008 held), which reaches the published ground state: Nesterov
    cannot settle in that stiff fold at these lrs (largest Hessian eigenvalue
    about 1.2e3, lr*lambda = 3.6 above Nesterov's stability limit
    2(1+mu)/(1+2mu) = 1.34; heavy ball's is 2(1+mu) = 3.9, and 2.4 is below);
  - "nesterov_099_cosine": round 8's momentum 0.99 with cosine lr 3e-3 (to
    1e-6 at the budget, below the stability limit at the end) and T falling
    linearly from 0.005 to 0 at 80 % of the budget; the tuning excluded it
    from the race because 3 of its 256 stage-2 runs ended in the wall.

For each budget B (1e3, 3e3, 1e4, 3e4, 8e4) and form the script writes a
sweep file with steps = B, the form's optimizer, schedule and temperature
scaled to B (held up to step B - 300, or the ramp ending at 0.8 B; cosine
over B), runs `valley sweep` on it (32 seeds, one gradient evaluation per
step), and reads best_loss from runs.parquet (diverge_factor 1e100 as in the
race files, so a transient clash does not end a run; final energies above 10
are counted). The figure shows the best and the median over seeds for every
method and the published ground state (-3.2941).

Usage (inside a venv made from scripts/requirements-golden.txt, after
`cargo build --release`):

    python3 benches/peers/protein_budget.py [--valley target/release/valley]
        # -> benches/peers/protein_budget.json, docs/figures/protein_budget.png

Measured on a 2-core machine: about 8 s (three forms, five budgets, 32 seeds).
"""

import argparse
import json
import os
import platform
import subprocess
import tempfile

import matplotlib
import numpy as np
import polars as pl

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUDGETS = [1000, 3000, 10000, 30000, 80000]
GROUND = -3.2940776639128924
QUENCH = 300  # the race's final steps at T = 0
# The forms: optimizer, schedule and temperature. "hold" keeps T up to
# QUENCH steps before the budget's end, then 0; "ramp" falls linearly from T
# to 0 at 80 % of the budget. A cosine lr decays to 1e-6 over the budget.
FORMS = {
    "nesterov": dict(momentum=0.95, nesterov=True, schedule="constant", lr=0.003,
                     temperature=("hold", 0.01),
                     label="Nesterov 0.95, constant lr 3e-3, T = 0.01 held (the race)"),
    "heavy_ball": dict(momentum=0.95, nesterov=False, schedule="constant", lr=0.002,
                       temperature=("hold", 0.008),
                       label="heavy ball 0.95, constant lr 2e-3, T = 0.008 held (round 5)"),
    "nesterov_099_cosine": dict(momentum=0.99, nesterov=True, schedule="cosine", lr=0.003,
                                temperature=("ramp", 0.005),
                                label="Nesterov 0.99, cosine lr 3e-3, T ramp from 0.005 (round 8)"),
}


def temperature(steps, shape, t0):
    if shape == "hold":
        return ('{ kind = "sequential", milestones = [%d], schedules = [{ kind = "constant", '
                'lr = %g }, { kind = "constant", lr = 0.0 }] }' % (steps - QUENCH, t0))
    return ('{ kind = "linear", lr = %g, start_factor = 1.0, end_factor = 0.0, total_steps = %d }'
            % (t0, steps * 8 // 10))


def schedule(steps, kind, lr):
    if kind == "constant":
        return f'name = "constant"\nkind = "constant"\nlr = {lr}\n'
    return f'name = "cosine"\nkind = "cosine"\nlr = {lr}\ntotal_steps = {steps}\neta_min = 1e-6\n'


def sweep_file(steps, form):
    f = FORMS[form]
    return f"""name = "budget_{form}_{steps}"
steps = {steps}
seeds = 32
trace_every = {steps}
hessian = false
diverge_factor = 1e100

[[landscape]]
name = "fib13_2d"
kind = "protein_ab"
sequence = "fibonacci:13"
dims = 2
init = {{ kind = "self_avoiding", low = -1.5, high = 1.5, min_distance = 0.9 }}

[[optimizer]]
name = "sgld"
kind = "sgd"
momentum = {f["momentum"]}
nesterov = {str(f["nesterov"]).lower()}
clip_grad_norm = 10.0
noise = {{ kind = "langevin", temperature = {temperature(steps, *f["temperature"])} }}

[[schedule]]
{schedule(steps, f["schedule"], f["lr"])}"""


def run_valley(valley, steps, form, tmp):
    path = os.path.join(tmp, f"budget_{form}_{steps}.toml")
    with open(path, "w") as f:
        f.write(sweep_file(steps, form))
    out = os.path.join(tmp, f"budget_{form}_{steps}")
    subprocess.run([valley, "sweep", path, "--out", out, "--quiet"], check=True)
    runs = pl.read_parquet(os.path.join(out, "runs.parquet")).sort("seed")
    return {
        "best_loss": runs["best_loss"].to_list(),
        "diverged": int(runs["diverged"].sum()),
        "final_above_10": int((runs["final_loss"] > 10).sum()),
    }


def summary(form, per_budget):
    f = FORMS[form]
    shape, t0 = f["temperature"]
    held = (f"held, then 0 for the last {QUENCH} steps" if shape == "hold"
            else "falling linearly to 0 at 80 % of the budget")
    return {
        "label": f["label"],
        "method": f"sgd momentum {f['momentum']} (nesterov {f['nesterov']}), clip_grad_norm 10, "
        f"{f['schedule']} lr {f['lr']}, langevin T = {t0} {held}",
        "runs": 32,
        "budgets": BUDGETS,
        "best": [min(per_budget[b]["best_loss"]) for b in BUDGETS],
        "median": [float(np.median(per_budget[b]["best_loss"])) for b in BUDGETS],
        "within_0.01_of_ground_state": [
            int(sum(e <= GROUND + 0.01 for e in per_budget[b]["best_loss"])) for b in BUDGETS
        ],
        "diverged": [per_budget[b]["diverged"] for b in BUDGETS],
        "final_above_10": [per_budget[b]["final_above_10"] for b in BUDGETS],
        "per_seed": [per_budget[b]["best_loss"] for b in BUDGETS],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--valley", default=os.path.join(ROOT, "target", "release", "valley"))
    args = ap.parse_args()
    with open(os.path.join(HERE, "protein_peers_budget.json")) as f:
        peers = json.load(f)
    valley = {}
    with tempfile.TemporaryDirectory() as tmp:
        for form in FORMS:
            valley[form] = summary(form, {b: run_valley(args.valley, b, form, tmp) for b in BUDGETS})
    out = {
        "script": "benches/peers/protein_budget.py",
        "landscape": "2d_fib13",
        "ground_state": GROUND,
        "valley": valley,
        "basin_hopping": {
            "source": "benches/peers/protein_peers_budget.json",
            "runs": peers["runs"],
            "budgets": peers["budgets"],
            "best": peers["best"],
            "median": peers["median"],
        },
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "polars": pl.__version__,
            "matplotlib": matplotlib.__version__,
        },
    }
    with open(os.path.join(HERE, "protein_budget.json"), "w") as f:
        json.dump(out, f, indent=1)

    fig, ax = plt.subplots(figsize=(7.5, 7.0), dpi=110)
    for (form, v), color, marker in zip(valley.items(), ("tab:blue", "tab:green", "tab:purple"),
                                                ("o", "^", "D")):
        ax.plot(v["budgets"], v["best"], marker + "-", color=color,
                label=f"valley {v['label']}: best (32 runs)")
        ax.plot(v["budgets"], v["median"], marker + "--", color=color, alpha=0.6,
                label=f"valley {v['label']}: median")
    p = out["basin_hopping"]
    ax.plot(p["budgets"], p["best"], "s-", color="tab:orange", label=f"basin hopping best ({p['runs']} runs)")
    ax.plot(p["budgets"], p["median"], "s--", color="tab:orange", alpha=0.6, label="basin hopping median")
    ax.axhline(GROUND, color="black", lw=0.8, ls=":", label="published ground state −3.2941")
    ax.set_xscale("log")
    ax.set_xlabel("gradient evaluations per run")
    ax.set_ylabel("lowest energy found")
    ax.set_title("AB protein 2-D fib13: best energy against budget\n"
                 "valley: clipped SGD with Langevin noise, T annealed to 0;\n"
                 "scipy basin hopping (pivot moves, T = 0.1)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.join(ROOT, "docs", "figures"), exist_ok=True)
    fig.savefig(os.path.join(ROOT, "docs", "figures", "protein_budget.png"))
    for form, v in valley.items():
        print(form, json.dumps({k: v[k] for k in ("best", "median", "within_0.01_of_ground_state",
                                                  "final_above_10")}))


if __name__ == "__main__":
    main()
