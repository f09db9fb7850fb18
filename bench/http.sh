#!/bin/sh
# HTTP API benchmark: a daemon on a throwaway PostgreSQL (scripts/pg-cluster) loaded with 1,000,000
# events and 2,000 people (bench/http-load.sql), measured with wrk (-t2 -c64) on the newest events
# page, a filtered page deep in history, distinct pages (no two alike: the database path), the 304
# path and a one-month department report; beside each, nginx serving the same body as a static file
# (the ceiling). Prints one table row per case and the report's single-request latency.
# Knobs: HTTP_BENCH_SECONDS (10), HTTP_BENCH_EVENTS_PER_PERSON (500), HTTP_BENCH_THREADS (daemon's
# http_threads, default: its own default), HTTP_BENCH_DURABLE=1 (fsync on; default: a --fast cluster).
set -eu
. "$(dirname "$0")/lib.sh"
SECS=${HTTP_BENCH_SECONDS:-10}
PER_PERSON=${HTTP_BENCH_EVENTS_PER_PERSON:-500}
bench_need wrk curl python3
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "http.sh: nginx is missing (scripts/install-deps --bench)" >&2; exit 1; }

bench_tmp http
nginx_pid=
bench_cleanup_extra() {
    [ -n "$nginx_pid" ] || return 0
    # the nginx master itself (under runuser as root: signalling runuser makes it complain)
    if [ -f "$tmp/nginx/nginx.pid" ]; then kill "$(cat "$tmp/nginx/nginx.pid")" 2>/dev/null || true
    else kill "$nginx_pid" 2>/dev/null || true; fi
    wait "$nginx_pid" 2>/dev/null || true
}

# ---- database and daemon -------------------------------------------------------------------------
if [ "${HTTP_BENCH_DURABLE:-0}" = 1 ]; then bench_pg --durable; else bench_pg; fi
bench_single
{
    bench_conf "$PORT" "$CI" "$tmp/state"
    echo "max_connections_per_ip = 0" # wrk's 64 connections and curl share one address
    [ -z "${HTTP_BENCH_THREADS:-}" ] || echo "http_threads = $HTTP_BENCH_THREADS"
} > "$tmp/attendd.conf"
"$BUILD/attendctl" --config "$tmp/attendd.conf" migrate >/dev/null

t0=$(date +%s)
psql -v events_per_person="$PER_PERSON" -f "$SRC/bench/http-load.sql"
t1=$(date +%s)
NEV=$(psql -At -c "SELECT count(*) FROM events")
NPEOPLE=$(psql -At -c "SELECT count(*) FROM people")
TOKEN=$(bench_token "$tmp/attendd.conf" hr bench)

BASE="http://127.0.0.1:$PORT"
bench_start "$tmp/attendd.conf" "$tmp/attendd.log" "$BASE" /healthz 100

# ---- nginx: the same bodies as static files, unprivileged, on its own loopback port ---------------------
NPORT=$(free_port)
ng="$tmp/nginx"
mkdir -p "$ng/www" "$ng/tmp" "$ng/logs"
cat > "$ng/nginx.conf" <<CONF
daemon off;
worker_processes auto;
pid $ng/nginx.pid;
error_log $ng/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $ng/tmp/body;
    proxy_temp_path $ng/tmp/proxy;
    fastcgi_temp_path $ng/tmp/fastcgi;
    uwsgi_temp_path $ng/tmp/uwsgi;
    scgi_temp_path $ng/tmp/scgi;
    types { application/json json; }
    server {
        listen 127.0.0.1:$NPORT;
        root $ng/www;
    }
}
CONF
if [ "$(id -u)" -eq 0 ]; then
    chown -R nobody "$ng"
    runuser -u nobody -- "$NGINX" -e "$ng/logs/error.log" -p "$ng" -c "$ng/nginx.conf" &
else
    "$NGINX" -e "$ng/logs/error.log" -p "$ng" -c "$ng/nginx.conf" &
fi
nginx_pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$NPORT/"; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "nginx did not start:" >&2; cat "$ng/logs/error.log" >&2; exit 1; }
    sleep 0.1
done

# ---- the cases ----------------------------------------------------------------------------------------
PERSON=$(psql -At -c "SELECT id FROM people ORDER BY employee_no OFFSET 77 LIMIT 1")
DEEP=$(psql -At -c "SELECT to_char((min(ts) + interval '20 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM events")
MONTH_FROM=$(psql -At -c "SELECT to_char(date_trunc('month', current_date) - interval '1 month', 'YYYY-MM-DD')")
MONTH_TO=$(psql -At -c "SELECT to_char(date_trunc('month', current_date) - interval '1 day', 'YYYY-MM-DD')")
NEWEST="/api/v1/events?limit=100"
DEEPQ="/api/v1/events?person_id=$PERSON&until=$DEEP&limit=100"
REPORT="/api/v1/attendance?from=$MONTH_FROM&to=$MONTH_TO&department=ICU"
AUTH="Authorization: Bearer $TOKEN"

