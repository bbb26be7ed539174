#!/usr/bin/env bash
# recursion.sh: the recursive plugin on ../shared/bench's fake Internet (13 knotd on 127.0.0.x:53) next to unbound and
# kresd, in one interleaved run of ../shared/bench/recursion.sh: cold resolution of 5,954 names at a fixed rate
# (median and p99 latency, losses, upstream queries), then cache-hit QPS on one core. The figures are checked against
# bench/recursion.thresholds; a miss exits 1.
#   bash bench/recursion.sh
#   ROUNDS=1 DURATION=5 bash bench/recursion.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=$here/out/recursion
mkdir -p "$out"
cat > "$out/recursive.yaml" <<YAML
servers:
  - listen: ["127.0.0.1:${SWIFTLET_PORT:-5320}"]
    workers: 1
    plugins:
      - cache: {}
      - recursive:
          root_hints: $BENCH_OUT/fakenet/root.hints
          allow_loopback: true
          ipv6: off
log: { level: warning }
YAML
RESOLVERS=${RESOLVERS:-unbound kresd} SWIFTLET=$swiftlet SWIFTLET_CONFIG=$out/recursive.yaml \
    bash "$shared/recursion.sh" | tee "$out/last.txt"
# Memory per cached name: swiftlet alone on the fake Internet, RSS before and after the cold pass.
summary="$(ls -td "$BENCH_OUT"/recursion-*/ | head -1)summary.txt"
source "$shared/fakenet.sh"
fakenet_start >&2
"$swiftlet" run --config "$out/recursive.yaml" > "$out/memory-server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; fakenet_stop >/dev/null 2>&1 || true' EXIT
for _ in $(seq 50); do dig +time=1 +tries=1 @127.0.0.1 -p "${SWIFTLET_PORT:-5320}" localhost. A >/dev/null 2>&1 && break; sleep 0.1; done
before=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
names=$(wc -l < "$FAKENET_OUT/queries.txt")
dnsperf -s 127.0.0.1 -p "${SWIFTLET_PORT:-5320}" -d "$FAKENET_OUT/queries.txt" -Q 2000 -l 0 -n 1 > "$out/memory-dnsperf.txt" 2>&1 || true
after=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
echo "memory: RSS $before KB before, $after KB after $names cold names: $(( (after - before) * 1024 / names )) bytes per name (both cache levels, delegations and infrastructure included)" | tee -a "$out/last.txt"
# resolver cold_p50 cold_p99 lost upstr_q root tld sld warm_qps vs_best rcodes
awk -v thresholds="$here/recursion.thresholds" '
    BEGIN { while ((getline line < thresholds) > 0) { split(line, f, " "); if (f[1] !~ /^#/ && f[1] != "") limit[f[1]] = f[2] } }
    $1 == "unbound" { unbound_q = $5 }
    $1 == "swiftlet" { p50 = $2; p99 = $3; lost = $4; q = $5; vs = $10; seen = 1 }
    END {
        if (!seen) { print "recursion: no swiftlet row (it failed the answer check?)"; exit 1 }
        bad = 0
        if (lost > limit["lost_max"]) { print "lost " lost " > " limit["lost_max"]; bad = 1 }
        if (p50 > limit["cold_p50_ms_max"]) { print "cold p50 " p50 " ms > " limit["cold_p50_ms_max"]; bad = 1 }
        if (p99 > limit["cold_p99_ms_max"]) { print "cold p99 " p99 " ms > " limit["cold_p99_ms_max"]; bad = 1 }
        if (unbound_q > 0 && q / unbound_q > limit["upstream_queries_vs_unbound_max"]) {
            print "upstream queries " q " vs unbound " unbound_q; bad = 1 }
        if (vs < limit["warm_vs_best_min"]) { print "warm QPS " vs " of the best reference < " limit["warm_vs_best_min"]; bad = 1 }
        if (bad) exit 1
        print "recursion: within bench/recursion.thresholds"
    }' "$summary"
