"""Parquet reader end to end: files written by pyarrow (flat tables of many
types, every codec, dictionary on and off, data pages V1 and V2, several row
groups and small pages, the DELTA_* / BYTE_STREAM_SPLIT / RLE encodings) are
read by pgcdc's reader through tests/tools/parquet_read.c (built next to the
pgcdc binary as pgcdc_parquet_read, printing rows as JSON lines) and
compared value by value with what pyarrow reads from the same file; rows
copied through pgcdc's writer read back equal in pyarrow; unsupported files
(nested columns, other codecs) fail with a message naming the column."""

from __future__ import annotations

import decimal
import json
import math
import os
import random
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROWS = 3000

# pgcdc_pq_logical values (src/format/parquet/parquet.h)
LOGICAL = {"NONE": 0, "STRING": 1, "JSON": 2, "DECIMAL": 3, "DATE": 4, "TIME_MICROS": 5,
           "TIMESTAMP_MICROS": 6, "INT": 7, "UINT": 8, "TIME_MILLIS": 9, "TIME_NANOS": 10,
           "TIMESTAMP_MILLIS": 11, "TIMESTAMP_NANOS": 12, "UUID": 14, "FLOAT16": 16,
           "UNKNOWN": 18}
PHYSICAL = {"BOOLEAN": 0, "INT32": 1, "INT64": 2, "INT96": 3, "FLOAT": 4, "DOUBLE": 5,
            "BYTE_ARRAY": 6, "FIXED_LEN_BYTE_ARRAY": 7}


@pytest.fixture
def reader_bin(pgcdc_bin) -> str:
    path = Path(pgcdc_bin).parent / "pgcdc_parquet_read"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: build the tree that built {pgcdc_bin}")
    return str(path)


def maybe_null(rng, values, p=0.1):
    return [None if rng.random() < p else v for v in values]


def make_table(rows=ROWS, seed=1) -> pa.Table:
    rng = random.Random(seed)
    ints = [rng.randint(-2**31, 2**31 - 1) for _ in range(rows)]
    big = [rng.randint(-2**63, 2**63 - 1) for _ in range(rows)]
    words = [f"word {rng.randint(0, 40)}" for _ in range(rows)]
    uniq = [f"unique-{i}-" + "x" * (i % 50) + "é" for i in range(rows)]
    cols = {
        "id": pa.array(range(rows), pa.int64()),
        "b": pa.array(maybe_null(rng, [rng.random() < 0.5 for _ in range(rows)])),
        "i8": pa.array(maybe_null(rng, [rng.randint(-128, 127) for _ in range(rows)]), pa.int8()),
        "i16": pa.array(maybe_null(rng, [rng.randint(-2**15, 2**15 - 1) for _ in range(rows)]),
                        pa.int16()),
        "i32": pa.array(maybe_null(rng, ints), pa.int32()),
        "i64": pa.array(maybe_null(rng, big), pa.int64()),
        "u8": pa.array(maybe_null(rng, [rng.randint(0, 255) for _ in range(rows)]), pa.uint8()),
        "u32": pa.array(maybe_null(rng, [rng.randint(0, 2**32 - 1) for _ in range(rows)]),
                        pa.uint32()),
        "u64": pa.array(maybe_null(rng, [rng.randint(0, 2**64 - 1) for _ in range(rows)]),
                        pa.uint64()),
        "f4": pa.array(maybe_null(rng, [rng.uniform(-1e6, 1e6) for _ in range(rows)]),
                       pa.float32()),
        "f8": pa.array(maybe_null(rng, [float("nan") if i == 7 else float("-inf") if i == 8
                                        else rng.gauss(0, 1e10) for i in range(rows)]),
                       pa.float64()),
        "word": pa.array(maybe_null(rng, words), pa.string()),
        "uniq": pa.array(maybe_null(rng, uniq, 0.02), pa.string()),
        "bin": pa.array(maybe_null(rng, [bytes(rng.randrange(256) for _ in range(i % 9))
                                         for i in range(rows)]), pa.binary()),
        "fixed": pa.array(maybe_null(rng, [bytes([i % 256, 7, 9]) for i in range(rows)]),
                          pa.binary(3)),
        "dec9": pa.array(maybe_null(rng, [decimal.Decimal(rng.randint(-10**7, 10**7)) / 100
                                          for _ in range(rows)]), pa.decimal128(9, 2)),
        "dec18": pa.array(maybe_null(rng, [decimal.Decimal(rng.randint(-10**17, 10**17)) / 1000
                                           for _ in range(rows)]), pa.decimal128(18, 3)),
        "dec38": pa.array(maybe_null(rng, [decimal.Decimal(rng.randint(-10**37, 10**37)) / 10**5
                                           for _ in range(rows)]), pa.decimal128(38, 5)),
        "date": pa.array(maybe_null(rng, [rng.randint(-100000, 100000) for _ in range(rows)]),
                         pa.date32()),
        "t_ms": pa.array(maybe_null(rng, [rng.randint(0, 86399999) for _ in range(rows)]),
                         pa.time32("ms")),
        "t_us": pa.array(maybe_null(rng, [rng.randint(0, 86399999999) for _ in range(rows)]),
                         pa.time64("us")),
        "t_ns": pa.array(maybe_null(rng, [rng.randint(0, 86399999999999) for _ in range(rows)]),
                         pa.time64("ns")),
        "ts_ms": pa.array(maybe_null(rng, [rng.randint(-2**40, 2**40) for _ in range(rows)]),
                          pa.timestamp("ms")),
        "ts_us_utc": pa.array(maybe_null(rng, [rng.randint(-2**50, 2**50) for _ in range(rows)]),
                              pa.timestamp("us", tz="UTC")),
        "ts_ns": pa.array(maybe_null(rng, [rng.randint(-2**62, 2**62) for _ in range(rows)]),
                          pa.timestamp("ns")),
        "nothing": pa.nulls(rows),
        "req": pa.array([f"r{i}" for i in range(rows)], pa.string()),
    }
    if hasattr(pa, "uuid"):
        cols["uuid"] = pa.array([rng.randbytes(16) for _ in range(rows)], pa.uuid())
    if hasattr(pa, "json_"):
        cols["js"] = pa.array(maybe_null(rng, [json.dumps({"g": i % 13}) for i in range(rows)]),
                              pa.json_())
    schema = pa.schema([pa.field(k, v.type, nullable=(k != "req")) for k, v in cols.items()])
    return pa.table(list(cols.values()), schema=schema)


