/*
 * test_es_doc.c - the Elasticsearch sink's record reading: span scanner,
 * document ids, versions, Debezium value conversions and derived mappings.
 */
#include <stdlib.h>
#include <string.h>

#include "sink/elasticsearch/es_doc.h"
#include "sink/elasticsearch/es_json.h"
#include "test.h"

static pgcdc_es_span sp(const char *s)
{
    return (pgcdc_es_span){s, strlen(s)};
}

static void test_scanner(void)
{
    const char *j = "{\"a\": [1, {\"b\": \"x\\\"}\"}], \"c\" :null, \"d\":-1.5e3}";
    pgcdc_es_span v = pgcdc_es_json_get(sp(j), "c");
    CHECK(pgcdc_es_json_is_null(v));
    v = pgcdc_es_json_get(sp(j), "d");
    CHECK(v.p && v.n == 6 && !memcmp(v.p, "-1.5e3", 6));
    v = pgcdc_es_json_get(sp(j), "a");
    CHECK(v.p && v.n == 18 && v.p[17] == ']');
    CHECK(!pgcdc_es_json_get(sp(j), "b").p); /* not a top-level member */
    CHECK(!pgcdc_es_json_get(sp("{\"a\":"), "a").p);
    const char *open_array = "[1,2";
    CHECK(pgcdc_es_json_skip(open_array, open_array + 4) == NULL);

    pgcdc_buf b = PGCDC_BUF_INIT;
    CHECK(pgcdc_es_json_unescape(&b, sp("\"a\\u00e9\\ud83d\\ude00\\n\\\\\"")) == 0);
    CHECK_STR(b.data, "a\xc3\xa9\xf0\x9f\x98\x80\n\\");
    pgcdc_buf_reset(&b);
    CHECK(pgcdc_es_base64_decode(&b, sp("\"AQI=\"")) == 0);
    CHECK(b.len == 2 && b.data[0] == 1 && b.data[1] == 2);
    int64_t n;
    CHECK(pgcdc_es_json_i64(sp("-9223372036854775808"), &n) == 0 && n == INT64_MIN);
    CHECK(pgcdc_es_json_i64(sp("9223372036854775808"), &n) == -1);
    CHECK(pgcdc_es_json_i64(sp("1.5"), &n) == -1);
    pgcdc_buf_free(&b);
}

/* A value with the schema of a table (id int, name text, d date, ts
 * MicroTimestamp, amount Decimal(scale 2), j Json, days Date[]). */
#define SCHEMA                                                                                     \
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"optional\":true,\"field\":"           \
    "\"before\",\"fields\":[]},{\"type\":\"struct\",\"optional\":true,\"field\":\"after\","        \
    "\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},{\"type\":\"string\","   \
    "\"optional\":true,\"field\":\"name\"},{\"type\":\"int32\",\"optional\":true,\"name\":"        \
    "\"io.debezium.time.Date\",\"field\":\"d\"},{\"type\":\"int64\",\"optional\":true,\"name\":"   \
    "\"io.debezium.time.MicroTimestamp\",\"field\":\"ts\"},{\"type\":\"bytes\",\"optional\":"      \
    "true,\"name\":\"org.apache.kafka.connect.data.Decimal\",\"parameters\":{\"scale\":\"2\"},"    \
    "\"field\":\"amount\"},{\"type\":\"string\",\"optional\":true,\"name\":"                       \
    "\"io.debezium.data.Json\",\"field\":\"j\"},{\"type\":\"array\",\"items\":{\"type\":"          \
    "\"int32\",\"name\":\"io.debezium.time.Date\"},\"optional\":true,\"field\":\"days\"}]}]}"

static pgcdc_record record(const char *key, const char *value)
{
    pgcdc_record r;
    memset(&r, 0, sizeof(r));
    r.topic = "p.public.t";
    r.topic_len = 10;
    r.key = key;
    r.key_len = key ? (uint32_t)strlen(key) : 0;
    r.value = value;
    r.value_len = value ? (uint32_t)strlen(value) : 0;
    return r;
}

