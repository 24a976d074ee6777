/*
 * lake_sink.c - the lake sink: each captured table's changes become an
 * append-only Delta Lake table of Parquet files, the bronze change log.
 *
 * <lake.root>/bronze/<topic>/ holds one row per change: _op, _lsn (the
 * change's LSN), _commit_lsn, _tx_id, _commit_ts, the row's columns (the new
 * image; the old one for deletes), and _before_<column> with the old image
 * of updates when the server sends it. Files are partitioned by
 * _commit_date (UTC) and typed from the Kafka Connect schema every event
 * carries.
 *
 * Durability: rows go into an open Parquet file per table, streamed to the
 * store. When lake.flush.bytes of a file are written, lake.flush.interval.ms
 * after the first change not yet committed, or at shutdown, every open file
 * is finished and each table with new files gets one Delta commit; only
 * then are the batches acknowledged. Each commit records the position of
 * its last change in txn actions (appId "pgcdc" = commit LSN, "pgcdc.index"
 * = the change's index in its transaction), so after a crash the changes
 * the slot sends again are recognised and skipped: nothing is committed
 * twice. Files written but never committed are deleted when the table is
 * opened again.
 */
#include <inttypes.h>
#include <pthread.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/s3.h"
#include "format/delta/delta_log.h"
#include "format/json.h"
#include "format/parquet/parquet.h"
#include "sink/lake/delta_table.h"
#include "sink/lake/lake_schema.h"
#include "sink/lake/silver.h"
#include "sink/sink.h"

#define APP_LSN "pgcdc"
#define APP_INDEX "pgcdc.index"
#define NMETA 5 /* _op _lsn _commit_lsn _tx_id _commit_ts */

typedef struct staged_file {
    char *rel; /* path in the table */
    char date[11];
    int64_t size, rows;
} staged_file;

typedef struct lake_table {
    struct lake_sink *ls;
    char *topic;
    char *dir; /* bronze/<topic> */
    pgcdc_delta_table dt;
    json_t *row_schema; /* the Connect schema the columns came from */
    char *key_columns;  /* the event key's fields, comma-separated ("" keyless) */
    pgcdc_lake_col *cols;
    char *roles; /* per column: 'm' the sink's own, 'r' row image, 'b' before image */
    int ncols;
    int schema_changed; /* the next commit carries metaData */
    /* the open file */
    pgcdc_pq_writer *w;
    pgcdc_lake_upload *up;
    char *rel;
    char date[11];
    int64_t rows;
    uint64_t bytes; /* JSON Lines: bytes in the open file */
    staged_file *staged;
    size_t nstaged, staged_cap;
    /* position of the last committed change, and of the last one written */
    uint64_t done_commit, done_index;
    uint64_t last_commit, last_index;
    int dirty; /* rows or position not committed yet */
} lake_table;

typedef struct lake_sink {
    pgcdc_sink *sink;
    pgcdc_lake_store *store;
    long long flush_bytes, interval_ms;
    pgcdc_pq_codec codec;
    int jsonl;           /* lake.format: jsonl */
    lake_table **tables; /* pointers: open writers keep a table's address */
    size_t ntables;
    uint64_t written_seq, acked_seq;
    int64_t first_dirty_ms; /* when the oldest uncommitted change arrived; 0: none */
    uint64_t input_bytes;   /* event bytes taken since the last commit */
    uint64_t queue_half;    /* half of max.queue.size.in.bytes: commit before the queue stalls */
    int commit_due;         /* a file reached lake.flush.bytes */
    unsigned long file_counter;
    char **skipped_topics; /* topics without table rows, logged once */
    size_t nskipped;
    /* the silver compactor: a thread with a store of its own */
    const pgcdc_config *cfg;
    pthread_t compactor;
    int compactor_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop; /* guarded by lock */
} lake_sink;

static int64_t mono_ms(void)
{
    return pgcdc_mono_us() / 1000;
}

static int64_t wall_ms(void)
{
    return pgcdc_wall_us() / 1000;
}

/* ---------- tables ---------- */

static int meta_cols(lake_table *t)
{
    static const struct {
        const char *name;
        pgcdc_lake_conv conv;
        int nullable;
    } meta[NMETA] = {{"_op", PGCDC_LAKE_STRING, 0},
                     {"_lsn", PGCDC_LAKE_I64, 1},
                     {"_commit_lsn", PGCDC_LAKE_I64, 1},
                     {"_tx_id", PGCDC_LAKE_I64, 1},
                     {"_commit_ts", PGCDC_LAKE_TS_MICROS, 1}};
    for (int i = 0; i < NMETA; i++)
        if (pgcdc_lake_col_add(&t->cols, &t->ncols, meta[i].name, meta[i].conv, meta[i].nullable) !=
            0)
            return -1;
    /* _commit_ts is an instant */
    t->cols[NMETA - 1].pq.utc = 1;
    snprintf(t->cols[NMETA - 1].delta_type, sizeof(t->cols[NMETA - 1].delta_type), "timestamp");
    return 0;
}

/* Removes data files of the table that no commit references: a crash
 * between writing a file and committing it leaves them behind. */
/* JSON Lines files are named after their first change: part-<commit LSN>-
 * <index>-...; one that starts after the recorded position was written by a
 * commit that never finished. Files of changes without a position (read
 * from Kafka) always count as committed. */
