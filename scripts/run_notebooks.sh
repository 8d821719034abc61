#!/usr/bin/env bash
# Executes every notebook in notebooks/ against the results folder in
# $VALLEY_RESULTS (default: results/step_vs_exp), with notebooks/ as the
# working directory. Creates .venv-notebooks/ from notebooks/requirements.txt
# if missing. Executed copies go to a temporary folder (printed); the
# committed notebooks and the results folder are not written. Exits non-zero
# if any notebook fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-notebooks"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# Keep the environment out of git without touching the repository's .gitignore.
echo '*' > "$venv/.gitignore"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/notebooks/requirements.txt"

results="${VALLEY_RESULTS:-$root/results/step_vs_exp}"
if [ ! -f "$results/runs.parquet" ] || [ ! -f "$results/trace.parquet" ]; then
    echo "run_notebooks: $results has no runs.parquet/trace.parquet (set VALLEY_RESULTS or run valley sweep first)" >&2
    exit 2
fi
export VALLEY_RESULTS="$(cd "$results" && pwd)"

out="$(mktemp -d "${TMPDIR:-/tmp}/valley-notebooks.XXXXXX")"
status=0
for nb in "$root"/notebooks/*.ipynb; do
    name="$(basename "$nb")"
    if (cd "$root/notebooks" && "$venv/bin/jupyter" nbconvert --to notebook --execute \
            --ExecutePreprocessor.timeout=600 --output-dir "$out" "$name"); then
        echo "ok      $name -> $out/$name"
    else
        echo "FAILED  $name" >&2
        status=1
    fi
done
exit "$status"
