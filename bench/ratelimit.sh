#!/usr/bin/env bash
# ratelimit.sh: what `ratelimit` costs the fast path, and what it does under a flood.
#
# 1. Cost: hosts answers from the message cache (one worker on CPU 0, blast on CPU 1) with the plain chain and with
#    `ratelimit` in front of it, both limits on and every client under them (loopback not exempt, so every query is
#    counted and every reply checked), alternating every DURATION seconds. Bar (bench/ratelimit.thresholds):
#    ratelimit-on QPS >= qps_ratio_min x off.
# 2. Flood: bench/spoof.c sends from random sources in 127.64.0.0/10 as fast as one core allows (the 2,000 names
#    the message cache was warmed with, so what grows is the limits' tables), while
#    bench/latency.c asks as a legitimate client (127.0.0.1) one query at a time; the server's RSS is read before
#    and after. Bars: the legitimate client loses at most legit_lost_max_percent of its queries; RSS grows by no
#    more than the tables' configured size (rss_growth_max_vs_tables x 2 x table_size x 40 octets).
#   bash bench/ratelimit.sh                 # PAIRS=30 DURATION=2; FLOOD_SECONDS=10; COST_ONLY=1 skips the flood
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=$here/out/ratelimit
mkdir -p "$out"
FLOOD_SECONDS=${FLOOD_SECONDS:-10}
TABLE_SIZE=${TABLE_SIZE:-16384}
limit() { awk -v key="$1" '$1 == key { print $2 }' "$here/ratelimit.thresholds"; }
within() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
on_plugins="      - ratelimit: { client: { qps: 100000000, burst: 1000000 }, responses: { rate: 100000000 }, exempt: [], table_size: $TABLE_SIZE }"

# 1. Cost, interleaved: both servers run at once (pinned to CPU 0, the idle one costs nothing), and blast (CPU 1)
# asks one, then the other, PAIRS times for DURATION seconds each, so both see the same drift of the VM; the ratio is
# the median of the pairs' on/off ratios.
PAIRS=${PAIRS:-30}
DURATION=${DURATION:-2}
bash "$shared/servers.sh" prepare >&2
blast=$BENCH_BIN/blast
if [ ! -s "$here/out/fastpath/bench.hosts" ]; then
    mkdir -p "$here/out/fastpath"
    awk 'BEGIN { print "192.0.2.53 ns.bench.test"; for (i = 0; i < 100000; i++) printf "198.%d.%d.%d n%d.bench.test\n", 18 + int(i / 65536), int(i / 256) % 256, i % 256, i }' > "$here/out/fastpath/bench.hosts"
fi
for i in $(seq 0 999); do echo "n$i.bench.test A"; done > "$out/queries.txt"
for side in off on; do
    port=5321
    plugins=""
    if [ "$side" = on ]; then port=5322; plugins=$on_plugins; fi
    cat > "$out/cost-$side.yaml" <<YAML
servers:
  - listen: ["127.0.0.1:$port"]
    workers: 1
    plugins:
$plugins
      - hosts: { file: $here/out/fastpath/bench.hosts, ttl: 86400, reload_interval: 0 }
YAML
    "$swiftlet" check --config "$out/cost-$side.yaml" >&2
done
taskset -c 0 "$swiftlet" run --config "$out/cost-off.yaml" > "$out/cost-off.log" 2>&1 &
off_pid=$!
taskset -c 0 "$swiftlet" run --config "$out/cost-on.yaml" > "$out/cost-on.log" 2>&1 &
on_pid=$!
trap 'kill $off_pid $on_pid 2>/dev/null || true' EXIT
for port in 5321 5322; do
    for _ in $(seq 1 100); do "$swiftlet" query "@127.0.0.1:$port" n1.bench.test A > /dev/null 2>&1 && break; done
    taskset -c 1 "$blast" -s 127.0.0.1 -p "$port" -d "$out/queries.txt" -l 1 -t 2 -c 1 -q 64 > /dev/null 2>&1 || true
done
qps() { awk '/Queries per second/ { printf "%d", $4 }' "$1"; }
: > "$out/pairs.txt"
for pair in $(seq 1 "$PAIRS"); do
    taskset -c 1 "$blast" -s 127.0.0.1 -p 5321 -d "$out/queries.txt" -l "$DURATION" -t 2 -c 1 -q 64 > "$out/blast-off.txt" 2>&1 || true
    taskset -c 1 "$blast" -s 127.0.0.1 -p 5322 -d "$out/queries.txt" -l "$DURATION" -t 2 -c 1 -q 64 > "$out/blast-on.txt" 2>&1 || true
    echo "$pair $(qps "$out/blast-off.txt") $(qps "$out/blast-on.txt")" >> "$out/pairs.txt"
