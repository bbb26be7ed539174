#!/usr/bin/env bash
# Recreates the golden DNS wire packets in Tests/Fixtures/wire/ (and its README.md).
#
# - query-*.hex    : the exact UDP payload that dig / kdig send, caught by a small
#                    python3 UDP listener on 127.0.0.1 (it answers REFUSED so the
#                    client exits at once).
# - response-*.hex : the exact UDP (or TCP, without the 2-byte length) payload that
#                    knotd or unbound sends back to a query built byte by byte by
#                    python3 (the query bytes are in the file's comment line).
#
# knotd serves ../zones/example.org.zone on 127.0.0.1:$KNOT_PORT; unbound runs on
# 127.0.0.1:$UNBOUND_PORT and forwards everything to that knotd, with a small
# local-zone for example.net. Both configs are below (heredocs), in a temp dir.
#
# Needs: knot, knot-dnsutils (kdig), bind9-dnsutils (dig), unbound, python3 (stdlib
# only). On Debian: apt-get install -y knot knot-dnsutils bind9-dnsutils unbound
# Uses only 127.0.0.1. Run from anywhere: bash Tests/Fixtures/wire/capture.sh
#
# Fields that differ on every run (see README.md): the message ID and the client
# cookie of the dig/kdig queries. Everything in response-*.hex is deterministic
# (fixed IDs, static zone; unbound's cache is flushed before each of its queries).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ZONE="$(cd "$HERE/../zones" && pwd)/example.org.zone"
KNOT_PORT=${KNOT_PORT:-5391}
UNBOUND_PORT=${UNBOUND_PORT:-5392}

for tool in knotd kdig dig unbound python3; do
    command -v "$tool" >/dev/null || { echo "capture.sh: $tool not found" >&2; exit 1; }
done

KNOT_V=$(knotd -V | head -n1)                                  # knotd (Knot DNS), version X
KDIG_V=$(kdig -V | head -n1)                                   # kdig (Knot DNS), version X
UNBOUND_V="unbound $(unbound -V | head -n1 | sed 's/^Version //')"
DIG_V="dig $(dig -v 2>&1 | head -n1 | sed 's/^DiG //')"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/swiftlet-wire.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# ---------------------------------------------------------------- python helper
cat > "$WORK/wire.py" <<'PYEOF'
"""Tiny DNS wire helper for capture.sh (python3 stdlib only).

  wire.py client OUT PRODUCER -- CMD...   run CMD (its '@PORT@' replaced by a fresh
                                          UDP listener port), save the first
                                          datagram it sends, answer REFUSED
  wire.py ask OUT PRODUCER PORT NAME TYPE [--class C] [--id N] [--rd] [--cd]
              [--edns SIZE] [--do] [--nsid] [--ednsver V] [--tcp]
  wire.py verify FILE...                  parse every message fully, print a summary
"""
import os, random, socket, struct, subprocess, sys, threading

TYPES = dict(A=1, NS=2, CNAME=5, SOA=6, PTR=12, HINFO=13, MX=15, TXT=16, AAAA=28,
             SRV=33, NAPTR=35, DNAME=39, OPT=41, DS=43, RRSIG=46, NSEC=47, DNSKEY=48,
             NSEC3=50, NSEC3PARAM=51, TLSA=52, SVCB=64, HTTPS=65, AXFR=252, ANY=255,
             CAA=257)
TYPENAMES = {v: k for k, v in TYPES.items()}
CLASSES = dict(IN=1, CH=3, HS=4, ANY=255)
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
          5: "REFUSED", 16: "BADVERS"}


def tname(t):
    return TYPENAMES.get(t, "TYPE%d" % t)


def qtype(s):
    s = s.upper()
    return TYPES[s] if s in TYPES else int(s[4:])


def write_fixture(path, comment, data):
    assert "\n" not in comment
    hx = data.hex()
    with open(path, "w") as f:
        f.write("# " + comment + "\n")
        for i in range(0, len(hx), 64):
            f.write(hx[i:i + 64] + "\n")


