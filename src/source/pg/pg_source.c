/*
 * pg_source.c - PostgreSQL logical replication source (see pg_source.h).
 *
 * Positions and exactly-once-per-acknowledgement: every change gets the
 * position (commit LSN of its transaction, 1-based index in it). The
 * source remembers what it has pushed to the pipeline; after a restart or
 * reconnect, PostgreSQL replays from the slot's confirmed LSN, and the
 * source drops what it already pushed (whole transactions whose commit LSN
 * lies before the pushed end LSN, and the first N changes of a partially
 * pushed one). The slot is confirmed only at transaction ends that the
 * pipeline made durable.
 */
#include "source/pg/pg_source.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "core/filter.h"
#include "core/offsets.h"
#include "core/pipeline.h"
#include "core/status.h"
#include "format/debezium.h"
#include "source/pg/catalog.h"
#include "source/pg/ddl.h"
#include "source/pg/incremental.h"
#include "source/pg/pgoutput.h"
#include "source/pg/snapshot.h"
#include "source/pg/spool.h"

#define PG_EPOCH_OFFSET_US 946684800000000LL
#define BATCH_MAX_BYTES (4u << 20)
#define STATS_INTERVAL_US (10 * 1000000LL)
#define STATUS_INTERVAL_US 1000000LL

typedef struct relcache {
    uint32_t *keys; /* 0 = empty (relid 0 never exists) */
    pgcdc_table **tables;
    size_t cap, count;
} relcache;

typedef struct pg_source {
    const pgcdc_config *cfg;
    const char *data_dir;
    volatile sig_atomic_t *stop;
    pgcdc_catalog cat;
    pgcdc_filter *filter;
    pgcdc_debezium enc;
    int enc_ready;
    pgcdc_pipeline *pipe;
    pgcdc_status *status; /* published as <data-dir>/status.json */
    PGconn *repl;
    pgcdc_pgo_parser *parser;
    pgcdc_pgo_parser *replay_parser;
    pgcdc_spool *spool;
    relcache rels;
    pgcdc_batch *batch;
    int proto;

    /* incremental snapshots (signal.data.collection set) */
    pgcdc_incr *incr;
    uint32_t signal_relid;
    char *incr_pushed_state; /* progress carried by the last pushed batch */

    /* current transaction */
    int in_txn;
    uint32_t xid;
    uint64_t final_lsn;
    int64_t commit_ts_us;
    uint64_t index;
    int skip_txn;
    uint64_t skip_upto; /* skip changes with index <= this */
    uint64_t last_commit_lsn;
    uint64_t cur_lsn; /* LSN of the change being handled (window rows reuse it) */

    /* provide.transaction.metadata: the current transaction's counts */
    char txn_id[48];
    uint64_t txn_total;
    int txn_began; /* its BEGIN record is out (or was pushed before a restart) */
    pgcdc_txn_count *txn_counts;
    uint32_t *txn_relids;
    int txn_ntables, txn_cap;
    pgcdc_txn_block txn_block;

    /* streamed transaction being received */
    int in_stream;
    uint32_t stream_xid;

    /* what was pushed to the pipeline (resume filter) */
    uint64_t pushed_done;
    uint64_t pushed_partial_commit;
    uint64_t pushed_partial_index;

    /* feedback */
    uint64_t received_lsn;
    uint64_t sent_flush;
    int64_t last_status_us;
    int64_t last_stats_us;
    uint64_t last_stats_events;
    int64_t last_status_tick_us;
    int64_t last_heartbeat_us;
    int64_t last_slot_check_us;
    int streaming_started;
    pgcdc_buf scratch;
    pgcdc_value *merged; /* an update's new row with unchanged TOAST filled in */
    uint16_t merged_cap;
    char errstr[1024];
} pg_source;

static int64_t pg_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - PG_EPOCH_OFFSET_US;
}

static uint64_t get_u64be(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | u[i];
    return v;
}

static void put_u64be(char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (char)(v & 0xff);
        v >>= 8;
    }
}

int pgcdc_pg_proto_for_server(const pgcdc_config *cfg, int server_version)
{
    if (cfg->proto_version > 0)
        return cfg->proto_version;
    if (server_version >= 160000)
        return 4;
    if (server_version >= 150000)
        return 3;
    if (server_version >= 140000)
        return 2;
    return 1;
}

/* ---------- relation cache ---------- */

static void table_free(pgcdc_table *t)
{
    if (!t)
        return;
    pgcdc_table_clear(t);
    free(t);
}

static pgcdc_table *relcache_get(relcache *rc, uint32_t relid)
{
    if (!rc->cap)
        return NULL;
    size_t mask = rc->cap - 1;
    for (size_t i = (relid * 2654435761u) & mask;; i = (i + 1) & mask) {
        if (rc->keys[i] == relid)
            return rc->tables[i];
        if (rc->keys[i] == 0)
            return NULL;
    }
}

static void relcache_put(relcache *rc, uint32_t relid, pgcdc_table *t)
{
    if ((rc->count + 1) * 2 > rc->cap) {
        size_t ncap = rc->cap ? rc->cap * 2 : 64;
        uint32_t *nk = calloc(ncap, sizeof(*nk));
        pgcdc_table **nt = calloc(ncap, sizeof(*nt));
        if (!nk || !nt) {
            fprintf(stderr, "pgcdc: out of memory in relation cache\n");
            abort();
        }
        for (size_t j = 0; j < rc->cap; j++) {
            if (!rc->keys[j])
                continue;
            for (size_t i = (rc->keys[j] * 2654435761u) & (ncap - 1);; i = (i + 1) & (ncap - 1))
                if (!nk[i]) {
                    nk[i] = rc->keys[j];
                    nt[i] = rc->tables[j];
                    break;
                }
        }
        free(rc->keys);
        free(rc->tables);
        rc->keys = nk;
        rc->tables = nt;
        rc->cap = ncap;
    }
    size_t mask = rc->cap - 1;
    for (size_t i = (relid * 2654435761u) & mask;; i = (i + 1) & mask) {
        if (rc->keys[i] == relid) {
            table_free(rc->tables[i]);
            rc->tables[i] = t;
            return;
        }
        if (rc->keys[i] == 0) {
            rc->keys[i] = relid;
            rc->tables[i] = t;
            rc->count++;
            return;
        }
    }
}

static void relcache_clear(relcache *rc)
{
    for (size_t i = 0; i < rc->cap; i++)
        if (rc->keys[i])
            table_free(rc->tables[i]);
    free(rc->keys);
    free(rc->tables);
    memset(rc, 0, sizeof(*rc));
}

/* A catalog query failed: a dead connection is a connection loss (1,
 * reconnect and replay), anything else is fatal (-1). */
static int catalog_failure(pg_source *src)
{
    return PQstatus(src->cat.conn) == CONNECTION_OK ? -1 : 1;
}

/* Makes sure the catalog connection works, reconnecting it if needed. */
static int catalog_alive(pg_source *src)
{
    PGresult *res = PQexec(src->cat.conn, "SELECT 1");
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (ok)
        return 0;
    PQreset(src->cat.conn);
    if (PQstatus(src->cat.conn) == CONNECTION_OK)
        return 0;
    snprintf(src->errstr, sizeof(src->errstr), "catalog connection: %s",
             PQerrorMessage(src->cat.conn));
    return -1;
}

/* Builds the table description from a Relation message. */
static int on_relation(pg_source *src, const pgcdc_pgo_msg *m)
{
    pgcdc_table *t = calloc(1, sizeof(*t));
    if (!t)
        goto oom;
    t->relid = m->u.relation.relid;
    t->schema = strdup(m->u.relation.nspname);
    t->name = strdup(m->u.relation.relname);
    t->replident = m->u.relation.replident;
    t->ncols = m->u.relation.ncols;
    t->cols = calloc(t->ncols ? (size_t)t->ncols : 1, sizeof(pgcdc_column));
    if (!t->schema || !t->name || !t->cols)
        goto oom;
    t->captured = pgcdc_filter_table(src->filter, t->schema, t->name);
    for (int i = 0; i < t->ncols; i++) {
        const pgcdc_pgo_relcol *rc = &m->u.relation.cols[i];
        pgcdc_column *c = &t->cols[i];
        c->name = strdup(rc->name);
        if (!c->name)
            goto oom;
        c->included = pgcdc_filter_column(src->filter, t->schema, t->name, c->name);
        char err[256];
        if (pgcdc_coltype_resolve(&c->type, rc->type_oid, rc->typmod, pgcdc_catalog_type_lookup,
                                  &src->cat, err, sizeof(err)) != 0) {
            snprintf(src->errstr, sizeof(src->errstr), "table %s.%s column %s: %s", t->schema,
                     t->name, c->name, err);
            table_free(t);
            return catalog_failure(src);
        }
    }
    if (t->captured) {
        if (pgcdc_catalog_table_info(&src->cat, t, src->errstr, sizeof(src->errstr)) != 0) {
            table_free(t);
            return catalog_failure(src);
        }
        if (pgcdc_filter_key_columns(src->filter, t, src->errstr, sizeof(src->errstr)) != 0) {
            table_free(t);
            return -1;
        }
        /* a key column filtered out of the value still belongs to the key */
        if (pgcdc_debezium_table_prepare(&src->enc, t, src->errstr, sizeof(src->errstr)) != 0) {
            table_free(t);
            return -1;
        }
    }
    if (pgcdc_incr_is_signal_table(src->incr, t->schema, t->name))
        src->signal_relid = t->relid;
    pgcdc_incr_on_relation(src->incr);
    pgcdc_log_debug("source", "relation %u %s.%s: %d columns, %d key columns, %s", t->relid,
                    t->schema, t->name, t->ncols, t->nkeys,
                    t->captured ? "captured" : "not captured");
    relcache_put(&src->rels, t->relid, t);
    return 0;
oom:
    table_free(t);
    snprintf(src->errstr, sizeof(src->errstr), "source: out of memory");
    return -1;
}