static int after_done(const lake_table *t, const char *rel)
{
    const char *p = strstr(rel, "/part-");
    unsigned long long commit, index;
    if (!p || sscanf(p + 6, "%16llx-%8llx-", &commit, &index) != 2 || !commit)
        return 0;
    return commit > t->done_commit || (commit == t->done_commit && index > t->done_index);
}

static void position_key(const lake_table *t, char *out, size_t n)
{
    snprintf(out, n, "%s/_pgcdc_position.json", t->dir);
}

/* Reads the JSON Lines table's committed position (absent: none yet). */
static int jsonl_position(lake_sink *ls, lake_table *t, char *errstr, size_t errstr_size)
{
    char key[4096];
    position_key(t, key, sizeof(key));
    pgcdc_buf b = PGCDC_BUF_INIT;
    int rc = ls->store->type->get(ls->store, key, &b, errstr, errstr_size);
    if (rc == 0) {
        json_t *j = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
        json_t *c = json_object_get(j, "commit_lsn"), *x = json_object_get(j, "index");
        if (!json_is_integer(c) || !json_is_integer(x)) {
            snprintf(errstr, errstr_size,
                     "%.256s/%.512s is not a pgcdc position: remove it to write "
                     "everything the slot still has again",
                     ls->store->root, key);
            rc = -1;
        } else {
            t->done_commit = (uint64_t)json_integer_value(c);
            t->done_index = (uint64_t)json_integer_value(x);
        }
        json_decref(j);
    }
    pgcdc_buf_free(&b);
    return rc < 0 ? -1 : 0;
}

typedef struct orphan_ctx {
    lake_sink *ls;
    lake_table *t;
} orphan_ctx;

/* A data file of the table that no commit references: a crash between
 * writing it and committing it left it behind. */
static int is_orphan(void *ctx, const char *rel)
{
    orphan_ctx *o = ctx;
    if (o->ls->jsonl)
        return strstr(rel, ".jsonl") && after_done(o->t, rel);
    return strncmp(rel, "_delta_log/", 11) && strstr(rel, ".parquet") &&
           !pgcdc_delta_state_file(&o->t->dt.state, rel);
}

static int remove_orphans(lake_sink *ls, lake_table *t, char *errstr, size_t errstr_size)
{
    orphan_ctx o = {ls, t};
    char prefix[4096];
    snprintf(prefix, sizeof(prefix), "%s/", t->dir);
    return pgcdc_lake_store_remove_if(ls->store, prefix, is_orphan, &o,
                                      "written before a crash, never committed", errstr,
                                      errstr_size);
}

static void table_free(lake_table *t)
{
    if (!t)
        return;
    if (t->w)
        pgcdc_pq_writer_free(t->w);
    if (t->up)
        t->ls->store->type->upload_abort(t->up);
    for (size_t i = 0; i < t->nstaged; i++)
        free(t->staged[i].rel);
    free(t->staged);
    free(t->rel);
    pgcdc_lake_cols_free(t->cols, t->ncols);
    free(t->roles);
    free(t->key_columns);
    json_decref(t->row_schema);
    pgcdc_delta_table_close(&t->dt);
    free(t->topic);
    free(t->dir);
    free(t);
}

static lake_table *table_get(lake_sink *ls, const char *topic, size_t topic_len, char *errstr,
                             size_t errstr_size)
{
    for (size_t i = 0; i < ls->ntables; i++)
        if (strlen(ls->tables[i]->topic) == topic_len &&
            !memcmp(ls->tables[i]->topic, topic, topic_len))
            return ls->tables[i];
    lake_table **n = realloc(ls->tables, (ls->ntables + 1) * sizeof(*n));
    lake_table *t = calloc(1, sizeof(*t));
    if (n)
        ls->tables = n;
    if (!n || !t || !(t->topic = strndup(topic, topic_len)) || !(t->dir = malloc(topic_len + 8))) {
        table_free(t);
        snprintf(errstr, errstr_size, "lake: out of memory");
        return NULL;
    }
    t->ls = ls;
    snprintf(t->dir, topic_len + 8, "bronze/%s", t->topic);
    char err[1024];
    int rc = ls->jsonl ? jsonl_position(ls, t, err, sizeof(err))
                       : pgcdc_delta_table_open(&t->dt, ls->store, t->dir, err, sizeof(err));
    if (rc != 0 || remove_orphans(ls, t, err, sizeof(err)) != 0) {
        snprintf(errstr, errstr_size, "lake: %s", err);
        table_free(t);
        return NULL;
    }
    if (!ls->jsonl) {
        int64_t c = pgcdc_delta_state_txn(&t->dt.state, APP_LSN);
        int64_t x = pgcdc_delta_state_txn(&t->dt.state, APP_INDEX);
        t->done_commit = c > 0 ? (uint64_t)c : 0;
        t->done_index = x > 0 ? (uint64_t)x : 0;
    }
    if (t->dt.state.version >= 0)
        pgcdc_log_info("lake", "table %s/%s at version %" PRId64 ", %zu files", ls->store->root,
                       t->dir, t->dt.state.version, t->dt.state.nfiles);
    ls->tables[ls->ntables++] = t;
    return t;
}

