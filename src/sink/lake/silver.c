/*
 * silver.c - compaction of a bronze change log into its silver table (see
 * silver.h).
 *
 * Pass 1 reads the bronze files added since the last compaction and writes
 * every change, keyed and ordered by (commit LSN, LSN), to a local spill
 * file per bucket (hash of the key). Pass 2 takes one touched bucket at a
 * time: its changes go into a hash map (latest change per key), the
 * bucket's current silver file streams through it, and the merged rows are
 * written to the bucket's new file. A bucket whose changes exceed the
 * memory budget is processed in several sub-passes over a second hash.
 * One Delta commit then swaps the new files in and records the bronze
 * version reached.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "format/delta/delta_log.h"
#include "format/parquet/reader.h"
#include "sink/lake/delta_table.h"
#include "sink/lake/lake_schema.h"
#include "sink/lake/silver.h"

#define APP_BRONZE "pgcdc.bronze"
#define SPILL_FLUSH (1u << 20)

typedef struct scol {
    char *name;
    char *type;
    pgcdc_pq_column pq;
} scol;

/* What a compaction works with; one per call. */
typedef struct silver {
    pgcdc_lake_store *store;
    const pgcdc_silver_opts *opts;
    char bronze_dir[1024], silver_dir[1024];
    pgcdc_delta_table bronze, silver;
    scol *cols; /* row columns, then _commit_lsn, _lsn, _commit_ts */
    int ncols, nrow;
    int *keys; /* indexes of the key columns in cols */
    int nkeys;
    char *key_list; /* pgcdc.key.columns */
    int nbuckets;
    int *spill_fd;
    uint64_t *spill_bytes;
    pgcdc_buf *spill_buf;
    int truncated; /* a truncate among the changes: everything before trunc is gone */
    uint64_t trunc_commit, trunc_lsn;
    pgcdc_buf rec, key;
    pgcdc_silver_stats *stats;
    char *errstr;
    size_t errstr_size;
} silver;

/* ---------- values in spill records ---------- */

static void put_u32(pgcdc_buf *b, uint32_t v)
{
    pgcdc_buf_append(b, &v, sizeof(v));
}

static void put_u64(pgcdc_buf *b, uint64_t v)
{
    pgcdc_buf_append(b, &v, sizeof(v));
}

/* Appends d as column c holds it: a null flag, then the value. */
static void put_datum(pgcdc_buf *b, const pgcdc_pq_column *c, const pgcdc_pq_datum *d)
{
    pgcdc_buf_putc(b, d->null ? 1 : 0);
    if (d->null)
        return;
    switch (c->physical) {
    case PGCDC_PQ_BOOLEAN:
    case PGCDC_PQ_INT32:
        pgcdc_buf_append(b, &d->v.i32, 4);
        break;
    case PGCDC_PQ_INT64:
        pgcdc_buf_append(b, &d->v.i64, 8);
        break;
    case PGCDC_PQ_FLOAT:
        pgcdc_buf_append(b, &d->v.f4, 4);
        break;
    case PGCDC_PQ_DOUBLE:
        pgcdc_buf_append(b, &d->v.f8, 8);
        break;
    default:
        put_u32(b, (uint32_t)d->len);
        pgcdc_buf_append(b, d->bytes, d->len);
        break;
    }
}

/* Reads one datum written by put_datum; NULL when the record is short. */
static const char *get_datum(const char *p, const char *end, const pgcdc_pq_column *c,
                             pgcdc_pq_datum *d)
{
    memset(d, 0, sizeof(*d));
    if (p >= end)
        return NULL;
    d->null = *p++;
    if (d->null)
        return p;
    size_t n = c->physical == PGCDC_PQ_INT64 || c->physical == PGCDC_PQ_DOUBLE ? 8 : 4;
    if ((size_t)(end - p) < n)
        return NULL;
    switch (c->physical) {
    case PGCDC_PQ_BOOLEAN:
    case PGCDC_PQ_INT32:
        memcpy(&d->v.i32, p, 4);
        return p + 4;
    case PGCDC_PQ_INT64:
        memcpy(&d->v.i64, p, 8);
        return p + 8;
    case PGCDC_PQ_FLOAT:
        memcpy(&d->v.f4, p, 4);
        return p + 4;
    case PGCDC_PQ_DOUBLE:
        memcpy(&d->v.f8, p, 8);
        return p + 8;
    default: {
        uint32_t len;
        memcpy(&len, p, 4);
        p += 4;
        if ((size_t)(end - p) < len)
            return NULL;
        d->bytes = p;
        d->len = len;
        return p + len;
    }
    }
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

/* A row's key as bytes (the key columns' datums, in key order). */
static void key_of(silver *s, const pgcdc_pq_datum *row)
{
    pgcdc_buf_reset(&s->key);
    for (int i = 0; i < s->nkeys; i++)
        put_datum(&s->key, &s->cols[s->keys[i]].pq, &row[s->keys[i]]);
}

/* ---------- schema ---------- */

static int fail(silver *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(silver *s, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(s->errstr, s->errstr_size, "silver %s: %s", s->silver_dir, msg);
    return -1;
}

static int add_col(silver *s, const char *name, const char *type)
{
    scol *n = realloc(s->cols, (size_t)(s->ncols + 1) * sizeof(*n));
    if (!n)
        return fail(s, "out of memory");
    s->cols = n;
    scol *c = &s->cols[s->ncols];
    c->name = strdup(name);
    c->type = strdup(type);
    if (!c->name || !c->type) {
        free(c->name);
        free(c->type);
        return fail(s, "out of memory");
    }
    s->ncols++;
    if (pgcdc_lake_pq_from_delta(c->name, c->type, &c->pq) != 0)
        return fail(s, "column %s has type %s, which pgcdc's bronze tables never hold", name, type);
    return 0;
}

static int is_field(json_t *fields, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n && !strcmp(n, name))
            return 1;
    }
    return 0;
}

