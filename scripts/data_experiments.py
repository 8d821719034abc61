#!/usr/bin/env python3
"""Measurements of the data-landscape experiments (issue 15), from the
Parquet files of their results folders.

    python3 scripts/data_experiments.py eos          [results/edge_of_stability]
    python3 scripts/data_experiments.py scaling      [results/linear_scaling]
    python3 scripts/data_experiments.py step_vs_exp  [results/learned_step_vs_exp]

eos: for every run, the ratio sharpness / (2/lr) over the second half of the
run (median, 10th and 90th percentiles, fraction of sharpness rows within 10%
of 2/lr) and where the sharpness first came within 10% of 2/lr; verdict: the
runs that sit at the edge (median ratio within 10% of 1 and at least 90% of
the second-half rows within 10%).

scaling: the full-data loss after E = 1, 2, 4 epochs (trace row at step
E*n/b), median over seeds, for the linear-scaling diagonal lr = lr8*b/8, with
and without warm-up; and the best lr per batch size.

step_vs_exp: final loss of step against exponential decay, paired by seed:
wins and median ratio per landscape and momentum.

Needs polars (a venv made from scripts/requirements-golden.txt plus polars).
"""

import sys

import polars as pl


def load(folder):
    return pl.read_parquet(f"{folder}/runs.parquet"), pl.read_parquet(f"{folder}/trace.parquet")


def eos(folder):
    runs, trace = load(folder)
    rows = []
    for r in runs.sort("landscape", "schedule.lr", "seed").iter_rows(named=True):
        lr = r["schedule.lr"]
        t = (trace.filter(pl.col("run_id") == r["run_id"]).drop_nulls("sharpness").sort("step")
             .with_columns(ratio=pl.col("sharpness") * lr / 2))
        if r["diverged"] or t.height == 0:
            rows.append((r["landscape"], lr, r["seed"], "diverged at step %d" % r["steps_run"]))
            continue
        late = t.filter(pl.col("step") >= t["step"].max() / 2)["ratio"]
        within = t.filter((pl.col("ratio") - 1).abs() <= 0.1)
        first = within["step"].min() if within.height else None
        frac = ((late - 1).abs() <= 0.1).mean()
        # At the edge: still training (not converged to a minimum that is
        # merely stable, whose sharpness may sit just below 2/lr), with the
        # sharpness held within 10% of 2/lr.
        at_edge = abs(late.median() - 1) <= 0.1 and frac >= 0.9 and r["final_grad_norm"] > 1e-8
        rows.append((r["landscape"], lr, r["seed"],
                     "start %.3f, last half median %.3f [p10 %.3f, p90 %.3f], %3.0f%% within 10%%, first within 10%% at step %s, final loss %.3g%s"
                     % (t["ratio"][0], late.median(), late.quantile(0.1), late.quantile(0.9), 100 * frac,
                        first, r["final_loss"], "  <- at the edge" if at_edge else "")))
    print("sharpness / (2/lr):")
    for landscape, lr, seed, text in rows:
        print(f"  {landscape:22s} lr {lr:<6g} seed {seed}: {text}")


def scaling(folder):
    runs, trace = load(folder)
    n = 4096
    b_col = "optimizer.noise.batch_size"
    # The schedule's peak lr (the constant's lr, or the warm-up's target).
    runs = runs.with_columns(
        peak=pl.coalesce([c for c in ["schedule.lr", "schedule.then.lr"] if c in runs.columns]))
    joined = trace.join(runs.select("run_id", "schedule", b_col, "peak", "seed", "diverged"), on="run_id")
    print("full-data loss at equal epochs (median over seeds), lr = 0.0125*b/8 (linear scaling):")
    print("  b     lr      schedule   E=1         E=2         E=4")
    for b in sorted(int(v) for v in runs[b_col].unique().to_list()):
        lr = 0.0125 * b / 8
        for sched in ["constant", "warmup"]:
            vals = []
            for e in [1, 2, 4]:
                step = e * n // b
                sel = joined.filter((pl.col(b_col) == b) & (pl.col("schedule") == sched)
                                    & ((pl.col("peak") - lr).abs() < 1e-12) & (pl.col("step") == step))
                div = runs.filter((pl.col(b_col) == b) & (pl.col("schedule") == sched)
                                  & ((pl.col("peak") - lr).abs() < 1e-12))["diverged"].sum()
                vals.append("%-11s" % ("div %d" % div if sel.height == 0 else "%.4g" % sel["loss"].median()))
            print(f"  {b:<5d} {lr:<7g} {sched:10s} " + " ".join(vals))
    print("best lr per batch size at E = 2 epochs (median loss over seeds):")
    for sched in ["constant", "warmup"]:
        for b in sorted(int(v) for v in runs[b_col].unique().to_list()):
            step = 2 * n // b
            sel = (joined.filter((pl.col(b_col) == b) & (pl.col("schedule") == sched) & (pl.col("step") == step))
                   .group_by("peak").agg(pl.col("loss").median(), pl.len()).filter(pl.col("len") == runs["seed"].n_unique())
                   .sort("loss"))
            if sel.height:
                print(f"  {sched:10s} b {b:<4d} best lr {sel['peak'][0]:<7g} loss {sel['loss'][0]:.4g}")


def step_vs_exp(folder):
    runs, _ = load(folder)
    m = "optimizer.momentum"
    for (landscape, mom), g in sorted(runs.group_by("landscape", m), key=lambda kv: kv[0]):
        s = g.filter(pl.col("schedule") == "step").select("seed", step="final_loss", ds="diverged", gs="energy_gap")
        e = g.filter(pl.col("schedule") == "exponential").select("seed", exp="final_loss", de="diverged", ge="energy_gap")
        p = s.join(e, on="seed")
        wins = (p["step"] < p["exp"]).sum()
        ratio = (p["step"] / p["exp"]).median()
        print(f"  {landscape:10s} momentum {mom}: step lower in {wins} of {p.height} seeds; "
              f"median final loss step {p['step'].median():.5g}, exponential {p['exp'].median():.5g}, "
              f"median ratio {ratio:.4f}; diverged {p['ds'].sum()} / {p['de'].sum()}"
              + ("" if p["gs"].null_count() else
                 f"; median energy gap step {p['gs'].median():.3g}, exponential {p['ge'].median():.3g}"))


if __name__ == "__main__":
    what = sys.argv[1]
    default = {"eos": "results/edge_of_stability", "scaling": "results/linear_scaling",
               "step_vs_exp": "results/learned_step_vs_exp"}[what]
    folder = sys.argv[2] if len(sys.argv) > 2 else default
    {"eos": eos, "scaling": scaling, "step_vs_exp": step_vs_exp}[what](folder)
