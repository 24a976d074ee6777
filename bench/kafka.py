#!/usr/bin/env python3
"""Kafka benchmark: pgcdc -> Kafka against pg_recvlogical, and commit-to-broker latency.

Two measurements, each on its own throwaway PostgreSQL 15 cluster, against one
rig Kafka broker (tests/rig/kafkarig.py: one KRaft node, its JVM on this machine):

  throughput  ROWS rows inserted in BATCH-row transactions, with every slot
              created BEFORE the WAL is written; then each consumer drains the
              same WAL from its own slot, timed, interleaved over --repeat runs:

                pg_recvlogical  pgoutput's binary stream to /dev/null (-F 0,
                                proto_version=1), as in bench/replication.py:
                                the cost of decoding and shipping the WAL.
                pgcdc           `pgcdc run` with sink.type=kafka into a fresh
                                topic (created beforehand, --partitions): decode,
                                build the Debezium JSON, produce (idempotent,
                                acks=all, lz4) and wait for the delivery reports.

              The clock covers process start-up and stops when the slot's
              confirmed_flush_lsn reaches the end of the WAL; pgcdc confirms a
              position only after the broker acknowledged every record up to it.
              Afterwards the topic must hold exactly ROWS records.  Before the
              timed runs, --warmup-runs untimed pgcdc runs let the broker's JVM
              compile its produce path (a long-running broker has).

  latency     pgcdc streams into a fresh topic created with
              message.timestamp.type=LogAppendTime while a server-side loop
              inserts RATE rows/s (TX_ROWS rows per transaction, on an absolute
              schedule) for DURATION seconds.  Once everything is acknowledged the
              topic is read back and, per record,
                  latency = Kafka record timestamp (the broker's append time, ms)
                            - source.ts_us (the transaction's commit time, us)
              Records committed in the first WARMUP seconds are left out.  The
              reader runs after the load, so it takes no CPU from the measured run
              (the append time is stored in the log, not taken by the reader).
              The cluster first writes and checkpoints ~200 MB of WAL so that WAL
              segments are recycled, as on a server that has been running.

CPU seconds of pgcdc, the walsender and the broker's JVM are sampled from /proc
over each timed window, to show where the time goes on this machine.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from replication import (BENCH_SETTINGS, REPO_ROOT, ROW_SELECT, TABLE_DDL, PgCluster,  # noqa: E402
                         log, lsn_int, mib_rss_cells, peak_rss_kb, pgcdc_version, prepare_wal,
                         stop_process, wait_confirmed, write_pgcdc_config)

sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "rig"))
from kafkarig import KAFKA_SCRIPT_JVM_OPTS, TEST_JVM_OPTS, KafkaBroker, resolve_jars  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
TS_US = re.compile(rb'"ts_us":(-?\d+)')


# ------------------------------------------------------------------ helpers
def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process so far (None if it is gone)."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds per thread name of a process: librdkafka's threads are rdk:*, pgcdc's
    own (source, sink worker, committer) are all called pgcdc."""
    out: dict[str, float] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                head, tail = f.read().rsplit(")", 1)
            name = head.split("(", 1)[1]
            name = "rdk:broker" if name.startswith("rdk:broker") else name
            v = tail.split()
            out[name] = out.get(name, 0.0) + (int(v[11]) + int(v[12])) / CLK_TCK
        except (OSError, IndexError, ValueError):
            pass
    return out


