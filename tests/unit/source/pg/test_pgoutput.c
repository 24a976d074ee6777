/*
 * test_pgoutput.c - unit tests for the pgoutput message decoder.
 *
 * Messages are assembled byte by byte with a small builder that mirrors the
 * wire layouts of PostgreSQL's "Logical Replication Message Formats". Every
 * parse goes through an exact-size heap copy of the message, so that
 * AddressSanitizer reports any read past the end of the input.
 */
#include "source/pg/pgoutput.h"
#include "test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- message builder ---------------------------------------------------- */

typedef struct wb {
    unsigned char *b;
    size_t n;
    size_t cap;
} wb;

static void wb_reserve(wb *w, size_t more)
{
    if (w->n + more <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->n + more)
        cap *= 2;
    w->b = realloc(w->b, cap);
    if (!w->b)
        abort();
    w->cap = cap;
}

static void wb_reset(wb *w)
{
    w->n = 0;
}

static void wb_free(wb *w)
{
    free(w->b);
    w->b = NULL;
    w->n = w->cap = 0;
}

static void put8(wb *w, unsigned v)
{
    wb_reserve(w, 1);
    w->b[w->n++] = (unsigned char)v;
}

static void put16(wb *w, unsigned v)
{
    put8(w, (v >> 8) & 0xff);
    put8(w, v & 0xff);
}

static void put32(wb *w, uint32_t v)
{
    for (int s = 24; s >= 0; s -= 8)
        put8(w, (v >> s) & 0xff);
}

static void put64(wb *w, uint64_t v)
{
    for (int s = 56; s >= 0; s -= 8)
        put8(w, (unsigned)((v >> s) & 0xff));
}

static void putbytes(wb *w, const void *p, size_t n)
{
    wb_reserve(w, n);
    if (n)
        memcpy(w->b + w->n, p, n);
    w->n += n;
}

/* NUL-terminated string, as pq_sendstring writes it. */
static void putstr(wb *w, const char *s)
{
    putbytes(w, s, strlen(s) + 1);
}

/* One TupleData column of kind 't' or 'b'. */
static void putval(wb *w, char kind, const char *s)
{
    put8(w, (unsigned char)kind);
    put32(w, (uint32_t)strlen(s));
    putbytes(w, s, strlen(s));
}

/* ---- parse helpers ------------------------------------------------------ */

static char g_err[512];
static char *g_copy; /* exact-size copy of the last parsed message */
static size_t g_copy_len;

static int parse_n(pgcdc_pgo_parser *ps, const void *data, size_t n, pgcdc_pgo_msg *m)
{
    free(g_copy);
    g_copy = malloc(n ? n : 1);
    if (!g_copy)
        abort();
    if (n)
        memcpy(g_copy, data, n);
    g_copy_len = n;
    g_err[0] = '\0';
    return pgcdc_pgo_parse(ps, g_copy, n, m, g_err, sizeof(g_err));
}

static int parse(pgcdc_pgo_parser *ps, const wb *w, pgcdc_pgo_msg *m)
{
    return parse_n(ps, w->b, w->n, m);
}

/* Whether [p, p+len) lies inside the last parsed message. */
static int in_msg(const void *p, size_t len)
{
    const char *c = p;
    return c && c >= g_copy && len <= g_copy_len && (size_t)(c - g_copy) <= g_copy_len - len;
}

static int err_has(const char *needle)
{
    return strstr(g_err, needle) != NULL;
}

/*
 * Feeds every strict prefix of `w` (lengths 0 .. n-1) and the message plus
 * one trailing byte to a fresh parser in the given protocol/stream state.
 * All must fail with an error message and leave the stream state alone;
 * `ok_len`, if non-zero, is a prefix length that is itself a valid message.
 */
static void check_prefixes_ok_at(int proto, int in_stream, const wb *w, size_t ok_len)
{
    pgcdc_pgo_msg m;
    for (size_t k = 0; k < w->n; k++) {
        pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(proto);
        pgcdc_pgo_set_in_stream(ps, in_stream);
        int rc = parse_n(ps, w->b, k, &m);
        if (ok_len && k == ok_len) {
            CHECK_INT(rc, 0);
        } else {
            if (rc != -1)
                fprintf(stderr, "prefix %zu of %zu-byte '%c' message parsed\n", k, w->n,
                        w->n ? w->b[0] : '?');
            CHECK_INT(rc, -1);
            CHECK(g_err[0] != '\0');
            CHECK_INT(pgcdc_pgo_in_stream(ps), in_stream);
        }
        pgcdc_pgo_parser_free(ps);
    }
    /* Trailing garbage after a complete message. */
    wb t = {0};
    putbytes(&t, w->b, w->n);
    put8(&t, 0);
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(proto);
    pgcdc_pgo_set_in_stream(ps, in_stream);
    CHECK_INT(parse(ps, &t, &m), -1);
    /* Protocol 4 reads bytes after a short Stream Abort as a partial
     * abort-info tail, which is reported as a truncation instead. */
    if (!(proto >= 4 && w->b[0] == 'A' && w->n == 9))
        CHECK(err_has("trailing"));
    else
        CHECK(err_has("truncated Stream Abort"));
    CHECK_INT(pgcdc_pgo_in_stream(ps), in_stream);
    pgcdc_pgo_parser_free(ps);
    wb_free(&t);

    /* And the whole message parses in that state. */
    ps = pgcdc_pgo_parser_new(proto);
    pgcdc_pgo_set_in_stream(ps, in_stream);
    if (parse(ps, w, &m) != 0)
        fprintf(stderr, "full message failed: %s\n", g_err);
    CHECK_INT(m.wire_len, w->n);
    pgcdc_pgo_parser_free(ps);
}

static void check_prefixes(int proto, int in_stream, const wb *w)
{
    check_prefixes_ok_at(proto, in_stream, w, 0);
}

