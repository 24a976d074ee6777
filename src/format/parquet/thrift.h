/*
 * thrift.h - the Thrift compact protocol, write side only, as Parquet's
 * footer and page headers need it.
 *
 * The encoder appends to a pgcdc_buf and keeps the "last field id" stack the
 * compact protocol's delta field headers depend on. Structs nest up to
 * PGCDC_THRIFT_MAX_DEPTH levels (Parquet's deepest is 5: FileMetaData >
 * RowGroup > ColumnChunk > ColumnMetaData > Statistics). A pre-encoded
 * struct (pgcdc_thrift_raw) can be spliced in as a list element because
 * every struct starts its field ids afresh.
 */
#ifndef PGCDC_FORMAT_PARQUET_THRIFT_H
#define PGCDC_FORMAT_PARQUET_THRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Compact protocol type codes. */
enum {
    PGCDC_THRIFT_TRUE = 1,
    PGCDC_THRIFT_FALSE = 2,
    PGCDC_THRIFT_BYTE = 3,
    PGCDC_THRIFT_I16 = 4,
    PGCDC_THRIFT_I32 = 5,
    PGCDC_THRIFT_I64 = 6,
    PGCDC_THRIFT_DOUBLE = 7,
    PGCDC_THRIFT_BINARY = 8,
    PGCDC_THRIFT_LIST = 9,
    PGCDC_THRIFT_STRUCT = 12,
};

#define PGCDC_THRIFT_MAX_DEPTH 8

typedef struct pgcdc_thrift_w {
    pgcdc_buf *out;
    int depth;
    int16_t last[PGCDC_THRIFT_MAX_DEPTH]; /* last field id per open struct */
} pgcdc_thrift_w;

/* Starts writing the top-level struct into out (appending). */
void pgcdc_thrift_init(pgcdc_thrift_w *w, pgcdc_buf *out);

void pgcdc_thrift_varint(pgcdc_buf *out, uint64_t v);

void pgcdc_thrift_i32(pgcdc_thrift_w *w, int16_t id, int32_t v);
void pgcdc_thrift_i64(pgcdc_thrift_w *w, int16_t id, int64_t v);
void pgcdc_thrift_byte(pgcdc_thrift_w *w, int16_t id, int8_t v);
void pgcdc_thrift_bool(pgcdc_thrift_w *w, int16_t id, int v);
void pgcdc_thrift_binary(pgcdc_thrift_w *w, int16_t id, const void *p, size_t len);
void pgcdc_thrift_string(pgcdc_thrift_w *w, int16_t id, const char *s);

/* A struct-valued field: begin writes its header and opens a field scope,
 * end writes the stop byte and closes it. */
void pgcdc_thrift_struct_begin(pgcdc_thrift_w *w, int16_t id);
void pgcdc_thrift_struct_end(pgcdc_thrift_w *w);
/* An empty struct field (Parquet's unions of empty marker structs). */
void pgcdc_thrift_empty_struct(pgcdc_thrift_w *w, int16_t id);

/* A list field of n elements of elem_type. Scalar elements follow with the
 * pgcdc_thrift_elem_* calls; struct elements with elem_struct_begin/end. */
void pgcdc_thrift_list_begin(pgcdc_thrift_w *w, int16_t id, int elem_type, size_t n);
void pgcdc_thrift_elem_i32(pgcdc_thrift_w *w, int32_t v);
void pgcdc_thrift_elem_string(pgcdc_thrift_w *w, const char *s);
void pgcdc_thrift_elem_struct_begin(pgcdc_thrift_w *w);
#define pgcdc_thrift_elem_struct_end pgcdc_thrift_struct_end

/* Ends the top-level struct (its stop byte). */
void pgcdc_thrift_finish(pgcdc_thrift_w *w);

#endif
