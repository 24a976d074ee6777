"""The Elasticsearch sink against a real Elasticsearch 7.17 (tests/rig/esrig.py):
the index mirrors the table after a mixed workload (document count and every
document, seed 000's check), replays and duplicates through Kafka never move a
document back, an outage loses nothing, rejected documents go to the
dead-letter file, bad URLs or credentials stop pgcdc before the slot moves, and
API keys made by the server authenticate in both forms users paste."""

from __future__ import annotations

import datetime
import decimal
import json
import re
import time
import uuid


from conftest import DEFAULT_TIMEOUT

COLUMNS = ("id int PRIMARY KEY, name text, gender varchar(10), latitude float8, "
           "amount numeric(10,2), date_of_birth timestamp, registered_date date, "
           "active boolean, uid uuid, tags text[], meta jsonb, insertion_time timestamptz")


def es_config(es, index, **extra):
    cfg = {"sink.type": "elasticsearch", "elasticsearch.url": es.url,
           "elasticsearch.index": index, "elasticsearch.retry.backoff.ms": 100,
           "elasticsearch.retry.backoff.max.ms": 1000}
    if es.security:
        cfg.update({"elasticsearch.username": es.user, "elasticsearch.password": es.password})
    if es.ca_file:
        cfg["elasticsearch.ca.file"] = es.ca_file
    cfg.update(extra)
    return cfg


def insert_rows(pg, t, ids, tag="v"):
    for i in ids:
        pg.execute(
            f"INSERT INTO {t} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (i, f"{tag} name {i}", "female" if i % 2 else "male", 6.5 + i / 1000,
             decimal.Decimal(i) / 4, datetime.datetime(1980, 1, 1, 12, 30) +
             datetime.timedelta(days=i, microseconds=i * 7),
             datetime.date(2020, 1, 1) + datetime.timedelta(days=i), i % 3 == 0,
             str(uuid.UUID(int=i)), [f"t{i}", "x"], json.dumps({"k": i, "nested": {"a": tag}}),
             datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc) +
             datetime.timedelta(seconds=i)))