/* The silver columns from the bronze schema: its row columns (not the
 * _before_ images, _op, _tx_id or the partition column), then the change's
 * position and time. */
static int columns(silver *s)
{
    json_t *schema = json_loads(s->bronze.state.schema_string, 0, NULL);
    json_t *fields = json_object_get(schema, "fields");
    const char *meta_type[3] = {"long", "long", "timestamp"};
    static const char *const meta[3] = {"_commit_lsn", "_lsn", "_commit_ts"};
    int rc = 0;
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *type = json_string_value(json_object_get(f, "type"));
        if (!name || !type) {
            rc = fail(s, "the bronze schema has a field without a name or a primitive type");
            break;
        }
        if (!strcmp(name, "_op") || !strcmp(name, "_tx_id") || !strcmp(name, "_commit_date") ||
            !strcmp(name, "_lsn") || !strcmp(name, "_commit_lsn") || !strcmp(name, "_commit_ts") ||
            (!strncmp(name, "_before_", 8) && is_field(fields, name + 8)))
            continue;
        if ((rc = add_col(s, name, type)) != 0)
            break;
    }
    s->nrow = s->ncols;
    for (int m = 0; rc == 0 && m < 3; m++)
        rc = add_col(s, meta[m], meta_type[m]);
    json_decref(schema);
    if (rc != 0)
        return -1;
    /* the key */
    json_t *conf =
        json_loads(s->bronze.state.configuration ? s->bronze.state.configuration : "{}", 0, NULL);
    const char *keys = json_string_value(json_object_get(conf, "pgcdc.key.columns"));
    s->key_list = strdup(keys ? keys : "");
    json_decref(conf);
    if (!s->key_list)
        return fail(s, "out of memory");
    if (!*s->key_list)
        return fail(s, "the bronze table records no key columns (pgcdc.key.columns): a silver "
                       "table needs a primary key, or message.key.columns");
    char *list = strdup(s->key_list);
    for (char *tok = list ? strtok(list, ",") : NULL; tok && rc == 0; tok = strtok(NULL, ",")) {
        int found = -1;
        for (int c = 0; c < s->nrow; c++)
            if (!strcmp(s->cols[c].name, tok))
                found = c;
        int *n = realloc(s->keys, (size_t)(s->nkeys + 1) * sizeof(*n));
        if (found < 0 || !n) {
            free(n);
            rc = fail(s, "key column %s is not a column of the bronze table", tok);
            s->keys = NULL;
            break;
        }
        s->keys = n;
        s->keys[s->nkeys++] = found;
    }
    free(list);
    return rc;
}

static void silver_schema(const silver *s, pgcdc_buf *out)
{
    pgcdc_delta_field *f = malloc((size_t)s->ncols * sizeof(*f));
    if (!f)
        return;
    for (int i = 0; i < s->ncols; i++)
        f[i] = (pgcdc_delta_field){s->cols[i].name, s->cols[i].type, 1};
    pgcdc_delta_schema_string(out, f, (size_t)s->ncols);
    free(f);
}

/* ---------- reading Parquet files of the table ---------- */

typedef struct file_reader {
    int fd;
    pgcdc_pq_reader *r;
    int *pos; /* per silver column: its index among the selected values, -1: absent */
    int *sel;
    int nsel;
    int op_pos; /* bronze files: _op's position, -1 absent */
    pgcdc_pq_datum *vals;
} file_reader;

static void reader_close(file_reader *fr)
{
    pgcdc_pq_reader_free(fr->r);
    if (fr->fd >= 0)
        close(fr->fd);
    free(fr->pos);
    free(fr->sel);
    free(fr->vals);
    memset(fr, 0, sizeof(*fr));
    fr->fd = -1;
}

/* Opens <dir>/<rel> and selects the silver columns (by name; a column the
 * file predates reads as null), plus _op when want_op. */