# body and ETag of one daemon answer into the nginx root as file $2
fetch() {
    code=$(curl -s -o "$ng/www/$2" -D "$tmp/headers" -w '%{http_code}' -H "$AUTH" "$BASE$1")
    [ "$code" = 200 ] || { echo "GET $1: $code" >&2; cat "$ng/www/$2" >&2; exit 1; }
    chmod 644 "$ng/www/$2"
    sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' "$tmp/headers" | tr -d '\r'
}

# wrk run: prints "req/s p50_ms p99_ms non2xx"
run_wrk() {
    wrk -t2 -c64 -d"${SECS}s" --latency "$@" > "$tmp/wrk.out" 2>&1 || { cat "$tmp/wrk.out" >&2; exit 1; }
    awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /Requests\/sec/ { rps = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        /Non-2xx/ { bad = $NF }
        END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad }' "$tmp/wrk.out"
}

# distinct pages: every request another `until` (one second apart), so no answer repeats
cat > "$tmp/distinct.lua" <<'LUA'
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
local n = 0
function request()
    n = n + 1
    local t = os.time() - 86400 * (1 + 40 * tid) - 7 * n
    return wrk.format("GET", "/api/v1/events?limit=100&until=" .. os.date("!%Y-%m-%dT%H:%M:%SZ", t))
end
LUA

row() { # case, daemon figures, nginx figures
    set -- "$1" $2 $3
    ratio=$(awk -v a="$2" -v b="$6" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    printf '%-34s %9s %8s %8s | %9s %8s %8s | %5s%s\n' "$1" "$2" "$3" "$4" "$6" "$7" "$8" "$ratio" \
        "$([ "$5" = 0 ] || echo "  ($5 non-2xx/3xx)")"
}

echo "attendd HTTP on loopback: $NEV events, $NPEOPLE people (loaded in $((t1 - t0)) s); wrk -t2 -c64 -d${SECS}s;" \
     "$(nproc) cores; cluster $([ "${HTTP_BENCH_DURABLE:-0}" = 1 ] && echo durable || echo '--fast (fsync off)')"
echo "latencies in ms; ratio = attendd req/s / nginx req/s (nginx serves the same body as a static file)"
printf '%-34s %9s %8s %8s | %9s %8s %8s | %5s\n' case "req/s" p50 p99 "nginx r/s" p50 p99 ratio

ET=$(fetch "$NEWEST" newest.json)
d=$(run_wrk -H "$AUTH" "$BASE$NEWEST"); n=$(run_wrk "http://127.0.0.1:$NPORT/newest.json")
row "events newest page (limit=100)" "$d" "$n"

fetch "$DEEPQ" deep.json >/dev/null
d=$(run_wrk -H "$AUTH" "$BASE$DEEPQ"); n=$(run_wrk "http://127.0.0.1:$NPORT/deep.json")
row "events person+until deep page" "$d" "$n"

d=$(run_wrk -s "$tmp/distinct.lua" -H "$AUTH" "$BASE"); n=$(run_wrk "http://127.0.0.1:$NPORT/newest.json")
row "events distinct pages (no reuse)" "$d" "$n"

ET=$(fetch "$NEWEST" newest.json)
NET=$(curl -s -D - -o /dev/null "http://127.0.0.1:$NPORT/newest.json" | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' | tr -d '\r')
d=$(run_wrk -H "$AUTH" -H "If-None-Match: $ET" "$BASE$NEWEST")
n=$(run_wrk -H "If-None-Match: $NET" "http://127.0.0.1:$NPORT/newest.json")
row "events 304 (If-None-Match)" "$d" "$n"

fetch "$REPORT" report.json >/dev/null
d=$(run_wrk -H "$AUTH" "$BASE$REPORT"); n=$(run_wrk "http://127.0.0.1:$NPORT/report.json")
row "attendance ICU $MONTH_FROM..$MONTH_TO" "$d" "$n"

# single-request latency of the month report: 7 runs, median
times=""
for k in 1 2 3 4 5 6 7; do
    times="$times $(curl -s -o /dev/null -w '%{time_total}' -H "$AUTH" "$BASE$REPORT")"
done
echo "$times" | tr ' ' '\n' | grep . | sort -n | awk -v sz="$(wc -c < "$ng/www/report.json")" '
    { t[NR] = $1 * 1000 } END { printf "attendance month report, one request: median %.1f ms (min %.1f, max %.1f; %d bytes, 7 runs)\n", t[4], t[1], t[7], sz }'
echo "targets: 304 >= 0.5 x nginx; event pages >= 5000 req/s with p99 < 25 ms; month report < 200 ms"
