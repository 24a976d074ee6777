/*
 * debezium.h - encodes changes as Debezium change-event records.
 *
 * Output is byte-for-byte what Debezium's PostgreSQL connector serialized by
 * Kafka Connect's JsonConverter puts in Kafka: key and value, each either
 * {"schema":...,"payload":...} (schemas.enable=true) or the bare payload.
 * Field order follows Debezium: before, after, source, transaction, op,
 * ts_ms, ts_us, ts_ns; the source block: version, connector, name, ts_ms,
 * snapshot, db, sequence, ts_us, ts_ns, schema, table, txId, lsn, xmin.
 *
 * Everything that depends only on the table (schemas, topic, source block
 * constants) is prepared once per table; encoding an event writes values
 * straight into the batch buffer.
 */
#ifndef PGCDC_FORMAT_DEBEZIUM_H
#define PGCDC_FORMAT_DEBEZIUM_H

#include <stddef.h>

#include "core/batch.h"
#include "core/config.h"
#include "core/event.h"

typedef struct pgcdc_debezium {
    const pgcdc_config *cfg;
    char *dbname;
    pgcdc_buf source_head; /* "source":{"version":..,"connector":..,"name":..,"ts_ms": */
    pgcdc_buf db_part;     /* ,"db":"...","sequence": */
    pgcdc_buf msg_topic;
    pgcdc_buf heartbeat_topic;
    pgcdc_buf txn_topic;
    pgcdc_buf ddl_topic;         /* schema changes: <topic.prefix> */
    struct pgcdc_router *router; /* transforms (RegexRouter), NULL if none */
    pgcdc_buf scratch;
} pgcdc_debezium;

int pgcdc_debezium_init(pgcdc_debezium *enc, const pgcdc_config *cfg, const char *dbname,
                        char *errstr, size_t errstr_size);
void pgcdc_debezium_free(pgcdc_debezium *enc);

/* Sanitizes "prefix.schema.table" as Debezium's default topic naming does:
 * characters outside [A-Za-z0-9._-] become '_'. */
void pgcdc_debezium_topic(const char *prefix, const char *schema, const char *table,
                          pgcdc_buf *out);

/* Routes a fixed topic through the transforms in place. */
void pgcdc_debezium_route(pgcdc_debezium *enc, pgcdc_buf *topic);

/* Computes table->topic and the precomputed key/value/source fragments.
 * Call after columns (types, key flags, filters) are set. */
int pgcdc_debezium_table_prepare(pgcdc_debezium *enc, pgcdc_table *table, char *errstr,
                                 size_t errstr_size);

/*
 * Appends the records of one change to the batch: c/u/r -> one record;
 * d -> the delete and, with tombstones.on.delete, a tombstone; u that
 * changes the key -> delete (+ tombstone) of the old key then create of the
 * new one, as Debezium does; t and m -> one record; s (schema change) -> one
 * record on the topic <topic.prefix> when any of its tables is captured, else
 * none. Returns the number of records appended, or -1 with errstr (nothing
 * appended) when a value cannot be converted.
 */
int pgcdc_debezium_encode(pgcdc_debezium *enc, pgcdc_batch *batch, const pgcdc_change *chg,
                          char *errstr, size_t errstr_size);

/*
 * Appends a heartbeat record (op 'h') to <heartbeat.topics.prefix>.<topic.prefix>:
 * key {"serverName": prefix}, value {"ts_ms": now}, with Debezium's schemas
 * io.debezium.connector.common.ServerNameKey / Heartbeat when enabled.
 */
/*
 * Appends a transaction boundary record to <topic.prefix>.<topic.transaction>
 * (provide.transaction.metadata): BEGIN (end = 0) or END with the event
 * counts per table. ts_us is the commit time.
 */
void pgcdc_debezium_txn_boundary(pgcdc_debezium *enc, pgcdc_batch *batch, const pgcdc_position *pos,
                                 int end, const char *id, int64_t ts_us, uint64_t event_count,
                                 const pgcdc_txn_count *counts, int ncounts);

void pgcdc_debezium_heartbeat(pgcdc_debezium *enc, pgcdc_batch *batch, const pgcdc_position *pos);

#endif
