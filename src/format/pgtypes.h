/*
 * pgtypes.h - PostgreSQL column types to Debezium / Kafka Connect values.
 *
 * Two steps, so the hot path does no lookups:
 *  1. pgcdc_coltype_resolve() runs once per column when a Relation message
 *     arrives: it maps (type OID, typmod) plus catalog facts to a resolved
 *     pgcdc_coltype (kind, precision, scale, enum labels, element type).
 *  2. pgcdc_coltype_value() runs per value: it converts pgoutput's text
 *     representation to the JSON value Debezium's JsonConverter would print,
 *     appending to a reused buffer without allocating.
 *
 * pgcdc_coltype_schema() writes the Kafka Connect schema of a field, as it
 * appears in the "fields" array of a struct schema with schemas enabled.
 *
 * The mapping follows Debezium's PostgreSQL connector (type names, logical
 * names such as io.debezium.time.MicroTimestamp, parameters) under the
 * decimal, time precision, binary and interval handling modes.
 */
#ifndef PGCDC_FORMAT_PGTYPES_H
#define PGCDC_FORMAT_PGTYPES_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef enum {
    PGCDC_DECIMAL_PRECISE = 0,
    PGCDC_DECIMAL_DOUBLE,
    PGCDC_DECIMAL_STRING,
} pgcdc_decimal_mode;

typedef enum {
    PGCDC_TIME_ADAPTIVE = 0,
    PGCDC_TIME_ADAPTIVE_TIME_MICROSECONDS,
    PGCDC_TIME_CONNECT,
} pgcdc_time_mode;

typedef enum {
    PGCDC_BINARY_BYTES = 0, /* JSON: base64 (what JsonConverter does with bytes) */
    PGCDC_BINARY_BASE64,
    PGCDC_BINARY_BASE64_URL_SAFE,
    PGCDC_BINARY_HEX,
} pgcdc_binary_mode;

typedef enum {
    PGCDC_INTERVAL_NUMERIC = 0, /* io.debezium.time.MicroDuration */
    PGCDC_INTERVAL_STRING,      /* io.debezium.time.Interval (ISO-8601 PnYnMnDTnHnMnS) */
} pgcdc_interval_mode;

typedef enum {
    PGCDC_HSTORE_JSON = 0, /* string io.debezium.data.Json: {"key":"value",...} */
    PGCDC_HSTORE_MAP,      /* Kafka Connect map<string,string> */
} pgcdc_hstore_mode;

typedef struct pgcdc_type_opts {
    pgcdc_decimal_mode decimal_mode;
    pgcdc_time_mode time_mode;
    pgcdc_binary_mode binary_mode;
    pgcdc_interval_mode interval_mode;
    pgcdc_hstore_mode hstore_mode;
} pgcdc_type_opts;

typedef enum {
    PGCDC_T_UNKNOWN = 0, /* emitted as string (the text representation) */
    PGCDC_T_BOOL,
    PGCDC_T_INT16,
    PGCDC_T_INT32,
    PGCDC_T_INT64,
    PGCDC_T_OID,
    PGCDC_T_FLOAT32,
    PGCDC_T_FLOAT64,
    PGCDC_T_NUMERIC,
    PGCDC_T_MONEY,
    PGCDC_T_TEXT, /* text, varchar, bpchar, name, char, citext, inet, cidr, macaddr, ... */
    PGCDC_T_BYTEA,
    PGCDC_T_DATE,
    PGCDC_T_TIME,
    PGCDC_T_TIMETZ,
    PGCDC_T_TIMESTAMP,
    PGCDC_T_TIMESTAMPTZ,
    PGCDC_T_INTERVAL,
    PGCDC_T_UUID,
    PGCDC_T_JSON, /* json and jsonb */
    PGCDC_T_XML,
    PGCDC_T_BIT, /* bit(n), varbit: io.debezium.data.Bits, or boolean for bit(1) */
    PGCDC_T_ENUM,
    PGCDC_T_ARRAY,
    PGCDC_T_TSVECTOR, /* string named io.debezium.data.Tsvector (Debezium >= 3.4) */
    PGCDC_T_LTREE,    /* extension type ltree: string named io.debezium.data.Ltree */
    PGCDC_T_HSTORE,   /* extension type hstore: per hstore.handling.mode */
    PGCDC_T_POINT,    /* struct io.debezium.data.geometry.Point */
} pgcdc_type_kind;

