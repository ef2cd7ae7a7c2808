#!/usr/bin/env bash
# The fuzz harness (issue 14) for a bounded time: every codec, the scenario reader (default and tight limits) and the
# command line, fed seeded mutations of their seeds and fuzz/corpus/. A finding (an exception escaping, an exit code
# other than 0/1/2, a message that is not one line, an input over 60 s or 1 GiB) is saved under fuzz/findings/TARGET/
# and the script exits 1.
#
#   scripts/fuzz.sh [SECONDS] [--seed N] [--target NAME]... [--save-corpus]   SECONDS shared by the targets (default 60)
#   scripts/fuzz.sh 0 --inputs 1000000                                         a million inputs per target, untimed
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
[ $# -gt 0 ] && shift
dotnet build fuzz/Faultline.Fuzz -c Release -v q -nologo
# Standard input from /dev/null: a fuzzed path such as /dev/stdin reads nothing instead of waiting.
exec dotnet fuzz/Faultline.Fuzz/bin/Release/net10.0/Faultline.Fuzz.dll --seconds "$seconds" "$@" < /dev/null
