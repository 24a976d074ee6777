/*
 * test_json.c - unit tests for the hot-path JSON writer: string escaping as
 * Jackson does it, the invalid-UTF-8 replacement policy, Java
 * Double.toString / Float.toString number formatting, and base64.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/json.h"
#include "test.h"

static pgcdc_buf out = PGCDC_BUF_INIT;

/* Escapes `len` bytes of s and returns the JSON text. */
static const char *str_n(const char *s, size_t len)
{
    pgcdc_buf_reset(&out);
    pgcdc_json_str(&out, s, len);
    return out.data;
}

static const char *str(const char *s)
{
    return str_n(s, strlen(s));
}

static const char *dbl(double v)
{
    pgcdc_buf_reset(&out);
    pgcdc_json_double(&out, v);
    return out.data;
}

static const char *flt(float v)
{
    pgcdc_buf_reset(&out);
    pgcdc_json_float(&out, v);
    return out.data;
}

static const char *b64(const void *p, size_t len)
{
    pgcdc_buf_reset(&out);
    pgcdc_json_base64(&out, p, len);
    return out.data;
}

#define FFFD "\xEF\xBF\xBD"

static void test_str_plain(void)
{
    CHECK_STR(str(""), "\"\"");
    CHECK_STR(str("hello"), "\"hello\"");
    CHECK_STR(str("a b"), "\"a b\"");
    /* '/' is not escaped (Jackson leaves it), DEL is not a control char */
    CHECK_STR(str("a/b"), "\"a/b\"");
    CHECK_STR(str("x\x7fy"), "\"x\x7fy\"");
    CHECK_STR(str("~!@#$%^&*()_+{}[]|:;'<>,.?"), "\"~!@#$%^&*()_+{}[]|:;'<>,.?\"");
    /* appends, does not replace */
    pgcdc_buf_reset(&out);
    pgcdc_buf_puts(&out, "k:");
    pgcdc_json_cstr(&out, "v");
    CHECK_STR(out.data, "k:\"v\"");
    CHECK_INT(out.len, 5);
}

static void test_str_escapes(void)
{
    CHECK_STR(str("\""), "\"\\\"\"");
    CHECK_STR(str("\\"), "\"\\\\\"");
    CHECK_STR(str("a\"b\\c"), "\"a\\\"b\\\\c\"");
    CHECK_STR(str("\b"), "\"\\b\"");
    CHECK_STR(str("\f"), "\"\\f\"");
    CHECK_STR(str("\n"), "\"\\n\"");
    CHECK_STR(str("\r"), "\"\\r\"");
    CHECK_STR(str("\t"), "\"\\t\"");
    CHECK_STR(str("l1\nl2\r\n\tx"), "\"l1\\nl2\\r\\n\\tx\"");
    /* other control characters: \u00XX with lower-case hex */
    CHECK_STR(str_n("\0", 1), "\"\\u0000\"");
    CHECK_STR(str("\x01"), "\"\\u0001\"");
    CHECK_STR(str("\x0b"), "\"\\u000b\"");
    CHECK_STR(str("\x0e"), "\"\\u000e\"");
    CHECK_STR(str("\x1a"), "\"\\u001a\"");
    CHECK_STR(str("\x1f"), "\"\\u001f\"");
    CHECK_STR(str("\x1b[0m"), "\"\\u001b[0m\"");
    CHECK_STR(str_n("a\0b", 3), "\"a\\u0000b\"");

    /* every control character, checked against the rule */
    for (int c = 0; c < 0x20; c++) {
        char in = (char)c;
        const char *got = str_n(&in, 1);
        char want[16];
        switch (c) {
        case '\b':
            strcpy(want, "\"\\b\"");
            break;
        case '\f':
            strcpy(want, "\"\\f\"");
            break;
        case '\n':
            strcpy(want, "\"\\n\"");
            break;
        case '\r':
            strcpy(want, "\"\\r\"");
            break;
        case '\t':
            strcpy(want, "\"\\t\"");
            break;
        default:
            snprintf(want, sizeof(want), "\"\\u%04x\"", c);
        }
        CHECK_STR(got, want);
    }
    /* printable ASCII other than " and \ passes through */
    for (int c = 0x20; c < 0x80; c++) {
        if (c == '"' || c == '\\')
            continue;
        char in = (char)c;
        char want[4] = {'"', (char)c, '"', 0};
        CHECK_STR(str_n(&in, 1), want);
    }
}

