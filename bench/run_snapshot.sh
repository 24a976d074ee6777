#!/usr/bin/env bash
# run_snapshot.sh - initial snapshot throughput of pgcdc (1 and 2 workers,
# file sink) vs psql \copy on the same table of seed 000's user_data rows.
# The measuring is in bench/snapshot.py; results go to bench/out/snapshot.md.
#
#   bash bench/run_snapshot.sh                    # 5M rows, 3 runs each
#   BENCH_ROWS=500000 BENCH_REPEAT=1 bash bench/run_snapshot.sh
#   bash bench/run_snapshot.sh --schemas          # with key/value schemas
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_main bench/snapshot.py "$@"
