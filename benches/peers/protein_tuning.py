#!/usr/bin/env python3
"""Tuning round 7 of the protein race (issue 12): the temperature and each
family's peak lr, on tuning seeds that the race does not use.

For each race file (experiments/protein/{fib13_2d,fib21_2d,fib13_3d}.toml) the
script writes one tuning sweep: the race's landscape and its seven schedule
families, each family's peak lr swept over LRS, crossed with the race's two
optimizers (SGD, Nesterov momentum 0.95, clip_grad_norm 10): without noise
(the race's "sgd" arm), and with Langevin noise (the "sgld" arm) at each
temperature of TEMPERATURES,
  - "ramp T0": linear from T0 to 0 at step 8,000 (then 0), T0 in RAMPS;
  - "hold T0": T0 up to step HOLD_END (9,700), then 0 (a 300-step quench),
    T0 in HOLDS;
over 64 seeds drawn from base seed 1000 (the race uses base seed 0). It runs
`valley sweep`, reads runs.parquet, and applies the race's selection rule:
for each temperature and family, the peak lr with the lowest median
best_loss among the admissible lrs, those at which neither the 64 noisy runs
nor the family's 64 noiseless runs diverged or ended above E = 10 (the race
runs both arms at the family's lr).
A second stage checks each temperature on more seeds: its best family, at its
chosen lr, runs again on 256 seeds (base seed 2000), with and without noise
(512 runs), and the temperature kept for the file is the one with the lowest
noisy median there among those with no run in the wall (64 seeds cannot tell
medians apart that differ by less than about 0.1, nor see a wall rate of
1 %).

Rounds: 5 (heavy-ball momentum; ramp 0.01 and holds 0.006-0.01), 6 (Nesterov,
the same temperatures, lrs admissible only without a wall in any of the
family's 320 runs) and 7 (this script: hotter ramps and holds; the wall rule
per temperature) are summarized in the race files' headers.

Usage (inside a venv made from scripts/requirements-golden.txt, after
`cargo build --release`):

    python3 benches/peers/protein_tuning.py [--valley target/release/valley]
        [--only fib13_2d]   # -> benches/peers/protein_tuning.json
    python3 benches/peers/protein_tuning.py --apply
        # writes the kept temperature and the chosen lrs of protein_tuning.json
        # into the race files' tables (their headers are prose, kept by hand)

Measured on a 2-core machine: about 1 min (2-D fib13), 2.5 min (2-D fib21),
1.5 min (3-D fib13).
"""

import argparse
import json
import os
import re
import subprocess
import tempfile

import polars as pl

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FILES = ["fib13_2d", "fib21_2d", "fib13_3d"]
LRS = [0.001, 0.002, 0.003, 0.005]
RAMPS = [0.01, 0.02, 0.03]
RAMP_END = 8000
HOLDS = [0.01, 0.015, 0.02]
HOLD_END = 9700
SEEDS = 64
BASE_SEED = 1000
CONFIRM_SEEDS = 256
CONFIRM_BASE_SEED = 2000
STEPS = 10000


def ramp(t0):
    return ('{ kind = "linear", lr = %g, start_factor = 1.0, end_factor = 0.0, '
            'total_steps = %d }' % (t0, RAMP_END))


def hold(t0):
    return ('{ kind = "sequential", milestones = [%d], schedules = '
            '[{ kind = "constant", lr = %g }, { kind = "constant", lr = 0.0 }] }'
            % (HOLD_END, t0))


def optimizer(name, temperature):
    """The race's optimizer; Langevin noise at `temperature` unless None."""
    noise = f'noise = {{ kind = "langevin", temperature = {temperature} }}\n' if temperature else ""
    return (f'[[optimizer]]\nname = "{name}"\nkind = "sgd"\nmomentum = 0.95\n'
            f'nesterov = true\nclip_grad_norm = 10.0\n{noise}\n')


NOISELESS = "sgd"


TEMPERATURES = {**{f"ramp{t0:g}": ramp(t0) for t0 in RAMPS},
                **{f"hold{t0:g}": hold(t0) for t0 in HOLDS}}


