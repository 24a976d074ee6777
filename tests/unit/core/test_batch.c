/*
 * test_batch.c - unit tests for the batch record layout: records with and
 * without keys, tombstones, aborted records, iteration, 8-byte alignment of
 * headers with odd-sized payloads, and positions carried per record.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "test.h"

static pgcdc_position mkpos(uint64_t commit, uint64_t end, uint64_t index, uint64_t event,
                            uint32_t xid)
{
    pgcdc_position p;
    memset(&p, 0, sizeof(p));
    p.commit_lsn = commit;
    p.end_lsn = end;
    p.index = index;
    p.event_lsn = event;
    p.xid = xid;
    return p;
}

/* Appends one complete record; key/value NULL mean none/tombstone. */
static void add(pgcdc_batch *b, const char *topic, const char *key, const char *value, char op,
                const pgcdc_position *pos)
{
    size_t rec = pgcdc_batch_record_begin(b, topic, strlen(topic), op, pos);
    if (key)
        pgcdc_buf_puts(&b->data, key);
    pgcdc_batch_record_mark_key(b, rec, key != NULL);
    if (value)
        pgcdc_buf_puts(&b->data, value);
    pgcdc_batch_record_end(b, rec, value == NULL);
}

static int rec_is(const pgcdc_record *r, const char *topic, const char *key, const char *value,
                  char op)
{
    if (r->topic_len != strlen(topic) || memcmp(r->topic, topic, r->topic_len) != 0)
        return 0;
    if (key) {
        if (!r->key || r->key_len != strlen(key) || memcmp(r->key, key, r->key_len) != 0)
            return 0;
    } else if (r->key || r->key_len != 0) {
        return 0;
    }
    if (value) {
        if (!r->value || r->value_len != strlen(value) ||
            memcmp(r->value, value, r->value_len) != 0)
            return 0;
    } else if (r->value || r->value_len != 0) {
        return 0;
    }
    return r->op == op;
}

static int pos_eq(const pgcdc_position *a, const pgcdc_position *b)
{
    return a->commit_lsn == b->commit_lsn && a->end_lsn == b->end_lsn && a->index == b->index &&
           a->event_lsn == b->event_lsn && a->xid == b->xid;
}

static void test_empty(void)
{
    pgcdc_batch b;
    memset(&b, 0, sizeof(b));
    pgcdc_batch_reset(&b);
    CHECK_INT(b.nrecords, 0);
    CHECK_INT(b.data.len, 0);
    size_t off = 0;
    pgcdc_record r;
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 0);
    CHECK_INT(off, 0);
    pgcdc_buf_free(&b.data);
}

static void test_basic_records(void)
{
    pgcdc_batch b;
    memset(&b, 0, sizeof(b));
    pgcdc_batch_reset(&b);
    pgcdc_position p1 = mkpos(0x100, 0x180, 1, 0x110, 7);
    pgcdc_position p2 = mkpos(0x100, 0, 2, 0x120, 7);
    pgcdc_position p3 = mkpos(0x200, 0x280, 3, 0x210, 8);
    pgcdc_position p4 = mkpos(UINT64_MAX, UINT64_MAX - 1, UINT64_MAX, 42, UINT32_MAX);

    add(&b, "t.public.a", "{\"id\":1}", "{\"v\":1}", 'c', &p1);
    add(&b, "t.public.a", NULL, "{\"v\":2}", 't', &p2);  /* no key */
    add(&b, "t.public.b", "{\"id\":3}", NULL, 'd', &p3); /* tombstone */
    add(&b, "t.public.b", NULL, NULL, 'm', &p4);         /* neither */
    add(&b, "t.x", "", "", 'u', &p1);                    /* empty, but present */
    CHECK_INT(b.nrecords, 5);
    CHECK_INT(b.data.len % 8, 0);

    size_t off = 0;
    pgcdc_record r;
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 1);
    CHECK(rec_is(&r, "t.public.a", "{\"id\":1}", "{\"v\":1}", 'c'));
    CHECK(pos_eq(&r.pos, &p1));
    CHECK_INT(off % 8, 0);
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 1);
    CHECK(rec_is(&r, "t.public.a", NULL, "{\"v\":2}", 't'));
    CHECK(pos_eq(&r.pos, &p2));
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 1);
    CHECK(rec_is(&r, "t.public.b", "{\"id\":3}", NULL, 'd'));
    CHECK(r.value == NULL);
    CHECK(pos_eq(&r.pos, &p3));
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 1);
    CHECK(rec_is(&r, "t.public.b", NULL, NULL, 'm'));
    CHECK(pos_eq(&r.pos, &p4));
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 1);
    CHECK(rec_is(&r, "t.x", "", "", 'u'));
    CHECK(r.key != NULL && r.value != NULL); /* empty is not absent */
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 0);
    CHECK_INT(off, b.data.len);
    /* calling again at the end stays at the end */
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 0);

    /* reset empties it; the buffer is reused */
    b.has_pos = 1;
    b.seq = 9;
    b.pos = p1;
    size_t cap = b.data.cap;
    pgcdc_batch_reset(&b);
    CHECK_INT(b.nrecords, 0);
    CHECK_INT(b.data.len, 0);
    CHECK_INT(b.has_pos, 0);
    CHECK_INT(b.seq, 0);
    CHECK_INT(b.pos.end_lsn, 0);
    CHECK_INT(b.data.cap, cap);
    off = 0;
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 0);
    add(&b, "again", "k", "v", 'c', &p2);
    off = 0;
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 1);
    CHECK(rec_is(&r, "again", "k", "v", 'c'));
    CHECK(pos_eq(&r.pos, &p2));
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 0);
    pgcdc_buf_free(&b.data);
}

