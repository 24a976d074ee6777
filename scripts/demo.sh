#!/usr/bin/env bash
# demo.sh - the demo pipeline: a throwaway PostgreSQL 15 -> pgcdc -> ./pgcdc-data.
#
# Builds pgcdc, starts a private cluster (./.demo/pg, never the system one),
# creates fabric.user_data, runs pgcdc with the file sink and a steady
# insert/update/delete workload (~200 ops/s), and prints one status line per
# second: events/s, events per op, and the replication slot's lag.
#
# Ctrl-C (or DEMO_SECONDS=N) stops the workload, lets pgcdc drain, stops it
# with SIGTERM and checks that every committed write became exactly one event.
# Exit status: 0 if the check passed; non-zero if pgcdc died or counts differ.
#
# Environment: DEMO_SECONDS (run time; default until Ctrl-C), DEMO_RATE
# (ops/s, default 200), PGCDC_BIN (skip the build and use this binary).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

DEMO_DIR="$REPO_ROOT/.demo"
DATA_DIR="$REPO_ROOT/pgcdc-data"
TOPIC="deb_conn.fabric.user_data"
SLOT="demo_slot"
PUBLICATION="demo_pub"
PY="$REPO_ROOT/.venv/bin/python"
RIG=(python3 "$REPO_ROOT/tests/rig/pgrig.py")
PSQL=/usr/lib/postgresql/15/bin/psql
PGCDC_BIN="${PGCDC_BIN:-}"
DEMO_SECONDS="${DEMO_SECONDS:-0}"
DEMO_RATE="${DEMO_RATE:-200}"

PGCDC_PID="" WORKLOAD_PID="" CLUSTER_UP=0 INTERRUPTED=0

log() { printf '[demo] %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

# Always leave nothing running behind, whatever made us exit.
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ -z "$WORKLOAD_PID" ]] || kill -TERM "$WORKLOAD_PID" 2>/dev/null || true
    if [[ -n "$PGCDC_PID" ]] && kill -0 "$PGCDC_PID" 2>/dev/null; then
        kill -TERM "$PGCDC_PID" 2>/dev/null || true
        wait_pid "$PGCDC_PID" 15 || kill -KILL "$PGCDC_PID" 2>/dev/null || true
    fi
    if ((CLUSTER_UP)); then
        "${RIG[@]}" stop --dir "$DEMO_DIR/pg" >/dev/null 2>&1 || true
        log "PostgreSQL stopped (its files stay in $DEMO_DIR until the next run)"
    fi
    exit "$rc"
}

# wait_pid PID SECONDS: true once PID is gone (checked at least once), false
# on timeout.  A zombie still answers kill -0, so state "Z" counts as gone.
wait_pid() {
    local pid="$1" deadline=$((SECONDS + $2))
    while true; do
        kill -0 "$pid" 2>/dev/null || return 0
        [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]] || return 0
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$PGRIG_DSN" "$@"; }

build() {
    if [[ -n "$PGCDC_BIN" ]]; then
        log "using $PGCDC_BIN (PGCDC_BIN set: no build)"
        return
    fi
    log "building pgcdc (Release) in build/"
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null || {
        cmake --build build -j1 2>&1 | tail -40
        die "build failed"
    }
    PGCDC_BIN="$REPO_ROOT/build/pgcdc"
}

start_cluster() {
    mkdir -p "$DEMO_DIR"
    log "starting a throwaway PostgreSQL 15 in $DEMO_DIR/pg"
    local out
    out="$("${RIG[@]}" start --dir "$DEMO_DIR/pg" --fresh)" || die "could not start PostgreSQL"
    eval "$out"
    CLUSTER_UP=1
    log "PostgreSQL on 127.0.0.1:$PGRIG_PORT (log: $PGRIG_LOG)"
}

create_schema() {
    sql <<'SQL'
CREATE SCHEMA fabric;
CREATE TABLE fabric.user_data (
    id serial PRIMARY KEY,
    name text,
    gender varchar(16),
    address text,
    latitude double precision,
    longitude double precision,
    timezone varchar(64),
    email varchar(255),
    phone varchar(64),
    cell varchar(64),
    date_of_birth timestamptz,
    registered_date timestamptz,
    picture_url text,
    insertion_time timestamp DEFAULT now()
);
SQL
}

write_config() {
    cat >"$DEMO_DIR/pgcdc.yaml" <<EOF
# pgcdc demo configuration (keys are Debezium's PostgreSQL connector keys)
topic.prefix: deb_conn
database:
  hostname: 127.0.0.1
  port: $PGRIG_PORT
  user: postgres
  password: ""
  dbname: postgres
slot.name: $SLOT
publication.name: $PUBLICATION
table.include.list: fabric.user_data
snapshot.mode: no_data
sink.type: file
EOF
}

