#!/usr/bin/env bash
# Rebuilds every golden fixture from its script in a pinned environment and
# compares the result with the committed fixtures (docs/goldens.md).
#
#   bash scripts/rebuild_goldens.sh           # check: exit 0 if all match
#   bash scripts/rebuild_goldens.sh --write   # then copy the rebuilt fixtures in
#
# Environment: a fresh virtual environment in a temporary folder, made with
# python3 -m venv and scripts/requirements-golden.txt, or $GOLDEN_VENV if set
# (created there if missing, and brought to the pinned versions either way).
# The scripts run on a temporary copy of scripts/ and tests/fixtures/ (the
# committed *.json removed first, so a script that writes nothing is caught);
# scripts/compare_goldens.py then compares each rebuilt JSON with the
# committed one to 1e-12 relative, ignoring the recorded `versions`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
write=0
case "${1:-}" in
    --write) write=1 ;;
    "") ;;
    *) echo "usage: $0 [--write]" >&2; exit 2 ;;
esac

# Every script that writes a fixture, relative to the repository root.
scripts=(
    scripts/ab_fixtures.py
    scripts/golden_optimizers.py
    scripts/golden_schedules.py
    scripts/golden_schedulefree.py
    scripts/golden_clipping.py
    scripts/golden_precision.py
    scripts/golden_compare.py
    scripts/golden_claims.py
    scripts/golden_expressions.py
    scripts/golden_games.py
    tests/fixtures/plots/make_fixtures.py
)

start=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/valley-goldens.XXXXXX")
trap 'rm -rf "$work"' EXIT

venv=${GOLDEN_VENV:-$work/venv}
if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv"
    python3 -m venv "$venv"
fi
echo "installing scripts/requirements-golden.txt into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$root/scripts/requirements-golden.txt"
"$venv/bin/python" --version

tree=$work/tree
mkdir -p "$tree" "$work/logs"
(cd "$root" && git ls-files -z --cached --others --exclude-standard scripts tests/fixtures |
    tar --null -T - -cf -) | tar -xf - -C "$tree"
find "$tree/tests/fixtures" -name '*.json' -delete

failed=0
for s in "${scripts[@]}"; do
    log=$work/logs/$(basename "$s" .py).txt
    t0=$(date +%s)
    if (cd "$tree" && "$venv/bin/python" "$s") >"$log" 2>&1; then
        echo "ran        $s ($(($(date +%s) - t0)) s)"
    else
        echo "FAILED     $s; its last lines:"
        tail -n 20 "$log" | sed 's/^/    /'
        failed=1
    fi
done
mb=$work/logs/muller_brown_points.txt
if ! (cd "$tree" && "$venv/bin/python" scripts/muller_brown_points.py) >"$mb" 2>&1; then
    echo "FAILED     scripts/muller_brown_points.py"
    tail -n 20 "$mb" | sed 's/^/    /'
    failed=1
fi

echo "comparing with the committed fixtures"
compared=0
"$venv/bin/python" "$root/scripts/compare_goldens.py" "$root/tests/fixtures" "$tree/tests/fixtures" \
    --muller-brown "$mb" "$root/src/landscape/muller_brown.rs" || compared=1

if [ "$write" = 1 ] && [ "$failed" = 0 ]; then
    (cd "$tree" && find tests/fixtures -name '*.json' -print0 | tar --null -T - -cf -) | tar -xf - -C "$root"
    echo "wrote the rebuilt fixtures into $root/tests/fixtures (see git diff)"
fi

echo "took $(($(date +%s) - start)) s"
if [ "$failed" = 1 ]; then
    echo "result: a script failed"
    exit 1
elif [ "$compared" = 1 ]; then
    echo "result: fixtures differ from the committed ones"
    exit 1
fi
echo "result: every fixture matches"
