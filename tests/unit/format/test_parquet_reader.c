/*
 * test_parquet_reader.c - unit tests of the Parquet reader: the Thrift
 * compact decoder against the encoder, the RLE/bit-packed and
 * DELTA_BINARY_PACKED decoders, writer -> reader round trips (every type the
 * writer writes, NULLs, every codec, dictionary on, off and falling back,
 * many pages and row groups, 0 rows, projection, row group seeks, reader ->
 * writer copies), and malformed input: every truncation and every single
 * byte changed of a small file (an error with a message or a valid read,
 * never a crash: CI runs this under ASan/UBSan), wrong magic, footers
 * crafted with nested or repeated columns, unknown codecs and chunks
 * outside the file. Files written by pyarrow are read in
 * tests/e2e/test_parquet_read.py.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/parquet/encoding.h"
#include "format/parquet/parquet.h"
#include "format/parquet/reader.h"
#include "format/parquet/thrift.h"
#include "test.h"

/* ------------------------------------------------------------- in memory */

static int buf_write(void *ctx, const void *p, size_t n, char *errstr, size_t es)
{
    (void)errstr;
    (void)es;
    pgcdc_buf_append(ctx, p, n);
    return 0;
}

typedef struct {
    const unsigned char *data;
    size_t size;
    int reads;
    int fail_after; /* >0: reads after this many fail */
} mem_file;

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len, char *errstr, size_t es)
{
    mem_file *m = ctx;
    m->reads++;
    if (m->fail_after > 0 && m->reads > m->fail_after) {
        snprintf(errstr, es, "injected read error");
        return -1;
    }
    if (off > m->size || len > m->size - off) {
        snprintf(errstr, es, "read past the end");
        return -1;
    }
    memcpy(buf, m->data + off, len);
    return 0;
}

/* ----------------------------------------------------------------- thrift */

static void test_thrift_decode(void)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_thrift_w t;
    pgcdc_thrift_init(&t, &b);
    pgcdc_thrift_i32(&t, 1, -7);
    pgcdc_thrift_i64(&t, 40, INT64_MIN);
    pgcdc_thrift_bool(&t, 41, 1);
    pgcdc_thrift_string(&t, 42, "abc");
    pgcdc_thrift_list_begin(&t, 43, PGCDC_THRIFT_I32, 20);
    for (int i = 0; i < 20; i++)
        pgcdc_thrift_elem_i32(&t, i * 1000);
    pgcdc_thrift_struct_begin(&t, 44);
    pgcdc_thrift_struct_begin(&t, 2);
    pgcdc_thrift_byte(&t, 1, -3);
    pgcdc_thrift_struct_end(&t);
    pgcdc_thrift_struct_end(&t);
    pgcdc_thrift_i32(&t, 45, 99);
    pgcdc_thrift_finish(&t);

    pgcdc_thrift_r r;
    pgcdc_thrift_rinit(&r, b.data, b.len);
    int16_t id;
    int ty, et;
    size_t len;
    CHECK(pgcdc_thrift_rfield(&r, &id, &ty) && id == 1);
    CHECK_INT(pgcdc_thrift_ri32(&r, ty, INT32_MIN, INT32_MAX), -7);
    CHECK(pgcdc_thrift_rfield(&r, &id, &ty) && id == 40);
    CHECK(pgcdc_thrift_rint(&r, ty) == INT64_MIN);
    CHECK(pgcdc_thrift_rfield(&r, &id, &ty) && id == 41 && ty == PGCDC_THRIFT_TRUE);
    CHECK(pgcdc_thrift_rfield(&r, &id, &ty) && id == 42);
    const unsigned char *s = pgcdc_thrift_rbinary(&r, ty, &len);
    CHECK(s && len == 3 && memcmp(s, "abc", 3) == 0);
    CHECK(pgcdc_thrift_rfield(&r, &id, &ty) && id == 43);
    CHECK_INT(pgcdc_thrift_rlist(&r, ty, &et), 20);
    for (int i = 0; i < 20; i++)
        CHECK_INT(pgcdc_thrift_relem_int(&r, et), i * 1000);
    CHECK(pgcdc_thrift_rfield(&r, &id, &ty) && id == 44);
    pgcdc_thrift_rskip(&r, ty); /* a nested struct, skipped whole */
    CHECK(pgcdc_thrift_rfield(&r, &id, &ty) && id == 45);
    CHECK_INT(pgcdc_thrift_ri32(&r, ty, 0, 10), 0); /* 99 is out of range */
    CHECK_INT(r.err, PGCDC_THRIFT_MALFORMED);

    /* every prefix is truncated input */
    for (size_t n = 0; n + 1 < b.len; n++) {
        pgcdc_thrift_rinit(&r, b.data, n);
        while (pgcdc_thrift_rfield(&r, &id, &ty))
            pgcdc_thrift_rskip(&r, ty);
        CHECK(r.err == PGCDC_THRIFT_TRUNCATED);
    }
    /* lists of lists nest without bound in the syntax: refused past the depth */
    unsigned char deep[200];
    deep[0] = 0x19; /* field 1, list */
    for (int i = 1; i < 199; i++)
        deep[i] = 0x19; /* one element of type list */
    deep[199] = 0x00;
    pgcdc_thrift_rinit(&r, deep, sizeof(deep));
    CHECK(pgcdc_thrift_rfield(&r, &id, &ty));
    pgcdc_thrift_rskip(&r, ty);
    CHECK_INT(r.err, PGCDC_THRIFT_MALFORMED);
    pgcdc_buf_free(&b);
}

