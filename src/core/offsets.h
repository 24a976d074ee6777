/*
 * offsets.h - the durable record of what every sink has acknowledged.
 *
 * Stored as <data-dir>/offsets.json, replaced atomically (write a temporary
 * file, fsync it, rename over the old one, fsync the directory), so after a
 * crash at any instant the file holds either the old or the new position.
 *
 * done_lsn is the end LSN of the last transaction whose events every sink
 * acknowledged; the slot may confirm it. When a batch boundary fell inside a
 * transaction, partial_commit_lsn/partial_index say how many of its events
 * are already safe, so a restart skips exactly those.
 *
 * last_commit_lsn is the end LSN of the last commit the source had seen when
 * it produced the last acknowledged event: the first element of
 * source.sequence, which Debezium also restores from its offsets (lsn_commit).
 */
#ifndef PGCDC_CORE_OFFSETS_H
#define PGCDC_CORE_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

typedef struct pgcdc_offsets {
    char slot[128];
    uint64_t done_lsn;
    uint64_t partial_commit_lsn; /* 0: no partially acknowledged transaction */
    uint64_t partial_index;
    uint64_t last_event_lsn; /* informational */
    uint32_t last_xid;       /* informational */
    uint64_t events;         /* events acknowledged since the file was created */
    int snapshot;            /* PGCDC_SNAPSHOT_STATE_* */
    char *incremental;       /* owned JSON object text: incremental snapshot progress, or NULL */
    /* see above; 0: unknown (nothing acknowledged after a commit yet) */
    uint64_t last_commit_lsn;
} pgcdc_offsets;

/* Progress of the initial snapshot: "running" in the file means it was
 * interrupted and must be taken again. */
enum {
    PGCDC_SNAPSHOT_STATE_NONE = 0,
    PGCDC_SNAPSHOT_STATE_RUNNING = 1,
    PGCDC_SNAPSHOT_STATE_DONE = 2,
};

/* Frees what the offsets own (the incremental state) and zeroes them. */
void pgcdc_offsets_clear(pgcdc_offsets *offsets);

/* Reads <dir>/offsets.json. Returns 1 if found, 0 if absent (offsets
 * zeroed), -1 with errstr if present but unreadable or malformed. The
 * caller owns the result: pgcdc_offsets_clear() it. */
int pgcdc_offsets_load(const char *dir, pgcdc_offsets *offsets, char *errstr, size_t errstr_size);

/* Durably replaces <dir>/offsets.json. Returns 0 or -1 with errstr. */
int pgcdc_offsets_store(const char *dir, const pgcdc_offsets *offsets, char *errstr,
                        size_t errstr_size);

/* Formats an LSN as PostgreSQL does ("16/B374D848"). */
void pgcdc_lsn_format(uint64_t lsn, char *out, size_t out_size);
/* Parses "X/Y"; returns 0 or -1. */
int pgcdc_lsn_parse(const char *s, uint64_t *lsn);

#endif
