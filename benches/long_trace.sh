#!/bin/sh
# The trace-heavy case of issue 13: 4 runs x 3,000,000 steps, a trace row at
# every step, on a 2-D quadratic (positions and basins traced), 2 threads.
# Prints the wall time, the CPU time (user + system) and the peak RSS of the
# sweep (GNU time's %e, %U + %S and %M).
#
#   benches/long_trace.sh [BINARY] [STEPS] [RUNS]
#
# BINARY defaults to target/release/valley (build it first with
# `cargo build --release`); STEPS to 3000000, RUNS to 4. Needs /usr/bin/time.
set -eu
bin=${1:-target/release/valley}
steps=${2:-3000000}
runs=${3:-4}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/long_trace.toml" <<TOML
name = "long_trace"
steps = $steps
seeds = $runs
trace_every = 1
hessian = false

[[landscape]]
kind = "quadratic"
dim = 2
eigenvalues = [0.5, 1.0]

[[optimizer]]
kind = "sgd"
noise = { kind = "gaussian", std = 0.1 }

[[schedule]]
kind = "constant"
lr = 0.01
TOML
cd "$work"
/usr/bin/time -f '%e %M %U %S' -o time.txt "$bin" sweep long_trace.toml --quiet --threads 2 --out out >log.txt 2>&1 || {
    cat log.txt time.txt >&2
    exit 1
}
read -r seconds kib user system <time.txt
rows=$(grep -m1 '"trace_rows"' out/sweep.json | tr -dc 0-9)
echo "$runs runs x $steps steps, trace_every = 1, 2-D quadratic, 2 threads: $seconds s wall, $(echo "$user + $system" | bc) s CPU, peak RSS $((kib / 1024)) MiB, $rows trace rows, trace.parquet $(($(stat -c %s out/trace.parquet) / 1000000)) MB"
