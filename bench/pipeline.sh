#!/bin/sh
# Camera pipeline benchmark: N copies of shift-change.mp4 over RTSP (tests/tools/rtsp-server.py) at
# once, decode only and then full analysis into a throwaway PostgreSQL (scripts/pg-cluster), for
# N in ${PIPELINE_BENCH_N:-1 4 8 16}. One table row per run (bench/bench_pipeline.c).
set -eu
BUILD=${ATTENDD_BUILD:-build}
SRC=${ATTENDD_SRCDIR:-.}
DATA=${ATTENDD_DATA:?set ATTENDD_DATA}
CLIP=$DATA/video/shift-change.mp4
FPS=${PIPELINE_BENCH_FPS:-6}
tmp=$(mktemp -d /tmp/attendd-bench-XXXXXX)
chmod 755 "$tmp"
srv_pid=
cleanup() {
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null || true
    "$SRC/scripts/pg-cluster" stop "$tmp/pg" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
"$SRC/scripts/pg-cluster" init "$tmp/pg" --fast >/dev/null
"$SRC/scripts/pg-cluster" start "$tmp/pg" >/dev/null
"$SRC/scripts/pg-cluster" createdb "$tmp/pg" bench >/dev/null
CI="host=$tmp/pg/sock port=5432 user=attendd dbname=bench"

# serve N copies, each played to one client only; sets PORT
serve() {
    : > "$tmp/srv.out"
    /usr/bin/python3 "$SRC/tests/tools/rtsp-server.py" --clip "$CLIP" --port 0 --copies "$1" --once > "$tmp/srv.out" 2>/dev/null &
    srv_pid=$!
    i=0
    until grep -q READY "$tmp/srv.out"; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "rtsp server did not start" >&2; exit 1; }
        sleep 0.1
    done
    PORT=$(awk '/READY/ {print $2}' "$tmp/srv.out")
}
unserve() { kill "$srv_pid"; wait "$srv_pid" 2>/dev/null || true; srv_pid=; }

echo "shift-change.mp4 (1280x720 H.264 25 fps, 33 s) over RTSP on loopback; analysis at $FPS fps per camera; $(nproc) cores"
echo "fps/cam = stream frames received per second per camera (input held); dropped = sampled frames not analysed (queue + stale);"
echo "passes = enrolled walker passes with exactly one event in [t, t_end]; false = any other event; lat = event row inserted - walker's t_end"
echo "cpu/cam = process CPU / wall / N; dec/cam, anl/cam = CPU of the capture (decode) and analysis threads per camera;"
echo "ceiling = cameras $(nproc) cores could decode at that cost; anl/s = frames analysed per camera per s; idle% = sampled frames"
echo "skipped by idle gating; det_ms = detection per frame, rec_ms = landmarks..search per crop (wall time: inflated on a busy machine)"
"$BUILD/bench/bench_pipeline" --header
for n in ${PIPELINE_BENCH_N:-1 4 8 16}; do
    serve "$n"
    "$BUILD/bench/bench_pipeline" --decode-only --n "$n" --url-base "rtsp://127.0.0.1:$PORT/cam" --fps "$FPS"
    unserve
    serve "$n"
    "$BUILD/bench/bench_pipeline" --n "$n" --url-base "rtsp://127.0.0.1:$PORT/cam" --conninfo "$CI" --fps "$FPS"
    unserve
done
