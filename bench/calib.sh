#!/bin/sh
# Threshold calibration on LFW (bench/bench_calib.c): verification and DET on pairs-dev.txt and every
# photo pair, open-set 1:N with ~1,000 enrolled and ~1,000 strangers, for fr_feature alone, the
# confirming dlib model alone and the fused score. Embeddings are cached in
# $ATTENDD_BUILD/calib/lfw-templates.bin and lfw-templates.bin.dlib-* (computed once, ~20 CPU-minutes
# for both models; delete them to recompute).
# Env (set by `make bench`): ATTENDD_BUILD, ATTENDD_DATA, ATTENDD_MODELS_DIR. The dlib chip is made as
# the daemon makes it (AV_CONFIRM_ALIGN_SHIPPED in include/attendd/fuse.h) unless CALIB_ALIGN=lm68|sp5
# (the detector's 68 landmarks, or dlib's 5-point shape predictor) or CALIB_FLIP=on|off say otherwise.
set -eu
build=${ATTENDD_BUILD:-build}
data=${ATTENDD_DATA:-../shared/data}
models=${ATTENDD_MODELS_DIR:-models}
mkdir -p "$build/calib"
set -- --workers "${CALIB_WORKERS:-2}"
[ -n "${CALIB_ALIGN:-}" ] && set -- "$@" --align "$CALIB_ALIGN"
[ -n "${CALIB_FLIP:-}" ] && set -- "$@" --flip "$CALIB_FLIP"
exec "$build/bench/bench_calib" "$models" "$data" "$build/calib/lfw-templates.bin" "$@"
