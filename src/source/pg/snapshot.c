/*
 * snapshot.c - the initial snapshot (see snapshot.h).
 *
 * Rows are read with COPY ... TO STDOUT in text format: the same output
 * functions pgoutput uses, so the converters in src/format/ apply as they
 * are, and the copy streams without materialising a result set. One row is
 * held back so that the last row of each table and of the whole snapshot
 * can carry Debezium's last_in_data_collection / last markers.
 */
#include "source/pg/snapshot.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "core/status.h"

#define PROGRESS_LOG_US (10 * 1000000LL)
#define STATUS_FLUSH_US 250000

/* Unescapes one COPY text field into out; returns the end of the output. */
static char *copy_unescape(const char *q, const char *fend, char *out)
{
    while (q < fend) {
        /* copy the run up to the next backslash in one go */
        const char *bs = memchr(q, '\\', (size_t)(fend - q));
        const char *run_end = bs ? bs : fend;
        memcpy(out, q, (size_t)(run_end - q));
        out += run_end - q;
        q = run_end;
        if (!bs)
            break;
        if (q + 1 >= fend) { /* a trailing lone backslash is literal */
            *out++ = '\\';
            break;
        }
        char c = *++q;
        q++;
        switch (c) {
        case 'b':
            *out++ = '\b';
            break;
        case 'f':
            *out++ = '\f';
            break;
        case 'n':
            *out++ = '\n';
            break;
        case 'r':
            *out++ = '\r';
            break;
        case 't':
            *out++ = '\t';
            break;
        case 'v':
            *out++ = '\v';
            break;
        case 'x': {
            int n = 0, val = 0;
            while (n < 2 && q < fend &&
                   ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') ||
                    (*q >= 'A' && *q <= 'F'))) {
                char h = *q++;
                val = val * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                n++;
            }
            *out++ = n ? (char)val : 'x';
            break;
        }
        default:
            if (c >= '0' && c <= '7') {
                int val = c - '0', n = 1;
                while (n < 3 && q < fend && *q >= '0' && *q <= '7') {
                    val = val * 8 + (*q++ - '0');
                    n++;
                }
                *out++ = (char)val;
            } else {
                *out++ = c; /* \\ and any other escaped character */
            }
        }
    }
    return out;
}

int pgcdc_copy_row_parse(const char *row, size_t len, int ncols, pgcdc_buf *scratch,
                         pgcdc_value *values, char *errstr, size_t errstr_size)
{
    if (len && row[len - 1] == '\n')
        len--;
    /* unescaped text is never longer than escaped: reserve once, never move */
    pgcdc_buf_reset(scratch);
    pgcdc_buf_reserve(scratch, len + 1);
    char *out = scratch->data;
    const char *p = row, *end = row + len;
    int col = 0;
    for (;;) {
        if (col >= ncols)
            goto bad_count;
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        const char *fend = tab ? tab : end;
        size_t flen = (size_t)(fend - p);
        pgcdc_value *v = &values[col++];
        if (flen == 2 && p[0] == '\\' && p[1] == 'N') {
            v->kind = 'n';
            v->len = 0;
            v->data = NULL;
        } else {
            char *start = out;
            out = copy_unescape(p, fend, out);
            v->kind = 't';
            v->len = (uint32_t)(out - start);
            v->data = start;
        }
        if (!tab)
            break;
        p = tab + 1;
    }
    scratch->len = (size_t)(out - scratch->data);
    if (col != ncols)
        goto bad_count;
    return 0;
bad_count:
    snprintf(errstr, errstr_size, "COPY row has %s fields than the table's %d columns",
             col >= ncols ? "more" : "fewer", ncols);
    return -1;
}

/* The snapshot's libpq errors, named as such. */
static void set_pq_error(char *errstr, size_t errstr_size, const char *what, PGresult *res,
                         PGconn *conn)
{
    char w[512];
    snprintf(w, sizeof(w), "snapshot: %s", what);
    pgcdc_catalog_pq_error(errstr, errstr_size, w, conn, res);
}

static int exec_ok(PGconn *conn, const char *sql, char *errstr, size_t errstr_size)
{
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        set_pq_error(errstr, errstr_size, sql, res, NULL);
    PQclear(res);
    return ok ? 0 : -1;
}

/* Opens the read-only REPEATABLE READ transaction of a snapshot reader and,
 * given a name, imports that exported snapshot. (READ ONLY forbids writes,
 * not a transaction id: see snapshot_txid.) */