def machine_cpu() -> float:
    """CPU seconds the whole machine spent busy, all CPUs: user, nice, system, irq and
    softirq (not idle, iowait, or time the hypervisor gave to other guests)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / CLK_TCK


class CpuWatch:
    """CPU seconds a few processes (and the machine) spend from now on, read at each
    sample(); a process that exits keeps its last sample."""

    def __init__(self, pids: dict[str, int | None]):
        self.start = {k: cpu_seconds(p) for k, p in pids.items()}
        self.last = dict(self.start)
        self.pids = dict(pids)
        self.machine0 = machine_cpu()
        self.machine = 0.0

    def add(self, name: str, pid: int | None) -> None:
        """Starts watching a process that appeared after the window opened (from 0)."""
        if pid and name not in self.pids:
            self.pids[name] = pid
            self.start[name] = 0.0
            self.last[name] = cpu_seconds(pid)

    def sample(self) -> None:
        for k, p in self.pids.items():
            c = cpu_seconds(p)
            if c is not None:
                self.last[k] = c
        self.machine = machine_cpu() - self.machine0

    def result(self) -> dict[str, float]:
        out = {k: self.last[k] - (self.start[k] or 0.0) for k in self.pids
               if self.last.get(k) is not None}
        out["machine"] = self.machine
        return out


def walsender_pid(pg, slot: str) -> int | None:
    return pg.scalar("SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s", (slot,))


def broker_stats(kb: KafkaBroker, topic: str) -> tuple[int, int]:
    """(records, bytes on disk) of a topic: end offsets summed, log segment sizes."""
    from confluent_kafka import Consumer, TopicPartition  # type: ignore
    c = Consumer({"bootstrap.servers": kb.bootstrap, "group.id": "bench-stats"})
    try:
        md = c.list_topics(topic=topic, timeout=10).topics[topic]
        n = 0
        for p in md.partitions:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            n += hi - lo
    finally:
        c.close()
    size = 0
    for d in os.listdir(kb.data_dir):
        if d.rsplit("-", 1)[0] == topic:
            for f in os.listdir(os.path.join(kb.data_dir, d)):
                if f.endswith(".log"):
                    size += os.path.getsize(os.path.join(kb.data_dir, d, f))
    return n, size


def pgcdc_config(path, pg, slot, prefix, bootstrap, schemas, extra=()):
    write_pgcdc_config(path, pg, slot, "bench_pub", schemas, prefix=prefix,
                       sink=("sink.type: kafka", f"bootstrap.servers: {bootstrap}",
                             "topic.creation.enable: false", *extra))


# --------------------------------------------------------------- throughput
def run_recvlogical(pg, slot, end_lsn, timeout, kb):
    argv = [os.path.join(pg.pg_bin, "pg_recvlogical"), "-d", pg.dsn(), "--slot", slot, "--start",
            "--no-loop", "-E", end_lsn, "-F", "0", "-f", "/dev/null",
            "-o", "publication_names=bench_pub", "-o", "proto_version=1"]
    watch = CpuWatch({"broker": kb.pid})
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watch.add("client", proc.pid)
    while proc.poll() is None:
        watch.add("walsender", walsender_pid(pg, slot))
        watch.sample()
        if time.monotonic() - t0 > timeout:
            proc.kill()
        time.sleep(0.05)
    dt = time.monotonic() - t0
    watch.sample()
    if proc.returncode != 0:
        raise RuntimeError(f"pg_recvlogical failed ({proc.returncode}): {proc.stderr.read()}")
    s = pg.slot(slot)
    if s["confirmed_flush_lsn"] is None or lsn_int(s["confirmed_flush_lsn"]) < lsn_int(end_lsn):
        raise RuntimeError(f"pg_recvlogical stopped at {s['confirmed_flush_lsn']} < {end_lsn}")
    return dt, watch.result()


def run_pgcdc_kafka(binary, pg, kb, slot, prefix, rows, end_lsn, workdir, timeout, schemas,
                    partitions, extra=()):
    os.makedirs(workdir, exist_ok=True)
    data = os.path.join(workdir, "data")
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    cfg = os.path.join(workdir, "pgcdc.yaml")
    pgcdc_config(cfg, pg, slot, prefix, kb.bootstrap, schemas, extra)
    topic = f"{prefix}.fabric.user_data"
    kb.create_topic(topic, partitions=partitions)
    errlog = open(os.path.join(workdir, "pgcdc.log"), "wb")
    watch = CpuWatch({"broker": kb.pid})
    t0 = time.monotonic()
    proc = subprocess.Popen([binary, "run", "--config", cfg, "--data-dir", data],
                            stdout=subprocess.DEVNULL, stderr=errlog, stdin=subprocess.DEVNULL)
    watch.add("client", proc.pid)
    rss = 0

    threads: dict[str, float] = {}

    def tick():
        watch.add("walsender", walsender_pid(pg, slot))
        watch.sample()
        threads.update(thread_cpu(proc.pid))

    try:
        t1 = wait_confirmed(pg, slot, lsn_int(end_lsn), proc, timeout, tick)
        dt = t1 - t0
        watch.sample()
        threads.update(thread_cpu(proc.pid))
        rss = peak_rss_kb(proc.pid) or 0
    finally:
        rc = stop_process(proc)
        errlog.close()
    n, size = broker_stats(kb, topic)
    kb.delete_topic(topic)
    if n != rows:
        raise RuntimeError(f"topic {topic} holds {n} records, expected {rows}")
    cpu = watch.result()
    cpu["threads"] = threads
    return dt, size, rc, rss, cpu


def warm_up_broker(binary, pg, kb, args, end_lsn, runs, workdir, partitions=1, settings=()):
    """Untimed pgcdc -> Kafka runs over the generated WAL, from the slots
    s_warmup_<n> (created with the others, dropped here); returns their times.

    A broker that just started runs its produce path in the interpreter and
    compiles it on the way (its CPU per run keeps falling over the first two or
    three runs); a long-running broker is warm."""
    times = []
    for w in range(runs):
        dt, _size, _rc, _rss, cpu = run_pgcdc_kafka(
            binary, pg, kb, f"s_warmup_{w}", f"warmup{w}", args.rows, end_lsn, workdir,
            args.timeout, True, partitions, settings)
        pg.drop_slot(f"s_warmup_{w}")
        times.append(dt)
        log(f"broker warm-up run {w + 1} (untimed): pgcdc -> Kafka {dt:.2f}s, CPU {fmt_cpu(cpu)}")
    return times


def throughput(args, binary, kb):
    """Pre-generates the WAL once; every consumer drains it args.repeat times."""
    title = f"{args.rows:,} rows in {args.batch:,}-row transactions"
    log(f"throughput: {title}")
    consumers = [("pg_recvlogical", "proto_version=1, to /dev/null", "recv", None, "s_recv")]
    if binary:
        for schemas in ([True, False] if args.schemas else [False]):
            opts = f"Kafka sink, {args.partitions} partition{'s' if args.partitions > 1 else ''}"
            opts += "" if schemas else ", schemas off"
            opts += "".join(f", {kv}" for kv in args.set)
            consumers.append(("pgcdc", opts, "pgcdc", schemas, f"s_pgcdc_{int(schemas)}"))
    samples = {i: [] for i in range(len(consumers))}
    extra = {i: {"cpu": []} for i in range(len(consumers))}
    with PgCluster(settings=BENCH_SETTINGS) as pg:
        slots = [f"{c[4]}_{rep}" for rep in range(args.repeat) for c in consumers]
        slots += [f"s_warmup_{w}" for w in range(args.warmup_runs if binary else 0)]
        end_lsn, gen, wal = prepare_wal(pg, slots, "a", args.rows, args.batch)
        args.warmup_times += warm_up_broker(binary, pg, kb, args, end_lsn,
                                            args.warmup_runs if binary else 0,
                                            os.path.join(args.workdir, "kafka-warmup"),
                                            args.partitions, args.set)
        for rep in range(args.repeat):
            for i, (label, opts, kind, schemas, prefix) in enumerate(consumers):
                slot = f"{prefix}_{rep}"
                try:
                    if kind == "recv":
                        dt, cpu = run_recvlogical(pg, slot, end_lsn, args.timeout, kb)
                        log(f"[{rep + 1}/{args.repeat}] {label}: {dt:.2f}s, "
                            f"CPU {fmt_cpu(cpu)}")
                    else:
                        work = os.path.join(args.workdir, f"kafka-{slot}")
                        dt, size, rc, rss, cpu = run_pgcdc_kafka(
                            binary, pg, kb, slot, f"bench{rep}{int(schemas)}", args.rows,
                            end_lsn, work, args.timeout, schemas, args.partitions, args.set)
                        extra[i]["broker_mib"] = size / 2**20
                        extra[i]["peak_rss_kb"] = max(extra[i].get("peak_rss_kb", 0), rss)
                        if rc != 0:
                            extra[i]["exit"] = rc
                        log(f"[{rep + 1}/{args.repeat}] pgcdc ({opts}): {dt:.2f}s, on the "
                            f"broker {size / 2**20:,.0f} MiB, peak RSS {rss:,} kB, exit {rc}, "
                            f"CPU {fmt_cpu(cpu)}")
                    samples[i].append(dt)
                    extra[i]["cpu"].append(cpu)
                except RuntimeError as e:
                    log(f"{label} ({opts}): FAILED: {e}")
                    extra[i]["error"] = str(e)
    results = []
    for i, (label, opts, kind, schemas, prefix) in enumerate(consumers):
        xs = sorted(samples[i])
        if "error" in extra[i] or not xs:
            results.append({"tool": label, "options": opts,
                            "error": extra[i].get("error", "not run")})
            continue
        med = statistics.median(xs)
        # CPU of the median run
        cpu = extra[i]["cpu"][samples[i].index(med)] if med in samples[i] else extra[i]["cpu"][0]
        results.append({"tool": label, "options": opts, "seconds": med, "min": xs[0],
                        "max": xs[-1], "runs": len(xs), "rows_per_s": args.rows / med,
                        "cpu": cpu, **{k: v for k, v in extra[i].items()
                                       if k not in ("error", "cpu")}})
    return {"title": title, "gen_seconds": gen, "wal_bytes": wal, "results": results}


def cpu_cells(cpu: dict, keys=("client", "walsender", "broker", "machine"),
              digits: int = 1) -> str:
    """CPU-seconds of the named processes as one table cell: "a / b / c"."""
    return " / ".join(f"{cpu[k]:.{digits}f}" if k in cpu else "-" for k in keys)


def fmt_cpu(cpu: dict) -> str:
    names = [("client", "client"), ("walsender", "walsender"), ("broker", "broker"),
             ("machine", "machine")]
    out = ", ".join(f"{label} {cpu[k]:.1f}s" for k, label in names if k in cpu)
    if cpu.get("threads"):
        out += " (client threads: " + ", ".join(
            f"{k} {v:.1f}s" for k, v in sorted(cpu["threads"].items(), key=lambda kv: -kv[1])
            if v >= 0.05) + ")"
    return out


# ------------------------------------------------------------------ latency
LOAD_SQL = """
DO $$
DECLARE
  t0 timestamptz := clock_timestamp();
  step interval := make_interval(secs => {tx_rows}::float8 / {rate});