/* ---- message builders (valid messages) ---------------------------------- */

#define NO_XID (-1)

static void xidpfx(wb *w, int64_t xid)
{
    if (xid >= 0)
        put32(w, (uint32_t)xid);
}

static void build_begin(wb *w)
{
    wb_reset(w);
    put8(w, 'B');
    put64(w, 0x0000000100000A28ull); /* final LSN 1/A28 */
    put64(w, 0xFFFFFFFFFFFFFFFFull); /* commit ts -1 */
    put32(w, 0xFFFFFFFEu);           /* xid */
}

static void build_commit(wb *w)
{
    wb_reset(w);
    put8(w, 'C');
    put8(w, 0);
    put64(w, 0x16B3748ull);
    put64(w, 0x16B3778ull);
    put64(w, 0x0002B6E3A5C3D1E0ull);
}

static void build_origin(wb *w)
{
    wb_reset(w);
    put8(w, 'O');
    put64(w, 0x1234ull);
    putstr(w, "node_a");
}

static void build_relation(wb *w, int64_t xid)
{
    wb_reset(w);
    put8(w, 'R');
    xidpfx(w, xid);
    put32(w, 16384);
    putstr(w, "public");
    putstr(w, "users");
    put8(w, 'd');
    put16(w, 3);
    put8(w, 1);
    putstr(w, "id");
    put32(w, 23);
    put32(w, 0xFFFFFFFFu); /* typmod -1 */
    put8(w, 0);
    putstr(w, "name");
    put32(w, 25);
    put32(w, 0xFFFFFFFFu);
    put8(w, 0);
    putstr(w, "price");
    put32(w, 1700);
    put32(w, (10u << 16 | 2u) + 4u); /* numeric(10,2) */
}

static void build_relation_empty(wb *w, int64_t xid)
{
    wb_reset(w);
    put8(w, 'R');
    xidpfx(w, xid);
    put32(w, 16390);
    putstr(w, ""); /* pg_catalog */
    putstr(w, "no_cols");
    put8(w, 'n');
    put16(w, 0);
}

static void build_type(wb *w, int64_t xid)
{
    wb_reset(w);
    put8(w, 'Y');
    xidpfx(w, xid);
    put32(w, 16500);
    putstr(w, "public");
    putstr(w, "mood");
}

/* Insert with one column of each kind: n, u, t, b. */
static void build_insert(wb *w, int64_t xid)
{
    wb_reset(w);
    put8(w, 'I');
    xidpfx(w, xid);
    put32(w, 16384);
    put8(w, 'N');
    put16(w, 4);
    put8(w, 'n');
    put8(w, 'u');
    putval(w, 't', "hello");
    put8(w, 'b');
    put32(w, 3);
    putbytes(w, "\x00\x01\xff", 3);
}

/* oldkind: 0 (no old tuple), 'K' or 'O'. */
static void build_update(wb *w, int64_t xid, char oldkind)
{
    wb_reset(w);
    put8(w, 'U');
    xidpfx(w, xid);
    put32(w, 16384);
    if (oldkind) {
        put8(w, (unsigned char)oldkind);
        if (oldkind == 'K') {
            put16(w, 2);
            putval(w, 't', "1");
            put8(w, 'n');
        } else {
            put16(w, 2);
            putval(w, 't', "1");
            putval(w, 't', "old");
        }
    }
    put8(w, 'N');
    put16(w, 2);
    putval(w, 't', "2");
    putval(w, 't', "new value");
}

static void build_delete(wb *w, int64_t xid, char oldkind)
{
    wb_reset(w);
    put8(w, 'D');
    xidpfx(w, xid);
    put32(w, 16384);
    put8(w, (unsigned char)oldkind);
    put16(w, 2);
    putval(w, 't', "42");
    if (oldkind == 'K')
        put8(w, 'n');
    else
        putval(w, 't', "gone");
}

static void build_truncate(wb *w, int64_t xid, uint32_t nrels, uint8_t options)
{
    wb_reset(w);
    put8(w, 'T');
    xidpfx(w, xid);
    put32(w, nrels);
    put8(w, options);
    for (uint32_t i = 0; i < nrels; i++)
        put32(w, 16384 + i);
}

static void build_message(wb *w, int64_t xid, int transactional)
{
    wb_reset(w);
    put8(w, 'M');
    xidpfx(w, xid);
    put8(w, transactional ? 1 : 0);
    put64(w, 0xABCDEFull);
    putstr(w, "pgcdc.test");
    put32(w, 5);
    putbytes(w, "a\0b\0c", 5);
}

static void build_stream_start(wb *w, uint32_t xid, int first)
{
    wb_reset(w);
    put8(w, 'S');
    put32(w, xid);
    put8(w, first ? 1 : 0);
}

static void build_stream_stop(wb *w)
{
    wb_reset(w);
    put8(w, 'E');
}

static void build_stream_commit(wb *w, uint32_t xid)
{
    wb_reset(w);
    put8(w, 'c');
    put32(w, xid);
    put8(w, 0);
    put64(w, 0x5000ull);
    put64(w, 0x5030ull);
    put64(w, 0x2B6E3A5C3D1E0ull);
}

static void build_stream_abort(wb *w, uint32_t xid, uint32_t subxid, int with_info)
{
    wb_reset(w);
    put8(w, 'A');
    put32(w, xid);
    put32(w, subxid);
    if (with_info) {
        put64(w, 0x6000ull);
        put64(w, 0x2B6E3A5C3D1E1ull);
    }
}

/* ---- positive tests ----------------------------------------------------- */