def expected_docs(pg, t) -> dict:
    """The table as documents: {_id: _source} the way the sink writes them."""
    cols = [r[0] for r in pg.query(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum", (t,))]
    out = {}
    for row in pg.query(f"SELECT * FROM {t}"):
        doc = {}
        for c, v in zip(cols, row):
            if isinstance(v, decimal.Decimal):
                v = str(v)
            elif isinstance(v, datetime.datetime) and v.tzinfo is None:
                v = v.isoformat()
            elif isinstance(v, datetime.datetime):
                # timestamptz: Debezium's ZonedTimestamp text, kept as it is
                v = v.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            elif isinstance(v, datetime.date):
                v = v.isoformat()
            elif isinstance(v, uuid.UUID):
                v = str(v)
            doc[c] = v
        out[str(doc["id"])] = doc
    return out


def wait_mirror(es, pg, t, index, timeout=DEFAULT_TIMEOUT * 2, pgcdc=None):
    """Waits until the index holds exactly the table's rows; returns the docs."""
    deadline = time.time() + timeout
    want = got = None
    while time.time() < deadline:
        if pgcdc is not None:
            pgcdc._check_alive("while waiting for Elasticsearch to mirror the table")
        want = expected_docs(pg, t)
        if es.index_exists(index):
            got = es.docs(index)
            if got == want and es.count(index) == len(want):
                return got
        time.sleep(0.3)
    missing = sorted(set(want or {}) - set(got or {}))[:5]
    extra = sorted(set(got or {}) - set(want or {}))[:5]
    diff = [(k, want[k], got[k]) for k in sorted(set(want or {}) & set(got or {}))
            if want[k] != got[k]][:3]
    raise AssertionError(f"index {index} does not mirror {t} after {timeout}s: "
                         f"{len(got or {})} docs for {len(want or {})} rows; missing {missing}, "
                         f"extra {extra}, different {diff}"
                         + (("\n" + pgcdc.log_summary()) if pgcdc else ""))


def mixed_workload(pg, t, base=0):
    insert_rows(pg, t, range(base + 1, base + 121))
    for i in range(base + 1, base + 41, 3):
        pg.execute(f"UPDATE {t} SET name = name || ' upd', amount = amount + 1.5, "
                   f"meta = jsonb_set(meta, '{{k}}', '0') WHERE id = %s", (i,))
    # several changes of one row in one transaction: each has its own LSN
    pg.execute(f"BEGIN; UPDATE {t} SET name = 'tx 1' WHERE id = {base + 50}; "
               f"UPDATE {t} SET name = 'tx 2' WHERE id = {base + 50}; "
               f"DELETE FROM {t} WHERE id = {base + 51}; "
               f"INSERT INTO {t} (id, name) VALUES ({base + 51}, 'again'); "
               f"UPDATE {t} SET name = 'tx 3' WHERE id = {base + 50}; COMMIT")
    pg.execute(f"DELETE FROM {t} WHERE id BETWEEN {base + 101} AND {base + 120}")
    # a primary key change: delete of the old id, create of the new one
    pg.execute(f"UPDATE {t} SET id = {base + 1000} WHERE id = {base + 99}")
    pg.execute(f"UPDATE {t} SET tags = NULL, meta = NULL, latitude = NULL WHERE id = {base + 2}")


def test_index_mirrors_table_after_mixed_workload(pg, pgcdc, elasticsearch, unique_name):
    t = f"public.{unique_name}"
    index = f"{unique_name}_index"
    pg.execute(f"CREATE TABLE {t} ({COLUMNS})")
    insert_rows(pg, t, range(5000, 5010), tag="snap")  # copied by the snapshot
    p = pgcdc(tables=t, **es_config(elasticsearch, "${table}_index"),
              **{"snapshot.mode": "initial"})
    p.start()
    mixed_workload(pg, t)
    docs = wait_mirror(elasticsearch, pg, t, index, pgcdc=p)
    assert len(docs) == 100 + 10
    assert docs["50"]["name"] == "tx 3" and docs["51"]["name"] == "again"
    assert "99" not in docs and docs["1000"]["id"] == 1000
    assert docs["2"]["tags"] is None and docs["7"]["meta"] == {"k": 0, "nested": {"a": "v"}}
    # the derived mapping, seed 000's text + keyword subfield included
    props = elasticsearch.ok("GET", f"/{index}/_mapping")[index]["mappings"]["properties"]
    assert props["name"] == {"type": "text",
                             "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
    assert props["id"]["type"] == "integer"
    assert props["latitude"]["type"] == "double" and props["amount"]["type"] == "double"
    assert props["date_of_birth"]["type"] == "date"
    assert props["registered_date"]["type"] == "date"
    assert props["insertion_time"]["type"] == "date"
    assert props["active"]["type"] == "boolean" and props["uid"]["type"] == "keyword"
    assert props["tags"]["type"] == "text"
    # an object field: Elasticsearch lists its sub-fields instead of a type
    assert props["meta"].get("type", "object") == "object" and "k" in props["meta"]["properties"]
    # dates are searchable as dates
    hits = elasticsearch.ok("POST", f"/{index}/_count", {"query": {"range": {
        "registered_date": {"gte": "2020-01-02", "lte": "2020-01-05"}}}})
    assert hits["count"] == 4
    # versions are the change LSNs: the row changed in one transaction has
    # the highest version of the transaction's changes
    v50 = elasticsearch.docs(index, with_version=True)["50"][1]
    assert v50 > elasticsearch.docs(index, with_version=True)["49"][1]
    assert p.stop() == 0


def test_replay_and_kill9_never_regress(pg, pgcdc, elasticsearch, unique_name):
    """A second slot created before the workload replays all of it into the
    same index: every action is stale, nothing moves back. kill -9 in the
    middle of the workload resumes without loss."""
    t = f"public.{unique_name}"
    index = f"{unique_name}_replay"
    pg.execute(f"CREATE TABLE {t} ({COLUMNS})")
    late = pgcdc(tables=t, name=f"{unique_name}_late", **es_config(elasticsearch, index))
    late.start()
    assert late.stop() == 0  # its slot stays behind, before all the changes
    p = pgcdc(tables=t, **es_config(elasticsearch, index))
    p.start()
    insert_rows(pg, t, range(1, 81))
    p.kill()
    for i in range(1, 81, 2):
        pg.execute(f"UPDATE {t} SET name = 'second %s' WHERE id = %s", (i, i))
    pg.execute(f"DELETE FROM {t} WHERE id > 70")
    p.start()
    wait_mirror(elasticsearch, pg, t, index, pgcdc=p)
    assert p.stop() == 0
    before = elasticsearch.docs(index, with_version=True)
    late.start()  # replays every change since before the first insert
    pg.execute(f"INSERT INTO {t} (id, name) VALUES (9999, 'marker')")
    wait_mirror(elasticsearch, pg, t, index, pgcdc=late)
    assert late.stop() == 0  # a clean stop: every replayed action was answered
    after = elasticsearch.docs(index, with_version=True)
    del after["9999"]
    assert after == before


def test_kafka_path_duplicates_never_regress(pg, pgcdc, kafka, elasticsearch, unique_name):
    """PostgreSQL -> Kafka -> Elasticsearch with the same sink code; a second
    consumer group reading the same topic from the beginning delivers every
    record again: the documents keep their versions."""
    t = f"public.{unique_name}"
    index = f"{unique_name}_kafka"
    pg.execute(f"CREATE TABLE {t} ({COLUMNS})")
    producer = pgcdc(tables=t, **{"sink.type": "kafka", "bootstrap.servers": kafka.bootstrap})
    producer.start()
    mixed_workload(pg, t)
    topic = producer.topic("public", unique_name)
    consumers = []
    for group in ("a", "b"):
        c = pgcdc(name=f"{unique_name}_{group}", **es_config(elasticsearch, index), **{
            "source.type": "kafka", "source.kafka.topics": topic,
            "source.kafka.group.id": f"{unique_name}_{group}",
            "bootstrap.servers": kafka.bootstrap})
        consumers.append(c)
    consumers[0].start(wait=False)
    wait_mirror(elasticsearch, pg, t, index, pgcdc=consumers[0])
    before = elasticsearch.docs(index, with_version=True)
    assert consumers[0].stop() == 0
    consumers[1].start(wait=False)
    consumers[1].wait_log(r"partitions? .*assigned|assigned", timeout=DEFAULT_TIMEOUT)
    # the duplicate consumer catches up: its committed offsets reach the end
    deadline = time.time() + DEFAULT_TIMEOUT * 2
    while time.time() < deadline and not _group_done(kafka, f"{unique_name}_b", topic):
        consumers[1]._check_alive("while replaying the topic")
        time.sleep(0.3)
    assert _group_done(kafka, f"{unique_name}_b", topic), consumers[1].log_summary()
    assert elasticsearch.docs(index, with_version=True) == before
    assert consumers[1].stop() == 0
    assert producer.stop() == 0


def _group_done(kafka, group, topic) -> bool:
    import confluent_kafka as ck
    c = ck.Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": group,
                     "enable.auto.commit": False})
    try:
        parts = c.committed([ck.TopicPartition(topic, 0)], timeout=5)
        lo, hi = c.get_watermark_offsets(ck.TopicPartition(topic, 0), timeout=5)
        return parts[0].offset >= hi > 0
    finally:
        c.close()


def test_outage_loses_nothing(pg, pgcdc, make_elasticsearch, unique_name):
    """Elasticsearch stopped for 30 s under load: pgcdc retries, the slot does
    not move past what Elasticsearch confirmed, and everything arrives."""
    es = make_elasticsearch()
    t = f"public.{unique_name}"
    index = f"{unique_name}_outage"
    pg.execute(f"CREATE TABLE {t} ({COLUMNS})")
    p = pgcdc(tables=t, **es_config(es, index, **{"elasticsearch.retry.timeout.ms": 0}))
    p.start()
    insert_rows(pg, t, range(1, 21))
    wait_mirror(es, pg, t, index, pgcdc=p)
    es.stop()
    stopped = time.time()
    insert_rows(pg, t, range(21, 61))
    pg.execute(f"UPDATE {t} SET name = 'during outage' WHERE id <= 10")
    pg.execute(f"DELETE FROM {t} WHERE id BETWEEN 11 AND 15")
    after_outage = pg.wal_lsn()
    p.wait_log(r"bulk request .* failed .*retrying", timeout=DEFAULT_TIMEOUT)
    while time.time() - stopped < 30:
        p._check_alive("while Elasticsearch is down")
        s = pg.slot(p.slot)
        assert pg.scalar("SELECT %s::pg_lsn < %s::pg_lsn",
                         (s["confirmed_flush_lsn"], after_outage)), \
            "the slot moved past changes Elasticsearch never confirmed"
        time.sleep(1)
    es.start()
    wait_mirror(es, pg, t, index, timeout=DEFAULT_TIMEOUT * 3, pgcdc=p)
    assert p.stop() == 0


def test_stop_during_outage_is_prompt_and_loses_nothing(pg, pgcdc, make_elasticsearch,
                                                       unique_name):
    """SIGTERM while Elasticsearch is down ends the run at once (exit 1) instead of
    waiting for the retry timeout; the next start sends what was not confirmed."""
    es = make_elasticsearch()
    t = f"public.{unique_name}"
    index = f"{unique_name}_stop"
    pg.execute(f"CREATE TABLE {t} ({COLUMNS})")
    p = pgcdc(tables=t, **es_config(es, index, **{"elasticsearch.retry.timeout.ms": 0}))
    p.start()
    insert_rows(pg, t, range(1, 11))
    wait_mirror(es, pg, t, index, pgcdc=p)
    es.stop()
    insert_rows(pg, t, range(11, 31))
    p.wait_log(r"bulk request .* failed .*retrying", timeout=DEFAULT_TIMEOUT)
    t0 = time.time()
    assert p.stop() == 1
    assert time.time() - t0 < DEFAULT_TIMEOUT
    assert "changes not acknowledged yet are sent again" in p.log_text()
    es.start()
    p.start()
    wait_mirror(es, pg, t, index, timeout=DEFAULT_TIMEOUT * 3, pgcdc=p)
    assert p.stop() == 0


def test_mapping_conflict_goes_to_dead_letter_file(pg, pgcdc, elasticsearch, unique_name,
                                                   tmp_path):
    t = f"public.{unique_name}"
    index = f"{unique_name}_dlq"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, code text, note text)")
    elasticsearch.ok("PUT", f"/{index}", {"mappings": {"properties": {
        "code": {"type": "integer"}}}})
    dlq = tmp_path / "dead.jsonl"
    p = pgcdc(tables=t, **es_config(elasticsearch, index,
                                    **{"elasticsearch.dead.letter.file": str(dlq)}))
    p.start()
    pg.execute(f"INSERT INTO {t} VALUES (1, '12', 'fine'), (2, 'abc', 'conflict'), "
               f"(3, '7', 'after')")
    deadline = time.time() + DEFAULT_TIMEOUT
    while time.time() < deadline and elasticsearch.count(index) < 2:
        time.sleep(0.3)
    assert sorted(elasticsearch.docs(index)) == ["1", "3"]
    m = p.wait_log(r"rejected a document \(HTTP 400 mapper_parsing_exception")
    assert str(dlq) in p.log_text()[m.start():m.start() + 2000]
    # the entry is durable before the batch is acknowledged: wait for the ack
    deadline = time.time() + DEFAULT_TIMEOUT
    while time.time() < deadline and not dlq.exists():
        time.sleep(0.1)
    entries = [json.loads(line) for line in dlq.read_text().splitlines()]
    assert len(entries) == 1
    e = entries[0]
    assert e["status"] == 400 and e["error"]["type"] == "mapper_parsing_exception"
    assert e["action"]["index"]["_id"] == "2" and e["action"]["index"]["_index"] == index
    assert e["document"] == {"id": 2, "code": "abc", "note": "conflict"}
    pg.execute(f"INSERT INTO {t} VALUES (4, '8', 'still running')")
    deadline = time.time() + DEFAULT_TIMEOUT
    while time.time() < deadline and elasticsearch.count(index) < 3:
        time.sleep(0.3)
    assert elasticsearch.count(index) == 3
    assert p.stop() == 0


