"""Large transactions streamed by PostgreSQL before commit (protocol >= 2):
complete, in commit order, bounded memory; aborted ones emit nothing."""

from __future__ import annotations

import json
import os
import re
import threading
import time

from conftest import unwrap

ID_RE = re.compile(rb'"after":\{"id":(\d+)')


def ids_in_file(path):
    """Ids of the `after` images in a schemas-off topic file, in file order."""
    out = []
    with open(path, "rb") as f:
        for line in f:
            m = ID_RE.search(line)
            assert m, f"unexpected line {line[:200]!r}"
            out.append(int(m.group(1)))
    return out


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def test_big_streamed_transaction_complete_ordered_bounded_rss(pg, pgcdc, unique_name):
    rows = int(os.environ.get("PGCDC_E2E_BIG_ROWS", "2000000"))
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, pad text)")
    p = pgcdc(tables=t)
    p.set(**{"key.converter.schemas.enable": False, "value.converter.schemas.enable": False,
             "pgcdc.stream.spill.bytes": 8 << 20, "max.queue.size.in.bytes": 16 << 20})
    p.start()
    topic = p.topic("public", unique_name)

    # a small transaction commits while the big one is open: it must come first
    big = pg.conn()
    big.autocommit = False
    cur = big.cursor()
    cur.execute(f"INSERT INTO {t} SELECT g, 'x' FROM generate_series(1, {rows // 2}) g")
    pg.execute(f"INSERT INTO {t} VALUES (0, 'small')")
    cur.execute(f"INSERT INTO {t} SELECT g, 'x' FROM generate_series({rows // 2 + 1}, {rows}) g")
    big.commit()
    big.close()

    deadline = time.time() + 600
    path = p.topic_path(topic)
    while time.time() < deadline:
        off = p.offsets() or {}
        if int(off.get("events", 0)) >= rows + 1:
            break
        assert p.alive, p.log_summary()
        time.sleep(0.5)
    rss = peak_rss_kb(p.proc.pid)
    assert p.stop() == 0
    assert "spilling to disk" in p.log_text()
    ids = ids_in_file(path)
    assert len(ids) == rows + 1
    assert ids[0] == 0, "the transaction that committed first must come first"
    assert ids[1:] == list(range(1, rows + 1))
    assert rss < 256 * 1024, f"peak RSS {rss} kB for {rows} rows"


def test_aborted_streamed_transaction_emits_nothing(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    p = pgcdc(tables=t).start()
    c = pg.conn()
    c.autocommit = False
    cur = c.cursor()
    cur.execute(f"INSERT INTO {t} SELECT generate_series(1, 50000)")
    time.sleep(1)  # let PostgreSQL stream part of it
    c.rollback()
    c.close()
    pg.execute(f"INSERT INTO {t} VALUES (-1)")
    ev = p.wait_events(p.topic("public", unique_name), 1, exact=True)
    assert unwrap(ev[0])["after"]["id"] == -1


def test_streamed_subtransaction_rollback(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    p = pgcdc(tables=t)
    p.set(**{"value.converter.schemas.enable": False})
    p.start()
    c = pg.conn()
    c.autocommit = False
    cur = c.cursor()
    cur.execute(f"INSERT INTO {t} SELECT generate_series(1, 20000)")
    cur.execute("SAVEPOINT s1")
    cur.execute(f"INSERT INTO {t} SELECT generate_series(20001, 40000)")
    cur.execute("SAVEPOINT s2")
    cur.execute(f"INSERT INTO {t} SELECT generate_series(40001, 45000)")
    cur.execute("ROLLBACK TO SAVEPOINT s1")
    cur.execute(f"INSERT INTO {t} SELECT generate_series(50001, 70000)")
    c.commit()
    c.close()
    ev = p.wait_events(p.topic("public", unique_name), 40000, timeout=120, exact=True)
    ids = [e["after"]["id"] for e in ev]
    assert ids == list(range(1, 20001)) + list(range(50001, 70001))


def test_streaming_disabled_still_complete(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    p = pgcdc(tables=t)
    p.set(**{"pgcdc.streaming": False, "pgoutput.protocol.version": 1,
             "value.converter.schemas.enable": False})
    p.start()
    pg.execute(f"INSERT INTO {t} SELECT generate_series(1, 30000)")
    ev = p.wait_events(p.topic("public", unique_name), 30000, timeout=120, exact=True)
    assert [e["after"]["id"] for e in ev] == list(range(1, 30001))
