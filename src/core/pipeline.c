/*
 * pipeline.c - bounded batch queue, sink workers and the committer
 * (see pipeline.h for the threading and durability contract).
 *
 * All shared state is guarded by one mutex: it is taken once per batch, not
 * per event, so contention stays negligible next to encoding and I/O.
 * Batches form one FIFO (head = oldest not yet acknowledged by every sink);
 * each sink worker keeps a pointer to the next batch it has to write. A
 * batch is freed only when every sink acknowledged it, so those pointers
 * never dangle.
 */
#include "core/pipeline.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "sink/sink.h"

#define FREE_LIST_MAX 8
#define BATCH_KEEP_CAP (4u << 20) /* buffers that grew beyond this are not recycled */
#define FLUSH_EVERY_BYTES (16u << 20)

struct pgcdc_sink {
    const pgcdc_sink_type *type;
    void *state;
    pgcdc_pipeline *pipe;
    int id;
    char name[32];
    pthread_t thread;
    int started;
    pgcdc_batch *cur;     /* next batch to write; NULL when caught up */
    uint64_t acked_seq;   /* guarded by pipe->lock */
    uint64_t written_seq; /* worker-local */
};

struct pgcdc_pipeline {
    pthread_mutex_t lock;
    pthread_cond_t cond_room;   /* source waits for queue room */
    pthread_cond_t cond_work;   /* workers wait for batches */
    pthread_cond_t cond_commit; /* committer waits for acks */
    pgcdc_batch *head, *tail;
    pgcdc_batch *free_list;
    int free_count;
    uint64_t next_seq;
    uint64_t queued_bytes;
    uint64_t max_bytes;
    int stopping;
    int closed;
    int workers_done;
    int failed;
    char errstr[512];

    pgcdc_sink sinks[PGCDC_MAX_SINKS];
    int nsinks;

    pthread_t committer;
    int committer_started;
    char *data_dir; /* NULL: offsets are not persisted */
    pgcdc_pipeline_acked_fn on_acked;
    void *on_acked_ctx;
    pgcdc_offsets offsets; /* committer-owned durable position */
    int offsets_dirty;
    _Atomic uint64_t confirmed_lsn;
    int wakeup_fd; /* eventfd: confirmed_lsn advanced */
    _Atomic uint64_t events_pushed;
    _Atomic uint64_t events_acked;
    _Atomic uint64_t acked_by_op[128];
};