def physical_form(pf: pq.ParquetFile, table: pa.Table) -> list[list]:
    """pyarrow's reading of the file, per row, in pgcdc_parquet_read's form."""
    cols = []
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        t = col.type
        pcol = pf.schema.column(pf.schema_arrow.get_field_index(name))
        if isinstance(t, pa.BaseExtensionType):
            col = col.storage
            t = col.type
        if pa.types.is_temporal(t):
            width = pa.int32() if pcol.physical_type == "INT32" else pa.int64()
            vals = col.cast(width).to_pylist()
        elif pa.types.is_decimal(t):
            vals = []
            for d in col.to_pylist():
                if d is None:
                    vals.append(None)
                    continue
                unscaled = int(d.scaleb(t.scale))
                if pcol.physical_type in ("INT32", "INT64"):
                    vals.append(unscaled)
                else:
                    vals.append(unscaled.to_bytes(pcol.length, "big", signed=True).hex())
        elif pa.types.is_binary(t) or pa.types.is_fixed_size_binary(t) or \
                pa.types.is_large_binary(t):
            vals = [None if v is None else v.hex() for v in col.to_pylist()]
        elif pa.types.is_floating(t):
            vals = [None if v is None else "NaN" if math.isnan(v) else
                    ("Infinity" if v > 0 else "-Infinity") if math.isinf(v) else v
                    for v in col.to_pylist()]
        else:
            vals = col.to_pylist()
        cols.append(vals)
    return [list(r) for r in zip(*cols)]