/* ---------- batches and feedback ---------- */

static int send_status(pg_source *src, int force)
{
    uint64_t flush = pgcdc_pipeline_confirmed_lsn(src->pipe);
    int64_t now = pgcdc_mono_us();
    int64_t interval = (int64_t)src->cfg->status_interval_ms * 1000;
    if (!force && flush == src->sent_flush && now - src->last_status_us < interval)
        return 0;
    if (!force && flush != src->sent_flush && now - src->last_status_us < 20000)
        return 0; /* coalesce: at most 50 confirmations a second */
    char msg[34];
    msg[0] = 'r';
    uint64_t write = src->received_lsn > flush ? src->received_lsn : flush;
    put_u64be(msg + 1, write);
    put_u64be(msg + 9, flush);
    put_u64be(msg + 17, flush);
    put_u64be(msg + 25, (uint64_t)pg_now_us());
    msg[33] = 0;
    if (PQputCopyData(src->repl, msg, sizeof(msg)) <= 0 || PQflush(src->repl) < 0) {
        snprintf(src->errstr, sizeof(src->errstr), "sending standby status: %s",
                 PQerrorMessage(src->repl));
        return 1; /* connection problem: reconnect */
    }
    if (flush != src->sent_flush) {
        char l[32];
        pgcdc_lsn_format(flush, l, sizeof(l));
        pgcdc_log_debug("source", "confirmed flush LSN %s", l);
    }
    src->sent_flush = flush;
    src->last_status_us = now;
    return 0;
}

/* Hands the pipeline's figures to the status about once a second (the
 * status file's writer decides whether anything changed). */
static void status_tick(pg_source *src, int force)
{
    int64_t now = pgcdc_mono_us();
    if (!src->pipe || (!force && now - src->last_status_tick_us < STATUS_INTERVAL_US))
        return;
    src->last_status_tick_us = now;
    pgcdc_pipeline_stats st;
    pgcdc_pipeline_stats_get(src->pipe, &st);
    pgcdc_status_set_stream(src->status, st.events_acked, st.bytes_queued, st.confirmed_lsn);
}

static void log_stats(pg_source *src, int force)
{
    status_tick(src, force);
    int64_t now = pgcdc_mono_us();
    if (!force && now - src->last_stats_us < STATS_INTERVAL_US)
        return;
    pgcdc_pipeline_stats st;
    pgcdc_pipeline_stats_get(src->pipe, &st);
    double secs = src->last_stats_us ? (double)(now - src->last_stats_us) / 1e6 : 0;
    char l[32];
    pgcdc_lsn_format(st.confirmed_lsn, l, sizeof(l));
    pgcdc_log_info("source",
                   "records acknowledged %" PRIu64 " (r=%" PRIu64 " c=%" PRIu64 " u=%" PRIu64
                   " d=%" PRIu64 " t=%" PRIu64 " m=%" PRIu64 " ddl=%" PRIu64 " tombstones=%" PRIu64
                   "), %.0f/s, queued %" PRIu64 " bytes, confirmed LSN %s",
                   st.events_acked, st.acked_by_op['r'], st.acked_by_op['c'], st.acked_by_op['u'],
                   st.acked_by_op['d'], st.acked_by_op['t'], st.acked_by_op['m'],
                   st.acked_by_op['s'], st.acked_by_op['0'],
                   secs > 0 ? (double)(st.events_acked - src->last_stats_events) / secs : 0.0,
                   st.bytes_queued, l);
    src->last_stats_us = now;
    src->last_stats_events = st.events_acked;
}

/* Pushes the current batch (if it carries anything) and applies
 * backpressure. Returns 0, 1 on connection trouble, -1 on fatal error. */
static int push_batch(pg_source *src)
{
    pgcdc_batch *b = src->batch;
    if (b->nrecords == 0 && !b->has_pos)
        return 0;
    if (b->incr_state) {
        /* a reconnect rewinds the incremental snapshot to what was pushed */
        free(src->incr_pushed_state);
        src->incr_pushed_state = strdup(b->incr_state);
        if (!src->incr_pushed_state) {
            snprintf(src->errstr, sizeof(src->errstr), "source: out of memory");
            return -1;
        }
    }
    if (b->has_pos) {
        if (b->pos.end_lsn) {
            if (b->pos.end_lsn > src->pushed_done)
                src->pushed_done = b->pos.end_lsn;
            src->pushed_partial_commit = 0;
            src->pushed_partial_index = 0;
        } else {
            src->pushed_partial_commit = b->pos.commit_lsn;
            src->pushed_partial_index = b->pos.index;
        }
    }
    /* what source.sequence continues from after a restart (see offsets.h) */
    b->last_commit_lsn = src->last_commit_lsn;
    pgcdc_pipeline_push(src->pipe, b);
    src->batch = pgcdc_pipeline_batch_get(src->pipe);
    status_tick(src, 0);
    for (;;) {
        int r = pgcdc_pipeline_wait_room(src->pipe, 1000);
        if (r > 0)
            return 0;
        if (r < 0) {
            pgcdc_pipeline_failed(src->pipe, src->errstr, sizeof(src->errstr));
            return -1;
        }
        /* a slow sink: keep the walsender from timing us out meanwhile */
        if (src->repl && send_status(src, 1) != 0)
            return 1;
        log_stats(src, 0);
        if (*src->stop)
            return 0;
    }
}

static int maybe_push(pg_source *src)
{
    pgcdc_batch *b = src->batch;
    if (b->nrecords >= (uint32_t)src->cfg->batch_max_events || b->data.len >= BATCH_MAX_BYTES)
        return push_batch(src);
    return 0;
}

/* ---------- change handling ---------- */

static void set_pos(pg_source *src, uint64_t event_lsn, uint64_t end_lsn)
{
    pgcdc_batch *b = src->batch;
    b->pos.commit_lsn = src->final_lsn;
    b->pos.end_lsn = end_lsn;
    b->pos.index = src->index;
    b->pos.event_lsn = event_lsn;
    b->pos.xid = src->xid;
    b->has_pos = 1;
}

static void begin_txn(pg_source *src, uint32_t xid, uint64_t final_lsn, int64_t commit_ts)
{
    src->in_txn = 1;
    src->xid = xid;
    src->final_lsn = final_lsn;
    src->commit_ts_us = commit_ts + PG_EPOCH_OFFSET_US;
    src->index = 0;
    src->skip_upto = 0;
    src->skip_txn = final_lsn < src->pushed_done;
    if (!src->skip_txn && final_lsn == src->pushed_partial_commit)
        src->skip_upto = src->pushed_partial_index;
    for (int i = 0; i < src->txn_ntables; i++)
        free((char *)src->txn_counts[i].data_collection);
    src->txn_ntables = 0;
    src->txn_total = 0;
    src->txn_began = 0;
}

/*
 * Counts one captured event of the current transaction and returns its
 * transaction block (NULL when provide.transaction.metadata is off). Events
 * already pushed before a restart (`pushed`) are counted too, so the orders
 * come out as they did the first time; the BEGIN record goes out with the
 * first event that is not.
 */
static const pgcdc_txn_block *txn_event(pg_source *src, const pgcdc_table *t, int pushed,
                                        uint64_t lsn)
{
    if (!src->cfg->provide_txn)
        return NULL;
    if (src->txn_total == 0)
        snprintf(src->txn_id, sizeof(src->txn_id), "%u:%" PRIu64, src->xid, src->final_lsn);
    int i;
    for (i = 0; i < src->txn_ntables && src->txn_relids[i] != t->relid; i++)
        ;
    if (i == src->txn_ntables) {
        if (src->txn_ntables == src->txn_cap) {
            int cap = src->txn_cap ? src->txn_cap * 2 : 8;
            pgcdc_txn_count *c = realloc(src->txn_counts, (size_t)cap * sizeof(*c));
            if (c)
                src->txn_counts = c;
            uint32_t *r = realloc(src->txn_relids, (size_t)cap * sizeof(*r));
            if (r)
                src->txn_relids = r;
            if (!c || !r) {
                fprintf(stderr, "pgcdc: out of memory\n");
                abort();
            }
            src->txn_cap = cap;
        }
        size_t n = strlen(t->schema) + strlen(t->name) + 2;
        char *name = malloc(n);
        if (!name) {
            fprintf(stderr, "pgcdc: out of memory\n");
            abort();
        }
        snprintf(name, n, "%s.%s", t->schema, t->name);
        src->txn_relids[i] = t->relid;
        src->txn_counts[i] = (pgcdc_txn_count){name, 0};
        src->txn_ntables++;
    }
    src->txn_total++;
    src->txn_counts[i].event_count++;
    if (!src->txn_began) {
        src->txn_began = 1;
        if (!pushed) {
            pgcdc_position pos = {src->final_lsn, 0, src->index, lsn, src->xid};
            pgcdc_debezium_txn_boundary(&src->enc, src->batch, &pos, 0, src->txn_id,
                                        src->commit_ts_us, 0, NULL, 0);
        }
    }
    src->txn_block = (pgcdc_txn_block){src->txn_id, src->txn_total, src->txn_counts[i].event_count};
    return &src->txn_block;
}

