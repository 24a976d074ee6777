"""The lake sink (sink.type: lake) against real readers: bronze Delta tables
on a local root, read by delta-rs (deltalake) and pyarrow.

- every change of a mixed workload is one bronze row with its op, LSNs,
  transaction id, commit time and typed columns (the old image of updates in
  _before_* columns under REPLICA IDENTITY FULL);
- kill -9 while writing, restart: every committed change is in the table
  exactly once, and files never committed are removed;
- an added column becomes a Delta schema change;
- a missing lake.root or schemas turned off are clear errors.
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
import signal
import time

import pytest

pa = pytest.importorskip("pyarrow")
deltalake = pytest.importorskip("deltalake")


def lake(p, root, **extra):
    p.set(**{"sink.type": "lake", "lake.root": str(root), "lake.flush.interval.ms": 200,
             **extra})
    return p


def bronze(root, topic):
    path = os.path.join(root, "bronze", topic)
    if not os.path.isdir(os.path.join(path, "_delta_log")):
        return None
    return deltalake.DeltaTable(path)


def bronze_rows(root, topic):
    dt = bronze(root, topic)
    if dt is None:
        return []
    return sorted(dt.to_pyarrow_table().to_pylist(), key=lambda r: (r["_commit_lsn"], r["_lsn"]))


def wait_for(read, n, what, timeout=60):
    """Polls read() until it returns at least n items."""
    deadline = time.time() + timeout
    items = []
    while time.time() < deadline:
        items = read()
        if len(items) >= n:
            return items
        time.sleep(0.2)
    raise AssertionError(f"{what}: {len(items)} after {timeout}s, want {n}")


def wait_rows(root, topic, n, timeout=60):
    return wait_for(lambda: bronze_rows(root, topic), n, f"{topic} bronze rows", timeout)


def test_bronze_change_log(pg, pgcdc, unique_name, tmp_path):
    t = f"public.{unique_name}"
    pg.execute(f"""CREATE TABLE {t} (id int PRIMARY KEY, name text, price numeric(10,2),
        qty smallint, big bigint, ratio float8, ok boolean, born date, seen timestamp,
        at timestamptz, doc jsonb, raw bytea, tags text[])""")
    pg.execute(f"ALTER TABLE {t} REPLICA IDENTITY FULL")
    root = tmp_path / "lake"
    p = lake(pgcdc(tables=t), root).start()
    pg.execute(f"""INSERT INTO {t} VALUES
        (1, 'one', 12.34, 7, 9000000000, 0.5, true, '2024-02-29', '2024-01-02 03:04:05.678901',
         '2024-01-02 03:04:05+00', '{{"a": [1, 2]}}', '\\x00ff', '{{x,y}}'),
        (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""")
    pg.execute(f"UPDATE {t} SET name = 'uno', price = -0.01 WHERE id = 1")
    pg.execute(f"DELETE FROM {t} WHERE id = 2")
    rows = wait_rows(root, p.topic("public", unique_name), 4)
    assert p.stop() == 0
    assert [r["_op"] for r in rows] == ["c", "c", "u", "d"]
    ins, _, upd, dele = rows
    assert ins["id"] == 1 and ins["name"] == "one" and ins["price"] == decimal.Decimal("12.34")
    assert ins["qty"] == 7 and ins["big"] == 9000000000 and ins["ratio"] == 0.5
    assert ins["ok"] is True and ins["born"] == datetime.date(2024, 2, 29)
    assert ins["seen"] == datetime.datetime(2024, 1, 2, 3, 4, 5, 678901)
    assert ins["at"] == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert ins["doc"] == '{"a": [1, 2]}' and ins["raw"] == b"\x00\xff"
    assert ins["tags"] == '["x","y"]'
    assert ins["_before_id"] is None
    assert upd["name"] == "uno" and upd["price"] == decimal.Decimal("-0.01")
    assert upd["_before_name"] == "one" and upd["_before_price"] == decimal.Decimal("12.34")
    assert dele["id"] == 2 and dele["_before_id"] is None
    for r in rows:
        assert r["_tx_id"] > 0 and r["_lsn"] > 0 and r["_commit_lsn"] > 0
        assert r["_commit_ts"].tzinfo is not None
        assert r["_commit_date"] == r["_commit_ts"].astimezone(datetime.timezone.utc).date()
    dt = bronze(root, p.topic("public", unique_name))
    assert dt.metadata().partition_columns == ["_commit_date"]
    assert dt.metadata().configuration == {"pgcdc.key.columns": "id"}
    schema = {f.name: str(f.type) for f in dt.schema().fields}
    assert schema["seen"].endswith('"timestamp_ntz")') or "timestamp_ntz" in schema["seen"]
    assert dt.transaction_version("pgcdc") == rows[-1]["_commit_lsn"]


def test_kill_restart_exactly_once(pg, pgcdc, unique_name, tmp_path):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v text)")
    root = tmp_path / "lake"
    p = lake(pgcdc(tables=t), root, **{"lake.flush.interval.ms": 300}).start()
    topic = p.topic("public", unique_name)
    pg.execute(f"INSERT INTO {t} SELECT g, 'v' || g FROM generate_series(1, 2000) g")
    wait_rows(root, topic, 2000)
    # more changes, and kill -9 while they are being written
    for lo in range(2001, 6001, 500):
        pg.execute(f"INSERT INTO {t} SELECT g, 'v' || g FROM generate_series({lo}, {lo + 499}) g")
    time.sleep(0.3)
    p.kill()
    # a file written but never committed, as a crash between the two leaves
    orphan = root / "bronze" / topic / "_commit_date=2020-01-01" / "part-orphan.snappy.parquet"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"PAR1 torn")
    p.start()
    pg.execute(f"UPDATE {t} SET v = 'last' WHERE id = 1")
    rows = wait_rows(root, topic, 6001)
    assert p.stop() == 0
    ids = [r["id"] for r in rows if r["_op"] == "c"]
    assert sorted(ids) == list(range(1, 6001)), "lost or duplicated inserts"
    assert len(rows) == 6001
    assert not orphan.exists()
    # the restart found the table's schema and key unchanged: one metaData action in all
    log = root / "bronze" / topic / "_delta_log"
    assert sum(f.read_text().count('"metaData"') for f in log.glob("*.json")) == 1
    # and silver, compacted from that change log, equals the table
    assert p.run_cmd("lake", "compact").returncode == 0
    assert_silver_equals(pg, t, root, topic)


def test_added_column_is_schema_evolution(pg, pgcdc, unique_name, tmp_path):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    root = tmp_path / "lake"
    p = lake(pgcdc(tables=t), root).start()
    topic = p.topic("public", unique_name)
    pg.execute(f"INSERT INTO {t} VALUES (1)")
    wait_rows(root, topic, 1)
    pg.execute(f"ALTER TABLE {t} ADD COLUMN note text")
    pg.execute(f"INSERT INTO {t} VALUES (2, 'new')")
    rows = wait_rows(root, topic, 2)
    assert p.stop() == 0
    assert [(r["id"], r["note"]) for r in rows] == [(1, None), (2, "new")]
    names = [f.name for f in bronze(root, topic).schema().fields]
    assert "note" in names and "_before_note" in names


def test_config_errors(pgcdc, unique_name, tmp_path):
    p = pgcdc(tables=f"public.{unique_name}")
    p.set(**{"sink.type": "lake"})
    r = p.run_cmd("check")
    assert r.returncode == 1
    assert "sink.type lake needs lake.root" in (r.stderr + r.stdout)


def test_schemas_off_is_a_clear_error(pg, pgcdc, unique_name, tmp_path):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    p = lake(pgcdc(tables=t), tmp_path / "lake",
             **{"value.converter.schemas.enable": False}).start()
    pg.execute(f"INSERT INTO {t} VALUES (1)")
    deadline = time.time() + 30
    while p.alive and time.time() < deadline:
        time.sleep(0.1)
    assert not p.alive
    assert "set value.converter.schemas.enable: true" in p.log_text()


def s3_lake(p, srv, prefix, **extra):
    p.set(**{"sink.type": "lake", "lake.root": f"s3://{srv.bucket}/{prefix}",
             "lake.s3.endpoint": srv.endpoint, "lake.s3.region": srv.region,
             "lake.s3.access.key.id": srv.access_key,
             "lake.s3.secret.access.key": srv.secret_key, "lake.flush.interval.ms": 200,
             **extra})
    return p


def s3_rows(srv, prefix, topic, n, timeout=60):
    uri = f"s3://{srv.bucket}/{prefix}/bronze/{topic}"

    def read():
        try:
            dt = deltalake.DeltaTable(uri, storage_options=srv.delta_storage_options())
        except Exception:  # not created yet
            return []
        return sorted(dt.to_pyarrow_table().to_pylist(),
                      key=lambda r: (r["_commit_lsn"], r["_lsn"]))

    return wait_for(read, n, uri, timeout)


def test_s3_root_and_outage(pg, pgcdc, unique_name, make_s3):
    """Bronze on MinIO; the server stopped for 30 s: retries, nothing lost."""
    srv = make_s3()
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v text)")
    p = s3_lake(pgcdc(tables=t), srv, "lake").start()
    topic = p.topic("public", unique_name)
    pg.execute(f"INSERT INTO {t} SELECT g, 'a' FROM generate_series(1, 100) g")
    s3_rows(srv, "lake", topic, 100)
    srv.stop()
    pg.execute(f"INSERT INTO {t} SELECT g, 'b' FROM generate_series(101, 200) g")
    time.sleep(30)
    assert p.alive, p.log_text()[-2000:]
    srv.start()
    rows = s3_rows(srv, "lake", topic, 200, timeout=180)
    assert p.stop() == 0
    assert sorted(r["id"] for r in rows) == list(range(1, 201))


def test_s3_bad_credentials_and_bucket(pg, pgcdc, unique_name, s3):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    for extra, want in [({"lake.s3.secret.access.key": "wrong"}, "lake.s3.access.key.id"),
                        ({"lake.root": "s3://no-such-bucket-pgcdc/x"}, "no-such-bucket-pgcdc")]:
        p = s3_lake(pgcdc(tables=t), s3, "bad", **extra).start(wait=False)
        deadline = time.time() + 60
        while p.alive and time.time() < deadline:
            time.sleep(0.2)
        assert not p.alive, "pgcdc runs with a lake it cannot write to"
        assert want in p.log_text(), p.log_text()[-2000:]
        assert "records acknowledged" not in p.log_text()


@pytest.mark.readers
def test_spark_and_duckdb_read_bronze(pg, pgcdc, unique_name, s3):
    """Seed 004's readers on the bronze table in MinIO: Spark with delta-spark over
    s3a://, and DuckDB over the Parquet files through httpfs."""
    import lakereaders
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, name text, price numeric(8,2), "
               "seen timestamp, at timestamptz)")
    prefix = f"spark-{unique_name}"
    p = s3_lake(pgcdc(tables=t), s3, prefix).start()
    topic = p.topic("public", unique_name)
    pg.execute(f"INSERT INTO {t} SELECT g, 'n' || g, g / 4.0, '2024-05-06 07:08:09', "
               "'2024-05-06 07:08:09+00' FROM generate_series(1, 50) g")
    pg.execute(f"UPDATE {t} SET name = 'changed' WHERE id <= 10")
    pg.execute(f"DELETE FROM {t} WHERE id > 45")
    s3_rows(s3, prefix, topic, 65)
    assert p.stop() == 0

    spark = lakereaders.spark_session(s3)
    df = spark.read.format("delta").load(f"s3a://{s3.bucket}/{prefix}/bronze/{topic}")
    ops = {r["_op"]: r["count"] for r in df.groupBy("_op").count().collect()}
    assert ops == {"c": 50, "u": 10, "d": 5}
    types = dict(df.dtypes)
    assert types["price"] == "decimal(8,2)" and types["seen"] == "timestamp_ntz"
    assert types["at"] == "timestamp" and types["_commit_date"] == "date"
    row = df.where("_op = 'c' AND id = 4").collect()[0]
    assert str(row["price"]) == "1.00" and row["name"] == "n4"

    # silver on S3: compacted by `pgcdc lake compact`, read by Spark
    assert p.run_cmd("lake", "compact").returncode == 0
    silver = spark.read.format("delta").load(f"s3a://{s3.bucket}/{prefix}/silver/{topic}")
    got = {r["id"]: (r["name"], str(r["price"])) for r in silver.collect()}
    want = {r[0]: (r[1], str(r[2])) for r in pg.query(f"SELECT id, name, price FROM {t}")}
    assert got == want

    con = lakereaders.duckdb_connect(s3)
    n, total = con.execute(
        f"SELECT count(*), sum(price) FROM read_parquet('s3://{s3.bucket}/{prefix}/bronze/"
        f"{topic}/*/*.parquet') WHERE _op = 'c'").fetchone()
    assert n == 50 and float(total) == sum(g / 4.0 for g in range(1, 51))


