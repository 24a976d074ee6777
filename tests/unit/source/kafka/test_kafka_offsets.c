/*
 * test_kafka_offsets.c - unit tests for the Kafka source's offset
 * bookkeeping: marks per batch, acknowledgements in batch order, what is
 * due for commit, failed commits retried, revoked and re-assigned
 * partitions (ownership generations), and the op sniffed from a value.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "source/kafka/kafka_offsets.h"
#include "test.h"

/* What one take() handed out, as "topic[partition]=offset;..." */
static void collect(void *ctx, const char *topic, int32_t partition, int64_t offset)
{
    pgcdc_buf_printf(ctx, "%s[%d]=%lld;", topic, (int)partition, (long long)offset);
}

static void take_text(pgcdc_kafka_offsets *t, pgcdc_buf *out)
{
    pgcdc_buf_reset(out);
    pgcdc_buf_puts(out, "");
    pgcdc_kafka_offsets_take(t, collect, out);
}

static void test_marks(void)
{
    pgcdc_buf marks = PGCDC_BUF_INIT;
    pgcdc_kafka_offsets_mark(&marks, 0, 1, 10);
    pgcdc_kafka_offsets_mark(&marks, 0, 1, 11);
    pgcdc_kafka_offsets_mark(&marks, 2, 1, 5);
    pgcdc_kafka_offsets_mark(&marks, 0, 1, 12);
    pgcdc_kafka_offsets_mark(&marks, 0, 2, 3); /* another generation: its own mark */
    CHECK_INT(marks.len, 3 * sizeof(pgcdc_kafka_mark));
    pgcdc_kafka_mark m[3];
    memcpy(m, marks.data, sizeof(m));
    CHECK_INT(m[0].part, 0);
    CHECK_INT(m[0].next, 13);
    CHECK_INT(m[1].part, 2);
    CHECK_INT(m[1].next, 6);
    CHECK_INT(m[2].gen, 2);
    CHECK_INT(m[2].next, 4);
    pgcdc_buf_free(&marks);
}

static void test_ack_and_take(void)
{
    pgcdc_kafka_offsets *t = pgcdc_kafka_offsets_new();
    pgcdc_buf out = PGCDC_BUF_INIT, b1 = PGCDC_BUF_INIT, b2 = PGCDC_BUF_INIT;
    int p0 = pgcdc_kafka_offsets_assign(t, "a", 0);
    int p1 = pgcdc_kafka_offsets_assign(t, "a", 1);
    int q0 = pgcdc_kafka_offsets_assign(t, "b", 0);
    CHECK(p0 >= 0 && p1 >= 0 && q0 >= 0 && p0 != p1 && p1 != q0);
    uint32_t gen = 0;
    CHECK_INT(pgcdc_kafka_offsets_find(t, "a", 1, &gen), p1);
    CHECK_INT(gen, 1);
    CHECK_INT(pgcdc_kafka_offsets_find(t, "a", 7, &gen), -1);

    /* nothing acknowledged: nothing due */
    take_text(t, &out);
    CHECK_STR(out.data, "");
    CHECK_INT(pgcdc_kafka_offsets_acked_of(t, "a", 0), -1);

    pgcdc_kafka_offsets_mark(&b1, p0, 1, 0);
    pgcdc_kafka_offsets_mark(&b1, p0, 1, 1);
    pgcdc_kafka_offsets_mark(&b1, q0, 1, 40);
    pgcdc_kafka_offsets_mark(&b2, p0, 1, 2);
    pgcdc_kafka_offsets_mark(&b2, p1, 1, 7);
    pgcdc_kafka_offsets_acked(t, b1.data, b1.len);
    CHECK_INT(pgcdc_kafka_offsets_acked_of(t, "a", 0), 2);
    take_text(t, &out);
    CHECK_STR(out.data, "a[0]=2;b[0]=41;");
    /* taken once: not again until something new is acknowledged */
    take_text(t, &out);
    CHECK_STR(out.data, "");
    pgcdc_kafka_offsets_acked(t, b2.data, b2.len);
    take_text(t, &out);
    CHECK_STR(out.data, "a[0]=3;a[1]=8;");
    /* offsets never go backwards */
    pgcdc_kafka_offsets_acked(t, b1.data, b1.len);
    CHECK_INT(pgcdc_kafka_offsets_acked_of(t, "a", 0), 3);

    /* a failed commit is taken again, unless something newer was taken */
    pgcdc_kafka_offsets_failed(t, "a", 0, 3);
    pgcdc_kafka_offsets_failed(t, "a", 1, 5);
    take_text(t, &out);
    CHECK_STR(out.data, "a[0]=3;");

    pgcdc_buf_free(&out);
    pgcdc_buf_free(&b1);
    pgcdc_buf_free(&b2);
    pgcdc_kafka_offsets_free(t);
}

/* Records still in the pipeline when their partition was revoked must not
 * be committed, even if the partition comes back. */