BEGIN
  FOR i IN 0..{ntx} - 1 LOOP
    {insert};
    COMMIT;
    PERFORM pg_sleep(greatest(0, extract(epoch FROM t0 + (i + 1) * step - clock_timestamp())));
  END LOOP;
END $$
"""


def percentile(sorted_xs, q):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_xs:
        return float("nan")
    k = max(0, min(len(sorted_xs) - 1, math.ceil(q / 100 * len(sorted_xs)) - 1))
    return sorted_xs[k]


def read_latencies(kb, topic, expect, t_from_us, timeout=600):
    """Reads the whole topic; returns (append - commit, encode - commit, append - encode)
    in ms for records committed at or after t_from_us, the commit times (us) in the same
    order as the first list, and the record count."""
    from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, Consumer, KafkaError, TopicPartition  # type: ignore
    c = Consumer({"bootstrap.servers": kb.bootstrap, "group.id": "bench-latency",
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "fetch.max.bytes": 64 << 20, "max.partition.fetch.bytes": 16 << 20})
    total, e2e, enc, snd, commits = 0, [], [], [], []
    try:
        md = c.list_topics(topic=topic, timeout=10).topics[topic]
        parts = sorted(md.partitions)
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        eof = set()
        deadline = time.time() + timeout
        while len(eof) < len(parts) or total < expect:
            if time.time() > deadline:
                raise RuntimeError(f"read {total} of {expect} records of {topic}")
            for m in c.consume(10000, 1.0):
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        eof.add(m.partition())
                        continue
                    raise RuntimeError(str(m.error()))
                eof.discard(m.partition())
                total += 1
                ts_type, append_ms = m.timestamp()
                if ts_type != TIMESTAMP_LOG_APPEND_TIME:
                    raise RuntimeError(f"{topic}: record timestamps are not LogAppendTime")
                ts = TS_US.findall(m.value())
                commit_us, encode_us = int(ts[0]), int(ts[-1])  # source.ts_us, payload.ts_us
                if commit_us < t_from_us:
                    continue
                e2e.append(append_ms - commit_us / 1000)
                commits.append(commit_us)
                enc.append((encode_us - commit_us) / 1000)
                snd.append(append_ms - encode_us / 1000)
    finally:
        c.close()
    return e2e, enc, snd, commits, total


def start_consumer_and_wait(pg, slot, proc, what, timeout=60):
    """Waits until a consumer process streams from its slot (the slot is active)."""
    deadline = time.monotonic() + timeout
    while not (pg.slot(slot) or {}).get("active"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start streaming")
        time.sleep(0.1)


def steady_load(args, pg, watch):
    """Inserts args.rate rows/s in args.tx_rows-row transactions for args.duration seconds
    (a server-side loop on an absolute schedule), sampling watch meanwhile.  Returns
    (rows, seconds the load took, its start as microseconds since the epoch)."""
    max_id = pg.scalar("SELECT coalesce(max(id), 0) FROM fabric.user_data")
    ntx = int(args.rate * args.duration / args.tx_rows)
    rows = ntx * args.tx_rows
    insert = ROW_SELECT.format(lo=f"{max_id} + i * {args.tx_rows} + 1",
                               hi=f"{max_id} + (i + 1) * {args.tx_rows}")
    sql = LOAD_SQL.format(tx_rows=args.tx_rows, rate=args.rate, ntx=ntx, insert=insert)
    err = []

    def load():
        try:
            pg.execute(sql)
        except Exception as e:  # noqa: BLE001 - reported below
            err.append(e)

    t_start_us = time.time_ns() // 1000
    t0 = time.monotonic()
    th = threading.Thread(target=load, daemon=True)
    th.start()
    while th.is_alive():
        watch.sample()
        time.sleep(0.2)
    load_s = time.monotonic() - t0
    if err:
        raise RuntimeError(f"load failed: {err[0]}")
    return rows, load_s, t_start_us


def latency_result(rows, load_s, t_start_us, e2e, enc, snd, commits, cpu, rc):
    """Percentiles (ms) of commit->append, commit->encode and encode->append, the slowest
    transactions and the CPU per second of load, from read_latencies()' lists."""
    res = {"rows": rows, "load_seconds": load_s, "achieved_rate": rows / load_s,
           "measured": len(e2e), "exit": rc, "cpu": {k: v / load_s for k, v in cpu.items()}}
    if e2e:
        per_tx: dict[int, tuple[float, float]] = {}
        for lat, c, e in zip(e2e, commits, enc):
            if lat > per_tx.get(c, (-1e9, 0))[0]:
                per_tx[c] = (lat, e)
        # the slowest transactions: latency, when they committed (s into the load) and
        # how much of it was before the consumer encoded the event
        res["slowest"] = [(round(lat, 1), round((c - t_start_us) / 1e6, 2), round(e, 1))
                          for c, (lat, e) in sorted(per_tx.items(), key=lambda kv: -kv[1][0])[:5]]
        res["over_25ms"] = sum(1 for x in e2e if x > 25) / len(e2e)
    for name, xs in (("append", e2e), ("encode", enc), ("send", snd)):
        xs.sort()
        res[name] = {f"p{q}": percentile(xs, q) for q in (50, 95, 99, 99.9)}
        res[name]["max"] = xs[-1] if xs else float("nan")
    return res