def read_pgcdc(reader_bin, path, *args, check=True):
    r = subprocess.run([reader_bin, str(path), *args], capture_output=True, text=True,
                       timeout=120)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def compare(reader_bin, path, columns=None):
    pf = pq.ParquetFile(path)
    want_table = pf.read(columns=columns)
    args = ["--columns", ",".join(columns)] if columns else []
    r = read_pgcdc(reader_bin, path, "--schema", *args)
    lines = r.stdout.splitlines()
    schema = json.loads(lines[0])
    got = [json.loads(line) for line in lines[1:]]
    meta = pf.metadata
    assert schema["num_rows"] == meta.num_rows
    assert schema["row_groups"] == [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
    assert schema["created_by"] == meta.created_by
    assert set(schema["kv"]) == {k.decode() for k in (meta.metadata or {})}
    for i, c in enumerate(schema["columns"]):
        pc = pf.schema.column(i)
        assert c["name"] == pc.name
        assert c["physical"] == PHYSICAL[pc.physical_type], c
        assert c["nullable"] == (pf.schema_arrow.field(i).nullable or c["logical"] == 18), c
        check_logical(c, pc)
        for g in range(meta.num_row_groups):
            st = meta.row_group(g).column(i).statistics
            if st is not None and st.has_null_count:
                assert c["chunks"][g]["null_count"] == st.null_count, (c["name"], g)
    want = physical_form(pf, want_table)
    assert len(got) == len(want) == meta.num_rows
    for n, (g, w) in enumerate(zip(got, want)):
        if g != w:
            diffs = [(want_table.column_names[k], a, b) for k, (a, b) in enumerate(zip(g, w))
                     if a != b]
            pytest.fail(f"{path.name} row {n}: (column, pgcdc, pyarrow) {diffs[:5]}")
    return schema


def check_logical(c, pc):
    lt = pc.logical_type.type
    want = {
        "STRING": "STRING", "JSON": "JSON", "DECIMAL": "DECIMAL", "DATE": "DATE",
        "UUID": "UUID", "FLOAT16": "FLOAT16", "UNKNOWN": "UNKNOWN", "NONE": "NONE",
    }.get(lt)
    if lt == "INT":
        j = json.loads(pc.logical_type.to_json())
        want = "INT" if j["isSigned"] else "UINT"
        assert c["int_bits"] == j["bitWidth"]
    elif lt in ("TIME", "TIMESTAMP"):
        j = json.loads(pc.logical_type.to_json())
        unit = {"milliseconds": "MILLIS", "microseconds": "MICROS", "nanoseconds": "NANOS"}
        want = f"{lt}_{unit[j['timeUnit']]}"
        assert c["utc"] == j["isAdjustedToUTC"]
    elif lt == "DECIMAL":
        assert (c["precision"], c["scale"]) == (pc.precision, pc.scale)
    assert c["logical"] == LOGICAL[want], (c, lt)


VARIANTS = [(codec, dictionary, version)
            for codec in ("none", "snappy", "zstd", "gzip")
            for dictionary in (True, False)
            for version in ("1.0", "2.0")]


@pytest.fixture(scope="module")
def table():
    return make_table()


@pytest.mark.parametrize("codec,dictionary,version", VARIANTS,
                         ids=[f"{c}-{'dict' if d else 'plain'}-v{v}" for c, d, v in VARIANTS])
def test_pyarrow_files(reader_bin, tmp_path, table, codec, dictionary, version):
    """Many row groups and pages; dictionaries small enough to fall back."""
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, compression=codec, use_dictionary=dictionary,
                   data_page_version=version, row_group_size=1100, data_page_size=4096,
                   dictionary_pagesize_limit=2048)
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 3
    compare(reader_bin, path)


def test_one_row_group_default_settings(reader_bin, tmp_path, table):
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    compare(reader_bin, path)


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_delta_and_split_encodings(reader_bin, tmp_path, table, version):
    enc = {"i32": "DELTA_BINARY_PACKED", "i64": "DELTA_BINARY_PACKED",
           "id": "DELTA_BINARY_PACKED", "date": "DELTA_BINARY_PACKED",
           "word": "DELTA_BYTE_ARRAY", "uniq": "DELTA_LENGTH_BYTE_ARRAY",
           "fixed": "DELTA_BYTE_ARRAY", "f4": "BYTE_STREAM_SPLIT", "f8": "BYTE_STREAM_SPLIT",
           "b": "RLE"}
    path = tmp_path / "t.parquet"
    pq.write_table(table.select(list(enc)), path, use_dictionary=False, column_encoding=enc,
                   data_page_version=version, data_page_size=3000, row_group_size=1000)
    encodings = {e for g in range(3) for i in range(len(enc))
                 for e in pq.ParquetFile(path).metadata.row_group(g).column(i).encodings}
    assert {"DELTA_BINARY_PACKED", "DELTA_BYTE_ARRAY", "DELTA_LENGTH_BYTE_ARRAY",
            "BYTE_STREAM_SPLIT"} <= encodings
    compare(reader_bin, path)


