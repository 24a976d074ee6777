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

/*
 * Whether the p-significant-digit decimal closest to v round-trips, decided
 * with 80-bit long double arithmetic (64-bit significand; powers of ten up to
 * 10^27 are exact in it). *m gets that decimal's digits as an integer and *e10
 * the decimal exponent of its first digit. Returns 1 (round-trips), 0 (does
 * not) or -1 (too close to call: the caller uses the exact path).
 */
static int fast_roundtrip(double v, int p, int e10, uint64_t *m, int *out_e10)
{
    static const long double p10[] = {1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,
                                      1e7L,  1e8L,  1e9L,  1e10L, 1e11L, 1e12L, 1e13L,
                                      1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L,
                                      1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
    int k = p - 1 - e10; /* scale so that p digits sit before the point */
    if (k > 27 || k < -27)
        return -1;
    long double scaled = k >= 0 ? (long double)v * p10[k] : (long double)v / p10[-k];
    long double r = roundl(scaled);
    /* scaled < 10^17 carries an error below 10^17 * 2^-64 < 0.0055 */
    long double frac = scaled - floorl(scaled);
    if (frac > 0.494L && frac < 0.506L)
        return -1; /* nearest decimal not certain */
    /* half the gap to the neighbouring doubles, in scaled units */
    double up = nextafter(v, INFINITY) - v;
    long double half = k >= 0 ? (long double)up / 2 * p10[k] : (long double)up / 2 / p10[-k];
    long double dist = fabsl(r - scaled);
    int e = e10;
    if (r >= p10[p]) { /* 9.99... rounded up to 10.0...: one more digit */
        r /= 10;
        e++;
    }
    *m = (uint64_t)r;
    *out_e10 = e;
    if (dist < half - 0.006L)
        return 1;
    if (dist > half + 0.006L)
        return 0;
    return -1;
}

/*
 * Shortest digits by the fast test above, bisecting on the precision as the
 * exact path does. Returns the digit count, or 0 when any step was too close
 * to call or v is at a power of two (asymmetric gaps) or subnormal.
 */
static int shortest_digits_fast(double v, char *digits, int *exp10)
{
    int bexp;
    double mant = frexp(v, &bexp);
    if (mant == 0.5 || v < 2.2250738585072014e-308)
        return 0;
    int e10 = (int)floor(log10(v));
    /* fast_roundtrip scales by at most 10^27, so larger exponents take the
     * exact path; the bounds check uses a table instead of pow() */
    if (e10 < -21 || e10 > 21)
        return 0;
    static const double e[] = {1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14,
                               1e-13, 1e-12, 1e-11, 1e-10, 1e-9,  1e-8,  1e-7,  1e-6,  1e-5,
                               1e-4,  1e-3,  1e-2,  1e-1,  1e0,   1e1,   1e2,   1e3,   1e4,
                               1e5,   1e6,   1e7,   1e8,   1e9,   1e10,  1e11,  1e12,  1e13,
                               1e14,  1e15,  1e16,  1e17,  1e18,  1e19,  1e20,  1e21,  1e22};
    /* log10 may be off by one next to a power of ten */
    if (v >= e[e10 + 23])
        e10++;
    else if (v < e[e10 + 22])
        e10--;
    uint64_t best_m;
    int best_e;
    int lo = 2, hi = 17;
    int r = fast_roundtrip(v, 15, e10, &best_m, &best_e);
    if (r < 0)
        return 0;
    if (r)
        hi = 15;
    else
        lo = 16;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        r = fast_roundtrip(v, mid, e10, &best_m, &best_e);
        if (r < 0)
            return 0;
        if (r)
            hi = mid;
        else
            lo = mid + 1;
    }
    /* the digits of the shortest precision found */
    r = fast_roundtrip(v, hi, e10, &best_m, &best_e);
    if (r != 1)
        return 0;
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + best_m % 10);
        best_m /= 10;
    } while (best_m);
    int nd = 0;
    for (int i = n - 1; i >= 0; i--)
        digits[nd++] = tmp[i];
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = 0;
    *exp10 = best_e + 1;
    return nd;
}

static int shortest_digits(double v, int is_float, char *digits, int *exp10)
{
    if (!is_float) {
        int nd = shortest_digits_fast(v, digits, exp10);
        if (nd)
            return nd;
    }
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

static int base64_digit(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int pgcdc_base64_decode(pgcdc_buf *out, const char *s, size_t len)
{
    pgcdc_buf_reserve(out, len / 4 * 3 + 3);
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len && s[i] != '='; i++) {
        int v = base64_digit(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->data[out->len++] = (char)((acc >> bits) & 0xFF);
        }
    }
    return 0;
}
