/*
 * parquet.h - a streaming Apache Parquet file writer for flat schemas.
 *
 * A writer is opened on a schema (one pgcdc_pq_column per column) and
 * options, then fed row by row: one pgcdc_pq_put_*() per column (any
 * order), then pgcdc_pq_writer_end_row(). Values accumulate in per-column
 * page buffers (no allocation per value once the buffers have grown); a page
 * is encoded and compressed when it reaches options.page_bytes, a row group
 * is handed to the write callback when its buffered size reaches
 * options.row_group_bytes (or row_group_rows), so memory is bounded by about
 * one row group. pgcdc_pq_writer_finish() writes the footer (Thrift compact
 * FileMetaData with per-chunk statistics and key/value metadata).
 *
 * What is written: data pages V1 (widest reader support), definition levels
 * RLE/bit-packed for nullable columns, values PLAIN or dictionary encoded
 * (PLAIN dictionary page + RLE_DICTIONARY data pages, falling back to PLAIN
 * for the rest of a column chunk once its dictionary exceeds
 * dictionary_page_bytes), codecs none/snappy/zstd, column chunk statistics
 * (min_value/max_value/null_count; the legacy min/max too for the signed
 * physical types).
 *
 * Threading: a writer belongs to one thread. Errors: functions return 0 or
 * -1; a failing put records its message in the writer (pgcdc_pq_writer_error)
 * and the writer refuses further rows; end_row, flush and finish copy the
 * message to errstr. After an error the output is incomplete and must be
 * discarded (the caller never acknowledges rows of a file not finished).
 */
#ifndef PGCDC_FORMAT_PARQUET_PARQUET_H
#define PGCDC_FORMAT_PARQUET_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Physical types; the values are parquet.thrift's Type enum. */
typedef enum {
    PGCDC_PQ_BOOLEAN = 0,
    PGCDC_PQ_INT32 = 1,
    PGCDC_PQ_INT64 = 2,
    PGCDC_PQ_INT96 = 3, /* read only: legacy timestamps, 12 bytes */
    PGCDC_PQ_FLOAT = 4,
    PGCDC_PQ_DOUBLE = 5,
    PGCDC_PQ_BYTE_ARRAY = 6,
    PGCDC_PQ_FIXED_LEN_BYTE_ARRAY = 7,
} pgcdc_pq_physical;

/* Logical type annotations. */
typedef enum {
    PGCDC_PQ_LOGICAL_NONE = 0,
    PGCDC_PQ_LOGICAL_STRING,           /* BYTE_ARRAY, UTF-8 */
    PGCDC_PQ_LOGICAL_JSON,             /* BYTE_ARRAY, UTF-8 JSON text */
    PGCDC_PQ_LOGICAL_DECIMAL,          /* INT32/INT64/FIXED_LEN_BYTE_ARRAY unscaled */
    PGCDC_PQ_LOGICAL_DATE,             /* INT32 days since 1970-01-01 */
    PGCDC_PQ_LOGICAL_TIME_MICROS,      /* INT64 microseconds since midnight */
    PGCDC_PQ_LOGICAL_TIMESTAMP_MICROS, /* INT64 microseconds since the epoch */
    PGCDC_PQ_LOGICAL_INT,              /* INT32/INT64 of int_bits width */
    /* read only (pgcdc_pq_reader), not written: */
    PGCDC_PQ_LOGICAL_UINT,             /* INT32/INT64 unsigned, of int_bits width */
    PGCDC_PQ_LOGICAL_TIME_MILLIS,      /* INT32 milliseconds since midnight */
    PGCDC_PQ_LOGICAL_TIME_NANOS,       /* INT64 nanoseconds since midnight */
    PGCDC_PQ_LOGICAL_TIMESTAMP_MILLIS, /* INT64 milliseconds since the epoch */
    PGCDC_PQ_LOGICAL_TIMESTAMP_NANOS,  /* INT64 nanoseconds since the epoch */
    PGCDC_PQ_LOGICAL_ENUM,             /* BYTE_ARRAY */
    PGCDC_PQ_LOGICAL_UUID,             /* FIXED_LEN_BYTE_ARRAY(16) */
    PGCDC_PQ_LOGICAL_BSON,             /* BYTE_ARRAY */
    PGCDC_PQ_LOGICAL_FLOAT16,          /* FIXED_LEN_BYTE_ARRAY(2) */
    PGCDC_PQ_LOGICAL_INTERVAL,         /* FIXED_LEN_BYTE_ARRAY(12): months, days, ms */
    PGCDC_PQ_LOGICAL_UNKNOWN,          /* always null */
} pgcdc_pq_logical;

typedef struct pgcdc_pq_column {
    const char *name; /* copied by the writer */
    pgcdc_pq_physical physical;
    pgcdc_pq_logical logical;
    int type_length; /* FIXED_LEN_BYTE_ARRAY: bytes per value */
    int precision;   /* DECIMAL */
    int scale;       /* DECIMAL, >= 0 */
    int int_bits;    /* INT: 8, 16, 32 or 64 */
    int utc;         /* TIME/TIMESTAMP: isAdjustedToUTC */
    int nullable;    /* OPTIONAL (else REQUIRED: a null is an error) */
} pgcdc_pq_column;

/* Bytes of the smallest FIXED_LEN_BYTE_ARRAY that holds every unscaled
 * decimal of `precision` digits (two's complement). */
int pgcdc_pq_decimal_bytes(int precision);

/* Compression codecs; the values are parquet.thrift's CompressionCodec. */
typedef enum {
    PGCDC_PQ_UNCOMPRESSED = 0,
    PGCDC_PQ_SNAPPY = 1,
    PGCDC_PQ_GZIP = 2, /* read only */
    PGCDC_PQ_ZSTD = 6,
} pgcdc_pq_codec;

