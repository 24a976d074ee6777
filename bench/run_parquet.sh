#!/usr/bin/env bash
# run_parquet.sh - Parquet writing rate of pgcdc's writer against pyarrow's,
# on the same rows with the same settings, in the same run. The measuring and
# what each side does are described in bench/parquet.py; results go to
# bench/out/parquet.md.
#
#   bash bench/run_parquet.sh                        # 1M rows, 3 runs each (~3 min)
#   BENCH_ROWS=100000 BENCH_REPEAT=1 bash bench/run_parquet.sh   # quick look
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_main bench/parquet.py "$@"