static int begin_snapshot_txn(PGconn *conn, const char *snapshot_name, char *errstr,
                              size_t errstr_size)
{
    if (exec_ok(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", errstr, errstr_size) != 0)
        return -1;
    if (!snapshot_name)
        return 0;
    char *lit = PQescapeLiteral(conn, snapshot_name, strlen(snapshot_name));
    pgcdc_buf sql = PGCDC_BUF_INIT;
    pgcdc_buf_printf(&sql, "SET TRANSACTION SNAPSHOT %s", lit);
    PQfreemem(lit);
    int r = exec_ok(conn, sql.data, errstr, errstr_size);
    pgcdc_buf_free(&sql);
    return r;
}

/*
 * The id of the snapshot transaction, for source.txId of its rows, as
 * Debezium reads it: txid_current() (epoch included), which assigns the
 * transaction an id (READ ONLY allows that); on a standby none can be
 * assigned and *txid is 0 (null). Must run after SET TRANSACTION SNAPSHOT,
 * which has to come first in the transaction. Returns 0 or -1 with errstr.
 */
static int snapshot_txid(pgcdc_catalog *cat, uint64_t *txid, char *errstr, size_t errstr_size)
{
    char *v = NULL;
    *txid = 0;
    if (pgcdc_catalog_query_value(
            cat, "SELECT CASE WHEN pg_is_in_recovery() THEN 0 ELSE txid_current() END", &v, errstr,
            errstr_size) != 0)
        return -1;
    *txid = v ? strtoull(v, NULL, 10) : 0;
    free(v);
    return 0;
}

pgcdc_table *pgcdc_snapshot_load_table(pgcdc_catalog *cat, pgcdc_debezium *enc,
                                       const pgcdc_filter *filter, uint32_t relid,
                                       const char *schema, const char *name, char *errstr,
                                       size_t errstr_size)
{
    char srelid[16];
    snprintf(srelid, sizeof(srelid), "%u", relid);
    const char *params[1] = {srelid};
    PGresult *res = PQexecParams(cat->conn,
                                 "SELECT attname, atttypid, atttypmod FROM pg_attribute "
                                 "WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped "
                                 "AND attgenerated = '' ORDER BY attnum",
                                 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        set_pq_error(errstr, errstr_size, "reading columns", res, NULL);
        PQclear(res);
        return NULL;
    }
    pgcdc_table *t = calloc(1, sizeof(*t));
    int n = PQntuples(res);
    if (!t || !(t->cols = calloc(n ? (size_t)n : 1, sizeof(pgcdc_column))))
        goto oom;
    t->relid = relid;
    t->schema = strdup(schema);
    t->name = strdup(name);
    t->captured = 1;
    t->ncols = n;
    if (!t->schema || !t->name)
        goto oom;
    for (int i = 0; i < n; i++) {
        pgcdc_column *c = &t->cols[i];
        if (!(c->name = strdup(PQgetvalue(res, i, 0))))
            goto oom;
        c->included = pgcdc_filter_column(filter, schema, name, c->name);
        char err[256];
        if (pgcdc_coltype_resolve(&c->type, (uint32_t)strtoul(PQgetvalue(res, i, 1), NULL, 10),
                                  (int32_t)strtol(PQgetvalue(res, i, 2), NULL, 10),
                                  pgcdc_catalog_type_lookup, cat, err, sizeof(err)) != 0) {
            snprintf(errstr, errstr_size, "snapshot: table %s.%s column %s: %s", schema, name,
                     c->name, err);
            goto fail;
        }
    }
    PQclear(res);
    res = NULL;
    if (pgcdc_catalog_table_info(cat, t, errstr, errstr_size) != 0 ||
        pgcdc_filter_key_columns(filter, t, errstr, errstr_size) != 0 ||
        pgcdc_debezium_table_prepare(enc, t, errstr, errstr_size) != 0)
        goto fail;
    return t;
oom:
    snprintf(errstr, errstr_size, "snapshot: out of memory");
fail:
    PQclear(res);
    if (t) {
        pgcdc_table_clear(t);
        free(t);
    }
    return NULL;
}

/* The held-back row: two alternating storages so the next row can be read
 * before the previous one is emitted. */
typedef struct held_row {
    pgcdc_table *table;
    pgcdc_value *values;
    size_t values_cap;
    pgcdc_buf text;
    int first_overall;
    int first_in_table;
} held_row;

typedef struct snap {
    pgcdc_snapshot_emit_fn emit;
    void *ctx;
    uint64_t lsn;
    uint64_t txid; /* source.txId of every row; 0: null */
    int64_t ts_us;
    held_row rows[2];
    held_row *held; /* NULL: nothing held */
    int cur;        /* storage for the next row */
} snap;

/* Emits the held row with its marker; `last_in_table`/`last` say what
 * followed it. */
static int emit_held(snap *sn, int last_in_table, int last)
{
    held_row *h = sn->held;
    if (!h)
        return 0;
    sn->held = NULL;
    pgcdc_row row = {(uint16_t)h->table->ncols, h->values};
    pgcdc_change chg;
    memset(&chg, 0, sizeof(chg));
    chg.op = 'r';
    chg.table = h->table;
    chg.after = &row;
    chg.pos.event_lsn = sn->lsn;
    chg.txid = sn->txid;
    chg.commit_ts_us = sn->ts_us;
    /* Debezium's precedence: first, last, first_in_data_collection, ... */
    chg.snapshot = h->first_overall && !last ? "first"
                   : last                    ? "last"
                   : h->first_in_table       ? "first_in_data_collection"
                   : last_in_table           ? "last_in_data_collection"
                                             : "true";
    return sn->emit(sn->ctx, &chg);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t pgcdc_snapshot_estimate_rows(double reltuples, int64_t relpages, int64_t curpages,
                                     int64_t tuple_width, int64_t block_size)
{
    if (curpages <= 0)
        return 0; /* no heap pages, no rows */
    /* the planner's way: the density seen by the last VACUUM/ANALYZE times
     * the table's size now, so growth since then is counted */
    if (reltuples > 0 && relpages > 0)
        return (int64_t)llround(reltuples / (double)relpages * (double)curpages);
    /* never analyzed (-1), or empty when last looked at: as the planner
     * does, guess the density from the column widths (page header 24
     * bytes, tuple header 24 plus a 4-byte line pointer per row) */
    if (tuple_width < 0 || block_size <= 24)
        return -1;
    int64_t density = (block_size - 24) / (tuple_width + 28);
    return (density < 1 ? 1 : density) * curpages;
}

/* Appends "2 of 5 tables done, <progress>" for the initial snapshot. */
static void format_overall(pgcdc_status *st, pgcdc_buf *out)
{
    pgcdc_status_overall o;
    pgcdc_status_overall_get(st, PGCDC_STATUS_KIND_SNAPSHOT, &o);
    pgcdc_buf_printf(out, "%d of %d tables done, ", o.tables_done, o.tables_total);
    pgcdc_progress_format(&o.progress, out);
}

/* Logs a table's progress (finished or not) followed by the overall one. */
static void log_table_progress(pgcdc_status *st, int sid, const pgcdc_table *t)
{
    pgcdc_progress p;
    pgcdc_buf line = PGCDC_BUF_INIT;
    pgcdc_status_table_progress(st, sid, &p);
    pgcdc_buf_printf(&line, "%s.%s: ", t->schema, t->name);
    pgcdc_progress_format(&p, &line);
    PGCDC_BUF_LIT(&line, "; overall ");
    format_overall(st, &line);
    pgcdc_log_info("snapshot", "%s", line.data);
    pgcdc_buf_free(&line);
}

/* Streams one table's rows through the hold-back slot. Rows are counted
 * locally and handed to the status a few times a second, not per row. */
static int copy_table(pgcdc_catalog *cat, snap *sn, pgcdc_table *t, pgcdc_status *st, int sid,
                      uint64_t *rows_total, char *errstr, size_t errstr_size)
{
    char *qs = PQescapeIdentifier(cat->conn, t->schema, strlen(t->schema));
    char *qt = PQescapeIdentifier(cat->conn, t->name, strlen(t->name));
    pgcdc_buf sql = PGCDC_BUF_INIT;
    pgcdc_buf_printf(&sql, "COPY %s.%s TO STDOUT", qs, qt);
    PQfreemem(qs);
    PQfreemem(qt);
    PGresult *res = PQexec(cat->conn, sql.data);
    pgcdc_buf_free(&sql);
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        set_pq_error(errstr, errstr_size, "COPY", res, NULL);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    pgcdc_status_table_begin(st, sid);
    int64_t t0 = now_us(), last_log = t0, last_flush = t0;
    uint64_t rows = 0, pending = 0;
    int rc = 0, first = 1;
    char *buf = NULL;
    int n;
    while ((n = PQgetCopyData(cat->conn, &buf, 0)) > 0) {
        held_row *h = &sn->rows[sn->cur];
        if ((size_t)t->ncols > h->values_cap) {
            pgcdc_value *nv = realloc(h->values, (size_t)t->ncols * sizeof(*nv));
            if (!nv) {
                snprintf(errstr, errstr_size, "snapshot: out of memory");
                rc = -1;
                break;
            }
            h->values = nv;
            h->values_cap = (size_t)t->ncols;
        }
        char err[256];
        if (pgcdc_copy_row_parse(buf, (size_t)n, t->ncols, &h->text, h->values, err, sizeof(err)) !=
            0) {
            snprintf(errstr, errstr_size, "snapshot: %s.%s: %s", t->schema, t->name, err);
            rc = -1;
            break;
        }
        PQfreemem(buf);
        buf = NULL;
        /* the previous row is now known not to be the last of its table */
        int prev_other_table = sn->held && sn->held->table != t;
        if ((rc = emit_held(sn, prev_other_table, 0)) != 0)
            break;
        h->table = t;
        h->first_overall = *rows_total == 0 && rows == 0;
        h->first_in_table = first;
        first = 0;
        sn->held = h;
        sn->cur ^= 1;
        rows++;
        pending++;
        int64_t now = now_us();
        if (now - last_flush >= STATUS_FLUSH_US) {
            pgcdc_status_table_add_rows(st, sid, pending);
            pending = 0;
            last_flush = now;
            if (now - last_log >= PROGRESS_LOG_US) {
                log_table_progress(st, sid, t);
                last_log = now;
            }
        }
    }
    pgcdc_status_table_add_rows(st, sid, pending);
    if (buf)
        PQfreemem(buf);
    if (rc != 0) {
        /* leave the connection usable: drain the rest of the COPY */
        while ((n = PQgetCopyData(cat->conn, &buf, 0)) > 0)
            PQfreemem(buf);
    }
    res = PQgetResult(cat->conn);
    if (rc == 0 && (n == -2 || PQresultStatus(res) != PGRES_COMMAND_OK)) {
        set_pq_error(errstr, errstr_size, "COPY", res, cat->conn);
        rc = -1;
    }
    PQclear(res);
    while ((res = PQgetResult(cat->conn)))
        PQclear(res);
    if (rc == 0) {
        pgcdc_status_table_finish(st, sid);
        log_table_progress(st, sid, t);
        *rows_total += rows;
    }
    return rc;
}

/* One captured table of the snapshot. */
typedef struct captured {
    int row;            /* in the listing of published tables */
    int sid;            /* status entry */
    int64_t pages;      /* heap size now */
    int guessed;        /* estimate from column widths: no statistics */
    pgcdc_table *table; /* description; NULL until loaded */
} captured;

/* Appends how many rows the copy of c expects, for the logs. */
static void format_estimate(pgcdc_status *st, const captured *c, pgcdc_buf *out)
{
    pgcdc_progress p;
    pgcdc_status_table_progress(st, c->sid, &p);
    if (p.estimate < 0)
        PGCDC_BUF_LIT(out, "row count unknown");
    else
        pgcdc_buf_printf(out, "~%" PRId64 " rows%s", p.estimate,
                         c->guessed ? " estimated from its size" : "");
}

/* ---------- parallel copy ---------- */

typedef struct work_item {
    pgcdc_table *table;
    int ti; /* index of the table in parallel_ctx.tabs / items_left */
    int64_t first_page;
    int64_t end_page; /* exclusive; -1: to the end of the table */
} work_item;

typedef struct parallel_ctx {
    const pgcdc_config *cfg;
    pgcdc_debezium *enc;
    pgcdc_pipeline *pipe;
    volatile sig_atomic_t *stop;
    const char *snapshot_name;
    uint64_t lsn;
    uint64_t txid; /* the catalog transaction's: every worker's rows carry it */
    int64_t ts_us;
    work_item *items;
    int nitems;
    pgcdc_status *st;
    const captured *tabs;
    int ntables;
    int threads;
    pthread_mutex_t lock;
    int next_item;       /* guarded by lock */
    int failed;          /* guarded by lock */
    int stopped;         /* guarded by lock */
    uint64_t rows;       /* guarded by lock */
    int *items_left;     /* per table, ranges not yet copied; guarded by lock */
    int64_t last_log_us; /* guarded by lock */
    char errstr[512];
} parallel_ctx;

static void parallel_fail(parallel_ctx *pc, const char *msg)
{
    pthread_mutex_lock(&pc->lock);
    if (!pc->failed) {
        pc->failed = 1;
        snprintf(pc->errstr, sizeof(pc->errstr), "%s", msg);
    }
    pthread_mutex_unlock(&pc->lock);
}

static int parallel_should_stop(parallel_ctx *pc)
{
    pthread_mutex_lock(&pc->lock);
    if (*pc->stop)
        pc->stopped = 1;
    int r = pc->failed || pc->stopped;
    pthread_mutex_unlock(&pc->lock);
    return r;
}

/* Every PROGRESS_LOG_US, one worker (whichever gets here first after a
 * batch) logs the overall progress and each table being copied. */
static void parallel_maybe_log(parallel_ctx *pc)
{
    int64_t now = now_us();
    pthread_mutex_lock(&pc->lock);
    int due = now - pc->last_log_us >= PROGRESS_LOG_US;
    if (due)
        pc->last_log_us = now;
    pthread_mutex_unlock(&pc->lock);
    if (!due)
        return;
    pgcdc_buf line = PGCDC_BUF_INIT;
    format_overall(pc->st, &line);
    pgcdc_log_info("snapshot", "%d workers: %s", pc->threads, line.data);
    for (int i = 0; i < pc->ntables; i++) {
        pgcdc_progress p;
        const pgcdc_table *t = pc->tabs[i].table;
        if (pgcdc_status_table_progress(pc->st, pc->tabs[i].sid, &p) != 0 || !p.started ||
            p.finished)
            continue;
        pgcdc_buf_reset(&line);
        pgcdc_progress_format(&p, &line);
        pgcdc_log_info("snapshot", "%s.%s: %s", t->schema, t->name, line.data);
    }
    pgcdc_buf_free(&line);
}

/* Hands a full batch to the pipeline and waits for room (backpressure).
 * Returns 0, or -1 when the pipeline failed or a stop was requested. */
static int worker_push(parallel_ctx *pc, pgcdc_batch **batch)
{
    pgcdc_pipeline_push(pc->pipe, *batch);
    *batch = pgcdc_pipeline_batch_get(pc->pipe);
    for (;;) {
        int r = pgcdc_pipeline_wait_room(pc->pipe, 500);
        if (r > 0)
            return 0;
        if (r < 0) {
            char err[512];
            pgcdc_pipeline_failed(pc->pipe, err, sizeof(err));
            parallel_fail(pc, err);
            return -1;
        }
        if (parallel_should_stop(pc))
            return -1;
    }
}

/* Copies one range of pages of a table into the worker's batches. */
static int worker_copy(parallel_ctx *pc, PGconn *conn, const work_item *w, pgcdc_batch **batch,
                       pgcdc_buf *text, pgcdc_value **values, size_t *values_cap)
{
    const pgcdc_table *t = w->table;
    char err[512];
    pgcdc_buf sql = PGCDC_BUF_INIT;
    PGCDC_BUF_LIT(&sql, "COPY (SELECT ");
    for (int i = 0; i < t->ncols; i++) {
        char *q = PQescapeIdentifier(conn, t->cols[i].name, strlen(t->cols[i].name));
        pgcdc_buf_printf(&sql, "%s%s", i ? ", " : "", q);
        PQfreemem(q);
    }
    char *qs = PQescapeIdentifier(conn, t->schema, strlen(t->schema));
    char *qt = PQescapeIdentifier(conn, t->name, strlen(t->name));
    pgcdc_buf_printf(&sql, " FROM %s.%s WHERE ctid >= '(%lld,0)'::tid", qs, qt,
                     (long long)w->first_page);
    if (w->end_page >= 0)
        pgcdc_buf_printf(&sql, " AND ctid < '(%lld,0)'::tid", (long long)w->end_page);
    PGCDC_BUF_LIT(&sql, ") TO STDOUT");
    PQfreemem(qs);
    PQfreemem(qt);
    PGresult *res = PQexec(conn, sql.data);
    pgcdc_buf_free(&sql);
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        set_pq_error(err, sizeof(err), "COPY", res, NULL);
        PQclear(res);
        parallel_fail(pc, err);
        return -1;
    }
    PQclear(res);
    if ((size_t)t->ncols > *values_cap) {
        pgcdc_value *nv = realloc(*values, (size_t)t->ncols * sizeof(**values));
        if (!nv) {
            parallel_fail(pc, "snapshot: out of memory");
            return -1;
        }
        *values = nv;
        *values_cap = (size_t)t->ncols;
    }
    pgcdc_status_table_begin(pc->st, pc->tabs[w->ti].sid);
    char *buf = NULL;
    int n, rc = 0;
    uint64_t rows = 0, pending = 0;
    while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
        char perr[256];
        if (rc == 0 && pgcdc_copy_row_parse(buf, (size_t)n, t->ncols, text, *values, perr,
                                            sizeof(perr)) != 0) {
            snprintf(err, sizeof(err), "snapshot: %s.%s: %s", t->schema, t->name, perr);
            parallel_fail(pc, err);
            rc = -1;
        }
        PQfreemem(buf);
        if (rc != 0)
            continue; /* drain the COPY */
        pgcdc_row row = {(uint16_t)t->ncols, *values};
        pgcdc_change chg;
        memset(&chg, 0, sizeof(chg));
        chg.op = 'r';
        chg.table = t;
        chg.after = &row;
        chg.pos.event_lsn = pc->lsn;
        chg.txid = pc->txid;
        chg.commit_ts_us = pc->ts_us;
        chg.snapshot = "true";
        if (pgcdc_debezium_encode(pc->enc, *batch, &chg, perr, sizeof(perr)) < 0) {
            snprintf(err, sizeof(err), "snapshot: %s.%s: %s", t->schema, t->name, perr);
            parallel_fail(pc, err);
            rc = -1;
            continue;
        }
        rows++;
        pending++;
        if ((*batch)->nrecords >= (uint32_t)pc->cfg->batch_max_events ||
            (*batch)->data.len >= (4u << 20)) {
            /* progress is counted per batch: one status lock per push */
            pgcdc_status_table_add_rows(pc->st, pc->tabs[w->ti].sid, pending);
            pending = 0;
            if (worker_push(pc, batch) != 0)
                rc = -1;
            parallel_maybe_log(pc);
        }
    }
    pgcdc_status_table_add_rows(pc->st, pc->tabs[w->ti].sid, pending);
    res = PQgetResult(conn);
    if (rc == 0 && (n == -2 || PQresultStatus(res) != PGRES_COMMAND_OK)) {
        set_pq_error(err, sizeof(err), "COPY", res, conn);
        parallel_fail(pc, err);
        rc = -1;
    }
    PQclear(res);
    while ((res = PQgetResult(conn)))
        PQclear(res);
    pthread_mutex_lock(&pc->lock);
    pc->rows += rows;
    int left = rc == 0 ? --pc->items_left[w->ti] : -1;
    pthread_mutex_unlock(&pc->lock);
    if (left == 0) {
        /* every range of the table has been read (some rows may still wait
         * in other workers' unpushed batches: done means read, as in the
         * single-threaded copy) */
        pgcdc_status_table_finish(pc->st, pc->tabs[w->ti].sid);
        log_table_progress(pc->st, pc->tabs[w->ti].sid, t);
    }
    return rc;
}

static void *worker_main(void *arg)
{
    parallel_ctx *pc = arg;
    char err[512];
    pgcdc_buf ci = PGCDC_BUF_INIT, text = PGCDC_BUF_INIT;
    pgcdc_value *values = NULL;
    size_t values_cap = 0;
    pgcdc_batch *batch = NULL;
    pgcdc_config_conninfo(pc->cfg, 0, &ci);
    PGconn *conn = PQconnectdb(ci.data);
    pgcdc_buf_free(&ci);
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, sizeof(err), "snapshot worker: cannot connect: %s", PQerrorMessage(conn));
        parallel_fail(pc, err);
        goto out;
    }
    if (begin_snapshot_txn(conn, pc->snapshot_name, err, sizeof(err)) != 0)
        goto fail;
    batch = pgcdc_pipeline_batch_get(pc->pipe);
    for (;;) {
        if (parallel_should_stop(pc))
            break;
        pthread_mutex_lock(&pc->lock);
        int i = pc->next_item < pc->nitems ? pc->next_item++ : -1;
        pthread_mutex_unlock(&pc->lock);
        if (i < 0)
            break;
        if (worker_copy(pc, conn, &pc->items[i], &batch, &text, &values, &values_cap) != 0)
            break;
    }
    if (batch && batch->nrecords && !parallel_should_stop(pc)) {
        worker_push(pc, &batch);
    }
    goto out;
