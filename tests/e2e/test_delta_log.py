"""Delta Lake log, both directions, against a real Delta implementation
(delta-rs, the `deltalake` package):

- tables whose commits pgcdc writes (tests/tools/delta_commit.c over
  src/format/delta and src/sink/lake) are read by delta-rs with the right
  rows, partition values, types (timestamp_ntz included), versions and txn
  versions;
- tables delta-rs writes are read back by pgcdc's log reader: the same
  version, live files and txn versions delta-rs reports.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
deltalake = pytest.importorskip("deltalake")


@pytest.fixture
def tool(pgcdc_bin):
    path = Path(pgcdc_bin).parent / "pgcdc_delta_commit"
    assert path.exists(), f"{path} not built"

    def run(root, table, *args, check=True):
        r = subprocess.run([str(path), str(root), table, *args], capture_output=True, text=True,
                           timeout=60)
        if check:
            assert r.returncode == 0, r.stderr
        return r

    return run


def write_part(table_dir: Path, rel: str, rows: dict, schema) -> str:
    p = table_dir / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(rows, schema=schema), p)
    return f"{rel}|{'d=' + rel.split('/')[0][2:] if rel.startswith('d=') else ''}|{p.stat().st_size}"


def test_delta_rs_reads_pgcdc_commits(tmp_path, tool):
    root, table = tmp_path, "bronze/public.orders"
    tdir = root / table
    schema = pa.schema([("id", pa.int64()), ("name", pa.string())])
    a = write_part(tdir, "d=2026-11-21/part-0.parquet", {"id": [1, 2], "name": ["a", None]}, schema)
    b = write_part(tdir, "d=2026-11-22/part 1.parquet", {"id": [3], "name": ["c"]}, schema)
    r = tool(root, table, "--schema", "id:long:0;name:string:1;d:date:1", "--partition", "d",
             "--add", a, "--add", b, "--txn", "pgcdc:slot1:7")
    assert r.stdout.strip() == "committed 0"

    dt = deltalake.DeltaTable(str(tdir))
    assert dt.version() == 0
    assert dt.transaction_version("pgcdc:slot1") == 7
    rows = sorted(dt.to_pyarrow_table().to_pylist(), key=lambda x: x["id"])
    assert rows == [
        {"id": 1, "name": "a", "d": datetime.date(2026, 11, 21)},
        {"id": 2, "name": None, "d": datetime.date(2026, 11, 21)},
        {"id": 3, "name": "c", "d": datetime.date(2026, 11, 22)},
    ]
    assert dt.metadata().partition_columns == ["d"]

    # version 1: replace part-0 by part-2, move the txn on
    c = write_part(tdir, "d=2026-11-21/part-2.parquet", {"id": [1], "name": ["a2"]}, schema)
    r = tool(root, table, "--remove", a, "--add", c, "--txn", "pgcdc:slot1:9")
    assert r.stdout.strip() == "committed 1"
    dt = deltalake.DeltaTable(str(tdir))
    assert dt.version() == 1
    assert dt.transaction_version("pgcdc:slot1") == 9
    assert sorted((x["id"], x["name"]) for x in dt.to_pyarrow_table().to_pylist()) == [
        (1, "a2"), (3, "c")]
    # time travel to what version 0 held
    dt.load_as_version(0)
    assert len(dt.to_pyarrow_table()) == 3

    # and pgcdc reads its own log like delta-rs does
    st = json.loads(tool(root, table, "--state").stdout)
    assert st["version"] == 1 and st["txns"] == {"pgcdc:slot1": 9}
    assert [f["path"] for f in st["files"]] == ["d=2026-11-21/part-2.parquet",
                                                 "d=2026-11-22/part 1.parquet"]
    assert st["files"][1]["partitionValues"] == {"d": "2026-11-22"}


def test_timestamp_ntz_and_decimal(tmp_path, tool):
    root, table = tmp_path, "t"
    schema = pa.schema([("ts", pa.timestamp("us")), ("tz", pa.timestamp("us", tz="UTC")),
                        ("price", pa.decimal128(10, 2))])
    import decimal
    rows = {"ts": [datetime.datetime(2026, 1, 2, 3, 4, 5, 6)],
            "tz": [datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)],
            "price": [decimal.Decimal("12.34")]}
    f = write_part(root / table, "part-0.parquet", rows, schema)
    tool(root, table, "--schema", "ts:timestamp_ntz:1;tz:timestamp:1;price:decimal(10,2):1",
         "--add", f)
    dt = deltalake.DeltaTable(str(root / table))
    assert dt.protocol().min_reader_version == 3
    assert "timestampNtz" in (dt.protocol().reader_features or [])
    got = dt.to_pyarrow_table()
    assert got.schema.field("ts").type == pa.timestamp("us")
    assert got.to_pylist()[0]["ts"] == rows["ts"][0]
    assert got.to_pylist()[0]["price"] == decimal.Decimal("12.34")


def test_pgcdc_reads_delta_rs_log(tmp_path, tool):
    from deltalake import CommitProperties, Transaction, write_deltalake
    tdir = tmp_path / "silver" / "public.users"
    data = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "region": ["eu", "us", "eu"]})
    write_deltalake(str(tdir), data, partition_by=["region"],
                    commit_properties=CommitProperties(
                        app_transactions=[Transaction("pgcdc:x", 41)]))
    write_deltalake(str(tdir), data, mode="append",
                    commit_properties=CommitProperties(
                        app_transactions=[Transaction("pgcdc:x", 42), Transaction("other", 1)]))
    dt = deltalake.DeltaTable(str(tdir))
    dt.delete("id = 2")  # rewrites files: remove + add actions
    dt = deltalake.DeltaTable(str(tdir))
    st = json.loads(tool(tmp_path, "silver/public.users", "--state").stdout)
    assert st["version"] == dt.version()
    assert st["txns"] == {"pgcdc:x": 42, "other": 1}
    adds = pa.table(dt.get_add_actions(flatten=True)).to_pylist()
    assert sorted(f["path"] for f in st["files"]) == sorted(a["path"] for a in adds)
    assert sum(f["size"] for f in st["files"]) == sum(a["size_bytes"] for a in adds)
    assert st["partitionColumns"] == ["region"]
    assert json.loads(st["schemaString"])["fields"][0]["name"] == "id"

    # a commit by pgcdc on top of delta-rs's table is readable by delta-rs
    r = tool(tmp_path, "silver/public.users", "--txn", "pgcdc:x:43")
    assert r.stdout.strip() == f"committed {dt.version() + 1}"
    dt = deltalake.DeltaTable(str(tdir))
    assert dt.transaction_version("pgcdc:x") == 43
    assert len(dt.to_pyarrow_table()) == 4


def test_refuses_tables_it_cannot_write(tmp_path, tool):
    from deltalake import write_deltalake
    tdir = tmp_path / "dv"
    write_deltalake(str(tdir), pa.table({"id": pa.array([1, 2], pa.int64())}),
                    configuration={"delta.enableDeletionVectors": "true"})
    r = tool(tmp_path, "dv", "--state", check=False)
    assert r.returncode == 1
    assert "the table uses the Delta reader feature" in r.stderr, r.stderr
