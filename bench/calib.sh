#!/bin/sh
# Threshold calibration on LFW (bench/bench_calib.c): verification and DET on pairs-dev.txt and every
# photo pair, open-set 1:N with ~1,000 enrolled and ~1,000 strangers, for fr_feature alone, the
# confirming dlib model alone and the fused score. Embeddings are cached in
# $ATTENDD_BUILD/calib/lfw-templates.bin and lfw-templates.bin.dlib-* (computed once, ~20 CPU-minutes
# for both models; delete them to recompute).
# Env (set by `make bench`): ATTENDD_BUILD, ATTENDD_DATA, ATTENDD_MODELS_DIR; CALIB_ALIGN=sp5 aligns the
# dlib chip with dlib's 5-point shape predictor instead of the detector's 68 landmarks.
set -eu
build=${ATTENDD_BUILD:-build}
data=${ATTENDD_DATA:-../shared/data}
models=${ATTENDD_MODELS_DIR:-models}
mkdir -p "$build/calib"
exec "$build/bench/bench_calib" "$models" "$data" "$build/calib/lfw-templates.bin" --workers "${CALIB_WORKERS:-2}" \
    --align "${CALIB_ALIGN:-lm68}"
