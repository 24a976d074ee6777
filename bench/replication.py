#!/usr/bin/env python3
"""Replication throughput: pgcdc vs pg_recvlogical on pre-generated WAL.

For each scenario a fresh rig cluster gets fabric.user_data, a publication and
its logical slots (pgoutput) BEFORE any row is written, then the WAL is
generated, then each consumer drains the same WAL from its own slot, timed:

  a  ROWS rows inserted in BATCH-row transactions
  b  ROWS rows inserted in ONE transaction

Consumers:
  pg_recvlogical  pgoutput's binary stream written to /dev/null (-F 0: no
                  fsync): the cost of decoding + shipping the WAL, the floor
                  any consumer pays.  (a): proto_version=1.  (b): proto_version=1
                  (the walsender spills the transaction to disk and sends it at
                  commit) and proto_version=2 + streaming=on (the walsender
                  streams it in logical_decoding_work_mem-sized chunks while
                  decoding; pg_recvlogical just writes the chunks).
  pgcdc           `pgcdc run` with the file sink: decode pgoutput, build the
                  Debezium JSON, write one line per row.  The proto version
                  and streaming are pgcdc's own choice from the server (15:
                  streaming available); the clock stops when the topic file
                  holds ROWS complete lines.

Both clocks include process start-up and connection set-up.
"""

import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "rig"))
from pgrig import PgCluster  # noqa: E402

TABLE_DDL = """
CREATE SCHEMA fabric;
CREATE TABLE fabric.user_data (id serial PRIMARY KEY, name text, gender varchar(16),
  address text, latitude double precision, longitude double precision, timezone varchar(64),
  email varchar(255), phone varchar(64), cell varchar(64), date_of_birth timestamptz,
  registered_date timestamptz, picture_url text, insertion_time timestamp DEFAULT now());
"""

# Rows look like the demo's: every column filled, ~250 bytes per row.
ROW_SELECT = """
INSERT INTO fabric.user_data (name, gender, address, latitude, longitude, timezone, email, phone,
  cell, date_of_birth, registered_date, picture_url)
SELECT 'User ' || g || ' ' || md5(g::text)::varchar(8),
  CASE WHEN g % 2 = 0 THEN 'male' ELSE 'female' END,
  (g % 9999) || ' Main Street, Springfield ' || (g % 97),
  random() * 180 - 90, random() * 360 - 180,
  (ARRAY['Europe/Berlin','America/New_York','Asia/Tokyo','Australia/Sydney'])[1 + g % 4],
  'user' || g || '@example.com',
  '(555)-' || lpad((g % 1000)::text, 3, '0') || '-' || lpad((g % 10000)::text, 4, '0'),
  '(556)-' || lpad((g % 997)::text, 3, '0') || '-' || lpad((g % 9973)::text, 4, '0'),
  timestamptz '1950-01-01' + (g % 20000) * interval '1 day',
  timestamptz '2010-01-01' + (g % 100000) * interval '1 hour',
  'https://pictures.example/' || (CASE WHEN g % 2 = 0 THEN 'men/' ELSE 'women/' END) || (g % 100) || '.jpg'
FROM generate_series({lo}, {hi}) g
"""

BENCH_SETTINGS = {
    # The PostgreSQL default (the rig's 64kB is for tests): large transactions
    # still exceed it in (b), small ones in (a) do not.
    "logical_decoding_work_mem": "64MB",
    "shared_buffers": "256MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "log_min_messages": "warning",
}


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def lsn_int(lsn: str) -> int:
    hi, lo = lsn.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def generate(pg, scenario, rows, batch):
    t0 = time.monotonic()
    if scenario == "a":
        n = rows // batch
        pg.execute("DO $$ BEGIN FOR i IN 0.." + str(n - 1) + " LOOP "
                   + ROW_SELECT.format(lo=f"i * {batch} + 1", hi=f"(i + 1) * {batch}")
                   + "; COMMIT; END LOOP; END $$")
    else:
        pg.execute(ROW_SELECT.format(lo=1, hi=rows))
    return time.monotonic() - t0


