#!/usr/bin/env bash
# test.sh - runs every pgcdc test: formatting, the -Werror build and its unit
# tests, the ASan+UBSan build and its unit tests, the libFuzzer drivers for a
# short while each, and the end-to-end suite against a throwaway PostgreSQL.
#
# Every step runs even when an earlier independent one failed, so one run
# shows all problems; steps that need a failed build are skipped.  Exits
# non-zero if anything failed, after a summary whose last line is the test
# count ("tests: N passed, N failed, N skipped").
#
# Environment switches (all optional):
#   PGCDC_E2E_ASAN=0   skip the e2e pass against the ASan binary (on by default;
#                      its big-transaction test uses 300k rows instead of 2M)
#   PGCDC_SKIP_ASAN=1  skip the sanitizer build      PGCDC_SKIP_FUZZ=1  skip fuzzing
#   FUZZ_SECONDS=20    time per fuzz driver          PYTEST_ARGS="-k foo"  extra pytest args
#   JOBS=2             build parallelism
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
RESULTS_DIR="$REPO_ROOT/build-results"  # junit files and fuzz logs (git-ignored: /build*/)
PY="$REPO_ROOT/.venv/bin/python"

# Sanitizer settings for everything run from here: fail on the first report.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

STEP_NAMES=() STEP_STATUS=() STEP_SECS=()
FUZZ_PASSED=0 FUZZ_FAILED=0

banner() { printf '\n==================== %s ====================\n' "$*"; }

# run_step NAME FUNCTION [ARGS...]: runs FUNCTION in a subshell with errexit
# (so any failing command inside fails the step) and records the outcome.
# Sets STEP_RC.  `set +e` around it because errexit would be ignored inside a
# function called from an `if`, and would abort the whole script here.
run_step() {
    local name="$1" t0=$SECONDS
    shift
    banner "$name"
    set +e
    (
        set -euo pipefail
        "$@"
    )
    STEP_RC=$?
    set -e
    record "$name" "$([[ $STEP_RC -eq 0 ]] && echo PASS || echo FAIL)" $((SECONDS - t0))
}

record() {
    STEP_NAMES+=("$1") STEP_STATUS+=("$2") STEP_SECS+=("$3")
    [[ "$2" != SKIP ]] || printf '(skipped: %s)\n' "$1"
}

c_sources() {
    find src tests/unit fuzz -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort
}

# ------------------------------------------------------------------ steps
step_install_deps() {
    bash scripts/install-deps.sh
}

