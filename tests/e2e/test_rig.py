"""Tests of the test rig itself (tests/rig/pgrig.py and the conftest helpers).

They need no pgcdc binary, so the suite means something before the C code
builds: the cluster starts with logical decoding, slots work, settings are
applied, restart/crash keep data, and the Pgcdc helper drives a process that
follows the pgcdc contract (here a small Python stand-in).
"""

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import REPO_ROOT, Pgcdc, to_yaml, unwrap

pytestmark = pytest.mark.rig

RIG = str(REPO_ROOT / "tests" / "rig" / "pgrig.py")


def test_cluster_is_logical(pg):
    assert pg.scalar("SHOW wal_level") == "logical"
    assert pg.scalar("SHOW logical_decoding_work_mem") == "64kB"
    assert int(pg.scalar("SHOW max_replication_slots")) >= 20
    assert int(pg.scalar("SHOW max_wal_senders")) >= 20
    assert pg.scalar("SHOW server_version_num").startswith("15")
    assert pg.scalar("SHOW listen_addresses") == "127.0.0.1"
    assert pg.scalar("SHOW server_encoding") == "UTF8"


def test_server_not_running_as_root(pg):
    with open(os.path.join(pg.data_dir, "postmaster.pid")) as f:
        pid = int(f.readline())
    uid = os.stat(f"/proc/{pid}").st_uid
    assert uid != 0
    if os.geteuid() == 0:
        assert pg.run_as is not None and uid == pg.run_as.pw_uid


def test_logical_slot_create_and_drop(pg, unique_name):
    slot = unique_name + "_slot"
    pg.execute(f"CREATE TABLE {unique_name} (id int PRIMARY KEY, v text)")
    pg.execute("SELECT pg_create_logical_replication_slot(%s, 'test_decoding')", (slot,))
    assert pg.slot(slot)["plugin"] == "test_decoding"
    pg.execute(f"INSERT INTO {unique_name} VALUES (1, 'a'), (2, 'b')")
    changes = [r[0] for r in pg.query(
        "SELECT data FROM pg_logical_slot_get_changes(%s, NULL, NULL)", (slot,))]
    assert sum(1 for c in changes if "INSERT" in c) == 2
    pg.drop_slot(slot)
    assert pg.slot(slot) is None


def test_pgoutput_slot_and_publication(pg, unique_name):
    slot, pub = unique_name + "_slot", unique_name + "_pub"
    pg.execute(f"CREATE TABLE {unique_name} (id int PRIMARY KEY)")
    pg.execute(f"CREATE PUBLICATION {pub} FOR TABLE {unique_name}")
    pg.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,))
    pg.execute(f"INSERT INTO {unique_name} VALUES (1)")
    n = pg.scalar("SELECT count(*) FROM pg_logical_slot_peek_binary_changes(%s, NULL, NULL, "
                  "'proto_version', '1', 'publication_names', %s)", (slot, pub))
    assert n >= 3  # BEGIN, RELATION, INSERT, COMMIT
    pg.drop_slot(slot)
    pg.execute(f"DROP PUBLICATION {pub}")


def test_private_cluster_settings_restart_crash(make_pg):
    c = make_pg(settings={"max_slot_wal_keep_size": "16MB"})
    assert c.scalar("SHOW max_slot_wal_keep_size") == "16MB"
    c.execute("CREATE TABLE t (id int PRIMARY KEY)")
    c.execute("INSERT INTO t VALUES (1)")
    c.restart()
    c.execute("INSERT INTO t VALUES (2)")
    c.crash()
    assert not c.is_running()
    c.start()
    assert [r[0] for r in c.query("SELECT id FROM t ORDER BY id")] == [1, 2]


def test_wal_level_replica_rejects_logical_slot(make_pg):
    c = make_pg(settings={"wal_level": "replica"})
    assert c.scalar("SHOW wal_level") == "replica"
    with pytest.raises(Exception, match="wal_level"):
        c.execute("SELECT pg_create_logical_replication_slot('nope', 'pgoutput')")


def test_destroy_removes_directory():
    from pgrig import PgCluster
    c = PgCluster()
    c.start()
    d = c.base_dir
    assert os.path.isdir(d)
    c.destroy()
    assert not os.path.exists(d)


