"""`pgcdc status` and the progress it reports: the live snapshot progress of a
running process (status.json), offsets, the slot and its lag, and what is
left to say when the process or the database is gone."""

from __future__ import annotations

import json
import time

import pytest


def status(p, *args):
    """Runs `pgcdc status` on p's config and data dir; returns the process."""
    return p.run_cmd("status", "--data-dir", str(p.data_dir), *args)


def status_json(p) -> dict:
    r = status(p, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def wait_status(p, pred, timeout=60, what="status"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = status_json(p)
        if pred(last):
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what} not seen in {timeout}s; last:\n{json.dumps(last, indent=1)}\n"
                         + p.log_summary())


def snapshot_table(doc, table):
    st = doc.get("status") or {}
    for t in st.get("tables", []):
        if t["kind"] == "snapshot" and t["table"] == table:
            return t
    return None


@pytest.mark.parametrize("threads", [1, 2])
def test_status_during_snapshot(pg, pgcdc, unique_name, threads):
    t = f"public.{unique_name}"
    empty = f"public.{unique_name}_empty"
    rows = 300000
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v int)")
    pg.execute(f"INSERT INTO {t} SELECT g, g FROM generate_series(1, {rows}) g")
    pg.execute(f"ANALYZE {t}")
    pg.execute(f"CREATE TABLE {empty} (id int PRIMARY KEY)")
    p = pgcdc(tables=f"public\\.{unique_name}.*")
    # a small queue makes the copy wait for the file sink's fsyncs: slow enough to watch
    p.set(**{"snapshot.mode": "initial", "value.converter.schemas.enable": False,
             "max.batch.size": 100, "max.queue.size.in.bytes": 32768,
             "snapshot.max.threads": threads})
    p.start(wait=False)

    doc = wait_status(p, lambda d: (snapshot_table(d, unique_name) or {}).get("rows_done", 0) > 0,
                      what="snapshot rows in status")
    assert doc["process"]["running"] is True
    assert doc["process"]["pid"] == p.proc.pid
    st = doc["status"]
    assert st["phase"] == "snapshot"
    tab = snapshot_table(doc, unique_name)
    assert tab["schema"] == "public" and tab["state"] in ("copying", "done")
    # reltuples after ANALYZE, scaled to the table's current size
    assert 0.8 * rows <= tab["rows_estimate"] <= 1.2 * rows
    assert tab["percent"] is not None and 0 <= tab["percent"] <= 100
    assert tab["rows_per_s"] >= 0
    # the empty table is known to hold nothing (no pages)
    assert snapshot_table(doc, f"{unique_name}_empty")["rows_estimate"] == 0
    overall = st["overall"]["snapshot"]
    assert overall["tables_total"] == 2
    assert overall["rows_done"] >= tab["rows_done"]
    assert doc["offsets"] is None or doc["offsets"]["snapshot"] == "running"

    text = status(p)
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert "process: running (pid" in out
    assert "phase: snapshot" in out
    assert f"public.{unique_name}: " in out and " of ~" in out
    assert "snapshot: " in out and "tables done" in out

    # stopped in the middle: the file keeps what was done, marked interrupted
    assert p.stop() == 0
    doc = status_json(p)
    assert doc["process"] == {"running": False, "pid": None}
    assert doc["status"]["phase"] == "stopped"
    if doc["offsets"] and doc["offsets"]["snapshot"] != "done":
        assert "(interrupted)" in status(p).stdout
    assert "process: not running" in status(p).stdout


def test_snapshot_progress_logged(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v int)")
    pg.execute(f"INSERT INTO {t} SELECT g, g FROM generate_series(1, 5000) g")
    pg.execute(f"ANALYZE {t}")
    p = pgcdc(tables=t)
    p.set(**{"snapshot.mode": "initial"})
    p.start()
    p.wait_events(p.topic("public", unique_name), 5000)
    log = p.log_text()
    assert f"copying {t} (~5000 rows)" in log
    assert f"{t}: 5000 rows in " in log
    assert "overall 1 of 1 tables done, 5000 rows in " in log