/* ---------------------------------------------------------------- decoders */

static void test_rle_decoder(void)
{
    uint32_t v[3000], got[3000];
    for (int bw = 0; bw <= 32; bw += (bw < 4 ? 1 : 7)) {
        uint64_t mask = bw == 32 ? 0xffffffffu : (1ull << bw) - 1;
        uint64_t x = 12345;
        for (int i = 0; i < 3000; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            /* runs and literal stretches */
            v[i] = (i / 50) % 2 ? (uint32_t)(i / 100 & mask) : (uint32_t)((x >> 20) & mask);
        }
        pgcdc_buf b = PGCDC_BUF_INIT;
        pgcdc_pq_rle_u32(&b, v, 3000, bw);
        pgcdc_pq_rle_dec d;
        pgcdc_pq_rle_dec_init(&d, b.data, b.len, bw);
        /* in uneven pieces */
        size_t at = 0, step = 1;
        while (at < 3000) {
            size_t k = at + step > 3000 ? 3000 - at : step;
            CHECK(pgcdc_pq_rle_dec_get(&d, got + at, k) == 0);
            at += k;
            step = step * 3 % 997 + 1;
        }
        CHECK(memcmp(got, v, sizeof(v)) == 0);
        if (bw > 0)
            CHECK(pgcdc_pq_rle_dec_get(&d, got, 1) != 0); /* the data ends */
        /* cut short: what the bytes hold, then an error */
        for (size_t n = 0; n < b.len && bw > 0; n += b.len / 7 + 1) {
            pgcdc_pq_rle_dec_init(&d, b.data, n, bw);
            size_t ok = 0;
            while (ok < 3000 && pgcdc_pq_rle_dec_get(&d, got, 1) == 0)
                ok++;
            CHECK(ok < 3000);
        }
        pgcdc_buf_free(&b);
    }
    /* a run claiming 2^62 values costs nothing until asked for */
    unsigned char huge[] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x05};
    pgcdc_pq_rle_dec d;
    pgcdc_pq_rle_dec_init(&d, huge, sizeof(huge), 3);
    CHECK(pgcdc_pq_rle_dec_get(&d, got, 100) == 0 && got[0] == 5 && got[99] == 5);
}

/* Appends a ULEB128 varint. */
static void uleb(pgcdc_buf *b, uint64_t v)
{
    pgcdc_thrift_varint(b, v);
}

static void test_delta_decoder(void)
{
    /* 1..5: block 128, 4 miniblocks, min delta 1, widths 0 */
    pgcdc_buf b = PGCDC_BUF_INIT;
    uleb(&b, 128);
    uleb(&b, 4);
    uleb(&b, 5);
    uleb(&b, 2); /* zigzag(1) */
    uleb(&b, 2); /* min delta zigzag(1) */
    pgcdc_buf_append(&b, "\0\0\0\0", 4);
    pgcdc_pq_delta_dec d;
    int64_t out[8];
    CHECK(pgcdc_pq_delta_init(&d, b.data, b.len, 64) == 0);
    CHECK(pgcdc_pq_delta_get(&d, out, 5) == 0);
    for (int i = 0; i < 5; i++)
        CHECK_INT(out[i], i + 1);
    CHECK(pgcdc_pq_delta_get(&d, out, 1) != 0); /* only 5 */
    pgcdc_pq_delta_init(&d, b.data, b.len, 64);
    CHECK(pgcdc_pq_delta_end(&d) == (const unsigned char *)b.data + b.len);

    /* 7 5 3 1 2 3 4 5: min delta -2, relative 0 0 0 3 3 3 3, width 2 */
    pgcdc_buf_reset(&b);
    uleb(&b, 128);
    uleb(&b, 4);
    uleb(&b, 8);
    uleb(&b, 14); /* zigzag(7) */
    uleb(&b, 3);  /* zigzag(-2) */
    pgcdc_buf_append(&b, "\2\0\0\0", 4);
    unsigned char mb[8] = {0xc0, 0xff, 0, 0, 0, 0, 0, 0}; /* 0,0,0,3 | 3,3,3,0 */
    pgcdc_buf_append(&b, mb, 8);
    CHECK(pgcdc_pq_delta_init(&d, b.data, b.len, 32) == 0);
    CHECK(pgcdc_pq_delta_get(&d, out, 8) == 0);
    static const int64_t want[8] = {7, 5, 3, 1, 2, 3, 4, 5};
    CHECK(memcmp(out, want, sizeof(want)) == 0);
    /* a header out of range and a miniblock cut short */
    CHECK(pgcdc_pq_delta_init(&d, b.data, 2, 32) != 0);
    CHECK(pgcdc_pq_delta_init(&d, b.data, b.len - 7, 32) == 0);
    CHECK(pgcdc_pq_delta_get(&d, out, 8) != 0);
    unsigned char bad[] = {100, 4, 1, 0}; /* block size not a multiple of 128 */
    CHECK(pgcdc_pq_delta_init(&d, bad, sizeof(bad), 32) != 0);
    pgcdc_buf_free(&b);
}

/* -------------------------------------------------------------- round trips */

enum {
    C_ID,
    C_BOOL,
    C_I8,
    C_I16,
    C_I32,
    C_I64,
    C_F4,
    C_F8,
    C_DATE,
    C_TIME,
    C_TS,
    C_TSTZ,
    C_DEC4,
    C_DEC8,
    C_DEC16,
    C_TEXT,
    C_JSON,
    C_BIN,
    C_UUID,
    C_FIX4,
    C_REQ,
    NCOLS
};

