#!/usr/bin/env bash
# dot.sh: DNS over TLS cache-hit QPS: Swiftlet's DoT next to its own plain TCP, unbound's tls-port and dnsdist's
# addTLSLocal, in one interleaved run. Every server answers the same 1,000 names of bench.test from memory (Swiftlet
# from the message cache, unbound from local-data, dnsdist from its packet cache, warmed first); each runs one
# thread pinned to CPU 0, and dnsperf (-m dot / -m tcp, persistent connections) runs on CPU 1.
#   bash bench/dot.sh                      # ROUNDS=3 DURATION=5 CLIENTS=8
# Bars (bench/dot.thresholds): Swiftlet's DoT QPS ahead of the best reference's; the goal DoT >= 0.8x its plain TCP
# is printed, not enforced (a TLS record per reply costs the client core as much as the server's).
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=$here/out/dot
mkdir -p "$out"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CLIENTS=${CLIENTS:-8}
command -v dnsperf > /dev/null || { echo "dot.sh: dnsperf is needed (apt-get install dnsperf)" >&2; exit 2; }

# The certificate every server presents.
if [ ! -s "$out/server.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -keyout "$out/server.key" \
        -out "$out/server.pem" -subj /CN=dns.test -addext subjectAltName=DNS:dns.test,IP:127.0.0.1 2> /dev/null
fi
for i in $(seq 0 999); do echo "n$i.bench.test A"; done > "$out/queries.txt"
awk 'BEGIN { for (i = 0; i < 1000; i++) printf "198.18.%d.%d n%d.bench.test\n", int(i / 256), i % 256, i }' > "$out/bench.hosts"

cat > "$out/swiftlet.yaml" <<YAML
servers:
  - listen: ["127.0.0.1:5330"]
    workers: 1
    tls: { listen: ["127.0.0.1:5331"], cert: $out/server.pem, key: $out/server.key }
    max_tcp_connections_per_client: 64
    plugins:
      - hosts: { file: $out/bench.hosts, ttl: 86400, reload_interval: 0 }
YAML
"$swiftlet" check --config "$out/swiftlet.yaml" >&2

{
    echo "server:"
    echo "    interface: 127.0.0.1@5341"
    echo "    tls-port: 5341"
    echo "    tls-service-key: \"$out/server.key\""
    echo "    tls-service-pem: \"$out/server.pem\""
    echo "    num-threads: 1"
    echo "    do-daemonize: no"
    echo "    username: \"\""
    echo "    chroot: \"\""
    echo "    directory: \"$out\""
    echo "    pidfile: \"\""
    echo "    use-syslog: no"
    echo "    verbosity: 0"
    echo "    access-control: 127.0.0.0/8 allow"
    echo "    incoming-num-tcp: 256"
    echo "    module-config: \"iterator\""
    echo "    local-zone: \"bench.test.\" static"
    awk '{ printf "    local-data: \"%s 86400 IN A %s\"\n", $2, $1 }' "$out/bench.hosts"
    echo "remote-control:"
    echo "    control-enable: no"
} > "$out/unbound.conf"

cat > "$out/dnsdist.conf" <<LUA
setLocal("127.0.0.1:5350")
addTLSLocal("127.0.0.1:5351", "$out/server.pem", "$out/server.key")
newServer({address="127.0.0.1:5330"})
pc = newPacketCache(100000, {maxTTL=86400, minTTL=0})
getPool(""):setCache(pc)
setMaxTCPConnectionsPerClient(256)
LUA

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done; }
trap cleanup EXIT
taskset -c 0 "$swiftlet" run --config "$out/swiftlet.yaml" > "$out/swiftlet.log" 2>&1 &
pids+=($!)
taskset -c 0 unbound -d -c "$out/unbound.conf" > "$out/unbound.log" 2>&1 &
pids+=($!)
taskset -c 0 dnsdist --supervised --disable-syslog -C "$out/dnsdist.conf" > "$out/dnsdist.log" 2>&1 &
pids+=($!)
ready() { for _ in $(seq 1 100); do dig +short +time=1 +tries=1 @127.0.0.1 -p "$1" n1.bench.test A > /dev/null 2>&1 && return 0; done; return 1; }
ready 5330 && ready 5350 || { echo "dot.sh: servers did not start" >&2; exit 1; }
# Warm every cache over the transport measured.
for port in 5331 5351; do
    taskset -c 1 dnsperf -m dot -s 127.0.0.1 -p "$port" -d "$out/queries.txt" -n 1 > /dev/null 2>&1 || true
done

# name mode port
runs=("swiftlet-tcp tcp 5330" "swiftlet-dot dot 5331" "unbound-dot dot 5341" "dnsdist-dot dot 5351")
for round in $(seq 1 "$ROUNDS"); do
    for run in "${runs[@]}"; do
        read -r name mode port <<< "$run"
        taskset -c 1 dnsperf -m "$mode" -s 127.0.0.1 -p "$port" -d "$out/queries.txt" -l "$DURATION" -c "$CLIENTS" -q 256 \
            > "$out/$name.$round.txt" 2>&1 || true
        qps=$(awk '/Queries per second/ { print $4; exit }' "$out/$name.$round.txt")
        latency=$(awk '/Average Latency/ { print $4; exit }' "$out/$name.$round.txt")
        lost=$(awk '/Queries lost/ { print $3; exit }' "$out/$name.$round.txt")
        echo "round $round $name qps ${qps:-0} avg_latency_s ${latency:-?} lost ${lost:-?}"
    done
done | tee "$out/rounds.txt"

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A med
for run in "${runs[@]}"; do
    read -r name _ _ <<< "$run"
    med[$name]=$(awk -v n="$name" '$3 == n { print $5 }' "$out/rounds.txt" | median)
done
echo
printf '%-14s %12s\n' server median_qps
for run in "${runs[@]}"; do read -r name _ _ <<< "$run"; printf '%-14s %12s\n' "$name" "${med[$name]}"; done
best=$(printf '%s\n' "${med[unbound-dot]}" "${med[dnsdist-dot]}" | sort -n | tail -1)
vs_best=$(awk -v a="${med[swiftlet-dot]}" -v b="$best" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
vs_tcp=$(awk -v a="${med[swiftlet-dot]}" -v b="${med[swiftlet-tcp]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
echo "swiftlet DoT: ${vs_best}x the best reference's DoT, ${vs_tcp}x its own plain TCP (goal 0.8)"
limit() { awk -v key="$1" '$1 == key { print $2 }' "$here/dot.thresholds"; }
awk -v a="$vs_best" -v b="$(limit dot_vs_best_reference_min)" 'BEGIN { exit !(a >= b) }' \
    || { echo "DoT ${vs_best}x the best reference < $(limit dot_vs_best_reference_min)"; exit 1; }
echo "dot: within bench/dot.thresholds"
