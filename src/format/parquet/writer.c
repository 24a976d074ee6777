/*
 * writer.c - the Parquet file writer (see parquet.h).
 *
 * Per column, the page under way is kept unencoded-but-cheap: PLAIN value
 * bytes (or dictionary indices) plus one byte per definition level. Closing
 * a page RLE-encodes the levels and indices, compresses the page body into
 * the column's chunk buffer behind its Thrift PageHeader. Closing a row
 * group writes, column after column, the dictionary page and the buffered
 * data pages through the callback and appends the row group's Thrift
 * RowGroup struct to the footer under way, so the footer needs no per-chunk
 * state kept beyond the row group.
 *
 * Dictionary columns stage their values PLAIN and encode them a batch at a
 * time per column: the hash table of one column stays in cache instead of
 * every column's tables competing for it row after row.
 *
 * Statistics are computed as values arrive; with dictionary encoding only
 * for values new to the dictionary (a repeated value cannot change min or
 * max). Floating-point NaN is left out of min/max (as the format asks);
 * min/max of byte arrays are kept only up to PQ_STATS_MAX bytes.
 */
#include <limits.h>
#include <math.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "format/parquet/encoding.h"
#include "format/parquet/parquet.h"
#include "format/parquet/thrift.h"

#ifndef PGCDC_VERSION
#define PGCDC_VERSION "0"
#endif

#define PQ_MAGIC "PAR1"
#define PQ_STATS_MAX 4096 /* longer byte-array min/max are not written */
/* Values of a dictionary column are staged PLAIN and encoded in batches of
 * about this size, one column at a time (see dict_encode_staged). */
#define PQ_STAGE_BYTES (128 * 1024)
#define PQ_PREFETCH 16 /* hash table slots fetched ahead of their lookup */

typedef struct pq_col {
    pgcdc_pq_column def;
    int width; /* PLAIN bytes per value: 4, 8, type_length; 0 byte arrays; -1 booleans */

    /* the page under way */
    pgcdc_buf vals; /* PLAIN values (dictionary columns: staged, not encoded yet) */
    uint32_t *idx;  /* dictionary indices */
    size_t nidx, idx_cap;
    uint8_t *levels; /* definition levels (nullable columns) */
    size_t nlevels, levels_cap;
    size_t page_values; /* nulls included */
    size_t page_nulls;
    size_t nbits; /* booleans: bits used in vals */

    /* the column chunk under way */
    pgcdc_buf chunk;   /* finished data pages: header + body */
    int64_t rg_values; /* values (nulls included) in this row group */
    int64_t rg_nulls;
    int64_t data_uncompressed; /* headers + uncompressed bodies */
    int plain_pages, dict_pages;

    /* dictionary */
    int dict_on;    /* encoding this chunk with the dictionary */
    pgcdc_buf dict; /* PLAIN-encoded entries */
    uint32_t *dofs; /* byte arrays: offset of each entry's bytes in dict */
    uint32_t ndict, dict_cap;
    uint64_t *slots; /* open addressing: hash << 32 | entry index + 1, 0 free */
    uint32_t nslots; /* power of two */

    /* statistics of the chunk */
    int has_minmax;
    union {
        int64_t i;
        double d;
    } smin, smax;
    pgcdc_buf bmin, bmax; /* byte arrays and fixed-length byte arrays */
    uint64_t pmin, pmax;  /* byte arrays: big-endian 8-byte prefixes of bmin, bmax */
    int bstats_off;       /* a value longer than PQ_STATS_MAX was seen */
} pq_col;

struct pgcdc_pq_writer {
    pq_col *cols;
    int ncols;
    pgcdc_pq_options opts;
    pgcdc_pq_kv *kv;
    char *created_by;
    pgcdc_pq_write_fn write;
    void *write_ctx;

    int64_t rows;    /* completed rows in the file */
    int64_t rg_rows; /* completed rows in the row group under way */
    uint64_t pos;    /* bytes written */
    int finished;

    pgcdc_buf body;  /* a page body before compression */
    pgcdc_buf cbody; /* a compressed page body */
    pgcdc_buf head;  /* a page header */
    pgcdc_buf rgs;   /* the footer's RowGroup structs so far */
    size_t nrgs;
    pgcdc_buf scratch;
    ZSTD_CCtx *zctx;
    /* a staged batch of one dictionary column: value, length, hash */
    const char **bpos;
    uint32_t *blen, *bhash;
    size_t batch_cap;

    char err[256];
};

/* ------------------------------------------------------------------------ */

static int fail(pgcdc_pq_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records the first error of the writer; later rows are refused. */
static int fail(pgcdc_pq_writer *w, const char *fmt, ...)
{
    if (w->err[0])
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof(w->err), fmt, ap);
    va_end(ap);
    return -1;
}