static void test_index_with_schema(void)
{
    const char *value =
        "{\"schema\":" SCHEMA ",\"payload\":{\"before\":null,\"after\":{\"id\":7,\"name\":\"a|b\","
        "\"d\":-1,\"ts\":1700000000123456,\"amount\":\"/zg=\",\"j\":\"{\\\"k\\\": [1]}\","
        "\"days\":[0,null,19000]},\"source\":{\"lsn\":123456,\"schema\":\"public\",\"table\":"
        "\"t\"},\"op\":\"u\",\"ts_ms\":1}}";
    const char *key = "{\"schema\":{\"type\":\"struct\",\"fields\":[]},\"payload\":{\"id\":7}}";
    pgcdc_record r = record(key, value);
    pgcdc_es_schema cache;
    memset(&cache, 0, sizeof(cache));
    pgcdc_buf tmp = PGCDC_BUF_INIT, id = PGCDC_BUF_INIT, doc = PGCDC_BUF_INIT;
    pgcdc_es_action act;
    char err[256];
    CHECK(pgcdc_es_doc_build(&r, &cache, &tmp, &id, &doc, &act, err, sizeof(err)) == 0);
    CHECK_INT(act.op, PGCDC_ES_INDEX);
    CHECK(act.has_version && act.version == 123456);
    CHECK(act.table_name.n == 3 && !memcmp(act.table_name.p, "\"t\"", 3));
    CHECK_STR(id.data, "7");
    CHECK_STR(doc.data, "{\"id\":7,\"name\":\"a|b\",\"d\":\"1969-12-31\","
                        "\"ts\":\"2023-11-14T22:13:20.123456\",\"amount\":\"-2.00\","
                        "\"j\":{\"k\": [1]},\"days\":[\"1970-01-01\",null,\"2022-01-08\"]}");
    CHECK_INT(cache.nfields, 7);

    pgcdc_buf map = PGCDC_BUF_INIT;
    static const char *const skip[] = {"amount", NULL};
    pgcdc_es_mapping(&cache, "object", skip, &map);
    CHECK_STR(map.data,
              "{\"properties\":{\"id\":{\"type\":\"integer\"},\"name\":{\"type\":\"text\","
              "\"fields\":{\"keyword\":{\"type\":\"keyword\",\"ignore_above\":256}}},\"d\":{"
              "\"type\":\"date\"},\"ts\":{\"type\":\"date\"},\"j\":{\"type\":\"object\"},"
              "\"days\":{\"type\":\"date\"}}}");
    pgcdc_buf_free(&map);
    pgcdc_es_schema_free(&cache);
    pgcdc_buf_free(&tmp);
    pgcdc_buf_free(&id);
    pgcdc_buf_free(&doc);
}

static void test_delete_composite_key_no_schema(void)
{
    const char *value = "{\"before\":{\"a\":1,\"b\":\"x|y\"},\"after\":null,\"source\":{\"lsn\":"
                        "99},\"op\":\"d\"}";
    pgcdc_record r = record("{\"a\":1,\"b\":\"x|y\\\\\"}", value);
    pgcdc_es_schema cache;
    memset(&cache, 0, sizeof(cache));
    pgcdc_buf tmp = PGCDC_BUF_INIT, id = PGCDC_BUF_INIT, doc = PGCDC_BUF_INIT;
    pgcdc_es_action act;
    char err[256];
    CHECK(pgcdc_es_doc_build(&r, &cache, &tmp, &id, &doc, &act, err, sizeof(err)) == 0);
    CHECK_INT(act.op, PGCDC_ES_DELETE);
    CHECK(act.version == 99);
    CHECK_STR(id.data, "1|x\\|y\\\\");
    CHECK(doc.len == 0);

    /* no key: a clear error naming the fix */
    r = record(NULL, value);
    pgcdc_buf_reset(&id);
    CHECK(pgcdc_es_doc_build(&r, &cache, &tmp, &id, &doc, &act, err, sizeof(err)) == -1);
    CHECK(strstr(err, "message.key.columns") != NULL);

    /* tombstones, heartbeats and messages are not rows */
    r = record("{\"a\":1}", NULL);
    CHECK(pgcdc_es_doc_build(&r, &cache, &tmp, &id, &doc, &act, err, sizeof(err)) == 0);
    CHECK_INT(act.op, PGCDC_ES_SKIP);
    r = record(NULL, "{\"ts_ms\":1}");
    CHECK(pgcdc_es_doc_build(&r, &cache, &tmp, &id, &doc, &act, err, sizeof(err)) == 0);
    CHECK_INT(act.op, PGCDC_ES_SKIP);
    /* not JSON at all */
    r = record(NULL, "hello");
    CHECK(pgcdc_es_doc_build(&r, &cache, &tmp, &id, &doc, &act, err, sizeof(err)) == -1);
    CHECK(strstr(err, "not a Debezium change event") != NULL);
    pgcdc_es_schema_free(&cache);
    pgcdc_buf_free(&tmp);
    pgcdc_buf_free(&id);
    pgcdc_buf_free(&doc);
}

int main(void)
{
    TEST_RUN(test_scanner);
    TEST_RUN(test_index_with_schema);
    TEST_RUN(test_delete_composite_key_no_schema);
    TEST_DONE();
}
