#!/usr/bin/env bash
# Benchmark gate: runs the Benchmarks/ package (ordo-one/benchmark 1.38.1) once, prints ns/op and mallocs/op for
# every benchmark, then checks that same run against the checked-in p90 thresholds in Benchmarks/Thresholds/ with
# the tolerances declared in Benchmarks/Benchmarks/*/*.swift (mallocs: exact, or off by less than one per operation;
# wall clock p90: up to 10x, a bound for catastrophes only).
#
# Usage:
#   bench/benchmarks-check.sh            run and check (works from a clean clone; the first run builds for minutes)
#   bench/benchmarks-check.sh --update   rewrite Benchmarks/Thresholds/*.p90.json from a fresh run; review the
#                                        diff (wall clock p90s from a loaded machine are worth rounding down) and
#                                        commit it
# Any other arguments go to the benchmark plugin, e.g. --filter 'RequestView.*'.
# BENCH_JOBS=N passes -j N to SwiftPM.
#
# Exit status: 0 within thresholds; 2 regression (a threshold exceeded); 4 only improvements (e.g. fewer mallocs
# than checked in: run --update and commit, so the gate keeps its new level); anything else: build or run failure.
set -euo pipefail
cd "$(dirname "$0")/../Benchmarks"

# On Swift 6.3 the malloc counts come from the benchmark package's malloc interposer (the MallocInterposer trait,
# enabled in Benchmarks/Package.swift), so jemalloc is not needed. These variables would switch the interposer off
# (1.38 treats BENCHMARK_DISABLE_JEMALLOC as an alias), leaving no malloc counts to check.
unset BENCHMARK_DISABLE_MALLOC_INTERPOSER BENCHMARK_DISABLE_JEMALLOC

swiftpm=(swift package)
[ -n "${BENCH_JOBS:-}" ] && swiftpm+=(-j "$BENCH_JOBS")
write=(--allow-writing-to-package-directory)

if [ "${1:-}" = "--update" ]; then
    shift
    "${swiftpm[@]}" "${write[@]}" benchmark thresholds update --no-progress "$@"
    git status --short -- Thresholds || true
    git diff -- Thresholds || true
    exit 0
fi

# One measured run, stored as a baseline (in .benchmarkBaselines/, git-ignored), so the table printed and the
# threshold check are about the same numbers.
baseline=benchmarks-check
"${swiftpm[@]}" "${write[@]}" benchmark baseline update "$baseline" --no-progress "$@"
"${swiftpm[@]}" benchmark baseline read "$baseline" --no-progress "$@"

echo
echo "Checking against $(pwd)/Thresholds (ns and mallocs there are per 1000 operations)"
# The tool exits 2 (regression) or 4 (improvement), but `swift package` turns any plugin error into exit 1 and
# says which on stderr ("error: benchmarkThresholdRegression"), so tell them apart by that message.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
"${swiftpm[@]}" benchmark thresholds check "$baseline" --no-progress "$@" 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ]; then
    if grep -q 'benchmarkThresholdRegression' "$log"; then status=2
    elif grep -q 'benchmarkThresholdImprovement' "$log"; then status=4
    fi
elif ! grep -q 'is EQUAL to the defined thresholds' "$log"; then
    status=1
fi
case $status in
    0) echo "benchmarks-check: OK, within the checked-in thresholds" ;;
    2) echo "benchmarks-check: FAILED, a benchmark is worse than its checked-in threshold (see above)" >&2 ;;
    4) echo "benchmarks-check: FAILED, only improvements: fewer mallocs than checked in." \
        "Run bench/benchmarks-check.sh --update and commit Benchmarks/Thresholds/ to keep the gate tight." >&2 ;;
    *) echo "benchmarks-check: FAILED, the threshold check did not complete (exit $status)" >&2 ;;
esac
exit "$status"