def test_projection_and_empty(reader_bin, tmp_path, table):
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=700)
    compare(reader_bin, path, columns=["uniq", "id", "dec38"])
    empty = tmp_path / "empty.parquet"
    pq.write_table(table.slice(0, 0), empty)
    schema = compare(reader_bin, empty)
    assert schema["num_rows"] == 0 and len(schema["columns"]) == table.num_columns


def test_copy_through_writer(reader_bin, tmp_path, table):
    """A pyarrow file read by pgcdc's reader and written by pgcdc's writer
    (what compaction does) reads back equal in pyarrow."""
    cols = ["id", "b", "i8", "i16", "i32", "i64", "f4", "f8", "word", "uniq", "bin", "dec9",
            "dec18", "dec38", "date", "t_us", "ts_us_utc", "req"]
    src, dst = tmp_path / "src.parquet", tmp_path / "dst.parquet"
    pq.write_table(table.select(cols), src, compression="snappy", data_page_version="2.0",
                   row_group_size=1000)
    for codec in ("none", "zstd"):
        read_pgcdc(reader_bin, src, "--copy", str(dst), "--codec", codec)
        a, b = pq.read_table(src), pq.read_table(dst)
        assert b.schema.equals(a.schema.remove_metadata()), (a.schema, b.schema)
        for name in cols:  # (equals() would take NaN for a difference)
            assert nan_safe(b.column(name).to_pylist()) == nan_safe(a.column(name).to_pylist())


def nan_safe(values):
    return ["NaN" if isinstance(v, float) and math.isnan(v) else v for v in values]


def test_unsupported_files_name_the_column(reader_bin, tmp_path):
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"id": [1, 2], "tags": [["a"], ["b", "c"]]}), nested)
    r = read_pgcdc(reader_bin, nested, check=False)
    assert r.returncode == 1 and '"tags"' in r.stderr and "nested" in r.stderr, r.stderr
    struct = tmp_path / "struct.parquet"
    pq.write_table(pa.table({"s": [{"x": 1}]}), struct)
    r = read_pgcdc(reader_bin, struct, check=False)
    assert r.returncode == 1 and '"s"' in r.stderr, r.stderr
    for codec in ("lz4", "brotli"):
        path = tmp_path / f"{codec}.parquet"
        pq.write_table(pa.table({"v": [1, 2, 3]}), path, compression=codec)
        r = read_pgcdc(reader_bin, path, check=False)
        assert r.returncode == 1 and '"v"' in r.stderr and "not supported" in r.stderr, r.stderr
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"PAR1" + os.urandom(100) + b"PAR1")
    r = read_pgcdc(reader_bin, garbage, check=False)
    assert r.returncode == 1 and "parquet:" in r.stderr, r.stderr


def test_int96_timestamps(reader_bin, tmp_path):
    """Spark's default timestamps: INT96 (nanoseconds of the day, Julian day)
    come out as their 12 bytes."""
    ns = [0, 1_600_000_000_123_456_789, -86_400_000_000_001, None]
    path = tmp_path / "int96.parquet"
    pq.write_table(pa.table({"ts": pa.array(ns, pa.timestamp("ns"))}), path,
                   use_deprecated_int96_timestamps=True)
    r = read_pgcdc(reader_bin, path, "--schema")
    lines = r.stdout.splitlines()
    assert json.loads(lines[0])["columns"][0]["physical"] == PHYSICAL["INT96"]
    want = [None if v is None else
            ((v % 86_400_000_000_000).to_bytes(8, "little") +
             (v // 86_400_000_000_000 + 2_440_588).to_bytes(4, "little")).hex() for v in ns]
    assert [json.loads(line)[0] for line in lines[1:]] == want