static const pgcdc_pq_column COLS[NCOLS] = {
    [C_ID] = {.name = "id",
              .physical = PGCDC_PQ_INT64,
              .logical = PGCDC_PQ_LOGICAL_INT,
              .int_bits = 64},
    [C_BOOL] = {.name = "b", .physical = PGCDC_PQ_BOOLEAN, .nullable = 1},
    [C_I8] = {.name = "i8",
              .physical = PGCDC_PQ_INT32,
              .logical = PGCDC_PQ_LOGICAL_INT,
              .int_bits = 8,
              .nullable = 1},
    [C_I16] = {.name = "i16",
               .physical = PGCDC_PQ_INT32,
               .logical = PGCDC_PQ_LOGICAL_INT,
               .int_bits = 16,
               .nullable = 1},
    [C_I32] = {.name = "i32", .physical = PGCDC_PQ_INT32, .nullable = 1},
    [C_I64] = {.name = "i64", .physical = PGCDC_PQ_INT64, .nullable = 1},
    [C_F4] = {.name = "f4", .physical = PGCDC_PQ_FLOAT, .nullable = 1},
    [C_F8] = {.name = "f8", .physical = PGCDC_PQ_DOUBLE, .nullable = 1},
    [C_DATE] = {.name = "date",
                .physical = PGCDC_PQ_INT32,
                .logical = PGCDC_PQ_LOGICAL_DATE,
                .nullable = 1},
    [C_TIME] = {.name = "time",
                .physical = PGCDC_PQ_INT64,
                .logical = PGCDC_PQ_LOGICAL_TIME_MICROS,
                .nullable = 1},
    [C_TS] = {.name = "ts",
              .physical = PGCDC_PQ_INT64,
              .logical = PGCDC_PQ_LOGICAL_TIMESTAMP_MICROS,
              .nullable = 1},
    [C_TSTZ] = {.name = "tstz",
                .physical = PGCDC_PQ_INT64,
                .logical = PGCDC_PQ_LOGICAL_TIMESTAMP_MICROS,
                .utc = 1,
                .nullable = 1},
    [C_DEC4] = {.name = "dec4",
                .physical = PGCDC_PQ_INT32,
                .logical = PGCDC_PQ_LOGICAL_DECIMAL,
                .precision = 5,
                .scale = 2,
                .nullable = 1},
    [C_DEC8] = {.name = "dec8",
                .physical = PGCDC_PQ_INT64,
                .logical = PGCDC_PQ_LOGICAL_DECIMAL,
                .precision = 18,
                .scale = 3,
                .nullable = 1},
    [C_DEC16] = {.name = "dec16",
                 .physical = PGCDC_PQ_FIXED_LEN_BYTE_ARRAY,
                 .logical = PGCDC_PQ_LOGICAL_DECIMAL,
                 .precision = 30,
                 .scale = 5,
                 .type_length = 13,
                 .nullable = 1},
    [C_TEXT] = {.name = "text",
                .physical = PGCDC_PQ_BYTE_ARRAY,
                .logical = PGCDC_PQ_LOGICAL_STRING,
                .nullable = 1},
    [C_JSON] = {.name = "json",
                .physical = PGCDC_PQ_BYTE_ARRAY,
                .logical = PGCDC_PQ_LOGICAL_JSON,
                .nullable = 1},
    [C_BIN] = {.name = "bin", .physical = PGCDC_PQ_BYTE_ARRAY, .nullable = 1},
    [C_UUID] = {.name = "uuid",
                .physical = PGCDC_PQ_FIXED_LEN_BYTE_ARRAY,
                .type_length = 16,
                .nullable = 1},
    /* as wide as an INT32: decoded as bytes all the same */
    [C_FIX4] = {.name = "fix4",
                .physical = PGCDC_PQ_FIXED_LEN_BYTE_ARRAY,
                .type_length = 4,
                .nullable = 1},
    [C_REQ] = {.name = "req", .physical = PGCDC_PQ_BYTE_ARRAY, .logical = PGCDC_PQ_LOGICAL_STRING},
};

