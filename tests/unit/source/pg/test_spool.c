/*
 * test_spool.c - unit tests for the streamed-transaction spool: replay
 * order, subtransaction and whole-transaction aborts, interleaved
 * transactions, spilling to disk under a tiny memory limit, unknown xids
 * and callback errors.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "source/pg/spool.h"
#include "test.h"

static char dir[64];
static char err[512];

/* Replay collector: messages joined with '|'; stops with -7 at stop_at. */
typedef struct collector {
    pgcdc_buf out;
    int calls;
    int stop_at; /* 0 = never */
} collector;

static int collect(void *ctx, const char *data, size_t len, char *errstr, size_t errstr_size)
{
    collector *c = ctx;
    c->calls++;
    if (c->stop_at && c->calls == c->stop_at) {
        snprintf(errstr, errstr_size, "callback failed at %d", c->calls);
        return -7;
    }
    if (c->out.len)
        pgcdc_buf_putc(&c->out, '|');
    pgcdc_buf_append(&c->out, data, len);
    return 0;
}

static int append(pgcdc_spool *s, uint32_t top, uint32_t sub, const char *msg)
{
    return pgcdc_spool_append(s, top, sub, msg, strlen(msg), err, sizeof(err));
}

static const char *replay(pgcdc_spool *s, uint32_t top, collector *c, int *rc)
{
    pgcdc_buf_reset(&c->out);
    pgcdc_buf_puts(&c->out, ""); /* make data non-NULL */
    c->calls = 0;
    err[0] = 0;
    *rc = pgcdc_spool_replay(s, top, collect, c, err, sizeof(err));
    return c->out.data;
}

