#!/usr/bin/env python3
"""Head to head: pg_recvlogical, pgcdc and Debezium on the same pre-generated WAL.

One run, one rig Kafka broker (bench/kafka.py's), two parts:

  throughput  For each scenario a fresh PostgreSQL 15 cluster gets fabric.user_data,
              the publication bench_pub and one pgoutput slot per consumer BEFORE
              any row is written (bench/replication.py's set-up), then seed 000's
              rows, then every consumer drains the same WAL from its own slot:

                a  ROWS rows in BATCH-row transactions
                b  ROWS rows in one transaction

              Consumers, each alone on the machine, one after the other:

                pg_recvlogical   proto_version=1 to /dev/null (-F 0): the floor.
                pgcdc, file      `pgcdc run`, file sink (fdatasync before every
                                 acknowledgement); clock stops when the slot
                                 confirmed the end of the WAL.
                pgcdc, Kafka     `pgcdc run`, Kafka sink with its defaults
                                 (idempotent, acks=all, lz4, linger.ms=5); clock
                                 stops when the slot confirmed the end of the WAL
                                 (every record acknowledged by the broker).
                Debezium, file   Debezium 3.0's PostgreSQL connector in its embedded
                                 engine (tests/rig/oracle/DebeziumOracle.java,
                                 oracle.output=values): one value per line, the file
                                 fsynced once per engine batch before the batch is
                                 marked processed.
                Debezium, Kafka  the same engine handing every record to a
                                 KafkaProducer configured as a Kafka Connect worker
                                 configures its source tasks' producers (acks=all,
                                 idempotence off, one request in flight, no
                                 compression, linger.ms=0), flushed once per batch
                                 before it is marked processed; and the same
                                 producer with pgcdc's settings (idempotent, lz4,
                                 linger.ms=5, batch.size=1 MB, 5 requests in
                                 flight); --debezium-kafka picks.

              Debezium's clock stops when the harness has written (fsynced, or had
              acknowledged) ROWS records: its slot never confirms the end of the WAL,
              because the connector confirms the LSN of the last event it committed,
              not the position of the WAL after it.  All clocks include process (and
              JVM) start-up.  Debezium runs with the JVM's own defaults unless
              --debezium-jvm says otherwise.  Outputs are counted afterwards and must
              hold exactly ROWS records.  Peak RSS is VmHWM of the consumer process.

  latency     On a separate cluster (WAL segments recycled ahead, as bench/kafka.py
              does), a server-side loop inserts RATE rows/s in TX_ROWS-row
              transactions for DURATION seconds while one consumer streams:
                file   the consumer's output file is followed by a thread that reads
                       it every millisecond; latency = when a line was first
                       readable - its source.ts_us (the commit time).
                Kafka  latency = the record's LogAppendTime (broker clock, ms) -
                       source.ts_us (bench/kafka.py's method).
              Records committed in the first WARMUP seconds are left out.

Results: bench/out/head_to_head.md (and .json), and with --doc the section "Head to
head: pgcdc vs Debezium" of docs/PERFORMANCE.md (between its markers, replaced on
every run).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafka import (LATENCY_SETTINGS, TS_US, CpuWatch, background_load, bench_broker,  # noqa: E402
                   broker_stats, cpu_cells, fmt_cpu, latency_result, latency_run, log_latency,
                   read_latencies, recycle_wal, run_parts, run_pgcdc_kafka,
                   start_consumer_and_wait, steady_load, stop_process, wait_confirmed,
                   walsender_pid, warm_up_broker, write_results)
from replication import (BENCH_SETTINGS, REPO_ROOT, TABLE_DDL, PgCluster,  # noqa: E402
                         log, lsn_int, mib_rss_cells, peak_rss_kb, pgcdc_version, prepare_wal,
                         run_pgcdc, run_recvlogical, write_pgcdc_config)

sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "rig"))
from debeziumrig import DebeziumOracle, compile_oracle, debezium_version  # noqa: E402

DOC = os.path.join(REPO_ROOT, "docs", "PERFORMANCE.md")
SECTION = "## Head to head: pgcdc vs Debezium"
BEGIN = "<!-- head-to-head: generated by bench/head_to_head.py, replaced on every run -->"
END = "<!-- head-to-head: end of the generated part -->"

# pgcdc's Kafka sink defaults (src/sink/kafka/kafka_sink.c, librdkafka's batch.size) for
# Debezium's producer in the "tuned" variant.
TUNED_PRODUCER = {"enable.idempotence": "true", "max.in.flight.requests.per.connection": "5",
                  "compression.type": "lz4", "linger.ms": "5", "batch.size": str(1 << 20)}
DEBEZIUM_KAFKA = {
    "connect": ("Connect producer", {}),
    "tuned": ("producer as pgcdc's", TUNED_PRODUCER),
}


# ------------------------------------------------------------------ Debezium
def debezium_props(pg, slot, prefix, output, done_after, done_file):
    return {
        "name": f"bench-{prefix}",
        "topic.prefix": prefix,
        "database.hostname": "127.0.0.1",
        "database.port": pg.port,
        "database.user": "postgres",
        "database.password": "",
        "database.dbname": "postgres",
        "slot.name": slot,
        "publication.name": "bench_pub",
        "publication.autocreate.mode": "disabled",
        "snapshot.mode": "no_data",
        "table.include.list": "fabric.user_data",
        "oracle.output": output,
        "oracle.done.after": done_after,
        "oracle.done.file": done_file,
    }


def start_debezium(args, pg, slot, prefix, output, done_after, workdir, kb=None, producer=None):
    """A Debezium engine on slot (an existing one is used as it is, a missing one is
    created by the connector), writing values to <workdir>/records.jsonl or to kafka."""
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    done = os.path.join(workdir, "done")
    props = debezium_props(pg, slot, prefix, output, done_after, done)
    if output == "kafka":
        props["oracle.producer.bootstrap.servers"] = kb.bootstrap
        for k, v in (producer or {}).items():
            props[f"oracle.producer.{k}"] = v
    for kv in args.debezium_set:
        k, _, v = kv.partition("=")
        props[k.strip()] = v.strip()
    o = DebeziumOracle(workdir, props, jvm_opts=args.debezium_jvm.split())
    o.start(progress=log)
    return o, done


def wait_done(o, done, timeout):
    t0 = time.monotonic()
    while not os.path.exists(done):
        if not o.alive:
            raise RuntimeError(f"Debezium exited ({o.proc.returncode}):\n{o.log_tail(3000)}")
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"Debezium not done after {timeout}s")
        time.sleep(0.05)
    return time.monotonic()


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            n += chunk.count(b"\n")
    return n


def run_debezium(args, pg, slot, rows, workdir, output, kb=None, producer=None):
    """Drains slot with Debezium until `rows` records are written; returns
    (seconds, output bytes, exit code, peak RSS kB)."""
    prefix = "bench"
    topic = f"{prefix}.fabric.user_data"
    if output == "kafka":
        prefix = f"dbz{slot}"
        topic = f"{prefix}.fabric.user_data"
        kb.create_topic(topic, partitions=1)
    t0 = time.monotonic()
    o, done = start_debezium(args, pg, slot, prefix, output, rows, workdir, kb, producer)
    try:
        t1 = wait_done(o, done, args.timeout)
        rss = peak_rss_kb(o.pid) or 0
    finally:
        rc = o.stop()
    if output == "kafka":
        n, size = broker_stats(kb, topic)
        kb.delete_topic(topic)
    else:
        n, size = count_lines(o.records_path), os.path.getsize(o.records_path)
        if not args.keep_output:
            os.unlink(o.records_path)
    if n != rows:
        raise RuntimeError(f"Debezium wrote {n} records, expected {rows}")
    return t1 - t0, size, rc, rss


# ---------------------------------------------------------------- throughput
class RunCpu:
    """CPU seconds spent during one timed run: the consumer's (the benchmark's children
    that exited meanwhile), the walsender's of `slot`, the broker's and the whole
    machine's, so that other work on the machine shows as the difference."""

    def __init__(self, pg, slot, kb):
        self.pg, self.slot = pg, slot
        self.watch = CpuWatch({"broker": kb.pid if kb else None})
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        found = False
        while not self.done.wait(0.25):
            if not found:
                pid = walsender_pid(self.pg, self.slot)
                if pid:
                    self.watch.add("walsender", pid)
                    found = True
            self.watch.sample()

    def __enter__(self):
        t = os.times()
        self.children0 = t.children_user + t.children_system
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()
        self.watch.sample()
        t = os.times()
        self.cpu = self.watch.result()
        self.cpu["client"] = t.children_user + t.children_system - self.children0
        return False


