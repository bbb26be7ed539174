#!/usr/bin/env bash
# ratelimit.sh: what `ratelimit` costs the fast path, and what it does under a flood.
#
# 1. Cost: bench/fastpath.sh (hosts answers from the message cache, one worker on CPU 0, blast on CPU 1) with the
#    plain chain and with `ratelimit` in front of it, both limits on and every client under them (loopback not
#    exempt, so every query is counted and every reply checked), the two alternating round by round in one run.
#    Bar (bench/ratelimit.thresholds): ratelimit-on QPS >= qps_ratio_min x off.
# 2. Flood: bench/spoof.c sends from random sources in 127.64.0.0/10 as fast as one core allows (the 2,000 names
#    the message cache was warmed with, so what grows is the limits' tables), while
#    bench/latency.c asks as a legitimate client (127.0.0.1) one query at a time; the server's RSS is read before
#    and after. Bars: the legitimate client loses at most legit_lost_max_percent of its queries; RSS grows by no
#    more than the tables' configured size (rss_growth_max_vs_tables x 2 x table_size x 40 octets).
#   bash bench/ratelimit.sh                 # ROUNDS=3 DURATION=5; FLOOD_SECONDS=10
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=$here/out/ratelimit
mkdir -p "$out"
ROUNDS=${ROUNDS:-3}
FLOOD_SECONDS=${FLOOD_SECONDS:-10}
TABLE_SIZE=${TABLE_SIZE:-16384}
limit() { awk -v key="$1" '$1 == key { print $2 }' "$here/ratelimit.thresholds"; }
within() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
on_plugins="      - ratelimit: { client: { qps: 100000000, burst: 1000000 }, responses: { rate: 100000000 }, exempt: [], table_size: $TABLE_SIZE }"

# 1. Cost, interleaved.
for round in $(seq 1 "$ROUNDS"); do
    for side in off on; do
        plugins=""
        [ "$side" = on ] && plugins=$on_plugins
        echo "ratelimit.sh: round $round, ratelimit $side" >&2
        SWIFTLET_BIN=$swiftlet ROUNDS=1 SERVERS="responder swiftlet" CLIENT=${CLIENT:-blast} FASTPATH_PLUGINS="$plugins" \
            bash "$here/fastpath.sh" > "$out/fastpath.$side.$round.txt" 2>&1 || true
    done
done
# The swiftlet row of each run's table: median_qps, and vs_resp (over the C responder measured next to it in the
# same run, which takes the VM's drift out of the comparison: the bar is on the vs_resp medians).
column() { awk -v c="$2" '$1 == "swiftlet" && $2 ~ /^[0-9]+$/ { print $c; exit }' "$1"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for side in off on; do
    for round in $(seq 1 "$ROUNDS"); do column "$out/fastpath.$side.$round.txt" 3; done | median > "$out/$side.qps"
    for round in $(seq 1 "$ROUNDS"); do column "$out/fastpath.$side.$round.txt" 6; done | median > "$out/$side.vs_resp"
done
ratio=$(awk -v a="$(cat "$out/on.vs_resp")" -v b="$(cat "$out/off.vs_resp")" 'BEGIN { printf "%.3f", a / b }')
echo "fast path, $ROUNDS interleaved rounds: ratelimit off $(cat "$out/off.qps") qps ($(cat "$out/off.vs_resp") of the responder),"
echo "  on $(cat "$out/on.qps") qps ($(cat "$out/on.vs_resp") of the responder): on/off ${ratio}x"
for round in $(seq 1 "$ROUNDS"); do
    echo "  round $round: off $(column "$out/fastpath.off.$round.txt" 3) ($(column "$out/fastpath.off.$round.txt" 6))" \
        "on $(column "$out/fastpath.on.$round.txt" 3) ($(column "$out/fastpath.on.$round.txt" 6))"
done

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