fail:
    parallel_fail(pc, err);
out:
    if (batch) {
        pgcdc_buf_free(&batch->data);
        free(batch);
    }
    free(values);
    pgcdc_buf_free(&text);
    PQfinish(conn);
    return NULL;
}

/* Splits tables into page ranges and runs the workers. The caller's
 * transaction (which holds the snapshot) stays open until they finish. */
static int copy_parallel(const pgcdc_config *cfg, pgcdc_debezium *enc, pgcdc_pipeline *pipe,
                         volatile sig_atomic_t *stop, const char *snapshot_name, uint64_t lsn,
                         uint64_t txid, const captured *tabs, int ntables, pgcdc_status *st,
                         uint64_t *rows, char *errstr, size_t errstr_size)
{
    int threads = cfg->snapshot_max_threads;
    parallel_ctx pc;
    memset(&pc, 0, sizeof(pc));
    pthread_mutex_init(&pc.lock, NULL);
    pc.cfg = cfg;
    pc.enc = enc;
    pc.pipe = pipe;
    pc.stop = stop;
    pc.snapshot_name = snapshot_name;
    pc.lsn = lsn;
    pc.txid = txid;
    pc.ts_us = now_us();
    pc.st = st;
    pc.tabs = tabs;
    pc.ntables = ntables;
    pc.threads = threads;
    int cap = 0, rc = -1, started = 0;
    pthread_t *tids = calloc((size_t)threads, sizeof(*tids));
    pc.items_left = calloc(ntables ? (size_t)ntables : 1, sizeof(*pc.items_left));
    if (!tids || !pc.items_left)
        goto oom;
    for (int i = 0; i < ntables; i++) {
        /* ranges small enough to balance the workers, large enough to be cheap */
        int64_t pages = tabs[i].pages, chunk = pages / (threads * 4);
        if (chunk < 128)
            chunk = 128;
        for (int64_t first = 0;; first += chunk) {
            if (pc.nitems == cap) {
                cap = cap ? cap * 2 : 64;
                work_item *nw = realloc(pc.items, (size_t)cap * sizeof(*nw));
                if (!nw)
                    goto oom;
                pc.items = nw;
            }
            int last = first + chunk >= pages;
            pc.items[pc.nitems++] = (work_item){tabs[i].table, i, first, last ? -1 : first + chunk};
            pc.items_left[i]++;
            if (last)
                break;
        }
        pgcdc_buf est = PGCDC_BUF_INIT;
        format_estimate(st, &tabs[i], &est);
        pgcdc_log_info("snapshot", "copying %s.%s (%s, %lld pages) with %d workers",
                       tabs[i].table->schema, tabs[i].table->name, est.data, (long long)pages,
                       threads);
        pgcdc_buf_free(&est);
    }
    int64_t t0 = now_us();
    pc.last_log_us = t0;
    for (; started < threads; started++)
        if (pthread_create(&tids[started], NULL, worker_main, &pc) != 0)
            break;
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    if (started == 0) {
        snprintf(errstr, errstr_size, "snapshot: cannot start worker threads");
        goto out;
    }
    *rows = pc.rows;
    if (pc.failed) {
        snprintf(errstr, errstr_size, "%s", pc.errstr);
        goto out;
    }
    if (pc.stopped) {
        rc = 2;
        goto out;
    }
    double secs = (double)(now_us() - t0) / 1e6;
    pgcdc_log_info("snapshot", "%" PRIu64 " rows in %.1f s with %d workers (%.0f rows/s)", pc.rows,
                   secs, started, secs > 0 ? (double)pc.rows / secs : 0.0);
    rc = 0;
    goto out;
oom:
    snprintf(errstr, errstr_size, "snapshot: out of memory");
out:
    free(pc.items);
    free(pc.items_left);
    free(tids);
    pthread_mutex_destroy(&pc.lock);
    return rc;
}