def log_latency(what, res):
    a = res["append"]
    log(f"{what} latency over {res['measured']:,} records "
        f"({res['achieved_rate']:,.0f} rows/s): p50 {a['p50']:.1f} p95 {a['p95']:.1f} "
        f"p99 {a['p99']:.1f} p99.9 {a['p99.9']:.1f} max {a['max']:.1f} ms "
        f"(slowest: {res.get('slowest')}, ms / s into the load / commit->encode ms; "
        f"{res.get('over_25ms', 0):.3%} over 25 ms); commit->encode p50 "
        f"{res['encode']['p50']:.1f} p99 {res['encode']['p99']:.1f}; encode->append p50 "
        f"{res['send']['p50']:.1f} p99 {res['send']['p99']:.1f}; CPU per second of load: "
        f"{fmt_cpu(res['cpu'])}")


def latency_run(args, binary, kb, pg, rep):
    prefix = f"lat{rep}"
    slot = f"lat_slot_{rep}"
    topic = f"{prefix}.fabric.user_data"
    kb.create_topic(topic, partitions=args.partitions,
                    config={"message.timestamp.type": "LogAppendTime"})
    work = os.path.join(args.workdir, f"kafka-latency-{rep}")
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, "data")
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    cfg = os.path.join(work, "pgcdc.yaml")
    pgcdc_config(cfg, pg, slot, prefix, kb.bootstrap, args.latency_schemas, args.set)
    errlog = open(os.path.join(work, "pgcdc.log"), "wb")
    proc = subprocess.Popen([binary, "run", "--config", cfg, "--data-dir", data],
                            stdout=subprocess.DEVNULL, stderr=errlog, stdin=subprocess.DEVNULL)
    try:
        start_consumer_and_wait(pg, slot, proc, f"pgcdc (see {errlog.name})")
        watch = CpuWatch({"client": proc.pid, "broker": kb.pid,
                          "walsender": walsender_pid(pg, slot)})
        rows, load_s, t_start_us = steady_load(args, pg, watch)
        end = lsn_int(pg.wal_lsn())
        wait_confirmed(pg, slot, end, proc, args.timeout)
        watch.sample()
    finally:
        rc = stop_process(proc)
        errlog.close()
    pg.drop_slot(slot)
    e2e, enc, snd, commits, total = read_latencies(kb, topic, rows,
                                                   t_start_us + int(args.warmup * 1e6))
    kb.delete_topic(topic)
    if total != rows:
        raise RuntimeError(f"topic {topic} holds {total} records, expected {rows}")
    res = latency_result(rows, load_s, t_start_us, e2e, enc, snd, commits, watch.result(), rc)
    log_latency(f"[{rep + 1}/{args.latency_repeat}]", res)
    return res