/* Catalog facts about a non-builtin type, supplied by the source. */
typedef struct pgcdc_type_info {
    uint32_t oid;
    char typtype;            /* pg_type.typtype: 'b' base, 'e' enum, 'd' domain, ... */
    uint32_t elem_oid;       /* pg_type.typelem for arrays (typcategory 'A'), else 0 */
    uint32_t base_oid;       /* pg_type.typbasetype for domains, else 0 */
    int32_t base_typmod;     /* pg_type.typtypmod for domains */
    const char *name;        /* pg_type.typname */
    const char *enum_labels; /* enums: labels in sort order, comma-separated */
} pgcdc_type_info;

/* Looks up a type the resolver does not know by OID. Returns 0 and fills
 * *info (strings valid until the next call) or -1 if not found. */
typedef int (*pgcdc_type_lookup_fn)(void *ctx, uint32_t oid, pgcdc_type_info *info);

typedef struct pgcdc_coltype {
    pgcdc_type_kind kind;
    uint32_t oid;
    int32_t typmod;
    int precision;      /* numeric precision, bit length, varchar length; -1 if none */
    int scale;          /* numeric scale (may be negative); -1 if unconstrained */
    int time_precision; /* fractional second digits for time/timestamp types, -1 = default */
    char *enum_allowed; /* owned: comma-separated labels for enums / enum arrays */
    struct pgcdc_coltype *elem; /* owned: element type for arrays */
} pgcdc_coltype;

/*
 * Resolves a column's type once. `lookup` is called for OIDs that are not
 * builtin (enums, domains, arrays of those, extension types); it may be NULL,
 * in which case unknown OIDs resolve to PGCDC_T_UNKNOWN. Returns 0, or -1
 * with errstr set when the lookup fails in a way that must stop the
 * pipeline. On success the caller owns *ct and releases it with
 * pgcdc_coltype_clear().
 */
int pgcdc_coltype_resolve(pgcdc_coltype *ct, uint32_t oid, int32_t typmod,
                          pgcdc_type_lookup_fn lookup, void *lookup_ctx, char *errstr,
                          size_t errstr_size);
void pgcdc_coltype_clear(pgcdc_coltype *ct);

/*
 * Appends the Kafka Connect schema of one struct field, e.g.
 * {"type":"int32","optional":false,"field":"id"}, with "name", "version" and
 * "parameters" for logical types exactly as Debezium emits them.
 */
void pgcdc_coltype_schema(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                          const char *field, int optional);

/* The same with the field's "default" (a JSON value of default_len bytes; none
 * when NULL), where JsonConverter puts it: after "parameters", before "field". */
void pgcdc_coltype_schema_default(pgcdc_buf *buf, const pgcdc_coltype *ct,
                                  const pgcdc_type_opts *opts, const char *field, int optional,
                                  const char *default_json, size_t default_len);

/*
 * Appends the JSON value for one non-NULL column in pgoutput text format.
 * Returns 0, or -1 with errstr naming the type and the offending text when
 * the text cannot be converted (the caller stops: nothing is skipped).
 */
int pgcdc_coltype_value(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                        const char *text, size_t len, char *errstr, size_t errstr_size);

/*
 * Appends the value Debezium emits for an unchanged TOASTed column
 * ("__debezium_unavailable_value" in the representation of the type:
 * string, base64 bytes, or a one-element array of it).
 */
void pgcdc_coltype_unavailable(pgcdc_buf *buf, const pgcdc_coltype *ct,
                               const pgcdc_type_opts *opts);

#define PGCDC_UNAVAILABLE_VALUE "__debezium_unavailable_value"

/* Column metadata as the PostgreSQL JDBC driver's DatabaseMetaData.getColumns()
 * reports it; Debezium's schema change events carry these numbers. */
typedef struct pgcdc_jdbc_meta {
    int jdbc_type; /* java.sql.Types code */
    int length;    /* COLUMN_SIZE */
    int scale;     /* DECIMAL_DIGITS, when has_scale */
    int has_scale; /* 0: DECIMAL_DIGITS is null (numeric without a declared scale) */
} pgcdc_jdbc_meta;

/*
 * Fills *out for a column of type `oid` (element type `elem_oid` when
 * is_array), pg_type.typtype `typtype` and attribute typmod `typmod`. Types
 * the driver does not know get java.sql.Types.OTHER (enums VARCHAR, domains
 * DISTINCT, composites STRUCT, arrays ARRAY) and the driver's unknown length
 * 2147483647. Pure function.
 */
void pgcdc_pgtype_jdbc(uint32_t oid, uint32_t elem_oid, int is_array, char typtype, int32_t typmod,
                       pgcdc_jdbc_meta *out);

#endif
