#!/bin/sh
# Installs the Debian 12 packages hxc needs to build, test, demo and
# benchmark, if any is missing. Fast no-op when everything is there.
set -eu

PKGS="build-essential cmake pkg-config libevent-dev libnghttp2-dev node-llhttp libssl-dev openssl
zlib1g-dev libbrotli-dev libzstd-dev libcmocka-dev nghttp2-server nghttp2-client nginx-light h2o
wrk libcurl4-openssl-dev doxygen ca-certificates"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "hxc: installing Debian packages:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "hxc: not root; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi

# Packaged servers (nginx, h2o) must not start system services here: the tests
# start their own copies on loopback. policy-rc.d tells invoke-rc.d to skip them.
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
fi
cleanup() { [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d; return 0; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
