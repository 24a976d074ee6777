/*
 * test_parquet.c - unit tests of the Parquet writer: Thrift compact bytes,
 * the RLE/bit-packed hybrid (checked by a decoder written here from the
 * format's description), files written to memory and re-read structurally
 * (magic, footer, row counts), edge values for the sanitizers, the error
 * paths, and the PostgreSQL text conversions. Readers (pyarrow, duckdb)
 * check the files in tests/e2e/test_parquet.py.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/parquet/encoding.h"
#include "format/parquet/parquet.h"
#include "format/parquet/parquet_pg.h"
#include "format/parquet/thrift.h"
#include "test.h"

/* ---------------------------------------------------------------- thrift */

static void test_thrift_bytes(void)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_thrift_w t;
    pgcdc_thrift_init(&t, &b);
    pgcdc_thrift_i32(&t, 1, 2);        /* 0x15 0x04 */
    pgcdc_thrift_i64(&t, 3, -1);       /* 0x26 0x01 */
    pgcdc_thrift_bool(&t, 4, 1);       /* 0x11 */
    pgcdc_thrift_i32(&t, 40, 0);       /* long form: 0x05, zigzag(40)=80 0x50, 0x00 */
    pgcdc_thrift_string(&t, 41, "ab"); /* 0x18 0x02 'a' 'b' */
    pgcdc_thrift_list_begin(&t, 42, PGCDC_THRIFT_I32, 20); /* 0x19 0xf5 0x14 */
    for (int i = 0; i < 20; i++)
        pgcdc_thrift_elem_i32(&t, 1);
    pgcdc_thrift_struct_begin(&t, 43); /* 0x1c */
    pgcdc_thrift_i32(&t, 1, 300);      /* 0x15 0xd8 0x04 */
    pgcdc_thrift_struct_end(&t);       /* 0x00 */
    pgcdc_thrift_i32(&t, 44, 1);       /* delta from 43: 0x15 0x02 */
    pgcdc_thrift_finish(&t);
    static const unsigned char want_head[] = {0x15, 0x04, 0x26, 0x01, 0x11, 0x05, 0x50, 0x00,
                                              0x18, 0x02, 'a',  'b',  0x19, 0xf5, 0x14};
    CHECK(b.len == sizeof(want_head) + 20 + 7 + 1);
    CHECK(memcmp(b.data, want_head, sizeof(want_head)) == 0);
    static const unsigned char want_tail[] = {0x1c, 0x15, 0xd8, 0x04, 0x00, 0x15, 0x02, 0x00};
    CHECK(memcmp(b.data + b.len - sizeof(want_tail), want_tail, sizeof(want_tail)) == 0);
    pgcdc_buf_free(&b);
}

/* ------------------------------------------------------------------- rle */

static uint64_t rd_varint(const unsigned char **p, const unsigned char *end)
{
    uint64_t v = 0;
    int sh = 0;
    while (*p < end) {
        unsigned char c = *(*p)++;
        v |= (uint64_t)(c & 0x7f) << sh;
        if (!(c & 0x80))
            break;
        sh += 7;
    }
    return v;
}

/* Decodes up to n values of the hybrid encoding; returns how many. */
static size_t rle_decode(const unsigned char *p, size_t len, int bw, uint32_t *out, size_t n)
{
    const unsigned char *end = p + len;
    size_t k = 0;
    while (p < end && k < n) {
        uint64_t h = rd_varint(&p, end);
        if (h & 1) {
            size_t cnt = (size_t)(h >> 1) * 8;
            uint64_t acc = 0;
            int nb = 0;
            for (size_t i = 0; i < cnt; i++) {
                while (nb < bw && p < end) {
                    acc |= (uint64_t)*p++ << nb;
                    nb += 8;
                }
                uint32_t v = bw ? (uint32_t)(acc & ((1ull << bw) - 1)) : 0;
                acc >>= bw;
                nb -= bw;
                if (k < n)
                    out[k++] = v;
            }
        } else {
            size_t cnt = (size_t)(h >> 1);
            uint32_t v = 0;
            for (int i = 0; i < (bw + 7) / 8; i++)
                v |= (uint32_t)*p++ << (8 * i);
            for (size_t i = 0; i < cnt && k < n; i++)
                out[k++] = v;
        }
    }
    return k;
}