def tables_of(race_text, name, seeds, base_seed):
    """The race file's header (with the given seeds, no trace), landscape and
    schedule tables, without its optimizers and claims."""
    body = race_text[race_text.index("name = "):]
    body = body.split("[[claim]]")[0]
    body = re.sub(r'^name = ".*"', f'name = "{name}"', body, count=1, flags=re.M)
    body = re.sub(r"^seeds = .*", f"seeds = {seeds}\nseed = {base_seed}", body, flags=re.M)
    body = re.sub(r"^trace_every = .*", f"trace_every = {STEPS}", body, flags=re.M)
    tables = re.split(r"(?=^\[\[)", body, flags=re.M)
    head = [t for t in tables if not t.startswith("[[") or t.startswith("[[landscape]]")]
    schedules = {re.search(r'^name = "(.*)"', t, flags=re.M).group(1): t
                 for t in tables if t.startswith("[[schedule]]")}
    return "".join(head), schedules


def with_peak_lr(table, value):
    return re.sub(r"^(lr|max_lr) = .*", rf"\1 = {value}", table, flags=re.M)


def tuning_sweep(race_text, name):
    """Stage 1: Langevin optimizers of every temperature, each family's peak
    lr swept, on the tuning seeds."""
    head, schedules = tables_of(race_text, name, SEEDS, BASE_SEED)
    sweep = "{ sweep = [%s] }" % ", ".join(repr(x) for x in LRS)
    optimizers = [optimizer(n, t) for n, t in TEMPERATURES.items()] + [optimizer(NOISELESS, None)]
    return head + "".join(optimizers) + "".join(with_peak_lr(t, sweep) for t in schedules.values())


def confirm_sweep(race_text, name, temp, family, lr):
    """Stage 2: one temperature with its best family at its chosen lr, with
    and without noise."""
    head, schedules = tables_of(race_text, name, CONFIRM_SEEDS, CONFIRM_BASE_SEED)
    return (head + optimizer(temp, TEMPERATURES[temp]) + optimizer(NOISELESS, None)
            + with_peak_lr(schedules[family], f"{lr:g}"))


def run(valley, text):
    with tempfile.TemporaryDirectory() as tmp:
        sweep = os.path.join(tmp, "sweep.toml")
        with open(sweep, "w") as f:
            f.write(text)
        out = os.path.join(tmp, "out")
        subprocess.run([valley, "sweep", sweep, "--out", out, "-q"], check=True)
        return pl.read_parquet(os.path.join(out, "runs.parquet"))


def in_wall():
    return (pl.col("final_loss") > 10) | pl.col("diverged")


def select(runs):
    """Per temperature and family: the chosen peak lr and its best/median,
    among the lrs at which neither these noisy runs nor the family's
    noiseless ones ended in the wall."""
    lr = pl.coalesce([c for c in ("schedule.lr", "schedule.max_lr") if c in runs.columns])
    runs = runs.with_columns(lr.alias("peak_lr"), in_wall().alias("in_wall"))
    g = runs.group_by("optimizer", "schedule", "peak_lr").agg(
        pl.col("best_loss").median().alias("median"),
        pl.col("best_loss").min().alias("best"),
        pl.col("in_wall").sum().alias("wall"),
    )
    noiseless = g.filter(pl.col("optimizer") == NOISELESS).select(
        "schedule", "peak_lr", pl.col("wall").alias("noiseless_wall"))
    g = g.join(noiseless, on=["schedule", "peak_lr"])
    ok = g.filter((pl.col("wall") == 0) & (pl.col("noiseless_wall") == 0)
                  & (pl.col("optimizer") != NOISELESS)).sort("median")
    chosen = ok.group_by("optimizer", "schedule", maintain_order=True).first()
    return g, chosen.sort("optimizer", "median")