def recycle_wal(pg):
    """A fresh cluster creates (and zero-fills) every 16 MB WAL segment on first use,
    which stalls one commit for tens of ms every ~10 s at 5k rows/s; a server that
    has been running reuses old segments. So write ~200 MB of WAL and checkpoint,
    to have segments recycled ahead (with min_wal_size=1GB), before any slot exists."""
    t0 = time.monotonic()
    pg.execute(ROW_SELECT.format(lo=1, hi=600_000))
    pg.execute("TRUNCATE fabric.user_data")
    pg.execute("CHECKPOINT")
    pg.execute("CHECKPOINT")
    log(f"WAL segments recycled ahead ({time.monotonic() - t0:.1f}s)")


LATENCY_SETTINGS = {**BENCH_SETTINGS, "min_wal_size": "1GB"}


def latency(args, binary, kb):
    log(f"latency: {args.rate:,} rows/s in {args.tx_rows}-row transactions for "
        f"{args.duration:.0f}s, the first {args.warmup:.0f}s left out")
    runs = []
    with PgCluster(settings=LATENCY_SETTINGS) as pg:
        pg.execute(TABLE_DDL)
        pg.execute("CREATE PUBLICATION bench_pub FOR TABLE fabric.user_data")
        recycle_wal(pg)
        for rep in range(args.latency_repeat):
            try:
                runs.append(latency_run(args, binary, kb, pg, rep))
            except RuntimeError as e:
                log(f"latency run {rep + 1}: FAILED: {e}")
                runs.append({"error": str(e)})
    return runs


