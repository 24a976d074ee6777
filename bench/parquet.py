#!/usr/bin/env python3
"""Parquet benchmark: pgcdc's Parquet writer against pyarrow's
(`pq.write_table`) on the same rows, same compression, row group, page and
dictionary settings, in the same run.

The rows are seed 000's `user_data` (the replication benchmark's table:
integers, text, doubles, timestamptz, timestamp), generated in a rig cluster.
Both sides start from the same place, PostgreSQL's text representation of
every value (what pgoutput delivers), held in memory before any clock starts:

  text   pgcdc: libpq's result (one text value per column per row, as the
         pg source hands values to a sink) -> convert each value
         (pgcdc_pq_pg_put) -> encode, compress, write the file.
         pyarrow: the table's COPY text in memory -> pyarrow.csv.read_csv
         (C++, vectorised, use_threads=False) into an Arrow table with the
         same types -> pq.write_table.
  typed  pgcdc: values converted beforehand (pgcdc_pq_put_datum) -> encode,
         compress, write.  pyarrow: the Arrow table built beforehand ->
         pq.write_table.  This compares the encoders alone.

Both are single-threaded (pyarrow's Parquet writer does not use threads for
one file; its CSV reader is told not to), write to the same disk without
fsync, one row group of all rows, 1 MiB data pages, 1 MiB dictionary limit,
data page V1, zstd level 3. Each side is measured warm: pgcdc's second file
from one writer (pgcdc_pq_writer_reset reuses its memory, as a sink rolling
files does), pyarrow's second run in one process (its memory pool keeps its
memory). pgcdc and pyarrow runs alternate, --repeat times; medians of wall
and of process CPU time are reported (the machine may be shared, CPU time is
the steadier measure). Results in bench/out/parquet.md and .json.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from replication import REPO_ROOT, ROW_SELECT, TABLE_DDL, PgCluster, log  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

# user_data's columns as pgcdc maps them (docs/PARQUET.md)
ARROW_SCHEMA = {
    "id": pa.int32(), "name": pa.string(), "gender": pa.string(), "address": pa.string(),
    "latitude": pa.float64(), "longitude": pa.float64(), "timezone": pa.string(),
    "email": pa.string(), "phone": pa.string(), "cell": pa.string(),
    "date_of_birth": pa.timestamp("us", tz="UTC"), "registered_date": pa.timestamp("us", tz="UTC"),
    "picture_url": pa.string(), "insertion_time": pa.timestamp("us"),
}

VARIANTS = [  # (codec, dictionary)
    ("none", True), ("snappy", True), ("zstd", True), ("zstd", False),
]

PAGE_BYTES = 1 << 20
ZSTD_LEVEL = 3


def generate(pg, rows):
    pg.execute(TABLE_DDL)
    step = 100_000
    for lo in range(1, rows + 1, step):
        pg.execute(ROW_SELECT.format(lo=lo, hi=min(rows, lo + step - 1)))
    pg.execute("VACUUM ANALYZE fabric.user_data")


def copy_text(pg) -> bytes:
    buf = io.BytesIO()
    conn = pg.conn()
    try:
        with conn.cursor() as cur:
            cur.copy_expert("COPY (SELECT * FROM fabric.user_data ORDER BY id) TO STDOUT", buf)
    finally:
        conn.close()
    return buf.getvalue()


def arrow_from_text(data: bytes) -> pa.Table:
    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=list(ARROW_SCHEMA), use_threads=False,
                                       block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False, escape_char=False),
        convert_options=pacsv.ConvertOptions(column_types=ARROW_SCHEMA, null_values=["\\N"],
                                             strings_can_be_null=True))


def pyarrow_write(table, path, codec, dictionary, rows):
    pq.write_table(table, path, compression=codec.upper() if codec != "none" else "NONE",
                   compression_level=ZSTD_LEVEL if codec == "zstd" else None,
                   use_dictionary=dictionary, row_group_size=rows, data_page_size=PAGE_BYTES,
                   dictionary_pagesize_limit=PAGE_BYTES, write_statistics=True,
                   data_page_version="1.0", version="2.6")


def timed(fn):
    """(wall seconds, process CPU seconds) of fn()."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def run_pyarrow(data, path, codec, dictionary, rows):
    """One warm run of each mode (after a warm-up run of each, as pgcdc's)."""
    res = {}
    holder = {}

    def text():
        holder["t"] = arrow_from_text(data)
        pyarrow_write(holder["t"], path, codec, dictionary, rows)

    for _ in range(2):
        res["text"], res["text_cpu"] = timed(text)
    assert holder["t"].num_rows == rows
    for _ in range(2):
        res["typed"], res["typed_cpu"] = timed(
            lambda: pyarrow_write(holder["t"], path, codec, dictionary, rows))
    res["bytes"] = os.path.getsize(path)
    return res