static int report(const pgcdc_pq_writer *w, char *errstr, size_t es)
{
    snprintf(errstr, es, "%s", w->err);
    return -1;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort(); /* as pgcdc_buf: no safe way to go on without memory */
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

void pgcdc_pq_options_init(pgcdc_pq_options *o)
{
    memset(o, 0, sizeof(*o));
    o->codec = PGCDC_PQ_ZSTD;
    o->level = 3;
    o->row_group_bytes = (size_t)128 << 20;
    o->page_bytes = (size_t)1 << 20;
    o->dictionary = 1;
    o->dictionary_page_bytes = (size_t)1 << 20;
}

int pgcdc_pq_decimal_bytes(int precision)
{
    /* largest precision n bytes hold: floor(log10(2^(8n-1) - 1)) */
    int n = 1;
    while (n < 32 && (8.0 * n - 1) * 0.30102999566398120 < precision)
        n++;
    return n;
}

static int check_column(const pgcdc_pq_column *c, int i, char *errstr, size_t es)
{
    const char *name = c->name ? c->name : "";
    if (!name[0]) {
        snprintf(errstr, es, "parquet: column %d has no name", i);
        return -1;
    }
    int ok = c->physical != PGCDC_PQ_INT96 && c->physical >= PGCDC_PQ_BOOLEAN &&
             c->physical <= PGCDC_PQ_FIXED_LEN_BYTE_ARRAY; /* INT96 is read only */
    switch (c->logical) {
    case PGCDC_PQ_LOGICAL_NONE:
        break;
    case PGCDC_PQ_LOGICAL_STRING:
    case PGCDC_PQ_LOGICAL_JSON:
        ok = c->physical == PGCDC_PQ_BYTE_ARRAY;
        break;
    case PGCDC_PQ_LOGICAL_DECIMAL:
        if (c->physical == PGCDC_PQ_INT32)
            ok = c->precision >= 1 && c->precision <= 9;
        else if (c->physical == PGCDC_PQ_INT64)
            ok = c->precision >= 1 && c->precision <= 18;
        else if (c->physical == PGCDC_PQ_FIXED_LEN_BYTE_ARRAY)
            ok = c->precision >= 1 && pgcdc_pq_decimal_bytes(c->precision) <= c->type_length;
        else
            ok = 0;
        ok = ok && c->scale >= 0 && c->scale <= c->precision;
        break;
    case PGCDC_PQ_LOGICAL_DATE:
        ok = c->physical == PGCDC_PQ_INT32;
        break;
    case PGCDC_PQ_LOGICAL_TIME_MICROS:
    case PGCDC_PQ_LOGICAL_TIMESTAMP_MICROS:
        ok = c->physical == PGCDC_PQ_INT64;
        break;
    case PGCDC_PQ_LOGICAL_INT:
        ok = (c->physical == PGCDC_PQ_INT32 &&
              (c->int_bits == 8 || c->int_bits == 16 || c->int_bits == 32)) ||
             (c->physical == PGCDC_PQ_INT64 && c->int_bits == 64);
        break;
    default:
        ok = 0;
    }
    if (c->physical == PGCDC_PQ_FIXED_LEN_BYTE_ARRAY && c->type_length < 1)
        ok = 0;
    if (!ok) {
        snprintf(errstr, es,
                 "parquet: column \"%s\": logical type %d does not fit physical type %d "
                 "(precision %d, scale %d, length %d, int bits %d)",
                 name, (int)c->logical, (int)c->physical, c->precision, c->scale, c->type_length,
                 c->int_bits);
        return -1;
    }
    return 0;
}

int pgcdc_pq_writer_open(pgcdc_pq_writer **out, const pgcdc_pq_column *cols, int ncols,
                         const pgcdc_pq_options *opts, pgcdc_pq_write_fn write, void *write_ctx,
                         char *errstr, size_t es)
{
    *out = NULL;
    if (ncols < 1) {
        snprintf(errstr, es, "parquet: a schema needs at least one column");
        return -1;
    }
    for (int i = 0; i < ncols; i++)
        if (check_column(&cols[i], i, errstr, es) != 0)
            return -1;
    if (opts->codec != PGCDC_PQ_UNCOMPRESSED && opts->codec != PGCDC_PQ_SNAPPY &&
        opts->codec != PGCDC_PQ_ZSTD) {
        snprintf(errstr, es, "parquet: unsupported codec %d (use none, snappy or zstd)",
                 (int)opts->codec);
        return -1;
    }
    pgcdc_pq_writer *w = xrealloc(NULL, sizeof(*w));
    memset(w, 0, sizeof(*w));
    w->opts = *opts;
    if (!w->opts.row_group_bytes)
        w->opts.row_group_bytes = (size_t)128 << 20;
    if (!w->opts.page_bytes)
        w->opts.page_bytes = (size_t)1 << 20;
    if (!w->opts.dictionary_page_bytes)
        w->opts.dictionary_page_bytes = (size_t)1 << 20;
    w->write = write;
    w->write_ctx = write_ctx;
    w->ncols = ncols;
    w->cols = xrealloc(NULL, sizeof(pq_col) * (size_t)ncols);
    memset(w->cols, 0, sizeof(pq_col) * (size_t)ncols);
    for (int i = 0; i < ncols; i++) {
        pq_col *c = &w->cols[i];
        c->def = cols[i];
        c->def.name = xstrdup(cols[i].name);
        switch (c->def.physical) {
        case PGCDC_PQ_BOOLEAN:
            c->width = -1;
            break;
        case PGCDC_PQ_INT32:
        case PGCDC_PQ_FLOAT:
            c->width = 4;
            break;
        case PGCDC_PQ_INT64:
        case PGCDC_PQ_DOUBLE:
            c->width = 8;
            break;
        case PGCDC_PQ_FIXED_LEN_BYTE_ARRAY:
            c->width = c->def.type_length;
            break;
        default:
            c->width = 0;
        }
        c->dict_on = w->opts.dictionary && c->width != -1;
    }
    if (opts->nkv) {
        w->kv = xrealloc(NULL, sizeof(pgcdc_pq_kv) * opts->nkv);
        for (size_t i = 0; i < opts->nkv; i++) {
            w->kv[i].key = xstrdup(opts->kv[i].key);
            w->kv[i].value = opts->kv[i].value ? xstrdup(opts->kv[i].value) : NULL;
        }
    }
    w->opts.kv = w->kv;
    w->created_by = xstrdup(opts->created_by ? opts->created_by : "pgcdc version " PGCDC_VERSION);
    w->opts.created_by = w->created_by;
    if (w->opts.codec == PGCDC_PQ_ZSTD) {
        w->zctx = ZSTD_createCCtx();
        if (!w->zctx) {
            snprintf(errstr, es, "parquet: cannot create a zstd context");
            pgcdc_pq_writer_free(w);
            return -1;
        }
        size_t r = ZSTD_CCtx_setParameter(w->zctx, ZSTD_c_compressionLevel,
                                          w->opts.level ? w->opts.level : 3);
        if (ZSTD_isError(r)) {
            snprintf(errstr, es, "parquet: zstd level %d: %s", w->opts.level, ZSTD_getErrorName(r));
            pgcdc_pq_writer_free(w);
            return -1;
        }
    }
    *out = w;
    return 0;
}

static void col_free(pq_col *c)
{
    free((char *)c->def.name);
    pgcdc_buf_free(&c->vals);
    free(c->idx);
    free(c->levels);
    pgcdc_buf_free(&c->chunk);
    pgcdc_buf_free(&c->dict);
    free(c->dofs);
    free(c->slots);
    pgcdc_buf_free(&c->bmin);
    pgcdc_buf_free(&c->bmax);
}

void pgcdc_pq_writer_free(pgcdc_pq_writer *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->ncols; i++)
        col_free(&w->cols[i]);
    free(w->cols);
    for (size_t i = 0; i < w->opts.nkv && w->kv; i++) {
        free((char *)w->kv[i].key);
        free((char *)w->kv[i].value);
    }
    free(w->kv);
    free(w->created_by);
    pgcdc_buf_free(&w->body);
    pgcdc_buf_free(&w->cbody);
    pgcdc_buf_free(&w->head);
    pgcdc_buf_free(&w->rgs);
    pgcdc_buf_free(&w->scratch);
    ZSTD_freeCCtx(w->zctx);
    free(w->bpos);
    free(w->blen);
    free(w->bhash);
    free(w);
}

/* Empties the page under way of column c. */
static void page_reset(pq_col *c)
{
    pgcdc_buf_reset(&c->vals);
    c->nidx = c->nlevels = c->page_values = c->page_nulls = c->nbits = 0;
}

/* Empties column c's page, chunk, dictionary and statistics, keeping the
 * buffers' memory. */
static void col_reset(const pgcdc_pq_writer *w, pq_col *c)
{
    page_reset(c);
    pgcdc_buf_reset(&c->chunk);
    c->rg_values = c->rg_nulls = c->data_uncompressed = 0;
    c->plain_pages = c->dict_pages = 0;
    c->has_minmax = 0;
    c->bstats_off = 0;
    pgcdc_buf_reset(&c->bmin);
    pgcdc_buf_reset(&c->bmax);
    pgcdc_buf_reset(&c->dict);
    c->ndict = 0;
    if (c->slots)
        memset(c->slots, 0, sizeof(uint64_t) * c->nslots);
    c->dict_on = w->opts.dictionary && c->width != -1;
}

