"""Parquet writer end to end: rows of every supported PostgreSQL type read
back from the real rig cluster in pgoutput's text representation, written by
pgcdc's Parquet writer (tests/tools/parquet_write.c, built next to the pgcdc
binary as pgcdc_parquet_write) with every codec, with and without the
dictionary, with small pages and row groups, then read by pyarrow (values,
Arrow types, NULLs, statistics, footer metadata) and by duckdb."""

from __future__ import annotations

import datetime
import decimal
import json
import math
import os
import subprocess
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

DDL = """
    id int PRIMARY KEY,
    c_int2 smallint, c_int4 int, c_int8 bigint, c_oid oid,
    c_real real, c_double double precision,
    c_bool boolean,
    c_num5 numeric(5,2), c_num10 numeric(10,2), c_num30 numeric(30,5), c_num38 numeric(38,0),
    c_numvar numeric,
    c_text text, c_varchar varchar(5), c_char char(3), c_empty text,
    c_bytea bytea,
    c_date date, c_time time, c_ts timestamp, c_tstz timestamptz,
    c_uuid uuid, c_json json, c_jsonb jsonb, c_mood {mood},
    c_interval interval, c_timetz timetz, c_intarr int[],
    c_required text NOT NULL
"""

ROWS = """
INSERT INTO {t} VALUES
 (1, 32767, -2147483648, 9223372036854775807, 4294967295,
  1.5, 0.1, true,
  -999.99, 12345678.90, -1234567890123456789012345.12345, 99999999999999999999999999999999999999,
  123456789012345678901234567890.123,
  E'h\\u00e9llo "q"\\n\\ttab', 'ab', 'ab', '',
  '\\x0102ff',
  '1970-01-02', '01:02:03.5', '2020-02-29 23:59:59.999999', '2020-06-01 12:00:00+02',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{{"a": [1, 2.5, null]}}', '{{"b": true}}', 'happy',
  '1 year 2 mons 3 days 04:05:06.7', '11:00:00+03', '{{1,2,NULL}}',
  'req'),
 (2, -32768, 2147483647, -9223372036854775808, 0,
  -3.4028235e+38, -1.7976931348623157e+308, false,
  0.01, -0.01, 0.00001, -99999999999999999999999999999999999999,
  -0.5,
  repeat('long ', 5000), 'xyzzy', 'c', '',
  '\\x',
  '0001-01-01', '23:59:59.999999', '1900-01-01 00:00:00', '1969-12-31 23:59:59.999999+00',
  '00000000-0000-0000-0000-000000000000', '[]', '[]', 'sad',
  '-1 days', '00:00:00+00', '{{}}',
  ''),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'x');
INSERT INTO {t}
SELECT g, g % 100, g * 7, g * 100000000000, g,
  g / 4.0, g / 3.0, g % 3 = 0,
  (g % 1000) / 100.0, g * 1.25, g * 1000.5, g,
  g / 7.0,
  'value ' || (g % 37), 'v' || (g % 9), 'c' || (g % 5), CASE WHEN g % 11 = 0 THEN NULL ELSE '' END,
  decode(lpad(to_hex(g), 8, '0'), 'hex'),
  date '2000-01-01' + g, time '00:00:00' + g * interval '1 second',
  timestamp '2001-01-01' + g * interval '1 minute', timestamptz '2001-01-01 00:00+00' + g * interval '1 hour',
  md5(g::text)::uuid, json_build_object('g', g), jsonb_build_object('g', g % 10),
  (ARRAY['sad','ok','happy'])[1 + g % 3]::{mood},
  g * interval '1 minute', time with time zone '10:00+01', ARRAY[g, g + 1],
  'r' || g
FROM generate_series(10, 1500) g;
UPDATE {t} SET c_int4 = NULL, c_text = NULL, c_tstz = NULL WHERE id % 13 = 0;
"""

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