/* The value of column c in row i (deterministic), in *d; text in sbuf. */
static void value(int c, int64_t i, pgcdc_pq_datum *d, char *sbuf, size_t sn)
{
    memset(d, 0, sizeof(*d));
    uint64_t h = (uint64_t)i * 0x9e3779b97f4a7c15ull + (uint64_t)c * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
    if (c != C_ID && c != C_REQ && (h % 11 == 0 || (c == C_BIN && i >= 1000 && i < 1600))) {
        d->null = 1; /* also a stretch of all-null pages */
        return;
    }
    switch (c) {
    case C_ID:
        d->v.i64 = i;
        break;
    case C_BOOL:
        d->v.i32 = (int)(h >> 7 & 1);
        break;
    case C_I8:
        d->v.i32 = (int8_t)(h >> 3);
        break;
    case C_I16:
        d->v.i32 = (int16_t)(i % 5 == 0 ? INT16_MIN : (int64_t)(h >> 3));
        break;
    case C_I32:
        d->v.i32 = i == 1 ? INT32_MIN : i == 2 ? INT32_MAX : (int32_t)(i % 37);
        break;
    case C_I64:
        d->v.i64 = i == 1 ? INT64_MIN : i == 2 ? INT64_MAX : (int64_t)(h >> 1);
        break;
    case C_F4:
        d->v.f4 = i == 1 ? NAN : i == 2 ? -INFINITY : i == 3 ? -0.0f : (float)i / 8;
        break;
    case C_F8:
        d->v.f8 = i == 1 ? NAN : i == 2 ? INFINITY : (double)(h >> 11) / 3.0;
        break;
    case C_DATE:
        d->v.i32 = i == 1 ? INT32_MAX : (int32_t)(i % 400) - 200;
        break;
    case C_TIME:
        d->v.i64 = (int64_t)(h % 86400000001ull);
        break;
    case C_TS:
    case C_TSTZ:
        d->v.i64 = i == 1 ? INT64_MIN : 1600000000000000 + i * 1000003;
        break;
    case C_DEC4:
        d->v.i32 = (int32_t)(i % 199999) - 99999;
        break;
    case C_DEC8:
        d->v.i64 = (int64_t)(h % 1000000000000000000ull) * (i % 2 ? -1 : 1);
        break;
    case C_DEC16:
    case C_UUID:
    case C_FIX4: {
        size_t w = c == C_UUID ? 16 : c == C_FIX4 ? 4 : 13;
        for (size_t k = 0; k < w; k++)
            d->fixed[k] = (unsigned char)(h >> (k % 8 * 8)) ^ (unsigned char)(i % 7 * k);
        d->bytes = d->fixed;
        d->len = w;
        break;
    }
    case C_TEXT: /* repeats (dictionary) and, later on, long unique strings */
        if (i < 2000)
            snprintf(sbuf, sn, "value %d", (int)(i % 23));
        else
            snprintf(sbuf, sn, "unique %lld %0*d", (long long)i, (int)(i % 300), 7);
        d->bytes = sbuf;
        d->len = strlen(sbuf);
        if (i == 5)
            d->len = 0;
        break;
    case C_JSON:
        snprintf(sbuf, sn, "{\"g\": %lld}", (long long)(i % 50));
        d->bytes = sbuf;
        d->len = strlen(sbuf);
        break;
    case C_BIN: {
        size_t n = (size_t)(h % 40);
        for (size_t k = 0; k < n && k < sn; k++)
            sbuf[k] = (char)(h >> (k % 8)) ^ (char)k;
        d->bytes = sbuf;
        d->len = n;
        break;
    }
    case C_REQ:
        snprintf(sbuf, sn, "r%lld", (long long)i);
        d->bytes = sbuf;
        d->len = strlen(sbuf);
        break;
    }
}

static int same_datum(int c, const pgcdc_pq_datum *got, const pgcdc_pq_datum *want)
{
    if (got->null || want->null)
        return got->null == want->null;
    switch (COLS[c].physical) {
    case PGCDC_PQ_BOOLEAN:
    case PGCDC_PQ_INT32:
        return got->v.i32 == want->v.i32;
    case PGCDC_PQ_INT64:
        return got->v.i64 == want->v.i64;
    case PGCDC_PQ_FLOAT:
        return memcmp(&got->v.f4, &want->v.f4, 4) == 0; /* NaN and -0.0 bit for bit */
    case PGCDC_PQ_DOUBLE:
        return memcmp(&got->v.f8, &want->v.f8, 8) == 0;
    default:
        return got->len == want->len &&
               (!got->len || memcmp(got->bytes, want->bytes, got->len) == 0);
    }
}

static void write_rows(pgcdc_buf *out, const pgcdc_pq_options *o, int64_t rows)
{
    pgcdc_pq_writer *w;
    char err[256];
    CHECK(pgcdc_pq_writer_open(&w, COLS, NCOLS, o, buf_write, out, err, sizeof(err)) == 0);
    char sbuf[512];
    for (int64_t i = 0; i < rows; i++) {
        for (int c = 0; c < NCOLS; c++) {
            pgcdc_pq_datum d;
            value(c, i, &d, sbuf, sizeof(sbuf));
            pgcdc_pq_put_datum(w, c, &d);
        }
        if (pgcdc_pq_writer_end_row(w, err, sizeof(err)) != 0) {
            fprintf(stderr, "write: %s\n", err);
            CHECK(0);
            break;
        }
    }
    CHECK(pgcdc_pq_writer_finish(w, err, sizeof(err)) == 0);
    pgcdc_pq_writer_free(w);
}

static int open_mem(pgcdc_pq_reader **r, mem_file *m, const pgcdc_buf *b, char *err, size_t es)
{
    memset(m, 0, sizeof(*m));
    m->data = (const unsigned char *)b->data;
    m->size = b->len;
    return pgcdc_pq_reader_open(r, mem_read, m, m->size, err, es);
}

