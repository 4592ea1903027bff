#!/usr/bin/env bash
# Runs the README's test command RUNS times in a row (default 3) while a
# CPU-bound process (one busy loop: one core of a 2-core machine) runs beside
# it, and prints each run's totals and time. Tests must hold under load:
# deadlines scale with the work, no assertion depends on which of two valid
# outcomes wins a race. BENCHMARKS.md ("The test command under load") records
# the figures. Usage: bash scripts/test-under-load.sh [RUNS]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
sh -c 'while :; do :; done' &
burner=$!
trap 'kill $burner 2>/dev/null' EXIT
failed=0
for i in $(seq 1 "$runs"); do
  results=$(mktemp --suffix=.json)
  start=$(date +%s)
  CI=true CHECKPOINT_DISABLE=1 npm test -- --json --outputFile="$results" >"$results.log" 2>&1
  rc=$?
  totals=$(node -e 'const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`)' "$results" 2>/dev/null || echo "no totals")
  echo "run $i of $runs: exit $rc, $totals, $(($(date +%s) - start)) s (log: $results.log)"
  [ "$rc" -eq 0 ] || failed=1
  rm -f "$results"
done
exit $failed