typedef struct pgcdc_pq_kv {
    const char *key;
    const char *value; /* NULL: no value */
} pgcdc_pq_kv;

typedef struct pgcdc_pq_options {
    pgcdc_pq_codec codec;
    int level;                    /* zstd level (0: zstd's default, 3) */
    size_t row_group_bytes;       /* buffered bytes that close a row group */
    int64_t row_group_rows;       /* rows that close a row group (0: no limit) */
    size_t page_bytes;            /* encoded bytes that close a data page */
    int dictionary;               /* 1: dictionary encoding (not for BOOLEAN) */
    size_t dictionary_page_bytes; /* dictionary size that falls back to PLAIN */
    const pgcdc_pq_kv *kv;        /* footer key/value metadata, copied */
    size_t nkv;
    const char *created_by; /* NULL: "pgcdc version <PGCDC_VERSION>" */
} pgcdc_pq_options;

/* Defaults: zstd level 3, 128 MiB row groups, 1 MiB pages, dictionary on
 * with a 1 MiB limit, no key/value metadata. */
void pgcdc_pq_options_init(pgcdc_pq_options *opts);

/* Output callback: writes all of data or fails with errstr set. Called with
 * the file's bytes in order, in large pieces (whole column chunks). */
typedef int (*pgcdc_pq_write_fn)(void *ctx, const void *data, size_t len, char *errstr,
                                 size_t errstr_size);

typedef struct pgcdc_pq_writer pgcdc_pq_writer;

/*
 * Validates the schema (names non-empty, logical types that fit their
 * physical type, decimal precision that fits) and creates a writer; writes
 * nothing yet. Returns 0 and *out (owned by the caller, released with
 * pgcdc_pq_writer_free) or -1 with errstr naming the column.
 */
int pgcdc_pq_writer_open(pgcdc_pq_writer **out, const pgcdc_pq_column *cols, int ncols,
                         const pgcdc_pq_options *opts, pgcdc_pq_write_fn write, void *write_ctx,
                         char *errstr, size_t errstr_size);

/* One value for column `col` of the current row. The type must match the
 * column's physical type: bool for BOOLEAN, i32 for INT32, i64 for INT64,
 * float/double, bytes for BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY (exactly
 * type_length bytes); bytes are copied. */
int pgcdc_pq_put_null(pgcdc_pq_writer *w, int col);
int pgcdc_pq_put_bool(pgcdc_pq_writer *w, int col, int v);
int pgcdc_pq_put_i32(pgcdc_pq_writer *w, int col, int32_t v);
int pgcdc_pq_put_i64(pgcdc_pq_writer *w, int col, int64_t v);
int pgcdc_pq_put_float(pgcdc_pq_writer *w, int col, float v);
int pgcdc_pq_put_double(pgcdc_pq_writer *w, int col, double v);
int pgcdc_pq_put_bytes(pgcdc_pq_writer *w, int col, const void *p, size_t len);

/* A value of any physical type: the member of the column's physical type
 * (booleans in i32), or bytes (BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY; they may
 * point into fixed[], e.g. a decimal's two's complement). */
typedef union pgcdc_pq_value {
    int32_t i32;
    int64_t i64;
    float f4;
    double f8;
} pgcdc_pq_value;

typedef struct pgcdc_pq_datum {
    int null;
    pgcdc_pq_value v;
    const void *bytes;
    size_t len;
    unsigned char fixed[16];
} pgcdc_pq_datum;

/* Puts a datum into column col by the column's physical type. */
int pgcdc_pq_put_datum(pgcdc_pq_writer *w, int col, const pgcdc_pq_datum *d);

/* Completes the row (every column must have had exactly one value); may
 * close a row group and call the write callback. */
int pgcdc_pq_writer_end_row(pgcdc_pq_writer *w, char *errstr, size_t errstr_size);

/* Closes the current row group now (nothing when it has no rows). */
int pgcdc_pq_writer_flush(pgcdc_pq_writer *w, char *errstr, size_t errstr_size);

/* Flushes the last row group and writes the footer. A file with 0 rows is
 * valid (schema, no row groups). The writer accepts nothing afterwards. */
int pgcdc_pq_writer_finish(pgcdc_pq_writer *w, char *errstr, size_t errstr_size);

/* Starts a new file with the same schema and options on another output,
 * keeping the writer's buffers (their memory is reused, not allocated and
 * faulted in again): for rolling files. Whatever was buffered or failed is
 * dropped. */
void pgcdc_pq_writer_reset(pgcdc_pq_writer *w, pgcdc_pq_write_fn write, void *write_ctx);

void pgcdc_pq_writer_free(pgcdc_pq_writer *w);

/* The first error recorded by a put, or NULL. */
const char *pgcdc_pq_writer_error(const pgcdc_pq_writer *w);

/* Rows completed (end_row) so far, bytes handed to the callback so far, and
 * bytes buffered for the row group under way. */
int64_t pgcdc_pq_writer_rows(const pgcdc_pq_writer *w);
uint64_t pgcdc_pq_writer_written(const pgcdc_pq_writer *w);
size_t pgcdc_pq_writer_buffered(const pgcdc_pq_writer *w);

/* A scratch buffer owned by the writer, for callers that decode a value
 * before putting it (valid until the next call with the same writer). */
pgcdc_buf *pgcdc_pq_writer_scratch(pgcdc_pq_writer *w);

/* The schema the writer was opened with. */
const pgcdc_pq_column *pgcdc_pq_writer_column(const pgcdc_pq_writer *w, int col);
int pgcdc_pq_writer_ncols(const pgcdc_pq_writer *w);

#endif
