#!/usr/bin/env python3
"""Parquet reading benchmark: pgcdc's Parquet reader against pyarrow's
(`pq.read_table`) on the same files, in the same run.

The rows are those of seed 000's `user_data` (the replication and Parquet
writing benchmarks' table: integers, text, doubles, timestamptz, timestamp),
generated here with pyarrow as bench/replication.py's SQL generates them (no
PostgreSQL needed), and written as files by pyarrow in several settings plus
one file written by pgcdc's own writer (what compaction reads back):

  pgcdc    pgcdc_parquet_read --bench: opens the file and walks every row
           with pgcdc_pq_reader_next (every value of every column decoded
           into a pgcdc_pq_datum, as compaction reads), single-threaded.
  pyarrow  pq.read_table(path, use_threads=False): every column decoded
           into Arrow arrays (vectorised C++, single-threaded).

Files are in the page cache (read once before timing); each side is warm
(pgcdc's runs after the first in one process, pyarrow's after a first run in
its process). Runs alternate, --repeat times; medians of wall and process
CPU time are reported. Results in bench/out/parquet_read.md and .json.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parquet import parse_args, save, timed  # noqa: E402
from replication import log  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

VARIANTS = [  # (writer, codec, dictionary, data page version)
    ("pyarrow", "none", True, "1.0"),
    ("pyarrow", "snappy", True, "1.0"),
    ("pyarrow", "zstd", True, "1.0"),
    ("pyarrow", "zstd", False, "1.0"),
    ("pyarrow", "zstd", True, "2.0"),
    ("pgcdc", "zstd", True, "1.0"),
]


def user_data(rows: int) -> pa.Table:
    """seed 000's user_data rows (bench/replication.py ROW_SELECT), id 1..rows."""
    import random
    rng = random.Random(0)
    g = range(1, rows + 1)
    tz = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
    day, hour = 86400 * 10**6, 3600 * 10**6
    dob0 = int(datetime.datetime(1950, 1, 1, tzinfo=datetime.timezone.utc).timestamp()) * 10**6
    reg0 = int(datetime.datetime(2010, 1, 1, tzinfo=datetime.timezone.utc).timestamp()) * 10**6
    now = int(time.time() * 10**6)
    return pa.table({
        "id": pa.array(g, pa.int32()),
        "name": pa.array([f"User {i} {hashlib.md5(str(i).encode()).hexdigest()[:8]}" for i in g]),
        "gender": pa.array(["male" if i % 2 == 0 else "female" for i in g]),
        "address": pa.array([f"{i % 9999} Main Street, Springfield {i % 97}" for i in g]),
        "latitude": pa.array([rng.random() * 180 - 90 for _ in g]),
        "longitude": pa.array([rng.random() * 360 - 180 for _ in g]),
        "timezone": pa.array([tz[i % 4] for i in g]),
        "email": pa.array([f"user{i}@example.com" for i in g]),
        "phone": pa.array([f"(555)-{i % 1000:03d}-{i % 10000:04d}" for i in g]),
        "cell": pa.array([f"(556)-{i % 997:03d}-{i % 9973:04d}" for i in g]),
        "date_of_birth": pa.array([dob0 + (i % 20000) * day for i in g],
                                  pa.timestamp("us", tz="UTC")),
        "registered_date": pa.array([reg0 + (i % 100000) * hour for i in g],
                                    pa.timestamp("us", tz="UTC")),
        "picture_url": pa.array([f"https://example.com/pictures/{i % 100}.jpg" for i in g]),
        "insertion_time": pa.array([now] * rows, pa.timestamp("us")),
    })


def run_pgcdc(tool, path, rows):
    r = subprocess.run([tool, path, "--bench", "2"], capture_output=True, text=True, check=True)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["rows"] == rows, res
    wall, cpu, _ = res["wall"][-1]
    return {"wall": wall, "cpu": cpu}


def run_pyarrow(path, rows):
    res = {}
    for _ in range(2):
        holder = {}
        res["wall"], res["cpu"] = timed(
            lambda: holder.setdefault("t", pq.read_table(path, use_threads=False)))
        assert holder["t"].num_rows == rows
    return res


def markdown(results, args):
    out = ["# Parquet reading: pgcdc vs pyarrow", "",
           f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
           f"- machine: {os.cpu_count()} CPUs, {platform.machine()}, {platform.platform()}",
           f"- pyarrow {pa.__version__}; {args.rows:,} rows of seed 000's user_data, one row "
           f"group; median of {args.repeat} interleaved runs", "",
           "| file written by | codec | dictionary | page | MiB | pgcdc s | pgcdc rows/s "
           "| pyarrow s | pyarrow rows/s | pgcdc / pyarrow (wall) | (CPU) |",
           "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        a = statistics.median(x["wall"] for x in r["pgcdc"])
        b = statistics.median(x["wall"] for x in r["pyarrow"])
        ac = statistics.median(x["cpu"] for x in r["pgcdc"])
        bc = statistics.median(x["cpu"] for x in r["pyarrow"])
        out.append(f"| {r['writer']} | {r['codec']} | {'on' if r['dictionary'] else 'off'} | "
                   f"V{r['version'][0]} | {r['bytes'] / 2**20:.1f} | {a:.3f} | "
                   f"{args.rows / a:,.0f} | {b:.3f} | {args.rows / b:,.0f} | {b / a:.2f}x | "
                   f"{bc / ac:.2f}x |")
    out += ["", "pgcdc: every row through pgcdc_pq_reader_next (a datum per value); pyarrow: "
            "pq.read_table(use_threads=False) into Arrow arrays. See bench/parquet_read.py.", ""]
    return "\n".join(out)


def main():
    args, tool = parse_args(__doc__, "parquet_read.md", "pgcdc_parquet_read")
    if not tool:
        return 1
    log(f"generating {args.rows:,} rows")
    table = user_data(args.rows)
    base = os.path.join(args.workdir, "read-pyarrow-zstd-1-1.parquet")
    results = []
    for writer, codec, dictionary, version in VARIANTS:
        path = os.path.join(args.workdir,
                            f"read-{writer}-{codec}-{int(dictionary)}-{version[0]}.parquet")
        if writer == "pyarrow":
            pq.write_table(table, path, compression=codec, use_dictionary=dictionary,
                           data_page_version=version, row_group_size=args.rows)
        else:  # pgcdc's writer, fed by pgcdc's reader
            subprocess.run([tool, base, "--copy", path, "--codec", codec], check=True)
        with open(path, "rb") as f:  # into the page cache
            while f.read(1 << 24):
                pass
        log(f"{writer} {codec}, dictionary {'on' if dictionary else 'off'}, V{version[0]}")
        a, b = [], []
        for _ in range(args.repeat):
            a.append(run_pgcdc(tool, path, args.rows))
            b.append(run_pyarrow(path, args.rows))
        results.append({"writer": writer, "codec": codec, "dictionary": dictionary,
                        "version": version, "bytes": os.path.getsize(path),
                        "pgcdc": a, "pyarrow": b})
    save(markdown(results, args), results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
