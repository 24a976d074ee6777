#!/usr/bin/env bash
# run_elasticsearch.sh - pgcdc's Elasticsearch sink against a raw `_bulk` load of
# the same documents with the same request sizes and concurrency, in the same
# run, on a throwaway PostgreSQL and a rig Elasticsearch 7.17 node
# (tests/rig/esrig.py; fetched with mvn on first use). The measuring is in
# bench/elasticsearch.py; results go to bench/out/elasticsearch.md.
#
#   bash bench/run_elasticsearch.sh                    # 200k rows, 3 runs (~3 min)
#   BENCH_ROWS=50000 BENCH_REPEAT=1 bash bench/run_elasticsearch.sh
#   bash bench/run_elasticsearch.sh --bulk-actions 2000 --in-flight 2
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_main bench/elasticsearch.py "$@"
