/*
 * incremental.c - incremental snapshots with DBLog watermarks (see
 * incremental.h).
 *
 * Why it is correct: the chunk is read after the open watermark committed
 * and before the close watermark was written. A change of a key in the chunk
 * that reaches the stream before the open watermark is emitted before the
 * chunk's rows, which are at least as new; one between the two watermarks
 * may or may not be visible to the read, so the read row is dropped and the
 * streamed change stands; one after the close watermark is emitted after the
 * chunk's rows. Replaying every event in order therefore ends at the
 * table's contents.
 */
#include "source/pg/incremental.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define LOG "incremental"

enum {
    PHASE_IDLE,      /* nothing queued, or paused */
    PHASE_PENDING,   /* the next chunk should be read */
    PHASE_WAIT_OPEN, /* chunk read; waiting for the open watermark in the stream */
    PHASE_OPEN,      /* between the watermarks: streamed changes drop held rows */
};

typedef struct queued_table {
    char *name;   /* schema.table */
    char *filter; /* additional condition (SQL), or NULL */
} queued_table;

typedef struct queued_signal {
    char *id, *type, *data;
} queued_signal;

/* One held row: values and key as offsets into the window buffers. */
typedef struct held {
    size_t vals;    /* index of its first value in win_off/len/kind */
    size_t key_off; /* serialized key in win_keys */
    uint32_t key_len;
    uint32_t hash;
    int dropped;
} held;

struct pgcdc_incr {
    const pgcdc_config *cfg;
    pgcdc_catalog *cat;
    const pgcdc_filter *filter;
    pgcdc_debezium *enc;
    char *sig_schema, *sig_table;
    char *sig_qname;   /* quoted "schema"."table" */
    char *sig_cols[3]; /* quoted id, type, data column names */

    /* progress: what offsets.json keeps */
    char *signal_id; /* the execute-snapshot signal being served */
    queued_table *tables;
    int ntables, tables_cap;
    char **last_key, **max_key; /* current table, primary key order; NULL = none */
    int nkey;
    int paused;
    uint64_t chunks, rows, table_rows;
    int dirty;

    /* the chunk in flight */
    int phase;
    char chunk_id[40];
    pgcdc_table *table;
    char **key_names;                /* primary key columns in index order */
    char **key_types;                /* their format_type() for casts */
    int *key_idx;                    /* their index in table->cols */
    const pgcdc_table *stream_table; /* cached mapping of key columns in the stream's table */
    int *stream_idx;
    held *rows_held;
    size_t nheld, held_cap;
    size_t *win_off;
    uint32_t *win_len;
    char *win_kind;
    size_t nvals, vals_cap;
    pgcdc_buf win_text, win_keys, scratch;
    uint32_t *slots; /* open addressing: held index + 1, 0 empty */
    size_t nslots;
    uint32_t *inflight; /* transactions running when the chunk was read (its snapshot's xip) */
    size_t ninflight, inflight_cap;

    queued_signal *signals;
    int nsignals, signals_cap;
    int64_t last_log_us;

    pgcdc_status *status;
    int status_id; /* status entry of tables[0]; -1: not registered */
};

static void free_strv(char **v, int n)
{
    if (!v)
        return;
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static char *xstrdup(const char *s)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d) {
        fprintf(stderr, "pgcdc: out of memory\n");
        abort();
    }
    return d;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "pgcdc: out of memory\n");
        abort();
    }
    return q;
}

/* Splits "schema.table" at the first dot. */
static int split_name(const char *qual, char **schema, char **table)
{
    const char *dot = strchr(qual, '.');
    if (!dot || dot == qual || !dot[1])
        return -1;
    *schema = xstrdup(qual);
    (*schema)[dot - qual] = 0;
    *table = xstrdup(dot + 1);
    return 0;
}

/* ---------- the window ---------- */

static void window_clear(pgcdc_incr *incr)
{
    if (incr->table) {
        pgcdc_table_clear(incr->table);
        free(incr->table);
        incr->table = NULL;
    }
    free_strv(incr->key_names, incr->nkey);
    free_strv(incr->key_types, incr->nkey);
    incr->key_names = incr->key_types = NULL;
    free(incr->key_idx);
    free(incr->stream_idx);
    incr->key_idx = incr->stream_idx = NULL;
    incr->stream_table = NULL;
    incr->nheld = 0;
    incr->nvals = 0;
    pgcdc_buf_reset(&incr->win_text);
    pgcdc_buf_reset(&incr->win_keys);
    free(incr->slots);
    incr->slots = NULL;
    incr->nslots = 0;
    incr->ninflight = 0;
    incr->chunk_id[0] = 0;
}

static uint32_t hash_bytes(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

/* Serializes key values (kind, length, bytes each) into incr->scratch. */
static void key_begin(pgcdc_incr *incr)
{
    pgcdc_buf_reset(&incr->scratch);
}

static void key_add(pgcdc_incr *incr, char kind, const char *data, uint32_t len)
{
    pgcdc_buf_putc(&incr->scratch, kind);
    if (kind == 'n')
        return;
    pgcdc_buf_append(&incr->scratch, &len, sizeof(len));
    pgcdc_buf_append(&incr->scratch, data, len);
}

/* Held row with the key in incr->scratch, or -1. */
static long window_find(const pgcdc_incr *incr)
{
    if (!incr->nslots)
        return -1;
    uint32_t h = hash_bytes(incr->scratch.data, incr->scratch.len);
    size_t mask = incr->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t s = incr->slots[i];
        if (!s)
            return -1;
        const held *r = &incr->rows_held[s - 1];
        if (r->hash == h && r->key_len == incr->scratch.len &&
            !memcmp(incr->win_keys.data + r->key_off, incr->scratch.data, r->key_len))
            return (long)(s - 1);
    }
}

static void window_index(pgcdc_incr *incr)
{
    size_t n = 16;
    while (n < incr->nheld * 2)
        n *= 2;
    incr->slots = calloc(n, sizeof(*incr->slots));
    if (!incr->slots) {
        fprintf(stderr, "pgcdc: out of memory\n");
        abort();
    }
    incr->nslots = n;
    for (size_t r = 0; r < incr->nheld; r++) {
        for (size_t i = incr->rows_held[r].hash & (n - 1);; i = (i + 1) & (n - 1))
            if (!incr->slots[i]) {
                incr->slots[i] = (uint32_t)r + 1;
                break;
            }
    }
}

uint32_t pgcdc_incr_window_relid(const pgcdc_incr *incr)
{
    return incr && (incr->phase == PHASE_OPEN || incr->phase == PHASE_WAIT_OPEN) && incr->table
               ? incr->table->relid
               : 0;
}

static int was_inflight(const pgcdc_incr *incr, uint32_t xid)
{
    for (size_t i = 0; i < incr->ninflight; i++)
        if (incr->inflight[i] == xid)
            return 1;
    return 0;
}