def run_pgcdc(tool, pg, path, codec, dictionary, rows):
    """One warm run of each mode: the tool writes twice per mode (the second
    reuses the writer's memory, as pyarrow reuses its memory pool's) and the
    second run counts."""
    repeat = 2
    argv = [tool, "--dsn", pg.dsn(), "--table", "fabric.user_data", "--order-by", "id",
            "--out", path, "--codec", codec, "--level", str(ZSTD_LEVEL),
            "--row-group-rows", str(rows), "--row-group-bytes", str(1 << 40),
            "--page-bytes", str(PAGE_BYTES), "--dictionary-page-bytes", str(PAGE_BYTES),
            "--bench", str(repeat)]
    if not dictionary:
        argv.append("--no-dictionary")
    r = subprocess.run(argv, capture_output=True, text=True, check=True)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["rows"] == rows, res
    # the file must read back whole
    assert pq.ParquetFile(path).metadata.num_rows == rows
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in res.items()}


def markdown(results, args):
    out = ["# Parquet writing: pgcdc vs pyarrow", "",
           f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
           f"- machine: {os.cpu_count()} CPUs, {platform.machine()}, {platform.platform()}",
           f"- pyarrow {pa.__version__}; {args.rows:,} rows of seed 000's user_data, one row "
           f"group, 1 MiB pages, zstd level {ZSTD_LEVEL}; median of {args.repeat} interleaved "
           "runs", "",
           "| codec | dictionary | mode | pgcdc s | pgcdc rows/s | pyarrow s | pyarrow rows/s "
           "| pgcdc / pyarrow (wall) | (CPU) | pgcdc MiB | pyarrow MiB |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        for mode in ("text", "typed"):
            a = statistics.median(x[mode] for x in r["pgcdc"])
            b = statistics.median(x[mode] for x in r["pyarrow"])
            ac = statistics.median(x[mode + "_cpu"] for x in r["pgcdc"])
            bc = statistics.median(x[mode + "_cpu"] for x in r["pyarrow"])
            out.append(f"| {r['codec']} | {'on' if r['dictionary'] else 'off'} | {mode} | "
                       f"{a:.3f} | {args.rows / a:,.0f} | {b:.3f} | {args.rows / b:,.0f} | "
                       f"{b / a:.2f}x | {bc / ac:.2f}x | {r['pgcdc'][0]['bytes'] / 2**20:.1f} | "
                       f"{r['pyarrow'][0]['bytes'] / 2**20:.1f} |")
    out += ["", "text: from PostgreSQL's text values (pgcdc: per value from libpq's result; "
            "pyarrow: COPY text through pyarrow.csv); typed: encoders alone (pgcdc from "
            "converted values, pyarrow from a built Arrow table). See bench/parquet.py.", ""]
    return "\n".join(out)


def parse_args(doc, out_name, tool_name):
    """Arguments of the Parquet benchmarks (this one and parquet_read.py) and the path of
    their test tool next to the pgcdc binary (None when it is missing)."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 1_000_000)))
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", 3)))
    ap.add_argument("--pgcdc", default=os.environ.get("PGCDC_BIN",
                                                      os.path.join(REPO_ROOT, "build", "pgcdc")))
    ap.add_argument("--workdir", default=os.path.join(REPO_ROOT, "bench", "out", "work"))
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "bench", "out", out_name))
    args = ap.parse_args()
    tool = os.path.join(os.path.dirname(os.path.abspath(args.pgcdc)), tool_name)
    if not os.access(tool, os.X_OK):
        log(f"{tool} is missing (built with pgcdc by CMake)")
        return args, None
    os.makedirs(args.workdir, exist_ok=True)
    return args, tool


def save(md, results, out):
    """Writes the markdown table and the raw results next to it, and prints the table."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(md)
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump(results, f, indent=1)
    print(md)
    log(f"written {out}")


def main():
    args, tool = parse_args(__doc__, "parquet.md", "pgcdc_parquet_write")
    if not tool:
        return 1
    results = []
    with PgCluster(settings={"shared_buffers": "256MB", "log_min_messages": "warning"}) as pg:
        log(f"generating {args.rows:,} rows")
        generate(pg, args.rows)
        data = copy_text(pg)
        log(f"COPY text: {len(data) / 2**20:.0f} MiB")
        for codec, dictionary in VARIANTS:
            path_a = os.path.join(args.workdir, f"pgcdc-{codec}-{int(dictionary)}.parquet")
            path_b = os.path.join(args.workdir, f"pyarrow-{codec}-{int(dictionary)}.parquet")
            log(f"{codec}, dictionary {'on' if dictionary else 'off'}")
            # interleaved, so that load from elsewhere on the machine hits both alike
            a, b = [], []
            for _ in range(args.repeat):
                a.append(run_pgcdc(tool, pg, path_a, codec, dictionary, args.rows))
                b.append(run_pyarrow(data, path_b, codec, dictionary, args.rows))
            # same rows in both files
            assert pq.read_table(path_a).equals(pq.read_table(path_b).cast(
                pq.read_schema(path_a))), f"{codec}: the two files differ"
            results.append({"codec": codec, "dictionary": dictionary, "pgcdc": a, "pyarrow": b})
    save(markdown(results, args), results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