# ------------------------------------------------------------------ report
def markdown(tp, lat, args, binary, kb):
    out = ["# Kafka benchmark: pgcdc -> Kafka vs pg_recvlogical; commit-to-broker latency", "",
           f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
           f"- machine: {os.cpu_count()} CPUs, {platform.machine()}, {platform.platform()}",
           f"- PostgreSQL: {subprocess.run([os.path.join('/usr/lib/postgresql/15/bin', 'postgres'), '--version'], capture_output=True, text=True).stdout.strip()}",
           f"- pgcdc: {pgcdc_version(binary) if binary else 'not run'} ({binary or '-'})",
           f"- Kafka: {kb.version}, one KRaft node on this machine (tests/rig/kafkarig.py), JVM "
           f"`-Xmx{kb.heap} {' '.join(kb.jvm_opts)}`; topics with {args.partitions} "
           "partition(s), replication factor 1",
           "- pgcdc Kafka sink settings: defaults" + (
               "; " + ", ".join(f"`{kv}`" for kv in args.set) if args.set else ""),
           "- server settings: " + ", ".join(f"{k}={v}" for k, v in BENCH_SETTINGS.items()),
           f"- other work on the machine before the run: {args.background:.0%} of "
           f"{os.cpu_count()} CPUs busy (5 s sample)", ""]
    if tp:
        out += [f"## Throughput: {tp['title']}", "",
                f"WAL: {tp['wal_bytes'] / 2**20:.0f} MiB, generated in {tp['gen_seconds']:.1f} s. "
                "Clock: process start until the slot confirmed the end of the WAL (for pgcdc: "
                "every record acknowledged by the broker)." + (
                    f" The broker was warmed up by {len(args.warmup_times)} untimed pgcdc "
                    "run(s) over the same WAL, which took "
                    + ", ".join(f"{t:.1f}" for t in args.warmup_times) + " s."
                    if args.warmup_times else ""), "",
                "| consumer | options | seconds (median, min-max) | rows/s | vs pg_recvlogical "
                "| on the broker MiB | peak RSS MiB | CPU s: consumer / walsender / broker / "
                "machine |",
                "|---|---|---:|---:|---:|---:|---:|---:|"]
        base = next((x for x in tp["results"] if x["tool"] == "pg_recvlogical" and "seconds" in x),
                    None)
        for x in tp["results"]:
            if "error" in x:
                out.append(f"| {x['tool']} | {x['options']} | failed: {x['error'][:80]} "
                           "| - | - | - | - | - |")
                continue
            ratio = x["rows_per_s"] / base["rows_per_s"] if base else float("nan")
            mib, rss = mib_rss_cells(x, "broker_mib")
            cpu = cpu_cells(x["cpu"])
            out.append(f"| {x['tool']} | {x['options']} | {x['seconds']:.2f} "
                       f"({x['min']:.2f}-{x['max']:.2f}) | {x['rows_per_s']:,.0f} | "
                       f"{ratio:.2f}x | {mib} | {rss} | {cpu} |")
        out.append("")
        for x in tp["results"]:
            th = x.get("cpu", {}).get("threads")
            if th:
                out.append(f"- pgcdc ({x['options']}), CPU s by thread in the median run: " + ", ".join(
                    f"{k} {v:.1f}" for k, v in sorted(th.items(), key=lambda kv: -kv[1])
                    if v >= 0.05))
        out.append("")
    if lat:
        out += [f"## Latency: commit to broker append at {args.rate:,} rows/s", "",
                f"{args.tx_rows}-row transactions at {args.rate / args.tx_rows:,.0f}/s for "
                f"{args.duration:.0f} s (server-side loop on an absolute schedule); records "
                f"committed in the first {args.warmup:.0f} s left out; schemas "
                f"{'on' if args.latency_schemas else 'off'}. Latency = the record's "
                "LogAppendTime (broker clock, ms) - source.ts_us (commit time); commit->encode "
                "= payload.ts_us - source.ts_us; encode->append = LogAppendTime - payload.ts_us. "
                "All clocks are this machine's.", "",
                "| run | records | rows/s achieved | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | "
                "over 25 ms | commit->encode p50 / p99 | encode->append p50 / p99 | CPU per s: "
                "pgcdc / walsender / broker / machine |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        ok = [r for r in lat if "error" not in r]
        for i, r in enumerate(lat):
            if "error" in r:
                out.append(f"| {i + 1} | failed: {r['error'][:80]} | | | | | | | | | | |")
                continue
            a, e, s, c = r["append"], r["encode"], r["send"], r["cpu"]
            cpu = cpu_cells(c, digits=2)
            out.append(f"| {i + 1} | {r['measured']:,} | {r['achieved_rate']:,.0f} | "
                       f"{a['p50']:.1f} | {a['p95']:.1f} | {a['p99']:.1f} | {a['p99.9']:.1f} | "
                       f"{a['max']:.1f} | {r['over_25ms']:.2%} | "
                       f"{e['p50']:.1f} / {e['p99']:.1f} | {s['p50']:.1f} / {s['p99']:.1f} | "
                       f"{cpu} |")
        if len(ok) > 1:
            med = {q: statistics.median(r["append"][q] for r in ok)
                   for q in ("p50", "p95", "p99", "p99.9", "max")}
            out.append(f"| median | | | {med['p50']:.1f} | {med['p95']:.1f} | {med['p99']:.1f} "
                       f"| {med['p99.9']:.1f} | {med['max']:.1f} | | | | |")
        out.append("")
        for i, r in enumerate(ok):
            out.append(f"- run {i + 1}, slowest transactions: latency ms (of which commit->encode) "
                       "@ s into the load: " + ", ".join(f"{lat} ({e}) @ {at}"
                                                         for lat, at, e in r["slowest"]))
        out.append("")
    return "\n".join(out)


def background_load(seconds=5.0):
    """Share of all CPUs that other work kept busy over a short sample."""
    c0, t0 = machine_cpu(), time.monotonic()
    time.sleep(seconds)
    busy = (machine_cpu() - c0) / (time.monotonic() - t0) / os.cpu_count()
    log(f"other work on the machine: {busy:.0%} of {os.cpu_count()} CPUs busy")
    return busy


def bench_broker(broker_dir, heap="1g", jvm="kafka"):
    """Starts the benchmark's broker: the rig's single node with Kafka's start-script JVM
    flags (or the rig's quick ones), deleted topics' files removed at once (default: a
    minute later, in the middle of a later run)."""
    opts = [f"-Xms{heap}"] + KAFKA_SCRIPT_JVM_OPTS if jvm == "kafka" else TEST_JVM_OPTS
    kb = KafkaBroker(broker_dir, heap=heap, jvm_opts=opts,
                     props={"log.segment.delete.delay.ms": 1000})
    try:
        kb.start()
    except BaseException:
        kb.kill()
        raise
    log(f"Kafka {kb.version} at {kb.bootstrap} (pid {kb.pid}, heap {kb.heap})")
    return kb


def run_parts(args, kb, broker_dir, measure_throughput, measure_latency):
    """Runs the throughput part, then the latency part (as `args.only` allows;
    measure_latency None skips it), and always removes the broker. Returns
    (throughput result or None, latency results)."""
    tp, lat = None, []
    try:
        if args.only in (None, "throughput"):
            tp = measure_throughput()
        if args.only in (None, "latency") and measure_latency:
            if tp:  # let the throughput part's deletions reach the disk first
                time.sleep(3)
                os.sync()
            lat = measure_latency()
    finally:
        kb.kill()
        shutil.rmtree(broker_dir, ignore_errors=True)
    return tp, lat


def write_results(out: str, md: str, tp, lat) -> None:
    """Writes the Markdown report to `out` and the raw results beside it (.json)."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(md if md.endswith("\n") else md + "\n")
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump({"throughput": tp, "latency": lat}, f, indent=1)
    print(md)
    log(f"written {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 1_000_000)))
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", 3)),
                    help="throughput runs per consumer; the median is reported")
    ap.add_argument("--only", choices=["throughput", "latency"], default=None)
    ap.add_argument("--no-schemas", dest="schemas", action="store_false",
                    help="throughput: run pgcdc with schemas off only (default: on and off)")
    ap.add_argument("--partitions", type=int, default=1)
    ap.add_argument("--rate", type=int, default=5000, help="latency: rows per second")
    ap.add_argument("--tx-rows", type=int, default=50, help="latency: rows per transaction")
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--latency-repeat", type=int, default=3)
    ap.add_argument("--latency-no-schemas", dest="latency_schemas", action="store_false")
    ap.add_argument("--warmup-runs", type=int, default=2,
                    help="throughput: untimed pgcdc runs that warm up the broker first")
    ap.add_argument("--broker-heap", default="1g")
    ap.add_argument("--broker-jvm", choices=["kafka", "test"], default="kafka",
                    help="the broker's JVM flags: kafka-server-start.sh's (G1, C2; default) "
                         "or the test rig's quick-start ones (serial GC, C1 only)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY: VALUE",
                    help="extra pgcdc setting for every Kafka run, as a YAML line, e.g. "
                         "'kafka.linger.ms: 20' (repeatable)")
    ap.add_argument("--pgcdc", default=os.environ.get("PGCDC_BIN",
                                                      os.path.join(REPO_ROOT, "build", "pgcdc")))
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--workdir", default=os.path.join(REPO_ROOT, "bench", "out", "work"))
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "bench", "out", "kafka.md"))
    args = ap.parse_args()
    args.warmup_times = []
    assert args.rows % args.batch == 0, "--rows must be a multiple of --batch"
    binary = args.pgcdc if os.access(args.pgcdc, os.X_OK) else None
    if binary is None:
        log(f"no pgcdc binary at {args.pgcdc}: measuring pg_recvlogical only")
    resolve_jars()
    os.makedirs(args.workdir, exist_ok=True)
    args.background = background_load()
    broker_dir = tempfile.mkdtemp(prefix="kafka-", dir=args.workdir)
    kb = bench_broker(broker_dir, args.broker_heap, args.broker_jvm)
    tp, lat = run_parts(args, kb, broker_dir, lambda: throughput(args, binary, kb),
                        (lambda: latency(args, binary, kb)) if binary else None)
    write_results(args.out, markdown(tp, lat, args, binary, kb), tp, lat)
    failed = (tp and any("error" in x or x.get("exit", 0) != 0 for x in tp["results"])) or \
        any("error" in r or r.get("exit", 0) != 0 for r in lat)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