static void rle_roundtrip(const uint32_t *v, size_t n, int bw)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_pq_rle_u32(&b, v, n, bw);
    uint32_t *got = calloc(n + 1, sizeof(uint32_t));
    size_t k = rle_decode((const unsigned char *)b.data, b.len, bw, got, n);
    CHECK(k == n);
    CHECK(n == 0 || memcmp(got, v, n * sizeof(uint32_t)) == 0);
    free(got);
    pgcdc_buf_free(&b);
}

static void test_rle(void)
{
    /* one run: header 2*n, value in one byte */
    uint32_t ones[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_pq_rle_u32(&b, ones, 10, 1);
    CHECK(b.len == 2 && (unsigned char)b.data[0] == 20 && b.data[1] == 1);
    /* a literal of 3: one group, padded */
    pgcdc_buf_reset(&b);
    uint32_t lit[3] = {1, 0, 1};
    pgcdc_pq_rle_u32(&b, lit, 3, 1);
    CHECK(b.len == 2 && (unsigned char)b.data[0] == 3 && (unsigned char)b.data[1] == 0x05);
    pgcdc_buf_free(&b);

    static uint32_t v[20000];
    uint32_t seed = 12345;
    for (int bw = 1; bw <= 32; bw += (bw < 4 ? 1 : 7)) {
        uint32_t mask = bw == 32 ? UINT32_MAX : (1u << bw) - 1;
        for (size_t i = 0; i < 20000; i++) {
            seed = seed * 1103515245u + 12345u;
            /* runs of varying length mixed with noise */
            v[i] = ((seed >> 16) % 5 == 0 && i) ? v[i - 1] : (seed & mask);
            if (i % 1000 < 37)
                v[i] = mask;
        }
        rle_roundtrip(v, 20000, bw);
        rle_roundtrip(v, 7, bw);
        rle_roundtrip(v, 0, bw);
    }
    /* literal stretch followed by a run (the run lends values to the group) */
    uint32_t mix[30] = {1, 2, 3};
    for (int i = 3; i < 30; i++)
        mix[i] = 7;
    rle_roundtrip(mix, 30, 3);
    uint8_t lv[9] = {1, 1, 0, 1, 1, 1, 1, 1, 1};
    pgcdc_buf b8 = PGCDC_BUF_INIT;
    pgcdc_pq_rle_u8(&b8, lv, 9, 1);
    uint32_t got[9];
    CHECK(rle_decode((const unsigned char *)b8.data, b8.len, 1, got, 9) == 9);
    for (int i = 0; i < 9; i++)
        CHECK(got[i] == lv[i]);
    pgcdc_buf_free(&b8);
    CHECK(pgcdc_pq_bit_width(0) == 0 && pgcdc_pq_bit_width(1) == 1 && pgcdc_pq_bit_width(255) == 8);
    CHECK(pgcdc_pq_decimal_bytes(9) == 4 && pgcdc_pq_decimal_bytes(18) == 8);
    CHECK(pgcdc_pq_decimal_bytes(38) == 16 && pgcdc_pq_decimal_bytes(19) == 9);
}

/* ---------------------------------------------------------------- writer */

typedef struct {
    pgcdc_buf out;
    int fail_after; /* calls before the callback fails; -1 never */
} mem_out;

static int mem_write(void *ctx, const void *p, size_t n, char *errstr, size_t es)
{
    mem_out *m = ctx;
    if (m->fail_after == 0) {
        snprintf(errstr, es, "disk full");
        return -1;
    }
    if (m->fail_after > 0)
        m->fail_after--;
    pgcdc_buf_append(&m->out, p, n);
    return 0;
}

/* Skips one compact-protocol value of `type`; records i64/i32 fields and
 * list sizes of the top-level struct when depth == 0. */
typedef struct {
    int64_t num_rows;
    int64_t nrowgroups;
    int64_t version;
} footer_info;

static int skip_value(const unsigned char **p, const unsigned char *end, int type, int depth);

static int skip_struct(const unsigned char **p, const unsigned char *end, int depth,
                       footer_info *fi)
{
    int16_t last = 0;
    while (*p < end) {
        unsigned char h = *(*p)++;
        if (h == 0)
            return 0;
        int type = h & 0x0f;
        int16_t id;
        if (h >> 4)
            id = (int16_t)(last + (h >> 4));
        else {
            uint64_t z = rd_varint(p, end);
            id = (int16_t)((z >> 1) ^ -(z & 1));
        }
        last = id;
        if (depth == 0 && fi && (type == PGCDC_THRIFT_I64 || type == PGCDC_THRIFT_I32)) {
            uint64_t z = rd_varint(p, end);
            int64_t v = (int64_t)((z >> 1) ^ -(z & 1));
            if (id == 3)
                fi->num_rows = v;
            if (id == 1)
                fi->version = v;
            continue;
        }
        if (depth == 0 && fi && id == 4 && type == PGCDC_THRIFT_LIST) {
            const unsigned char *q = *p;
            unsigned char lh = *q;
            fi->nrowgroups = (lh >> 4) == 15 ? -1 : (lh >> 4);
            if ((lh >> 4) == 15) {
                q++;
                fi->nrowgroups = (int64_t)rd_varint(&q, end);
            }
        }
        if (type == PGCDC_THRIFT_TRUE || type == PGCDC_THRIFT_FALSE)
            continue;
        if (skip_value(p, end, type, depth + 1) != 0)
            return -1;
    }
    return -1;
}

static int skip_value(const unsigned char **p, const unsigned char *end, int type, int depth)
{
    switch (type) {
    case PGCDC_THRIFT_TRUE:
    case PGCDC_THRIFT_FALSE:
    case PGCDC_THRIFT_BYTE:
        (*p)++;
        return 0;
    case PGCDC_THRIFT_I16:
    case PGCDC_THRIFT_I32:
    case PGCDC_THRIFT_I64:
        rd_varint(p, end);
        return 0;
    case PGCDC_THRIFT_DOUBLE:
        *p += 8;
        return 0;
    case PGCDC_THRIFT_BINARY: {
        uint64_t n = rd_varint(p, end);
        if (n > (uint64_t)(end - *p))
            return -1;
        *p += n;
        return 0;
    }
    case PGCDC_THRIFT_LIST: {
        unsigned char h = *(*p)++;
        uint64_t n = h >> 4;
        if (n == 15)
            n = rd_varint(p, end);
        for (uint64_t i = 0; i < n; i++)
            if (skip_value(p, end, h & 0x0f, depth) != 0)
                return -1;
        return 0;
    }
    case PGCDC_THRIFT_STRUCT:
        return skip_struct(p, end, depth, NULL);
    default:
        return -1;
    }
}

/* Checks the file's frame and footer; fills fi. */
static int check_file(const pgcdc_buf *f, footer_info *fi)
{
    memset(fi, 0, sizeof(*fi));
    if (f->len < 12 || memcmp(f->data, "PAR1", 4) != 0 ||
        memcmp(f->data + f->len - 4, "PAR1", 4) != 0)
        return -1;
    const unsigned char *t = (const unsigned char *)f->data + f->len - 8;
    uint32_t n = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    if (n > f->len - 12)
        return -1;
    const unsigned char *p = t - n;
    if (skip_struct(&p, t, 0, fi) != 0)
        return -1;
    return p == t ? 0 : -1; /* the footer is exactly one struct */
}

static const pgcdc_pq_column k_cols[] = {
    {.name = "id", .physical = PGCDC_PQ_INT64, .logical = PGCDC_PQ_LOGICAL_INT, .int_bits = 64},
    {.name = "s",
     .physical = PGCDC_PQ_BYTE_ARRAY,
     .logical = PGCDC_PQ_LOGICAL_STRING,
     .nullable = 1},
    {.name = "f", .physical = PGCDC_PQ_DOUBLE, .nullable = 1},
    {.name = "b", .physical = PGCDC_PQ_BOOLEAN, .nullable = 1},
    {.name = "dec",
     .physical = PGCDC_PQ_FIXED_LEN_BYTE_ARRAY,
     .logical = PGCDC_PQ_LOGICAL_DECIMAL,
     .type_length = 16,
     .precision = 38,
     .scale = 2,
     .nullable = 1},
    {.name = "nulls", .physical = PGCDC_PQ_INT32, .nullable = 1},
};
#define K_NCOLS ((int)(sizeof(k_cols) / sizeof(k_cols[0])))

/* Writes nrows rows of k_cols with the given options; returns the file. */
static int write_rows(mem_out *m, const pgcdc_pq_options *o, int64_t nrows, size_t long_len,
                      footer_info *fi)
{
    char err[256];
    pgcdc_pq_writer *w;
    if (pgcdc_pq_writer_open(&w, k_cols, K_NCOLS, o, mem_write, m, err, sizeof(err)) != 0)
        return -1;
    char *longs = malloc(long_len + 1);
    memset(longs, 'x', long_len);
    unsigned char dec[16];
    int rc = 0;
    for (int64_t r = 0; r < nrows && rc == 0; r++) {
        pgcdc_pq_put_i64(w, 0, r);
        if (r % 7 == 0)
            pgcdc_pq_put_null(w, 1);
        else if (r % 7 == 1)
            pgcdc_pq_put_bytes(w, 1, "", 0);
        else if (r % 7 == 2)
            pgcdc_pq_put_bytes(w, 1, longs, long_len);
        else {
            char s[32];
            int n = snprintf(s, sizeof(s), "v%lld", (long long)(r % 5000));
            pgcdc_pq_put_bytes(w, 1, s, (size_t)n);
        }
        if (r % 3 == 0)
            pgcdc_pq_put_double(w, 2, r % 2 ? NAN : -0.0);
        else
            pgcdc_pq_put_double(w, 2, (double)r / 3);
        pgcdc_pq_put_bool(w, 3, r % 2);
        memset(dec, r % 2 ? 0xff : 0, sizeof(dec));
        dec[15] = (unsigned char)r;
        pgcdc_pq_put_bytes(w, 4, dec, 16);
        pgcdc_pq_put_null(w, 5);
        rc = pgcdc_pq_writer_end_row(w, err, sizeof(err));
    }
    if (rc == 0)
        rc = pgcdc_pq_writer_finish(w, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "write_rows: %s\n", err);
    CHECK(pgcdc_pq_writer_rows(w) == nrows || rc != 0);
    CHECK(rc != 0 || pgcdc_pq_writer_written(w) == m->out.len);
    pgcdc_pq_writer_free(w);
    free(longs);
    if (rc == 0 && check_file(&m->out, fi) != 0) {
        fprintf(stderr, "write_rows: footer does not parse\n");
        rc = -1;
    }
    return rc;
}

static void test_writer_shapes(void)
{
    static const struct {
        pgcdc_pq_codec codec;
        int dict;
        size_t page, dict_page, rg;
        int64_t rg_rows, nrows;
        size_t long_len;
        int64_t want_rgs;
    } cases[] = {
        {PGCDC_PQ_UNCOMPRESSED, 0, 0, 0, 0, 0, 0, 0, 0},        /* 0 rows */
        {PGCDC_PQ_ZSTD, 1, 0, 0, 0, 0, 1, 0, 1},                /* 1 row */
        {PGCDC_PQ_SNAPPY, 1, 64, 0, 0, 0, 5000, 3, 1},          /* many tiny pages */
        {PGCDC_PQ_ZSTD, 1, 4096, 2048, 0, 0, 20000, 100, 1},    /* dictionary fallback */
        {PGCDC_PQ_SNAPPY, 1, 40, 3000, 0, 0, 3000, 5, 1},       /* fallback after pages */
        {PGCDC_PQ_UNCOMPRESSED, 0, 1024, 0, 1, 0, 300, 10, -1}, /* row group per page */
        {PGCDC_PQ_ZSTD, 0, 0, 0, 0, 1000, 10000, 1 << 20, 10},  /* long strings: no stats */
        {PGCDC_PQ_SNAPPY, 1, 0, 0, 0, 1, 3, 0, 3},              /* one row per group */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pgcdc_pq_options o;
        pgcdc_pq_options_init(&o);
        o.codec = cases[i].codec;
        o.dictionary = cases[i].dict;
        o.page_bytes = cases[i].page;
        o.dictionary_page_bytes = cases[i].dict_page;
        o.row_group_bytes = cases[i].rg;
        o.row_group_rows = cases[i].rg_rows;
        pgcdc_pq_kv kv[2] = {{"k", "v"}, {"novalue", NULL}};
        o.kv = kv;
        o.nkv = 2;
        mem_out m = {PGCDC_BUF_INIT, -1};
        footer_info fi;
        int rc = write_rows(&m, &o, cases[i].nrows, cases[i].long_len, &fi);
        CHECK_INT(rc, 0);
        CHECK_INT(fi.num_rows, cases[i].nrows);
        CHECK_INT(fi.version, 2);
        if (cases[i].want_rgs >= 0)
            CHECK_INT(fi.nrowgroups, cases[i].want_rgs);
        else
            CHECK(fi.nrowgroups > 1);
        pgcdc_buf_free(&m.out);
    }
}

static void test_writer_errors(void)
{
    char err[256];
    pgcdc_pq_options o;
    pgcdc_pq_options_init(&o);
    pgcdc_pq_writer *w;
    mem_out m = {PGCDC_BUF_INIT, -1};

    pgcdc_pq_column bad = {.name = "d",
                           .physical = PGCDC_PQ_INT32,
                           .logical = PGCDC_PQ_LOGICAL_DECIMAL,
                           .precision = 10};
    CHECK(pgcdc_pq_writer_open(&w, &bad, 1, &o, mem_write, &m, err, sizeof(err)) == -1);
    CHECK(strstr(err, "\"d\"") != NULL);
    pgcdc_pq_column noname = {.name = "", .physical = PGCDC_PQ_INT32};
    CHECK(pgcdc_pq_writer_open(&w, &noname, 1, &o, mem_write, &m, err, sizeof(err)) == -1);

    CHECK(pgcdc_pq_writer_open(&w, k_cols, K_NCOLS, &o, mem_write, &m, err, sizeof(err)) == 0);
    CHECK(pgcdc_pq_put_null(w, 0) == -1); /* id is required */
    CHECK(strstr(pgcdc_pq_writer_error(w), "not nullable") != NULL);
    CHECK(pgcdc_pq_writer_end_row(w, err, sizeof(err)) == -1);
    CHECK(strstr(err, "\"id\"") != NULL);
    pgcdc_pq_writer_free(w);

    CHECK(pgcdc_pq_writer_open(&w, k_cols, K_NCOLS, &o, mem_write, &m, err, sizeof(err)) == 0);
    CHECK(pgcdc_pq_put_i32(w, 0, 1) == -1); /* id is INT64 */
    pgcdc_pq_writer_free(w);

    CHECK(pgcdc_pq_writer_open(&w, k_cols, K_NCOLS, &o, mem_write, &m, err, sizeof(err)) == 0);
    CHECK(pgcdc_pq_put_i64(w, 0, 1) == 0);
    CHECK(pgcdc_pq_put_i64(w, 0, 2) == -1); /* twice in one row */
    pgcdc_pq_writer_free(w);

    CHECK(pgcdc_pq_writer_open(&w, k_cols, K_NCOLS, &o, mem_write, &m, err, sizeof(err)) == 0);
    CHECK(pgcdc_pq_put_i64(w, 0, 1) == 0);
    CHECK(pgcdc_pq_writer_end_row(w, err, sizeof(err)) == -1); /* s missing */
    CHECK(strstr(err, "\"s\"") != NULL);
    pgcdc_pq_writer_free(w);

    CHECK(pgcdc_pq_writer_open(&w, k_cols, K_NCOLS, &o, mem_write, &m, err, sizeof(err)) == 0);
    CHECK(pgcdc_pq_put_bytes(w, 4, "abc", 3) == -1); /* wrong fixed length */
    CHECK(pgcdc_pq_put_i64(w, 99, 1) == -1);
    pgcdc_pq_writer_free(w);

    /* a failing callback fails flush and finish with its message */
    m.fail_after = 0;
    footer_info fi;
    CHECK(write_rows(&m, &o, 10, 1, &fi) == -1);
    pgcdc_buf_free(&m.out);
}

/* One writer, two files: reset drops nothing of the second file's rows and
 * keeps nothing of the first's. */
static void test_writer_reset(void)
{
    char err[256];
    pgcdc_pq_options o;
    pgcdc_pq_options_init(&o);
    o.page_bytes = 100;
    mem_out a = {PGCDC_BUF_INIT, -1}, b = {PGCDC_BUF_INIT, -1};
    pgcdc_pq_writer *w;
    CHECK(pgcdc_pq_writer_open(&w, &k_cols[1], 1, &o, mem_write, &a, err, sizeof(err)) == 0);
    for (int i = 0; i < 50; i++) {
        pgcdc_pq_put_bytes(w, 0, "abc", (size_t)(i % 3));
        CHECK(pgcdc_pq_writer_end_row(w, err, sizeof(err)) == 0);
    }
    pgcdc_pq_put_null(w, 0); /* a row left incomplete is dropped by reset */
    pgcdc_pq_writer_reset(w, mem_write, &b);
    CHECK(pgcdc_pq_writer_rows(w) == 0 && pgcdc_pq_writer_written(w) == 0);
    for (int i = 0; i < 7; i++) {
        pgcdc_pq_put_null(w, 0);
        CHECK(pgcdc_pq_writer_end_row(w, err, sizeof(err)) == 0);
    }
    CHECK(pgcdc_pq_writer_finish(w, err, sizeof(err)) == 0);
    pgcdc_pq_writer_free(w);
    footer_info fi;
    CHECK(a.out.len == 0); /* the first file was never finished */
    CHECK(check_file(&b.out, &fi) == 0 && fi.num_rows == 7 && fi.nrowgroups == 1);
    pgcdc_buf_free(&a.out);
    pgcdc_buf_free(&b.out);
}

/* ------------------------------------------------------------- pg values */

static int parse(pgcdc_pq_pgconv conv, const pgcdc_pq_column *pc, const char *t, pgcdc_pq_datum *d,
                 char *err)
{
    static pgcdc_buf scratch = PGCDC_BUF_INIT;
    memset(d, 0, sizeof(*d));
    return pgcdc_pq_pg_parse(conv, pc, t, strlen(t), d, &scratch, err, 256);
}

static void map(pgcdc_type_kind kind, int precision, int scale, pgcdc_pq_column *pc,
                pgcdc_pq_pgconv *conv)
{
    pgcdc_column col;
    memset(&col, 0, sizeof(col));
    col.name = "c";
    col.optional = 1;
    col.type.kind = kind;
    col.type.precision = precision;
    col.type.scale = scale;
    pgcdc_pq_pg_column(&col, pc, conv);
}

static void test_pg_values(void)
{
    char err[256];
    pgcdc_pq_column pc;
    pgcdc_pq_pgconv conv;
    pgcdc_pq_datum d;

    map(PGCDC_T_NUMERIC, 5, 2, &pc, &conv);
    CHECK(pc.physical == PGCDC_PQ_INT32 && conv == PGCDC_PQ_PG_DECIMAL);
    CHECK(parse(conv, &pc, "-123.45", &d, err) == 0 && d.v.i32 == -12345);
    CHECK(parse(conv, &pc, "1.5", &d, err) == 0 && d.v.i32 == 150);
    CHECK(parse(conv, &pc, "NaN", &d, err) == -1 && strstr(err, "NaN") && strstr(err, "\"c\""));
    CHECK(parse(conv, &pc, "1.234", &d, err) == -1);
    CHECK(parse(conv, &pc, "1234.00", &d, err) == -1);
    CHECK(parse(conv, &pc, "", &d, err) == -1);
    map(PGCDC_T_NUMERIC, 18, 0, &pc, &conv);
    CHECK(pc.physical == PGCDC_PQ_INT64);
    CHECK(parse(conv, &pc, "-999999999999999999", &d, err) == 0 &&
          d.v.i64 == -999999999999999999LL);
    map(PGCDC_T_NUMERIC, 38, 10, &pc, &conv);
    CHECK(pc.physical == PGCDC_PQ_FIXED_LEN_BYTE_ARRAY && pc.type_length == 16);
    CHECK(parse(conv, &pc, "-1.0000000000", &d, err) == 0 && d.len == 16);
    CHECK(d.fixed[0] == 0xff && d.fixed[15] == (unsigned char)(0x100 - 0x00) + 0);
    /* -10^10 = 0x...FDABF41C00 */
    CHECK(d.fixed[15] == 0x00 && d.fixed[14] == 0x1c && d.fixed[13] == 0xf4 &&
          d.fixed[12] == 0xab && d.fixed[11] == 0xfd && d.fixed[10] == 0xff);
    map(PGCDC_T_NUMERIC, 0, -1, &pc, &conv);
    CHECK(conv == PGCDC_PQ_PG_STRING && pc.logical == PGCDC_PQ_LOGICAL_STRING);
    map(PGCDC_T_NUMERIC, 50, 2, &pc, &conv);
    CHECK(conv == PGCDC_PQ_PG_STRING);

    map(PGCDC_T_DATE, -1, -1, &pc, &conv);
    CHECK(parse(conv, &pc, "1970-01-02", &d, err) == 0 && d.v.i32 == 1);
    CHECK(parse(conv, &pc, "0001-01-01 BC", &d, err) == 0 && d.v.i32 == -719528);
    CHECK(parse(conv, &pc, "infinity", &d, err) == 0 && d.v.i32 == INT32_MAX);
    CHECK(parse(conv, &pc, "-infinity", &d, err) == 0 && d.v.i32 == INT32_MIN);
    CHECK(parse(conv, &pc, "1970-02-30", &d, err) == -1);
    map(PGCDC_T_TIMESTAMPTZ, -1, -1, &pc, &conv);
    CHECK(pc.utc == 1 && pc.logical == PGCDC_PQ_LOGICAL_TIMESTAMP_MICROS);
    CHECK(parse(conv, &pc, "1970-01-01 01:00:00.5+01", &d, err) == 0 && d.v.i64 == 500000);
    CHECK(parse(conv, &pc, "infinity", &d, err) == 0 && d.v.i64 == INT64_MAX);
    map(PGCDC_T_TIMESTAMP, -1, -1, &pc, &conv);
    CHECK(pc.utc == 0);
    CHECK(parse(conv, &pc, "1969-12-31 23:59:59.999999", &d, err) == 0 && d.v.i64 == -1);
    map(PGCDC_T_TIME, -1, -1, &pc, &conv);
    CHECK(parse(conv, &pc, "24:00:00", &d, err) == 0 && d.v.i64 == 86400000000LL);
    CHECK(parse(conv, &pc, "00:00:01.000001", &d, err) == 0 && d.v.i64 == 1000001);

    map(PGCDC_T_BYTEA, -1, -1, &pc, &conv);
    CHECK(parse(conv, &pc, "\\x00ff10", &d, err) == 0 && d.len == 3 &&
          memcmp(d.bytes, "\x00\xff\x10", 3) == 0);
    CHECK(parse(conv, &pc, "\\x", &d, err) == 0 && d.len == 0);
    CHECK(parse(conv, &pc, "\\000", &d, err) == -1 && strstr(err, "bytea_output"));
    CHECK(parse(conv, &pc, "\\xzz", &d, err) == -1);

    map(PGCDC_T_INT16, -1, -1, &pc, &conv);
    CHECK(pc.int_bits == 16 && parse(conv, &pc, "-32768", &d, err) == 0 && d.v.i32 == -32768);
    CHECK(parse(conv, &pc, "32768", &d, err) == -1);
    map(PGCDC_T_OID, -1, -1, &pc, &conv);
    CHECK(pc.physical == PGCDC_PQ_INT64 && parse(conv, &pc, "4294967295", &d, err) == 0);
    map(PGCDC_T_FLOAT32, -1, -1, &pc, &conv);
    CHECK(parse(conv, &pc, "1.1", &d, err) == 0 && d.v.f4 == 1.1f);
    CHECK(parse(conv, &pc, "-Infinity", &d, err) == 0 && isinf(d.v.f4) && d.v.f4 < 0);
    CHECK(parse(conv, &pc, "NaN", &d, err) == 0 && isnan(d.v.f4));
    CHECK(parse(conv, &pc, "1.1x", &d, err) == -1);
    map(PGCDC_T_BOOL, -1, -1, &pc, &conv);
    CHECK(parse(conv, &pc, "t", &d, err) == 0 && d.v.i32 == 1);
    CHECK(parse(conv, &pc, "true", &d, err) == -1);
    map(PGCDC_T_JSON, -1, -1, &pc, &conv);
    CHECK(pc.logical == PGCDC_PQ_LOGICAL_JSON && conv == PGCDC_PQ_PG_STRING);
    map(PGCDC_T_UUID, -1, -1, &pc, &conv);
    CHECK(pc.logical == PGCDC_PQ_LOGICAL_STRING);

    /* whole values through a writer, TOAST and errors */
    pgcdc_pq_options o;
    pgcdc_pq_options_init(&o);
    mem_out m = {PGCDC_BUF_INIT, -1};
    pgcdc_pq_writer *w;
    map(PGCDC_T_INT32, -1, -1, &pc, &conv);
    CHECK(pgcdc_pq_writer_open(&w, &pc, 1, &o, mem_write, &m, err, sizeof(err)) == 0);
    pgcdc_value v = {'t', 2, "42"};
    CHECK(pgcdc_pq_pg_put(w, 0, conv, &v, err, sizeof(err)) == 0);
    CHECK(pgcdc_pq_writer_end_row(w, err, sizeof(err)) == 0);
    v.kind = 'n';
    CHECK(pgcdc_pq_pg_put(w, 0, conv, &v, err, sizeof(err)) == 0);
    CHECK(pgcdc_pq_writer_end_row(w, err, sizeof(err)) == 0);
    v.kind = 'u';
    CHECK(pgcdc_pq_pg_put(w, 0, conv, &v, err, sizeof(err)) == -1 &&
          strstr(err, "REPLICA IDENTITY FULL"));
    v.kind = 't';
    v.data = "x";
    v.len = 1;
    CHECK(pgcdc_pq_pg_put(w, 0, conv, &v, err, sizeof(err)) == -1 && strstr(err, "'x'"));
    pgcdc_pq_writer_free(w);
    pgcdc_buf_free(&m.out);
}

int main(void)
{
    TEST_RUN(test_thrift_bytes);
    TEST_RUN(test_rle);
    TEST_RUN(test_writer_shapes);
    TEST_RUN(test_writer_errors);
    TEST_RUN(test_writer_reset);
    TEST_RUN(test_pg_values);
    TEST_DONE();
}
