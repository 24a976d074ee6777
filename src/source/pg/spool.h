/*
 * spool.h - holds the messages of streamed (in-progress) transactions until
 * their Stream Commit, so nothing of a transaction reaches a sink before we
 * know it committed.
 *
 * Memory is bounded: while all open transactions together hold less than
 * the limit (pgcdc.stream.spill.bytes) messages stay in memory; past it the
 * transaction being appended to moves to an unlinked temporary file in the
 * data directory and keeps appending there. A crash leaves nothing behind;
 * PostgreSQL streams the transaction again after a restart.
 *
 * Subtransaction aborts are honoured: messages are tagged with the xid they
 * carried, and replay skips those of aborted subtransactions.
 */
#ifndef PGCDC_SOURCE_PG_SPOOL_H
#define PGCDC_SOURCE_PG_SPOOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct pgcdc_spool pgcdc_spool;

pgcdc_spool *pgcdc_spool_new(const char *dir, uint64_t mem_limit);
void pgcdc_spool_free(pgcdc_spool *spool);

/* Appends one raw pgoutput message of top-level transaction top_xid. */
int pgcdc_spool_append(pgcdc_spool *spool, uint32_t top_xid, uint32_t msg_xid, const char *data,
                       size_t len, char *errstr, size_t errstr_size);

/* Stream Abort: drops the whole transaction (subxid == top_xid) or marks a
 * subtransaction aborted. Unknown xids are ignored. */
void pgcdc_spool_abort(pgcdc_spool *spool, uint32_t top_xid, uint32_t subxid);

typedef int (*pgcdc_spool_fn)(void *ctx, const char *data, size_t len, char *errstr,
                              size_t errstr_size);

/*
 * Stream Commit: calls fn for every surviving message of top_xid in order,
 * then forgets the transaction. Stops at the first non-zero return from fn
 * and returns it. A transaction never seen replays nothing.
 */
int pgcdc_spool_replay(pgcdc_spool *spool, uint32_t top_xid, pgcdc_spool_fn fn, void *ctx,
                       char *errstr, size_t errstr_size);

/* Bytes currently held in memory, and open transactions. */
uint64_t pgcdc_spool_mem_bytes(const pgcdc_spool *spool);
int pgcdc_spool_count(const pgcdc_spool *spool);

#endif