# pgcdc and the workload run in their own sessions (setsid) so a Ctrl-C at the
# terminal reaches only this script, which then stops them in the right order:
# workload first, then pgcdc after it has caught up.
start_pgcdc() {
    rm -rf "$DATA_DIR"
    mkdir -p "$DATA_DIR"
    log "starting pgcdc: $PGCDC_BIN run --config .demo/pgcdc.yaml --data-dir ./pgcdc-data (log: .demo/pgcdc.log)"
    setsid "$PGCDC_BIN" run --config "$DEMO_DIR/pgcdc.yaml" --data-dir "$DATA_DIR" \
        </dev/null >"$DEMO_DIR/pgcdc.stdout" 2>"$DEMO_DIR/pgcdc.log" &
    PGCDC_PID=$!
    local i active
    for ((i = 0; i < 600; i++)); do
        wait_pid "$PGCDC_PID" 0 && {
            tail -30 "$DEMO_DIR/pgcdc.log" >&2
            die "pgcdc exited during startup"
        }
        active="$(sql -Atc "SELECT active FROM pg_replication_slots WHERE slot_name = '$SLOT'")"
        [[ "$active" != t ]] || {
            log "pgcdc is streaming (slot $SLOT active)"
            return 0
        }
        sleep 0.1
    done
    tail -30 "$DEMO_DIR/pgcdc.log" >&2
    die "pgcdc did not start streaming within 60 s"
}

start_workload() {
    log "starting workload: ~$DEMO_RATE ops/s on fabric.user_data (60% insert, 30% update, 10% delete)"
    setsid "$PY" scripts/demo_workload.py --dsn "$PGRIG_DSN" --rate "$DEMO_RATE" \
        </dev/null >"$DEMO_DIR/workload.out" 2>"$DEMO_DIR/workload.log" &
    WORKLOAD_PID=$!
}

# The monitor: reads the topic file incrementally (only new bytes each
# second) and the slot's lag; also used to wait for the drain and to count.
write_monitor() {
    cat >"$DEMO_DIR/monitor.py" <<'PYEOF'
import json, os, re, sys, time
import psycopg2

OP = re.compile(rb'"op"\s*:\s*"([a-z])"')

class Counter:
    def __init__(self, path):
        self.path, self.pos, self.rest = path, 0, b""
        self.counts = {"c": 0, "u": 0, "d": 0, "r": 0, "t": 0, "tombstone": 0, "other": 0}

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                chunk = f.read()
        except FileNotFoundError:
            return
        self.pos += len(chunk)
        lines = (self.rest + chunk).split(b"\n")
        self.rest = lines.pop()  # an incomplete last line waits for the next poll
        for line in lines:
            if not line.strip():
                continue
            if line.strip() == b"null":
                self.counts["tombstone"] += 1
                continue
            ops = OP.findall(line)  # the payload's "op" is the last one on the line
            op = ops[-1].decode() if ops else "other"
            self.counts[op if op in self.counts else "other"] += 1

    @property
    def events(self):
        c = self.counts
        return c["c"] + c["u"] + c["d"]

def lag(conn, slot):
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_current_wal_lsn() - confirmed_flush_lsn FROM pg_replication_slots "
                        "WHERE slot_name = %s", (slot,))
            r = cur.fetchone()
            return None if r is None or r[0] is None else int(r[0])
    except psycopg2.Error:
        return None

def human(n):
    if n is None:
        return "n/a"
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024

def alive(pid):
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False

def live(path, dsn, slot, pgcdc_pid, workload_pid, seconds):
    c, conn = Counter(path), psycopg2.connect(dsn)
    conn.autocommit = True
    tty = sys.stdout.isatty()
    start = last_t = time.monotonic()
    last_n, rc = 0, 0
    try:
        while True:
            time.sleep(1.0 - (time.monotonic() - start) % 1.0)
            c.poll()
            now = time.monotonic()
            rate = (c.events - last_n) / (now - last_t)
            last_n, last_t = c.events, now
            k = c.counts
            line = (f"[{now - start:6.0f}s] events {c.events:8d}  {rate:6.0f}/s  "
                    f"c={k['c']} u={k['u']} d={k['d']}  slot lag {human(lag(conn, slot))}")
            print(("\r" + line + "\033[K") if tty else line, end="" if tty else "\n", flush=True)
            if not alive(pgcdc_pid):
                print("\n[demo] pgcdc exited unexpectedly", flush=True)
                rc = 3
                break
            if not alive(workload_pid):
                print("\n[demo] the workload exited unexpectedly", flush=True)
                rc = 4
                break
            if seconds and now - start >= seconds:
                break
    except KeyboardInterrupt:
        pass
    if tty:
        print()
    return rc

def wait_for(path, expected, timeout, dsn, slot):
    c, deadline = Counter(path), time.monotonic() + timeout
    while True:
        c.poll()
        if c.events >= expected or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    return 0 if c.events >= expected else 1

def count(path):
    c = Counter(path)
    c.poll()
    out = dict(c.counts)
    out["events"] = c.events
    print(json.dumps(out))
    return 0