# column -> (Arrow type, how pyarrow's value is compared with psycopg2's)
ARROW_TYPES = {
    "id": pa.int32(),
    "c_int2": pa.int16(),
    "c_int4": pa.int32(),
    "c_int8": pa.int64(),
    "c_oid": pa.int64(),
    "c_real": pa.float32(),
    "c_double": pa.float64(),
    "c_bool": pa.bool_(),
    "c_num5": pa.decimal128(5, 2),
    "c_num10": pa.decimal128(10, 2),
    "c_num30": pa.decimal128(30, 5),
    "c_num38": pa.decimal128(38, 0),
    "c_numvar": pa.string(),
    "c_text": pa.string(),
    "c_varchar": pa.string(),
    "c_char": pa.string(),
    "c_empty": pa.string(),
    "c_bytea": pa.binary(),
    "c_date": pa.date32(),
    "c_time": pa.time64("us"),
    "c_ts": pa.timestamp("us"),
    "c_tstz": pa.timestamp("us", tz="UTC"),
    "c_uuid": pa.string(),
    "c_json": "json",
    "c_jsonb": "json",
    "c_mood": pa.string(),
    "c_interval": pa.string(),
    "c_timetz": pa.string(),
    "c_intarr": pa.string(),
    "c_required": pa.string(),
}

# Types written as PostgreSQL's text: compared with a ::text cast.
TEXT_COLUMNS = ["c_numvar", "c_uuid", "c_json", "c_jsonb", "c_mood", "c_interval", "c_timetz",
                "c_intarr"]

VARIANTS = [
    ("none", True, []),
    ("none", False, []),
    ("snappy", True, []),
    ("snappy", False, []),
    ("zstd", True, ["--level", "9"]),
    ("zstd", False, []),
    # many pages and row groups, dictionary fallback inside chunks
    # (a uuid column's dictionary passes 600 bytes after some pages: its chunks hold
    # dictionary pages, then PLAIN ones)
    ("zstd", True, ["--page-bytes", "64", "--row-group-rows", "400",
                    "--dictionary-page-bytes", "600"]),
    ("snappy", False, ["--page-bytes", "100", "--row-group-bytes", "4000"]),
]


@pytest.fixture
def writer_bin(pgcdc_bin) -> str:
    path = Path(pgcdc_bin).parent / "pgcdc_parquet_write"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: build the tree that built {pgcdc_bin}")
    return str(path)


def write_parquet(writer_bin, pg, table, out, codec, dictionary, extra=(), check=True):
    argv = [writer_bin, "--dsn", pg.dsn(), "--table", table, "--out", str(out),
            "--codec", codec, "--order-by", "1", "--kv", "origin=pgcdc-test", *extra]
    if not dictionary:
        argv.append("--no-dictionary")
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=check)


def create_table(pg, name):
    pg.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    pg.execute(f"CREATE SCHEMA {name}")
    pg.execute(f"CREATE TYPE {name}.mood AS ENUM ('sad', 'ok', 'happy')")
    pg.execute(f"CREATE TABLE {name}.t ({DDL.format(mood=name + '.mood')})")
    pg.execute(ROWS.format(t=f"{name}.t", mood=name + ".mood"))
    return f"{name}.t"


def expected_rows(pg, table):
    """Rows as psycopg2 gives them, text-typed columns as PostgreSQL's text."""
    cols = list(ARROW_TYPES)
    sel = ", ".join(f"{c}::text" if c in TEXT_COLUMNS else c for c in cols)
    rows = pg.query(f"SELECT {sel} FROM {table} ORDER BY 1")
    out = []
    for r in rows:
        d = dict(zip(cols, r))
        if d["c_bytea"] is not None:
            d["c_bytea"] = bytes(d["c_bytea"])
        out.append(d)
    return out


def same(col, got, want):
    if want is None or got is None:
        return got is None and want is None
    if col == "c_real":
        # float4 travels as its shortest exact text, parsed back to the same float32
        return got == float(pa.scalar(float(want), pa.float32()).as_py())
    if isinstance(want, float) and math.isnan(want):
        return math.isnan(got)
    return got == want


