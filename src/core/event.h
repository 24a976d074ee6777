/*
 * event.h - the event model shared by sources and formats.
 *
 * A table (pgcdc_table) is the resolved description of one captured
 * relation: columns with resolved types and the filters already applied,
 * plus JSON fragments precomputed once so that encoding an event only
 * writes values. A change (pgcdc_change) is one row event pointing at rows
 * whose values still sit in the source's receive buffer (zero copy). A
 * schema change (pgcdc_schema_change) is one DDL statement with the tables
 * it created, altered or dropped, as pgcdc's event trigger described them.
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
    int is_key;   /* position in the event key, from 1 (0: not in it) */
    int included; /* passes column.include/exclude.list */
    /* the DEFAULT as the catalog prints it (NULL: none) and the type's
     * pg_type name, schema and enum-ness: set by the source's catalog */
    char *default_expr;
    char *type_name;
    char *type_nsp;
    int type_is_enum;
    /* JSON written for a null, precomputed by pgcdc_debezium_table_prepare():
     * the schema's default (NULL: none) and the type's zero value */
    char *default_json;
    size_t default_json_len;
    char *zero_json;
    size_t zero_json_len;
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
    int *key_cols;         /* the nkeys key columns' indexes, in key order */
    pgcdc_buf key_head;    /* up to the key payload's opening brace */
    pgcdc_buf value_head;  /* up to the value payload's opening brace */
    pgcdc_buf source_tail; /* ,"schema":..,"table":.. within the source block */
} pgcdc_table;

/* Frees everything a table owns (not the struct itself). */
void pgcdc_table_clear(pgcdc_table *table);

/* One column of a table after a DDL statement, as the catalog described it
 * inside the statement's transaction. Strings are borrowed from whoever
 * decoded the description. */
typedef struct pgcdc_ddl_column {
    const char *name;
    const char *type_name; /* pg_type.typname: "int4", "_text" (arrays), "mood" */
    uint32_t type_oid;
    uint32_t elem_oid; /* arrays: the element type, else 0 */
    int32_t typmod;
    char typtype; /* pg_type.typtype: 'b' base, 'e' enum, 'd' domain, 'c' composite, ... */
    int is_array;
    int position; /* 1-based among the table's columns that are not dropped */
    int not_null;
    int identity;             /* GENERATED ... AS IDENTITY */
    int generated;            /* GENERATED ALWAYS AS (...) STORED */
    const char *default_expr; /* NULL: no default */
    const char *comment;      /* NULL: none */
    const char **enum_labels; /* enums: labels in sort order */
    size_t nenum;
    int included; /* passes column.include/exclude.list */
} pgcdc_ddl_column;

typedef struct pgcdc_ddl_table {
    const char *change; /* "CREATE", "ALTER" or "DROP" */
    uint32_t relid;
    const char *schema;
    const char *name;
    const char *comment;
    int described;   /* columns and key known; 0 for dropped tables */
    const char **pk; /* primary key columns in key order */
    size_t npk;
    pgcdc_ddl_column *cols;
    size_t ncols;
    int captured; /* passes schema/table filters */
} pgcdc_ddl_table;

typedef struct pgcdc_schema_change {
    const char *ddl; /* the client's statement text (current_query()) */
    const char *tag; /* command tag: "ALTER TABLE", "DROP TABLE", ... */
    pgcdc_ddl_table *tables;
    size_t ntables;
} pgcdc_schema_change;

/* provide.transaction.metadata: where a change sits in its transaction. */
typedef struct pgcdc_txn_block {
    const char *id; /* "<xid>:<commit LSN>", the same in BEGIN, END and every event */
    uint64_t total_order;
    uint64_t data_collection_order;
} pgcdc_txn_block;

/* Events of one table in a transaction, for the END record. */
typedef struct pgcdc_txn_count {
    const char *data_collection; /* schema.table */
    uint64_t event_count;
} pgcdc_txn_count;

typedef struct pgcdc_change {
    char op; /* c u d r t m, s (schema change) */
    const pgcdc_table *table;
    const pgcdc_row *before; /* NULL: none */
    const pgcdc_row *after;  /* NULL: none */
    pgcdc_position pos;
    int64_t commit_ts_us;     /* Unix epoch microseconds */
    uint64_t last_commit_lsn; /* for source.sequence; 0 = unknown */
    uint64_t txid;            /* source.txId when not 0 (snapshot rows: the copy's
                                 transaction, 64-bit); else pos.xid */
    const char *snapshot;     /* "false", "true", "first", "last", ... */
    /* logical decoding messages (op 'm') */
    const char *msg_prefix;
    const char *msg_content;
    uint32_t msg_len;
    int msg_transactional;
    /* schema changes (op 's'): only captured tables and included columns
     * are written */
    const pgcdc_schema_change *schema_change;
    const pgcdc_txn_block *txn; /* NULL: "transaction": null */
} pgcdc_change;

#endif
