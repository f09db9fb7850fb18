#!/bin/sh
# Threshold calibration on LFW (bench/bench_calib.c): verification and DET on pairs-dev.txt and every
# photo pair, open-set 1:N with ~1,000 enrolled and ~1,000 strangers. Templates are cached in
# $ATTENDD_BUILD/calib/lfw-templates.bin (computed once, ~2 CPU-minutes; delete it to recompute).
# Env (set by `make bench`): ATTENDD_BUILD, ATTENDD_DATA, ATTENDD_MODELS_DIR.
set -eu
build=${ATTENDD_BUILD:-build}
data=${ATTENDD_DATA:-../shared/data}
models=${ATTENDD_MODELS_DIR:-models}
mkdir -p "$build/calib"
exec "$build/bench/bench_calib" "$models" "$data" "$build/calib/lfw-templates.bin" --workers "${CALIB_WORKERS:-2}"
