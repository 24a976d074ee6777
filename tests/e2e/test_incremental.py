"""Incremental snapshots through Debezium's signal table (DBLog watermarks):
tables read in primary-key chunks while streaming goes on, resumable after a
crash, steered by execute/stop/pause/resume signals."""

from __future__ import annotations

import json
import time

from conftest import unwrap
from test_snapshot import Churn, apply, table_state, wait_state


def make_signal_table(pg, name):
    pg.execute(f"CREATE TABLE {name} (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, "
               "data varchar(2048) NULL)")


def signal(pg, table, sig_id, sig_type, data=None):
    pg.execute(f"INSERT INTO {table} (id, type, data) VALUES (%s, %s, %s)",
               (sig_id, sig_type, None if data is None else json.dumps(data)))


def wait_log(p, pattern, timeout=120):
    return p.wait_log(pattern, timeout=timeout)


def reads(events):
    return [unwrap(e) for e in events if unwrap(e) and unwrap(e)["op"] == "r"]


def wait_reads(p, topic, n, timeout=60):
    """The topic's read events once there are n: the completion log line can
    come before the sink has written the last chunk."""
    deadline = time.time() + timeout
    while len(r := reads(p.events(topic))) < n and time.time() < deadline:
        time.sleep(0.1)
    return r


def test_incremental_snapshot_during_writes(pg, pgcdc, unique_name):
    t, sig = f"public.{unique_name}", f"public.{unique_name}_signal"
    rows = 20000
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v int)")
    pg.execute(f"INSERT INTO {t} SELECT g, g FROM generate_series(1, {rows}) g")
    make_signal_table(pg, sig)
    p = pgcdc(tables=f"{t},{sig}")
    p.set(**{"signal.data.collection": sig, "incremental.snapshot.chunk.size": 700,
             "publication.autocreate.mode": "filtered", "value.converter.schemas.enable": False})
    p.start()
    topic = p.topic("public", unique_name)
    churn = Churn(pg, t, rows + 1)
    churn.start()
    time.sleep(0.5)
    signal(pg, sig, "ad-hoc-1", "execute-snapshot",
           {"data-collections": [t], "type": "incremental"})
    wait_log(p, r"incremental snapshot complete")
    churn.stop_flag.set()
    churn.join()
    assert churn.error is None, churn.error
    assert churn.ops > 50
    wait_state(p, topic, pg, t)
    ev = p.payloads(topic)
    r = reads(ev)
    # every read is marked incremental; rows deleted meanwhile are not all read
    assert r and all(e["source"]["snapshot"] == "incremental" for e in r)
    assert len(r) <= rows + churn.ops
    assert any(e["op"] != "r" for e in ev)
    off = p.offsets()
    assert off["incremental"]["tables"] == []
    assert off["incremental"]["rows"] == len(r)
    # the watermarks went through the signal table, which is captured here
    sig_events = p.payloads(p.topic("public", f"{unique_name}_signal"))
    types = {e["after"]["type"] for e in sig_events if e["op"] == "c"}
    assert {"execute-snapshot", "snapshot-window-open", "snapshot-window-close"} <= types


def test_incremental_snapshot_resumes_after_kill_9(pg, pgcdc, unique_name):
    t, sig = f"public.{unique_name}", f"public.{unique_name}_signal"
    rows = 150000
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v int)")
    pg.execute(f"INSERT INTO {t} SELECT g, g FROM generate_series(1, {rows}) g")
    make_signal_table(pg, sig)
    p = pgcdc(tables=t)
    # a small queue and chunk make the snapshot wait on the file sink's fsyncs
    p.set(**{"signal.data.collection": sig, "incremental.snapshot.chunk.size": 500,
             "max.queue.size.in.bytes": 65536, "max.batch.size": 200,
             "value.converter.schemas.enable": False})
    p.start()
    topic = p.topic("public", unique_name)
    churn = Churn(pg, t, rows + 1)
    churn.start()
    signal(pg, sig, "resume-test", "execute-snapshot", {"data-collections": [t]})
    deadline = time.time() + 120
    while time.time() < deadline:
        off = p.offsets() or {}
        inc = off.get("incremental") or {}
        if inc.get("last_key") and int(inc["last_key"][0]) > rows // 5:
            break
        time.sleep(0.05)
    p.kill()
    off = p.offsets()
    assert off["incremental"]["tables"], "the incremental snapshot finished before the kill"
    acked_key = int(off["incremental"]["last_key"][0])
    lines_at_kill = p.line_count(topic)
    p.start()
    wait_log(p, r"resuming the incremental snapshot of " + t)
    wait_log(p, r"incremental snapshot complete", timeout=240)
    # pgcdc status shows the table among the incremental copies
    deadline = time.time() + 10
    while True:
        r = p.run_cmd("status", "--data-dir", str(p.data_dir), "--json")
        st = json.loads(r.stdout)
        entries = [e for e in (st.get("status") or {}).get("tables", [])
                   if e.get("kind") == "incremental"]
        if entries and entries[0].get("done") or time.time() > deadline:
            break
        time.sleep(0.5)
    assert entries and entries[0]["table"] == unique_name, r.stdout
    assert entries[0]["rows_done"] > 0 and entries[0]["done"], r.stdout
    assert st["offsets"]["incremental"]["tables"] == [], r.stdout
    r = p.run_cmd("status", "--data-dir", str(p.data_dir))
    assert "incremental" in r.stdout, r.stdout
    churn.stop_flag.set()
    churn.join()
    assert churn.error is None, churn.error
    wait_state(p, topic, pg, t, timeout=180)
    # the restarted process read on from the acknowledged chunk, not from the start
    after = [json.loads(line) for line in
             p.topic_path(topic).read_text().splitlines()[lines_at_kill:]]
    r_after = reads(after)
    assert r_after
    assert min(e["after"]["id"] for e in r_after) > acked_key
    assert len(reads(p.events(topic))) < rows * 1.5