/* Reads every row back and compares; sel: projection (NULL: all). */
static void check_rows(const pgcdc_buf *file, int64_t rows, const int *sel, int nsel,
                       size_t readahead)
{
    pgcdc_pq_reader *r;
    mem_file m;
    char err[512];
    if (open_mem(&r, &m, file, err, sizeof(err)) != 0) {
        fprintf(stderr, "open: %s\n", err);
        CHECK(0);
        return;
    }
    if (readahead)
        pgcdc_pq_reader_set_readahead(r, readahead);
    CHECK_INT(pgcdc_pq_reader_ncols(r), NCOLS);
    CHECK_INT(pgcdc_pq_reader_num_rows(r), rows);
    for (int c = 0; c < NCOLS; c++) {
        const pgcdc_pq_column *a = pgcdc_pq_reader_column(r, c), *b = &COLS[c];
        CHECK_STR(a->name, b->name);
        CHECK(a->physical == b->physical && a->logical == b->logical &&
              a->nullable == b->nullable && a->precision == b->precision && a->scale == b->scale &&
              a->type_length == b->type_length && a->utc == b->utc);
        CHECK(b->logical != PGCDC_PQ_LOGICAL_INT || a->int_bits == b->int_bits);
    }
    if (sel)
        CHECK(pgcdc_pq_reader_select(r, sel, nsel, err, sizeof(err)) == 0);
    else
        nsel = NCOLS;
    pgcdc_pq_datum got[NCOLS], want;
    char sbuf[512];
    int64_t i = 0;
    int bad = 0, rc;
    while ((rc = pgcdc_pq_reader_next(r, got, err, sizeof(err))) == 1) {
        for (int k = 0; k < nsel; k++) {
            int c = sel ? sel[k] : k;
            value(c, i, &want, sbuf, sizeof(sbuf));
            if (!same_datum(c, &got[k], &want) && bad++ < 5) {
                fprintf(stderr, "row %lld column %s differs\n", (long long)i, COLS[c].name);
                CHECK(0);
            }
        }
        i++;
    }
    if (rc < 0)
        fprintf(stderr, "next: %s\n", err);
    CHECK_INT(rc, 0);
    CHECK_INT(i, rows);
    CHECK_INT(pgcdc_pq_reader_row(r), rows);
    CHECK_INT(pgcdc_pq_reader_next(r, got, err, sizeof(err)), 0);
    /* null counts of the chunks */
    int64_t start = 0;
    for (int g = 0; g < pgcdc_pq_reader_num_row_groups(r); g++) {
        int64_t n = pgcdc_pq_reader_row_group_rows(r, g);
        for (int c = 0; c < NCOLS; c++) {
            int64_t nulls = 0;
            for (int64_t k = start; k < start + n; k++) {
                value(c, k, &want, sbuf, sizeof(sbuf));
                nulls += want.null;
            }
            const pgcdc_pq_chunk_meta *cm = pgcdc_pq_reader_chunk(r, g, c);
            CHECK(cm && cm->null_count == nulls && cm->num_values == n);
        }
        start += n;
    }
    pgcdc_pq_reader_free(r);
}

static void roundtrip(pgcdc_pq_codec codec, int dict, size_t page, int64_t rg_rows, size_t dict_max,
                      int64_t rows)
{
    pgcdc_pq_options o;
    pgcdc_pq_options_init(&o);
    o.codec = codec;
    o.dictionary = dict;
    if (page)
        o.page_bytes = page;
    o.row_group_rows = rg_rows;
    if (dict_max)
        o.dictionary_page_bytes = dict_max;
    pgcdc_buf f = PGCDC_BUF_INIT;
    write_rows(&f, &o, rows);
    check_rows(&f, rows, NULL, 0, 0);
    pgcdc_buf_free(&f);
}

static void test_roundtrip_codecs(void)
{
    static const pgcdc_pq_codec codecs[] = {PGCDC_PQ_UNCOMPRESSED, PGCDC_PQ_SNAPPY, PGCDC_PQ_ZSTD};
    for (int k = 0; k < 3; k++)
        for (int dict = 0; dict <= 1; dict++)
            roundtrip(codecs[k], dict, 0, 0, 0, 3000);
}

static void test_roundtrip_pages_and_groups(void)
{
    /* tiny pages, row groups of 700 rows, dictionaries falling back */
    roundtrip(PGCDC_PQ_ZSTD, 1, 64, 700, 300, 3000);
    roundtrip(PGCDC_PQ_UNCOMPRESSED, 1, 200, 1000, 0, 3000);
    roundtrip(PGCDC_PQ_SNAPPY, 0, 100, 0, 0, 3000);
    /* one row; 0 rows */
    roundtrip(PGCDC_PQ_ZSTD, 1, 0, 0, 0, 1);
    roundtrip(PGCDC_PQ_ZSTD, 1, 0, 0, 0, 0);
}

static void test_projection_seek_readahead(void)
{
    pgcdc_pq_options o;
    pgcdc_pq_options_init(&o);
    o.page_bytes = 300;
    o.row_group_rows = 500;
    pgcdc_buf f = PGCDC_BUF_INIT;
    write_rows(&f, &o, 2000);
    int sel[] = {C_TEXT, C_ID, C_DEC16};
    check_rows(&f, 2000, sel, 3, 0);
    check_rows(&f, 2000, NULL, 0, 7); /* a window refill for every header and page */

    pgcdc_pq_reader *r;
    mem_file m;
    char err[256];
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) == 0);
    CHECK_INT(pgcdc_pq_reader_num_row_groups(r), 4);
    CHECK_INT(pgcdc_pq_reader_find(r, "tstz"), C_TSTZ);
    CHECK_INT(pgcdc_pq_reader_find(r, "nope"), -1);
    int bad[] = {0, 0};
    CHECK(pgcdc_pq_reader_select(r, bad, 2, err, sizeof(err)) != 0 && strstr(err, "twice"));
    bad[1] = NCOLS;
    CHECK(pgcdc_pq_reader_select(r, bad, 2, err, sizeof(err)) != 0);
    CHECK(pgcdc_pq_reader_seek_row_group(r, 2, err, sizeof(err)) == 0);
    pgcdc_pq_datum v[NCOLS];
    CHECK_INT(pgcdc_pq_reader_next(r, v, err, sizeof(err)), 1);
    CHECK_INT(v[C_ID].v.i64, 1000);
    CHECK_INT(pgcdc_pq_reader_row(r), 1001);
    CHECK(pgcdc_pq_reader_select(r, sel, 1, err, sizeof(err)) != 0); /* too late */
    CHECK(pgcdc_pq_reader_seek_row_group(r, 4, err, sizeof(err)) == 0);
    CHECK_INT(pgcdc_pq_reader_next(r, v, err, sizeof(err)), 0);
    CHECK(pgcdc_pq_reader_seek_row_group(r, 5, err, sizeof(err)) != 0);
    /* statistics of the id column: min 1500, max 1999 in the last group */
    const pgcdc_pq_chunk_meta *cm = pgcdc_pq_reader_chunk(r, 3, C_ID);
    int64_t mn = 0, mx = 0;
    CHECK(cm->min && cm->min_len == 8 && cm->max && cm->max_len == 8);
    if (cm->min && cm->max) {
        memcpy(&mn, cm->min, 8);
        memcpy(&mx, cm->max, 8);
    }
    CHECK(mn == 1500 && mx == 1999);
    CHECK(cm->codec == PGCDC_PQ_ZSTD && (cm->encodings & 1u << PQ_ENC_RLE_DICTIONARY));
    CHECK(!pgcdc_pq_reader_chunk(r, 4, 0) && !pgcdc_pq_reader_column(r, NCOLS));
    pgcdc_pq_reader_free(r);

    /* a read error surfaces with its message */
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) == 0);
    m.fail_after = m.reads + 2;
    int rc;
    while ((rc = pgcdc_pq_reader_next(r, v, err, sizeof(err))) == 1)
        ;
    CHECK(rc == -1 && strstr(err, "injected read error"));
    CHECK(pgcdc_pq_reader_next(r, v, err, sizeof(err)) == -1); /* and stays */
    pgcdc_pq_reader_free(r);
    pgcdc_buf_free(&f);
}