def run_recvlogical(pg, slot, publication, end_lsn, options, timeout):
    argv = [os.path.join(pg.pg_bin, "pg_recvlogical"), "-d", pg.dsn(), "--slot", slot, "--start",
            "--no-loop", "-E", end_lsn, "-F", "0", "-f", "/dev/null",
            "-o", f"publication_names={publication}"]
    for o in options:
        argv += ["-o", o]
    t0 = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f"pg_recvlogical failed ({r.returncode}): {r.stderr}")
    s = pg.slot(slot)
    if s["confirmed_flush_lsn"] is None or lsn_int(s["confirmed_flush_lsn"]) < lsn_int(end_lsn):
        # It exits at the end position; a slot short of it means it stopped early.
        raise RuntimeError(f"pg_recvlogical stopped at {s['confirmed_flush_lsn']} < {end_lsn}")
    return dt


def write_pgcdc_config(path, pg, slot, publication, schemas, streaming=True, prefix="bench",
                       sink=("sink.type: file",)):
    """pgcdc's YAML config for draining the bench slot `slot` of fabric.user_data
    into `sink` (lines of config); no snapshot."""
    lines = [
        f"topic.prefix: {prefix}",
        "database:",
        "  hostname: 127.0.0.1",
        f"  port: {pg.port}",
        "  user: postgres",
        '  password: ""',
        "  dbname: postgres",
        f"slot.name: {slot}",
        f"publication.name: {publication}",
        "publication.autocreate.mode: disabled",
        "plugin.name: pgoutput",
        "table.include.list: fabric.user_data",
        "snapshot.mode: no_data",
        *sink,
    ]
    if not schemas:
        lines += ["key.converter.schemas.enable: false", "value.converter.schemas.enable: false"]
    if not streaming:
        lines += ["pgcdc.streaming: false"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def peak_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def stop_process(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def wait_confirmed(pg, slot, end, proc, timeout, on_tick=None):
    """Polls until the slot confirmed `end`; returns the monotonic time it did."""
    t0 = time.monotonic()
    while True:
        confirmed = pg.scalar("SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
                              "WHERE slot_name = %s", (slot,))
        if confirmed and lsn_int(confirmed) >= end:
            return time.monotonic()
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"pgcdc exited with {proc.returncode}")
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"slot {slot} not drained after {timeout}s")
        if on_tick:
            on_tick()
        time.sleep(0.05)


def run_pgcdc(binary, pg, slot, publication, rows, end_lsn, workdir, timeout, schemas,
              streaming=True):
    """Runs pgcdc until the slot has confirmed end_lsn: for pgcdc that means every
    event up to the end of the WAL is durably written (fdatasync) and acknowledged,
    the same finish line as pg_recvlogical -E. The output is checked afterwards,
    outside the timed window, so counting lines does not compete for the CPU."""
    os.makedirs(workdir, exist_ok=True)
    cfg = os.path.join(workdir, "pgcdc.yaml")
    data = os.path.join(workdir, "data")
    subprocess.run(["rm", "-rf", data])
    os.makedirs(data, exist_ok=True)
    write_pgcdc_config(cfg, pg, slot, publication, schemas, streaming)
    topic = os.path.join(data, "bench.fabric.user_data.jsonl")
    errlog = open(os.path.join(workdir, "pgcdc.log"), "wb")
    end = lsn_int(end_lsn)
    t0 = time.monotonic()
    proc = subprocess.Popen([binary, "run", "--config", cfg, "--data-dir", data],
                            stdout=subprocess.DEVNULL, stderr=errlog, stdin=subprocess.DEVNULL)
    try:
        try:
            dt = wait_confirmed(pg, slot, end, proc, timeout) - t0
        except RuntimeError as e:
            raise RuntimeError(f"{e}; see {errlog.name}") from None
        rss = peak_rss_kb(proc.pid)
    finally:
        stop_process(proc)
        errlog.close()
    lines = 0
    with open(topic, "rb") as f:
        while chunk := f.read(1 << 22):
            lines += chunk.count(b"\n")
    if lines != rows:
        raise RuntimeError(f"pgcdc wrote {lines} events, expected {rows}")
    size = os.path.getsize(topic)
    return dt, lines, size, proc.returncode, rss


def pgcdc_version(binary):
    try:
        return subprocess.run([binary, "version"], capture_output=True, text=True,
                              timeout=10).stdout.strip().splitlines()[0]
    except Exception:
        return "unknown"