static void test_begin_commit_origin(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);

    build_begin(&w);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.type, 'B');
    CHECK_INT(m.wire_len, 21);
    CHECK(m.u.begin.final_lsn == 0x0000000100000A28ull);
    CHECK_INT(m.u.begin.commit_ts, -1);
    CHECK(m.u.begin.xid == 0xFFFFFFFEu);
    CHECK_INT(m.xid, 0);

    build_commit(&w);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.type, 'C');
    CHECK_INT(m.u.commit.flags, 0);
    CHECK(m.u.commit.commit_lsn == 0x16B3748ull);
    CHECK(m.u.commit.end_lsn == 0x16B3778ull);
    CHECK(m.u.commit.commit_ts == 0x0002B6E3A5C3D1E0ll);

    build_origin(&w);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.type, 'O');
    CHECK(m.u.origin.lsn == 0x1234ull);
    CHECK_STR(m.u.origin.name, "node_a");
    CHECK(in_msg(m.u.origin.name, 7));

    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

static void test_relation(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(2);

    build_relation(&w, NO_XID);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.type, 'R');
    CHECK_INT(m.u.relation.relid, 16384);
    CHECK_STR(m.u.relation.nspname, "public");
    CHECK_STR(m.u.relation.relname, "users");
    CHECK(in_msg(m.u.relation.relname, 6));
    CHECK_INT(m.u.relation.replident, 'd');
    CHECK_INT(m.u.relation.ncols, 3);
    CHECK_INT(m.u.relation.cols[0].flags, 1);
    CHECK_STR(m.u.relation.cols[0].name, "id");
    CHECK_INT(m.u.relation.cols[0].type_oid, 23);
    CHECK_INT(m.u.relation.cols[0].typmod, -1);
    CHECK_INT(m.u.relation.cols[1].flags, 0);
    CHECK_STR(m.u.relation.cols[1].name, "name");
    CHECK_INT(m.u.relation.cols[1].type_oid, 25);
    CHECK_STR(m.u.relation.cols[2].name, "price");
    CHECK_INT(m.u.relation.cols[2].type_oid, 1700);
    CHECK_INT(m.u.relation.cols[2].typmod, (10 << 16 | 2) + 4);
    CHECK(in_msg(m.u.relation.cols[2].name, 6));

    build_relation_empty(&w, NO_XID);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.u.relation.relid, 16390);
    CHECK_STR(m.u.relation.nspname, "pg_catalog");
    CHECK_STR(m.u.relation.relname, "no_cols");
    CHECK_INT(m.u.relation.replident, 'n');
    CHECK_INT(m.u.relation.ncols, 0);

    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

static void test_type(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);
    build_type(&w, NO_XID);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.type, 'Y');
    CHECK_INT(m.u.type.oid, 16500);
    CHECK_STR(m.u.type.nspname, "public");
    CHECK_STR(m.u.type.typname, "mood");

    wb_reset(&w);
    put8(&w, 'Y');
    put32(&w, 16501);
    putstr(&w, "");
    putstr(&w, "x");
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_STR(m.u.type.nspname, "pg_catalog");
    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

static void test_insert_kinds(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);
    build_insert(&w, NO_XID);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.type, 'I');
    CHECK_INT(m.xid, 0);
    CHECK_INT(m.u.insert.relid, 16384);
    const pgcdc_pgo_tuple *t = &m.u.insert.newtup;
    CHECK_INT(t->ncols, 4);
    CHECK_INT(t->cols[0].kind, 'n');
    CHECK(t->cols[0].data == NULL);
    CHECK_INT(t->cols[1].kind, 'u');
    CHECK_INT(t->cols[1].len, 0);
    CHECK_INT(t->cols[2].kind, 't');
    CHECK_INT(t->cols[2].len, 5);
    CHECK(memcmp(t->cols[2].data, "hello", 5) == 0);
    CHECK(in_msg(t->cols[2].data, 5));
    CHECK_INT(t->cols[3].kind, 'b');
    CHECK_INT(t->cols[3].len, 3);
    CHECK(memcmp(t->cols[3].data, "\x00\x01\xff", 3) == 0);
    CHECK(in_msg(t->cols[3].data, 3));
    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

static void test_insert_long_and_empty_values(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);
    size_t big = 1u << 20;
    char *val = malloc(big);
    for (size_t i = 0; i < big; i++)
        val[i] = (char)('a' + i % 26);

    put8(&w, 'I');
    put32(&w, 1);
    put8(&w, 'N');
    put16(&w, 3);
    put8(&w, 't');
    put32(&w, (uint32_t)big);
    putbytes(&w, val, big);
    put8(&w, 't');
    put32(&w, 0); /* empty string, not NULL */
    put8(&w, 'b');
    put32(&w, 0);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.u.insert.newtup.ncols, 3);
    CHECK_INT(m.u.insert.newtup.cols[0].len, big);
    CHECK(memcmp(m.u.insert.newtup.cols[0].data, val, big) == 0);
    CHECK_INT(m.u.insert.newtup.cols[1].kind, 't');
    CHECK_INT(m.u.insert.newtup.cols[1].len, 0);
    CHECK(m.u.insert.newtup.cols[1].data != NULL);
    CHECK_INT(m.u.insert.newtup.cols[2].kind, 'b');
    CHECK_INT(m.u.insert.newtup.cols[2].len, 0);

    /* Value one byte short of its declared length. */
    w.n--;
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK(err_has("truncated Insert"));
    free(val);
    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

