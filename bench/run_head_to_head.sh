#!/usr/bin/env bash
# run_head_to_head.sh - pg_recvlogical, pgcdc and Debezium on the same
# pre-generated WAL (1M rows in 1000-row transactions, and 1M rows in one
# transaction), to files and to a rig Kafka broker: rows/s, ratios, peak RSS;
# then the latency from commit to file / broker at a steady 5,000 rows/s.
# Debezium runs in its embedded engine (tests/rig/oracle/DebeziumOracle.java;
# its jars are fetched with mvn on first use).  The measuring is in
# bench/head_to_head.py; results go to bench/out/head_to_head.md and to the
# section "Head to head: pgcdc vs Debezium" of docs/PERFORMANCE.md.
#
#   bash bench/run_head_to_head.sh                 # everything, once (~15 min)
#   BENCH_REPEAT=3 bash bench/run_head_to_head.sh  # medians of 3 (~27 min; docs/PERFORMANCE.md)
#   BENCH_ROWS=100000 bash bench/run_head_to_head.sh --no-doc   # quick look
#   bash bench/run_head_to_head.sh --only latency --no-doc
#   bash bench/run_head_to_head.sh --debezium-jvm=-Xmx2g --debezium-kafka connect
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_main bench/head_to_head.py "$@"
