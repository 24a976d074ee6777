"""The initial snapshot: existing rows as op 'r' events, consistent with the
stream that follows, restartable after a crash."""

from __future__ import annotations

import json
import random
import threading
import time

from conftest import background, unwrap


def apply(events):
    """Replays events by key, as a consumer would: the resulting table."""
    state = {}
    for e in events:
        p = unwrap(e)
        if p is None:
            continue
        if p["op"] in ("r", "c", "u"):
            state[p["after"]["id"]] = p["after"]
        elif p["op"] == "d":
            state.pop(p["before"]["id"], None)
    return state


def table_state(pg, table):
    """The table as {id: row}, rows as JSON objects like the events' after images."""
    rows = [r[0] for r in pg.query(f"SELECT row_to_json(t) FROM {table} t")]
    rows = [json.loads(r) if isinstance(r, str) else r for r in rows]
    return {r["id"]: r for r in rows}


class Churn(threading.Thread):
    """Random inserts, updates and deletes in small transactions."""

    def __init__(self, pg, table, start_id):
        super().__init__(daemon=True)
        background(self)
        self.pg, self.table, self.next_id = pg, table, start_id
        self.stop_flag = threading.Event()
        self.ops = 0
        self.error = None

    def run(self):
        rnd = random.Random(7)
        conn = self.pg.conn()
        conn.autocommit = False
        cur = conn.cursor()
        try:
            while not self.stop_flag.is_set():
                for _ in range(5):
                    k = rnd.random()
                    if k < 0.4:
                        cur.execute(f"INSERT INTO {self.table} VALUES (%s, %s)",
                                    (self.next_id, rnd.randint(0, 10**6)))
                        self.next_id += 1
                    elif k < 0.8:
                        cur.execute(f"UPDATE {self.table} SET v = %s WHERE id = %s",
                                    (rnd.randint(0, 10**6), rnd.randint(1, self.next_id)))
                    else:
                        cur.execute(f"DELETE FROM {self.table} WHERE id = %s",
                                    (rnd.randint(1, self.next_id),))
                    self.ops += 1
                conn.commit()
        except Exception as e:
            self.error = e
        finally:
            conn.close()


def wait_state(p, topic, pg, table, timeout=120):
    want = table_state(pg, table)
    deadline = time.time() + timeout
    got = None
    while time.time() < deadline:
        got = apply(p.events(topic))
        if got == want:
            return got
        time.sleep(0.3)
    missing = set(want) - set(got or {})
    extra = set(got or {}) - set(want)
    wrong = [k for k in set(want) & set(got or {}) if want[k] != got[k]]
    raise AssertionError(f"state differs: {len(missing)} missing, {len(extra)} extra, "
                         f"{len(wrong)} wrong (e.g. {sorted(missing)[:5]} {sorted(extra)[:5]} "
                         f"{wrong[:5]})\n" + p.log_summary())


def test_snapshot_markers_then_stream(pg, pgcdc, unique_name):
    a, b, c = (f"public.{unique_name}_{x}" for x in "abc")
    for t, n in ((a, 3), (b, 2), (c, 0)):
        pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v int)")
        if n:
            pg.execute(f"INSERT INTO {t} SELECT g, g * 10 FROM generate_series(1, {n}) g")
    p = pgcdc(tables=f"public\\.{unique_name}_.*")
    p.set(**{"snapshot.mode": "initial"})
    p.start()
    ta, tb = p.topic("public", f"{unique_name}_a"), p.topic("public", f"{unique_name}_b")
    ea = [unwrap(e) for e in p.wait_events(ta, 3)]
    eb = [unwrap(e) for e in p.wait_events(tb, 2)]
    assert [e["op"] for e in ea + eb] == ["r"] * 5
    assert [e["source"]["snapshot"] for e in ea] == ["first", "true", "last_in_data_collection"]
    assert [e["source"]["snapshot"] for e in eb] == ["first_in_data_collection", "last"]
    assert ea[1]["after"] == {"id": 2, "v": 20} and ea[1]["before"] is None
    assert p.offsets()["snapshot"] == "done"
    # streaming continues from the snapshot's consistent point
    pg.execute(f"INSERT INTO {a} VALUES (4, 40)")
    e = unwrap(p.wait_events(ta, 4)[3])
    assert e["op"] == "c" and e["source"]["snapshot"] == "false"
    # a restart does not copy again
    assert p.stop() == 0
    pg.execute(f"INSERT INTO {b} VALUES (3, 30)")
    p.start()
    ev = p.wait_events(tb, 3, exact=True)
    assert unwrap(ev[2])["op"] == "c"


def test_snapshot_consistent_with_concurrent_writers(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    rows = 30000
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v int)")
    pg.execute(f"INSERT INTO {t} SELECT g, g FROM generate_series(1, {rows}) g")
    churn = Churn(pg, t, rows + 1)
    churn.start()
    time.sleep(0.5)
    p = pgcdc(tables=t)
    p.set(**{"snapshot.mode": "initial", "value.converter.schemas.enable": False,
             "max.batch.size": 500})
    p.start()
    time.sleep(3)
    churn.stop_flag.set()
    churn.join()
    assert churn.error is None, churn.error
    assert churn.ops > 100
    wait_state(p, p.topic("public", unique_name), pg, t)


