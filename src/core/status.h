/*
 * status.h - what a running pipeline is doing, for operators: the phase,
 * per-table copy progress and streaming figures, kept in memory and
 * published as <data-dir>/status.json for `pgcdc status`.
 *
 * Progress sources register table entries with a kind ("snapshot" for the
 * initial snapshot; other copy mechanisms bring their own kind) and add rows
 * as they go; aggregates are computed per kind. Every setter is thread-safe
 * (one mutex), so parallel snapshot workers report directly; they are meant
 * to be called per batch, not per row. A status object may also be used
 * without a file (data_dir NULL) just for its bookkeeping.
 *
 * The file is replaced atomically (temporary file + rename, no fsync: it is
 * informational and rewritten every second) by a writer thread, only when
 * something changed.
 */
#ifndef PGCDC_CORE_STATUS_H
#define PGCDC_CORE_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef struct pgcdc_status pgcdc_status;

typedef enum {
    PGCDC_PHASE_STARTING = 0,
    PGCDC_PHASE_SNAPSHOT,
    PGCDC_PHASE_STREAMING,
    PGCDC_PHASE_STOPPED,
} pgcdc_status_phase;

/* The entry kind of the initial snapshot's tables. */
#define PGCDC_STATUS_KIND_SNAPSHOT "snapshot"

/* Progress of one table or of a whole kind. Unknown values are -1. */
typedef struct pgcdc_progress {
    uint64_t done;
    int64_t estimate; /* rows expected; -1 unknown */
    double percent;   /* 0..100; -1 unknown */
    double rate;      /* rows per second so far */
    double eta_s;     /* seconds left; -1 unknown */
    double elapsed_s; /* since the copy began */
    int started;
    int finished;
} pgcdc_progress;

/* Aggregate of every entry of one kind. */
typedef struct pgcdc_status_overall {
    int tables_total;
    int tables_done;
    pgcdc_progress progress;
} pgcdc_status_overall;

/*
 * Rows-done arithmetic shared by the logs, the status file and tests:
 * percent and ETA need a known estimate; an estimate below `done` (stale
 * statistics) is raised to `done` while the copy runs; a finished copy is
 * 100% with ETA 0 whatever the estimate said.
 */
void pgcdc_progress_compute(uint64_t done, int64_t estimate, int finished, double elapsed_s,
                            pgcdc_progress *out);

/* Appends "1200 of ~5000 rows (24.0%), 300 rows/s, ETA 13s" (or "of unknown
 * rows" and no percentage/ETA when the estimate is unknown). */
void pgcdc_progress_format(const pgcdc_progress *p, pgcdc_buf *out);

/* Appends a duration as "45s", "12m05s" or "3h02m". */
void pgcdc_duration_format(double seconds, pgcdc_buf *out);

/*
 * Creates the status of this process. data_dir NULL: in-memory only (no
 * file, no writer). slot is recorded for readers. Returns NULL on out of
 * memory.
 */
pgcdc_status *pgcdc_status_new(const char *data_dir, const char *slot);

/*
 * Starts the writer thread that republishes status.json about once a second
 * when something changed. Returns 0, or -1 with errstr (a status without a
 * file simply has no writer).
 */
int pgcdc_status_start_writer(pgcdc_status *st, char *errstr, size_t errstr_size);

/* Stops the writer, records phase "stopped", writes the file a last time
 * and frees everything. NULL is a no-op. */
void pgcdc_status_free(pgcdc_status *st);

/* Setters: NULL st is a no-op, so callers need not check. */
void pgcdc_status_set_phase(pgcdc_status *st, pgcdc_status_phase phase);

/* A short human-readable note (e.g. the error a reconnect is retrying
 * after); NULL or "" clears it. */
void pgcdc_status_set_message(pgcdc_status *st, const char *msg);

/* Latest streaming figures; the events rate is derived here from
 * successive calls. */
void pgcdc_status_set_stream(pgcdc_status *st, uint64_t events_acked, uint64_t bytes_queued,
                             uint64_t confirmed_lsn);

/*
 * Registers a table of a progress source of `kind` (copied, so literals and
 * buffers are fine) with its expected row count (-1 unknown). Returns the
 * entry id for the calls below, or -1 (out of memory, or st NULL): ids of -1
 * are accepted and ignored by them.
 */
int pgcdc_status_table_add(pgcdc_status *st, const char *kind, const char *schema, const char *name,
                           int64_t estimate);

/* The copy of entry `id` began (only the first call counts). */
void pgcdc_status_table_begin(pgcdc_status *st, int id);

/* Adds rows copied since the last call. */
void pgcdc_status_table_add_rows(pgcdc_status *st, int id, uint64_t rows);

/* The copy of entry `id` is complete. */
void pgcdc_status_table_finish(pgcdc_status *st, int id);

/* Current progress of one entry; returns -1 for an unknown id. */
int pgcdc_status_table_progress(pgcdc_status *st, int id, pgcdc_progress *out);

/* Aggregate of all entries of `kind`; elapsed time runs from the first
 * table's begin to now (or to the last finish once all are done). */
void pgcdc_status_overall_get(pgcdc_status *st, const char *kind, pgcdc_status_overall *out);

/* Renders the status.json document (a JSON object, newline-terminated). */
void pgcdc_status_render(pgcdc_status *st, pgcdc_buf *out);

/* Renders and atomically replaces <data_dir>/status.json now (0 without a
 * data_dir). Not to be called while the writer thread runs: it owns the
 * temporary file. Returns 0, or -1 with errstr. */
int pgcdc_status_write(pgcdc_status *st, char *errstr, size_t errstr_size);

const char *pgcdc_status_phase_name(pgcdc_status_phase phase);

#endif
