#!/usr/bin/env bash
# cachemiss.sh: Swiftlet as a caching forwarder (cache + forward) on cold names, against asking its knotd upstream
# directly: average latency of cache misses at a fixed rate (no losses expected), memory per cached entry, and
# memory at the `max_size` bound under a stream of unique (NXDOMAIN) names. The reference forwarders (REFERENCES)
# answer the same cold names in the same run, each started with an empty cache. The figures are checked against
# bench/cachemiss.thresholds; a miss exits 1.
#   bash bench/cachemiss.sh            # RATE=2000 queries/s, 20,000 cold names, 200,000 unique names for the bound,
#                                      # ROUNDS=3 interleaved rounds
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=$here/out/cachemiss
mkdir -p "$out"
RATE=${RATE:-2000}
COLD=${COLD:-20000}
UNIQUE=${UNIQUE:-200000}
BOUND=${BOUND:-16777216}
REFERENCES=${REFERENCES:-unbound dnsdist kresd}
ROUNDS=${ROUNDS:-3}
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
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
cold() { taskset -c 1 dnsperf -s 127.0.0.1 -p "$1" -d "$out/cold.txt" -Q "$RATE" -l 0 -n 1 > "$2" 2>&1 || true; }
exec 9>/tmp/bench.lock
flock -w 3600 9
source "$shared/servers.sh"
(cd "$shared" && bash servers.sh start upstream >&2)
trap '(cd "$shared" && bash servers.sh stop upstream $REFERENCES >&2); [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null' EXIT
# Interleaved rounds: in each, knotd directly, then every server from an empty cache, on the same cold names; the
# ratio of each round is to the direct latency of the same round, and the median round is reported.
rm -f "$out"/ratios-*.txt
for round in $(seq "$ROUNDS"); do
    cold 5300 "$out/direct-$round.txt"
    for reference in $REFERENCES; do
        (cd "$shared" && bash servers.sh start "$reference" >&2) || { echo "$reference did not start" >&2; continue; }
        cold "${BENCH_PORT[$reference]}" "$out/$reference-$round.txt"
        (cd "$shared" && bash servers.sh stop "$reference" >&2)
    done
    taskset -c 0 "$swiftlet" run --config "$out/miss.yaml" 2> "$out/swiftlet.log" &
    pid=$!
    for _ in $(seq 100); do dig @127.0.0.1 -p 5320 ns.bench.test +short +time=1 +tries=1 >/dev/null 2>&1 && break; sleep 0.1; done
    before=$(rss "$pid")
    cold 5320 "$out/swiftlet-$round.txt"
    after=$(rss "$pid")
    if [ "$round" = "$ROUNDS" ]; then
        taskset -c 1 dnsperf -s 127.0.0.1 -p 5320 -d "$out/unique.txt" -Q 20000 -l 0 -n 1 > "$out/unique-run.txt" 2>&1 || true
        bound=$(rss "$pid")
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
    direct=$(latency "$out/direct-$round.txt")
    for server in swiftlet $REFERENCES; do
        [ -f "$out/$server-$round.txt" ] || continue
        awk -v a="$(latency "$out/$server-$round.txt")" -v b="$direct" 'BEGIN { if (b > 0) printf "%.3f\n", a / b }' \
            >> "$out/ratios-$server.txt"
    done
done
printf 'cold names: %s at %s q/s, %s interleaved rounds (median)\n' "$COLD" "$RATE" "$ROUNDS"
printf '  knotd directly:   avg latency %s s\n' "$(for r in $(seq "$ROUNDS"); do latency "$out/direct-$r.txt"; done | median)"
for server in swiftlet $REFERENCES; do
    [ -f "$out/ratios-$server.txt" ] || continue
    printf '  %-17s avg latency %s s, lost %s, ratio to knotd %s (rounds: %s)\n' "$server:" \
        "$(for r in $(seq "$ROUNDS"); do latency "$out/$server-$r.txt"; done | median)" \
        "$(for r in $(seq "$ROUNDS"); do lost "$out/$server-$r.txt"; done | sort -n | tail -1)" \
        "$(median < "$out/ratios-$server.txt")" "$(tr '\n' ' ' < "$out/ratios-$server.txt")"
done
printf 'memory: %s KB before, %s KB after %s entries: %s bytes per cached name (both cache levels)\n' \
    "$before" "$after" "$COLD" "$(( (after - before) * 1024 / COLD ))"
printf 'bound: max_size %s bytes per level; RSS after %s unique names: %s KB (lost %s)\n' \
    "$BOUND" "$UNIQUE" "$bound" "$(lost "$out/unique-run.txt")"
limit() { awk -v key="$1" '$1 == key { print $2 }' "$here/cachemiss.thresholds"; }
ratio=$(median < "$out/ratios-swiftlet.txt")
worst_lost=$(for r in $(seq "$ROUNDS"); do lost "$out/swiftlet-$r.txt"; done | sort -n | tail -1)
per_name=$(( (after - before) * 1024 / COLD ))
growth=$(awk -v b="$bound" -v a="$before" -v m="$BOUND" 'BEGIN { printf "%.2f", (b - a) * 1024 / (2 * m) }')
references=$(for server in $REFERENCES; do [ -f "$out/ratios-$server.txt" ] && median < "$out/ratios-$server.txt"; done | median)
bad=0
[ "$worst_lost" -le "$(limit lost_max)" ] || { echo "lost $worst_lost > $(limit lost_max)"; bad=1; }
awk -v r="$ratio" -v m="$(limit miss_latency_ratio_max)" 'BEGIN { exit !(r <= m) }' \
    || { echo "miss latency ratio $ratio > $(limit miss_latency_ratio_max)"; bad=1; }
if [ -n "$references" ]; then
    awk -v r="$ratio" -v ref="$references" -v m="$(limit miss_latency_vs_reference_median_max)" \
        'BEGIN { exit !(r <= ref * m) }' \
        || { echo "miss latency ratio $ratio > $(limit miss_latency_vs_reference_median_max) x the references' median $references"; bad=1; }
fi
[ "$per_name" -le "$(limit bytes_per_name_max)" ] || { echo "$per_name bytes per name > $(limit bytes_per_name_max)"; bad=1; }
if [ "$UNIQUE" -ge 200000 ]; then
    awk -v g="$growth" -v m="$(limit bound_growth_vs_max_size_max)" 'BEGIN { exit !(g <= m) }' \
        || { echo "RSS growth at the bound ${growth}x max_size > $(limit bound_growth_vs_max_size_max)"; bad=1; }
fi
[ "$bad" = 0 ] || exit 1
echo "cachemiss: within bench/cachemiss.thresholds (bound growth ${growth}x the two levels' max_size)"
