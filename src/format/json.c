/*
 * json.c - the hot-path JSON writer (see json.h for the output contract).
 */
#include "format/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* 0 = copy as is, 1 = short escape in esc_char, 2 = \u00XX */
static const unsigned char esc_class[128] = {
    2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static char esc_char(unsigned char c)
{
    switch (c) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '\b':
        return 'b';
    case '\f':
        return 'f';
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    default:
        return 't';
    }
}

/*
 * Length of the valid UTF-8 sequence starting at p (1..4), or 0 if the
 * bytes at p do not start a valid sequence (overlongs, surrogates and
 * code points above U+10FFFF are invalid).
 */
static size_t utf8_seq_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        if (avail >= 2 && (p[1] & 0xC0) == 0x80)
            return 2;
        return 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && p[1] >= 0xA0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xF4 && p[1] >= 0x90)
            return 0; /* > U+10FFFF */
        return 4;
    }
    return 0;
}

int pgcdc_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t n = utf8_seq_len(p, (size_t)(end - p));
        if (!n)
            return 0;
        p += n;
    }
    return 1;
}

void pgcdc_json_str(pgcdc_buf *buf, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    /* worst case: every byte becomes \u00XX (6) or U+FFFD (3 bytes) */
    pgcdc_buf_reserve(buf, len + 2);
    pgcdc_buf_putc(buf, '"');
    while (p < end) {
        /* copy runs of plain ASCII in one go */
        const unsigned char *run = p;
        while (p < end && *p < 0x80 && !esc_class[*p])
            p++;
        if (p > run)
            pgcdc_buf_append(buf, run, (size_t)(p - run));
        if (p >= end)
            break;
        unsigned char c = *p;
        if (c < 0x80) {
            if (esc_class[c] == 1) {
                char e[2] = {'\\', esc_char(c)};
                pgcdc_buf_append(buf, e, 2);
            } else {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                pgcdc_buf_append(buf, e, 6);
            }
            p++;
            continue;
        }
        size_t n = utf8_seq_len(p, (size_t)(end - p));
        if (n) {
            pgcdc_buf_append(buf, p, n);
            p += n;
        } else {
            PGCDC_BUF_LIT(buf, "\xEF\xBF\xBD");
            p++;
        }
    }
    pgcdc_buf_putc(buf, '"');
}

/*
 * Shortest decimal digits that round-trip through the given parser. Fills
 * digits (no dot, no sign, no leading zeros) and the decimal exponent such
 * that value = 0.d1d2d3... * 10^exp10.
 */
static int roundtrips(double v, int is_float, int prec, char *tmp, size_t tmp_size)
{
    snprintf(tmp, tmp_size, "%.*e", prec - 1, v);
    return is_float ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v;
}

static int shortest_digits(double v, int is_float, char *digits, int *exp10)
{
    char tmp[40];
    /* Java prints at least two significant digits when one would do (the
     * closest two-digit decimal: 4.9E-324, not 5.0E-324); starting at two
     * gives that, and trailing zeros are stripped below. 17 digits always
     * round-trip a double, 9 a float. More digits round closer, so once a
     * precision round-trips the longer ones do too (the one exception, just
     * above a power of two where the gap below is half the gap above, can
     * only make the result longer, never wrong), and bisection finds the
     * shortest in four conversions instead of up to sixteen. */
    int lo = 2, hi = is_float ? 9 : 17;
    /* values that reach this path mostly carry full precision: settle which
     * side of 15 digits first */
    if (!is_float) {
        if (roundtrips(v, is_float, 15, tmp, sizeof(tmp)))
            hi = 15;
        else
            lo = 16;
    }
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (roundtrips(v, is_float, mid, tmp, sizeof(tmp)))
            hi = mid;
        else
            lo = mid + 1;
    }
    roundtrips(v, is_float, lo, tmp, sizeof(tmp));
    /* tmp is d.ddddde[+-]XX */
    int nd = 0;
    const char *q = tmp;
    while (*q && *q != 'e') {
        if (*q >= '0' && *q <= '9')
            digits[nd++] = *q;
        q++;
    }
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = 0;
    *exp10 = atoi(q + 1) + 1;
    return nd;
}

/*
 * Fast exact path for doubles Java prints in plain notation (1e-3 <= v <
 * 1e7), which covers most real data (prices, coordinates, measurements).
 * For the smallest k with m = round(v * 10^k) < 2^53 and m / 10^k == v, the
 * decimal m * 10^-k round-trips (both operands are exact doubles and IEEE
 * division is correctly rounded) and no shorter one does, which is what
 * Java's Double.toString chooses. Returns 0 when the caller must use the
 * general path.
 */
