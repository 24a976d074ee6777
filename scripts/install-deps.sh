#!/usr/bin/env bash
# install-deps.sh - installs everything pgcdc's build, tests, demo and benchmark
# need on Debian 12, idempotently: Debian packages that are missing, then a
# Python virtualenv at .venv with pytest, psycopg2, confluent-kafka, pyarrow and
# duckdb.
# (The Kafka broker's jars for the test rig are not fetched here: the first
# Kafka test resolves them with mvn, see tests/rig/kafkarig.py.  MinIO, which
# takes minutes to build, is built here: see build_minio.)
#
# Safe to run repeatedly: it only touches apt when a package is missing and
# only (re)creates the venv when it cannot import what we need.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PGCDC_VENV:-$REPO_ROOT/.venv}"

DEB_PACKAGES=(
    build-essential cmake pkg-config
    libpq-dev libjansson-dev libyaml-dev librdkafka-dev libcurl4-openssl-dev libssl-dev openssl
    libzstd-dev libsnappy-dev zlib1g-dev
    postgresql-15 postgresql-client-15
    clang clang-format libclang-rt-14-dev
    python3-venv
    default-jre-headless default-jdk-headless maven
)
PY_PACKAGES=(pytest psycopg2-binary confluent-kafka)
# Readers of the data-lake sink's output (tests/e2e/test_s3_rig.py).  duckdb
# cannot download its httpfs extension here, so a pinned wheel ships it and
# duckdb must be the same release.  pyspark 3.5 (runs on Java 17) with
# delta-spark 3.3, the Delta release built for Spark 3.5.
PY_PACKAGES+=(pyarrow==26.0.1 duckdb==1.4.4 duckdb-ext-httpfs==1.4.4.20260205 deltalake==1.6.6
    pyspark==3.5.8 delta-spark==3.3.2)

log() { printf '[install-deps] %s\n' "$*" >&2; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        log "need root to run: $*"
        return 1
    fi
}

# Prints the packages from the arguments that dpkg does not report as installed.
missing_packages() {
    local p status
    for p in "$@"; do
        status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
        [[ "$status" == "installed" ]] || printf '%s\n' "$p"
    done
}

# apt-get update is slow and needs the network: run it only when something is
# missing, and at most once per script run.
APT_UPDATED=0
apt_install() {
    ((APT_UPDATED)) || { as_root apt-get update -qq; APT_UPDATED=1; }
    log "apt-get install: $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

install_debian_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        log "not a Debian system (no dpkg-query); install by hand: ${DEB_PACKAGES[*]}"
        return 1
    fi
    local missing
    mapfile -t missing < <(missing_packages "${DEB_PACKAGES[@]}")
    if ((${#missing[@]} == 0)); then
        log "Debian packages: all ${#DEB_PACKAGES[@]} present"
        return 0
    fi
    apt_install "${missing[@]}"
    # The Debian postgresql package starts a cluster on 5432 that we never use;
    # it does no harm, so leave it (stopping services is not ours to do).
}

# True when the venv exists and can import everything the tests need.
venv_ok() {
    [[ -x "$VENV/bin/python" ]] &&
        "$VENV/bin/python" -c 'import pytest, psycopg2, confluent_kafka, pyarrow, duckdb, deltalake, pyspark, delta' >/dev/null 2>&1
}

# Creates $VENV with the first interpreter that has a working venv+ensurepip.
# `python3` on PATH may be a pyenv build; if its venv module fails (no
# ensurepip) fall back to Debian's /usr/bin/python3 with python3-venv.
create_venv() {
    local py candidates=()
    command -v python3 >/dev/null 2>&1 && candidates+=("$(command -v python3)")
    candidates+=(/usr/bin/python3)
    rm -rf "$VENV"
    for py in "${candidates[@]}"; do
        [[ -x "$py" ]] || continue
        if [[ "$py" == /usr/bin/python3 ]] && [[ -n "$(missing_packages python3-venv)" ]]; then
            apt_install python3-venv
        fi
        log "creating venv $VENV with $py ($("$py" --version 2>&1))"
        if "$py" -m venv "$VENV" >/dev/null 2>&1 && [[ -x "$VENV/bin/pip" ]]; then
            return 0
        fi
        log "venv with $py failed; trying the next interpreter"
        rm -rf "$VENV"
    done
    log "could not create a Python venv"
    return 1
}

install_python_packages() {
    if venv_ok; then
        log "Python venv: $VENV ok"
        return 0
    fi
    [[ -x "$VENV/bin/pip" ]] || create_venv
    log "pip install ${PY_PACKAGES[*]}"
    if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PY_PACKAGES[@]}"; then
        # A venv left half-made by an interrupted run: rebuild it once.
        create_venv
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PY_PACKAGES[@]}"
    fi
    venv_ok || {
        log "venv still cannot import pytest/psycopg2/confluent_kafka/pyarrow/duckdb/deltalake/pyspark/delta"
        return 1
    }
    log "Python venv: $VENV ready"
}

# The S3 tests' MinIO is built from source with Go (about 6 minutes, once;
# cached in ~/.cache/pgcdc/minio-<version>, see tests/rig/s3rig.py): done here
# so that the first test run does not spend its time budget on it.
build_minio() {
    log "MinIO for the S3 tests: tests/rig/s3rig.py build"
    "$VENV/bin/python" "$REPO_ROOT/tests/rig/s3rig.py" build >/dev/null ||
        log "MinIO could not be built (see above): the S3 tests will fail until it is"
}

main() {
    install_debian_packages
    install_python_packages
    build_minio
}

main "$@"
