/*
 * test_buf.c - unit tests for the growable byte buffer: appends, reserve
 * and growth, decimal integers at the edges of their ranges, printf past
 * the on-stack fast path, and the NUL-termination invariant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "test.h"

/* data[len] == 0 and len < cap whenever the buffer holds an allocation. */
static int terminated(const pgcdc_buf *b)
{
    return b->data && b->len < b->cap && b->data[b->len] == 0;
}

static void test_init_and_free(void)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    CHECK(b.data == NULL);
    CHECK_INT(b.len, 0);
    CHECK_INT(b.cap, 0);
    pgcdc_buf_free(&b); /* freeing an empty buffer is fine */
    CHECK(b.data == NULL);
    pgcdc_buf_puts(&b, "x");
    pgcdc_buf_free(&b);
    CHECK(b.data == NULL);
    CHECK_INT(b.len, 0);
    CHECK_INT(b.cap, 0);
    /* reset of a never-allocated buffer must not touch data */
    pgcdc_buf_reset(&b);
    CHECK_INT(b.len, 0);
}

static void test_append_basic(void)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_buf_append(&b, "abc", 3);
    CHECK_STR(b.data, "abc");
    CHECK_INT(b.len, 3);
    CHECK(terminated(&b));
    pgcdc_buf_putc(&b, 'd');
    CHECK_STR(b.data, "abcd");
    CHECK(terminated(&b));
    pgcdc_buf_puts(&b, "ef");
    CHECK_STR(b.data, "abcdef");
    PGCDC_BUF_LIT(&b, "gh");
    CHECK_STR(b.data, "abcdefgh");
    CHECK_INT(b.len, 8);
    CHECK(terminated(&b));
    /* empty append allocates and terminates */
    pgcdc_buf e = PGCDC_BUF_INIT;
    pgcdc_buf_append(&e, "", 0);
    CHECK(e.data != NULL);
    CHECK_INT(e.len, 0);
    CHECK(terminated(&e));
    pgcdc_buf_free(&e);
    /* embedded NUL bytes are kept */
    pgcdc_buf_reset(&b);
    pgcdc_buf_append(&b, "a\0b", 3);
    CHECK_INT(b.len, 3);
    CHECK(memcmp(b.data, "a\0b", 3) == 0);
    CHECK(terminated(&b));
    pgcdc_buf_free(&b);
}

static void test_reset_keeps_allocation(void)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_buf_puts(&b, "hello world");
    char *p = b.data;
    size_t cap = b.cap;
    pgcdc_buf_reset(&b);
    CHECK_INT(b.len, 0);
    CHECK(b.data == p);
    CHECK_INT(b.cap, cap);
    CHECK_STR(b.data, "");
    pgcdc_buf_puts(&b, "x");
    CHECK_STR(b.data, "x");
    pgcdc_buf_free(&b);
}

static void test_reserve_and_grow(void)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_buf_reserve(&b, 10);
    CHECK(b.cap >= 11);
    CHECK_INT(b.len, 0);
    /* reserve for exactly what fits does not reallocate */
    size_t cap = b.cap;
    char *p = b.data;
    pgcdc_buf_reserve(&b, cap - 1);
    CHECK(b.data == p);
    CHECK_INT(b.cap, cap);
    /* one more byte than fits grows */
    pgcdc_buf_reserve(&b, cap);
    CHECK(b.cap >= cap + 1);
    /* direct grow to a large size */
    pgcdc_buf_grow(&b, 100000);
    CHECK(b.cap >= 100000);
    pgcdc_buf_free(&b);

    /* many small appends across several doublings keep content intact */
    pgcdc_buf c = PGCDC_BUF_INIT;
    for (int i = 0; i < 10000; i++)
        pgcdc_buf_putc(&c, (char)('a' + i % 26));
    CHECK_INT(c.len, 10000);
    CHECK(terminated(&c));
    int ok = 1;
    for (int i = 0; i < 10000; i++)
        if (c.data[i] != (char)('a' + i % 26))
            ok = 0;
    CHECK(ok);
    /* one large append at once */
    char *big = malloc(1 << 20);
    memset(big, 'z', 1 << 20);
    pgcdc_buf_append(&c, big, 1 << 20);
    CHECK_INT(c.len, 10000 + (1 << 20));
    CHECK(terminated(&c));
    CHECK(c.data[10000] == 'z' && c.data[c.len - 1] == 'z');
    CHECK(c.data[9999] == (char)('a' + 9999 % 26));
    free(big);
    pgcdc_buf_free(&c);
}

