/*
 * incremental.h - incremental snapshots while streaming, driven by
 * Debezium's signal table (the watermark algorithm of Netflix's DBLog).
 *
 * A user inserts an `execute-snapshot` signal into the signal table; the
 * source sees it in the stream and queues the named tables. Each table is
 * then read in primary-key chunks: pgcdc writes an open watermark into the
 * signal table, reads the chunk (held in memory, keyed by primary key),
 * writes a close watermark. While the stream travels from the open to the
 * close watermark, every change of the table drops the held row with the same
 * key (the stream's version is at least as new); at the close watermark the
 * rows still held are emitted as op 'r' events with snapshot "incremental".
 * So a chunk read never overwrites a newer streamed change, and the write
 * load never pauses.
 *
 * Progress (tables left, last key done, maximum key) is a small JSON object
 * that travels with the batch that makes it safe and is stored in
 * offsets.json when that batch is acknowledged: after a crash the snapshot
 * resumes at the chunk after the last acknowledged one.
 *
 * Everything here runs on the source thread and uses the catalog connection.
 */
#ifndef PGCDC_SOURCE_PG_INCREMENTAL_H
#define PGCDC_SOURCE_PG_INCREMENTAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/status.h"
#include "core/event.h"
#include "core/filter.h"
#include "format/debezium.h"
#include "source/pg/catalog.h"
#include "source/pg/snapshot.h"

typedef struct pgcdc_incr pgcdc_incr;

/*
 * Checks the signal table (exists, at least three columns, in the
 * publication) and restores the progress stored in offsets.json
 * (state_json, may be NULL). Tables being read are reported to status
 * (may be NULL) as entries of kind "incremental". The objects passed in must outlive the
 * result. Returns NULL with errstr naming the problem and its fix.
 */
pgcdc_incr *pgcdc_incr_new(const pgcdc_config *cfg, pgcdc_catalog *cat, const pgcdc_filter *filter,
                           pgcdc_debezium *enc, pgcdc_status *status, const char *state_json,
                           char *errstr, size_t errstr_size);
void pgcdc_incr_free(pgcdc_incr *incr);

/* Whether schema.name is the signal table. */
int pgcdc_incr_is_signal_table(const pgcdc_incr *incr, const char *schema, const char *name);

/*
 * A change of the signal table (op 'c' with its new row, op 'd' with its
 * old key). Watermarks of the current chunk move the window; user signals
 * are queued until the transaction's commit (pgcdc_incr_on_commit). Returns
 * 1 when this row closes the window (call pgcdc_incr_close_window now),
 * else 0.
 */
int pgcdc_incr_on_signal_row(pgcdc_incr *incr, char op, const pgcdc_row *row);

/* relid of the table whose chunk is held, 0 if none: the cheap test the
 * source makes before pgcdc_incr_on_stream_row. */
uint32_t pgcdc_incr_window_relid(const pgcdc_incr *incr);

/* A streamed change (transaction xid) of the held chunk's table: inside the
 * window, and before it for transactions the chunk's read could not see,
 * the held rows with the same key (before or after image) are dropped. */
void pgcdc_incr_on_stream_row(pgcdc_incr *incr, uint32_t xid, const pgcdc_table *table,
                              const pgcdc_row *before, const pgcdc_row *after);

/* A Relation message replaced a table description: the key column mapping
 * cached for the stream must be rebuilt (a new description may even reuse
 * the old one's address). */
void pgcdc_incr_on_relation(pgcdc_incr *incr);

/* The held chunk's table was truncated (same rule as on_stream_row): every
 * held row is older than that. */
void pgcdc_incr_on_truncate(pgcdc_incr *incr, uint32_t xid);

/*
 * Emits the rows still held as op 'r' changes (snapshot "incremental";
 * emit fills in the position and encodes), then records the chunk as done.
 * Returns 0, or emit's non-zero result.
 */
int pgcdc_incr_close_window(pgcdc_incr *incr, pgcdc_snapshot_emit_fn emit, void *ctx);

/* The end of a transaction: applies the signals it carried. */
void pgcdc_incr_on_commit(pgcdc_incr *incr);

/* Whether a chunk should be read now (a table is queued, not paused, no
 * window in flight). */
int pgcdc_incr_want_chunk(const pgcdc_incr *incr);

/*
 * Reads the next chunk between an open and a close watermark. A table that
 * vanished, has no primary key or whose additional condition fails is
 * logged and left out. Returns 0, 1 when the connection failed (try again
 * after reconnecting), -1 with errstr when pgcdc cannot write watermarks.
 */
int pgcdc_incr_start_chunk(pgcdc_incr *incr, char *errstr, size_t errstr_size);

/* When the progress changed since the last call, returns it as JSON text
 * for offsets.json (caller frees), else NULL. */
char *pgcdc_incr_take_state(pgcdc_incr *incr);

/*
 * Forgets the window in flight and the queued signals and returns to the
 * progress in state_json (the last state handed to the pipeline; NULL:
 * none). Used after a reconnect: the stream replays from the last pushed
 * position, so the chunk is read again under a new watermark.
 */
void pgcdc_incr_rewind(pgcdc_incr *incr, const char *state_json);

#endif