step_format() {
    local files
    mapfile -t files < <(c_sources)
    ((${#files[@]})) || {
        echo "no C sources yet"
        return 0
    }
    echo "clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -1) on ${#files[@]} files"
    # Name every unformatted file but show only the first diagnostics: a
    # whole-tree violation would otherwise bury the rest of the CI log.
    local f bad=() diag="$RESULTS_DIR/clang-format.log"
    : >"$diag"
    for f in "${files[@]}"; do
        clang-format --dry-run --Werror "$f" >>"$diag" 2>&1 || bad+=("$f")
    done
    ((${#bad[@]} == 0)) && return 0
    echo "not clang-formatted (${#bad[@]}): ${bad[*]}"
    head -40 "$diag"
    echo "... full list in $diag; fix with: clang-format -i ${bad[*]}"
    return 1
}

# cmake_build DIR ARGS...: configure (once; cmake re-runs itself) and build.
cmake_build() {
    local dir="$1"
    shift
    timeout 900 cmake -S . -B "$dir" "$@"
    timeout 1200 cmake --build "$dir" -j "$JOBS"
}

step_build() {
    cmake_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGCDC_WERROR=ON
    test -x build/pgcdc
}

# ctest with a JUnit report for the final count; --timeout bounds each test.
run_ctest() {
    local dir="$1" name="$2"
    timeout 900 ctest --test-dir "$dir" --output-on-failure -j "$JOBS" --timeout 300 \
        --output-junit "$RESULTS_DIR/ctest-$name.xml"
}

step_ctest() { run_ctest build unit; }

step_build_asan() {
    cmake_build build-asan -DCMAKE_BUILD_TYPE=Debug -DPGCDC_SANITIZE=ON -DPGCDC_WERROR=ON
    test -x build-asan/pgcdc
}

step_ctest_asan() { run_ctest build-asan asan; }

fuzz_targets() {
    local f
    for f in fuzz/fuzz_*.c; do
        [[ -e "$f" ]] && basename "$f" .c
    done
}

step_build_fuzz() {
    local targets
    mapfile -t targets < <(fuzz_targets)
    ((${#targets[@]})) || {
        echo "no fuzz drivers"
        return 0
    }
    timeout 900 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGCDC_FUZZ=ON \
        -DCMAKE_C_COMPILER=clang
    timeout 1200 cmake --build build-fuzz -j "$JOBS" --target "${targets[@]}"
}

# Runs each driver for FUZZ_SECONDS.  New inputs go to a scratch corpus in
# build-fuzz/ (libFuzzer writes into its first corpus dir); the checked-in
# seeds (fuzz/corpus/<name>/ or fuzz/corpus/fuzz_<name>/) are read-only.
step_run_fuzz() {
    local t name seeds work log rc failed=0 args
    mkdir -p build-fuzz/artifacts
    for t in $(fuzz_targets); do
        name="${t#fuzz_}"
        seeds=""
        for d in "fuzz/corpus/$name" "fuzz/corpus/$t"; do
            [[ -d "$d" ]] && seeds="$d" && break
        done
        work="build-fuzz/corpus-work/$t"
        log="$RESULTS_DIR/fuzz-$t.log"
        mkdir -p "$work"
        args=(-max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
            -artifact_prefix="build-fuzz/artifacts/$t-")
        [[ -f "fuzz/$name.dict" ]] && args+=(-dict="fuzz/$name.dict")
        echo "fuzz $t: ${FUZZ_SECONDS}s, seeds: ${seeds:-none}"
        set +e
        timeout $((FUZZ_SECONDS + 120)) "build-fuzz/$t" "${args[@]}" "$work" ${seeds:+"$seeds"} >"$log" 2>&1
        rc=$?
        set -e
        if ((rc == 0)); then
            grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$log" | tail -1 || true
            echo "PASS $t"
            FUZZ_PASSED=$((FUZZ_PASSED + 1))
        else
            echo "FAIL $t (exit $rc); last lines of $log:"
            tail -60 "$log"
            failed=1
            FUZZ_FAILED=$((FUZZ_FAILED + 1))
        fi
    done
    # The counters live in this subshell: hand them to the parent via a file.
    echo "$FUZZ_PASSED $FUZZ_FAILED" >"$RESULTS_DIR/fuzz-counts"
    return $failed
}

# run_e2e NAME BIN [TEST PATHS]: the pytest suite (default all of tests/e2e)
# against one binary.
run_e2e() {
    local name="$1" bin="$2"
    shift 2
    (($#)) || set -- tests/e2e
    local rc=0
    # shellcheck disable=SC2086  # PYTEST_ARGS is a word list on purpose
    PGCDC_BIN="$bin" timeout -s INT -k 60 1500 "$PY" -m pytest -v -p no:cacheprovider \
        --junitxml="$RESULTS_DIR/pytest-$name.xml" "$@" ${PYTEST_ARGS:-} || rc=$?
    # SIGINT on timeout lets pytest tear its clusters down.  Exit 5 = "no
    # tests collected": never a pass.
    ((rc == 0)) || {
        echo "pytest exited $rc"
        return 1
    }
}

step_e2e() { run_e2e e2e "$REPO_ROOT/build/pgcdc"; }
step_e2e_rig_only() { run_e2e e2e "$REPO_ROOT/build/pgcdc" tests/e2e/test_rig.py; }
# The sanitizer pass checks pgcdc's own code: the tests of the rig itself
# and of third-party readers (marked rig, readers) ran in the plain pass.
step_e2e_asan() {
    PGCDC_E2E_ASAN=1 PGCDC_E2E_BIG_ROWS="${PGCDC_E2E_BIG_ROWS:-300000}" \
        run_e2e e2e-asan "$REPO_ROOT/build-asan/pgcdc" tests/e2e -m "not rig and not readers"
}

# Sums JUnit files and fuzz results into "passed failed skipped".
count_tests() {
    "$PY" - "$RESULTS_DIR" <<'EOF' 2>/dev/null || echo "0 0 0"
import glob, os, sys
import xml.etree.ElementTree as ET
p = f = s = 0
for path in glob.glob(os.path.join(sys.argv[1], "*.xml")):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        continue
    for tc in root.iter("testcase"):
        kinds = {child.tag for child in tc}
        if kinds & {"failure", "error"}:
            f += 1
        elif "skipped" in kinds:
            s += 1
        else:
            p += 1
try:
    fp, ff = open(os.path.join(sys.argv[1], "fuzz-counts")).read().split()
    p += int(fp); f += int(ff)
except (OSError, ValueError):
    pass
print(p, f, s)
EOF
}

summary() {
    local i failed=0
    banner "summary"
    for i in "${!STEP_NAMES[@]}"; do
        printf '  %-5s %-22s %5ss\n' "${STEP_STATUS[$i]}" "${STEP_NAMES[$i]}" "${STEP_SECS[$i]}"
        [[ "${STEP_STATUS[$i]}" != FAIL ]] || failed=1
    done
    printf '  total time %ss\n' "$SECONDS"
    local counts p f s
    counts="$(count_tests)"
    read -r p f s <<<"$counts"
    if ((failed)); then
        echo "RESULT: FAILED"
    else
        echo "RESULT: OK"
    fi
    printf 'tests: %d passed, %d failed, %d skipped\n' "$p" "$f" "$s"
    return $failed
}

main() {
    rm -rf "$RESULTS_DIR"
    mkdir -p "$RESULTS_DIR"

    run_step install-deps step_install_deps
    if ((STEP_RC != 0)); then
        summary || true
        exit 1
    fi
    run_step clang-format step_format

    run_step build step_build
    local build_ok=$STEP_RC
    if ((build_ok == 0)); then
        run_step ctest step_ctest
    else
        record ctest SKIP 0
    fi

    if [[ "${PGCDC_SKIP_ASAN:-0}" != 1 ]]; then
        run_step build-asan step_build_asan
        local asan_ok=$STEP_RC
        if ((asan_ok == 0)); then run_step ctest-asan step_ctest_asan; else record ctest-asan SKIP 0; fi
    else
        local asan_ok=1
        record build-asan SKIP 0
    fi

    if [[ "${PGCDC_SKIP_FUZZ:-0}" != 1 ]]; then
        run_step build-fuzz step_build_fuzz
        if ((STEP_RC == 0)); then run_step fuzz step_run_fuzz; else record fuzz SKIP 0; fi
    else
        record fuzz SKIP 0
    fi

    if ((build_ok == 0)); then
        run_step e2e step_e2e
    else
        # Without a binary only the rig's own tests can mean anything.
        run_step e2e-rig-only step_e2e_rig_only
    fi
    if [[ "${PGCDC_E2E_ASAN:-1}" == 1 ]]; then
        if ((asan_ok == 0)); then run_step e2e-asan step_e2e_asan; else record e2e-asan SKIP 0; fi
    fi

    summary
}

main "$@"
