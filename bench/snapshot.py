#!/usr/bin/env python3
"""Snapshot benchmark: pgcdc's initial snapshot (1 and 2 workers, file sink)
against `psql -c "\\copy (SELECT * FROM user_data) TO /dev/null"`, on the same
pre-generated table, in the same run.

pgcdc runs with snapshot.mode=initial_only on a fresh slot each time: it copies
every row, waits until the file sink has fdatasynced everything, and exits; the
clock covers the whole process. psql's clock covers its whole process too.
Medians of --repeat runs; results in bench/out/snapshot.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from replication import (BENCH_SETTINGS, REPO_ROOT, ROW_SELECT, TABLE_DDL, PgCluster,  # noqa: E402
                         log, peak_rss_kb, pgcdc_version)


def run_psql(pg):
    argv = [os.path.join(pg.pg_bin, "psql"), "-X", "-q", "-d", pg.dsn(), "-c",
            "\\copy (SELECT * FROM fabric.user_data) TO /dev/null"]
    t0 = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f"psql failed: {r.stderr}")
    return dt


def run_pgcdc(binary, pg, threads, rows, workdir, schemas, run_no):
    slot = f"snap_{threads}_{run_no}"
    data = os.path.join(workdir, f"{slot}-data")
    subprocess.run(["rm", "-rf", data])
    os.makedirs(data)
    cfg = os.path.join(workdir, f"{slot}.yaml")
    lines = ["topic.prefix: bench", "database:", "  hostname: 127.0.0.1", f"  port: {pg.port}",
             "  user: postgres", '  password: ""', "  dbname: postgres", f"slot.name: {slot}",
             "publication.name: bench_pub", "publication.autocreate.mode: disabled",
             "table.include.list: fabric.user_data", "snapshot.mode: initial_only",
             f"snapshot.max.threads: {threads}"]
    if not schemas:
        lines += ["key.converter.schemas.enable: false", "value.converter.schemas.enable: false"]
    with open(cfg, "w") as f:
        f.write("\n".join(lines) + "\n")
    errlog = open(os.path.join(workdir, f"{slot}.log"), "wb")
    t0 = time.monotonic()
    proc = subprocess.Popen([binary, "run", "--config", cfg, "--data-dir", data],
                            stdout=subprocess.DEVNULL, stderr=errlog, stdin=subprocess.DEVNULL)
    rss = 0
    while proc.poll() is None:
        rss = max(rss, peak_rss_kb(proc.pid) or 0)
        time.sleep(0.05)
    dt = time.monotonic() - t0
    errlog.close()
    if proc.returncode != 0:
        raise RuntimeError(f"pgcdc exited {proc.returncode}; see {errlog.name}")
    topic = os.path.join(data, "bench.fabric.user_data.jsonl")
    count = 0
    with open(topic, "rb") as f:
        while chunk := f.read(1 << 22):
            count += chunk.count(b"\n")
    size = os.path.getsize(topic)
    subprocess.run(["rm", "-rf", data])
    pg.drop_slot(slot)
    if count != rows:
        raise RuntimeError(f"pgcdc wrote {count} rows, expected {rows}")
    return dt, size, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 5_000_000)))
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", 3)))
    ap.add_argument("--pgcdc", default=os.environ.get("PGCDC_BIN",
                                                      os.path.join(REPO_ROOT, "build", "pgcdc")))
    ap.add_argument("--schemas", action="store_true",
                    help="keep key/value schemas on (about 4.4 KB per row of output)")
    ap.add_argument("--workdir", default=os.path.join(REPO_ROOT, "bench", "out", "work"))
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "bench", "out", "snapshot.md"))
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    samples = {"psql": [], 1: [], 2: []}
    extra = {1: {}, 2: {}}
    with PgCluster(settings=BENCH_SETTINGS) as pg:
        pg.execute(TABLE_DDL)
        pg.execute("CREATE PUBLICATION bench_pub FOR TABLE fabric.user_data")
        t0 = time.monotonic()
        pg.execute(ROW_SELECT.format(lo=1, hi=args.rows))
        pg.execute("VACUUM ANALYZE fabric.user_data")  # hint bits set: same pages for everyone
        mib = int(pg.scalar("SELECT pg_table_size('fabric.user_data')")) / 2**20
        log(f"generated {args.rows:,} rows ({mib:,.0f} MiB) in {time.monotonic() - t0:.1f}s")
        for rep in range(args.repeat):
            dt = run_psql(pg)
            samples["psql"].append(dt)
            log(f"[{rep + 1}/{args.repeat}] psql \\copy: {dt:.2f}s")
            for threads in (1, 2):
                dt, size, rss = run_pgcdc(args.pgcdc, pg, threads, args.rows, args.workdir,
                                          args.schemas, rep)
                samples[threads].append(dt)
                extra[threads] = {"output_mib": size / 2**20,
                                  "rss_mib": max(extra[threads].get("rss_mib", 0), rss / 1024)}
                log(f"[{rep + 1}/{args.repeat}] pgcdc {threads} worker(s): {dt:.2f}s, "
                    f"output {size / 2**20:,.0f} MiB, peak RSS {rss / 1024:,.0f} MiB")
    base = statistics.median(samples["psql"])
    out = ["# Snapshot benchmark: pgcdc vs psql \\copy", "",
           f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
           f"- machine: {os.cpu_count()} CPUs, {platform.machine()}, {platform.platform()}",
           f"- pgcdc: {pgcdc_version(args.pgcdc)}; schemas {'on' if args.schemas else 'off'}",
           f"- table: seed 000's user_data, {args.rows:,} rows, {mib:,.0f} MiB", "",
           "| reader | seconds (median, min-max) | rows/s | vs psql | output MiB | peak RSS MiB |",
           "|---|---:|---:|---:|---:|---:|"]
    xs = sorted(samples["psql"])
    out.append(f"| psql \\copy to /dev/null | {base:.2f} ({xs[0]:.2f}-{xs[-1]:.2f}) | "
               f"{args.rows / base:,.0f} | 1.00x | - | - |")
    for threads in (1, 2):
        xs = sorted(samples[threads])
        med = statistics.median(xs)
        out.append(f"| pgcdc, {threads} worker{'s' if threads > 1 else ''}, file sink + fsync | "
                   f"{med:.2f} ({xs[0]:.2f}-{xs[-1]:.2f}) | {args.rows / med:,.0f} | "
                   f"{base / med:.2f}x | {extra[threads]['output_mib']:,.0f} | "
                   f"{extra[threads]['rss_mib']:,.0f} |")
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")
    print("\n".join(out))
    log(f"written {args.out}")


if __name__ == "__main__":
    main()