/* Serializes row's key into scratch using the stream table's columns;
 * returns -1 when a key column is missing (no match possible). */
static int stream_key(pgcdc_incr *incr, const pgcdc_row *row)
{
    key_begin(incr);
    for (int k = 0; k < incr->nkey; k++) {
        int i = incr->stream_idx[k];
        if (i < 0 || i >= row->ncols)
            return -1;
        const pgcdc_value *v = &row->cols[i];
        if (v->kind == 'u')
            return -1;
        key_add(incr, v->kind == 'n' ? 'n' : 't', v->data, v->len);
    }
    return 0;
}

void pgcdc_incr_on_stream_row(pgcdc_incr *incr, uint32_t xid, const pgcdc_table *table,
                              const pgcdc_row *before, const pgcdc_row *after)
{
    /* Before the open watermark only a transaction the read could not see
     * matters: its commit record may precede the watermark's while it was
     * not yet visible, so the read row is older than its change. */
    if (incr->phase != PHASE_OPEN && !was_inflight(incr, xid))
        return;
    if (incr->stream_table != table) {
        /* the stream's description may differ from the chunk's (a Relation
         * message arrived): match key columns by name */
        incr->stream_idx = xrealloc(incr->stream_idx, (size_t)incr->nkey * sizeof(int));
        for (int k = 0; k < incr->nkey; k++) {
            incr->stream_idx[k] = -1;
            for (int i = 0; i < table->ncols; i++)
                if (!strcmp(table->cols[i].name, incr->key_names[k]))
                    incr->stream_idx[k] = i;
        }
        incr->stream_table = table;
    }
    const pgcdc_row *imgs[2] = {before, after};
    for (int j = 0; j < 2; j++) {
        if (!imgs[j] || stream_key(incr, imgs[j]) != 0)
            continue;
        long r = window_find(incr);
        if (r >= 0)
            incr->rows_held[r].dropped = 1;
    }
}

void pgcdc_incr_on_relation(pgcdc_incr *incr)
{
    if (incr)
        incr->stream_table = NULL;
}

void pgcdc_incr_on_truncate(pgcdc_incr *incr, uint32_t xid)
{
    if (incr->phase != PHASE_OPEN && !was_inflight(incr, xid))
        return;
    for (size_t r = 0; r < incr->nheld; r++)
        incr->rows_held[r].dropped = 1;
}

/* ---------- progress ---------- */

static void progress_reset_table(pgcdc_incr *incr)
{
    free_strv(incr->last_key, incr->nkey);
    free_strv(incr->max_key, incr->nkey);
    incr->last_key = incr->max_key = NULL;
    incr->table_rows = 0;
}

static void tables_pop(pgcdc_incr *incr, int i)
{
    if (i == 0) {
        pgcdc_status_table_finish(incr->status, incr->status_id);
        incr->status_id = -1;
        window_clear(incr);
        progress_reset_table(incr);
        incr->nkey = 0;
    }
    free(incr->tables[i].name);
    free(incr->tables[i].filter);
    memmove(&incr->tables[i], &incr->tables[i + 1],
            (size_t)(incr->ntables - i - 1) * sizeof(*incr->tables));
    incr->ntables--;
    incr->dirty = 1;
    if (incr->ntables == 0) {
        free(incr->signal_id);
        incr->signal_id = NULL;
    }
}

static void tables_push(pgcdc_incr *incr, const char *name, const char *filter)
{
    if (incr->ntables == incr->tables_cap) {
        incr->tables_cap = incr->tables_cap ? incr->tables_cap * 2 : 8;
        incr->tables = xrealloc(incr->tables, (size_t)incr->tables_cap * sizeof(*incr->tables));
    }
    incr->tables[incr->ntables].name = xstrdup(name);
    incr->tables[incr->ntables].filter = filter && *filter ? xstrdup(filter) : NULL;
    incr->ntables++;
    incr->dirty = 1;
}

static void set_phase_after_change(pgcdc_incr *incr)
{
    if (incr->phase == PHASE_WAIT_OPEN || incr->phase == PHASE_OPEN)
        return;
    incr->phase = incr->ntables && !incr->paused ? PHASE_PENDING : PHASE_IDLE;
}

static json_t *strv_json(char **v, int n)
{
    if (!v)
        return json_null();
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, v[i] ? json_string(v[i]) : json_null());
    return a;
}

char *pgcdc_incr_take_state(pgcdc_incr *incr)
{
    if (!incr || !incr->dirty)
        return NULL;
    incr->dirty = 0;
    json_t *o = json_object();
    json_t *ts = json_array();
    for (int i = 0; i < incr->ntables; i++) {
        json_t *t = json_object();
        json_object_set_new(t, "table", json_string(incr->tables[i].name));
        json_object_set_new(t, "filter",
                            incr->tables[i].filter ? json_string(incr->tables[i].filter)
                                                   : json_null());
        json_array_append_new(ts, t);
    }
    json_object_set_new(o, "signal", incr->signal_id ? json_string(incr->signal_id) : json_null());
    json_object_set_new(o, "tables", ts);
    json_object_set_new(o, "last_key", strv_json(incr->last_key, incr->nkey));
    json_object_set_new(o, "max_key", strv_json(incr->max_key, incr->nkey));
    json_object_set_new(o, "paused", json_boolean(incr->paused));
    json_object_set_new(o, "chunks", json_integer((json_int_t)incr->chunks));
    json_object_set_new(o, "rows", json_integer((json_int_t)incr->rows));
    json_object_set_new(o, "table_rows", json_integer((json_int_t)incr->table_rows));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s) {
        fprintf(stderr, "pgcdc: out of memory\n");
        abort();
    }
    return s;
}

static char **strv_from_json(json_t *a, int *n)
{
    if (!json_is_array(a) || json_array_size(a) == 0)
        return NULL;
    *n = (int)json_array_size(a);
    char **v = calloc((size_t)*n, sizeof(char *));
    if (!v)
        return NULL;
    for (int i = 0; i < *n; i++) {
        const char *s = json_string_value(json_array_get(a, (size_t)i));
        v[i] = s ? xstrdup(s) : NULL;
    }
    return v;
}

static void restore_json(pgcdc_incr *incr, const char *state_json);

/* Replaces the progress with state_json's; forgets the window and signals. */
static void restore(pgcdc_incr *incr, const char *state_json)
{
    /* the status entry of the current table survives a rewind to it */
    int keep_id = incr->status_id;
    char *keep_name = keep_id >= 0 && incr->ntables ? xstrdup(incr->tables[0].name) : NULL;
    incr->status_id = -1;
    window_clear(incr);
    progress_reset_table(incr);
    while (incr->ntables)
        tables_pop(incr, incr->ntables - 1);
    for (int i = 0; i < incr->nsignals; i++) {
        free(incr->signals[i].id);
        free(incr->signals[i].type);
        free(incr->signals[i].data);
    }
    incr->nsignals = 0;
    incr->nkey = 0;
    incr->paused = 0;
    incr->chunks = incr->rows = 0;
    incr->phase = PHASE_IDLE;
    incr->dirty = 0;
    if (state_json)
        restore_json(incr, state_json);
    if (keep_name && incr->ntables && !strcmp(incr->tables[0].name, keep_name))
        incr->status_id = keep_id;
    else
        pgcdc_status_table_finish(incr->status, keep_id);
    free(keep_name);
}