def test_cli_start_stop(tmp_path):
    d = tmp_path / "rig"
    r = subprocess.run([sys.executable, RIG, "start", "--dir", str(d), "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    try:
        st = subprocess.run([sys.executable, RIG, "status", "--dir", str(d)],
                            capture_output=True, text=True)
        assert st.returncode == 0 and f"port={info['port']}" in st.stdout
        # A second start reuses the running cluster.
        r2 = subprocess.run([sys.executable, RIG, "start", "--dir", str(d), "--json"],
                            capture_output=True, text=True, timeout=120)
        assert json.loads(r2.stdout)["port"] == info["port"]
    finally:
        s = subprocess.run([sys.executable, RIG, "stop", "--dir", str(d), "--rm"],
                           capture_output=True, text=True, timeout=120)
    assert s.returncode == 0, s.stderr
    assert not d.exists()


def test_yaml_writer():
    y = to_yaml({"topic.prefix": "demo", "database.hostname": "127.0.0.1", "database.port": 5433,
                 "database.password": "", "slot.name": "s", "tombstones.on.delete": False})
    assert y.splitlines() == [
        "database:",
        '  hostname: "127.0.0.1"',
        "  port: 5433",
        '  password: ""',
        'topic.prefix: "demo"',
        'slot.name: "s"',
        "tombstones.on.delete: false",
    ]


# A stand-in that follows the `pgcdc run` contract closely enough to exercise
# the Pgcdc helper: it reads the flat YAML the helper writes, streams the slot
# with test_decoding and appends {"schema":..,"payload":{"op":..}} lines.
FAKE_PGCDC = textwrap.dedent(r'''
    import json, os, re, signal, sys
    import psycopg2, psycopg2.extras
    args = sys.argv[1:]
    assert args[0] == "run"
    cfg_path, data_dir = args[args.index("--config") + 1], args[args.index("--data-dir") + 1]
    cfg, section = {}, ""
    for line in open(cfg_path):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        k, _, v = line.partition(":")
        v = v.strip()
        if line.startswith("  "):
            k = section + "." + k.strip()
        elif not v:
            section = k.strip(); continue
        try:
            cfg[k.strip()] = json.loads(v) if v else ""
        except ValueError:
            cfg[k.strip()] = v
    dsn = "host=%s port=%s user=%s dbname=%s" % (cfg["database.hostname"], cfg["database.port"],
                                                 cfg["database.user"], cfg["database.dbname"])
    conn = psycopg2.connect(dsn, connection_factory=psycopg2.extras.LogicalReplicationConnection)
    cur = conn.cursor()
    try:
        cur.create_replication_slot(cfg["slot.name"], output_plugin="test_decoding")
    except psycopg2.errors.DuplicateObject:
        pass
    cur.start_replication(slot_name=cfg["slot.name"], decode=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    ops = {"INSERT": "c", "UPDATE": "u", "DELETE": "d"}
    def consume(msg):
        m = re.match(r"table (\w+)\.(\w+): (INSERT|UPDATE|DELETE):", msg.payload)
        if m:
            topic = "%s.%s.%s" % (cfg["topic.prefix"], m.group(1), m.group(2))
            with open(os.path.join(data_dir, topic + ".jsonl"), "a") as f:
                f.write(json.dumps({"schema": {}, "payload": {"op": ops[m.group(3)]}}) + "\n")
        msg.cursor.send_feedback(flush_lsn=msg.data_start, force=True)
    print("fake pgcdc streaming", file=sys.stderr, flush=True)
    cur.consume_stream(consume)
''')


def test_pgcdc_helper_with_stand_in(pg, tmp_path, unique_name):
    script = tmp_path / "fake_pgcdc.py"
    script.write_text(FAKE_PGCDC)
    fake = tmp_path / "fake-pgcdc"
    fake.write_text(f"#!/bin/sh\nexec {sys.executable} {script} \"$@\"\n")
    fake.chmod(0o755)
    table = unique_name
    pg.execute(f"CREATE TABLE public.{table} (id int PRIMARY KEY, v text)")
    p = Pgcdc(str(fake), pg, tmp_path / "work", unique_name, tables=f"public.{table}")
    try:
        p.start()
        p.wait_log("streaming")
        pg.execute(f"INSERT INTO public.{table} VALUES (1, 'a')")
        pg.execute(f"UPDATE public.{table} SET v = 'b'")
        pg.execute(f"DELETE FROM public.{table}")
        ev = p.wait_events(p.topic("public", table), 3, exact=True)
        assert [unwrap(e)["op"] for e in ev] == ["c", "u", "d"]
        assert p.payloads(f"public.{table}")[0] == {"op": "c"}
        assert p.stop() == 0
        assert not pg.slot(p.slot)["active"]
        # Restart resumes from the slot: only the new change arrives.
        p.start()
        pg.execute(f"INSERT INTO public.{table} VALUES (2, 'c')")
        assert len(p.wait_events(p.topic("public", table), 4)) == 4
        assert p.kill() == -9
    finally:
        p.close()
        p.cleanup_slot()
    assert pg.slot(p.slot) is None
    t0 = time.time()
    with pytest.raises(AssertionError, match="pgcdc exited"):
        Pgcdc("/bin/false", pg, tmp_path / "w2", unique_name + "x").start(timeout=5)
    assert time.time() - t0 < 5