def test_truncate_clears_index_schemas_off(pg, pgcdc, elasticsearch, unique_name):
    """Truncate with `clear`; the records carry no schema (converters'
    schemas off): rows are copied as they are, the index gets dynamic mapping."""
    t = f"public.{unique_name}"
    index = f"{unique_name}_trunc"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v text)")
    p = pgcdc(tables=t, **es_config(elasticsearch, index, **{
        "skipped.operations": "none", "key.converter.schemas.enable": False,
        "value.converter.schemas.enable": False}))
    p.start()
    pg.execute(f"INSERT INTO {t} SELECT g, 'a' || g FROM generate_series(1, 30) g")
    wait_mirror(elasticsearch, pg, t, index, pgcdc=p)
    assert p.wait_log(r"created index .*dynamic mapping: the records carry no schema")
    pg.execute(f"TRUNCATE {t}")
    pg.execute(f"INSERT INTO {t} VALUES (100, 'after')")
    wait_mirror(elasticsearch, pg, t, index, pgcdc=p)
    assert p.wait_log(r"truncate: cleared index")
    assert p.stop() == 0


def test_bad_url_stops_before_the_slot_moves(pg, pgcdc, elasticsearch, unique_name):
    t = f"public.{unique_name}"
    index = f"{unique_name}_bad"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v text)")
    p = pgcdc(tables=t, **es_config(elasticsearch, index))
    p.start()
    pg.execute(f"INSERT INTO {t} VALUES (1, 'a')")
    wait_mirror(elasticsearch, pg, t, index, pgcdc=p)
    assert p.stop() == 0
    confirmed = pg.slot(p.slot)["confirmed_flush_lsn"]
    pg.execute(f"INSERT INTO {t} VALUES (2, 'b')")
    p.set(**{"elasticsearch.url": "http://127.0.0.1:9"})
    p.start(wait=False)
    assert p.wait_exit() == 1
    assert re.search(r"cannot reach elasticsearch.url=http://127.0.0.1:9: .*(refused|connect)",
                     p.log_text()), p.log_text()
    assert pg.slot(p.slot)["confirmed_flush_lsn"] == confirmed
    r = p.run_cmd("check")
    assert r.returncode == 1 and "cannot reach elasticsearch.url" in r.stdout + r.stderr


