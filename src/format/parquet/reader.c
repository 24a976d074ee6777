/*
 * reader.c - the Parquet file reader (see reader.h).
 *
 * Opening parses the footer into per-column schema entries and per-chunk
 * metadata, all checked against the file's size, so that reading pages
 * later can trust offsets but never the pages themselves. Reading is
 * column-wise in batches of PQ_BATCH values: each selected column decodes
 * its next batch of definition levels and values when its previous one is
 * used up (from the page under way, loading the next page when it is done),
 * and pgcdc_pq_reader_next only copies one value per column out of the
 * batches. A page's values are never decoded all at once, so a page header
 * claiming billions of values costs nothing until they are asked for, and
 * memory per column is bounded by the readahead window, one page, the
 * chunk's dictionary and one batch.
 *
 * Values of uncompressed data pages V1 are read in place from the window;
 * everything else is decompressed into the column's page buffer. Dictionary
 * entries point into the column's own copy of the dictionary page, which
 * lives as long as the chunk.
 */
#include <errno.h>
#include <limits.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "format/parquet/encoding.h"
#include "format/parquet/reader.h"
#include "format/parquet/thrift.h"

#define PQ_BATCH 1024
#define PQ_READAHEAD ((size_t)1 << 20)
#define PQ_MAX_PAGE ((size_t)1 << 30)
#define PQ_MAX_HEADER ((size_t)16 << 20) /* a page header (statistics included) */
#define PQ_MAX_FOOTER ((uint64_t)1 << 30)

/* One decoded value: the members pgcdc_pq_datum carries. */
typedef struct pq_val {
    pgcdc_pq_value v;
    const unsigned char *p;
    size_t len;
} pq_val;

/* A schema element as the footer gives it. */
typedef struct pq_elem {
    int type; /* -1: none (a group) */
    int type_length;
    int repetition; /* -1: none */
    const unsigned char *name;
    size_t name_len;
    int num_children; /* -1: none */
    int converted;    /* -1: none */
    int scale, precision;
    int logical; /* LogicalType union member, 0: none */
    int lt_scale, lt_precision;
    int lt_utc, lt_unit; /* TIME/TIMESTAMP: isAdjustedToUTC, TimeUnit member */
    int lt_bits, lt_signed;
} pq_elem;

typedef struct pq_chunk {
    pgcdc_pq_chunk_meta m;
    int type;                  /* -1: no ColumnMetaData */
    const unsigned char *path; /* path_in_schema's only element */
    size_t path_len;
    int path_n;
    int external; /* file_path or encrypted metadata given */
    uint64_t start, end;
} pq_chunk;

typedef struct pq_rg {
    int64_t rows;
    size_t first; /* index of its first chunk */
    size_t nchunks;
} pq_rg;

/* The page header fields the reader uses. */
typedef struct pq_page {
    int type;
    int64_t unc, comp;
    int64_t nvalues;
    int enc, def_enc;
    int64_t num_nulls;
    int64_t def_len, rep_len;
    int is_compressed;
    int has_header; /* the header struct of the page's type was present */
} pq_page;

typedef struct rd_col {
    int idx;
    const char *name;
    int physical;
    int max_def; /* 0 REQUIRED, 1 OPTIONAL */
    int width;   /* PLAIN bytes per value; 0 byte arrays; -1 booleans */

    /* the chunk under way */
    uint64_t pos, end;   /* file offsets: the next page header, the chunk's end */
    int64_t values_left; /* values of the chunk in pages not loaded yet */
    int data_seen;       /* a data page was loaded */
    pgcdc_buf win;       /* file bytes [win_off, win_off + win.len) */
    uint64_t win_off;
    int win_valid;
    pgcdc_buf page;  /* decompressed data page (values) */
    pgcdc_buf dpage; /* decompressed dictionary page */
    pq_val *dict;
    size_t ndict, dict_cap;
    int has_dict;

    /* the page under way */
    int64_t page_left; /* values (nulls included) not yet decoded */
    int all_defined;   /* V2 page without levels and nulls */
    pgcdc_pq_rle_dec levels;
    int enc;
    const unsigned char *vp, *vend; /* value bytes */
    uint64_t bit;                   /* PLAIN booleans: bit offset from vp */
    pgcdc_pq_rle_dec rle;           /* dictionary indices, RLE booleans */
    pgcdc_pq_delta_dec delta;       /* values, or byte-array lengths */
    pgcdc_pq_delta_dec prefix;      /* DELTA_BYTE_ARRAY prefix lengths */
    uint64_t bss_n, bss_i;          /* BYTE_STREAM_SPLIT: values in the page, next one */
    pgcdc_buf prev;                 /* DELTA_BYTE_ARRAY: the previous value */
    pgcdc_buf arena;                /* values built for the batch under way */

    /* the batch under way */
    int bn, bi, vi; /* levels in the batch, next level, next value */
    uint8_t lv[PQ_BATCH];
    pq_val val[PQ_BATCH];
    uint32_t tmp[PQ_BATCH];
    int64_t tmp64[PQ_BATCH];
} rd_col;

struct pgcdc_pq_reader {
    pgcdc_pq_read_fn read_at;
    void *ctx;
    uint64_t size;
    size_t readahead, max_page;

    pgcdc_buf footer;
    pgcdc_pq_column *cols;
    int ncols;
    int64_t num_rows;
    pq_rg *rgs;
    int nrgs;
    pq_chunk *chunks;
    size_t nchunks;
    pgcdc_pq_kv *kv;
    size_t nkv;
    char *created_by;

    rd_col *rc; /* per column */
    int *sel;   /* the columns next() fills, in order */
    int nsel;
    int started;
    int rg;          /* the next row group to open */
    int64_t rg_left; /* rows left in the row group under way */
    int cur_rg;      /* the row group under way (-1: none) */
    int64_t row;

    pgcdc_buf zbuf; /* scratch for decompression */
    ZSTD_DCtx *zctx;
    char err[512];
};

/* ------------------------------------------------------------------------ */