/* Reader rows fed to a writer (compaction's shape) give the same file
 * contents. */
static void test_copy_through_writer(void)
{
    pgcdc_pq_options o;
    pgcdc_pq_options_init(&o);
    o.row_group_rows = 800;
    pgcdc_pq_kv kv[] = {{"k1", "v1"}, {"k2", NULL}};
    o.kv = kv;
    o.nkv = 2;
    pgcdc_buf f = PGCDC_BUF_INIT, g = PGCDC_BUF_INIT;
    write_rows(&f, &o, 2500);
    pgcdc_pq_reader *r;
    mem_file m;
    char err[256];
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) == 0);
    size_t nkv;
    const pgcdc_pq_kv *rkv = pgcdc_pq_reader_kv(r, &nkv);
    CHECK(nkv == 2 && !strcmp(rkv[0].key, "k1") && !strcmp(rkv[0].value, "v1") &&
          !strcmp(rkv[1].key, "k2") && !rkv[1].value);
    CHECK(pgcdc_pq_reader_created_by(r) && !strncmp(pgcdc_pq_reader_created_by(r), "pgcdc", 5));
    pgcdc_pq_options_init(&o);
    o.codec = PGCDC_PQ_SNAPPY;
    pgcdc_pq_writer *w;
    CHECK(pgcdc_pq_writer_open(&w, pgcdc_pq_reader_columns(r), pgcdc_pq_reader_ncols(r), &o,
                               buf_write, &g, err, sizeof(err)) == 0);
    pgcdc_pq_datum v[NCOLS];
    while (pgcdc_pq_reader_next(r, v, err, sizeof(err)) == 1) {
        for (int c = 0; c < NCOLS; c++)
            pgcdc_pq_put_datum(w, c, &v[c]);
        CHECK(pgcdc_pq_writer_end_row(w, err, sizeof(err)) == 0);
    }
    CHECK(pgcdc_pq_writer_finish(w, err, sizeof(err)) == 0);
    pgcdc_pq_writer_free(w);
    pgcdc_pq_reader_free(r);
    check_rows(&g, 2500, NULL, 0, 0);
    pgcdc_buf_free(&f);
    pgcdc_buf_free(&g);
}

/* --------------------------------------------------------------- malformed */

/* Opens and reads all of [p, p + n): 1 read whole, 0 a failure with a
 * message; anything else (a failure without message) is a test failure. */
static int read_whole(const void *p, size_t n)
{
    pgcdc_pq_reader *r;
    mem_file m = {p, n, 0, 0};
    char err[512];
    err[0] = 0;
    if (pgcdc_pq_reader_open(&r, mem_read, &m, n, err, sizeof(err)) != 0) {
        CHECK(err[0]);
        return 0;
    }
    pgcdc_pq_datum v[64];
    int rc = 0;
    if (pgcdc_pq_reader_ncols(r) <= 64)
        while ((rc = pgcdc_pq_reader_next(r, v, err, sizeof(err))) == 1)
            ;
    if (rc < 0)
        CHECK(err[0]);
    pgcdc_pq_reader_free(r);
    return rc == 0;
}

static void test_truncated_and_flipped(void)
{
    pgcdc_pq_options o;
    pgcdc_pq_options_init(&o);
    o.page_bytes = 64;
    o.row_group_rows = 7;
    o.codec = PGCDC_PQ_SNAPPY;
    pgcdc_buf f = PGCDC_BUF_INIT;
    write_rows(&f, &o, 20);
    CHECK(read_whole(f.data, f.len) == 1);
    for (size_t n = 0; n < f.len; n++)
        CHECK(read_whole(f.data, n) == 0); /* every truncation fails */
    unsigned char *copy = malloc(f.len);
    size_t ok = 0;
    for (size_t i = 0; i < f.len; i++) {
        memcpy(copy, f.data, f.len);
        copy[i] ^= (unsigned char)(0x55 + i);
        ok += read_whole(copy, f.len);
    }
    CHECK(ok < f.len); /* (some changes are harmless: a value's bit) */
    free(copy);
    pgcdc_buf_free(&f);
}