/* ---------- files ---------- */

static int file_write_cb(void *ctx, const void *data, size_t len, char *errstr, size_t errstr_size)
{
    lake_table *t = ctx;
    return t->ls->store->type->upload_write(t->up, data, len, errstr, errstr_size);
}

static const char *file_ext(const lake_sink *ls)
{
    if (ls->jsonl)
        return ".jsonl";
    return pgcdc_lake_parquet_ext(ls->codec);
}

/* Opens the table's next file in partition `date`; the first change in it
 * names it. */
static int file_open(lake_sink *ls, lake_table *t, const char *date, uint64_t commit,
                     uint64_t index, char *errstr, size_t errstr_size)
{
    char rel[256], key[4096];
    snprintf(rel, sizeof(rel),
             "_commit_date=%s/part-%016" PRIx64 "-%08" PRIx64 "-%" PRIx64 "-%lu%s", date, commit,
             index, (uint64_t)wall_ms(), ++ls->file_counter, file_ext(ls));
    snprintf(key, sizeof(key), "%s/%s", t->dir, rel);
    pgcdc_pq_column *pq = malloc((size_t)t->ncols * sizeof(*pq));
    if (!pq || !(t->rel = strdup(rel))) {
        free(pq);
        snprintf(errstr, errstr_size, "lake: out of memory");
        return -1;
    }
    for (int i = 0; i < t->ncols; i++)
        pq[i] = t->cols[i].pq;
    pgcdc_pq_options opts;
    pgcdc_pq_options_init(&opts);
    opts.codec = ls->codec;
    /* a file is committed at lake.flush.bytes: keep row groups within it */
    if (opts.row_group_bytes > (size_t)ls->flush_bytes)
        opts.row_group_bytes = (size_t)ls->flush_bytes;
    int rc = ls->store->type->upload_begin(ls->store, key, &t->up, errstr, errstr_size);
    if (rc == 0 && !ls->jsonl)
        rc =
            pgcdc_pq_writer_open(&t->w, pq, t->ncols, &opts, file_write_cb, t, errstr, errstr_size);
    free(pq);
    if (rc != 0) {
        if (t->up)
            ls->store->type->upload_abort(t->up);
        t->up = NULL;
        free(t->rel);
        t->rel = NULL;
        return -1;
    }
    snprintf(t->date, sizeof(t->date), "%s", date);
    t->rows = 0;
    t->bytes = 0;
    return 0;
}

/* Finishes the open file (footer, durable upload) and queues it for the
 * next commit. */
static int file_stage(lake_sink *ls, lake_table *t, char *errstr, size_t errstr_size)
{
    if (!t->up)
        return 0;
    int rc = 0;
    int64_t size = (int64_t)t->bytes;
    if (t->w) {
        rc = pgcdc_pq_writer_finish(t->w, errstr, errstr_size);
        size = (int64_t)pgcdc_pq_writer_written(t->w);
        pgcdc_pq_writer_free(t->w);
        t->w = NULL;
    }
    pgcdc_lake_upload *up = t->up;
    t->up = NULL;
    if (rc != 0) {
        ls->store->type->upload_abort(up);
    } else {
        rc = ls->store->type->upload_finish(up, errstr, errstr_size);
    }
    if (rc == 0 && t->nstaged == t->staged_cap) {
        size_t cap = t->staged_cap ? t->staged_cap * 2 : 8;
        staged_file *n = realloc(t->staged, cap * sizeof(*n));
        if (!n) {
            snprintf(errstr, errstr_size, "lake: out of memory");
            rc = -1;
        } else {
            t->staged = n;
            t->staged_cap = cap;
        }
    }
    if (rc != 0) {
        free(t->rel);
        t->rel = NULL;
        return -1;
    }
    staged_file *f = &t->staged[t->nstaged++];
    f->rel = t->rel;
    t->rel = NULL;
    snprintf(f->date, sizeof(f->date), "%s", t->date);
    f->size = size;
    f->rows = t->rows;
    return 0;
}

/* ---------- schema ---------- */

static const json_t *row_schema_of(const json_t *schema)
{
    size_t i;
    const json_t *f;
    const json_t *before = NULL;
    json_array_foreach(json_object_get(schema, "fields"), i, f)
    {
        const char *name = json_string_value(json_object_get(f, "field"));
        if (name && !strcmp(name, "after"))
            return f;
        if (name && !strcmp(name, "before"))
            before = f;
    }
    return before;
}

static int col_index(const lake_table *t, char role, const char *field)
{
    for (int i = 0; i < t->ncols; i++)
        if (t->roles[i] == role && !strcmp(t->cols[i].field, field))
            return i;
    return -1;
}

static int set_roles(lake_table *t, int from, char role)
{
    char *r = realloc(t->roles, (size_t)t->ncols);
    if (!r)
        return -1;
    t->roles = r;
    memset(r + from, role, (size_t)(t->ncols - from));
    return 0;
}

/* Adds the fields of `row` the table lacks (as row and before columns);
 * a field whose type changed is an error. */
