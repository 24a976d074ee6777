/*
 * test_delta.c - Delta Lake log text: the actions pgcdc writes, and reading
 * a log back (txn versions, live files, protocol and feature checks).
 */
#include <stdlib.h>
#include <string.h>

#include "format/delta/delta_log.h"
#include "test.h"

static char err[512];

static char *cstr(pgcdc_buf *b)
{
    pgcdc_buf_putc(b, 0);
    b->len--;
    return b->data;
}

static void test_schema_string(void)
{
    pgcdc_delta_field f[] = {{"id", "long", 0}, {"na\"me", "string", 1}, {"p", "decimal(10,2)", 1}};
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_delta_schema_string(&b, f, 3);
    CHECK_STR(cstr(&b),
              "{\"type\":\"struct\",\"fields\":["
              "{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
              "{\"name\":\"na\\\"me\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
              "{\"name\":\"p\",\"type\":\"decimal(10,2)\",\"nullable\":true,"
              "\"metadata\":{}}]}");
    CHECK(!pgcdc_delta_schema_needs_ntz(f, 3));
    pgcdc_delta_field t[] = {{"ts", "timestamp_ntz", 1}};
    CHECK(pgcdc_delta_schema_needs_ntz(t, 1));
    pgcdc_buf_free(&b);
}

static void test_actions(void)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_delta_kv pv[] = {{"_commit_date", "2026-11-22"}};
    pgcdc_delta_file f = {"_commit_date=2026-11-22/part 1:x.parquet", pv, 1, 1234};
    pgcdc_delta_put_add(&b, &f, 1700000000000, 1, "{\"numRecords\":3}");
    CHECK_STR(cstr(&b), "{\"add\":{\"path\":\"_commit_date=2026-11-22/part%201%3Ax.parquet\","
                        "\"partitionValues\":{\"_commit_date\":\"2026-11-22\"},\"size\":1234,"
                        "\"modificationTime\":1700000000000,\"dataChange\":true,"
                        "\"stats\":\"{\\\"numRecords\\\":3}\"}}\n");
    pgcdc_buf_reset(&b);
    pgcdc_delta_put_txn(&b, "pgcdc:slot", 42, 7);
    CHECK_STR(cstr(&b), "{\"txn\":{\"appId\":\"pgcdc:slot\",\"version\":42,\"lastUpdated\":7}}\n");
    pgcdc_buf_reset(&b);
    pgcdc_delta_put_protocol(&b, 1);
    CHECK(strstr(cstr(&b), "\"readerFeatures\":[\"timestampNtz\"]") != NULL);
    char name[64];
    pgcdc_delta_log_name(name, sizeof(name), 12);
    CHECK_STR(name, "_delta_log/00000000000000000012.json");
    CHECK_INT(pgcdc_delta_log_version("00000000000000000012.json"), 12);
    CHECK_INT(pgcdc_delta_log_version("00000000000000000012.checkpoint.parquet"), -1);
    CHECK_INT(pgcdc_delta_log_version("0000000000000000012.json"), -1);
    CHECK_INT(pgcdc_delta_log_version("_last_checkpoint"), -1);
    pgcdc_buf_free(&b);
}

/* Builds commit 0 (protocol, metaData, two files) and commit 1 (remove one,
 * add one, txn), then reads both back. */
