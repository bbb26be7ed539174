#!/usr/bin/env bash
# cachemiss.sh: Swiftlet as a caching forwarder (cache + forward) on cold names, against asking its knotd upstream
# directly: average latency of cache misses at a fixed rate (no losses expected), memory per cached entry, and
# memory at the `max_size` bound under a stream of unique (NXDOMAIN) names. The reference forwarders (REFERENCES)
# answer the same cold names in the same run, each started with an empty cache.
#   bash bench/cachemiss.sh            # RATE=2000 queries/s, 20,000 cold names, 200,000 unique names for the bound
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=$here/out/cachemiss
mkdir -p "$out"
RATE=${RATE:-2000}
COLD=${COLD:-20000}
UNIQUE=${UNIQUE:-200000}
BOUND=${BOUND:-16777216}
REFERENCES=${REFERENCES:-unbound dnsdist kresd}
bash "$shared/servers.sh" prepare >&2
zones=$BENCH_OUT/zones
shuf -n "$COLD" --random-source=<(yes) "$zones/queries-100000.txt" 2>/dev/null > "$out/cold.txt" \
    || awk -v n="$COLD" 'NR <= n' "$zones/queries-100000.txt" > "$out/cold.txt"
awk -v n="$UNIQUE" 'BEGIN { srand(7); for (i = 0; i < n; i++) printf "u%d-%d.bench.test A\n", i, int(rand() * 1e9) }' > "$out/unique.txt"
cat > "$out/miss.yaml" <<YAML
servers:
  - listen: ["127.0.0.1:5320"]
    workers: 1
    plugins:
      - cache: { max_size: $BOUND }
      - forward: { to: ["127.0.0.1:5300"] }
YAML
rss() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
latency() { awk '/Average Latency/ { print $4 }' "$1"; }
lost() { awk '/Queries lost/ { print $3 }' "$1"; }
exec 9>/tmp/bench.lock
flock -w 3600 9
(cd "$shared" && bash servers.sh start upstream >&2)
trap '(cd "$shared" && bash servers.sh stop upstream $REFERENCES >&2); [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null' EXIT
taskset -c 1 dnsperf -s 127.0.0.1 -p 5300 -d "$out/cold.txt" -Q "$RATE" -l 0 -n 1 > "$out/direct.txt" 2>&1 || true
source "$shared/servers.sh"
for reference in $REFERENCES; do
    (cd "$shared" && bash servers.sh start "$reference" >&2) || { echo "$reference did not start" >&2; continue; }
    taskset -c 1 dnsperf -s 127.0.0.1 -p "${BENCH_PORT[$reference]}" -d "$out/cold.txt" -Q "$RATE" -l 0 -n 1 \
        > "$out/$reference.txt" 2>&1 || true
    (cd "$shared" && bash servers.sh stop "$reference" >&2)
done
taskset -c 0 "$swiftlet" run --config "$out/miss.yaml" 2> "$out/swiftlet.log" &
pid=$!
for _ in $(seq 100); do dig @127.0.0.1 -p 5320 ns.bench.test +short +time=1 +tries=1 >/dev/null 2>&1 && break; sleep 0.1; done
before=$(rss "$pid")
taskset -c 1 dnsperf -s 127.0.0.1 -p 5320 -d "$out/cold.txt" -Q "$RATE" -l 0 -n 1 > "$out/swiftlet.txt" 2>&1 || true
after=$(rss "$pid")
taskset -c 1 dnsperf -s 127.0.0.1 -p 5320 -d "$out/unique.txt" -Q 20000 -l 0 -n 1 > "$out/unique-run.txt" 2>&1 || true
bound=$(rss "$pid")
printf 'cold names: %s at %s q/s\n' "$COLD" "$RATE"
printf '  knotd directly:   avg latency %s s, lost %s\n' "$(latency "$out/direct.txt")" "$(lost "$out/direct.txt")"
printf '  through swiftlet: avg latency %s s, lost %s\n' "$(latency "$out/swiftlet.txt")" "$(lost "$out/swiftlet.txt")"
ratio() { awk -v a="$(latency "$1")" -v b="$(latency "$out/direct.txt")" 'BEGIN { if (b > 0) printf "%.2f", a / b }'; }
printf '  latency ratio:    %s (to knotd directly)\n' "$(ratio "$out/swiftlet.txt")"
for reference in $REFERENCES; do
    [ -f "$out/$reference.txt" ] || continue
    printf '  %-17s avg latency %s s, lost %s, ratio %s\n' "$reference:" "$(latency "$out/$reference.txt")" \
        "$(lost "$out/$reference.txt")" "$(ratio "$out/$reference.txt")"
done
printf 'memory: %s KB before, %s KB after %s entries: %s bytes per cached name (both cache levels)\n' \
    "$before" "$after" "$COLD" "$(( (after - before) * 1024 / COLD ))"
printf 'bound: max_size %s bytes per level; RSS after %s unique names: %s KB (lost %s)\n' \
    "$BOUND" "$UNIQUE" "$bound" "$(lost "$out/unique-run.txt")"