static void test_put_i64(void)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_buf_put_i64(&b, 0);
    CHECK_STR(b.data, "0");
    pgcdc_buf_reset(&b);
    pgcdc_buf_put_i64(&b, 7);
    CHECK_STR(b.data, "7");
    pgcdc_buf_reset(&b);
    pgcdc_buf_put_i64(&b, -1);
    CHECK_STR(b.data, "-1");
    pgcdc_buf_reset(&b);
    pgcdc_buf_put_i64(&b, -1234567890123LL);
    CHECK_STR(b.data, "-1234567890123");
    pgcdc_buf_reset(&b);
    pgcdc_buf_put_i64(&b, 1000000);
    CHECK_STR(b.data, "1000000");
    pgcdc_buf_reset(&b);
    pgcdc_buf_put_i64(&b, INT64_MAX);
    CHECK_STR(b.data, "9223372036854775807");
    pgcdc_buf_reset(&b);
    pgcdc_buf_put_i64(&b, INT64_MIN);
    CHECK_STR(b.data, "-9223372036854775808");
    CHECK(terminated(&b));
    pgcdc_buf_reset(&b);
    pgcdc_buf_put_i64(&b, INT64_MIN + 1);
    CHECK_STR(b.data, "-9223372036854775807");
    /* appends, does not overwrite */
    pgcdc_buf_reset(&b);
    pgcdc_buf_puts(&b, "x=");
    pgcdc_buf_put_i64(&b, -42);
    pgcdc_buf_putc(&b, ';');
    CHECK_STR(b.data, "x=-42;");
    pgcdc_buf_free(&b);
}

static void test_put_u64(void)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_buf_put_u64(&b, 0);
    CHECK_STR(b.data, "0");
    pgcdc_buf_reset(&b);
    pgcdc_buf_put_u64(&b, 10);
    CHECK_STR(b.data, "10");
    pgcdc_buf_reset(&b);
    pgcdc_buf_put_u64(&b, UINT64_MAX);
    CHECK_STR(b.data, "18446744073709551615");
    CHECK_INT(b.len, 20);
    CHECK(terminated(&b));
    pgcdc_buf_reset(&b);
    pgcdc_buf_put_u64(&b, (uint64_t)INT64_MAX + 1);
    CHECK_STR(b.data, "9223372036854775808");
    pgcdc_buf_free(&b);
}

static void test_printf(void)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_buf_printf(&b, "%d-%s", 42, "x");
    CHECK_STR(b.data, "42-x");
    CHECK(terminated(&b));
    pgcdc_buf_printf(&b, "%s", "");
    CHECK_STR(b.data, "42-x");
    CHECK_INT(b.len, 4);

    /* exactly 255 (fits the stack buffer), 256 (does not) and much longer */
    static const size_t lens[] = {255, 256, 257, 300, 5000, 100000};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        size_t n = lens[k];
        char *s = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            s[i] = (char)('A' + i % 23);
        s[n] = 0;
        pgcdc_buf_reset(&b);
        pgcdc_buf_puts(&b, "pre:");
        pgcdc_buf_printf(&b, "<%s>%d", s, 7);
        CHECK_INT(b.len, 4 + 1 + n + 1 + 1);
        CHECK(terminated(&b));
        CHECK(strncmp(b.data, "pre:<", 5) == 0);
        CHECK(memcmp(b.data + 5, s, n) == 0);
        CHECK(strcmp(b.data + 5 + n, ">7") == 0);
        CHECK_INT(strlen(b.data), b.len);
        free(s);
    }

    /* a long printf followed by further appends */
    char longs[600];
    memset(longs, 'q', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = 0;
    pgcdc_buf_reset(&b);
    pgcdc_buf_printf(&b, "%s", longs);
    pgcdc_buf_putc(&b, '!');
    CHECK_INT(b.len, 600);
    CHECK(b.data[598] == 'q' && b.data[599] == '!');
    CHECK(terminated(&b));
    pgcdc_buf_free(&b);
}

static void test_printf_into_empty(void)
{
    /* the slow path must work when the buffer has no allocation yet */
    pgcdc_buf b = PGCDC_BUF_INIT;
    char s[1000];
    memset(s, 'm', sizeof(s) - 1);
    s[sizeof(s) - 1] = 0;
    pgcdc_buf_printf(&b, "%s", s);
    CHECK_INT(b.len, 999);
    CHECK(terminated(&b));
    CHECK_STR(b.data, s);
    pgcdc_buf_free(&b);

    pgcdc_buf e = PGCDC_BUF_INIT;
    pgcdc_buf_printf(&e, "%s", "");
    CHECK(e.data != NULL);
    CHECK_INT(e.len, 0);
    CHECK(terminated(&e));
    pgcdc_buf_free(&e);
}

int main(void)
{
    TEST_RUN(test_init_and_free);
    TEST_RUN(test_append_basic);
    TEST_RUN(test_reset_keeps_allocation);
    TEST_RUN(test_reserve_and_grow);
    TEST_RUN(test_put_i64);
    TEST_RUN(test_put_u64);
    TEST_RUN(test_printf);
    TEST_RUN(test_printf_into_empty);
    TEST_DONE();
}