static int merge_fields(lake_table *t, const json_t *row, char *errstr, size_t errstr_size)
{
    pgcdc_lake_col *nc = NULL;
    int nn = 0;
    if (pgcdc_lake_cols_from_connect(row, "", &nc, &nn, errstr, errstr_size) != 0) {
        pgcdc_lake_cols_free(nc, nn);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < nn && rc == 0; i++) {
        int at = col_index(t, 'r', nc[i].field);
        if (at >= 0) {
            if (strcmp(t->cols[at].delta_type, nc[i].delta_type)) {
                snprintf(errstr, errstr_size,
                         "column %s changed its type from %s to %s, which a Delta table cannot "
                         "follow: write the table to a new lake.root, or keep the old type",
                         t->cols[at].name, t->cols[at].delta_type, nc[i].delta_type);
                rc = -1;
            }
            continue;
        }
        /* the field as a one-field struct, once as the row's and once as
         * the before image's column */
        const json_t *fields = json_object_get(row, "fields");
        json_t *one = json_pack("{s:[O]}", "fields", json_array_get(fields, (size_t)i));
        static const struct {
            const char *prefix;
            char role;
        } kinds[] = {{"", 'r'}, {"_before_", 'b'}};
        for (int k = 0; k < 2 && rc == 0; k++) {
            int from = t->ncols;
            if (!one ||
                pgcdc_lake_cols_from_connect(one, kinds[k].prefix, &t->cols, &t->ncols, errstr,
                                             errstr_size) != 0 ||
                set_roles(t, from, kinds[k].role) != 0) {
                if (!*errstr)
                    snprintf(errstr, errstr_size, "out of memory");
                rc = -1;
            }
        }
        json_decref(one);
    }
    pgcdc_lake_cols_free(nc, nn);
    return rc;
}

static void delta_schema(const lake_table *t, pgcdc_buf *out)
{
    pgcdc_delta_field *f = malloc((size_t)(t->ncols + 1) * sizeof(*f));
    if (!f)
        return;
    for (int i = 0; i < t->ncols; i++)
        f[i] = (pgcdc_delta_field){t->cols[i].name, t->cols[i].delta_type, t->cols[i].pq.nullable};
    f[t->ncols] = (pgcdc_delta_field){"_commit_date", "date", 1};
    pgcdc_delta_schema_string(out, f, (size_t)t->ncols + 1);
    free(f);
}

/* Follows the event's row schema: the first one sets the columns (keeping
 * those an existing Delta table already has), a changed one adds columns.
 * The open file is finished first when the columns change. */
/* The key's field names, comma-separated, from the record key's schema
 * (or its fields without schemas); "" for a table without key. */
static char *key_columns_of(const pgcdc_record *r)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    json_t *key = r->key ? json_loadb(r->key, r->key_len, 0, NULL) : NULL;
    const json_t *schema = json_object_get(key, "schema");
    if (schema) {
        size_t i;
        const json_t *f;
        json_array_foreach(json_object_get(schema, "fields"), i, f)
        {
            if (b.len)
                pgcdc_buf_putc(&b, ',');
            const char *name = json_string_value(json_object_get(f, "field"));
            pgcdc_buf_puts(&b, name ? name : "");
        }
    } else if (json_is_object(key)) {
        const char *k;
        const json_t *v;
        json_object_foreach(key, k, v)
        {
            if (b.len)
                pgcdc_buf_putc(&b, ',');
            pgcdc_buf_puts(&b, k);
        }
    }
    json_decref(key);
    pgcdc_buf_putc(&b, 0);
    return b.data;
}

/* metaData.configuration of the table, as pgcdc_delta_state keeps it. */
static void table_configuration(const lake_table *t, pgcdc_buf *out)
{
    PGCDC_BUF_LIT(out, "{\"pgcdc.key.columns\":");
    pgcdc_json_cstr(out, t->key_columns ? t->key_columns : "");
    pgcdc_buf_putc(out, '}');
}

