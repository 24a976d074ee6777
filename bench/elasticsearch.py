#!/usr/bin/env python3
"""Elasticsearch benchmark: pgcdc's Elasticsearch sink against a raw `_bulk` load.

One throwaway PostgreSQL 15 cluster and one rig Elasticsearch 7.17 node
(tests/rig/esrig.py) on this machine.  ROWS rows of the demo table
(fabric.user_data, seed 000's columns) are inserted in BATCH-row transactions
with every slot created before the WAL is written.  Then, interleaved over
--repeat runs, each into a fresh index created with the same mapping:

  raw _bulk   the very documents pgcdc wrote (read back from a warm-up run's
              index: same _id, same _source, same external version), in
              `_bulk` requests of the same size (elasticsearch.bulk.max.actions
              documents) with the same number in flight
              (elasticsearch.max.in.flight), from pre-built request bodies over
              keep-alive connections: Elasticsearch's own indexing speed, the
              ceiling for any client.
  pgcdc       `pgcdc run` with sink.type=elasticsearch draining its slot: decode
              the WAL, build the Debezium records, turn them into bulk actions
              and wait for Elasticsearch to confirm every item.  The clock
              covers process start-up and stops when the slot's
              confirmed_flush_lsn reaches the end of the WAL (pgcdc confirms a
              position only after Elasticsearch answered for every document up
              to it).

Afterwards every index must hold exactly ROWS documents.  The warm-up run
(untimed) also lets the JVM compile its indexing path.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from replication import (BENCH_SETTINGS, REPO_ROOT, PgCluster, log, lsn_int,  # noqa: E402
                         pgcdc_version, prepare_wal, stop_process, wait_confirmed,
                         write_pgcdc_config)

sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "rig"))
from esrig import EsNode  # noqa: E402


def run_pgcdc(binary, pg, es, slot, index, end_lsn, workdir, args):
    os.makedirs(workdir, exist_ok=True)
    cfg = os.path.join(workdir, "pgcdc.yaml")
    write_pgcdc_config(cfg, pg, slot, "bench_pub", True, prefix="bench", sink=(
        "sink.type: elasticsearch", f"elasticsearch.url: {es.url}",
        f"elasticsearch.index: {index}",
        f"elasticsearch.bulk.max.actions: {args.bulk_actions}",
        f"elasticsearch.max.in.flight: {args.in_flight}"))
    data = os.path.join(workdir, "data")
    shutil.rmtree(data, ignore_errors=True)  # no offsets.json of an earlier run
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(workdir, "pgcdc.log"), "ab") as err:
        t0 = time.monotonic()
        proc = subprocess.Popen([binary, "run", "--config", cfg, "--data-dir", data],
                                stdout=subprocess.DEVNULL, stderr=err)
        try:
            t1 = wait_confirmed(pg, slot, lsn_int(end_lsn), proc, args.timeout)
        finally:
            rc = stop_process(proc)
    return t1 - t0, rc


def read_docs(es, index):
    """(_id, version, _source text) of every document, in _id order."""
    out, after = [], None
    es.ok("POST", f"/{index}/_refresh")
    while True:
        q = {"size": 5000, "version": True, "sort": [{"_id": "asc"}]}
        if after is not None:
            q["search_after"] = after
        hits = es.ok("POST", f"/{index}/_search", q)["hits"]["hits"]
        out += [(h["_id"], h["_version"], json.dumps(h["_source"], separators=(",", ":")))
                for h in hits]
        if len(hits) < 5000:
            return out
        after = hits[-1]["sort"]


def bulk_bodies(docs, index, actions):
    bodies = []
    for i in range(0, len(docs), actions):
        lines = []
        for _id, ver, src in docs[i:i + actions]:
            lines.append(json.dumps({"index": {"_index": index, "_id": _id,
                                               "version_type": "external", "version": ver}},
                                    separators=(",", ":")))
            lines.append(src)
        bodies.append(("\n".join(lines) + "\n").encode())
    return bodies


def run_raw(es, bodies, in_flight):
    """Sends the bodies with `in_flight` keep-alive connections; seconds taken."""
    queue = list(reversed(bodies))
    lock = threading.Lock()
    errors = []

    def worker():
        conn = http.client.HTTPConnection(es.host, es.port, timeout=120)
        while True:
            with lock:
                if not queue or errors:
                    break
                body = queue.pop()
            conn.request("POST", "/_bulk", body, {"Content-Type": "application/x-ndjson"})
            r = conn.getresponse()
            data = r.read()
            if r.status != 200 or b'"errors":false' not in data[:64]:
                errors.append(f"HTTP {r.status}: {data[:300]!r}")
        conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(in_flight)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    if errors:
        raise RuntimeError(errors[0])
    return dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 200_000)))
    ap.add_argument("--batch", type=int, default=1000, help="rows per transaction")
    ap.add_argument("--bulk-actions", type=int, default=1000)
    ap.add_argument("--in-flight", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", 3)))
    ap.add_argument("--heap", default="1g", help="Elasticsearch heap")
    ap.add_argument("--pgcdc", default=os.environ.get("PGCDC_BIN",
                                                      os.path.join(REPO_ROOT, "build", "pgcdc")))
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--workdir", default=os.path.join(REPO_ROOT, "bench", "out", "work-es"))
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "bench", "out", "elasticsearch.md"))
    args = ap.parse_args()
    binary = args.pgcdc
    samples = {"raw": [], "pgcdc": []}
    rcs = []
    with PgCluster(settings=BENCH_SETTINGS) as pg, EsNode(heap=args.heap) as es:
        version = es.ok("GET", "/")["version"]["number"]
        slots = ["es_warm"] + [f"es_{i}" for i in range(args.repeat)]
        end_lsn, gen, wal = prepare_wal(pg, slots, "a", args.rows, args.batch)
        dt, rc = run_pgcdc(binary, pg, es, "es_warm", "bench_warm", end_lsn,
                           os.path.join(args.workdir, "warm"), args)
        log(f"warm-up pgcdc run: {dt:.2f}s (exit {rc})")
        mapping = es.ok("GET", "/bench_warm/_mapping")["bench_warm"]["mappings"]
        docs = read_docs(es, "bench_warm")
        assert len(docs) == args.rows, f"warm-up index holds {len(docs)} documents"
        doc_bytes = sum(len(d[2]) for d in docs)
        for rep in range(args.repeat):
            for kind in ("raw", "pgcdc"):
                index = f"bench_{kind}_{rep}"
                es.ok("PUT", f"/{index}", {"mappings": mapping})
                if kind == "raw":
                    bodies = bulk_bodies(docs, index, args.bulk_actions)
                    dt = run_raw(es, bodies, args.in_flight)
                    del bodies
                else:
                    dt, rc = run_pgcdc(binary, pg, es, f"es_{rep}", index, end_lsn,
                                       os.path.join(args.workdir, f"run{rep}"), args)
                    rcs.append(rc)
                n = es.count(index)
                assert n == args.rows, f"{index} holds {n} documents, not {args.rows}"
                samples[kind].append(dt)
                log(f"[{rep + 1}/{args.repeat}] {kind}: {dt:.2f}s, {args.rows / dt:,.0f} docs/s")
                es.delete_index(index)
    med = {k: statistics.median(v) for k, v in samples.items()}
    ratio = med["raw"] / med["pgcdc"]
    now = datetime.datetime.now(datetime.timezone.utc)
    md = [
        "# Elasticsearch benchmark: pgcdc sink vs raw `_bulk`", "",
        f"- date: {now:%Y-%m-%d %H:%M UTC}",
        f"- machine: {os.cpu_count()} CPUs, {platform.machine()}, {platform.platform()}",
        f"- Elasticsearch {version} (rig node, heap {args.heap}, one shard, same machine); "
        f"pgcdc: {pgcdc_version(binary)}",
        f"- {args.rows:,} rows of fabric.user_data in {args.batch:,}-row transactions "
        f"({wal / 2**20:.0f} MiB of WAL); documents average {doc_bytes / len(docs):.0f} bytes",
        f"- bulk requests of {args.bulk_actions:,} documents, {args.in_flight} in flight, "
        "external versions; median of "
        f"{args.repeat} interleaved runs (min .. max)", "",
        "| load | seconds | docs/s |", "|---|---|---|",
    ]
    for kind, label in (("raw", "raw `_bulk` (pre-built bodies)"),
                        ("pgcdc", "pgcdc: WAL -> Debezium -> Elasticsearch sink")):
        xs = sorted(samples[kind])
        md.append(f"| {label} | {med[kind]:.2f} ({xs[0]:.2f} .. {xs[-1]:.2f}) | "
                  f"{args.rows / med[kind]:,.0f} |")
    md += ["", f"pgcdc / raw throughput: **{ratio:.2f}x** (target >= 0.8x)", ""]
    text = "\n".join(md)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    print(text)
    log(f"written {args.out}")
    return 0 if all(rc == 0 for rc in rcs) else 1


if __name__ == "__main__":
    sys.exit(main())
