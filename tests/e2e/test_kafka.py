"""The Kafka sink against a real broker: Debezium's topics, keys and
partitions, delivery across a broker outage and a pgcdc crash, SASL, and the
errors that must stop pgcdc before anything is acknowledged."""

from __future__ import annotations

import threading
import time

from conftest import background, kafka_consume, kafka_topics, unwrap


def slot_confirmed(pg, slot):
    rows = pg.query("SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
                    "WHERE slot_name = %s", (slot,))
    return rows[0][0] if rows else None


def lsn_int(text):
    hi, lo = text.split("/")
    return int(hi, 16) << 32 | int(lo, 16)


def by_key(records):
    """{key id: [(partition, payload or None), ...]} in (partition, offset) order."""
    out = {}
    for r in records:
        k = unwrap(r.key_json())["id"]
        out.setdefault(k, []).append((r.partition, unwrap(r.value_json()) if r.value else None))
    return out


def test_topics_keys_partitions(pg, pgcdc, kafka, unique_name):
    t, nokey = f"public.{unique_name}", f"public.{unique_name}_nokey"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v text, c int)")
    pg.execute(f"CREATE TABLE {nokey} (a int, b text)")
    pg.execute(f"ALTER TABLE {nokey} REPLICA IDENTITY FULL")
    p = pgcdc(tables=f"{t},{nokey}", **{
        "sink.type": "kafka", "bootstrap.servers": kafka.bootstrap, "topic.creation.default.partitions": 6,
        "provide.transaction.metadata": True, "heartbeat.interval.ms": 500,
        "message.key.columns": f"public.{unique_name}_nokey:a",
        "sink.kafka.headers": "op,lsn,txId"})
    p.start()
    for i in range(1, 41):
        pg.execute(f"INSERT INTO {t} VALUES ({i}, 'v{i}', 0)")
    for rnd in range(1, 4):
        pg.execute(f"UPDATE {t} SET c = {rnd}")
    pg.execute(f"DELETE FROM {t} WHERE id <= 5")
    pg.execute(f"INSERT INTO {nokey} VALUES (7, 'x')")
    topic = f"{p.topic_prefix}.public.{unique_name}"
    # 40 c + 120 u + 5 d + 5 tombstones
    recs = kafka_consume(kafka.bootstrap, topic, n=170, timeout=60)
    assert len(recs) == 170
    assert kafka_topics(kafka.bootstrap)[topic] == 6
    keys = by_key(recs)
    assert sorted(keys) == list(range(1, 41))
    for k, evs in keys.items():
        parts = {part for part, _ in evs}
        assert len(parts) == 1, f"key {k} in partitions {parts}"
        ops = [e["op"] if e else None for _, e in evs]
        want = ["c", "u", "u", "u"] + (["d", None] if k <= 5 else [])
        assert ops == want, (k, ops)
        assert [e["after"]["c"] for _, e in evs[1:4]] == [1, 2, 3]
    assert len({part for evs in keys.values() for part, _ in evs}) > 1
    # key and value exactly as JsonConverter with schemas writes them
    r0 = recs[0]
    assert r0.key_json()["schema"]["name"] == f"{p.topic_prefix}.public.{unique_name}.Key"
    assert r0.value_json()["schema"]["name"] == f"{p.topic_prefix}.public.{unique_name}.Envelope"
    # Debezium's add.headers names
    v0 = unwrap(r0.value_json())
    assert r0.header("__op") == b"c"
    assert r0.header("__lsn") == str(v0["source"]["lsn"]).encode()
    assert r0.header("__txId") == str(v0["source"]["txId"]).encode()
    # message.key.columns gives the keyless table a key
    nk = kafka_consume(kafka.bootstrap, f"{p.topic_prefix}.public.{unique_name}_nokey", n=1)
    assert nk[0].key_json()["payload"] == {"a": 7}
    # transaction metadata and heartbeats have their topics
    tx = kafka_consume(kafka.bootstrap, f"{p.topic_prefix}.transaction", n=2)
    assert tx[0].value_json()["payload"]["status"] == "BEGIN"
    assert tx[0].key_json()["payload"]["id"] == tx[0].value_json()["payload"]["id"]
    hb = kafka_consume(kafka.bootstrap, f"__debezium-heartbeat.{p.topic_prefix}", n=1)
    assert hb[0].key_json()["payload"] == {"serverName": p.topic_prefix}
    # the slot is confirmed once the broker has everything
    assert p.stop() == 0
    confirmed = lsn_int(slot_confirmed(pg, p.slot))
    assert confirmed >= int(unwrap(recs[-2].value_json())["source"]["lsn"])


