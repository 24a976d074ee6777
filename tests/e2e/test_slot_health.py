"""Long-running safety: heartbeats, WAL not piling up behind the slot, and
clear stops when the slot is invalidated or vanishes."""

from __future__ import annotations

import json
import threading
import time

from test_snapshot import wait_state


def lsn_int(text):
    hi, lo = text.split("/")
    return int(hi, 16) << 32 | int(lo, 16)


def test_heartbeats_and_slot_advance_with_idle_captured_table(pg, pgcdc, unique_name):
    idle, busy = f"public.{unique_name}_idle", f"public.{unique_name}_busy"
    hb = f"public.{unique_name}_hb"
    for t in (idle, busy, hb):
        pg.execute(f"CREATE TABLE {t} (id serial PRIMARY KEY, v text)")
    p = pgcdc(tables=idle)
    p.set(**{"publication.autocreate.mode": "filtered", "heartbeat.interval.ms": 300,
             "heartbeat.action.query": f"INSERT INTO {hb} (v) VALUES ('beat')",
             "status.update.interval.ms": 500})
    p.start()
    stop = threading.Event()

    def write_busy():
        conn = pg.conn()
        cur = conn.cursor()
        while not stop.is_set():
            cur.execute(f"INSERT INTO {busy} (v) SELECT repeat('x', 200) FROM generate_series(1, 50)")
            time.sleep(0.02)
        conn.close()

    w = threading.Thread(target=write_busy, daemon=True)
    w.start()
    try:
        time.sleep(1)
        first = lsn_int(pg.slot(p.slot)["confirmed_flush_lsn"])
        time.sleep(4)
        second = lsn_int(pg.slot(p.slot)["confirmed_flush_lsn"])
    finally:
        stop.set()
        w.join()
    assert second > first, "confirmed_flush_lsn did not advance while only other tables changed"
    hb_file = p.data_dir / f"__debezium-heartbeat.{p.topic_prefix}.jsonl"
    beats = [json.loads(line) for line in hb_file.read_text().splitlines()]
    assert len(beats) >= 3
    assert beats[-1]["schema"]["name"] == "io.debezium.connector.common.Heartbeat"
    assert isinstance(beats[-1]["payload"]["ts_ms"], int)
    assert pg.scalar(f"SELECT count(*) FROM {hb}") >= 3
    assert p.events(p.topic("public", f"{unique_name}_idle")) == []


def test_invalidated_slot_stops_with_clear_error(make_pg, pgcdc, unique_name):
    cluster = make_pg(settings={"max_slot_wal_keep_size": "16MB", "max_wal_size": "32MB",
                                "min_wal_size": "32MB"})
    t = f"public.{unique_name}"
    cluster.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, pad text)")
    p = pgcdc(cluster=cluster, tables=t)
    p.start()
    cluster.execute(f"INSERT INTO {t} VALUES (1, 'x')")
    p.wait_events(p.topic("public", unique_name), 1)
    assert p.stop() == 0
    # a write burst while pgcdc is down, far past max_slot_wal_keep_size
    for i in range(8):
        cluster.execute(f"INSERT INTO {t} SELECT g, repeat(md5(g::text), 40) "
                        f"FROM generate_series({i * 20000 + 2}, {(i + 1) * 20000 + 1}) g")
        cluster.execute("SELECT pg_switch_wal()")
        cluster.execute("CHECKPOINT")
    deadline = time.time() + 30
    while time.time() < deadline and cluster.slot(p.slot)["wal_status"] != "lost":
        cluster.execute("CHECKPOINT")
        time.sleep(0.5)
    assert cluster.slot(p.slot)["wal_status"] == "lost"
    p.start(wait=False)
    assert p.wait_exit(timeout=30) == 1
    log = p.log_text()
    assert "invalidated" in log and "--drop" in log and "when_needed" in log
    # when_needed recovers: a new slot and a fresh copy of the table
    p.set(**{"snapshot.mode": "when_needed", "value.converter.schemas.enable": False})
    p.start()
    wait_state(p, p.topic("public", unique_name), cluster, t, timeout=180)
    assert cluster.slot(p.slot)["wal_status"] != "lost"
    assert "copying the tables again" in p.log_text()
    assert p.stop() == 0


def test_slot_vanishing_while_running_is_fatal(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    p = pgcdc(tables=t).start()
    pg.execute(f"INSERT INTO {t} VALUES (1)")
    p.wait_events(p.topic("public", unique_name), 1)
    pg.drop_slot(p.slot)  # terminates the walsender, then drops the slot
    assert p.wait_exit(timeout=60) == 1
    assert "vanished" in p.log_text() and "when_needed" in p.log_text()
    pg.execute(f"INSERT INTO {t} VALUES (2)")
    p.set(**{"snapshot.mode": "when_needed"})
    p.start()
    wait_state(p, p.topic("public", unique_name), pg, t)
    pg.execute(f"INSERT INTO {t} VALUES (3)")
    wait_state(p, p.topic("public", unique_name), pg, t)


def test_slot_drop_on_stop(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    p = pgcdc(tables=t)
    p.set(**{"slot.drop.on.stop": True})
    p.start()
    pg.execute(f"INSERT INTO {t} VALUES (1)")
    p.wait_events(p.topic("public", unique_name), 1)
    assert p.stop() == 0
    assert pg.slot(p.slot) is None
    assert p.offsets() is None
    p.start()  # a fresh start: new slot, no complaint about missing offsets
    assert pg.slot(p.slot) is not None


def test_slot_failover_on_postgres_15(pg, pgcdc, unique_name):
    """PostgreSQL 15 has no failover slots: slot.failover=true is accepted (Debezium
    configurations carry it), the slot is an ordinary one, and every start says so."""
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    p = pgcdc(tables=t)
    p.set(**{"slot.failover": True})
    r = p.run_cmd("check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "slot.failover: note: PostgreSQL 15." in r.stdout
    p.start()
    warning = "slot.failover=true has no effect: PostgreSQL 15."
    assert warning in p.log_text() and p.slot in p.log_text()
    pg.execute(f"INSERT INTO {t} VALUES (1)")
    p.wait_events(p.topic("public", unique_name), 1)
    assert p.stop() == 0
    # the Debezium connector JSON form, over the existing slot: warned again
    p.start(config_path=p.write_json_config())
    assert p.log_text().count(warning) == 2
    pg.execute(f"INSERT INTO {t} VALUES (2)")
    p.wait_events(p.topic("public", unique_name), 2)
    assert p.stop() == 0
    # the default says nothing about failover
    q = pgcdc(tables=t).start()
    assert "slot.failover" not in q.log_text()
