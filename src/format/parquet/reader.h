/*
 * reader.h - a Parquet file reader for flat schemas, with a row cursor of
 * bounded memory: the counterpart of parquet.h's writer, for compaction
 * (read rows back, merge, write them out with the writer).
 *
 * Input comes through a read_at callback plus the file's size, so a local
 * file (pread) and an object in S3 (ranged GET) read alike. Opening reads
 * and checks the footer only: magic, Thrift compact FileMetaData (schema,
 * row groups, column chunks with their offsets, codecs, encodings and
 * statistics, key/value metadata), every offset and length against the
 * file's size. Rows are then decoded page by page: per column the reader
 * holds a window of the file's bytes (readahead, 1 MiB by default, or one
 * page when larger), the page under way decompressed, the chunk's
 * dictionary and a batch of decoded values.
 *
 * Supported: flat schemas (a root and leaf columns, REQUIRED or OPTIONAL);
 * data pages V1 and V2, dictionary pages; codecs UNCOMPRESSED, SNAPPY, ZSTD,
 * GZIP; encodings PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY, RLE (definition
 * levels; booleans), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
 * DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT. Anything else (nested or repeated
 * columns, other codecs and encodings, columns in other files) is a clear
 * error naming the column.
 *
 * Input is untrusted: malformed files give an error, never a crash or
 * unbounded memory (pages are limited to max_page bytes, 1 GiB by default).
 *
 * Threading: a reader belongs to one thread. Errors: return codes with
 * errstr; after an error pgcdc_pq_reader_next keeps failing with the same
 * message.
 */
#ifndef PGCDC_FORMAT_PARQUET_READER_H
#define PGCDC_FORMAT_PARQUET_READER_H

#include <stddef.h>
#include <stdint.h>

#include "format/parquet/parquet.h"

/* Reads exactly len bytes at offset into buf, or fails with errstr set. */
typedef int (*pgcdc_pq_read_fn)(void *ctx, uint64_t offset, void *buf, size_t len, char *errstr,
                                size_t errstr_size);

typedef struct pgcdc_pq_reader pgcdc_pq_reader;

/* One column chunk's footer metadata. */
typedef struct pgcdc_pq_chunk_meta {
    int codec;          /* parquet.thrift CompressionCodec (pgcdc_pq_codec values) */
    uint32_t encodings; /* bit e set: parquet.thrift Encoding e is listed */
    int64_t num_values;
    int64_t data_page_offset;
    int64_t dictionary_page_offset; /* -1: none */
    int64_t total_compressed_size;
    int64_t total_uncompressed_size;
    int64_t null_count; /* -1: not given */
    /* min/max as PLAIN bytes (byte arrays without length prefix): min_value
     * and max_value, else the legacy min and max for the signed physical
     * types; NULL when absent. They point into the reader's footer. */
    const void *min, *max;
    size_t min_len, max_len;
} pgcdc_pq_chunk_meta;

/*
 * Reads and checks the footer of a file of `size` bytes. Returns 0 and
 * *out (freed with pgcdc_pq_reader_free; read_at and ctx must outlive it),
 * or -1 with errstr (naming the column when one is at fault).
 */
int pgcdc_pq_reader_open(pgcdc_pq_reader **out, pgcdc_pq_read_fn read_at, void *ctx, uint64_t size,
                         char *errstr, size_t errstr_size);

void pgcdc_pq_reader_free(pgcdc_pq_reader *r);

/* Readahead per column (bytes fetched at once by read_at; 1 MiB by
 * default) and the largest page accepted (1 GiB by default). */
void pgcdc_pq_reader_set_readahead(pgcdc_pq_reader *r, size_t bytes);
void pgcdc_pq_reader_set_max_page(pgcdc_pq_reader *r, size_t bytes);

/* The schema: columns as the writer takes them (names owned by the
 * reader), so pgcdc_pq_writer_open(..., pgcdc_pq_reader_columns(r),
 * pgcdc_pq_reader_ncols(r), ...) writes files of the same schema. Legacy
 * ConvertedType annotations are mapped when a column has no LogicalType. */
int pgcdc_pq_reader_ncols(const pgcdc_pq_reader *r);
const pgcdc_pq_column *pgcdc_pq_reader_columns(const pgcdc_pq_reader *r);
const pgcdc_pq_column *pgcdc_pq_reader_column(const pgcdc_pq_reader *r, int col);
/* The column's index by name, or -1. */
int pgcdc_pq_reader_find(const pgcdc_pq_reader *r, const char *name);

int64_t pgcdc_pq_reader_num_rows(const pgcdc_pq_reader *r);
int pgcdc_pq_reader_num_row_groups(const pgcdc_pq_reader *r);
int64_t pgcdc_pq_reader_row_group_rows(const pgcdc_pq_reader *r, int rg);
const pgcdc_pq_chunk_meta *pgcdc_pq_reader_chunk(const pgcdc_pq_reader *r, int rg, int col);
/* Footer key/value metadata (value NULL when absent) and created_by (NULL
 * when absent). */
const pgcdc_pq_kv *pgcdc_pq_reader_kv(const pgcdc_pq_reader *r, size_t *n);
const char *pgcdc_pq_reader_created_by(const pgcdc_pq_reader *r);

/*
 * Projection: pgcdc_pq_reader_next then fills n values, values[i] from
 * column cols[i]; only those columns are read and decoded. Only before the
 * first pgcdc_pq_reader_next. Returns 0, or -1 (a column out of range).
 */
int pgcdc_pq_reader_select(pgcdc_pq_reader *r, const int *cols, int n, char *errstr,
                           size_t errstr_size);

/* Makes the next row the first of row group rg (rg == the number of row
 * groups: the end); for skipping row groups by their statistics. */
int pgcdc_pq_reader_seek_row_group(pgcdc_pq_reader *r, int rg, char *errstr, size_t errstr_size);

/*
 * The next row: values[] (ncols entries, or the projection's n) filled as
 * pgcdc_pq_put_datum takes them: null, or the member of the column's
 * physical type (booleans in i32), or bytes/len for BYTE_ARRAY,
 * FIXED_LEN_BYTE_ARRAY and INT96. Bytes point into the reader's buffers,
 * valid until the next call. Returns 1 (a row), 0 (the end), -1 (error).
 */
int pgcdc_pq_reader_next(pgcdc_pq_reader *r, pgcdc_pq_datum *values, char *errstr,
                         size_t errstr_size);

/* Rows returned so far (the row number of the next row). */
int64_t pgcdc_pq_reader_row(const pgcdc_pq_reader *r);

/* read_at over a file descriptor (ctx: a pointer to the int fd), with pread. */
int pgcdc_pq_read_fd(void *ctx, uint64_t offset, void *buf, size_t len, char *errstr,
                     size_t errstr_size);

#endif
