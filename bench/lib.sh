# Shared by the benchmarks that run attendd on a throwaway PostgreSQL (sourced, never run): the
# build's paths, a scratch folder that goes at exit with every daemon and the cluster started in it,
# the cluster and its databases, the key files, a daemon's configuration and its start.
# A script may define bench_cleanup_extra after sourcing this: it runs first at exit.
BUILD=${ATTENDD_BUILD:-build}
SRC=${ATTENDD_SRCDIR:-.}
PGBIN=${ATTENDD_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
BENCH=$(basename "$0") # for messages
bench_pids=            # daemons started by bench_start, stopped by bench_stop and at exit

# bench_need TOOL...: each on PATH, or exit naming the first missing one
bench_need() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "$BENCH: $tool is missing (scripts/install-deps --bench)" >&2; exit 1; }
    done
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# kill and wait for every daemon bench_start started
bench_stop() {
    for p in $bench_pids; do kill "$p" 2>/dev/null || true; done
    for p in $bench_pids; do wait "$p" 2>/dev/null || true; done
    bench_pids=
}

bench_cleanup_extra() { :; }
bench_cleanup() {
    bench_cleanup_extra
    bench_stop
    "$SRC/scripts/pg-cluster" stop "$tmp/pg" >/dev/null 2>&1 || true
    "$SRC/scripts/pg-cluster" destroy "$tmp/pg" >/dev/null 2>&1 || true # a relocated cluster's home too
    rm -rf "$tmp"
}

# bench_tmp KIND: the scratch folder $tmp (/tmp/attendd-KINDbench-XXXXXX, open to the cluster's user),
# cleaned up at exit
bench_tmp() {
    tmp=$(mktemp -d "/tmp/attendd-${1}bench-XXXXXX")
    chmod 755 "$tmp"
    trap bench_cleanup EXIT INT TERM
}

# bench_pg [--durable]: a PostgreSQL cluster in $tmp/pg, started (--fast, no fsync, unless --durable),
# and the daemons' key files $tmp/token.key and $tmp/template.key
bench_pg() {
    if [ "${1:-}" = --durable ]; then
        "$SRC/scripts/pg-cluster" init "$tmp/pg" >/dev/null
    else
        "$SRC/scripts/pg-cluster" init "$tmp/pg" --fast >/dev/null
    fi
    "$SRC/scripts/pg-cluster" start "$tmp/pg" >/dev/null
    "$BUILD/attendctl" key create "$tmp/token.key" >/dev/null 2>&1
    "$BUILD/attendctl" key create "$tmp/template.key" >/dev/null 2>&1
}

# bench_db NAME: a new database on the cluster
bench_db() { "$SRC/scripts/pg-cluster" createdb "$tmp/pg" "$1" >/dev/null; }
bench_conninfo() { "$SRC/scripts/pg-cluster" conninfo "$tmp/pg" "$1"; }
# bench_psql DB ARG...: psql on database DB, stopping at the first error
bench_psql() {
    bench_psql_db=$1
    shift
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$tmp/pg/sock" -U attendd -d "$bench_psql_db" "$@"
}

# bench_single: for a benchmark of one daemon, the database "bench" (its conninfo in CI, psql() on
# it), the state folder $tmp/state and a free PORT
bench_single() {
    bench_db bench
    CI=$(bench_conninfo bench)
    psql() { bench_psql bench "$@"; }
    mkdir -p "$tmp/state"
    PORT=$(free_port)
}

# bench_conf PORT CONNINFO STATE_DIR: the configuration lines every benchmark daemon has (loopback,
# the shared key files, warnings only) on stdout; the caller adds its own and makes STATE_DIR
bench_conf() {
    echo "listen_address = 127.0.0.1"
    echo "port = $1"
    echo "database_url = \"$2\""
    echo "models_dir = ${ATTENDD_MODELS_DIR:-$SRC/models}"
    echo "token_key_file = $tmp/token.key"
    echo "template_key_file = $tmp/template.key"
    echo "state_dir = $3"
    echo "log_level = warning"
}

# bench_token CONF ROLE NAME: a new API token's secret on stdout
bench_token() { "$BUILD/attendctl" --config "$1" token create --role "$2" --name "$3" 2>/dev/null; }

# bench_start CONF LOG URL PROBE TRIES: attendd on CONF (its output appended to LOG), waited for until
# URL/PROBE answers 200, at most TRIES tenths of a second; its pid in BENCH_PID
bench_start() {
    "$BUILD/attendd" --config "$1" >> "$2" 2>&1 &
    BENCH_PID=$!
    bench_pids="$bench_pids $BENCH_PID"
    bench_n=0
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "$3$4")" = 200 ]; do
        bench_n=$((bench_n + 1))
        [ $bench_n -lt "$5" ] || { echo "$BENCH: attendd ($1) did not answer $4:" >&2; tail -n 20 "$2" >&2; exit 1; }
        sleep 0.1
    done
}
