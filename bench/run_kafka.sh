#!/usr/bin/env bash
# run_kafka.sh - pgcdc with the Kafka sink against pg_recvlogical on the same
# pre-generated WAL (1M rows in 1000-row transactions), and the latency from
# commit to the broker's append at a steady 5,000 rows/s (p50/p95/p99/max).
# The broker is a throwaway single-node Kafka from tests/rig/kafkarig.py on
# this machine (its jars are fetched with mvn on first use).  The measuring is
# in bench/kafka.py; results go to bench/out/kafka.md.
#
#   bash bench/run_kafka.sh                       # both parts, 3 runs each (~4 min)
#   bash bench/run_kafka.sh --only latency        # latency only (~2 min)
#   BENCH_ROWS=200000 BENCH_REPEAT=1 bash bench/run_kafka.sh --only throughput
#   bash bench/run_kafka.sh --partitions 3 --tx-rows 10
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_main bench/kafka.py "$@"
