/*
 * es_doc.h - from an encoded Debezium record to an Elasticsearch action.
 *
 * Everything the Elasticsearch sink needs is read from the record itself
 * (topic, key, value), so records from the PostgreSQL source and from Kafka
 * topics (written by pgcdc or by Debezium, with or without schemas) take the
 * same path:
 *   - the operation from payload.op (c/r/u index, d delete, t truncate);
 *   - the document id from the key's fields (the primary key);
 *   - the version from payload.source.lsn, the change's own LSN, which only
 *     grows along the stream and differs between changes of one
 *     transaction, so external versioning keeps replays from going back;
 *   - the document from payload.after, flattened to the row's columns, with
 *     Debezium's encodings that Elasticsearch cannot read turned into values
 *     it can (dates, timestamps, times, decimals, JSON columns), guided by
 *     the Kafka Connect schema when the value carries one.
 * The same schema gives the mapping of an index pgcdc creates.
 */
#ifndef PGCDC_SINK_ES_DOC_H
#define PGCDC_SINK_ES_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "core/batch.h"
#include "sink/elasticsearch/es_json.h"

/* One column of the `after` struct, from the Connect schema. */
typedef struct pgcdc_es_field {
    char *name;
    size_t name_len;
    int conv;            /* ES_CONV_* in es_doc.c: how values are rewritten */
    int scale;           /* Decimal: the scale parameter */
    const char *mapping; /* the field's mapping (JSON text), NULL: left to dynamic mapping */
} pgcdc_es_field;

/* The parsed schema of one topic's values; reused while the schema text
 * stays the same. Zero-initialise; free with pgcdc_es_schema_free. */
typedef struct pgcdc_es_schema {
    char *text; /* the schema JSON it was parsed from */
    size_t text_len;
    int present; /* the value carried a schema */
    pgcdc_es_field *fields;
    size_t nfields;
} pgcdc_es_schema;

void pgcdc_es_schema_free(pgcdc_es_schema *s);

typedef enum {
    PGCDC_ES_SKIP = 0, /* not a row change (tombstone, heartbeat, ...) */
    PGCDC_ES_INDEX,    /* c, r, u */
    PGCDC_ES_DELETE,   /* d */
    PGCDC_ES_TRUNCATE, /* t */
} pgcdc_es_op;

typedef struct pgcdc_es_action {
    pgcdc_es_op op;
    char dbz_op;                           /* the Debezium op character */
    int has_version;                       /* source.lsn was there */
    uint64_t version;                      /* source.lsn */
    pgcdc_es_span schema_name, table_name; /* source.schema / source.table (raw JSON text) */
} pgcdc_es_action;

/*
 * Reads one record. On PGCDC_ES_INDEX/DELETE, `id` receives the document id
 * (decoded text; composite keys joined with '|', '|' and '\' in values
 * escaped with '\') and for INDEX `doc` the document JSON; both are appended
 * to. `cache` is the topic's schema cache, updated when the value's schema
 * changed; `tmp` is scratch space. Returns 0, or -1 with errstr naming the problem (a value
 * that is not Debezium JSON, a record without key).
 */
int pgcdc_es_doc_build(const pgcdc_record *rec, pgcdc_es_schema *cache, pgcdc_buf *tmp,
                       pgcdc_buf *id, pgcdc_buf *doc, pgcdc_es_action *act, char *errstr,
                       size_t errstr_size);

/* Appends {"properties":{...}} for the columns of the cached schema whose
 * mapping is known; json_type is "object" or "flattened". Columns named in
 * `skip` (NULL-terminated; the ones an index template maps) are left out. */
void pgcdc_es_mapping(const pgcdc_es_schema *s, const char *json_type, const char *const *skip,
                      pgcdc_buf *out);

#endif
