"""schema.changes: DDL through pgcdc's event trigger arrives as schema change
events in commit order with the row changes, and the row events after each
DDL carry the new table schema. Installation, privileges and removal.

The tests share one private cluster: the event trigger is database-wide and
would otherwise show up in every other test's stream.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import DEFAULT_TIMEOUT, PgCluster, unwrap

REPO_ROOT = Path(__file__).resolve().parents[2]
VALUE_ORDER = ["source", "ts_ms", "databaseName", "schemaName", "ddl", "tableChanges"]
COLUMN_ORDER = ["name", "jdbcType", "nativeType", "typeName", "typeExpression", "charsetName",
                "length", "scale", "position", "optional", "autoIncremented", "generated",
                "comment", "defaultValueExpression", "enumValues"]


@pytest.fixture(scope="module")
def ddl_pg():
    cluster = PgCluster()
    cluster.start()
    yield cluster
    cluster.destroy()


def ddl_sql(pgcdc_bin, *args) -> str:
    out = subprocess.run([pgcdc_bin, "ddl-sql", *args], capture_output=True, text=True,
                         check=True)
    return out.stdout


def ddl_events(p) -> list:
    """Schema change records of the topic <topic.prefix> (file sink)."""
    path = p.data_dir / f"{p.topic_prefix}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def stdout_records(p) -> list:
    """Every record value pgcdc wrote to stdout, in the order it emitted them
    (a last line still being written is left for the next read)."""
    text = p.stdout_path.read_text()
    lines = text.split("\n")[:-1]  # only lines with their newline
    return [json.loads(line) for line in lines if line.strip() and line != "null"]


def wait_for(read, n: int, p, timeout: float = DEFAULT_TIMEOUT) -> list:
    """Polls read() until it returns at least n items."""
    deadline = time.time() + timeout
    got = read()
    while len(got) < n:
        if time.time() > deadline:
            raise AssertionError(f"{len(got)} records after {timeout}s, wanted {n}\n"
                                 + p.log_summary())
        p._check_alive(f"while waiting for {n} records")
        time.sleep(0.1)
        got = read()
    return got


def row_schema(event) -> dict:
    """{column: Connect type} of the `after` struct of a row event's schema."""
    after = next(f for f in event["schema"]["fields"] if f["field"] == "after")
    return {f["field"]: f["type"] for f in after["fields"]}


def columns(change) -> dict:
    return {c["name"]: c for c in change["table"]["columns"]}


