#!/usr/bin/env bash
# Sweep throughput (issue 11): bench/sweeps/small.yaml's 24 points (the default scenario, 3 worker counts x
# 2 policies x 4 seeds) run in one process by `faultline sweep` on 1 and on 2 cores, against one `faultline run`
# process per point; then checks that both give the same numbers. Release build; bench/README.md has figures.
# Usage: bench/sweep-bench.sh [REPEATS]   (the best of REPEATS runs of each, 3 by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
repeats=${1:-3}
dotnet build -c Release -v q "$root/src/Faultline.Cli" >/dev/null
faultline="$root/src/Faultline.Cli/bin/Release/net10.0/faultline"
sweep="$root/bench/sweeps/small.yaml"
scenario="$root/scenarios/default.yaml"
tmp=$(mktemp -d /tmp/faultline-sweep-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
points=24

# Wall and CPU seconds of a command, the best wall time of $repeats.
best() {
    local best_wall= best_cpu= t0 t1 wall cpu s0 s1
    for _ in $(seq "$repeats"); do
        # CPU: this shell's waited-for children (fields 16-17 of its stat), read without a subshell of its own.
        t0=$(date +%s.%N); read -r -a s0 < "/proc/$BASHPID/stat"
        "$@"
        t1=$(date +%s.%N); read -r -a s1 < "/proc/$BASHPID/stat"
        wall=$(echo "$t1 - $t0" | bc); cpu=$(echo "(${s1[15]} + ${s1[16]} - ${s0[15]} - ${s0[16]}) / $(getconf CLK_TCK)" | bc -l)
        if [ -z "$best_wall" ] || [ "$(echo "$wall < $best_wall" | bc)" = 1 ]; then best_wall=$wall; best_cpu=$cpu; fi
    done
    printf '%8.2f s wall  %6.2f s cpu  %7.1f points/s' "$best_wall" "$best_cpu" "$(echo "$points / $best_wall" | bc -l)"
}

in_process() { rm -rf "$tmp/sweep"; "$faultline" sweep "$sweep" --out "$tmp/sweep" --jobs "$1" >/dev/null; }
per_process() {
    rm -rf "$tmp/runs"; mkdir -p "$tmp/runs"
    for workers in 1 2 4; do for policy in hardened linux; do for seed in 1 2 3 4; do
        "$faultline" run "$scenario" --set "host.workers=$workers" --policy "$policy" --seed "$seed" \
            --json "$tmp/runs/$workers-$policy-$seed.json" >/dev/null || [ $? -eq 1 ]
    done; done; done
}

echo "sweep-bench: $points points of $(basename "$sweep"), best of $repeats, $(nproc) cores"
echo "  faultline sweep --jobs 1     $(best in_process 1)"
echo "  faultline sweep --jobs 2     $(best in_process 2)"
echo "  one faultline run per point  $(best per_process)"

# Same numbers both ways: each run's fault p99 against the sweep's points.csv (column 6).
tail -n +2 "$tmp/sweep/points.csv" | while IFS=, read -r _ workers policy seed _ p99 _; do
    got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["fault_latency"]["p99_ns"])' "$tmp/runs/$workers-$policy-$seed.json")
    [ "$got" = "$p99" ] || { echo "sweep-bench: point workers=$workers $policy seed $seed: sweep $p99, run $got"; exit 1; }
done
echo "sweep-bench: every point's fault p99 is the same in the sweep and in its own run"