static void test_str_utf8_valid(void)
{
    /* 2-byte (é, U+0080, U+07FF) */
    CHECK_STR(str("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
    CHECK_STR(str("\xC2\x80"), "\"\xC2\x80\"");
    CHECK_STR(str("\xDF\xBF"), "\"\xDF\xBF\"");
    /* 3-byte (€, U+0800, U+FFFF, U+D7FF, U+E000) */
    CHECK_STR(str("\xE2\x82\xAC"), "\"\xE2\x82\xAC\"");
    CHECK_STR(str("\xE0\xA0\x80"), "\"\xE0\xA0\x80\"");
    CHECK_STR(str("\xEF\xBF\xBF"), "\"\xEF\xBF\xBF\"");
    CHECK_STR(str("\xED\x9F\xBF"), "\"\xED\x9F\xBF\"");
    CHECK_STR(str("\xEE\x80\x80"), "\"\xEE\x80\x80\"");
    /* 4-byte (emoji, U+10000, U+10FFFF) */
    CHECK_STR(str("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");
    CHECK_STR(str("\xF0\x90\x80\x80"), "\"\xF0\x90\x80\x80\"");
    CHECK_STR(str("\xF4\x8F\xBF\xBF"), "\"\xF4\x8F\xBF\xBF\"");
    /* mixed with escapes */
    CHECK_STR(str("\xC3\xA9\"\n\xE2\x82\xAC"), "\"\xC3\xA9\\\"\\n\xE2\x82\xAC\"");
    /* U+FFFD itself is valid */
    CHECK_STR(str(FFFD), "\"" FFFD "\"");
}

static void test_str_utf8_invalid(void)
{
    /* lone continuation bytes */
    CHECK_STR(str("\x80"), "\"" FFFD "\"");
    CHECK_STR(str("a\xBFz"), "\"a" FFFD "z\"");
    CHECK_STR(str("\x80\x80"), "\"" FFFD FFFD "\"");
    /* overlong encodings */
    CHECK_STR(str_n("\xC0\x80", 2), "\"" FFFD FFFD "\"");
    CHECK_STR(str("\xC1\xBF"), "\"" FFFD FFFD "\"");
    CHECK_STR(str("\xE0\x80\x80"), "\"" FFFD FFFD FFFD "\"");
    CHECK_STR(str("\xE0\x9F\xBF"), "\"" FFFD FFFD FFFD "\"");
    CHECK_STR(str("\xF0\x80\x80\x80"), "\"" FFFD FFFD FFFD FFFD "\"");
    CHECK_STR(str("\xF0\x8F\xBF\xBF"), "\"" FFFD FFFD FFFD FFFD "\"");
    /* UTF-16 surrogates */
    CHECK_STR(str("\xED\xA0\x80"), "\"" FFFD FFFD FFFD "\"");
    CHECK_STR(str("\xED\xBF\xBF"), "\"" FFFD FFFD FFFD "\"");
    /* above U+10FFFF and bytes that never occur */
    CHECK_STR(str("\xF4\x90\x80\x80"), "\"" FFFD FFFD FFFD FFFD "\"");
    CHECK_STR(str("\xF5\x80\x80\x80"), "\"" FFFD FFFD FFFD FFFD "\"");
    CHECK_STR(str("\xF8"), "\"" FFFD "\"");
    CHECK_STR(str("\xFF"), "\"" FFFD "\"");
    CHECK_STR(str("\xFE"), "\"" FFFD "\"");
    /* truncated sequences at the end */
    CHECK_STR(str("a\xC3"), "\"a" FFFD "\"");
    CHECK_STR(str("a\xE2\x82"), "\"a" FFFD FFFD "\"");
    CHECK_STR(str("a\xE2"), "\"a" FFFD "\"");
    CHECK_STR(str("a\xF0\x9F\x98"), "\"a" FFFD FFFD FFFD "\"");
    /* truncated sequence followed by ASCII or a valid sequence */
    CHECK_STR(str("\xC3z"), "\"" FFFD "z\"");
    CHECK_STR(str("\xE2\x82z"), "\"" FFFD FFFD "z\"");
    CHECK_STR(str("\xE2\xC3\xA9"), "\"" FFFD "\xC3\xA9\"");
    /* invalid followed by a control character that must still be escaped */
    CHECK_STR(str("\xFF\n"), "\"" FFFD "\\n\"");
    /* a valid sequence cut by the length argument is invalid */
    CHECK_STR(str_n("\xC3\xA9", 1), "\"" FFFD "\"");
    CHECK_STR(str_n("\xE2\x82\xAC", 2), "\"" FFFD FFFD "\"");

    /* output of any byte string is valid UTF-8 */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    str_n((const char *)all, sizeof(all));
    CHECK(pgcdc_utf8_valid(out.data, out.len));
    CHECK(out.data[0] == '"' && out.data[out.len - 1] == '"');
    CHECK_INT(strlen(out.data), out.len); /* no raw NUL */
}

static void test_utf8_valid(void)
{
    CHECK_INT(pgcdc_utf8_valid("", 0), 1);
    CHECK_INT(pgcdc_utf8_valid("abc", 3), 1);
    CHECK_INT(pgcdc_utf8_valid("a\0b", 3), 1);
    CHECK_INT(pgcdc_utf8_valid("\xC3\xA9", 2), 1);
    CHECK_INT(pgcdc_utf8_valid("\xE2\x82\xAC", 3), 1);
    CHECK_INT(pgcdc_utf8_valid("\xF0\x9F\x98\x80", 4), 1);
    CHECK_INT(pgcdc_utf8_valid("\xF4\x8F\xBF\xBF", 4), 1);
    CHECK_INT(pgcdc_utf8_valid("\xED\x9F\xBF", 3), 1);
    CHECK_INT(pgcdc_utf8_valid("\x7f", 1), 1);

    CHECK_INT(pgcdc_utf8_valid("\x80", 1), 0);
    CHECK_INT(pgcdc_utf8_valid("\xC0\x80", 2), 0);
    CHECK_INT(pgcdc_utf8_valid("\xC1\xBF", 2), 0);
    CHECK_INT(pgcdc_utf8_valid("\xE0\x80\x80", 3), 0);
    CHECK_INT(pgcdc_utf8_valid("\xED\xA0\x80", 3), 0);
    CHECK_INT(pgcdc_utf8_valid("\xF0\x80\x80\x80", 4), 0);
    CHECK_INT(pgcdc_utf8_valid("\xF4\x90\x80\x80", 4), 0);
    CHECK_INT(pgcdc_utf8_valid("\xF5\x80\x80\x80", 4), 0);
    CHECK_INT(pgcdc_utf8_valid("\xFF", 1), 0);
    /* truncated by len */
    CHECK_INT(pgcdc_utf8_valid("\xC3\xA9", 1), 0);
    CHECK_INT(pgcdc_utf8_valid("\xE2\x82\xAC", 2), 0);
    CHECK_INT(pgcdc_utf8_valid("\xF0\x9F\x98\x80", 3), 0);
    /* bad continuation */
    CHECK_INT(pgcdc_utf8_valid("\xC3\x41", 2), 0);
    CHECK_INT(pgcdc_utf8_valid("\xE2\x82\x41", 3), 0);
    /* invalid byte after valid text */
    CHECK_INT(pgcdc_utf8_valid("abc\xC3\xA9\x80", 6), 0);
}

static void test_double(void)
{
    CHECK_STR(dbl(1.0), "1.0");
    CHECK_STR(dbl(0.1), "0.1");
    CHECK_STR(dbl(100.0), "100.0");
    CHECK_STR(dbl(1.0e7), "1.0E7");
    CHECK_STR(dbl(1.234e-5), "1.234E-5");
    CHECK_STR(dbl(0.001), "0.001");
    CHECK_STR(dbl(9999999.0), "9999999.0");
    CHECK_STR(dbl(1.0e-4), "1.0E-4");
    CHECK_STR(dbl(-0.0), "-0.0");
    CHECK_STR(dbl(0.0), "0.0");
    CHECK_STR(dbl(NAN), "\"NaN\"");
    CHECK_STR(dbl(INFINITY), "\"Infinity\"");
    CHECK_STR(dbl(-INFINITY), "\"-Infinity\"");
    CHECK_STR(dbl(DBL_MAX), "1.7976931348623157E308");
    CHECK_STR(dbl(123456.789), "123456.789");
    CHECK_STR(dbl(-1.5), "-1.5");
    CHECK_STR(dbl(-123.0), "-123.0");
    CHECK_STR(dbl(0.5), "0.5");
    CHECK_STR(dbl(3.141592653589793), "3.141592653589793");
    CHECK_STR(dbl(1.0e21), "1.0E21");
    CHECK_STR(dbl(1.5e300), "1.5E300");
    CHECK_STR(dbl(-2.5e-10), "-2.5E-10");
    CHECK_STR(dbl(12345678.0), "1.2345678E7");
    CHECK_STR(dbl(0.0012), "0.0012");
    CHECK_STR(dbl(0.30000000000000004), "0.30000000000000004");
    CHECK_STR(dbl(DBL_MIN), "2.2250738585072014E-308");
    CHECK_STR(dbl(9007199254740993.0), "9.007199254740992E15");
    CHECK_STR(dbl(2e-323), "2.0E-323");
    CHECK_STR(dbl(9.999999999999998e-4), "9.999999999999998E-4");
}

/*
 * Subnormals whose shortest decimal has one digit: Java prints
 * Double.MIN_VALUE as 4.9E-324 and Float.MIN_VALUE as 1.4E-45 (checked with
 * JDK 17; the JDK 19+ javadoc says the same: with one digit available, the
 * closest decimal of length 2 is chosen). Kept separate so a failure is
 * easy to spot.
 */
static void test_double_min_subnormal(void)
{
    CHECK_STR(dbl(4.9e-324), "4.9E-324");
    CHECK_STR(dbl(-4.9e-324), "-4.9E-324");
    CHECK_STR(flt(1.4e-45f), "1.4E-45"); /* Float.MIN_VALUE */
    CHECK_STR(flt(2.8e-45f), "2.8E-45"); /* 2 * Float.MIN_VALUE */
    CHECK_STR(flt(4.2e-45f), "4.2E-45"); /* 3 * Float.MIN_VALUE */
}

static void test_float(void)
{
    CHECK_STR(flt(0.1f), "0.1");
    CHECK_STR(flt(1.0e10f), "1.0E10");
    CHECK_STR(flt(1.0f), "1.0");
    CHECK_STR(flt(-2.5f), "-2.5");
    CHECK_STR(flt(3.4028235e38f), "3.4028235E38");
    CHECK_STR(flt(1.1f), "1.1");
    CHECK_STR(flt(0.0f), "0.0");
    CHECK_STR(flt(-0.0f), "-0.0");
    CHECK_STR(flt(NAN), "\"NaN\"");
    CHECK_STR(flt(-INFINITY), "\"-Infinity\"");
    CHECK_STR(flt(1.0e-5f), "1.0E-5");
    CHECK_STR(flt(16777216.0f), "1.6777216E7");
    CHECK_STR(flt(123.456f), "123.456");
}

static void test_base64(void)
{
    CHECK_STR(b64("", 0), "\"\"");
    CHECK_STR(b64("f", 1), "\"Zg==\"");
    CHECK_STR(b64("fo", 2), "\"Zm8=\"");
    CHECK_STR(b64("foo", 3), "\"Zm9v\"");
    CHECK_STR(b64("foob", 4), "\"Zm9vYg==\"");
    CHECK_STR(b64("fooba", 5), "\"Zm9vYmE=\"");
    CHECK_STR(b64("foobar", 6), "\"Zm9vYmFy\"");
    /* binary, incl. NUL and bytes that map to + and / */
    static const unsigned char bin[] = {0x00, 0xFF, 0xFE, 0xFB, 0xEF, 0x10, 0x80};
    CHECK_STR(b64(bin, sizeof(bin)), "\"AP/+++8QgA==\"");
    static const unsigned char zero[3] = {0, 0, 0};
    CHECK_STR(b64(zero, 3), "\"AAAA\"");
    CHECK_STR(b64(zero, 1), "\"AA==\"");
    static const unsigned char ff[3] = {0xFF, 0xFF, 0xFF};
    CHECK_STR(b64(ff, 3), "\"////\"");
    /* appends, NUL-terminated, correct length for a larger input */
    unsigned char big[1000];
    for (int i = 0; i < 1000; i++)
        big[i] = (unsigned char)(i * 7);
    pgcdc_buf_reset(&out);
    pgcdc_buf_puts(&out, "x");
    pgcdc_json_base64(&out, big, sizeof(big));
    CHECK_INT(out.len, 1 + 2 + (1000 + 2) / 3 * 4);
    CHECK_INT(strlen(out.data), out.len);
    CHECK(out.data[0] == 'x' && out.data[1] == '"' && out.data[out.len - 1] == '"');
}

/*
 * Reference for plain-notation doubles: the shortest %.Ne that round-trips
 * (at least two significant digits, as Java), rewritten without exponent.
 * The writer's fast path must agree with it on every value.
 */
/* Shortest round-trip digits by linear search (at least two significant
 * digits, as Java); returns their count, *e10 the exponent of the first. */
static int ref_digits(double v, char *digits, int *e10)
{
    char tmp[64];
    int prec;
    for (prec = 2; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    int nd = 0;
    const char *q = tmp;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9')
            digits[nd++] = *q;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = 0;
    *e10 = atoi(q + 1);
    return nd;
}

static void ref_plain(double v, char *dst, size_t dst_size)
{
    char digits[32];
    int e;
    int nd = ref_digits(v, digits, &e);
    e += 1; /* value = 0.digits * 10^e */
    char *o = dst;
    if (e <= 0) {
        o += snprintf(o, dst_size, "0.");
        for (int i = 0; i < -e; i++)
            *o++ = '0';
        memcpy(o, digits, (size_t)nd);
        o += nd;
    } else if (e >= nd) {
        memcpy(o, digits, (size_t)nd);
        o += nd;
        for (int i = nd; i < e; i++)
            *o++ = '0';
        *o++ = '.';
        *o++ = '0';
    } else {
        memcpy(o, digits, (size_t)e);
        o += e;
        *o++ = '.';
        memcpy(o, digits + e, (size_t)(nd - e));
        o += nd - e;
    }
    *o = 0;
}

static void test_double_plain_matches_reference(void)
{
    uint64_t x = 88172645463325252ull;
    int mismatches = 0;
    for (int i = 0; i < 200000 && mismatches < 5; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        if (i % 2) {
            /* short decimals, as data usually is: a few digits, a few places */
            v = (double)(x % 100000000) / pow(10.0, (double)((x >> 32) % 9));
        } else {
            /* arbitrary bit patterns scaled into the plain range */
            v = 1e-3 + (double)(x >> 11) * (1.0 / 9007199254740992.0) * pow(10.0, (double)(x % 10));
        }
        if (!(v >= 1e-3 && v < 1e7))
            continue;
        char want[64];
        ref_plain(v, want, sizeof(want));
        pgcdc_buf_reset(&out);
        pgcdc_json_double(&out, v);
        if (strcmp(out.data, want) != 0) {
            fprintf(stderr, "%.17g: got %s want %s\n", v, out.data, want);
            mismatches++;
        }
    }
    CHECK_INT(mismatches, 0);
}

/* Java's Double.toString from the reference digits, in either notation. */
static void ref_java(double v, char *dst, size_t dst_size)
{
    if (v >= 1e-3 && v < 1e7) {
        ref_plain(v, dst, dst_size);
        return;
    }
    char digits[32];
    int e;
    int nd = ref_digits(v, digits, &e);
    snprintf(dst, dst_size, "%c.%sE%d", digits[0], nd > 1 ? digits + 1 : "0", e);
}

static void test_double_all_ranges_match_reference(void)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    int mismatches = 0;
    for (int i = 0; i < 200000 && mismatches < 5; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        uint64_t bits = x & 0x7fffffffffffffffull; /* positive */
        memcpy(&v, &bits, sizeof(v));
        if (i % 3 == 0) /* full precision in the range data usually lives in */
            v = ldexp((double)(x >> 11), (int)(x % 120) - 60 - 53);
        if (isnan(v) || isinf(v) || v == 0)
            continue;
        char want[64];
        ref_java(v, want, sizeof(want));
        pgcdc_buf_reset(&out);
        pgcdc_json_double(&out, v);
        if (strcmp(out.data, want) != 0) {
            fprintf(stderr, "%.17g: got %s want %s\n", v, out.data, want);
            mismatches++;
        }
    }
    CHECK_INT(mismatches, 0);
}

int main(void)
{
    TEST_RUN(test_str_plain);
    TEST_RUN(test_str_escapes);
    TEST_RUN(test_str_utf8_valid);
    TEST_RUN(test_str_utf8_invalid);
    TEST_RUN(test_utf8_valid);
    TEST_RUN(test_double);
    TEST_RUN(test_double_min_subnormal);
    TEST_RUN(test_double_plain_matches_reference);
    TEST_RUN(test_double_all_ranges_match_reference);
    TEST_RUN(test_float);
    TEST_RUN(test_base64);
    pgcdc_buf_free(&out);
    TEST_DONE();
}