if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "live":
        sys.exit(live(args[0], args[1], args[2], int(args[3]), int(args[4]), float(args[5])))
    if cmd == "wait":
        sys.exit(wait_for(args[0], int(args[1]), float(args[2]), args[3], args[4]))
    sys.exit(count(args[0]))
PYEOF
}

monitor() {
    local secs="$DEMO_SECONDS"
    if ((secs > 0)); then
        log "running for $secs s (DEMO_SECONDS)"
    else
        log "running until Ctrl-C"
    fi
    # The monitor turns Ctrl-C into a normal exit; the trap keeps this script
    # alive to do the orderly shutdown below.
    trap 'INTERRUPTED=1' INT
    local rc=0
    "$PY" "$DEMO_DIR/monitor.py" live "$DATA_DIR/$TOPIC.jsonl" "$PGRIG_DSN" "$SLOT" \
        "$PGCDC_PID" "$WORKLOAD_PID" "$secs" || rc=$?
    return $rc
}

# Stops the workload, waits for pgcdc to emit every write, stops pgcdc, and
# checks the counts.  Returns non-zero on any mismatch or pgcdc failure.
shutdown_and_verify() {
    local monitor_rc="$1" ok=1 wl pgcdc_rc=0
    log "stopping the workload"
    kill -TERM "$WORKLOAD_PID" 2>/dev/null || true
    wait "$WORKLOAD_PID" || log "workload exited with $?"
    WORKLOAD_PID=""
    wl="$(tail -1 "$DEMO_DIR/workload.out" 2>/dev/null || true)"
    [[ "$wl" == "{"* ]] || {
        tail -20 "$DEMO_DIR/workload.log" >&2
        die "the workload did not report its counts"
    }
    local writes wc wu wd
    read -r writes wc wu wd < <("$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["total"], d["c"], d["u"], d["d"])' "$wl")
    log "workload committed $writes writes (c=$wc u=$wu d=$wd)"

    if kill -0 "$PGCDC_PID" 2>/dev/null; then
        log "waiting (up to 60 s) for pgcdc to emit all $writes events"
        "$PY" "$DEMO_DIR/monitor.py" wait "$DATA_DIR/$TOPIC.jsonl" "$writes" 60 "$PGRIG_DSN" "$SLOT" ||
            log "pgcdc did not catch up within 60 s"
        log "stopping pgcdc (SIGTERM)"
        kill -TERM "$PGCDC_PID" 2>/dev/null || true
        if ! wait_pid "$PGCDC_PID" 30; then
            log "pgcdc ignored SIGTERM for 30 s: killing it"
            kill -KILL "$PGCDC_PID" 2>/dev/null || true
            ok=0
        fi
    fi
    wait "$PGCDC_PID" || pgcdc_rc=$?
    PGCDC_PID=""
    if ((pgcdc_rc != 0)); then
        log "pgcdc exited with status $pgcdc_rc; last log lines:"
        tail -20 "$DEMO_DIR/pgcdc.log" >&2
        ok=0
    fi
    ((monitor_rc == 0)) || ok=0

    local counts events ec eu ed
    counts="$("$PY" "$DEMO_DIR/monitor.py" count "$DATA_DIR/$TOPIC.jsonl")"
    read -r events ec eu ed < <("$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["events"], d["c"], d["u"], d["d"])' "$counts")
    echo
    echo "==================== demo result ===================="
    printf '  workload writes : %8d  (c=%d u=%d d=%d)\n' "$writes" "$wc" "$wu" "$wd"
    printf '  pgcdc events    : %8d  (c=%d u=%d d=%d)  in %s\n' "$events" "$ec" "$eu" "$ed" \
        "pgcdc-data/$TOPIC.jsonl"
    printf '  all counts      : %s\n' "$counts"
    printf '  pgcdc exit      : %s\n' "$pgcdc_rc"
    ((monitor_rc != 3)) || echo "  pgcdc died while the workload was running"
    if [[ "$writes" == "$events" && "$wc" == "$ec" && "$wu" == "$eu" && "$wd" == "$ed" ]] && ((ok)); then
        echo "  RESULT: OK - every committed write became exactly one event"
        return 0
    fi
    echo "  RESULT: FAILED (see .demo/pgcdc.log and .demo/pg/postgres.log)"
    return 1
}

main() {
    trap cleanup EXIT
    trap 'INTERRUPTED=1; exit 130' INT TERM # before the pipeline runs: just clean up
    bash scripts/install-deps.sh
    build
    [[ -x "$PGCDC_BIN" ]] || die "no pgcdc binary at $PGCDC_BIN"
    start_cluster
    create_schema
    write_config
    write_monitor
    start_pgcdc
    start_workload
    local mrc=0
    monitor || mrc=$?
    trap 'INTERRUPTED=1' INT TERM # a second Ctrl-C must not skip the verification
    local rc=0
    shutdown_and_verify "$mrc" || rc=$?
    return $rc
}

main "$@"
