#!/usr/bin/env python3
"""The losses of a real valley run under `plateau`, for torch to replay.

Runs `valley sweep tests/fixtures/schedules/plateau_run.toml` (cargo, release)
into a temporary folder and writes tests/fixtures/schedules/plateau_run_losses.csv:
`step,loss,lr`, one row per update t, the trace's loss at x_t and the lr valley
gave update t. scripts/golden_schedules.py feeds these losses to torch's
ReduceLROnPlateau and records the lrs torch gives (the case
`plateau_replay_of_a_valley_run`); src/schedule/golden_tests.rs runs the same
file and checks both its losses (against this CSV) and its lrs (against
torch's). This file is valley's own output, not a golden value: rerun it when
the run itself changes (landscape, noise, optimizer).

    python3 scripts/plateau_run_losses.py
"""
import os
import subprocess
import tempfile

import polars as pl

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SWEEP = os.path.join(ROOT, "tests", "fixtures", "schedules", "plateau_run.toml")
OUT = os.path.join(ROOT, "tests", "fixtures", "schedules", "plateau_run_losses.csv")

with tempfile.TemporaryDirectory() as tmp:
    subprocess.run(["cargo", "run", "--release", "--quiet", "--", "sweep", SWEEP, "--out", tmp],
                   cwd=ROOT, check=True)
    trace = pl.read_parquet(os.path.join(tmp, "trace.parquet")).sort("step")
with open(OUT, "w") as f:
    f.write("step,loss,lr\n")
    for step, loss, lr in zip(trace["step"], trace["loss"], trace["lr"]):
        f.write(f"{step},{float(loss)!r},{float(lr)!r}\n")
print(f"wrote {trace.height} rows to {os.path.normpath(OUT)}")