static int reader_open(silver *s, const char *dir, const char *rel, int want_op, file_reader *fr)
{
    memset(fr, 0, sizeof(*fr));
    fr->fd = -1;
    fr->op_pos = -1;
    char key[4096], err[1024];
    uint64_t size = 0;
    snprintf(key, sizeof(key), "%s/%s", dir, rel);
    int rc = s->store->type->open_read(s->store, key, &fr->fd, &size, err, sizeof(err));
    if (rc != 0)
        return fail(s, "%s", rc == 1 ? "a file of the table is missing" : err);
    if (pgcdc_pq_reader_open(&fr->r, pgcdc_pq_read_fd, &fr->fd, size, err, sizeof(err)) != 0)
        return fail(s, "%s: %s", key, err);
    fr->pos = malloc((size_t)s->ncols * sizeof(int));
    fr->sel = malloc((size_t)(s->ncols + 1) * sizeof(int));
    fr->vals = calloc((size_t)s->ncols + 1, sizeof(pgcdc_pq_datum));
    if (!fr->pos || !fr->sel || !fr->vals)
        return fail(s, "out of memory");
    for (int c = 0; c < s->ncols; c++) {
        int at = pgcdc_pq_reader_find(fr->r, s->cols[c].name);
        fr->pos[c] = at < 0 ? -1 : fr->nsel;
        if (at >= 0)
            fr->sel[fr->nsel++] = at;
    }
    if (want_op) {
        int at = pgcdc_pq_reader_find(fr->r, "_op");
        if (at < 0)
            return fail(s, "%s has no _op column: not a bronze file", key);
        fr->op_pos = fr->nsel;
        fr->sel[fr->nsel++] = at;
    }
    if (pgcdc_pq_reader_select(fr->r, fr->sel, fr->nsel, err, sizeof(err)) != 0)
        return fail(s, "%s: %s", key, err);
    return 0;
}

/* The next row as silver columns in row[]: 1, 0 at the end, -1. */
static int reader_row(silver *s, file_reader *fr, pgcdc_pq_datum *row, char *op)
{
    char err[1024];
    int rc = pgcdc_pq_reader_next(fr->r, fr->vals, err, sizeof(err));
    if (rc < 0)
        return fail(s, "%s", err);
    if (rc == 0)
        return 0;
    for (int c = 0; c < s->ncols; c++) {
        if (fr->pos[c] < 0) {
            memset(&row[c], 0, sizeof(row[c]));
            row[c].null = 1;
        } else {
            row[c] = fr->vals[fr->pos[c]];
        }
    }
    if (op) {
        const pgcdc_pq_datum *o = &fr->vals[fr->op_pos];
        *op = o->null || !o->len ? '?' : ((const char *)o->bytes)[0];
    }
    return 1;
}

static uint64_t u64_of(const pgcdc_pq_datum *d)
{
    return d->null ? 0 : (uint64_t)d->v.i64;
}

/* ---------- pass 1: changes into bucket spills ---------- */

static int spill_flush(silver *s, int b)
{
    pgcdc_buf *buf = &s->spill_buf[b];
    if (!buf->len)
        return 0;
    if (s->spill_fd[b] < 0) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/.silver-spill-XXXXXX", s->opts->spool_dir);
        s->spill_fd[b] = mkstemp(path);
        if (s->spill_fd[b] < 0)
            return fail(s, "cannot create a spill file in %s: %s", s->opts->spool_dir,
                        strerror(errno));
        unlink(path);
    }
    if (pgcdc_write_all(s->spill_fd[b], buf->data, buf->len) != 0)
        return fail(s, "writing a spill file in %s: %s", s->opts->spool_dir, strerror(errno));
    s->spill_bytes[b] += buf->len;
    pgcdc_buf_reset(buf);
    return 0;
}

static int order_before(uint64_t c1, uint64_t l1, uint64_t c2, uint64_t l2)
{
    return c1 < c2 || (c1 == c2 && l1 < l2);
}

/* One change: [u32 length][u32 key length][key][u64 hash][u64 commit LSN]
 * [u64 LSN][u8 op][datums]; the order fields are in the header so that
 * merging compares changes without decoding their rows. */
static int spill_change(silver *s, const pgcdc_pq_datum *row, char op)
{
    uint64_t commit = u64_of(&row[s->nrow]), lsn = u64_of(&row[s->nrow + 1]);
    if (op == 't') {
        if (!s->truncated || order_before(s->trunc_commit, s->trunc_lsn, commit, lsn)) {
            s->truncated = 1;
            s->trunc_commit = commit;
            s->trunc_lsn = lsn;
        }
        return 0;
    }
    key_of(s, row);
    uint64_t h = hash_bytes(s->key.data, s->key.len);
    int b = (int)(h % (uint64_t)s->nbuckets);
    pgcdc_buf *rec = &s->rec;
    pgcdc_buf_reset(rec);
    put_u32(rec, 0);
    put_u32(rec, (uint32_t)s->key.len);
    pgcdc_buf_append(rec, s->key.data, s->key.len);
    put_u64(rec, h);
    put_u64(rec, commit);
    put_u64(rec, lsn);
    pgcdc_buf_putc(rec, op);
    for (int c = 0; c < s->ncols; c++)
        put_datum(rec, &s->cols[c].pq, &row[c]);
    uint32_t len = (uint32_t)rec->len;
    memcpy(rec->data, &len, 4);
    pgcdc_buf_append(&s->spill_buf[b], rec->data, rec->len);
    s->stats->changes++;
    return s->spill_buf[b].len >= SPILL_FLUSH ? spill_flush(s, b) : 0;
}

typedef struct adds_ctx {
    char **paths;
    size_t n, cap;
} adds_ctx;

