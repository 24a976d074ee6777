/*
 * event.h - the event model shared by sources and formats.
 *
 * A table (pgcdc_table) is the resolved description of one captured
 * relation: columns with resolved types and the filters already applied,
 * plus JSON fragments precomputed once so that encoding an event only
 * writes values. A change (pgcdc_change) is one row event pointing at rows
 * whose values still sit in the source's receive buffer (zero copy).
 */
#ifndef PGCDC_CORE_EVENT_H
#define PGCDC_CORE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "core/batch.h"
#include "format/pgtypes.h"

/* One column value as received: kind 'n' null, 'u' unchanged TOAST,
 * 't' text, 'b' binary. Same layout as pgoutput's tuple columns. */
typedef struct pgcdc_value {
    char kind;
    uint32_t len;
    const char *data;
} pgcdc_value;

typedef struct pgcdc_row {
    uint16_t ncols;
    const pgcdc_value *cols;
} pgcdc_row;

typedef struct pgcdc_column {
    char *name;
    char *json_name; /* "name": escaped once, for the hot path */
    size_t json_name_len;
    pgcdc_coltype type;
    int optional; /* nullable (not attnotnull) */
    int is_key;   /* part of the event key */
    int included; /* passes column.include/exclude.list */
} pgcdc_column;

typedef struct pgcdc_table {
    uint32_t relid;
    char *schema;
    char *name;
    char *topic;
    size_t topic_len;
    int captured; /* passes schema/table filters */
    char replident;
    int ncols;
    pgcdc_column *cols; /* in the source's column order (matches pgcdc_row) */
    int nkeys;
    /* precomputed by pgcdc_debezium_table_prepare() */
    pgcdc_buf key_head;    /* up to the key payload's opening brace */
    pgcdc_buf value_head;  /* up to the value payload's opening brace */
    pgcdc_buf source_tail; /* ,"schema":..,"table":.. within the source block */
} pgcdc_table;

/* Frees everything a table owns (not the struct itself). */
void pgcdc_table_clear(pgcdc_table *table);

typedef struct pgcdc_change {
    char op; /* c u d r t m */
    const pgcdc_table *table;
    const pgcdc_row *before; /* NULL: none */
    const pgcdc_row *after;  /* NULL: none */
    pgcdc_position pos;
    int64_t commit_ts_us;     /* Unix epoch microseconds */
    uint64_t last_commit_lsn; /* for source.sequence; 0 = unknown */
    const char *snapshot;     /* "false", "true", "first", "last", ... */
    /* logical decoding messages (op 'm') */
    const char *msg_prefix;
    const char *msg_content;
    uint32_t msg_len;
    int msg_transactional;
} pgcdc_change;

#endif
