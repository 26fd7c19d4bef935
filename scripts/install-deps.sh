#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages one goal needs, if any is missing; a fast
# no-op when everything is there. Not as root, it prints the apt-get command
# and fails, so that a user who lacks nothing is never asked for root.
#
#   install-deps.sh build   compile the library, the CLI, the samples and the
#                           tests (make build, make demo)
#   install-deps.sh test    build, plus the real servers of the interop tests
#                           (make test)
#   install-deps.sh bench   build, plus the tools and servers bench/compare.sh
#                           runs (make bench)
#   install-deps.sh docs    Doxygen (make docs)
#   install-deps.sh [all]   all of them, and the CA store (make deps)
set -eu

# cmocka, zlib, brotli, zstd: the unit tests and the test server (its content
# codings), built by default (the demo runs nothing else).
BUILD="build-essential cmake pkg-config libevent-dev libnghttp2-dev node-llhttp libssl-dev
libcmocka-dev zlib1g-dev libbrotli-dev libzstd-dev"
# test/interop/: nghttpd, nginx and h2o, started on loopback by the tests.
TEST="nghttp2-server nginx-light h2o"
# bench/compare.sh: the servers, h2load, wrk, libcurl for the curl-multi
# driver (built when its headers are there), GNU time for CPU and RSS, bc for
# the sums, python3 for free ports.
BENCH="nghttp2-server nginx-light h2o nghttp2-client wrk libcurl4-openssl-dev time bc python3"
DOCS="doxygen"
# The system trust store, which hxc uses by default for https: no goal needs
# it (tests and demo have their own CA), a user fetching real sites does.
RUN="ca-certificates"

case "${1:-all}" in
build) PKGS=$BUILD ;;
test) PKGS="$BUILD $TEST" ;;
bench) PKGS="$BUILD $BENCH" ;;
docs) PKGS=$DOCS ;;
all) PKGS="$BUILD $TEST $BENCH $DOCS $RUN" ;;
*)
    echo "usage: install-deps.sh [build|test|bench|docs|all]" >&2
    exit 2
    ;;
esac

if ! command -v dpkg-query > /dev/null; then
    echo "hxc: not Debian, cannot check the packages; they are (Debian names):" $PKGS >&2
    exit 0
fi
missing=""
for p in $PKGS; do
    case " $missing " in *" $p "*) continue ;; esac
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "hxc: missing Debian packages:$missing" >&2
    echo "hxc: not root; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi
echo "hxc: installing Debian packages:$missing"

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