/* The files bronze commits (from, to] added, in commit order. */
static int bronze_adds(silver *s, int64_t from, int64_t to, adds_ctx *a)
{
    pgcdc_buf text = PGCDC_BUF_INIT;
    int rc = 0;
    for (int64_t v = from + 1; v <= to && rc == 0; v++) {
        char err[1024];
        if (pgcdc_delta_table_read_commit(&s->bronze, v, &text, err, sizeof(err)) != 0) {
            rc = fail(s, "%s", err);
            break;
        }
        size_t off = 0;
        while (off < text.len && rc == 0) {
            const char *nl = memchr(text.data + off, '\n', text.len - off);
            size_t n = nl ? (size_t)(nl - (text.data + off)) : text.len - off;
            json_t *j = n ? json_loadb(text.data + off, n, 0, NULL) : NULL;
            const char *p = json_string_value(json_object_get(json_object_get(j, "add"), "path"));
            if (p) {
                char *path = pgcdc_delta_path_decode(p);
                if (a->n == a->cap) {
                    size_t cap = a->cap ? a->cap * 2 : 16;
                    char **np = realloc(a->paths, cap * sizeof(*np));
                    if (np) {
                        a->paths = np;
                        a->cap = cap;
                    }
                }
                if (!path || a->n == a->cap)
                    rc = fail(s, "bronze commit %" PRId64 ": a bad add path or out of memory", v);
                else
                    a->paths[a->n++] = path;
                if (rc != 0)
                    free(path);
            }
            json_decref(j);
            off += n + (nl ? 1 : 0);
        }
    }
    pgcdc_buf_free(&text);
    return rc;
}

static int pass1(silver *s, int64_t from)
{
    adds_ctx a = {0};
    int rc = bronze_adds(s, from, s->bronze.state.version, &a);
    pgcdc_pq_datum *row = calloc((size_t)s->ncols, sizeof(*row));
    if (!row && rc == 0)
        rc = fail(s, "out of memory");
    for (size_t i = 0; i < a.n && rc == 0; i++) {
        file_reader fr;
        rc = reader_open(s, s->bronze_dir, a.paths[i], 1, &fr);
        char op;
        while (rc == 0) {
            int got = reader_row(s, &fr, row, &op);
            if (got <= 0) {
                rc = got;
                break;
            }
            rc = spill_change(s, row, op);
        }
        reader_close(&fr);
    }
    for (int b = 0; b < s->nbuckets && rc == 0; b++)
        rc = spill_flush(s, b);
    for (size_t i = 0; i < a.n; i++)
        free(a.paths[i]);
    free(a.paths);
    free(row);
    return rc;
}

/* ---------- pass 2: one bucket ---------- */

typedef struct change {
    const char *rec; /* the spill record */
    uint64_t hash, commit, lsn;
    int consumed;
} change;

typedef struct change_map {
    change *slots;
    size_t cap, n;
} change_map;

/* Record fields: key bytes and the datums after it. */
static const char *rec_key(const char *rec, uint32_t *klen)
{
    memcpy(klen, rec + 4, 4);
    return rec + 8;
}

/* The header after the key: hash, commit LSN, LSN, op. */
#define REC_AFTER_KEY 25

static void rec_order(const char *rec, uint64_t *hash, uint64_t *commit, uint64_t *lsn)
{
    uint32_t klen;
    const char *p = rec_key(rec, &klen) + klen;
    memcpy(hash, p, 8);
    memcpy(commit, p + 8, 8);
    memcpy(lsn, p + 16, 8);
}

static char rec_op(const char *rec)
{
    uint32_t klen;
    const char *k = rec_key(rec, &klen);
    return k[klen + 24];
}

static int map_put(change_map *m, const char *rec, uint64_t h, uint64_t commit, uint64_t lsn)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        change *n = calloc(cap, sizeof(*n));
        if (!n)
            return -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].rec) {
                size_t j = m->slots[i].hash & (cap - 1);
                while (n[j].rec)
                    j = (j + 1) & (cap - 1);
                n[j] = m->slots[i];
            }
        free(m->slots);
        m->slots = n;
        m->cap = cap;
    }
    uint32_t klen, olen;
    const char *key = rec_key(rec, &klen);
    size_t j = h & (m->cap - 1);
    for (; m->slots[j].rec; j = (j + 1) & (m->cap - 1)) {
        const char *ok = rec_key(m->slots[j].rec, &olen);
        if (m->slots[j].hash == h && olen == klen && !memcmp(ok, key, klen)) {
            /* the same key again: the later change wins */
            if (!order_before(commit, lsn, m->slots[j].commit, m->slots[j].lsn))
                m->slots[j] = (change){rec, h, commit, lsn, 0};
            return 0;
        }
    }
    m->slots[j] = (change){rec, h, commit, lsn, 0};
    m->n++;
    return 0;
}

static change *map_get(change_map *m, const char *key, uint32_t klen, uint64_t h)
{
    if (!m->cap)
        return NULL;
    uint32_t olen;
    for (size_t j = h & (m->cap - 1); m->slots[j].rec; j = (j + 1) & (m->cap - 1)) {
        const char *ok = rec_key(m->slots[j].rec, &olen);
        if (m->slots[j].hash == h && olen == klen && !memcmp(ok, key, klen))
            return &m->slots[j];
    }
    return NULL;
}

