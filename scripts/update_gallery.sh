#!/usr/bin/env bash
# Regenerates the README gallery (docs/figures/*.png) from a fresh step_vs_exp
# sweep, the precision experiments and the protein race. The same sweep file
# gives the same rows, and the same rows the same figures, so the committed
# PNGs change only when the code does.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
cargo run --release --quiet -- sweep experiments/step_vs_exp.toml --out "$out/step_vs_exp" --quiet
cargo run --release --quiet -- plot "$out/step_vs_exp"
mkdir -p docs/figures
cp "$out"/step_vs_exp/figures/*.png docs/figures/
# One figure from each of the precision experiments (issue 14).
for pair in precision:precision loss_scaling:loss_scale discriminative:lr_decay; do
  name=${pair%%:*} figure=${pair##*:}
  cargo run --release --quiet -- sweep "experiments/$name.toml" --out "$out/$name" --quiet
  cargo run --release --quiet -- plot "$out/$name"
  cp "$out/$name/figures/$figure.png" docs/figures/
done
# The Edge of Stability figure (issue 15; about 8 minutes on 2 cores).
cargo run --release --quiet -- sweep experiments/edge_of_stability.toml --out "$out/edge_of_stability" --quiet
cargo run --release --quiet -- plot "$out/edge_of_stability"
cp "$out/edge_of_stability/figures/edge_of_stability.png" docs/figures/
# The AB protein race (issue 12): the fold of the lowest energy found and the
# energy panels (median and band over seeds, per schedule), 2-D fib13.
cargo run --release --quiet -- sweep experiments/protein/fib13_2d.toml --out "$out/protein_fib13_2d" --quiet
cargo run --release --quiet -- plot "$out/protein_fib13_2d"
cp "$out/protein_fib13_2d/figures/fold_fib13_2d.png" docs/figures/
# The 2-D test functions (issue 26): contours with Adam's trajectories.
cargo run --release --quiet -- sweep experiments/gallery/test_functions.toml --out "$out/test_functions" --quiet
cargo run --release --quiet -- plot "$out/test_functions"
mkdir -p docs/figures/test_functions
cp "$out"/test_functions/figures/contour_*.png docs/figures/test_functions/
# docs/figures/protein_budget.png comes from a Python script (matplotlib):
# python3 benches/peers/protein_budget.py, see its header.
rm -rf "$out"
ls docs/figures