def jsonl_lines(root, topic):
    base = root / "bronze" / topic
    lines = []
    for f in sorted(base.glob("_commit_date=*/*.jsonl")):
        lines += [json.loads(x) for x in f.read_text().splitlines()]
    return lines


def wait_jsonl(root, topic, n, timeout=60):
    return wait_for(lambda: jsonl_lines(root, topic), n, f"{topic} JSON lines", timeout)


def test_jsonl_format_exactly_once(pg, pgcdc, unique_name, tmp_path):
    """lake.format jsonl: the events as the file sink writes them (here without
    schemas, as seed 000's consumers read them), partitioned by commit date, and
    no line twice after kill -9."""
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v text)")
    root = tmp_path / "lake"
    p = lake(pgcdc(tables=t), root, **{"lake.format": "jsonl", "lake.flush.interval.ms": 300,
                                        "value.converter.schemas.enable": False}).start()
    topic = p.topic("public", unique_name)
    pg.execute(f"INSERT INTO {t} SELECT g, 'v' FROM generate_series(1, 1000) g")
    wait_jsonl(root, topic, 1000)
    for lo in range(1001, 5001, 500):
        pg.execute(f"INSERT INTO {t} SELECT g, 'v' FROM generate_series({lo}, {lo + 499}) g")
    time.sleep(0.3)
    p.kill()
    p.start()
    pg.execute(f"UPDATE {t} SET v = 'w' WHERE id = 1")
    pg.execute(f"DELETE FROM {t} WHERE id = 2")
    lines = wait_jsonl(root, topic, 5002)
    assert p.stop() == 0
    ids = sorted(x["after"]["id"] for x in lines if x["op"] == "c")
    assert ids == list(range(1, 5001)), "lost or duplicated events"
    assert [x["op"] for x in lines[-2:]] == ["u", "d"]
    assert "schema" not in lines[0] and lines[0]["source"]["table"] == unique_name
    day = datetime.datetime.fromtimestamp(lines[0]["source"]["ts_ms"] / 1000,
                                          datetime.timezone.utc).date()
    assert (root / "bronze" / topic / f"_commit_date={day}").is_dir()