/* A table as wide as PostgreSQL allows (1600 columns) plus the Int16 max. */
static void test_wide_tuple(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);
    put8(&w, 'I');
    put32(&w, 1);
    put8(&w, 'N');
    put16(&w, 0xFFFF);
    for (unsigned i = 0; i < 0xFFFF; i++) {
        if (i % 3 == 0)
            put8(&w, 'n');
        else
            putval(&w, 't', i % 3 == 1 ? "x" : "yz");
    }
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.u.insert.newtup.ncols, 0xFFFF);
    CHECK_INT(m.u.insert.newtup.cols[0xFFFE].kind, 't');
    CHECK_INT(m.u.insert.newtup.cols[0xFFFE].len, 2); /* 65534 % 3 == 2: "yz" */
    CHECK_INT(m.u.insert.newtup.cols[0xFFFD].len, 1);
    CHECK_INT(m.u.insert.newtup.cols[0xFFFC].kind, 'n');

    /* Relation with 1600 columns. */
    wb_reset(&w);
    put8(&w, 'R');
    put32(&w, 7);
    putstr(&w, "s");
    putstr(&w, "wide");
    put8(&w, 'f');
    put16(&w, 1600);
    for (unsigned i = 0; i < 1600; i++) {
        char name[16];
        snprintf(name, sizeof(name), "c%u", i);
        put8(&w, 1);
        putstr(&w, name);
        put32(&w, 23);
        put32(&w, 0xFFFFFFFFu);
    }
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.u.relation.ncols, 1600);
    CHECK_STR(m.u.relation.cols[1599].name, "c1599");
    CHECK_INT(m.u.relation.replident, 'f');
    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

static void test_update_forms(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);

    build_update(&w, NO_XID, 0);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.type, 'U');
    CHECK_INT(m.u.update.relid, 16384);
    CHECK_INT(m.u.update.oldkind, 0);
    CHECK_INT(m.u.update.oldtup.ncols, 0);
    CHECK(m.u.update.oldtup.cols == NULL);
    CHECK_INT(m.u.update.newtup.ncols, 2);
    CHECK_INT(m.u.update.newtup.cols[1].len, 9);
    CHECK(memcmp(m.u.update.newtup.cols[1].data, "new value", 9) == 0);

    build_update(&w, NO_XID, 'K');
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.u.update.oldkind, 'K');
    CHECK_INT(m.u.update.oldtup.ncols, 2);
    CHECK_INT(m.u.update.oldtup.cols[0].kind, 't');
    CHECK(memcmp(m.u.update.oldtup.cols[0].data, "1", 1) == 0);
    CHECK_INT(m.u.update.oldtup.cols[1].kind, 'n');
    CHECK_INT(m.u.update.newtup.ncols, 2);
    CHECK(memcmp(m.u.update.newtup.cols[0].data, "2", 1) == 0);
    CHECK(m.u.update.oldtup.cols != m.u.update.newtup.cols);

    build_update(&w, NO_XID, 'O');
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.u.update.oldkind, 'O');
    CHECK_INT(m.u.update.oldtup.cols[1].len, 3);
    CHECK(memcmp(m.u.update.oldtup.cols[1].data, "old", 3) == 0);
    CHECK_INT(m.u.update.newtup.cols[1].len, 9);
    CHECK(memcmp(m.u.update.newtup.cols[1].data, "new value", 9) == 0);

    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

static void test_delete_forms(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);

    build_delete(&w, NO_XID, 'K');
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.type, 'D');
    CHECK_INT(m.u.del.relid, 16384);
    CHECK_INT(m.u.del.oldkind, 'K');
    CHECK_INT(m.u.del.oldtup.ncols, 2);
    CHECK(memcmp(m.u.del.oldtup.cols[0].data, "42", 2) == 0);
    CHECK_INT(m.u.del.oldtup.cols[1].kind, 'n');

    build_delete(&w, NO_XID, 'O');
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.u.del.oldkind, 'O');
    CHECK_INT(m.u.del.oldtup.cols[1].kind, 't');
    CHECK(memcmp(m.u.del.oldtup.cols[1].data, "gone", 4) == 0);

    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

static void test_truncate(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);

    build_truncate(&w, NO_XID, 3, 3);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.type, 'T');
    CHECK_INT(m.u.truncate.nrels, 3);
    CHECK_INT(m.u.truncate.options, 3);
    CHECK_INT(m.u.truncate.relids[0], 16384);
    CHECK_INT(m.u.truncate.relids[2], 16386);

    build_truncate(&w, NO_XID, 1, 1);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.u.truncate.nrels, 1);
    CHECK_INT(m.u.truncate.options, 1);

    build_truncate(&w, NO_XID, 100, 2); /* grows the scratch past its first size */
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.u.truncate.nrels, 100);
    CHECK_INT(m.u.truncate.options, 2);
    CHECK_INT(m.u.truncate.relids[99], 16384 + 99);

    build_truncate(&w, NO_XID, 0, 0);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.u.truncate.nrels, 0);

    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

static void test_message(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);

    build_message(&w, NO_XID, 1);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.type, 'M');
    CHECK_INT(m.u.message.flags, 1);
    CHECK(m.u.message.lsn == 0xABCDEFull);
    CHECK_STR(m.u.message.prefix, "pgcdc.test");
    CHECK_INT(m.u.message.len, 5);
    CHECK(memcmp(m.u.message.content, "a\0b\0c", 5) == 0);
    CHECK(in_msg(m.u.message.content, 5));

    build_message(&w, NO_XID, 0);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.u.message.flags, 0);

    /* Empty content at the very end of the buffer. */
    wb_reset(&w);
    put8(&w, 'M');
    put8(&w, 0);
    put64(&w, 1);
    putstr(&w, "");
    put32(&w, 0);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_STR(m.u.message.prefix, "");
    CHECK_INT(m.u.message.len, 0);

    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

