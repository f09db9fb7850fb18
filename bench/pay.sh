#!/bin/sh
# Roster and pay benchmark. First the engines alone (bench/bench_pay.c): a month of 2,000 people on
# rotating shifts through the roster and pay engines and the payroll totals. Then the real path with its
# database reads: a throwaway PostgreSQL (scripts/pg-cluster, --fast) loaded with a hospital month
# (bench/pay-load.sql: 2,000 people, ~70,000 punches), a daemon on it, and the month's report
# (GET /api/v1/exceptions: every work day computed), the resolved roster, the payroll export of the open
# period, its close (totals kept) and the export of the closed period, each timed with curl (median of
# PAY_BENCH_RUNS, default 5). Target: the whole hospital's export under 1 s. Run by `make bench`.
set -eu
. "$(dirname "$0")/lib.sh"
RUNS=${PAY_BENCH_RUNS:-5}

"$BUILD/bench/bench_pay"

bench_need curl python3
bench_tmp pay
bench_pg
bench_single
{
    bench_conf "$PORT" "$CI" "$tmp/state"
    echo "timezone = Europe/Berlin"
    echo "report_max_days = 62"
} > "$tmp/attendd.conf"
"$BUILD/attendctl" --config "$tmp/attendd.conf" migrate >/dev/null
t0=$(date +%s)
psql -f "$SRC/bench/pay-load.sql" >/dev/null
t1=$(date +%s)
NPEOPLE=$(psql -At -c "SELECT count(*) FROM people")
NEV=$(psql -At -c "SELECT count(*) FROM events")
HR=$(bench_token "$tmp/attendd.conf" hr bench)
ADMIN=$(bench_token "$tmp/attendd.conf" admin bench-admin)

BASE="http://127.0.0.1:$PORT"
bench_start "$tmp/attendd.conf" "$tmp/attendd.log" "$BASE" /healthz 300
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
