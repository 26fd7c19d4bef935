#!/bin/sh
# SPDX-License-Identifier: MIT
# The hxc CLI end to end: exit statuses, --json lines, bodies, -o, -v, -d,
# --repeat/--parallel, bad usage. Usage: cli_test.sh HXC SERVER CERTS
set -u
HXC=$1 SERVER=$2 CERTS=$3
T=$(mktemp -d)
pass=0 fail=0
cleanup() { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
mkfifo "$T/in"
"$SERVER" --http-port 0 --https-port 0 --cert "$CERTS/server.pem" --key "$CERTS/server.key" \
    --quiet < "$T/in" > "$T/ready" &
SPID=$!
exec 3> "$T/in"
for _ in $(seq 1 100); do grep -q READY "$T/ready" 2>/dev/null && break; sleep 0.05; done
P=$(sed -n 's/^READY http=\([0-9]*\) .*/\1/p' "$T/ready")
S=$(sed -n 's/^READY .* https=\([0-9]*\)/\1/p' "$T/ready")
U=http://127.0.0.1:$P

check() { # name, expected exit, actual exit, extra condition (0 = ok)
    if [ "$2" = "$3" ] && [ "$4" = 0 ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: $1 (exit $3, want $2)"; fi
}

"$HXC" "$U/hello" > "$T/out"; rc=$?
check "body to stdout" 0 $rc "$(test "$(cat "$T/out")" = hello; echo $?)"

"$HXC" -o "$T/file" "$U/bytes/5000"; rc=$?
check "-o writes the body" 0 $rc "$(test "$(wc -c < "$T/file")" -eq 5000; echo $?)"

"$HXC" -o "$T/big" "$U/bytes/3000000"; rc=$?
check "-o streams a large body" 0 $rc "$(test "$(wc -c < "$T/big")" -eq 3000000 && head -c 26 "$T/big" | grep -q '^abcdefghijklmnopqrstuvwxyz$'; echo $?)"

"$HXC" --json --repeat 20 --parallel 5 --max-connections 2 "$U/bytes/100" > "$T/json"; rc=$?
lines=$(grep -c '"status":200,"http_version":"HTTP/1.1","bytes":100,' "$T/json")
conns=$(sed -n 's/.*"connection":\([0-9]*\).*/\1/p' "$T/json" | sort -u | wc -l)
check "--json --repeat over a pool of 2" 0 $rc "$(test "$lines" = 20 && test "$conns" = 2; echo $?)"

"$HXC" --json "$U/status/404" > "$T/json"; rc=$?
check "404 is a response, not a failure" 0 $rc "$(grep -q '"status":404.*"error":null' "$T/json"; echo $?)"

"$HXC" --json --read-timeout 0.3 "$U/hang" "$U/hello" > "$T/json" 2> "$T/err"; rc=$?
check "a failure exits 1 and names the error" 1 $rc \
    "$(grep -q '"error":"HXC_ETIMEOUT_READ: ' "$T/json" && grep -q 'HXC_ETIMEOUT_READ' "$T/err" && grep -q '"status":200' "$T/json"; echo $?)"

"$HXC" -d 'a=1' -H 'X-Test: yes' "$U/echo" > "$T/out"; rc=$?
check "-d posts, -H adds a header" 0 $rc \
    "$(head -1 "$T/out" | grep -q '^POST /echo' && grep -q '^X-Test: yes' "$T/out" && tail -c 3 "$T/out" | grep -q 'a=1'; echo $?)"

printf 'from a file' > "$T/data"
"$HXC" -X PUT --data-file "$T/data" "$U/echo" > "$T/out"; rc=$?
check "--data-file and -X" 0 $rc "$(head -1 "$T/out" | grep -q '^PUT /echo' && grep -q 'from a file' "$T/out"; echo $?)"

"$HXC" -v "$U/hello" > /dev/null 2> "$T/err"; rc=$?
check "-v prints heads" 0 $rc "$(grep -q '^> GET ' "$T/err" && grep -q '^< HTTP/1.1 200 OK' "$T/err"; echo $?)"

"$HXC" --cacert "$CERTS/ca.pem" "https://localhost:$S/hello" > "$T/out"; rc=$?
check "https with --cacert" 0 $rc "$(test "$(cat "$T/out")" = hello; echo $?)"

"$HXC" "https://localhost:$S/hello" > /dev/null 2> "$T/err"; rc=$?
check "unknown CA refused" 1 $rc "$(grep -q HXC_ETLS_VERIFY "$T/err"; echo $?)"

"$HXC" --insecure "https://localhost:$S/hello" > /dev/null; rc=$?
check "--insecure" 0 $rc 0

"$HXC" > /dev/null 2>&1; rc=$?
check "no URL is bad usage" 2 $rc 0
"$HXC" --bogus "$U/" > /dev/null 2>&1; rc=$?
check "unknown option" 2 $rc 0
"$HXC" -H 'nocolon' "$U/" > /dev/null 2>&1; rc=$?
check "bad header syntax" 2 $rc 0
"$HXC" --parallel 0 "$U/" > /dev/null 2>&1; rc=$?
check "bad number" 2 $rc 0
"$HXC" ftp://127.0.0.1/ > /dev/null 2> "$T/err"; rc=$?
check "unsupported scheme" 2 $rc "$(grep -q UNSUPPORTED_SCHEME "$T/err"; echo $?)"
"$HXC" http:///x > /dev/null 2> "$T/err"; rc=$?
check "a bad URL says why" 2 $rc "$(grep -q 'HXC_EBADURL: URL has no host' "$T/err"; echo $?)"
"$HXC" -o "$T/x" "$U/a" "$U/b" > /dev/null 2>&1; rc=$?
check "-o with several URLs" 2 $rc 0
"$HXC" --data-file /nonexistent "$U/" > /dev/null 2>&1; rc=$?
check "unreadable --data-file" 2 $rc 0
"$HXC" --version | grep -q '^hxc '; rc=$?
check "--version" 0 $rc 0

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
