/*
 * pgtypes_numeric.c - numeric and money to Debezium values.
 *
 * decimal.handling.mode=precise emits Kafka Connect Decimal bytes: the
 * unscaled value as Java's BigInteger.toByteArray() prints it (big-endian
 * two's complement, minimal length, zero = one 0x00 byte), base64 in JSON.
 * Unconstrained numeric columns use io.debezium.data.VariableScaleDecimal
 * {"scale":S,"value":bytes} with trailing fractional zeros stripped.
 *
 * The decimal -> binary conversion is done here (no GMP): 9-digit chunks
 * are folded into 32-bit limbs (O(n^2), fine for PostgreSQL's at most
 * 147455 digits). Limbs and bytes live in a scratch region of the output
 * buffer (see pgtypes_internal.h), so no allocation happens per value.
 */
#include <stdlib.h>
#include <string.h>

#include "format/json.h"
#include "format/pgtypes_internal.h"

/* A parsed decimal literal: [-]ip.fp, or a special value. */
typedef struct pgt_dec {
    int special; /* 0, or 1 NaN, 2 +Infinity, 3 -Infinity */
    int negative;
    const char *ip; /* integer digits */
    size_t il;
    const char *fp; /* fraction digits */
    size_t fl;
} pgt_dec;

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* numeric_out grammar: [-]digits[.digits], NaN, Infinity, -Infinity. */
static int dec_parse(const char *s, size_t n, pgt_dec *d)
{
    memset(d, 0, sizeof(*d));
    if (n == 3 && memcmp(s, "NaN", 3) == 0) {
        d->special = 1;
        return 0;
    }
    if (n == 8 && memcmp(s, "Infinity", 8) == 0) {
        d->special = 2;
        return 0;
    }
    if (n == 9 && memcmp(s, "-Infinity", 9) == 0) {
        d->special = 3;
        return 0;
    }
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) {
        d->negative = s[i] == '-';
        i++;
    }
    d->ip = s + i;
    while (i < n && is_digit(s[i]))
        i++;
    d->il = (size_t)(s + i - d->ip);
    d->fp = s + i;
    if (i < n && s[i] == '.') {
        i++;
        d->fp = s + i;
        while (i < n && is_digit(s[i]))
            i++;
        d->fl = (size_t)(s + i - d->fp);
    }
    if (i != n || d->il + d->fl == 0)
        return -1;
    return 0;
}

static int all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != '0')
            return 0;
    return 1;
}

/*
 * Appends the JSON base64 string of BigInteger.toByteArray() for the integer
 * whose decimal digits are a[0..al) b[0..bl) followed by `zeros` zeros,
 * negated when `neg`. Leading zeros are allowed.
 */
static void put_unscaled(pgcdc_buf *buf, int neg, const char *a, size_t al, const char *b,
                         size_t bl, size_t zeros)
{
    size_t nd = al + bl + zeros;
    size_t cap = nd / 9 + 2;         /* 32-bit limbs: < 30 bits per 9 digits */
    size_t nbytes_max = cap * 4 + 1; /* + sign byte */
    size_t b64 = (nbytes_max + 2) / 3 * 4 + 2;
    unsigned char *scr = pgcdc_pgt_scratch(buf, b64, nbytes_max + 8 + cap * 4);
    unsigned char *bytes = scr;
    uintptr_t lp = (uintptr_t)(scr + nbytes_max);
    lp = (lp + 7) & ~(uintptr_t)7;
    uint32_t *limb = (uint32_t *)lp;
    size_t nl = 0;

    static const uint32_t pow10[10] = {1,      10,      100,      1000,      10000,
                                       100000, 1000000, 10000000, 100000000, 1000000000};
    uint32_t chunk = 0;
    unsigned cl = 0;
    for (size_t i = 0; i < nd; i++) {
        char c = i < al ? a[i] : (i < al + bl ? b[i - al] : '0');
        chunk = chunk * 10 + (uint32_t)(c - '0');
        cl++;
        if (cl == 9 || i + 1 == nd) {
            uint64_t carry = chunk;
            for (size_t k = 0; k < nl; k++) {
                uint64_t v = (uint64_t)limb[k] * pow10[cl] + carry;
                limb[k] = (uint32_t)v;
                carry = v >> 32;
            }
            if (carry)
                limb[nl++] = (uint32_t)carry;
            chunk = 0;
            cl = 0;
        }
    }
    /* magnitude, big-endian, minimal */
    size_t nb = 0;
    for (size_t k = nl; k-- > 0;) {
        for (int sh = 24; sh >= 0; sh -= 8) {
            unsigned char v = (unsigned char)(limb[k] >> sh);
            if (nb == 0 && v == 0)
                continue;
            bytes[1 + nb++] = v;
        }
    }
    unsigned char *out = bytes + 1;
    if (nb == 0) {
        out[0] = 0;
        nb = 1;
    } else if (!neg) {
        if (out[0] & 0x80) {
            *--out = 0;
            nb++;
        }
    } else {
        /* minimal two's complement of -m: one more byte unless m <= 2^(8nb-1) */
        int extra = out[0] > 0x80;
        if (out[0] == 0x80) {
            for (size_t i = 1; i < nb; i++)
                if (out[i]) {
                    extra = 1;
                    break;
                }
        }
        if (extra) {
            *--out = 0;
            nb++;
        }
        /* negate: invert and add one */
        unsigned carry = 1;
        for (size_t i = nb; i-- > 0;) {
            unsigned v = (unsigned)(unsigned char)~out[i] + carry;
            out[i] = (unsigned char)v;
            carry = v >> 8;
        }
    }
    pgcdc_json_base64(buf, out, nb);
}

