#!/bin/sh
# Scale-out benchmark: 1, 2 and 3 attendd instances (cluster = true) on this machine and one
# throwaway PostgreSQL (scripts/pg-cluster), cameras reading copies of the shift-change clip over
# RTSP (tests/tools/rtsp-server.py), the clip's people enrolled. For each N:
#   - cameras held in real time: the camera count is stepped up (fresh cameras each step) until a
#     step fails; a step holds when every camera is leased, streams at the clip's rate (input_fps at
#     least 90% of it) and no camera's analysis falls short (deficit_fps under 10% of analysis_fps,
#     over the 10 s the daemon averages it). The figure is the largest step that held.
#   - lease move after a kill (N >= 2): 2 cameras per instance, one instance killed with SIGKILL,
#     the seconds until every camera is leased by a live instance again.
# Each figure is printed beside its reference: real-time cameras beside the 1-instance figure (N
# instances on one machine share its cores, so about the same total is expected; N machines would
# give N times it), the lease move beside its bound: lease_timeout_s plus one round of the survivors
# (a third of it, +10 %).
# Knobs: CLUSTER_BENCH_N (1 2 3), CLUSTER_BENCH_STEPS (camera counts, 1 2 4 6 8 12 16),
# CLUSTER_BENCH_FPS (analysis_fps, 6), CLUSTER_BENCH_LEASE_S (lease_timeout_s, 10), CLUSTER_BENCH_SETTLE_S
# (seconds a step runs before it is judged, 12).
set -eu
. "$(dirname "$0")/lib.sh"
DATA=${ATTENDD_DATA:?set ATTENDD_DATA}
NS=${CLUSTER_BENCH_N:-1 2 3}
STEPS=${CLUSTER_BENCH_STEPS:-1 2 4 6 8 12 16}
FPS=${CLUSTER_BENCH_FPS:-6}
LEASE=${CLUSTER_BENCH_LEASE_S:-10}
SETTLE=${CLUSTER_BENCH_SETTLE_S:-12}
CLIP=$DATA/video/shift-change.mp4
bench_need curl python3 ffprobe

bench_tmp cluster
srv_pid=
bench_cleanup_extra() { [ -z "$srv_pid" ] || kill "$srv_pid" 2>/dev/null || true; }

# JSON member of stdin by a Python expression on j (the parsed document)
js() { python3 -c "import json, sys; j = json.load(sys.stdin); print($1)"; }
now() { date +%s.%N; }
# whether $1 - $2 > $3 (seconds, fractional)
over() { awk -v a="$1" -v b="$2" -v c="$3" 'BEGIN { exit !(a - b > c) }'; }

bench_pg
CLIP_FPS=$(ffprobe -v error -select_streams v -show_entries stream=r_frame_rate -of csv=p=0 "$CLIP" | awk -F/ '{print $1 / ($2 ? $2 : 1)}')
MAXCAM=0
for k in $STEPS; do [ "$k" -gt "$MAXCAM" ] && MAXCAM=$k; done
[ "$MAXCAM" -ge 6 ] || MAXCAM=6

# every client gets its own pipeline from the clip's first frame: a step's fresh cameras start together
: > "$tmp/srv.out"
/usr/bin/python3 "$SRC/tests/tools/rtsp-server.py" --clip "$CLIP" --port 0 --copies "$MAXCAM" > "$tmp/srv.out" 2>/dev/null &
srv_pid=$!
i=0
until grep -q READY "$tmp/srv.out"; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "rtsp server did not start" >&2; exit 1; }
    sleep 0.1
done
RTSP="rtsp://127.0.0.1:$(awk '/READY/ {print $2}' "$tmp/srv.out")/cam"