/* A full streamed chunk in protocol 2: S, R/Y/I/U/D/T/M with xid, O, E. */
static void test_stream_block(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(2);
    CHECK_INT(pgcdc_pgo_in_stream(ps), 0);

    build_stream_start(&w, 700, 1);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.type, 'S');
    CHECK_INT(m.u.stream_start.xid, 700);
    CHECK_INT(m.u.stream_start.first_segment, 1);
    CHECK_INT(m.xid, 0);
    CHECK_INT(pgcdc_pgo_in_stream(ps), 1);

    build_origin(&w); /* Origin follows Stream Start, without xid */
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_STR(m.u.origin.name, "node_a");

    build_type(&w, 701);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.xid, 701);
    CHECK_INT(m.u.type.oid, 16500);
    CHECK_STR(m.u.type.typname, "mood");

    build_relation(&w, 700);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.xid, 700);
    CHECK_INT(m.u.relation.relid, 16384);
    CHECK_INT(m.u.relation.ncols, 3);

    build_insert(&w, 702);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.xid, 702);
    CHECK_INT(m.u.insert.relid, 16384);
    CHECK_INT(m.u.insert.newtup.ncols, 4);

    build_update(&w, 700, 'O');
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.xid, 700);
    CHECK_INT(m.u.update.oldkind, 'O');
    CHECK_INT(m.u.update.newtup.ncols, 2);

    build_delete(&w, 700, 'K');
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.xid, 700);
    CHECK_INT(m.u.del.oldkind, 'K');

    build_truncate(&w, 700, 2, 1);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.xid, 700);
    CHECK_INT(m.u.truncate.nrels, 2);

    build_message(&w, 700, 1);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.xid, 700);
    CHECK_STR(m.u.message.prefix, "pgcdc.test");

    /* Without the xid prefix the same Insert is misaligned and must fail. */
    build_insert(&w, NO_XID);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK_INT(pgcdc_pgo_in_stream(ps), 1);

    build_stream_stop(&w);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.type, 'E');
    CHECK_INT(m.wire_len, 1);
    CHECK_INT(pgcdc_pgo_in_stream(ps), 0);

    /* Outside the block: no xid prefix again. */
    build_insert(&w, NO_XID);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.xid, 0);

    build_stream_start(&w, 700, 0);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.u.stream_start.first_segment, 0);
    build_stream_stop(&w);
    CHECK_INT(parse(ps, &w, &m), 0);

    build_stream_commit(&w, 700);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.type, 'c');
    CHECK_INT(m.u.stream_commit.xid, 700);
    CHECK_INT(m.u.stream_commit.flags, 0);
    CHECK(m.u.stream_commit.commit_lsn == 0x5000ull);
    CHECK(m.u.stream_commit.end_lsn == 0x5030ull);
    CHECK(m.u.stream_commit.commit_ts == 0x2B6E3A5C3D1E0ll);
    CHECK_INT(pgcdc_pgo_in_stream(ps), 0);

    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

static void test_stream_abort_forms(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    for (int proto = 2; proto <= 4; proto++) {
        pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(proto);
        build_stream_abort(&w, 700, 705, 0);
        CHECK_INT(parse(ps, &w, &m), 0);
        CHECK_INT(m.type, 'A');
        CHECK_INT(m.u.stream_abort.xid, 700);
        CHECK_INT(m.u.stream_abort.subxid, 705);
        CHECK_INT(m.u.stream_abort.has_abort_info, 0);
        CHECK_INT(m.u.stream_abort.abort_lsn, 0);
        CHECK_INT(m.u.stream_abort.abort_ts, 0);

        build_stream_abort(&w, 700, 700, 1);
        int rc = parse(ps, &w, &m);
        if (proto < 4) {
            CHECK_INT(rc, -1); /* the 16-byte tail only exists in protocol 4 */
            CHECK(err_has("16 trailing bytes"));
        } else {
            CHECK_INT(rc, 0);
            CHECK_INT(m.u.stream_abort.has_abort_info, 1);
            CHECK(m.u.stream_abort.abort_lsn == 0x6000ull);
            CHECK(m.u.stream_abort.abort_ts == 0x2B6E3A5C3D1E1ll);
        }
        pgcdc_pgo_parser_free(ps);
    }

    /* Protocol 4: a partial abort-info tail is a truncation, more is trailing. */
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(4);
    build_stream_abort(&w, 1, 2, 1);
    CHECK_INT(parse_n(ps, w.b, w.n - 1, &m), -1);
    CHECK(err_has("truncated Stream Abort"));
    put8(&w, 0);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK(err_has("trailing"));
    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

/* pgcdc_pgo_set_in_stream: replaying spooled in-stream messages. */
static void test_forced_in_stream(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(2);
    pgcdc_pgo_set_in_stream(ps, 1);
    CHECK_INT(pgcdc_pgo_in_stream(ps), 1);
    build_insert(&w, 1234);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.xid, 1234);
    build_update(&w, 1235, 'K');
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.xid, 1235);
    pgcdc_pgo_set_in_stream(ps, 0);
    CHECK_INT(pgcdc_pgo_in_stream(ps), 0);
    build_insert(&w, NO_XID);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.xid, 0);
    pgcdc_pgo_set_in_stream(ps, 7); /* any non-zero means "in a stream" */
    CHECK_INT(pgcdc_pgo_in_stream(ps), 1);
    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

/* Scratch arrays are reused: the same layout twice gives the same arrays,
 * and a smaller message after a larger one still decodes correctly. */
static void test_scratch_reuse(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);
    build_update(&w, NO_XID, 'O');
    CHECK_INT(parse(ps, &w, &m), 0);
    const pgcdc_pgo_value *oldcols = m.u.update.oldtup.cols;
    const pgcdc_pgo_value *newcols = m.u.update.newtup.cols;
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK(m.u.update.oldtup.cols == oldcols);
    CHECK(m.u.update.newtup.cols == newcols);

    build_insert(&w, NO_XID);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK(m.u.insert.newtup.cols == oldcols); /* slot 0 */
    CHECK_INT(m.u.insert.newtup.ncols, 4);
    CHECK(memcmp(m.u.insert.newtup.cols[2].data, "hello", 5) == 0);

    build_relation(&w, NO_XID);
    CHECK_INT(parse(ps, &w, &m), 0);
    const pgcdc_pgo_relcol *rc = m.u.relation.cols;
    build_relation_empty(&w, NO_XID);
    CHECK_INT(parse(ps, &w, &m), 0);
    build_relation(&w, NO_XID);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK(m.u.relation.cols == rc);
    CHECK_STR(m.u.relation.cols[1].name, "name");
    pgcdc_pgo_parser_free(ps);
    pgcdc_pgo_parser_free(NULL);
    wb_free(&w);
}