def test_credentials_and_tls(pg, pgcdc, make_elasticsearch, unique_name):
    """Real x-pack security: HTTPS with the rig's CA, basic auth. Wrong
    passwords and a missing CA stop pgcdc with a clear error, nothing moves,
    and no password reaches the log."""
    es = make_elasticsearch(security=True, tls=True)
    t = f"public.{unique_name}"
    index = f"{unique_name}_sec"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v text)")
    bad = pgcdc(tables=t, name=f"{unique_name}_b", **es_config(es, index, **{
        "elasticsearch.password": "wrong-secret-1"}))
    bad.start(wait=False)
    assert bad.wait_exit() == 1
    assert "answered HTTP 401: the credentials were rejected" in bad.log_text(), bad.log_text()
    assert "wrong-secret-1" not in bad.log_text()
    assert pg.slot(bad.slot) is None or not pg.slot(bad.slot)["active"]
    noca = pgcdc(tables=t, name=f"{unique_name}_n", **es_config(es, index, **{
        "elasticsearch.ca.file": None}))
    noca.start(wait=False)
    assert noca.wait_exit() == 1
    assert re.search(r"cannot reach elasticsearch.url=https://.*certificate", noca.log_text()), \
        noca.log_text()
    p = pgcdc(tables=t, **es_config(es, index))
    p.start()
    pg.execute(f"INSERT INTO {t} SELECT g, 'x' FROM generate_series(1, 10) g")
    wait_mirror(es, pg, t, index, pgcdc=p)
    assert es.password not in p.log_text()
    assert p.stop() == 0


