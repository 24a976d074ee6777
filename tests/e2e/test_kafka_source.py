"""The Kafka source against a real broker: two pgcdc processes in one
consumer group split a topic and one takes over when the other is killed,
PostgreSQL -> Kafka -> file gives the events the file sink gives directly,
re-routing into other topics, and the errors that stop it at start."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import confluent_kafka as ck

from conftest import DEFAULT_TIMEOUT, kafka_consume


def source_config(kafka, topics, group, **extra):
    """Keys of a Kafka source with the file sink; the helper's database.*
    defaults stay in the file and must simply be ignored."""
    cfg = {"source.type": "kafka", "source.kafka.topics": topics,
           "source.kafka.group.id": group, "bootstrap.servers": kafka.bootstrap,
           "sink.type": "file",
           # a killed member is noticed within seconds, not the default 45
           "consumer.session.timeout.ms": 6000, "consumer.heartbeat.interval.ms": 1000}
    cfg.update(extra)
    return cfg


def read_jsonl(path: Path) -> list:
    """Complete lines of a file-sink file, parsed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    end = data.rfind(b"\n")
    return [json.loads(line) for line in data[: end + 1].splitlines() if line.strip()]


def debezium_key(k: int) -> bytes:
    return json.dumps({"schema": {"type": "struct", "optional": False, "name": "src.public.t.Key",
                                  "fields": [{"type": "int32", "optional": False, "field": "id"}]},
                       "payload": {"id": k}}, separators=(",", ":")).encode()


def debezium_value(k: int, seq: int, op: str) -> bytes:
    schema = {"type": "struct", "optional": False, "name": "src.public.t.Envelope", "fields": [
        {"type": "struct", "optional": True, "field": "before", "fields": [
            {"type": "int32", "optional": False, "field": "id"},
            {"type": "int64", "optional": True, "field": "seq"}]},
        {"type": "struct", "optional": True, "field": "after", "fields": [
            {"type": "int32", "optional": False, "field": "id"},
            {"type": "int64", "optional": True, "field": "seq"}]},
        {"type": "string", "optional": False, "field": "op"},
        {"type": "int64", "optional": True, "field": "ts_ms"}]}
    payload = {"before": None, "after": {"id": k, "seq": seq},
               "source": {"connector": "postgresql", "name": "src", "schema": "public",
                          "table": "t"}, "op": op, "ts_ms": 1700000000000 + seq}
    return json.dumps({"schema": schema, "payload": payload}, separators=(",", ":")).encode()


class Producer(threading.Thread):
    """Produces n Debezium events over `seconds`, keys 0..nkeys-1 in turn."""

    def __init__(self, bootstrap, topic, n, nkeys, seconds):
        super().__init__(daemon=True)
        self.bootstrap, self.topic, self.n, self.nkeys, self.seconds = (
            bootstrap, topic, n, nkeys, seconds)
        self.error = None

    def run(self):
        try:
            p = ck.Producer({"bootstrap.servers": self.bootstrap, "acks": "all",
                             "enable.idempotence": True, "linger.ms": 5})
            start = time.time()
            for seq in range(self.n):
                k = seq % self.nkeys
                p.produce(self.topic, key=debezium_key(k),
                          value=debezium_value(k, seq, "c" if seq < self.nkeys else "u"))
                p.poll(0)
                lag = start + self.seconds * (seq + 1) / self.n - time.time()
                if lag > 0:
                    time.sleep(lag)
            assert p.flush(30) == 0, "records left unsent"
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e


def wait_count(p, pattern, count, timeout=60):
    """Waits until pattern occurs at least count times in p's log (the log
    keeps every run of the process)."""
    deadline = time.time() + timeout
    while len(re.findall(pattern, p.log_text())) < count:
        assert time.time() < deadline, f"/{pattern}/ not seen {count} times\n" + p.log_summary()
        time.sleep(0.1)


def seqs_by_key(events):
    out = {}
    for e in events:
        a = e["payload"]["after"]
        out.setdefault(a["id"], []).append(a["seq"])
    return out


def assert_key_order(events, where):
    """Per key, the first arrival of each record comes in produce order (an
    unacknowledged tail delivered again may repeat records)."""
    for k, seqs in seqs_by_key(events).items():
        firsts = sorted(set(seqs), key=seqs.index)
        assert firsts == sorted(firsts), f"{where}: key {k} out of order: {firsts[:20]}"


def committed_offsets(bootstrap, group, topic, partitions):
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                     "enable.auto.commit": False})
    try:
        tps = c.committed([ck.TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        c.close()


def end_offsets(bootstrap, topic, partitions):
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "end-offsets"})
    try:
        return {p: c.get_watermark_offsets(ck.TopicPartition(topic, p), timeout=10)[1]
                for p in range(partitions)}
    finally:
        c.close()