/* Decodes a spill record's datums into row[]; -1 if it is damaged. */
static int rec_row(silver *s, const char *rec, pgcdc_pq_datum *row)
{
    uint32_t len, klen;
    memcpy(&len, rec, 4);
    const char *p = rec_key(rec, &klen) + klen + REC_AFTER_KEY, *end = rec + len;
    for (int c = 0; c < s->ncols; c++)
        if (!(p = get_datum(p, end, &s->cols[c].pq, &row[c])))
            return fail(s, "a spill record is damaged");
    return 0;
}

typedef struct out_file {
    pgcdc_pq_writer *w;
    pgcdc_lake_upload *up;
    pgcdc_lake_store *store;
    char rel[128];
    int64_t rows;
} out_file;

static int out_write_cb(void *ctx, const void *data, size_t len, char *errstr, size_t errstr_size)
{
    out_file *o = ctx;
    return o->store->type->upload_write(o->up, data, len, errstr, errstr_size);
}

static int out_row(silver *s, out_file *o, const pgcdc_pq_datum *row)
{
    char err[1024];
    for (int c = 0; c < s->ncols; c++)
        if (pgcdc_pq_put_datum(o->w, c, &row[c]) != 0)
            return fail(s, "%s", pgcdc_pq_writer_error(o->w));
    if (pgcdc_pq_writer_end_row(o->w, err, sizeof(err)) != 0)
        return fail(s, "%s", err);
    o->rows++;
    s->stats->rows++;
    return 0;
}

static int truncated_out(const silver *s, uint64_t commit, uint64_t lsn)
{
    return s->truncated && order_before(commit, lsn, s->trunc_commit, s->trunc_lsn);
}

/* Reads spill file fd [0, size) into buf, splitting it by the second hash
 * into k parts when k > 1: part j is every record whose hash's high half
 * is j mod k. Returns the records of part j in buf. */
static int load_part(silver *s, int fd, uint64_t size, int k, int j, pgcdc_buf *buf)
{
    pgcdc_buf_reset(buf);
    pgcdc_buf chunk = PGCDC_BUF_INIT;
    pgcdc_buf_reserve(&chunk, 1 << 20);
    uint64_t off = 0;
    size_t have = 0;
    int rc = 0;
    while (rc == 0 && (off < size || have)) {
        if (off < size && have < 1u << 20) {
            size_t want = (size_t)(size - off < (1u << 20) ? size - off : (1u << 20));
            pgcdc_buf_reserve(&chunk, have + want);
            ssize_t r = pread(fd, chunk.data + have, want, (off_t)off);
            if (r <= 0) {
                rc = fail(s, "reading a spill file: %s", r < 0 ? strerror(errno) : "short");
                break;
            }
            off += (uint64_t)r;
            have += (size_t)r;
        }
        size_t pos = 0;
        while (have - pos >= 4) {
            uint32_t len, klen;
            memcpy(&len, chunk.data + pos, 4);
            if (len < 8 + REC_AFTER_KEY || have - pos < len)
                break;
            const char *rec = chunk.data + pos;
            uint64_t h;
            memcpy(&h, rec_key(rec, &klen) + klen, 8);
            if (k <= 1 || (int)((h >> 32) % (uint64_t)k) == j)
                pgcdc_buf_append(buf, rec, len);
            pos += len;
        }
        if (pos == 0 && off >= size && have) {
            rc = fail(s, "a spill file ends in a partial record");
            break;
        }
        memmove(chunk.data, chunk.data + pos, have - pos);
        have -= pos;
    }
    pgcdc_buf_free(&chunk);
    return rc;
}

typedef struct bucket_files {
    char **rels;
    size_t n;
} bucket_files;

/* The silver files of bucket b now in the table. */
static int bucket_files_of(silver *s, int b, bucket_files *bf)
{
    char prefix[16];
    snprintf(prefix, sizeof(prefix), "b%04d-", b);
    memset(bf, 0, sizeof(*bf));
    for (size_t i = 0; i < s->silver.state.files_cap; i++) {
        const char *p = s->silver.state.files[i].path;
        if (!p || strncmp(p, prefix, 6))
            continue;
        char **n = realloc(bf->rels, (bf->n + 1) * sizeof(*n));
        if (!n)
            return fail(s, "out of memory");
        bf->rels = n;
        bf->rels[bf->n++] = (char *)p;
    }
    return 0;
}