def test_ddl_events_in_order_with_row_changes(ddl_pg, pgcdc, unique_name):
    """ADD COLUMN, RENAME COLUMN, ALTER TYPE, DROP COLUMN between row changes
    (and inside one transaction) arrive in commit order, and the schema of the
    row events that follow each DDL matches it."""
    t = f"public.{unique_name}"
    p = pgcdc(ddl_pg, tables=t, **{"schema.changes": True, "sink.type": "file,stdout"})
    p.start()
    assert re.search(r"schema\.changes: .*(created|installed)", p.log_text())
    pg = ddl_pg
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, a text NOT NULL)")
    pg.execute(f"INSERT INTO {t} VALUES (1, 'one')")
    pg.execute(f"ALTER TABLE {t} ADD COLUMN b int DEFAULT 7")
    pg.execute(f"INSERT INTO {t} VALUES (2, 'two', 2)")
    pg.execute(f"ALTER TABLE {t} RENAME COLUMN b TO c")
    pg.execute(f"INSERT INTO {t} VALUES (3, 'three', 3)")
    pg.execute(f"ALTER TABLE {t} ALTER COLUMN c TYPE bigint")
    pg.execute(f"INSERT INTO {t} VALUES (4, 'four', 4000000000)")
    pg.execute(f"ALTER TABLE {t} DROP COLUMN a")
    pg.execute(f"INSERT INTO {t} VALUES (5, 5)")
    with pg.conn() as conn:  # DDL between row changes of one transaction
        conn.autocommit = False
        cur = conn.cursor()
        cur.execute(f"INSERT INTO {t} VALUES (6, 6)")
        cur.execute(f"ALTER TABLE {t} ADD COLUMN d varchar(20)")
        cur.execute(f"INSERT INTO {t} VALUES (7, 7, 'x')")
        conn.commit()
    pg.execute(f"DROP TABLE {t}")

    ddl = wait_for(lambda: ddl_events(p), 7, p)
    assert len(ddl) == 7, [unwrap(e)["ddl"] for e in ddl]
    rows = p.wait_events(p.topic("public", unique_name), 7)

    # one stream (stdout sink), in emission order: DDL events between the rows
    seq = wait_for(lambda: stdout_records(p), 14, p)
    kinds = ["ddl" if "tableChanges" in unwrap(v) else unwrap(v)["after"]["id"] for v in seq]
    assert kinds == ["ddl", 1, "ddl", 2, "ddl", 3, "ddl", 4, "ddl", 5, 6, "ddl", 7, "ddl"]
    # (a message's LSN is where its WAL record ends, so the row change right
    # after a DDL in the same transaction may carry the same lsn)
    lsns = [unwrap(v)["source"]["lsn"] for v in seq]
    assert lsns == sorted(lsns), str(list(zip(kinds, lsns)))

    payloads = [unwrap(e) for e in ddl]
    assert [d["ddl"].split(f"{t} ")[1].split()[0:2] for d in payloads[1:6]] == [
        ["ADD", "COLUMN"], ["RENAME", "COLUMN"], ["ALTER", "COLUMN"], ["DROP", "COLUMN"],
        ["ADD", "COLUMN"]]
    assert [c["type"] for d in payloads for c in d["tableChanges"]] == [
        "CREATE", "ALTER", "ALTER", "ALTER", "ALTER", "ALTER", "DROP"]
    for d in payloads:
        assert list(d) == VALUE_ORDER
        assert d["databaseName"] == pg.dbname and d["schemaName"] == "public"
        assert d["source"]["table"] == unique_name and d["source"]["connector"] == "postgresql"
        assert d["ts_ms"] == d["source"]["ts_ms"]
        (change,) = d["tableChanges"]
        assert change["id"] == f'"{pg.dbname}"."public"."{unique_name}"'
    create, add, rename, retype, drop_col, add_d, drop_table = payloads
    assert list(columns(create["tableChanges"][0])) == ["id", "a"]
    id_col = columns(create["tableChanges"][0])["id"]
    assert list(id_col) == COLUMN_ORDER
    assert (id_col["typeName"], id_col["jdbcType"], id_col["nativeType"], id_col["position"],
            id_col["optional"]) == ("int4", 4, 23, 1, False)
    assert create["tableChanges"][0]["table"]["primaryKeyColumnNames"] == ["id"]
    b = columns(add["tableChanges"][0])["b"]
    assert (b["position"], b["optional"], b["defaultValueExpression"]) == (3, True, "7")
    assert list(columns(rename["tableChanges"][0])) == ["id", "a", "c"]
    c = columns(retype["tableChanges"][0])["c"]
    assert (c["typeName"], c["jdbcType"], c["nativeType"]) == ("int8", -5, 20)
    assert list(columns(drop_col["tableChanges"][0])) == ["id", "c"]
    assert columns(drop_col["tableChanges"][0])["c"]["position"] == 2
    d = columns(add_d["tableChanges"][0])["d"]
    assert (d["typeName"], d["jdbcType"], d["length"]) == ("varchar", 12, 20)
    assert drop_table["tableChanges"][0]["table"] is None
    assert drop_table["ddl"].startswith("DROP TABLE")

    # the DDL inside the transaction shares it with the rows around it
    tx = [unwrap(v)["source"]["txId"] for v in seq[10:13]]
    assert tx[0] == tx[1] == tx[2]

    # the row events after each DDL carry the new schema
    afters = [unwrap(e)["after"] for e in rows]
    assert afters[0] == {"id": 1, "a": "one"}
    assert afters[1] == {"id": 2, "a": "two", "b": 2}
    assert afters[2] == {"id": 3, "a": "three", "c": 3}
    assert afters[3] == {"id": 4, "a": "four", "c": 4000000000}
    assert afters[4] == {"id": 5, "c": 5} and afters[5] == {"id": 6, "c": 6}
    assert afters[6] == {"id": 7, "c": 7, "d": "x"}
    schemas = [row_schema(e) for e in rows]
    assert schemas[0] == {"id": "int32", "a": "string"}
    assert schemas[1] == {"id": "int32", "a": "string", "b": "int32"}
    assert schemas[2] == {"id": "int32", "a": "string", "c": "int32"}
    assert schemas[3] == {"id": "int32", "a": "string", "c": "int64"}
    assert schemas[4] == schemas[5] == {"id": "int32", "c": "int64"}
    assert schemas[6] == {"id": "int32", "c": "int64", "d": "string"}

    # a clean restart emits nothing twice
    assert p.stop() == 0
    p.start()
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    again = [unwrap(e) for e in wait_for(lambda: ddl_events(p), 8, p)]
    time.sleep(0.5)
    assert len(ddl_events(p)) == 8
    assert again[7]["tableChanges"][0]["type"] == "CREATE"
    assert [e["ddl"] for e in again[:7]] == [e["ddl"] for e in payloads]