static void test_generations(void)
{
    pgcdc_kafka_offsets *t = pgcdc_kafka_offsets_new();
    pgcdc_buf out = PGCDC_BUF_INIT, old = PGCDC_BUF_INIT, fresh = PGCDC_BUF_INIT;
    uint32_t gen = 0;
    int p = pgcdc_kafka_offsets_assign(t, "a", 3);
    CHECK_INT(pgcdc_kafka_offsets_find(t, "a", 3, &gen), p);
    pgcdc_kafka_offsets_mark(&old, p, gen, 500);

    pgcdc_kafka_offsets_revoke(t, "a", 3);
    CHECK_INT(pgcdc_kafka_offsets_find(t, "a", 3, &gen), -1);
    pgcdc_kafka_offsets_acked(t, old.data, old.len); /* ignored: not ours */
    take_text(t, &out);
    CHECK_STR(out.data, "");

    /* back again, same entry, new generation: the old marks stay ignored */
    CHECK_INT(pgcdc_kafka_offsets_assign(t, "a", 3), p);
    CHECK_INT(pgcdc_kafka_offsets_find(t, "a", 3, &gen), p);
    CHECK_INT(gen, 2);
    pgcdc_kafka_offsets_acked(t, old.data, old.len);
    CHECK_INT(pgcdc_kafka_offsets_acked_of(t, "a", 3), -1);
    pgcdc_kafka_offsets_mark(&fresh, p, gen, 200);
    pgcdc_kafka_offsets_acked(t, fresh.data, fresh.len);
    take_text(t, &out);
    CHECK_STR(out.data, "a[3]=201;");

    /* unknown entries in marks are skipped */
    pgcdc_buf_reset(&fresh);
    pgcdc_kafka_offsets_mark(&fresh, 99, 1, 1);
    pgcdc_kafka_offsets_acked(t, fresh.data, fresh.len);

    pgcdc_buf_free(&out);
    pgcdc_buf_free(&old);
    pgcdc_buf_free(&fresh);
    pgcdc_kafka_offsets_free(t);
}

static void test_many_partitions(void)
{
    pgcdc_kafka_offsets *t = pgcdc_kafka_offsets_new();
    pgcdc_buf marks = PGCDC_BUF_INIT, out = PGCDC_BUF_INIT;
    char topic[16];
    for (int i = 0; i < 100; i++) {
        snprintf(topic, sizeof(topic), "t%d", i % 7);
        int p = pgcdc_kafka_offsets_assign(t, topic, i);
        CHECK_INT(p, i);
        pgcdc_kafka_offsets_mark(&marks, p, 1, i * 10);
    }
    pgcdc_kafka_offsets_acked(t, marks.data, marks.len);
    CHECK_INT(pgcdc_kafka_offsets_acked_of(t, "t6", 97), 971);
    CHECK_INT(pgcdc_kafka_offsets_take(t, collect, &out), 100);
    pgcdc_buf_free(&marks);
    pgcdc_buf_free(&out);
    pgcdc_kafka_offsets_free(t);
}

static void test_value_op(void)
{
    const char *with_schema =
        "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
        "\"field\":\"op\"}]},\"payload\":{\"before\":null,\"after\":{\"id\":1,\"op\":\"x\","
        "\"note\":\"say \\\"op\\\":\\\"d\\\"\"},\"source\":{\"name\":\"s\"},\"op\":\"u\","
        "\"ts_ms\":1}}";
    CHECK_INT(pgcdc_kafka_value_op(with_schema, strlen(with_schema)), 'u');
    const char *bare = "{\"before\":{\"id\":1},\"after\":null,\"op\": \"d\" ,\"ts_ms\":1}";
    CHECK_INT(pgcdc_kafka_value_op(bare, strlen(bare)), 'd');
    const char *snap = "{\"after\":{\"id\":1},\"op\":\"r\"}";
    CHECK_INT(pgcdc_kafka_value_op(snap, strlen(snap)), 'r');
    /* no op: heartbeats, transaction records, anything else */
    const char *hb = "{\"ts_ms\":1700000000000}";
    CHECK_INT(pgcdc_kafka_value_op(hb, strlen(hb)), 'c');
    CHECK_INT(pgcdc_kafka_value_op("\"op\"", 4), 'c');
    CHECK_INT(pgcdc_kafka_value_op("{\"op\":\"", 7), 'c');
    CHECK_INT(pgcdc_kafka_value_op("", 0), 'c');
    CHECK_INT(pgcdc_kafka_value_op(NULL, 0), 'c');
    /* the length bounds the scan (values are not NUL-terminated) */
    CHECK_INT(pgcdc_kafka_value_op("{\"op\":\"t\"}XYZ", 10), 't');
    CHECK_INT(pgcdc_kafka_value_op("{\"op\":\"t\"}", 8), 'c');
}

int main(void)
{
    TEST_RUN(test_marks);
    TEST_RUN(test_ack_and_take);
    TEST_RUN(test_generations);
    TEST_RUN(test_many_partitions);
    TEST_RUN(test_value_op);
    TEST_DONE();
}
