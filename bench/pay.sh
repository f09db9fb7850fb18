#!/bin/sh
# Roster and pay benchmark (bench/bench_pay.c): a month of 2,000 people on rotating shifts through the
# roster and pay engines, and the payroll totals of the whole hospital. Run by `make bench`.
set -eu
BUILD=${ATTENDD_BUILD:-build}
exec "$BUILD/bench/bench_pay" "$@"
