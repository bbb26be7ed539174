#!/usr/bin/env bash
# cachemiss.sh: Swiftlet as a caching forwarder (cache + forward) on cold names, against asking its knotd upstream
# directly.
#   latency: bench/latency.c asks each of LATENCY cold names of every server in turn, one query at a time: knotd
#     directly, bench/forwarder.c (the trivial forwarder: no cache, no checks, the floor of one extra loopback hop),
#     the reference forwarders (REFERENCES, started with empty caches) and Swiftlet. Asking name by name keeps all
#     servers under the same conditions as the VM's speed drifts; the median round trip of each, as a ratio to
#     knotd's, is what is compared (an average is swung by a few late vCPU wake-ups).
#   losses: COLD other cold names at RATE queries/s with dnsperf (none may be lost).
#   memory: RSS per cached name over that run, and RSS at the `max_size` bound after UNIQUE unique (NXDOMAIN) names.
# The figures are checked against bench/cachemiss.thresholds; a miss exits 1.
#   bash bench/cachemiss.sh     # LATENCY=5000 names GAP=200 µs apart; RATE=2000 q/s of COLD=20000 names;
#                               # UNIQUE=200000 names against BOUND=16 MiB
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=$here/out/cachemiss
mkdir -p "$out"
LATENCY=${LATENCY:-5000}
GAP=${GAP:-200}
RATE=${RATE:-2000}
COLD=${COLD:-20000}
UNIQUE=${UNIQUE:-200000}
BOUND=${BOUND:-16777216}
REFERENCES=${REFERENCES:-unbound dnsdist kresd}
bash "$shared/servers.sh" prepare >&2
cc -O2 -o "$BENCH_BIN/forwarder" "$here/forwarder.c"
cc -O2 -o "$BENCH_BIN/latency" "$here/latency.c"
zones=$BENCH_OUT/zones
# The zone's names as queries, made by servers.sh's bench_queries on first use (auth.sh makes the same file).
(source "$shared/servers.sh" && bench_queries 100000 >/dev/null)
# Two disjoint sets of cold names: the first LATENCY for the latency probe, the next COLD for the dnsperf run.
shuf -n "$((LATENCY + COLD))" --random-source=<(yes) "$zones/queries-100000.txt" > "$out/names.txt"
head -n "$LATENCY" "$out/names.txt" > "$out/probe.txt"
tail -n "+$((LATENCY + 1))" "$out/names.txt" > "$out/cold.txt"
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
lost() { awk '/Queries lost/ { print $3 }' "$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
exec 9>/tmp/bench.lock
flock -w 3600 9
source "$shared/servers.sh"
started=
trap '(cd "$shared" && bash servers.sh stop upstream $started >&2); for p in ${pid:-} ${floor_pid:-}; do kill "$p" 2>/dev/null; done' EXIT
(cd "$shared" && bash servers.sh start upstream >&2)
ports=(5300 5321)
servers=(knotd floor)
for reference in $REFERENCES; do
    (cd "$shared" && bash servers.sh start "$reference" >&2) || { echo "$reference did not start" >&2; continue; }
    started="$started $reference"
    ports+=("${BENCH_PORT[$reference]}")
    servers+=("$reference")
done
taskset -c 0 "$BENCH_BIN/forwarder" 5321 5300 &
floor_pid=$!
taskset -c 0 "$swiftlet" run --config "$out/miss.yaml" 2> "$out/swiftlet.log" &
pid=$!
ports+=(5320)
servers+=(swiftlet)
for _ in $(seq 100); do dig @127.0.0.1 -p 5320 ns.bench.test +short +time=1 +tries=1 >/dev/null 2>&1 && break; sleep 0.1; done
taskset -c 1 "$BENCH_BIN/latency" "$(IFS=,; echo "${ports[*]}")" "$out/probe.txt" "$GAP" > "$out/latency.txt"
before=$(rss "$pid")
taskset -c 1 dnsperf -s 127.0.0.1 -p 5320 -d "$out/cold.txt" -Q "$RATE" -l 0 -n 1 > "$out/dnsperf.txt" 2>&1 || true
after=$(rss "$pid")
taskset -c 1 dnsperf -s 127.0.0.1 -p 5320 -d "$out/unique.txt" -Q 20000 -l 0 -n 1 > "$out/unique-run.txt" 2>&1 || true
bound=$(rss "$pid")
# field N of the latency line of server S
field() { awk -v port="${ports[$1]}" -v key="$2" '$2 == port { for (i = 3; i < NF; i++) if ($i == key) print $(i + 1) }' "$out/latency.txt"; }
direct=$(field 0 p50_us)
printf 'cold names: %s, one at a time, %s µs apart, asked of each server in turn (median round trip, ratio to knotd)\n' \
    "$LATENCY" "$GAP"
declare -A ratio
for i in "${!servers[@]}"; do
    ratio[${servers[$i]}]=$(awk -v a="$(field "$i" p50_us)" -v b="$direct" 'BEGIN { printf "%.3f", a / b }')
    printf '  %-10s p50 %6s µs  ratio %s  (mean %s, p90 %s, p99 %s µs; lost %s)\n' "${servers[$i]}:" \
        "$(field "$i" p50_us)" "${ratio[${servers[$i]}]}" "$(field "$i" mean_us)" "$(field "$i" p90_us)" \
        "$(field "$i" p99_us)" "$(field "$i" lost)"
done
printf 'losses: %s cold names at %s q/s: lost %s\n' "$COLD" "$RATE" "$(lost "$out/dnsperf.txt")"
per_name=$(( (after - before) * 1024 / COLD ))
printf 'memory: %s KB before, %s KB after %s entries: %s bytes per cached name (both cache levels)\n' \
    "$before" "$after" "$COLD" "$per_name"
printf 'bound: max_size %s bytes per level; RSS after %s unique names: %s KB (lost %s)\n' \
    "$BOUND" "$UNIQUE" "$bound" "$(lost "$out/unique-run.txt")"
limit() { awk -v key="$1" '$1 == key { print $2 }' "$here/cachemiss.thresholds"; }
within() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
mine=${ratio[swiftlet]}
references=$(for server in $started; do echo "${ratio[$server]}"; done | median)
growth=$(awk -v b="$bound" -v a="$before" -v m="$BOUND" 'BEGIN { printf "%.2f", (b - a) * 1024 / (2 * m) }')
worst_lost=$(( $(lost "$out/dnsperf.txt") + $(field "$((${#servers[@]} - 1))" lost) ))
bad=0
[ "$worst_lost" -le "$(limit lost_max)" ] || { echo "lost $worst_lost > $(limit lost_max)"; bad=1; }
within "$mine" "$(limit miss_latency_ratio_max)" || { echo "miss latency ratio $mine > $(limit miss_latency_ratio_max)"; bad=1; }
within "$mine" "$(awk -v f="${ratio[floor]}" -v m="$(limit miss_latency_vs_floor_max)" 'BEGIN { print f * m }')" \
    || { echo "miss latency ratio $mine > $(limit miss_latency_vs_floor_max) x the trivial forwarder's ${ratio[floor]}"; bad=1; }
if [ -n "$references" ]; then
    within "$mine" "$(awk -v r="$references" -v m="$(limit miss_latency_vs_reference_median_max)" 'BEGIN { print r * m }')" \
        || { echo "miss latency ratio $mine > $(limit miss_latency_vs_reference_median_max) x the references' median $references"; bad=1; }
fi
[ "$per_name" -le "$(limit bytes_per_name_max)" ] || { echo "$per_name bytes per name > $(limit bytes_per_name_max)"; bad=1; }
if [ "$UNIQUE" -ge 200000 ]; then
    within "$growth" "$(limit bound_growth_vs_max_size_max)" \
        || { echo "RSS growth at the bound ${growth}x max_size > $(limit bound_growth_vs_max_size_max)"; bad=1; }
fi
[ "$bad" = 0 ] || exit 1
echo "cachemiss: within bench/cachemiss.thresholds (references' median ratio $references; bound growth ${growth}x the two levels' max_size)"