def check_stats(pf, table_rows):
    """Column chunk statistics against the rows of each row group."""
    meta = pf.metadata
    start = 0
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        rows = table_rows[start:start + rg.num_rows]
        start += rg.num_rows
        for i, name in enumerate(pf.schema_arrow.names):
            cc = rg.column(i)
            vals = [r[name] for r in rows]
            st = cc.statistics
            assert st is not None and st.has_null_count, name
            assert st.null_count == sum(v is None for v in vals), (name, g)
            present = [v for v in vals if v is not None]
            if name in ("c_text",) and any(len(v) > 4096 for v in present):
                assert not st.has_min_max  # min/max over 4 KiB are not written
                continue
            if not present:
                assert not st.has_min_max, name
                continue
            assert st.has_min_max, (name, g)
            if isinstance(present[0], str):
                key = lambda v: v.encode()  # noqa: E731  byte order
                smin, smax = st.min, st.max
                if isinstance(smin, bytes):  # pyarrow shows JSON statistics as bytes
                    smin, smax = smin.decode(), smax.decode()
                assert smin == min(present, key=key) and smax == max(present, key=key), name
            elif isinstance(present[0], (bytes, float, bool, int, decimal.Decimal)) or \
                    isinstance(present[0], (datetime.date, datetime.time)):
                assert st.min == min(present) and st.max == max(present), (name, st.min, st.max)


def test_every_type_round_trips(pg, writer_bin, unique_name, tmp_path):
    table = create_table(pg, unique_name)
    want = expected_rows(pg, table)
    for codec, dictionary, extra in VARIANTS:
        out = tmp_path / f"{codec}-{int(dictionary)}-{len(extra)}.parquet"
        write_parquet(writer_bin, pg, table, out, codec, dictionary, extra)
        pf = pq.ParquetFile(out)
        t = pf.read()
        # Arrow types and nullability
        for name, typ in ARROW_TYPES.items():
            field = t.schema.field(name)
            if typ == "json":
                # the JSON logical type: Arrow's json extension type (pyarrow >= 19)
                # or, in older readers, a plain string
                typ = pa.json_() if isinstance(field.type, pa.BaseExtensionType) else pa.string()
            assert field.type == typ, (name, field.type, typ)
            assert field.nullable == (name not in ("id", "c_required")), name
        assert t.num_rows == len(want)
        got = t.to_pylist()
        for g, w in zip(got, want):
            for name in ARROW_TYPES:
                assert same(name, g[name], w[name]), (codec, dictionary, w["id"], name, g[name],
                                                      w[name])
        # footer: codec, encodings, key/value metadata, created_by
        meta = pf.metadata
        assert meta.created_by.startswith("pgcdc version ")
        assert pf.metadata.metadata[b"origin"] == b"pgcdc-test"
        cc = meta.row_group(0).column(t.schema.get_field_index("c_varchar"))  # 10 values
        assert cc.compression == {"none": "UNCOMPRESSED", "snappy": "SNAPPY",
                                  "zstd": "ZSTD"}[codec]
        assert ("RLE_DICTIONARY" in cc.encodings) == dictionary
        if "--row-group-rows" in extra or "--row-group-bytes" in extra:
            assert meta.num_row_groups > 1
        check_stats(pf, got)
        # duckdb reads the same file to the same values
        con = duckdb.connect()
        dtypes = dict(con.execute("SELECT column_name, column_type FROM "
                                  "(DESCRIBE SELECT * FROM read_parquet(?))", [str(out)]).fetchall())
        assert dtypes["c_tstz"] == "TIMESTAMP WITH TIME ZONE" and dtypes["c_ts"] == "TIMESTAMP"
        assert dtypes["c_num30"] == "DECIMAL(30,5)" and dtypes["c_int2"] == "SMALLINT"
        assert dtypes["c_time"] == "TIME" and dtypes["c_bytea"] == "BLOB"
        # time zone aware values come as epoch microseconds (no pytz needed)
        drows = con.execute(
            "SELECT * EXCLUDE (c_json, c_tstz), c_json::VARCHAR AS c_json, "
            "epoch_us(c_tstz) AS c_tstz FROM read_parquet(?) ORDER BY id",
            [str(out)]).fetchall()
        names = [d[0] for d in con.description]
        assert len(drows) == len(want)
        for dr, w in zip(drows, want):
            d = dict(zip(names, dr))
            for name in ARROW_TYPES:
                v = d[name]
                if name == "c_tstz" and v is not None:
                    v = EPOCH + datetime.timedelta(microseconds=v)
                if name == "c_jsonb" and v is not None and not isinstance(v, str):
                    v = json.dumps(v)
                assert same(name, v, w[name]), ("duckdb", codec, w["id"], name, v, w[name])
        con.close()


