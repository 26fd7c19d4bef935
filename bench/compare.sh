#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/compare.sh - hxc-load next to h2load, wrk and a libcurl multi driver,
# same shape of load, same run, against Debian's nghttpd, h2o and nginx started
# here on loopback. Servers are pinned to CPU 0, clients to CPU 1.
#
#   bench/compare.sh [BUILD_DIR] [SCALE] [REPEAT]   (make bench runs it on build/)
#
# Prints one table: requests/s, client CPU per request (user + sys of the
# client process), peak RSS, and each tool's CPU per request relative to
# hxc-load. Every case runs REPEAT times (default 3), the tools taking turns,
# and the table gives each tool's median (the largest RSS): one run on a
# shared machine can be off by 20 %. A benchmark, not a test: nothing fails
# on a number.
set -u
BUILD=$(cd "${1:-build}" && pwd)
SCALE=${2:-1}
REPEAT=${3:-3}
N=$((100000 * SCALE))
NBIG=$((20000 * SCALE))
CERTS=$BUILD/test/certs
HXC=$BUILD/bench/hxc-load
CURLM=$BUILD/bench/curl-multi
for t in "$HXC" /usr/bin/h2load /usr/bin/wrk /usr/sbin/nghttpd /usr/sbin/nginx /usr/bin/h2o; do
    [ -x "$t" ] || { echo "compare: $t missing (make build; make deps)" >&2; exit 1; }
done
[ -x "$CURLM" ] || CURLM=""
CPUS=$(nproc)
SRV_PIN=""; CLI_PIN=""
if [ "$CPUS" -ge 2 ] && command -v taskset > /dev/null; then SRV_PIN="taskset -c 0"; CLI_PIN="taskset -c 1"; fi

W=$(mktemp -d /tmp/hxc-bench-XXXXXX)
chmod 755 "$W"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$W/www"
head -c 1024 /dev/zero | tr '\0' 'a' > "$W/www/1k"
head -c 102400 /dev/zero | tr '\0' 'b' > "$W/www/100k"
chmod 644 "$W/www/"*
ulimit -n 20000 2>/dev/null || true

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }

P_H2C=$(port); P_H2=$(port); P_H2O=$(port); P_NGX=$(port)
# The 10,000 sockets of a many-connections run stay in TIME_WAIT for minutes
# here, and a run that connects to the same server port among them spends
# twice the CPU finding client ports (whichever tool ran second paid for the
# first). So each such run gets a server port of its own: its 4-tuples are new.
TENK=()
for _ in $(seq $((2 * REPEAT))); do TENK+=("$(port)"); done
$SRV_PIN nghttpd --no-tls -a 127.0.0.1 -d "$W/www" --max-concurrent-streams=1000 "$P_H2C" > "$W/nghttpd-c.log" 2>&1 & PIDS+=($!)
$SRV_PIN nghttpd -a 127.0.0.1 -d "$W/www" --max-concurrent-streams=1000 "$P_H2" "$CERTS/server.key" "$CERTS/server.pem" > "$W/nghttpd.log" 2>&1 & PIDS+=($!)
cat > "$W/h2o.conf" <<CONF
listen:
  host: 127.0.0.1
  port: $P_H2O
  ssl:
    certificate-file: $CERTS/server.pem
    key-file: $CERTS/server.key
    ocsp-update-interval: 0
num-threads: 1
user: nobody
error-log: $W/h2o-error.log
access-log: /dev/null
hosts:
  default:
    paths:
      /:
        file.dir: $W/www
CONF
$SRV_PIN h2o -c "$W/h2o.conf" > "$W/h2o.log" 2>&1 & PIDS+=($!)
cat > "$W/nginx.conf" <<CONF
worker_processes 1; daemon off; master_process off; pid $W/nginx.pid; error_log $W/nginx-error.log;
worker_rlimit_nofile 20000;
events { worker_connections 20000; }
http { access_log off; keepalive_requests 100000; client_body_temp_path $W; proxy_temp_path $W;
  fastcgi_temp_path $W; uwsgi_temp_path $W; scgi_temp_path $W;
  server { listen 127.0.0.1:$P_NGX backlog=20000; root $W/www;
$(for p in "${TENK[@]}"; do echo "    listen 127.0.0.1:$p backlog=20000;"; done)
  } }
CONF
$SRV_PIN nginx -p "$W" -c "$W/nginx.conf" > "$W/nginx.log" 2>&1 & PIDS+=($!)
for p in $P_H2C $P_H2 $P_H2O $P_NGX "${TENK[0]}"; do wait_port "$p" || { echo "compare: a server did not start (see $W)" >&2; exit 1; }; done

RESULTS=$W/results
: > "$RESULTS"
# run CASE TOOL REQUESTS_PARSER -- command...
run() {
    local case=$1 tool=$2; shift 2
    /usr/bin/time -f "%U %S %M" -o "$W/time" $CLI_PIN "$@" > "$W/out" 2>&1
    local cpu rss reqs rate
    read -r u s rss < <(tail -n 1 "$W/time")
    cpu=$(echo "$u + $s" | bc -l)
    case $tool in
        wrk) reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$W/out")
             rate=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$W/out") ;;
        curl*) reqs=$(sed -n 's/.*req\/s, \([0-9]*\) requests.*/\1/p' "$W/out")
               rate=$(sed -n 's/.*s, \([0-9.]*\) req\/s.*/\1/p' "$W/out") ;;
        *) reqs=$(sed -n 's/^requests: [0-9]* total, [0-9]* started, \([0-9]*\) done.*/\1/p' "$W/out")
           rate=$(sed -n 's/^finished in [0-9.a-z]*, \([0-9.]*\) req\/s.*/\1/p' "$W/out") ;;
    esac
    if [ -z "$reqs" ] || [ "$reqs" = 0 ]; then
        echo "$case|$tool|failed|-|-" >> "$RESULTS"; sed 's/^/    /' "$W/out" | tail -3 >&2; return
    fi
    echo "$case|$tool|$rate|$(echo "$cpu * 1000000 / $reqs" | bc -l)|$((rss / 1024))" >> "$RESULTS"
}

