/*
 * parquet_pg.h - PostgreSQL columns and values to Parquet columns and
 * values, for sinks that write pgcdc's rows as Parquet.
 *
 * pgcdc_pq_pg_column() runs once per column (when a table's description
 * arrives) and yields the Parquet column plus a conversion code;
 * pgcdc_pq_pg_put() runs per value and converts pgoutput's text
 * representation (DateStyle=ISO, extra_float_digits=3, bytea_output=hex,
 * as the pg source's connection sets them) without allocating. The two
 * halves of pgcdc_pq_pg_put (pgcdc_pq_pg_parse to a datum here,
 * pgcdc_pq_put_datum in parquet.h) are public too, for callers that convert
 * ahead of writing.
 *
 * Documented behaviours: date 'infinity'/'-infinity' are written as INT32
 * max/min days and timestamp[tz] ones as INT64 max/min microseconds
 * (PostgreSQL's internal values; readers show them as far-future/far-past
 * instants or refuse to convert them to their own date types); float NaN
 * and infinities are written as IEEE values; NaN in a DECIMAL column has no
 * Parquet representation and is an error naming the column.
 */
#ifndef PGCDC_FORMAT_PARQUET_PARQUET_PG_H
#define PGCDC_FORMAT_PARQUET_PARQUET_PG_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "format/parquet/parquet.h"

typedef enum {
    PGCDC_PQ_PG_BOOL = 0,
    PGCDC_PQ_PG_INT16,
    PGCDC_PQ_PG_INT32,
    PGCDC_PQ_PG_INT64,
    PGCDC_PQ_PG_FLOAT4,
    PGCDC_PQ_PG_FLOAT8,
    PGCDC_PQ_PG_DECIMAL, /* numeric(p,s), p <= 38, s >= 0 */
    PGCDC_PQ_PG_DATE,
    PGCDC_PQ_PG_TIME,
    PGCDC_PQ_PG_TIMESTAMP,
    PGCDC_PQ_PG_TIMESTAMPTZ,
    PGCDC_PQ_PG_STRING, /* the text as is (text, varchar, uuid, json, enum, others) */
    PGCDC_PQ_PG_BYTEA,  /* hex text, decoded */
} pgcdc_pq_pgconv;

/* Maps a resolved column to its Parquet column (out->name borrows
 * col->name) and the conversion its values need. Pure; every type maps
 * (types without a Parquet counterpart are written as their text). */
void pgcdc_pq_pg_column(const pgcdc_column *col, pgcdc_pq_column *out, pgcdc_pq_pgconv *conv);

/* Parses one non-NULL text value of column pc into *d (bytea is decoded into
 * scratch, which must outlive the datum's use). Returns 0, or -1 with errstr
 * naming the column and the text. */
int pgcdc_pq_pg_parse(pgcdc_pq_pgconv conv, const pgcdc_pq_column *pc, const char *text, size_t len,
                      pgcdc_pq_datum *d, pgcdc_buf *scratch, char *errstr, size_t errstr_size);

/* Converts and puts one value as received ('n' null, 't' text). An unchanged
 * TOASTed value ('u') carries no data and is an error naming the column, as
 * is binary ('b'). */
int pgcdc_pq_pg_put(pgcdc_pq_writer *w, int col, pgcdc_pq_pgconv conv, const pgcdc_value *v,
                    char *errstr, size_t errstr_size);

#endif
