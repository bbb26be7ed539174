#!/usr/bin/env bash
# cachehit.sh: cache-hit QPS of Swiftlet as a caching forwarder (cache + forward to the knotd upstream on
# 127.0.0.1:5300), next to unbound, dnsdist, kresd and the C responder, in one interleaved run of
# ../shared/bench/cachehit.sh (server on CPU 0, one worker; client on CPU 1).
#   bash bench/cachehit.sh
#   ROUNDS=3 DURATION=5 CLIENT=blast SERVERS="responder unbound dnsdist swiftlet" bash bench/cachehit.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=$here/out/cachehit
mkdir -p "$out"
cat > "$out/cachehit.yaml" <<YAML
servers:
  - listen: ["127.0.0.1:${SWIFTLET_PORT:-5320}"]
    workers: 1
    plugins:
      - cache: {}
      - forward: { to: ["127.0.0.1:5300"] }
YAML
"$swiftlet" check --config "$out/cachehit.yaml" >&2
SWIFTLET=$swiftlet SWIFTLET_CACHE_CONFIG=$out/cachehit.yaml SERVERS=${SERVERS:-responder unbound dnsdist kresd swiftlet} \
    bash "$shared/cachehit.sh"