static int table_schema(lake_sink *ls, lake_table *t, const pgcdc_record *r, const json_t *row,
                        char *errstr, size_t errstr_size)
{
    if (t->row_schema && json_equal(t->row_schema, row))
        return 0;
    /* the key is read again with every schema the events bring */
    free(t->key_columns);
    t->key_columns = key_columns_of(r);
    if (!t->key_columns) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    if (!t->row_schema) {
        if (meta_cols(t) != 0 || set_roles(t, 0, 'm') != 0) {
            snprintf(errstr, errstr_size, "out of memory");
            return -1;
        }
    } else if (file_stage(ls, t, errstr, errstr_size) != 0) {
        return -1;
    }
    int before = t->ncols;
    errstr[0] = 0;
    if (merge_fields(t, row, errstr, errstr_size) != 0)
        return -1;
    pgcdc_buf ours = PGCDC_BUF_INIT;
    delta_schema(t, &ours);
    pgcdc_buf_putc(&ours, 0);
    if (t->dt.state.schema_string) {
        /* an existing table: its columns must all still be there */
        json_t *theirs = json_loads(t->dt.state.schema_string, 0, NULL);
        json_t *mine = json_loads(ours.data, 0, NULL);
        size_t i, j;
        json_t *f, *g;
        int found = 1;
        const char *name = NULL, *type = NULL;
        json_array_foreach(json_object_get(theirs, "fields"), i, f)
        {
            name = json_string_value(json_object_get(f, "name"));
            type = json_string_value(json_object_get(f, "type"));
            found = 0;
            json_array_foreach(json_object_get(mine, "fields"), j, g)
            {
                if (name && !strcmp(name, json_string_value(json_object_get(g, "name"))))
                    found = type && !strcmp(type, json_string_value(json_object_get(g, "type")))
                                ? 1
                                : -1;
            }
            if (found <= 0)
                break;
        }
        if (found <= 0)
            snprintf(errstr, errstr_size,
                     "the Delta table %s/%s has column %s (%s), which the events of %s %s: "
                     "write to a new lake.root, or restore the column",
                     ls->store->root, t->dir, name ? name : "?", type ? type : "?", t->topic,
                     found < 0 ? "give another type" : "no longer have");
        json_decref(theirs);
        json_decref(mine);
        if (found <= 0) {
            pgcdc_buf_free(&ours);
            return -1;
        }
    }
    pgcdc_buf conf = PGCDC_BUF_INIT;
    table_configuration(t, &conf);
    pgcdc_buf_putc(&conf, 0);
    t->schema_changed = !t->dt.state.schema_string ||
                        strcmp(t->dt.state.schema_string, ours.data) != 0 ||
                        !t->dt.state.configuration || strcmp(t->dt.state.configuration, conf.data);
    pgcdc_buf_free(&conf);
    pgcdc_buf_free(&ours);
    if (t->ncols != before && t->row_schema)
        pgcdc_log_info("lake", "%s: %d new column(s) from the events' schema", t->dir,
                       (t->ncols - before) / 2);
    json_decref(t->row_schema);
    t->row_schema = json_deep_copy(row);
    return 0;
}

/* ---------- commits ---------- */

static int needs_ntz(const lake_table *t)
{
    for (int i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i].delta_type, "timestamp_ntz"))
            return 1;
    return 0;
}

static void build_commit(lake_sink *ls, lake_table *t, pgcdc_buf *c)
{
    int64_t now = wall_ms();
    pgcdc_delta_put_commit_info(c, now, "WRITE", t->dt.state.version, !t->schema_changed);
    if (t->schema_changed) {
        int ntz = needs_ntz(t);
        if (t->dt.state.version < 0 || (ntz && t->dt.state.min_reader_version < 3))
            pgcdc_delta_put_protocol(c, ntz);
        pgcdc_buf schema = PGCDC_BUF_INIT;
        delta_schema(t, &schema);
        pgcdc_buf_putc(&schema, 0);
        char id[37];
        if (t->dt.state.table_id)
            snprintf(id, sizeof(id), "%s", t->dt.state.table_id);
        else
            pgcdc_delta_new_id(id);
        const char *parts[] = {"_commit_date"};
        pgcdc_delta_kv conf = {"pgcdc.key.columns", t->key_columns ? t->key_columns : ""};
        pgcdc_delta_metadata md = {id, NULL, schema.data, parts, 1, &conf, 1, now};
        pgcdc_delta_put_metadata(c, &md);
        pgcdc_buf_free(&schema);
    }
    for (size_t i = 0; i < t->nstaged; i++) {
        staged_file *f = &t->staged[i];
        pgcdc_delta_kv pv = {"_commit_date", f->date};
        pgcdc_delta_file df = {f->rel, &pv, 1, f->size};
        char stats[64];
        snprintf(stats, sizeof(stats), "{\"numRecords\":%" PRId64 "}", f->rows);
        pgcdc_delta_put_add(c, &df, now, 1, stats);
    }
    if (t->last_commit) {
        pgcdc_delta_put_txn(c, APP_LSN, (int64_t)t->last_commit, now);
        pgcdc_delta_put_txn(c, APP_INDEX, (int64_t)t->last_index, now);
    }
    (void)ls;
}

/* The staged files are visible already; recording the position of their
 * last change makes them committed (see after_done). */
static int jsonl_commit(lake_sink *ls, lake_table *t, char *errstr, size_t errstr_size)
{
    if (t->last_commit) {
        char key[4096], body[96];
        position_key(t, key, sizeof(key));
        int n = snprintf(body, sizeof(body), "{\"commit_lsn\":%" PRIu64 ",\"index\":%" PRIu64 "}\n",
                         t->last_commit, t->last_index);
        if (ls->store->type->put(ls->store, key, body, (size_t)n, errstr, errstr_size) != 0)
            return -1;
    }
    for (size_t i = 0; i < t->nstaged; i++)
        free(t->staged[i].rel);
    t->nstaged = 0;
    t->dirty = 0;
    t->done_commit = t->last_commit;
    t->done_index = t->last_index;
    return 0;
}

