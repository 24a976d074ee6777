"""PostgreSQL types -> Debezium values, end to end (real pgoutput text
output), in the handling modes users pick most."""

from __future__ import annotations

import base64
import uuid

import pytest

from conftest import unwrap

DDL = """
    id int PRIMARY KEY,
    c_int2 smallint, c_int4 int, c_int8 bigint,
    c_real real, c_double double precision, c_nan double precision,
    c_bool boolean,
    c_num numeric(10,2), c_numvar numeric, c_numbig numeric,
    c_text text, c_varchar varchar(5), c_char char(3),
    c_bytea bytea,
    c_date date, c_date_bc date,
    c_time time, c_time3 time(3), c_time24 time,
    c_ts timestamp, c_ts3 timestamp(3), c_tstz timestamptz, c_tsinf timestamp,
    c_interval interval,
    c_uuid uuid, c_json json, c_jsonb jsonb,
    c_mood {mood},
    c_intarr int[], c_textarr text[], c_emptyarr int[],
    c_inet inet
"""

VALUES = """(
    1,
    32767, -2147483648, 9223372036854775807,
    1.5, 0.1, 'NaN',
    true,
    12.34, 1.50, 123456789012345678901234567890.123,
    E'h\\u00e9llo "q"\\n\\ttab', 'ab', 'ab',
    '\\x0102ff',
    '1970-01-02', '0044-03-15 BC',
    '01:02:03.5', '01:02:03.5', '24:00:00',
    '1970-01-01 00:00:01.000001', '1970-01-01 00:00:01.5', '2021-03-04 05:06:07.123456+01',
    'infinity',
    '1 day 01:00:00',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '{"b":1, "a":2}',
    'happy',
    '{1,NULL,3}', '{"a,b","c\\"d",NULL}', '{}',
    '192.168.0.1/24'
)"""


def b64int(b64: str) -> int:
    return int.from_bytes(base64.b64decode(b64), "big", signed=True)


@pytest.fixture
def typed_table(pg, unique_name):
    mood = f"{unique_name}_mood"
    pg.execute(f"DROP TYPE IF EXISTS {mood} CASCADE")
    pg.execute(f"CREATE TYPE {mood} AS ENUM ('sad', 'happy')")
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} ({DDL.format(mood=mood)})")
    return t


def capture(pg, pgcdc, unique_name, table, **cfg):
    p = pgcdc(tables=table)
    p.set(**cfg)
    p.start()
    pg.execute(f"INSERT INTO {table} VALUES {VALUES}")
    ev = p.wait_events(p.topic("public", unique_name), 1)[0]
    return ev["schema"], ev["payload"]["after"]


def field_schemas(schema):
    return {f["field"]: f for f in schema["fields"][1]["fields"]}