def test_group_split_kill_takeover(pgcdc, kafka, unique_name):
    """Two consumers in one group split a 6-partition topic; kill -9 one; the
    other takes over; together their files hold every event."""
    topic, group, n, nkeys = f"{unique_name}.public.t", f"{unique_name}_g", 3000, 100
    kafka.create_topic(topic, partitions=6)
    a = pgcdc(**source_config(kafka, topic, group))
    b = pgcdc(**source_config(kafka, topic, group))
    a.start(wait=False)
    a.wait_log(r"assigned 6 partitions of group", timeout=60)
    b.start(wait=False)
    # the group rebalances: each gets half
    for p in (a, b):
        p.wait_log(r"assigned 3 partitions of group", timeout=60)
    prod = Producer(kafka.bootstrap, topic, n, nkeys, seconds=8)
    prod.start()
    a_file, b_file = a.data_dir / f"{topic}.jsonl", b.data_dir / f"{topic}.jsonl"
    deadline = time.time() + 60
    while len(read_jsonl(a_file)) < 200 or len(read_jsonl(b_file)) < 200:
        assert time.time() < deadline, (len(read_jsonl(a_file)), len(read_jsonl(b_file)))
        assert a.alive and b.alive
        time.sleep(0.1)
    a.kill()
    # b notices within the session timeout and takes every partition
    b.wait_log(r"assigned 6 partitions of group", timeout=60)
    prod.join(60)
    assert not prod.is_alive() and prod.error is None, prod.error
    deadline = time.time() + 90
    while True:
        got = {e["payload"]["after"]["seq"] for f in (a_file, b_file) for e in read_jsonl(f)}
        if len(got) == n or time.time() > deadline:
            break
        assert b.alive
        time.sleep(0.5)
    assert got == set(range(n)), f"{n - len(got)} events missing"
    a_events, b_events = read_jsonl(a_file), read_jsonl(b_file)
    assert a_events and b_events
    assert_key_order(a_events, "killed member's file")
    assert_key_order(b_events, "surviving member's file")
    # values exactly as produced
    assert b_events[0] == json.loads(debezium_value(b_events[0]["payload"]["after"]["id"],
                                                    b_events[0]["payload"]["after"]["seq"],
                                                    b_events[0]["payload"]["op"]))
    assert b.stop() == 0
    # everything acknowledged was committed: nothing left for the group
    assert committed_offsets(kafka.bootstrap, group, topic, 6) == end_offsets(
        kafka.bootstrap, topic, 6)
    # a restart has nothing to do
    before = len(read_jsonl(b_file))
    b.start(wait=False)
    wait_count(b, r"assigned 6 partitions of group", 2)
    time.sleep(3)
    assert b.stop() == 0
    assert len(read_jsonl(b_file)) == before


def test_postgres_kafka_file_chain(pg, pgcdc, kafka, unique_name):
    """pgcdc (PostgreSQL -> Kafka and file) then pgcdc (Kafka -> file): the
    second file holds exactly the events of the first."""
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v text, n numeric(10,2))")
    up = pgcdc(tables=t, **{"sink.type": "kafka,file", "bootstrap.servers": kafka.bootstrap,
                            "topic.creation.default.partitions": 3})
    topic = f"{up.topic_prefix}.public.{unique_name}"
    # started first, with a regular expression: it follows the topic once it appears
    down = pgcdc(**source_config(
        kafka, f"^{up.topic_prefix}\\.public\\.", f"{unique_name}_g",
        **{"consumer.topic.metadata.refresh.interval.ms": 1000}))
    down.start(wait=False)
    down.wait_log(r"joining group", timeout=60)
    up.start()
    for i in range(1, 31):
        pg.execute(f"INSERT INTO {t} VALUES ({i}, 'v{i}', {i}.5)")
    pg.execute(f"UPDATE {t} SET v = 'w' WHERE id <= 10")
    pg.execute(f"DELETE FROM {t} WHERE id > 25")
    want = up.wait_events(topic, 45, timeout=60)  # 30 c + 10 u + 5 d (tombstones not in files)
    down.wait_log(r"assigned 3 partitions of group", timeout=60)
    down_file = down.data_dir / f"{topic}.jsonl"
    deadline = time.time() + 60
    while len(read_jsonl(down_file)) < len(want) and time.time() < deadline:
        time.sleep(0.2)
    got = read_jsonl(down_file)
    key = lambda e: json.dumps(e, sort_keys=True)  # noqa: E731
    assert sorted(map(key, got)) == sorted(map(key, want))
    # per row, the same order (rows are keys: one partition each)
    def per_row(events):
        out = {}
        for e in events:
            p = e["payload"]
            out.setdefault((p["after"] or p["before"])["id"], []).append(key(e))
        return out
    assert per_row(got) == per_row(want)
    assert up.stop() == 0
    assert down.stop() == 0
    # the ops read from the values feed the counts; tombstones counted apart
    assert "records acknowledged 50 (r=0 c=30 u=10 d=5 t=0 m=0 tombstones=5)" in down.log_text()


