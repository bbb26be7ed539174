#!/usr/bin/env bash
# zone-load.sh: load time and memory of a generated 1,000,000-record zone (A, AAAA, TXT and MX mix),
# measured by `swiftlet check` (parse + zone checks + chain build) and by a server answering its first query.
#   bash bench/zone-load.sh            # N=1000000
#   N=100000 bash bench/zone-load.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=$here/out/zone-load
mkdir -p "$out"
N=${N:-1000000}
zone=$out/load.example.$N.zone
if [ ! -s "$zone" ]; then
    awk -v n="$N" 'BEGIN {
        print "$ORIGIN load.example."; print "$TTL 3600"
        print "@ SOA ns.load.example. hostmaster.load.example. 1 7200 3600 1209600 300"
        print "@ NS ns"; print "ns A 192.0.2.53"
        for (i = 0; i < n - 3; i++) {
            k = i % 10
            if (k < 6) printf "h%d A 198.%d.%d.%d\n", i, 18 + int(i / 65536) % 2, int(i / 256) % 256, i % 256
            else if (k < 8) printf "h%d AAAA 2001:db8::%x:%x\n", i, int(i / 65536), i % 65536
            else if (k == 8) printf "h%d TXT \"record %d\"\n", i, i
            else printf "h%d MX 10 h%d\n", i, i - 1
        }
    }' > "$zone"
fi
cat > "$out/load.yaml" <<YAML
servers:
  - listen: ["127.0.0.1:5329"]
    workers: 1
    plugins:
      - zone: { zones: [{ origin: load.example., file: $zone }], reload_interval: 0 }
YAML
echo "zone: $(wc -l < "$zone") lines, $(du -h "$zone" | cut -f1)"
/usr/bin/time -f "check: %e s elapsed, %M KB max RSS" "$swiftlet" check --config "$out/load.yaml" 2>&1 | grep -vE " info "
