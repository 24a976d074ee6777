/*
 * status.c - the process status model and its status.json writer (see
 * status.h).
 */
#include "core/status.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "core/offsets.h"

#define WRITE_INTERVAL_MS 1000
#define STREAM_RATE_WINDOW_US (5 * 1000000LL)

typedef struct entry {
    char kind[32];
    char *schema, *name;
    int64_t estimate;
    uint64_t done;
    int64_t begin_us, end_us; /* wall clock; 0: not yet */
    int finished;
} entry;

struct pgcdc_status {
    char *data_dir; /* NULL: in memory only */
    char *slot;
    int pid;
    int64_t started_us;

    pthread_mutex_t lock;
    pthread_cond_t wake;
    uint64_t version; /* bumped by every change; guarded by lock */
    int stop;         /* guarded by lock */
    pthread_t writer;
    int writer_started;
    int write_failed; /* warn once per failure streak; writer thread only */

    /* guarded by lock */
    pgcdc_status_phase phase;
    char message[256];
    entry *entries;
    int nentries, cap;
    int has_stream;
    uint64_t events_acked, bytes_queued, confirmed_lsn;
    double events_rate;
    int64_t win_start_us;
    uint64_t win_events;
};

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---------- progress arithmetic ---------- */

void pgcdc_progress_compute(uint64_t done, int64_t estimate, int finished, double elapsed_s,
                            pgcdc_progress *out)
{
    memset(out, 0, sizeof(*out));
    out->done = done;
    out->elapsed_s = elapsed_s > 0 ? elapsed_s : 0;
    out->finished = finished;
    out->started = finished || done > 0 || elapsed_s > 0;
    out->rate = out->elapsed_s > 0 ? (double)done / out->elapsed_s : 0;
    if (finished) {
        out->estimate = (int64_t)done;
        out->percent = 100;
        out->eta_s = 0;
        return;
    }
    if (estimate < 0) {
        out->estimate = -1;
        out->percent = -1;
        out->eta_s = -1;
        return;
    }
    /* statistics lag behind inserts: never claim fewer rows than copied */
    uint64_t est = (uint64_t)estimate < done ? done : (uint64_t)estimate;
    out->estimate = (int64_t)est;
    out->percent = est ? 100.0 * (double)done / (double)est : 0;
    if (out->percent > 99.9)
        out->percent = 99.9; /* still running: the estimate was low */
    out->eta_s = out->rate > 0 ? (double)(est - done) / out->rate : -1;
}

void pgcdc_duration_format(double seconds, pgcdc_buf *out)
{
    long long s = seconds < 0 ? 0 : llround(seconds);
    if (s < 60)
        pgcdc_buf_printf(out, "%llds", s);
    else if (s < 3600)
        pgcdc_buf_printf(out, "%lldm%02llds", s / 60, s % 60);
    else
        pgcdc_buf_printf(out, "%lldh%02lldm", s / 3600, s / 60 % 60);
}

void pgcdc_progress_format(const pgcdc_progress *p, pgcdc_buf *out)
{
    if (p->finished) {
        pgcdc_buf_printf(out, "%" PRIu64 " rows in ", p->done);
        pgcdc_duration_format(p->elapsed_s, out);
        pgcdc_buf_printf(out, " (%.0f rows/s)", p->rate);
        return;
    }
    if (!p->started) {
        if (p->estimate < 0)
            PGCDC_BUF_LIT(out, "waiting, row count unknown");
        else
            pgcdc_buf_printf(out, "waiting, ~%" PRId64 " rows", p->estimate);
        return;
    }
    if (p->estimate < 0) {
        pgcdc_buf_printf(out, "%" PRIu64 " of unknown rows, %.0f rows/s", p->done, p->rate);
        return;
    }
    pgcdc_buf_printf(out, "%" PRIu64 " of ~%" PRId64 " rows (%.1f%%), %.0f rows/s", p->done,
                     p->estimate, p->percent, p->rate);
    if (p->eta_s >= 0) {
        PGCDC_BUF_LIT(out, ", ETA ");
        pgcdc_duration_format(p->eta_s, out);
    }
}

/* ---------- life cycle ---------- */

pgcdc_status *pgcdc_status_new(const char *data_dir, const char *slot)
{
    pgcdc_status *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    if ((data_dir && !(st->data_dir = strdup(data_dir))) ||
        !(st->slot = strdup(slot ? slot : ""))) {
        free(st->data_dir);
        free(st);
        return NULL;
    }
    st->pid = (int)getpid();
    st->started_us = wall_us();
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->wake, NULL);
    return st;
}

static void report_write(pgcdc_status *st, int rc, const char *err)
{
    if (rc != 0 && !st->write_failed)
        pgcdc_log_warn("run", "%s (progress reporting only; the pipeline goes on)", err);
    st->write_failed = rc != 0;
}