def test_kafka_to_kafka_reroute(pgcdc, kafka, unique_name):
    """A Kafka sink beside the Kafka source writes under another topic name."""
    topic = f"{unique_name}.in"
    kafka.create_topic(topic, partitions=2)
    p = ck.Producer({"bootstrap.servers": kafka.bootstrap})
    for i in range(50):
        p.produce(topic, key=debezium_key(i % 5), value=debezium_value(i % 5, i, "c"))
    p.produce(topic, key=debezium_key(1), value=None)  # a tombstone stays one
    p.flush(30)
    cfg = source_config(kafka, topic, f"{unique_name}_g",
                        **{"sink.type": "kafka", "topic.creation.default.partitions": 2})
    r = pgcdc(**cfg)
    r.start(wait=False)
    assert r.wait_exit(timeout=60) != 0
    assert "set source.kafka.sink.topic.prefix" in r.log_text()
    r.set(**{"source.kafka.sink.topic.prefix": "copy."})
    r.start(wait=False)
    out = kafka_consume(kafka.bootstrap, f"copy.{topic}", n=51, timeout=60)
    src = kafka_consume(kafka.bootstrap, topic, n=51)
    assert sorted((x.key, x.value or b"") for x in out) == sorted(
        (x.key, x.value or b"") for x in src)
    assert sum(1 for x in out if x.value is None) == 1
    assert r.stop() == 0


def test_errors(pgcdc, kafka, unique_name):
    topic = f"{unique_name}.t"
    # no broker answers
    p = pgcdc(**source_config(kafka, topic, f"{unique_name}_g",
                              **{"bootstrap.servers": "127.0.0.1:1"}))
    p.start(wait=False)
    assert p.wait_exit(timeout=60) != 0
    assert ("kafka source: no broker at bootstrap.servers=127.0.0.1:1 answered"
            in p.log_text())
    # a named topic that does not exist
    p.set(**{"bootstrap.servers": kafka.bootstrap})
    p.start(wait=False)
    assert p.wait_exit(timeout=60) != 0
    assert (f"kafka source: source.kafka.topics: {topic} (does not exist) on {kafka.bootstrap}: "
            "create it" in p.log_text())
    r = p.run_cmd("check")
    assert r.returncode == 1
    assert f"topic {topic}: PROBLEM: does not exist" in r.stdout
    kafka.create_topic(topic, partitions=2)
    r = p.run_cmd("check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"topic {topic}: ok, 2 partitions" in r.stdout
    assert f"consumer group: {unique_name}_g" in r.stdout
    r = p.run_cmd("slots")
    assert r.returncode == 1 and "source.type is kafka" in r.stderr
    # settings that would commit unacknowledged records, or split the group setting
    for key, value, msg in [
            ("kafka.enable.auto.commit", "true",
             "enable.auto.commit=true would commit offsets of records the sinks have not "
             "acknowledged"),
            ("consumer.enable.auto.offset.store", "true", "enable.auto.offset.store=true"),
            ("kafka.group.id", "other", "set source.kafka.group.id instead"),
            ("consumer.partition.assignment.strategy", "nonsense",
             "partition.assignment.strategy"),
            ("source.kafka.auto.offset.reset", "never", "source.kafka.auto.offset.reset")]:
        q = pgcdc(**source_config(kafka, topic, f"{unique_name}_g", **{key: value}))
        q.start(wait=False)
        assert q.wait_exit(timeout=60) != 0, key
        assert msg in q.log_text(), (key, q.log_text()[-2000:])
    # configuration errors name the key
    q = pgcdc(**{"source.type": "kafka", "bootstrap.servers": kafka.bootstrap})
    q.start(wait=False)
    assert q.wait_exit(timeout=DEFAULT_TIMEOUT) != 0
    assert "source.kafka.topics is required with source.type=kafka" in q.log_text()
    q = pgcdc(**source_config(kafka, "bad topic", f"{unique_name}_g"))
    q.start(wait=False)
    assert q.wait_exit(timeout=DEFAULT_TIMEOUT) != 0
    assert "'bad topic' is not a Kafka topic name" in q.log_text()
    # with the topic there, it runs and the status names the group
    ok = pgcdc(**source_config(kafka, topic, f"{unique_name}_g"))
    ok.start(wait=False)
    ok.wait_log(r"assigned 2 partitions of group", timeout=60)
    r = ok.run_cmd("status", "--data-dir", str(ok.data_dir))
    assert r.returncode == 0
    assert "process: running" in r.stdout
    assert f"committed offsets of consumer group {unique_name}_g" in r.stdout
    assert ok.stop() == 0