def read_fixture(path):
    with open(path) as f:
        lines = f.read().splitlines()
    assert lines[0].startswith("# "), "first line must be a '# ' comment"
    body = lines[1:]
    for i, l in enumerate(body):
        assert l == l.lower() and all(c in "0123456789abcdef" for c in l), "not lowercase hex"
        assert len(l) % 2 == 0 and 0 < len(l) <= 64, "bad line length"
        assert i == len(body) - 1 or len(l) == 64, "only the last line may be short"
    return lines[0], bytes.fromhex("".join(body))


def encode_name(name):
    if name in (".", ""):
        return b"\0"
    out = b""
    for label in name.rstrip(".").split("."):
        b = label.encode("ascii")
        assert 0 < len(b) < 64
        out += bytes([len(b)]) + b
    return out + b"\0"


def build_query(name, qt, qc, qid, rd, cd, edns, do, nsid, ednsver):
    flags = (0x0100 if rd else 0) | (0x0010 if cd else 0)
    msg = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 1 if edns else 0)
    msg += encode_name(name) + struct.pack("!HH", qt, qc)
    if edns:
        opts = struct.pack("!HH", 3, 0) if nsid else b""
        ttl = (ednsver << 16) | (0x8000 if do else 0)
        msg += b"\0" + struct.pack("!HHIH", 41, edns, ttl, len(opts)) + opts
    return msg


# ------------------------------------------------------------------ parsing
class Bad(Exception):
    pass


def read_name(msg, off):
    """Returns (name, offset after the name in place). Follows pointers."""
    labels, end, seen, total = [], None, set(), 1
    while True:
        if off >= len(msg):
            raise Bad("name runs past end")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg):
                raise Bad("truncated pointer")
            ptr = ((n & 0x3F) << 8) | msg[off + 1]
            if end is None:
                end = off + 2
            if ptr >= off or ptr in seen:
                raise Bad("pointer not strictly backwards / loop")
            seen.add(ptr)
            off = ptr
            continue
        if n & 0xC0:
            raise Bad("reserved label type")
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n])
        total += n + 1
        off += n
    if total > 255:
        raise Bad("name longer than 255")
    name = ".".join(l.decode("latin-1") for l in labels) + "."
    return name, (end if end is not None else off)


def charstrings(rd, off, end):
    out = []
    while off < end:
        n = rd[off]
        if off + 1 + n > end:
            raise Bad("character-string overruns rdata")
        out.append(rd[off + 1:off + 1 + n])
        off += 1 + n
    return out


def check_rdata(msg, t, off, rdlen):
    end = off + rdlen

    def name_at(o):
        n, o2 = read_name(msg, o)
        if o2 > end:
            raise Bad("name overruns rdata")
        return n, o2

    def fin(o):
        if o != end:
            raise Bad("rdata length mismatch for %s (%d != %d)" % (tname(t), o, end))

    if t == 1:
        fin(off + 4)
    elif t == 28:
        fin(off + 16)
    elif t in (2, 5, 12, 39):
        fin(name_at(off)[1])
    elif t == 15:
        fin(name_at(off + 2)[1])
    elif t == 6:
        o = name_at(off)[1]
        o = name_at(o)[1]
        fin(o + 20)
    elif t == 33:
        fin(name_at(off + 6)[1])
    elif t in (16, 13):
        s = charstrings(msg, off, end)
        if t == 13 and len(s) != 2:
            raise Bad("HINFO needs 2 strings")
    elif t == 35:
        o = off + 4
        for _ in range(3):
            o += 1 + msg[o]
        fin(name_at(o)[1])
    elif t == 46:
        name_at(off + 18)
    elif t == 47:
        o = name_at(off)[1]
        while o < end:
            if o + 2 > end or o + 2 + msg[o + 1] > end or not 1 <= msg[o + 1] <= 32:
                raise Bad("bad NSEC bitmap")
            o += 2 + msg[o + 1]
        fin(o)
    elif t in (64, 65):
        o = name_at(off + 2)[1]
        last = -1
        while o < end:
            k, l = struct.unpack_from("!HH", msg, o)
            if k <= last:
                raise Bad("SvcParamKeys not ascending")
            last = k
            o += 4 + l
        fin(o)
    elif t == 41:
        o = off
        while o < end:
            code, l = struct.unpack_from("!HH", msg, o)
            o += 4 + l
        fin(o)


