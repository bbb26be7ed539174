#!/usr/bin/env bash
# encrypted.sh: DNS over TLS and DNS over HTTPS cache-hit QPS and tail latency: Swiftlet's DoT and DoH next to its
# own plain TCP, unbound's tls-port and https-port, and dnsdist's addTLSLocal and addDOHLocal, in one interleaved
# run. Every server answers the same 1,000 names of bench.test from memory (Swiftlet from the message cache, unbound
# from local-data, dnsdist from its packet cache, warmed first); each runs one thread pinned to CPU 0, and dnsperf
# (-m tcp / dot / doh with GET, persistent connections) runs on CPU 1. QPS rounds are followed by one latency round
# per server at a fixed, lower rate (dnsperf -Q, -v: each reply's time), from which p50 and p99 are taken.
#   bash bench/encrypted.sh                # ROUNDS=3 DURATION=5 CLIENTS=8 LATENCY_QPS=20000
# Bars (bench/encrypted.thresholds): Swiftlet's DoT and DoH QPS ahead of the best reference's; the goal DoT >= 0.8x
# its plain TCP is printed, not enforced (a TLS record per reply costs the client core as much as the server's).
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=$here/out/encrypted
mkdir -p "$out"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CLIENTS=${CLIENTS:-8}
LATENCY_QPS=${LATENCY_QPS:-20000}
command -v dnsperf > /dev/null || { echo "encrypted.sh: dnsperf is needed (apt-get install dnsperf)" >&2; exit 2; }

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
    https: { listen: ["127.0.0.1:5332"], cert: $out/server.pem, key: $out/server.key }
    max_tcp_connections_per_client: 64
    plugins:
      - hosts: { file: $out/bench.hosts, ttl: 86400, reload_interval: 0 }
YAML
"$swiftlet" check --config "$out/swiftlet.yaml" >&2

{
    echo "server:"
    echo "    interface: 127.0.0.1@5341"
    echo "    tls-port: 5341"
    echo "    interface: 127.0.0.1@5342"
    echo "    https-port: 5342"
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
addDOHLocal("127.0.0.1:5352", "$out/server.pem", "$out/server.key", "/dns-query")
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
ready 5330 && ready 5350 || { echo "encrypted.sh: servers did not start" >&2; exit 1; }
# dnsperf's options for a mode on a port.
perf() {
    local mode=$1 port=$2
    shift 2
    if [ "$mode" = doh ]; then
        taskset -c 1 dnsperf -m doh -s 127.0.0.1 -p "$port" -O "doh-uri=https://127.0.0.1:$port/dns-query" \
            -O doh-method=GET -d "$out/queries.txt" "$@"
    else
        taskset -c 1 dnsperf -m "$mode" -s 127.0.0.1 -p "$port" -d "$out/queries.txt" "$@"
    fi
}
# Warm every cache over the transport measured.
for run in "dot 5331" "dot 5351" "doh 5332" "doh 5352"; do
    read -r mode port <<< "$run"
    perf "$mode" "$port" -n 1 > /dev/null 2>&1 || true
done

# name mode port
runs=("swiftlet-tcp tcp 5330" "swiftlet-dot dot 5331" "unbound-dot dot 5341" "dnsdist-dot dot 5351"
    "swiftlet-doh doh 5332" "unbound-doh doh 5342" "dnsdist-doh doh 5352")
for round in $(seq 1 "$ROUNDS"); do
    for run in "${runs[@]}"; do
        read -r name mode port <<< "$run"
        perf "$mode" "$port" -l "$DURATION" -c "$CLIENTS" -q 256 > "$out/$name.$round.txt" 2>&1 || true
        qps=$(awk '/Queries per second/ { print $4; exit }' "$out/$name.$round.txt")
        latency=$(awk '/Average Latency/ { print $4; exit }' "$out/$name.$round.txt")
        lost=$(awk '/Queries lost/ { print $3; exit }' "$out/$name.$round.txt")
        echo "round $round $name qps ${qps:-0} avg_latency_s ${latency:-?} lost ${lost:-?}"
    done
done | tee "$out/rounds.txt"

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Latency at a rate every server sustains: dnsperf -v prints each reply's time (its last field, in seconds).
for run in "${runs[@]}"; do
    read -r name mode port <<< "$run"
    perf "$mode" "$port" -l "$DURATION" -c "$CLIENTS" -q 64 -Q "$LATENCY_QPS" -v > "$out/$name.latency.txt" 2>&1 || true
    awk '$1 == ">" && $2 == "NOERROR" { print $NF * 1000 }' "$out/$name.latency.txt" | sort -n > "$out/$name.latency.ms"
done
percentile() { awk -v p="$2" '{ v[NR] = $1 } END { if (NR == 0) print "?"; else { i = int(NR * p / 100); if (i < 1) i = 1; printf "%.3f", v[i] } }' "$1"; }
declare -A med
for run in "${runs[@]}"; do
    read -r name _ _ <<< "$run"
    med[$name]=$(awk -v n="$name" '$3 == n { print $5 }' "$out/rounds.txt" | median)
done
echo
printf '%-14s %12s %10s %10s\n' server median_qps p50_ms p99_ms
for run in "${runs[@]}"; do
    read -r name _ _ <<< "$run"
    printf '%-14s %12s %10s %10s\n' "$name" "${med[$name]}" "$(percentile "$out/$name.latency.ms" 50)" \
        "$(percentile "$out/$name.latency.ms" 99)"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
best_dot=$(printf '%s\n' "${med[unbound-dot]}" "${med[dnsdist-dot]}" | sort -n | tail -1)
best_doh=$(printf '%s\n' "${med[unbound-doh]}" "${med[dnsdist-doh]}" | sort -n | tail -1)
dot_vs_best=$(ratio "${med[swiftlet-dot]}" "$best_dot")
doh_vs_best=$(ratio "${med[swiftlet-doh]}" "$best_doh")
echo "swiftlet DoT: ${dot_vs_best}x the best reference's DoT, $(ratio "${med[swiftlet-dot]}" "${med[swiftlet-tcp]}")x its own plain TCP (goal 0.8)"
echo "swiftlet DoH: ${doh_vs_best}x the best reference's DoH, $(ratio "${med[swiftlet-doh]}" "${med[swiftlet-tcp]}")x its own plain TCP"
limit() { awk -v key="$1" '$1 == key { print $2 }' "$here/encrypted.thresholds"; }
failed=0
awk -v a="$dot_vs_best" -v b="$(limit dot_vs_best_reference_min)" 'BEGIN { exit !(a >= b) }' \
    || { echo "DoT ${dot_vs_best}x the best reference < $(limit dot_vs_best_reference_min)"; failed=1; }
awk -v a="$doh_vs_best" -v b="$(limit doh_vs_best_reference_min)" 'BEGIN { exit !(a >= b) }' \
    || { echo "DoH ${doh_vs_best}x the best reference < $(limit doh_vs_best_reference_min)"; failed=1; }
[ "$failed" = 0 ] || exit 1
echo "encrypted: within bench/encrypted.thresholds"