def apply(report):
    """The race files with each file's kept temperature in the Langevin
    optimizer's noise and each family's chosen peak lr."""
    for stem, r in report.items():
        path = os.path.join(ROOT, "experiments/protein", stem + ".toml")
        with open(path) as f:
            text = f.read()
        start = text.index("\nname = ") + 1
        header, body = text[:start], text[start:]
        body, n = re.subn(r'^noise = \{ kind = "langevin", temperature = .*\}$',
                          f'noise = {{ kind = "langevin", temperature = {TEMPERATURES[r["kept"]]} }}',
                          body, flags=re.M)
        assert n == 1, f"{path}: one Langevin noise line expected, found {n}"
        tables = re.split(r"(?=^\[\[)", body, flags=re.M)
        for i, t in enumerate(tables):
            if t.startswith("[[schedule]]"):
                family = re.search(r'^name = "(.*)"', t, flags=re.M).group(1)
                tables[i] = with_peak_lr(t, f"{r['chosen'][r['kept']][family]['peak_lr']:g}")
        with open(path, "w") as f:
            f.write(header + "".join(tables))
        print(f"{path}: {r['kept']}, lrs of its families written")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--valley", default=os.path.join(ROOT, "target/release/valley"))
    ap.add_argument("--only", choices=FILES)
    ap.add_argument("--out", default=os.path.join(HERE, "protein_tuning.json"))
    ap.add_argument("--apply", action="store_true",
                    help="write protein_tuning.json's choices into the race files and exit")
    args = ap.parse_args()
    if args.apply:
        with open(args.out) as f:
            apply(json.load(f)["files"])
        return
    old = {}
    if os.path.exists(args.out):
        with open(args.out) as f:
            old = json.load(f)
    report = old.get("files", {})
    for stem in [args.only] if args.only else FILES:
        with open(os.path.join(ROOT, "experiments/protein", stem + ".toml")) as f:
            race = f.read()
        every, chosen = select(run(args.valley, tuning_sweep(race, f"tuning_{stem}")))
        per_temp = {}
        for (opt,), rows in chosen.group_by("optimizer", maintain_order=True):
            per_temp[opt] = {
                r["schedule"]: {"peak_lr": r["peak_lr"], "median": r["median"], "best": r["best"]}
                for r in rows.iter_rows(named=True)
            }
        picks = {}
        for t, v in per_temp.items():
            family = min(v, key=lambda s: v[s]["median"])
            picks[t] = (family, v[family]["peak_lr"])
        confirm = pl.concat([
            run(args.valley, confirm_sweep(race, f"confirm_{stem}", t, family, lr))
            .with_columns(pl.lit(t).alias("temperature"))
            for t, (family, lr) in picks.items()
        ], how="diagonal_relaxed")
        noisy = confirm.filter(pl.col("optimizer") != NOISELESS).group_by("optimizer").agg(
            pl.col("best_loss").median().alias("median"),
            pl.col("best_loss").min().alias("best"),
            in_wall().sum().alias("wall"),
            pl.col("best_loss").sort().round(4).alias("sorted_best_loss"),
        )
        stage2 = {}
        for r in noisy.iter_rows(named=True):
            t = r["optimizer"]
            family, lr = picks[t]
            quiet = confirm.filter((pl.col("optimizer") == NOISELESS) & (pl.col("schedule") == family)
                                   & (pl.col("temperature") == t))
            stage2[t] = {"family": family, "peak_lr": lr, "median": r["median"], "best": r["best"],
                         "wall": r["wall"], "noiseless_wall": int(quiet.select(in_wall().sum()).item()),
                         "sorted_best_loss": r["sorted_best_loss"]}
        clean = [t for t in stage2 if stage2[t]["wall"] + stage2[t]["noiseless_wall"] == 0]
        kept = min(clean or stage2, key=lambda t: stage2[t]["median"])
        report[stem] = {
            "kept": kept,
            "chosen": per_temp,
            "confirm": stage2,
            "excluded_wall_runs": int(every["wall"].sum()),
            "wall_runs_by_optimizer_family_and_lr": {
                f"{o} {s} {lr:g}": w
                for o, s, lr, w in every.filter(pl.col("wall") > 0)
                .sort("optimizer", "schedule", "peak_lr")
                .select("optimizer", "schedule", "peak_lr", "wall").iter_rows()
            },
        }
        print(f"{stem}: kept {kept}")
        for t, v in per_temp.items():
            fams = ", ".join(f"{s} {r['peak_lr']:g} ({r['median']:.4f})" for s, r in v.items())
            c = stage2[t]
            print(f"  {t:9s} {CONFIRM_SEEDS} seeds: {c['family']} {c['peak_lr']:g} median "
                  f"{c['median']:.4f} best {c['best']:.4f} wall {c['wall']} + {c['noiseless_wall']} "
                  f"noiseless; {SEEDS} seeds: {fams}")
    with open(args.out, "w") as f:
        json.dump({"seeds": SEEDS, "base_seed": BASE_SEED, "confirm_seeds": CONFIRM_SEEDS,
                   "confirm_base_seed": CONFIRM_BASE_SEED, "lrs": LRS, "ramps": RAMPS,
                   "ramp_end": RAMP_END, "holds": HOLDS, "hold_end": HOLD_END, "files": report}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
