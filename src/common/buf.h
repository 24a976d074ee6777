/*
 * buf.h - growable byte buffer used everywhere bytes are assembled.
 *
 * The hot path (decode -> encode -> sink) reuses a few long-lived buffers
 * instead of allocating per field: callers reset ->len and append again.
 * Appends never fail; on allocation failure the process aborts, because a
 * CDC engine that runs out of memory mid-record has no safe way to continue
 * and the offsets on disk still describe a consistent restart point.
 */
#ifndef PGCDC_COMMON_BUF_H
#define PGCDC_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct pgcdc_buf {
    char *data; /* always NUL-terminated after any append (data[len] == 0) */
    size_t len;
    size_t cap;
} pgcdc_buf;

#define PGCDC_BUF_INIT                                                                             \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Slow path of pgcdc_buf_reserve: grows the allocation. */
void pgcdc_buf_grow(pgcdc_buf *buf, size_t need);
void pgcdc_buf_free(pgcdc_buf *buf);
void pgcdc_buf_printf(pgcdc_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Ensures room for `n` more bytes plus the terminating NUL. */
static inline void pgcdc_buf_reserve(pgcdc_buf *buf, size_t n)
{
    if (buf->len + n + 1 > buf->cap)
        pgcdc_buf_grow(buf, buf->len + n + 1);
}

static inline void pgcdc_buf_reset(pgcdc_buf *buf)
{
    buf->len = 0;
    if (buf->data)
        buf->data[0] = 0;
}

static inline void pgcdc_buf_append(pgcdc_buf *buf, const void *p, size_t n)
{
    pgcdc_buf_reserve(buf, n);
    memcpy(buf->data + buf->len, p, n);
    buf->len += n;
    buf->data[buf->len] = 0;
}

static inline void pgcdc_buf_puts(pgcdc_buf *buf, const char *s)
{
    pgcdc_buf_append(buf, s, strlen(s));
}

static inline void pgcdc_buf_putc(pgcdc_buf *buf, char c)
{
    pgcdc_buf_reserve(buf, 1);
    buf->data[buf->len++] = c;
    buf->data[buf->len] = 0;
}

/* Appends a literal without strlen at run time. */
/* lit must be a string literal ("" lit "" rejects anything else: sizeof of a
 * pointer would silently truncate) */
#define PGCDC_BUF_LIT(buf, lit) pgcdc_buf_append((buf), "" lit "", sizeof(lit) - 1)

/* Decimal integers without printf (hot path). */
void pgcdc_buf_put_i64(pgcdc_buf *buf, int64_t v);
void pgcdc_buf_put_u64(pgcdc_buf *buf, uint64_t v);

/* The value of a hexadecimal digit (either case), or -1. */
static inline int pgcdc_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

#endif