int pgcdc_snapshot_run(pgcdc_catalog *cat, const pgcdc_config *cfg, const pgcdc_filter *filter,
                       pgcdc_debezium *enc, const char *snapshot_name, uint64_t lsn,
                       pgcdc_snapshot_emit_fn emit, void *ctx, pgcdc_pipeline *pipe,
                       volatile sig_atomic_t *stop, pgcdc_status *status,
                       pgcdc_snapshot_stats *stats, char *errstr, size_t errstr_size)
{
    char *exported = NULL; /* snapshot shared with parallel workers */
    snap sn;
    memset(&sn, 0, sizeof(sn));
    sn.emit = emit;
    sn.ctx = ctx;
    sn.lsn = lsn;
    sn.ts_us = now_us();
    memset(stats, 0, sizeof(*stats));
    captured *tabs = NULL;
    int ncaptured = 0, rc = -1, in_txn = 0;
    PGresult *res = NULL;
    /* the progress logs read the status; without one, keep a private one */
    pgcdc_status *own = NULL, *st = status;
    if (!st && !(st = own = pgcdc_status_new(NULL, cfg->slot_name))) {
        snprintf(errstr, errstr_size, "snapshot: out of memory");
        return -1;
    }

    if (begin_snapshot_txn(cat->conn, snapshot_name, errstr, errstr_size) != 0) {
        in_txn = PQtransactionStatus(cat->conn) != PQTRANS_IDLE;
        goto out;
    }
    in_txn = 1;
    if (snapshot_txid(cat, &sn.txid, errstr, errstr_size) != 0)
        goto out;
    const char *params[1] = {cfg->publication_name};
    res = PQexecParams(cat->conn,
                       "SELECT c.oid, n.nspname, c.relname, c.reltuples::float8, c.relpages, "
                       "pg_relation_size(c.oid) / current_setting('block_size')::bigint, "
                       /* the planner's width guess: fixed widths, 32 for varlena */
                       "(SELECT coalesce(sum(CASE WHEN t.typlen > 0 THEN t.typlen ELSE 32 END), 0) "
                       " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                       " WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), "
                       "current_setting('block_size')::bigint "
                       "FROM pg_publication_tables pt "
                       "JOIN pg_namespace n ON n.nspname = pt.schemaname "
                       "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename "
                       "WHERE pt.pubname = $1 ORDER BY 2, 3",
                       1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        set_pq_error(errstr, errstr_size, "listing published tables", res, NULL);
        goto out;
    }
    int n = PQntuples(res);
    tabs = calloc(n ? (size_t)n : 1, sizeof(*tabs));
    if (!tabs) {
        snprintf(errstr, errstr_size, "snapshot: out of memory");
        goto out;
    }
    /* every captured table is listed up front, so progress has a total */
    for (int i = 0; i < n; i++) {
        const char *schema = PQgetvalue(res, i, 1), *name = PQgetvalue(res, i, 2);
        if (!pgcdc_filter_table(filter, schema, name))
            continue;
        captured *c = &tabs[ncaptured++];
        double reltuples = strtod(PQgetvalue(res, i, 3), NULL);
        int64_t relpages = strtoll(PQgetvalue(res, i, 4), NULL, 10);
        c->row = i;
        c->pages = strtoll(PQgetvalue(res, i, 5), NULL, 10);
        c->guessed = c->pages > 0 && !(reltuples > 0 && relpages > 0);
        int64_t estimate = pgcdc_snapshot_estimate_rows(reltuples, relpages, c->pages,
                                                        strtoll(PQgetvalue(res, i, 6), NULL, 10),
                                                        strtoll(PQgetvalue(res, i, 7), NULL, 10));
        c->sid = pgcdc_status_table_add(st, PGCDC_STATUS_KIND_SNAPSHOT, schema, name, estimate);
    }
    uint64_t rows_total = 0;
    int parallel = cfg->snapshot_max_threads > 1 && pipe;
    for (int k = 0; k < ncaptured; k++) {
        captured *c = &tabs[k];
        c->table = pgcdc_snapshot_load_table(
            cat, enc, filter, (uint32_t)strtoul(PQgetvalue(res, c->row, 0), NULL, 10),
            PQgetvalue(res, c->row, 1), PQgetvalue(res, c->row, 2), errstr, errstr_size);
        if (!c->table)
            goto out;
        if (parallel)
            continue; /* describe every table first, inside the snapshot */
        pgcdc_buf est = PGCDC_BUF_INIT;
        format_estimate(st, c, &est);
        pgcdc_log_info("snapshot", "copying %s.%s (%s)", c->table->schema, c->table->name,
                       est.data);
        pgcdc_buf_free(&est);
        rc = copy_table(cat, &sn, c->table, st, c->sid, &rows_total, errstr, errstr_size);
        if (rc != 0)
            goto out;
        rc = -1;
    }
    if (parallel) {
        if (!snapshot_name && pgcdc_catalog_query_value(cat, "SELECT pg_export_snapshot()",
                                                        &exported, errstr, errstr_size) != 0)
            goto out;
        rc = copy_parallel(cfg, enc, pipe, stop, snapshot_name ? snapshot_name : exported, lsn,
                           sn.txid, tabs, ncaptured, st, &rows_total, errstr, errstr_size);
        if (rc != 0)
            goto out;
        rc = -1;
    }
    rc = emit_held(&sn, 1, 1);
    if (rc != 0)
        goto out;
    stats->tables = ncaptured;
    stats->rows = rows_total;
    if (exec_ok(cat->conn, "COMMIT", errstr, errstr_size) != 0)
        goto out;
    in_txn = 0;
    rc = 0;
out:
    free(exported);
    PQclear(res);
    if (in_txn) {
        PGresult *r = PQexec(cat->conn, "ROLLBACK");
        PQclear(r);
    }
    for (int k = 0; k < ncaptured && tabs; k++) {
        if (tabs[k].table) {
            pgcdc_table_clear(tabs[k].table);
            free(tabs[k].table);
        }
    }
    free(tabs);
    for (int i = 0; i < 2; i++) {
        free(sn.rows[i].values);
        pgcdc_buf_free(&sn.rows[i].text);
    }
    pgcdc_status_free(own);
    return rc;
}
