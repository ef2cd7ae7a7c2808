#!/usr/bin/env bash
# A sweep on a one-node Slurm cluster on this machine, compared byte for byte with the same sweep run locally
# (issue 11 item 6; docs/sweeps.md). Installs slurm-wlm and munge from Debian when missing, writes a slurm.conf
# for localhost in a temporary folder, starts munged, slurmctld and slurmd, submits the array that
# `faultline sweep --emit-slurm` writes, waits for its merge step, compares, and stops what it started.
# Run as root:  scripts/slurm-sweep.sh [SWEEP.yaml [SHARDS]]   (default bench/sweeps/prq-depth.yaml, 3 shards)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
sweep=$(realpath "${1:-$root/bench/sweeps/prq-depth.yaml}")
shards=${2:-3}
say() { echo "slurm-sweep: $*"; }

if [ "$(id -u)" != 0 ]; then say "run as root (it installs packages and starts munged, slurmctld and slurmd)"; exit 2; fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null
fi

say "building faultline"
dotnet build -v q "$root/src/Faultline.Cli" >/dev/null
faultline="$root/src/Faultline.Cli/bin/Debug/net10.0/faultline"

tmp=$(mktemp -d /tmp/faultline-slurm.XXXXXX)
chmod 755 "$tmp"
pids=()
munge_pid=
stop() {
    # Only what this script started, by process id.
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -n "$munge_pid" ]; then kill "$munge_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap stop EXIT

# munged runs as its own user, its socket where Slurm's auth/munge looks for it.
install -d -o munge -g munge -m 755 /run/munge
runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/faultline-munged.pid --socket=/run/munge/munge.socket.2
for _ in $(seq 50); do [ -s /run/munge/faultline-munged.pid ] && break; sleep 0.1; done
munge_pid=$(cat /run/munge/faultline-munged.pid)

mkdir -p "$tmp/state" "$tmp/spool"
cpus=$(nproc)
export SLURM_CONF="$tmp/slurm.conf"
cat > "$SLURM_CONF" <<CONF
ClusterName=faultline
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
/usr/sbin/slurmctld -D -i -f "$SLURM_CONF" >"$tmp/slurmctld.out" 2>&1 & pids+=($!)
/usr/sbin/slurmd -D -N localhost -f "$SLURM_CONF" >"$tmp/slurmd.out" 2>&1 & pids+=($!)
for _ in $(seq 100); do sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed)' && break; sleep 0.2; done
if ! sinfo -h -o %T | grep -qE '^(idle|mixed)'; then
    say "the node did not come up:"; sinfo || true; tail -5 "$tmp/slurmctld.log" "$tmp/slurmd.log" || true; exit 1
fi
say "cluster up: $(sinfo -h -o '%P %D node %c cpus %T')"

# The same sweep on this machine, every core, for the comparison.
start=$(date +%s.%N)
"$faultline" sweep "$sweep" --out "$tmp/local" >/dev/null || [ $? -eq 1 ]
local_s=$(echo "$(date +%s.%N) - $start" | bc)

# On the cluster: one core a task, so the node runs the shards side by side.
"$faultline" sweep "$sweep" --emit-slurm "$shards" --jobs 1 --out "$tmp/cluster" > "$tmp/sweep.sbatch"
mkdir -p "$tmp/cluster"
start=$(date +%s.%N)
job=$(sbatch --parsable "$tmp/sweep.sbatch")
say "submitted array job $job ($shards tasks), then its merge"
for _ in $(seq 1200); do
    [ -z "$(squeue -h -o %i)" ] && [ -s "$tmp/cluster/sweep.json" ] && break
    sleep 0.25
done
cluster_s=$(echo "$(date +%s.%N) - $start" | bc)
if [ -n "$(squeue -h -o %i)" ] || [ ! -s "$tmp/cluster/sweep.json" ]; then
    say "FAIL: the jobs did not finish"; squeue || true; cat "$tmp"/cluster/slurm-*.out 2>/dev/null || true; exit 1
fi

points=$(($(wc -l < "$tmp/local/points.csv") - 1))
for f in points.csv summary.csv sweep.json; do
    if ! cmp -s "$tmp/local/$f" "$tmp/cluster/$f"; then
        say "FAIL: $f differs between the local sweep and the merged shards"; diff "$tmp/local/$f" "$tmp/cluster/$f" | head; exit 1
    fi
done
say "journals: $(cd "$tmp/cluster" && echo journal-*.jsonl)"
say "PASS: $points points in $shards shards on Slurm ($(sbatch --version)), merged: points.csv, summary.csv and sweep.json identical to the local sweep"
printf 'slurm-sweep: local sweep (%d cores) %.2f s; Slurm array and merge, submit to merged %.2f s\n' "$cpus" "$local_s" "$cluster_s"