def consumers(args, binary):
    """(label, sink, kind, params, slot prefix) of every consumer of a scenario."""
    out = [("pg_recvlogical", "/dev/null", "recv", None, "s_recv")]
    if binary:
        out += [("pgcdc", "file", "pgcdc-file", None, "s_pgcdc_file"),
                ("pgcdc", "Kafka", "pgcdc-kafka", None, "s_pgcdc_kafka")]
    out.append(("Debezium", "file", "dbz-file", None, "s_dbz_file"))
    for v in args.debezium_kafka:
        out.append(("Debezium", f"Kafka, {DEBEZIUM_KAFKA[v][0]}", "dbz-kafka",
                    DEBEZIUM_KAFKA[v][1], f"s_dbz_kafka_{v}"))
    return out


def scenario(name, args, binary, kb):
    title = {"a": f"(a) {args.rows:,} rows in {args.batch:,}-row transactions",
             "b": f"(b) {args.rows:,} rows in one transaction"}[name]
    log(f"scenario {title}")
    cons = consumers(args, binary)
    samples = {i: [] for i in range(len(cons))}
    extra = {i: {} for i in range(len(cons))}
    warmups = args.warmup_runs if (binary and kb and not args.warmed_up) else 0
    with PgCluster(settings=BENCH_SETTINGS) as pg:
        slots = [f"{c[4]}_{rep}" for rep in range(args.repeat) for c in cons]
        slots += [f"s_warmup_{w}" for w in range(warmups)]
        end_lsn, gen, wal = prepare_wal(pg, slots, name, args.rows, args.batch)
        args.warmed_up += warm_up_broker(binary, pg, kb, args, end_lsn, warmups,
                                         os.path.join(args.workdir, "h2h-warmup"))
        for rep in range(args.repeat):
            for i, (label, sink, kind, params, prefix) in enumerate(cons):
                slot = f"{prefix}_{rep}"
                work = os.path.join(args.workdir, f"h2h-{name}-{slot}")
                size, rss = None, None
                try:
                    cpu_watch = RunCpu(pg, slot, kb)
                    cpu_watch.background = background_load(args.idle_sample)
                    with cpu_watch:
                        dt, size, rss = run_one(args, binary, kb, pg, name, rep, kind, params,
                                                slot, end_lsn, work)
                    cpu = {**cpu_watch.cpu, "background": cpu_watch.background}
                    samples[i].append(dt)
                    extra[i].setdefault("cpu", []).append(cpu)
                    if size is not None:
                        extra[i]["output_mib"] = size / 2**20
                    if rss:
                        extra[i]["peak_rss_kb"] = max(extra[i].get("peak_rss_kb", 0), rss)
                    log(f"[{rep + 1}/{args.repeat}] {label} ({sink}): {dt:.2f}s, "
                        f"{args.rows / dt:,.0f} rows/s"
                        + (f", output {size / 2**20:,.0f} MiB" if size else "")
                        + (f", peak RSS {rss:,} kB" if rss else "") + f", CPU {fmt_cpu(cpu)}")
                except RuntimeError as e:
                    log(f"{label} ({sink}): FAILED: {e}")
                    extra[i]["error"] = str(e)
    results = []
    for i, (label, sink, kind, params, prefix) in enumerate(cons):
        xs = samples[i]
        if "error" in extra[i] or not xs:
            results.append({"tool": label, "sink": sink, "kind": kind,
                            "error": extra[i].get("error", "not run")})
            continue
        med = statistics.median(xs)
        # CPU of the median run
        cpu = extra[i]["cpu"][xs.index(med)] if med in xs else extra[i]["cpu"][0]
        results.append({"tool": label, "sink": sink, "kind": kind, "seconds": med,
                        "min": min(xs), "max": max(xs), "runs": len(xs),
                        "rows_per_s": args.rows / med, "cpu": cpu,
                        **{k: v for k, v in extra[i].items() if k not in ("error", "cpu")}})
    return {"name": name, "title": title, "gen_seconds": gen, "wal_bytes": wal,
            "results": results}