def test_ddl_in_streamed_transaction_and_while_stopped(ddl_pg, pgcdc, unique_name):
    """A DDL in the middle of a transaction large enough for PostgreSQL to
    stream it before commit, and DDL made while pgcdc is down, keep their
    places among the rows."""
    pg = ddl_pg
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, pad text)")
    p = pgcdc(pg, tables=t, **{"schema.changes": True, "sink.type": "file,stdout"})
    p.start()
    with pg.conn() as conn:  # far above the rig's logical_decoding_work_mem (64kB)
        conn.autocommit = False
        cur = conn.cursor()
        cur.execute(f"INSERT INTO {t} SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g")
        cur.execute(f"ALTER TABLE {t} ADD COLUMN n numeric(8,3)")
        cur.execute(f"INSERT INTO {t} SELECT g, 'y', g / 8.0 FROM generate_series(2001, 4000) g")
        conn.commit()
    wait_for(lambda: stdout_records(p), 4001, p)
    assert p.stop() == 0
    assert "streaming in-progress transactions" in p.log_text()

    pg.execute(f"ALTER TABLE {t} DROP COLUMN pad")
    pg.execute(f"INSERT INTO {t} VALUES (4001, 1.5)")
    p.start()
    seq = wait_for(lambda: stdout_records(p), 4003, p)
    kinds = ["ddl" if "tableChanges" in unwrap(v) else unwrap(v)["after"]["id"] for v in seq]
    assert kinds == list(range(1, 2001)) + ["ddl"] + list(range(2001, 4001)) + ["ddl", 4001]
    add, drop = unwrap(seq[2000]), unwrap(seq[4001])
    n = columns(add["tableChanges"][0])["n"]
    assert (n["jdbcType"], n["length"], n["scale"]) == (2, 8, 3)
    assert unwrap(seq[2001])["source"]["txId"] == unwrap(seq[1999])["source"]["txId"]
    assert list(columns(drop["tableChanges"][0])) == ["id", "n"]
    assert unwrap(seq[4002])["after"] == {"id": 4001, "n": "Bdw="}  # 1500 scale 3: 0x05dc


