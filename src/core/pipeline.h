/*
 * pipeline.h - moves batches from the source to every sink and turns the
 * sinks' acknowledgements into a durable, confirmable position.
 *
 * Threads: the source thread (the caller) builds batches and pushes them;
 * each sink has a worker thread that writes batches in order; a committer
 * thread waits for acknowledgements, frees batches every sink has
 * acknowledged, persists offsets (fsync) and only then publishes the LSN
 * that the source may confirm to the replication slot.
 *
 * Memory is bounded: pushed-but-unacknowledged bytes are counted, and
 * pgcdc_pipeline_wait_room() blocks the source while they exceed
 * max.queue.size.in.bytes, so a slow sink stops the reading of the socket
 * (backpressure) instead of growing RSS.
 */
#ifndef PGCDC_CORE_PIPELINE_H
#define PGCDC_CORE_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/config.h"
#include "core/offsets.h"

typedef struct pgcdc_pipeline pgcdc_pipeline;

typedef struct pgcdc_pipeline_stats {
    uint64_t events_pushed;
    uint64_t events_acked;
    uint64_t acked_by_op[128]; /* indexed by op character; tombstones under '0' */
    uint64_t bytes_queued;     /* encoded bytes pushed and not yet acknowledged */
    uint64_t confirmed_lsn;
} pgcdc_pipeline_stats;

/*
 * Creates the pipeline and opens every configured sink (sink.type) with
 * cfg. `start` is the durable position loaded from the offsets file (or
 * zeros); the committer continues from it. data_dir is where offsets.json
 * lives; NULL keeps the offsets in memory only (a source whose position is
 * stored elsewhere). Returns NULL with errstr on failure (unknown sink, sink
 * open error).
 */
pgcdc_pipeline *pgcdc_pipeline_new(const pgcdc_config *cfg, const char *data_dir,
                                   const pgcdc_offsets *start, char *errstr, size_t errstr_size);

/*
 * Hook for sources whose position is not an LSN (the Kafka source): called
 * by the committer thread once per batch, in sequence order, when every
 * sink has acknowledged it, before the batch is recycled and before the
 * offsets file is written. It runs with the pipeline's lock held: it must be
 * quick, must not block and must not call pipeline functions. The batch
 * (its source_data in particular) is only valid during the call.
 */
typedef void (*pgcdc_pipeline_acked_fn)(void *ctx, const pgcdc_batch *batch);

/* Installs the hook (NULL removes it); call before the first push. */
void pgcdc_pipeline_set_on_acked(pgcdc_pipeline *pipe, pgcdc_pipeline_acked_fn fn, void *ctx);

/* A fresh (reset) batch to fill; never blocks. */
pgcdc_batch *pgcdc_pipeline_batch_get(pgcdc_pipeline *pipe);

/* Hands a batch to all sinks; the pipeline owns it afterwards. */
void pgcdc_pipeline_push(pgcdc_pipeline *pipe, pgcdc_batch *batch);

/*
 * Waits up to timeout_ms for the queued bytes to fall below the bound.
 * Returns 1 when there is room, 0 on timeout (the caller keeps its
 * connection alive and waits again), -1 if the pipeline failed.
 */
int pgcdc_pipeline_wait_room(pgcdc_pipeline *pipe, int timeout_ms);

/* The end LSN up to which every sink has acknowledged and the offsets file
 * is durable: safe to confirm as the slot's flush position. */
uint64_t pgcdc_pipeline_confirmed_lsn(pgcdc_pipeline *pipe);

/* A file descriptor that becomes readable when the confirmed LSN advances,
 * so the source can wait on it beside its socket and confirm at once. The
 * source calls pgcdc_pipeline_wakeup_drain() after it fires. */
int pgcdc_pipeline_wakeup_fd(pgcdc_pipeline *pipe);
void pgcdc_pipeline_wakeup_drain(pgcdc_pipeline *pipe);

/* 1 when every pushed batch has been acknowledged by every sink. */
int pgcdc_pipeline_idle(pgcdc_pipeline *pipe);

/*
 * Advances the durable position to `lsn` when the pipeline is idle and the
 * source knows nothing before `lsn` is pending (keepalive while idle).
 * Persists offsets. Returns 0 or -1 with errstr.
 */
int pgcdc_pipeline_advance_idle(pgcdc_pipeline *pipe, uint64_t lsn, char *errstr,
                                size_t errstr_size);

/* Returns 1 and copies the first fatal error if a sink or the committer
 * failed; 0 otherwise. */
int pgcdc_pipeline_failed(pgcdc_pipeline *pipe, char *errstr, size_t errstr_size);

void pgcdc_pipeline_stats_get(pgcdc_pipeline *pipe, pgcdc_pipeline_stats *stats);

/*
 * Drains: every pushed batch is written and flushed by every sink, offsets
 * are persisted, threads joined, sinks closed. Returns 0, or -1 with errstr
 * if a sink failed while draining (the offsets then hold what was acked).
 * The pipeline can still be queried (confirmed LSN, stats) until freed.
 */
int pgcdc_pipeline_close(pgcdc_pipeline *pipe, char *errstr, size_t errstr_size);
void pgcdc_pipeline_free(pgcdc_pipeline *pipe);

#endif
