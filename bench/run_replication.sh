#!/usr/bin/env bash
# run_replication.sh - replication throughput of pgcdc vs pg_recvlogical on
# pre-generated WAL (1M rows in 1000-row transactions, and 1M rows in one
# transaction).  The measuring and the description of what each consumer does
# are in bench/replication.py; results go to bench/out/replication.md.
#
#   bash bench/run_replication.sh                 # full run (a few minutes)
#   BENCH_ROWS=100000 bash bench/run_replication.sh --scenarios a
#   PGCDC_BIN=/path/to/pgcdc bash bench/run_replication.sh --no-schemas
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_main bench/replication.py "$@"