def test_special_values(pg, writer_bin, unique_name, tmp_path):
    """infinity dates/timestamps are INT32/INT64 max/min, NaN and infinities
    are IEEE values, NaN in a DECIMAL column is an error naming the column."""
    s = unique_name
    pg.execute(f"CREATE SCHEMA {s}")
    pg.execute(f"CREATE TABLE {s}.t (id int, d date, ts timestamp, tz timestamptz, f float8, "
               f"r real)")
    pg.execute(f"INSERT INTO {s}.t VALUES (1, 'infinity', 'infinity', 'infinity', 'NaN', "
               f"'Infinity'), (2, '-infinity', '-infinity', '-infinity', '-Infinity', 'NaN'), "
               f"(3, '0044-03-15 BC', '0044-03-15 12:00 BC', '2000-01-01', 1, 1)")
    out = tmp_path / "special.parquet"
    write_parquet(writer_bin, pg, f"{s}.t", out, "zstd", True)
    t = pq.read_table(out)
    assert t.column("d").cast(pa.int32()).to_pylist()[:2] == [2**31 - 1, -2**31]
    assert t.column("ts").cast(pa.int64()).to_pylist()[:2] == [2**63 - 1, -2**63]
    assert t.column("tz").cast(pa.int64()).to_pylist()[:2] == [2**63 - 1, -2**63]
    # BC dates (no Python date for them): the day and microsecond numbers
    days, us = pg.query("SELECT date '0044-03-15 BC' - date '1970-01-01', "
                        "extract(epoch FROM timestamp '0044-03-15 12:00 BC')::bigint * 1000000")[0]
    assert t.column("d").cast(pa.int32())[2].as_py() == days
    assert t.column("ts").cast(pa.int64())[2].as_py() == us
    f = t.column("f").to_pylist()
    assert math.isnan(f[0]) and f[1] == -math.inf and f[2] == 1
    r = t.column("r").to_pylist()
    assert r[0] == math.inf and math.isnan(r[1])
    st = pq.ParquetFile(out).metadata.row_group(0).column(4).statistics
    assert st.min == -math.inf and st.max == 1  # NaN left out of min/max

    pg.execute(f"CREATE TABLE {s}.n (id int, n numeric(5,2))")
    pg.execute(f"INSERT INTO {s}.n VALUES (1, 1.5), (2, 'NaN')")
    res = write_parquet(writer_bin, pg, f"{s}.n", tmp_path / "nan.parquet", "zstd", True,
                        check=False)
    assert res.returncode != 0
    assert 'column "n"' in res.stderr and "NaN" in res.stderr


def test_empty_table(pg, writer_bin, unique_name, tmp_path):
    s = unique_name
    pg.execute(f"CREATE SCHEMA {s}")
    pg.execute(f"CREATE TABLE {s}.t (id int NOT NULL, s text)")
    out = tmp_path / "empty.parquet"
    write_parquet(writer_bin, pg, f"{s}.t", out, "snappy", True)
    t = pq.read_table(out)
    assert t.num_rows == 0 and t.schema.names == ["id", "s"]
    assert duckdb.connect().execute("SELECT count(*) FROM read_parquet(?)",
                                    [str(out)]).fetchone()[0] == 0
