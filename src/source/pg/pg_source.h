/*
 * pg_source.h - the PostgreSQL logical replication source.
 *
 * pgcdc_pg_source_run() owns the whole streaming life cycle on the calling
 * thread: checks the server, ensures publication and slot, loads offsets,
 * starts the pipeline, streams pgoutput, encodes Debezium events into
 * batches, confirms to the slot only what the pipeline made durable, and
 * reconnects with backoff when the connection drops.
 */
#ifndef PGCDC_SOURCE_PG_PG_SOURCE_H
#define PGCDC_SOURCE_PG_PG_SOURCE_H

#include <signal.h>
#include <stddef.h>

#include "common/buf.h"
#include "core/config.h"

/*
 * Runs until *stop becomes non-zero (then drains every sink, persists
 * offsets, confirms and returns 0) or a fatal error (returns -1 with errstr:
 * bad server setup, sink failure, unconvertible value, malformed protocol
 * data). Connection losses after a successful start are retried.
 */
int pgcdc_pg_source_run(const pgcdc_config *cfg, const char *data_dir, volatile sig_atomic_t *stop,
                        char *errstr, size_t errstr_size);

/* Chooses the pgoutput protocol version for a server version (1 up to
 * PG13, 2 on 14, 3 on 15, 4 from 16) unless cfg overrides it. */
int pgcdc_pg_proto_for_server(const pgcdc_config *cfg, int server_version);

/*
 * Appends the CREATE_REPLICATION_SLOT command for a pgoutput slot named
 * quoted_slot (already an escaped identifier): with an exported snapshot or
 * none, as a failover slot or not. The option-list syntax from PostgreSQL 15
 * on, the older keywords before; failover needs 17 (callers pass 0 below).
 */
void pgcdc_pg_create_slot_sql(pgcdc_buf *out, const char *quoted_slot, int server_version,
                              int export_snapshot, int failover);

/* Appends ALTER_REPLICATION_SLOT quoted_slot (FAILOVER true|false), the
 * PostgreSQL 17 replication command that switches the failover flag. */
void pgcdc_pg_alter_slot_failover_sql(pgcdc_buf *out, const char *quoted_slot, int failover);

#endif