done
kill $off_pid $on_pid 2>/dev/null || true
wait $off_pid $on_pid 2>/dev/null || true
trap - EXIT
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio=$(awk '$2 > 0 { printf "%.4f\n", $3 / $2 }' "$out/pairs.txt" | median)
ratio=$(awk -v r="$ratio" 'BEGIN { printf "%.3f", r }')
echo "fast path, $PAIRS interleaved pairs of ${DURATION}s (blast, one worker): ratelimit off $(awk '{ print $2 }' "$out/pairs.txt" | median) qps, on $(awk '{ print $3 }' "$out/pairs.txt" | median) qps (medians); on/off ${ratio}x (median of the pairs' ratios)"

if [ -n "${COST_ONLY:-}" ]; then
    within "$(limit qps_ratio_min)" "$ratio" || { echo "ratelimit on/off $ratio < $(limit qps_ratio_min)"; exit 1; }
    exit 0
fi

# 2. Flood.
cc -O2 -o "$BENCH_BIN/spoof" "$here/spoof.c"
cc -O2 -o "$BENCH_BIN/latency" "$here/latency.c"
port=${SWIFTLET_PORT:-5320}
cat > "$out/flood.yaml" <<YAML
servers:
  - listen: ["127.0.0.1:$port"]
    workers: 1
    plugins:
      - ratelimit: { client: { qps: 50, burst: 100 }, responses: { rate: 20, slip: 2 }, exempt: ["127.0.0.1/32"], table_size: $TABLE_SIZE }
      - hosts: { file: $here/out/fastpath/bench.hosts, ttl: 86400, reload_interval: 0 }
YAML
"$swiftlet" check --config "$out/flood.yaml" >&2
for i in $(seq 0 1999); do echo "n$i.bench.test A"; done > "$out/legit.txt"
taskset -c 0 "$swiftlet" run --config "$out/flood.yaml" > "$out/flood-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    "$swiftlet" query "@127.0.0.1:$port" n1.bench.test A > /dev/null 2>&1 && break
done
# Warm the message cache with the names both clients ask.
taskset -c 1 "$BENCH_BIN/latency" "$port" "$out/legit.txt" 50 > /dev/null
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$server/status"; }
before=$(rss)
taskset -c 1 timeout "$((FLOOD_SECONDS + 5))" "$BENCH_BIN/spoof" "$port" "$FLOOD_SECONDS" 2000 > "$out/spoof.txt" &
flood=$!
taskset -c 1 "$BENCH_BIN/latency" "$port" "$out/legit.txt" 2000 > "$out/legit-under-flood.txt"
wait "$flood" || true
after=$(rss)
kill "$server"; wait "$server" 2>/dev/null || true
trap - EXIT
lost=$(awk '{ for (i = 1; i < NF; i++) if ($i == "lost") print $(i + 1) }' "$out/legit-under-flood.txt")
answered=$(awk '{ for (i = 1; i < NF; i++) if ($i == "answered") print $(i + 1) }' "$out/legit-under-flood.txt")
lost_percent=$(awk -v l="$lost" -v a="$answered" 'BEGIN { printf "%.2f", 100 * l / (l + a) }')
tables_kib=$(( 2 * TABLE_SIZE * 40 / 1024 ))
growth=$(( after - before ))
echo "flood: $(cat "$out/spoof.txt"); legitimate client: $(cat "$out/legit-under-flood.txt") (${lost_percent}% lost)"
echo "flood: server RSS $before KiB before, $after KiB after (+$growth KiB; the tables are $tables_kib KiB)"

bad=0
within "$(limit qps_ratio_min)" "$ratio" || { echo "ratelimit on/off $ratio < $(limit qps_ratio_min)"; bad=1; }
within "$lost_percent" "$(limit legit_lost_max_percent)" || { echo "legitimate client lost ${lost_percent}% > $(limit legit_lost_max_percent)%"; bad=1; }
within "$growth" "$(awk -v t="$tables_kib" -v m="$(limit rss_growth_max_vs_tables)" 'BEGIN { print t * m }')" \
    || { echo "RSS grew $growth KiB > $(limit rss_growth_max_vs_tables) x the tables' $tables_kib KiB"; bad=1; }
[ "$bad" = 0 ] || exit 1
echo "ratelimit: within bench/ratelimit.thresholds"
