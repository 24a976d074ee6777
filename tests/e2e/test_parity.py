"""Parity with real Debezium: the same changes captured by pgcdc and by
Debezium's PostgreSQL connector (the `debezium` fixture, tests/rig/debeziumrig.py),
compared record by record: topics, keys, values, schemas included.

Only what differs between any two captures of the same change is normalised
away (processing timestamps, the release in source.version).  A difference
between pgcdc and Debezium is either documented in docs/COMPATIBILITY.md as
deliberate and normalised here with a pointer to its row, or a gap listed
there and compared by a strict xfail test of its own, so that closing the gap
turns that test red until the marker is removed.
"""

from __future__ import annotations

import copy
import json
import time

import pytest

from conftest import kafka_consume

COLUMNS = """
    id int PRIMARY KEY,
    big bigint,
    amount numeric(10,2),
    note text,
    label varchar(20),
    flag bool,
    at timestamptz,
    day date,
    blob bytea,
    doc jsonb,
    uid uuid,
    nums int[]
"""

WORKLOAD = [
    "INSERT INTO {t} VALUES (1, 9007199254740993, 12345678.90, 'héllo \"q\"\\n', 'lbl', true, "
    "'2024-02-29 12:34:56.789012+02', '2024-02-29', '\\xdeadbeef', '{{\"a\": [1, 2.5], \"b\": null}}', "
    "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{{1,NULL,3}}')",
    "INSERT INTO {t} (id, label, amount, flag, at, day, nums) VALUES "
    "(2, 'two', -0.05, false, '1969-12-31 23:59:59.5+00', '1900-01-01', '{{}}')",
    "BEGIN; UPDATE {t} SET note = 'world', big = -1 WHERE id = 1; "
    "INSERT INTO {t} (id, label) VALUES (4, 'four'); COMMIT",
    "DELETE FROM {t} WHERE id = 2",
    "UPDATE {t} SET id = 3 WHERE id = 1",  # a primary key change: a delete and a create
]
# Row events: c, c, u, c, d, d + c.  Debezium also sends a tombstone after each
# delete (tombstones.on.delete=true), which the file sink does not write.
N_VALUES = 7
N_RECORDS = N_VALUES + 2
TIMEOUT = 60


def setup_table(pg, t, replica_identity="DEFAULT", columns=COLUMNS):
    pg.execute(f"DROP TABLE IF EXISTS {t}")
    pg.execute(f"CREATE TABLE {t} ({columns})")
    pg.execute(f"ALTER TABLE {t} REPLICA IDENTITY {replica_identity}")


def run_workload(pg, t, workload=WORKLOAD):
    conn = pg.conn()
    try:
        with conn.cursor() as cur:
            for sql in workload:
                cur.execute(sql.format(t=t))
    finally:
        conn.close()


def _payload(event):
    if isinstance(event, dict) and set(event) == {"schema", "payload"}:
        return event["payload"]
    return event


def _source_schema(event):
    for f in event["schema"]["fields"]:
        if f["field"] == "source":
            return f
    raise AssertionError("no source field in the value schema")


def normalise(event):
    """A copy of a value without what differs between two captures of one change."""
    if event is None:
        return None
    e = copy.deepcopy(event)
    payload = _payload(e)
    for k in ("ts_ms", "ts_us", "ts_ns"):  # processing time of each engine
        if k in payload:
            payload[k] = "<ts>"
    src = payload.get("source")
    if isinstance(src, dict):
        # docs/COMPATIBILITY.md, row `source.version`: each names its own release.
        src["version"] = "<version>"
    return e


