#!/usr/bin/env bash
# The ordering stress that found the engine's races: the preset and ordering suites N times
# (default 10) under two CPU hogs, on real processes. Prints how many rounds passed; a failed
# round's output stays in .tmp/stress-<round>.log.
#
#   bash scripts/stress.sh 30
set -uo pipefail
cd "$(dirname "$0")/.."
N=${1:-10}
mkdir -p .tmp
yes > /dev/null & H1=$!
yes > /dev/null & H2=$!
trap 'kill $H1 $H2 2>/dev/null' EXIT
ok=0
fail=0
for i in $(seq 1 "$N"); do
  if npx vitest run test/integration/presets.test.ts test/integration/python-presets.test.ts test/integration/ordering.test.ts > ".tmp/stress-$i.log" 2>&1; then
    ok=$((ok + 1))
    rm -f ".tmp/stress-$i.log"
  else
    fail=$((fail + 1))
    echo "round $i failed: .tmp/stress-$i.log"
  fi
done
echo "stress: $ok passed, $fail failed of $N rounds"
[ "$fail" -eq 0 ]