static int skip_op(const pgcdc_config *cfg, char op)
{
    switch (op) {
    case 'c':
        return cfg->skipped_ops & PGCDC_SKIP_CREATE;
    case 'u':
        return cfg->skipped_ops & PGCDC_SKIP_UPDATE;
    case 'd':
        return cfg->skipped_ops & PGCDC_SKIP_DELETE;
    case 't':
        return cfg->skipped_ops & PGCDC_SKIP_TRUNCATE;
    default:
        return 0;
    }
}

static int encode(pg_source *src, pgcdc_change *chg)
{
    char err[768];
    if (!chg->snapshot) {
        chg->last_commit_lsn = src->last_commit_lsn;
        chg->snapshot = "false";
    }
    if (pgcdc_debezium_encode(&src->enc, src->batch, chg, err, sizeof(err)) < 0) {
        char l[32];
        pgcdc_lsn_format(chg->pos.event_lsn, l, sizeof(l));
        snprintf(src->errstr, sizeof(src->errstr),
                 "cannot encode the change at LSN %s (xid %u) of %s.%s: %s", l, chg->pos.xid,
                 chg->table ? chg->table->schema : "?", chg->table ? chg->table->name : "?", err);
        return -1;
    }
    return 0;
}

/* A change of the current transaction, at `lsn`, with its position. */
static void change_init(const pg_source *src, pgcdc_change *chg, char op, const pgcdc_table *t,
                        uint64_t lsn)
{
    memset(chg, 0, sizeof(*chg));
    chg->op = op;
    chg->table = t;
    chg->pos = (pgcdc_position){src->final_lsn, 0, src->index, lsn, src->xid};
    chg->commit_ts_us = src->commit_ts_us;
}

/* Emits one row of a closing incremental snapshot window inside the current
 * transaction (the close watermark's), as the next change of it. */
static int incr_emit(void *ctx, pgcdc_change *chg)
{
    pg_source *src = ctx;
    src->index++;
    chg->pos = (pgcdc_position){src->final_lsn, 0, src->index, src->cur_lsn, src->xid};
    chg->commit_ts_us = pg_now_us() + PG_EPOCH_OFFSET_US;
    chg->last_commit_lsn = src->last_commit_lsn;
    if (encode(src, chg) != 0)
        return -1;
    set_pos(src, src->cur_lsn, 0);
    return maybe_push(src);
}

/* With REPLICA IDENTITY FULL an update's old row carries every column, also
 * those whose TOAST value did not change and which the new row therefore only
 * marks 'u': the new row takes them from the old one, as Debezium does, so the
 * event holds the value instead of the unavailable-value placeholder.  *after
 * is pointed at src->merged when anything is filled (valid until the next
 * call); -1 with errstr only when the scratch row cannot grow. */
static int fill_unchanged_toast(pg_source *src, const pgcdc_row *before, pgcdc_row *after)
{
    uint16_t n = after->ncols < before->ncols ? after->ncols : before->ncols;
    int any = 0;
    for (uint16_t i = 0; i < n && !any; i++)
        any = after->cols[i].kind == 'u' && before->cols[i].kind != 'u';
    if (!any)
        return 0;
    if (src->merged_cap < after->ncols) {
        pgcdc_value *m = realloc(src->merged, sizeof(*m) * after->ncols);
        if (!m) {
            snprintf(src->errstr, sizeof(src->errstr), "out of memory");
            return -1;
        }
        src->merged = m;
        src->merged_cap = after->ncols;
    }
    memcpy(src->merged, after->cols, sizeof(*src->merged) * after->ncols);
    for (uint16_t i = 0; i < n; i++)
        if (src->merged[i].kind == 'u' && before->cols[i].kind != 'u')
            src->merged[i] = before->cols[i];
    after->cols = src->merged;
    return 0;
}

static int on_row_change(pg_source *src, const pgcdc_pgo_msg *m, uint64_t lsn)
{
    src->index++;
    if (src->skip_txn)
        return 0;
    uint32_t relid;
    char op;
    pgcdc_row before = {0, NULL}, after = {0, NULL};
    const pgcdc_row *bp = NULL, *ap = NULL;
    switch (m->type) {
    case PGCDC_PGO_INSERT:
        relid = m->u.insert.relid;
        op = 'c';
        after.ncols = m->u.insert.newtup.ncols;
        after.cols = m->u.insert.newtup.cols;
        ap = &after;
        break;
    case PGCDC_PGO_UPDATE:
        relid = m->u.update.relid;
        op = 'u';
        after.ncols = m->u.update.newtup.ncols;
        after.cols = m->u.update.newtup.cols;
        ap = &after;
        if (m->u.update.oldkind) {
            before.ncols = m->u.update.oldtup.ncols;
            before.cols = m->u.update.oldtup.cols;
            bp = &before;
        }
        if (m->u.update.oldkind == 'O' && fill_unchanged_toast(src, &before, &after) != 0)
            return -1;
        break;
    default:
        relid = m->u.del.relid;
        op = 'd';
        before.ncols = m->u.del.oldtup.ncols;
        before.cols = m->u.del.oldtup.cols;
        bp = &before;
        break;
    }
    const pgcdc_table *t = relcache_get(&src->rels, relid);
    if (!t) {
        snprintf(src->errstr, sizeof(src->errstr),
                 "pgoutput: change for relation %u before its Relation message", relid);
        return -1;
    }
    /* signals count even in the already pushed part of a transaction: the
     * progress they cause is only recorded at its commit */
    int window_closed = 0;
    if (relid == src->signal_relid && src->incr)
        window_closed = pgcdc_incr_on_signal_row(src->incr, op, op == 'd' ? bp : ap);
    int emits = t->captured && !skip_op(src->cfg, op);
    const pgcdc_txn_block *txn =
        emits ? txn_event(src, t, src->index <= src->skip_upto, lsn) : NULL;
    if (src->index <= src->skip_upto)
        return 0;
    if (relid == pgcdc_incr_window_relid(src->incr))
        pgcdc_incr_on_stream_row(src->incr, src->xid, t, bp, ap);
    if (emits) {
        if (ap && ap->ncols != t->ncols) {
            snprintf(src->errstr, sizeof(src->errstr),
                     "pgoutput: %s.%s row has %u columns, Relation said %d", t->schema, t->name,
                     ap->ncols, t->ncols);
            return -1;
        }
        pgcdc_change chg;
        change_init(src, &chg, op, t, lsn);
        chg.before = bp;
        chg.after = ap;
        chg.txn = txn;
        if (encode(src, &chg) != 0)
            return -1;
    }
    set_pos(src, lsn, 0);
    if (window_closed) {
        src->cur_lsn = lsn;
        int rc = maybe_push(src);
        if (rc == 0)
            rc = pgcdc_incr_close_window(src->incr, incr_emit, src);
        return rc;
    }
    return maybe_push(src);
}

static int on_truncate(pg_source *src, const pgcdc_pgo_msg *m, uint64_t lsn)
{
    src->index++;
    if (src->skip_txn)
        return 0;
    int pushed = src->index <= src->skip_upto;
    for (uint32_t i = 0; i < m->u.truncate.nrels; i++) {
        if (!pushed && m->u.truncate.relids[i] == pgcdc_incr_window_relid(src->incr))
            pgcdc_incr_on_truncate(src->incr, src->xid);
        const pgcdc_table *t = relcache_get(&src->rels, m->u.truncate.relids[i]);
        if (!t || !t->captured || skip_op(src->cfg, 't'))
            continue;
        const pgcdc_txn_block *txn = txn_event(src, t, pushed, lsn);
        if (pushed)
            continue;
        pgcdc_change chg;
        change_init(src, &chg, 't', t, lsn);
        chg.txn = txn;
        if (encode(src, &chg) != 0)
            return -1;
    }
    if (pushed)
        return 0;
    set_pos(src, lsn, 0);
    return maybe_push(src);
}

/*
 * A "pgcdc.ddl" message with schema.changes on: a schema change event (op
 * 's') when it names a captured table. Returns 0 (encoded, or no captured
 * table), 1 when the content is not pgcdc's DDL format (the caller emits it
 * as an ordinary message, so nothing is dropped), -1 on failure.
 */
