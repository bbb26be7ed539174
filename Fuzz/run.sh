#!/usr/bin/env bash
# Builds the DecodeMessage libFuzzer target and runs it for a bounded time (see Fuzz/README.md).
#
#   Fuzz/run.sh                 build, gather seeds, fuzz for FUZZ_SECONDS (default 60); non-zero exit on a crash
#   Fuzz/run.sh CRASH_FILE...   build, then run just these inputs (reproduce a crash)
#
# Environment: FUZZ_SECONDS (default 60), SWIFTC (default swiftc), FUZZ_ARGS (extra libFuzzer flags, word-split,
# after the defaults so they win).
# Everything it makes lives in .build-fuzz/ at the repository root (git-ignored).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

out=".build-fuzz"
binary="$out/decode-message"
seeds="$out/seeds"
corpus="$out/corpus"
artifacts="$out/artifacts"
archive="$(dirname "$repo")/shared/fuzz/dns-packets.tar.gz"
seconds="${FUZZ_SECONDS:-60}"
swiftc="${SWIFTC:-swiftc}"

mkdir -p "$out" "$corpus" "$artifacts"

# --- Build: every Pipeline source (Wire/, Chain/, Cache/ with the ReplyScrubber, …) and the target, as one module,
# on one core.
sources=()
while IFS= read -r -d '' file; do sources+=("$file"); done \
    < <(find Sources/Pipeline Fuzz/DecodeMessage -name '*.swift' -print0 \
        | sort -z)
# Rebuilt when missing or older than any source or this script.
if [[ ! -x "$binary" ]] || [[ -n "$(find "${sources[@]}" "$0" -newer "$binary" -print -quit)" ]]; then
    echo "fuzz: building $binary from ${#sources[@]} files"
    build_start=$SECONDS
    # Run from a scratch folder: with -g the driver leaves PipelineFuzz-1.swiftmodule and friends in its cwd.
    mkdir -p "$out/obj"
    (cd "$out/obj" && "$swiftc" -O -wmo -j 1 -g \
        -sanitize=fuzzer,address \
        -parse-as-library -module-name PipelineFuzz \
        -swift-version 6 -enable-upcoming-feature ExistentialAny \
        -use-ld=lld \
        "${sources[@]/#/$repo/}" -o "$repo/$binary")
    echo "fuzz: build took $((SECONDS - build_start)) s"
else
    echo "fuzz: $binary is up to date"
fi

# Let libFuzzer report traps itself: the Swift runtime's backtracer would otherwise run first (and trips ASan).
export SWIFT_BACKTRACE=enable=no

if [[ $# -gt 0 ]]; then
    exec "$binary" -timeout=5 -rss_limit_mb=2048 "$@"
fi

# --- Seeds: the shared packet corpus and the golden fixtures, never inside the repository's tracked tree.
if [[ -f "$archive" ]]; then
    if [[ ! -d "$seeds/packet" ]]; then
        mkdir -p "$seeds"
        tar -xzf "$archive" -C "$seeds"
    fi
else
    echo "fuzz: warning: no seed archive at $archive; fuzzing from the fixtures and the work corpus only" >&2
fi
mkdir -p "$seeds/fixtures"
for hexfile in Tests/Fixtures/wire/*.hex; do
    [[ -e "$hexfile" ]] || continue
    # First line is a `# ` comment; the rest is hex, 64 digits a line.
    digits="$(tail -n +2 "$hexfile" | grep -v '^#' | tr -d ' \t\r\n')"
    escaped="$(printf '%s' "$digits" | sed 's/\(..\)/\\x\1/g')"
    printf '%b' "$escaped" > "$seeds/fixtures/$(basename "$hexfile" .hex).bin"
done
seed_dirs=("$seeds/fixtures")
[[ -d "$seeds/packet" ]] && seed_dirs+=("$seeds/packet")

# --- Fuzz. The first directory (the work corpus) collects new inputs; the seed directories are only read.
# -max_len=4096 (longer seeds are cut): ~10x the executions per second of the 64 KiB default and more coverage in a
# short run; FUZZ_ARGS=-max_len=65535 reaches what only big messages do (pointers past 0x3FFF, the 65535 limit).
log="$out/fuzz.log"
echo "fuzz: running for $seconds s; log in $log, crashes in $artifacts/"
set +e
# shellcheck disable=SC2086
"$binary" \
    -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
    -max_len=4096 -artifact_prefix="$artifacts/" -print_final_stats=1 ${FUZZ_ARGS:-} \
    "$corpus" "${seed_dirs[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

executions="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
rate="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
if [[ -z "$executions" ]]; then
    # A crash ends the run before the final stats; take the last status line instead (`#12345 ... exec/s: 678`).
    last="$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
    executions="$(printf '%s' "$last" | grep -oE '^#[0-9]+' | tr -d '#' || true)"
    rate="$(printf '%s' "$last" | grep -oE 'exec/s: [0-9]+' | grep -oE '[0-9]+' || true)"
fi
corpus_size="$(find "$corpus" -type f | wc -l | tr -d ' ')"
if [[ $status -eq 0 ]]; then
    echo "fuzz: OK: ${executions:-?} executions in $seconds s (${rate:-?} exec/s), work corpus $corpus_size inputs"
else
    crash="$(grep -o "Test unit written to .*" "$log" | tail -n 1 | sed 's/Test unit written to //' || true)"
    echo "fuzz: FAILED (exit $status) after ${executions:-?} executions (${rate:-?} exec/s); input: ${crash:-see $log}"
    echo "fuzz: reproduce with: Fuzz/run.sh ${crash:-<crash file>}"
fi
exit "$status"