def test_api_key(pg, pgcdc, make_elasticsearch, unique_name):
    """Real x-pack API keys over HTTPS: a key made with POST /_security/api_key
    works in both forms users paste (the base64 `encoded` value and id:api_key);
    an invalidated key stops pgcdc with an error naming elasticsearch.api.key,
    the slot does not move, and no key reaches the log."""
    es = make_elasticsearch(security=True, tls=True)
    t = f"public.{unique_name}"
    index = f"{unique_name}_key"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v text)")
    key = es.ok("POST", "/_security/api_key", {"name": f"{unique_name}_k"})
    pair = f"{key['id']}:{key['api_key']}"
    secrets = (key["api_key"], key["encoded"])

    def keyed(name, value):
        cfg = es_config(es, index, **{"elasticsearch.api.key": value})
        del cfg["elasticsearch.username"], cfg["elasticsearch.password"]
        return pgcdc(tables=t, name=name, **cfg)

    p = keyed(unique_name, key["encoded"])
    p.start()
    pg.execute(f"INSERT INTO {t} SELECT g, 'x' FROM generate_series(1, 10) g")
    wait_mirror(es, pg, t, index, pgcdc=p)
    assert p.stop() == 0
    p.set(**{"elasticsearch.api.key": pair})
    p.start()
    pg.execute(f"UPDATE {t} SET v = 'y' WHERE id <= 3; DELETE FROM {t} WHERE id = 10")
    wait_mirror(es, pg, t, index, pgcdc=p)
    assert p.stop() == 0
    assert not any(s in p.log_text() for s in secrets)

    confirmed = pg.slot(p.slot)["confirmed_flush_lsn"]
    pg.execute(f"INSERT INTO {t} VALUES (11, 'z')")
    es.ok("DELETE", "/_security/api_key", {"ids": [key["id"]]})
    for value in (key["encoded"], pair):
        p.set(**{"elasticsearch.api.key": value})
        p.start(wait=False)
        assert p.wait_exit() == 1
        log = p.log_text()
        assert re.search(r"answered HTTP 401: the credentials were rejected: .*"
                         r"elasticsearch\.api\.key", log), log
        assert not any(s in log for s in secrets)
        assert pg.slot(p.slot)["confirmed_flush_lsn"] == confirmed
    assert "11" not in es.docs(index)