static void timespec_after_ms(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Records the first fatal error and wakes everybody. Caller holds lock. */
static void fail_locked(pgcdc_pipeline *pipe, const char *msg)
{
    if (!pipe->failed) {
        pipe->failed = 1;
        snprintf(pipe->errstr, sizeof(pipe->errstr), "%s", msg);
    }
    pthread_cond_broadcast(&pipe->cond_room);
    pthread_cond_broadcast(&pipe->cond_work);
    pthread_cond_broadcast(&pipe->cond_commit);
}

void pgcdc_sink_ack(pgcdc_sink *sink, uint64_t seq)
{
    pgcdc_pipeline *pipe = sink->pipe;
    pthread_mutex_lock(&pipe->lock);
    if (seq > sink->acked_seq) {
        sink->acked_seq = seq;
        pthread_cond_signal(&pipe->cond_commit);
    }
    pthread_mutex_unlock(&pipe->lock);
}

int pgcdc_sink_stopping(pgcdc_sink *sink)
{
    pgcdc_pipeline *pipe = sink->pipe;
    pthread_mutex_lock(&pipe->lock);
    int stopping = pipe->stopping;
    pthread_mutex_unlock(&pipe->lock);
    return stopping;
}

const char *pgcdc_sink_name(const pgcdc_sink *sink)
{
    return sink->name;
}

/*
 * Sink worker: writes batches in sequence order, flushes when it catches up
 * (or every FLUSH_EVERY_BYTES so acknowledgements keep flowing under a
 * steady load), polls asynchronous sinks. Any error is fatal for the
 * pipeline: nothing is skipped, the slot is not advanced past it.
 */
static void *sink_worker(void *arg)
{
    pgcdc_sink *sink = arg;
    pgcdc_pipeline *pipe = sink->pipe;
    char err[512];
    size_t since_flush = 0;
    int dirty = 0;

    pthread_mutex_lock(&pipe->lock);
    for (;;) {
        if (pipe->failed)
            break;
        pgcdc_batch *b = sink->cur;
        if (!b) {
            if (dirty) {
                pthread_mutex_unlock(&pipe->lock);
                err[0] = 0;
                int rc =
                    sink->type->flush ? sink->type->flush(sink, sink->state, err, sizeof(err)) : 0;
                if (!sink->type->flush)
                    pgcdc_sink_ack(sink, sink->written_seq);
                pthread_mutex_lock(&pipe->lock);
                if (rc != 0) {
                    fail_locked(pipe, err);
                    break;
                }
                dirty = 0;
                since_flush = 0;
                continue;
            }
            if (pipe->stopping && sink->acked_seq >= sink->written_seq)
                break;
            struct timespec ts;
            timespec_after_ms(&ts, 100);
            pthread_cond_timedwait(&pipe->cond_work, &pipe->lock, &ts);
            if (sink->type->poll && sink->acked_seq < sink->written_seq) {
                pthread_mutex_unlock(&pipe->lock);
                int rc = sink->type->poll(sink, sink->state, err, sizeof(err));
                pthread_mutex_lock(&pipe->lock);
                if (rc != 0) {
                    fail_locked(pipe, err);
                    break;
                }
            }
            continue;
        }
        sink->cur = b->next;
        pthread_mutex_unlock(&pipe->lock);

        err[0] = 0;
        int rc = sink->type->write_batch(sink, sink->state, b, err, sizeof(err));
        sink->written_seq = b->seq;
        since_flush += b->data.len;
        dirty = 1;
        if (rc == 0 && since_flush >= FLUSH_EVERY_BYTES) {
            rc = sink->type->flush ? sink->type->flush(sink, sink->state, err, sizeof(err)) : 0;
            since_flush = 0;
            dirty = 0;
        }
        pthread_mutex_lock(&pipe->lock);
        if (rc != 0) {
            fail_locked(pipe, err);
            break;
        }
    }
    pipe->workers_done++;
    pthread_cond_broadcast(&pipe->cond_commit);
    pthread_mutex_unlock(&pipe->lock);
    return NULL;
}

static uint64_t min_acked_locked(pgcdc_pipeline *pipe)
{
    uint64_t m = UINT64_MAX;
    for (int i = 0; i < pipe->nsinks; i++)
        if (pipe->sinks[i].acked_seq < m)
            m = pipe->sinks[i].acked_seq;
    return m;
}

static void batch_recycle_locked(pgcdc_pipeline *pipe, pgcdc_batch *b)
{
    if (pipe->free_count < FREE_LIST_MAX && b->data.cap <= BATCH_KEEP_CAP) {
        b->next = pipe->free_list;
        pipe->free_list = b;
        pipe->free_count++;
        return;
    }
    pgcdc_batch_free(b);
}

/* Applies an acknowledged batch's position to the committer's offsets; takes over
 * the batch's incremental snapshot state. */
static void offsets_apply(pgcdc_offsets *o, pgcdc_batch *b)
{
    if (b->snapshot_done)
        o->snapshot = PGCDC_SNAPSHOT_STATE_DONE;
    if (b->last_commit_lsn)
        o->last_commit_lsn = b->last_commit_lsn;
    if (b->incr_state) {
        free(o->incremental);
        o->incremental = b->incr_state;
        b->incr_state = NULL;
    }
    if (!b->has_pos)
        return;
    if (b->pos.end_lsn) {
        if (b->pos.end_lsn > o->done_lsn)
            o->done_lsn = b->pos.end_lsn;
        o->partial_commit_lsn = 0;
        o->partial_index = 0;
    } else {
        o->partial_commit_lsn = b->pos.commit_lsn;
        o->partial_index = b->pos.index;
    }
    if (b->pos.event_lsn)
        o->last_event_lsn = b->pos.event_lsn;
    if (b->pos.xid)
        o->last_xid = b->pos.xid;
}

/*
 * Committer: frees fully acknowledged batches, persists the new position,
 * then publishes it. The order matters: the LSN confirmed to PostgreSQL is
 * never ahead of the offsets file, which is never ahead of the sinks.
 */
static void *committer_main(void *arg)
{
    pgcdc_pipeline *pipe = arg;
    char err[512];
    pthread_mutex_lock(&pipe->lock);
    for (;;) {
        uint64_t m = min_acked_locked(pipe);
        int progressed = 0;
        while (pipe->head && pipe->head->seq <= m) {
            pgcdc_batch *b = pipe->head;
            pipe->head = b->next;
            if (!pipe->head)
                pipe->tail = NULL;
            pipe->queued_bytes -= b->data.len;
            if (pipe->on_acked)
                pipe->on_acked(pipe->on_acked_ctx, b);
            offsets_apply(&pipe->offsets, b);
            pipe->offsets.events += b->nrecords;
            atomic_fetch_add(&pipe->events_acked, b->nrecords);
            for (int op = 0; op < 128; op++)
                if (b->op_counts[op])
                    atomic_fetch_add(&pipe->acked_by_op[op], b->op_counts[op]);
            batch_recycle_locked(pipe, b);
            progressed = 1;
        }
        if (progressed) {
            pipe->offsets_dirty = 1;
            pthread_cond_broadcast(&pipe->cond_room);
        }
        if (pipe->offsets_dirty) {
            /* a private copy: offsets_apply may replace the string meanwhile */
            pgcdc_offsets snap = pipe->offsets;
            snap.incremental = pipe->offsets.incremental ? strdup(pipe->offsets.incremental) : NULL;
            int oom = pipe->offsets.incremental && !snap.incremental;
            pipe->offsets_dirty = 0;
            pthread_mutex_unlock(&pipe->lock);
            int rc = -1;
            if (oom)
                snprintf(err, sizeof(err), "offsets: out of memory");
            else if (!pipe->data_dir)
                rc = 0;
            else
                rc = pgcdc_offsets_store(pipe->data_dir, &snap, err, sizeof(err));
            free(snap.incremental);
            pthread_mutex_lock(&pipe->lock);
            if (rc != 0) {
                fail_locked(pipe, err);
                break;
            }
            if (snap.done_lsn > atomic_load(&pipe->confirmed_lsn)) {
                atomic_store(&pipe->confirmed_lsn, snap.done_lsn);
                uint64_t one = 1;
                ssize_t w = write(pipe->wakeup_fd, &one, sizeof(one));
                (void)w; /* a full counter still wakes the reader */
            }
            continue;
        }
        if (pipe->workers_done == pipe->nsinks || pipe->failed)
            break;
        struct timespec ts;
        timespec_after_ms(&ts, 200);
        pthread_cond_timedwait(&pipe->cond_commit, &pipe->lock, &ts);
    }
    pthread_mutex_unlock(&pipe->lock);
    return NULL;
}

pgcdc_pipeline *pgcdc_pipeline_new(const pgcdc_config *cfg, const char *data_dir,
                                   const pgcdc_offsets *start, char *errstr, size_t errstr_size)
{
    pgcdc_pipeline *pipe = calloc(1, sizeof(*pipe));
    char *types = NULL;
    if (!pipe)
        goto oom;
    pthread_mutex_init(&pipe->lock, NULL);
    pthread_cond_init(&pipe->cond_room, NULL);
    pthread_cond_init(&pipe->cond_work, NULL);
    pthread_cond_init(&pipe->cond_commit, NULL);
    pipe->wakeup_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (pipe->wakeup_fd < 0) {
        snprintf(errstr, errstr_size, "pipeline: eventfd: %s", strerror(errno));
        free(pipe);
        return NULL;
    }
    pipe->max_bytes = cfg->queue_max_bytes > 0 ? (uint64_t)cfg->queue_max_bytes : (64u << 20);
    pipe->next_seq = 1;
    pipe->offsets = *start;
    pipe->offsets.incremental = NULL;
    if (start->incremental && !(pipe->offsets.incremental = strdup(start->incremental))) {
        snprintf(errstr, errstr_size, "pipeline: out of memory");
        goto fail;
    }
    snprintf(pipe->offsets.slot, sizeof(pipe->offsets.slot), "%s", cfg->slot_name);
    pipe->offsets_dirty = 1; /* record the starting state (e.g. a snapshot begins) at once */
    atomic_store(&pipe->confirmed_lsn, start->done_lsn);
    pipe->data_dir = data_dir ? strdup(data_dir) : NULL;
    types = strdup(pgcdc_config_sink_types(cfg));
    if ((data_dir && !pipe->data_dir) || !types)
        goto oom;

    char *save = NULL;
    for (char *t = strtok_r(types, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        const pgcdc_sink_type *type = pgcdc_sink_type_find(t);
        if (!type) {
            snprintf(errstr, errstr_size, "sink.type: unknown sink '%s' (known: %s)", t,
                     pgcdc_sink_type_names());
            goto fail;
        }
        if (pipe->nsinks == PGCDC_MAX_SINKS) {
            snprintf(errstr, errstr_size, "sink.type: at most %d sinks", PGCDC_MAX_SINKS);
            goto fail;
        }
        pgcdc_sink *sink = &pipe->sinks[pipe->nsinks];
        sink->type = type;
        sink->pipe = pipe;
        sink->id = pipe->nsinks;
        snprintf(sink->name, sizeof(sink->name), "%s", t);
        if (type->open(sink, cfg, &sink->state, errstr, errstr_size) != 0)
            goto fail;
        pipe->nsinks++;
    }
    if (pipe->nsinks == 0) {
        snprintf(errstr, errstr_size, "sink.type: no sink configured");
        goto fail;
    }
    free(types);
    types = NULL;

    for (int i = 0; i < pipe->nsinks; i++) {
        if (pthread_create(&pipe->sinks[i].thread, NULL, sink_worker, &pipe->sinks[i]) != 0) {
            snprintf(errstr, errstr_size, "pipeline: cannot start sink thread: %s",
                     strerror(errno));
            goto fail;
        }
        pipe->sinks[i].started = 1;
    }
    if (pthread_create(&pipe->committer, NULL, committer_main, pipe) != 0) {
        snprintf(errstr, errstr_size, "pipeline: cannot start committer thread");
        goto fail;
    }
    pipe->committer_started = 1;
    return pipe;

oom:
    snprintf(errstr, errstr_size, "pipeline: out of memory");
fail:
    free(types);
    pgcdc_pipeline_free(pipe);
    return NULL;
}

void pgcdc_pipeline_set_on_acked(pgcdc_pipeline *pipe, pgcdc_pipeline_acked_fn fn, void *ctx)
{
    pthread_mutex_lock(&pipe->lock);
    pipe->on_acked = fn;
    pipe->on_acked_ctx = ctx;
    pthread_mutex_unlock(&pipe->lock);
}

pgcdc_batch *pgcdc_pipeline_batch_get(pgcdc_pipeline *pipe)
{
    pgcdc_batch *b = NULL;
    pthread_mutex_lock(&pipe->lock);
    if (pipe->free_list) {
        b = pipe->free_list;
        pipe->free_list = b->next;
        pipe->free_count--;
    }
    pthread_mutex_unlock(&pipe->lock);
    if (!b) {
        b = calloc(1, sizeof(*b));
        if (!b) {
            fprintf(stderr, "pgcdc: out of memory allocating a batch\n");
            abort();
        }
    }
    pgcdc_batch_reset(b);
    return b;
}

void pgcdc_pipeline_push(pgcdc_pipeline *pipe, pgcdc_batch *batch)
{
    atomic_fetch_add(&pipe->events_pushed, batch->nrecords);
    pthread_mutex_lock(&pipe->lock);
    batch->seq = pipe->next_seq++;
    batch->next = NULL;
    batch->pending = pipe->nsinks;
    if (pipe->tail)
        pipe->tail->next = batch;
    else
        pipe->head = batch;
    pipe->tail = batch;
    pipe->queued_bytes += batch->data.len;
    for (int i = 0; i < pipe->nsinks; i++)
        if (!pipe->sinks[i].cur)
            pipe->sinks[i].cur = batch;
    pthread_cond_broadcast(&pipe->cond_work);
    pthread_mutex_unlock(&pipe->lock);
}

int pgcdc_pipeline_wait_room(pgcdc_pipeline *pipe, int timeout_ms)
{
    int rc;
    pthread_mutex_lock(&pipe->lock);
    if (!pipe->failed && pipe->queued_bytes > pipe->max_bytes) {
        struct timespec ts;
        timespec_after_ms(&ts, timeout_ms);
        while (!pipe->failed && pipe->queued_bytes > pipe->max_bytes)
            if (pthread_cond_timedwait(&pipe->cond_room, &pipe->lock, &ts) == ETIMEDOUT)
                break;
    }
    rc = pipe->failed ? -1 : pipe->queued_bytes <= pipe->max_bytes;
    pthread_mutex_unlock(&pipe->lock);
    return rc;
}

int pgcdc_pipeline_wakeup_fd(pgcdc_pipeline *pipe)
{
    return pipe->wakeup_fd;
}

void pgcdc_pipeline_wakeup_drain(pgcdc_pipeline *pipe)
{
    uint64_t n;
    ssize_t r = read(pipe->wakeup_fd, &n, sizeof(n));
    (void)r; /* EAGAIN: nothing pending */
}

uint64_t pgcdc_pipeline_confirmed_lsn(pgcdc_pipeline *pipe)
{
    return atomic_load(&pipe->confirmed_lsn);
}

int pgcdc_pipeline_idle(pgcdc_pipeline *pipe)
{
    pthread_mutex_lock(&pipe->lock);
    int idle = pipe->head == NULL && !pipe->offsets_dirty;
    pthread_mutex_unlock(&pipe->lock);
    return idle;
}

int pgcdc_pipeline_advance_idle(pgcdc_pipeline *pipe, uint64_t lsn, char *errstr,
                                size_t errstr_size)
{
    pthread_mutex_lock(&pipe->lock);
    if (pipe->head || lsn <= pipe->offsets.done_lsn) {
        pthread_mutex_unlock(&pipe->lock);
        return 0;
    }
    pipe->offsets.done_lsn = lsn;
    pipe->offsets.partial_commit_lsn = 0;
    pipe->offsets.partial_index = 0;
    pipe->offsets_dirty = 1;
    pthread_cond_signal(&pipe->cond_commit);
    int failed = pipe->failed;
    if (failed)
        snprintf(errstr, errstr_size, "%s", pipe->errstr);
    pthread_mutex_unlock(&pipe->lock);
    return failed ? -1 : 0;
}

int pgcdc_pipeline_failed(pgcdc_pipeline *pipe, char *errstr, size_t errstr_size)
{
    pthread_mutex_lock(&pipe->lock);
    int failed = pipe->failed;
    if (failed)
        snprintf(errstr, errstr_size, "%s", pipe->errstr);
    pthread_mutex_unlock(&pipe->lock);
    return failed;
}

void pgcdc_pipeline_stats_get(pgcdc_pipeline *pipe, pgcdc_pipeline_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
    stats->events_pushed = atomic_load(&pipe->events_pushed);
    stats->events_acked = atomic_load(&pipe->events_acked);
    for (int i = 0; i < 128; i++)
        stats->acked_by_op[i] = atomic_load(&pipe->acked_by_op[i]);
    pthread_mutex_lock(&pipe->lock);
    stats->bytes_queued = pipe->queued_bytes;
    pthread_mutex_unlock(&pipe->lock);
    stats->confirmed_lsn = atomic_load(&pipe->confirmed_lsn);
}

int pgcdc_pipeline_close(pgcdc_pipeline *pipe, char *errstr, size_t errstr_size)
{
    if (pipe->closed)
        return pipe->failed ? -1 : 0;
    pipe->closed = 1;
    pthread_mutex_lock(&pipe->lock);
    pipe->stopping = 1;
    pthread_cond_broadcast(&pipe->cond_work);
    pthread_mutex_unlock(&pipe->lock);
    for (int i = 0; i < pipe->nsinks; i++)
        if (pipe->sinks[i].started)
            pthread_join(pipe->sinks[i].thread, NULL);
    if (pipe->committer_started) {
        pthread_mutex_lock(&pipe->lock);
        pthread_cond_broadcast(&pipe->cond_commit);
        pthread_mutex_unlock(&pipe->lock);
        pthread_join(pipe->committer, NULL);
    }
    for (int i = 0; i < pipe->nsinks; i++)
        if (pipe->sinks[i].type->close)
            pipe->sinks[i].type->close(&pipe->sinks[i], pipe->sinks[i].state);
    if (pipe->failed) {
        snprintf(errstr, errstr_size, "%s", pipe->errstr);
        return -1;
    }
    return 0;
}

void pgcdc_pipeline_free(pgcdc_pipeline *pipe)
{
    if (!pipe)
        return;
    char ignore[8];
    pgcdc_pipeline_close(pipe, ignore, sizeof(ignore));
    pgcdc_batch *b = pipe->head;
    while (b) {
        pgcdc_batch *n = b->next;
        pgcdc_batch_free(b);
        b = n;
    }
    b = pipe->free_list;
    while (b) {
        pgcdc_batch *n = b->next;
        pgcdc_batch_free(b);
        b = n;
    }
    pgcdc_offsets_clear(&pipe->offsets);
    free(pipe->data_dir);
    close(pipe->wakeup_fd);
    pthread_mutex_destroy(&pipe->lock);
    pthread_cond_destroy(&pipe->cond_room);
    pthread_cond_destroy(&pipe->cond_work);
    pthread_cond_destroy(&pipe->cond_commit);
    free(pipe);
}