/* The progress part of restore(). */
static void restore_json(pgcdc_incr *incr, const char *state_json)
{
    json_error_t jerr;
    json_t *o = json_loads(state_json, 0, &jerr);
    if (!json_is_object(o)) {
        pgcdc_log_warn(LOG, "ignoring unreadable incremental snapshot progress: %s", jerr.text);
        json_decref(o);
        return;
    }
    json_t *ts = json_object_get(o, "tables");
    for (size_t i = 0; json_is_array(ts) && i < json_array_size(ts); i++) {
        json_t *t = json_array_get(ts, i);
        const char *name = json_string_value(json_object_get(t, "table"));
        if (name)
            tables_push(incr, name, json_string_value(json_object_get(t, "filter")));
    }
    const char *sig = json_string_value(json_object_get(o, "signal"));
    free(incr->signal_id);
    incr->signal_id = sig ? xstrdup(sig) : NULL;
    int n1 = 0, n2 = 0;
    incr->last_key = strv_from_json(json_object_get(o, "last_key"), &n1);
    incr->max_key = strv_from_json(json_object_get(o, "max_key"), &n2);
    if (incr->max_key && (!incr->last_key || n1 == n2))
        incr->nkey = n2;
    else { /* inconsistent: start the current table over */
        free_strv(incr->last_key, n1);
        free_strv(incr->max_key, n2);
        incr->last_key = incr->max_key = NULL;
    }
    incr->paused = json_is_true(json_object_get(o, "paused"));
    incr->chunks = (uint64_t)json_integer_value(json_object_get(o, "chunks"));
    incr->rows = (uint64_t)json_integer_value(json_object_get(o, "rows"));
    incr->table_rows = (uint64_t)json_integer_value(json_object_get(o, "table_rows"));
    json_decref(o);
    incr->dirty = 0;
    set_phase_after_change(incr);
}

void pgcdc_incr_rewind(pgcdc_incr *incr, const char *state_json)
{
    if (incr)
        restore(incr, state_json);
}

/* ---------- signals ---------- */

static int value_is(const pgcdc_value *v, const char *s)
{
    size_t n = strlen(s);
    return v->kind == 't' && v->len == n && !memcmp(v->data, s, n);
}

static char *value_dup(const pgcdc_value *v)
{
    if (v->kind != 't')
        return NULL;
    char *s = malloc((size_t)v->len + 1);
    if (!s) {
        fprintf(stderr, "pgcdc: out of memory\n");
        abort();
    }
    memcpy(s, v->data, v->len);
    s[v->len] = 0;
    return s;
}

int pgcdc_incr_on_signal_row(pgcdc_incr *incr, char op, const pgcdc_row *row)
{
    if (!row || row->ncols < 2)
        return 0;
    const pgcdc_value *id = &row->cols[0], *type = &row->cols[1];
    char want[48];
    if (op == 'd') {
        /* insert_delete: deleting the open watermark closes the window */
        snprintf(want, sizeof(want), "%s-open", incr->chunk_id);
        return incr->phase == PHASE_OPEN && incr->chunk_id[0] && value_is(id, want);
    }
    if (op != 'c')
        return 0;
    if (value_is(type, "snapshot-window-open")) {
        snprintf(want, sizeof(want), "%s-open", incr->chunk_id);
        if (incr->phase == PHASE_WAIT_OPEN && incr->chunk_id[0] && value_is(id, want))
            incr->phase = PHASE_OPEN;
        return 0; /* another process's (or an abandoned) window: ignored */
    }
    if (value_is(type, "snapshot-window-close")) {
        snprintf(want, sizeof(want), "%s-close", incr->chunk_id);
        return incr->phase == PHASE_OPEN && incr->chunk_id[0] && value_is(id, want);
    }
    if (incr->nsignals == incr->signals_cap) {
        incr->signals_cap = incr->signals_cap ? incr->signals_cap * 2 : 4;
        incr->signals = xrealloc(incr->signals, (size_t)incr->signals_cap * sizeof(*incr->signals));
    }
    queued_signal *s = &incr->signals[incr->nsignals++];
    s->id = value_dup(id);
    s->type = value_dup(type);
    s->data = row->ncols >= 3 ? value_dup(&row->cols[2]) : NULL;
    return 0;
}

/* The captured tables: published and passing the filters. */
static PGresult *captured_tables(pgcdc_incr *incr)
{
    const char *params[1] = {incr->cfg->publication_name};
    PGresult *res = PQexecParams(incr->cat->conn,
                                 "SELECT schemaname, tablename FROM pg_publication_tables "
                                 "WHERE pubname = $1 ORDER BY 1, 2",
                                 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pgcdc_log_warn(LOG, "cannot list the published tables: %s", PQresultErrorMessage(res));
        PQclear(res);
        return NULL;
    }
    return res;
}

static int queued(const pgcdc_incr *incr, const char *name)
{
    for (int i = 0; i < incr->ntables; i++)
        if (!strcmp(incr->tables[i].name, name))
            return 1;
    return 0;
}

/* The additional condition for `name`: Debezium's additional-conditions
 * array, or the older single additional-condition string. */
static const char *condition_for(json_t *data, const char *name)
{
    json_t *conds = json_object_get(data, "additional-conditions");
    for (size_t i = 0; json_is_array(conds) && i < json_array_size(conds); i++) {
        json_t *c = json_array_get(conds, i);
        const char *dc = json_string_value(json_object_get(c, "data-collection"));
        if (dc && !strcmp(dc, name))
            return json_string_value(json_object_get(c, "filter"));
    }
    return json_string_value(json_object_get(data, "additional-condition"));
}