def test_opensearch(pg, pgcdc, make_elasticsearch, unique_name):
    """The same sink against OpenSearch 2.x."""
    es = make_elasticsearch(kind="opensearch")
    t = f"public.{unique_name}"
    index = f"{unique_name}_os"
    pg.execute(f"CREATE TABLE {t} ({COLUMNS})")
    p = pgcdc(tables=t, **es_config(es, index))
    p.start()
    mixed_workload(pg, t)
    wait_mirror(es, pg, t, index, pgcdc=p)
    assert re.search(r"writing to OpenSearch 2\.", p.log_text())
    assert p.stop() == 0


SEED_000_MAPPING = {
    "settings": {"number_of_shards": 1, "number_of_replicas": 1},
    "mappings": {"properties": {
        "id": {"type": "integer"},
        "name": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
        "gender": {"type": "keyword"}, "address": {"type": "text"},
        "latitude": {"type": "double"}, "longitude": {"type": "double"},
        "timezone": {"type": "keyword"}, "email": {"type": "keyword"},
        "phone": {"type": "keyword"}, "cell": {"type": "keyword"},
        "date_of_birth": {"type": "date"}, "registered_date": {"type": "date"},
        "picture_url": {"type": "keyword"}, "insertion_time": {"type": "date"}}}}


