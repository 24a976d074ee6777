"""Bad input gets a clear error and a non-zero exit: config mistakes,
unreachable servers, wrong wal_level, busy slots and data dirs; plus the
diagnostic subcommands."""

from __future__ import annotations

import json
import socket
import subprocess


def run(p, *extra):
    p.start(wait=False, extra_args=extra)
    code = p.wait_exit(timeout=30)
    return code, p.log_text()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unknown_key_named(pgcdc):
    p = pgcdc()
    p.set(**{"tombstones.on.delet": True})
    code, log = run(p)
    assert code == 1
    assert "tombstones.on.delet" in log and "tombstones.on.delete" in log


def test_bad_enum_value_named(pgcdc):
    p = pgcdc()
    p.set(**{"decimal.handling.mode": "exact"})
    code, log = run(p)
    assert code == 1 and "decimal.handling.mode" in log and "precise" in log


def test_missing_topic_prefix(pgcdc):
    p = pgcdc()
    p.config.pop("topic.prefix")
    code, log = run(p)
    assert code == 1 and "topic.prefix" in log


def test_wrong_plugin_in_debezium_json(pgcdc):
    p = pgcdc()
    p.set(**{"plugin.name": "decoderbufs"})
    p.start(wait=False, config_path=p.write_json_config())
    assert p.wait_exit(timeout=30) == 1
    assert "plugin.name" in p.log_text() and "pgoutput" in p.log_text()


def test_password_never_printed(pgcdc):
    p = pgcdc()
    p.set(**{"database.password": "s3cr3t-pw", "database.port": free_port()})
    code, log = run(p)
    assert code == 1
    assert "s3cr3t-pw" not in log


def test_unreachable_server(pgcdc):
    p = pgcdc()
    p.set(**{"database.port": free_port()})
    code, log = run(p)
    assert code == 1
    assert "cannot connect" in log and "database.port" in log


def test_wal_level_replica(make_pg, pgcdc):
    cluster = make_pg(settings={"wal_level": "replica"})
    p = pgcdc(cluster=cluster)
    code, log = run(p)
    assert code == 1
    assert "wal_level" in log and "logical" in log


def test_unsupported_snapshot_mode_not_silently_ignored(pgcdc):
    p = pgcdc()
    p.set(**{"snapshot.mode": "custom"})  # Debezium's pluggable modes need Java classes
    code, log = run(p)
    assert code == 1 and "snapshot.mode" in log and "always" in log


def test_slot_in_use(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    a = pgcdc(tables=t).start()
    b = pgcdc(tables=t, name=a.name)  # same slot, other data dir
    code, log = run(b)
    assert code == 1 and "in use" in log
    assert a.alive


def test_data_dir_locked(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    a = pgcdc(tables=t).start()
    b = pgcdc(tables=t)
    b.data_dir = a.data_dir
    code, log = run(b)
    assert code == 1 and "in use by another pgcdc" in log


def test_sigint_exits_zero(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    p = pgcdc(tables=t).start()
    assert p.interrupt() == 0


def test_check_reports_setup(pg, pgcdc, unique_name):
    good, nopk = f"public.{unique_name}", f"public.{unique_name}_nopk"
    pg.execute(f"CREATE TABLE {good} (id int PRIMARY KEY)")
    pg.execute(f"CREATE TABLE {nopk} (a int)")
    p = pgcdc(tables=f"{good},{nopk}")
    r = p.run_cmd("check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "wal_level: logical" in r.stdout
    assert f"{good} (replica identity default, primary key)" in r.stdout
    assert f"{nopk} has no primary key" in r.stdout
    assert "result: ok" in r.stdout


def test_check_fails_on_replica(make_pg, pgcdc):
    cluster = make_pg(settings={"wal_level": "replica"})
    p = pgcdc(cluster=cluster)
    r = p.run_cmd("check")
    assert r.returncode == 1 and "wal_level" in r.stdout


def test_slots_lists_and_drops(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    p = pgcdc(tables=t).start()
    assert p.stop() == 0
    r = p.run_cmd("slots")
    assert r.returncode == 0 and p.slot in r.stdout and "lag_bytes" in r.stdout
    r = p.run_cmd("slots", "--drop", p.slot)
    assert r.returncode == 0, r.stderr
    assert pg.slot(p.slot) is None


def test_version_and_help(pgcdc_bin):
    out = subprocess.run([pgcdc_bin, "version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("pgcdc ")
    for cmd in ("run", "check", "status", "slots", "ddl-sql", "config-docs", "version"):
        out = subprocess.run([pgcdc_bin, cmd, "--help"], capture_output=True, text=True)
        assert out.returncode == 0 and "Usage: pgcdc " + cmd in out.stdout
    out = subprocess.run([pgcdc_bin, "bogus"], capture_output=True, text=True)
    assert out.returncode == 2


def test_config_docs_match_committed(pgcdc_bin):
    from pathlib import Path
    out = subprocess.run([pgcdc_bin, "config-docs"], capture_output=True, text=True)
    committed = (Path(__file__).resolve().parents[2] / "docs" / "CONFIG.md").read_text()
    assert out.stdout == committed, "docs/CONFIG.md is stale: run build/pgcdc config-docs"
