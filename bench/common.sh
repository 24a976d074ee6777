#!/usr/bin/env bash
# common.sh - shared by the bench/run_*.sh entry points: installs what the
# benchmarks need, builds a Release binary (numbers from a debug or sanitizer
# build would mean nothing) unless PGCDC_BIN names one, and runs the Python
# driver given as the first argument with the remaining arguments, with the
# Python of the venv install-deps.sh made ($PGCDC_VENV, default .venv).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

bench_build() {
    if [[ -n "${PGCDC_BIN:-}" ]]; then
        return
    fi
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null || {
        echo "[bench] build failed: measuring the reference tools only" >&2
        export PGCDC_BIN=/nonexistent
        return
    }
    export PGCDC_BIN="$REPO_ROOT/build/pgcdc"
}

bench_main() {
    local driver="$1"
    shift
    bash scripts/install-deps.sh
    bench_build
    exec "${PGCDC_VENV:-$REPO_ROOT/.venv}/bin/python" "$driver" "$@"
}