def differences(a, b, path="$", out=None) -> list[str]:
    """Every place where a and b differ, key order included."""
    out = [] if out is None else out
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            out.append(f"{path}: keys {list(a)} != {list(b)}")
        for k in a:
            if k in b:
                differences(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            differences(x, y, f"{path}[{i}]", out)
    elif a != b or type(a) is not type(b):
        out.append(f"{path}: pgcdc {json.dumps(a)[:300]} != debezium {json.dumps(b)[:300]}")
    return out


def assert_same(ours: list, theirs: list, what: str) -> None:
    assert len(ours) == len(theirs), \
        f"{what}: pgcdc has {len(ours)}, Debezium {len(theirs)}\n" \
        f"pgcdc: {json.dumps(ours)[:3000]}\ndebezium: {json.dumps(theirs)[:3000]}"
    report = []
    for i, (a, b) in enumerate(zip(ours, theirs)):
        d = differences(a, b)
        if d:
            report.append(f"{what} #{i}:\n  " + "\n  ".join(d))
    assert not report, "\n".join(report)


def capture(pg, pgcdc, debezium, name, replica_identity="DEFAULT", pgcdc_config=None,
            debezium_props=None, columns=COLUMNS, workload=WORKLOAD):
    """Runs the workload once with pgcdc and Debezium both streaming; returns (pgcdc, oracle, topic)."""
    t = f"public.{name}"
    setup_table(pg, t, replica_identity, columns)
    # The same name: the same topic prefix, so the same topics and source.name;
    # slots and publications stay separate (see the fixtures).
    p = pgcdc(tables=t, name=name, **(pgcdc_config or {})).start()
    d = debezium(tables=t, name=name, **(debezium_props or {}))
    run_workload(pg, t, workload)
    return p, d, p.topic("public", name)


def captured_values(p, d, topic, n):
    """The n values of pgcdc's file and Debezium's n values (its tombstones left out)."""
    ours = p.wait_events(topic, n, timeout=TIMEOUT, exact=True)
    theirs = []
    while len(theirs) < n:
        theirs = [r["value"] for r in d.wait_records(len(theirs) + 1, timeout=TIMEOUT)
                  if r["value"] is not None]
    return ours, theirs[:n]


@pytest.mark.parametrize("schemas,replica_identity", [
    (True, "DEFAULT"), (True, "FULL"), (False, "DEFAULT")],
    ids=["schemas-default", "schemas-full", "noschemas-default"])
def test_values_match_debezium(pg, pgcdc, debezium, unique_name, schemas, replica_identity):
    p, d, topic = capture(
        pg, pgcdc, debezium, unique_name, replica_identity,
        pgcdc_config={"value.converter.schemas.enable": schemas},
        debezium_props={"converter.schemas.enable": schemas})
    ours = p.wait_events(topic, N_VALUES, timeout=TIMEOUT, exact=True)
    theirs = d.wait_records(N_RECORDS, timeout=TIMEOUT)
    assert {r["topic"] for r in theirs} == {topic}
    assert all(("schema" in r["value"]) == schemas for r in theirs if r["value"] is not None)
    values = [r["value"] for r in theirs if r["value"] is not None]  # tombstones: not in files
    assert [_payload(v)["op"] for v in values] == ["c", "c", "u", "c", "d", "d", "c"]
    assert_same([normalise(e) for e in ours], [normalise(v) for v in values], "value")


def test_records_match_debezium_on_kafka(pg, pgcdc, debezium, kafka, unique_name):
    """Keys, values and tombstones, in order, as both put them on their topics."""
    p, d, topic = capture(pg, pgcdc, debezium, unique_name, pgcdc_config={
        "sink.type": "kafka", "bootstrap.servers": kafka.bootstrap})
    theirs = d.wait_records(N_RECORDS, timeout=TIMEOUT)
    recs = kafka_consume(kafka.bootstrap, topic, n=N_RECORDS, timeout=TIMEOUT)
    assert {r["topic"] for r in theirs} == {topic} and {r.topic for r in recs} == {topic}
    assert [r["value"] is None for r in theirs] == \
        [False, False, False, False, False, True, False, True, False]
    assert_same([r.key_json() for r in recs], [r["key"] for r in theirs], "key")
    assert_same([normalise(r.value_json()) for r in recs],
                [normalise(r["value"]) for r in theirs], "value")


# ------------------------------------------------------- special cases
# Each test below compares everything, like the ones above, on a table (or
# with settings) chosen for one behaviour that differed once: the source
# schema of 3.0, zero values and column DEFAULTs.  A gap found later gets a
# strict xfail test here and a row in docs/COMPATIBILITY.md.

def test_source_schema_matches_debezium(pg, pgcdc, debezium, unique_name):
    """The `source` struct of 3.0: no schema version, no origin/origin_lsn fields."""
    p, d, topic = capture(pg, pgcdc, debezium, unique_name)
    ours, theirs = captured_values(p, d, topic, N_VALUES)
    assert all("version" not in _source_schema(v) for v in theirs)
    assert_same([normalise(e) for e in ours], [normalise(v) for v in theirs], "value")


# Every type family pgcdc maps, NOT NULL, with a value; a delete under
# REPLICA IDENTITY DEFAULT sends only the key, so Debezium fills the other
# required fields with its zero values (docs/COMPATIBILITY.md, "Types": point
# is a struct there and tsvector is dropped by 3.0, so neither is listed).
ZERO_COLUMNS = [
    ("i2", "int2", "1"), ("i4", "int4", "2"), ("i8", "int8", "3"), ("f4", "float4", "1.5"),
    ("f8", "float8", "2.5"), ("n", "numeric(10,2)", "3.5"), ("nu", "numeric", "4.5"),
    ("n0", "numeric(5,0)", "5"), ("m", "money", "5.5"), ("b", "bool", "true"), ("t", "text", "'t'"),
    ("vc", "varchar(5)", "'v'"), ("c", "char(3)", "'c'"),
    ("u", "uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"), ("j", "json", "'{{}}'"),
    ("jb", "jsonb", "'{{}}'"), ("x", "xml", "'<a/>'"), ("y", "bytea", "'\\x01'"),
    ("d", "date", "'2024-01-02'"), ("tm", "time", "'01:02:03'"), ("tm3", "time(3)", "'01:02:03.123'"),
    ("ttz", "timetz", "'01:02:03+02'"), ("ts", "timestamp", "'2024-01-02 03:04:05'"),
    ("ts3", "timestamp(3)", "'2024-01-02 03:04:05.123'"),
    ("tstz", "timestamptz", "'2024-01-02 03:04:05+00'"), ("iv", "interval", "'1 day'"),
    ("ai", "int[]", "'{{1}}'"), ("at", "text[]", "'{{a}}'"), ("e", "{enum}", "'happy'"),
    ("bt", "bit(1)", "B'1'"), ("b3", "bit(3)", "B'101'"), ("vb", "varbit", "B'11'"),
    ("ine", "inet", "'1.2.3.4'"), ("ci", "cidr", "'10.0.0.0/8'"), ("mac", "macaddr", "'08:00:2b:01:02:03'"),
    ("o", "oid", "7"),
]
TYPE_MODES = [
    {},
    {"decimal.handling.mode": "double", "time.precision.mode": "connect",
     "binary.handling.mode": "base64", "interval.handling.mode": "string"},
    {"decimal.handling.mode": "string", "time.precision.mode": "adaptive_time_microseconds",
     "binary.handling.mode": "hex"},
    {"binary.handling.mode": "base64-url-safe"},
]
TYPE_MODE_IDS = ["defaults", "double-connect-base64-string", "string-micros-hex", "urlsafe"]


def with_enum(pg, name, columns):
    """Creates the enum type {enum} of the columns stands for; returns the columns."""
    pg.execute(f"DROP TYPE IF EXISTS {name}_mood CASCADE")
    pg.execute(f"CREATE TYPE {name}_mood AS ENUM ('sad', 'happy')")
    return columns.replace("{enum}", f"{name}_mood")


@pytest.mark.parametrize("modes", TYPE_MODES, ids=TYPE_MODE_IDS)
def test_delete_before_of_not_null_columns_matches_debezium(pg, pgcdc, debezium, unique_name,
                                                            modes):
    columns = with_enum(pg, unique_name, "id int PRIMARY KEY, " + ", ".join(
        f"{c} {t} NOT NULL" for c, t, _ in ZERO_COLUMNS) + ", s serial, maybe text")
    values = ", ".join(v for _, _, v in ZERO_COLUMNS)
    workload = [f"INSERT INTO {{t}} VALUES (1, {values}, DEFAULT, 'm')", "DELETE FROM {t}"]
    p, d, topic = capture(pg, pgcdc, debezium, unique_name, columns=columns, workload=workload,
                          pgcdc_config=modes, debezium_props=modes)
    ours, theirs = captured_values(p, d, topic, 2)
    assert_same([normalise(e) for e in ours], [normalise(v) for v in theirs], "value")


# Column DEFAULTs as the catalog prints them, one column each: what Debezium
# reads out of them (the field schema's "default") and what JsonConverter
# writes for a NULL.
DEFAULT_COLUMNS = [
    "d_i4 int DEFAULT 42", "d_neg int DEFAULT -5", "d_expr int DEFAULT 1 + 2",
    "d_i2 int2 DEFAULT 7", "d_i8 int8 DEFAULT 9007199254740993", "d_i8neg bigint DEFAULT -1",
    "d_i4q int DEFAULT '12'::int", "d_f4 real DEFAULT 1.5", "d_f8 float8 DEFAULT -2.25",
    "d_f8i float8 DEFAULT 3", "d_n numeric(10,2) DEFAULT 1.5", "d_nneg numeric(10,2) DEFAULT -3.5",
    "d_nu numeric DEFAULT 12.345", "d_b bool DEFAULT true", "d_bf bool DEFAULT false",
    "d_t text DEFAULT 'x'", "d_tq text DEFAULT 'it''s'", "d_tc text DEFAULT 'x'::text",
    "d_tcat text DEFAULT 'a' || 'b'", "d_vc varchar(10) DEFAULT 'v'", "d_c char(3) DEFAULT 'ab'",
    "d_tnull text DEFAULT NULL", "d_inull int DEFAULT NULL",
    "d_u uuid DEFAULT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "d_ugen uuid DEFAULT gen_random_uuid()",
    "d_j json DEFAULT '{\"a\":1}'", "d_jb jsonb DEFAULT '{\"a\": 1}'", "d_x xml DEFAULT '<a/>'",
    "d_d date DEFAULT '2024-01-01'", "d_dnow date DEFAULT current_date",
    "d_tm time DEFAULT '12:34:56.789'", "d_tmnow time DEFAULT localtime",
    "d_ts timestamp DEFAULT '2024-01-01 12:00:00.5'", "d_tsnow timestamp DEFAULT now()",
    "d_tstz timestamptz DEFAULT '2024-01-01 12:00:00+02'", "d_tstznow timestamptz DEFAULT now()",
    "d_tstzcur timestamptz DEFAULT CURRENT_TIMESTAMP", "d_iv interval DEFAULT '1 day 02:00:00'",
    "d_e {enum} DEFAULT 'happy'", "d_bt bit(1) DEFAULT B'1'", "d_b3 bit(3) DEFAULT B'101'",
    "d_vb varbit DEFAULT B'11'", "d_y bytea DEFAULT '\\x01'", "d_ai int[] DEFAULT '{1,2}'",
    "d_inet inet DEFAULT '1.2.3.4'", "d_m money DEFAULT 1.5", "d_ttz timetz DEFAULT '12:00:00+02'",
]
NOT_NULL_DEFAULT_COLUMNS = ["s serial", "bs bigserial", "d_nn int NOT NULL DEFAULT 5",
                            "d_nnt text NOT NULL DEFAULT 'z'", "d_nnts timestamptz NOT NULL DEFAULT now()"]


def default_columns(pg, name):
    return with_enum(pg, name, ", ".join(["id int PRIMARY KEY DEFAULT 0"] + DEFAULT_COLUMNS +
                                         NOT_NULL_DEFAULT_COLUMNS))


def default_workload():
    nullable = [c.split()[0] for c in DEFAULT_COLUMNS]
    return ["INSERT INTO {t} (id) VALUES (1)",
            f"INSERT INTO {{t}} (id, {', '.join(nullable)}) VALUES "
            f"(2, {', '.join('NULL' for _ in nullable)})",
            "DELETE FROM {t} WHERE id = 1"]  # before: key only, NOT NULL columns defaulted


def normalise_defaults(event):
    """normalise(), and the now() value of d_nnts, the time of each insert."""
    e = normalise(event)
    for side in ("before", "after"):
        row = _payload(e)[side]
        if row and not row["d_nnts"].startswith("1970-01-01"):
            row["d_nnts"] = "<now>"
    return e


@pytest.mark.parametrize("modes", TYPE_MODES, ids=TYPE_MODE_IDS)
def test_column_defaults_match_debezium(pg, pgcdc, debezium, unique_name, modes):
    p, d, topic = capture(pg, pgcdc, debezium, unique_name, columns=default_columns(pg, unique_name),
                          workload=default_workload(), pgcdc_config=modes, debezium_props=modes)
    ours, theirs = captured_values(p, d, topic, 3)
    assert_same([normalise_defaults(e) for e in ours], [normalise_defaults(v) for v in theirs],
                "value")


@pytest.mark.parametrize("schemas,replace", [(True, False), (False, True), (False, False)],
                         ids=["schemas-keep-nulls", "noschemas-replace", "noschemas-keep-nulls"])
def test_column_defaults_replace_null_matches_debezium(pg, pgcdc, debezium, unique_name, schemas,
                                                      replace):
    """replace.null.with.default (JsonConverter's, default true) and schemas.enable: with
    schemas off JsonConverter still replaces; false keeps the NULLs of optional fields."""
    p, d, topic = capture(
        pg, pgcdc, debezium, unique_name, columns=default_columns(pg, unique_name),
        workload=default_workload(),
        pgcdc_config={"value.converter.schemas.enable": schemas,
                      "value.converter.replace.null.with.default": replace},
        debezium_props={"converter.schemas.enable": schemas,
                        "converter.replace.null.with.default": replace})
    ours, theirs = captured_values(p, d, topic, 3)
    assert_same([normalise_defaults(e) for e in ours], [normalise_defaults(v) for v in theirs],
                "value")
    if not replace:
        assert _payload(ours[1])["after"]["d_i4"] is None


def test_column_default_change_matches_debezium(pg, pgcdc, debezium, unique_name):
    """ALTER TABLE ... SET DEFAULT: both read the catalog again at the next Relation
    message, which PostgreSQL sends before the next change of the altered table."""
    p, d, topic = capture(pg, pgcdc, debezium, unique_name,
                          columns="id int PRIMARY KEY, c int DEFAULT 1",
                          workload=["INSERT INTO {t} VALUES (1, NULL)"])
    captured_values(p, d, topic, 1)
    # One step at a time: each reads the catalog when it decodes the Relation
    # message, so a later ALTER must not have run yet.
    for n, alter in enumerate(["SET DEFAULT 2", "DROP DEFAULT"], start=2):
        run_workload(pg, f"public.{unique_name}", [f"ALTER TABLE {{t}} ALTER COLUMN c {alter}",
                                                   f"INSERT INTO {{t}} VALUES ({n}, NULL)"])
        ours, theirs = captured_values(p, d, topic, n)
    assert [_payload(v)["after"]["c"] for v in theirs] == [1, 2, None]
    assert_same([normalise(e) for e in ours], [normalise(v) for v in theirs], "value")


# ------------------------------------------------------------- restarts
RESTART_WORKLOAD = [
    "INSERT INTO {t} (id, note) VALUES (10, 'after restart')",
    "UPDATE {t} SET note = 'again' WHERE id = 10",
]


def _wait_inactive(pg, slot):
    deadline = time.time() + TIMEOUT
    while (pg.slot(slot) or {}).get("active"):
        assert time.time() < deadline, f"slot {slot} still active"
        time.sleep(0.1)


def restart_both(pg, p, d, name):
    """Stops pgcdc and Debezium, changes the table, starts both from their offsets."""
    assert p.stop() == 0
    d.stop()
    _wait_inactive(pg, p.slot)
    _wait_inactive(pg, f"{name}_dbz_slot")
    run_workload(pg, f"public.{name}", RESTART_WORKLOAD)
    p.start()
    d.start()


def first_sequence_after_restart(events):
    return json.loads(_payload(events[N_VALUES])["source"]["sequence"])


def test_values_after_restart_match_debezium(pg, pgcdc, debezium, unique_name):
    p, d, topic = capture(pg, pgcdc, debezium, unique_name)
    captured_values(p, d, topic, N_VALUES)
    restart_both(pg, p, d, unique_name)
    ours, theirs = captured_values(p, d, topic, N_VALUES + len(RESTART_WORKLOAD))
    # Nothing delivered twice, nothing lost: the restart resumed where each stopped.
    assert [_payload(e)["op"] for e in ours[N_VALUES:]] == ["c", "u"]
    assert_same([normalise(e) for e in ours], [normalise(v) for v in theirs], "value")


def test_sequence_after_restart_matches_debezium(pg, pgcdc, debezium, unique_name):
    """The last commit LSN comes from the stored offsets (pgcdc: last_commit_lsn)."""
    p, d, topic = capture(pg, pgcdc, debezium, unique_name)
    captured_values(p, d, topic, N_VALUES)
    restart_both(pg, p, d, unique_name)
    ours, theirs = captured_values(p, d, topic, N_VALUES + len(RESTART_WORKLOAD))
    assert first_sequence_after_restart(theirs)[0] is not None
    assert first_sequence_after_restart(ours) == first_sequence_after_restart(theirs)


# ------------------------------------------------------------- snapshots
def capture_snapshot(pg, pgcdc, debezium, name):
    """The rows left by the workload, copied by both with snapshot.mode=initial."""
    t = f"public.{name}"
    setup_table(pg, t)
    run_workload(pg, t)  # leaves ids 3 and 4
    p = pgcdc(tables=t, name=name, **{"snapshot.mode": "initial"}).start()
    d = debezium(tables=t, name=name, **{"snapshot.mode": "initial"})
    ours, theirs = captured_values(p, d, p.topic("public", name), 2)
    key = lambda e: _payload(e)["after"]["id"]  # noqa: E731
    return sorted(ours, key=key), sorted(theirs, key=key)


def normalise_snapshot(event):
    e = normalise(event)
    src = _payload(e)["source"]
    # Each copy is taken in its own transaction at its own slot's position:
    # these differ between any two snapshots of the same rows.
    # The same goes for source.ts_*, the time of the copy (a commit time for
    # streamed changes, compared exactly there).
    for k in ("txId", "lsn", "sequence", "ts_ms", "ts_us", "ts_ns"):
        src[k] = f"<{k}>" if src[k] is not None else None
    return e


def test_snapshot_values_match_debezium(pg, pgcdc, debezium, unique_name):
    ours, theirs = capture_snapshot(pg, pgcdc, debezium, unique_name)
    assert [_payload(e)["op"] for e in ours] == ["r", "r"]
    assert_same([normalise_snapshot(e) for e in ours], [normalise_snapshot(v) for v in theirs],
                "value")


def test_snapshot_txid_matches_debezium(pg, pgcdc, debezium, unique_name):
    """The snapshot transaction's txid_current(), the same on every row of the copy."""
    ours, theirs = capture_snapshot(pg, pgcdc, debezium, unique_name)
    assert all(isinstance(_payload(v)["source"]["txId"], int) for v in theirs)
    assert [type(_payload(e)["source"]["txId"]) for e in ours] == [int, int]
    assert len({_payload(e)["source"]["txId"] for e in ours}) == 1