/* Republishes the file when the version moved, at most about once a
 * second (a phase change or the stop wakes it early); a write failure is
 * logged, never fatal. */
static void *writer_main(void *arg)
{
    pgcdc_status *st = arg;
    uint64_t written = UINT64_MAX;
    char err[512];
    pthread_mutex_lock(&st->lock);
    while (!st->stop) {
        uint64_t v = st->version;
        if (v != written) {
            pthread_mutex_unlock(&st->lock);
            report_write(st, pgcdc_status_write(st, err, sizeof(err)), err);
            written = v;
            pthread_mutex_lock(&st->lock);
            if (st->stop)
                break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += WRITE_INTERVAL_MS / 1000;
        pthread_cond_timedwait(&st->wake, &st->lock, &ts);
    }
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

int pgcdc_status_start_writer(pgcdc_status *st, char *errstr, size_t errstr_size)
{
    if (!st || !st->data_dir || st->writer_started)
        return 0;
    int e = pthread_create(&st->writer, NULL, writer_main, st);
    if (e != 0) {
        snprintf(errstr, errstr_size, "status: cannot start the writer thread: %s", strerror(e));
        return -1;
    }
    st->writer_started = 1;
    return 0;
}

void pgcdc_status_free(pgcdc_status *st)
{
    if (!st)
        return;
    if (st->writer_started) {
        pthread_mutex_lock(&st->lock);
        st->stop = 1;
        pthread_cond_signal(&st->wake);
        pthread_mutex_unlock(&st->lock);
        pthread_join(st->writer, NULL);
    }
    if (st->data_dir) {
        char err[512];
        pgcdc_status_set_phase(st, PGCDC_PHASE_STOPPED);
        report_write(st, pgcdc_status_write(st, err, sizeof(err)), err);
    }
    for (int i = 0; i < st->nentries; i++) {
        free(st->entries[i].schema);
        free(st->entries[i].name);
    }
    free(st->entries);
    pthread_cond_destroy(&st->wake);
    pthread_mutex_destroy(&st->lock);
    free(st->data_dir);
    free(st->slot);
    free(st);
}

/* ---------- setters ---------- */

const char *pgcdc_status_phase_name(pgcdc_status_phase phase)
{
    switch (phase) {
    case PGCDC_PHASE_STARTING:
        return "starting";
    case PGCDC_PHASE_SNAPSHOT:
        return "snapshot";
    case PGCDC_PHASE_STREAMING:
        return "streaming";
    case PGCDC_PHASE_STOPPED:
        return "stopped";
    }
    return "unknown";
}

void pgcdc_status_set_phase(pgcdc_status *st, pgcdc_status_phase phase)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->lock);
    if (st->phase != phase) {
        st->phase = phase;
        st->version++;
        pthread_cond_signal(&st->wake); /* published at once, not within a second */
    }
    pthread_mutex_unlock(&st->lock);
}

void pgcdc_status_set_message(pgcdc_status *st, const char *msg)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->lock);
    if (strncmp(st->message, msg ? msg : "", sizeof(st->message) - 1) != 0) {
        snprintf(st->message, sizeof(st->message), "%s", msg ? msg : "");
        /* one line: the file is read by humans through `pgcdc status` */
        for (char *p = st->message; *p; p++)
            if (*p == '\n')
                *p = ' ';
        st->version++;
    }
    pthread_mutex_unlock(&st->lock);
}

void pgcdc_status_set_stream(pgcdc_status *st, uint64_t events_acked, uint64_t bytes_queued,
                             uint64_t confirmed_lsn)
{
    if (!st)
        return;
    int64_t now = wall_us();
    pthread_mutex_lock(&st->lock);
    if (!st->has_stream || st->events_acked != events_acked || st->bytes_queued != bytes_queued ||
        st->confirmed_lsn != confirmed_lsn)
        st->version++;
    st->has_stream = 1;
    st->events_acked = events_acked;
    st->bytes_queued = bytes_queued;
    st->confirmed_lsn = confirmed_lsn;
    /* a rate over a few seconds: per-call deltas would jump with batching */
    if (!st->win_start_us) {
        st->win_start_us = now;
        st->win_events = events_acked;
    } else if (now - st->win_start_us >= STREAM_RATE_WINDOW_US) {
        double rate =
            (double)(events_acked - st->win_events) / ((double)(now - st->win_start_us) / 1e6);
        if (rate != st->events_rate)
            st->version++;
        st->events_rate = rate;
        st->win_start_us = now;
        st->win_events = events_acked;
    }
    pthread_mutex_unlock(&st->lock);
}