def prepare_wal(pg, slots, scenario_name, rows, batch):
    """Creates the bench table, its publication and `slots` (before the WAL
    exists, so every slot must decode all of it), then generates the WAL of
    the scenario; returns (end LSN, seconds generating, WAL bytes)."""
    pg.execute(TABLE_DDL)
    pg.execute("CREATE PUBLICATION bench_pub FOR TABLE fabric.user_data")
    for s in slots:
        pg.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (s,))
    start_lsn = pg.wal_lsn()
    gen = generate(pg, scenario_name, rows, batch)
    end_lsn = pg.wal_lsn()
    wal = lsn_int(end_lsn) - lsn_int(start_lsn)
    log(f"generated {rows:,} rows in {gen:.1f}s, {wal / 2**20:.0f} MiB of WAL "
        f"({start_lsn} .. {end_lsn})")
    return end_lsn, gen, wal


def scenario(name, args, binary):
    """Pre-generates the scenario's WAL once, then lets every consumer drain it
    args.repeat times, each time on its own slot (all created before the WAL
    exists), interleaving consumers so that drifts of the machine hit all of
    them alike. Reports the median per consumer with the range."""
    title = {"a": f"(a) {args.rows:,} rows in {args.batch:,}-row transactions",
             "b": f"(b) {args.rows:,} rows in one transaction"}[name]
    log(f"scenario {title}")
    # consumers: (label, options text, kind, params, slot prefix)
    consumers = [("pg_recvlogical", "proto_version=1", "recv", ["proto_version=1"], "s_recv")]
    if name == "b":
        consumers.append(("pg_recvlogical", "proto_version=2, streaming=on", "recv",
                          ["proto_version=2", "streaming=on"], "s_recv_stream"))
    variants = [(True, True)] if args.schemas else []
    variants.append((False, True))
    if name == "b":  # one big transaction: also let the walsender spill instead of pgcdc
        variants += [(sc, False) for sc, _ in list(variants)]
    for schemas, streaming in variants:
        opts = "file sink, fsync" + ("" if schemas else ", schemas off") + (
            "" if streaming else ", streaming off")
        consumers.append(("pgcdc", opts, "pgcdc", (schemas, streaming),
                          f"s_pgcdc_{int(schemas)}{int(streaming)}"))
    samples = {i: [] for i in range(len(consumers))}
    extra = {i: {} for i in range(len(consumers))}
    with PgCluster(settings=BENCH_SETTINGS) as pg:
        slots = [f"{c[4]}_{rep}" for rep in range(args.repeat) for c in consumers]
        end_lsn, gen, wal = prepare_wal(pg, slots, name, args.rows, args.batch)
        for rep in range(args.repeat):
            for i, (label, opts, kind, params, prefix) in enumerate(consumers):
                slot = f"{prefix}_{rep}"
                try:
                    if kind == "recv":
                        dt = run_recvlogical(pg, slot, "bench_pub", end_lsn, params, args.timeout)
                        log(f"[{rep + 1}/{args.repeat}] {label} ({opts}): {dt:.2f}s")
                    elif binary:
                        work = os.path.join(args.workdir, f"{name}-{slot}")
                        try:
                            dt, lines, size, rc, rss = run_pgcdc(
                                binary, pg, slot, "bench_pub", args.rows, end_lsn, work,
                                args.timeout, params[0], params[1])
                        finally:
                            if not args.keep_output:
                                subprocess.run(["rm", "-rf", os.path.join(work, "data")])
                        extra[i]["output_mib"] = size / 2**20
                        extra[i]["peak_rss_kb"] = max(extra[i].get("peak_rss_kb", 0), rss or 0)
                        log(f"[{rep + 1}/{args.repeat}] pgcdc ({opts}): {dt:.2f}s, output "
                            f"{size / 2**20:.0f} MiB, peak RSS {rss or 0:,} kB, exit {rc}")
                    else:
                        continue
                    samples[i].append(dt)
                except RuntimeError as e:
                    log(f"{label} ({opts}): FAILED: {e}")
                    extra[i]["error"] = str(e)
    results = []
    for i, (label, opts, kind, params, prefix) in enumerate(consumers):
        xs = sorted(samples[i])
        if "error" in extra[i] or not xs:
            if kind == "recv" or binary:
                results.append({"tool": label, "options": opts,
                                "error": extra[i].get("error", "not run")})
            continue
        med = statistics.median(xs)
        results.append({"tool": label, "options": opts, "seconds": med, "min": xs[0],
                        "max": xs[-1], "runs": len(xs), "rows_per_s": args.rows / med,
                        **{k: v for k, v in extra[i].items() if k != "error"}})
    return {"name": name, "title": title, "gen_seconds": gen, "wal_bytes": wal,
            "results": results}