def silver_rows(root, topic):
    path = os.path.join(root, "silver", topic)
    if not os.path.isdir(os.path.join(path, "_delta_log")):
        return {}
    rows = deltalake.DeltaTable(path).to_pyarrow_table().to_pylist()
    return {r["id"]: r for r in rows}


def table_rows(pg, t):
    cols = [c for c, in pg.query(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum", (t,))]
    return {r[0]: dict(zip(cols, r)) for r in pg.query(f"SELECT {', '.join(cols)} FROM {t}")}


def assert_silver_equals(pg, t, root, topic):
    want = table_rows(pg, t)
    got = silver_rows(root, topic)
    assert sorted(got) == sorted(want), "keys differ"
    for k, row in want.items():
        for col, v in row.items():
            assert got[k][col] == v, (k, col, got[k][col], v)


def test_silver_current_state(pg, pgcdc, unique_name, tmp_path):
    """After a mixed workload (updates of the same row in one transaction, deletes,
    re-inserts, a primary key change), `pgcdc lake compact` makes silver equal the
    table key by key; a second workload is applied incrementally, also in several
    passes over a bucket when its changes exceed lake.silver.memory.bytes."""
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, name text, qty int, price numeric(8,2), "
               "seen timestamp)")
    root = tmp_path / "lake"
    p = lake(pgcdc(tables=t), root, **{"lake.silver.interval.ms": 0, "lake.silver.buckets": 2,
                                        "lake.silver.memory.bytes": 1048576})
    p.start()
    topic = p.topic("public", unique_name)
    pg.execute(f"INSERT INTO {t} SELECT g, 'n' || g, g, g / 3.0, '2024-01-01'::timestamp + "
               "g * interval '1 minute' FROM generate_series(1, 3000) g")
    pg.execute(f"""BEGIN; UPDATE {t} SET qty = qty + 1 WHERE id <= 100;
        UPDATE {t} SET qty = qty * 10, name = NULL WHERE id <= 50; COMMIT""")
    pg.execute(f"DELETE FROM {t} WHERE id BETWEEN 200 AND 299")
    pg.execute(f"INSERT INTO {t} VALUES (250, 'back', 1, 1.5, NULL)")
    pg.execute(f"UPDATE {t} SET id = 5000 WHERE id = 7")
    n = 3000 + 100 + 50 + 100 + 1 + 2
    wait_rows(root, topic, n)
    r = p.run_cmd("lake", "compact")
    assert r.returncode == 0, r.stderr
    assert_silver_equals(pg, t, root, topic)
    dt = deltalake.DeltaTable(str(root / "silver" / topic))
    assert dt.metadata().configuration["pgcdc.key.columns"] == "id"
    v1 = dt.version()
    # nothing new: no new version
    assert p.run_cmd("lake", "compact").returncode == 0
    assert deltalake.DeltaTable(str(root / "silver" / topic)).version() == v1
    # a second round: wide rows so that one bucket's changes exceed 1 MiB
    more = pg.scalar(f"SELECT count(*) FROM {t} WHERE id % 2 = 0") + \
        pg.scalar(f"SELECT count(*) FROM {t} WHERE id % 5 = 0")
    pg.execute(f"UPDATE {t} SET name = repeat('x', 2000) WHERE id % 2 = 0")
    pg.execute(f"DELETE FROM {t} WHERE id % 5 = 0")
    wait_rows(root, topic, n + more)
    assert p.run_cmd("lake", "compact").returncode == 0
    assert p.stop() == 0
    assert_silver_equals(pg, t, root, topic)


def test_silver_compactor_thread_and_truncate(pg, pgcdc, unique_name, tmp_path):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v text)")
    root = tmp_path / "lake"
    p = lake(pgcdc(tables=t), root, **{"lake.silver.interval.ms": 300,
                                        "skipped.operations": "none"}).start()
    topic = p.topic("public", unique_name)
    pg.execute(f"INSERT INTO {t} SELECT g, 'a' FROM generate_series(1, 100) g")
    wait_for(lambda: list(silver_rows(root, topic)), 100, "silver rows")
    pg.execute(f"TRUNCATE {t}")
    pg.execute(f"INSERT INTO {t} VALUES (7, 'after')")
    deadline = time.time() + 60
    while time.time() < deadline and silver_rows(root, topic).keys() != {7}:
        time.sleep(0.3)
    assert p.stop() == 0
    assert {k: r["v"] for k, r in silver_rows(root, topic).items()} == {7: "after"}
