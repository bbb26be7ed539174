#!/usr/bin/env bash
# compare.sh: a change measured against the binary it replaces, in one interleaved run: each of the given bench
# scripts runs ROUNDS times per binary, the two binaries alternating (old, new, old, new, …) so both see the same
# drift of the VM; each run's output is kept in out/compare/<script>.<binary>.<round>.txt for the table.
#   bash bench/compare.sh OLD_BINARY NEW_BINARY fastpath cachehit cachemiss recursion
#   ROUNDS=3 bash bench/compare.sh /tmp/swiftlet-old .build/release/swiftlet fastpath
# The scripts take their usual variables (SERVERS, DURATION, LATENCY, RESOLVERS, …) from the environment.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: compare.sh OLD_BINARY NEW_BINARY SCRIPT…" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
old=$(readlink -f "$1")
new=$(readlink -f "$2")
shift 2
[ -x "$old" ] && [ -x "$new" ] || { echo "compare.sh: both binaries must be executable" >&2; exit 2; }
out=$here/out/compare
mkdir -p "$out"
rounds=${ROUNDS:-3}
for script in "$@"; do
    for round in $(seq 1 "$rounds"); do
        for side in old new; do
            binary=$old
            [ "$side" = new ] && binary=$new
            echo "compare.sh: $script, round $round, $side ($binary)" >&2
            # One round inside the script; a failed threshold check still leaves its figures in the file.
            SWIFTLET_BIN=$binary ROUNDS=1 bash "$here/$script.sh" > "$out/$script.$side.$round.txt" 2>&1 || true
        done
    done
done
echo "compare.sh: results in $out" >&2