static int encode_ddl(pg_source *src, pgcdc_change *chg)
{
    pgcdc_ddl_event ev;
    char err[512];
    if (pgcdc_ddl_decode(chg->msg_content, chg->msg_len, &ev, err, sizeof(err)) != 0) {
        char l[32];
        pgcdc_lsn_format(chg->pos.event_lsn, l, sizeof(l));
        pgcdc_log_warn("source",
                       "the logical decoding message at LSN %s has the prefix '" PGCDC_DDL_PREFIX
                       "' but is not a DDL record pgcdc can read (%s): emitting it as an ordinary "
                       "message (op m)",
                       l, err);
        return 1;
    }
    size_t captured = 0;
    for (size_t i = 0; i < ev.sc.ntables; i++) {
        pgcdc_ddl_table *t = &ev.sc.tables[i];
        t->captured = pgcdc_filter_table(src->filter, t->schema, t->name);
        captured += t->captured != 0;
        for (size_t c = 0; c < t->ncols; c++)
            t->cols[c].included =
                pgcdc_filter_column(src->filter, t->schema, t->name, t->cols[c].name);
    }
    int rc = 0;
    if (captured) {
        chg->op = 's';
        chg->schema_change = &ev.sc;
        rc = encode(src, chg);
        pgcdc_log_debug("source", "schema change %s on %zu captured table(s)", ev.sc.tag, captured);
    }
    pgcdc_ddl_event_free(&ev);
    return rc;
}

/* Encodes a logical decoding message: an op 'm' event, or a schema change. */
static int encode_message(pg_source *src, pgcdc_change *chg)
{
    if (src->cfg->schema_changes && strcmp(chg->msg_prefix, PGCDC_DDL_PREFIX) == 0) {
        int r = encode_ddl(src, chg);
        if (r <= 0)
            return r;
        chg->op = 'm';
        chg->schema_change = NULL;
    }
    return encode(src, chg);
}

static int on_message(pg_source *src, const pgcdc_pgo_msg *m, uint64_t lsn)
{
    int transactional = m->u.message.flags & 1;
    pgcdc_change chg;
    /* schema changes too: their index keeps positions and resume-skip exact */
    if (transactional && src->in_txn)
        src->index++;
    change_init(src, &chg, 'm', NULL, m->u.message.lsn);
    chg.msg_prefix = m->u.message.prefix;
    chg.msg_content = m->u.message.content;
    chg.msg_len = m->u.message.len;
    chg.msg_transactional = transactional;
    if (transactional && src->in_txn) {
        if (src->skip_txn || src->index <= src->skip_upto)
            return 0;
        if (encode_message(src, &chg) != 0)
            return -1;
        set_pos(src, m->u.message.lsn, 0);
        return maybe_push(src);
    }
    /* non-transactional: a transaction of its own at the message's LSN */
    uint64_t mlsn = m->u.message.lsn ? m->u.message.lsn : lsn;
    if (mlsn < src->pushed_done)
        return 0;
    chg.pos = (pgcdc_position){mlsn, mlsn + 1, 1, mlsn, 0};
    /* It has no commit time; Debezium gives it the last transaction's. */
    chg.commit_ts_us = src->commit_ts_us ? src->commit_ts_us : pg_now_us() + PG_EPOCH_OFFSET_US;
    /* Debezium counts it as a commit: its source.sequence is [mlsn, mlsn], and
     * the events after it name mlsn as the last commit */
    src->last_commit_lsn = mlsn;
    if (encode_message(src, &chg) != 0)
        return -1;
    pgcdc_batch *b = src->batch;
    b->pos = chg.pos;
    b->has_pos = 1;
    return maybe_push(src);
}

static int on_commit(pg_source *src, uint64_t commit_lsn, uint64_t end_lsn)
{
    if (!src->skip_txn) {
        src->final_lsn = commit_lsn;
        if (src->txn_total) {
            pgcdc_position pos = {commit_lsn, 0, src->index, commit_lsn, src->xid};
            pgcdc_debezium_txn_boundary(&src->enc, src->batch, &pos, 1, src->txn_id,
                                        src->commit_ts_us, src->txn_total, src->txn_counts,
                                        src->txn_ntables);
        }
        set_pos(src, commit_lsn, end_lsn);
    }
    src->last_commit_lsn = end_lsn;
    src->in_txn = 0;
    if (!src->incr)
        return maybe_push(src);
    pgcdc_incr_on_commit(src->incr);
    char *state = pgcdc_incr_take_state(src->incr);
    if (state) {
        /* safe once everything up to this commit is acknowledged */
        free(src->batch->incr_state);
        src->batch->incr_state = state;
    }
    int rc = maybe_push(src);
    if (rc == 0 && pgcdc_incr_want_chunk(src->incr))
        rc = pgcdc_incr_start_chunk(src->incr, src->errstr, sizeof(src->errstr));
    return rc;
}

static int dispatch(pg_source *src, const pgcdc_pgo_msg *m, uint64_t lsn);

/* Spool replay callback: [8-byte LSN][pgoutput message]. */
static int replay_one(void *ctx, const char *data, size_t len, char *errstr, size_t errstr_size)
{
    pg_source *src = ctx;
    if (len < 9) {
        snprintf(errstr, errstr_size, "spool: record too short");
        return -1;
    }
    uint64_t lsn = get_u64be(data);
    pgcdc_pgo_msg m;
    if (pgcdc_pgo_parse(src->replay_parser, data + 8, len - 8, &m, errstr, errstr_size) != 0)
        return -1;
    int rc = dispatch(src, &m, lsn);
    if (rc < 0)
        snprintf(errstr, errstr_size, "%s", src->errstr);
    return rc;
}

/* Routes one decoded message. Returns 0, 1 (connection trouble), -1. */
static int dispatch(pg_source *src, const pgcdc_pgo_msg *m, uint64_t lsn)
{
    switch (m->type) {
    case PGCDC_PGO_BEGIN:
        begin_txn(src, m->u.begin.xid, m->u.begin.final_lsn, m->u.begin.commit_ts);
        return 0;
    case PGCDC_PGO_COMMIT:
        return on_commit(src, m->u.commit.commit_lsn, m->u.commit.end_lsn);
    case PGCDC_PGO_RELATION:
        return on_relation(src, m);
    case PGCDC_PGO_TYPE:
    case PGCDC_PGO_ORIGIN:
        return 0;
    case PGCDC_PGO_INSERT:
    case PGCDC_PGO_UPDATE:
    case PGCDC_PGO_DELETE:
        return on_row_change(src, m, lsn);
    case PGCDC_PGO_TRUNCATE:
        return on_truncate(src, m, lsn);
    case PGCDC_PGO_MESSAGE:
        return on_message(src, m, lsn);
    case PGCDC_PGO_STREAM_START:
        src->in_stream = 1;
        src->stream_xid = m->u.stream_start.xid;
        return 0;
    case PGCDC_PGO_STREAM_STOP:
        src->in_stream = 0;
        return 0;
    case PGCDC_PGO_STREAM_ABORT:
        pgcdc_spool_abort(src->spool, m->u.stream_abort.xid, m->u.stream_abort.subxid);
        return 0;
    case PGCDC_PGO_STREAM_COMMIT: {
        uint32_t xid = m->u.stream_commit.xid;
        uint64_t commit_lsn = m->u.stream_commit.commit_lsn;
        uint64_t end_lsn = m->u.stream_commit.end_lsn;
        begin_txn(src, xid, commit_lsn, m->u.stream_commit.commit_ts);
        char err[1024];
        int rc = 0;
        if (src->skip_txn) {
            pgcdc_spool_abort(src->spool, xid, xid);
        } else {
            rc = pgcdc_spool_replay(src->spool, xid, replay_one, src, err, sizeof(err));
            if (rc < 0) {
                if (strcmp(err, src->errstr) != 0)
                    snprintf(src->errstr, sizeof(src->errstr), "%s", err);
                return -1;
            }
            if (rc > 0)
                return rc;
        }
        return on_commit(src, commit_lsn, end_lsn);
    }
    default:
        snprintf(src->errstr, sizeof(src->errstr), "pgoutput: unexpected message '%c'", m->type);
        return -1;
    }
}

/* One XLogData payload. */
static int on_xlogdata(pg_source *src, const char *payload, size_t len, uint64_t lsn)
{
    pgcdc_pgo_msg m;
    char err[512];
    if (pgcdc_pgo_parse(src->parser, payload, len, &m, err, sizeof(err)) != 0) {
        char l[32];
        pgcdc_lsn_format(lsn, l, sizeof(l));
        snprintf(src->errstr, sizeof(src->errstr), "malformed replication message at LSN %s: %s", l,
                 err);
        return -1;
    }
    if (src->in_stream && m.type != PGCDC_PGO_STREAM_STOP && m.type != PGCDC_PGO_STREAM_START &&
        m.type != PGCDC_PGO_STREAM_COMMIT && m.type != PGCDC_PGO_STREAM_ABORT) {
        /* part of an in-progress transaction: hold it until Stream Commit */
        pgcdc_buf_reset(&src->scratch);
        pgcdc_buf_reserve(&src->scratch, 8 + len);
        put_u64be(src->scratch.data, lsn);
        memcpy(src->scratch.data + 8, payload, len);
        src->scratch.len = 8 + len;
        if (pgcdc_spool_append(src->spool, src->stream_xid, m.xid ? m.xid : src->stream_xid,
                               src->scratch.data, src->scratch.len, src->errstr,
                               sizeof(src->errstr)) != 0)
            return -1;
        return 0;
    }
    return dispatch(src, &m, lsn);
}

/* ---------- connection and session ---------- */

