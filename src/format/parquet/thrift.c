/*
 * thrift.c - Thrift compact protocol encoder and decoder (see thrift.h).
 *
 * Field headers: when the id is 1..15 above the previous field's id of the
 * same struct, one byte (delta << 4 | type); otherwise the type byte then
 * the id as a zigzag varint. Integers are zigzag varints, binaries a varint
 * length then bytes, booleans live in the field header's type nibble.
 */
#include <assert.h>
#include <string.h>

#include "format/parquet/thrift.h"

void pgcdc_thrift_init(pgcdc_thrift_w *w, pgcdc_buf *out)
{
    w->out = out;
    w->depth = 0;
    w->last[0] = 0;
}

void pgcdc_thrift_varint(pgcdc_buf *out, uint64_t v)
{
    pgcdc_buf_reserve(out, 10);
    while (v >= 0x80) {
        out->data[out->len++] = (char)(v | 0x80);
        v >>= 7;
    }
    out->data[out->len++] = (char)v;
    out->data[out->len] = 0;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void field(pgcdc_thrift_w *w, int16_t id, int type)
{
    int16_t delta = (int16_t)(id - w->last[w->depth]);
    if (delta > 0 && delta <= 15) {
        pgcdc_buf_putc(w->out, (char)((delta << 4) | type));
    } else {
        pgcdc_buf_putc(w->out, (char)type);
        pgcdc_thrift_varint(w->out, zigzag(id));
    }
    w->last[w->depth] = id;
}

void pgcdc_thrift_i32(pgcdc_thrift_w *w, int16_t id, int32_t v)
{
    field(w, id, PGCDC_THRIFT_I32);
    pgcdc_thrift_varint(w->out, zigzag(v));
}

void pgcdc_thrift_i64(pgcdc_thrift_w *w, int16_t id, int64_t v)
{
    field(w, id, PGCDC_THRIFT_I64);
    pgcdc_thrift_varint(w->out, zigzag(v));
}

void pgcdc_thrift_byte(pgcdc_thrift_w *w, int16_t id, int8_t v)
{
    field(w, id, PGCDC_THRIFT_BYTE);
    pgcdc_buf_putc(w->out, (char)v);
}

void pgcdc_thrift_bool(pgcdc_thrift_w *w, int16_t id, int v)
{
    field(w, id, v ? PGCDC_THRIFT_TRUE : PGCDC_THRIFT_FALSE);
}

void pgcdc_thrift_binary(pgcdc_thrift_w *w, int16_t id, const void *p, size_t len)
{
    field(w, id, PGCDC_THRIFT_BINARY);
    pgcdc_thrift_varint(w->out, len);
    pgcdc_buf_append(w->out, p, len);
}

void pgcdc_thrift_string(pgcdc_thrift_w *w, int16_t id, const char *s)
{
    pgcdc_thrift_binary(w, id, s, strlen(s));
}

static void open_scope(pgcdc_thrift_w *w)
{
    assert(w->depth + 1 < PGCDC_THRIFT_MAX_DEPTH);
    w->last[++w->depth] = 0;
}

void pgcdc_thrift_struct_begin(pgcdc_thrift_w *w, int16_t id)
{
    field(w, id, PGCDC_THRIFT_STRUCT);
    open_scope(w);
}

void pgcdc_thrift_struct_end(pgcdc_thrift_w *w)
{
    assert(w->depth > 0);
    pgcdc_buf_putc(w->out, 0);
    w->depth--;
}

void pgcdc_thrift_empty_struct(pgcdc_thrift_w *w, int16_t id)
{
    pgcdc_thrift_struct_begin(w, id);
    pgcdc_thrift_struct_end(w);
}

void pgcdc_thrift_list_begin(pgcdc_thrift_w *w, int16_t id, int elem_type, size_t n)
{
    field(w, id, PGCDC_THRIFT_LIST);
    if (n < 15) {
        pgcdc_buf_putc(w->out, (char)((n << 4) | (size_t)elem_type));
    } else {
        pgcdc_buf_putc(w->out, (char)(0xf0 | elem_type));
        pgcdc_thrift_varint(w->out, n);
    }
}

void pgcdc_thrift_elem_i32(pgcdc_thrift_w *w, int32_t v)
{
    pgcdc_thrift_varint(w->out, zigzag(v));
}

void pgcdc_thrift_elem_string(pgcdc_thrift_w *w, const char *s)
{
    size_t n = strlen(s);
    pgcdc_thrift_varint(w->out, n);
    pgcdc_buf_append(w->out, s, n);
}

void pgcdc_thrift_elem_struct_begin(pgcdc_thrift_w *w)
{
    open_scope(w);
}

void pgcdc_thrift_finish(pgcdc_thrift_w *w)
{
    assert(w->depth == 0);
    pgcdc_buf_putc(w->out, 0);
}

/* ------------------------------------------------------------------------ */
/* decoder                                                                   */
/* ------------------------------------------------------------------------ */

void pgcdc_thrift_rinit(pgcdc_thrift_r *r, const void *p, size_t len)
{
    r->p = r->start = p;
    r->end = r->p + len;
    r->depth = 0;
    r->err = 0;
    r->last[0] = 0;
}

enum { PQ_THRIFT_SET = 10, PQ_THRIFT_MAP = 11 };

static void skip_elem(pgcdc_thrift_r *r, int type, int level);

static void rfail(pgcdc_thrift_r *r, int err)
{
    if (!r->err)
        r->err = err;
}

static int rbyte(pgcdc_thrift_r *r)
{
    if (r->err)
        return 0;
    if (r->p >= r->end) {
        rfail(r, PGCDC_THRIFT_TRUNCATED);
        return 0;
    }
    return *r->p++;
}

static uint64_t rvarint(pgcdc_thrift_r *r)
{
    uint64_t v = 0;
    for (int shift = 0; !r->err; shift += 7) {
        if (shift > 63) {
            rfail(r, PGCDC_THRIFT_MALFORMED);
            break;
        }
        int c = rbyte(r);
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    return 0;
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

int pgcdc_thrift_rfield(pgcdc_thrift_r *r, int16_t *id, int *type)
{
    int c = rbyte(r);
    if (r->err)
        return 0;
    if (c == 0) { /* stop: the struct under way ends */
        if (r->depth > 0)
            r->depth--;
        return 0;
    }
    *type = c & 0x0f;
    int delta = c >> 4;
    if (delta) {
        *id = (int16_t)(r->last[r->depth] + delta);
    } else {
        int64_t v = unzigzag(rvarint(r));
        if (v < INT16_MIN || v > INT16_MAX)
            rfail(r, PGCDC_THRIFT_MALFORMED);
        *id = (int16_t)v;
    }
    if (*type == 0 || *type > PGCDC_THRIFT_STRUCT)
        rfail(r, PGCDC_THRIFT_MALFORMED);
    if (r->err)
        return 0;
    r->last[r->depth] = *id;
    return 1;
}

/* The value of an integer element or field of compact type `type`. */
static int64_t rint_value(pgcdc_thrift_r *r, int type)
{
    switch (type) {
    case PGCDC_THRIFT_TRUE:
        return 1;
    case PGCDC_THRIFT_FALSE:
        return 0;
    case PGCDC_THRIFT_BYTE:
        return (int8_t)rbyte(r);
    case PGCDC_THRIFT_I16:
    case PGCDC_THRIFT_I32:
    case PGCDC_THRIFT_I64:
        return unzigzag(rvarint(r));
    default:
        pgcdc_thrift_rskip(r, type);
        rfail(r, PGCDC_THRIFT_MALFORMED);
        return 0;
    }
}

int64_t pgcdc_thrift_rint(pgcdc_thrift_r *r, int type)
{
    int64_t v = rint_value(r, type);
    return r->err ? 0 : v;
}

int32_t pgcdc_thrift_ri32(pgcdc_thrift_r *r, int type, int32_t lo, int32_t hi)
{
    int64_t v = pgcdc_thrift_rint(r, type);
    if (v < lo || v > hi) {
        rfail(r, PGCDC_THRIFT_MALFORMED);
        return 0;
    }
    return (int32_t)v;
}

static const unsigned char *rbytes(pgcdc_thrift_r *r, size_t *len)
{
    uint64_t n = rvarint(r);
    if (r->err)
        return NULL;
    if (n > (uint64_t)(r->end - r->p)) {
        rfail(r, PGCDC_THRIFT_TRUNCATED);
        return NULL;
    }
    const unsigned char *p = r->p;
    r->p += n;
    *len = (size_t)n;
    return p;
}

const unsigned char *pgcdc_thrift_rbinary(pgcdc_thrift_r *r, int type, size_t *len)
{
    if (type != PGCDC_THRIFT_BINARY) {
        pgcdc_thrift_rskip(r, type);
        rfail(r, PGCDC_THRIFT_MALFORMED);
        return NULL;
    }
    return rbytes(r, len);
}

const unsigned char *pgcdc_thrift_relem_binary(pgcdc_thrift_r *r, int elem_type, size_t *len)
{
    return pgcdc_thrift_rbinary(r, elem_type, len);
}

int64_t pgcdc_thrift_relem_int(pgcdc_thrift_r *r, int elem_type)
{
    if (elem_type == PGCDC_THRIFT_TRUE || elem_type == PGCDC_THRIFT_FALSE)
        return rbyte(r) == 1; /* list booleans are a byte each */
    return pgcdc_thrift_rint(r, elem_type);
}

/* A list or set header after its field header. */
static size_t rlist_header(pgcdc_thrift_r *r, int *elem_type)
{
    int c = rbyte(r);
    uint64_t n = (uint64_t)c >> 4;
    if (n == 15)
        n = rvarint(r);
    *elem_type = c & 0x0f;
    if (r->err)
        return 0;
    if (n > (uint64_t)(r->end - r->p)) { /* every element takes a byte or more */
        rfail(r, PGCDC_THRIFT_TRUNCATED);
        return 0;
    }
    if (n && (*elem_type == 0 || *elem_type > PGCDC_THRIFT_STRUCT)) {
        rfail(r, PGCDC_THRIFT_MALFORMED);
        return 0;
    }
    return (size_t)n;
}

size_t pgcdc_thrift_rlist(pgcdc_thrift_r *r, int type, int *elem_type)
{
    if (type != PGCDC_THRIFT_LIST) {
        pgcdc_thrift_rskip(r, type);
        rfail(r, PGCDC_THRIFT_MALFORMED);
        return 0;
    }
    return rlist_header(r, elem_type);
}

int pgcdc_thrift_rstruct(pgcdc_thrift_r *r, int type)
{
    if (type != PGCDC_THRIFT_STRUCT) {
        pgcdc_thrift_rskip(r, type);
        rfail(r, PGCDC_THRIFT_MALFORMED);
        return 0;
    }
    if (r->err)
        return 0;
    if (r->depth + 1 >= PGCDC_THRIFT_R_DEPTH) {
        rfail(r, PGCDC_THRIFT_MALFORMED);
        return 0;
    }
    r->last[++r->depth] = 0;
    return 1;
}

/* Skips a value; `level` counts the containers around it, so that lists
 * of lists cannot recurse without bound either. */
static void skip(pgcdc_thrift_r *r, int type, int level)
{
    if (r->err)
        return;
    if (level >= PGCDC_THRIFT_R_DEPTH) {
        rfail(r, PGCDC_THRIFT_MALFORMED);
        return;
    }
    switch (type) {
    case PGCDC_THRIFT_TRUE:
    case PGCDC_THRIFT_FALSE:
        return;
    case PGCDC_THRIFT_BYTE:
        rbyte(r);
        return;
    case PGCDC_THRIFT_I16:
    case PGCDC_THRIFT_I32:
    case PGCDC_THRIFT_I64:
        rvarint(r);
        return;
    case PGCDC_THRIFT_DOUBLE:
        for (int i = 0; i < 8; i++)
            rbyte(r);
        return;
    case PGCDC_THRIFT_BINARY: {
        size_t len;
        rbytes(r, &len);
        return;
    }
    case PGCDC_THRIFT_LIST:
    case PQ_THRIFT_SET: {
        int et;
        size_t n = rlist_header(r, &et);
        for (size_t i = 0; i < n && !r->err; i++)
            skip_elem(r, et, level + 1);
        return;
    }
    case PQ_THRIFT_MAP: {
        uint64_t n = rvarint(r);
        if (n > (uint64_t)(r->end - r->p)) {
            rfail(r, PGCDC_THRIFT_TRUNCATED);
            return;
        }
        if (!n)
            return;
        int kv = rbyte(r);
        for (uint64_t i = 0; i < n && !r->err; i++) {
            skip_elem(r, kv >> 4, level + 1);
            skip_elem(r, kv & 0x0f, level + 1);
        }
        return;
    }
    case PGCDC_THRIFT_STRUCT: {
        if (!pgcdc_thrift_rstruct(r, type))
            return;
        int16_t id;
        int t;
        while (pgcdc_thrift_rfield(r, &id, &t))
            skip(r, t, level + 1);
        return;
    }
    default:
        rfail(r, PGCDC_THRIFT_MALFORMED);
    }
}

/* Container elements: booleans take a byte there. */
static void skip_elem(pgcdc_thrift_r *r, int type, int level)
{
    if (type == PGCDC_THRIFT_TRUE || type == PGCDC_THRIFT_FALSE)
        rbyte(r);
    else
        skip(r, type, level);
}

void pgcdc_thrift_rskip(pgcdc_thrift_r *r, int type)
{
    skip(r, type, 0);
}