def test_seed_000_index_created_by_the_user(pg, pgcdc, elasticsearch, unique_name):
    """Seed 000 as its write-up does it: the index user_data_index_new created
    first with its own mapping, then the changes of fabric.user_data streamed
    into it; _count equals count(*) and the dates are searchable."""
    schema = f"{unique_name}_fabric"
    t = f"{schema}.user_data"
    index = "user_data_index_new"
    elasticsearch.delete_index(index)
    elasticsearch.ok("PUT", f"/{index}", SEED_000_MAPPING)
    pg.execute(f"CREATE SCHEMA {schema}")
    pg.execute(f"""CREATE TABLE {t} (id serial PRIMARY KEY, name text, gender varchar(16),
      address text, latitude double precision, longitude double precision,
      timezone varchar(64), email varchar(255), phone varchar(64), cell varchar(64),
      date_of_birth timestamptz, registered_date timestamptz, picture_url text,
      insertion_time timestamp DEFAULT now())""")
    p = pgcdc(tables=t, **es_config(elasticsearch, index))
    p.start()
    for i in range(119):  # the write-up's 119 rows
        pg.execute(f"INSERT INTO {t} (name, gender, address, latitude, longitude, timezone, "
                   f"email, phone, cell, date_of_birth, registered_date, picture_url) VALUES "
                   f"(%s, %s, %s, %s, %s, 'Europe/Berlin', %s, '(555)-1', '(556)-2', "
                   f"'1980-05-0{1 + i % 9} 10:00+02', '2015-01-01 00:00+00', 'https://p/{i}')",
                   (f"User {i}", "female" if i % 2 else "male", f"{i} Main Street", i / 10,
                    -i / 10, f"user{i}@example.com"))
    docs = wait_mirror(elasticsearch, pg, t, index, pgcdc=p)
    assert elasticsearch.count(index) == pg.scalar(f"SELECT count(*) FROM {t}") == 119
    assert docs["1"]["name"] == "User 0"
    hits = elasticsearch.ok("POST", f"/{index}/_search", {"size": 10, "query": {"range": {
        "date_of_birth": {"gte": "1980-05-01T00:00:00Z", "lt": "1980-05-02T00:00:00Z"}}}})
    assert hits["hits"]["total"]["value"] == 14  # 119 rows, every 9th on May 1st
    # the user's mapping was kept
    props = elasticsearch.ok("GET", f"/{index}/_mapping")[index]["mappings"]["properties"]
    assert props["gender"] == {"type": "keyword"} and props["address"] == {"type": "text"}
    assert p.stop() == 0
    elasticsearch.delete_index(index)


def test_index_template_and_mapping_file_are_honoured(pg, pgcdc, elasticsearch, unique_name,
                                                      tmp_path):
    """An index template matching the name keeps its fields (the derived
    mapping gives the others); elasticsearch.mapping.file replaces the
    derived mapping."""
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, name text, note text, n bigint)")
    tpl = f"{unique_name}_tpl"
    elasticsearch.ok("PUT", f"/_index_template/{tpl}", {
        "index_patterns": [f"{unique_name}_tpl*"], "priority": 500,
        "template": {"mappings": {"properties": {"name": {"type": "keyword"}}}}})
    mapping_file = tmp_path / "mapping.json"
    mapping_file.write_text(json.dumps({"settings": {"number_of_replicas": 0}, "mappings": {
        "properties": {"note": {"type": "keyword"}}}}))
    try:
        for index, extra in ((f"{unique_name}_tpl_idx", {}),
                             (f"{unique_name}_file", {"elasticsearch.mapping.file":
                                                      str(mapping_file)})):
            p = pgcdc(tables=t, name=f"{index}_p", **es_config(elasticsearch, index, **extra))
            p.start()
            pg.execute(f"INSERT INTO {t} VALUES (%s, 'n', 'x', 5)", (len(index),))
            wait_mirror(elasticsearch, pg, t, index, pgcdc=p)
            props = elasticsearch.ok("GET", f"/{index}/_mapping")[index]["mappings"]["properties"]
            if extra:
                assert props["note"] == {"type": "keyword"}
                assert props["n"]["type"] == "long"  # dynamic: the file did not map it
                assert elasticsearch.ok("GET", f"/{index}/_settings")[index]["settings"][
                    "index"]["number_of_replicas"] == "0"
            else:
                assert props["name"] == {"type": "keyword"}  # the template's
                assert props["note"]["fields"]["keyword"]["ignore_above"] == 256  # derived
                assert props["id"] == {"type": "integer"}
                assert p.wait_log(r"created index .*and the fields of a matching index template")
            assert p.stop() == 0
            pg.execute(f"DELETE FROM {t}")
    finally:
        elasticsearch.request("DELETE", f"/_index_template/{tpl}")
