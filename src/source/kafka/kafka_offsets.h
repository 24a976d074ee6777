/*
 * kafka_offsets.h - offset bookkeeping of the Kafka source: which consumed
 * records every sink has acknowledged, per partition, and what is due to be
 * committed to the consumer group.
 *
 * Each batch carries marks (in its source_data): for every partition it
 * holds records of, the offset after its last one. The pipeline's on_acked
 * hook applies them in batch order, so a partition's acknowledged offset
 * only moves forward and never past a record that is not durable. The
 * source commits what moved, asynchronously about every second and
 * synchronously before partitions are revoked and at shutdown.
 *
 * Ownership generations: a partition's entry gets a new generation each
 * time it is assigned, and marks carry the generation they were made in.
 * Marks of an earlier ownership (records still in the pipeline when the
 * partition was revoked) are ignored: by then another member may own the
 * partition and have committed further, and committing the old offset
 * would move the group backwards.
 *
 * Thread-safe: one mutex; the hook runs on the pipeline's committer thread,
 * everything else on the source thread. The table never calls out while
 * holding its lock except into the `take` callback, which must not block.
 */
#ifndef PGCDC_SOURCE_KAFKA_KAFKA_OFFSETS_H
#define PGCDC_SOURCE_KAFKA_KAFKA_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef struct pgcdc_kafka_offsets pgcdc_kafka_offsets;

/* One partition's progress inside one batch (an element of source_data). */
typedef struct pgcdc_kafka_mark {
    uint32_t part; /* entry index in the table */
    uint32_t gen;  /* ownership generation the records were read in */
    int64_t next;  /* offset after the batch's last record of the partition */
} pgcdc_kafka_mark;

/* NULL on out of memory. */
pgcdc_kafka_offsets *pgcdc_kafka_offsets_new(void);
void pgcdc_kafka_offsets_free(pgcdc_kafka_offsets *t);

/* The partition became ours: a new generation with nothing acknowledged
 * and nothing committed yet. Returns its entry index, -1 on out of memory. */
int pgcdc_kafka_offsets_assign(pgcdc_kafka_offsets *t, const char *topic, int32_t partition);

/* The partition is no longer ours: later marks for it are ignored. */
void pgcdc_kafka_offsets_revoke(pgcdc_kafka_offsets *t, const char *topic, int32_t partition);

/* Entry index and generation of an assigned partition; -1 when it is not
 * assigned (a record that arrives after its revocation). */
int pgcdc_kafka_offsets_find(pgcdc_kafka_offsets *t, const char *topic, int32_t partition,
                             uint32_t *gen);

/* Records in `marks` (a batch's source_data) that the record at `offset`
 * of entry `part` is in the batch. */
void pgcdc_kafka_offsets_mark(pgcdc_buf *marks, int part, uint32_t gen, int64_t offset);

/* Applies the marks of a batch every sink acknowledged (the pipeline hook);
 * marks of a revoked or older generation are ignored. */
void pgcdc_kafka_offsets_acked(pgcdc_kafka_offsets *t, const char *marks, size_t len);

/* Called by take for each partition to commit. */
typedef void (*pgcdc_kafka_commit_fn)(void *ctx, const char *topic, int32_t partition,
                                      int64_t offset);

/*
 * Calls fn for every assigned partition whose acknowledged offset is ahead
 * of what was last taken, and records it as taken. Returns how many.
 */
int pgcdc_kafka_offsets_take(pgcdc_kafka_offsets *t, pgcdc_kafka_commit_fn fn, void *ctx);

/* A commit of `offset` failed: the partition is taken again next time
 * (unless something newer was taken meanwhile). */
void pgcdc_kafka_offsets_failed(pgcdc_kafka_offsets *t, const char *topic, int32_t partition,
                                int64_t offset);

/* The acknowledged offset of an assigned partition (-1: none yet or not
 * assigned); for logs and tests. */
int64_t pgcdc_kafka_offsets_acked_of(pgcdc_kafka_offsets *t, const char *topic, int32_t partition);

/*
 * The op of a Debezium change event value (c r u d t m, ...), found as the
 * last "op":"x" member, which is the envelope's: the source and
 * transaction blocks have no op member, and a column named op sits in
 * before/after, which come first. Returns 'c' when there is none
 * (heartbeats, transaction records, values that are not Debezium events):
 * it only feeds the counts.
 */
char pgcdc_kafka_value_op(const char *value, size_t len);

#endif