for rep in $(seq "$REPEAT"); do
    C="h2 TLS 1x100 (1 KiB)"
    run "$C" h2load h2load -n $N -c 1 -m 100 "https://127.0.0.1:$P_H2/1k"
    [ -n "$CURLM" ] && run "$C" curl-multi "$CURLM" -n $N -c 1 -m 100 --insecure "https://127.0.0.1:$P_H2/1k"
    run "$C" hxc-load "$HXC" -q -n $N -c 1 -m 100 --insecure "https://127.0.0.1:$P_H2/1k"
    C="h2 TLS 10x100 (1 KiB)"
    run "$C" h2load h2load -n $N -c 10 -m 100 "https://127.0.0.1:$P_H2/1k"
    [ -n "$CURLM" ] && run "$C" curl-multi "$CURLM" -n $N -c 10 -m 100 --insecure "https://127.0.0.1:$P_H2/1k"
    run "$C" hxc-load "$HXC" -q -n $N -c 10 -m 100 --insecure "https://127.0.0.1:$P_H2/1k"
    C="h2c 1x100 (1 KiB)"
    run "$C" h2load h2load -n $N -c 1 -m 100 "http://127.0.0.1:$P_H2C/1k"
    run "$C" hxc-load "$HXC" -q -n $N -c 1 -m 100 "http://127.0.0.1:$P_H2C/1k"
    C="HTTP/1.1 100 conns (1 KiB)"
    run "$C" h2load h2load --h1 -n $N -c 100 "http://127.0.0.1:$P_NGX/1k"
    run "$C" wrk wrk -t 1 -c 100 -d 3s "http://127.0.0.1:$P_NGX/1k"
    [ -n "$CURLM" ] && run "$C" curl-multi "$CURLM" -n $N -c 100 --h1 "http://127.0.0.1:$P_NGX/1k"
    run "$C" hxc-load "$HXC" -q --h1 -n $N -c 100 "http://127.0.0.1:$P_NGX/1k"
    C="h2 TLS 1x10 (100 KiB, h2o)"
    run "$C" h2load h2load -n $NBIG -c 1 -m 10 "https://127.0.0.1:$P_H2O/100k"
    [ -n "$CURLM" ] && run "$C" curl-multi "$CURLM" -n $NBIG -c 1 -m 10 --insecure "https://127.0.0.1:$P_H2O/100k"
    run "$C" hxc-load "$HXC" -q -n $NBIG -c 1 -m 10 --insecure "https://127.0.0.1:$P_H2O/100k"
    C="HTTP/1.1 10000 conns (memory)"
    run "$C" h2load h2load --h1 -n 20000 -c 10000 "http://127.0.0.1:${TENK[2 * rep - 2]}/1k"
    run "$C" hxc-load "$HXC" -q --h1 -n 20000 -c 10000 "http://127.0.0.1:${TENK[2 * rep - 1]}/1k"
done

echo "hxc-load comparison, $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -m), client pinned: ${CLI_PIN:-no}, median of $REPEAT runs"
echo
awk -F'|' '
  function median(list,   n, a, i, j, x) {
    n = split(list, a, " ");
    for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j > 0 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2;
  }
  {
    k = $1 SUBSEP $2;
    if (!(k in seen)) { seen[k] = 1; order[++nk] = k; c[nk] = $1; t[nk] = $2 }
    if ($3 == "failed") { failed[k]++; next }
    r[k] = r[k] " " $3; u[k] = u[k] " " $4; if ($5 + 0 > m[k] + 0) m[k] = $5;
  }
  END {
    for (i = 1; i <= nk; i++) {
      k = order[i];
      if (r[k] != "") { mr[k] = median(r[k]); mu[k] = median(u[k]) }
      if (t[i] == "hxc-load" && r[k] != "") base[c[i]] = mu[k];
    }
    printf "| %-30s | %-10s | %12s | %12s | %8s | %14s |\n", "case", "tool", "req/s", "CPU us/req", "RSS MB", "CPU vs hxc-load";
    printf "| %-30s | %-10s | %12s | %12s | %8s | %14s |\n", "---", "---", "---:", "---:", "---:", "---:";
    for (i = 1; i <= nk; i++) {
      k = order[i];
      if (r[k] == "") { printf "| %-30s | %-10s | %12s | %12s | %8s | %14s |\n", c[i], t[i], "failed", "-", "-", "-"; continue }
      ratio = base[c[i]] > 0 ? sprintf("%.2fx", mu[k] / base[c[i]]) : "-";
      printf "| %-30s | %-10s | %12.0f | %12.2f | %8s | %14s |\n", c[i], t[i], mr[k], mu[k], m[k], ratio;
    }
  }' "$RESULTS"
