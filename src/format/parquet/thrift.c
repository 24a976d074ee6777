/*
 * thrift.c - Thrift compact protocol encoder (see thrift.h).
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
