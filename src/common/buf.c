/*
 * buf.c - growable byte buffer (see buf.h).
 */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void pgcdc_buf_grow(pgcdc_buf *buf, size_t need)
{
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(buf->data, cap);
    if (!p) {
        fprintf(stderr, "pgcdc: out of memory growing a buffer to %zu bytes\n", cap);
        abort();
    }
    buf->data = p;
    buf->cap = cap;
}

void pgcdc_buf_free(pgcdc_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

void pgcdc_buf_printf(pgcdc_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        pgcdc_buf_append(buf, tmp, (size_t)n);
        return;
    }
    pgcdc_buf_reserve(buf, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
}

void pgcdc_buf_put_u64(pgcdc_buf *buf, uint64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    pgcdc_buf_append(buf, p, (size_t)(tmp + sizeof(tmp) - p));
}

void pgcdc_buf_put_i64(pgcdc_buf *buf, int64_t v)
{
    if (v < 0) {
        pgcdc_buf_putc(buf, '-');
        /* negate in unsigned space so INT64_MIN is well defined */
        pgcdc_buf_put_u64(buf, (uint64_t)0 - (uint64_t)v);
        return;
    }
    pgcdc_buf_put_u64(buf, (uint64_t)v);
}