static void signal_execute(pgcdc_incr *incr, const queued_signal *s)
{
    json_error_t jerr;
    json_t *data = s->data ? json_loads(s->data, 0, &jerr) : NULL;
    json_t *dcs = json_object_get(data, "data-collections");
    const char *type = json_string_value(json_object_get(data, "type"));
    if (!json_is_array(dcs) || json_array_size(dcs) == 0) {
        pgcdc_log_error(LOG,
                        "signal %s: execute-snapshot needs data {\"data-collections\": "
                        "[\"schema.table\", ...]}; got %s: ignored",
                        s->id ? s->id : "?", s->data ? s->data : "null");
        goto out;
    }
    if (type && strcasecmp(type, "incremental") != 0) {
        pgcdc_log_error(LOG,
                        "signal %s: execute-snapshot of type '%s' is not supported (only "
                        "\"incremental\"): ignored",
                        s->id ? s->id : "?", type);
        goto out;
    }
    PGresult *res = captured_tables(incr);
    if (!res)
        goto out;
    pgcdc_buf added = PGCDC_BUF_INIT, name = PGCDC_BUF_INIT;
    int nadded = 0;
    for (size_t i = 0; i < json_array_size(dcs); i++) {
        const char *want = json_string_value(json_array_get(dcs, i));
        if (!want) {
            pgcdc_log_error(LOG, "signal %s: data-collections entry %zu is not a string: ignored",
                            s->id ? s->id : "?", i);
            continue;
        }
        /* exact schema.table first; otherwise a regular expression over the
         * captured tables, as Debezium accepts */
        regex_t re;
        int have_re = 0, matched = 0;
        for (int pass = 0; pass < 2 && !matched; pass++) {
            if (pass == 1) {
                char err[256];
                if (pgcdc_regex_full_compile(&re, want, err, sizeof(err)) != 0)
                    break;
                have_re = 1;
            }
            for (int r = 0; r < PQntuples(res); r++) {
                const char *sch = PQgetvalue(res, r, 0), *tbl = PQgetvalue(res, r, 1);
                pgcdc_buf_reset(&name);
                pgcdc_buf_printf(&name, "%s.%s", sch, tbl);
                int hit =
                    pass == 0 ? !strcmp(name.data, want) : regexec(&re, name.data, 0, NULL, 0) == 0;
                if (!hit)
                    continue;
                matched = 1;
                if (!pgcdc_filter_table(incr->filter, sch, tbl)) {
                    pgcdc_log_warn(LOG,
                                   "signal %s: %s is excluded by the table/schema filters: "
                                   "not snapshotted",
                                   s->id ? s->id : "?", name.data);
                    continue;
                }
                if (queued(incr, name.data)) {
                    pgcdc_log_info(LOG, "signal %s: %s is already queued", s->id ? s->id : "?",
                                   name.data);
                    continue;
                }
                tables_push(incr, name.data, condition_for(data, name.data));
                pgcdc_buf_printf(&added, "%s%s", nadded++ ? ", " : "", name.data);
            }
        }
        if (have_re)
            regfree(&re);
        if (!matched)
            pgcdc_log_error(LOG,
                            "signal %s: no captured table matches '%s' (publication %s; name "
                            "tables as schema.table): ignored",
                            s->id ? s->id : "?", want, incr->cfg->publication_name);
    }
    PQclear(res);
    if (nadded) {
        if (!incr->signal_id)
            incr->signal_id = xstrdup(s->id);
        pgcdc_log_info(LOG, "signal %s: incremental snapshot of %s (chunks of %d rows)%s",
                       s->id ? s->id : "?", added.data, incr->cfg->incr_chunk_size,
                       incr->paused ? "; paused until a resume-snapshot signal" : "");
    }
    pgcdc_buf_free(&added);
    pgcdc_buf_free(&name);
out:
    json_decref(data);
}

static void signal_stop(pgcdc_incr *incr, const queued_signal *s)
{
    json_error_t jerr;
    json_t *data = s->data ? json_loads(s->data, 0, &jerr) : NULL;
    json_t *dcs = json_object_get(data, "data-collections");
    if (!json_is_array(dcs) || json_array_size(dcs) == 0) {
        if (incr->ntables)
            pgcdc_log_info(LOG, "signal %s: stop-snapshot: %d table(s) no longer snapshotted",
                           s->id ? s->id : "?", incr->ntables);
        while (incr->ntables)
            tables_pop(incr, incr->ntables - 1);
        if (incr->phase != PHASE_IDLE)
            incr->phase = PHASE_IDLE;
        goto out;
    }
    for (size_t i = 0; i < json_array_size(dcs); i++) {
        const char *want = json_string_value(json_array_get(dcs, i));
        for (int t = 0; want && t < incr->ntables; t++) {
            if (strcmp(incr->tables[t].name, want) != 0)
                continue;
            pgcdc_log_info(LOG, "signal %s: stop-snapshot: %s no longer snapshotted",
                           s->id ? s->id : "?", want);
            if (t == 0 && (incr->phase == PHASE_WAIT_OPEN || incr->phase == PHASE_OPEN))
                incr->phase = PHASE_PENDING; /* the window in flight is abandoned */
            tables_pop(incr, t);
            break;
        }
    }
    if (!incr->ntables)
        incr->phase = PHASE_IDLE;
out:
    json_decref(data);
}

void pgcdc_incr_on_commit(pgcdc_incr *incr)
{
    if (!incr)
        return;
    for (int i = 0; i < incr->nsignals; i++) {
        queued_signal *s = &incr->signals[i];
        const char *type = s->type ? s->type : "";
        if (!strcmp(type, "execute-snapshot")) {
            signal_execute(incr, s);
        } else if (!strcmp(type, "stop-snapshot")) {
            signal_stop(incr, s);
        } else if (!strcmp(type, "pause-snapshot")) {
            if (!incr->paused)
                pgcdc_log_info(LOG, "signal %s: incremental snapshot paused", s->id ? s->id : "?");
            incr->paused = 1;
            incr->dirty = 1;
        } else if (!strcmp(type, "resume-snapshot")) {
            if (incr->paused)
                pgcdc_log_info(LOG, "signal %s: incremental snapshot resumed", s->id ? s->id : "?");
            incr->paused = 0;
            incr->dirty = 1;
        } else if (!strcmp(type, "log")) {
            json_error_t jerr;
            json_t *data = s->data ? json_loads(s->data, 0, &jerr) : NULL;
            const char *msg = json_string_value(json_object_get(data, "message"));
            pgcdc_log_info(LOG, "signal %s: %s", s->id ? s->id : "?",
                           msg ? msg : (s->data ? s->data : ""));
            json_decref(data);
        } else {
            pgcdc_log_warn(LOG,
                           "signal %s: unknown signal type '%s' (known: execute-snapshot, "
                           "stop-snapshot, pause-snapshot, resume-snapshot, log): ignored",
                           s->id ? s->id : "?", type);
        }
        free(s->id);
        free(s->type);
        free(s->data);
    }
    incr->nsignals = 0;
    set_phase_after_change(incr);
}

/* ---------- chunks ---------- */

int pgcdc_incr_want_chunk(const pgcdc_incr *incr)
{
    return incr && incr->phase == PHASE_PENDING && !incr->paused && incr->ntables > 0;
}

/* A SQL failure: connection trouble (1) or a statement error (0 with the
 * message in errstr). */
static int conn_lost(const pgcdc_incr *incr)
{
    return PQstatus(incr->cat->conn) != CONNECTION_OK;
}

/* Shows tables[0] in the status: rows expected as the planner estimates
 * them (unknown under an additional condition), rows done so far (a
 * resumed snapshot). */