def run_one(args, binary, kb, pg, name, rep, kind, params, slot, end_lsn, work):
    """One timed run of one consumer; returns (seconds, output bytes, peak RSS kB)."""
    if kind == "recv":
        return run_recvlogical(pg, slot, "bench_pub", end_lsn, ["proto_version=1"],
                               args.timeout), None, None
    if kind == "pgcdc-file":
        try:
            dt, _, size, _, rss = run_pgcdc(binary, pg, slot, "bench_pub", args.rows, end_lsn,
                                            work, args.timeout, True)
        finally:
            if not args.keep_output:
                shutil.rmtree(os.path.join(work, "data"), ignore_errors=True)
        return dt, size, rss
    if kind == "pgcdc-kafka":
        dt, size, _, rss, _ = run_pgcdc_kafka(binary, pg, kb, slot, f"h2h{name}{rep}", args.rows,
                                              end_lsn, work, args.timeout, True, 1)
        return dt, size, rss
    output = "values" if kind == "dbz-file" else "kafka"
    dt, size, _, rss = run_debezium(args, pg, slot, args.rows, work, output, kb, params)
    return dt, size, rss


# ------------------------------------------------------------------- latency
class FileTail(threading.Thread):
    """Follows a file that another process appends lines to: every `interval` seconds
    it reads what was added and notes the time; lines() gives (first readable at, in
    microseconds since the epoch, line) for every complete line."""

    def __init__(self, path, interval=0.001):
        super().__init__(daemon=True)
        self.path, self.interval = path, interval
        self.chunks: list[tuple[int, bytes]] = []
        self.lines_seen = 0
        self.stopping = threading.Event()

    def run(self):
        while not os.path.exists(self.path):
            if self.stopping.wait(self.interval):
                return
        with open(self.path, "rb", buffering=0) as f:
            while True:
                data = f.read(1 << 24)
                if data:
                    self.chunks.append((time.time_ns() // 1000, data))
                    self.lines_seen += data.count(b"\n")
                    continue
                if self.stopping.is_set():
                    return
                time.sleep(self.interval)

    def stop(self):
        self.stopping.set()
        self.join()

    def lines(self):
        rest = b""
        for at, data in self.chunks:
            parts = (rest + data).split(b"\n")
            rest = parts.pop()
            for line in parts:
                yield at, line


def file_latencies(tail, t_from_us):
    """read_latencies() for a followed file: (append - commit, encode - commit,
    append - encode) in ms, commit times, line count."""
    total, e2e, enc, snd, commits = 0, [], [], [], []
    for at, line in tail.lines():
        total += 1
        ts = TS_US.findall(line)
        commit_us, encode_us = int(ts[0]), int(ts[-1])  # source.ts_us, payload.ts_us
        if commit_us < t_from_us:
            continue
        e2e.append((at - commit_us) / 1000)
        commits.append(commit_us)
        enc.append((encode_us - commit_us) / 1000)
        snd.append((at - encode_us) / 1000)
    return e2e, enc, snd, commits, total


def wait_lines(tail, rows, proc_alive, timeout):
    t0 = time.monotonic()
    while tail.lines_seen < rows:
        if not proc_alive():
            raise RuntimeError(f"consumer exited after {tail.lines_seen} of {rows} lines")
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"{tail.lines_seen} of {rows} lines after {timeout}s")
        time.sleep(0.05)


def latency_pgcdc_file(args, binary, kb, pg, rep):
    slot = f"lat_file_{rep}"
    work = os.path.join(args.workdir, f"h2h-latency-pgcdc-{rep}")
    data = os.path.join(work, "data")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(data)
    cfg = os.path.join(work, "pgcdc.yaml")
    write_pgcdc_config(cfg, pg, slot, "bench_pub", True)
    errlog = open(os.path.join(work, "pgcdc.log"), "wb")
    proc = subprocess.Popen([binary, "run", "--config", cfg, "--data-dir", data],
                            stdout=subprocess.DEVNULL, stderr=errlog, stdin=subprocess.DEVNULL)
    tail = FileTail(os.path.join(data, "bench.fabric.user_data.jsonl"))
    try:
        start_consumer_and_wait(pg, slot, proc, f"pgcdc (see {errlog.name})")
        tail.start()
        watch = CpuWatch({"client": proc.pid, "broker": kb.pid,
                          "walsender": walsender_pid(pg, slot)})
        rows, load_s, t_start_us = steady_load(args, pg, watch)
        wait_confirmed(pg, slot, lsn_int(pg.wal_lsn()), proc, args.timeout)
        watch.sample()
    finally:
        tail.stop()
        rc = stop_process(proc)
        errlog.close()
    pg.drop_slot(slot)
    if not args.keep_output:
        shutil.rmtree(data, ignore_errors=True)
    return file_latency_result(tail, rows, load_s, t_start_us, args, watch, rc)


def file_latency_result(tail, rows, load_s, t_start_us, args, watch, rc):
    e2e, enc, snd, commits, total = file_latencies(tail, t_start_us + int(args.warmup * 1e6))
    if total != rows:
        raise RuntimeError(f"the file holds {total} lines, expected {rows}")
    return latency_result(rows, load_s, t_start_us, e2e, enc, snd, commits, watch.result(), rc)


def latency_debezium(args, kb, pg, rep, output, producer=None, variant=""):
    slot = f"lat_dbz_{output}{variant}_{rep}"
    prefix = f"latdbz{output}{variant}{rep}"
    topic = f"{prefix}.fabric.user_data"
    work = os.path.join(args.workdir, f"h2h-latency-dbz-{output}{variant}-{rep}")
    if output == "kafka":
        kb.create_topic(topic, partitions=1, config={"message.timestamp.type": "LogAppendTime"})
    rows = int(args.rate * args.duration / args.tx_rows) * args.tx_rows
    # the connector creates its slot; no_data: it streams from there
    o, done = start_debezium(args, pg, slot, prefix, "values" if output == "file" else "kafka",
                             rows, work, kb, producer)
    tail = FileTail(o.records_path) if output == "file" else None
    try:
        start_consumer_and_wait(pg, slot, o.proc, f"Debezium (see {o.log_path})", timeout=120)
        if tail:
            tail.start()
        watch = CpuWatch({"client": o.pid, "broker": kb.pid,
                          "walsender": walsender_pid(pg, slot)})
        n, load_s, t_start_us = steady_load(args, pg, watch)
        assert n == rows
        wait_done(o, done, args.timeout)
        if tail:
            wait_lines(tail, rows, lambda: o.alive, args.timeout)
        watch.sample()
    finally:
        if tail:
            tail.stop()
        rc = o.stop()
    pg.drop_slot(slot)
    if tail:
        if not args.keep_output:
            os.unlink(o.records_path)
        return file_latency_result(tail, rows, load_s, t_start_us, args, watch, rc)
    e2e, enc, snd, commits, total = read_latencies(kb, topic, rows,
                                                   t_start_us + int(args.warmup * 1e6))
    kb.delete_topic(topic)
    if total != rows:
        raise RuntimeError(f"topic {topic} holds {total} records, expected {rows}")
    return latency_result(rows, load_s, t_start_us, e2e, enc, snd, commits, watch.result(), rc)


def latency(args, binary, kb):
    log(f"latency: {args.rate:,} rows/s in {args.tx_rows}-row transactions for "
        f"{args.duration:.0f}s, the first {args.warmup:.0f}s left out")
    runs = []
    plan = []
    if binary:
        plan += [("pgcdc", "file", lambda rep: latency_pgcdc_file(args, binary, kb, pg, rep)),
                 ("pgcdc", "Kafka", lambda rep: latency_run(args, binary, kb, pg, rep))]
    plan.append(("Debezium", "file", lambda rep: latency_debezium(args, kb, pg, rep, "file")))
    for v in args.debezium_kafka:
        plan.append(("Debezium", f"Kafka, {DEBEZIUM_KAFKA[v][0]}",
                     lambda rep, v=v: latency_debezium(args, kb, pg, rep, "kafka",
                                                       DEBEZIUM_KAFKA[v][1], v)))
    with PgCluster(settings=LATENCY_SETTINGS) as pg:
        pg.execute(TABLE_DDL)
        pg.execute("CREATE PUBLICATION bench_pub FOR TABLE fabric.user_data")
        recycle_wal(pg)
        for rep in range(args.latency_repeat):
            for tool, sink, fn in plan:
                try:
                    res = fn(rep)
                    log_latency(f"[{rep + 1}/{args.latency_repeat}] {tool} ({sink})", res)
                except RuntimeError as e:
                    log(f"latency {tool} ({sink}) run {rep + 1}: FAILED: {e}")
                    res = {"error": str(e)}
                runs.append({"tool": tool, "sink": sink, "rep": rep, **res})
    return runs


# -------------------------------------------------------------------- report
def machine():
    model, mem = "?", 0
    try:
        with open("/proc/cpuinfo") as f:
            model = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
        with open("/proc/meminfo") as f:
            mem = int(next(ln.split()[1] for ln in f if ln.startswith("MemTotal")))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({model}), {mem / 2**20:.0f} GiB RAM, {platform.platform()}"


def java_version():
    r = subprocess.run(["java", "-version"], capture_output=True, text=True)
    return (r.stderr.splitlines() or ["?"])[0]


GCS = {f"Use{g}GC" for g in ("Serial", "Parallel", "G1", "Z", "Shenandoah", "Epsilon")}


def jvm_heap(flags):
    """The max heap and GC the JVM picks for these flags on this machine."""
    r = subprocess.run(["java", *flags.split(), "-XX:+PrintFlagsFinal", "-version"],
                       capture_output=True, text=True)
    heap, gc = None, []
    for ln in r.stdout.splitlines():
        parts = ln.split()
        if len(parts) >= 4 and parts[1] == "MaxHeapSize":
            heap = int(parts[3])
        if len(parts) >= 4 and parts[1] in GCS and parts[3] == "true":
            gc.append(parts[1][3:])
    return (f"max heap {heap / 2**30:.1f} GiB" if heap else "max heap ?") + \
        (f", {'/'.join(gc)}" if gc else "")


def fmt_ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


def markdown(runs, lat, args, binary, kb_version):
    jvm = args.debezium_jvm or "none (the JVM's defaults)"
    out = [f"Recorded {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC} by "
           "`" + (f"BENCH_ROWS={args.rows} " if args.rows != 1_000_000 else "")
           + (f"BENCH_REPEAT={args.repeat} " if args.repeat != 1 else "")
           + "bash bench/run_head_to_head.sh`.", "",
           f"- machine: {machine()}; other work before the run: {args.background:.0%} of "
           "the CPUs busy (5 s sample)",
           f"- PostgreSQL: {subprocess.run([os.path.join('/usr/lib/postgresql/15/bin', 'postgres'), '--version'], capture_output=True, text=True).stdout.strip()}; "
           "settings: " + ", ".join(f"{k}={v}" for k, v in BENCH_SETTINGS.items()),
           f"- pgcdc: {pgcdc_version(binary) if binary else 'not run'}, Release build",
           f"- Debezium: {debezium_version()} PostgreSQL connector, embedded engine, "
           f"{java_version()}; JVM flags: {jvm} ({jvm_heap(args.debezium_jvm)}); engine defaults "
           "(max.batch.size=2048, max.queue.size=8192, poll.interval.ms=500), "
           "offset.flush.interval.ms=0, FileOffsetBackingStore"
           + ("; changed: " + ", ".join(f"`{kv}`" for kv in args.debezium_set)
              if args.debezium_set else ""),
           f"- Kafka: {kb_version}, one KRaft node on this machine (tests/rig/kafkarig.py, "
           "Kafka's start-script JVM flags, -Xmx1g); topics with 1 partition",
           f"- schemas on for both engines (their default); {args.repeat} run(s) per consumer"
           + (", median" if args.repeat > 1 else "")
           + (f"; the broker was warmed up by {len(args.warmed_up)} untimed pgcdc run(s) "
              f"({', '.join(f'{t:.1f}' for t in args.warmed_up)} s)" if args.warmed_up else ""),
           ""]
    for r in runs:
        out += [f"#### Throughput {r['title']}", "",
                f"WAL: {r['wal_bytes'] / 2**20:.0f} MiB, generated in {r['gen_seconds']:.1f} s.",
                "",
                "| consumer | sink | seconds | rows/s | vs pg_recvlogical | output MiB | "
                "peak RSS MiB | CPU s: consumer / walsender / broker / machine | "
                "other work just before |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        base = next((x for x in r["results"] if x["kind"] == "recv" and "seconds" in x), None)
        for x in r["results"]:
            if "error" in x:
                out.append(f"| {x['tool']} | {x['sink']} | failed: {x['error'][:60]} "
                           "| - | - | - | - | - | - |")
                continue
            secs = f"{x['seconds']:.2f}" + (f" ({x['min']:.2f}-{x['max']:.2f})"
                                            if x["runs"] > 1 else "")
            mib, rss = mib_rss_cells(x)
            c = x["cpu"]
            cpu = cpu_cells(c)
            out.append(f"| {x['tool']} | {x['sink']} | {secs} | {x['rows_per_s']:,.0f} | "
                       f"{fmt_ratio(x['rows_per_s'], base and base['rows_per_s'])} | {mib} | "
                       f"{rss} | {cpu} | {c.get('background', 0):.0%} |")
        out.append("")
    if runs:
        out += ["#### pgcdc / Debezium", "",
                "| scenario | sink | throughput pgcdc / Debezium | peak RSS pgcdc / Debezium |",
                "|---|---|---:|---:|"]
        for r in runs:
            ok = {x["kind"] + x["sink"]: x for x in r["results"] if "seconds" in x}
            pairs = [("file", ok.get("pgcdc-filefile"), ok.get("dbz-filefile"))]
            for v in args.debezium_kafka:
                pairs.append((f"Kafka, Debezium with the {DEBEZIUM_KAFKA[v][0]}",
                              ok.get("pgcdc-kafkaKafka"),
                              ok.get(f"dbz-kafkaKafka, {DEBEZIUM_KAFKA[v][0]}")))
            for sink, p, d in pairs:
                if p and d:
                    out.append(f"| {r['name']} | {sink} | "
                               f"{fmt_ratio(p['rows_per_s'], d['rows_per_s'])} | "
                               f"{p['peak_rss_kb'] / d['peak_rss_kb']:.3f} "
                               f"(1/{d['peak_rss_kb'] / p['peak_rss_kb']:.0f}) |")
        out.append("")
    if lat:
        out += [f"#### Latency at {args.rate:,} rows/s, commit to file / broker", "",
                f"{args.tx_rows}-row transactions for {args.duration:.0f} s, the first "
                f"{args.warmup:.0f} s left out; ms.", "",
                "| consumer | sink | records | rows/s achieved | p50 | p95 | p99 | p99.9 | max | "
                "commit->encode p50 / p99 | CPU per s: consumer / walsender / broker |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in lat:
            if "error" in r:
                out.append(f"| {r['tool']} | {r['sink']} | failed: {r['error'][:60]} "
                           "| | | | | | | | |")
                continue
            a, e, c = r["append"], r["encode"], r["cpu"]
            cpu = cpu_cells(c, ("client", "walsender", "broker"), digits=2)
            out.append(f"| {r['tool']} | {r['sink']} | {r['measured']:,} | "
                       f"{r['achieved_rate']:,.0f} | {a['p50']:.1f} | {a['p95']:.1f} | "
                       f"{a['p99']:.1f} | {a['p99.9']:.1f} | {a['max']:.1f} | "
                       f"{e['p50']:.1f} / {e['p99']:.1f} | {cpu} |")
        out.append("")
    return "\n".join(out)


def write_doc(path, body):
    """Puts body between the section's markers, adding the section before "## Known gaps"
    (or at the end) the first time."""
    with open(path) as f:
        doc = f.read()
    block = f"{BEGIN}\n\n{body.rstrip()}\n\n{END}"
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
    else:
        section = f"{SECTION}\n\n```\nbash bench/run_head_to_head.sh\n```\n\n{block}\n\n"
        at = doc.find("\n## Known gaps")
        doc = doc.rstrip() + "\n\n" + section if at < 0 else \
            doc[:at + 1] + section + doc[at + 1:]
    with open(path, "w") as f:
        f.write(doc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 1_000_000)))
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", 1)),
                    help="throughput runs per consumer; the median is reported")
    ap.add_argument("--scenarios", default=os.environ.get("BENCH_SCENARIOS", "a,b"))
    ap.add_argument("--only", choices=["throughput", "latency"], default=None)
    ap.add_argument("--debezium-jvm", default=os.environ.get("BENCH_DEBEZIUM_JVM", ""),
                    help="JVM flags for Debezium, e.g. '-Xmx2g' (default: none, the JVM's "
                         "own defaults)")
    ap.add_argument("--debezium-set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra Debezium engine/connector setting for every Debezium run, e.g. "
                         "poll.interval.ms=10 (repeatable)")
    ap.add_argument("--debezium-kafka", default="connect,tuned",
                    help="Debezium Kafka producers to run: connect (a Kafka Connect worker's "
                         "settings), tuned (pgcdc's), comma-separated")
    ap.add_argument("--warmup-runs", type=int, default=1,
                    help="untimed pgcdc -> Kafka runs that warm up the broker first")
    ap.add_argument("--rate", type=int, default=5000, help="latency: rows per second")
    ap.add_argument("--tx-rows", type=int, default=50, help="latency: rows per transaction")
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--latency-repeat", type=int, default=1)
    ap.add_argument("--idle-sample", type=float, default=2.0,
                    help="seconds of machine load sampled before every throughput run")
    ap.add_argument("--pgcdc", default=os.environ.get("PGCDC_BIN",
                                                      os.path.join(REPO_ROOT, "build", "pgcdc")))
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--workdir", default=os.path.join(REPO_ROOT, "bench", "out", "work"))
    ap.add_argument("--keep-output", action="store_true")
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "bench", "out", "head_to_head.md"))
    ap.add_argument("--doc", default=DOC, help="the Markdown file whose head-to-head section "
                                               "is rewritten")
    ap.add_argument("--no-doc", dest="doc", action="store_const", const=None)
    args = ap.parse_args()
    assert args.rows % args.batch == 0, "--rows must be a multiple of --batch"
    args.debezium_kafka = [v.strip() for v in args.debezium_kafka.split(",") if v.strip()]
    assert all(v in DEBEZIUM_KAFKA for v in args.debezium_kafka), "--debezium-kafka: connect,tuned"
    # what kafka.latency_run expects besides the above
    args.partitions, args.latency_schemas, args.set = 1, True, []
    args.warmed_up = []
    binary = args.pgcdc if os.access(args.pgcdc, os.X_OK) else None
    if binary is None:
        log(f"no pgcdc binary at {args.pgcdc}: measuring pg_recvlogical and Debezium only")
    compile_oracle(progress=log)
    os.makedirs(args.workdir, exist_ok=True)
    args.background = background_load()
    broker_dir = tempfile.mkdtemp(prefix="kafka-", dir=args.workdir)
    kb = bench_broker(broker_dir)
    runs, lat = run_parts(args, kb, broker_dir,
                          lambda: [scenario(s.strip(), args, binary, kb)
                                   for s in args.scenarios.split(",") if s.strip()],
                          lambda: latency(args, binary, kb))
    runs = runs or []
    md = markdown(runs, lat, args, binary, kb.version)
    write_results(args.out, md, runs, lat)
    if args.doc:
        write_doc(args.doc, md)
        log(f"section \"{SECTION[3:]}\" of {args.doc} rewritten")
    failed = any("error" in x for r in runs for x in r["results"]) or \
        any("error" in r for r in lat)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
