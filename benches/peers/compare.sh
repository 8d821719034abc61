#!/usr/bin/env bash
# Times the reference workload (benches/reference.toml) end to end, valley
# against the JAX peer, in one run on this machine, and prints the ratio.
# Each command runs REPEAT times (default 5) alternately; the medians of the
# wall times (process start to exit, Parquet written) are compared.
#
#   bash benches/peers/compare.sh            # needs a venv with jax, polars
#   VENV=/path/to/venv REPEAT=7 bash benches/peers/compare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
REPEAT=${REPEAT:-5}
VENV=${VENV:-.venv-bench}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "jax[cpu]" polars numpy
fi
cargo build --release --quiet
out=$(mktemp -d)
now() { date +%s.%N; }
declare -a tv tj
for i in $(seq "$REPEAT"); do
  a=$(now); ./target/release/valley sweep benches/reference.toml --out "$out/valley" --force --quiet 2>/dev/null; b=$(now)
  tv+=("$(echo "$b - $a" | bc -l)")
  a=$(now); "$VENV/bin/python" benches/peers/reference_jax.py "$out/jax" 2>/dev/null; b=$(now)
  tj+=("$(echo "$b - $a" | bc -l)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mv=$(median "${tv[@]}"); mj=$(median "${tj[@]}")
echo "valley runs: ${tv[*]}"
echo "jax runs:    ${tj[*]}"
printf 'median wall time: valley %.3f s, jax %.3f s, ratio jax/valley %.1fx (%d runs each, %s)\n' \
  "$mv" "$mj" "$(echo "$mj / $mv" | bc -l)" "$REPEAT" "$(nproc) cores"
rm -rf "$out"
