"""Tests of the Kafka test rig (tests/rig/kafkarig.py and the conftest helpers).

They need no pgcdc binary: a real broker starts (jars resolved with mvn on
first use), records make the round trip through it, partitioned topics are
created, a stopped or killed broker comes back on its port with its data, and
the SASL/PLAIN listener tells a right password from a wrong one.
"""

import json
import socket
import subprocess
import sys
import time

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer

from conftest import REPO_ROOT, kafka_consume, kafka_topics

pytestmark = pytest.mark.rig

RIG = str(REPO_ROOT / "tests" / "rig" / "kafkarig.py")


def produce(config: dict, topic: str, records: list, timeout: float = 30) -> None:
    """Produces (key, value, headers[, partition]) tuples and fails on any delivery error."""
    errors = []

    def report(err, msg):
        if err is not None:
            errors.append(err)

    p = Producer({**config, "acks": "all", "message.timeout.ms": int(timeout * 1000)})
    for rec in records:
        key, value, headers, *part = rec
        kw = {"partition": part[0]} if part else {}
        p.produce(topic, key=key, value=value, headers=headers, on_delivery=report, **kw)
    left = p.flush(timeout)
    assert left == 0 and not errors, f"{left} undelivered, errors: {errors}"


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_round_trip(kafka, unique_name):
    topic = unique_name
    recs = [(f"k{i}".encode(), json.dumps({"i": i}).encode(),
             [("op", b"c"), ("n", str(i).encode())]) for i in range(10)]
    recs.append((b"k3", None, None))  # a tombstone
    produce(kafka.client_config(), topic, recs)  # auto-created on the session broker

    got = kafka_consume(kafka.bootstrap, topic, n=11)
    assert len(got) == 11
    assert [r.offset for r in got] == list(range(11))  # one partition: num.partitions=1
    assert {r.partition for r in got} == {0}
    assert [r.key_text for r in got] == [f"k{i}" for i in range(10)] + ["k3"]
    assert [r.value_json() for r in got[:10]] == [{"i": i} for i in range(10)]
    assert got[10].value is None and got[10].value_text is None
    assert got[4].headers == [("op", b"c"), ("n", b"4")]
    assert got[4].header("n") == b"4" and got[4].header("missing") is None
    assert all(r.topic == topic and r.timestamp > 0 for r in got)
    # n=None reads exactly what is there.
    assert len(kafka_consume(kafka.bootstrap, topic)) == 11
    assert kafka_topics(kafka.bootstrap)[topic] == 1
    assert not any(t.startswith("__") for t in kafka_topics(kafka.bootstrap))


def test_topic_with_six_partitions(kafka, unique_name):
    topic = unique_name
    kafka.create_topic(topic, partitions=6)
    assert kafka_topics(kafka.bootstrap)[topic] == 6
    assert kafka.topics()[topic] == 6
    produce(kafka.client_config(), topic,
            [(f"p{p}-{j}".encode(), b"v", None, p) for p in range(6) for j in range(2)])
    got = kafka_consume(kafka.bootstrap, topic, n=12)
    assert [(r.partition, r.offset) for r in got] == [(p, j) for p in range(6) for j in range(2)]
    assert all(r.key_text.startswith(f"p{r.partition}-") for r in got)
    with pytest.raises(KafkaException):
        kafka.create_topic(topic, partitions=3)  # already exists


def test_missing_topic_times_out(kafka, unique_name):
    t0 = time.time()
    with pytest.raises(AssertionError, match="not found"):
        kafka_consume(kafka.bootstrap, unique_name, n=1, timeout=2)
    assert time.time() - t0 < 10


def test_stop_restart_kill_keep_port_and_data(make_kafka, unique_name):
    kb = make_kafka(auto_create=False)
    port, topic = kb.port, unique_name
    # auto.create.topics.enable=false: an unknown topic is refused.
    p = Producer({**kb.client_config(), "message.timeout.ms": 3000})
    errs = []
    p.produce(topic, value=b"x", on_delivery=lambda err, msg: errs.append(err))
    p.flush(10)
    assert errs and errs[0] is not None, "produce to a missing topic succeeded"
    assert topic not in kafka_topics(kb.bootstrap)

    kb.create_topic(topic, partitions=2)
    produce(kb.client_config(), topic, [(b"a", b"1", None, 0), (b"b", b"2", None, 1)])

    kb.stop()
    assert not kb.is_running() and not listening(port)
    kb.start()
    assert kb.port == port and kb.bootstrap == f"127.0.0.1:{port}"
    # the restarted broker may answer metadata before it has loaded every topic
    deadline = time.time() + 30
    while kafka_topics(kb.bootstrap) != {topic: 2} and time.time() < deadline:
        time.sleep(0.2)
    assert kafka_topics(kb.bootstrap) == {topic: 2}
    produce(kb.client_config(), topic, [(b"c", b"3", None, 0)])
    assert [(r.partition, r.offset, r.value) for r in kafka_consume(kb.bootstrap, topic)] == \
        [(0, 0, b"1"), (0, 1, b"3"), (1, 0, b"2")]

    kb.kill()  # no clean shutdown: the log is recovered on start
    assert not listening(port)
    kb.restart()
    assert kb.port == port
    assert len(kafka_consume(kb.bootstrap, topic)) == 3
    assert "Kafka Server started" in kb.log_text()


def test_sasl_plain(kafka, unique_name):
    assert kafka.sasl_bootstrap != kafka.bootstrap
    ok = kafka.client_config(sasl=True)
    produce(ok, unique_name, [(b"k", b"over sasl", None)])
    got = kafka_consume(ok, unique_name, n=1)
    assert got[0].value == b"over sasl"

    errors = []
    bad = kafka.client_config(sasl=True, **{"sasl.password": "wrong",
                                            "error_cb": lambda e: errors.append(e)})
    p = Producer({**bad, "message.timeout.ms": 5000})
    p.produce(unique_name, value=b"nope")
    deadline = time.time() + 15
    while time.time() < deadline and not any(e.code() == KafkaError._AUTHENTICATION
                                              for e in errors):
        p.poll(0.2)
    assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), errors
    p.purge()
    p.flush(5)
    # Nothing from the refused client reached the topic.
    assert [r.value for r in kafka_consume(ok, unique_name)] == [b"over sasl"]


def test_cli_start_status_stop(tmp_path):
    d = tmp_path / "kb"
    r = subprocess.run([sys.executable, RIG, "start", "--dir", str(d), "--sasl", "--json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    try:
        assert info["bootstrap"].startswith("127.0.0.1:") and info["sasl_user"]
        assert listening(int(info["bootstrap"].rsplit(":", 1)[1]))
        st = subprocess.run([sys.executable, RIG, "status", "--dir", str(d)],
                            capture_output=True, text=True, timeout=60)
        assert st.returncode == 0 and st.stdout.startswith("running"), st.stdout + st.stderr
    finally:
        s = subprocess.run([sys.executable, RIG, "stop", "--dir", str(d), "--rm"],
                           capture_output=True, text=True, timeout=120)
    assert s.returncode == 0, s.stderr
    assert not d.exists()
    assert not listening(int(info["bootstrap"].rsplit(":", 1)[1]))
