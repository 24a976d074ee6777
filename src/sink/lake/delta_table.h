/*
 * delta_table.h - one Delta table on a lake store: reading its log when it
 * is opened, and committing new versions atomically.
 *
 * A commit is the put-if-absent of _delta_log/<version>.json: when another
 * writer took that version first the commit reports a conflict and the
 * caller refreshes and decides whether to retry. Used by one thread.
 */
#ifndef PGCDC_SINK_LAKE_DELTA_TABLE_H
#define PGCDC_SINK_LAKE_DELTA_TABLE_H

#include "format/delta/delta_log.h"
#include "sink/lake/store.h"

typedef struct pgcdc_delta_table {
    pgcdc_lake_store *store; /* borrowed */
    char *dir;               /* the table's key prefix, without trailing '/' */
    pgcdc_delta_state state;
} pgcdc_delta_table;

/*
 * Opens the table under dir and reads its whole log; a table that does not
 * exist yet has state.version -1. Fails with errstr when the log cannot be
 * read or is not one pgcdc can write to (see pgcdc_delta_state_apply), and
 * when older commits were replaced by Parquet checkpoints, which pgcdc does
 * not read.
 */
int pgcdc_delta_table_open(pgcdc_delta_table *t, pgcdc_lake_store *store, const char *dir,
                           char *errstr, size_t errstr_size);
/* Applies the commits other writers made since the table was read. */
int pgcdc_delta_table_refresh(pgcdc_delta_table *t, char *errstr, size_t errstr_size);
/*
 * Commits `actions` (lines built with the pgcdc_delta_put_* functions) as
 * version state.version + 1 and applies them to the state. Returns 0 when
 * committed (durably), 1 when that version was already taken (nothing
 * changed; refresh and retry), -1 on error.
 */
int pgcdc_delta_table_commit(pgcdc_delta_table *t, const char *actions, size_t len, char *errstr,
                             size_t errstr_size);
/* The text of commit v (reset into text). */
int pgcdc_delta_table_read_commit(pgcdc_delta_table *t, int64_t v, pgcdc_buf *text, char *errstr,
                                  size_t errstr_size);
void pgcdc_delta_table_close(pgcdc_delta_table *t);

#endif