/* Rewrites bucket b into o: its current rows merged with its changes. */
static int merge_bucket(silver *s, int b, const bucket_files *bf, out_file *o)
{
    uint64_t size = s->spill_bytes[b];
    int k = (int)(size / (s->opts->memory_bytes ? s->opts->memory_bytes : 1)) + 1;
    pgcdc_buf part = PGCDC_BUF_INIT;
    pgcdc_pq_datum *row = calloc((size_t)s->ncols, sizeof(*row));
    int rc = row ? 0 : fail(s, "out of memory");
    for (int j = 0; j < k && rc == 0; j++) {
        change_map m = {0};
        if (s->spill_fd[b] >= 0)
            rc = load_part(s, s->spill_fd[b], size, k, j, &part);
        for (size_t pos = 0; rc == 0 && pos < part.len;) {
            uint32_t len;
            const char *rec = part.data + pos;
            memcpy(&len, rec, 4);
            uint64_t h, commit, lsn;
            rec_order(rec, &h, &commit, &lsn);
            if (map_put(&m, rec, h, commit, lsn) != 0)
                rc = fail(s, "out of memory");
            pos += len;
        }
        /* the bucket's current rows, through the changes */
        for (size_t f = 0; f < bf->n && rc == 0; f++) {
            file_reader fr;
            rc = reader_open(s, s->silver_dir, bf->rels[f], 0, &fr);
            while (rc == 0) {
                int got = reader_row(s, &fr, row, NULL);
                if (got <= 0) {
                    rc = got;
                    break;
                }
                key_of(s, row);
                uint64_t h = hash_bytes(s->key.data, s->key.len);
                if (k > 1 && (int)((h >> 32) % (uint64_t)k) != j)
                    continue;
                uint64_t commit = u64_of(&row[s->nrow]), lsn = u64_of(&row[s->nrow + 1]);
                change *c = map_get(&m, s->key.data, (uint32_t)s->key.len, h);
                if (c && !order_before(c->commit, c->lsn, commit, lsn))
                    continue; /* the change decides, below */
                if (c)
                    c->consumed = 1; /* an older change replayed: the row stays */
                if (!truncated_out(s, commit, lsn))
                    rc = out_row(s, o, row);
            }
            reader_close(&fr);
        }
        /* the changes' rows */
        for (size_t i = 0; i < m.cap && rc == 0; i++) {
            change *c = &m.slots[i];
            if (!c->rec || c->consumed || rec_op(c->rec) == 'd' ||
                truncated_out(s, c->commit, c->lsn))
                continue;
            rc = rec_row(s, c->rec, row);
            if (rc == 0)
                rc = out_row(s, o, row);
        }
        free(m.slots);
    }
    pgcdc_buf_free(&part);
    free(row);
    return rc;
}

/* ---------- the compaction ---------- */

const char *pgcdc_lake_parquet_ext(pgcdc_pq_codec c)
{
    return c == PGCDC_PQ_SNAPPY ? ".snappy.parquet"
           : c == PGCDC_PQ_ZSTD ? ".zstd.parquet"
                                : ".parquet";
}

static int out_open(silver *s, int b, out_file *o)
{
    memset(o, 0, sizeof(*o));
    o->store = s->store;
    char id[37], key[2048], err[1024];
    pgcdc_delta_new_id(id);
    snprintf(o->rel, sizeof(o->rel), "b%04d-%s%s", b, id, pgcdc_lake_parquet_ext(s->opts->codec));
    snprintf(key, sizeof(key), "%s/%s", s->silver_dir, o->rel);
    pgcdc_pq_column *pq = malloc((size_t)s->ncols * sizeof(*pq));
    if (!pq)
        return fail(s, "out of memory");
    for (int c = 0; c < s->ncols; c++)
        pq[c] = s->cols[c].pq;
    pgcdc_pq_options opts;
    pgcdc_pq_options_init(&opts);
    opts.codec = s->opts->codec;
    int rc = s->store->type->upload_begin(s->store, key, &o->up, err, sizeof(err));
    if (rc == 0 &&
        pgcdc_pq_writer_open(&o->w, pq, s->ncols, &opts, out_write_cb, o, err, sizeof(err)) != 0) {
        s->store->type->upload_abort(o->up);
        o->up = NULL;
        rc = -1;
    }
    free(pq);
    return rc == 0 ? 0 : fail(s, "%s", err);
}

/* Finishes o; an empty bucket leaves no file (*size 0). */
static int out_finish(silver *s, out_file *o, int64_t *size)
{
    char err[1024];
    *size = 0;
    int rc = 0;
    if (o->rows && pgcdc_pq_writer_finish(o->w, err, sizeof(err)) != 0)
        rc = fail(s, "%s", err);
    *size = (int64_t)pgcdc_pq_writer_written(o->w);
    pgcdc_pq_writer_free(o->w);
    o->w = NULL;
    if (rc != 0 || !o->rows) {
        s->store->type->upload_abort(o->up);
        o->up = NULL;
        *size = 0;
        return rc;
    }
    rc = s->store->type->upload_finish(o->up, err, sizeof(err));
    o->up = NULL;
    return rc == 0 ? 0 : fail(s, "%s", err);
}

/* A silver file no commit references: left by a compaction that crashed. */
static int is_orphan(void *ctx, const char *rel)
{
    silver *s = ctx;
    return !strchr(rel, '/') && strstr(rel, ".parquet") &&
           !pgcdc_delta_state_file(&s->silver.state, rel);
}

static int remove_orphans(silver *s)
{
    char prefix[1100], err[1024];
    snprintf(prefix, sizeof(prefix), "%s/", s->silver_dir);
    if (pgcdc_lake_store_remove_if(s->store, prefix, is_orphan, s,
                                   "written by a compaction that never committed", err,
                                   sizeof(err)) != 0)
        return fail(s, "%s", err);
    return 0;
}