static int table_commit(lake_sink *ls, lake_table *t, char *errstr, size_t errstr_size)
{
    if (file_stage(ls, t, errstr, errstr_size) != 0)
        return -1;
    if (!t->dirty && !t->nstaged && !t->schema_changed)
        return 0;
    if (ls->jsonl)
        return jsonl_commit(ls, t, errstr, errstr_size);
    pgcdc_buf c = PGCDC_BUF_INIT;
    char err[1024];
    int rc = 1;
    for (int attempt = 0; rc == 1 && attempt < 3; attempt++) {
        if (attempt && pgcdc_delta_table_refresh(&t->dt, err, sizeof(err)) != 0) {
            rc = -1;
            break;
        }
        pgcdc_buf_reset(&c);
        build_commit(ls, t, &c);
        rc = pgcdc_delta_table_commit(&t->dt, c.data, c.len, err, sizeof(err));
    }
    pgcdc_buf_free(&c);
    if (rc != 0) {
        if (rc == 1)
            snprintf(err, sizeof(err),
                     "another writer keeps committing to it: pgcdc must be its only writer");
        snprintf(errstr, errstr_size, "lake: commit to %s/%s failed: %s", ls->store->root, t->dir,
                 err);
        return -1;
    }
    for (size_t i = 0; i < t->nstaged; i++)
        free(t->staged[i].rel);
    t->nstaged = 0;
    t->schema_changed = 0;
    t->dirty = 0;
    t->done_commit = t->last_commit;
    t->done_index = t->last_index;
    return 0;
}

/* Commits every table and acknowledges everything written. */
static int commit_all(lake_sink *ls, char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < ls->ntables; i++)
        if (table_commit(ls, ls->tables[i], errstr, errstr_size) != 0)
            return -1;
    ls->first_dirty_ms = 0;
    ls->input_bytes = 0;
    ls->commit_due = 0;
    if (ls->written_seq > ls->acked_seq) {
        ls->acked_seq = ls->written_seq;
        pgcdc_sink_ack(ls->sink, ls->written_seq);
    }
    return 0;
}

static int maybe_commit(lake_sink *ls, char *errstr, size_t errstr_size)
{
    if (ls->written_seq <= ls->acked_seq)
        return 0;
    if (!ls->first_dirty_ms || ls->commit_due || ls->input_bytes >= ls->queue_half ||
        mono_ms() - ls->first_dirty_ms >= ls->interval_ms || pgcdc_sink_stopping(ls->sink))
        return commit_all(ls, errstr, errstr_size);
    return 0;
}

/* ---------- records ---------- */

static void date_of(int64_t us, char out[11])
{
    int64_t days = us >= 0 ? us / 86400000000LL : -((-us - 1) / 86400000000LL) - 1;
    /* civil from days (Howard Hinnant's algorithm) */
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    char tmp[40];
    snprintf(tmp, sizeof(tmp), "%04d-%02u-%02u", (int)y, m % 13, d % 32);
    memcpy(out, tmp, 10);
    out[10] = 0;
}

static int skipped_before(lake_sink *ls, const pgcdc_record *r)
{
    for (size_t i = 0; i < ls->nskipped; i++)
        if (strlen(ls->skipped_topics[i]) == r->topic_len &&
            !memcmp(ls->skipped_topics[i], r->topic, r->topic_len))
            return 1;
    char **n = realloc(ls->skipped_topics, (ls->nskipped + 1) * sizeof(*n));
    if (n) {
        ls->skipped_topics = n;
        if ((n[ls->nskipped] = strndup(r->topic, r->topic_len)))
            ls->nskipped++;
    }
    return 0;
}

/* The commit time of an event in microseconds: source.ts_us, else
 * source.ts_ms; events without a source (heartbeats, transaction
 * boundaries) carry their own ts_ms. */
static int64_t commit_us(const json_t *payload)
{
    const json_t *source = json_object_get(payload, "source");
    if (!source)
        return (int64_t)json_integer_value(json_object_get(payload, "ts_ms")) * 1000;
    const json_t *ts = json_object_get(source, "ts_us");
    return ts ? (int64_t)json_integer_value(ts)
              : (int64_t)json_integer_value(json_object_get(source, "ts_ms")) * 1000;
}

/* One bronze row: the sink's own columns (the first NMETA), then the row
 * image and the old image of updates. */
static int put_row(lake_table *t, const pgcdc_record *r, const json_t *payload, int64_t ts_us,
                   char *errstr, size_t errstr_size)
{
    const json_t *source = json_object_get(payload, "source");
    const char *op = json_string_value(json_object_get(payload, "op"));
    const json_t *after = json_object_get(payload, "after");
    const json_t *before = json_object_get(payload, "before");
    const json_t *image = op && op[0] == 'd' ? before : after;
    const json_t *old = op && op[0] == 'u' ? before : NULL;
    if (!op)
        op = "?";
    pgcdc_pq_writer *w = t->w;
    if (pgcdc_pq_put_bytes(w, 0, op, strlen(op)) != 0 ||
        (r->pos.commit_lsn ? pgcdc_pq_put_i64(w, 2, (int64_t)r->pos.commit_lsn)
                           : pgcdc_pq_put_null(w, 2)) != 0 ||
        pgcdc_pq_put_i64(w, 4, ts_us) != 0) {
        snprintf(errstr, errstr_size, "%s", pgcdc_pq_writer_error(w));
        return -1;
    }
    int rc = pgcdc_lake_put(w, 1, &t->cols[1], json_object_get(source, "lsn"), errstr, errstr_size);
    if (rc == 0)
        rc =
            pgcdc_lake_put(w, 3, &t->cols[3], json_object_get(source, "txId"), errstr, errstr_size);
    for (int i = NMETA; i < t->ncols && rc == 0; i++) {
        const json_t *v = json_object_get(t->roles[i] == 'r' ? image : old, t->cols[i].field);
        rc = pgcdc_lake_put(w, i, &t->cols[i], v, errstr, errstr_size);
    }
    if (rc == 0)
        rc = pgcdc_pq_writer_end_row(w, errstr, errstr_size);
    return rc;
}