def parse(msg):
    if len(msg) < 12:
        raise Bad("short header")
    qid, flags, qd, an, ns, ar = struct.unpack_from("!HHHHHH", msg, 0)
    off = 12
    questions = []
    for _ in range(qd):
        name, off = read_name(msg, off)
        if off + 4 > len(msg):
            raise Bad("truncated question")
        t, c = struct.unpack_from("!HH", msg, off)
        off += 4
        questions.append((name, t, c))
    sections = []
    opt = None
    for count, sec in ((an, "an"), (ns, "ns"), (ar, "ar")):
        rrs = []
        for _ in range(count):
            name, off = read_name(msg, off)
            if off + 10 > len(msg):
                raise Bad("truncated RR header")
            t, c, ttl, rdlen = struct.unpack_from("!HHIH", msg, off)
            off += 10
            if off + rdlen > len(msg):
                raise Bad("rdata runs past end")
            check_rdata(msg, t, off, rdlen)
            if t == 41:
                if sec != "ar" or name != "." or opt is not None:
                    raise Bad("misplaced OPT")
                opt = (c, ttl, msg[off:off + rdlen])
            rrs.append((name, t, c, ttl))
            off += rdlen
        sections.append(rrs)
    if off != len(msg):
        raise Bad("%d trailing bytes" % (len(msg) - off))
    return dict(id=qid, flags=flags, counts=(qd, an, ns, ar), questions=questions,
                sections=sections, opt=opt)


def summary(p):
    f = p["flags"]
    names = [n for b, n in ((15, "qr"), (10, "aa"), (9, "tc"), (8, "rd"), (7, "ra"),
                            (5, "ad"), (4, "cd")) if f & (1 << b)]
    rcode = f & 0xF
    edns = ""
    if p["opt"]:
        c, ttl, rd = p["opt"]
        rcode |= (ttl >> 24) << 4
        optcodes, o = [], 0
        while o < len(rd):
            code, l = struct.unpack_from("!HH", rd, o)
            optcodes.append("%d/%d" % (code, l))
            o += 4 + l
        edns = " edns(v%d udp=%d%s opts=%s)" % ((ttl >> 16) & 0xFF, c,
                                                  " do" if ttl & 0x8000 else "",
                                                  ",".join(optcodes) or "-")
    q = " ".join("%s/%s/%d" % (n, tname(t), c) for n, t, c in p["questions"])
    an = ",".join(tname(t) for _, t, _, _ in p["sections"][0])
    return "id=%04x op=%d %s %s qd/an/ns/ar=%d/%d/%d/%d q=%s an=[%s]%s" % (
        p["id"], (f >> 11) & 0xF, "+".join(names) or "-", RCODES.get(rcode, str(rcode)),
        *p["counts"], q, an, edns)


