# common.sh: sourced by the bench/ scripts: paths, the shared benchmark folder, and a release build of swiftlet.
# Sets: here (bench/), repo, shared (../shared/bench), swiftlet (the release binary, or $SWIFTLET_BIN); exports
# BENCH_OUT, BENCH_BIN.
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
repo=$(dirname "$here")
shared=${SHARED_BENCH:-$(dirname "$repo")/shared/bench}
export BENCH_OUT=${BENCH_OUT:-$here/out/shared}
export BENCH_BIN=${BENCH_BIN:-$here/bin}
# SWIFTLET_BIN: measure that binary instead of building this checkout (bench/compare.sh: a previous build).
if [ -n "${SWIFTLET_BIN:-}" ]; then
    swiftlet=$(readlink -f "$SWIFTLET_BIN")
else
    echo "building swiftlet (release)…" >&2
    (cd "$repo" && swift build -c release --product swiftlet >&2)
    swiftlet=$repo/.build/release/swiftlet
fi