/* Bookkeeping after a row went into the table's open file of `size` bytes. */
static void row_done(lake_sink *ls, lake_table *t, const pgcdc_record *r, uint64_t size)
{
    t->rows++;
    t->dirty = 1;
    if (r->pos.commit_lsn) {
        t->last_commit = r->pos.commit_lsn;
        t->last_index = r->pos.index;
    }
    if (!ls->first_dirty_ms)
        ls->first_dirty_ms = mono_ms();
    if (size >= (uint64_t)ls->flush_bytes)
        ls->commit_due = 1;
}

static int already_done(const lake_table *t, const pgcdc_record *r)
{
    return r->pos.commit_lsn &&
           (r->pos.commit_lsn < t->done_commit ||
            (r->pos.commit_lsn == t->done_commit && r->pos.index <= t->done_index));
}

/* lake.format jsonl: the record's value as one line, as the file sink
 * writes it, in files partitioned by the commit date. */
static int jsonl_record(lake_sink *ls, const pgcdc_record *r, const json_t *payload, char *errstr,
                        size_t errstr_size)
{
    lake_table *t = table_get(ls, r->topic, r->topic_len, errstr, errstr_size);
    if (!t)
        return -1;
    if (already_done(t, r))
        return 0;
    char date[11];
    int64_t us = commit_us(payload);
    date_of(us, date);
    if (t->up && strcmp(t->date, date) && file_stage(ls, t, errstr, errstr_size) != 0)
        return -1;
    if (!t->up && file_open(ls, t, date, r->pos.commit_lsn, r->pos.index, errstr, errstr_size) != 0)
        return -1;
    const pgcdc_lake_store_type *st = ls->store->type;
    if (st->upload_write(t->up, r->value, r->value_len, errstr, errstr_size) != 0 ||
        st->upload_write(t->up, "\n", 1, errstr, errstr_size) != 0)
        return -1;
    t->bytes += (uint64_t)r->value_len + 1;
    row_done(ls, t, r, t->bytes);
    return 0;
}