static void test_roundtrip(void)
{
    pgcdc_buf c0 = PGCDC_BUF_INIT, c1 = PGCDC_BUF_INIT, schema = PGCDC_BUF_INIT;
    pgcdc_delta_field f[] = {{"id", "long", 0}, {"_commit_date", "date", 1}};
    pgcdc_delta_schema_string(&schema, f, 2);
    const char *parts[] = {"_commit_date"};
    pgcdc_delta_metadata md = {
        "5f0c7a10-0000-4000-8000-000000000001", NULL, cstr(&schema), parts, 1, NULL, 0, 1};
    pgcdc_delta_put_commit_info(&c0, 1, "WRITE", -1, 1);
    pgcdc_delta_put_protocol(&c0, 0);
    pgcdc_delta_put_metadata(&c0, &md);
    pgcdc_delta_kv pv[] = {{"_commit_date", "2026-11-22"}};
    char path[64];
    for (int i = 0; i < 200; i++) { /* enough to grow and probe the file set */
        snprintf(path, sizeof(path), "d=x/f%03d é.parquet", i);
        pgcdc_delta_file df = {path, pv, 1, 100 + i};
        pgcdc_delta_put_add(&c0, &df, 5, 1, NULL);
    }
    for (int i = 0; i < 200; i += 2) {
        snprintf(path, sizeof(path), "d=x/f%03d é.parquet", i);
        pgcdc_delta_file df = {path, pv, 1, 100 + i};
        pgcdc_delta_put_remove(&c1, &df, 6, 1);
    }
    pgcdc_delta_put_txn(&c1, "pgcdc:a", 10, 6);
    pgcdc_delta_put_txn(&c1, "pgcdc:b", 20, 6);

    pgcdc_delta_state st;
    pgcdc_delta_state_init(&st);
    CHECK_INT(pgcdc_delta_state_apply(&st, 0, c0.data, c0.len, err, sizeof(err)), 0);
    CHECK_INT(st.nfiles, 200);
    CHECK_INT(pgcdc_delta_state_apply(&st, 1, c1.data, c1.len, err, sizeof(err)), 0);
    CHECK_INT(st.version, 1);
    CHECK_INT(st.nfiles, 100);
    for (int i = 0; i < 200; i++) {
        snprintf(path, sizeof(path), "d=x/f%03d é.parquet", i);
        const pgcdc_delta_live_file *lf = pgcdc_delta_state_file(&st, path);
        CHECK((lf != NULL) == (i % 2 == 1));
        if (lf) {
            CHECK_INT(lf->size, 100 + i);
            CHECK_STR(lf->partition_json, "{\"_commit_date\":\"2026-11-22\"}");
        }
    }
    CHECK_INT(pgcdc_delta_state_txn(&st, "pgcdc:a"), 10);
    CHECK_INT(pgcdc_delta_state_txn(&st, "pgcdc:b"), 20);
    CHECK_INT(pgcdc_delta_state_txn(&st, "pgcdc:c"), -1);
    CHECK_STR(st.table_id, "5f0c7a10-0000-4000-8000-000000000001");
    CHECK_STR(st.schema_string, cstr(&schema));
    CHECK_INT(st.npartition_columns, 1);
    CHECK_STR(st.partition_columns[0], "_commit_date");
    CHECK_INT(st.min_reader_version, 1);

    /* out of order */
    CHECK_INT(pgcdc_delta_state_apply(&st, 3, "", 0, err, sizeof(err)), -1);
    CHECK(strstr(err, "commit 3 follows 1") != NULL);
    pgcdc_delta_state_free(&st);
    pgcdc_buf_free(&c0);
    pgcdc_buf_free(&c1);
    pgcdc_buf_free(&schema);
}

static int apply_one(const char *text)
{
    pgcdc_delta_state st;
    pgcdc_delta_state_init(&st);
    err[0] = 0;
    int rc = pgcdc_delta_state_apply(&st, 0, text, strlen(text), err, sizeof(err));
    pgcdc_delta_state_free(&st);
    return rc;
}

static void test_rejects(void)
{
    CHECK_INT(apply_one("{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,"
                        "\"readerFeatures\":[\"deletionVectors\"],\"writerFeatures\":[]}}\n"),
              -1);
    CHECK(strstr(err, "reader feature 'deletionVectors'") != NULL);
    CHECK_INT(apply_one("{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":4}}"), -1);
    CHECK(strstr(err, "writer 4") != NULL);
    CHECK_INT(apply_one("{\"metaData\":{\"id\":\"x\",\"schemaString\":\"{}\","
                        "\"partitionColumns\":[],\"configuration\":"
                        "{\"delta.columnMapping.mode\":\"name\"}}}"),
              -1);
    CHECK(strstr(err, "column mapping") != NULL);
    CHECK_INT(apply_one("{\"add\":{\"path\":\"bad%zz\",\"size\":1}}"), -1);
    CHECK(strstr(err, "malformed path") != NULL);
    CHECK_INT(apply_one("{\"add\":{\"path\":\"x%4\",\"size\":1}}"), -1);
    CHECK_INT(apply_one("not json\n"), -1);
    CHECK(strstr(err, "line 1") != NULL);
    CHECK_INT(apply_one("{\"commitInfo\":{}}\r\n\n{\"txn\":{\"appId\":\"a\"}}\n"), -1);
    CHECK(strstr(err, "line 3: txn action without appId or version") != NULL);
    /* what Spark and delta-rs also write is accepted and ignored */
    CHECK_INT(apply_one("{\"commitInfo\":{\"timestamp\":1}}\n{\"cdc\":{\"path\":\"c\"}}\n"
                        "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}"),
              0);
}

int main(void)
{
    TEST_RUN(test_schema_string);
    TEST_RUN(test_actions);
    TEST_RUN(test_roundtrip);
    TEST_RUN(test_rejects);
    TEST_DONE();
}