static void status_register(pgcdc_incr *incr, uint32_t relid, const char *schema, const char *tbl)
{
    int64_t estimate = -1;
    if (!incr->tables[0].filter) {
        char srelid[16];
        snprintf(srelid, sizeof(srelid), "%u", relid);
        const char *p[1] = {srelid};
        PGresult *res = PQexecParams(
            incr->cat->conn,
            "SELECT reltuples, relpages, pg_relation_size(oid) / "
            "current_setting('block_size')::bigint, current_setting('block_size')::bigint "
            "FROM pg_class WHERE oid = $1::oid",
            1, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
            estimate = pgcdc_snapshot_estimate_rows(strtod(PQgetvalue(res, 0, 0), NULL),
                                                    strtoll(PQgetvalue(res, 0, 1), NULL, 10),
                                                    strtoll(PQgetvalue(res, 0, 2), NULL, 10), 0,
                                                    strtoll(PQgetvalue(res, 0, 3), NULL, 10));
        PQclear(res);
    }
    incr->status_id = pgcdc_status_table_add(incr->status, "incremental", schema, tbl, estimate);
    pgcdc_status_table_begin(incr->status, incr->status_id);
    if (incr->table_rows)
        pgcdc_status_table_add_rows(incr->status, incr->status_id, incr->table_rows);
}

/* Loads the current table and its primary key. Returns 0, 1 when the table
 * was dropped from the queue (logged), -1 on connection trouble. */
static int chunk_prepare_table(pgcdc_incr *incr)
{
    const char *name = incr->tables[0].name;
    char *schema = NULL, *tbl = NULL, err[512];
    PGresult *res = NULL;
    int rc = -1;
    if (split_name(name, &schema, &tbl) != 0)
        goto drop;
    const char *p2[2] = {schema, tbl};
    res = PQexecParams(incr->cat->conn,
                       "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = "
                       "c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
                       2, NULL, p2, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto sql_fail;
    if (PQntuples(res) != 1) {
        pgcdc_log_error(LOG, "%s no longer exists: left out of the incremental snapshot", name);
        goto drop;
    }
    uint32_t relid = (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    res = NULL;
    if (incr->status_id < 0 && incr->status)
        status_register(incr, relid, schema, tbl);
    incr->table = pgcdc_snapshot_load_table(incr->cat, incr->enc, incr->filter, relid, schema, tbl,
                                            err, sizeof(err));
    if (!incr->table) {
        if (conn_lost(incr))
            goto out;
        pgcdc_log_error(LOG, "%s: %s: left out of the incremental snapshot", name, err);
        goto drop;
    }
    char srelid[16];
    snprintf(srelid, sizeof(srelid), "%u", relid);
    const char *p1[1] = {srelid};
    res = PQexecParams(incr->cat->conn,
                       "SELECT a.attname, format_type(a.atttypid, a.atttypmod) "
                       "FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                       "AND a.attnum = ANY(i.indkey::int2[]) "
                       "WHERE i.indrelid = $1::oid AND i.indisprimary "
                       "ORDER BY array_position(i.indkey::int2[], a.attnum)",
                       1, NULL, p1, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto sql_fail;
    int n = PQntuples(res);
    if (n == 0) {
        pgcdc_log_error(LOG,
                        "%s has no primary key: incremental snapshots read tables in primary key "
                        "order; add one (ALTER TABLE %s ADD PRIMARY KEY (...)). Left out",
                        name, name);
        goto drop;
    }
    if (incr->max_key && incr->nkey != n) {
        pgcdc_log_warn(LOG, "%s: the primary key changed since the last chunk: starting over",
                       name);
        progress_reset_table(incr);
    }
    incr->nkey = n;
    incr->key_names = calloc((size_t)n, sizeof(char *));
    incr->key_types = calloc((size_t)n, sizeof(char *));
    incr->key_idx = calloc((size_t)n, sizeof(int));
    if (!incr->key_names || !incr->key_types || !incr->key_idx) {
        fprintf(stderr, "pgcdc: out of memory\n");
        abort();
    }
    for (int k = 0; k < n; k++) {
        incr->key_names[k] = xstrdup(PQgetvalue(res, k, 0));
        incr->key_types[k] = xstrdup(PQgetvalue(res, k, 1));
        incr->key_idx[k] = -1;
        for (int i = 0; i < incr->table->ncols; i++)
            if (!strcmp(incr->table->cols[i].name, incr->key_names[k]))
                incr->key_idx[k] = i;
        if (incr->key_idx[k] < 0) {
            pgcdc_log_error(LOG, "%s: primary key column %s is not readable: left out", name,
                            incr->key_names[k]);
            goto drop;
        }
    }
    rc = 0;
    goto out;
sql_fail:
    if (conn_lost(incr))
        goto out;
    pgcdc_log_error(LOG, "%s: %s: left out of the incremental snapshot", name,
                    PQresultErrorMessage(res));
drop:
    tables_pop(incr, 0);
    rc = 1;
out:
    PQclear(res);
    free(schema);
    free(tbl);
    if (rc != 0)
        window_clear(incr);
    return rc;
}

/* Appends "(k1, k2) <op> ($i::t1, $i+1::t2)". */
static void key_compare(const pgcdc_incr *incr, pgcdc_buf *sql, const char *op, int first_param)
{
    pgcdc_buf_putc(sql, '(');
    for (int k = 0; k < incr->nkey; k++) {
        char *q =
            PQescapeIdentifier(incr->cat->conn, incr->key_names[k], strlen(incr->key_names[k]));
        pgcdc_buf_printf(sql, "%s%s", k ? ", " : "", q);
        PQfreemem(q);
    }
    pgcdc_buf_printf(sql, ") %s (", op);
    for (int k = 0; k < incr->nkey; k++)
        pgcdc_buf_printf(sql, "%s$%d::%s", k ? ", " : "", first_param + k, incr->key_types[k]);
    pgcdc_buf_putc(sql, ')');
}

static void key_order(const pgcdc_incr *incr, pgcdc_buf *sql, const char *dir)
{
    PGCDC_BUF_LIT(sql, " ORDER BY ");
    for (int k = 0; k < incr->nkey; k++) {
        char *q =
            PQescapeIdentifier(incr->cat->conn, incr->key_names[k], strlen(incr->key_names[k]));
        pgcdc_buf_printf(sql, "%s%s%s", k ? ", " : "", q, dir);
        PQfreemem(q);
    }
}

static void table_from(const pgcdc_incr *incr, pgcdc_buf *sql)
{
    const pgcdc_table *t = incr->table;
    char *qs = PQescapeIdentifier(incr->cat->conn, t->schema, strlen(t->schema));
    char *qt = PQescapeIdentifier(incr->cat->conn, t->name, strlen(t->name));
    pgcdc_buf_printf(sql, " FROM %s.%s", qs, qt);
    PQfreemem(qs);
    PQfreemem(qt);
}

/* Finds the table's largest key (under the additional condition) when not
 * known yet. Returns 0, 1 when the table is empty or its condition fails
 * (the table is done or dropped), -1 on connection trouble. */
static int chunk_max_key(pgcdc_incr *incr)
{
    if (incr->max_key)
        return 0;
    const char *name = incr->tables[0].name, *cond = incr->tables[0].filter;
    pgcdc_buf sql = PGCDC_BUF_INIT;
    PGCDC_BUF_LIT(&sql, "SELECT ");
    for (int k = 0; k < incr->nkey; k++) {
        char *q =
            PQescapeIdentifier(incr->cat->conn, incr->key_names[k], strlen(incr->key_names[k]));
        pgcdc_buf_printf(&sql, "%s%s", k ? ", " : "", q);
        PQfreemem(q);
    }
    table_from(incr, &sql);
    if (cond)
        pgcdc_buf_printf(&sql, " WHERE (%s)", cond);
    key_order(incr, &sql, " DESC");
    PGCDC_BUF_LIT(&sql, " LIMIT 1");
    PGresult *res = PQexec(incr->cat->conn, sql.data);
    pgcdc_buf_free(&sql);
    int rc;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        if (conn_lost(incr)) {
            rc = -1;
        } else {
            pgcdc_log_error(LOG, "%s: reading the largest key%s failed: %s: left out", name,
                            cond ? " under the additional condition" : "",
                            PQresultErrorMessage(res));
            tables_pop(incr, 0);
            rc = 1;
        }
    } else if (PQntuples(res) == 0) {
        pgcdc_log_info(LOG, "incremental snapshot of %s: no rows%s", name,
                       cond ? " match the additional condition" : "");
        tables_pop(incr, 0);
        rc = 1;
    } else {
        incr->max_key = calloc((size_t)incr->nkey, sizeof(char *));
        if (!incr->max_key) {
            fprintf(stderr, "pgcdc: out of memory\n");
            abort();
        }
        for (int k = 0; k < incr->nkey; k++)
            incr->max_key[k] = xstrdup(PQgetvalue(res, 0, k));
        incr->table_rows = 0;
        incr->dirty = 1;
        pgcdc_log_info(LOG, "incremental snapshot of %s started", name);
        rc = 0;
    }
    PQclear(res);
    return rc;
}

/* Writes a watermark row: an insert of (id, type, '{}'), or with `delete`
 * the removal of the open row (insert_delete closes windows that way).
 * Returns 0, 1 on connection trouble, -1 with errstr. */
static int watermark(pgcdc_incr *incr, const char *kind, int delete, char *errstr,
                     size_t errstr_size)
{
    char id[48], type[40];
    snprintf(id, sizeof(id), "%s-%s", incr->chunk_id, delete ? "open" : kind);
    snprintf(type, sizeof(type), "snapshot-window-%s", kind);
    const char *params[2] = {id, type};
    pgcdc_buf sql = PGCDC_BUF_INIT;
    if (delete)
        pgcdc_buf_printf(&sql, "DELETE FROM %s WHERE %s = $1", incr->sig_qname, incr->sig_cols[0]);
    else
        pgcdc_buf_printf(&sql, "INSERT INTO %s (%s, %s, %s) VALUES ($1, $2, '{}')", incr->sig_qname,
                         incr->sig_cols[0], incr->sig_cols[1], incr->sig_cols[2]);
    PGresult *res =
        PQexecParams(incr->cat->conn, sql.data, delete ? 1 : 2, NULL, params, NULL, NULL, 0);
    pgcdc_buf_free(&sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        pgcdc_catalog_pq_error(errstr, errstr_size,
                               delete ? "removing the snapshot window watermark"
                                      : "writing the snapshot window watermark",
                               NULL, res);
    PQclear(res);
    return ok ? 0 : conn_lost(incr) ? 1 : -1;
}

/* Keeps the in-progress transaction ids of a snapshot ("xmin:xmax:x1,x2")
 * as pgoutput reports them (32 bits). */
static void inflight_parse(pgcdc_incr *incr, const char *snap)
{
    incr->ninflight = 0;
    const char *p = strchr(snap, ':');
    p = p ? strchr(p + 1, ':') : NULL;
    if (!p)
        return;
    for (p++; *p;) {
        char *end;
        unsigned long long x = strtoull(p, &end, 10);
        if (end == p)
            break;
        if (incr->ninflight == incr->inflight_cap) {
            incr->inflight_cap = incr->inflight_cap ? incr->inflight_cap * 2 : 16;
            incr->inflight = xrealloc(incr->inflight, incr->inflight_cap * sizeof(uint32_t));
        }
        incr->inflight[incr->ninflight++] = (uint32_t)x;
        p = *end == ',' ? end + 1 : end;
    }
}

/* Reads the chunk into the window. Returns 0, 1 when the table was dropped
 * (its additional condition fails), -1 on connection trouble. */
static int chunk_read(pgcdc_incr *incr)
{
    const pgcdc_table *t = incr->table;
    const char *cond = incr->tables[0].filter;
    pgcdc_buf sql = PGCDC_BUF_INIT;
    PGCDC_BUF_LIT(&sql, "SELECT ");
    for (int i = 0; i < t->ncols; i++) {
        char *q = PQescapeIdentifier(incr->cat->conn, t->cols[i].name, strlen(t->cols[i].name));
        pgcdc_buf_printf(&sql, "%s%s", i ? ", " : "", q);
        PQfreemem(q);
    }
    table_from(incr, &sql);
    PGCDC_BUF_LIT(&sql, " WHERE ");
    int np = 0;
    const char **params = calloc((size_t)incr->nkey * 2, sizeof(char *));
    if (!params) {
        fprintf(stderr, "pgcdc: out of memory\n");
        abort();
    }
    if (cond)
        pgcdc_buf_printf(&sql, "(%s) AND ", cond);
    if (incr->last_key) {
        key_compare(incr, &sql, ">", 1);
        PGCDC_BUF_LIT(&sql, " AND ");
        for (int k = 0; k < incr->nkey; k++)
            params[np++] = incr->last_key[k];
    }
    key_compare(incr, &sql, "<=", np + 1);
    for (int k = 0; k < incr->nkey; k++)
        params[np++] = incr->max_key[k];
    key_order(incr, &sql, "");
    pgcdc_buf_printf(&sql, " LIMIT %d", incr->cfg->incr_chunk_size);
    /* the read and the list of transactions it cannot see share one snapshot */
    PGresult *res = PQexec(incr->cat->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    res = ok ? PQexec(incr->cat->conn, "SELECT pg_current_snapshot()::text") : NULL;
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        inflight_parse(incr, PQgetvalue(res, 0, 0));
    else
        ok = 0;
    PQclear(res);
    res = ok ? PQexecParams(incr->cat->conn, sql.data, np, NULL, params, NULL, NULL, 0) : NULL;
    pgcdc_buf_free(&sql);
    free(params);
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
        PGresult *c = PQexec(incr->cat->conn, "COMMIT");
        if (PQresultStatus(c) != PGRES_COMMAND_OK) {
            PQclear(c);
            PQclear(res);
            return -1;
        }
        PQclear(c);
    } else {
        int lost = conn_lost(incr);
        if (!lost) {
            PGresult *rb = PQexec(incr->cat->conn, "ROLLBACK");
            PQclear(rb);
        }
    }
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        int lost = conn_lost(incr);
        if (!lost) {
            pgcdc_log_error(LOG, "%s: reading a chunk failed: %s: left out", incr->tables[0].name,
                            PQresultErrorMessage(res));
            tables_pop(incr, 0);
        }
        PQclear(res);
        return lost ? -1 : 1;
    }
    size_t rows = (size_t)PQntuples(res), ncols = (size_t)t->ncols;
    if (rows > incr->held_cap) {
        incr->held_cap = rows;
        incr->rows_held = xrealloc(incr->rows_held, rows * sizeof(held));
    }
    if (rows * ncols > incr->vals_cap) {
        incr->vals_cap = rows * ncols;
        incr->win_off = xrealloc(incr->win_off, incr->vals_cap * sizeof(size_t));
        incr->win_len = xrealloc(incr->win_len, incr->vals_cap * sizeof(uint32_t));
        incr->win_kind = xrealloc(incr->win_kind, incr->vals_cap);
    }
    for (size_t r = 0; r < rows; r++) {
        held *h = &incr->rows_held[r];
        h->vals = r * ncols;
        h->dropped = 0;
        for (size_t c = 0; c < ncols; c++) {
            size_t v = h->vals + c;
            if (PQgetisnull(res, (int)r, (int)c)) {
                incr->win_kind[v] = 'n';
                incr->win_len[v] = 0;
                incr->win_off[v] = 0;
                continue;
            }
            uint32_t len = (uint32_t)PQgetlength(res, (int)r, (int)c);
            incr->win_kind[v] = 't';
            incr->win_len[v] = len;
            incr->win_off[v] = incr->win_text.len;
            pgcdc_buf_append(&incr->win_text, PQgetvalue(res, (int)r, (int)c), len);
        }
        key_begin(incr);
        for (int k = 0; k < incr->nkey; k++) {
            int c = incr->key_idx[k];
            if (PQgetisnull(res, (int)r, c))
                key_add(incr, 'n', NULL, 0);
            else
                key_add(incr, 't', PQgetvalue(res, (int)r, c),
                        (uint32_t)PQgetlength(res, (int)r, c));
        }
        h->key_off = incr->win_keys.len;
        h->key_len = (uint32_t)incr->scratch.len;
        h->hash = hash_bytes(incr->scratch.data, incr->scratch.len);
        pgcdc_buf_append(&incr->win_keys, incr->scratch.data, incr->scratch.len);
    }
    incr->nheld = rows;
    incr->nvals = rows * ncols;
    window_index(incr);
    PQclear(res);
    return 0;
}

static void new_chunk_id(char *out, size_t n)
{
    unsigned char b[16];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        /* not cryptographic: it only has to differ from earlier windows */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
        for (int i = 0; i < 16; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
            b[i] = (unsigned char)(x >> 56);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

int pgcdc_incr_start_chunk(pgcdc_incr *incr, char *errstr, size_t errstr_size)
{
    while (pgcdc_incr_want_chunk(incr)) {
        window_clear(incr);
        int r = chunk_prepare_table(incr);
        if (r == 0)
            r = chunk_max_key(incr);
        if (r > 0) {
            set_phase_after_change(incr);
            continue; /* that table is done or left out: the next one */
        }
        if (r < 0) {
            snprintf(errstr, errstr_size, "incremental snapshot: catalog connection lost: %s",
                     PQerrorMessage(incr->cat->conn));
            window_clear(incr);
            return 1;
        }
        new_chunk_id(incr->chunk_id, sizeof(incr->chunk_id));
        r = watermark(incr, "open", 0, errstr, errstr_size);
        if (r == 0) {
            int rr = chunk_read(incr);
            if (rr > 0) {
                window_clear(incr); /* the open watermark is then ignored */
                set_phase_after_change(incr);
                continue;
            }
            if (rr < 0) {
                snprintf(errstr, errstr_size, "incremental snapshot: catalog connection lost: %s",
                         PQerrorMessage(incr->cat->conn));
                r = 1;
            }
        }
        if (r == 0)
            r = watermark(incr, "close", incr->cfg->incr_watermark_delete, errstr, errstr_size);
        if (r != 0) {
            if (r < 0) {
                char msg[768];
                snprintf(msg, sizeof(msg), "%s", errstr);
                snprintf(errstr, errstr_size,
                         "incremental snapshot: %s. pgcdc writes its chunk watermarks into the "
                         "signal table %s (signal.data.collection): grant INSERT%s on it to the "
                         "connector's user",
                         msg, incr->sig_qname,
                         incr->cfg->incr_watermark_delete ? " and DELETE" : "");
            }
            window_clear(incr);
            return r;
        }
        incr->phase = PHASE_WAIT_OPEN;
        pgcdc_log_debug(LOG, "%s: chunk %s holds %zu rows", incr->tables[0].name, incr->chunk_id,
                        incr->nheld);
        return 0;
    }
    return 0;
}

int pgcdc_incr_close_window(pgcdc_incr *incr, pgcdc_snapshot_emit_fn emit, void *ctx)
{
    const pgcdc_table *t = incr->table;
    size_t ncols = (size_t)t->ncols;
    pgcdc_value *vals = calloc(ncols ? ncols : 1, sizeof(*vals));
    if (!vals) {
        fprintf(stderr, "pgcdc: out of memory\n");
        abort();
    }
    uint64_t emitted = 0;
    int rc = 0;
    for (size_t r = 0; r < incr->nheld && rc == 0; r++) {
        const held *h = &incr->rows_held[r];
        if (h->dropped)
            continue;
        for (size_t c = 0; c < ncols; c++) {
            size_t v = h->vals + c;
            vals[c].kind = incr->win_kind[v];
            vals[c].len = incr->win_len[v];
            vals[c].data = incr->win_kind[v] == 'n' ? NULL : incr->win_text.data + incr->win_off[v];
        }
        pgcdc_row row = {(uint16_t)ncols, vals};
        pgcdc_change chg;
        memset(&chg, 0, sizeof(chg));
        chg.op = 'r';
        chg.table = t;
        chg.after = &row;
        chg.snapshot = "incremental";
        rc = emit(ctx, &chg);
        emitted++;
    }
    free(vals);
    if (rc != 0)
        return rc;
    /* the chunk is done: advance to the key of its last row */
    const char *name = incr->tables[0].name;
    incr->chunks++;
    incr->rows += emitted;
    incr->table_rows += emitted;
    pgcdc_status_table_add_rows(incr->status, incr->status_id, emitted);
    int table_done = incr->nheld < (size_t)incr->cfg->incr_chunk_size;
    char **last = NULL;
    if (!table_done) {
        const held *h = &incr->rows_held[incr->nheld - 1];
        last = calloc((size_t)incr->nkey, sizeof(char *));
        if (!last) {
            fprintf(stderr, "pgcdc: out of memory\n");
            abort();
        }
        table_done = 1;
        for (int k = 0; k < incr->nkey; k++) {
            size_t v = h->vals + (size_t)incr->key_idx[k];
            char *s = malloc((size_t)incr->win_len[v] + 1);
            if (!s) {
                fprintf(stderr, "pgcdc: out of memory\n");
                abort();
            }
            memcpy(s, incr->win_text.data + incr->win_off[v], incr->win_len[v]);
            s[incr->win_len[v]] = 0;
            last[k] = s;
            if (strcmp(s, incr->max_key[k]) != 0)
                table_done = 0;
        }
    }
    incr->dirty = 1;
    if (table_done) {
        free_strv(last, incr->nkey);
        pgcdc_log_info(LOG, "incremental snapshot of %s done: %" PRIu64 " rows", name,
                       incr->table_rows);
        tables_pop(incr, 0);
        if (!incr->ntables)
            pgcdc_log_info(LOG,
                           "incremental snapshot complete: %" PRIu64 " rows in %" PRIu64 " chunks",
                           incr->rows, incr->chunks);
    } else {
        free_strv(incr->last_key, incr->nkey);
        incr->last_key = last;
        int64_t now = pgcdc_mono_us();
        if (now - incr->last_log_us > 10000000) {
            incr->last_log_us = now;
            pgcdc_log_info(LOG, "incremental snapshot of %s: %" PRIu64 " rows so far", name,
                           incr->table_rows);
        }
    }
    window_clear(incr);
    incr->phase = PHASE_IDLE;
    set_phase_after_change(incr);
    return 0;
}

/* ---------- setup ---------- */

int pgcdc_incr_is_signal_table(const pgcdc_incr *incr, const char *schema, const char *name)
{
    return incr && !strcmp(incr->sig_schema, schema) && !strcmp(incr->sig_table, name);
}

pgcdc_incr *pgcdc_incr_new(const pgcdc_config *cfg, pgcdc_catalog *cat, const pgcdc_filter *filter,
                           pgcdc_debezium *enc, pgcdc_status *status, const char *state_json,
                           char *errstr, size_t errstr_size)
{
    pgcdc_incr *incr = calloc(1, sizeof(*incr));
    PGresult *res = NULL;
    if (!incr) {
        snprintf(errstr, errstr_size, "incremental snapshot: out of memory");
        return NULL;
    }
    incr->cfg = cfg;
    incr->cat = cat;
    incr->filter = filter;
    incr->enc = enc;
    incr->status = status;
    incr->status_id = -1;
    const char *coll = cfg->signal_data_collection;
    if (split_name(coll, &incr->sig_schema, &incr->sig_table) != 0) {
        snprintf(errstr, errstr_size,
                 "signal.data.collection: '%s' is not schema.table (e.g. public.debezium_signal)",
                 coll);
        goto fail;
    }
    const char *p2[2] = {incr->sig_schema, incr->sig_table};
    res = PQexecParams(cat->conn,
                       "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = "
                       "a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT "
                       "a.attisdropped ORDER BY a.attnum",
                       2, NULL, p2, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pgcdc_catalog_pq_error(errstr, errstr_size,
                               "signal.data.collection: reading the signal table", NULL, res);
        goto fail;
    }
    if (PQntuples(res) < 3) {
        snprintf(errstr, errstr_size,
                 "signal.data.collection: %s %s; create it: CREATE TABLE %s (id varchar(42) "
                 "PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048) NULL)",
                 coll,
                 PQntuples(res) == 0 ? "does not exist" : "needs three columns (id, type, data)",
                 coll);
        goto fail;
    }
    char *qs = PQescapeIdentifier(cat->conn, incr->sig_schema, strlen(incr->sig_schema));
    char *qt = PQescapeIdentifier(cat->conn, incr->sig_table, strlen(incr->sig_table));
    pgcdc_buf q = PGCDC_BUF_INIT;
    pgcdc_buf_printf(&q, "%s.%s", qs, qt);
    incr->sig_qname = xstrdup(q.data);
    pgcdc_buf_free(&q);
    PQfreemem(qs);
    PQfreemem(qt);
    for (int i = 0; i < 3; i++) {
        const char *col = PQgetvalue(res, i, 0);
        char *qc = PQescapeIdentifier(cat->conn, col, strlen(col));
        incr->sig_cols[i] = xstrdup(qc);
        PQfreemem(qc);
    }
    PQclear(res);
    const char *p3[3] = {cfg->publication_name, incr->sig_schema, incr->sig_table};
    res = PQexecParams(cat->conn,
                       "SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = "
                       "$2 AND tablename = $3",
                       3, NULL, p3, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pgcdc_catalog_pq_error(errstr, errstr_size,
                               "signal.data.collection: reading pg_publication_tables", NULL, res);
        goto fail;
    }
    if (PQntuples(res) == 0) {
        char *qp =
            PQescapeIdentifier(cat->conn, cfg->publication_name, strlen(cfg->publication_name));
        snprintf(errstr, errstr_size,
                 "signal.data.collection: the signal table %s is not in publication %s, so "
                 "signals cannot reach pgcdc: ALTER PUBLICATION %s ADD TABLE %s (or use "
                 "publication.autocreate.mode = filtered, which adds it)",
                 coll, cfg->publication_name, qp, incr->sig_qname);
        PQfreemem(qp);
        goto fail;
    }
    PQclear(res);
    restore(incr, state_json);
    if (incr->ntables) {
        pgcdc_log_info(LOG, "resuming the incremental snapshot of %s%s (%d table(s) queued)%s",
                       incr->tables[0].name, incr->last_key ? " after the last finished chunk" : "",
                       incr->ntables, incr->paused ? "; paused" : "");
    }
    return incr;
fail:
    PQclear(res);
    pgcdc_incr_free(incr);
    return NULL;
}

void pgcdc_incr_free(pgcdc_incr *incr)
{
    if (!incr)
        return;
    restore(incr, NULL);
    window_clear(incr);
    free(incr->tables);
    free(incr->signals);
    free(incr->rows_held);
    free(incr->inflight);
    free(incr->win_off);
    free(incr->win_len);
    free(incr->win_kind);
    pgcdc_buf_free(&incr->win_text);
    pgcdc_buf_free(&incr->win_keys);
    pgcdc_buf_free(&incr->scratch);
    free(incr->sig_schema);
    free(incr->sig_table);
    free(incr->sig_qname);
    for (int i = 0; i < 3; i++)
        free(incr->sig_cols[i]);
    free(incr);
}