static void test_bad_magic(void)
{
    pgcdc_pq_options o;
    pgcdc_pq_options_init(&o);
    pgcdc_buf f = PGCDC_BUF_INIT;
    write_rows(&f, &o, 3);
    pgcdc_pq_reader *r;
    mem_file m;
    char err[256];
    f.data[0] = 'X';
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) != 0 && strstr(err, "PAR1 magic at its start"));
    f.data[0] = 'P';
    f.data[f.len - 1] = 'E';
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) != 0 && strstr(err, "encrypted"));
    f.data[f.len - 1] = '1';
    f.data[f.len - 5] = 0x7f; /* footer length */
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) != 0 && strstr(err, "footer length"));
    pgcdc_buf_reset(&f);
    pgcdc_buf_append(&f, "PAR1PAR1", 8);
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) != 0 && strstr(err, "too small"));
    pgcdc_buf_free(&f);
}

/* A file of one row group whose single column chunk is `chunk`, with the
 * schema and chunk metadata given; schema: elements after the root, as
 * (type, repetition, name, num_children) (type -1: a group). */
typedef struct {
    int type, repetition, children;
    const char *name;
    int converted, scale, precision; /* converted 0: none, else ConvertedType + 1 */
} elem;

static void crafted(pgcdc_buf *f, const elem *el, int nel, int root_children, int codec,
                    int64_t data_off, int64_t total, int64_t rows)
{
    pgcdc_buf_reset(f);
    pgcdc_buf_append(f, "PAR1", 4);
    /* a PLAIN required INT32 page of `rows` values */
    pgcdc_buf page = PGCDC_BUF_INIT;
    pgcdc_thrift_w t;
    pgcdc_thrift_init(&t, &page);
    pgcdc_thrift_i32(&t, 1, PQ_PAGE_DATA);
    pgcdc_thrift_i32(&t, 2, (int32_t)(rows * 4));
    pgcdc_thrift_i32(&t, 3, (int32_t)(rows * 4));
    pgcdc_thrift_struct_begin(&t, 5);
    pgcdc_thrift_i32(&t, 1, (int32_t)rows);
    pgcdc_thrift_i32(&t, 2, PQ_ENC_PLAIN);
    pgcdc_thrift_i32(&t, 3, PQ_ENC_RLE);
    pgcdc_thrift_i32(&t, 4, PQ_ENC_RLE);
    pgcdc_thrift_struct_end(&t);
    pgcdc_thrift_finish(&t);
    for (int32_t i = 0; i < rows; i++)
        pgcdc_buf_append(&page, &i, 4);
    pgcdc_buf_append(f, page.data, page.len);
    if (total < 0)
        total = (int64_t)page.len;
    pgcdc_buf_free(&page);

    pgcdc_buf foot = PGCDC_BUF_INIT;
    pgcdc_thrift_init(&t, &foot);
    pgcdc_thrift_i32(&t, 1, 2);
    pgcdc_thrift_list_begin(&t, 2, PGCDC_THRIFT_STRUCT, (size_t)nel + 1);
    pgcdc_thrift_elem_struct_begin(&t);
    pgcdc_thrift_string(&t, 4, "schema");
    pgcdc_thrift_i32(&t, 5, root_children);
    pgcdc_thrift_elem_struct_end(&t);
    for (int i = 0; i < nel; i++) {
        pgcdc_thrift_elem_struct_begin(&t);
        if (el[i].type >= 0)
            pgcdc_thrift_i32(&t, 1, el[i].type);
        pgcdc_thrift_i32(&t, 3, el[i].repetition);
        pgcdc_thrift_string(&t, 4, el[i].name);
        if (el[i].children)
            pgcdc_thrift_i32(&t, 5, el[i].children);
        if (el[i].converted) {
            pgcdc_thrift_i32(&t, 6, el[i].converted - 1);
            pgcdc_thrift_i32(&t, 7, el[i].scale);
            pgcdc_thrift_i32(&t, 8, el[i].precision);
        }
        pgcdc_thrift_elem_struct_end(&t);
    }
    pgcdc_thrift_i64(&t, 3, rows);
    pgcdc_thrift_list_begin(&t, 4, PGCDC_THRIFT_STRUCT, 1);
    pgcdc_thrift_elem_struct_begin(&t);
    pgcdc_thrift_list_begin(&t, 1, PGCDC_THRIFT_STRUCT, 1);
    pgcdc_thrift_elem_struct_begin(&t);
    pgcdc_thrift_i64(&t, 2, data_off);
    pgcdc_thrift_struct_begin(&t, 3);
    pgcdc_thrift_i32(&t, 1, PGCDC_PQ_INT32);
    pgcdc_thrift_list_begin(&t, 2, PGCDC_THRIFT_I32, 1);
    pgcdc_thrift_elem_i32(&t, PQ_ENC_PLAIN);
    pgcdc_thrift_list_begin(&t, 3, PGCDC_THRIFT_BINARY, 1);
    pgcdc_thrift_elem_string(&t, el[nel - 1].name);
    pgcdc_thrift_i32(&t, 4, codec);
    pgcdc_thrift_i64(&t, 5, rows);
    pgcdc_thrift_i64(&t, 6, total);
    pgcdc_thrift_i64(&t, 7, total);
    pgcdc_thrift_i64(&t, 9, data_off);
    pgcdc_thrift_struct_end(&t);
    pgcdc_thrift_elem_struct_end(&t);
    pgcdc_thrift_i64(&t, 2, total);
    pgcdc_thrift_i64(&t, 3, rows);
    pgcdc_thrift_elem_struct_end(&t);
    pgcdc_thrift_finish(&t);
    pgcdc_buf_append(f, foot.data, foot.len);
    uint32_t n = (uint32_t)foot.len;
    pgcdc_buf_append(f, &n, 4);
    pgcdc_buf_append(f, "PAR1", 4);
    pgcdc_buf_free(&foot);
}

