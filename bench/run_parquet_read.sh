#!/usr/bin/env bash
# run_parquet_read.sh - Parquet reading rate of pgcdc's reader against
# pyarrow's on the same files, in the same run (no PostgreSQL needed). The
# measuring is described in bench/parquet_read.py; results go to
# bench/out/parquet_read.md.
#
#   bash bench/run_parquet_read.sh                        # 1M rows, 3 runs each (~2 min)
#   BENCH_ROWS=100000 BENCH_REPEAT=1 bash bench/run_parquet_read.sh   # quick look
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_main bench/parquet_read.py "$@"