def test_filters_and_schemas_off(ddl_pg, pgcdc, unique_name):
    """Only DDL on captured tables is emitted, excluded columns are left out,
    and with schemas disabled key and value are bare payloads."""
    pg = ddl_pg
    t, other = f"public.{unique_name}", f"public.{unique_name}_other"
    p = pgcdc(pg, tables=t, **{"schema.changes": True,
                               "column.exclude.list": f"public\\.{unique_name}\\.secret",
                               "key.converter.schemas.enable": False,
                               "value.converter.schemas.enable": False})
    p.start()
    pg.execute(f"CREATE TABLE {other} (id int PRIMARY KEY)")
    pg.execute(f"CREATE FUNCTION {unique_name}_f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    pg.execute(f"CREATE TABLE {t} (id bigserial PRIMARY KEY, secret text, "
               f"ts timestamptz(3) NOT NULL DEFAULT now())")
    pg.execute(f"COMMENT ON COLUMN {t}.ts IS 'when'")
    pg.execute(f"CREATE INDEX ON {t} (ts)")
    pg.execute(f"DROP TABLE {other}")
    pg.execute(f"INSERT INTO {t} (secret) VALUES ('pw')")
    p.wait_events(p.topic("public", unique_name), 1)
    events = wait_for(lambda: ddl_events(p), 3, p)
    time.sleep(0.5)
    events = ddl_events(p)
    assert [e["ddl"].split()[0:2] for e in events] == [["CREATE", "TABLE"], ["COMMENT", "ON"],
                                                       ["CREATE", "INDEX"]]
    assert list(events[0]) == VALUE_ORDER  # bare payload
    cols = columns(events[1]["tableChanges"][0])
    assert list(cols) == ["id", "ts"]
    assert (cols["id"]["typeName"], cols["id"]["autoIncremented"]) == ("bigserial", True)
    assert (cols["ts"]["comment"], cols["ts"]["length"], cols["ts"]["scale"],
            cols["ts"]["optional"]) == ("when", 32, 3, False)
    assert cols["ts"]["position"] == 3  # positions count the excluded column
    row = unwrap(p.events(p.topic("public", unique_name))[0])
    assert set(row["after"]) == {"id", "ts"}


def test_privileges_manual_install_and_removal(ddl_pg, pgcdc, pgcdc_bin, unique_name):
    """Without superuser pgcdc installs nothing: it stops with an error naming
    the key and the SQL to run; after a superuser ran `pgcdc ddl-sql` it
    works, DDL by an ordinary user is captured, and --drop removes it."""
    pg = ddl_pg
    role, t = f"{unique_name}_u", f"public.{unique_name}"
    pg.execute(ddl_sql(pgcdc_bin, "--drop"))
    pg.execute(f"CREATE ROLE {role} LOGIN REPLICATION")
    pg.execute(f"GRANT CREATE ON SCHEMA public TO {role}")
    p = pgcdc(pg, tables=t, **{"schema.changes": True, "database.user": role,
                               "publication.autocreate.mode": "disabled"})
    pg.execute(f'CREATE PUBLICATION "{p.publication}" FOR ALL TABLES')

    check = p.run_cmd("check")
    assert check.returncode == 1
    assert "schema changes: PROBLEM" in check.stdout and "pgcdc ddl-sql" in check.stdout

    p.start(wait=False)
    assert p.wait_exit() == 1
    log = p.log_text()
    assert "schema.changes=true needs pgcdc's DDL event trigger" in log
    assert f"user {role} may not install it" in log and "pgcdc ddl-sql" in log
    assert pg.scalar("SELECT count(*) FROM pg_event_trigger") == 0  # nothing installed
    assert pg.scalar("SELECT to_regprocedure('public.pgcdc_emit_ddl()')") is None

    pg.execute(ddl_sql(pgcdc_bin))  # what the superuser runs
    assert "schema changes: ok" in p.run_cmd("check").stdout
    p.start()
    assert "are installed in database" in p.log_text()
    with pg.conn(user=role) as conn:
        conn.cursor().execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    (ev,) = wait_for(lambda: ddl_events(p), 1, p)
    assert unwrap(ev)["tableChanges"][0]["type"] == "CREATE"
    assert p.stop() == 0

    # with schema.changes off, the trigger's messages are ordinary messages
    p.set(**{"schema.changes": False})
    assert "schema changes: off, but" in p.run_cmd("check").stdout
    p.start()
    pg.execute(f"ALTER TABLE {t} ADD COLUMN v int")
    (m,) = wait_for(lambda: p.events(f"{p.topic_prefix}.message"), 1, p)
    assert unwrap(m)["op"] == "m" and unwrap(m)["message"]["prefix"] == "pgcdc.ddl"
    assert p.stop() == 0

    pg.execute(ddl_sql(pgcdc_bin, "--drop"))
    assert pg.scalar("SELECT count(*) FROM pg_event_trigger") == 0
    assert pg.scalar("SELECT to_regprocedure('public.pgcdc_emit_ddl()')") is None


def test_docs_show_the_exact_sql(pgcdc_bin):
    """docs/SCHEMA_CHANGES.md quotes `pgcdc ddl-sql` and `pgcdc ddl-sql --drop` verbatim."""
    doc = (REPO_ROOT / "docs" / "SCHEMA_CHANGES.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", doc, re.S)
    assert ddl_sql(pgcdc_bin) in blocks, "docs/SCHEMA_CHANGES.md: install SQL is stale"
    assert ddl_sql(pgcdc_bin, "--drop") in blocks, "docs/SCHEMA_CHANGES.md: removal SQL is stale"