def test_status_while_streaming(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    pg.execute(f"INSERT INTO {t} SELECT generate_series(1, 10)")
    p = pgcdc(tables=t)
    p.set(**{"snapshot.mode": "initial"})
    p.start()
    pg.execute(f"INSERT INTO {t} VALUES (11), (12)")
    p.wait_events(p.topic("public", unique_name), 12)

    doc = wait_status(p, lambda d: d["status"] and d["status"]["phase"] == "streaming"
                      and (d["status"].get("streaming") or {}).get("events_acked", 0) >= 12,
                      what="streaming figures")
    assert doc["process"]["running"] and doc["process"]["pid"] == p.proc.pid
    st = doc["status"]
    assert st["slot"] == p.slot
    assert st["overall"]["snapshot"]["done"] is True
    assert st["overall"]["snapshot"]["rows_done"] == 10
    assert "/" in st["streaming"]["confirmed_lsn"]
    db = doc["database"]
    assert db["reachable"] is True and db["error"] is None
    slot = db["slot"]
    assert slot["name"] == p.slot and slot["exists"] and slot["active"]
    assert isinstance(slot["active_pid"], int)
    assert isinstance(slot["lag_bytes"], int) and slot["lag_bytes"] >= 0
    assert slot["wal_status"] in ("reserved", "extended")
    assert slot["failover"] is None  # PostgreSQL 15 has no failover slots
    assert doc["offsets"]["snapshot"] == "done" and doc["offsets"]["events"] >= 12

    out = status(p).stdout
    assert "phase: streaming" in out
    assert f"slot {p.slot}: exists, active (pid" in out and "lag " in out
    assert "offsets: acknowledged position" in out and "snapshot done" in out
    assert "events: " in out and " acknowledged, " in out

    assert p.stop() == 0
    out = status(p).stdout
    assert "process: not running" in out
    assert "phase: stopped" in out
    assert f"slot {p.slot}: exists, inactive" in out


def test_status_with_database_down(make_pg, pgcdc, unique_name):
    cluster = make_pg()
    t = f"public.{unique_name}"
    cluster.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    p = pgcdc(cluster=cluster, tables=t)
    p.start()
    cluster.execute(f"INSERT INTO {t} VALUES (1), (2), (3)")
    p.wait_events(p.topic("public", unique_name), 3)
    assert p.stop() == 0
    cluster.stop()

    r = status(p)
    assert r.returncode == 0, r.stderr
    assert "database: unreachable" in r.stdout
    assert "offsets: acknowledged position" in r.stdout and "3 events" in r.stdout
    assert "process: not running" in r.stdout
    doc = status_json(p)
    assert doc["database"]["reachable"] is False and doc["database"]["error"]
    assert doc["database"]["slot"] is None
    assert doc["offsets"]["events"] == 3 and doc["offsets"]["slot"] == p.slot
    assert doc["status"]["phase"] == "stopped"


def test_status_usage_and_config_errors(pgcdc, tmp_path):
    p = pgcdc()
    r = p.run_cmd("status", "--help", config=False)
    assert r.returncode == 0 and "Usage: pgcdc status" in r.stdout and "--json" in r.stdout
    r = p.run_cmd("status", "--bogus", config=False)
    assert r.returncode == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("topic.prefix: x\nno.such.key: 1\n")
    r = p.run_cmd("status", "--config", str(bad), config=False)
    assert r.returncode == 1 and "no.such.key" in r.stderr
    # a data directory pgcdc never used: nothing to report, still exit 0
    r = status(p)
    assert r.returncode == 0, r.stderr
    assert "process: not running" in r.stdout and "no status.json" in r.stdout
    assert "offsets: none yet" in r.stdout
