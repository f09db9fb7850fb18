#!/bin/sh
# Gallery search benchmark (bench/bench_gallery.c): 10k / 100k / 1M synthetic templates, one thread.
# Run by `make bench` with ATTENDD_BUILD set; needs ~2 GB of RAM for the 1M gallery.
set -eu
BUILD=${ATTENDD_BUILD:-build}
exec "$BUILD/bench/bench_gallery" "$@"
