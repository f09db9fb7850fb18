#!/bin/sh
# Roster and pay benchmark. First the engines alone (bench/bench_pay.c): a month of 2,000 people on
# rotating shifts through the roster and pay engines and the payroll totals. Then the real path with its
# database reads: a throwaway PostgreSQL (scripts/pg-cluster, --fast) loaded with a hospital month
# (bench/pay-load.sql: 2,000 people, ~70,000 punches), a daemon on it, and the month's report
# (GET /api/v1/exceptions: every work day computed), the resolved roster, the payroll export of the open
# period, its close (totals kept) and the export of the closed period, each timed with curl (median of
# PAY_BENCH_RUNS, default 5). Target: the whole hospital's export under 1 s. Run by `make bench`.
set -eu
BUILD=${ATTENDD_BUILD:-build}
SRC=${ATTENDD_SRCDIR:-.}
RUNS=${PAY_BENCH_RUNS:-5}
PGBIN=${ATTENDD_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

"$BUILD/bench/bench_pay"

for tool in curl python3; do
    command -v "$tool" >/dev/null || { echo "pay.sh: $tool is missing (scripts/install-deps --bench)" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/attendd-paybench-XXXXXX)
chmod 755 "$tmp"
daemon_pid=
cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
    "$SRC/scripts/pg-cluster" stop "$tmp/pg" >/dev/null 2>&1 || true
    "$SRC/scripts/pg-cluster" destroy "$tmp/pg" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$SRC/scripts/pg-cluster" init "$tmp/pg" --fast >/dev/null
"$SRC/scripts/pg-cluster" start "$tmp/pg" >/dev/null
"$SRC/scripts/pg-cluster" createdb "$tmp/pg" bench >/dev/null
CI=$("$SRC/scripts/pg-cluster" conninfo "$tmp/pg" bench)
psql() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$tmp/pg/sock" -U attendd -d bench "$@"; }

"$BUILD/attendctl" key create "$tmp/token.key" >/dev/null 2>&1
"$BUILD/attendctl" key create "$tmp/template.key" >/dev/null 2>&1
mkdir -p "$tmp/state"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
    echo "listen_address = 127.0.0.1"
    echo "port = $PORT"
    echo "database_url = \"$CI\""
    echo "models_dir = ${ATTENDD_MODELS_DIR:-$SRC/models}"
    echo "token_key_file = $tmp/token.key"
    echo "template_key_file = $tmp/template.key"
    echo "state_dir = $tmp/state"
    echo "log_level = warning"
    echo "timezone = Europe/Berlin"
    echo "report_max_days = 62"
} > "$tmp/attendd.conf"
"$BUILD/attendctl" --config "$tmp/attendd.conf" migrate >/dev/null
t0=$(date +%s)
psql -f "$SRC/bench/pay-load.sql" >/dev/null
t1=$(date +%s)
NPEOPLE=$(psql -At -c "SELECT count(*) FROM people")
NEV=$(psql -At -c "SELECT count(*) FROM events")
HR=$("$BUILD/attendctl" --config "$tmp/attendd.conf" token create --role hr --name bench 2>/dev/null)
ADMIN=$("$BUILD/attendctl" --config "$tmp/attendd.conf" token create --role admin --name bench-admin 2>/dev/null)

"$BUILD/attendd" --config "$tmp/attendd.conf" > "$tmp/attendd.log" 2>&1 &
daemon_pid=$!
BASE="http://127.0.0.1:$PORT"
i=0
until curl -sf -o /dev/null "$BASE/healthz"; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "attendd did not start:" >&2; tail -n 20 "$tmp/attendd.log" >&2; exit 1; }
    sleep 0.1
done
PERIOD=$(curl -sf -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d '{"name":"2026-03","from":"2026-03-01","to":"2026-03-31"}' "$BASE/api/v1/periods" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')

# median seconds of RUNS GETs of $2 (label $1); each answer must be 200; prints "label  median  bytes"
timed() {
    label=$1 path=$2 times=""
    for k in $(seq "$RUNS"); do
        out=$(curl -s -o "$tmp/body" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $HR" "$BASE$path")
        [ "${out%% *}" = 200 ] || { echo "GET $path: $out" >&2; head -c 400 "$tmp/body" >&2; exit 1; }
        times="$times ${out#* }"
    done
    med=$(echo "$times" | tr ' ' '\n' | grep . | sort -n | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }')
    printf '%-46s %8.0f ms  %9d bytes\n' "$label" "$(echo "$med" | awk '{ print $1 * 1000 }')" "$(wc -c < "$tmp/body")"
    echo "$med" > "$tmp/last"
}

echo "through the daemon and PostgreSQL: $NPEOPLE people, $NEV punches (loaded in $((t1 - t0)) s), March 2026;" \
     "$(nproc) cores; cluster --fast; median of $RUNS"
M="from=2026-03-01&to=2026-03-31"
timed "report: GET /api/v1/exceptions (every work day)" "/api/v1/exceptions?$M"
timed "roster: GET /api/v1/roster" "/api/v1/roster?$M"
timed "payroll export, open period (CSV)" "/api/v1/periods/$PERIOD/payroll?format=csv"
open_s=$(cat "$tmp/last")
timed "payroll export, open period (JSON)" "/api/v1/periods/$PERIOD/payroll?format=json"
lines=$(curl -s -H "Authorization: Bearer $HR" "$BASE/api/v1/periods/$PERIOD/payroll?format=csv" | wc -l)
[ "$lines" -eq $((NPEOPLE + 1)) ] || { echo "payroll export: $lines lines, want $((NPEOPLE + 1))" >&2; exit 1; }
close=$(curl -s -o "$tmp/body" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' -d '{"reason":"bench"}' "$BASE/api/v1/periods/$PERIOD/close")
[ "${close%% *}" = 200 ] || { echo "close: $close" >&2; cat "$tmp/body" >&2; exit 1; }
printf '%-46s %8.0f ms\n' "period close (totals computed and kept)" "$(echo "${close#* }" | awk '{ print $1 * 1000 }')"
timed "payroll export, closed period (CSV)" "/api/v1/periods/$PERIOD/payroll?format=csv"
echo "target: the whole hospital's payroll export under 1000 ms:" \
     "$(echo "$open_s" | awk '{ if ($1 < 1) print "met"; else print "MISSED" }') (open period, database reads included)"