def test_signals_conditions_pause_resume_stop(pg, pgcdc, unique_name):
    a, b, nopk = (f"public.{unique_name}_{x}" for x in ("a", "b", "nopk"))
    sig = f"public.{unique_name}_signal"
    pg.execute(f"CREATE TABLE {a} (id int PRIMARY KEY, v int)")
    pg.execute(f"INSERT INTO {a} SELECT g, g FROM generate_series(1, 300) g")
    # a composite key, in a column order different from the table's
    pg.execute(f"CREATE TABLE {b} (v text, k2 int, k1 int, PRIMARY KEY (k1, k2))")
    pg.execute(f"INSERT INTO {b} SELECT 'x' || g, g % 7, g / 7 FROM generate_series(1, 250) g")
    pg.execute(f"CREATE TABLE {nopk} (v int)")
    make_signal_table(pg, sig)
    p = pgcdc(tables=f"public\\.{unique_name}_(a|b|nopk)")
    p.set(**{"signal.data.collection": sig, "incremental.snapshot.chunk.size": 40,
             "incremental.snapshot.watermarking.strategy": "insert_delete",
             "value.converter.schemas.enable": False})
    p.start()
    ta, tb = p.topic("public", f"{unique_name}_a"), p.topic("public", f"{unique_name}_b")
    # malformed and unknown requests are reported and change nothing
    signal(pg, sig, "s0", "execute-snapshot", {"type": "incremental"})
    signal(pg, sig, "s1", "execute-snapshot", {"data-collections": ["public.nosuch"]})
    signal(pg, sig, "s2", "execute-snapshot", {"data-collections": [nopk]})
    signal(pg, sig, "s3", "no-such-signal")
    wait_log(p, r"no primary key")
    log = p.log_text()
    assert "s0: execute-snapshot needs data" in log
    assert "no captured table matches 'public.nosuch'" in log
    assert "unknown signal type 'no-such-signal'" in log
    # paused before it starts: nothing is read until resumed
    signal(pg, sig, "s4", "pause-snapshot")
    signal(pg, sig, "s5", "execute-snapshot", {
        "data-collections": [a, b],
        "additional-conditions": [{"data-collection": a, "filter": "v % 2 = 0"}]})
    wait_log(p, r"s5: incremental snapshot of")
    time.sleep(2)
    assert p.line_count(ta) == 0
    assert p.offsets()["incremental"]["paused"] is True
    signal(pg, sig, "s6", "resume-snapshot")
    wait_log(p, r"incremental snapshot complete")
    ra = wait_reads(p, ta, 150)
    assert sorted(e["after"]["id"] for e in ra) == list(range(2, 301, 2))
    rb = wait_reads(p, tb, 250)
    assert len(rb) == 250
    assert [(e["after"]["k1"], e["after"]["k2"]) for e in rb] == sorted(
        (e["after"]["k1"], e["after"]["k2"]) for e in rb)
    assert apply(p.events(ta)) == {k: v for k, v in table_state(pg, a).items() if k % 2 == 0}
    # insert_delete: the open watermarks were removed again
    assert pg.query(f"SELECT count(*) FROM {sig} WHERE type LIKE 'snapshot-window-%%'")[0][0] == 0
    # a stop in the same transaction as the request: nothing more is read
    n = p.line_count(ta)
    pg.execute(f"BEGIN; INSERT INTO {sig} VALUES ('s7', 'execute-snapshot', "
               f"'{{\"data-collections\": [\"{a}\"]}}'); INSERT INTO {sig} VALUES "
               f"('s8', 'stop-snapshot', '{{\"data-collections\": [\"{a}\"]}}'); COMMIT")
    wait_log(p, r"s8: stop-snapshot: " + a)
    pg.execute(f"INSERT INTO {a} VALUES (1000, 1)")
    ev = p.wait_events(ta, n + 1)
    assert unwrap(ev[-1])["op"] == "c" and len(ev) == n + 1


def test_signal_table_errors(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    p = pgcdc(tables=t)
    p.set(**{"signal.data.collection": f"public.{unique_name}_nosuch"})
    p.start(wait=False)
    assert p.wait_exit() != 0
    assert f"public.{unique_name}_nosuch does not exist; create it: CREATE TABLE" in p.log_text()
    assert not pg.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (p.slot,))
    # a signal table outside a hand-made publication
    sig = f"public.{unique_name}_signal"
    make_signal_table(pg, sig)
    pg.execute(f"DROP PUBLICATION IF EXISTS {p.publication}")
    pg.execute(f"CREATE PUBLICATION {p.publication} FOR TABLE {t}")
    p.set(**{"signal.data.collection": sig, "publication.autocreate.mode": "disabled"})
    p.start(wait=False)
    assert p.wait_exit() != 0
    assert f"is not in publication {p.publication}" in p.log_text()
    assert f'ALTER PUBLICATION "{p.publication}" ADD TABLE "public".' in p.log_text()
    # malformed key value
    p.set(**{"signal.data.collection": "nodot"})
    p.start(wait=False)
    assert p.wait_exit() != 0
    assert "signal.data.collection" in p.log_text() and "schema.table" in p.log_text()
