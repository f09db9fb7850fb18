#!/bin/sh
# Track decisions with many people enrolled (bench/bench_confirm.c): ward-rush.mp4's 12 enrolled walkers
# (their photos, both models) alone and with 2,000 LFW distractor identities (the `_0001` photos'
# templates from bench_calib's caches), the clip played 20 times at different sampling phases; per play
# the enrolled recognised, stranger passes and events, wrong-person events and second decisions, with
# the confirming model and with the first model alone.
# Env (set by `make bench`): ATTENDD_BUILD, ATTENDD_DATA, ATTENDD_MODELS_DIR;
#   CONFIRM_BENCH_CACHE  the fr_feature template cache (default $ATTENDD_BUILD/calib/lfw-templates.bin;
#                        the confirming model's is beside it), made by bench/calib.sh
#   CONFIRM_BENCH_PLAYS  plays of the clip (20), CONFIRM_BENCH_DISTRACTORS (2000)
set -eu
build=${ATTENDD_BUILD:-build}
data=${ATTENDD_DATA:-../shared/data}
models=${ATTENDD_MODELS_DIR:-models}
cache=${CONFIRM_BENCH_CACHE:-$build/calib/lfw-templates.bin}
if [ ! -f "$cache" ] || [ ! -f "$cache.dlib-resnet-v1-chip150-pad025-lm68" ]; then
    if [ -n "${CONFIRM_BENCH_CACHE:-}" ]; then
        echo "confirm.sh: $cache (and its .dlib-resnet-v1-chip150-pad025-lm68 twin) missing: make them with bench/calib.sh" >&2
        exit 1
    fi
    echo "confirm.sh: no LFW template caches in $build/calib yet: computing them with bench/calib.sh first (~20 CPU-minutes)" >&2
    sh "$(dirname "$0")/calib.sh" >/dev/null
fi
exec "$build/bench/bench_confirm" --models "$models" --data "$data" --clip "$data/video/ward-rush.mp4" \
    --cache "$cache" --plays "${CONFIRM_BENCH_PLAYS:-20}" --distractors "${CONFIRM_BENCH_DISTRACTORS:-2000}"
