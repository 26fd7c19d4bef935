#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the build into a scratch prefix, checks that the library depends
# only on what it uses, builds a program against it twice: with pkg-config
# (hxc.pc) and with CMake's find_package(hxc); then moves the prefix and runs
# the installed hxc and hxc-load from there, with no LD_LIBRARY_PATH.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR [PROGRAMS (1: hxc and hxc-load are installed)]
set -eu
BUILD=$1 SRC=$2 PROGRAMS=${3:-0}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cmake --install "$BUILD" --prefix "$T/prefix" > "$T/install.log"
PC=$(find "$T/prefix" -name hxc.pc | head -n 1)
[ -n "$PC" ] || fail "hxc.pc not installed"
LIBDIR=$(dirname "$(dirname "$PC")")
test -f "$T/prefix/include/hxc/hxc.h" || fail "hxc.h not installed"
test -f "$T/prefix/include/hxc/version.h" || fail "version.h not installed"
test -e "$LIBDIR/libhxc.so" && test -f "$LIBDIR/libhxc.a" || fail "libraries not installed"
readelf -d "$LIBDIR/libhxc.so" | grep -q 'SONAME.*libhxc.so.0' || fail "SONAME"

# zlib and bufferevent_openssl are the test server's, not the library's: a
# consumer (static ones included) must not be asked for them.
if grep -Eq 'zlib|ZLIB|libevent_openssl' "$PC" "$LIBDIR/cmake/hxc/"*.cmake; then
    fail "hxc.pc or the CMake package names zlib or libevent_openssl"
fi
if readelf -d "$LIBDIR/libhxc.so" | grep -Eq 'NEEDED.*(libz\.|libevent_openssl|libevent-)'; then
    fail "libhxc.so needs zlib or libevent_openssl"
fi
if nm -D --undefined-only "$LIBDIR/libhxc.so" | grep -Eq ' (bufferevent_|deflate|inflate)'; then
    fail "libhxc.so calls bufferevent_openssl or zlib"
fi

# pkg-config
PKG_CONFIG_PATH=$(dirname "$PC") cc -std=c11 -Wall -Werror "$SRC/docs/examples/get_future.c" \
    $(PKG_CONFIG_PATH=$(dirname "$PC") pkg-config --cflags --libs hxc) -o "$T/viapc"
LD_LIBRARY_PATH=$LIBDIR "$T/viapc" http://127.0.0.1:1/ http://127.0.0.1:1/ > "$T/out"
grep -q 'HXC_ECONNECT' "$T/out"

# CMake package
mkdir "$T/proj"
cp "$SRC/docs/examples/get_callback.c" "$T/proj/main.c"
cat > "$T/proj/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(hxc 0.1 REQUIRED)
find_package(PkgConfig REQUIRED)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE hxc::hxc PkgConfig::LIBEVENT)
add_executable(consumer_static main.c)
target_link_libraries(consumer_static PRIVATE hxc::hxc_static)
CM
cmake -S "$T/proj" -B "$T/projb" -DCMAKE_PREFIX_PATH="$T/prefix" > "$T/cmake.log"
cmake --build "$T/projb" > "$T/build.log"
LD_LIBRARY_PATH=$LIBDIR "$T/projb/consumer" http://127.0.0.1:1/ 2> "$T/err" || true
grep -q 'HXC_ECONNECT' "$T/err"
"$T/projb/consumer_static" http://127.0.0.1:1/ 2> "$T/err" || true
grep -q 'HXC_ECONNECT' "$T/err"

# The installed programs find libhxc through their RUNPATH ($ORIGIN/../lib),
# wherever the prefix is: moved here, with no LD_LIBRARY_PATH.
[ "$PROGRAMS" = 1 ] || { echo "1 passed, 0 failed"; exit 0; }
mv "$T/prefix" "$T/moved"
BIN=$T/moved/bin
LIBDIR=$T/moved${LIBDIR#"$T/prefix"}
unset LD_LIBRARY_PATH
for p in hxc hxc-load; do
    readelf -d "$BIN/$p" | grep -q 'RUNPATH.*\$ORIGIN/' || fail "$p has no relative RUNPATH"
    got=$(ldd "$BIN/$p" | sed -n 's/.*libhxc\.so\.0 => \([^ ]*\) .*/\1/p')
    [ -n "$got" ] && [ "$(readlink -f "$got")" = "$(readlink -f "$LIBDIR/libhxc.so.0")" ] ||
        fail "$p does not load the moved libhxc (${got:-not found})"
done
"$BIN/hxc" --version | grep -q "^hxc [0-9]" || fail "hxc --version from the moved prefix"
"$BIN/hxc" http://127.0.0.1:1/ 2> "$T/err" && fail "hxc reached port 1"
grep -q 'HXC_ECONNECT' "$T/err" || fail "hxc from the moved prefix: $(cat "$T/err")"
"$BIN/hxc-load" --help | grep -q '^usage: hxc-load' || fail "hxc-load --help from the moved prefix"
echo "1 passed, 0 failed"