void pgcdc_pq_writer_reset(pgcdc_pq_writer *w, pgcdc_pq_write_fn write, void *write_ctx)
{
    for (int i = 0; i < w->ncols; i++)
        col_reset(w, &w->cols[i]);
    w->write = write;
    w->write_ctx = write_ctx;
    w->rows = w->rg_rows = 0;
    w->pos = 0;
    w->finished = 0;
    pgcdc_buf_reset(&w->rgs);
    w->nrgs = 0;
    w->err[0] = 0;
}

const char *pgcdc_pq_writer_error(const pgcdc_pq_writer *w)
{
    return w->err[0] ? w->err : NULL;
}

int64_t pgcdc_pq_writer_rows(const pgcdc_pq_writer *w)
{
    return w->rows;
}

uint64_t pgcdc_pq_writer_written(const pgcdc_pq_writer *w)
{
    return w->pos;
}

pgcdc_buf *pgcdc_pq_writer_scratch(pgcdc_pq_writer *w)
{
    return &w->scratch;
}

const pgcdc_pq_column *pgcdc_pq_writer_column(const pgcdc_pq_writer *w, int col)
{
    return &w->cols[col].def;
}

int pgcdc_pq_writer_ncols(const pgcdc_pq_writer *w)
{
    return w->ncols;
}

/* Bytes the page under way of c will take, roughly (before compression). */
static size_t page_size(const pq_col *c)
{
    return c->vals.len + c->nidx * 2 + c->nlevels / 8;
}

size_t pgcdc_pq_writer_buffered(const pgcdc_pq_writer *w)
{
    size_t n = 0;
    for (int i = 0; i < w->ncols; i++) {
        const pq_col *c = &w->cols[i];
        n += c->chunk.len + c->dict.len + page_size(c);
    }
    return n;
}

/* ------------------------------------------------------------------------ */
/* pages                                                                     */
/* ------------------------------------------------------------------------ */

/* Compresses src into w->cbody; returns the bytes to store (src itself when
 * uncompressed) or NULL after recording an error. */
static const pgcdc_buf *compress(pgcdc_pq_writer *w, const pgcdc_buf *src)
{
    pgcdc_buf *dst = &w->cbody;
    pgcdc_buf_reset(dst);
    switch (w->opts.codec) {
    case PGCDC_PQ_SNAPPY: {
        size_t cap = snappy_max_compressed_length(src->len);
        pgcdc_buf_reserve(dst, cap);
        size_t n = cap;
        if (snappy_compress(src->data, src->len, dst->data, &n) != SNAPPY_OK) {
            fail(w, "parquet: snappy compression failed");
            return NULL;
        }
        dst->len = n;
        return dst;
    }
    case PGCDC_PQ_ZSTD: {
        size_t cap = ZSTD_compressBound(src->len);
        pgcdc_buf_reserve(dst, cap);
        size_t n = ZSTD_compress2(w->zctx, dst->data, cap, src->data, src->len);
        if (ZSTD_isError(n)) {
            fail(w, "parquet: zstd compression failed: %s", ZSTD_getErrorName(n));
            return NULL;
        }
        dst->len = n;
        return dst;
    }
    default:
        return src;
    }
}

/* Appends PageHeader + compressed body to out, the body being w->body
 * followed by tail (tail_len bytes, may be 0: kept apart so an uncompressed
 * page's values are copied once); returns the uncompressed size (header
 * included) or -1. */
static int64_t emit_page(pgcdc_pq_writer *w, pgcdc_buf *out, int type, int32_t nvalues,
                         int encoding, const void *tail, size_t tail_len)
{
    size_t raw = w->body.len + tail_len;
    if (raw > INT32_MAX)
        return fail(w, "parquet: a page of %zu bytes is too large (lower page_bytes)", raw);
    const pgcdc_buf *body = &w->body;
    if (w->opts.codec != PGCDC_PQ_UNCOMPRESSED) {
        if (tail_len)
            pgcdc_buf_append(&w->body, tail, tail_len);
        tail_len = 0;
        body = compress(w, &w->body);
        if (!body)
            return -1;
    }
    pgcdc_buf_reset(&w->head);
    pgcdc_thrift_w t;
    pgcdc_thrift_init(&t, &w->head);
    pgcdc_thrift_i32(&t, 1, type);
    pgcdc_thrift_i32(&t, 2, (int32_t)raw);
    pgcdc_thrift_i32(&t, 3, (int32_t)(body->len + tail_len));
    if (type == PQ_PAGE_DATA) {
        pgcdc_thrift_struct_begin(&t, 5);
        pgcdc_thrift_i32(&t, 1, nvalues);
        pgcdc_thrift_i32(&t, 2, encoding);
        pgcdc_thrift_i32(&t, 3, PQ_ENC_RLE);
        pgcdc_thrift_i32(&t, 4, PQ_ENC_RLE);
        pgcdc_thrift_struct_end(&t);
    } else {
        pgcdc_thrift_struct_begin(&t, 7);
        pgcdc_thrift_i32(&t, 1, nvalues);
        pgcdc_thrift_i32(&t, 2, PQ_ENC_PLAIN);
        pgcdc_thrift_struct_end(&t);
    }
    pgcdc_thrift_finish(&t);
    pgcdc_buf_append(out, w->head.data, w->head.len);
    if (body->len)
        pgcdc_buf_append(out, body->data, body->len);
    if (tail_len)
        pgcdc_buf_append(out, tail, tail_len);
    return (int64_t)(w->head.len + raw);
}

static int dict_encode_staged(pgcdc_pq_writer *w, pq_col *c);