# ------------------------------------------------------------------ commands
def cmd_client(argv):
    out, producer, sep, *cmd = argv
    assert sep == "--"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(15)
    port = str(s.getsockname()[1])
    shown = " ".join(a.replace("@PORT@", "<port>") for a in cmd)
    proc = subprocess.Popen([a.replace("@PORT@", port) for a in cmd],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        data, peer = s.recvfrom(65535)
        # minimal answer: same ID/opcode/RD/question, QR=1, RCODE=REFUSED, no OPT
        _, qd_end = read_name(data, 12)
        reply = data[:2] + struct.pack("!HHHHH", 0x8000 | (struct.unpack_from("!H", data, 2)[0] & 0x7900) | 5,
                                       1, 0, 0, 0) + data[12:qd_end + 4]
        s.sendto(reply, peer)
    finally:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    write_fixture(out, "%s query as sent on the wire (UDP), caught by a python3 UDP listener: %s"
                  % (producer, shown), data)
    print("%-44s %s" % (os.path.basename(out), summary(parse(data))))


def cmd_ask(argv):
    out, producer, port, name, qt = argv[:5]
    opts = argv[5:]

    def opt(flag, default=None, conv=str):
        if flag in opts:
            i = opts.index(flag)
            return conv(opts[i + 1])
        return default

    qid = opt("--id", 0x2c00, lambda v: int(v, 0))
    qc = CLASSES[opt("--class", "IN")]
    rd, cd, do, nsid, tcp = (f in opts for f in ("--rd", "--cd", "--do", "--nsid", "--tcp"))
    edns = opt("--edns", 0, int)
    ednsver = opt("--ednsver", 0, int)
    q = build_query(name, qtype(qt), qc, qid, rd, cd, edns, do, nsid, ednsver)
    if tcp:
        s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
        s.sendall(struct.pack("!H", len(q)) + q)

        def recvn(n):
            b = b""
            while len(b) < n:
                chunk = s.recv(n - len(b))
                if not chunk:
                    raise Bad("TCP connection closed early")
                b += chunk
            return b
        data = recvn(struct.unpack("!H", recvn(2))[0])
        s.close()
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(10)
        s.connect(("127.0.0.1", int(port)))
        s.send(q)
        data = s.recv(65535)
        s.close()
    p = parse(data)
    assert p["id"] == qid, "ID mismatch"
    desc = ["id=0x%04x" % qid, "RD=%d" % rd]
    if cd:
        desc.append("CD=1")
    desc.append("EDNS0 udp=%d DO=%d%s%s" % (edns, do, " NSID" if nsid else "",
                                          " version=%d" % ednsver if ednsver else "")
                if edns else "no EDNS")
    comment = "%s on 127.0.0.1:%s/%s, response to the python3-built query %s %s %s (%s); %squery=%s" % (
        producer, port, "tcp" if tcp else "udp", name, opt("--class", "IN"), qt.upper(),
        ", ".join(desc), "TCP payload without its 2-byte length prefix; " if tcp else "", q.hex())
    write_fixture(out, comment, data)
    print("%-44s %s" % (os.path.basename(out), summary(p)))


def cmd_wait(argv):
    """wait PORT NAME TYPE: poll until the server answers NOERROR with an answer."""
    port, name, qt = argv
    import time
    for _ in range(100):
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(0.3)
            s.connect(("127.0.0.1", int(port)))
            s.send(build_query(name, qtype(qt), 1, 0x0101, True, False, 0, False, False, 0))
            p = parse(s.recv(65535))
            if p["flags"] & 0xF == 0 and p["counts"][1] > 0:
                return
        except (OSError, Bad):
            pass
        time.sleep(0.1)
    sys.exit("server on port %s never answered %s %s" % (port, name, qt))


def cmd_verify(argv):
    bad = 0
    for path in argv:
        try:
            comment, data = read_fixture(path)
            print("%-44s %5dB %s" % (os.path.basename(path), len(data), summary(parse(data))))
        except (Bad, AssertionError, ValueError, IndexError, struct.error) as e:
            print("%-44s FAILED: %s" % (os.path.basename(path), e))
            bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    {"client": cmd_client, "ask": cmd_ask, "wait": cmd_wait,
     "verify": cmd_verify}[sys.argv[1]](sys.argv[2:])
PYEOF
wire() { python3 "$WORK/wire.py" "$@"; }

# ------------------------------------------------------------------ knotd
mkdir -p "$WORK/knot/run" "$WORK/knot/db"
cat > "$WORK/knot/knot.conf" <<EOF
server:
    rundir: "$WORK/knot/run"
    listen: 127.0.0.1@$KNOT_PORT
    identity: "swiftlet-knot"
    nsid: "swiftlet-knot"

log:
  - target: stderr
    any: notice

database:
    storage: "$WORK/knot/db"

acl:
  - id: local-transfer
    address: 127.0.0.1
    action: transfer

template:
  - id: default
    storage: "$WORK/knot"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none

zone:
  - domain: example.org.
    file: "$ZONE"
    acl: local-transfer
EOF
knotd -c "$WORK/knot/knot.conf" 2> "$WORK/knot/knotd.log" &
PIDS+=($!)
wire wait "$KNOT_PORT" example.org. SOA || { cat "$WORK/knot/knotd.log" >&2; exit 1; }

# ------------------------------------------------------------------ unbound
cat > "$WORK/unbound.conf" <<EOF
server:
    interface: 127.0.0.1@$UNBOUND_PORT
    access-control: 127.0.0.0/8 allow
    do-ip6: no
    do-not-query-localhost: no
    module-config: "iterator"
    chroot: ""
    username: ""
    directory: "$WORK"
    pidfile: "$WORK/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    num-threads: 1
    minimal-responses: yes
    rrset-roundrobin: no
    qname-minimisation: no
    local-zone: "example.net." static
    local-data: "example.net. 3600 IN SOA ns1.example.net. hostmaster.example.net. 2024010101 7200 3600 1209600 300"
    local-data: "example.net. 3600 IN NS ns1.example.net."
    local-data: "www.example.net. 300 IN A 198.51.100.80"
    local-data: 'www.example.net. 300 IN TXT "from unbound local-data"'

remote-control:
    control-enable: yes
    control-interface: "$WORK/unbound.ctl"
    control-use-cert: no

# everything (not only example.org.) goes to knotd, so unbound never tries the real root
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@$KNOT_PORT
EOF
unbound -d -c "$WORK/unbound.conf" 2> "$WORK/unbound.log" &
PIDS+=($!)
wire wait "$UNBOUND_PORT" www.example.net. A || { cat "$WORK/unbound.log" >&2; exit 1; }

# ------------------------------------------------------------------ captures
rm -f "$HERE"/*.hex
ROWS=()
row() { ROWS+=("| \`$1\` | $2 | $3 |"); }

# q FILE PRODUCER DESCRIPTION -- CMD...  (CMD's @PORT@ = listener port)
q() {
    local file=$1 producer=$2 what=$3
    shift 3
    wire client "$HERE/$file" "$producer" "$@"
    row "$file" "$producer" "$what"
}
DIG=(dig @127.0.0.1 -p @PORT@ +tries=1 +timeout=5)
KDIG=(kdig @127.0.0.1 -p @PORT@ +retry=0 +timeout=5)

q query-dig-plain.hex "$DIG_V" "example.org A with dig's defaults: RD, AD, EDNS0 udp=1232, random client COOKIE" -- "${DIG[@]}" example.org A
q query-dig-noedns.hex "$DIG_V" "example.org A, +noedns: no OPT record" -- "${DIG[@]}" +noedns example.org A
q query-dig-dnssec.hex "$DIG_V" "example.org A, +dnssec: DO bit" -- "${DIG[@]}" +dnssec example.org A
q query-dig-cookie.hex "$DIG_V" "example.org A, +cookie (same as dig's default): 8-byte client COOKIE" -- "${DIG[@]}" +cookie example.org A
q query-dig-nocookie.hex "$DIG_V" "example.org A, +nocookie: EDNS0 without options" -- "${DIG[@]}" +nocookie example.org A
q query-dig-subnet.hex "$DIG_V" "example.org A, +subnet=192.0.2.0/24: EDNS Client Subnet option" -- "${DIG[@]}" +subnet=192.0.2.0/24 example.org A
q query-dig-nsid.hex "$DIG_V" "example.org A, +nsid: empty NSID option" -- "${DIG[@]}" +nsid example.org A
q query-dig-norec-mx.hex "$DIG_V" "example.org MX, +norecurse: RD=0" -- "${DIG[@]}" +norecurse example.org MX
q query-dig-reverse.hex "$DIG_V" "-x 192.0.2.1: 1.2.0.192.in-addr.arpa PTR" -- "${DIG[@]}" -x 192.0.2.1
q query-dig-mixedcase.hex "$DIG_V" "ExAmPlE.oRg A: the name's case is kept on the wire" -- "${DIG[@]}" ExAmPlE.oRg A
q query-dig-type65280.hex "$DIG_V" "example.org TYPE65280: unknown QTYPE" -- "${DIG[@]}" example.org TYPE65280
q query-dig-chaos.hex "$DIG_V" "version.bind CH TXT: class CHAOS" -- "${DIG[@]}" version.bind CH TXT
q query-kdig-plain.hex "$KDIG_V" "example.org A with kdig's defaults: RD, AD, no EDNS" -- "${KDIG[@]}" example.org A
q query-kdig-nsid-padding.hex "$KDIG_V" "example.org A, +nsid +padding: EDNS0 udp=4096, NSID and PADDING options, padded to 128 bytes" -- "${KDIG[@]}" +nsid +padding example.org A
q query-kdig-dnssec.hex "$KDIG_V" "example.org A, +dnssec: EDNS0 udp=4096, DO bit" -- "${KDIG[@]}" +dnssec example.org A
q query-kdig-subnet6.hex "$KDIG_V" "example.org AAAA, +subnet=2001:db8::/48: IPv6 Client Subnet option" -- "${KDIG[@]}" +subnet=2001:db8::/48 example.org AAAA

# r FILE PRODUCER DESCRIPTION PORT NAME TYPE [wire.py ask options]
ID=0x2c00
r() {
    local file=$1 producer=$2 what=$3 port=$4 name=$5 type=$6
    shift 6
    ID=$(printf '0x%04x' $((ID + 1)))
    wire ask "$HERE/$file" "$producer" "$port" "$name" "$type" --id "$ID" "$@"
    row "$file" "$producer" "$what"
}
k() { local file=$1 what=$2; shift 2; r "response-knot-$file.hex" "$KNOT_V" "$what" "$KNOT_PORT" "$@"; }
E=(--edns 1232)

k soa "example.org SOA (knot adds no authority NS)" example.org. SOA "${E[@]}"
k ns "example.org NS: in-zone glue A/AAAA in additional" example.org. NS "${E[@]}"
k a "example.org A: three A records" example.org. A "${E[@]}"
k aaaa "www.example.org AAAA" www.example.org. AAAA "${E[@]}"
k cname "alias.example.org A: in-zone CNAME chain to www A" alias.example.org. A "${E[@]}"
k cname-external "ext.example.org A: CNAME to an out-of-zone target, chain stops" ext.example.org. A "${E[@]}"
k mx "example.org MX: in-zone and external exchange, mail A/AAAA in additional" example.org. MX "${E[@]}"
k txt "example.org TXT: one simple RR, one with five strings (quote, backslash, UTF-8 bytes, NUL/0xff)" example.org. TXT "${E[@]}"
k txt-empty "empty.example.org TXT: one empty character-string" empty.example.org. TXT "${E[@]}"
k ptr "ptr.example.org PTR" ptr.example.org. PTR "${E[@]}"
k srv "_sip._tcp.example.org SRV: target A in additional" _sip._tcp.example.org. SRV "${E[@]}"
k naptr "sip.example.org NAPTR: empty regexp, replacement name" sip.example.org. NAPTR "${E[@]}"
k naptr-regexp "enum.example.org NAPTR: regexp, root replacement" enum.example.org. NAPTR "${E[@]}"
k dname "foo.dname.example.org A: DNAME to example.net + synthesized CNAME" foo.dname.example.org. A "${E[@]}"
k dname-inzone "www.old.example.org A: DNAME to new.example.org, synthesized CNAME, A" www.old.example.org. A "${E[@]}"
k dname-query "dname.example.org DNAME: the DNAME RR itself" dname.example.org. DNAME "${E[@]}"
k ds "sub.example.org DS: answered by the parent" sub.example.org. DS "${E[@]}"
k dnskey "example.org DNSKEY: KSK + ZSK (fake keys)" example.org. DNSKEY "${E[@]}"
k rrsig "example.org RRSIG query" example.org. RRSIG "${E[@]}"
k nsec "example.org NSEC" example.org. NSEC "${E[@]}"
k nsec3 "76edbhq0qrik9i5q2fgr6jvq1p65qi2h.example.org NSEC3: NXDOMAIN, as RFC 5155 7.2.8 asks for NSEC3 owner names (NSEC3 RRs on the wire: dnssec-nxdomain, axfr-tcp)" 76edbhq0qrik9i5q2fgr6jvq1p65qi2h.example.org. NSEC3 "${E[@]}"
k nsec3param "example.org NSEC3PARAM (salt aabbccdd)" example.org. NSEC3PARAM "${E[@]}"
k tlsa "_443._tcp.www.example.org TLSA 3 1 1" _443._tcp.www.example.org. TLSA "${E[@]}"
k svcb "svc.example.org SVCB ServiceMode: mandatory, alpn, no-default-alpn, port" svc.example.org. SVCB "${E[@]}"
k svcb-alias "svc-alias.example.org SVCB AliasMode (priority 0)" svc-alias.example.org. SVCB "${E[@]}"
k https "www.example.org HTTPS: alpn, port, ipv4hint, ech, ipv6hint" www.example.org. HTTPS "${E[@]}"
k caa "example.org CAA: issue (flags 0) and iodef (critical flag 128)" example.org. CAA "${E[@]}"
k hinfo "example.org HINFO" example.org. HINFO "${E[@]}"
k type65280 "example.org TYPE65280: unknown type, RFC 3597 rdata 0a000001" example.org. TYPE65280 "${E[@]}"
k nxdomain "nonexistent.example.org A: NXDOMAIN, SOA in authority" nonexistent.example.org. A "${E[@]}"
k nodata "www.example.org MX: NOERROR/NODATA, SOA in authority" www.example.org. MX "${E[@]}"
k referral "www.sub.example.org A: referral, NS in authority, glue in additional" www.sub.example.org. A "${E[@]}"
k referral-dnssec "www.sub.example.org A with DO: referral plus DS (no RRSIG DS in the zone)" www.sub.example.org. A "${E[@]}" --do
k wildcard "foo.wild.example.org A: synthesized from *.wild" foo.wild.example.org. A "${E[@]}"
k wildcard-txt "a.b.wild.example.org TXT: wildcard two labels deep" a.b.wild.example.org. TXT "${E[@]}"
k dnssec "example.org A with DO: A RRset + RRSIG" example.org. A "${E[@]}" --do
k dnssec-dnskey "example.org DNSKEY with DO: DNSKEY RRset + RRSIG" example.org. DNSKEY "${E[@]}" --do
k dnssec-nxdomain "nonexistent.example.org A with DO: NXDOMAIN, SOA + apex NSEC3 + RRSIG SOA (the fake NSEC3 chain gives knot only one NSEC3)" nonexistent.example.org. A "${E[@]}" --do
k noedns "example.org A without EDNS: no OPT in the response" example.org. A
k mixedcase "ExAmPlE.oRg A: question case echoed, answer owner compressed to it" ExAmPlE.oRg. A "${E[@]}"
k rd "example.org A with RD=1: RD echoed, RA not set" example.org. A "${E[@]}" --rd
k refused "www.example.net A: zone not served, REFUSED with Extended DNS Error 20 (Not Authoritative)" www.example.net. A "${E[@]}"
k nsid "example.org SOA with an NSID request: NSID option 'swiftlet-knot'" example.org. SOA "${E[@]}" --nsid
k badvers "example.org A with EDNS version 1: BADVERS (extended RCODE 16)" example.org. A "${E[@]}" --ednsver 1
k chaos-id "id.server CH TXT: identity 'swiftlet-knot'" id.server. TXT "${E[@]}" --class CH
k big-tc "big.example.org TXT without EDNS: over 512 bytes, TC set" big.example.org. TXT
k big-edns "big.example.org TXT with EDNS udp=1232: the full RRset" big.example.org. TXT "${E[@]}"
k big-tcp "big.example.org TXT over TCP without EDNS: the full RRset" big.example.org. TXT --tcp
k axfr-tcp "example.org AXFR over TCP: the whole zone in one message" example.org. AXFR --tcp

# unbound's cache is emptied before each query, so every answer is fresh from knotd
u() {
    local file=$1 what=$2
    shift 2
    unbound-control -c "$WORK/unbound.conf" flush_zone . >/dev/null
    r "response-unbound-$file.hex" "$UNBOUND_V" "$what" "$UNBOUND_PORT" "$@"
}
UE=(--rd --edns 1232)
u a "example.org A, forwarded to knotd: RA set, no AA" example.org. A "${UE[@]}"
u cname "alias.example.org A, forwarded: CNAME chain + A" alias.example.org. A "${UE[@]}"
u cname-external "ext.example.org A: CNAME to www.example.net, which knotd REFUSES: SERVFAIL with empty answer (local-data is not used for CNAME targets)" ext.example.org. A "${UE[@]}"
u mx "example.org MX, forwarded (minimal-responses: no additional)" example.org. MX "${UE[@]}"
u txt "example.org TXT, forwarded: escapes and binary bytes re-encoded by unbound" example.org. TXT "${UE[@]}"
u https "www.example.org HTTPS, forwarded" www.example.org. HTTPS "${UE[@]}"
u nxdomain "nonexistent.example.org A, forwarded: NXDOMAIN + SOA" nonexistent.example.org. A "${UE[@]}"
u nodata "www.example.org MX, forwarded: NODATA + SOA" www.example.org. MX "${UE[@]}"
u wildcard "foo.wild.example.org A, forwarded: wildcard answer" foo.wild.example.org. A "${UE[@]}"
u dnssec "example.org DNSKEY with DO, forwarded: RRset + RRSIG (no validation)" example.org. DNSKEY "${UE[@]}" --do
u noedns "mail.example.org A without EDNS, forwarded" mail.example.org. A --rd
u localdata "www.example.net TXT from unbound local-data (AA set)" www.example.net. TXT "${UE[@]}"
u localdata-nxdomain "nothere.example.net A in unbound's static local-zone: NXDOMAIN + SOA" nothere.example.net. A "${UE[@]}"

# ------------------------------------------------------------------ README
{
    cat <<'EOF'
# Golden DNS wire packets

One DNS message per file, made by real DNS software and recreated by
[`capture.sh`](capture.sh) (needs Debian's `knot`, `knot-dnsutils`,
`bind9-dnsutils`, `unbound` and `python3`; binds 127.0.0.1 only).

File format: the first line is a `# ` comment that says which program made
the packet and how; then the message bytes as lowercase hex, 32 bytes
(64 hex digits) a line, the last line possibly shorter. Nothing else.
TCP captures hold the DNS message without its 2-byte length prefix.

- `query-*.hex`: a query exactly as `dig` or `kdig` sent it over UDP, caught
  by a python3 UDP listener (which answered REFUSED). The message ID and the
  client cookie (dig sends one by default) are random on every run.
- `response-knot-*.hex`: what knotd answered over UDP (or TCP) to a query
  built by python3, serving [`../zones/example.org.zone`](../zones/example.org.zone).
  The query's bytes are at the end of the comment line (`query=`).
- `response-unbound-*.hex`: what unbound answered, as a forwarder to that
  knotd (`module-config: "iterator"`, `minimal-responses: yes`,
  `rrset-roundrobin: no`, cache flushed before each query so TTLs are the
  zone's) or from its own `local-data` for example.net.

The zone's DNSSEC data (DNSKEY, RRSIG, DS, NSEC, NSEC3) is fake: well-formed,
not signed. Only documentation names and addresses are used.

Things worth knowing when using these as test vectors:

- dig 9.18 sets AD in every query and sends an 8-byte client COOKIE unless
  `+nocookie` (so `query-dig-cookie` and `query-dig-plain` differ only in ID
  and cookie); its EDNS buffer is 1232. kdig 3.2 also sets AD, sends no OPT
  unless an EDNS feature is asked for, then advertises 4096; `+padding` pads
  the query to 128 bytes (RFC 8467).
- knotd compresses owner names and the names inside NS, CNAME, PTR, MX and
  SOA rdata, pointing into the question too (so `response-knot-mixedcase`
  answers with the question's case, and a synthesized CNAME's target points
  into the question); it never compresses names inside SRV, NAPTR, DNAME,
  RRSIG, NSEC or SVCB/HTTPS rdata. unbound's answers here compress the same.
- knotd sends each RRset's records in canonical (sorted rdata) order, not in
  zone-file order: see the DNSKEYs (256 before 257).
- knotd: SOA/positive answers carry no authority NS; NXDOMAIN/NODATA carry
  the SOA with TTL = SOA minimum (300), its RRSIG too; referrals have no AA;
  CHAOS `id.server` has TTL 0 and no AA; REFUSED carries EDE 20; BADVERS is
  extended RCODE 1 in the OPT TTL with the OPT's version 0; the TC answer to a
  too-big UDP reply keeps the question and has no records at all.
- A query for an NSEC3 owner name gets NXDOMAIN (RFC 5155 7.2.8); NSEC3 RRs
  appear in `response-knot-dnssec-nxdomain` and `response-knot-axfr-tcp`.
- unbound (no validator) still returns RRSIGs when DO is set, sets RA, no AA
  for forwarded data, AA for its local-data; it does not use local-data for a
  CNAME target and SERVFAILs with an empty answer when the target fails.

EOF
    echo "Made with: $KNOT_V; $KDIG_V; $DIG_V; $UNBOUND_V."
    echo
    echo "| file | producer | what it is |"
    echo "| --- | --- | --- |"
    printf '%s\n' "${ROWS[@]}"
} > "$HERE/README.md"

# ------------------------------------------------------------------ verify
echo "--- verify"
wire verify "$HERE"/*.hex
echo "capture.sh: wrote $(ls "$HERE"/*.hex | wc -l) fixtures to $HERE"