static void test_msg_name(void)
{
    CHECK_STR(pgcdc_pgo_msg_name('U'), "Update");
    CHECK_STR(pgcdc_pgo_msg_name('A'), "Stream Abort");
    CHECK_STR(pgcdc_pgo_msg_name('c'), "Stream Commit");
    CHECK_STR(pgcdc_pgo_msg_name('P'), "Prepare");
    CHECK_STR(pgcdc_pgo_msg_name('Z'), "unknown");
}

/* ---- negative tests ----------------------------------------------------- */

static void test_empty_and_unknown_type(void)
{
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(4);
    CHECK_INT(parse_n(ps, "", 0, &m), -1);
    CHECK(err_has("empty"));
    g_err[0] = '\0';
    CHECK_INT(pgcdc_pgo_parse(ps, NULL, 0, &m, g_err, sizeof(g_err)), -1);
    CHECK(err_has("empty"));

    CHECK_INT(parse_n(ps, "Z", 1, &m), -1);
    CHECK_STR(g_err, "pgoutput: unknown message type 0x5a ('Z') at byte 0");
    CHECK_INT(parse_n(ps, "\x00", 1, &m), -1);
    CHECK_STR(g_err, "pgoutput: unknown message type 0x00 at byte 0");
    CHECK_INT(parse_n(ps, "\xff\x01\x02", 3, &m), -1);
    CHECK(err_has("unknown message type 0xff"));

    /* A NULL or zero-size errstr is allowed. */
    CHECK_INT(pgcdc_pgo_parse(ps, "Z", 1, &m, NULL, 0), -1);
    char small[8];
    CHECK_INT(pgcdc_pgo_parse(ps, "Z", 1, &m, small, sizeof(small)), -1);
    CHECK_INT(strlen(small), 7);
    pgcdc_pgo_parser_free(ps);
}

static void test_two_phase_rejected(void)
{
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(4);
    const char *types = "bPKrp";
    for (const char *t = types; *t; t++) {
        char buf[64];
        memset(buf, 0, sizeof(buf));
        buf[0] = *t;
        CHECK_INT(parse_n(ps, buf, sizeof(buf), &m), -1);
        CHECK(err_has("two-phase"));
        CHECK(err_has("not supported"));
    }
    CHECK_INT(parse_n(ps, "P", 1, &m), -1);
    CHECK_STR(g_err, "pgoutput: two-phase message 'P' (Prepare) is not supported: pgcdc does not "
                     "request two_phase");
    pgcdc_pgo_parser_free(ps);
}

static void test_bad_tuple_kind(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);
    put8(&w, 'I');
    put32(&w, 1);
    put8(&w, 'N');
    put16(&w, 2);
    put8(&w, 'n');
    put8(&w, 'x');
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK_STR(g_err, "pgoutput: unknown tuple column kind 0x78 ('x') in Insert message at byte 9 "
                     "(column 2 of 2)");

    /* Old tuple with a bad kind in Update and Delete. */
    wb_reset(&w);
    put8(&w, 'U');
    put32(&w, 1);
    put8(&w, 'K');
    put16(&w, 1);
    put8(&w, 0);
    put8(&w, 'N');
    put16(&w, 0);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK(err_has("unknown tuple column kind 0x00 in Update"));

    wb_reset(&w);
    put8(&w, 'D');
    put32(&w, 1);
    put8(&w, 'O');
    put16(&w, 1);
    put8(&w, 'T'); /* kinds are lower case */
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK(err_has("kind 0x54 ('T') in Delete"));
    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

static void test_bad_tuple_tags(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);

    /* Insert needs 'N'. */
    wb_reset(&w);
    put8(&w, 'I');
    put32(&w, 1);
    put8(&w, 'K');
    put16(&w, 0);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK_STR(g_err,
              "pgoutput: Insert message at byte 5: expected 'N' (new tuple), got 0x4b ('K')");

    /* Update: unknown first tag; old tuple not followed by 'N'. */
    wb_reset(&w);
    put8(&w, 'U');
    put32(&w, 1);
    put8(&w, 'X');
    put16(&w, 0);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK(err_has("expected 'K', 'O' or 'N'"));

    wb_reset(&w);
    put8(&w, 'U');
    put32(&w, 1);
    put8(&w, 'K');
    put16(&w, 0);
    put8(&w, 'O');
    put16(&w, 0);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK_STR(g_err,
              "pgoutput: Update message at byte 8: expected 'N' (new tuple), got 0x4f ('O')");

    /* Delete needs 'K' or 'O'. */
    wb_reset(&w);
    put8(&w, 'D');
    put32(&w, 1);
    put8(&w, 'N');
    put16(&w, 0);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK(err_has("expected 'K' (key) or 'O' (old tuple)"));
    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

static void test_missing_nul(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);

    /* Relation whose relname runs to the end of the buffer. */
    put8(&w, 'R');
    put32(&w, 1);
    putstr(&w, "public");
    putbytes(&w, "users", 5);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK_STR(g_err, "pgoutput: unterminated string in Relation message at byte 12 (no NUL in the "
                     "last 5 bytes)");

    /* Origin name without NUL. */
    wb_reset(&w);
    put8(&w, 'O');
    put64(&w, 1);
    putbytes(&w, "abc", 3);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK(err_has("unterminated string in Origin"));

    /* Origin with nothing after the LSN. */
    wb_reset(&w);
    put8(&w, 'O');
    put64(&w, 1);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK(err_has("unterminated string in Origin message at byte 9"));

    /* Column name without NUL. */
    wb_reset(&w);
    put8(&w, 'R');
    put32(&w, 1);
    putstr(&w, "s");
    putstr(&w, "t");
    put8(&w, 'd');
    put16(&w, 1);
    put8(&w, 0);
    putbytes(&w, "abcdefghij", 10);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK(err_has("unterminated string in Relation"));

    /* Message prefix without NUL. */
    wb_reset(&w);
    put8(&w, 'M');
    put8(&w, 1);
    put64(&w, 1);
    putbytes(&w, "prefix", 6);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK(err_has("unterminated string in Message"));
    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