int pgcdc_status_table_add(pgcdc_status *st, const char *kind, const char *schema, const char *name,
                           int64_t estimate)
{
    if (!st)
        return -1;
    int id = -1;
    char *s = strdup(schema), *n = strdup(name);
    pthread_mutex_lock(&st->lock);
    if (!s || !n)
        goto out;
    if (st->nentries == st->cap) {
        int ncap = st->cap ? st->cap * 2 : 16;
        entry *ne = realloc(st->entries, (size_t)ncap * sizeof(*ne));
        if (!ne)
            goto out;
        st->entries = ne;
        st->cap = ncap;
    }
    id = st->nentries++;
    entry *e = &st->entries[id];
    memset(e, 0, sizeof(*e));
    snprintf(e->kind, sizeof(e->kind), "%s", kind);
    e->schema = s;
    e->name = n;
    s = n = NULL;
    e->estimate = estimate < 0 ? -1 : estimate;
    st->version++;
out:
    pthread_mutex_unlock(&st->lock);
    free(s);
    free(n);
    return id;
}

/* The entry `id` with the lock held, or NULL (lock not held) for a NULL
 * status or an unknown id. entry_unlock() marks the status changed. */
static entry *entry_lock(pgcdc_status *st, int id)
{
    if (!st || id < 0)
        return NULL;
    pthread_mutex_lock(&st->lock);
    if (id < st->nentries)
        return &st->entries[id];
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

static void entry_unlock(pgcdc_status *st)
{
    st->version++;
    pthread_mutex_unlock(&st->lock);
}

void pgcdc_status_table_begin(pgcdc_status *st, int id)
{
    int64_t now = wall_us();
    entry *e = entry_lock(st, id);
    if (!e)
        return;
    if (!e->begin_us)
        e->begin_us = now;
    entry_unlock(st);
}

void pgcdc_status_table_add_rows(pgcdc_status *st, int id, uint64_t rows)
{
    if (rows == 0)
        return;
    int64_t now = wall_us();
    entry *e = entry_lock(st, id);
    if (!e)
        return;
    if (!e->begin_us)
        e->begin_us = now;
    e->done += rows;
    entry_unlock(st);
}

void pgcdc_status_table_finish(pgcdc_status *st, int id)
{
    int64_t now = wall_us();
    entry *e = entry_lock(st, id);
    if (!e)
        return;
    if (!e->begin_us)
        e->begin_us = now;
    e->end_us = now;
    e->finished = 1;
    entry_unlock(st);
}

/* ---------- readers ---------- */

static void entry_progress(const entry *e, int64_t now, pgcdc_progress *out)
{
    double elapsed =
        e->begin_us ? (double)((e->finished ? e->end_us : now) - e->begin_us) / 1e6 : 0;
    pgcdc_progress_compute(e->done, e->estimate, e->finished, elapsed, out);
    out->started = e->begin_us != 0;
}

int pgcdc_status_table_progress(pgcdc_status *st, int id, pgcdc_progress *out)
{
    memset(out, 0, sizeof(*out));
    if (!st || id < 0)
        return -1;
    int64_t now = wall_us();
    int rc = -1;
    pthread_mutex_lock(&st->lock);
    if (id < st->nentries) {
        entry_progress(&st->entries[id], now, out);
        rc = 0;
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

static void overall_locked(pgcdc_status *st, const char *kind, int64_t now,
                           pgcdc_status_overall *out)
{
    memset(out, 0, sizeof(*out));
    uint64_t done = 0;
    int64_t estimate = 0, first_begin = 0, last_end = 0;
    for (int i = 0; i < st->nentries; i++) {
        const entry *e = &st->entries[i];
        if (strcmp(e->kind, kind) != 0)
            continue;
        out->tables_total++;
        done += e->done;
        if (e->finished) {
            out->tables_done++;
            if (e->end_us > last_end)
                last_end = e->end_us;
            if (estimate >= 0)
                estimate += (int64_t)e->done;
        } else if (e->estimate < 0) {
            estimate = -1; /* one unknown table makes the total unknown */
        } else if (estimate >= 0) {
            estimate += e->estimate > (int64_t)e->done ? e->estimate : (int64_t)e->done;
        }
        if (e->begin_us && (!first_begin || e->begin_us < first_begin))
            first_begin = e->begin_us;
    }
    int all = out->tables_total > 0 && out->tables_done == out->tables_total;
    double elapsed = first_begin ? (double)((all ? last_end : now) - first_begin) / 1e6 : 0;
    pgcdc_progress_compute(done, estimate, all, elapsed, &out->progress);
    out->progress.started = first_begin != 0;
}

void pgcdc_status_overall_get(pgcdc_status *st, const char *kind, pgcdc_status_overall *out)
{
    memset(out, 0, sizeof(*out));
    if (!st)
        return;
    int64_t now = wall_us();
    pthread_mutex_lock(&st->lock);
    overall_locked(st, kind, now, out);
    pthread_mutex_unlock(&st->lock);
}

/* ---------- rendering ---------- */

static json_t *json_time(int64_t us)
{
    char buf[96];
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(us % 1000000 / 1000));
    return json_string(buf);
}

/* Unknown (-1) values become null; figures are rounded for readers. */
static void set_progress(json_t *obj, const pgcdc_progress *p)
{
    json_object_set_new(obj, "rows_done", json_integer((json_int_t)p->done));
    json_object_set_new(obj, "rows_estimate",
                        p->estimate < 0 ? json_null() : json_integer((json_int_t)p->estimate));
    json_object_set_new(obj, "percent",
                        p->percent < 0 ? json_null() : json_real(round(p->percent * 10) / 10));
    json_object_set_new(obj, "rows_per_s", json_real(round(p->rate * 10) / 10));
    json_object_set_new(obj, "eta_s",
                        p->eta_s < 0 ? json_null() : json_integer((json_int_t)llround(p->eta_s)));
    json_object_set_new(obj, "elapsed_s", json_real(round(p->elapsed_s * 10) / 10));
}

void pgcdc_status_render(pgcdc_status *st, pgcdc_buf *out)
{
    int64_t now = wall_us();
    json_t *root = json_object(), *tables = json_array(), *overall = json_object();
    pthread_mutex_lock(&st->lock);
    json_object_set_new(root, "format", json_integer(1));
    json_object_set_new(root, "pid", json_integer(st->pid));
    json_object_set_new(root, "slot", json_string(st->slot));
    json_object_set_new(root, "phase", json_string(pgcdc_status_phase_name(st->phase)));
    json_object_set_new(root, "started_at", json_time(st->started_us));
    json_object_set_new(root, "started_at_ms", json_integer(st->started_us / 1000));
    json_object_set_new(root, "updated_at", json_time(now));
    json_object_set_new(root, "updated_at_ms", json_integer(now / 1000));
    if (st->message[0])
        json_object_set_new(root, "message", json_string(st->message));
    for (int i = 0; i < st->nentries; i++) {
        const entry *e = &st->entries[i];
        pgcdc_progress p;
        entry_progress(e, now, &p);
        json_t *t = json_object();
        json_object_set_new(t, "kind", json_string(e->kind));
        json_object_set_new(t, "schema", json_string(e->schema));
        json_object_set_new(t, "table", json_string(e->name));
        json_object_set_new(t, "state",
                            json_string(e->finished   ? "done"
                                        : e->begin_us ? "copying"
                                                      : "waiting"));
        json_object_set_new(t, "done", json_boolean(e->finished));
        set_progress(t, &p);
        json_array_append_new(tables, t);
        if (!json_object_get(overall, e->kind)) {
            pgcdc_status_overall o;
            overall_locked(st, e->kind, now, &o);
            json_t *k = json_object();
            json_object_set_new(k, "tables_total", json_integer(o.tables_total));
            json_object_set_new(k, "tables_done", json_integer(o.tables_done));
            json_object_set_new(k, "done", json_boolean(o.progress.finished));
            set_progress(k, &o.progress);
            json_object_set_new(overall, e->kind, k);
        }
    }
    json_object_set_new(root, "tables", tables);
    json_object_set_new(root, "overall", overall);
    if (st->has_stream) {
        char lsn[32];
        pgcdc_lsn_format(st->confirmed_lsn, lsn, sizeof(lsn));
        json_t *s = json_object();
        json_object_set_new(s, "events_acked", json_integer((json_int_t)st->events_acked));
        json_object_set_new(s, "events_per_s", json_real(round(st->events_rate * 10) / 10));
        json_object_set_new(s, "bytes_queued", json_integer((json_int_t)st->bytes_queued));
        json_object_set_new(s, "confirmed_lsn", json_string(lsn));
        json_object_set_new(root, "streaming", s);
    }
    pthread_mutex_unlock(&st->lock);
    char *text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(root);
    if (!text) {
        fprintf(stderr, "pgcdc: out of memory rendering the status\n");
        abort();
    }
    pgcdc_buf_puts(out, text);
    pgcdc_buf_putc(out, '\n');
    free(text);
}

int pgcdc_status_write(pgcdc_status *st, char *errstr, size_t errstr_size)
{
    if (!st || !st->data_dir)
        return 0;
    pgcdc_buf text = PGCDC_BUF_INIT;
    pgcdc_status_render(st, &text);
    /* informational and rewritten every second: atomic, not durable */
    int rc = pgcdc_file_replace(st->data_dir, "status.json", text.data, text.len, 0, "status",
                                errstr, errstr_size);
    pgcdc_buf_free(&text);
    return rc;
}