static void test_crafted_footers(void)
{
    pgcdc_buf f = PGCDC_BUF_INIT;
    pgcdc_pq_reader *r;
    mem_file m;
    char err[512];
    const elem flat[] = {{PGCDC_PQ_INT32, 0, 0, "x", 0, 0, 0}};
    crafted(&f, flat, 1, 1, 0, 4, -1, 10);
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) == 0);
    pgcdc_pq_datum v;
    int n = 0;
    while (pgcdc_pq_reader_next(r, &v, err, sizeof(err)) == 1)
        CHECK_INT(v.v.i32, n++);
    CHECK_INT(n, 10);
    pgcdc_pq_reader_free(r);

    const elem nested[] = {{-1, 1, 1, "grp", 0, 0, 0}, {PGCDC_PQ_INT32, 0, 0, "x", 0, 0, 0}};
    crafted(&f, nested, 2, 1, 0, 4, -1, 10);
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) != 0 && strstr(err, "column \"grp\" is a group"));
    const elem repeated[] = {{PGCDC_PQ_INT32, 2, 0, "tags", 0, 0, 0}};
    crafted(&f, repeated, 1, 1, 0, 4, -1, 10);
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) != 0 &&
          strstr(err, "column \"tags\" is repeated"));
    crafted(&f, flat, 1, 2, 0, 4, -1, 10); /* root says 2 children */
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) != 0 && strstr(err, "children"));
    crafted(&f, flat, 1, 1, 5, 4, -1, 10); /* LZ4 */
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) != 0 && strstr(err, "codec 5 (LZ4)") &&
          strstr(err, "\"x\""));
    crafted(&f, flat, 1, 1, 0, 4, 1 << 20, 10); /* chunk past the footer */
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) != 0 && strstr(err, "outside the file"));
    crafted(&f, flat, 1, 1, 0, 2, -1, 10); /* chunk in the magic */
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) != 0 && strstr(err, "outside the file"));
    crafted(&f, flat, 1, 1, 0, -5, -1, 10);
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) != 0 && strstr(err, "outside the file"));
    /* a chunk shorter than its page */
    crafted(&f, flat, 1, 1, 0, 4, 20, 10);
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) == 0);
    CHECK(pgcdc_pq_reader_next(r, &v, err, sizeof(err)) == -1 && strstr(err, "\"x\""));
    pgcdc_pq_reader_free(r);

    /* legacy converted types without a LogicalType */
    static const struct {
        int ct, scale, precision;
        pgcdc_pq_logical want;
        int bits, utc;
    } legacy[] = {
        {PQ_CT_DATE, 0, 0, PGCDC_PQ_LOGICAL_DATE, 0, 0},
        {PQ_CT_DECIMAL, 2, 7, PGCDC_PQ_LOGICAL_DECIMAL, 0, 0},
        {PQ_CT_INT_16, 0, 0, PGCDC_PQ_LOGICAL_INT, 16, 0},
        {PQ_CT_INT_8, 0, 0, PGCDC_PQ_LOGICAL_INT, 8, 0},
        {PQ_CT_UINT_8, 0, 0, PGCDC_PQ_LOGICAL_UINT, 8, 0},
        {PQ_CT_TIME_MILLIS, 0, 0, PGCDC_PQ_LOGICAL_TIME_MILLIS, 0, 1},
    };
    for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++) {
        elem e = {PGCDC_PQ_INT32,     1, 0, "x", legacy[i].ct + 1, legacy[i].scale,
                  legacy[i].precision};
        crafted(&f, &e, 1, 1, 0, 4, -1, 3);
        CHECK(open_mem(&r, &m, &f, err, sizeof(err)) == 0);
        if (!r)
            continue;
        const pgcdc_pq_column *c = pgcdc_pq_reader_column(r, 0);
        CHECK(c->logical == legacy[i].want && c->int_bits == legacy[i].bits &&
              c->utc == legacy[i].utc && c->scale == legacy[i].scale &&
              c->precision == legacy[i].precision && c->nullable);
        pgcdc_pq_reader_free(r);
        r = NULL;
    }
    /* a converted type that does not fit the physical type */
    elem e = {PGCDC_PQ_INT32, 0, 0, "x", PQ_CT_UTF8 + 1, 0, 0};
    crafted(&f, &e, 1, 1, 0, 4, -1, 3);
    CHECK(open_mem(&r, &m, &f, err, sizeof(err)) != 0 && strstr(err, "\"x\""));
    pgcdc_buf_free(&f);
}

int main(void)
{
    TEST_RUN(test_thrift_decode);
    TEST_RUN(test_rle_decoder);
    TEST_RUN(test_delta_decoder);
    TEST_RUN(test_roundtrip_codecs);
    TEST_RUN(test_roundtrip_pages_and_groups);
    TEST_RUN(test_projection_seek_readahead);
    TEST_RUN(test_copy_through_writer);
    TEST_RUN(test_truncated_and_flipped);
    TEST_RUN(test_bad_magic);
    TEST_RUN(test_crafted_footers);
    TEST_DONE();
}