def mib_rss_cells(x: dict, mib_key: str = "output_mib") -> tuple[str, str]:
    """A result's output size and peak RSS as table cells (MiB, "-" when unknown)."""
    mib = f"{x[mib_key]:,.0f}" if x.get(mib_key) else "-"
    rss = f"{x['peak_rss_kb'] / 1024:,.0f}" if x.get("peak_rss_kb") else "-"
    return mib, rss


def markdown(runs, args, binary):
    out = ["# Replication benchmark: pgcdc vs pg_recvlogical", "",
           f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
           f"- machine: {os.cpu_count()} CPUs, {platform.machine()}, {platform.platform()}",
           f"- PostgreSQL: {subprocess.run([os.path.join('/usr/lib/postgresql/15/bin', 'postgres'), '--version'], capture_output=True, text=True).stdout.strip()}",
           f"- pgcdc: {pgcdc_version(binary) if binary else 'not run'} ({binary or '-'})",
           "- server settings: " + ", ".join(f"{k}={v}" for k, v in BENCH_SETTINGS.items()),
           "- WAL pre-generated with all slots created first; each consumer drains it alone.",
           "- pg_recvlogical: `--no-loop -E <end lsn> -F 0 -f /dev/null` (binary pgoutput, no "
           "parsing, nothing written); pgcdc: file sink with fdatasync before every "
           "acknowledgement; for both the clock stops when the slot has confirmed the end LSN "
           "(for pgcdc: every event durable on disk). pgcdc's output is counted afterwards.", ""]
    for r in runs:
        out += [f"## {r['title']}", "",
                f"WAL: {r['wal_bytes'] / 2**20:.0f} MiB, generated in {r['gen_seconds']:.1f} s.", "",
                "| consumer | options | seconds (median, min-max) | rows/s | vs pg_recvlogical | output MiB | peak RSS MiB |",
                "|---|---|---:|---:|---:|---:|---:|"]
        base = next((x for x in r["results"] if x["tool"] == "pg_recvlogical" and "seconds" in x),
                    None)
        for x in r["results"]:
            if "error" in x:
                out.append(f"| {x['tool']} | {x['options']} | failed | - | - | - | - |")
                continue
            ratio = x["rows_per_s"] / base["rows_per_s"] if base else float("nan")
            mib, rss = mib_rss_cells(x)
            out.append(f"| {x['tool']} | {x['options']} | {x['seconds']:.2f} "
                       f"({x['min']:.2f}-{x['max']:.2f}) | "
                       f"{x['rows_per_s']:,.0f} | {ratio:.2f}x | {mib} | {rss} |")
        out.append("")
    out += ["What each consumer does: pg_recvlogical receives pgoutput's binary messages and "
            "writes them unparsed; pgcdc parses them, builds Debezium JSON (with the Kafka Connect "
            "schema unless disabled) and appends one line per row.  In (b) with proto_version=1 the "
            "walsender decodes the whole transaction (spilling past logical_decoding_work_mem) and "
            "sends it only at COMMIT; with streaming=on it sends chunks while decoding, and the "
            "consumer must hold them until the COMMIT.", ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 1_000_000)))
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", 3)),
                    help="runs per consumer; the median is reported")
    ap.add_argument("--scenarios", default=os.environ.get("BENCH_SCENARIOS", "a,b"))
    ap.add_argument("--pgcdc", default=os.environ.get("PGCDC_BIN",
                                                      os.path.join(REPO_ROOT, "build", "pgcdc")))
    ap.add_argument("--no-schemas", dest="schemas", action="store_false",
                    help="run pgcdc with key/value.converter.schemas.enable=false")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--workdir", default=os.path.join(REPO_ROOT, "bench", "out", "work"))
    ap.add_argument("--keep-output", action="store_true")
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "bench", "out", "replication.md"))
    args = ap.parse_args()
    assert args.rows % args.batch == 0, "--rows must be a multiple of --batch"
    binary = args.pgcdc if os.access(args.pgcdc, os.X_OK) else None
    if binary is None:
        log(f"no pgcdc binary at {args.pgcdc}: measuring pg_recvlogical only")
    runs = [scenario(s.strip(), args, binary) for s in args.scenarios.split(",") if s.strip()]
    md = markdown(runs, args, binary)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(md)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump(runs, f, indent=1)
    print(md)
    log(f"written {args.out}")
    failed = any("error" in x or x.get("exit", 0) != 0 for r in runs for x in r["results"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