static int lake_record(lake_sink *ls, const pgcdc_record *r, char *errstr, size_t errstr_size)
{
    if (!r->value)
        return 0; /* tombstones: the delete before it is the change */
    json_error_t jerr;
    json_t *root = json_loadb(r->value, r->value_len, 0, &jerr);
    const json_t *schema = json_object_get(root, "schema");
    const json_t *payload = json_object_get(root, "payload");
    int rc = -1;
    if (!json_is_object(root)) {
        snprintf(errstr, errstr_size, "lake: a record of topic %.*s is not JSON: %s",
                 (int)r->topic_len, r->topic, jerr.text);
        goto out;
    }
    if (ls->jsonl) {
        rc = jsonl_record(ls, r, schema && payload ? payload : root, errstr, errstr_size);
        goto out;
    }
    const json_t *row = schema ? row_schema_of(schema) : NULL;
    if (!row) {
        if (schema && !skipped_before(ls, r))
            pgcdc_log_info("lake", "records of topic %.*s are not table changes: not written",
                           (int)r->topic_len, r->topic);
        if (schema) {
            rc = 0;
            goto out;
        }
        snprintf(errstr, errstr_size,
                 "lake: records of topic %.*s carry no schema; the lake sink types its columns "
                 "from it: set value.converter.schemas.enable: true",
                 (int)r->topic_len, r->topic);
        goto out;
    }
    lake_table *t = table_get(ls, r->topic, r->topic_len, errstr, errstr_size);
    if (!t)
        goto out;
    if (already_done(t, r)) {
        rc = 0; /* already in the table: sent again after a restart */
        goto out;
    }
    char err[768];
    err[0] = 0;
    if (table_schema(ls, t, r, row, err, sizeof(err)) != 0) {
        snprintf(errstr, errstr_size, "lake: %s: %s", t->dir, err);
        goto out;
    }
    char date[11];
    int64_t us = commit_us(payload);
    date_of(us, date);
    if (t->up && strcmp(t->date, date) && file_stage(ls, t, errstr, errstr_size) != 0)
        goto out;
    if (!t->up && file_open(ls, t, date, r->pos.commit_lsn, r->pos.index, errstr, errstr_size) != 0)
        goto out;
    if (put_row(t, r, payload, us, err, sizeof(err)) != 0) {
        snprintf(errstr, errstr_size, "lake: %s: %s", t->dir, err);
        goto out;
    }
    row_done(ls, t, r, pgcdc_pq_writer_written(t->w) + pgcdc_pq_writer_buffered(t->w));
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* ---------- silver ---------- */

/*
 * The compactor thread: every lake.silver.interval.ms it brings the silver
 * tables up to date from what bronze has committed. It reads only committed
 * bronze versions, so it needs nothing from the sink thread; a failure is
 * logged and tried again next time (bronze, the change log, is unaffected).
 */
static void *compactor_main(void *arg)
{
    lake_sink *ls = arg;
    char err[1024];
    pgcdc_lake_store *store = pgcdc_lake_store_open(ls->cfg, err, sizeof(err));
    if (!store)
        pgcdc_log_error("lake", "silver compactor: %s", err);
    const pgcdc_config *cfg = ls->cfg;
    pgcdc_silver_opts opts;
    pgcdc_silver_opts_from_config(&opts, cfg);
    pthread_mutex_lock(&ls->lock);
    while (!ls->stop && store) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long long ms = cfg->lake_silver_interval_ms;
        ts.tv_sec += (time_t)(ms / 1000);
        ts.tv_nsec += (long)(ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        while (!ls->stop && pthread_cond_timedwait(&ls->wake, &ls->lock, &ts) == 0)
            ;
        if (ls->stop)
            break;
        pthread_mutex_unlock(&ls->lock);
        pgcdc_silver_compact_all(store, &opts, err, sizeof(err));
        pthread_mutex_lock(&ls->lock);
    }
    pthread_mutex_unlock(&ls->lock);
    if (store)
        store->type->close(store);
    return NULL;
}

static void compactor_start(lake_sink *ls)
{
    pthread_mutex_init(&ls->lock, NULL);
    pthread_cond_init(&ls->wake, NULL);
    if (ls->jsonl || ls->cfg->lake_silver_interval_ms <= 0)
        return;
    if (pthread_create(&ls->compactor, NULL, compactor_main, ls) == 0)
        ls->compactor_started = 1;
    else
        pgcdc_log_error("lake", "cannot start the silver compactor thread");
}

static void compactor_stop(lake_sink *ls)
{
    pthread_mutex_lock(&ls->lock);
    ls->stop = 1;
    pthread_cond_broadcast(&ls->wake);
    pthread_mutex_unlock(&ls->lock);
    if (ls->compactor_started)
        pthread_join(ls->compactor, NULL);
    ls->compactor_started = 0;
    pthread_cond_destroy(&ls->wake);
    pthread_mutex_destroy(&ls->lock);
}

/* ---------- the vtable ---------- */

static void lake_close(pgcdc_sink *sink, void *state);

static int first_key(void *ctx, const char *key, int64_t size, int64_t mtime_ms)
{
    (void)ctx;
    (void)key;
    (void)size;
    (void)mtime_ms;
    return 1;
}

static int lake_open(pgcdc_sink *sink, const pgcdc_config *cfg, void **state, char *errstr,
                     size_t errstr_size)
{
    lake_sink *ls = calloc(1, sizeof(*ls));
    if (!ls) {
        snprintf(errstr, errstr_size, "lake: out of memory");
        return -1;
    }
    ls->sink = sink;
    ls->flush_bytes = cfg->lake_flush_bytes;
    ls->interval_ms = cfg->lake_flush_interval_ms;
    ls->queue_half = (uint64_t)cfg->queue_max_bytes / 2;
    ls->jsonl = cfg->lake_format == PGCDC_LAKE_FORMAT_JSONL;
    ls->codec = pgcdc_lake_codec(cfg);
    ls->store = pgcdc_lake_store_open(cfg, errstr, errstr_size);
    if (!ls->store) {
        free(ls);
        return -1;
    }
    /* A wrong bucket, credentials or path should stop pgcdc now, not at the
     * first change: one listing (stopped at the first key) proves access. */
    int rc = ls->store->type->list(ls->store, "", first_key, NULL, errstr, errstr_size);
    if (rc < 0) {
        lake_close(sink, ls);
        return -1;
    }
    ls->cfg = cfg;
    compactor_start(ls);
    pgcdc_log_info("lake", "writing Delta tables under %s (commits every %lld ms or %lld bytes)",
                   cfg->lake_root, cfg->lake_flush_interval_ms, cfg->lake_flush_bytes);
    *state = ls;
    return 0;
}

static int lake_write_batch(pgcdc_sink *sink, void *state, const pgcdc_batch *batch, char *errstr,
                            size_t errstr_size)
{
    (void)sink;
    lake_sink *ls = state;
    size_t off = 0;
    pgcdc_record r;
    while (pgcdc_batch_next(batch, &off, &r))
        if (lake_record(ls, &r, errstr, errstr_size) != 0)
            return -1;
    ls->input_bytes += batch->data.len;
    ls->written_seq = batch->seq;
    return 0;
}

static int lake_flush(pgcdc_sink *sink, void *state, char *errstr, size_t errstr_size)
{
    (void)sink;
    return maybe_commit(state, errstr, errstr_size);
}

static void lake_close(pgcdc_sink *sink, void *state)
{
    (void)sink;
    lake_sink *ls = state;
    if (!ls)
        return;
    if (ls->cfg)
        compactor_stop(ls);
    for (size_t i = 0; i < ls->ntables; i++)
        table_free(ls->tables[i]);
    free(ls->tables);
    for (size_t i = 0; i < ls->nskipped; i++)
        free(ls->skipped_topics[i]);
    free(ls->skipped_topics);
    if (ls->store)
        ls->store->type->close(ls->store);
    free(ls);
}

const pgcdc_sink_type pgcdc_sink_lake = {
    .name = "lake",
    .open = lake_open,
    .write_batch = lake_write_batch,
    .flush = lake_flush,
    .poll = lake_flush,
    .close = lake_close,
};