/* Plain string of a decimal as BigDecimal.toPlainString() prints it after setScale(scale). */
static void put_plain(pgcdc_buf *buf, const pgt_dec *d, int scale, int use_scale)
{
    const char *ip = d->ip;
    size_t il = d->il;
    while (il > 1 && ip[0] == '0') {
        ip++;
        il--;
    }
    int zero = all_zero(d->ip, d->il) && all_zero(d->fp, d->fl);
    pgcdc_buf_putc(buf, '"');
    if (d->negative && !zero)
        pgcdc_buf_putc(buf, '-');
    if (il == 0)
        pgcdc_buf_putc(buf, '0');
    else
        pgcdc_buf_append(buf, ip, il);
    size_t fl = use_scale ? (scale > 0 ? (size_t)scale : 0) : d->fl;
    if (fl) {
        pgcdc_buf_putc(buf, '.');
        for (size_t i = 0; i < fl; i++)
            pgcdc_buf_putc(buf, i < d->fl ? d->fp[i] : '0');
    }
    pgcdc_buf_putc(buf, '"');
}

/* strtod over [s, s+n) via a scratch copy behind the (short) double output. */
static int put_double_text(pgcdc_buf *buf, const char *s, size_t n)
{
    char *tmp = (char *)pgcdc_pgt_scratch(buf, 64, n + 1);
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *end;
    double v = strtod(tmp, &end);
    if (end != tmp + n)
        return -1;
    pgcdc_json_double(buf, v);
    return 0;
}

/*
 * numeric. Special values: Debezium's SpecialValueDecimal throws a
 * ConnectException for NaN / +-Infinity in precise mode ("Got a special
 * value (NaN/Infinity) for Decimal type ... set decimal handling mode to
 * 'string'"), so we return an error too and the pipeline stops like
 * Debezium's. In double mode they are the doubles NaN / +-Infinity (JSON
 * strings via Jackson); in string mode Debezium prints the enum names
 * "NAN", "POSITIVE_INFINITY", "NEGATIVE_INFINITY".
 */
int pgcdc_pgt_numeric(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                      const char *t, size_t n, char *errstr, size_t es)
{
    pgt_dec d;
    if (dec_parse(t, n, &d) != 0)
        return pgcdc_pgt_fail(errstr, es, ct, t, n);
    int variable = ct->precision < 0;
    if (d.special) {
        switch (opts->decimal_mode) {
        case PGCDC_DECIMAL_DOUBLE:
            if (d.special == 1)
                PGCDC_BUF_LIT(buf, "\"NaN\"");
            else if (d.special == 2)
                PGCDC_BUF_LIT(buf, "\"Infinity\"");
            else
                PGCDC_BUF_LIT(buf, "\"-Infinity\"");
            return 0;
        case PGCDC_DECIMAL_STRING:
            if (d.special == 1)
                PGCDC_BUF_LIT(buf, "\"NAN\"");
            else if (d.special == 2)
                PGCDC_BUF_LIT(buf, "\"POSITIVE_INFINITY\"");
            else
                PGCDC_BUF_LIT(buf, "\"NEGATIVE_INFINITY\"");
            return 0;
        default:
            return pgcdc_pgt_fail_why(errstr, es, ct, t, n,
                                      "NaN/Infinity cannot be represented in "
                                      "decimal.handling.mode=precise (use string)");
        }
    }
    if (opts->decimal_mode == PGCDC_DECIMAL_DOUBLE) {
        if (put_double_text(buf, t, n) != 0)
            return pgcdc_pgt_fail(errstr, es, ct, t, n);
        return 0;
    }
    int scale = ct->scale;
    /* setScale(scale) without rounding: digits dropped must be zero (PostgreSQL
     * already rounded the value to the column's scale) */
    if (!variable && (long)d.fl > (long)scale) {
        size_t drop = d.fl - (size_t)(scale > 0 ? scale : 0);
        if (!all_zero(d.fp + d.fl - drop, drop))
            return pgcdc_pgt_fail_why(errstr, es, ct, t, n, "more fraction digits than scale");
        if (scale < 0) {
            size_t idrop = (size_t)(-(long)scale);
            if (idrop > d.il || !all_zero(d.ip + d.il - idrop, idrop)) {
                if (!(all_zero(d.ip, d.il) && all_zero(d.fp, d.fl)))
                    return pgcdc_pgt_fail_why(errstr, es, ct, t, n,
                                              "not a multiple of the negative scale");
            }
        }
    }
    if (opts->decimal_mode == PGCDC_DECIMAL_STRING) {
        if (variable)
            put_plain(buf, &d, 0, 0);
        else
            put_plain(buf, &d, scale, 1);
        return 0;
    }
    if (variable) {
        /* stripTrailingZeros(), then a negative scale goes back to 0 */
        size_t fl = d.fl;
        while (fl > 0 && d.fp[fl - 1] == '0')
            fl--;
        PGCDC_BUF_LIT(buf, "{\"scale\":");
        pgcdc_buf_put_i64(buf, (int64_t)fl);
        PGCDC_BUF_LIT(buf, ",\"value\":");
        put_unscaled(buf, d.negative, d.ip, d.il, d.fp, fl, 0);
        pgcdc_buf_putc(buf, '}');
        return 0;
    }
    if (scale >= 0) {
        size_t fl = d.fl < (size_t)scale ? d.fl : (size_t)scale;
        put_unscaled(buf, d.negative, d.ip, d.il, d.fp, fl, (size_t)scale - fl);
    } else {
        /*
         * DEVIATION (PostgreSQL 15 negative scale, numeric(p,-s)): pgjdbc decodes
         * the scale as (typmod-4) & 0xFFFF, e.g. 2046 for -2, and Debezium then
         * emits the value rescaled to that bogus scale (a ~850-byte unscaled
         * number with parameter "scale":"2046"). We emit the true negative
         * scale: unscaled = value / 10^s, parameter "scale":"-s". Both decode
         * to the same number; ours is compact and honest.
         */
        size_t idrop = (size_t)(-(long)scale);
        size_t keep = d.il > idrop ? d.il - idrop : 0;
        put_unscaled(buf, d.negative, d.ip, keep, NULL, 0, 0);
    }
    return 0;
}

