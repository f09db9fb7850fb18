#!/bin/sh
# Camera pipeline benchmark: N cameras reading copies of a walk-by clip over RTSP
# (tests/tools/rtsp-server.py) at once, decode only and then full analysis into a throwaway
# PostgreSQL (scripts/pg-cluster). One table row per run (bench/bench_pipeline.c).
#   PIPELINE_BENCH_CLIPS  clips with their CLIP.json ground truth (default: ward-rush.mp4 and
#                         shift-change.mp4 of $ATTENDD_DATA/video)
#   PIPELINE_BENCH_N      camera counts (default 1 8 16 26)
#   PIPELINE_BENCH_MODES  offset: each copy starts at another key frame of the clip and wraps round,
#                         so the cameras see different moments, as real wards do; sync: every copy
#                         from the start, the same walker on all N cameras at once (the harsh case)
#                         (default: offset sync)
#   PIPELINE_BENCH_FPS    analysed frames per second per camera (6)
#   PIPELINE_BENCH_REPLAY C: instead of RTSP in real time, replay the sampled frames on a virtual
#                         clock to an analysis of a fixed capacity, C frames per tick (1/FPS s) for
#                         all cameras together, one worker: the same figures whatever the machine's
#                         load (rows r-offset, r-sync; no decode rows)
#   PIPELINE_BENCH_BINS   bench_pipeline binaries to run one after another on the same copies, each
#                         row labelled with its binary: a before/after comparison at the same
#                         machine load (default: the one just built)
set -eu
BUILD=${ATTENDD_BUILD:-build}
SRC=${ATTENDD_SRCDIR:-.}
DATA=${ATTENDD_DATA:?set ATTENDD_DATA}
CLIPS=${PIPELINE_BENCH_CLIPS:-$DATA/video/ward-rush.mp4 $DATA/video/shift-change.mp4}
FPS=${PIPELINE_BENCH_FPS:-6}
REPLAY=${PIPELINE_BENCH_REPLAY:-}
MODES=${PIPELINE_BENCH_MODES:-offset sync}
BINS=${PIPELINE_BENCH_BINS:-$BUILD/bench/bench_pipeline}
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

# Rotated copies of $1 without re-encoding: for each key frame K the clip from K to its end, then
# from its start to K (split and joined at key frames: the pictures stay bit-exact). Writes
# $tmp/rot/k<i>.mp4 and sets KEYS to the key frame times (seconds), the first one 0.
rotate() {
    rm -rf "$tmp/rot"
    mkdir -p "$tmp/rot"
    KEYS=$(ffprobe -v error -select_streams v -show_entries packet=pts_time,flags -of csv=p=0 "$1" |
        awk -F, '$2 ~ /K/ {print $1 + 0}' | sort -n | tr '\n' ' ')
    i=0
    for k in $KEYS; do
        if [ "$i" -eq 0 ]; then
            ln -s "$1" "$tmp/rot/k0.mp4"
        else
            ffmpeg -v error -i "$1" -map 0:v -c copy -f segment -segment_times "$k" -reset_timestamps 1 \
                "$tmp/rot/part%d.mp4"
            printf "file '%s'\nfile '%s'\n" "$tmp/rot/part1.mp4" "$tmp/rot/part0.mp4" > "$tmp/rot/list.txt"
            ffmpeg -v error -f concat -safe 0 -i "$tmp/rot/list.txt" -c copy "$tmp/rot/k$i.mp4"
            rm -f "$tmp/rot"/part*.mp4
        fi
        i=$((i + 1))
    done
    NKEYS=$i
}

# Camera c (1..n) of n plays rotation k: the key frames spread over the clip, repeating past NKEYS.
# Sets CLIP_ARGS (--clip per camera) and OFFSETS (per camera, for bench_pipeline).
plan() {
    n=$1 mode=$2 CLIP_ARGS= OFFSETS=
    c=0
    while [ "$c" -lt "$n" ]; do
        if [ "$mode" = sync ]; then k=0
        elif [ "$n" -ge "$NKEYS" ]; then k=$((c % NKEYS))
        else k=$((c * NKEYS / n)); fi
        off=$(echo "$KEYS" | awk -v k="$k" '{print $(k + 1)}')
        CLIP_ARGS="$CLIP_ARGS --clip $tmp/rot/k$k.mp4"
        OFFSETS="$OFFSETS${OFFSETS:+,}$off"
        c=$((c + 1))
    done
}

# serve the planned copies, each played to one client only; sets PORT
serve() {
    : > "$tmp/srv.out"
    # shellcheck disable=SC2086
    /usr/bin/python3 "$SRC/tests/tools/rtsp-server.py" $CLIP_ARGS --port 0 --copies "$1" --once > "$tmp/srv.out" 2>/dev/null &
    srv_pid=$!
    i=0
    until grep -q READY "$tmp/srv.out"; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "rtsp server did not start" >&2; exit 1; }
        sleep 0.1
    done
    PORT=$(awk '/READY/ {print $2}' "$tmp/srv.out")
}
unserve() { kill "$srv_pid"; wait "$srv_pid" 2>/dev/null || true; srv_pid=; }

echo "analysis at $FPS fps per camera; $(nproc) cores; machine load at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fps/cam = stream frames received per second per camera (input held); dropped = sampled frames not analysed (queue + stale);"
echo "passes = enrolled walker passes with exactly one event in [t, t_end]; false = any other event; lat = event row inserted - walker's t_end"
echo "cpu/cam = process CPU / wall / N; dec/cam, anl/cam = CPU of the capture (decode) and analysis threads per camera;"
echo "ceiling = cameras $(nproc) cores could decode at that cost; anl/s = frames analysed per camera per s; idle% = sampled frames"
echo "skipped by idle gating; still% = sampled frames not detected (static scene, nobody tracked); cpu_ms = analysis CPU per frame;"
echo "det_ms = detection per frame, rec_ms = landmarks..search per crop (wall time: inflated on a busy machine)"
echo "mode offset: copies start at different key frames (passes cut by the wrap are not counted); sync: all copies from 0"
for clip in $CLIPS; do
    rotate "$clip"
    echo
    echo "$(basename "$clip") ($NKEYS key frames to start copies at: $KEYS)"
    "$BUILD/bench/bench_pipeline" --header
    for n in ${PIPELINE_BENCH_N:-1 8 16 26}; do
        if [ -z "$REPLAY" ]; then
            plan "$n" sync
            serve "$n"
            "$BUILD/bench/bench_pipeline" --clip "$clip" --decode-only --n "$n" --url-base "rtsp://127.0.0.1:$PORT/cam" \
                --fps "$FPS"
            unserve
        fi
        for mode in $MODES; do
            plan "$n" "$mode"
            offs=
            [ "$mode" = offset ] && offs="--offsets $OFFSETS"
            for bin in $BINS; do
                label=
                [ "$BINS" = "$bin" ] || label=$(basename "$bin")
                if [ -n "$REPLAY" ]; then
                    # shellcheck disable=SC2086
                    "$bin" --clip "$clip" $offs --n "$n" --replay "$REPLAY" --conninfo "$CI" --fps "$FPS" --label "$label"
                    continue
                fi
                serve "$n"
                # shellcheck disable=SC2086
                "$bin" --clip "$clip" $offs --n "$n" --url-base "rtsp://127.0.0.1:$PORT/cam" \
                    --conninfo "$CI" --fps "$FPS" --label "$label"
                unserve
            done
        done
    done
done