class Writer(threading.Thread):
    """Inserts then updates keys in small transactions until stopped."""

    def __init__(self, pg, table):
        super().__init__(daemon=True)
        background(self)
        self.pg, self.table = pg, table
        self.stop_flag = threading.Event()
        self.committed = []  # (id, v) in commit order
        self.error = None

    def run(self):
        conn = self.pg.conn()
        cur = conn.cursor()
        i = 0
        try:
            while not self.stop_flag.is_set():
                i += 1
                k = i % 50
                cur.execute(f"INSERT INTO {self.table} VALUES (%s, %s) ON CONFLICT (id) DO UPDATE "
                            "SET v = EXCLUDED.v", (k, i))
                self.committed.append((k, i))
                time.sleep(0.002)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e
        finally:
            conn.close()


def check_per_key(records, committed):
    """Every committed (id, v) arrived, and per key in commit order (a resent,
    unacknowledged tail may repeat values; their first arrivals stay ordered)."""
    seen = {}
    for r in records:
        v = unwrap(r.value_json())
        if v is None or v["op"] not in ("c", "u"):
            continue
        seen.setdefault(v["after"]["id"], []).append(v["after"]["v"])
    want = {}
    for k, v in committed:
        want.setdefault(k, []).append(v)
    for k, vs in want.items():
        got = seen.get(k, [])
        missing = set(vs) - set(got)
        assert not missing, f"key {k}: {len(missing)} committed values missing"
        firsts = sorted(set(got), key=got.index)
        assert firsts == sorted(firsts), f"key {k}: out of order {firsts[:10]}"


def test_broker_outage_loses_nothing(pg, pgcdc, make_kafka, unique_name):
    broker = make_kafka()
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v int)")
    p = pgcdc(tables=t, **{"sink.type": "kafka", "bootstrap.servers": broker.bootstrap,
                           "topic.creation.default.partitions": 3,
                           "value.converter.schemas.enable": False})
    p.start()
    w = Writer(pg, t)
    w.start()
    topic = f"{p.topic_prefix}.public.{unique_name}"
    kafka_consume(broker.bootstrap, topic, n=20, timeout=60)
    broker.stop()
    time.sleep(2)
    stopped_at = lsn_int(slot_confirmed(pg, p.slot))
    time.sleep(28)
    # nothing the broker did not take may be confirmed to the slot
    assert lsn_int(slot_confirmed(pg, p.slot)) - stopped_at < 64 * 1024, "slot moved on during the outage"
    assert p.alive
    broker.start()
    time.sleep(3)
    w.stop_flag.set()
    w.join()
    assert w.error is None, w.error
    n = len(w.committed)
    deadline = time.time() + 120
    while True:
        recs = kafka_consume(broker.bootstrap, topic, timeout=30)
        if len(recs) >= n or time.time() > deadline:
            break
        time.sleep(1)
    check_per_key(recs, w.committed)
    assert lsn_int(slot_confirmed(pg, p.slot)) > stopped_at


