#!/bin/bash
# Submits a sharded valley sweep to Slurm: a job array of N tasks
# (scripts/slurm/sweep.sbatch) and a merge job that runs `valley merge DIR`
# once every task has succeeded (--dependency=afterok; cancelled, not left
# pending, if a task fails: then `valley merge DIR` names the missing shard).
#
#   scripts/slurm/submit.sh FILE.toml DIR N [more sbatch options for the array]
#
# Prints the two job ids: ARRAY_ID MERGE_ID. The valley binary: $VALLEY, or
# `valley` on PATH (exported to the jobs).
set -euo pipefail
if [[ $# -lt 3 ]]; then
    echo "usage: $0 FILE.toml DIR N [sbatch options]" >&2
    exit 2
fi
file=$1
dir=$2
n=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
valley=${VALLEY:-valley}
array=$(sbatch --parsable --array="1-${n}" "$@" "$here/sweep.sbatch" "$file" "$dir")
array=${array%%;*}
merge=$(sbatch --parsable --job-name=valley-merge --cpus-per-task=1 \
    --output="valley-merge-%j.out" \
    --dependency="afterok:${array}" --kill-on-invalid-dep=yes \
    --wrap="exec $(printf '%q' "$valley") merge $(printf '%q' "$dir")")
merge=${merge%%;*}
echo "$array $merge"