static void test_abort(void)
{
    pgcdc_batch b;
    memset(&b, 0, sizeof(b));
    pgcdc_batch_reset(&b);
    pgcdc_position p = mkpos(1, 2, 1, 1, 1);
    add(&b, "t1", "k1", "v1", 'c', &p);
    size_t len_before = b.data.len;

    /* aborted right after begin */
    size_t rec = pgcdc_batch_record_begin(&b, "t2", 2, 'c', &p);
    pgcdc_batch_record_abort(&b, rec);
    CHECK_INT(b.data.len, len_before);
    CHECK_INT(b.nrecords, 1);

    /* aborted after the key and part of the value */
    rec = pgcdc_batch_record_begin(&b, "t2", 2, 'u', &p);
    pgcdc_buf_puts(&b.data, "some key bytes");
    pgcdc_batch_record_mark_key(&b, rec, 1);
    pgcdc_buf_puts(&b.data, "{\"half\":");
    pgcdc_batch_record_abort(&b, rec);
    CHECK_INT(b.data.len, len_before);
    CHECK_INT(b.nrecords, 1);

    /* the next record after an abort is intact */
    pgcdc_position p2 = mkpos(5, 6, 2, 5, 3);
    add(&b, "t3", "k3", "v333", 'd', &p2);
    CHECK_INT(b.nrecords, 2);
    size_t off = 0;
    pgcdc_record r;
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 1);
    CHECK(rec_is(&r, "t1", "k1", "v1", 'c'));
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 1);
    CHECK(rec_is(&r, "t3", "k3", "v333", 'd'));
    CHECK(pos_eq(&r.pos, &p2));
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 0);
    pgcdc_buf_free(&b.data);
}