static void test_huge_counts(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);

    /* 65535 tuple columns announced, 2 bytes present. */
    put8(&w, 'I');
    put32(&w, 1);
    put8(&w, 'N');
    put16(&w, 0xFFFF);
    put8(&w, 'n');
    put8(&w, 'n');
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK_STR(g_err, "pgoutput: truncated Insert message at byte 8 (need 65533 more bytes)");

    /* 65535 relation columns announced. */
    wb_reset(&w);
    put8(&w, 'R');
    put32(&w, 1);
    putstr(&w, "s");
    putstr(&w, "t");
    put8(&w, 'd');
    put16(&w, 0xFFFF);
    put8(&w, 0);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK_STR(g_err, "pgoutput: truncated Relation message at byte 12 (need 655349 more bytes)");

    /* 2^32-1 truncated relations. */
    wb_reset(&w);
    put8(&w, 'T');
    put32(&w, 0xFFFFFFFFu);
    put8(&w, 0);
    put32(&w, 1);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK(err_has("truncated Truncate message at byte 6"));

    /* Value length 2^32-1 and 2^31. */
    uint32_t lens[] = {0xFFFFFFFFu, 0x80000000u, 6u};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        wb_reset(&w);
        put8(&w, 'I');
        put32(&w, 1);
        put8(&w, 'N');
        put16(&w, 1);
        put8(&w, 't');
        put32(&w, lens[i]);
        putbytes(&w, "abcde", 5);
        CHECK_INT(parse(ps, &w, &m), -1);
        CHECK(err_has("truncated Insert message at byte 13"));
    }

    /* Message content length 2^32-1. */
    wb_reset(&w);
    put8(&w, 'M');
    put8(&w, 0);
    put64(&w, 1);
    putstr(&w, "p");
    put32(&w, 0xFFFFFFFFu);
    putbytes(&w, "xy", 2);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK(err_has("truncated Message"));
    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

/* The error text names the message, the byte offset and the shortfall. */
static void test_truncation_errstr(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);
    put8(&w, 'U');
    put32(&w, 1);
    put8(&w, 'K');
    put16(&w, 1);
    put8(&w, 'n');
    put8(&w, 'N');
    put16(&w, 1);
    put8(&w, 't');
    put32(&w, 4);
    putbytes(&w, "abcd", 4);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(parse_n(ps, w.b, 17, &m), -1);
    CHECK_STR(g_err, "pgoutput: truncated Update message at byte 17 (need 4 more bytes)");
    CHECK_INT(parse_n(ps, w.b, 15, &m), -1);
    CHECK_STR(g_err, "pgoutput: truncated Update message at byte 13 (need 2 more bytes)");
    CHECK_INT(parse_n(ps, w.b, 3, &m), -1);
    CHECK_STR(g_err, "pgoutput: truncated Update message at byte 1 (need 2 more bytes)");
    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