static int buckets_of(silver *s)
{
    json_t *conf =
        json_loads(s->silver.state.configuration ? s->silver.state.configuration : "{}", 0, NULL);
    const char *b = json_string_value(json_object_get(conf, "pgcdc.buckets"));
    s->nbuckets = b ? atoi(b) : 0;
    json_decref(conf);
    if (s->silver.state.version >= 0 && s->nbuckets < 1)
        return fail(s, "the table records no bucket count (pgcdc.buckets): not a pgcdc silver "
                       "table");
    if (s->nbuckets < 1)
        s->nbuckets = s->opts->buckets > 0 ? s->opts->buckets : 8;
    return 0;
}

static void commit_text(silver *s, pgcdc_buf *c, const pgcdc_buf *schema, int64_t now)
{
    pgcdc_delta_put_commit_info(c, now, "MERGE", s->silver.state.version, 0);
    if (s->silver.state.version < 0 || !s->silver.state.schema_string ||
        strcmp(s->silver.state.schema_string, schema->data)) {
        int ntz = 0;
        for (int i = 0; i < s->ncols; i++)
            ntz |= !strcmp(s->cols[i].type, "timestamp_ntz");
        if (s->silver.state.version < 0 || (ntz && s->silver.state.min_reader_version < 3))
            pgcdc_delta_put_protocol(c, ntz);
        char id[37], buckets[16];
        if (s->silver.state.table_id)
            snprintf(id, sizeof(id), "%s", s->silver.state.table_id);
        else
            pgcdc_delta_new_id(id);
        snprintf(buckets, sizeof(buckets), "%d", s->nbuckets);
        pgcdc_delta_kv conf[] = {{"pgcdc.buckets", buckets}, {"pgcdc.key.columns", s->key_list}};
        pgcdc_delta_metadata md = {id, NULL, schema->data, NULL, 0, conf, 2, now};
        pgcdc_delta_put_metadata(c, &md);
    }
}

static int compact(silver *s)
{
    char err[1024];
    if (pgcdc_delta_table_open(&s->bronze, s->store, s->bronze_dir, err, sizeof(err)) != 0 ||
        pgcdc_delta_table_open(&s->silver, s->store, s->silver_dir, err, sizeof(err)) != 0)
        return fail(s, "%s", err);
    s->stats->bronze_version = s->bronze.state.version;
    int64_t from = pgcdc_delta_state_txn(&s->silver.state, APP_BRONZE);
    if (s->bronze.state.version < 0 || from >= s->bronze.state.version)
        return 0; /* nothing new */
    if (columns(s) != 0 || buckets_of(s) != 0 || remove_orphans(s) != 0)
        return -1;
    s->spill_fd = malloc((size_t)s->nbuckets * sizeof(int));
    s->spill_bytes = calloc((size_t)s->nbuckets, sizeof(uint64_t));
    s->spill_buf = calloc((size_t)s->nbuckets, sizeof(pgcdc_buf));
    if (!s->spill_fd || !s->spill_bytes || !s->spill_buf)
        return fail(s, "out of memory");
    for (int b = 0; b < s->nbuckets; b++)
        s->spill_fd[b] = -1;
    if (pass1(s, from) != 0)
        return -1;

    int64_t now = pgcdc_wall_us() / 1000;
    pgcdc_buf c = PGCDC_BUF_INIT, schema = PGCDC_BUF_INIT;
    silver_schema(s, &schema);
    pgcdc_buf_putc(&schema, 0);
    commit_text(s, &c, &schema, now);
    int rc = 0;
    for (int b = 0; b < s->nbuckets && rc == 0; b++) {
        if (!s->spill_bytes[b] && !s->truncated)
            continue;
        bucket_files bf;
        out_file o;
        int64_t size;
        rc = bucket_files_of(s, b, &bf);
        if (rc == 0)
            rc = out_open(s, b, &o);
        if (rc == 0) {
            rc = merge_bucket(s, b, &bf, &o);
            if (rc != 0) {
                pgcdc_pq_writer_free(o.w);
                s->store->type->upload_abort(o.up);
            } else {
                rc = out_finish(s, &o, &size);
            }
        }
        for (size_t i = 0; rc == 0 && i < bf.n; i++) {
            const pgcdc_delta_live_file *lf = pgcdc_delta_state_file(&s->silver.state, bf.rels[i]);
            pgcdc_delta_file df = {lf->path, NULL, 0, lf->size};
            pgcdc_delta_put_remove(&c, &df, now, 1);
        }
        if (rc == 0 && size > 0) {
            char stats[64];
            snprintf(stats, sizeof(stats), "{\"numRecords\":%" PRId64 "}", o.rows);
            pgcdc_delta_file df = {o.rel, NULL, 0, size};
            pgcdc_delta_put_add(&c, &df, now, 1, stats);
        }
        free(bf.rels);
        s->stats->buckets_rewritten++;
    }
    if (rc == 0) {
        pgcdc_delta_put_txn(&c, APP_BRONZE, s->bronze.state.version, now);
        int crc = pgcdc_delta_table_commit(&s->silver, c.data, c.len, err, sizeof(err));
        if (crc != 0)
            rc = fail(s, "%s",
                      crc == 1 ? "another writer committed to the table meanwhile: "
                                 "compactions of one table must not run concurrently"
                               : err);
    }
    pgcdc_buf_free(&c);
    pgcdc_buf_free(&schema);
    return rc;
}