/* Number of entries in the spool directory besides . and .. */
static int dir_entries(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void test_in_memory_order(void)
{
    pgcdc_spool *s = pgcdc_spool_new(dir, 1 << 20);
    collector c = {PGCDC_BUF_INIT, 0, 0};
    int rc;
    CHECK(s != NULL);
    CHECK_INT(pgcdc_spool_count(s), 0);
    CHECK_INT(pgcdc_spool_mem_bytes(s), 0);
    CHECK_INT(append(s, 100, 100, "B"), 0);
    CHECK_INT(append(s, 100, 100, "I1"), 0);
    CHECK_INT(append(s, 100, 100, "U2"), 0);
    CHECK_INT(append(s, 100, 100, "D3"), 0);
    CHECK_INT(pgcdc_spool_count(s), 1);
    CHECK(pgcdc_spool_mem_bytes(s) >= 7); /* at least the payload */
    CHECK_STR(replay(s, 100, &c, &rc), "B|I1|U2|D3");
    CHECK_INT(rc, 0);
    CHECK_INT(c.calls, 4);
    CHECK_INT(pgcdc_spool_count(s), 0);
    CHECK_INT(pgcdc_spool_mem_bytes(s), 0);
    /* forgotten after replay */
    CHECK_STR(replay(s, 100, &c, &rc), "");
    CHECK_INT(rc, 0);
    CHECK_INT(c.calls, 0);

    /* binary payloads, incl. NUL bytes and an empty message */
    CHECK_INT(pgcdc_spool_append(s, 5, 5, "a\0b", 3, err, sizeof(err)), 0);
    CHECK_INT(pgcdc_spool_append(s, 5, 5, "", 0, err, sizeof(err)), 0);
    CHECK_INT(pgcdc_spool_append(s, 5, 5, "z", 1, err, sizeof(err)), 0);
    replay(s, 5, &c, &rc);
    CHECK_INT(rc, 0);
    CHECK_INT(c.calls, 3);
    CHECK_INT(c.out.len, 6);
    CHECK(memcmp(c.out.data, "a\0b||z", 6) == 0);
    pgcdc_spool_free(s);
    pgcdc_buf_free(&c.out);
}

static void test_subxact_abort(void)
{
    pgcdc_spool *s = pgcdc_spool_new(dir, 1 << 20);
    collector c = {PGCDC_BUF_INIT, 0, 0};
    int rc;
    append(s, 10, 10, "t1");
    append(s, 10, 11, "s11a");
    append(s, 10, 12, "s12a");
    append(s, 10, 10, "t2");
    append(s, 10, 11, "s11b");
    append(s, 10, 13, "s13");
    pgcdc_spool_abort(s, 10, 11); /* subtransaction 11 rolled back */
    CHECK_INT(pgcdc_spool_count(s), 1);
    append(s, 10, 10, "t3");
    pgcdc_spool_abort(s, 10, 13);
    pgcdc_spool_abort(s, 10, 999); /* unknown subxid: harmless */
    CHECK_STR(replay(s, 10, &c, &rc), "t1|s12a|t2|t3");
    CHECK_INT(rc, 0);
    CHECK_INT(pgcdc_spool_count(s), 0);

    /* many aborted subtransactions (the list grows) */
    for (uint32_t x = 1; x <= 50; x++) {
        char m[16];
        snprintf(m, sizeof(m), "m%u", x);
        append(s, 1000, 1000 + x, m);
    }
    for (uint32_t x = 1; x <= 50; x++)
        if (x != 7 && x != 42)
            pgcdc_spool_abort(s, 1000, 1000 + x);
    CHECK_STR(replay(s, 1000, &c, &rc), "m7|m42");
    CHECK_INT(rc, 0);
    pgcdc_spool_free(s);
    pgcdc_buf_free(&c.out);
}

static void test_whole_abort(void)
{
    pgcdc_spool *s = pgcdc_spool_new(dir, 1 << 20);
    collector c = {PGCDC_BUF_INIT, 0, 0};
    int rc;
    append(s, 20, 20, "a");
    append(s, 20, 21, "b");
    append(s, 30, 30, "keep");
    CHECK_INT(pgcdc_spool_count(s), 2);
    uint64_t before = pgcdc_spool_mem_bytes(s);
    pgcdc_spool_abort(s, 20, 20);
    CHECK_INT(pgcdc_spool_count(s), 1);
    CHECK(pgcdc_spool_mem_bytes(s) < before);
    CHECK_STR(replay(s, 20, &c, &rc), "");
    CHECK_INT(c.calls, 0);
    CHECK_INT(rc, 0);
    /* subxid 0 also means the whole transaction */
    append(s, 40, 40, "x");
    pgcdc_spool_abort(s, 40, 0);
    CHECK_STR(replay(s, 40, &c, &rc), "");
    CHECK_INT(c.calls, 0);
    /* abort of an unknown transaction is ignored */
    pgcdc_spool_abort(s, 12345, 12345);
    pgcdc_spool_abort(s, 12345, 6);
    CHECK_INT(pgcdc_spool_count(s), 1);
    CHECK_STR(replay(s, 30, &c, &rc), "keep");
    CHECK_INT(pgcdc_spool_count(s), 0);
    CHECK_INT(pgcdc_spool_mem_bytes(s), 0);
    /* the same xid can be reused after an abort */
    append(s, 20, 20, "again");
    CHECK_STR(replay(s, 20, &c, &rc), "again");
    pgcdc_spool_free(s);
    pgcdc_buf_free(&c.out);
}

static void test_interleaved(void)
{
    pgcdc_spool *s = pgcdc_spool_new(dir, 1 << 20);
    collector c = {PGCDC_BUF_INIT, 0, 0};
    int rc;
    for (int i = 0; i < 30; i++) {
        char m[32];
        uint32_t top = 500 + (uint32_t)(i % 3);
        snprintf(m, sizeof(m), "%u-%d", top, i);
        CHECK_INT(append(s, top, top, m), 0);
    }
    CHECK_INT(pgcdc_spool_count(s), 3);
    CHECK_STR(replay(s, 501, &c, &rc),
              "501-1|501-4|501-7|501-10|501-13|501-16|501-19|501-22|501-25|501-28");
    CHECK_INT(pgcdc_spool_count(s), 2);
    pgcdc_spool_abort(s, 500, 500);
    CHECK_STR(replay(s, 502, &c, &rc),
              "502-2|502-5|502-8|502-11|502-14|502-17|502-20|502-23|502-26|502-29");
    CHECK_STR(replay(s, 500, &c, &rc), "");
    CHECK_INT(pgcdc_spool_count(s), 0);
    CHECK_INT(pgcdc_spool_mem_bytes(s), 0);
    pgcdc_spool_free(s);
    pgcdc_buf_free(&c.out);
}

static void test_spill(void)
{
    pgcdc_spool *s = pgcdc_spool_new(dir, 100);
    collector c = {PGCDC_BUF_INIT, 0, 0};
    pgcdc_buf want = PGCDC_BUF_INIT;
    int rc;
    uint64_t peak = 0;
    enum { N = 5000 };
    for (int i = 0; i < N; i++) {
        char m[64];
        snprintf(m, sizeof(m), "message-%05d-%.*s", i, i % 23, "xxxxxxxxxxxxxxxxxxxxxxxxx");
        uint32_t sub = i % 10 == 3 ? 77 : 7;
        CHECK_INT(append(s, 7, sub, m), 0);
        if (sub == 7) {
            if (want.len)
                pgcdc_buf_putc(&want, '|');
            pgcdc_buf_puts(&want, m);
        }
        uint64_t mb = pgcdc_spool_mem_bytes(s);
        if (mb > peak)
            peak = mb;
    }
    pgcdc_spool_abort(s, 7, 77);
    /* in-memory accounting never passed the limit by more than one message,
     * and dropped once the transaction spilled */
    CHECK(peak <= 100 + 8 + 64);
    CHECK_INT(pgcdc_spool_mem_bytes(s), 0);
    CHECK_INT(pgcdc_spool_count(s), 1);
    /* the spill file is unlinked: nothing is visible in the directory */
    CHECK_INT(dir_entries(), 0);
    replay(s, 7, &c, &rc);
    CHECK_INT(rc, 0);
    CHECK_INT(c.calls, N - N / 10);
    CHECK(c.out.len == want.len && memcmp(c.out.data, want.data, want.len) == 0);
    CHECK_INT(pgcdc_spool_count(s), 0);
    CHECK_INT(pgcdc_spool_mem_bytes(s), 0);
    pgcdc_spool_free(s);
    pgcdc_buf_free(&c.out);
    pgcdc_buf_free(&want);
}

/* Two transactions: the one whose append crosses the limit spills, the
 * other stays in memory until its own append crosses it. */
static void test_spill_two_transactions(void)
{
    pgcdc_spool *s = pgcdc_spool_new(dir, 100);
    collector c = {PGCDC_BUF_INIT, 0, 0};
    int rc;
    char big[61];
    memset(big, 'A', 60);
    big[60] = 0;
    CHECK_INT(append(s, 1, 1, big), 0); /* 68 bytes in memory */
    CHECK_INT(pgcdc_spool_mem_bytes(s), 68);
    CHECK_INT(append(s, 2, 2, "0123456789abcdefghijklmnopqrstuvwxyz"), 0); /* 44 -> 112 */
    /* transaction 2 spilled; transaction 1 is still in memory */
    CHECK_INT(pgcdc_spool_mem_bytes(s), 68);
    CHECK_INT(append(s, 2, 2, "second"), 0);
    CHECK_INT(pgcdc_spool_mem_bytes(s), 68);
    CHECK_INT(append(s, 1, 1, "b"), 0);
    CHECK_INT(pgcdc_spool_mem_bytes(s), 77);
    CHECK_INT(append(s, 1, 1, "0123456789abcdefghij"), 0); /* 105 > 100: spills */
    CHECK_INT(pgcdc_spool_mem_bytes(s), 0);
    CHECK_INT(append(s, 1, 1, "last"), 0);
    CHECK_INT(pgcdc_spool_mem_bytes(s), 0);
    CHECK_INT(pgcdc_spool_count(s), 2);
    CHECK_STR(replay(s, 2, &c, &rc), "0123456789abcdefghijklmnopqrstuvwxyz|second");
    CHECK_INT(rc, 0);
    replay(s, 1, &c, &rc);
    CHECK_INT(rc, 0);
    CHECK_INT(c.calls, 4);
    CHECK(strncmp(c.out.data, big, 60) == 0);
    CHECK_STR(c.out.data + 60, "|b|0123456789abcdefghij|last");
    /* a new transaction after everything spilled starts in memory again */
    CHECK_INT(append(s, 3, 3, "m"), 0);
    CHECK_INT(pgcdc_spool_mem_bytes(s), 9);
    CHECK_STR(replay(s, 3, &c, &rc), "m");
    CHECK_INT(pgcdc_spool_mem_bytes(s), 0);
    pgcdc_spool_free(s);
    pgcdc_buf_free(&c.out);
}

/* Large messages through a spilled transaction (write buffer flushes). */
static void test_spill_large_messages(void)
{
    pgcdc_spool *s = pgcdc_spool_new(dir, 100);
    collector c = {PGCDC_BUF_INIT, 0, 0};
    int rc;
    size_t n = 700000;
    char *m = malloc(n);
    uint64_t sum = 0;
    for (int i = 0; i < 6; i++) {
        memset(m, 'a' + i, n);
        CHECK_INT(pgcdc_spool_append(s, 9, 9, m, n, err, sizeof(err)), 0);
        sum += n;
    }
    CHECK_INT(pgcdc_spool_mem_bytes(s), 0);
    replay(s, 9, &c, &rc);
    CHECK_INT(rc, 0);
    CHECK_INT(c.calls, 6);
    CHECK_INT(c.out.len, sum + 5);
    int ok = 1;
    for (int i = 0; i < 6 && ok; i++) {
        const char *p = c.out.data + (size_t)i * (n + 1);
        ok = p[0] == 'a' + i && p[n - 1] == 'a' + i && (i == 5 || p[n] == '|');
    }
    CHECK(ok);
    free(m);
    pgcdc_spool_free(s);
    pgcdc_buf_free(&c.out);
}

/* Records larger than the replay's read chunk (1 MiB) */
static void test_spill_records_larger_than_read_chunk(void)
{
    pgcdc_spool *s = pgcdc_spool_new(dir, 100);
    collector c = {PGCDC_BUF_INIT, 0, 0};
    int rc;
    size_t n = 3u << 20;
    char *m = malloc(n);
    for (int i = 0; i < 2; i++) {
        memset(m, 'x' + i, n);
        CHECK_INT(pgcdc_spool_append(s, 5, 5, m, n, err, sizeof(err)), 0);
        CHECK_INT(pgcdc_spool_append(s, 5, 5, "tiny", 4, err, sizeof(err)), 0);
    }
    replay(s, 5, &c, &rc);
    CHECK_INT(rc, 0);
    CHECK_INT(c.calls, 4);
    CHECK_INT(c.out.len, 2 * n + 8 + 3);
    CHECK(c.out.data[0] == 'x' && c.out.data[n - 1] == 'x' && c.out.data[n] == '|');
    CHECK(!memcmp(c.out.data + n + 1, "tiny|", 5));
    CHECK(c.out.data[n + 6] == 'y' && c.out.data[2 * n + 5] == 'y');
    free(m);
    pgcdc_spool_free(s);
    pgcdc_buf_free(&c.out);
}

static void test_unknown_xid(void)
{
    pgcdc_spool *s = pgcdc_spool_new(dir, 1 << 20);
    collector c = {PGCDC_BUF_INIT, 0, 0};
    int rc;
    CHECK_STR(replay(s, 42, &c, &rc), "");
    CHECK_INT(rc, 0);
    CHECK_INT(c.calls, 0);
    append(s, 1, 1, "x");
    CHECK_STR(replay(s, 42, &c, &rc), "");
    CHECK_INT(rc, 0);
    CHECK_INT(pgcdc_spool_count(s), 1);
    pgcdc_spool_free(s); /* frees the open transaction */
    pgcdc_buf_free(&c.out);
}

static void test_callback_error(void)
{
    collector c = {PGCDC_BUF_INIT, 0, 0};
    int rc;
    /* in memory */
    pgcdc_spool *s = pgcdc_spool_new(dir, 1 << 20);
    append(s, 1, 1, "a");
    append(s, 1, 1, "b");
    append(s, 1, 1, "c");
    append(s, 1, 1, "d");
    c.stop_at = 3;
    replay(s, 1, &c, &rc);
    CHECK_INT(rc, -7);
    CHECK_INT(c.calls, 3);
    CHECK_STR(c.out.data, "a|b");
    CHECK_STR(err, "callback failed at 3");
    CHECK_INT(pgcdc_spool_count(s), 0);
    CHECK_INT(pgcdc_spool_mem_bytes(s), 0);
    pgcdc_spool_free(s);

    /* spilled */
    s = pgcdc_spool_new(dir, 10);
    for (int i = 0; i < 20; i++) {
        char m[8];
        snprintf(m, sizeof(m), "%d", i);
        append(s, 2, 2, m);
    }
    c.stop_at = 5;
    replay(s, 2, &c, &rc);
    CHECK_INT(rc, -7);
    CHECK_INT(c.calls, 5);
    CHECK_STR(c.out.data, "0|1|2|3");
    CHECK_INT(pgcdc_spool_count(s), 0);
    pgcdc_spool_free(s);
    pgcdc_buf_free(&c.out);
}

static void test_spill_dir_missing(void)
{
    pgcdc_spool *s = pgcdc_spool_new("/nonexistent-pgcdc-spool-dir", 10);
    err[0] = 0;
    int rc = append(s, 1, 1, "0123456789abcdef");
    CHECK_INT(rc, -1);
    CHECK(strstr(err, "/nonexistent-pgcdc-spool-dir") != NULL);
    pgcdc_spool_free(s);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "%s", "/tmp/pgcdc-test-spool-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    TEST_RUN(test_in_memory_order);
    TEST_RUN(test_subxact_abort);
    TEST_RUN(test_whole_abort);
    TEST_RUN(test_interleaved);
    TEST_RUN(test_spill);
    TEST_RUN(test_spill_two_transactions);
    TEST_RUN(test_spill_large_messages);
    TEST_RUN(test_spill_records_larger_than_read_chunk);
    TEST_RUN(test_unknown_xid);
    TEST_RUN(test_callback_error);
    TEST_RUN(test_spill_dir_missing);
    rmdir(dir);
    TEST_DONE();
}
