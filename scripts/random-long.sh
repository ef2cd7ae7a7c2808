#!/usr/bin/env bash
# The long run of the random scenario property (docs/testing.md): COUNT operation sequences per policy
# (default 1 000 000) from a new seed, on every core (FsCheck's parallel runner), in a Release build.
# Prints sequences/s and failures per policy; each new failure is shrunk to a scenario file in
# FAULTLINE_RANDOM_FOUND (default $TMPDIR/faultline-random-found). Breaks already kept in tests/Faultline.Tests/Random/Found/
# are counted as tolerated, not failed. Exit 0 when nothing new broke.
#   scripts/random-long.sh [count]      FAULTLINE_RANDOM_SEED=n replays a run
set -euo pipefail
cd "$(dirname "$0")/.."

count=${1:-1000000}
seed=${FAULTLINE_RANDOM_SEED:-$(date +%s)}
found=${FAULTLINE_RANDOM_FOUND:-${TMPDIR:-/tmp}/faultline-random-found}
report=$(mktemp)
trap 'rm -f "$report"' EXIT

dotnet build tests/Faultline.Tests -c Release -v q -nologo >/dev/null
echo "random-long: $count sequences per policy, seed $seed, shrunk failures to $found"
status=0
FAULTLINE_RANDOM_SEQUENCES=$count FAULTLINE_RANDOM_SEED=$seed FAULTLINE_RANDOM_FOUND=$found FAULTLINE_RANDOM_REPORT=$report \
    dotnet test tests/Faultline.Tests -c Release --no-build -nologo \
    --filter "FullyQualifiedName~RandomScenarioPropertyTests" >/dev/null 2>&1 || status=$?
cat "$report"
if [ ! -s "$report" ]; then echo "random-long: the property did not run (dotnet test exit $status)" >&2; exit 2; fi
exit "$status"