static int plain_fast(pgcdc_buf *buf, double v)
{
    static const double p10[] = {1e0, 1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                                 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};
    for (int k = 0; k < (int)(sizeof(p10) / sizeof(p10[0])); k++) {
        double scaled = v * p10[k];
        if (scaled >= 9007199254740992.0)
            return 0;
        double m = nearbyint(scaled);
        if (m / p10[k] != v)
            continue;
        char digits[24];
        int n = 0;
        uint64_t u = (uint64_t)m;
        do {
            digits[n++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        /* digits are reversed; the decimal point goes k digits from the right */
        if (n <= k) {
            PGCDC_BUF_LIT(buf, "0.");
            for (int i = 0; i < k - n; i++)
                pgcdc_buf_putc(buf, '0');
            for (int i = n - 1; i >= 0; i--)
                pgcdc_buf_putc(buf, digits[i]);
        } else {
            for (int i = n - 1; i >= k; i--)
                pgcdc_buf_putc(buf, digits[i]);
            pgcdc_buf_putc(buf, '.');
            if (k == 0)
                pgcdc_buf_putc(buf, '0');
            for (int i = k - 1; i >= 0; i--)
                pgcdc_buf_putc(buf, digits[i]);
        }
        return 1;
    }
    return 0;
}

static void json_java_number(pgcdc_buf *buf, double v, int is_float)
{
    if (isnan(v)) {
        PGCDC_BUF_LIT(buf, "\"NaN\"");
        return;
    }
    if (isinf(v)) {
        if (v > 0)
            PGCDC_BUF_LIT(buf, "\"Infinity\"");
        else
            PGCDC_BUF_LIT(buf, "\"-Infinity\"");
        return;
    }
    if (v == 0) {
        if (signbit(v))
            PGCDC_BUF_LIT(buf, "-0.0");
        else
            PGCDC_BUF_LIT(buf, "0.0");
        return;
    }
    if (v < 0) {
        pgcdc_buf_putc(buf, '-');
        v = -v;
    }
    if (!is_float && v >= 1e-3 && v < 1e7 && plain_fast(buf, v))
        return;
    char d[24];
    int e;
    int nd = shortest_digits(v, is_float, d, &e);
    if (v >= 1e-3 && v < 1e7) {
        /* plain notation: value = 0.d * 10^e */
        if (e <= 0) {
            PGCDC_BUF_LIT(buf, "0.");
            for (int i = 0; i < -e; i++)
                pgcdc_buf_putc(buf, '0');
            pgcdc_buf_append(buf, d, (size_t)nd);
        } else if (e >= nd) {
            pgcdc_buf_append(buf, d, (size_t)nd);
            for (int i = nd; i < e; i++)
                pgcdc_buf_putc(buf, '0');
            PGCDC_BUF_LIT(buf, ".0");
        } else {
            pgcdc_buf_append(buf, d, (size_t)e);
            pgcdc_buf_putc(buf, '.');
            pgcdc_buf_append(buf, d + e, (size_t)(nd - e));
        }
        return;
    }
    /* computerized scientific notation: d.dddE[-]x */
    pgcdc_buf_putc(buf, d[0]);
    pgcdc_buf_putc(buf, '.');
    if (nd > 1)
        pgcdc_buf_append(buf, d + 1, (size_t)(nd - 1));
    else
        pgcdc_buf_putc(buf, '0');
    pgcdc_buf_putc(buf, 'E');
    pgcdc_buf_put_i64(buf, e - 1);
}

void pgcdc_json_double(pgcdc_buf *buf, double v)
{
    json_java_number(buf, v, 0);
}

void pgcdc_json_float(pgcdc_buf *buf, float v)
{
    json_java_number(buf, (double)v, 1);
}

/* Quoted base64 with padding in the given alphabet. Grows `buf` only when it
 * lacks room, so callers may encode bytes from a region of `buf` they
 * reserved beforehand. */
static void base64_quoted(pgcdc_buf *buf, const unsigned char *p, size_t len, const char *tbl)
{
    pgcdc_buf_reserve(buf, (len + 2) / 3 * 4 + 2);
    char *o = buf->data + buf->len;
    *o++ = '"';
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = tbl[(v >> 6) & 63];
        *o++ = tbl[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o++ = '"';
    buf->len = (size_t)(o - buf->data);
    buf->data[buf->len] = 0;
}

void pgcdc_json_base64(pgcdc_buf *buf, const unsigned char *p, size_t len)
{
    base64_quoted(buf, p, len, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
}

void pgcdc_json_base64_url(pgcdc_buf *buf, const unsigned char *p, size_t len)
{
    base64_quoted(buf, p, len, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}
