/*
 * batch.h - the unit that travels from the source to the sinks.
 *
 * A batch is one contiguous buffer of encoded records (topic, key, value)
 * plus the source position that becomes safe to confirm once every sink has
 * durably acknowledged the batch. Records are appended in place by the
 * encoder, so an event costs no allocation once the buffer has grown to its
 * working size; batches are recycled through the pipeline's free list.
 *
 * A batch may hold zero records: it then only carries a position (a
 * transaction whose changes were all filtered out, a commit marker), so the
 * replication slot still advances past WAL nobody is interested in.
 */
#ifndef PGCDC_CORE_BATCH_H
#define PGCDC_CORE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/*
 * Where the source is. Transactions are identified by the LSN of their
 * commit record (known from Begin for ordinary transactions and from Stream
 * Commit for streamed ones); events inside by their 1-based index.
 * end_lsn != 0 means the transaction is complete: everything up to end_lsn
 * is done and the slot may confirm end_lsn.
 */
typedef struct pgcdc_position {
    uint64_t commit_lsn;
    uint64_t end_lsn;
    uint64_t index;
    uint64_t event_lsn;
    uint32_t xid;
} pgcdc_position;

#define PGCDC_RECORD_NULL UINT32_MAX /* value_len of a tombstone, key_len of no key */

/* Fixed header in front of each record's bytes in the batch buffer. */
typedef struct pgcdc_record_hdr {
    uint32_t topic_len;
    uint32_t key_len;   /* PGCDC_RECORD_NULL: no key */
    uint32_t value_len; /* PGCDC_RECORD_NULL: tombstone */
    char op;            /* c r u d t m: lets sinks count without parsing */
    char pad[3];
    pgcdc_position pos;
} pgcdc_record_hdr;

/* A decoded view of one record; pointers into the batch buffer. */
typedef struct pgcdc_record {
    const char *topic;
    uint32_t topic_len;
    const char *key; /* NULL: no key */
    uint32_t key_len;
    const char *value; /* NULL: tombstone */
    uint32_t value_len;
    char op;
    pgcdc_position pos;
} pgcdc_record;

typedef struct pgcdc_batch {
    pgcdc_buf data;
    uint32_t nrecords;
    uint64_t seq;            /* pipeline sequence number, assigned on push */
    pgcdc_position pos;      /* position to confirm once this batch is acknowledged */
    int has_pos;             /* pos is meaningful */
    int snapshot_done;       /* acknowledging this batch completes the initial snapshot */
    char *incr_state;        /* owned JSON text: incremental snapshot progress made safe by
                                acknowledging this batch; NULL when unchanged */
    uint32_t op_counts[128]; /* records by op character; tombstones under '0' */
    pgcdc_buf source_data;   /* opaque to the pipeline: what the source needs to know once
                                the batch is acknowledged (the Kafka source: partition
                                offsets), read by its on_acked hook; emptied by reset */
    struct pgcdc_batch *next;
    int pending; /* sinks that have not acknowledged it yet */
    /* end LSN of the last commit the source had seen after this batch's last
     * change (source.sequence continues from it after a restart); 0: not set */
    uint64_t last_commit_lsn;
} pgcdc_batch;

void pgcdc_batch_reset(pgcdc_batch *batch);
/* Frees the batch and everything it owns; NULL is fine. */
void pgcdc_batch_free(pgcdc_batch *batch);

/*
 * Record building in three steps so the encoder writes key and value bytes
 * straight into the batch: begin (reserves the header, copies the topic),
 * then the caller appends key bytes to batch->data and calls mark_key, then
 * appends value bytes and calls end. Pass has_key = 0 to mark_key for a
 * record without key, tombstone = 1 to end for a null value.
 */
size_t pgcdc_batch_record_begin(pgcdc_batch *batch, const char *topic, size_t topic_len, char op,
                                const pgcdc_position *pos);
void pgcdc_batch_record_mark_key(pgcdc_batch *batch, size_t rec, int has_key);
void pgcdc_batch_record_end(pgcdc_batch *batch, size_t rec, int tombstone);
/* Drops a record begun at `rec` (encoding failed half way). */
void pgcdc_batch_record_abort(pgcdc_batch *batch, size_t rec);

/* Iterates records: *off starts at 0; returns 0 at the end. */
int pgcdc_batch_next(const pgcdc_batch *batch, size_t *off, pgcdc_record *rec);

#endif
