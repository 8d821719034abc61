#!/bin/bash
# Tests scripts/slurm/ on a real Slurm: starts munged and a single-node
# cluster on localhost in a temporary folder (no systemd), submits a sharded
# sweep with submit.sh, and checks that
#   1. the merged rows equal a single-process sweep of the same file
#      (array indices 0..N-1, so the 0-based case is the one exercised);
#   2. a failed task cancels the merge job and makes `valley merge` name the
#      missing shard; running that shard again and merging gives the same rows.
# Installs slurm-wlm and munge with apt-get if they are missing. Stops only
# the daemons it started, by their pid files, also on failure.
#
#   bash scripts/slurm/selftest.sh        (from the repository root, as root)
#
# The valley binary: $VALLEY, or target/release/valley (built if missing).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/scripts/slurm"
started=$(date +%s)
say() { echo "selftest: $*"; }
fail() { echo "selftest: FAIL: $*" >&2; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurm-wlm munge >/dev/null
fi

VALLEY=${VALLEY:-$root/target/release/valley}
if [[ ! -x $VALLEY ]]; then
    (cd "$root" && cargo build --release --bin valley)
fi
export VALLEY

tmp=$(mktemp -d "${TMPDIR:-/tmp}/valley-slurm.XXXXXX")
chmod 755 "$tmp"
stop_daemons() {
    local rc=$?
    for d in slurmd slurmctld munged; do
        if [[ -f $tmp/$d.pid ]]; then
            local pid
            pid=$(cat "$tmp/$d.pid")
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    if [[ $rc -ne 0 ]]; then
        for log in "$tmp"/*.log "$tmp"/work/*.out; do
            [[ -f $log ]] && { echo "--- $log"; tail -n 20 "$log"; }
        done
    fi
    rm -rf "$tmp"
    exit $rc
}
trap stop_daemons EXIT

# munge: our own key, socket and pid file.
mungekey --create --keyfile="$tmp/munge.key" 2>/dev/null \
    || dd if=/dev/urandom of="$tmp/munge.key" bs=1 count=1024 status=none
chmod 600 "$tmp/munge.key"
munged --force --key-file="$tmp/munge.key" --socket="$tmp/munge.sock" \
    --pid-file="$tmp/munged.pid" --log-file="$tmp/munged.log" \
    --seed-file="$tmp/munged.seed"

# Slurm: one node, localhost, with the CPUs and memory slurmd sees.
read -r cpus mem < <(slurmd -C | awk '/^NodeName/ {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    print v["CPUs"], v["RealMemory"] }')
port=$(( 20000 + RANDOM % 20000 ))
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/work"
cat > "$tmp/slurm.conf" <<CONF
ClusterName=valleytest
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$(( port + 1 ))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge.sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -c -f "$SLURM_CONF"
slurmd -N localhost -f "$SLURM_CONF"
for _ in $(seq 100); do
    state=$(sinfo -h -o %T 2>/dev/null || true)
    [[ $state == idle ]] && break
    sleep 0.2
done
[[ $state == idle ]] || fail "the node did not come up (state: ${state:-none})"
say "single-node cluster up: $cpus CPUs, ${mem} MB (port $port)"

job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1; }
# Waits until none of the given jobs is pending or running (or gone).
wait_jobs() {
    local deadline=$(( $(date +%s) + 150 ))
    while (( $(date +%s) < deadline )); do
        local busy=0
        for j in "$@"; do
            if squeue -h -j "$j" -t PENDING,RUNNING,CONFIGURING,COMPLETING -o %T 2>/dev/null \
                | grep -vq DependencyNeverSatisfied; then
                busy=1
            fi
        done
        (( busy == 0 )) && return 0
        sleep 0.3
    done
    fail "jobs $* did not finish"
}

cd "$tmp/work"
cat > sweep.toml <<'TOML'
name = "slurm_selftest"
steps = 300
seeds = 4
trace_every = 25

[[landscape]]
kind = "quadratic"
dim = 4
eigenvalues = { kind = "geometric", min = 0.1, max = 4.0 }
rotate = true

[[landscape]]
kind = "muller_brown"

[[optimizer]]
kind = "sgd"
momentum = { sweep = [0.0, 0.9] }
noise = { kind = "gaussian", std = 0.1 }

[[schedule]]
kind = "cosine"
lr = 0.002
total_steps = 300
TOML
"$VALLEY" sweep sweep.toml --out single --quiet

# 1. A job array, 0-based indices, and the dependent merge.
array=$(sbatch --parsable --array=0-3 --cpus-per-task=1 "$here/sweep.sbatch" sweep.toml sharded)
array=${array%%;*}
merge=$(sbatch --parsable --job-name=valley-merge --cpus-per-task=1 --output=merge-%j.out \
    --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    --wrap="exec $VALLEY merge sharded")
merge=${merge%%;*}
say "submitted array $array (0-3) and merge $merge"
wait_jobs "$array" "$merge"
[[ $(job_state "$merge") == COMPLETED ]] || fail "merge job: $(job_state "$merge")"
for k in 1 2 3 4; do
    [[ -f sharded/shard-$k-of-4/runs.parquet ]] || fail "shard $k of 4 missing"
done
"$VALLEY" same-rows single sharded || fail "merged rows differ from a single-process sweep"
say "ok: 4 array tasks + merge give the single-process rows"

# 2. A failed task: shard 2 of 3 cannot write (its folder is a file).
mkdir -p failing
touch failing/shard-2-of-3
read -r array merge < <("$here/submit.sh" sweep.toml failing 3 --cpus-per-task=1)
say "submitted array $array (1-3, task 2 fails) and merge $merge"
wait_jobs "$array" "$merge"
[[ $(job_state "${array}_2") == FAILED ]] || fail "task 2: $(job_state "${array}_2")"
[[ $(job_state "$merge") != COMPLETED ]] || fail "the merge ran although a task failed"
[[ ! -f failing/runs.parquet ]] || fail "a merge was written"
if out=$("$VALLEY" merge failing 2>&1); then fail "merge succeeded with a shard missing"; fi
grep -q 'shards \[2\] of 3 are missing' <<<"$out" || fail "merge does not name shard 2: $out"
say "ok: the failed task's merge job is $(job_state "$merge"); merge says: $out"
rm failing/shard-2-of-3
rerun=$(VALLEY_SHARDS=3 sbatch --parsable --array=2 --cpus-per-task=1 "$here/sweep.sbatch" sweep.toml failing)
wait_jobs "${rerun%%;*}"
"$VALLEY" merge failing
"$VALLEY" same-rows single failing || fail "rows after rerunning shard 2 differ"
say "ok: shard 2 run again, merged rows equal the single-process sweep"
say "passed in $(( $(date +%s) - started )) s"