static int exec_repl(PGconn *conn, const char *sql, ExecStatusType want, char *errstr,
                     size_t errstr_size)
{
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == want;
    if (!ok) {
        snprintf(errstr, errstr_size, "%s: %s", sql, PQresultErrorMessage(res));
        size_t l = strlen(errstr);
        while (l && errstr[l - 1] == '\n')
            errstr[--l] = 0;
    }
    PQclear(res);
    return ok ? 0 : -1;
}

static PGconn *connect_replication(pg_source *src)
{
    pgcdc_buf ci = PGCDC_BUF_INIT;
    pgcdc_config_conninfo(src->cfg, 1, &ci);
    PGconn *conn = PQconnectdb(ci.data);
    pgcdc_buf_free(&ci);
    if (PQstatus(conn) != CONNECTION_OK) {
        pgcdc_buf who = PGCDC_BUF_INIT;
        pgcdc_config_describe_conn(src->cfg, &who);
        snprintf(src->errstr, sizeof(src->errstr),
                 "cannot open a replication connection to %s: %s (the user needs the "
                 "REPLICATION attribute and pg_hba.conf must allow it)",
                 who.data, PQerrorMessage(conn));
        pgcdc_buf_free(&who);
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* The exported snapshot of a slot pgcdc just created: valid while `conn`
 * (the replication connection that created it) stays open and idle. */
typedef struct exported_snapshot {
    PGconn *conn;
    char name[128];
    uint64_t consistent_lsn;
} exported_snapshot;

void pgcdc_pg_create_slot_sql(pgcdc_buf *out, const char *quoted_slot, int server_version,
                              int export_snapshot, int failover)
{
    if (server_version >= 150000) {
        pgcdc_buf_printf(out, "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput (SNAPSHOT '%s'%s)",
                         quoted_slot, export_snapshot ? "export" : "nothing",
                         failover && server_version >= 170000 ? ", FAILOVER true" : "");
        return;
    }
    pgcdc_buf_printf(out, "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput %s", quoted_slot,
                     export_snapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT");
}

void pgcdc_pg_alter_slot_failover_sql(pgcdc_buf *out, const char *quoted_slot, int failover)
{
    pgcdc_buf_printf(out, "ALTER_REPLICATION_SLOT %s (FAILOVER %s)", quoted_slot,
                     failover ? "true" : "false");
}

/*
 * Whether slot.failover can be honoured here: failover slots exist from
 * PostgreSQL 17, on a primary only. Debezium then quietly makes an ordinary
 * slot; pgcdc does the same but warns at every start, since the operator
 * asked for something the slot will not have. Returns 1 to make or keep a
 * failover slot, 0 otherwise.
 */
static int failover_usable(pg_source *src)
{
    const pgcdc_config *cfg = src->cfg;
    if (!cfg->slot_failover)
        return 0;
    int v = src->cat.server_version;
    if (v < 170000) {
        pgcdc_log_warn("source",
                       "slot.failover=true has no effect: PostgreSQL %d.%d has no failover slots "
                       "(they need 17 or newer), so slot %s is an ordinary slot that a promoted "
                       "standby will not have",
                       v / 10000, v % 10000, cfg->slot_name);
        return 0;
    }
    char *rec = NULL, err[512];
    if (pgcdc_catalog_query_value(&src->cat, "SELECT pg_is_in_recovery()", &rec, err,
                                  sizeof(err)) != 0) {
        pgcdc_log_warn("source", "slot.failover: cannot tell whether the server is a standby (%s)",
                       err);
        return 1; /* the server will say no if it is one */
    }
    int standby = rec && rec[0] == 't';
    free(rec);
    if (standby)
        pgcdc_log_warn("source",
                       "slot.failover=true has no effect: the server is a standby and only a "
                       "primary can have failover slots, so slot %s is an ordinary slot",
                       cfg->slot_name);
    return !standby;
}

/*
 * Brings an existing slot's failover flag (PostgreSQL 17+) in line with
 * slot.failover=true through ALTER_REPLICATION_SLOT. The reverse is left to
 * the operator: a flag set by hand is not taken away just because the key
 * was left at its default. Problems are warnings: the slot works either way.
 */
static void sync_failover(pg_source *src, const pgcdc_slot_info *si, int want)
{
    const pgcdc_config *cfg = src->cfg;
    if (si->failover < 0)
        return; /* no such flag before 17 */
    if (si->failover && !cfg->slot_failover) {
        pgcdc_log_warn("source",
                       "slot %s is a failover slot but slot.failover=false: left as it is "
                       "(ALTER_REPLICATION_SLOT %s (FAILOVER false) on a replication connection "
                       "turns it off)",
                       cfg->slot_name, cfg->slot_name);
        return;
    }
    if (si->failover || !want)
        return;
    PGconn *conn = connect_replication(src);
    if (!conn) {
        pgcdc_log_warn("source", "slot.failover: %s; slot %s stays an ordinary slot", src->errstr,
                       cfg->slot_name);
        return;
    }
    char *qslot = PQescapeIdentifier(conn, cfg->slot_name, strlen(cfg->slot_name));
    pgcdc_buf sql = PGCDC_BUF_INIT;
    pgcdc_pg_alter_slot_failover_sql(&sql, qslot, 1);
    PQfreemem(qslot);
    char err[768];
    if (exec_repl(conn, sql.data, PGRES_COMMAND_OK, err, sizeof(err)) == 0)
        pgcdc_log_info("source", "slot %s is now a failover slot (slot.failover=true)",
                       cfg->slot_name);
    else
        pgcdc_log_warn("source", "slot.failover: %s; slot %s stays an ordinary slot", err,
                       cfg->slot_name);
    pgcdc_buf_free(&sql);
    PQfinish(conn);
}

/*
 * Makes sure the slot exists, is a pgoutput slot of this database and is
 * free; creates it when missing (with an exported snapshot when `export` is
 * given). slot.failover makes a new slot a failover slot and switches an
 * existing one, where the server allows it (see failover_usable). A lost slot, or a missing one
 * that offsets say pgcdc streamed from, is an error unless `recover` (snapshot.mode=when_needed):
 * then the lost slot is dropped, a new one created, and *recovered set so the caller copies the
 * tables again.
 */
static int ensure_slot(pg_source *src, const pgcdc_offsets *offsets, exported_snapshot *export,
                       int recover, int *recovered)
{
    pgcdc_slot_info si;
    const pgcdc_config *cfg = src->cfg;
    int failover = failover_usable(src);
    if (pgcdc_catalog_slot_info(&src->cat, cfg->slot_name, &si, src->errstr, sizeof(src->errstr)) !=
        0)
        return -1;
    if (si.exists) {
        if (strcmp(si.plugin, "pgoutput") != 0) {
            snprintf(src->errstr, sizeof(src->errstr),
                     "replication slot '%s' uses plugin '%s'; pgcdc needs a pgoutput slot: "
                     "choose another slot.name or drop it (pgcdc slots --drop %s)",
                     cfg->slot_name, si.plugin, cfg->slot_name);
            return -1;
        }
        if (strcmp(si.database, src->cat.dbname) != 0) {
            snprintf(src->errstr, sizeof(src->errstr),
                     "replication slot '%s' belongs to database '%s', not '%s'; choose another "
                     "slot.name",
                     cfg->slot_name, si.database, src->cat.dbname);
            return -1;
        }
        if (si.active) {
            snprintf(src->errstr, sizeof(src->errstr),
                     "replication slot '%s' is in use by another connection (pid %d): stop the "
                     "other consumer or choose another slot.name",
                     cfg->slot_name, si.active_pid);
            return -1;
        }
        if (strcmp(si.wal_status, "lost") != 0) {
            sync_failover(src, &si, failover);
            return 0;
        }
        if (!recover) {
            snprintf(src->errstr, sizeof(src->errstr),
                     "replication slot '%s' is invalidated (wal_status = lost): PostgreSQL "
                     "removed WAL it still needed, so changes were lost. Drop it (pgcdc slots "
                     "--drop %s), delete %s/offsets.json and start again, or set "
                     "snapshot.mode=when_needed to do that and copy the tables again",
                     cfg->slot_name, cfg->slot_name, src->data_dir);
            return -1;
        }
        pgcdc_log_warn("source",
                       "replication slot %s is invalidated (changes were lost); "
                       "snapshot.mode=when_needed: dropping it and copying the tables "
                       "again",
                       cfg->slot_name);
        const char *params[1] = {cfg->slot_name};
        PGresult *res = PQexecParams(src->cat.conn, "SELECT pg_drop_replication_slot($1)", 1, NULL,
                                     params, NULL, NULL, 0);
        int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        if (!ok)
            snprintf(src->errstr, sizeof(src->errstr), "dropping invalidated slot %s: %s",
                     cfg->slot_name, PQresultErrorMessage(res));
        PQclear(res);
        if (!ok)
            return -1;
        *recovered = 1;
    } else if (offsets->done_lsn && !strcmp(offsets->slot, cfg->slot_name) && recover) {
        pgcdc_log_warn("source",
                       "replication slot %s no longer exists; "
                       "snapshot.mode=when_needed: copying the tables again",
                       cfg->slot_name);
        *recovered = 1;
    } else if (offsets->done_lsn && !strcmp(offsets->slot, cfg->slot_name)) {
        char l[32];
        pgcdc_lsn_format(offsets->done_lsn, l, sizeof(l));
        snprintf(src->errstr, sizeof(src->errstr),
                 "replication slot '%s' no longer exists, but %s/offsets.json shows pgcdc "
                 "streamed from it up to %s: changes after that point are no longer retained. "
                 "To start over from now, delete %s/offsets.json, or set "
                 "snapshot.mode=when_needed to copy the tables again",
                 cfg->slot_name, src->data_dir, l, src->data_dir);
        return -1;
    }
    PGconn *conn = connect_replication(src);
    if (!conn)
        return -1;
    char *qslot = PQescapeIdentifier(conn, cfg->slot_name, strlen(cfg->slot_name));
    pgcdc_buf sql = PGCDC_BUF_INIT;
    pgcdc_pg_create_slot_sql(&sql, qslot, src->cat.server_version, export != NULL, failover);
    PQfreemem(qslot);
    PGresult *res = PQexec(conn, sql.data);
    int rc = -1;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) < 3) {
        snprintf(src->errstr, sizeof(src->errstr), "%s: %s", sql.data, PQresultErrorMessage(res));
    } else {
        rc = 0;
        pgcdc_log_info("source", "created replication slot %s (pgoutput%s) at %s%s%s",
                       cfg->slot_name, failover ? ", failover" : "", PQgetvalue(res, 0, 1),
                       export ? ", snapshot " : "", export ? PQgetvalue(res, 0, 2) : "");
        if (export) {
            snprintf(export->name, sizeof(export->name), "%s", PQgetvalue(res, 0, 2));
            pgcdc_lsn_parse(PQgetvalue(res, 0, 1), &export->consistent_lsn);
            export->conn = conn; /* must stay open until the snapshot is imported */
            conn = NULL;
        }
    }
    PQclear(res);
    pgcdc_buf_free(&sql);
    if (conn)
        PQfinish(conn);
    return rc;
}

static int start_streaming(pg_source *src)
{
    const pgcdc_config *cfg = src->cfg;
    src->repl = connect_replication(src);
    if (!src->repl)
        return -1;
    char *qslot = PQescapeIdentifier(src->repl, cfg->slot_name, strlen(cfg->slot_name));
    char *qpub =
        PQescapeIdentifier(src->repl, cfg->publication_name, strlen(cfg->publication_name));
    pgcdc_buf pubs = PGCDC_BUF_INIT, sql = PGCDC_BUF_INIT;
    for (const char *p = qpub; *p; p++) {
        if (*p == '\'')
            pgcdc_buf_putc(&pubs, '\'');
        pgcdc_buf_putc(&pubs, *p);
    }
    uint64_t start = src->pushed_done;
    pgcdc_buf_printf(&sql,
                     "START_REPLICATION SLOT %s LOGICAL %X/%X (proto_version '%d', "
                     "publication_names '%s'",
                     qslot, (unsigned)(start >> 32), (unsigned)start, src->proto, pubs.data);
    if (src->cat.server_version >= 140000)
        PGCDC_BUF_LIT(&sql, ", messages 'true'");
    if (src->proto >= 2 && cfg->streaming)
        PGCDC_BUF_LIT(&sql, ", streaming 'on'");
    pgcdc_buf_putc(&sql, ')');
    PQfreemem(qslot);
    PQfreemem(qpub);
    int rc = exec_repl(src->repl, sql.data, PGRES_COPY_BOTH, src->errstr, sizeof(src->errstr));
    pgcdc_buf_free(&pubs);
    pgcdc_buf_free(&sql);
    if (rc != 0) {
        PQfinish(src->repl);
        src->repl = NULL;
        return -1;
    }
    char l[32];
    pgcdc_lsn_format(start, l, sizeof(l));
    pgcdc_log_info("source", "streaming from slot %s at %s (pgoutput protocol %d%s)",
                   cfg->slot_name, l, src->proto,
                   src->proto >= 2 && cfg->streaming ? ", streaming in-progress transactions" : "");
    src->parser = pgcdc_pgo_parser_new(src->proto);
    src->replay_parser = pgcdc_pgo_parser_new(src->proto);
    if (!src->parser || !src->replay_parser) {
        snprintf(src->errstr, sizeof(src->errstr), "source: out of memory");
        return -1;
    }
    pgcdc_pgo_set_in_stream(src->replay_parser, 1);
    src->last_status_us = pgcdc_mono_us();
    return 0;
}

/* Forgets everything tied to one replication connection. */
static void end_session(pg_source *src)
{
    if (src->repl) {
        PQfinish(src->repl);
        src->repl = NULL;
    }
    pgcdc_pgo_parser_free(src->parser);
    pgcdc_pgo_parser_free(src->replay_parser);
    src->parser = src->replay_parser = NULL;
    relcache_clear(&src->rels);
    pgcdc_spool_free(src->spool);
    src->spool = pgcdc_spool_new(src->data_dir, (uint64_t)src->cfg->spill_bytes);
    /* unpushed records will be streamed again */
    pgcdc_batch_reset(src->batch);
    src->in_txn = src->in_stream = 0;
    pgcdc_incr_rewind(src->incr, src->incr_pushed_state);
}

/*
 * Checks the slot from the catalog: a slot that vanished (dropped, or lost
 * in a failover) or was invalidated (WAL removed past max_slot_wal_keep_size)
 * is fatal: changes were lost and retrying cannot bring them back. A slot far
 * behind gets a warning. Catalog trouble is not fatal here (returns 0).
 */
static int check_slot_health(pg_source *src)
{
    const pgcdc_config *cfg = src->cfg;
    const char *params[1] = {cfg->slot_name};
    PGresult *res =
        PQexecParams(src->cat.conn,
                     "SELECT coalesce(wal_status, ''), "
                     "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint "
                     "FROM pg_replication_slots WHERE slot_name = $1",
                     1, NULL, params, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pgcdc_log_warn("source", "cannot check slot %s: %s", cfg->slot_name,
                       PQresultErrorMessage(res));
    } else if (PQntuples(res) == 0) {
        char l[32];
        pgcdc_lsn_format(pgcdc_pipeline_confirmed_lsn(src->pipe), l, sizeof(l));
        snprintf(src->errstr, sizeof(src->errstr),
                 "replication slot '%s' vanished (dropped, or not carried over by a failover); "
                 "changes after %s are no longer retained. Restart with "
                 "snapshot.mode=when_needed to copy the tables again (or delete "
                 "%s/offsets.json to start over)",
                 cfg->slot_name, l, src->data_dir);
        rc = -1;
    } else if (!strcmp(PQgetvalue(res, 0, 0), "lost")) {
        snprintf(src->errstr, sizeof(src->errstr),
                 "replication slot '%s' was invalidated (wal_status = lost): PostgreSQL removed "
                 "WAL it still needed (max_slot_wal_keep_size), so changes were lost. Restart "
                 "with snapshot.mode=when_needed to drop it and copy the tables again (or drop "
                 "it with pgcdc slots --drop %s and delete %s/offsets.json)",
                 cfg->slot_name, cfg->slot_name, src->data_dir);
        rc = -1;
    } else if (!PQgetisnull(res, 0, 1) && cfg->slot_lag_warn_bytes > 0) {
        long long lag = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        if (lag > cfg->slot_lag_warn_bytes)
            pgcdc_log_warn("source",
                           "slot %s retains %lld bytes of WAL (pgcdc.slot.lag.warn.bytes = %lld); "
                           "%s",
                           cfg->slot_name, lag, cfg->slot_lag_warn_bytes,
                           !strcmp(PQgetvalue(res, 0, 0), "unreserved")
                               ? "it is close to being invalidated"
                               : "a sink may be slow or stuck");
    }
    PQclear(res);
    return rc;
}

/* Every heartbeat.interval.ms: a heartbeat record, and the action query. */
static void maybe_heartbeat(pg_source *src, int64_t now)
{
    const pgcdc_config *cfg = src->cfg;
    if (cfg->heartbeat_interval_ms <= 0 ||
        now - src->last_heartbeat_us < (int64_t)cfg->heartbeat_interval_ms * 1000)
        return;
    src->last_heartbeat_us = now;
    pgcdc_position pos = {0, 0, 0, src->received_lsn, 0};
    pgcdc_debezium_heartbeat(&src->enc, src->batch, &pos);
    if (cfg->heartbeat_action_query && *cfg->heartbeat_action_query) {
        PGresult *res = PQexec(src->cat.conn, cfg->heartbeat_action_query);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
            pgcdc_log_warn("source", "heartbeat.action.query failed: %s",
                           PQresultErrorMessage(res));
        PQclear(res);
    }
}

/* Periodic work of the stream loop: heartbeats and slot health. */
static int periodic(pg_source *src)
{
    int64_t now = pgcdc_mono_us();
    maybe_heartbeat(src, now);
    if (now - src->last_slot_check_us >= STATS_INTERVAL_US) {
        src->last_slot_check_us = now;
        if (check_slot_health(src) != 0)
            return -1;
    }
    return 0;
}

/*
 * Streams until stop (0), a lost connection (1) or a fatal error (-1).
 */
static int stream_loop(pg_source *src)
{
    int since_check = 0;
    for (;;) {
        if (*src->stop)
            return 0;
        char *buf = NULL;
        int n = PQgetCopyData(src->repl, &buf, 1);
        if (n > 0) {
            int rc = 0;
            if (buf[0] == 'w' && n >= 25) {
                uint64_t start = get_u64be(buf + 1);
                uint64_t end = get_u64be(buf + 9);
                if (end > src->received_lsn)
                    src->received_lsn = end;
                rc = on_xlogdata(src, buf + 25, (size_t)n - 25, start);
            } else if (buf[0] == 'k' && n >= 18) {
                uint64_t wal_end = get_u64be(buf + 1);
                int reply = buf[17];
                if (wal_end > src->received_lsn)
                    src->received_lsn = wal_end;
                /* nothing of ours is in flight: the slot can move past WAL
                 * that held no captured change */
                if (!src->in_txn && !src->in_stream && src->batch->nrecords == 0 &&
                    !src->batch->has_pos && pgcdc_spool_count(src->spool) == 0 &&
                    pgcdc_pipeline_idle(src->pipe) && wal_end > src->pushed_done) {
                    src->pushed_done = wal_end;
                    src->pushed_partial_commit = src->pushed_partial_index = 0;
                    if (pgcdc_pipeline_advance_idle(src->pipe, wal_end, src->errstr,
                                                    sizeof(src->errstr)) != 0)
                        rc = -1;
                }
                if (rc == 0 && reply)
                    rc = send_status(src, 1);
            } else {
                snprintf(src->errstr, sizeof(src->errstr),
                         "unexpected replication message type '%c' (%d bytes)", buf[0], n);
                rc = -1;
            }
            PQfreemem(buf);
            if (rc != 0)
                return rc;
            if (++since_check >= 256) {
                since_check = 0;
                if (send_status(src, 0) != 0)
                    return 1;
                log_stats(src, 0);
                if (periodic(src) != 0 ||
                    pgcdc_pipeline_failed(src->pipe, src->errstr, sizeof(src->errstr)))
                    return -1;
            }
            continue;
        }
        if (n == 0) {
            /* drained the socket: hand over what we have, then wait */
            if (periodic(src) != 0)
                return -1;
            int rc = 0;
            if (!src->in_txn && !src->in_stream && pgcdc_incr_want_chunk(src->incr))
                rc = pgcdc_incr_start_chunk(src->incr, src->errstr, sizeof(src->errstr));
            if (rc == 0)
                rc = push_batch(src);
            if (rc != 0)
                return rc;
            if (send_status(src, 0) != 0)
                return 1;
            log_stats(src, 0);
            if (pgcdc_pipeline_failed(src->pipe, src->errstr, sizeof(src->errstr)))
                return -1;
            /* wait for data, or for the committer to make more durable */
            int fd = PQsocket(src->repl), wfd = pgcdc_pipeline_wakeup_fd(src->pipe);
            fd_set rfds;
            FD_ZERO(&rfds);
            FD_SET(fd, &rfds);
            FD_SET(wfd, &rfds);
            /* a confirmation held back by the coalescing window goes out soon */
            int pending = pgcdc_pipeline_confirmed_lsn(src->pipe) != src->sent_flush;
            struct timeval tv = {0, pending ? 20000 : 100000};
            int ns = select((fd > wfd ? fd : wfd) + 1, &rfds, NULL, NULL, &tv);
            if (ns < 0 && errno != EINTR) {
                snprintf(src->errstr, sizeof(src->errstr), "select: %s", strerror(errno));
                return 1;
            }
            if (ns > 0 && FD_ISSET(wfd, &rfds)) {
                pgcdc_pipeline_wakeup_drain(src->pipe);
                if (send_status(src, 0) != 0)
                    return 1;
            }
            if (!PQconsumeInput(src->repl)) {
                snprintf(src->errstr, sizeof(src->errstr), "replication connection lost: %s",
                         PQerrorMessage(src->repl));
                return 1;
            }
            continue;
        }
        /* -1: the server ended COPY; -2: error */
        PGresult *res = PQgetResult(src->repl);
        snprintf(src->errstr, sizeof(src->errstr), "replication stream ended: %s",
                 res ? PQresultErrorMessage(res) : PQerrorMessage(src->repl));
        PQclear(res);
        return 1;
    }
}

/* Whether this start copies existing rows first: initial and initial_only
 * (the default, as in Debezium) do when the slot has no offsets yet or an
 * earlier snapshot was interrupted; always does on every start. Returns
 * 1/0, or -1 for a mode this build cannot honour. */
static int snapshot_needed(pg_source *src, const pgcdc_offsets *offsets, int found)
{
    switch (src->cfg->snapshot_mode) {
    case PGCDC_SNAPSHOT_NO_DATA:
        return 0;
    case PGCDC_SNAPSHOT_ALWAYS:
        return 1;
    case PGCDC_SNAPSHOT_UNSET:
    case PGCDC_SNAPSHOT_INITIAL:
    case PGCDC_SNAPSHOT_INITIAL_ONLY:
    case PGCDC_SNAPSHOT_WHEN_NEEDED: /* plus a lost slot: see ensure_slot */
        return !found || offsets->snapshot == PGCDC_SNAPSHOT_STATE_RUNNING;
    }
    snprintf(src->errstr, sizeof(src->errstr), "snapshot.mode: unknown mode %d",
             (int)src->cfg->snapshot_mode);
    return -1;
}

/* slot.drop.on.stop: the walsender may need a moment to release the slot
 * after the replication connection closed. The offsets go too: they point
 * into the dropped slot, and the next start begins from scratch. */
static void drop_slot_on_stop(pg_source *src)
{
    const char *params[1] = {src->cfg->slot_name};
    for (int attempt = 0; attempt < 50; attempt++) {
        PGresult *res = PQexecParams(src->cat.conn, "SELECT pg_drop_replication_slot($1)", 1, NULL,
                                     params, NULL, NULL, 0);
        int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        if (!ok && attempt == 49)
            pgcdc_log_warn("source", "slot.drop.on.stop: cannot drop slot %s: %s",
                           src->cfg->slot_name, PQresultErrorMessage(res));
        PQclear(res);
        if (ok) {
            char path[4200];
            snprintf(path, sizeof(path), "%s/offsets.json", src->data_dir);
            unlink(path);
            pgcdc_log_info("source", "slot.drop.on.stop: dropped slot %s and %s",
                           src->cfg->slot_name, path);
            return;
        }
        usleep(100000);
    }
}

static int snapshot_emit(void *ctx, pgcdc_change *chg)
{
    pg_source *src = ctx;
    if (encode(src, chg) != 0)
        return -1;
    if (*src->stop)
        return 2; /* interrupted: the snapshot stays "running" and is taken again */
    return maybe_push(src);
}

/*
 * Copies existing rows, then queues the marker batch whose acknowledgement
 * records the snapshot as done (and, for an exported snapshot, moves the
 * stream start to the slot's consistent point). Returns 0, 2 when stopped by
 * a signal, or -1.
 */
static int take_snapshot(pg_source *src, exported_snapshot *export)
{
    pgcdc_snapshot_stats st;
    pgcdc_status_set_phase(src->status, PGCDC_PHASE_SNAPSHOT);
    int rc = pgcdc_snapshot_run(&src->cat, src->cfg, src->filter, &src->enc,
                                export->conn ? export->name : NULL, export->consistent_lsn,
                                snapshot_emit, src, src->pipe, src->stop, src->status, &st,
                                src->errstr, sizeof(src->errstr));
    if (export->conn) {
        PQfinish(export->conn);
        export->conn = NULL;
    }
    if (rc != 0)
        return rc > 0 ? rc : -1;
    pgcdc_log_info("snapshot", "copied %" PRIu64 " rows from %d table(s)", st.rows, st.tables);
    pgcdc_batch *b = src->batch;
    b->snapshot_done = 1;
    if (export->consistent_lsn) {
        b->pos = (pgcdc_position){0, export->consistent_lsn, 0, export->consistent_lsn, 0};
        b->has_pos = 1;
    }
    return push_batch(src) < 0 ? -1 : 0;
}

int pgcdc_pg_source_run(const pgcdc_config *cfg, const char *data_dir, volatile sig_atomic_t *stop,
                        char *errstr, size_t errstr_size)
{
    pg_source src_storage, *src = &src_storage;
    memset(src, 0, sizeof(*src));
    src->cfg = cfg;
    src->data_dir = data_dir;
    src->stop = stop;
    int rc = -1;
    pgcdc_offsets offsets;
    memset(&offsets, 0, sizeof(offsets));

    exported_snapshot export;
    memset(&export, 0, sizeof(export));
    src->status = pgcdc_status_new(data_dir, cfg->slot_name);
    if (!src->status) {
        snprintf(src->errstr, sizeof(src->errstr), "source: out of memory");
        goto out;
    }
    if (pgcdc_status_start_writer(src->status, src->errstr, sizeof(src->errstr)) != 0)
        goto out;
    src->filter = pgcdc_filter_new(cfg, src->errstr, sizeof(src->errstr));
    if (!src->filter)
        goto out;
    if (pgcdc_catalog_connect(&src->cat, cfg, src->errstr, sizeof(src->errstr)) != 0)
        goto out;
    if (src->cat.server_version < 100000) {
        snprintf(src->errstr, sizeof(src->errstr),
                 "PostgreSQL %d is too old: pgoutput needs PostgreSQL 10 or newer",
                 src->cat.server_version / 10000);
        goto out;
    }
    if (pgcdc_catalog_check_wal_level(&src->cat, src->errstr, sizeof(src->errstr)) != 0)
        goto out;
    src->proto = pgcdc_pg_proto_for_server(cfg, src->cat.server_version);
    if (pgcdc_catalog_ensure_publication(&src->cat, cfg, src->filter, src->errstr,
                                         sizeof(src->errstr)) != 0)
        goto out;
    /* before slot and stream: every DDL from the stream start on is recorded */
    if (cfg->schema_changes &&
        pgcdc_ddl_ensure(src->cat.conn, src->cat.server_version, src->cat.dbname, cfg->db_user,
                         src->errstr, sizeof(src->errstr)) != 0)
        goto out;
    int found = pgcdc_offsets_load(data_dir, &offsets, src->errstr, sizeof(src->errstr));
    if (found < 0)
        goto out;
    if (found && strcmp(offsets.slot, cfg->slot_name) != 0) {
        pgcdc_log_warn("source", "%s/offsets.json belongs to slot '%s', not '%s': ignoring it",
                       data_dir, offsets.slot, cfg->slot_name);
        pgcdc_offsets_clear(&offsets);
    }
    if (cfg->signal_data_collection) {
        /* checked before a slot is made: a typo must not leave one behind */
        src->incr = pgcdc_incr_new(cfg, &src->cat, src->filter, &src->enc, src->status,
                                   offsets.incremental, src->errstr, sizeof(src->errstr));
        if (!src->incr)
            goto out;
    }
    int snapshot = snapshot_needed(src, &offsets, found && offsets.done_lsn + offsets.snapshot);
    if (snapshot < 0)
        goto out;
    if (src->cfg->snapshot_mode == PGCDC_SNAPSHOT_UNSET && snapshot)
        pgcdc_log_info("source", "snapshot.mode is not set: copying existing rows first "
                                 "(Debezium's default, initial)");
    /* always copies anyway, so a lost slot can be replaced as when_needed does */
    int recover = cfg->snapshot_mode == PGCDC_SNAPSHOT_WHEN_NEEDED ||
                  cfg->snapshot_mode == PGCDC_SNAPSHOT_ALWAYS,
        recovered = 0;
    if (ensure_slot(src, &offsets, snapshot || recover ? &export : NULL, recover, &recovered) != 0)
        goto out;
    if (recovered || export.conn)
        snapshot = 1; /* a slot made now is only consistent with a fresh copy */
    if (snapshot) {
        /* Restart-safe: until the marker batch is acknowledged the file says
         * "running", and an interrupted snapshot is taken again. Positions
         * of a slot made now mean nothing; over an existing slot (always, or
         * an interrupted copy) what was acknowledged stays acknowledged, and
         * the fresh snapshot's copy is followed by the changes after it. A
         * fresh copy also makes an unfinished incremental snapshot moot. */
        if (export.conn || recovered)
            pgcdc_offsets_clear(&offsets);
        free(offsets.incremental);
        offsets.incremental = NULL;
        pgcdc_incr_rewind(src->incr, NULL);
        offsets.snapshot = PGCDC_SNAPSHOT_STATE_RUNNING;
        if (cfg->snapshot_mode == PGCDC_SNAPSHOT_ALWAYS && !export.conn) {
            char l[32];
            pgcdc_lsn_format(offsets.done_lsn, l, sizeof(l));
            pgcdc_log_info("source",
                           "snapshot.mode=always: copying the tables again over the existing "
                           "slot %s with a fresh snapshot; changes after the acknowledged "
                           "position %s arrive as events after the copy, some of them again",
                           cfg->slot_name, l);
        }
    }
    if (pgcdc_debezium_init(&src->enc, cfg, src->cat.dbname, src->errstr, sizeof(src->errstr)) != 0)
        goto out;
    src->enc_ready = 1;
    src->pushed_done = offsets.done_lsn;
    src->last_commit_lsn = offsets.last_commit_lsn; /* as Debezium's lsn_commit */
    src->pushed_partial_commit = offsets.partial_commit_lsn;
    src->pushed_partial_index = offsets.partial_index;
    if (offsets.incremental && !(src->incr_pushed_state = strdup(offsets.incremental))) {
        snprintf(src->errstr, sizeof(src->errstr), "source: out of memory");
        goto out;
    }
    src->pipe = pgcdc_pipeline_new(cfg, data_dir, &offsets, src->errstr, sizeof(src->errstr));
    if (!src->pipe)
        goto out;
    src->batch = pgcdc_pipeline_batch_get(src->pipe);
    src->spool = pgcdc_spool_new(data_dir, (uint64_t)cfg->spill_bytes);
    if (!src->spool) {
        snprintf(src->errstr, sizeof(src->errstr), "source: out of memory");
        goto out;
    }
    if (snapshot) {
        int r = take_snapshot(src, &export);
        if (r < 0)
            goto out;
        if (r == 0 && export.consistent_lsn) {
            src->pushed_done = export.consistent_lsn;
            src->pushed_partial_commit = src->pushed_partial_index = 0;
        }
        if (r != 0 || cfg->snapshot_mode == PGCDC_SNAPSHOT_INITIAL_ONLY) {
            pgcdc_log_info("source", r != 0 ? "stopped during the snapshot"
                                            : "snapshot.mode = initial_only: not streaming");
            rc = 0;
            goto out;
        }
    }

    int backoff_ms = 1000;
    for (;;) {
        if (src->streaming_started && catalog_alive(src) != 0) {
            pgcdc_log_warn("source", "%s; retrying in %d ms", src->errstr, backoff_ms);
            pgcdc_status_set_message(src->status, src->errstr);
        } else if (src->streaming_started && check_slot_health(src) != 0) {
            goto out;
        } else if (start_streaming(src) != 0) {
            if (!src->streaming_started)
                goto out; /* first start: report the configuration problem */
            pgcdc_log_warn("source", "%s; retrying in %d ms", src->errstr, backoff_ms);
            pgcdc_status_set_message(src->status, src->errstr);
        } else {
            src->streaming_started = 1;
            backoff_ms = 1000;
            pgcdc_status_set_phase(src->status, PGCDC_PHASE_STREAMING);
            pgcdc_status_set_message(src->status, NULL);
            int r = stream_loop(src);
            if (r == 0)
                break; /* stop requested */
            if (r < 0)
                goto out;
            pgcdc_log_warn("source", "%s; reconnecting in %d ms", src->errstr, backoff_ms);
            pgcdc_status_set_message(src->status, src->errstr);
        }
        end_session(src);
        for (int waited = 0; waited < backoff_ms && !*stop; waited += 100)
            usleep(100000);
        if (*stop)
            break;
        backoff_ms = backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2;
    }

    /* clean stop: everything pushed is drained and confirmed */
    pgcdc_log_info("source", "stopping: draining sinks");
    if (push_batch(src) < 0)
        goto out;
    rc = 0;
out:
    if (src->pipe) {
        char perr[512];
        if (src->batch && rc != 0)
            pgcdc_batch_reset(src->batch);
        if (src->batch) {
            /* an unpushed batch is just freed */
            pgcdc_batch_free(src->batch);
            src->batch = NULL;
        }
        int pr = pgcdc_pipeline_close(src->pipe, perr, sizeof(perr));
        if (pr != 0 && rc == 0) {
            snprintf(src->errstr, sizeof(src->errstr), "%s", perr);
            rc = -1;
        }
        if (rc == 0 && src->repl) {
            src->sent_flush = 0;
            send_status(src, 1);
            PQputCopyEnd(src->repl, NULL);
            char l[32];
            pgcdc_lsn_format(pgcdc_pipeline_confirmed_lsn(src->pipe), l, sizeof(l));
            pgcdc_log_info("source", "stopped; confirmed flush LSN %s", l);
        }
        log_stats(src, 1);
        pgcdc_pipeline_free(src->pipe);
        src->pipe = NULL;
    }
    if (rc != 0) {
        snprintf(errstr, errstr_size, "%s", src->errstr);
        pgcdc_status_set_message(src->status, src->errstr);
    }
    if (src->repl) {
        PQfinish(src->repl);
        src->repl = NULL;
    }
    if (export.conn)
        PQfinish(export.conn);
    if (rc == 0 && cfg->slot_drop_on_stop && src->cat.conn)
        drop_slot_on_stop(src);
    pgcdc_pgo_parser_free(src->parser);
    pgcdc_pgo_parser_free(src->replay_parser);
    relcache_clear(&src->rels);
    pgcdc_spool_free(src->spool);
    pgcdc_incr_free(src->incr);
    free(src->incr_pushed_state);
    free(src->merged);
    for (int i = 0; i < src->txn_ntables; i++)
        free((char *)src->txn_counts[i].data_collection);
    free(src->txn_counts);
    free(src->txn_relids);
    pgcdc_offsets_clear(&offsets);
    if (src->enc_ready)
        pgcdc_debezium_free(&src->enc);
    pgcdc_filter_free(src->filter);
    if (src->cat.conn)
        pgcdc_catalog_close(&src->cat);
    pgcdc_buf_free(&src->scratch);
    pgcdc_status_free(src->status); /* records phase "stopped" */
    return rc;
}