/* Encodes and compresses the page under way of column c into its chunk. */
static int flush_page(pgcdc_pq_writer *w, pq_col *c)
{
    if (dict_encode_staged(w, c) != 0)
        return -1;
    size_t nvalues = c->page_values;
    if (nvalues == 0)
        return 0;
    if (nvalues > INT32_MAX)
        return fail(w, "parquet: column \"%s\": too many values in one page", c->def.name);
    pgcdc_buf *b = &w->body;
    pgcdc_buf_reset(b);
    if (c->def.nullable) {
        size_t at = b->len;
        pgcdc_buf_append(b, "\0\0\0\0", 4);
        if (c->page_nulls == 0)
            pgcdc_pq_rle_run(b, 1, c->nlevels, 1);
        else if (c->page_nulls == c->nlevels)
            pgcdc_pq_rle_run(b, 0, c->nlevels, 1);
        else
            pgcdc_pq_rle_u8(b, c->levels, c->nlevels, 1);
        uint32_t n = (uint32_t)(b->len - at - 4);
        unsigned char *p = (unsigned char *)b->data + at;
        p[0] = (unsigned char)n;
        p[1] = (unsigned char)(n >> 8);
        p[2] = (unsigned char)(n >> 16);
        p[3] = (unsigned char)(n >> 24);
    }
    int encoding = PQ_ENC_PLAIN;
    const void *tail = NULL;
    size_t tail_len = 0;
    if (c->dict_on && c->nidx) { /* (an all-null page has no values to encode) */
        int bw = pgcdc_pq_bit_width(c->ndict ? c->ndict - 1 : 0);
        if (bw == 0)
            bw = 1;
        pgcdc_buf_putc(b, (char)bw);
        pgcdc_pq_rle_u32(b, c->idx, c->nidx, bw);
        encoding = PQ_ENC_RLE_DICTIONARY;
        c->dict_pages++;
    } else {
        tail = c->vals.data; /* (all-null pages have no values) */
        tail_len = c->vals.len;
        c->plain_pages++;
    }
    int64_t n = emit_page(w, &c->chunk, PQ_PAGE_DATA, (int32_t)nvalues, encoding, tail, tail_len);
    if (n < 0)
        return -1;
    c->data_uncompressed += n;
    page_reset(c);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* values                                                                    */
/* ------------------------------------------------------------------------ */

static int bad_col(pgcdc_pq_writer *w, int col, const char *what)
{
    if (col < 0 || col >= w->ncols)
        return fail(w, "parquet: column %d does not exist (%d columns)", col, w->ncols);
    const pq_col *c = &w->cols[col];
    return fail(w, "parquet: column \"%s\" (physical type %d) cannot take a %s value", c->def.name,
                (int)c->def.physical, what);
}

/* Common entry of every put: checks the column and type, records the
 * definition level. Returns the column or NULL. */
static inline pq_col *begin_put(pgcdc_pq_writer *w, int col, pgcdc_pq_physical t, const char *what)
{
    if (w->err[0] || col < 0 || col >= w->ncols || w->cols[col].def.physical != t ||
        w->cols[col].rg_values != w->rg_rows) {
        if (!w->err[0] && col >= 0 && col < w->ncols && w->cols[col].def.physical == t)
            fail(w, "parquet: column \"%s\" got two values in one row", w->cols[col].def.name);
        else
            bad_col(w, col, what);
        return NULL;
    }
    pq_col *c = &w->cols[col];
    c->rg_values++;
    c->page_values++;
    if (c->def.nullable) {
        if (c->nlevels == c->levels_cap) {
            c->levels_cap = c->levels_cap ? c->levels_cap * 2 : 1024;
            c->levels = xrealloc(c->levels, c->levels_cap);
        }
        c->levels[c->nlevels++] = 1;
    }
    return c;
}

int pgcdc_pq_put_null(pgcdc_pq_writer *w, int col)
{
    if (w->err[0])
        return -1;
    if (col < 0 || col >= w->ncols)
        return bad_col(w, col, "null");
    pq_col *c = &w->cols[col];
    if (!c->def.nullable)
        return fail(w, "parquet: column \"%s\" is not nullable but got a null", c->def.name);
    if (c->rg_values != w->rg_rows)
        return fail(w, "parquet: column \"%s\" got two values in one row", c->def.name);
    c->rg_values++;
    c->rg_nulls++;
    c->page_values++;
    c->page_nulls++;
    if (c->nlevels == c->levels_cap) {
        c->levels_cap = c->levels_cap ? c->levels_cap * 2 : 1024;
        c->levels = xrealloc(c->levels, c->levels_cap);
    }
    c->levels[c->nlevels++] = 0;
    return 0;
}

/* Statistics of fixed-width numbers (signed order). */
static inline void stat_i64(pq_col *c, int64_t v)
{
    if (!c->has_minmax) {
        c->smin.i = c->smax.i = v;
        c->has_minmax = 1;
        return;
    }
    if (v < c->smin.i)
        c->smin.i = v;
    if (v > c->smax.i)
        c->smax.i = v;
}

static inline void stat_f64(pq_col *c, double v)
{
    if (isnan(v))
        return;
    if (!c->has_minmax) {
        c->smin.d = c->smax.d = v;
        c->has_minmax = 1;
        return;
    }
    if (v < c->smin.d)
        c->smin.d = v;
    if (v > c->smax.d)
        c->smax.d = v;
}

/* Byte order of min/max: unsigned lexicographic for byte arrays, signed
 * big-endian two's complement for fixed-length decimals. */
static int bytes_cmp(const pq_col *c, const void *a, size_t al, const void *b, size_t bl)
{
    if (c->width > 0) {
        int sa = ((const signed char *)a)[0], sb = ((const signed char *)b)[0];
        if (sa != sb)
            return sa < sb ? -1 : 1;
        return memcmp(a, b, al);
    }
    size_t n = al < bl ? al : bl;
    int r = n ? memcmp(a, b, n) : 0;
    if (r)
        return r;
    return al < bl ? -1 : (al > bl ? 1 : 0);
}

/* The first 8 bytes of a byte string, zero-padded, as a big-endian number:
 * when two prefixes differ, they order the strings as memcmp-then-length
 * does (a shorter string that is a prefix of the other is smaller either
 * way); when they are equal, only a full comparison can tell. */
static inline uint64_t prefix8(const void *p, size_t len)
{
    uint64_t v = 0;
    memcpy(&v, p, len < 8 ? len : 8);
    return __builtin_bswap64(v);
}

static void stat_bytes(pq_col *c, const void *p, size_t len)
{
    if (c->bstats_off)
        return;
    if (len > PQ_STATS_MAX) {
        c->bstats_off = 1;
        return;
    }
    uint64_t pv = c->width == 0 ? prefix8(p, len) : 0;
    if (!c->has_minmax) {
        pgcdc_buf_append(&c->bmin, p, len);
        pgcdc_buf_append(&c->bmax, p, len);
        c->pmin = c->pmax = pv;
        c->has_minmax = 1;
        return;
    }
    if (c->width == 0 && pv > c->pmin && pv < c->pmax)
        return; /* strictly inside: neither bound moves */
    if (bytes_cmp(c, p, len, c->bmin.data, c->bmin.len) < 0) {
        pgcdc_buf_reset(&c->bmin);
        pgcdc_buf_append(&c->bmin, p, len);
        c->pmin = pv;
    } else if (bytes_cmp(c, p, len, c->bmax.data, c->bmax.len) > 0) {
        pgcdc_buf_reset(&c->bmax);
        pgcdc_buf_append(&c->bmax, p, len);
        c->pmax = pv;
    }
}

/* Statistics of one value given in its PLAIN bytes. */
static void stat_value(pq_col *c, const void *p, size_t len)
{
    switch (c->def.physical) {
    case PGCDC_PQ_INT32: {
        int32_t v;
        memcpy(&v, p, 4);
        stat_i64(c, v);
        break;
    }
    case PGCDC_PQ_INT64: {
        int64_t v;
        memcpy(&v, p, 8);
        stat_i64(c, v);
        break;
    }
    case PGCDC_PQ_FLOAT: {
        float v;
        memcpy(&v, p, 4);
        stat_f64(c, v);
        break;
    }
    case PGCDC_PQ_DOUBLE: {
        double v;
        memcpy(&v, p, 8);
        stat_f64(c, v);
        break;
    }
    default:
        stat_bytes(c, p, len);
    }
}

/* Slots hold (hash << 32 | entry + 1): a probe compares hashes without
 * touching the entries (one cache miss per lookup instead of three). */
static void dict_rehash(pq_col *c)
{
    uint32_t n = c->nslots ? c->nslots * 2 : 1024;
    uint64_t *old = c->slots;
    uint32_t oldn = c->nslots;
    c->slots = xrealloc(NULL, sizeof(uint64_t) * n);
    memset(c->slots, 0, sizeof(uint64_t) * n);
    c->nslots = n;
    for (uint32_t i = 0; i < oldn; i++) {
        if (!old[i])
            continue;
        uint32_t s = (uint32_t)(old[i] >> 32) & (n - 1);
        while (c->slots[s])
            s = (s + 1) & (n - 1);
        c->slots[s] = old[i];
    }
    free(old);
}

/* The value's bytes as stored in the dictionary. */
static inline const char *dict_entry(const pq_col *c, uint32_t e, size_t *len)
{
    if (c->width > 0) {
        *len = (size_t)c->width;
        return c->dict.data + (size_t)e * (size_t)c->width;
    }
    uint32_t o = c->dofs[e];
    uint32_t l;
    memcpy(&l, c->dict.data + o - 4, 4);
    *len = l;
    return c->dict.data + o;
}

/*
 * Appends the dictionary index of one value (PLAIN bytes p/len; byte arrays
 * without their length prefix) to the page under way, adding an entry (and
 * its statistics) when unseen. Returns 0, or -1 after recording an error.
 */
static inline int dict_put(pgcdc_pq_writer *w, pq_col *c, const void *p, size_t len, uint32_t h)
{
    if ((c->ndict + 1) * 2 > c->nslots)
        dict_rehash(c);
    uint32_t mask = c->nslots - 1, s = h & mask, e;
    for (;;) {
        uint64_t v = c->slots[s];
        if (!v)
            break;
        if ((uint32_t)(v >> 32) == h) {
            size_t el;
            e = (uint32_t)v - 1;
            const char *ep = dict_entry(c, e, &el);
            if (el == len && memcmp(ep, p, len) == 0)
                goto found;
        }
        s = (s + 1) & mask;
    }
    if (len > UINT32_MAX - 8 || c->dict.len + len + 4 > UINT32_MAX)
        return fail(w, "parquet: column \"%s\": value too large for a dictionary", c->def.name);
    e = c->ndict++;
    if (c->width == 0) {
        if (c->ndict > c->dict_cap) {
            c->dict_cap = c->dict_cap ? c->dict_cap * 2 : 1024;
            c->dofs = xrealloc(c->dofs, sizeof(uint32_t) * c->dict_cap);
        }
        uint32_t l = (uint32_t)len;
        pgcdc_buf_append(&c->dict, &l, 4);
        c->dofs[e] = (uint32_t)c->dict.len;
    }
    c->slots[s] = (uint64_t)h << 32 | (e + 1);
    pgcdc_buf_append(&c->dict, p, len);
    stat_value(c, p, len);
found:
    c->idx[c->nidx++] = e;
    return 0;
}

/* Walks the PLAIN values in [p, end): the next value's bytes and length. */
static inline const char *plain_next(const pq_col *c, const char **p, size_t *len)
{
    const char *v = *p;
    if (c->width > 0) {
        *len = (size_t)c->width;
    } else {
        uint32_t l;
        memcpy(&l, v, 4);
        v += 4;
        *len = l;
    }
    *p = v + *len;
    return v;
}

/*
 * Dictionary-encodes the values staged PLAIN in c->vals (a column at a time,
 * so one column's hash table stays in cache). When the dictionary outgrows
 * its limit, the chunk falls back to PLAIN: the page under way is turned
 * back into PLAIN values (its indices looked up, the staged rest appended),
 * pages already closed keep their indices and the dictionary page.
 */
static int dict_encode_staged(pgcdc_pq_writer *w, pq_col *c)
{
    if (!c->dict_on || !c->vals.len)
        return 0;
    size_t n = c->page_values - c->page_nulls; /* an upper bound of the indices needed */
    if (n > c->idx_cap) {
        c->idx_cap = n < 1024 ? 1024 : n * 2;
        c->idx = xrealloc(c->idx, sizeof(uint32_t) * c->idx_cap);
    }
    /* hash the batch first, then look values up with the slots of the
     * values PQ_PREFETCH ahead already on their way to the cache */
    const char *p = c->vals.data, *end = p + c->vals.len;
    size_t nb = 0;
    while (p < end) {
        if (nb == w->batch_cap) {
            w->batch_cap = w->batch_cap ? w->batch_cap * 2 : 4096;
            w->bhash = xrealloc(w->bhash, sizeof(uint32_t) * w->batch_cap);
            w->bpos = xrealloc(w->bpos, sizeof(const char *) * w->batch_cap);
            w->blen = xrealloc(w->blen, sizeof(uint32_t) * w->batch_cap);
        }
        size_t len;
        const char *v = plain_next(c, &p, &len);
        w->bpos[nb] = v;
        w->blen[nb] = (uint32_t)len;
        w->bhash[nb++] = pgcdc_pq_hash(v, len);
    }
    p = c->vals.data;
    for (size_t i = 0; i < nb; i++) {
        if (i + PQ_PREFETCH < nb && c->nslots)
            __builtin_prefetch(&c->slots[w->bhash[i + PQ_PREFETCH] & (c->nslots - 1)]);
        if (dict_put(w, c, w->bpos[i], w->blen[i], w->bhash[i]) != 0)
            return -1;
        p = w->bpos[i] + w->blen[i];
        if (c->dict.len > w->opts.dictionary_page_bytes)
            break;
    }
    if (c->dict.len <= w->opts.dictionary_page_bytes) {
        pgcdc_buf_reset(&c->vals);
        return 0;
    }
    /* fallback */
    pgcdc_buf *b = &w->body;
    pgcdc_buf_reset(b);
    for (size_t i = 0; i < c->nidx; i++) {
        size_t len;
        const char *v = dict_entry(c, c->idx[i], &len);
        if (c->width == 0) {
            uint32_t l = (uint32_t)len;
            pgcdc_buf_append(b, &l, 4);
        }
        pgcdc_buf_append(b, v, len);
    }
    const char *rest = p;
    while (p < end) {
        size_t len;
        const char *v = plain_next(c, &p, &len);
        stat_value(c, v, len);
    }
    pgcdc_buf_append(b, rest, (size_t)(end - rest));
    pgcdc_buf tmp = c->vals;
    c->vals = *b;
    *b = tmp;
    c->nidx = 0;
    c->dict_on = 0;
    return 0;
}

int pgcdc_pq_put_i32(pgcdc_pq_writer *w, int col, int32_t v)
{
    pq_col *c = begin_put(w, col, PGCDC_PQ_INT32, "int32");
    if (!c)
        return -1;
    pgcdc_buf_append(&c->vals, &v, 4);
    if (!c->dict_on)
        stat_i64(c, v);
    return 0;
}

int pgcdc_pq_put_i64(pgcdc_pq_writer *w, int col, int64_t v)
{
    pq_col *c = begin_put(w, col, PGCDC_PQ_INT64, "int64");
    if (!c)
        return -1;
    pgcdc_buf_append(&c->vals, &v, 8);
    if (!c->dict_on)
        stat_i64(c, v);
    return 0;
}

int pgcdc_pq_put_float(pgcdc_pq_writer *w, int col, float v)
{
    pq_col *c = begin_put(w, col, PGCDC_PQ_FLOAT, "float");
    if (!c)
        return -1;
    pgcdc_buf_append(&c->vals, &v, 4);
    if (!c->dict_on)
        stat_f64(c, v);
    return 0;
}

int pgcdc_pq_put_double(pgcdc_pq_writer *w, int col, double v)
{
    pq_col *c = begin_put(w, col, PGCDC_PQ_DOUBLE, "double");
    if (!c)
        return -1;
    pgcdc_buf_append(&c->vals, &v, 8);
    if (!c->dict_on)
        stat_f64(c, v);
    return 0;
}

int pgcdc_pq_put_bool(pgcdc_pq_writer *w, int col, int v)
{
    pq_col *c = begin_put(w, col, PGCDC_PQ_BOOLEAN, "boolean");
    if (!c)
        return -1;
    if (c->nbits % 8 == 0)
        pgcdc_buf_putc(&c->vals, 0);
    if (v)
        c->vals.data[c->vals.len - 1] |= (char)(1u << (c->nbits % 8));
    c->nbits++;
    stat_i64(c, v ? 1 : 0);
    return 0;
}

int pgcdc_pq_put_bytes(pgcdc_pq_writer *w, int col, const void *p, size_t len)
{
    if (w->err[0])
        return -1;
    if (col < 0 || col >= w->ncols)
        return bad_col(w, col, "bytes");
    pq_col *c = &w->cols[col];
    if (c->def.physical == PGCDC_PQ_FIXED_LEN_BYTE_ARRAY) {
        if (len != (size_t)c->width)
            return fail(w, "parquet: column \"%s\" takes %d-byte values, got %zu bytes",
                        c->def.name, c->width, len);
        if (!begin_put(w, col, PGCDC_PQ_FIXED_LEN_BYTE_ARRAY, "bytes"))
            return -1;
        pgcdc_buf_append(&c->vals, p, len);
        if (!c->dict_on)
            stat_bytes(c, p, len);
        return 0;
    }
    if (len > INT32_MAX)
        return fail(w, "parquet: column \"%s\": a value of %zu bytes is over 2 GiB", c->def.name,
                    len);
    if (!begin_put(w, col, PGCDC_PQ_BYTE_ARRAY, "bytes"))
        return -1;
    uint32_t l = (uint32_t)len;
    pgcdc_buf_reserve(&c->vals, 4 + len);
    memcpy(c->vals.data + c->vals.len, &l, 4);
    if (len)
        memcpy(c->vals.data + c->vals.len + 4, p, len);
    c->vals.len += 4 + len;
    c->vals.data[c->vals.len] = 0;
    if (!c->dict_on)
        stat_bytes(c, p, len);
    return 0;
}

int pgcdc_pq_put_datum(pgcdc_pq_writer *w, int col, const pgcdc_pq_datum *d)
{
    if (d->null)
        return pgcdc_pq_put_null(w, col);
    if (col < 0 || col >= w->ncols)
        return bad_col(w, col, "datum");
    switch (w->cols[col].def.physical) {
    case PGCDC_PQ_BOOLEAN:
        return pgcdc_pq_put_bool(w, col, d->v.i32);
    case PGCDC_PQ_INT32:
        return pgcdc_pq_put_i32(w, col, d->v.i32);
    case PGCDC_PQ_INT64:
        return pgcdc_pq_put_i64(w, col, d->v.i64);
    case PGCDC_PQ_FLOAT:
        return pgcdc_pq_put_float(w, col, d->v.f4);
    case PGCDC_PQ_DOUBLE:
        return pgcdc_pq_put_double(w, col, d->v.f8);
    default:
        return pgcdc_pq_put_bytes(w, col, d->bytes, d->len);
    }
}

/* ------------------------------------------------------------------------ */
/* row groups and footer                                                     */
/* ------------------------------------------------------------------------ */

static int out_write(pgcdc_pq_writer *w, const void *p, size_t n, char *errstr, size_t es)
{
    if (!n)
        return 0;
    if (w->write(w->write_ctx, p, n, errstr, es) != 0) {
        char tmp[200];
        snprintf(tmp, sizeof(tmp), "%s", errstr);
        fail(w, "parquet: write failed: %s", tmp);
        return -1;
    }
    w->pos += n;
    return 0;
}

/* Writes min/max of c as PLAIN bytes into the Statistics struct under way. */
static void write_stats(pgcdc_thrift_w *t, const pq_col *c)
{
    pgcdc_thrift_struct_begin(t, 12);
    int legacy =
        c->def.physical != PGCDC_PQ_BYTE_ARRAY && c->def.physical != PGCDC_PQ_FIXED_LEN_BYTE_ARRAY;
    unsigned char mn[8], mx[8];
    const void *pmin = NULL, *pmax = NULL;
    size_t len = 0;
    if (c->has_minmax && !c->bstats_off) {
        switch (c->def.physical) {
        case PGCDC_PQ_BOOLEAN:
            mn[0] = (unsigned char)c->smin.i;
            mx[0] = (unsigned char)c->smax.i;
            len = 1;
            break;
        case PGCDC_PQ_INT32: {
            int32_t a = (int32_t)c->smin.i, b = (int32_t)c->smax.i;
            memcpy(mn, &a, 4);
            memcpy(mx, &b, 4);
            len = 4;
            break;
        }
        case PGCDC_PQ_INT64:
            memcpy(mn, &c->smin.i, 8);
            memcpy(mx, &c->smax.i, 8);
            len = 8;
            break;
        case PGCDC_PQ_FLOAT: {
            /* zero bounds are written as -0.0 / +0.0, as the format asks */
            float a = c->smin.d == 0 ? -0.0f : (float)c->smin.d;
            float b = c->smax.d == 0 ? 0.0f : (float)c->smax.d;
            memcpy(mn, &a, 4);
            memcpy(mx, &b, 4);
            len = 4;
            break;
        }
        case PGCDC_PQ_DOUBLE: {
            double a = c->smin.d == 0 ? -0.0 : c->smin.d;
            double b = c->smax.d == 0 ? 0.0 : c->smax.d;
            memcpy(mn, &a, 8);
            memcpy(mx, &b, 8);
            len = 8;
            break;
        }
        default:
            break;
        }
        if (len) {
            pmin = mn;
            pmax = mx;
        }
    }
    if (pmin && legacy) {
        pgcdc_thrift_binary(t, 1, pmax, len);
        pgcdc_thrift_binary(t, 2, pmin, len);
    }
    pgcdc_thrift_i64(t, 3, c->rg_nulls);
    if (pmin) {
        pgcdc_thrift_binary(t, 5, pmax, len);
        pgcdc_thrift_binary(t, 6, pmin, len);
    } else if (c->has_minmax && !c->bstats_off) { /* byte arrays */
        pgcdc_thrift_binary(t, 5, c->bmax.data, c->bmax.len);
        pgcdc_thrift_binary(t, 6, c->bmin.data, c->bmin.len);
    }
    pgcdc_thrift_struct_end(t);
}

/* Writes one column chunk and appends its ColumnChunk struct to t. */
static int flush_chunk(pgcdc_pq_writer *w, pq_col *c, pgcdc_thrift_w *t, int64_t *total_unc,
                       int64_t *total_comp, char *errstr, size_t es)
{
    if (flush_page(w, c) != 0)
        return report(w, errstr, es);
    uint64_t start = w->pos;
    int64_t dict_off = -1, unc = 0;
    if (c->dict_pages > 0) {
        pgcdc_buf_reset(&w->body);
        pgcdc_buf hb = PGCDC_BUF_INIT;
        int64_t n = emit_page(w, &hb, PQ_PAGE_DICTIONARY, (int32_t)c->ndict, PQ_ENC_PLAIN,
                              c->dict.data, c->dict.len);
        if (n < 0) {
            pgcdc_buf_free(&hb);
            return report(w, errstr, es);
        }
        dict_off = (int64_t)w->pos;
        int r = out_write(w, hb.data, hb.len, errstr, es);
        pgcdc_buf_free(&hb);
        if (r != 0)
            return -1;
        unc += n;
    }
    int64_t data_off = (int64_t)w->pos;
    if (out_write(w, c->chunk.data, c->chunk.len, errstr, es) != 0)
        return -1;
    unc += c->data_uncompressed;
    int64_t comp = (int64_t)(w->pos - start);

    pgcdc_thrift_elem_struct_begin(t); /* ColumnChunk */
    pgcdc_thrift_i64(t, 2, dict_off >= 0 ? dict_off : data_off);
    pgcdc_thrift_struct_begin(t, 3); /* ColumnMetaData */
    pgcdc_thrift_i32(t, 1, (int32_t)c->def.physical);
    int encs[3], ne = 0;
    if (c->plain_pages || dict_off >= 0)
        encs[ne++] = PQ_ENC_PLAIN;
    encs[ne++] = PQ_ENC_RLE;
    if (c->dict_pages)
        encs[ne++] = PQ_ENC_RLE_DICTIONARY;
    pgcdc_thrift_list_begin(t, 2, PGCDC_THRIFT_I32, (size_t)ne);
    for (int i = 0; i < ne; i++)
        pgcdc_thrift_elem_i32(t, encs[i]);
    pgcdc_thrift_list_begin(t, 3, PGCDC_THRIFT_BINARY, 1);
    pgcdc_thrift_elem_string(t, c->def.name);
    pgcdc_thrift_i32(t, 4, (int32_t)w->opts.codec);
    pgcdc_thrift_i64(t, 5, c->rg_values);
    pgcdc_thrift_i64(t, 6, unc);
    pgcdc_thrift_i64(t, 7, comp);
    pgcdc_thrift_i64(t, 9, data_off);
    if (dict_off >= 0)
        pgcdc_thrift_i64(t, 11, dict_off);
    write_stats(t, c);
    pgcdc_thrift_struct_end(t); /* ColumnMetaData */
    pgcdc_thrift_elem_struct_end(t);
    *total_unc += unc;
    *total_comp += comp;

    col_reset(w, c); /* the next chunk starts afresh */
    return 0;
}

int pgcdc_pq_writer_flush(pgcdc_pq_writer *w, char *errstr, size_t es)
{
    if (w->err[0])
        return report(w, errstr, es);
    if (w->finished) {
        snprintf(errstr, es, "parquet: the writer is finished");
        return -1;
    }
    if (w->rg_rows == 0)
        return 0;
    if (w->pos == 0 && out_write(w, PQ_MAGIC, 4, errstr, es) != 0)
        return -1;
    uint64_t rg_start = w->pos;
    pgcdc_thrift_w t;
    pgcdc_thrift_init(&t, &w->rgs);
    pgcdc_thrift_list_begin(&t, 1, PGCDC_THRIFT_STRUCT, (size_t)w->ncols);
    int64_t unc = 0, comp = 0;
    for (int i = 0; i < w->ncols; i++)
        if (flush_chunk(w, &w->cols[i], &t, &unc, &comp, errstr, es) != 0)
            return -1;
    pgcdc_thrift_i64(&t, 2, unc);
    pgcdc_thrift_i64(&t, 3, w->rg_rows);
    pgcdc_thrift_i64(&t, 5, (int64_t)rg_start);
    pgcdc_thrift_i64(&t, 6, comp);
    pgcdc_thrift_finish(&t);
    w->nrgs++;
    w->rg_rows = 0;
    return 0;
}

int pgcdc_pq_writer_end_row(pgcdc_pq_writer *w, char *errstr, size_t es)
{
    if (w->err[0])
        return report(w, errstr, es);
    int64_t want = w->rg_rows + 1;
    int page_full = 0;
    for (int i = 0; i < w->ncols; i++) {
        pq_col *c = &w->cols[i];
        if (c->rg_values != want) {
            fail(w, "parquet: row %lld has no value for column \"%s\"", (long long)w->rows,
                 c->def.name);
            return report(w, errstr, es);
        }
        if (c->dict_on && c->vals.len >= PQ_STAGE_BYTES && dict_encode_staged(w, c) != 0)
            return report(w, errstr, es);
        if (page_size(c) >= w->opts.page_bytes)
            page_full = 1;
    }
    w->rg_rows++;
    w->rows++;
    if (page_full) {
        size_t total = 0;
        for (int i = 0; i < w->ncols; i++) {
            pq_col *c = &w->cols[i];
            if (page_size(c) >= w->opts.page_bytes && flush_page(w, c) != 0)
                return report(w, errstr, es);
            total += c->chunk.len + c->dict.len + page_size(c);
        }
        if (total >= w->opts.row_group_bytes)
            return pgcdc_pq_writer_flush(w, errstr, es);
    }
    if (w->opts.row_group_rows > 0 && w->rg_rows >= w->opts.row_group_rows)
        return pgcdc_pq_writer_flush(w, errstr, es);
    return 0;
}

/* SchemaElement of one leaf column. */
static void schema_leaf(pgcdc_thrift_w *t, const pgcdc_pq_column *c)
{
    pgcdc_thrift_elem_struct_begin(t);
    pgcdc_thrift_i32(t, 1, (int32_t)c->physical);
    if (c->physical == PGCDC_PQ_FIXED_LEN_BYTE_ARRAY)
        pgcdc_thrift_i32(t, 2, c->type_length);
    pgcdc_thrift_i32(t, 3, c->nullable ? 1 : 0);
    pgcdc_thrift_string(t, 4, c->name);
    int ct = -1;
    switch (c->logical) {
    case PGCDC_PQ_LOGICAL_STRING:
        ct = PQ_CT_UTF8;
        break;
    case PGCDC_PQ_LOGICAL_JSON:
        ct = PQ_CT_JSON;
        break;
    case PGCDC_PQ_LOGICAL_DECIMAL:
        ct = PQ_CT_DECIMAL;
        break;
    case PGCDC_PQ_LOGICAL_DATE:
        ct = PQ_CT_DATE;
        break;
    case PGCDC_PQ_LOGICAL_TIME_MICROS:
        ct = c->utc ? PQ_CT_TIME_MICROS : -1; /* converted types imply UTC */
        break;
    case PGCDC_PQ_LOGICAL_TIMESTAMP_MICROS:
        ct = c->utc ? PQ_CT_TIMESTAMP_MICROS : -1;
        break;
    case PGCDC_PQ_LOGICAL_INT:
        ct = c->int_bits == 8    ? PQ_CT_INT_8
             : c->int_bits == 16 ? PQ_CT_INT_16
             : c->int_bits == 32 ? PQ_CT_INT_32
                                 : PQ_CT_INT_64;
        break;
    default:
        break;
    }
    if (ct >= 0)
        pgcdc_thrift_i32(t, 6, ct);
    if (c->logical == PGCDC_PQ_LOGICAL_DECIMAL) {
        pgcdc_thrift_i32(t, 7, c->scale);
        pgcdc_thrift_i32(t, 8, c->precision);
    }
    if (c->logical != PGCDC_PQ_LOGICAL_NONE) {
        pgcdc_thrift_struct_begin(t, 10); /* LogicalType union */
        switch (c->logical) {
        case PGCDC_PQ_LOGICAL_STRING:
            pgcdc_thrift_empty_struct(t, 1);
            break;
        case PGCDC_PQ_LOGICAL_JSON:
            pgcdc_thrift_empty_struct(t, 12);
            break;
        case PGCDC_PQ_LOGICAL_DECIMAL:
            pgcdc_thrift_struct_begin(t, 5);
            pgcdc_thrift_i32(t, 1, c->scale);
            pgcdc_thrift_i32(t, 2, c->precision);
            pgcdc_thrift_struct_end(t);
            break;
        case PGCDC_PQ_LOGICAL_DATE:
            pgcdc_thrift_empty_struct(t, 6);
            break;
        case PGCDC_PQ_LOGICAL_TIME_MICROS:
        case PGCDC_PQ_LOGICAL_TIMESTAMP_MICROS:
            pgcdc_thrift_struct_begin(t, c->logical == PGCDC_PQ_LOGICAL_TIME_MICROS ? 7 : 8);
            pgcdc_thrift_bool(t, 1, c->utc);
            pgcdc_thrift_struct_begin(t, 2); /* TimeUnit */
            pgcdc_thrift_empty_struct(t, 2); /* MICROS */
            pgcdc_thrift_struct_end(t);
            pgcdc_thrift_struct_end(t);
            break;
        case PGCDC_PQ_LOGICAL_INT:
            pgcdc_thrift_struct_begin(t, 10);
            pgcdc_thrift_byte(t, 1, (int8_t)c->int_bits);
            pgcdc_thrift_bool(t, 2, 1);
            pgcdc_thrift_struct_end(t);
            break;
        default:
            break;
        }
        pgcdc_thrift_struct_end(t);
    }
    pgcdc_thrift_elem_struct_end(t);
}

int pgcdc_pq_writer_finish(pgcdc_pq_writer *w, char *errstr, size_t es)
{
    if (pgcdc_pq_writer_flush(w, errstr, es) != 0)
        return -1;
    if (w->pos == 0 && out_write(w, PQ_MAGIC, 4, errstr, es) != 0)
        return -1;
    pgcdc_buf f = PGCDC_BUF_INIT;
    pgcdc_thrift_w t;
    pgcdc_thrift_init(&t, &f);
    pgcdc_thrift_i32(&t, 1, 2);
    pgcdc_thrift_list_begin(&t, 2, PGCDC_THRIFT_STRUCT, (size_t)w->ncols + 1);
    pgcdc_thrift_elem_struct_begin(&t); /* the root */
    pgcdc_thrift_string(&t, 4, "schema");
    pgcdc_thrift_i32(&t, 5, w->ncols);
    pgcdc_thrift_elem_struct_end(&t);
    for (int i = 0; i < w->ncols; i++)
        schema_leaf(&t, &w->cols[i].def);
    pgcdc_thrift_i64(&t, 3, w->rows);
    pgcdc_thrift_list_begin(&t, 4, PGCDC_THRIFT_STRUCT, w->nrgs);
    if (w->rgs.len)
        pgcdc_buf_append(&f, w->rgs.data, w->rgs.len);
    if (w->opts.nkv) {
        pgcdc_thrift_list_begin(&t, 5, PGCDC_THRIFT_STRUCT, w->opts.nkv);
        for (size_t i = 0; i < w->opts.nkv; i++) {
            pgcdc_thrift_elem_struct_begin(&t);
            pgcdc_thrift_string(&t, 1, w->kv[i].key);
            if (w->kv[i].value)
                pgcdc_thrift_string(&t, 2, w->kv[i].value);
            pgcdc_thrift_elem_struct_end(&t);
        }
    }
    pgcdc_thrift_string(&t, 6, w->created_by);
    pgcdc_thrift_list_begin(&t, 7, PGCDC_THRIFT_STRUCT, (size_t)w->ncols);
    for (int i = 0; i < w->ncols; i++) {
        pgcdc_thrift_elem_struct_begin(&t); /* ColumnOrder union */
        pgcdc_thrift_empty_struct(&t, 1);   /* TYPE_ORDER */
        pgcdc_thrift_elem_struct_end(&t);
    }
    pgcdc_thrift_finish(&t);
    uint32_t n = (uint32_t)f.len;
    unsigned char tail[8] = {(unsigned char)n,
                             (unsigned char)(n >> 8),
                             (unsigned char)(n >> 16),
                             (unsigned char)(n >> 24),
                             'P',
                             'A',
                             'R',
                             '1'};
    pgcdc_buf_append(&f, tail, 8);
    int r = out_write(w, f.data, f.len, errstr, es);
    pgcdc_buf_free(&f);
    if (r == 0)
        w->finished = 1;
    return r;
}
