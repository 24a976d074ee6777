"""docs/tutorials/kafka.md keeps working: the page's connector JSON and SQL, run
against a real broker, give the topic and the events the page shows.

The JSON and SQL are taken from the page's fenced blocks, so editing the
tutorial changes what is tested. Only the addresses are pointed at the rig.
The events are compared without the fields that differ on every run
(timestamps, LSNs, transaction ids, the pgcdc version)."""

from __future__ import annotations

import json
import re
import signal
import subprocess

from conftest import DEFAULT_TIMEOUT, REPO_ROOT, kafka_consume, kafka_topics

DOC = REPO_ROOT / "docs" / "tutorials" / "kafka.md"
TOPIC = "dbserver2.public.links"
VOLATILE_SOURCE = ("version", "ts_ms", "ts_us", "ts_ns", "sequence", "txId", "lsn")
VOLATILE_ENVELOPE = ("ts_ms", "ts_us", "ts_ns")


def fenced(text: str, lang: str) -> list[str]:
    """The contents of the page's ```lang blocks, in order."""
    return re.findall(r"^```" + re.escape(lang) + r"\n(.*?)^```", text, re.S | re.M)


def stable(payload: dict) -> dict:
    """A payload without the fields that change from run to run."""
    p = {k: v for k, v in payload.items() if k not in VOLATILE_ENVELOPE}
    p["source"] = {k: v for k, v in p["source"].items() if k not in VOLATILE_SOURCE}
    return p


def console_line(rec) -> str:
    """A record as `kafka-console-consumer.sh --property print.key=true` prints it."""
    return f"{rec.key_text}\t{rec.value_text if rec.value is not None else 'null'}"


def test_tutorial_steps(make_pg, kafka, pgcdc_bin, tmp_path):
    doc = DOC.read_text()
    connector = next(json.loads(b) for b in fenced(doc, "json") if "connector.class" in b)
    sql = fenced(doc, "sql")
    setup = next(b for b in sql if "CREATE TABLE links" in b)
    changes = next(b for b in sql if "REPLICA IDENTITY FULL" in b)
    shown = [json.loads(b) for b in fenced(doc, "json") if '"op"' in b]
    assert [p["op"] for p in shown] == ["d", "u"]
    first_line = next(line for line in doc.splitlines()
                      if line.startswith('{"schema":{"type":"struct"') and '"customerId":1}}' in line)

    # Step 1: the table, on a server of its own (the tutorial's default slot and publication)
    pg = make_pg()
    pg.execute(setup)
    # Step 2: the connector JSON as on the page, pointed at the rig
    cfg = connector["config"]
    assert cfg["topic.prefix"] == "dbserver2" and "sink.type" not in cfg
    cfg.update({"database.hostname": pg.host, "database.port": str(pg.port),
                "bootstrap.servers": kafka.bootstrap})
    path = tmp_path / "debezium-postgres-connector.json"
    path.write_text(json.dumps(connector, indent=2))
    check = subprocess.run([pgcdc_bin, "check", "--config", str(path)], capture_output=True,
                           text=True, timeout=DEFAULT_TIMEOUT, cwd=tmp_path)
    assert check.returncode == 0 and "result: ok" in check.stdout, check.stdout + check.stderr
    log = open(tmp_path / "pgcdc.log", "wb")
    proc = subprocess.Popen([pgcdc_bin, "run", "--config", str(path)], stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp_path)
    try:
        # Steps 3 and 4: the topic, and the snapshot's 20 rows at the consumer
        recs = kafka_consume(kafka.bootstrap, TOPIC, n=20)
        assert TOPIC in kafka_topics(kafka.bootstrap)
        assert [r.key_json()["payload"]["customerId"] for r in recs] == list(range(1, 21))
        assert {r.value_json()["payload"]["op"] for r in recs} == {"r"}
        assert console_line(recs[0]).split("\t")[0] == first_line.split("\t")[0]
        # Step 5: the psql statements, and the three events the page shows
        pg.execute(changes)
        recs = kafka_consume(kafka.bootstrap, TOPIC, n=23)
        assert len(recs) == 23
        d, tomb, u = recs[20:]
        assert [r.key_json()["payload"] for r in (d, tomb, u)] == \
            [{"customerId": 10}, {"customerId": 10}, {"customerId": 17}]
        assert console_line(tomb).endswith("\tnull")
        assert stable(d.value_json()["payload"]) == stable(shown[0])
        assert stable(u.value_json()["payload"]) == stable(shown[1])
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=DEFAULT_TIMEOUT)
        log.close()
    assert rc == 0, (tmp_path / "pgcdc.log").read_text()
    # Cleaning up: the slot is dropped by name
    drop = subprocess.run([pgcdc_bin, "slots", "--config", str(path), "--drop", "debezium"],
                          capture_output=True, text=True, timeout=DEFAULT_TIMEOUT, cwd=tmp_path)
    assert drop.returncode == 0 and "dropped slot debezium" in drop.stdout, drop.stdout + drop.stderr