def test_kill_9_during_snapshot_takes_it_again(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    rows = 200000
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v int)")
    pg.execute(f"INSERT INTO {t} SELECT g, g FROM generate_series(1, {rows}) g")
    p = pgcdc(tables=t)
    # a small queue makes the copy wait for the file sink's fsyncs, so the kill
    # lands while the snapshot is still in progress
    p.set(**{"snapshot.mode": "initial", "value.converter.schemas.enable": False,
             "max.batch.size": 200, "max.queue.size.in.bytes": 65536})
    topic = p.topic("public", unique_name)
    p.start(wait=False)  # the slot only turns active once streaming starts

    deadline = time.time() + 60
    while time.time() < deadline and p.line_count(topic) < 1000:
        time.sleep(0.01)
    p.kill()
    assert p.offsets()["snapshot"] == "running", "the snapshot finished before the kill"
    pg.execute(f"UPDATE {t} SET v = -1 WHERE id <= 10")  # changes while pgcdc is down
    p.start()
    wait_state(p, topic, pg, t)
    assert p.offsets()["snapshot"] == "done"
    assert "copying" in p.log_text()


def test_initial_only_exits_after_snapshot(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v int)")
    pg.execute(f"INSERT INTO {t} SELECT g, g FROM generate_series(1, 100) g")
    p = pgcdc(tables=t)
    p.set(**{"snapshot.mode": "initial_only"})
    p.start(wait=False)
    assert p.wait_exit(timeout=60) == 0
    assert len(p.events(p.topic("public", unique_name))) == 100
    assert p.offsets()["snapshot"] == "done"


def test_always_copies_on_every_start(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v int)")
    pg.execute(f"INSERT INTO {t} SELECT g, g FROM generate_series(1, 50) g")
    p = pgcdc(tables=t)
    p.set(**{"snapshot.mode": "always", "value.converter.schemas.enable": False})
    topic = p.topic("public", unique_name)
    p.start()
    ev = [unwrap(e) for e in p.wait_events(topic, 50)]
    assert [e["op"] for e in ev] == ["r"] * 50
    assert ev[0]["source"]["snapshot"] == "first" and ev[-1]["source"]["snapshot"] == "last"
    pg.execute(f"INSERT INTO {t} VALUES (51, 51)")
    pg.execute(f"UPDATE {t} SET v = -1 WHERE id = 1")
    ev = [unwrap(e) for e in p.wait_events(topic, 52)]
    assert [e["op"] for e in ev[50:]] == ["c", "u"]
    assert p.stop() == 0
    pg.execute(f"INSERT INTO {t} VALUES (52, 52)")  # while pgcdc is down

    # the second start copies the whole table again over the existing slot
    p.start()
    ev = [unwrap(e) for e in p.wait_events(topic, 52 + 52 + 1)]
    second = ev[52:]
    assert [e["op"] for e in second[:52]] == ["r"] * 52
    assert {e["after"]["id"] for e in second[:52]} == set(range(1, 53))
    assert next(e for e in second[:52] if e["after"]["id"] == 1)["after"]["v"] == -1
    # the change made while pgcdc was down arrives after the copy too
    assert [e["op"] for e in second[52:]] == ["c"] and second[52]["after"]["id"] == 52
    pg.execute(f"INSERT INTO {t} VALUES (53, 53)")
    ev = [unwrap(e) for e in p.wait_events(topic, 52 + 52 + 2, exact=True)]
    assert ev[-1]["op"] == "c" and ev[-1]["after"]["id"] == 53
    assert p.offsets()["snapshot"] == "done"
    assert "snapshot.mode=always: copying the tables again" in p.log_text()
    wait_state(p, topic, pg, t)


def test_no_data_copies_nothing(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v int)")
    pg.execute(f"INSERT INTO {t} VALUES (1, 1)")
    p = pgcdc(tables=t)  # the fixture's default is no_data
    p.start()
    pg.execute(f"INSERT INTO {t} VALUES (2, 2)")
    ev = p.wait_events(p.topic("public", unique_name), 1, exact=True)
    assert unwrap(ev[0])["after"]["id"] == 2


def test_parallel_snapshot_of_a_million_rows(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    rows = 1000000
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v int)")
    pg.execute(f"INSERT INTO {t} SELECT g, g FROM generate_series(1, {rows}) g")
    churn = Churn(pg, t, rows + 1)
    churn.start()
    time.sleep(0.3)
    p = pgcdc(tables=t)
    p.set(**{"snapshot.mode": "initial", "snapshot.max.threads": 2,
             "value.converter.schemas.enable": False})
    p.start(wait=False)
    p.wait_log(r"with 2 workers \(", timeout=180)
    churn.stop_flag.set()
    churn.join()
    assert churn.error is None, churn.error
    assert "copying" in p.log_text() and "pages) with 2 workers" in p.log_text()
    wait_state(p, p.topic("public", unique_name), pg, t, timeout=300)
    assert p.offsets()["snapshot"] == "done"
