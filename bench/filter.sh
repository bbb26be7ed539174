#!/usr/bin/env bash
# filter.sh: the filter plugin blocking N names (default 1,000,000) next to unbound (`local-zone … always_nxdomain`)
# and dnsdist (`SuffixMatchNode`), in one interleaved run of ../shared/bench/filter.sh: start/load time, memory
# (RSS, bytes per name) and blocked-answer QPS.
#   bash bench/filter.sh
#   N=100000 ROUNDS=3 DURATION=5 bash bench/filter.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=$here/out/filter
mkdir -p "$out"
bash "$shared/filter.sh" gen >&2
names=$BENCH_OUT/filter/names.txt
for variant in full base; do
    list=$names
    [ "$variant" = base ] && list=$BENCH_OUT/filter/names-1.txt
    cat > "$out/$variant.yaml" <<YAML
servers:
  - listen: ["127.0.0.1:${SWIFTLET_PORT:-5320}"]
    workers: 1
    plugins:
      - filter: { lists: [{ name: bench, source: $list }], response: nxdomain, reload_interval: 0 }
YAML
done
"$swiftlet" check --config "$out/full.yaml" >&2
SWIFTLET=$swiftlet SWIFTLET_CONFIG=$out/full.yaml SWIFTLET_BASE_CONFIG=$out/base.yaml bash "$shared/filter.sh"