static void test_trailing_bytes(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(2);
    build_begin(&w);
    put8(&w, 'C');
    put8(&w, 0);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK_STR(g_err, "pgoutput: 2 trailing bytes after a complete Begin message at byte 21");

    /* A trailing byte after Stream Start must not enter the stream. */
    build_stream_start(&w, 9, 1);
    put8(&w, 0);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK_INT(pgcdc_pgo_in_stream(ps), 0);
    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

static void test_stream_state_violations(void)
{
    wb w = {0};
    pgcdc_pgo_msg m;

    /* Stream messages need protocol 2. */
    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(1);
    build_stream_start(&w, 1, 1);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK(err_has("needs protocol version 2"));
    CHECK_INT(pgcdc_pgo_in_stream(ps), 0);
    build_stream_stop(&w);
    CHECK_INT(parse(ps, &w, &m), -1);
    build_stream_commit(&w, 1);
    CHECK_INT(parse(ps, &w, &m), -1);
    build_stream_abort(&w, 1, 1, 0);
    CHECK_INT(parse(ps, &w, &m), -1);
    pgcdc_pgo_parser_free(ps);

    ps = pgcdc_pgo_parser_new(3);
    build_stream_stop(&w);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK_STR(g_err, "pgoutput: Stream Stop message outside a stream block");

    build_stream_start(&w, 1, 1);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK_STR(g_err, "pgoutput: Stream Start message inside a stream block (missing Stream Stop)");
    build_begin(&w);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK(err_has("Begin message inside a stream block"));
    build_commit(&w);
    CHECK_INT(parse(ps, &w, &m), -1);
    build_stream_commit(&w, 1);
    CHECK_INT(parse(ps, &w, &m), -1);
    build_stream_abort(&w, 1, 1, 0);
    CHECK_INT(parse(ps, &w, &m), -1);
    CHECK_INT(pgcdc_pgo_in_stream(ps), 1);
    build_stream_stop(&w);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(pgcdc_pgo_in_stream(ps), 0);
    pgcdc_pgo_parser_free(ps);

    /* Out-of-range versions are clamped. */
    ps = pgcdc_pgo_parser_new(0);
    build_stream_start(&w, 1, 1);
    CHECK_INT(parse(ps, &w, &m), -1);
    pgcdc_pgo_parser_free(ps);
    ps = pgcdc_pgo_parser_new(99);
    build_stream_abort(&w, 1, 1, 1);
    CHECK_INT(parse(ps, &w, &m), 0);
    CHECK_INT(m.u.stream_abort.has_abort_info, 1);
    pgcdc_pgo_parser_free(ps);
    wb_free(&w);
}

/* Every strict prefix of every valid message fails, in every version. */
static void test_all_prefixes(void)
{
    wb w = {0};
    for (int proto = 1; proto <= 4; proto++) {
        build_begin(&w);
        check_prefixes(proto, 0, &w);
        build_commit(&w);
        check_prefixes(proto, 0, &w);
        build_origin(&w);
        check_prefixes(proto, 0, &w);
        check_prefixes(proto, 1, &w);

        for (int s = 0; s <= 1; s++) {
            int64_t xid = s ? 0x01020304 : NO_XID;
            if (s && proto < 2)
                continue;
            build_relation(&w, xid);
            check_prefixes(proto, s, &w);
            build_relation_empty(&w, xid);
            check_prefixes(proto, s, &w);
            build_type(&w, xid);
            check_prefixes(proto, s, &w);
            build_insert(&w, xid);
            check_prefixes(proto, s, &w);
            build_update(&w, xid, 0);
            check_prefixes(proto, s, &w);
            build_update(&w, xid, 'K');
            check_prefixes(proto, s, &w);
            build_update(&w, xid, 'O');
            check_prefixes(proto, s, &w);
            build_delete(&w, xid, 'K');
            check_prefixes(proto, s, &w);
            build_delete(&w, xid, 'O');
            check_prefixes(proto, s, &w);
            build_truncate(&w, xid, 3, 3);
            check_prefixes(proto, s, &w);
            build_truncate(&w, xid, 0, 0);
            check_prefixes(proto, s, &w);
            build_message(&w, xid, 1);
            check_prefixes(proto, s, &w);
            build_message(&w, xid, 0);
            check_prefixes(proto, s, &w);
        }
        if (proto < 2)
            continue;
        build_stream_start(&w, 77, 1);
        check_prefixes(proto, 0, &w);
        build_stream_stop(&w);
        check_prefixes(proto, 1, &w);
        build_stream_commit(&w, 77);
        check_prefixes(proto, 0, &w);
        build_stream_abort(&w, 77, 78, 0);
        check_prefixes(proto, 0, &w);
        if (proto >= 4) {
            build_stream_abort(&w, 77, 78, 1);
            check_prefixes_ok_at(proto, 0, &w, 9); /* xid + subxid alone is valid */
        }
    }
    wb_free(&w);
}

/* Deterministic mutation of valid messages: flips, truncations, insertions.
 * Only checks that nothing crashes or reads out of bounds (ASan). */
static void test_mutations(void)
{
    wb w = {0}, t = {0};
    pgcdc_pgo_msg m;
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    for (int round = 0; round < 20000; round++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        int proto = (int)(rng % 4) + 1;
        int s = (int)((rng >> 8) & 1);
        int64_t xid = s ? 5 : NO_XID;
        switch ((rng >> 16) % 9) {
        case 0:
            build_relation(&w, xid);
            break;
        case 1:
            build_insert(&w, xid);
            break;
        case 2:
            build_update(&w, xid, 'O');
            break;
        case 3:
            build_delete(&w, xid, 'K');
            break;
        case 4:
            build_truncate(&w, xid, 4, 1);
            break;
        case 5:
            build_message(&w, xid, 1);
            break;
        case 6:
            build_stream_abort(&w, 1, 2, 1);
            break;
        case 7:
            build_type(&w, xid);
            break;
        default:
            build_stream_commit(&w, 3);
            break;
        }
        wb_reset(&t);
        putbytes(&t, w.b, w.n);
        int nmut = (int)((rng >> 24) % 4) + 1;
        for (int k = 0; k < nmut && t.n; k++) {
            size_t pos = (size_t)((rng >> (32 + k * 6)) % t.n);
            unsigned char v = (unsigned char)(rng >> (k * 8));
            switch ((rng >> (40 + k * 2)) & 3) {
            case 0:
                t.b[pos] = v;
                break;
            case 1:
                t.b[pos] ^= (unsigned char)(1u << (v & 7));
                break;
            case 2:
                t.n = pos;
                break;
            default:
                t.b[pos] = 0xFF;
                break;
            }
        }
        pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(proto);
        pgcdc_pgo_set_in_stream(ps, s);
        if (parse(ps, &t, &m) == 0) {
            CHECK_INT(m.wire_len, t.n);
        } else {
            CHECK(g_err[0] != '\0');
        }
        pgcdc_pgo_parser_free(ps);
    }
    wb_free(&w);
    wb_free(&t);
}

int main(void)
{
    TEST_RUN(test_begin_commit_origin);
    TEST_RUN(test_relation);
    TEST_RUN(test_type);
    TEST_RUN(test_insert_kinds);
    TEST_RUN(test_insert_long_and_empty_values);
    TEST_RUN(test_wide_tuple);
    TEST_RUN(test_update_forms);
    TEST_RUN(test_delete_forms);
    TEST_RUN(test_truncate);
    TEST_RUN(test_message);
    TEST_RUN(test_stream_block);
    TEST_RUN(test_stream_abort_forms);
    TEST_RUN(test_forced_in_stream);
    TEST_RUN(test_scratch_reuse);
    TEST_RUN(test_msg_name);
    TEST_RUN(test_empty_and_unknown_type);
    TEST_RUN(test_two_phase_rejected);
    TEST_RUN(test_bad_tuple_kind);
    TEST_RUN(test_bad_tuple_tags);
    TEST_RUN(test_missing_nul);
    TEST_RUN(test_huge_counts);
    TEST_RUN(test_truncation_errstr);
    TEST_RUN(test_trailing_bytes);
    TEST_RUN(test_stream_state_violations);
    TEST_RUN(test_all_prefixes);
    TEST_RUN(test_mutations);
    free(g_copy);
    TEST_DONE();
}
