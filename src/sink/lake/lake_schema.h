/*
 * lake_schema.h - from a Debezium event's Kafka Connect schema to the
 * columns of a lake table (Delta type, Parquet column, value conversion).
 *
 * The lake sink types its columns from the schema every event carries
 * (value.converter.schemas.enable), so it works the same for events pgcdc
 * decoded itself and for Debezium events read from Kafka. Debezium's
 * semantic types decide the logical type: io.debezium.time.Date becomes a
 * date, MicroTimestamp a timestamp without time zone, ZonedTimestamp a UTC
 * timestamp, Connect's Decimal a decimal(p,s), and values Delta has no
 * type for (structs, arrays, maps, variable-scale decimals) are kept as
 * their JSON text.
 */
#ifndef PGCDC_SINK_LAKE_LAKE_SCHEMA_H
#define PGCDC_SINK_LAKE_LAKE_SCHEMA_H

#include <jansson.h>

#include "format/parquet/parquet.h"

typedef enum {
    PGCDC_LAKE_BOOL,
    PGCDC_LAKE_I8,
    PGCDC_LAKE_I16,
    PGCDC_LAKE_I32,
    PGCDC_LAKE_I64,
    PGCDC_LAKE_F32,
    PGCDC_LAKE_F64,
    PGCDC_LAKE_STRING,
    PGCDC_LAKE_BINARY,       /* base64 text -> bytes */
    PGCDC_LAKE_DATE,         /* int32 days */
    PGCDC_LAKE_TS_MICROS,    /* int64 micros, no time zone */
    PGCDC_LAKE_TS_MILLIS,    /* int64 millis, no time zone */
    PGCDC_LAKE_TS_NANOS,     /* int64 nanos, no time zone */
    PGCDC_LAKE_TS_ZONED,     /* ISO-8601 text in UTC -> UTC micros */
    PGCDC_LAKE_DECIMAL,      /* base64 unscaled two's complement -> decimal(p,s) */
    PGCDC_LAKE_DECIMAL_TEXT, /* the same, wider than Delta's 38 digits: decimal text */
    PGCDC_LAKE_JSON_TEXT,    /* any JSON value -> its text */
} pgcdc_lake_conv;

typedef struct pgcdc_lake_col {
    char *name;  /* the column name in the table */
    char *field; /* the field name in the event */
    char delta_type[32];
    pgcdc_lake_conv conv;
    int scale;          /* DECIMAL_TEXT */
    pgcdc_pq_column pq; /* pq.name points at name */
} pgcdc_lake_col;

/*
 * Appends one column per field of the Connect struct schema `schema` (the
 * event's "after" field), named prefix + field name (characters Delta
 * forbids in names, " ,;{}()\n\t=", become '_'). *cols grows with realloc.
 * Returns 0, or -1 with errstr naming the field.
 */
int pgcdc_lake_cols_from_connect(const json_t *schema, const char *prefix, pgcdc_lake_col **cols,
                                 int *ncols, char *errstr, size_t errstr_size);

/* A column not from the event (the sink's own _op, _lsn...). */
int pgcdc_lake_col_add(pgcdc_lake_col **cols, int *ncols, const char *name, pgcdc_lake_conv conv,
                       int nullable);

void pgcdc_lake_cols_free(pgcdc_lake_col *cols, int ncols);

/* The Parquet column that holds a Delta primitive type as the lake sink
 * writes it ("long", "decimal(10,2)", "timestamp_ntz"...). name is borrowed.
 * Returns 0, or -1 for a type the lake sink never writes. */
int pgcdc_lake_pq_from_delta(const char *name, const char *type, pgcdc_pq_column *out);

/*
 * Puts the JSON value v (NULL or json null: a null) into column `col` of the
 * writer, converting it as c says. Returns 0, or -1 with errstr naming the
 * column and the value that does not convert.
 */
int pgcdc_lake_put(pgcdc_pq_writer *w, int col, const pgcdc_lake_col *c, const json_t *v,
                   char *errstr, size_t errstr_size);

/* Parses an ISO-8601 UTC timestamp ("2026-11-22T10:00:00.123456Z") into
 * microseconds since the epoch; -1 if it is not one. */
int pgcdc_lake_parse_zoned(const char *s, int64_t *micros);

#endif
