"""Row events against a real PostgreSQL: operations, envelopes, schemas on/off,
replica identity, schema changes mid-stream, truncate, logical messages."""

from __future__ import annotations

import base64
import json
import time

from conftest import unwrap

PAYLOAD_ORDER = ["before", "after", "source", "transaction", "op", "ts_ms", "ts_us", "ts_ns"]
SOURCE_ORDER = ["version", "connector", "name", "ts_ms", "snapshot", "db", "sequence", "ts_us",
                "ts_ns", "schema", "table", "txId", "lsn", "xmin"]


def setup_table(pg, name, ddl):
    pg.execute(f"DROP TABLE IF EXISTS {name}")
    pg.execute(f"CREATE TABLE {name} ({ddl})")


def test_insert_update_delete_with_schemas(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    setup_table(pg, t, "id int PRIMARY KEY, name text NOT NULL, score int")
    p = pgcdc(tables=t).start()
    pg.execute(f"INSERT INTO {t} VALUES (1, 'alice', 10)")
    pg.execute(f"UPDATE {t} SET score = 11 WHERE id = 1")
    pg.execute(f"DELETE FROM {t} WHERE id = 1")
    topic = p.topic("public", unique_name)
    events = p.wait_events(topic, 3, exact=True)  # tombstones are not written to files

    for e in events:
        assert list(e.keys()) == ["schema", "payload"]
        assert list(e["payload"].keys()) == PAYLOAD_ORDER
        assert list(e["payload"]["source"].keys()) == SOURCE_ORDER
    c, u, d = (e["payload"] for e in events)
    assert c["op"] == "c" and c["before"] is None
    assert c["after"] == {"id": 1, "name": "alice", "score": 10}
    assert u["op"] == "u" and u["before"] is None  # REPLICA IDENTITY DEFAULT
    assert u["after"] == {"id": 1, "name": "alice", "score": 11}
    assert d["op"] == "d" and d["after"] is None
    # REPLICA IDENTITY DEFAULT: only the key is sent; the NOT NULL column gets
    # its type's zero value, as in Debezium (docs/COMPATIBILITY.md, "Types")
    assert d["before"] == {"id": 1, "name": "", "score": None}

    src = c["source"]
    assert src["connector"] == "postgresql"
    assert src["name"] == p.topic_prefix
    assert src["db"] == pg.dbname
    assert src["schema"] == "public" and src["table"] == unique_name
    assert src["snapshot"] == "false"
    assert isinstance(src["txId"], int) and isinstance(src["lsn"], int)
    assert src["ts_us"] // 1000 == src["ts_ms"] and src["ts_ns"] == src["ts_us"] * 1000
    seq = json.loads(src["sequence"])
    assert len(seq) == 2 and seq[1] == str(src["lsn"])
    assert c["source"]["txId"] != u["source"]["txId"]
    assert c["source"]["lsn"] < u["source"]["lsn"] < d["source"]["lsn"]

    schema = events[0]["schema"]
    assert schema["name"] == f"{topic}.Envelope"
    fields = {f["field"]: f for f in schema["fields"]}
    assert list(fields) == PAYLOAD_ORDER
    after = fields["after"]
    assert after["name"] == f"{topic}.Value" and after["optional"] is True
    assert after["fields"] == [
        {"type": "int32", "optional": False, "field": "id"},
        {"type": "string", "optional": False, "field": "name"},
        {"type": "int32", "optional": True, "field": "score"},
    ]
    assert fields["source"]["name"] == "io.debezium.connector.postgresql.Source"


def test_schemas_disabled_and_debezium_json_config(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    setup_table(pg, t, "id bigint PRIMARY KEY, v text")
    p = pgcdc(tables=t)
    p.set(**{"key.converter.schemas.enable": False, "value.converter.schemas.enable": False,
             "key.converter": "org.apache.kafka.connect.json.JsonConverter",
             "value.converter": "org.apache.kafka.connect.json.JsonConverter",
             "plugin.name": "pgoutput", "tasks.max": 1})
    p.start(config_path=p.write_json_config())
    pg.execute(f"INSERT INTO {t} VALUES (7, 'x')")
    ev = p.wait_events(p.topic("public", unique_name), 1)
    assert list(ev[0].keys()) == PAYLOAD_ORDER  # bare payload, no envelope
    assert ev[0]["after"] == {"id": 7, "v": "x"}


def test_replica_identity_full_gives_before(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    setup_table(pg, t, "id int PRIMARY KEY, a text, b int")
    pg.execute(f"ALTER TABLE {t} REPLICA IDENTITY FULL")
    p = pgcdc(tables=t).start()
    pg.execute(f"INSERT INTO {t} VALUES (1, 'x', 1)")
    pg.execute(f"UPDATE {t} SET a = 'y' WHERE id = 1")
    pg.execute(f"DELETE FROM {t} WHERE id = 1")
    _, u, d = (unwrap(e) for e in p.wait_events(p.topic("public", unique_name), 3))
    assert u["before"] == {"id": 1, "a": "x", "b": 1}
    assert u["after"] == {"id": 1, "a": "y", "b": 1}
    assert d["before"] == {"id": 1, "a": "y", "b": 1}


def test_primary_key_change_is_delete_then_create(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    setup_table(pg, t, "id int PRIMARY KEY, v text")
    p = pgcdc(tables=t).start()
    pg.execute(f"INSERT INTO {t} VALUES (1, 'a')")
    pg.execute(f"UPDATE {t} SET id = 2 WHERE id = 1")
    ev = p.wait_events(p.topic("public", unique_name), 3, exact=True)
    ops = [unwrap(e)["op"] for e in ev]
    assert ops == ["c", "d", "c"]
    assert unwrap(ev[1])["before"]["id"] == 1
    assert unwrap(ev[2])["after"] == {"id": 2, "v": "a"}


def test_alter_table_mid_stream(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    setup_table(pg, t, "id int PRIMARY KEY, a text")
    p = pgcdc(tables=t).start()
    topic = p.topic("public", unique_name)
    pg.execute(f"INSERT INTO {t} VALUES (1, 'one')")
    pg.execute(f"ALTER TABLE {t} ADD COLUMN b numeric(5,1) DEFAULT 2.5")
    pg.execute(f"INSERT INTO {t} VALUES (2, 'two', 3.5)")
    pg.execute(f"ALTER TABLE {t} DROP COLUMN a")
    pg.execute(f"INSERT INTO {t} VALUES (3, 4.5)")
    ev = p.wait_events(topic, 3)
    afters = [unwrap(e)["after"] for e in ev]
    assert afters[0] == {"id": 1, "a": "one"}
    assert afters[1]["id"] == 2 and afters[1]["a"] == "two" and "b" in afters[1]
    assert set(afters[2]) == {"id", "b"}
    # numeric(5,1) in precise mode: Kafka Connect Decimal, scale 1, 45 -> 0x2d
    assert base64.b64decode(afters[2]["b"]) == bytes([45])
    names = [f["field"] for f in ev[2]["schema"]["fields"][1]["fields"]]
    assert names == ["id", "b"]


def test_truncate_and_messages(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    setup_table(pg, t, "id int PRIMARY KEY")
    p = pgcdc(tables=t)
    p.set(**{"skipped.operations": "none"})
    p.start()
    pg.execute(f"INSERT INTO {t} VALUES (1)")
    pg.execute(f"TRUNCATE {t}")
    pg.execute("SELECT pg_logical_emit_message(true, 'audit', 'hello')")
    pg.execute("SELECT pg_logical_emit_message(false, 'audit', 'x')")
    ev = p.wait_events(p.topic("public", unique_name), 2)
    assert [unwrap(e)["op"] for e in ev] == ["c", "t"]
    assert unwrap(ev[1])["before"] is None and unwrap(ev[1])["after"] is None
    msgs = p.wait_events(f"{p.topic_prefix}.message", 2)
    m = unwrap(msgs[0])
    assert m["op"] == "m"
    assert m["message"]["prefix"] == "audit"
    assert base64.b64decode(m["message"]["content"]) == b"hello"


def test_truncate_skipped_by_default(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    setup_table(pg, t, "id int PRIMARY KEY")
    p = pgcdc(tables=t).start()
    pg.execute(f"INSERT INTO {t} VALUES (1)")
    pg.execute(f"TRUNCATE {t}")
    pg.execute(f"INSERT INTO {t} VALUES (2)")
    ev = p.wait_events(p.topic("public", unique_name), 2, exact=True)
    assert [unwrap(e)["op"] for e in ev] == ["c", "c"]


def test_filters_tables_and_columns(pg, pgcdc, unique_name):
    a, b = f"public.{unique_name}_a", f"public.{unique_name}_b"
    setup_table(pg, a, "id int PRIMARY KEY, secret text, v int")
    setup_table(pg, b, "id int PRIMARY KEY")
    p = pgcdc(tables=a)
    p.set(**{"column.exclude.list": f"public\\.{unique_name}_a\\.secret"})
    p.start()
    pg.execute(f"INSERT INTO {b} VALUES (1)")
    pg.execute(f"INSERT INTO {a} VALUES (1, 'pw', 5)")
    ev = p.wait_events(p.topic("public", f"{unique_name}_a"), 1)
    assert unwrap(ev[0])["after"] == {"id": 1, "v": 5}
    assert p.events(p.topic("public", f"{unique_name}_b")) == []


def test_table_without_primary_key_has_events(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    setup_table(pg, t, "a int, b text")
    pg.execute(f"ALTER TABLE {t} REPLICA IDENTITY FULL")
    p = pgcdc(tables=t).start()
    pg.execute(f"INSERT INTO {t} VALUES (1, 'x')")
    pg.execute(f"DELETE FROM {t}")
    ev = p.wait_events(p.topic("public", unique_name), 2)
    assert unwrap(ev[1])["before"] == {"a": 1, "b": "x"}


def test_multi_statement_transaction_order(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    setup_table(pg, t, "id int PRIMARY KEY, v int")
    p = pgcdc(tables=t).start()
    with pg.conn() as conn:
        conn.autocommit = False
        cur = conn.cursor()
        for i in range(50):
            cur.execute(f"INSERT INTO {t} VALUES (%s, %s)", (i, i))
        cur.execute(f"UPDATE {t} SET v = v + 1")
        conn.commit()
    ev = p.wait_events(p.topic("public", unique_name), 100)
    pl = [unwrap(e) for e in ev]
    assert [x["after"]["id"] for x in pl[:50]] == list(range(50))
    assert all(x["op"] == "u" for x in pl[50:])
    assert len({x["source"]["txId"] for x in pl}) == 1


def test_transaction_metadata(pg, pgcdc, unique_name):
    a, b = f"public.{unique_name}_a", f"public.{unique_name}_b"
    setup_table(pg, a, "id int PRIMARY KEY, v int")
    setup_table(pg, b, "id int PRIMARY KEY, v int")
    p = pgcdc(tables=f"{a},{b}", **{"provide.transaction.metadata": True}).start()
    with pg.conn() as conn:
        conn.autocommit = False
        cur = conn.cursor()
        cur.execute(f"INSERT INTO {a} VALUES (1, 1), (2, 2)")
        cur.execute(f"INSERT INTO {b} VALUES (1, 1)")
        cur.execute(f"UPDATE {a} SET v = 3 WHERE id = 2")
        conn.commit()
    pg.execute(f"INSERT INTO {b} VALUES (2, 2)")
    ta, tb = p.topic("public", f"{unique_name}_a"), p.topic("public", f"{unique_name}_b")
    boundaries = [unwrap(e) for e in p.wait_events(f"{p.topic_prefix}.transaction", 4)]
    ea = [unwrap(e) for e in p.wait_events(ta, 3)]
    eb = [unwrap(e) for e in p.wait_events(tb, 2)]
    begin, end = boundaries[0], boundaries[1]
    xid = ea[0]["source"]["txId"]
    assert begin["status"] == "BEGIN" and begin["event_count"] is None
    assert begin["id"].startswith(f"{xid}:") and end["id"] == begin["id"]
    assert end["status"] == "END" and end["event_count"] == 4
    assert sorted((c["data_collection"], c["event_count"]) for c in end["data_collections"]) == [
        (f"public.{unique_name}_a", 3), (f"public.{unique_name}_b", 1)]
    assert [(e["transaction"]["total_order"], e["transaction"]["data_collection_order"])
            for e in ea] == [(1, 1), (2, 2), (4, 3)]
    assert eb[0]["transaction"] == {"id": begin["id"], "total_order": 3,
                                    "data_collection_order": 1}
    # the next transaction has its own id and counts from 1
    assert boundaries[2]["status"] == "BEGIN" and boundaries[2]["id"] != begin["id"]
    assert eb[1]["transaction"]["total_order"] == 1
    assert boundaries[3]["event_count"] == 1
    # with schemas, the envelope declares the block and the boundary records their schema
    assert p.events(ta)[0]["schema"]["fields"][3]["name"] == "event.block"
    assert (p.events(f"{p.topic_prefix}.transaction")[0]["schema"]["name"]
            == "io.debezium.connector.common.TransactionMetadataValue")


def test_regex_router_renames_topics(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    setup_table(pg, t, "id int PRIMARY KEY")
    p = pgcdc(tables=t, **{
        "transforms": "route",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": r"([^.]+)\.([^.]+)\.([^.]+)",
        "transforms.route.replacement": "routed_$3"})
    p.start(config_path=p.write_json_config())
    pg.execute(f"INSERT INTO {t} VALUES (1)")
    path = p.data_dir / f"routed_{unique_name}.jsonl"
    deadline = time.time() + 30
    while not (path.exists() and path.read_text().endswith("\n")) and time.time() < deadline:
        time.sleep(0.1)
    ev = json.loads(path.read_text().splitlines()[0])
    # only the topic changes: the schema names keep the original topic
    assert ev["schema"]["name"] == f"{p.topic_prefix}.public.{unique_name}.Envelope"
    assert not p.topic_path(p.topic("public", unique_name)).exists()