int pgcdc_silver_compact(pgcdc_lake_store *store, const char *topic, const pgcdc_silver_opts *opts,
                         pgcdc_silver_stats *stats, char *errstr, size_t errstr_size)
{
    silver s;
    memset(&s, 0, sizeof(s));
    memset(stats, 0, sizeof(*stats));
    stats->bronze_version = -1;
    s.store = store;
    s.opts = opts;
    s.stats = stats;
    s.errstr = errstr;
    s.errstr_size = errstr_size;
    snprintf(s.bronze_dir, sizeof(s.bronze_dir), "bronze/%s", topic);
    snprintf(s.silver_dir, sizeof(s.silver_dir), "silver/%s", topic);
    pgcdc_delta_state_init(&s.bronze.state);
    pgcdc_delta_state_init(&s.silver.state);
    int rc = compact(&s);
    for (int b = 0; s.spill_fd && b < s.nbuckets; b++) {
        if (s.spill_fd[b] >= 0)
            close(s.spill_fd[b]);
        pgcdc_buf_free(&s.spill_buf[b]);
    }
    free(s.spill_fd);
    free(s.spill_bytes);
    free(s.spill_buf);
    for (int c = 0; c < s.ncols; c++) {
        free(s.cols[c].name);
        free(s.cols[c].type);
    }
    free(s.cols);
    free(s.keys);
    free(s.key_list);
    pgcdc_buf_free(&s.rec);
    pgcdc_buf_free(&s.key);
    pgcdc_delta_table_close(&s.bronze);
    pgcdc_delta_table_close(&s.silver);
    return rc;
}

typedef struct topics_ctx {
    int (*fn)(void *ctx, const char *topic);
    void *ctx;
    char last[1024];
} topics_ctx;

static int topic_cb(void *ctx, const char *key, int64_t size, int64_t mtime_ms)
{
    (void)size;
    (void)mtime_ms;
    topics_ctx *t = ctx;
    /* bronze/<topic>/_delta_log/00000000000000000000.json marks a table */
    const char *topic = key + 7, *end = strstr(topic, "/_delta_log/00000000000000000000.json");
    if (!end || strchr(topic, '/') != end)
        return 0;
    snprintf(t->last, sizeof(t->last), "%.*s", (int)(end - topic), topic);
    return t->fn(t->ctx, t->last);
}

int pgcdc_silver_topics(pgcdc_lake_store *store, int (*fn)(void *ctx, const char *topic), void *ctx,
                        char *errstr, size_t errstr_size)
{
    topics_ctx t = {fn, ctx, ""};
    return store->type->list(store, "bronze/", topic_cb, &t, errstr, errstr_size);
}

typedef struct all_ctx {
    pgcdc_lake_store *store;
    const pgcdc_silver_opts *opts;
    char *errstr;
    size_t errstr_size;
    int failed;
} all_ctx;

static int compact_one(void *ctx, const char *topic)
{
    all_ctx *a = ctx;
    pgcdc_silver_stats st;
    char err[1024];
    int64_t t0 = pgcdc_mono_us();
    if (pgcdc_silver_compact(a->store, topic, a->opts, &st, err, sizeof(err)) != 0) {
        pgcdc_log_error("lake", "%s", err);
        if (!a->failed)
            snprintf(a->errstr, a->errstr_size, "%s", err);
        a->failed = 1;
    } else if (st.changes || st.buckets_rewritten) {
        pgcdc_log_info("lake",
                       "silver/%s: %" PRId64
                       " changes applied, %d bucket(s) rewritten with %" PRId64
                       " rows, now at bronze version %" PRId64 " (%.1f s)",
                       topic, st.changes, st.buckets_rewritten, st.rows, st.bronze_version,
                       (double)(pgcdc_mono_us() - t0) / 1e6);
    }
    return 0; /* one table failing does not hold the others back */
}

int pgcdc_silver_compact_all(pgcdc_lake_store *store, const pgcdc_silver_opts *opts, char *errstr,
                             size_t errstr_size)
{
    all_ctx a = {store, opts, errstr, errstr_size, 0};
    char err[1024];
    if (pgcdc_silver_topics(store, compact_one, &a, err, sizeof(err)) != 0) {
        snprintf(errstr, errstr_size, "lake: %s", err);
        return -1;
    }
    return a.failed ? -1 : 0;
}

pgcdc_pq_codec pgcdc_lake_codec(const pgcdc_config *cfg)
{
    switch (cfg->lake_compression) {
    case PGCDC_LAKE_CODEC_ZSTD:
        return PGCDC_PQ_ZSTD;
    case PGCDC_LAKE_CODEC_SNAPPY:
        return PGCDC_PQ_SNAPPY;
    default:
        return PGCDC_PQ_UNCOMPRESSED;
    }
}

void pgcdc_silver_opts_from_config(pgcdc_silver_opts *opts, const pgcdc_config *cfg)
{
    opts->buckets = cfg->lake_silver_buckets;
    opts->memory_bytes = (size_t)cfg->lake_silver_memory;
    opts->codec = pgcdc_lake_codec(cfg);
    opts->spool_dir = cfg->data_dir ? cfg->data_dir : ".";
}