/*
 * money in lc_monetary=C form: "$1,234.56", "-$1,234.56" (also "($1.00)").
 * Mirrors Debezium's PostgresMoney.parse: strip sign/parentheses, drop the
 * currency symbol and the grouping commas, parse as BigDecimal; precise mode
 * then rounds HALF_UP to money.fraction.digits (2).
 */
int pgcdc_pgt_money(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                    const char *t, size_t n, char *errstr, size_t es)
{
    char digits[80]; /* int digits then fraction digits; money is int64 cents */
    size_t i = 0, e = n, il = 0, fl = 0;
    int neg = 0;
    if (i < e && t[i] == '-') {
        neg = 1;
        i++;
    }
    if (i < e && t[i] == '(' && t[e - 1] == ')') {
        neg = 1;
        i++;
        e--;
    }
    if (i < e && t[i] == '-') {
        neg = 1;
        i++;
    }
    /* currency symbol (possibly multibyte) */
    while (i < e && !is_digit(t[i]) && t[i] != '.' && t[i] != '-')
        i++;
    if (i < e && t[i] == '-') {
        neg = 1;
        i++;
    }
    for (; i < e && (is_digit(t[i]) || t[i] == ','); i++) {
        if (t[i] == ',')
            continue;
        if (il >= sizeof(digits) / 2)
            return pgcdc_pgt_fail(errstr, es, ct, t, n);
        digits[il++] = t[i];
    }
    if (i < e && t[i] == '.') {
        for (i++; i < e && is_digit(t[i]); i++) {
            if (il + fl >= sizeof(digits) - 1)
                return pgcdc_pgt_fail(errstr, es, ct, t, n);
            digits[il + fl++] = t[i];
        }
    }
    if (i != e || il + fl == 0)
        return pgcdc_pgt_fail(errstr, es, ct, t, n);

    if (opts->decimal_mode == PGCDC_DECIMAL_DOUBLE) {
        char tmp[96];
        size_t k = 0;
        if (neg)
            tmp[k++] = '-';
        memcpy(tmp + k, digits, il);
        k += il;
        if (fl) {
            tmp[k++] = '.';
            memcpy(tmp + k, digits + il, fl);
            k += fl;
        }
        if (put_double_text(buf, tmp, k) != 0)
            return pgcdc_pgt_fail(errstr, es, ct, t, n);
        return 0;
    }
    pgt_dec d = {0, neg, digits, il, digits + il, fl};
    if (opts->decimal_mode == PGCDC_DECIMAL_STRING) {
        put_plain(buf, &d, 0, 0); /* toPlainString() of the parsed value, not rescaled */
        return 0;
    }
    /* setScale(2, HALF_UP) */
    if (fl > 2) {
        int up = digits[il + 2] >= '5';
        fl = 2;
        if (up) {
            size_t k = il + fl;
            while (k > 0) {
                if (digits[k - 1] == '9') {
                    digits[--k] = '0';
                    continue;
                }
                digits[k - 1]++;
                break;
            }
            if (k == 0) {
                memmove(digits + 1, digits, il + fl);
                digits[0] = '1';
                il++;
            }
        }
    }
    put_unscaled(buf, neg, digits, il + fl, NULL, 0, 2 - fl);
    return 0;
}