static int rfail(pgcdc_pq_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records the reader's first error; returns -1. */
static int rfail(pgcdc_pq_reader *r, const char *fmt, ...)
{
    if (r->err[0])
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    return -1;
}

static int report(const pgcdc_pq_reader *r, char *errstr, size_t es)
{
    snprintf(errstr, es, "%s", r->err);
    return -1;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort(); /* as pgcdc_buf: no safe way to go on without memory */
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

static char *xstrndup(const unsigned char *s, size_t n)
{
    char *p = xcalloc(n + 1, 1);
    if (n)
        memcpy(p, s, n);
    return p;
}

static const char *codec_name(int codec)
{
    static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                        "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
    return codec >= 0 && codec < 8 ? names[codec] : "unknown";
}

static const char *encoding_name(int enc)
{
    static const char *const names[] = {
        "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
        "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    return enc >= 0 && enc < 10 ? names[enc] : "unknown";
}

int pgcdc_pq_read_fd(void *ctx, uint64_t offset, void *buf, size_t len, char *errstr, size_t es)
{
    int fd = *(const int *)ctx;
    char *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(errstr, es, "read of %zu bytes at %llu: %s", len, (unsigned long long)offset,
                     n < 0 ? strerror(errno) : "end of file");
            return -1;
        }
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

/* read_at with the callback's message wrapped into the reader's error. */
static int read_bytes(pgcdc_pq_reader *r, uint64_t off, void *buf, size_t len)
{
    char e[300];
    e[0] = 0;
    if (r->read_at(r->ctx, off, buf, len, e, sizeof(e)) != 0)
        return rfail(r, "parquet: read failed: %s", e[0] ? e : "(no message)");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* footer                                                                    */
/* ------------------------------------------------------------------------ */

/* Fields of a LogicalType union into e. */
static void parse_logical(pgcdc_thrift_r *t, pq_elem *e)
{
    int16_t id, id2, id3;
    int ty, ty2, ty3;
    while (pgcdc_thrift_rfield(t, &id, &ty)) {
        if (ty != PGCDC_THRIFT_STRUCT || !pgcdc_thrift_rstruct(t, ty)) {
            pgcdc_thrift_rskip(t, ty);
            continue;
        }
        e->logical = id;
        while (pgcdc_thrift_rfield(t, &id2, &ty2)) {
            if (id == 5 && id2 == 1) /* DECIMAL */
                e->lt_scale = pgcdc_thrift_ri32(t, ty2, INT32_MIN, INT32_MAX);
            else if (id == 5 && id2 == 2)
                e->lt_precision = pgcdc_thrift_ri32(t, ty2, INT32_MIN, INT32_MAX);
            else if ((id == 7 || id == 8) && id2 == 1) /* TIME, TIMESTAMP */
                e->lt_utc = (int)pgcdc_thrift_rint(t, ty2);
            else if ((id == 7 || id == 8) && id2 == 2 && pgcdc_thrift_rstruct(t, ty2)) {
                while (pgcdc_thrift_rfield(t, &id3, &ty3)) { /* TimeUnit */
                    e->lt_unit = id3;
                    pgcdc_thrift_rskip(t, ty3);
                }
            } else if (id == 10 && id2 == 1) /* INTEGER */
                e->lt_bits = (int)pgcdc_thrift_rint(t, ty2);
            else if (id == 10 && id2 == 2)
                e->lt_signed = (int)pgcdc_thrift_rint(t, ty2);
            else
                pgcdc_thrift_rskip(t, ty2);
        }
    }
}

static void parse_elem(pgcdc_thrift_r *t, pq_elem *e)
{
    memset(e, 0, sizeof(*e));
    e->type = e->repetition = e->num_children = e->converted = -1;
    e->lt_signed = 1;
    int16_t id;
    int ty;
    while (pgcdc_thrift_rfield(t, &id, &ty)) {
        switch (id) {
        case 1:
            e->type = pgcdc_thrift_ri32(t, ty, 0, 7);
            break;
        case 2:
            e->type_length = pgcdc_thrift_ri32(t, ty, INT32_MIN, INT32_MAX);
            break;
        case 3:
            e->repetition = pgcdc_thrift_ri32(t, ty, 0, 2);
            break;
        case 4:
            e->name = pgcdc_thrift_rbinary(t, ty, &e->name_len);
            break;
        case 5:
            e->num_children = pgcdc_thrift_ri32(t, ty, 0, INT32_MAX);
            break;
        case 6:
            e->converted = pgcdc_thrift_ri32(t, ty, 0, INT32_MAX);
            break;
        case 7:
            e->scale = pgcdc_thrift_ri32(t, ty, INT32_MIN, INT32_MAX);
            break;
        case 8:
            e->precision = pgcdc_thrift_ri32(t, ty, INT32_MIN, INT32_MAX);
            break;
        case 10:
            if (pgcdc_thrift_rstruct(t, ty))
                parse_logical(t, e);
            break;
        default:
            pgcdc_thrift_rskip(t, ty);
        }
    }
}

static void parse_stats(pgcdc_thrift_r *t, pgcdc_pq_chunk_meta *m, int legacy_ok)
{
    const unsigned char *lmin = NULL, *lmax = NULL;
    size_t lmin_len = 0, lmax_len = 0;
    int16_t id;
    int ty;
    while (pgcdc_thrift_rfield(t, &id, &ty)) {
        switch (id) {
        case 1:
            lmax = pgcdc_thrift_rbinary(t, ty, &lmax_len);
            break;
        case 2:
            lmin = pgcdc_thrift_rbinary(t, ty, &lmin_len);
            break;
        case 3:
            m->null_count = pgcdc_thrift_rint(t, ty);
            break;
        case 5:
            m->max = pgcdc_thrift_rbinary(t, ty, &m->max_len);
            break;
        case 6:
            m->min = pgcdc_thrift_rbinary(t, ty, &m->min_len);
            break;
        default:
            pgcdc_thrift_rskip(t, ty);
        }
    }
    /* the legacy min/max are trusted only where their (signed) order is
     * the type's order */
    if (legacy_ok && !m->min && !m->max && lmin && lmax) {
        m->min = lmin;
        m->min_len = lmin_len;
        m->max = lmax;
        m->max_len = lmax_len;
    }
}

static void parse_column_meta(pgcdc_thrift_r *t, pq_chunk *c)
{
    int16_t id;
    int ty, et;
    const unsigned char *stats_at = NULL;
    size_t stats_len = 0;
    while (pgcdc_thrift_rfield(t, &id, &ty)) {
        switch (id) {
        case 1:
            c->type = pgcdc_thrift_ri32(t, ty, 0, 7);
            break;
        case 2: {
            size_t n = pgcdc_thrift_rlist(t, ty, &et);
            for (size_t i = 0; i < n && !t->err; i++) {
                int64_t e = pgcdc_thrift_relem_int(t, et);
                if (e >= 0 && e < 32)
                    c->m.encodings |= 1u << e;
            }
            break;
        }
        case 3: {
            size_t n = pgcdc_thrift_rlist(t, ty, &et);
            c->path_n = (int)(n > INT_MAX ? INT_MAX : n);
            for (size_t i = 0; i < n && !t->err; i++) {
                size_t len;
                const unsigned char *p = pgcdc_thrift_relem_binary(t, et, &len);
                if (i == 0) {
                    c->path = p;
                    c->path_len = len;
                }
            }
            break;
        }
        case 4:
            c->m.codec = pgcdc_thrift_ri32(t, ty, 0, INT32_MAX);
            break;
        case 5:
            c->m.num_values = pgcdc_thrift_rint(t, ty);
            break;
        case 6:
            c->m.total_uncompressed_size = pgcdc_thrift_rint(t, ty);
            break;
        case 7:
            c->m.total_compressed_size = pgcdc_thrift_rint(t, ty);
            break;
        case 9:
            c->m.data_page_offset = pgcdc_thrift_rint(t, ty);
            break;
        case 11:
            c->m.dictionary_page_offset = pgcdc_thrift_rint(t, ty);
            break;
        case 12:
            /* parsed once the type is known (the legacy min/max depend on it) */
            stats_at = t->p;
            pgcdc_thrift_rskip(t, ty);
            stats_len = (size_t)(t->p - stats_at);
            if (ty != PGCDC_THRIFT_STRUCT)
                stats_at = NULL;
            break;
        default:
            pgcdc_thrift_rskip(t, ty);
        }
    }
    if (stats_at && !t->err) {
        pgcdc_thrift_r s;
        pgcdc_thrift_rinit(&s, stats_at, stats_len);
        int legacy = c->type == PGCDC_PQ_BOOLEAN || c->type == PGCDC_PQ_INT32 ||
                     c->type == PGCDC_PQ_INT64 || c->type == PGCDC_PQ_FLOAT ||
                     c->type == PGCDC_PQ_DOUBLE;
        parse_stats(&s, &c->m, legacy);
        if (s.err)
            t->err = s.err;
    }
}

static void parse_chunk(pgcdc_thrift_r *t, pq_chunk *c)
{
    memset(c, 0, sizeof(*c));
    c->type = -1;
    c->m.dictionary_page_offset = -1;
    c->m.null_count = -1;
    c->m.codec = -1;
    int16_t id;
    int ty;
    while (pgcdc_thrift_rfield(t, &id, &ty)) {
        if (id == 1 || id == 9) { /* file_path, encrypted_column_metadata */
            c->external = 1;
            pgcdc_thrift_rskip(t, ty);
        } else if (id == 3 && pgcdc_thrift_rstruct(t, ty)) {
            parse_column_meta(t, c);
        } else if (id != 3) {
            pgcdc_thrift_rskip(t, ty);
        }
    }
}

static void parse_row_group(pgcdc_pq_reader *r, pgcdc_thrift_r *t, pq_rg *g)
{
    memset(g, 0, sizeof(*g));
    g->rows = -1;
    g->first = r->nchunks;
    int16_t id;
    int ty, et;
    while (pgcdc_thrift_rfield(t, &id, &ty)) {
        if (id == 1 && g->nchunks == 0) {
            size_t n = pgcdc_thrift_rlist(t, ty, &et);
            r->chunks = xrealloc(r->chunks, sizeof(pq_chunk) * (r->nchunks + n));
            for (size_t i = 0; i < n && !t->err; i++)
                if (pgcdc_thrift_rstruct(t, et))
                    parse_chunk(t, &r->chunks[r->nchunks + g->nchunks++]);
            r->nchunks += g->nchunks;
        } else if (id == 3) {
            g->rows = pgcdc_thrift_rint(t, ty);
        } else {
            pgcdc_thrift_rskip(t, ty);
        }
    }
}

/* Parses FileMetaData; schema elements into *elems (allocated). */
static int parse_footer(pgcdc_pq_reader *r, pq_elem **elems, size_t *nelems)
{
    pgcdc_thrift_r t;
    pgcdc_thrift_rinit(&t, r->footer.data, r->footer.len);
    int16_t id;
    int ty, et;
    int have_schema = 0, have_rows = 0, have_rgs = 0;
    while (pgcdc_thrift_rfield(&t, &id, &ty)) {
        switch (id) {
        case 2: {
            if (have_schema) {
                pgcdc_thrift_rskip(&t, ty);
                break;
            }
            size_t n = pgcdc_thrift_rlist(&t, ty, &et);
            *elems = xcalloc(n, sizeof(pq_elem));
            for (size_t i = 0; i < n && !t.err; i++)
                if (pgcdc_thrift_rstruct(&t, et))
                    parse_elem(&t, &(*elems)[(*nelems)++]);
            have_schema = 1;
            break;
        }
        case 3:
            r->num_rows = pgcdc_thrift_rint(&t, ty);
            have_rows = 1;
            break;
        case 4: {
            if (have_rgs) {
                pgcdc_thrift_rskip(&t, ty);
                break;
            }
            size_t n = pgcdc_thrift_rlist(&t, ty, &et);
            if (n > INT_MAX / 2)
                n = 0;
            r->rgs = xcalloc(n, sizeof(pq_rg));
            for (size_t i = 0; i < n && !t.err; i++)
                if (pgcdc_thrift_rstruct(&t, et))
                    parse_row_group(r, &t, &r->rgs[r->nrgs++]);
            have_rgs = 1;
            break;
        }
        case 5: {
            if (r->kv) { /* (a field given twice: the first counts) */
                pgcdc_thrift_rskip(&t, ty);
                break;
            }
            size_t n = pgcdc_thrift_rlist(&t, ty, &et);
            r->kv = xcalloc(n, sizeof(pgcdc_pq_kv));
            for (size_t i = 0; i < n && !t.err; i++) {
                if (!pgcdc_thrift_rstruct(&t, et))
                    break;
                pgcdc_pq_kv *kv = &r->kv[r->nkv++];
                int16_t kid;
                int kty;
                while (pgcdc_thrift_rfield(&t, &kid, &kty)) {
                    size_t len;
                    const unsigned char *p;
                    if ((kid == 1 || kid == 2) && (p = pgcdc_thrift_rbinary(&t, kty, &len))) {
                        char **dst = (char **)(kid == 1 ? &kv->key : &kv->value);
                        free(*dst);
                        *dst = xstrndup(p, len);
                    } else if (kid != 1 && kid != 2) {
                        pgcdc_thrift_rskip(&t, kty);
                    }
                }
                if (!kv->key)
                    kv->key = xstrndup(NULL, 0);
            }
            break;
        }
        case 6: {
            size_t len;
            const unsigned char *p = pgcdc_thrift_rbinary(&t, ty, &len);
            if (p) {
                free(r->created_by);
                r->created_by = xstrndup(p, len);
            }
            break;
        }
        case 8:
            return rfail(r, "parquet: encrypted files are not supported");
        default:
            pgcdc_thrift_rskip(&t, ty);
        }
    }
    if (t.err)
        return rfail(r, "parquet: malformed footer (Thrift FileMetaData, byte %zu of %zu)",
                     pgcdc_thrift_rpos(&t), r->footer.len);
    if (!have_schema || !have_rows || !have_rgs)
        return rfail(r, "parquet: the footer has no %s",
                     !have_schema ? "schema"
                     : !have_rows ? "num_rows"
                                  : "row_groups");
    return 0;
}

/* Maps a leaf schema element to the writer's column description. */
static int map_column(pgcdc_pq_reader *r, const pq_elem *e, pgcdc_pq_column *c)
{
    const char *name = c->name;
    c->physical = (pgcdc_pq_physical)e->type;
    c->nullable = e->repetition == 1;
    if (e->type == PGCDC_PQ_FIXED_LEN_BYTE_ARRAY) {
        if (e->type_length < 1 || e->type_length > (1 << 24))
            return rfail(r, "parquet: column \"%s\": FIXED_LEN_BYTE_ARRAY of length %d", name,
                         e->type_length);
        c->type_length = e->type_length;
    }
    if (e->type == PGCDC_PQ_INT96)
        c->type_length = 12;
    int ok = 1;
    int is_int = e->type == PGCDC_PQ_INT32 || e->type == PGCDC_PQ_INT64;
    if (e->logical) {
        switch (e->logical) {
        case 1: /* STRING */
            c->logical = PGCDC_PQ_LOGICAL_STRING;
            break;
        case 4:
            c->logical = PGCDC_PQ_LOGICAL_ENUM;
            break;
        case 5:
            c->logical = PGCDC_PQ_LOGICAL_DECIMAL;
            c->precision = e->lt_precision;
            c->scale = e->lt_scale;
            break;
        case 6:
            c->logical = PGCDC_PQ_LOGICAL_DATE;
            break;
        case 7:
        case 8: {
            static const pgcdc_pq_logical t[2][3] = {
                {PGCDC_PQ_LOGICAL_TIME_MILLIS, PGCDC_PQ_LOGICAL_TIME_MICROS,
                 PGCDC_PQ_LOGICAL_TIME_NANOS},
                {PGCDC_PQ_LOGICAL_TIMESTAMP_MILLIS, PGCDC_PQ_LOGICAL_TIMESTAMP_MICROS,
                 PGCDC_PQ_LOGICAL_TIMESTAMP_NANOS}};
            if (e->lt_unit < 1 || e->lt_unit > 3)
                return rfail(r, "parquet: column \"%s\": time unit %d is unknown", name,
                             e->lt_unit);
            c->logical = t[e->logical == 8][e->lt_unit - 1];
            c->utc = e->lt_utc != 0;
            break;
        }
        case 10:
            c->logical = e->lt_signed ? PGCDC_PQ_LOGICAL_INT : PGCDC_PQ_LOGICAL_UINT;
            c->int_bits = e->lt_bits;
            break;
        case 11:
            c->logical = PGCDC_PQ_LOGICAL_UNKNOWN;
            break;
        case 12:
            c->logical = PGCDC_PQ_LOGICAL_JSON;
            break;
        case 13:
            c->logical = PGCDC_PQ_LOGICAL_BSON;
            break;
        case 14:
            c->logical = PGCDC_PQ_LOGICAL_UUID;
            break;
        case 15:
            c->logical = PGCDC_PQ_LOGICAL_FLOAT16;
            break;
        default: /* MAP, LIST on a leaf, VARIANT, GEOMETRY...: the physical values */
            break;
        }
    } else if (e->converted >= 0) {
        int ct = e->converted;
        if (ct == PQ_CT_UTF8)
            c->logical = PGCDC_PQ_LOGICAL_STRING;
        else if (ct == PQ_CT_ENUM)
            c->logical = PGCDC_PQ_LOGICAL_ENUM;
        else if (ct == PQ_CT_DECIMAL) {
            c->logical = PGCDC_PQ_LOGICAL_DECIMAL;
            c->precision = e->precision;
            c->scale = e->scale;
        } else if (ct == PQ_CT_DATE)
            c->logical = PGCDC_PQ_LOGICAL_DATE;
        else if (ct >= PQ_CT_TIME_MILLIS && ct <= PQ_CT_TIMESTAMP_MICROS) {
            static const pgcdc_pq_logical t[] = {
                PGCDC_PQ_LOGICAL_TIME_MILLIS, PGCDC_PQ_LOGICAL_TIME_MICROS,
                PGCDC_PQ_LOGICAL_TIMESTAMP_MILLIS, PGCDC_PQ_LOGICAL_TIMESTAMP_MICROS};
            c->logical = t[ct - PQ_CT_TIME_MILLIS];
            c->utc = 1; /* what the converted types mean */
        } else if (ct >= PQ_CT_UINT_8 && ct <= PQ_CT_INT_64) {
            c->logical = ct >= PQ_CT_INT_8 ? PGCDC_PQ_LOGICAL_INT : PGCDC_PQ_LOGICAL_UINT;
            c->int_bits = 8 << ((ct - PQ_CT_UINT_8) % 4);
        } else if (ct == PQ_CT_JSON)
            c->logical = PGCDC_PQ_LOGICAL_JSON;
        else if (ct == PQ_CT_BSON)
            c->logical = PGCDC_PQ_LOGICAL_BSON;
        else if (ct == PQ_CT_INTERVAL)
            c->logical = PGCDC_PQ_LOGICAL_INTERVAL;
    }
    switch (c->logical) {
    case PGCDC_PQ_LOGICAL_STRING:
    case PGCDC_PQ_LOGICAL_JSON:
    case PGCDC_PQ_LOGICAL_ENUM:
    case PGCDC_PQ_LOGICAL_BSON:
        ok = e->type == PGCDC_PQ_BYTE_ARRAY;
        break;
    case PGCDC_PQ_LOGICAL_DECIMAL:
        ok = (is_int || e->type == PGCDC_PQ_BYTE_ARRAY ||
              e->type == PGCDC_PQ_FIXED_LEN_BYTE_ARRAY) &&
             c->precision >= 1 && c->scale >= 0 && c->scale <= c->precision;
        break;
    case PGCDC_PQ_LOGICAL_DATE:
    case PGCDC_PQ_LOGICAL_TIME_MILLIS:
        ok = e->type == PGCDC_PQ_INT32;
        break;
    case PGCDC_PQ_LOGICAL_TIME_MICROS:
    case PGCDC_PQ_LOGICAL_TIME_NANOS:
    case PGCDC_PQ_LOGICAL_TIMESTAMP_MILLIS:
    case PGCDC_PQ_LOGICAL_TIMESTAMP_MICROS:
    case PGCDC_PQ_LOGICAL_TIMESTAMP_NANOS:
        ok = e->type == PGCDC_PQ_INT64;
        break;
    case PGCDC_PQ_LOGICAL_INT:
    case PGCDC_PQ_LOGICAL_UINT:
        ok = (e->type == PGCDC_PQ_INT32 &&
              (c->int_bits == 8 || c->int_bits == 16 || c->int_bits == 32)) ||
             (e->type == PGCDC_PQ_INT64 && c->int_bits == 64);
        break;
    case PGCDC_PQ_LOGICAL_UUID:
        ok = e->type == PGCDC_PQ_FIXED_LEN_BYTE_ARRAY && c->type_length == 16;
        break;
    case PGCDC_PQ_LOGICAL_FLOAT16:
        ok = e->type == PGCDC_PQ_FIXED_LEN_BYTE_ARRAY && c->type_length == 2;
        break;
    case PGCDC_PQ_LOGICAL_INTERVAL:
        ok = e->type == PGCDC_PQ_FIXED_LEN_BYTE_ARRAY && c->type_length == 12;
        break;
    default:
        break;
    }
    if (!ok)
        return rfail(r,
                     "parquet: column \"%s\": logical type %d does not fit physical type %d "
                     "(precision %d, scale %d, length %d, int bits %d)",
                     name, (int)c->logical, e->type, c->precision, c->scale, c->type_length,
                     c->int_bits);
    return 0;
}

/* Checks the schema is flat and builds the columns. */
static int build_schema(pgcdc_pq_reader *r, const pq_elem *el, size_t n)
{
    if (n < 1)
        return rfail(r, "parquet: the schema is empty");
    if (el[0].num_children < 1)
        return rfail(r, "parquet: the schema has no columns");
    for (size_t i = 1; i < n; i++) {
        const pq_elem *e = &el[i];
        char name[200];
        snprintf(name, sizeof(name), "%.*s", (int)(e->name_len < 190 ? e->name_len : 190),
                 e->name ? (const char *)e->name : "");
        if (e->num_children > 0 || e->type < 0)
            return rfail(r,
                         "parquet: column \"%s\" is a group (nested columns are not "
                         "supported: only flat schemas are read)",
                         name);
        if (e->repetition == 2)
            return rfail(r,
                         "parquet: column \"%s\" is repeated (lists are not supported: only "
                         "flat schemas are read)",
                         name);
        if (e->repetition < 0)
            return rfail(r, "parquet: column \"%s\" has no repetition type", name);
    }
    if ((size_t)el[0].num_children != n - 1)
        return rfail(r, "parquet: the schema's root has %d children but %zu columns follow",
                     el[0].num_children, n - 1);
    r->ncols = (int)(n - 1);
    r->cols = xcalloc(n - 1, sizeof(pgcdc_pq_column));
    for (int i = 0; i < r->ncols; i++) {
        const pq_elem *e = &el[i + 1];
        r->cols[i].name = xstrndup(e->name, e->name ? e->name_len : 0);
        if (e->type == PGCDC_PQ_INT96) /* INT96 */
            r->cols[i].type_length = 12;
        if (map_column(r, e, &r->cols[i]) != 0)
            return -1;
    }
    return 0;
}

/* Checks the row groups and chunks against the schema and file size. */
static int check_chunks(pgcdc_pq_reader *r, uint64_t footer_start)
{
    int64_t total = 0;
    for (int g = 0; g < r->nrgs; g++) {
        pq_rg *rg = &r->rgs[g];
        if (rg->rows < 0)
            return rfail(r, "parquet: row group %d has no valid num_rows", g);
        if (rg->rows > INT64_MAX - total)
            return rfail(r, "parquet: row group %d: row counts overflow", g);
        total += rg->rows;
        if (rg->nchunks != (size_t)r->ncols)
            return rfail(r, "parquet: row group %d has %zu column chunks for %d columns", g,
                         rg->nchunks, r->ncols);
        for (int i = 0; i < r->ncols; i++) {
            pq_chunk *c = &r->chunks[rg->first + (size_t)i];
            const pgcdc_pq_column *col = &r->cols[i];
            if (c->external)
                return rfail(r,
                             "parquet: row group %d, column \"%s\": the chunk is in another "
                             "file or encrypted (not supported)",
                             g, col->name);
            if (c->type < 0)
                return rfail(r, "parquet: row group %d, column \"%s\": no column metadata", g,
                             col->name);
            if (c->type != (int)col->physical)
                return rfail(r,
                             "parquet: row group %d, column \"%s\": chunk of physical type %d, "
                             "schema says %d",
                             g, col->name, c->type, (int)col->physical);
            if (c->path_n != 1 || c->path_len != strlen(col->name) ||
                (c->path_len && memcmp(c->path, col->name, c->path_len) != 0))
                return rfail(r,
                             "parquet: row group %d, column %d: the chunk's path is not the "
                             "column \"%s\"",
                             g, i, col->name);
            int codec = c->m.codec;
            if (codec != PGCDC_PQ_UNCOMPRESSED && codec != PGCDC_PQ_SNAPPY &&
                codec != PGCDC_PQ_ZSTD && codec != PGCDC_PQ_GZIP)
                return rfail(r,
                             "parquet: column \"%s\": codec %d (%s) is not supported (none, "
                             "snappy, gzip, zstd are)",
                             col->name, codec, codec_name(codec));
            if (c->m.num_values != rg->rows)
                return rfail(r, "parquet: row group %d, column \"%s\": %lld values for %lld rows",
                             g, col->name, (long long)c->m.num_values, (long long)rg->rows);
            if (rg->rows == 0) { /* never read (pyarrow leaves its offsets 0) */
                c->start = c->end = 0;
                continue;
            }
            int64_t off = c->m.data_page_offset;
            int64_t dict = c->m.dictionary_page_offset;
            if (dict > 0 && dict < off)
                off = dict;
            int64_t len = c->m.total_compressed_size;
            if (off < 4 || len < 0 || (uint64_t)off > footer_start ||
                (uint64_t)len > footer_start - (uint64_t)off || len == 0)
                return rfail(r,
                             "parquet: row group %d, column \"%s\": chunk at %lld of %lld bytes "
                             "lies outside the file's data (%llu bytes)",
                             g, col->name, (long long)off, (long long)len,
                             (unsigned long long)footer_start);
            c->start = (uint64_t)off;
            c->end = (uint64_t)off + (uint64_t)len;
        }
    }
    if (total != r->num_rows)
        return rfail(r, "parquet: the footer says %lld rows, its row groups hold %lld",
                     (long long)r->num_rows, (long long)total);
    return 0;
}

int pgcdc_pq_reader_open(pgcdc_pq_reader **out, pgcdc_pq_read_fn read_at, void *ctx, uint64_t size,
                         char *errstr, size_t es)
{
    *out = NULL;
    pgcdc_pq_reader *r = xcalloc(1, sizeof(*r));
    r->read_at = read_at;
    r->ctx = ctx;
    r->size = size;
    r->readahead = PQ_READAHEAD;
    r->max_page = PQ_MAX_PAGE;
    r->cur_rg = -1;
    pq_elem *elems = NULL;
    size_t nelems = 0;
    unsigned char head[4], tail[8];
    if (size < 12) {
        rfail(r, "parquet: a file of %llu bytes is too small to be Parquet",
              (unsigned long long)size);
        goto fail;
    }
    if (read_bytes(r, 0, head, 4) != 0 || read_bytes(r, size - 8, tail, 8) != 0)
        goto fail;
    if (memcmp(tail + 4, "PARE", 4) == 0) {
        rfail(r, "parquet: encrypted files are not supported");
        goto fail;
    }
    if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0) {
        rfail(r, "parquet: not a Parquet file (no PAR1 magic at its %s)",
              memcmp(head, "PAR1", 4) != 0 ? "start" : "end");
        goto fail;
    }
    uint64_t flen = (uint64_t)tail[0] | (uint64_t)tail[1] << 8 | (uint64_t)tail[2] << 16 |
                    (uint64_t)tail[3] << 24;
    if (flen == 0 || flen > size - 12 || flen > PQ_MAX_FOOTER) {
        rfail(r, "parquet: footer length %llu does not fit a file of %llu bytes",
              (unsigned long long)flen, (unsigned long long)size);
        goto fail;
    }
    uint64_t footer_start = size - 8 - flen;
    pgcdc_buf_reserve(&r->footer, (size_t)flen);
    if (read_bytes(r, footer_start, r->footer.data, (size_t)flen) != 0)
        goto fail;
    r->footer.len = (size_t)flen;
    if (parse_footer(r, &elems, &nelems) != 0 || build_schema(r, elems, nelems) != 0 ||
        check_chunks(r, footer_start) != 0)
        goto fail;
    free(elems);
    r->rc = xcalloc((size_t)r->ncols, sizeof(rd_col));
    r->sel = xcalloc((size_t)r->ncols, sizeof(int));
    r->nsel = r->ncols;
    for (int i = 0; i < r->ncols; i++) {
        rd_col *c = &r->rc[i];
        const pgcdc_pq_column *col = &r->cols[i];
        r->sel[i] = i;
        c->idx = i;
        c->name = col->name;
        c->physical = (int)col->physical;
        c->max_def = col->nullable;
        switch (col->physical) {
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
        case PGCDC_PQ_BYTE_ARRAY:
            c->width = 0;
            break;
        default: /* INT96, FIXED_LEN_BYTE_ARRAY */
            c->width = col->type_length;
        }
    }
    *out = r;
    return 0;
fail:
    free(elems);
    report(r, errstr, es);
    pgcdc_pq_reader_free(r);
    return -1;
}

void pgcdc_pq_reader_free(pgcdc_pq_reader *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->ncols; i++)
        free((char *)r->cols[i].name);
    free(r->cols);
    for (size_t i = 0; i < r->nkv; i++) {
        free((char *)r->kv[i].key);
        free((char *)r->kv[i].value);
    }
    free(r->kv);
    free(r->created_by);
    free(r->rgs);
    free(r->chunks);
    if (r->rc) {
        for (int i = 0; i < r->ncols; i++) {
            rd_col *c = &r->rc[i];
            pgcdc_buf_free(&c->win);
            pgcdc_buf_free(&c->page);
            pgcdc_buf_free(&c->dpage);
            pgcdc_buf_free(&c->prev);
            pgcdc_buf_free(&c->arena);
            free(c->dict);
        }
    }
    free(r->rc);
    free(r->sel);
    pgcdc_buf_free(&r->footer);
    pgcdc_buf_free(&r->zbuf);
    ZSTD_freeDCtx(r->zctx);
    free(r);
}

void pgcdc_pq_reader_set_readahead(pgcdc_pq_reader *r, size_t bytes)
{
    r->readahead = bytes ? bytes : PQ_READAHEAD;
}

void pgcdc_pq_reader_set_max_page(pgcdc_pq_reader *r, size_t bytes)
{
    r->max_page = bytes ? bytes : PQ_MAX_PAGE;
}

int pgcdc_pq_reader_ncols(const pgcdc_pq_reader *r)
{
    return r->ncols;
}

const pgcdc_pq_column *pgcdc_pq_reader_columns(const pgcdc_pq_reader *r)
{
    return r->cols;
}

const pgcdc_pq_column *pgcdc_pq_reader_column(const pgcdc_pq_reader *r, int col)
{
    return col >= 0 && col < r->ncols ? &r->cols[col] : NULL;
}

int pgcdc_pq_reader_find(const pgcdc_pq_reader *r, const char *name)
{
    for (int i = 0; i < r->ncols; i++)
        if (strcmp(r->cols[i].name, name) == 0)
            return i;
    return -1;
}

int64_t pgcdc_pq_reader_num_rows(const pgcdc_pq_reader *r)
{
    return r->num_rows;
}

int pgcdc_pq_reader_num_row_groups(const pgcdc_pq_reader *r)
{
    return r->nrgs;
}

int64_t pgcdc_pq_reader_row_group_rows(const pgcdc_pq_reader *r, int rg)
{
    return rg >= 0 && rg < r->nrgs ? r->rgs[rg].rows : -1;
}

const pgcdc_pq_chunk_meta *pgcdc_pq_reader_chunk(const pgcdc_pq_reader *r, int rg, int col)
{
    if (rg < 0 || rg >= r->nrgs || col < 0 || col >= r->ncols)
        return NULL;
    return &r->chunks[r->rgs[rg].first + (size_t)col].m;
}

const pgcdc_pq_kv *pgcdc_pq_reader_kv(const pgcdc_pq_reader *r, size_t *n)
{
    *n = r->nkv;
    return r->kv;
}

const char *pgcdc_pq_reader_created_by(const pgcdc_pq_reader *r)
{
    return r->created_by;
}

int64_t pgcdc_pq_reader_row(const pgcdc_pq_reader *r)
{
    return r->row;
}

int pgcdc_pq_reader_select(pgcdc_pq_reader *r, const int *cols, int n, char *errstr, size_t es)
{
    if (r->started) {
        snprintf(errstr, es, "parquet: columns are selected before the first row is read");
        return -1;
    }
    if (n < 0 || n > r->ncols) {
        snprintf(errstr, es, "parquet: %d columns selected of %d", n, r->ncols);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (cols[i] < 0 || cols[i] >= r->ncols) {
            snprintf(errstr, es, "parquet: column %d does not exist (%d columns)", cols[i],
                     r->ncols);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (cols[j] == cols[i]) {
                snprintf(errstr, es, "parquet: column \"%s\" selected twice",
                         r->cols[cols[i]].name);
                return -1;
            }
    }
    memcpy(r->sel, cols, sizeof(int) * (size_t)n);
    r->nsel = n;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* pages                                                                     */
/* ------------------------------------------------------------------------ */

/* Makes [pos, pos + need) of column c's chunk available in its window,
 * reading readahead bytes (up to the chunk's end) at once. Returns a
 * pointer to pos's byte, or NULL after recording an error. */
static const unsigned char *col_window(pgcdc_pq_reader *r, rd_col *c, uint64_t pos, uint64_t need)
{
    if (c->win_valid && pos >= c->win_off && pos - c->win_off <= c->win.len &&
        need <= c->win.len - (pos - c->win_off))
        return (const unsigned char *)c->win.data + (pos - c->win_off);
    if (pos > c->end || need > c->end - pos) {
        rfail(r, "parquet: column \"%s\": a page runs past the end of its column chunk", c->name);
        return NULL;
    }
    uint64_t len = need > r->readahead ? need : r->readahead;
    if (len > c->end - pos)
        len = c->end - pos;
    c->win_valid = 0;
    pgcdc_buf_reset(&c->win);
    pgcdc_buf_reserve(&c->win, (size_t)len);
    if (read_bytes(r, pos, c->win.data, (size_t)len) != 0)
        return NULL;
    c->win.len = (size_t)len;
    c->win_off = pos;
    c->win_valid = 1;
    return (const unsigned char *)c->win.data;
}

static void parse_page_header(pgcdc_thrift_r *t, pq_page *h)
{
    memset(h, 0, sizeof(*h));
    h->type = -1;
    h->unc = h->comp = -1;
    h->nvalues = -1;
    h->enc = h->def_enc = -1;
    h->is_compressed = 1;
    int16_t id, id2;
    int ty, ty2;
    while (pgcdc_thrift_rfield(t, &id, &ty)) {
        if (id == 1) {
            h->type = pgcdc_thrift_ri32(t, ty, INT32_MIN, INT32_MAX);
        } else if (id == 2) {
            h->unc = pgcdc_thrift_ri32(t, ty, INT32_MIN, INT32_MAX);
        } else if (id == 3) {
            h->comp = pgcdc_thrift_ri32(t, ty, INT32_MIN, INT32_MAX);
        } else if ((id == 5 || id == 7 || id == 8) && pgcdc_thrift_rstruct(t, ty)) {
            if (h->type == (id == 5   ? PQ_PAGE_DATA
                            : id == 7 ? PQ_PAGE_DICTIONARY
                                      : PQ_PAGE_DATA_V2))
                h->has_header = 1;
            while (pgcdc_thrift_rfield(t, &id2, &ty2)) {
                int32_t v = 0;
                if (ty2 >= PGCDC_THRIFT_TRUE && ty2 <= PGCDC_THRIFT_I64)
                    v = (int32_t)pgcdc_thrift_rint(t, ty2);
                else /* statistics, fields of later format versions */
                    pgcdc_thrift_rskip(t, ty2);
                if (id2 == 1)
                    h->nvalues = v;
                else if (id == 8 ? id2 == 4 : id2 == 2)
                    h->enc = v;
                else if (id == 5 && id2 == 3)
                    h->def_enc = v;
                else if (id == 8 && id2 == 2)
                    h->num_nulls = v;
                else if (id == 8 && id2 == 5)
                    h->def_len = v;
                else if (id == 8 && id2 == 6)
                    h->rep_len = v;
                else if (id == 8 && id2 == 7)
                    h->is_compressed = v != 0;
            }
        } else if (id != 5 && id != 7 && id != 8) {
            pgcdc_thrift_rskip(t, ty);
        }
    }
}

/* Decompresses src into dst (exactly unc bytes). */
static int decompress(pgcdc_pq_reader *r, rd_col *c, int codec, const unsigned char *src,
                      size_t slen, pgcdc_buf *dst, size_t unc)
{
    /* sizes the compressed data contradicts are refused before the
     * allocation they ask for */
    if (codec == PGCDC_PQ_SNAPPY) {
        size_t n;
        if (snappy_uncompressed_length((const char *)src, slen, &n) != SNAPPY_OK || n != unc)
            return rfail(r, "parquet: column \"%s\": corrupt snappy page", c->name);
    } else if (codec == PGCDC_PQ_ZSTD) {
        unsigned long long n = ZSTD_getFrameContentSize(src, slen);
        /* (a first frame smaller than the page may be followed by more) */
        if (n == ZSTD_CONTENTSIZE_ERROR ||
            (n != ZSTD_CONTENTSIZE_UNKNOWN &&
             (n > unc || (n < unc && ZSTD_findFrameCompressedSize(src, slen) == slen))))
            return rfail(r, "parquet: column \"%s\": corrupt zstd page", c->name);
    } else if (codec == PGCDC_PQ_GZIP && unc / 1032 > slen + 64) { /* deflate's best ratio */
        return rfail(r, "parquet: column \"%s\": corrupt gzip page", c->name);
    }
    pgcdc_buf_reset(dst);
    pgcdc_buf_reserve(dst, unc);
    switch (codec) {
    case PGCDC_PQ_UNCOMPRESSED:
        if (slen != unc)
            return rfail(r, "parquet: column \"%s\": uncompressed page of %zu bytes says %zu",
                         c->name, slen, unc);
        if (slen)
            memcpy(dst->data, src, slen);
        break;
    case PGCDC_PQ_SNAPPY: {
        size_t n = unc;
        if (snappy_uncompress((const char *)src, slen, dst->data, &n) != SNAPPY_OK || n != unc)
            return rfail(r, "parquet: column \"%s\": corrupt snappy page", c->name);
        break;
    }
    case PGCDC_PQ_ZSTD: {
        if (!r->zctx && !(r->zctx = ZSTD_createDCtx()))
            return rfail(r, "parquet: cannot create a zstd context");
        size_t n = ZSTD_decompressDCtx(r->zctx, dst->data, unc, src, slen);
        if (ZSTD_isError(n) || n != unc)
            return rfail(r, "parquet: column \"%s\": corrupt zstd page (%s)", c->name,
                         ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong size");
        break;
    }
    case PGCDC_PQ_GZIP: {
        z_stream z;
        memset(&z, 0, sizeof(z));
        if (inflateInit2(&z, 15 + 32) != Z_OK) /* gzip or zlib header */
            return rfail(r, "parquet: cannot create a zlib stream");
        z.next_in = (unsigned char *)(uintptr_t)src;
        z.avail_in = (uInt)slen;
        z.next_out = (unsigned char *)dst->data;
        z.avail_out = (uInt)unc;
        int zr = inflate(&z, Z_FINISH);
        size_t n = unc - z.avail_out;
        inflateEnd(&z);
        if (zr != Z_STREAM_END || n != unc)
            return rfail(r, "parquet: column \"%s\": corrupt gzip page", c->name);
        break;
    }
    default:
        return rfail(r, "parquet: column \"%s\": codec %d (%s) is not supported", c->name, codec,
                     codec_name(codec));
    }
    dst->len = unc;
    dst->data[unc] = 0;
    return 0;
}

static int bad_values(pgcdc_pq_reader *r, const rd_col *c)
{
    return rfail(r, "parquet: column \"%s\": corrupt page (row group %d): its values end early",
                 c->name, r->cur_rg);
}

/* Reads PLAIN values (n of them) from [*p, end) into out; for the
 * dictionary page and PLAIN data pages. */
static int plain_values(pgcdc_pq_reader *r, rd_col *c, const unsigned char **pp,
                        const unsigned char *end, uint64_t *bit, pq_val *out, size_t n)
{
    const unsigned char *p = *pp;
    size_t avail = (size_t)(end - p);
    switch (c->physical) {
    case PGCDC_PQ_BOOLEAN: /* bit-packed */
        if (n > avail * 8 || *bit > avail * 8 - n)
            return bad_values(r, c);
        for (size_t i = 0; i < n; i++, (*bit)++)
            out[i].v.i32 = (p[*bit >> 3] >> (*bit & 7)) & 1;
        return 0;
    case PGCDC_PQ_INT32:
    case PGCDC_PQ_FLOAT:
        if (n > avail / 4)
            return bad_values(r, c);
        for (size_t i = 0; i < n; i++)
            memcpy(&out[i].v.i32, p + 4 * i, 4);
        *pp = p + 4 * n;
        return 0;
    case PGCDC_PQ_INT64:
    case PGCDC_PQ_DOUBLE:
        if (n > avail / 8)
            return bad_values(r, c);
        for (size_t i = 0; i < n; i++)
            memcpy(&out[i].v.i64, p + 8 * i, 8);
        *pp = p + 8 * n;
        return 0;
    case PGCDC_PQ_BYTE_ARRAY:
        for (size_t i = 0; i < n; i++) {
            uint32_t l;
            if (end - p < 4)
                return bad_values(r, c);
            memcpy(&l, p, 4);
            p += 4;
            if (l > (size_t)(end - p))
                return bad_values(r, c);
            out[i].p = p;
            out[i].len = l;
            p += l;
        }
        *pp = p;
        return 0;
    default: { /* fixed length: FIXED_LEN_BYTE_ARRAY, INT96 */
        size_t w = (size_t)c->width;
        if (n > avail / w)
            return bad_values(r, c);
        for (size_t i = 0; i < n; i++) {
            out[i].p = p + w * i;
            out[i].len = w;
        }
        *pp = p + w * n;
        return 0;
    }
    }
}

static int load_dictionary(pgcdc_pq_reader *r, rd_col *c, const pq_page *h, int codec,
                           const unsigned char *body)
{
    if (c->has_dict || c->data_seen)
        return rfail(r, "parquet: column \"%s\": a dictionary page %s (row group %d)", c->name,
                     c->has_dict ? "twice in one chunk" : "after data pages", r->cur_rg);
    if (h->enc != PQ_ENC_PLAIN && h->enc != PQ_ENC_PLAIN_DICTIONARY)
        return rfail(r, "parquet: column \"%s\": dictionary page encoding %d (%s) is not supported",
                     c->name, h->enc, encoding_name(h->enc));
    if (c->width == -1)
        return rfail(r, "parquet: column \"%s\": a dictionary page for booleans", c->name);
    if (decompress(r, c, codec, body, (size_t)h->comp, &c->dpage, (size_t)h->unc) != 0)
        return -1;
    size_t n = (size_t)h->nvalues;
    size_t most = c->dpage.len / (c->width > 0 ? (size_t)c->width : 4);
    if (h->nvalues < 0 || n > most)
        return rfail(r, "parquet: column \"%s\": dictionary of %lld entries in %zu bytes", c->name,
                     (long long)h->nvalues, c->dpage.len);
    if (n > c->dict_cap) {
        c->dict_cap = n;
        free(c->dict);
        c->dict = xcalloc(n, sizeof(pq_val));
    }
    const unsigned char *p = (const unsigned char *)c->dpage.data;
    uint64_t bit = 0;
    if (plain_values(r, c, &p, p + c->dpage.len, &bit, c->dict, n) != 0)
        return -1;
    c->ndict = n;
    c->has_dict = 1;
    return 0;
}

/* Sets up the decoding of a data page's values in [p, end). */
static int start_values(pgcdc_pq_reader *r, rd_col *c, int enc, const unsigned char *p,
                        const unsigned char *end)
{
    c->enc = enc;
    c->vp = p;
    c->vend = end;
    c->bit = 0;
    switch (enc) {
    case PQ_ENC_PLAIN:
        return 0;
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY:
        if (!c->has_dict)
            return rfail(r, "parquet: column \"%s\": dictionary-encoded page without a dictionary",
                         c->name);
        if (p >= end) {
            pgcdc_pq_rle_dec_init(&c->rle, p, 0, 0); /* only nulls: no values asked for */
            return 0;
        }
        if (*p > 32)
            return rfail(r, "parquet: column \"%s\": dictionary index width %d", c->name, *p);
        pgcdc_pq_rle_dec_init(&c->rle, p + 1, (size_t)(end - p - 1), *p);
        return 0;
    case PQ_ENC_RLE: {
        if (c->width != -1)
            break;
        uint32_t len;
        if (end - p < 4)
            return bad_values(r, c);
        memcpy(&len, p, 4);
        if (len > (size_t)(end - p - 4))
            return bad_values(r, c);
        pgcdc_pq_rle_dec_init(&c->rle, p + 4, len, 1);
        return 0;
    }
    case PQ_ENC_DELTA_BINARY_PACKED:
        if (c->physical != PGCDC_PQ_INT32 && c->physical != PGCDC_PQ_INT64)
            break;
        if (pgcdc_pq_delta_init(&c->delta, p, (size_t)(end - p), c->width * 8) != 0)
            return rfail(r, "parquet: column \"%s\": corrupt DELTA_BINARY_PACKED header", c->name);
        return 0;
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
    case PQ_ENC_DELTA_BYTE_ARRAY: {
        if (c->physical != PGCDC_PQ_BYTE_ARRAY &&
            (enc == PQ_ENC_DELTA_LENGTH_BYTE_ARRAY || c->physical != PGCDC_PQ_FIXED_LEN_BYTE_ARRAY))
            break;
        pgcdc_pq_delta_dec probe;
        const unsigned char *q = p;
        if (enc == PQ_ENC_DELTA_BYTE_ARRAY) { /* prefix lengths, then suffixes */
            if (pgcdc_pq_delta_init(&c->prefix, p, (size_t)(end - p), 32) != 0)
                goto corrupt;
            probe = c->prefix;
            q = pgcdc_pq_delta_end(&probe);
            if (!q)
                goto corrupt;
            pgcdc_buf_reset(&c->prev);
        }
        if (pgcdc_pq_delta_init(&c->delta, q, (size_t)(end - q), 32) != 0)
            goto corrupt;
        probe = c->delta;
        c->vp = pgcdc_pq_delta_end(&probe); /* the bytes follow the lengths */
        if (!c->vp)
            goto corrupt;
        return 0;
    corrupt:
        return rfail(r, "parquet: column \"%s\": corrupt %s header", c->name, encoding_name(enc));
    }
    case PQ_ENC_BYTE_STREAM_SPLIT: {
        if (c->width <= 0)
            break;
        size_t len = (size_t)(end - p);
        if (len % (size_t)c->width)
            return bad_values(r, c);
        c->bss_n = len / (size_t)c->width;
        c->bss_i = 0;
        return 0;
    }
    default:
        break;
    }
    return rfail(r,
                 "parquet: column \"%s\": encoding %d (%s) is not supported for physical type %d",
                 c->name, enc, encoding_name(enc), c->physical);
}

/* Loads the next page of column c that has values (after a dictionary
 * page, if any). Returns 0 or -1. */
static int next_page(pgcdc_pq_reader *r, rd_col *c)
{
    const pq_chunk *ch = &r->chunks[r->rgs[r->cur_rg].first + (size_t)c->idx];
    int codec = ch->m.codec;
    for (;;) {
        if (c->values_left == 0 || c->pos >= c->end)
            return rfail(r,
                         "parquet: column \"%s\": row group %d's chunk ends before its %lld "
                         "values",
                         c->name, r->cur_rg, (long long)ch->m.num_values);
        /* the header: a prefix of the chunk, more if it is cut short */
        uint64_t room = c->end - c->pos, want = room < 4096 ? room : 4096;
        pq_page h;
        size_t hlen;
        for (;;) {
            const unsigned char *hp = col_window(r, c, c->pos, want);
            if (!hp)
                return -1;
            pgcdc_thrift_r t;
            pgcdc_thrift_rinit(&t, hp, (size_t)want);
            parse_page_header(&t, &h);
            hlen = pgcdc_thrift_rpos(&t);
            if (!t.err)
                break;
            if (t.err != PGCDC_THRIFT_TRUNCATED || want == room || want >= PQ_MAX_HEADER)
                return rfail(r, "parquet: column \"%s\": corrupt page header at offset %llu",
                             c->name, (unsigned long long)c->pos);
            want = want * 4 < room ? want * 4 : room;
        }
        if (h.type < 0 || h.unc < 0 || h.comp < 0)
            return rfail(r,
                         "parquet: column \"%s\": page header at offset %llu lacks its type "
                         "or sizes",
                         c->name, (unsigned long long)c->pos);
        if ((uint64_t)h.comp > c->end - c->pos - hlen)
            return rfail(r, "parquet: column \"%s\": a page runs past the end of its column chunk",
                         c->name);
        if ((uint64_t)h.unc > r->max_page || (uint64_t)h.comp > r->max_page)
            return rfail(r, "parquet: column \"%s\": a page of %lld bytes is over the limit (%zu)",
                         c->name, (long long)(h.unc > h.comp ? h.unc : h.comp), r->max_page);
        uint64_t body_at = c->pos + hlen;
        const unsigned char *body = col_window(r, c, body_at, (uint64_t)h.comp);
        if (!body)
            return -1;
        c->pos = body_at + (uint64_t)h.comp;
        if (h.type == PQ_PAGE_INDEX)
            continue;
        if (h.type != PQ_PAGE_DATA && h.type != PQ_PAGE_DATA_V2 && h.type != PQ_PAGE_DICTIONARY)
            return rfail(r, "parquet: column \"%s\": page type %d is not supported", c->name,
                         h.type);
        if (!h.has_header || h.nvalues < 0)
            return rfail(r, "parquet: column \"%s\": page at offset %llu lacks its header", c->name,
                         (unsigned long long)(body_at - hlen));
        if (h.type == PQ_PAGE_DICTIONARY) {
            if (load_dictionary(r, c, &h, codec, body) != 0)
                return -1;
            continue;
        }
        c->data_seen = 1;
        if (h.nvalues > c->values_left)
            return rfail(r,
                         "parquet: column \"%s\": pages hold more values than the row group's "
                         "%lld rows",
                         c->name, (long long)ch->m.num_values);
        const unsigned char *vals, *vend;
        c->all_defined = 0;
        if (h.type == PQ_PAGE_DATA) {
            if (codec == PGCDC_PQ_UNCOMPRESSED) {
                if (h.unc != h.comp)
                    return rfail(r, "parquet: column \"%s\": uncompressed page sizes differ",
                                 c->name);
                vals = body;
            } else {
                if (decompress(r, c, codec, body, (size_t)h.comp, &c->page, (size_t)h.unc) != 0)
                    return -1;
                vals = (const unsigned char *)c->page.data;
            }
            vend = vals + h.unc;
            if (c->max_def) {
                uint32_t len;
                if (h.def_enc != PQ_ENC_RLE)
                    return rfail(r,
                                 "parquet: column \"%s\": definition level encoding %d (%s) is "
                                 "not supported",
                                 c->name, h.def_enc, encoding_name(h.def_enc));
                if (vend - vals < 4)
                    return bad_values(r, c);
                memcpy(&len, vals, 4);
                if (len > (size_t)(vend - vals - 4))
                    return bad_values(r, c);
                pgcdc_pq_rle_dec_init(&c->levels, vals + 4, len, 1);
                vals += 4 + len;
            }
        } else { /* V2: levels uncompressed ahead of the (maybe compressed) values */
            if (h.def_len < 0 || h.rep_len < 0 || h.def_len + h.rep_len > h.comp ||
                h.def_len + h.rep_len > h.unc)
                return rfail(r, "parquet: column \"%s\": corrupt data page V2 header", c->name);
            if (h.rep_len)
                return rfail(r, "parquet: column \"%s\": repetition levels in a flat column",
                             c->name);
            size_t lv = (size_t)h.def_len;
            if (c->max_def) {
                if (lv == 0 && h.num_nulls == 0)
                    c->all_defined = 1;
                pgcdc_pq_rle_dec_init(&c->levels, body, lv, 1);
            }
            size_t clen = (size_t)h.comp - lv, ulen = (size_t)h.unc - lv;
            if (codec == PGCDC_PQ_UNCOMPRESSED || !h.is_compressed) {
                if (clen != ulen)
                    return rfail(r, "parquet: column \"%s\": uncompressed page sizes differ",
                                 c->name);
                vals = body + lv;
            } else {
                if (decompress(r, c, codec, body + lv, clen, &c->page, ulen) != 0)
                    return -1;
                vals = (const unsigned char *)c->page.data;
            }
            vend = vals + ulen;
        }
        if (start_values(r, c, h.enc, vals, vend) != 0)
            return -1;
        c->values_left -= h.nvalues;
        c->page_left = h.nvalues;
        if (c->page_left > 0)
            return 0;
    }
}

/* Decodes m values of the page under way into c->val. */
static int decode_values(pgcdc_pq_reader *r, rd_col *c, size_t m)
{
    pq_val *out = c->val;
    switch (c->enc) {
    case PQ_ENC_PLAIN:
        return plain_values(r, c, &c->vp, c->vend, &c->bit, out, m);
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY:
        if (pgcdc_pq_rle_dec_get(&c->rle, c->tmp, m) != 0)
            return bad_values(r, c);
        for (size_t i = 0; i < m; i++) {
            if (c->tmp[i] >= c->ndict)
                return rfail(r, "parquet: column \"%s\": dictionary index %u of %zu entries",
                             c->name, c->tmp[i], c->ndict);
            out[i] = c->dict[c->tmp[i]];
        }
        return 0;
    case PQ_ENC_RLE: /* booleans */
        if (pgcdc_pq_rle_dec_get(&c->rle, c->tmp, m) != 0)
            return bad_values(r, c);
        for (size_t i = 0; i < m; i++)
            out[i].v.i32 = c->tmp[i] != 0;
        return 0;
    case PQ_ENC_DELTA_BINARY_PACKED:
        if (pgcdc_pq_delta_get(&c->delta, c->tmp64, m) != 0)
            return bad_values(r, c);
        for (size_t i = 0; i < m; i++) {
            if (c->width == 4)
                out[i].v.i32 = (int32_t)c->tmp64[i];
            else
                out[i].v.i64 = c->tmp64[i];
        }
        return 0;
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        if (pgcdc_pq_delta_get(&c->delta, c->tmp64, m) != 0)
            return bad_values(r, c);
        for (size_t i = 0; i < m; i++) {
            int64_t l = c->tmp64[i];
            if (l < 0 || l > c->vend - c->vp)
                return bad_values(r, c);
            out[i].p = c->vp;
            out[i].len = (size_t)l;
            c->vp += l;
        }
        return 0;
    case PQ_ENC_DELTA_BYTE_ARRAY: {
        /* values are built in the arena; pointers are set once it stops growing */
        if (pgcdc_pq_delta_get(&c->prefix, c->tmp64, m) != 0)
            return bad_values(r, c);
        pgcdc_buf_reset(&c->arena);
        for (size_t i = 0; i < m; i++) {
            int32_t sl;
            int64_t slen;
            if (pgcdc_pq_delta_get(&c->delta, &slen, 1) != 0)
                return bad_values(r, c);
            int64_t pl = c->tmp64[i];
            if (pl < 0 || (size_t)pl > c->prev.len || slen < 0 || slen > c->vend - c->vp ||
                (c->width > 0 && pl + slen != c->width))
                return bad_values(r, c);
            size_t at = c->arena.len;
            if ((uint64_t)pl + (uint64_t)slen > r->max_page - at)
                return rfail(r,
                             "parquet: column \"%s\": DELTA_BYTE_ARRAY values of a batch "
                             "exceed %zu bytes",
                             c->name, r->max_page);
            pgcdc_buf_append(&c->arena, c->prev.data ? c->prev.data : "", (size_t)pl);
            pgcdc_buf_append(&c->arena, c->vp, (size_t)slen);
            c->vp += slen;
            sl = (int32_t)(c->arena.len - at);
            pgcdc_buf_reset(&c->prev);
            pgcdc_buf_append(&c->prev, c->arena.data + at, (size_t)sl);
            out[i].len = (size_t)sl;
            out[i].v.i64 = (int64_t)at;
        }
        for (size_t i = 0; i < m; i++)
            out[i].p = (const unsigned char *)c->arena.data + out[i].v.i64;
        return 0;
    }
    case PQ_ENC_BYTE_STREAM_SPLIT: {
        size_t w = (size_t)c->width;
        int bytes = c->physical == PGCDC_PQ_FIXED_LEN_BYTE_ARRAY || c->physical == PGCDC_PQ_INT96;
        if (m > c->bss_n - c->bss_i)
            return bad_values(r, c);
        if (bytes)
            pgcdc_buf_reset(&c->arena);
        for (size_t i = 0; i < m; i++, c->bss_i++) {
            unsigned char b[8];
            const unsigned char *s = c->vp + c->bss_i;
            if (!bytes) {
                for (size_t k = 0; k < w; k++)
                    b[k] = s[k * c->bss_n];
                memcpy(&out[i].v, b, w);
            } else {
                out[i].v.i64 = (int64_t)c->arena.len;
                for (size_t k = 0; k < w; k++)
                    pgcdc_buf_putc(&c->arena, (char)s[k * c->bss_n]);
                out[i].len = w;
            }
        }
        if (bytes)
            for (size_t i = 0; i < m; i++)
                out[i].p = (const unsigned char *)c->arena.data + out[i].v.i64;
        return 0;
    }
    default:
        return rfail(r, "parquet: column \"%s\": encoding %d (%s) is not supported", c->name,
                     c->enc, encoding_name(c->enc));
    }
}

/* Decodes column c's next batch of levels and values. */
static int col_fill(pgcdc_pq_reader *r, rd_col *c)
{
    if (c->page_left == 0 && next_page(r, c) != 0)
        return -1;
    size_t n = c->page_left < PQ_BATCH ? (size_t)c->page_left : PQ_BATCH;
    size_t m = n;
    if (c->max_def) {
        if (c->all_defined) {
            memset(c->lv, 1, n);
        } else {
            if (pgcdc_pq_rle_dec_get(&c->levels, c->tmp, n) != 0)
                return rfail(r, "parquet: column \"%s\": corrupt definition levels (row group %d)",
                             c->name, r->cur_rg);
            m = 0;
            for (size_t i = 0; i < n; i++) {
                if (c->tmp[i] > 1)
                    return rfail(r, "parquet: column \"%s\": definition level %u in a flat column",
                                 c->name, c->tmp[i]);
                c->lv[i] = (uint8_t)c->tmp[i];
                m += c->tmp[i];
            }
        }
    }
    if (m && decode_values(r, c, m) != 0)
        return -1;
    c->page_left -= (int64_t)n;
    c->bn = (int)n;
    c->bi = c->vi = 0;
    return 0;
}

/* Opens row group g for the selected columns. */
static void open_row_group(pgcdc_pq_reader *r, int g)
{
    r->cur_rg = g;
    r->rg_left = r->rgs[g].rows;
    for (int k = 0; k < r->nsel; k++) {
        rd_col *c = &r->rc[r->sel[k]];
        const pq_chunk *ch = &r->chunks[r->rgs[g].first + (size_t)c->idx];
        c->pos = ch->start;
        c->end = ch->end;
        c->values_left = ch->m.num_values;
        c->data_seen = 0;
        c->has_dict = 0;
        c->ndict = 0;
        c->page_left = 0;
        c->bn = c->bi = c->vi = 0;
        c->win_valid = 0;
    }
}

int pgcdc_pq_reader_seek_row_group(pgcdc_pq_reader *r, int rg, char *errstr, size_t es)
{
    if (r->err[0])
        return report(r, errstr, es);
    if (rg < 0 || rg > r->nrgs) {
        snprintf(errstr, es, "parquet: row group %d does not exist (%d row groups)", rg, r->nrgs);
        return -1;
    }
    r->started = 1;
    r->rg = rg;
    r->rg_left = 0;
    r->row = 0;
    for (int g = 0; g < rg; g++)
        r->row += r->rgs[g].rows;
    return 0;
}

int pgcdc_pq_reader_next(pgcdc_pq_reader *r, pgcdc_pq_datum *values, char *errstr, size_t es)
{
    if (r->err[0])
        return report(r, errstr, es);
    r->started = 1;
    while (r->rg_left == 0) {
        if (r->rg >= r->nrgs)
            return 0;
        open_row_group(r, r->rg++);
    }
    for (int k = 0; k < r->nsel; k++) {
        rd_col *c = &r->rc[r->sel[k]];
        if (c->bi == c->bn && col_fill(r, c) != 0)
            return report(r, errstr, es);
        pgcdc_pq_datum *d = &values[k];
        if (c->max_def && !c->lv[c->bi]) {
            d->null = 1;
            d->bytes = NULL;
            d->len = 0;
        } else {
            const pq_val *v = &c->val[c->vi++];
            d->null = 0;
            d->v = v->v;
            d->bytes = v->p;
            d->len = v->len;
        }
        c->bi++;
    }
    r->rg_left--;
    r->row++;
    return 1;
}