def test_default_modes(pg, pgcdc, unique_name, typed_table):
    schema, a = capture(pg, pgcdc, unique_name, typed_table)
    fs = field_schemas(schema)
    assert a["c_int2"] == 32767 and fs["c_int2"]["type"] == "int16"
    assert a["c_int4"] == -2147483648 and fs["c_int4"]["type"] == "int32"
    assert a["c_int8"] == 9223372036854775807 and fs["c_int8"]["type"] == "int64"
    assert a["c_real"] == 1.5 and fs["c_real"]["type"] == "float"
    assert a["c_double"] == 0.1 and fs["c_double"]["type"] == "double"
    assert a["c_nan"] == "NaN"
    assert a["c_bool"] is True
    # precise decimals: Kafka Connect Decimal / Debezium VariableScaleDecimal
    assert b64int(a["c_num"]) == 1234
    assert fs["c_num"]["name"] == "org.apache.kafka.connect.data.Decimal"
    assert fs["c_num"]["parameters"] == {"scale": "2", "connect.decimal.precision": "10"}
    assert a["c_numvar"]["scale"] == 1 and b64int(a["c_numvar"]["value"]) == 15
    assert fs["c_numvar"]["name"] == "io.debezium.data.VariableScaleDecimal"
    assert b64int(a["c_numbig"]["value"]) == 123456789012345678901234567890123
    assert a["c_numbig"]["scale"] == 3
    assert a["c_text"] == 'h\u00e9llo "q"\n\ttab'
    assert a["c_varchar"] == "ab" and a["c_char"] == "ab "
    assert base64.b64decode(a["c_bytea"]) == b"\x01\x02\xff"
    assert a["c_date"] == 1 and fs["c_date"]["name"] == "io.debezium.time.Date"
    assert a["c_date_bc"] < -700000
    assert a["c_time"] == 3723500000 and fs["c_time"]["name"] == "io.debezium.time.MicroTime"
    assert a["c_time3"] == 3723500 and fs["c_time3"]["name"] == "io.debezium.time.Time"
    assert a["c_time24"] == 86400000000
    assert a["c_ts"] == 1000001 and fs["c_ts"]["name"] == "io.debezium.time.MicroTimestamp"
    assert a["c_ts3"] == 1500 and fs["c_ts3"]["name"] == "io.debezium.time.Timestamp"
    assert a["c_tstz"] == "2021-03-04T04:06:07.123456Z"
    assert fs["c_tstz"]["name"] == "io.debezium.time.ZonedTimestamp"
    assert isinstance(a["c_tsinf"], int) and a["c_tsinf"] > 9 * 10**18
    assert a["c_interval"] == 90000000000
    assert fs["c_interval"]["name"] == "io.debezium.time.MicroDuration"
    assert a["c_uuid"] == str(uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
    assert fs["c_uuid"]["name"] == "io.debezium.data.Uuid"
    assert a["c_json"] == '{"a": [1, 2]}' and fs["c_json"]["name"] == "io.debezium.data.Json"
    assert a["c_jsonb"] == '{"a": 2, "b": 1}'
    assert a["c_mood"] == "happy"
    assert fs["c_mood"]["name"] == "io.debezium.data.Enum"
    assert fs["c_mood"]["parameters"] == {"allowed": "sad,happy"}
    assert a["c_intarr"] == [1, None, 3]
    assert fs["c_intarr"]["type"] == "array" and fs["c_intarr"]["items"]["type"] == "int32"
    assert a["c_textarr"] == ["a,b", 'c"d', None]
    assert a["c_emptyarr"] == []
    assert a["c_inet"] == "192.168.0.1/24"


def test_string_and_connect_modes(pg, pgcdc, unique_name, typed_table):
    schema, a = capture(pg, pgcdc, unique_name, typed_table,
                        **{"decimal.handling.mode": "string", "time.precision.mode": "connect",
                           "binary.handling.mode": "hex", "interval.handling.mode": "string"})
    fs = field_schemas(schema)
    assert a["c_num"] == "12.34" and fs["c_num"]["type"] == "string"
    assert a["c_numbig"] == "123456789012345678901234567890.123"
    assert a["c_ts"] == 1000 and fs["c_ts"]["name"] == "org.apache.kafka.connect.data.Timestamp"
    assert a["c_time"] == 3723500 and fs["c_time"]["name"] == "org.apache.kafka.connect.data.Time"
    assert a["c_date"] == 1 and fs["c_date"]["name"] == "org.apache.kafka.connect.data.Date"
    assert a["c_bytea"] == "0102ff"
    assert a["c_interval"] == "P0Y0M1DT1H0M0S"


def test_double_mode(pg, pgcdc, unique_name, typed_table):
    schema, a = capture(pg, pgcdc, unique_name, typed_table,
                        **{"decimal.handling.mode": "double"})
    assert a["c_num"] == 12.34 and a["c_numvar"] == 1.5
    assert field_schemas(schema)["c_num"]["type"] == "double"


def test_unchanged_toast_value(pg, pgcdc, unique_name):
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, big text, n int)")
    p = pgcdc(tables=t).start()
    pg.execute(f"INSERT INTO {t} SELECT 1, string_agg(md5(g::text), '') , 0 "
               f"FROM generate_series(1, 400) g")
    pg.execute(f"UPDATE {t} SET n = 1 WHERE id = 1")
    ev = p.wait_events(p.topic("public", unique_name), 2)
    assert len(unwrap(ev[0])["after"]["big"]) == 12800
    assert unwrap(ev[1])["after"] == {"id": 1, "big": "__debezium_unavailable_value", "n": 1}


def test_unconvertible_value_stops_with_clear_error(pg, pgcdc, unique_name):
    """NaN cannot be a Kafka Connect Decimal: pgcdc stops and says what to do,
    rather than dropping or inventing a value."""
    t = f"public.{unique_name}"
    pg.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v numeric(10,2))")
    p = pgcdc(tables=t).start()
    pg.execute(f"INSERT INTO {t} VALUES (1, 'NaN')")
    assert p.wait_exit(timeout=30) == 1
    log = p.log_text()
    assert "column \"v\"" in log and "decimal.handling.mode" in log


def test_schemas_off_same_values(pg, pgcdc, unique_name, typed_table):
    """With the converters' schemas disabled the payload is the same, bare."""
    p = pgcdc(tables=typed_table)
    p.set(**{"key.converter.schemas.enable": False, "value.converter.schemas.enable": False})
    p.start()
    pg.execute(f"INSERT INTO {typed_table} VALUES {VALUES}")
    pg.execute(f"DELETE FROM {typed_table} WHERE id = 1")
    ev = p.wait_events(p.topic("public", unique_name), 2)
    assert "schema" not in ev[0]
    on = pgcdc(tables=typed_table)  # a second pipeline with schemas, on its own slot
    on.start()
    pg.execute(f"INSERT INTO {typed_table} VALUES {VALUES}")
    with_schema = on.wait_events(on.topic("public", unique_name), 1)[0]["payload"]["after"]
    assert ev[0]["after"] == with_schema
    assert ev[1]["op"] == "d" and ev[1]["before"]["id"] == 1
