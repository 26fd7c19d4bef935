#!/bin/sh
# SPDX-License-Identifier: MIT
# The demo: starts the project's test server on loopback (HTTP and HTTPS),
# then shows hxc at work through its CLI: many concurrent requests through one
# client, each response's status, protocol and pooled connection, a summary.
set -eu
BUILD=${1:-build}
SERVER=$BUILD/test/server/hxc-testserver
HXC=$BUILD/samples/hxc
CERTS=$BUILD/test/certs
[ -x "$SERVER" ] && [ -x "$HXC" ] || { echo "demo: build first (make build)" >&2; exit 1; }

OUT=$(mktemp -d)
trap 'kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; rm -rf "$OUT"' EXIT
mkfifo "$OUT/in"
"$SERVER" --http-port 0 --https-port 0 --cert "$CERTS/server.pem" --key "$CERTS/server.key" \
    --quiet < "$OUT/in" > "$OUT/ready" &
SPID=$!
exec 3> "$OUT/in"   # keeps the server's stdin open; it exits when we do
for _ in $(seq 1 100); do grep -q READY "$OUT/ready" 2>/dev/null && break; sleep 0.05; done
HTTP=$(sed -n 's/^READY http=\([0-9]*\) https=\([0-9]*\).*/\1/p' "$OUT/ready")
HTTPS=$(sed -n 's/^READY http=\([0-9]*\) https=\([0-9]*\).*/\2/p' "$OUT/ready")
[ -n "$HTTP" ] || { echo "demo: the test server did not start" >&2; exit 1; }

summary() {
    # $1: file of JSON lines written by hxc --json
    awk -F'[,:{}]' '
      { for (i = 1; i <= NF; i++) {
          if ($i == "\"status\"") st[$(i+1)]++;
          if ($i == "\"http_version\"") v[$(i+1)]++;
          if ($i == "\"connection\"") c[$(i+1)] = 1;
          if ($i == "\"error\"" && $(i+1) != "null") err++;
          if ($i == "\"time_total\"") t += $(i+1);
        } n++ }
      END {
        nc = 0; for (k in c) nc++;
        printf "  %d responses over %d pooled connections, %d errors, mean time %.2f ms\n", n, nc, err, n ? t * 1000 / n : 0;
        for (k in st) printf "  status %s: %d\n", k, st[k];
        for (k in v) printf "  protocol %s: %d\n", k, v[k];
      }' "$1"
}

echo "== hxc demo: a local test server on 127.0.0.1 (http :$HTTP, https :$HTTPS)"
echo
echo "== 200 concurrent GETs over cleartext HTTP/1.1, at most 50 in flight, pool of 10 connections"
echo "   \$ hxc --json --repeat 200 --parallel 50 --max-connections 10 http://127.0.0.1:$HTTP/bytes/1024"
"$HXC" --json --repeat 200 --parallel 50 --max-connections 10 "http://127.0.0.1:$HTTP/bytes/1024" > "$OUT/h1.json"
head -n 5 "$OUT/h1.json"
echo "   ..."
summary "$OUT/h1.json"
echo
echo "== 100 GETs over TLS (certificate verified against the demo CA), pool of 4 connections"
echo "   \$ hxc --json --repeat 100 --max-connections 4 --cacert test-ca.pem https://localhost:$HTTPS/bytes/1024"
"$HXC" --json --repeat 100 --max-connections 4 --cacert "$CERTS/ca.pem" \
    "https://localhost:$HTTPS/bytes/1024" > "$OUT/tls.json"
head -n 3 "$OUT/tls.json"
echo "   ..."
summary "$OUT/tls.json"
echo
echo "== the same 200 requests with HTTP/2 offered by ALPN: streams multiplexed on few connections"
echo "   \$ hxc --http2 --json --repeat 200 --parallel 200 --cacert test-ca.pem https://localhost:$HTTPS/bytes/1024"
"$HXC" --http2 --json --repeat 200 --parallel 200 --cacert "$CERTS/ca.pem" \
    "https://localhost:$HTTPS/bytes/1024" > "$OUT/h2.json"
head -n 3 "$OUT/h2.json"
echo "   ..."
summary "$OUT/h2.json"
echo
echo "== HTTP/2 over cleartext by prior knowledge (h2c), 1000 concurrent requests"
echo "   \$ hxc --http2-prior-knowledge --json --repeat 1000 --parallel 1000 http://127.0.0.1:$HTTP/bytes/1024"
"$HXC" --http2-prior-knowledge --json --repeat 1000 --parallel 1000 \
    "http://127.0.0.1:$HTTP/bytes/1024" > "$OUT/h2c.json"
summary "$OUT/h2c.json"
echo "   (the server allows 100 concurrent streams per connection: sessions open as they fill)"
echo
echo "== faults are errors with a category, never a crash; the other requests go on"
echo "   \$ hxc --json --read-timeout 0.5 .../hello .../hang .../bad/chunk-size .../status/404"
"$HXC" --json --read-timeout 0.5 "http://127.0.0.1:$HTTP/hello" "http://127.0.0.1:$HTTP/hang" \
    "http://127.0.0.1:$HTTP/bad/chunk-size" "http://127.0.0.1:$HTTP/status/404" 2>/dev/null || true
echo
echo "== an untrusted certificate is refused unless verification is turned off by name"
"$HXC" "https://localhost:$HTTPS/hello" 2>&1 >/dev/null | sed 's/^/   /' || true
printf '   with --insecure: '
"$HXC" --insecure "https://localhost:$HTTPS/hello"
echo
echo "demo: done"
