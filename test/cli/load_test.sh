#!/bin/sh
# SPDX-License-Identifier: MIT
# hxc-load end to end: counts, JSON, merge, rate mode, HTML report, errors
# counted by category; the rate mode's percentiles against a known truth (the
# server's /stall), with bounds wide enough for a loaded machine under ASan.
# Usage: load_test.sh HXC_LOAD SERVER
set -u
LOAD=$1 SERVER=$2
T=$(mktemp -d)
pass=0 fail=0
cleanup() { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
mkfifo "$T/in"
"$SERVER" --http-port 0 --h2-max-streams 200 --quiet < "$T/in" > "$T/ready" &
SPID=$!
exec 3> "$T/in"
for _ in $(seq 1 100); do grep -q READY "$T/ready" 2>/dev/null && break; sleep 0.05; done
P=$(sed -n 's/^READY http=\([0-9]*\) .*/\1/p' "$T/ready")
U=http://127.0.0.1:$P
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; }

"$LOAD" -q -n 2000 -c 2 -m 20 -t 2 "$U/bytes/100" > "$T/out" || bad "h2c run exit"
grep -q '^requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed' "$T/out" && ok || bad "h2c counts"
grep -q '^status codes: 2000 2xx' "$T/out" && ok || bad "status codes"
grep -q 'latency percentiles: p50=' "$T/out" && ok || bad "percentiles"

"$LOAD" -q --h1 -n 500 -c 5 "$U/hello" > "$T/out" || bad "h1 run exit"
grep -q '500 succeeded' "$T/out" && ok || bad "h1 counts"

"$LOAD" -q -n 300 -c 1 -m 10 --json "$U/hello" > "$T/a.json" || bad "json a"
"$LOAD" -q -n 700 -c 1 -m 10 --json "$U/hello" > "$T/b.json" || bad "json b"
grep -q '"done":300,' "$T/a.json" && ok || bad "json done"
"$LOAD" --merge "$T/a.json" "$T/b.json" > "$T/m" || bad "merge exit"
grep -q '^requests: 1000 total, 1000 started, 1000 done, 1000 succeeded' "$T/m" && ok || bad "merged counts"
"$LOAD" --merge "$T/a.json" "$T/nonexistent.json" > /dev/null 2>&1 && bad "merge of a missing file" || ok

"$LOAD" -q -D 0.5 -R 2000 -c 2 -m 10 --html "$T/r.html" "$U/hello" > "$T/out" || bad "rate run exit"
done=$(sed -n 's/^requests: \([0-9]*\) total.*/\1/p' "$T/out")
[ "$done" -ge 800 ] && [ "$done" -le 1100 ] && ok || bad "rate mode count ($done)"
# self-contained: an inline SVG plot, nothing fetched at view time
grep -q '<svg' "$T/r.html" && ! grep -qE '(src|href)="' "$T/r.html" && ok || bad "html report"

# A percentile of a --json run, in microseconds.
pct() { sed -n "s/.*\"percentiles_ns\":{.*\"$2\":\([0-9]*\).*/\1/p" "$1" | awk '{ print int($1 / 1000) }'; }
# -R starts each request at its intended time: at a modest rate against
# /hello (answered in about 0.1 ms) the median stays well under a
# millisecond. A 1 ms tick on libevent's coarse clock made it 2-3 ms.
"$LOAD" -q -D 1 -R 200 -c 2 -m 10 --json "$U/hello" > "$T/hello.json" || bad "hello rate run exit"
p50=$(pct "$T/hello.json" p50)
[ -n "$p50" ] && [ "$p50" -lt 1000 ] && ok || bad "rate mode p50 against /hello (${p50}us)"
grep -q '"start_lag":{"total":[1-9]' "$T/hello.json" && ok || bad "start lag recorded"
# /stall stalls 200 ms of every second: with uniform arrivals over whole
# seconds, 20 % of requests wait 0-200 ms, so p50 ~ 0, p90 ~ 100 ms, p99 ~
# 190 ms. 60 HTTP/1.1 connections (40 requests arrive in a stall) or one
# HTTP/2 connection of 100 streams: no request waits for a connection.
stall() {
    "$LOAD" -q -D 2 -R 200 "$@" --json "$U/stall" > "$T/stall.json" || bad "stall run exit ($*)"
    p50=$(pct "$T/stall.json" p50) p90=$(pct "$T/stall.json" p90) p99=$(pct "$T/stall.json" p99)
    grep -q '"errored":0,' "$T/stall.json" && ok || bad "stall run errors ($*)"
    [ -n "$p50" ] && [ "$p50" -lt 20000 ] && ok || bad "stall p50 ${p50}us ($*)"
    [ -n "$p90" ] && [ "$p90" -ge 60000 ] && [ "$p90" -le 140000 ] && ok || bad "stall p90 ${p90}us ($*)"
    [ -n "$p99" ] && [ "$p99" -ge 150000 ] && [ "$p99" -le 230000 ] && ok || bad "stall p99 ${p99}us ($*)"
}
stall --h1 -c 60
stall -c 1 -m 100

"$LOAD" -q -n 50 -c 1 http://127.0.0.1:1/ > "$T/out"
grep -q '50 errored' "$T/out" && grep -q '^errors: 0 timeout, 50 network' "$T/out" && ok || bad "errors by category"
"$LOAD" > /dev/null 2>&1; [ $? = 2 ] && ok || bad "usage exit"
"$LOAD" -n 10 ftp://x/ > /dev/null 2>&1; [ $? = 2 ] && ok || bad "bad URI exit"
"$LOAD" -n 10 http://h:0/ 2>&1 | grep -q 'HXC_EBADURL: bad port' && ok || bad "bad URI says why"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