def test_kill_9_with_kafka_sink(pg, pgcdc, kafka, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v int)")
    p = pgcdc(tables=t, **{"sink.type": "kafka", "bootstrap.servers": kafka.bootstrap,
                           "value.converter.schemas.enable": False, "max.batch.size": 50})
    p.start()
    w = Writer(pg, t)
    w.start()
    topic = f"{p.topic_prefix}.public.{unique_name}"
    kafka_consume(kafka.bootstrap, topic, n=100, timeout=60)
    p.kill()
    time.sleep(1)
    p.start()
    time.sleep(2)
    w.stop_flag.set()
    w.join()
    assert w.error is None, w.error
    deadline = time.time() + 120
    while True:
        recs = kafka_consume(kafka.bootstrap, topic, timeout=30)
        if len(recs) >= len(w.committed) or time.time() > deadline:
            break
        time.sleep(1)
    check_per_key(recs, w.committed)


def test_sasl_plain_through_settings(pg, pgcdc, kafka, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    # librdkafka properties passed through as kafka.*
    p = pgcdc(tables=t, **{"sink.type": "kafka", "bootstrap.servers": kafka.sasl_bootstrap,
                           "kafka.security.protocol": "SASL_PLAINTEXT",
                           "kafka.sasl.mechanisms": "PLAIN",
                           "kafka.sasl.username": kafka.sasl_user,
                           "kafka.sasl.password": kafka.sasl_password})
    p.start()
    pg.execute(f"INSERT INTO {t} VALUES (1)")
    topic = f"{p.topic_prefix}.public.{unique_name}"
    assert unwrap(kafka_consume(kafka.bootstrap, topic, n=1)[0].value_json())["op"] == "c"
    assert kafka.sasl_password not in p.log_text()
    assert p.stop() == 0
    # Kafka Connect's worker-style settings, as a connector JSON would carry them
    p.config = {k: v for k, v in p.config.items() if not k.startswith("kafka.")}
    p.set(**{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
             "sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule "
                                 f'required username="{kafka.sasl_user}" '
                                 f'password="{kafka.sasl_password}";'})
    p.start(config_path=p.write_json_config())
    pg.execute(f"INSERT INTO {t} VALUES (2)")
    kafka_consume(kafka.bootstrap, topic, n=2)
    assert p.stop() == 0
    # a wrong password: a clear error, the insert not acknowledged
    before = pg.wal_lsn()
    pg.execute(f"INSERT INTO {t} VALUES (3)")
    p.set(**{"sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule "
                                 f'required username="{kafka.sasl_user}" password="wrong";'})
    p.start(wait=False)
    assert p.wait_exit(timeout=60) != 0
    assert "kafka sink" in p.log_text()
    assert lsn_int(slot_confirmed(pg, p.slot)) <= lsn_int(before)


def test_unreachable_broker_and_missing_topic(pg, pgcdc, kafka, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY)")
    p = pgcdc(tables=t, **{"sink.type": "kafka", "bootstrap.servers": "127.0.0.1:1"})
    p.start(wait=False)
    assert p.wait_exit(timeout=60) != 0
    assert "no broker at bootstrap.servers=127.0.0.1:1 answered" in p.log_text()
    # the topic must exist: nothing is acknowledged while it does not
    p.set(**{"sink.type": "kafka", "bootstrap.servers": kafka.bootstrap, "topic.creation.enable": False})
    p.start()  # streaming: the slot is active
    # WAL without captured changes before the insert (a checkpoint's
    # running-xacts record) may still be confirmed; the insert must not be
    before = pg.wal_lsn()
    pg.execute(f"INSERT INTO {t} VALUES (1)")
    assert p.wait_exit(timeout=60) != 0
    topic = f"{p.topic_prefix}.public.{unique_name}"
    assert f"topic {topic} does not exist and topic.creation.enable is false" in p.log_text()
    assert lsn_int(slot_confirmed(pg, p.slot)) <= lsn_int(before)
    # once it exists, the held change arrives
    kafka.create_topic(topic, partitions=2)
    p.start()
    recs = kafka_consume(kafka.bootstrap, topic, n=1)
    assert unwrap(recs[0].value_json())["after"] == {"id": 1}
    # acks other than all are refused
    assert p.stop() == 0
    p.set(**{"kafka.acks": "1"})
    p.start(wait=False)
    assert p.wait_exit(timeout=60) != 0
    assert "pgcdc requires acks=all" in p.log_text()
