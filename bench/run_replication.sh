#!/usr/bin/env bash
# run_replication.sh - replication throughput of pgcdc vs pg_recvlogical on
# pre-generated WAL (1M rows in 1000-row transactions, and 1M rows in one
# transaction).  The measuring and the description of what each consumer does
# are in bench/replication.py; results go to bench/out/replication.md.
#
#   bash bench/run_replication.sh                 # full run (a few minutes)
#   BENCH_ROWS=100000 bash bench/run_replication.sh --scenarios a
#   PGCDC_BIN=/path/to/pgcdc bash bench/run_replication.sh --no-schemas
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

# Release build unless a binary is given: benchmark numbers from a debug or
# sanitizer build would mean nothing.
build() {
    if [[ -n "${PGCDC_BIN:-}" ]]; then
        return
    fi
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null || {
        echo "[bench] build failed: measuring pg_recvlogical only" >&2
        export PGCDC_BIN=/nonexistent
        return
    }
    export PGCDC_BIN="$REPO_ROOT/build/pgcdc"
}

main() {
    bash scripts/install-deps.sh
    build
    exec "$REPO_ROOT/.venv/bin/python" bench/replication.py "$@"
}

main "$@"
