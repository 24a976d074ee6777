/*
 * snapshot.h - the initial snapshot: copies every captured table as op 'r'
 * events inside one REPEATABLE READ transaction.
 *
 * When pgcdc creates the slot, the transaction imports the snapshot the slot
 * exported at its consistent point, so the copy plus the stream from that
 * point hold every committed row exactly once. When the slot already exists
 * (an interrupted snapshot is taken again, or snapshot.mode=always), the
 * copy uses a fresh snapshot taken after the slot's position: nothing is
 * missed, and changes between the two arrive again as events, which
 * replaying consumers absorb.
 */
#ifndef PGCDC_SOURCE_PG_SNAPSHOT_H
#define PGCDC_SOURCE_PG_SNAPSHOT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/event.h"
#include "core/filter.h"
#include "core/pipeline.h"
#include "format/debezium.h"
#include "core/status.h"
#include "source/pg/catalog.h"

/* Receives each snapshot row as a change (op 'r', snapshot marker set).
 * Returns 0 to go on, non-zero to stop the copy (returned to the caller). */
typedef int (*pgcdc_snapshot_emit_fn)(void *ctx, pgcdc_change *chg);

typedef struct pgcdc_snapshot_stats {
    int tables;
    uint64_t rows;
} pgcdc_snapshot_stats;

/*
 * Copies the captured tables of cfg's publication (filters applied) over
 * cat's connection. snapshot_name is the exported snapshot to import, or
 * NULL for a fresh one. lsn is reported as the events' source.lsn (the
 * consistent point, or 0 when unknown). Runs on the source thread; returns
 * 0, the emit function's non-zero code (2 when *stop was raised in
 * parallel mode), or -1 with errstr.
 *
 * Progress: every captured table is registered in `status` (kind
 * "snapshot", estimate from pgcdc_snapshot_estimate_rows) before the copy
 * starts, rows are added as they are read, and progress is logged every
 * 10 s and per finished table. status may be NULL (a private one is used
 * for the logs).
 *
 * With snapshot.max.threads > 1 the rows are copied by that many worker
 * threads, each with its own connection importing the same snapshot and its
 * own batches pushed straight into `pipe` (emit is not called); tables are
 * split into ranges of pages so one large table keeps every worker busy.
 */
int pgcdc_snapshot_run(pgcdc_catalog *cat, const pgcdc_config *cfg, const pgcdc_filter *filter,
                       pgcdc_debezium *enc, const char *snapshot_name, uint64_t lsn,
                       pgcdc_snapshot_emit_fn emit, void *ctx, pgcdc_pipeline *pipe,
                       volatile sig_atomic_t *stop, pgcdc_status *status,
                       pgcdc_snapshot_stats *stats, char *errstr, size_t errstr_size);

/*
 * Expected rows of a table, as the planner estimates them: with statistics
 * (pg_class reltuples and relpages > 0), their density times the table's
 * size now in pages; without (never analyzed: reltuples -1, or 0), a density
 * guessed from tuple_width (sum of the column widths, 32 per variable-width
 * column) and block_size. 0 for a table without pages, -1 when nothing
 * usable was given.
 */
int64_t pgcdc_snapshot_estimate_rows(double reltuples, int64_t relpages, int64_t curpages,
                                     int64_t tuple_width, int64_t block_size);

/*
 * Builds the description of table relid (schema.name) from the catalog, as
 * the transaction open on cat sees it: columns in attnum order (generated
 * ones left out, as pgoutput does), types resolved, filters applied, encoder
 * fragments prepared. The caller owns the result (pgcdc_table_clear + free).
 * Returns NULL with errstr.
 */
pgcdc_table *pgcdc_snapshot_load_table(pgcdc_catalog *cat, pgcdc_debezium *enc,
                                       const pgcdc_filter *filter, uint32_t relid,
                                       const char *schema, const char *name, char *errstr,
                                       size_t errstr_size);

/*
 * Splits one COPY ... TO STDOUT text-format row (without or with its
 * trailing newline) into ncols values, unescaping into `scratch` (reset
 * first). NULL fields (\N) get kind 'n'; others 't'. Returns 0, or -1 with
 * errstr when the row does not have ncols fields.
 */
int pgcdc_copy_row_parse(const char *row, size_t len, int ncols, pgcdc_buf *scratch,
                         pgcdc_value *values, char *errstr, size_t errstr_size);

#endif