# the configuration of instance I (1..N) on database DB; sets URL_I
write_conf() {
    i=$1 db=$2
    port=$(free_port)
    rm -rf "$tmp/i$i"
    mkdir -p "$tmp/i$i/state"
    {
        bench_conf "$port" "$(bench_conninfo "$db")" "$tmp/i$i/state"
        echo "cluster = true"
        echo "instance_name = i$i"
        echo "instance_capacity = 64"
        echo "lease_timeout_s = $LEASE"
    } > "$tmp/i$i/attendd.conf"
    eval "URL_$i=http://127.0.0.1:$port"
}

# start instance I and wait until it is ready; sets PID_I
start_instance() {
    i=$1
    bench_start "$tmp/i$i/attendd.conf" "$tmp/i$i/attendd.log" "$(eval echo "\$URL_$i")" /readyz 600
    eval "PID_$i=$BENCH_PID"
}

api() { # METHOD URL [JSON]
    if [ $# -ge 3 ]; then
        curl -sf -X "$1" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' -d "$3" "$2"
    else
        curl -sf -X "$1" -H "Authorization: Bearer $ADMIN" "$2"
    fi
}

enrol() { # the clip's people through instance 1, with consent
    ver=$(api POST "$URL_1/api/v1/consent-texts" \
        '{"language":"en","text":"I agree that my face is used to record my attendance."}' | js 'j["version"]')
    python3 -c 'import json, sys; [print(k, v) for k, v in json.load(open(sys.argv[1]))["enrol"].items()]' \
        "$DATA/video/shift-change.json" | while read -r label photo; do
        id=$(api POST "$URL_1/api/v1/people" "{\"employee_no\":\"$label\",\"name\":\"Walker $label\",\"department\":\"Ward 7\"}" |
            js 'j["id"]')
        api POST "$URL_1/api/v1/people/$id/consent" "{\"state\":\"given\",\"text_version\":$ver}" >/dev/null
        curl -sf -X POST -H "Authorization: Bearer $ADMIN" -H 'Content-Type: image/jpeg' \
            --data-binary "@$DATA/faces/$photo" "$URL_1/api/v1/people/$id/faces" >/dev/null
    done
}

held() { bench_psql "$1" -At -c "$2"; }

# Cameras 1..K on the instances (posted round-robin), each analysed at FPS
add_cameras() {
    k=1
    while [ "$k" -le "$1" ]; do
        u=$(eval echo "\$URL_$(( (k - 1) % N + 1 ))")
        api POST "$u/api/v1/cameras" \
            "{\"name\":\"cam-$k\",\"url\":\"$RTSP$k\",\"role\":\"auto\",\"analysis_fps\":$FPS}" >/dev/null
        k=$((k + 1))
    done
}

remove_cameras() {
    api GET "$URL_1/api/v1/cameras" | js '"\n".join(c["id"] for c in j["items"])' | while read -r id; do
        [ -n "$id" ] && api DELETE "$URL_1/api/v1/cameras/$id" >/dev/null
    done
}

# The holders' view of every camera: "streaming min_input_fps max_deficit_fps" over all instances
camera_figures() {
    all=
    i=1
    while [ "$i" -le "$N" ]; do
        all="$all $(eval echo "\$URL_$i")"
        i=$((i + 1))
    done
    for u in $all; do curl -sf -H "Authorization: Bearer $ADMIN" "$u/api/v1/cameras"; echo; done | python3 -c '
import json, sys
cams = [c for line in sys.stdin if line.strip() for c in json.loads(line)["items"] if c["state"] != "remote"]
streaming = sum(c["state"] == "streaming" for c in cams)
fps = min((c["input_fps"] for c in cams), default=0)
deficit = max((c["analysis"]["deficit_fps"] for c in cams), default=0)
print(streaming, fps, deficit)'
}

echo "cluster bench: $(nproc) cores; load at the start: $(cut -d' ' -f1-3 /proc/loadavg); shift-change.mp4 at $CLIP_FPS fps,"
echo "analysis_fps $FPS per camera, lease_timeout_s $LEASE; a step holds in real time when every camera is leased and"
echo "streams at >= 90% of $CLIP_FPS fps and no camera's analysis deficit reaches 10% of $FPS fps"
printf '%-9s %-7s %-6s %-9s %-10s %-11s %-10s %s\n' instances cameras held streaming min_fps max_deficit verdict load
REF_RT=
summary=
for N in $NS; do
    db=bench$N
    bench_db "$db"
    i=1
    while [ "$i" -le "$N" ]; do
        write_conf "$i" "$db"
        [ "$i" -gt 1 ] || "$BUILD/attendctl" --config "$tmp/i1/attendd.conf" migrate >/dev/null
        start_instance "$i"
        if [ "$i" -eq 1 ]; then
            ADMIN=$(bench_token "$tmp/i1/attendd.conf" admin bench)
            enrol
        fi
        i=$((i + 1))
    done

    rt=0
    for K in $STEPS; do
        add_cameras "$K"
        t0=$(now)
        # leased and streaming (at most 30 s), then run SETTLE s before judging
        while :; do
            h=$(held "$db" "SELECT count(*) FROM camera_leases WHERE expires_at > now() AND instance_id IS NOT NULL")
            # shellcheck disable=SC2046 # three numbers, split on purpose
            set -- $(camera_figures)
            [ "$h" -eq "$K" ] && [ "$1" -eq "$K" ] && break
            over "$(now)" "$t0" 30 && break
            sleep 0.5
        done
        sleep "$SETTLE"
        h=$(held "$db" "SELECT count(*) FROM camera_leases WHERE expires_at > now() AND instance_id IS NOT NULL")
        # shellcheck disable=SC2046
        set -- $(camera_figures)
        ok=$(python3 -c "print(int($h == $K and $1 == $K and $2 >= 0.9 * $CLIP_FPS and $3 < 0.1 * $FPS))")
        verdict=$([ "$ok" -eq 1 ] && echo "real time" || echo short)
        printf '%-9s %-7s %-6s %-9s %-10s %-11s %-10s %s\n' "$N" "$K" "$h" "$1" "$2" "$3" "$verdict" \
            "$(cut -d' ' -f1 /proc/loadavg)"
        remove_cameras
        [ "$ok" -eq 1 ] || break
        rt=$K
    done
    [ -n "$REF_RT" ] || REF_RT=$rt

    move="n/a (one instance)"
    if [ "$N" -ge 2 ]; then
        add_cameras $((2 * N))
        t0=$(now)
        until [ "$(held "$db" "SELECT count(*) FROM camera_leases WHERE expires_at > now() AND instance_id IS NOT NULL")" -eq $((2 * N)) ]; do
            over "$(now)" "$t0" 30 && break
            sleep 0.2
        done
        victim=$(held "$db" "SELECT id FROM instances WHERE name = 'i1'")
        mine=$(held "$db" "SELECT count(*) FROM camera_leases WHERE instance_id = '$victim' AND expires_at > now()")
        kill -KILL "$PID_1"
        wait "$PID_1" 2>/dev/null || true
        t0=$(now)
        until [ "$(held "$db" "SELECT count(*) FROM camera_leases WHERE expires_at > now() AND instance_id IS NOT NULL AND instance_id <> '$victim'")" -eq $((2 * N)) ]; do
            over "$(now)" "$t0" $((3 * LEASE)) && break
            sleep 0.2
        done
        move="$(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s for $mine camera(s)"
    fi
    summary="$summary$(printf '%-9s %-26s %-34s %-28s %s' "$N" "$rt" \
        "$REF_RT (1 instance; $N machines: $((REF_RT * N)))" "$move" "lease_timeout_s $LEASE s + one round: <= $(awk -v l="$LEASE" 'BEGIN { printf "%.1f", l * (1 + 1.1 / 3) }') s")
"
    bench_stop
done
echo
printf '%-9s %-26s %-34s %-28s %s\n' instances "cameras held in real time" "reference" "lease move after SIGKILL" reference
printf '%s' "$summary"
