#!/usr/bin/env bash
# Regenerates the README gallery (docs/figures/*.png) from a fresh step_vs_exp
# sweep. The same sweep file gives the same rows, and the same rows the same
# figures, so the committed PNGs change only when the code does.
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
rm -rf "$out"
ls docs/figures
