#!/usr/bin/env bash
# The test command (README, .ci/run): installs the DNS tools the tests talk to, then runs every test once.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dig >/dev/null 2>&1 || need+=(bind9-dnsutils)
command -v kdig >/dev/null 2>&1 || need+=(knot-dnsutils)
command -v knotd >/dev/null 2>&1 || need+=(knot)
[ -x /usr/sbin/unbound ] || command -v unbound >/dev/null 2>&1 || need+=(unbound)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
# An HTTP/2 client whose frames the DNS-over-HTTPS stream-bound test controls one by one.
/usr/bin/python3 -c 'import h2' >/dev/null 2>&1 || need+=(python3-h2)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        # Never let a package start its daemon on port 53 (Debian's policy-rc.d convention).
        [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "note: ${need[*]} not installed; tests that need them are skipped (in CI and as root they fail)" >&2
    fi
fi

swift build --build-tests
SWIFTLET_BUILD_EXAMPLES=${SWIFTLET_BUILD_EXAMPLES:-1} swift test --skip-build "$@"
