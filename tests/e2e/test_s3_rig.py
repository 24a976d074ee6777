"""The S3 test rig (tests/rig/s3rig.py) and the lake readers (tests/rig/lakereaders.py).

Checks that the MinIO server keeps its port and data across stop/kill and
start, and that each reader the data-lake tests rely on (pyarrow, duckdb,
deltalake, Spark with Delta Lake) reads objects and tables from it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

import lakereaders

pytestmark = pytest.mark.rig

RIG = os.path.join(os.path.dirname(lakereaders.__file__), "s3rig.py")


def _table(n: int = 5):
    import pyarrow as pa
    return pa.table({"id": list(range(n)), "name": [f"row {i}" for i in range(n)]})


def test_minio_stop_kill_start_keep_port_and_data(make_s3):
    srv = make_s3(bucket="rig")
    fs = srv.filesystem()
    with fs.open_output_stream("rig/a/one.txt") as f:
        f.write(b"one")
    port = srv.port
    srv.stop()
    assert not srv.is_running()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{srv.endpoint}/minio/health/live", timeout=2)
    srv.start()
    assert srv.port == port
    srv.kill()
    srv.start()
    assert srv.port == port
    with srv.filesystem().open_input_stream("rig/a/one.txt") as f:
        assert f.read() == b"one"
    assert srv.list_objects("rig/a/") == {"rig/a/one.txt": 3}


def _live(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/minio/health/live", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def test_cli_start_status_stop(tmp_path):
    d = tmp_path / "s3"
    r = subprocess.run([sys.executable, RIG, "start", "--dir", str(d), "--bucket", "cli-bucket",
                        "--json"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    try:
        assert info["S3RIG_BUCKET"] == "cli-bucket" and info["AWS_ACCESS_KEY_ID"]
        assert info["AWS_ENDPOINT_URL"] == info["S3RIG_ENDPOINT"]
        assert _live(info["S3RIG_ENDPOINT"])
        st = subprocess.run([sys.executable, RIG, "status", "--dir", str(d)],
                            capture_output=True, text=True, timeout=60)
        assert st.returncode == 0 and st.stdout.startswith("running"), st.stdout + st.stderr
    finally:
        s = subprocess.run([sys.executable, RIG, "stop", "--dir", str(d), "--rm"],
                           capture_output=True, text=True, timeout=120)
    assert s.returncode == 0, s.stderr
    assert not d.exists()
    assert not _live(info["S3RIG_ENDPOINT"])


def test_pyarrow_reads_parquet_from_s3(s3, unique_name):
    import pyarrow.parquet as pq
    path = f"{s3.bucket}/{unique_name}/t.parquet"
    pq.write_table(_table(), path, filesystem=s3.filesystem())
    assert pq.read_table(path, filesystem=s3.filesystem()).to_pylist() == _table().to_pylist()


def test_duckdb_reads_parquet_from_s3(s3, unique_name):
    """duckdb's httpfs comes from the duckdb-ext-httpfs wheel, never downloaded."""
    import pyarrow.parquet as pq
    path = f"{s3.bucket}/{unique_name}/t.parquet"
    pq.write_table(_table(7), path, filesystem=s3.filesystem())
    con = lakereaders.duckdb_connect(s3)
    rows = con.execute(f"SELECT id, name FROM read_parquet('s3://{path}') ORDER BY id").fetchall()
    assert rows == [(i, f"row {i}") for i in range(7)]


def test_deltalake_writes_and_reads_on_s3(s3, unique_name):
    from deltalake import DeltaTable, write_deltalake
    uri = f"s3://{s3.bucket}/{unique_name}/delta"
    opts = s3.delta_storage_options()
    write_deltalake(uri, _table(3), storage_options=opts)
    write_deltalake(uri, _table(2), mode="append", storage_options=opts)
    dt = DeltaTable(uri, storage_options=opts)
    assert dt.version() == 1
    assert sorted(dt.to_pyarrow_table()["id"].to_pylist()) == [0, 0, 1, 1, 2]
    assert any(k.endswith("_delta_log/00000000000000000001.json")
               for k in s3.list_objects(f"{s3.bucket}/{unique_name}/delta/_delta_log/"))


def test_spark_reads_delta_table_from_s3(s3, unique_name):
    """One Spark test (Spark is slow to start): Delta over s3a:// on the rig.

    The table is written by deltalake (delta-rs), read by Spark with
    delta-spark and hadoop-aws, so both Delta implementations agree on it.
    """
    from deltalake import write_deltalake
    uri = f"s3://{s3.bucket}/{unique_name}/delta"
    write_deltalake(uri, _table(4), storage_options=s3.delta_storage_options())
    start = time.time()
    spark = lakereaders.spark_session(s3, progress=lambda m: print(m, file=sys.stderr))
    try:
        df = spark.read.format("delta").load(f"s3a://{s3.bucket}/{unique_name}/delta")
        assert sorted((r["id"], r["name"]) for r in df.collect()) == \
            [(i, f"row {i}") for i in range(4)]
    finally:
        lakereaders.stop_spark()
    print(f"[e2e] Spark start and Delta read over s3a: {time.time() - start:.1f}s",
          file=sys.stderr)