/* Many records with topic/key/value lengths of every residue mod 8. */
static void test_alignment_many(void)
{
    pgcdc_batch b;
    memset(&b, 0, sizeof(b));
    pgcdc_batch_reset(&b);
    enum { N = 2000 };
    char topic[64], key[64], value[256];
    for (int i = 0; i < N; i++) {
        int tl = 1 + i % 13, kl = i % 11, vl = i % 97;
        for (int j = 0; j < tl; j++)
            topic[j] = (char)('a' + (i + j) % 26);
        topic[tl] = 0;
        for (int j = 0; j < kl; j++)
            key[j] = (char)('A' + (i * 3 + j) % 26);
        key[kl] = 0;
        for (int j = 0; j < vl; j++)
            value[j] = (char)('0' + (i * 7 + j) % 10);
        value[vl] = 0;
        pgcdc_position p = mkpos((uint64_t)i * 1000, i % 5 ? 0 : (uint64_t)i * 1000 + 10,
                                 (uint64_t)i + 1, (uint64_t)i * 1000 + 1, (uint32_t)i);
        size_t rec = pgcdc_batch_record_begin(&b, topic, (size_t)tl, "cudtm"[i % 5], &p);
        CHECK_INT(rec % 8, 0);
        if (i % 3 != 0) /* no key bytes for a record without key */
            pgcdc_buf_append(&b.data, key, (size_t)kl);
        pgcdc_batch_record_mark_key(&b, rec, i % 3 != 0);
        if (i % 4 != 0) /* no value bytes for a tombstone */
            pgcdc_buf_append(&b.data, value, (size_t)vl);
        pgcdc_batch_record_end(&b, rec, i % 4 == 0);
        CHECK_INT(b.data.len % 8, 0);
    }
    CHECK_INT(b.nrecords, N);

    size_t off = 0;
    pgcdc_record r;
    int i = 0, bad = 0;
    while (pgcdc_batch_next(&b, &off, &r)) {
        int tl = 1 + i % 13, kl = i % 11, vl = i % 97;
        for (int j = 0; j < tl; j++)
            topic[j] = (char)('a' + (i + j) % 26);
        for (int j = 0; j < kl; j++)
            key[j] = (char)('A' + (i * 3 + j) % 26);
        for (int j = 0; j < vl; j++)
            value[j] = (char)('0' + (i * 7 + j) % 10);
        if (off % 8 != 0 || r.topic_len != (uint32_t)tl || memcmp(r.topic, topic, (size_t)tl))
            bad++;
        if (i % 3 != 0) {
            if (!r.key || r.key_len != (uint32_t)kl || memcmp(r.key, key, (size_t)kl))
                bad++;
        } else if (r.key) {
            bad++;
        }
        if (i % 4 != 0) {
            if (!r.value || r.value_len != (uint32_t)vl || memcmp(r.value, value, (size_t)vl))
                bad++;
        } else if (r.value) {
            bad++;
        }
        if (r.op != "cudtm"[i % 5] || r.pos.index != (uint64_t)i + 1 || r.pos.xid != (uint32_t)i ||
            r.pos.commit_lsn != (uint64_t)i * 1000 ||
            r.pos.end_lsn != (i % 5 ? 0 : (uint64_t)i * 1000 + 10) ||
            r.pos.event_lsn != (uint64_t)i * 1000 + 1)
            bad++;
        /* header pointers must be 8-byte aligned relative to the buffer */
        if (((size_t)(r.topic - b.data.data) - sizeof(pgcdc_record_hdr)) % 8 != 0)
            bad++;
        i++;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(i, N);
    CHECK_INT(off, b.data.len);
    pgcdc_buf_free(&b.data);
}

/* A large value makes the buffer move (realloc) mid-record. */
static void test_growth_mid_record(void)
{
    pgcdc_batch b;
    memset(&b, 0, sizeof(b));
    pgcdc_batch_reset(&b);
    pgcdc_position p = mkpos(1, 2, 3, 4, 5);
    add(&b, "small", "k", "v", 'c', &p);
    size_t rec = pgcdc_batch_record_begin(&b, "big", 3, 'u', &p);
    pgcdc_buf_puts(&b.data, "key");
    pgcdc_batch_record_mark_key(&b, rec, 1);
    size_t n = 3u << 20;
    char *big = malloc(n);
    memset(big, 'x', n);
    pgcdc_buf_append(&b.data, big, n);
    pgcdc_batch_record_end(&b, rec, 0);
    add(&b, "after", NULL, "z", 'd', &p);

    size_t off = 0;
    pgcdc_record r;
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 1);
    CHECK(rec_is(&r, "small", "k", "v", 'c'));
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 1);
    CHECK(r.topic_len == 3 && memcmp(r.topic, "big", 3) == 0);
    CHECK(r.key_len == 3 && memcmp(r.key, "key", 3) == 0);
    CHECK_INT(r.value_len, n);
    CHECK(r.value && memcmp(r.value, big, n) == 0);
    CHECK_INT(r.pos.xid, 5);
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 1);
    CHECK(rec_is(&r, "after", NULL, "z", 'd'));
    CHECK_INT(pgcdc_batch_next(&b, &off, &r), 0);
    free(big);
    pgcdc_buf_free(&b.data);
}

int main(void)
{
    TEST_RUN(test_empty);
    TEST_RUN(test_basic_records);
    TEST_RUN(test_abort);
    TEST_RUN(test_alignment_many);
    TEST_RUN(test_growth_mid_record);
    TEST_DONE();
}
