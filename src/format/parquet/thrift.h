/*
 * thrift.h - the Thrift compact protocol as Parquet's footer and page
 * headers need it: an encoder and a decoder of untrusted input.
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

/*
 * Decoder. Every read checks the bytes left; the first problem sets err
 * (PGCDC_THRIFT_TRUNCATED when the input ended inside a value, so a caller
 * reading a prefix of a stream can fetch more and retry; _MALFORMED
 * otherwise) and every later read returns 0/NULL without reading. Structs
 * nest up to PGCDC_THRIFT_R_DEPTH levels (the skipping of unknown fields
 * included), so hostile input cannot recurse deeply.
 */
enum { PGCDC_THRIFT_MALFORMED = 1, PGCDC_THRIFT_TRUNCATED = 2 };
#define PGCDC_THRIFT_R_DEPTH 16

typedef struct pgcdc_thrift_r {
    const unsigned char *p, *start, *end;
    int depth;
    int err;
    int16_t last[PGCDC_THRIFT_R_DEPTH]; /* last field id per open struct */
} pgcdc_thrift_r;

/* Starts reading the top-level struct from [p, p + len). */
void pgcdc_thrift_rinit(pgcdc_thrift_r *r, const void *p, size_t len);

/* The next field of the struct under way: 1 with its id and type, 0 at its
 * stop byte (the struct is closed: the enclosing struct's fields follow) or
 * after an error. Booleans are the types TRUE/FALSE (no value follows). */
int pgcdc_thrift_rfield(pgcdc_thrift_r *r, int16_t *id, int *type);

/* The value of an integer field of compact type `type` (BYTE, I16, I32,
 * I64; TRUE/FALSE read as 1/0); any other type is skipped and counts as
 * malformed. */
int64_t pgcdc_thrift_rint(pgcdc_thrift_r *r, int type);

/* An i32 field's value, checked to be within [lo, hi] (malformed if not). */
int32_t pgcdc_thrift_ri32(pgcdc_thrift_r *r, int type, int32_t lo, int32_t hi);

/* A binary (string) field's bytes, pointing into the input, or NULL. */
const unsigned char *pgcdc_thrift_rbinary(pgcdc_thrift_r *r, int type, size_t *len);

/* A list header: its element count (checked against the bytes left: every
 * element takes at least one byte) and element type, or 0 after an error
 * or when type is not LIST (skipped). */
size_t pgcdc_thrift_rlist(pgcdc_thrift_r *r, int type, int *elem_type);

/* A list element: i32 / binary / a struct whose fields follow (read with
 * rfield until it returns 0). */
int64_t pgcdc_thrift_relem_int(pgcdc_thrift_r *r, int elem_type);
const unsigned char *pgcdc_thrift_relem_binary(pgcdc_thrift_r *r, int elem_type, size_t *len);
int pgcdc_thrift_rstruct(pgcdc_thrift_r *r, int type);

/* Skips a value of `type` (a field's or a list element's), nested ones
 * included. */
void pgcdc_thrift_rskip(pgcdc_thrift_r *r, int type);

/* Bytes consumed so far. */
static inline size_t pgcdc_thrift_rpos(const pgcdc_thrift_r *r)
{
    return (size_t)(r->p - r->start);
}

#endif
