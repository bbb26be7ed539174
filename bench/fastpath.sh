#!/usr/bin/env bash
# fastpath.sh: hosts-answered queries through Swiftlet's fast path, next to unbound, dnsdist and the C responder,
# in one interleaved run of ../shared/bench/cachehit.sh (server on CPU 0, one worker; client on CPU 1).
#   bash bench/fastpath.sh                         # responder unbound dnsdist swiftlet, blast + dnsperf
#   ROUNDS=3 DURATION=5 CLIENT=blast bash bench/fastpath.sh
#   FASTPATH_PLUGINS='      - ratelimit: {…}' bash bench/fastpath.sh   # plugin lines before hosts (bench/ratelimit.sh)
# Every name the benchmark asks (n0…n99999.bench.test) is in a generated hosts file, so after the warm-up pass
# every Swiftlet answer is a message-cache hit, as every reference server's is a cache hit.
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=$here/out/fastpath
mkdir -p "$out"

# The names of the benchmark zone, as a hosts file (addresses as in the zone: 198.18.x.y).
if [ ! -s "$out/bench.hosts" ]; then
    awk 'BEGIN { print "192.0.2.53 ns.bench.test"; for (i = 0; i < 100000; i++) printf "198.%d.%d.%d n%d.bench.test\n", 18 + int(i / 65536), int(i / 256) % 256, i % 256, i }' > "$out/bench.hosts"
fi
cat > "$out/fastpath.yaml" <<YAML
servers:
  - listen: ["127.0.0.1:${SWIFTLET_PORT:-5320}"]
    workers: 1
    plugins:
${FASTPATH_PLUGINS:-}
      - hosts: { file: $out/bench.hosts, ttl: 86400, reload_interval: 0 }
YAML
"$swiftlet" check --config "$out/fastpath.yaml" >&2

SWIFTLET=$swiftlet SWIFTLET_CACHE_CONFIG=$out/fastpath.yaml SERVERS=${SERVERS:-responder unbound dnsdist swiftlet} \
    bash "$shared/cachehit.sh"
