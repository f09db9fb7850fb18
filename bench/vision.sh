#!/bin/sh
# vision.sh: the C vision pipeline (bench_vision) and the Python + OpenCV reference (vision_ref.py)
# on the same models, frames and faces, printed side by side in ms per frame or per face.
# Env (set by `make bench`): ATTENDD_BUILD, ATTENDD_DATA, ATTENDD_MODELS_DIR, ATTENDD_SRCDIR.
# VISION_BENCH_ARGS=--quick for a shorter run. The machine is shared: figures taken while other
# work runs are noisy; rerun before quoting them.
set -eu
src=${ATTENDD_SRCDIR:-.}
build=${ATTENDD_BUILD:-build}
data=${ATTENDD_DATA:-../shared/data}
models=${ATTENDD_MODELS_DIR:-models}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

"$build/bench/bench_vision" "$models" "$data" ${VISION_BENCH_ARGS:-} > "$tmp/c.tsv"
/usr/bin/python3 "$src/bench/vision_ref.py" "$models" "$data" ${VISION_BENCH_ARGS:-} > "$tmp/py.tsv"

grep '^#' "$tmp/c.tsv" "$tmp/py.tsv" | sed 's/^[^#]*//'
echo "# 1t = 1 OpenCV thread (CPU time of the thread); 2t = 2 OpenCV threads, one pipeline (wall);"
echo "# 2w = 2 workers x 1 thread, one pipeline each (wall, throughput per item; not possible in Python)."
awk -F '\t' '
    FNR == 1 { file++ }
    /^#/ || $1 == "stage" { next }
    file == 1 { order[++n] = $1; c1[$1] = $2; c2[$1] = $3; cw[$1] = $4; note[$1] = $5 }
    file == 2 { p1[$1] = $2; p2[$1] = $3 }
    END {
        printf "%-20s %8s %8s %8s | %8s %8s | %7s  %s\n", "stage (ms)", "C 1t", "C 2t", "C 2w", "Py 1t", "Py 2t", "Py/C 1t", "note"
        for (i = 1; i <= n; i++) {
            s = order[i]
            r = (c1[s] > 0 && p1[s] != "") ? sprintf("%.2fx", p1[s] / c1[s]) : "-"
            printf "%-20s %8s %8s %8s | %8s %8s | %7s  %s\n", s, c1[s], c2[s], cw[s], p1[s], p2[s], r, note[s]
        }
    }' "$tmp/c.tsv" "$tmp/py.tsv"
